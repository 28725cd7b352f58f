/* measure.c: dissolve, clip and measure helpers shared by the metric kinds. */
#include "engine/measure.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

pm_status pm_geos_failed(pm_context *ctx, const char *who, const char *what) {
  return pm_error(ctx, PM_EGEOM,
                  "indicator %s: %s failed (GEOS: %s); run `planmetrics info` on the layers to "
                  "find invalid geometries",
                  who ? who : "?", what, pm__context_geos_message(ctx));
}

/* Takes ownership of g (destroyed on failure). */
pm_status pm_geom_list_push(pm_context *ctx, pm_geom_list *l, GEOSGeometry *g) {
  pm_status st = pm__grow(ctx, (void **)&l->v, &l->cap, l->n + 1, sizeof *l->v);
  if (st) {
    GEOSGeom_destroy_r(pm_context_geos(ctx), g);
    return st;
  }
  l->v[l->n++] = g;
  return PM_OK;
}

void pm_geom_list_clear(pm_context *ctx, pm_geom_list *l) {
  for (size_t i = 0; i < l->n; i++) GEOSGeom_destroy_r(pm_context_geos(ctx), l->v[i]);
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* Consumes the list into one Multi* (type) of its members; an empty list gives an empty one. */
GEOSGeometry *pm_geom_list_collect(pm_context *ctx, pm_geom_list *l, int type) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSGeometry *g;
  if (l->n == 0) {
    g = GEOSGeom_createEmptyCollection_r(h, type);
  } else {
    g = GEOSGeom_createCollection_r(h, type, l->v, (unsigned)l->n);
    l->n = 0; /* GEOS owns the members now, and frees them itself when it fails */
  }
  pm_geom_list_clear(ctx, l);
  return g;
}

/* Consumes the list into the dissolved union of its members (cascaded union). */
GEOSGeometry *pm_geom_list_union(pm_context *ctx, pm_geom_list *l, int empty_type) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  if (l->n == 0) {
    pm_geom_list_clear(ctx, l);
    return GEOSGeom_createEmptyCollection_r(h, empty_type);
  }
  GEOSGeometry *c = pm_geom_list_collect(ctx, l, GEOS_GEOMETRYCOLLECTION);
  if (!c) return NULL;
  GEOSGeometry *u = GEOSUnaryUnion_r(h, c);
  GEOSGeom_destroy_r(h, c);
  return u;
}

void pm_idx_list_cb(void *item, void *user) {
  pm_idx_list *l = user;
  if (l->st) return;
  if ((l->st = pm__grow(l->ctx, (void **)&l->v, &l->cap, l->n + 1, sizeof *l->v))) return;
  l->v[l->n++] = (size_t)(uintptr_t)item - l->offset;
}

pm_status pm_parts_collect(pm_context *ctx, pm_parts_index *pi, const GEOSGeometry *g, int dim) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  int type = GEOSGeomTypeId_r(h, g);
  if (type == GEOS_MULTIPOINT || type == GEOS_MULTILINESTRING || type == GEOS_MULTIPOLYGON ||
      type == GEOS_GEOMETRYCOLLECTION) {
    int n = GEOSGetNumGeometries_r(h, g);
    for (int k = 0; k < n; k++) {
      pm_status st = pm_parts_collect(ctx, pi, GEOSGetGeometryN_r(h, g, k), dim);
      if (st) return st;
    }
    return PM_OK;
  }
  if (GEOSisEmpty_r(h, g) != 0 || GEOSGeom_getDimensions_r(h, g) != dim) return PM_OK;
  pm_status st = pm__grow(ctx, (void **)&pi->part, &pi->cap, pi->n + 1, sizeof *pi->part);
  if (st) return st;
  pi->part[pi->n++] = g;
  return PM_OK;
}

void pm_parts_index_free(pm_context *ctx, pm_parts_index *pi) {
  if (pi->tree) GEOSSTRtree_destroy_r(pm_context_geos(ctx), pi->tree);
  free(pi->part);
  memset(pi, 0, sizeof *pi);
}

/* Index the parts of dimension dim (1 lines, 2 polygons) of g, which must outlive pi. */
pm_status pm_parts_index_build(pm_context *ctx, pm_parts_index *pi, const GEOSGeometry *g,
                                   int dim) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  memset(pi, 0, sizeof *pi);
  pm_status st = pm_parts_collect(ctx, pi, g, dim);
  if (st) return st;
  pi->tree = GEOSSTRtree_create_r(h, 10);
  if (!pi->tree) return pm_error(ctx, PM_ENOMEM, "out of memory building a spatial index");
  for (size_t k = 0; k < pi->n; k++)
    GEOSSTRtree_insert_r(h, pi->tree, pi->part[k], (void *)(uintptr_t)(k + 1));
  return PM_OK;
}

/* Whether some indexed part's envelope comes within dist of g's envelope. */
pm_status pm_parts_near(pm_context *ctx, const pm_parts_index *pi, const GEOSGeometry *g,
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
  pm_idx_list l = {.offset = 1, .ctx = ctx};
  GEOSSTRtree_query_r(h, pi->tree, rect, pm_idx_list_cb, &l);
  GEOSGeom_destroy_r(h, rect);
  *hit = l.n > 0;
  free(l.v);
  return l.st;
}

/* Clone the leaves of dimension dim of g into l. */
pm_status pm_push_leaves(pm_context *ctx, pm_geom_list *l, const GEOSGeometry *g, int dim) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  int type = GEOSGeomTypeId_r(h, g);
  if (type == GEOS_MULTIPOINT || type == GEOS_MULTILINESTRING || type == GEOS_MULTIPOLYGON ||
      type == GEOS_GEOMETRYCOLLECTION) {
    int n = GEOSGetNumGeometries_r(h, g);
    for (int k = 0; k < n; k++) {
      pm_status st = pm_push_leaves(ctx, l, GEOSGetGeometryN_r(h, g, k), dim);
      if (st) return st;
    }
    return PM_OK;
  }
  if (GEOSisEmpty_r(h, g) != 0 || GEOSGeom_getDimensions_r(h, g) != dim) return PM_OK;
  GEOSGeometry *c = GEOSGeom_clone_r(h, g);
  if (!c) return pm_error(ctx, PM_ENOMEM, "out of memory");
  return pm_geom_list_push(ctx, l, c);
}

double pm_measure_dim(GEOSContextHandle_t h, const GEOSGeometry *g, int dim) {
  double v = 0;
  if (dim == 1 ? !GEOSLength_r(h, g, &v) : !GEOSArea_r(h, g, &v)) return 0;
  return v;
}

/* The part of the indexed geometry inside result slot i (i == d->n: the plan area) as one
 * MultiLineString (dim 1) or MultiPolygon (dim 2), and its length or area in m / m2. Caller owns
 * *out. Parts the district covers are taken whole; only the parts crossing its boundary are
 * clipped. */
pm_status pm_clip_slot(pm_context *ctx, const char *who, const pm_districts *d,
                           size_t i, const pm_parts_index *pi, int dim, GEOSGeometry **out,
                           double *size) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_geom_list l = {0};
  pm_status st = PM_OK;
  *out = NULL;
  *size = 0;
  const GEOSGeometry *region = i < d->n ? d->geom[i] : d->all;
  if (!region) { /* `_all` without districts: everything */
    for (size_t k = 0; k < pi->n && !st; k++) st = pm_push_leaves(ctx, &l, pi->part[k], dim);
  } else if (pi->n > 0) {
    const GEOSPreparedGeometry *prep = i < d->n ? (d->prep ? d->prep[i] : NULL) : d->all_prep;
    const GEOSPreparedGeometry *own = NULL;
    if (!prep) prep = own = GEOSPrepare_r(h, region);
    if (!prep) return pm_geos_failed(ctx, who, "preparing a district");
    pm_idx_list hits = {.offset = 1, .ctx = ctx};
    GEOSSTRtree_query_r(h, pi->tree, region, pm_idx_list_cb, &hits);
    st = hits.st;
    /* Sorted, so that the output does not depend on the tree's order. */
    if (!st && hits.n > 1) qsort(hits.v, hits.n, sizeof *hits.v, pm__cmp_size);
    for (size_t k = 0; k < hits.n && !st; k++) {
      const GEOSGeometry *p = pi->part[hits.v[k]];
      char covers = GEOSPreparedCovers_r(h, prep, p);
      if (covers == 1) {
        st = pm_push_leaves(ctx, &l, p, dim);
        continue;
      }
      char inter = covers == 2 ? 2 : GEOSPreparedIntersects_r(h, prep, p);
      if (inter == 2) {
        st = pm_geos_failed(ctx, who, "testing a part against a district");
      } else if (inter == 1) {
        GEOSGeometry *x = NULL;
        st = pm_districts_clip(ctx, d, i, p, &x);
        if (!st) st = pm_push_leaves(ctx, &l, x, dim);
        if (x) GEOSGeom_destroy_r(h, x);
      }
    }
    free(hits.v);
    if (own) GEOSPreparedGeom_destroy_r(h, own);
  }
  if (st) {
    pm_geom_list_clear(ctx, &l);
    return st;
  }
  for (size_t k = 0; k < l.n; k++) *size += pm_measure_dim(h, l.v[k], dim);
  *out = pm_geom_list_collect(ctx, &l, dim == 1 ? GEOS_MULTILINESTRING : GEOS_MULTIPOLYGON);
  if (!*out) return pm_geos_failed(ctx, who, "collecting the clipped parts");
  return PM_OK;
}

/* Arcs of buffers are approximated by chords; choose enough segments per quarter circle that the
 * chord stays within 5 cm of the true arc (capped at 32, i.e. 15 cm at a 500 m radius). Straight
 * parts of a buffer are exact, so only places near a feature's end or corner are affected. */
int pm_quadsegs_for(double r) {
  const double tol = 0.05;
  if (r <= tol * 2) return 8;
  double q = ceil(acos(-1.0) / (4.0 * acos(1.0 - tol / r)));
  return q < 8 ? 8 : q > 32 ? 32 : (int)q;
}

/* Representative point of slot i's area (NAN when the plan area is unbounded). */
void pm_slot_point(pm_context *ctx, const pm_districts *d, size_t i, double *x, double *y) {
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
pm_status pm_add_target_gaps(pm_context *ctx, const pm_districts *d, pm_indicator_result *out,
                                 const char *unit) {
  for (size_t i = 0; i < out->n_results; i++) {
    pm_result *r = &out->results[i];
    if (!r->has_target || !r->has_value || r->met) continue;
    char *note = NULL;
    pm_status st = pm_asprintf(ctx, &note, "%.6g %s measured, target %s %.6g %s", r->value, unit,
                               out->target_op, r->target, unit);
    if (st) return st;
    double x, y;
    pm_slot_point(ctx, d, i, &x, &y);
    st = pm_result_add_gap(ctx, r, r->district, r->district, r->district, NAN,
                           fabs(r->target - r->value), NULL, note, x, y);
    free(note);
    if (st) return st;
  }
  return PM_OK;
}

/* Details are given per district; `_all` only when there are no districts, so that export layers
 * never hold the same part twice. */
int pm_slot_has_details(const pm_districts *d, size_t i) { return i < d->n || d->n == 0; }

int pm_kind_is(const pm_features *fs, pm_geom_kind kind) {
  return !fs || fs->n == 0 || fs->kind == kind || fs->kind == PM_KIND_NONE;
}

const char *pm_layer_name(const pm_features *fs, const char *fallback) {
  return fs && fs->layer ? fs->layer : fallback ? fallback : "?";
}

/* ---------- entry points of a feature into a walking network ---------- */

static pm_status entry_add(pm_context *ctx, pm_entry_points *e, double x, double y) {
  if (pm__grow(ctx, (void **)&e->xy, &e->cap, 2 * (e->n + 1), sizeof *e->xy)) return PM_ENOMEM;
  e->xy[2 * e->n] = x;
  e->xy[2 * e->n + 1] = y;
  e->n++;
  return PM_OK;
}

static pm_status ring_points(pm_context *ctx, pm_entry_points *e, const GEOSGeometry *ring,
                             double step) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, ring);
  unsigned n = 0;
  if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &n))
    return pm_error(ctx, PM_EGEOM, "reading a boundary failed (%s)", pm__context_geos_message(ctx));
  double px = 0, py = 0, next = step, along = 0;
  for (unsigned i = 0; i < n; i++) {
    double x, y;
    GEOSCoordSeq_getXY_r(h, seq, i, &x, &y);
    if (i > 0) {
      double len = hypot(x - px, y - py);
      while (len > 0 && next <= along + len) { /* the points every step inside this segment */
        double t = (next - along) / len;
        if (t > 0 && t < 1 && entry_add(ctx, e, px + t * (x - px), py + t * (y - py)))
          return PM_ENOMEM;
        next += step;
      }
      along += len;
    }
    if (i + 1 < n || n == 1) /* a ring's closing vertex repeats its first */
      if (entry_add(ctx, e, x, y)) return PM_ENOMEM;
    px = x;
    py = y;
  }
  return PM_OK;
}

pm_status pm__entry_points(pm_context *ctx, const GEOSGeometry *g, double step_m,
                           pm_entry_points *e) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  int t = GEOSGeomTypeId_r(h, g);
  if (t == GEOS_MULTIPOLYGON || t == GEOS_GEOMETRYCOLLECTION) {
    int n = GEOSGetNumGeometries_r(h, g);
    for (int i = 0; i < n; i++) {
      pm_status st = pm__entry_points(ctx, GEOSGetGeometryN_r(h, g, i), step_m, e);
      if (st) return st;
    }
    return PM_OK;
  }
  if (t == GEOS_POLYGON) return ring_points(ctx, e, GEOSGetExteriorRing_r(h, g), step_m);
  if (GEOSisEmpty_r(h, g) == 1) return PM_OK;
  GEOSGeometry *p = t == GEOS_POINT ? NULL : GEOSPointOnSurface_r(h, g);
  const GEOSGeometry *q = t == GEOS_POINT ? g : p;
  double x, y;
  int ok = q && GEOSGeomGetX_r(h, q, &x) && GEOSGeomGetY_r(h, q, &y);
  if (p) GEOSGeom_destroy_r(h, p);
  if (!ok)
    return pm_error(ctx, PM_EGEOM, "a representative point failed (%s)",
                    pm__context_geos_message(ctx));
  return entry_add(ctx, e, x, y);
}

/* ---- strips ---- */

typedef struct x_key {
  double x;
  size_t i;
} x_key;

static int cmp_x_key(const void *a, const void *b) {
  const x_key *p = a, *q = b;
  if (p->x != q->x) return p->x < q->x ? -1 : 1;
  return (p->i > q->i) - (p->i < q->i);
}

pm_status pm_order_by_x(pm_context *ctx, const double *x, size_t n, size_t **order) {
  x_key *keys = malloc((n ? n : 1) * sizeof *keys);
  *order = malloc((n ? n : 1) * sizeof **order);
  if (!keys || !*order) {
    free(keys);
    free(*order);
    *order = NULL;
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < n; k++) {
    keys[k].x = isfinite(x[k]) ? x[k] : 0;
    keys[k].i = k;
  }
  qsort(keys, n, sizeof *keys, cmp_x_key);
  for (size_t k = 0; k < n; k++) (*order)[k] = keys[k].i;
  free(keys);
  return PM_OK;
}

typedef struct pair_job {
  GEOSGeometry **g;
  size_t step; /* round 1, 2, ...: g[i * 2^step] absorbs g[i * 2^step + 2^(step-1)] */
  const char *what;
} pair_job;

/* The parts of g (itself when it is not a collection), cloned into l in order, each sorted
 * into `near` (its envelope meets [x0,x1]x[y0,y1]) or `far`. */
static pm_status split_parts(pm_context *ctx, const GEOSGeometry *g, const double env[4],
                             pm_geom_list *near, pm_geom_list *far) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  int n = GEOSGetNumGeometries_r(h, g);
  for (int i = 0; i < n; i++) {
    const GEOSGeometry *p = GEOSGetGeometryN_r(h, g, i);
    double x0, y0, x1, y1;
    if (!p || !GEOSGeom_getXMin_r(h, p, &x0) || !GEOSGeom_getXMax_r(h, p, &x1) ||
        !GEOSGeom_getYMin_r(h, p, &y0) || !GEOSGeom_getYMax_r(h, p, &y1))
      return pm_error(ctx, PM_EGEOM, "reading a part's extent failed (%s)",
                      pm__context_geos_message(ctx));
    int meets = x0 <= env[2] && x1 >= env[0] && y0 <= env[3] && y1 >= env[1];
    GEOSGeometry *c = GEOSGeom_clone_r(h, p);
    if (!c) return pm_error(ctx, PM_ENOMEM, "out of memory");
    pm_status st = pm_geom_list_push(ctx, meets ? near : far, c);
    if (st) return st;
  }
  return PM_OK;
}

static int dims_of(GEOSContextHandle_t h, const GEOSGeometry *g) {
  switch (GEOSGeomTypeId_r(h, g)) {
  case GEOS_LINESTRING:
  case GEOS_MULTILINESTRING: return 1;
  case GEOS_POLYGON:
  case GEOS_MULTIPOLYGON: return 2;
  default: return -1;
  }
}

static int extent_of(GEOSContextHandle_t h, const GEOSGeometry *g, double env[4]) {
  return GEOSGeom_getXMin_r(h, g, &env[0]) && GEOSGeom_getYMin_r(h, g, &env[1]) &&
         GEOSGeom_getXMax_r(h, g, &env[2]) && GEOSGeom_getYMax_r(h, g, &env[3]);
}

/* The union of two dissolved geometries of one dimension (the results of earlier unions, whose
 * parts neither overlap nor cross) that lie mostly side by side, as strips do: only the parts of
 * each that reach into the other's extent can interact, so only those go through the overlay;
 * the others are carried over as they are (cloned). The same point set as GEOSUnion_r(a, b),
 * found in time growing with the seam rather than with the whole; anything else (mixed or empty
 * input) goes to GEOSUnion_r. Caller owns the result; NULL when GEOS failed. */
static GEOSGeometry *seam_union(pm_context *ctx, const GEOSGeometry *a, const GEOSGeometry *b) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  int dim = dims_of(h, a);
  double ea[4], eb[4];
  if (dim < 0 || dims_of(h, b) != dim || GEOSisEmpty_r(h, a) || GEOSisEmpty_r(h, b) ||
      !extent_of(h, a, ea) || !extent_of(h, b, eb))
    return GEOSUnion_r(h, a, b);
  pm_geom_list near_a = {0}, near_b = {0}, out = {0};
  GEOSGeometry *u = NULL, *ma = NULL, *mb = NULL, *res = NULL;
  int multi = dim == 2 ? GEOS_MULTIPOLYGON : GEOS_MULTILINESTRING;
  if (split_parts(ctx, a, eb, &near_a, &out) || split_parts(ctx, b, ea, &near_b, &out))
    goto done;
  if (near_a.n && near_b.n) {
    ma = pm_geom_list_collect(ctx, &near_a, multi);
    mb = pm_geom_list_collect(ctx, &near_b, multi);
    if (!ma || !mb || !(u = GEOSUnion_r(h, ma, mb))) goto done;
    if (split_parts(ctx, u, ea, &out, &out)) goto done;
  } else { /* nothing meets: every part is carried over */
    pm_geom_list *from[2] = {&near_a, &near_b};
    for (int s = 0; s < 2; s++)
      for (size_t k = 0; k < from[s]->n; k++) {
        GEOSGeometry *g = from[s]->v[k];
        from[s]->v[k] = NULL; /* the push owns it, also when it fails */
        if (pm_geom_list_push(ctx, &out, g)) goto done;
      }
  }
  if (out.n == 1) {
    res = out.v[0];
    out.n = 0;
  } else {
    res = pm_geom_list_collect(ctx, &out, multi);
  }
done:
  for (size_t k = 0; k < near_a.n; k++)
    if (near_a.v[k]) GEOSGeom_destroy_r(h, near_a.v[k]);
  for (size_t k = 0; k < near_b.n; k++)
    if (near_b.v[k]) GEOSGeom_destroy_r(h, near_b.v[k]);
  near_a.n = near_b.n = 0;
  pm_geom_list_clear(ctx, &near_a);
  pm_geom_list_clear(ctx, &near_b);
  pm_geom_list_clear(ctx, &out);
  if (ma) GEOSGeom_destroy_r(h, ma);
  if (mb) GEOSGeom_destroy_r(h, mb);
  if (u) GEOSGeom_destroy_r(h, u);
  return res;
}

static pm_status pair_task(pm_context *ctx, void *state, void *arg, size_t i) {
  (void)state;
  pair_job *j = arg;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  size_t a = i << j->step, b = a + ((size_t)1 << (j->step - 1));
  if (!j->g[b]) return PM_OK;
  if (!j->g[a]) {
    j->g[a] = j->g[b];
    j->g[b] = NULL;
    return PM_OK;
  }
  GEOSGeometry *m = seam_union(ctx, j->g[a], j->g[b]);
  if (!m) return pm_error(ctx, PM_EGEOM, "%s failed (%s)", j->what, pm__context_geos_message(ctx));
  GEOSGeom_destroy_r(h, j->g[a]);
  GEOSGeom_destroy_r(h, j->g[b]);
  j->g[a] = m;
  j->g[b] = NULL;
  return PM_OK;
}

pm_status pm_union_pairwise(pm_context *ctx, GEOSGeometry **g, size_t n, const char *what) {
  pair_job j = {.g = g, .step = 1, .what = what};
  pm_status st = PM_OK;
  for (size_t m = n / 2; !st && m >= 1; m /= 2, j.step++)
    st = pm__parallel_for(ctx, pm_context_threads(ctx), m, NULL, pair_task, NULL, &j);
  if (st)
    for (size_t k = 0; k < n; k++)
      if (g[k]) {
        GEOSGeom_destroy_r(pm_context_geos(ctx), g[k]);
        g[k] = NULL;
      }
  return st;
}
