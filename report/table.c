/* table.c: writers of pm_table (ad-hoc query results): aligned terminal table, JSON, CSV. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "planmetrics/query.h"
#include "planmetrics/report.h"

/* Cells wider than this are cut in the aligned table, so one long WKT cannot stretch a table
 * beyond any screen; the JSON and CSV writers keep every byte. */
#define PM_TABLE_MAX_CELL 60

/* ---- display width ---- */

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
  size_t n = strlen(s), full = pm__utf8_width(s);
  char *out = malloc(n + 4);
  if (!out) return NULL;
  size_t o = 0, w = 0;
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    uint32_t cp = 0xFFFD;
    size_t len = pm__utf8_next(p, &cp);
    if (len == 0) len = 1; /* an invalid byte: copied, one column */
    int control = cp < 0x20;
    size_t cw = control ? 1 : (size_t)pm__utf8_cp_width(cp);
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
    width[c] = pm__utf8_width(t->cols[c]);
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
      size_t w = pm__utf8_width(t->cols[c]), gap = width[c] - w;
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

static void json_row(const pm_table *t, size_t r, FILE *out) {
  char buf[64];
  fputc('{', out);
  for (size_t c = 0; c < t->n_cols; c++) {
    const pm_cell *cell = &t->cells[r * t->n_cols + c];
    if (c) fputs(", ", out);
    pm__json_string(out, t->cols[c]);
    fputs(": ", out);
    switch (cell->type) {
    case PM_CELL_NULL: fputs("null", out); break;
    case PM_CELL_TEXT: pm__json_string(out, cell->s); break;
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

pm_status pm_table_write_json(const pm_table *t, FILE *out) {
  fputc('[', out);
  for (size_t r = 0; r < t->n_rows; r++) {
    fputs(r ? ",\n " : "\n ", out);
    json_row(t, r, out);
  }
  fputs(t->n_rows ? "\n]\n" : "]\n", out);
  return finish_stream(out);
}

pm_status pm_table_write_json_row(const pm_table *t, size_t row, FILE *out) {
  if (row >= t->n_rows) fputs("null", out);
  else json_row(t, row, out);
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
