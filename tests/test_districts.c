/* test_districts.c: engine/districts.c: districts from polygons (names, merging, `only`, refusals),
 * `_all` as their union, which districts hold a point (borders included), clipping points, lines
 * and polygons to a district, clones. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* The layout of most cases: A x 0..1000, B x 1000..2000 (y 0..1000), sharing the edge x = 1000;
 * 100 ha each. */
#define AB(ctx) pm_test_two_districts((ctx), 1000, 0, 1000)

static double area_of(pm_context *ctx, const GEOSGeometry *g) {
  double a = -1;
  assert_true(GEOSArea_r(pm_context_geos(ctx), g, &a));
  return a;
}

/* Names come from the labels, in input order; unnamed polygons are left out; polygons of the same
 * name are one district; `_all` is the union, its area the dissolved one. */
static void test_from_features(void **state) {
  pm_context *ctx = *state;
  const char *w[] = {"POLYGON((0 0,10 0,10 10,0 10,0 0))",  "POLYGON((10 0,20 0,20 10,10 10,10 0))",
                     "POLYGON((50 50,60 50,60 60,50 60,50 50))", "POLYGON((0 0,5 0,5 5,0 5,0 0))",
                     "POLYGON((100 0,110 0,110 10,100 10,100 0))"};
  const char *names[] = {"青浦区", "松江区", NULL, "青浦区", "长宁区"};
  pm_districts *d = pm_test_districts_wkt(ctx, w, names, 5);
  assert_int_equal(d->n, 3);
  assert_string_equal(d->name[0], "青浦区");
  assert_string_equal(d->name[1], "松江区");
  assert_string_equal(d->name[2], "长宁区");
  assert_near(area_of(ctx, d->geom[0]), 100, 1e-9); /* the 5 x 5 part lies inside: merged */
  assert_near(area_of(ctx, d->geom[2]), 100, 1e-9);
  assert_non_null(d->all);
  assert_near(d->area_m2_all, 300, 1e-9); /* the unnamed square is in no district */
  assert_near(area_of(ctx, d->all), 300, 1e-9);
  assert_non_null(d->tree);
  for (size_t i = 0; i < d->n; i++) assert_non_null(d->prep[i]);
  assert_string_equal(pm_districts_name(d, 1), "松江区");
  assert_string_equal(pm_districts_name(d, 3), PM_ALL);
  pm_districts_destroy(ctx, d);

  /* Overlapping districts: `_all` counts the overlap once. */
  const char *ov[] = {"POLYGON((0 0,10 0,10 10,0 10,0 0))", "POLYGON((5 0,15 0,15 10,5 10,5 0))"};
  const char *ovn[] = {"A", "B"};
  d = pm_test_districts_wkt(ctx, ov, ovn, 2);
  assert_near(d->area_m2_all, 150, 1e-9);
  pm_districts_destroy(ctx, d);
}

/* `only` keeps the named districts, in its order; a name that is not there is an input error
 * that lists the names present. */
static void test_only(void **state) {
  pm_context *ctx = *state;
  const char *w[] = {"POLYGON((0 0,1 0,1 1,0 1,0 0))", "POLYGON((1 0,2 0,2 1,1 1,1 0))",
                     "POLYGON((2 0,3 0,3 1,2 1,2 0))"};
  const char *names[] = {"甲", "乙", "丙"};
  pm_features *fs = pm_test_wkt(ctx, "districts", w, names, 3);
  pm_districts *d = NULL;
  const char *only[] = {"丙", "甲"};
  assert_int_equal(pm_districts_create(ctx, fs, "QX", only, 2, &d), PM_OK);
  assert_int_equal(d->n, 2);
  assert_string_equal(d->name[0], "丙");
  assert_string_equal(d->name[1], "甲");
  assert_near(d->area_m2_all, 2, 1e-12);
  pm_districts_destroy(ctx, d);

  const char *wrong[] = {"甲", "丁"};
  d = (pm_districts *)1;
  assert_int_equal(pm_districts_create(ctx, fs, "QX", wrong, 2, &d), PM_EINPUT);
  assert_null(d);
  assert_contains(pm_context_message(ctx),
                  "districts layer 'districts' has no district named '丁' in field QX; names "
                  "present: 甲, 乙, 丙");
  pm_features_destroy(ctx, fs);
}

/* Refused: districts that are not polygons, and a layer without a named polygon. */
static void test_refusals(void **state) {
  pm_context *ctx = *state;
  static const struct {
    const char *wkt, *label, *said;
  } cases[] = {
      {"POINT(0 0)", "A", "holds points; districts must be polygons"},
      {"LINESTRING(0 0,1 1)", "A", "holds lines; districts must be polygons"},
      {"POLYGON((0 0,1 0,1 1,0 0))", NULL, "has no named polygons in field name"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *w[] = {cases[i].wkt}, *l[] = {cases[i].label};
    pm_features *fs = pm_test_wkt(ctx, "zones", w, l, 1);
    pm_districts *d = (pm_districts *)1;
    pm_status st = pm_districts_from_features(ctx, fs, &d);
    if (st != PM_EINPUT || d || !strstr(pm_context_message(ctx), cases[i].said) ||
        !strstr(pm_context_message(ctx), "'zones'"))
      fail_msg("%s: status %d, message \"%s\"", cases[i].wkt, st, pm_context_message(ctx));
    pm_features_destroy(ctx, fs);
  }
}

/* A point belongs to every district whose polygon covers it, boundary included (indices in
 * order); the plan area holds what a district holds. */
static void test_of_point(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  /* A and C 500 m apart: A x 0..1000, C x 1500..2500 */
  const char *gw[] = {"POLYGON((0 0,1000 0,1000 1000,0 1000,0 0))",
                      "POLYGON((1500 0,2500 0,2500 1000,1500 1000,1500 0))"};
  const char *gn[] = {"A", "C"};
  pm_districts *ab = AB(ctx), *gapped = pm_test_districts_wkt(ctx, gw, gn, 2);
  static const struct {
    int gapped;
    const char *point, *name;
    size_t n, idx[2];
    int in_all;
  } cases[] = {
      {0, "POINT(500 500)", "inside A", 1, {0}, 1},
      {0, "POINT(1500 500)", "inside B", 1, {1}, 1},
      {0, "POINT(1000 500)", "on the shared edge", 2, {0, 1}, 1},
      {0, "POINT(1000 1000)", "on the shared corner", 2, {0, 1}, 1},
      {0, "POINT(0 500)", "on A's outer edge", 1, {0}, 1},
      {0, "POINT(2000 0)", "on B's outer corner", 1, {1}, 1},
      {0, "POINT(-0.001 500)", "just outside", 0, {0}, 0},
      {0, "POINT(3000 3000)", "far outside", 0, {0}, 0},
      {1, "POINT(1200 500)", "in the gap between A and C", 0, {0}, 0},
      {1, "POINT(1500 500)", "on C's edge", 1, {1}, 1},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const pm_districts *d = cases[c].gapped ? gapped : ab;
    GEOSGeometry *g = pm_test_geom(ctx, cases[c].point);
    size_t idx[2] = {99, 99}, n = 99;
    int in_all = -1;
    assert_int_equal(pm_districts_of_point(ctx, d, g, idx, &n, &in_all), PM_OK);
    GEOSGeom_destroy_r(h, g);
    int same = n == cases[c].n && in_all == cases[c].in_all;
    for (size_t k = 0; same && k < n; k++) same = idx[k] == cases[c].idx[k];
    if (!same)
      fail_msg("%s %s: %zu districts (first %zu), in the plan area %d; want %zu (first %zu), %d",
               cases[c].name, cases[c].point, n, n ? idx[0] : 0, in_all, cases[c].n,
               cases[c].idx[0], cases[c].in_all);
  }
  pm_districts_destroy(ctx, ab);
  pm_districts_destroy(ctx, gapped);
}

/* The part of a geometry inside a district, and inside `_all` (slot n): lines measured by length,
 * polygons by area, points by count. On a border a line belongs to both districts (they cover
 * their boundary) and once to `_all`. */
static void test_clip(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_districts *d = AB(ctx);
  static const struct {
    const char *name, *wkt;
    double a, b, all; /* length (lines), area (polygons) or points kept */
  } cases[] = {
      {"a line across the shared edge", "LINESTRING(500 500,1700 500)", 500, 700, 1200},
      {"a line along the shared edge", "LINESTRING(1000 100,1000 300)", 200, 200, 200},
      {"a line along A's outer edge", "LINESTRING(0 100,0 400)", 300, 0, 300},
      {"a line leaving the plan area", "LINESTRING(1500 500,1500 1600)", 0, 500, 500},
      {"a line outside", "LINESTRING(3000 0,3000 100)", 0, 0, 0},
      {"a polygon across the shared edge", "POLYGON((900 0,1300 0,1300 100,900 100,900 0))",
       10000, 30000, 40000},
      {"a polygon half outside", "POLYGON((-100 0,100 0,100 100,-100 100,-100 0))", 10000, 0,
       10000},
      {"a point on the shared edge", "POINT(1000 10)", 1, 1, 1},
      {"a point outside", "POINT(-5 -5)", 0, 0, 0},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    GEOSGeometry *g = pm_test_geom(ctx, cases[c].wkt);
    int type = GEOSGeomTypeId_r(h, g);
    double want[3] = {cases[c].a, cases[c].b, cases[c].all};
    for (size_t slot = 0; slot < 3; slot++) {
      GEOSGeometry *part = NULL;
      assert_int_equal(pm_districts_clip(ctx, d, slot, g, &part), PM_OK);
      assert_non_null(part);
      double got = 0;
      if (type == GEOS_POINT)
        got = GEOSisEmpty_r(h, part) ? 0 : GEOSGetNumCoordinates_r(h, part);
      else if (type == GEOS_POLYGON)
        assert_true(GEOSArea_r(h, part, &got));
      else
        assert_true(GEOSLength_r(h, part, &got));
      if (fabs(got - want[slot]) > 1e-9)
        fail_msg("%s in %s: %.12g, want %g", cases[c].name, pm_districts_name(d, slot), got,
                 want[slot]);
      GEOSGeom_destroy_r(h, part);
    }
    GEOSGeom_destroy_r(h, g);
  }
  GEOSGeometry *g = pm_test_geom(ctx, "POINT(0 0)"), *part = (GEOSGeometry *)1;
  assert_int_equal(pm_districts_clip(ctx, d, 3, g, &part), PM_EINTERNAL);
  assert_null(part);
  GEOSGeom_destroy_r(h, g);
  pm_districts_destroy(ctx, d);
}

/* Without districts only `_all` remains, and it holds everything. */
static void test_none(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_districts *d = pm_test_no_districts(ctx);
  assert_int_equal(d->n, 0);
  assert_null(d->all);
  assert_near(d->area_m2_all, 0, 0);
  assert_string_equal(pm_districts_name(d, 0), PM_ALL);
  GEOSGeometry *g = pm_test_geom(ctx, "LINESTRING(-1e6 0,1e6 0)");
  size_t idx[1], n = 99;
  int in_all = 0;
  assert_int_equal(pm_districts_of_point(ctx, d, g, idx, &n, &in_all), PM_OK);
  assert_int_equal(n, 0);
  assert_int_equal(in_all, 1);
  GEOSGeometry *part = NULL;
  assert_int_equal(pm_districts_clip(ctx, d, 0, g, &part), PM_OK);
  assert_true(part != g);
  assert_int_equal(GEOSEquals_r(h, part, g), 1);
  GEOSGeom_destroy_r(h, part);
  GEOSGeom_destroy_r(h, g);
  pm_districts_destroy(ctx, d);
  pm_districts_destroy(ctx, NULL); /* nothing to free is fine */
}

/* A clone is a deep copy with its own prepared geometries and index: it answers the same, and
 * outlives the original. */
static void test_clone(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_districts *d = AB(ctx), *c = NULL;
  assert_int_equal(pm_districts_clone(ctx, d, &c), PM_OK);
  assert_int_equal(c->n, 2);
  for (size_t i = 0; i < 2; i++) {
    assert_true(c->name[i] != d->name[i]);
    assert_string_equal(c->name[i], d->name[i]);
    assert_true(c->geom[i] != d->geom[i]);
    assert_int_equal(GEOSEquals_r(h, c->geom[i], d->geom[i]), 1);
    assert_true(c->prep[i] != d->prep[i]);
  }
  assert_true(c->tree != d->tree);
  assert_near(c->area_m2_all, 2e6, 1e-6);
  pm_districts_destroy(ctx, d);
  GEOSGeometry *g = pm_test_geom(ctx, "POINT(1000 500)");
  size_t idx[2], n = 0;
  int in_all = 0;
  assert_int_equal(pm_districts_of_point(ctx, c, g, idx, &n, &in_all), PM_OK);
  assert_int_equal(n, 2);
  assert_int_equal(idx[0], 0);
  assert_int_equal(idx[1], 1);
  GEOSGeom_destroy_r(h, g);
  pm_districts_destroy(ctx, c);

  pm_districts *none = pm_test_no_districts(ctx);
  assert_int_equal(pm_districts_clone(ctx, none, &c), PM_OK);
  assert_int_equal(c->n, 0);
  assert_null(c->all);
  pm_districts_destroy(ctx, c);
  pm_districts_destroy(ctx, none);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_from_features), cmocka_unit_test(test_only),
      cmocka_unit_test(test_refusals),      cmocka_unit_test(test_of_point),
      cmocka_unit_test(test_clip),          cmocka_unit_test(test_none),
      cmocka_unit_test(test_clone),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
