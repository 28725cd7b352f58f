/* area_share.c: METRICS.md §2 `area_share` — share of a district (or `of`) covered by a layer. */
#include "planmetrics/metrics.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/measure.h"
#include "queries/metric_internal.h"

/* ---- area_share ---- */

static pm_status as_check(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                          const pm_features *of, const pm_districts *d) {
  const char *id = spec->id ? spec->id : "?";
  if (!layer || !d)
    return pm_error(ctx, PM_EINTERNAL,
                    "indicator %s: area_share called without a layer or districts", id);
  if (!pm_kind_is(layer, PM_KIND_POLYGON))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: layer '%s' holds %ss, which have no area; area_share needs a "
                    "polygon layer",
                    id, pm_layer_name(layer, spec->layer.layer), pm_geom_kind_name(layer->kind));
  if (of && !pm_kind_is(of, PM_KIND_POLYGON))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: `of` layer '%s' holds %ss, which have no area; give a polygon "
                    "layer or leave `of` out to divide by the district's area",
                    id, pm_layer_name(of, spec->of.layer), pm_geom_kind_name(of->kind));
  if (spec->unit && *spec->unit && strcmp(spec->unit, "%") != 0)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: area_share is a share of area; write unit: \"%%\" instead of "
                    "\"%s\"",
                    id, spec->unit);
  return PM_OK;
}

/* Area of slot i itself in m2 (-1 when the plan area is unbounded: no districts). */
static double slot_area_m2(GEOSContextHandle_t h, const pm_districts *d, size_t i) {
  if (i < d->n) return pm_measure_dim(h, d->geom[i], 2);
  if (!d->all) return -1;
  return d->area_m2_all > 0 ? d->area_m2_all : pm_measure_dim(h, d->all, 2);
}

pm_status pm_area_share(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                        const pm_features *of, const pm_districts *d, pm_indicator_result *out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_status st = as_check(ctx, spec, layer, of, d);
  if (st) return st;
  if ((st = pm__metric_begin(ctx, spec, "area_share", "%", d, out))) return st;

  GEOSGeometry *a = NULL, *o = NULL;
  pm_parts_index pa = {0}, po = {0};

  /* The numerator is the part of the dissolved layer inside `of`: the share of `of` that the
   * layer covers, which can never exceed 100 % (with `of` left out it is the district itself, so
   * this is the same rule). */
  if ((st = pm_features_union(ctx, layer, &a))) goto done;
  if (of) {
    if ((st = pm_features_union(ctx, of, &o))) goto done;
    GEOSGeometry *x = GEOSIntersection_r(h, a, o);
    if (!x) {
      st = pm__metric_geos_failed(ctx, spec, "keeping the parts inside `of`");
      goto done;
    }
    GEOSGeom_destroy_r(h, a);
    a = x;
    if ((st = pm_parts_index_build(ctx, &po, o, 2))) goto done;
  }
  if ((st = pm_parts_index_build(ctx, &pa, a, 2))) goto done;

  for (size_t i = 0; i <= d->n; i++) {
    pm_result *r = &out->results[i];
    GEOSGeometry *part = NULL;
    double num_m2 = 0, den_m2 = 0;
    char *why = NULL;
    if ((st = pm_clip_slot(ctx, spec->id, d, i, &pa, 2, &part, &num_m2))) goto done;
    if (of) {
      GEOSGeometry *og = NULL;
      st = pm_clip_slot(ctx, spec->id, d, i, &po, 2, &og, &den_m2);
      if (og) GEOSGeom_destroy_r(h, og);
      if (!st && den_m2 <= 0)
        st = pm_asprintf(ctx, &why, "no area of '%s' (of) in %s, so there is no share",
                         pm_layer_name(of, spec->of.layer),
                         i < d->n ? "this district" : "the plan area");
    } else {
      den_m2 = slot_area_m2(h, d, i);
      if (den_m2 < 0) {
        den_m2 = 0;
        st = pm_strdup(ctx, &why,
                       "the plan has no districts and the indicator no `of` layer, so there is "
                       "no area to divide by; add `of:` (e.g. the built-up area) or a districts "
                       "layer");
      } else if (den_m2 <= 0) {
        st = pm_strdup(ctx, &why, "the district has no area");
      }
    }
    /* Areas are reported in ha, so a row reads "12.5 ha of 100 ha". */
    if (!st) st = pm_result_set_share(ctx, r, num_m2 / 1e4, den_m2 / 1e4, why);
    free(why);
    if (!st && pm_slot_has_details(d, i) && GEOSisEmpty_r(h, part) == 0)
      st = pm_indicator_result_add_detail_geom(ctx, out, "measured", r->district, r->district,
                                               pm_layer_name(layer, spec->layer.layer), -1, NAN, NULL,
                                               part);
    GEOSGeom_destroy_r(h, part);
    if (st) goto done;
  }
  if (!(st = pm__metric_finish(ctx, out)) && !(st = pm_add_target_gaps(ctx, d, out, "%")))
    st = pm__metric_finish(ctx, out); /* sort the gaps just added */

done:
  pm_parts_index_free(ctx, &pa);
  pm_parts_index_free(ctx, &po);
  if (a) GEOSGeom_destroy_r(h, a);
  if (o) GEOSGeom_destroy_r(h, o);
  return st;
}

/* ---------- registry row ---------- */

#define OFF(f) offsetof(pm_indicator_spec, f)
static const pm_param PARAMS[] = {
    {"layer", PM_PARAM_REF, OFF(layer), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the polygons whose area is measured"},
    {"where", PM_PARAM_WHERE, OFF(layer), 0, NULL, NULL, NULL, NULL, "filter of the layer"},
    {"of", PM_PARAM_REF, OFF(of), 0, NULL, NULL, NULL, NULL,
     "the denominator polygons (default: the district)"},
};
#undef OFF

static const pm_detail_role ROLES[] = {{"measured", PM_ROLE_MEASURED, "nearest", 0}};
static const char *const UNITS[] = {"%", NULL};

static pm_status compute(pm_context *ctx, const pm_indicator_spec *spec, const pm_metric_input *in,
                         const pm_districts *d, pm_indicator_result *out) {
  return pm_area_share(ctx, spec, in[0].v[0], in[2].n ? in[2].v[0] : NULL, d, out);
}

const pm_metric_kind pm__kind_area_share = {
    .name = "area_share",
    .summary = "area of the dissolved selection inside the district over the area of `of`",
    .params = PARAMS,
    .n_params = PM_ARRAY_LEN(PARAMS),
    .units = UNITS,
    .roles = ROLES,
    .n_roles = PM_ARRAY_LEN(ROLES),
    .compute = compute,
};
