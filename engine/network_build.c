/* network_build.c: the walking network's graph from a line layer: nodes where lines share vertices
 * (or cross), endpoints merged within 0.5 m, spatial numbering, CSR adjacency, components. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "engine/internal.h"
#include "engine/network_internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

/* fmin/fmax are library calls without -ffast-math; the extents below run over every vertex. */
#define MIN2(a, b) ((a) < (b) ? (a) : (b))
#define MAX2(a, b) ((a) > (b) ? (a) : (b))

void *pm__net_big_alloc(size_t bytes) {
  const size_t huge = (size_t)2 << 20;
  if (bytes < huge) return malloc(bytes ? bytes : 1);
  void *p = NULL;
  if (posix_memalign(&p, huge, (bytes + huge - 1) / huge * huge)) return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, (bytes + huge - 1) / huge * huge, MADV_HUGEPAGE); /* advice only: failure is fine */
#endif
  return p;
}

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
 * Distinct coordinates, in Hilbert order: every vertex gets the Hilbert index of its position on a
 * 2^32 x 2^32 grid over the extent; a radix sort brings equal coordinates together and numbers the
 * distinct ones along the curve, so the nodes made from them need no further sort. */

enum { AT_END = 1, AT_INTERIOR = 2, SEEN_TWICE = 4 };

/* Spread the 32 bits of v to the even bits of a 64-bit word. */
static uint64_t spread_bits(uint32_t v) {
  uint64_t x = v;
  x = (x | (x << 16)) & 0x0000FFFF0000FFFFULL;
  x = (x | (x << 8)) & 0x00FF00FF00FF00FFULL;
  x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FULL;
  x = (x | (x << 2)) & 0x3333333333333333ULL;
  x = (x | (x << 1)) & 0x5555555555555555ULL;
  return x;
}

/* Index of (x, y) along the Hilbert curve of order 32, without a loop over the bits: the
 * prefix-scan formulation of Fabian Giesen ("Hilbert curve: bit twiddling", 2015), widened from 16
 * to 32 bits per axis by one more round. tests/test_network.c compares it with the textbook loop. */
uint64_t pm__net_hilbert(uint32_t x, uint32_t y) {
  const uint64_t M = 0xFFFFFFFFu;
  uint64_t X = x, Y = y, A, B, C, D;
  {
    uint64_t a = X ^ Y, b = M ^ a, c = M ^ (X | Y), d = X & (Y ^ M);
    A = a | (b >> 1);
    B = (a >> 1) ^ a;
    C = ((c >> 1) ^ (b & (d >> 1))) ^ c;
    D = ((a & (c >> 1)) ^ (d >> 1)) ^ d;
  }
  for (int sh = 2; sh <= 8; sh *= 2) {
    uint64_t a = A, b = B, c = C, d = D;
    A = ((a & (a >> sh)) ^ (b & (b >> sh)));
    B = ((a & (b >> sh)) ^ (b & ((a ^ b) >> sh)));
    C ^= ((a & (c >> sh)) ^ (b & (d >> sh)));
    D ^= ((b & (c >> sh)) ^ ((a ^ b) & (d >> sh)));
  }
  {
    uint64_t a = A, b = B, c = C, d = D;
    C ^= ((a & (c >> 16)) ^ (b & (d >> 16)));
    D ^= ((b & (c >> 16)) ^ ((a ^ b) & (d >> 16)));
  }
  uint64_t a = (C ^ (C >> 1)) & M, b = (D ^ (D >> 1)) & M;
  uint64_t i0 = (X ^ Y) & M, i1 = (b | (M ^ (i0 | a))) & M;
  return (spread_bits((uint32_t)i1) << 1) | spread_bits((uint32_t)i0);
}

typedef struct kv {
  uint64_t key;
  uint32_t v;
} kv;

/* Stable LSD radix sort of a[0..n) by key (16-bit digits; digits equal for all items skipped).
 * *a may be swapped with the scratch buffer; the caller frees whichever *a is in the end. */
static pm_status radix_sort(pm_context *ctx, kv **a, size_t n) {
  kv *tmp = malloc((n ? n : 1) * sizeof *tmp);
  size_t *pos = malloc(65536 * sizeof *pos);
  if (!tmp || !pos) {
    free(tmp);
    free(pos);
    return oom(ctx);
  }
  for (int shift = 0; shift < 64; shift += 16) {
    kv *src = *a;
    memset(pos, 0, 65536 * sizeof *pos);
    for (size_t i = 0; i < n; i++) pos[(src[i].key >> shift) & 0xffff]++;
    if (n == 0 || pos[(src[0].key >> shift) & 0xffff] == n) continue;
    size_t sum = 0;
    for (size_t d = 0; d < 65536; d++) {
      size_t c = pos[d];
      pos[d] = sum;
      sum += c;
    }
    for (size_t i = 0; i < n; i++) tmp[pos[(src[i].key >> shift) & 0xffff]++] = src[i];
    *a = tmp;
    tmp = src;
  }
  free(tmp);
  free(pos);
  return PM_OK;
}

typedef struct coords {
  uint32_t *vc;    /* per vertex: its coordinate id (ids in Hilbert order) */
  uint32_t *first; /* per coordinate id: a vertex with it */
  uint8_t *how;    /* per coordinate id: AT_END | AT_INTERIOR | SEEN_TWICE */
  uint32_t n;
} coords;

static void coords_clear(coords *c) {
  free(c->vc);
  free(c->first);
  free(c->how);
}

static int xy_less(const double *xy, uint32_t a, uint32_t b) {
  const double *p = xy + 2 * (size_t)a, *q = xy + 2 * (size_t)b;
  return p[0] < q[0] || (p[0] == q[0] && (p[1] < q[1] || (p[1] == q[1] && a < b)));
}

/* Sort v[0..n) by position (x, y, then vertex): insertion sort for the usual handful, merge sort
 * (tmp: room for n) for the long runs a far outlier could make by stretching the grid. */
static void sort_by_xy(const double *xy, kv *v, kv *tmp, size_t n) {
  if (n <= 16) {
    for (size_t k = 1; k < n; k++)
      for (size_t m = k; m > 0 && xy_less(xy, v[m].v, v[m - 1].v); m--) {
        kv t = v[m];
        v[m] = v[m - 1];
        v[m - 1] = t;
      }
    return;
  }
  size_t h = n / 2, i = 0, j = h, k = 0;
  sort_by_xy(xy, v, tmp, h);
  sort_by_xy(xy, v + h, tmp, n - h);
  while (i < h && j < n) tmp[k++] = xy_less(xy, v[j].v, v[i].v) ? v[j++] : v[i++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

static pm_status distinct_coords(pm_context *ctx, const pm_network *net, const parts *ps,
                                 coords *c) {
  size_t nv = net->n_xy;
  const double *xy = net->xy;
  double minx = INFINITY, miny = INFINITY, maxx = -INFINITY, maxy = -INFINITY;
  for (size_t v = 0; v < nv; v++) {
    minx = MIN2(minx, xy[2 * v]);
    maxx = MAX2(maxx, xy[2 * v]);
    miny = MIN2(miny, xy[2 * v + 1]);
    maxy = MAX2(maxy, xy[2 * v + 1]);
  }
  double span = fmax(maxx - minx, maxy - miny);
  /* a 2^24 grid (cells of 6 mm on a 100 km extent): keys of 48 bits, three radix passes */
  double scale = span > 0 ? 16777215.0 / span : 0;
  kv *a = malloc((nv ? nv : 1) * sizeof *a);
  c->vc = malloc((nv ? nv : 1) * sizeof *c->vc);
  c->first = malloc((nv ? nv : 1) * sizeof *c->first);
  c->how = malloc(nv ? nv : 1);
  if (!a || !c->vc || !c->first || !c->how) {
    free(a);
    return oom(ctx);
  }
  for (size_t v = 0; v < nv; v++)
    a[v] = (kv){pm__net_hilbert((uint32_t)MIN2((xy[2 * v] - minx) * scale, 16777215.0),
                                (uint32_t)MIN2((xy[2 * v + 1] - miny) * scale, 16777215.0)),
                (uint32_t)v};
  pm_status st = radix_sort(ctx, &a, nv);
  if (st) {
    free(a);
    return st;
  }
  kv *tmp = NULL; /* merge room, only for long runs */
  size_t tmp_cap = 0;
  for (size_t i = 0; i < nv;) {
    size_t j = i + 1;
    while (j < nv && a[j].key == a[i].key) j++;
    /* a grid cell seldom holds two different positions; order them so that equal coordinates
     * sit together */
    if (j - i > 16 && pm__grow(ctx, (void **)&tmp, &tmp_cap, j - i, sizeof *tmp)) {
      free(a);
      free(tmp);
      return PM_ENOMEM;
    }
    if (j - i > 1) sort_by_xy(xy, a + i, tmp, j - i);
    for (size_t k = i; k < j; k++) {
      uint32_t v = a[k].v;
      if (k > i && xy[2 * (size_t)v] == xy[2 * (size_t)a[k - 1].v] &&
          xy[2 * (size_t)v + 1] == xy[2 * (size_t)a[k - 1].v + 1]) {
        c->how[c->n - 1] |= SEEN_TWICE;
      } else {
        c->first[c->n] = v;
        c->how[c->n] = 0;
        c->n++;
      }
      c->vc[v] = c->n - 1;
    }
    i = j;
  }
  free(a);
  free(tmp);
  for (size_t p = 0; p < ps->n; p++) {
    const part *pt = &ps->v[p];
    for (uint32_t k = 0; k < pt->n; k++)
      c->how[c->vc[pt->start + k]] |= (k == 0 || k + 1 == pt->n) ? AT_END : AT_INTERIOR;
  }
  return PM_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Node candidates (ends and shared vertices), merged within PM_NETWORK_MERGE_M by union-find. */

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

/* Cell of a position in a grid of PM_NETWORK_MERGE_M cells, as one sortable key: x cell in the
 * high 32 bits, y cell in the low (offset so that both are non-negative). */
static uint64_t cell_key(int64_t cx, int64_t cy) {
  return (uint64_t)(cx + (INT64_C(1) << 31)) << 32 | (uint64_t)(cy + (INT64_C(1) << 31));
}

/* Link every candidate that is a line end to every candidate closer than PM_NETWORK_MERGE_M.
 * Candidates are sorted by 0.5 m cell, so a pair closer than that lies in neighbouring cells; for
 * each of the 3 neighbouring columns a pointer walks forward through the sorted cells. */
static pm_status merge_ends(pm_context *ctx, const pm_network *net, const coords *c,
                            const uint32_t *cand, uint32_t n_cand, uint32_t *parent) {
  const double m = PM_NETWORK_MERGE_M;
  double ox = INFINITY, oy = INFINITY; /* grid origin: the lowest candidate coordinates */
  for (uint32_t k = 0; k < n_cand; k++) {
    const double *p = net->xy + 2 * (size_t)c->first[cand[k]];
    ox = MIN2(ox, p[0]);
    oy = MIN2(oy, p[1]);
  }
  kv *items = malloc((n_cand ? n_cand : 1) * sizeof *items);
  if (!items) return oom(ctx);
  for (uint32_t k = 0; k < n_cand; k++) {
    const double *p = net->xy + 2 * (size_t)c->first[cand[k]];
    items[k] = (kv){cell_key((int64_t)floor((p[0] - ox) / m), (int64_t)floor((p[1] - oy) / m)), k};
  }
  pm_status st = radix_sort(ctx, &items, n_cand);
  if (st) {
    free(items);
    return st;
  }
  size_t ptr[3] = {0, 0, 0};
  for (uint32_t i = 0; i < n_cand; i++) {
    uint64_t key = items[i].key;
    int64_t cx = (int64_t)(key >> 32), cy = (int64_t)(key & 0xffffffffu);
    for (int d = 0; d < 3; d++) { /* column cx - 1 + d, rows cy - 1 .. cy + 1 */
      int64_t col = cx - 1 + d;
      if (col < 0) continue;
      uint64_t lo = (uint64_t)col << 32 | (uint64_t)(cy > 0 ? cy - 1 : 0);
      uint64_t hi = (uint64_t)col << 32 | (uint64_t)(cy + 1);
      while (ptr[d] < n_cand && items[ptr[d]].key < lo) ptr[d]++;
      uint32_t a = items[i].v;
      if (!(c->how[cand[a]] & AT_END)) continue;
      const double *pa = net->xy + 2 * (size_t)c->first[cand[a]];
      for (size_t j = ptr[d]; j < n_cand && items[j].key <= hi; j++) {
        uint32_t b = items[j].v;
        if (b == a) continue;
        const double *pb = net->xy + 2 * (size_t)c->first[cand[b]];
        double dx = pa[0] - pb[0], dy = pa[1] - pb[1];
        if (dx * dx + dy * dy < m * m) uf_union(parent, a, b);
      }
    }
  }
  free(items);
  return PM_OK;
}

/* Length of the polyline of n vertices at xy; the same summation as every position along an edge
 * (pm__net_seg_len), so that the position of the last vertex equals the length exactly. */
static double polyline_length(const double *xy, uint32_t n) {
  double len = 0;
  for (uint32_t k = 1; k < n; k++) len += pm__net_seg_len(xy + 2 * (k - 1));
  return len;
}

/* Nodes: the clusters of candidates, numbered in the Hilbert order of their positions.
 * node_of_coord[c] receives the node of coordinate id c, or PM_NETWORK_NONE when c is an interior
 * vertex of a single line. */
static pm_status make_nodes(pm_context *ctx, pm_network *net, const coords *c,
                            uint32_t **node_of_coord_out) {
  pm_status st = PM_OK;
  uint32_t n_cand = 0;
  uint32_t *cand = malloc((c->n ? c->n : 1) * sizeof *cand);
  uint32_t *node_of_coord = malloc((c->n ? c->n : 1) * sizeof *node_of_coord);
  uint32_t *parent = NULL, *rep = NULL;
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
    int pin_p = (c->how[cand[k]] & AT_INTERIOR) != 0;
    int pin_q = (c->how[cand[rep[r]]] & AT_INTERIOR) != 0;
    if (pin_p != pin_q ? pin_p : (p[0] < q[0] || (p[0] == q[0] && p[1] < q[1]))) rep[r] = k;
  }
  net->info.n_merged = n_cand - n_nodes;
  net->n_nodes = n_nodes;
  net->node_xy = malloc(2 * (n_nodes ? n_nodes : 1) * sizeof *net->node_xy);
  if (!net->node_xy) goto nomem;
  /* candidates are in Hilbert order: a node's number is its representative's rank */
  uint32_t next = 0;
  for (uint32_t k = 0; k < n_cand; k++) {
    uint32_t r = uf_find(parent, k);
    if (rep[r] != k) continue;
    const double *p = net->xy + 2 * (size_t)c->first[cand[k]];
    net->node_xy[2 * (size_t)next] = p[0];
    net->node_xy[2 * (size_t)next + 1] = p[1];
    node_of_coord[cand[k]] = next++; /* noted on the representative, spread below */
  }
  for (uint32_t k = 0; k < n_cand; k++)
    node_of_coord[cand[k]] = node_of_coord[cand[rep[uf_find(parent, k)]]];
  goto done;
nomem:
  st = oom(ctx);
done:
  free(cand);
  free(parent);
  free(rep);
  if (st)
    free(node_of_coord);
  else
    *node_of_coord_out = node_of_coord;
  return st;
}

/* Edges: every part cut at its nodes, then ordered by (lower node, higher node, input order) with
 * a counting sort on the lower node. */
static pm_status make_edges(pm_context *ctx, pm_network *net, const parts *ps, const coords *c,
                            const uint32_t *node_of_coord) {
  /* the node at every vertex (PM_NETWORK_NONE inside an edge), read in order below */
  uint32_t *vn = malloc((net->n_xy ? net->n_xy : 1) * sizeof *vn);
  if (!vn) return oom(ctx);
  for (size_t v = 0; v < net->n_xy; v++) vn[v] = node_of_coord[c->vc[v]];
  size_t n = 0;
  for (size_t p = 0; p < ps->n; p++)
    for (uint32_t k = 1; k < ps->v[p].n; k++)
      if (vn[ps->v[p].start + k] != PM_NETWORK_NONE) n++;
  if (n >= UINT32_MAX) {
    free(vn);
    return pm_error(ctx, PM_EINPUT, "layer '%s': too many edges", net->layer);
  }
  size_t sz = n ? n : 1;
  uint32_t nn = net->n_nodes;
  net->n_edges = (uint32_t)n;
  net->e_from = malloc(sz * sizeof *net->e_from);
  net->e_to = malloc(sz * sizeof *net->e_to);
  net->e_xy = malloc(sz * sizeof *net->e_xy);
  uint32_t *nxy = malloc(sz * sizeof *nxy);
  net->e_feature = malloc(sz * sizeof *net->e_feature);
  net->e_len = malloc(sz * sizeof *net->e_len);
  uint32_t *start = calloc((size_t)nn + 1, sizeof *start);
  if (!net->e_from || !net->e_to || !net->e_xy || !nxy || !net->e_feature || !net->e_len || !start) {
    free(start);
    free(nxy);
    free(vn);
    return oom(ctx);
  }
  /* pass 1: count per lower node; pass 2: place in input order within each lower node */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t p = 0; p < ps->n; p++) {
      const part *pt = &ps->v[p];
      uint32_t s = pt->start;
      for (uint32_t k = 1; k < pt->n; k++) {
        uint32_t v = pt->start + k, b = vn[v];
        if (b == PM_NETWORK_NONE) continue;
        uint32_t a = vn[s], lo = a < b ? a : b;
        if (pass == 0) {
          start[lo + 1]++;
        } else {
          uint32_t e = start[lo]++;
          net->e_from[e] = a;
          net->e_to[e] = b;
          net->e_xy[e] = s;
          nxy[e] = v - s + 1;
          net->e_feature[e] = pt->feature;
        }
        s = v;
      }
    }
    if (pass == 0)
      for (uint32_t i = 0; i < nn; i++) start[i + 1] += start[i];
  }
  /* start[lo] is now the end of lo's edges; order each (short) run by the higher node, stably */
  uint32_t begin = 0;
  for (uint32_t lo = 0; lo < nn; lo++) {
    uint32_t end = start[lo];
    for (uint32_t i = begin + 1; i < end; i++)
      for (uint32_t j = i; j > begin; j--) {
        uint32_t hi_j = net->e_from[j] ^ net->e_to[j] ^ lo, hi_p = net->e_from[j - 1] ^ net->e_to[j - 1] ^ lo;
        if (hi_p <= hi_j) break;
#define SWAP(arr)                                                                                  \
  do {                                                                                             \
    uint32_t t_ = arr[j];                                                                          \
    arr[j] = arr[j - 1];                                                                           \
    arr[j - 1] = t_;                                                                               \
  } while (0)
        SWAP(net->e_from);
        SWAP(net->e_to);
        SWAP(net->e_xy);
        SWAP(nxy);
        SWAP(net->e_feature);
#undef SWAP
      }
    begin = end;
  }
  free(start);
  free(vn);
  /* Coordinates in edge order, each edge's vertices together (an end shared by two edges is kept
   * with each): spatially close edges then read one stretch of memory, which is what snapping and
   * the reached parts do. e_xy becomes the offsets, n_edges + 1 of them. */
  size_t total = 0;
  for (size_t e = 0; e < n; e++) total += nxy[e];
  double *xy = total < UINT32_MAX ? malloc(2 * total * sizeof *xy) : NULL;
  uint32_t *off = malloc((n + 1) * sizeof *off);
  if (!xy || !off) {
    free(xy);
    free(off);
    free(nxy);
    return total < UINT32_MAX ? oom(ctx)
                              : pm_error(ctx, PM_EINPUT, "layer '%s': too many vertices", net->layer);
  }
  size_t at = 0;
  for (size_t e = 0; e < n; e++) {
    off[e] = (uint32_t)at;
    memcpy(xy + 2 * at, net->xy + 2 * (size_t)net->e_xy[e], 2 * (size_t)nxy[e] * sizeof *xy);
    at += nxy[e];
    net->e_len[e] = polyline_length(xy + 2 * (size_t)off[e], nxy[e]);
  }
  off[n] = (uint32_t)at;
  free(nxy);
  free(net->xy);
  free(net->e_xy);
  net->xy = xy;
  net->n_xy = total;
  net->e_xy = off;
  return PM_OK;
}

/* Compressed adjacency: node n's edge ends in adj[adj_off[n] .. adj_off[n+1]), by edge id. */
static pm_status make_adjacency(pm_context *ctx, pm_network *net) {
  uint32_t nn = net->n_nodes, ne = net->n_edges;
  net->adj_off = pm__net_big_alloc(((size_t)nn + 1) * sizeof *net->adj_off);
  if (net->adj_off) memset(net->adj_off, 0, ((size_t)nn + 1) * sizeof *net->adj_off);
  net->adj = pm__net_big_alloc(2 * (size_t)ne * sizeof *net->adj);
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
    for (uint32_t k = 0; k < pm__net_nxy(net, e); k++) {
      cp->minx = MIN2(cp->minx, xy[2 * k]);
      cp->maxx = MAX2(cp->maxx, xy[2 * k]);
      cp->miny = MIN2(cp->miny, xy[2 * k + 1]);
      cp->maxy = MAX2(cp->maxy, xy[2 * k + 1]);
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
  /* the STRtree's own nodes: one leaf of ~48 bytes per block, inner nodes about a tenth more;
   * and our copy of each block's box (32 bytes) */
  size_t blocks = (net->n_chunks + PM__NET_BLOCK - 1) / PM__NET_BLOCK;
  in->bytes = sizeof *net + in->coord_bytes + nn * (2 * sizeof(double) + 3 * sizeof(uint32_t)) +
              ne * (4 * sizeof(uint32_t) + sizeof(double) + 2 * sizeof(pm__net_adj)) +
              nc * (sizeof(pm_network_component) + sizeof(uint32_t)) +
              net->n_chunks * 2 * sizeof(uint32_t) + blocks * (53 + 4 * sizeof(double));
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
  free(net->e_feature);
  free(net->xy);
  free(net->comps);
  free(net->comp_nodes);
  free(net->comp_first);
  free(net->chunk_edge);
  free(net->chunk_seg);
  free(net->block_box);
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
      if (!(lines[k] = pm__net_line(ctx, xy, pm__net_nxy(net, e)))) {
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
                           pm__net_nxy(net, e)};
}

void pm_network_node_xy(const pm_network *net, uint32_t n, double *x, double *y) {
  *x = net->node_xy[2 * (size_t)n];
  *y = net->node_xy[2 * (size_t)n + 1];
}

uint32_t pm_network_node_component(const pm_network *net, uint32_t n) { return net->node_comp[n]; }

uint32_t pm_network_node_degree(const pm_network *net, uint32_t n) {
  return net->adj_off[n + 1] - net->adj_off[n];
}
