/* test_line_coverage.c: METRICS.md §2 line_coverage on hand-computable lines (metres). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* Districts, where a case has them: A x 0..1000 and B x 1000..2000, both y -500..1500. */
#define TWO_DISTRICTS(ctx) pm_test_two_districts((ctx), 1000, -500, 1500)

/* The indicator as the plan writes it, less its closing brace (each case adds its keys). */
#define SPEC "{id: video, title: 主要道路视频监控覆盖, metric: line_coverage, layer: roads"

static const pm_detail *find_detail(const pm_indicator_result *out, const char *role,
                                    const char *district) {
  for (size_t k = 0; k < out->n_details; k++)
    if (strcmp(out->details[k].role, role) == 0 && out->details[k].district &&
        strcmp(out->details[k].district, district) == 0)
      return &out->details[k];
  return NULL;
}

static void test_half_covered(void **state) {
  pm_context *ctx = *state;
  /* Road 0..200 along y = 0, camera at the origin, within_m 100: 0..100 is covered -> 50 %. */
  const char *r[] = {"LINESTRING(0 0, 200 0)"};
  const char *rn[] = {"华新路"};
  const char *c[] = {"POINT(0 0)"};
  const char *cn[] = {"cam-1"};
  pm_features *roads = pm_test_wkt(ctx, "roads", r, rn, 1);
  pm_features *cams = pm_test_wkt(ctx, "cameras", c, cn, 1);
  const pm_features *by[] = {cams};
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", by: cameras, within_m: 100}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_line_coverage(ctx, &s, roads, by, 1, d, &out), PM_OK);
  assert_string_equal(out.unit, "%");
  pm_result *all = &out.results[0];
  assert_true(all->has_value);
  assert_true(all->has_ratio);
  assert_near(all->value, 50, 1e-3);
  assert_near(all->numerator, 0.1, 1e-6);
  assert_near(all->denominator, 0.2, 1e-9);
  /* The road is one gap: 0.1 km uncovered, 0 m from the camera (it passes through it). */
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(all->gaps[0].id, "roads#1");
  assert_string_equal(all->gaps[0].name, "华新路");
  assert_null(all->gaps[0].district);
  assert_near(all->gaps[0].shortfall, 0.1, 1e-6);
  assert_near(all->gaps[0].distance_m, 100, 1e-3); /* from the uncovered part, not the line */
  assert_string_equal(all->gaps[0].nearest, "cam-1");
  assert_true(all->gaps[0].x >= 100 && all->gaps[0].x <= 200);
  /* Details: the covered and the uncovered part. */
  const pm_detail *cv = find_detail(&out, "covered", "_all");
  const pm_detail *uc = find_detail(&out, "uncovered", "_all");
  assert_non_null(cv);
  assert_non_null(uc);
  assert_int_equal(cv->covered, 1);
  assert_int_equal(uc->covered, 0);
  assert_near(pm_test_detail_length(ctx, cv), 100, 1e-3);
  assert_near(pm_test_detail_length(ctx, uc), 100, 1e-3);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, cams);
  pm_features_destroy(ctx, roads);
}

static void test_inclusive_and_duplicates(void **state) {
  pm_context *ctx = *state;
  /* A road at exactly within_m (y = 100) from a line of poles along y = 0 is covered whole; its
   * duplicate counts once; a road at y = 100.5 is not covered at all. */
  const char *r[] = {"LINESTRING(0 100, 1000 100)", "LINESTRING(1000 100, 0 100)",
                     "LINESTRING(0 -100.5, 1000 -100.5)"};
  const char *b[] = {"LINESTRING(0 0, 1000 0)"};
  pm_features *roads = pm_test_wkt(ctx, "roads", r, NULL, 3);
  pm_features *poles = pm_test_wkt(ctx, "poles", b, NULL, 1);
  const pm_features *by[] = {poles};
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", by: poles, within_m: 100}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_line_coverage(ctx, &s, roads, by, 1, d, &out), PM_OK);
  pm_result *all = &out.results[0];
  assert_near(all->numerator, 1.0, 1e-9);
  assert_near(all->denominator, 2.0, 1e-9);
  assert_near(all->value, 50, 1e-6);
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(all->gaps[0].id, "roads#3");
  assert_near(all->gaps[0].shortfall, 1.0, 1e-9);
  assert_near(all->gaps[0].distance_m, 100.5, 1e-9);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, poles);
  pm_features_destroy(ctx, roads);
}

static void test_gaps_sorted_and_districts(void **state) {
  pm_context *ctx = *state;
  /* Camera at (0 0), within_m 100.
   * r1 0..200 at y = 0 (A): 0.1 km uncovered, distance 0.
   * r2 0..500 at y = 1000 (A): all 0.5 km uncovered, distance 1000.
   * r3 (0 -50)-(50 -50) (A): farthest point 70.7 m away, covered whole: no gap.
   * r4 800..1300 at y = 0 (A 0.2 km, B 0.3 km): uncovered, distance 800.
   * Totals A: 0.2+0.5+0.05+0.2 = 0.95 km, covered 0.1+0.05 = 0.15; B: 0.3 km, covered 0. */
  const char *r[] = {"LINESTRING(0 0, 200 0)", "LINESTRING(0 1000, 500 1000)",
                     "LINESTRING(0 -50, 50 -50)", "LINESTRING(800 0, 1300 0)"};
  const char *c[] = {"POINT(0 0)"};
  pm_features *roads = pm_test_wkt(ctx, "roads", r, NULL, 4);
  pm_features *cams = pm_test_wkt(ctx, "cameras", c, NULL, 1);
  const pm_features *by[] = {cams};
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec s =
      pm_test_spec(ctx, SPEC ", by: cameras, within_m: 100, target: \">= 100\"}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_line_coverage(ctx, &s, roads, by, 1, d, &out), PM_OK);
  pm_result *a = &out.results[0], *b = &out.results[1], *all = &out.results[2];
  assert_near(a->denominator, 0.95, 1e-9);
  assert_near(a->numerator, 0.15, 1e-6);
  assert_near(a->value, 100 * 0.15 / 0.95, 1e-3);
  assert_false(a->met);
  assert_near(b->value, 0, 1e-9);
  assert_near(b->denominator, 0.3, 1e-9);
  assert_near(all->denominator, 1.25, 1e-9);
  assert_near(all->numerator, 0.15, 1e-6);
  /* A's gaps, worst first: r2 (0.5), r4 (0.2), r1 (0.1). */
  assert_int_equal(a->n_gaps, 3);
  assert_string_equal(a->gaps[0].id, "roads#2");
  assert_near(a->gaps[0].shortfall, 0.5, 1e-9);
  assert_near(a->gaps[0].distance_m, 1000, 1e-9);
  assert_string_equal(a->gaps[1].id, "roads#4");
  assert_near(a->gaps[1].shortfall, 0.2, 1e-9);
  assert_near(a->gaps[1].distance_m, 800, 1e-9);
  assert_string_equal(a->gaps[1].district, "A");
  assert_string_equal(a->gaps[2].id, "roads#1");
  assert_near(a->gaps[2].shortfall, 0.1, 1e-6);
  /* B: r4's part there. */
  assert_int_equal(b->n_gaps, 1);
  assert_string_equal(b->gaps[0].id, "roads#4");
  assert_string_equal(b->gaps[0].district, "B");
  assert_near(b->gaps[0].shortfall, 0.3, 1e-9);
  assert_true(b->gaps[0].x >= 1000);
  /* _all: r4 whole (0.5 km, tie with r2 broken by distance: r2 1000 m first), named after B
   * where most of it lies. */
  assert_int_equal(all->n_gaps, 3);
  assert_string_equal(all->gaps[0].id, "roads#2");
  assert_string_equal(all->gaps[1].id, "roads#4");
  assert_near(all->gaps[1].shortfall, 0.5, 1e-9);
  assert_string_equal(all->gaps[1].district, "B");
  assert_string_equal(all->gaps[2].id, "roads#1");
  /* Details per district, not for `_all`. */
  assert_non_null(find_detail(&out, "covered", "A"));
  assert_null(find_detail(&out, "covered", "B"));
  assert_non_null(find_detail(&out, "uncovered", "B"));
  assert_null(find_detail(&out, "uncovered", "_all"));
  assert_near(pm_test_detail_length(ctx, find_detail(&out, "uncovered", "A")), 800, 1e-3);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, cams);
  pm_features_destroy(ctx, roads);
}

static void test_nothing_to_cover_or_by(void **state) {
  pm_context *ctx = *state;
  const char *r[] = {"LINESTRING(100 0, 300 0)"};
  pm_features *roads = pm_test_wkt(ctx, "roads", r, NULL, 1);
  pm_features *none = pm_test_wkt(ctx, "cameras", NULL, NULL, 0);
  const pm_features *by[] = {none};
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", by: cameras, within_m: 50}");
  pm_indicator_result out = {0};
  /* No cameras at all: 0 %, the road is a gap without a nearest camera. B has no road: null. */
  assert_int_equal(pm_line_coverage(ctx, &s, roads, by, 1, d, &out), PM_OK);
  assert_true(out.results[0].has_value);
  assert_near(out.results[0].value, 0, 1e-12);
  assert_int_equal(out.results[0].n_gaps, 1);
  assert_true(isnan(out.results[0].gaps[0].distance_m));
  assert_null(out.results[0].gaps[0].nearest);
  assert_false(out.results[1].has_value);
  assert_non_null(out.results[1].null_reason);
  pm_indicator_result_clear(&out);

  /* within_m is required: by a plan, and by the metric of a spec built in code without it (a plan
   * cannot give one: here within_m is taken away by hand). */
  pm_indicator_spec bad;
  assert_int_equal(pm_test_spec_parse(ctx, &bad, SPEC ", by: cameras}"), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "needs key 'within_m'");
  s.within_m = NAN;
  assert_int_equal(pm_line_coverage(ctx, &s, roads, by, 1, d, &out), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "within_m");
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, none);
  pm_features_destroy(ctx, roads);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_half_covered),
      cmocka_unit_test(test_inclusive_and_duplicates),
      cmocka_unit_test(test_gaps_sorted_and_districts),
      cmocka_unit_test(test_nothing_to_cover_or_by),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
