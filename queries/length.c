/* length.c: METRICS.md §2 `length` — km of the dissolved line selection per district. */
#include "planmetrics/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

/* Buffers are widened by this much so that a part lying exactly at near_m (up to floating-point
 * rounding of the offset coordinates, ~1e-9 m in a UTM CRS) counts, as METRICS.md §1 asks. */
#define PM_INCLUSIVE_EPS_M 1e-6

/* ---- dissolve-and-clip helpers: the same code is in length.c, line_coverage.c and
 * area_share.c (each keeps the parts it uses); change them together. ---- */

typedef struct geom_list {
  GEOSGeometry **v; /* owned */
  size_t n, cap;
} geom_list;

static pm_status geos_failed(pm_context *ctx, const pm_indicator_spec *spec, const char *what) {
  return pm_error(ctx, PM_EGEOM,
                  "indicator %s: %s failed (GEOS: %s); run `planmetrics info` on the layers to "
                  "find invalid geometries",
                  spec->id ? spec->id : "?", what, pm_context_geos_message(ctx));
}

/* Takes ownership of g (destroyed on failure). */
static pm_status geom_list_push(pm_context *ctx, geom_list *l, GEOSGeometry *g) {
  pm_status st = pm_grow(ctx, (void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
  if (st) {
    GEOSGeom_destroy_r(pm_context_geos(ctx), g);
    return st;
  }
  l->v[l->n++] = g;
  return PM_OK;
}

static void geom_list_clear(pm_context *ctx, geom_list *l) {
  for (size_t i = 0; i < l->n; i++) GEOSGeom_destroy_r(pm_context_geos(ctx), l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* Consumes the list into one Multi* (type) of its members; an empty list gives an empty one. */
static GEOSGeometry *geom_list_collect(pm_context *ctx, geom_list *l, int type) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSGeometry *g;
  if (l->n == 0) {
    g = GEOSGeom_createEmptyCollection_r(h, type);
  } else {
    g = GEOSGeom_createCollection_r(h, type, l->v, (unsigned)l->n);
    l->n = 0; /* GEOS owns the members now, and frees them itself when it fails */
  }
  geom_list_clear(ctx, l);
  return g;
}

/* Consumes the list into the dissolved union of its members (cascaded union). */
static GEOSGeometry *geom_list_union(pm_context *ctx, geom_list *l, int empty_type) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  if (l->n == 0) {
    geom_list_clear(ctx, l);
    return GEOSGeom_createEmptyCollection_r(h, empty_type);
  }
  GEOSGeometry *c = geom_list_collect(ctx, l, GEOS_GEOMETRYCOLLECTION);
  if (!c) return NULL;
  GEOSGeometry *u = GEOSUnaryUnion_r(h, c);
  GEOSGeom_destroy_r(h, c);
  return u;
}

typedef struct idx_list {
  size_t *v;
  size_t n, cap;
  size_t offset; /* subtracted from the item value: 1 for our trees, 0 for pm_districts.tree */
  pm_context *ctx;
  pm_status st;
} idx_list;

static void idx_list_cb(void *item, void *user) {
  idx_list *l = user;
  if (l->st) return;
  if ((l->st = pm_grow(l->ctx, (void **)&l->v, &l->cap, l->n + 1, sizeof *l->v))) return;
  l->v[l->n++] = (size_t)(uintptr_t)item - l->offset;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* The leaves of a dissolved geometry, with an STRtree over them, so that a district clips only
 * the parts near it and takes the parts it covers whole without an overlay. */
typedef struct parts_index {
  const GEOSGeometry **part; /* borrowed from the indexed geometry */
  size_t n, cap;
  GEOSSTRtree *tree;         /* items: part index + 1 */
} parts_index;

static pm_status parts_collect(pm_context *ctx, parts_index *pi, const GEOSGeometry *g, int dim) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  int type = GEOSGeomTypeId_r(h, g);
  if (type == GEOS_MULTIPOINT || type == GEOS_MULTILINESTRING || type == GEOS_MULTIPOLYGON ||
      type == GEOS_GEOMETRYCOLLECTION) {
    int n = GEOSGetNumGeometries_r(h, g);
    for (int k = 0; k < n; k++) {
      pm_status st = parts_collect(ctx, pi, GEOSGetGeometryN_r(h, g, k), dim);
      if (st) return st;
    }
    return PM_OK;
  }
  if (GEOSisEmpty_r(h, g) != 0 || GEOSGeom_getDimensions_r(h, g) != dim) return PM_OK;
  pm_status st = pm_grow(ctx, (void **)&pi->part, &pi->cap, pi->n + 1, sizeof *pi->part);
  if (st) return st;
  pi->part[pi->n++] = g;
  return PM_OK;
}

static void parts_index_free(pm_context *ctx, parts_index *pi) {
  if (pi->tree) GEOSSTRtree_destroy_r(pm_context_geos(ctx), pi->tree);
  free(pi->part);
  memset(pi, 0, sizeof *pi);
}

/* Index the parts of dimension dim (1 lines, 2 polygons) of g, which must outlive pi. */
static pm_status parts_index_build(pm_context *ctx, parts_index *pi, const GEOSGeometry *g,
                                   int dim) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  memset(pi, 0, sizeof *pi);
  pm_status st = parts_collect(ctx, pi, g, dim);
  if (st) return st;
  pi->tree = GEOSSTRtree_create_r(h, 10);
  if (!pi->tree) return pm_error(ctx, PM_ENOMEM, "out of memory building a spatial index");
  for (size_t k = 0; k < pi->n; k++)
    GEOSSTRtree_insert_r(h, pi->tree, pi->part[k], (void *)(uintptr_t)(k + 1));
  return PM_OK;
}

/* Whether some indexed part's envelope comes within dist of g's envelope. */
static pm_status parts_near(pm_context *ctx, const parts_index *pi, const GEOSGeometry *g,
                            double dist, int *hit) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  *hit = 0;
  if (pi->n == 0) return PM_OK;
  double x0, y0, x1, y1;
  if (!GEOSGeom_getXMin_r(h, g, &x0) || !GEOSGeom_getYMin_r(h, g, &y0) ||
      !GEOSGeom_getXMax_r(h, g, &x1) || !GEOSGeom_getYMax_r(h, g, &y1))
    return PM_OK; /* empty */
  GEOSGeometry *rect = GEOSGeom_createRectangle_r(h, x0 - dist, y0 - dist, x1 + dist, y1 + dist);
  if (!rect) return pm_error(ctx, PM_ENOMEM, "out of memory");
  idx_list l = {.offset = 1, .ctx = ctx};
  GEOSSTRtree_query_r(h, pi->tree, rect, idx_list_cb, &l);
  GEOSGeom_destroy_r(h, rect);
  *hit = l.n > 0;
  free(l.v);
  return l.st;
}

/* Clone the leaves of dimension dim of g into l. */
static pm_status push_leaves(pm_context *ctx, geom_list *l, const GEOSGeometry *g, int dim) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  int type = GEOSGeomTypeId_r(h, g);
  if (type == GEOS_MULTIPOINT || type == GEOS_MULTILINESTRING || type == GEOS_MULTIPOLYGON ||
      type == GEOS_GEOMETRYCOLLECTION) {
    int n = GEOSGetNumGeometries_r(h, g);
    for (int k = 0; k < n; k++) {
      pm_status st = push_leaves(ctx, l, GEOSGetGeometryN_r(h, g, k), dim);
      if (st) return st;
    }
    return PM_OK;
  }
  if (GEOSisEmpty_r(h, g) != 0 || GEOSGeom_getDimensions_r(h, g) != dim) return PM_OK;
  GEOSGeometry *c = GEOSGeom_clone_r(h, g);
  if (!c) return pm_error(ctx, PM_ENOMEM, "out of memory");
  return geom_list_push(ctx, l, c);
}

static double measure(GEOSContextHandle_t h, const GEOSGeometry *g, int dim) {
  double v = 0;
  if (dim == 1 ? !GEOSLength_r(h, g, &v) : !GEOSArea_r(h, g, &v)) return 0;
  return v;
}

/* The part of the indexed geometry inside result slot i (i == d->n: the plan area) as one
 * MultiLineString (dim 1) or MultiPolygon (dim 2), and its length or area in m / m2. Caller owns
 * *out. Parts the district covers are taken whole; only the parts crossing its boundary are
 * clipped. */
static pm_status clip_slot(pm_context *ctx, const pm_indicator_spec *spec, const pm_districts *d,
                           size_t i, const parts_index *pi, int dim, GEOSGeometry **out,
                           double *size) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  geom_list l = {0};
  pm_status st = PM_OK;
  *out = NULL;
  *size = 0;
  const GEOSGeometry *region = i < d->n ? d->geom[i] : d->all;
  if (!region) { /* `_all` without districts: everything */
    for (size_t k = 0; k < pi->n && !st; k++) st = push_leaves(ctx, &l, pi->part[k], dim);
  } else if (pi->n > 0) {
    const GEOSPreparedGeometry *prep = i < d->n ? (d->prep ? d->prep[i] : NULL) : d->all_prep;
    const GEOSPreparedGeometry *own = NULL;
    if (!prep) prep = own = GEOSPrepare_r(h, region);
    if (!prep) return geos_failed(ctx, spec, "preparing a district");
    idx_list hits = {.offset = 1, .ctx = ctx};
    GEOSSTRtree_query_r(h, pi->tree, region, idx_list_cb, &hits);
    st = hits.st;
    /* Sorted, so that the output does not depend on the tree's order. */
    if (!st && hits.n > 1) qsort(hits.v, hits.n, sizeof *hits.v, cmp_size);
    for (size_t k = 0; k < hits.n && !st; k++) {
      const GEOSGeometry *p = pi->part[hits.v[k]];
      char covers = GEOSPreparedCovers_r(h, prep, p);
      if (covers == 1) {
        st = push_leaves(ctx, &l, p, dim);
        continue;
      }
      char inter = covers == 2 ? 2 : GEOSPreparedIntersects_r(h, prep, p);
      if (inter == 2) {
        st = geos_failed(ctx, spec, "testing a part against a district");
      } else if (inter == 1) {
        GEOSGeometry *x = NULL;
        st = pm_districts_clip(ctx, d, i, p, &x);
        if (!st) st = push_leaves(ctx, &l, x, dim);
        if (x) GEOSGeom_destroy_r(h, x);
      }
    }
    free(hits.v);
    if (own) GEOSPreparedGeom_destroy_r(h, own);
  }
  if (st) {
    geom_list_clear(ctx, &l);
    return st;
  }
  for (size_t k = 0; k < l.n; k++) *size += measure(h, l.v[k], dim);
  *out = geom_list_collect(ctx, &l, dim == 1 ? GEOS_MULTILINESTRING : GEOS_MULTIPOLYGON);
  if (!*out) return geos_failed(ctx, spec, "collecting the clipped parts");
  return PM_OK;
}

/* Arcs of buffers are approximated by chords; choose enough segments per quarter circle that the
 * chord stays within 5 cm of the true arc (capped at 32, i.e. 15 cm at a 500 m radius). Straight
 * parts of a buffer are exact, so only places near a feature's end or corner are affected. */
static int quadsegs_for(double r) {
  const double tol = 0.05;
  if (r <= tol * 2) return 8;
  double q = ceil(acos(-1.0) / (4.0 * acos(1.0 - tol / r)));
  return q < 8 ? 8 : q > 32 ? 32 : (int)q;
}

/* Union of the features of several selections, each buffered by dist (dist < 0: not buffered,
 * for `within`), skipping features whose (buffered) envelope meets no part of `filter`, which
 * cannot touch the measured lines anyway. Buffering each feature and dissolving the buffers with
 * one cascaded union gives the same region as buffering the union (the Minkowski sum distributes
 * over union) but keeps each buffer small and lets the filter drop far-away features first. */
static pm_status union_of(pm_context *ctx, const pm_indicator_spec *spec,
                          const pm_features *const *sel, size_t n_sel, double dist,
                          const parts_index *filter, GEOSGeometry **out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  geom_list l = {0};
  pm_status st = PM_OK;
  *out = NULL;
  int quadsegs = dist > 0 ? quadsegs_for(dist) : 8;
  for (size_t s = 0; s < n_sel && !st; s++) {
    if (!sel[s]) continue;
    for (size_t k = 0; k < sel[s]->n && !st; k++) {
      const GEOSGeometry *g = sel[s]->geom[k];
      int hit = 1;
      if (filter && (st = parts_near(ctx, filter, g, dist > 0 ? dist + PM_INCLUSIVE_EPS_M : 0,
                                     &hit)))
        break;
      if (!hit) continue;
      GEOSGeometry *b = dist >= 0 ? GEOSBuffer_r(h, g, dist + PM_INCLUSIVE_EPS_M, quadsegs)
                                  : GEOSGeom_clone_r(h, g);
      if (!b) {
        st = geos_failed(ctx, spec, "buffering a feature");
        break;
      }
      st = geom_list_push(ctx, &l, b);
    }
  }
  if (st) {
    geom_list_clear(ctx, &l);
    return st;
  }
  *out = geom_list_union(ctx, &l, GEOS_MULTIPOLYGON);
  if (!*out) return geos_failed(ctx, spec, "dissolving polygons");
  return PM_OK;
}

/* pm_metric_begin, with the unit this metric reports in (which may differ from spec->unit). */
static pm_status init_out(pm_context *ctx, const pm_indicator_spec *spec, const char *unit,
                          const pm_districts *d, pm_indicator_result *out) {
  pm_status st = pm_metric_begin(ctx, spec, d, out);
  if (st) return st;
  free(out->unit);
  out->unit = NULL;
  return pm_strdup(ctx, &out->unit, unit);
}

/* Representative point of slot i's area (NAN when the plan area is unbounded). */
static void slot_point(pm_context *ctx, const pm_districts *d, size_t i, double *x, double *y) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  *x = *y = NAN;
  const GEOSGeometry *region = i < d->n ? d->geom[i] : d->all;
  if (!region) return;
  GEOSGeometry *p = GEOSPointOnSurface_r(h, region);
  if (p && GEOSisEmpty_r(h, p) == 0) {
    GEOSGeomGetX_r(h, p, x);
    GEOSGeomGetY_r(h, p, y);
  }
  if (p) GEOSGeom_destroy_r(h, p);
}

/* One gap per slot whose value misses the target, with the distance to it as shortfall. */
static pm_status add_target_gaps(pm_context *ctx, const pm_districts *d, pm_indicator_result *out,
                                 const char *unit) {
  for (size_t i = 0; i < out->n_results; i++) {
    pm_result *r = &out->results[i];
    if (!r->has_target || !r->has_value || r->met) continue;
    char *note = NULL;
    pm_status st = pm_asprintf(ctx, &note, "%.6g %s measured, target %s %.6g %s", r->value, unit,
                               out->target_op, r->target, unit);
    if (st) return st;
    double x, y;
    slot_point(ctx, d, i, &x, &y);
    st = pm_result_add_gap(ctx, r, r->district, r->district, r->district, NAN,
                           fabs(r->target - r->value), NULL, note, x, y);
    free(note);
    if (st) return st;
  }
  return PM_OK;
}

/* Details are given per district; `_all` only when there are no districts, so that export layers
 * never hold the same part twice. */
static int slot_has_details(const pm_districts *d, size_t i) { return i < d->n || d->n == 0; }

/* ---- length ---- */

static int kind_is(const pm_features *fs, pm_geom_kind kind) {
  return !fs || fs->n == 0 || fs->kind == kind || fs->kind == PM_KIND_NONE;
}

static const char *layer_name(const pm_features *fs, const char *fallback) {
  return fs && fs->layer ? fs->layer : fallback ? fallback : "?";
}

static pm_status check_length_inputs(pm_context *ctx, const pm_indicator_spec *spec,
                                     const pm_features *lines, const pm_features *const *within,
                                     size_t n_within, size_t n_near, const pm_features *share_of,
                                     const pm_districts *d, const char **unit) {
  const char *id = spec->id ? spec->id : "?";
  if (!lines || !d)
    return pm_error(ctx, PM_EINTERNAL, "indicator %s: length called without lines or districts",
                    id);
  if (!kind_is(lines, PM_KIND_LINE))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: layer '%s' holds %ss; a length needs a line layer", id,
                    layer_name(lines, spec->layer.layer), pm_geom_kind_name(lines->kind));
  if (share_of && !kind_is(share_of, PM_KIND_LINE))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: share_of layer '%s' holds %ss; it must be a line layer", id,
                    layer_name(share_of, spec->share_of.layer), pm_geom_kind_name(share_of->kind));
  for (size_t k = 0; k < n_within; k++)
    if (!kind_is(within[k], PM_KIND_POLYGON))
      return pm_error(ctx, PM_EINPUT,
                      "indicator %s: `within` layer '%s' holds %ss; it must be a polygon layer "
                      "(use `near` with near_m for lines or points)",
                      id, layer_name(within[k], NULL), pm_geom_kind_name(within[k]->kind));
  if (n_near > 0 && (isnan(spec->near_m) || spec->near_m < 0))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: `near` needs `near_m`, a distance in metres >= 0 (e.g. "
                    "near_m: 30)",
                    id);
  const char *u = spec->unit;
  if (share_of) {
    if (u && *u && strcmp(u, "%") != 0)
      return pm_error(ctx, PM_EINPUT,
                      "indicator %s: with share_of the value is a share; write unit: \"%%\" "
                      "instead of \"%s\"",
                      id, u);
    *unit = "%";
  } else if (!u || !*u || strcmp(u, "km") == 0) {
    *unit = "km";
  } else if (strcmp(u, "m") == 0) {
    *unit = "m";
  } else {
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: a length is reported in km or m, not \"%s\" (for a share give "
                    "share_of)",
                    id, u);
  }
  return PM_OK;
}

pm_status pm_length(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *lines,
                    const pm_features *const *within, size_t n_within,
                    const pm_features *const *near, size_t n_near, const pm_features *share_of,
                    const pm_districts *d, pm_indicator_result *out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  const char *unit = NULL;
  pm_status st =
      check_length_inputs(ctx, spec, lines, within, n_within, n_near, share_of, d, &unit);
  if (st) return st;
  if ((st = init_out(ctx, spec, unit, d, out))) return st;

  GEOSGeometry *m = NULL, *s = NULL;
  parts_index pm = {0}, ps = {0};

  /* The measured selection: dissolve once, then restrict it to `within` and `near`. */
  if ((st = pm_features_union(ctx, lines, &m))) goto done;
  if (n_within > 0 || n_near > 0) {
    const pm_features *const *sel[2] = {within, near};
    size_t n_sel[2] = {n_within, n_near};
    double dist[2] = {-1, spec->near_m};
    for (int r = 0; r < 2 && !st; r++) {
      if (n_sel[r] == 0) continue;
      parts_index filter;
      GEOSGeometry *region = NULL;
      if ((st = parts_index_build(ctx, &filter, m, 1))) {
        parts_index_free(ctx, &filter);
        break;
      }
      st = union_of(ctx, spec, sel[r], n_sel[r], dist[r], &filter, &region);
      parts_index_free(ctx, &filter);
      if (st) break;
      GEOSGeometry *x = GEOSIntersection_r(h, m, region);
      GEOSGeom_destroy_r(h, region);
      if (!x) {
        st = geos_failed(ctx, spec, r == 0 ? "keeping the parts within" : "keeping the parts near");
        break;
      }
      GEOSGeom_destroy_r(h, m);
      m = x;
    }
    if (st) goto done;
  }
  if ((st = parts_index_build(ctx, &pm, m, 1))) goto done;
  if (share_of) {
    if ((st = pm_features_union(ctx, share_of, &s))) goto done;
    if ((st = parts_index_build(ctx, &ps, s, 1))) goto done;
  }

  for (size_t i = 0; i <= d->n; i++) {
    pm_result *r = &out->results[i];
    GEOSGeometry *part = NULL;
    double len_m = 0;
    if ((st = clip_slot(ctx, spec, d, i, &pm, 1, &part, &len_m))) goto done;
    if (share_of) {
      GEOSGeometry *all = NULL;
      double den_m = 0;
      st = clip_slot(ctx, spec, d, i, &ps, 1, &all, &den_m);
      if (all) GEOSGeom_destroy_r(h, all);
      char *why = NULL;
      if (!st && den_m <= 0)
        st = pm_asprintf(ctx, &why, "no length of '%s' (share_of) in %s, so there is no share",
                         layer_name(share_of, spec->share_of.layer),
                         i < d->n ? "this district" : "the plan area");
      if (!st) st = pm_result_set_share(ctx, r, len_m / 1000.0, den_m / 1000.0, why);
      free(why);
    } else {
      r->has_value = 1;
      r->value = strcmp(unit, "m") == 0 ? len_m : len_m / 1000.0;
      r->has_ratio = 0;
      r->numerator = r->value; /* in the indicator's unit, so a report row reads consistently */
      r->denominator = NAN;
    }
    if (!st && slot_has_details(d, i) && GEOSisEmpty_r(h, part) == 0)
      st = pm_indicator_result_add_detail_geom(ctx, out, "measured", r->district, r->district,
                                               layer_name(lines, spec->layer.layer), -1, NAN,
                                               NULL, part);
    GEOSGeom_destroy_r(h, part);
    if (st) goto done;
  }
  if (!(st = pm_metric_finish(ctx, out)) && !(st = add_target_gaps(ctx, d, out, unit)))
    st = pm_metric_finish(ctx, out); /* sort the gaps just added */

done:
  parts_index_free(ctx, &pm);
  parts_index_free(ctx, &ps);
  if (m) GEOSGeom_destroy_r(h, m);
  if (s) GEOSGeom_destroy_r(h, s);
  return st;
}
