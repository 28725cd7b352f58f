/* test_area_share.c: METRICS.md §2 area_share on hand-computable polygons (projected metres). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* Districts (straddling cases): A x 0..100 and B x 100..200, both y 0..100 (1 ha each). */

/* The indicator as the plan writes it, less its closing brace (each case adds its keys). */
#define SPEC "{id: sponge, title: 海绵城市建成区面积比例, metric: area_share, layer: sponge"

static void test_overlaps_dissolved(void **state) {
  pm_context *ctx = *state;
  /* Two overlapping 100 x 100 squares (x 0..100 and 50..150) dissolve to 150 x 100 = 1.5 ha;
   * `of` is 300 x 100 = 3 ha -> 50 %. No districts: `_all` is everything. */
  const char *l[] = {"POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))",
                     "POLYGON((50 0, 150 0, 150 100, 50 100, 50 0))"};
  const char *o[] = {"POLYGON((0 0, 300 0, 300 100, 0 100, 0 0))"};
  pm_features *layer = pm_test_wkt(ctx, "sponge", l, NULL, 2);
  pm_features *of = pm_test_wkt(ctx, "built_up", o, NULL, 1);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", of: built_up}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_area_share(ctx, &s, layer, of, d, &out), PM_OK);
  assert_string_equal(out.unit, "%");
  assert_int_equal(out.n_results, 1);
  pm_result *all = &out.results[0];
  assert_true(all->has_value);
  assert_true(all->has_ratio);
  assert_near(all->value, 50, 1e-9);
  assert_near(all->numerator, 1.5, 1e-9);  /* ha */
  assert_near(all->denominator, 3.0, 1e-9); /* ha */
  assert_int_equal(out.n_details, 1);
  assert_string_equal(out.details[0].role, "measured");
  assert_near(pm_test_detail_area(ctx, &out.details[0]), 15000, 1e-6);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, of);
  pm_features_destroy(ctx, layer);
}

static void test_straddling_and_target(void **state) {
  pm_context *ctx = *state;
  /* x 50..150 straddles both districts (0.5 ha each); x 0..20 lies in the first only.
   * A: (5000 + 2000) / 10000 = 70 %; B: 50 %; _all: 12000 / 20000 = 60 %.
   * Target >= 60: B falls short by 10 points, _all meets it exactly. */
  const char *l[] = {"POLYGON((50 0, 150 0, 150 100, 50 100, 50 0))",
                     "POLYGON((0 0, 20 0, 20 100, 0 100, 0 0))"};
  pm_features *layer = pm_test_wkt(ctx, "sponge", l, NULL, 2);
  pm_districts *d = pm_test_two_districts(ctx, 100, 0, 100);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", target: \">= 60\"}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_area_share(ctx, &s, layer, NULL, d, &out), PM_OK);
  assert_int_equal(out.n_results, 3);
  pm_result *a = &out.results[0], *b = &out.results[1], *all = &out.results[2];
  assert_string_equal(a->district, "A");
  assert_near(a->value, 70, 1e-9);
  assert_near(a->numerator, 0.7, 1e-9);
  assert_near(a->denominator, 1.0, 1e-9);
  assert_true(a->met);
  assert_int_equal(a->n_gaps, 0);
  assert_near(b->value, 50, 1e-9);
  assert_false(b->met);
  assert_int_equal(b->n_gaps, 1);
  assert_string_equal(b->gaps[0].district, "B");
  assert_near(b->gaps[0].shortfall, 10, 1e-9);
  assert_near(all->value, 60, 1e-9);
  assert_near(all->denominator, 2.0, 1e-9);
  assert_true(all->met);
  assert_int_equal(all->n_gaps, 0);
  /* One measured detail per district. */
  assert_int_equal(out.n_details, 2);
  for (size_t k = 0; k < out.n_details; k++)
    assert_near(pm_test_detail_area(ctx, &out.details[k]),
                strcmp(out.details[k].district, "A") == 0 ? 7000 : 5000, 1e-6);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, layer);
}

static void test_of_clips_and_empty(void **state) {
  pm_context *ctx = *state;
  /* `of` (built-up) only in the first district, x 0..50. The layer x 0..100 covers it and more:
   * the share counts only the layer inside `of` -> 100 %, never above. The second district has no
   * built-up area: null with a reason. */
  const char *l[] = {"POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))"};
  const char *o[] = {"POLYGON((0 0, 50 0, 50 100, 0 100, 0 0))"};
  pm_features *layer = pm_test_wkt(ctx, "sponge", l, NULL, 1);
  pm_features *of = pm_test_wkt(ctx, "built_up", o, NULL, 1);
  pm_districts *d = pm_test_two_districts(ctx, 100, 0, 100);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", of: built_up, target: \">= 40\"}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_area_share(ctx, &s, layer, of, d, &out), PM_OK);
  assert_near(out.results[0].value, 100, 1e-9);
  assert_near(out.results[0].numerator, 0.5, 1e-9);
  assert_false(out.results[1].has_value);
  assert_non_null(out.results[1].null_reason);
  assert_non_null(strstr(out.results[1].null_reason, "built_up"));
  assert_false(out.results[1].met);
  assert_int_equal(out.results[1].n_gaps, 0);
  assert_near(out.results[2].value, 100, 1e-9);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, of);
  pm_features_destroy(ctx, layer);
}

static void test_no_districts_no_of(void **state) {
  pm_context *ctx = *state;
  const char *l[] = {"POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))"};
  pm_features *layer = pm_test_wkt(ctx, "sponge", l, NULL, 1);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC "}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_area_share(ctx, &s, layer, NULL, d, &out), PM_OK);
  assert_int_equal(out.n_results, 1);
  assert_false(out.results[0].has_value);
  assert_non_null(out.results[0].null_reason);
  assert_non_null(strstr(out.results[0].null_reason, "of"));
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, layer);
}

static void test_bad_inputs(void **state) {
  pm_context *ctx = *state;
  const char *l[] = {"LINESTRING(0 0, 100 0)"};
  pm_features *lines = pm_test_wkt(ctx, "roads", l, NULL, 1);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC "}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_area_share(ctx, &s, lines, NULL, d, &out), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "roads"));
  pm_indicator_result_clear(&out);
  /* A unit an area share cannot have: the plan is refused, and so is such a spec set in code. */
  pm_indicator_spec bad;
  assert_int_equal(pm_test_spec_parse(ctx, &bad, SPEC ", unit: ha}"), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "unit 'ha'");
  assert_int_equal(pm_indicator_spec_set(ctx, &s, "unit", "ha"), PM_OK);
  const char *p[] = {"POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))"};
  pm_features *polys = pm_test_wkt(ctx, "sponge", p, NULL, 1);
  assert_int_equal(pm_area_share(ctx, &s, polys, NULL, d, &out), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "instead of");
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, polys);
  pm_features_destroy(ctx, lines);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_overlaps_dissolved),
      cmocka_unit_test(test_straddling_and_target),
      cmocka_unit_test(test_of_clips_and_empty),
      cmocka_unit_test(test_no_districts_no_of),
      cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
