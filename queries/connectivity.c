/* connectivity.c: METRICS.md §5 connectivity — slow-traffic continuity: the share of a network's
 * dissolved length that lies in its largest connected piece, per district. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/measure.h"
#include "planmetrics/network.h"
#include "queries/metric_internal.h"

/* Choices where METRICS.md is silent (also in the project docs):
 * - Pieces are the connected components of the lines clipped to the district (for `_all`, to the
 *   plan area), joined as `connect` says (vertices: only at shared vertices, so a bridge does not
 *   join the path below; crossings: at every intersection), line ends closer than 0.5 m joined.
 * - Lengths are of the dissolved lines: a piece's length is the length of the union of its edges;
 *   the total, of the union of all clipped lines.
 * - Gaps: every piece other than the largest, longest first: shortfall = its length in km,
 *   distance_m = the straight-line gap to the largest piece (the shortest missing link).
 * - Details: "largest" (the largest piece, covered), "piece" (every other piece, not covered),
 *   "link" (the shortest segment from each other piece to the largest: the link to build). */

typedef struct piece {
  GEOSGeometry *g; /* dissolved */
  double length_m;
} piece;

static pm_status geos_fail(pm_context *ctx, const char *ind, const char *what) {
  return pm_error(ctx, PM_EGEOM, "indicator %s: %s failed (%s)", ind, what,
                  pm__context_geos_message(ctx));
}

static int cmp_piece(const void *a, const void *b) {
  const piece *x = a, *y = b;
  return (x->length_m < y->length_m) - (x->length_m > y->length_m); /* longest first */
}

/* The pieces of the lines of slot j, longest first, and the dissolved total length. */
static pm_status pieces_of(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *lines,
                           const pm_districts *d, size_t j, piece **out, size_t *n,
                           double *total_m) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  const char *ind = spec->id ? spec->id : "connectivity";
  *out = NULL;
  *n = 0;
  *total_m = 0;
  pm_features clipped = {.layer = lines->layer, .kind = PM_KIND_LINE};
  GEOSGeometry **gs = malloc((lines->n ? lines->n : 1) * sizeof *gs);
  int64_t *fid = malloc((lines->n ? lines->n : 1) * sizeof *fid);
  if (!gs || !fid) {
    free(gs);
    free(fid);
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  pm_status st = PM_OK;
  size_t m = 0;
  for (size_t i = 0; !st && i < lines->n; i++) {
    GEOSGeometry *c = NULL;
    if ((st = pm_districts_clip(ctx, d, j, lines->geom[i], &c))) break;
    double len = 0;
    if (c && GEOSisEmpty_r(h, c) == 0 && pm_measure_dim(h, c, 1) > 0 && GEOSLength_r(h, c, &len) &&
        len > 0) {
      gs[m] = c;
      fid[m++] = lines->fid[i];
    } else if (c) {
      GEOSGeom_destroy_r(h, c);
    }
  }
  clipped.n = m;
  clipped.geom = gs;
  clipped.fid = fid;
  pm_network *net = NULL;
  if (!st && m > 0) {
    pm_network_options opt;
    pm_network_options_init(&opt);
    opt.min_piece_m = 0; /* every piece counts */
    opt.max_snap_m = INFINITY;
    if ((st = pm_network_connect_parse(ctx, spec->connect ? spec->connect : "vertices",
                                       &opt.connect)))
      goto done;
    if ((st = pm_network_build(ctx, &clipped, &opt, &net))) goto done;
    const pm_network_info *info = pm_network_get_info(net);
    piece *p = calloc(info->n_components ? info->n_components : 1, sizeof *p);
    if (!p) {
      st = pm_error(ctx, PM_ENOMEM, "out of memory");
      goto done;
    }
    size_t np = 0;
    for (uint32_t c = 0; !st && c < info->n_components; c++) {
      GEOSGeometry *edges = NULL;
      if ((st = pm_network_component_geometry(ctx, net, c, &edges))) break;
      GEOSGeometry *u = GEOSUnaryUnion_r(h, edges); /* dissolve duplicated lines */
      GEOSGeom_destroy_r(h, edges);
      if (!u) {
        st = geos_fail(ctx, ind, "dissolving a piece");
        break;
      }
      p[np].g = u;
      GEOSLength_r(h, u, &p[np].length_m);
      np++;
    }
    if (!st) {
      GEOSGeometry *all = NULL;
      pm_geom_list l = {0};
      for (size_t i = 0; !st && i < m; i++) {
        GEOSGeometry *c = GEOSGeom_clone_r(h, gs[i]);
        st = c ? pm_geom_list_push(ctx, &l, c) : geos_fail(ctx, ind, "copying a line");
      }
      if (!st && !(all = pm_geom_list_union(ctx, &l, GEOS_MULTILINESTRING)))
        st = geos_fail(ctx, ind, "dissolving the lines");
      pm_geom_list_clear(ctx, &l);
      if (all) {
        GEOSLength_r(h, all, total_m);
        GEOSGeom_destroy_r(h, all);
      }
    }
    if (st) {
      for (size_t k = 0; k < np; k++) GEOSGeom_destroy_r(h, p[k].g);
      free(p);
      goto done;
    }
    qsort(p, np, sizeof *p, cmp_piece);
    *out = p;
    *n = np;
  }
done:
  pm_network_destroy(ctx, net);
  for (size_t i = 0; i < m; i++) GEOSGeom_destroy_r(h, gs[i]);
  free(gs);
  free(fid);
  return st;
}

pm_status pm_connectivity(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *lines,
                          const pm_districts *d, pm_indicator_result *out) {
  if (!ctx) return PM_EINTERNAL;
  if (!spec || !lines || !d || !out)
    return pm_error(ctx, PM_EINTERNAL, "pm_connectivity: a required argument is NULL");
  GEOSContextHandle_t h = pm_context_geos(ctx);
  const char *ind = spec->id ? spec->id : "connectivity";
  if (lines->n && lines->kind != PM_KIND_LINE)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: layer %s holds %ss; connectivity measures a line network "
                    "(cycleways, greenways, footways)",
                    ind, lines->layer ? lines->layer : "?", pm_geom_kind_name(lines->kind));
  pm_status st = pm__metric_begin(ctx, spec, "connectivity", "%", d, out);
  for (size_t j = 0; !st && j <= d->n; j++) {
    piece *p = NULL;
    size_t np = 0;
    double total = 0;
    if ((st = pieces_of(ctx, spec, lines, d, j, &p, &np, &total))) break;
    pm_result *r = &out->results[j];
    char *why = NULL;
    const char *where = j < d->n ? pm_districts_name(d, j) : "the plan area";
    if (!(st = pm_asprintf(ctx, &why, "no %s lines in %s", lines->layer ? lines->layer : "network",
                           where)))
      st = pm_result_set_share(ctx, r, np ? p[0].length_m : 0, total, why);
    free(why);
    int details = pm_slot_has_details(d, j);
    for (size_t k = 0; !st && k < np; k++) {
      char id[64];
      snprintf(id, sizeof id, "%s piece %zu", pm_districts_name(d, j), k + 1);
      if (k == 0) {
        if (details)
          st = pm_indicator_result_add_detail_geom(ctx, out, "largest", r->district, id, NULL, 1,
                                                   NAN, NULL, p[0].g);
        continue;
      }
      double gap = NAN, x = NAN, y = NAN;
      GEOSCoordSequence *seq = GEOSNearestPoints_r(h, p[k].g, p[0].g);
      GEOSGeometry *link = seq ? GEOSGeom_createLineString_r(h, seq) : NULL;
      if (!link) {
        st = geos_fail(ctx, ind, "the link between two pieces");
        break;
      }
      GEOSLength_r(h, link, &gap);
      GEOSGeometry *start = GEOSGeomGetStartPoint_r(h, link);
      if (start) {
        GEOSGeomGetX_r(h, start, &x);
        GEOSGeomGetY_r(h, start, &y);
        GEOSGeom_destroy_r(h, start);
      }
      char note[160];
      snprintf(note, sizeof note, "%.0f m long, %.0f m from the largest piece", p[k].length_m, gap);
      st = pm_result_add_gap(ctx, r, id, NULL, r->district, gap, p[k].length_m / 1000, "largest piece",
                             note, x, y);
      if (!st && details)
        st = pm_indicator_result_add_detail_geom(ctx, out, "piece", r->district, id, NULL, 0,
                                                 gap, NULL, p[k].g);
      if (!st && details)
        st = pm_indicator_result_add_detail_geom(ctx, out, "link", r->district, id, NULL, 0, gap,
                                                 NULL, link);
      GEOSGeom_destroy_r(h, link);
    }
    for (size_t k = 0; k < np; k++) GEOSGeom_destroy_r(h, p[k].g);
    free(p);
  }
  if (!st) st = pm__metric_finish(ctx, out);
  return st;
}

/* ---------- registry row ---------- */

#define OFF(f) offsetof(pm_indicator_spec, f)
static const pm_param PARAMS[] = {
    {"layer", PM_PARAM_REF, OFF(layer), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the slow-traffic lines (cycleways, greenways, footways)"},
    {"where", PM_PARAM_WHERE, OFF(layer), 0, NULL, NULL, NULL, NULL, "filter of the layer"},
    {"connect", PM_PARAM_CHOICE, OFF(connect), 0, "vertices", "vertices|crossings", NULL, NULL,
     "lines join at shared vertices (a bridge does not join the path below), or at every crossing"},
};
#undef OFF

static const pm_detail_role ROLES[] = {
    {"largest", PM_ROLE_PASS, "nearest", 0},
    {"piece", PM_ROLE_FAIL, "nearest", 0},
    {"link", PM_ROLE_PAIR, "nearest", 0},
};
static const char *const UNITS[] = {"%", NULL};

static pm_status compute(pm_context *ctx, const pm_indicator_spec *spec, const pm_metric_input *in,
                         const pm_districts *d, pm_indicator_result *out) {
  return pm_connectivity(ctx, spec, in[0].v[0], d, out);
}

const pm_metric_kind pm__kind_connectivity = {
    .name = "connectivity",
    .summary = "share of a slow-traffic network's dissolved length in its largest connected piece",
    .params = PARAMS,
    .n_params = PM_ARRAY_LEN(PARAMS),
    .units = UNITS,
    .shortfall = "piece length (km)",
    .roles = ROLES,
    .n_roles = PM_ARRAY_LEN(ROLES),
    .compute = compute,
};
