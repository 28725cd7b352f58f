/* query_table.c: pm_table, the result of the ad-hoc queries: named columns, rows of typed cells. */
#include "planmetrics/query.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

void pm_table_destroy(pm_table *t) {
  if (!t) return;
  for (size_t k = 0; k < t->n_rows * t->n_cols; k++) free(t->cells[k].s);
  for (size_t c = 0; c < t->n_cols; c++) free(t->cols[c]);
  free(t->cols);
  free(t->cells);
  free(t->summary);
  free(t);
}

pm_status pm_table_create(pm_context *ctx, const char *const *cols, size_t n_cols, pm_table **out) {
  *out = NULL;
  pm_table *t = calloc(1, sizeof *t);
  if (!t) return oom(ctx);
  t->cols = calloc(n_cols ? n_cols : 1, sizeof *t->cols);
  if (!t->cols) {
    free(t);
    return oom(ctx);
  }
  t->n_cols = n_cols;
  for (size_t c = 0; c < n_cols; c++)
    if (!(t->cols[c] = strdup(cols[c] ? cols[c] : ""))) {
      pm_table_destroy(t);
      return oom(ctx);
    }
  *out = t;
  return PM_OK;
}

pm_status pm_table_add_row(pm_context *ctx, pm_table *t, size_t *row) {
  if (t->n_rows == t->cap_rows) {
    size_t n = t->cap_rows ? t->cap_rows * 2 : 64;
    pm_cell *c = realloc(t->cells, n * (t->n_cols ? t->n_cols : 1) * sizeof *c);
    if (!c) return oom(ctx);
    t->cells = c;
    t->cap_rows = n;
  }
  memset(t->cells + t->n_rows * t->n_cols, 0, t->n_cols * sizeof *t->cells);
  if (row) *row = t->n_rows;
  t->n_rows++;
  return PM_OK;
}

static pm_cell *cell_at(pm_context *ctx, pm_table *t, size_t row, size_t col) {
  if (row >= t->n_rows || col >= t->n_cols) {
    pm_error(ctx, PM_EINTERNAL, "table cell (%zu, %zu) out of range (%zu x %zu)", row, col,
             t->n_rows, t->n_cols);
    return NULL;
  }
  pm_cell *c = &t->cells[row * t->n_cols + col];
  free(c->s);
  memset(c, 0, sizeof *c);
  return c;
}

pm_status pm_table_set_text(pm_context *ctx, pm_table *t, size_t row, size_t col, const char *s) {
  pm_cell *c = cell_at(ctx, t, row, col);
  if (!c) return PM_EINTERNAL;
  if (!s) return PM_OK;
  if (!(c->s = strdup(s))) return oom(ctx);
  c->type = PM_CELL_TEXT;
  return PM_OK;
}

pm_status pm_table_set_int(pm_context *ctx, pm_table *t, size_t row, size_t col, int64_t v) {
  pm_cell *c = cell_at(ctx, t, row, col);
  if (!c) return PM_EINTERNAL;
  c->type = PM_CELL_INT;
  c->i = v;
  return PM_OK;
}

pm_status pm_table_set_real(pm_context *ctx, pm_table *t, size_t row, size_t col, double v,
                            int decimals) {
  pm_cell *c = cell_at(ctx, t, row, col);
  if (!c) return PM_EINTERNAL;
  c->type = PM_CELL_REAL;
  c->d = v;
  c->decimals = decimals;
  return PM_OK;
}

pm_status pm_table_set_bool(pm_context *ctx, pm_table *t, size_t row, size_t col, int v) {
  pm_cell *c = cell_at(ctx, t, row, col);
  if (!c) return PM_EINTERNAL;
  c->type = PM_CELL_BOOL;
  c->i = v != 0;
  return PM_OK;
}

pm_status pm_table_set_summary(pm_context *ctx, pm_table *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *s = n < 0 ? NULL : malloc((size_t)n + 1);
  if (!s) return oom(ctx);
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  free(t->summary);
  t->summary = s;
  return PM_OK;
}

const pm_cell *pm_table_cell(const pm_table *t, size_t row, size_t col) {
  if (row >= t->n_rows || col >= t->n_cols) return NULL;
  return &t->cells[row * t->n_cols + col];
}

int pm_table_col(const pm_table *t, const char *name) {
  for (size_t c = 0; c < t->n_cols; c++)
    if (strcmp(t->cols[c], name) == 0) return (int)c;
  return -1;
}
