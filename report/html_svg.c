/* html_svg.c: the HTML report's building blocks: text buffer, escaping, map view, SVG path data. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/html_internal.h"
#include "engine/internal.h"

/* ---------- buffer ---------- */

static int hbuf_reserve(pm__hbuf *b, size_t extra) {
  if (b->oom) return -1;
  if (b->len + extra + 1 <= b->cap) return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + extra + 1) {
    if (cap > ((size_t)-1) / 2) {
      b->oom = 1;
      return -1;
    }
    cap *= 2;
  }
  char *s = realloc(b->s, cap);
  if (!s) {
    b->oom = 1;
    return -1;
  }
  b->s = s;
  b->cap = cap;
  return 0;
}

void pm__hbuf_putn(pm__hbuf *b, const char *s, size_t n) {
  if (!n || hbuf_reserve(b, n)) return;
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void pm__hbuf_put(pm__hbuf *b, const char *s) {
  if (s) pm__hbuf_putn(b, s, strlen(s));
}

void pm__hbuf_printf(pm__hbuf *b, const char *fmt, ...) {
  if (b->oom) return;
  char small[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    pm__hbuf_putn(b, small, (size_t)n);
    return;
  }
  if (hbuf_reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

void pm__hbuf_cat(pm__hbuf *b, const pm__hbuf *o) {
  if (o->oom) b->oom = 1;
  if (o->len) pm__hbuf_putn(b, o->s, o->len);
}

void pm__hbuf_free(pm__hbuf *b) {
  free(b->s);
  memset(b, 0, sizeof *b);
}

/* ---------- escaping ---------- */

/* Length of the valid UTF-8 character at p (2-4 bytes, p[0] >= 0x80), or 0 when invalid. */
static size_t utf8_len(const unsigned char *p) {
  unsigned char c = p[0];
  size_t n;
  unsigned v, min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, v = c & 0x1Fu, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, v = c & 0x0Fu, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, v = c & 0x07u, min = 0x10000;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (p[i] & 0x3Fu);
  }
  if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  return n;
}

void pm__hbuf_esc(pm__hbuf *b, const char *text) {
  if (!text) return;
  const unsigned char *p = (const unsigned char *)text;
  while (*p) {
    const unsigned char *run = p;
    /* Copy plain runs in one go. */
    while (*p >= 0x20 && *p < 0x7F && *p != '&' && *p != '<' && *p != '>' && *p != '"' &&
           *p != '\'')
      p++;
    if (p > run) pm__hbuf_putn(b, (const char *)run, (size_t)(p - run));
    if (!*p) break;
    unsigned char c = *p;
    if (c >= 0x80) {
      size_t n = utf8_len(p);
      if (n) {
        pm__hbuf_putn(b, (const char *)p, n);
        p += n;
      } else {
        pm__hbuf_put(b, "\xEF\xBF\xBD"); /* U+FFFD */
        p++;
      }
      continue;
    }
    switch (c) {
      case '&': pm__hbuf_put(b, "&amp;"); break;
      case '<': pm__hbuf_put(b, "&lt;"); break;
      case '>': pm__hbuf_put(b, "&gt;"); break;
      case '"': pm__hbuf_put(b, "&quot;"); break;
      case '\'': pm__hbuf_put(b, "&#39;"); break;
      case '\t': case '\n': case '\r': pm__hbuf_putn(b, (const char *)p, 1); break;
      default: break; /* other control characters (and DEL) have no place in a page */
    }
    p++;
  }
}

pm_status pm__html_escape(pm_context *ctx, const char *text, char **out) {
  pm__hbuf b = {0};
  pm__hbuf_esc(&b, text);
  if (!b.oom && !b.s) {
    b.s = calloc(1, 1);
    if (!b.s) b.oom = 1;
  }
  if (b.oom) {
    pm__hbuf_free(&b);
    *out = NULL;
    return pm_error(ctx, PM_ENOMEM, "out of memory while escaping text for the HTML report");
  }
  *out = b.s;
  return PM_OK;
}

/* ---------- view ---------- */

pm_status pm__html_view_fit(pm_context *ctx, double minx, double miny, double maxx, double maxy,
                           double width_px, double max_height_px, double pad_px,
                           pm__html_view *out) {
  memset(out, 0, sizeof *out);
  if (!isfinite(minx) || !isfinite(miny) || !isfinite(maxx) || !isfinite(maxy) || maxx < minx ||
      maxy < miny)
    return pm_error(ctx, PM_EINPUT, "map extent is empty or not finite");
  if (!isfinite(pad_px) || pad_px < 0 || !(width_px > 2 * pad_px) || !(max_height_px > 2 * pad_px))
    return pm_error(ctx, PM_EINPUT, "map size %gx%g px is too small for a margin of %g px",
                    width_px, max_height_px, pad_px);
  double w = maxx - minx, h = maxy - miny;
  /* A single point (or a line along an axis) still needs a scale: show 1 km around it. */
  if (w < 1.0 && h < 1.0) {
    double cx = (minx + maxx) / 2, cy = (miny + maxy) / 2;
    minx = cx - 500, maxx = cx + 500, miny = cy - 500, maxy = cy + 500;
    w = h = 1000;
  }
  double aw = width_px - 2 * pad_px, ah = max_height_px - 2 * pad_px;
  double sx = w > 0 ? aw / w : INFINITY, sy = h > 0 ? ah / h : INFINITY;
  double s = sx < sy ? sx : sy;
  double used_h = h * s + 2 * pad_px;
  out->scale = s;
  out->width_px = width_px;
  out->height_px = used_h < max_height_px ? used_h : max_height_px;
  /* The extent shown: the data's extent centred, grown to the map's size. */
  out->minx = minx - (width_px - w * s) / 2 / s;
  out->maxx = out->minx + width_px / s;
  out->maxy = maxy + (out->height_px - h * s) / 2 / s;
  out->miny = out->maxy - out->height_px / s;
  return PM_OK;
}

void pm__html_view_apply(const pm__html_view *v, double x, double y, double *px, double *py) {
  *px = (x - v->minx) * v->scale;
  *py = (v->maxy - y) * v->scale;
}

/* ---------- path data ---------- */

/* Path coordinates are integers in hundredths of a pixel. */
#define PREC 100.0

static long long to_fixed(double px) {
  if (!isfinite(px)) return 0;
  if (px > 1e12) px = 1e12;
  if (px < -1e12) px = -1e12;
  return llround(px * PREC);
}

/* Append v/100 in the shortest form ("12.3", "-.05", "7"); sep: a space is needed before a
 * non-negative number (a minus sign separates by itself). */
static void put_fixed(pm__hbuf *b, long long v, int sep) {
  char tmp[40];
  char *p = tmp;
  unsigned long long a = v < 0 ? (unsigned long long)(-(v + 1)) + 1 : (unsigned long long)v;
  if (v < 0)
    *p++ = '-';
  else if (sep)
    *p++ = ' ';
  unsigned long long ip = a / 100, fp = a % 100;
  if (ip || !fp) p += sprintf(p, "%llu", ip);
  if (fp) {
    *p++ = '.';
    *p++ = (char)('0' + fp / 10);
    if (fp % 10) *p++ = (char)('0' + fp % 10);
  }
  pm__hbuf_putn(b, tmp, (size_t)(p - tmp));
}

void pm__hbuf_px(pm__hbuf *b, double px) { put_fixed(b, to_fixed(px), 0); }

/* One coordinate sequence: "Mx y" then relative "l" steps, repeated (rounded) points dropped.
 * closed: a polygon ring (ends with z, the closing point is not repeated). */
static long path_seq(GEOSContextHandle_t h, const pm__html_view *v, const GEOSCoordSequence *seq,
                     int closed, pm__hbuf *b) {
  unsigned int n = 0;
  if (!seq || !GEOSCoordSeq_getSize_r(h, seq, &n)) return -1;
  if (n == 0) return 0;
  if (closed && n > 1) n--; /* the ring's last point repeats the first */
  long long px = 0, py = 0;
  long written = 0;
  for (unsigned int i = 0; i < n; i++) {
    double x, y, fx, fy;
    if (!GEOSCoordSeq_getXY_r(h, seq, i, &x, &y)) return -1;
    pm__html_view_apply(v, x, y, &fx, &fy);
    long long ix = to_fixed(fx), iy = to_fixed(fy);
    if (i == 0) {
      pm__hbuf_put(b, "M");
      put_fixed(b, ix, 0);
      put_fixed(b, iy, 1);
      written++;
    } else {
      if (ix == px && iy == py) continue;
      if (written == 1) pm__hbuf_put(b, "l");
      else if (ix - px >= 0) pm__hbuf_put(b, " ");
      put_fixed(b, ix - px, 0);
      put_fixed(b, iy - py, 1);
      written++;
    }
    px = ix, py = iy;
  }
  if (written == 1 && !closed) pm__hbuf_put(b, "h0"); /* a line shorter than the rounding: a dot */
  if (closed) pm__hbuf_put(b, "z");
  return written;
}

long pm__html_path_geom(GEOSContextHandle_t h, const pm__html_view *v, const GEOSGeometry *g,
                       pm__hbuf *b) {
  if (!g) return -1;
  if (GEOSisEmpty_r(h, g) == 1) return 0;
  int type = GEOSGeomTypeId_r(h, g);
  switch (type) {
    case GEOS_POINT: {
      double x, y, fx, fy;
      if (!GEOSGeomGetX_r(h, g, &x) || !GEOSGeomGetY_r(h, g, &y)) return -1;
      pm__html_view_apply(v, x, y, &fx, &fy);
      pm__hbuf_put(b, "M");
      put_fixed(b, to_fixed(fx), 0);
      put_fixed(b, to_fixed(fy), 1);
      pm__hbuf_put(b, "h0");
      return 1;
    }
    case GEOS_LINESTRING:
    case GEOS_LINEARRING:
      return path_seq(h, v, GEOSGeom_getCoordSeq_r(h, g), type == GEOS_LINEARRING, b);
    case GEOS_POLYGON: {
      long n = path_seq(h, v, GEOSGeom_getCoordSeq_r(h, GEOSGetExteriorRing_r(h, g)), 1, b);
      if (n < 0) return -1;
      int holes = GEOSGetNumInteriorRings_r(h, g);
      for (int i = 0; i < holes; i++) {
        long m = path_seq(h, v, GEOSGeom_getCoordSeq_r(h, GEOSGetInteriorRingN_r(h, g, i)), 1, b);
        if (m < 0) return -1;
        n += m;
      }
      return n;
    }
    default: {
      int parts = GEOSGetNumGeometries_r(h, g);
      if (parts < 0) return -1;
      long n = 0;
      for (int i = 0; i < parts; i++) {
        long m = pm__html_path_geom(h, v, GEOSGetGeometryN_r(h, g, i), b);
        if (m < 0) return -1;
        n += m;
      }
      return n;
    }
  }
}

GEOSGeometry *pm__html_simplify(GEOSContextHandle_t h, const pm__html_view *v, const GEOSGeometry *g,
                               double simplify_px) {
  int type = GEOSGeomTypeId_r(h, g);
  if (simplify_px <= 0 || type == GEOS_POINT || type == GEOS_MULTIPOINT || v->scale <= 0)
    return GEOSGeom_clone_r(h, g);
  /* Two-point lines (transfer segments) cannot get simpler. */
  if (type == GEOS_LINESTRING && GEOSGeomGetNumPoints_r(h, g) <= 2) return GEOSGeom_clone_r(h, g);
  return GEOSTopologyPreserveSimplify_r(h, g, simplify_px / v->scale);
}

pm_status pm__html_svg_path(pm_context *ctx, const pm__html_view *v, const unsigned char *wkb,
                           size_t wkb_len, double simplify_px, char **out, size_t *n_points) {
  *out = NULL;
  if (n_points) *n_points = 0;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKBReader *r = GEOSWKBReader_create_r(h);
  if (!r) return pm_error(ctx, PM_ENOMEM, "out of memory");
  GEOSGeometry *g = wkb ? GEOSWKBReader_read_r(h, r, wkb, wkb_len) : NULL;
  GEOSWKBReader_destroy_r(h, r);
  if (!g)
    return pm_error(ctx, PM_EGEOM, "unreadable geometry for the HTML map (%s)",
                    pm__context_geos_message(ctx));
  GEOSGeometry *s = pm__html_simplify(h, v, g, simplify_px);
  GEOSGeom_destroy_r(h, g);
  if (!s)
    return pm_error(ctx, PM_EGEOM, "cannot simplify a geometry for the HTML map (%s)",
                    pm__context_geos_message(ctx));
  pm__hbuf b = {0};
  long n = pm__html_path_geom(h, v, s, &b);
  GEOSGeom_destroy_r(h, s);
  if (n < 0) {
    pm__hbuf_free(&b);
    return pm_error(ctx, PM_EGEOM, "cannot read a geometry for the HTML map (%s)",
                    pm__context_geos_message(ctx));
  }
  if (!b.oom && !b.s) {
    b.s = calloc(1, 1);
    if (!b.s) b.oom = 1;
  }
  if (b.oom) {
    pm__hbuf_free(&b);
    return pm_error(ctx, PM_ENOMEM, "out of memory while drawing a map");
  }
  *out = b.s;
  if (n_points) *n_points = (size_t)n;
  return PM_OK;
}
