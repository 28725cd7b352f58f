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

static void pad(FILE *f, size_t n) {
  for (size_t i = 0; i < n; i++) fputc(' ', f);
}

/* One plan's table: the runs shown are runs[first .. first+k). */
static pm_status print_plan(pm_context *ctx, FILE *out, const char *plan,
                            const pm_history_run *const *shown, size_t k, size_t n_runs,
                            const pm_history_row *rows, size_t n_rows) {
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
      snprintf(buf, sizeof buf, "#%lld %.10s", (long long)shown[c - 3]->run_id,
               shown[c - 3]->finished_at ? shown[c - 3]->finished_at : "");
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
    fputs("\n\n", out);
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
  }
  for (size_t i = 0; cells && i < ncol * nrow; i++) free(cells[i]);
  free(cells);
  free(keys);
  return st;
}

pm_status pm_history_print(pm_context *ctx, pm_store *s, const char *plan_id, FILE *out) {
  pm_history_run *runs = NULL;
  pm_history_row *rows = NULL;
  size_t nr = 0, nrows = 0;
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
  const pm_history_run **shown = calloc(nr, sizeof *shown);
  if (!shown) st = pm_error(ctx, PM_ENOMEM, "out of memory");
  int printed = 0;
  /* One table per plan, plans in the order of their first run. */
  for (size_t i = 0; !st && i < nr; i++) {
    int seen = 0;
    for (size_t j = 0; j < i && !seen; j++) seen = same_str(runs[j].plan, runs[i].plan);
    if (seen) continue;
    size_t n_plan = 0;
    for (size_t j = i; j < nr; j++)
      if (same_str(runs[j].plan, runs[i].plan)) shown[n_plan++] = &runs[j];
    size_t k = n_plan < PM_HISTORY_PRINT_RUNS ? n_plan : PM_HISTORY_PRINT_RUNS;
    if (printed++) fputc('\n', out);
    st = print_plan(ctx, out, runs[i].plan, shown + (n_plan - k), k, n_plan, rows, nrows);
  }
  free(shown);
  pm_history_rows_destroy(rows, nrows);
  pm_history_runs_destroy(runs, nr);
  if (!st && (fflush(out) != 0 || ferror(out)))
    st = pm_error(ctx, PM_EIO, "cannot write the run history table");
  return st;
}
