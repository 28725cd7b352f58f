/* main.c: the planmetrics command: parse the sub-command and hand over to it. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

typedef struct command {
  const char *name;
  int (*run)(pm_cli *cli, int argc, char **argv);
  const char *summary;
} command;

static const command COMMANDS[] = {
    {"ingest", pm_cmd_ingest, "load a layer (Shapefile, GeoPackage, GeoJSON, CSV, OSM) into a project"},
    {"info", pm_cmd_info, "list a project's layers with kind, geometry type, count, extent, CRS"},
    {"run", pm_cmd_run, "compute a plan's indicators, write reports, record the run"},
    {"history", pm_cmd_history, "show indicators' values across recorded runs"},
    {"report", pm_cmd_report, "write a recorded run's reports: HTML page with maps, JSON, CSV, Markdown"},
    {"export", pm_cmd_export, "write a run as a styled GeoPackage and a QGIS project"},
    {"query", pm_cmd_query, "ad-hoc questions: nearest feature, features in a district, length, "
                            "what a walk reaches, the walk between two places"},
    {"network", pm_cmd_network, "the walking network of a line layer: pieces, dead ends, islands"},
    {"sql", pm_cmd_sql, "run one read-only SpatiaLite SQL statement on a project"},
    {"metrics", pm_cmd_metrics, "list the metric kinds a plan can use, with their parameters"},
};

static void usage(FILE *out) {
  fprintf(out,
          "planmetrics %s: spatial indicators of city plans from source layers\n\n"
          "usage: planmetrics COMMAND [options]   (planmetrics COMMAND --help for its options)\n\n",
          PLANMETRICS_VERSION);
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    fprintf(out, "  %-9s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
  fprintf(out, "\nGlobal option: --quiet: no notices, progress bars or confirmation lines (\"Wrote "
               "...\", \"Exported ...\"); results (run's summary table, query answers) are still "
               "printed.\nExit codes: 0 ok / all targets met, 1 some target missed, 2 error.\n");
}

static const char METRICS_HELP[] =
    "usage: planmetrics metrics [--markdown]\n\n"
    "List the metric kinds a plan's indicators can use: what each measures, its unit, every\n"
    "parameter with its type and default, and the detail layers it saves with a run.\n"
    "  --markdown   Markdown tables (as in docs/metrics.md)\n";

int pm_cmd_metrics(pm_cli *cli, int argc, char **argv) {
  int markdown = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--markdown") == 0) {
      markdown = 1;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(METRICS_HELP, stdout);
      return PM_EXIT_OK;
    } else {
      return pm_cli_usage("metrics", "unknown option '%s'", argv[i]);
    }
  }
  if (pm_report_write_metrics(stdout, markdown) != PM_OK || fflush(stdout) != 0) {
    pm_error(cli->ctx, PM_EIO, "cannot write to standard output");
    return pm_cli_fail(cli);
  }
  return PM_EXIT_OK;
}

int main(int argc, char **argv) {
  setlocale(LC_CTYPE, "C.UTF-8");
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? PM_EXIT_ERROR : PM_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("planmetrics %s\n", PLANMETRICS_VERSION);
    return PM_EXIT_OK;
  }
  pm_cli cli = {0};
  /* --quiet may stand anywhere, before or after the command; remove it before parsing. */
  int n = 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
      cli.quiet = 1;
    else
      argv[n++] = argv[i];
  }
  argc = n;
  argv[argc] = NULL;
  if (argc < 2) {
    usage(stderr);
    return PM_EXIT_ERROR;
  }
  const command *cmd = NULL;
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    if (strcmp(argv[1], COMMANDS[i].name) == 0) cmd = &COMMANDS[i];
  if (!cmd) {
    fprintf(stderr, "planmetrics: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return PM_EXIT_ERROR;
  }
  cli.tty = isatty(STDERR_FILENO);
  cli.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
  if (pm_context_create(&cli.ctx) != PM_OK) {
    fprintf(stderr, "planmetrics: out of memory\n");
    return PM_EXIT_ERROR;
  }
  pm_cli_setup_output(&cli);
  int rc = cmd->run(&cli, argc - 1, argv + 1);
  pm_context_destroy(cli.ctx);
  return rc;
}
