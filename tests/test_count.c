/* test_count.c: hand-computable cases for the count metric (METRICS.md §2). */
#include <math.h>
#include <string.h>

#include "fixtures.h"

/* Districts A (x 0..1000) and B (x 1000..2000), both y 0..1000: they share the line x = 1000. */
static pm_districts *two_districts(pm_context *ctx) {
  const char *wkt[] = {"POLYGON((0 0,1000 0,1000 1000,0 1000,0 0))",
                       "POLYGON((1000 0,2000 0,2000 1000,1000 1000,1000 0))"};
  const char *names[] = {"A", "B"};
  pm_features *fs = NULL;
  pm_districts *d = NULL;
  assert_int_equal(pm_features_from_wkt(ctx, "districts", wkt, names, 2, &fs), PM_OK);
  assert_int_equal(pm_districts_from_features(ctx, fs, &d), PM_OK);
  pm_features_destroy(ctx, fs);
  return d;
}

/* 100 m2, 400 m2, 10,000 m2 and 10,100 m2 squares in A, and a 4,000 m2 strip from x 900 to 1300
 * whose representative point (1100, 5) lies in B. */
static const char *parks_wkt[] = {
    "POLYGON((100 100,110 100,110 110,100 110,100 100))",
    "POLYGON((200 200,220 200,220 220,200 220,200 200))",
    "POLYGON((300 300,400 300,400 400,300 400,300 300))",
    "POLYGON((500 500,601 500,601 600,500 600,500 500))",
    "POLYGON((900 0,1300 0,1300 10,900 10,900 0))",
};
static const char *parks_label[] = {"tiny", "p400", "p10000", "p10100", "strip"};

static pm_indicator_spec spec_of(double min_a, double max_a) {
  pm_indicator_spec s;
  memset(&s, 0, sizeof s);
  s.id = (char *)"pocket_parks";
  s.title = (char *)"口袋公园数";
  s.metric = (char *)"count";
  s.unit = (char *)"count";
  s.threshold_m = s.catchment_m = s.near_m = s.within_m = s.radius_m = NAN;
  s.min_area_m2 = min_a;
  s.max_area_m2 = max_a;
  s.target_value = NAN;
  return s;
}

static const pm_result *res(const pm_indicator_result *ir, const char *district) {
  for (size_t i = 0; i < ir->n_results; i++)
    if (strcmp(ir->results[i].district, district) == 0) return &ir->results[i];
  fail_msg("no result for %s", district);
  return NULL;
}

/* Bounds are inclusive: 400 and 10,000 m2 count, 100 and 10,100 m2 do not; the strip counts in B.
 */
static void test_area_bounds(void **state) {
  (void)state;
  pm_context *ctx = NULL;
  assert_int_equal(pm_context_create(&ctx), PM_OK);
  pm_features *parks = NULL;
  assert_int_equal(pm_features_from_wkt(ctx, "parks", parks_wkt, parks_label, 5, &parks), PM_OK);
  pm_districts *d = two_districts(ctx);
  pm_indicator_spec spec = spec_of(400, 10000);
  pm_indicator_result ir;
  memset(&ir, 0, sizeof ir);
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_OK);
  assert_string_equal(ir.unit, "count");
  assert_string_equal(ir.metric, "count");
  assert_int_equal(ir.n_results, 3);
  assert_string_equal(ir.results[0].district, "A");
  assert_string_equal(ir.results[1].district, "B");
  assert_string_equal(ir.results[2].district, "_all");
  const pm_result *a = res(&ir, "A"), *b = res(&ir, "B"), *all = res(&ir, "_all");
  assert_true(a->has_value);
  assert_false(a->has_ratio);
  assert_near(a->value, 2, 0);
  assert_near(a->numerator, 2, 0);
  assert_near(b->value, 1, 0);
  assert_near(all->value, 3, 0);
  assert_int_equal(a->n_gaps + b->n_gaps + all->n_gaps, 0);
  assert_false(a->has_target);
  assert_int_equal(ir.n_details, 3);
  for (size_t i = 0; i < ir.n_details; i++) {
    assert_string_equal(ir.details[i].role, "counted");
    if (strcmp(ir.details[i].name, "strip") == 0) assert_string_equal(ir.details[i].district, "B");
    assert_true(strcmp(ir.details[i].name, "tiny") != 0 &&
                strcmp(ir.details[i].name, "p10100") != 0);
  }
  pm_indicator_result_clear(&ir);
  memset(&ir, 0, sizeof ir);

  /* No bounds: everything counts. */
  spec = spec_of(NAN, NAN);
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_OK);
  assert_near(res(&ir, "A")->value, 4, 0);
  assert_near(res(&ir, "B")->value, 1, 0);
  assert_near(res(&ir, "_all")->value, 5, 0);
  pm_indicator_result_clear(&ir);
  memset(&ir, 0, sizeof ir);

  /* Only a lower bound. */
  spec = spec_of(10000, NAN);
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_OK);
  assert_near(res(&ir, "A")->value, 2, 0);
  assert_near(res(&ir, "B")->value, 0, 0);
  assert_true(res(&ir, "B")->has_value); /* a count of nothing is 0, not null */
  pm_indicator_result_clear(&ir);
  memset(&ir, 0, sizeof ir);

  spec = spec_of(500, 400);
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_EINPUT);
  pm_indicator_result_clear(&ir);

  pm_features_destroy(ctx, parks);
  pm_districts_destroy(ctx, d);
  pm_context_destroy(ctx);
}

/* With a target, each district short of it gets a gap with its shortfall; _all lists them worst
 * first. */
static void test_target_gaps(void **state) {
  (void)state;
  pm_context *ctx = NULL;
  assert_int_equal(pm_context_create(&ctx), PM_OK);
  pm_features *parks = NULL;
  assert_int_equal(pm_features_from_wkt(ctx, "parks", parks_wkt, parks_label, 5, &parks), PM_OK);
  pm_districts *d = two_districts(ctx);
  pm_indicator_spec spec = spec_of(400, 10000); /* A 2, B 1, _all 3 */
  spec.has_target = 1;
  strcpy(spec.target_op, ">=");
  spec.target_value = 2;
  pm_indicator_result ir;
  memset(&ir, 0, sizeof ir);
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_OK);
  const pm_result *a = res(&ir, "A"), *b = res(&ir, "B"), *all = res(&ir, "_all");
  assert_true(a->met);
  assert_false(b->met);
  assert_true(all->met);
  assert_near(b->target, 2, 0);
  assert_int_equal(a->n_gaps, 0);
  assert_int_equal(b->n_gaps, 1);
  assert_string_equal(b->gaps[0].district, "B");
  assert_near(b->gaps[0].shortfall, 1, 0);
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(all->gaps[0].id, "B");
  pm_indicator_result_clear(&ir);
  memset(&ir, 0, sizeof ir);

  /* "> 2": A (2) lacks one, B (1) lacks two; _all (3) passes and lists B before A. */
  strcpy(spec.target_op, ">");
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_OK);
  all = res(&ir, "_all");
  assert_true(all->met);
  assert_false(res(&ir, "A")->met);
  assert_int_equal(all->n_gaps, 2);
  assert_string_equal(all->gaps[0].district, "B");
  assert_near(all->gaps[0].shortfall, 2, 0);
  assert_string_equal(all->gaps[1].district, "A");
  assert_near(all->gaps[1].shortfall, 1, 0);
  pm_indicator_result_clear(&ir);
  memset(&ir, 0, sizeof ir);

  /* Without districts `_all` is the only place, and its own gap. */
  pm_districts *none = NULL;
  assert_int_equal(pm_districts_none(ctx, &none), PM_OK);
  strcpy(spec.target_op, ">=");
  spec.target_value = 10;
  assert_int_equal(pm_count(ctx, &spec, parks, none, &ir), PM_OK);
  assert_int_equal(ir.n_results, 1);
  assert_near(ir.results[0].value, 3, 0);
  assert_false(ir.results[0].met);
  assert_int_equal(ir.results[0].n_gaps, 1);
  assert_near(ir.results[0].gaps[0].shortfall, 7, 0);
  pm_indicator_result_clear(&ir);

  pm_features_destroy(ctx, parks);
  pm_districts_destroy(ctx, d);
  pm_districts_destroy(ctx, none);
  pm_context_destroy(ctx);
}

/* A point on the shared boundary counts in A and in B, once in _all; one outside counts nowhere;
 * area bounds do not apply to points. */
static void test_boundary_point(void **state) {
  (void)state;
  pm_context *ctx = NULL;
  assert_int_equal(pm_context_create(&ctx), PM_OK);
  const char *wkt[] = {"POINT(1000 500)", "POINT(500 500)", "POINT(5000 5000)"};
  pm_features *pts = NULL;
  assert_int_equal(pm_features_from_wkt(ctx, "benches", wkt, NULL, 3, &pts), PM_OK);
  pm_districts *d = two_districts(ctx);
  pm_indicator_spec spec = spec_of(400, NAN);
  pm_indicator_result ir;
  memset(&ir, 0, sizeof ir);
  assert_int_equal(pm_count(ctx, &spec, pts, d, &ir), PM_OK);
  assert_near(res(&ir, "A")->value, 2, 0);
  assert_near(res(&ir, "B")->value, 1, 0);
  assert_near(res(&ir, "_all")->value, 2, 0);
  assert_int_equal(ir.n_details, 2);
  pm_indicator_result_clear(&ir);
  pm_features_destroy(ctx, pts);
  pm_districts_destroy(ctx, d);
  pm_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_area_bounds),
      cmocka_unit_test(test_target_gaps),
      cmocka_unit_test(test_boundary_point),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
