/* query_network.c: the planner's questions along the walking network (METRICS.md §5): what each
 * feature reaches, the walk between two places, and the network itself. Each answers with a
 * pm_table; geometry travels as WKT in the project CRS (report/ writes it to a GeoPackage). */
#include "planmetrics/query.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"
#include "queries/query_internal.h"

#define ACCESS_STEP_M 20.0 /* §5: a polygon is entered from its boundary every 20 m */
#define BAND_M 50.0        /* the reached network is drawn in bands of this much walked distance */
#define QUADSEGS 8         /* round ends of a widened network, as coverage's service areas */
#define MAX_SNAP_M 5000.0  /* the plan parser's ranges for a network block */
#define MAX_PIECE_M 1e6
#define MAX_WIDTH_M 500.0

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

static pm_status geos_failed(pm_context *ctx, const char *what) {
  return pm_error(ctx, PM_EGEOM, "%s failed (GEOS: %s)", what, pm__context_geos_message(ctx));
}

void pm_network_query_init(pm_network_query *q) {
  memset(q, 0, sizeof *q);
  q->max_snap_m = q->min_piece_m = q->access_width_m = NAN;
}

/* ---- the network ---- */

/* q with its defaults applied and its numbers checked. */
typedef struct netq {
  const char *layer, *connect;
  double max_snap_m, min_piece_m, access_width_m;
} netq;

static pm_status resolve(pm_context *ctx, const pm_network_query *q, netq *r) {
  r->layer = q->layer && *q->layer ? q->layer : "roads";
  r->connect = q->connect ? q->connect : "vertices";
  r->max_snap_m = isnan(q->max_snap_m) ? 100 : q->max_snap_m;
  r->min_piece_m = isnan(q->min_piece_m) ? 200 : q->min_piece_m;
  r->access_width_m = isnan(q->access_width_m) ? 50 : q->access_width_m;
  if (!(r->max_snap_m > 0) || r->max_snap_m > MAX_SNAP_M)
    return pm_error(ctx, PM_EINPUT,
                    "max_snap_m must be above 0 and at most %g metres (a point farther than 5 km "
                    "from every path is not on this network); got %g",
                    MAX_SNAP_M, r->max_snap_m);
  if (!(r->min_piece_m >= 0) || r->min_piece_m > MAX_PIECE_M)
    return pm_error(ctx, PM_EINPUT,
                    "min_piece_m must be at least 0 and at most %g metres (check the unit); got %g",
                    MAX_PIECE_M, r->min_piece_m);
  if (!(r->access_width_m >= 0) || r->access_width_m > MAX_WIDTH_M)
    return pm_error(ctx, PM_EINPUT,
                    "access_width_m must be at least 0 and at most %g metres (the reached paths "
                    "are widened by this to cover the land beside them); got %g",
                    MAX_WIDTH_M, r->access_width_m);
  return PM_OK;
}

pm_status pm_network_default_where(pm_store *store, const char *layer, const char **where,
                                   const char **missing) {
  static const char *const HIGHWAY[] = {"highway", NULL};
  *where = *missing = NULL;
  int osm = 0, all = 0;
  const char *absent = NULL;
  pm_status st = pm_store_layer_has_fields(store, layer, HIGHWAY, &osm, &absent);
  if (st || !osm) return st;
  if ((st = pm_store_layer_has_fields(store, layer, pm_network_osm_walkable_fields(), &all, &absent)))
    return st;
  if (all) *where = pm_network_osm_walkable_where();
  else *missing = absent;
  return PM_OK;
}

/* Build with the resolved options; *where and *osm as pm_query_network_build says. */
static pm_status build(pm_context *ctx, pm_store *store, const pm_network_query *q, netq *r,
                       pm_network **out, char **where_used, int *osm_default) {
  *out = NULL;
  *where_used = NULL;
  *osm_default = 0;
  pm_status st = resolve(ctx, q, r);
  if (st) return st;
  pm_network_options opt;
  pm_network_options_init(&opt);
  opt.max_snap_m = r->max_snap_m;
  opt.min_piece_m = r->min_piece_m;
  if ((st = pm_network_connect_parse(ctx, r->connect, &opt.connect))) return st;
  if ((st = pm__query_check_layer(ctx, store, r->layer, "network"))) {
    if (!q->layer || !*q->layer)
      pm_error_prefix(ctx, "the walking network defaults to the layer `roads` (name another with "
                           "--network LAYER): ");
    return st;
  }
  pm_layer_info info;
  int found = 0;
  if ((st = pm_store_layer_info(store, r->layer, &info, &found))) return st;
  pm_geom_kind kind = info.kind;
  pm_layer_info_clear(&info);
  if (found && kind != PM_KIND_LINE && kind != PM_KIND_NONE)
    return pm_error(ctx, PM_EINPUT,
                    "network layer '%s' holds %ss; a walking network is made of lines (streets, "
                    "paths): name a line layer",
                    r->layer, pm_geom_kind_name(kind));
  const char *where = NULL;
  if (q->where) {
    where = *q->where ? q->where : NULL;
  } else {
    const char *missing = NULL;
    if ((st = pm_network_default_where(store, r->layer, &where, &missing))) return st;
    if (missing)
      return pm_error(ctx, PM_EINPUT,
                      "network layer %s looks like OpenStreetMap data (a highway field) but has "
                      "no field %s, which the walkable default of METRICS.md §5 reads: ingest "
                      "the layer again with this planmetrics, or give a filter (--network-where)",
                      r->layer, missing);
    *osm_default = where != NULL;
  }
  pm_features *lines = NULL;
  pm_load_options lo = {.where = where};
  if ((st = pm_features_load(ctx, store, r->layer, &lo, &lines))) return st;
  if (lines->n == 0) {
    if (*osm_default)
      st = pm_error(ctx, PM_EINPUT,
                    "network layer '%s': the OpenStreetMap walkable default of METRICS.md §5 "
                    "leaves no lines to walk along (no footways, paths or streets); give a filter "
                    "(--network-where) or name another layer",
                    r->layer);
    else if (where)
      st = pm_error(ctx, PM_EINPUT,
                    "network layer '%s': the filter `%s` leaves no lines to walk along; check the "
                    "filter (--network-where)",
                    r->layer, where);
    else
      st = pm_error(ctx, PM_EINPUT,
                    "network layer '%s' has no features: nothing to walk along; ingest the line "
                    "layer again or name another (--network LAYER)",
                    r->layer);
  } else {
    st = pm_network_build(ctx, lines, &opt, out);
  }
  pm_features_destroy(ctx, lines);
  if (!st && where && !(*where_used = strdup(where))) st = oom(ctx);
  if (st) {
    pm_network_destroy(ctx, *out);
    *out = NULL;
  }
  return st;
}

pm_status pm_query_network_build(pm_context *ctx, pm_store *store, const pm_network_query *q,
                                 pm_network **out, char **where_used, int *osm_default) {
  netq r;
  char *w = NULL;
  int osm = 0;
  pm_status st = build(ctx, store, q, &r, out, &w, &osm);
  if (where_used) *where_used = w;
  else free(w);
  if (osm_default) *osm_default = osm;
  return st;
}

pm_status pm_query_network_recorded(pm_context *ctx, pm_store *store, pm_network_spec *out,
                                    int *found) {
  *found = 0;
  pm_table *t = NULL;
  /* Runs recorded before networks existed have no `distance` column: no network then. */
  if (pm_query_sql(ctx, store,
                   "SELECT params FROM pm_indicators WHERE distance = 'network' AND params IS NOT "
                   "NULL AND run_id = (SELECT max(run_id) FROM pm_runs) ORDER BY ind_ord LIMIT 1",
                   &t)) {
    pm_context_clear_error(ctx);
    return PM_OK;
  }
  pm_status st = PM_OK;
  if (t->n_rows == 1 && t->cells[0].type == PM_CELL_TEXT) {
    pm_indicator_spec spec;
    if ((st = pm_indicator_spec_from_json(ctx, t->cells[0].s, &spec)) == PM_OK) {
      if (spec.network.layer.layer) {
        *out = spec.network;
        memset(&spec.network, 0, sizeof spec.network); /* moved */
        *found = 1;
      }
      pm_indicator_spec_clear(&spec);
    }
  }
  pm_table_destroy(t);
  return st;
}

/* ---- network info ---- */

pm_status pm_query_network_info(pm_context *ctx, pm_store *store, const pm_network_query *q,
                                pm_table **out, pm_table **pieces) {
  *out = NULL;
  if (pieces) *pieces = NULL;
  netq r;
  pm_network *net = NULL;
  char *where = NULL;
  int osm = 0;
  pm_table *t = NULL, *p = NULL;
  pm_status st = build(ctx, store, q, &r, &net, &where, &osm);
  if (st) return st;
  const pm_network_info *in = pm_network_get_info(net);
  static const char *const cols[] = {
      "layer", "filter", "where", "connect", "nodes", "edges", "components", "largest_km",
      "largest_share_pct", "length_km", "dangling_ends", "islands", "island_km", "merged_ends",
      "skipped_parts", "min_piece_m", "max_snap_m", "memory_mb", "bytes_per_edge"};
  size_t row = 0;
  if ((st = pm_table_create(ctx, cols, PM_ARRAY_LEN(cols), &t)) ||
      (st = pm_table_add_row(ctx, t, &row)))
    goto done;
  const char *filter = osm ? "OSM walkable default" : where ? "given" : "none";
  if ((st = pm_table_set_text(ctx, t, row, 0, r.layer)) ||
      (st = pm_table_set_text(ctx, t, row, 1, filter)) ||
      (st = pm_table_set_text(ctx, t, row, 2, where)) ||
      (st = pm_table_set_text(ctx, t, row, 3, pm_network_connect_name(in->options.connect))))
    goto done;
  pm_table_set_int(ctx, t, row, 4, in->n_nodes);
  pm_table_set_int(ctx, t, row, 5, in->n_edges);
  pm_table_set_int(ctx, t, row, 6, in->n_components);
  pm_table_set_real(ctx, t, row, 7, in->largest_length_m / 1000, 3);
  pm_table_set_real(ctx, t, row, 8, 100 * in->largest_share, 2);
  pm_table_set_real(ctx, t, row, 9, in->length_m / 1000, 3);
  pm_table_set_int(ctx, t, row, 10, in->n_dangling);
  pm_table_set_int(ctx, t, row, 11, in->n_islands);
  pm_table_set_real(ctx, t, row, 12, in->island_length_m / 1000, 3);
  pm_table_set_int(ctx, t, row, 13, in->n_merged);
  pm_table_set_int(ctx, t, row, 14, in->n_skipped_parts);
  pm_table_set_real(ctx, t, row, 15, r.min_piece_m, -1);
  pm_table_set_real(ctx, t, row, 16, r.max_snap_m, -1);
  pm_table_set_real(ctx, t, row, 17, (double)in->bytes / (1024.0 * 1024.0), 1);
  pm_table_set_real(ctx, t, row, 18, in->n_edges ? (double)in->bytes / in->n_edges : NAN, 1);
  st = pm_table_set_summary(ctx, t,
                            "%s%s: %u nodes, %u edges, %.3f km in %u piece%s; the largest holds "
                            "%.1f %% of the length; %u dead ends; %u island%s (%.3f km) shorter "
                            "than min_piece_m %g m, never snapped to",
                            r.layer, osm ? " (OSM walkable default)" : "", in->n_nodes,
                            in->n_edges, in->length_m / 1000, in->n_components,
                            in->n_components == 1 ? "" : "s", 100 * in->largest_share,
                            in->n_dangling, in->n_islands, in->n_islands == 1 ? "" : "s",
                            in->island_length_m / 1000, r.min_piece_m);
  if (st || !pieces) goto done;
  static const char *const pcols[] = {"piece", "nodes", "edges", "length_m", "island",
                                      "minx", "miny", "maxx", "maxy"};
  if ((st = pm_table_create(ctx, pcols, PM_ARRAY_LEN(pcols), &p))) goto done;
  double rest_m = 0;
  for (uint32_t c = 1; c < in->n_components && !st; c++) {
    pm_network_component comp;
    if ((st = pm_network_component_get(ctx, net, c, &comp)) || (st = pm_table_add_row(ctx, p, &row)))
      break;
    pm_table_set_int(ctx, p, row, 0, c);
    pm_table_set_int(ctx, p, row, 1, comp.n_nodes);
    pm_table_set_int(ctx, p, row, 2, comp.n_edges);
    pm_table_set_real(ctx, p, row, 3, comp.length_m, 1);
    pm_table_set_bool(ctx, p, row, 4, comp.island);
    pm_table_set_real(ctx, p, row, 5, comp.minx, 1);
    pm_table_set_real(ctx, p, row, 6, comp.miny, 1);
    pm_table_set_real(ctx, p, row, 7, comp.maxx, 1);
    pm_table_set_real(ctx, p, row, 8, comp.maxy, 1);
    rest_m += comp.length_m;
  }
  if (!st) {
    uint32_t n = in->n_components ? in->n_components - 1 : 0;
    st = pm_table_set_summary(ctx, p,
                              "%u piece%s besides the largest, %.3f km (%.1f %% of the network), "
                              "cut off from it; %u of them island%s (shorter than %g m)",
                              n, n == 1 ? "" : "s", rest_m / 1000,
                              in->length_m > 0 ? 100 * rest_m / in->length_m : 0, in->n_islands,
                              in->n_islands == 1 ? "" : "s", r.min_piece_m);
  }
done:
  pm_network_destroy(ctx, net);
  free(where);
  if (st) {
    pm_table_destroy(t);
    pm_table_destroy(p);
    return st;
  }
  *out = t;
  if (pieces) *pieces = p;
  return PM_OK;
}

/* ---- access points (§5) ---- */

typedef struct access {
  pm_context *ctx;
  double *xy;      /* x, y pairs */
  size_t *owner;   /* the feature each belongs to */
  size_t n, cap_xy, cap_owner;
} access;

static pm_status add_point(access *a, double x, double y, size_t owner) {
  if (pm__grow(a->ctx, (void **)&a->xy, &a->cap_xy, 2 * (a->n + 1), sizeof *a->xy) ||
      pm__grow(a->ctx, (void **)&a->owner, &a->cap_owner, a->n + 1, sizeof *a->owner))
    return pm_context_status(a->ctx);
  a->xy[2 * a->n] = x;
  a->xy[2 * a->n + 1] = y;
  a->owner[a->n++] = owner;
  return PM_OK;
}

/* A line's (or ring's) first vertex, a point every ACCESS_STEP_M along it and every vertex (a
 * ring's closing vertex repeats its first and is skipped). */
static pm_status line_points(access *a, GEOSContextHandle_t h, const GEOSGeometry *line, int ring,
                             size_t owner) {
  const GEOSCoordSequence *seq = GEOSGeom_getCoordSeq_r(h, line);
  unsigned n = 0;
  if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &n)) return geos_failed(a->ctx, "reading a boundary");
  double px = 0, py = 0, next = ACCESS_STEP_M, along = 0;
  pm_status st = PM_OK;
  for (unsigned i = 0; i < n && !st; i++) {
    double x, y;
    GEOSCoordSeq_getXY_r(h, seq, i, &x, &y);
    if (i > 0) {
      double len = hypot(x - px, y - py);
      while (!st && len > 0 && next <= along + len) {
        double t = (next - along) / len;
        if (t > 0 && t < 1) st = add_point(a, px + t * (x - px), py + t * (y - py), owner);
        next += ACCESS_STEP_M;
      }
      along += len;
    }
    if (!st && (!ring || i + 1 < n || n == 1)) st = add_point(a, x, y, owner);
    px = x;
    py = y;
  }
  return st;
}

/* Where feature geometry g is entered from: a point at itself, a line along it, a polygon along
 * its exterior boundary. */
static pm_status access_points(access *a, GEOSContextHandle_t h, const GEOSGeometry *g,
                               size_t owner) {
  int t = GEOSGeomTypeId_r(h, g);
  switch (t) {
    case GEOS_MULTIPOINT:
    case GEOS_MULTILINESTRING:
    case GEOS_MULTIPOLYGON:
    case GEOS_GEOMETRYCOLLECTION: {
      int n = GEOSGetNumGeometries_r(h, g);
      for (int i = 0; i < n; i++) {
        pm_status st = access_points(a, h, GEOSGetGeometryN_r(h, g, i), owner);
        if (st) return st;
      }
      return PM_OK;
    }
    case GEOS_POINT: {
      double x, y;
      if (GEOSisEmpty_r(h, g) == 1) return PM_OK;
      if (!GEOSGeomGetX_r(h, g, &x) || !GEOSGeomGetY_r(h, g, &y))
        return geos_failed(a->ctx, "reading a point");
      return add_point(a, x, y, owner);
    }
    case GEOS_LINESTRING:
    case GEOS_LINEARRING: return line_points(a, h, g, t == GEOS_LINEARRING, owner);
    case GEOS_POLYGON: return line_points(a, h, GEOSGetExteriorRing_r(h, g), 1, owner);
    default: return PM_OK;
  }
}

/* The access points of features fs (offsets: feature i's are [off[i], off[i+1])), snapped. */
static pm_status snap_features(pm_context *ctx, const pm_network *net, const pm_features *fs,
                               size_t **off_out, pm_network_snap **snap_out) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  access a = {.ctx = ctx};
  pm_status st = PM_OK;
  size_t *off = calloc(fs->n + 1, sizeof *off);
  pm_network_snap *snap = NULL;
  if (!off) st = oom(ctx);
  for (size_t i = 0; !st && i < fs->n; i++) {
    st = access_points(&a, h, fs->geom[i], i);
    off[i + 1] = a.n;
  }
  if (!st && !(snap = malloc((a.n ? a.n : 1) * sizeof *snap))) st = oom(ctx);
  if (!st) st = pm_network_snap_points(ctx, net, a.xy, a.n, snap);
  free(a.xy);
  free(a.owner);
  if (st) {
    free(off);
    free(snap);
    return st;
  }
  *off_out = off;
  *snap_out = snap;
  return PM_OK;
}

/* ---- geometry as text ---- */

static pm_status wkt_cell(pm_context *ctx, GEOSWKTWriter *w, pm_table *t, size_t row, size_t col,
                          const GEOSGeometry *g) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  char *s = GEOSWKTWriter_write_r(h, w, g);
  if (!s) return geos_failed(ctx, "writing a geometry as WKT");
  pm_status st = pm_table_set_text(ctx, t, row, col, s);
  GEOSFree_r(h, s);
  return st;
}

/* Millimetres in a metric CRS: the coordinates read back within 0.5 mm. */
static GEOSWKTWriter *wkt_writer(pm_context *ctx) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKTWriter *w = GEOSWKTWriter_create_r(h);
  if (!w) return NULL;
  GEOSWKTWriter_setTrim_r(h, w, 1);
  GEOSWKTWriter_setRoundingPrecision_r(h, w, 3);
  GEOSWKTWriter_setOutputDimension_r(h, w, 2);
  return w;
}

/* ---- reach ---- */

typedef struct reach {
  pm_context *ctx;
  GEOSContextHandle_t h;
  const pm_network *net;
  const pm_features *fs;
  double within_m, width_m;
  pm_table *t, *lines, *areas;
  GEOSWKTWriter *w;
  pm_network_search *s;
  pm_network_snap *seeds;
  uint32_t *src;
  pm_network_part *band;
  size_t cap_band;
} reach;

/* The reached network of feature i (the current search) in bands, and its service area. */
static pm_status reach_geometry(reach *r, size_t i, const pm_network_part *parts, size_t np,
                                double reached_m) {
  pm_status st = PM_OK;
  size_t row;
  if (r->lines && np) {
    if ((st = pm__grow(r->ctx, (void **)&r->band, &r->cap_band, np, sizeof *r->band))) return st;
    size_t nb = (size_t)ceil(r->within_m / BAND_M);
    if (nb == 0) nb = 1;
    for (size_t b = 0; !st && b < nb; b++) {
      double lo = b * BAND_M, hi = b + 1 == nb ? r->within_m : (b + 1) * BAND_M;
      size_t m = 0;
      pm_network_parts_band(parts, np, lo, hi, b == 0, r->band, &m);
      if (!m) continue;
      GEOSGeometry *g = NULL;
      double len = 0;
      for (size_t k = 0; k < m; k++) len += r->band[k].to_m - r->band[k].from_m;
      char label[64];
      snprintf(label, sizeof label, "%.0f-%.0f m", lo, hi);
      if (!(st = pm_network_parts_geometry(r->ctx, r->net, r->band, m, &g)) &&
          !(st = pm_table_add_row(r->ctx, r->lines, &row))) {
        pm_table_set_int(r->ctx, r->lines, row, 0, r->fs->fid[i]);
        if (!(st = pm_table_set_text(r->ctx, r->lines, row, 1, r->fs->label[i]))) {
          pm_table_set_real(r->ctx, r->lines, row, 2, hi, -1);
          if (!(st = pm_table_set_text(r->ctx, r->lines, row, 3, label))) {
            pm_table_set_real(r->ctx, r->lines, row, 4, len, 2);
            st = wkt_cell(r->ctx, r->w, r->lines, row, 5, g);
          }
        }
      }
      if (g) GEOSGeom_destroy_r(r->h, g);
    }
  }
  if (!st && r->areas && np) {
    GEOSGeometry *b = NULL;
    double area = 0;
    /* no width: a hairline, so that the area is empty but the layer keeps the shape */
    if (!(st = pm_network_parts_area(r->ctx, r->net, parts, np, r->width_m, QUADSEGS, &b)) &&
        !GEOSArea_r(r->h, b, &area))
      st = geos_failed(r->ctx, "measuring the reached area");
    if (!st && !(st = pm_table_add_row(r->ctx, r->areas, &row))) {
      pm_table_set_int(r->ctx, r->areas, row, 0, r->fs->fid[i]);
      if (!(st = pm_table_set_text(r->ctx, r->areas, row, 1, r->fs->label[i]))) {
        pm_table_set_real(r->ctx, r->areas, row, 2, r->within_m, -1);
        pm_table_set_real(r->ctx, r->areas, row, 3, reached_m / 1000, 3);
        pm_table_set_real(r->ctx, r->areas, row, 4, r->width_m > 0 ? area : 0, 1);
        st = wkt_cell(r->ctx, r->w, r->areas, row, 5, b);
      }
    }
    if (b) GEOSGeom_destroy_r(r->h, b);
  }
  return st;
}

pm_status pm_query_reach(pm_context *ctx, pm_store *store, const pm_reach_query *q,
                         pm_table **out, pm_table **lines, pm_table **areas) {
  *out = NULL;
  if (lines) *lines = NULL;
  if (areas) *areas = NULL;
  if (!(q->within_m >= 0) || q->within_m > PM_QUERY_MAX_WALK_M)
    return pm_error(ctx, PM_EINPUT,
                    "the distance to walk must be at least 0 and at most %g metres (%g km; check "
                    "the unit, distances are in metres); got %g",
                    PM_QUERY_MAX_WALK_M, PM_QUERY_MAX_WALK_M / 1000, q->within_m);
  reach r = {.ctx = ctx, .h = pm_context_geos(ctx), .within_m = q->within_m};
  netq nq;
  pm_network *net = NULL;
  pm_features *fs = NULL;
  char *where = NULL;
  int osm = 0;
  size_t *off = NULL;
  pm_network_snap *snap = NULL;
  pm_status st = build(ctx, store, &q->network, &nq, &net, &where, &osm);
  if (st) return st;
  r.net = net;
  r.width_m = nq.access_width_m;
  if ((st = pm__query_load(ctx, store, q->from, q->where, "from", &fs))) goto done;
  r.fs = fs;
  static const char *const cols[] = {"from_fid",   "from_name",     "routable", "snap_m",
                                     "reached_km", "reached_nodes", "note"};
  static const char *const lcols[] = {"from_fid", "from_name", "distance_m",
                                      "band",     "length_m",  "wkt"};
  static const char *const acols[] = {"from_fid", "from_name", "within_m",
                                      "reached_km", "area_m2", "wkt"};
  if ((st = pm_table_create(ctx, cols, PM_ARRAY_LEN(cols), &r.t))) goto done;
  if (lines && (st = pm_table_create(ctx, lcols, PM_ARRAY_LEN(lcols), &r.lines))) goto done;
  if (areas && (st = pm_table_create(ctx, acols, PM_ARRAY_LEN(acols), &r.areas))) goto done;
  if ((lines || areas) && !(r.w = wkt_writer(ctx))) {
    st = oom(ctx);
    goto done;
  }
  if ((st = snap_features(ctx, net, fs, &off, &snap))) goto done;
  if ((st = pm_network_search_create(ctx, net, &r.s))) goto done;
  size_t na_max = 1;
  for (size_t i = 0; i < fs->n; i++)
    if (off[i + 1] - off[i] > na_max) na_max = off[i + 1] - off[i];
  r.seeds = malloc(na_max * sizeof *r.seeds);
  r.src = calloc(na_max, sizeof *r.src); /* one source: the feature */
  if (!r.seeds || !r.src) {
    st = oom(ctx);
    goto done;
  }
  size_t n_routable = 0;
  double sum_m = 0;
  for (size_t i = 0; i < fs->n && !st; i++) {
    size_t m = 0, row;
    double leg = INFINITY, nearest_leg = INFINITY;
    for (size_t k = off[i]; k < off[i + 1]; k++) {
      if (snap[k].edge != PM_NETWORK_NONE) leg = fmin(leg, snap[k].leg_m);
      if (snap[k].status == PM_SNAP_OK) r.seeds[m++] = snap[k];
    }
    nearest_leg = leg;
    if ((st = pm_table_add_row(ctx, r.t, &row))) break;
    pm_table_set_int(ctx, r.t, row, 0, fs->fid[i]);
    if ((st = pm_table_set_text(ctx, r.t, row, 1, fs->label[i]))) break;
    pm_table_set_bool(ctx, r.t, row, 2, m > 0);
    pm_table_set_real(ctx, r.t, row, 3, isfinite(nearest_leg) ? nearest_leg : NAN, 1);
    if (m == 0) {
      char note[160];
      pm_network_snap nearest = {.status = isfinite(nearest_leg) ? PM_SNAP_TOO_FAR : PM_SNAP_NO_NETWORK,
                                 .leg_m = nearest_leg};
      pm_network_unroutable_note(&nearest, nq.max_snap_m, note, sizeof note);
      pm_table_set_real(ctx, r.t, row, 4, 0, 3);
      pm_table_set_int(ctx, r.t, row, 5, 0);
      st = pm_table_set_text(ctx, r.t, row, 6, note);
      continue;
    }
    n_routable++;
    pm_network_part *parts = NULL;
    size_t np = 0;
    if ((st = pm_network_search_run(ctx, r.s, r.seeds, r.src, m, q->within_m)) ||
        (st = pm_network_search_parts(ctx, r.s, &parts, &np)))
      break;
    double reached_m = 0;
    for (size_t k = 0; k < np; k++) reached_m += parts[k].to_m - parts[k].from_m;
    const uint32_t *nodes = NULL;
    pm_table_set_real(ctx, r.t, row, 4, reached_m / 1000, 3);
    pm_table_set_int(ctx, r.t, row, 5, (int64_t)pm_network_search_nodes(r.s, &nodes));
    sum_m += reached_m;
    st = reach_geometry(&r, i, parts, np, reached_m);
    free(parts);
    if (!st && ((i + 1) % 256 == 0 || i + 1 == fs->n)) pm_progress(ctx, "reach", i + 1, fs->n);
  }
  if (!st)
    st = pm_table_set_summary(ctx, r.t,
                              "%zu feature%s of %s: %zu on the walking network %s%s (%zu farther "
                              "than max_snap_m %g m: unroutable); within %g m walked, each reaches "
                              "%.3f km of it on average",
                              fs->n, fs->n == 1 ? "" : "s", fs->layer, n_routable, nq.layer,
                              osm ? " (OSM walkable default)" : "", fs->n - n_routable,
                              nq.max_snap_m, q->within_m,
                              n_routable ? sum_m / 1000 / (double)n_routable : 0.0);
  if (!st && r.lines)
    st = pm_table_set_summary(ctx, r.lines, "the reached network in bands of %g m walked", BAND_M);
  if (!st && r.areas)
    st = pm_table_set_summary(ctx, r.areas, "service areas: the reached network widened by %g m",
                              r.width_m);
done:
  if (r.w) GEOSWKTWriter_destroy_r(r.h, r.w);
  pm_network_search_destroy(r.s);
  free(r.seeds);
  free(r.src);
  free(r.band);
  free(off);
  free(snap);
  free(where);
  pm_features_destroy(ctx, fs);
  pm_network_destroy(ctx, net);
  if (st) {
    pm_table_destroy(r.t);
    pm_table_destroy(r.lines);
    pm_table_destroy(r.areas);
    return st;
  }
  *out = r.t;
  if (lines) *lines = r.lines;
  if (areas) *areas = r.areas;
  return PM_OK;
}

/* ---- route ---- */

/* One end as features (a feature of a layer, or the point), with its id and name for the table. */
static pm_status load_end(pm_context *ctx, pm_store *store, const pm_route_end *e, const char *role,
                          pm_features **fs, char **id) {
  *fs = NULL;
  *id = NULL;
  pm_status st;
  if (!e->layer) {
    if (!isfinite(e->x) || !isfinite(e->y))
      return pm_error(ctx, PM_EINPUT, "the %s point needs finite coordinates", role);
    char wkt[128];
    snprintf(wkt, sizeof wkt, "POINT(%.17g %.17g)", e->x, e->y);
    const char *const w[1] = {wkt};
    if ((st = pm_features_from_wkt(ctx, role, w, NULL, 1, fs))) return st;
    return pm_asprintf(ctx, id, "(%.2f, %.2f)", e->x, e->y);
  }
  char where[64];
  snprintf(where, sizeof where, "fid = %" PRId64, e->fid);
  if ((st = pm__query_load(ctx, store, e->layer, where, role, fs))) return st;
  if ((*fs)->n == 0) {
    pm_features_destroy(ctx, *fs);
    *fs = NULL;
    return pm_error(ctx, PM_ENOTFOUND,
                    "%s: layer %s has no feature with fid %" PRId64 " (the %s); list them with "
                    "planmetrics sql --db %s \"SELECT * FROM %s\"",
                    pm_store_path(store), e->layer, e->fid, role, pm_store_path(store), e->layer);
  }
  return pm_asprintf(ctx, id, "%s#%" PRId64, e->layer, e->fid);
}

pm_status pm_query_route(pm_context *ctx, pm_store *store, const pm_route_query *q,
                         pm_table **out) {
  *out = NULL;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  netq nq;
  pm_network *net = NULL;
  pm_features *a = NULL, *b = NULL;
  char *where = NULL, *ida = NULL, *idb = NULL;
  int osm = 0;
  size_t *offa = NULL, *offb = NULL;
  pm_network_snap *sa = NULL, *sb = NULL, *seeds = NULL;
  pm_network_search *s = NULL;
  GEOSGeometry *path = NULL;
  GEOSWKTWriter *w = NULL;
  pm_table *t = NULL;
  char note[240] = "";
  pm_status st = load_end(ctx, store, &q->from, "start", &a, &ida);
  if (!st) st = load_end(ctx, store, &q->to, "end", &b, &idb);
  if (!st) st = build(ctx, store, &q->network, &nq, &net, &where, &osm);
  if (!st) st = snap_features(ctx, net, a, &offa, &sa);
  if (!st) st = snap_features(ctx, net, b, &offb, &sb);
  if (st) goto done;
  static const char *const cols[] = {"from", "from_name", "to", "to_name", "walk_m", "straight_m",
                                     "detour", "from_snap_m", "to_snap_m", "note", "wkt"};
  if ((st = pm_table_create(ctx, cols, PM_ARRAY_LEN(cols), &t))) goto done;
  double straight = NAN;
  if (!GEOSDistance_r(h, a->geom[0], b->geom[0], &straight)) {
    st = geos_failed(ctx, "the straight-line distance");
    goto done;
  }
  /* the seeds: every routable access point of the start, its index as the source id */
  size_t na = offa[1], nb = offb[1], m = 0;
  double leg_a = INFINITY, leg_b = INFINITY;
  uint32_t *src = NULL;
  seeds = malloc((na ? na : 1) * sizeof *seeds);
  src = malloc((na ? na : 1) * sizeof *src);
  if (!seeds || !src) {
    free(src);
    st = oom(ctx);
    goto done;
  }
  for (size_t k = 0; k < na; k++) {
    if (sa[k].edge != PM_NETWORK_NONE) leg_a = fmin(leg_a, sa[k].leg_m);
    if (sa[k].status == PM_SNAP_OK) {
      seeds[m] = sa[k];
      src[m++] = (uint32_t)k;
    }
  }
  size_t best = SIZE_MAX;
  double walk = INFINITY;
  int routable_b = 0;
  for (size_t k = 0; k < nb; k++) {
    if (sb[k].edge != PM_NETWORK_NONE) leg_b = fmin(leg_b, sb[k].leg_m);
    routable_b |= sb[k].status == PM_SNAP_OK;
  }
  if (m > 0 && routable_b) {
    if (!(st = pm_network_search_create(ctx, net, &s)))
      st = pm_network_search_run(ctx, s, seeds, src, m, INFINITY);
    for (size_t k = 0; !st && k < nb; k++) {
      double d = pm_network_search_dist_to(s, &sb[k], NULL);
      if (d < walk) {
        walk = d;
        best = k;
      }
    }
  }
  free(src);
  if (st) goto done;
  uint32_t from_ap = PM_NETWORK_NONE;
  if (best != SIZE_MAX) {
    double len = 0;
    if ((st = pm_network_search_path(ctx, s, &sb[best], 1, &path, &len, &from_ap))) goto done;
    leg_a = from_ap < na ? sa[from_ap].leg_m : leg_a;
    leg_b = sb[best].leg_m;
  } else if (m == 0 || !routable_b) {
    int start = m == 0;
    double leg = start ? leg_a : leg_b;
    if (isfinite(leg))
      snprintf(note, sizeof note,
               "no walk: the %s is %.0f m from the walking network (max_snap_m %g m): unroutable",
               start ? "start" : "end", leg, nq.max_snap_m);
    else
      snprintf(note, sizeof note, "no walk: the %s has no walking network outside islands near it",
               start ? "start" : "end");
  } else {
    snprintf(note, sizeof note,
             "no walk: the start and the end lie on pieces of the network that do not meet");
  }
  size_t row;
  if ((st = pm_table_add_row(ctx, t, &row)) || (st = pm_table_set_text(ctx, t, row, 0, ida)) ||
      (st = pm_table_set_text(ctx, t, row, 1, a->label[0])) ||
      (st = pm_table_set_text(ctx, t, row, 2, idb)) ||
      (st = pm_table_set_text(ctx, t, row, 3, b->label[0])))
    goto done;
  pm_table_set_real(ctx, t, row, 4, path ? walk : NAN, 2);
  pm_table_set_real(ctx, t, row, 5, straight, 2);
  pm_table_set_real(ctx, t, row, 6, path && straight > 0 ? walk / straight : NAN, 3);
  pm_table_set_real(ctx, t, row, 7, isfinite(leg_a) ? leg_a : NAN, 2);
  pm_table_set_real(ctx, t, row, 8, isfinite(leg_b) ? leg_b : NAN, 2);
  if (*note && (st = pm_table_set_text(ctx, t, row, 9, note))) goto done;
  if (path) {
    if (!(w = wkt_writer(ctx))) {
      st = oom(ctx);
      goto done;
    }
    if ((st = wkt_cell(ctx, w, t, row, 10, path))) goto done;
    if (straight > 0)
      st = pm_table_set_summary(ctx, t,
                                "walk %.1f m along %s%s (straight line %.1f m: %.2f times as far)",
                                walk, nq.layer, osm ? " (OSM walkable default)" : "", straight,
                                walk / straight);
    else
      st = pm_table_set_summary(ctx, t, "walk %.1f m along %s%s (straight line 0 m)", walk,
                                nq.layer, osm ? " (OSM walkable default)" : "");
  } else {
    st = pm_table_set_summary(ctx, t, "%s (straight line %.1f m)", note, straight);
  }
done:
  if (w) GEOSWKTWriter_destroy_r(h, w);
  if (path) GEOSGeom_destroy_r(h, path);
  pm_network_search_destroy(s);
  free(seeds);
  free(offa);
  free(offb);
  free(sa);
  free(sb);
  free(where);
  free(ida);
  free(idb);
  pm_features_destroy(ctx, a);
  pm_features_destroy(ctx, b);
  pm_network_destroy(ctx, net);
  if (st) {
    pm_table_destroy(t);
    return st;
  }
  *out = t;
  return PM_OK;
}
