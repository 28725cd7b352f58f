/* runner.c: run a plan: ingest changed layers, load districts, compute each indicator with its
 * metric kind, record the run; all in one transaction. */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include "planmetrics/runner.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "engine/internal.h"
#include "planmetrics/crs.h"
#include "planmetrics/districts.h"
#include "planmetrics/features.h"
#include "planmetrics/history.h"
#include "planmetrics/ingest.h"
#include "planmetrics/metrics.h"
#include "planmetrics/network.h"
#include "planmetrics/query.h"

typedef struct runner {
  pm_context *ctx;
  const pm_plan *plan;
  pm_store *store;
  pm_cache *cache;
  pm_districts *districts;
  int *missing;        /* per plan layer: 1 when an optional layer's file is absent */
  struct netcache {    /* walking networks built so far, one per layer, filter and options */
    char *key;
    pm_network *net;
  } *nets;
  size_t n_nets, cap_nets;
} runner;

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

/* ---------- notices held until the run is kept ---------- */

/* A run is one transaction: until it commits, "ingested roads: 3460 features" may still be rolled
 * back. Notices are held during the run and passed on at its end; when it fails, the ingest
 * lines are dropped (nothing was kept) and the rest (about the files, the indicators) passed on. */
typedef struct held_notice {
  char *text;
  int ingest; /* one of the runner's "ingested LAYER" lines */
} held_notice;

typedef struct notice_hold {
  pthread_mutex_t mu; /* worker threads inherit the printer */
  pm_notice_fn fn;    /* the printer to pass them on to; NULL: silence, nothing is held */
  void *user;
  held_notice *v;
  size_t n, cap;
} notice_hold;

static void hold_add(notice_hold *h, const char *text, int ingest) {
  pthread_mutex_lock(&h->mu);
  char *copy = NULL;
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 16;
    held_notice *v = realloc(h->v, cap * sizeof *v);
    if (v) {
      h->v = v;
      h->cap = cap;
    }
  }
  if (h->n < h->cap && (copy = strdup(text))) {
    h->v[h->n].text = copy;
    h->v[h->n++].ingest = ingest;
  } else {
    h->fn(h->user, text); /* out of memory: say it now rather than never */
  }
  pthread_mutex_unlock(&h->mu);
}

static void hold_notice(void *user, const char *message) { hold_add(user, message, 0); }

static void hold_begin(pm_context *ctx, notice_hold *h) {
  memset(h, 0, sizeof *h);
  pthread_mutex_init(&h->mu, NULL);
  pm__context_notice(ctx, &h->fn, &h->user);
  if (h->fn) pm_context_set_notice(ctx, hold_notice, h);
}

/* An ingest line: held when there is a printer, else dropped. */
static void hold_ingest_line(notice_hold *h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void hold_ingest_line(notice_hold *h, const char *fmt, ...) {
  if (!h->fn) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  hold_add(h, buf, 1);
}

/* Give the printer back and pass the held notices on (kept: all; else all but the ingest lines). */
static void hold_end(pm_context *ctx, notice_hold *h, int kept) {
  if (h->fn) pm_context_set_notice(ctx, h->fn, h->user);
  for (size_t i = 0; i < h->n; i++) {
    if (kept || !h->v[i].ingest) h->fn(h->user, h->v[i].text);
    free(h->v[i].text);
  }
  free(h->v);
  pthread_mutex_destroy(&h->mu);
}

static int layer_index(const pm_plan *plan, const char *name) {
  for (size_t i = 0; i < plan->n_layers; i++)
    if (strcmp(plan->layers[i].name, name) == 0) return (int)i;
  return -1;
}

static void ingest_options(const pm_plan_layer *l, const char *crs, pm_ingest_options *o) {
  memset(o, 0, sizeof *o);
  o->path = l->path;
  o->as = l->name;
  o->encoding = l->encoding;
  o->src_crs = l->src_crs;
  o->x_field = l->x;
  o->y_field = l->y;
  o->source_layer = l->source_layer;
  o->where = l->where;
  o->crs = crs;
}

/* Fix the project CRS before the first ingest: the plan's, or the UTM zone of the districts (the
 * first present layer when the plan has no districts), per METRICS.md §1. */
static pm_status choose_crs(runner *r, const char **crs_out, char *buf, size_t size) {
  const pm_plan *plan = r->plan;
  *crs_out = NULL;
  int srid = 0;
  pm_store_crs(r->store, &srid, NULL);
  if (plan->crs && strcasecmp(plan->crs, "auto") != 0) {
    *crs_out = plan->crs;
    return PM_OK;
  }
  if (srid) return PM_OK;
  int idx = plan->districts_layer ? layer_index(plan, plan->districts_layer) : -1;
  for (size_t i = 0; idx < 0 && i < plan->n_layers; i++)
    if (!r->missing[i]) idx = (int)i;
  if (idx < 0) return PM_OK;
  pm_ingest_options o;
  ingest_options(&plan->layers[idx], NULL, &o);
  int epsg = 0;
  pm_status st = pm_ingest_auto_epsg(r->ctx, &o, &epsg);
  if (st) return pm_error_prefix(r->ctx, "%s:%d: layer %s: ", plan->path, plan->layers[idx].line,
                                 plan->layers[idx].name);
  snprintf(buf, size, "EPSG:%d", epsg);
  *crs_out = buf;
  return PM_OK;
}

static pm_status ingest_layers(runner *r, pm_run_ingest_log *log, notice_hold *hold) {
  const pm_plan *plan = r->plan;
  pm_context *ctx = r->ctx;
  for (size_t i = 0; i < plan->n_layers; i++) {
    const pm_plan_layer *l = &plan->layers[i];
    if (access(l->path, F_OK) != 0) {
      if (l->optional) {
        r->missing[i] = 1;
        log->n_missing++;
        continue;
      }
      return pm_error(ctx, PM_EIO,
                      "%s:%d: layer %s: file %s not found; fix the path (relative to the plan "
                      "file) or mark the layer `optional: true` to report its indicators as no data",
                      plan->path, l->line, l->name, l->path);
    }
  }
  char buf[32];
  const char *crs = NULL;
  pm_status st = choose_crs(r, &crs, buf, sizeof buf);
  if (st) return st;
  for (size_t i = 0; i < plan->n_layers; i++) {
    if (r->missing[i]) continue;
    const pm_plan_layer *l = &plan->layers[i];
    pm_ingest_options o;
    ingest_options(l, crs, &o);
    pm_ingest_report rep;
    st = pm_ingest_if_changed(ctx, r->store, &o, &rep);
    if (st) {
      pm_ingest_report_clear(&rep);
      return pm_error_prefix(ctx, "%s:%d: layer %s: ", plan->path, l->line, l->name);
    }
    log->n_layers++;
    if (rep.skipped) log->n_skipped++;
    else {
      log->n_ingested++;
      hold_ingest_line(hold, "ingested %s: %lld features%s%s", l->name,
                       (long long)rep.n_stored, rep.n_repaired ? ", some repaired" : "",
                       rep.n_dropped ? ", some dropped" : "");
    }
    pm_ingest_report_clear(&rep);
  }
  return PM_OK;
}

/* Locate the current error at the indicator's line in the plan, saying "indicator ID:" once: the
 * metric kinds begin their own messages with it, the layer loader does not. A message that
 * already names the plan file is left as it is. Returns the error's status. */
static pm_status indicator_error(pm_context *ctx, const pm_plan *plan,
                                 const pm_indicator_spec *spec) {
  const char *m = pm_context_message(ctx);
  if (strstr(m, plan->path)) return pm_context_status(ctx);
  char head[160];
  snprintf(head, sizeof head, "indicator %s: ", spec->id);
  if (strncmp(m, head, strlen(head)) == 0)
    return pm_error_prefix(ctx, "%s:%d: ", plan->path, spec->line);
  return pm_error_prefix(ctx, "%s:%d: %s", plan->path, spec->line, head);
}

/* Load a referenced selection through the cache, with the attributes the metric reads. */
static pm_status load_ref(runner *r, const pm_indicator_spec *spec, const pm_layer_ref *ref,
                          const char *const *attrs, size_t n_attrs, const pm_features **out) {
  *out = NULL;
  int li = layer_index(r->plan, ref->layer);
  pm_load_options o = {.where = ref->where,
                       .label_field = li >= 0 ? r->plan->layers[li].label_field : NULL,
                       .attrs = attrs,
                       .n_attrs = n_attrs};
  pm_status st = pm_cache_get(r->cache, ref->layer, &o, out);
  if (st) indicator_error(r->ctx, r->plan, spec);
  return st;
}

static int is_input(const pm_param *prm) {
  return prm->type == PM_PARAM_REF || prm->type == PM_PARAM_REFS ||
         prm->type == PM_PARAM_FACILITIES;
}

/* How many layer references input parameter prm of spec holds, and the i-th. */
static size_t input_count(const pm_indicator_spec *spec, const pm_param *prm) {
  const void *f = (const char *)spec + prm->offset;
  switch (prm->type) {
    case PM_PARAM_REF: return ((const pm_layer_ref *)f)->layer ? 1 : 0;
    case PM_PARAM_REFS: return ((const pm_layer_refs *)f)->n;
    case PM_PARAM_FACILITIES: return spec->n_facilities;
    default: return 0;
  }
}

static const pm_layer_ref *input_ref(const pm_indicator_spec *spec, const pm_param *prm, size_t i) {
  const void *f = (const char *)spec + prm->offset;
  switch (prm->type) {
    case PM_PARAM_REF: return f;
    case PM_PARAM_REFS: return &((const pm_layer_refs *)f)->v[i];
    default: return &spec->facilities[i].layer;
  }
}

/* The first missing layer an indicator needs, or NULL. */
static const char *missing_layer(runner *r, const pm_metric_kind *k, const pm_indicator_spec *s) {
  for (size_t p = 0; p < k->n_params; p++) {
    if (!is_input(&k->params[p])) continue;
    for (size_t i = 0; i < input_count(s, &k->params[p]); i++) {
      const char *layer = input_ref(s, &k->params[p], i)->layer;
      int li = layer_index(r->plan, layer);
      if (li >= 0 && r->missing[li]) return layer;
    }
  }
  /* the walking network is an input too */
  if (s->distance && strcmp(s->distance, "network") == 0 && s->network.layer.layer) {
    int li = layer_index(r->plan, s->network.layer.layer);
    if (li >= 0 && r->missing[li]) return s->network.layer.layer;
  }
  return NULL;
}

/* One indicator's work: its inputs, loaded on the main thread (one database connection), then
 * computed on any thread. */
typedef struct job {
  const pm_indicator_spec *spec;   /* the plan's, or `resolved` */
  pm_indicator_spec resolved;      /* the spec with what the data decides (the OSM walkable filter
                                    * of a network), when that differs from the plan's */
  int has_resolved;
  const pm_metric_kind *kind;      /* NULL: no data, `reason` says why */
  char reason[512];
  pm_metric_input *in;             /* one slot per parameter of the kind */
  const pm_features **loaded;      /* what in[] points into */
  int wide;                        /* splits its own work over the threads, see compute_all() */
  pm_status st;                    /* outcome of execute() */
  char *msg;                       /* its error message (heap) */
} job;

static void job_clear(job *j) {
  if (j->has_resolved) pm_indicator_spec_clear(&j->resolved);
  free(j->in);
  free(j->loaded);
  free(j->msg);
}

/* The walking network of spec (distance: network): its lines loaded through the cache, with the
 * OSM walkable filter of METRICS.md §5 when the layer is OSM data (a `highway` field) and the plan
 * gives no filter, built once per layer, filter and options. *resolved_where receives the filter
 * the data decided (NULL: the plan's). */
static pm_status load_network(runner *r, const pm_indicator_spec *spec, const pm_network **out,
                              const char **resolved_where) {
  const pm_network_spec *ns = &spec->network;
  *out = NULL;
  *resolved_where = NULL;
  const char *where = ns->layer.where;
  pm_status st = PM_OK;
  if (!where) {
    const char *missing = NULL;
    if ((st = pm_network_default_where(r->store, ns->layer.layer, &where, &missing))) goto fail;
    if (missing) {
      st = pm_error(r->ctx, PM_EINPUT,
                    "network layer %s looks like OpenStreetMap data (a highway field) but has no "
                    "field %s, which the walkable default of METRICS.md §5 reads: ingest the "
                    "layer again with this planmetrics, or give the network a `where:` filter",
                    ns->layer.layer, missing);
      goto fail;
    }
    *resolved_where = where;
  }
  char key[1024];
  snprintf(key, sizeof key, "%s\xff%s\xff%s\xff%.17g\xff%.17g", ns->layer.layer, where ? where : "",
           ns->connect, ns->min_piece_m, ns->max_snap_m);
  for (size_t i = 0; i < r->n_nets; i++)
    if (strcmp(r->nets[i].key, key) == 0) {
      *out = r->nets[i].net;
      return PM_OK;
    }
  pm_layer_ref ref = {.layer = ns->layer.layer, .where = (char *)where};
  const pm_features *lines = NULL;
  if ((st = load_ref(r, spec, &ref, NULL, 0, &lines))) return st;
  pm_network_options opt;
  pm_network_options_init(&opt);
  opt.min_piece_m = ns->min_piece_m;
  opt.max_snap_m = ns->max_snap_m;
  pm_network *net = NULL;
  if ((st = pm_network_connect_parse(r->ctx, ns->connect, &opt.connect)) ||
      (st = pm_network_build(r->ctx, lines, &opt, &net)))
    goto fail;
  if ((st = pm__grow(r->ctx, (void **)&r->nets, &r->cap_nets, r->n_nets + 1, sizeof *r->nets)) ||
      !(r->nets[r->n_nets].key = strdup(key))) {
    pm_network_destroy(r->ctx, net);
    return st ? st : oom(r->ctx);
  }
  r->nets[r->n_nets++].net = net;
  const pm_network_info *info = pm_network_get_info(net);
  pm_notice(r->ctx, "walking network %s: %u nodes, %u edges, %u pieces (the largest %.1f %% of %.1f km)",
            ns->layer.layer, info->n_nodes, info->n_edges, info->n_components,
            100 * info->largest_share, info->length_m / 1000);
  *out = net;
  return PM_OK;
fail:
  return pm_error_prefix(r->ctx, "%s:%d: indicator %s: ", r->plan->path, spec->line, spec->id);
}

/* Load everything an indicator needs through the cache (main thread only): every layer its
 * kind's input parameters name, with the attributes its field parameters (attr_of) name. */
static pm_status prepare(runner *r, const pm_indicator_spec *spec, job *j) {
  memset(j, 0, sizeof *j);
  j->spec = spec;
  const pm_metric_kind *k = pm_metric_kind_find(spec->metric);
  if (!k)
    return pm_error(r->ctx, PM_EINPUT, "%s:%d: indicator %s: unknown metric '%s'", r->plan->path,
                    spec->line, spec->id, spec->metric);
  const char *gone = missing_layer(r, k, spec);
  if (gone) {
    int li = layer_index(r->plan, gone);
    /* The status says "no data"; the reason says why (writers show both). */
    snprintf(j->reason, sizeof j->reason, "layer %s (%s) is not in the data", gone,
             li >= 0 ? r->plan->layers[li].path : "?");
    return PM_OK;
  }
  j->kind = k;
  size_t total = 0;
  for (size_t p = 0; p < k->n_params; p++)
    if (is_input(&k->params[p])) total += input_count(spec, &k->params[p]);
  j->in = calloc(k->n_params ? k->n_params : 1, sizeof *j->in);
  j->loaded = calloc(total ? total : 1, sizeof *j->loaded);
  if (!j->in || !j->loaded) return oom(r->ctx);
  pm_status st = PM_OK;
  size_t at = 0;
  int network = spec->distance && strcmp(spec->distance, "network") == 0;
  for (size_t p = 0; !st && network && p < k->n_params; p++) {
    if (k->params[p].type != PM_PARAM_NETWORK) continue;
    const char *where = NULL;
    if ((st = load_network(r, spec, &j->in[p].net, &where))) break;
    if (where) { /* record the filter the data decided, as the run used it */
      char *json = NULL;
      if (!(st = pm_indicator_spec_to_json(r->ctx, spec, &json)) &&
          !(st = pm_indicator_spec_from_json(r->ctx, json, &j->resolved))) {
        j->has_resolved = 1;
        j->resolved.line = spec->line;
        st = pm_strdup(r->ctx, &j->resolved.network.layer.where, where);
        j->spec = spec = &j->resolved;
      }
      free(json);
    }
  }
  for (size_t p = 0; !st && p < k->n_params; p++) {
    const pm_param *prm = &k->params[p];
    if (!is_input(prm)) continue;
    const char *attrs[8];
    size_t n_attrs = 0;
    for (size_t q = 0; q < k->n_params && n_attrs < PM_ARRAY_LEN(attrs); q++) {
      const pm_param *f = &k->params[q];
      const char *name = f->attr_of && strcmp(f->attr_of, prm->name) == 0
                             ? *(char *const *)((const char *)spec + f->offset)
                             : NULL;
      if (name) attrs[n_attrs++] = name;
    }
    size_t n = input_count(spec, prm);
    j->in[p].v = j->loaded + at;
    j->in[p].n = n;
    for (size_t i = 0; !st && i < n; i++)
      st = load_ref(r, spec, input_ref(spec, prm, i), attrs, n_attrs, &j->loaded[at++]);
  }
  if (!st && k->wide) j->wide = k->wide(spec, j->in);
  return st;
}

/* Compute one prepared indicator with this thread's context and districts. Inputs are only read. */
static pm_status execute(pm_context *ctx, const pm_districts *d, const job *j,
                         pm_indicator_result *out) {
  if (!j->kind) return pm_metric_no_data(ctx, j->spec, d, j->reason, out);
  return pm_metric_compute(ctx, j->spec, j->in, d, out);
}

/* Compute one prepared job; its failure stays with the job, to be reported in plan order. */
static void run_job(pm_context *ctx, const pm_districts *d, job *j, pm_indicator_result *out) {
  pm_context_clear_error(ctx);
  j->st = execute(ctx, d, j, out);
  if (j->st) j->msg = strdup(pm_context_message(ctx));
}

/* The narrow jobs, shared among threads (pm__parallel_for). Each thread has its own context (GEOS
 * handle) and its own copy of the districts; the loaded features are shared read-only (their
 * STRtrees are built). */
typedef struct pool {
  const pm_districts *districts;
  job *jobs;
  pm_indicator_result *out;
  const size_t *idx; /* the jobs to run */
} pool;

static pm_status pool_setup(pm_context *ctx, void *arg, void **state) {
  pm_districts *d = NULL;
  pm_status st = pm_districts_clone(ctx, ((pool *)arg)->districts, &d);
  *state = d;
  return st;
}

static pm_status pool_task(pm_context *ctx, void *state, void *arg, size_t k) {
  pool *p = arg;
  run_job(ctx, state, &p->jobs[p->idx[k]], &p->out[p->idx[k]]);
  return PM_OK; /* the others still run */
}

static void pool_teardown(pm_context *ctx, void *state, void *arg) {
  (void)arg;
  pm_districts_destroy(ctx, state);
}

static int default_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n >= 2 ? 2 : 1; /* beyond two, memory bandwidth and the serial load step dominate */
}

/* Free the loaded layers that no wide job (still to run) reads. Only memory is at stake: when
 * the list cannot be made, everything stays loaded. */
static void release_unused(runner *r, const job *jobs, size_t n) {
  const pm_features **keep = NULL;
  size_t nk = 0, cap = 0;
  for (size_t i = 0; i < n; i++) {
    const job *j = &jobs[i];
    if (!j->wide) continue;
    for (size_t p = 0; p < j->kind->n_params; p++) {
      if (pm__grow(r->ctx, (void **)&keep, &cap, nk + j->in[p].n + 1, sizeof *keep)) {
        free(keep);
        pm_context_clear_error(r->ctx);
        return;
      }
      for (size_t q = 0; q < j->in[p].n; q++) keep[nk++] = j->in[p].v[q];
    }
  }
  pm_cache_release_except(r->cache, keep, nk);
  free(keep);
}

/* Compute every indicator, on `threads` threads (the main thread is one of them). */
static pm_status compute_all(runner *r, int threads, pm_run_result *run) {
  pm_context *ctx = r->ctx;
  const pm_plan *plan = r->plan;
  size_t n = plan->n_indicators;
  job *jobs = calloc(n ? n : 1, sizeof *jobs);
  if (!jobs) return oom(ctx);
  pm_status st = PM_OK;
  for (size_t i = 0; !st && i < n; i++) {
    pm_progress(ctx, "loading layers", i, n);
    st = prepare(r, &plan->indicators[i], &jobs[i]);
  }
  if (!st) pm_progress(ctx, "loading layers", n, n);
  /* Everything is in memory now; the database's page cache would only add to the peak. */
  if (!st) pm_store_release_memory(r->store);
  if (!st) {
    if (threads < 1) threads = default_threads();
    if (threads > PM_MAX_THREADS) threads = PM_MAX_THREADS;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx), narrow = 0;
    if (!idx) st = oom(ctx);
    for (size_t i = 0; !st && i < n; i++)
      if (!jobs[i].wide) idx[narrow++] = i;
    pool p = {.districts = r->districts, .jobs = jobs, .out = run->indicators, .idx = idx};
    if (!st) st = pm__parallel_for(ctx, threads, narrow, pool_setup, pool_task, pool_teardown, &p);
    free(idx);
    /* Wide indicators then run one at a time, each with every thread: faster than one thread
     * each beside the others, and two large overlays are never in memory at once. The layers
     * only the others needed are freed first. */
    release_unused(r, jobs, n);
    pm_context_set_threads(ctx, threads);
    for (size_t i = 0; !st && i < n; i++)
      if (jobs[i].wide) run_job(ctx, r->districts, &jobs[i], &run->indicators[i]);
    pm_context_set_threads(ctx, 1);
    pm_progress(ctx, "computing indicators", n, n);
    run->n_indicators = n;
    /* Report the first failing indicator in plan order, with its file and line. */
    for (size_t i = 0; i < n && !st; i++)
      if (jobs[i].st) {
        const pm_indicator_spec *spec = jobs[i].spec;
        st = pm_error(ctx, jobs[i].st, "%s", jobs[i].msg ? jobs[i].msg : pm_status_name(jobs[i].st));
        indicator_error(ctx, plan, spec);
      }
  }
  for (size_t i = 0; i < n; i++) job_clear(&jobs[i]);
  free(jobs);
  return st;
}

static pm_status load_districts(runner *r, const pm_run_options *opt) {
  const pm_plan *plan = r->plan;
  pm_context *ctx = r->ctx;
  if (!plan->districts_layer) {
    if (opt->n_districts)
      return pm_error(ctx, PM_EINPUT, "%s: the plan has no districts, so --district cannot be used",
                      plan->path);
    return pm_districts_none(ctx, &r->districts);
  }
  int li = layer_index(plan, plan->districts_layer);
  if (li >= 0 && r->missing[li])
    return pm_error(ctx, PM_EIO, "%s: the districts layer %s (%s) is missing; districts cannot be "
                    "optional", plan->path, plan->districts_layer, plan->layers[li].path);
  const char *const *only = (const char *const *)plan->districts_only;
  size_t n_only = plan->n_districts_only;
  if (opt->n_districts) {
    for (size_t k = 0; k < opt->n_districts; k++) {
      int ok = n_only == 0;
      for (size_t i = 0; i < n_only; i++)
        if (strcmp(only[i], opt->districts[k]) == 0) ok = 1;
      if (!ok)
        return pm_error(ctx, PM_EINPUT, "--district %s is not in the plan's scope (districts.only "
                        "in %s)", opt->districts[k], plan->path);
    }
    only = opt->districts;
    n_only = opt->n_districts;
  }
  pm_status st = pm_districts_load(ctx, r->store, plan->districts_layer, plan->districts_name_field,
                                   only, n_only, &r->districts);
  if (st) pm_error_prefix(ctx, "%s: districts: ", plan->path);
  return st;
}

/* {"layer": "sha256", ...} of the layers as ingested, for the run history. */
static pm_status input_hashes(runner *r, char **out) {
  *out = NULL;
  size_t cap = 16, len = 0;
  char *s = malloc(cap);
  if (!s) return oom(r->ctx);
  len += (size_t)snprintf(s, cap, "{");
  for (size_t i = 0; i < r->plan->n_layers; i++) {
    if (r->missing[i]) continue;
    pm_layer_info info;
    int found = 0;
    pm_status st = pm_store_layer_info(r->store, r->plan->layers[i].name, &info, &found);
    if (st) {
      free(s);
      return st;
    }
    size_t need = len + strlen(r->plan->layers[i].name) + 80 + 4;
    if (need > cap) {
      cap = need * 2;
      char *p = realloc(s, cap);
      if (!p) {
        pm_layer_info_clear(&info);
        free(s);
        return oom(r->ctx);
      }
      s = p;
    }
    /* Layer names are identifiers, hashes hex: nothing to escape. */
    len += (size_t)snprintf(s + len, cap - len, "%s\"%s\": \"%s\"", len > 1 ? ", " : "",
                            r->plan->layers[i].name, found && info.source_hash ? info.source_hash : "");
    pm_layer_info_clear(&info);
  }
  if (len + 2 > cap) {
    char *p = realloc(s, len + 2);
    if (!p) {
      free(s);
      return oom(r->ctx);
    }
    s = p;
  }
  strcpy(s + len, "}");
  *out = s;
  return PM_OK;
}

/* {"layer": "attribution", ...} of the layers used whose plan entry credits its source, for the
 * reports' Sources section; NULL when none does. */
static pm_status attributions(runner *r, char **out) {
  *out = NULL;
  char *buf = NULL;
  size_t len = 0, n = 0;
  FILE *f = NULL;
  for (size_t i = 0; i < r->plan->n_layers; i++) {
    const pm_plan_layer *l = &r->plan->layers[i];
    if (r->missing[i] || !l->attribution) continue;
    if (!f && !(f = open_memstream(&buf, &len))) return oom(r->ctx);
    fputs(n++ ? ", " : "{", f);
    pm__json_string(f, l->name);
    fputs(": ", f);
    pm__json_string(f, l->attribution);
  }
  if (!f) return PM_OK;
  fputc('}', f);
  if (fclose(f) != 0 || !buf) {
    free(buf);
    return oom(r->ctx);
  }
  *out = buf;
  return PM_OK;
}

int pm_run_result_exit_code(const pm_run_result *run) {
  for (size_t i = 0; i < run->n_indicators; i++) {
    const pm_indicator_result *ir = &run->indicators[i];
    for (size_t k = 0; k < ir->n_results; k++) {
      const pm_result *res = &ir->results[k];
      if (res->has_target && res->has_value && !res->met) return 1;
    }
  }
  return 0;
}

/* One attempt at the run (see pm_plan_run). */
static pm_status run_once(pm_context *ctx, const pm_plan *plan, const pm_run_options *opt,
                          pm_run_result **out, pm_run_ingest_log *log) {
  *out = NULL;
  memset(log, 0, sizeof *log);
  runner r = {.ctx = ctx, .plan = plan};
  const char *db = opt->db ? opt->db : plan->db;
  notice_hold hold;
  hold_begin(ctx, &hold);
  char started[32];
  pm_utc_now(started, sizeof started);
  int began = 0;
  pm_run_result *run = NULL;
  char *hashes = NULL;
  r.missing = calloc(plan->n_layers ? plan->n_layers : 1, sizeof *r.missing);
  pm_status st = r.missing ? PM_OK : oom(ctx);
  if (!st) st = pm_store_open(ctx, db, PM_STORE_CREATE, &r.store, NULL);
  if (!st) pm_store_set_timeout(r.store, opt->timeout_s);
  if (!st) st = pm_store_begin(r.store);
  if (!st) began = 1;
  if (!st) st = ingest_layers(&r, log, &hold);
  if (!st) st = pm_cache_create(ctx, r.store, &r.cache);
  if (!st) st = load_districts(&r, opt);
  if (!st) {
    run = calloc(1, sizeof *run);
    if (!run) st = oom(ctx);
  }
  if (!st) {
    const char *crs = NULL;
    char tz[80];
    pm_store_crs(r.store, NULL, &crs);
    if (!(st = pm_strdup(ctx, &run->plan, plan->id)) && !(st = pm_strdup(ctx, &run->title, plan->title)) &&
        !(st = pm_strdup(ctx, &run->crs, crs)) && !(st = pm_strdup(ctx, &run->plan_hash, plan->hash)) &&
        !(st = pm_strdup(ctx, &run->districts_layer, plan->districts_layer)) &&
        !(st = pm_strdup(ctx, &run->timezone,
                         plan->timezone ? plan->timezone : pm_timezone_local(tz, sizeof tz))) &&
        !(st = pm_strdup(ctx, &run->districts_name_field,
                         plan->districts_layer ? plan->districts_name_field : NULL))) {
      run->indicators = calloc(plan->n_indicators ? plan->n_indicators : 1, sizeof *run->indicators);
      if (!run->indicators) st = oom(ctx);
    }
  }
  if (!st) st = attributions(&r, &run->attributions);
  if (!st) {
    pm__context_set_details(ctx, !opt->skip_details);
    st = compute_all(&r, opt->threads, run);
    pm__context_set_details(ctx, 1);
  }
  if (!st) {
    char now[32];
    pm_utc_now(now, sizeof now);
    st = pm_strdup(ctx, &run->generated_at, now);
  }
  if (!st && opt->record) {
    st = input_hashes(&r, &hashes);
    if (!st)
      st = pm_history_record(r.store, run, plan->path, hashes, started,
                             pm_run_result_exit_code(run), &run->run_id);
  }
  if (!st && opt->before_commit) st = opt->before_commit(ctx, run, opt->before_commit_user);
  if (!st) st = pm_store_commit(r.store);
  else if (began) pm_store_rollback(r.store);
  free(hashes);
  for (size_t i = 0; i < r.n_nets; i++) {
    free(r.nets[i].key);
    pm_network_destroy(ctx, r.nets[i].net);
  }
  free(r.nets);
  pm_cache_destroy(r.cache);
  pm_districts_destroy(ctx, r.districts);
  pm_store_close(r.store);
  free(r.missing);
  hold_end(ctx, &hold, st == PM_OK);
  if (st) {
    pm_run_result_destroy(run);
    return st;
  }
  *out = run;
  return PM_OK;
}

pm_status pm_plan_run(pm_context *ctx, const pm_plan *plan, const pm_run_options *opt,
                      pm_run_result **out, pm_run_ingest_log *log) {
  pm_run_ingest_log dummy;
  if (!log) log = &dummy;
  pm_run_options defaults = {.record = 1};
  if (!opt) opt = &defaults;
  pm_status st = run_once(ctx, plan, opt, out, log);
  /* A new project that another process created first: run again, on theirs. */
  if (st == PM_EEXIST) {
    pm_notice(ctx, "%s was created by another planmetrics process meanwhile; running again on it",
              opt->db ? opt->db : plan->db);
    pm_context_clear_error(ctx);
    st = run_once(ctx, plan, opt, out, log);
  }
  return st;
}
