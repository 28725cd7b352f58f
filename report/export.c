/* export.c: a recorded run (never recomputed) as a styled GeoPackage and a QGIS project. */
#define _GNU_SOURCE /* strcasestr, mkstemps */
#include "planmetrics/export.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <errno.h>
#include <gdal.h>
#include <limits.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/internal.h"
#include "store/store_internal.h"
#include "report/output.h"
#include "report/qgis_style.h"
#include "report/sources.h"
#include "planmetrics/districts.h"
#include "planmetrics/history.h"
#include "planmetrics/metrics.h"
#include "planmetrics/result.h"

/* Everything one export holds; released by exporter_free. */
typedef struct exporter {
  pm_context *ctx;
  pm_store *store;
  const pm_export_options *opt;
  pm_export_report *rep;
  int srid;
  pm_run_result *run;
  GDALDatasetH ds;
  OGRSpatialReferenceH srs;
  pm__output gpkg, qgs;        /* the files being written (temporary until complete) */
  pm_districts *d;
  char *d_layer, *d_field;
  pm_qgis_layer *ql;          /* the spatial layers written, in writing order */
  size_t n_ql, cap_ql;
  char **owned;               /* strings the pm_qgis_layer entries borrow */
  size_t n_owned, cap_owned;
  char **tables;              /* every table name used (case-insensitively unique) */
  size_t n_tables, cap_tables;
  int has_area;               /* plan area extent (district polygons) */
  double ax0, ay0, ax1, ay1;
  int osm;                    /* some input layer written holds OpenStreetMap data */
  int has_all;                /* extent of everything written */
  double bx0, by0, bx1, by1;
} exporter;

static pm_status gdal_fail(exporter *e, const char *what) {
  const char *msg = CPLGetLastErrorMsg();
  return pm_error(e->ctx, PM_EIO, "%s: cannot %s (%s)", e->opt->gpkg_path, what,
                  msg && *msg ? msg : "GDAL error");
}

static pm_status oom(exporter *e) { return pm_error(e->ctx, PM_ENOMEM, "out of memory exporting"); }

/* Keep a heap string alive until the end of the export; returns it (NULL on failure). */
static char *keep(exporter *e, char *s) {
  if (!s) return NULL;
  if (pm__grow(e->ctx, (void **)&e->owned, &e->cap_owned, e->n_owned + 1, sizeof *e->owned)) {
    free(s);
    return NULL;
  }
  e->owned[e->n_owned++] = s;
  return s;
}

/* A table name not used yet: base, else base_2, base_3... (GeoPackage names ignore case). */
static pm_status unique_table(exporter *e, const char *base, const char **out) {
  char *name = strdup(base);
  for (int k = 2; name; k++) {
    int clash = 0;
    for (size_t i = 0; i < e->n_tables && !clash; i++) clash = strcasecmp(e->tables[i], name) == 0;
    if (!clash) break;
    free(name);
    if (pm_asprintf(e->ctx, &name, "%s_%d", base, k)) return pm_context_status(e->ctx);
  }
  if (!name || !keep(e, name)) return oom(e);
  if (pm__grow(e->ctx, (void **)&e->tables, &e->cap_tables, e->n_tables + 1, sizeof *e->tables))
    return pm_context_status(e->ctx);
  e->tables[e->n_tables++] = name;
  *out = name;
  return PM_OK;
}

static void grow_box(int *has, double *x0, double *y0, double *x1, double *y1, const OGREnvelope *v) {
  if (!*has) {
    *x0 = v->MinX, *y0 = v->MinY, *x1 = v->MaxX, *y1 = v->MaxY;
    *has = 1;
    return;
  }
  if (v->MinX < *x0) *x0 = v->MinX;
  if (v->MinY < *y0) *y0 = v->MinY;
  if (v->MaxX > *x1) *x1 = v->MaxX;
  if (v->MaxY > *y1) *y1 = v->MaxY;
}

/* Register a written spatial layer for styles and the project (its extent read back). */
static pm_status add_qgis_layer(exporter *e, OGRLayerH lyr, const pm_qgis_layer *tmpl) {
  if (pm__grow(e->ctx, (void **)&e->ql, &e->cap_ql, e->n_ql + 1, sizeof *e->ql))
    return pm_context_status(e->ctx);
  pm_qgis_layer *l = &e->ql[e->n_ql++];
  *l = *tmpl;
  l->n_features = OGR_L_GetFeatureCount(lyr, TRUE);
  OGREnvelope env;
  if (l->n_features > 0 && OGR_L_GetExtent(lyr, &env, TRUE) == OGRERR_NONE) {
    l->has_extent = 1;
    l->minx = env.MinX, l->miny = env.MinY, l->maxx = env.MaxX, l->maxy = env.MaxY;
    grow_box(&e->has_all, &e->bx0, &e->by0, &e->bx1, &e->by1, &env);
  }
  if (e->rep) e->rep->n_features += l->n_features;
  return PM_OK;
}

static const char *wkb_name(OGRwkbGeometryType t) {
  switch (wkbFlatten(t)) {
    case wkbPoint: return "Point";
    case wkbMultiPoint: return "MultiPoint";
    case wkbLineString: return "LineString";
    case wkbMultiLineString: return "MultiLineString";
    case wkbPolygon: return "Polygon";
    case wkbMultiPolygon: return "MultiPolygon";
    default: return "Unknown";
  }
}

static pm_geom_kind kind_of_type(OGRwkbGeometryType t) {
  switch (wkbFlatten(t)) {
    case wkbPoint:
    case wkbMultiPoint: return PM_KIND_POINT;
    case wkbLineString:
    case wkbMultiLineString: return PM_KIND_LINE;
    case wkbPolygon:
    case wkbMultiPolygon: return PM_KIND_POLYGON;
    default: return PM_KIND_NONE;
  }
}

/* Create a layer; FID column fid, geometry column geom (the names QGIS expects). */
static pm_status create_layer(exporter *e, const char *name, OGRwkbGeometryType type,
                              const char *description, OGRLayerH *out) {
  char **opts = NULL;
  opts = CSLSetNameValue(opts, "FID", "fid");
  if (type != wkbNone) opts = CSLSetNameValue(opts, "GEOMETRY_NAME", "geom");
  if (description) opts = CSLSetNameValue(opts, "DESCRIPTION", description);
  *out = GDALDatasetCreateLayer(e->ds, name, type == wkbNone ? NULL : e->srs, type, opts);
  CSLDestroy(opts);
  if (!*out) {
    char what[256];
    snprintf(what, sizeof what, "create layer %s", name);
    return gdal_fail(e, what);
  }
  return PM_OK;
}

static pm_status add_field(exporter *e, OGRLayerH lyr, const char *name, OGRFieldType type) {
  OGRFieldDefnH f = OGR_Fld_Create(name, type);
  OGRErr err = OGR_L_CreateField(lyr, f, TRUE);
  OGR_Fld_Destroy(f);
  if (err != OGRERR_NONE) {
    char what[256];
    snprintf(what, sizeof what, "create field %s", name);
    return gdal_fail(e, what);
  }
  return PM_OK;
}

static pm_status begin(exporter *e) {
  return GDALDatasetStartTransaction(e->ds, FALSE) == OGRERR_NONE ? PM_OK
                                                                   : gdal_fail(e, "start a transaction");
}

static pm_status commit(exporter *e) {
  return GDALDatasetCommitTransaction(e->ds) == OGRERR_NONE ? PM_OK : gdal_fail(e, "write the layers");
}

static void set_str(OGRFeatureH f, int i, const char *s) {
  if (s) OGR_F_SetFieldString(f, i, s);
  else OGR_F_SetFieldNull(f, i);
}

static void set_num(OGRFeatureH f, int i, double v) {
  if (isnan(v)) OGR_F_SetFieldNull(f, i);
  else OGR_F_SetFieldDouble(f, i, v);
}

/* ---------- input layers ---------- */

static OGRwkbGeometryType input_type(const pm_layer_info *li) {
  const char *t = li->geometry_type ? li->geometry_type : "";
  if (!strcasecmp(t, "POINT")) return wkbPoint;
  if (!strcasecmp(t, "MULTIPOINT")) return wkbMultiPoint;
  if (!strcasecmp(t, "LINESTRING")) return wkbLineString;
  if (!strcasecmp(t, "MULTILINESTRING")) return wkbMultiLineString;
  if (!strcasecmp(t, "POLYGON")) return wkbPolygon;
  if (!strcasecmp(t, "MULTIPOLYGON")) return wkbMultiPolygon;
  return li->kind == PM_KIND_POINT  ? wkbPoint
         : li->kind == PM_KIND_LINE ? wkbMultiLineString
                                    : wkbMultiPolygon;
}

static OGRFieldType input_field_type(const char *decl) {
  if (decl && strcasestr(decl, "INT")) return OFTInteger64;
  if (decl && (strcasestr(decl, "REAL") || strcasestr(decl, "DOUB") || strcasestr(decl, "FLOA")))
    return OFTReal;
  return OFTString;
}

/* Copy one project layer, attributes and all, reading the SpatiaLite table directly. */
static pm_status copy_input(exporter *e, const pm_layer_info *li) {
  char **names = NULL, **types = NULL;
  size_t nf = 0;
  pm_status st = pm_store_layer_fields(e->store, li->name, &names, &types, &nf);
  if (st) return st;
  const char *table = NULL;
  OGRLayerH lyr = NULL;
  char *sql = NULL, *desc = NULL;
  sqlite3_stmt *q = NULL;
  OGRwkbGeometryType type = input_type(li);
  if ((st = unique_table(e, li->name, &table))) goto done;
  int osm = pm__layer_is_osm(e->store, li);
  e->osm |= osm;
  if ((st = pm_asprintf(e->ctx, &desc, "input layer %s (from %s)%s", li->name,
                        li->source_path ? li->source_path : "?", osm ? ". " PM_OSM_CREDIT : "")))
    goto done;
  if ((st = create_layer(e, table, type, desc, &lyr))) goto done;
  /* OpenStreetMap data: the ODbL asks for the credit wherever the data goes */
  if (osm &&
      GDALSetMetadataItem((GDALMajorObjectH)lyr, "ATTRIBUTION", PM_OSM_CREDIT, NULL) != CE_None) {
    st = gdal_fail(e, "write the layer's attribution");
    goto done;
  }
  for (size_t i = 0; i < nf && !st; i++) st = add_field(e, lyr, names[i], input_field_type(types[i]));
  if (st) goto done;
  /* SELECT fid, AsBinary(geom), "f1", ... FROM "layer" ORDER BY fid */
  size_t len = 64 + strlen(li->name) * 2 + 8;
  for (size_t i = 0; i < nf; i++) len += strlen(names[i]) * 2 + 4;
  if (!(sql = malloc(len))) {
    st = oom(e);
    goto done;
  }
  strcpy(sql, "SELECT fid, AsBinary(geom)");
  for (size_t i = 0; i < nf; i++) {
    char *id = pm__sql_ident(names[i]);
    if (!id) {
      st = oom(e);
      goto done;
    }
    strcat(sql, ", ");
    strcat(sql, id);
    free(id);
  }
  char *tid = pm__sql_ident(li->name);
  if (!tid) {
    st = oom(e);
    goto done;
  }
  strcat(sql, " FROM ");
  strcat(sql, tid);
  strcat(sql, " ORDER BY fid");
  free(tid);
  if ((st = pm__store_prepare(e->store, "reading a layer to export", sql, &q))) goto done;
  if ((st = begin(e))) goto done;
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
  int rc = SQLITE_DONE;
  while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    OGRFeatureH f = OGR_F_Create(defn);
    OGR_F_SetFID(f, sqlite3_column_int64(q, 0));
    const void *blob = sqlite3_column_blob(q, 1);
    int blen = sqlite3_column_bytes(q, 1);
    if (blob && blen > 0) {
      OGRGeometryH g = NULL;
      if (OGR_G_CreateFromWkb(blob, NULL, &g, blen) == OGRERR_NONE) OGR_F_SetGeometryDirectly(f, g);
    }
    for (size_t i = 0; i < nf; i++) {
      int c = (int)i + 2;
      switch (sqlite3_column_type(q, c)) {
        case SQLITE_INTEGER: OGR_F_SetFieldInteger64(f, (int)i, sqlite3_column_int64(q, c)); break;
        case SQLITE_FLOAT: OGR_F_SetFieldDouble(f, (int)i, sqlite3_column_double(q, c)); break;
        case SQLITE_TEXT:
          OGR_F_SetFieldString(f, (int)i, (const char *)sqlite3_column_text(q, c));
          break;
        default: OGR_F_SetFieldNull(f, (int)i);
      }
    }
    if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE) st = gdal_fail(e, "write a feature");
    OGR_F_Destroy(f);
  }
  if (!st && rc != SQLITE_DONE)
    st = pm_error(e->ctx, PM_EDB, "%s: cannot read layer %s (%s)", pm_store_path(e->store),
                  li->name, sqlite3_errmsg(pm__store_db(e->store)));
  if (!st) st = commit(e);
  if (!st) {
    int is_d = e->d_layer && strcmp(e->d_layer, li->name) == 0;
    pm_qgis_layer l = {.name = table, .cls = PM_QGIS_INPUT, .kind = kind_of_type(type),
                       .wkb_name = wkb_name(type), .is_district_input = is_d,
                       .value_min = NAN, .value_max = NAN};
    if (l.kind != PM_KIND_NONE) st = add_qgis_layer(e, lyr, &l);
    if (e->rep) e->rep->n_input_layers++;
  }
done:
  sqlite3_finalize(q);
  free(sql);
  free(desc);
  for (size_t i = 0; i < nf; i++) {
    free(names[i]);
    free(types[i]);
  }
  free(names);
  free(types);
  return st;
}

/* ---------- district polygons ---------- */

/* Distinct district names of the run (not `_all`), in first-seen order. Caller frees the array
 * (names are borrowed from the run). */
static pm_status run_district_names(exporter *e, const char ***out, size_t *n) {
  const char **v = NULL;
  size_t cap = 0;
  *n = 0;
  for (size_t i = 0; i < e->run->n_indicators; i++) {
    const pm_indicator_result *ir = &e->run->indicators[i];
    for (size_t k = 0; k < ir->n_results; k++) {
      const char *dn = ir->results[k].district;
      if (!dn || strcmp(dn, PM_ALL) == 0) continue;
      int seen = 0;
      for (size_t j = 0; j < *n && !seen; j++) seen = strcmp(v[j], dn) == 0;
      if (seen) continue;
      if (pm__grow(e->ctx, (void **)&v, &cap, *n + 1, sizeof *v)) {
        free(v);
        return pm_context_status(e->ctx);
      }
      v[(*n)++] = dn;
    }
  }
  *out = v;
  return PM_OK;
}

/* The polygons of the run's districts, from the districts layer the run recorded. A run recorded
 * by planmetrics 0.1 (no layer recorded) or a layer changed since the run loses only the
 * geometry of the <indicator>_districts layers, with a notice saying so. */
static pm_status find_districts(exporter *e) {
  const char **names = NULL;
  size_t n = 0;
  pm_status st = run_district_names(e, &names, &n);
  if (st || n == 0) return st;
  const char *layer = e->run->districts_layer;
  const char *field = e->run->districts_name_field ? e->run->districts_name_field : "NAME";
  if (!layer) {
    pm_notice(e->ctx,
              "%s: run %lld did not record its districts layer (planmetrics 0.1): the "
              "<indicator>_districts layers are written without geometry; run the plan again to "
              "record it",
              pm_store_path(e->store), (long long)e->run->run_id);
  } else if (pm_districts_load(e->ctx, e->store, layer, field, names, n, &e->d)) {
    pm_notice(e->ctx,
              "%s: the districts of run %lld cannot be read from layer %s (%s); the "
              "<indicator>_districts layers are written without geometry",
              pm_store_path(e->store), (long long)e->run->run_id, layer,
              pm_context_message(e->ctx));
    pm_context_clear_error(e->ctx);
  } else if (!(e->d_layer = strdup(layer)) || !(e->d_field = strdup(field))) {
    st = oom(e);
  }
  free(names);
  return st;
}

/* The district's polygon as an OGR MultiPolygon, or NULL when unknown. Caller destroys. */
static OGRGeometryH district_geom(exporter *e, const char *name) {
  if (!e->d || !name) return NULL;
  for (size_t i = 0; i < e->d->n; i++) {
    if (strcmp(e->d->name[i], name) != 0) continue;
    GEOSContextHandle_t h = pm_context_geos(e->ctx);
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
    if (!w) return NULL;
    GEOSWKBWriter_setOutputDimension_r(h, w, 2);
    size_t len = 0;
    unsigned char *wkb = GEOSWKBWriter_write_r(h, w, e->d->geom[i], &len);
    GEOSWKBWriter_destroy_r(h, w);
    if (!wkb) return NULL;
    OGRGeometryH g = NULL;
    if (OGR_G_CreateFromWkb(wkb, NULL, &g, (int)len) != OGRERR_NONE) g = NULL;
    GEOSFree_r(h, wkb);
    return g ? OGR_G_ForceToMultiPolygon(g) : NULL;
  }
  return NULL;
}

/* ---------- result layers ---------- */

/* What `nearest` holds, as a field name a GIS user reads without the docs (the registry says). */
static const char *nearest_field(const char *metric, const char *role) {
  const pm_detail_role *r = pm_metric_role(metric, role);
  return r && r->nearest ? r->nearest : "nearest";
}

/* Geometry dimension of a detail: 0 point, 1 line, 2 polygon, -1 none or empty. */
static int geom_dim(OGRGeometryH g) {
  if (!g || OGR_G_IsEmpty(g)) return -1;
  return OGR_G_GetDimension(g);
}

/* Add the parts of g of dimension dim to multi (collections are flattened). */
static void collect_parts(OGRGeometryH multi, OGRGeometryH g, int dim) {
  OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(g));
  if (t == wkbGeometryCollection || t == wkbMultiPoint || t == wkbMultiLineString ||
      t == wkbMultiPolygon) {
    for (int i = 0; i < OGR_G_GetGeometryCount(g); i++)
      collect_parts(multi, OGR_G_GetGeometryRef(g, i), dim);
    return;
  }
  if (!OGR_G_IsEmpty(g) && OGR_G_GetDimension(g) == dim) OGR_G_AddGeometry(multi, g);
}

/* g (taken) as the layer's type: unchanged when it already is, else its parts of the layer's
 * dimension gathered in the multi type. */
static OGRGeometryH as_layer_type(OGRGeometryH g, OGRwkbGeometryType lt, int dim) {
  if (!g) return NULL;
  OGR_G_FlattenTo2D(g);
  if (wkbFlatten(OGR_G_GetGeometryType(g)) == lt) return g;
  OGRwkbGeometryType multi = dim == 0 ? wkbMultiPoint : dim == 1 ? wkbMultiLineString : wkbMultiPolygon;
  OGRGeometryH m = OGR_G_CreateGeometry(multi);
  collect_parts(m, g, dim);
  OGR_G_DestroyGeometry(g);
  return m;
}

/* One layer <indicator>_<role>[_points|_lines|_polygons] of the details with that role and
 * geometry dimension (details without geometry go with the main dimension). */
static pm_status write_role(exporter *e, const pm_indicator_result *ir, const char *role,
                            OGRGeometryH *geoms, int dim, int split, int main_dim) {
  static const char *const suffix[] = {"_points", "_lines", "_polygons"};
  char *base = NULL;
  pm_status st = pm_asprintf(e->ctx, &base, "%s_%s%s", ir->id, role, split ? suffix[dim] : "");
  if (st) return st;
  const char *table = NULL;
  st = unique_table(e, base, &table);
  free(base);
  if (st) return st;
  /* the single type when every geometry has it, else the multi type */
  OGRwkbGeometryType single = wkbUnknown;
  int all_single = 1, any = 0;
  for (size_t i = 0; i < ir->n_details; i++) {
    if (strcmp(ir->details[i].role, role) != 0 || geom_dim(geoms[i]) != dim) continue;
    OGRwkbGeometryType t = wkbFlatten(OGR_G_GetGeometryType(geoms[i]));
    if (!any) single = t;
    any = 1;
    if (t != single || t == wkbGeometryCollection || t == wkbMultiPoint ||
        t == wkbMultiLineString || t == wkbMultiPolygon)
      all_single = 0;
  }
  OGRwkbGeometryType lt = all_single && any ? single
                          : dim == 0        ? wkbMultiPoint
                          : dim == 1        ? wkbMultiLineString
                                            : wkbMultiPolygon;
  /* distance: network: segments and pairs are the walked paths to the nearest stop */
  const pm_detail_role *dr = pm_metric_role(ir->metric, role);
  int walked = ir->distance && strcmp(ir->distance, "network") == 0 && dim == 1 && dr &&
               dr->by_covered && (dr->style == PM_ROLE_VERDICT || dr->style == PM_ROLE_PAIR);
  const char *what = walked ? "the walked path along the network to the nearest stop"
                     : dr && dr->style == PM_ROLE_REACHED
                         ? "the network reached, in bands of walked distance"
                         : role;
  char *desc = NULL;
  if ((st = pm_asprintf(e->ctx, &desc, "%s: %s (run %lld)", ir->id, what, (long long)e->run->run_id)))
    return st;
  OGRLayerH lyr = NULL;
  st = create_layer(e, table, lt, desc, &lyr);
  free(desc);
  if (st) return st;
  if ((st = add_field(e, lyr, "district", OFTString)) || (st = add_field(e, lyr, "id", OFTString)) ||
      (st = add_field(e, lyr, "name", OFTString)) || (st = add_field(e, lyr, "covered", OFTInteger)) ||
      (st = add_field(e, lyr, "distance_m", OFTReal)) ||
      (st = add_field(e, lyr, nearest_field(ir->metric, role), OFTString)))
    return st;
  if ((st = begin(e))) return st;
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
  int has_covered = 0;
  double dmin = NAN, dmax = NAN;
  for (size_t i = 0; i < ir->n_details && !st; i++) {
    const pm_detail *dt = &ir->details[i];
    int gd = geom_dim(geoms[i]);
    if (strcmp(dt->role, role) != 0 || (gd != dim && !(gd < 0 && dim == main_dim))) continue;
    if (isfinite(dt->distance_m)) {
      if (isnan(dmin) || dt->distance_m < dmin) dmin = dt->distance_m;
      if (isnan(dmax) || dt->distance_m > dmax) dmax = dt->distance_m;
    }
    OGRFeatureH f = OGR_F_Create(defn);
    set_str(f, 0, dt->district);
    set_str(f, 1, dt->id);
    set_str(f, 2, dt->name);
    if (dt->covered == 0 || dt->covered == 1) {
      OGR_F_SetFieldInteger(f, 3, dt->covered);
      has_covered = 1;
    } else {
      OGR_F_SetFieldNull(f, 3);
    }
    set_num(f, 4, dt->distance_m);
    set_str(f, 5, dt->nearest);
    if (gd >= 0) {
      OGRGeometryH g = as_layer_type(OGR_G_Clone(geoms[i]), lt, dim);
      if (g) OGR_F_SetGeometryDirectly(f, g);
    }
    if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE) st = gdal_fail(e, "write a result feature");
    OGR_F_Destroy(f);
  }
  if (!st) st = commit(e);
  if (st) return st;
  pm_qgis_layer l = {.name = table, .group = ir->id, .group_title = ir->title,
                     .cls = PM_QGIS_RESULT, .kind = kind_of_type(lt), .wkb_name = wkb_name(lt),
                     .metric = ir->metric, .role = role, .has_covered = has_covered,
                     .walked = walked, .unit = ir->unit, .value_min = dmin, .value_max = dmax};
  if (e->rep) e->rep->n_result_layers++;
  return add_qgis_layer(e, lyr, &l);
}

static pm_status write_results(exporter *e, const pm_indicator_result *ir) {
  if (ir->n_details == 0) return PM_OK;
  OGRGeometryH *geoms = calloc(ir->n_details, sizeof *geoms);
  if (!geoms) return oom(e);
  pm_status st = PM_OK;
  for (size_t i = 0; i < ir->n_details; i++) {
    const pm_detail *dt = &ir->details[i];
    if (dt->wkb && dt->wkb_len > 0 &&
        OGR_G_CreateFromWkb(dt->wkb, NULL, &geoms[i], (int)dt->wkb_len) != OGRERR_NONE)
      geoms[i] = NULL;
  }
  /* roles in first-seen order (a handful per indicator, so a linear search is enough) */
  const char **roles = NULL;
  size_t n_roles = 0, cap_roles = 0;
  for (size_t i = 0; i < ir->n_details && !st; i++) {
    int seen = 0;
    for (size_t k = 0; k < n_roles && !seen; k++) seen = strcmp(roles[k], ir->details[i].role) == 0;
    if (!seen && !(st = pm__grow(e->ctx, (void **)&roles, &cap_roles, n_roles + 1, sizeof *roles)))
      roles[n_roles++] = ir->details[i].role;
  }
  /* each role split by dimension only when it mixes them */
  for (size_t r = 0; r < n_roles && !st; r++) {
    const char *role = roles[r];
    int dims[3] = {0, 0, 0}, nd = 0, main_dim = -1;
    size_t best = 0;
    for (size_t k = 0; k < ir->n_details; k++) {
      if (strcmp(ir->details[k].role, role) != 0) continue;
      int gd = geom_dim(geoms[k]);
      if (gd >= 0 && gd <= 2) dims[gd]++;
    }
    for (int dd = 0; dd < 3; dd++) {
      if (dims[dd]) nd++;
      if ((size_t)dims[dd] > best) best = (size_t)dims[dd], main_dim = dd;
    }
    if (nd == 0) main_dim = 0; /* no geometry at all: an attribute-only point layer */
    for (int dd = 0; dd < 3 && !st; dd++)
      if (dims[dd] || (nd == 0 && dd == main_dim))
        st = write_role(e, ir, role, geoms, dd, nd > 1, main_dim);
  }
  for (size_t i = 0; i < ir->n_details; i++)
    if (geoms[i]) OGR_G_DestroyGeometry(geoms[i]);
  free(geoms);
  free(roles);
  return st;
}

/* ---------- district layers ---------- */

static pm_status write_districts(exporter *e, const pm_indicator_result *ir) {
  size_t nd = 0;
  for (size_t k = 0; k < ir->n_results; k++)
    if (ir->results[k].district && strcmp(ir->results[k].district, PM_ALL) != 0) nd++;
  if (nd == 0) return PM_OK;
  char *base = NULL, *desc = NULL;
  const char *table = NULL;
  pm_status st = pm_asprintf(e->ctx, &base, "%s_districts", ir->id);
  if (!st) st = unique_table(e, base, &table);
  free(base);
  if (!st)
    st = pm_asprintf(e->ctx, &desc, "%s per district (run %lld)", ir->id, (long long)e->run->run_id);
  if (st) return st;
  OGRLayerH lyr = NULL;
  st = create_layer(e, table, wkbMultiPolygon, desc, &lyr);
  free(desc);
  if (st) return st;
  static const struct {
    const char *name;
    OGRFieldType type;
  } fields[] = {{"district", OFTString},    {"value", OFTReal},     {"target_op", OFTString},
                {"target", OFTReal},        {"met", OFTInteger},    {"numerator", OFTReal},
                {"denominator", OFTReal},   {"unit", OFTString},    {"n_gaps", OFTInteger64},
                {"null_reason", OFTString}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0] && !st; i++)
    st = add_field(e, lyr, fields[i].name, fields[i].type);
  if (st || (st = begin(e))) return st;
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
  double vmin = NAN, vmax = NAN;
  for (size_t k = 0; k < ir->n_results && !st; k++) {
    const pm_result *r = &ir->results[k];
    if (!r->district || strcmp(r->district, PM_ALL) == 0) continue;
    OGRFeatureH f = OGR_F_Create(defn);
    set_str(f, 0, r->district);
    set_num(f, 1, r->has_value ? r->value : NAN);
    set_str(f, 2, ir->has_target ? ir->target_op : NULL);
    set_num(f, 3, r->has_target ? r->target : ir->has_target ? ir->target_value : NAN);
    if (r->has_target && r->has_value) OGR_F_SetFieldInteger(f, 4, r->met ? 1 : 0);
    else OGR_F_SetFieldNull(f, 4);
    set_num(f, 5, r->numerator);
    set_num(f, 6, r->has_ratio ? r->denominator : NAN);
    set_str(f, 7, ir->unit);
    /* not measured: no gap count (0 would read "nothing missing") */
    if (ir->status == PM_IND_NO_DATA) OGR_F_SetFieldNull(f, 8);
    else OGR_F_SetFieldInteger64(f, 8, (GIntBig)r->n_gaps);
    set_str(f, 9, r->has_value ? NULL : r->null_reason);
    OGRGeometryH g = district_geom(e, r->district);
    if (g) {
      OGREnvelope env;
      OGR_G_GetEnvelope(g, &env);
      grow_box(&e->has_area, &e->ax0, &e->ay0, &e->ax1, &e->ay1, &env);
      OGR_F_SetGeometryDirectly(f, g);
    }
    if (r->has_value) {
      if (isnan(vmin) || r->value < vmin) vmin = r->value;
      if (isnan(vmax) || r->value > vmax) vmax = r->value;
    }
    if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE) st = gdal_fail(e, "write a district feature");
    OGR_F_Destroy(f);
  }
  if (!st) st = commit(e);
  if (st) return st;
  pm_qgis_layer l = {.name = table, .group = ir->id, .group_title = ir->title,
                     .cls = PM_QGIS_DISTRICTS, .kind = PM_KIND_POLYGON,
                     .wkb_name = "MultiPolygon", .unit = ir->unit, .has_target = ir->has_target,
                     .target_op = ir->target_op, .target = ir->target_value, .value_min = vmin,
                     .value_max = vmax};
  if (e->rep) e->rep->n_district_layers++;
  return add_qgis_layer(e, lyr, &l);
}

/* ---------- run_results and layer_styles tables ---------- */

static pm_status write_run_results(exporter *e) {
  OGRLayerH lyr = NULL;
  pm_status st = create_layer(e, "run_results", wkbNone, "every result of the run, _all included", &lyr);
  if (st) return st;
  static const struct {
    const char *name;
    OGRFieldType type;
  } fields[] = {{"run_id", OFTInteger64},   {"indicator_id", OFTString}, {"title", OFTString},
                {"metric", OFTString},      {"unit", OFTString},         {"status", OFTString},
                {"status_reason", OFTString}, {"district", OFTString},   {"value", OFTReal},
                {"null_reason", OFTString}, {"target_op", OFTString},    {"target", OFTReal},
                {"met", OFTInteger},        {"numerator", OFTReal},      {"denominator", OFTReal},
                {"n_gaps", OFTInteger64}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0] && !st; i++)
    st = add_field(e, lyr, fields[i].name, fields[i].type);
  if (st || (st = begin(e))) return st;
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
  for (size_t i = 0; i < e->run->n_indicators && !st; i++) {
    const pm_indicator_result *ir = &e->run->indicators[i];
    for (size_t k = 0; k < (ir->n_results ? ir->n_results : 1) && !st; k++) {
      const pm_result *r = ir->n_results ? &ir->results[k] : NULL;
      OGRFeatureH f = OGR_F_Create(defn);
      OGR_F_SetFieldInteger64(f, 0, e->run->run_id);
      set_str(f, 1, ir->id);
      set_str(f, 2, ir->title);
      set_str(f, 3, ir->metric);
      set_str(f, 4, ir->unit);
      set_str(f, 5, pm_indicator_status_name(ir->status));
      set_str(f, 6, ir->status_reason);
      set_str(f, 7, r ? r->district : NULL);
      set_num(f, 8, r && r->has_value ? r->value : NAN);
      set_str(f, 9, r && !r->has_value ? r->null_reason : NULL);
      set_str(f, 10, ir->has_target ? ir->target_op : NULL);
      set_num(f, 11, ir->has_target ? ir->target_value : NAN);
      if (r && r->has_target && r->has_value) OGR_F_SetFieldInteger(f, 12, r->met ? 1 : 0);
      else OGR_F_SetFieldNull(f, 12);
      set_num(f, 13, r ? r->numerator : NAN);
      set_num(f, 14, r && r->has_ratio ? r->denominator : NAN);
      if (r && ir->status != PM_IND_NO_DATA) OGR_F_SetFieldInteger64(f, 15, (GIntBig)r->n_gaps);
      else OGR_F_SetFieldNull(f, 15);
      if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE) st = gdal_fail(e, "write run_results");
      OGR_F_Destroy(f);
    }
  }
  return st ? st : commit(e);
}

/* The table QGIS reads a layer's default style from (the schema QGIS itself creates). */
static pm_status write_styles(exporter *e) {
  OGRLayerH lyr = NULL;
  pm_status st = create_layer(e, "layer_styles", wkbNone, NULL, &lyr);
  if (st) return st;
  static const struct {
    const char *name;
    OGRFieldType type;
    int width;
  } fields[] = {{"f_table_catalog", OFTString, 256}, {"f_table_schema", OFTString, 256},
                {"f_table_name", OFTString, 256},    {"f_geometry_column", OFTString, 256},
                {"styleName", OFTString, 0},        {"styleQML", OFTString, 0},
                {"styleSLD", OFTString, 0},         {"useAsDefault", OFTInteger, 0},
                {"description", OFTString, 0},      {"owner", OFTString, 0},
                {"ui", OFTString, 0},               {"update_time", OFTDateTime, 0}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    OGRFieldDefnH f = OGR_Fld_Create(fields[i].name, fields[i].type);
    if (fields[i].width) OGR_Fld_SetWidth(f, fields[i].width);
    if (fields[i].type == OFTInteger) OGR_Fld_SetSubType(f, OFSTBoolean);
    if (fields[i].type == OFTDateTime) OGR_Fld_SetDefault(f, "CURRENT_TIMESTAMP");
    OGRErr err = OGR_L_CreateField(lyr, f, TRUE);
    OGR_Fld_Destroy(f);
    if (err != OGRERR_NONE) return gdal_fail(e, "create the layer_styles table");
  }
  if ((st = begin(e))) return st;
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lyr);
  char now[32];
  pm_utc_now(now, sizeof now);
  int y = 0, mo = 0, dd = 0, hh = 0, mi = 0, ss = 0;
  sscanf(now, "%d-%d-%dT%d:%d:%d", &y, &mo, &dd, &hh, &mi, &ss);
  for (size_t i = 0; i < e->n_ql && !st; i++) {
    const pm_qgis_layer *l = &e->ql[i];
    char *qml = NULL, *desc = NULL;
    if ((st = pm_qgis_layer_qml(e->ctx, l, &qml))) break;
    st = e->run ? pm_asprintf(e->ctx, &desc, "planmetrics: %s, run %lld of plan %s", l->name,
                              (long long)e->run->run_id, e->run->plan ? e->run->plan : "?")
                : pm_asprintf(e->ctx, &desc, "planmetrics: %s", l->name);
    if (!st) {
      OGRFeatureH f = OGR_F_Create(defn);
      OGR_F_SetFieldString(f, 0, "");
      OGR_F_SetFieldString(f, 1, "");
      OGR_F_SetFieldString(f, 2, l->name);
      OGR_F_SetFieldString(f, 3, "geom");
      OGR_F_SetFieldString(f, 4, l->name);
      OGR_F_SetFieldString(f, 5, qml);
      OGR_F_SetFieldString(f, 6, "");
      OGR_F_SetFieldInteger(f, 7, 1);
      OGR_F_SetFieldString(f, 8, desc);
      OGR_F_SetFieldString(f, 9, "");
      OGR_F_SetFieldNull(f, 10);
      OGR_F_SetFieldDateTimeEx(f, 11, y, mo, dd, hh, mi, (float)ss, 100);
      if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE) st = gdal_fail(e, "write a layer style");
      OGR_F_Destroy(f);
      if (!st && e->rep) e->rep->n_styles++;
    }
    free(qml);
    free(desc);
  }
  return st ? st : commit(e);
}

/* ---------- files ---------- */

static pm_status check_paths(exporter *e) {
  const pm_export_options *o = e->opt;
  if (!o->gpkg_path || !*o->gpkg_path)
    return pm_error(e->ctx, PM_EINPUT, "give the GeoPackage to write (--gpkg OUT.gpkg)");
  char a[PATH_MAX], b[PATH_MAX];
  if (realpath(o->gpkg_path, a) && realpath(pm_store_path(e->store), b) && strcmp(a, b) == 0)
    return pm_error(e->ctx, PM_EINPUT, "%s: that is the project database; choose another file",
                    o->gpkg_path);
  if (o->qgs_path && strcmp(o->qgs_path, o->gpkg_path) == 0)
    return pm_error(e->ctx, PM_EINPUT, "%s: the project and the GeoPackage need different names",
                    o->qgs_path);
  return PM_OK;
}

/* The dataset's credit of its sources: OpenStreetMap data as the ODbL asks (when a layer written
 * holds some), and the plan's `attribution:` of each input layer of the run, as recorded. */
static pm_status set_attribution(exporter *e) {
  pm__source *src = NULL;
  size_t n = 0;
  pm_status st = pm__run_sources(e->store, e->run, &src, &n);
  if (st) return st;
  char *text = NULL;
  for (size_t i = 0; i < n && !st; i++) {
    if (!src[i].attribution) continue;
    char *t = NULL;
    st = pm_asprintf(e->ctx, &t, "%s%s%s: %s", text ? text : "", text ? "; " : "", src[i].layer,
                     src[i].attribution);
    free(text);
    text = t;
  }
  if (!st && e->osm) {
    char *t = NULL;
    st = pm_asprintf(e->ctx, &t, "%s%s%s", PM_OSM_CREDIT, text ? "; " : "", text ? text : "");
    free(text);
    text = t;
  }
  if (!st && text) GDALSetMetadataItem(e->ds, "PLANMETRICS_ATTRIBUTION", text, NULL);
  free(text);
  pm__sources_free(src, n);
  return st;
}

static pm_status write_gpkg(exporter *e) {
  GDALDriverH drv = GDALGetDriverByName("GPKG");
  if (!drv) return pm_error(e->ctx, PM_EINTERNAL, "GDAL has no GPKG driver");
  pm_status st = pm__output_reserve(e->ctx, &e->gpkg, e->opt->gpkg_path, "GeoPackage");
  if (st) return st;
  e->ds = GDALCreate(drv, e->gpkg.tmp, 0, 0, 0, GDT_Unknown, NULL);
  if (!e->ds) return gdal_fail(e, "create the GeoPackage");
  e->srs = OSRNewSpatialReference(NULL);
  if (!e->srs || OSRImportFromEPSG(e->srs, e->srid) != OGRERR_NONE)
    return pm_error(e->ctx, PM_ECRS, "EPSG:%d: unknown to PROJ", e->srid);
  OSRSetAxisMappingStrategy(e->srs, OAMS_TRADITIONAL_GIS_ORDER);
  char buf[64];
  snprintf(buf, sizeof buf, "%lld", (long long)e->run->run_id);
  GDALSetMetadataItem(e->ds, "PLANMETRICS_RUN_ID", buf, NULL);
  if (e->run->plan) GDALSetMetadataItem(e->ds, "PLANMETRICS_PLAN", e->run->plan, NULL);
  if (e->run->title) GDALSetMetadataItem(e->ds, "PLANMETRICS_TITLE", e->run->title, NULL);
  if (e->run->generated_at)
    GDALSetMetadataItem(e->ds, "PLANMETRICS_GENERATED_AT", e->run->generated_at, NULL);
  if (e->run->plan_hash) GDALSetMetadataItem(e->ds, "PLANMETRICS_PLAN_HASH", e->run->plan_hash, NULL);

  /* result and district names first, so input layers never take them */
  pm_layer_info *li = NULL;
  size_t nl = 0;
  if ((st = pm_store_list_layers(e->store, &li, &nl))) return st;
  for (size_t i = 0; i < e->run->n_indicators && !st; i++)
    st = write_results(e, &e->run->indicators[i]);
  for (size_t i = 0; i < e->run->n_indicators && !st; i++)
    st = write_districts(e, &e->run->indicators[i]);
  for (size_t i = 0; i < nl && !st; i++) st = copy_input(e, &li[i]);
  pm_layer_info_destroy_all(li, nl);
  if (!st) st = set_attribution(e);
  if (!st) st = write_run_results(e);
  if (!st) st = write_styles(e);
  CPLErrorReset();
  GDALClose(e->ds);
  e->ds = NULL;
  if (!st && CPLGetLastErrorType() >= CE_Failure) st = gdal_fail(e, "finish the GeoPackage");
  return st;
}

static void exporter_free(exporter *e) {
  if (e->ds) GDALClose(e->ds);
  if (e->srs) OSRDestroySpatialReference(e->srs);
  if (e->gpkg.tmp) pm__output_close(e->ctx, &e->gpkg, PM_EIO);
  if (e->qgs.tmp) pm__output_close(e->ctx, &e->qgs, PM_EIO);
  if (e->d) pm_districts_destroy(e->ctx, e->d);
  free(e->d_layer);
  free(e->d_field);
  pm_run_result_destroy(e->run);
  for (size_t i = 0; i < e->n_owned; i++) free(e->owned[i]);
  free(e->owned);
  free(e->tables);
  free(e->ql);
}

pm_status pm_export(pm_context *ctx, pm_store *store, const pm_export_options *opt,
                    pm_export_report *rep) {
  if (rep) memset(rep, 0, sizeof *rep);
  exporter e = {.ctx = ctx, .store = store, .opt = opt, .rep = rep};
  pm_status st = check_paths(&e);
  if (st) return st;
  const char *crs = NULL;
  if ((st = pm_store_crs(store, &e.srid, &crs))) return st;
  if (e.srid == 0)
    return pm_error(ctx, PM_EINPUT, "%s: the project has no layers yet; run a plan first",
                    pm_store_path(store));
  if ((st = pm_history_load_run(store, opt->run_id, &e.run))) return st;
  GDALAllRegister();
  CPLPushErrorHandler(CPLQuietErrorHandler);
  /* the table names this writer creates itself */
  const char *reserved = NULL;
  st = unique_table(&e, "layer_styles", &reserved);
  if (!st) st = unique_table(&e, "run_results", &reserved);
  if (!st) st = find_districts(&e);
  if (!st) st = write_gpkg(&e);
  if (!st && opt->qgs_path) {
    pm_qgis_project proj = {.title = e.run->title ? e.run->title : e.run->plan,
                            .gpkg_path = opt->gpkg_path, .srid = e.srid};
    if (e.has_area) {
      proj.minx = e.ax0, proj.miny = e.ay0, proj.maxx = e.ax1, proj.maxy = e.ay1;
    } else if (e.has_all) {
      proj.minx = e.bx0, proj.miny = e.by0, proj.maxx = e.bx1, proj.maxy = e.by1;
    }
    st = pm__output_reserve(ctx, &e.qgs, opt->qgs_path, "QGIS project");
    if (!st) st = pm_qgis_write_project(ctx, &proj, e.ql, e.n_ql, opt->qgs_path, e.qgs.tmp);
  }
  if (!st) st = pm__output_close(ctx, &e.gpkg, st);
  if (!st && e.qgs.tmp) st = pm__output_close(ctx, &e.qgs, st);
  CPLPopErrorHandler();
  if (!st && rep) {
    rep->run_id = e.run->run_id;
    if (e.run->plan && !(rep->plan = strdup(e.run->plan))) st = oom(&e);
    if (e.d_layer) {
      rep->districts_layer = strdup(e.d_layer);
      rep->districts_field = strdup(e.d_field);
    }
  }
  exporter_free(&e);
  return st;
}

void pm_export_report_clear(pm_export_report *rep) {
  if (!rep) return;
  free(rep->plan);
  free(rep->districts_layer);
  free(rep->districts_field);
  memset(rep, 0, sizeof *rep);
}

/* ---------- query tables ---------- */

/* The field type of a table column: that of its first non-NULL cell (text when all are NULL). */
static pm_cell_type column_type(const pm_table *t, size_t c) {
  for (size_t r = 0; r < t->n_rows; r++) {
    pm_cell_type ty = t->cells[r * t->n_cols + c].type;
    if (ty != PM_CELL_NULL) return ty;
  }
  return PM_CELL_TEXT;
}

static pm_status write_table(exporter *e, const pm_table_layer *tl) {
  const pm_table *t = tl->table;
  int gc = pm_table_col(t, "wkt");
  int dc = pm_table_col(t, "distance_m");
  OGRGeometryH *geoms = calloc(t->n_rows ? t->n_rows : 1, sizeof *geoms);
  if (!geoms) return oom(e);
  pm_status st = PM_OK;
  OGRwkbGeometryType single = wkbUnknown;
  int all_single = 1, any = 0, dim = -1;
  for (size_t r = 0; gc >= 0 && r < t->n_rows && !st; r++) {
    const pm_cell *c = pm_table_cell(t, r, (size_t)gc);
    if (c->type != PM_CELL_TEXT || !c->s) continue;
    char *p = c->s;
    if (OGR_G_CreateFromWkt(&p, NULL, &geoms[r]) != OGRERR_NONE) {
      st = pm_error(e->ctx, PM_EINTERNAL, "%s: row %zu of layer %s: unreadable geometry",
                    e->opt->gpkg_path, r + 1, tl->name);
      break;
    }
    int gd = geom_dim(geoms[r]);
    if (gd < 0) continue;
    OGRwkbGeometryType ty = wkbFlatten(OGR_G_GetGeometryType(geoms[r]));
    if (!any) single = ty, dim = gd;
    any = 1;
    if (ty != single || ty == wkbGeometryCollection) all_single = 0;
    if (gd > dim) dim = gd; /* mixed dimensions cannot happen in a query table; keep the highest */
  }
  OGRwkbGeometryType lt = gc < 0 ? wkbNone
                          : !any ? wkbUnknown
                          : all_single ? single
                          : dim == 0   ? wkbMultiPoint
                          : dim == 1   ? wkbMultiLineString
                                       : wkbMultiPolygon;
  const char *table = NULL;
  OGRLayerH lyr = NULL;
  double vmin = NAN, vmax = NAN;
  if (!st) st = unique_table(e, tl->name, &table);
  if (!st) st = create_layer(e, table, lt, tl->title, &lyr);
  for (size_t c = 0; !st && c < t->n_cols; c++) {
    if ((int)c == gc) continue;
    pm_cell_type ty = column_type(t, c);
    OGRFieldDefnH f = OGR_Fld_Create(t->cols[c], ty == PM_CELL_INT    ? OFTInteger64
                                                 : ty == PM_CELL_REAL ? OFTReal
                                                 : ty == PM_CELL_BOOL ? OFTInteger
                                                                      : OFTString);
    if (ty == PM_CELL_BOOL) OGR_Fld_SetSubType(f, OFSTBoolean);
    OGRErr err = OGR_L_CreateField(lyr, f, TRUE);
    OGR_Fld_Destroy(f);
    if (err != OGRERR_NONE) st = gdal_fail(e, "create a field");
  }
  if (!st) st = begin(e);
  OGRFeatureDefnH defn = st ? NULL : OGR_L_GetLayerDefn(lyr);
  for (size_t r = 0; !st && r < t->n_rows; r++) {
    OGRFeatureH f = OGR_F_Create(defn);
    int fi = 0;
    for (size_t c = 0; c < t->n_cols; c++) {
      if ((int)c == gc) continue;
      const pm_cell *cell = pm_table_cell(t, r, c);
      switch (cell->type) {
        case PM_CELL_TEXT: set_str(f, fi, cell->s); break;
        case PM_CELL_INT:
        case PM_CELL_BOOL: OGR_F_SetFieldInteger64(f, fi, cell->i); break;
        case PM_CELL_REAL: set_num(f, fi, cell->d); break;
        default: OGR_F_SetFieldNull(f, fi);
      }
      fi++;
    }
    if (dc >= 0) {
      const pm_cell *cell = pm_table_cell(t, r, (size_t)dc);
      if (cell->type == PM_CELL_REAL && isfinite(cell->d)) {
        if (isnan(vmin) || cell->d < vmin) vmin = cell->d;
        if (isnan(vmax) || cell->d > vmax) vmax = cell->d;
      }
    }
    if (geoms[r] && lt != wkbNone && lt != wkbUnknown) {
      OGRGeometryH g = as_layer_type(OGR_G_Clone(geoms[r]), lt, dim);
      if (g) OGR_F_SetGeometryDirectly(f, g);
    }
    if (OGR_L_CreateFeature(lyr, f) != OGRERR_NONE) st = gdal_fail(e, "write a feature");
    OGR_F_Destroy(f);
  }
  if (!st) st = commit(e);
  if (!st && lt != wkbNone && lt != wkbUnknown) {
    pm_qgis_layer l = {.name = table, .cls = PM_QGIS_RESULT, .kind = kind_of_type(lt),
                       .wkb_name = wkb_name(lt), .role = tl->style, .value_min = vmin,
                       .value_max = vmax};
    st = add_qgis_layer(e, lyr, &l);
  }
  for (size_t r = 0; r < t->n_rows; r++)
    if (geoms[r]) OGR_G_DestroyGeometry(geoms[r]);
  free(geoms);
  return st;
}

pm_status pm_export_tables(pm_context *ctx, const char *gpkg_path, int srid,
                           const pm_table_layer *layers, size_t n) {
  pm_export_options opt = {.gpkg_path = gpkg_path};
  exporter e = {.ctx = ctx, .opt = &opt, .srid = srid};
  if (!gpkg_path || !*gpkg_path)
    return pm_error(ctx, PM_EINPUT, "give the GeoPackage to write (--gpkg OUT.gpkg)");
  GDALAllRegister();
  CPLPushErrorHandler(CPLQuietErrorHandler);
  GDALDriverH drv = GDALGetDriverByName("GPKG");
  const char *reserved = NULL;
  pm_status st = drv ? PM_OK : pm_error(ctx, PM_EINTERNAL, "GDAL has no GPKG driver");
  if (!st) st = pm__output_reserve(ctx, &e.gpkg, gpkg_path, "GeoPackage");
  if (!st && !(e.ds = GDALCreate(drv, e.gpkg.tmp, 0, 0, 0, GDT_Unknown, NULL)))
    st = gdal_fail(&e, "create the GeoPackage");
  if (!st) {
    e.srs = OSRNewSpatialReference(NULL);
    if (!e.srs || OSRImportFromEPSG(e.srs, srid) != OGRERR_NONE)
      st = pm_error(ctx, PM_ECRS, "EPSG:%d: unknown to PROJ", srid);
    else
      OSRSetAxisMappingStrategy(e.srs, OAMS_TRADITIONAL_GIS_ORDER);
  }
  if (!st) st = unique_table(&e, "layer_styles", &reserved);
  for (size_t i = 0; !st && i < n; i++) st = write_table(&e, &layers[i]);
  if (!st) st = write_styles(&e);
  if (e.ds) {
    CPLErrorReset();
    GDALClose(e.ds);
    e.ds = NULL;
    if (!st && CPLGetLastErrorType() >= CE_Failure) st = gdal_fail(&e, "finish the GeoPackage");
  }
  if (e.gpkg.tmp) st = pm__output_close(ctx, &e.gpkg, st);
  CPLPopErrorHandler();
  exporter_free(&e);
  return st;
}
