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
  int noop = pm_transform_is_noop(tr);
  for (size_t i = 0; i < s->n_runs; i++) {
    if (noop) { /* nothing moves: only a point that is not finite needs PROJ (for its error) */
      const unsigned char *p = wkb + s->runs[i].off;
      uint32_t k = 0;
      for (; k < s->runs[i].n; k++, p += 16) {
        double xy[2];
        memcpy(xy, p, 16);
        if (!isfinite(xy[0]) || !isfinite(xy[1])) break;
      }
      if (k == s->runs[i].n) continue;
    }
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

/* Sign of the orientation of c relative to the line a-b when floating point is certain of it
 * (1 left, -1 right), 0 when it is not (collinear, or too close to call): the filter of Shewchuk's
 * orient2d (error bound A). GEOS decides with double-double arithmetic, which is exact wherever
 * this filter is certain, so a certain sign here is GEOS's sign. */
static int certain_orientation(const double *a, const double *b, const double *c) {
  static const double bound = (3.0 + 16.0 * 1.1102230246251565e-16) * 1.1102230246251565e-16;
  double l = (a[0] - c[0]) * (b[1] - c[1]);
  double r = (a[1] - c[1]) * (b[0] - c[0]);
  double det = l - r;
  double sum = fabs(l) + fabs(r);
  if (det > bound * sum) return 1;
  if (-det > bound * sum) return -1;
  return 0;
}

/* Whether segments p1-p2 and q1-q2 certainly do not meet: disjoint boxes, or one segment certainly
 * strictly on one side of the other's line. */
static int certainly_apart(const double *p1, const double *p2, const double *q1, const double *q2) {
  if (fmax(p1[0], p2[0]) < fmin(q1[0], q2[0]) || fmax(q1[0], q2[0]) < fmin(p1[0], p2[0]) ||
      fmax(p1[1], p2[1]) < fmin(q1[1], q2[1]) || fmax(q1[1], q2[1]) < fmin(p1[1], p2[1]))
    return 1;
  int a = certain_orientation(p1, p2, q1), b = certain_orientation(p1, p2, q2);
  if (a != 0 && a == b) return 1;
  a = certain_orientation(q1, q2, p1);
  b = certain_orientation(q1, q2, p2);
  return a != 0 && a == b;
}

int pm__wkb_certainly_valid_ring(const unsigned char *wkb, const pm__wkb_shape *s, double bbox[4]) {
  enum { MAX_POINTS = 64 };
  if (s->n_runs != 1 || !s->runs[0].ring || s->runs[0].n > MAX_POINTS) return 0;
  size_t n = s->runs[0].n - 1; /* distinct vertices of the closed ring */
  double v[MAX_POINTS][2];
  memcpy(v, wkb + s->runs[0].off, (n + 1) * 16);
  bbox[0] = bbox[1] = INFINITY;
  bbox[2] = bbox[3] = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(v[i][0]) || !isfinite(v[i][1])) return 0;
    grow_bbox(bbox, v[i][0], v[i][1]);
  }
  if (n < 3) return 0;
  /* Segment i runs from v[i] to v[i+1] (v[n] = v[0]). Adjacent segments meet only at their shared
   * vertex when that corner is certainly not straight (a repeated point, a spike or a straight
   * corner goes to GEOS); segments that are not adjacent must certainly not meet at all. A ring of
   * three corners is then a triangle; every vertex counted, it has 4 points or more. */
  for (size_t i = 0; i < n; i++)
    if (!certain_orientation(v[i], v[(i + 1) % n], v[(i + 2) % n])) return 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 2; j < n; j++) {
      if (i == 0 && j == n - 1) continue; /* the closing segment is adjacent to the first */
      if (!certainly_apart(v[i], v[i + 1], v[j], v[(j + 1) % n])) return 0;
    }
  return 1;
}
