/* area_share.c: METRICS.md §2 `area_share` — share of a district (or `of`) covered by a layer. */
#include "planmetrics/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

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

static int kind_is(const pm_features *fs, pm_geom_kind kind) {
  return !fs || fs->n == 0 || fs->kind == kind || fs->kind == PM_KIND_NONE;
}

static const char *layer_name(const pm_features *fs, const char *fallback) {
  return fs && fs->layer ? fs->layer : fallback ? fallback : "?";
}

/* ---- area_share ---- */

static pm_status as_check(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                          const pm_features *of, const pm_districts *d) {
  const char *id = spec->id ? spec->id : "?";
  if (!layer || !d)
    return pm_error(ctx, PM_EINTERNAL,
                    "indicator %s: area_share called without a layer or districts", id);
  if (!kind_is(layer, PM_KIND_POLYGON))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: layer '%s' holds %ss, which have no area; area_share needs a "
                    "polygon layer",
                    id, layer_name(layer, spec->layer.layer), pm_geom_kind_name(layer->kind));
  if (of && !kind_is(of, PM_KIND_POLYGON))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: `of` layer '%s' holds %ss, which have no area; give a polygon "
                    "layer or leave `of` out to divide by the district's area",
                    id, layer_name(of, spec->of.layer), pm_geom_kind_name(of->kind));
  if (spec->unit && *spec->unit && strcmp(spec->unit, "%") != 0)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: area_share is a share of area; write unit: \"%%\" instead of "
                    "\"%s\"",
                    id, spec->unit);
  return PM_OK;
}

/* Area of slot i itself in m2 (-1 when the plan area is unbounded: no districts). */
static double slot_area_m2(GEOSContextHandle_t h, const pm_districts *d, size_t i) {
  if (i < d->n) return measure(h, d->geom[i], 2);
  if (!d->all) return -1;
  return d->area_m2_all > 0 ? d->area_m2_all : measure(h, d->all, 2);
}

pm_status pm_area_share(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                        const pm_features *of, const pm_districts *d, pm_indicator_result *out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_status st = as_check(ctx, spec, layer, of, d);
  if (st) return st;
  if ((st = init_out(ctx, spec, "%", d, out))) return st;

  GEOSGeometry *a = NULL, *o = NULL;
  parts_index pa = {0}, po = {0};

  /* The numerator is the part of the dissolved layer inside `of`: the share of `of` that the
   * layer covers, which can never exceed 100 % (with `of` left out it is the district itself, so
   * this is the same rule). */
  if ((st = pm_features_union(ctx, layer, &a))) goto done;
  if (of) {
    if ((st = pm_features_union(ctx, of, &o))) goto done;
    GEOSGeometry *x = GEOSIntersection_r(h, a, o);
    if (!x) {
      st = geos_failed(ctx, spec, "keeping the parts inside `of`");
      goto done;
    }
    GEOSGeom_destroy_r(h, a);
    a = x;
    if ((st = parts_index_build(ctx, &po, o, 2))) goto done;
  }
  if ((st = parts_index_build(ctx, &pa, a, 2))) goto done;

  for (size_t i = 0; i <= d->n; i++) {
    pm_result *r = &out->results[i];
    GEOSGeometry *part = NULL;
    double num_m2 = 0, den_m2 = 0;
    char *why = NULL;
    if ((st = clip_slot(ctx, spec, d, i, &pa, 2, &part, &num_m2))) goto done;
    if (of) {
      GEOSGeometry *og = NULL;
      st = clip_slot(ctx, spec, d, i, &po, 2, &og, &den_m2);
      if (og) GEOSGeom_destroy_r(h, og);
      if (!st && den_m2 <= 0)
        st = pm_asprintf(ctx, &why, "no area of '%s' (of) in %s, so there is no share",
                         layer_name(of, spec->of.layer),
                         i < d->n ? "this district" : "the plan area");
    } else {
      den_m2 = slot_area_m2(h, d, i);
      if (den_m2 < 0) {
        den_m2 = 0;
        st = pm_strdup(ctx, &why,
                       "the plan has no districts and the indicator no `of` layer, so there is "
                       "no area to divide by; add `of:` (e.g. the built-up area) or a districts "
                       "layer");
      } else if (den_m2 <= 0) {
        st = pm_strdup(ctx, &why, "the district has no area");
      }
    }
    /* Areas are reported in ha, so a row reads "12.5 ha of 100 ha". */
    if (!st) st = pm_result_set_share(ctx, r, num_m2 / 1e4, den_m2 / 1e4, why);
    free(why);
    if (!st && slot_has_details(d, i) && GEOSisEmpty_r(h, part) == 0)
      st = pm_indicator_result_add_detail_geom(ctx, out, "measured", r->district, r->district,
                                               layer_name(layer, spec->layer.layer), -1, NAN, NULL,
                                               part);
    GEOSGeom_destroy_r(h, part);
    if (st) goto done;
  }
  if (!(st = pm_metric_finish(ctx, out)) && !(st = add_target_gaps(ctx, d, out, "%")))
    st = pm_metric_finish(ctx, out); /* sort the gaps just added */

done:
  parts_index_free(ctx, &pa);
  parts_index_free(ctx, &po);
  if (a) GEOSGeom_destroy_r(h, a);
  if (o) GEOSGeom_destroy_r(h, o);
  return st;
}
