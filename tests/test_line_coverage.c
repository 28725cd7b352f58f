/* test_line_coverage.c: METRICS.md §2 line_coverage on hand-computable lines (metres). */
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

/* District A: x 0..1000, B: x 1000..2000 (both y -500..1500). */
static pm_districts *two_districts(void) {
  const char *w[] = {"POLYGON((0 -500, 1000 -500, 1000 1500, 0 1500, 0 -500))",
                     "POLYGON((1000 -500, 2000 -500, 2000 1500, 1000 1500, 1000 -500))"};
  const char *names[] = {"A", "B"};
  return pm_test_districts_wkt(ctx, w, names, 2);
}

static pm_districts *no_districts(void) {
  return pm_test_no_districts(ctx);
}

static pm_indicator_spec spec_of(double within_m) {
  pm_indicator_spec s;
  memset(&s, 0, sizeof s);
  s.id = (char *)"video";
  s.title = (char *)"主要道路视频监控覆盖";
  s.metric = (char *)"line_coverage";
  s.unit = (char *)"%";
  s.layer.layer = (char *)"roads";
  s.threshold_m = s.catchment_m = s.near_m = s.radius_m = NAN;
  s.min_area_m2 = s.max_area_m2 = NAN;
  s.within_m = within_m;
  return s;
}

static double detail_length(const pm_detail *x) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
  GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, x->wkb, x->wkb_len);
  assert_non_null(g);
  double len = -1;
  GEOSLength_r(h, g, &len);
  GEOSGeom_destroy_r(h, g);
  GEOSWKBReader_destroy_r(h, rd);
  return len;
}

static const pm_detail *find_detail(const pm_indicator_result *out, const char *role,
                                    const char *district) {
  for (size_t k = 0; k < out->n_details; k++)
    if (strcmp(out->details[k].role, role) == 0 && out->details[k].district &&
        strcmp(out->details[k].district, district) == 0)
      return &out->details[k];
  return NULL;
}

static void test_half_covered(void **state) {
  (void)state;
  /* Road 0..200 along y = 0, camera at the origin, within_m 100: 0..100 is covered -> 50 %. */
  const char *r[] = {"LINESTRING(0 0, 200 0)"};
  const char *rn[] = {"华新路"};
  const char *c[] = {"POINT(0 0)"};
  const char *cn[] = {"cam-1"};
  pm_features *roads = wkt("roads", r, rn, 1);
  pm_features *cams = wkt("cameras", c, cn, 1);
  const pm_features *by[] = {cams};
  pm_districts *d = no_districts();
  pm_indicator_spec s = spec_of(100);
  pm_indicator_result out;
  memset(&out, 0, sizeof out);
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
  assert_near(detail_length(cv), 100, 1e-3);
  assert_near(detail_length(uc), 100, 1e-3);
  pm_indicator_result_clear(&out);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, cams);
  pm_features_destroy(ctx, roads);
}

static void test_inclusive_and_duplicates(void **state) {
  (void)state;
  /* A road at exactly within_m (y = 100) from a line of poles along y = 0 is covered whole; its
   * duplicate counts once; a road at y = 100.5 is not covered at all. */
  const char *r[] = {"LINESTRING(0 100, 1000 100)", "LINESTRING(1000 100, 0 100)",
                     "LINESTRING(0 -100.5, 1000 -100.5)"};
  const char *b[] = {"LINESTRING(0 0, 1000 0)"};
  pm_features *roads = wkt("roads", r, NULL, 3);
  pm_features *poles = wkt("poles", b, NULL, 1);
  const pm_features *by[] = {poles};
  pm_districts *d = no_districts();
  pm_indicator_spec s = spec_of(100);
  pm_indicator_result out;
  memset(&out, 0, sizeof out);
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
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, poles);
  pm_features_destroy(ctx, roads);
}

static void test_gaps_sorted_and_districts(void **state) {
  (void)state;
  /* Camera at (0 0), within_m 100.
   * r1 0..200 at y = 0 (A): 0.1 km uncovered, distance 0.
   * r2 0..500 at y = 1000 (A): all 0.5 km uncovered, distance 1000.
   * r3 (0 -50)-(50 -50) (A): farthest point 70.7 m away, covered whole: no gap.
   * r4 800..1300 at y = 0 (A 0.2 km, B 0.3 km): uncovered, distance 800.
   * Totals A: 0.2+0.5+0.05+0.2 = 0.95 km, covered 0.1+0.05 = 0.15; B: 0.3 km, covered 0. */
  const char *r[] = {"LINESTRING(0 0, 200 0)", "LINESTRING(0 1000, 500 1000)",
                     "LINESTRING(0 -50, 50 -50)", "LINESTRING(800 0, 1300 0)"};
  const char *c[] = {"POINT(0 0)"};
  pm_features *roads = wkt("roads", r, NULL, 4);
  pm_features *cams = wkt("cameras", c, NULL, 1);
  const pm_features *by[] = {cams};
  pm_districts *d = two_districts();
  pm_indicator_spec s = spec_of(100);
  s.has_target = 1;
  strcpy(s.target_op, ">=");
  s.target_value = 100;
  pm_indicator_result out;
  memset(&out, 0, sizeof out);
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
  assert_near(detail_length(find_detail(&out, "uncovered", "A")), 800, 1e-3);
  pm_indicator_result_clear(&out);
  pm_districts_destroy(ctx, d);
  pm_features_destroy(ctx, cams);
  pm_features_destroy(ctx, roads);
}

static void test_nothing_to_cover_or_by(void **state) {
  (void)state;
  const char *r[] = {"LINESTRING(100 0, 300 0)"};
  pm_features *roads = wkt("roads", r, NULL, 1);
  pm_features *none = wkt("cameras", NULL, NULL, 0);
  const pm_features *by[] = {none};
  pm_districts *d = two_districts();
  pm_indicator_spec s = spec_of(50);
  pm_indicator_result out;
  memset(&out, 0, sizeof out);
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

  /* within_m is required. */
  s = spec_of(NAN);
  memset(&out, 0, sizeof out);
  assert_int_equal(pm_line_coverage(ctx, &s, roads, by, 1, d, &out), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "within_m"));
  pm_indicator_result_clear(&out);
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
  return cmocka_run_group_tests(tests, setup, teardown);
}
