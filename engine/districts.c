/* districts.c: the districts in scope of a plan, which district a point lies in, clipping. */
#include "planmetrics/districts.h"

#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

void pm_districts_destroy(pm_context *ctx, pm_districts *d) {
  if (!d) return;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  if (d->tree) GEOSSTRtree_destroy_r(h, d->tree);
  for (size_t i = 0; i < d->n; i++) {
    if (d->prep && d->prep[i]) GEOSPreparedGeom_destroy_r(h, d->prep[i]);
    if (d->geom && d->geom[i]) GEOSGeom_destroy_r(h, d->geom[i]);
    if (d->name) free(d->name[i]);
  }
  if (d->all_prep) GEOSPreparedGeom_destroy_r(h, d->all_prep);
  if (d->all) GEOSGeom_destroy_r(h, d->all);
  free(d->prep);
  free(d->geom);
  free(d->name);
  free(d);
}

pm_status pm_districts_none(pm_context *ctx, pm_districts **out) {
  *out = calloc(1, sizeof **out);
  return *out ? PM_OK : oom(ctx);
}

const char *pm_districts_name(const pm_districts *d, size_t i) {
  return i < d->n ? d->name[i] : PM_ALL;
}

static void noop_cb(void *item, void *user) {
  (void)item;
  (void)user;
}

/* Build the derived parts (prepared geometries, union, index) once the names and polygons are set. */
static pm_status finish(pm_context *ctx, pm_districts *d) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  d->prep = calloc(d->n ? d->n : 1, sizeof *d->prep);
  if (!d->prep) return oom(ctx);
  d->tree = GEOSSTRtree_create_r(h, 10);
  if (!d->tree) return oom(ctx);
  for (size_t i = 0; i < d->n; i++) {
    d->prep[i] = GEOSPrepare_r(h, d->geom[i]);
    if (!d->prep[i]) return oom(ctx);
    GEOSSTRtree_insert_r(h, d->tree, d->geom[i], (void *)(uintptr_t)i);
  }
  if (d->n > 0) GEOSSTRtree_query_r(h, d->tree, d->geom[0], noop_cb, NULL); /* build it now */
  if (d->n == 0) return PM_OK;
  GEOSGeometry **parts = malloc(d->n * sizeof *parts);
  if (!parts) return oom(ctx);
  for (size_t i = 0; i < d->n; i++) {
    parts[i] = GEOSGeom_clone_r(h, d->geom[i]);
    if (!parts[i]) {
      for (size_t j = 0; j < i; j++) GEOSGeom_destroy_r(h, parts[j]);
      free(parts);
      return oom(ctx);
    }
  }
  GEOSGeometry *coll = GEOSGeom_createCollection_r(h, GEOS_GEOMETRYCOLLECTION, parts, (unsigned)d->n);
  free(parts);
  if (!coll) return oom(ctx);
  d->all = GEOSUnaryUnion_r(h, coll);
  GEOSGeom_destroy_r(h, coll);
  if (!d->all)
    return pm_error(ctx, PM_EGEOM, "cannot dissolve the districts (%s)", pm__context_geos_message(ctx));
  d->all_prep = GEOSPrepare_r(h, d->all);
  if (!d->all_prep) return oom(ctx);
  GEOSArea_r(h, d->all, &d->area_m2_all);
  return PM_OK;
}

/* Add polygon g (owned) under name, merging with an existing district of the same name. */
static pm_status add_or_merge(pm_context *ctx, pm_districts *d, size_t *cap, const char *name,
                              GEOSGeometry *g) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  for (size_t i = 0; i < d->n; i++)
    if (strcmp(d->name[i], name) == 0) {
      GEOSGeometry *u = GEOSUnion_r(h, d->geom[i], g);
      GEOSGeom_destroy_r(h, g);
      if (!u) return pm_error(ctx, PM_EGEOM, "cannot merge the parts of district %s (%s)", name,
                              pm__context_geos_message(ctx));
      GEOSGeom_destroy_r(h, d->geom[i]);
      d->geom[i] = u;
      return PM_OK;
    }
  if (d->n == *cap) {
    size_t n = *cap ? *cap * 2 : 16;
    char **nm = realloc(d->name, n * sizeof *nm);
    if (nm) d->name = nm;
    GEOSGeometry **gg = realloc(d->geom, n * sizeof *gg);
    if (gg) d->geom = gg;
    if (!nm || !gg) {
      GEOSGeom_destroy_r(h, g);
      return oom(ctx);
    }
    *cap = n;
  }
  d->name[d->n] = strdup(name);
  if (!d->name[d->n]) {
    GEOSGeom_destroy_r(h, g);
    return oom(ctx);
  }
  d->geom[d->n++] = g;
  return PM_OK;
}

pm_status pm_districts_create(pm_context *ctx, const pm_features *fs, const char *name_field,
                              const char *const *only, size_t n_only, pm_districts **out) {
  *out = NULL;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  if (fs->kind != PM_KIND_POLYGON)
    return pm_error(ctx, PM_EINPUT, "districts layer '%s' holds %ss; districts must be polygons",
                    fs->layer, pm_geom_kind_name(fs->kind));
  pm_districts *d = calloc(1, sizeof *d);
  if (!d) return oom(ctx);
  size_t cap = 0;
  pm_status st = PM_OK;
  for (size_t k = 0; !st && k < (only ? n_only : 1); k++) {
    int matched = 0;
    for (size_t i = 0; !st && i < fs->n; i++) {
      const char *nm = fs->label[i];
      if (!nm) continue;
      if (only && strcmp(nm, only[k]) != 0) continue;
      matched = 1;
      GEOSGeometry *g = GEOSGeom_clone_r(h, fs->geom[i]);
      st = g ? add_or_merge(ctx, d, &cap, nm, g) : oom(ctx);
    }
    if (!st && only && !matched) {
      /* List the names present so the planner can correct the spelling. */
      size_t len = 1;
      for (size_t i = 0; i < fs->n; i++) len += fs->label[i] ? strlen(fs->label[i]) + 2 : 0;
      char *list = calloc(len, 1);
      for (size_t i = 0; list && i < fs->n; i++)
        if (fs->label[i]) {
          if (*list) strcat(list, ", ");
          strcat(list, fs->label[i]);
        }
      st = pm_error(ctx, PM_EINPUT,
                    "districts layer '%s' has no district named '%s' in field %s; names present: %s",
                    fs->layer, only[k], name_field ? name_field : "name", list ? list : "?");
      free(list);
    }
  }
  if (!st && d->n == 0)
    st = pm_error(ctx, PM_EINPUT, "districts layer '%s' has no named polygons in field %s",
                  fs->layer, name_field ? name_field : "name");
  if (!st) st = finish(ctx, d);
  if (st) {
    pm_districts_destroy(ctx, d);
    return st;
  }
  *out = d;
  return PM_OK;
}

pm_status pm_districts_clone(pm_context *ctx, const pm_districts *src, pm_districts **out) {
  *out = NULL;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_districts *d = calloc(1, sizeof *d);
  if (!d) return oom(ctx);
  pm_status st = PM_OK;
  if (src->n) {
    d->name = calloc(src->n, sizeof *d->name);
    d->geom = calloc(src->n, sizeof *d->geom);
    if (!d->name || !d->geom) st = oom(ctx);
  }
  for (size_t i = 0; !st && i < src->n; i++) {
    d->name[i] = strdup(src->name[i]);
    d->geom[i] = GEOSGeom_clone_r(h, src->geom[i]);
    d->n = i + 1;
    if (!d->name[i] || !d->geom[i]) st = oom(ctx);
  }
  if (!st) st = finish(ctx, d);
  if (st) {
    pm_districts_destroy(ctx, d);
    return st;
  }
  *out = d;
  return PM_OK;
}

pm_status pm_districts_from_features(pm_context *ctx, const pm_features *fs, pm_districts **out) {
  return pm_districts_create(ctx, fs, NULL, NULL, 0, out);
}

typedef struct point_query {
  GEOSContextHandle_t h;
  const pm_districts *d;
  const GEOSGeometry *g;
  size_t *idx;
  size_t n;
} point_query;

static void point_cb(void *item, void *user) {
  point_query *q = user;
  size_t i = (size_t)(uintptr_t)item;
  if (GEOSPreparedCovers_r(q->h, q->d->prep[i], q->g) == 1) q->idx[q->n++] = i;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

pm_status pm_districts_of_point(pm_context *ctx, const pm_districts *d, const GEOSGeometry *g,
                                size_t *idx, size_t *n, int *in_all) {
  *n = 0;
  if (d->n == 0) {
    *in_all = 1;
    return PM_OK;
  }
  point_query q = {pm_context_geos(ctx), d, g, idx, 0};
  GEOSSTRtree_query_r(q.h, d->tree, g, point_cb, &q);
  qsort(idx, q.n, sizeof *idx, cmp_size); /* deterministic order whatever the tree does */
  *n = q.n;
  /* A point covered by a district is in the plan area; the union test is only needed otherwise
   * (it never is, as the union covers exactly the districts, but keep it exact and cheap). */
  *in_all = q.n > 0 ? 1 : GEOSPreparedCovers_r(q.h, d->all_prep, g) == 1;
  return PM_OK;
}

pm_status pm_districts_clip(pm_context *ctx, const pm_districts *d, size_t i,
                            const GEOSGeometry *g, GEOSGeometry **out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  *out = NULL;
  if (i > d->n) return pm_error(ctx, PM_EINTERNAL, "district slot %zu out of range", i);
  if (i == d->n && d->n == 0) {
    *out = GEOSGeom_clone_r(h, g);
    return *out ? PM_OK : oom(ctx);
  }
  const GEOSGeometry *poly = i == d->n ? d->all : d->geom[i];
  const GEOSPreparedGeometry *prep = i == d->n ? d->all_prep : d->prep[i];
  if (GEOSPreparedCovers_r(h, prep, g) == 1)
    *out = GEOSGeom_clone_r(h, g);
  else if (GEOSPreparedIntersects_r(h, prep, g) != 1)
    *out = GEOSGeom_createEmptyCollection_r(h, GEOS_GEOMETRYCOLLECTION);
  else
    *out = GEOSIntersection_r(h, g, poly);
  if (!*out)
    return pm_error(ctx, PM_EGEOM, "cannot clip a geometry to %s (%s)", pm_districts_name(d, i),
                    pm__context_geos_message(ctx));
  return PM_OK;
}
