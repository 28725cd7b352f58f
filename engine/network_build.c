/* network_build.c: the walking network's graph from a line layer: nodes where lines share vertices
 * (or cross), endpoints merged within 0.5 m, spatial numbering, CSR adjacency, components. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/network_internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

const char *pm_network_connect_name(pm_network_connect connect) {
  return connect == PM_NETWORK_CONNECT_CROSSINGS ? "crossings" : "vertices";
}

pm_status pm_network_connect_parse(pm_context *ctx, const char *text, pm_network_connect *out) {
  if (text && strcmp(text, "vertices") == 0) {
    *out = PM_NETWORK_CONNECT_VERTICES;
    return PM_OK;
  }
  if (text && strcmp(text, "crossings") == 0) {
    *out = PM_NETWORK_CONNECT_CROSSINGS;
    return PM_OK;
  }
  return pm_error(ctx, PM_EINPUT,
                  "connect: '%s' is not a choice; use `vertices` (lines join where they share a "
                  "vertex, as OSM ways do) or `crossings` (every intersection joins)",
                  text ? text : "");
}

void pm_network_options_init(pm_network_options *opt) {
  opt->connect = PM_NETWORK_CONNECT_VERTICES;
  opt->min_piece_m = 200;
  opt->max_snap_m = 100;
}

/* ---------------------------------------------------------------------------------------------
 * Line parts: every linear part's vertices copied into net->xy (consecutive duplicates dropped). */

typedef struct part {
  uint32_t start, n; /* vertices xy[start .. start+n) */
  uint32_t feature;
} part;

typedef struct parts {
  part *v;
  size_t n, cap;
  size_t xy_cap;
  double *buf; /* one part's coordinates as GEOS gives them */
  size_t buf_cap;
  uint32_t skipped;
} parts;

static pm_status add_line(pm_context *ctx, pm_network *net, parts *ps, const GEOSGeometry *line,
                          uint32_t feature) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, line);
  unsigned int n = 0;
  if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &n))
    return pm_error(ctx, PM_EGEOM, "layer '%s' feature #%u: unreadable line (%s)", net->layer,
                    feature, pm__context_geos_message(ctx));
  if (n == 0) {
    ps->skipped++;
    return PM_OK;
  }
  if (pm__grow(ctx, (void **)&ps->buf, &ps->buf_cap, 2 * (size_t)n, sizeof *ps->buf) ||
      pm__grow(ctx, (void **)&net->xy, &ps->xy_cap, 2 * (net->n_xy + n), sizeof *net->xy))
    return PM_ENOMEM;
  if (!GEOSCoordSeq_copyToBuffer_r(h, seq, ps->buf, 0, 0))
    return pm_error(ctx, PM_EGEOM, "layer '%s' feature #%u: unreadable coordinates (%s)",
                    net->layer, feature, pm__context_geos_message(ctx));
  size_t start = net->n_xy, k = 0;
  double *dst = net->xy + 2 * start;
  for (unsigned int i = 0; i < n; i++) {
    double x = ps->buf[2 * i] + 0.0, y = ps->buf[2 * i + 1] + 0.0; /* + 0.0: -0 becomes 0 */
    if (!isfinite(x) || !isfinite(y))
      return pm_error(ctx, PM_EINPUT, "layer '%s' feature #%u: a vertex is not a finite number",
                      net->layer, feature);
    if (k > 0 && dst[2 * k - 2] == x && dst[2 * k - 1] == y) continue;
    dst[2 * k] = x;
    dst[2 * k + 1] = y;
    k++;
  }
  if (k < 2) { /* a point-like part joins nothing and has no length */
    ps->skipped++;
    return PM_OK;
  }
  if (start + k >= UINT32_MAX)
    return pm_error(ctx, PM_EINPUT, "layer '%s': more than 4 billion vertices", net->layer);
  if (pm__grow(ctx, (void **)&ps->v, &ps->cap, ps->n + 1, sizeof *ps->v)) return PM_ENOMEM;
  ps->v[ps->n++] = (part){(uint32_t)start, (uint32_t)k, feature};
  net->n_xy = start + k;
  return PM_OK;
}

/* Every linear part of g (lines, multilines, collections of them); other types are skipped. */
static pm_status add_geometry(pm_context *ctx, pm_network *net, parts *ps, const GEOSGeometry *g,
                              uint32_t feature) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  int type = GEOSGeomTypeId_r(h, g);
  if (type == GEOS_LINESTRING || type == GEOS_LINEARRING) return add_line(ctx, net, ps, g, feature);
  if (type == GEOS_MULTILINESTRING || type == GEOS_GEOMETRYCOLLECTION) {
    int n = GEOSGetNumGeometries_r(h, g);
    for (int i = 0; i < n; i++) {
      pm_status st = add_geometry(ctx, net, ps, GEOSGetGeometryN_r(h, g, i), feature);
      if (st) return st;
    }
  }
  return PM_OK;
}

static pm_status read_parts(pm_context *ctx, pm_network *net, const pm_features *lines,
                            pm_network_connect connect, parts *ps) {
  if (connect == PM_NETWORK_CONNECT_VERTICES) {
    for (size_t i = 0; i < lines->n; i++) {
      pm_status st = add_geometry(ctx, net, ps, lines->geom[i], (uint32_t)i);
      if (st) return st;
    }
    return PM_OK;
  }
  /* crossings: the union of lines is noded at every intersection and dissolved (overlapping
   * duplicates count once); GEOSNode_r then guarantees the noding whatever union returned. */
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSGeometry *u = NULL;
  pm_status st = pm_features_union(ctx, lines, &u);
  if (st) return st;
  GEOSGeometry *noded = GEOSNode_r(h, u);
  GEOSGeom_destroy_r(h, u);
  if (!noded)
    return pm_error(ctx, PM_EGEOM, "layer '%s': cannot node the lines at their crossings (%s)",
                    net->layer, pm__context_geos_message(ctx));
  st = add_geometry(ctx, net, ps, noded, PM_NETWORK_NONE);
  GEOSGeom_destroy_r(h, noded);
  return st;
}

/* ---------------------------------------------------------------------------------------------
 * Distinct coordinates: a hash from (x, y) to a coordinate id, with how each coordinate occurs. */

enum { AT_END = 1, AT_INTERIOR = 2, SEEN_TWICE = 4 };

static uint64_t mix64(uint64_t a) {
  a ^= a >> 33;
  a *= 0xff51afd7ed558ccdULL;
  a ^= a >> 33;
  a *= 0xc4ceb9fe1a85ec53ULL;
  a ^= a >> 33;
  return a;
}

static uint64_t coord_hash(double x, double y) {
  uint64_t a, b;
  memcpy(&a, &x, sizeof a);
  memcpy(&b, &y, sizeof b);
  return mix64(a ^ mix64(b + 0x9e3779b97f4a7c15ULL));
}

typedef struct coords {
  uint32_t *vc;    /* per vertex: its coordinate id */
  uint32_t *first; /* per coordinate id: a vertex with it */
  uint8_t *how;    /* per coordinate id: AT_END | AT_INTERIOR | SEEN_TWICE */
  uint32_t n;
} coords;

static void coords_clear(coords *c) {
  free(c->vc);
  free(c->first);
  free(c->how);
}

static pm_status distinct_coords(pm_context *ctx, const pm_network *net, const parts *ps,
                                 coords *c) {
  size_t nv = net->n_xy;
  size_t size = 16;
  while (size < 2 * nv) size *= 2;
  uint32_t *slot = calloc(size, sizeof *slot); /* coordinate id + 1; 0 = empty */
  c->vc = malloc((nv ? nv : 1) * sizeof *c->vc);
  c->first = malloc((nv ? nv : 1) * sizeof *c->first);
  c->how = malloc(nv ? nv : 1);
  if (!slot || !c->vc || !c->first || !c->how) {
    free(slot);
    return oom(ctx);
  }
  const double *xy = net->xy;
  for (size_t p = 0; p < ps->n; p++) {
    const part *pt = &ps->v[p];
    for (uint32_t k = 0; k < pt->n; k++) {
      uint32_t v = pt->start + k;
      double x = xy[2 * v], y = xy[2 * v + 1];
      size_t i = coord_hash(x, y) & (size - 1);
      uint32_t id;
      for (;;) {
        if (!slot[i]) {
          id = c->n++;
          slot[i] = id + 1;
          c->first[id] = v;
          c->how[id] = 0;
          break;
        }
        id = slot[i] - 1;
        uint32_t f = c->first[id];
        if (xy[2 * f] == x && xy[2 * f + 1] == y) {
          c->how[id] |= SEEN_TWICE;
          break;
        }
        i = (i + 1) & (size - 1);
      }
      c->vc[v] = id;
      c->how[id] |= (k == 0 || k + 1 == pt->n) ? AT_END : AT_INTERIOR;
    }
  }
  free(slot);
  return PM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Node candidates (ends and shared vertices), merged within PM_NETWORK_MERGE_M by union-find. */

typedef struct cell_item {
  int64_t cx, cy;
  uint32_t k; /* candidate index */
} cell_item;

static int cmp_cell(const void *a, const void *b) {
  const cell_item *p = a, *q = b;
  if (p->cx != q->cx) return p->cx < q->cx ? -1 : 1;
  if (p->cy != q->cy) return p->cy < q->cy ? -1 : 1;
  return p->k < q->k ? -1 : p->k > q->k;
}

static uint32_t uf_find(uint32_t *parent, uint32_t a) {
  while (parent[a] != a) {
    parent[a] = parent[parent[a]];
    a = parent[a];
  }
  return a;
}

static void uf_union(uint32_t *parent, uint32_t a, uint32_t b) {
  a = uf_find(parent, a);
  b = uf_find(parent, b);
  if (a != b) parent[a > b ? a : b] = a < b ? a : b;
}

/* First cell_item not ordered before (cx, cy). */
static size_t cell_lower(const cell_item *items, size_t n, int64_t cx, int64_t cy) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (items[mid].cx < cx || (items[mid].cx == cx && items[mid].cy < cy))
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* Link every candidate that is a line end to every candidate closer than PM_NETWORK_MERGE_M.
 * Candidates are sorted into 0.5 m cells, so a pair closer than that lies in neighbouring cells. */
static pm_status merge_ends(pm_context *ctx, const pm_network *net, const coords *c,
                            const uint32_t *cand, uint32_t n_cand, uint32_t *parent) {
  const double m = PM_NETWORK_MERGE_M;
  cell_item *items = malloc((n_cand ? n_cand : 1) * sizeof *items);
  if (!items) return oom(ctx);
  for (uint32_t k = 0; k < n_cand; k++) {
    const double *p = net->xy + 2 * (size_t)c->first[cand[k]];
    items[k] = (cell_item){(int64_t)floor(p[0] / m), (int64_t)floor(p[1] / m), k};
  }
  qsort(items, n_cand, sizeof *items, cmp_cell);
  for (uint32_t i = 0; i < n_cand; i++) {
    uint32_t a = items[i].k;
    if (!(c->how[cand[a]] & AT_END)) continue;
    const double *pa = net->xy + 2 * (size_t)c->first[cand[a]];
    for (int64_t dx = -1; dx <= 1; dx++) {
      int64_t cx = items[i].cx + dx;
      for (size_t j = cell_lower(items, n_cand, cx, items[i].cy - 1);
           j < n_cand && items[j].cx == cx && items[j].cy <= items[i].cy + 1; j++) {
        uint32_t b = items[j].k;
        if (b == a) continue;
        const double *pb = net->xy + 2 * (size_t)c->first[cand[b]];
        double ddx = pa[0] - pb[0], ddy = pa[1] - pb[1];
        if (ddx * ddx + ddy * ddy < m * m) uf_union(parent, a, b);
      }
    }
  }
  free(items);
  return PM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Spatial numbering: Hilbert curve index of a position on a 2^20 x 2^20 grid over the extent. */

#define HILBERT_ORDER 20

static uint64_t hilbert_d(uint32_t x, uint32_t y) {
  const uint32_t n = 1u << HILBERT_ORDER;
  uint64_t d = 0;
  for (uint32_t s = n / 2; s > 0; s /= 2) {
    uint32_t rx = (x & s) > 0, ry = (y & s) > 0;
    d += (uint64_t)s * s * ((3 * rx) ^ ry);
    if (ry == 0) {
      if (rx == 1) {
        x = n - 1 - x;
        y = n - 1 - y;
      }
      uint32_t t = x;
      x = y;
      y = t;
    }
  }
  return d;
}

typedef struct node_key {
  uint64_t h;
  double x, y;
  uint32_t cluster;
} node_key;

static int cmp_node_key(const void *a, const void *b) {
  const node_key *p = a, *q = b;
  if (p->h != q->h) return p->h < q->h ? -1 : 1;
  if (p->x != q->x) return p->x < q->x ? -1 : 1;
  if (p->y != q->y) return p->y < q->y ? -1 : 1;
  return p->cluster < q->cluster ? -1 : p->cluster > q->cluster;
}

typedef struct edge_key {
  uint64_t nodes; /* lower node << 32 | higher node */
  uint32_t seq;   /* order of creation (input order) */
} edge_key;

static int cmp_edge_key(const void *a, const void *b) {
  const edge_key *p = a, *q = b;
  if (p->nodes != q->nodes) return p->nodes < q->nodes ? -1 : 1;
  return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* Length of the polyline of n vertices at xy; the same summation as pm__net_edge_project's
 * positions, so that the position of the last vertex equals the length exactly. */
static double polyline_length(const double *xy, uint32_t n) {
  double len = 0;
  for (uint32_t k = 1; k < n; k++)
    len += hypot(xy[2 * k] - xy[2 * k - 2], xy[2 * k + 1] - xy[2 * k - 1]);
  return len;
}

/* Nodes: the clusters of candidates, numbered in Hilbert order. node_of_coord[c] receives the node
 * of coordinate id c, or PM_NETWORK_NONE when c is an interior vertex of a single line. */
static pm_status make_nodes(pm_context *ctx, pm_network *net, const coords *c,
                            uint32_t **node_of_coord_out) {
  pm_status st = PM_OK;
  uint32_t n_cand = 0;
  uint32_t *cand = malloc((c->n ? c->n : 1) * sizeof *cand);
  uint32_t *node_of_coord = malloc((c->n ? c->n : 1) * sizeof *node_of_coord);
  uint32_t *parent = NULL, *rep = NULL;
  node_key *keys = NULL;
  if (!cand || !node_of_coord) goto nomem;
  for (uint32_t i = 0; i < c->n; i++) {
    node_of_coord[i] = PM_NETWORK_NONE;
    if (c->how[i] & (AT_END | SEEN_TWICE)) cand[n_cand++] = i;
  }
  parent = malloc((n_cand ? n_cand : 1) * sizeof *parent);
  rep = malloc((n_cand ? n_cand : 1) * sizeof *rep);
  if (!parent || !rep) goto nomem;
  for (uint32_t k = 0; k < n_cand; k++) parent[k] = k;
  if ((st = merge_ends(ctx, net, c, cand, n_cand, parent))) goto done;

  /* A cluster's position: a vertex that is interior to some line if there is one (interior
   * vertices never move), else the lowest (x, y); both independent of the input order. */
  for (uint32_t k = 0; k < n_cand; k++) rep[k] = PM_NETWORK_NONE;
  uint32_t n_nodes = 0;
  for (uint32_t k = 0; k < n_cand; k++) {
    uint32_t r = uf_find(parent, k);
    if (rep[r] == PM_NETWORK_NONE) {
      rep[r] = k;
      n_nodes++;
      continue;
    }
    const double *p = net->xy + 2 * (size_t)c->first[cand[k]];
    const double *q = net->xy + 2 * (size_t)c->first[cand[rep[r]]];
    int pin_p = (c->how[cand[k]] & AT_INTERIOR) != 0, pin_q = (c->how[cand[rep[r]]] & AT_INTERIOR) != 0;
    if (pin_p != pin_q ? pin_p : (p[0] < q[0] || (p[0] == q[0] && p[1] < q[1]))) rep[r] = k;
  }
  net->info.n_merged = n_cand - n_nodes;

  keys = malloc((n_nodes ? n_nodes : 1) * sizeof *keys);
  if (!keys) goto nomem;
  double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
  uint32_t j = 0;
  for (uint32_t k = 0; k < n_cand; k++) {
    if (parent[k] != k) continue; /* roots are their own parent after uf_find of every member */
    const double *p = net->xy + 2 * (size_t)c->first[cand[rep[k]]];
    keys[j++] = (node_key){0, p[0], p[1], k};
    minx = fmin(minx, p[0]);
    maxx = fmax(maxx, p[0]);
    miny = fmin(miny, p[1]);
    maxy = fmax(maxy, p[1]);
  }
  double span = fmax(maxx - minx, maxy - miny);
  double scale = span > 0 ? ((double)(1u << HILBERT_ORDER) - 1) / span : 0;
  for (uint32_t i = 0; i < n_nodes; i++)
    keys[i].h = hilbert_d((uint32_t)((keys[i].x - minx) * scale),
                          (uint32_t)((keys[i].y - miny) * scale));
  qsort(keys, n_nodes, sizeof *keys, cmp_node_key);

  net->n_nodes = n_nodes;
  net->node_xy = malloc(2 * (n_nodes ? n_nodes : 1) * sizeof *net->node_xy);
  if (!net->node_xy) goto nomem;
  for (uint32_t i = 0; i < n_nodes; i++) {
    net->node_xy[2 * i] = keys[i].x;
    net->node_xy[2 * i + 1] = keys[i].y;
    rep[keys[i].cluster] = i; /* rep of a root now holds its node id */
  }
  for (uint32_t k = 0; k < n_cand; k++) node_of_coord[cand[k]] = rep[uf_find(parent, k)];
  goto done;
nomem:
  st = oom(ctx);
done:
  free(cand);
  free(parent);
  free(rep);
  free(keys);
  if (st)
    free(node_of_coord);
  else
    *node_of_coord_out = node_of_coord;
  return st;
}

/* Edges: every part cut at its nodes, then sorted by their nodes (so by place). */
static pm_status make_edges(pm_context *ctx, pm_network *net, const parts *ps, const coords *c,
                            const uint32_t *node_of_coord) {
  size_t n = 0;
  for (size_t p = 0; p < ps->n; p++)
    for (uint32_t k = 1; k < ps->v[p].n; k++)
      if (node_of_coord[c->vc[ps->v[p].start + k]] != PM_NETWORK_NONE) n++;
  if (n >= UINT32_MAX) return pm_error(ctx, PM_EINPUT, "layer '%s': too many edges", net->layer);
  size_t sz = n ? n : 1;
  uint32_t *from = malloc(sz * sizeof *from), *to = malloc(sz * sizeof *to);
  uint32_t *first = malloc(sz * sizeof *first), *nxy = malloc(sz * sizeof *nxy);
  uint32_t *feat = malloc(sz * sizeof *feat);
  edge_key *keys = malloc(sz * sizeof *keys);
  pm_status st = PM_OK;
  if (!from || !to || !first || !nxy || !feat || !keys) {
    st = oom(ctx);
    goto done;
  }
  size_t e = 0;
  for (size_t p = 0; p < ps->n; p++) {
    const part *pt = &ps->v[p];
    uint32_t s = pt->start;
    for (uint32_t k = 1; k < pt->n; k++) {
      uint32_t v = pt->start + k, nd = node_of_coord[c->vc[v]];
      if (nd == PM_NETWORK_NONE) continue;
      from[e] = node_of_coord[c->vc[s]];
      to[e] = nd;
      first[e] = s;
      nxy[e] = v - s + 1;
      feat[e] = pt->feature;
      uint64_t lo = from[e] < to[e] ? from[e] : to[e], hi = from[e] ^ to[e] ^ (uint32_t)lo;
      keys[e] = (edge_key){lo << 32 | hi, (uint32_t)e};
      e++;
      s = v;
    }
  }
  qsort(keys, n, sizeof *keys, cmp_edge_key);
  net->n_edges = (uint32_t)n;
  net->e_from = malloc(sz * sizeof *net->e_from);
  net->e_to = malloc(sz * sizeof *net->e_to);
  net->e_xy = malloc(sz * sizeof *net->e_xy);
  net->e_nxy = malloc(sz * sizeof *net->e_nxy);
  net->e_feature = malloc(sz * sizeof *net->e_feature);
  net->e_len = malloc(sz * sizeof *net->e_len);
  if (!net->e_from || !net->e_to || !net->e_xy || !net->e_nxy || !net->e_feature || !net->e_len) {
    st = oom(ctx);
    goto done;
  }
  for (size_t i = 0; i < n; i++) {
    uint32_t o = keys[i].seq;
    net->e_from[i] = from[o];
    net->e_to[i] = to[o];
    net->e_xy[i] = first[o];
    net->e_nxy[i] = nxy[o];
    net->e_feature[i] = feat[o];
    net->e_len[i] = polyline_length(net->xy + 2 * (size_t)first[o], nxy[o]);
  }
done:
  free(from);
  free(to);
  free(first);
  free(nxy);
  free(feat);
  free(keys);
  return st;
}

/* Compressed adjacency: node n's edge ends in adj[adj_off[n] .. adj_off[n+1]), by edge id. */
static pm_status make_adjacency(pm_context *ctx, pm_network *net) {
  uint32_t nn = net->n_nodes, ne = net->n_edges;
  net->adj_off = calloc((size_t)nn + 1, sizeof *net->adj_off);
  net->adj = malloc(2 * (ne ? (size_t)ne : 1) * sizeof *net->adj);
  uint32_t *fill = malloc((nn ? nn : 1) * sizeof *fill);
  if (!net->adj_off || !net->adj || !fill) {
    free(fill);
    return oom(ctx);
  }
  for (uint32_t e = 0; e < ne; e++) {
    net->adj_off[net->e_from[e] + 1]++;
    net->adj_off[net->e_to[e] + 1]++;
  }
  for (uint32_t n = 0; n < nn; n++) net->adj_off[n + 1] += net->adj_off[n];
  memcpy(fill, net->adj_off, (nn ? nn : 1) * sizeof *fill);
  for (uint32_t e = 0; e < ne; e++) {
    uint32_t a = net->e_from[e], b = net->e_to[e];
    net->adj[fill[a]++] = (pm__net_adj){net->e_len[e], b, e};
    net->adj[fill[b]++] = (pm__net_adj){net->e_len[e], a, e};
  }
  free(fill);
  for (uint32_t n = 0; n < nn; n++)
    if (net->adj_off[n + 1] - net->adj_off[n] == 1) net->info.n_dangling++;
  return PM_OK;
}

typedef struct comp_order {
  double length;
  uint32_t first_node; /* smallest node id: a stable tie-break */
  uint32_t id;
} comp_order;

static int cmp_comp(const void *a, const void *b) {
  const comp_order *p = a, *q = b;
  if (p->length != q->length) return p->length > q->length ? -1 : 1;
  return p->first_node < q->first_node ? -1 : p->first_node > q->first_node;
}

/* Connected components by depth-first search over the adjacency, numbered by decreasing length. */
static pm_status make_components(pm_context *ctx, pm_network *net, double min_piece_m) {
  uint32_t nn = net->n_nodes, ne = net->n_edges;
  size_t szn = nn ? nn : 1;
  net->node_comp = malloc(szn * sizeof *net->node_comp);
  uint32_t *stack = malloc(szn * sizeof *stack);
  comp_order *order = NULL;
  uint32_t *renum = NULL;
  pm_status st = PM_OK;
  if (!net->node_comp || !stack) goto nomem;
  for (uint32_t n = 0; n < nn; n++) net->node_comp[n] = PM_NETWORK_NONE;
  uint32_t nc = 0;
  for (uint32_t n = 0; n < nn; n++) {
    if (net->node_comp[n] != PM_NETWORK_NONE) continue;
    size_t top = 0;
    stack[top++] = n;
    net->node_comp[n] = nc;
    while (top) {
      uint32_t u = stack[--top];
      for (uint32_t i = net->adj_off[u]; i < net->adj_off[u + 1]; i++) {
        uint32_t v = net->adj[i].to;
        if (net->node_comp[v] == PM_NETWORK_NONE) {
          net->node_comp[v] = nc;
          stack[top++] = v;
        }
      }
    }
    nc++;
  }
  net->n_comps = nc;
  order = calloc(nc ? nc : 1, sizeof *order);
  renum = malloc((nc ? nc : 1) * sizeof *renum);
  net->comps = calloc(nc ? nc : 1, sizeof *net->comps);
  net->comp_first = calloc((size_t)nc + 1, sizeof *net->comp_first);
  net->comp_nodes = malloc(szn * sizeof *net->comp_nodes);
  if (!order || !renum || !net->comps || !net->comp_first || !net->comp_nodes) goto nomem;
  for (uint32_t c = 0; c < nc; c++) order[c] = (comp_order){0, UINT32_MAX, c};
  for (uint32_t n = nn; n-- > 0;) order[net->node_comp[n]].first_node = n;
  for (uint32_t e = 0; e < ne; e++) order[net->node_comp[net->e_from[e]]].length += net->e_len[e];
  qsort(order, nc, sizeof *order, cmp_comp);
  for (uint32_t c = 0; c < nc; c++) renum[order[c].id] = c;
  for (uint32_t n = 0; n < nn; n++) net->node_comp[n] = renum[net->node_comp[n]];

  for (uint32_t c = 0; c < nc; c++)
    net->comps[c] = (pm_network_component){0, 0, 0, INFINITY, INFINITY, -INFINITY, -INFINITY, 0};
  for (uint32_t n = 0; n < nn; n++) net->comps[net->node_comp[n]].n_nodes++;
  for (uint32_t c = 0; c < nc; c++) net->comp_first[c + 1] = net->comp_first[c] + net->comps[c].n_nodes;
  memcpy(stack, net->comp_first, (nc ? nc : 1) * sizeof *stack); /* fill positions */
  for (uint32_t n = 0; n < nn; n++) net->comp_nodes[stack[net->node_comp[n]]++] = n;
  for (uint32_t e = 0; e < ne; e++) {
    pm_network_component *cp = &net->comps[net->node_comp[net->e_from[e]]];
    cp->n_edges++;
    cp->length_m += net->e_len[e];
    const double *xy = net->xy + 2 * (size_t)net->e_xy[e];
    for (uint32_t k = 0; k < net->e_nxy[e]; k++) {
      cp->minx = fmin(cp->minx, xy[2 * k]);
      cp->maxx = fmax(cp->maxx, xy[2 * k]);
      cp->miny = fmin(cp->miny, xy[2 * k + 1]);
      cp->maxy = fmax(cp->maxy, xy[2 * k + 1]);
    }
  }
  pm_network_info *in = &net->info;
  for (uint32_t c = 0; c < nc; c++) {
    pm_network_component *cp = &net->comps[c];
    in->length_m += cp->length_m;
    cp->island = cp->length_m < min_piece_m;
    if (cp->island) {
      in->n_islands++;
      in->n_island_edges += cp->n_edges;
      in->island_length_m += cp->length_m;
    }
  }
  in->largest_length_m = nc ? net->comps[0].length_m : 0;
  in->largest_share = in->length_m > 0 ? in->largest_length_m / in->length_m : 0;
  goto done;
nomem:
  st = oom(ctx);
done:
  free(stack);
  free(order);
  free(renum);
  return st;
}

static pm_status check_options(pm_context *ctx, const char *layer, const pm_network_options *o) {
  if (o->connect != PM_NETWORK_CONNECT_VERTICES && o->connect != PM_NETWORK_CONNECT_CROSSINGS)
    return pm_error(ctx, PM_EINPUT, "network '%s': connect must be `vertices` or `crossings`",
                    layer);
  if (isnan(o->min_piece_m) || o->min_piece_m < 0)
    return pm_error(ctx, PM_EINPUT,
                    "network '%s': min_piece_m must be a length in metres >= 0 (got %g)", layer,
                    o->min_piece_m);
  if (isnan(o->max_snap_m) || o->max_snap_m <= 0)
    return pm_error(ctx, PM_EINPUT,
                    "network '%s': max_snap_m must be a distance in metres > 0 (got %g)", layer,
                    o->max_snap_m);
  return PM_OK;
}

pm_status pm_network_build(pm_context *ctx, const pm_features *lines, const pm_network_options *opt,
                           pm_network **out) {
  *out = NULL;
  pm_network_options defaults;
  pm_network_options_init(&defaults);
  if (!opt) opt = &defaults;
  const char *layer = lines->layer ? lines->layer : "network";
  pm_status st = check_options(ctx, layer, opt);
  if (st) return st;
  if (lines->n > 0 && lines->kind != PM_KIND_LINE)
    return pm_error(ctx, PM_EINPUT,
                    "network layer '%s' holds %ss; a walking network is made of lines (streets, "
                    "paths): name a line layer",
                    layer, pm_geom_kind_name(lines->kind));
  if (lines->n >= UINT32_MAX)
    return pm_error(ctx, PM_EINPUT, "network layer '%s': too many features", layer);

  pm_network *net = calloc(1, sizeof *net);
  if (!net || !(net->layer = strdup(layer))) {
    free(net);
    return oom(ctx);
  }
  net->info.layer = net->layer;
  net->info.options = *opt;
  parts ps = {0};
  coords c = {0};
  uint32_t *node_of_coord = NULL;
  if ((st = read_parts(ctx, net, lines, opt->connect, &ps))) goto fail;
  net->info.n_parts = (uint32_t)ps.n;
  net->info.n_skipped_parts = ps.skipped;
  free(ps.buf);
  ps.buf = NULL;
  if (ps.n == 0) {
    st = pm_error(ctx, PM_EINPUT,
                  "network layer '%s' has no lines%s: check the layer and its `where` filter",
                  layer, lines->n ? " of any length" : "");
    goto fail;
  }
  double *shrunk = realloc(net->xy, 2 * net->n_xy * sizeof *net->xy);
  if (shrunk) net->xy = shrunk;
  if ((st = distinct_coords(ctx, net, &ps, &c))) goto fail;
  if ((st = make_nodes(ctx, net, &c, &node_of_coord))) goto fail;
  if ((st = make_edges(ctx, net, &ps, &c, node_of_coord))) goto fail;
  free(node_of_coord);
  node_of_coord = NULL;
  coords_clear(&c);
  memset(&c, 0, sizeof c);
  free(ps.v);
  ps.v = NULL;
  if ((st = make_adjacency(ctx, net))) goto fail;
  if ((st = make_components(ctx, net, opt->min_piece_m))) goto fail;
  if ((st = pm__net_index(ctx, net))) goto fail;

  pm_network_info *in = &net->info;
  in->n_nodes = net->n_nodes;
  in->n_edges = net->n_edges;
  in->n_components = net->n_comps;
  in->coord_bytes = 2 * net->n_xy * sizeof(double);
  size_t nn = net->n_nodes, ne = net->n_edges, nc = net->n_comps;
  /* the STRtree's own nodes: one leaf of ~48 bytes per block, inner nodes about a tenth more */
  size_t blocks = (net->n_snap_edges + PM__NET_BLOCK - 1) / PM__NET_BLOCK;
  in->bytes = sizeof *net + in->coord_bytes + nn * (2 * sizeof(double) + 3 * sizeof(uint32_t)) +
              ne * (5 * sizeof(uint32_t) + sizeof(double) + 2 * sizeof(pm__net_adj)) +
              nc * (sizeof(pm_network_component) + sizeof(uint32_t)) +
              net->n_snap_edges * sizeof(uint32_t) + blocks * 53;
  *out = net;
  return PM_OK;
fail:
  free(ps.v);
  free(ps.buf);
  coords_clear(&c);
  free(node_of_coord);
  pm_network_destroy(ctx, net);
  return st;
}

void pm_network_destroy(pm_context *ctx, pm_network *net) {
  if (!net) return;
  if (net->tree) GEOSSTRtree_destroy_r(pm_context_geos(ctx), net->tree);
  free(net->layer);
  free(net->node_xy);
  free(net->node_comp);
  free(net->adj_off);
  free(net->adj);
  free(net->e_from);
  free(net->e_to);
  free(net->e_len);
  free(net->e_xy);
  free(net->e_nxy);
  free(net->e_feature);
  free(net->xy);
  free(net->comps);
  free(net->comp_nodes);
  free(net->comp_first);
  free(net->snap_edges);
  free(net);
}

/* ---------------------------------------------------------------------------------------------
 * Accessors */

const pm_network_info *pm_network_get_info(const pm_network *net) { return &net->info; }

pm_status pm_network_component_get(pm_context *ctx, const pm_network *net, uint32_t c,
                                   pm_network_component *out) {
  if (c >= net->n_comps)
    return pm_error(ctx, PM_EINPUT, "network '%s' has no component %u (it has %u)", net->layer, c,
                    net->n_comps);
  *out = net->comps[c];
  return PM_OK;
}

pm_status pm_network_component_geometry(pm_context *ctx, const pm_network *net, uint32_t c,
                                        GEOSGeometry **out) {
  *out = NULL;
  if (c >= net->n_comps)
    return pm_error(ctx, PM_EINPUT, "network '%s' has no component %u (it has %u)", net->layer, c,
                    net->n_comps);
  GEOSContextHandle_t h = pm_context_geos(ctx);
  uint32_t n_edges = net->comps[c].n_edges;
  GEOSGeometry **lines = calloc(n_edges ? n_edges : 1, sizeof *lines);
  if (!lines) return oom(ctx);
  uint32_t k = 0;
  pm_status st = PM_OK;
  /* each edge once: from its `from` node's list, the first of its (one or two) ends there */
  for (uint32_t i = net->comp_first[c]; !st && i < net->comp_first[c + 1]; i++) {
    uint32_t n = net->comp_nodes[i];
    for (uint32_t a = net->adj_off[n]; a < net->adj_off[n + 1]; a++) {
      uint32_t e = net->adj[a].edge;
      if (net->e_from[e] != n || (a > net->adj_off[n] && net->adj[a - 1].edge == e)) continue;
      const double *xy = net->xy + 2 * (size_t)net->e_xy[e];
      if (!(lines[k] = pm__net_line(ctx, xy, net->e_nxy[e]))) {
        st = oom(ctx);
        break;
      }
      k++;
    }
  }
  if (!st) {
    *out = GEOSGeom_createCollection_r(h, GEOS_MULTILINESTRING, lines, k);
    if (!*out) st = oom(ctx);
  }
  if (st)
    for (uint32_t i = 0; i < k; i++) GEOSGeom_destroy_r(h, lines[i]);
  free(lines);
  return st;
}

void pm_network_edge_get(const pm_network *net, uint32_t e, pm_network_edge *out) {
  uint32_t c = net->node_comp[net->e_from[e]];
  *out = (pm_network_edge){net->e_from[e],
                           net->e_to[e],
                           c,
                           net->e_feature[e],
                           net->comps[c].island,
                           net->e_len[e],
                           net->xy + 2 * (size_t)net->e_xy[e],
                           net->e_nxy[e]};
}

void pm_network_node_xy(const pm_network *net, uint32_t n, double *x, double *y) {
  *x = net->node_xy[2 * (size_t)n];
  *y = net->node_xy[2 * (size_t)n + 1];
}

uint32_t pm_network_node_component(const pm_network *net, uint32_t n) { return net->node_comp[n]; }

uint32_t pm_network_node_degree(const pm_network *net, uint32_t n) {
  return net->adj_off[n + 1] - net->adj_off[n];
}
