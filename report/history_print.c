/* history_print.c: the run history as a progress table on a terminal (`planmetrics history`). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "planmetrics/history.h"
#include "planmetrics/report.h"

static int same_str(const char *a, const char *b) {
  if (!a || !b) return a == b;
  return strcmp(a, b) == 0;
}

static char *dup_str(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

typedef struct hkey {
  const char *indicator;
  const char *district;
  const pm_history_row *cell[PM_HISTORY_PRINT_RUNS];
} hkey;

static void cell_text(const pm_history_row *r, char *buf, size_t size) {
  if (!r) {
    snprintf(buf, size, "—");
    return;
  }
  if (!r->has_value) {
    snprintf(buf, size, "%s", r->status && strcmp(r->status, "no data") == 0 ? "no data" : "n/a");
    return;
  }
  char v[256];
  pm_report_format_value(r->value, r->unit, r->has_target ? r->target_op : NULL, r->target, v,
                         sizeof v);
  snprintf(buf, size, "%s%s", v, r->met == 1 ? " ✓" : r->met == 0 ? " ✗" : "");
}

static void target_cell(const pm_history_row *r, char *buf, size_t size) {
  buf[0] = '\0';
  if (!r || !r->has_target || !isfinite(r->target)) return;
  char v[256];
  pm_report_format_value(r->target, r->unit, NULL, NAN, v, sizeof v);
  const char *op = strcmp(r->target_op, ">=") == 0   ? "≥"
                   : strcmp(r->target_op, "<=") == 0 ? "≤"
                   : strcmp(r->target_op, "==") == 0 ? "="
                                                     : r->target_op;
  snprintf(buf, size, "%s %s", op, v);
}

/* "#12 2026-11-29 13:42": the run id and when it finished (UTC, to the minute), so that runs of
 * one day are told apart. */
static void when_text(const pm_history_run *run, char *buf, size_t size) {
  const char *t = run->finished_at ? run->finished_at : "";
  if (strlen(t) >= 16 && t[10] == 'T')
    snprintf(buf, size, "#%lld %.10s %.5s", (long long)run->run_id, t, t + 11);
  else
    snprintf(buf, size, "#%lld %s", (long long)run->run_id, t);
}

static void pad(FILE *f, size_t n) {
  for (size_t i = 0; i < n; i++) fputc(' ', f);
}

/* One plan's table: the runs shown are runs[first .. first+k). left_out lists the indicators
 * left out for never having had data ("" when none). */
static pm_status print_plan(pm_context *ctx, FILE *out, const char *plan,
                            const pm_history_run *const *shown, size_t k, size_t n_runs,
                            const pm_history_row *rows, size_t n_rows, const char *left_out) {
  size_t cap = 0, nk = 0;
  hkey *keys = NULL;
  pm_status st = PM_OK;
  /* Rows in the order of the latest run; keys only older runs have go after their indicator. */
  for (size_t j = k; !st && j-- > 0;) {
    for (size_t i = 0; i < n_rows; i++) {
      const pm_history_row *r = &rows[i];
      if (r->run_id != shown[j]->run_id) continue;
      size_t at = nk, last_same = SIZE_MAX;
      for (size_t x = 0; x < nk; x++) {
        if (!same_str(keys[x].indicator, r->indicator_id)) continue;
        last_same = x;
        if (same_str(keys[x].district, r->district)) {
          at = x;
          break;
        }
      }
      if (at == nk) {
        if ((st = pm__grow(ctx, (void **)&keys, &cap, nk + 1, sizeof *keys))) break;
        at = last_same == SIZE_MAX ? nk : last_same + 1;
        memmove(&keys[at + 1], &keys[at], (nk - at) * sizeof *keys);
        memset(&keys[at], 0, sizeof *keys);
        keys[at].indicator = r->indicator_id;
        keys[at].district = r->district;
        nk++;
      }
      if (!keys[at].cell[j]) keys[at].cell[j] = r;
    }
  }
  size_t ncol = 3 + k, nrow = nk + 1;
  char **cells = st ? NULL : calloc(ncol * nrow, sizeof *cells);
  if (!st && !cells) st = pm_error(ctx, PM_ENOMEM, "out of memory");
  char buf[512];
  for (size_t c = 0; !st && c < ncol; c++) {
    if (c < 3)
      snprintf(buf, sizeof buf, "%s", c == 0 ? "Indicator" : c == 1 ? "District" : "Target");
    else
      when_text(shown[c - 3], buf, sizeof buf);
    if (!(cells[c] = dup_str(buf))) st = pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  for (size_t i = 0; !st && i < nk; i++) {
    const hkey *key = &keys[i];
    const pm_history_row *latest = NULL;
    for (size_t j = k; j-- > 0 && !latest;) latest = key->cell[j];
    int first_of_ind = i == 0 || !same_str(keys[i - 1].indicator, key->indicator);
    for (size_t c = 0; !st && c < ncol; c++) {
      if (c == 0)
        snprintf(buf, sizeof buf, "%s", first_of_ind && key->indicator ? key->indicator : "");
      else if (c == 1)
        snprintf(buf, sizeof buf, "%s", key->district ? key->district : "—");
      else if (c == 2)
        target_cell(latest, buf, sizeof buf);
      else
        cell_text(key->cell[c - 3], buf, sizeof buf);
      if (!(cells[(i + 1) * ncol + c] = dup_str(buf)))
        st = pm_error(ctx, PM_ENOMEM, "out of memory");
    }
  }
  if (!st) {
    const char *title = shown[k - 1]->title;
    fprintf(out, "Plan %s", plan ? plan : "?");
    if (title && *title) fprintf(out, " — %s", title);
    fprintf(out, ": %zu run%s recorded", n_runs, n_runs == 1 ? "" : "s");
    if (n_runs > k) fprintf(out, ", the last %zu shown", k);
    fputs(" (run id, finished at UTC)\n\n", out);
    size_t *width = calloc(ncol, sizeof *width);
    if (!width) st = pm_error(ctx, PM_ENOMEM, "out of memory");
    for (size_t i = 0; !st && i < nrow; i++)
      for (size_t c = 0; c < ncol; c++) {
        size_t w = pm__utf8_width(cells[i * ncol + c]);
        if (w > width[c]) width[c] = w;
      }
    for (size_t i = 0; !st && i < nrow; i++) {
      for (size_t c = 0; c < ncol; c++) {
        const char *t = cells[i * ncol + c];
        size_t fill = width[c] - pm__utf8_width(t);
        if (c) fputs("  ", out);
        if (c >= 2 && i > 0) pad(out, fill); /* numbers align right */
        fputs(t, out);
        if (!(c >= 2 && i > 0) && c + 1 < ncol) pad(out, fill);
      }
      fputc('\n', out);
    }
    free(width);
    if (!st && *left_out)
      fprintf(out, "Left out, without data in every run: %s (`--indicator ID` shows one).\n",
              left_out);
  }
  for (size_t i = 0; cells && i < ncol * nrow; i++) free(cells[i]);
  free(cells);
  free(keys);
  return st;
}

/* Whether any row of (plan, indicator) had data: a status other than "no data". */
static int ever_had_data(const pm_history_row *rows, size_t n, const char *plan,
                         const char *indicator) {
  for (size_t i = 0; i < n; i++)
    if (same_str(rows[i].plan, plan) && same_str(rows[i].indicator_id, indicator) &&
        !same_str(rows[i].status, "no data"))
      return 1;
  return 0;
}

/* The indicators of a plan, comma-separated, in first-seen order: all (which 0) or those that
 * never had data (which 1). Caller frees. */
static char *indicator_list(pm_context *ctx, const pm_history_row *rows, size_t n,
                            const char *plan, int which) {
  size_t len = 1;
  for (size_t i = 0; i < n; i++) len += rows[i].indicator_id ? strlen(rows[i].indicator_id) + 2 : 0;
  char *list = calloc(len, 1);
  if (!list) {
    pm_error(ctx, PM_ENOMEM, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    const char *id = rows[i].indicator_id;
    if (!id || (plan && !same_str(rows[i].plan, plan))) continue;
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++)
      seen = same_str(rows[j].indicator_id, id) && (!plan || same_str(rows[j].plan, plan));
    if (seen || (which == 1 && ever_had_data(rows, n, rows[i].plan, id))) continue;
    if (*list) strcat(list, ", ");
    strcat(list, id);
  }
  return list;
}

static void json_num(FILE *f, double v) {
  char buf[64];
  if (!isfinite(v))
    fputs("null", f);
  else
    fputs(pm_report_number(v, buf, sizeof buf), f);
}

/* The rows kept, as JSON: the runs, the results, and what was left out. */
static void write_json(FILE *out, const pm_history_run *runs, size_t nr,
                       const pm_history_row *rows, size_t n, const pm_history_row *all,
                       size_t n_all, int left_out_no_data) {
  fputs("{\n  \"runs\": [", out);
  for (size_t i = 0; i < nr; i++) {
    const pm_history_run *r = &runs[i];
    fprintf(out, "%s\n    {\"run_id\": %lld, \"plan\": ", i ? "," : "", (long long)r->run_id);
    pm__json_string(out, r->plan);
    fputs(", \"title\": ", out);
    pm__json_string(out, r->title);
    fputs(", \"started_at\": ", out);
    pm__json_string(out, r->started_at);
    fputs(", \"finished_at\": ", out);
    pm__json_string(out, r->finished_at);
    fputs(", \"plan_hash\": ", out);
    pm__json_string(out, r->plan_hash);
    fprintf(out, ", \"exit_code\": %d}", r->exit_code);
  }
  fputs(nr ? "\n  ],\n  \"results\": [" : "],\n  \"results\": [", out);
  for (size_t i = 0; i < n; i++) {
    const pm_history_row *r = &rows[i];
    fprintf(out, "%s\n    {\"run_id\": %lld, \"finished_at\": ", i ? "," : "",
            (long long)r->run_id);
    pm__json_string(out, r->finished_at);
    fputs(", \"plan\": ", out);
    pm__json_string(out, r->plan);
    fputs(", \"indicator_id\": ", out);
    pm__json_string(out, r->indicator_id);
    fputs(", \"title\": ", out);
    pm__json_string(out, r->title);
    fputs(", \"status\": ", out);
    pm__json_string(out, r->status);
    fputs(", \"district\": ", out);
    pm__json_string(out, r->district);
    fputs(", \"value\": ", out);
    json_num(out, r->has_value ? r->value : NAN);
    fputs(", \"unit\": ", out);
    pm__json_string(out, r->unit);
    fputs(", \"null_reason\": ", out);
    pm__json_string(out, r->null_reason);
    fputs(", \"target_op\": ", out);
    pm__json_string(out, r->has_target ? r->target_op : NULL);
    fputs(", \"target\": ", out);
    json_num(out, r->has_target ? r->target : NAN);
    fprintf(out, ", \"met\": %s, \"n_gaps\": %lld}",
            r->met == 1 ? "true" : r->met == 0 ? "false" : "null", (long long)r->n_gaps);
  }
  fputs(n ? "\n  ],\n  \"left_out_without_data\": [" : "],\n  \"left_out_without_data\": [",
        out);
  int first = 1;
  for (size_t i = 0; left_out_no_data && i < n_all; i++) {
    const pm_history_row *r = &all[i];
    if (!r->indicator_id || ever_had_data(all, n_all, r->plan, r->indicator_id)) continue;
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++)
      seen = same_str(all[j].indicator_id, r->indicator_id) && same_str(all[j].plan, r->plan);
    if (seen) continue;
    fputs(first ? "\n    {\"plan\": " : ",\n    {\"plan\": ", out);
    pm__json_string(out, r->plan);
    fputs(", \"indicator_id\": ", out);
    pm__json_string(out, r->indicator_id);
    fputs("}", out);
    first = 0;
  }
  fputs(first ? "]\n}\n" : "\n  ]\n}\n", out);
}

pm_status pm_history_print(pm_context *ctx, pm_store *s, const pm_history_options *opt,
                           FILE *out) {
  static const pm_history_options none = {0};
  if (!opt) opt = &none;
  const char *plan_id = opt->plan_id;
  pm_history_run *runs = NULL;
  pm_history_row *rows = NULL, *kept = NULL;
  size_t nr = 0, nrows = 0, nkept = 0;
  pm_status st = pm_history_runs(s, plan_id, &runs, &nr);
  if (st) return st;
  if (nr == 0) {
    pm_history_runs_destroy(runs, nr);
    if (plan_id)
      return pm_error(ctx, PM_ENOTFOUND,
                      "%s: no run of plan '%s' is recorded; `planmetrics run PLAN` records one",
                      pm_store_path(s), plan_id);
    return pm_error(ctx, PM_ENOTFOUND, "%s: no run is recorded yet; `planmetrics run PLAN` records one",
                    pm_store_path(s));
  }
  if ((st = pm_history_list(s, plan_id, &rows, &nrows))) {
    pm_history_runs_destroy(runs, nr);
    return st;
  }
  /* The rows shown: one indicator when asked for (whatever its data); else every indicator
   * that had data in some run. Shallow copies: the strings stay owned by rows. */
  if (!(kept = calloc(nrows ? nrows : 1, sizeof *kept))) st = pm_error(ctx, PM_ENOMEM, "out of memory");
  for (size_t i = 0; !st && i < nrows; i++) {
    const pm_history_row *r = &rows[i];
    if (opt->indicator_id ? same_str(r->indicator_id, opt->indicator_id)
                          : ever_had_data(rows, nrows, r->plan, r->indicator_id))
      kept[nkept++] = *r;
  }
  if (!st && opt->indicator_id && nkept == 0) {
    char *ids = indicator_list(ctx, rows, nrows, NULL, 0);
    st = ids ? pm_error(ctx, PM_ENOTFOUND,
                        "%s: no indicator '%s' in the recorded runs%s%s%s; the indicators are: %s",
                        pm_store_path(s), opt->indicator_id, plan_id ? " of plan '" : "",
                        plan_id ? plan_id : "", plan_id ? "'" : "", ids)
             : PM_ENOMEM;
    free(ids);
  }
  if (!st && opt->json) {
    write_json(out, runs, nr, kept, nkept, rows, nrows, !opt->indicator_id);
  }
  const pm_history_run **shown = st || opt->json ? NULL : calloc(nr, sizeof *shown);
  if (!st && !opt->json && !shown) st = pm_error(ctx, PM_ENOMEM, "out of memory");
  int printed = 0;
  /* One table per plan, plans in the order of their first run. */
  for (size_t i = 0; !st && !opt->json && i < nr; i++) {
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = same_str(runs[j].plan, runs[i].plan);
    if (seen) continue;
    size_t n_plan = 0;
    for (size_t j = i; j < nr; j++)
      if (same_str(runs[j].plan, runs[i].plan)) shown[n_plan++] = &runs[j];
    size_t k = n_plan < PM_HISTORY_PRINT_RUNS ? n_plan : PM_HISTORY_PRINT_RUNS;
    char *left_out = opt->indicator_id ? calloc(1, 1)
                                       : indicator_list(ctx, rows, nrows, runs[i].plan, 1);
    if (!left_out) {
      st = pm_error(ctx, PM_ENOMEM, "out of memory");
      break;
    }
    if (printed++) fputc('\n', out);
    st = print_plan(ctx, out, runs[i].plan, shown + (n_plan - k), k, n_plan, kept, nkept, left_out);
    free(left_out);
  }
  free(shown);
  free(kept);
  pm_history_rows_destroy(rows, nrows);
  pm_history_runs_destroy(runs, nr);
  if (!st && (fflush(out) != 0 || ferror(out)))
    st = pm_error(ctx, PM_EIO, "cannot write the run history");
  return st;
}
