/* features.c: a layer selection in memory as GEOS geometries: build, index, dissolve, free. */
#include "planmetrics/features.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/features_internal.h"
#include "engine/internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

pm_features *pm__features_new(pm_context *ctx, const char *layer) {
  pm_features *fs = calloc(1, sizeof *fs);
  if (!fs || !(fs->layer = strdup(layer ? layer : "features"))) {
    free(fs);
    oom(ctx);
    return NULL;
  }
  return fs;
}

void pm_features_destroy(pm_context *ctx, pm_features *fs) {
  if (!fs) return;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  if (fs->tree) GEOSSTRtree_destroy_r(h, fs->tree);
  for (size_t i = 0; i < fs->n; i++) {
    if (fs->geom) GEOSGeom_destroy_r(h, fs->geom[i]);
    if (fs->label) free(fs->label[i]);
  }
  for (size_t a = 0; a < fs->n_attrs; a++) {
    for (size_t i = 0; i < fs->n && fs->attr[a]; i++) free(fs->attr[a][i]);
    free(fs->attr[a]);
    free(fs->attr_names[a]);
  }
  free(fs->attr);
  free(fs->attr_names);
  free(fs->geom);
  free(fs->label);
  free(fs->fid);
  free(fs->layer);
  free(fs);
}

const char *pm_geom_kind_name(pm_geom_kind kind) {
  switch (kind) {
  case PM_KIND_POINT: return "point";
  case PM_KIND_LINE: return "line";
  case PM_KIND_POLYGON: return "polygon";
  case PM_KIND_NONE: break;
  }
  return "none";
}

static pm_geom_kind kind_of(GEOSContextHandle_t h, const GEOSGeometry *g) {
  switch (GEOSGeomTypeId_r(h, g)) {
  case GEOS_POINT:
  case GEOS_MULTIPOINT: return PM_KIND_POINT;
  case GEOS_LINESTRING:
  case GEOS_LINEARRING:
  case GEOS_MULTILINESTRING: return PM_KIND_LINE;
  case GEOS_POLYGON:
  case GEOS_MULTIPOLYGON: return PM_KIND_POLYGON;
  default: return PM_KIND_NONE;
  }
}

/* Append one feature; takes ownership of g and label. */
pm_status pm__features_push(pm_context *ctx, pm_features *fs, size_t *cap, int64_t fid,
                           GEOSGeometry *g, char *label) {
  if (fs->n == *cap) {
    size_t n = *cap ? *cap * 2 : 64;
    int64_t *f = realloc(fs->fid, n * sizeof *f);
    if (f) fs->fid = f;
    GEOSGeometry **gg = realloc(fs->geom, n * sizeof *gg);
    if (gg) fs->geom = gg;
    char **l = realloc(fs->label, n * sizeof *l);
    if (l) fs->label = l;
    if (!f || !gg || !l) {
      GEOSGeom_destroy_r(pm_context_geos(ctx), g);
      free(label);
      return oom(ctx);
    }
    for (size_t a = 0; a < fs->n_attrs; a++) {
      char **v = realloc(fs->attr[a], n * sizeof *v);
      if (!v) {
        GEOSGeom_destroy_r(pm_context_geos(ctx), g);
        free(label);
        return oom(ctx);
      }
      fs->attr[a] = v;
    }
    *cap = n;
  }
  fs->fid[fs->n] = fid;
  fs->geom[fs->n] = g;
  fs->label[fs->n] = label;
  for (size_t a = 0; a < fs->n_attrs; a++) fs->attr[a][fs->n] = NULL;
  fs->n++;
  return PM_OK;
}

pm_status pm_features_from_wkt(pm_context *ctx, const char *layer, const char *const *wkt,
                               const char *const *labels, size_t n, pm_features **out) {
  *out = NULL;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_features *fs = pm__features_new(ctx, layer);
  if (!fs) return PM_ENOMEM;
  GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
  pm_status st = rd ? PM_OK : oom(ctx);
  size_t cap = 0;
  for (size_t i = 0; !st && i < n; i++) {
    GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, wkt[i]);
    if (!g) {
      st = pm_error(ctx, PM_EINPUT, "bad WKT #%zu: %s", i, wkt[i]);
      break;
    }
    pm_geom_kind k = kind_of(h, g);
    if (i == 0) fs->kind = k;
    char *lab = (labels && labels[i]) ? strdup(labels[i]) : NULL;
    st = pm__features_push(ctx, fs, &cap, (int64_t)i + 1, g, lab);
  }
  if (rd) GEOSWKTReader_destroy_r(h, rd);
  if (st) {
    pm_features_destroy(ctx, fs);
    return st;
  }
  *out = fs;
  return PM_OK;
}

pm_status pm_features_add_attr(pm_context *ctx, pm_features *fs, const char *name,
                               const char *const *values) {
  char **names = realloc(fs->attr_names, (fs->n_attrs + 1) * sizeof *names);
  if (!names) return oom(ctx);
  fs->attr_names = names;
  char ***attr = realloc(fs->attr, (fs->n_attrs + 1) * sizeof *attr);
  if (!attr) return oom(ctx);
  fs->attr = attr;
  char **col = calloc(fs->n ? fs->n : 1, sizeof *col);
  char *nm = strdup(name);
  if (!col || !nm) {
    free(col);
    free(nm);
    return oom(ctx);
  }
  for (size_t i = 0; i < fs->n; i++)
    if (values && values[i] && !(col[i] = strdup(values[i]))) {
      for (size_t j = 0; j < i; j++) free(col[j]);
      free(col);
      free(nm);
      return oom(ctx);
    }
  fs->attr_names[fs->n_attrs] = nm;
  fs->attr[fs->n_attrs] = col;
  fs->n_attrs++;
  return PM_OK;
}

int pm_features_attr_index(const pm_features *fs, const char *name) {
  for (size_t a = 0; a < fs->n_attrs; a++)
    if (strcmp(fs->attr_names[a], name) == 0) return (int)a;
  for (size_t a = 0; a < fs->n_attrs; a++)
    if (strcasecmp(fs->attr_names[a], name) == 0) return (int)a;
  return -1;
}

static void noop_cb(void *item, void *user) {
  (void)item;
  (void)user;
}

pm_status pm_features_index(pm_context *ctx, pm_features *fs) {
  if (fs->tree) return PM_OK;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  fs->tree = GEOSSTRtree_create_r(h, 10);
  if (!fs->tree) return oom(ctx);
  for (size_t i = 0; i < fs->n; i++)
    GEOSSTRtree_insert_r(h, fs->tree, fs->geom[i], (void *)(uintptr_t)i);
  /* GEOS (3.11) builds the tree on the first query; query once now so that threads sharing a
   * selection never race on that first build. */
  if (fs->n > 0) GEOSSTRtree_query_r(h, fs->tree, fs->geom[0], noop_cb, NULL);
  return PM_OK;
}

pm_status pm_features_union(pm_context *ctx, const pm_features *fs, GEOSGeometry **out) {
  *out = NULL;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  if (fs->n == 0) {
    *out = GEOSGeom_createEmptyCollection_r(h, GEOS_GEOMETRYCOLLECTION);
    return *out ? PM_OK : oom(ctx);
  }
  GEOSGeometry **parts = malloc(fs->n * sizeof *parts);
  if (!parts) return oom(ctx);
  for (size_t i = 0; i < fs->n; i++) {
    parts[i] = GEOSGeom_clone_r(h, fs->geom[i]);
    if (!parts[i]) {
      for (size_t j = 0; j < i; j++) GEOSGeom_destroy_r(h, parts[j]);
      free(parts);
      return oom(ctx);
    }
  }
  GEOSGeometry *coll =
      GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)fs->n);
  free(parts); /* the collection owns the parts now */
  if (!coll) return oom(ctx);
  *out = GEOSUnaryUnion_r(h, coll);
  GEOSGeom_destroy_r(h, coll);
  if (!*out)
    return pm_error(ctx, PM_EGEOM, "cannot dissolve layer '%s' (%s)", fs->layer,
                    pm__context_geos_message(ctx));
  return PM_OK;
}

pm_status pm_features_id(pm_context *ctx, const pm_features *fs, size_t i, char **out) {
  return pm_asprintf(ctx, out, "%s#%lld", fs->layer, (long long)fs->fid[i]);
}

/* ---------- nearest feature ---------- */

typedef struct nearest_search {
  GEOSContextHandle_t h;
  const pm_features *fs;
  const GEOSGeometry *q;
  double best;
  size_t best_i;
  int err;
} nearest_search;

/* The tree's items are feature indices (index 0 is NULL), so the best is tracked here rather than
 * read from the search's return. */
static int nearest_distance(const void *a, const void *b, double *dist, void *user) {
  nearest_search *ns = user;
  size_t i = (size_t)(uintptr_t)(a == (const void *)ns->q ? b : a);
  if (i >= ns->fs->n || !GEOSDistance_r(ns->h, ns->fs->geom[i], ns->q, dist)) {
    ns->err = 1;
    return 0;
  }
  if (*dist < ns->best || (*dist == ns->best && i < ns->best_i)) {
    ns->best = *dist;
    ns->best_i = i;
  }
  return 1;
}

typedef struct tie_list {
  size_t *v;
  size_t n, cap;
  int oom;
} tie_list;

static void tie_collect(void *item, void *user) {
  tie_list *l = user;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    size_t *v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      l->oom = 1;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = (size_t)(uintptr_t)item;
}

pm_status pm_features_nearest(pm_context *ctx, const pm_features *fs, GEOSSTRtree *tree,
                              const GEOSGeometry *g, size_t *index, double *dist) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  *index = SIZE_MAX;
  *dist = INFINITY;
  if (!tree) tree = fs->tree;
  if (fs->n == 0) return PM_OK;
  if (!tree)
    return pm_error(ctx, PM_EINTERNAL, "pm_features_nearest: layer %s is not indexed",
                    fs->layer ? fs->layer : "?");
  nearest_search ns = {h, fs, g, INFINITY, SIZE_MAX, 0};
  GEOSSTRtree_nearest_generic_r(h, tree, g, g, nearest_distance, &ns);
  if (ns.err || ns.best_i == SIZE_MAX)
    return pm_error(ctx, PM_EGEOM, "layer %s: the nearest-feature search failed (%s)",
                    fs->layer ? fs->layer : "?", pm__context_geos_message(ctx));
  /* The search may stop before visiting every feature at the same distance: the lowest index
   * among them wins, whatever the tree's shape. */
  double x0, y0, x1, y1, d = ns.best;
  if (GEOSGeom_getExtent_r(h, g, &x0, &y0, &x1, &y1)) {
    GEOSGeometry *box = GEOSGeom_createRectangle_r(h, x0 - d, y0 - d, x1 + d, y1 + d);
    if (!box) return pm_error(ctx, PM_ENOMEM, "out of memory");
    tie_list l = {0};
    GEOSSTRtree_query_r(h, tree, box, tie_collect, &l);
    GEOSGeom_destroy_r(h, box);
    for (size_t k = 0; !l.oom && k < l.n; k++) {
      size_t j = l.v[k];
      double dj;
      if (j >= ns.best_i || j >= fs->n) continue;
      if (GEOSDistance_r(h, fs->geom[j], g, &dj) && dj <= d) {
        ns.best_i = j;
        d = dj;
      }
    }
    int oom = l.oom;
    free(l.v);
    if (oom) return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  *index = ns.best_i;
  *dist = d;
  return PM_OK;
}
