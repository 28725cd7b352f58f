/* coverage.c: METRICS.md §2 coverage — the share of residents within the service radius of parks. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "planmetrics/metrics.h"

/* Choices where METRICS.md is silent (also for the project docs):
 * - Classes: a polygon source belongs to the first class with min_area_m2 <= area < max_area_m2.
 *   Sources matching no class (below the smallest, or in a hole between classes) do not count;
 *   they are named in a notice and exported as details of role "ignored_source" whose `nearest`
 *   says why ("ignored: 361 m2 is below the smallest class (400 m2)").
 * - radius_m replaces every class radius, but the classes still decide which polygons count and
 *   which class they are reported under. Points and lines have no area: they take the class with
 *   the largest min_area_m2 (and radius_m when given).
 * - Population polygons without weight_field are measured by area; a point layer without
 *   weight_field counts each point once. An empty weight counts 0 (with a notice); a weight that
 *   is not a number >= 0 is an input error naming the feature.
 * - A representative point on a shared district boundary counts in both districts, once in _all.
 * - Gaps: polygon population: each feature with uncovered land, in every district that land
 *   reaches (shortfall = uncovered m2 there; _all: inside the plan area); distance_m is from the
 *   feature to the nearest counting source (0 when touching), nearest names it. Weighted: each
 *   feature of weight > 0 whose representative point is out of reach (shortfall = its weight,
 *   distance from that point). District denominator: one gap per district (shortfall = uncovered
 *   m2, no distance), all of them listed under _all.
 * - Details: "source" (class label in `nearest`), "ignored_source", "service_area" (covered
 *   region per district, or for _all without districts), "uncovered" (uncovered part of each
 *   population polygon, or the weighted feature, or the uncovered part of each district). */

/* Quadrant segments of the buffers. A buffer's round parts are polygons inscribed in the true
 * circle: with q segments per quarter, a full circle's area is underestimated by about
 * (pi / 2q)^2 / 6 (q = 16: 0.16 %, q = 32: 0.04 %) and its edge lies up to r (1 - cos(pi / 4q))
 * inside the circle (q = 32, r = 500 m: 0.15 m). q = 32 keeps the share well inside the 0.1 % a
 * report prints, for 128 vertices per circle. Point tests (weighted population) fall back to exact
 * distances, so a point at exactly the radius counts as covered (METRICS.md: d <= radius). */
#define COV_QUADSEGS 32

/* Uncovered remainders below this area are overlay noise where a feature's edge runs along a
 * buffer's edge, not a gap a planner could act on. */
#define COV_SLIVER_M2 1e-3

/* METRICS.md defaults, used when the spec carries no classes (built in code without
 * pm_indicator_spec_defaults). */
static const pm_size_class cov_default_classes[] = {
    {400.0, 10000.0, 300.0, (char *)"pocket park"},
    {10000.0, INFINITY, 500.0, (char *)"park"},
};

/* One source that counts: its geometry, class and buffer. */
typedef struct cov_item {
  const GEOSGeometry *g;   /* borrowed from the sources */
  const GEOSGeometry *buf; /* borrowed from cov.bufs */
  size_t fi;               /* feature index in the sources */
  size_t cls;
  double radius;
} cov_item;

typedef struct cov {
  pm_context *ctx;
  GEOSContextHandle_t h;
  const pm_indicator_spec *spec;
  const pm_features *src, *pop;
  const pm_districts *d;
  pm_indicator_result *out;
  const char *ind;  /* indicator id for messages */
  size_t nslots;    /* d->n districts + `_all` */

  const pm_size_class *cls;
  size_t ncls;
  char **cls_label; /* display label per class */
  size_t largest;   /* class used by sources without area (points, lines) */

  cov_item *items;
  size_t nitems;
  GEOSGeometry *bufs; /* collection owning every buffer */
  GEOSSTRtree *tree;  /* items: cov_item *, indexed by source geometry */
  double rmax;
  GEOSGeometry *covered;
  const GEOSPreparedGeometry *covered_prep;

  double *num, *den;      /* per slot */
  double *serv_area;      /* area of the covered region in each slot */
  size_t *slot_idx;       /* scratch: slots of a point, capacity nslots */
  cov_item **cand;        /* scratch: tree query results */
  size_t ncand, capcand;
  int cand_oom;
  size_t *dcand;          /* scratch: districts touching a geometry */
  size_t ndcand, capdcand;
  int dcand_oom;
} cov;

static pm_status geos_fail(cov *c, const char *what) {
  return pm_error(c->ctx, PM_EGEOM, "indicator %s: %s failed (%s)", c->ind, what,
                  pm_context_geos_message(c->ctx));
}

static pm_status area_of(cov *c, const GEOSGeometry *g, double *a) {
  if (!GEOSArea_r(c->h, g, a)) return geos_fail(c, "measuring an area");
  return PM_OK;
}

static int is_polygonal(cov *c, const GEOSGeometry *g) {
  int t = GEOSGeomTypeId_r(c->h, g);
  return t == GEOS_POLYGON || t == GEOS_MULTIPOLYGON;
}

static const char *slot_name(const cov *c, size_t j) { return pm_districts_name(c->d, j); }

/* --- classes ------------------------------------------------------------------------------ */

static pm_status setup_classes(cov *c) {
  const pm_indicator_spec *s = c->spec;
  if (s->n_classes > 0 && s->classes) {
    c->cls = s->classes;
    c->ncls = s->n_classes;
  } else {
    c->cls = cov_default_classes;
    c->ncls = PM_ARRAY_LEN(cov_default_classes);
  }
  c->cls_label = calloc(c->ncls, sizeof *c->cls_label);
  if (!c->cls_label) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  for (size_t k = 0; k < c->ncls; k++) {
    const pm_size_class *k_cls = &c->cls[k];
    if (!(k_cls->min_area_m2 >= 0) || !(k_cls->max_area_m2 > k_cls->min_area_m2) ||
        !(k_cls->radius_m >= 0) || !isfinite(k_cls->radius_m))
      return pm_error(c->ctx, PM_EINPUT,
                      "indicator %s: class %zu of `classes` needs 0 <= min_area_m2 < max_area_m2 "
                      "and a radius_m >= 0 (got %g, %g, %g m)",
                      c->ind, k + 1, k_cls->min_area_m2, k_cls->max_area_m2, k_cls->radius_m);
    pm_status st;
    if (k_cls->label)
      st = pm_strdup(c->ctx, &c->cls_label[k], k_cls->label);
    else if (isinf(k_cls->max_area_m2))
      st = pm_asprintf(c->ctx, &c->cls_label[k], ">= %.10g m2, %.10g m", k_cls->min_area_m2,
                       k_cls->radius_m);
    else
      st = pm_asprintf(c->ctx, &c->cls_label[k], "%.10g-%.10g m2, %.10g m", k_cls->min_area_m2,
                       k_cls->max_area_m2, k_cls->radius_m);
    if (st) return st;
    const pm_size_class *big = &c->cls[c->largest];
    if (k_cls->min_area_m2 > big->min_area_m2 ||
        (k_cls->min_area_m2 == big->min_area_m2 && k_cls->radius_m > big->radius_m))
      c->largest = k;
  }
  if (!isnan(s->radius_m) && !(s->radius_m >= 0 && isfinite(s->radius_m)))
    return pm_error(c->ctx, PM_EINPUT, "indicator %s: radius_m must be a distance >= 0 (got %g)",
                    c->ind, s->radius_m);
  return PM_OK;
}

/* The class of a polygon of this area, or -1 when it matches none (too small, or in a hole
 * between the plan's classes). The first matching class wins; min is inclusive, max exclusive. */
static long class_of_area(const cov *c, double area) {
  for (size_t k = 0; k < c->ncls; k++)
    if (area >= c->cls[k].min_area_m2 && area < c->cls[k].max_area_m2) return (long)k;
  return -1;
}

static double smallest_min(const cov *c) {
  double m = INFINITY;
  for (size_t k = 0; k < c->ncls; k++)
    if (c->cls[k].min_area_m2 < m) m = c->cls[k].min_area_m2;
  return m;
}

/* --- spatial helpers ---------------------------------------------------------------------- */

static void cand_collect(void *item, void *user) {
  cov *c = user;
  if (c->cand_oom) return;
  if (pm_grow(c->ctx, (void **)&c->cand, &c->capcand, c->ncand + 1, sizeof *c->cand)) {
    c->cand_oom = 1;
    return;
  }
  c->cand[c->ncand++] = item;
}

/* Sources whose buffer may reach g: their geometry's envelope meets g's envelope grown by the
 * largest radius. Results in c->cand[0..ncand). */
static pm_status query_reach(cov *c, const GEOSGeometry *g) {
  c->ncand = 0;
  if (!c->tree) return PM_OK;
  double x0, y0, x1, y1;
  if (!GEOSGeom_getExtent_r(c->h, g, &x0, &y0, &x1, &y1)) return geos_fail(c, "an extent");
  GEOSGeometry *rect = GEOSGeom_createRectangle_r(c->h, x0 - c->rmax, y0 - c->rmax,
                                                  x1 + c->rmax, y1 + c->rmax);
  if (!rect) return geos_fail(c, "building a search window");
  GEOSSTRtree_query_r(c->h, c->tree, rect, cand_collect, c);
  GEOSGeom_destroy_r(c->h, rect);
  if (c->cand_oom) return PM_ENOMEM;
  return PM_OK;
}

static int item_distance(const void *a, const void *b, double *dist, void *user) {
  GEOSContextHandle_t h = user;
  return GEOSDistance_r(h, ((const cov_item *)a)->g, ((const cov_item *)b)->g, dist) ? 1 : 0;
}

/* The nearest counting source to g (distance to its boundary, 0 when they touch or overlap).
 * *nearest is NULL and *dist NAN when there is no source. */
static pm_status nearest_source(cov *c, const GEOSGeometry *g, const cov_item **nearest,
                                double *dist) {
  *nearest = NULL;
  *dist = NAN;
  if (!c->tree) return PM_OK;
  cov_item q = {.g = g};
  const cov_item *it =
      GEOSSTRtree_nearest_generic_r(c->h, c->tree, &q, g, item_distance, (void *)c->h);
  if (!it) return geos_fail(c, "finding the nearest source");
  if (!GEOSDistance_r(c->h, it->g, g, dist)) return geos_fail(c, "measuring a distance");
  *nearest = it;
  return PM_OK;
}

/* Whether point pt lies within the service radius of some source. The buffered region answers
 * most points; points just outside its inscribed polygon are checked against the exact
 * distances, so d <= radius always counts. */
static pm_status point_covered(cov *c, const GEOSGeometry *pt, int *covered) {
  *covered = 0;
  if (!c->covered_prep) return PM_OK;
  char r = GEOSPreparedCovers_r(c->h, c->covered_prep, pt);
  if (r == 2) return geos_fail(c, "testing coverage");
  if (r) {
    *covered = 1;
    return PM_OK;
  }
  pm_status st = query_reach(c, pt);
  if (st) return st;
  for (size_t k = 0; k < c->ncand; k++) {
    double dist;
    if (!GEOSDistance_r(c->h, c->cand[k]->g, pt, &dist))
      return geos_fail(c, "measuring a distance");
    if (dist <= c->cand[k]->radius) {
      *covered = 1;
      break;
    }
  }
  return PM_OK;
}

/* Result slots holding point pt: the districts covering it, then `_all` when inside the plan
 * area. Written to c->slot_idx. */
static pm_status slots_of_point(cov *c, const GEOSGeometry *pt, size_t *n) {
  *n = 0;
  if (c->d->n == 0) {
    c->slot_idx[(*n)++] = 0;
    return PM_OK;
  }
  int in_all = 0;
  pm_status st = pm_districts_of_point(c->ctx, c->d, pt, c->slot_idx, n, &in_all);
  if (st) return st;
  if (in_all) c->slot_idx[(*n)++] = c->d->n;
  return PM_OK;
}

/* Name of the first district holding point pt, or NULL (no districts, or outside them all). */
static pm_status district_of(cov *c, const GEOSGeometry *pt, const char **name) {
  *name = NULL;
  size_t n;
  pm_status st = slots_of_point(c, pt, &n);
  if (st) return st;
  if (n > 0 && c->slot_idx[0] < c->d->n) *name = slot_name(c, c->slot_idx[0]);
  return PM_OK;
}

static void dcand_collect(void *item, void *user) {
  cov *c = user;
  if (c->dcand_oom) return;
  if (pm_grow(c->ctx, (void **)&c->dcand, &c->capdcand, c->ndcand + 1, sizeof *c->dcand)) {
    c->dcand_oom = 1;
    return;
  }
  c->dcand[c->ndcand++] = (size_t)(uintptr_t)item;
}

/* Districts whose envelope meets g, into c->dcand. */
static pm_status districts_touching(cov *c, const GEOSGeometry *g) {
  c->ndcand = 0;
  if (c->d->n == 0) return PM_OK;
  if (c->d->tree) {
    GEOSSTRtree_query_r(c->h, c->d->tree, g, dcand_collect, c);
    return c->dcand_oom ? PM_ENOMEM : PM_OK;
  }
  for (size_t j = 0; j < c->d->n; j++) {
    dcand_collect((void *)(uintptr_t)j, c);
    if (c->dcand_oom) return PM_ENOMEM;
  }
  return PM_OK;
}

/* Area of the part of g inside slot j (j == d->n: the plan area). */
static pm_status area_in_slot(cov *c, size_t j, const GEOSGeometry *g, double *a) {
  *a = 0;
  const GEOSPreparedGeometry *prep;
  const GEOSGeometry *poly;
  if (j < c->d->n) {
    prep = c->d->prep[j];
    poly = c->d->geom[j];
  } else if (c->d->n == 0) {
    return area_of(c, g, a);
  } else {
    prep = c->d->all_prep;
    poly = c->d->all;
  }
  char r = GEOSPreparedCovers_r(c->h, prep, g);
  if (r == 2) return geos_fail(c, "clipping to a district");
  if (r) return area_of(c, g, a);
  r = GEOSPreparedIntersects_r(c->h, prep, g);
  if (r == 2) return geos_fail(c, "clipping to a district");
  if (!r) return PM_OK;
  GEOSGeometry *part = GEOSIntersection_r(c->h, poly, g);
  if (!part) return geos_fail(c, "clipping to a district");
  pm_status st = area_of(c, part, a);
  GEOSGeom_destroy_r(c->h, part);
  return st;
}

static pm_status point_xy(cov *c, const GEOSGeometry *pt, double *x, double *y) {
  if (!GEOSGeomGetX_r(c->h, pt, x) || !GEOSGeomGetY_r(c->h, pt, y))
    return geos_fail(c, "reading a point");
  return PM_OK;
}

/* --- sources ------------------------------------------------------------------------------ */

/* Sort the sources into classes, drop those matching no class, buffer the rest by their radius
 * and dissolve the buffers into the covered region. Dropped sources are announced as a notice and
 * exported as details of role "ignored_source" so a planner can see which small green spaces did
 * not count and why. */
static pm_status build_sources(cov *c) {
  const pm_features *src = c->src;
  pm_status st = PM_OK;
  GEOSGeometry **tmp = NULL;
  size_t nignored = 0;
  char *ignored_list = NULL; /* the first few ignored ids, for the notice */
  char *id = NULL, *why = NULL;
  GEOSGeometry *rep = NULL;
  double min_area = smallest_min(c);
  int override = !isnan(c->spec->radius_m);

  if (src->n > 0) {
    c->items = calloc(src->n, sizeof *c->items);
    tmp = calloc(src->n, sizeof *tmp);
    if (!c->items || !tmp) {
      st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
      goto done;
    }
  }
  for (size_t i = 0; i < src->n; i++) {
    const GEOSGeometry *g = src->geom[i];
    size_t cls = c->largest;
    if (is_polygonal(c, g)) {
      double a;
      if ((st = area_of(c, g, &a))) goto done;
      long k = class_of_area(c, a);
      if (k < 0) {
        if ((st = pm_features_id(c->ctx, src, i, &id))) goto done;
        if (a < min_area)
          st = pm_asprintf(c->ctx, &why, "ignored: %.0f m2 is below the smallest class (%.10g m2)",
                           a, min_area);
        else
          st = pm_asprintf(c->ctx, &why, "ignored: %.0f m2 matches no class", a);
        if (st) goto done;
        rep = GEOSPointOnSurface_r(c->h, g);
        if (!rep) {
          st = geos_fail(c, "a representative point");
          goto done;
        }
        const char *dname;
        if ((st = district_of(c, rep, &dname))) goto done;
        if ((st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "ignored_source", dname, id,
                                                      src->label ? src->label[i] : NULL, -1, NAN,
                                                      why, g)))
          goto done;
        if (nignored < 5) {
          char *l = NULL;
          if ((st = pm_asprintf(c->ctx, &l, "%s%s%s (%.0f m2)", ignored_list ? ignored_list : "",
                                ignored_list ? ", " : "", id, a)))
            goto done;
          free(ignored_list);
          ignored_list = l;
        }
        nignored++;
        GEOSGeom_destroy_r(c->h, rep);
        rep = NULL;
        free(id);
        free(why);
        id = why = NULL;
        continue;
      }
      cls = (size_t)k;
    }
    cov_item *it = &c->items[c->nitems];
    it->g = g;
    it->fi = i;
    it->cls = cls;
    it->radius = override ? c->spec->radius_m : c->cls[cls].radius_m;
    tmp[c->nitems] = GEOSBuffer_r(c->h, g, it->radius, COV_QUADSEGS);
    if (!tmp[c->nitems]) {
      st = geos_fail(c, "buffering a source");
      goto done;
    }
    if (it->radius > c->rmax) c->rmax = it->radius;
    c->nitems++;
  }
  if (nignored > 0)
    pm_notice(c->ctx, "indicator %s: %zu source(s) of layer %s matched no size class and were "
                      "ignored: %s%s",
              c->ind, nignored, src->layer ? src->layer : "?", ignored_list,
              nignored > 5 ? ", ..." : "");

  /* The collection takes the buffers; cov_item.buf borrows them back for local overlays. */
  c->bufs = c->nitems > 0 ? GEOSGeom_createCollection_r(c->h, GEOS_GEOMETRYCOLLECTION, tmp,
                                                        (unsigned)c->nitems)
                          : GEOSGeom_createEmptyCollection_r(c->h, GEOS_GEOMETRYCOLLECTION);
  /* GEOS owns the buffers now, also when it failed (it frees them then). */
  if (c->nitems > 0)
    for (size_t k = 0; k < c->nitems; k++) tmp[k] = NULL;
  if (!c->bufs) {
    st = geos_fail(c, "collecting the service areas");
    goto done;
  }
  for (size_t k = 0; k < c->nitems; k++)
    c->items[k].buf = GEOSGetGeometryN_r(c->h, c->bufs, (int)k);
  c->covered = GEOSUnaryUnion_r(c->h, c->bufs);
  if (!c->covered) {
    st = geos_fail(c, "dissolving the service areas");
    goto done;
  }
  if (GEOSisEmpty_r(c->h, c->covered)) {
    /* an empty polygon rather than an empty collection, which overlays refuse */
    GEOSGeom_destroy_r(c->h, c->covered);
    c->covered = GEOSGeom_createEmptyPolygon_r(c->h);
    if (!c->covered) {
      st = geos_fail(c, "an empty service area");
      goto done;
    }
  }
  c->covered_prep = GEOSPrepare_r(c->h, c->covered);
  if (!c->covered_prep) {
    st = geos_fail(c, "preparing the service areas");
    goto done;
  }
  if (c->nitems > 0) {
    c->tree = GEOSSTRtree_create_r(c->h, 10);
    if (!c->tree) {
      st = geos_fail(c, "indexing the sources");
      goto done;
    }
    for (size_t k = 0; k < c->nitems; k++)
      GEOSSTRtree_insert_r(c->h, c->tree, c->items[k].g, &c->items[k]);
  }

done:
  if (tmp)
    for (size_t k = 0; k < src->n; k++)
      if (tmp[k]) GEOSGeom_destroy_r(c->h, tmp[k]);
  free(tmp);
  if (rep) GEOSGeom_destroy_r(c->h, rep);
  free(ignored_list);
  free(id);
  free(why);
  return st;
}

/* Source details (with their class) and, when asked, the number of sources per class whose
 * representative point lies in each district. */
static pm_status source_details(cov *c) {
  pm_status st = PM_OK;
  int64_t *counts = NULL;
  char *id = NULL;
  if (c->spec->count_by_class) {
    counts = calloc(c->nslots * c->ncls, sizeof *counts);
    if (!counts) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  }
  for (size_t k = 0; k < c->nitems; k++) {
    const cov_item *it = &c->items[k];
    GEOSGeometry *rep = GEOSPointOnSurface_r(c->h, it->g);
    if (!rep) {
      st = geos_fail(c, "a representative point");
      goto done;
    }
    size_t n;
    st = slots_of_point(c, rep, &n);
    GEOSGeom_destroy_r(c->h, rep);
    if (st) goto done;
    const char *dname = n > 0 && c->slot_idx[0] < c->d->n ? slot_name(c, c->slot_idx[0]) : NULL;
    if (counts)
      for (size_t s = 0; s < n; s++) counts[c->slot_idx[s] * c->ncls + it->cls]++;
    if ((st = pm_features_id(c->ctx, c->src, it->fi, &id))) goto done;
    if ((st = pm_indicator_result_add_detail_geom(
             c->ctx, c->out, "source", dname, id, c->src->label ? c->src->label[it->fi] : NULL, -1,
             NAN, c->cls_label[it->cls], it->g)))
      goto done;
    free(id);
    id = NULL;
  }
  if (counts)
    for (size_t j = 0; j < c->nslots; j++)
      for (size_t k = 0; k < c->ncls; k++)
        if ((st = pm_result_add_class(c->ctx, &c->out->results[j], c->cls_label[k],
                                      counts[j * c->ncls + k])))
          goto done;
done:
  free(counts);
  free(id);
  return st;
}

/* The covered region clipped to each district: its area (used by the district denominator) and
 * a "service_area" detail per district (one for `_all` when there are no districts). */
static pm_status service_areas(cov *c) {
  pm_status st = PM_OK;
  for (size_t j = 0; j < c->nslots; j++) {
    GEOSGeometry *part = NULL;
    if ((st = pm_districts_clip(c->ctx, c->d, j, c->covered, &part))) return st;
    if (!part) continue;
    st = area_of(c, part, &c->serv_area[j]);
    if (!st && (c->d->n == 0 || j < c->d->n) && c->serv_area[j] > 0)
      st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "service_area", slot_name(c, j),
                                               slot_name(c, j), NULL, 1, NAN, NULL, part);
    GEOSGeom_destroy_r(c->h, part);
    if (st) return st;
  }
  return PM_OK;
}

/* --- denominators ------------------------------------------------------------------------- */

/* The part of polygon g outside every service area. Only the buffers that can reach g take
 * part, so the work stays local to g however large the city is. Caller owns *out. */
static pm_status uncovered_part(cov *c, const GEOSGeometry *g, GEOSGeometry **out) {
  *out = NULL;
  char r = GEOSPreparedIntersects_r(c->h, c->covered_prep, g);
  if (r == 2) return geos_fail(c, "testing coverage");
  GEOSGeometry *u = GEOSGeom_clone_r(c->h, g);
  if (!u) return geos_fail(c, "copying a geometry");
  if (r) {
    pm_status st = query_reach(c, g);
    if (st) {
      GEOSGeom_destroy_r(c->h, u);
      return st;
    }
    for (size_t k = 0; k < c->ncand; k++) {
      char hit = GEOSIntersects_r(c->h, u, c->cand[k]->buf);
      if (hit == 2) {
        GEOSGeom_destroy_r(c->h, u);
        return geos_fail(c, "testing coverage");
      }
      if (!hit) continue;
      GEOSGeometry *v = GEOSDifference_r(c->h, u, c->cand[k]->buf);
      GEOSGeom_destroy_r(c->h, u);
      if (!v) return geos_fail(c, "cutting out a service area");
      u = v;
    }
  }
  *out = u;
  return PM_OK;
}

/* Gaps and the "uncovered" detail of population feature i, whose uncovered part is piece: listed
 * in every district the uncovered part reaches with the area there, and in `_all` with the area
 * inside the plan area; under the district of the feature's representative point. */
static pm_status area_gaps(cov *c, size_t i, const GEOSGeometry *piece) {
  const pm_features *pop = c->pop;
  const GEOSGeometry *g = pop->geom[i];
  pm_status st;
  double ua, ta;
  if ((st = area_of(c, piece, &ua))) return st;
  if (!(ua > COV_SLIVER_M2)) return PM_OK;
  if ((st = area_of(c, g, &ta))) return st;
  GEOSGeometry *rep = NULL, *home_pt = NULL;
  char *id = NULL, *note = NULL, *near_id = NULL;
  const cov_item *near;
  double dist, x, y;
  const char *home = NULL;
  const char *name = pop->label ? pop->label[i] : NULL;
  if ((st = nearest_source(c, g, &near, &dist))) goto done;
  rep = GEOSPointOnSurface_r(c->h, piece);
  home_pt = GEOSPointOnSurface_r(c->h, g);
  if (!rep || !home_pt) {
    st = geos_fail(c, "a representative point");
    goto done;
  }
  if ((st = point_xy(c, rep, &x, &y)) || (st = district_of(c, home_pt, &home)) ||
      (st = pm_features_id(c->ctx, pop, i, &id)))
    goto done;
  if (near && (st = pm_features_id(c->ctx, c->src, near->fi, &near_id))) goto done;
  if ((st = pm_asprintf(c->ctx, &note, "%.0f of %.0f m2 uncovered (%.0f%% covered)", ua, ta,
                        ta > 0 ? 100.0 * (ta - ua) / ta : 0.0)))
    goto done;
  if ((st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "uncovered", home, id, name, 0,
                                                dist, near_id, piece)))
    goto done;
  if ((st = districts_touching(c, piece))) goto done;
  for (size_t q = 0; !st && q < c->ndcand; q++) {
    size_t j = c->dcand[q];
    double aj;
    st = area_in_slot(c, j, piece, &aj);
    if (!st && aj > COV_SLIVER_M2)
      st = pm_result_add_gap(c->ctx, &c->out->results[j], id, name, slot_name(c, j), dist, aj,
                             near_id, note, x, y);
  }
  double aall = 0;
  if (!st) st = area_in_slot(c, c->d->n, piece, &aall);
  if (!st && aall > COV_SLIVER_M2)
    st = pm_result_add_gap(c->ctx, &c->out->results[c->d->n], id, name, home, dist, aall, near_id,
                           note, x, y);
done:
  if (rep) GEOSGeom_destroy_r(c->h, rep);
  if (home_pt) GEOSGeom_destroy_r(c->h, home_pt);
  free(id);
  free(note);
  free(near_id);
  return st;
}

/* Add the land g (dissolved, interiors disjoint from all other land) and its uncovered part unc
 * (NULL: none) to the numerator and denominator of every slot it reaches. */
static pm_status area_accumulate(cov *c, const GEOSGeometry *g, const GEOSGeometry *unc) {
  pm_status st = districts_touching(c, g);
  for (size_t q = 0; !st && q <= c->ndcand; q++) {
    size_t j = q < c->ndcand ? c->dcand[q] : c->d->n;
    double a = 0, u = 0;
    st = area_in_slot(c, j, g, &a);
    if (!st && unc) st = area_in_slot(c, j, unc, &u);
    if (!st) {
      c->den[j] += a;
      c->num[j] += a > u ? a - u : 0;
    }
  }
  return st;
}

static size_t uf_find(size_t *parent, size_t i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

typedef struct idx_query {
  pm_context *ctx;
  size_t *v;
  size_t n, cap;
  int oom;
} idx_query;

static void idx_collect(void *item, void *user) {
  idx_query *q = user;
  if (q->oom) return;
  if (pm_grow(q->ctx, (void **)&q->v, &q->cap, q->n + 1, sizeof *q->v)) {
    q->oom = 1;
    return;
  }
  q->v[q->n++] = (size_t)(uintptr_t)item - 1;
}

/* Population land measured by area: covered part of the dissolved land in the district ÷ the
 * dissolved land in the district. Rather than dissolving the whole layer (slow for tens of
 * thousands of blocks, and every overlay then spans the city), features are grouped into clusters
 * whose interiors overlap; each cluster is dissolved on its own, and clusters, having disjoint
 * interiors, add up. Gaps: every feature with uncovered land. */
static pm_status deno_area(cov *c) {
  const pm_features *pop = c->pop;
  const size_t n = pop->n, none = (size_t)-1;
  pm_status st = PM_OK;
  size_t *parent = NULL, *head = NULL, *next = NULL;
  GEOSSTRtree *tree = NULL;
  GEOSGeometry *merged = NULL, *unc = NULL, *piece = NULL;
  idx_query q = {.ctx = c->ctx};
  if (n == 0) return PM_OK;
  parent = malloc(n * sizeof *parent);
  head = malloc(n * sizeof *head);
  next = malloc(n * sizeof *next);
  tree = GEOSSTRtree_create_r(c->h, 10);
  if (!parent || !head || !next || !tree) {
    st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    parent[i] = i;
    head[i] = next[i] = none;
    if (is_polygonal(c, pop->geom[i]))
      GEOSSTRtree_insert_r(c->h, tree, pop->geom[i], (void *)(uintptr_t)(i + 1));
  }
  /* Only overlapping interiors need dissolving; blocks that merely share an edge add up. */
  for (size_t i = 0; i < n; i++) {
    if (!is_polygonal(c, pop->geom[i])) continue;
    q.n = 0;
    GEOSSTRtree_query_r(c->h, tree, pop->geom[i], idx_collect, &q);
    if (q.oom) {
      st = PM_ENOMEM;
      goto done;
    }
    for (size_t t = 0; t < q.n; t++) {
      size_t k = q.v[t];
      if (k <= i || uf_find(parent, i) == uf_find(parent, k)) continue;
      char r = GEOSRelatePattern_r(c->h, pop->geom[i], pop->geom[k], "T********");
      if (r == 2) {
        st = geos_fail(c, "testing overlaps in the population layer");
        goto done;
      }
      if (r) parent[uf_find(parent, k)] = uf_find(parent, i);
    }
  }
  for (size_t i = n; i-- > 0;) {
    if (!is_polygonal(c, pop->geom[i])) continue;
    size_t r = uf_find(parent, i);
    next[i] = head[r];
    head[r] = i;
  }

  for (size_t r = 0; r < n; r++) {
    if (head[r] == none) continue;
    int single = next[head[r]] == none;
    const GEOSGeometry *g = pop->geom[head[r]];
    if (!single) {
      size_t total = 0, m = 0;
      for (size_t i = head[r]; i != none; i = next[i]) total++;
      GEOSGeometry **parts = calloc(total, sizeof *parts);
      if (!parts) {
        st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
        goto done;
      }
      m = 0;
      for (size_t i = head[r]; i != none; i = next[i]) {
        parts[m] = GEOSGeom_clone_r(c->h, pop->geom[i]);
        if (!parts[m]) break;
        m++;
      }
      GEOSGeometry *coll = NULL;
      if (m == total) /* every clone made */
        coll = GEOSGeom_createCollection_r(c->h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)m);
      else
        for (size_t k = 0; k < m; k++) GEOSGeom_destroy_r(c->h, parts[k]);
      free(parts);
      if (coll) {
        merged = GEOSUnaryUnion_r(c->h, coll);
        GEOSGeom_destroy_r(c->h, coll);
      }
      if (!merged) {
        st = geos_fail(c, "dissolving overlapping population features");
        goto done;
      }
      g = merged;
    }
    char cv = GEOSPreparedCovers_r(c->h, c->covered_prep, g);
    if (cv == 2) {
      st = geos_fail(c, "testing coverage");
      goto done;
    }
    if (cv) {
      st = area_accumulate(c, g, NULL);
    } else {
      if ((st = uncovered_part(c, g, &unc)) || (st = area_accumulate(c, g, unc))) goto done;
      for (size_t i = head[r]; !st && i != none; i = next[i]) {
        const GEOSGeometry *pc = unc;
        if (!single) {
          cv = GEOSPreparedCovers_r(c->h, c->covered_prep, pop->geom[i]);
          if (cv == 2) {
            st = geos_fail(c, "testing coverage");
            break;
          }
          if (cv) continue;
          if ((st = uncovered_part(c, pop->geom[i], &piece))) break;
          pc = piece;
        }
        st = area_gaps(c, i, pc);
        if (piece) GEOSGeom_destroy_r(c->h, piece);
        piece = NULL;
      }
    }
    if (st) goto done;
    if (unc) GEOSGeom_destroy_r(c->h, unc);
    if (merged) GEOSGeom_destroy_r(c->h, merged);
    unc = merged = NULL;
  }

done:
  if (tree) GEOSSTRtree_destroy_r(c->h, tree);
  if (merged) GEOSGeom_destroy_r(c->h, merged);
  if (unc) GEOSGeom_destroy_r(c->h, unc);
  if (piece) GEOSGeom_destroy_r(c->h, piece);
  free(q.v);
  free(parent);
  free(head);
  free(next);
  return st;
}

/* Parse a weight; NULL or blank is 0 (counted in *missing), anything else must be a number >= 0. */
static pm_status parse_weight(cov *c, size_t i, const char *text, double *w, size_t *missing) {
  *w = 0;
  if (!text) {
    (*missing)++;
    return PM_OK;
  }
  while (*text == ' ' || *text == '\t') text++;
  if (!*text) {
    (*missing)++;
    return PM_OK;
  }
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  while (*end == ' ' || *end == '\t') end++;
  if (errno || *end || !isfinite(v) || v < 0) {
    char *id = NULL;
    pm_features_id(c->ctx, c->pop, i, &id);
    pm_status st = pm_error(c->ctx, PM_EINPUT,
                            "indicator %s: layer %s, feature %s: weight_field %s is \"%s\", not a "
                            "number >= 0; fix the value or leave it out with `where:`",
                            c->ind, c->pop->layer ? c->pop->layer : "?", id ? id : "?",
                            c->spec->weight_field, text);
    free(id);
    return st;
  }
  *w = v;
  return PM_OK;
}

/* Population counted by weight (weight_field; 1 per feature for a point layer without one):
 * weights of features whose representative point is within reach ÷ all weights, the district
 * taken at the representative point. Gaps: the features with weight > 0 left out. */
static pm_status deno_weight(cov *c) {
  const pm_features *pop = c->pop;
  pm_status st = PM_OK;
  int wi = -1;
  size_t missing = 0;
  GEOSGeometry *rep = NULL;
  char *id = NULL, *near_id = NULL;
  if (c->spec->weight_field) wi = pm_features_attr_index(pop, c->spec->weight_field);
  if (c->spec->weight_field && wi < 0)
    return pm_error(c->ctx, PM_EINPUT,
                    "indicator %s: layer %s has no field %s (weight_field); name a field of the "
                    "population layer",
                    c->ind, pop->layer ? pop->layer : "?", c->spec->weight_field);
  for (size_t i = 0; i < pop->n; i++) {
    double w = 1;
    if (wi >= 0 && (st = parse_weight(c, i, pop->attr[wi][i], &w, &missing))) goto done;
    rep = GEOSPointOnSurface_r(c->h, pop->geom[i]);
    if (!rep) {
      st = geos_fail(c, "a representative point");
      goto done;
    }
    size_t n;
    int covered;
    if ((st = slots_of_point(c, rep, &n))) goto done;
    if (n == 0) { /* outside the plan area */
      GEOSGeom_destroy_r(c->h, rep);
      rep = NULL;
      continue;
    }
    if ((st = point_covered(c, rep, &covered))) goto done;
    /* point_covered reuses the scratch slots only through query_reach, not slot_idx */
    for (size_t s = 0; s < n; s++) {
      c->den[c->slot_idx[s]] += w;
      if (covered) c->num[c->slot_idx[s]] += w;
    }
    if (!covered && w > 0) {
      const cov_item *near;
      double dist, x, y;
      if ((st = nearest_source(c, rep, &near, &dist))) goto done;
      if ((st = point_xy(c, rep, &x, &y))) goto done;
      if ((st = pm_features_id(c->ctx, pop, i, &id))) goto done;
      if (near && (st = pm_features_id(c->ctx, c->src, near->fi, &near_id))) goto done;
      const char *name = pop->label ? pop->label[i] : NULL;
      const char *home = c->slot_idx[0] < c->d->n ? slot_name(c, c->slot_idx[0]) : NULL;
      if ((st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "uncovered", home, id, name, 0,
                                                    dist, near_id, pop->geom[i])))
        goto done;
      for (size_t s = 0; s < n; s++) {
        size_t j = c->slot_idx[s];
        if ((st = pm_result_add_gap(c->ctx, &c->out->results[j], id, name,
                                    j < c->d->n ? slot_name(c, j) : home, dist, w, near_id, NULL,
                                    x, y)))
          goto done;
      }
      free(id);
      free(near_id);
      id = near_id = NULL;
    }
    GEOSGeom_destroy_r(c->h, rep);
    rep = NULL;
  }
  if (missing > 0)
    pm_notice(c->ctx, "indicator %s: %zu feature(s) of layer %s have no %s; counted with weight 0",
              c->ind, missing, pop->layer ? pop->layer : "?", c->spec->weight_field);
done:
  if (rep) GEOSGeom_destroy_r(c->h, rep);
  free(id);
  free(near_id);
  return st;
}

/* The district polygon is the denominator: covered area ÷ district area. One gap per district
 * with uncovered area (m2); `_all` lists them all. */
static pm_status deno_district(cov *c) {
  const pm_districts *d = c->d;
  pm_status st = PM_OK;
  for (size_t j = 0; j <= d->n; j++) {
    if (j < d->n) {
      if ((st = area_of(c, d->geom[j], &c->den[j]))) return st;
    } else {
      c->den[j] = d->area_m2_all;
    }
    c->num[j] = c->serv_area[j];
  }
  for (size_t j = 0; j < d->n; j++) {
    double short_m2 = c->den[j] - c->num[j];
    if (!(short_m2 > COV_SLIVER_M2)) continue;
    GEOSGeometry *unc = GEOSDifference_r(c->h, d->geom[j], c->covered);
    if (!unc) return geos_fail(c, "cutting the service areas out of a district");
    double x = NAN, y = NAN;
    char *note = NULL;
    if (!GEOSisEmpty_r(c->h, unc)) {
      GEOSGeometry *rep = GEOSPointOnSurface_r(c->h, unc);
      if (!rep) st = geos_fail(c, "a representative point");
      if (!st) st = point_xy(c, rep, &x, &y);
      if (rep) GEOSGeom_destroy_r(c->h, rep);
    }
    if (!st)
      st = pm_asprintf(c->ctx, &note, "%.0f of %.0f m2 of the district outside every service area",
                       short_m2, c->den[j]);
    if (!st)
      st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "uncovered", d->name[j], d->name[j],
                                               d->name[j], 0, NAN, NULL, unc);
    if (!st)
      st = pm_result_add_gap(c->ctx, &c->out->results[j], d->name[j], d->name[j], d->name[j], NAN,
                             short_m2, NULL, note, x, y);
    if (!st)
      st = pm_result_add_gap(c->ctx, &c->out->results[d->n], d->name[j], d->name[j], d->name[j],
                             NAN, short_m2, NULL, note, x, y);
    free(note);
    GEOSGeom_destroy_r(c->h, unc);
    if (st) return st;
  }
  return PM_OK;
}

/* --- entry point -------------------------------------------------------------------------- */

/* pm_metric_begin, with the unit and metric name defaulted for specs built in code. */
static pm_status copy_header(cov *c) {
  return pm_metric_begin(c->ctx, c->spec, "coverage", "%", c->d, c->out);
}

static void cov_free(cov *c) {
  if (c->tree) GEOSSTRtree_destroy_r(c->h, c->tree);
  if (c->covered_prep) GEOSPreparedGeom_destroy_r(c->h, c->covered_prep);
  if (c->covered) GEOSGeom_destroy_r(c->h, c->covered);
  if (c->bufs) GEOSGeom_destroy_r(c->h, c->bufs);
  if (c->cls_label)
    for (size_t k = 0; k < c->ncls; k++) free(c->cls_label[k]);
  free(c->cls_label);
  free(c->items);
  free(c->num);
  free(c->den);
  free(c->serv_area);
  free(c->slot_idx);
  free(c->cand);
  free(c->dcand);
}

pm_status pm_coverage(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *sources,
                      const pm_features *population, const pm_districts *d,
                      pm_indicator_result *out) {
  if (!ctx) return PM_EINTERNAL;
  if (!spec || !sources || !d || !out)
    return pm_error(ctx, PM_EINTERNAL,
                    "pm_coverage: spec, sources, districts and out are required");
  const char *ind = spec->id ? spec->id : "coverage";
  if (!population && d->n == 0)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: coverage needs a population layer or districts; give "
                    "`population:` (e.g. residential land) or a `districts:` layer in the plan",
                    ind);
  if (!population && spec->weight_field)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: weight_field %s needs a `population:` layer that carries it",
                    ind, spec->weight_field);
  if (population && population->kind == PM_KIND_LINE)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: population layer %s has lines; coverage needs polygons "
                    "(measured by area) or points/polygons with weight_field",
                    ind, population->layer ? population->layer : "?");

  cov c = {.ctx = ctx, .h = pm_context_geos(ctx), .spec = spec, .src = sources,
           .pop = population, .d = d, .out = out, .ind = ind, .nslots = d->n + 1};
  pm_status st;
  c.num = calloc(c.nslots, sizeof *c.num);
  c.den = calloc(c.nslots, sizeof *c.den);
  c.serv_area = calloc(c.nslots, sizeof *c.serv_area);
  c.slot_idx = calloc(c.nslots, sizeof *c.slot_idx);
  if (!c.num || !c.den || !c.serv_area || !c.slot_idx) {
    st = pm_error(ctx, PM_ENOMEM, "out of memory");
    goto done;
  }
  if ((st = copy_header(&c)) || (st = setup_classes(&c)) || (st = build_sources(&c)) ||
      (st = source_details(&c)) || (st = service_areas(&c)))
    goto done;

  const char *why;
  char *why_buf = NULL;
  if (!population) {
    st = deno_district(&c);
    why = "the district has no area";
  } else if (population->kind == PM_KIND_POLYGON && !spec->weight_field) {
    st = deno_area(&c);
    st = st ? st
            : pm_asprintf(ctx, &why_buf, "no %s land in this district (the denominator is empty)",
                          population->layer ? population->layer : "population");
    why = why_buf;
  } else {
    st = deno_weight(&c);
    if (!st && spec->weight_field)
      st = pm_asprintf(ctx, &why_buf, "the %s weights (%s) sum to 0 in this district",
                       population->layer ? population->layer : "population", spec->weight_field);
    else if (!st)
      st = pm_asprintf(ctx, &why_buf, "no %s features in this district",
                       population->layer ? population->layer : "population");
    why = why_buf;
  }
  for (size_t j = 0; !st && j < c.nslots; j++) {
    /* The last slot is `_all`: say "the plan area" there, not "this district". */
    char *all_why = NULL;
    const char *w = why;
    if (j + 1 == c.nslots && why && strstr(why, "this district")) {
      const char *p = strstr(why, "this district");
      st = pm_asprintf(ctx, &all_why, "%.*sthe plan area%s", (int)(p - why), why,
                       p + strlen("this district"));
      w = all_why;
    } else if (j + 1 == c.nslots && why && strcmp(why, "the district has no area") == 0) {
      w = "the plan area has no area";
    }
    if (!st) st = pm_result_set_share(ctx, &out->results[j], c.num[j], c.den[j], w);
    free(all_why);
  }
  free(why_buf);
  if (!st) st = pm_metric_finish(ctx, out);

done:
  cov_free(&c);
  return st;
}
