/* line_coverage.c: METRICS.md §2 `line_coverage` — share of line length within reach of `by`. */
#include "planmetrics/metrics.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/measure.h"
#include "queries/metric_internal.h"

/* ---- line_coverage ---- */

/* Uncovered remainders of a line shorter than this are overlay noise where the line leaves one
 * buffer exactly where it enters the next, not a gap a planner could act on. */
#define LC_SLIVER_M 1e-6

typedef struct lc {
  pm_context *ctx;
  GEOSContextHandle_t h;
  const pm_indicator_spec *spec;
  const pm_features *lines;
  const pm_districts *d;
  pm_indicator_result *out;
  const char *ind;

  /* The `by` features of all selections, flattened. */
  const GEOSGeometry **byg;  /* borrowed */
  const pm_features **byfs;  /* the selection of each */
  size_t *byi;               /* its index there */
  GEOSGeometry **buf;        /* buffer by within_m, NULL when it meets no line (owned) */
  size_t nby;
  GEOSSTRtree *by_tree;      /* items k + 1 over byg, for the nearest `by` feature */
  GEOSSTRtree *buf_tree;     /* items k + 1 over the non-NULL buf */
  GEOSGeometry *cover;       /* union of the buffers */
  const GEOSPreparedGeometry *cover_prep;
  int cover_empty;
  char *by_names;            /* "cameras, poles", for gap notes */
} lc;

static void lc_free(lc *c) {
  GEOSContextHandle_t h = c->h;
  if (c->by_tree) GEOSSTRtree_destroy_r(h, c->by_tree);
  if (c->buf_tree) GEOSSTRtree_destroy_r(h, c->buf_tree);
  if (c->cover_prep) GEOSPreparedGeom_destroy_r(h, c->cover_prep);
  if (c->cover) GEOSGeom_destroy_r(h, c->cover);
  for (size_t k = 0; k < c->nby; k++)
    if (c->buf && c->buf[k]) GEOSGeom_destroy_r(h, c->buf[k]);
  free(c->buf);
  free(c->byg);
  free(c->byfs);
  free(c->byi);
  free(c->by_names);
}

static pm_status lc_check(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *lines,
                          const pm_districts *d) {
  const char *id = spec->id ? spec->id : "?";
  if (!lines || !d)
    return pm_error(ctx, PM_EINTERNAL,
                    "indicator %s: line_coverage called without lines or districts", id);
  if (!pm_kind_is(lines, PM_KIND_LINE))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: layer '%s' holds %ss; line_coverage measures a line layer", id,
                    pm_layer_name(lines, spec->layer.layer), pm_geom_kind_name(lines->kind));
  if (isnan(spec->within_m) || spec->within_m < 0)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: line_coverage needs `within_m`, the reach of `by` in metres "
                    "(e.g. within_m: 50)",
                    id);
  if (spec->unit && *spec->unit && strcmp(spec->unit, "%") != 0)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: line_coverage is a share of length; write unit: \"%%\" instead "
                    "of \"%s\"",
                    id, spec->unit);
  return PM_OK;
}

/* Flatten the `by` selections, buffer the features that can reach a line, dissolve the buffers
 * into the covering region and index both the features (nearest) and the buffers (local
 * differences for gaps). */
static pm_status lc_build_cover(lc *c, const pm_features *const *by, size_t n_by,
                                const pm_parts_index *lines_parts) {
  GEOSContextHandle_t h = c->h;
  size_t n = 0;
  for (size_t s = 0; s < n_by; s++) n += by[s] ? by[s]->n : 0;
  c->byg = calloc(n ? n : 1, sizeof *c->byg);
  c->byfs = calloc(n ? n : 1, sizeof *c->byfs);
  c->byi = calloc(n ? n : 1, sizeof *c->byi);
  c->buf = calloc(n ? n : 1, sizeof *c->buf);
  c->by_tree = GEOSSTRtree_create_r(h, 10);
  c->buf_tree = GEOSSTRtree_create_r(h, 10);
  if (!c->byg || !c->byfs || !c->byi || !c->buf || !c->by_tree || !c->buf_tree)
    return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  pm_status st = PM_OK;
  for (size_t s = 0; s < n_by && !st; s++) {
    if (!by[s]) continue;
    if (by[s]->layer) {
      char *names = NULL;
      st = c->by_names ? pm_asprintf(c->ctx, &names, "%s, %s", c->by_names, by[s]->layer)
                       : pm_strdup(c->ctx, &names, by[s]->layer);
      free(c->by_names);
      c->by_names = names;
    }
    for (size_t i = 0; i < by[s]->n; i++) {
      c->byg[c->nby] = by[s]->geom[i];
      c->byfs[c->nby] = by[s];
      c->byi[c->nby] = i;
      c->nby++;
    }
  }
  if (st) return st;

  double r = c->spec->within_m;
  int quadsegs = pm_quadsegs_for(r);
  pm_geom_list l = {0};
  for (size_t k = 0; k < c->nby && !st; k++) {
    GEOSSTRtree_insert_r(h, c->by_tree, c->byg[k], (void *)(uintptr_t)(k + 1));
    int hit = 0;
    if ((st = pm_parts_near(c->ctx, lines_parts, c->byg[k], r + PM_INCLUSIVE_EPS_M, &hit))) break;
    if (!hit) continue; /* reaches no line: it covers nothing, but may still be the nearest */
    c->buf[k] = GEOSBuffer_r(h, c->byg[k], r + PM_INCLUSIVE_EPS_M, quadsegs);
    GEOSGeometry *copy = c->buf[k] ? GEOSGeom_clone_r(h, c->buf[k]) : NULL;
    if (!copy) {
      st = pm__metric_geos_failed(c->ctx, c->spec, "buffering a `by` feature");
      break;
    }
    GEOSSTRtree_insert_r(h, c->buf_tree, c->buf[k], (void *)(uintptr_t)(k + 1));
    st = pm_geom_list_push(c->ctx, &l, copy);
  }
  if (st) {
    pm_geom_list_clear(c->ctx, &l);
    return st;
  }
  c->cover_empty = l.n == 0;
  c->cover = pm_geom_list_union(c->ctx, &l, GEOS_MULTIPOLYGON);
  if (!c->cover) return pm__metric_geos_failed(c->ctx, c->spec, "dissolving the covered region");
  c->cover_prep = GEOSPrepare_r(h, c->cover);
  if (!c->cover_prep) return pm__metric_geos_failed(c->ctx, c->spec, "preparing the covered region");
  return PM_OK;
}

/* The part of line f farther than within_m from every `by` feature (NULL when none). Only the
 * buffers near f take part, so the cost does not grow with the size of the whole covered region;
 * subtracting them one by one is the same set as subtracting their union. */
static pm_status lc_uncovered(lc *c, const GEOSGeometry *f, GEOSGeometry **out) {
  GEOSContextHandle_t h = c->h;
  *out = NULL;
  if (!c->cover_empty) {
    char cv = GEOSPreparedCovers_r(h, c->cover_prep, f);
    if (cv == 2) return pm__metric_geos_failed(c->ctx, c->spec, "testing a line against the covered region");
    if (cv == 1) return PM_OK;
  }
  GEOSGeometry *u = GEOSGeom_clone_r(h, f);
  if (!u) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  if (c->cover_empty || GEOSPreparedIntersects_r(h, c->cover_prep, f) != 1) {
    *out = u;
    return PM_OK;
  }
  pm_idx_list hits = {.offset = 1, .ctx = c->ctx};
  GEOSSTRtree_query_r(h, c->buf_tree, f, pm_idx_list_cb, &hits);
  pm_status st = hits.st;
  if (!st && hits.n > 1) qsort(hits.v, hits.n, sizeof *hits.v, pm__cmp_size);
  for (size_t j = 0; j < hits.n && !st; j++) {
    const GEOSGeometry *b = c->buf[hits.v[j]];
    char it = GEOSIntersects_r(h, u, b);
    if (it == 2) {
      st = pm__metric_geos_failed(c->ctx, c->spec, "testing a line against a buffer");
    } else if (it == 1) {
      GEOSGeometry *nu = GEOSDifference_r(h, u, b);
      if (!nu) {
        st = pm__metric_geos_failed(c->ctx, c->spec, "cutting the covered part off a line");
        break;
      }
      GEOSGeom_destroy_r(h, u);
      u = nu;
      if (GEOSisEmpty_r(h, u) == 1) break;
    }
  }
  free(hits.v);
  if (st) {
    GEOSGeom_destroy_r(h, u);
    return st;
  }
  *out = u;
  return PM_OK;
}

/* Distance from g to the nearest `by` feature (NAN and k = SIZE_MAX when there is none). */
typedef struct lc_near {
  GEOSContextHandle_t h;
  const GEOSGeometry *g;
  const GEOSGeometry **byg;
} lc_near;

static int lc_near_dist(const void *a, const void *b, double *dist, void *user) {
  lc_near *q = user;
  const void *item = a == (const void *)q ? b : a; /* the query item is q itself */
  size_t k = (size_t)(uintptr_t)item - 1;
  return GEOSDistance_r(q->h, q->g, q->byg[k], dist);
}

static pm_status lc_nearest(lc *c, const GEOSGeometry *g, size_t *k, double *dist) {
  *k = SIZE_MAX;
  *dist = NAN;
  if (c->nby == 0) return PM_OK;
  lc_near q = {c->h, g, c->byg};
  const void *hit = GEOSSTRtree_nearest_generic_r(c->h, c->by_tree, &q, g, lc_near_dist, &q);
  if (!hit) return pm__metric_geos_failed(c->ctx, c->spec, "finding the nearest `by` feature");
  *k = (size_t)(uintptr_t)hit - 1;
  if (!GEOSDistance_r(c->h, g, c->byg[*k], dist))
    return pm__metric_geos_failed(c->ctx, c->spec, "measuring a distance");
  return PM_OK;
}

static void point_of(GEOSContextHandle_t h, const GEOSGeometry *g, double *x, double *y) {
  *x = *y = NAN;
  GEOSGeometry *p = GEOSPointOnSurface_r(h, g);
  if (p && GEOSisEmpty_r(h, p) == 0) {
    GEOSGeomGetX_r(h, p, x);
    GEOSGeomGetY_r(h, p, y);
  }
  if (p) GEOSGeom_destroy_r(h, p);
}

/* Uncovered length of u inside slot i, and a point on that part. */
static pm_status lc_in_slot(lc *c, size_t i, const GEOSGeometry *u, double *len, double *x,
                            double *y) {
  GEOSGeometry *x_part = NULL;
  pm_status st = pm_districts_clip(c->ctx, c->d, i, u, &x_part);
  if (st) return st;
  *len = pm_measure_dim(c->h, x_part, 1);
  point_of(c->h, x_part, x, y);
  GEOSGeom_destroy_r(c->h, x_part);
  return PM_OK;
}

static pm_status lc_gap(lc *c, pm_result *r, size_t f, const char *district, double len_m,
                        double dist, const char *nearest, double x, double y) {
  char *id = NULL, *note = NULL;
  double total_m = pm_measure_dim(c->h, c->lines->geom[f], 1);
  pm_status st = pm_features_id(c->ctx, c->lines, f, &id);
  if (!st)
    st = pm_asprintf(c->ctx, &note, "%.3f km of %.3f km farther than %g m from %s", len_m / 1000.0,
                     total_m / 1000.0, c->spec->within_m, c->by_names ? c->by_names : "`by`");
  if (!st)
    st = pm_result_add_gap(c->ctx, r, id, c->lines->label ? c->lines->label[f] : NULL, district,
                           dist, len_m / 1000.0, nearest, note, x, y);
  free(id);
  free(note);
  return st;
}

/* One gap per line feature with an uncovered part, in every district that part crosses and in
 * `_all` (there named after the district holding most of it). */
static pm_status lc_feature_gaps(lc *c, size_t f) {
  GEOSContextHandle_t h = c->h;
  const pm_districts *d = c->d;
  GEOSGeometry *u = NULL;
  pm_status st = lc_uncovered(c, c->lines->geom[f], &u);
  if (st || !u) return st;
  char *nearest = NULL;
  size_t k;
  double dist;
  if (pm_measure_dim(h, u, 1) < LC_SLIVER_M) goto done;
  if ((st = lc_nearest(c, u, &k, &dist))) goto done; /* from the part that is not covered */
  if (k != SIZE_MAX && (st = pm_features_id(c->ctx, c->byfs[k], c->byi[k], &nearest))) goto done;
  if (k != SIZE_MAX && c->byfs[k]->label && c->byfs[k]->label[c->byi[k]]) {
    free(nearest);
    nearest = NULL;
    if ((st = pm_strdup(c->ctx, &nearest, c->byfs[k]->label[c->byi[k]]))) goto done;
  }

  size_t best = SIZE_MAX;
  double best_len = 0;
  if (d->n > 0) {
    pm_idx_list hits = {.offset = 0, .ctx = c->ctx};
    if (d->tree) {
      GEOSSTRtree_query_r(h, d->tree, u, pm_idx_list_cb, &hits);
    } else {
      for (size_t j = 0; j < d->n && !hits.st; j++) pm_idx_list_cb((void *)(uintptr_t)j, &hits);
    }
    st = hits.st;
    if (!st && hits.n > 1) qsort(hits.v, hits.n, sizeof *hits.v, pm__cmp_size);
    for (size_t m = 0; m < hits.n && !st; m++) {
      size_t j = hits.v[m];
      double len, x, y;
      if ((st = lc_in_slot(c, j, u, &len, &x, &y))) break;
      if (len < LC_SLIVER_M) continue;
      if (len > best_len) {
        best_len = len;
        best = j;
      }
      st = lc_gap(c, &c->out->results[j], f, d->name[j], len, dist, nearest, x, y);
    }
    free(hits.v);
    if (st) goto done;
  }
  double len, x, y;
  if ((st = lc_in_slot(c, d->n, u, &len, &x, &y))) goto done;
  if (len >= LC_SLIVER_M)
    st = lc_gap(c, &c->out->results[d->n], f, best == SIZE_MAX ? NULL : d->name[best], len, dist,
                nearest, x, y);

done:
  free(nearest);
  GEOSGeom_destroy_r(h, u);
  return st;
}

pm_status pm_line_coverage(pm_context *ctx, const pm_indicator_spec *spec,
                           const pm_features *lines, const pm_features *const *by, size_t n_by,
                           const pm_districts *d, pm_indicator_result *out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_status st = lc_check(ctx, spec, lines, d);
  if (st) return st;
  if ((st = pm__metric_begin(ctx, spec, "line_coverage", "%", d, out))) return st;

  lc c = {.ctx = ctx, .h = h, .spec = spec, .lines = lines, .d = d, .out = out};
  GEOSGeometry *all = NULL, *cov = NULL, *unc = NULL;
  pm_parts_index pall = {0}, pcov = {0}, punc = {0};

  /* Dissolve once; split the dissolved network into its covered and uncovered parts with two
   * overlays against the dissolved buffers, then clip both per district. */
  if ((st = pm_features_union(ctx, lines, &all))) goto done;
  if ((st = pm_parts_index_build(ctx, &pall, all, 1))) goto done;
  if ((st = lc_build_cover(&c, by, n_by, &pall))) goto done;
  if (c.cover_empty) {
    cov = GEOSGeom_createEmptyCollection_r(h, GEOS_MULTILINESTRING);
    unc = GEOSGeom_clone_r(h, all);
  } else {
    cov = GEOSIntersection_r(h, all, c.cover);
    unc = GEOSDifference_r(h, all, c.cover);
  }
  if (!cov || !unc) {
    st = pm__metric_geos_failed(ctx, spec, "splitting the lines into covered and uncovered parts");
    goto done;
  }
  if ((st = pm_parts_index_build(ctx, &pcov, cov, 1)) || (st = pm_parts_index_build(ctx, &punc, unc, 1)))
    goto done;

  for (size_t i = 0; i <= d->n; i++) {
    pm_result *r = &out->results[i];
    GEOSGeometry *gc = NULL, *gu = NULL;
    double cov_m = 0, unc_m = 0;
    char *why = NULL;
    st = pm_clip_slot(ctx, spec->id, d, i, &pcov, 1, &gc, &cov_m);
    if (!st) st = pm_clip_slot(ctx, spec->id, d, i, &punc, 1, &gu, &unc_m);
    if (!st && cov_m + unc_m <= 0)
      st = pm_asprintf(ctx, &why, "no line of '%s' in %s, so there is nothing to cover",
                       pm_layer_name(lines, spec->layer.layer),
                       i < d->n ? "this district" : "the plan area");
    /* The total is covered + uncovered, so the share can never exceed 100 % by rounding. */
    if (!st) st = pm_result_set_share(ctx, r, cov_m / 1000.0, (cov_m + unc_m) / 1000.0, why);
    free(why);
    if (!st && pm_slot_has_details(d, i) && gc && GEOSisEmpty_r(h, gc) == 0)
      st = pm_indicator_result_add_detail_geom(ctx, out, "covered", r->district, r->district,
                                               pm_layer_name(lines, spec->layer.layer), 1, NAN, NULL,
                                               gc);
    if (!st && pm_slot_has_details(d, i) && gu && GEOSisEmpty_r(h, gu) == 0)
      st = pm_indicator_result_add_detail_geom(ctx, out, "uncovered", r->district, r->district,
                                               pm_layer_name(lines, spec->layer.layer), 0, NAN, NULL,
                                               gu);
    if (gc) GEOSGeom_destroy_r(h, gc);
    if (gu) GEOSGeom_destroy_r(h, gu);
    if (st) goto done;
  }

  for (size_t f = 0; f < lines->n && !st; f++) st = lc_feature_gaps(&c, f);
  if (!st) st = pm__metric_finish(ctx, out);

done:
  pm_parts_index_free(ctx, &pall);
  pm_parts_index_free(ctx, &pcov);
  pm_parts_index_free(ctx, &punc);
  if (all) GEOSGeom_destroy_r(h, all);
  if (cov) GEOSGeom_destroy_r(h, cov);
  if (unc) GEOSGeom_destroy_r(h, unc);
  lc_free(&c);
  return st;
}

/* ---------- registry row ---------- */

#define OFF(f) offsetof(pm_indicator_spec, f)
static const pm_param PARAMS[] = {
    {"layer", PM_PARAM_REF, OFF(layer), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the lines whose covered share is measured"},
    {"where", PM_PARAM_WHERE, OFF(layer), 0, NULL, NULL, NULL, NULL, "filter of the layer"},
    {"by", PM_PARAM_REFS, OFF(by), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the layer(s) that cover the lines, e.g. cameras"},
    {"within_m", PM_PARAM_DIST, OFF(within_m), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the covering distance in metres"},
};
#undef OFF

static const pm_detail_role ROLES[] = {
    {"covered", PM_ROLE_PASS, "nearest", 1},
    {"uncovered", PM_ROLE_FAIL, "nearest", 1},
};
static const char *const UNITS[] = {"%", NULL};

static pm_status compute(pm_context *ctx, const pm_indicator_spec *spec, const pm_metric_input *in,
                         const pm_districts *d, pm_indicator_result *out) {
  return pm_line_coverage(ctx, spec, in[0].v[0], in[2].v, in[2].n, d, out);
}

const pm_metric_kind pm__kind_line_coverage = {
    .name = "line_coverage",
    .summary = "share of the dissolved line length within within_m of `by`",
    .params = PARAMS,
    .n_params = PM_ARRAY_LEN(PARAMS),
    .units = UNITS,
    .shortfall = "uncovered (km)",
    .roles = ROLES,
    .n_roles = PM_ARRAY_LEN(ROLES),
    .compute = compute,
};
