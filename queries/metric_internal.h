/* metric_internal.h: what the metric kinds share (internal to queries/). */
#ifndef PM_QUERIES_METRIC_INTERNAL_H
#define PM_QUERIES_METRIC_INTERNAL_H

#include "planmetrics/metrics.h"

/* Shared start of every metric: copy spec id/title and target into out, the metric name
 * (spec->metric, else default_metric) and the unit (unit when not NULL: the unit the metric reports
 * in; else spec->unit), and create one empty result per district of d, then `_all` (status
 * PM_IND_COMPUTED). */
pm_status pm__metric_begin(pm_context *ctx, const pm_indicator_spec *spec, const char *default_metric,
                          const char *unit, const pm_districts *d, pm_indicator_result *out);
/* Shared end: sort every result's gaps worst first and apply the target. */
pm_status pm__metric_finish(pm_context *ctx, pm_indicator_result *out);

/* A failed GEOS call while computing spec's indicator (pm_geos_failed with its id). */
pm_status pm__metric_geos_failed(pm_context *ctx, const pm_indicator_spec *spec, const char *what);

/* out->network for a metric measured along net: the network as the spec names it (layer, filter,
 * connect) and as built (nodes, edges, pieces, length, islands), with the metric's unroutable
 * points (unroutable_json: a JSON value, e.g. {"stations": 1, "stops": 3}). */
pm_status pm__metric_network_info(pm_context *ctx, const pm_indicator_spec *spec,
                                  const struct pm_network *net, const char *unroutable_json,
                                  pm_indicator_result *out);

#endif
