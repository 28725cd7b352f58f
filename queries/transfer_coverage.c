/* transfer_coverage.c: METRICS.md §2 transfer_coverage (rail-to-bus transfer distance). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "queries/metric_internal.h"
#include "planmetrics/metrics.h"
#include "planmetrics/network.h"

/* Choices where METRICS.md is silent (also in the project docs):
 * - A station's access points are its entrances; a station that got no entrance (or when no
 *   entrance layer is given) uses its own point. An entrance whose entrance_station_field names a
 *   station label belongs to that station (the nearest one when several share the label), whatever
 *   the distance; otherwise, and when the name matches no station, to the nearest station within
 *   catchment_m; an entrance with neither is ignored (a notice says how many).
 * - "Within catchment_m of s" is measured from s's access points, like the transfer distance.
 * - Only stations whose point lies in the plan area take part; out-of-area stations neither count
 *   nor lend their catchment to stops (basis stop).
 * - A station (pair, stop) on a shared district boundary counts in each district, once in `_all`;
 *   its gap in `_all` names the first of those districts.
 * - Details: every station ("station": covered = a stop within threshold_m), the segment to its
 *   nearest stop when that is within catchment_m ("segment"), and per basis the pairs ("pair",
 *   segment to the nearest stop of the route) or the stops in a catchment ("stop").
 * - distance: network (METRICS.md §5): every distance above is d, walked along the network from
 *   the access point's snap point to the stop's. A stop within catchment_m along the network is
 *   within catchment_m in a straight line too, so the straight-line catchment query still finds
 *   every candidate. A station none of whose access points can be snapped (farther than
 *   max_snap_m from every non-island edge) is unroutable: it counts, never passes, and its gap
 *   says so. Segments become the walked path; gaps also give the straight-line distance. */

#define NONE SIZE_MAX

enum { BASIS_STATION, BASIS_ROUTE, BASIS_STOP };

typedef struct hits {
  size_t *v;
  size_t n, cap;
  int oom;
} hits;

/* A stop within catchment of the current station, at `dist` from access point `ap`. */
typedef struct cand {
  size_t stop;
  double dist;
  size_t ap;
} cand;

/* The nearest stop of a station over all access points (stop NONE when there are no stops). */
typedef struct nearest {
  size_t stop;
  double dist;
  size_t ap;
} nearest;

/* Routes parsed from the stops: route ids per stop in CSR form (off[j]..off[j+1] into rid). */
typedef struct route_ref {
  char *name;
  size_t stop;
} route_ref;

typedef struct routes {
  route_ref *refs;
  size_t n_refs;
  size_t *off;
  size_t *rid;
  const char **name; /* borrowed from refs */
  size_t n_routes;
} routes;

typedef struct rpair {
  size_t rid;
  double dist;
  size_t stop;
  size_t ap;
} rpair;

typedef struct spair {
  size_t stop;
  size_t k;
} spair;

typedef struct tc {
  pm_context *ctx;
  GEOSContextHandle_t h;
  const pm_indicator_spec *spec;
  const char *ind;
  const pm_features *st, *sp, *en;
  const pm_districts *d;
  pm_indicator_result *out;
  double thr, catch_m;
  int basis;
  size_t *sd_off, *sd_idx; /* districts of each station, CSR */
  unsigned char *in_all;
  double *st_x, *st_y;     /* station point */
  size_t *ap_off, *ap_idx; /* entrances of each station, CSR */
  hits hb;
  cand *cand;
  size_t n_cand, cap_cand;
  size_t *stop_pos; /* position of a stop in cand, NONE when absent */
  double *num, *den;
  routes rt;
  rpair *rp;
  size_t n_rp, cap_rp;
  spair *spr;
  size_t n_spr, cap_spr;
  GEOSSTRtree *sp_tree, *st_tree; /* the features' own index, or one of own_* */
  GEOSSTRtree *own_sp, *own_st;
  double *stop_best;   /* basis stop: distance to the nearest access point in reach */
  size_t *stop_best_s; /* and its station */
  /* distance: network */
  const pm_network *net;
  pm_network_search *srch;     /* one station's access points, up to catchment_m */
  pm_network_search *near_all; /* every stop, no cutoff: the nearest stop of any point */
  pm_network_snap *stop_snap;  /* per stop */
  pm_network_snap *ap_snap;    /* per station, its access points from ap_base[s] */
  size_t *ap_base;
  int searched;                /* srch holds the current station's search */
  size_t n_unroutable_st, n_unroutable_sp;
} tc;

static pm_status geos_fail(tc *t, const char *what) {
  const char *m = pm__context_geos_message(t->ctx);
  return pm_error(t->ctx, PM_EGEOM, "indicator %s: GEOS failed to %s%s%s", t->ind, what,
                  m[0] ? ": " : "", m);
}

static void collect_hit(void *item, void *user) {
  hits *hb = user;
  if (hb->n == hb->cap) {
    size_t nc = hb->cap ? 2 * hb->cap : 64;
    size_t *p = realloc(hb->v, nc * sizeof *p);
    if (!p) {
      hb->oom = 1;
      return;
    }
    hb->v = p;
    hb->cap = nc;
  }
  hb->v[hb->n++] = (size_t)(uintptr_t)item;
}

/* An STRtree of fs: its own when the caller indexed it, else one built here (*own, destroyed by
 * the caller), so that borrowed, possibly shared selections are never modified. */
static pm_status tree_of(tc *t, const pm_features *fs, GEOSSTRtree **tree, GEOSSTRtree **own) {
  if (fs->tree) {
    *tree = fs->tree;
    return PM_OK;
  }
  *own = GEOSSTRtree_create_r(t->h, 10);
  if (!*own) return pm_error(t->ctx, PM_ENOMEM, "out of memory");
  for (size_t i = 0; i < fs->n; i++)
    GEOSSTRtree_insert_r(t->h, *own, fs->geom[i], (void *)(uintptr_t)i);
  *tree = *own;
  return PM_OK;
}

/* The feature of fs nearest to g (tree indexes fs, which is not empty). */
static pm_status nearest_feature(tc *t, const pm_features *fs, GEOSSTRtree *tree,
                                 const GEOSGeometry *g, size_t *i, double *dist) {
  pm_status st = pm_features_nearest(t->ctx, fs, tree, g, i, dist);
  if (st) return pm_error_prefix(t->ctx, "indicator %s: ", t->ind);
  if (*i == SIZE_MAX) return geos_fail(t, "find the nearest feature");
  return PM_OK;
}

static size_t n_access(const tc *t, size_t s) {
  size_t n = t->ap_off ? t->ap_off[s + 1] - t->ap_off[s] : 0;
  return n ? n : 1;
}

static const GEOSGeometry *access_geom(const tc *t, size_t s, size_t k) {
  if (!t->ap_off || t->ap_off[s + 1] == t->ap_off[s]) return t->st->geom[s];
  return t->en->geom[t->ap_idx[t->ap_off[s] + k]];
}

/* Stops whose envelope comes within r of g's envelope, into t->hb. */
static pm_status query_near(tc *t, const GEOSGeometry *g, double r) {
  double x0, y0, x1, y1;
  if (!GEOSGeom_getXMin_r(t->h, g, &x0) || !GEOSGeom_getYMin_r(t->h, g, &y0) ||
      !GEOSGeom_getXMax_r(t->h, g, &x1) || !GEOSGeom_getYMax_r(t->h, g, &y1))
    return geos_fail(t, "read an envelope");
  GEOSGeometry *env = GEOSGeom_createRectangle_r(t->h, x0 - r, y0 - r, x1 + r, y1 + r);
  if (!env) return geos_fail(t, "build a search envelope");
  t->hb.n = 0;
  t->hb.oom = 0;
  GEOSSTRtree_query_r(t->h, t->sp_tree, env, collect_hit, &t->hb);
  GEOSGeom_destroy_r(t->h, env);
  if (t->hb.oom) return pm_error(t->ctx, PM_ENOMEM, "out of memory");
  return PM_OK;
}

static int station_routable(const tc *t, size_t s) {
  for (size_t k = 0; k < n_access(t, s); k++)
    if (t->ap_snap[t->ap_base[s] + k].status == PM_SNAP_OK) return 1;
  return 0;
}

/* scan_station along the network: one search from the station's access points up to catchment_m,
 * then the walked distance to every stop of the straight-line catchment. */
static pm_status scan_station_network(tc *t, size_t s, nearest *best) {
  pm_status st;
  size_t na = n_access(t, s);
  const pm_network_snap *seeds = &t->ap_snap[t->ap_base[s]];
  t->searched = 0;
  if (!station_routable(t, s)) {
    /* Unroutable: it counts (with the pairs or stops of its straight-line catchment) and never
     * passes; only the straight-line nearest stop can be named. */
    t->n_unroutable_st++;
    for (size_t k = 0; k < na; k++) {
      if ((st = query_near(t, access_geom(t, s, k), t->catch_m))) return st;
      for (size_t q = 0; q < t->hb.n; q++) {
        size_t j = t->hb.v[q];
        double dd;
        if (t->stop_pos[j] != NONE) continue;
        if (!GEOSDistance_r(t->h, access_geom(t, s, k), t->sp->geom[j], &dd))
          return geos_fail(t, "measure a distance");
        if (!(dd <= t->catch_m)) continue;
        if ((st = pm__grow(t->ctx, (void **)&t->cand, &t->cap_cand, t->n_cand + 1,
                           sizeof *t->cand)))
          return st;
        t->stop_pos[j] = t->n_cand;
        t->cand[t->n_cand++] = (cand){j, INFINITY, k};
      }
    }
    size_t j;
    double dd;
    if ((st = nearest_feature(t, t->sp, t->sp_tree, access_geom(t, s, 0), &j, &dd))) return st;
    *best = (nearest){j, INFINITY, 0};
    return PM_OK;
  }
  if ((st = pm_network_search_run(t->ctx, t->srch, seeds, NULL, na, t->catch_m))) return st;
  t->searched = 1;
  for (size_t k = 0; k < na; k++) {
    if ((st = query_near(t, access_geom(t, s, k), t->catch_m))) return st;
    for (size_t q = 0; q < t->hb.n; q++) {
      size_t j = t->hb.v[q];
      if (t->stop_pos[j] != NONE) continue; /* the search covers every access point at once */
      uint32_t src = PM_NETWORK_NONE;
      double dd = pm_network_search_dist_to(t->srch, &t->stop_snap[j], &src);
      if (!(dd <= t->catch_m)) continue;
      if ((st = pm__grow(t->ctx, (void **)&t->cand, &t->cap_cand, t->n_cand + 1, sizeof *t->cand)))
        return st;
      t->stop_pos[j] = t->n_cand;
      t->cand[t->n_cand++] = (cand){j, dd, src};
    }
  }
  for (size_t c = 0; c < t->n_cand; c++) {
    const cand *x = &t->cand[c];
    if (best->stop == NONE || x->dist < best->dist || (x->dist == best->dist && x->stop < best->stop))
      *best = (nearest){x->stop, x->dist, x->ap};
  }
  if (t->n_cand) return PM_OK;
  /* Nothing within catchment: the nearest stop along the network anywhere (from the search that
   * started at every stop), or, when no stop is reachable at all, the straight-line nearest. */
  for (size_t k = 0; k < na; k++) {
    uint32_t j = PM_NETWORK_NONE;
    double dd = pm_network_search_dist_to(t->near_all, &seeds[k], &j);
    if (j != PM_NETWORK_NONE && (best->stop == NONE || dd < best->dist ||
                                 (dd == best->dist && j < best->stop)))
      *best = (nearest){j, dd, k};
  }
  if (best->stop == NONE) {
    size_t j;
    double dd;
    if ((st = nearest_feature(t, t->sp, t->sp_tree, access_geom(t, s, 0), &j, &dd))) return st;
    *best = (nearest){j, INFINITY, 0};
  }
  return PM_OK;
}

/* Fill t->cand with the stops within catchment of station s (each at its distance from the
 * nearest access point) and find the station's nearest stop overall. */
static pm_status scan_station(tc *t, size_t s, nearest *best) {
  pm_status st;
  for (size_t c = 0; c < t->n_cand; c++) t->stop_pos[t->cand[c].stop] = NONE;
  t->n_cand = 0;
  best->stop = NONE;
  best->dist = NAN;
  best->ap = 0;
  if (t->sp->n == 0) return PM_OK;
  if (t->net) return scan_station_network(t, s, best);
  size_t na = n_access(t, s);
  for (size_t k = 0; k < na; k++) {
    const GEOSGeometry *a = access_geom(t, s, k);
    if ((st = query_near(t, a, t->catch_m))) return st;
    for (size_t q = 0; q < t->hb.n; q++) {
      size_t j = t->hb.v[q];
      double dd;
      if (!GEOSDistance_r(t->h, a, t->sp->geom[j], &dd)) return geos_fail(t, "measure a distance");
      if (!(dd <= t->catch_m)) continue;
      size_t p = t->stop_pos[j];
      if (p == NONE) {
        if ((st = pm__grow(t->ctx, (void **)&t->cand, &t->cap_cand, t->n_cand + 1, sizeof *t->cand)))
          return st;
        t->stop_pos[j] = t->n_cand;
        t->cand[t->n_cand++] = (cand){j, dd, k};
      } else if (dd < t->cand[p].dist) {
        t->cand[p].dist = dd;
        t->cand[p].ap = k;
      }
    }
  }
  if (t->n_cand) {
    for (size_t c = 0; c < t->n_cand; c++) {
      const cand *x = &t->cand[c];
      if (best->stop == NONE || x->dist < best->dist ||
          (x->dist == best->dist && x->stop < best->stop)) {
        best->stop = x->stop;
        best->dist = x->dist;
        best->ap = x->ap;
      }
    }
    return PM_OK;
  }
  /* Nothing in the catchment: the nearest stop anywhere still tells the planner how far off it is.
   */
  for (size_t k = 0; k < na; k++) {
    size_t j;
    double dd;
    if ((st = nearest_feature(t, t->sp, t->sp_tree, access_geom(t, s, k), &j, &dd))) return st;
    if (best->stop == NONE || dd < best->dist || (dd == best->dist && j < best->stop)) {
      best->stop = j;
      best->dist = dd;
      best->ap = k;
    }
  }
  return PM_OK;
}

static pm_status rep_xy(tc *t, const GEOSGeometry *g, double *x, double *y) {
  if (GEOSGeomTypeId_r(t->h, g) == GEOS_POINT) {
    if (!GEOSGeomGetX_r(t->h, g, x) || !GEOSGeomGetY_r(t->h, g, y))
      return geos_fail(t, "read a point");
    return PM_OK;
  }
  GEOSGeometry *p = GEOSPointOnSurface_r(t->h, g);
  if (!p) return geos_fail(t, "find a representative point");
  int ok = GEOSGeomGetX_r(t->h, p, x) && GEOSGeomGetY_r(t->h, p, y);
  GEOSGeom_destroy_r(t->h, p);
  return ok ? PM_OK : geos_fail(t, "read a point");
}

/* Districts of every station (by its point) and whether it lies in the plan area. */
static pm_status assign_districts(tc *t) {
  size_t n = t->st->n, nd = t->d->n;
  pm_status st = PM_OK;
  t->sd_off = calloc(n + 1, sizeof *t->sd_off);
  t->in_all = calloc(n ? n : 1, 1);
  t->st_x = calloc(n ? n : 1, sizeof *t->st_x);
  t->st_y = calloc(n ? n : 1, sizeof *t->st_y);
  size_t *buf = malloc((nd ? nd : 1) * sizeof *buf);
  size_t cap = 0;
  if (!t->sd_off || !t->in_all || !t->st_x || !t->st_y || !buf) {
    free(buf);
    return pm_error(t->ctx, PM_ENOMEM, "out of memory");
  }
  for (size_t s = 0; s < n && !st; s++) {
    if ((st = rep_xy(t, t->st->geom[s], &t->st_x[s], &t->st_y[s]))) break;
    GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(t->h, t->st_x[s], t->st_y[s]);
    if (!pt) {
      st = geos_fail(t, "build a point");
      break;
    }
    size_t m = 0;
    int in_all = 0;
    st = pm_districts_of_point(t->ctx, t->d, pt, buf, &m, &in_all);
    GEOSGeom_destroy_r(t->h, pt);
    if (st) break;
    t->in_all[s] = (unsigned char)(in_all != 0);
    if (!in_all) m = 0;
    if ((st = pm__grow(t->ctx, (void **)&t->sd_idx, &cap, t->sd_off[s] + m + 1, sizeof *t->sd_idx)))
      break;
    memcpy(t->sd_idx + t->sd_off[s], buf, m * sizeof *buf);
    t->sd_off[s + 1] = t->sd_off[s] + m;
  }
  free(buf);
  return st;
}

static int cmp_label_idx(const void *a, const void *b, void *fs) {
  const pm_features *f = fs;
  return strcmp(f->label[*(const size_t *)a], f->label[*(const size_t *)b]);
}

/* qsort_r is not C11; a small merge sort keeps the station-label index portable. */
static void sort_by_label(size_t *v, size_t *tmp, size_t n, const pm_features *fs) {
  if (n < 2) return;
  size_t h = n / 2;
  sort_by_label(v, tmp, h, fs);
  sort_by_label(v + h, tmp, n - h, fs);
  size_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = cmp_label_idx(&v[j], &v[i], (void *)fs) < 0 ? v[j++] : v[i++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

/* Give each entrance to a station (see the note at the top) and build the access-point table. */
static pm_status assign_entrances(tc *t) {
  const pm_features *en = t->en, *sts = t->st;
  pm_status st = PM_OK;
  int fi = -1;
  if (t->spec->entrance_station_field && t->spec->entrance_station_field[0]) {
    fi = pm_features_attr_index(en, t->spec->entrance_station_field);
    if (fi < 0)
      return pm_error(t->ctx, PM_EINPUT,
                      "indicator %s: entrances layer %s has no field %s (entrance_station_field): "
                      "name a field of the entrances that holds the station name, or drop the key",
                      t->ind, en->layer ? en->layer : "?", t->spec->entrance_station_field);
  }
  size_t *owner = malloc(en->n * sizeof *owner);
  size_t *by_label = NULL, *tmp = NULL, n_lab = 0;
  t->ap_off = calloc(sts->n + 1, sizeof *t->ap_off);
  if (!owner || !t->ap_off) {
    st = pm_error(t->ctx, PM_ENOMEM, "out of memory");
    goto done;
  }
  if (fi >= 0) {
    by_label = malloc((sts->n ? sts->n : 1) * sizeof *by_label);
    tmp = malloc((sts->n ? sts->n : 1) * sizeof *tmp);
    if (!by_label || !tmp) {
      st = pm_error(t->ctx, PM_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t s = 0; s < sts->n; s++)
      if (sts->label && sts->label[s]) by_label[n_lab++] = s;
    sort_by_label(by_label, tmp, n_lab, sts);
  }
  if ((st = tree_of(t, sts, &t->st_tree, &t->own_st))) goto done;
  size_t unmatched = 0, orphans = 0;
  for (size_t e = 0; e < en->n; e++) {
    owner[e] = NONE;
    const char *want = fi >= 0 ? en->attr[fi][e] : NULL;
    if (want && want[0]) {
      size_t lo = 0, hi = n_lab;
      while (lo < hi) { /* first station whose label is >= want */
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(sts->label[by_label[mid]], want) < 0)
          lo = mid + 1;
        else
          hi = mid;
      }
      double bestd = INFINITY;
      for (size_t q = lo; q < n_lab && strcmp(sts->label[by_label[q]], want) == 0; q++) {
        double dd;
        if (!GEOSDistance_r(t->h, en->geom[e], sts->geom[by_label[q]], &dd)) {
          st = geos_fail(t, "measure a distance");
          goto done;
        }
        if (owner[e] == NONE || dd < bestd) {
          owner[e] = by_label[q];
          bestd = dd;
        }
      }
      if (owner[e] == NONE) unmatched++;
    }
    if (owner[e] == NONE && sts->n) {
      size_t s;
      double dd;
      if ((st = nearest_feature(t, sts, t->st_tree, en->geom[e], &s, &dd))) goto done;
      if (dd <= t->catch_m) owner[e] = s;
    }
    if (owner[e] == NONE)
      orphans++;
    else
      t->ap_off[owner[e] + 1]++;
  }
  for (size_t s = 0; s < sts->n; s++) t->ap_off[s + 1] += t->ap_off[s];
  t->ap_idx = malloc((t->ap_off[sts->n] ? t->ap_off[sts->n] : 1) * sizeof *t->ap_idx);
  if (!t->ap_idx) {
    st = pm_error(t->ctx, PM_ENOMEM, "out of memory");
    goto done;
  }
  {
    size_t *fill = malloc((sts->n ? sts->n : 1) * sizeof *fill); /* next free slot per station */
    if (!fill) {
      st = pm_error(t->ctx, PM_ENOMEM, "out of memory");
      goto done;
    }
    memcpy(fill, t->ap_off, sts->n * sizeof *fill);
    for (size_t e = 0; e < en->n; e++)
      if (owner[e] != NONE) t->ap_idx[fill[owner[e]]++] = e;
    free(fill);
  }
  if (unmatched)
    pm_notice(t->ctx,
              "indicator %s: %zu entrances name a station (field %s) that is not in layer %s; "
              "they were given to the nearest station within %g m",
              t->ind, unmatched, t->spec->entrance_station_field, sts->layer ? sts->layer : "?",
              t->catch_m);
  if (orphans)
    pm_notice(t->ctx,
              "indicator %s: %zu entrances are farther than catchment_m = %g m from every station "
              "and were ignored",
              t->ind, orphans, t->catch_m);
done:
  free(owner);
  free(by_label);
  free(tmp);
  return st;
}

static int is_space_at(const char *p, size_t *len) {
  unsigned char c = (unsigned char)p[0];
  if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f') {
    *len = 1;
    return 1;
  }
  if (c == 0xE3 && (unsigned char)p[1] == 0x80 && (unsigned char)p[2] == 0x80) { /* U+3000 */
    *len = 3;
    return 1;
  }
  return 0;
}

static int cmp_route_ref(const void *a, const void *b) {
  const route_ref *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c) return c;
  return (x->stop > y->stop) - (x->stop < y->stop);
}

/* Split every stop's routes_field on routes_sep, trim, drop empty parts, number the routes. */
static pm_status parse_routes(tc *t, int fi) {
  const pm_features *sp = t->sp;
  routes *rt = &t->rt;
  const char *sep = t->spec->routes_sep;
  if (!sep || !*sep)
    return pm_error(t->ctx, PM_EINPUT, "indicator %s: routes_sep is empty; give the separator of "
                    "the routes in %s (e.g. \";\")", t->ind, t->spec->routes_field);
  size_t seplen = strlen(sep), cap = 0;
  pm_status st;
  for (size_t j = 0; j < sp->n; j++) {
    const char *p = sp->attr[fi][j];
    while (p) {
      const char *e = strstr(p, sep);
      const char *end = e ? e : p + strlen(p);
      const char *b = p;
      size_t l;
      while (b < end && is_space_at(b, &l) && b + l <= end) b += l;
      for (;;) { /* trim the tail: step back over ASCII spaces or one U+3000 */
        if (end > b && is_space_at(end - 1, &l) && l == 1)
          end--;
        else if (end - b >= 3 && is_space_at(end - 3, &l) && l == 3)
          end -= 3;
        else
          break;
      }
      if (end > b) {
        if ((st = pm__grow(t->ctx, (void **)&rt->refs, &cap, rt->n_refs + 1, sizeof *rt->refs)))
          return st;
        char *name = malloc((size_t)(end - b) + 1);
        if (!name) return pm_error(t->ctx, PM_ENOMEM, "out of memory");
        memcpy(name, b, (size_t)(end - b));
        name[end - b] = '\0';
        rt->refs[rt->n_refs++] = (route_ref){name, j};
      }
      p = e ? e + seplen : NULL;
    }
  }
  if (rt->n_refs) qsort(rt->refs, rt->n_refs, sizeof *rt->refs, cmp_route_ref);
  rt->off = calloc(sp->n + 1, sizeof *rt->off);
  rt->rid = malloc((rt->n_refs ? rt->n_refs : 1) * sizeof *rt->rid);
  rt->name = malloc((rt->n_refs ? rt->n_refs : 1) * sizeof *rt->name);
  size_t *fill = malloc((sp->n ? sp->n : 1) * sizeof *fill);
  size_t *ref_rid = malloc((rt->n_refs ? rt->n_refs : 1) * sizeof *ref_rid);
  if (!rt->off || !rt->rid || !rt->name || !fill || !ref_rid) {
    free(fill);
    free(ref_rid);
    return pm_error(t->ctx, PM_ENOMEM, "out of memory");
  }
  for (size_t r = 0; r < rt->n_refs; r++) {
    const route_ref *x = &rt->refs[r];
    if (r && strcmp(x->name, rt->refs[r - 1].name) == 0) {
      ref_rid[r] = rt->n_routes - 1;
      if (x->stop == rt->refs[r - 1].stop) { /* "20路;20路" on one stop */
        ref_rid[r] = NONE;
        continue;
      }
    } else {
      rt->name[rt->n_routes] = x->name;
      ref_rid[r] = rt->n_routes++;
    }
    rt->off[x->stop + 1]++;
  }
  for (size_t j = 0; j < sp->n; j++) rt->off[j + 1] += rt->off[j];
  memcpy(fill, rt->off, sp->n * sizeof *fill);
  for (size_t r = 0; r < rt->n_refs; r++)
    if (ref_rid[r] != NONE) rt->rid[fill[rt->refs[r].stop]++] = ref_rid[r];
  free(fill);
  free(ref_rid);
  return PM_OK;
}

static void routes_free(routes *rt) {
  for (size_t r = 0; r < rt->n_refs; r++) free(rt->refs[r].name);
  free(rt->refs);
  free(rt->off);
  free(rt->rid);
  free(rt->name);
}

static int cmp_rpair(const void *a, const void *b) {
  const rpair *x = a, *y = b;
  if (x->rid != y->rid) return x->rid < y->rid ? -1 : 1;
  if (x->dist != y->dist) return x->dist < y->dist ? -1 : 1;
  return (x->stop > y->stop) - (x->stop < y->stop);
}

static int cmp_spair(const void *a, const void *b) {
  const spair *x = a, *y = b;
  if (x->stop != y->stop) return x->stop < y->stop ? -1 : 1;
  return (x->k > y->k) - (x->k < y->k);
}

/* Count one item (station, pair or stop) in districts ks[0..nk) and once in `_all`. */
static void tally(tc *t, const size_t *ks, size_t nk, int covered) {
  for (size_t i = 0; i < nk; i++) {
    t->den[ks[i]] += 1;
    t->num[ks[i]] += covered ? 1 : 0;
  }
  t->den[t->d->n] += 1;
  t->num[t->d->n] += covered ? 1 : 0;
}

/* A failing item's gap in each of its districts and once in `_all`. */
static pm_status add_gap(tc *t, pm_result *r, const char *id, const char *name, const char *dist_name,
                         double dist, double straight, const char *nearest_id, const char *note,
                         double x, double y) {
  pm_status st = pm_result_add_gap(t->ctx, r, id, name, dist_name, dist, NAN, nearest_id, note, x, y);
  if (!st) r->gaps[r->n_gaps - 1].straight_m = straight;
  return st;
}

/* A failing item's gap in each of its districts and once in `_all`. straight: with distance
 * network, the straight-line distance to the same stop (NAN otherwise). */
static pm_status add_gaps(tc *t, const size_t *ks, size_t nk, const char *id, const char *name,
                          double dist, double straight, const char *nearest_id, const char *note,
                          double x, double y) {
  pm_status st;
  for (size_t i = 0; i < nk; i++)
    if ((st = add_gap(t, &t->out->results[ks[i]], id, name, pm_districts_name(t->d, ks[i]), dist,
                      straight, nearest_id, note, x, y)))
      return st;
  return add_gap(t, &t->out->results[t->d->n], id, name, nk ? pm_districts_name(t->d, ks[0]) : NULL,
                 dist, straight, nearest_id, note, x, y);
}

/* With distance network: the straight-line distance from station s's nearest access point to
 * stop j, which gaps give beside the walked one (NAN with straight-line distances). */
static double straight_to(tc *t, size_t s, size_t j) {
  if (!t->net || j == NONE) return NAN;
  double best = INFINITY;
  for (size_t k = 0; k < n_access(t, s); k++) {
    double dd;
    if (GEOSDistance_r(t->h, access_geom(t, s, k), t->sp->geom[j], &dd) && dd < best) best = dd;
  }
  return isfinite(best) ? best : NAN;
}

/* The note of an unroutable station's gap (NULL when it is routable or straight lines are used). */
static pm_status unroutable_note(tc *t, size_t s, char **note) {
  *note = NULL;
  if (!t->net || station_routable(t, s)) return PM_OK;
  char why[160];
  pm_network_unroutable_note(&t->ap_snap[t->ap_base[s]], t->spec->network.max_snap_m, why,
                             sizeof why);
  return pm_asprintf(t->ctx, note, "%s; counted as not served", why);
}

/* The shortest segment from access point a to stop j (distance: network, the walked path from the
 * current station's search). Caller destroys *out. */
static pm_status segment(tc *t, const GEOSGeometry *a, size_t j, GEOSGeometry **out) {
  *out = NULL;
  if (t->net) {
    if (!t->searched) return PM_OK;
    pm_status st = pm_network_search_path(t->ctx, t->srch, &t->stop_snap[j], 1, out, NULL, NULL);
    return st;
  }
  GEOSCoordSequence *seq = GEOSNearestPoints_r(t->h, a, t->sp->geom[j]);
  if (!seq) return geos_fail(t, "build a transfer segment");
  *out = GEOSGeom_createLineString_r(t->h, seq);
  if (!*out) return geos_fail(t, "build a transfer segment");
  return PM_OK;
}

static pm_status add_segment_detail(tc *t, const char *role, const char *district, const char *id,
                                    const char *name, int covered, double dist,
                                    const char *nearest_id, const GEOSGeometry *a, size_t j) {
  GEOSGeometry *line = NULL;
  pm_status st = segment(t, a, j, &line);
  if (!st && line)
    st = pm_indicator_result_add_detail_geom(t->ctx, t->out, role, district, id, name, covered,
                                             dist, nearest_id, line);
  if (line) GEOSGeom_destroy_r(t->h, line);
  return st;
}

static const char *label_of(const pm_features *fs, size_t i) {
  return fs->label ? fs->label[i] : NULL;
}

/* What a planner reads for feature i: its label, else its id. Caller frees *out. */
static pm_status display_name(tc *t, const pm_features *fs, size_t i, char **out) {
  const char *l = label_of(fs, i);
  if (l && l[0]) return pm_strdup(t->ctx, out, l);
  return pm_features_id(t->ctx, fs, i, out);
}

/* basis route: the (s, r) pairs of station s from its catchment candidates. */
static pm_status station_routes(tc *t, size_t s) {
  pm_status st = PM_OK;
  const size_t *ks = t->sd_idx + t->sd_off[s];
  size_t nk = t->sd_off[s + 1] - t->sd_off[s];
  const char *dname = nk ? pm_districts_name(t->d, ks[0]) : NULL;
  char *sname = NULL;
  if ((st = display_name(t, t->st, s, &sname))) return st;
  t->n_rp = 0;
  for (size_t c = 0; c < t->n_cand; c++) {
    const cand *x = &t->cand[c];
    for (size_t q = t->rt.off[x->stop]; q < t->rt.off[x->stop + 1]; q++) {
      if ((st = pm__grow(t->ctx, (void **)&t->rp, &t->cap_rp, t->n_rp + 1, sizeof *t->rp))) {
        free(sname);
        return st;
      }
      t->rp[t->n_rp++] = (rpair){t->rt.rid[q], x->dist, x->stop, x->ap};
    }
  }
  if (t->n_rp) qsort(t->rp, t->n_rp, sizeof *t->rp, cmp_rpair);
  for (size_t q = 0; q < t->n_rp && !st; q++) {
    if (q && t->rp[q].rid == t->rp[q - 1].rid)
      continue; /* first of each route is its nearest stop */
    const rpair *p = &t->rp[q];
    const char *route = t->rt.name[p->rid];
    int cov = p->dist <= t->thr;
    char *pid = NULL, *stop_id = NULL, *note = NULL;
    tally(t, ks, nk, cov);
    if (!(st = pm_asprintf(t->ctx, &pid, "%s|%s", sname, route)) &&
        !(st = display_name(t, t->sp, p->stop, &stop_id))) {
      char *why = NULL;
      if (!cov && !(st = unroutable_note(t, s, &why)))
        st = pm_asprintf(t->ctx, &note, "route %s%s%s", route, why ? "; " : "", why ? why : "");
      free(why);
      if (!st && !cov)
        st = add_gaps(t, ks, nk, pid, label_of(t->st, s), p->dist, straight_to(t, s, p->stop),
                      stop_id, note, t->st_x[s], t->st_y[s]);
      if (!st)
        st = add_segment_detail(t, "pair", dname, pid, route, cov, p->dist, stop_id,
                                access_geom(t, s, p->ap), p->stop);
    }
    free(pid);
    free(stop_id);
    free(note);
  }
  free(sname);
  return st;
}

/* basis stop: remember which districts each candidate stop belongs to, and its best distance. */
static pm_status station_stops(tc *t, size_t s) {
  pm_status st;
  const size_t *ks = t->sd_idx + t->sd_off[s];
  size_t nk = t->sd_off[s + 1] - t->sd_off[s];
  for (size_t c = 0; c < t->n_cand; c++) {
    const cand *x = &t->cand[c];
    if (x->dist < t->stop_best[x->stop] ||
        (x->dist == t->stop_best[x->stop] && s < t->stop_best_s[x->stop])) {
      t->stop_best[x->stop] = x->dist;
      t->stop_best_s[x->stop] = s;
    }
    if ((st = pm__grow(t->ctx, (void **)&t->spr, &t->cap_spr, t->n_spr + nk + 1, sizeof *t->spr)))
      return st;
    for (size_t i = 0; i < nk; i++) t->spr[t->n_spr++] = (spair){x->stop, ks[i]};
    t->spr[t->n_spr++] = (spair){x->stop, t->d->n};
  }
  return PM_OK;
}

static pm_status finish_stops(tc *t) {
  pm_status st = PM_OK;
  size_t nd = t->d->n;
  if (t->n_spr) qsort(t->spr, t->n_spr, sizeof *t->spr, cmp_spair);
  size_t *ks = malloc((nd + 1) * sizeof *ks);
  if (!ks) return pm_error(t->ctx, PM_ENOMEM, "out of memory");
  size_t q = 0;
  while (q < t->n_spr && !st) {
    size_t j = t->spr[q].stop, nk = 0;
    for (; q < t->n_spr && t->spr[q].stop == j; q++)
      if (t->spr[q].k < nd && (nk == 0 || ks[nk - 1] != t->spr[q].k)) ks[nk++] = t->spr[q].k;
    int cov = t->stop_best[j] <= t->thr;
    tally(t, ks, nk, cov);
    char *id = NULL, *sid = NULL;
    double x, y;
    if (!(st = pm_features_id(t->ctx, t->sp, j, &id)) &&
        !(st = display_name(t, t->st, t->stop_best_s[j], &sid)) &&
        !(st = rep_xy(t, t->sp->geom[j], &x, &y))) {
      if (!cov)
        st = add_gaps(t, ks, nk, id, label_of(t->sp, j), t->stop_best[j],
                      straight_to(t, t->stop_best_s[j], j), sid, NULL, x, y);
      if (!st)
        st = pm_indicator_result_add_detail_geom(
            t->ctx, t->out, "stop", nk ? pm_districts_name(t->d, ks[0]) : NULL, id,
            label_of(t->sp, j), cov, t->stop_best[j], sid, t->sp->geom[j]);
    }
    free(id);
    free(sid);
  }
  free(ks);
  return st;
}

static pm_status do_station(tc *t, size_t s) {
  pm_status st;
  nearest best;
  if ((st = scan_station(t, s, &best))) return st;
  const size_t *ks = t->sd_idx + t->sd_off[s];
  size_t nk = t->sd_off[s + 1] - t->sd_off[s];
  const char *dname = nk ? pm_districts_name(t->d, ks[0]) : NULL;
  int cov = best.stop != NONE && best.dist <= t->thr;
  char *sid = NULL, *stop_id = NULL;
  if ((st = pm_features_id(t->ctx, t->st, s, &sid))) return st;
  if (best.stop != NONE && (st = display_name(t, t->sp, best.stop, &stop_id))) goto done;
  if ((st = pm_indicator_result_add_detail_geom(t->ctx, t->out, "station", dname, sid,
                                                label_of(t->st, s), cov, best.dist, stop_id,
                                                t->st->geom[s])))
    goto done;
  if (best.stop != NONE && best.dist <= t->catch_m &&
      (st = add_segment_detail(t, "segment", dname, sid, label_of(t->st, s), cov, best.dist,
                               stop_id, access_geom(t, s, best.ap), best.stop)))
    goto done;
  switch (t->basis) {
    case BASIS_STATION: {
      tally(t, ks, nk, cov);
      char *note = NULL;
      if (!cov && !(st = unroutable_note(t, s, &note)))
        st = add_gaps(t, ks, nk, sid, label_of(t->st, s), best.dist, straight_to(t, s, best.stop),
                      stop_id, note, t->st_x[s], t->st_y[s]);
      free(note);
      break;
    }
    case BASIS_ROUTE:
      st = station_routes(t, s);
      break;
    default:
      st = station_stops(t, s);
      break;
  }
done:
  free(sid);
  free(stop_id);
  return st;
}

static pm_status set_values(tc *t) {
  pm_status st = PM_OK;
  size_t n = t->d->n;
  for (size_t k = 0; k <= n && !st; k++) {
    const char *where = k < n ? pm_districts_name(t->d, k) : "the plan area";
    char *why = NULL;
    if (t->basis == BASIS_STATION)
      st = pm_asprintf(t->ctx, &why, "no rail stations in %s", where);
    else if (t->basis == BASIS_ROUTE)
      st = pm_asprintf(t->ctx, &why, "no bus route has a stop within %g m of a rail station in %s",
                       t->catch_m, where);
    else
      st = pm_asprintf(t->ctx, &why, "no bus stops within %g m of a rail station in %s", t->catch_m,
                       where);
    if (!st) st = pm_result_set_share(t->ctx, &t->out->results[k], t->num[k], t->den[k], why);
    free(why);
  }
  return st;
}

/* distance: network: snap every stop and access point, make the search states, and search once
 * from every stop (no cutoff) so that any point's nearest stop along the network is known. */
static pm_status network_setup(tc *t) {
  size_t ns = t->sp->n, nst = t->st->n;
  t->stop_snap = malloc((ns ? ns : 1) * sizeof *t->stop_snap);
  t->ap_base = malloc((nst + 1) * sizeof *t->ap_base);
  double *xy = malloc(2 * (ns > 0 ? ns : 1) * sizeof *xy);
  if (!t->stop_snap || !t->ap_base || !xy) {
    free(xy);
    return pm_error(t->ctx, PM_ENOMEM, "out of memory");
  }
  pm_status st = PM_OK;
  for (size_t j = 0; !st && j < ns; j++) st = rep_xy(t, t->sp->geom[j], &xy[2 * j], &xy[2 * j + 1]);
  if (!st) st = pm_network_snap_points(t->ctx, t->net, xy, ns, t->stop_snap);
  free(xy);
  if (st) return st;
  t->ap_base[0] = 0;
  for (size_t s = 0; s < nst; s++) t->ap_base[s + 1] = t->ap_base[s] + n_access(t, s);
  size_t na = t->ap_base[nst];
  t->ap_snap = malloc((na ? na : 1) * sizeof *t->ap_snap);
  xy = malloc(2 * (na ? na : 1) * sizeof *xy);
  if (!t->ap_snap || !xy) {
    free(xy);
    return pm_error(t->ctx, PM_ENOMEM, "out of memory");
  }
  for (size_t s = 0; !st && s < nst; s++)
    for (size_t k = 0; !st && k < n_access(t, s); k++)
      st = rep_xy(t, access_geom(t, s, k), &xy[2 * (t->ap_base[s] + k)],
                  &xy[2 * (t->ap_base[s] + k) + 1]);
  if (!st) st = pm_network_snap_points(t->ctx, t->net, xy, na, t->ap_snap);
  free(xy);
  if (!st) st = pm_network_search_create(t->ctx, t->net, &t->srch);
  if (!st) st = pm_network_search_create(t->ctx, t->net, &t->near_all);
  if (!st) st = pm_network_search_run(t->ctx, t->near_all, t->stop_snap, NULL, ns, INFINITY);
  for (size_t j = 0; j < ns; j++) t->n_unroutable_sp += t->stop_snap[j].status != PM_SNAP_OK;
  return st;
}

pm_status pm_transfer_coverage(pm_context *ctx, const pm_indicator_spec *spec,
                               const pm_features *stations, const pm_features *stops,
                               const pm_features *entrances, const pm_network *net,
                               const pm_districts *d, pm_indicator_result *out) {
  if (!ctx) return PM_EINTERNAL;
  if (!spec || !stations || !stops || !d || !out)
    return pm_error(ctx, PM_EINTERNAL, "pm_transfer_coverage: a required argument is NULL");
  tc t = {0};
  pm_status st = PM_OK;
  t.ctx = ctx;
  t.h = pm_context_geos(ctx);
  t.spec = spec;
  t.ind = spec->id ? spec->id : "transfer_coverage";
  t.st = stations;
  t.sp = stops;
  t.en = entrances && entrances->n ? entrances : NULL;
  t.net = net;
  t.d = d;
  t.out = out;
  t.thr = spec->threshold_m;
  t.catch_m = spec->catchment_m;
  if (!(t.thr >= 0) || !(t.catch_m >= 0) || isinf(t.thr) || isinf(t.catch_m))
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: threshold_m (%g) and catchment_m (%g) must be finite distances "
                    ">= 0 in metres (a spec built in code gets the defaults from "
                    "pm_indicator_spec_create)",
                    t.ind, t.thr, t.catch_m);
  if (!spec->basis)
    return pm_error(ctx, PM_EINPUT, "indicator %s: no basis (a spec built in code gets the "
                    "defaults from pm_indicator_spec_create)", t.ind);
  if (strcmp(spec->basis, "station") == 0)
    t.basis = BASIS_STATION;
  else if (strcmp(spec->basis, "route") == 0)
    t.basis = BASIS_ROUTE;
  else if (strcmp(spec->basis, "stop") == 0)
    t.basis = BASIS_STOP;
  else
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: basis '%s' is unknown: use station, route or stop", t.ind,
                    spec->basis);
  int route_fi = -1;
  if (t.basis == BASIS_ROUTE) {
    if (!spec->routes_field || !spec->routes_field[0])
      return pm_error(ctx, PM_EINPUT,
                      "indicator %s: basis route needs routes_field, the bus-stop field that lists "
                      "the routes (e.g. routes_field: address)",
                      t.ind);
    route_fi = pm_features_attr_index(stops, spec->routes_field);
    if (route_fi < 0)
      return pm_error(ctx, PM_EINPUT,
                      "indicator %s: bus-stop layer %s has no field %s (routes_field): name the "
                      "field that lists the routes",
                      t.ind, stops->layer ? stops->layer : "?", spec->routes_field);
  }

  size_t nd = d->n;
  if ((st = pm__metric_begin(t.ctx, t.spec, "transfer_coverage", "%", t.d, t.out))) goto done;
  t.num = calloc(nd + 1, sizeof *t.num);
  t.den = calloc(nd + 1, sizeof *t.den);
  t.stop_pos = malloc((stops->n ? stops->n : 1) * sizeof *t.stop_pos);
  if (!t.num || !t.den || !t.stop_pos) {
    st = pm_error(ctx, PM_ENOMEM, "out of memory");
    goto done;
  }
  for (size_t j = 0; j < stops->n; j++) t.stop_pos[j] = NONE;
  if ((st = tree_of(&t, stops, &t.sp_tree, &t.own_sp))) goto done;
  if ((st = assign_districts(&t))) goto done;
  if (t.en && (st = assign_entrances(&t))) goto done;
  if (t.net && (st = network_setup(&t))) goto done;
  if (t.basis == BASIS_ROUTE && (st = parse_routes(&t, route_fi))) goto done;
  if (t.basis == BASIS_STOP) {
    t.stop_best = malloc((stops->n ? stops->n : 1) * sizeof *t.stop_best);
    t.stop_best_s = malloc((stops->n ? stops->n : 1) * sizeof *t.stop_best_s);
    if (!t.stop_best || !t.stop_best_s) {
      st = pm_error(ctx, PM_ENOMEM, "out of memory");
      goto done;
    }
    for (size_t j = 0; j < stops->n; j++) {
      t.stop_best[j] = INFINITY;
      t.stop_best_s[j] = NONE;
    }
  }
  for (size_t s = 0; s < stations->n && !st; s++) {
    if (t.in_all[s]) st = do_station(&t, s);
    if (!st && ((s + 1) % 1024 == 0 || s + 1 == stations->n))
      pm_progress(ctx, "transfer coverage", s + 1, stations->n);
  }
  if (!st && t.basis == BASIS_STOP) st = finish_stops(&t);
  if (!st) st = set_values(&t);
  if (!st && t.net) {
    char unr[160];
    snprintf(unr, sizeof unr, "{\"stations\": %zu, \"stops\": %zu}", t.n_unroutable_st,
             t.n_unroutable_sp);
    st = pm__metric_network_info(ctx, spec, t.net, unr, out);
    if (!st && (t.n_unroutable_st || t.n_unroutable_sp))
      pm_notice(ctx,
                "indicator %s: %zu stations and %zu bus stops are farther than %g m from the "
                "walking network (unroutable): such a station counts as not served",
                t.ind, t.n_unroutable_st, t.n_unroutable_sp, spec->network.max_snap_m);
  }
  if (!st) st = pm__metric_finish(ctx, out);
done:
  free(t.stop_snap);
  free(t.ap_snap);
  free(t.ap_base);
  pm_network_search_destroy(t.srch);
  pm_network_search_destroy(t.near_all);
  free(t.sd_off);
  free(t.sd_idx);
  free(t.in_all);
  free(t.st_x);
  free(t.st_y);
  free(t.ap_off);
  free(t.ap_idx);
  free(t.hb.v);
  free(t.cand);
  free(t.stop_pos);
  free(t.num);
  free(t.den);
  routes_free(&t.rt);
  free(t.rp);
  free(t.spr);
  free(t.stop_best);
  free(t.stop_best_s);
  if (t.own_sp) GEOSSTRtree_destroy_r(t.h, t.own_sp);
  if (t.own_st) GEOSSTRtree_destroy_r(t.h, t.own_st);
  return st;
}

/* ---------- registry row ---------- */

#define OFF(f) offsetof(pm_indicator_spec, f)
static const pm_param PARAMS[] = {
    {"from", PM_PARAM_REF, OFF(from), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the rail stations layer"},
    {"from_where", PM_PARAM_WHERE, OFF(from), 0, NULL, NULL, NULL, NULL, "filter of the stations"},
    {"to", PM_PARAM_REF, OFF(to), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL, "the bus stops layer"},
    {"to_where", PM_PARAM_WHERE, OFF(to), 0, NULL, NULL, NULL, NULL, "filter of the stops"},
    {"entrances", PM_PARAM_REF, OFF(entrances), 0, NULL, NULL, NULL, NULL,
     "station entrance points (a station's access points; none: the station point)"},
    {"threshold_m", PM_PARAM_DIST, OFF(threshold_m), 0, "50", NULL, NULL, NULL,
     "the transfer distance that passes (inclusive)"},
    {"catchment_m", PM_PARAM_DIST, OFF(catchment_m), 0, "300", NULL, NULL, NULL,
     "how far a station's entrances and (basis route, stop) its stops may be"},
    {"basis", PM_PARAM_CHOICE, OFF(basis), 0, "station", "station|route|stop", NULL, NULL,
     "what is counted: stations, (station, route) pairs or stops"},
    {"routes_field", PM_PARAM_TEXT, OFF(routes_field), 0, NULL, NULL, "to", NULL,
     "the bus-stop field listing its routes (basis route)"},
    {"routes_sep", PM_PARAM_TEXT, OFF(routes_sep), 0, ";", NULL, NULL, NULL,
     "the separator of routes in routes_field"},
    {"entrance_station_field", PM_PARAM_TEXT, OFF(entrance_station_field), 0, NULL, NULL,
     "entrances", "entrances", "the entrance field naming its station"},
    {"distance", PM_PARAM_CHOICE, OFF(distance), 0, "euclidean", "euclidean|network", NULL, NULL,
     "a straight line, or along the walking network (network: block)"},
    {"network", PM_PARAM_NETWORK, OFF(network), 0, NULL, NULL, NULL, NULL,
     "the walking network of distance: network (default: the plan's network: block)"},
};
#undef OFF

static const pm_detail_role ROLES[] = {
    {"station", PM_ROLE_VERDICT, "nearest_stop", 1},
    {"segment", PM_ROLE_VERDICT, "nearest_stop", 1},
    {"pair", PM_ROLE_PAIR, "nearest_stop", 1},
    {"stop", PM_ROLE_STOP, "nearest_station", 1},
};

static const char *const UNITS[] = {"%", NULL};

static const char *check(const pm_indicator_spec *s, char *msg, size_t size) {
  if (s->basis && strcmp(s->basis, "route") == 0 && !s->routes_field) {
    snprintf(msg, size,
             "indicator %s: basis route needs 'routes_field' (the bus-stop attribute listing the "
             "routes, e.g. routes_field: routes)",
             s->id);
    return "basis";
  }
  return NULL;
}

static pm_status compute(pm_context *ctx, const pm_indicator_spec *spec, const pm_metric_input *in,
                         const pm_districts *d, pm_indicator_result *out) {
  /* in[12]: the network parameter (set with distance: network) */
  return pm_transfer_coverage(ctx, spec, in[0].v[0], in[2].v[0], in[4].n ? in[4].v[0] : NULL,
                              in[12].net, d, out);
}

const pm_metric_kind pm__kind_transfer_coverage = {
    .name = "transfer_coverage",
    .summary = "share of rail stations (pairs, stops) with a bus stop within threshold_m",
    .params = PARAMS,
    .n_params = PM_ARRAY_LEN(PARAMS),
    .units = UNITS,
    .roles = ROLES,
    .n_roles = PM_ARRAY_LEN(ROLES),
    .compute = compute,
    .check = check,
};
