/* details.c: the geometries of a run's detail features, one SpatiaLite table per geometry type
 * (pm_details_points, pm_details_lines, pm_details_polygons: MULTI* in the project CRS, registered
 * with a spatial index), so that QGIS opens each as an ordinary layer with its type and CRS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "store/history_internal.h"
#include "store/store_internal.h"

static const struct {
  const char *table, *type;
  int geos_multi;
} TABLES[3] = {
    {"pm_details_points", "MULTIPOINT", GEOS_MULTIPOINT},
    {"pm_details_lines", "MULTILINESTRING", GEOS_MULTILINESTRING},
    {"pm_details_polygons", "MULTIPOLYGON", GEOS_MULTIPOLYGON},
};

/* SELECT fn(...) that must return 1 (SpatiaLite's registration functions). */
static pm_status spatialite_call(pm_store *s, const char *what, const char *sql) {
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, what, sql, &q);
  if (st) return st;
  int ok = sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == 1;
  sqlite3_finalize(q);
  return ok ? PM_OK
            : pm_error(pm_store_context(s), PM_EDB, "%s: SpatiaLite refused %s", pm_store_path(s),
                       what);
}

/* Databases of planmetrics 0.1 kept detail geometries in one GEOMETRY column of pm_details, which
 * QGIS cannot type: move them to the per-type tables (a collection's parts to each table of their
 * type, as pm__details_write does) and drop that column. */
static pm_status migrate_legacy(pm_store *s) {
  sqlite3 *db = pm__store_db(s);
  sqlite3_stmt *q = NULL;
  int legacy = 0;
  if (sqlite3_prepare_v2(db,
                         "SELECT 1 FROM geometry_columns WHERE lower(f_table_name) = 'pm_details' "
                         "AND lower(f_geometry_column) = 'geom'",
                         -1, &q, NULL) == SQLITE_OK)
    legacy = sqlite3_step(q) == SQLITE_ROW;
  sqlite3_finalize(q);
  if (!legacy) return PM_OK;
  static const char *const CAST[3] = {"CastToMultiPoint", "CastToMultiLinestring",
                                      "CastToMultiPolygon"};
  pm_status st = pm__store_exec(
      s, "moving the detail geometries of older runs",
      "UPDATE pm_details SET geom_type = CASE GeometryType(geom) WHEN 'POINT' THEN 'Point' "
      "WHEN 'LINESTRING' THEN 'LineString' WHEN 'POLYGON' THEN 'Polygon' WHEN 'MULTIPOINT' THEN "
      "'MultiPoint' WHEN 'MULTILINESTRING' THEN 'MultiLineString' WHEN 'MULTIPOLYGON' THEN "
      "'MultiPolygon' ELSE 'GeometryCollection' END WHERE geom IS NOT NULL");
  for (size_t k = 0; !st && k < 3; k++) {
    char sql[600];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s (run_id, indicator_id, ord, role, district, id, name, covered, "
             "distance_m, nearest, geom) SELECT run_id, indicator_id, ord, role, district, id, "
             "name, covered, distance_m, nearest, %s(geom) FROM pm_details WHERE geom IS NOT "
             "NULL AND %s(geom) IS NOT NULL",
             TABLES[k].table, CAST[k], CAST[k]);
    st = pm__store_exec(s, "moving the detail geometries of older runs", sql);
  }
  if (!st) st = spatialite_call(s, "releasing the old detail geometry column",
                                "SELECT DiscardGeometryColumn('pm_details', 'geom')");
  if (!st)
    st = pm__store_exec(s, "dropping the old detail geometry column",
                        "ALTER TABLE pm_details DROP COLUMN geom");
  return st;
}

pm_status pm__details_schema(pm_store *s, int srid) {
  pm_status st = PM_OK;
  for (size_t k = 0; !st && k < 3; k++) {
    if (pm__store_has_table(s, TABLES[k].table)) continue;
    char sql[600];
    snprintf(sql, sizeof sql,
             "CREATE TABLE %s (run_id INTEGER NOT NULL, indicator_id TEXT NOT NULL, ord INTEGER, "
             "role TEXT, district TEXT, id TEXT, name TEXT, covered INTEGER, distance_m REAL, "
             "nearest TEXT);"
             "CREATE INDEX %s_run ON %s(run_id, indicator_id, ord)",
             TABLES[k].table, TABLES[k].table, TABLES[k].table);
    if ((st = pm__store_exec(s, "creating the detail geometry tables", sql))) break;
    snprintf(sql, sizeof sql, "SELECT AddGeometryColumn('%s', 'geom', %d, '%s', 'XY')",
             TABLES[k].table, srid, TABLES[k].type);
    if ((st = spatialite_call(s, "the geometry column of the run details", sql))) break;
    snprintf(sql, sizeof sql, "SELECT CreateSpatialIndex('%s', 'geom')", TABLES[k].table);
    st = spatialite_call(s, "the spatial index of the run details", sql);
  }
  return st ? st : migrate_legacy(s);
}

struct pm__details_writer {
  pm_store *s;
  GEOSContextHandle_t h;
  GEOSWKBReader *rd;
  GEOSWKBWriter *wr;
  sqlite3_stmt *ins[3];
  int srid;
  pm__store_triggers triggers[3]; /* each table's, set aside until finish */
  int64_t last_rowid[3];          /* the table's largest rowid before this writer's rows */
  size_t n_rows[3];
};

static pm_status last_rowid(pm_store *s, const char *table, int64_t *out) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT coalesce(max(rowid), 0) FROM %s", table);
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, "reading the detail tables", sql, &q);
  if (!st && sqlite3_step(q) == SQLITE_ROW) *out = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  return st;
}

pm_status pm__details_writer_create(pm_store *s, int srid, pm__details_writer **out) {
  *out = NULL;
  pm_context *ctx = pm_store_context(s);
  pm__details_writer *w = calloc(1, sizeof *w);
  if (!w) return pm_error(ctx, PM_ENOMEM, "out of memory");
  w->s = s;
  w->srid = srid;
  w->h = pm_context_geos(ctx);
  w->rd = GEOSWKBReader_create_r(w->h);
  w->wr = GEOSWKBWriter_create_r(w->h);
  pm_status st = w->rd && w->wr ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
  if (w->wr) GEOSWKBWriter_setOutputDimension_r(w->h, w->wr, 2);
  for (size_t k = 0; !st && k < 3; k++) {
    char sql[400];
    snprintf(sql, sizeof sql,
             "INSERT INTO %s (run_id, indicator_id, ord, role, district, id, name, covered, "
             "distance_m, nearest, geom) VALUES (?,?,?,?,?,?,?,?,?,?, GeomFromWKB(?, %d)) "
             "RETURNING geom IS NULL",
             TABLES[k].table, srid);
    st = pm__store_prepare(s, "recording result geometries", sql, &w->ins[k]);
    if (!st) st = last_rowid(s, TABLES[k].table, &w->last_rowid[k]);
    if (!st) st = pm__store_triggers_aside(s, TABLES[k].table, &w->triggers[k]);
  }
  if (st) {
    pm__details_writer_destroy(w);
    return st;
  }
  *out = w;
  return PM_OK;
}

pm_status pm__details_writer_finish(pm__details_writer *w) {
  pm_status st = PM_OK;
  for (size_t k = 0; !st && k < 3; k++) {
    /* The R*Tree entries of the new rows, as SpatiaLite's trigger would have made them (the
     * rtree module rounds the float boxes outwards as it does for the trigger's insert). */
    if (w->n_rows[k]) {
      char sql[400];
      snprintf(sql, sizeof sql,
               "INSERT INTO idx_%s_geom (pkid, xmin, xmax, ymin, ymax) SELECT rowid, "
               "MbrMinX(geom), MbrMaxX(geom), MbrMinY(geom), MbrMaxY(geom) FROM %s WHERE "
               "rowid > %lld AND geom IS NOT NULL ORDER BY MbrMinX(geom) + MbrMaxX(geom)",
               TABLES[k].table, TABLES[k].table, (long long)w->last_rowid[k]);
      st = pm__store_exec(w->s, "indexing the result geometries", sql);
    }
    if (!st) st = pm__store_triggers_restore(w->s, &w->triggers[k]);
    if (!st && w->n_rows[k]) st = pm__store_note_insert(w->s, TABLES[k].table);
  }
  return st;
}

void pm__details_writer_destroy(pm__details_writer *w) {
  if (!w) return;
  for (size_t k = 0; k < 3; k++) pm__store_triggers_clear(&w->triggers[k]);
  for (size_t k = 0; k < 3; k++) sqlite3_finalize(w->ins[k]);
  if (w->rd) GEOSWKBReader_destroy_r(w->h, w->rd);
  if (w->wr) GEOSWKBWriter_destroy_r(w->h, w->wr);
  free(w);
}

/* 0 points, 1 lines, 2 polygons, -1 a collection (or nothing usable). */
static int dim_of(GEOSContextHandle_t h, const GEOSGeometry *g) {
  switch (GEOSGeomTypeId_r(h, g)) {
    case GEOS_POINT: case GEOS_MULTIPOINT: return 0;
    case GEOS_LINESTRING: case GEOS_LINEARRING: case GEOS_MULTILINESTRING: return 1;
    case GEOS_POLYGON: case GEOS_MULTIPOLYGON: return 2;
    default: return -1;
  }
}

/* The single parts of g (collections flattened, nested ones too) sorted by dimension. The parts
 * are borrowed from g. */
typedef struct parts {
  const GEOSGeometry **v[3];
  size_t n[3], cap[3];
} parts;

static int collect(GEOSContextHandle_t h, pm_context *ctx, const GEOSGeometry *g, parts *p) {
  int t = GEOSGeomTypeId_r(h, g);
  if (t == GEOS_GEOMETRYCOLLECTION || t == GEOS_MULTIPOINT || t == GEOS_MULTILINESTRING ||
      t == GEOS_MULTIPOLYGON) {
    int n = GEOSGetNumGeometries_r(h, g);
    for (int i = 0; i < n; i++)
      if (collect(h, ctx, GEOSGetGeometryN_r(h, g, i), p)) return -1;
    return 0;
  }
  int d = dim_of(h, g);
  if (d < 0 || GEOSisEmpty_r(h, g) == 1) return 0;
  if (pm__grow(ctx, (void **)&p->v[d], &p->cap[d], p->n[d] + 1, sizeof *p->v[d])) return -1;
  p->v[d][p->n[d]++] = g;
  return 0;
}

pm_status pm__details_write(pm__details_writer *w, int64_t run_id, const char *indicator,
                            size_t ord, const pm_detail *dt, char **geom_type) {
  pm_context *ctx = pm_store_context(w->s);
  *geom_type = NULL;
  if (!dt->wkb || !dt->wkb_len) return PM_OK;
  GEOSGeometry *g = GEOSWKBReader_read_r(w->h, w->rd, dt->wkb, dt->wkb_len);
  if (!g)
    return pm_error(ctx, PM_EINTERNAL, "%s: unreadable geometry of detail '%s' (indicator '%s')",
                    pm_store_path(w->s), dt->id ? dt->id : "?", indicator);
  parts p = {0};
  pm_status st = collect(w->h, ctx, g, &p) ? pm_context_status(ctx) : PM_OK;
  char *type = GEOSGeomType_r(w->h, g);
  if (!st && type && !(*geom_type = strdup(type))) st = pm_error(ctx, PM_ENOMEM, "out of memory");
  if (type) GEOSFree_r(w->h, type);
  for (size_t k = 0; !st && k < 3; k++) {
    if (!p.n[k]) continue;
    /* The multi geometry of this dimension, built on clones (the collection owns its parts). */
    GEOSGeometry **cl = malloc(p.n[k] * sizeof *cl);
    if (!cl) {
      st = pm_error(ctx, PM_ENOMEM, "out of memory");
      break;
    }
    size_t made = 0;
    for (; made < p.n[k]; made++)
      if (!(cl[made] = GEOSGeom_clone_r(w->h, p.v[k][made]))) break;
    GEOSGeometry *m = made == p.n[k]
                          ? GEOSGeom_createCollection_r(w->h, TABLES[k].geos_multi, cl,
                                                        (unsigned)made)
                          : NULL;
    if (!m)
      for (size_t i = 0; i < made; i++) GEOSGeom_destroy_r(w->h, cl[i]);
    free(cl);
    size_t len = 0;
    unsigned char *wkb = m ? GEOSWKBWriter_write_r(w->h, w->wr, m, &len) : NULL;
    if (m) GEOSGeom_destroy_r(w->h, m);
    if (!wkb) {
      st = pm_error(ctx, PM_EGEOM, "detail '%s' of indicator '%s': %s", dt->id ? dt->id : "?",
                    indicator, pm__context_geos_message(ctx));
      break;
    }
    sqlite3_stmt *y = w->ins[k];
    sqlite3_bind_int64(y, 1, run_id);
    sqlite3_bind_text(y, 2, indicator, -1, SQLITE_STATIC);
    sqlite3_bind_int64(y, 3, (sqlite3_int64)ord);
    pm__bind_text(y, 4, dt->role);
    pm__bind_text(y, 5, dt->district);
    pm__bind_text(y, 6, dt->id);
    pm__bind_text(y, 7, dt->name);
    sqlite3_bind_int(y, 8, dt->covered);
    pm__bind_real(y, 9, dt->distance_m);
    pm__bind_text(y, 10, dt->nearest);
    sqlite3_bind_blob(y, 11, wkb, (int)len, SQLITE_TRANSIENT);
    GEOSFree_r(w->h, wkb);
    /* The insert returns whether SpatiaLite could not read the WKB: never lose a geometry
     * silently. */
    int rc = sqlite3_step(y);
    int lost = rc == SQLITE_ROW && sqlite3_column_int(y, 0);
    if (rc == SQLITE_ROW) rc = sqlite3_step(y);
    if (rc != SQLITE_DONE)
      st = pm_error(ctx, PM_EDB, "%s: recording a result geometry in the run history (%s)",
                    pm_store_path(w->s), sqlite3_errmsg(pm__store_db(w->s)));
    else if (lost)
      st = pm_error(ctx, PM_EINTERNAL,
                    "%s: SpatiaLite could not read the geometry of '%s' (indicator '%s', EPSG:%d)",
                    pm_store_path(w->s), dt->id ? dt->id : "?", indicator, w->srid);
    sqlite3_reset(y);
    sqlite3_clear_bindings(y);
    if (!st) w->n_rows[k]++;
  }
  for (size_t k = 0; k < 3; k++) free(p.v[k]);
  GEOSGeom_destroy_r(w->h, g);
  return st;
}

/* ---------- loading ---------- */

/* Set d's WKB from g (consumed). */
static pm_status set_wkb(pm_context *ctx, GEOSWKBWriter *wr, pm_detail *d, GEOSGeometry *g) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  size_t len = 0;
  unsigned char *wkb = GEOSWKBWriter_write_r(h, wr, g, &len);
  GEOSGeom_destroy_r(h, g);
  if (!wkb) return pm_error(ctx, PM_ENOMEM, "out of memory reading the run history");
  free(d->wkb);
  d->wkb = malloc(len);
  if (d->wkb) memcpy(d->wkb, wkb, len);
  d->wkb_len = d->wkb ? len : 0;
  GEOSFree_r(h, wkb);
  return d->wkb ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory reading the run history");
}

/* The geometry as recorded: one part of a multi for a single type, the multi for a multi type, a
 * collection of every part for a collection. Consumes the multis. */
static GEOSGeometry *rebuild(GEOSContextHandle_t h, const char *type, GEOSGeometry *multi[3]) {
  int kinds = 0, last = -1;
  for (int k = 0; k < 3; k++)
    if (multi[k]) kinds++, last = k;
  if (!kinds) return NULL;
  int single = type && (!strcmp(type, "Point") || !strcmp(type, "LineString") ||
                        !strcmp(type, "LinearRing") || !strcmp(type, "Polygon"));
  int coll = type && !strcmp(type, "GeometryCollection");
  if (!coll && kinds == 1) {
    GEOSGeometry *m = multi[last];
    multi[last] = NULL;
    if (!single || GEOSGetNumGeometries_r(h, m) != 1) return m;
    GEOSGeometry *one = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, m, 0));
    GEOSGeom_destroy_r(h, m);
    return one;
  }
  size_t n = 0;
  for (int k = 0; k < 3; k++) n += multi[k] ? (size_t)GEOSGetNumGeometries_r(h, multi[k]) : 0;
  GEOSGeometry **v = malloc((n ? n : 1) * sizeof *v);
  size_t at = 0;
  for (int k = 0; v && k < 3; k++) {
    if (!multi[k]) continue;
    int np = GEOSGetNumGeometries_r(h, multi[k]);
    for (int i = 0; i < np; i++) {
      GEOSGeometry *c = GEOSGeom_clone_r(h, GEOSGetGeometryN_r(h, multi[k], i));
      if (c) v[at++] = c;
    }
    GEOSGeom_destroy_r(h, multi[k]);
    multi[k] = NULL;
  }
  GEOSGeometry *gc = v ? GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, v, (unsigned)at) : NULL;
  free(v);
  return gc;
}

pm_status pm__details_load(pm_store *s, int64_t run_id, pm_run_result *run) {
  pm_context *ctx = pm_store_context(s);
  GEOSContextHandle_t h = pm_context_geos(ctx);
  if (!pm__store_has_table(s, TABLES[0].table)) return PM_OK;
  /* Per detail, its multi geometry of each dimension; details are numbered run-wide. */
  size_t total = 0;
  for (size_t i = 0; i < run->n_indicators; i++) total += run->indicators[i].n_details;
  if (!total) return PM_OK;
  GEOSGeometry *(*multi)[3] = calloc(total, sizeof *multi);
  char **types = calloc(total, sizeof *types);
  size_t *base = calloc(run->n_indicators ? run->n_indicators : 1, sizeof *base);
  GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
  GEOSWKBWriter *wr = GEOSWKBWriter_create_r(h);
  pm_status st = multi && types && base && rd && wr ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
  if (wr) GEOSWKBWriter_setOutputDimension_r(h, wr, 2);
  for (size_t i = 1; !st && i < run->n_indicators; i++)
    base[i] = base[i - 1] + run->indicators[i - 1].n_details;

  /* The type each detail had when it was recorded. */
  sqlite3_stmt *tq = NULL;
  if (!st)
    st = pm__store_prepare(s, "reading the detail geometry types of a run",
                           "SELECT indicator_id, ord, geom_type FROM pm_details WHERE run_id = ? "
                           "AND geom_type IS NOT NULL",
                           &tq);
  if (!st) {
    sqlite3_bind_int64(tq, 1, run_id);
    size_t hint = 0;
    while (!st && sqlite3_step(tq) == SQLITE_ROW) {
      pm_indicator_result *ir =
          pm__history_find_indicator(run, (const char *)sqlite3_column_text(tq, 0), &hint);
      int64_t ord = sqlite3_column_int64(tq, 1);
      if (!ir || ord < 0 || (size_t)ord >= ir->n_details) continue;
      size_t at = base[ir - run->indicators] + (size_t)ord;
      if (!(types[at] = strdup((const char *)sqlite3_column_text(tq, 2))))
        st = pm_error(ctx, PM_ENOMEM, "out of memory");
    }
  }
  sqlite3_finalize(tq);
  for (size_t k = 0; !st && k < 3; k++) {
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT indicator_id, ord, AsBinary(geom) FROM %s WHERE run_id = ?",
             TABLES[k].table);
    sqlite3_stmt *q = NULL;
    if ((st = pm__store_prepare(s, "reading the detail geometries of a run", sql, &q))) break;
    sqlite3_bind_int64(q, 1, run_id);
    size_t hint = 0;
    int rc;
    while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
      const char *ind = (const char *)sqlite3_column_text(q, 0);
      int64_t ord = sqlite3_column_int64(q, 1);
      pm_indicator_result *ir = pm__history_find_indicator(run, ind, &hint);
      const void *wkb = sqlite3_column_blob(q, 2);
      int len = sqlite3_column_bytes(q, 2);
      if (!ir || ord < 0 || (size_t)ord >= ir->n_details || !wkb || len <= 0) {
        st = pm_error(ctx, PM_EDB,
                      "%s: the run history of run %lld is inconsistent (a geometry of an unknown "
                      "detail); run the plan again",
                      pm_store_path(s), (long long)run_id);
        break;
      }
      size_t at = base[ir - run->indicators] + (size_t)ord;
      if (multi[at][k]) continue; /* one row per detail and dimension */
      if (!(multi[at][k] = GEOSWKBReader_read_r(h, rd, wkb, (size_t)len)))
        st = pm_error(ctx, PM_EGEOM, "%s: an unreadable detail geometry in run %lld",
                      pm_store_path(s), (long long)run_id);
    }
    if (!st && rc != SQLITE_DONE)
      st = pm_error(ctx, PM_EDB, "%s: reading the detail geometries (%s)", pm_store_path(s),
                    sqlite3_errmsg(pm__store_db(s)));
    sqlite3_finalize(q);
  }
  for (size_t i = 0; !st && i < run->n_indicators; i++) {
    pm_indicator_result *ir = &run->indicators[i];
    for (size_t d = 0; !st && d < ir->n_details; d++) {
      size_t at = base[i] + d;
      GEOSGeometry *g = rebuild(h, types[at], multi[at]);
      if (g) st = set_wkb(ctx, wr, &ir->details[d], g);
    }
  }
  for (size_t i = 0; multi && i < total; i++)
    for (int k = 0; k < 3; k++)
      if (multi[i][k]) GEOSGeom_destroy_r(h, multi[i][k]);
  for (size_t i = 0; types && i < total; i++) free(types[i]);
  free(types);
  free(multi);
  free(base);
  if (rd) GEOSWKBReader_destroy_r(h, rd);
  if (wr) GEOSWKBWriter_destroy_r(h, wr);
  return st;
}
