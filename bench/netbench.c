/* netbench.c: times the walking network on a project layer: loading the layer, building the graph,
 * snapping, a multi-source pass and many single-source searches; writes the results as JSON and
 * dumps the graph, the sources and the distances for the peers (bench/peers/network_peer.py). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/internal.h"
#include "planmetrics/planmetrics.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* CPU time of the process (all threads): on a machine shared with other jobs, the wall time of a
 * single-threaded step is inflated by waiting for a core, its CPU time much less. */
static double cpu(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* VmRSS or VmHWM of this process in kB. */
static long proc_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long v = -1;
  size_t n = strlen(key);
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, key, n) == 0) v = atol(line + n + 1);
  if (f) fclose(f);
  return v;
}

static int fail(pm_context *ctx, const char *what) {
  fprintf(stderr, "netbench: %s: %s\n", what, pm_context_message(ctx));
  return 2;
}

static uint64_t rng_state = 88172645463325252ULL;
static double rnd(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (double)(rng_state >> 11) / 9007199254740992.0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, size_t n) {
  qsort(v, n, sizeof *v, cmp_double);
  return n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : NAN;
}

typedef struct by_edge {
  uint32_t edge;
  uint32_t i;
} by_edge;

static int cmp_by_edge(const void *a, const void *b) {
  const by_edge *p = a, *q = b;
  if (p->edge != q->edge) return p->edge < q->edge ? -1 : 1;
  return p->i < q->i ? -1 : p->i > q->i;
}

/* Points uniform in the extent of component 0, snapped; only snapped ones are kept. */
static pm_network_snap *points(pm_context *ctx, const pm_network *net, size_t n, size_t *kept,
                               double *snap_s, double *snap_cpu) {
  pm_network_component c0;
  pm_network_component_get(ctx, net, 0, &c0);
  double *xy = malloc(2 * n * sizeof *xy);
  pm_network_snap *s = malloc(n * sizeof *s);
  for (size_t i = 0; i < n; i++) {
    xy[2 * i] = c0.minx + rnd() * (c0.maxx - c0.minx);
    xy[2 * i + 1] = c0.miny + rnd() * (c0.maxy - c0.miny);
  }
  double t = now(), c = cpu();
  if (pm_network_snap_points(ctx, net, xy, n, s)) {
    free(xy);
    free(s);
    return NULL;
  }
  *snap_s = now() - t;
  *snap_cpu = cpu() - c;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (s[i].status == PM_SNAP_OK) s[k++] = s[i];
  *kept = k;
  free(xy);
  return s;
}

typedef struct singles {
  const pm_network *net;
  const pm_network_snap *src;
  double cutoff;
  size_t n;
  size_t touched[PM_MAX_THREADS];
} singles;

static pm_status single_setup(pm_context *ctx, void *arg, void **state) {
  singles *j = arg;
  return pm_network_search_create(ctx, j->net, (pm_network_search **)state);
}

static void single_teardown(pm_context *ctx, void *state, void *arg) {
  (void)ctx;
  (void)arg;
  pm_network_search_destroy(state);
}

#define SINGLE_CHUNK 256
static pm_status single_task(pm_context *ctx, void *state, void *arg, size_t t) {
  singles *j = arg;
  for (size_t i = t * SINGLE_CHUNK; i < j->n && i < (t + 1) * SINGLE_CHUNK; i++) {
    pm_status st = pm_network_search_run(ctx, state, &j->src[i], NULL, 1, j->cutoff);
    if (st) return st;
  }
  return PM_OK;
}

static void write_snaps(const char *dir, const char *name, const pm_network *net,
                        const pm_network_snap *s, size_t n) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fprintf(f, "i,edge,from,to,length,pos,leg\n");
  for (size_t i = 0; i < n; i++) {
    pm_network_edge ed;
    pm_network_edge_get(net, s[i].edge, &ed);
    fprintf(f, "%zu,%u,%u,%u,%.17g,%.17g,%.17g\n", i, s[i].edge, ed.from, ed.to, ed.length_m,
            s[i].pos_m, s[i].leg_m);
  }
  fclose(f);
}

int main(int argc, char **argv) {
  const char *db = NULL, *layer = "roads", *out = NULL;
  double cutoff = 1000;
  size_t n_stops = 10000, n_singles = 20000, n_peer = 200;
  int threads = 2, repeats = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char *a = argv[i], *v = argv[i + 1];
    if (strcmp(a, "--db") == 0) db = v;
    else if (strcmp(a, "--layer") == 0) layer = v;
    else if (strcmp(a, "--out") == 0) out = v;
    else if (strcmp(a, "--cutoff") == 0) cutoff = atof(v);
    else if (strcmp(a, "--stops") == 0) n_stops = (size_t)atol(v);
    else if (strcmp(a, "--singles") == 0) n_singles = (size_t)atol(v);
    else if (strcmp(a, "--peer-sources") == 0) n_peer = (size_t)atol(v);
    else if (strcmp(a, "--threads") == 0) threads = atoi(v);
    else if (strcmp(a, "--repeats") == 0) repeats = atoi(v);
  }
  if (!db || !out) {
    fprintf(stderr,
            "usage: netbench --db PROJECT --out DIR [--layer roads] [--cutoff 1000] [--stops 10000]\n"
            "                [--singles 20000] [--peer-sources 200] [--threads 2] [--repeats 3]\n");
    return 2;
  }
  pm_context *ctx = NULL;
  pm_context_create(&ctx);
  pm_store *store = NULL;
  if (pm_store_open(ctx, db, PM_STORE_READONLY, &store, NULL)) return fail(ctx, db);
  long rss0 = proc_kb("VmRSS:");

  double t = now(), c = cpu();
  pm_features *lines = NULL;
  if (pm_features_load(ctx, store, layer, NULL, &lines)) return fail(ctx, layer);
  double load_s = now() - t, load_cpu = cpu() - c;
  size_t n_features = lines->n;
  long rss_loaded = proc_kb("VmRSS:");

  t = now();
  c = cpu();
  pm_network *net = NULL;
  pm_network_options opt;
  pm_network_options_init(&opt);
  opt.min_piece_m = 200;
  opt.max_snap_m = 100;
  if (pm_network_build(ctx, lines, &opt, &net)) return fail(ctx, "build");
  double build_s = now() - t, build_cpu = cpu() - c;
  long rss_built = proc_kb("VmRSS:");
  pm_features_destroy(ctx, lines);
  pm_store_release_memory(store);
  const pm_network_info *in = pm_network_get_info(net);
  fprintf(stderr, "netbench: %zu features loaded in %.2f s; graph of %u nodes, %u edges built in %.2f s\n",
          n_features, load_s, in->n_nodes, in->n_edges, build_s);

  /* stops for the multi-source pass; sources for the single-source searches */
  pm_context_set_threads(ctx, 1);
  size_t ns = 0, nq = 0;
  double snap1_s = 0, snap2_s = 0, snap1_cpu = 0, snap2_cpu = 0;
  pm_network_snap *stops = points(ctx, net, n_stops, &ns, &snap1_s, &snap1_cpu);
  pm_context_set_threads(ctx, threads);
  pm_network_snap *src = points(ctx, net, n_singles, &nq, &snap2_s, &snap2_cpu);
  if (!stops || !src) return fail(ctx, "snap");

  pm_network_search *s = NULL;
  if (pm_network_search_create(ctx, net, &s)) return fail(ctx, "search");
  double *rep = malloc((size_t)(repeats > 0 ? repeats : 1) * sizeof *rep);
  double *repc = malloc((size_t)(repeats > 0 ? repeats : 1) * sizeof *repc);
  for (int r = 0; r < repeats; r++) {
    t = now();
    c = cpu();
    if (pm_network_search_run(ctx, s, stops, NULL, ns, cutoff)) return fail(ctx, "multi");
    rep[r] = now() - t;
    repc[r] = cpu() - c;
  }
  double multi_s = median(rep, (size_t)repeats), multi_cpu = median(repc, (size_t)repeats);
  const uint32_t *nodes;
  size_t multi_nodes = pm_network_search_nodes(s, &nodes);
  t = now();
  pm_network_part *parts = NULL;
  size_t n_parts = 0;
  if (pm_network_search_parts(ctx, s, &parts, &n_parts)) return fail(ctx, "parts");
  double parts_s = now() - t;
  double reached_m = 0;
  for (size_t i = 0; i < n_parts; i++) reached_m += parts[i].to_m - parts[i].from_m;
  t = now();
  GEOSGeometry *g = NULL;
  if (pm_network_parts_geometry(ctx, net, parts, n_parts, &g)) return fail(ctx, "geometry");
  double geom_s = now() - t;
  GEOSGeom_destroy_r(pm_context_geos(ctx), g);
  free(parts);

  /* dump the multi-source result and the graph for the peers */
  char path[4096];
  snprintf(path, sizeof path, "%s/multi.csv", out);
  FILE *f = fopen(path, "w");
  fprintf(f, "node,dist\n");
  for (size_t i = 0; i < multi_nodes; i++)
    fprintf(f, "%u,%.17g\n", nodes[i], pm_network_search_node_dist(s, nodes[i]));
  fclose(f);
  snprintf(path, sizeof path, "%s/edges.csv", out);
  f = fopen(path, "w");
  fprintf(f, "edge,from,to,length\n");
  for (uint32_t e = 0; e < in->n_edges; e++) {
    pm_network_edge ed;
    pm_network_edge_get(net, e, &ed);
    fprintf(f, "%u,%u,%u,%.17g\n", e, ed.from, ed.to, ed.length_m);
  }
  fclose(f);
  snprintf(path, sizeof path, "%s/nodes.csv", out);
  f = fopen(path, "w");
  fprintf(f, "node,x,y\n");
  for (uint32_t n = 0; n < in->n_nodes; n++) {
    double x, y;
    pm_network_node_xy(net, n, &x, &y);
    fprintf(f, "%u,%.3f,%.3f\n", n, x, y);
  }
  fclose(f);
  write_snaps(out, "stops.csv", net, stops, ns);

  /* single-source searches: sources in spatial order (by edge, and edges are in Hilbert order of
   * their nodes), then the same sources in random order */
  by_edge *order = malloc(nq * sizeof *order);
  for (size_t i = 0; i < nq; i++) order[i] = (by_edge){src[i].edge, (uint32_t)i};
  qsort(order, nq, sizeof *order, cmp_by_edge);
  pm_network_snap *sorted = malloc(nq * sizeof *sorted);
  for (size_t i = 0; i < nq; i++) sorted[i] = src[order[i].i];
  size_t touched = 0;
  t = now();
  c = cpu();
  for (size_t i = 0; i < nq; i++) {
    if (pm_network_search_run(ctx, s, &sorted[i], NULL, 1, cutoff)) return fail(ctx, "single");
    touched += pm_network_search_nodes(s, &nodes);
  }
  double single_sorted_s = now() - t, single_sorted_cpu = cpu() - c;
  t = now();
  c = cpu();
  for (size_t i = 0; i < nq; i++)
    if (pm_network_search_run(ctx, s, &src[i], NULL, 1, cutoff)) return fail(ctx, "single");
  double single_random_s = now() - t, single_random_cpu = cpu() - c;
  singles job = {net, sorted, cutoff, nq, {0}};
  t = now();
  if (pm__parallel_for(ctx, threads, (nq + SINGLE_CHUNK - 1) / SINGLE_CHUNK, single_setup,
                       single_task, single_teardown, &job))
    return fail(ctx, "single (threads)");
  double single_par_s = now() - t;

  /* the first n_peer sources (in random order, i.e. spread out): their node distances */
  if (n_peer > nq) n_peer = nq;
  write_snaps(out, "sources.csv", net, src, n_peer);
  snprintf(path, sizeof path, "%s/single.csv", out);
  f = fopen(path, "w");
  fprintf(f, "source,node,dist\n");
  for (size_t k = 0; k < n_peer; k++) {
    if (pm_network_search_run(ctx, s, &src[k], NULL, 1, cutoff)) return fail(ctx, "single");
    size_t nn = pm_network_search_nodes(s, &nodes);
    for (size_t i = 0; i < nn; i++)
      fprintf(f, "%zu,%u,%.17g\n", k, nodes[i], pm_network_search_node_dist(s, nodes[i]));
  }
  fclose(f);

  double search_bytes = (double)in->n_nodes * (8 + 4 * 5);
  snprintf(path, sizeof path, "%s/netbench.json", out);
  f = fopen(path, "w");
  fprintf(f,
          "{\n  \"features\": %zu,\n  \"nodes\": %u,\n  \"edges\": %u,\n  \"components\": %u,\n"
          "  \"length_km\": %.3f,\n  \"dangling\": %u,\n  \"vertices\": %zu,\n"
          "  \"load_s\": %.4f,\n  \"build_s\": %.4f,\n  \"build_over_load\": %.3f,\n"
          "  \"load_cpu_s\": %.4f,\n  \"build_cpu_s\": %.4f,\n"
          "  \"bytes_per_edge\": %.2f,\n  \"coord_bytes_per_edge\": %.2f,\n"
          "  \"search_state_bytes_per_node\": %.1f,\n"
          "  \"rss_kb\": {\"start\": %ld, \"loaded\": %ld, \"built\": %ld, \"peak\": %ld},\n"
          "  \"cutoff_m\": %g,\n  \"threads\": %d,\n"
          "  \"snap\": {\"points\": %zu, \"s_1thread\": %.4f, \"cpu_1thread\": %.4f, \"points2\": %zu,"
          " \"s_threads\": %.4f, \"cpu_threads\": %.4f},\n"
          "  \"multi\": {\"sources\": %zu, \"s\": %.4f, \"cpu_s\": %.4f, \"nodes_reached\": %zu,"
          " \"parts_s\": %.4f, \"geometry_s\": %.4f, \"reached_km\": %.3f},\n"
          "  \"single\": {\"searches\": %zu, \"us_sorted\": %.2f, \"us_sorted_cpu\": %.2f,"
          " \"us_random\": %.2f, \"us_random_cpu\": %.2f, \"us_threads\": %.2f, \"mean_nodes\": %.1f}\n}\n",
          n_features, in->n_nodes, in->n_edges, in->n_components, in->length_m / 1000,
          in->n_dangling, in->coord_bytes / 16, load_s, build_s, build_s / load_s, load_cpu, build_cpu,
          (double)(in->bytes - in->coord_bytes) / in->n_edges, (double)in->coord_bytes / in->n_edges,
          search_bytes / in->n_nodes, rss0, rss_loaded, rss_built, proc_kb("VmHWM:"), cutoff, threads,
          n_stops, snap1_s, snap1_cpu, n_singles, snap2_s, snap2_cpu, ns, multi_s, multi_cpu,
          multi_nodes, parts_s, geom_s, reached_m / 1000, nq, 1e6 * single_sorted_s / (double)nq,
          1e6 * single_sorted_cpu / (double)nq, 1e6 * single_random_s / (double)nq,
          1e6 * single_random_cpu / (double)nq, 1e6 * single_par_s / (double)nq,
          (double)touched / (double)nq);
  fclose(f);
  fprintf(stderr,
          "netbench: multi-source (%zu stops, %g m) %.3f s; single-source %.1f us sorted, %.1f us "
          "random, %.1f us with %d threads (%.0f nodes each)\n",
          ns, cutoff, multi_s, 1e6 * single_sorted_s / (double)nq, 1e6 * single_random_s / (double)nq,
          1e6 * single_par_s / (double)nq, threads, (double)touched / (double)nq);
  free(order);
  free(sorted);
  free(rep);
  free(repc);
  free(stops);
  free(src);
  pm_network_search_destroy(s);
  pm_network_destroy(ctx, net);
  pm_store_close(store);
  pm_context_destroy(ctx);
  return 0;
}
