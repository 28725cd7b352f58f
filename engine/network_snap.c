/* network_snap.c: the walking network's edge index and snapping (nearest point of the nearest
 * non-island edge), and pieces of edge geometry (points, sub-lines) by position along an edge. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/network_internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

/* Why not GEOSProject on GEOS lines: a GEOS LineString per edge would hold a second copy of every
 * coordinate (and ~100 bytes of object) per edge; the projection onto a polyline is a few lines. */
double pm__net_edge_project(const pm_network *net, uint32_t e, double px, double py, double *pos,
                            double *sx, double *sy) {
  const double *xy = net->xy + 2 * (size_t)net->e_xy[e];
  uint32_t n = pm__net_nxy(net, e);
  double best = INFINITY, along = 0, best_pos = 0, bx = xy[0], by = xy[1];
  for (uint32_t k = 1; k < n; k++) {
    double ax = xy[2 * k - 2], ay = xy[2 * k - 1], dx = xy[2 * k] - ax, dy = xy[2 * k + 1] - ay;
    double len2 = dx * dx + dy * dy, seg = pm__net_seg_len(xy + 2 * (k - 1));
    double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double qx = ax + t * dx, qy = ay + t * dy;
    double d2 = (px - qx) * (px - qx) + (py - qy) * (py - qy);
    if (d2 < best) {
      best = d2;
      best_pos = t == 1 ? along + seg : along + t * seg;
      bx = t == 1 ? xy[2 * k] : qx;
      by = t == 1 ? xy[2 * k + 1] : qy;
    }
    along += seg;
  }
  if (pos) *pos = best_pos < net->e_len[e] ? best_pos : net->e_len[e];
  if (sx) *sx = bx;
  if (sy) *sy = by;
  return best;
}

/* ---------------------------------------------------------------------------------------------
 * Index: the non-island edges cut into chunks of at most PM__NET_CHUNK segments (a long edge would
 * otherwise have a box that every query must open), in edge order, grouped in blocks of
 * PM__NET_BLOCK chunks; one STRtree item per block. */

static void noop_cb(void *item, void *user) {
  (void)item;
  (void)user;
}

pm_status pm__net_index(pm_context *ctx, pm_network *net) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  size_t n = 0;
  for (uint32_t e = 0; e < net->n_edges; e++)
    if (!net->comps[net->node_comp[net->e_from[e]]].island)
      n += (pm__net_nxy(net, e) - 1 + PM__NET_CHUNK - 1) / PM__NET_CHUNK;
  if (n >= UINT32_MAX) return pm_error(ctx, PM_EINPUT, "network '%s' is too large", net->layer);
  net->chunk_edge = malloc((n ? n : 1) * sizeof *net->chunk_edge);
  net->chunk_seg = malloc((n ? n : 1) * sizeof *net->chunk_seg);
  net->block_box = malloc(((n + PM__NET_BLOCK - 1) / PM__NET_BLOCK + 1) * 4 * sizeof *net->block_box);
  net->tree = GEOSSTRtree_create_r(h, 10);
  if (!net->chunk_edge || !net->chunk_seg || !net->block_box || !net->tree) return oom(ctx);
  n = 0;
  for (uint32_t e = 0; e < net->n_edges; e++)
    if (!net->comps[net->node_comp[net->e_from[e]]].island)
      for (uint32_t k = 0; k + 1 < pm__net_nxy(net, e); k += PM__NET_CHUNK) {
        net->chunk_edge[n] = e;
        net->chunk_seg[n++] = k;
      }
  net->n_chunks = (uint32_t)n;
  for (size_t b = 0; b * PM__NET_BLOCK < n; b++) {
    double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
    for (size_t i = b * PM__NET_BLOCK; i < n && i < (b + 1) * PM__NET_BLOCK; i++) {
      uint32_t e = net->chunk_edge[i], k0 = net->chunk_seg[i];
      uint32_t k1 = k0 + PM__NET_CHUNK < pm__net_nxy(net, e) - 1 ? k0 + PM__NET_CHUNK : pm__net_nxy(net, e) - 1;
      const double *xy = net->xy + 2 * (size_t)net->e_xy[e];
      for (uint32_t k = k0; k <= k1; k++) {
        minx = xy[2 * k] < minx ? xy[2 * k] : minx;
        maxx = xy[2 * k] > maxx ? xy[2 * k] : maxx;
        miny = xy[2 * k + 1] < miny ? xy[2 * k + 1] : miny;
        maxy = xy[2 * k + 1] > maxy ? xy[2 * k + 1] : maxy;
      }
    }
    /* The tree copies the envelope (GEOS >= 3.9), so a throwaway diagonal line carries it. */
    double box[4] = {minx, miny, maxx, maxy};
    memcpy(net->block_box + 4 * b, box, sizeof box);
    GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, box, 2, 0, 0);
    GEOSGeometry *g = seq ? GEOSGeom_createLineString_r(h, seq) : NULL;
    if (!g) return oom(ctx);
    GEOSSTRtree_insert_r(h, net->tree, g, (void *)(uintptr_t)(b + 1));
    GEOSGeom_destroy_r(h, g);
  }
  /* GEOS builds the tree on the first query; build it now so that threads never race on it. */
  if (n > 0) {
    GEOSGeometry *p = GEOSGeom_createPointFromXY_r(h, net->xy[0], net->xy[1]);
    if (!p) return oom(ctx);
    GEOSSTRtree_query_r(h, net->tree, p, noop_cb, NULL);
    GEOSGeom_destroy_r(h, p);
  }
  return PM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Snapping */

typedef struct snap_query {
  const pm_network *net;
  double x, y;
} snap_query;

/* Squared distance from (px, py) to segments k0 .. k1-1 of the polyline xy. */
static double segs_d2(const double *xy, uint32_t k0, uint32_t k1, double px, double py) {
  double best = INFINITY;
  for (uint32_t k = k0; k < k1; k++) {
    double ax = xy[2 * k], ay = xy[2 * k + 1], dx = xy[2 * k + 2] - ax, dy = xy[2 * k + 3] - ay;
    double len2 = dx * dx + dy * dy;
    double t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double qx = ax + t * dx - px, qy = ay + t * dy - py;
    double d2 = qx * qx + qy * qy;
    if (d2 < best) best = d2;
  }
  return best;
}

/* Nearest edge of block (item - 1): squared distance and the edge (smallest id on ties). */
static double block_nearest(const pm_network *net, uintptr_t item, double x, double y,
                            uint32_t *edge) {
  size_t b = item - 1;
  double best = INFINITY;
  *edge = PM_NETWORK_NONE;
  for (size_t i = b * PM__NET_BLOCK; i < net->n_chunks && i < (b + 1) * PM__NET_BLOCK; i++) {
    uint32_t e = net->chunk_edge[i], k0 = net->chunk_seg[i];
    uint32_t k1 = k0 + PM__NET_CHUNK < pm__net_nxy(net, e) - 1 ? k0 + PM__NET_CHUNK : pm__net_nxy(net, e) - 1;
    double d2 = segs_d2(net->xy + 2 * (size_t)net->e_xy[e], k0, k1, x, y);
    if (d2 < best) { /* chunks run in edge order: the first minimum has the smallest edge id */
      best = d2;
      *edge = e;
    }
  }
  return best;
}

/* GEOS passes the tree's item and our query item (in either order); the query is the address. */
static int block_distance(const void *a, const void *b, double *distance, void *user) {
  const snap_query *q = user;
  uintptr_t item = (uintptr_t)(a == (const void *)q ? b : a);
  uint32_t e;
  *distance = sqrt(block_nearest(q->net, item, q->x, q->y, &e));
  return 1;
}

pm_status pm_network_unroutable_note(const pm_network_snap *s, double max_snap_m, char *buf,
                                     size_t size) {
  if (s->status == PM_SNAP_NO_NETWORK || !isfinite(s->leg_m))
    snprintf(buf, size, "unroutable: no walking network outside islands");
  else
    snprintf(buf, size, "unroutable: %.0f m from the walking network (max_snap_m %g m)", s->leg_m,
             max_snap_m);
  return PM_OK;
}

const char *pm_snap_status_name(pm_snap_status status) {
  switch (status) {
  case PM_SNAP_OK: return "ok";
  case PM_SNAP_TOO_FAR: return "too far from the network";
  case PM_SNAP_NO_NETWORK: return "no network outside islands";
  }
  return "?";
}

/* The nearest edge among the blocks whose box meets the square of half-side r around the point
 * (collected by the tree query): squared distance, smallest edge id on ties. */
typedef struct box_query {
  const pm_network *net;
  double x, y;
  double r2;   /* the square's half-side, squared */
  double best; /* squared distance */
  uint32_t edge;
} box_query;

static void box_visit(void *item, void *user) {
  box_query *q = user;
  /* A block whose box is farther than the best edge so far, or than the square's half-side (the
   * answer is then within it, or this round fails), holds no answer: skip its segments. The
   * test never skips a block holding a vertex at the best distance (box distance <= vertex
   * distance, rounding included), so ties resolve as if every block were read. */
  const double *bb = q->net->block_box + 4 * ((uintptr_t)item - 1);
  double dx = bb[0] - q->x > 0 ? bb[0] - q->x : q->x - bb[2] > 0 ? q->x - bb[2] : 0;
  double dy = bb[1] - q->y > 0 ? bb[1] - q->y : q->y - bb[3] > 0 ? q->y - bb[3] : 0;
  double dd = dx * dx + dy * dy;
  if (dd > q->best || dd > q->r2) return;
  uint32_t e;
  double d2 = block_nearest(q->net, (uintptr_t)item, q->x, q->y, &e);
  if (d2 < q->best || (d2 == q->best && e < q->edge)) {
    q->best = d2;
    q->edge = e;
  }
}

/* Half-sides of the boxes tried before the tree's nearest-neighbour search (metres). */
static const double SNAP_BOX_M[] = {40, 160, 640, 2560};

pm_status pm_network_snap_point(pm_context *ctx, const pm_network *net, double x, double y,
                                pm_network_snap *out) {
  *out = (pm_network_snap){x, y, PM_SNAP_NO_NETWORK, PM_NETWORK_NONE, 0, INFINITY, NAN, NAN};
  if (!isfinite(x) || !isfinite(y))
    return pm_error(ctx, PM_EINPUT, "cannot snap a point with coordinates (%g, %g)", x, y);
  if (net->n_chunks == 0) return PM_OK;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  /* Boxes of growing size first: a segment within r of the point has its nearest point, and so
   * its block's box, inside the square of half-side r; so once the nearest edge found among the
   * blocks meeting that square is within r, no other edge is nearer. This reads a few blocks
   * where GEOS's nearest-neighbour search (kept for points far from every edge) measures many. */
  /* The best edge of a round that fails (farther than its r) stays the bound of the next: it is
   * a real edge's distance, so no block farther than it is read again. */
  box_query bq = {net, x, y, 0, INFINITY, PM_NETWORK_NONE};
  uint32_t e = PM_NETWORK_NONE;
  for (size_t k = 0; k < PM_ARRAY_LEN(SNAP_BOX_M) && e == PM_NETWORK_NONE; k++) {
    double r = SNAP_BOX_M[k];
    /* widened by a micrometre, so that rounding in the distances can never leave out a block */
    GEOSGeometry *box = GEOSGeom_createRectangle_r(h, x - r - 1e-6, y - r - 1e-6, x + r + 1e-6,
                                                   y + r + 1e-6);
    if (!box) return oom(ctx);
    bq.r2 = r * r;
    GEOSSTRtree_query_r(h, net->tree, box, box_visit, &bq);
    GEOSGeom_destroy_r(h, box);
    if (bq.edge != PM_NETWORK_NONE && bq.best <= r * r) e = bq.edge;
  }
  if (e == PM_NETWORK_NONE) {
    GEOSGeometry *p = GEOSGeom_createPointFromXY_r(h, x, y);
    if (!p) return oom(ctx);
    snap_query q = {net, x, y};
    const void *item =
        GEOSSTRtree_nearest_generic_r(h, net->tree, &q, p, block_distance, &q);
    GEOSGeom_destroy_r(h, p);
    if (!item)
      return pm_error(ctx, PM_EGEOM, "network '%s': nearest-edge search failed (%s)", net->layer,
                      pm__context_geos_message(ctx));
    block_nearest(net, (uintptr_t)item, x, y, &e);
  }
  double pos, sx, sy;
  double d2 = pm__net_edge_project(net, e, x, y, &pos, &sx, &sy);
  out->edge = e;
  out->pos_m = pos;
  out->leg_m = sqrt(d2);
  out->sx = sx;
  out->sy = sy;
  out->status = out->leg_m <= net->info.options.max_snap_m ? PM_SNAP_OK : PM_SNAP_TOO_FAR;
  return PM_OK;
}

typedef struct snap_job {
  const pm_network *net;
  const double *xy;
  const uint32_t *order; /* the points in Hilbert order of their position */
  size_t n;
  pm_network_snap *out;
} snap_job;

#define SNAP_CHUNK 1024

static pm_status snap_task(pm_context *ctx, void *state, void *arg, size_t t) {
  (void)state;
  snap_job *j = arg;
  for (size_t k = t * SNAP_CHUNK; k < j->n && k < (t + 1) * SNAP_CHUNK; k++) {
    size_t i = j->order[k];
    pm_status st = pm_network_snap_point(ctx, j->net, j->xy[2 * i], j->xy[2 * i + 1], &j->out[i]);
    if (st) return st;
  }
  return PM_OK;
}

typedef struct point_key {
  uint64_t key;
  uint32_t i;
} point_key;

static int cmp_point_key(const void *a, const void *b) {
  const point_key *p = a, *q = b;
  if (p->key != q->key) return p->key < q->key ? -1 : 1;
  return p->i < q->i ? -1 : p->i > q->i;
}

pm_status pm_network_snap_points(pm_context *ctx, const pm_network *net, const double *xy, size_t n,
                                 pm_network_snap *out) {
  if (n >= UINT32_MAX) return pm_error(ctx, PM_EINPUT, "too many points to snap at once");
  /* Snap in the order of the points along a Hilbert curve over the network: neighbouring points
   * then read the same parts of the index and of the coordinates, several times faster than the
   * layer's order. Each point's result does not depend on the order. */
  double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
  for (uint32_t c = 0; c < net->n_comps; c++) {
    const pm_network_component *cp = &net->comps[c];
    minx = cp->minx < minx ? cp->minx : minx;
    miny = cp->miny < miny ? cp->miny : miny;
    maxx = cp->maxx > maxx ? cp->maxx : maxx;
    maxy = cp->maxy > maxy ? cp->maxy : maxy;
  }
  double span = fmax(maxx - minx, maxy - miny);
  double scale = span > 0 ? 4294967295.0 / span : 0;
  point_key *keys = malloc((n ? n : 1) * sizeof *keys);
  uint32_t *order = malloc((n ? n : 1) * sizeof *order);
  if (!keys || !order) {
    free(keys);
    free(order);
    return oom(ctx);
  }
  for (size_t i = 0; i < n; i++) {
    double gx = (xy[2 * i] - minx) * scale, gy = (xy[2 * i + 1] - miny) * scale;
    gx = gx > 0 ? (gx < 4294967295.0 ? gx : 4294967295.0) : 0; /* NaN too: 0 */
    gy = gy > 0 ? (gy < 4294967295.0 ? gy : 4294967295.0) : 0;
    keys[i] = (point_key){pm__net_hilbert((uint32_t)gx, (uint32_t)gy), (uint32_t)i};
  }
  qsort(keys, n, sizeof *keys, cmp_point_key);
  for (size_t i = 0; i < n; i++) order[i] = keys[i].i;
  free(keys);
  snap_job j = {net, xy, order, n, out};
  pm_status st = pm__parallel_for(ctx, pm_context_threads(ctx), (n + SNAP_CHUNK - 1) / SNAP_CHUNK,
                                  NULL, snap_task, NULL, &j);
  free(order);
  return st;
}

/* ---------------------------------------------------------------------------------------------
 * Edge geometry by position */

static pm_status push_xy(pm_context *ctx, double **buf, size_t *n, size_t *cap, double x,
                         double y) {
  if (*n > 0 && (*buf)[2 * *n - 2] == x && (*buf)[2 * *n - 1] == y) return PM_OK;
  if (pm__grow(ctx, (void **)buf, cap, 2 * (*n + 1), sizeof **buf)) return PM_ENOMEM;
  (*buf)[2 * *n] = x;
  (*buf)[2 * *n + 1] = y;
  (*n)++;
  return PM_OK;
}

void pm_network_edge_point(const pm_network *net, uint32_t e, double pos_m, double *x, double *y) {
  const double *xy = net->xy + 2 * (size_t)net->e_xy[e];
  uint32_t n = pm__net_nxy(net, e), k = n - 1;
  double along = 0;
  if (!(pos_m > 0)) k = 0;
  else
    for (uint32_t i = 1; i < n; i++) {
      double seg = pm__net_seg_len(xy + 2 * (i - 1));
      if (along + seg >= pos_m) {
        double t = seg > 0 ? (pos_m - along) / seg : 1;
        if (t < 1) {
          *x = xy[2 * i - 2] + t * (xy[2 * i] - xy[2 * i - 2]);
          *y = xy[2 * i - 1] + t * (xy[2 * i + 1] - xy[2 * i - 1]);
          return;
        }
        k = i; /* exactly at vertex i */
        break;
      }
      along += seg;
    }
  *x = xy[2 * k];
  *y = xy[2 * k + 1];
}

pm_status pm__net_edge_coords(pm_context *ctx, const pm_network *net, uint32_t e, double a,
                              double b, int rev, double **buf, size_t *n, size_t *cap) {
  const double *xy = net->xy + 2 * (size_t)net->e_xy[e];
  uint32_t nv = pm__net_nxy(net, e);
  double len = net->e_len[e];
  a = a < 0 ? 0 : a > len ? len : a;
  b = b < a ? a : b > len ? len : b;
  /* the points of [a, b]: a, every vertex strictly inside, b; consecutive duplicates dropped */
  double px, py;
  size_t first = *n;
  pm_network_edge_point(net, e, a, &px, &py);
  if (pm__grow(ctx, (void **)buf, cap, 2 * (*n + 1), sizeof **buf)) return PM_ENOMEM;
  (*buf)[2 * *n] = px;
  (*buf)[2 * *n + 1] = py;
  (*n)++;
  double along = 0;
  for (uint32_t k = 1; k + 1 < nv; k++) {
    along += pm__net_seg_len(xy + 2 * (k - 1));
    if (along > a && along < b && push_xy(ctx, buf, n, cap, xy[2 * k], xy[2 * k + 1]))
      return PM_ENOMEM;
  }
  pm_network_edge_point(net, e, b, &px, &py);
  if (push_xy(ctx, buf, n, cap, px, py)) return PM_ENOMEM;
  if (rev) /* walk from b to a */
    for (size_t i = first, j = *n - 1; i < j; i++, j--) {
      double tx = (*buf)[2 * i], ty = (*buf)[2 * i + 1];
      (*buf)[2 * i] = (*buf)[2 * j];
      (*buf)[2 * i + 1] = (*buf)[2 * j + 1];
      (*buf)[2 * j] = tx;
      (*buf)[2 * j + 1] = ty;
    }
  /* where this piece starts at the point the previous one ended, keep the point once */
  if (first > 0 && (*buf)[2 * first] == (*buf)[2 * first - 2] &&
      (*buf)[2 * first + 1] == (*buf)[2 * first - 1]) {
    memmove(*buf + 2 * first, *buf + 2 * first + 2, 2 * (*n - first - 1) * sizeof **buf);
    (*n)--;
  }
  return PM_OK;
}

GEOSGeometry *pm__net_line(pm_context *ctx, const double *xy, size_t n) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  if (n < 2) return GEOSGeom_createEmptyLineString_r(h);
  GEOSCoordSequence *seq = GEOSCoordSeq_copyFromBuffer_r(h, xy, (unsigned)n, 0, 0);
  return seq ? GEOSGeom_createLineString_r(h, seq) : NULL;
}

pm_status pm_network_edge_line(pm_context *ctx, const pm_network *net, uint32_t e, double from_m,
                               double to_m, GEOSGeometry **out) {
  *out = NULL;
  if (e >= net->n_edges)
    return pm_error(ctx, PM_EINPUT, "network '%s' has no edge %u", net->layer, e);
  double *buf = NULL;
  size_t n = 0, cap = 0;
  pm_status st = pm__net_edge_coords(ctx, net, e, from_m, to_m, 0, &buf, &n, &cap);
  if (!st && !(*out = pm__net_line(ctx, buf, n))) st = oom(ctx);
  free(buf);
  return st;
}
