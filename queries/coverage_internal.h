/* coverage_internal.h: the state of one coverage computation, shared by coverage.c and
 * coverage_network.c (distance: network); internal to queries/. */
#ifndef PM_QUERIES_COVERAGE_INTERNAL_H
#define PM_QUERIES_COVERAGE_INTERNAL_H

#include "engine/measure.h"
#include "planmetrics/metrics.h"
#include "planmetrics/network.h"

/* One source that counts: its geometry, class and buffer. */
typedef struct cov_item {
  const GEOSGeometry *g;   /* borrowed from the sources */
  const GEOSGeometry *buf; /* borrowed from cov.bufs */
  size_t fi;               /* feature index in the sources */
  size_t cls;
  double radius;
  double x0, y0, x1, y1;   /* envelope of g */
} cov_item;

/* What each thread has for itself: prepared geometries made on first use, and scratch space. */
typedef struct cov_scratch {
  const GEOSPreparedGeometry **src_prep;  /* per item */
  const GEOSPreparedGeometry **part_prep; /* per part of the covered region */
  size_t prep_coords;                     /* coordinates prepared, see COV_PREP_BUDGET */
  pm_idx_list part_hits;                  /* parts near a geometry */
  size_t *slot_idx;                       /* slots of a point, capacity nslots */
  cov_item **cand;                        /* tree query results */
  size_t ncand, capcand;
  int cand_oom;
  size_t *dcand;                          /* districts touching a geometry */
  size_t ndcand, capdcand;
  int dcand_oom;
} cov_scratch;

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
  pm_parts_index covered_parts; /* the disjoint parts of covered, indexed */
  GEOSGeometry **serv_geom;     /* covered ∩ district, per district (kept without population) */

  double *num, *den;      /* per slot */
  double *serv_area;      /* area of the covered region in each slot */
  cov_scratch t;          /* this thread's own (ctx, h, d, out, num and den are too) */

  /* distance: network (coverage_network.c); net NULL: straight lines */
  const struct pm_network *net;
  const pm_features *entrances; /* entrance points of polygon sources, or NULL */
  struct cov_net *nw;           /* the searches, made by pm__cov_network_bufs */
} cov;

/* distance: network. The service area of each source (item): the network it reaches within its
 * radius, by one multi-source search per distinct radius (a part of the network belongs to its
 * nearest source), buffered by access_width_m; written to bufs[k] (owned by the caller). Polygon
 * sources are entered from their entrances (c->entrances: each entrance belongs to the source it
 * lies within max_snap_m of, nearest first) or from points along their exterior boundary every
 * 20 m and at every vertex. Also makes the searches the point tests and gaps read. */
pm_status pm__cov_network_bufs(cov *c, GEOSGeometry **bufs);
/* Whether point pt is within its nearest source's radius along the network (d <= radius), and
 * whether it is unroutable (farther than max_snap_m from the network). Thread-safe reads. */
pm_status pm__cov_network_point(cov *c, const GEOSGeometry *pt, int *covered,
                                pm_network_snap *snap);
/* The nearest source of g (its representative point) along the network: *nearest (NULL when no
 * source can be reached), *dist the walked distance (INFINITY then), *straight the straight-line
 * distance to that source. */
pm_status pm__cov_network_nearest(cov *c, const GEOSGeometry *g, const cov_item **nearest,
                                  double *dist, double *straight);
/* Reached network details ("reached": every reached part with its distance) and the network
 * summary of the result (out->network). */
pm_status pm__cov_network_finish(cov *c);
void pm__cov_network_free(cov *c);

#endif
