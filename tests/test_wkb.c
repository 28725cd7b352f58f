/* test_wkb.c: the ingest's fast way (layers/wkb.c) against GEOS, the general way it stands in for:
 * which WKB it takes as plain, the same validity verdict as GEOSisValid for points and lines, a
 * ring test for polygons that never calls valid what GEOS calls invalid, the same coordinates as
 * pm_transform_geom, the same extent. */
#include <math.h>
#include <ogr_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

#include "layers/wkb.h"

/* OGR's ISO WKB (little-endian) of a WKT; caller frees. */
static unsigned char *ogr_wkb(const char *wkt, size_t *len) {
  OGRGeometryH g = NULL;
  char *w = (char *)wkt;
  if (OGR_G_CreateFromWkt(&w, NULL, &g) != OGRERR_NONE) fail_msg("WKT: %s", wkt);
  *len = (size_t)OGR_G_WkbSize(g);
  unsigned char *b = malloc(*len);
  assert_non_null(b);
  assert_int_equal(OGR_G_ExportToIsoWkb(g, wkbNDR, b), OGRERR_NONE);
  OGR_G_DestroyGeometry(g);
  return b;
}

static int scan(const char *wkt, pm__wkb_shape *s) {
  size_t len = 0;
  unsigned char *b = ogr_wkb(wkt, &len);
  int r = pm__wkb_scan(b, len, s);
  free(b);
  return r;
}

/* Plain: what the fast way takes. Anything GEOS would have to read differently, or that a repair
 * or a drop decision depends on, is not. */
static void what_is_plain(void **state) {
  (void)state;
  pm__wkb_shape s = {0};
  assert_int_equal(scan("POINT (1 2)", &s), 1);
  assert_int_equal(s.type, 1);
  assert_int_equal(scan("LINESTRING (0 0,1 1,1 1)", &s), 1);
  assert_int_equal(scan("POLYGON ((0 0,1 0,1 1,0 0))", &s), 1);
  assert_int_equal(scan("POLYGON ((0 0,9 0,9 9,0 9,0 0),(1 1,2 1,2 2,1 1))", &s), 1);
  assert_int_equal(s.n_runs, 2);
  assert_int_equal(scan("MULTIPOINT ((1 2),(3 4))", &s), 1);
  assert_int_equal(s.n_parts, 2);
  assert_int_equal(scan("MULTILINESTRING ((0 0,1 1),(2 2,3 3))", &s), 1);
  assert_int_equal(scan("MULTIPOLYGON (((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))", &s), 1);
  assert_int_equal(s.type, 6);
  assert_int_equal(s.n_parts, 2);
  /* not plain */
  assert_int_equal(scan("POINT EMPTY", &s), 0);
  assert_int_equal(scan("POINT Z (1 2 3)", &s), 0);
  assert_int_equal(scan("LINESTRING (0 0)", &s), 0);
  assert_int_equal(scan("LINESTRING EMPTY", &s), 0);
  assert_int_equal(scan("POLYGON ((0 0,1 0,1 1,0 1))", &s), 0);      /* not closed */
  assert_int_equal(scan("POLYGON ((0 0,1 0,0 0))", &s), 0);          /* 3 points */
  assert_int_equal(scan("POLYGON EMPTY", &s), 0);
  assert_int_equal(scan("MULTIPOINT ((1 2),EMPTY)", &s), 0);
  assert_int_equal(scan("MULTILINESTRING ((0 0,1 1),EMPTY)", &s), 0);
  assert_int_equal(scan("MULTIPOLYGON (((0 0,1 0,1 1,0 0)),EMPTY)", &s), 0);
  assert_int_equal(scan("GEOMETRYCOLLECTION (POINT (1 2))", &s), 0);
  assert_int_equal(scan("CIRCULARSTRING (0 0,1 1,2 0)", &s), 0);
  assert_int_equal(scan("CURVEPOLYGON ((0 0,1 0,1 1,0 0))", &s), 0);
  /* truncated or trailing bytes */
  size_t len = 0;
  unsigned char *b = ogr_wkb("LINESTRING (0 0,1 1)", &len);
  assert_int_equal(pm__wkb_scan(b, len - 1, &s), 0);
  unsigned char *big = calloc(len + 1, 1);
  memcpy(big, b, len);
  assert_int_equal(pm__wkb_scan(big, len + 1, &s), 0);
  b[0] = 0; /* big-endian */
  assert_int_equal(pm__wkb_scan(b, len, &s), 0);
  free(big);
  free(b);
  pm__wkb_shape_clear(&s);
}

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static unsigned rnd(unsigned n) { return (unsigned)(pm_test_rand_u64(&rs) % n); }

static void put_u32(unsigned char **p, uint32_t v) {
  memcpy(*p, &v, 4);
  *p += 4;
}

/* A random (multi)line or (multi)point, coordinates from a few values, repeats and non-finite
 * ones included, written as WKB by hand (no library writes NaN coordinates). */
static size_t random_wkb(unsigned char *w, int *type) {
  static const double vals[] = {0, 1, 2.5, -3, NAN, INFINITY};
  unsigned char *p = w;
  int multi = (int)rnd(2), line = (int)rnd(2);
  *type = line ? (multi ? 5 : 2) : (multi ? 4 : 1);
  *p++ = 1;
  put_u32(&p, (uint32_t)*type);
  uint32_t parts = multi ? 1 + rnd(3) : 1;
  if (multi) put_u32(&p, parts);
  for (uint32_t k = 0; k < parts; k++) {
    if (multi) {
      *p++ = 1;
      put_u32(&p, line ? 2 : 1);
    }
    uint32_t n = line ? 2 + rnd(4) : 1;
    if (line) put_u32(&p, n);
    double prev[2] = {0, 0};
    for (uint32_t i = 0; i < n; i++) {
      double xy[2] = {vals[rnd(4 + (rnd(8) == 0 ? 2 : 0))], vals[rnd(4 + (rnd(8) == 0 ? 2 : 0))]};
      if (i > 0 && rnd(3) == 0) memcpy(xy, prev, sizeof xy); /* a repeated point */
      memcpy(p, xy, 16);
      memcpy(prev, xy, sizeof prev);
      p += 16;
    }
  }
  return (size_t)(p - w);
}

/* For every plain point or line geometry, the fast check says valid exactly when GEOS does. */
static void validity_as_geos(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
  pm__wkb_shape s = {0};
  unsigned char w[1024];
  int n_valid = 0, n_invalid = 0;
  for (int i = 0; i < 20000; i++) {
    int type = 0;
    size_t len = random_wkb(w, &type);
    if (pm__wkb_scan(w, len, &s) != 1) continue; /* e.g. a point of two NaNs: empty */
    GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, w, len);
    assert_non_null(g);
    char geos_valid = GEOSisValid_r(h, g);
    double bbox[4];
    int fast_valid = pm__wkb_valid_points_lines(w, &s, bbox);
    if ((geos_valid == 1) != fast_valid) fail_msg("case %d (type %d): GEOS says %d, the fast check %d", i, type, geos_valid, fast_valid);
    if (fast_valid) {
      double e[4];
      assert_true(GEOSGeom_getXMin_r(h, g, &e[0]) && GEOSGeom_getYMin_r(h, g, &e[1]) &&
                  GEOSGeom_getXMax_r(h, g, &e[2]) && GEOSGeom_getYMax_r(h, g, &e[3]));
      for (int k = 0; k < 4; k++) assert_true(e[k] == bbox[k]);
      n_valid++;
    } else {
      n_invalid++;
    }
    GEOSGeom_destroy_r(h, g);
  }
  assert_true(n_valid > 1000 && n_invalid > 1000); /* both verdicts were tried */
  pm__wkb_shape_clear(&s);
  GEOSWKBReader_destroy_r(h, rd);
}

/* A random ring of n corners: small integers (collinear corners, repeated points, touching and
 * crossing edges are common) or a jittered star (mostly simple), written as a polygon's WKB. */
static size_t random_ring_wkb(unsigned char *w, int star) {
  unsigned char *p = w;
  uint32_t n = 3 + rnd(star ? 20 : 6);
  *p++ = 1;
  put_u32(&p, 3);
  put_u32(&p, 1);
  put_u32(&p, n + 1);
  double first[2] = {0, 0};
  for (uint32_t i = 0; i < n; i++) {
    double xy[2];
    if (star) {
      double a = 2 * M_PI * (i + rnd(1000) / 2000.0) / n, r = 50 + rnd(1000) / 10.0;
      xy[0] = 350000.5 + r * cos(a);
      xy[1] = 3450000.25 + r * sin(a);
    } else {
      xy[0] = rnd(5);
      xy[1] = rnd(5);
    }
    if (i == 0) memcpy(first, xy, sizeof first);
    memcpy(p, xy, 16);
    p += 16;
  }
  memcpy(p, first, 16);
  p += 16;
  return (size_t)(p - w);
}

/* Whenever the cheap ring test says "certainly valid", GEOS says valid; and it decides most of the
 * simple rings, so polygons rarely need GEOS. */
static void ring_test_never_wrong(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
  pm__wkb_shape s = {0};
  unsigned char w[2048];
  int decided = 0, geos_valid_star = 0, invalid = 0;
  for (int i = 0; i < 40000; i++) {
    int star = i % 2;
    size_t len = random_ring_wkb(w, star);
    if (pm__wkb_scan(w, len, &s) != 1) continue;
    GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, w, len);
    assert_non_null(g);
    char valid = GEOSisValid_r(h, g);
    double bbox[4];
    int sure = pm__wkb_certainly_valid_ring(w, &s, bbox);
    if (sure && valid != 1) fail_msg("case %d: the ring test says valid, GEOS does not", i);
    if (star && valid == 1) {
      geos_valid_star++;
      decided += sure;
    }
    invalid += valid != 1;
    GEOSGeom_destroy_r(h, g);
  }
  assert_true(invalid > 5000);                       /* the integer rings tried the invalid cases */
  assert_true(decided > 0.95 * geos_valid_star);     /* and simple rings are decided cheaply */
  pm__wkb_shape_clear(&s);
  GEOSWKBReader_destroy_r(h, rd);
}

/* Transforming the WKB in place gives the coordinates pm_transform_geom gives, bit for bit; a no-op
 * transformation leaves them as they are; a point PROJ cannot transform is the same error. */
static void transform_as_geos(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
  GEOSWKBWriter *wr = GEOSWKBWriter_create_r(h);
  const char *sources[] = {"EPSG:4326", "gcj02", "bd09", "EPSG:32651", "EPSG:4490"};
  const char *wkts[] = {
      "MULTIPOLYGON (((121.40 31.20,121.41 31.20,121.41 31.21,121.40 31.20),(121.402 31.201,121.405 "
      "31.201,121.405 31.204,121.402 31.201)),((121.5 31.3,121.6 31.3,121.6 31.4,121.5 31.3)))",
      "LINESTRING (121.1 31.1,121.123456789 31.987654321,121.2 31.0)", "POINT (121.47 31.23)"};
  double *scratch = NULL;
  size_t scratch_cap = 0;
  pm__wkb_shape s = {0};
  for (size_t a = 0; a < PM_ARRAY_LEN(sources); a++) {
    pm_transform *tr = NULL;
    assert_int_equal(pm_transform_create(ctx, sources[a], 32651, &tr), PM_OK);
    for (size_t b = 0; b < PM_ARRAY_LEN(wkts); b++) {
      size_t len = 0;
      unsigned char *w = ogr_wkb(wkts[b], &len);
      assert_int_equal(pm__wkb_scan(w, len, &s), 1);
      GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, w, len);
      GEOSGeometry *t = NULL;
      assert_int_equal(pm_transform_geom(tr, g, &t), PM_OK);
      assert_int_equal(pm__wkb_transform(ctx, w, &s, tr, &scratch, &scratch_cap), PM_OK);
      size_t glen = 0;
      unsigned char *gw = GEOSWKBWriter_write_r(h, wr, t, &glen);
      /* GEOS writes the same structure (2D, little-endian), so the bytes compare */
      assert_int_equal(glen, len);
      assert_memory_equal(gw, w, len);
      GEOSFree_r(h, gw);
      GEOSGeom_destroy_r(h, g);
      GEOSGeom_destroy_r(h, t);
      free(w);
    }
    pm_transform_destroy(tr);
  }
  /* A point outside what PROJ can do: the same message either way. */
  pm_transform *tr = NULL;
  assert_int_equal(pm_transform_create(ctx, "EPSG:4326", 32651, &tr), PM_OK);
  size_t len = 0;
  unsigned char *w = ogr_wkb("LINESTRING (121 31,121 95,121 96)", &len);
  assert_int_equal(pm__wkb_scan(w, len, &s), 1);
  GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, w, len), *t = NULL;
  assert_int_equal(pm_transform_geom(tr, g, &t), PM_ECRS);
  char msg[512];
  snprintf(msg, sizeof msg, "%s", pm_context_message(ctx));
  assert_int_equal(pm__wkb_transform(ctx, w, &s, tr, &scratch, &scratch_cap), PM_ECRS);
  assert_string_equal(pm_context_message(ctx), msg);
  GEOSGeom_destroy_r(h, g);
  free(w);
  pm_transform_destroy(tr);
  free(scratch);
  pm__wkb_shape_clear(&s);
  GEOSWKBWriter_destroy_r(h, wr);
  GEOSWKBReader_destroy_r(h, rd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(what_is_plain),
      pm_test_case(validity_as_geos),
      pm_test_case(ring_test_never_wrong),
      pm_test_case(transform_as_geos),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
