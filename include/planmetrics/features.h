/* features.h: a layer selection in memory as GEOS geometries with an STRtree. */
#ifndef PLANMETRICS_FEATURES_H
#define PLANMETRICS_FEATURES_H

#include "planmetrics/context.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pm_geom_kind {
  PM_KIND_NONE = 0,
  PM_KIND_POINT = 1,
  PM_KIND_LINE = 2,
  PM_KIND_POLYGON = 3
} pm_geom_kind;

/* "point", "line", "polygon" (static strings). */
PM_API const char *pm_geom_kind_name(pm_geom_kind kind);

/* A selection of one layer's features in the project CRS. Everything is owned by the struct and
 * released by pm_features_destroy. attr[a][i] is the text of attribute attr_names[a] for feature i
 * (NULL when the value is NULL). */
typedef struct pm_features {
  char *layer;            /* layer name (or a test label) */
  pm_geom_kind kind;
  size_t n;
  int64_t *fid;           /* the layer table's fid */
  GEOSGeometry **geom;    /* one per feature, never NULL or empty */
  char **label;           /* display name (label field) per feature; NULL entries allowed */
  size_t n_attrs;
  char **attr_names;
  char ***attr;
  GEOSSTRtree *tree;      /* NULL until pm_features_index; items are (void*)(uintptr_t)index */
} pm_features;

/* Build features from WKT (tests, ad-hoc use). labels may be NULL. Caller owns *out. */
PM_API pm_status pm_features_from_wkt(pm_context *ctx, const char *layer, const char *const *wkt,
                               const char *const *labels, size_t n, pm_features **out);

/* Add an attribute column to features built in memory (tests); values[i] may be NULL. */
PM_API pm_status pm_features_add_attr(pm_context *ctx, pm_features *fs, const char *name,
                               const char *const *values);

/* Index of attribute `name` in fs->attr_names, or -1. */
PM_API int pm_features_attr_index(const pm_features *fs, const char *name);

/* Bulk-load the STRtree (idempotent). Items are feature indices cast to pointers. */
PM_API pm_status pm_features_index(pm_context *ctx, pm_features *fs);

/* Dissolve all geometries (cascaded union). An empty selection gives an empty collection.
 * Caller owns *out (GEOSGeom_destroy_r). */
PM_API pm_status pm_features_union(pm_context *ctx, const pm_features *fs, GEOSGeometry **out);

/* The feature of fs nearest to g (exact distances between geometries): *index and *dist; among
 * features at the same distance the lowest index wins. tree: an STRtree of fs whose items are
 * feature indices (NULL: fs->tree, which pm_features_index builds). An empty fs gives SIZE_MAX
 * and INFINITY. */
PM_API pm_status pm_features_nearest(pm_context *ctx, const pm_features *fs, GEOSSTRtree *tree,
                                     const GEOSGeometry *g, size_t *index, double *dist);
/* Stable id of feature i: "<layer>#<fid>" (the label is the display name). Caller frees *out. */
PM_API pm_status pm_features_id(pm_context *ctx, const pm_features *fs, size_t i, char **out);

PM_API void pm_features_destroy(pm_context *ctx, pm_features *fs);

#ifdef __cplusplus
}
#endif
#endif
