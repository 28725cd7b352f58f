/* network_search.c: shortest walks on the network: multi-source Dijkstra with a cutoff from snapped
 * seeds, the distance to any snapped point, the reached parts of edges, and the walked path. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/measure.h"
#include "engine/network_internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

/* pred[n]: the edge that reached node n, or SEED_BIT | i when seed i reached it directly. */
#define SEED_BIT 0x80000000u

typedef struct seed {
  uint32_t edge, source;
  double pos, off;  /* position along the edge; offset = the leg already walked */
  double x, y;      /* the point itself (for paths with legs) */
} seed;

/* A queue entry carries its label, so that the queue never reaches into the per-node arrays. */
typedef struct hentry {
  double d;
  uint32_t src, node;
} hentry;

/* A node's label: distance, source, and how it was reached (see SEED_BIT); one 16-byte slot, so
 * that testing a neighbour reads one cache line. */
typedef struct nlabel {
  double d;
  uint32_t src, pred;
} nlabel;

/* The priority queue is a radix heap: Dijkstra pops distances that never decrease, so an entry
 * can live in the bucket of the highest bit in which its key differs from the last popped key
 * (keys: the bits of the non-negative double, which order like the numbers). Pushes append; a
 * pop empties one bucket into lower ones; every entry moves at most 64 times, and memory is read
 * in runs, which beats a binary heap's scattered sifts on a million nodes. Entries whose label is
 * no longer their node's are stale and skipped. */
#define RADIX_BUCKETS 65

typedef struct rbucket {
  hentry *v;
  size_t n, cap;
} rbucket;

/* Owned by the caller of pm_network_search_create; borrows the network. */
struct pm_network_search {
  const pm_network *net;
  double cutoff;
  nlabel *lab;       /* per node: d = INFINITY unless touched by the last run */
  rbucket bucket[RADIX_BUCKETS];
  uint64_t last;     /* key of the last popped entry */
  uint64_t full;     /* bit b set when bucket b (< 64) holds entries; bucket 64 is checked apart */
  size_t queued;     /* entries in all buckets */
  uint32_t *touched; /* the nodes the last run labelled, so the next run resets only these */
  size_t n_touched;
  seed *seeds;       /* the last run's usable seeds, in input order */
  size_t n_seeds, cap_seeds;
  uint32_t *by_edge; /* seed indices sorted by (edge, pos, index): the seeds of one edge */
  size_t cap_by_edge;
};

pm_status pm_network_search_create(pm_context *ctx, const pm_network *net, pm_network_search **out) {
  *out = NULL;
  if (net->n_edges >= SEED_BIT)
    return pm_error(ctx, PM_EINPUT, "network '%s' is too large to search", net->layer);
  pm_network_search *s = calloc(1, sizeof *s);
  size_t n = net->n_nodes ? net->n_nodes : 1;
  if (!s) return oom(ctx);
  s->net = net;
  s->lab = pm__net_big_alloc(n * sizeof *s->lab);
  s->touched = malloc(n * sizeof *s->touched);
  if (!s->lab || !s->touched) {
    pm_network_search_destroy(s);
    return oom(ctx);
  }
  for (size_t i = 0; i < n; i++) s->lab[i] = (nlabel){INFINITY, PM_NETWORK_NONE, PM_NETWORK_NONE};
  *out = s;
  return PM_OK;
}

void pm_network_search_destroy(pm_network_search *s) {
  if (!s) return;
  free(s->lab);
  for (int b = 0; b < RADIX_BUCKETS; b++) free(s->bucket[b].v);
  free(s->touched);
  free(s->seeds);
  free(s->by_edge);
  free(s);
}

/* ---------------------------------------------------------------------------------------------
 * Labels are (distance, source); the smaller distance wins, then the smaller source id: a total
 * order that adding an edge length preserves, so every node ends with the smallest label over all
 * sources, whatever the order of the seeds. A node that improves after it was popped (possible
 * only between equal distances) is queued again, so the result never depends on pop order. */

static inline int label_less(double d1, uint32_t s1, double d2, uint32_t s2) {
  return d1 < d2 || (d1 == d2 && s1 < s2);
}

static inline uint64_t key_of(double d) {
  uint64_t k;
  d += 0.0; /* -0 is 0 */
  memcpy(&k, &d, sizeof k);
  return k;
}

static inline int bucket_of(uint64_t key, uint64_t last) {
  return key == last ? 0 : 64 - __builtin_clzll(key ^ last);
}

/* Returns 1 when the bucket cannot grow (out of memory), else 0. */
static inline int queue_push(pm_network_search *s, hentry x) {
  int i = bucket_of(key_of(x.d), s->last);
  rbucket *b = &s->bucket[i];
  if (i < 64) s->full |= UINT64_C(1) << i;
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 256;
    hentry *v = realloc(b->v, cap * sizeof *v);
    if (!v) return 1;
    b->v = v;
    b->cap = cap;
  }
  b->v[b->n++] = x;
  s->queued++;
  return 0;
}

/* Pop an entry with the smallest distance (s->queued > 0). Returns 1 when out of memory. */
static int queue_pop(pm_network_search *s, hentry *out) {
  if (s->bucket[0].n == 0) {
    int i = s->full ? __builtin_ctzll(s->full) : 64;
    rbucket *b = &s->bucket[i];
    size_t m = 0;
    for (size_t k = 1; k < b->n; k++)
      if (label_less(b->v[k].d, b->v[k].src, b->v[m].d, b->v[m].src)) m = k;
    s->last = key_of(b->v[m].d);
    size_t n = b->n;
    b->n = 0;
    if (i < 64) s->full &= ~(UINT64_C(1) << i);
    s->queued -= n;
    for (size_t k = 0; k < n; k++) /* all land in lower buckets: i is never written here */
      if (queue_push(s, b->v[k])) return 1;
  }
  rbucket *z = &s->bucket[0];
  *out = z->v[--z->n];
  if (z->n == 0) s->full &= ~UINT64_C(1);
  s->queued--;
  return 0;
}

/* Offer node n the label (d, src) reached by pred; labels beyond the cutoff are never made.
 * Returns 1 when out of memory, else 0. */
static inline int offer(pm_network_search *s, uint32_t n, double d, uint32_t src, uint32_t pred) {
  nlabel *l = &s->lab[n];
  if (d > s->cutoff || !label_less(d, src, l->d, l->src)) return 0;
  if (l->d == INFINITY) s->touched[s->n_touched++] = n;
  *l = (nlabel){d, src, pred};
  return queue_push(s, (hentry){d, src, n});
}

/* Sort seed indices by (edge, pos, index): a merge sort (insertion sort below 16), because C11's
 * qsort has no user argument and a global one would not be thread-safe. */
static void sort_range(const seed *sd, uint32_t *v, uint32_t *tmp, size_t n) {
  if (n < 16) {
    for (size_t i = 1; i < n; i++) {
      uint32_t x = v[i];
      size_t j = i;
      while (j > 0) {
        const seed *p = &sd[v[j - 1]], *q = &sd[x];
        int after = p->edge != q->edge ? p->edge > q->edge
                    : p->pos != q->pos ? p->pos > q->pos
                                       : v[j - 1] > x;
        if (!after) break;
        v[j] = v[j - 1];
        j--;
      }
      v[j] = x;
    }
    return;
  }
  size_t h = n / 2;
  sort_range(sd, v, tmp, h);
  sort_range(sd, v + h, tmp, n - h);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) {
    const seed *p = &sd[v[i]], *q = &sd[v[j]];
    int take_right = p->edge != q->edge ? p->edge > q->edge
                     : p->pos != q->pos ? p->pos > q->pos
                                        : v[i] > v[j];
    tmp[k++] = take_right ? v[j++] : v[i++];
  }
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

pm_status pm_network_search_run(pm_context *ctx, pm_network_search *s, const pm_network_snap *seeds,
                                const uint32_t *source, size_t n, double cutoff_m) {
  const pm_network *net = s->net;
  if (isnan(cutoff_m) || cutoff_m < 0)
    return pm_error(ctx, PM_EINPUT, "a network search needs a cutoff >= 0 m (got %g)", cutoff_m);
  for (size_t i = 0; i < s->n_touched; i++) {
    uint32_t v = s->touched[i];
    s->lab[v] = (nlabel){INFINITY, PM_NETWORK_NONE, PM_NETWORK_NONE};
  }
  s->n_touched = 0;
  for (int b = 0; b < RADIX_BUCKETS; b++) s->bucket[b].n = 0;
  s->queued = 0;
  s->last = 0;
  s->full = 0;
  s->n_seeds = 0;
  s->cutoff = cutoff_m;

  for (size_t i = 0; i < n; i++) {
    if (seeds[i].status != PM_SNAP_OK) continue;
    uint32_t src = source ? source[i] : (uint32_t)i;
    if (src == PM_NETWORK_NONE || (!source && i >= PM_NETWORK_NONE))
      return pm_error(ctx, PM_EINPUT, "a network search source id must be below %u", UINT32_MAX);
    if (seeds[i].edge >= net->n_edges || s->n_seeds + 1 >= SEED_BIT)
      return pm_error(ctx, PM_EINPUT, "seed %zu is not a point snapped to network '%s'", i,
                      net->layer);
    if (pm__grow(ctx, (void **)&s->seeds, &s->cap_seeds, s->n_seeds + 1, sizeof *s->seeds))
      return PM_ENOMEM;
    s->seeds[s->n_seeds++] =
        (seed){seeds[i].edge, src, seeds[i].pos_m, seeds[i].leg_m, seeds[i].x, seeds[i].y};
  }
  size_t ns = s->n_seeds;
  if (ns > 0) {
    if (pm__grow(ctx, (void **)&s->by_edge, &s->cap_by_edge, 2 * ns, sizeof *s->by_edge))
      return PM_ENOMEM;
    for (size_t i = 0; i < ns; i++) s->by_edge[i] = (uint32_t)i;
    sort_range(s->seeds, s->by_edge, s->by_edge + ns, ns);
  }

  int nomem = 0;
  for (size_t i = 0; i < ns; i++) {
    const seed *sd = &s->seeds[i];
    double len = net->e_len[sd->edge];
    nomem |= offer(s, net->e_from[sd->edge], sd->off + sd->pos, sd->source, SEED_BIT | (uint32_t)i);
    nomem |= offer(s, net->e_to[sd->edge], sd->off + (len - sd->pos), sd->source, SEED_BIT | (uint32_t)i);
  }
  const uint32_t *off = net->adj_off;
  const pm__net_adj *adj = net->adj;
  while (s->queued && !nomem) {
    hentry top;
    if ((nomem = queue_pop(s, &top))) break;
    uint32_t u = top.node;
    if (top.d != s->lab[u].d || top.src != s->lab[u].src) continue; /* stale: improved since */
    for (uint32_t a = off[u]; a < off[u + 1]; a++)
      nomem |= offer(s, adj[a].to, top.d + adj[a].w, top.src, adj[a].edge);
  }
  if (nomem) {
    for (int b = 0; b < RADIX_BUCKETS; b++) s->bucket[b].n = 0;
    s->queued = 0;
    s->full = 0;
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  return PM_OK;
}

double pm_network_search_cutoff(const pm_network_search *s) { return s->cutoff; }

double pm_network_search_node_dist(const pm_network_search *s, uint32_t n) { return s->lab[n].d; }

uint32_t pm_network_search_node_source(const pm_network_search *s, uint32_t n) { return s->lab[n].src; }

size_t pm_network_search_nodes(const pm_network_search *s, const uint32_t **nodes) {
  *nodes = s->touched;
  return s->n_touched;
}

/* The seeds of edge e: by_edge[*lo .. *hi). */
static void seeds_of_edge(const pm_network_search *s, uint32_t e, size_t *lo, size_t *hi) {
  size_t a = 0, b = s->n_seeds;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if (s->seeds[s->by_edge[m]].edge < e)
      a = m + 1;
    else
      b = m;
  }
  *lo = a;
  while (a < s->n_seeds && s->seeds[s->by_edge[a]].edge == e) a++;
  *hi = a;
}

/* How the best walk to a snapped point arrives: through an end node of its edge, or along the
 * edge from a seed on it. */
typedef struct arrival {
  double d; /* without the target's leg */
  uint32_t source;
  int via;     /* 0 none, 1 the edge's from node, 2 its to node, 3 a seed on the edge */
  uint32_t seed;
} arrival;

static void consider(arrival *a, double d, uint32_t source, int via, uint32_t seed_i) {
  if (label_less(d, source, a->d, a->source)) *a = (arrival){d, source, via, seed_i};
}

static arrival best_arrival(const pm_network_search *s, const pm_network_snap *q) {
  arrival a = {INFINITY, PM_NETWORK_NONE, 0, 0};
  const pm_network *net = s->net;
  if (q->status != PM_SNAP_OK || q->edge >= net->n_edges) return a;
  uint32_t e = q->edge, u = net->e_from[e], v = net->e_to[e];
  if (s->lab[u].d < INFINITY) consider(&a, s->lab[u].d + q->pos_m, s->lab[u].src, 1, 0);
  if (s->lab[v].d < INFINITY) consider(&a, s->lab[v].d + (net->e_len[e] - q->pos_m), s->lab[v].src, 2, 0);
  size_t lo, hi;
  seeds_of_edge(s, e, &lo, &hi);
  for (size_t i = lo; i < hi; i++) {
    const seed *sd = &s->seeds[s->by_edge[i]];
    consider(&a, sd->off + fabs(sd->pos - q->pos_m), sd->source, 3, s->by_edge[i]);
  }
  return a;
}

double pm_network_search_dist_to(const pm_network_search *s, const pm_network_snap *q,
                                 uint32_t *source) {
  arrival a = best_arrival(s, q);
  double d = a.d + q->leg_m;
  if (!(d <= s->cutoff)) {
    if (source) *source = PM_NETWORK_NONE;
    return INFINITY;
  }
  if (source) *source = a.source;
  return d;
}

/* ---------------------------------------------------------------------------------------------
 * Reached parts. Along one edge, every origin of a walk is a line of slope +1 (entering from the
 * `from` side: the from node, or a seed to the left) or -1 (from the `to` side). Between two
 * consecutive seed positions the lowest of each kind is fixed, and the distance is the lower of
 * the two: rising from the left up to their crossing, falling towards the right after it. */

typedef struct origin {
  double base, anchor; /* distance at x: base + (x - anchor) from the left, base + (anchor - x) from the right */
  uint32_t source;
  int ok;
} origin;

static double left_at(const origin *o, double x) { return o->base + (x - o->anchor); }
static double right_at(const origin *o, double x) { return o->base + (o->anchor - x); }

static void better_left(origin *best, const origin *o, double x) {
  if (!best->ok || label_less(left_at(o, x), o->source, left_at(best, x), best->source)) *best = *o;
}

static void better_right(origin *best, const origin *o, double x) {
  if (!best->ok || label_less(right_at(o, x), o->source, right_at(best, x), best->source)) *best = *o;
}

typedef struct part_list {
  pm_network_part *v;
  size_t n, cap;
} part_list;

static pm_status push_part(pm_context *ctx, part_list *l, pm_network_part p) {
  if (!(p.to_m > p.from_m)) return PM_OK;
  if (pm__grow(ctx, (void **)&l->v, &l->cap, l->n + 1, sizeof *l->v)) return PM_ENOMEM;
  l->v[l->n++] = p;
  return PM_OK;
}

/* The parts of edge e into l; right_best is scratch room for (seeds on e) + 1 origins. */
static pm_status edge_parts(pm_context *ctx, const pm_network_search *s, uint32_t e, part_list *l,
                            origin *right_best) {
  const pm_network *net = s->net;
  double len = net->e_len[e], cut = s->cutoff;
  uint32_t u = net->e_from[e], v = net->e_to[e];
  size_t lo, hi;
  seeds_of_edge(s, e, &lo, &hi);
  size_t k = hi - lo; /* intervals: k + 1, bounded by 0, the seed positions, len */
#define BOUND(i) ((i) == 0 ? 0 : (i) == k + 1 ? len : fmin(fmax(s->seeds[s->by_edge[lo + (i) - 1]].pos, 0), len))
  /* right_best[i]: the lowest right origin of interval i = [BOUND(i), BOUND(i+1)] */
  origin best = {0, 0, 0, 0};
  if (s->lab[v].d < INFINITY) best = (origin){s->lab[v].d, len, s->lab[v].src, 1};
  for (size_t i = k + 1; i-- > 0;) {
    double hx = BOUND(i + 1);
    if (i < k) { /* seed i (the bound at i + 1) is to the right of interval i */
      const seed *sd = &s->seeds[s->by_edge[lo + i]];
      origin o = {sd->off, sd->pos, sd->source, 1};
      better_right(&best, &o, hx);
    }
    right_best[i] = best;
  }
  origin left = {0, 0, 0, 0};
  if (s->lab[u].d < INFINITY) left = (origin){s->lab[u].d, 0, s->lab[u].src, 1};
  for (size_t i = 0; i <= k; i++) {
    double lx = BOUND(i), hx = BOUND(i + 1);
    if (i > 0) { /* seed i - 1 (the bound at i) is to the left of interval i */
      const seed *sd = &s->seeds[s->by_edge[lo + i - 1]];
      origin o = {sd->off, sd->pos, sd->source, 1};
      better_left(&left, &o, lx);
    }
    if (!(hx > lx)) continue;
    const origin *right = &right_best[i];
    double l0 = left.ok ? left_at(&left, lx) : INFINITY;
    double r1 = right->ok ? right_at(right, hx) : INFINITY;
    double cross = !left.ok ? lx : !right->ok ? hx : (r1 - l0 + lx + hx) / 2;
    cross = fmin(fmax(cross, lx), hx);
    if (left.ok && l0 <= cut) {
      double end = fmin(cross, lx + (cut - l0));
      pm_network_part p = {e, left.source, lx, end, l0, left_at(&left, end)};
      if (push_part(ctx, l, p)) return PM_ENOMEM;
    }
    if (right->ok && r1 <= cut) {
      double start = fmax(cross, hx - (cut - r1));
      pm_network_part p = {e, right->source, start, hx, right_at(right, start), r1};
      if (push_part(ctx, l, p)) return PM_ENOMEM;
    }
  }
#undef BOUND
  return PM_OK;
}

static int cmp_u32(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

pm_status pm_network_parts_band(const pm_network_part *parts, size_t n, double lo, double hi,
                                int first, pm_network_part *band, size_t *n_band) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    const pm_network_part *p = &parts[i];
    double d0 = p->d_from, d1 = p->d_to, a = p->from_m, z = p->to_m;
    double dlo = fmin(d0, d1), dhi = fmax(d0, d1);
    if (dhi < lo || (!first && dhi <= lo) || dlo > hi) continue;
    double t0 = 0, t1 = 1;
    if (d1 != d0) {
      double ta = (fmax(lo, dlo) - d0) / (d1 - d0), tb = (fmin(hi, dhi) - d0) / (d1 - d0);
      t0 = fmin(ta, tb);
      t1 = fmax(ta, tb);
    }
    pm_network_part q = *p;
    q.from_m = a + t0 * (z - a);
    q.to_m = a + t1 * (z - a);
    if (q.to_m > q.from_m) band[m++] = q;
  }
  *n_band = m;
  return PM_OK;
}

pm_status pm_network_search_parts(pm_context *ctx, const pm_network_search *s,
                                  pm_network_part **out, size_t *n) {
  *out = NULL;
  *n = 0;
  const pm_network *net = s->net;
  /* the candidate edges: around every reached node, and under every seed within the cutoff;
   * marked in a bitmap, then listed in id order (a scan of the bitmap when they are many, a sort
   * of the few otherwise) */
  size_t words = ((size_t)net->n_edges + 63) / 64;
  uint64_t *mark = calloc(words ? words : 1, sizeof *mark);
  if (!mark) return oom(ctx);
  size_t ne = 0, cap = 0;
  uint32_t *edges = NULL;
  pm_status st = PM_OK;
#define MARK(e)                                                                                    \
  do {                                                                                             \
    uint32_t e_ = (e);                                                                             \
    if (!(mark[e_ / 64] >> (e_ % 64) & 1)) {                                                       \
      mark[e_ / 64] |= UINT64_C(1) << (e_ % 64);                                                   \
      ne++;                                                                                        \
    }                                                                                              \
  } while (0)
  for (size_t i = 0; i < s->n_touched; i++) {
    uint32_t v = s->touched[i];
    for (uint32_t a = net->adj_off[v]; a < net->adj_off[v + 1]; a++) MARK(net->adj[a].edge);
  }
  for (size_t i = 0; i < s->n_seeds; i++)
    if (s->seeds[i].off <= s->cutoff) MARK(s->seeds[i].edge);
#undef MARK
  if (pm__grow(ctx, (void **)&edges, &cap, ne ? ne : 1, sizeof *edges)) {
    free(mark);
    return PM_ENOMEM;
  }
  size_t k = 0;
  if (ne > words) {
    for (size_t w = 0; w < words; w++)
      for (uint64_t bits = mark[w]; bits; bits &= bits - 1)
        edges[k++] = (uint32_t)(64 * w + (size_t)__builtin_ctzll(bits));
  } else {
    for (size_t i = 0; i < s->n_touched; i++) {
      uint32_t v = s->touched[i];
      for (uint32_t a = net->adj_off[v]; a < net->adj_off[v + 1]; a++) {
        uint32_t e = net->adj[a].edge;
        if (mark[e / 64] >> (e % 64) & 1) {
          mark[e / 64] &= ~(UINT64_C(1) << (e % 64));
          edges[k++] = e;
        }
      }
    }
    for (size_t i = 0; i < s->n_seeds; i++) {
      uint32_t e = s->seeds[i].edge;
      if (mark[e / 64] >> (e % 64) & 1) {
        mark[e / 64] &= ~(UINT64_C(1) << (e % 64));
        edges[k++] = e;
      }
    }
    qsort(edges, ne, sizeof *edges, cmp_u32);
  }
  free(mark);
  part_list l = {0};
  origin *scratch = NULL;
  size_t scratch_cap = 0;
  for (size_t i = 0; !st && i < ne; i++) {
    size_t lo, hi;
    seeds_of_edge(s, edges[i], &lo, &hi);
    if (pm__grow(ctx, (void **)&scratch, &scratch_cap, hi - lo + 1, sizeof *scratch)) {
      st = PM_ENOMEM;
      break;
    }
    st = edge_parts(ctx, s, edges[i], &l, scratch);
  }
  free(edges);
  free(scratch);
  if (st) {
    free(l.v);
    return st;
  }
  *out = l.v;
  *n = l.n;
  return PM_OK;
}

pm_status pm_network_parts_geometry(pm_context *ctx, const pm_network *net,
                                    const pm_network_part *parts, size_t n, GEOSGeometry **out) {
  *out = NULL;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSGeometry **lines = malloc((n ? n : 1) * sizeof *lines);
  if (!lines) return oom(ctx);
  double *buf = NULL;
  size_t cap = 0, k = 0;
  pm_status st = PM_OK;
  for (size_t i = 0; i < n;) {
    /* touching parts of one edge make one line */
    size_t j = i + 1;
    while (j < n && parts[j].edge == parts[i].edge && parts[j].from_m <= parts[j - 1].to_m) j++;
    size_t np = 0;
    if ((st = pm__net_edge_coords(ctx, net, parts[i].edge, parts[i].from_m, parts[j - 1].to_m, 0,
                                  &buf, &np, &cap)))
      break;
    if (np >= 2) {
      if (!(lines[k] = pm__net_line(ctx, buf, np))) {
        st = oom(ctx);
        break;
      }
      k++;
    }
    i = j;
  }
  free(buf);
  if (!st && !(*out = GEOSGeom_createCollection_r(h, GEOS_MULTILINESTRING, lines, (unsigned)k)))
    st = oom(ctx);
  if (st)
    for (size_t i = 0; i < k; i++) GEOSGeom_destroy_r(h, lines[i]);
  free(lines);
  return st;
}

pm_status pm_network_parts_area(pm_context *ctx, const pm_network *net,
                                const pm_network_part *parts, size_t n, double width_m,
                                int quadsegs, GEOSGeometry **out) {
  *out = NULL;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSGeometry *lines = NULL;
  pm_status st = pm_network_parts_geometry(ctx, net, parts, n, &lines);
  if (st) return st;
  double w = width_m > 0 ? width_m : 1e-6;
  pm_geom_list l = {0};
  int nl = GEOSGetNumGeometries_r(h, lines);
  for (int i = 0; !st && i < nl; i++) {
    GEOSGeometry *b = GEOSBuffer_r(h, GEOSGetGeometryN_r(h, lines, i), w, quadsegs);
    st = b ? pm_geom_list_push(ctx, &l, b)
           : pm_error(ctx, PM_EGEOM, "widening the reached network failed (%s)",
                      pm__context_geos_message(ctx));
  }
  GEOSGeom_destroy_r(h, lines);
  if (st) {
    pm_geom_list_clear(ctx, &l);
    return st;
  }
  if (l.n == 1) { /* nothing to dissolve */
    *out = l.v[0];
    l.n = 0;
    pm_geom_list_clear(ctx, &l);
    return PM_OK;
  }
  if (!(*out = pm_geom_list_union(ctx, &l, GEOS_MULTIPOLYGON)))
    return pm_error(ctx, PM_EGEOM, "joining the widened reached network failed (%s)",
                    pm__context_geos_message(ctx));
  return PM_OK;
}

pm_status pm_network_search_geometry(pm_context *ctx, const pm_network_search *s,
                                     GEOSGeometry **out) {
  *out = NULL;
  pm_network_part *parts = NULL;
  size_t n = 0;
  pm_status st = pm_network_search_parts(ctx, s, &parts, &n);
  if (!st) st = pm_network_parts_geometry(ctx, s->net, parts, n, out);
  free(parts);
  return st;
}

/* ---------------------------------------------------------------------------------------------
 * Paths */

/* The piece of seed sd's edge from its snap point to its end node `node`. */
static pm_status seed_piece(pm_context *ctx, const pm_network *net, const seed *sd, uint32_t node,
                            double **buf, size_t *n, size_t *cap) {
  uint32_t e = sd->edge;
  double len = net->e_len[e];
  int toward_from = net->e_from[e] == node;
  if (toward_from && net->e_to[e] == node) toward_from = sd->pos <= len - sd->pos; /* a loop */
  return toward_from ? pm__net_edge_coords(ctx, net, e, 0, sd->pos, 1, buf, n, cap)
                     : pm__net_edge_coords(ctx, net, e, sd->pos, len, 0, buf, n, cap);
}

static pm_status push_point(pm_context *ctx, double **buf, size_t *n, size_t *cap, double x,
                            double y) {
  if (*n > 0 && (*buf)[2 * *n - 2] == x && (*buf)[2 * *n - 1] == y) return PM_OK;
  if (pm__grow(ctx, (void **)buf, cap, 2 * (*n + 1), sizeof **buf)) return PM_ENOMEM;
  (*buf)[2 * *n] = x;
  (*buf)[2 * *n + 1] = y;
  (*n)++;
  return PM_OK;
}

pm_status pm_network_search_path(pm_context *ctx, const pm_network_search *s,
                                 const pm_network_snap *q, int with_legs, GEOSGeometry **out,
                                 double *length_m, uint32_t *source) {
  *out = NULL;
  const pm_network *net = s->net;
  uint32_t src;
  double d = pm_network_search_dist_to(s, q, &src);
  if (length_m) *length_m = d;
  if (source) *source = src;
  if (d == INFINITY) return PM_OK;
  arrival a = best_arrival(s, q);
  uint32_t e = q->edge;
  double len = net->e_len[e];

  /* the edges from the seed to the arrival node, collected backwards */
  uint32_t *chain = NULL; /* pairs (edge, node it leads to) */
  size_t nc = 0, cc = 0;
  uint32_t seed_i = a.seed, node = PM_NETWORK_NONE;
  pm_status st = PM_OK;
  if (a.via == 1 || a.via == 2) {
    node = a.via == 1 ? net->e_from[e] : net->e_to[e];
    uint32_t cur = node;
    while (!(s->lab[cur].pred & SEED_BIT)) {
      uint32_t pe = s->lab[cur].pred;
      if (pm__grow(ctx, (void **)&chain, &cc, 2 * (nc + 1), sizeof *chain)) {
        free(chain);
        return PM_ENOMEM;
      }
      chain[2 * nc] = pe;
      chain[2 * nc + 1] = cur;
      nc++;
      cur = net->e_from[pe] == cur ? net->e_to[pe] : net->e_from[pe];
    }
    seed_i = s->lab[cur].pred & ~SEED_BIT;
    node = cur; /* the node the seed entered at */
  }
  const seed *sd = &s->seeds[seed_i];
  double *buf = NULL;
  size_t n = 0, cap = 0;
  if (with_legs) st = push_point(ctx, &buf, &n, &cap, sd->x, sd->y);
  if (a.via == 3) { /* along q's edge from the seed */
    if (!st)
      st = sd->pos <= q->pos_m ? pm__net_edge_coords(ctx, net, e, sd->pos, q->pos_m, 0, &buf, &n, &cap)
                               : pm__net_edge_coords(ctx, net, e, q->pos_m, sd->pos, 1, &buf, &n, &cap);
  } else {
    if (!st) st = seed_piece(ctx, net, sd, node, &buf, &n, &cap);
    for (size_t i = nc; !st && i-- > 0;) {
      uint32_t pe = chain[2 * i], to = chain[2 * i + 1];
      st = pm__net_edge_coords(ctx, net, pe, 0, net->e_len[pe], net->e_from[pe] == to, &buf, &n,
                               &cap);
    }
    if (!st)
      st = a.via == 1 ? pm__net_edge_coords(ctx, net, e, 0, q->pos_m, 0, &buf, &n, &cap)
                      : pm__net_edge_coords(ctx, net, e, q->pos_m, len, 1, &buf, &n, &cap);
  }
  if (!st && with_legs) st = push_point(ctx, &buf, &n, &cap, q->x, q->y);
  if (!st && !(*out = pm__net_line(ctx, buf, n))) st = oom(ctx);
  free(chain);
  free(buf);
  return st;
}
