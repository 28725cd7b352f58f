/* test_connectivity.c: hand-computable cases for connectivity (METRICS.md §5). */
#include <math.h>
#include <string.h>

#include "fixtures.h"

/* A network in pieces: A, two lines meeting at (100, 0), 200 m; D, a bridge over A at x = 150
 * with no shared vertex, 100 m; B, 50 m, 100 m east of A's end; C, 30 m, 100 m north of A's end.
 * `vertices`: four pieces, the largest A = 200 of 380 m; `crossings`: the bridge joins A, 300 m. */
static const char *const LINES[] = {"LINESTRING(0 0, 100 0)", "LINESTRING(100 0, 200 0)",
                                    "LINESTRING(150 -50, 150 50)", "LINESTRING(300 0, 350 0)",
                                    "LINESTRING(200 100, 200 130)"};

static void test_three_pieces_and_a_bridge(void **state) {
  pm_context *ctx = *state;
  pm_features *lines = pm_test_wkt(ctx, "slow", LINES, NULL, 5);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, "{id: slow, metric: connectivity, layer: slow}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_connectivity(ctx, &s, lines, d, &out), PM_OK);
  const pm_result *r = &out.results[0];
  assert_near(r->numerator, 200, 1e-9);
  assert_near(r->denominator, 380, 1e-9);
  assert_near(r->value, 100.0 * 200 / 380, 1e-9);
  assert_int_equal(r->n_gaps, 3);
  /* gaps: the other pieces, longest first (shortfall: length in km), with the gap to A */
  assert_near(r->gaps[0].shortfall, 0.1, 1e-12);   /* the bridge, crossing A: no gap */
  assert_near(r->gaps[0].distance_m, 0, 1e-9);
  assert_near(r->gaps[1].shortfall, 0.05, 1e-12);  /* B */
  assert_near(r->gaps[1].distance_m, 100, 1e-9);
  assert_near(r->gaps[2].shortfall, 0.03, 1e-12);  /* C */
  assert_near(r->gaps[2].distance_m, 100, 1e-9);
  size_t links = 0;
  for (size_t i = 0; i < out.n_details; i++) links += strcmp(out.details[i].role, "link") == 0;
  assert_int_equal(links, 3);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);

  s = pm_test_spec(ctx, "{id: slow, metric: connectivity, layer: slow, connect: crossings}");
  assert_int_equal(pm_connectivity(ctx, &s, lines, d, &out), PM_OK);
  assert_near(out.results[0].numerator, 300, 1e-9);
  assert_near(out.results[0].denominator, 380, 1e-9);
  assert_int_equal(out.results[0].n_gaps, 2);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_features_destroy(ctx, lines);
  pm_districts_destroy(ctx, d);
}

/* Per district: lines are clipped first; a district without lines has no value. */
static void test_districts(void **state) {
  pm_context *ctx = *state;
  pm_features *lines = pm_test_wkt(ctx, "slow", LINES, NULL, 5);
  const char *w[] = {"POLYGON((-10 -100, 250 -100, 250 200, -10 200, -10 -100))",
                     "POLYGON((250 -100, 400 -100, 400 200, 250 200, 250 -100))",
                     "POLYGON((1000 1000, 1100 1000, 1100 1100, 1000 1100, 1000 1000))"};
  const char *names[] = {"west", "east", "empty"};
  pm_districts *d = pm_test_districts_wkt(ctx, w, names, 3);
  pm_indicator_spec s = pm_test_spec(ctx, "{id: slow, metric: connectivity, layer: slow}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_connectivity(ctx, &s, lines, d, &out), PM_OK);
  assert_near(out.results[0].value, 100.0 * 200 / 330, 1e-9); /* west: A, D, C */
  assert_near(out.results[1].value, 100, 1e-9);                /* east: B alone */
  assert_false(out.results[2].has_value);
  assert_non_null(strstr(out.results[2].null_reason, "no slow lines"));
  assert_near(out.results[3].value, 100.0 * 200 / 380, 1e-9); /* _all */
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_features_destroy(ctx, lines);
  pm_districts_destroy(ctx, d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_three_pieces_and_a_bridge),
      cmocka_unit_test(test_districts),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
