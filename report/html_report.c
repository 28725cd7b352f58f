/* html_report.c: one self-contained HTML page for a recorded run: charts, maps, gap lists, history. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/html_internal.h"
#include "report/output.h"
#include "report/sources.h"
#include "engine/internal.h"
#include "store/store_internal.h"
#include "planmetrics/history.h"
#include "planmetrics/metrics.h"
#include "planmetrics/planmetrics.h"
#include "planmetrics/report.h"
#include "planmetrics/result.h"

#define MAP_W 960.0
#define MAP_MAX_H 620.0
#define MAP_PAD 16.0
#define SIMPLIFY_PX 0.5
#define BUDGET_PASS 150000L /* coordinates of passing and neutral features per map */
#define BUDGET_FAIL 400000L /* coordinates of failing features per map */
#define MAX_TITLED 4000     /* up to this many details per map, each feature has a hover title */
#define GAP_ROWS 50
#define HIST_MAX_RUNS 24
#define MAX_LABELS 300      /* station and park names per map */
#define LABELS_AT_1 30      /* names shown before zooming; zoomed in z times, 30 z^2 */

/* ---------- page state ---------- */

typedef struct dshape {
  const char *name; /* borrowed from the run's results */
  GEOSGeometry *g;
  int label;        /* 1: the largest part of its district carries the name */
  double lx, ly;    /* label point (map units) */
  double area;
} dshape;

typedef struct page {
  pm_context *ctx;
  GEOSContextHandle_t h;
  pm_store *store;
  pm_run_result *run;
  pm_indicator_spec *specs; /* per indicator of the run: its recorded parameters */
  int *has_spec;            /* 0: not recorded (planmetrics 0.1) or unreadable */
  dshape *dist;
  size_t n_dist;
  char *dist_layer, *dist_field; /* where the outlines came from */
  pm_history_run *runs;    /* runs of the plan, oldest first */
  size_t n_runs;
  size_t h0, hn;           /* runs[h0 .. h0+hn) are shown in history charts (up to this run) */
  pm_history_row *rows;
  size_t n_rows;
  GEOSWKBReader *reader;
  pm__hbuf b;
  int map_seq;
  pm__basemap *base;       /* the base map's layers */
  struct drawn_base {      /* base maps already on the page: a map with the same view reuses one */
    pm__html_view v;
    int id;
    size_t skipped;
  } *bases;
  size_t n_bases, cap_bases;
  pm__source *src;         /* the run's input layers */
  size_t n_src;
  int osm;                 /* some input layer is OpenStreetMap data: credit it */
} page;

static pm_status oom(page *p) {
  return pm_error(p->ctx, PM_ENOMEM, "out of memory while writing the HTML report");
}

static const char *all_label(const char *district) {
  return !district ? "—" : strcmp(district, "_all") == 0 ? "全部 _all" : district;
}

static int is_all(const char *district) { return district && strcmp(district, "_all") == 0; }

/* A number for people: up to 2 decimals, trailing zeros removed. */
static const char *num2(double v, char *buf, size_t size) {
  buf[0] = '\0';
  if (!isfinite(v)) return buf;
  snprintf(buf, size, "%.2f", v);
  char *dot = strchr(buf, '.');
  if (dot) {
    char *e = buf + strlen(buf) - 1;
    while (e > dot && *e == '0') *e-- = '\0';
    if (e == dot) *e = '\0';
  }
  if (strcmp(buf, "-0") == 0) strcpy(buf, "0");
  return buf;
}

/* num2 with thousands separators ("642,003,568.62") for big table numbers. */
static const char *num2k(double v, char *buf, size_t size) {
  char t[64];
  num2(v, t, sizeof t);
  const char *digits = t[0] == '-' ? t + 1 : t;
  size_t int_len = strcspn(digits, ".");
  if (int_len <= 4 || size < strlen(t) + int_len / 3 + 1) {
    snprintf(buf, size, "%s", t);
    return buf;
  }
  char *o = buf;
  if (t[0] == '-') *o++ = '-';
  for (size_t i = 0; i < int_len; i++) {
    if (i && (int_len - i) % 3 == 0) *o++ = ',';
    *o++ = digits[i];
  }
  strcpy(o, digits + int_len);
  return buf;
}

static const char *op_symbol(const char *op) {
  if (!op || !*op) return "";
  if (strcmp(op, ">=") == 0) return "≥";
  if (strcmp(op, "<=") == 0) return "≤";
  if (strcmp(op, "==") == 0) return "=";
  return op;
}

static const char *unit_of(const pm_indicator_result *ir) { return ir->unit ? ir->unit : ""; }

/* A recorded UTC time in the run's time zone, with its offset ("2026-01-01 16:00 +08:00"). */
static const char *local_time(const page *p, const char *utc, char *buf, size_t n) {
  if (!utc) {
    buf[0] = '\0';
    return buf;
  }
  return pm_time_in_zone(utc, p->run->timezone, buf, n);
}

static void value_text(const pm_indicator_result *ir, const pm_result *r, char *buf, size_t n) {
  buf[0] = '\0';
  if (!r->has_value) return;
  const char *op = r->has_target && isfinite(r->target) ? ir->target_op : NULL;
  pm_report_format_value(r->value, unit_of(ir), op, r->target, buf, n);
}

static void target_text(const pm_indicator_result *ir, double target, char *buf, size_t n) {
  char v[64];
  pm_report_format_value(target, unit_of(ir), NULL, NAN, v, sizeof v);
  snprintf(buf, n, "%s %s", op_symbol(ir->target_op), v);
}

/* "nice" round numbers for chart axes: 1, 2, 2.5, 5 times a power of ten, at least x. */
static double nice_ceil(double x) {
  if (!(x > 0)) return 1;
  double p = pow(10, floor(log10(x)));
  const double steps[] = {1, 2, 2.5, 5, 10};
  for (size_t i = 0; i < 5; i++)
    if (steps[i] * p >= x * (1 - 1e-12)) return steps[i] * p;
  return 10 * p;
}

/* ---------- verdicts ---------- */

enum { V_MET, V_MISSED, V_NODATA, V_NONE };

static int verdict(const pm_indicator_result *ir) {
  if (ir->status == PM_IND_NO_DATA) return V_NODATA;
  int any = 0;
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    if (!r->has_target || !r->has_value) continue;
    if (!r->met) return V_MISSED;
    any = 1;
  }
  return any ? V_MET : V_NONE;
}

static void badge(page *p, const pm_indicator_result *ir) {
  switch (verdict(ir)) {
    case V_MET: pm__hbuf_put(&p->b, "<span class=\"badge met\">达标 met</span>"); break;
    case V_MISSED: pm__hbuf_put(&p->b, "<span class=\"badge missed\">未达标 missed</span>"); break;
    case V_NODATA: pm__hbuf_put(&p->b, "<span class=\"badge nodata\">无数据 no data</span>"); break;
    default:
      if (ir->status == PM_IND_MANUAL)
        pm__hbuf_put(&p->b, "<span class=\"badge none\">手工填报 manual</span>");
      else if (ir->has_target)
        pm__hbuf_put(&p->b, "<span class=\"badge nodata\">无数值 no value</span>");
      else
        pm__hbuf_put(&p->b, "<span class=\"badge none\">无目标 no target</span>");
  }
}

static const char *row_class(const pm_result *r) {
  if (!r->has_value) return "na";
  if (!r->has_target || !isfinite(r->target)) return "none";
  return r->met ? "met" : "missed";
}

static const pm_result *result_all(const pm_indicator_result *ir) {
  for (size_t i = 0; i < ir->n_results; i++)
    if (is_all(ir->results[i].district)) return &ir->results[i];
  return NULL;
}

/* ---------- the run's parameters, as recorded ---------- */

/* Read every indicator's recorded parameters. A run recorded by planmetrics 0.1 has none: the
 * page then says what is missing, and how to get it, once. */
static pm_status load_specs(page *p) {
  size_t n = p->run->n_indicators;
  p->specs = calloc(n ? n : 1, sizeof *p->specs);
  p->has_spec = calloc(n ? n : 1, sizeof *p->has_spec);
  if (!p->specs || !p->has_spec) return oom(p);
  size_t missing = 0;
  for (size_t i = 0; i < n; i++) {
    const char *json = p->run->indicators[i].params;
    if (json && pm_indicator_spec_from_json(p->ctx, json, &p->specs[i]) == PM_OK)
      p->has_spec[i] = 1;
    else
      missing++;
    pm_context_clear_error(p->ctx);
  }
  if (missing)
    pm_notice(p->ctx,
              "run %lld was recorded without the parameters of %zu indicator(s) (by planmetrics "
              "0.1): map legends use the default thresholds; run the plan again to record them",
              (long long)p->run->run_id, missing);
  return PM_OK;
}

static const pm_indicator_spec *run_spec(const page *p, const pm_indicator_result *ir) {
  size_t k = (size_t)(ir - p->run->indicators);
  return k < p->run->n_indicators && p->has_spec[k] ? &p->specs[k] : NULL;
}

/* The transfer threshold the run used; for a run without recorded parameters the registry's
 * default. *how says which, for the legend. */
static double transfer_threshold(const page *p, const pm_indicator_result *ir, const char **how) {
  const pm_indicator_spec *spec = run_spec(p, ir);
  if (spec && isfinite(spec->threshold_m)) {
    *how = "来自运行参数 from the run's parameters";
    return spec->threshold_m;
  }
  const pm_param *prm = pm_metric_param(pm_metric_kind_find(ir->metric), "threshold_m");
  double v = NAN;
  if (prm && prm->dflt) pm__parse_decimal(prm->dflt, 0, &v);
  *how = "默认值（运行未记录参数） default: the run did not record its parameters";
  return v;
}

/* ---------- district outlines ---------- */

typedef struct names {
  const char **v;
  size_t n, cap;
} names;

static int names_has(const names *ns, const char *s) {
  for (size_t i = 0; i < ns->n; i++)
    if (strcmp(ns->v[i], s) == 0) return 1;
  return 0;
}

static const char *names_find(const names *ns, const char *s) {
  for (size_t i = 0; i < ns->n; i++)
    if (strcmp(ns->v[i], s) == 0) return ns->v[i];
  return NULL;
}

static pm_status read_districts(page *p, const char *layer, const char *field, const names *ns) {
  char *l = pm__sql_ident(layer), *f = pm__sql_ident(field), *sql = NULL;
  pm_status st = (!l || !f) ? oom(p)
                            : pm_asprintf(p->ctx, &sql,
                                          "SELECT %s, AsBinary(geom) FROM %s WHERE geom IS NOT NULL",
                                          f, l);
  free(l);
  free(f);
  if (st) return st;
  sqlite3_stmt *q = NULL;
  st = pm__store_prepare(p->store, "reading the district outlines", sql, &q);
  free(sql);
  if (st) return st;
  size_t cap = 0;
  while (!st && sqlite3_step(q) == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(q, 0);
    const char *name = v ? names_find(ns, v) : NULL;
    const unsigned char *wkb = sqlite3_column_blob(q, 1);
    int len = sqlite3_column_bytes(q, 1);
    if (!name || !wkb || len <= 0) continue;
    GEOSGeometry *g = GEOSWKBReader_read_r(p->h, p->reader, wkb, (size_t)len);
    if (!g) continue; /* an unreadable outline only loses the base map */
    if ((st = pm__grow(p->ctx, (void **)&p->dist, &cap, p->n_dist + 1, sizeof *p->dist))) {
      GEOSGeom_destroy_r(p->h, g);
      break;
    }
    dshape *d = &p->dist[p->n_dist++];
    memset(d, 0, sizeof *d);
    d->name = name;
    d->g = g;
    if (!GEOSArea_r(p->h, g, &d->area)) d->area = 0;
  }
  sqlite3_finalize(q);
  if (st) return st;
  if (!(p->dist_layer = strdup(layer)) || !(p->dist_field = strdup(field))) return oom(p);
  /* Label the largest part of each district at a point inside it. */
  for (size_t i = 0; i < p->n_dist; i++) {
    size_t best = i;
    int first = 1;
    for (size_t j = 0; j < p->n_dist; j++) {
      if (strcmp(p->dist[j].name, p->dist[i].name) != 0) continue;
      if (j < i) first = 0;
      if (p->dist[j].area > p->dist[best].area) best = j;
    }
    if (!first) continue;
    GEOSGeometry *pt = GEOSPointOnSurface_r(p->h, p->dist[best].g);
    if (pt && GEOSisEmpty_r(p->h, pt) == 0 && GEOSGeomGetX_r(p->h, pt, &p->dist[best].lx) &&
        GEOSGeomGetY_r(p->h, pt, &p->dist[best].ly))
      p->dist[best].label = 1;
    if (pt) GEOSGeom_destroy_r(p->h, pt);
  }
  return PM_OK;
}

/* The outlines of the run's districts, from the districts layer the run recorded. */
static pm_status load_districts(page *p) {
  names ns = {0};
  pm_status st = PM_OK;
  for (size_t i = 0; i < p->run->n_indicators && !st; i++) {
    const pm_indicator_result *ir = &p->run->indicators[i];
    for (size_t k = 0; k < ir->n_results && !st; k++) {
      const char *d = ir->results[k].district;
      if (!d || is_all(d) || names_has(&ns, d)) continue;
      if (!(st = pm__grow(p->ctx, (void **)&ns.v, &ns.cap, ns.n + 1, sizeof *ns.v))) ns.v[ns.n++] = d;
    }
  }
  if (!st && ns.n && !p->run->districts_layer)
    pm_notice(p->ctx,
              "run %lld did not record its districts layer (planmetrics 0.1): the maps have no "
              "district outlines; run the plan again to record it",
              (long long)p->run->run_id);
  else if (!st && ns.n) {
    st = read_districts(p, p->run->districts_layer,
                        p->run->districts_name_field ? p->run->districts_name_field : "NAME", &ns);
    if (st) {
      /* the layer was dropped or changed since the run: only the outlines are lost */
      pm_notice(p->ctx, "district outlines left out: %s", pm_context_message(p->ctx));
      pm_context_clear_error(p->ctx);
      st = PM_OK;
    }
  }
  free(ns.v);
  return st;
}

/* ---------- history ---------- */

static pm_status load_history(page *p) {
  if (!p->run->plan) return PM_OK;
  pm_status st = pm_history_runs(p->store, p->run->plan, &p->runs, &p->n_runs);
  if (st) return st;
  /* Charts show the runs up to the reported one: a report of run 3 never shows run 4. */
  size_t end = 0;
  while (end < p->n_runs && p->runs[end].run_id <= p->run->run_id) end++;
  p->h0 = end > HIST_MAX_RUNS ? end - HIST_MAX_RUNS : 0;
  p->hn = end - p->h0;
  if (p->hn < 2) {
    p->hn = 0;
    return PM_OK;
  }
  return pm_history_list(p->store, p->run->plan, &p->rows, &p->n_rows);
}

/* ---------- bar chart ---------- */

#define BAR_W 960.0
#define BAR_LABEL_X 150.0
#define BAR_X0 162.0
#define BAR_X1 690.0
#define BAR_VAL_X 702.0
#define BAR_TOP 30.0
#define BAR_ROW 28.0
#define BAR_H 16.0

typedef struct axis {
  double lo, hi;
} axis;

static axis value_axis(const pm_indicator_result *ir) {
  double lo = 0, hi = 0;
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    if (r->has_value && isfinite(r->value)) {
      if (r->value > hi) hi = r->value;
      if (r->value < lo) lo = r->value;
    }
    if (r->has_target && isfinite(r->target)) {
      if (r->target > hi) hi = r->target;
      if (r->target < lo) lo = r->target;
    }
  }
  if (ir->has_target && isfinite(ir->target_value)) {
    if (ir->target_value > hi) hi = ir->target_value;
    if (ir->target_value < lo) lo = ir->target_value;
  }
  axis a;
  a.hi = hi > 0 ? nice_ceil(hi * 1.06) : (lo < 0 ? 0 : 1);
  if (strcmp(unit_of(ir), "%") == 0) {
    if (hi == 0 && lo == 0) a.hi = 100;
    if (hi <= 100 && a.hi > 100) a.hi = 100;
  }
  a.lo = lo < 0 ? -nice_ceil(-lo * 1.06) : 0;
  return a;
}

static double bar_x(axis a, double v) {
  if (v < a.lo) v = a.lo;
  if (v > a.hi) v = a.hi;
  return BAR_X0 + (v - a.lo) / (a.hi - a.lo) * (BAR_X1 - BAR_X0);
}

static void bar_chart(page *p, const pm_indicator_result *ir) {
  pm__hbuf *b = &p->b;
  axis a = value_axis(ir);
  size_t n = ir->n_results;
  int nodata = ir->status == PM_IND_NO_DATA;
  size_t rows = n ? n : 1;
  int sep = n > 1 && is_all(ir->results[n - 1].district);
  double bottom = BAR_TOP + (double)rows * BAR_ROW + (sep ? 10 : 0);
  double hgt = bottom + 24;
  char v[96], t[96], tmp[64];
  pm__hbuf_printf(b,
                 "<svg class=\"bars\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" role=\"img\" "
                 "aria-label=\"各区数值与目标 values per district against the target\">\n",
                 BAR_W, hgt, BAR_W, hgt);
  /* grid and axis ticks */
  for (int k = 0; k <= 4; k++) {
    double tv = a.lo + (a.hi - a.lo) * k / 4.0, x = bar_x(a, tv);
    pm__hbuf_printf(b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\"/>", x,
                   BAR_TOP - 4, x, bottom);
    pm__hbuf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">", x,
                   bottom + 16);
    pm__hbuf_esc(b, num2(tv, tmp, sizeof tmp));
    if (k == 4 && *unit_of(ir) && strcmp(unit_of(ir), "count") != 0) {
      pm__hbuf_put(b, " ");
      pm__hbuf_esc(b, unit_of(ir));
    }
    pm__hbuf_put(b, "</text>");
  }
  pm__hbuf_printf(b, "<line class=\"axis\" x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\"/>\n",
                 bar_x(a, 0), BAR_TOP - 4, bar_x(a, 0), bottom);
  int footnote = 0;
  for (size_t i = 0; i < rows; i++) {
    const pm_result *r = n ? &ir->results[i] : NULL;
    const char *dn = r ? r->district : "_all";
    double y = BAR_TOP + (double)i * BAR_ROW + ((sep && i == n - 1) ? 10 : 0);
    if (sep && i == n - 1)
      pm__hbuf_printf(b, "<line class=\"grid\" x1=\"0\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/>", y - 5,
                     BAR_W, y - 5);
    pm__hbuf_printf(b, "<text class=\"lab%s\" x=\"%g\" y=\"%g\" text-anchor=\"end\">",
                   is_all(dn) ? " all" : "", BAR_LABEL_X, y + BAR_H / 2 + 5);
    pm__hbuf_esc(b, all_label(dn));
    pm__hbuf_put(b, "</text>");
    if (!r || !r->has_value || nodata) {
      pm__hbuf_printf(b, "<rect class=\"bar na\" x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" rx=\"2\">",
                     BAR_X0, y + 1, BAR_X1 - BAR_X0, BAR_H);
      const char *why = nodata ? ir->status_reason : r ? r->null_reason : NULL;
      pm__hbuf_put(b, "<title>");
      pm__hbuf_esc(b, why ? why : "无数值 no value");
      pm__hbuf_put(b, "</title></rect>");
      pm__hbuf_printf(b, "<text class=\"val na\" x=\"%g\" y=\"%g\">", BAR_X0 + 8, y + BAR_H / 2 + 5);
      if (nodata) {
        pm__hbuf_put(b, "无数据 no data");
      } else {
        pm__hbuf_put(b, "无数值 no value");
        if (r && r->null_reason) pm__hbuf_printf(b, " [%d]", ++footnote);
      }
      pm__hbuf_put(b, "</text>\n");
      continue;
    }
    double x0 = bar_x(a, 0), x1 = bar_x(a, r->value);
    double bx = x0 < x1 ? x0 : x1, bw = fabs(x1 - x0);
    value_text(ir, r, v, sizeof v);
    pm__hbuf_printf(b,
                   "<rect class=\"bar %s\" x=\"%.1f\" y=\"%g\" width=\"%.1f\" height=\"%g\" "
                   "rx=\"2\"><title>",
                   row_class(r), bx, y + 1, bw < 1 && r->value != 0 ? 1.0 : bw, BAR_H);
    pm__hbuf_esc(b, all_label(dn));
    pm__hbuf_put(b, ": ");
    pm__hbuf_esc(b, v);
    pm__hbuf_put(b, "</title></rect>");
    if (r->has_target && isfinite(r->target) &&
        !(ir->has_target && fabs(r->target - ir->target_value) <= 1e-12 * fmax(1, fabs(r->target)))) {
      double tx = bar_x(a, r->target);
      pm__hbuf_printf(b, "<line class=\"tgt\" x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\"/>", tx,
                     y - 2, tx, y + BAR_H + 3);
    }
    pm__hbuf_printf(b, "<text class=\"val\" x=\"%g\" y=\"%g\">", BAR_VAL_X, y + BAR_H / 2 + 5);
    pm__hbuf_esc(b, v);
    if (r->has_target && isfinite(r->target))
      pm__hbuf_put(b, r->met ? " ✓" : " ✗");
    if (r->has_ratio && isfinite(r->numerator) && isfinite(r->denominator)) {
      char nb[48], db[48];
      pm__hbuf_printf(b, "  (%s / %s)", num2k(r->numerator, nb, sizeof nb),
                     num2k(r->denominator, db, sizeof db));
    }
    pm__hbuf_put(b, "</text>\n");
  }
  if (ir->has_target && isfinite(ir->target_value)) {
    double tx = bar_x(a, ir->target_value);
    target_text(ir, ir->target_value, t, sizeof t);
    const char *anchor = tx > BAR_X1 - 70 ? "end" : tx < BAR_X0 + 70 ? "start" : "middle";
    pm__hbuf_printf(b, "<line class=\"tgt\" x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\"/>", tx,
                   BAR_TOP - 8, tx, bottom);
    pm__hbuf_printf(b, "<text class=\"tlab\" x=\"%.1f\" y=\"%g\" text-anchor=\"%s\">目标 target ",
                   tx, BAR_TOP - 13, anchor);
    pm__hbuf_esc(b, t);
    pm__hbuf_put(b, "</text>\n");
  }
  pm__hbuf_put(b, "</svg>\n");
  if (nodata) {
    pm__hbuf_put(b, "<p class=\"note\">无数据 no data: ");
    pm__hbuf_esc(b, ir->status_reason ? ir->status_reason : "a layer it needs is missing");
    pm__hbuf_put(b, "</p>\n");
  } else if (footnote) {
    pm__hbuf_put(b, "<ol class=\"reasons\">");
    for (size_t i = 0; i < n; i++) {
      const pm_result *r = &ir->results[i];
      if (r->has_value || !r->null_reason) continue;
      pm__hbuf_put(b, "<li>");
      pm__hbuf_esc(b, all_label(r->district));
      pm__hbuf_put(b, ": ");
      pm__hbuf_esc(b, r->null_reason);
      pm__hbuf_put(b, "</li>");
    }
    pm__hbuf_put(b, "</ol>\n");
  }
}

/* ---------- values table ---------- */

static void values_table(page *p, const pm_indicator_result *ir) {
  if (!ir->n_results) return;
  pm__hbuf *b = &p->b;
  char v[96], t[96], nb[48], db[48];
  pm__hbuf_put(b, "<details><summary>数值表 values table</summary><table class=\"values\"><thead><tr>"
                 "<th>区 district</th><th class=\"num\">值 value</th><th class=\"num\">分子 "
                 "numerator</th><th class=\"num\">分母 denominator</th><th class=\"num\">目标 "
                 "target</th><th>结果 met</th><th class=\"num\">缺口 gaps</th><th>说明 note</th>"
                 "</tr></thead><tbody>\n");
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    value_text(ir, r, v, sizeof v);
    t[0] = '\0';
    if (r->has_target && isfinite(r->target)) target_text(ir, r->target, t, sizeof t);
    pm__hbuf_put(b, "<tr><td>");
    pm__hbuf_esc(b, all_label(r->district));
    pm__hbuf_put(b, "</td><td class=\"num\">");
    pm__hbuf_esc(b, v);
    pm__hbuf_put(b, "</td><td class=\"num\">");
    pm__hbuf_esc(b, r->has_ratio || isfinite(r->numerator) ? num2k(r->numerator, nb, sizeof nb) : "");
    pm__hbuf_put(b, "</td><td class=\"num\">");
    pm__hbuf_esc(b, r->has_ratio ? num2k(r->denominator, db, sizeof db) : "");
    pm__hbuf_put(b, "</td><td class=\"num\">");
    pm__hbuf_esc(b, t);
    pm__hbuf_put(b, "</td><td>");
    const char *rc = row_class(r);
    pm__hbuf_put(b, strcmp(rc, "met") == 0      ? "✓ 达标"
                   : strcmp(rc, "missed") == 0 ? "✗ 未达标"
                                               : "");
    pm__hbuf_printf(b, "</td><td class=\"num\">%zu</td><td>", r->n_gaps);
    pm__hbuf_esc(b, r->has_value ? "" : r->null_reason);
    pm__hbuf_put(b, "</td></tr>\n");
    for (size_t k = 0; k < r->n_classes; k++) {
      pm__hbuf_put(b, "<tr class=\"cls\"><td></td><td colspan=\"7\">· ");
      pm__hbuf_esc(b, r->classes[k].label);
      pm__hbuf_printf(b, ": %lld</td></tr>\n", (long long)r->classes[k].count);
    }
  }
  pm__hbuf_put(b, "</tbody></table></details>\n");
}

/* life_circle: the share of homes served by each facility type, per district (a small table, as
 * the type a district lacks is what a planner acts on). Types in the order of the first result. */
static void facilities_table(page *p, const pm_indicator_result *ir) {
  const pm_result *first = NULL;
  for (size_t i = 0; i < ir->n_results && !first; i++)
    if (ir->results[i].n_facilities) first = &ir->results[i];
  if (!first) return;
  pm__hbuf *b = &p->b;
  char v[64];
  pm__hbuf_put(b, "<table class=\"values facilities\"><caption>各类设施服务比例 share of homes "
                 "served by each facility type</caption><thead><tr><th>区 district</th>");
  for (size_t k = 0; k < first->n_facilities; k++) {
    pm__hbuf_put(b, "<th class=\"num\">");
    pm__hbuf_esc(b, first->facilities[k].name);
    pm__hbuf_put(b, "</th>");
  }
  pm__hbuf_put(b, "</tr></thead><tbody>\n");
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    if (!r->n_facilities) continue;
    pm__hbuf_put(b, "<tr><td>");
    pm__hbuf_esc(b, all_label(r->district));
    pm__hbuf_put(b, "</td>");
    for (size_t k = 0; k < first->n_facilities; k++) {
      const pm_facility_share *x = NULL;
      for (size_t q = 0; q < r->n_facilities && !x; q++)
        if (strcmp(r->facilities[q].name, first->facilities[k].name) == 0) x = &r->facilities[q];
      v[0] = '\0';
      if (x && x->has_value) pm_report_format_value(x->value, "%", NULL, NAN, v, sizeof v);
      pm__hbuf_put(b, "<td class=\"num\">");
      pm__hbuf_esc(b, x && x->has_value ? v : "—");
      pm__hbuf_put(b, "</td>");
    }
    pm__hbuf_put(b, "</tr>\n");
  }
  pm__hbuf_put(b, "</tbody></table>\n");
}

/* ---------- maps ---------- */

enum { K_FILL, K_LINE, K_POINT, K_CIRCLE };

/* Styles in drawing order (bottom first). */
enum {
  S_FILL_PASS, S_FILL_MEAS, S_FILL_OTHER, S_FILL_FAIL, S_FILL_SRC, S_FILL_IGN,
  S_OUTLINES, /* district outlines are drawn here */
  S_LINE_REACH1, S_LINE_REACH2, S_LINE_REACH3, S_LINE_REACH4, S_LINE_REACH5, /* near .. far */
  S_LINE_PAIRPASS, S_LINE_PAIRFAIL, S_LINE_PASS, S_LINE_MEAS, S_LINE_OTHER, S_LINE_FAIL,
  S_THR_PASS, S_THR_FAIL,
  S_PT_SRC, S_PT_IGN, S_PT_CNT, S_PT_OTHER, S_PT_STOPPASS, S_PT_STOPFAIL, S_PT_PASS, S_PT_FAIL,
  S_N
};

typedef struct style_def {
  const char *cls;
  int kind;
  int fail;
} style_def;

static const style_def STYLES[S_N] = {
    [S_FILL_PASS] = {"s-fill-pass", K_FILL, 0},  [S_FILL_MEAS] = {"s-fill-meas", K_FILL, 0},
    [S_FILL_OTHER] = {"s-fill-other", K_FILL, 0}, [S_FILL_FAIL] = {"s-fill-fail", K_FILL, 1},
    [S_FILL_SRC] = {"s-fill-src", K_FILL, 0},    [S_FILL_IGN] = {"s-fill-ign", K_FILL, 0},
    [S_OUTLINES] = {"dline", K_LINE, 0},
    [S_LINE_REACH1] = {"s-line-r1", K_LINE, 0},  [S_LINE_REACH2] = {"s-line-r2", K_LINE, 0},
    [S_LINE_REACH3] = {"s-line-r3", K_LINE, 0},  [S_LINE_REACH4] = {"s-line-r4", K_LINE, 0},
    [S_LINE_REACH5] = {"s-line-r5", K_LINE, 0},
    [S_LINE_PAIRPASS] = {"s-line-pairpass", K_LINE, 0},
    [S_LINE_PAIRFAIL] = {"s-line-pairfail", K_LINE, 1},
    [S_LINE_PASS] = {"s-line-pass", K_LINE, 0},  [S_LINE_MEAS] = {"s-line-meas", K_LINE, 0},
    [S_LINE_OTHER] = {"s-line-other", K_LINE, 0}, [S_LINE_FAIL] = {"s-line-fail", K_LINE, 1},
    [S_THR_PASS] = {"thr-pass", K_CIRCLE, 0},    [S_THR_FAIL] = {"thr-fail", K_CIRCLE, 1},
    [S_PT_SRC] = {"s-pt-src", K_POINT, 0},       [S_PT_IGN] = {"s-pt-ign", K_POINT, 0},
    [S_PT_CNT] = {"s-pt-cnt", K_POINT, 0},       [S_PT_OTHER] = {"s-pt-other", K_POINT, 0},
    [S_PT_STOPPASS] = {"s-pt-stoppass", K_POINT, 0},
    [S_PT_STOPFAIL] = {"s-pt-stopfail", K_POINT, 1},
    [S_PT_PASS] = {"s-pt-pass", K_POINT, 0},     [S_PT_FAIL] = {"s-pt-fail", K_POINT, 1},
};

typedef struct bucket {
  const char *role;  /* role of the first feature drawn in it (for the legend) */
  size_t drawn, skipped;
  pm__hbuf el;        /* separate elements (with titles) */
  pm__hbuf merged;    /* path data merged into one element (no titles) */
} bucket;

static int role_is(const pm_detail *d, const char *r) { return d->role && strcmp(d->role, r) == 0; }

static int geom_kind(GEOSContextHandle_t h, const GEOSGeometry *g) {
  switch (GEOSGeomTypeId_r(h, g)) {
    case GEOS_POINT: case GEOS_MULTIPOINT: return K_POINT;
    case GEOS_LINESTRING: case GEOS_LINEARRING: case GEOS_MULTILINESTRING: return K_LINE;
    default: return K_FILL;
  }
}

static int by_kind(int kind, int pass, int fail, int other, int covered, int lpass, int lfail,
                   int lother, int ppass, int pfail, int pother) {
  if (kind == K_POINT) return covered == 1 ? ppass : covered == 0 ? pfail : pother;
  if (kind == K_LINE) return covered == 1 ? lpass : covered == 0 ? lfail : lother;
  return covered == 1 ? pass : covered == 0 ? fail : other;
}

/* The map style of a detail, from how the registry says its role is drawn. */
static int classify(const char *metric, const pm_detail *d, int kind) {
  int cov = d->covered;
  const pm_detail_role *r = pm_metric_role(metric, d->role);
  switch (r ? r->style : PM_ROLE_VERDICT) {
    case PM_ROLE_VERDICT:
      if (r) cov = cov == 1 ? 1 : 0; /* no verdict (e.g. no stop at all) is a failure */
      break;
    case PM_ROLE_STOP:
      if (kind == K_POINT) return cov == 1 ? S_PT_STOPPASS : S_PT_STOPFAIL;
      break;
    case PM_ROLE_PAIR:
      if (kind == K_LINE) return cov == 1 ? S_LINE_PAIRPASS : S_LINE_PAIRFAIL;
      break;
    case PM_ROLE_PASS: cov = 1; break;
    case PM_ROLE_FAIL: cov = 0; break;
    case PM_ROLE_SOURCE:
      return kind == K_POINT ? S_PT_SRC : kind == K_LINE ? S_LINE_PASS : S_FILL_SRC;
    case PM_ROLE_IGNORED:
      return kind == K_POINT ? S_PT_IGN : kind == K_LINE ? S_LINE_OTHER : S_FILL_IGN;
    case PM_ROLE_REACHED: /* graded by distance where it has one (map_section) */
    case PM_ROLE_ROUTE:
    case PM_ROLE_MEASURED:
      return kind == K_POINT ? S_PT_CNT : kind == K_LINE ? S_LINE_MEAS : S_FILL_MEAS;
  }
  return by_kind(kind, S_FILL_PASS, S_FILL_FAIL, S_FILL_OTHER, cov, S_LINE_PASS, S_LINE_FAIL,
                 S_LINE_OTHER, S_PT_PASS, S_PT_FAIL, S_PT_OTHER);
}

/* A detail of the walking network reached (graded by its walked distance). */
static int is_reached(const pm_indicator_result *ir, const pm_detail *d) {
  const pm_detail_role *r = pm_metric_role(ir->metric, d->role);
  return r && r->style == PM_ROLE_REACHED;
}

/* The reached network ("reached", distance_m = its 50 m band's upper bound) in at most five
 * classes of whole bands up to the farthest, graduated near to far. */
#define REACH_BAND_M 50.0
static int reach_per(double reach_max) {
  int nb = (int)ceil(reach_max / REACH_BAND_M - 1e-9);
  return nb < 1 ? 1 : (nb + 4) / 5;
}

static int reach_style(double d, double reach_max) {
  int band = (int)ceil(d / REACH_BAND_M - 1e-9) - 1, k = (band < 0 ? 0 : band) / reach_per(reach_max);
  return S_LINE_REACH1 + (k > 4 ? 4 : k);
}

static void reach_label(pm__hbuf *b, int s, double reach_max) {
  double per = reach_per(reach_max) * REACH_BAND_M, lo = (s - S_LINE_REACH1) * per;
  pm__hbuf_printf(b, "步行可达 %.0f–%.0f m walked", lo, fmin(lo + per, reach_max));
}

/* Legend text for a style filled by `role`. */
static void legend_label(pm__hbuf *b, int s, const char *role, double thr) {
  char t[48];
  snprintf(t, sizeof t, "%s m", isfinite(thr) ? num2(thr, (char[32]){0}, 32) : "?");
  const char *r = role ? role : "";
  int station = strcmp(r, "station") == 0, seg = strcmp(r, "segment") == 0;
  switch (s) {
    case S_PT_PASS:
      if (station) pm__hbuf_printf(b, "车站：%s 内有公交站 station with a stop within %s", t, t);
      else pm__hbuf_put(b, "达标 passes");
      break;
    case S_PT_FAIL:
      if (station) pm__hbuf_printf(b, "车站：%s 内无公交站 station without a stop within %s", t, t);
      else pm__hbuf_put(b, "未达标 fails");
      break;
    case S_THR_PASS: case S_THR_FAIL:
      pm__hbuf_printf(b, "车站周围 %s 范围 %s around the station", t, t);
      break;
    case S_LINE_PASS:
      if (seg) pm__hbuf_printf(b, "至最近公交站（≤ %s） to the nearest stop", t);
      else if (strcmp(r, "covered") == 0) pm__hbuf_put(b, "已覆盖 covered");
      else pm__hbuf_put(b, "达标 passes");
      break;
    case S_LINE_FAIL:
      if (seg) pm__hbuf_printf(b, "至最近公交站（> %s） to the nearest stop", t);
      else if (strcmp(r, "uncovered") == 0) pm__hbuf_put(b, "未覆盖 not covered");
      else pm__hbuf_put(b, "未达标 fails");
      break;
    case S_LINE_PAIRPASS: pm__hbuf_printf(b, "按线路换乘 ≤ %s route transfer", t); break;
    case S_LINE_PAIRFAIL: pm__hbuf_printf(b, "按线路换乘 > %s route transfer", t); break;
    case S_PT_STOPPASS: pm__hbuf_printf(b, "公交站（≤ %s） bus stop", t); break;
    case S_PT_STOPFAIL: pm__hbuf_printf(b, "公交站（> %s） bus stop", t); break;
    case S_FILL_PASS:
      if (strcmp(r, "service_area") == 0) pm__hbuf_put(b, "服务范围 service area");
      else if (strcmp(r, "covered") == 0) pm__hbuf_put(b, "已覆盖 covered");
      else pm__hbuf_put(b, "达标 passes");
      break;
    case S_FILL_FAIL:
      if (strcmp(r, "uncovered") == 0) pm__hbuf_put(b, "未覆盖 not covered");
      else pm__hbuf_put(b, "未达标 fails");
      break;
    case S_FILL_SRC: case S_PT_SRC: pm__hbuf_put(b, "服务设施 source"); break;
    case S_FILL_IGN: case S_PT_IGN: pm__hbuf_put(b, "未计入（低于最小面积） ignored source"); break;
    case S_FILL_MEAS: case S_LINE_MEAS: pm__hbuf_put(b, "计入部分 measured"); break;
    case S_PT_CNT:
      pm__hbuf_put(b, strcmp(r, "counted") == 0 ? "计数对象 counted" : "计入部分 measured");
      break;
    default:
      pm__hbuf_esc(b, role && *role ? role : "其他 other");
      break;
  }
}

static void swatch(pm__hbuf *b, int s) {
  const char *cls = STYLES[s].cls;
  switch (STYLES[s].kind) {
    case K_FILL:
      pm__hbuf_printf(b, "<svg width=\"22\" height=\"14\"><rect class=\"%s\" x=\"1\" y=\"1\" "
                        "width=\"20\" height=\"12\"/></svg>", cls);
      break;
    case K_LINE:
      pm__hbuf_printf(b, "<svg width=\"22\" height=\"14\"><path class=\"%s\" d=\"M1 7H21\"/></svg>",
                     cls);
      break;
    case K_CIRCLE:
      pm__hbuf_printf(b, "<svg width=\"22\" height=\"14\"><circle class=\"%s\" cx=\"11\" cy=\"7\" "
                        "r=\"6\"/></svg>", cls);
      break;
    default:
      pm__hbuf_printf(b, "<svg width=\"22\" height=\"14\"><path class=\"%s\" d=\"M11 7h0\"/></svg>",
                     cls);
  }
}

static void feature_title(pm__hbuf *b, const pm_detail *d) {
  char n[48];
  pm__hbuf_put(b, "<title>");
  if (d->name && *d->name) {
    pm__hbuf_esc(b, d->name);
    if (d->id && strcmp(d->id, d->name) != 0) {
      pm__hbuf_put(b, " · ");
      pm__hbuf_esc(b, d->id);
    }
  } else {
    pm__hbuf_esc(b, d->id ? d->id : d->role);
  }
  if (d->district && (!d->id || strcmp(d->district, d->id) != 0)) {
    pm__hbuf_put(b, " · ");
    pm__hbuf_esc(b, all_label(d->district));
  }
  if (isfinite(d->distance_m)) pm__hbuf_printf(b, " · %s m", num2(d->distance_m, n, sizeof n));
  if (d->nearest && *d->nearest) {
    pm__hbuf_put(b, role_is(d, "source") || role_is(d, "ignored_source") ? " · " : " → ");
    pm__hbuf_esc(b, d->nearest);
  }
  pm__hbuf_put(b, "</title>");
}

typedef struct mapctx {
  page *p;
  const pm_indicator_result *ir;
  pm__html_view v;
  bucket bk[S_N];
  long used_pass, used_fail;
  int titled;
  double thr;         /* transfer threshold (NAN: none) */
  double reach_max;   /* the farthest band of the reached network (role "reached") */
  const char *thr_how;
} mapctx;

static int outside(GEOSContextHandle_t h, const GEOSGeometry *g, const pm__html_view *v) {
  double x0, y0, x1, y1;
  if (!GEOSGeom_getXMin_r(h, g, &x0) || !GEOSGeom_getYMin_r(h, g, &y0) ||
      !GEOSGeom_getXMax_r(h, g, &x1) || !GEOSGeom_getYMax_r(h, g, &y1))
    return 0;
  return x1 < v->minx || x0 > v->maxx || y1 < v->miny || y0 > v->maxy;
}

static pm_status draw_detail(mapctx *m, const pm_detail *d, const GEOSGeometry *g, int s) {
  page *p = m->p;
  bucket *bk = &m->bk[s];
  int fail = STYLES[s].fail;
  long *used = fail ? &m->used_fail : &m->used_pass;
  long budget = fail ? BUDGET_FAIL : BUDGET_PASS;
  if (*used >= budget) {
    bk->skipped++;
    return PM_OK;
  }
  GEOSGeometry *sg = pm__html_simplify(p->h, &m->v, g, SIMPLIFY_PX);
  if (!sg) return pm_error(p->ctx, PM_EGEOM, "cannot simplify the geometry of %s for the map (%s)",
                           d->id ? d->id : "a detail", pm__context_geos_message(p->ctx));
  pm__hbuf path = {0};
  long n = pm__html_path_geom(p->h, &m->v, sg, &path);
  GEOSGeom_destroy_r(p->h, sg);
  if (n < 0) {
    pm__hbuf_free(&path);
    return pm_error(p->ctx, PM_EGEOM, "cannot read the geometry of %s for the map (%s)",
                    d->id ? d->id : "a detail", pm__context_geos_message(p->ctx));
  }
  if (path.oom) {
    pm__hbuf_free(&path);
    return oom(p);
  }
  if (n > 0) {
    *used += n;
    if (!bk->role) bk->role = d->role;
    bk->drawn++;
    if (m->titled || STYLES[s].kind == K_FILL) {
      pm__hbuf_put(&bk->el, "<path d=\"");
      pm__hbuf_cat(&bk->el, &path);
      if (m->titled) {
        pm__hbuf_put(&bk->el, "\">");
        feature_title(&bk->el, d);
        pm__hbuf_put(&bk->el, "</path>\n");
      } else {
        pm__hbuf_put(&bk->el, "\"/>\n");
      }
    } else {
      pm__hbuf_cat(&bk->merged, &path);
    }
  }
  pm__hbuf_free(&path);
  /* The transfer threshold around a station, in metres (it grows when the map is zoomed). */
  if (n > 0 && isfinite(m->thr) && m->thr > 0 && role_is(d, "station") &&
      GEOSGeomTypeId_r(p->h, g) == GEOS_POINT) {
    double x, y, px, py;
    if (GEOSGeomGetX_r(p->h, g, &x) && GEOSGeomGetY_r(p->h, g, &y)) {
      pm__html_view_apply(&m->v, x, y, &px, &py);
      bucket *c = &m->bk[s == S_PT_PASS ? S_THR_PASS : S_THR_FAIL];
      if (!c->role) c->role = d->role;
      c->drawn++;
      pm__hbuf_put(&c->el, "<circle cx=\"");
      pm__hbuf_px(&c->el, px);
      pm__hbuf_put(&c->el, "\" cy=\"");
      pm__hbuf_px(&c->el, py);
      pm__hbuf_put(&c->el, "\" r=\"");
      pm__hbuf_px(&c->el, m->thr * m->v.scale);
      pm__hbuf_put(&c->el, "\"/>\n");
    }
  }
  return PM_OK;
}

static int envelope(GEOSContextHandle_t h, const GEOSGeometry *g, double e[4]) {
  return g && GEOSisEmpty_r(h, g) == 0 && GEOSGeom_getXMin_r(h, g, &e[0]) &&
         GEOSGeom_getYMin_r(h, g, &e[1]) && GEOSGeom_getXMax_r(h, g, &e[2]) &&
         GEOSGeom_getYMax_r(h, g, &e[3]);
}

static void grow(double e[4], const double f[4]) {
  e[0] = fmin(e[0], f[0]), e[1] = fmin(e[1], f[1]), e[2] = fmax(e[2], f[2]), e[3] = fmax(e[3], f[3]);
}

static int uses_district(const pm_indicator_result *ir, const char *name) {
  for (size_t k = 0; k < ir->n_results; k++)
    if (ir->results[k].district && strcmp(ir->results[k].district, name) == 0) return 1;
  return 0;
}

/* The extent of the map: the indicator's districts that hold some of its geometry (sources
 * aside: they are drawn wherever they are), else all its districts, else its geometry. So roads
 * mapped in one district of three are seen at that district's scale; the zoom-to buttons reach
 * the others. */
static int map_extent(mapctx *m, GEOSGeometry **geoms, double e[4]) {
  page *p = m->p;
  const pm_indicator_result *ir = m->ir;
  double d[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY}, f[4];
  for (size_t i = 0; i < ir->n_details; i++)
    if (!role_is(&ir->details[i], "source") && !role_is(&ir->details[i], "ignored_source") &&
        envelope(p->h, geoms[i], f))
      grow(d, f);
  for (int pass = 0; pass < 2; pass++) {
    e[0] = e[1] = INFINITY;
    e[2] = e[3] = -INFINITY;
    for (size_t i = 0; i < p->n_dist; i++) {
      if (!uses_district(ir, p->dist[i].name) || !envelope(p->h, p->dist[i].g, f)) continue;
      if (pass == 0 && (f[2] < d[0] || f[0] > d[2] || f[3] < d[1] || f[1] > d[3])) continue;
      grow(e, f);
    }
    if (e[0] <= e[2]) return 1;
  }
  for (size_t i = 0; i < ir->n_details; i++)
    if (envelope(p->h, geoms[i], f)) grow(e, f);
  return e[0] <= e[2] && e[1] <= e[3];
}

static void scalebar(pm__hbuf *b, const pm__html_view *v) {
  double mpp = 1 / v->scale, target = mpp * 100;
  double pw = pow(10, floor(log10(target))), f = target / pw;
  double meters = (f >= 5 ? 5 : f >= 2 ? 2 : 1) * pw;
  char t[48];
  if (meters >= 1000)
    snprintf(t, sizeof t, "%g km", meters / 1000);
  else
    snprintf(t, sizeof t, "%g m", meters);
  pm__hbuf_printf(b,
                 "<div class=\"scalebar\"><svg width=\"130\" height=\"8\"><rect x=\"0\" y=\"2\" "
                 "width=\"%.0f\" height=\"4\" fill=\"#33404f\"/></svg><span>%s</span></div>\n",
                 meters / mpp, t);
}

/* Buttons that zoom the map to one district (small districts are hard to see next to big ones). */
/* data-box="x y w h" in pixels. */
static void put_box(pm__hbuf *b, const pm__html_view *v, const double e[4]) {
  double px0, py0, px1, py1;
  pm__html_view_apply(v, e[0], e[3], &px0, &py0);
  pm__html_view_apply(v, e[2], e[1], &px1, &py1);
  pm__hbuf_put(b, " data-box=\"");
  pm__hbuf_px(b, px0);
  pm__hbuf_put(b, " ");
  pm__hbuf_px(b, py0);
  pm__hbuf_put(b, " ");
  pm__hbuf_px(b, px1 - px0);
  pm__hbuf_put(b, " ");
  pm__hbuf_px(b, py1 - py0);
  pm__hbuf_put(b, "\"");
}

static void district_buttons(page *p, const pm_indicator_result *ir, const pm__html_view *v,
                             int id) {
  pm__hbuf *b = &p->b;
  if (p->n_dist < 2) return;
  pm__hbuf_printf(b, "<div class=\"dzoom\" data-map=\"map-%d\">定位 zoom to:", id);
  /* In the order of the indicator's results, as in the chart above. */
  for (size_t k = 0; k < ir->n_results; k++) {
    const char *dn = ir->results[k].district;
    size_t i = 0;
    while (i < p->n_dist && (!dn || strcmp(p->dist[i].name, dn) != 0)) i++;
    if (i == p->n_dist) continue;
    double e[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY};
    for (size_t j = i; j < p->n_dist; j++) {
      double f[4];
      if (strcmp(p->dist[j].name, p->dist[i].name) == 0 && envelope(p->h, p->dist[j].g, f))
        grow(e, f);
    }
    if (!(e[0] <= e[2])) continue;
    pm__hbuf_put(b, " <button type=\"button\"");
    put_box(b, v, e);
    pm__hbuf_put(b, ">");
    pm__hbuf_esc(b, p->dist[i].name);
    pm__hbuf_put(b, "</button>");
  }
  double a[4] = {INFINITY, INFINITY, -INFINITY, -INFINITY}, f[4];
  for (size_t i = 0; i < p->n_dist; i++)
    if (envelope(p->h, p->dist[i].g, f)) grow(a, f);
  pm__hbuf_put(b, " <button type=\"button\"");
  put_box(b, v, a);
  pm__hbuf_put(b, ">全部 all</button></div>\n");
}

/* A north arrow: the maps are drawn in the projected CRS with north up (grid north). */
static void north_arrow(page *p) {
  pm__hbuf_printf(&p->b,
                  "<div class=\"north\" role=\"img\" aria-label=\"北 north\" title=\"上为北（%s 网格北） "
                  "north is up (grid north of %s)\"><svg width=\"22\" height=\"34\" viewBox=\"0 0 22 "
                  "34\"><path d=\"M11 2L18 21L11 17L4 21Z\"/><text x=\"11\" y=\"32\">N</text></svg>"
                  "</div>\n",
                  p->run->crs ? p->run->crs : "", p->run->crs ? p->run->crs : "");
}

/* ---------- labels of stations and parks ---------- */

typedef struct flabel {
  const char *text;
  double x, y;         /* anchor in map pixels */
  double b[4];         /* box around the anchor at zoom 1 (x0, y0, x1, y1), px */
  int mid;             /* centred on the anchor (parks), else right of it (stations) */
  int prio;            /* lower first: failing stations, stations, parks */
  double area;
  double z;            /* the zoom from which it is shown */
} flabel;

static int flabel_cmp(const void *x, const void *y) {
  const flabel *a = x, *b = y;
  if (a->prio != b->prio) return a->prio - b->prio;
  if (a->area != b->area) return a->area > b->area ? -1 : 1;
  return strcmp(a->text, b->text);
}

/* Two labels overlap at zoom z (their boxes shrink by z around fixed anchors). */
static int labels_overlap(const flabel *a, const flabel *b, double z) {
  return a->x + a->b[0] / z < b->x + b->b[2] / z && b->x + b->b[0] / z < a->x + a->b[2] / z &&
         a->y + a->b[1] / z < b->y + b->b[3] / z && b->y + b->b[1] / z < a->y + a->b[3] / z;
}

/* Names of the stations and parks among the indicator's details (as the run recorded them), each
 * shown from the zoom at which it clears the names placed before it: failing stations first. */
static pm_status feature_labels(page *p, const pm_indicator_result *ir, GEOSGeometry **geoms,
                                const pm__html_view *v, pm__hbuf *b) {
  /* The district names are placed first: no station covers them. */
  size_t n = 0;
  flabel *l = calloc(ir->n_details + p->n_dist + 1, sizeof *l);
  if (!l) return oom(p);
  for (size_t i = 0; i < p->n_dist; i++) {
    if (!p->dist[i].label) continue;
    flabel *f = &l[n++];
    pm__html_view_apply(v, p->dist[i].lx, p->dist[i].ly, &f->x, &f->y);
    double w = (double)pm__utf8_width(p->dist[i].name) * 7.2 + 4; /* 13 px bold */
    f->text = p->dist[i].name;
    f->b[0] = -w / 2, f->b[1] = -12, f->b[2] = w / 2, f->b[3] = 4;
    f->prio = -1; /* not written here: the page's district labels */
  }
  size_t n_fixed = n;
  for (size_t i = 0; i < ir->n_details && n < n_fixed + MAX_LABELS * 4; i++) {
    const pm_detail *d = &ir->details[i];
    if (!d->name || !*d->name || !geoms[i] || GEOSisEmpty_r(p->h, geoms[i]) != 0) continue;
    int type = GEOSGeomTypeId_r(p->h, geoms[i]);
    int area_type = type == GEOS_POLYGON || type == GEOS_MULTIPOLYGON;
    int station = role_is(d, "station") && type == GEOS_POINT;
    /* parks: the sources of a coverage, the features a count counted (its points stand for them) */
    int park = ((role_is(d, "source") || role_is(d, "ignored_source")) && area_type) ||
               (role_is(d, "counted") && (area_type || type == GEOS_POINT));
    if (!station && !park) continue;
    double x, y, area = 0;
    GEOSGeometry *pt = station ? NULL : GEOSPointOnSurface_r(p->h, geoms[i]);
    const GEOSGeometry *at = station ? geoms[i] : pt;
    int ok = at && GEOSGeomGetX_r(p->h, at, &x) && GEOSGeomGetY_r(p->h, at, &y);
    if (pt) GEOSGeom_destroy_r(p->h, pt);
    if (!ok || x < v->minx || x > v->maxx || y < v->miny || y > v->maxy) continue;
    if (park && !GEOSArea_r(p->h, geoms[i], &area)) area = 0;
    flabel *f = &l[n];
    pm__html_view_apply(v, x, y, &f->x, &f->y);
    /* one name per place: the same station or park twice is labelled once */
    int dup = 0;
    for (size_t k = n_fixed; k < n && !dup; k++)
      dup = strcmp(l[k].text, d->name) == 0 && fabs(l[k].x - f->x) < 40 && fabs(l[k].y - f->y) < 40;
    if (dup) continue;
    f->text = d->name;
    f->mid = area_type;
    f->prio = station ? (d->covered == 1 ? 1 : 0) : 2;
    f->area = area;
    double w = (double)pm__utf8_width(d->name) * 6.3 + 2; /* 11.5 px text */
    if (area_type) {
      f->b[0] = -w / 2, f->b[2] = w / 2;
    } else {
      f->b[0] = 6, f->b[2] = 6 + w;
    }
    f->b[1] = -5.5, f->b[3] = 6.5;
    n++;
  }
  qsort(l + n_fixed, n - n_fixed, sizeof *l, flabel_cmp);
  /* A name is shown from the first zoom at which it clears the names placed before it, and at
   * which the map does not hold too many names yet (a crowd of names reads as none). */
  static const double LEVELS[] = {1, 1.5, 2, 3, 4, 6, 8, 12, 16, 32};
  size_t at[PM_ARRAY_LEN(LEVELS)] = {0}; /* names shown at each zoom */
  size_t shown = 0;
  for (size_t i = 0; i < n; i++) {
    l[i].z = INFINITY;
    if (i < n_fixed) {
      l[i].z = 0;
      continue;
    }
    if (shown == MAX_LABELS) continue;
    for (size_t k = 0; k < PM_ARRAY_LEN(LEVELS) && !isfinite(l[i].z); k++) {
      if ((double)at[k] >= LABELS_AT_1 * LEVELS[k] * LEVELS[k]) continue;
      int clear = 1;
      for (size_t j = 0; j < i && clear; j++)
        if (l[j].z <= LEVELS[k] && labels_overlap(&l[i], &l[j], LEVELS[k])) clear = 0;
      if (clear) l[i].z = LEVELS[k];
    }
    if (!isfinite(l[i].z)) continue;
    shown++;
    for (size_t k = 0; k < PM_ARRAY_LEN(LEVELS); k++)
      if (LEVELS[k] >= l[i].z) at[k]++;
  }
  if (shown) {
    pm__hbuf_put(b, "<g class=\"flbl\" font-size=\"11.5\" stroke-width=\"3\">");
    for (size_t i = n_fixed; i < n; i++) {
      if (!isfinite(l[i].z)) continue;
      pm__hbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" dy=\".35em\"%s data-z=\"%g\"%s>", l[i].x,
                      l[i].y, l[i].mid ? " class=\"mid\"" : " dx=\".55em\"", l[i].z,
                      l[i].z > 1 ? " style=\"display:none\"" : "");
      pm__hbuf_esc(b, l[i].text);
      pm__hbuf_put(b, "</text>");
    }
    pm__hbuf_put(b, "</g>\n");
  }
  free(l);
  return PM_OK;
}

/* The base map of view v: drawn once per view on the page, then reused. *skipped: its features
 * left out (vertex budget). */
static pm_status base_map(page *p, const pm__html_view *v, pm__hbuf *b, size_t *skipped) {
  *skipped = 0;
  if (!pm__basemap_layers(p->base)) return PM_OK;
  for (size_t i = 0; i < p->n_bases; i++)
    if (!memcmp(&p->bases[i].v, v, sizeof *v)) {
      if (p->bases[i].id) pm__hbuf_printf(b, "<use href=\"#bm-%d\"/>\n", p->bases[i].id);
      *skipped = p->bases[i].skipped;
      return PM_OK;
    }
  size_t mark = b->len;
  pm_status st = pm__basemap_draw(p->base, v, p->map_seq, b, skipped);
  if (st) return st;
  if (pm__grow(p->ctx, (void **)&p->bases, &p->cap_bases, p->n_bases + 1, sizeof *p->bases))
    return pm_context_status(p->ctx);
  struct drawn_base *d = &p->bases[p->n_bases++];
  memset(d, 0, sizeof *d);
  d->v = *v;
  d->id = b->len > mark ? p->map_seq : 0;
  d->skipped = *skipped;
  return PM_OK;
}

static void map_free(mapctx *m) {
  for (int s = 0; s < S_N; s++) {
    pm__hbuf_free(&m->bk[s].el);
    pm__hbuf_free(&m->bk[s].merged);
  }
}

/* The map of one indicator; *view receives its view (for the gap rows) and *drawn 1 when a map
 * was written. */
static pm_status map_section(page *p, const pm_indicator_result *ir, pm__html_view *view,
                             int *drawn, int *map_id) {
  *drawn = 0;
  pm_status st = PM_OK;
  pm__hbuf *b = &p->b;
  if (ir->status == PM_IND_NO_DATA) return PM_OK;
  GEOSGeometry **geoms = ir->n_details ? calloc(ir->n_details, sizeof *geoms) : NULL;
  if (ir->n_details && !geoms) return oom(p);
  for (size_t i = 0; i < ir->n_details; i++) {
    const pm_detail *d = &ir->details[i];
    /* An unreadable detail only loses its drawing; the numbers and the gap list stay. */
    if (d->wkb && d->wkb_len) geoms[i] = GEOSWKBReader_read_r(p->h, p->reader, d->wkb, d->wkb_len);
  }
  mapctx m;
  memset(&m, 0, sizeof m);
  m.p = p;
  m.ir = ir;
  m.thr = NAN;
  double e[4];
  if (!map_extent(&m, geoms, e)) goto done; /* nothing to draw: no districts, no geometry */
  if ((st = pm__html_view_fit(p->ctx, e[0], e[1], e[2], e[3], MAP_W, MAP_MAX_H, MAP_PAD, &m.v)))
    goto done;
  m.titled = ir->n_details <= MAX_TITLED;
  if (ir->metric && strcmp(ir->metric, "transfer_coverage") == 0)
    m.thr = transfer_threshold(p, ir, &m.thr_how);
  for (size_t i = 0; i < ir->n_details; i++)
    if (is_reached(ir, &ir->details[i]) && isfinite(ir->details[i].distance_m))
      m.reach_max = fmax(m.reach_max, ir->details[i].distance_m);
  /* Failing features first, so the budget never hides a gap. */
  for (int pass = 0; pass < 2 && !st; pass++) {
    for (size_t i = 0; i < ir->n_details && !st; i++) {
      if (!geoms[i] || GEOSisEmpty_r(p->h, geoms[i]) != 0 || outside(p->h, geoms[i], &m.v)) continue;
      int kind = geom_kind(p->h, geoms[i]);
      int s = is_reached(ir, &ir->details[i]) && kind == K_LINE
                  ? reach_style(ir->details[i].distance_m, m.reach_max)
                  : classify(ir->metric, &ir->details[i], kind);
      if (STYLES[s].fail != (pass == 0)) continue;
      st = draw_detail(&m, &ir->details[i], geoms[i], s);
    }
  }
  if (st) goto done;
  int id = ++p->map_seq;
  *map_id = id;
  *view = m.v;
  *drawn = 1;
  district_buttons(p, ir, &m.v, id);
  pm__hbuf_printf(b, "<div class=\"mapbox\" id=\"map-%d\">\n", id);
  /* Many points at this scale: smaller dots, so neighbours stay apart. */
  size_t n_points = 0;
  for (int s = 0; s < S_N; s++)
    if (STYLES[s].kind == K_POINT) n_points += m.bk[s].drawn;
  pm__hbuf_printf(b,
                 "<svg class=\"map%s\" width=\"%g\" "
                 "height=\"%.0f\" viewBox=\"0 0 %g %.0f\" data-scale=\"%.9g\" role=\"img\" "
                 "aria-label=\"地图 map: ",
                 n_points > 150 ? " dense" : "", m.v.width_px, m.v.height_px, m.v.width_px,
                 m.v.height_px, m.v.scale);
  pm__hbuf_esc(b, ir->title ? ir->title : ir->id);
  pm__hbuf_put(b, "\">\n");
  /* District fills at the bottom; their outlines above the areas, below lines and points. */
  pm__hbuf_put(b, "<g class=\"dfill\">\n");
  for (size_t i = 0; i < p->n_dist && !st; i++) {
    /* Few polygons, seen at every zoom: simplify them less than the details. */
    GEOSGeometry *sg = pm__html_simplify(p->h, &m.v, p->dist[i].g, SIMPLIFY_PX / 5);
    if (!sg) continue;
    /* The attribute (not only CSS) so that the outline's <use> clone keeps thin strokes. */
    pm__hbuf_printf(b, "<path id=\"m%d-d%zu\" vector-effect=\"non-scaling-stroke\" d=\"", id, i);
    pm__html_path_geom(p->h, &m.v, sg, b);
    pm__hbuf_put(b, "\"/>\n");
    GEOSGeom_destroy_r(p->h, sg);
  }
  pm__hbuf_put(b, "</g>\n");
  size_t base_skipped = 0;
  if ((st = base_map(p, &m.v, b, &base_skipped))) goto done;
  for (int s = 0; s < S_N; s++) {
    if (s == S_OUTLINES) {
      pm__hbuf_put(b, "<g class=\"dline\">");
      for (size_t i = 0; i < p->n_dist; i++) pm__hbuf_printf(b, "<use href=\"#m%d-d%zu\"/>", id, i);
      pm__hbuf_put(b, "</g>\n");
      continue;
    }
    bucket *bk = &m.bk[s];
    if (!bk->el.len && !bk->merged.len) continue;
    pm__hbuf_printf(b, "<g class=\"%s\">\n", STYLES[s].cls);
    pm__hbuf_cat(b, &bk->el);
    if (bk->merged.len) {
      pm__hbuf_put(b, "<path d=\"");
      pm__hbuf_cat(b, &bk->merged);
      pm__hbuf_put(b, "\"/>\n");
    }
    pm__hbuf_put(b, "</g>\n");
  }
  pm__hbuf_put(b, "<g class=\"lbl\" font-size=\"13\" stroke-width=\"3\">");
  for (size_t i = 0; i < p->n_dist; i++) {
    if (!p->dist[i].label) continue;
    double x, y, f[4] = {0, 0, 0, 0};
    pm__html_view_apply(&m.v, p->dist[i].lx, p->dist[i].ly, &x, &y);
    /* The district's width in pixels: the script hides names of districts too small to hold
     * them at the current zoom. */
    envelope(p->h, p->dist[i].g, f);
    pm__hbuf_printf(b, "<text x=\"%.1f\" y=\"%.1f\" data-w=\"%.0f\">", x, y,
                   (f[2] - f[0]) * m.v.scale);
    pm__hbuf_esc(b, p->dist[i].name);
    pm__hbuf_put(b, "</text>");
  }
  pm__hbuf_put(b, "</g>\n");
  if ((st = feature_labels(p, ir, geoms, &m.v, b))) goto done;
  pm__hbuf_put(b, "<circle class=\"focus\" cx=\"-100\" cy=\"-100\" r=\"12\"/>\n</svg>\n");
  pm__hbuf_put(b, "<div class=\"maptools\"><button type=\"button\" data-z=\"+\" title=\"放大 zoom in\">+"
                 "</button><button type=\"button\" data-z=\"-\" title=\"缩小 zoom out\">−</button>"
                 "<button type=\"button\" data-z=\"0\" title=\"复位 reset\">⟲</button></div>\n");
  scalebar(b, &m.v);
  north_arrow(p);
  if (p->osm) pm__hbuf_put(b, "<div class=\"credit\">" PM_OSM_CREDIT "</div>\n");
  pm__hbuf_put(b, "</div>\n<div class=\"legend\">");
  if (p->n_dist) {
    pm__hbuf_put(b, "<span class=\"item\"><svg width=\"22\" height=\"14\"><rect class=\"dfill\" "
                   "x=\"1\" y=\"1\" width=\"20\" height=\"12\"/><rect class=\"dline\" x=\"1\" "
                   "y=\"1\" width=\"20\" height=\"12\"/></svg>区界 district</span>");
  }
  size_t skipped = 0;
  for (int s = 0; s < S_N; s++) {
    bucket *bk = &m.bk[s];
    if (s == S_OUTLINES || (!bk->drawn && !bk->skipped)) continue;
    if (s == S_THR_FAIL && m.bk[S_THR_PASS].drawn) continue; /* one item for both circles */
    pm__hbuf_put(b, "<span class=\"item\">");
    swatch(b, s);
    if (s == S_THR_PASS && m.bk[S_THR_FAIL].drawn) swatch(b, S_THR_FAIL);
    if (s >= S_LINE_REACH1 && s <= S_LINE_REACH5) reach_label(b, s, m.reach_max);
    else legend_label(b, s, bk->role, m.thr);
    if (STYLES[s].kind != K_CIRCLE)
      pm__hbuf_printf(b, " <span class=\"count\">%zu</span>", bk->drawn + bk->skipped);
    pm__hbuf_put(b, "</span>");
    skipped += bk->skipped;
  }
  pm__hbuf_put(b, "</div>\n<p class=\"hint\">点击地图后可用滚轮缩放，拖动平移，双击复位；点击缺口行在地图上定位。"
                 " Click the map, then wheel to zoom; drag to pan; double-click to reset; click a "
                 "gap row to find it on the map.");
  if (isfinite(m.thr) && m.thr_how) {
    char t[32];
    pm__hbuf_printf(b, " 换乘阈值 threshold %s m（", num2(m.thr, t, sizeof t));
    pm__hbuf_esc(b, m.thr_how);
    pm__hbuf_put(b, "）。");
  }
  if (skipped)
    pm__hbuf_printf(b, " <b>%zu 个达标或中性要素未绘制（顶点上限） %zu passing or neutral features "
                      "not drawn (vertex budget)</b>。",
                   skipped, skipped);
  if (base_skipped)
    pm__hbuf_printf(b, " 底图在此比例尺下过密的要素未绘制（%zu 个） base map: %zu features of a kind "
                      "too dense at this scale (e.g. minor roads) left out.",
                   base_skipped, base_skipped);
  pm__hbuf_put(b, "</p>\n");

done:
  for (size_t i = 0; i < ir->n_details; i++)
    if (geoms && geoms[i]) GEOSGeom_destroy_r(p->h, geoms[i]);
  free(geoms);
  map_free(&m);
  return st;
}

/* ---------- gap table ---------- */

static int nan_last_desc(double a, double b) {
  if (isnan(a) && isnan(b)) return 0;
  if (isnan(a)) return 1;
  if (isnan(b)) return -1;
  return a > b ? -1 : a < b ? 1 : 0;
}

static int gap_ptr_cmp(const void *x, const void *y) {
  const pm_gap *a = *(const pm_gap *const *)x, *b = *(const pm_gap *const *)y;
  int c = nan_last_desc(a->shortfall, b->shortfall);
  if (!c) c = nan_last_desc(a->distance_m, b->distance_m);
  if (!c) c = strcmp(a->id ? a->id : "", b->id ? b->id : "");
  return c;
}

static pm_status gap_table(page *p, const pm_indicator_result *ir, const pm__html_view *v,
                           int map_id) {
  pm__hbuf *b = &p->b;
  const pm_result *all = result_all(ir);
  size_t n = 0;
  for (size_t i = 0; i < ir->n_results; i++) n += ir->results[i].n_gaps;
  if (ir->status == PM_IND_NO_DATA) return PM_OK;
  /* `_all` holds every district's gaps; without it (or when it has none) merge the districts'. */
  const pm_gap **g = NULL;
  size_t ng = 0;
  if (all && all->n_gaps) {
    g = malloc(all->n_gaps * sizeof *g);
    if (!g) return oom(p);
    for (size_t k = 0; k < all->n_gaps; k++) g[ng++] = &all->gaps[k];
  } else if (n) {
    g = malloc(n * sizeof *g);
    if (!g) return oom(p);
    for (size_t i = 0; i < ir->n_results; i++)
      for (size_t k = 0; k < ir->results[i].n_gaps; k++) g[ng++] = &ir->results[i].gaps[k];
    qsort(g, ng, sizeof *g, gap_ptr_cmp);
  }
  pm__hbuf_printf(b, "<h3>缺口清单 Gaps <small>%zu，最差在前 worst first</small></h3>\n", ng);
  if (!ng) {
    pm__hbuf_put(b, "<p class=\"note\">没有缺口 no gaps.</p>\n");
    free(g);
    return PM_OK;
  }
  int c_dist = 0, c_short = 0, c_near = 0, c_note = 0, c_name = 0;
  for (size_t k = 0; k < ng; k++) {
    c_dist |= isfinite(g[k]->distance_m);
    c_short |= isfinite(g[k]->shortfall);
    c_near |= g[k]->nearest && *g[k]->nearest;
    c_note |= g[k]->note && *g[k]->note;
    c_name |= g[k]->name && *g[k]->name;
  }
  int cols = 3 + c_name + c_dist + c_short + c_near + c_note;
  if (map_id)
    pm__hbuf_printf(b, "<table class=\"gaps\" data-map=\"map-%d\">", map_id);
  else
    pm__hbuf_put(b, "<table class=\"gaps\">");
  pm__hbuf_put(b, "<thead><tr><th class=\"num\">#</th><th>区 district</th><th>编号 id</th>");
  if (c_name) pm__hbuf_put(b, "<th>名称 name</th>");
  if (c_dist) pm__hbuf_put(b, "<th class=\"num\">距离 distance (m)</th>");
  const char *metric = ir->metric ? ir->metric : "";
  if (c_short && strcmp(metric, "coverage") == 0) {
    /* coverage gaps measure what is left uncovered (m2, or the population weight), not the %. */
    pm__hbuf_put(b, "<th class=\"num\">未覆盖 uncovered (m² / weight)</th>");
  } else if (c_short && strcmp(metric, "line_coverage") == 0) {
    /* line_coverage gaps: the uncovered length of the line. */
    pm__hbuf_put(b, "<th class=\"num\">未覆盖长度 uncovered (km)</th>");
  } else if (c_short) {
    pm__hbuf_put(b, "<th class=\"num\">差额 shortfall");
    if (*unit_of(ir) && strcmp(unit_of(ir), "count") != 0) {
      pm__hbuf_put(b, " (");
      pm__hbuf_esc(b, unit_of(ir));
      pm__hbuf_put(b, ")");
    }
    pm__hbuf_put(b, "</th>");
  }
  if (c_near) pm__hbuf_put(b, "<th>最近 nearest</th>");
  if (c_note) pm__hbuf_put(b, "<th>说明 note</th>");
  pm__hbuf_put(b, "</tr></thead><tbody>\n");
  char t[48];
  for (size_t k = 0; k < ng && k < GAP_ROWS; k++) {
    const pm_gap *x = g[k];
    pm__hbuf_put(b, "<tr");
    if (map_id && isfinite(x->x) && isfinite(x->y)) {
      double px, py;
      pm__html_view_apply(v, x->x, x->y, &px, &py);
      pm__hbuf_printf(b, " data-x=\"%.1f\" data-y=\"%.1f\" title=\"在地图上定位 show on the map\"",
                     px, py);
    }
    pm__hbuf_printf(b, "><td class=\"num\">%zu</td><td>", k + 1);
    pm__hbuf_esc(b, all_label(x->district));
    pm__hbuf_put(b, "</td><td class=\"id\">");
    pm__hbuf_esc(b, x->id);
    pm__hbuf_put(b, "</td>");
    if (c_name) {
      pm__hbuf_put(b, "<td>");
      pm__hbuf_esc(b, x->name);
      pm__hbuf_put(b, "</td>");
    }
    if (c_dist) pm__hbuf_printf(b, "<td class=\"num\">%s</td>", num2k(x->distance_m, t, sizeof t));
    if (c_short) pm__hbuf_printf(b, "<td class=\"num\">%s</td>", num2k(x->shortfall, t, sizeof t));
    if (c_near) {
      pm__hbuf_put(b, "<td>");
      pm__hbuf_esc(b, x->nearest);
      pm__hbuf_put(b, "</td>");
    }
    if (c_note) {
      pm__hbuf_put(b, "<td>");
      pm__hbuf_esc(b, x->note);
      pm__hbuf_put(b, "</td>");
    }
    pm__hbuf_put(b, "</tr>\n");
  }
  if (ng > GAP_ROWS)
    pm__hbuf_printf(b, "<tr class=\"more\"><td colspan=\"%d\">… 还有 %zu 条 (%zu more)</td></tr>\n",
                   cols, ng - GAP_ROWS, ng - GAP_ROWS);
  pm__hbuf_put(b, "</tbody></table>\n");
  free(g);
  return PM_OK;
}

/* ---------- history charts ---------- */

#define HW 288.0
#define HH 140.0
#define HL 48.0
#define HR 14.0
#define HT 14.0
#define HB 30.0

static void history_chart(page *p, const pm_indicator_result *ir, const pm_result *cur,
                          const pm_history_row **series) {
  pm__hbuf *b = &p->b;
  size_t n = p->hn;
  double lo = 0, hi = 0;
  int any = 0;
  for (size_t k = 0; k < n; k++) {
    const pm_history_row *r = series[k];
    if (r && r->has_value && isfinite(r->value)) {
      lo = fmin(lo, r->value), hi = fmax(hi, r->value), any = 1;
    }
    if (r && r->has_target && isfinite(r->target)) lo = fmin(lo, r->target), hi = fmax(hi, r->target);
  }
  double top = hi > 0 ? nice_ceil(hi * 1.05) : (lo < 0 ? 0 : 1);
  if (strcmp(unit_of(ir), "%") == 0 && hi <= 100 && top > 100) top = 100;
  double bot = lo < 0 ? -nice_ceil(-lo * 1.05) : 0;
  char v[96], t[48];
  pm__hbuf_put(b, "<figure><figcaption>");
  pm__hbuf_esc(b, all_label(cur->district));
  if (cur->has_value) {
    value_text(ir, cur, v, sizeof v);
    pm__hbuf_put(b, " <span>");
    pm__hbuf_esc(b, v);
    pm__hbuf_put(b, "</span>");
  }
  pm__hbuf_printf(b, "</figcaption><svg width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\">", HW, HH,
                 HW, HH);
#define HX(k) (HL + (n > 1 ? (double)(k) * (HW - HL - HR) / (double)(n - 1) : 0))
#define HY(val) (HT + (top - (val)) / (top - bot) * (HH - HT - HB))
  for (int k = 0; k <= 2; k++) {
    double gv = bot + (top - bot) * k / 2.0, y = HY(gv);
    pm__hbuf_printf(b, "<line class=\"grid\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\"/>", HL, y,
                   HW - HR, y);
    pm__hbuf_printf(b, "<text class=\"tick\" x=\"%g\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                   HL - 5, y + 4, num2(gv, t, sizeof t));
  }
  const pm_history_row *last = NULL;
  for (size_t k = 0; k < n; k++)
    if (series[k]) last = series[k];
  if (last && last->has_target && isfinite(last->target)) {
    double y = HY(last->target);
    pm__hbuf_printf(b, "<line class=\"tgt\" x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\"><title>目标 "
                      "target %s</title></line>",
                   HL, y, HW - HR, y, num2(last->target, t, sizeof t));
  }
  if (any) {
    pm__hbuf_put(b, "<path class=\"hline\" d=\"");
    int pen = 0;
    for (size_t k = 0; k < n; k++) {
      const pm_history_row *r = series[k];
      if (!r || !r->has_value || !isfinite(r->value)) {
        pen = 0;
        continue;
      }
      pm__hbuf_printf(b, "%c%.1f %.1f", pen ? 'L' : 'M', HX(k), HY(r->value));
      pen = 1;
    }
    pm__hbuf_put(b, "\"/>");
  }
  size_t step = n <= 8 ? 1 : (n + 5) / 6;
  for (size_t k = 0; k < n; k++) {
    const pm_history_run *run = &p->runs[p->h0 + k];
    if (k % step == 0 || k == n - 1)
      pm__hbuf_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%g\" text-anchor=\"middle\">#%lld</text>",
                     HX(k), HH - HB + 16, (long long)run->run_id);
    const pm_history_row *r = series[k];
    if (!r || !r->has_value || !isfinite(r->value)) continue;
    const char *cls = r->met == 1 ? "met" : r->met == 0 ? "missed" : "none";
    pm__hbuf_printf(b, "<circle class=\"hpt %s\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>#%lld ", cls,
                   HX(k), HY(r->value), (long long)run->run_id);
    pm__hbuf_esc(b, local_time(p, run->finished_at, t, sizeof t));
    pm__hbuf_put(b, ": ");
    pm_report_format_value(r->value, unit_of(ir), r->has_target ? r->target_op : NULL, r->target,
                           v, sizeof v);
    pm__hbuf_esc(b, v);
    pm__hbuf_put(b, r->met == 1 ? " ✓" : r->met == 0 ? " ✗" : "");
    pm__hbuf_put(b, "</title></circle>");
  }
#undef HX
#undef HY
  pm__hbuf_put(b, "</svg></figure>\n");
}

static pm_status history_section(page *p, const pm_indicator_result *ir) {
  if (p->hn < 2 || !ir->n_results) return PM_OK;
  const pm_history_row **series = calloc(p->hn, sizeof *series);
  if (!series) return oom(p);
  pm__hbuf_printf(&p->b, "<h3>历次运行 History <small>最近 %zu 次运行 the last %zu runs</small></h3>"
                        "<div class=\"hist\">\n",
                 p->hn, p->hn);
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    memset(series, 0, p->hn * sizeof *series);
    for (size_t q = 0; q < p->n_rows; q++) {
      const pm_history_row *row = &p->rows[q];
      if (!row->indicator_id || !ir->id || strcmp(row->indicator_id, ir->id) != 0) continue;
      if (!row->district || !r->district || strcmp(row->district, r->district) != 0) continue;
      for (size_t k = 0; k < p->hn; k++)
        if (p->runs[p->h0 + k].run_id == row->run_id) series[k] = row;
    }
    history_chart(p, ir, r, series);
  }
  pm__hbuf_put(&p->b, "</div>\n");
  free(series);
  return PM_OK;
}

/* ---------- the page ---------- */

/* Where `_all` meets the target but a district does not, the badge says "missed": say why. */
static void every_district_rule(page *p, const pm_indicator_result *ir) {
  const pm_result *all = result_all(ir);
  if (!all || !all->has_target || !all->has_value || !all->met) return;
  size_t n = 0;
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    if (is_all(r->district) || !r->has_target || !r->has_value || r->met) continue;
    pm__hbuf_put(&p->b, n++ ? "、" : "<p class=\"rule\">未达标：全部 _all 达到目标，但 ");
    pm__hbuf_esc(&p->b, r->district);
  }
  if (!n) return;
  pm__hbuf_put(&p->b, " 未达到——只有每个区都达到目标，才算达标。 Missed: a target is met only if every "
                      "district meets it; _all meets it, ");
  size_t k = 0;
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    if (is_all(r->district) || !r->has_target || !r->has_value || r->met) continue;
    if (k++) pm__hbuf_put(&p->b, ", ");
    pm__hbuf_esc(&p->b, r->district);
  }
  pm__hbuf_put(&p->b, n == 1 ? " does not.</p>\n" : " do not.</p>\n");
}

static pm_status indicator_section(page *p, const pm_indicator_result *ir, size_t idx) {
  pm__hbuf *b = &p->b;
  char t[96];
  pm__hbuf_printf(b, "<section class=\"ind\" id=\"ind-%zu\">\n<h2>", idx + 1);
  pm__hbuf_esc(b, ir->title && *ir->title ? ir->title : ir->id);
  pm__hbuf_put(b, " ");
  badge(p, ir);
  pm__hbuf_put(b, "</h2>\n<div class=\"idline\"><code>");
  pm__hbuf_esc(b, ir->id);
  pm__hbuf_put(b, "</code> · ");
  pm__hbuf_esc(b, ir->metric);
  if (ir->unit && *ir->unit) {
    pm__hbuf_put(b, " · 单位 unit ");
    pm__hbuf_esc(b, ir->unit);
  }
  if (ir->has_target) {
    target_text(ir, ir->target_value, t, sizeof t);
    pm__hbuf_put(b, " · 目标 target ");
    pm__hbuf_esc(b, t);
  }
  if (ir->status == PM_IND_MANUAL) pm__hbuf_put(b, " · 手工填报 reported by hand");
  pm__hbuf_put(b, "</div>\n");
  const pm_indicator_spec *spec = run_spec(p, ir);
  if (spec && spec->note && *spec->note) {
    pm__hbuf_put(b, "<p class=\"note\">");
    pm__hbuf_esc(b, spec->note);
    pm__hbuf_put(b, "</p>\n");
  }
  pm__hbuf_put(b, "<h3>各区数值 Value per district</h3>\n");
  bar_chart(p, ir);
  every_district_rule(p, ir);
  facilities_table(p, ir);
  values_table(p, ir);
  pm_status st = PM_OK;
  pm__html_view v;
  memset(&v, 0, sizeof v);
  int drawn = 0, map_id = 0;
  if (ir->status != PM_IND_NO_DATA) {
    pm__hbuf_put(b, "<h3>地图 Map</h3>\n");
    size_t mark = b->len;
    st = map_section(p, ir, &v, &drawn, &map_id);
    if (!st && !drawn && b->len == mark)
      pm__hbuf_put(b, "<p class=\"note\">没有可绘制的几何 no geometry recorded for this "
                     "indicator.</p>\n");
  }
  if (!st) st = gap_table(p, ir, drawn ? &v : NULL, drawn ? map_id : 0);
  if (!st) st = history_section(p, ir);
  pm__hbuf_put(b, "</section>\n");
  return st;
}

static void overview(page *p) {
  pm__hbuf *b = &p->b;
  const pm_run_result *run = p->run;
  size_t n_met = 0, n_missed = 0, n_nodata = 0, n_other = 0;
  for (size_t i = 0; i < run->n_indicators; i++) {
    switch (verdict(&run->indicators[i])) {
      case V_MET: n_met++; break;
      case V_MISSED: n_missed++; break;
      case V_NODATA: n_nodata++; break;
      default: n_other++;
    }
  }
  pm__hbuf_printf(b,
                 "<div class=\"tiles\"><div class=\"tile\"><b>%zu</b>指标 indicators</div>"
                 "<div class=\"tile met\"><b>%zu</b>达标 met</div>"
                 "<div class=\"tile missed\"><b>%zu</b>未达标 missed</div>"
                 "<div class=\"tile nodata\"><b>%zu</b>无数据 no data</div>"
                 "<div class=\"tile\"><b>%zu</b>无目标或手工 no target / manual</div></div>\n",
                 run->n_indicators, n_met, n_missed, n_nodata, n_other);
  pm__hbuf_put(b, "</header>\n<section class=\"overview\"><h2>总览 Overview</h2><table "
                 "class=\"overview\"><thead><tr><th class=\"num\">#</th><th>指标 indicator</th>"
                 "<th class=\"num\">全部 _all</th><th class=\"num\">目标 target</th><th>结果 "
                 "result</th><th class=\"num\">缺口 gaps</th></tr></thead><tbody>\n");
  char v[96], t[96];
  for (size_t i = 0; i < run->n_indicators; i++) {
    const pm_indicator_result *ir = &run->indicators[i];
    const pm_result *all = result_all(ir);
    v[0] = t[0] = '\0';
    if (all) value_text(ir, all, v, sizeof v);
    if (ir->has_target) target_text(ir, ir->target_value, t, sizeof t);
    pm__hbuf_printf(b, "<tr><td class=\"num\">%zu</td><td><a href=\"#ind-%zu\">", i + 1, i + 1);
    pm__hbuf_esc(b, ir->title && *ir->title ? ir->title : ir->id);
    pm__hbuf_put(b, "</a><br><span class=\"idline\"><code>");
    pm__hbuf_esc(b, ir->id);
    pm__hbuf_put(b, "</code></span></td><td class=\"num\">");
    pm__hbuf_esc(b, *v ? v : "—");
    pm__hbuf_put(b, "</td><td class=\"num\">");
    pm__hbuf_esc(b, t);
    pm__hbuf_put(b, "</td><td>");
    badge(p, ir);
    /* Not measured: no gap count (0 would read "nothing missing"). */
    if (ir->status == PM_IND_NO_DATA)
      pm__hbuf_put(b, "</td><td class=\"num\">—</td></tr>\n");
    else
      pm__hbuf_printf(b, "</td><td class=\"num\">%zu</td></tr>\n", all ? all->n_gaps : (size_t)0);
  }
  pm__hbuf_put(b, "</tbody></table></section>\n");
}

/* The indicators without data, together in one short list: no empty chart, no map. */
static void nodata_section(page *p) {
  pm__hbuf *b = &p->b;
  const pm_run_result *run = p->run;
  size_t n = 0;
  for (size_t i = 0; i < run->n_indicators; i++) n += run->indicators[i].status == PM_IND_NO_DATA;
  if (!n) return;
  pm__hbuf_printf(b, "<section class=\"nodata\" id=\"nodata\"><h2>无数据的指标 Indicators without data "
                     "<small>%zu</small></h2>\n<p class=\"note\">这些指标所需的图层不在数据中，未作计算。"
                     "把图层文件放到计划所写的路径后再运行即可。 These indicators were not measured: a "
                     "layer they need is not in the data. Put its file at the path the plan gives and "
                     "run the plan again.</p>\n<table class=\"nodata\"><thead><tr><th class=\"num\">#"
                     "</th><th>指标 indicator</th><th class=\"num\">目标 target</th><th>缺少 missing</th>"
                     "</tr></thead><tbody>\n",
                  n);
  char t[96];
  for (size_t i = 0; i < run->n_indicators; i++) {
    const pm_indicator_result *ir = &run->indicators[i];
    if (ir->status != PM_IND_NO_DATA) continue;
    t[0] = '\0';
    if (ir->has_target) target_text(ir, ir->target_value, t, sizeof t);
    pm__hbuf_printf(b, "<tr id=\"ind-%zu\"><td class=\"num\">%zu</td><td>", i + 1, i + 1);
    pm__hbuf_esc(b, ir->title && *ir->title ? ir->title : ir->id);
    pm__hbuf_put(b, "<br><span class=\"idline\"><code>");
    pm__hbuf_esc(b, ir->id);
    pm__hbuf_put(b, "</code> · ");
    pm__hbuf_esc(b, ir->metric);
    pm__hbuf_put(b, "</span>");
    const pm_indicator_spec *spec = run_spec(p, ir);
    if (spec && spec->note && *spec->note) {
      pm__hbuf_put(b, "<br><span class=\"note\">");
      pm__hbuf_esc(b, spec->note);
      pm__hbuf_put(b, "</span>");
    }
    pm__hbuf_put(b, "</td><td class=\"num\">");
    pm__hbuf_esc(b, t);
    pm__hbuf_put(b, "</td><td>");
    pm__hbuf_esc(b, ir->status_reason ? ir->status_reason : "a layer it needs is missing");
    pm__hbuf_put(b, "</td></tr>\n");
  }
  pm__hbuf_put(b, "</tbody></table></section>\n");
}

/* Whether a dataset's layer is named after its file (a shapefile's, a CSV's): not worth saying. */
static int same_as_file(const char *path, const char *layer) {
  const char *base = path ? strrchr(path, '/') : NULL;
  base = base ? base + 1 : path ? path : "";
  size_t n = strlen(layer);
  return strncmp(base, layer, n) == 0 && (base[n] == '.' || base[n] == '\0');
}

/* Each input layer of the run: its file, when it was ingested, its features, its CRS and its
 * licence (OpenStreetMap data credited as the ODbL asks). */
static void sources_section(page *p) {
  pm__hbuf *b = &p->b;
  if (!p->n_src) return;
  pm__hbuf_put(b, "<section class=\"sources\" id=\"sources\"><h2>数据来源 Sources</h2>\n"
                  "<table class=\"sources\"><thead><tr><th>图层 layer</th><th>文件 file</th><th>导入 "
                  "ingested</th><th class=\"num\">要素 features</th><th>原坐标系 source CRS</th><th>"
                  "许可与来源 licence</th></tr></thead><tbody>\n");
  char t[64], nb[48];
  for (size_t i = 0; i < p->n_src; i++) {
    const pm__source *s = &p->src[i];
    const pm_layer_info *li = &s->info;
    pm__hbuf_put(b, "<tr><td><code>");
    pm__hbuf_esc(b, s->layer);
    pm__hbuf_put(b, "</code></td><td class=\"file\">");
    if (s->found) {
      pm__hbuf_esc(b, li->source_path);
      if (li->source_layer && !same_as_file(li->source_path, li->source_layer)) {
        pm__hbuf_put(b, " <span class=\"idline\">(");
        pm__hbuf_esc(b, li->source_layer);
        pm__hbuf_put(b, ")</span>");
      }
      if (li->filter) {
        pm__hbuf_put(b, "<br><span class=\"idline\">where ");
        pm__hbuf_esc(b, li->filter);
        pm__hbuf_put(b, "</span>");
      }
      if (s->changed)
        pm__hbuf_put(b, "<br><span class=\"idline\">此后已重新导入 ingested again since this run "
                        "(from other files): the file, date and count are the current ones</span>");
    } else {
      pm__hbuf_put(b, "<span class=\"idline\">已不在项目中 no longer in the project</span>");
    }
    pm__hbuf_put(b, "</td><td class=\"when\">");
    if (s->found) pm__hbuf_esc(b, local_time(p, li->ingested_at, t, sizeof t));
    pm__hbuf_put(b, "</td><td class=\"num\">");
    if (s->found) pm__hbuf_esc(b, num2k((double)li->n_stored, nb, sizeof nb));
    pm__hbuf_put(b, "</td><td>");
    if (s->found) pm__hbuf_esc(b, li->source_crs);
    pm__hbuf_put(b, "</td><td>");
    if (s->osm) pm__hbuf_put(b, PM_OSM_CREDIT);
    if (s->attribution) {
      if (s->osm) pm__hbuf_put(b, "<br>");
      pm__hbuf_esc(b, s->attribution);
    }
    if (!s->osm && !s->attribution)
      pm__hbuf_put(b, "<span class=\"idline\">未记录 not recorded (the plan can give the layer an "
                      "<code>attribution:</code>)</span>");
    pm__hbuf_put(b, "</td></tr>\n");
  }
  pm__hbuf_put(b, "</tbody></table>\n");
  if (p->osm)
    pm__hbuf_put(b, "<p class=\"note osm\">地图与数值含 OpenStreetMap 数据 Maps and figures contain "
                    "OpenStreetMap data: " PM_OSM_CREDIT " (openstreetmap.org/copyright).</p>\n");
  pm__hbuf_put(b, "</section>\n");
}

static pm_status build_page(page *p) {
  pm__hbuf *b = &p->b;
  const pm_run_result *run = p->run;
  const char *title = run->title && *run->title ? run->title : run->plan ? run->plan : "planmetrics";
  pm__hbuf_put(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<meta name=\"generator\" content=\"planmetrics " PLANMETRICS_VERSION "\">\n<title>");
  pm__hbuf_esc(b, title);
  pm__hbuf_printf(b, " · 运行 #%lld</title>\n<style>\n", (long long)run->run_id);
  pm__hbuf_put(b, PM_HTML_CSS);
  pm__hbuf_put(b, "</style>\n</head>\n<body>\n<main>\n<header class=\"page\">\n<h1>");
  pm__hbuf_esc(b, title);
  pm__hbuf_put(b, "</h1>\n<div class=\"meta\">计划 plan <code>");
  pm__hbuf_esc(b, run->plan);
  pm__hbuf_printf(b, "</code> · 运行 run #%lld · 完成 finished ", (long long)run->run_id);
  char when[64];
  pm__hbuf_esc(b, local_time(p, run->generated_at, when, sizeof when));
  pm__hbuf_put(b, " (");
  pm__hbuf_esc(b, run->timezone ? run->timezone : "UTC");
  pm__hbuf_put(b, ")");
  pm__hbuf_put(b, " · 坐标系 CRS ");
  pm__hbuf_esc(b, run->crs);
  if (run->plan_hash) {
    pm__hbuf_put(b, " · 计划文件 plan SHA-256 <code>");
    pm__hbuf_putn(b, run->plan_hash, strlen(run->plan_hash) > 12 ? 12 : strlen(run->plan_hash));
    pm__hbuf_put(b, "</code>");
  }
  pm__hbuf_put(b, "</div>\n");
  overview(p);
  pm_status st = PM_OK;
  for (size_t i = 0; i < run->n_indicators && !st; i++)
    if (run->indicators[i].status != PM_IND_NO_DATA) st = indicator_section(p, &run->indicators[i], i);
  if (st) return st;
  nodata_section(p);
  sources_section(p);
  pm__hbuf_put(b, "<footer>由 planmetrics " PLANMETRICS_VERSION " 生成 · 数值取自项目数据库 ");
  const char *db = pm_store_path(p->store);
  const char *base = db ? strrchr(db, '/') : NULL;
  pm__hbuf_esc(b, base ? base + 1 : db);
  pm__hbuf_printf(b, " 中记录的运行 #%lld（未重新计算） values as recorded by run #%lld, not "
                    "recomputed",
                 (long long)run->run_id, (long long)run->run_id);
  if (p->dist_layer) {
    pm__hbuf_put(b, " · 区界 districts: ");
    pm__hbuf_esc(b, p->dist_layer);
    pm__hbuf_put(b, ".");
    pm__hbuf_esc(b, p->dist_field);
  }
  pm__hbuf_put(b, " · 地图坐标 map CRS ");
  pm__hbuf_esc(b, run->crs);
  if (p->osm) pm__hbuf_put(b, " · 含 OpenStreetMap 数据 contains OpenStreetMap data: " PM_OSM_CREDIT);
  pm__hbuf_put(b, "</footer>\n</main>\n<script>\n");
  pm__hbuf_put(b, PM_HTML_JS);
  pm__hbuf_put(b, "</script>\n</body>\n</html>\n");
  return b->oom ? oom(p) : PM_OK;
}

/* ---------- output ---------- */

pm_status pm_html_write_report(pm_store *store, int64_t run_id, const char *path) {
  pm_context *ctx = pm_store_context(store);
  if (!path || !*path) return pm_error(ctx, PM_EINPUT, "give a file name for the HTML report");
  page p;
  memset(&p, 0, sizeof p);
  p.ctx = ctx;
  p.h = pm_context_geos(ctx);
  p.store = store;
  pm_status st = pm_history_load_run(store, run_id, &p.run);
  if (!st && !(p.reader = GEOSWKBReader_create_r(p.h))) st = oom(&p);
  if (!st) st = load_history(&p);
  if (!st) st = load_specs(&p);
  if (!st) st = load_districts(&p);
  if (!st) st = pm__basemap_open(ctx, store, p.run->districts_layer, &p.base);
  if (!st) st = pm__run_sources(store, p.run, &p.src, &p.n_src);
  for (size_t i = 0; !st && i < p.n_src; i++) p.osm |= p.src[i].osm;
  if (!st) st = build_page(&p);
  if (!st) st = pm__output_write_all(ctx, path, "HTML report", p.b.s, p.b.len);
  pm__hbuf_free(&p.b);
  for (size_t i = 0; i < p.n_dist; i++) GEOSGeom_destroy_r(p.h, p.dist[i].g);
  free(p.dist);
  free(p.dist_layer);
  free(p.dist_field);
  if (p.reader) GEOSWKBReader_destroy_r(p.h, p.reader);
  pm__basemap_close(p.base);
  free(p.bases);
  pm__sources_free(p.src, p.n_src);
  pm_history_rows_destroy(p.rows, p.n_rows);
  pm_history_runs_destroy(p.runs, p.n_runs);
  for (size_t i = 0; p.specs && i < p.run->n_indicators; i++) pm_indicator_spec_clear(&p.specs[i]);
  free(p.specs);
  free(p.has_spec);
  pm_run_result_destroy(p.run);
  return st;
}
