/* query_table.c: pm_table, the result of the ad-hoc queries, and its table/JSON/CSV writers. */
#include "planmetrics/query.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

/* Cells wider than this are cut in the aligned table, so one long WKT cannot stretch a table
 * beyond any screen; the JSON and CSV writers keep every byte. */
#define PM_TABLE_MAX_CELL 60

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

void pm_table_free(pm_table *t) {
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
      pm_table_free(t);
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

/* ---- display width ---- */

/* Decode one UTF-8 sequence at s; returns its length (1 for an invalid byte, *cp = -1). */
static size_t utf8_next(const unsigned char *s, long *cp) {
  unsigned char b = s[0];
  size_t len;
  long v;
  if (b < 0x80) {
    *cp = b;
    return 1;
  } else if ((b & 0xE0) == 0xC0) {
    len = 2;
    v = b & 0x1F;
  } else if ((b & 0xF0) == 0xE0) {
    len = 3;
    v = b & 0x0F;
  } else if ((b & 0xF8) == 0xF0) {
    len = 4;
    v = b & 0x07;
  } else {
    *cp = -1;
    return 1;
  }
  for (size_t k = 1; k < len; k++) {
    if ((s[k] & 0xC0) != 0x80) {
      *cp = -1;
      return 1;
    }
    v = (v << 6) | (s[k] & 0x3F);
  }
  *cp = v;
  return len;
}

/* East Asian Wide and Fullwidth ranges (Unicode 15, condensed) and common zero-width marks:
 * enough for Chinese, Japanese, Korean names and the punctuation they use. */
static int cp_width(long cp) {
  if (cp < 0) return 1;
  if (cp == 0) return 0;
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return 0;
  if ((cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x200B && cp <= 0x200F) || cp == 0xFEFF ||
      (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0x20D0 && cp <= 0x20FF))
    return 0;
  if ((cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
      (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
      (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
      (cp >= 0xA960 && cp <= 0xA97F) || (cp >= 0xAC00 && cp <= 0xD7A3) ||
      (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE10 && cp <= 0xFE19) ||
      (cp >= 0xFE30 && cp <= 0xFE6F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
      (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
      (cp >= 0x1F900 && cp <= 0x1F9FF) || (cp >= 0x20000 && cp <= 0x3FFFD))
    return 2;
  return 1;
}

size_t pm_utf8_width(const char *s) {
  size_t w = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (p && *p) {
    long cp;
    p += utf8_next(p, &cp);
    w += (size_t)cp_width(cp);
  }
  return w;
}

/* ---- formatting ---- */

static int is_number(const pm_cell *c) { return c->type == PM_CELL_INT || c->type == PM_CELL_REAL; }

/* Text of a cell for the table (table != 0) or CSV; the result is either s or buf. */
static const char *cell_text(const pm_cell *c, int table, char *buf, size_t size) {
  switch (c->type) {
  case PM_CELL_NULL: return "";
  case PM_CELL_TEXT: return c->s;
  case PM_CELL_INT: snprintf(buf, size, "%lld", (long long)c->i); return buf;
  case PM_CELL_BOOL: return c->i ? (table ? "yes" : "true") : (table ? "no" : "false");
  case PM_CELL_REAL:
    if (isnan(c->d)) return "";
    if (c->decimals >= 0)
      snprintf(buf, size, "%.*f", c->decimals > 15 ? 15 : c->decimals, c->d);
    else
      snprintf(buf, size, "%.15g", c->d);
    return buf;
  }
  return "";
}

/* The table form of a text: control characters become spaces (a line break would break the
 * alignment) and text wider than PM_TABLE_MAX_CELL is cut with "…". Caller frees. */
static char *table_text(const char *s, size_t *width) {
  size_t n = strlen(s), full = pm_utf8_width(s);
  char *out = malloc(n + 4);
  if (!out) return NULL;
  size_t o = 0, w = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    long cp;
    size_t len = utf8_next(p, &cp);
    int control = cp >= 0 && cp < 0x20;
    size_t cw = control ? 1 : (size_t)cp_width(cp);
    if (full > PM_TABLE_MAX_CELL && w + cw > PM_TABLE_MAX_CELL - 1) {
      memcpy(out + o, "\xe2\x80\xa6", 3); /* … */
      o += 3;
      w += 1;
      break;
    }
    if (control) {
      out[o++] = ' ';
    } else {
      memcpy(out + o, p, len);
      o += len;
    }
    w += cw;
    p += len;
  }
  out[o] = '\0';
  *width = w;
  return out;
}

static void pad(FILE *out, size_t n) {
  for (size_t k = 0; k < n; k++) fputc(' ', out);
}

static pm_status finish_stream(FILE *out) { return ferror(out) ? PM_EIO : PM_OK; }

pm_status pm_table_print(const pm_table *t, FILE *out) {
  size_t nc = t->n_cols, nr = t->n_rows;
  size_t *width = calloc(nc ? nc : 1, sizeof *width);
  int *right = calloc(nc ? nc : 1, sizeof *right);
  size_t ncells = nr * nc > 0 ? nr * nc : 1;
  char **text = calloc(ncells, sizeof *text);
  size_t *tw = calloc(ncells, sizeof *tw);
  pm_status st = (width && right && text && tw) ? PM_OK : PM_ENOMEM;
  char buf[64];
  for (size_t c = 0; !st && c < nc; c++) {
    width[c] = pm_utf8_width(t->cols[c]);
    right[c] = -1;
  }
  for (size_t r = 0; !st && r < nr; r++)
    for (size_t c = 0; c < nc; c++) {
      const pm_cell *cell = &t->cells[r * nc + c];
      if (!(text[r * nc + c] = table_text(cell_text(cell, 1, buf, sizeof buf), &tw[r * nc + c]))) {
        st = PM_ENOMEM;
        break;
      }
      if (tw[r * nc + c] > width[c]) width[c] = tw[r * nc + c];
      if (cell->type != PM_CELL_NULL && right[c] != 0) right[c] = is_number(cell);
    }
  if (!st && nc == 0) {
    fputs("(no columns)\n", out); /* a statement that returns nothing, e.g. BEGIN */
    if (t->summary) fprintf(out, "%s\n", t->summary);
  } else if (!st) {
    /* header: a numeric column's name sits over its right-aligned numbers */
    for (size_t c = 0; c < nc; c++) {
      size_t w = pm_utf8_width(t->cols[c]), gap = width[c] - w;
      if (c) fputs("  ", out);
      if (right[c] == 1) pad(out, gap);
      fputs(t->cols[c], out);
      if (right[c] != 1 && c + 1 < nc) pad(out, gap);
    }
    fputc('\n', out);
    for (size_t c = 0; c < nc; c++) {
      if (c) fputs("  ", out);
      for (size_t k = 0; k < width[c]; k++) fputc('-', out);
    }
    fputc('\n', out);
    for (size_t r = 0; r < nr; r++) {
      for (size_t c = 0; c < nc; c++) {
        const pm_cell *cell = &t->cells[r * nc + c];
        size_t gap = width[c] - tw[r * nc + c];
        if (c) fputs("  ", out);
        int ra = is_number(cell) || (cell->type == PM_CELL_NULL && right[c] == 1);
        if (ra) pad(out, gap);
        fputs(text[r * nc + c], out);
        if (!ra && c + 1 < nc) pad(out, gap);
      }
      fputc('\n', out);
    }
    if (nr == 0) fputs("(no rows)\n", out);
    if (t->summary) fprintf(out, "%s\n", t->summary);
  }
  for (size_t k = 0; text && k < nr * nc; k++) free(text[k]);
  free(text);
  free(tw);
  free(width);
  free(right);
  return st ? st : finish_stream(out);
}

static void json_string(FILE *out, const char *s) {
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '\n': fputs("\\n", out); break;
    case '\r': fputs("\\r", out); break;
    case '\t': fputs("\\t", out); break;
    default:
      if (*p < 0x20) fprintf(out, "\\u%04x", *p);
      else fputc(*p, out);
    }
  }
  fputc('"', out);
}

pm_status pm_table_write_json(const pm_table *t, FILE *out) {
  char buf[64];
  fputc('[', out);
  for (size_t r = 0; r < t->n_rows; r++) {
    fputs(r ? ",\n {" : "\n {", out);
    for (size_t c = 0; c < t->n_cols; c++) {
      const pm_cell *cell = &t->cells[r * t->n_cols + c];
      if (c) fputs(", ", out);
      json_string(out, t->cols[c]);
      fputs(": ", out);
      switch (cell->type) {
      case PM_CELL_NULL: fputs("null", out); break;
      case PM_CELL_TEXT: json_string(out, cell->s); break;
      case PM_CELL_BOOL: fputs(cell->i ? "true" : "false", out); break;
      case PM_CELL_INT: fprintf(out, "%lld", (long long)cell->i); break;
      case PM_CELL_REAL:
        if (!isfinite(cell->d)) fputs("null", out);
        else fputs(cell_text(cell, 0, buf, sizeof buf), out);
        break;
      }
    }
    fputc('}', out);
  }
  fputs(t->n_rows ? "\n]\n" : "]\n", out);
  return finish_stream(out);
}

static void csv_field(FILE *out, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (const char *p = s; *p; p++) {
    if (*p == '"') fputc('"', out);
    fputc(*p, out);
  }
  fputc('"', out);
}

pm_status pm_table_write_csv(const pm_table *t, FILE *out) {
  char buf[64];
  for (size_t c = 0; c < t->n_cols; c++) {
    if (c) fputc(',', out);
    csv_field(out, t->cols[c]);
  }
  fputs("\r\n", out);
  for (size_t r = 0; r < t->n_rows; r++) {
    for (size_t c = 0; c < t->n_cols; c++) {
      if (c) fputc(',', out);
      csv_field(out, cell_text(&t->cells[r * t->n_cols + c], 0, buf, sizeof buf));
    }
    fputs("\r\n", out);
  }
  return finish_stream(out);
}
