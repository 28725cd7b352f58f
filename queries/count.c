/* count.c: METRICS.md §2 count, the number of features per district by representative point. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "queries/metric_internal.h"
#include "planmetrics/metrics.h"

/* Choices where METRICS.md is silent (also in the project docs):
 * - min_area_m2 / max_area_m2 (NAN: no bound, bounds inclusive) apply to areal features only;
 *   points and lines are counted whatever the bounds.
 * - A feature whose representative point lies on a shared district boundary counts in both
 *   districts and once in `_all`.
 * - Gaps: with a target, each district that misses it gets one gap whose shortfall is how many
 *   features it lacks (for an upper bound, how many too many); `_all` lists every such district
 *   (and itself when there are no districts). */

static pm_status geos_fail(pm_context *ctx, const char *ind, const char *what) {
  const char *m = pm__context_geos_message(ctx);
  return pm_error(ctx, PM_EGEOM, "indicator %s: GEOS failed to %s%s%s", ind, what, m[0] ? ": " : "",
                  m);
}

/* How many features a count misses its target by (counts are whole numbers, so a strict bound
 * needs one more, or one fewer). */
static double shortfall(const char *op, double target, double value) {
  if (strcmp(op, ">") == 0) return floor(target) + 1 - value;
  if (strcmp(op, "<") == 0) return value - (ceil(target) - 1);
  if (strcmp(op, "<=") == 0) return value - floor(target);
  if (strcmp(op, "==") == 0) return fabs(target - value);
  return ceil(target) - value;
}

static pm_status add_short_gap(pm_context *ctx, const pm_indicator_result *ir, pm_result *into,
                               const pm_result *r) {
  char *note = NULL;
  pm_status st = pm_asprintf(ctx, &note, "%.0f counted, target %s %g", r->value, ir->target_op,
                             ir->target_value);
  if (!st)
    st = pm_result_add_gap(ctx, into, r->district, r->district, r->district, NAN,
                           shortfall(ir->target_op, ir->target_value, r->value), NULL, note, NAN,
                           NAN);
  free(note);
  return st;
}

pm_status pm_count(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                   const pm_districts *d, pm_indicator_result *out) {
  if (!ctx) return PM_EINTERNAL;
  if (!spec || !layer || !d || !out)
    return pm_error(ctx, PM_EINTERNAL, "pm_count: a required argument is NULL");
  GEOSContextHandle_t h = pm_context_geos(ctx);
  const char *ind = spec->id ? spec->id : "count";
  double min_a = spec->min_area_m2, max_a = spec->max_area_m2;
  if (!isnan(min_a) && !isnan(max_a) && min_a > max_a)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: min_area_m2 (%g) is larger than max_area_m2 (%g)", ind, min_a,
                    max_a);
  int bounded = !isnan(min_a) || !isnan(max_a);
  size_t nd = d->n;
  pm_status st;
  if ((st = pm__metric_begin(ctx, spec, "count", "count", d, out))) return st;
  double *cnt = calloc(nd + 1, sizeof *cnt);
  size_t *idx = malloc((nd ? nd : 1) * sizeof *idx);
  if (!cnt || !idx) {
    st = pm_error(ctx, PM_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < layer->n && !st; i++) {
    const GEOSGeometry *g = layer->geom[i];
    if (bounded && GEOSGeom_getDimensions_r(h, g) == 2) {
      double a;
      if (!GEOSArea_r(h, g, &a)) {
        st = geos_fail(ctx, ind, "measure an area");
        break;
      }
      if ((!isnan(min_a) && a < min_a) || (!isnan(max_a) && a > max_a)) continue;
    }
    GEOSGeometry *pt = GEOSPointOnSurface_r(h, g);
    if (!pt) {
      st = geos_fail(ctx, ind, "find a representative point");
      break;
    }
    size_t m = 0;
    int in_all = 0;
    st = pm_districts_of_point(ctx, d, pt, idx, &m, &in_all);
    if (!st && in_all) {
      for (size_t k = 0; k < m; k++) cnt[idx[k]] += 1;
      cnt[nd] += 1;
      char *id = NULL;
      if (!(st = pm_features_id(ctx, layer, i, &id)))
        st = pm_indicator_result_add_detail_geom(
            ctx, out, "counted", m ? pm_districts_name(d, idx[0]) : NULL, id,
            layer->label ? layer->label[i] : NULL, 1, NAN, NULL, pt);
      free(id);
    }
    GEOSGeom_destroy_r(h, pt);
  }
  if (st) goto done;
  for (size_t k = 0; k <= nd; k++) {
    pm_result *r = &out->results[k];
    r->has_value = 1;
    r->value = cnt[k];
    r->numerator = cnt[k];
    r->has_ratio = 0;
  }
  pm_indicator_result_apply_target(out);
  for (size_t k = 0; k <= nd && !st; k++) {
    const pm_result *r = &out->results[k];
    if (!r->has_target || !r->has_value || r->met) continue;
    if (k < nd) st = add_short_gap(ctx, out, &out->results[k], r);
    if (!st && (k < nd || nd == 0)) st = add_short_gap(ctx, out, &out->results[nd], r);
  }
  /* The plan area can miss its target while no district does (e.g. an upper bound on the sum). */
  pm_result *all = &out->results[nd];
  if (!st && all->has_target && all->has_value && !all->met && all->n_gaps == 0)
    st = add_short_gap(ctx, out, all, all);
  for (size_t k = 0; k <= nd; k++) pm_result_sort_gaps(&out->results[k]);
done:
  free(cnt);
  free(idx);
  return st;
}

/* ---------- registry row ---------- */

#define OFF(f) offsetof(pm_indicator_spec, f)
static const pm_param PARAMS[] = {
    {"layer", PM_PARAM_REF, OFF(layer), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the features that are counted"},
    {"where", PM_PARAM_WHERE, OFF(layer), 0, NULL, NULL, NULL, NULL, "filter of the layer"},
    {"min_area_m2", PM_PARAM_AREA, OFF(min_area_m2), 0, NULL, NULL, NULL, NULL,
     "polygons smaller than this are not counted"},
    {"max_area_m2", PM_PARAM_AREA_MAX, OFF(max_area_m2), 0, NULL, NULL, NULL, NULL,
     "polygons larger than this are not counted"},
};
#undef OFF

static const pm_detail_role ROLES[] = {{"counted", PM_ROLE_MEASURED, "nearest", 0}};
static const char *const UNITS[] = {"count", NULL};

static const char *check(const pm_indicator_spec *s, char *msg, size_t size) {
  if (!isnan(s->min_area_m2) && !isnan(s->max_area_m2) && !(s->min_area_m2 <= s->max_area_m2)) {
    snprintf(msg, size, "indicator %s: max_area_m2 is below min_area_m2", s->id);
    return "max_area_m2";
  }
  return NULL;
}

static pm_status compute(pm_context *ctx, const pm_indicator_spec *spec, const pm_metric_input *in,
                         const pm_districts *d, pm_indicator_result *out) {
  return pm_count(ctx, spec, in[0].v[0], d, out);
}

const pm_metric_kind pm__kind_count = {
    .name = "count",
    .summary = "number of features (by representative point) per district",
    .params = PARAMS,
    .n_params = PM_ARRAY_LEN(PARAMS),
    .units = UNITS,
    .shortfall = "features missing",
    .roles = ROLES,
    .n_roles = PM_ARRAY_LEN(ROLES),
    .compute = compute,
    .check = check,
};
