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
      /* Buffers are widened by PM_INCLUSIVE_EPS_M so that a part lying exactly at near_m (up to
       * rounding of the offset coordinates) counts, as METRICS.md §1 asks. */
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

/* ---- the measured selection, dissolved in strips ---- */

/* The selection is the dissolved union of the lines, restricted to `within` and `near`. With many
 * lines it is computed in strips of lines ordered west to east, each strip on its own thread
 * (dissolve, then restrict: only the `within`/`near` features close to the strip are buffered),
 * and the strips' results are dissolved together. Restriction distributes over union, so this is
 * the same selection; the strips depend only on the data, so the result is the same for any
 * number of threads. Few lines are dissolved in one piece. */
#define LEN_STRIPS 8
#define LEN_STRIPS_MIN 4096

typedef struct sel_job {
  const pm_indicator_spec *spec;
  const pm_features *lines;
  const size_t *order; /* feature indices, west to east; NULL: index order, one strip */
  size_t n_strips;
  const pm_features *const *sel[2]; /* within, near */
  size_t n_sel[2];
  double dist[2];
  GEOSGeometry *out[LEN_STRIPS];
} sel_job;

static pm_status sel_task(pm_context *ctx, void *state, void *arg, size_t i) {
  (void)state;
  sel_job *j = arg;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  size_t n = j->lines->n, b = i * n / j->n_strips, e = (i + 1) * n / j->n_strips;
  pm_geom_list l = {0};
  pm_status st = PM_OK;
  for (size_t k = b; k < e && !st; k++) {
    GEOSGeometry *g = GEOSGeom_clone_r(h, j->lines->geom[j->order ? j->order[k] : k]);
    st = g ? pm_geom_list_push(ctx, &l, g) : pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  if (st) {
    pm_geom_list_clear(ctx, &l);
    return st;
  }
  GEOSGeometry *m = pm_geom_list_union(ctx, &l, GEOS_GEOMETRYCOLLECTION);
  if (!m)
    return pm_error(ctx, PM_EGEOM, "cannot dissolve layer '%s' (%s)", j->lines->layer,
                    pm__context_geos_message(ctx));
  for (int r = 0; r < 2 && !st; r++) {
    if (j->n_sel[r] == 0) continue;
    pm_parts_index filter;
    GEOSGeometry *region = NULL;
    if (!(st = pm_parts_index_build(ctx, &filter, m, 1)))
      st = union_of(ctx, j->spec, j->sel[r], j->n_sel[r], j->dist[r], &filter, &region);
    pm_parts_index_free(ctx, &filter);
    if (st) break;
    GEOSGeometry *x = GEOSIntersection_r(h, m, region);
    GEOSGeom_destroy_r(h, region);
    if (!x) {
      st = pm__metric_geos_failed(ctx, j->spec,
                                  r == 0 ? "keeping the parts within" : "keeping the parts near");
      break;
    }
    GEOSGeom_destroy_r(h, m);
    m = x;
  }
  if (st) {
    GEOSGeom_destroy_r(h, m);
    return st;
  }
  j->out[i] = m;
  return PM_OK;
}

/* The dissolved selection of `lines` restricted to `within` and `near` (either may be empty);
 * caller owns *out. */
static pm_status dissolve_selection(pm_context *ctx, const pm_indicator_spec *spec,
                                    const pm_features *lines, const pm_features *const *within,
                                    size_t n_within, const pm_features *const *near,
                                    size_t n_near, GEOSGeometry **out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  sel_job j = {.spec = spec,
               .lines = lines,
               .n_strips = 1,
               .sel = {within, near},
               .n_sel = {n_within, n_near},
               .dist = {-1, spec->near_m}};
  size_t *order = NULL;
  pm_status st = PM_OK;
  *out = NULL;
  if (lines->n >= LEN_STRIPS_MIN) {
    double *x = malloc(lines->n * sizeof *x);
    if (!x) return pm_error(ctx, PM_ENOMEM, "out of memory");
    for (size_t k = 0; k < lines->n; k++) {
      double x0 = 0, x1 = 0;
      if (!GEOSGeom_getXMin_r(h, lines->geom[k], &x0) ||
          !GEOSGeom_getXMax_r(h, lines->geom[k], &x1))
        x0 = x1 = 0;
      x[k] = (x0 + x1) / 2; /* the line's centre */
    }
    st = pm_order_by_x(ctx, x, lines->n, &order);
    free(x);
    if (st) return st;
    j.order = order;
    j.n_strips = LEN_STRIPS;
  }
  if (!st)
    st = pm__parallel_for(ctx, pm_context_threads(ctx), j.n_strips, NULL, sel_task, NULL, &j);
  if (!st && j.n_strips > 1) {
    char *what = NULL;
    if (!(st = pm_asprintf(ctx, &what, "indicator %s: dissolving the strips of layer '%s'",
                           spec->id ? spec->id : "?", lines->layer)))
      st = pm_union_pairwise(ctx, j.out, j.n_strips, what);
    free(what);
  }
  if (!st) {
    *out = j.out[0];
    j.out[0] = NULL;
  }
  for (size_t k = 0; k < LEN_STRIPS; k++)
    if (j.out[k]) GEOSGeom_destroy_r(h, j.out[k]);
  free(order);
  return st;
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

  if ((st = dissolve_selection(ctx, spec, lines, within, n_within, near, n_near, &m))) goto done;
  if ((st = pm_parts_index_build(ctx, &pm, m, 1))) goto done;
  if (share_of) {
    if ((st = dissolve_selection(ctx, spec, share_of, NULL, 0, NULL, 0, &s))) goto done;
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

/* Many lines are dissolved in strips, shared out among the threads. */
static int wide(const pm_indicator_spec *s, const pm_metric_input *in) {
  (void)s;
  return in[0].n && in[0].v[0]->n >= LEN_STRIPS_MIN;
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
    .wide = wide,
    .units_of = units_of,
};
