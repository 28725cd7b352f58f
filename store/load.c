/* load.c: layers from the project database into memory: features (with a filter, a label field and
 * attributes), the cache that shares them between indicators, and the districts in scope. */
#include <sqlite3.h>
#include <spatialite/gaiageo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/features_internal.h"
#include "engine/internal.h"
#include "planmetrics/districts.h"
#include "planmetrics/store.h"
#include "store/store_internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

/* Find a field by exact name, else case-insensitively; returns its stored spelling or NULL. */
static const char *find_field(char **names, size_t n, const char *want) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], want) == 0) return names[i];
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(names[i], want) == 0) return names[i];
  return NULL;
}

static char *join_fields(char **names, size_t n) {
  size_t len = 1;
  for (size_t i = 0; i < n; i++) len += strlen(names[i]) + 2;
  char *s = malloc(len);
  if (!s) return NULL;
  s[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (i) strcat(s, ", ");
    strcat(s, names[i]);
  }
  return s;
}

static void free_fields(char **names, char **types, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(names[i]);
    free(types[i]);
  }
  free(names);
  free(types);
}

/* While a layer is read, its filter may only read: SpatiaLite functions that write (DropTable,
 * CreateSpatialIndex ...) run statements of their own, refused here and reported. */
typedef struct read_guard {
  int denied, only_pragmas;
  char what[96];
} read_guard;

static int read_only(void *user, int action, const char *a, const char *b, const char *db,
                     const char *trigger) {
  (void)b;
  (void)db;
  (void)trigger;
  if (action == SQLITE_SELECT || action == SQLITE_READ || action == SQLITE_FUNCTION)
    return SQLITE_OK;
  read_guard *g = user;
  const char *verb = action == SQLITE_INSERT         ? "insert into"
                     : action == SQLITE_UPDATE       ? "update"
                     : action == SQLITE_DELETE       ? "delete from"
                     : action == SQLITE_DROP_TABLE   ? "drop table"
                     : action == SQLITE_CREATE_TABLE ? "create table"
                     : action == SQLITE_PRAGMA       ? "pragma"
                     : action == SQLITE_ATTACH       ? "attach"
                     : action == SQLITE_TRANSACTION  ? "transaction"
                                                     : "change";
  /* name the first change it asked for; a pragma only when there is nothing else */
  int pragma = action == SQLITE_PRAGMA;
  if (!g->denied || (g->only_pragmas && !pragma)) {
    snprintf(g->what, sizeof g->what, "%s%s%s", verb, a ? " " : "", a ? a : "");
    g->only_pragmas = pragma;
  }
  g->denied++;
  return SQLITE_DENY;
}

/* ---- geometry blobs ---- */

/* A stored geometry straight from its SpatiaLite blob into GEOS, the way layer_writer.c writes
 * them (plain_blob): little-endian, 2D, a point, line string, polygon or multi of those, no
 * compression. Blob: 0x00, 0x01, SRID, MBR, 0x7C, class, the body (counts and coordinates as in
 * WKB without byte-order bytes; each part of a multi after 0x69 and its class), 0xFE. Any other
 * blob goes through SpatiaLite (gaia) and GEOS's WKB reader, as AsBinary(geom) would. The
 * coordinates are copied whole into GEOS's sequences: no WKB is written or parsed, and no
 * SpatiaLite geometry is built (that was half of loading a layer). */
typedef struct blob_in {
  const unsigned char *p;
  size_t len, at;
  double *xy; /* aligned copy of one run of coordinates */
  size_t cap;
} blob_in;

static int blob_u32(blob_in *b, uint32_t *v) {
  if (b->len - b->at < 4) return 0;
  memcpy(v, b->p + b->at, 4);
  b->at += 4;
  return 1;
}

static GEOSCoordSequence *blob_seq(GEOSContextHandle_t h, blob_in *b, uint32_t n) {
  if (n == 0 || (b->len - b->at) / 16 < n) return NULL;
  if (2 * (size_t)n > b->cap) {
    size_t cap = 2 * (size_t)n < 256 ? 256 : 2 * (size_t)n;
    double *xy = realloc(b->xy, cap * sizeof *xy);
    if (!xy) return NULL;
    b->xy = xy;
    b->cap = cap;
  }
  memcpy(b->xy, b->p + b->at, 16 * (size_t)n);
  b->at += 16 * (size_t)n;
  return GEOSCoordSeq_copyFromBuffer_r(h, b->xy, n, 0, 0);
}

static GEOSGeometry *blob_ring(GEOSContextHandle_t h, blob_in *b) {
  uint32_t n;
  GEOSCoordSequence *s = blob_u32(b, &n) ? blob_seq(h, b, n) : NULL;
  return s ? GEOSGeom_createLinearRing_r(h, s) : NULL; /* takes s, also when it fails */
}

static GEOSGeometry *blob_body(GEOSContextHandle_t h, blob_in *b, uint32_t type, int depth) {
  uint32_t n;
  GEOSCoordSequence *s;
  switch (type) {
  case 1: return (s = blob_seq(h, b, 1)) ? GEOSGeom_createPoint_r(h, s) : NULL;
  case 2:
    return blob_u32(b, &n) && (s = blob_seq(h, b, n)) ? GEOSGeom_createLineString_r(h, s) : NULL;
  case 3: {
    if (!blob_u32(b, &n) || n == 0 || n > (b->len - b->at) / 4) return NULL;
    GEOSGeometry **holes = n > 1 ? calloc(n - 1, sizeof *holes) : NULL;
    GEOSGeometry *shell = (n == 1 || holes) ? blob_ring(h, b) : NULL;
    uint32_t k = 0;
    while (shell && k + 1 < n && (holes[k] = blob_ring(h, b))) k++;
    GEOSGeometry *g = NULL;
    if (shell && k + 1 == n) { /* GEOS owns the rings from here on, also when it fails */
      g = GEOSGeom_createPolygon_r(h, shell, holes, n - 1);
    } else {
      if (shell) GEOSGeom_destroy_r(h, shell);
      for (uint32_t i = 0; i < k; i++) GEOSGeom_destroy_r(h, holes[i]);
    }
    free(holes);
    return g;
  }
  case 4:
  case 5:
  case 6: {
    if (depth > 0 || !blob_u32(b, &n) || n == 0 || n > (b->len - b->at) / 5) return NULL;
    GEOSGeometry **parts = calloc(n, sizeof *parts);
    uint32_t k = 0, pt;
    while (parts && k < n && b->at < b->len && b->p[b->at++] == 0x69 && blob_u32(b, &pt) &&
           pt == type - 3 && (parts[k] = blob_body(h, b, pt, depth + 1)))
      k++;
    GEOSGeometry *g = NULL;
    if (parts && k == n) /* GEOS owns the parts from here on, also when it fails */
      g = GEOSGeom_createCollection_r(h, (int)type, parts, n);
    else if (parts)
      for (uint32_t i = 0; i < k; i++) GEOSGeom_destroy_r(h, parts[i]);
    free(parts);
    return g;
  }
  default: return NULL;
  }
}

/* The geometry of a stored blob (caller owns it), NULL with *bad set when SpatiaLite cannot read
 * the blob, NULL alone when GEOS refused it (its message is the context's). */
static GEOSGeometry *blob_geometry(GEOSContextHandle_t h, GEOSWKBReader *rd, blob_in *b,
                                   const unsigned char *blob, size_t len, int *bad) {
  *bad = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  if (len >= 44 && blob[0] == 0x00 && blob[1] == 0x01 && blob[38] == 0x7C &&
      blob[len - 1] == 0xFE) {
    uint32_t type;
    memcpy(&type, blob + 39, 4);
    b->p = blob;
    b->len = len - 1;
    b->at = 43;
    GEOSGeometry *g = type >= 1 && type <= 6 ? blob_body(h, b, type, 0) : NULL;
    if (g && b->at == b->len) return g;
    if (g) GEOSGeom_destroy_r(h, g);
  }
#endif
  gaiaGeomCollPtr geo = gaiaFromSpatiaLiteBlobWkb(blob, (unsigned int)len);
  if (!geo) {
    *bad = 1;
    return NULL;
  }
  unsigned char *wkb = NULL;
  int wlen = 0;
  gaiaToWkb(geo, &wkb, &wlen);
  gaiaFreeGeomColl(geo);
  GEOSGeometry *g = wkb && wlen > 0 ? GEOSWKBReader_read_r(h, rd, wkb, (size_t)wlen) : NULL;
  if (!wkb || wlen <= 0) *bad = 1;
  free(wkb);
  return g;
}

pm_status pm_features_load(pm_context *ctx, pm_store *store, const char *layer,
                           const pm_load_options *opt, pm_features **out) {
  *out = NULL;
  pm_load_options none = {0};
  if (!opt) opt = &none;
  char why[256];
  if (opt->where && *opt->where && !pm__filter_check(opt->where, why, sizeof why))
    return pm_error(ctx, PM_EINPUT,
                    "layer '%s': the filter `%s` is not one condition on the layer's fields: %s; "
                    "write a condition such as highway = 'bus_stop'",
                    layer, opt->where, why);
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_layer_info info;
  int found = 0;
  pm_status st = pm_store_layer_info(store, layer, &info, &found);
  if (st) return st;
  pm_geom_kind kind = info.kind;
  pm_layer_info_clear(&info);
  if (!found)
    return pm_error(ctx, PM_ENOTFOUND,
                    "%s: no layer '%s' in the project; ingest it first (planmetrics ingest FILE "
                    "--db %s --as %s)",
                    pm_store_path(store), layer, pm_store_path(store), layer);
  char **names = NULL, **types = NULL;
  size_t nf = 0;
  if ((st = pm_store_layer_fields(store, layer, &names, &types, &nf))) return st;

  const char *label = NULL;
  if (opt->label_field) {
    label = find_field(names, nf, opt->label_field);
    if (!label) {
      char *list = join_fields(names, nf);
      st = pm_error(ctx, PM_EINPUT, "layer '%s' has no field '%s' (for names); its fields are: %s",
                    layer, opt->label_field, list ? list : "?");
      free(list);
      free_fields(names, types, nf);
      return st;
    }
  } else {
    label = find_field(names, nf, "name");
  }
  const char **attr_cols = calloc(opt->n_attrs ? opt->n_attrs : 1, sizeof *attr_cols);
  if (!attr_cols) {
    free_fields(names, types, nf);
    return oom(ctx);
  }
  for (size_t a = 0; a < opt->n_attrs; a++) {
    attr_cols[a] = find_field(names, nf, opt->attrs[a]);
    if (!attr_cols[a]) {
      char *list = join_fields(names, nf);
      st = pm_error(ctx, PM_EINPUT, "layer '%s' has no field '%s'; its fields are: %s", layer,
                    opt->attrs[a], list ? list : "?");
      free(list);
      free(attr_cols);
      free_fields(names, types, nf);
      return st;
    }
  }

  /* SELECT fid, geom, label, attrs... FROM layer WHERE (filter) ORDER BY fid */
  size_t cap = 256 + strlen(layer) * 2 + (opt->where ? strlen(opt->where) : 0);
  for (size_t a = 0; a < opt->n_attrs; a++) cap += strlen(attr_cols[a]) * 2 + 8;
  if (label) cap += strlen(label) * 2 + 8;
  char *sql = malloc(cap);
  char *tbl = pm__sql_ident(layer);
  if (!sql || !tbl) {
    free(sql);
    free(tbl);
    free(attr_cols);
    free_fields(names, types, nf);
    return oom(ctx);
  }
  size_t len = (size_t)snprintf(sql, cap, "SELECT fid, geom");
  const char *cols[2] = {label, NULL};
  for (size_t c = 0; c < 1; c++) {
    char *q = pm__sql_ident(cols[c] ? cols[c] : "fid");
    len += (size_t)snprintf(sql + len, cap - len, ", %s", cols[c] && q ? q : "NULL");
    free(q);
  }
  for (size_t a = 0; a < opt->n_attrs; a++) {
    char *q = pm__sql_ident(attr_cols[a]);
    len += (size_t)snprintf(sql + len, cap - len, ", CAST(%s AS TEXT)", q ? q : "NULL");
    free(q);
  }
  len += (size_t)snprintf(sql + len, cap - len, " FROM %s", tbl);
  if (opt->where && *opt->where)
    len += (size_t)snprintf(sql + len, cap - len, " WHERE (%s)", opt->where);
  snprintf(sql + len, cap - len, " ORDER BY fid");
  free(tbl);

  sqlite3 *db = pm__store_db(store);
  sqlite3_stmt *q = NULL;
  const char *tail = NULL;
  read_guard guard = {0};
  sqlite3_set_authorizer(db, read_only, &guard);
  if (sqlite3_prepare_v2(db, sql, -1, &q, &tail) != SQLITE_OK || (tail && *tail)) {
    sqlite3_set_authorizer(db, NULL, NULL);
    const char *problem = q ? "the filter must be a single expression" : sqlite3_errmsg(db);
    char *list = join_fields(names, nf);
    if (opt->where)
      st = pm_error(ctx, PM_EINPUT,
                    "layer '%s': the filter `%s` cannot be used (%s); the layer's fields are: %s",
                    layer, opt->where, problem, list ? list : "?");
    else
      st = pm_error(ctx, PM_EDB, "%s: cannot read layer '%s' (%s)", pm_store_path(store), layer,
                    problem);
    free(list);
    sqlite3_finalize(q);
    free(sql);
    free(attr_cols);
    free_fields(names, types, nf);
    return st;
  }
  free(sql);

  pm_features *fs = pm__features_new(ctx, layer);
  if (!fs) st = PM_ENOMEM;
  if (!st && opt->n_attrs) {
    fs->attr_names = calloc(opt->n_attrs, sizeof *fs->attr_names);
    fs->attr = calloc(opt->n_attrs, sizeof *fs->attr);
    if (!fs->attr_names || !fs->attr) st = oom(ctx);
    for (size_t a = 0; !st && a < opt->n_attrs; a++)
      if (!(fs->attr_names[a] = strdup(opt->attrs[a]))) st = oom(ctx);
    if (!st) fs->n_attrs = opt->n_attrs;
  }
  free(attr_cols);
  free_fields(names, types, nf);
  if (fs) fs->kind = kind;

  GEOSWKBReader *rd = st ? NULL : GEOSWKBReader_create_r(h);
  if (!st && !rd) st = oom(ctx);
  size_t capn = 0;
  blob_in bin = {0};
  int rc = SQLITE_DONE;
  while (!st && (rc = pm__store_step(store, q)) == SQLITE_ROW) {
    int64_t fid = sqlite3_column_int64(q, 0);
    const unsigned char *blob = sqlite3_column_blob(q, 1);
    int blen = sqlite3_column_bytes(q, 1);
    if (!blob || blen <= 0) continue; /* NULL geometry rows are not stored by ingest; tolerate */
    int bad;
    GEOSGeometry *g = blob_geometry(h, rd, &bin, blob, (size_t)blen, &bad);
    if (!g && bad) continue; /* not a geometry to SpatiaLite either (AsBinary gave NULL) */
    if (!g) {
      st = pm_error(ctx, PM_EGEOM, "layer '%s' feature %lld: unreadable geometry (%s)", layer,
                    (long long)fid, pm__context_geos_message(ctx));
      break;
    }
    if (GEOSisEmpty_r(h, g) == 1) {
      GEOSGeom_destroy_r(h, g);
      continue;
    }
    char *lab = NULL;
    if (label && sqlite3_column_type(q, 2) != SQLITE_NULL) {
      lab = strdup((const char *)sqlite3_column_text(q, 2));
      if (!lab) {
        GEOSGeom_destroy_r(h, g);
        st = oom(ctx);
        break;
      }
    }
    if ((st = pm__features_push(ctx, fs, &capn, fid, g, lab))) break;
    for (size_t a = 0; a < fs->n_attrs; a++) {
      const unsigned char *t = sqlite3_column_text(q, 3 + (int)a);
      if (t && !(fs->attr[a][fs->n - 1] = strdup((const char *)t))) st = oom(ctx);
    }
  }
  const char *limit = !st && rc != SQLITE_DONE ? pm__store_limit_message(store, why, sizeof why) : NULL;
  if (limit && opt->where)
    st = pm_error(ctx, PM_EINPUT,
                  "layer '%s': the filter `%s` was stopped: %s; simplify the filter (or raise "
                  "--timeout)",
                  layer, opt->where, limit);
  else if (limit)
    st = pm_error(ctx, PM_EDB, "layer '%s': reading it was stopped: %s", layer, limit);
  else if (!st && guard.denied)
    st = pm_error(ctx, PM_EINPUT,
                  "layer '%s': the filter `%s` tried to change the project database (%s); a "
                  "filter only reads the layer's fields",
                  layer, opt->where ? opt->where : "", guard.what);
  else if (!st && rc != SQLITE_DONE)
    st = pm_error(ctx, opt->where ? PM_EINPUT : PM_EDB, "layer '%s'%s%s%s: %s", layer,
                  opt->where ? " with filter `" : "", opt->where ? opt->where : "",
                  opt->where ? "`" : "", sqlite3_errmsg(db));
  if (rd) GEOSWKBReader_destroy_r(h, rd);
  free(bin.xy);
  sqlite3_finalize(q);
  sqlite3_set_authorizer(db, NULL, NULL);
  if (st) {
    pm_features_destroy(ctx, fs);
    return st;
  }
  *out = fs;
  return PM_OK;
}

/* --- cache --- */

typedef struct cache_entry {
  char *key;
  pm_features *fs;
} cache_entry;

struct pm_cache {
  pm_context *ctx;
  pm_store *store;
  cache_entry *v;
  size_t n, cap;
};

pm_status pm_cache_create(pm_context *ctx, pm_store *store, pm_cache **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return oom(ctx);
  (*out)->ctx = ctx;
  (*out)->store = store;
  return PM_OK;
}

void pm_cache_destroy(pm_cache *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n; i++) {
    free(c->v[i].key);
    pm_features_destroy(c->ctx, c->v[i].fs);
  }
  free(c->v);
  free(c);
}

void pm_cache_release_except(pm_cache *c, const pm_features *const *keep, size_t n_keep) {
  size_t m = 0;
  for (size_t i = 0; i < c->n; i++) {
    int kept = 0;
    for (size_t k = 0; k < n_keep && !kept; k++) kept = keep[k] == c->v[i].fs;
    if (kept) {
      c->v[m++] = c->v[i];
    } else {
      free(c->v[i].key);
      pm_features_destroy(c->ctx, c->v[i].fs);
    }
  }
  c->n = m;
}

pm_status pm_cache_get(pm_cache *c, const char *layer, const pm_load_options *opt,
                       const pm_features **out) {
  *out = NULL;
  pm_load_options none = {0};
  if (!opt) opt = &none;
  /* The key separates parts with a byte that cannot occur in UTF-8 text. */
  size_t len = strlen(layer) + 8 + (opt->where ? strlen(opt->where) : 0) +
               (opt->label_field ? strlen(opt->label_field) : 0);
  for (size_t a = 0; a < opt->n_attrs; a++) len += strlen(opt->attrs[a]) + 1;
  char *key = malloc(len);
  if (!key) return oom(c->ctx);
  snprintf(key, len, "%s\xff%s\xff%s\xff", layer, opt->where ? opt->where : "",
           opt->label_field ? opt->label_field : "");
  for (size_t a = 0; a < opt->n_attrs; a++) {
    strcat(key, opt->attrs[a]);
    strcat(key, "\xfe");
  }
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->v[i].key, key) == 0) {
      free(key);
      *out = c->v[i].fs;
      return PM_OK;
    }
  pm_features *fs = NULL;
  pm_status st = pm_features_load(c->ctx, c->store, layer, opt, &fs);
  if (!st) st = pm_features_index(c->ctx, fs);
  if (!st) st = pm__grow(c->ctx, (void **)&c->v, &c->cap, c->n + 1, sizeof *c->v);
  if (st) {
    free(key);
    pm_features_destroy(c->ctx, fs);
    return st;
  }
  c->v[c->n].key = key;
  c->v[c->n].fs = fs;
  c->n++;
  *out = fs;
  return PM_OK;
}

pm_status pm_districts_load(pm_context *ctx, pm_store *store, const char *layer,
                            const char *name_field, const char *const *only, size_t n_only,
                            pm_districts **out) {
  *out = NULL;
  pm_load_options opt = {.label_field = name_field ? name_field : "NAME"};
  pm_features *fs = NULL;
  pm_status st = pm_features_load(ctx, store, layer, &opt, &fs);
  if (st) return st;
  st = pm_districts_create(ctx, fs, opt.label_field, n_only ? only : NULL, n_only, out);
  pm_features_destroy(ctx, fs);
  return st;
}
