/* cmd_query.c: `planmetrics query near|within|length|reach|route` and `planmetrics sql`: ad-hoc
 * questions. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "planmetrics/crs.h"
#include "planmetrics/export.h"
#include "planmetrics/history.h"
#include "planmetrics/query.h"

static const char QUERY_HELP[] =
    "usage: planmetrics query VERB --db PROJECT.sqlite [options] [--json | --csv]\n\n"
    "Ad-hoc questions on a project's layers, answered as a table (--json: an array of objects,\n"
    "--csv: RFC 4180 CSV). Distances, lengths and areas are in the project's metric CRS.\n\n"
    "  near     for each feature of one layer, the nearest feature of another and its distance\n"
    "  within   the features of a layer in one district (with the length or area inside)\n"
    "  length   dissolved length of a line layer in km, in all and per district\n"
    "  reach    what each feature reaches along the walking network within a distance\n"
    "  route    the walk between two features or points along the walking network\n\n"
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

/* The walking-network options of reach and route. */
#define NETWORK_OPTS_HELP                                                                        \
  "  --network LAYER      the line layer to walk along; default: the network of the project's\n" \
  "                       latest run (its plan's `network:` block), else the layer `roads`\n"    \
  "  --network-where FILTER  SQL filter on its fields; default: on OpenStreetMap data (a\n"      \
  "                       highway field) the walkable default of METRICS.md §5 (footways,\n"     \
  "                       paths, streets; no motorways, no foot=no, no private access), else\n" \
  "                       every line; \"\" for every line\n"                                      \
  "  --connect HOW        vertices (default: lines join where they share a vertex) or\n"        \
  "                       crossings (every intersection joins)\n"                               \
  "  --max-snap METRES    a place farther than this from the network is unroutable (100)\n"     \
  "  --min-piece METRES   pieces of network shorter than this are islands, never walked\n"      \
  "                       from (200)\n"

static const char REACH_HELP[] =
    "usage: planmetrics query reach --db PROJECT.sqlite --from LAYER --within METRES\n"
    "                               [--where FILTER] [--network LAYER] [--network-where FILTER]\n"
    "                               [--connect vertices|crossings] [--max-snap METRES]\n"
    "                               [--min-piece METRES] [--access-width METRES]\n"
    "                               [--gpkg OUT.gpkg] [--json | --csv]\n\n"
    "What each feature of LAYER reaches along the walking network within METRES walked (the\n"
    "walk to the network counted): whether it is on the network at all, how far it is from it,\n"
    "the length of network reached (km; edges reached part way count up to the reached point)\n"
    "and the junctions reached. A point starts at itself, a polygon (a park) from its boundary\n"
    "every 20 m, a line along its length. With --gpkg, a GeoPackage for QGIS: the reached\n"
    "network of each feature in 50 m bands of walked distance (layer reached_network, graduated\n"
    "near dark to far light) and its service area, the reached network widened by\n"
    "--access-width (layer service_area).\n\n"
    "  --db FILE            project database\n"
    "  --from LAYER         the features to walk from (e.g. bus_stops, parks)\n"
    "  --within METRES      how far to walk, e.g. 500\n"
    "  --where FILTER       SQL filter on FROM's fields\n"
    NETWORK_OPTS_HELP
    "  --access-width METRES  the service area reaches this far beside the reached paths (50)\n"
    "  --gpkg FILE          also write the service areas as a GeoPackage\n"
    "  --json, --csv        machine-readable output (the summary line then goes to stderr)\n"
    "Examples:\n"
    "  planmetrics query reach --db porto.sqlite --from parks --within 500 --gpkg parks.gpkg\n"
    "  planmetrics query reach --db porto.sqlite --from bus_stops --within 300 --network roads\n";

static const char ROUTE_HELP[] =
    "usage: planmetrics query route --db PROJECT.sqlite --from LAYER:FID|X,Y --to LAYER:FID|X,Y\n"
    "                               [--xy-crs CRS] [--network LAYER] [--network-where FILTER]\n"
    "                               [--connect vertices|crossings] [--max-snap METRES]\n"
    "                               [--min-piece METRES] [--gpkg OUT.gpkg] [--json | --csv]\n\n"
    "The shortest walk between two places along the walking network: its length (the walks to\n"
    "and from the network included), the straight-line distance beside it, how many times\n"
    "farther the walk is, and its geometry (WKT in the project CRS; with --gpkg a line layer\n"
    "`route` for QGIS). A place is a feature, LAYER:FID (a polygon or line is entered from its\n"
    "boundary every 20 m, the best pair wins), or a point X,Y in the project CRS (with --xy-crs,\n"
    "in that CRS, e.g. EPSG:4326 for longitude,latitude). When there is no walk (a place too far\n"
    "from the network, or the two on pieces of network that do not meet) the note says why.\n\n"
    "  --db FILE            project database\n"
    "  --from PLACE         where the walk starts: stations:12 or 530120.5,4556780\n"
    "  --to PLACE           where it ends\n"
    "  --xy-crs CRS         the CRS of X,Y places (EPSG:4326, gcj02, bd09, ...)\n"
    NETWORK_OPTS_HELP
    "  --gpkg FILE          also write the walk as a GeoPackage line layer\n"
    "  --json, --csv        machine-readable output (the summary line then goes to stderr)\n"
    "Examples:\n"
    "  planmetrics query route --db porto.sqlite --from stations:3 --to bus_stops:17\n"
    "  planmetrics query route --db porto.sqlite --from=-8.6110,41.1456 --to=-8.6066,41.1414 \\\n"
    "      --xy-crs EPSG:4326\n";

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
      *name_field, *where, *within, *gpkg, *xy_crs;
  pm_cli_netopts net;
  int by_district, misses, format;
} query_args;

enum {
  OPT_DB = 1000, OPT_FROM, OPT_TO, OPT_WITHIN, OPT_WHERE_FROM, OPT_WHERE_TO, OPT_LAYER,
  OPT_DISTRICT, OPT_DISTRICTS_LAYER, OPT_NAME_FIELD, OPT_WHERE, OPT_BY_DISTRICT, OPT_MISSES,
  OPT_JSON, OPT_CSV, OPT_HELP, OPT_TIMEOUT, OPT_NETWORK, OPT_NETWORK_WHERE, OPT_CONNECT,
  OPT_MAX_SNAP, OPT_MIN_PIECE, OPT_ACCESS_WIDTH, OPT_GPKG, OPT_XY_CRS
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
    case OPT_NETWORK: a->net.layer = optarg; break;
    case OPT_NETWORK_WHERE: a->net.where = optarg; break;
    case OPT_CONNECT: a->net.connect = optarg; break;
    case OPT_MAX_SNAP: a->net.max_snap = optarg; break;
    case OPT_MIN_PIECE: a->net.min_piece = optarg; break;
    case OPT_ACCESS_WIDTH: a->net.access_width = optarg; break;
    case OPT_GPKG: a->gpkg = optarg; break;
    case OPT_XY_CRS: a->xy_crs = optarg; break;
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

#define NETWORK_OPTS                                                                           \
  {"network", required_argument, NULL, OPT_NETWORK},                                           \
      {"network-where", required_argument, NULL, OPT_NETWORK_WHERE},                           \
      {"connect", required_argument, NULL, OPT_CONNECT},                                       \
      {"max-snap", required_argument, NULL, OPT_MAX_SNAP},                                     \
      {"min-piece", required_argument, NULL, OPT_MIN_PIECE},                                   \
      {"gpkg", required_argument, NULL, OPT_GPKG }

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

/* Write query tables as a GeoPackage in the project CRS; says so on stderr (stdout holds the
 * answer). */
static int write_gpkg(pm_cli *cli, pm_store *store, const char *path, const pm_table_layer *layers,
                      size_t n) {
  int srid = 0;
  if (pm_store_crs(store, &srid, NULL) || srid == 0) {
    pm_error(cli->ctx, PM_EINPUT, "%s: the project has no CRS yet (no layers)", pm_store_path(store));
    return pm_cli_fail(cli);
  }
  if (pm_export_tables(cli->ctx, path, srid, layers, n)) return pm_cli_fail(cli);
  if (!cli->quiet) {
    fprintf(stderr, "Wrote %s:", path);
    for (size_t i = 0; i < n; i++)
      fprintf(stderr, "%s layer %s (%zu)", i ? "," : "", layers[i].name, layers[i].table->n_rows);
    fputs(".\n", stderr);
  }
  return PM_EXIT_OK;
}

/* The outputs of a network verb: --gpkg, never the database itself. */
static int check_gpkg(pm_cli *cli, const query_args *a) {
  if (!a->gpkg) return 0;
  const pm_cli_output outs[] = {{"--gpkg", a->gpkg, 0}, {"--db", a->db, 1}};
  return pm_cli_check_outputs(cli, outs, 2, 0);
}

static int run_reach(pm_cli *cli, const query_args *a, double within_m) {
  pm_reach_query q = {.from = a->from, .where = a->where, .within_m = within_m};
  int rc = pm_cli_netopts_parse("query reach", &a->net, &q.network);
  if (rc >= 0) return rc;
  if (check_gpkg(cli, a)) return pm_cli_fail(cli);
  pm_store *store = NULL;
  if (pm_store_open(cli->ctx, a->db, PM_STORE_READONLY, &store, NULL)) return pm_cli_fail(cli);
  pm_network_spec rec;
  pm_cli_netopts_default(cli, store, &q.network, &rec);
  pm_table *t = NULL, *lines = NULL, *areas = NULL;
  pm_status st = pm_query_reach(cli->ctx, store, &q, &t, a->gpkg ? &lines : NULL,
                                a->gpkg ? &areas : NULL);
  pm_cli_netopts_clear(&rec);
  rc = st ? pm_cli_fail(cli) : PM_EXIT_OK;
  if (!st && a->gpkg) {
    char title[3][160];
    snprintf(title[0], sizeof title[0], "what each feature of %s reaches within %g m walked",
             a->from, within_m);
    snprintf(title[1], sizeof title[1], "the network reached from %s, in bands of 50 m walked",
             a->from);
    snprintf(title[2], sizeof title[2], "service areas of %s: the network reached within %g m, "
             "widened", a->from, within_m);
    const pm_table_layer layers[] = {{"reached_network", title[1], lines, "reached"},
                                     {"service_area", title[2], areas, "service_area"},
                                     {"reach", title[0], t, NULL}};
    rc = write_gpkg(cli, store, a->gpkg, layers, 3);
  }
  pm_store_close(store);
  if (rc == PM_EXIT_OK) rc = emit(cli, t, a->format);
  pm_table_destroy(t);
  pm_table_destroy(lines);
  pm_table_destroy(areas);
  return rc;
}

/* A place: LAYER:FID or X,Y. Returns 0 when it is neither. The layer name is copied to buf. */
static int parse_place(const char *s, pm_route_end *e, char *buf, size_t size) {
  memset(e, 0, sizeof *e);
  const char *colon = strrchr(s, ':');
  char *end = NULL;
  if (colon) {
    size_t n = (size_t)(colon - s);
    if (n == 0 || n >= size || !colon[1]) return 0;
    long long fid = strtoll(colon + 1, &end, 10);
    if (*end) return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    e->layer = buf;
    e->fid = fid;
    return 1;
  }
  e->x = strtod(s, &end);
  if (end == s || *end != ',') return 0;
  const char *p = end + 1;
  e->y = strtod(p, &end);
  return end != p && *end == '\0' && isfinite(e->x) && isfinite(e->y);
}

static int run_route(pm_cli *cli, const query_args *a) {
  pm_route_query q;
  char from_layer[256], to_layer[256];
  if (!parse_place(a->from, &q.from, from_layer, sizeof from_layer))
    return pm_cli_usage("query route", "--from is a feature LAYER:FID (e.g. stations:3) or a point "
                                       "X,Y (e.g. 530120.5,4556780), not '%s'", a->from);
  if (!parse_place(a->to, &q.to, to_layer, sizeof to_layer))
    return pm_cli_usage("query route", "--to is a feature LAYER:FID (e.g. bus_stops:17) or a point "
                                       "X,Y (e.g. 530120.5,4556780), not '%s'", a->to);
  if (a->xy_crs && q.from.layer && q.to.layer)
    return pm_cli_usage("query route", "--xy-crs goes with a place given as X,Y");
  int rc = pm_cli_netopts_parse("query route", &a->net, &q.network);
  if (rc >= 0) return rc;
  if (check_gpkg(cli, a)) return pm_cli_fail(cli);
  pm_store *store = NULL;
  if (pm_store_open(cli->ctx, a->db, PM_STORE_READONLY, &store, NULL)) return pm_cli_fail(cli);
  pm_status st = PM_OK;
  if (a->xy_crs) { /* X,Y places into the project CRS */
    int srid = 0;
    pm_transform *tr = NULL;
    if ((st = pm_store_crs(store, &srid, NULL)) == PM_OK && srid == 0)
      st = pm_error(cli->ctx, PM_EINPUT, "%s: the project has no CRS yet (no layers)",
                    pm_store_path(store));
    if (!st) st = pm_transform_create(cli->ctx, a->xy_crs, srid, &tr);
    if (!st && !q.from.layer) st = pm_transform_xy(tr, &q.from.x, &q.from.y);
    if (!st && !q.to.layer) st = pm_transform_xy(tr, &q.to.x, &q.to.y);
    pm_transform_destroy(tr);
    if (st) pm_error_prefix(cli->ctx, "--xy-crs %s: ", a->xy_crs);
  }
  pm_network_spec rec = {0};
  pm_table *t = NULL;
  if (!st) pm_cli_netopts_default(cli, store, &q.network, &rec);
  if (!st) st = pm_query_route(cli->ctx, store, &q, &t);
  pm_cli_netopts_clear(&rec);
  rc = st ? pm_cli_fail(cli) : PM_EXIT_OK;
  if (!st && a->gpkg) {
    const pm_table_layer layer = {"route", "the walk along the network", t, "route"};
    rc = write_gpkg(cli, store, a->gpkg, &layer, 1);
  }
  pm_store_close(store);
  if (rc == PM_EXIT_OK) rc = emit(cli, t, a->format);
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
  if (strcmp(verb, "reach") == 0) {
    static const struct option opts[] = {
        COMMON_OPTS,
        NETWORK_OPTS,
        {"from", required_argument, NULL, OPT_FROM},
        {"where", required_argument, NULL, OPT_WHERE},
        {"within", required_argument, NULL, OPT_WITHIN},
        {"access-width", required_argument, NULL, OPT_ACCESS_WIDTH},
        {NULL, 0, NULL, 0}};
    if ((rc = parse("query reach", REACH_HELP, opts, argc, argv, &a, 0, NULL)) >= 0) return rc;
    if (!a.from) return pm_cli_usage("query reach", "give the layer to walk from with --from LAYER");
    if (!a.within)
      return pm_cli_usage("query reach", "give the distance to walk with --within METRES (e.g. 500)");
    double m;
    if (!parse_metres(a.within, &m))
      return pm_cli_usage("query reach", "--within takes a distance in metres >= 0, not '%s'",
                          a.within);
    return run_reach(cli, &a, m);
  }
  if (strcmp(verb, "route") == 0) {
    static const struct option opts[] = {
        COMMON_OPTS,
        NETWORK_OPTS,
        {"from", required_argument, NULL, OPT_FROM},
        {"to", required_argument, NULL, OPT_TO},
        {"xy-crs", required_argument, NULL, OPT_XY_CRS},
        {NULL, 0, NULL, 0}};
    if ((rc = parse("query route", ROUTE_HELP, opts, argc, argv, &a, 0, NULL)) >= 0) return rc;
    if (!a.from)
      return pm_cli_usage("query route", "give where the walk starts with --from LAYER:FID or X,Y");
    if (!a.to) return pm_cli_usage("query route", "give where the walk ends with --to LAYER:FID or X,Y");
    return run_route(cli, &a);
  }
  return pm_cli_usage("query", "unknown verb '%s'; the verbs are near, within, length, reach, "
                               "route (and `planmetrics sql` for SQL)", verb);
}

int pm_cmd_sql(pm_cli *cli, int argc, char **argv) {
  static const struct option opts[] = {COMMON_OPTS, {NULL, 0, NULL, 0}};
  query_args a = {0};
  const char *sql = NULL;
  int rc = parse("sql", SQL_HELP, opts, argc, argv, &a, 1, &sql);
  if (rc >= 0) return rc;
  return run_query(cli, &a, 's', 0, sql);
}
