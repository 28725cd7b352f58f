/* test_coverage.c: METRICS.md §2 coverage (park service radius) on hand-computable layouts. */
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Coordinates are metres in a projected CRS. Buffers are polygons with 32 segments per quarter
 * circle, inscribed in the true circle: a full circle's area comes out about 0.04 % small
 * (1 - (64/pi) sin(pi/64)). Where a round part of a buffer is measured, the tolerance is 0.05 % of
 * that circle's area; straight parts (the flat sides of a buffered square) are exact, so layouts
 * that only touch flat sides are compared to 1e-6 m2. */
#define CIRCLE_TOL(r) (M_PI * (r) * (r) * 5e-4)

/* The indicator as the plan writes it (METRICS.md's default classes: 400-10,000 m2 -> 300 m,
 * >= 10,000 m2 -> 500 m), less its closing brace: each case adds its keys. */
#define SPEC "{id: park_500m, title: 公园绿地服务半径覆盖率, metric: coverage, sources: parks"

static const char *rect(char *buf, double x0, double y0, double x1, double y1) {
  sprintf(buf, "POLYGON((%.10g %.10g, %.10g %.10g, %.10g %.10g, %.10g %.10g, %.10g %.10g))", x0, y0,
          x1, y0, x1, y1, x0, y1, x0, y0);
  return buf;
}

/* Districts A = [0,1000]x[0,h] and B = [1000,2000]x[0,h]. */
#define TWO_DISTRICTS(ctx, h) pm_test_two_districts((ctx), 1000, 0, (h))

/* Run coverage of one park against one residential strip 10 m wide at x 550..560, y 0..100. */
static void run_park_vs_strip(pm_context *ctx, const char *park_wkt, pm_indicator_spec *spec,
                              pm_indicator_result *out) {
  char r[200];
  const char *pw[] = {park_wkt}, *pl[] = {"P"};
  const char *rw[] = {rect(r, 550, 0, 560, 100)}, *rl[] = {"R"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, pl, 1);
  pm_features *res = pm_test_wkt(ctx, "residential", rw, rl, 1);
  pm_districts *d = pm_test_no_districts(ctx);
  assert_int_equal(pm_coverage(ctx, spec, parks, res, NULL, NULL, d, out), PM_OK);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, res);
}

/* A 100 x 100 m park has exactly 10,000 m2: min is inclusive, so it is a 500 m park and reaches the
 * strip 450..460 m east of it. A 99 x 99 m park (9,801 m2) is a pocket park (300 m) and does not. */
static void test_class_boundary(void **state) {
  pm_context *ctx = *state;
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", population: residential}");
  pm_indicator_result out = {0};
  char p[200];

  run_park_vs_strip(ctx, rect(p, 0, 0, 100, 100), &spec, &out);
  assert_int_equal(out.n_results, 1);
  const pm_result *all = pm_test_result(&out, "_all");
  assert_true(all->has_value);
  assert_near(all->value, 100.0, 1e-9);
  assert_near(all->numerator, 1000.0, 1e-6);
  assert_near(all->denominator, 1000.0, 1e-6);
  assert_int_equal(all->n_gaps, 0);
  assert_string_equal(pm_test_detail(&out, "source", 0)->nearest, "park");
  assert_string_equal(out.unit, "%");
  assert_string_equal(out.id, "park_500m");
  pm_indicator_result_clear(&out);

  run_park_vs_strip(ctx, rect(p, 0, 0, 99, 99), &spec, &out);
  all = pm_test_result(&out, "_all");
  assert_near(all->value, 0.0, 1e-9);
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(all->gaps[0].name, "R");
  assert_near(all->gaps[0].shortfall, 1000.0, 1e-6);
  assert_near(all->gaps[0].distance_m, 451.0, 1e-9);
  assert_string_equal(all->gaps[0].nearest, "parks#1");
  assert_string_equal(pm_test_detail(&out, "source", 0)->nearest, "pocket park");
  pm_indicator_result_clear(&out);

  /* radius_m overrides the class radius of polygons too: 500 m reaches the strip (<= 461 m). */
  pm_indicator_spec r500 = pm_test_spec(ctx, SPEC ", population: residential, radius_m: 500}");
  run_park_vs_strip(ctx, rect(p, 0, 0, 99, 99), &r500, &out);
  assert_near(pm_test_result(&out, "_all")->value, 100.0, 1e-9);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&r500);

  /* The registry gives METRICS.md's classes (10,000 m2 -> 500 m)... */
  assert_int_equal(spec.n_classes, 2);
  assert_near(spec.classes[1].min_area_m2, 10000, 0);
  assert_true(isinf(spec.classes[1].max_area_m2));
  assert_near(spec.classes[1].radius_m, 500, 0);
  /* ...and a spec without any, built in code without the registry, is refused: the defaults live
   * in the registry, not in the metric. */
  for (size_t i = 0; i < spec.n_classes; i++) free(spec.classes[i].label);
  free(spec.classes);
  spec.classes = NULL;
  spec.n_classes = 0;
  pm_features *pk = pm_test_wkt(ctx, "parks", (const char *[]){rect(p, 0, 0, 100, 100)}, NULL, 1);
  pm_districts *nd = pm_test_no_districts(ctx);
  assert_int_equal(pm_coverage(ctx, &spec, pk, pk, NULL, NULL, nd, &out), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "pm_indicator_spec_create");
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_features_destroy(ctx, pk);
  pm_districts_destroy(ctx, nd);
}

/* A 19 x 19 m green (361 m2) is below the smallest class: ignored, listed as a detail and in a
 * notice. A 20 x 20 m green (exactly 400 m2) is a pocket park. */
static void test_small_source_ignored(void **state) {
  pm_context *ctx = *state;
  pm_test_notices notices;
  pm_test_collect_notices(ctx, &notices);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", population: residential}");
  pm_indicator_result out = {0};
  char a[200], b[200], r1[200], r2[200];
  const char *pw[] = {rect(a, 0, 0, 19, 19), rect(b, 1000, 0, 1020, 20)}, *pl[] = {"tiny", "pocket"};
  const char *rw[] = {rect(r1, 30, 0, 40, 19), rect(r2, 1030, 0, 1040, 20)}, *rl[] = {"R1", "R2"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, pl, 2);
  pm_features *res = pm_test_wkt(ctx, "residential", rw, rl, 2);
  pm_districts *d = pm_test_no_districts(ctx);
  assert_int_equal(pm_coverage(ctx, &spec, parks, res, NULL, NULL, d, &out), PM_OK);

  const pm_result *all = pm_test_result(&out, "_all");
  /* R1 (190 m2) lies next to the ignored green; R2 (200 m2) is 10..20 m from the pocket park. */
  assert_near(all->numerator, 200.0, 1e-6);
  assert_near(all->denominator, 390.0, 1e-6);
  assert_near(all->value, 100.0 * 200.0 / 390.0, 1e-9);
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(all->gaps[0].name, "R1");
  assert_near(all->gaps[0].shortfall, 190.0, 1e-6);
  assert_near(all->gaps[0].distance_m, 960.0, 1e-9); /* to the pocket park, not the ignored one */
  assert_string_equal(all->gaps[0].nearest, "parks#2");

  assert_int_equal(pm_test_n_role(&out, "ignored_source"), 1);
  const pm_detail *ig = pm_test_detail(&out, "ignored_source", 0);
  assert_string_equal(ig->name, "tiny");
  assert_non_null(strstr(ig->nearest, "361 m2"));
  assert_int_equal(pm_test_n_role(&out, "source"), 1);
  assert_string_equal(pm_test_detail(&out, "source", 0)->name, "pocket");
  assert_string_equal(pm_test_detail(&out, "source", 0)->nearest, "pocket park");
  assert_contains(notices.text, "parks#1");
  assert_contains(notices.text, "1 source");

  pm_context_set_notice(ctx, NULL, NULL);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, res);
}

/* Park [0,100]^2 (500 m) and a block [500,700]x[0,100]: the flat east side of the buffer at x = 600
 * halves it, exactly. Also: the target is applied, and the details carry the geometry. */
static void test_half_covered_and_target(void **state) {
  pm_context *ctx = *state;
  char p[200], r[200];
  const char *pw[] = {rect(p, 0, 0, 100, 100)}, *pl[] = {"P"};
  const char *rw[] = {rect(r, 500, 0, 700, 100)}, *rl[] = {"R"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, pl, 1);
  pm_features *res = pm_test_wkt(ctx, "residential", rw, rl, 1);
  pm_districts *d = pm_test_no_districts(ctx);
  const double targets[] = {50, 60};
  for (int t = 0; t < 2; t++) {
    pm_indicator_spec spec =
        pm_test_spec(ctx, SPEC ", population: residential, target: \">= %g\"}", targets[t]);
    pm_indicator_result out = {0};
    assert_int_equal(pm_coverage(ctx, &spec, parks, res, NULL, NULL, d, &out), PM_OK);
    const pm_result *all = pm_test_result(&out, "_all");
    assert_true(all->has_ratio);
    assert_near(all->numerator, 10000.0, 1e-6);
    assert_near(all->denominator, 20000.0, 1e-6);
    assert_near(all->value, 50.0, 1e-9);
    assert_true(all->has_target);
    assert_near(all->target, targets[t], 0);
    assert_int_equal(all->met, t == 0);
    assert_int_equal(all->n_gaps, 1);
    assert_near(all->gaps[0].shortfall, 10000.0, 1e-6);
    assert_near(all->gaps[0].distance_m, 400.0, 1e-9);
    assert_true(all->gaps[0].x > 600 && all->gaps[0].x < 700); /* in the uncovered half */
    assert_non_null(strstr(all->gaps[0].note, "50% covered"));
    assert_int_equal(pm_test_n_role(&out, "service_area"), 1);
    assert_int_equal(pm_test_n_role(&out, "source"), 1);
    assert_int_equal(pm_test_n_role(&out, "uncovered"), 1);
    const pm_detail *u = pm_test_detail(&out, "uncovered", 0);
    assert_int_equal(u->covered, 0);
    assert_near(u->distance_m, 400.0, 1e-9);
    assert_non_null(u->wkb);
    pm_indicator_result_clear(&out);
    pm_indicator_spec_clear(&spec);
  }
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, res);
}

/* Weighted points around park [0,100]^2 (500 m). */
static void test_weighted_points(void **state) {
  pm_context *ctx = *state;
  pm_test_notices notices;
  pm_test_collect_notices(ctx, &notices);
  char p[200], p4[100];
  /* 499.9 m from the park's corner (100,100), half-way between two buffer vertices (which sit at
   * multiples of 90/32 degrees): the inscribed buffer edge there is at 500 cos(pi/128) = 499.85 m,
   * so the point lies outside the buffer polygon but within the radius; it must count. */
  double th = (16 * 2.8125 + 1.40625) * M_PI / 180.0;
  sprintf(p4, "POINT(%.12g %.12g)", 100 + 499.9 * cos(th), 100 + 499.9 * sin(th));
  const char *pw[] = {rect(p, 0, 0, 100, 100)}, *pl[] = {"P"};
  const char *hw[] = {"POINT(300 50)", "POINT(600 50)", "POINT(601 50)", p4, "POINT(50 50)",
                      "POINT(40 40)"};
  const char *hl[] = {"H1", "H2", "H3", "H4", "H5", "H6"};
  const char *pop[] = {"100", "50", "25", "10", "", NULL};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, pl, 1);
  pm_features *homes = pm_test_wkt(ctx, "homes", hw, hl, 6);
  assert_int_equal(pm_features_add_attr(ctx, homes, "pop", pop), PM_OK);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", population: homes, weight_field: pop}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, homes, NULL, NULL, d, &out), PM_OK);
  const pm_result *all = pm_test_result(&out, "_all");
  /* H2 is exactly 500 m away (inclusive); H3 is 501 m away; H5 and H6 have no weight. */
  assert_near(all->numerator, 160.0, 1e-9);
  assert_near(all->denominator, 185.0, 1e-9);
  assert_near(all->value, 100.0 * 160.0 / 185.0, 1e-9);
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(all->gaps[0].name, "H3");
  assert_near(all->gaps[0].shortfall, 25.0, 0);
  assert_near(all->gaps[0].distance_m, 501.0, 1e-9);
  assert_near(all->gaps[0].x, 601.0, 0);
  assert_contains(notices.text, "2 feature(s)"); /* H5, H6 without a weight */
  pm_context_set_notice(ctx, NULL, NULL);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);

  /* A weight that is not a number, and a weight field that does not exist, are input errors. */
  const char *bad[] = {"100", "many", "25", "10", "", NULL};
  assert_int_equal(pm_features_add_attr(ctx, homes, "pop_bad", bad), PM_OK);
  static const struct {
    const char *field, *message;
  } errors[] = {{"pop_bad", "many"}, {"residents", "residents"}};
  for (size_t e = 0; e < sizeof errors / sizeof errors[0]; e++) {
    spec = pm_test_spec(ctx, SPEC ", population: homes, weight_field: %s}", errors[e].field);
    assert_int_equal(pm_coverage(ctx, &spec, parks, homes, NULL, NULL, d, &out), PM_EINPUT);
    if (!strstr(pm_context_message(ctx), errors[e].message))
      fail_msg("weight_field %s: \"%s\" lacks \"%s\"", errors[e].field, pm_context_message(ctx),
               errors[e].message);
    pm_indicator_result_clear(&out);
    pm_indicator_spec_clear(&spec);
  }

  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, homes);
}

/* A 500 m park [950,1050]^2 straddling districts A = [0,1000]x[0,2000] and B = [1000,2000]x[0,2000]
 * covers both; the district is the denominator. Covered area of a buffered square:
 * s^2 + 4 s r + pi r^2 = 10,000 + 200,000 + 785,398.16 m2, half in each district. */
static void test_straddling_park_district_denominator(void **state) {
  pm_context *ctx = *state;
  char p[200];
  const char *pw[] = {rect(p, 950, 950, 1050, 1050)}, *pl[] = {"P"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, pl, 1);
  pm_districts *d = TWO_DISTRICTS(ctx, 2000);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC "}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, NULL, NULL, NULL, d, &out), PM_OK);
  assert_int_equal(out.n_results, 3);
  assert_string_equal(out.results[0].district, "A");
  assert_string_equal(out.results[1].district, "B");
  assert_string_equal(out.results[2].district, "_all");
  double covered = 10000 + 4 * 100 * 500 + M_PI * 500 * 500;
  double tol = CIRCLE_TOL(500);
  for (int i = 0; i < 2; i++) {
    const pm_result *r = &out.results[i];
    assert_near(r->denominator, 2e6, 1e-6);
    assert_near(r->numerator, covered / 2, tol / 2);
    assert_near(r->value, 100 * covered / 2 / 2e6, 100 * tol / 2 / 2e6);
    assert_int_equal(r->n_gaps, 1);
    assert_string_equal(r->gaps[0].id, r->district);
    assert_near(r->gaps[0].shortfall, 2e6 - covered / 2, tol / 2);
    assert_true(r->numerator < covered / 2); /* the buffer polygon is inscribed */
  }
  const pm_result *all = pm_test_result(&out, "_all");
  assert_near(all->denominator, 4e6, 1e-6);
  assert_near(all->numerator, covered, tol);
  assert_int_equal(all->n_gaps, 2);
  assert_int_equal(pm_test_n_role(&out, "service_area"), 2);
  assert_int_equal(pm_test_n_role(&out, "uncovered"), 2);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
}

/* A point source has no area: it takes radius_m when given, else the largest class (500 m). */
static void test_point_source(void **state) {
  pm_context *ctx = *state;
  char dw[200];
  const char *pw[] = {"POINT(0 0)"}, *pl[] = {"kiosk park"};
  const char *w[] = {rect(dw, -1000, -1000, 1000, 1000)}, *names[] = {"D"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, pl, 1);
  pm_features *dfs = pm_test_wkt(ctx, "districts", w, names, 1);
  pm_districts *d = NULL;
  assert_int_equal(pm_districts_from_features(ctx, dfs, &d), PM_OK);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", radius_m: 100}");
  pm_indicator_result out = {0};

  assert_int_equal(pm_coverage(ctx, &spec, parks, NULL, NULL, NULL, d, &out), PM_OK);
  assert_near(pm_test_result(&out, "D")->numerator, M_PI * 100 * 100, CIRCLE_TOL(100));
  assert_near(pm_test_result(&out, "D")->value, 100 * M_PI * 1e4 / 4e6, 100 * CIRCLE_TOL(100) / 4e6);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);

  spec = pm_test_spec(ctx, SPEC "}");
  assert_int_equal(pm_coverage(ctx, &spec, parks, NULL, NULL, NULL, d, &out), PM_OK);
  assert_near(pm_test_result(&out, "D")->numerator, M_PI * 500 * 500, CIRCLE_TOL(500));
  assert_string_equal(pm_test_detail(&out, "source", 0)->nearest, "park");
  pm_indicator_result_clear(&out);

  /* A point population without weight_field counts each point once. (100,0) is exactly at the
   * radius, (60,60) at 84.9 m, (70.8,70.8) at 100.13 m. */
  const char *hw[] = {"POINT(100 0)", "POINT(70.8 70.8)", "POINT(60 60)"}, *hl[] = {"a", "b", "c"};
  pm_features *homes = pm_test_wkt(ctx, "homes", hw, hl, 3);
  pm_indicator_spec_clear(&spec);
  spec = pm_test_spec(ctx, SPEC ", population: homes, radius_m: 100}");
  assert_int_equal(pm_coverage(ctx, &spec, parks, homes, NULL, NULL, d, &out), PM_OK);
  const pm_result *r = pm_test_result(&out, "D");
  assert_near(r->numerator, 2, 0);
  assert_near(r->denominator, 3, 0);
  assert_int_equal(r->n_gaps, 1);
  assert_string_equal(r->gaps[0].name, "b");
  assert_near(r->gaps[0].distance_m, 70.8 * M_SQRT2, 1e-9);
  assert_string_equal(r->gaps[0].district, "D");
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);

  pm_features_destroy(ctx, homes);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, dfs);
  pm_features_destroy(ctx, parks);
}

/* Residential land only in A: B's denominator is empty, so its value is null with a reason. */
static void test_empty_denominator(void **state) {
  pm_context *ctx = *state;
  char p[200], r[200];
  const char *pw[] = {rect(p, 0, 0, 100, 100)}, *pl[] = {"P"};
  const char *rw[] = {rect(r, 100, 100, 200, 200)}, *rl[] = {"R"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, pl, 1);
  pm_features *res = pm_test_wkt(ctx, "residential", rw, rl, 1);
  pm_districts *d = TWO_DISTRICTS(ctx, 1000);
  pm_indicator_spec spec =
      pm_test_spec(ctx, SPEC ", population: residential, target: \">= 90\"}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, res, NULL, NULL, d, &out), PM_OK);
  const pm_result *a = pm_test_result(&out, "A"), *b = pm_test_result(&out, "B");
  assert_true(a->has_value);
  assert_near(a->value, 100, 1e-9);
  assert_true(a->met);
  assert_false(b->has_value);
  assert_false(b->met);
  assert_non_null(b->null_reason);
  assert_non_null(strstr(b->null_reason, "residential"));
  assert_near(b->denominator, 0, 0);
  assert_near(pm_test_result(&out, "_all")->value, 100, 1e-9);
  pm_indicator_result_clear(&out);

  /* An empty population selection: every value null, no failure. */
  pm_features *none = pm_test_wkt(ctx, "residential", NULL, NULL, 0);
  none->kind = PM_KIND_POLYGON;
  assert_int_equal(pm_coverage(ctx, &spec, parks, none, NULL, NULL, d, &out), PM_OK);
  for (size_t i = 0; i < out.n_results; i++) assert_false(out.results[i].has_value);
  pm_indicator_result_clear(&out);

  /* No sources at all: everything uncovered, gaps without a nearest source. */
  pm_features *nosrc = pm_test_wkt(ctx, "parks", NULL, NULL, 0);
  assert_int_equal(pm_coverage(ctx, &spec, nosrc, res, NULL, NULL, d, &out), PM_OK);
  assert_near(pm_test_result(&out, "A")->value, 0, 0);
  assert_int_equal(pm_test_result(&out, "A")->n_gaps, 1);
  assert_null(pm_test_result(&out, "A")->gaps[0].nearest);
  assert_true(isnan(pm_test_result(&out, "A")->gaps[0].distance_m));
  pm_indicator_result_clear(&out);

  pm_indicator_spec_clear(&spec);
  pm_features_destroy(ctx, nosrc);
  pm_features_destroy(ctx, none);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, res);
}

/* count_by_class: A has two pocket parks (900 m2) and a 100 m2 green (ignored); B a 4 ha park and
 * a point park (largest class). */
static void test_count_by_class(void **state) {
  pm_context *ctx = *state;
  char p1[200], p2[200], p3[200], p4[200];
  const char *pw[] = {rect(p1, 100, 100, 130, 130), rect(p2, 300, 300, 330, 330),
                      rect(p3, 500, 500, 510, 510), rect(p4, 1200, 200, 1400, 400),
                      "POINT(1500 500)"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, NULL, 5);
  pm_districts *d = TWO_DISTRICTS(ctx, 1000);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", count_by_class: true}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, NULL, NULL, NULL, d, &out), PM_OK);
  const int64_t want[3][2] = {{2, 0}, {0, 2}, {2, 2}}; /* A, B, _all x pocket park, park */
  for (size_t i = 0; i < 3; i++) {
    const pm_result *r = &out.results[i];
    assert_int_equal(r->n_classes, 2);
    assert_string_equal(r->classes[0].label, "pocket park");
    assert_string_equal(r->classes[1].label, "park");
    assert_int_equal(r->classes[0].count, want[i][0]);
    assert_int_equal(r->classes[1].count, want[i][1]);
  }
  assert_int_equal(pm_test_n_role(&out, "source"), 4);
  assert_int_equal(pm_test_n_role(&out, "ignored_source"), 1);
  pm_indicator_result_clear(&out);

  pm_indicator_spec_clear(&spec);
  spec = pm_test_spec(ctx, SPEC ", count_by_class: false}");
  assert_int_equal(pm_coverage(ctx, &spec, parks, NULL, NULL, NULL, d, &out), PM_OK);
  assert_int_equal(out.results[0].n_classes, 0);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
}

/* Gaps come worst first: by uncovered area. Park [0,100]^2 (500 m, reaches x = 600 on its flat
 * side). */
static void test_gaps_sorted(void **state) {
  pm_context *ctx = *state;
  char p[200], r1[200], r2[200], r3[200], r4[200], r5[200];
  const char *pw[] = {rect(p, 0, 0, 100, 100)};
  const char *rw[] = {rect(r1, 700, 0, 710, 10), rect(r2, 700, 20, 740, 60),
                      rect(r3, 2000, 0, 2030, 30), rect(r4, 550, 0, 650, 100),
                      rect(r5, 200, 0, 300, 100)};
  const char *rl[] = {"R1", "R2", "R3", "R4", "R5"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, NULL, 1);
  pm_features *res = pm_test_wkt(ctx, "residential", rw, rl, 5);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", population: residential}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, res, NULL, NULL, d, &out), PM_OK);
  const pm_result *all = pm_test_result(&out, "_all");
  const char *order[] = {"R4", "R2", "R3", "R1"};
  const double shortfall[] = {5000, 1600, 900, 100};
  assert_int_equal(all->n_gaps, 4); /* R5 is fully covered */
  for (size_t i = 0; i < 4; i++) {
    assert_string_equal(all->gaps[i].name, order[i]);
    assert_near(all->gaps[i].shortfall, shortfall[i], 1e-6);
  }
  assert_near(all->numerator, 5000 + 10000, 1e-6);
  assert_near(all->denominator, 100 + 1600 + 900 + 10000 + 10000, 1e-6);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, res);
}

/* A residential block across the A/B boundary, half uncovered on each side: each district lists
 * the block with its own uncovered area; `_all` with the whole. */
static void test_gap_split_by_district(void **state) {
  pm_context *ctx = *state;
  char p[200], r[200];
  /* Park [900,1100]x[0,100] (2 ha, 500 m) reaches y = 600 on its flat north side. */
  const char *pw[] = {rect(p, 900, 0, 1100, 100)};
  const char *rw[] = {rect(r, 900, 500, 1100, 700)}, *rl[] = {"R"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, NULL, 1);
  pm_features *res = pm_test_wkt(ctx, "residential", rw, rl, 1);
  pm_districts *d = TWO_DISTRICTS(ctx, 1000);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", population: residential}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, res, NULL, NULL, d, &out), PM_OK);
  for (int i = 0; i < 2; i++) {
    const pm_result *x = &out.results[i];
    assert_near(x->value, 50, 1e-9);
    assert_int_equal(x->n_gaps, 1);
    assert_near(x->gaps[0].shortfall, 10000, 1e-6);
    assert_string_equal(x->gaps[0].district, x->district);
    assert_near(x->gaps[0].distance_m, 400, 1e-9);
  }
  const pm_result *all = pm_test_result(&out, "_all");
  assert_int_equal(all->n_gaps, 1);
  assert_near(all->gaps[0].shortfall, 20000, 1e-6);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, res);
}

/* Overlapping land counts once (METRICS.md: areas of the dissolved selection); land that only
 * shares an edge simply adds up. Park [0,100]^2 reaches x = 600. R1 and its duplicate R2 are
 * [500,700]x[0,100], R3 = [650,750]x[0,100] overlaps them, R4 = [750,800]x[0,100] touches R3:
 * land [500,800]x[0,100] = 30,000 m2, covered [500,600] = 10,000 m2. */
static void test_overlapping_population_dissolved(void **state) {
  pm_context *ctx = *state;
  char p[200], r1[200], r2[200], r3[200], r4[200];
  const char *pw[] = {rect(p, 0, 0, 100, 100)};
  const char *rw[] = {rect(r1, 500, 0, 700, 100), rect(r2, 500, 0, 700, 100),
                      rect(r3, 650, 0, 750, 100), rect(r4, 750, 0, 800, 100)};
  const char *rl[] = {"R1", "R2", "R3", "R4"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, NULL, 1);
  pm_features *res = pm_test_wkt(ctx, "residential", rw, rl, 4);
  pm_districts *d = TWO_DISTRICTS(ctx, 1000);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", population: residential}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, res, NULL, NULL, d, &out), PM_OK);
  const pm_result *a = pm_test_result(&out, "A");
  assert_near(a->denominator, 30000, 1e-6);
  assert_near(a->numerator, 10000, 1e-6);
  assert_near(a->value, 100.0 / 3.0, 1e-9);
  /* Gaps are per feature: R1 and R2 10,000 m2 each, R3 10,000, R4 5,000. */
  assert_int_equal(a->n_gaps, 4);
  assert_string_equal(a->gaps[3].name, "R4");
  assert_near(a->gaps[3].shortfall, 5000, 1e-6);
  for (int i = 0; i < 3; i++) assert_near(a->gaps[i].shortfall, 10000, 1e-6);
  assert_false(pm_test_result(&out, "B")->has_value);
  assert_near(pm_test_result(&out, "_all")->denominator, 30000, 1e-6);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, res);
}

/* Without a population layer and without districts there is no denominator: refused. */
static void test_needs_population_or_districts(void **state) {
  pm_context *ctx = *state;
  char p[200];
  const char *pw[] = {rect(p, 0, 0, 100, 100)};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, NULL, 1);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC "}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, NULL, NULL, NULL, d, &out), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "coverage needs a population layer or districts");
  pm_indicator_result_clear(&out);

  /* A class with a negative radius is refused too: in a plan, and by the metric for a spec whose
   * class is changed in code. */
  pm_indicator_spec bad;
  assert_int_equal(
      pm_test_spec_parse(ctx, &bad, SPEC ", classes: [{min_area_m2: 400, radius_m: -1}]}"),
      PM_EINPUT);
  assert_contains(pm_context_message(ctx), "radius_m");
  pm_districts *two = TWO_DISTRICTS(ctx, 1000);
  spec.classes[0].radius_m = -1;
  assert_int_equal(pm_coverage(ctx, &spec, parks, NULL, NULL, NULL, two, &out), PM_EINPUT);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, two);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
}

/* The work is shared out among threads in chunks of clusters (and the buffers dissolved in
 * strips once there are 2,048 sources or more); the output must not depend on the number of
 * threads: same sums to the last bit, same gaps and details in the same order. */
static void run_city(pm_context *ctx, int threads, pm_indicator_result *out) {
  enum { NB = 60 * 40, NP = 50 * 42 };
  static char bw[NB][200], pw[NP][200], bl[NB][16], pl[NP][16];
  const char *bwk[NB], *pwk[NP], *blk[NB], *plk[NP];
  size_t n = 0;
  for (int i = 0; i < 60; i++)
    for (int j = 0; j < 40; j++, n++) { /* blocks 25 x 25 m every 33 m over 2,000 x 1,320 m */
      bwk[n] = rect(bw[n], i * 33.0, j * 33.0, i * 33.0 + 25, j * 33.0 + 25);
      snprintf(bl[n], sizeof bl[n], "b%zu", n);
      blk[n] = bl[n];
    }
  n = 0;
  for (int i = 0; i < 50; i++)
    for (int j = 0; j < 42; j++, n++) { /* pocket parks of 21 x 21 m, west of x = 520 */
      double x = i * 10.0 + (j % 3), y = j * 31.0;
      pwk[n] = rect(pw[n], x, y, x + 21, y + 21);
      snprintf(pl[n], sizeof pl[n], "p%zu", n);
      plk[n] = pl[n];
    }
  pm_features *parks = pm_test_wkt(ctx, "parks", pwk, plk, NP);
  pm_features *res = pm_test_wkt(ctx, "residential", bwk, blk, NB);
  pm_districts *d = TWO_DISTRICTS(ctx, 1400);
  pm_indicator_spec spec =
      pm_test_spec(ctx, SPEC ", population: residential, count_by_class: true}");
  pm_context_set_threads(ctx, threads);
  assert_int_equal(pm_context_threads(ctx), threads);
  assert_int_equal(pm_coverage(ctx, &spec, parks, res, NULL, NULL, d, out), PM_OK);
  pm_context_set_threads(ctx, 1);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, res);
}

static void test_threads_same_result(void **state) {
  pm_context *ctx = *state;
  pm_indicator_result one, three;
  run_city(ctx, 1, &one);
  run_city(ctx, 3, &three);
  const pm_result *a = pm_test_result(&one, "A"), *b = pm_test_result(&one, "B");
  /* A (x < 1000) is mostly within 300 m of the parks, B (x >= 1000) mostly not */
  assert_true(a->value > 50 && a->value < 100);
  assert_true(b->value < a->value);
  assert_true(b->n_gaps > 100);
  assert_int_equal(one.n_results, three.n_results);
  for (size_t i = 0; i < one.n_results; i++) {
    const pm_result *x = &one.results[i], *y = &three.results[i];
    assert_true(x->numerator == y->numerator);
    assert_true(x->denominator == y->denominator);
    assert_int_equal(x->n_gaps, y->n_gaps);
    for (size_t g = 0; g < x->n_gaps; g++) {
      assert_string_equal(x->gaps[g].id, y->gaps[g].id);
      assert_true(x->gaps[g].shortfall == y->gaps[g].shortfall);
      assert_true(x->gaps[g].distance_m == y->gaps[g].distance_m);
    }
    assert_int_equal(x->n_classes, y->n_classes);
    for (size_t k = 0; k < x->n_classes; k++)
      assert_int_equal(x->classes[k].count, y->classes[k].count);
  }
  assert_int_equal(one.n_details, three.n_details);
  for (size_t k = 0; k < one.n_details; k++) {
    assert_string_equal(one.details[k].role, three.details[k].role);
    assert_int_equal(one.details[k].wkb_len, three.details[k].wkb_len);
    assert_memory_equal(one.details[k].wkb, three.details[k].wkb, one.details[k].wkb_len);
  }
  pm_indicator_result_clear(&one);
  pm_indicator_result_clear(&three);
}

/* Empty geometries (kept by a layer built in code; ingest drops them) neither count nor fail. */
static void test_empty_geometries(void **state) {
  pm_context *ctx = *state;
  char p1[200], r1[200];
  const char *pw[] = {rect(p1, 0, 0, 100, 100), "POLYGON EMPTY"}, *pl[] = {"P", "E"};
  const char *rw[] = {"POLYGON EMPTY", rect(r1, 150, 0, 160, 100)}, *rl[] = {"RE", "R"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, pl, 2);
  pm_features *res = pm_test_wkt(ctx, "residential", rw, rl, 2);
  pm_districts *d = pm_test_no_districts(ctx);
  /* min 0: the empty park is in a class too */
  pm_indicator_spec spec = pm_test_spec(
      ctx, SPEC ", population: residential, classes: [{min_area_m2: 0, radius_m: 300, label: any}]}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, res, NULL, NULL, d, &out), PM_OK);
  const pm_result *r = pm_test_result(&out, "_all");
  assert_near(r->denominator, 1000, 1e-9);
  assert_near(r->value, 100, 1e-9);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, res);
}

/* distance: network. Streets: y = 0 (x -1000..1000) and x = 0 (y 0..1000), a T at the origin.
 * (the y = 0 street has a vertex at the T: lines join only at shared vertices, §5)
 * A point park at (0, -10) enters the network at the origin (leg 10 m) and reaches, within its
 * 300 m, x -290..290 and y 0..290 (partly reached edges). Homes: (200, 5) walks 10 + 200 + 5 =
 * 215 m (covered), (0, 285) 10 + 285 = 295 m (covered), (250, 60) 10 + 250 + 60 = 320 m (not:
 * 260 m in a straight line), (0, -200) is 200 m from every street, beyond max_snap_m 100:
 * unroutable, counted, not covered. Straight lines cover all four. */
static void test_network(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  const char *rw[] = {"LINESTRING(-1000 0, 0 0, 1000 0)", "LINESTRING(0 0, 0 1000)"};
  pm_features *roads = pm_test_wkt(ctx, "roads", rw, NULL, 2);
  pm_network_options opt;
  pm_network_options_init(&opt);
  pm_network *net = NULL;
  assert_int_equal(pm_network_build(ctx, roads, &opt, &net), PM_OK);
  const char *pw[] = {"POINT(0 -10)"}, *pl[] = {"P"};
  const char *hw[] = {"POINT(200 5)", "POINT(0 285)", "POINT(250 60)", "POINT(0 -200)"};
  const char *hl[] = {"a", "b", "c", "d"};
  pm_features *parks = pm_test_wkt(ctx, "parks", pw, pl, 1);
  pm_features *homes = pm_test_wkt(ctx, "homes", hw, hl, 4);
  pm_districts *none = pm_test_no_districts(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", population: homes, radius_m: 300}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_coverage(ctx, &spec, parks, homes, NULL, NULL, none, &out), PM_OK);
  assert_near(out.results[0].value, 100, 0); /* straight lines */
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);

  spec = pm_test_spec(ctx, SPEC ", population: homes, radius_m: 300, distance: network, "
                           "network: roads}");
  assert_int_equal(pm_coverage(ctx, &spec, parks, homes, NULL, net, none, &out), PM_OK);
  const pm_result *r = &out.results[0];
  assert_near(r->numerator, 2, 0);
  assert_near(r->denominator, 4, 0);
  assert_int_equal(r->n_gaps, 2);
  const pm_gap *gc = strcmp(r->gaps[0].name, "c") == 0 ? &r->gaps[0] : &r->gaps[1];
  const pm_gap *gd = gc == &r->gaps[0] ? &r->gaps[1] : &r->gaps[0];
  assert_string_equal(gc->name, "c");
  assert_near(gc->distance_m, 320, 1e-9);
  assert_near(gc->straight_m, hypot(250, 70), 1e-9);
  assert_string_equal(gd->name, "d");
  assert_non_null(strstr(gd->note, "unroutable"));
  assert_non_null(strstr(out.network, "\"population\": 1"));
  pm_indicator_result_clear(&out);

  /* Land by area, with a district: the reached network widened by access_width_m (50 m). */
  char dw[200];
  const char *w[] = {rect(dw, -2000, -2000, 2000, 2000)}, *names[] = {"D"};
  pm_features *dfs = pm_test_wkt(ctx, "districts", w, names, 1);
  pm_districts *d = NULL;
  assert_int_equal(pm_districts_from_features(ctx, dfs, &d), PM_OK);
  pm_indicator_spec_clear(&spec);
  spec = pm_test_spec(ctx, SPEC ", radius_m: 300, distance: network, network: roads}");
  assert_int_equal(pm_coverage(ctx, &spec, parks, NULL, NULL, net, d, &out), PM_OK);
  GEOSGeometry *reached = pm_test_geom(ctx, "MULTILINESTRING((-290 0, 290 0), (0 0, 0 290))");
  GEOSGeometry *area = GEOSBuffer_r(h, reached, 50, 8);
  double want = 0;
  GEOSArea_r(h, area, &want);
  assert_near(pm_test_result(&out, "D")->numerator, want, 1e-6 * want);
  assert_int_equal(pm_test_n_role(&out, "reached"), 6); /* 0-50 .. 250-300 m */
  GEOSGeom_destroy_r(h, reached);
  GEOSGeom_destroy_r(h, area);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_network_destroy(ctx, net);
  pm_districts_destroy(ctx, d);
  pm_districts_destroy(ctx, none);
  pm_features_destroy(ctx, dfs);
  pm_features_destroy(ctx, roads);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, homes);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_class_boundary),
      cmocka_unit_test(test_small_source_ignored),
      cmocka_unit_test(test_half_covered_and_target),
      cmocka_unit_test(test_weighted_points),
      cmocka_unit_test(test_straddling_park_district_denominator),
      cmocka_unit_test(test_point_source),
      cmocka_unit_test(test_empty_denominator),
      cmocka_unit_test(test_count_by_class),
      cmocka_unit_test(test_gaps_sorted),
      cmocka_unit_test(test_gap_split_by_district),
      cmocka_unit_test(test_overlapping_population_dissolved),
      cmocka_unit_test(test_needs_population_or_districts),
      cmocka_unit_test(test_threads_same_result),
      cmocka_unit_test(test_network),
      cmocka_unit_test(test_empty_geometries),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
