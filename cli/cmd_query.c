/* cmd_query.c: `planmetrics query near|within|length` and `planmetrics sql`: ad-hoc questions. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "planmetrics/history.h"
#include "planmetrics/query.h"

static const char QUERY_HELP[] =
    "usage: planmetrics query VERB --db PROJECT.sqlite [options] [--json | --csv]\n\n"
    "Ad-hoc questions on a project's layers, answered as a table (--json: an array of objects,\n"
    "--csv: RFC 4180 CSV). Distances, lengths and areas are in the project's metric CRS.\n\n"
    "  near     for each feature of one layer, the nearest feature of another and its distance\n"
    "  within   the features of a layer in one district (with the length or area inside)\n"
    "  length   dissolved length of a line layer in km, in all and per district\n\n"
    "`planmetrics query VERB --help` shows a verb's options; `planmetrics sql` runs SQL.\n";

static const char NEAR_HELP[] =
    "usage: planmetrics query near --db PROJECT.sqlite --from LAYER --to LAYER --within METRES\n"
    "                              [--where-from FILTER] [--where-to FILTER] [--misses]\n"
    "                              [--district NAME [--districts LAYER] [--name-field FIELD]]\n"
    "                              [--json | --csv]\n\n"
    "For each feature of FROM, the nearest feature of TO, the distance in metres between the\n"
    "geometries, and whether it is within METRES (inclusive: 50.0 m is within 50). Ties go to\n"
    "the lowest fid. The last line counts the features within.\n\n"
    "  --db FILE            project database\n"
    "  --from LAYER         the features to measure from (e.g. metro_stations)\n"
    "  --to LAYER           the features to look for (e.g. bus_stops)\n"
    "  --within METRES      the distance to test, e.g. 50\n"
    "  --where-from FILTER  SQL filter on FROM's fields, e.g. \"address NOT LIKE '%(在建)%'\"\n"
    "  --where-to FILTER    SQL filter on TO's fields\n"
    "  --misses             list only the features of FROM with nothing of TO within METRES\n"
    "  --district NAME      only the features of FROM in this district (points on its boundary\n"
    "                       included); TO is searched everywhere, also across the boundary\n"
    "  --districts LAYER    polygon layer of the districts (also --districts-layer); default:\n"
    "                       that of the project's latest run, else `districts`\n"
    "  --name-field FIELD   its field holding the names (default: the latest run's, else NAME)\n"
    "  --json, --csv        machine-readable output (the summary line then goes to stderr)\n"
    "  --timeout SECONDS    stop an SQL statement (a filter) working longer (default 60; 0: no\n"
    "                       limit)\n"
    "Examples:\n"
    "  planmetrics query near --db sh.sqlite --from metro_stations --to bus_stops --within 50\n"
    "  planmetrics query near --db sh.sqlite --from metro_stations --to bus_stops --within 50 \\\n"
    "      --district 青浦区 --misses\n";

static const char WITHIN_HELP[] =
    "usage: planmetrics query within --db PROJECT.sqlite --layer LAYER --district NAME\n"
    "                                [--districts-layer LAYER] [--name-field FIELD]\n"
    "                                [--where FILTER] [--json | --csv]\n\n"
    "The features of LAYER in one district. Points count when the district covers them\n"
    "(boundary included); lines and polygons when a part of positive length or area lies\n"
    "inside, reported with that part's length (m) or area (m2) and the whole feature's.\n\n"
    "  --db FILE               project database\n"
    "  --layer LAYER           the layer to look in\n"
    "  --district NAME         the district, e.g. 青浦区\n"
    "  --districts-layer LAYER polygon layer of the districts (also --districts); default: that\n"
    "                          of the project's latest run, else `districts`\n"
    "  --name-field FIELD      its field holding the names (default: the latest run's, else NAME)\n"
    "  --where FILTER          SQL filter on LAYER's fields\n"
    "  --json, --csv           machine-readable output (the summary line then goes to stderr)\n"
    "  --timeout SECONDS       stop an SQL statement (a filter) working longer (default 60)\n";

static const char LENGTH_HELP[] =
    "usage: planmetrics query length --db PROJECT.sqlite --layer LAYER [--where FILTER]\n"
    "                                [--by-district [--districts-layer LAYER]\n"
    "                                 [--name-field FIELD]] [--json | --csv]\n\n"
    "Length in km of the dissolved lines of LAYER: overlapping or duplicated lines count once.\n"
    "With --by-district, the length inside each district, then _all, the part inside the union\n"
    "of the districts.\n\n"
    "  --db FILE               project database\n"
    "  --layer LAYER           a line layer\n"
    "  --where FILTER          SQL filter on LAYER's fields, e.g. \"highway = 'primary'\"\n"
    "  --by-district           one row per district\n"
    "  --districts-layer LAYER polygon layer of the districts (also --districts); default: that\n"
    "                          of the project's latest run, else `districts`\n"
    "  --name-field FIELD      its field holding the names (default: the latest run's, else NAME)\n"
    "  --json, --csv           machine-readable output (the summary line then goes to stderr)\n"
    "  --timeout SECONDS       stop an SQL statement (a filter) working longer (default 60)\n";

static const char SQL_HELP[] =
    "usage: planmetrics sql --db PROJECT.sqlite \"SELECT ...\" [--json | --csv]\n\n"
    "Run one read-only SQL statement on the project database, with SpatiaLite's functions\n"
    "(ST_Length, ST_Area, ST_Distance, Buffer, ...). Each layer is a table with `fid`, its\n"
    "fields and the geometry `geom` in the project CRS. The database is opened read-only and\n"
    "statements that would change it are refused, also SpatiaLite functions that write\n"
    "(DropGeoTable, CreateSpatialIndex, ...); these and GEOS errors inside SpatiaLite functions\n"
    "are errors (exit 2), not answers. Geometry columns print as WKT (what\n"
    "AsText(geom) gives); other binary values as <blob N bytes>. In the table,\n"
    "values wider than 60 columns are cut; --json and --csv give them whole. SQL that starts\n"
    "with a dash (a -- comment) goes after a `--` argument.\n\n"
    "  --db FILE        project database\n"
    "  --json, --csv    machine-readable output\n"
    "  --timeout SECONDS  stop the statement after this long (default 60; 0: no limit); its\n"
    "                   result is limited to 512 MB, SQLite's memory to 1 GB\n"
    "Examples:\n"
    "  planmetrics sql --db sh.sqlite \"SELECT name, kind, n_stored FROM layers\"\n"
    "  planmetrics sql --db sh.sqlite \"PRAGMA table_info(bus_stops)\"\n"
    "  planmetrics sql --db sh.sqlite \"SELECT NAME, ST_Area(geom)/1e6 AS km2 FROM districts\"\n";

enum { OUT_TABLE, OUT_JSON, OUT_CSV };

/* Print the table in the chosen form; a summary beside JSON or CSV goes to stderr so that the
 * data stay machine-readable. */
static int emit(pm_cli *cli, const pm_table *t, int format) {
  pm_status st;
  if (format == OUT_JSON) st = pm_table_write_json(t, stdout);
  else if (format == OUT_CSV) st = pm_table_write_csv(t, stdout);
  else st = pm_table_print(t, stdout);
  if (format != OUT_TABLE && t->summary && !cli->quiet) fprintf(stderr, "%s\n", t->summary);
  if (!st && fflush(stdout) != 0) st = PM_EIO;
  if (st) {
    fprintf(stderr, "planmetrics: error: cannot write the output (%s)\n",
            st == PM_ENOMEM ? "out of memory" : "write error");
    return PM_EXIT_ERROR;
  }
  return PM_EXIT_OK;
}

/* A distance: a plain number of metres >= 0 (a trailing "m" is accepted). */
static int parse_metres(const char *s, double *out) {
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s) return 0;
  if (*end == 'm' && end[1] == '\0') end++;
  if (*end != '\0' || !isfinite(v) || v < 0) return 0;
  *out = v;
  return 1;
}

typedef struct query_args {
  double timeout_s;
  const char *db, *from, *to, *where_from, *where_to, *layer, *district, *districts_layer,
      *name_field, *where, *within;
  int by_district, misses, format;
} query_args;

enum {
  OPT_DB = 1000, OPT_FROM, OPT_TO, OPT_WITHIN, OPT_WHERE_FROM, OPT_WHERE_TO, OPT_LAYER,
  OPT_DISTRICT, OPT_DISTRICTS_LAYER, OPT_NAME_FIELD, OPT_WHERE, OPT_BY_DISTRICT, OPT_MISSES,
  OPT_JSON, OPT_CSV, OPT_HELP, OPT_TIMEOUT
};

/* Parse the options of one verb (longopts lists the ones it takes). Returns -1 to go on, or the
 * exit code to return (after --help or a usage error). */
static int parse(const char *cmd, const char *help, const struct option *longopts, int argc,
                 char **argv, query_args *a, int positional, const char **pos) {
  int c;
  opterr = 0;
  optind = 1;
  a->timeout_s = PM_STORE_TIMEOUT_S;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case OPT_DB: a->db = optarg; break;
    case OPT_FROM: a->from = optarg; break;
    case OPT_TO: a->to = optarg; break;
    case OPT_WITHIN: a->within = optarg; break;
    case OPT_WHERE_FROM: a->where_from = optarg; break;
    case OPT_WHERE_TO: a->where_to = optarg; break;
    case OPT_LAYER: a->layer = optarg; break;
    case OPT_DISTRICT: a->district = optarg; break;
    case OPT_DISTRICTS_LAYER: a->districts_layer = optarg; break;
    case OPT_NAME_FIELD: a->name_field = optarg; break;
    case OPT_WHERE: a->where = optarg; break;
    case OPT_BY_DISTRICT: a->by_district = 1; break;
    case OPT_MISSES: a->misses = 1; break;
    case OPT_JSON:
    case OPT_CSV: {
      int f = c == OPT_JSON ? OUT_JSON : OUT_CSV;
      if (a->format != OUT_TABLE && a->format != f)
        return pm_cli_usage(cmd, "give either --json or --csv, not both");
      a->format = f;
      break;
    }
    case OPT_TIMEOUT:
      if (!pm_cli_parse_seconds(optarg, &a->timeout_s))
        return pm_cli_usage(cmd, "--timeout takes seconds (a number >= 0; 0: no limit), not '%s'",
                            optarg);
      break;
    case OPT_HELP: fputs(help, stdout); return PM_EXIT_OK;
    case ':': return pm_cli_usage(cmd, "option %s needs a value", argv[optind - 1]);
    default: return pm_cli_usage(cmd, "unknown option %s", argv[optind - 1]);
    }
  }
  if (positional) {
    if (optind != argc - 1)
      return pm_cli_usage(cmd, optind >= argc ? "give the SQL statement, e.g. \"SELECT * FROM layers\""
                                              : "give the SQL as one argument (quote it)");
    *pos = argv[optind];
  } else if (optind != argc) {
    return pm_cli_usage(cmd, "unexpected argument %s", argv[optind]);
  }
  if (!a->db) return pm_cli_usage(cmd, "give the project database with --db PROJECT.sqlite");
  return -1;
}

#define COMMON_OPTS                                                                            \
  {"db", required_argument, NULL, OPT_DB}, {"json", no_argument, NULL, OPT_JSON},              \
      {"csv", no_argument, NULL, OPT_CSV}, {"help", no_argument, NULL, OPT_HELP},             \
      {"timeout", required_argument, NULL, OPT_TIMEOUT}

/* The project's districts when the user named no layer: those its latest run recorded. Leaves
 * *layer and *field NULL otherwise (the library's defaults: `districts`, NAME). The caller frees
 * *layer and *field. */
static void project_districts(pm_store *store, char **layer, char **field) {
  *layer = *field = NULL;
  pm_history_run *runs = NULL;
  size_t n = 0;
  if (pm_history_runs(store, NULL, &runs, &n) == PM_OK && n > 0 && runs[n - 1].districts_layer) {
    *layer = strdup(runs[n - 1].districts_layer);
    if (runs[n - 1].districts_name_field) *field = strdup(runs[n - 1].districts_name_field);
  }
  pm_history_runs_destroy(runs, n);
}

/* Open read-only, run, print. */
static int run_query(pm_cli *cli, const query_args *a, int verb, double within_m, const char *sql) {
  pm_store *store = NULL;
  if (pm_store_open(cli->ctx, a->db, PM_STORE_READONLY, &store, NULL)) return pm_cli_fail(cli);
  pm_store_set_timeout(store, a->timeout_s);
  pm_table *t = NULL;
  pm_status st;
  char *plan_layer = NULL, *plan_field = NULL;
  const char *districts_layer = a->districts_layer, *name_field = a->name_field;
  int wants_districts = (verb == 'n' && a->district) || verb == 'w' || (verb == 'l' && a->by_district);
  if (wants_districts && !districts_layer) {
    project_districts(store, &plan_layer, &plan_field);
    districts_layer = plan_layer;
    if (!name_field) name_field = plan_field;
  }
  switch (verb) {
  case 'n': {
    pm_near_query q = {.from = a->from, .where_from = a->where_from, .to = a->to,
                       .where_to = a->where_to, .within_m = within_m, .district = a->district,
                       .districts_layer = districts_layer, .name_field = name_field,
                       .misses_only = a->misses};
    st = pm_query_near(cli->ctx, store, &q, &t);
    break;
  }
  case 'w':
    st = pm_query_within(cli->ctx, store, a->layer, a->where, a->district, districts_layer,
                         name_field, &t);
    break;
  case 'l':
    st = pm_query_length(cli->ctx, store, a->layer, a->where, a->by_district, districts_layer,
                         name_field, &t);
    break;
  default: st = pm_query_sql(cli->ctx, store, sql, &t); break;
  }
  free(plan_layer);
  free(plan_field);
  pm_store_close(store);
  if (st) return pm_cli_fail(cli);
  int rc = emit(cli, t, a->format);
  pm_table_destroy(t);
  return rc;
}

int pm_cmd_query(pm_cli *cli, int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(QUERY_HELP, argc < 2 ? stderr : stdout);
    return argc < 2 ? PM_EXIT_ERROR : PM_EXIT_OK;
  }
  const char *verb = argv[1];
  query_args a = {0};
  int rc;
  argc--;
  argv++;
  if (strcmp(verb, "near") == 0) {
    static const struct option opts[] = {
        COMMON_OPTS,
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"within", required_argument, NULL, OPT_WITHIN},
        {"where-from", required_argument, NULL, OPT_WHERE_FROM},
        {"where-to", required_argument, NULL, OPT_WHERE_TO},
        {"misses", no_argument, NULL, OPT_MISSES},
        {"district", required_argument, NULL, OPT_DISTRICT},
        {"districts", required_argument, NULL, OPT_DISTRICTS_LAYER},
        {"districts-layer", required_argument, NULL, OPT_DISTRICTS_LAYER},
        {"name-field", required_argument, NULL, OPT_NAME_FIELD},
        {NULL, 0, NULL, 0}};
    if ((rc = parse("query near", NEAR_HELP, opts, argc, argv, &a, 0, NULL)) >= 0) return rc;
    if (!a.district && (a.districts_layer || a.name_field))
      return pm_cli_usage("query near", "--districts and --name-field go with --district NAME");
    if (!a.from) return pm_cli_usage("query near", "give the layer to measure from with --from LAYER");
    if (!a.to) return pm_cli_usage("query near", "give the layer to look for with --to LAYER");
    if (!a.within)
      return pm_cli_usage("query near", "give the distance to test with --within METRES (e.g. 50)");
    double m;
    if (!parse_metres(a.within, &m))
      return pm_cli_usage("query near", "--within takes a distance in metres >= 0, not '%s'",
                          a.within);
    return run_query(cli, &a, 'n', m, NULL);
  }
  if (strcmp(verb, "within") == 0) {
    static const struct option opts[] = {
        COMMON_OPTS,
        {"layer", required_argument, NULL, OPT_LAYER},
        {"district", required_argument, NULL, OPT_DISTRICT},
        {"districts-layer", required_argument, NULL, OPT_DISTRICTS_LAYER},
        {"districts", required_argument, NULL, OPT_DISTRICTS_LAYER},
        {"name-field", required_argument, NULL, OPT_NAME_FIELD},
        {"where", required_argument, NULL, OPT_WHERE},
        {NULL, 0, NULL, 0}};
    if ((rc = parse("query within", WITHIN_HELP, opts, argc, argv, &a, 0, NULL)) >= 0) return rc;
    if (!a.layer) return pm_cli_usage("query within", "give the layer to look in with --layer LAYER");
    if (!a.district)
      return pm_cli_usage("query within", "name the district with --district NAME (e.g. 青浦区)");
    return run_query(cli, &a, 'w', 0, NULL);
  }
  if (strcmp(verb, "length") == 0) {
    static const struct option opts[] = {
        COMMON_OPTS,
        {"layer", required_argument, NULL, OPT_LAYER},
        {"where", required_argument, NULL, OPT_WHERE},
        {"by-district", no_argument, NULL, OPT_BY_DISTRICT},
        {"districts-layer", required_argument, NULL, OPT_DISTRICTS_LAYER},
        {"districts", required_argument, NULL, OPT_DISTRICTS_LAYER},
        {"name-field", required_argument, NULL, OPT_NAME_FIELD},
        {NULL, 0, NULL, 0}};
    if ((rc = parse("query length", LENGTH_HELP, opts, argc, argv, &a, 0, NULL)) >= 0) return rc;
    if (!a.layer) return pm_cli_usage("query length", "give the line layer with --layer LAYER");
    if (!a.by_district && (a.districts_layer || a.name_field))
      return pm_cli_usage("query length",
                          "--districts(-layer) and --name-field go with --by-district");
    return run_query(cli, &a, 'l', 0, NULL);
  }
  return pm_cli_usage("query", "unknown verb '%s'; the verbs are near, within, length (and "
                               "`planmetrics sql` for SQL)", verb);
}

int pm_cmd_sql(pm_cli *cli, int argc, char **argv) {
  static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
  query_args a = {0};
  const char *sql = NULL;
  int rc = parse("sql", SQL_HELP, opts, argc, argv, &a, 1, &sql);
  if (rc >= 0) return rc;
  return run_query(cli, &a, 's', 0, sql);
}
