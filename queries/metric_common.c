/* metric_common.c: what every metric kind does before and after measuring. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/measure.h"
#include "engine/internal.h"
#include "planmetrics/network.h"
#include "queries/metric_internal.h"

pm_status pm__metric_begin(pm_context *ctx, const pm_indicator_spec *spec, const char *default_metric,
                          const char *unit, const pm_districts *d, pm_indicator_result *out) {
  memset(out, 0, sizeof *out);
  pm_status st;
  if ((st = pm_strdup(ctx, &out->id, spec->id)) || (st = pm_strdup(ctx, &out->title, spec->title)) ||
      (st = pm_strdup(ctx, &out->metric, spec->metric ? spec->metric : default_metric)) ||
      (st = pm_strdup(ctx, &out->unit, unit ? unit : spec->unit)))
    return st;
  if ((st = pm_indicator_spec_to_json(ctx, spec, &out->params)) ||
      (st = pm_strdup(ctx, &out->distance, spec->distance)))
    return st;
  out->status = PM_IND_COMPUTED;
  out->has_target = spec->has_target;
  memcpy(out->target_op, spec->target_op, sizeof out->target_op);
  out->target_op[sizeof out->target_op - 1] = '\0';
  out->target_value = spec->has_target ? spec->target_value : NAN;
  size_t n = d->n + 1;
  const char **names = malloc(n * sizeof *names);
  if (!names) return pm_error(ctx, PM_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) names[i] = pm_districts_name(d, i);
  st = pm_indicator_result_init_results(ctx, out, names, n);
  free(names);
  return st;
}

pm_status pm__metric_finish(pm_context *ctx, pm_indicator_result *out) {
  (void)ctx;
  for (size_t i = 0; i < out->n_results; i++) pm_result_sort_gaps(&out->results[i]);
  pm_indicator_result_apply_target(out);
  return PM_OK;
}

pm_status pm__metric_geos_failed(pm_context *ctx, const pm_indicator_spec *spec, const char *what) {
  return pm_geos_failed(ctx, spec->id, what);
}

pm_status pm__metric_network_info(pm_context *ctx, const pm_indicator_spec *spec,
                                  const pm_network *net, const char *unroutable_json,
                                  pm_indicator_result *out) {
  const pm_network_info *info = pm_network_get_info(net);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return pm_error(ctx, PM_ENOMEM, "out of memory");
  fputs("{\"layer\": ", f);
  pm__json_string(f, spec->network.layer.layer);
  fputs(", \"where\": ", f);
  pm__json_string(f, spec->network.layer.where);
  fputs(", \"connect\": ", f);
  pm__json_string(f, spec->network.connect);
  fprintf(f,
          ", \"nodes\": %u, \"edges\": %u, \"components\": %u, \"largest_share\": %.6g, "
          "\"length_km\": %.6g, \"islands\": %u, \"max_snap_m\": %.10g, \"unroutable\": %s}",
          info->n_nodes, info->n_edges, info->n_components, info->largest_share,
          info->length_m / 1000, info->n_islands, spec->network.max_snap_m,
          unroutable_json ? unroutable_json : "null");
  if (fclose(f) != 0 || !buf) {
    free(buf);
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  free(out->network);
  out->network = buf;
  return PM_OK;
}
