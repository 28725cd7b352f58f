/* runner.c: run a plan: ingest changed layers, load districts, compute each indicator with its
 * metric kind, record the run; all in one transaction. */
#include "planmetrics/runner.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/internal.h"
#include "queries/metric_internal.h"
#include "planmetrics/crs.h"
#include "planmetrics/districts.h"
#include "planmetrics/features.h"
#include "planmetrics/history.h"
#include "planmetrics/ingest.h"
#include "planmetrics/metrics.h"

typedef struct runner {
  pm_context *ctx;
  const pm_plan *plan;
  pm_store *store;
  pm_cache *cache;
  pm_districts *districts;
  int *missing;        /* per plan layer: 1 when an optional layer's file is absent */
} runner;

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

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

static pm_status ingest_layers(runner *r, pm_run_ingest_log *log) {
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
      pm_notice(ctx, "ingested %s: %lld features%s%s", l->name, (long long)rep.n_stored,
                rep.n_repaired ? ", some repaired" : "", rep.n_dropped ? ", some dropped" : "");
    }
    pm_ingest_report_clear(&rep);
  }
  return PM_OK;
}

/* Load a referenced selection through the cache. attr may be NULL. */
static pm_status load_ref(runner *r, const pm_indicator_spec *spec, const pm_layer_ref *ref,
                          const char *attr, const char *attr2, const pm_features **out) {
  *out = NULL;
  int li = layer_index(r->plan, ref->layer);
  const char *attrs[2];
  size_t n_attrs = 0;
  if (attr) attrs[n_attrs++] = attr;
  if (attr2) attrs[n_attrs++] = attr2;
  pm_load_options o = {.where = ref->where,
                       .label_field = li >= 0 ? r->plan->layers[li].label_field : NULL,
                       .attrs = attrs,
                       .n_attrs = n_attrs};
  pm_status st = pm_cache_get(r->cache, ref->layer, &o, out);
  if (st) pm_error_prefix(r->ctx, "%s:%d: indicator %s: ", r->plan->path, spec->line, spec->id);
  return st;
}

/* The first missing layer an indicator needs, or NULL. */
static const char *missing_layer(runner *r, const pm_indicator_spec *s) {
  const pm_layer_ref *refs[] = {&s->layer, &s->from, &s->to, &s->entrances, &s->share_of,
                                &s->of, &s->sources, &s->population};
  for (size_t i = 0; i < PM_ARRAY_LEN(refs); i++) {
    if (!refs[i]->layer) continue;
    int li = layer_index(r->plan, refs[i]->layer);
    if (li >= 0 && r->missing[li]) return refs[i]->layer;
  }
  const pm_layer_refs *lists[] = {&s->within, &s->near, &s->by};
  for (size_t k = 0; k < PM_ARRAY_LEN(lists); k++)
    for (size_t i = 0; i < lists[k]->n; i++) {
      int li = layer_index(r->plan, lists[k]->v[i].layer);
      if (li >= 0 && r->missing[li]) return lists[k]->v[i].layer;
    }
  return NULL;
}

static pm_status load_refs(runner *r, const pm_indicator_spec *spec, const pm_layer_refs *refs,
                           const pm_features ***out) {
  *out = calloc(refs->n ? refs->n : 1, sizeof **out);
  if (!*out) return oom(r->ctx);
  for (size_t i = 0; i < refs->n; i++) {
    pm_status st = load_ref(r, spec, &refs->v[i], NULL, NULL, &(*out)[i]);
    if (st) return st;
  }
  return PM_OK;
}

/* An indicator that is not computed: every slot null with the reason. */
static pm_status not_computed(pm_context *ctx, const pm_districts *d, const pm_indicator_spec *spec,
                              pm_indicator_status status, const char *reason,
                              pm_indicator_result *out) {
  pm_status st = pm__metric_begin(ctx, spec, spec->metric, NULL, d, out);
  if (st) return st;
  out->status = status;
  if ((st = pm_strdup(ctx, &out->status_reason, reason))) return st;
  for (size_t i = 0; i < out->n_results; i++)
    if ((st = pm_strdup(ctx, &out->results[i].null_reason, reason))) return st;
  return pm__metric_finish(ctx, out);
}

static pm_status manual(pm_context *ctx, const pm_districts *d, const pm_indicator_spec *spec,
                        pm_indicator_result *out) {
  pm_status st = pm__metric_begin(ctx, spec, spec->metric, NULL, d, out);
  if (st) return st;
  out->status = PM_IND_MANUAL;
  if ((st = pm_strdup(ctx, &out->status_reason, "reported in the plan file, not measured")))
    return st;
  /* A manual figure is reported for the plan as a whole: it is the plan area's value, and a
   * single district's when the plan covers one district. */
  for (size_t i = 0; i < out->n_results; i++) {
    pm_result *res = &out->results[i];
    if (!spec->has_manual_value) {
      if ((st = pm_strdup(ctx, &res->null_reason, "not reported yet (value: null in the plan file)")))
        return st;
      continue;
    }
    if (i == out->n_results - 1 || out->n_results == 2) {
      res->has_value = 1;
      res->value = spec->manual_value;
      res->numerator = spec->manual_value;
    } else if ((st = pm_strdup(ctx, &res->null_reason,
                               "a manual figure is reported for the whole plan area only"))) {
      return st;
    }
  }
  return pm__metric_finish(ctx, out);
}

/* One indicator's work: its inputs, loaded on the main thread (one database connection), then
 * computed on any thread. */
typedef enum { JOB_METRIC, JOB_MANUAL, JOB_NO_DATA } job_kind;

typedef struct job {
  const pm_indicator_spec *spec;
  job_kind kind;
  char reason[512];
  const pm_features *a, *b, *c;   /* the metric's inputs, see execute() */
  const pm_features **l1, **l2;   /* within/by, near */
  int wide;                       /* splits its own work over the threads, see compute_all() */
  pm_status st;                   /* outcome of execute() */
  char *msg;                      /* its error message (heap) */
} job;

static void job_clear(job *j) {
  free(j->l1);
  free(j->l2);
  free(j->msg);
}

/* Load everything an indicator needs through the cache (main thread only). */
static pm_status prepare(runner *r, const pm_indicator_spec *spec, job *j) {
  memset(j, 0, sizeof *j);
  j->spec = spec;
  const char *m = spec->metric;
  if (strcmp(m, "manual") == 0) {
    j->kind = JOB_MANUAL;
    return PM_OK;
  }
  const char *gone = missing_layer(r, spec);
  if (gone) {
    int li = layer_index(r->plan, gone);
    j->kind = JOB_NO_DATA;
    snprintf(j->reason, sizeof j->reason, "no data: layer %s (%s) is not in the data", gone,
             li >= 0 ? r->plan->layers[li].path : "?");
    return PM_OK;
  }
  pm_status st = PM_OK;
  if (strcmp(m, "transfer_coverage") == 0) {
    const char *routes = spec->basis && strcmp(spec->basis, "route") == 0 ? spec->routes_field : NULL;
    if (!(st = load_ref(r, spec, &spec->from, NULL, NULL, &j->a)) &&
        !(st = load_ref(r, spec, &spec->to, routes, NULL, &j->b)) && spec->entrances.layer)
      st = load_ref(r, spec, &spec->entrances, spec->entrance_station_field, NULL, &j->c);
  } else if (strcmp(m, "length") == 0) {
    if (!(st = load_ref(r, spec, &spec->layer, NULL, NULL, &j->a)) &&
        !(st = load_refs(r, spec, &spec->within, &j->l1)) &&
        !(st = load_refs(r, spec, &spec->near, &j->l2)) && spec->share_of.layer)
      st = load_ref(r, spec, &spec->share_of, NULL, NULL, &j->c);
  } else if (strcmp(m, "coverage") == 0) {
    if (!(st = load_ref(r, spec, &spec->sources, NULL, NULL, &j->a)) && spec->population.layer)
      st = load_ref(r, spec, &spec->population, spec->weight_field, NULL, &j->b);
    /* Land measured by area: the heaviest overlay work of a plan, shared out by pm_coverage. */
    j->wide = !st && j->b && j->b->kind == PM_KIND_POLYGON && !spec->weight_field;
  } else if (strcmp(m, "area_share") == 0) {
    if (!(st = load_ref(r, spec, &spec->layer, NULL, NULL, &j->a)) && spec->of.layer)
      st = load_ref(r, spec, &spec->of, NULL, NULL, &j->b);
  } else if (strcmp(m, "count") == 0) {
    st = load_ref(r, spec, &spec->layer, NULL, NULL, &j->a);
  } else if (strcmp(m, "line_coverage") == 0) {
    if (!(st = load_ref(r, spec, &spec->layer, NULL, NULL, &j->a)))
      st = load_refs(r, spec, &spec->by, &j->l1);
  } else {
    st = pm_error(r->ctx, PM_EINPUT, "%s:%d: indicator %s: unknown metric '%s'", r->plan->path,
                  spec->line, spec->id, m);
  }
  return st;
}

/* Compute one prepared indicator with this thread's context and districts. Inputs are only read. */
static pm_status execute(pm_context *ctx, const pm_districts *d, const job *j,
                         pm_indicator_result *out) {
  const pm_indicator_spec *spec = j->spec;
  const char *m = spec->metric;
  if (j->kind == JOB_MANUAL) return manual(ctx, d, spec, out);
  if (j->kind == JOB_NO_DATA) return not_computed(ctx, d, spec, PM_IND_NO_DATA, j->reason, out);
  if (strcmp(m, "transfer_coverage") == 0)
    return pm_transfer_coverage(ctx, spec, j->a, j->b, j->c, d, out);
  if (strcmp(m, "length") == 0)
    return pm_length(ctx, spec, j->a, j->l1, spec->within.n, j->l2, spec->near.n, j->c, d, out);
  if (strcmp(m, "coverage") == 0) return pm_coverage(ctx, spec, j->a, j->b, d, out);
  if (strcmp(m, "area_share") == 0) return pm_area_share(ctx, spec, j->a, j->b, d, out);
  if (strcmp(m, "count") == 0) return pm_count(ctx, spec, j->a, d, out);
  return pm_line_coverage(ctx, spec, j->a, j->l1, spec->by.n, d, out);
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
  pm_districts_free(ctx, state);
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
    const pm_indicator_spec *s = j->spec;
    size_t n1 = j->l1 ? s->within.n + s->by.n : 0, n2 = j->l2 ? s->near.n : 0;
    if (pm__grow(r->ctx, (void **)&keep, &cap, nk + 3 + n1 + n2, sizeof *keep)) {
      free(keep);
      pm_context_clear_error(r->ctx);
      return;
    }
    keep[nk++] = j->a;
    keep[nk++] = j->b;
    keep[nk++] = j->c;
    for (size_t q = 0; q < n1; q++) keep[nk++] = j->l1[q];
    for (size_t q = 0; q < n2; q++) keep[nk++] = j->l2[q];
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
        if (!strstr(pm_context_message(ctx), plan->path))
          pm_error_prefix(ctx, "%s:%d: indicator %s: ", plan->path, spec->line, spec->id);
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

pm_status pm_plan_run(pm_context *ctx, const pm_plan *plan, const pm_run_options *opt,
                      pm_run_result **out, pm_run_ingest_log *log) {
  *out = NULL;
  pm_run_ingest_log dummy;
  if (!log) log = &dummy;
  memset(log, 0, sizeof *log);
  pm_run_options defaults = {.record = 1};
  if (!opt) opt = &defaults;
  runner r = {.ctx = ctx, .plan = plan};
  const char *db = opt->db ? opt->db : plan->db;
  char started[32];
  pm_utc_now(started, sizeof started);
  int created = 0, began = 0;
  pm_run_result *run = NULL;
  char *hashes = NULL;
  r.missing = calloc(plan->n_layers ? plan->n_layers : 1, sizeof *r.missing);
  pm_status st = r.missing ? PM_OK : oom(ctx);
  if (!st) st = pm_store_open(ctx, db, PM_STORE_CREATE, &r.store, &created);
  if (!st) st = pm_store_begin(r.store);
  if (!st) began = 1;
  if (!st) st = ingest_layers(&r, log);
  if (!st) st = pm_cache_create(ctx, r.store, &r.cache);
  if (!st) st = load_districts(&r, opt);
  if (!st) {
    run = calloc(1, sizeof *run);
    if (!run) st = oom(ctx);
  }
  if (!st) {
    const char *crs = NULL;
    pm_store_crs(r.store, NULL, &crs);
    if (!(st = pm_strdup(ctx, &run->plan, plan->id)) && !(st = pm_strdup(ctx, &run->title, plan->title)) &&
        !(st = pm_strdup(ctx, &run->crs, crs)) && !(st = pm_strdup(ctx, &run->plan_hash, plan->hash))) {
      run->indicators = calloc(plan->n_indicators ? plan->n_indicators : 1, sizeof *run->indicators);
      if (!run->indicators) st = oom(ctx);
    }
  }
  if (!st) st = compute_all(&r, opt->threads, run);
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
  pm_cache_destroy(r.cache);
  pm_districts_free(ctx, r.districts);
  pm_store_close(r.store);
  free(r.missing);
  if (st) {
    if (created) unlink(db);
    pm_run_result_free(run);
    return st;
  }
  *out = run;
  return PM_OK;
}
