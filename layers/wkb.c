/* wkb.c: read OGR's ISO WKB in place (structure, coordinates, the point and line checks GEOS
 * makes), so that features which need no repair are stored without a GEOS round trip. */
#include "layers/wkb.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_LITTLE 1
#else
#define HOST_LITTLE 0
#endif

void pm__wkb_shape_clear(pm__wkb_shape *s) {
  free(s->runs);
  memset(s, 0, sizeof *s);
}

typedef struct reader {
  const unsigned char *p;
  size_t len, at;
  pm__wkb_shape *s;
  int oom;
} reader;

static int get_u32(reader *r, uint32_t *v) {
  if (r->len - r->at < 4) return 0;
  memcpy(v, r->p + r->at, 4); /* little-endian host, little-endian WKB */
  r->at += 4;
  return 1;
}

static int add_run(reader *r, uint32_t n, int ring) {
  pm__wkb_shape *s = r->s;
  if (s->n_runs == s->cap_runs) {
    size_t cap = s->cap_runs ? 2 * s->cap_runs : 16;
    pm__wkb_run *p = realloc(s->runs, cap * sizeof *p);
    if (!p) {
      r->oom = 1;
      return 0;
    }
    s->runs = p;
    s->cap_runs = cap;
  }
  s->runs[s->n_runs++] = (pm__wkb_run){.off = r->at, .n = n, .ring = ring};
  return 1;
}

static int same_point(const unsigned char *a, const unsigned char *b) {
  double p[2], q[2];
  memcpy(p, a, 16);
  memcpy(q, b, 16);
  return p[0] == q[0] && p[1] == q[1];
}

/* One run of n points at the reader's position. */
static int points(reader *r, uint32_t n, int ring) {
  if ((r->len - r->at) / 16 < n) return 0;
  if (!add_run(r, n, ring)) return 0;
  r->at += (size_t)n * 16;
  return 1;
}

/* One geometry of ISO type `want` (0: any of 1..6) at the reader's position. */
static int geometry(reader *r, uint32_t want, int top) {
  if (r->len - r->at < 5 || r->p[r->at] != 1) return 0; /* little-endian only */
  r->at++;
  uint32_t type;
  if (!get_u32(r, &type)) return 0;
  if (type < 1 || type > 6 || (want && type != want)) return 0;
  if (top) r->s->type = (int)type;
  uint32_t n;
  switch (type) {
  case 1: {
    if (r->len - r->at < 16) return 0;
    double xy[2];
    memcpy(xy, r->p + r->at, 16);
    if (isnan(xy[0]) && isnan(xy[1])) return 0; /* an empty point */
    return points(r, 1, 0);
  }
  case 2:
    return get_u32(r, &n) && n >= 2 && points(r, n, 0);
  case 3:
    if (!get_u32(r, &n) || n == 0) return 0;
    for (uint32_t i = 0; i < n; i++) {
      uint32_t k;
      if (!get_u32(r, &k) || k < 4) return 0;
      size_t first = r->at;
      if (!points(r, k, 1)) return 0;
      if (!same_point(r->p + first, r->p + first + (size_t)(k - 1) * 16)) return 0;
    }
    return 1;
  default:
    if (!get_u32(r, &n) || n == 0) return 0;
    if (top) {
      r->s->n_parts = n;
      r->s->first_part = r->at;
    }
    for (uint32_t i = 0; i < n; i++)
      if (!geometry(r, type - 3, 0)) return 0;
    return 1;
  }
}

int pm__wkb_scan(const unsigned char *wkb, size_t len, pm__wkb_shape *s) {
  s->type = 0;
  s->n_parts = 1;
  s->first_part = 0;
  s->n_runs = 0;
  if (!HOST_LITTLE) return 0;
  reader r = {.p = wkb, .len = len, .s = s};
  int ok = geometry(&r, 0, 1) && r.at == len;
  if (r.oom) return -1;
  return ok;
}

pm_status pm__wkb_transform(pm_context *ctx, unsigned char *wkb, const pm__wkb_shape *s,
                            pm_transform *tr, double **scratch, size_t *scratch_cap) {
  for (size_t i = 0; i < s->n_runs; i++) {
    const pm__wkb_run *run = &s->runs[i];
    size_t n = run->n;
    if (2 * n > *scratch_cap) {
      size_t cap = 2 * n > 2 * *scratch_cap ? 2 * n : 2 * *scratch_cap;
      double *p = realloc(*scratch, cap * sizeof *p);
      if (!p) return pm_error(ctx, PM_ENOMEM, "out of memory");
      *scratch = p;
      *scratch_cap = cap;
    }
    memcpy(*scratch, wkb + run->off, n * 16); /* WKB coordinates are not 8-byte aligned */
    pm_status st = pm_transform_points(tr, *scratch, n);
    if (st) return st;
    memcpy(wkb + run->off, *scratch, n * 16);
  }
  return PM_OK;
}

static void grow_bbox(double bbox[4], double x, double y) {
  bbox[0] = fmin(bbox[0], x);
  bbox[1] = fmin(bbox[1], y);
  bbox[2] = fmax(bbox[2], x);
  bbox[3] = fmax(bbox[3], y);
}

void pm__wkb_bbox(const unsigned char *wkb, const pm__wkb_shape *s, double bbox[4]) {
  bbox[0] = bbox[1] = INFINITY;
  bbox[2] = bbox[3] = -INFINITY;
  for (size_t i = 0; i < s->n_runs; i++) {
    const unsigned char *p = wkb + s->runs[i].off;
    for (uint32_t k = 0; k < s->runs[i].n; k++, p += 16) {
      double xy[2];
      memcpy(xy, p, 16);
      grow_bbox(bbox, xy[0], xy[1]);
    }
  }
}

int pm__wkb_valid_points_lines(const unsigned char *wkb, const pm__wkb_shape *s, double bbox[4]) {
  bbox[0] = bbox[1] = INFINITY;
  bbox[2] = bbox[3] = -INFINITY;
  for (size_t i = 0; i < s->n_runs; i++) {
    const unsigned char *p = wkb + s->runs[i].off;
    double prev[2] = {0, 0};
    uint32_t distinct = 0;
    for (uint32_t k = 0; k < s->runs[i].n; k++, p += 16) {
      double xy[2];
      memcpy(xy, p, 16);
      if (!isfinite(xy[0]) || !isfinite(xy[1])) return 0;
      if (k == 0 || xy[0] != prev[0] || xy[1] != prev[1]) distinct++;
      prev[0] = xy[0];
      prev[1] = xy[1];
      grow_bbox(bbox, xy[0], xy[1]);
    }
    if (!s->runs[i].ring && s->runs[i].n > 1 && distinct < 2) return 0; /* a line of one point */
  }
  return 1;
}
