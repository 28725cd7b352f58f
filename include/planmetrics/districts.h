/* districts.h: the plan's districts in scope, point assignment and clipping. */
#ifndef PLANMETRICS_DISTRICTS_H
#define PLANMETRICS_DISTRICTS_H

#include "planmetrics/context.h"
#include "planmetrics/features.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PM_ALL "_all"

/* Districts in scope. Index n (one past the last district) stands for `_all`, the plan area:
 * the union of the districts, or everything when the plan has no districts layer (all == NULL). */
typedef struct pm_districts {
  size_t n;
  char **name;                          /* UTF-8 district names */
  GEOSGeometry **geom;                  /* polygons in the project CRS */
  const GEOSPreparedGeometry **prep;    /* prepared, for covers tests */
  GEOSGeometry *all;                    /* union of geom[], NULL when n == 0 */
  const GEOSPreparedGeometry *all_prep; /* prepared `all`, NULL when n == 0 */
  GEOSSTRtree *tree;                    /* items: district index cast to pointer */
  double area_m2_all;                   /* area of `all` (0 when n == 0) */
} pm_districts;

/* Districts from a polygon selection in memory; names from fs->label (name_field, only for messages,
 * names the attribute they came from). only (may be NULL) restricts the scope to these names, in
 * that order (an unknown name is an error that lists the names present). Districts with the same
 * name are merged. Caller owns *out (pm_districts_destroy). */
PM_API pm_status pm_districts_create(pm_context *ctx, const pm_features *fs, const char *name_field,
                              const char *const *only, size_t n_only, pm_districts **out);
/* pm_districts_create with every named polygon in scope. */
PM_API pm_status pm_districts_from_features(pm_context *ctx, const pm_features *fs, pm_districts **out);
/* No districts: only `_all`, which covers everything. */
PM_API pm_status pm_districts_none(pm_context *ctx, pm_districts **out);
/* A deep copy with its own prepared geometries and index, for another thread (GEOS prepared
 * geometries build their indexes lazily, so threads must not share them). Caller owns *out. */
PM_API pm_status pm_districts_clone(pm_context *ctx, const pm_districts *d, pm_districts **out);
PM_API void pm_districts_destroy(pm_context *ctx, pm_districts *d);

/* Name of result slot i (i == d->n gives "_all"). Borrowed. */
PM_API const char *pm_districts_name(const pm_districts *d, size_t i);

/* The districts whose polygon covers point g (boundary included): indices written to idx
 * (capacity d->n), count to *n. in_all tells whether the point lies in the plan area. */
PM_API pm_status pm_districts_of_point(pm_context *ctx, const pm_districts *d, const GEOSGeometry *g,
                                size_t *idx, size_t *n, int *in_all);

/* The part of g inside slot i (i == d->n: the plan area). Caller owns *out; it may be empty. */
PM_API pm_status pm_districts_clip(pm_context *ctx, const pm_districts *d, size_t i,
                            const GEOSGeometry *g, GEOSGeometry **out);

#ifdef __cplusplus
}
#endif
#endif
