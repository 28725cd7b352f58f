/* report.c: report writers for a run's results: JSON, CSV, Markdown and the terminal summary. */
#define _POSIX_C_SOURCE 200809L
#include "planmetrics/report.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/internal.h"
#include "report/output.h"

/* ---------- numbers ---------- */

/* printf follows LC_NUMERIC; reports always use '.' whatever locale the program set. */
static void fix_decimal_point(char *s) {
  for (; *s; s++)
    if (*s == ',') *s = '.';
}

/* Digits of u (u < 10^19) at the end of a 20-byte area ending at end; returns the first. */
static char *put_digits(uint64_t u, char *end) {
  do {
    *--end = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  return end;
}

/* printf's "%.10g" of v (finite, not an integer below 10^15), written without printf where the
 * rounding to ten significant digits is certain: |v| in [1e-4, 1e10), so the notation is fixed
 * and v * 10^(9 - e) (an exact power of ten, one rounding) is at most 2e-6 from the true scaled
 * value, so a fraction farther than 1e-5 from one half rounds the same way as printf's exact
 * conversion. Returns 0 (nothing written) otherwise: printf decides those. A report holds
 * hundreds of thousands of numbers, and glibc's exact conversion took half of writing it. */
static int fast_g10(double v, char *buf, size_t size) {
  static const double p10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,
                               1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13};
  double a = fabs(v);
  if (!(a >= 1e-4 && a < 1e10) || size < 24) return 0;
  int e = 9;
  while (e > -4 && a < (e >= 0 ? p10[e] : 1.0 / p10[-e])) e--;
  double scaled = a * p10[9 - e];
  if (!(scaled >= 1e9 - 1 && scaled < 1e10)) return 0;
  double fl = floor(scaled), frac = scaled - fl;
  if (fabs(frac - 0.5) < 1e-5) return 0;
  uint64_t m = (uint64_t)fl + (frac > 0.5);
  if (m >= 10000000000ULL) { /* carried into one more digit */
    m /= 10;
    e++;
  }
  if (m < 1000000000ULL || e >= 10) return 0;
  char digits[24], *d = put_digits(m, digits + 20); /* ten digits */
  char *o = buf;
  if (v < 0) *o++ = '-';
  if (e >= 0) {
    memcpy(o, d, (size_t)e + 1);
    o += e + 1;
    d += e + 1;
  } else {
    *o++ = '0';
  }
  char *dot = o;
  *o++ = '.';
  for (int z = e; z < -1; z++) *o++ = '0';
  memcpy(o, d, (size_t)(digits + 20 - d));
  o += digits + 20 - d;
  while (o > dot + 1 && o[-1] == '0') o--;
  if (o == dot + 1) o = dot;
  *o = '\0';
  return 1;
}

const char *pm_report_number(double v, char *buf, size_t size) {
  if (!size) return buf;
  buf[0] = '\0';
  if (!isfinite(v)) return buf;
  if (v == 0) v = 0; /* no "-0" */
  if (v == trunc(v) && fabs(v) < 1e15) {
    if (size >= 24) { /* exact in 64 bits */
      char digits[24], *d = put_digits((uint64_t)fabs(v), digits + 20);
      if (v < 0) *--d = '-';
      memcpy(buf, d, (size_t)(digits + 20 - d));
      buf[digits + 20 - d] = '\0';
      return buf;
    }
    snprintf(buf, size, "%.0f", v);
  } else if (!fast_g10(v, buf, size)) {
    snprintf(buf, size, "%.10g", v);
  }
  fix_decimal_point(buf);
  return buf;
}

static void fmt_decimals(double v, int dec, char *buf, size_t size) {
  snprintf(buf, size, "%.*f", dec, v);
  fix_decimal_point(buf);
  char *dot = strchr(buf, '.');
  if (dot) {
    char *end = buf + strlen(buf);
    while (end > dot + 1 && end[-1] == '0') *--end = '\0';
    if (end == dot + 1) *dot = '\0';
  }
  if (strcmp(buf, "-0") == 0) strcpy(buf, "0");
}

static int unit_is_count(const char *unit) {
  return !unit || !*unit || strcmp(unit, "count") == 0;
}

const char *pm_report_format_value(double value, const char *unit, const char *op, double target,
                                   char *buf, size_t size) {
  if (!size) return buf;
  buf[0] = '\0';
  if (!isfinite(value)) return buf;
  char num[400];
  fmt_decimals(value, 2, num, sizeof num);
  if (op && *op && isfinite(target)) {
    /* Never let rounding show a missed target as reached (99.996% is not 100%), or the reverse. */
    int truth = pm_target_met(op, target, value);
    for (int dec = 2; dec <= 12; dec++) {
      double p = pow(10.0, dec);
      double shown = round(value * p) / p;
      fmt_decimals(value, dec, num, sizeof num);
      if (pm_target_met(op, target, shown) == truth) break;
    }
  }
  if (unit_is_count(unit))
    snprintf(buf, size, "%s", num);
  else if (strcmp(unit, "%") == 0)
    snprintf(buf, size, "%s%%", num);
  else
    snprintf(buf, size, "%s %s", num, unit);
  return buf;
}

static const char *op_symbol(const char *op) {
  if (!op) return "";
  if (strcmp(op, ">=") == 0) return "≥";
  if (strcmp(op, "<=") == 0) return "≤";
  if (strcmp(op, "==") == 0) return "=";
  return op;
}

/* "≥ 100%" for a result (or the indicator when the result has none); "" without a target. */
static void target_text(const pm_indicator_result *ir, const pm_result *r, char *buf, size_t size) {
  buf[0] = '\0';
  int has = r ? r->has_target : ir->has_target;
  double t = r ? r->target : ir->target_value;
  if (!has && ir->has_target) {
    has = 1;
    t = ir->target_value;
  }
  if (!has || !isfinite(t)) return;
  char v[128];
  pm_report_format_value(t, ir->unit, NULL, NAN, v, sizeof v);
  snprintf(buf, size, "%s %s", op_symbol(ir->target_op), v);
}

static void value_text(const pm_indicator_result *ir, const pm_result *r, char *buf, size_t size) {
  buf[0] = '\0';
  if (!r->has_value) return;
  const char *op = r->has_target && isfinite(r->target) ? ir->target_op : NULL;
  pm_report_format_value(r->value, ir->unit, op, r->target, buf, size);
}

/* Plain number for numerator/denominator/distance cells (2 decimals); "" for NAN. */
static void plain_number(double v, char *buf, size_t size) {
  buf[0] = '\0';
  if (isfinite(v)) fmt_decimals(v, 2, buf, size);
}

/* -1 no verdict (no target or no value), else met 0/1. */
static int verdict(const pm_result *r) {
  if (!r->has_target || !r->has_value) return -1;
  return r->met ? 1 : 0;
}

/* The run's time for people: in the plan's time zone with its offset ("2026-01-01 08:00 +08:00
 * (Asia/Shanghai)"); JSON and CSV keep UTC. */
static const char *run_time(const pm_run_result *run, char *buf, size_t size) {
  char t[64];
  if (!run->generated_at) {
    buf[0] = '\0';
    return buf;
  }
  pm_time_in_zone(run->generated_at, run->timezone, t, sizeof t);
  snprintf(buf, size, "%s (%s)", t, run->timezone ? run->timezone : "UTC");
  return buf;
}

/* The districts (comma-separated into buf) that miss the target while `_all` meets it: the case
 * where "a target is met only if every district meets it" needs saying. 0 when it does not apply. */
static int all_met_district_missed(const pm_indicator_result *ir, char *buf, size_t size) {
  int all_met = 0, n = 0;
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    if (!r->has_target || !r->has_value) continue;
    if (r->district && strcmp(r->district, "_all") == 0) {
      all_met = r->met;
    } else if (!r->met && len + 1 < size) {
      len += (size_t)snprintf(buf + len, size - len, "%s%s", n ? ", " : "",
                              r->district ? r->district : "?");
      if (len >= size) len = size - 1;
      n++;
    }
  }
  return all_met && n > 0;
}

/* ---------- growable string ---------- */

typedef struct sbuf {
  char *s;
  size_t len, cap;
  int failed;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
  if (b->failed) return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *p = realloc(b->s, cap);
    if (!p) {
      b->failed = 1;
      return;
    }
    b->s = p;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void sb_puts(sbuf *b, const char *s) { sb_add(b, s, strlen(s)); }

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    sb_add(b, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (!big) {
    b->failed = 1;
    return;
  }
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb_add(b, big, (size_t)n);
  free(big);
}

static const char *sb_str(const sbuf *b) { return b->s ? b->s : ""; }

/* ---------- JSON ---------- */

static void json_number(FILE *f, double v) {
  char buf[64];
  if (!isfinite(v)) {
    fputs("null", f);
    return;
  }
  fputs(pm_report_number(v, buf, sizeof buf), f);
}

static void json_key(FILE *f, int *first, const char *indent, const char *key) {
  fputs(*first ? "" : ",", f);
  if (indent)
    fprintf(f, "\n%s", indent);
  else if (!*first)
    fputc(' ', f);
  *first = 0;
  pm__json_string(f, key);
  fputs(": ", f);
}

static void json_gap(FILE *f, const pm_gap *g) {
  int first = 1;
  fputc('{', f);
  json_key(f, &first, NULL, "id");
  pm__json_string(f, g->id);
  json_key(f, &first, NULL, "name");
  pm__json_string(f, g->name);
  json_key(f, &first, NULL, "district");
  pm__json_string(f, g->district);
  json_key(f, &first, NULL, "distance_m");
  json_number(f, g->distance_m);
  json_key(f, &first, NULL, "shortfall");
  json_number(f, g->shortfall);
  json_key(f, &first, NULL, "nearest");
  pm__json_string(f, g->nearest);
  json_key(f, &first, NULL, "note");
  pm__json_string(f, g->note);
  json_key(f, &first, NULL, "x");
  json_number(f, g->x);
  json_key(f, &first, NULL, "y");
  json_number(f, g->y);
  if (isfinite(g->straight_m)) { /* distance: network */
    json_key(f, &first, NULL, "straight_line_m");
    json_number(f, g->straight_m);
  }
  fputc('}', f);
}

/* no_data: the indicator could not be measured, so it has no gap count (0 would read "nothing
 * missing"): n_gaps and gaps are null. */
static void json_result(FILE *f, const pm_result *r, int no_data) {
  const char *in = "          ";
  int first = 1;
  fputs("{", f);
  json_key(f, &first, in, "district");
  pm__json_string(f, r->district);
  json_key(f, &first, in, "value");
  json_number(f, r->has_value ? r->value : NAN);
  json_key(f, &first, in, "null_reason");
  pm__json_string(f, r->has_value ? NULL : (r->null_reason ? r->null_reason : "no value"));
  json_key(f, &first, in, "numerator");
  json_number(f, r->numerator);
  json_key(f, &first, in, "denominator");
  json_number(f, r->denominator);
  json_key(f, &first, in, "target");
  json_number(f, r->has_target ? r->target : NAN);
  json_key(f, &first, in, "met");
  int v = verdict(r);
  fputs(v < 0 ? "null" : v ? "true" : "false", f);
  json_key(f, &first, in, "n_gaps");
  if (no_data)
    fputs("null", f);
  else
    fprintf(f, "%zu", r->n_gaps);
  json_key(f, &first, in, "classes");
  fputc('[', f);
  for (size_t c = 0; c < r->n_classes; c++) {
    fputs(c ? ", {" : "{", f);
    int cf = 1;
    json_key(f, &cf, NULL, "label");
    pm__json_string(f, r->classes[c].label);
    json_key(f, &cf, NULL, "count");
    fprintf(f, "%lld", (long long)r->classes[c].count);
    fputc('}', f);
  }
  fputc(']', f);
  if (r->n_facilities) { /* life_circle: the share served by each facility type */
    json_key(f, &first, in, "facilities");
    fputc('[', f);
    for (size_t k = 0; k < r->n_facilities; k++) {
      const pm_facility_share *x = &r->facilities[k];
      fputs(k ? ", {" : "{", f);
      int cf = 1;
      json_key(f, &cf, NULL, "name");
      pm__json_string(f, x->name);
      json_key(f, &cf, NULL, "value");
      json_number(f, x->has_value ? x->value : NAN);
      json_key(f, &cf, NULL, "numerator");
      json_number(f, x->numerator);
      json_key(f, &cf, NULL, "denominator");
      json_number(f, x->denominator);
      fputc('}', f);
    }
    fputc(']', f);
  }
  json_key(f, &first, in, "gaps");
  if (no_data) {
    fputs("null", f);
  } else if (r->n_gaps == 0) {
    fputs("[]", f);
  } else {
    fputc('[', f);
    for (size_t g = 0; g < r->n_gaps; g++) {
      fputs(g ? ",\n            " : "\n            ", f);
      json_gap(f, &r->gaps[g]);
    }
    fputs("\n          ]", f);
  }
  fputs("\n        }", f);
}

static void json_indicator(FILE *f, const pm_indicator_result *ir) {
  const char *in = "      ";
  int first = 1;
  fputs("{", f);
  json_key(f, &first, in, "id");
  pm__json_string(f, ir->id);
  json_key(f, &first, in, "title");
  pm__json_string(f, ir->title);
  json_key(f, &first, in, "metric");
  pm__json_string(f, ir->metric);
  json_key(f, &first, in, "unit");
  pm__json_string(f, ir->unit);
  json_key(f, &first, in, "status");
  pm__json_string(f, pm_indicator_status_name(ir->status));
  json_key(f, &first, in, "status_reason");
  pm__json_string(f, ir->status_reason);
  json_key(f, &first, in, "target_op");
  pm__json_string(f, ir->has_target ? ir->target_op : NULL);
  json_key(f, &first, in, "target");
  json_number(f, ir->has_target ? ir->target_value : NAN);
  if (ir->distance) {
    json_key(f, &first, in, "distance");
    pm__json_string(f, ir->distance);
  }
  if (ir->network) { /* already a JSON object */
    json_key(f, &first, in, "network");
    fputs(ir->network, f);
  }
  json_key(f, &first, in, "results");
  if (ir->n_results == 0) {
    fputs("[]", f);
  } else {
    fputc('[', f);
    for (size_t i = 0; i < ir->n_results; i++) {
      fputs(i ? ",\n        " : "\n        ", f);
      json_result(f, &ir->results[i], ir->status == PM_IND_NO_DATA);
    }
    fputs("\n      ]", f);
  }
  fputs("\n    }", f);
}

static void json_run(FILE *f, const pm_run_result *run) {
  const char *in = "  ";
  int first = 1;
  fputs("{", f);
  json_key(f, &first, in, "plan");
  pm__json_string(f, run->plan);
  json_key(f, &first, in, "title");
  pm__json_string(f, run->title);
  json_key(f, &first, in, "crs");
  pm__json_string(f, run->crs);
  json_key(f, &first, in, "generated_at");
  pm__json_string(f, run->generated_at);
  json_key(f, &first, in, "run_id");
  if (run->run_id > 0)
    fprintf(f, "%lld", (long long)run->run_id);
  else
    fputs("null", f);
  json_key(f, &first, in, "plan_hash");
  pm__json_string(f, run->plan_hash);
  json_key(f, &first, in, "indicators");
  if (run->n_indicators == 0) {
    fputs("[]", f);
  } else {
    fputc('[', f);
    for (size_t i = 0; i < run->n_indicators; i++) {
      fputs(i ? ",\n    " : "\n    ", f);
      json_indicator(f, &run->indicators[i]);
    }
    fputs("\n  ]", f);
  }
  fputs("\n}\n", f);
}

pm_status pm_report_write_json(pm_context *ctx, const pm_run_result *run, const char *path) {
  pm__output o;
  pm_status st = pm__output_open(ctx, &o, path, "JSON report");
  if (st) return st;
  json_run(o.f, run);
  return pm__output_close(ctx, &o, PM_OK);
}

/* ---------- CSV ---------- */

static void csv_field(FILE *f, const char *s, int last) {
  if (s && *s) {
    if (strpbrk(s, ",\"\r\n")) {
      fputc('"', f);
      for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
      }
      fputc('"', f);
    } else {
      fputs(s, f);
    }
  }
  fputs(last ? "\r\n" : ",", f);
}

static void csv_number(FILE *f, double v) {
  char buf[64];
  csv_field(f, pm_report_number(v, buf, sizeof buf), 0);
}

static const char *CSV_HEADER[] = {"indicator_id", "title",   "metric",    "unit",
                                   "status",       "district", "value",    "numerator",
                                   "denominator",  "target_op", "target",  "met",
                                   "n_gaps",       "worst_gaps", "null_reason"};

enum { CSV_WORST_GAPS = 5, MD_GAPS = 20 };

static void worst_gaps(sbuf *b, const pm_result *r) {
  size_t n = r->n_gaps < CSV_WORST_GAPS ? r->n_gaps : CSV_WORST_GAPS;
  char num[64];
  for (size_t i = 0; i < n; i++) {
    const pm_gap *g = &r->gaps[i];
    if (i) sb_puts(b, "; ");
    sb_puts(b, g->id ? g->id : "?");
    if (g->name && *g->name) sb_printf(b, " (%s)", g->name);
    if (isfinite(g->distance_m))
      sb_printf(b, ": %s m", pm_report_number(g->distance_m, num, sizeof num));
    else if (isfinite(g->shortfall))
      sb_printf(b, ": short by %s", pm_report_number(g->shortfall, num, sizeof num));
  }
  if (r->n_gaps > n) sb_printf(b, "; ... and %zu more", r->n_gaps - n);
}

static int csv_run(FILE *f, const pm_run_result *run) {
  fputs("\xEF\xBB\xBF", f); /* BOM: Excel otherwise reads UTF-8 Chinese as mojibake */
  size_t nh = sizeof CSV_HEADER / sizeof CSV_HEADER[0];
  for (size_t i = 0; i < nh; i++) csv_field(f, CSV_HEADER[i], i + 1 == nh);
  int failed = 0;
  for (size_t k = 0; k < run->n_indicators; k++) {
    const pm_indicator_result *ir = &run->indicators[k];
    const char *status = pm_indicator_status_name(ir->status);
    if (ir->n_results == 0) {
      csv_field(f, ir->id, 0);
      csv_field(f, ir->title, 0);
      csv_field(f, ir->metric, 0);
      csv_field(f, ir->unit, 0);
      csv_field(f, status, 0);
      for (int i = 0; i < 4; i++) csv_field(f, NULL, 0); /* district value numerator denominator */
      csv_field(f, ir->has_target ? ir->target_op : NULL, 0);
      csv_number(f, ir->has_target ? ir->target_value : NAN);
      csv_field(f, NULL, 0); /* met */
      csv_field(f, NULL, 0); /* n_gaps: not measured, so no count */
      csv_field(f, NULL, 0);
      csv_field(f, ir->status_reason, 1);
      continue;
    }
    for (size_t i = 0; i < ir->n_results; i++) {
      const pm_result *r = &ir->results[i];
      csv_field(f, ir->id, 0);
      csv_field(f, ir->title, 0);
      csv_field(f, ir->metric, 0);
      csv_field(f, ir->unit, 0);
      csv_field(f, status, 0);
      csv_field(f, r->district, 0);
      csv_number(f, r->has_value ? r->value : NAN);
      csv_number(f, r->numerator);
      csv_number(f, r->denominator);
      csv_field(f, r->has_target ? ir->target_op : NULL, 0);
      csv_number(f, r->has_target ? r->target : NAN);
      int v = verdict(r);
      csv_field(f, v < 0 ? NULL : v ? "true" : "false", 0);
      char n[32];
      snprintf(n, sizeof n, "%zu", r->n_gaps);
      csv_field(f, ir->status == PM_IND_NO_DATA ? NULL : n, 0);
      sbuf b = {0};
      worst_gaps(&b, r);
      if (b.failed) failed = 1;
      csv_field(f, sb_str(&b), 0);
      free(b.s);
      const char *why = r->has_value ? NULL : r->null_reason;
      if (!why && ir->status != PM_IND_COMPUTED) why = ir->status_reason;
      csv_field(f, why, 1);
      /* life_circle: one more row per facility type, id "<indicator>/<type>" */
      for (size_t q = 0; q < r->n_facilities; q++) {
        const pm_facility_share *x = &r->facilities[q];
        sbuf id = {0}, title = {0};
        sb_printf(&id, "%s/%s", ir->id, x->name);
        sb_printf(&title, "%s: %s", ir->title ? ir->title : ir->id, x->name);
        if (id.failed || title.failed) failed = 1;
        csv_field(f, sb_str(&id), 0);
        csv_field(f, sb_str(&title), 0);
        csv_field(f, ir->metric, 0);
        csv_field(f, ir->unit, 0);
        csv_field(f, status, 0);
        csv_field(f, r->district, 0);
        csv_number(f, x->has_value ? x->value : NAN);
        csv_number(f, x->numerator);
        csv_number(f, x->denominator);
        for (int e = 0; e < 5; e++) csv_field(f, NULL, 0); /* target_op target met n_gaps gaps */
        csv_field(f, "the share served by this facility type alone", 1);
        free(id.s);
        free(title.s);
      }
    }
  }
  return failed;
}

pm_status pm_report_write_csv(pm_context *ctx, const pm_run_result *run, const char *path) {
  pm__output o;
  pm_status st = pm__output_open(ctx, &o, path, "CSV report");
  if (st) return st;
  if (csv_run(o.f, run)) st = pm_error(ctx, PM_ENOMEM, "out of memory writing %s", path);
  return pm__output_close(ctx, &o, st);
}

/* ---------- Markdown ---------- */

/* Text in Markdown (table cells and headings): escape what Markdown would interpret, and keep a
 * table row on one line. */
static void md_text(FILE *f, const char *s) {
  if (!s) return;
  for (const char *p = s; *p; p++) {
    switch (*p) {
    case '\\': case '|': case '*': case '_': case '`': case '<': case '>': case '[': case ']':
      fputc('\\', f);
      fputc(*p, f);
      break;
    default:
      /* Control characters (newlines, tabs) would break a table row. */
      fputc((unsigned char)*p < 0x20 || *p == 0x7F ? ' ' : *p, f);
    }
  }
}

/* An identifier as a code span when it can be one (no backticks, no newlines). */
static void md_code(FILE *f, const char *s) {
  if (!s) return;
  if (strpbrk(s, "`\r\n")) {
    md_text(f, s);
    return;
  }
  fputc('`', f);
  for (const char *p = s; *p; p++) {
    if (*p == '|') fputc('\\', f); /* a pipe ends a table cell even inside a code span */
    fputc(*p, f);
  }
  fputc('`', f);
}

static const pm_result *all_result(const pm_indicator_result *ir) {
  for (size_t i = 0; i < ir->n_results; i++)
    if (ir->results[i].district && strcmp(ir->results[i].district, "_all") == 0)
      return &ir->results[i];
  return ir->n_results ? &ir->results[ir->n_results - 1] : NULL;
}

static const char *met_mark(int v) { return v < 0 ? "" : v ? "✓" : "✗"; }

static void md_value_cell(FILE *f, const pm_indicator_result *ir, const pm_result *r) {
  char buf[512];
  if (r->has_value) {
    value_text(ir, r, buf, sizeof buf);
    md_text(f, buf);
  } else {
    fputs("— (", f);
    md_text(f, r->null_reason ? r->null_reason : "no value");
    fputc(')', f);
  }
}

static void md_gaps(FILE *f, const pm_result *r) {
  int has_name = 0, has_dist = 0, has_short = 0, has_near = 0, has_note = 0, has_district = 0;
  size_t n = r->n_gaps < MD_GAPS ? r->n_gaps : MD_GAPS;
  for (size_t i = 0; i < n; i++) {
    const pm_gap *g = &r->gaps[i];
    has_name |= g->name && *g->name;
    has_dist |= isfinite(g->distance_m);
    has_short |= isfinite(g->shortfall);
    has_near |= g->nearest && *g->nearest;
    has_note |= g->note && *g->note;
    has_district |= g->district && r->district && strcmp(g->district, r->district) != 0;
  }
  fputs("\n### Gaps in ", f);
  md_text(f, r->district);
  fprintf(f, " (%zu)\n\n| # | ID |", r->n_gaps);
  if (has_name) fputs(" Name |", f);
  if (has_district) fputs(" District |", f);
  if (has_dist) fputs(" Distance (m) |", f);
  if (has_short) fputs(" Shortfall |", f);
  if (has_near) fputs(" Nearest |", f);
  if (has_note) fputs(" Note |", f);
  fputs("\n|---:|---|", f);
  if (has_name) fputs("---|", f);
  if (has_district) fputs("---|", f);
  if (has_dist) fputs("---:|", f);
  if (has_short) fputs("---:|", f);
  if (has_near) fputs("---|", f);
  if (has_note) fputs("---|", f);
  fputc('\n', f);
  char num[64];
  for (size_t i = 0; i < n; i++) {
    const pm_gap *g = &r->gaps[i];
    fprintf(f, "| %zu | ", i + 1);
    md_code(f, g->id);
    fputs(" |", f);
    if (has_name) {
      fputc(' ', f);
      md_text(f, g->name);
      fputs(" |", f);
    }
    if (has_district) {
      fputc(' ', f);
      md_text(f, g->district);
      fputs(" |", f);
    }
    if (has_dist) {
      plain_number(g->distance_m, num, sizeof num);
      fprintf(f, " %s |", num);
    }
    if (has_short) {
      plain_number(g->shortfall, num, sizeof num);
      fprintf(f, " %s |", num);
    }
    if (has_near) {
      fputc(' ', f);
      md_text(f, g->nearest);
      fputs(" |", f);
    }
    if (has_note) {
      fputc(' ', f);
      md_text(f, g->note);
      fputs(" |", f);
    }
    fputc('\n', f);
  }
  if (r->n_gaps > n) fprintf(f, "\n... and %zu more\n", r->n_gaps - n);
}

static void md_indicator(FILE *f, const pm_indicator_result *ir) {
  char buf[512];
  fputs("\n## ", f);
  md_text(f, ir->id);
  if (ir->title && *ir->title) {
    fputs(" — ", f);
    md_text(f, ir->title);
  }
  fputs("\n\nMetric: ", f);
  md_code(f, ir->metric);
  if (ir->unit && *ir->unit) {
    fputs(" · Unit: ", f);
    md_text(f, ir->unit);
  }
  target_text(ir, NULL, buf, sizeof buf);
  if (*buf) {
    fputs(" · Target: ", f);
    md_text(f, buf);
  }
  fputs(" · Status: ", f);
  fputs(pm_indicator_status_name(ir->status), f);
  if (ir->status_reason && *ir->status_reason) {
    fputs(" (", f);
    md_text(f, ir->status_reason);
    fputc(')', f);
  }
  fputc('\n', f);
  if (ir->n_results == 0) {
    if (ir->status == PM_IND_NO_DATA) fputs("\nNot measured: the data this indicator needs is missing.\n", f);
    return;
  }
  fputs("\n| District | Value | Numerator | Denominator | Target | Met |\n"
        "|---|---:|---:|---:|---:|:-:|\n",
        f);
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    fputs("| ", f);
    md_text(f, r->district);
    fputs(" | ", f);
    md_value_cell(f, ir, r);
    plain_number(r->numerator, buf, sizeof buf);
    fprintf(f, " | %s", buf);
    plain_number(r->denominator, buf, sizeof buf);
    fprintf(f, " | %s | ", buf);
    if (r->has_target) {
      target_text(ir, r, buf, sizeof buf);
      md_text(f, buf);
    }
    fprintf(f, " | %s |\n", met_mark(verdict(r)));
  }
  if (all_met_district_missed(ir, buf, sizeof buf)) {
    fputs("\nMissed: a target is met only if every district meets it; `_all` meets it, ", f);
    md_text(f, buf);
    fputs(" does not.\n", f);
  }
  int any_class = 0;
  for (size_t i = 0; i < ir->n_results; i++) any_class |= ir->results[i].n_classes > 0;
  if (any_class) {
    fputs("\n| District | Class | Count |\n|---|---|---:|\n", f);
    for (size_t i = 0; i < ir->n_results; i++) {
      const pm_result *r = &ir->results[i];
      for (size_t c = 0; c < r->n_classes; c++) {
        fputs("| ", f);
        md_text(f, r->district);
        fputs(" | ", f);
        md_text(f, r->classes[c].label);
        fprintf(f, " | %lld |\n", (long long)r->classes[c].count);
      }
    }
  }
  int any_fac = 0;
  for (size_t i = 0; i < ir->n_results; i++) any_fac |= ir->results[i].n_facilities > 0;
  if (any_fac) { /* life_circle: the share served by each facility type */
    fputs("\n| District | Facility type | Served (%) | Served / all |\n|---|---|---:|---:|\n", f);
    for (size_t i = 0; i < ir->n_results; i++) {
      const pm_result *r = &ir->results[i];
      for (size_t k = 0; k < r->n_facilities; k++) {
        const pm_facility_share *x = &r->facilities[k];
        char v[64], a[64], b[64];
        fputs("| ", f);
        md_text(f, r->district);
        fputs(" | ", f);
        md_text(f, x->name);
        fprintf(f, " | %s | %s / %s |\n", x->has_value ? pm_report_number(x->value, v, sizeof v) : "—",
                pm_report_number(x->numerator, a, sizeof a),
                pm_report_number(x->denominator, b, sizeof b));
      }
    }
  }
  /* With districts, `_all`'s gaps are the districts' gaps combined: do not list them twice. */
  int has_districts = 0;
  for (size_t i = 0; i < ir->n_results; i++)
    if (!ir->results[i].district || strcmp(ir->results[i].district, "_all") != 0) has_districts = 1;
  for (size_t i = 0; i < ir->n_results; i++) {
    const pm_result *r = &ir->results[i];
    if (r->n_gaps == 0) continue;
    if (has_districts && r->district && strcmp(r->district, "_all") == 0) continue;
    md_gaps(f, r);
  }
}

static void md_run(FILE *f, const pm_run_result *run) {
  char buf[512];
  fputs("# ", f);
  md_text(f, run->title && *run->title ? run->title : run->plan);
  fputs("\n\n- Plan: ", f);
  md_code(f, run->plan);
  fputs("\n- CRS: ", f);
  md_text(f, run->crs ? run->crs : "unknown");
  fputs("\n- Generated: ", f);
  md_text(f, run_time(run, buf, sizeof buf));
  if (run->run_id > 0) fprintf(f, "\n- Run: %lld", (long long)run->run_id);
  if (run->plan_hash) {
    fputs("\n- Plan file SHA-256: ", f);
    md_code(f, run->plan_hash);
  }
  fputc('\n', f);
  if (run->n_indicators) {
    fputs("\n## Summary\n\n| Indicator | Title | Value (_all) | Target | Met |\n"
          "|---|---|---:|---:|:-:|\n",
          f);
    for (size_t k = 0; k < run->n_indicators; k++) {
      const pm_indicator_result *ir = &run->indicators[k];
      const pm_result *r = all_result(ir);
      fputs("| ", f);
      md_code(f, ir->id);
      fputs(" | ", f);
      md_text(f, ir->title);
      fputs(" | ", f);
      if (ir->status == PM_IND_NO_DATA)
        fputs("no data", f);
      else if (r)
        md_value_cell(f, ir, r);
      fputs(" | ", f);
      target_text(ir, NULL, buf, sizeof buf);
      md_text(f, buf);
      fprintf(f, " | %s |\n", r ? met_mark(verdict(r)) : "");
    }
  }
  for (size_t k = 0; k < run->n_indicators; k++) md_indicator(f, &run->indicators[k]);
}

pm_status pm_report_write_markdown(pm_context *ctx, const pm_run_result *run, const char *path) {
  pm__output o;
  pm_status st = pm__output_open(ctx, &o, path, "Markdown report");
  if (st) return st;
  md_run(o.f, run);
  return pm__output_close(ctx, &o, PM_OK);
}

pm_status pm__report_render(pm_context *ctx, pm_report_format format, const pm_run_result *run,
                            FILE *f) {
  switch (format) {
  case PM_REPORT_JSON: json_run(f, run); return PM_OK;
  case PM_REPORT_CSV:
    return csv_run(f, run) ? pm_error(ctx, PM_ENOMEM, "out of memory writing the CSV report") : PM_OK;
  case PM_REPORT_MARKDOWN: md_run(f, run); return PM_OK;
  }
  return pm_error(ctx, PM_EINTERNAL, "unknown report format %d", (int)format);
}

/* ---------- terminal summary ---------- */

enum { SUM_COLS = 6 };

typedef struct srow {
  char *cell[SUM_COLS]; /* indicator, district, value, target, met, gaps */
  char *note;           /* printed after the last column */
  const char *color;    /* ANSI colour of the met mark / status, or NULL */
} srow;

static void sb_pad(sbuf *b, size_t n) {
  for (size_t i = 0; i < n; i++) sb_add(b, " ", 1);
}

#define ANSI_GREEN "\033[32m"
#define ANSI_RED "\033[31m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_CYAN "\033[36m"
#define ANSI_BOLD "\033[1m"
#define ANSI_RESET "\033[0m"

/* A copy for one table cell: control characters (newlines, tabs) become spaces. */
static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (!p) return NULL;
  for (size_t i = 0; i + 1 < n; i++) {
    unsigned char c = (unsigned char)s[i];
    p[i] = (c < 0x20 || c == 0x7F) ? ' ' : s[i];
  }
  p[n - 1] = '\0'; /* written apart: GCC 12 -O3 misreads the loop over the terminator */
  return p;
}

pm_status pm_report_print_summary(pm_context *ctx, const pm_run_result *run, FILE *out, int color) {
  size_t cap = 1;
  for (size_t k = 0; k < run->n_indicators; k++)
    cap += run->indicators[k].n_results ? run->indicators[k].n_results : 1;
  srow *rows = calloc(cap, sizeof *rows);
  if (!rows) return pm_error(ctx, PM_ENOMEM, "out of memory");
  size_t n = 0;
  int failed = 0;
  const char *head[SUM_COLS] = {"Indicator", "District", "Value", "Target", "Met", "Gaps"};
  for (int c = 0; c < SUM_COLS; c++) failed |= !(rows[n].cell[c] = dup_str(head[c]));
  n++;
  int n_met = 0, n_missed = 0, n_nodata = 0, n_manual = 0, n_unmeasured = 0;
  char buf[512];
  for (size_t k = 0; k < run->n_indicators && !failed; k++) {
    const pm_indicator_result *ir = &run->indicators[k];
    int any_valued = 0, any_missed = 0;
    if (ir->status == PM_IND_NO_DATA) {
      n_nodata++; /* one line for all of them, after the table */
      continue;
    }
    if (ir->status == PM_IND_MANUAL) n_manual++;
    if (ir->n_results == 0) {
      srow *r = &rows[n++];
      failed |= !(r->cell[0] = dup_str(ir->id ? ir->id : "?"));
      failed |= !(r->cell[1] = dup_str("—"));
      failed |= !(r->cell[2] = dup_str(ir->status == PM_IND_NO_DATA ? "no data" : "—"));
      target_text(ir, NULL, buf, sizeof buf);
      failed |= !(r->cell[3] = dup_str(buf));
      failed |= !(r->cell[4] = dup_str(""));
      failed |= !(r->cell[5] = dup_str(""));
      if (ir->status_reason) failed |= !(r->note = dup_str(ir->status_reason));
      r->color = ANSI_YELLOW;
      continue;
    }
    const char *prev_note = NULL;
    for (size_t i = 0; i < ir->n_results; i++) {
      const pm_result *res = &ir->results[i];
      srow *r = &rows[n++];
      failed |= !(r->cell[0] = dup_str(i == 0 && ir->id ? ir->id : ""));
      failed |= !(r->cell[1] = dup_str(res->district ? res->district : ""));
      if (res->has_value)
        value_text(ir, res, buf, sizeof buf);
      else
        snprintf(buf, sizeof buf, "%s", ir->status == PM_IND_NO_DATA ? "no data" : "n/a");
      failed |= !(r->cell[2] = dup_str(buf));
      buf[0] = '\0';
      if (res->has_target) target_text(ir, res, buf, sizeof buf);
      failed |= !(r->cell[3] = dup_str(buf));
      int v = verdict(res);
      failed |= !(r->cell[4] = dup_str(met_mark(v)));
      buf[0] = '\0';
      if (res->n_gaps) snprintf(buf, sizeof buf, "%zu", res->n_gaps);
      failed |= !(r->cell[5] = dup_str(buf));
      const char *note = NULL;
      if (!res->has_value) note = res->null_reason;
      if (!note && ir->status == PM_IND_MANUAL) note = "manual";
      if (!note && i == 0 && ir->status_reason) note = ir->status_reason;
      /* Say a reason once per indicator ("no data: layer parks ..." on every district is noise). */
      if (note && note == prev_note) note = NULL;
      else if (note && prev_note && strcmp(note, prev_note) == 0) note = NULL;
      else if (note) prev_note = note;
      if (note) failed |= !(r->note = dup_str(note));
      r->color = v == 1 ? ANSI_GREEN : v == 0 ? ANSI_RED
                 : ir->status == PM_IND_NO_DATA ? ANSI_YELLOW
                 : ir->status == PM_IND_MANUAL ? ANSI_CYAN : NULL;
      if (v >= 0) any_valued = 1;
      if (v == 0) any_missed = 1;
    }
    if (ir->has_target && ir->status != PM_IND_NO_DATA) {
      if (any_missed)
        n_missed++;
      else if (any_valued)
        n_met++;
      else
        n_unmeasured++;
    }
  }
  if (failed) {
    for (size_t i = 0; i < n; i++) {
      for (int c = 0; c < SUM_COLS; c++) free(rows[i].cell[c]);
      free(rows[i].note);
    }
    free(rows);
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }

  size_t width[SUM_COLS] = {0};
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < SUM_COLS; c++) {
      size_t w = pm__utf8_width(rows[i].cell[c]);
      if (w > width[c]) width[c] = w;
    }

  const char *title = run->title && *run->title ? run->title : run->plan;
  if (color) fputs(ANSI_BOLD, out);
  fputs(title ? title : "(untitled plan)", out);
  if (color) fputs(ANSI_RESET, out);
  fputc('\n', out);
  fprintf(out, "plan %s · %s · %s", run->plan ? run->plan : "?", run->crs ? run->crs : "no CRS",
          run_time(run, buf, sizeof buf));
  if (run->run_id > 0) fprintf(out, " · run %lld", (long long)run->run_id);
  fputs("\n\n", out);

  /* Numbers align right, text left; no trailing blanks. */
  const int right[SUM_COLS] = {0, 0, 1, 1, 0, 1};
  sbuf line = {0};
  for (size_t i = 0; i < n && n > 1; i++) {
    const srow *r = &rows[i];
    line.len = 0;
    for (int c = 0; c < SUM_COLS; c++) {
      size_t fill = width[c] - pm__utf8_width(r->cell[c]);
      if (c) sb_puts(&line, "  ");
      if (right[c] && i > 0) sb_pad(&line, fill);
      int colored = color && i > 0 && r->color && r->cell[c][0] &&
                    (c == 4 || (c == 2 && !r->cell[4][0]));
      if (colored) sb_puts(&line, r->color);
      sb_puts(&line, r->cell[c]);
      if (colored) sb_puts(&line, ANSI_RESET);
      if (!(right[c] && i > 0)) sb_pad(&line, fill);
    }
    if (r->note) {
      sb_puts(&line, "  ");
      sb_puts(&line, r->note);
    }
    while (line.len && line.s[line.len - 1] == ' ') line.s[--line.len] = '\0';
    if (i == 0 && color) fputs(ANSI_BOLD, out);
    fputs(sb_str(&line), out);
    if (i == 0 && color) fputs(ANSI_RESET, out);
    fputc('\n', out);
  }

  if (n > 1) fputc('\n', out);
  fprintf(out, "Targets: %d met, %d missed", n_met, n_missed);
  if (n_unmeasured) fprintf(out, ", %d not measurable", n_unmeasured);
  if (n_nodata) fprintf(out, "; %d indicator%s without data", n_nodata, n_nodata == 1 ? "" : "s");
  if (n_manual) fprintf(out, "; %d reported by hand", n_manual);
  fputs(".\n", out);
  if (n_nodata) {
    /* One line (wrapped) for the indicators without data, not a table row each. */
    line.len = 0;
    sb_printf(&line, "%d indicator%s need%s layers this data set lacks (no data):", n_nodata,
              n_nodata == 1 ? "" : "s", n_nodata == 1 ? "s" : "");
    size_t col = line.len, done = 0;
    for (size_t k = 0; k < run->n_indicators; k++) {
      const pm_indicator_result *ir = &run->indicators[k];
      if (ir->status != PM_IND_NO_DATA) continue;
      const char *id = ir->id ? ir->id : "?";
      size_t w = pm__utf8_width(id) + 2;
      if (col + w > 100) {
        sb_puts(&line, "\n ");
        col = 1;
      }
      sb_printf(&line, " %s%s", id, ++done < (size_t)n_nodata ? "," : "");
      col += w;
    }
    const char *tail = " — the reports name each missing layer and its file.";
    if (col + pm__utf8_width(tail) > 100) sb_puts(&line, "\n ");
    sb_puts(&line, tail);
    sb_puts(&line, "\n");
    if (!line.failed) fputs(sb_str(&line), out);
  }
  failed = line.failed;
  free(line.s);

  for (size_t i = 0; i < n; i++) {
    for (int c = 0; c < SUM_COLS; c++) free(rows[i].cell[c]);
    free(rows[i].note);
  }
  free(rows);
  if (failed) return pm_error(ctx, PM_ENOMEM, "out of memory");
  if (fflush(out) != 0 || ferror(out))
    return pm_error(ctx, PM_EIO, "cannot write the summary (%s)", strerror(errno));
  return PM_OK;
}
