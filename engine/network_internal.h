/* network_internal.h: the walking network's in-memory layout, shared by network_build.c (graph),
 * network_snap.c (index, snapping, edge geometry) and network_search.c (Dijkstra). */
#ifndef PM_ENGINE_NETWORK_INTERNAL_H
#define PM_ENGINE_NETWORK_INTERNAL_H

#include <math.h>

#include "planmetrics/network.h"

/* Non-island edges are indexed in chunks of at most PM__NET_CHUNK segments (so that a long edge
 * does not make one huge box), grouped in blocks of PM__NET_BLOCK consecutive chunks (edges are in
 * spatial order, so a block is compact): one STRtree leaf per block instead of per edge keeps the
 * index at a few bytes per edge. */
#define PM__NET_CHUNK 16
#define PM__NET_BLOCK 8

/* One end of an edge in the compressed adjacency (CSR): 16 bytes, the weight beside the neighbour
 * so that a relaxation reads one cache line. */
typedef struct pm__net_adj {
  double w;      /* edge length */
  uint32_t to;   /* the node at the other end */
  uint32_t edge;
} pm__net_adj;

/* Everything is owned by the network and freed by pm_network_destroy. Memory per edge (beyond the
 * vertex coordinates): edge arrays 28 bytes, adjacency 32, node arrays ~ 24 per node, index ~ 10. */
struct pm_network {
  char *layer;
  pm_network_info info;
  uint32_t n_nodes, n_edges, n_comps;

  /* nodes, in Hilbert order of their position */
  double *node_xy;     /* 2 per node */
  uint32_t *node_comp; /* component per node */
  uint32_t *adj_off;   /* n_nodes + 1: node n's ends are adj[adj_off[n] .. adj_off[n+1]) */
  pm__net_adj *adj;    /* 2 per edge */

  /* edges, sorted by (lower node, higher node, input order) */
  uint32_t *e_from, *e_to;
  double *e_len;
  uint32_t *e_xy;      /* n_edges + 1 offsets: edge e's vertices are xy[2 * e_xy[e] ..] up to
                          e_xy[e + 1] (edges own their vertices, in edge order) */
  uint32_t *e_feature; /* source feature index or PM_NETWORK_NONE */
  double *xy;          /* vertex coordinates (during the build: of the line parts in input order;
                          then of the edges in edge order), consecutive duplicates removed */
  size_t n_xy;

  /* components, by decreasing length */
  pm_network_component *comps;
  uint32_t *comp_nodes; /* nodes grouped by component: comp c's are comp_nodes[comp_first[c] ..] */
  uint32_t *comp_first; /* n_comps + 1 */

  /* snapping index: chunks (edge, first segment) of non-island edges, STRtree over their blocks */
  uint32_t *chunk_edge, *chunk_seg;
  uint32_t n_chunks;
  double *block_box;   /* per block: minx, miny, maxx, maxy (as given to the tree) */
  GEOSSTRtree *tree;   /* items are (void *)(uintptr_t)(block + 1) */
};

/* malloc for the large per-node and per-edge arrays that searches read at random: aligned to 2 MB
 * and marked for transparent huge pages where the system has them (fewer TLB misses; Dijkstra on
 * a million nodes is bound by memory latency). Freed with free(). */
void *pm__net_big_alloc(size_t bytes);

/* Number of vertices of edge e. */
static inline uint32_t pm__net_nxy(const pm_network *net, uint32_t e) {
  return net->e_xy[e + 1] - net->e_xy[e];
}

/* Length of the segment from (p[0], p[1]) to (p[2], p[3]). Every length and position along an
 * edge sums these in vertex order, so positions and lengths agree to the last bit. */
static inline double pm__net_seg_len(const double *p) {
  double dx = p[2] - p[0], dy = p[3] - p[1];
  return sqrt(dx * dx + dy * dy);
}

/* Squared distance from (px,py) to edge e and, when pos/sx/sy are not NULL, the nearest point:
 * its position along the edge (metres from `from`) and coordinates. The first nearest segment wins
 * ties, so the result depends only on the edge. */
double pm__net_edge_project(const pm_network *net, uint32_t e, double px, double py, double *pos,
                            double *sx, double *sy);
/* Index of (x, y) along the Hilbert curve of order 32 (network_build.c): nodes are numbered in
 * this order of their positions. */
uint64_t pm__net_hilbert(uint32_t x, uint32_t y);
/* Build the snapping index (network_snap.c); called last by pm_network_build. */
pm_status pm__net_index(pm_context *ctx, pm_network *net);
/* Append edge e's vertices between positions a <= b (clamped) to a coordinate buffer, reversed when
 * rev is set (then the walk runs from b to a). *buf grows as pm__grow does; *n counts points. */
pm_status pm__net_edge_coords(pm_context *ctx, const pm_network *net, uint32_t e, double a,
                              double b, int rev, double **buf, size_t *n, size_t *cap);
/* A LineString (or an empty one when fewer than 2 distinct points) from n points. Caller owns. */
GEOSGeometry *pm__net_line(pm_context *ctx, const double *xy, size_t n);

#endif
