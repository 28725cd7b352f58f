/* cmd_network.c: `planmetrics network info` (the walking network as built), and the walking-network
 * options the network commands share (query reach, query route, network info). */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "planmetrics/query.h"

static const char NETWORK_HELP[] =
    "usage: planmetrics network info --db PROJECT.sqlite [--layer LAYER] [--where FILTER]\n"
    "                                [--connect vertices|crossings] [--min-piece METRES]\n"
    "                                [--max-snap METRES] [--json]\n\n"
    "The walking network of a line layer as planmetrics builds it (METRICS.md §5): nodes, edges,\n"
    "connected pieces, the share of the length in the largest piece, dead ends, islands (pieces\n"
    "shorter than --min-piece, which points are never snapped to), total length and memory;\n"
    "then every piece besides the largest, with its length and extent, so that what is cut off\n"
    "can be found on a map.\n\n"
    "  --db FILE           project database\n"
    "  --layer LAYER       the line layer; default: the network of the project's latest run\n"
    "                      (its plan's `network:` block), else the layer `roads`\n"
    "  --where FILTER      SQL filter on its fields; default: on OpenStreetMap data (a highway\n"
    "                      field) the walkable default (footways, paths, streets; no motorways,\n"
    "                      no foot=no, no private access), else every line; \"\" for every line\n"
    "  --connect HOW       vertices (default: lines join where they share a vertex, as OSM ways\n"
    "                      do; bridges do not join the roads below) or crossings (every\n"
    "                      intersection joins: centre lines drawn without shared vertices)\n"
    "  --min-piece METRES  pieces shorter than this are islands (default 200)\n"
    "  --max-snap METRES   how far a point may lie from the network (default 100)\n"
    "  --json              {\"network\": {...}, \"pieces\": [...]}\n"
    "Example:\n"
    "  planmetrics network info --db porto.sqlite --layer roads\n";

/* A distance as the user wrote it: a plain number of metres >= 0 (a trailing "m" is accepted). */
static int parse_metres(const char *s, double *out) {
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s) return 0;
  if (*end == 'm' && end[1] == '\0') end++;
  if (*end != '\0' || !isfinite(v) || v < 0) return 0;
  *out = v;
  return 1;
}

int pm_cli_netopts_parse(const char *cmd, const pm_cli_netopts *o, pm_network_query *q) {
  pm_network_query_init(q);
  q->layer = o->layer;
  q->where = o->where;
  q->connect = o->connect;
  const struct {
    const char *opt, *text;
    double *to;
  } nums[] = {{"--max-snap", o->max_snap, &q->max_snap_m},
              {"--min-piece", o->min_piece, &q->min_piece_m},
              {"--access-width", o->access_width, &q->access_width_m}};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
    if (nums[i].text && !parse_metres(nums[i].text, nums[i].to))
      return pm_cli_usage(cmd, "%s takes a distance in metres >= 0, not '%s'", nums[i].opt,
                          nums[i].text);
  if (o->connect && strcmp(o->connect, "vertices") != 0 && strcmp(o->connect, "crossings") != 0)
    return pm_cli_usage(cmd, "--connect is `vertices` (lines join where they share a vertex) or "
                             "`crossings` (every intersection joins), not '%s'",
                        o->connect);
  return -1;
}

void pm_cli_netopts_default(pm_cli *cli, pm_store *store, pm_network_query *q,
                            pm_network_spec *rec) {
  memset(rec, 0, sizeof *rec);
  if (q->layer) return;
  int found = 0;
  if (pm_query_network_recorded(cli->ctx, store, rec, &found) != PM_OK || !found) {
    pm_context_clear_error(cli->ctx);
    memset(rec, 0, sizeof *rec);
    return;
  }
  q->layer = rec->layer.layer;
  /* the latest run's filter is the one it applied (the OSM default spelt out): only with its layer */
  if (!q->where) q->where = rec->layer.where ? rec->layer.where : "";
  if (!q->connect) q->connect = rec->connect;
  if (isnan(q->max_snap_m)) q->max_snap_m = rec->max_snap_m;
  if (isnan(q->min_piece_m)) q->min_piece_m = rec->min_piece_m;
  if (isnan(q->access_width_m)) q->access_width_m = rec->access_width_m;
  pm_notice(cli->ctx, "walking network: layer %s, as the project's latest run walked it (name "
                      "another with --network LAYER)",
            q->layer);
}

void pm_cli_netopts_clear(pm_network_spec *rec) {
  free(rec->layer.layer);
  free(rec->layer.where);
  free(rec->connect);
  memset(rec, 0, sizeof *rec);
}

/* The one-row table as "name  value" lines (a wide row reads better down the screen). */
static pm_status print_vertical(pm_cli *cli, const pm_table *t) {
  static const char *const cols[] = {"", ""};
  pm_table *v = NULL;
  pm_status st = pm_table_create(cli->ctx, cols, 2, &v);
  for (size_t c = 0; !st && t->n_rows == 1 && c < t->n_cols; c++) {
    const pm_cell *x = pm_table_cell(t, 0, c);
    size_t r;
    if ((st = pm_table_add_row(cli->ctx, v, &r)) ||
        (st = pm_table_set_text(cli->ctx, v, r, 0, t->cols[c])))
      break;
    switch (x->type) {
      case PM_CELL_TEXT: st = pm_table_set_text(cli->ctx, v, r, 1, x->s); break;
      case PM_CELL_INT: st = pm_table_set_int(cli->ctx, v, r, 1, x->i); break;
      case PM_CELL_REAL: st = pm_table_set_real(cli->ctx, v, r, 1, x->d, x->decimals); break;
      case PM_CELL_BOOL: st = pm_table_set_bool(cli->ctx, v, r, 1, (int)x->i); break;
      default: break;
    }
  }
  /* the header of a key-value list says nothing: print the rows only */
  char *buf = NULL;
  size_t len = 0;
  FILE *f = st ? NULL : open_memstream(&buf, &len);
  if (!st && !f) st = PM_ENOMEM;
  if (!st) st = pm_table_print(v, f);
  if (f && fclose(f) != 0 && !st) st = PM_ENOMEM;
  if (!st && buf) {
    const char *body = buf;
    for (int k = 0; k < 2 && body; k++) body = strchr(body, '\n') ? strchr(body, '\n') + 1 : NULL;
    if (body) fputs(body, stdout);
  }
  free(buf);
  pm_table_destroy(v);
  return st;
}

static int network_info(pm_cli *cli, int argc, char **argv) {
  enum { O_DB = 1000, O_LAYER, O_WHERE, O_CONNECT, O_MIN_PIECE, O_MAX_SNAP, O_JSON, O_HELP };
  static const struct option longopts[] = {
      {"db", required_argument, NULL, O_DB},
      {"layer", required_argument, NULL, O_LAYER},
      {"network", required_argument, NULL, O_LAYER},
      {"where", required_argument, NULL, O_WHERE},
      {"connect", required_argument, NULL, O_CONNECT},
      {"min-piece", required_argument, NULL, O_MIN_PIECE},
      {"max-snap", required_argument, NULL, O_MAX_SNAP},
      {"json", no_argument, NULL, O_JSON},
      {"help", no_argument, NULL, O_HELP},
      {NULL, 0, NULL, 0}};
  const char *cmd = "network info", *db = NULL;
  pm_cli_netopts o = {0};
  int json = 0, c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
      case O_DB: db = optarg; break;
      case O_LAYER: o.layer = optarg; break;
      case O_WHERE: o.where = optarg; break;
      case O_CONNECT: o.connect = optarg; break;
      case O_MIN_PIECE: o.min_piece = optarg; break;
      case O_MAX_SNAP: o.max_snap = optarg; break;
      case O_JSON: json = 1; break;
      case O_HELP: fputs(NETWORK_HELP, stdout); return PM_EXIT_OK;
      case ':': return pm_cli_usage(cmd, "option %s needs a value", argv[optind - 1]);
      default: return pm_cli_usage(cmd, "unknown option %s", argv[optind - 1]);
    }
  }
  if (optind != argc) return pm_cli_usage(cmd, "unexpected argument %s", argv[optind]);
  if (!db) return pm_cli_usage(cmd, "give the project database with --db PROJECT.sqlite");
  pm_network_query q;
  int rc = pm_cli_netopts_parse(cmd, &o, &q);
  if (rc >= 0) return rc;
  pm_store *store = NULL;
  if (pm_store_open(cli->ctx, db, PM_STORE_READONLY, &store, NULL)) return pm_cli_fail(cli);
  pm_network_spec rec;
  pm_cli_netopts_default(cli, store, &q, &rec);
  pm_table *t = NULL, *pieces = NULL;
  pm_status st = pm_query_network_info(cli->ctx, store, &q, &t, &pieces);
  pm_store_close(store);
  pm_cli_netopts_clear(&rec);
  if (st) return pm_cli_fail(cli);
  if (json) {
    fputs("{\"network\": ", stdout);
    st = pm_table_write_json_row(t, 0, stdout);
    fputs(",\n\"pieces\": ", stdout);
    if (!st) st = pm_table_write_json(pieces, stdout);
    fputs("}\n", stdout);
  } else {
    printf("%s\n\n", t->summary);
    st = print_vertical(cli, t);
    if (!st && pieces->n_rows) {
      fputc('\n', stdout);
      st = pm_table_print(pieces, stdout);
    } else if (!st) {
      printf("\n%s\n", pieces->summary);
    }
  }
  if (!st && fflush(stdout) != 0) st = PM_EIO;
  pm_table_destroy(t);
  pm_table_destroy(pieces);
  if (st) {
    fprintf(stderr, "planmetrics: error: cannot write the output\n");
    return PM_EXIT_ERROR;
  }
  return PM_EXIT_OK;
}

int pm_cmd_network(pm_cli *cli, int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    fputs(NETWORK_HELP, argc < 2 ? stderr : stdout);
    return argc < 2 ? PM_EXIT_ERROR : PM_EXIT_OK;
  }
  if (strcmp(argv[1], "info") == 0) return network_info(cli, argc - 1, argv + 1);
  return pm_cli_usage("network", "unknown verb '%s'; the verb is info (and `planmetrics query "
                                 "reach` / `query route` walk along the network)",
                      argv[1]);
}
