/* result.c: building, sorting and freeing indicator results (values, gaps, classes, details). */
#include "planmetrics/result.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

const char *pm_indicator_status_name(pm_indicator_status s) {
  switch (s) {
  case PM_IND_COMPUTED: return "computed";
  case PM_IND_NO_DATA: return "no data";
  case PM_IND_MANUAL: return "manual";
  }
  return "unknown";
}

static int dup_or_null(pm_context *ctx, char **dst, const char *src) {
  *dst = NULL;
  if (!src) return 0;
  *dst = strdup(src);
  if (!*dst) {
    pm_error(ctx, PM_ENOMEM, "out of memory");
    return -1;
  }
  return 0;
}

/* The n strings src (NULL stays NULL) copied into one allocation, *mem, which owns them: a gap or
 * a detail has several short strings, and one allocation for all of them makes building,
 * merging and freeing a long gap list several times cheaper. */
static int pack_strings(pm_context *ctx, char **mem, const char *const *src, char **const *dst,
                        size_t n) {
  size_t total = 0, len[8];
  for (size_t k = 0; k < n; k++) {
    len[k] = src[k] ? strlen(src[k]) + 1 : 0;
    total += len[k];
    *dst[k] = NULL;
  }
  *mem = NULL;
  if (!total) return 0;
  char *p = *mem = malloc(total);
  if (!p) {
    pm_error(ctx, PM_ENOMEM, "out of memory");
    return -1;
  }
  for (size_t k = 0; k < n; k++)
    if (src[k]) {
      memcpy(p, src[k], len[k]);
      *dst[k] = p;
      p += len[k];
    }
  return 0;
}

/* Arrays of gaps, classes and details grow to the capacity of their length: 0, then powers of two
 * from 8. The capacity is a function of the length, so no field stores it, and appending stays
 * linear however many gaps a city has. */
static size_t cap_for(size_t n) {
  if (n == 0) return 0;
  size_t c = 8;
  while (c < n) c *= 2;
  return c;
}

/* Make room for `more` elements after the first n of *arr (elements of `size` bytes). */
static int reserve(void **arr, size_t n, size_t more, size_t size) {
  size_t want = cap_for(n + more);
  if (want == cap_for(n) && *arr) return 0;
  void *p = realloc(*arr, want * size);
  if (!p) return -1;
  *arr = p;
  return 0;
}

pm_status pm_indicator_result_init_results(pm_context *ctx, pm_indicator_result *ir,
                                           const char *const *names, size_t n) {
  ir->results = calloc(n ? n : 1, sizeof *ir->results);
  if (!ir->results) return pm_error(ctx, PM_ENOMEM, "out of memory");
  ir->n_results = n;
  for (size_t i = 0; i < n; i++) {
    ir->results[i].value = NAN;
    ir->results[i].numerator = NAN;
    ir->results[i].denominator = NAN;
    ir->results[i].target = NAN;
    if (dup_or_null(ctx, &ir->results[i].district, names[i])) return PM_ENOMEM;
  }
  return PM_OK;
}

pm_status pm_result_add_gap(pm_context *ctx, pm_result *r, const char *id, const char *name,
                            const char *district, double distance_m, double shortfall,
                            const char *nearest, const char *note, double x, double y) {
  if (reserve((void **)&r->gaps, r->n_gaps, 1, sizeof *r->gaps))
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  pm_gap *gap = &r->gaps[r->n_gaps];
  memset(gap, 0, sizeof *gap);
  r->n_gaps++;
  gap->distance_m = distance_m;
  gap->shortfall = shortfall;
  gap->x = x;
  gap->y = y;
  gap->straight_m = NAN;
  const char *src[5] = {id, name, district, nearest, note};
  char **dst[5] = {&gap->id, &gap->name, &gap->district, &gap->nearest, &gap->note};
  if (pack_strings(ctx, &gap->mem, src, dst, 5)) return PM_ENOMEM;
  return PM_OK;
}

pm_status pm_result_add_facility(pm_context *ctx, pm_result *r, const char *name,
                                 double numerator, double denominator) {
  if (reserve((void **)&r->facilities, r->n_facilities, 1, sizeof *r->facilities))
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  pm_facility_share *f = &r->facilities[r->n_facilities];
  memset(f, 0, sizeof *f);
  r->n_facilities++;
  f->numerator = numerator;
  f->denominator = denominator;
  f->has_value = denominator > 0;
  f->value = f->has_value ? 100.0 * numerator / denominator : NAN;
  return dup_or_null(ctx, &f->name, name) ? PM_ENOMEM : PM_OK;
}

pm_status pm_result_add_class(pm_context *ctx, pm_result *r, const char *label, int64_t count) {
  if (reserve((void **)&r->classes, r->n_classes, 1, sizeof *r->classes))
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  pm_class_count *c = r->classes;
  c[r->n_classes].count = count;
  c[r->n_classes].label = NULL;
  r->n_classes++;
  return dup_or_null(ctx, &c[r->n_classes - 1].label, label) ? PM_ENOMEM : PM_OK;
}

pm_status pm_indicator_result_add_detail(pm_context *ctx, pm_indicator_result *ir,
                                         const char *role, const char *district, const char *id,
                                         const char *name, int covered, double distance_m,
                                         const char *nearest, const unsigned char *wkb,
                                         size_t wkb_len) {
  if (!pm__context_keeps_details(ctx)) return PM_OK;
  if (reserve((void **)&ir->details, ir->n_details, 1, sizeof *ir->details))
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  pm_detail *x = &ir->details[ir->n_details];
  memset(x, 0, sizeof *x);
  ir->n_details++;
  x->covered = covered;
  x->distance_m = distance_m;
  const char *src[5] = {role, district, id, name, nearest};
  char **dst[5] = {&x->role, &x->district, &x->id, &x->name, &x->nearest};
  if (pack_strings(ctx, &x->mem, src, dst, 5)) return PM_ENOMEM;
  if (wkb && wkb_len) {
    x->wkb = malloc(wkb_len);
    if (!x->wkb) return pm_error(ctx, PM_ENOMEM, "out of memory");
    memcpy(x->wkb, wkb, wkb_len);
    x->wkb_len = wkb_len;
  }
  return PM_OK;
}

pm_status pm_indicator_result_add_detail_geom(pm_context *ctx, pm_indicator_result *ir,
                                              const char *role, const char *district,
                                              const char *id, const char *name, int covered,
                                              double distance_m, const char *nearest,
                                              const GEOSGeometry *g) {
  if (!pm__context_keeps_details(ctx)) return PM_OK; /* nothing to encode either */
  GEOSContextHandle_t h = pm_context_geos(ctx);
  unsigned char *wkb = NULL;
  size_t len = 0;
  if (g) {
    GEOSWKBWriter *w = pm__context_wkb_writer(ctx);
    if (!w) return pm_error(ctx, PM_ENOMEM, "out of memory");
    wkb = GEOSWKBWriter_write_r(h, w, g, &len);
    if (!wkb) return pm_error(ctx, PM_EGEOM, "cannot encode a result geometry (%s)",
                              pm__context_geos_message(ctx));
  }
  pm_status st = pm_indicator_result_add_detail(ctx, ir, role, district, id, name, covered,
                                                distance_m, nearest, wkb, len);
  if (wkb) GEOSFree_r(h, wkb);
  return st;
}

pm_status pm_result_set_share(pm_context *ctx, pm_result *r, double numerator, double denominator,
                              const char *why_empty) {
  r->has_ratio = 1;
  r->numerator = numerator;
  r->denominator = denominator;
  free(r->null_reason);
  r->null_reason = NULL;
  if (!(denominator > 0)) {
    r->has_value = 0;
    r->value = NAN;
    return dup_or_null(ctx, &r->null_reason, why_empty ? why_empty : "the denominator is empty")
               ? PM_ENOMEM
               : PM_OK;
  }
  r->has_value = 1;
  r->value = 100.0 * numerator / denominator;
  return PM_OK;
}

static int cmp_desc_nan_last(double a, double b) {
  int na = isnan(a), nb = isnan(b);
  if (na || nb) return na - nb;
  return (a < b) - (a > b);
}

static int gap_cmp(const void *pa, const void *pb) {
  const pm_gap *a = pa, *b = pb;
  int c = cmp_desc_nan_last(a->shortfall, b->shortfall);
  if (!c) c = cmp_desc_nan_last(a->distance_m, b->distance_m);
  if (!c) c = strcmp(a->id ? a->id : "", b->id ? b->id : "");
  return c;
}

void pm_result_sort_gaps(pm_result *r) {
  if (r->n_gaps > 1) qsort(r->gaps, r->n_gaps, sizeof *r->gaps, gap_cmp);
}

int pm_target_met(const char *op, double target, double value) {
  if (isnan(value) || isnan(target)) return 0;
  /* Values are computed in floating point: a 100 % share computed as 15/15*100 must meet ">= 100". */
  double eps = 1e-9 * fmax(1.0, fabs(target));
  if (strcmp(op, ">=") == 0) return value >= target - eps;
  if (strcmp(op, ">") == 0) return value > target + eps;
  if (strcmp(op, "<=") == 0) return value <= target + eps;
  if (strcmp(op, "<") == 0) return value < target - eps;
  if (strcmp(op, "==") == 0) return fabs(value - target) <= eps;
  return 0;
}

void pm_indicator_result_apply_target(pm_indicator_result *ir) {
  for (size_t i = 0; i < ir->n_results; i++) {
    pm_result *r = &ir->results[i];
    r->has_target = ir->has_target;
    r->target = ir->has_target ? ir->target_value : NAN;
    r->met = ir->has_target && r->has_value && pm_target_met(ir->target_op, ir->target_value, r->value);
  }
}

static void gap_clear(pm_gap *g) { free(g->mem); }

pm_status pm_indicator_result_append(pm_context *ctx, pm_indicator_result *dst,
                                     pm_indicator_result *src) {
  if (dst->n_results != src->n_results)
    return pm_error(ctx, PM_EINTERNAL, "merging results of %zu and %zu districts", dst->n_results,
                    src->n_results);
  /* Reserve everything first, so that a failure moves nothing. */
  for (size_t i = 0; i < src->n_results; i++) {
    pm_result *d = &dst->results[i], *s = &src->results[i];
    if (reserve((void **)&d->gaps, d->n_gaps, s->n_gaps, sizeof *d->gaps) ||
        reserve((void **)&d->classes, d->n_classes, s->n_classes, sizeof *d->classes))
      return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  if (reserve((void **)&dst->details, dst->n_details, src->n_details, sizeof *dst->details))
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  for (size_t i = 0; i < src->n_results; i++) {
    pm_result *d = &dst->results[i], *s = &src->results[i];
    if (s->n_gaps) memcpy(d->gaps + d->n_gaps, s->gaps, s->n_gaps * sizeof *s->gaps);
    if (s->n_classes)
      memcpy(d->classes + d->n_classes, s->classes, s->n_classes * sizeof *s->classes);
    d->n_gaps += s->n_gaps;
    d->n_classes += s->n_classes;
    free(s->gaps);
    free(s->classes);
    s->gaps = NULL;
    s->classes = NULL;
    s->n_gaps = s->n_classes = 0;
  }
  if (src->n_details)
    memcpy(dst->details + dst->n_details, src->details, src->n_details * sizeof *src->details);
  dst->n_details += src->n_details;
  free(src->details);
  src->details = NULL;
  src->n_details = 0;
  return PM_OK;
}

void pm_indicator_result_clear(pm_indicator_result *ir) {
  if (!ir) return;
  for (size_t i = 0; i < ir->n_results; i++) {
    pm_result *r = &ir->results[i];
    free(r->district);
    free(r->null_reason);
    for (size_t g = 0; g < r->n_gaps; g++) gap_clear(&r->gaps[g]);
    free(r->gaps);
    for (size_t c = 0; c < r->n_classes; c++) free(r->classes[c].label);
    free(r->classes);
    for (size_t c = 0; c < r->n_facilities; c++) free(r->facilities[c].name);
    free(r->facilities);
  }
  free(ir->results);
  for (size_t i = 0; i < ir->n_details; i++) {
    pm_detail *d = &ir->details[i];
    free(d->mem);
    free(d->wkb);
  }
  free(ir->details);
  free(ir->id);
  free(ir->title);
  free(ir->metric);
  free(ir->unit);
  free(ir->params);
  free(ir->distance);
  free(ir->network);
  free(ir->status_reason);
  memset(ir, 0, sizeof *ir);
}

void pm_run_result_destroy(pm_run_result *run) {
  if (!run) return;
  for (size_t i = 0; i < run->n_indicators; i++) pm_indicator_result_clear(&run->indicators[i]);
  free(run->indicators);
  free(run->plan);
  free(run->title);
  free(run->crs);
  free(run->generated_at);
  free(run->plan_hash);
  free(run->districts_layer);
  free(run->timezone);
  free(run->districts_name_field);
  free(run->attributions);
  free(run);
}
