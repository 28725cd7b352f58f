/* history.h: the run history in the project database: every run's results, gaps, classes, details. */
#ifndef PLANMETRICS_HISTORY_H
#define PLANMETRICS_HISTORY_H

#include "planmetrics/context.h"
#include "planmetrics/result.h"
#include "planmetrics/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tables (created on first use, all keyed by run_id):
 *   pm_runs(run_id INTEGER PRIMARY KEY, plan, title, plan_path, plan_hash, crs, started_at,
 *           finished_at, input_hashes (JSON object layer -> sha256), exit_code, districts_layer,
 *           districts_field, timezone, attributions (JSON object layer -> the plan's
 *           `attribution:`, NULL when no layer gives one))
 *   pm_results(run_id, indicator_id, title, metric, unit, status, status_reason, target_op,
 *           target_value, district, value, null_reason, numerator, denominator, has_ratio, met,
 *           n_gaps, ord, ind_ord, has_target, target)
 *       one row per (indicator, district result); ind_ord is the indicator's position in the
 *       run, ord the result's position in the indicator. An indicator without results (no data)
 *       has one row with ord = -1 and district NULL. target_op/target_value are the indicator's
 *       target (NULL without one), has_target/target the result's. value is NULL when the
 *       result has none; met is NULL when there is no verdict (no target or no value), else 0/1.
 *   pm_gaps(run_id, indicator_id, district, ord, id, name, distance_m, shortfall, nearest, note,
 *           x, y, result_ord, gap_district)
 *       district is the district of the result whose gap list holds the gap (so it joins with
 *       pm_results.district, `_all` included); gap_district is the gap's own district.
 *   pm_classes(run_id, indicator_id, district, label, count, result_ord, ord)
 *   pm_details(run_id, indicator_id, role, district, id, name, covered, distance_m, nearest,
 *           ord, geom)
 *       geom is a registered SpatiaLite GEOMETRY column (XY) in the project CRS, so QGIS and
 *       export can read the details directly.
 * NULL numbers (NAN in memory) are SQL NULL. */

/* Record a finished run: its results, gaps, classes and details. Must be called inside the
 * caller's transaction (pm_store_begin ... pm_store_commit), so a failed run records nothing.
 * run->generated_at is stored as finished_at (now when NULL); started_at, plan_path and
 * input_hashes_json (a JSON object layer -> SHA-256) may be NULL. *run_id (may be NULL) receives
 * the new run's id. run is borrowed and not changed. */
PM_API pm_status pm_history_record(pm_store *store, const pm_run_result *run, const char *plan_path,
                            const char *input_hashes_json, const char *started_at, int exit_code,
                            int64_t *run_id);

/* Rebuild a recorded run exactly as it was recorded (results, gaps, classes, details with their
 * WKB), with run_id set and generated_at = finished_at (a reason "no data: ..." recorded by an
 * older planmetrics loses its "no data: ", which the writers add). run_id 0 means the latest
 * run. An unknown run or an empty history is PM_ENOTFOUND. The caller frees *out with pm_run_result_destroy. */
PM_API pm_status pm_history_load_run(pm_store *store, int64_t run_id, pm_run_result **out);

/* One recorded run (pm_runs row). */
typedef struct pm_history_run {
  int64_t run_id;
  char *plan;
  char *title;
  char *plan_path;
  char *plan_hash;
  char *crs;
  char *started_at;
  char *finished_at;
  char *input_hashes; /* JSON text, or NULL */
  int exit_code;
  char *districts_layer;      /* the plan's districts layer and name field, NULL without (or */
  char *districts_name_field; /* for runs recorded by planmetrics 0.1) */
  char *timezone;             /* the plan's time zone, NULL for runs of planmetrics 0.1 */
} pm_history_run;

/* The recorded runs of a plan (plan_id NULL: of every plan), oldest first. An empty history gives
 * *n = 0 and PM_OK. The caller frees with pm_history_runs_destroy(*runs, *n). */
PM_API pm_status pm_history_runs(pm_store *store, const char *plan_id, pm_history_run **runs, size_t *n);
PM_API void pm_history_runs_destroy(pm_history_run *runs, size_t n);

/* One indicator result of one run: the progress of a district across runs. */
typedef struct pm_history_row {
  int64_t run_id;
  char *finished_at;  /* when the run finished (ISO 8601 UTC) */
  char *plan;
  char *indicator_id;
  char *title;
  char *unit;
  char *status;       /* "computed", "no data", "manual" */
  char *district;     /* NULL for an indicator without results */
  int has_value;
  double value;       /* NAN without a value */
  char *null_reason;
  int has_target;
  char target_op[3];
  double target;      /* NAN without a target */
  int met;            /* 1 met, 0 missed, -1 no verdict (no target or no value) */
  int64_t n_gaps;
} pm_history_row;

/* Per run, per indicator, per district: value, target and verdict, ordered by run (oldest
 * first), then indicator and district in the run's order. plan_id NULL lists every plan.
 * The caller frees with pm_history_rows_destroy(*rows, *n). */
PM_API pm_status pm_history_list(pm_store *store, const char *plan_id, pm_history_row **rows, size_t *n);
PM_API void pm_history_rows_destroy(pm_history_row *rows, size_t n);

#ifdef __cplusplus
}
#endif
#endif
