/* test_count.c: hand-computable cases for the count metric (METRICS.md §2). */
#include <math.h>
#include <string.h>

#include "fixtures.h"

/* Districts: A x 0..1000 and B x 1000..2000 (y 0..1000), sharing the line x = 1000. Parks: 100 m2,
 * 400 m2, 10,000 m2 and 10,100 m2 squares in A, and a 4,000 m2 strip from x 900 to 1300 whose
 * representative point (1100, 5) lies in B. */
static const char *parks_wkt[] = {
    "POLYGON((100 100,110 100,110 110,100 110,100 100))",
    "POLYGON((200 200,220 200,220 220,200 220,200 200))",
    "POLYGON((300 300,400 300,400 400,300 400,300 300))",
    "POLYGON((500 500,601 500,601 600,500 600,500 500))",
    "POLYGON((900 0,1300 0,1300 10,900 10,900 0))",
};
static const char *parks_label[] = {"tiny", "p400", "p10000", "p10100", "strip"};

/* The indicator as the plan writes it, less its closing brace (each case adds its keys). */
#define SPEC "{id: pocket_parks, title: 口袋公园数, metric: count, layer: parks"

/* Bounds are inclusive: with 400..10,000 m2, the 400 and 10,000 m2 parks count, the 100 and 10,100
 * m2 ones do not; the strip counts in B. A count of nothing is 0, not null. */
static void test_area_bounds(void **state) {
  pm_context *ctx = *state;
  static const struct {
    const char *name, *bounds;
    double a, b, all;
  } cases[] = {
      {"400..10000", ", min_area_m2: 400, max_area_m2: 10000", 2, 1, 3},
      {"no bounds", "", 4, 1, 5},
      {"only a lower bound", ", min_area_m2: 10000", 2, 0, 2},
      {"only an upper bound", ", max_area_m2: 399.99", 1, 0, 1},
      {"max .inf", ", min_area_m2: 400, max_area_m2: .inf", 3, 1, 4},
  };
  pm_features *parks = pm_test_wkt(ctx, "parks", parks_wkt, parks_label, 5);
  pm_districts *d = pm_test_two_districts(ctx, 1000, 0, 1000);
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    pm_indicator_spec spec = pm_test_spec(ctx, SPEC "%s}", cases[c].bounds);
    pm_indicator_result ir = {0};
    assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_OK);
    const double want[] = {cases[c].a, cases[c].b, cases[c].all};
    const char *slot[] = {"A", "B", "_all"};
    assert_int_equal(ir.n_results, 3);
    for (size_t i = 0; i < 3; i++) {
      const pm_result *r = &ir.results[i];
      if (strcmp(r->district, slot[i]) != 0 || !r->has_value || r->has_ratio ||
          r->value != want[i] || r->numerator != want[i] || r->n_gaps || r->has_target)
        fail_msg("%s: %s is %s %g (numerator %g, %zu gaps), want %g", cases[c].name, slot[i],
                 r->district, r->has_value ? r->value : NAN, r->numerator, r->n_gaps, want[i]);
    }
    assert_int_equal(ir.n_details, (size_t)cases[c].all);
    pm_indicator_result_clear(&ir);
    pm_indicator_spec_clear(&spec);
  }

  /* The counted features are the details, in their district. */
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", min_area_m2: 400, max_area_m2: 10000}");
  pm_indicator_result ir = {0};
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_OK);
  assert_string_equal(ir.unit, "count");
  assert_string_equal(ir.metric, "count");
  assert_int_equal(ir.n_details, 3);
  assert_string_equal(pm_test_detail_named(&ir, "counted", "p400")->district, "A");
  assert_string_equal(pm_test_detail_named(&ir, "counted", "p10000")->district, "A");
  assert_string_equal(pm_test_detail_named(&ir, "counted", "strip")->district, "B");
  pm_indicator_result_clear(&ir);
  pm_indicator_spec_clear(&spec);

  /* Bounds the wrong way round: the plan is refused (the kind's check)... */
  assert_int_equal(pm_test_spec_parse(ctx, &spec, SPEC ", min_area_m2: 500, max_area_m2: 400}"),
                   PM_EINPUT);
  assert_contains(pm_context_message(ctx), "max_area_m2 is below min_area_m2");
  /* ...and so is such a spec set in code, where no parser checks it. */
  spec = pm_test_spec(ctx, SPEC "}");
  assert_int_equal(pm_indicator_spec_set(ctx, &spec, "min_area_m2", "500"), PM_OK);
  assert_int_equal(pm_indicator_spec_set(ctx, &spec, "max_area_m2", "400"), PM_OK);
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_EINPUT);
  pm_indicator_result_clear(&ir);
  pm_indicator_spec_clear(&spec);

  pm_features_destroy(ctx, parks);
  pm_districts_destroy(ctx, d);
}

/* With a target, each district short of it gets a gap with its shortfall; _all lists them worst
 * first. */
static void test_target_gaps(void **state) {
  pm_context *ctx = *state;
  pm_features *parks = pm_test_wkt(ctx, "parks", parks_wkt, parks_label, 5);
  pm_districts *d = pm_test_two_districts(ctx, 1000, 0, 1000);
  /* 400..10,000 m2: A 2, B 1, _all 3 */
  pm_indicator_spec spec =
      pm_test_spec(ctx, SPEC ", min_area_m2: 400, max_area_m2: 10000, target: \">= 2\"}");
  pm_indicator_result ir = {0};
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_OK);
  const pm_result *a = pm_test_result(&ir, "A"), *b = pm_test_result(&ir, "B"),
                  *all = pm_test_result(&ir, "_all");
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
  pm_indicator_spec_clear(&spec);

  /* "> 2": A (2) lacks one, B (1) lacks two; _all (3) passes and lists B before A. */
  spec = pm_test_spec(ctx, SPEC ", min_area_m2: 400, max_area_m2: 10000, target: \"> 2\"}");
  assert_int_equal(pm_count(ctx, &spec, parks, d, &ir), PM_OK);
  all = pm_test_result(&ir, "_all");
  assert_true(all->met);
  assert_false(pm_test_result(&ir, "A")->met);
  assert_int_equal(all->n_gaps, 2);
  assert_string_equal(all->gaps[0].district, "B");
  assert_near(all->gaps[0].shortfall, 2, 0);
  assert_string_equal(all->gaps[1].district, "A");
  assert_near(all->gaps[1].shortfall, 1, 0);
  pm_indicator_result_clear(&ir);
  pm_indicator_spec_clear(&spec);

  /* Without districts `_all` is the only place, and its own gap. */
  pm_districts *none = pm_test_no_districts(ctx);
  spec = pm_test_spec(ctx, SPEC ", min_area_m2: 400, max_area_m2: 10000, target: \">= 10\"}");
  assert_int_equal(pm_count(ctx, &spec, parks, none, &ir), PM_OK);
  assert_int_equal(ir.n_results, 1);
  assert_near(ir.results[0].value, 3, 0);
  assert_false(ir.results[0].met);
  assert_int_equal(ir.results[0].n_gaps, 1);
  assert_near(ir.results[0].gaps[0].shortfall, 7, 0);
  pm_indicator_result_clear(&ir);
  pm_indicator_spec_clear(&spec);

  pm_features_destroy(ctx, parks);
  pm_districts_destroy(ctx, d);
  pm_districts_destroy(ctx, none);
}

/* A point on the shared boundary counts in A and in B, once in _all; one outside counts nowhere;
 * area bounds do not apply to points. */
static void test_boundary_point(void **state) {
  pm_context *ctx = *state;
  const char *wkt[] = {"POINT(1000 500)", "POINT(500 500)", "POINT(5000 5000)"};
  pm_features *pts = pm_test_wkt(ctx, "benches", wkt, NULL, 3);
  pm_districts *d = pm_test_two_districts(ctx, 1000, 0, 1000);
  pm_indicator_spec spec = pm_test_spec(ctx, "{id: benches, metric: count, layer: benches, "
                                             "min_area_m2: 400}");
  pm_indicator_result ir = {0};
  assert_int_equal(pm_count(ctx, &spec, pts, d, &ir), PM_OK);
  assert_near(pm_test_result(&ir, "A")->value, 2, 0);
  assert_near(pm_test_result(&ir, "B")->value, 1, 0);
  assert_near(pm_test_result(&ir, "_all")->value, 2, 0);
  assert_int_equal(ir.n_details, 2);
  pm_indicator_result_clear(&ir);
  pm_indicator_spec_clear(&spec);
  pm_features_destroy(ctx, pts);
  pm_districts_destroy(ctx, d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_area_bounds),
      cmocka_unit_test(test_target_gaps),
      cmocka_unit_test(test_boundary_point),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
