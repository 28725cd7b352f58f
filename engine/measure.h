/* measure.h: dissolve, clip and measure helpers shared by the metric kinds (internal, not installed). */
#ifndef PM_ENGINE_MEASURE_H
#define PM_ENGINE_MEASURE_H

#include "planmetrics/districts.h"
#include "planmetrics/features.h"
#include "planmetrics/result.h"

/* Buffers are widened by this much so that a part lying exactly at a threshold (up to floating-point
 * rounding of the offset coordinates, ~1e-9 m in a UTM CRS) counts, as METRICS.md §1 asks. */
#define PM_INCLUSIVE_EPS_M 1e-6

typedef struct pm_geom_list {
  GEOSGeometry **v; /* owned */
  size_t n, cap;
} pm_geom_list;

/* A failed GEOS call of indicator `who` (its id, for the message), with GEOS's own message. */
pm_status pm_geos_failed(pm_context *ctx, const char *who, const char *what);

/* Takes ownership of g (destroyed on failure). */
pm_status pm_geom_list_push(pm_context *ctx, pm_geom_list *l, GEOSGeometry *g);

void pm_geom_list_clear(pm_context *ctx, pm_geom_list *l);

/* Consumes the list into one Multi* (type) of its members; an empty list gives an empty one. */
GEOSGeometry *pm_geom_list_collect(pm_context *ctx, pm_geom_list *l, int type);

/* Consumes the list into the dissolved union of its members (cascaded union). */
GEOSGeometry *pm_geom_list_union(pm_context *ctx, pm_geom_list *l, int empty_type);

typedef struct pm_idx_list {
  size_t *v;
  size_t n, cap;
  size_t offset; /* subtracted from the item value: 1 for our trees, 0 for pm_districts.tree */
  pm_context *ctx;
  pm_status st;
} pm_idx_list;

void pm_idx_list_cb(void *item, void *user);

/* The leaves of a dissolved geometry, with an STRtree over them, so that a district clips only
 * the parts near it and takes the parts it covers whole without an overlay. */
typedef struct pm_parts_index {
  const GEOSGeometry **part; /* borrowed from the indexed geometry */
  size_t n, cap;
  GEOSSTRtree *tree;         /* items: part index + 1 */
} pm_parts_index;

pm_status pm_parts_collect(pm_context *ctx, pm_parts_index *pi, const GEOSGeometry *g, int dim);

void pm_parts_index_free(pm_context *ctx, pm_parts_index *pi);

/* Index the parts of dimension dim (1 lines, 2 polygons) of g, which must outlive pi. */
pm_status pm_parts_index_build(pm_context *ctx, pm_parts_index *pi, const GEOSGeometry *g,
                                   int dim);

/* Whether some indexed part's envelope comes within dist of g's envelope. */
pm_status pm_parts_near(pm_context *ctx, const pm_parts_index *pi, const GEOSGeometry *g,
                            double dist, int *hit);

/* Clone the leaves of dimension dim of g into l. */
pm_status pm_push_leaves(pm_context *ctx, pm_geom_list *l, const GEOSGeometry *g, int dim);

double pm_measure_dim(GEOSContextHandle_t h, const GEOSGeometry *g, int dim);

/* The part of the indexed geometry inside result slot i (i == d->n: the plan area) as one
 * MultiLineString (dim 1) or MultiPolygon (dim 2), and its length or area in m / m2. Caller owns
 * *out. Parts the district covers are taken whole; only the parts crossing its boundary are
 * clipped. */
pm_status pm_clip_slot(pm_context *ctx, const char *who, const pm_districts *d,
                           size_t i, const pm_parts_index *pi, int dim, GEOSGeometry **out,
                           double *size);

/* Indices 0..n-1 ordered by x (ties by index): the order in which geometries are cut into strips
 * west to east for a parallel dissolve. Caller frees *order. */
pm_status pm_order_by_x(pm_context *ctx, const double *x, size_t n, size_t **order);

/* Dissolves g[0..n-1] (n a power of two; NULL entries are empty) pairwise, the pairs of each round
 * on the context's threads, into g[0]; the other entries become NULL. Takes ownership of all of
 * them (on failure too, where every entry is freed). The pairing depends only on n, so the result
 * is the same for any number of threads. `what` names the step for the error message. Meant for
 * strips, each already dissolved (a union's result): of two polygonal or two linear entries,
 * only the parts reaching into the other's extent are overlaid, the others carried over. */
pm_status pm_union_pairwise(pm_context *ctx, GEOSGeometry **g, size_t n, const char *what);

/* Arcs of buffers are approximated by chords; choose enough segments per quarter circle that the
 * chord stays within 5 cm of the true arc (capped at 32, i.e. 15 cm at a 500 m radius). Straight
 * parts of a buffer are exact, so only places near a feature's end or corner are affected. */
int pm_quadsegs_for(double r);

/* Representative point of slot i's area (NAN when the plan area is unbounded). */
void pm_slot_point(pm_context *ctx, const pm_districts *d, size_t i, double *x, double *y);

/* One gap per slot whose value misses the target, with the distance to it as shortfall. */
pm_status pm_add_target_gaps(pm_context *ctx, const pm_districts *d, pm_indicator_result *out,
                                 const char *unit);

/* Details are given per district; `_all` only when there are no districts, so that export layers
 * never hold the same part twice. */
int pm_slot_has_details(const pm_districts *d, size_t i);

int pm_kind_is(const pm_features *fs, pm_geom_kind kind);

const char *pm_layer_name(const pm_features *fs, const char *fallback);

/* Where a feature enters a walking network (METRICS.md §5): a polygon from points along its
 * exterior boundary every step_m (from the ring's first vertex) and at every vertex; a point
 * (or line) from its (representative) point. Appended to e (x, y pairs); free(e->xy) when done. */
typedef struct pm_entry_points {
  double *xy;
  size_t n, cap;
} pm_entry_points;
pm_status pm__entry_points(pm_context *ctx, const GEOSGeometry *g, double step_m,
                           pm_entry_points *e);

#endif
