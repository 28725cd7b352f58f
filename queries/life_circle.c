/* life_circle.c: METRICS.md §5 life_circle — the 15-minute community life circle: the share of
 * homes with every facility type (or at least `require` of them) within its distance. */
#include <math.h>
#include <stdarg.h>
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

/* The types' searches, run side by side: one per task, each on its own thread's context. */
typedef struct lc_search_job {
  lc *c;
  const pm_network_snap *snap; /* every type's entry points, snapped */
  const uint32_t *src;         /* their source ids */
  const size_t *first;         /* nt + 1: type t's are first[t] .. first[t + 1] */
} lc_search_job;

static pm_status search_task(pm_context *ctx, void *state, void *arg, size_t t) {
  (void)state;
  lc_search_job *j = arg;
  pm_status st = pm_network_search_create(ctx, j->c->net, &j->c->srch[t]);
  if (!st)
    st = pm_network_search_run(ctx, j->c->srch[t], j->snap + j->first[t],
                               j->src ? j->src + j->first[t] : NULL, j->first[t + 1] - j->first[t],
                               INFINITY);
  return st;
}

/* One search per type from all its facilities' entry points (source id = feature), no cutoff:
 * every home then reads its walked distance to the nearest facility of each type. The entry
 * points of every type are snapped in one call (one spatial order, every thread), then the
 * searches run one per thread. */
static pm_status network_setup(lc *c) {
  c->srch = calloc(c->nt, sizeof *c->srch);
  size_t *first = malloc((c->nt + 1) * sizeof *first);
  if (!c->srch || !first) {
    free(first);
    return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  }
  pm_status st = PM_OK;
  pm_entry_points e = {0};
  uint32_t *src = NULL;
  size_t cap = 0;
  for (size_t t = 0; !st && t < c->nt; t++) {
    first[t] = e.n;
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
  }
  first[c->nt] = e.n;
  pm_network_snap *snap = !st ? malloc((e.n ? e.n : 1) * sizeof *snap) : NULL;
  if (!st && !snap) st = pm_error(c->ctx, PM_ENOMEM, "out of memory");
  if (!st) st = pm_network_snap_points(c->ctx, c->net, e.xy, e.n, snap);
  lc_search_job j = {c, snap, src, first};
  if (!st)
    st = pm__parallel_for(c->ctx, pm_context_threads(c->ctx), c->nt, NULL, search_task, NULL, &j);
  free(snap);
  free(src);
  free(e.xy);
  free(first);
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

/* A text built piece by piece into a buffer kept between homes (a thread's scratch space). */
typedef struct lc_text {
  char *p;
  size_t n, cap;
} lc_text;

static int text_add(lc_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int text_add(lc_text *t, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(t->p ? t->p + t->n : NULL, t->p ? t->cap - t->n : 0, fmt, ap);
    va_end(ap);
    if (k < 0) return -1;
    if (t->p && t->n + (size_t)k < t->cap) {
      t->n += (size_t)k;
      return 0;
    }
    size_t cap = t->cap ? t->cap : 256;
    while (cap <= t->n + (size_t)k) cap *= 2;
    char *q = realloc(t->p, cap);
    if (!q) return -1;
    t->p = q;
    t->cap = cap;
  }
}

/* The gap of an unserved home (id: its feature id): the types it lacks, each with its distance;
 * unroutable is the home's snap when it did not snap (the note says why), else NULL. note and
 * lacks are the thread's scratch texts. */
static pm_status home_gap(lc *c, size_t i, const char *id, const size_t *slots, size_t nslots,
                          double w, const double *dist, const int *ok,
                          const pm_network_snap *unroutable, double x, double y, lc_text *note,
                          lc_text *lacks) {
  pm_status st = PM_OK;
  double worst = -INFINITY;
  int bad = 0;
  note->n = lacks->n = 0;
  if (unroutable) {
    char why[160];
    pm_network_unroutable_note(unroutable, c->spec->network.max_snap_m, why, sizeof why);
    bad |= text_add(note, "%s; ", why);
  }
  bad |= text_add(note, "lacks ");
  bad |= text_add(lacks, "%s", ""); /* an empty text when nothing is lacked */
  int first = 1;
  for (size_t t = 0; t < c->nt; t++) {
    if (ok[t]) continue;
    if (isfinite(dist[t]))
      bad |= text_add(note, "%s%s %.0f m (within %g m wanted)", first ? "" : ", ", c->tname[t],
                      dist[t], c->twithin[t]);
    else
      bad |= text_add(note, "%s%s (none reachable)", first ? "" : ", ", c->tname[t]);
    bad |= text_add(lacks, "%s%s", first ? "" : ", ", c->tname[t]);
    if (dist[t] > worst) worst = dist[t];
    first = 0;
  }
  if (bad) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  const char *name = c->homes->label ? c->homes->label[i] : NULL;
  const char *home = slots[0] < c->d->n ? pm_districts_name(c->d, slots[0]) : NULL;
  for (size_t s = 0; !st && s < nslots; s++) {
    size_t j = slots[s];
    st = pm_result_add_gap(c->ctx, &c->out->results[j], id, name,
                           j < c->d->n ? pm_districts_name(c->d, j) : home,
                           unroutable ? NAN : worst, w, lacks->p, note->p, x, y);
  }
  return st;
}

/* Homes are measured in chunks of a fixed size, on every thread, each chunk into its own
 * details and gaps and its own per-home record; the records are then summed in home order and
 * the chunks appended in order, so the result is the same for any number of threads, to the
 * last bit. */
#define LC_CHUNK 2048

typedef struct lc_chunk {
  pm_indicator_result res; /* the chunk's details and gaps */
  double *w;               /* per home of the chunk: its weight */
  uint32_t *nslot;         /* per home: its slots (0: outside the plan area, not counted) */
  size_t *slots, n_slots, cap_slots; /* the slots, home after home */
  unsigned char *ok;       /* per home and type: served by that type */
  unsigned char *home_ok;  /* per home: served */
  size_t n_unroutable;
} lc_chunk;

typedef struct lc_homes_job {
  const lc *c;
  int wi;           /* the weight field's index, or -1 */
  lc_chunk *chunks;
  size_t n_chunks;
} lc_homes_job;

/* A thread's copy of the indicator: the shared inputs and searches (only read by now), with its
 * own context, districts and scratch space. */
typedef struct lc_worker {
  lc c;
  size_t *slots;
  double *dist;
  int *ok;
  lc_text note, lacks;     /* a gap's texts */
} lc_worker;

static pm_status worker_setup(pm_context *ctx, void *arg, void **state) {
  const lc *c = ((lc_homes_job *)arg)->c;
  lc_worker *w = calloc(1, sizeof *w);
  *state = w;
  if (!w) return pm_error(ctx, PM_ENOMEM, "out of memory");
  w->c = *c;
  w->c.ctx = ctx;
  w->c.h = pm_context_geos(ctx);
  w->c.d = NULL;
  w->c.out = NULL;
  pm_districts *d = NULL;
  pm_status st = pm_districts_clone(ctx, c->d, &d);
  w->c.d = d;
  if (st) return st;
  w->slots = malloc((c->d->n + 1) * sizeof *w->slots);
  w->dist = malloc((c->nt ? c->nt : 1) * sizeof *w->dist);
  w->ok = malloc((c->nt ? c->nt : 1) * sizeof *w->ok);
  if (!w->slots || !w->dist || !w->ok) return pm_error(ctx, PM_ENOMEM, "out of memory");
  return PM_OK;
}

static void worker_free(pm_context *ctx, void *state, void *arg) {
  (void)arg;
  lc_worker *w = state;
  if (!w) return;
  pm_districts_destroy(ctx, (pm_districts *)w->c.d);
  free(w->slots);
  free(w->dist);
  free(w->ok);
  free(w->note.p);
  free(w->lacks.p);
  free(w);
}

/* Home i, the m-th of chunk ch: its weight, slots and verdicts into ch, its detail and gap into
 * ch->res. */
static pm_status one_home(lc_worker *wk, int wi, size_t i, lc_chunk *ch, size_t m) {
  lc *c = &wk->c;
  const pm_features *hs = c->homes;
  const GEOSGeometry *g = hs->geom[i];
  pm_status st = PM_OK;
  ch->nslot[m] = 0;
  ch->w[m] = 0;
  ch->home_ok[m] = 0;
  int polygon = GEOSGeomTypeId_r(c->h, g) == GEOS_POLYGON ||
                GEOSGeomTypeId_r(c->h, g) == GEOS_MULTIPOLYGON;
  double w = 1;
  if (wi >= 0) {
    const char *text = hs->attr[wi][i];
    if (!text || !*text) w = 0;
    else if (!pm__parse_decimal(text, 0, &w) || w < 0)
      return pm_error(c->ctx, PM_EINPUT,
                      "indicator %s: layer %s, feature %lld: weight_field %s is \"%s\", not a "
                      "number >= 0",
                      c->ind, hs->layer ? hs->layer : "?", (long long)hs->fid[i],
                      c->spec->weight_field, text);
  } else if (polygon && !GEOSArea_r(c->h, g, &w)) {
    return geos_fail(c, "measuring a home's area");
  }
  GEOSGeometry *pt = polygon || GEOSGeomTypeId_r(c->h, g) != GEOS_POINT
                         ? GEOSPointOnSurface_r(c->h, g)
                         : GEOSGeom_clone_r(c->h, g);
  double x = NAN, y = NAN;
  if (!pt || !GEOSGeomGetX_r(c->h, pt, &x) || !GEOSGeomGetY_r(c->h, pt, &y)) {
    if (pt) GEOSGeom_destroy_r(c->h, pt);
    return geos_fail(c, "a home's representative point");
  }
  size_t *slots = wk->slots;
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
    return st; /* outside the plan area */
  }
  pm_network_snap snap = {0};
  int unroutable = 0;
  if (c->net) {
    st = pm_network_snap_point(c->ctx, c->net, x, y, &snap);
    unroutable = !st && snap.status != PM_SNAP_OK;
    ch->n_unroutable += unroutable;
  }
  size_t served = 0;
  double *dist = wk->dist;
  int *ok = wk->ok;
  for (size_t t = 0; !st && t < c->nt; t++) {
    st = distance_to(c, t, pt, &snap, &dist[t]);
    ok[t] = !st && !unroutable && dist[t] <= c->twithin[t];
    served += ok[t];
  }
  int home_ok = !st && served >= c->need;
  if (!st && pm__grow(c->ctx, (void **)&ch->slots, &ch->cap_slots, ch->n_slots + n,
                      sizeof *ch->slots))
    st = PM_ENOMEM;
  if (!st) {
    memcpy(ch->slots + ch->n_slots, slots, n * sizeof *slots);
    ch->n_slots += n;
    ch->nslot[m] = (uint32_t)n;
    ch->w[m] = w;
    ch->home_ok[m] = (unsigned char)home_ok;
    for (size_t t = 0; t < c->nt; t++) ch->ok[m * c->nt + t] = (unsigned char)ok[t];
  }
  char *id = NULL;
  if (!st) st = pm_features_id(c->ctx, hs, i, &id);
  if (!st) {
    const char *home = slots[0] < c->d->n ? pm_districts_name(c->d, slots[0]) : NULL;
    st = pm_indicator_result_add_detail_geom(c->ctx, c->out, "home", home, id,
                                             hs->label ? hs->label[i] : NULL, home_ok, NAN, NULL, g);
  }
  if (!st && !home_ok && w > 0)
    st = home_gap(c, i, id, slots, n, w, dist, ok, unroutable ? &snap : NULL, x, y, &wk->note,
                  &wk->lacks);
  free(id);
  GEOSGeom_destroy_r(c->h, pt);
  return st;
}

/* The slot names of the indicator's results, for a chunk's partial result. */
static pm_status chunk_result(pm_context *ctx, const lc *c, pm_indicator_result *res) {
  size_t nslots = c->d->n + 1;
  const char **names = calloc(nslots, sizeof *names);
  if (!names) return pm_error(ctx, PM_ENOMEM, "out of memory");
  for (size_t j = 0; j < nslots; j++) names[j] = c->out->results[j].district;
  pm_status st = pm_indicator_result_init_results(ctx, res, names, nslots);
  free(names);
  return st;
}

static pm_status homes_chunk(pm_context *ctx, void *state, void *arg, size_t k) {
  lc_homes_job *job = arg;
  lc_worker *wk = state;
  const lc *c = job->c;
  lc_chunk *ch = &job->chunks[k];
  size_t lo = k * LC_CHUNK, hi = lo + LC_CHUNK < c->homes->n ? lo + LC_CHUNK : c->homes->n;
  size_t nh = hi - lo;
  ch->w = malloc(nh * sizeof *ch->w);
  ch->nslot = malloc(nh * sizeof *ch->nslot);
  ch->ok = malloc(nh * (c->nt ? c->nt : 1));
  ch->home_ok = malloc(nh);
  if (!ch->w || !ch->nslot || !ch->ok || !ch->home_ok)
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  pm_status st = chunk_result(ctx, c, &ch->res);
  wk->c.out = &ch->res;
  for (size_t i = lo; !st && i < hi; i++) st = one_home(wk, job->wi, i, ch, i - lo);
  return st;
}

static void chunk_free(lc_chunk *ch) {
  pm_indicator_result_clear(&ch->res);
  free(ch->w);
  free(ch->nslot);
  free(ch->slots);
  free(ch->ok);
  free(ch->home_ok);
}

static pm_status compute_homes(lc *c) {
  const pm_features *hs = c->homes;
  int wi = -1;
  if (c->spec->weight_field && (wi = pm_features_attr_index(hs, c->spec->weight_field)) < 0)
    return pm_error(c->ctx, PM_EINPUT,
                    "indicator %s: layer %s has no field %s (weight_field); name a field of the "
                    "homes layer",
                    c->ind, hs->layer ? hs->layer : "?", c->spec->weight_field);
  lc_homes_job job = {.c = c, .wi = wi, .n_chunks = (hs->n + LC_CHUNK - 1) / LC_CHUNK};
  job.chunks = calloc(job.n_chunks ? job.n_chunks : 1, sizeof *job.chunks);
  if (!job.chunks) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  pm_status st = pm__parallel_for(c->ctx, pm_context_threads(c->ctx), job.n_chunks, worker_setup,
                                  homes_chunk, worker_free, &job);
  /* Sum in home order (as one thread would), then append each chunk's details and gaps. */
  for (size_t k = 0; !st && k < job.n_chunks; k++) {
    lc_chunk *ch = &job.chunks[k];
    size_t lo = k * LC_CHUNK, nh = (lo + LC_CHUNK < hs->n ? LC_CHUNK : hs->n - lo), at = 0;
    for (size_t m = 0; m < nh; m++) {
      double w = ch->w[m];
      for (size_t s = 0; s < ch->nslot[m]; s++) {
        size_t j = ch->slots[at + s];
        c->den[j] += w;
        if (ch->home_ok[m]) c->num[j] += w;
        for (size_t t = 0; t < c->nt; t++)
          if (ch->ok[m * c->nt + t]) c->tnum[j * c->nt + t] += w;
      }
      at += ch->nslot[m];
    }
    c->n_unroutable += ch->n_unroutable;
    st = pm_indicator_result_append(c->ctx, c->out, &ch->res);
  }
  for (size_t k = 0; k < job.n_chunks; k++) chunk_free(&job.chunks[k]);
  free(job.chunks);
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

/* Facility details (role "facility", nearest = its type) for maps and export: in chunks of
 * LC_CHUNK facilities (numbered across the entries), on every thread, appended in order. */
typedef struct lc_fac_job {
  const lc *c;
  size_t *first; /* ne + 1: entry en's facilities are numbered first[en] .. first[en + 1] */
  pm_indicator_result *parts;
} lc_fac_job;

static pm_status facility_chunk(pm_context *ctx, void *state, void *arg, size_t k) {
  (void)state;
  lc_fac_job *job = arg;
  const lc *c = job->c;
  pm_status st = chunk_result(ctx, c, &job->parts[k]);
  size_t lo = k * LC_CHUNK, hi = lo + LC_CHUNK < job->first[c->ne] ? lo + LC_CHUNK : job->first[c->ne];
  size_t en = 0;
  for (size_t g = lo; !st && g < hi; g++) {
    while (g >= job->first[en + 1]) en++;
    const pm_features *fs = c->fac[en];
    size_t i = g - job->first[en];
    char *id = NULL;
    if (!(st = pm_features_id(ctx, fs, i, &id)))
      st = pm_indicator_result_add_detail_geom(ctx, &job->parts[k], "facility", NULL, id,
                                               fs->label ? fs->label[i] : NULL, -1, NAN,
                                               c->tname[c->etype[en]], fs->geom[i]);
    free(id);
  }
  return st;
}

static pm_status facility_details(lc *c) {
  lc_fac_job job = {.c = c};
  job.first = malloc((c->ne + 1) * sizeof *job.first);
  if (!job.first) return pm_error(c->ctx, PM_ENOMEM, "out of memory");
  job.first[0] = 0;
  for (size_t en = 0; en < c->ne; en++) job.first[en + 1] = job.first[en] + c->fac[en]->n;
  size_t nchunks = (job.first[c->ne] + LC_CHUNK - 1) / LC_CHUNK;
  job.parts = calloc(nchunks ? nchunks : 1, sizeof *job.parts);
  pm_status st = job.parts ? PM_OK : pm_error(c->ctx, PM_ENOMEM, "out of memory");
  if (!st)
    st = pm__parallel_for(c->ctx, pm_context_threads(c->ctx), nchunks, NULL, facility_chunk,
                          NULL, &job);
  for (size_t k = 0; !st && k < nchunks; k++)
    st = pm_indicator_result_append(c->ctx, c->out, &job.parts[k]);
  for (size_t k = 0; job.parts && k < nchunks; k++) pm_indicator_result_clear(&job.parts[k]);
  free(job.parts);
  free(job.first);
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

/* Many homes or facilities: the snapping, the types' searches and the homes are shared out among
 * the threads (the indicator then runs alone, with all of them). */
#define LC_WIDE_MIN 10000

static int wide(const pm_indicator_spec *s, const pm_metric_input *in) {
  (void)s;
  size_t n = in[0].n ? in[0].v[0]->n : 0;
  for (size_t i = 0; i < in[3].n; i++) n += in[3].v[i]->n;
  return n >= LC_WIDE_MIN;
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
    .wide = wide,
};
