/* runner.h: run a plan: ingest what changed, compute every indicator, record the run. */
#ifndef PLANMETRICS_RUNNER_H
#define PLANMETRICS_RUNNER_H

#include "planmetrics/context.h"
#include "planmetrics/plan.h"
#include "planmetrics/result.h"
#include "planmetrics/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_run_options {
  const char *db;                 /* project database; NULL: the plan's (default next to it) */
  const char *const *districts;   /* restrict to these districts of the plan's scope (may be NULL) */
  size_t n_districts;
  int record;                     /* write the run to the history (1 for `planmetrics run`) */
  int threads;                    /* indicators computed in parallel (0: number of cores, max 2) */
  /* Called with the finished run before it is committed (e.g. to write reports); an error rolls
   * the whole run back, so a failed report leaves nothing written. May be NULL. */
  pm_status (*before_commit)(pm_context *ctx, const pm_run_result *run, void *user);
  void *before_commit_user;
  double timeout_s;               /* limit on each SQL statement (pm_store_set_timeout); 0: none */
  int skip_details;               /* results without details (pm_indicator_result.details): they
                                   * only serve the history, export and HTML, so a run that records
                                   * nothing (record 0) is faster and smaller without them */
} pm_run_options;

/* What changed during the run's ingest step, for the terminal and batch logs. When the run fails,
 * the counts stay as they were when it stopped: the n_ingested layers were then rolled back with
 * the rest (nothing is kept). */
typedef struct pm_run_ingest_log {
  size_t n_layers, n_ingested, n_skipped, n_missing;
} pm_run_ingest_log;

/* Run a plan. Layers are ingested (only those whose file or options changed), districts loaded,
 * every indicator computed, and, with opt->record, the run stored in the history, all in one
 * transaction: on error nothing is written (a new project is built beside its name and put in
 * place only when the run is committed, see pm_store_open; when another process created it
 * first, the run is done again on that project). before_commit may run twice then.
 * Indicators whose layers are missing (optional layers without a file) get status "no data".
 * Notices (ingested layers, repaired geometries...) are held until the run is committed, then
 * passed to the context's printer in order; when the run fails, the "ingested LAYER" lines are
 * dropped (nothing was kept) and the others passed on before returning.
 * The caller frees *out with pm_run_result_destroy. log may be NULL. */
PM_API pm_status pm_plan_run(pm_context *ctx, const pm_plan *plan, const pm_run_options *opt,
                      pm_run_result **out, pm_run_ingest_log *log);

/* 0 when every target with a value is met, 1 when some target is missed (exit-code rule). */
PM_API int pm_run_result_exit_code(const pm_run_result *run);

#ifdef __cplusplus
}
#endif
#endif
