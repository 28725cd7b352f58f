/* test_network.c: the walking network of METRICS.md §5 on layouts whose distances are computed by
 * hand: junctions, bridges, merged ends, islands, partly reached edges, ties, barriers. */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ogr_api.h>

#include "fixtures.h"
#include "engine/network_internal.h"

#define EPS 1e-9

static pm_network *build(pm_context *ctx, const char *const *wkt, size_t n, pm_network_connect c,
                         double min_piece_m, double max_snap_m) {
  pm_features *fs = pm_test_wkt(ctx, "roads", wkt, NULL, n);
  pm_network_options o = {c, min_piece_m, max_snap_m};
  pm_network *net = NULL;
  pm_status st = pm_network_build(ctx, fs, &o, &net);
  if (st) fail_msg("build: %s", pm_context_message(ctx));
  pm_features_destroy(ctx, fs);
  return net;
}

static pm_network_snap snap(pm_context *ctx, const pm_network *net, double x, double y) {
  pm_network_snap s;
  assert_int_equal(pm_network_snap_point(ctx, net, x, y, &s), PM_OK);
  return s;
}

/* The node at (x, y), or fail. */
static uint32_t node_at(const pm_network *net, double x, double y) {
  const pm_network_info *in = pm_network_get_info(net);
  for (uint32_t n = 0; n < in->n_nodes; n++) {
    double nx, ny;
    pm_network_node_xy(net, n, &nx, &ny);
    if (nx == x && ny == y) return n;
  }
  fail_msg("no node at (%g, %g)", x, y);
  return PM_NETWORK_NONE;
}

static double geom_length(pm_context *ctx, const GEOSGeometry *g) {
  double len = -1;
  assert_int_equal(GEOSLength_r(pm_context_geos(ctx), g, &len), 1);
  return len;
}

/* WKT with trimmed numbers ("50 0"). Caller frees with free(). */
static char *wkt_of(pm_context *ctx, const GEOSGeometry *g) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKTWriter *w = GEOSWKTWriter_create_r(h);
  GEOSWKTWriter_setTrim_r(h, w, 1);
  char *t = GEOSWKTWriter_write_r(h, w, g);
  char *out = strdup(t);
  GEOSFree_r(h, t);
  GEOSWKTWriter_destroy_r(h, w);
  return out;
}

/* Distance from one snapped point to another (single-source search without a cutoff). */
static double net_dist(pm_context *ctx, const pm_network *net, const pm_network_snap *p,
                       const pm_network_snap *q) {
  pm_network_search *s = NULL;
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);
  assert_int_equal(pm_network_search_run(ctx, s, p, NULL, 1, INFINITY), PM_OK);
  double d = pm_network_search_dist_to(s, q, NULL);
  pm_network_search_destroy(s);
  return d;
}

/* A T-junction: the side street ends on an interior vertex of the main street. */
static void test_t_junction(void **state) {
  pm_context *ctx = *state;
  const char *wkt[] = {"LINESTRING(0 0, 100 0, 200 0)", "LINESTRING(100 0, 100 100)"};
  pm_network *net = build(ctx, wkt, 2, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  const pm_network_info *in = pm_network_get_info(net);
  assert_int_equal(in->n_nodes, 4);
  assert_int_equal(in->n_edges, 3);
  assert_int_equal(in->n_components, 1);
  assert_int_equal(in->n_dangling, 3);
  assert_int_equal(in->n_merged, 0);
  assert_near(in->length_m, 300, EPS);
  assert_near(in->largest_share, 1, EPS);
  assert_int_equal(pm_network_node_degree(net, node_at(net, 100, 0)), 3);

  /* (50, 10) attaches to the middle of the west edge, not to a node */
  pm_network_snap p = snap(ctx, net, 50, 10);
  assert_int_equal(p.status, PM_SNAP_OK);
  assert_near(p.leg_m, 10, EPS);
  assert_near(p.sx, 50, EPS);
  assert_near(p.sy, 0, EPS);
  pm_network_edge ed;
  pm_network_edge_get(net, p.edge, &ed);
  assert_near(ed.length_m, 100, EPS);
  assert_int_equal(ed.feature, 0);
  assert_near(p.pos_m, 50, EPS); /* from either end */

  pm_network_snap q = snap(ctx, net, 103, 90); /* 3 m east of the side street, 90 m up */
  assert_near(q.leg_m, 3, EPS);
  assert_near(net_dist(ctx, net, &p, &q), 10 + 50 + 90 + 3, EPS);

  /* the walked path, with both legs, has the length of the distance */
  pm_network_search *s = NULL;
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);
  assert_int_equal(pm_network_search_run(ctx, s, &p, NULL, 1, 1000), PM_OK);
  GEOSGeometry *path = NULL;
  double len = 0;
  uint32_t src = 99;
  assert_int_equal(pm_network_search_path(ctx, s, &q, 1, &path, &len, &src), PM_OK);
  assert_non_null(path);
  assert_int_equal(src, 0);
  assert_near(len, 153, EPS);
  assert_near(geom_length(ctx, path), 153, EPS);
  char *wkt_out = wkt_of(ctx, path);
  assert_string_equal(wkt_out, "LINESTRING (50 10, 50 0, 100 0, 100 90, 103 90)");
  free(wkt_out);
  GEOSGeom_destroy_r(pm_context_geos(ctx), path);
  /* without legs: snap point to snap point */
  assert_int_equal(pm_network_search_path(ctx, s, &q, 0, &path, &len, NULL), PM_OK);
  assert_near(geom_length(ctx, path), 140, EPS);
  GEOSGeom_destroy_r(pm_context_geos(ctx), path);
  pm_network_search_destroy(s);
  pm_network_destroy(ctx, net);
}

/* A bridge crosses a street without a shared vertex: `vertices` keeps them apart, `crossings`
 * joins them. */
static void test_bridge(void **state) {
  pm_context *ctx = *state;
  const char *wkt[] = {"LINESTRING(0 0, 200 0)", "LINESTRING(100 -100, 100 100)"};
  pm_network *v = build(ctx, wkt, 2, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  const pm_network_info *in = pm_network_get_info(v);
  assert_int_equal(in->n_nodes, 4);
  assert_int_equal(in->n_edges, 2);
  assert_int_equal(in->n_components, 2);
  assert_near(in->largest_share, 0.5, EPS);
  pm_network_snap p = snap(ctx, v, 0, 0), q = snap(ctx, v, 100, 100);
  assert_true(isinf(net_dist(ctx, v, &p, &q)));
  pm_network_destroy(ctx, v);

  pm_network *c = build(ctx, wkt, 2, PM_NETWORK_CONNECT_CROSSINGS, 0, 100);
  in = pm_network_get_info(c);
  assert_int_equal(in->n_nodes, 5);
  assert_int_equal(in->n_edges, 4);
  assert_int_equal(in->n_components, 1);
  assert_int_equal(pm_network_node_degree(c, node_at(c, 100, 0)), 4);
  assert_near(in->length_m, 400, EPS);
  p = snap(ctx, c, 0, 0);
  q = snap(ctx, c, 100, 100);
  assert_near(net_dist(ctx, c, &p, &q), 200, EPS);
  pm_network_edge ed;
  pm_network_edge_get(c, 0, &ed);
  assert_int_equal(ed.feature, PM_NETWORK_NONE);
  pm_network_destroy(ctx, c);
}

/* Line ends closer than 0.5 m are one node; 0.5 m or more apart they are not. Coordinates stay. */
static void test_merge_ends(void **state) {
  pm_context *ctx = *state;
  const char *near[] = {"LINESTRING(0 0, 100 0)", "LINESTRING(100.3 0, 200 0)"};
  pm_network *net = build(ctx, near, 2, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  const pm_network_info *in = pm_network_get_info(net);
  assert_int_equal(in->n_nodes, 3);
  assert_int_equal(in->n_components, 1);
  assert_int_equal(in->n_merged, 1);
  assert_near(in->length_m, 199.7, 1e-9);
  node_at(net, 100, 0); /* the lower x of the two ends */
  pm_network_snap p = snap(ctx, net, 0, 0), q = snap(ctx, net, 200, 0);
  assert_near(net_dist(ctx, net, &p, &q), 199.7, 1e-9);
  pm_network_destroy(ctx, net);

  const char *far[] = {"LINESTRING(0 0, 100 0)", "LINESTRING(100.7 0, 200 0)"};
  net = build(ctx, far, 2, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  in = pm_network_get_info(net);
  assert_int_equal(in->n_nodes, 4);
  assert_int_equal(in->n_components, 2);
  assert_int_equal(in->n_merged, 0);
  pm_network_destroy(ctx, net);

  const char *exact[] = {"LINESTRING(0 0, 100 0)", "LINESTRING(100.5 0, 200 0)"};
  net = build(ctx, exact, 2, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  assert_int_equal(pm_network_get_info(net)->n_components, 2); /* "closer than" 0.5 m */
  pm_network_destroy(ctx, net);

  /* an end 0.3 m from a junction (an interior vertex shared by two lines) joins it, and the node
   * stays at the junction; an interior vertex 0.3 m from an end is no junction and joins nothing */
  const char *junction[] = {"LINESTRING(0 0, 100 0, 200 0)", "LINESTRING(100 0, 100 100)",
                            "LINESTRING(100.3 -0.1, 100 -100)", "LINESTRING(0 50, 50 50, 90 50)",
                            "LINESTRING(50.2 50.2, 50 150)"};
  net = build(ctx, junction, 5, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  in = pm_network_get_info(net);
  assert_int_equal(in->n_merged, 1);
  assert_int_equal(pm_network_node_degree(net, node_at(net, 100, 0)), 4);
  assert_int_equal(in->n_components, 3);
  pm_network_destroy(ctx, net);
}

/* A footway in a closed courtyard (50 m < min_piece_m) is an island: reported, never snapped to. */
static void test_island(void **state) {
  pm_context *ctx = *state;
  const char *wkt[] = {"LINESTRING(0 0, 1000 0)", "LINESTRING(400 30, 450 30)"};
  pm_network *net = build(ctx, wkt, 2, PM_NETWORK_CONNECT_VERTICES, 200, 100);
  const pm_network_info *in = pm_network_get_info(net);
  assert_int_equal(in->n_components, 2);
  assert_int_equal(in->n_islands, 1);
  assert_int_equal(in->n_island_edges, 1);
  assert_near(in->island_length_m, 50, EPS);
  assert_near(in->largest_length_m, 1000, EPS);
  pm_network_component c;
  assert_int_equal(pm_network_component_get(ctx, net, 1, &c), PM_OK);
  assert_true(c.island);
  assert_near(c.length_m, 50, EPS);
  assert_near(c.minx, 400, EPS);
  assert_near(c.maxy, 30, EPS);
  assert_int_equal(pm_network_component_get(ctx, net, 2, &c), PM_EINPUT);
  GEOSGeometry *g = NULL;
  assert_int_equal(pm_network_component_geometry(ctx, net, 1, &g), PM_OK);
  assert_near(geom_length(ctx, g), 50, EPS);
  GEOSGeom_destroy_r(pm_context_geos(ctx), g);

  /* 1 m from the island, 31 m from the street: snaps to the street */
  pm_network_snap p = snap(ctx, net, 420, 31);
  assert_int_equal(p.status, PM_SNAP_OK);
  assert_near(p.leg_m, 31, EPS);
  pm_network_edge ed;
  pm_network_edge_get(net, p.edge, &ed);
  assert_false(ed.island);
  pm_network_destroy(ctx, net);

  /* with max_snap_m 20 the same point is unroutable */
  net = build(ctx, wkt, 2, PM_NETWORK_CONNECT_VERTICES, 200, 20);
  p = snap(ctx, net, 420, 31);
  assert_int_equal(p.status, PM_SNAP_TOO_FAR);
  assert_near(p.leg_m, 31, EPS);
  pm_network_destroy(ctx, net);

  /* a network of islands only: nothing to snap to */
  net = build(ctx, wkt + 1, 1, PM_NETWORK_CONNECT_VERTICES, 200, 100);
  p = snap(ctx, net, 420, 31);
  assert_int_equal(p.status, PM_SNAP_NO_NETWORK);
  assert_int_equal(p.edge, PM_NETWORK_NONE);
  assert_string_equal(pm_snap_status_name(p.status), "no network outside islands");
  pm_network_destroy(ctx, net);
}

/* A far outlier stretches the grid the build sorts vertices on, so that a whole 2 m grid of streets
 * falls into one cell: the shared vertices are still found exactly. */
static void test_far_outlier(void **state) {
  pm_context *ctx = *state;
  char *wkt[21];
  for (int l = 0; l < 20; l++) {
    char buf[1024];
    size_t len = (size_t)snprintf(buf, sizeof buf, "LINESTRING(");
    for (int k = 0; k < 10; k++)
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%d %d", k ? ", " : "",
                              l < 10 ? 2 * k : 2 * (l - 10), l < 10 ? 2 * l : 2 * k);
    snprintf(buf + len, sizeof buf - len, ")");
    wkt[l] = strdup(buf);
  }
  wkt[20] = strdup("LINESTRING(9000000000 9000000000, 9000000100 9000000000)");
  pm_network *net = build(ctx, (const char *const *)wkt, 21, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  const pm_network_info *in = pm_network_get_info(net);
  assert_int_equal(in->n_nodes, 102);
  assert_int_equal(in->n_edges, 2 * 10 * 9 + 1);
  assert_int_equal(in->n_components, 2);
  assert_near(in->length_m, 2 * 10 * 18 + 100, EPS);
  for (int l = 0; l < 21; l++) free(wkt[l]);
  pm_network_destroy(ctx, net);
}

/* Partly reached edges: the reached network ends exactly at the cutoff. */
static void test_partly_reached(void **state) {
  pm_context *ctx = *state;
  const char *wkt[] = {"LINESTRING(0 0, 500 0, 1000 0)"};
  pm_network *net = build(ctx, wkt, 1, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  pm_network_search *s = NULL;
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);

  /* from (100, 40): leg 40, 260 m left along the edge each way; the west end at 0 caps it */
  pm_network_snap p = snap(ctx, net, 100, 40);
  assert_int_equal(pm_network_search_run(ctx, s, &p, NULL, 1, 300), PM_OK);
  pm_network_part *parts = NULL;
  size_t n = 0;
  assert_int_equal(pm_network_search_parts(ctx, s, &parts, &n), PM_OK);
  assert_int_equal(n, 2);
  assert_near(parts[0].from_m, 0, EPS);
  assert_near(parts[0].to_m, 100, EPS);
  assert_near(parts[0].d_from, 140, EPS);
  assert_near(parts[0].d_to, 40, EPS);
  assert_near(parts[1].from_m, 100, EPS);
  assert_near(parts[1].to_m, 360, EPS);
  assert_near(parts[1].d_from, 40, EPS);
  assert_near(parts[1].d_to, 300, EPS);
  free(parts);
  GEOSGeometry *g = NULL;
  assert_int_equal(pm_network_search_geometry(ctx, s, &g), PM_OK);
  assert_near(geom_length(ctx, g), 360, EPS);
  assert_int_equal(GEOSGetNumGeometries_r(pm_context_geos(ctx), g), 1); /* touching parts: 1 line */
  GEOSGeom_destroy_r(pm_context_geos(ctx), g);
  pm_network_search_destroy(s);
  pm_network_destroy(ctx, net);

  /* across a junction: from the west end of a T (arms of 100 m) with 150 m, 100 + 50 + 50 */
  const char *t[] = {"LINESTRING(0 0, 100 0, 200 0)", "LINESTRING(100 0, 100 100)"};
  net = build(ctx, t, 2, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);
  p = snap(ctx, net, 0, 0);
  assert_int_equal(pm_network_search_run(ctx, s, &p, NULL, 1, 150), PM_OK);
  assert_int_equal(pm_network_search_geometry(ctx, s, &g), PM_OK);
  assert_near(geom_length(ctx, g), 200, EPS);
  GEOSGeom_destroy_r(pm_context_geos(ctx), g);
  const uint32_t *nodes;
  assert_int_equal(pm_network_search_nodes(s, &nodes), 2); /* west end and junction */
  assert_true(isinf(pm_network_search_node_dist(s, node_at(net, 200, 0))));
  assert_int_equal(pm_network_search_node_source(s, node_at(net, 200, 0)), PM_NETWORK_NONE);
  assert_near(pm_network_search_node_dist(s, node_at(net, 100, 0)), 100, EPS);
  /* a second run resets what the first touched */
  p = snap(ctx, net, 200, 0);
  assert_int_equal(pm_network_search_run(ctx, s, &p, NULL, 1, 50), PM_OK);
  assert_true(isinf(pm_network_search_node_dist(s, node_at(net, 100, 0))));
  assert_true(isinf(pm_network_search_node_dist(s, node_at(net, 0, 0))));
  assert_int_equal(pm_network_search_geometry(ctx, s, &g), PM_OK);
  assert_near(geom_length(ctx, g), 50, EPS);
  GEOSGeom_destroy_r(pm_context_geos(ctx), g);
  pm_network_search_destroy(s);
  pm_network_destroy(ctx, net);
}

/* Two points on one edge: the walk along the edge, unless going round is shorter. */
static void test_same_edge(void **state) {
  pm_context *ctx = *state;
  const char *line[] = {"LINESTRING(0 0, 1000 0)"};
  pm_network *net = build(ctx, line, 1, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  pm_network_snap p = snap(ctx, net, 100, 10), q = snap(ctx, net, 400, -20);
  assert_int_equal(p.edge, q.edge);
  assert_near(net_dist(ctx, net, &p, &q), 10 + 300 + 20, EPS);
  assert_near(net_dist(ctx, net, &q, &p), 10 + 300 + 20, EPS);
  pm_network_destroy(ctx, net);

  /* a U-shaped street (1100 m) whose ends a 100 m street joins: round the short way */
  const char *u[] = {"LINESTRING(0 0, 0 500, 100 500, 100 0)", "LINESTRING(0 0, 100 0)"};
  net = build(ctx, u, 2, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  p = snap(ctx, net, -5, 10);
  q = snap(ctx, net, 105, 10);
  assert_int_equal(p.edge, q.edge);
  assert_near(net_dist(ctx, net, &p, &q), 5 + 10 + 100 + 10 + 5, EPS);
  pm_network_search *s = NULL;
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);
  assert_int_equal(pm_network_search_run(ctx, s, &p, NULL, 1, 1000), PM_OK);
  GEOSGeometry *path = NULL;
  assert_int_equal(pm_network_search_path(ctx, s, &q, 1, &path, NULL, NULL), PM_OK);
  char *w = wkt_of(ctx, path);
  assert_string_equal(w, "LINESTRING (-5 10, 0 10, 0 0, 100 0, 100 10, 105 10)");
  free(w);
  GEOSGeom_destroy_r(pm_context_geos(ctx), path);
  /* two points close on the long edge walk along it */
  pm_network_snap a = snap(ctx, net, -5, 300), b = snap(ctx, net, 5, 350);
  assert_int_equal(pm_network_search_run(ctx, s, &a, NULL, 1, 1000), PM_OK);
  assert_near(pm_network_search_dist_to(s, &b, NULL), 5 + 50 + 5, EPS);
  assert_int_equal(pm_network_search_path(ctx, s, &b, 0, &path, NULL, NULL), PM_OK);
  w = wkt_of(ctx, path);
  assert_string_equal(w, "LINESTRING (0 300, 0 350)");
  free(w);
  GEOSGeom_destroy_r(pm_context_geos(ctx), path);
  pm_network_search_destroy(s);
  pm_network_destroy(ctx, net);
}

/* d == cutoff is reached (inclusive), a hair more is not. */
static void test_cutoff_inclusive(void **state) {
  pm_context *ctx = *state;
  const char *wkt[] = {"LINESTRING(0 0, 100 0)", "LINESTRING(100 0, 200 0)"};
  pm_network *net = build(ctx, wkt, 2, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  pm_network_search *s = NULL;
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);
  pm_network_snap p = snap(ctx, net, 0, 0);
  assert_int_equal(pm_network_search_run(ctx, s, &p, NULL, 1, 100), PM_OK);
  assert_near(pm_network_search_node_dist(s, node_at(net, 100, 0)), 100, 0);
  pm_network_snap at = snap(ctx, net, 100, 0), leg = snap(ctx, net, 60, 40),
                  beyond = snap(ctx, net, 100.5, 0), leg_beyond = snap(ctx, net, 60, 40.001);
  assert_true(pm_network_search_dist_to(s, &at, NULL) == 100);
  assert_true(pm_network_search_dist_to(s, &leg, NULL) == 100);
  assert_true(isinf(pm_network_search_dist_to(s, &beyond, NULL)));
  assert_true(isinf(pm_network_search_dist_to(s, &leg_beyond, NULL)));
  /* cutoff 0: the seed's own point only */
  assert_int_equal(pm_network_search_run(ctx, s, &at, NULL, 1, 0), PM_OK);
  assert_true(pm_network_search_dist_to(s, &at, NULL) == 0);
  assert_true(isinf(pm_network_search_dist_to(s, &leg, NULL)));
  /* bad cutoffs */
  assert_int_equal(pm_network_search_run(ctx, s, &p, NULL, 1, -1), PM_EINPUT);
  assert_int_equal(pm_network_search_run(ctx, s, &p, NULL, 1, NAN), PM_EINPUT);
  pm_network_search_destroy(s);
  pm_network_destroy(ctx, net);
}

/* A point 150 m from the network with max_snap_m 100: unroutable, seeds nothing, reaches nothing. */
static void test_unroutable(void **state) {
  pm_context *ctx = *state;
  const char *wkt[] = {"LINESTRING(0 0, 1000 0)"};
  pm_network *net = build(ctx, wkt, 1, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  pm_network_snap pts[3];
  double xy[] = {500, 150, 500, 100, 0, -100.000001};
  assert_int_equal(pm_network_snap_points(ctx, net, xy, 3, pts), PM_OK);
  assert_int_equal(pts[0].status, PM_SNAP_TOO_FAR);
  assert_near(pts[0].leg_m, 150, EPS);
  assert_near(pts[0].sx, 500, EPS);
  assert_int_equal(pts[1].status, PM_SNAP_OK); /* exactly max_snap_m: inclusive */
  assert_int_equal(pts[2].status, PM_SNAP_TOO_FAR);
  assert_string_equal(pm_snap_status_name(PM_SNAP_TOO_FAR), "too far from the network");
  /* the gap notes' wording: how far, against max_snap_m; or no network at all */
  char note[160];
  assert_int_equal(pm_network_unroutable_note(&pts[0], 100, note, sizeof note), PM_OK);
  assert_string_equal(note, "unroutable: 150 m from the walking network (max_snap_m 100 m)");
  pm_network_snap none = {.status = PM_SNAP_NO_NETWORK, .edge = PM_NETWORK_NONE, .leg_m = INFINITY};
  assert_int_equal(pm_network_unroutable_note(&none, 100, note, sizeof note), PM_OK);
  assert_string_equal(note, "unroutable: no walking network outside islands");
  pm_network_search *s = NULL;
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);
  assert_int_equal(pm_network_search_run(ctx, s, pts, NULL, 1, INFINITY), PM_OK);
  const uint32_t *nodes;
  assert_int_equal(pm_network_search_nodes(s, &nodes), 0);
  assert_true(isinf(pm_network_search_dist_to(s, &pts[1], NULL)));
  assert_int_equal(pm_network_search_run(ctx, s, &pts[1], NULL, 1, INFINITY), PM_OK);
  uint32_t src = 7;
  assert_true(isinf(pm_network_search_dist_to(s, &pts[0], &src)));
  assert_int_equal(src, PM_NETWORK_NONE);
  GEOSGeometry *path = (GEOSGeometry *)1;
  double len = 0;
  assert_int_equal(pm_network_search_path(ctx, s, &pts[0], 1, &path, &len, NULL), PM_OK);
  assert_null(path);
  assert_true(isinf(len));
  pm_network_destroy(ctx, net);
  pm_network_search_destroy(s);
}

/* A station by a road with no crossing for 400 m: the stop across the road is 50 m away in a
 * straight line but 850 m on foot; the stop 150 m along the same side is the nearest by network. */
static void test_barrier(void **state) {
  pm_context *ctx = *state;
  const char *wkt[] = {"LINESTRING(-500 20, 400 20, 500 20)", "LINESTRING(-500 -20, 400 -20, 500 -20)",
                       "LINESTRING(400 20, 400 -20)"};
  pm_network *net = build(ctx, wkt, 3, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  double stops_xy[] = {0, -25, 150, 25}; /* stop 0 across the road, stop 1 on the station's side */
  pm_network_snap stops[2];
  assert_int_equal(pm_network_snap_points(ctx, net, stops_xy, 2, stops), PM_OK);
  pm_network_snap station = snap(ctx, net, 0, 25);
  uint32_t ids[] = {0, 1};
  pm_network_search *s = NULL;
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);
  assert_int_equal(pm_network_search_run(ctx, s, stops, ids, 2, 1000), PM_OK);
  uint32_t src = 99;
  double d = pm_network_search_dist_to(s, &station, &src);
  assert_near(d, 5 + 150 + 5, EPS);
  assert_int_equal(src, 1);
  assert_true(d >= hypot(150, 0));
  /* from the stop across the road alone */
  assert_int_equal(pm_network_search_run(ctx, s, stops, NULL, 1, 1000), PM_OK);
  d = pm_network_search_dist_to(s, &station, &src);
  assert_near(d, 5 + 400 + 40 + 400 + 5, EPS);
  assert_true(d > 50);
  /* within a 300 m catchment of stop 0 the station is not */
  assert_int_equal(pm_network_search_run(ctx, s, stops, NULL, 1, 300), PM_OK);
  assert_true(isinf(pm_network_search_dist_to(s, &station, NULL)));
  pm_network_search_destroy(s);
  pm_network_destroy(ctx, net);
}

/* Two sources at the same distance from a node: the smaller source id wins, in any seed order. */
static void test_tie_rule(void **state) {
  pm_context *ctx = *state;
  const char *wkt[] = {"LINESTRING(0 0, 100 0)", "LINESTRING(100 0, 200 0)",
                       "LINESTRING(100 0, 100 50)"};
  pm_network *net = build(ctx, wkt, 3, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  pm_network_snap seeds[2] = {snap(ctx, net, 0, 0), snap(ctx, net, 200, 0)};
  pm_network_snap rev[2] = {seeds[1], seeds[0]};
  uint32_t ids[] = {7, 3}, rev_ids[] = {3, 7};
  pm_network_snap q = snap(ctx, net, 100, 50), q2 = snap(ctx, net, 130, 1);
  pm_network_search *s = NULL;
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);
  for (int order = 0; order < 2; order++) {
    assert_int_equal(pm_network_search_run(ctx, s, order ? rev : seeds, order ? rev_ids : ids, 2, 500),
                     PM_OK);
    uint32_t mid = node_at(net, 100, 0);
    assert_near(pm_network_search_node_dist(s, mid), 100, 0);
    assert_int_equal(pm_network_search_node_source(s, mid), 3);
    assert_int_equal(pm_network_search_node_source(s, node_at(net, 0, 0)), 7);
    uint32_t src = 0;
    assert_near(pm_network_search_dist_to(s, &q, &src), 150, EPS);
    assert_int_equal(src, 3);
    assert_near(pm_network_search_dist_to(s, &q2, &src), 71, EPS);
    assert_int_equal(src, 3);
    /* the reached parts: each half of the main street belongs to its own source */
    pm_network_part *parts = NULL;
    size_t n = 0;
    assert_int_equal(pm_network_search_parts(ctx, s, &parts, &n), PM_OK);
    double len7 = 0, len3 = 0;
    for (size_t i = 0; i < n; i++) {
      if (parts[i].source == 7) len7 += parts[i].to_m - parts[i].from_m;
      if (parts[i].source == 3) len3 += parts[i].to_m - parts[i].from_m;
      assert_near(fabs(parts[i].d_to - parts[i].d_from), parts[i].to_m - parts[i].from_m, 1e-9);
    }
    assert_near(len7, 100, EPS);
    assert_near(len3, 150, EPS);
    free(parts);
  }
  /* several access points of one source (a station's entrances) */
  uint32_t same[] = {5, 5};
  assert_int_equal(pm_network_search_run(ctx, s, seeds, same, 2, 500), PM_OK);
  assert_int_equal(pm_network_search_node_source(s, node_at(net, 200, 0)), 5);
  assert_near(pm_network_search_node_dist(s, node_at(net, 200, 0)), 0, 0);
  pm_network_search_destroy(s);
  pm_network_destroy(ctx, net);
}

/* A jittered street grid with footways and random points: d(p, q) >= |pq| always; the multi-source
 * result is the minimum of the single-source ones; the walked path is as long as d; snapping and
 * searching give the same results on one or two threads. */
static uint64_t rng = 88172645463325252ULL;
static double rnd(void) { return pm_test_rand(&rng); }

static void test_random_invariants(void **state) {
  pm_context *ctx = *state;
  enum { G = 12, NP = 60 };
  double px[G][G], py[G][G];
  for (int i = 0; i < G; i++)
    for (int j = 0; j < G; j++) {
      px[i][j] = i * 100 + rnd() * 30;
      py[i][j] = j * 100 + rnd() * 30;
    }
  char **wkt = calloc(4 * G * G, sizeof *wkt);
  size_t n = 0;
  for (int i = 0; i < G; i++)
    for (int j = 0; j < G; j++) {
      char buf[256];
      if (i + 1 < G && rnd() < 0.85) {
        snprintf(buf, sizeof buf, "LINESTRING(%.6f %.6f, %.6f %.6f, %.6f %.6f)", px[i][j], py[i][j],
                 (px[i][j] + px[i + 1][j]) / 2 + rnd() * 10, (py[i][j] + py[i + 1][j]) / 2,
                 px[i + 1][j], py[i + 1][j]);
        wkt[n++] = strdup(buf);
      }
      if (j + 1 < G && rnd() < 0.85) {
        snprintf(buf, sizeof buf, "LINESTRING(%.6f %.6f, %.6f %.6f)", px[i][j], py[i][j], px[i][j + 1],
                 py[i][j + 1]);
        wkt[n++] = strdup(buf);
      }
      if (i + 1 < G && j + 1 < G && rnd() < 0.2) { /* a diagonal footway */
        snprintf(buf, sizeof buf, "LINESTRING(%.6f %.6f, %.6f %.6f)", px[i][j], py[i][j],
                 px[i + 1][j + 1], py[i + 1][j + 1]);
        wkt[n++] = strdup(buf);
      }
    }
  pm_network *net = build(ctx, (const char *const *)wkt, n, PM_NETWORK_CONNECT_VERTICES, 150, 60);
  for (size_t i = 0; i < n; i++) free(wkt[i]);
  free(wkt);

  enum { NT = 5000 }; /* several chunks of points, so that both threads snap some */
  double *xy = malloc(2 * NT * sizeof *xy);
  for (int i = 0; i < NT; i++) {
    xy[2 * i] = rnd() * G * 100;
    xy[2 * i + 1] = rnd() * G * 100;
  }
  pm_network_snap *a = malloc(NT * sizeof *a), *b = malloc(NT * sizeof *b);
  pm_context_set_threads(ctx, 1);
  assert_int_equal(pm_network_snap_points(ctx, net, xy, NT, a), PM_OK);
  pm_context_set_threads(ctx, 2);
  assert_int_equal(pm_network_snap_points(ctx, net, xy, NT, b), PM_OK);
  assert_memory_equal(a, b, NT * sizeof *a);
  size_t too_far = 0;
  for (int i = 0; i < NT; i++) {
    pm_network_snap one = snap(ctx, net, xy[2 * i], xy[2 * i + 1]);
    assert_memory_equal(&one, &a[i], sizeof one);
    too_far += a[i].status == PM_SNAP_TOO_FAR;
    if (a[i].status == PM_SNAP_OK) assert_true(a[i].leg_m <= 60);
  }
  assert_true(too_far > 0);

  pm_network_search *s = NULL, *m = NULL;
  assert_int_equal(pm_network_search_create(ctx, net, &s), PM_OK);
  assert_int_equal(pm_network_search_create(ctx, net, &m), PM_OK);
  /* multi-source from the first 10 points, cutoff 600 */
  assert_int_equal(pm_network_search_run(ctx, m, a, NULL, 10, 600), PM_OK);
  double best[NP];
  uint32_t best_src[NP];
  for (int q = 0; q < NP; q++) {
    best[q] = INFINITY;
    best_src[q] = PM_NETWORK_NONE;
  }
  size_t checked = 0;
  for (int p = 0; p < NP; p++) {
    if (a[p].status != PM_SNAP_OK) continue;
    assert_int_equal(pm_network_search_run(ctx, s, &a[p], NULL, 1, INFINITY), PM_OK);
    for (int q = 0; q < NP; q++) {
      double d = pm_network_search_dist_to(s, &a[q], NULL);
      if (a[q].status != PM_SNAP_OK) {
        assert_true(isinf(d));
        continue;
      }
      if (isinf(d)) continue; /* another component */
      double straight = hypot(xy[2 * p] - xy[2 * q], xy[2 * q + 1] - xy[2 * p + 1]);
      assert_true(d >= straight - 1e-9);
      checked++;
      if (p < 10 && d <= 600 && (d < best[q] || (d == best[q] && (uint32_t)p < best_src[q]))) {
        best[q] = d;
        best_src[q] = (uint32_t)p;
      }
      if (q % 7 == 0) { /* the walked path has the length of the distance */
        GEOSGeometry *path = NULL;
        double len = 0;
        assert_int_equal(pm_network_search_path(ctx, s, &a[q], 1, &path, &len, NULL), PM_OK);
        assert_near(geom_length(ctx, path), d, 1e-6);
        GEOSGeom_destroy_r(pm_context_geos(ctx), path);
      }
    }
  }
  assert_true(checked > NP * 10);
  for (int q = 0; q < NP; q++) {
    uint32_t src;
    double d = pm_network_search_dist_to(m, &a[q], &src);
    if (isinf(best[q])) {
      assert_true(isinf(d));
      continue;
    }
    assert_near(d, best[q], 1e-9);
    if (d == best[q]) assert_int_equal(src, best_src[q]);
  }
  /* reached parts: lengths agree with the geometry; distances along a part have slope 1 */
  pm_network_part *parts = NULL;
  size_t np = 0;
  assert_int_equal(pm_network_search_parts(ctx, m, &parts, &np), PM_OK);
  double sum = 0;
  for (size_t i = 0; i < np; i++) {
    sum += parts[i].to_m - parts[i].from_m;
    assert_true(parts[i].d_from <= 600 + 1e-9 && parts[i].d_to <= 600 + 1e-9);
    assert_near(fabs(parts[i].d_to - parts[i].d_from), parts[i].to_m - parts[i].from_m, 1e-9);
    if (i > 0 && parts[i].edge == parts[i - 1].edge)
      assert_true(parts[i].from_m >= parts[i - 1].to_m - 1e-12);
  }
  GEOSGeometry *g = NULL;
  assert_int_equal(pm_network_parts_geometry(ctx, net, parts, np, &g), PM_OK);
  assert_near(geom_length(ctx, g), sum, 1e-6);
  /* widened: each line alone then dissolved is the area GEOS gives the MultiLineString in one
   * call (to 1e-9 of it), with no slivers left between the pieces (same number of parts and holes) */
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSGeometry *area = NULL, *whole = GEOSBuffer_r(h, g, 12.5, 8);
  assert_int_equal(pm_network_parts_area(ctx, net, parts, np, 12.5, 8, &area), PM_OK);
  double a_area, a_whole, a_xor;
  GEOSGeometry *x = GEOSSymDifference_r(h, area, whole);
  assert_true(GEOSArea_r(h, area, &a_area) && GEOSArea_r(h, whole, &a_whole) && GEOSArea_r(h, x, &a_xor));
  assert_true(a_whole > 1e5);
  assert_near(a_area, a_whole, 1e-9 * a_whole);
  assert_true(a_xor < 1e-6 * a_whole);
  assert_int_equal(GEOSGetNumGeometries_r(h, area), GEOSGetNumGeometries_r(h, whole));
  int holes_area = 0, holes_whole = 0;
  for (int k = 0; k < GEOSGetNumGeometries_r(h, area); k++)
    holes_area += GEOSGetNumInteriorRings_r(h, GEOSGetGeometryN_r(h, area, k));
  for (int k = 0; k < GEOSGetNumGeometries_r(h, whole); k++)
    holes_whole += GEOSGetNumInteriorRings_r(h, GEOSGetGeometryN_r(h, whole, k));
  assert_int_equal(holes_area, holes_whole);
  GEOSGeom_destroy_r(h, x);
  GEOSGeom_destroy_r(h, whole);
  GEOSGeom_destroy_r(h, area);
  /* no width: a hairline that keeps the shape; no parts: an empty area */
  assert_int_equal(pm_network_parts_area(ctx, net, parts, np, 0, 8, &area), PM_OK);
  assert_true(GEOSArea_r(h, area, &a_area));
  assert_false(GEOSisEmpty_r(h, area));
  assert_true(a_area < 1e-5 * sum);
  GEOSGeom_destroy_r(h, area);
  assert_int_equal(pm_network_parts_area(ctx, net, parts, 0, 10, 8, &area), PM_OK);
  assert_true(GEOSisEmpty_r(h, area));
  GEOSGeom_destroy_r(h, area);
  GEOSGeom_destroy_r(pm_context_geos(ctx), g);
  free(parts);
  free(xy);
  free(a);
  free(b);
  pm_network_search_destroy(s);
  pm_network_search_destroy(m);
  pm_network_destroy(ctx, net);
}

/* Snapping against brute force over every edge: the nearest edge (smallest id on ties: points as
 * near to two streets, or next to a junction), its position and leg, for points near the streets,
 * between them, and far away (beyond every box the search tries first, where GEOS's
 * nearest-neighbour search takes over). */
static void test_snap_brute_force(void **state) {
  (void)state;
  pm_context *ctx = NULL;
  assert_int_equal(pm_context_create(&ctx), PM_OK);
  enum { G = 15, NP = 3000 };
  char *wkt[2 * G * G + G];
  size_t n = 0;
  for (int i = 0; i < G; i++)
    for (int j = 0; j < G; j++) {
      char buf[256];
      if (i + 1 < G) {
        snprintf(buf, sizeof buf, "LINESTRING(%d %d, %d %d)", i * 100, j * 100, (i + 1) * 100, j * 100);
        wkt[n++] = strdup(buf);
      }
      if (j + 1 < G) {
        snprintf(buf, sizeof buf, "LINESTRING(%d %d, %d %d, %d %d)", i * 100, j * 100, i * 100,
                 j * 100 + 50, i * 100, (j + 1) * 100);
        wkt[n++] = strdup(buf);
      }
    }
  for (int i = 0; i + 1 < G; i += 3) { /* a few diagonals, crossing streets without a shared vertex */
    char buf[256];
    snprintf(buf, sizeof buf, "LINESTRING(%d %d, %d %d)", i * 100, 0, (i + 1) * 100, (G - 1) * 100);
    wkt[n++] = strdup(buf);
  }
  pm_network *net = build(ctx, (const char *const *)wkt, n, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  for (size_t i = 0; i < n; i++) free(wkt[i]);
  const pm_network_info *in = pm_network_get_info(net);
  size_t ties = 0, far = 0;
  for (int k = 0; k < NP; k++) {
    double x, y;
    if (k % 3 == 0) { /* as near to two streets: diagonally off a junction */
      double o = 1 + (k % 7);
      x = (k % G) * 100 + o;
      y = ((k / G) % G) * 100 + o;
    } else if (k % 3 == 1) {
      x = rnd() * (G - 1) * 100;
      y = rnd() * (G - 1) * 100;
    } else { /* far: 1 to 20 km away */
      double r = 1000 + rnd() * 19000, a = rnd() * 6.283185307179586;
      x = 700 + r * cos(a);
      y = 700 + r * sin(a);
    }
    pm_network_snap p = snap(ctx, net, x, y);
    double best = INFINITY, bpos = 0;
    uint32_t be = PM_NETWORK_NONE, nbest = 0;
    for (uint32_t e = 0; e < in->n_edges; e++) {
      double pos;
      double d2 = pm__net_edge_project(net, e, x, y, &pos, NULL, NULL);
      if (d2 < best) {
        best = d2;
        be = e;
        bpos = pos;
        nbest = 1;
      } else if (d2 == best) {
        nbest++;
      }
    }
    ties += nbest > 1;
    double dist = hypot(x - 700, y - 700);
    far += dist > 2000;
    assert_int_equal(p.status, sqrt(best) <= 100 ? PM_SNAP_OK : PM_SNAP_TOO_FAR);
    assert_true(p.leg_m == sqrt(best));
    if (nbest > 1 && dist > 2000) continue; /* the tree's own search: any of the nearest */
    assert_int_equal(p.edge, be);
    assert_true(p.pos_m == bpos);
  }
  assert_true(ties > NP / 4);
  assert_true(far > NP / 4);
  pm_network_destroy(ctx, net);
  pm_context_destroy(ctx);
}

/* Snapping onto long, winding edges (cut into chunks for the index) agrees with GEOS: the leg is
 * GEOSDistance to the nearest line, the position GEOSProject onto it. */
static void test_snap_long_edges(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  enum { NL = 6, NV = 157 };
  char *wkt[NL];
  for (int l = 0; l < NL; l++) {
    size_t cap = NV * 48, len = 0;
    wkt[l] = malloc(cap);
    len += (size_t)snprintf(wkt[l], cap, "LINESTRING(");
    for (int k = 0; k < NV; k++)
      len += (size_t)snprintf(wkt[l] + len, cap - len, "%s%.6f %.6f", k ? ", " : "", k * 13.0 + rnd(),
                              l * 120.0 + 40 * sin(k * 0.21 + l) + rnd() * 3);
    snprintf(wkt[l] + len, cap - len, ")");
  }
  pm_network *net = build(ctx, (const char *const *)wkt, NL, PM_NETWORK_CONNECT_VERTICES, 0, 1e9);
  assert_int_equal(pm_network_get_info(net)->n_edges, NL);
  GEOSGeometry *lines[NL];
  for (int l = 0; l < NL; l++) lines[l] = pm_test_geom(ctx, wkt[l]);
  for (int i = 0; i < 2000; i++) {
    double x = rnd() * 2200 - 100, y = rnd() * 900 - 100;
    pm_network_snap p = snap(ctx, net, x, y);
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, x, y);
    double best = INFINITY;
    int bl = -1;
    for (int l = 0; l < NL; l++) {
      double d;
      assert_int_equal(GEOSDistance_r(h, pt, lines[l], &d), 1);
      if (d < best) {
        best = d;
        bl = l;
      }
    }
    assert_near(p.leg_m, best, 1e-9);
    pm_network_edge ed;
    pm_network_edge_get(net, p.edge, &ed);
    if ((int)ed.feature == bl) { /* the same line (not a tie with another): the same position */
      double along = GEOSProject_r(h, lines[bl], pt);
      double sx, sy;
      pm_network_edge_point(net, p.edge, p.pos_m, &sx, &sy);
      assert_near(sx, p.sx, 1e-6);
      assert_near(sy, p.sy, 1e-6);
      assert_near(p.pos_m, along, 1e-6); /* edges keep their line's direction */
    }
    GEOSGeom_destroy_r(h, pt);
  }
  for (int l = 0; l < NL; l++) {
    GEOSGeom_destroy_r(h, lines[l]);
    free(wkt[l]);
  }
  pm_network_destroy(ctx, net);
}

static void test_bad_input(void **state) {
  pm_context *ctx = *state;
  pm_network *net = NULL;
  pm_network_options o;
  pm_network_options_init(&o);
  assert_int_equal(o.connect, PM_NETWORK_CONNECT_VERTICES);
  assert_near(o.max_snap_m, 100, 0);
  assert_near(o.min_piece_m, 200, 0);

  const char *poly[] = {"POLYGON((0 0, 1 0, 1 1, 0 0))"};
  pm_features *fs = pm_test_wkt(ctx, "parks", poly, NULL, 1);
  assert_int_equal(pm_network_build(ctx, fs, &o, &net), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "'parks' holds polygons"));
  pm_features_destroy(ctx, fs);

  fs = pm_test_wkt(ctx, "roads", NULL, NULL, 0);
  assert_int_equal(pm_network_build(ctx, fs, &o, &net), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "no lines"));
  pm_features_destroy(ctx, fs);

  const char *dot[] = {"LINESTRING(5 5, 5 5)"};
  fs = pm_test_wkt(ctx, "roads", dot, NULL, 1);
  assert_int_equal(pm_network_build(ctx, fs, &o, &net), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "no lines of any length"));
  pm_features_destroy(ctx, fs);

  const char *line[] = {"MULTILINESTRING((0 0, 10 0), (20 0, 20 0))"};
  fs = pm_test_wkt(ctx, "roads", line, NULL, 1);
  o.max_snap_m = -1;
  assert_int_equal(pm_network_build(ctx, fs, &o, &net), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "max_snap_m"));
  o.max_snap_m = 100;
  o.min_piece_m = NAN;
  assert_int_equal(pm_network_build(ctx, fs, &o, &net), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "min_piece_m"));
  o.min_piece_m = 0;
  o.connect = (pm_network_connect)7;
  assert_int_equal(pm_network_build(ctx, fs, &o, &net), PM_EINPUT);
  o.connect = PM_NETWORK_CONNECT_VERTICES;
  assert_int_equal(pm_network_build(ctx, fs, &o, &net), PM_OK);
  assert_int_equal(pm_network_get_info(net)->n_skipped_parts, 1);
  assert_int_equal(pm_network_get_info(net)->n_edges, 1);
  pm_network_destroy(ctx, net);
  pm_features_destroy(ctx, fs);

  pm_network_connect c;
  assert_int_equal(pm_network_connect_parse(ctx, "crossings", &c), PM_OK);
  assert_int_equal(c, PM_NETWORK_CONNECT_CROSSINGS);
  assert_string_equal(pm_network_connect_name(c), "crossings");
  assert_int_equal(pm_network_connect_parse(ctx, "vertice", &c), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "`vertices`"));
}

/* The OSM walkable rule of §5 on single tag sets, and its SQL text against the predicate on every
 * combination of values, in SQLite (the project database) and in OGR SQL (ingest's --where). */
static void test_osm_walkable(void **state) {
  (void)state;
  assert_true(pm_network_osm_walkable("footway", NULL, NULL, NULL));
  assert_true(pm_network_osm_walkable("residential", NULL, NULL, NULL));
  assert_true(pm_network_osm_walkable("primary_link", NULL, NULL, NULL));
  assert_false(pm_network_osm_walkable("cycleway", NULL, NULL, NULL));
  assert_true(pm_network_osm_walkable("cycleway", "designated", NULL, NULL));
  assert_false(pm_network_osm_walkable("trunk", NULL, NULL, NULL)); /* Shanghai's expressways */
  assert_true(pm_network_osm_walkable("trunk", "yes", NULL, NULL));
  assert_false(pm_network_osm_walkable("motorway", "permissive", NULL, NULL));
  assert_false(pm_network_osm_walkable("service", NULL, "private", NULL));
  assert_true(pm_network_osm_walkable("service", "yes", "private", NULL)); /* foot wins */
  assert_true(pm_network_osm_walkable("service", NULL, "permissive", NULL));
  assert_false(pm_network_osm_walkable("footway", "no", NULL, NULL));
  assert_false(pm_network_osm_walkable("footway", "no", "yes", NULL));
  assert_false(pm_network_osm_walkable("pedestrian", NULL, NULL, "yes"));
  assert_true(pm_network_osm_walkable("pedestrian", NULL, NULL, "no"));
  assert_false(pm_network_osm_walkable("construction", NULL, NULL, NULL));
  assert_false(pm_network_osm_walkable("platform", "yes", NULL, NULL));
  assert_false(pm_network_osm_walkable("bridleway", NULL, NULL, NULL));
  assert_false(pm_network_osm_walkable(NULL, "yes", NULL, NULL));
  const char *const *f = pm_network_osm_walkable_fields();
  assert_string_equal(f[0], "highway");
  assert_string_equal(f[3], "area");
  assert_null(f[4]);

  const char *hw[] = {NULL, "footway", "residential", "cycleway", "trunk", "motorway_link",
                      "track", "construction", "platform"};
  const char *foot[] = {NULL, "yes", "designated", "no", "permissive"};
  const char *access[] = {NULL, "private", "no", "yes", "destination"};
  const char *area[] = {NULL, "yes", "no"};
  size_t nh = PM_ARRAY_LEN(hw), nf = PM_ARRAY_LEN(foot), na = PM_ARRAY_LEN(access),
         nr = PM_ARRAY_LEN(area);

  /* SQLite */
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "CREATE TABLE lines(id INTEGER PRIMARY KEY, highway TEXT, "
                                    "foot TEXT, access TEXT, area TEXT)", NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_stmt *ins = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO lines VALUES (?, ?, ?, ?, ?)", -1, &ins, NULL),
                   SQLITE_OK);
  size_t id = 0, expected = 0;
  char *want = calloc(nh * nf * na * nr, 1);
  for (size_t a = 0; a < nh; a++)
    for (size_t b = 0; b < nf; b++)
      for (size_t c = 0; c < na; c++)
        for (size_t d = 0; d < nr; d++, id++) {
          sqlite3_reset(ins);
          sqlite3_bind_int64(ins, 1, (sqlite3_int64)id);
          const char *v[] = {hw[a], foot[b], access[c], area[d]};
          for (int k = 0; k < 4; k++)
            v[k] ? sqlite3_bind_text(ins, k + 2, v[k], -1, SQLITE_STATIC) : sqlite3_bind_null(ins, k + 2);
          assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
          want[id] = (char)pm_network_osm_walkable(hw[a], foot[b], access[c], area[d]);
          expected += (size_t)want[id];
        }
  sqlite3_finalize(ins);
  char sql[2048];
  snprintf(sql, sizeof sql, "SELECT id FROM lines WHERE (%s) ORDER BY id",
           pm_network_osm_walkable_where());
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
  size_t got = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    size_t i = (size_t)sqlite3_column_int64(q, 0);
    assert_true(want[i]);
    got++;
  }
  sqlite3_finalize(q);
  sqlite3_close(db);
  assert_int_equal(got, expected);
  assert_true(expected > 20);

  /* OGR SQL, on an in-memory layer */
  OGRRegisterAll();
  OGRSFDriverH drv = OGRGetDriverByName("Memory");
  assert_non_null(drv);
  OGRDataSourceH ds = OGR_Dr_CreateDataSource(drv, "walk", NULL);
  OGRLayerH lyr = OGR_DS_CreateLayer(ds, "lines", NULL, wkbNone, NULL);
  const char *cols[] = {"highway", "foot", "access", "area"};
  for (int k = 0; k < 4; k++) {
    OGRFieldDefnH fd = OGR_Fld_Create(cols[k], OFTString);
    assert_int_equal(OGR_L_CreateField(lyr, fd, 1), OGRERR_NONE);
    OGR_Fld_Destroy(fd);
  }
  id = 0;
  for (size_t a = 0; a < nh; a++)
    for (size_t b = 0; b < nf; b++)
      for (size_t c = 0; c < na; c++)
        for (size_t d = 0; d < nr; d++, id++) {
          OGRFeatureH ft = OGR_F_Create(OGR_L_GetLayerDefn(lyr));
          const char *v[] = {hw[a], foot[b], access[c], area[d]};
          for (int k = 0; k < 4; k++)
            if (v[k]) OGR_F_SetFieldString(ft, k, v[k]);
          OGR_F_SetFID(ft, (GIntBig)id);
          assert_int_equal(OGR_L_CreateFeature(lyr, ft), OGRERR_NONE);
          OGR_F_Destroy(ft);
        }
  assert_int_equal(OGR_L_SetAttributeFilter(lyr, pm_network_osm_walkable_where()), OGRERR_NONE);
  got = 0;
  OGRFeatureH ft;
  OGR_L_ResetReading(lyr);
  while ((ft = OGR_L_GetNextFeature(lyr))) {
    assert_true(want[OGR_F_GetFID(ft)]);
    got++;
    OGR_F_Destroy(ft);
  }
  assert_int_equal(got, expected);
  OGR_DS_Destroy(ds);
  free(want);
}

/* Memory stays within the budget of the design (< 100 bytes per edge beyond the coordinates). */
static void test_memory(void **state) {
  pm_context *ctx = *state;
  enum { G = 40 };
  char **wkt = calloc(2 * G, sizeof *wkt);
  size_t n = 0;
  for (int i = 0; i < G; i++) {
    char buf[8192];
    size_t len = (size_t)snprintf(buf, sizeof buf, "LINESTRING(");
    for (int j = 0; j < G; j++)
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%d %d", j ? ", " : "", i * 100, j * 100);
    snprintf(buf + len, sizeof buf - len, ")");
    wkt[n++] = strdup(buf);
    len = (size_t)snprintf(buf, sizeof buf, "LINESTRING(");
    for (int j = 0; j < G; j++)
      len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%d %d", j ? ", " : "", j * 100, i * 100);
    snprintf(buf + len, sizeof buf - len, ")");
    wkt[n++] = strdup(buf);
  }
  pm_network *net = build(ctx, (const char *const *)wkt, n, PM_NETWORK_CONNECT_VERTICES, 0, 100);
  const pm_network_info *in = pm_network_get_info(net);
  assert_int_equal(in->n_nodes, G * G);
  assert_int_equal(in->n_edges, 2 * G * (G - 1));
  assert_int_equal(in->n_dangling, 0);
  double per_edge = (double)(in->bytes - in->coord_bytes) / in->n_edges;
  assert_true(per_edge < 100);
  for (size_t i = 0; i < n; i++) free(wkt[i]);
  free(wkt);
  pm_network_destroy(ctx, net);
}

/* The textbook Hilbert index (one bit pair per step), to check the loop-free one. */
static uint64_t hilbert_loop(uint64_t x, uint64_t y) {
  const uint64_t n = UINT64_C(1) << 32;
  uint64_t d = 0;
  for (uint64_t s = n / 2; s > 0; s /= 2) {
    uint64_t rx = (x & s) > 0, ry = (y & s) > 0;
    d += s * s * ((3 * rx) ^ ry);
    if (ry == 0) {
      if (rx == 1) {
        x = n - 1 - x;
        y = n - 1 - y;
      }
      uint64_t t = x;
      x = y;
      y = t;
    }
  }
  return d;
}

static void test_hilbert(void **state) {
  (void)state;
  for (uint32_t x = 0; x < 8; x++)
    for (uint32_t y = 0; y < 8; y++) assert_true(pm__net_hilbert(x, y) == hilbert_loop(x, y));
  for (int i = 0; i < 100000; i++) {
    uint32_t x = (uint32_t)(rnd() * 4294967296.0), y = (uint32_t)(rnd() * 4294967296.0);
    if (i % 3 == 0) y = x ^ (uint32_t)(rnd() * 64);
    assert_true(pm__net_hilbert(x, y) == hilbert_loop(x, y));
  }
  assert_true(pm__net_hilbert(UINT32_MAX, 0) == hilbert_loop(UINT32_MAX, 0));
  /* the first 4096 cells of the curve fill the 64 x 64 square at the origin, each next to the
   * one before */
  for (uint32_t x = 0; x < 64; x++)
    for (uint32_t y = 0; y < 64; y++) {
      uint64_t d = pm__net_hilbert(x, y);
      assert_true(d < 4096);
      int adjacent = 0;
      for (int k = 0; k < 4; k++) {
        int64_t nx = (int64_t)x + (k == 0) - (k == 1), ny = (int64_t)y + (k == 2) - (k == 3);
        if (nx >= 0 && ny >= 0 && pm__net_hilbert((uint32_t)nx, (uint32_t)ny) == d + 1) adjacent = 1;
      }
      assert_true(adjacent || d == 4095);
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      pm_test_case(test_t_junction),      pm_test_case(test_bridge),
      pm_test_case(test_merge_ends),      pm_test_case(test_island),
      pm_test_case(test_partly_reached),  pm_test_case(test_same_edge),
      pm_test_case(test_cutoff_inclusive), pm_test_case(test_unroutable),
      pm_test_case(test_barrier),         pm_test_case(test_tie_rule),
      pm_test_case(test_random_invariants), pm_test_case(test_bad_input),
      cmocka_unit_test(test_osm_walkable),    pm_test_case(test_memory),
      cmocka_unit_test(test_hilbert),        pm_test_case(test_far_outlier),        pm_test_case(test_snap_long_edges),
      cmocka_unit_test(test_snap_brute_force),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
