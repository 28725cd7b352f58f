/* life_circle.c: METRICS.md §5 life_circle — the 15-minute community life circle: the share of
 * homes with every facility type (or at least `require` of them) within its distance. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/measure.h"
#include "planmetrics/network.h"
#include "queries/metric_internal.h"

/* Choices where METRICS.md is silent (also in the project docs):
 * - A home is a point, or a polygon taken at its representative point (its district too). Its
 *   weight: weight_field when given, else the polygon's area (m2), else 1 per point.
 * - A type may take its facilities from several layers (OSM maps a school as a point or as an
 *   area): the plan lists it once per layer with the same name and within_m.
 * - Facilities that are polygons are entered from their boundary (points every 20 m and every
 *   vertex, as sources of `coverage`); points from their point. The distance to a type is to its
 *   nearest facility; distance: euclidean measures it in a straight line (to the polygon).
 * - A home farther than max_snap_m from the walking network is unroutable: counted, never
 *   served; its gap says so.
 * - Gaps: every unserved home with weight > 0: shortfall = its weight, distance_m = the largest
 *   distance among the types it lacks, nearest = those types, note = each with its distance and
 *   the distance wanted (a type with no reachable facility at all shows "none reachable").
 * - Per type, the share of weight served by that type alone is reported with every result. */

#define ENTRY_STEP_M 20.0

typedef struct lc {
  pm_context *ctx;
  GEOSContextHandle_t h;
  const pm_indicator_spec *spec;
  const char *ind;
  const pm_features *homes;
  const pm_features *const *fac; /* per entry of spec->facilities */
  size_t ne;                     /* entries */
  size_t *etype;                 /* the type of each entry */
  const char **tname;            /* per type: its name and distance */
  double *twithin;
  const pm_network *net;
  const pm_districts *d;
  pm_indicator_result *out;
  size_t nt;                     /* facility types (distinct names) */
  size_t need;                   /* types a home needs */
  pm_network_search **srch;      /* per type, no cutoff (distance network) */
  double *num, *den;             /* per slot */
  double *tnum;                  /* per slot and type: weight served by that type */
  size_t n_unroutable;
} lc;

static pm_status geos_fail(lc *c, const char *what) {
  return pm_error(c->ctx, PM_EGEOM, "indicator %s: %s failed (%s)", c->ind, what,
                  pm__context_geos_message(c->ctx));
}

/* The facility types: the distinct names of the entries, in their order. */
static pm_status setup_types(lc *c) {
  c->etype = malloc(c->ne * sizeof *c->etype);
  c->tname = malloc(c->ne * sizeof *c->tname);
  c->twithin = malloc(c->ne * sizeof *c->twithin);
  if (!c->etype || !c->tname || !c->twithin) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  for (size_t e = 0; e < c->ne; e++) {
    const pm_facility_spec *f = &c->spec->facilities[e];
    size_t t = 0;
    while (t < c->nt && strcmp(c->tname[t], f->name) != 0) t++;
    if (t == c->nt) {
      c->tname[t] = f->name;
      c->twithin[t] = f->within_m;
      c->nt++;
    } else if (c->twithin[t] != f->within_m) {
      return pm_error(c->ctx, PM_EINPUT,
                      "indicator %s: facility type %s is given twice with different distances "
                      "(%g and %g m); a type has one within_m",
                      c->ind, f->name, c->twithin[t], f->within_m);
    }
    if (!(f->within_m >= 0))
      return pm_error(c->ctx, PM_EINPUT, "indicator %s: facility %s needs within_m >= 0", c->ind,
                      f->name);
    c->etype[e] = t;
  }
  return PM_OK;
}

/* How many types a home needs: "all" or a whole number 1..n. */
static pm_status parse_require(lc *c) {
  const char *r = c->spec->require;
  if (!r || strcmp(r, "all") == 0) {
    c->need = c->nt;
    return PM_OK;
  }
  char *end = NULL;
  long k = strtol(r, &end, 10);
  if (!*r || *end || k < 1 || (size_t)k > c->nt)
    return pm_error(c->ctx, PM_EINPUT,
                    "indicator %s: require '%s' must be all or a whole number from 1 to %zu (the "
                    "number of facility types)",
                    c->ind, r, c->nt);
  c->need = (size_t)k;
  return PM_OK;
}

/* One search per type from all its facilities' entry points (source id = feature), no cutoff:
 * every home then reads its walked distance to the nearest facility of each type. */
static pm_status network_setup(lc *c) {
  c->srch = calloc(c->nt, sizeof *c->srch);
  if (!c->srch) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  pm_status st = PM_OK;
  for (size_t t = 0; !st && t < c->nt; t++) {
    pm_entry_points e = {0};
    uint32_t *src = NULL;
    size_t cap = 0;
    /* source id: the entry and feature, numbered across the type's entries */
    uint32_t id = 0;
    for (size_t en = 0; !st && en < c->ne; en++) {
      if (c->etype[en] != t) continue;
      const pm_features *fs = c->fac[en];
      for (size_t i = 0; !st && i < fs->n; i++, id++) {
        size_t before = e.n;
        st = pm__entry_points(c->ctx, fs->geom[i], ENTRY_STEP_M, &e);
        if (!st && pm__grow(c->ctx, (void **)&src, &cap, e.n ? e.n : 1, sizeof *src)) st = PM_ENOMEM;
        for (size_t k = before; !st && k < e.n; k++) src[k] = id;
      }
    }
    pm_network_snap *snap = !st ? malloc((e.n ? e.n : 1) * sizeof *snap) : NULL;
    if (!st && !snap) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
    if (!st) st = pm_network_snap_points(c->ctx, c->net, e.xy, e.n, snap);
    if (!st) st = pm_network_search_create(c->ctx, c->net, &c->srch[t]);
    if (!st) st = pm_network_search_run(c->ctx, c->srch[t], snap, src, e.n, INFINITY);
    free(snap);
    free(src);
    free(e.xy);
  }
  return st;
}

/* The distance from point pt (a home) to the nearest facility of type t: walked (snap given) or
 * straight. INFINITY when none is reachable. */
static pm_status distance_to(lc *c, size_t t, const GEOSGeometry *pt, const pm_network_snap *snap,
                             double *dist) {
  *dist = INFINITY;
  if (c->net) {
    *dist = pm_network_search_dist_to(c->srch[t], snap, NULL);
    return PM_OK;
  }
  for (size_t en = 0; en < c->ne; en++) {
    const pm_features *fs = c->fac[en];
    if (c->etype[en] != t || fs->n == 0) continue;
    size_t i;
    double d;
    pm_status st = pm_features_nearest(c->ctx, fs, NULL, pt, &i, &d);
    if (st) return st;
    if (d < *dist) *dist = d;
  }
  return PM_OK;
}

/* The gap of an unserved home: the types it lacks, each with its distance. */
static pm_status home_gap(lc *c, size_t i, const size_t *slots, size_t nslots, double w,
                          const double *dist, const int *ok, int unroutable, double x, double y) {
  pm_status st = PM_OK;
  char *note = NULL, *lacks = NULL, *id = NULL;
  double worst = -INFINITY;
  size_t len = 0;
  FILE *fn = open_memstream(&note, &len);
  size_t llen = 0;
  FILE *fl = open_memstream(&lacks, &llen);
  if (!fn || !fl) {
    if (fn) fclose(fn);
    if (fl) fclose(fl);
    free(note);
    free(lacks);
    return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  }
  if (unroutable)
    fprintf(fn, "unroutable: farther than max_snap_m (%g m) from the walking network; ",
            c->spec->network.max_snap_m);
  fputs("lacks ", fn);
  int first = 1;
  for (size_t t = 0; t < c->nt; t++) {
    if (ok[t]) continue;
    if (isfinite(dist[t]))
      fprintf(fn, "%s%s %.0f m (within %g m wanted)", first ? "" : ", ", c->tname[t], dist[t],
              c->twithin[t]);
    else
      fprintf(fn, "%s%s (none reachable)", first ? "" : ", ", c->tname[t]);
    fprintf(fl, "%s%s", first ? "" : ", ", c->tname[t]);
    if (dist[t] > worst) worst = dist[t];
    first = 0;
  }
  if (fclose(fn) != 0 || fclose(fl) != 0 || !note || !lacks)
    st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
  if (!st) st = pm_features_id(c->ctx, c->homes, i, &id);
  const char *name = c->homes->label ? c->homes->label[i] : NULL;
  const char *home = slots[0] < c->d->n ? pm_districts_name(c->d, slots[0]) : NULL;
  for (size_t s = 0; !st && s < nslots; s++) {
    size_t j = slots[s];
    st = pm_result_add_gap(c->ctx, &c->out->results[j], id, name,
                           j < c->d->n ? pm_districts_name(c->d, j) : home,
                           unroutable ? NAN : worst, w, lacks, note, x, y);
  }
  free(id);
  free(note);
  free(lacks);
  return st;
}

static pm_status compute_homes(lc *c) {
  const pm_features *hs = c->homes;
  pm_status st = PM_OK;
  int wi = -1;
  if (c->spec->weight_field && (wi = pm_features_attr_index(hs, c->spec->weight_field)) < 0)
    return pm_error(c->ctx, PM_EINPUT,
                    "indicator %s: layer %s has no field %s (weight_field); name a field of the "
                    "homes layer",
                    c->ind, hs->layer ? hs->layer : "?", c->spec->weight_field);
  size_t nslots = c->d->n + 1;
  size_t *slots = malloc(nslots * sizeof *slots);
  double *dist = malloc((c->nt ? c->nt : 1) * sizeof *dist);
  int *ok = malloc((c->nt ? c->nt : 1) * sizeof *ok);
  if (!slots || !dist || !ok) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
  for (size_t i = 0; !st && i < hs->n; i++) {
    const GEOSGeometry *g = hs->geom[i];
    int polygon = GEOSGeomTypeId_r(c->h, g) == GEOS_POLYGON ||
                  GEOSGeomTypeId_r(c->h, g) == GEOS_MULTIPOLYGON;
    double w = 1;
    if (wi >= 0) {
      const char *text = hs->attr[wi][i];
      if (!text || !*text) w = 0;
      else if (!pm__parse_decimal(text, 0, &w) || w < 0)
        st = pm_error(c->ctx, PM_EINPUT,
                      "indicator %s: layer %s, feature %lld: weight_field %s is \"%s\", not a "
                      "number >= 0",
                      c->ind, hs->layer ? hs->layer : "?", (long long)hs->fid[i],
                      c->spec->weight_field, text);
    } else if (polygon && !GEOSArea_r(c->h, g, &w)) {
      st = geos_fail(c, "measuring a home's area");
    }
    if (st) break;
    GEOSGeometry *pt = polygon || GEOSGeomTypeId_r(c->h, g) != GEOS_POINT
                           ? GEOSPointOnSurface_r(c->h, g)
                           : GEOSGeom_clone_r(c->h, g);
    double x = NAN, y = NAN;
    if (!pt || !GEOSGeomGetX_r(c->h, pt, &x) || !GEOSGeomGetY_r(c->h, pt, &y)) {
      if (pt) GEOSGeom_destroy_r(c->h, pt);
      st = geos_fail(c, "a home's representative point");
      break;
    }
    size_t n = 0;
    int in_all = 0;
    if (c->d->n == 0) {
      slots[n++] = 0;
    } else {
      st = pm_districts_of_point(c->ctx, c->d, pt, slots, &n, &in_all);
      if (!st && in_all) slots[n++] = c->d->n;
    }
    if (st || n == 0) {
      GEOSGeom_destroy_r(c->h, pt);
      continue; /* outside the plan area */
    }
    pm_network_snap snap = {0};
    int unroutable = 0;
    if (c->net) {
      st = pm_network_snap_point(c->ctx, c->net, x, y, &snap);
      unroutable = !st && snap.status != PM_SNAP_OK;
      c->n_unroutable += unroutable;
    }
    size_t served = 0;
    for (size_t t = 0; !st && t < c->nt; t++) {
      st = distance_to(c, t, pt, &snap, &dist[t]);
      ok[t] = !st && !unroutable && dist[t] <= c->twithin[t];
      served += ok[t];
    }
    int home_ok = !st && served >= c->need;
    for (size_t s = 0; !st && s < n; s++) {
      size_t j = slots[s];
      c->den[j] += w;
      if (home_ok) c->num[j] += w;
      for (size_t t = 0; t < c->nt; t++)
        if (ok[t]) c->tnum[j * c->nt + t] += w;
    }
    if (!st) {
      char *id = NULL;
      const char *home = slots[0] < c->d->n ? pm_districts_name(c->d, slots[0]) : NULL;
      if (!(st = pm_features_id(c->ctx, hs, i, &id)))
        st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "home", home, id,
                                                 hs->label ? hs->label[i] : NULL, home_ok,
                                                 NAN, NULL, g);
      free(id);
    }
    if (!st && !home_ok && w > 0) st = home_gap(c, i, slots, n, w, dist, ok, unroutable, x, y);
    GEOSGeom_destroy_r(c->h, pt);
  }
  free(slots);
  free(dist);
  free(ok);
  return st;
}

/* A type none of whose layers selects a feature is lacked by every home: say so, as it is more
 * often a wrong `where` (or a POI export missing a category) than a real absence. */
static void empty_types_notice(lc *c) {
  for (size_t t = 0; t < c->nt; t++) {
    size_t n = 0;
    for (size_t en = 0; en < c->ne; en++)
      if (c->etype[en] == t) n += c->fac[en]->n;
    if (n == 0)
      pm_notice(c->ctx,
                "indicator %s: facility type '%s' selects no features, so every home lacks it; "
                "check its layer and `where` (planmetrics info lists each layer's features)",
                c->ind, c->tname[t]);
  }
}

/* Facility details (role "facility", nearest = its type) for maps and export. */
static pm_status facility_details(lc *c) {
  pm_status st = PM_OK;
  for (size_t en = 0; !st && en < c->ne; en++) {
    const pm_features *fs = c->fac[en];
    for (size_t i = 0; !st && i < fs->n; i++) {
      char *id = NULL;
      if (!(st = pm_features_id(c->ctx, fs, i, &id)))
        st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "facility", NULL, id,
                                                 fs->label ? fs->label[i] : NULL, -1, NAN,
                                                 c->tname[c->etype[en]], fs->geom[i]);
      free(id);
    }
  }
  return st;
}

pm_status pm_life_circle(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *homes,
                         const pm_features *const *facilities, size_t n_facilities,
                         const pm_network *net, const pm_districts *d, pm_indicator_result *out) {
  if (!ctx) return PM_EINTERNAL;
  if (!spec || !homes || (n_facilities && !facilities) || !d || !out)
    return pm_error(ctx, PM_EINTERNAL, "pm_life_circle: a required argument is NULL");
  lc c = {.ctx = ctx, .h = pm_context_geos(ctx), .spec = spec, .homes = homes, .fac = facilities,
          .ne = n_facilities, .net = net, .d = d, .out = out};
  c.ind = spec->id ? spec->id : "life_circle";
  if (n_facilities != spec->n_facilities || n_facilities == 0)
    return pm_error(ctx, PM_EINPUT, "indicator %s: give one layer per facility type (%zu types)",
                    c.ind, spec->n_facilities);
  int network = spec->distance && strcmp(spec->distance, "network") == 0;
  if (network && !net)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: distance network needs the walking network (the plan's "
                    "network: block)",
                    c.ind);
  if (!network) c.net = NULL;
  if (homes->n && homes->kind == PM_KIND_LINE)
    return pm_error(ctx, PM_EINPUT,
                    "indicator %s: homes layer %s has lines; homes are points or polygons "
                    "(residential land, buildings)",
                    c.ind, homes->layer ? homes->layer : "?");
  pm_status st = setup_types(&c);
  if (!st) st = parse_require(&c);
  size_t nslots = d->n + 1;
  c.num = calloc(nslots, sizeof *c.num);
  c.den = calloc(nslots, sizeof *c.den);
  c.tnum = calloc(nslots * (c.nt ? c.nt : 1), sizeof *c.tnum);
  if (!c.num || !c.den || !c.tnum) st = pm_error(ctx, PM_ENOMEM, "out of memory");
  for (size_t t = 0; !st && t < n_facilities; t++)
    if (!facilities[t]->tree && !c.net && facilities[t]->n)
      st = pm_error(ctx, PM_EINTERNAL, "pm_life_circle: facility layers must be indexed "
                                       "(pm_features_index)");
  if (!st) st = pm__metric_begin(ctx, spec, "life_circle", "%", d, out);
  if (!st) empty_types_notice(&c);
  if (!st && c.net) st = network_setup(&c);
  if (!st) st = facility_details(&c);
  if (!st) st = compute_homes(&c);
  for (size_t j = 0; !st && j < nslots; j++) {
    const char *where = j < d->n ? pm_districts_name(d, j) : "the plan area";
    char *why = NULL;
    if (!(st = pm_asprintf(ctx, &why, "no homes (layer %s) in %s", homes->layer ? homes->layer : "?",
                           where)))
      st = pm_result_set_share(ctx, &out->results[j], c.num[j], c.den[j], why);
    free(why);
    for (size_t t = 0; !st && t < c.nt; t++)
      st = pm_result_add_facility(ctx, &out->results[j], c.tname[t], c.tnum[j * c.nt + t],
                                  c.den[j]);
  }
  if (!st && c.net) {
    char unr[64];
    snprintf(unr, sizeof unr, "{\"homes\": %zu}", c.n_unroutable);
    st = pm__metric_network_info(ctx, spec, c.net, unr, out);
    if (!st && c.n_unroutable)
      pm_notice(ctx,
                "indicator %s: %zu home(s) are farther than max_snap_m (%g m) from the walking "
                "network (unroutable): they count as not served",
                c.ind, c.n_unroutable, spec->network.max_snap_m);
  }
  if (!st) st = pm__metric_finish(ctx, out);
  for (size_t t = 0; c.srch && t < c.nt; t++) pm_network_search_destroy(c.srch[t]);
  free(c.srch);
  free(c.etype);
  free(c.tname);
  free(c.twithin);
  free(c.num);
  free(c.den);
  free(c.tnum);
  return st;
}

/* ---------- registry row ---------- */

#define OFF(f) offsetof(pm_indicator_spec, f)
static const pm_param PARAMS[] = {
    {"homes", PM_PARAM_REF, OFF(homes), PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the homes: residential polygons or points"},
    {"homes_where", PM_PARAM_WHERE, OFF(homes), 0, NULL, NULL, NULL, NULL, "filter of the homes"},
    {"weight_field", PM_PARAM_TEXT, OFF(weight_field), 0, NULL, NULL, "homes", NULL,
     "the homes' population field (default: polygons by area, points 1 each)"},
    {"facilities", PM_PARAM_FACILITIES, 0, PM_PARAM_REQUIRED, NULL, NULL, NULL, NULL,
     "the facility types: [{name, layer, where, within_m}]"},
    {"require", PM_PARAM_TEXT, OFF(require), 0, "all", NULL, NULL, NULL,
     "how many types a home needs: all, or a number"},
    {"distance", PM_PARAM_CHOICE, OFF(distance), 0, "network", "network|euclidean", NULL, NULL,
     "along the walking network (network: block), or straight lines"},
    {"network", PM_PARAM_NETWORK, OFF(network), 0, NULL, NULL, NULL, NULL,
     "the walking network (default: the plan's network: block)"},
};
#undef OFF

static const pm_detail_role ROLES[] = {
    {"home", PM_ROLE_VERDICT, "nearest", 1},
    {"facility", PM_ROLE_SOURCE, "type", 0},
};
static const char *const UNITS[] = {"%", NULL};

static const char *check(const pm_indicator_spec *s, char *msg, size_t size) {
  const char *r = s->require;
  if (r && strcmp(r, "all") != 0) {
    char *end = NULL;
    long k = strtol(r, &end, 10);
    size_t types = 0;
    for (size_t i = 0; i < s->n_facilities; i++) {
      size_t j = 0;
      while (j < i && strcmp(s->facilities[j].name, s->facilities[i].name) != 0) j++;
      types += j == i;
    }
    if (!*r || *end || k < 1 || (size_t)k > types) {
      snprintf(msg, size,
               "indicator %s: require '%s' must be all or a whole number from 1 to %zu (the "
               "number of facility types)",
               s->id, r, types);
      return "require";
    }
  }
  return NULL;
}

static pm_status compute(pm_context *ctx, const pm_indicator_spec *spec, const pm_metric_input *in,
                         const pm_districts *d, pm_indicator_result *out) {
  return pm_life_circle(ctx, spec, in[0].v[0], in[3].v, in[3].n, in[6].net, d, out);
}

const pm_metric_kind pm__kind_life_circle = {
    .name = "life_circle",
    .summary = "share of homes with every facility type (or `require` of them) within its "
               "walking distance (15-minute community life circle)",
    .params = PARAMS,
    .n_params = PM_ARRAY_LEN(PARAMS),
    .units = UNITS,
    .shortfall = "home's weight",
    .roles = ROLES,
    .n_roles = PM_ARRAY_LEN(ROLES),
    .compute = compute,
    .check = check,
};
