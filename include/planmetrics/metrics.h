/* metrics.h: the metric kinds of METRICS.md §2, each computed on features already in memory. */
#ifndef PLANMETRICS_METRICS_H
#define PLANMETRICS_METRICS_H

#include "planmetrics/context.h"
#include "planmetrics/districts.h"
#include "planmetrics/features.h"
#include "planmetrics/plan.h"
#include "planmetrics/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every metric function fills `out` (which the caller zeroed and later clears with
 * pm_indicator_result_clear): copies of spec id/title/metric/unit, one pm_result per district in
 * `d` then `_all` (in that order), gaps sorted worst first, details for export, and the target
 * applied. Inputs are borrowed. Distances are inclusive (d <= threshold). */

/* Shared start of every metric: copy spec id/title and target into out, the metric name
 * (spec->metric, else default_metric) and the unit (unit when not NULL: the unit the metric reports
 * in; else spec->unit), and create one empty result per district of d, then `_all` (status
 * PM_IND_COMPUTED). */
pm_status pm_metric_begin(pm_context *ctx, const pm_indicator_spec *spec, const char *default_metric,
                          const char *unit, const pm_districts *d, pm_indicator_result *out);
/* Shared end: sort every result's gaps worst first and apply the target. */
pm_status pm_metric_finish(pm_context *ctx, pm_indicator_result *out);

/* METRICS.md §2 transfer_coverage. entrances may be NULL. stops must carry attribute
 * spec->routes_field when spec->basis is "route"; entrances carry spec->entrance_station_field
 * when given. */
pm_status pm_transfer_coverage(pm_context *ctx, const pm_indicator_spec *spec,
                               const pm_features *stations, const pm_features *stops,
                               const pm_features *entrances, const pm_districts *d,
                               pm_indicator_result *out);

/* §2 length. within[i]/near[i] are the selections of spec->within/near; share_of may be NULL. */
pm_status pm_length(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *lines,
                    const pm_features *const *within, size_t n_within,
                    const pm_features *const *near, size_t n_near, const pm_features *share_of,
                    const pm_districts *d, pm_indicator_result *out);

/* §2 coverage. population may be NULL (the district polygons are the denominator); it carries
 * attribute spec->weight_field when given. */
pm_status pm_coverage(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *sources,
                      const pm_features *population, const pm_districts *d,
                      pm_indicator_result *out);

/* §2 area_share. of may be NULL (the district is the denominator). */
pm_status pm_area_share(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                        const pm_features *of, const pm_districts *d, pm_indicator_result *out);

/* §2 count. */
pm_status pm_count(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                   const pm_districts *d, pm_indicator_result *out);

/* §2 line_coverage. by[i] are the selections of spec->by. */
pm_status pm_line_coverage(pm_context *ctx, const pm_indicator_spec *spec,
                           const pm_features *lines, const pm_features *const *by, size_t n_by,
                           const pm_districts *d, pm_indicator_result *out);

#ifdef __cplusplus
}
#endif
#endif
