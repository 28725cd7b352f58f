/* network.h: the walking network (METRICS.md §5): a graph from a line layer, points snapped to its
 * edges, shortest-path searches with a cutoff, the reached network and walked paths. */
#ifndef PLANMETRICS_NETWORK_H
#define PLANMETRICS_NETWORK_H

#include <stdint.h>

#include "planmetrics/context.h"
#include "planmetrics/features.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How to use it (one plan's `network:` block):
 *
 *   pm_network *net;  pm_network_build(ctx, roads, &opt, &net);          once, read-only afterwards
 *   pm_network_snap s[n];  pm_network_snap_points(ctx, net, xy, n, s);    points -> edges (threads)
 *   pm_network_search *q;  pm_network_search_create(ctx, net, &q);        one per thread
 *   pm_network_search_run(ctx, q, seeds, source_ids, n_seeds, cutoff_m);  multi- or single-source
 *   pm_network_search_dist_to(q, &target_snap, &source)                   d(source, target), §5
 *   pm_network_search_geometry(ctx, q, &reached)                          reached network (coverage)
 *   pm_network_search_path(ctx, q, &target_snap, 1, &line, &len, &src)   the walked path
 *
 * Ids: nodes are numbered 0 .. n_nodes-1 in spatial (Hilbert) order, edges 0 .. n_edges-1 in the
 * order of their lower node, components 0 .. n_components-1 by decreasing length (0 is the largest).
 * All distances are metres in the layer's (metric) CRS. Threads: a built pm_network is never
 * modified, so any number of threads may snap and search on it at once, each with its own
 * pm_context and its own pm_network_search. No result depends on the number of threads. */

#define PM_NETWORK_NONE UINT32_MAX /* "no node / edge / source / feature" */
#define PM_NETWORK_MERGE_M 0.5     /* line endpoints closer than this are one node (§5) */

typedef enum pm_network_connect {
  PM_NETWORK_CONNECT_VERTICES = 0, /* lines join where they share a vertex (identical coordinates) */
  PM_NETWORK_CONNECT_CROSSINGS = 1 /* every intersection joins (GEOS noding of the union) */
} pm_network_connect;

/* "vertices" / "crossings" (static strings). */
PM_API const char *pm_network_connect_name(pm_network_connect connect);
/* Parse the plan's `connect:` value; anything else is PM_EINPUT with a message naming the choices. */
PM_API pm_status pm_network_connect_parse(pm_context *ctx, const char *text, pm_network_connect *out);

typedef struct pm_network_options {
  pm_network_connect connect;
  double min_piece_m; /* components shorter than this in total are islands: kept, never snapped to */
  double max_snap_m;  /* points farther than this from every non-island edge are unroutable */
} pm_network_options;

/* The values of METRICS.md §5's example: vertices, min_piece_m 200, max_snap_m 100. */
PM_API void pm_network_options_init(pm_network_options *opt);

typedef struct pm_network pm_network;

/* Build the graph of a line selection (a GEOS geometry per feature, metric CRS; LineString or
 * MultiLineString, every part used). Undirected; edge cost = planar length. With `vertices`, a line
 * is split at every vertex it shares with another line (or with itself) and at its ends; with
 * `crossings`, the union of all lines is noded first. Then line endpoints closer than
 * PM_NETWORK_MERGE_M to another endpoint or junction become one node (no coordinate moves: the
 * edges keep their exact geometry; the node's position is the junction's, else the lowest x,y).
 * Parts with fewer than 2 distinct vertices are skipped (counted in info.n_skipped_parts).
 * Errors (PM_EINPUT, message naming the layer): not a line layer, no edge at all, bad options
 * (min_piece_m < 0 or NaN, max_snap_m <= 0 or NaN; INFINITY allowed for both).
 * The network copies what it needs: `lines` may be freed afterwards. Caller owns *out and frees it
 * with pm_network_destroy. */
PM_API pm_status pm_network_build(pm_context *ctx, const pm_features *lines, const pm_network_options *opt,
                           pm_network **out);
PM_API void pm_network_destroy(pm_context *ctx, pm_network *net);

/* Sizes, for reports and `planmetrics network info`. */
typedef struct pm_network_info {
  const char *layer;          /* the features' layer name (borrowed from the network) */
  pm_network_options options; /* as built */
  uint32_t n_nodes, n_edges, n_components;
  uint32_t n_parts;           /* line parts read (after noding with `crossings`) */
  uint32_t n_skipped_parts;   /* parts with fewer than 2 distinct vertices */
  uint32_t n_merged;          /* endpoint positions merged into another node (< 0.5 m) */
  uint32_t n_dangling;        /* nodes with exactly one edge end (dead ends, loose ends) */
  double length_m;            /* total edge length */
  double largest_length_m;    /* length of component 0 */
  double largest_share;       /* largest_length_m / length_m, 0..1 */
  uint32_t n_islands;         /* components shorter than min_piece_m */
  uint32_t n_island_edges;
  double island_length_m;
  size_t bytes;               /* memory held by the network (graph, coordinates, index) */
  size_t coord_bytes;         /* of which vertex coordinates (each edge keeps its own: an end
                                 shared by edges is stored with each) */
} pm_network_info;

/* Borrowed; valid until pm_network_destroy. */
PM_API const pm_network_info *pm_network_get_info(const pm_network *net);

typedef struct pm_network_component {
  uint32_t n_nodes, n_edges;
  double length_m;
  double minx, miny, maxx, maxy; /* extent of its edges */
  int island;                    /* length_m < min_piece_m */
} pm_network_component;

/* Component c (0 .. n_components-1) into *out. PM_EINPUT for an unknown id. */
PM_API pm_status pm_network_component_get(pm_context *ctx, const pm_network *net, uint32_t c,
                                   pm_network_component *out);
/* The edges of component c as a MultiLineString (e.g. to list islands). Caller owns *out. */
PM_API pm_status pm_network_component_geometry(pm_context *ctx, const pm_network *net, uint32_t c,
                                        GEOSGeometry **out);

typedef struct pm_network_edge {
  uint32_t from, to;   /* nodes at the first and the last vertex (equal for a closed loop) */
  uint32_t component;
  uint32_t feature;    /* index of the source feature in the built selection (`vertices`), or
                          PM_NETWORK_NONE (`crossings`: noded lines have no single source) */
  int island;
  double length_m;
  const double *xy;    /* vertices x0,y0,x1,y1,... from `from` to `to` (borrowed) */
  uint32_t n_xy;       /* number of vertices (>= 2) */
} pm_network_edge;

/* Edge e (< n_edges) into *out; the coordinates stay owned by the network. */
PM_API void pm_network_edge_get(const pm_network *net, uint32_t e, pm_network_edge *out);
/* Position and component of node n (< n_nodes). */
PM_API void pm_network_node_xy(const pm_network *net, uint32_t n, double *x, double *y);
PM_API uint32_t pm_network_node_component(const pm_network *net, uint32_t n);
/* Number of edge ends at node n (a closed loop counts twice). */
PM_API uint32_t pm_network_node_degree(const pm_network *net, uint32_t n);

/* The part of edge e between positions from_m <= to_m (metres from its `from` node, clamped to
 * 0 .. length) as a LineString in the edge's direction. Caller owns *out. */
PM_API pm_status pm_network_edge_line(pm_context *ctx, const pm_network *net, uint32_t e, double from_m,
                               double to_m, GEOSGeometry **out);
/* The point at position pos_m along edge e (clamped). */
PM_API void pm_network_edge_point(const pm_network *net, uint32_t e, double pos_m, double *x, double *y);

/* --- Snapping (§5): a point attaches to the nearest point of the nearest non-island edge --- */

typedef enum pm_snap_status {
  PM_SNAP_OK = 0,        /* snapped within max_snap_m: usable as a seed or a target */
  PM_SNAP_TOO_FAR = 1,   /* unroutable: the nearest edge is farther than max_snap_m (edge, leg_m,
                            sx, sy still say where the nearest point is, for the report) */
  PM_SNAP_NO_NETWORK = 2 /* unroutable: every edge is on an island (nothing to snap to) */
} pm_snap_status;

/* "ok", "too far from the network", "no network outside islands" (static strings). */
PM_API const char *pm_snap_status_name(pm_snap_status status);

typedef struct pm_network_snap {
  double x, y;           /* the point */
  pm_snap_status status;
  uint32_t edge;         /* the nearest edge (PM_NETWORK_NONE with PM_SNAP_NO_NETWORK) */
  double pos_m;          /* position of the snap point: metres from the edge's `from` node */
  double leg_m;          /* |p p'|: the straight leg from the point to its snap point */
  double sx, sy;         /* the snap point p' */
} pm_network_snap;

/* Why a point that did not snap is unroutable, for a gap's note: "unroutable: 412 m from the
 * walking network (max_snap_m 100 m)" or "unroutable: no walking network outside islands";
 * written into buf (size bytes, truncated to fit). The wording of every report and query. */
PM_API pm_status pm_network_unroutable_note(const pm_network_snap *s, double max_snap_m, char *buf,
                                            size_t size);

/* Snap one point. Ties between edges at the same distance (a point nearest to a junction) go to
 * the smallest edge id (for a point more than 2.5 km from every edge: the same way every time for
 * a given network); at a junction the distances of §5 do not depend on which. */
PM_API pm_status pm_network_snap_point(pm_context *ctx, const pm_network *net, double x, double y,
                                pm_network_snap *out);
/* Snap n points xy[2i], xy[2i+1] into out[0..n) with pm_context_threads(ctx) threads. */
PM_API pm_status pm_network_snap_points(pm_context *ctx, const pm_network *net, const double *xy, size_t n,
                                 pm_network_snap *out);

/* --- Searches --- */

/* The state of one search (distances, sources, predecessors, heap) for one thread: the arrays have
 * one slot per node, and a new run resets only the nodes the previous run touched, so many small
 * searches cost what they touch. Caller owns *out (pm_network_search_destroy); the network must
 * outlive it. */
typedef struct pm_network_search pm_network_search;
PM_API pm_status pm_network_search_create(pm_context *ctx, const pm_network *net, pm_network_search **out);
PM_API void pm_network_search_destroy(pm_network_search *s);

/* Dijkstra from every seed with status PM_SNAP_OK (others seed nothing), up to cutoff_m (>= 0,
 * INFINITY for no limit; inclusive: d <= cutoff_m is reached). A seed enters the graph at its snap
 * point with its leg already walked: its edge's end nodes start at leg + pos_m and
 * leg + (length - pos_m). source[i] is seed i's source id (several seeds may share one: a station's
 * entrances, a park's boundary points); source == NULL means source id = i. Every node gets the
 * distance to its nearest source and that source; ties go to the smaller source id, so the result
 * is the same whatever the order of the seeds or the number of threads. One cutoff per run: sources
 * with different radii (coverage's size classes) run one pass per radius.
 * The seeds are copied; the results below stay valid until the next run or destroy. */
PM_API pm_status pm_network_search_run(pm_context *ctx, pm_network_search *s, const pm_network_snap *seeds,
                                const uint32_t *source, size_t n, double cutoff_m);

PM_API double pm_network_search_cutoff(const pm_network_search *s);
/* Distance of node n to its nearest source (INFINITY when farther than the cutoff) and that source
 * (PM_NETWORK_NONE when not reached). */
PM_API double pm_network_search_node_dist(const pm_network_search *s, uint32_t n);
PM_API uint32_t pm_network_search_node_source(const pm_network_search *s, uint32_t n);
/* The nodes the last run reached (d <= cutoff), in the order they were first labelled. Borrowed. */
PM_API size_t pm_network_search_nodes(const pm_network_search *s, const uint32_t **nodes);

/* d(source, q) of §5 for a snapped point q: min over q's edge ends of node distance + the way
 * along the edge, and along the edge itself from a seed on the same edge, plus q's leg. Returns
 * INFINITY when q is unroutable or d > cutoff (exact whenever d <= cutoff). *source (may be NULL)
 * receives the nearest source (PM_NETWORK_NONE when INFINITY); ties go to the smaller id. */
PM_API double pm_network_search_dist_to(const pm_network_search *s, const pm_network_snap *q,
                                 uint32_t *source);

/* A reached part of an edge: positions from_m < to_m along the edge, the network distance at both
 * ends (linear in between: it grows away from the part's source) and that source. The parts of one
 * edge do not overlap; together they are every point x of the graph with d(source, x) <= cutoff,
 * each with its nearest source. (A point reached at exactly the cutoff with nothing around it,
 * a part of zero length, is left out.) */
typedef struct pm_network_part {
  uint32_t edge;
  uint32_t source;
  double from_m, to_m;
  double d_from, d_to;
} pm_network_part;

/* The reached parts of the last run, sorted by edge then position. Caller frees *out with free(). */
PM_API pm_status pm_network_search_parts(pm_context *ctx, const pm_network_search *s,
                                  pm_network_part **out, size_t *n);
/* The parts cut to where their distance lies in [lo, hi] (with first == 0, a later band of a
 * series: (lo, hi]), written to band (room for n parts, the caller's); *n_band receives how many.
 * The distance grows linearly along a part, so each keeps the positions in the band. */
PM_API pm_status pm_network_parts_band(const pm_network_part *parts, size_t n, double lo, double hi,
                                       int first, pm_network_part *band, size_t *n_band);
/* Parts as one MultiLineString (touching parts of an edge joined into one line); an empty
 * MultiLineString when n == 0. Caller owns *out. */
PM_API pm_status pm_network_parts_geometry(pm_context *ctx, const pm_network *net,
                                    const pm_network_part *parts, size_t n, GEOSGeometry **out);
/* Parts widened by width_m on each side into one polygonal area (round ends and joins, quadsegs
 * segments per quarter circle): each line is widened alone and the pieces dissolved (a cascaded
 * union: the same area as widening the MultiLineString in one call, many times faster on a
 * reached network of hundreds of edges). width_m <= 0 gives a hairline (1e-6 m), an area of
 * about 0 that keeps the shape. An empty MultiPolygon when n == 0. Caller owns *out. */
PM_API pm_status pm_network_parts_area(pm_context *ctx, const pm_network *net,
                                       const pm_network_part *parts, size_t n, double width_m,
                                       int quadsegs, GEOSGeometry **out);
/* The reached network of the last run (parts + geometry in one call). Caller owns *out. */
PM_API pm_status pm_network_search_geometry(pm_context *ctx, const pm_network_search *s,
                                     GEOSGeometry **out);

/* The walk from the nearest source to q as a LineString: from the seed's snap point along the
 * edges to q's snap point; with_legs adds the seed's point before and q after. *length_m (may be
 * NULL) receives d(source, q) (as pm_network_search_dist_to), *source (may be NULL) the source.
 * When q is not reached (INFINITY), *out is NULL and the status PM_OK. A path of zero length is an
 * empty LineString. Caller owns *out. */
PM_API pm_status pm_network_search_path(pm_context *ctx, const pm_network_search *s,
                                 const pm_network_snap *q, int with_legs, GEOSGeometry **out,
                                 double *length_m, uint32_t *source);

/* --- OSM walkable default (§5) --- */

/* The walkable selection of OSM `lines` as an SQL WHERE expression over the columns highway,
 * foot, access and area (SpatiaLite and OGR SQL both accept it; the project's OSM configuration
 * makes those columns). Static string. For a network layer with a `highway` field and no `where`. */
PM_API const char *pm_network_osm_walkable_where(void);
/* The columns that expression reads, NULL-terminated (static): a layer ingested before they were
 * in the OSM configuration lacks some; ask the user to ingest it again. */
PM_API const char *const *pm_network_osm_walkable_fields(void);
/* The same rule on one feature's values (NULL = tag absent): 1 walkable, 0 not. */
PM_API int pm_network_osm_walkable(const char *highway, const char *foot, const char *access,
                            const char *area);

#ifdef __cplusplus
}
#endif
#endif
