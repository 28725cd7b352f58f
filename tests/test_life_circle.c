/* test_life_circle.c: hand-computable cases for life_circle (METRICS.md §5), straight and walked. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* One street, y = 0, x 0..2000. Homes H1 (100, 0) and H2 (1000, 0) lie on it. Facilities: a
 * school at (600, 0) (within 500 m: H1 at exactly 500 m, H2 at 400 m: both served), a clinic at
 * (0, 0) (within 1000 m: 100 m and exactly 1000 m), a market at (1900, 0) (within 300 m: 1800 m
 * and 900 m: neither). H3 (100, 500) is 500 m from the street: walking, it is unroutable. */
static pm_features *facility(pm_context *ctx, const char *layer, const char *wkt) {
  const char *w[] = {wkt};
  pm_features *fs = pm_test_wkt(ctx, layer, w, NULL, 1);
  assert_int_equal(pm_features_index(ctx, fs), PM_OK);
  return fs;
}

/* The indicator: three facility types (school 500 m, clinic 1000 m, market 300 m). */
static pm_indicator_spec spec_lc(pm_context *ctx, const char *require, const char *distance) {
  return pm_test_spec(ctx,
                      "{id: life, metric: life_circle, homes: homes, require: \"%s\", "
                      "distance: %s, network: streets, facilities: ["
                      "{name: school, layer: schools, within_m: 500}, "
                      "{name: clinic, layer: clinics, within_m: 1000}, "
                      "{name: market, layer: markets, within_m: 300}]}",
                      require, distance);
}

static const pm_facility_share *share(const pm_result *r, const char *name) {
  for (size_t i = 0; i < r->n_facilities; i++)
    if (strcmp(r->facilities[i].name, name) == 0) return &r->facilities[i];
  fail_msg("no facility %s", name);
  return NULL;
}

static void test_require_and_boundaries(void **state) {
  pm_context *ctx = *state;
  const char *sw[] = {"LINESTRING(0 0, 2000 0)"};
  pm_features *streets = pm_test_wkt(ctx, "streets", sw, NULL, 1);
  pm_network_options opt;
  pm_network_options_init(&opt);
  pm_network *net = NULL;
  assert_int_equal(pm_network_build(ctx, streets, &opt, &net), PM_OK);
  const char *hw[] = {"POINT(100 0)", "POINT(1000 0)", "POINT(100 500)"}, *hl[] = {"H1", "H2", "H3"};
  pm_features *homes = pm_test_wkt(ctx, "homes", hw, hl, 3);
  pm_features *fac[3] = {facility(ctx, "schools", "POINT(600 0)"),
                         facility(ctx, "clinics", "POINT(0 0)"),
                         facility(ctx, "markets", "POINT(1900 0)")};
  pm_districts *d = pm_test_no_districts(ctx);
  const char *distances[] = {"euclidean", "network"};
  for (int k = 0; k < 2; k++) {
    int walk = k == 1;
    /* require all: nobody has a market within 300 m */
    pm_indicator_spec s = spec_lc(ctx, "all", distances[k]);
    pm_indicator_result out = {0};
    assert_int_equal(pm_life_circle(ctx, &s, homes, (const pm_features *const *)fac, 3,
                                    walk ? net : NULL, d, &out), PM_OK);
    const pm_result *r = &out.results[0];
    assert_near(r->denominator, 3, 0);
    assert_near(r->numerator, 0, 0);
    assert_int_equal(r->n_facilities, 3);
    /* straight lines: H3 is 500 m from the school (100, 500)-(600, 0) is 707 m: no; the clinic
     * (0, 0) 510 m: yes. Walking: H3 is unroutable and served by nothing. */
    assert_near(share(r, "school")->numerator, 2, 0); /* H1 at exactly 500 m, H2 */
    assert_near(share(r, "clinic")->numerator, walk ? 2 : 3, 0);
    assert_near(share(r, "market")->numerator, 0, 0);
    for (size_t t = 0; t < r->n_facilities; t++) /* require: all <= every type's share */
      assert_true(r->value <= r->facilities[t].value + 1e-12);
    const pm_gap *g1 = NULL;
    for (size_t g = 0; g < r->n_gaps; g++)
      if (strcmp(r->gaps[g].name, "H1") == 0) g1 = &r->gaps[g];
    assert_non_null(g1);
    assert_string_equal(g1->nearest, "market");
    assert_near(g1->distance_m, 1800, 1e-9);
    assert_non_null(strstr(g1->note, "market 1800 m"));
    if (walk) {
      assert_non_null(out.network);
      assert_non_null(strstr(out.network, "\"homes\": 1"));
      /* H3's gap says why it is unroutable: how far it is from the network, against max_snap_m */
      const pm_gap *g3 = NULL;
      for (size_t g = 0; g < r->n_gaps; g++)
        if (strcmp(r->gaps[g].name, "H3") == 0) g3 = &r->gaps[g];
      assert_non_null(g3);
      assert_contains(g3->note, "unroutable: 500 m from the walking network (max_snap_m ");
    }
    pm_indicator_result_clear(&out);
    pm_indicator_spec_clear(&s);

    /* require 2: H1 and H2 have a school and a clinic */
    s = spec_lc(ctx, "2", distances[k]);
      assert_int_equal(pm_life_circle(ctx, &s, homes, (const pm_features *const *)fac, 3,
                                    walk ? net : NULL, d, &out), PM_OK);
    assert_near(out.results[0].numerator, 2, 0); /* H3: only the clinic, straight; unroutable walking */
    pm_indicator_result_clear(&out);
    pm_indicator_spec_clear(&s);
  }
  /* require beyond the number of types is refused: in a plan, and by the metric for a spec set in
   * code */
  pm_indicator_spec s;
  assert_int_equal(pm_test_spec_parse(ctx, &s,
                                      "{id: life, metric: life_circle, homes: homes, require: 4, "
                                      "distance: euclidean, facilities: [{name: school, layer: "
                                      "schools, within_m: 500}]}"),
                   PM_EINPUT);
  assert_contains(pm_context_message(ctx), "require '4' must be all or a whole number from 1 to 1");
  s = spec_lc(ctx, "all", "euclidean");
  assert_int_equal(pm_indicator_spec_set(ctx, &s, "require", "4"), PM_OK);
  pm_indicator_result out = {0};
  assert_int_equal(pm_life_circle(ctx, &s, homes, (const pm_features *const *)fac, 3, NULL, d, &out),
                   PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "require"));
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  for (int i = 0; i < 3; i++) pm_features_destroy(ctx, fac[i]);
  pm_features_destroy(ctx, homes);
  pm_features_destroy(ctx, streets);
  pm_network_destroy(ctx, net);
  pm_districts_destroy(ctx, d);
}

/* Polygon homes weigh their area, taken at their representative point. */
static void test_polygon_weights(void **state) {
  pm_context *ctx = *state;
  const char *hw[] = {"POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", "POLYGON((900 0, 930 0, 930 10, 900 10, 900 0))"};
  pm_features *homes = pm_test_wkt(ctx, "homes", hw, NULL, 2);
  pm_features *fac[3] = {facility(ctx, "schools", "POINT(5 20)"),
                         facility(ctx, "clinics", "POINT(5 20)"),
                         facility(ctx, "markets", "POINT(5 20)")};
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = spec_lc(ctx, "all", "euclidean");
  pm_indicator_result out = {0};
  assert_int_equal(pm_life_circle(ctx, &s, homes, (const pm_features *const *)fac, 3, NULL, d, &out),
                   PM_OK);
  assert_near(out.results[0].numerator, 100, 1e-9);    /* the 10 x 10 home */
  assert_near(out.results[0].denominator, 400, 1e-9);  /* + the 30 x 10 one */
  assert_near(out.results[0].value, 25, 1e-9);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  for (int i = 0; i < 3; i++) pm_features_destroy(ctx, fac[i]);
  pm_features_destroy(ctx, homes);
  pm_districts_destroy(ctx, d);
}

/* A type whose layer selects nothing is lacked by every home, and the run says so. */
static void test_empty_type_notice(void **state) {
  pm_context *ctx = *state;
  pm_test_notices notices;
  pm_test_collect_notices(ctx, &notices);
  const char *hw[] = {"POINT(100 0)"};
  pm_features *homes = pm_test_wkt(ctx, "homes", hw, NULL, 1);
  pm_features *fac[3] = {facility(ctx, "schools", "POINT(600 0)"),
                         facility(ctx, "clinics", "POINT(0 0)"),
                         pm_test_wkt(ctx, "markets", NULL, NULL, 0)};
  assert_int_equal(pm_features_index(ctx, fac[2]), PM_OK);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec s = spec_lc(ctx, "2", "euclidean");
  pm_indicator_result out = {0};
  assert_int_equal(pm_life_circle(ctx, &s, homes, (const pm_features *const *)fac, 3, NULL, d, &out),
                   PM_OK);
  assert_near(out.results[0].numerator, 1, 0); /* school and clinic: 2 of 3 */
  assert_near(share(&out.results[0], "market")->numerator, 0, 0);
  assert_contains(notices.text, "facility type 'market' selects no features");
  assert_lacks(notices.text, "'school'");
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&s);
  for (int i = 0; i < 3; i++) pm_features_destroy(ctx, fac[i]);
  pm_features_destroy(ctx, homes);
  pm_districts_destroy(ctx, d);
  pm_context_set_notice(ctx, NULL, NULL);
}

/* Many homes (several chunks of homes and of facilities), two districts, walked: one thread and
 * two give the same result to the last bit, gaps and details in the same order; the served
 * weight is the sum of the served homes' areas in feature order. */
static uint64_t rng = 88172645463325252ULL;
static double rnd(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static char *fmt(const char *f, double a, double b, double c, double d) {
  char buf[256];
  snprintf(buf, sizeof buf, f, a, b, c, d);
  return strdup(buf);
}

static void test_threads_same(void **state) {
  (void)state;
  pm_context *ctx = NULL;
  assert_int_equal(pm_context_create(&ctx), PM_OK);
  GEOSContextHandle_t h = pm_context_geos(ctx);
  enum { G = 21, NH = 5000, NF = 3000 };
  /* a street grid of 100 m blocks, 0..2000 m, one line per block side */
  char *sw[2 * G * G];
  size_t ns = 0;
  for (int i = 0; i < G; i++)
    for (int j = 0; j < G; j++) {
      if (i + 1 < G) sw[ns++] = fmt("LINESTRING(%g %g, %g %g)", i * 100, j * 100, (i + 1) * 100, j * 100);
      if (j + 1 < G) sw[ns++] = fmt("LINESTRING(%g %g, %g %g)", i * 100, j * 100, i * 100, (j + 1) * 100);
    }
  pm_features *streets = pm_test_wkt(ctx, "streets", (const char *const *)sw, NULL, ns);
  pm_network_options opt;
  pm_network_options_init(&opt);
  pm_network *net = NULL;
  assert_int_equal(pm_network_build(ctx, streets, &opt, &net), PM_OK);
  /* homes: small squares anywhere on the grid; facilities: points of three kinds, few of the
   * last, so that many homes lack something */
  char *hw[NH], *fw[3][NF];
  for (int i = 0; i < NH; i++) {
    double x = rnd() * 2000, y = rnd() * 2000, a = 5 + rnd() * 20;
    char buf[256];
    snprintf(buf, sizeof buf, "POLYGON((%.3f %.3f, %.3f %.3f, %.3f %.3f, %.3f %.3f, %.3f %.3f))", x, y,
             x + a, y, x + a, y + a, x, y + a, x, y);
    hw[i] = strdup(buf);
  }
  size_t nf[3] = {NF, NF / 10, NF / 40};
  pm_features *fac[3];
  const char *layers[] = {"schools", "clinics", "markets"};
  for (int t = 0; t < 3; t++) {
    for (size_t i = 0; i < nf[t]; i++) fw[t][i] = fmt("POINT(%.3f %.3f)", rnd() * 2000, rnd() * 2000, 0, 0);
    fac[t] = pm_test_wkt(ctx, layers[t], (const char *const *)fw[t], NULL, nf[t]);
    assert_int_equal(pm_features_index(ctx, fac[t]), PM_OK);
  }
  pm_features *homes = pm_test_wkt(ctx, "homes", (const char *const *)hw, NULL, NH);
  const char *dw[] = {"POLYGON((-100 -100, 1000 -100, 1000 2100, -100 2100, -100 -100))",
                      "POLYGON((1000 -100, 2100 -100, 2100 2100, 1000 2100, 1000 -100))"};
  const char *dn[] = {"West", "East"};
  pm_districts *d = pm_test_districts_wkt(ctx, dw, dn, 2);
  pm_indicator_spec s = spec_lc(ctx, "all", "network");
  pm_indicator_result out[2] = {{0}, {0}};
  for (int k = 0; k < 2; k++) {
    pm_context_set_threads(ctx, k + 1);
    assert_int_equal(pm_life_circle(ctx, &s, homes, (const pm_features *const *)fac, 3, net, d, &out[k]),
                     PM_OK);
  }
  pm_context_set_threads(ctx, 1);
  assert_int_equal(out[0].n_results, 3);
  for (size_t j = 0; j < out[0].n_results; j++) {
    const pm_result *a = &out[0].results[j], *b = &out[1].results[j];
    assert_memory_equal(&a->numerator, &b->numerator, sizeof(double));
    assert_memory_equal(&a->denominator, &b->denominator, sizeof(double));
    assert_int_equal(a->n_facilities, 3);
    for (size_t t = 0; t < 3; t++)
      assert_memory_equal(&a->facilities[t].numerator, &b->facilities[t].numerator, sizeof(double));
    assert_int_equal(a->n_gaps, b->n_gaps);
    assert_true(a->n_gaps > 0);
    for (size_t g = 0; g < a->n_gaps; g++) {
      assert_string_equal(a->gaps[g].id, b->gaps[g].id);
      assert_string_equal(a->gaps[g].note, b->gaps[g].note);
      assert_memory_equal(&a->gaps[g].distance_m, &b->gaps[g].distance_m, sizeof(double));
    }
  }
  assert_true(out[0].results[2].numerator > 0 && out[0].results[2].numerator < out[0].results[2].denominator);
  /* details: every facility (in entry order), then every home in feature order */
  size_t nfac = nf[0] + nf[1] + nf[2];
  assert_int_equal(out[0].n_details, nfac + NH);
  assert_int_equal(out[1].n_details, nfac + NH);
  double served = 0, all = 0;
  for (size_t i = 0; i < out[0].n_details; i++) {
    const pm_detail *a = &out[0].details[i], *b = &out[1].details[i];
    assert_string_equal(a->role, b->role);
    assert_string_equal(a->id, b->id);
    assert_int_equal(a->covered, b->covered);
    assert_int_equal(a->wkb_len, b->wkb_len);
    assert_memory_equal(a->wkb, b->wkb, a->wkb_len);
    assert_string_equal(a->role, i < nfac ? "facility" : "home");
    if (i < nfac) continue;
    char *id = NULL;
    assert_int_equal(pm_features_id(ctx, homes, i - nfac, &id), PM_OK);
    assert_string_equal(a->id, id);
    free(id);
    double area = 0;
    assert_int_equal(GEOSArea_r(h, homes->geom[i - nfac], &area), 1);
    all += area;
    if (a->covered == 1) served += area;
  }
  /* `_all` sums every home (all lie in the districts), in feature order */
  assert_memory_equal(&out[0].results[2].numerator, &served, sizeof served);
  assert_memory_equal(&out[0].results[2].denominator, &all, sizeof all);
  for (int k = 0; k < 2; k++) pm_indicator_result_clear(&out[k]);
  pm_indicator_spec_clear(&s);
  for (int t = 0; t < 3; t++) {
    pm_features_destroy(ctx, fac[t]);
    for (size_t i = 0; i < nf[t]; i++) free(fw[t][i]);
  }
  for (int i = 0; i < NH; i++) free(hw[i]);
  for (size_t i = 0; i < ns; i++) free(sw[i]);
  pm_features_destroy(ctx, homes);
  pm_features_destroy(ctx, streets);
  pm_network_destroy(ctx, net);
  pm_districts_destroy(ctx, d);
  pm_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_require_and_boundaries),
      cmocka_unit_test(test_empty_type_notice),
      cmocka_unit_test(test_polygon_weights),
      cmocka_unit_test(test_threads_same),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
