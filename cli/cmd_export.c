/* cmd_export.c: `planmetrics export`: a recorded run as a styled GeoPackage and a QGIS project. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "planmetrics/export.h"

static const char EXPORT_HELP[] =
    "usage: planmetrics export --db PROJECT.sqlite --gpkg OUT.gpkg [--run ID|latest]\n"
    "                         [--qgs OUT.qgz|OUT.qgs]\n\n"
    "Write a recorded run (by default the latest) as a GeoPackage in the project CRS: the\n"
    "project's input layers, one layer per indicator and detail (<indicator>_station,\n"
    "<indicator>_segment, <indicator>_service_area...), the district polygons with each\n"
    "indicator's value and verdict (<indicator>_districts), a run_results table, and QGIS\n"
    "default styles (covered green, not covered red; districts met green, missed red).\n"
    "With --qgs, also a QGIS project that opens every layer styled, zoomed to the plan area.\n"
    "Nothing is recomputed: the numbers are those of the recorded run. Existing files are\n"
    "replaced only when the export succeeds; the two files must differ from each other and from\n"
    "the project database.\n\n"
    "  --db FILE     project database (the plan's `db:`)\n"
    "  --run ID      a run id from `planmetrics history`, or `latest` (default)\n"
    "  --gpkg FILE   the GeoPackage to write\n"
    "  --qgs FILE    the QGIS project to write (.qgz zipped, .qgs plain XML); its layers point at\n"
    "                the GeoPackage by a relative path, so keep the two files together\n";

static int parse_run(const char *s, int64_t *out) {
  if (strcmp(s, "latest") == 0) {
    *out = 0;
    return 0;
  }
  char *end = NULL;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (errno || !end || *end || end == s || v <= 0) return -1;
  *out = (int64_t)v;
  return 0;
}

int pm_cmd_export(pm_cli *cli, int argc, char **argv) {
  static const struct option longopts[] = {
      {"db", required_argument, NULL, 'd'},   {"run", required_argument, NULL, 'r'},
      {"gpkg", required_argument, NULL, 'g'}, {"qgs", required_argument, NULL, 'q'},
      {"qgz", required_argument, NULL, 'q'},  {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *db = NULL;
  pm_export_options opt = {0};
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
      case 'd': db = optarg; break;
      case 'r':
        if (parse_run(optarg, &opt.run_id))
          return pm_cli_usage("export", "--run takes a run id (a number from `planmetrics "
                                        "history`) or `latest`, not '%s'", optarg);
        break;
      case 'g': opt.gpkg_path = optarg; break;
      case 'q': opt.qgs_path = optarg; break;
      case 'h': fputs(EXPORT_HELP, stdout); return PM_EXIT_OK;
      case ':': return pm_cli_usage("export", "option %s needs a value", argv[optind - 1]);
      default: return pm_cli_usage("export", "unknown option %s", argv[optind - 1]);
    }
  }
  if (optind != argc) return pm_cli_usage("export", "unexpected argument '%s'", argv[optind]);
  if (!db) return pm_cli_usage("export", "give the project database with --db PROJECT.sqlite");
  if (!opt.gpkg_path) return pm_cli_usage("export", "give the GeoPackage to write with --gpkg OUT.gpkg");
  const pm_cli_output outs[] = {{"--gpkg", opt.gpkg_path, 0}, {"--qgs", opt.qgs_path, 0},
                                {"--db", db, 1}};
  if (pm_cli_check_outputs(cli, outs, sizeof outs / sizeof outs[0], 0)) return pm_cli_fail(cli);
  pm_store *store = NULL;
  if (pm_store_open(cli->ctx, db, PM_STORE_READONLY, &store, NULL)) return pm_cli_fail(cli);
  pm_export_report rep;
  pm_status st = pm_export(cli->ctx, store, &opt, &rep);
  pm_store_close(store);
  if (st) return pm_cli_fail(cli);
  if (!cli->quiet) {
    printf("Exported run %lld of plan %s to %s: %zu input, %zu result and %zu district layers, "
           "%lld features, %zu QGIS styles.\n",
           (long long)rep.run_id, rep.plan ? rep.plan : "?", opt.gpkg_path, rep.n_input_layers,
           rep.n_result_layers, rep.n_district_layers, (long long)rep.n_features, rep.n_styles);
    if (rep.districts_layer)
      printf("District polygons: layer %s, field %s.\n", rep.districts_layer, rep.districts_field);
    if (opt.qgs_path) printf("QGIS project: %s (open it in QGIS 3).\n", opt.qgs_path);
  }
  pm_export_report_clear(&rep);
  return PM_EXIT_OK;
}
