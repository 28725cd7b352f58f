/* cmd_report.c: `planmetrics report`: write reports (HTML, JSON, CSV, Markdown) of a recorded run. */
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
#include "planmetrics/html.h"
#include "planmetrics/report.h"

static const char REPORT_HELP[] =
    "usage: planmetrics report --db PROJECT.sqlite [--run ID|latest] --html FILE\n"
    "                          [--json FILE] [--csv FILE] [--md FILE]\n"
    "       planmetrics report PLAN.yaml [--db PROJECT.sqlite] [--run ID|latest] --html FILE\n\n"
    "Write reports of a run recorded in the project's history, as it was recorded (nothing is\n"
    "recomputed). --html writes one self-contained page (no network needed): per indicator the\n"
    "value per district against the target, a map of what passes and what fails, the gap list\n"
    "and, with two or more recorded runs, the values across runs. FILE '-' is standard output\n"
    "(for at most one report); each report needs its own file.\n\n"
    "  --db FILE     project database (default: the plan's)\n"
    "  --run ID      the run to report (see `planmetrics history`); default latest: the latest run\n"
    "                (of the plan, when a plan file is given)\n"
    "  --html FILE   the HTML page\n"
    "  --json FILE, --csv FILE, --md FILE   the same reports as `planmetrics run` writes\n\n"
    "Exit codes: 0 written, 2 error (nothing written).\n";

/* "latest" (0) or a positive run id. */
static int parse_run(const char *s, int64_t *id) {
  if (strcmp(s, "latest") == 0) {
    *id = 0;
    return 0;
  }
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || !end || *end || end == s || v <= 0) return -1;
  *id = (int64_t)v;
  return 0;
}

/* The latest run of plan_id, or PM_ENOTFOUND with a message saying how to record one. */
static pm_status latest_of_plan(pm_cli *cli, pm_store *store, const char *plan_id, int64_t *id) {
  pm_history_run *runs = NULL;
  size_t n = 0;
  pm_status st = pm_history_runs(store, plan_id, &runs, &n);
  if (!st && n == 0)
    st = pm_error(cli->ctx, PM_ENOTFOUND,
                  "%s: no recorded run of plan '%s'; record one with `planmetrics run PLAN.yaml`",
                  pm_store_path(store), plan_id);
  if (!st) *id = runs[n - 1].run_id;
  pm_history_runs_destroy(runs, n);
  return st;
}

int pm_cmd_report(pm_cli *cli, int argc, char **argv) {
  static const struct option longopts[] = {
      {"db", required_argument, NULL, 'd'},   {"run", required_argument, NULL, 'r'},
      {"html", required_argument, NULL, 'H'}, {"json", required_argument, NULL, 'j'},
      {"csv", required_argument, NULL, 'c'},  {"md", required_argument, NULL, 'm'},
      {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
  const char *db = NULL, *html = NULL, *json = NULL, *csv = NULL, *md = NULL;
  int64_t run_id = 0;
  int run_given = 0, c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': db = optarg; break;
      case 'r':
        if (parse_run(optarg, &run_id))
          return pm_cli_usage("report", "--run takes a run id (a positive number) or 'latest', "
                                        "not '%s'; `planmetrics history` lists the runs",
                              optarg);
        run_given = run_id != 0;
        break;
      case 'H': html = optarg; break;
      case 'j': json = optarg; break;
      case 'c': csv = optarg; break;
      case 'm': md = optarg; break;
      case 'h': fputs(REPORT_HELP, stdout); return PM_EXIT_OK;
      case ':': return pm_cli_usage("report", "option %s needs a value", argv[optind - 1]);
      default: return pm_cli_usage("report", "unknown option %s", argv[optind - 1]);
    }
  }
  if (optind < argc - 1) return pm_cli_usage("report", "give at most one plan file");
  if (optind == argc && !db) return pm_cli_usage("report", "give --db PROJECT.sqlite (or a plan file)");
  if (!html && !json && !csv && !md)
    return pm_cli_usage("report", "give at least one output: --html FILE (or --json/--csv/--md)");
  int n_stdout = (html && !strcmp(html, "-")) + (json && !strcmp(json, "-")) +
                 (csv && !strcmp(csv, "-")) + (md && !strcmp(md, "-"));
  pm_plan *plan = NULL;
  if (optind == argc - 1 && pm_plan_load(cli->ctx, argv[optind], &plan)) return pm_cli_fail(cli);
  const pm_cli_output outs[] = {{"--html", html, 0}, {"--json", json, 0}, {"--csv", csv, 0},
                                {"--md", md, 0}, {"--db", db ? db : plan->db, 1},
                                {"the plan file", plan ? argv[optind] : NULL, 1}};
  if (pm_cli_check_outputs(cli, outs, sizeof outs / sizeof outs[0], 1)) {
    pm_plan_destroy(plan);
    return pm_cli_fail(cli);
  }
  pm_store *store = NULL;
  pm_status st = pm_store_open(cli->ctx, db ? db : plan->db, PM_STORE_READONLY, &store, NULL);
  if (!st && !run_given && plan) st = latest_of_plan(cli, store, plan->id, &run_id);
  if (!st && html) st = pm_html_write_report(store, run_id, html);
  if (!st && (json || csv || md)) {
    pm_run_result *run = NULL;
    st = pm_history_load_run(store, run_id, &run);
    if (!st && json) st = pm_report_write_json(cli->ctx, run, json);
    if (!st && csv) st = pm_report_write_csv(cli->ctx, run, csv);
    if (!st && md) st = pm_report_write_markdown(cli->ctx, run, md);
    pm_run_result_destroy(run);
  }
  if (!st && !cli->quiet && html && strcmp(html, "-") != 0)
    fprintf(n_stdout ? stderr : stdout, "Wrote %s\n", html);
  pm_store_close(store);
  pm_plan_destroy(plan);
  return st ? pm_cli_fail(cli) : PM_EXIT_OK;
}
