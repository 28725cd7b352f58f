/* manual.c: `manual` indicators: a non-spatial figure reported by hand in the plan file, so that
 * one report shows the whole plan. */
#include <math.h>
#include <stddef.h>

#include "engine/internal.h"
#include "queries/metric_internal.h"

/* A manual figure is reported for the plan as a whole: it is the plan area's value, and a single
 * district's when the plan covers one district. */
static pm_status compute(pm_context *ctx, const pm_indicator_spec *spec, const pm_metric_input *in,
                         const pm_districts *d, pm_indicator_result *out) {
  (void)in;
  pm_status st = pm__metric_begin(ctx, spec, spec->metric, NULL, d, out);
  if (st) return st;
  out->status = PM_IND_MANUAL;
  if ((st = pm_strdup(ctx, &out->status_reason, "reported in the plan file, not measured")))
    return st;
  for (size_t i = 0; i < out->n_results; i++) {
    pm_result *res = &out->results[i];
    if (!spec->has_manual_value) {
      if ((st = pm_strdup(ctx, &res->null_reason, "not reported yet (value: null in the plan file)")))
        return st;
      continue;
    }
    if (i == out->n_results - 1 || out->n_results == 2) {
      res->has_value = 1;
      res->value = spec->manual_value;
      res->numerator = spec->manual_value;
    } else if ((st = pm_strdup(ctx, &res->null_reason,
                               "a manual figure is reported for the whole plan area only"))) {
      return st;
    }
  }
  return pm__metric_finish(ctx, out);
}

static const pm_param PARAMS[] = {
    {"value", PM_PARAM_NUMBER, 0, PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the reported value (a number, or null when not known yet)"},
};

const pm_metric_kind pm__kind_manual = {
    .name = "manual",
    .summary = "a figure reported by hand in the plan file (not measured)",
    .params = PARAMS,
    .n_params = PM_ARRAY_LEN(PARAMS),
    .units = NULL,
    .compute = compute,
};
