/* features.h: a layer loaded into memory as GEOS geometries with an STRtree, and the layer cache. */
#ifndef PLANMETRICS_FEATURES_H
#define PLANMETRICS_FEATURES_H

#include "planmetrics/context.h"
#include "planmetrics/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A selection of one layer's features in the project CRS. Everything is owned by the struct and
 * released by pm_features_free. attr[a][i] is the text of attribute attr_names[a] for feature i
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

typedef struct pm_load_options {
  const char *where;               /* SQL WHERE on the layer's attributes (OGR SQL subset), or NULL */
  const char *label_field;         /* field used as display name; NULL: `name`/`NAME` if present */
  const char *const *attrs;        /* further attributes to load as text */
  size_t n_attrs;
} pm_load_options;

/* Load a layer (or its filtered selection) from the project database. A filter naming a missing
 * field, or a missing layer, is an error naming the layer and the field. Caller owns *out. */
pm_status pm_features_load(pm_context *ctx, pm_store *store, const char *layer,
                           const pm_load_options *opt, pm_features **out);

/* Build features from WKT (tests, ad-hoc use). labels may be NULL. Caller owns *out. */
pm_status pm_features_from_wkt(pm_context *ctx, const char *layer, const char *const *wkt,
                               const char *const *labels, size_t n, pm_features **out);

/* Add an attribute column to features built in memory (tests); values[i] may be NULL. */
pm_status pm_features_add_attr(pm_context *ctx, pm_features *fs, const char *name,
                               const char *const *values);

/* Index of attribute `name` in fs->attr_names, or -1. */
int pm_features_attr_index(const pm_features *fs, const char *name);

/* Bulk-load the STRtree (idempotent). Items are feature indices cast to pointers. */
pm_status pm_features_index(pm_context *ctx, pm_features *fs);

/* Dissolve all geometries (cascaded union). An empty selection gives an empty collection.
 * Caller owns *out (GEOSGeom_destroy_r). */
pm_status pm_features_union(pm_context *ctx, const pm_features *fs, GEOSGeometry **out);

/* Stable id of feature i: "<layer>#<fid>" (the label is the display name). Caller frees *out. */
pm_status pm_features_id(pm_context *ctx, const pm_features *fs, size_t i, char **out);

void pm_features_free(pm_context *ctx, pm_features *fs);

/* A cache of loaded selections, keyed by layer, filter, label field and attributes, so several
 * indicators on the same layer load it once. Returned features are borrowed from the cache and
 * live until pm_cache_destroy. */
typedef struct pm_cache pm_cache;
pm_status pm_cache_create(pm_context *ctx, pm_store *store, pm_cache **out);
pm_status pm_cache_get(pm_cache *cache, const char *layer, const pm_load_options *opt,
                       const pm_features **out);
/* Free every cached selection except those in keep[0..n_keep): the others' pointers become
 * invalid (e.g. once the indicators that used them are computed). */
void pm_cache_release_except(pm_cache *cache, const pm_features *const *keep, size_t n_keep);
void pm_cache_destroy(pm_cache *cache);

#ifdef __cplusplus
}
#endif
#endif
