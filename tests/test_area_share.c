/* test_area_share.c: METRICS.md §2 area_share on hand-computable polygons (projected metres). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

static pm_context *ctx;

static int setup(void **state) {
  (void)state;
  return pm_context_create(&ctx) == PM_OK ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  pm_context_destroy(ctx);
  return 0;
}

static pm_features *wkt(const char *layer, const char *const *w, const char *const *labels,
                        size_t n) {
  return pm_test_wkt(ctx, layer, w, labels, n);
}

/* District A: x 0..100, B: x 100..200 (both y 0..100, 1 ha each). */
static pm_districts *two_districts(void) {
  const char *w[] = {"POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))",
                     "POLYGON((100 0, 200 0, 200 100, 100 100, 100 0))"};
  const char *names[] = {"长宁区", "青浦区"};
  return pm_test_districts_wkt(ctx, w, names, 2);
}

static pm_districts *no_districts(void) {
  return pm_test_no_districts(ctx);
}

static pm_indicator_spec spec_of(void) {
  pm_indicator_spec s;
  memset(&s, 0, sizeof s);
  s.id = (char *)"sponge";
  s.title = (char *)"海绵城市建成区面积比例";
  s.metric = (char *)"area_share";
  s.unit = (char *)"%";
  s.layer.layer = (char *)"sponge";
  s.threshold_m = s.catchment_m = s.near_m = s.within_m = s.radius_m = NAN;
  s.min_area_m2 = s.max_area_m2 = NAN;
  return s;
}

static double detail_area(const pm_detail *x) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
  GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, x->wkb, x->wkb_len);
  assert_non_null(g);
  double a = -1;
  GEOSArea_r(h, g, &a);
  GEOSGeom_destroy_r(h, g);
  GEOSWKBReader_destroy_r(h, rd);
  return a;
}

static void test_overlaps_dissolved(void **state) {
  (void)state;
  /* Two overlapping 100 x 100 squares (x 0..100 and 50..150) dissolve to 150 x 100 = 1.5 ha;
   * `of` is 300 x 100 = 3 ha -> 50 %. No districts: `_all` is everything. */
  const char *l[] = {"POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))",
                     "POLYGON((50 0, 150 0, 150 100, 50 100, 50 0))"};
  const char *o[] = {"POLYGON((0 0, 300 0, 300 100, 0 100, 0 0))"};
  pm_features *layer = wkt("sponge", l, NULL, 2);
  pm_features *of = wkt("built_up", o, NULL, 1);
  pm_districts *d = no_districts();
  pm_indicator_spec s = spec_of();
  pm_indicator_result out;
  memset(&out, 0, sizeof out);
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
  assert_near(detail_area(&out.details[0]), 15000, 1e-6);
  pm_indicator_result_clear(&out);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, of);
  pm_features_destroy(ctx, layer);
}

static void test_straddling_and_target(void **state) {
  (void)state;
  /* x 50..150 straddles both districts (0.5 ha each); x 0..20 lies in the first only.
   * 长宁区: (5000 + 2000) / 10000 = 70 %; 青浦区: 50 %; _all: 12000 / 20000 = 60 %.
   * Target >= 60: 青浦区 falls short by 10 points, _all meets it exactly. */
  const char *l[] = {"POLYGON((50 0, 150 0, 150 100, 50 100, 50 0))",
                     "POLYGON((0 0, 20 0, 20 100, 0 100, 0 0))"};
  pm_features *layer = wkt("sponge", l, NULL, 2);
  pm_districts *d = two_districts();
  pm_indicator_spec s = spec_of();
  s.has_target = 1;
  strcpy(s.target_op, ">=");
  s.target_value = 60;
  pm_indicator_result out;
  memset(&out, 0, sizeof out);
  assert_int_equal(pm_area_share(ctx, &s, layer, NULL, d, &out), PM_OK);
  assert_int_equal(out.n_results, 3);
  pm_result *a = &out.results[0], *b = &out.results[1], *all = &out.results[2];
  assert_string_equal(a->district, "长宁区");
  assert_near(a->value, 70, 1e-9);
  assert_near(a->numerator, 0.7, 1e-9);
  assert_near(a->denominator, 1.0, 1e-9);
  assert_true(a->met);
  assert_int_equal(a->n_gaps, 0);
  assert_near(b->value, 50, 1e-9);
  assert_false(b->met);
  assert_int_equal(b->n_gaps, 1);
  assert_string_equal(b->gaps[0].district, "青浦区");
  assert_near(b->gaps[0].shortfall, 10, 1e-9);
  assert_near(all->value, 60, 1e-9);
  assert_near(all->denominator, 2.0, 1e-9);
  assert_true(all->met);
  assert_int_equal(all->n_gaps, 0);
  /* One measured detail per district. */
  assert_int_equal(out.n_details, 2);
  for (size_t k = 0; k < out.n_details; k++)
    assert_near(detail_area(&out.details[k]),
                strcmp(out.details[k].district, "长宁区") == 0 ? 7000 : 5000, 1e-6);
  pm_indicator_result_clear(&out);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, layer);
}

static void test_of_clips_and_empty(void **state) {
  (void)state;
  /* `of` (built-up) only in the first district, x 0..50. The layer x 0..100 covers it and more:
   * the share counts only the layer inside `of` -> 100 %, never above. The second district has no
   * built-up area: null with a reason. */
  const char *l[] = {"POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))"};
  const char *o[] = {"POLYGON((0 0, 50 0, 50 100, 0 100, 0 0))"};
  pm_features *layer = wkt("sponge", l, NULL, 1);
  pm_features *of = wkt("built_up", o, NULL, 1);
  pm_districts *d = two_districts();
  pm_indicator_spec s = spec_of();
  s.has_target = 1;
  strcpy(s.target_op, ">=");
  s.target_value = 40;
  pm_indicator_result out;
  memset(&out, 0, sizeof out);
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
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, of);
  pm_features_destroy(ctx, layer);
}

static void test_no_districts_no_of(void **state) {
  (void)state;
  const char *l[] = {"POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))"};
  pm_features *layer = wkt("sponge", l, NULL, 1);
  pm_districts *d = no_districts();
  pm_indicator_spec s = spec_of();
  pm_indicator_result out;
  memset(&out, 0, sizeof out);
  assert_int_equal(pm_area_share(ctx, &s, layer, NULL, d, &out), PM_OK);
  assert_int_equal(out.n_results, 1);
  assert_false(out.results[0].has_value);
  assert_non_null(out.results[0].null_reason);
  assert_non_null(strstr(out.results[0].null_reason, "of"));
  pm_indicator_result_clear(&out);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, layer);
}

static void test_bad_inputs(void **state) {
  (void)state;
  const char *l[] = {"LINESTRING(0 0, 100 0)"};
  pm_features *lines = wkt("roads", l, NULL, 1);
  pm_districts *d = no_districts();
  pm_indicator_spec s = spec_of();
  pm_indicator_result out;
  memset(&out, 0, sizeof out);
  assert_int_equal(pm_area_share(ctx, &s, lines, NULL, d, &out), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "roads"));
  pm_indicator_result_clear(&out);
  s.unit = (char *)"ha";
  const char *p[] = {"POLYGON((0 0, 100 0, 100 100, 0 100, 0 0))"};
  pm_features *polys = wkt("sponge", p, NULL, 1);
  memset(&out, 0, sizeof out);
  assert_int_equal(pm_area_share(ctx, &s, polys, NULL, d, &out), PM_EINPUT);
  pm_indicator_result_clear(&out);
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
  return cmocka_run_group_tests(tests, setup, teardown);
}
