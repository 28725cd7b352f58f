/* network_internal.h: the walking network's in-memory layout, shared by network_build.c (graph),
 * network_snap.c (index, snapping, edge geometry) and network_search.c (Dijkstra). */
#ifndef PM_ENGINE_NETWORK_INTERNAL_H
#define PM_ENGINE_NETWORK_INTERNAL_H

#include "planmetrics/network.h"

/* Non-island edges are indexed in blocks of this many consecutive ids (edges are in spatial order,
 * so a block is compact): one STRtree leaf per block instead of per edge keeps the index at a few
 * bytes per edge. */
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
  uint32_t *e_xy;      /* index of the first vertex in xy (vertex k at xy[2*(e_xy+k)]) */
  uint32_t *e_nxy;     /* number of vertices */
  uint32_t *e_feature; /* source feature index or PM_NETWORK_NONE */
  double *xy;          /* vertex coordinates of every line part, consecutive duplicates removed */
  size_t n_xy;

  /* components, by decreasing length */
  pm_network_component *comps;
  uint32_t *comp_nodes; /* nodes grouped by component: comp c's are comp_nodes[comp_first[c] ..] */
  uint32_t *comp_first; /* n_comps + 1 */

  /* snapping index: non-island edge ids in blocks of PM__NET_BLOCK, STRtree over the blocks */
  uint32_t *snap_edges;
  uint32_t n_snap_edges;
  GEOSSTRtree *tree;   /* items are (void *)(uintptr_t)(block + 1) */
};

/* Squared distance from (px,py) to edge e and, when pos/sx/sy are not NULL, the nearest point:
 * its position along the edge (metres from `from`) and coordinates. The first nearest segment wins
 * ties, so the result depends only on the edge. */
double pm__net_edge_project(const pm_network *net, uint32_t e, double px, double py, double *pos,
                            double *sx, double *sy);
/* Build the snapping index (network_snap.c); called last by pm_network_build. */
pm_status pm__net_index(pm_context *ctx, pm_network *net);
/* Append edge e's vertices between positions a <= b (clamped) to a coordinate buffer, reversed when
 * rev is set (then the walk runs from b to a). *buf grows as pm__grow does; *n counts points. */
pm_status pm__net_edge_coords(pm_context *ctx, const pm_network *net, uint32_t e, double a,
                              double b, int rev, double **buf, size_t *n, size_t *cap);
/* A LineString (or an empty one when fewer than 2 distinct points) from n points. Caller owns. */
GEOSGeometry *pm__net_line(pm_context *ctx, const double *xy, size_t n);

#endif
