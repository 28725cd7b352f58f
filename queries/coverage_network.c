/* coverage_network.c: coverage with distance: network (METRICS.md §5): each source's service area
 * is the walking network it reaches within its radius, widened by access_width_m; points are
 * covered by their own walked distance. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "queries/coverage_internal.h"
#include "queries/metric_internal.h"

/* Boundary points of polygon sources without entrances are this far apart along the ring (§5). */
#define BOUNDARY_STEP_M 20.0
/* Quadrant segments of the widening of the reached network (round ends of each part). */
#define NET_QUADSEGS 8
/* The reached network is drawn in bands of this much walked distance. */
#define REACHED_BAND_M 50.0

typedef struct cov_net {
  double *radii;               /* distinct radii of the sources, one search each */
  size_t nradii;
  pm_network_search **reach;   /* per radius: its sources up to it (source id = item index) */
  pm_network_search *all;      /* every source, no cutoff: the nearest source of any point */
  size_t n_access, n_unroutable_access, n_unroutable_pop;
} cov_net;

static pm_status fail(cov *c, const char *what) {
  return pm_error(c->ctx, PM_EGEOM, "indicator %s: %s failed (%s)", c->ind, what,
                  pm__context_geos_message(c->ctx));
}

/* Access points of one source, appended to a growing list. */
typedef struct access {
  double *xy;      /* x, y pairs */
  uint32_t *item;  /* the source each belongs to */
  size_t n, cap_xy, cap_item;
} access;

static pm_status add_point(cov *c, access *a, double x, double y, size_t item) {
  if (pm__grow(c->ctx, (void **)&a->xy, &a->cap_xy, 2 * (a->n + 1), sizeof *a->xy) ||
      pm__grow(c->ctx, (void **)&a->item, &a->cap_item, a->n + 1, sizeof *a->item))
    return PM_ENOMEM;
  a->xy[2 * a->n] = x;
  a->xy[2 * a->n + 1] = y;
  a->item[a->n++] = (uint32_t)item;
  return PM_OK;
}

/* The source's entry points (§5: boundary points every BOUNDARY_STEP_M and every vertex). */
static pm_status boundary_points(cov *c, access *a, const GEOSGeometry *g, size_t item) {
  pm_entry_points e = {0};
  pm_status st = pm__entry_points(c->ctx, g, BOUNDARY_STEP_M, &e);
  for (size_t i = 0; !st && i < e.n; i++) st = add_point(c, a, e.xy[2 * i], e.xy[2 * i + 1], item);
  free(e.xy);
  return st;
}

/* Each entrance goes to the polygon source it lies within max_snap_m of, the nearest (the first
 * source on a tie). *owner[e] is the item, or SIZE_MAX. */
static pm_status assign_entrances(cov *c, size_t **owner_out) {
  const pm_features *en = c->entrances;
  double reach = c->spec->network.max_snap_m;
  size_t *owner = malloc((en->n ? en->n : 1) * sizeof *owner);
  if (!owner) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  for (size_t e = 0; e < en->n; e++) {
    owner[e] = SIZE_MAX;
    double best = INFINITY;
    double x0, y0, x1, y1;
    if (!GEOSGeom_getExtent_r(c->h, en->geom[e], &x0, &y0, &x1, &y1)) continue;
    /* sources are few compared with what they serve: a scan of their envelopes is enough */
    for (size_t k = 0; k < c->nitems; k++) {
      const cov_item *it = &c->items[k];
      if (it->x0 > x1 + reach || it->x1 < x0 - reach || it->y0 > y1 + reach ||
          it->y1 < y0 - reach)
        continue;
      double d;
      if (!GEOSDistance_r(c->h, it->g, en->geom[e], &d)) {
        free(owner);
        return fail(c, "measuring a distance");
      }
      if (d <= reach && d < best) {
        best = d;
        owner[e] = k;
      }
    }
  }
  *owner_out = owner;
  return PM_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The parts of one radius's search grouped by source, each group widened into bufs[source]. */
static pm_status widen_parts(cov *c, const pm_network_part *parts, size_t n, GEOSGeometry **bufs) {
  double width = c->spec->network.access_width_m;
  pm_status st = PM_OK;
  size_t i = 0;
  /* parts are sorted by edge; gather each source's parts (a source's parts are few) */
  size_t *order = malloc((n ? n : 1) * sizeof *order);
  if (!order) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  size_t *count = calloc(c->nitems + 1, sizeof *count);
  if (!count) {
    free(order);
    return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  }
  for (i = 0; i < n; i++) count[parts[i].source + 1]++;
  for (size_t k = 0; k < c->nitems; k++) count[k + 1] += count[k];
  for (i = 0; i < n; i++) order[count[parts[i].source]++] = i;
  /* count[k] now ends group k; rebuild starts */
  pm_network_part *group = malloc((n ? n : 1) * sizeof *group);
  if (!group) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
  size_t start = 0;
  for (size_t k = 0; !st && k < c->nitems; k++) {
    size_t end = count[k];
    if (end == start) continue;
    for (size_t q = start; q < end; q++) group[q - start] = parts[order[q]];
    GEOSGeometry *b = NULL;
    if ((st = pm_network_parts_area(c->ctx, c->net, group, end - start, width, NET_QUADSEGS, &b)))
      break;
    if (bufs[k]) { /* reached in an earlier pass too (never: one radius per source) */
      GEOSGeometry *u = GEOSUnion_r(c->h, bufs[k], b);
      GEOSGeom_destroy_r(c->h, b);
      GEOSGeom_destroy_r(c->h, bufs[k]);
      bufs[k] = u;
      if (!u) st = fail(c, "joining service areas");
    } else {
      bufs[k] = b;
    }
    start = end;
  }
  free(group);
  free(count);
  free(order);
  return st;
}

pm_status pm__cov_network_bufs(cov *c, GEOSGeometry **bufs) {
  cov_net *nw = calloc(1, sizeof *nw);
  if (!nw) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  c->nw = nw;
  access a = {0};
  size_t *owner = NULL;
  pm_network_snap *snap = NULL;
  uint32_t *src = NULL;
  pm_status st = PM_OK;
  /* access points: entrances, else boundary points (points: the point itself) */
  unsigned char *has_entrance = calloc(c->nitems ? c->nitems : 1, 1);
  if (!has_entrance) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
  if (!st && c->entrances && (st = assign_entrances(c, &owner)) == PM_OK) {
    for (size_t e = 0; !st && e < c->entrances->n; e++) {
      if (owner[e] == SIZE_MAX) continue;
      double x, y;
      GEOSGeometry *p = GEOSPointOnSurface_r(c->h, c->entrances->geom[e]);
      if (!p || !GEOSGeomGetX_r(c->h, p, &x) || !GEOSGeomGetY_r(c->h, p, &y)) st = fail(c, "an entrance");
      if (p) GEOSGeom_destroy_r(c->h, p);
      if (!st) st = add_point(c, &a, x, y, owner[e]);
      has_entrance[owner[e]] = 1;
    }
  }
  for (size_t k = 0; !st && k < c->nitems; k++)
    if (!has_entrance[k]) st = boundary_points(c, &a, c->items[k].g, k);
  free(has_entrance);
  free(owner);
  nw->n_access = a.n;
  if (!st) {
    snap = malloc((a.n ? a.n : 1) * sizeof *snap);
    src = malloc((a.n ? a.n : 1) * sizeof *src);
    if (!snap || !src) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
  }
  if (!st) st = pm_network_snap_points(c->ctx, c->net, a.xy, a.n, snap);
  for (size_t i = 0; !st && i < a.n; i++) nw->n_unroutable_access += snap[i].status != PM_SNAP_OK;
  /* distinct radii */
  if (!st) {
    nw->radii = malloc((c->nitems ? c->nitems : 1) * sizeof *nw->radii);
    if (!nw->radii) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
    for (size_t k = 0; !st && k < c->nitems; k++) nw->radii[k] = c->items[k].radius;
    if (!st && c->nitems) {
      qsort(nw->radii, c->nitems, sizeof *nw->radii, cmp_double);
      size_t m = 1;
      for (size_t k = 1; k < c->nitems; k++)
        if (nw->radii[k] != nw->radii[m - 1]) nw->radii[m++] = nw->radii[k];
      nw->nradii = m;
    }
    nw->reach = calloc(nw->nradii ? nw->nradii : 1, sizeof *nw->reach);
    if (!st && !nw->reach) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
  }
  /* one multi-source pass per radius: the seeds of the sources with that radius */
  pm_network_snap *seeds = !st ? malloc((a.n ? a.n : 1) * sizeof *seeds) : NULL;
  if (!st && !seeds) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
  for (size_t r = 0; !st && r < nw->nradii; r++) {
    size_t m = 0;
    for (size_t i = 0; i < a.n; i++)
      if (c->items[a.item[i]].radius == nw->radii[r]) {
        seeds[m] = snap[i];
        src[m++] = a.item[i];
      }
    pm_network_part *parts = NULL;
    size_t np = 0;
    if (!(st = pm_network_search_create(c->ctx, c->net, &nw->reach[r])) &&
        !(st = pm_network_search_run(c->ctx, nw->reach[r], seeds, src, m, nw->radii[r])) &&
        !(st = pm_network_search_parts(c->ctx, nw->reach[r], &parts, &np)))
      st = widen_parts(c, parts, np, bufs);
    free(parts);
  }
  free(seeds);
  /* every source, no cutoff: the nearest source along the network of any point (gaps) */
  if (!st && !(st = pm_network_search_create(c->ctx, c->net, &nw->all))) {
    for (size_t i = 0; i < a.n; i++) src[i] = a.item[i];
    st = pm_network_search_run(c->ctx, nw->all, snap, src, a.n, INFINITY);
  }
  /* a source that reaches nothing has an empty service area */
  for (size_t k = 0; !st && k < c->nitems; k++)
    if (!bufs[k] && !(bufs[k] = GEOSGeom_createEmptyPolygon_r(c->h))) st = fail(c, "an empty area");
  /* a reached point is within its radius of an access point (network >= straight line), and an
   * entrance within max_snap_m of its source: so much farther than the radius can a service area
   * reach from its source */
  c->rmax += c->spec->network.access_width_m + (c->entrances ? c->spec->network.max_snap_m : 0);
  if (!st && nw->n_unroutable_access == a.n && a.n > 0)
    pm_notice(c->ctx,
              "indicator %s: every entry point of the sources is farther than max_snap_m (%g m) "
              "from the walking network: nothing is covered",
              c->ind, c->spec->network.max_snap_m);
  free(snap);
  free(src);
  free(a.xy);
  free(a.item);
  return st;
}

static pm_status snap_of(cov *c, const GEOSGeometry *g, pm_network_snap *s) {
  GEOSGeometry *p = GEOSGeomTypeId_r(c->h, g) == GEOS_POINT ? NULL : GEOSPointOnSurface_r(c->h, g);
  const GEOSGeometry *q = p ? p : g;
  double x, y;
  int ok = GEOSGeomGetX_r(c->h, q, &x) && GEOSGeomGetY_r(c->h, q, &y);
  if (p) GEOSGeom_destroy_r(c->h, p);
  if (!ok) return fail(c, "reading a point");
  return pm_network_snap_point(c->ctx, c->net, x, y, s);
}

pm_status pm__cov_network_point(cov *c, const GEOSGeometry *pt, int *covered,
                                pm_network_snap *snap) {
  *covered = 0;
  pm_status st = snap_of(c, pt, snap);
  if (st) return st;
  if (snap->status != PM_SNAP_OK) {
    c->nw->n_unroutable_pop++;
    return PM_OK;
  }
  for (size_t r = 0; r < c->nw->nradii && !*covered; r++)
    *covered = pm_network_search_dist_to(c->nw->reach[r], snap, NULL) <= c->nw->radii[r];
  return PM_OK;
}

pm_status pm__cov_network_nearest(cov *c, const GEOSGeometry *g, const cov_item **nearest,
                                  double *dist, double *straight) {
  *nearest = NULL;
  *dist = INFINITY;
  *straight = NAN;
  pm_network_snap s;
  pm_status st = snap_of(c, g, &s);
  if (st || !c->nw->all) return st;
  uint32_t src = PM_NETWORK_NONE;
  double d = pm_network_search_dist_to(c->nw->all, &s, &src);
  if (src == PM_NETWORK_NONE || src >= c->nitems) return PM_OK;
  *nearest = &c->items[src];
  *dist = d;
  if (!GEOSDistance_r(c->h, c->items[src].g, g, straight)) return fail(c, "measuring a distance");
  return PM_OK;
}

pm_status pm__cov_network_finish(cov *c) {
  cov_net *nw = c->nw;
  char unr[200];
  snprintf(unr, sizeof unr, "{\"source_entries\": %zu, \"population\": %zu}",
           nw ? nw->n_unroutable_access : 0, nw ? nw->n_unroutable_pop : 0);
  pm_status st = pm__metric_network_info(c->ctx, c->spec, c->net, unr, c->out);
  /* The reached network for maps, in bands of REACHED_BAND_M of walked distance (each part cut
   * where it crosses a band): a few graduated layers however large the city. */
  for (size_t r = 0; !st && nw && r < nw->nradii; r++) {
    pm_network_part *parts = NULL;
    size_t np = 0;
    if ((st = pm_network_search_parts(c->ctx, nw->reach[r], &parts, &np))) break;
    size_t nb = (size_t)ceil(nw->radii[r] / REACHED_BAND_M);
    if (nb == 0) nb = 1;
    pm_network_part *band = malloc((np ? np : 1) * sizeof *band);
    if (!band) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
    for (size_t b = 0; !st && b < nb; b++) {
      double lo = b * REACHED_BAND_M, hi = b + 1 == nb ? nw->radii[r] : (b + 1) * REACHED_BAND_M;
      size_t m = 0;
      pm_network_parts_band(parts, np, lo, hi, b == 0, band, &m);
      if (!m) continue;
      GEOSGeometry *lines = NULL;
      char id[96];
      snprintf(id, sizeof id, "reached %.0f-%.0f m (sources of %.0f m)", lo, hi, nw->radii[r]);
      if (!(st = pm_network_parts_geometry(c->ctx, c->net, band, m, &lines)))
        st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "reached", NULL, id, NULL, 1, hi,
                                                 NULL, lines);
      if (lines) GEOSGeom_destroy_r(c->h, lines);
    }
    free(band);
    free(parts);
  }
  if (!st && nw && nw->n_unroutable_pop)
    pm_notice(c->ctx,
              "indicator %s: %zu population feature(s) are farther than max_snap_m (%g m) from the "
              "walking network (unroutable): they count as not covered",
              c->ind, nw->n_unroutable_pop, c->spec->network.max_snap_m);
  return st;
}

void pm__cov_network_free(cov *c) {
  cov_net *nw = c->nw;
  if (!nw) return;
  for (size_t r = 0; nw->reach && r < nw->nradii; r++) pm_network_search_destroy(nw->reach[r]);
  free(nw->reach);
  pm_network_search_destroy(nw->all);
  free(nw->radii);
  free(nw);
  c->nw = NULL;
}
