/* test_length.c: METRICS.md §2 length on hand-computable lines (projected metres). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* Districts, where a case has them: A x 0..1000 and B x 1000..2000, both y -500..500. */
#define TWO_DISTRICTS(ctx) pm_test_two_districts((ctx), 1000, -500, 500)

/* The indicator as the plan writes it, less its closing brace (each case adds its keys). */
#define SPEC "{id: greenway, title: 绿道长度, metric: length"

static void test_duplicates_count_once(void **state) {
  pm_context *ctx = *state;
  /* 0..1000 twice and 500..1500 overlapping: the dissolved network is 0..1500 = 1.5 km. */
  const char *w[] = {"LINESTRING(0 0, 1000 0)", "LINESTRING(1000 0, 0 0)",
                     "LINESTRING(500 0, 1500 0)"};
  pm_features *lines = pm_test_wkt(ctx, "lines", w, NULL, 3);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", layer: lines}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_length(ctx, &s, lines, NULL, 0, NULL, 0, NULL, d, &out), PM_OK);
  assert_string_equal(out.unit, "km");
  assert_string_equal(out.id, "greenway");
  assert_int_equal(out.n_results, 1);
  assert_string_equal(out.results[0].district, "_all");
  assert_true(out.results[0].has_value);
  assert_near(out.results[0].value, 1.5, 1e-9);
  assert_near(out.results[0].numerator, 1.5, 1e-9);
  assert_int_equal(out.results[0].has_ratio, 0);
  assert_int_equal(out.results[0].n_gaps, 0);
  /* Without districts, `_all` carries the measured detail. */
  assert_int_equal(out.n_details, 1);
  assert_string_equal(out.details[0].role, "measured");
  assert_near(pm_test_detail_length(ctx, &out.details[0]), 1500, 1e-6);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, lines);
}

static void test_line_split_between_districts(void **state) {
  pm_context *ctx = *state;
  /* 200..1700 crosses x = 1000: 0.8 km in A, 0.7 km in B; 2500..3000 lies outside both. */
  const char *w[] = {"LINESTRING(200 0, 1700 0)", "LINESTRING(2500 0, 3000 0)"};
  pm_features *lines = pm_test_wkt(ctx, "lines", w, NULL, 2);
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", layer: lines, unit: km}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_length(ctx, &s, lines, NULL, 0, NULL, 0, NULL, d, &out), PM_OK);
  assert_int_equal(out.n_results, 3);
  assert_string_equal(out.results[0].district, "A");
  assert_string_equal(out.results[1].district, "B");
  assert_string_equal(out.results[2].district, "_all");
  assert_near(out.results[0].value, 0.8, 1e-9);
  assert_near(out.results[1].value, 0.7, 1e-9);
  assert_near(out.results[2].value, 1.5, 1e-9);
  /* One measured detail per district, none for `_all` (it would repeat them). */
  assert_int_equal(out.n_details, 2);
  for (size_t k = 0; k < out.n_details; k++) {
    assert_string_equal(out.details[k].role, "measured");
    assert_near(pm_test_detail_length(ctx, &out.details[k]),
                strcmp(out.details[k].district, "A") == 0 ? 800 : 700, 1e-6);
  }
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, lines);
}

static void test_within(void **state) {
  pm_context *ctx = *state;
  /* Zone x 0..500, y -50..50: half of the first line is inside, the second line (y = 200) is not;
   * a third line runs along the zone's edge (y = 50) and counts (boundary included). */
  const char *w[] = {"LINESTRING(0 0, 1000 0)", "LINESTRING(0 200, 1000 200)",
                     "LINESTRING(100 50, 300 50)"};
  const char *z[] = {"POLYGON((0 -50, 500 -50, 500 50, 0 50, 0 -50))"};
  pm_features *lines = pm_test_wkt(ctx, "lines", w, NULL, 3);
  pm_features *zones = pm_test_wkt(ctx, "zones", z, NULL, 1);
  const pm_features *within[] = {zones};
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", layer: lines, within: zones, unit: m}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_length(ctx, &s, lines, within, 1, NULL, 0, NULL, d, &out), PM_OK);
  assert_string_equal(out.unit, "m");
  assert_near(out.results[0].value, 700, 1e-6);
  assert_near(out.results[0].numerator, 700, 1e-6);
  pm_indicator_result_clear(&out);

  /* An empty `within` selection leaves nothing. */
  pm_features *none = pm_test_wkt(ctx, "zones", NULL, NULL, 0);
  const pm_features *within0[] = {none};
  assert_int_equal(pm_length(ctx, &s, lines, within0, 1, NULL, 0, NULL, d, &out), PM_OK);
  assert_true(out.results[0].has_value);
  assert_near(out.results[0].value, 0, 1e-12);
  assert_int_equal(out.n_details, 0);
  pm_indicator_result_clear(&out);
  pm_features_destroy(ctx, none);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, zones);
  pm_features_destroy(ctx, lines);
}

static void test_near_inclusive(void **state) {
  pm_context *ctx = *state;
  /* River along y = 0 (x 0..1000), park a square at x 3000..3100. near_m 30:
   * footway at y = 30 (exactly 30 m): counts whole, 1 km;
   * footway at y = -30.5: beyond, nothing;
   * footway from (3000 -60) to (3000 -10) approaches the park: the part within 30 m of it
   *   (y -30..-10) is 20 m. */
  const char *w[] = {"LINESTRING(0 30, 1000 30)", "LINESTRING(0 -30.5, 1000 -30.5)",
                     "LINESTRING(3050 -60, 3050 -10)"};
  const char *r[] = {"LINESTRING(0 0, 1000 0)"};
  const char *p[] = {"POLYGON((3000 0, 3100 0, 3100 100, 3000 100, 3000 0))"};
  pm_features *lines = pm_test_wkt(ctx, "footways", w, NULL, 3);
  pm_features *rivers = pm_test_wkt(ctx, "rivers", r, NULL, 1);
  pm_features *parks = pm_test_wkt(ctx, "parks", p, NULL, 1);
  const pm_features *near[] = {rivers, parks};
  pm_districts *d = pm_test_no_districts(ctx);
  /* near_m 29.9: the footway at exactly 30 m no longer counts. */
  static const struct {
    double near_m, km;
  } cases[] = {{30, 1.020}, {29.9, 0.0199}};
  pm_indicator_result out = {0};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    pm_indicator_spec s =
        pm_test_spec(ctx, SPEC ", layer: footways, near: [rivers, parks], near_m: %g}",
                     cases[c].near_m);
    assert_int_equal(pm_length(ctx, &s, lines, NULL, 0, near, 2, NULL, d, &out), PM_OK);
    if (fabs(out.results[0].value - cases[c].km) > 1e-6)
      fail_msg("near_m %g: %.9g km, want %g", cases[c].near_m, out.results[0].value, cases[c].km);
    pm_indicator_result_clear(&out);
    pm_indicator_spec_clear(&s);
  }

  /* `near` without near_m is a planner's error: the plan is refused, and so is such a spec built
   * in code (a plan cannot give one: here near_m is taken away by hand). */
  pm_indicator_spec s;
  assert_int_equal(pm_test_spec_parse(ctx, &s, SPEC ", layer: footways, near: rivers}"), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "'near' needs 'near_m'");
  s = pm_test_spec(ctx, SPEC ", layer: footways, near: rivers, near_m: 30}");
  s.near_m = NAN;
  assert_int_equal(pm_length(ctx, &s, lines, NULL, 0, near, 2, NULL, d, &out), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "near_m");
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, parks);
  pm_features_destroy(ctx, rivers);
  pm_features_destroy(ctx, lines);
}

static void test_share_of(void **state) {
  pm_context *ctx = *state;
  /* Rivers 0..1500 (plus a duplicate of 0..800, dissolved away); remediated 0..800.
   * A holds 1.0 km of river, 0.8 km remediated -> 80 %;
   * B holds 0.5 km of river (1000..1500), none remediated -> 0 %;
   * _all: 0.8 / 1.5 -> 53.33 %. */
  const char *rv[] = {"LINESTRING(0 0, 1500 0)", "LINESTRING(0 0, 800 0)"};
  const char *rm[] = {"LINESTRING(0 0, 800 0)"};
  pm_features *rivers = pm_test_wkt(ctx, "rivers", rv, NULL, 2);
  pm_features *remediated = pm_test_wkt(ctx, "remediated", rm, NULL, 1);
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec s =
      pm_test_spec(ctx, SPEC ", layer: remediated, share_of: rivers, target: \">= 50\"}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_length(ctx, &s, remediated, NULL, 0, NULL, 0, rivers, d, &out), PM_OK);
  assert_string_equal(out.unit, "%");
  pm_result *a = &out.results[0], *b = &out.results[1], *all = &out.results[2];
  assert_true(a->has_ratio);
  assert_near(a->value, 80, 1e-9);
  assert_near(a->numerator, 0.8, 1e-9);
  assert_near(a->denominator, 1.0, 1e-9);
  assert_true(a->met);
  assert_near(b->value, 0, 1e-9);
  assert_near(b->denominator, 0.5, 1e-9);
  assert_false(b->met);
  assert_int_equal(b->n_gaps, 1);
  assert_near(b->gaps[0].shortfall, 50, 1e-9); /* percentage points */
  assert_near(all->value, 100.0 * 0.8 / 1.5, 1e-9);
  assert_true(all->met);
  pm_indicator_result_clear(&out);

  /* A unit that is not a share is refused: in a plan, and in a spec set in code. */
  pm_indicator_spec bad;
  assert_int_equal(
      pm_test_spec_parse(ctx, &bad, SPEC ", layer: remediated, share_of: rivers, unit: km}"),
      PM_EINPUT);
  assert_contains(pm_context_message(ctx), "with share_of reports in %");
  assert_int_equal(pm_indicator_spec_set(ctx, &s, "unit", "km"), PM_OK);
  assert_int_equal(pm_length(ctx, &s, remediated, NULL, 0, NULL, 0, rivers, d, &out), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "with share_of the value is a share");
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, remediated);
  pm_features_destroy(ctx, rivers);
}

static void test_empty_denominator_is_null(void **state) {
  pm_context *ctx = *state;
  /* All rivers lie in A: B has no river length, so its share is null with a reason. */
  const char *rv[] = {"LINESTRING(100 0, 600 0)"};
  pm_features *rivers = pm_test_wkt(ctx, "rivers", rv, NULL, 1);
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec s =
      pm_test_spec(ctx, SPEC ", layer: rivers, share_of: rivers, target: \">= 90\"}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_length(ctx, &s, rivers, NULL, 0, NULL, 0, rivers, d, &out), PM_OK);
  assert_near(out.results[0].value, 100, 1e-9);
  assert_true(out.results[0].met);
  assert_false(out.results[1].has_value);
  assert_non_null(out.results[1].null_reason);
  assert_non_null(strstr(out.results[1].null_reason, "rivers"));
  assert_false(out.results[1].met);
  assert_int_equal(out.results[1].n_gaps, 0); /* no value, nothing to fall short of */
  assert_near(out.results[2].value, 100, 1e-9);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, rivers);
}

static void test_target_gaps(void **state) {
  pm_context *ctx = *state;
  /* A 0.8 km, B 0.7 km, _all 1.5 km; target >= 0.75 km: B short by 0.05 km. */
  const char *w[] = {"LINESTRING(200 0, 1700 0)"};
  const char *names[] = {"绿道1号"};
  pm_features *lines = pm_test_wkt(ctx, "greenways", w, names, 1);
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", layer: greenways, target: \">= 0.75\"}");
  pm_indicator_result out = {0};
  assert_int_equal(pm_length(ctx, &s, lines, NULL, 0, NULL, 0, NULL, d, &out), PM_OK);
  assert_true(out.has_target);
  assert_true(out.results[0].has_target);
  assert_near(out.results[0].target, 0.75, 0);
  assert_true(out.results[0].met);
  assert_int_equal(out.results[0].n_gaps, 0);
  assert_false(out.results[1].met);
  assert_int_equal(out.results[1].n_gaps, 1);
  assert_string_equal(out.results[1].gaps[0].district, "B");
  assert_near(out.results[1].gaps[0].shortfall, 0.05, 1e-9);
  /* The gap points into the district. */
  assert_true(out.results[1].gaps[0].x >= 1000 && out.results[1].gaps[0].x <= 2000);
  assert_true(out.results[2].met);
  pm_indicator_result_clear(&out);

  /* Same in metres: the shortfall follows the unit (50 m). */
  pm_indicator_spec_clear(&s);
  s = pm_test_spec(ctx, SPEC ", layer: greenways, unit: m, target: \">= 750\"}");
  assert_int_equal(pm_length(ctx, &s, lines, NULL, 0, NULL, 0, NULL, d, &out), PM_OK);
  assert_near(out.results[1].value, 700, 1e-6);
  assert_near(out.results[1].gaps[0].shortfall, 50, 1e-6);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, lines);
}

static void test_bad_inputs(void **state) {
  pm_context *ctx = *state;
  const char *p[] = {"POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))"};
  const char *l[] = {"LINESTRING(0 0, 10 0)"};
  pm_features *polys = pm_test_wkt(ctx, "parks", p, NULL, 1);
  pm_features *lines = pm_test_wkt(ctx, "roads", l, NULL, 1);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = pm_test_spec(ctx, SPEC ", layer: parks}");
  pm_indicator_result out = {0};
  /* A polygon layer has no length. */
  assert_int_equal(pm_length(ctx, &s, polys, NULL, 0, NULL, 0, NULL, d, &out), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "parks"));
  pm_indicator_result_clear(&out);
  /* `within` needs polygons. */
  pm_indicator_spec_clear(&s);
  s = pm_test_spec(ctx, SPEC ", layer: roads, within: roads}");
  const pm_features *within[] = {lines};
  assert_int_equal(pm_length(ctx, &s, lines, within, 1, NULL, 0, NULL, d, &out), PM_EINPUT);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  /* A unit a length cannot have: in a plan, and in a spec set in code. */
  assert_int_equal(pm_test_spec_parse(ctx, &s, SPEC ", layer: roads, unit: ha}"), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "unit 'ha'");
  s = pm_test_spec(ctx, SPEC ", layer: roads}");
  assert_int_equal(pm_indicator_spec_set(ctx, &s, "unit", "ha"), PM_OK);
  assert_int_equal(pm_length(ctx, &s, lines, NULL, 0, NULL, 0, NULL, d, &out), PM_EINPUT);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, lines);
  pm_features_destroy(ctx, polys);
}

/* Many lines are dissolved in strips west to east on several threads: pieces that overlap across
 * strips still count once, `near` restricts every strip, and the result does not depend on the
 * number of threads. 60 rows of 100 pieces [10k, 10k + 15] along y = 5r + 0.5 (x 0..1005): each
 * row dissolves to 1005 m; the `near` polygon (x 200..700, within 0 m) keeps 500 m per row. */
static void test_many_lines_in_strips(void **state) {
  pm_context *ctx = *state;
  enum { ROWS = 60, PIECES = 100, N = ROWS * PIECES };
  char **w = malloc(N * sizeof *w);
  assert_non_null(w);
  for (size_t r = 0; r < ROWS; r++)
    for (size_t k = 0; k < PIECES; k++) {
      char buf[96];
      /* pieces in a shuffled order so that strips are formed by position, not by input order */
      size_t i = (r * PIECES + k) * 7919 % N;
      snprintf(buf, sizeof buf, "LINESTRING(%zu %g, %zu %g)", 10 * k, 5.0 * r + 0.5, 10 * k + 15,
               5.0 * r + 0.5);
      w[i] = strdup(buf);
    }
  pm_features *lines = pm_test_wkt(ctx, "lines", (const char *const *)w, NULL, N);
  const char *zone[] = {"POLYGON((200 0, 700 0, 700 400, 200 400, 200 0))"};
  pm_features *near = pm_test_wkt(ctx, "zone", zone, NULL, 1);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec all = pm_test_spec(ctx, SPEC ", layer: lines, unit: m}");
  pm_indicator_spec zoned = pm_test_spec(ctx, SPEC ", layer: lines, unit: m, near: zone, near_m: 0}");
  const pm_features *nl[] = {near};
  double v[2];
  for (int t = 1; t <= 2; t++) {
    pm_context_set_threads(ctx, t);
    pm_indicator_result r = {0};
    assert_int_equal(pm_length(ctx, &all, lines, NULL, 0, NULL, 0, NULL, d, &r), PM_OK);
    assert_near(r.results[0].value, ROWS * 1005.0, 1e-6);
    pm_indicator_result_clear(&r);
    assert_int_equal(pm_length(ctx, &zoned, lines, NULL, 0, nl, 1, NULL, d, &r), PM_OK);
    v[t - 1] = r.results[0].value;
    assert_near(v[t - 1], ROWS * 500.0, 1e-3); /* + 2 x PM_INCLUSIVE_EPS_M per row */
    pm_indicator_result_clear(&r);
  }
  pm_context_set_threads(ctx, 1);
  assert_true(v[0] == v[1]);
  pm_indicator_spec_clear(&all);
  pm_indicator_spec_clear(&zoned);
  for (size_t i = 0; i < N; i++) free(w[i]);
  free(w);
  pm_features_destroy(ctx, lines);
  pm_features_destroy(ctx, near);
  pm_districts_destroy(ctx, d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_duplicates_count_once),
      cmocka_unit_test(test_line_split_between_districts),
      cmocka_unit_test(test_within),
      cmocka_unit_test(test_near_inclusive),
      cmocka_unit_test(test_share_of),
      cmocka_unit_test(test_empty_denominator_is_null),
      cmocka_unit_test(test_target_gaps),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_many_lines_in_strips),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
