/* coverage.c: METRICS.md §2 coverage — the share of residents within the service radius of parks. */
#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "queries/coverage_internal.h"
#include "queries/metric_internal.h"

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

static pm_status geos_fail(cov *c, const char *what) {
  return pm_error(c->ctx, PM_EGEOM, "indicator %s: %s failed (%s)", c->ind, what,
                  pm__context_geos_message(c->ctx));
}

/* The extent of g; an empty g gets an inverted box, which no envelope test accepts and whose
 * distance to anything is infinite. */
static void extent_of(cov *c, const GEOSGeometry *g, double *x0, double *y0, double *x1,
                      double *y1) {
  if (GEOSisEmpty_r(c->h, g) != 0 || !GEOSGeom_getExtent_r(c->h, g, x0, y0, x1, y1)) {
    *x0 = *y0 = INFINITY;
    *x1 = *y1 = -INFINITY;
  }
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
  if (s->n_classes == 0 || !s->classes)
    return pm_error(c->ctx, PM_EINPUT,
                    "indicator %s: no service-radius classes; build the spec with "
                    "pm_indicator_spec_create (or pm_indicator_spec_defaults), which gives the "
                    "defaults of METRICS.md",
                    c->ind);
  c->cls = s->classes;
  c->ncls = s->n_classes;
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
  if (c->t.cand_oom) return;
  if (pm__grow(c->ctx, (void **)&c->t.cand, &c->t.capcand, c->t.ncand + 1, sizeof *c->t.cand)) {
    c->t.cand_oom = 1;
    return;
  }
  c->t.cand[c->t.ncand++] = item;
}

/* Sources whose buffer may reach g: their geometry's envelope meets g's envelope grown by the
 * largest radius. Results in c->t.cand[0..t.ncand). */
static pm_status query_reach(cov *c, const GEOSGeometry *g) {
  c->t.ncand = 0;
  if (!c->tree) return PM_OK;
  double x0, y0, x1, y1;
  if (!GEOSGeom_getExtent_r(c->h, g, &x0, &y0, &x1, &y1)) return geos_fail(c, "an extent");
  GEOSGeometry *rect = GEOSGeom_createRectangle_r(c->h, x0 - c->rmax, y0 - c->rmax,
                                                  x1 + c->rmax, y1 + c->rmax);
  if (!rect) return geos_fail(c, "building a search window");
  GEOSSTRtree_query_r(c->h, c->tree, rect, cand_collect, c);
  GEOSGeom_destroy_r(c->h, rect);
  if (c->t.cand_oom) return PM_ENOMEM;
  return PM_OK;
}

/* The prepared geometries a thread made for itself (arrays kept). */
static void drop_preps(cov *c) {
  if (c->t.src_prep)
    for (size_t k = 0; k < c->nitems; k++)
      if (c->t.src_prep[k]) {
        GEOSPreparedGeom_destroy_r(c->h, c->t.src_prep[k]);
        c->t.src_prep[k] = NULL;
      }
  if (c->t.part_prep)
    for (size_t k = 0; k < c->covered_parts.n; k++)
      if (c->t.part_prep[k]) {
        GEOSPreparedGeom_destroy_r(c->h, c->t.part_prep[k]);
        c->t.part_prep[k] = NULL;
      }
  c->t.prep_coords = 0;
}

/* Prepared geometries cost about 50 bytes per coordinate; a thread keeps at most this many
 * coordinates prepared and starts afresh beyond (work goes in spatial order, so what it drops is
 * mostly behind it). */
#define COV_PREP_BUDGET 2000000

/* The prepared form of g, kept in *slot (made on first use). */
static pm_status prepared(cov *c, const GEOSGeometry *g, const GEOSPreparedGeometry **slot) {
  if (*slot) return PM_OK;
  int nc = GEOSGetNumCoordinates_r(c->h, g);
  if (nc > 0 && c->t.prep_coords + (size_t)nc > COV_PREP_BUDGET) drop_preps(c);
  if (!(*slot = GEOSPrepare_r(c->h, g))) return geos_fail(c, "preparing a geometry");
  c->t.prep_coords += nc > 0 ? (size_t)nc : 0;
  return PM_OK;
}

static void scratch_free(cov *c) {
  drop_preps(c);
  free(c->t.src_prep);
  free(c->t.part_prep);
  free(c->t.part_hits.v);
  free(c->t.slot_idx);
  free(c->t.cand);
  free(c->t.dcand);
  memset(&c->t, 0, sizeof c->t);
}
/* The tree's search measures exact distances to the sources it cannot rule out; the smallest one
 * is kept so that the winner's distance need not be measured again. */
typedef struct nearest_search {
  cov *c;
  const cov_item *query;
  const cov_item *best;
  double best_dist;
} nearest_search;

/* Distance between the envelopes of two items: a lower bound of their distance. */
static double envelope_distance(const cov_item *a, const cov_item *b) {
  double dx = fmax(0, fmax(a->x0 - b->x1, b->x0 - a->x1));
  double dy = fmax(0, fmax(a->y0 - b->y1, b->y0 - a->y1));
  return hypot(dx, dy);
}

/* Distances to a source go through its prepared geometry (made on first use, per thread), whose
 * facet index then serves every block that asks. */
static int item_distance(const void *a, const void *b, double *dist, void *user) {
  nearest_search *ns = user;
  cov *c = ns->c;
  const cov_item *ia = a, *ib = b;
  const cov_item *item = ia == ns->query ? ib : ia;
  /* GEOS asks for the distance of every child of a node it opens. A source whose envelope is
   * farther than a distance already measured cannot be the nearest: its envelope distance (a
   * lower bound, strictly above the best) is answer enough, and the search still returns the
   * source with the smallest exact distance. */
  double lower = envelope_distance(item, ns->query);
  if (ns->best && lower > ns->best_dist) {
    *dist = lower;
    return 1;
  }
  size_t k = (size_t)(item - c->items);
  if (prepared(c, item->g, &c->t.src_prep[k])) return 0;
  if (!GEOSPreparedDistance_r(c->h, c->t.src_prep[k], ns->query->g, dist)) return 0;
  if (!ns->best || *dist < ns->best_dist) {
    ns->best = item;
    ns->best_dist = *dist;
  }
  return 1;
}

/* The nearest counting source to g (distance to its boundary, 0 when they touch or overlap).
 * *nearest is NULL and *dist NAN when there is no source. */
static pm_status nearest_source(cov *c, const GEOSGeometry *g, const cov_item **nearest,
                                double *dist) {
  *nearest = NULL;
  *dist = NAN;
  if (!c->tree) return PM_OK;
  cov_item q = {.g = g};
  if (!GEOSGeom_getExtent_r(c->h, g, &q.x0, &q.y0, &q.x1, &q.y1)) return geos_fail(c, "an extent");
  if (!c->t.src_prep) {
    c->t.src_prep = calloc(c->nitems, sizeof *c->t.src_prep);
    if (!c->t.src_prep) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  }
  nearest_search ns = {.c = c, .query = &q};
  const cov_item *it = GEOSSTRtree_nearest_generic_r(c->h, c->tree, &q, g, item_distance, &ns);
  if (!it) return geos_fail(c, "finding the nearest source");
  if (it == ns.best)
    *dist = ns.best_dist;
  else if (!GEOSDistance_r(c->h, it->g, g, dist))
    return geos_fail(c, "measuring a distance");
  *nearest = it;
  return PM_OK;
}

/* The nearest source of g for a gap: by straight-line distance, or along the network (then
 * *straight is the straight-line distance to it; NAN with straight lines). */
static pm_status gap_nearest(cov *c, const GEOSGeometry *g, const cov_item **nearest, double *dist,
                             double *straight) {
  *straight = NAN;
  if (c->net) return pm__cov_network_nearest(c, g, nearest, dist, straight);
  return nearest_source(c, g, nearest, dist);
}

/* Whether the covered region covers (covers = 1) or intersects (covers = 0) g. The region is
 * tested part by part, and only the parts near g: its parts are disjoint, so each polygon of g it
 * covers lies in one part. A prepared region of a whole city would be tested in time growing
 * with the city's width (its point locator scans every edge at the point's latitude); a part's
 * test grows only with that part. */
static pm_status region_test(cov *c, const GEOSGeometry *g, int covers, int *result) {
  *result = 0;
  int type = GEOSGeomTypeId_r(c->h, g);
  if (covers && (type == GEOS_MULTIPOLYGON || type == GEOS_GEOMETRYCOLLECTION)) {
    int n = GEOSGetNumGeometries_r(c->h, g);
    for (int k = 0; k < n; k++) {
      const GEOSGeometry *gk = GEOSGetGeometryN_r(c->h, g, k);
      if (GEOSisEmpty_r(c->h, gk) == 1) continue;
      pm_status st = region_test(c, gk, 1, result);
      if (st || !*result) return st;
    }
    *result = 1;
    return PM_OK;
  }
  if (c->covered_parts.n == 0) return PM_OK;
  if (!c->t.part_prep && !(c->t.part_prep = calloc(c->covered_parts.n, sizeof *c->t.part_prep)))
    return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  pm_idx_list *l = &c->t.part_hits;
  l->n = 0;
  l->offset = 1;
  l->ctx = c->ctx;
  GEOSSTRtree_query_r(c->h, c->covered_parts.tree, g, pm_idx_list_cb, l);
  if (l->st) return l->st;
  for (size_t q = 0; q < l->n && !*result; q++) {
    size_t k = l->v[q];
    pm_status st = prepared(c, c->covered_parts.part[k], &c->t.part_prep[k]);
    if (st) return st;
    char r = covers ? GEOSPreparedCovers_r(c->h, c->t.part_prep[k], g)
                    : GEOSPreparedIntersects_r(c->h, c->t.part_prep[k], g);
    if (r == 2) return geos_fail(c, "testing coverage");
    *result = r;
  }
  return PM_OK;
}

/* Whether point pt lies within the service radius of some source. The buffered region answers
 * most points; points just outside its inscribed polygon are checked against the exact
 * distances, so d <= radius always counts. */
static pm_status point_covered(cov *c, const GEOSGeometry *pt, int *covered) {
  *covered = 0;
  if (c->net) { /* points by their own walked distance (METRICS.md §5) */
    pm_network_snap snap;
    return pm__cov_network_point(c, pt, covered, &snap);
  }
  pm_status st = region_test(c, pt, 1, covered);
  if (st || *covered) return st;
  st = query_reach(c, pt);
  if (st) return st;
  for (size_t k = 0; k < c->t.ncand; k++) {
    double dist;
    if (!GEOSDistance_r(c->h, c->t.cand[k]->g, pt, &dist))
      return geos_fail(c, "measuring a distance");
    if (dist <= c->t.cand[k]->radius) {
      *covered = 1;
      break;
    }
  }
  return PM_OK;
}

/* Result slots holding point pt: the districts covering it, then `_all` when inside the plan
 * area. Written to c->t.slot_idx. */
static pm_status slots_of_point(cov *c, const GEOSGeometry *pt, size_t *n) {
  *n = 0;
  if (c->d->n == 0) {
    c->t.slot_idx[(*n)++] = 0;
    return PM_OK;
  }
  int in_all = 0;
  pm_status st = pm_districts_of_point(c->ctx, c->d, pt, c->t.slot_idx, n, &in_all);
  if (st) return st;
  if (in_all) c->t.slot_idx[(*n)++] = c->d->n;
  return PM_OK;
}

/* Name of the first district holding point pt, or NULL (no districts, or outside them all). */
static pm_status district_of(cov *c, const GEOSGeometry *pt, const char **name) {
  *name = NULL;
  size_t n;
  pm_status st = slots_of_point(c, pt, &n);
  if (st) return st;
  if (n > 0 && c->t.slot_idx[0] < c->d->n) *name = slot_name(c, c->t.slot_idx[0]);
  return PM_OK;
}

static void dcand_collect(void *item, void *user) {
  cov *c = user;
  if (c->t.dcand_oom) return;
  if (pm__grow(c->ctx, (void **)&c->t.dcand, &c->t.capdcand, c->t.ndcand + 1, sizeof *c->t.dcand)) {
    c->t.dcand_oom = 1;
    return;
  }
  c->t.dcand[c->t.ndcand++] = (size_t)(uintptr_t)item;
}

/* Districts whose envelope meets g, into c->t.dcand. */
static pm_status districts_touching(cov *c, const GEOSGeometry *g) {
  c->t.ndcand = 0;
  if (c->d->n == 0) return PM_OK;
  if (c->d->tree) {
    GEOSSTRtree_query_r(c->h, c->d->tree, g, dcand_collect, c);
    return c->t.dcand_oom ? PM_ENOMEM : PM_OK;
  }
  for (size_t j = 0; j < c->d->n; j++) {
    dcand_collect((void *)(uintptr_t)j, c);
    if (c->t.dcand_oom) return PM_ENOMEM;
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

static void ignore_item(void *item, void *user) {
  (void)item;
  (void)user;
}

/* --- sources ------------------------------------------------------------------------------ */

/* Dissolving the buffers: in strips of sources ordered west to east, shared among the threads,
 * then neighbouring strips pairwise (pm_union_pairwise: only what meets at the seam is overlaid,
 * so eight strips balance two threads without costing more merging). The strips depend only on
 * the sources, so the region is the same for any number of threads. */
#define COV_UNION_STRIPS 8
#define COV_UNION_MIN 2048 /* fewer buffers are dissolved in one cascaded union */

typedef struct union_job {
  cov *c;
  const size_t *order; /* items sorted west to east */
  GEOSGeometry *strip[COV_UNION_STRIPS];
} union_job;

static pm_status union_task(pm_context *ctx, void *state, void *arg, size_t i) {
  (void)state;
  union_job *u = arg;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  size_t n = u->c->nitems, b = i * n / COV_UNION_STRIPS, e = (i + 1) * n / COV_UNION_STRIPS;
  pm_geom_list l = {0};
  for (size_t k = b; k < e; k++) {
    GEOSGeometry *g = GEOSGeom_clone_r(h, u->c->items[u->order[k]].buf);
    pm_status st = g ? pm_geom_list_push(ctx, &l, g) : pm_error(ctx, PM_ENOMEM, "out of memory");
    if (st) {
      pm_geom_list_clear(ctx, &l);
      return st;
    }
  }
  u->strip[i] = pm_geom_list_union(ctx, &l, GEOS_GEOMETRYCOLLECTION);
  if (!u->strip[i])
    return pm_error(ctx, PM_EGEOM, "indicator %s: dissolving the service areas failed (%s)",
                    u->c->ind, pm__context_geos_message(ctx));
  return PM_OK;
}

static pm_status union_buffers(cov *c) {
  if (c->nitems < COV_UNION_MIN) {
    c->covered = GEOSUnaryUnion_r(c->h, c->bufs);
    return c->covered ? PM_OK : geos_fail(c, "dissolving the service areas");
  }
  union_job u = {.c = c};
  size_t *order = NULL;
  double *x = malloc(c->nitems * sizeof *x);
  if (!x) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  for (size_t k = 0; k < c->nitems; k++) {
    const cov_item *it = &c->items[k];
    x[k] = (it->x0 + it->x1) / 2; /* the source's centre */
  }
  pm_status st = pm_order_by_x(c->ctx, x, c->nitems, &order);
  free(x);
  if (st) return st;
  u.order = order;
  st = pm__parallel_for(c->ctx, pm_context_threads(c->ctx), COV_UNION_STRIPS, NULL, union_task,
                        NULL, &u);
  char *what = NULL;
  if (!st && !(st = pm_asprintf(c->ctx, &what, "indicator %s: dissolving the service areas",
                                c->ind)))
    st = pm_union_pairwise(c->ctx, u.strip, COV_UNION_STRIPS, what);
  free(what);
  if (!st) {
    c->covered = u.strip[0];
    u.strip[0] = NULL;
  }
  for (size_t k = 0; k < COV_UNION_STRIPS; k++)
    if (u.strip[k]) GEOSGeom_destroy_r(c->h, u.strip[k]);
  free(order);
  return st;
}

/* The straight-line service areas: each kept source buffered by its radius, in chunks on the
 * context's threads (each buffer depends only on its source, so any thread count gives the same
 * buffers). */
#define COV_BUFFER_CHUNK 256

typedef struct buffer_job {
  cov *c;
  GEOSGeometry **out;
} buffer_job;

static pm_status buffer_task(pm_context *ctx, void *state, void *arg, size_t i) {
  (void)state;
  buffer_job *j = arg;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  size_t e = (i + 1) * COV_BUFFER_CHUNK;
  if (e > j->c->nitems) e = j->c->nitems;
  for (size_t k = i * COV_BUFFER_CHUNK; k < e; k++) {
    const cov_item *it = &j->c->items[k];
    if (!(j->out[k] = GEOSBuffer_r(h, it->g, it->radius, COV_QUADSEGS)))
      return pm_error(ctx, PM_EGEOM, "indicator %s: buffering a source failed (%s)",
                      j->c->ind, pm__context_geos_message(ctx));
  }
  return PM_OK;
}

static pm_status buffer_sources(cov *c, GEOSGeometry **out) {
  buffer_job j = {.c = c, .out = out};
  size_t chunks = (c->nitems + COV_BUFFER_CHUNK - 1) / COV_BUFFER_CHUNK;
  return pm__parallel_for(c->ctx, pm_context_threads(c->ctx), chunks, NULL, buffer_task, NULL, &j);
}

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
    extent_of(c, g, &it->x0, &it->y0, &it->x1, &it->y1);
    if (it->radius > c->rmax) c->rmax = it->radius;
    c->nitems++;
  }
  /* Along the network, a source's service area is the network it reaches, widened. */
  if ((st = c->net ? pm__cov_network_bufs(c, tmp) : buffer_sources(c, tmp))) goto done;
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
  if ((st = union_buffers(c))) goto done;
  if (GEOSisEmpty_r(c->h, c->covered)) {
    /* an empty polygon rather than an empty collection, which overlays refuse */
    GEOSGeom_destroy_r(c->h, c->covered);
    c->covered = GEOSGeom_createEmptyPolygon_r(c->h);
    if (!c->covered) {
      st = geos_fail(c, "an empty service area");
      goto done;
    }
  }
  if ((st = pm_parts_index_build(c->ctx, &c->covered_parts, c->covered, 2))) goto done;
  /* built now, before threads share it (GEOS builds a tree at its first query) */
  GEOSSTRtree_query_r(c->h, c->covered_parts.tree, c->covered, ignore_item, NULL);
  if (c->nitems > 0) {
    c->tree = GEOSSTRtree_create_r(c->h, 10);
    if (!c->tree) {
      st = geos_fail(c, "indexing the sources");
      goto done;
    }
    for (size_t k = 0; k < c->nitems; k++)
      GEOSSTRtree_insert_r(c->h, c->tree, c->items[k].g, &c->items[k]);
    /* GEOS builds a tree at its first query; build it here, before threads share it. */
    GEOSSTRtree_query_r(c->h, c->tree, c->items[0].g, ignore_item, NULL);
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
    const char *dname = n > 0 && c->t.slot_idx[0] < c->d->n ? slot_name(c, c->t.slot_idx[0]) : NULL;
    if (counts)
      for (size_t s = 0; s < n; s++) counts[c->t.slot_idx[s] * c->ncls + it->cls]++;
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
 * a "service_area" detail per district (one for `_all` when there are no districts). Only the
 * parts of the region near a district are clipped, so the work grows with the region, not with
 * region × districts. */
static pm_status service_areas(cov *c) {
  pm_status st = PM_OK;
  if (!c->pop && c->d->n > 0) {
    c->serv_geom = calloc(c->d->n, sizeof *c->serv_geom);
    if (!c->serv_geom) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  }
  for (size_t j = 0; j < c->nslots; j++) {
    GEOSGeometry *part = NULL;
    if ((st = pm_clip_slot(c->ctx, c->spec->id, c->d, j, &c->covered_parts, 2, &part,
                           &c->serv_area[j])))
      return st;
    if (pm_slot_has_details(c->d, j) && c->serv_area[j] > 0)
      st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "service_area", slot_name(c, j),
                                               slot_name(c, j), NULL, 1, NAN, NULL, part);
    if (c->serv_geom && j < c->d->n)
      c->serv_geom[j] = part;
    else
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
  int r;
  pm_status st0 = region_test(c, g, 0, &r);
  if (st0) return st0;
  GEOSGeometry *u = GEOSGeom_clone_r(c->h, g);
  if (!u) return geos_fail(c, "copying a geometry");
  if (r) {
    pm_status st = query_reach(c, g);
    if (st) {
      GEOSGeom_destroy_r(c->h, u);
      return st;
    }
    /* Which buffers reach g: one prepared g against each candidate (cheaper than a relate of
     * the shrinking remainder every time). */
    const GEOSPreparedGeometry *pg = GEOSPrepare_r(c->h, g);
    if (!pg) {
      GEOSGeom_destroy_r(c->h, u);
      return geos_fail(c, "preparing a geometry");
    }
    for (size_t k = 0; k < c->t.ncand && GEOSisEmpty_r(c->h, u) == 0; k++) {
      char hit = GEOSPreparedIntersects_r(c->h, pg, c->t.cand[k]->buf);
      GEOSGeometry *v = NULL;
      if (hit == 1) v = GEOSDifference_r(c->h, u, c->t.cand[k]->buf);
      if (hit == 2 || (hit == 1 && !v)) {
        GEOSPreparedGeom_destroy_r(c->h, pg);
        GEOSGeom_destroy_r(c->h, u);
        return geos_fail(c, hit == 2 ? "testing coverage" : "cutting out a service area");
      }
      if (!v) continue;
      GEOSGeom_destroy_r(c->h, u);
      u = v;
    }
    GEOSPreparedGeom_destroy_r(c->h, pg);
  }
  *out = u;
  return PM_OK;
}

static pm_status add_gap(cov *c, pm_result *r, const char *id, const char *name, const char *district,
                         double dist, double straight, double shortfall, const char *nearest,
                         const char *note, double x, double y) {
  pm_status st =
      pm_result_add_gap(c->ctx, r, id, name, district, dist, shortfall, nearest, note, x, y);
  if (!st) r->gaps[r->n_gaps - 1].straight_m = straight;
  return st;
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
  double dist, x, y, straight;
  const char *home = NULL;
  const char *name = pop->label ? pop->label[i] : NULL;
  if ((st = gap_nearest(c, g, &near, &dist, &straight))) goto done;
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
  for (size_t q = 0; !st && q < c->t.ndcand; q++) {
    size_t j = c->t.dcand[q];
    double aj;
    st = area_in_slot(c, j, piece, &aj);
    if (!st && aj > COV_SLIVER_M2)
      st = add_gap(c, &c->out->results[j], id, name, slot_name(c, j), dist, straight, aj, near_id,
                   note, x, y);
  }
  double aall = 0;
  if (!st) st = area_in_slot(c, c->d->n, piece, &aall);
  if (!st && aall > COV_SLIVER_M2)
    st = add_gap(c, &c->out->results[c->d->n], id, name, home, dist, straight, aall, near_id, note,
                 x, y);
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
  for (size_t q = 0; !st && q <= c->t.ndcand; q++) {
    size_t j = q < c->t.ndcand ? c->t.dcand[q] : c->d->n;
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
  if (pm__grow(q->ctx, (void **)&q->v, &q->cap, q->n + 1, sizeof *q->v)) {
    q->oom = 1;
    return;
  }
  q->v[q->n++] = (size_t)(uintptr_t)item - 1;
}

/* Population land measured by area, one cluster of features with overlapping interiors: the
 * cluster's dissolved land and its uncovered part go to the numerators and denominators, each
 * feature with uncovered land becomes a gap. head/next list the cluster's features. */
static pm_status area_cluster(cov *c, const size_t *next, size_t first) {
  const pm_features *pop = c->pop;
  const size_t none = (size_t)-1;
  pm_status st = PM_OK;
  GEOSGeometry *merged = NULL, *unc = NULL, *piece = NULL;
  int single = next[first] == none;
  const GEOSGeometry *g = pop->geom[first];
  if (!single) {
    size_t total = 0, m = 0;
    for (size_t i = first; i != none; i = next[i]) total++;
    GEOSGeometry **parts = calloc(total, sizeof *parts);
    if (!parts) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
    for (size_t i = first; i != none; i = next[i]) {
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
    if (!merged) return geos_fail(c, "dissolving overlapping population features");
    g = merged;
  }
  int cv;
  if ((st = region_test(c, g, 1, &cv))) {
    /* failed */
  } else if (cv) {
    st = area_accumulate(c, g, NULL);
  } else if (!(st = uncovered_part(c, g, &unc)) && !(st = area_accumulate(c, g, unc))) {
    for (size_t i = first; !st && i != none; i = next[i]) {
      const GEOSGeometry *pc = unc;
      if (!single) {
        if ((st = region_test(c, pop->geom[i], 1, &cv))) break;
        if (cv) continue;
        if ((st = uncovered_part(c, pop->geom[i], &piece))) break;
        pc = piece;
      }
      st = area_gaps(c, i, pc);
      if (piece) GEOSGeom_destroy_r(c->h, piece);
      piece = NULL;
    }
  }
  if (unc) GEOSGeom_destroy_r(c->h, unc);
  if (merged) GEOSGeom_destroy_r(c->h, merged);
  return st;
}

/* Clusters are handled in chunks of a fixed size, each into its own partial sums and result, and
 * the chunks are merged in order: the output is the same whatever the number of threads. */
#define COV_CHUNK 256

typedef struct cov_chunk {
  pm_indicator_result res;
  double *num, *den;
} cov_chunk;

typedef struct cov_area_job {
  const cov *c;                /* the indicator (read-only for the tasks, but for the merge) */
  const size_t *first, *next;  /* first feature of each cluster; next feature in a cluster */
  size_t nclusters, nchunks;
  cov_chunk *chunks;
  const char **names;          /* the result slots' names */
  /* Finished chunks are merged in chunk order as soon as those before them are (under `lock`),
   * and freed: only the chunks in flight are held, not one result per chunk and district for
   * the whole city (at k = 100, 19,500 chunks of 1,601 districts: gigabytes). */
  pthread_mutex_t lock;
  unsigned char *done;         /* per chunk: finished, waiting for its turn */
  size_t merged;               /* chunks merged so far */
  cov *into;                   /* the indicator the chunks are merged into */
} cov_area_job;

/* A thread's own copy of the indicator: the shared inputs, sources, region and tree (all only
 * read by now), with its own context, districts, prepared region and scratch space. */
static pm_status worker_setup(pm_context *ctx, void *arg, void **state) {
  const cov *c = ((cov_area_job *)arg)->c;
  cov *w = calloc(1, sizeof *w);
  *state = w;
  if (!w) return pm_error(ctx, PM_ENOMEM, "out of memory");
  *w = *c;
  w->ctx = ctx;
  w->h = pm_context_geos(ctx);
  w->d = NULL;
  memset(&w->t, 0, sizeof w->t);
  pm_districts *d = NULL;
  pm_status st = pm_districts_clone(ctx, c->d, &d);
  w->d = d;
  if (st) return st;
  w->t.slot_idx = calloc(w->nslots, sizeof *w->t.slot_idx);
  if (!w->t.slot_idx) return pm_error(ctx, PM_ENOMEM, "out of memory");
  return PM_OK;
}

static void worker_free(pm_context *ctx, void *state, void *arg) {
  (void)arg;
  cov *w = state;
  if (!w) return;
  scratch_free(w);
  pm_districts_destroy(ctx, (pm_districts *)w->d);
  free(w);
}

static pm_status area_chunk(pm_context *ctx, void *state, void *arg, size_t k) {
  cov_area_job *job = arg;
  cov *w = state;
  cov_chunk *ch = &job->chunks[k];
  ch->num = calloc(w->nslots, sizeof *ch->num);
  ch->den = calloc(w->nslots, sizeof *ch->den);
  pm_status st = PM_OK;
  if (!ch->num || !ch->den) st = pm_error(ctx, PM_ENOMEM, "out of memory");
  if (!st) st = pm_indicator_result_init_results(ctx, &ch->res, job->names, w->nslots);
  w->out = &ch->res;
  w->num = ch->num;
  w->den = ch->den;
  size_t end = (k + 1) * COV_CHUNK < job->nclusters ? (k + 1) * COV_CHUNK : job->nclusters;
  for (size_t r = k * COV_CHUNK; !st && r < end; r++) st = area_cluster(w, job->next, job->first[r]);
  if (st) return st; /* the chunks after it wait unmerged; the failure is reported */
  pthread_mutex_lock(&job->lock);
  job->done[k] = 1;
  cov *c = job->into;
  while (!st && job->merged < job->nchunks && job->done[job->merged]) {
    cov_chunk *m = &job->chunks[job->merged];
    for (size_t j = 0; j < c->nslots; j++) {
      c->num[j] += m->num[j];
      c->den[j] += m->den[j];
    }
    st = pm_indicator_result_append(ctx, c->out, &m->res);
    if (st) break;
    pm_indicator_result_clear(&m->res);
    free(m->num);
    free(m->den);
    memset(m, 0, sizeof *m);
    job->merged++;
  }
  pthread_mutex_unlock(&job->lock);
  return st;
}

/* Interleave the bits of x and y (Z-order). */
static uint64_t morton(uint32_t x, uint32_t y) {
  uint64_t z = 0;
  for (int b = 0; b < 32; b++)
    z |= ((uint64_t)((x >> b) & 1u) << (2 * b)) | ((uint64_t)((y >> b) & 1u) << (2 * b + 1));
  return z;
}

typedef struct z_key {
  uint64_t z;
  size_t first;
} z_key;

static int cmp_z_key(const void *a, const void *b) {
  const z_key *p = a, *q = b;
  if (p->z != q->z) return p->z < q->z ? -1 : 1;
  return (p->first > q->first) - (p->first < q->first);
}

/* Put the clusters (by first feature) in Z-order of 250 m cells, so that each chunk of work is a
 * compact patch of the city: its sources and covered parts are prepared once and stay in cache,
 * whatever order the layer's features come in. The order depends only on the data. */
static pm_status spatial_order(cov *c, size_t *first, size_t n) {
  if (n < 2) return PM_OK;
  z_key *keys = malloc(n * sizeof *keys);
  double *cx = malloc(n * sizeof *cx), *cy = malloc(n * sizeof *cy);
  pm_status st = PM_OK;
  if (!keys || !cx || !cy) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
  double x0 = INFINITY, y0 = INFINITY;
  for (size_t k = 0; !st && k < n; k++) {
    double a, b, e, f;
    extent_of(c, c->pop->geom[first[k]], &a, &b, &e, &f);
    cx[k] = isfinite(a) ? (a + e) / 2 : NAN; /* empty: first, with key 0 */
    cy[k] = isfinite(b) ? (b + f) / 2 : NAN;
    if (cx[k] < x0) x0 = cx[k];
    if (cy[k] < y0) y0 = cy[k];
  }
  for (size_t k = 0; !st && k < n; k++) {
    double fx = isnan(cx[k]) ? 0 : (cx[k] - x0) / 250.0, fy = isnan(cy[k]) ? 0 : (cy[k] - y0) / 250.0;
    keys[k].z = morton(fx < 4e9 ? (uint32_t)fx : UINT32_MAX, fy < 4e9 ? (uint32_t)fy : UINT32_MAX);
    keys[k].first = first[k];
  }
  if (!st) {
    qsort(keys, n, sizeof *keys, cmp_z_key);
    for (size_t k = 0; k < n; k++) first[k] = keys[k].first;
  }
  free(keys);
  free(cx);
  free(cy);
  return st;
}

/* Population land measured by area: covered part of the dissolved land in the district ÷ the
 * dissolved land in the district. Rather than dissolving the whole layer (slow for tens of
 * thousands of blocks, and every overlay then spans the city), features are grouped into clusters
 * whose interiors overlap; each cluster is dissolved on its own, and clusters, having disjoint
 * interiors, add up. Gaps: every feature with uncovered land. Clusters are shared out among the
 * context's threads (pm_context_threads). */
static pm_status deno_area(cov *c) {
  const pm_features *pop = c->pop;
  const size_t n = pop->n, none = (size_t)-1;
  pm_status st = PM_OK;
  size_t *parent = NULL, *head = NULL, *next = NULL, nclusters = 0;
  GEOSSTRtree *tree = NULL;
  idx_query q = {.ctx = c->ctx};
  cov_area_job job = {.c = c};
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
  /* head[] now doubles as the list of clusters, in the order of their root feature. */
  for (size_t r = 0; r < n; r++)
    if (head[r] != none) head[nclusters++] = head[r];
  if ((st = spatial_order(c, head, nclusters))) goto done;

  job.first = head;
  job.next = next;
  job.nclusters = nclusters;
  job.nchunks = (nclusters + COV_CHUNK - 1) / COV_CHUNK;
  job.into = c;
  job.chunks = calloc(job.nchunks ? job.nchunks : 1, sizeof *job.chunks);
  job.done = calloc(job.nchunks ? job.nchunks : 1, 1);
  job.names = calloc(c->nslots ? c->nslots : 1, sizeof *job.names);
  if (!job.chunks || !job.done || !job.names) {
    st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t j = 0; j < c->nslots; j++) job.names[j] = c->out->results[j].district;
  pthread_mutex_init(&job.lock, NULL);
  st = pm__parallel_for(c->ctx, pm_context_threads(c->ctx), job.nchunks, worker_setup, area_chunk,
                       worker_free, &job);
  pthread_mutex_destroy(&job.lock);
  if (!st && job.merged != job.nchunks)
    st = pm_error(c->ctx, PM_EINTERNAL, "indicator %s: %zu of %zu chunks merged", c->ind,
                  job.merged, job.nchunks);

done:
  for (size_t k = 0; job.chunks && k < job.nchunks; k++) {
    pm_indicator_result_clear(&job.chunks[k].res);
    free(job.chunks[k].num);
    free(job.chunks[k].den);
  }
  free(job.chunks);
  free(job.done);
  free(job.names);
  if (tree) GEOSSTRtree_destroy_r(c->h, tree);
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
    pm_network_snap snap = {.status = PM_SNAP_OK};
    if (c->net)
      st = pm__cov_network_point(c, rep, &covered, &snap);
    else
      st = point_covered(c, rep, &covered);
    if (st) goto done;
    /* point_covered reuses the scratch slots only through query_reach, not slot_idx */
    for (size_t s = 0; s < n; s++) {
      c->den[c->t.slot_idx[s]] += w;
      if (covered) c->num[c->t.slot_idx[s]] += w;
    }
    if (!covered && w > 0) {
      const cov_item *near;
      double dist, x, y, straight;
      if ((st = gap_nearest(c, rep, &near, &dist, &straight))) goto done;
      if ((st = point_xy(c, rep, &x, &y))) goto done;
      if ((st = pm_features_id(c->ctx, pop, i, &id))) goto done;
      if (near && (st = pm_features_id(c->ctx, c->src, near->fi, &near_id))) goto done;
      const char *name = pop->label ? pop->label[i] : NULL;
      const char *home = c->t.slot_idx[0] < c->d->n ? slot_name(c, c->t.slot_idx[0]) : NULL;
      if ((st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "uncovered", home, id, name, 0,
                                                    dist, near_id, pop->geom[i])))
        goto done;
      char why[160], note_buf[200];
      const char *note = NULL;
      if (snap.status != PM_SNAP_OK) {
        pm_network_unroutable_note(&snap, c->spec->network.max_snap_m, why, sizeof why);
        snprintf(note_buf, sizeof note_buf, "%s; counted as not served", why);
        note = note_buf;
      }
      for (size_t s = 0; s < n; s++) {
        size_t j = c->t.slot_idx[s];
        if ((st = add_gap(c, &c->out->results[j], id, name, j < c->d->n ? slot_name(c, j) : home,
                          dist, straight, w, near_id, note, x, y)))
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
    GEOSGeometry *unc = GEOSDifference_r(c->h, d->geom[j], c->serv_geom[j]);
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

/* pm__metric_begin, with the unit and metric name defaulted for specs built in code. */
static pm_status copy_header(cov *c) {
  return pm__metric_begin(c->ctx, c->spec, "coverage", "%", c->d, c->out);
}

static void cov_free(cov *c) {
  pm__cov_network_free(c);
  scratch_free(c);
  pm_parts_index_free(c->ctx, &c->covered_parts);
  if (c->serv_geom)
    for (size_t j = 0; j < c->d->n; j++)
      if (c->serv_geom[j]) GEOSGeom_destroy_r(c->h, c->serv_geom[j]);
  free(c->serv_geom);
  if (c->tree) GEOSSTRtree_destroy_r(c->h, c->tree);
  if (c->covered) GEOSGeom_destroy_r(c->h, c->covered);
  if (c->bufs) GEOSGeom_destroy_r(c->h, c->bufs);
  if (c->cls_label)
    for (size_t k = 0; k < c->ncls; k++) free(c->cls_label[k]);
  free(c->cls_label);
  free(c->items);
  free(c->num);
  free(c->den);
  free(c->serv_area);
}

pm_status pm_coverage(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *sources,
                      const pm_features *population, const pm_features *entrances,
                      const pm_network *net, const pm_districts *d, pm_indicator_result *out) {
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
           .pop = population, .d = d, .out = out, .ind = ind, .nslots = d->n + 1, .net = net,
           .entrances = net && entrances && entrances->n ? entrances : NULL};
  pm_status st;
  c.num = calloc(c.nslots, sizeof *c.num);
  c.den = calloc(c.nslots, sizeof *c.den);
  c.serv_area = calloc(c.nslots, sizeof *c.serv_area);
  c.t.slot_idx = calloc(c.nslots, sizeof *c.t.slot_idx);
  if (!c.num || !c.den || !c.serv_area || !c.t.slot_idx) {
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
  if (!st && c.net) st = pm__cov_network_finish(&c);
  if (!st) st = pm__metric_finish(ctx, out);

done:
  cov_free(&c);
  return st;
}

/* ---------- registry row ---------- */

#define OFF(f) offsetof(pm_indicator_spec, f)
static const pm_param PARAMS[] = {
    {"sources", PM_PARAM_REF, OFF(sources), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the layer of parks (or other sources)"},
    {"population", PM_PARAM_REF, OFF(population), 0, NULL, NULL, NULL, NULL,
     "the denominator: land by area, or features by weight (default: the district)"},
    {"radius_m", PM_PARAM_DIST, OFF(radius_m), 0, NULL, NULL, NULL, NULL,
     "one radius for every source (point sources: the largest class's otherwise)"},
    {"weight_field", PM_PARAM_TEXT, OFF(weight_field), 0, NULL, NULL, "population", "population",
     "the population field that weighs each feature"},
    {"classes", PM_PARAM_CLASSES, 0, 0, NULL, NULL, NULL, NULL,
     "service radius by source area: [{min_area_m2, max_area_m2, radius_m, label}]"},
    {"count_by_class", PM_PARAM_BOOL, OFF(count_by_class), 0, NULL, NULL, NULL, NULL,
     "also count the sources of each class per district"},
    {"distance", PM_PARAM_CHOICE, OFF(distance), 0, "euclidean", "euclidean|network", NULL, NULL,
     "a straight line (buffers), or along the walking network (network: block)"},
    {"network", PM_PARAM_NETWORK, OFF(network), 0, NULL, NULL, NULL, NULL,
     "the walking network of distance: network (default: the plan's network: block)"},
    {"entrances", PM_PARAM_REF, OFF(source_entrances), 0, NULL, NULL, NULL, NULL,
     "distance network: entrance points of the sources (default: points along their boundary)"},
};
#undef OFF

static const pm_detail_role ROLES[] = {
    {"reached", PM_ROLE_REACHED, "nearest", 0},
    {"source", PM_ROLE_SOURCE, "class", 0},
    {"ignored_source", PM_ROLE_IGNORED, "reason", 0},
    {"service_area", PM_ROLE_PASS, "nearest", 0},
    {"uncovered", PM_ROLE_FAIL, "nearest_source", 1},
};
static const char *const UNITS[] = {"%", NULL};

/* "400", "0.5", "1e+06" printed as a planner writes them. */
static void fmt_num(char *buf, size_t cap, double v) {
  if (v == floor(v) && fabs(v) < 1e15)
    snprintf(buf, cap, "%.0f", v);
  else
    snprintf(buf, cap, "%g", v);
}

/* METRICS.md's classes (400-10,000 m2: 300 m, pocket park; >= 10,000 m2: 500 m, park) when none
 * are given, and a label for every class. */
static pm_status defaults(pm_context *ctx, pm_indicator_spec *s) {
  pm_status st;
  if (s->n_classes == 0) {
    s->classes = calloc(2, sizeof *s->classes);
    if (!s->classes) return pm_error(ctx, PM_ENOMEM, "out of memory");
    s->n_classes = 2;
    s->classes[0] = (pm_size_class){400, 10000, 300, NULL};
    s->classes[1] = (pm_size_class){10000, INFINITY, 500, NULL};
    if ((st = pm_strdup(ctx, &s->classes[0].label, "pocket park")) ||
        (st = pm_strdup(ctx, &s->classes[1].label, "park")))
      return st;
  }
  for (size_t i = 0; i < s->n_classes; i++) {
    pm_size_class *c = &s->classes[i];
    if (c->label) continue;
    char lo[32], hi[32];
    fmt_num(lo, sizeof lo, c->min_area_m2);
    fmt_num(hi, sizeof hi, c->max_area_m2);
    st = isinf(c->max_area_m2) ? pm_asprintf(ctx, &c->label, ">= %s m2", lo)
                               : pm_asprintf(ctx, &c->label, "%s-%s m2", lo, hi);
    if (st) return st;
  }
  return PM_OK;
}

/* Land measured by area: the heaviest overlay work of a plan, shared out among the threads. */
static int wide(const pm_indicator_spec *s, const pm_metric_input *in) {
  return in[1].n && in[1].v[0]->kind == PM_KIND_POLYGON && !s->weight_field;
}

static pm_status compute(pm_context *ctx, const pm_indicator_spec *spec, const pm_metric_input *in,
                         const pm_districts *d, pm_indicator_result *out) {
  /* in[7]: the network (distance: network), in[8]: the sources' entrances */
  return pm_coverage(ctx, spec, in[0].v[0], in[1].n ? in[1].v[0] : NULL,
                     in[8].n ? in[8].v[0] : NULL, in[7].net, d, out);
}

const pm_metric_kind pm__kind_coverage = {
    .name = "coverage",
    .summary = "share of the population (land, weight or district) within the service radius of sources",
    .params = PARAMS,
    .n_params = PM_ARRAY_LEN(PARAMS),
    .units = UNITS,
    .shortfall = "uncovered (m2 / weight)",
    .roles = ROLES,
    .n_roles = PM_ARRAY_LEN(ROLES),
    .compute = compute,
    .defaults = defaults,
    .wide = wide,
};
