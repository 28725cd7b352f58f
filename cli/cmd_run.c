/* cmd_run.c: `planmetrics run` (a plan's indicators, reports, exit code) and `planmetrics history`. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "planmetrics/history.h"
#include "planmetrics/report.h"

static const char RUN_HELP[] =
    "usage: planmetrics run PLAN.yaml [--db PROJECT.sqlite] [--json FILE] [--csv FILE] [--md FILE]\n"
    "                      [--district NAME]... [--strict] [--quiet]\n\n"
    "Ingest the plan's layers (only those whose file or options changed since the last run),\n"
    "compute every indicator per district and for the whole plan area (_all), record the run in\n"
    "the project's history and print a summary (or write JSON/CSV/Markdown reports; FILE '-' is\n"
    "standard output). Each report needs its own file, at most one goes to standard output, and\n"
    "none may be the project database or the plan file: such options are refused before\n"
    "anything runs.\n\n"
    "  --db FILE        project database (default: the plan's `db:`, else PLAN_ID.sqlite next to it)\n"
    "  --district NAME  only this district of the plan's scope (repeatable)\n"
    "  --strict         count indicators without a value (no data, empty denominator) as missed\n"
    "  --no-history     do not record the run (nor collect the per-feature details only the\n"
    "                   history keeps, for export and HTML maps: faster, less memory)\n"
    "  --threads N      compute on N threads (default: 2 on a multi-core machine); the results do\n"
    "                   not depend on N\n"
    "  --timeout SECONDS  stop an SQL statement (a filter) working longer than this (default 60;\n"
    "                   0: no limit); SQLite's memory is limited to 1 GB\n"
    "  --quiet          no notices (layers ingested, repaired, missing), no progress bars and no\n"
    "                   \"Layers: ...\" line; the summary table is still printed, as it is the\n"
    "                   result (on standard error when a report goes to standard output)\n\n"
    "Reports are written in full before the run is recorded and put in place after it, so a\n"
    "failed run leaves neither. Another planmetrics writing the same project is waited for (up\n"
    "to 60 s, PLANMETRICS_WAIT=SECONDS).\n\n"
    "Exit codes: 0 all targets met, 1 some target missed, 2 error (nothing written).\n";

typedef struct report_paths {
  const char *json, *csv, *md;
  pm_report_files *files;
} report_paths;

/* Reports are written before the run is committed (if one cannot be written, nothing is
 * recorded) and put in place after (if the commit fails, no report appears). The run may be
 * attempted twice (a new project created meanwhile by another process): start afresh. */
static pm_status write_reports(pm_context *ctx, const pm_run_result *run, void *user) {
  report_paths *p = user;
  pm_report_files_destroy(p->files);
  p->files = NULL;
  pm_status st = pm_report_files_create(ctx, &p->files);
  if (!st && p->json) st = pm_report_files_add(p->files, PM_REPORT_JSON, run, p->json);
  if (!st && p->csv) st = pm_report_files_add(p->files, PM_REPORT_CSV, run, p->csv);
  if (!st && p->md) st = pm_report_files_add(p->files, PM_REPORT_MARKDOWN, run, p->md);
  return st;
}

static int strict_missed(const pm_run_result *run) {
  for (size_t i = 0; i < run->n_indicators; i++)
    for (size_t k = 0; k < run->indicators[i].n_results; k++) {
      const pm_result *r = &run->indicators[i].results[k];
      /* A manual figure is the plan area's: its district rows are null by design. */
      if (run->indicators[i].status == PM_IND_MANUAL && k + 1 < run->indicators[i].n_results) continue;
      if (run->indicators[i].has_target && !r->has_value) return 1;
    }
  return 0;
}

int pm_cmd_run(pm_cli *cli, int argc, char **argv) {
  static const struct option longopts[] = {
      {"db", required_argument, NULL, 'd'},      {"json", required_argument, NULL, 'j'},
      {"csv", required_argument, NULL, 'c'},     {"md", required_argument, NULL, 'm'},
      {"district", required_argument, NULL, 'D'}, {"strict", no_argument, NULL, 's'},
      {"no-history", no_argument, NULL, 'n'},    {"threads", required_argument, NULL, 't'},
      {"timeout", required_argument, NULL, 'T'}, {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *json = NULL, *csv = NULL, *md = NULL;
  const char *districts[64];
  pm_run_options opt = {.record = 1, .districts = districts, .timeout_s = PM_STORE_TIMEOUT_S};
  int strict = 0, c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case 'd': opt.db = optarg; break;
    case 'j': json = optarg; break;
    case 'c': csv = optarg; break;
    case 'm': md = optarg; break;
    case 'D':
      if (opt.n_districts == 64) return pm_cli_usage("run", "at most 64 --district options");
      districts[opt.n_districts++] = optarg;
      break;
    case 's': strict = 1; break;
    case 'n': opt.record = 0, opt.skip_details = 1; break;
    case 't': {
      char *end = NULL;
      long v = strtol(optarg, &end, 10);
      if (!end || *end || v < 1 || v > 8) return pm_cli_usage("run", "--threads takes 1 to 8");
      opt.threads = (int)v;
      break;
    }
    case 'T':
      if (!pm_cli_parse_seconds(optarg, &opt.timeout_s))
        return pm_cli_usage("run", "--timeout takes seconds (a number >= 0; 0: no limit), not '%s'",
                            optarg);
      break;
    case 'h': fputs(RUN_HELP, stdout); return PM_EXIT_OK;
    case ':': return pm_cli_usage("run", "option %s needs a value", argv[optind - 1]);
    default: return pm_cli_usage("run", "unknown option %s", argv[optind - 1]);
    }
  }
  if (optind != argc - 1) return pm_cli_usage("run", "give one plan file (PLAN.yaml)");
  pm_plan *plan = NULL;
  if (pm_plan_load(cli->ctx, argv[optind], &plan)) return pm_cli_fail(cli);
  const pm_cli_output outs[] = {{"--json", json, 0}, {"--csv", csv, 0}, {"--md", md, 0},
                                {"--db", opt.db ? opt.db : plan->db, 1},
                                {"the plan file", argv[optind], 1}};
  if (pm_cli_check_outputs(cli, outs, sizeof outs / sizeof outs[0], 1)) {
    pm_plan_destroy(plan);
    return pm_cli_fail(cli);
  }
  report_paths paths = {json, csv, md, NULL};
  opt.before_commit = write_reports;
  opt.before_commit_user = &paths;
  pm_run_result *run = NULL;
  pm_run_ingest_log log;
  pm_status st = pm_plan_run(cli->ctx, plan, &opt, &run, &log);
  if (!st && paths.files && (st = pm_report_files_publish(paths.files))) {
    if (run->run_id > 0)
      pm_error_prefix(cli->ctx, "the run was recorded (run %lld) but a report is missing; write it "
                      "again with `planmetrics report --db %s --run %lld`: ",
                      (long long)run->run_id, opt.db ? opt.db : plan->db, (long long)run->run_id);
    pm_run_result_destroy(run);
  }
  pm_report_files_destroy(paths.files);
  if (st) {
    pm_plan_destroy(plan);
    int rc = pm_cli_fail(cli);
    /* The ingest notices were held back: say that those layers were not kept either. */
    if (log.n_ingested && !cli->quiet)
      fprintf(stderr, "planmetrics: the run failed: nothing was kept (the %zu layer%s ingested in "
                      "this run %s rolled back)\n",
              log.n_ingested, log.n_ingested == 1 ? "" : "s", log.n_ingested == 1 ? "was" : "were");
    return rc;
  }
  int to_stdout = (json && !strcmp(json, "-")) || (csv && !strcmp(csv, "-")) || (md && !strcmp(md, "-"));
  /* The summary table is the result: --quiet keeps it and drops only the layer line. */
  FILE *out = to_stdout ? stderr : stdout;
  st = pm_report_print_summary(cli->ctx, run, out, cli->color && !to_stdout);
  if (!st && !cli->quiet)
    fprintf(out, "Layers: %zu ingested, %zu unchanged, %zu missing (optional). Project: %s\n",
            log.n_ingested, log.n_skipped, log.n_missing, opt.db ? opt.db : plan->db);
  int rc = st ? PM_EXIT_ERROR
              : (pm_run_result_exit_code(run) || (strict && strict_missed(run))) ? PM_EXIT_MISSED
                                                                                 : PM_EXIT_OK;
  pm_run_result_destroy(run);
  pm_plan_destroy(plan);
  return st ? pm_cli_fail(cli) : rc;
}

static const char HISTORY_HELP[] =
    "usage: planmetrics history PLAN.yaml [--db PROJECT.sqlite] [--indicator ID] [--json]\n"
    "       planmetrics history --db PROJECT.sqlite [--indicator ID] [--json]\n\n"
    "Show each indicator's value per district across the recorded runs (the latest runs side by\n"
    "side, each headed by its run id and when it finished, UTC), with met (✓) or missed (✗).\n"
    "Indicators that had no data in any run are left out (and named under the table).\n\n"
    "  --db FILE        project database (default: the plan's)\n"
    "  --indicator ID   only this indicator (shown even when it never had data)\n"
    "  --json           every recorded run and result as JSON on standard output\n";

int pm_cmd_history(pm_cli *cli, int argc, char **argv) {
  static const struct option longopts[] = {{"db", required_argument, NULL, 'd'},
                                           {"indicator", required_argument, NULL, 'i'},
                                           {"json", no_argument, NULL, 'j'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char *db = NULL;
  pm_history_options hopt = {0};
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'i': hopt.indicator_id = optarg; break;
    case 'j': hopt.json = 1; break;
    case 'h': fputs(HISTORY_HELP, stdout); return PM_EXIT_OK;
    case ':': return pm_cli_usage("history", "option %s needs a value", argv[optind - 1]);
    default: return pm_cli_usage("history", "unknown option %s", argv[optind - 1]);
    }
  }
  if (optind < argc - 1) return pm_cli_usage("history", "give at most one plan file");
  if (optind == argc && !db) return pm_cli_usage("history", "give a plan file or --db");
  pm_plan *plan = NULL;
  if (optind == argc - 1 && pm_plan_load(cli->ctx, argv[optind], &plan)) return pm_cli_fail(cli);
  pm_store *store = NULL;
  pm_status st = pm_store_open(cli->ctx, db ? db : plan->db, PM_STORE_READONLY, &store, NULL);
  hopt.plan_id = plan ? plan->id : NULL;
  if (!st) st = pm_history_print(cli->ctx, store, &hopt, stdout);
  pm_store_close(store);
  pm_plan_destroy(plan);
  return st ? pm_cli_fail(cli) : PM_EXIT_OK;
}
