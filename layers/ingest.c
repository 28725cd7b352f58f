/* ingest.c: read one source layer with GDAL, decode its text, transform it with PROJ into the
 * project CRS, validate and repair it with GEOS, and store it in one transaction. */
#include "planmetrics/ingest.h"

#include <cpl_conv.h>
#include <ctype.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <errno.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/internal.h"
#include "layers/wkb.h"
#include "store/store_internal.h"
#include "planmetrics/crs.h"

extern const unsigned char pm_osmconf_bytes[];
extern const size_t pm_osmconf_size;

#define MAX_LISTED_IDS 50

/* Everything one ingest holds; released by ingest_free. */
typedef struct ingest {
  pm_context *ctx;
  pm_store *store;
  const pm_ingest_options *opt;
  pm_ingest_report *rep;
  GEOSContextHandle_t h;
  GDALDatasetH ds;
  OGRLayerH lyr;
  char osmconf[64];
  int is_shapefile, is_csv, is_osm; /* from the driver that opened the file */
  const char *decode;      /* encoding we decode raw text from, or NULL when text arrives as UTF-8 */
  int x_idx, y_idx;        /* coordinate fields, -1 when geometry comes from the source */
  int geographic;          /* the source CRS is in degrees: coordinates in [-180,180]x[-90,90] */
  size_t n_fields;
  int *src_idx;            /* source field index of each stored field */
  pm_field_def *fields;
  char **field_names;
  /* CSV columns whose numbers GDAL would alter (leading zeros, 64-bit overflow) are kept as the
   * text of the file: raw_col[i] >= 0 is the column in raw_vals of stored field i. */
  int *raw_col;
  size_t n_raw_cols, n_raw_rows;
  int64_t *raw_fid;        /* ascending */
  char **raw_vals;         /* n_raw_rows x n_raw_cols, NULL for an empty value */
  int *csv_keep;           /* from csv_scan: per stored field, 1 + the type GDAL gave a column whose
                              numbers would alter the file's text, else 0; NULL when not scanned */
  struct csv_pre *pre;     /* the CSV's text read on a thread meanwhile (csv_pre_start), or NULL */
  pm_geom_kind kind;
  int multipoint;
  pm_transform *tr;
  pm_layer_writer *writer;
  GEOSWKBReader *wkb_in;
  GEOSWKBWriter *wkb_out;
  unsigned char *buf;      /* one feature's WKB on the fast way, after 9 bytes kept for a multi header */
  size_t buf_cap;
  pm__wkb_shape shape;     /* its structure */
  double *scratch;         /* coordinates being transformed */
  size_t scratch_cap;
  size_t repaired_len, dropped_len, reasons_len;
  int n_reasons;
  char why_buf[256];       /* a drop reason built for one feature */
} ingest;

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

/* The last GDAL error message, or a fallback. */
static const char *gdal_msg(const char *fallback) {
  const char *m = CPLGetLastErrorMsg();
  return (m && *m) ? m : fallback;
}

static int has_ext(const char *path, const char *ext) {
  size_t n = strlen(path), e = strlen(ext);
  return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* path with its extension replaced: find a sidecar with either case of the extension. */
static char *sidecar(const char *path, const char *ext_lower) {
  const char *dot = strrchr(path, '.');
  const char *slash = strrchr(path, '/');
  if (dot && slash && dot < slash) dot = NULL; /* a dot in a directory name is no extension */
  size_t base = dot ? (size_t)(dot - path) : strlen(path);
  char *s = malloc(base + strlen(ext_lower) + 1);
  if (!s) return NULL;
  memcpy(s, path, base);
  strcpy(s + base, ext_lower);
  if (access(s, F_OK) == 0) return s;
  for (char *p = s + base; *p; p++) *p = (char)toupper((unsigned char)*p);
  if (access(s, F_OK) == 0) return s;
  for (char *p = s + base; *p; p++) *p = (char)tolower((unsigned char)*p);
  return s; /* the lower-case name, which does not exist */
}

static int sidecar_exists(const char *path, const char *ext_lower) {
  char *s = sidecar(path, ext_lower);
  int ok = s && access(s, F_OK) == 0;
  free(s);
  return ok;
}

/* The files whose bytes make a source's hash: the file and the sidecars that change what GDAL
 * reads (a shapefile's index, attributes, CRS and code page; a CSV's column types and CRS). */
typedef struct source_files {
  const char *paths[5];
  int optional[5];
  char *owned[4];
  size_t n;
  int directory;
} source_files;

static void source_files_clear(source_files *sf) {
  for (size_t i = 0; i < 4; i++) free(sf->owned[i]);
  memset(sf, 0, sizeof *sf);
}

static pm_status source_files_of(pm_context *ctx, const char *path, source_files *sf) {
  memset(sf, 0, sizeof *sf);
  static const char *const shp_exts[] = {".shx", ".dbf", ".prj", ".cpg"};
  static const int shp_optional[] = {0, 0, 1, 1};
  static const char *const csv_exts[] = {".csvt", ".prj"};
  static const int csv_optional[] = {1, 1};
  const char *const *exts = NULL;
  const int *ext_optional = NULL;
  size_t n_ext = 0;
  if (has_ext(path, ".shp")) {
    exts = shp_exts;
    ext_optional = shp_optional;
    n_ext = 4;
  } else if (has_ext(path, ".csv") || has_ext(path, ".tsv")) {
    exts = csv_exts;
    ext_optional = csv_optional;
    n_ext = 2;
  }
  sf->paths[sf->n++] = path;
  for (size_t i = 0; i < n_ext; i++) {
    if (!(sf->owned[i] = sidecar(path, exts[i]))) {
      source_files_clear(sf);
      return oom(ctx);
    }
    sf->optional[sf->n] = ext_optional[i];
    sf->paths[sf->n++] = sf->owned[i];
  }
  struct stat sb;
  sf->directory = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
  return PM_OK;
}

pm_status pm_source_hash(pm_context *ctx, const char *path, char **hex) {
  *hex = NULL;
  source_files sf;
  pm_status st = source_files_of(ctx, path, &sf);
  if (st) return st;
  char buf[65];
  if (sf.directory)
    snprintf(buf, sizeof buf, "directory");
  else
    st = pm__sha256_files(ctx, sf.paths, sf.optional, sf.n, buf);
  source_files_clear(&sf);
  if (st) return st;
  *hex = strdup(buf);
  return *hex ? PM_OK : oom(ctx);
}

/* The source's hash computed on a thread of its own while the ingest reads the same file (the
 * files are read twice either way; this way the second read costs no wall time). */
typedef struct hash_job {
  source_files files;
  char hex[65];
  pm__hash_error err;
  pthread_t thread;
  int started;
} hash_job;

static void *hash_thread(void *arg) {
  hash_job *j = arg;
  pm__sha256_files_raw(j->files.paths, j->files.optional, j->files.n, j->hex, &j->err);
  return NULL;
}

static pm_status hash_start(pm_context *ctx, const char *path, hash_job *j) {
  memset(j, 0, sizeof *j);
  pm_status st = source_files_of(ctx, path, &j->files);
  if (st || j->files.directory) return st;
  if (pthread_create(&j->thread, NULL, hash_thread, j) == 0) j->started = 1;
  else hash_thread(j); /* no thread to be had: hash now */
  return PM_OK;
}

/* Wait for the hash; *hex is a new string (or NULL after an error). */
static pm_status hash_finish(pm_context *ctx, hash_job *j, char **hex) {
  if (hex) *hex = NULL;
  if (j->started) pthread_join(j->thread, NULL);
  j->started = 0;
  pm_status st = PM_OK;
  if (hex) {
    if (j->files.directory) snprintf(j->hex, sizeof j->hex, "directory");
    else st = pm__hash_error_report(ctx, &j->err);
    if (!st && !(*hex = strdup(j->hex))) st = oom(ctx);
  }
  source_files_clear(&j->files);
  return st;
}

pm_status pm_ingest_options_string(pm_context *ctx, const pm_ingest_options *o, char **out) {
  /* Everything that changes what is stored. Not the project CRS: it is fixed per project. An
   * OpenStreetMap extract is read through the project's OSM configuration (which tags become
   * fields): a planmetrics with another one reads the same file into other fields, so its hash
   * is part of the options and a changed configuration ingests the layer again. */
  char osm[80] = "";
  if (o->path && (has_ext(o->path, ".osm") || has_ext(o->path, ".pbf"))) {
    char hex[65];
    pm__sha256_buffer(pm_osmconf_bytes, pm_osmconf_size, hex);
    snprintf(osm, sizeof osm, "\x1f" "osmconf=%.16s", hex);
  }
  return pm_asprintf(ctx, out, "as=%s\x1f" "encoding=%s\x1f" "src_crs=%s\x1f" "x=%s\x1f" "y=%s\x1f"
                     "source_layer=%s\x1f" "where=%s%s",
                     o->as ? o->as : "", o->encoding ? o->encoding : "",
                     o->src_crs ? o->src_crs : "", o->x_field ? o->x_field : "",
                     o->y_field ? o->y_field : "", o->source_layer ? o->source_layer : "",
                     o->where ? o->where : "", osm);
}

void pm_ingest_report_clear(pm_ingest_report *r) {
  if (!r) return;
  free(r->encoding);
  free(r->source_crs);
  free(r->repaired_ids);
  free(r->dropped_ids);
  free(r->dropped_reasons);
  memset(r, 0, sizeof *r);
}

static void free_raw(ingest *g) {
  for (size_t i = 0; i < g->n_raw_rows * g->n_raw_cols; i++) free(g->raw_vals[i]);
  free(g->raw_vals);
  free(g->raw_fid);
  g->raw_vals = NULL;
  g->raw_fid = NULL;
  g->n_raw_rows = 0;
}

static void csv_pre_free(struct csv_pre *p);

static void ingest_free(ingest *g) {
  csv_pre_free(g->pre);
  if (g->writer) pm_layer_writer_destroy(g->writer);
  if (g->tr) pm_transform_destroy(g->tr);
  if (g->wkb_in) GEOSWKBReader_destroy_r(g->h, g->wkb_in);
  if (g->wkb_out) GEOSWKBWriter_destroy_r(g->h, g->wkb_out);
  free(g->buf);
  free(g->scratch);
  pm__wkb_shape_clear(&g->shape);
  if (g->ds) GDALClose(g->ds);
  if (g->osmconf[0]) unlink(g->osmconf);
  for (size_t i = 0; i < g->n_fields; i++) free(g->field_names[i]);
  free(g->field_names);
  free(g->fields);
  free(g->src_idx);
  free(g->raw_col);
  free(g->csv_keep);
  free_raw(g);
}

/* How a planner finds a source feature again: the CSV data row, else the source FID. */
static const char *feature_ref(const ingest *g, GIntBig fid, char *buf, size_t size) {
  if (g->is_csv)
    snprintf(buf, size, "row %lld", (long long)fid);
  else
    snprintf(buf, size, "feature FID %lld", (long long)fid);
  return buf;
}

/* Append "id" to a comma-separated list, stopping at MAX_LISTED_IDS with ",...". */
static pm_status list_append(pm_context *ctx, char **list, size_t *len, int64_t count,
                             const char *item) {
  if (count > MAX_LISTED_IDS) return PM_OK;
  const char *text = count == MAX_LISTED_IDS ? "..." : item;
  size_t add = strlen(text) + 2;
  char *p = realloc(*list, *len + add + 1);
  if (!p) return oom(ctx);
  *list = p;
  *len += (size_t)snprintf(p + *len, add + 1, "%s%s", *len ? "," : "", text);
  return PM_OK;
}

static pm_status note_dropped(ingest *g, GIntBig src_fid, const char *why) {
  char id[32];
  snprintf(id, sizeof id, "%lld", (long long)src_fid);
  pm_status st = list_append(g->ctx, &g->rep->dropped_ids, &g->dropped_len, g->rep->n_dropped, id);
  if (!st && g->n_reasons < 20) {
    char item[512], ref[48];
    snprintf(item, sizeof item, "%s%s: %s", g->n_reasons ? "; " : "",
             feature_ref(g, src_fid, ref, sizeof ref), why);
    size_t add = strlen(item);
    char *p = realloc(g->rep->dropped_reasons, g->reasons_len + add + 1);
    if (!p) return oom(g->ctx);
    memcpy(p + g->reasons_len, item, add + 1);
    g->rep->dropped_reasons = p;
    g->reasons_len += add;
    g->n_reasons++;
  }
  g->rep->n_dropped++;
  return st;
}

/* The next feature of the layer, or NULL at the end. A driver error while reading (a truncated
 * .shp, a broken GeoPackage) is an error naming the feature, never a silently shorter layer.
 * *last_fid is the FID of the previous feature (-1 before the first). */
/* read_next's work without the context: 0, or 1 with the message in msg. */
static int read_raw(const ingest *g, GIntBig *last_fid, OGRFeatureH *out, char *msg, size_t size) {
  CPLErrorReset();
  *out = OGR_L_GetNextFeature(g->lyr);
  if (CPLGetLastErrorType() < CE_Failure) {
    if (*out) *last_fid = OGR_F_GetFID(*out);
    return 0;
  }
  char why[512], ref[48];
  snprintf(why, sizeof why, "%s", gdal_msg("read error"));
  GIntBig fid = *out ? OGR_F_GetFID(*out) : *last_fid + 1;
  if (*out) OGR_F_Destroy(*out);
  *out = NULL;
  snprintf(msg, size,
           "%s: %s cannot be read (%s); the file looks damaged or truncated (re-export or re-copy it)",
           g->opt->path, feature_ref(g, fid, ref, sizeof ref), why);
  return 1;
}

static pm_status read_next(ingest *g, GIntBig *last_fid, OGRFeatureH *out) {
  char msg[1024];
  if (!read_raw(g, last_fid, out, msg, sizeof msg)) return PM_OK;
  return pm_error(g->ctx, PM_EIO, "%s", msg);
}

/* The features of the write pass, read from GDAL on a thread of their own (the floor's work:
 * decoding the file) while this thread turns them into rows; handed over in order, in runs. */
#define READ_RUN 64
#define READ_QUEUE 1024
typedef struct feature_reader {
  ingest *g;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  OGRFeatureH queue[READ_QUEUE];
  size_t head, len;
  int eof, failed, stop, started;
  char msg[1024]; /* the read error, when failed */
  pthread_t thread;
  OGRFeatureH taken[READ_RUN]; /* a run taken by the consumer */
  size_t n_taken, at_taken;
  /* Features done with go back to the reading thread to be freed there: freeing memory another
   * thread allocated makes the two threads' allocators contend. */
  OGRFeatureH done[READ_RUN];   /* the consumer's, not yet handed back */
  size_t n_done;
  OGRFeatureH trash[READ_QUEUE + 2 * READ_RUN];
  size_t n_trash;
} feature_reader;

static void *reader_thread(void *arg) {
  feature_reader *r = arg;
  CPLPushErrorHandler(CPLQuietErrorHandler); /* GDAL's handlers are per thread */
  GIntBig last = -1;
  OGRFeatureH run[READ_RUN];
  size_t n = 0;
  int end = 0, failed = 0;
  char msg[1024];
  while (!end) {
    OGRFeatureH f = NULL;
    failed = read_raw(r->g, &last, &f, msg, sizeof msg);
    if (f) run[n++] = f;
    end = failed || !f;
    if (n == READ_RUN || end) {
      OGRFeatureH trash[READ_QUEUE + 2 * READ_RUN];
      size_t n_trash;
      pthread_mutex_lock(&r->mu);
      n_trash = r->n_trash;
      memcpy(trash, r->trash, n_trash * sizeof *trash);
      r->n_trash = 0;
      for (size_t i = 0; i < n && !r->stop;) {
        while (r->len == READ_QUEUE && !r->stop) pthread_cond_wait(&r->cv, &r->mu);
        for (; i < n && r->len < READ_QUEUE; i++) r->queue[(r->head + r->len++) % READ_QUEUE] = run[i];
        pthread_cond_broadcast(&r->cv);
      }
      if (r->stop) { /* the consumer gave up: what it will not take */
        for (size_t i = 0; i < n; i++) OGR_F_Destroy(run[i]);
        end = 1;
      }
      n = 0;
      if (end) {
        r->eof = 1;
        if (failed) {
          r->failed = 1;
          snprintf(r->msg, sizeof r->msg, "%s", msg);
        }
        pthread_cond_broadcast(&r->cv);
      }
      pthread_mutex_unlock(&r->mu);
      for (size_t i = 0; i < n_trash; i++) OGR_F_Destroy(trash[i]);
    }
  }
  CPLPopErrorHandler();
  return NULL;
}

static pm_status reader_start(ingest *g, feature_reader *r) {
  memset(r, 0, sizeof *r);
  r->g = g;
  if (pthread_mutex_init(&r->mu, NULL) != 0) return oom(g->ctx);
  if (pthread_cond_init(&r->cv, NULL) != 0) {
    pthread_mutex_destroy(&r->mu);
    return oom(g->ctx);
  }
  if (pthread_create(&r->thread, NULL, reader_thread, r) != 0) {
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    return pm_error(g->ctx, PM_ENOMEM, "cannot start a thread to read %s", g->opt->path);
  }
  r->started = 1;
  return PM_OK;
}

/* The next feature in the file's order (NULL at the end), or the read error where it happened. */
static pm_status reader_next(feature_reader *r, OGRFeatureH *out) {
  *out = NULL;
  if (r->at_taken < r->n_taken) {
    *out = r->taken[r->at_taken++];
    return PM_OK;
  }
  pthread_mutex_lock(&r->mu);
  for (size_t i = 0; i < r->n_done; i++) {
    if (r->n_trash < PM_ARRAY_LEN(r->trash)) r->trash[r->n_trash++] = r->done[i];
    else OGR_F_Destroy(r->done[i]);
  }
  r->n_done = 0;
  while (r->len == 0 && !r->eof) pthread_cond_wait(&r->cv, &r->mu);
  r->n_taken = r->at_taken = 0;
  for (; r->n_taken < READ_RUN && r->len > 0; r->len--, r->head = (r->head + 1) % READ_QUEUE)
    r->taken[r->n_taken++] = r->queue[r->head];
  pthread_cond_broadcast(&r->cv);
  int failed = r->len == 0 && r->n_taken == 0 && r->failed;
  pthread_mutex_unlock(&r->mu);
  if (r->n_taken > 0) *out = r->taken[r->at_taken++];
  if (failed) return pm_error(r->g->ctx, PM_EIO, "%s", r->msg);
  return PM_OK;
}

/* A feature the consumer is done with. */
static void reader_release(feature_reader *r, OGRFeatureH f) {
  if (r->started && r->n_done < READ_RUN) r->done[r->n_done++] = f;
  else OGR_F_Destroy(f);
}

/* Stop the reading thread and drop what it read ahead. */
static void reader_stop(feature_reader *r) {
  if (!r->started) return;
  pthread_mutex_lock(&r->mu);
  r->stop = 1;
  pthread_cond_broadcast(&r->cv);
  pthread_mutex_unlock(&r->mu);
  pthread_join(r->thread, NULL);
  for (; r->at_taken < r->n_taken; r->at_taken++) OGR_F_Destroy(r->taken[r->at_taken]);
  for (; r->len > 0; r->len--, r->head = (r->head + 1) % READ_QUEUE) OGR_F_Destroy(r->queue[r->head]);
  for (size_t i = 0; i < r->n_done; i++) OGR_F_Destroy(r->done[i]);
  for (size_t i = 0; i < r->n_trash; i++) OGR_F_Destroy(r->trash[i]);
  r->n_done = r->n_trash = 0;
  pthread_cond_destroy(&r->cv);
  pthread_mutex_destroy(&r->mu);
  r->started = 0;
}

/* ---- opening ---- */

static pm_status check_files(pm_context *ctx, const pm_ingest_options *o) {
  struct stat sb;
  if (!o->path || !*o->path) return pm_error(ctx, PM_EINPUT, "give the file to ingest");
  if (stat(o->path, &sb) != 0)
    return pm_error(ctx, PM_EIO, "%s: no such file (%s); check the path", o->path, strerror(errno));
  if (has_ext(o->path, ".shp")) {
    static const char *const need[] = {".shx", ".dbf"};
    static const char *const what[] = {"index", "attribute"};
    for (size_t i = 0; i < 2; i++) {
      char *s = sidecar(o->path, need[i]);
      if (!s) return oom(ctx);
      int ok = access(s, R_OK) == 0;
      pm_status st = ok ? PM_OK
                        : pm_error(ctx, PM_EIO,
                                   "%s: the shapefile's %s file %s is missing; a shapefile needs its "
                                   ".shp, .shx and .dbf side by side (copy all of them)",
                                   o->path, what[i], s);
      free(s);
      if (st) return st;
    }
  }
  return PM_OK;
}

static const char *driver_name(GDALDatasetH ds) {
  GDALDriverH d = GDALGetDatasetDriver(ds);
  const char *n = d ? GDALGetDriverShortName(d) : NULL;
  return n ? n : "";
}

static pm_status open_dataset(ingest *g) {
  const pm_ingest_options *o = g->opt;
  pm_context *ctx = g->ctx;
  int shp_ext = has_ext(o->path, ".shp") || has_ext(o->path, ".dbf");
  int csv_ext = has_ext(o->path, ".csv") || has_ext(o->path, ".tsv") || has_ext(o->path, ".txt");
  int osm_ext = has_ext(o->path, ".osm") || has_ext(o->path, ".pbf");
  char *open_opts[5] = {NULL};
  int n = 0;
  if (shp_ext && o->encoding) open_opts[n++] = "ENCODING="; /* raw bytes: we decode strictly */
  if (csv_ext) {
    /* Numeric columns become numbers (so --where "pop > 1000" compares numbers); the whole file
     * is looked at, so a text value late in the file does not become 0. */
    open_opts[n++] = "AUTODETECT_TYPE=YES";
    open_opts[n++] = "AUTODETECT_SIZE_LIMIT=0";
  }
  char conf_opt[96];
  if (osm_ext) {
    /* The project's OSM configuration is compiled in; GDAL reads it from a file at open time. */
    snprintf(g->osmconf, sizeof g->osmconf, "%s/pm-osmconf-XXXXXX.ini",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemps(g->osmconf, 4);
    if (fd < 0) {
      g->osmconf[0] = '\0';
      return pm_error(ctx, PM_EIO, "cannot create a temporary file for the OSM configuration (%s)",
                      strerror(errno));
    }
    ssize_t w = write(fd, pm_osmconf_bytes, pm_osmconf_size);
    close(fd);
    if (w != (ssize_t)pm_osmconf_size)
      return pm_error(ctx, PM_EIO, "cannot write the OSM configuration to %s", g->osmconf);
    snprintf(conf_opt, sizeof conf_opt, "CONFIG_FILE=%s", g->osmconf);
    open_opts[n++] = conf_opt;
  }
  CPLErrorReset();
  g->ds = GDALOpenEx(o->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL,
                     (const char *const *)open_opts, NULL);
  if (!g->ds)
    return pm_error(ctx, PM_EIO,
                    "%s: GDAL cannot read this as a vector layer (%s); check that the file is "
                    "complete and in a format GDAL reads (Shapefile, GeoPackage, GeoJSON, CSV, OSM)",
                    o->path, gdal_msg("unrecognised or damaged file"));
  const char *drv = driver_name(g->ds);
  g->is_shapefile = strcmp(drv, "ESRI Shapefile") == 0;
  g->is_csv = strcmp(drv, "CSV") == 0;
  g->is_osm = strcmp(drv, "OSM") == 0;
  int nl = GDALDatasetGetLayerCount(g->ds);
  if (o->source_layer) {
    g->lyr = GDALDatasetGetLayerByName(g->ds, o->source_layer);
  } else if (nl == 1) {
    g->lyr = GDALDatasetGetLayer(g->ds, 0);
  }
  if (!g->lyr) {
    char names[1024] = "";
    for (int i = 0; i < nl; i++) {
      OGRLayerH l = GDALDatasetGetLayer(g->ds, i);
      size_t len = strlen(names);
      snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", OGR_L_GetName(l));
    }
    if (o->source_layer)
      return pm_error(ctx, PM_EINPUT, "%s: no layer '%s' in this file; its layers are: %s", o->path,
                      o->source_layer, names);
    if (nl == 0) return pm_error(ctx, PM_EINPUT, "%s: the file holds no layer", o->path);
    return pm_error(ctx, PM_EINPUT,
                    "%s holds %d layers (%s); choose one with --source-layer%s", o->path, nl, names,
                    g->is_osm ? " (points, lines or multipolygons) and filter it on tags with "
                                "--where, e.g. --where \"highway = 'bus_stop'\""
                              : "");
  }
  return PM_OK;
}

static pm_status list_source_fields(ingest *g, char **out) {
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(g->lyr);
  int nf = OGR_FD_GetFieldCount(defn);
  size_t len = 1;
  for (int i = 0; i < nf; i++) len += strlen(OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i))) + 2;
  *out = calloc(len, 1);
  if (!*out) return oom(g->ctx);
  size_t at = 0;
  for (int i = 0; i < nf; i++)
    at += (size_t)snprintf(*out + at, len - at, "%s%s", i ? ", " : "",
                           OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i)));
  return PM_OK;
}

static int find_source_field_n(OGRFeatureDefnH defn, const char *name, size_t len) {
  int nf = OGR_FD_GetFieldCount(defn);
  for (int i = 0; i < nf; i++) {
    const char *f = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
    if (strlen(f) == len && strncmp(f, name, len) == 0) return i;
  }
  for (int i = 0; i < nf; i++) {
    const char *f = OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
    if (strlen(f) == len && strncasecmp(f, name, len) == 0) return i;
  }
  return -1;
}

static int find_source_field(OGRFeatureDefnH defn, const char *name) {
  return find_source_field_n(defn, name, strlen(name));
}

/* Words of OGR SQL / SQLite expressions that are not field names. */
static int sql_word(const char *s, size_t len) {
  static const char *const words[] = {
      "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "BETWEEN", "ESCAPE", "TRUE", "FALSE",
      "CAST", "AS", "CASE", "WHEN", "THEN", "ELSE", "END", "GLOB", "REGEXP", "MATCH", "COLLATE",
      "NOCASE", "DISTINCT", "INTEGER", "INTEGER64", "BIGINT", "REAL", "FLOAT", "DOUBLE", "NUMERIC",
      "DECIMAL", "CHARACTER", "CHAR", "VARCHAR", "STRING", "TEXT", "DATE", "TIME", "TIMESTAMP",
      "DATETIME", "BOOLEAN", "FID", "OGR_GEOMETRY", "OGR_GEOM_AREA", "OGR_GEOM_WKT", "OGR_STYLE"};
  for (size_t i = 0; i < PM_ARRAY_LEN(words); i++)
    if (strlen(words[i]) == len && strncasecmp(words[i], s, len) == 0) return 1;
  return 0;
}

/* The first name in a filter expression that is neither a field of the layer, a keyword nor a
 * function: what a planner most likely mistyped. Only used to explain a filter the driver refused,
 * so a word it does not know makes the message less precise, never refuses a good filter. */
static int where_unknown_field(OGRFeatureDefnH defn, const char *w, char *out, size_t size) {
  const char *p = w;
  while (*p) {
    unsigned char c = (unsigned char)*p;
    if (c == '\'') { /* string literal, '' inside */
      p++;
      while (*p && !(*p == '\'' && p[1] != '\'')) p += (*p == '\'') ? 2 : 1;
      if (*p) p++;
      continue;
    }
    if (c == '"') { /* quoted identifier: always a field */
      const char *s = ++p;
      while (*p && *p != '"') p++;
      size_t len = (size_t)(p - s);
      if (*p) p++;
      if (find_source_field_n(defn, s, len) < 0) {
        snprintf(out, size, "%.*s", (int)len, s);
        return 1;
      }
      continue;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)p[1]))) {
      while (isalnum((unsigned char)*p) || *p == '.') p++;
      continue;
    }
    if (isalpha(c) || c == '_' || c >= 0x80) {
      const char *s = p;
      while (isalnum((unsigned char)*p) || *p == '_' || (unsigned char)*p >= 0x80) p++;
      size_t len = (size_t)(p - s);
      const char *q = p;
      while (*q == ' ' || *q == '\t') q++;
      if (*q == '(' || sql_word(s, len) || find_source_field_n(defn, s, len) >= 0) continue;
      snprintf(out, size, "%.*s", (int)len, s);
      return 1;
    }
    p++;
  }
  return 0;
}

static pm_status filter_error(ingest *g, const char *gdal_why) {
  const pm_ingest_options *o = g->opt;
  char why[512], unknown[128];
  snprintf(why, sizeof why, "%s", gdal_why);
  char *list = NULL;
  list_source_fields(g, &list);
  pm_status st;
  if (where_unknown_field(OGR_L_GetLayerDefn(g->lyr), o->where, unknown, sizeof unknown))
    st = pm_error(g->ctx, PM_EINPUT,
                  "%s: no field '%s' in the filter --where \"%s\"; the fields are: %s (quote text "
                  "values with single quotes: name = 'x')",
                  o->path, unknown, o->where, list ? list : "?");
  else
    st = pm_error(g->ctx, PM_EINPUT,
                  "%s: the filter --where \"%s\" cannot be used (%s); write it as SQL on the "
                  "fields, e.g. \"highway = 'bus_stop'\"; the fields are: %s",
                  o->path, o->where, why, list ? list : "?");
  free(list);
  return st;
}

/* Set the --where filter. Drivers that turn it into SQL (GeoPackage, SQLite) only complain when
 * reading, so read one feature to find out now, before anything is written. */
static pm_status apply_filter(ingest *g) {
  const char *where = g->opt->where;
  if (!where || !*where) return PM_OK;
  char not_one[256];
  if (!pm__filter_check(where, not_one, sizeof not_one))
    return pm_error(g->ctx, PM_EINPUT,
                    "%s: the filter --where \"%s\" is not one condition on the fields: %s; write "
                    "a condition such as \"highway = 'bus_stop'\"",
                    g->opt->path, where, not_one);
  CPLErrorReset();
  if (OGR_L_SetAttributeFilter(g->lyr, where) != OGRERR_NONE)
    return filter_error(g, gdal_msg("syntax error"));
  if (g->is_osm) return PM_OK; /* OGR's own evaluator checked it; a trial read parses the file */
  CPLErrorReset();
  OGR_L_ResetReading(g->lyr);
  OGRFeatureH f = OGR_L_GetNextFeature(g->lyr);
  int failed = CPLGetLastErrorType() >= CE_Failure;
  char why[512];
  snprintf(why, sizeof why, "%s", gdal_msg("the driver refused it"));
  if (f) OGR_F_Destroy(f);
  OGR_L_ResetReading(g->lyr);
  if (!failed) return PM_OK;
  /* The filter, or a damaged file? Read once without the filter to tell. */
  OGR_L_SetAttributeFilter(g->lyr, NULL);
  CPLErrorReset();
  f = OGR_L_GetNextFeature(g->lyr);
  int plain_ok = CPLGetLastErrorType() < CE_Failure;
  if (f) OGR_F_Destroy(f);
  OGR_L_SetAttributeFilter(g->lyr, where);
  OGR_L_ResetReading(g->lyr);
  if (!plain_ok) return PM_OK; /* the write pass reports the damaged feature */
  return filter_error(g, why);
}

static pm_status setup_fields(ingest *g) {
  const pm_ingest_options *o = g->opt;
  pm_context *ctx = g->ctx;
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(g->lyr);
  g->x_idx = g->y_idx = -1;
  if ((o->x_field != NULL) != (o->y_field != NULL))
    return pm_error(ctx, PM_EINPUT, "%s: give both --x and --y (the coordinate columns)", o->path);
  if (o->x_field) {
    const char *want[2] = {o->x_field, o->y_field};
    int *idx[2] = {&g->x_idx, &g->y_idx};
    for (int k = 0; k < 2; k++) {
      *idx[k] = find_source_field(defn, want[k]);
      if (*idx[k] < 0) {
        char *list = NULL;
        list_source_fields(g, &list);
        pm_status st = pm_error(ctx, PM_EINPUT,
                                "%s: no field '%s' for --%s; the fields are: %s", o->path, want[k],
                                k ? "y" : "x", list ? list : "?");
        free(list);
        return st;
      }
    }
  } else if (wkbFlatten(OGR_L_GetGeomType(g->lyr)) == wkbNone) {
    char *list = NULL;
    list_source_fields(g, &list);
    pm_status st = pm_error(ctx, PM_EINPUT,
                            "%s: the layer has no geometry; for a table give its coordinate "
                            "columns with --x and --y (the fields are: %s)",
                            o->path, list ? list : "?");
    free(list);
    return st;
  }
  pm_status st = apply_filter(g);
  if (st) return st;
  int nf = OGR_FD_GetFieldCount(defn);
  g->fields = calloc((size_t)nf + 1, sizeof *g->fields);
  g->field_names = calloc((size_t)nf + 1, sizeof *g->field_names);
  g->src_idx = calloc((size_t)nf + 1, sizeof *g->src_idx);
  g->raw_col = calloc((size_t)nf + 1, sizeof *g->raw_col);
  if (!g->fields || !g->field_names || !g->src_idx || !g->raw_col) return oom(ctx);
  for (int i = 0; i < nf; i++) {
    OGRFieldDefnH fd = OGR_FD_GetFieldDefn(defn, i);
    const char *src = OGR_Fld_GetNameRef(fd);
    /* fid and geom are the table's own columns; a source field of that name keeps its data. */
    char base[256];
    snprintf(base, sizeof base, "%s%s",
             (strcasecmp(src, "fid") == 0 || strcasecmp(src, "geom") == 0) ? "src_" : "", src);
    char name[300];
    snprintf(name, sizeof name, "%s", base);
    for (int k = 2;; k++) {
      int clash = 0;
      for (size_t j = 0; j < g->n_fields; j++)
        if (strcasecmp(g->field_names[j], name) == 0) clash = 1;
      if (!clash) break;
      snprintf(name, sizeof name, "%s_%d", base, k);
    }
    char *dup = strdup(name);
    if (!dup) return oom(ctx);
    pm_field_type t = PM_FIELD_TEXT;
    switch (OGR_Fld_GetType(fd)) {
    case OFTInteger:
    case OFTInteger64: t = PM_FIELD_INTEGER; break;
    case OFTReal: t = PM_FIELD_REAL; break;
    default: t = PM_FIELD_TEXT; break;
    }
    g->field_names[g->n_fields] = dup;
    g->fields[g->n_fields].name = dup;
    g->fields[g->n_fields].type = t;
    g->src_idx[g->n_fields] = i;
    g->raw_col[g->n_fields] = -1;
    g->n_fields++;
  }
  return PM_OK;
}

/* ---- CSV numbers that must stay text ---- */

/* Whether GDAL's number for this CSV value would lose something: a leading zero (postcodes,
 * codes such as 0571), an integer beyond 64 bits, or more digits than a double keeps. */
static int number_loses_text(const char *s, pm_field_type t) {
  while (*s == ' ' || *s == '\t') s++;
  if (!*s) return 0;
  const char *d = s;
  if (*d == '+' || *d == '-') d++;
  if (d[0] == '0' && isdigit((unsigned char)d[1])) return 1;
  size_t digits = 0;
  const char *p = d;
  while (isdigit((unsigned char)*p)) {
    p++;
    digits++;
  }
  int integer_like = digits > 0 && (*p == '\0' || *p == ' ' || *p == '\t');
  if (t == PM_FIELD_INTEGER) {
    errno = 0;
    (void)strtoll(s, NULL, 10);
    return errno == ERANGE;
  }
  return integer_like && digits > 15;
}

/* What encoding detection looks at in a text value: whether it has bytes beyond ASCII, and whether
 * it is valid UTF-8 and plausible GB18030. */
typedef struct enc_scan {
  int all_utf8, all_gb, any_high;
} enc_scan;

static void enc_scan_value(enc_scan *e, const char *s) {
  size_t len = strlen(s);
  int high = 0;
  for (size_t k = 0; k < len && !high; k++) high = (unsigned char)s[k] >= 0x80;
  if (!high) return;
  e->any_high = 1;
  if (e->all_utf8 && !pm_utf8_valid(s, len)) e->all_utf8 = 0;
  if (e->all_gb && !pm_gb18030_plausible(s, len)) e->all_gb = 0;
}

static int is_text_field(OGRFeatureDefnH defn, int i) {
  OGRFieldType t = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, i));
  return t == OFTString || t == OFTStringList;
}

/* Whether the numbers of a CSV need checking against the file's text: no .csvt says the types,
 * and GDAL typed some column as a number. */
static int csv_numbers_to_check(ingest *g) {
  if (!g->is_csv || sidecar_exists(g->opt->path, ".csvt")) return 0;
  for (size_t i = 0; i < g->n_fields; i++)
    if (g->fields[i].type != PM_FIELD_TEXT) return 1;
  return 0;
}

/* The CSV opened again with every column as text (no type detection), or NULL when its columns
 * cannot be paired with the typed layer's. */
static GDALDatasetH csv_open_raw(ingest *g, OGRLayerH *rl) {
  GDALDatasetH raw = GDALOpenEx(g->opt->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
  *rl = raw ? GDALDatasetGetLayer(raw, 0) : NULL;
  if (*rl && OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(*rl)) ==
                 OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(g->lyr)))
    return raw;
  if (raw) GDALClose(raw);
  *rl = NULL;
  return NULL;
}

/* The pass over a CSV's text that the number check and encoding detection need, done on a thread
 * of its own from the start of the ingest, while GDAL reads the whole file once more to detect
 * the column types (AUTODETECT_TYPE): two reads side by side instead of one after the other. It
 * cannot know the types yet, so it notes for every column whether a value would lose its text as
 * an integer and as a real, and the encoding evidence of its values; csv_scan then keeps what the
 * detected types ask for. */
typedef struct csv_pre {
  pthread_t tid;
  int running;         /* tid is still to be joined */
  const char *path;
  int ok;              /* the file was read as text to its end */
  int ncols;
  unsigned char *loses; /* per column: 1 << PM_FIELD_INTEGER, 1 << PM_FIELD_REAL */
  enc_scan *enc;        /* per column */
} csv_pre;

static void *csv_pre_run(void *arg) {
  csv_pre *p = arg;
  CPLPushErrorHandler(CPLQuietErrorHandler); /* this thread's; the typed read reports problems */
  GDALDatasetH raw = GDALOpenEx(p->path, GDAL_OF_VECTOR | GDAL_OF_READONLY, NULL, NULL, NULL);
  OGRLayerH rl = raw ? GDALDatasetGetLayer(raw, 0) : NULL;
  int nc = rl ? OGR_FD_GetFieldCount(OGR_L_GetLayerDefn(rl)) : 0;
  if (rl && nc > 0 && (p->loses = calloc((size_t)nc, 1)) &&
      (p->enc = calloc((size_t)nc, sizeof *p->enc))) {
    for (int i = 0; i < nc; i++) p->enc[i] = (enc_scan){.all_utf8 = 1, .all_gb = 1};
    OGRFeatureH f;
    while ((f = OGR_L_GetNextFeature(rl)) != NULL) {
      for (int i = 0; i < nc; i++) {
        if (!OGR_F_IsFieldSetAndNotNull(f, i)) continue;
        const char *s = OGR_F_GetFieldAsString(f, i);
        static const pm_field_type numeric[2] = {PM_FIELD_INTEGER, PM_FIELD_REAL};
        for (int k = 0; k < 2; k++)
          if (!(p->loses[i] & (1 << numeric[k])) && number_loses_text(s, numeric[k]))
            p->loses[i] |= (unsigned char)(1 << numeric[k]);
        enc_scan_value(&p->enc[i], s);
      }
      OGR_F_Destroy(f);
    }
    p->ncols = nc;
    p->ok = 1;
  }
  if (raw) GDALClose(raw);
  CPLPopErrorHandler();
  return NULL;
}

/* Start the pass for a file named as a CSV when something will read its result: the number check
 * (no .csvt) or the encoding detection (no --encoding, no --where). Without a thread, csv_scan
 * reads the file itself. */
static void csv_pre_start(ingest *g) {
  const pm_ingest_options *o = g->opt;
  if (!(has_ext(o->path, ".csv") || has_ext(o->path, ".tsv") || has_ext(o->path, ".txt"))) return;
  int numbers = !sidecar_exists(o->path, ".csvt");
  int encoding = !o->encoding && !(o->where && *o->where);
  if (!numbers && !encoding) return;
  csv_pre *p = calloc(1, sizeof *p);
  if (!p) return;
  p->path = o->path;
  if (pthread_create(&p->tid, NULL, csv_pre_run, p) != 0) {
    free(p);
    return;
  }
  p->running = 1;
  g->pre = p;
}

static void csv_pre_wait(csv_pre *p) {
  if (p->running) pthread_join(p->tid, NULL);
  p->running = 0;
}

static void csv_pre_free(csv_pre *p) {
  if (!p) return;
  csv_pre_wait(p);
  free(p->loses);
  free(p->enc);
  free(p);
}

/* One pass over the CSV's text: the columns whose numbers would lose the file's text (g->csv_keep,
 * when numbers need checking) and, when enc is given, the encoding evidence of the text columns
 * (all rows: only used without a --where filter, which selects rows on typed values). Returns 0
 * when the raw file cannot be paired with the typed layer. */
static int csv_scan(ingest *g, enc_scan *enc, pm_status *st) {
  *st = PM_OK;
  int check_numbers = csv_numbers_to_check(g);
  if (!check_numbers && !enc) return 1;
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(g->lyr);
  int nf = OGR_FD_GetFieldCount(defn);
  csv_pre *p = g->pre;
  if (p) {
    csv_pre_wait(p);
  } else { /* not started (a .csvt and a filter, say): the pass here */
    if (!(p = g->pre = calloc(1, sizeof *p))) {
      *st = oom(g->ctx);
      return 1;
    }
    p->path = g->opt->path;
    csv_pre_run(p);
  }
  if (!p->ok || p->ncols != nf) return 0; /* cannot be paired: the callers fall back */
  if (check_numbers) {
    int *keep = calloc(g->n_fields + 1, sizeof *keep);
    if (!keep) {
      *st = oom(g->ctx);
      return 1;
    }
    for (size_t i = 0; i < g->n_fields; i++) {
      pm_field_type t = g->fields[i].type;
      if (t != PM_FIELD_TEXT && (p->loses[g->src_idx[i]] & (1 << t)))
        keep[i] = 1 + (int)t; /* remembers the type GDAL gave */
    }
    free(g->csv_keep);
    g->csv_keep = keep;
  }
  for (int i = 0; enc && i < nf; i++)
    if (is_text_field(defn, i)) {
      enc->all_utf8 &= p->enc[i].all_utf8;
      enc->all_gb &= p->enc[i].all_gb;
      enc->any_high |= p->enc[i].any_high;
    }
  return 1;
}

/* Columns GDAL typed as numbers but whose text a number would change are stored as TEXT with the
 * file's own characters, read in a second pass over the CSV as plain text. */
static pm_status csv_keep_text(ingest *g) {
  if (!csv_numbers_to_check(g)) return PM_OK;
  pm_status st = PM_OK;
  if (!g->csv_keep && csv_scan(g, NULL, &st) && st) return st;
  if (!g->csv_keep) return PM_OK; /* cannot compare: keep GDAL's types */
  pm_context *ctx = g->ctx;
  int *keep = g->csv_keep;
  size_t n_keep = 0;
  for (size_t i = 0; i < g->n_fields; i++) n_keep += keep[i] != 0;
  if (!n_keep) return PM_OK;
  OGRLayerH rl;
  GDALDatasetH raw = csv_open_raw(g, &rl);
  if (!raw) return PM_OK;
  OGRFeatureH f;
  for (size_t i = 0; i < g->n_fields; i++)
    if (keep[i]) {
      g->raw_col[i] = (int)g->n_raw_cols++;
      g->fields[i].type = PM_FIELD_TEXT;
    }
  size_t cap_rows = 0, cap_fid = 0;
  while (!st && (f = OGR_L_GetNextFeature(rl)) != NULL) {
    size_t r = g->n_raw_rows;
    st = pm__grow(ctx, (void **)&g->raw_fid, &cap_fid, r + 1, sizeof *g->raw_fid);
    if (!st) st = pm__grow(ctx, (void **)&g->raw_vals, &cap_rows, (r + 1) * g->n_raw_cols,
                          sizeof *g->raw_vals);
    if (!st) {
      g->raw_fid[r] = OGR_F_GetFID(f);
      for (size_t i = 0; i < g->n_fields; i++) {
        if (g->raw_col[i] < 0) continue;
        int si = g->src_idx[i];
        const char *s = OGR_F_IsFieldSetAndNotNull(f, si) ? OGR_F_GetFieldAsString(f, si) : "";
        char **slot = &g->raw_vals[r * g->n_raw_cols + (size_t)g->raw_col[i]];
        *slot = NULL;
        if (*s && !(*slot = strdup(s))) st = oom(ctx);
      }
      g->n_raw_rows++;
    }
    OGR_F_Destroy(f);
  }
  /* CSV rows come in ascending FID order, which the lookup's binary search needs; should a
   * driver ever differ, keep GDAL's types rather than risk pairing values with wrong rows. */
  for (size_t r = 1; !st && r < g->n_raw_rows; r++)
    if (g->raw_fid[r] <= g->raw_fid[r - 1]) {
      for (size_t i = 0; i < g->n_fields; i++)
        if (g->raw_col[i] >= 0) {
          g->raw_col[i] = -1;
          g->fields[i].type = (pm_field_type)(keep[i] - 1);
        }
      free_raw(g);
      g->n_raw_cols = 0;
      break;
    }
  GDALClose(raw);
  return st;
}

/* The file's text of stored field i for source FID fid (NULL when empty or unknown). */
static const char *raw_value(const ingest *g, size_t i, int64_t fid) {
  size_t lo = 0, hi = g->n_raw_rows;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (g->raw_fid[mid] < fid) lo = mid + 1;
    else hi = mid;
  }
  if (lo >= g->n_raw_rows || g->raw_fid[lo] != fid) return NULL;
  return g->raw_vals[lo * g->n_raw_cols + (size_t)g->raw_col[i]];
}

/* ---- encoding ---- */

/* Decide how attribute text is decoded: the user's --encoding, what GDAL found (.cpg, DBF language
 * driver), or detection over the whole layer (UTF-8, else GB18030/GBK). */
static pm_status choose_encoding(ingest *g) {
  const pm_ingest_options *o = g->opt;
  pm_context *ctx = g->ctx;
  pm_ingest_report *rep = g->rep;
  if (o->encoding) {
    if (!pm_encoding_known(o->encoding))
      return pm_error(ctx, PM_EINPUT,
                      "%s: --encoding %s is not an encoding this system knows; use e.g. GBK, "
                      "GB18030, UTF-8, BIG5, CP1252 or ISO-8859-1",
                      o->path, o->encoding);
    g->decode = o->encoding;
    rep->encoding = strdup(o->encoding);
    return rep->encoding ? PM_OK : oom(ctx);
  }
  if (g->is_shapefile) {
    const char *src = GDALGetMetadataItem((GDALMajorObjectH)g->lyr, "SOURCE_ENCODING", "SHAPEFILE");
    if (src && *src) { /* GDAL recodes from the .cpg or the DBF language driver */
      rep->encoding = strdup(src);
      return rep->encoding ? PM_OK : oom(ctx);
    }
  } else if (!g->is_csv) {
    return PM_OK; /* GeoPackage, GeoJSON, OSM: UTF-8 by specification (still validated per value) */
  }
  /* Detection: scan every text value once; for a CSV without a filter, in the pass that also
   * checks its numbers against the file's text (csv_scan). */
  enc_scan e = {.all_utf8 = 1, .all_gb = 1};
  pm_status st = PM_OK;
  if (!(g->is_csv && !(o->where && *o->where) && csv_scan(g, &e, &st))) {
    OGRFeatureDefnH defn = OGR_L_GetLayerDefn(g->lyr);
    int nf = OGR_FD_GetFieldCount(defn);
    OGRFeatureH f;
    OGR_L_ResetReading(g->lyr);
    while ((e.all_utf8 || e.all_gb) && (f = OGR_L_GetNextFeature(g->lyr)) != NULL) {
      for (int i = 0; i < nf; i++)
        if (is_text_field(defn, i) && OGR_F_IsFieldSetAndNotNull(f, i))
          enc_scan_value(&e, OGR_F_GetFieldAsString(f, i));
      OGR_F_Destroy(f);
    }
    OGR_L_ResetReading(g->lyr);
  }
  if (st) return st;
  int all_utf8 = e.all_utf8, all_gb = e.all_gb, any_high = e.any_high;
  if (!any_high || all_utf8) {
    rep->encoding = strdup("UTF-8");
    rep->encoding_detected = any_high;
    return rep->encoding ? PM_OK : oom(ctx);
  }
  if (all_gb) {
    g->decode = "GB18030";
    rep->encoding = strdup("GB18030");
    rep->encoding_detected = 1;
    pm_notice(ctx,
              "%s: no encoding declared (%s) and the text is not UTF-8; detected GBK/GB18030 "
              "(Chinese). If names look wrong, give --encoding",
              o->path, g->is_shapefile ? "no .cpg, no code page in the .dbf" : "CSV");
    return rep->encoding ? PM_OK : oom(ctx);
  }
  return pm_error(ctx, PM_EINPUT,
                  "%s: the attribute text is neither UTF-8 nor GBK/GB18030 and no encoding is "
                  "declared; give it with --encoding (e.g. BIG5, CP1252, ISO-8859-1)",
                  o->path);
}

/* ---- CRS ---- */

static pm_status source_crs_text(ingest *g, char **def);

/* The source CRS's definition, and whether its coordinates are degrees. */
static pm_status source_crs_definition(ingest *g, char **def) {
  pm_status st = source_crs_text(g, def);
  if (!st) g->geographic = pm_crs_is_geographic(g->ctx, *def);
  return st;
}

static pm_status source_crs_text(ingest *g, char **def) {
  *def = NULL;
  const pm_ingest_options *o = g->opt;
  if (o->src_crs) {
    if (!*o->src_crs)
      return pm_error(g->ctx, PM_ECRS, "%s: --src-crs is empty; give e.g. EPSG:4326 or gcj02",
                      o->path);
    return pm_strdup(g->ctx, def, o->src_crs);
  }
  OGRSpatialReferenceH srs = g->x_idx >= 0 ? NULL : OGR_L_GetSpatialRef(g->lyr);
  if (!srs) {
    if (g->x_idx >= 0)
      return pm_error(g->ctx, PM_ECRS,
                      "%s: coordinates from columns %s/%s carry no CRS; say which with --src-crs "
                      "(EPSG:4326 for GPS/WGS 84 lon/lat, gcj02 for Amap/Tencent, bd09 for Baidu)",
                      o->path, o->x_field, o->y_field);
    return pm_error(g->ctx, PM_ECRS,
                    "%s: the layer has no CRS%s; give it with --src-crs (e.g. EPSG:4326 for "
                    "lon/lat, gcj02 for Amap/Tencent coordinates)",
                    o->path, g->is_shapefile ? " (the .prj file is missing)" : "");
  }
  const char *auth = OSRGetAuthorityName(srs, NULL);
  const char *code = OSRGetAuthorityCode(srs, NULL);
  if (auth && code && strcasecmp(auth, "EPSG") == 0) return pm_asprintf(g->ctx, def, "EPSG:%s", code);
  char *wkt = NULL;
  const char *wopts[] = {"FORMAT=WKT2_2019", NULL};
  if (OSRExportToWktEx(srs, &wkt, wopts) != OGRERR_NONE || !wkt) {
    CPLFree(wkt);
    return pm_error(g->ctx, PM_ECRS,
                    "%s: the layer's CRS cannot be read (%s); give it with --src-crs (e.g. "
                    "EPSG:4326)",
                    o->path, gdal_msg("invalid definition"));
  }
  pm_status st = pm_strdup(g->ctx, def, wkt);
  CPLFree(wkt);
  return st;
}

/* A coordinate as a table writes it: a decimal number (no hex, no inf or nan), blanks around. */
static int coordinate(const char *s, double *v) {
  char buf[64];
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  if (n == 0 || n >= sizeof buf) return 0;
  memcpy(buf, s, n);
  buf[n] = '\0';
  return pm__parse_decimal(buf, 0, v);
}

/* Longitude and latitude must be on the globe: 540 would land the point 6,000 km away. */
static pm_status check_degrees(ingest *g, OGRFeatureH f, double x, double y) {
  if (!g->geographic || (fabs(x) <= 180 && fabs(y) <= 90)) return PM_OK;
  char ref[48];
  return pm_error(g->ctx, PM_EINPUT,
                  "%s: %s: %s = %.10g, %s = %.10g is not a longitude and latitude on the globe "
                  "([-180, 180] x [-90, 90] degrees, as the source CRS %s is in degrees); check "
                  "that --x %s is the longitude column and --y %s the latitude one, fix the row "
                  "or leave it out with --where",
                  g->opt->path, feature_ref(g, OGR_F_GetFID(f), ref, sizeof ref), g->opt->x_field,
                  x, g->opt->y_field, y, g->opt->src_crs ? g->opt->src_crs : "", g->opt->x_field,
                  g->opt->y_field);
}

static pm_status read_xy(ingest *g, OGRFeatureH f, double *x, double *y, int *empty) {
  *empty = 0;
  int idx[2] = {g->x_idx, g->y_idx};
  double *v[2] = {x, y};
  for (int k = 0; k < 2; k++) {
    if (!OGR_F_IsFieldSetAndNotNull(f, idx[k])) {
      *empty = 1;
      return PM_OK;
    }
    /* A column GDAL typed as a number holds the double its text parses to: read that (exact;
     * the field's text would be reformatted to 15 digits), and only parse text columns. */
    OGRFieldType t = OGR_Fld_GetType(OGR_F_GetFieldDefnRef(f, idx[k]));
    if (t == OFTReal || t == OFTInteger || t == OFTInteger64) {
      *v[k] = OGR_F_GetFieldAsDouble(f, idx[k]);
      if (isfinite(*v[k])) continue;
    }
    const char *s = OGR_F_GetFieldAsString(f, idx[k]);
    while (*s == ' ' || *s == '\t') s++;
    if (!*s) {
      *empty = 1;
      return PM_OK;
    }
    if (!coordinate(s, v[k])) {
      char ref[48];
      return pm_error(g->ctx, PM_EINPUT,
                      "%s: %s: field %s is '%s', not a decimal number; fix the row or leave it out "
                      "with --where",
                      g->opt->path, feature_ref(g, OGR_F_GetFID(f), ref, sizeof ref),
                      k ? g->opt->y_field : g->opt->x_field, s);
    }
  }
  return check_degrees(g, f, *x, *y);
}

/* Centre of the source layer in WGS 84 lon/lat, for the automatic UTM zone. */
static pm_status layer_centre(ingest *g, const char *src_def, double *lon, double *lat) {
  double cx, cy;
  if (g->x_idx >= 0) {
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    OGRFeatureH f;
    GIntBig last = -1;
    OGR_L_ResetReading(g->lyr);
    pm_status st = PM_OK;
    while (!st && !(st = read_next(g, &last, &f)) && f) {
      double x, y;
      int empty;
      st = read_xy(g, f, &x, &y, &empty);
      if (!st && !empty) {
        minx = fmin(minx, x);
        maxx = fmax(maxx, x);
        miny = fmin(miny, y);
        maxy = fmax(maxy, y);
      }
      OGR_F_Destroy(f);
    }
    OGR_L_ResetReading(g->lyr);
    if (st) return st;
    if (!isfinite(minx))
      return pm_error(g->ctx, PM_EINPUT, "%s: no feature has coordinates, so the project CRS "
                      "cannot be chosen; give --crs", g->opt->path);
    cx = (minx + maxx) / 2;
    cy = (miny + maxy) / 2;
  } else {
    OGREnvelope env;
    if (OGR_L_GetExtent(g->lyr, &env, TRUE) != OGRERR_NONE)
      return pm_error(g->ctx, PM_EINPUT, "%s: the layer is empty, so the project CRS cannot be "
                      "chosen; give --crs", g->opt->path);
    cx = (env.MinX + env.MaxX) / 2;
    cy = (env.MinY + env.MaxY) / 2;
  }
  pm_transform *tr = NULL;
  pm_status st = pm_transform_create(g->ctx, src_def, 4326, &tr);
  if (!st) st = pm_transform_xy(tr, &cx, &cy);
  pm_transform_destroy(tr);
  if (st) return pm_error_prefix(g->ctx, "%s: ", g->opt->path);
  *lon = cx;
  *lat = cy;
  return PM_OK;
}

pm_status pm_ingest_auto_epsg(pm_context *ctx, const pm_ingest_options *opt, int *epsg) {
  *epsg = 0;
  GDALAllRegister();
  ingest g = {.ctx = ctx, .opt = opt, .h = pm_context_geos(ctx)};
  pm_ingest_report rep = {0};
  g.rep = &rep;
  char *def = NULL;
  double lon = 0, lat = 0;
  CPLPushErrorHandler(CPLQuietErrorHandler);
  pm_status st = check_files(ctx, opt);
  if (!st) st = open_dataset(&g);
  if (!st) st = setup_fields(&g);
  if (!st) st = source_crs_definition(&g, &def);
  if (!st) st = layer_centre(&g, def, &lon, &lat);
  if (!st) st = pm_crs_utm_epsg(lon, lat, epsg);
  CPLPopErrorHandler();
  free(def);
  ingest_free(&g);
  pm_ingest_report_clear(&rep);
  return st;
}

/* ---- geometry ---- */

static pm_geom_kind kind_of_ogr(OGRwkbGeometryType t) {
  switch (wkbFlatten(t)) {
  case wkbPoint:
  case wkbMultiPoint: return PM_KIND_POINT;
  case wkbLineString:
  case wkbMultiLineString:
  case wkbCircularString:
  case wkbCompoundCurve:
  case wkbMultiCurve: return PM_KIND_LINE;
  case wkbPolygon:
  case wkbMultiPolygon:
  case wkbCurvePolygon:
  case wkbMultiSurface: return PM_KIND_POLYGON;
  default: return PM_KIND_NONE;
  }
}

static pm_geom_kind kind_of_geos(GEOSContextHandle_t h, const GEOSGeometry *g) {
  switch (GEOSGeomTypeId_r(h, g)) {
  case GEOS_POINT:
  case GEOS_MULTIPOINT: return PM_KIND_POINT;
  case GEOS_LINESTRING:
  case GEOS_LINEARRING:
  case GEOS_MULTILINESTRING: return PM_KIND_LINE;
  case GEOS_POLYGON:
  case GEOS_MULTIPOLYGON: return PM_KIND_POLYGON;
  default: return PM_KIND_NONE;
  }
}

/* Layers whose type the source does not say (GeoJSON, CSV with WKT, mixed GeoPackage): the first
 * geometry decides the kind; a point layer is stored as MULTIPOINT when any feature is one. */
static pm_status scan_kind(ingest *g) {
  OGRFeatureH f;
  GIntBig last = -1;
  pm_status st;
  OGR_L_ResetReading(g->lyr);
  while (!(st = read_next(g, &last, &f)) && f) {
    OGRGeometryH og = OGR_F_GetGeometryRef(f);
    if (og && !OGR_G_IsEmpty(og)) {
      OGRwkbGeometryType t = OGR_G_GetGeometryType(og);
      if (g->kind == PM_KIND_NONE) g->kind = kind_of_ogr(t);
      if (g->kind == PM_KIND_POINT && wkbFlatten(t) == wkbMultiPoint) g->multipoint = 1;
    }
    OGR_F_Destroy(f);
    if (g->kind != PM_KIND_NONE && g->kind != PM_KIND_POINT) break;
  }
  OGR_L_ResetReading(g->lyr);
  if (st) return st;
  if (g->kind == PM_KIND_NONE)
    return pm_error(g->ctx, PM_EINPUT,
                    "%s: no feature has a point, line or polygon geometry%s; for a table with "
                    "coordinate columns give --x and --y",
                    g->opt->path, g->opt->where ? " that passes the filter" : "");
  return PM_OK;
}

/* Keep the parts of g of the layer's kind (MakeValid may return a collection with stray lines or
 * points), as one multi geometry. Takes ownership of geom; *out is NULL when nothing is left, and
 * then *why may say why. */
static pm_status keep_kind(ingest *g, GEOSGeometry *geom, GEOSGeometry **out, const char **why) {
  GEOSContextHandle_t h = g->h;
  *out = NULL;
  int want_multi = g->kind == PM_KIND_LINE ? GEOS_MULTILINESTRING
                   : g->kind == PM_KIND_POLYGON ? GEOS_MULTIPOLYGON
                                                : (g->multipoint ? GEOS_MULTIPOINT : GEOS_POINT);
  int t = GEOSGeomTypeId_r(h, geom);
  if (t == want_multi) {
    *out = geom;
    return PM_OK;
  }
  if (want_multi == GEOS_POINT) {
    if (t == GEOS_MULTIPOINT && GEOSGetNumGeometries_r(h, geom) == 1) {
      *out = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, geom, 0));
      GEOSGeom_destroy_r(h, geom);
      return *out ? PM_OK : oom(g->ctx);
    }
    if (t == GEOS_MULTIPOINT) *why = "a multi-point in a layer of single points";
    GEOSGeom_destroy_r(h, geom);
    return PM_OK;
  }
  /* Collect the parts of the right kind. */
  int n = GEOSGetNumGeometries_r(h, geom);
  GEOSGeometry **parts = malloc(sizeof *parts * (size_t)(n > 0 ? n : 1));
  if (!parts) {
    GEOSGeom_destroy_r(h, geom);
    return oom(g->ctx);
  }
  unsigned k = 0;
  for (int i = 0; i < n; i++) {
    const GEOSGeometry *p = GEOSGetGeometryN_r(h, geom, i);
    if (GEOSisEmpty_r(h, p) == 1) continue;
    int pt = GEOSGeomTypeId_r(h, p);
    int is_multi = pt == GEOS_MULTILINESTRING || pt == GEOS_MULTIPOLYGON || pt == GEOS_MULTIPOINT;
    int np = is_multi ? GEOSGetNumGeometries_r(h, p) : 1;
    for (int j = 0; j < np; j++) {
      const GEOSGeometry *q = is_multi ? GEOSGetGeometryN_r(h, p, j) : p;
      if (kind_of_geos(h, q) != g->kind || GEOSisEmpty_r(h, q) == 1) continue;
      GEOSGeometry **grown = realloc(parts, sizeof *parts * (k + 1));
      if (!grown) {
        for (unsigned m = 0; m < k; m++) GEOSGeom_destroy_r(h, parts[m]);
        free(parts);
        GEOSGeom_destroy_r(h, geom);
        return oom(g->ctx);
      }
      parts = grown;
      if (!(parts[k] = GEOSGeom_clone_r(h, q))) {
        for (unsigned m = 0; m < k; m++) GEOSGeom_destroy_r(h, parts[m]);
        free(parts);
        GEOSGeom_destroy_r(h, geom);
        return oom(g->ctx);
      }
      k++;
    }
  }
  GEOSGeom_destroy_r(h, geom);
  if (k == 0) {
    free(parts);
    return PM_OK;
  }
  *out = GEOSGeom_createCollection_r(h, want_multi, parts, k);
  if (!*out)
    for (unsigned m = 0; m < k; m++) GEOSGeom_destroy_r(h, parts[m]);
  free(parts);
  return *out ? PM_OK : oom(g->ctx);
}

/* Validate and, when needed, repair; *geom is replaced. *repaired tells what happened. */
static pm_status validate(ingest *g, GEOSGeometry **geom, int *repaired, const char **why) {
  GEOSContextHandle_t h = g->h;
  *repaired = 0;
  *why = NULL;
  if (GEOSisEmpty_r(h, *geom) == 1) {
    *why = "empty geometry";
    return PM_OK;
  }
  char valid = GEOSisValid_r(h, *geom);
  if (valid == 1) return PM_OK;
  /* STRUCTURE keeps polygon area: self-intersections become the union of the rings' areas. */
  GEOSMakeValidParams *p = GEOSMakeValidParams_create_r(h);
  if (!p) return oom(g->ctx);
  GEOSMakeValidParams_setMethod_r(h, p, g->kind == PM_KIND_POLYGON ? GEOS_MAKE_VALID_STRUCTURE
                                                                    : GEOS_MAKE_VALID_LINEWORK);
  GEOSMakeValidParams_setKeepCollapsed_r(h, p, 0);
  GEOSGeometry *fixed = GEOSMakeValidWithParams_r(h, *geom, p);
  GEOSMakeValidParams_destroy_r(h, p);
  if (!fixed || GEOSisEmpty_r(h, fixed) == 1) {
    if (fixed) GEOSGeom_destroy_r(h, fixed);
    *why = "invalid and not repairable (collapses to nothing)";
    return PM_OK;
  }
  GEOSGeom_destroy_r(h, *geom);
  *geom = fixed;
  *repaired = 1;
  return PM_OK;
}

/* ---- the write pass ---- */

/* The source geometry of f as GEOS (2D, curves linearised), or NULL with *why (which may point
 * into g->why_buf). Unclosed polygon rings are closed, which counts as a repair. */
static pm_status source_geom(ingest *g, OGRFeatureH f, GEOSGeometry **out, int *closed,
                             const char **why) {
  *out = NULL;
  *closed = 0;
  OGRGeometryH og = OGR_F_GetGeometryRef(f);
  if (!og) {
    *why = "no geometry";
    return PM_OK;
  }
  if (OGR_G_IsEmpty(og)) {
    *why = "empty geometry";
    return PM_OK;
  }
  OGRGeometryH lin = OGR_G_HasCurveGeometry(og, TRUE) ? OGR_G_GetLinearGeometry(og, 0, NULL)
                                                      : OGR_G_Clone(og);
  if (!lin) {
    *why = "unreadable curve geometry";
    return PM_OK;
  }
  OGR_G_FlattenTo2D(lin);
  if (kind_of_ogr(OGR_G_GetGeometryType(lin)) == PM_KIND_POLYGON ||
      wkbFlatten(OGR_G_GetGeometryType(lin)) == wkbGeometryCollection) {
    int before = OGR_G_WkbSize(lin);
    OGR_G_CloseRings(lin);
    *closed = OGR_G_WkbSize(lin) != before;
  }
  int len = OGR_G_WkbSize(lin);
  unsigned char *buf = len > 0 ? malloc((size_t)len) : NULL;
  pm_status st = PM_OK;
  if (len <= 0) {
    *why = "unreadable geometry";
  } else if (!buf) {
    st = oom(g->ctx);
  } else if (OGR_G_ExportToIsoWkb(lin, wkbNDR, buf) != OGRERR_NONE) {
    *why = "unreadable geometry";
  } else if (!(*out = GEOSWKBReader_read_r(g->h, g->wkb_in, buf, (size_t)len))) {
    /* e.g. a ring of 2 points left by clipping an OSM extract: nothing to repair from */
    snprintf(g->why_buf, sizeof g->why_buf, "degenerate geometry, not repairable (%.200s)",
             pm__context_geos_message(g->ctx));
    *why = g->why_buf;
  }
  free(buf);
  OGR_G_DestroyGeometry(lin);
  return st;
}

/* A coordinate PROJ cannot transform: the feature named, and the likely cause. */
static void transform_error(ingest *g, GIntBig src_fid, pm_status st) {
  pm_context *ctx = g->ctx;
  const pm_ingest_options *o = g->opt;
  char ref[48];
  pm_error_prefix(ctx, "%s: %s: ", o->path, feature_ref(g, src_fid, ref, sizeof ref));
  if (g->x_idx >= 0) /* the usual cause: columns swapped or a wrong --src-crs */
    pm_error(ctx, st, "%s; check that --x %s is the longitude (easting) column, --y %s the "
             "latitude (northing) one, and that --src-crs %s is their CRS",
             pm_context_message(ctx), o->x_field, o->y_field, o->src_crs ? o->src_crs : "");
  else
    pm_error(ctx, st, "%s; check the layer's CRS or give the right one with --src-crs",
             pm_context_message(ctx));
}

static pm_status reserve_buf(ingest *g, size_t need) {
  if (need <= g->buf_cap) return PM_OK;
  size_t cap = need > 2 * g->buf_cap ? need : 2 * g->buf_cap;
  unsigned char *p = realloc(g->buf, cap);
  if (!p) return oom(g->ctx);
  g->buf = p;
  g->buf_cap = cap;
  return PM_OK;
}

static void put_u32le(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A point from coordinate columns (already transformed) as WKB in g->buf. */
static pm_status point_wkb(ingest *g, const double xy[2], const unsigned char **wkb, size_t *len,
                           double bbox[4]) {
  pm_status st = reserve_buf(g, 21);
  if (st) return st;
  g->buf[0] = 1; /* little-endian */
  put_u32le(g->buf + 1, 1);
  unsigned char *c = g->buf + 5;
  for (int k = 0; k < 2; k++) {
    uint64_t u;
    memcpy(&u, &xy[k], 8);
    for (int i = 0; i < 8; i++) c[8 * k + i] = (unsigned char)(u >> (8 * i));
  }
  *wkb = g->buf;
  *len = 21;
  bbox[0] = bbox[2] = xy[0];
  bbox[1] = bbox[3] = xy[1];
  return PM_OK;
}

/* The fast way, for the features that need nothing GEOS would do: a plain point, line or polygon
 * (or multi) of the layer's kind straight from OGR's WKB, transformed in place, checked as GEOS
 * would check it (GEOS judges polygons), and a single part wrapped as the layer's multi type: the
 * same WKB the general way writes, without building GEOS geometries. *fast = 0 leaves the feature
 * to the general way (source_geom, then GEOS), which also makes every repair and drop decision. */
static pm_status fast_geometry(ingest *g, OGRFeatureH f, GIntBig src_fid, int *fast,
                               const unsigned char **wkb, size_t *len, double bbox[4]) {
  *fast = 0;
  OGRGeometryH og = OGR_F_GetGeometryRef(f);
  if (!og || OGR_G_Is3D(og) || OGR_G_IsMeasured(og)) return PM_OK;
  OGRwkbGeometryType t = OGR_G_GetGeometryType(og);
  if (t < wkbPoint || t > wkbMultiPolygon || kind_of_ogr(t) != g->kind || OGR_G_IsEmpty(og))
    return PM_OK;
  int size = OGR_G_WkbSize(og);
  if (size <= 0) return PM_OK;
  pm_status st = reserve_buf(g, (size_t)size + 9);
  if (st) return st;
  unsigned char *w = g->buf + 9;
  if (OGR_G_ExportToIsoWkb(og, wkbNDR, w) != OGRERR_NONE) return PM_OK;
  int plain = pm__wkb_scan(w, (size_t)size, &g->shape);
  if (plain < 0) return oom(g->ctx);
  if (!plain) return PM_OK;
  const pm__wkb_shape *sh = &g->shape;
  /* What keep_kind would make of it: the layer's multi type, or a single point. */
  uint32_t wrap = 0;
  const unsigned char *out = w;
  size_t out_len = (size_t)size;
  if (g->kind == PM_KIND_POINT && !g->multipoint) {
    if (sh->type == 4) {
      if (sh->n_parts != 1) return PM_OK; /* a multi-point in a layer of single points */
      out = w + sh->first_part;
      out_len = 21;
    }
  } else if (sh->type <= 3) {
    wrap = (uint32_t)sh->type + 3;
  }
  st = pm__wkb_transform(g->ctx, w, sh, g->tr, &g->scratch, &g->scratch_cap);
  if (st == PM_ENOMEM) return st;
  if (st) {
    transform_error(g, src_fid, st);
    return st;
  }
  if (g->kind == PM_KIND_POLYGON) {
    if (pm__wkb_certainly_valid_ring(w, sh, bbox)) goto valid; /* most parcels, parks, blocks */
    GEOSGeometry *geom = GEOSWKBReader_read_r(g->h, g->wkb_in, w, (size_t)size);
    char valid = geom ? GEOSisValid_r(g->h, geom) : 0;
    if (geom) GEOSGeom_destroy_r(g->h, geom);
    if (valid != 1) return PM_OK; /* repaired (or dropped) the general way */
    pm__wkb_bbox(w, sh, bbox);
  } else if (!pm__wkb_valid_points_lines(w, sh, bbox)) {
    return PM_OK;
  }
valid:
  if (wrap) {
    g->buf[0] = 1;
    put_u32le(g->buf + 1, wrap);
    put_u32le(g->buf + 5, 1);
    out = g->buf;
    out_len = (size_t)size + 9;
  }
  *wkb = out;
  *len = out_len;
  *fast = 1;
  return PM_OK;
}

static pm_status write_features(ingest *g, double *ext) {
  pm_context *ctx = g->ctx;
  GEOSContextHandle_t h = g->h;
  const pm_ingest_options *o = g->opt;
  pm_value *vals = calloc(g->n_fields + 1, sizeof *vals);
  char **texts = calloc(g->n_fields + 1, sizeof *texts);
  if (!vals || !texts) {
    free(vals);
    free(texts);
    return oom(ctx);
  }
  GIntBig total = OGR_L_GetFeatureCount(g->lyr, FALSE);
  char label[128];
  snprintf(label, sizeof label, "ingest %s", o->as);
  int64_t last_fid = -1;
  OGRFeatureH f;
  char ref[48];
  OGR_L_ResetReading(g->lyr);
  feature_reader *rdp = calloc(1, sizeof *rdp); /* ~70 KB: not on the stack */
  if (!rdp) {
    free(vals);
    free(texts);
    return oom(ctx);
  }
  feature_reader *rd = rdp;
  pm_status st = reader_start(g, rd);
  while (!st && !(st = reader_next(rd, &f)) && f) {
    GIntBig src_fid = OGR_F_GetFID(f);
    g->rep->n_read++;
    if ((g->rep->n_read & 1023) == 0)
      pm_progress(ctx, label, (uint64_t)g->rep->n_read, total > 0 ? (uint64_t)total : 0);
    GEOSGeometry *geom = NULL;
    const char *why = NULL;
    int repaired = 0, fast = 0;
    const unsigned char *wkb_out = NULL; /* the fast way's WKB (in g->buf) */
    size_t wkb_len = 0;
    double bbox[4];
    if (g->x_idx >= 0) {
      double xy[2] = {0, 0};
      int empty = 0;
      st = read_xy(g, f, &xy[0], &xy[1], &empty);
      if (!st && empty) why = "no coordinates";
      if (!st && !empty) {
        st = pm_transform_points(g->tr, xy, 1);
        if (st) transform_error(g, src_fid, st);
        else st = point_wkb(g, xy, &wkb_out, &wkb_len, bbox);
        fast = !st;
      }
    } else {
      st = fast_geometry(g, f, src_fid, &fast, &wkb_out, &wkb_len, bbox);
      if (!st && !fast) st = source_geom(g, f, &geom, &repaired, &why);
    }
    /* The general way: kind check, transformation, validation and repair with GEOS. */
    if (!st && geom && !why) {
      pm_geom_kind k = kind_of_geos(h, geom);
      if (k == PM_KIND_NONE && GEOSGeomTypeId_r(h, geom) == GEOS_GEOMETRYCOLLECTION)
        k = g->kind; /* a collection: keep_kind extracts the matching parts */
      if (k != g->kind) why = k == PM_KIND_POINT ? "a point in a layer of other shapes"
                              : k == PM_KIND_LINE ? "a line in a layer of other shapes"
                                                  : "a polygon in a layer of other shapes";
    }
    if (!st && geom && !why) {
      GEOSGeometry *t = NULL;
      st = pm_transform_geom(g->tr, geom, &t);
      if (st) {
        transform_error(g, src_fid, st);
      } else {
        GEOSGeom_destroy_r(h, geom);
        geom = t;
      }
    }
    if (!st && geom && !why) {
      int fixed = 0;
      st = validate(g, &geom, &fixed, &why);
      repaired |= fixed;
    }
    if (!st && geom && !why) {
      GEOSGeometry *kept = NULL;
      st = keep_kind(g, geom, &kept, &why);
      geom = kept;
      if (!st && !geom && !why)
        why = repaired ? "repair left nothing of the layer's shape" : "empty geometry";
    }
    if (!st && why) {
      if (geom) GEOSGeom_destroy_r(h, geom);
      geom = NULL;
      st = note_dropped(g, src_fid, why);
      reader_release(rd, f);
      continue;
    }
    if (!st && repaired) {
      char id[32];
      snprintf(id, sizeof id, "%lld", (long long)src_fid);
      st = list_append(ctx, &g->rep->repaired_ids, &g->repaired_len, g->rep->n_repaired, id);
      g->rep->n_repaired++;
    }
    /* Attributes. */
    for (size_t i = 0; !st && i < g->n_fields; i++) {
      int si = g->src_idx[i];
      pm_value *v = &vals[i];
      memset(v, 0, sizeof *v);
      if (g->raw_col[i] >= 0) { /* a CSV number kept as the file's text */
        v->s = raw_value(g, i, (int64_t)src_fid);
        v->is_null = v->s == NULL;
        continue;
      }
      if (!OGR_F_IsFieldSetAndNotNull(f, si)) {
        v->is_null = 1;
        continue;
      }
      switch (g->fields[i].type) {
      case PM_FIELD_INTEGER: v->i = OGR_F_GetFieldAsInteger64(f, si); break;
      case PM_FIELD_REAL: v->d = OGR_F_GetFieldAsDouble(f, si); break;
      case PM_FIELD_TEXT: {
        const char *s = OGR_F_GetFieldAsString(f, si);
        if (g->decode) {
          st = pm_recode_to_utf8(ctx, s, g->decode, &texts[i]);
          if (st)
            pm_error(ctx, PM_EINPUT,
                     "%s: %s, field %s: the text is not valid %s; give the file's real encoding "
                     "with --encoding (e.g. GBK, GB18030, UTF-8, BIG5)",
                     o->path, feature_ref(g, src_fid, ref, sizeof ref), g->fields[i].name,
                     g->decode);
          v->s = texts[i];
        } else if (!pm_utf8_valid(s, strlen(s))) {
          st = pm_error(ctx, PM_EINPUT,
                        "%s: %s, field %s: the text is not valid UTF-8; give the file's encoding "
                        "with --encoding (e.g. GBK)",
                        o->path, feature_ref(g, src_fid, ref, sizeof ref), g->fields[i].name);
        } else {
          v->s = s;
        }
        break;
      }
      }
    }
    if (!st) {
      size_t len = wkb_len;
      unsigned char *gwkb = NULL;
      if (!fast) {
        gwkb = GEOSWKBWriter_write_r(h, g->wkb_out, geom, &len);
        if (!gwkb)
          st = pm_error(ctx, PM_EGEOM, "%s: %s: cannot encode geometry (%s)", o->path,
                        feature_ref(g, src_fid, ref, sizeof ref), pm__context_geos_message(ctx));
        wkb_out = gwkb;
        if (!(GEOSGeom_getXMin_r(h, geom, &bbox[0]) && GEOSGeom_getYMin_r(h, geom, &bbox[1]) &&
              GEOSGeom_getXMax_r(h, geom, &bbox[2]) && GEOSGeom_getYMax_r(h, geom, &bbox[3])))
          bbox[0] = NAN; /* no extent to add */
      }
      /* Keep the source FID as the stored fid while it increases (Shapefile, CSV, GeoPackage), so a
       * planner finds the same feature in QGIS; otherwise number on. */
      int64_t fid = (src_fid != OGRNullFID && src_fid > last_fid) ? (int64_t)src_fid : last_fid + 1;
      if (!st) st = pm_layer_writer_add(g->writer, fid, wkb_out, len, vals);
      if (gwkb) GEOSFree_r(h, gwkb);
      last_fid = fid;
      if (!st) {
        if (!isnan(bbox[0])) {
          ext[0] = fmin(ext[0], bbox[0]);
          ext[1] = fmin(ext[1], bbox[1]);
          ext[2] = fmax(ext[2], bbox[2]);
          ext[3] = fmax(ext[3], bbox[3]);
        }
        g->rep->n_stored++;
      }
    }
    for (size_t i = 0; i < g->n_fields; i++) {
      free(texts[i]);
      texts[i] = NULL;
    }
    if (geom) GEOSGeom_destroy_r(h, geom);
    reader_release(rd, f);
  }
  reader_stop(rd);
  free(rdp);
  free(vals);
  free(texts);
  if (!st && total > 0 && !(o->where && *o->where) && g->rep->n_read < total && g->is_shapefile)
    st = pm_error(ctx, PM_EIO,
                  "%s: only %lld of the %lld features in the index could be read; the .shp looks "
                  "truncated (re-copy the shapefile)",
                  o->path, (long long)g->rep->n_read, (long long)total);
  if (!st) pm_progress(ctx, label, (uint64_t)g->rep->n_read, (uint64_t)g->rep->n_read);
  return st;
}

/* The project CRS: the one fixed already, or --crs, or the UTM zone of this layer's centre. */
static pm_status project_srid(ingest *g, const char *src_def, int *srid) {
  const pm_ingest_options *opt = g->opt;
  pm_context *ctx = g->ctx;
  pm_store_crs(g->store, srid, NULL);
  if (opt->crs) {
    int want = 0;
    pm_status st = pm_crs_metric_epsg(ctx, opt->crs, &want);
    if (st) return pm_error_prefix(ctx, "%s: --crs: ", opt->path);
    if (*srid && want != *srid)
      return pm_error(ctx, PM_ECRS,
                      "%s: the project's CRS is EPSG:%d, fixed when it was created; --crs "
                      "EPSG:%d cannot change it (leave out --crs, or use a new --db)",
                      pm_store_path(g->store), *srid, want);
    *srid = want;
    return PM_OK;
  }
  if (*srid) return PM_OK;
  double lon, lat;
  pm_status st = layer_centre(g, src_def, &lon, &lat);
  if (!st) st = pm_crs_utm_epsg(lon, lat, srid);
  return st;
}

pm_status pm_ingest(pm_context *ctx, pm_store *store, const pm_ingest_options *opt,
                    pm_ingest_report *rep) {
  memset(rep, 0, sizeof *rep);
  GDALAllRegister();
  pm_status st = pm_store_check_layer_name(ctx, opt->as);
  if (!st) st = pm__store_check_layer_write(store, opt->as); /* before reading: fail early */
  if (st) return st;
  ingest g = {.ctx = ctx, .store = store, .opt = opt, .rep = rep, .h = pm_context_geos(ctx)};
  char *src_def = NULL, *hash = NULL, *options = NULL;
  CPLPushErrorHandler(CPLQuietErrorHandler);
  st = check_files(ctx, opt);
  if (!st) csv_pre_start(&g); /* reads beside GDAL's type detection in open_dataset */
  if (!st) st = open_dataset(&g);
  if (!st) st = setup_fields(&g);
  if (!st) st = choose_encoding(&g);
  if (!st) st = source_crs_definition(&g, &src_def);
  int srid = 0;
  if (!st) st = project_srid(&g, src_def, &srid);
  if (!st) {
    st = pm_transform_create(ctx, src_def, srid, &g.tr);
    if (st) pm_error_prefix(ctx, "%s: %s", opt->path, opt->src_crs ? "--src-crs: " : "");
  }
  if (!st && !(rep->source_crs = strdup(pm_transform_source_name(g.tr)))) st = oom(ctx);
  if (!st) {
    g.kind = g.x_idx >= 0 ? PM_KIND_POINT : kind_of_ogr(OGR_L_GetGeomType(g.lyr));
    g.multipoint = g.x_idx < 0 && wkbFlatten(OGR_L_GetGeomType(g.lyr)) == wkbMultiPoint;
    if (g.kind == PM_KIND_NONE) st = scan_kind(&g);
  }
  if (!st) st = csv_keep_text(&g);
  if (!st) {
    g.wkb_in = GEOSWKBReader_create_r(g.h);
    g.wkb_out = GEOSWKBWriter_create_r(g.h);
    if (!g.wkb_in || !g.wkb_out) st = oom(ctx);
    else GEOSWKBWriter_setOutputDimension_r(g.h, g.wkb_out, 2);
  }
  hash_job hj;
  int hashing = 0;
  if (!st) st = hash_start(ctx, opt->path, &hj);
  if (!st) hashing = 1;
  if (!st) st = pm_ingest_options_string(ctx, opt, &options);

  int began = 0;
  if (!st) st = pm_store_begin(store);
  if (!st) began = 1;
  if (!st) st = pm_store_set_crs(store, srid);
  if (!st) st = pm_store_layer_create(store, opt->as, g.kind, g.multipoint, g.fields, g.n_fields,
                                      &g.writer);
  double ext[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
  if (!st) st = write_features(&g, ext);
  if (!st) st = pm_layer_writer_finish(g.writer);
  if (hashing) {
    pm_status hs = hash_finish(ctx, &hj, st ? NULL : &hash);
    hashing = 0;
    if (!st) st = hs;
  }
  if (!st) {
    char now[32];
    pm_utc_now(now, sizeof now);
    pm_layer_info info = {
        .name = (char *)opt->as,
        .kind = g.kind,
        .geometry_type = (char *)(g.kind == PM_KIND_POINT ? (g.multipoint ? "MULTIPOINT" : "POINT")
                                  : g.kind == PM_KIND_LINE ? "MULTILINESTRING"
                                                           : "MULTIPOLYGON"),
        .source_path = (char *)opt->path,
        .source_layer = (char *)(opt->source_layer ? opt->source_layer : OGR_L_GetName(g.lyr)),
        .source_hash = hash,
        .source_crs = rep->source_crs,
        .encoding = rep->encoding,
        .filter = (char *)opt->where,
        .options = options,
        .n_read = rep->n_read,
        .n_stored = rep->n_stored,
        .n_repaired = rep->n_repaired,
        .n_dropped = rep->n_dropped,
        .repaired_ids = rep->repaired_ids,
        .dropped_ids = rep->dropped_ids,
        .minx = isfinite(ext[0]) ? ext[0] : NAN,
        .miny = isfinite(ext[1]) ? ext[1] : NAN,
        .maxx = isfinite(ext[2]) ? ext[2] : NAN,
        .maxy = isfinite(ext[3]) ? ext[3] : NAN,
        .ingested_at = now,
    };
    st = pm_store_put_layer_info(store, &info);
  }
  if (hashing) hash_finish(ctx, &hj, NULL);
  if (!st) st = pm_store_commit(store);
  else if (began) pm_store_rollback(store);
  CPLPopErrorHandler();
  if (!st && rep->n_stored == 0)
    pm_notice(ctx, "%s: layer '%s' is empty: %s", opt->path, opt->as,
              opt->where && *opt->where && rep->n_read == 0
                  ? "no feature passed the --where filter (check the field values)"
                  : "no feature has a usable geometry");
  free(src_def);
  free(hash);
  free(options);
  ingest_free(&g);
  return st;
}

pm_status pm_ingest_if_changed(pm_context *ctx, pm_store *store, const pm_ingest_options *opt,
                               pm_ingest_report *rep) {
  memset(rep, 0, sizeof *rep);
  pm_layer_info info;
  int found = 0;
  pm_status st = pm_store_layer_info(store, opt->as, &info, &found);
  if (st) return st;
  if (found) {
    char *hash = NULL, *options = NULL;
    st = check_files(ctx, opt);
    if (!st) st = pm_source_hash(ctx, opt->path, &hash);
    if (!st) st = pm_ingest_options_string(ctx, opt, &options);
    /* the same layer spelled in another case is not skipped: pm_ingest refuses it */
    int same = !st && info.source_hash && info.options && strcmp(hash, info.source_hash) == 0 &&
               strcmp(info.name, opt->as) == 0 &&
               strcmp(options, info.options) == 0 && strcmp(hash, "directory") != 0;
    free(hash);
    free(options);
    if (same) {
      rep->skipped = 1;
      rep->n_read = info.n_read;
      rep->n_stored = info.n_stored;
      rep->n_repaired = info.n_repaired;
      rep->n_dropped = info.n_dropped;
      if (!st) st = pm_strdup(ctx, &rep->encoding, info.encoding);
      if (!st) st = pm_strdup(ctx, &rep->source_crs, info.source_crs);
      if (!st) st = pm_strdup(ctx, &rep->repaired_ids, info.repaired_ids);
      if (!st) st = pm_strdup(ctx, &rep->dropped_ids, info.dropped_ids);
    }
    pm_layer_info_clear(&info);
    if (st || same) return st;
  }
  return pm_ingest(ctx, store, opt, rep);
}
