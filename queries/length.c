/* length.c: METRICS.md §2 `length` — km of the dissolved line selection per district. */
#include "planmetrics/metrics.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/measure.h"
#include "queries/metric_internal.h"

/* Buffers are widened by this much so that a part lying exactly at near_m (up to floating-point
 * rounding of the offset coordinates, ~1e-9 m in a UTM CRS) counts, as METRICS.md §1 asks. */

/* ---- dissolve-and-clip helpers: the same code is in length.c, line_coverage.c and
 * area_share.c (each keeps the parts it uses); change them together. ---- */

/* Union of the features of several selections, each buffered by dist (dist < 0: not buffered,
 * for `within`), skipping features whose (buffered) envelope meets no part of `filter`, which
 * cannot touch the measured lines anyway. Buffering each feature and dissolving the buffers with
 * one cascaded union gives the same region as buffering the union (the Minkowski sum distributes
 * over union) but keeps each buffer small and lets the filter drop far-away features first. */
static pm_status union_of(pm_context *ctx, const pm_indicator_spec *spec,
                          const pm_features *const *sel, size_t n_sel, double dist,
                          const pm_parts_index *filter, GEOSGeometry **out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_geom_list l = {0};
  pm_status st = PM_OK;
  *out = NULL;
  int quadsegs = dist > 0 ? pm_quadsegs_for(dist) : 8;
  for (size_t s = 0; s < n_sel && !st; s++) {
    if (!sel[s]) continue;
    for (size_t k = 0; k < sel[s]->n && !st; k++) {
      const GEOSGeometry *g = sel[s]->geom[k];
      int hit = 1;
      if (filter && (st = pm_parts_near(ctx, filter, g, dist > 0 ? dist + PM_INCLUSIVE_EPS_M : 0,
                                     &hit)))
        break;
      if (!hit) continue;
      GEOSGeometry *b = dist >= 0 ? GEOSBuffer_r(h, g, dist + PM_INCLUSIVE_EPS_M, quadsegs)
                                  : GEOSGeom_clone_r(h, g);
      if (!b) {
        st = pm__metric_geos_failed(ctx, spec, "buffering a feature");
        break;
      }
      st = pm_geom_list_push(ctx, &l, b);
    }
  }
  if (st) {
    pm_geom_list_clear(ctx, &l);
    return st;
  }
  *out = pm_geom_list_union(ctx, &l, GEOS_MULTIPOLYGON);
  if (!*out) return pm__metric_geos_failed(ctx, spec, "dissolving polygons");
  return PM_OK;
}

/* ---- length ---- */

static pm_status check_length_inputs(pm_context *ctx, const pm_indicator_spec *spec,
                                     const pm_features *lines, const pm_features *const *within,
                                     size_t n_within, size_t n_near, const pm_features *share_of,
                                     const pm_districts *d, const char **unit) {
  const char *id = spec->id ? spec->id : "?";
  if (!lines || !d)
    return pm_error(ctx, PM_EINTERNAL, "indicator %s: length called without lines or districts",
                    id);
  if (!pm_kind_is(lines, PM_KIND_LINE))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: layer '%s' holds %ss; a length needs a line layer", id,
                    pm_layer_name(lines, spec->layer.layer), pm_geom_kind_name(lines->kind));
  if (share_of && !pm_kind_is(share_of, PM_KIND_LINE))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: share_of layer '%s' holds %ss; it must be a line layer", id,
                    pm_layer_name(share_of, spec->share_of.layer), pm_geom_kind_name(share_of->kind));
  for (size_t k = 0; k < n_within; k++)
    if (!pm_kind_is(within[k], PM_KIND_POLYGON))
      return pm_error(ctx, PM_EINPUT,
                      "indicator %s: `within` layer '%s' holds %ss; it must be a polygon layer "
                      "(use `near` with near_m for lines or points)",
                      id, pm_layer_name(within[k], NULL), pm_geom_kind_name(within[k]->kind));
  if (n_near > 0 && (isnan(spec->near_m) || spec->near_m < 0))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: `near` needs `near_m`, a distance in metres >= 0 (e.g. "
                    "near_m: 30)",
                    id);
  const char *u = spec->unit;
  if (share_of) {
    if (u && *u && strcmp(u, "%") != 0)
      return pm_error(ctx, PM_EINPUT,
                      "indicator %s: with share_of the value is a share; write unit: \"%%\" "
                      "instead of \"%s\"",
                      id, u);
    *unit = "%";
  } else if (!u || !*u || strcmp(u, "km") == 0) {
    *unit = "km";
  } else if (strcmp(u, "m") == 0) {
    *unit = "m";
  } else {
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: a length is reported in km or m, not \"%s\" (for a share give "
                    "share_of)",
                    id, u);
  }
  return PM_OK;
}

pm_status pm_length(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *lines,
                    const pm_features *const *within, size_t n_within,
                    const pm_features *const *near, size_t n_near, const pm_features *share_of,
                    const pm_districts *d, pm_indicator_result *out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  const char *unit = NULL;
  pm_status st =
      check_length_inputs(ctx, spec, lines, within, n_within, n_near, share_of, d, &unit);
  if (st) return st;
  if ((st = pm__metric_begin(ctx, spec, "length", unit, d, out))) return st;

  GEOSGeometry *m = NULL, *s = NULL;
  pm_parts_index pm = {0}, ps = {0};

  /* The measured selection: dissolve once, then restrict it to `within` and `near`. */
  if ((st = pm_features_union(ctx, lines, &m))) goto done;
  if (n_within > 0 || n_near > 0) {
    const pm_features *const *sel[2] = {within, near};
    size_t n_sel[2] = {n_within, n_near};
    double dist[2] = {-1, spec->near_m};
    for (int r = 0; r < 2 && !st; r++) {
      if (n_sel[r] == 0) continue;
      pm_parts_index filter;
      GEOSGeometry *region = NULL;
      if ((st = pm_parts_index_build(ctx, &filter, m, 1))) {
        pm_parts_index_free(ctx, &filter);
        break;
      }
      st = union_of(ctx, spec, sel[r], n_sel[r], dist[r], &filter, &region);
      pm_parts_index_free(ctx, &filter);
      if (st) break;
      GEOSGeometry *x = GEOSIntersection_r(h, m, region);
      GEOSGeom_destroy_r(h, region);
      if (!x) {
        st = pm__metric_geos_failed(ctx, spec, r == 0 ? "keeping the parts within" : "keeping the parts near");
        break;
      }
      GEOSGeom_destroy_r(h, m);
      m = x;
    }
    if (st) goto done;
  }
  if ((st = pm_parts_index_build(ctx, &pm, m, 1))) goto done;
  if (share_of) {
    if ((st = pm_features_union(ctx, share_of, &s))) goto done;
    if ((st = pm_parts_index_build(ctx, &ps, s, 1))) goto done;
  }

  for (size_t i = 0; i <= d->n; i++) {
    pm_result *r = &out->results[i];
    GEOSGeometry *part = NULL;
    double len_m = 0;
    if ((st = pm_clip_slot(ctx, spec->id, d, i, &pm, 1, &part, &len_m))) goto done;
    if (share_of) {
      GEOSGeometry *all = NULL;
      double den_m = 0;
      st = pm_clip_slot(ctx, spec->id, d, i, &ps, 1, &all, &den_m);
      if (all) GEOSGeom_destroy_r(h, all);
      char *why = NULL;
      if (!st && den_m <= 0)
        st = pm_asprintf(ctx, &why, "no length of '%s' (share_of) in %s, so there is no share",
                         pm_layer_name(share_of, spec->share_of.layer),
                         i < d->n ? "this district" : "the plan area");
      if (!st) st = pm_result_set_share(ctx, r, len_m / 1000.0, den_m / 1000.0, why);
      free(why);
    } else {
      r->has_value = 1;
      r->value = strcmp(unit, "m") == 0 ? len_m : len_m / 1000.0;
      r->has_ratio = 0;
      r->numerator = r->value; /* in the indicator's unit, so a report row reads consistently */
      r->denominator = NAN;
    }
    if (!st && pm_slot_has_details(d, i) && GEOSisEmpty_r(h, part) == 0)
      st = pm_indicator_result_add_detail_geom(ctx, out, "measured", r->district, r->district,
                                               pm_layer_name(lines, spec->layer.layer), -1, NAN,
                                               NULL, part);
    GEOSGeom_destroy_r(h, part);
    if (st) goto done;
  }
  if (!(st = pm__metric_finish(ctx, out)) && !(st = pm_add_target_gaps(ctx, d, out, unit)))
    st = pm__metric_finish(ctx, out); /* sort the gaps just added */

done:
  pm_parts_index_free(ctx, &pm);
  pm_parts_index_free(ctx, &ps);
  if (m) GEOSGeom_destroy_r(h, m);
  if (s) GEOSGeom_destroy_r(h, s);
  return st;
}

/* ---------- registry row ---------- */

#define OFF(f) offsetof(pm_indicator_spec, f)
static const pm_param PARAMS[] = {
    {"layer", PM_PARAM_REF, OFF(layer), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the layer that is measured"},
    {"where", PM_PARAM_WHERE, OFF(layer), 0, NULL, NULL, NULL, NULL, "filter of the layer"},
    {"within", PM_PARAM_REFS, OFF(within), 0, NULL, NULL, NULL, NULL,
     "only the parts inside the union of these polygons count"},
    {"near", PM_PARAM_REFS, OFF(near), 0, NULL, NULL, NULL, "near_m",
     "only the parts within near_m of these layers count"},
    {"near_m", PM_PARAM_DIST, OFF(near_m), 0, NULL, NULL, NULL, "near",
     "the distance in metres from the `near` layers"},
    {"share_of", PM_PARAM_REF, OFF(share_of), 0, NULL, NULL, NULL, NULL,
     "a second selection whose length is the denominator (value in %)"},
};
#undef OFF

static const pm_detail_role ROLES[] = {{"measured", PM_ROLE_MEASURED, "nearest", 0}};

static const char *const UNITS_KM[] = {"km", "m", NULL};
static const char *const UNITS_SHARE[] = {"%", NULL};

static const char *const *units_of(const pm_indicator_spec *s) {
  return s->share_of.layer ? UNITS_SHARE : UNITS_KM;
}

static pm_status compute(pm_context *ctx, const pm_indicator_spec *spec, const pm_metric_input *in,
                         const pm_districts *d, pm_indicator_result *out) {
  return pm_length(ctx, spec, in[0].v[0], in[2].v, in[2].n, in[3].v, in[3].n,
                   in[5].n ? in[5].v[0] : NULL, d, out);
}

const pm_metric_kind pm__kind_length = {
    .name = "length",
    .summary = "km of the dissolved line selection per district (or its share of another)",
    .params = PARAMS,
    .n_params = PM_ARRAY_LEN(PARAMS),
    .units = UNITS_KM,
    .roles = ROLES,
    .n_roles = PM_ARRAY_LEN(ROLES),
    .compute = compute,
    .units_of = units_of,
};
