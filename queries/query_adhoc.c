/* query_adhoc.c: the planner's ad-hoc questions: nearest feature, features in a district,
 * dissolved length. Each answers with a pm_table. */
#include "planmetrics/query.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "planmetrics/districts.h"
#include "queries/query_internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

static pm_status geos_failed(pm_context *ctx, const char *what, const char *layer) {
  return pm_error(ctx, PM_EGEOM, "layer '%s': %s failed (GEOS: %s)", layer, what,
                  pm__context_geos_message(ctx));
}

pm_status pm__query_check_layer(pm_context *ctx, pm_store *store, const char *layer,
                                const char *role) {
  if (!layer || !*layer) return pm_error(ctx, PM_EINPUT, "give the %s layer", role);
  pm_layer_info info;
  int found = 0;
  pm_status st = pm_store_layer_info(store, layer, &info, &found);
  if (st) return st;
  pm_layer_info_clear(&info);
  if (found) return PM_OK;
  pm_layer_info *all = NULL;
  size_t n = 0;
  if ((st = pm_store_list_layers(store, &all, &n))) return st;
  size_t len = 1;
  for (size_t i = 0; i < n; i++) len += strlen(all[i].name) + 2;
  char *list = calloc(len, 1);
  for (size_t i = 0; list && i < n; i++) {
    if (i) strcat(list, ", ");
    strcat(list, all[i].name);
  }
  pm_layer_info_destroy_all(all, n);
  if (!list) return oom(ctx);
  st = pm_error(ctx, PM_ENOTFOUND,
                "%s: no layer '%s' (%s) in the project; %s%s%s", pm_store_path(store), layer, role,
                n ? "its layers are: " : "the project has no layers yet", list,
                n ? "" : " (ingest one with planmetrics ingest)");
  free(list);
  return st;
}

pm_status pm__query_load(pm_context *ctx, pm_store *store, const char *layer, const char *where,
                         const char *role, pm_features **out) {
  *out = NULL;
  pm_status st = pm__query_check_layer(ctx, store, layer, role);
  if (st) return st;
  pm_load_options opt = {.where = where && *where ? where : NULL};
  return pm_features_load(ctx, store, layer, &opt, out);
}

typedef struct idx_list {
  size_t *v;
  size_t n, cap;
  pm_context *ctx;
  pm_status st;
} idx_list;

static void idx_list_cb(void *item, void *user) {
  idx_list *l = user;
  if (l->st) return;
  if ((l->st = pm__grow(l->ctx, (void **)&l->v, &l->cap, l->n + 1, sizeof *l->v))) return;
  l->v[l->n++] = (size_t)(uintptr_t)item;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* Sorted item indices: the tree's visiting order is not stable, the output must be. */
static void sort_idx(idx_list *l) {
  if (l->n > 1) qsort(l->v, l->n, sizeof *l->v, cmp_size);
}

/* ---- districts ---- */

/* Whether district 0 of d holds g: a point (or multipoint) when the polygon covers it (boundary
 * included); a line or polygon when a part of positive length or area lies inside (touching the
 * edge is not lying in it), that part's measure in *inside and the whole's in *whole (dim 1:
 * lengths, 2: areas). *holds receives 1 or 0. */
static pm_status district_holds(pm_context *ctx, const pm_districts *d, const GEOSGeometry *g,
                                int dim, const char *layer, int *holds, double *inside,
                                double *whole) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  *holds = 0;
  *inside = *whole = 0;
  char c = dim == 0 ? GEOSPreparedCovers_r(h, d->prep[0], g)
                    : GEOSPreparedIntersects_r(h, d->prep[0], g);
  if (c == 2) return geos_failed(ctx, "the district test", layer);
  if (c != 1) return PM_OK;
  if (dim == 0) {
    *holds = 1;
    return PM_OK;
  }
  GEOSGeometry *part = NULL;
  pm_status st = pm_districts_clip(ctx, d, 0, g, &part);
  if (st) return st;
  int ok = dim == 1 ? GEOSLength_r(h, part, inside) && GEOSLength_r(h, g, whole)
                    : GEOSArea_r(h, part, inside) && GEOSArea_r(h, g, whole);
  GEOSGeom_destroy_r(h, part);
  if (!ok) return geos_failed(ctx, dim == 1 ? "measuring a length" : "measuring an area", layer);
  *holds = *inside > 0;
  return PM_OK;
}

static int dim_of(pm_geom_kind kind) {
  return kind == PM_KIND_LINE ? 1 : kind == PM_KIND_POLYGON ? 2 : 0;
}

/* One district of a polygon layer (districts_layer NULL: "districts", name_field NULL: "NAME");
 * an unknown name is an error listing the names. Caller frees *out. */
static pm_status load_district(pm_context *ctx, pm_store *store, const char *district,
                               const char *districts_layer, const char *name_field,
                               pm_districts **out) {
  *out = NULL;
  if (!district || !*district) return pm_error(ctx, PM_EINPUT, "name the district (e.g. 青浦区)");
  if (!districts_layer) districts_layer = "districts";
  if (!name_field) name_field = "NAME";
  pm_status st = pm__query_check_layer(ctx, store, districts_layer, "districts");
  if (st) return st;
  const char *only[1] = {district};
  return pm_districts_load(ctx, store, districts_layer, name_field, only, 1, out);
}

/* ---- near ---- */

/* The nearest-neighbour search hands the callback the query item and a tree item (a feature
 * index, where index 0 is the null pointer); the query item is this struct's own address, so
 * the two can always be told apart. */
/* Nearest feature of `to` (indexed, not empty) to g: *best and its distance; among features at
 * the same distance the lowest fid (the first loaded) wins. */
static pm_status nearest(pm_context *ctx, const pm_features *to, const GEOSGeometry *g,
                         size_t *best, double *dist) {
  pm_status st = pm_features_nearest(ctx, to, NULL, g, best, dist);
  if (!st && *best == SIZE_MAX) st = geos_failed(ctx, "the nearest-feature search", to->layer);
  return st;
}

/* The near table of the features of `from` whose keep[] is set (keep NULL: all of them);
 * misses_only keeps only the rows without a feature of `to` within within_m. `in` names the
 * district the selection was made in, for the summary (NULL: none). */
static pm_status near_table(pm_context *ctx, const pm_features *from, const unsigned char *keep,
                            pm_features *to, double within_m, int misses_only, const char *in,
                            pm_table **out) {
  *out = NULL;
  if (isnan(within_m) || within_m < 0)
    return pm_error(ctx, PM_EINPUT, "the distance for `within` must be a number of metres >= 0");
  static const char *const cols[] = {"from_fid", "from_name", "to_fid", "to_name", "distance_m",
                                     "within"};
  pm_status st = to->n ? pm_features_index(ctx, to) : PM_OK;
  pm_table *t = NULL;
  if (!st) st = pm_table_create(ctx, cols, PM_ARRAY_LEN(cols), &t);
  size_t n_from = 0, n_within = 0;
  for (size_t i = 0; !st && i < from->n; i++) {
    if (keep && !keep[i]) continue;
    n_from++;
    size_t j = 0;
    double d = 0;
    int found = to->n > 0;
    if (found && (st = nearest(ctx, to, from->geom[i], &j, &d))) break;
    int within = found && d <= within_m;
    n_within += within;
    if (misses_only && within) continue;
    size_t r;
    if ((st = pm_table_add_row(ctx, t, &r))) break;
    pm_table_set_int(ctx, t, r, 0, from->fid[i]);
    if ((st = pm_table_set_text(ctx, t, r, 1, from->label[i]))) break;
    pm_table_set_bool(ctx, t, r, 5, within);
    if (!found) continue;
    pm_table_set_int(ctx, t, r, 2, to->fid[j]);
    if ((st = pm_table_set_text(ctx, t, r, 3, to->label[j]))) break;
    pm_table_set_real(ctx, t, r, 4, d, 2);
  }
  if (!st) {
    const char *sep = in ? " in " : "";
    if (in == NULL) in = "";
    double pct = n_from ? 100.0 * (double)(misses_only ? n_from - n_within : n_within) /
                              (double)n_from
                        : 0;
    if (n_from == 0)
      st = pm_table_set_summary(ctx, t, "no features of %s%s%s to measure", from->layer, sep, in);
    else if (misses_only)
      st = pm_table_set_summary(ctx, t,
                                "%zu of %zu features of %s%s%s have no feature of %s within "
                                "%.10g m (%.1f %%)",
                                n_from - n_within, n_from, from->layer, sep, in, to->layer,
                                within_m, pct);
    else
      st = pm_table_set_summary(ctx, t, "%zu of %zu features of %s%s%s within %.10g m of %s (%.1f %%)",
                                n_within, n_from, from->layer, sep, in, within_m, to->layer, pct);
  }
  if (st) {
    pm_table_destroy(t);
    return st;
  }
  *out = t;
  return PM_OK;
}

pm_status pm_query_near_features(pm_context *ctx, const pm_features *from, pm_features *to,
                                 double within_m, pm_table **out) {
  return near_table(ctx, from, NULL, to, within_m, 0, NULL, out);
}

pm_status pm_query_near(pm_context *ctx, pm_store *store, const pm_near_query *q, pm_table **out) {
  *out = NULL;
  if (isnan(q->within_m) || q->within_m < 0)
    return pm_error(ctx, PM_EINPUT, "the distance for `within` must be a number of metres >= 0");
  pm_features *f = NULL, *t = NULL;
  pm_districts *d = NULL;
  unsigned char *keep = NULL;
  pm_status st = PM_OK;
  if (q->district)
    st = load_district(ctx, store, q->district, q->districts_layer, q->name_field, &d);
  if (!st) st = pm__query_load(ctx, store, q->from, q->where_from, "from", &f);
  if (!st) st = pm__query_load(ctx, store, q->to, q->where_to, "to", &t);
  if (!st && d) {
    /* only the features of `from` in the district; the nearest may lie outside it */
    if (!(keep = calloc(f->n ? f->n : 1, 1))) st = oom(ctx);
    int dim = dim_of(f->kind);
    for (size_t i = 0; !st && i < f->n; i++) {
      int holds;
      double inside, whole;
      st = district_holds(ctx, d, f->geom[i], dim, f->layer, &holds, &inside, &whole);
      keep[i] = (unsigned char)holds;
    }
  }
  if (!st) st = near_table(ctx, f, keep, t, q->within_m, q->misses_only, q->district, out);
  free(keep);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, f);
  pm_features_destroy(ctx, t);
  return st;
}

/* ---- within ---- */

pm_status pm_query_within(pm_context *ctx, pm_store *store, const char *layer, const char *where,
                          const char *district, const char *districts_layer,
                          const char *name_field, pm_table **out) {
  *out = NULL;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_districts *d = NULL;
  pm_features *fs = NULL;
  pm_table *t = NULL;
  idx_list hits = {.ctx = ctx};
  pm_status st = load_district(ctx, store, district, districts_layer, name_field, &d);
  if (st) return st;
  if ((st = pm__query_load(ctx, store, layer, where, "layer", &fs))) goto done;
  if ((st = pm_features_index(ctx, fs))) goto done;

  static const char *const point_cols[] = {"fid", "name", "x", "y"};
  static const char *const line_cols[] = {"fid", "name", "length_inside_m", "length_m"};
  static const char *const poly_cols[] = {"fid", "name", "area_inside_m2", "area_m2"};
  int dim = dim_of(fs->kind);
  if ((st = pm_table_create(ctx, dim == 0 ? point_cols : dim == 1 ? line_cols : poly_cols, 4, &t)))
    goto done;
  if (fs->n > 0) GEOSSTRtree_query_r(h, fs->tree, d->geom[0], idx_list_cb, &hits);
  if ((st = hits.st)) goto done;
  sort_idx(&hits); /* feature order is fid order */
  double sum = 0;
  size_t n_in = 0;
  for (size_t k = 0; k < hits.n; k++) {
    const GEOSGeometry *g = fs->geom[hits.v[k]];
    double inside = 0, whole = 0;
    int holds = 0;
    if ((st = district_holds(ctx, d, g, dim, fs->layer, &holds, &inside, &whole))) goto done;
    if (!holds) continue;
    size_t r, i = hits.v[k];
    if ((st = pm_table_add_row(ctx, t, &r))) goto done;
    pm_table_set_int(ctx, t, r, 0, fs->fid[i]);
    if ((st = pm_table_set_text(ctx, t, r, 1, fs->label[i]))) goto done;
    if (dim == 0) {
      double x = NAN, y = NAN;
      GEOSGeometry *c = GEOSGeomTypeId_r(h, g) == GEOS_POINT ? NULL : GEOSGetCentroid_r(h, g);
      const GEOSGeometry *p = c ? c : g;
      if (GEOSGeomTypeId_r(h, p) == GEOS_POINT) {
        GEOSGeomGetX_r(h, p, &x);
        GEOSGeomGetY_r(h, p, &y);
      }
      if (c) GEOSGeom_destroy_r(h, c);
      pm_table_set_real(ctx, t, r, 2, x, 2);
      pm_table_set_real(ctx, t, r, 3, y, 2);
    } else {
      pm_table_set_real(ctx, t, r, 2, inside, dim == 1 ? 2 : 1);
      pm_table_set_real(ctx, t, r, 3, whole, dim == 1 ? 2 : 1);
    }
    sum += inside;
    n_in++;
  }
  if (dim == 0)
    st = pm_table_set_summary(ctx, t, "%zu of %zu features of %s lie in %s", n_in, fs->n,
                              fs->layer, district);
  else if (dim == 1)
    st = pm_table_set_summary(ctx, t,
                              "%zu of %zu features of %s lie (partly) in %s; their parts inside "
                              "add up to %.3f km (overlaps counted once by `query length`)",
                              n_in, fs->n, fs->layer, district, sum / 1000.0);
  else
    st = pm_table_set_summary(ctx, t,
                              "%zu of %zu features of %s lie (partly) in %s; their parts inside "
                              "add up to %.1f m2 (%.2f ha)",
                              n_in, fs->n, fs->layer, district, sum, sum / 10000.0);

done:
  free(hits.v);
  pm_features_destroy(ctx, fs);
  pm_districts_destroy(ctx, d);
  if (st) {
    pm_table_destroy(t);
    return st;
  }
  *out = t;
  return PM_OK;
}

/* ---- length ---- */

typedef struct line_parts {
  const GEOSGeometry **part; /* leaves of the dissolved lines, borrowed */
  size_t n, cap;
} line_parts;

static pm_status collect_lines(pm_context *ctx, line_parts *lp, const GEOSGeometry *g) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  int type = GEOSGeomTypeId_r(h, g);
  if (type == GEOS_MULTILINESTRING || type == GEOS_GEOMETRYCOLLECTION) {
    int n = GEOSGetNumGeometries_r(h, g);
    for (int k = 0; k < n; k++) {
      pm_status st = collect_lines(ctx, lp, GEOSGetGeometryN_r(h, g, k));
      if (st) return st;
    }
    return PM_OK;
  }
  if (type != GEOS_LINESTRING && type != GEOS_LINEARRING) return PM_OK;
  if (GEOSisEmpty_r(h, g) != 0) return PM_OK;
  pm_status st = pm__grow(ctx, (void **)&lp->part, &lp->cap, lp->n + 1, sizeof *lp->part);
  if (st) return st;
  lp->part[lp->n++] = g;
  return PM_OK;
}

/* Metres of the dissolved lines inside result slot i: parts the district covers count whole,
 * only parts crossing its edge are clipped. tree indexes lp's parts. */
static pm_status slot_length(pm_context *ctx, const pm_districts *d, size_t i, const line_parts *lp,
                             GEOSSTRtree *tree, const char *layer, double *len_m) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  *len_m = 0;
  const GEOSGeometry *region = i < d->n ? d->geom[i] : d->all;
  const GEOSPreparedGeometry *prep = i < d->n ? d->prep[i] : d->all_prep;
  idx_list hits = {.ctx = ctx};
  if (lp->n) GEOSSTRtree_query_r(h, tree, region, idx_list_cb, &hits);
  pm_status st = hits.st;
  if (!st) sort_idx(&hits);
  for (size_t k = 0; !st && k < hits.n; k++) {
    const GEOSGeometry *p = lp->part[hits.v[k]];
    double l = 0;
    char covers = GEOSPreparedCovers_r(h, prep, p);
    if (covers == 1) {
      if (!GEOSLength_r(h, p, &l)) st = geos_failed(ctx, "measuring a length", layer);
    } else if (covers == 0) {
      GEOSGeometry *x = NULL;
      st = pm_districts_clip(ctx, d, i, p, &x);
      if (!st && !GEOSLength_r(h, x, &l)) st = geos_failed(ctx, "measuring a length", layer);
      if (x) GEOSGeom_destroy_r(h, x);
    } else {
      st = geos_failed(ctx, "the district test", layer);
    }
    *len_m += l;
  }
  free(hits.v);
  return st;
}

pm_status pm_query_length(pm_context *ctx, pm_store *store, const char *layer, const char *where,
                          int by_district, const char *districts_layer, const char *name_field,
                          pm_table **out) {
  *out = NULL;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  if (!districts_layer) districts_layer = "districts";
  if (!name_field) name_field = "NAME";
  pm_features *fs = NULL;
  pm_districts *d = NULL;
  pm_table *t = NULL;
  GEOSGeometry *u = NULL;
  GEOSSTRtree *tree = NULL;
  line_parts lp = {0};
  pm_status st = pm__query_load(ctx, store, layer, where, "layer", &fs);
  if (st) goto done;
  if (fs->kind != PM_KIND_LINE) {
    st = pm_error(ctx, PM_EINPUT,
                  "layer '%s' holds %ss; `length` measures line layers (for the area of "
                  "polygons in a district use `within`)",
                  layer, pm_geom_kind_name(fs->kind));
    goto done;
  }
  if (by_district) {
    if ((st = pm__query_check_layer(ctx, store, districts_layer, "districts"))) goto done;
    if ((st = pm_districts_load(ctx, store, districts_layer, name_field, NULL, 0, &d))) goto done;
  }
  if ((st = pm_features_union(ctx, fs, &u))) goto done;
  double total_m = 0;
  if (!GEOSLength_r(h, u, &total_m)) {
    st = geos_failed(ctx, "measuring the dissolved length", layer);
    goto done;
  }
  static const char *const cols[] = {"district", "length_km"};
  if ((st = pm_table_create(ctx, cols, 2, &t))) goto done;
  if (!by_district) {
    size_t r;
    if ((st = pm_table_add_row(ctx, t, &r))) goto done;
    pm_table_set_text(ctx, t, r, 0, PM_ALL);
    pm_table_set_real(ctx, t, r, 1, total_m / 1000.0, 3);
    st = pm_table_set_summary(ctx, t, "%s: %zu features, dissolved length %.3f km", layer, fs->n,
                              total_m / 1000.0);
    goto done;
  }
  if ((st = collect_lines(ctx, &lp, u))) goto done;
  if (!(tree = GEOSSTRtree_create_r(h, 10))) {
    st = oom(ctx);
    goto done;
  }
  for (size_t k = 0; k < lp.n; k++)
    GEOSSTRtree_insert_r(h, tree, lp.part[k], (void *)(uintptr_t)k);
  double all_m = 0;
  for (size_t i = 0; i <= d->n; i++) {
    double len_m = 0;
    size_t r;
    if ((st = slot_length(ctx, d, i, &lp, tree, layer, &len_m))) goto done;
    if ((st = pm_table_add_row(ctx, t, &r))) goto done;
    if ((st = pm_table_set_text(ctx, t, r, 0, pm_districts_name(d, i)))) goto done;
    pm_table_set_real(ctx, t, r, 1, len_m / 1000.0, 3);
    if (i == d->n) all_m = len_m;
  }
  st = pm_table_set_summary(ctx, t,
                            "%s: %zu features, dissolved length %.3f km, of which %.3f km inside "
                            "the %zu districts of %s (_all)",
                            layer, fs->n, total_m / 1000.0, all_m / 1000.0, d->n, districts_layer);

done:
  if (tree) GEOSSTRtree_destroy_r(h, tree);
  free(lp.part);
  if (u) GEOSGeom_destroy_r(h, u);
  pm_features_destroy(ctx, fs);
  pm_districts_destroy(ctx, d);
  if (st) {
    pm_table_destroy(t);
    return st;
  }
  *out = t;
  return PM_OK;
}
