/* network_dump.c: builds the walking network of a project layer and writes the graph, snapped
 * points and search results as CSV, for tests/network_check.py to compare with networkx. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planmetrics/planmetrics.h"

static void usage(void) {
  fprintf(stderr,
          "usage: network_dump --db PROJECT --layer LAYER --out DIR [--where SQL | --osm-walkable]\n"
          "                    [--connect vertices|crossings] [--min-piece M] [--max-snap M]\n"
          "                    [--points N] [--sources K] [--cutoff M] [--seed S]\n"
          "Writes DIR/{info.txt,nodes.csv,edges.csv,snaps.csv,multi.csv,targets.csv,single.csv,\n"
          "reached.txt}: the graph, N pseudo-random points snapped (the first K are the sources),\n"
          "the multi-source search from them (per node and per point), single-source searches\n"
          "from each of them, and the reached length.\n");
}

static int fail(pm_context *ctx, const char *what) {
  fprintf(stderr, "network_dump: %s: %s\n", what, pm_context_message(ctx));
  return 2;
}

static FILE *open_out(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    exit(2);
  }
  return f;
}

static uint64_t rng_state;
static double rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

static double reached_length(pm_context *ctx, const pm_network_search *s) {
  pm_network_part *parts = NULL;
  size_t n = 0;
  if (pm_network_search_parts(ctx, s, &parts, &n)) return NAN;
  double sum = 0;
  for (size_t i = 0; i < n; i++) sum += parts[i].to_m - parts[i].from_m;
  free(parts);
  return sum;
}

int main(int argc, char **argv) {
  const char *db = NULL, *layer = NULL, *out = NULL, *where = NULL, *connect = "vertices";
  double min_piece = 200, max_snap = 100, cutoff = 1000;
  size_t n_points = 300, n_sources = 20;
  uint64_t seed = 12345;
  int osm = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--osm-walkable") == 0) {
      osm = 1;
      continue;
    }
    if (!v) {
      usage();
      return 2;
    }
    i++;
    if (strcmp(a, "--db") == 0) db = v;
    else if (strcmp(a, "--layer") == 0) layer = v;
    else if (strcmp(a, "--out") == 0) out = v;
    else if (strcmp(a, "--where") == 0) where = v;
    else if (strcmp(a, "--connect") == 0) connect = v;
    else if (strcmp(a, "--min-piece") == 0) min_piece = atof(v);
    else if (strcmp(a, "--max-snap") == 0) max_snap = atof(v);
    else if (strcmp(a, "--cutoff") == 0) cutoff = atof(v);
    else if (strcmp(a, "--points") == 0) n_points = (size_t)atol(v);
    else if (strcmp(a, "--sources") == 0) n_sources = (size_t)atol(v);
    else if (strcmp(a, "--seed") == 0) seed = (uint64_t)atoll(v);
    else {
      usage();
      return 2;
    }
  }
  if (!db || !layer || !out) {
    usage();
    return 2;
  }
  if (osm) where = pm_network_osm_walkable_where();
  if (n_sources > n_points) n_sources = n_points;
  rng_state = seed * 2654435761u + 88172645463325252ULL;

  pm_context *ctx = NULL;
  if (pm_context_create(&ctx)) return 2;
  pm_store *store = NULL;
  if (pm_store_open(ctx, db, PM_STORE_READONLY, &store, NULL)) return fail(ctx, db);
  pm_load_options lo = {.where = where};
  pm_features *lines = NULL;
  if (pm_features_load(ctx, store, layer, &lo, &lines)) return fail(ctx, layer);
  pm_network_options opt;
  pm_network_options_init(&opt);
  opt.min_piece_m = min_piece;
  opt.max_snap_m = max_snap;
  if (pm_network_connect_parse(ctx, connect, &opt.connect)) return fail(ctx, "--connect");
  pm_network *net = NULL;
  if (pm_network_build(ctx, lines, &opt, &net)) return fail(ctx, "build");
  pm_features_destroy(ctx, lines);
  const pm_network_info *in = pm_network_get_info(net);

  FILE *f = open_out(out, "info.txt");
  fprintf(f,
          "nodes %u\nedges %u\ncomponents %u\nparts %u\nskipped_parts %u\nmerged %u\n"
          "dangling %u\nlength_m %.17g\nlargest_length_m %.17g\nlargest_share %.17g\n"
          "islands %u\nisland_edges %u\nisland_length_m %.17g\nbytes %zu\ncoord_bytes %zu\n"
          "cutoff %.17g\nmax_snap %.17g\nmin_piece %.17g\nsources %zu\n",
          in->n_nodes, in->n_edges, in->n_components, in->n_parts, in->n_skipped_parts,
          in->n_merged, in->n_dangling, in->length_m, in->largest_length_m, in->largest_share,
          in->n_islands, in->n_island_edges, in->island_length_m, in->bytes, in->coord_bytes,
          cutoff, max_snap, min_piece, n_sources);
  fclose(f);
  f = open_out(out, "where.txt"); /* the filter, for the independent reader */
  fprintf(f, "%s", where ? where : "");
  fclose(f);

  f = open_out(out, "nodes.csv");
  fprintf(f, "node,x,y,component,degree\n");
  for (uint32_t n = 0; n < in->n_nodes; n++) {
    double x, y;
    pm_network_node_xy(net, n, &x, &y);
    fprintf(f, "%u,%.17g,%.17g,%u,%u\n", n, x, y, pm_network_node_component(net, n),
            pm_network_node_degree(net, n));
  }
  fclose(f);

  f = open_out(out, "edges.csv");
  fprintf(f, "edge,from,to,length,component,island,n_xy,coords\n");
  for (uint32_t e = 0; e < in->n_edges; e++) {
    pm_network_edge ed;
    pm_network_edge_get(net, e, &ed);
    fprintf(f, "%u,%u,%u,%.17g,%u,%d,%u,", e, ed.from, ed.to, ed.length_m, ed.component, ed.island,
            ed.n_xy);
    for (uint32_t k = 0; k < ed.n_xy; k++)
      fprintf(f, "%s%.17g %.17g", k ? ";" : "", ed.xy[2 * k], ed.xy[2 * k + 1]);
    fprintf(f, "\n");
  }
  fclose(f);

  /* points: four in five near a random edge (a random point of it, moved up to 1.5 max_snap in a
   * random direction), one in five uniform in the extent of the largest component widened by
   * 2 max_snap, so that snapping, islands and unroutable points are all exercised */
  pm_network_component c0;
  pm_network_component_get(ctx, net, 0, &c0);
  double *xy = malloc(2 * (n_points ? n_points : 1) * sizeof *xy);
  pm_network_snap *snaps = malloc((n_points ? n_points : 1) * sizeof *snaps);
  for (size_t i = 0; i < n_points; i++) {
    if (rnd() < 0.8) {
      pm_network_edge ed;
      uint32_t e = (uint32_t)(rnd() * in->n_edges);
      pm_network_edge_get(net, e, &ed);
      double x, y, a = rnd() * 2 * M_PI, r = rnd() * 1.5 * max_snap;
      pm_network_edge_point(net, e, rnd() * ed.length_m, &x, &y);
      xy[2 * i] = x + r * cos(a);
      xy[2 * i + 1] = y + r * sin(a);
    } else {
      xy[2 * i] = c0.minx - 2 * max_snap + rnd() * (c0.maxx - c0.minx + 4 * max_snap);
      xy[2 * i + 1] = c0.miny - 2 * max_snap + rnd() * (c0.maxy - c0.miny + 4 * max_snap);
    }
  }
  pm_context_set_threads(ctx, 2);
  if (pm_network_snap_points(ctx, net, xy, n_points, snaps)) return fail(ctx, "snap");
  f = open_out(out, "snaps.csv");
  fprintf(f, "point,x,y,status,edge,pos,leg,sx,sy\n");
  for (size_t i = 0; i < n_points; i++) {
    const pm_network_snap *s = &snaps[i];
    fprintf(f, "%zu,%.17g,%.17g,%d,%d,%.17g,%.17g,%.17g,%.17g\n", i, s->x, s->y, (int)s->status,
            s->edge == PM_NETWORK_NONE ? -1 : (int)s->edge, s->pos_m, s->leg_m, s->sx, s->sy);
  }
  fclose(f);

  pm_network_search *s = NULL;
  if (pm_network_search_create(ctx, net, &s)) return fail(ctx, "search");
  /* multi-source: the first K points, source id = point index */
  if (pm_network_search_run(ctx, s, snaps, NULL, n_sources, cutoff)) return fail(ctx, "multi");
  f = open_out(out, "multi.csv");
  fprintf(f, "node,dist,source\n");
  const uint32_t *nodes;
  size_t nn = pm_network_search_nodes(s, &nodes);
  for (size_t i = 0; i < nn; i++)
    fprintf(f, "%u,%.17g,%u\n", nodes[i], pm_network_search_node_dist(s, nodes[i]),
            pm_network_search_node_source(s, nodes[i]));
  fclose(f);
  f = open_out(out, "targets.csv");
  fprintf(f, "point,dist,source\n");
  for (size_t i = 0; i < n_points; i++) {
    uint32_t src;
    double d = pm_network_search_dist_to(s, &snaps[i], &src);
    if (isfinite(d)) fprintf(f, "%zu,%.17g,%u\n", i, d, src);
  }
  fclose(f);
  FILE *r = open_out(out, "reached.txt");
  fprintf(r, "multi %.17g\n", reached_length(ctx, s));

  /* single-source from each source point (same cutoff) */
  f = open_out(out, "single.csv");
  fprintf(f, "source,node,dist\n");
  for (size_t k = 0; k < n_sources; k++) {
    if (snaps[k].status != PM_SNAP_OK) continue;
    if (pm_network_search_run(ctx, s, &snaps[k], NULL, 1, cutoff)) return fail(ctx, "single");
    nn = pm_network_search_nodes(s, &nodes);
    for (size_t i = 0; i < nn; i++)
      fprintf(f, "%zu,%u,%.17g\n", k, nodes[i], pm_network_search_node_dist(s, nodes[i]));
    fprintf(r, "single %zu %.17g\n", k, reached_length(ctx, s));
  }
  fclose(f);
  fclose(r);
  pm_network_search_destroy(s);
  free(xy);
  free(snaps);
  pm_network_destroy(ctx, net);
  pm_store_close(store);
  pm_context_destroy(ctx);
  return 0;
}
