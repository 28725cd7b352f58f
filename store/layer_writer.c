/* layer_writer.c: write a layer table in bulk: rows inserted by a thread of the writer's own, many
 * rows per INSERT, as SpatiaLite blobs made in C; the table's triggers set aside during the load;
 * the R*Tree packed once from the envelopes in spatial (STR) order; SpatiaLite's layer statistics
 * from the values written. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <spatialite/gaiageo.h>
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "store/store_internal.h"

/* Why not SQL all the way (INSERT ... GeomFromWKB with SpatiaLite's triggers, then
 * CreateSpatialIndex and UpdateLayerStatistics): measured on the 280,000 features of the bench
 * city (bench/RESULTS.md, "Ingest profile"), the per-row triggers (geometry constraint, timestamp,
 * R*Tree insert) and SQLite's R*Tree insertion one entry at a time (3.5 s for 200,000 roads, sorted
 * or not) took most of the ingest, and the statistics re-read the whole table. The database written
 * here is the same: same rows and blobs, same triggers (their SQL as SpatiaLite made it), an R*Tree
 * with the same entries (rtreecheck() and CheckSpatialIndex() accept it), the same statistics
 * (bench/compare_db.py compares two databases so; tests/test_layer_writer.c compares with
 * SpatiaLite's own inserts, CreateSpatialIndex and UpdateLayerStatistics). */

/* One R*Tree cell: a rowid (leaf) or child node number, and its box as the R*Tree stores it. */
typedef struct rt_cell {
  int64_t id;
  float box[4]; /* xmin, xmax, ymin, ymax */
} rt_cell;

/* What UpdateLayerStatistics records per column (geometry_columns_field_infos). */
typedef struct col_stats {
  int64_t n_null, n_int, n_real, n_text, n_blob;
  int64_t max_size; /* longest text (characters) or blob (bytes); -1 while none */
  int has_i, has_d;
  int64_t imin, imax;
  double dmin, dmax;
} col_stats;

/* Features travel from pm_layer_writer_add to the inserting thread in batches: records of
 * fid (8 bytes), WKB length (4) and bytes, then per field a tag byte and the value (8 bytes for
 * numbers; 4 bytes length, the bytes and a NUL for text). */
enum { TAG_NULL, TAG_INT, TAG_REAL, TAG_TEXT };
#define BATCH_RECORDS 512
#define BATCH_BYTES (1u << 20)
#define N_BATCHES 4      /* in flight: bounds the memory the queue holds */
#define ROWS_PER_INSERT 256

typedef struct batch {
  unsigned char *data;
  size_t len, cap, n;
} batch;

/* A row waiting for its multi-row INSERT: where its values are in the current batch, and its blob. */
typedef struct row_ref {
  const unsigned char *rec; /* the record (fid, wkb, values) in its batch */
  unsigned char *blob;      /* SpatiaLite blob, owned until bound */
  int blob_len;
} row_ref;

struct pm_layer_writer {
  pm_store *store;
  pm_context *ctx;
  sqlite3 *db;
  char *name;
  size_t n_fields;
  pm_field_type *types;
  char **col_names; /* fid, the fields, geom: the table's columns in order */
  size_t *text_len;  /* add's scratch: the length of each text value */
  int srid;
  int gtype;        /* SpatiaLite class of the geometry column (GAIA_POINT ...) */
  pm__store_triggers triggers; /* the table's triggers, set aside until finish */
  int finished;

  /* The inserting thread's: statements, pending rows, what it has seen. */
  sqlite3_stmt *insert_many, *insert_one;
  int64_t max_fid; /* the largest fid inserted so far (valid when has_max) */
  int has_max;
  size_t rows_per_insert;
  row_ref pending[ROWS_PER_INSERT];
  size_t n_pending;
  rt_cell *cells;
  size_t n_cells, cap_cells;
  col_stats *stats; /* one per column */
  double ext[4];

  /* The queue between the caller and the inserting thread. */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int thread_started, sync_ok;
  pthread_t thread;
  batch batches[N_BATCHES];
  size_t q_head, q_len;  /* filled batches waiting, in order, at batches[(q_head + i) % N] */
  int filling;           /* the batch add() writes into (the one after the queue), -1 when none */
  int closing, aborting;
  pm_status failed;      /* the thread's first error, its message in error */
  char error[512];
};

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

static pm_status db_fail(pm_layer_writer *w, const char *what) {
  return pm_error(w->ctx, PM_EDB, "%s: %s of layer '%s' (%s)", pm_store_path(w->store), what,
                  w->name, sqlite3_errmsg(w->db));
}

static const char *sql_type(pm_field_type t) {
  switch (t) {
  case PM_FIELD_INTEGER: return "INTEGER";
  case PM_FIELD_REAL: return "REAL";
  case PM_FIELD_TEXT: break;
  }
  return "TEXT";
}

/* Run a statement that returns one integer (SELECT AddGeometryColumn(...)); *v is that integer. */
static pm_status select_int(pm_layer_writer *w, const char *what, const char *sql, int *v) {
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(w->store, what, sql, &q);
  if (st) return st;
  int rc = sqlite3_step(q);
  *v = rc == SQLITE_ROW ? sqlite3_column_int(q, 0) : 0;
  if (rc != SQLITE_ROW) st = db_fail(w, what);
  sqlite3_finalize(q);
  return st;
}

/* INSERT INTO t (fid, fields..., geom) VALUES (?, ...), ... for `rows` rows. */
static pm_status prepare_insert(pm_layer_writer *w, const pm_field_def *fields, size_t rows,
                                sqlite3_stmt **out) {
  char *tbl = pm__sql_ident(w->name);
  size_t cap = 64 + (tbl ? strlen(tbl) : 0) + rows * (4 * (w->n_fields + 2) + 4);
  for (size_t i = 0; i < w->n_fields; i++) cap += 2 * strlen(fields[i].name) + 4;
  char *sql = malloc(cap);
  if (!tbl || !sql) {
    free(tbl);
    free(sql);
    return oom(w->ctx);
  }
  pm_status st = PM_OK;
  size_t len = (size_t)snprintf(sql, cap, "INSERT INTO %s (fid", tbl);
  for (size_t i = 0; !st && i < w->n_fields; i++) {
    char *col = pm__sql_ident(fields[i].name);
    if (!col) st = oom(w->ctx);
    else len += (size_t)snprintf(sql + len, cap - len, ", %s", col);
    free(col);
  }
  len += (size_t)snprintf(sql + len, cap - len, ", geom) VALUES ");
  for (size_t r = 0; r < rows; r++) {
    len += (size_t)snprintf(sql + len, cap - len, "%s(?", r ? "," : "");
    for (size_t i = 0; i <= w->n_fields; i++) len += (size_t)snprintf(sql + len, cap - len, ",?");
    len += (size_t)snprintf(sql + len, cap - len, ")");
  }
  if (!st) st = pm__store_prepare(w->store, "preparing the layer insert", sql, out);
  free(sql);
  free(tbl);
  return st;
}

static void *insert_thread(void *arg);

pm_status pm_store_layer_create(pm_store *s, const char *name, pm_geom_kind kind, int multipoint,
                                const pm_field_def *fields, size_t n_fields, pm_layer_writer **out) {
  *out = NULL;
  pm_context *ctx = pm_store_context(s);
  if (!pm__store_in_transaction(s))
    return pm_error(ctx, PM_EINTERNAL, "layer written outside a transaction");
  int srid = 0;
  pm_store_crs(s, &srid, NULL);
  if (!srid) return pm_error(ctx, PM_EINTERNAL, "layer written before the project CRS is set");
  pm_status st = pm__store_check_layer_write(s, name);
  if (!st) st = pm_store_drop_layer(s, name);
  if (st) return st;

  pm_layer_writer *w = calloc(1, sizeof *w);
  if (!w) return oom(ctx);
  w->store = s;
  w->ctx = ctx;
  w->db = pm__store_db(s);
  w->srid = srid;
  w->n_fields = n_fields;
  w->filling = -1;
  w->gtype = kind == PM_KIND_POINT ? (multipoint ? GAIA_MULTIPOINT : GAIA_POINT)
             : kind == PM_KIND_LINE ? GAIA_MULTILINESTRING
                                    : GAIA_MULTIPOLYGON;
  w->ext[0] = w->ext[1] = INFINITY;
  w->ext[2] = w->ext[3] = -INFINITY;
  w->name = strdup(name);
  w->types = malloc((n_fields + 1) * sizeof *w->types);
  w->col_names = calloc(n_fields + 2, sizeof *w->col_names);
  w->stats = calloc(n_fields + 2, sizeof *w->stats);
  w->text_len = calloc(n_fields + 1, sizeof *w->text_len);
  if (!w->name || !w->types || !w->col_names || !w->stats || !w->text_len) {
    pm_layer_writer_destroy(w);
    return oom(ctx);
  }
  for (size_t i = 0; i < n_fields + 2; i++) w->stats[i].max_size = -1;
  w->col_names[0] = strdup("fid");
  w->col_names[n_fields + 1] = strdup("geom");
  for (size_t i = 0; i < n_fields; i++) {
    w->types[i] = fields[i].type;
    w->col_names[i + 1] = strdup(fields[i].name);
  }
  for (size_t i = 0; i < n_fields + 2; i++)
    if (!w->col_names[i]) st = oom(ctx);

  /* CREATE TABLE with the attribute columns, then the registered geometry column and its (empty)
   * spatial index, so SpatiaLite makes its metadata, triggers and R*Tree tables itself. */
  size_t cap = 256 + strlen(name) * 2;
  for (size_t i = 0; i < n_fields; i++) cap += strlen(fields[i].name) * 2 + 16;
  char *sql = malloc(cap);
  char *tbl = pm__sql_ident(name);
  if (!st && (!sql || !tbl)) st = oom(ctx);
  size_t len = 0;
  if (!st) len = (size_t)snprintf(sql, cap, "CREATE TABLE %s (fid INTEGER PRIMARY KEY", tbl);
  for (size_t i = 0; !st && i < n_fields; i++) {
    char *col = pm__sql_ident(fields[i].name);
    if (!col) {
      st = oom(ctx);
      break;
    }
    len += (size_t)snprintf(sql + len, cap - len, ", %s %s", col, sql_type(fields[i].type));
    free(col);
  }
  if (!st) {
    snprintf(sql + len, cap - len, ")");
    st = pm__store_exec(s, "creating the layer table", sql);
  }
  const char *gname = w->gtype == GAIA_POINT ? "POINT"
                      : w->gtype == GAIA_MULTIPOINT ? "MULTIPOINT"
                      : w->gtype == GAIA_MULTILINESTRING ? "MULTILINESTRING"
                                                         : "MULTIPOLYGON";
  if (!st) {
    int ok = 0;
    snprintf(sql, cap, "SELECT AddGeometryColumn('%s', 'geom', %d, '%s', 'XY')", name, srid, gname);
    st = select_int(w, "adding the geometry column", sql, &ok);
    if (!st && ok != 1)
      st = pm_error(ctx, PM_EDB, "%s: SpatiaLite refused the geometry column of layer '%s' (EPSG:%d %s)",
                    pm_store_path(s), name, srid, gname);
  }
  if (!st) {
    int ok = 0;
    snprintf(sql, cap, "SELECT CreateSpatialIndex('%s', 'geom')", name);
    st = select_int(w, "creating the spatial index", sql, &ok);
    if (!st && ok != 1) st = db_fail(w, "creating the spatial index");
  }
  free(sql);
  free(tbl);
  /* SpatiaLite's per-row geometry check, insert time and R*Tree insert would run once per row */
  if (!st) st = pm__store_triggers_aside(w->store, w->name, &w->triggers);
  /* Many rows per INSERT: one statement execution (and one b-tree descent) for all of them. */
  if (!st) {
    int max_vars = sqlite3_limit(w->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    size_t rows = (size_t)max_vars / (n_fields + 2);
    w->rows_per_insert = rows < 1 ? 1 : rows > ROWS_PER_INSERT ? ROWS_PER_INSERT : rows;
    st = prepare_insert(w, fields, 1, &w->insert_one);
    if (!st && w->rows_per_insert > 1) st = prepare_insert(w, fields, w->rows_per_insert, &w->insert_many);
  }
  if (!st && (pthread_mutex_init(&w->mu, NULL) != 0 || pthread_cond_init(&w->cv, NULL) != 0))
    st = pm_error(ctx, PM_ENOMEM, "cannot create the layer writer's lock");
  if (!st) w->sync_ok = 1;
  if (!st) {
    if (pthread_create(&w->thread, NULL, insert_thread, w) == 0) w->thread_started = 1;
    else st = pm_error(ctx, PM_ENOMEM, "cannot start the layer writer's thread");
  }
  if (st) {
    pm_layer_writer_destroy(w);
    return st;
  }
  *out = w;
  return PM_OK;
}

/* ---- the inserting thread ---- */

/* The R*Tree keeps 32-bit floats, rounded outwards so the box still holds the geometry; the same
 * rounding as SQLite's rtree module (rtreeValueDown/Up), so the entries are the ones its own
 * insert would store. */
#define RND_TOWARDS (1.0 - 1.0 / 8388608.0)
#define RND_AWAY (1.0 + 1.0 / 8388608.0)
static float round_down(double d) {
  float f = (float)d;
  if (f > d) f = (float)(d * (d < 0 ? RND_AWAY : RND_TOWARDS));
  return f;
}
static float round_up(double d) {
  float f = (float)d;
  if (f < d) f = (float)(d * (d < 0 ? RND_TOWARDS : RND_AWAY));
  return f;
}

static double blob_double(const unsigned char *p, int little) {
  uint64_t u = 0;
  for (int i = 0; i < 8; i++) u |= (uint64_t)p[little ? i : 7 - i] << (8 * i);
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static int32_t blob_int(const unsigned char *p, int little) {
  uint32_t u = 0;
  for (int i = 0; i < 4; i++) u |= (uint32_t)p[little ? i : 3 - i] << (8 * i);
  return (int32_t)u;
}

/* Characters of a text as SQLite's length() counts them (bytes, less UTF-8 continuation bytes). */
static int64_t sql_length(const char *s) {
  const unsigned char *z = (const unsigned char *)s, *z0 = z;
  unsigned char c;
  while ((c = *z) != 0) {
    z++;
    if (c >= 0xc0)
      while ((*z & 0xc0) == 0x80) {
        z++;
        z0++;
      }
  }
  return (int64_t)(z - z0);
}

static void stat_int(col_stats *c, int64_t v) {
  c->n_int++;
  if (!c->has_i || v < c->imin) c->imin = v;
  if (!c->has_i || v > c->imax) c->imax = v;
  c->has_i = 1;
}

/* The thread's failure, kept for the caller (whose context is not the thread's to touch). */
static void thread_fail(pm_layer_writer *w, pm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void thread_fail(pm_layer_writer *w, pm_status st, const char *fmt, ...) {
  pthread_mutex_lock(&w->mu);
  if (!w->failed) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->error, sizeof w->error, fmt, ap);
    va_end(ap);
    w->failed = st;
  }
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
}

static int64_t rec_i64(const unsigned char *p) {
  int64_t v;
  memcpy(&v, p, 8);
  return v;
}

/* Bind row r of a pending record to parameters from base + 1 on. */
/* A rowid one above the largest so far is bound as NULL: SQLite then appends the row without
 * searching the table for a clash (its new rowid is documented as the largest plus one), a third
 * cheaper per row than with the rowid given (bench/RESULTS.md, "Ingest profile"). */
static void bind_rowid(sqlite3_stmt *q, int col, int64_t id, int64_t *max, int *has_max) {
  if (*has_max && *max < INT64_MAX && id == *max + 1) sqlite3_bind_null(q, col);
  else sqlite3_bind_int64(q, col, id);
  if (!*has_max || id > *max) *max = id;
  *has_max = 1;
}

static void bind_row(pm_layer_writer *w, sqlite3_stmt *q, int base, row_ref *r) {
  const unsigned char *p = r->rec;
  bind_rowid(q, base + 1, rec_i64(p), &w->max_fid, &w->has_max);
  uint32_t wl;
  memcpy(&wl, p + 8, 4);
  p += 12 + wl;
  for (size_t i = 0; i < w->n_fields; i++) {
    int col = base + 2 + (int)i;
    int tag = *p++;
    if (tag == TAG_NULL) {
      sqlite3_bind_null(q, col);
    } else if (tag == TAG_INT) {
      sqlite3_bind_int64(q, col, rec_i64(p));
      p += 8;
    } else if (tag == TAG_REAL) {
      double d;
      memcpy(&d, p, 8);
      sqlite3_bind_double(q, col, d);
      p += 8;
    } else {
      uint32_t n;
      memcpy(&n, p, 4);
      sqlite3_bind_text(q, col, (const char *)p + 4, (int)n, SQLITE_STATIC);
      p += 4 + n + 1;
    }
  }
  sqlite3_bind_blob(q, base + (int)w->n_fields + 2, r->blob, r->blob_len, free);
  r->blob = NULL; /* SQLite's now */
}

/* Insert the pending rows: one multi-row INSERT when they fill it, else one INSERT each. */
static int flush_pending(pm_layer_writer *w) {
  size_t n = w->n_pending;
  if (n == 0) return 1;
  int ok = 1;
  if (n == w->rows_per_insert && w->insert_many) {
    sqlite3_stmt *q = w->insert_many;
    for (size_t r = 0; r < n; r++) bind_row(w, q, (int)(r * (w->n_fields + 2)), &w->pending[r]);
    ok = sqlite3_step(q) == SQLITE_DONE;
    if (!ok)
      thread_fail(w, PM_EDB, "%s: cannot store features %lld to %lld of layer '%s' (%s)",
                  pm_store_path(w->store), (long long)rec_i64(w->pending[0].rec),
                  (long long)rec_i64(w->pending[n - 1].rec), w->name, sqlite3_errmsg(w->db));
    sqlite3_reset(w->insert_many);
  } else {
    for (size_t r = 0; ok && r < n; r++) {
      sqlite3_stmt *q = w->insert_one;
      bind_row(w, q, 0, &w->pending[r]);
      ok = sqlite3_step(q) == SQLITE_DONE;
      if (!ok)
        thread_fail(w, PM_EDB, "%s: cannot store feature %lld of layer '%s' (%s)",
                    pm_store_path(w->store), (long long)rec_i64(w->pending[r].rec), w->name,
                    sqlite3_errmsg(w->db));
      sqlite3_reset(q);
    }
  }
  for (size_t r = 0; r < n; r++) free(w->pending[r].blob);
  w->n_pending = 0;
  return ok;
}

/* SpatiaLite's blob for a little-endian 2D WKB point, line string, polygon or multi of those,
 * written straight from the WKB: the bytes gaiaFromWkb + gaiaToSpatiaLiteBlobWkbEx2 make
 * (GeomFromWKB's way), without building SpatiaLite's geometry objects (a third of the inserting
 * thread's work on the bench city). Blob: 0x00, byte order, SRID, MBR (min x, min y, max x, max
 * y), 0x7C, class, the body as in WKB without byte-order bytes, each part of a multi geometry
 * after 0x69 and its class, 0xFE. 0 for anything else (and then gaia does it). */
typedef struct blob_out {
  unsigned char *p;
  size_t len, cap;
  double mbr[4];
} blob_out;

static int put(blob_out *b, const void *src, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 256;
    while (cap < b->len + n) cap *= 2;
    unsigned char *q = realloc(b->p, cap);
    if (!q) return 0;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, src, n);
  b->len += n;
  return 1;
}

static int blob_body(const unsigned char *w, size_t len, size_t *at, uint32_t want, int top,
                     blob_out *b) {
  if (len - *at < 5 || w[*at] != 1) return 0;
  uint32_t type, n;
  memcpy(&type, w + *at + 1, 4);
  *at += 5;
  if (type < 1 || type > 6 || (want && type != want)) return 0;
  if (!top) {
    unsigned char mark = 0x69;
    if (!put(b, &mark, 1) || !put(b, &type, 4)) return 0;
  }
  uint32_t runs = 1, ring = type == 3;
  if (type == 1) {
    n = 1;
  } else {
    if (len - *at < 4) return 0;
    memcpy(&n, w + *at, 4);
    *at += 4;
    if (!put(b, &n, 4)) return 0;
    if (type >= 4) {
      if (n == 0) return 0;
      for (uint32_t i = 0; i < n; i++)
        if (!blob_body(w, len, at, type - 3, 0, b)) return 0;
      return 1;
    }
    if (ring) {
      runs = n;
      if (runs == 0) return 0;
    }
  }
  for (uint32_t r = 0; r < runs; r++) {
    uint32_t k = n;
    if (ring) {
      if (len - *at < 4) return 0;
      memcpy(&k, w + *at, 4);
      *at += 4;
      if (!put(b, &k, 4)) return 0;
    }
    if (k == 0 || (len - *at) / 16 < k) return 0;
    const unsigned char *c = w + *at;
    for (uint32_t i = 0; i < k; i++) {
      double xy[2];
      memcpy(xy, c + 16 * (size_t)i, 16);
      if (isnan(xy[0]) || isnan(xy[1])) return 0;
      if (xy[0] < b->mbr[0]) b->mbr[0] = xy[0];
      if (xy[1] < b->mbr[1]) b->mbr[1] = xy[1];
      if (xy[0] > b->mbr[2]) b->mbr[2] = xy[0];
      if (xy[1] > b->mbr[3]) b->mbr[3] = xy[1];
    }
    if (!put(b, c, (size_t)k * 16)) return 0;
    *at += (size_t)k * 16;
  }
  return 1;
}

static int plain_blob(const unsigned char *wkb, size_t len, int srid, unsigned char **out, int *out_len) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* the blob is the WKB with a 44-byte header for its 5, and an end mark: allocated once */
  blob_out b = {.mbr = {INFINITY, INFINITY, -INFINITY, -INFINITY}, .cap = len + 40, .p = malloc(len + 40)};
  if (!b.p) return 0;
  unsigned char head[38] = {0x00, 0x01};
  int32_t s32 = srid;
  memcpy(head + 2, &s32, 4);
  size_t at = 0;
  if (len < 5 || wkb[0] != 1 || !put(&b, head, 38)) {
    free(b.p);
    return 0;
  }
  unsigned char mark = 0x7C;
  uint32_t type;
  memcpy(&type, wkb + 1, 4);
  if (!put(&b, &mark, 1) || !put(&b, &type, 4) || !blob_body(wkb, len, &at, 0, 1, &b) || at != len) {
    free(b.p);
    return 0;
  }
  mark = 0xFE;
  if (!put(&b, &mark, 1) || b.len > 0x7fffffff) {
    free(b.p);
    return 0;
  }
  memcpy(b.p + 6, b.mbr, 32);
  *out = b.p;
  *out_len = (int)b.len;
  return 1;
#else
  (void)wkb, (void)len, (void)srid, (void)out, (void)out_len;
  return 0;
#endif
}

/* One record: its SpatiaLite blob, the statistics and the R*Tree cell, then pending for insert. */
static int take_record(pm_layer_writer *w, const unsigned char *rec) {
  int64_t fid = rec_i64(rec);
  uint32_t wl;
  memcpy(&wl, rec + 8, 4);
  unsigned char *blob = NULL;
  int blob_len = 0;
  if (!plain_blob(rec + 12, wl, w->srid, &blob, &blob_len)) {
    gaiaGeomCollPtr geo = gaiaFromWkb(rec + 12, wl);
    if (!geo) {
      thread_fail(w, PM_EGEOM, "%s: feature %lld of layer '%s' has no readable geometry",
                  pm_store_path(w->store), (long long)fid, w->name);
      return 0;
    }
    geo->Srid = w->srid;
    gaiaToSpatiaLiteBlobWkbEx2(geo, &blob, &blob_len, 0, 0); /* what GeomFromWKB(?, srid) stores */
    gaiaFreeGeomColl(geo);
  }
  /* The blob's header: start, byte order, SRID, MBR, MBR end, class (SpatiaLite's format). */
  if (!blob || blob_len < 44) {
    free(blob);
    thread_fail(w, PM_ENOMEM, "out of memory");
    return 0;
  }
  int little = blob[1] == 0x01;
  int gtype = blob_int(blob + 39, little);
  if (gtype != w->gtype) {
    free(blob);
    thread_fail(w, PM_EGEOM,
                "%s: feature %lld of layer '%s' violates the geometry constraint (class %d in a "
                "column of class %d)",
                pm_store_path(w->store), (long long)fid, w->name, gtype, w->gtype);
    return 0;
  }
  double mbr[4]; /* minx miny maxx maxy */
  for (int k = 0; k < 4; k++) mbr[k] = blob_double(blob + 6 + 8 * k, little);
  if (w->n_cells == w->cap_cells) {
    size_t cap = w->cap_cells ? 2 * w->cap_cells : 1024;
    rt_cell *c = realloc(w->cells, cap * sizeof *c);
    if (!c) {
      free(blob);
      thread_fail(w, PM_ENOMEM, "out of memory");
      return 0;
    }
    w->cells = c;
    w->cap_cells = cap;
  }
  rt_cell *cell = &w->cells[w->n_cells++];
  cell->id = fid;
  cell->box[0] = round_down(mbr[0]);
  cell->box[1] = round_up(mbr[2]);
  cell->box[2] = round_down(mbr[1]);
  cell->box[3] = round_up(mbr[3]);
  w->ext[0] = fmin(w->ext[0], mbr[0]);
  w->ext[1] = fmin(w->ext[1], mbr[1]);
  w->ext[2] = fmax(w->ext[2], mbr[2]);
  w->ext[3] = fmax(w->ext[3], mbr[3]);

  stat_int(&w->stats[0], fid);
  const unsigned char *p = rec + 12 + wl;
  for (size_t i = 0; i < w->n_fields; i++) {
    col_stats *c = &w->stats[i + 1];
    int tag = *p++;
    if (tag == TAG_NULL) {
      c->n_null++;
    } else if (tag == TAG_INT) {
      stat_int(c, rec_i64(p));
      p += 8;
    } else if (tag == TAG_REAL) {
      double d;
      memcpy(&d, p, 8);
      c->n_real++;
      if (!c->has_d || d < c->dmin) c->dmin = d;
      if (!c->has_d || d > c->dmax) c->dmax = d;
      c->has_d = 1;
      p += 8;
    } else {
      uint32_t n;
      memcpy(&n, p, 4);
      c->n_text++;
      int64_t chars = sql_length((const char *)p + 4);
      if (chars > c->max_size) c->max_size = chars;
      p += 4 + n + 1;
    }
  }
  col_stats *gc = &w->stats[w->n_fields + 1];
  gc->n_blob++;
  if (blob_len > gc->max_size) gc->max_size = blob_len;

  w->pending[w->n_pending++] = (row_ref){.rec = rec, .blob = blob, .blob_len = blob_len};
  if (w->n_pending == w->rows_per_insert) return flush_pending(w);
  return 1;
}

static void *insert_thread(void *arg) {
  pm_layer_writer *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    while (w->q_len == 0 && !w->closing && !w->aborting) pthread_cond_wait(&w->cv, &w->mu);
    if (w->aborting || (w->q_len == 0 && w->closing)) break;
    int bi = (int)(w->q_head % N_BATCHES);
    int failed = w->failed != PM_OK;
    pthread_mutex_unlock(&w->mu);
    batch *b = &w->batches[bi];
    const unsigned char *p = b->data;
    for (size_t r = 0; !failed && r < b->n; r++) {
      uint32_t size;
      memcpy(&size, p, 4);
      failed = !take_record(w, p + 4);
      p += 4 + size;
    }
    /* The batch's records are bound by pointer: insert what is pending before handing it back. */
    if (!failed) failed = !flush_pending(w);
    else {
      for (size_t r = 0; r < w->n_pending; r++) free(w->pending[r].blob);
      w->n_pending = 0;
    }
    pthread_mutex_lock(&w->mu);
    b->len = b->n = 0;
    w->q_head++;
    w->q_len--;
    pthread_cond_broadcast(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

/* ---- the caller's side ---- */

static pm_status thread_error(pm_layer_writer *w) {
  return pm_error(w->ctx, w->failed, "%s", w->error);
}

/* Hand the batch being filled to the thread (mu held). */
static void submit(pm_layer_writer *w) {
  if (w->filling < 0) return;
  w->q_len++;
  w->filling = -1;
  pthread_cond_broadcast(&w->cv);
}

static pm_status reserve(pm_layer_writer *w, batch *b, size_t need) {
  if (b->len + need <= b->cap) return PM_OK;
  size_t cap = b->cap ? b->cap : BATCH_BYTES;
  while (cap < b->len + need) cap *= 2;
  unsigned char *p = realloc(b->data, cap);
  if (!p) return oom(w->ctx);
  b->data = p;
  b->cap = cap;
  return PM_OK;
}

pm_status pm_layer_writer_add(pm_layer_writer *w, int64_t fid, const unsigned char *wkb,
                              size_t wkb_len, const pm_value *values) {
  if (w->finished) return pm_error(w->ctx, PM_EINTERNAL, "feature added to a finished layer");
  if (!wkb || wkb_len > 0x7fffffff)
    return pm_error(w->ctx, PM_EGEOM, "%s: feature %lld of layer '%s' has no readable geometry",
                    pm_store_path(w->store), (long long)fid, w->name);
  pthread_mutex_lock(&w->mu);
  if (w->filling < 0) {
    while (!w->failed && w->q_len == N_BATCHES) pthread_cond_wait(&w->cv, &w->mu);
    if (!w->failed) w->filling = (int)((w->q_head + w->q_len) % N_BATCHES); /* next in the ring */
  }
  pm_status st = w->failed;
  pthread_mutex_unlock(&w->mu);
  if (st) return thread_error(w);
  batch *b = &w->batches[w->filling];
  size_t need = 4 + 12 + wkb_len;
  for (size_t i = 0; i < w->n_fields; i++) {
    const pm_value *v = &values[i];
    need += 1 + 8;
    if (!v->is_null && w->types[i] == PM_FIELD_TEXT) {
      w->text_len[i] = strlen(v->s ? v->s : "");
      need += 4 + w->text_len[i] + 1;
    }
  }
  if ((st = reserve(w, b, need))) return st;
  unsigned char *start = b->data + b->len, *p = start + 4;
  memcpy(p, &fid, 8);
  uint32_t wl = (uint32_t)wkb_len;
  memcpy(p + 8, &wl, 4);
  memcpy(p + 12, wkb, wkb_len);
  p += 12 + wkb_len;
  for (size_t i = 0; i < w->n_fields; i++) {
    const pm_value *v = &values[i];
    /* NaN: SQLite stores a NULL for it */
    if (v->is_null || (w->types[i] == PM_FIELD_REAL && isnan(v->d))) {
      *p++ = TAG_NULL;
    } else if (w->types[i] == PM_FIELD_TEXT) {
      const char *s = v->s ? v->s : "";
      uint32_t n = (uint32_t)w->text_len[i];
      *p++ = TAG_TEXT;
      memcpy(p, &n, 4);
      memcpy(p + 4, s, (size_t)n + 1);
      p += 4 + n + 1;
    } else if (w->types[i] == PM_FIELD_REAL) {
      *p++ = TAG_REAL;
      memcpy(p, &v->d, 8);
      p += 8;
    } else {
      *p++ = TAG_INT;
      memcpy(p, &v->i, 8);
      p += 8;
    }
  }
  uint32_t size = (uint32_t)(p - start - 4);
  memcpy(start, &size, 4);
  b->len = (size_t)(p - b->data);
  b->n++;
  if (b->n >= BATCH_RECORDS || b->len >= BATCH_BYTES) {
    pthread_mutex_lock(&w->mu);
    submit(w);
    pthread_mutex_unlock(&w->mu);
  }
  return PM_OK;
}

/* Wait for the thread to insert everything (or, aborting, to stop); its error status, if any (the
 * message for it: thread_error). */
static pm_status stop_thread(pm_layer_writer *w, int abort) {
  if (!w->thread_started) return PM_OK;
  pthread_mutex_lock(&w->mu);
  if (abort) w->aborting = 1;
  else submit(w);
  w->closing = 1;
  pthread_cond_broadcast(&w->cv);
  pthread_mutex_unlock(&w->mu);
  pthread_join(w->thread, NULL);
  w->thread_started = 0;
  return w->failed;
}

/* ---- the R*Tree, packed ---- */

/* Sort-Tile-Recursive packing (Leutenegger et al. 1997): cells sorted by the x of their centres
 * into vertical slices of about sqrt(n / M) nodes each, each slice by y, cut into full nodes; then
 * the same one level up until one node, the root, is left. The node format is SQLite's (rtree.c):
 * a node of node_size bytes, 2 bytes depth (root only), 2 bytes count, then per cell an 8-byte id
 * and four 4-byte floats, all big-endian; node 1 is the root; %_rowid maps each rowid to its leaf,
 * %_parent each other node to its parent. */
typedef struct rt_link {
  int64_t id, node; /* rowid and the leaf holding it */
} rt_link;

/* An item to sort: its key and where it came from. */
typedef struct keyed {
  uint64_t key;
  uint32_t idx;
} keyed;

/* Stable LSD radix sort by key, 11 bits a pass; the histograms of every pass made in one read,
 * and passes where all keys share the digit skipped. The result is in items (tmp: as many). */
static void radix_sort(keyed *items, keyed *tmp, size_t n) {
  enum { BITS = 11, BUCKETS = 1 << BITS, PASSES = (64 + BITS - 1) / BITS };
  uint32_t count[PASSES][BUCKETS]; /* 48 KB; n < 2^32 */
  memset(count, 0, sizeof count);
  for (size_t i = 0; i < n; i++)
    for (int p = 0; p < PASSES; p++) count[p][(items[i].key >> (p * BITS)) & (BUCKETS - 1)]++;
  keyed *src = items, *dst = tmp;
  for (int p = 0; p < PASSES; p++) {
    int shift = p * BITS;
    if (n == 0 || count[p][(src[0].key >> shift) & (BUCKETS - 1)] == n) continue;
    uint32_t sum = 0;
    for (size_t b = 0; b < BUCKETS; b++) {
      uint32_t c = count[p][b];
      count[p][b] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) dst[count[p][(src[i].key >> shift) & (BUCKETS - 1)]++] = src[i];
    keyed *t = src;
    src = dst;
    dst = t;
  }
  if (src != items) memcpy(items, src, n * sizeof *items);
}

/* A double as an unsigned key of the same order. */
static uint64_t order_key(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return (u >> 63) ? ~u : u | (1ull << 63);
}

/* Sort cells by the centre of their boxes along axis 0 (x) or 1 (y); ties keep their order. */
static void sort_cells(rt_cell *c, size_t n, int axis, keyed *items, keyed *tmp, rt_cell *out) {
  if (n < 2) return;
  for (size_t i = 0; i < n; i++) {
    items[i].key = order_key((double)c[i].box[2 * axis] + (double)c[i].box[2 * axis + 1]);
    items[i].idx = (uint32_t)i;
  }
  radix_sort(items, tmp, n);
  for (size_t i = 0; i < n; i++) out[i] = c[items[i].idx];
  memcpy(c, out, n * sizeof *c);
}

static void put_u16(unsigned char *p, unsigned v) {
  p[0] = (unsigned char)(v >> 8);
  p[1] = (unsigned char)v;
}
static void put_cell(unsigned char *p, const rt_cell *c) {
  uint64_t u = (uint64_t)c->id;
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(u >> (56 - 8 * i));
  for (int k = 0; k < 4; k++) {
    uint32_t b;
    memcpy(&b, &c->box[k], 4);
    for (int i = 0; i < 4; i++) p[8 + 4 * k + i] = (unsigned char)(b >> (24 - 8 * i));
  }
}

typedef struct rt_writer {
  pm_layer_writer *w;
  sqlite3_stmt *node, *root, *rowid, *rowids, *parent;
  unsigned char *buf;
  int node_size;
} rt_writer;

static pm_status rt_step(rt_writer *r, sqlite3_stmt *q) {
  int rc = sqlite3_step(q);
  sqlite3_reset(q);
  return rc == SQLITE_DONE ? PM_OK : db_fail(r->w, "filling the spatial index");
}

/* Write one node: cells[0..n) under node number `no` (1 = the root, with the tree's depth). */
static pm_status rt_node(rt_writer *r, int64_t no, const rt_cell *cells, size_t n, int depth) {
  memset(r->buf, 0, (size_t)r->node_size);
  put_u16(r->buf, no == 1 ? (unsigned)depth : 0);
  put_u16(r->buf + 2, (unsigned)n);
  for (size_t i = 0; i < n; i++) put_cell(r->buf + 4 + 24 * i, &cells[i]);
  sqlite3_stmt *q = no == 1 ? r->root : r->node;
  sqlite3_bind_int64(q, 1, no);
  sqlite3_bind_blob(q, 2, r->buf, r->node_size, SQLITE_STATIC);
  return rt_step(r, q);
}

#define ROWIDS_PER_INSERT 256

/* %_rowid in rowid order (appends to its b-tree), many rows per INSERT. */
static pm_status write_rowids(rt_writer *r, rt_link *links, size_t n, keyed *items, keyed *tmp) {
  for (size_t i = 0; i < n; i++) {
    items[i].key = (uint64_t)links[i].id ^ (1ull << 63);
    items[i].idx = (uint32_t)i;
  }
  radix_sort(items, tmp, n);
  pm_status st = PM_OK;
  size_t i = 0;
  int64_t max = 0;
  int has_max = 0;
  for (; !st && r->rowids && i + ROWIDS_PER_INSERT <= n; i += ROWIDS_PER_INSERT) {
    for (int k = 0; k < ROWIDS_PER_INSERT; k++) {
      const rt_link *l = &links[items[i + (size_t)k].idx];
      bind_rowid(r->rowids, 2 * k + 1, l->id, &max, &has_max);
      sqlite3_bind_int64(r->rowids, 2 * k + 2, l->node);
    }
    st = rt_step(r, r->rowids);
  }
  for (; !st && i < n; i++) {
    bind_rowid(r->rowid, 1, links[items[i].idx].id, &max, &has_max);
    sqlite3_bind_int64(r->rowid, 2, links[items[i].idx].node);
    st = rt_step(r, r->rowid);
  }
  return st;
}

static pm_status pack_rtree(pm_layer_writer *w, rt_writer *r) {
  pm_context *ctx = w->ctx;
  size_t m = (size_t)(r->node_size - 4) / 24;
  if (m > 51) m = 51; /* RTREE_MAXCELLS */
  size_t n = w->n_cells;
  rt_cell *level = w->cells; /* sorted in place; the writer's cells are not needed afterwards */
  rt_link *links = malloc((n ? n : 1) * sizeof *links);
  keyed *items = malloc((n ? n : 1) * sizeof *items), *tmp = malloc((n ? n : 1) * sizeof *tmp);
  rt_cell *scratch = malloc((n ? n : 1) * sizeof *scratch);
  pm_status st = links && items && tmp && scratch && n <= UINT32_MAX ? PM_OK : oom(ctx);
  int64_t next_no = 2;
  int depth = 0;
  while (!st && n > m) {
    size_t n_nodes = (n + m - 1) / m;
    size_t slices = (size_t)ceil(sqrt((double)n_nodes));
    size_t per_slice = slices * m;
    rt_cell *parents = malloc(n_nodes * sizeof *parents);
    if (!parents) {
      st = oom(ctx);
      break;
    }
    sort_cells(level, n, 0, items, tmp, scratch);
    size_t k = 0;
    for (size_t s0 = 0; !st && s0 < n; s0 += per_slice) {
      size_t s1 = s0 + per_slice < n ? s0 + per_slice : n;
      sort_cells(level + s0, s1 - s0, 1, items, tmp, scratch);
      for (size_t a = s0; !st && a < s1; a += m) {
        size_t b = a + m < s1 ? a + m : s1;
        rt_cell *p = &parents[k++];
        p->id = next_no++;
        memcpy(p->box, level[a].box, sizeof p->box);
        for (size_t i = a; i < b; i++) {
          p->box[0] = fminf(p->box[0], level[i].box[0]);
          p->box[1] = fmaxf(p->box[1], level[i].box[1]);
          p->box[2] = fminf(p->box[2], level[i].box[2]);
          p->box[3] = fmaxf(p->box[3], level[i].box[3]);
          if (depth == 0) {
            links[i].id = level[i].id;
            links[i].node = p->id;
          } else {
            sqlite3_bind_int64(r->parent, 1, level[i].id);
            sqlite3_bind_int64(r->parent, 2, p->id);
            st = rt_step(r, r->parent);
          }
        }
        if (!st) st = rt_node(r, p->id, level + a, b - a, 0);
      }
    }
    if (level != w->cells) free(level);
    level = parents;
    n = k;
    depth++;
  }
  /* The root: what is left (all cells when they fit in one node). */
  if (!st) st = rt_node(r, 1, level, n, depth);
  for (size_t i = 0; !st && i < n; i++) {
    if (depth == 0) {
      links[i].id = level[i].id;
      links[i].node = 1;
    } else {
      sqlite3_bind_int64(r->parent, 1, level[i].id);
      sqlite3_bind_int64(r->parent, 2, 1);
      st = rt_step(r, r->parent);
    }
  }
  if (level != w->cells) free(level);
  if (!st) st = write_rowids(r, links, w->n_cells, items, tmp);
  free(links);
  free(items);
  free(tmp);
  free(scratch);
  return st;
}

static pm_status fill_rtree(pm_layer_writer *w) {
  if (w->n_cells == 0) return PM_OK; /* CreateSpatialIndex made the empty root */
  char base[160], sql[320];
  snprintf(base, sizeof base, "idx_%s_geom", w->name);
  char *node = NULL, *rowid = NULL, *parent = NULL;
  char tmp[176];
  snprintf(tmp, sizeof tmp, "%s_node", base);
  node = pm__sql_ident(tmp);
  snprintf(tmp, sizeof tmp, "%s_rowid", base);
  rowid = pm__sql_ident(tmp);
  snprintf(tmp, sizeof tmp, "%s_parent", base);
  parent = pm__sql_ident(tmp);
  rt_writer r = {.w = w};
  pm_status st = node && rowid && parent ? PM_OK : oom(w->ctx);
  if (!st) {
    int size = 0;
    snprintf(sql, sizeof sql, "SELECT length(data) FROM %s WHERE nodeno = 1", node);
    st = select_int(w, "reading the spatial index", sql, &size);
    r.node_size = size;
    if (!st && (size < 4 + 3 * 24 || size > 65536))
      st = pm_error(w->ctx, PM_EDB, "%s: the spatial index of layer '%s' has nodes of %d bytes",
                    pm_store_path(w->store), w->name, size);
  }
  if (!st && !(r.buf = malloc((size_t)r.node_size))) st = oom(w->ctx);
  if (!st) {
    snprintf(sql, sizeof sql, "INSERT INTO %s (nodeno, data) VALUES (?, ?)", node);
    st = pm__store_prepare(w->store, "filling the spatial index", sql, &r.node);
  }
  if (!st) {
    snprintf(sql, sizeof sql, "UPDATE %s SET data = ?2 WHERE nodeno = ?1", node);
    st = pm__store_prepare(w->store, "filling the spatial index", sql, &r.root);
  }
  if (!st) {
    snprintf(sql, sizeof sql, "INSERT INTO %s (rowid, nodeno) VALUES (?, ?)", rowid);
    st = pm__store_prepare(w->store, "filling the spatial index", sql, &r.rowid);
  }
  if (!st && w->n_cells >= ROWIDS_PER_INSERT) {
    size_t cap = 64 + strlen(rowid) + 6 * ROWIDS_PER_INSERT;
    char *many = malloc(cap);
    if (!many) st = oom(w->ctx);
    size_t len = many ? (size_t)snprintf(many, cap, "INSERT INTO %s (rowid, nodeno) VALUES ", rowid) : 0;
    for (int k = 0; many && k < ROWIDS_PER_INSERT; k++)
      len += (size_t)snprintf(many + len, cap - len, "%s(?,?)", k ? "," : "");
    if (!st) st = pm__store_prepare(w->store, "filling the spatial index", many, &r.rowids);
    free(many);
  }
  if (!st) {
    snprintf(sql, sizeof sql, "INSERT INTO %s (nodeno, parentnode) VALUES (?, ?)", parent);
    st = pm__store_prepare(w->store, "filling the spatial index", sql, &r.parent);
  }
  if (!st) st = pack_rtree(w, &r);
  free(w->cells);
  w->cells = NULL;
  w->n_cells = w->cap_cells = 0;
  sqlite3_finalize(r.node);
  sqlite3_finalize(r.root);
  sqlite3_finalize(r.rowid);
  sqlite3_finalize(r.rowids);
  sqlite3_finalize(r.parent);
  free(r.buf);
  free(node);
  free(rowid);
  free(parent);
  return st;
}

/* ---- statistics ---- */
/* ---- statistics ---- */

/* The text SQLite gives for a REAL (what sqlite3_get_table hands UpdateLayerStatistics), read
 * back as it does (atof), so the stored minimum and maximum are the same numbers. */
static double through_text(sqlite3 *db, double v) {
  sqlite3_stmt *q = NULL;
  double out = v;
  if (sqlite3_prepare_v2(db, "SELECT CAST(?1 AS TEXT)", -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_double(q, 1, v);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
      out = atof((const char *)sqlite3_column_text(q, 0));
  }
  sqlite3_finalize(q);
  return out;
}

/* What UpdateLayerStatistics(layer, 'geom') writes: the row count and extent, the per-column
 * counts by type, longest value and (for columns of one numeric type) range, and its history row.
 * SpatiaLite derives them with full scans; the writer has seen every value. */
static pm_status write_statistics(pm_layer_writer *w) {
  pm_store *s = w->store;
  sqlite3_stmt *q = NULL;
  int64_t n_rows = w->stats[0].n_int;
  pm_status st = pm__store_prepare(
      s, "updating layer statistics",
      "INSERT OR REPLACE INTO geometry_columns_statistics (f_table_name, f_geometry_column, "
      "last_verified, row_count, extent_min_x, extent_min_y, extent_max_x, extent_max_y) VALUES "
      "(lower(?1), 'geom', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?2, ?3, ?4, ?5, ?6)",
      &q);
  if (st) return st;
  sqlite3_bind_text(q, 1, w->name, -1, SQLITE_STATIC);
  sqlite3_bind_int(q, 2, (int)n_rows);
  for (int k = 0; k < 4; k++)
    if (n_rows > 0) sqlite3_bind_double(q, 3 + k, w->ext[k]);
    else sqlite3_bind_null(q, 3 + k);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(w, "updating layer statistics");
  sqlite3_finalize(q);
  if (st) return st;

  st = pm__store_prepare(s, "updating layer statistics",
                         "DELETE FROM geometry_columns_field_infos WHERE lower(f_table_name) = "
                         "lower(?1) AND lower(f_geometry_column) = 'geom'",
                         &q);
  if (st) return st;
  sqlite3_bind_text(q, 1, w->name, -1, SQLITE_STATIC);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(w, "updating layer statistics");
  sqlite3_finalize(q);
  if (st) return st;
  if (n_rows > 0) { /* SpatiaLite lists no column of an empty table */
    st = pm__store_prepare(
        s, "updating layer statistics",
        "INSERT INTO geometry_columns_field_infos (f_table_name, f_geometry_column, ordinal, "
        "column_name, null_values, integer_values, double_values, text_values, blob_values, "
        "max_size, integer_min, integer_max, double_min, double_max) VALUES "
        "(lower(?1), 'geom', ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        &q);
    if (st) return st;
    for (size_t i = 0; !st && i < w->n_fields + 2; i++) {
      const col_stats *c = &w->stats[i];
      sqlite3_reset(q);
      sqlite3_clear_bindings(q);
      sqlite3_bind_text(q, 1, w->name, -1, SQLITE_STATIC);
      sqlite3_bind_int(q, 2, (int)i);
      sqlite3_bind_text(q, 3, w->col_names[i], -1, SQLITE_STATIC);
      sqlite3_bind_int(q, 4, (int)c->n_null);
      sqlite3_bind_int(q, 5, (int)c->n_int);
      sqlite3_bind_int(q, 6, (int)c->n_real);
      sqlite3_bind_int(q, 7, (int)c->n_text);
      sqlite3_bind_int(q, 8, (int)c->n_blob);
      if (c->max_size >= 0) sqlite3_bind_int(q, 9, (int)c->max_size);
      /* A range only for a column of integers (or of reals) and NULLs; SpatiaLite reads it back
       * with atoi/atof, hence the int conversion and the text round trip. */
      if (c->has_i && c->n_real == 0 && c->n_text == 0 && c->n_blob == 0) {
        sqlite3_bind_int(q, 10, (int)(long)c->imin);
        sqlite3_bind_int(q, 11, (int)(long)c->imax);
      }
      if (c->has_d && c->n_int == 0 && c->n_text == 0 && c->n_blob == 0) {
        sqlite3_bind_double(q, 12, through_text(w->db, c->dmin));
        sqlite3_bind_double(q, 13, through_text(w->db, c->dmax));
      }
      if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(w, "updating layer statistics");
    }
    sqlite3_finalize(q);
    if (st) return st;
  }
  /* SpatiaLite's own log of the event, as UpdateLayerStatistics writes it. */
  st = pm__store_prepare(s, "updating layer statistics",
                         "INSERT INTO spatialite_history (table_name, geometry_column, event, "
                         "timestamp, ver_sqlite, ver_splite) VALUES (?1, 'geom', "
                         "'UpdateLayerStatistics', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), "
                         "sqlite_version(), spatialite_version())",
                         &q);
  if (st) return st;
  sqlite3_bind_text(q, 1, w->name, -1, SQLITE_STATIC);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_fail(w, "updating layer statistics");
  sqlite3_finalize(q);
  return st;
}

pm_status pm_layer_writer_finish(pm_layer_writer *w) {
  if (w->finished) return PM_OK;
  pm_status st = stop_thread(w, 0) ? thread_error(w) : PM_OK;
  if (!st) st = fill_rtree(w);
  /* The triggers back, from the SQL SpatiaLite wrote for them, in their order. */
  if (!st) st = pm__store_triggers_restore(w->store, &w->triggers);
  /* What the insert trigger set aside would have recorded (SpatiaLite's tmi_ trigger). */
  if (!st && w->stats[0].n_int > 0) st = pm__store_note_insert(w->store, w->name);
  if (!st) st = write_statistics(w);
  if (!st) w->finished = 1;
  return st;
}

void pm_layer_writer_destroy(pm_layer_writer *w) {
  if (!w) return;
  stop_thread(w, 1);
  if (w->sync_ok) {
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
  }
  for (size_t r = 0; r < w->n_pending; r++) free(w->pending[r].blob);
  for (int i = 0; i < N_BATCHES; i++) free(w->batches[i].data);
  sqlite3_finalize(w->insert_one);
  sqlite3_finalize(w->insert_many);
  pm__store_triggers_clear(&w->triggers);
  if (w->col_names)
    for (size_t i = 0; i < w->n_fields + 2; i++) free(w->col_names[i]);
  free(w->col_names);
  free(w->stats);
  free(w->text_len);
  free(w->cells);
  free(w->types);
  free(w->name);
  free(w);
}
