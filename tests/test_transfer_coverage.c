/* test_transfer_coverage.c: hand-computable cases for the transfer_coverage metric (METRICS.md §2).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* Districts, where a case has them: A x 0..1000 and B x 1000..2000, both y 0..1000, sharing the
 * line x = 1000. */
#define TWO_DISTRICTS(ctx) pm_test_two_districts((ctx), 1000, 0, 1000)

/* The indicator as the plan writes it (the registry's defaults: threshold 50 m, catchment 300 m,
 * basis station), less its closing brace: each case adds its keys. */
#define SPEC                                                                                       \
  "{id: transfer_50m, title: 轨道交通和公共交通换乘距离在50米以内的占比, "                         \
  "metric: transfer_coverage, from: stations, to: stops"

/* A stop at exactly 50.0 m is within 50 m; one at 50.01 m is not. */
static void test_threshold_inclusive(void **state) {
  pm_context *ctx = *state;
  const char *sw[] = {"POINT(100 100)", "POINT(100 500)"};
  const char *sl[] = {"甲站", "乙站"};
  const char *pw[] = {"POINT(150 100)", "POINT(150.01 500)"};
  const char *pl[] = {"P1", "P2"};
  pm_features *st = pm_test_wkt(ctx, "stations", sw, sl, 2);
  pm_features *sp = pm_test_wkt(ctx, "stops", pw, pl, 2);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC "}");
  pm_indicator_result ir = {0};
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_OK);
  assert_string_equal(ir.id, "transfer_50m");
  assert_string_equal(ir.unit, "%");
  assert_int_equal(ir.n_results, 1);
  const pm_result *all = &ir.results[0];
  assert_string_equal(all->district, "_all");
  assert_true(all->has_value);
  assert_true(all->has_ratio);
  assert_near(all->numerator, 1, 0);
  assert_near(all->denominator, 2, 0);
  assert_near(all->value, 50.0, 1e-9);
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(all->gaps[0].name, "乙站");
  assert_near(all->gaps[0].distance_m, 50.01, 1e-9);
  assert_string_equal(all->gaps[0].nearest, "P2");
  assert_near(all->gaps[0].x, 100, 0);
  assert_near(all->gaps[0].y, 500, 0);
  assert_int_equal(pm_test_n_role(&ir, "station"), 2);
  assert_int_equal(pm_test_n_role(&ir, "segment"), 2);
  assert_int_equal(pm_test_detail_named(&ir, "station", "甲站")->covered, 1);
  assert_near(pm_test_detail_named(&ir, "station", "甲站")->distance_m, 50.0, 0);
  assert_int_equal(pm_test_detail_named(&ir, "station", "乙站")->covered, 0);
  assert_false(all->has_target);
  pm_indicator_result_clear(&ir);
  pm_features_destroy(ctx, st);
  pm_features_destroy(ctx, sp);
  pm_districts_destroy(ctx, d);
  pm_indicator_spec_clear(&spec);
}

/* Three entrances: the entrance nearest to a stop decides, not the station point (200 m away). */
static void test_three_entrances(void **state) {
  pm_context *ctx = *state;
  const char *sw[] = {"POINT(500 500)"};
  const char *sl[] = {"S"};
  const char *pw[] = {"POINT(700 500)"};
  const char *pl[] = {"P"};
  /* E1 is 233.2 m from P, E2 60 m, E3 45 m. */
  const char *ew[] = {"POINT(500 620)", "POINT(640 500)", "POINT(655 500)"};
  pm_features *st = pm_test_wkt(ctx, "stations", sw, sl, 1);
  pm_features *sp = pm_test_wkt(ctx, "stops", pw, pl, 1);
  pm_features *en3 = pm_test_wkt(ctx, "entrances", ew, NULL, 3),
              *en2 = pm_test_wkt(ctx, "entrances", ew, NULL, 2);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", entrances: entrances}");
  pm_indicator_result ir = {0};

  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, en3, NULL, d, &ir), PM_OK);
  assert_near(ir.results[0].value, 100, 1e-9);
  assert_int_equal(ir.results[0].n_gaps, 0);
  const pm_detail *sd = pm_test_detail_named(&ir, "station", "S");
  assert_near(sd->distance_m, 45, 1e-9);
  assert_string_equal(sd->nearest, "P");
  assert_int_equal(pm_test_n_role(&ir, "segment"), 1);
  pm_indicator_result_clear(&ir);

  /* Without E3 the nearest entrance is 60 m away: a gap of 60 m, not the station point's 200 m. */
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, en2, NULL, d, &ir), PM_OK);
  assert_near(ir.results[0].value, 0, 1e-9);
  assert_int_equal(ir.results[0].n_gaps, 1);
  assert_near(ir.results[0].gaps[0].distance_m, 60, 1e-9);
  pm_indicator_result_clear(&ir);

  /* Without entrances the station point is the access point. */
  pm_indicator_spec_clear(&spec);
  spec = pm_test_spec(ctx, SPEC "}");
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_OK);
  assert_near(ir.results[0].gaps[0].distance_m, 200, 1e-9);
  pm_indicator_result_clear(&ir);

  pm_features_destroy(ctx, st);
  pm_features_destroy(ctx, sp);
  pm_features_destroy(ctx, en3);
  pm_features_destroy(ctx, en2);
  pm_districts_destroy(ctx, d);
  pm_indicator_spec_clear(&spec);
}

/* An entrance named after a station belongs to it even when another station is nearer. */
static void test_entrance_station_field(void **state) {
  pm_context *ctx = *state;
  const char *sw[] = {"POINT(100 100)", "POINT(300 100)"};
  const char *sl[] = {"甲站", "乙站"};
  const char *pw[] = {"POINT(240 100)"};
  const char *pl[] = {"P"};
  const char *ew[] = {"POINT(280 100)"}; /* 180 m from 甲站, 20 m from 乙站, 40 m from P */
  const char *named[] = {"甲站"}, *unknown[] = {"丙站"};
  pm_features *st = pm_test_wkt(ctx, "stations", sw, sl, 2);
  pm_features *sp = pm_test_wkt(ctx, "stops", pw, pl, 1);
  pm_features *en = pm_test_wkt(ctx, "entrances", ew, NULL, 1),
              *en_unknown = pm_test_wkt(ctx, "entrances", ew, NULL, 1);
  assert_int_equal(pm_features_add_attr(ctx, en, "station", named), PM_OK);
  assert_int_equal(pm_features_add_attr(ctx, en_unknown, "station", unknown), PM_OK);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec spec =
      pm_test_spec(ctx, SPEC ", entrances: entrances, entrance_station_field: station}");
  pm_indicator_result ir = {0};

  /* 甲站 reaches P from the entrance (40 m); 乙站 keeps its own point (60 m). */
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, en, NULL, d, &ir), PM_OK);
  assert_near(ir.results[0].numerator, 1, 0);
  assert_int_equal(ir.results[0].n_gaps, 1);
  assert_string_equal(ir.results[0].gaps[0].name, "乙站");
  assert_near(ir.results[0].gaps[0].distance_m, 60, 1e-9);
  pm_indicator_result_clear(&ir);

  /* A name that matches no station: the entrance goes to the nearest station (乙站). */
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, en_unknown, NULL, d, &ir), PM_OK);
  assert_int_equal(ir.results[0].n_gaps, 1);
  assert_string_equal(ir.results[0].gaps[0].name, "甲站");
  assert_near(ir.results[0].gaps[0].distance_m, 140, 1e-9);
  pm_indicator_result_clear(&ir);

  /* Without the field the same happens. */
  pm_indicator_spec_clear(&spec);
  spec = pm_test_spec(ctx, SPEC ", entrances: entrances}");
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, en, NULL, d, &ir), PM_OK);
  assert_int_equal(ir.results[0].n_gaps, 1);
  assert_string_equal(ir.results[0].gaps[0].name, "甲站");
  pm_indicator_result_clear(&ir);

  /* A field the entrances do not have is an error, not a silent fallback. */
  assert_int_equal(pm_indicator_spec_set(ctx, &spec, "entrance_station_field", "no_such_field"), PM_OK);
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, en, NULL, d, &ir), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "no_such_field"));
  pm_indicator_result_clear(&ir);

  pm_features_destroy(ctx, st);
  pm_features_destroy(ctx, sp);
  pm_features_destroy(ctx, en);
  pm_features_destroy(ctx, en_unknown);
  pm_districts_destroy(ctx, d);
  pm_indicator_spec_clear(&spec);
}

/* Route 1路 stops on both sides of the station (40 m and 70 m): one pair at 40 m. */
static void test_route_basis(void **state) {
  pm_context *ctx = *state;
  const char *sw[] = {"POINT(500 500)"};
  const char *sl[] = {"S"};
  const char *pw[] = {"POINT(460 500)", "POINT(570 500)", "POINT(500 620)", "POINT(500 900)",
                      "POINT(440 500)"};
  const char *pl[] = {"P1", "P2", "P3", "P4", "P5"};
  /* P2's route has a leading ideographic space (U+3000); P4 is 400 m away, beyond catchment. */
  const char *routes[] = {"1路; 2路 ;",
                          "\xE3\x80\x80"
                          "1路",
                          "3路", "4路", NULL};
  pm_features *st = pm_test_wkt(ctx, "stations", sw, sl, 1);
  pm_features *sp = pm_test_wkt(ctx, "stops", pw, pl, 5);
  assert_int_equal(pm_features_add_attr(ctx, sp, "routes", routes), PM_OK);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", basis: route, routes_field: routes}");
  pm_indicator_result ir = {0};

  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_OK);
  const pm_result *all = &ir.results[0];
  assert_near(all->numerator, 2, 0); /* (S,1路) 40 m, (S,2路) 40 m */
  assert_near(all->denominator, 3, 0);
  assert_near(all->value, 200.0 / 3.0, 1e-9);
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(all->gaps[0].id, "S|3路");
  assert_near(all->gaps[0].distance_m, 120, 1e-9);
  assert_string_equal(all->gaps[0].nearest, "P3");
  assert_int_equal(pm_test_n_role(&ir, "pair"), 3);
  const pm_detail *p1 = pm_test_detail_named(&ir, "pair", "1路");
  assert_near(p1->distance_m, 40, 1e-9);
  assert_string_equal(p1->nearest, "P1");
  assert_int_equal(p1->covered, 1);
  pm_indicator_result_clear(&ir);

  /* Another separator. */
  const char *routes2[] = {"1路/2路", "1路", "3路", "4路", NULL};
  pm_features *sp2 = pm_test_wkt(ctx, "stops", pw, pl, 5);
  assert_int_equal(pm_features_add_attr(ctx, sp2, "routes", routes2), PM_OK);
  pm_indicator_spec_clear(&spec);
  spec = pm_test_spec(ctx, SPEC ", basis: route, routes_field: routes, routes_sep: /}");
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp2, NULL, NULL, d, &ir), PM_OK);
  assert_near(ir.results[0].denominator, 3, 0);
  pm_indicator_result_clear(&ir);

  /* Errors a planner can fix: basis route without routes_field, refused in a plan and by the
   * metric for a spec built without the parser (routes_field taken away by hand)... */
  pm_indicator_spec bad;
  assert_int_equal(pm_test_spec_parse(ctx, &bad, SPEC ", basis: route}"), PM_EINPUT);
  assert_contains(pm_context_message(ctx), "basis route needs 'routes_field'");
  free(spec.routes_field);
  spec.routes_field = NULL;
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "routes_field"));
  pm_indicator_result_clear(&ir);
  /* ...a field the stops do not have... */
  assert_int_equal(pm_indicator_spec_set(ctx, &spec, "routes_field", "lines"), PM_OK);
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "lines"));
  pm_indicator_result_clear(&ir);
  /* ...and a basis that does not exist: the registry refuses it, and so does the metric for a
   * spec built by hand */
  assert_int_equal(pm_indicator_spec_set(ctx, &spec, "basis", "line"), PM_EINPUT);
  free(spec.basis);
  spec.basis = strdup("line");
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "basis"));
  pm_indicator_result_clear(&ir);

  pm_features_destroy(ctx, st);
  pm_features_destroy(ctx, sp);
  pm_features_destroy(ctx, sp2);
  pm_districts_destroy(ctx, d);
  pm_indicator_spec_clear(&spec);
}

/* A stop in the catchment of a station in A and of one in B counts in both, once in _all. */
static void test_stop_basis_two_districts(void **state) {
  pm_context *ctx = *state;
  const char *sw[] = {"POINT(900 500)", "POINT(1200 500)"};
  const char *sl[] = {"SA", "SB"};
  /* P: 150 m from both; Q: 20 m from SA, 320 m from SB; T: 400 m from SB. */
  const char *pw[] = {"POINT(1050 500)", "POINT(880 500)", "POINT(1600 500)"};
  const char *pl[] = {"P", "Q", "T"};
  pm_features *st = pm_test_wkt(ctx, "stations", sw, sl, 2);
  pm_features *sp = pm_test_wkt(ctx, "stops", pw, pl, 3);
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", basis: stop}");
  pm_indicator_result ir = {0};
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_OK);
  assert_int_equal(ir.n_results, 3);
  assert_string_equal(ir.results[0].district, "A");
  assert_string_equal(ir.results[1].district, "B");
  assert_string_equal(ir.results[2].district, "_all");
  const pm_result *a = pm_test_result(&ir, "A"), *b = pm_test_result(&ir, "B"), *all = pm_test_result(&ir, "_all");
  assert_near(a->numerator, 1, 0);
  assert_near(a->denominator, 2, 0);
  assert_near(a->value, 50, 1e-9);
  assert_near(b->numerator, 0, 0);
  assert_near(b->denominator, 1, 0);
  assert_near(b->value, 0, 1e-9);
  assert_near(all->numerator, 1, 0);
  assert_near(all->denominator, 2, 0);
  assert_int_equal(a->n_gaps, 1);
  assert_int_equal(b->n_gaps, 1);
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(b->gaps[0].name, "P");
  assert_string_equal(b->gaps[0].district, "B");
  assert_near(all->gaps[0].distance_m, 150, 1e-9);
  assert_string_equal(all->gaps[0].nearest, "SA"); /* a tie between SA and SB: the first */
  assert_int_equal(pm_test_n_role(&ir, "stop"), 2);
  pm_indicator_result_clear(&ir);
  pm_features_destroy(ctx, st);
  pm_features_destroy(ctx, sp);
  pm_districts_destroy(ctx, d);
  pm_indicator_spec_clear(&spec);
}

/* A station on the A|B boundary counts in both districts and once in _all; a station outside
 * every district counts nowhere; the target is applied per result. */
static void test_boundary_station_and_target(void **state) {
  pm_context *ctx = *state;
  const char *sw[] = {"POINT(1000 500)", "POINT(200 200)", "POINT(5000 5000)"};
  const char *sl[] = {"S", "F", "X"};
  const char *pw[] = {"POINT(1030 500)", "POINT(200 800)"};
  const char *pl[] = {"P1", "P2"};
  pm_features *st = pm_test_wkt(ctx, "stations", sw, sl, 3);
  pm_features *sp = pm_test_wkt(ctx, "stops", pw, pl, 2);
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", target: \">= 100\"}");
  pm_indicator_result ir = {0};
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_OK);
  const pm_result *a = pm_test_result(&ir, "A"), *b = pm_test_result(&ir, "B"), *all = pm_test_result(&ir, "_all");
  assert_near(a->denominator, 2, 0);
  assert_near(a->value, 50, 1e-9);
  assert_near(b->denominator, 1, 0);
  assert_near(b->value, 100, 1e-9);
  assert_near(all->denominator, 2, 0);
  assert_near(all->value, 50, 1e-9);
  assert_true(a->has_target);
  assert_near(a->target, 100, 0);
  assert_false(a->met);
  assert_true(b->met);
  assert_false(all->met);
  assert_int_equal(a->n_gaps, 1);
  assert_string_equal(a->gaps[0].name, "F");
  assert_near(a->gaps[0].distance_m, 600, 1e-9);
  assert_string_equal(a->gaps[0].nearest, "P2");
  assert_int_equal(b->n_gaps, 0);
  assert_int_equal(all->n_gaps, 1);
  assert_string_equal(all->gaps[0].district, "A");
  assert_int_equal(pm_test_n_role(&ir, "station"), 2); /* X lies outside the plan area */
  pm_indicator_result_clear(&ir);
  pm_features_destroy(ctx, st);
  pm_features_destroy(ctx, sp);
  pm_districts_destroy(ctx, d);
  pm_indicator_spec_clear(&spec);
}

/* A district without stations has a null value and says why; no stops at all gives 0 %. */
static void test_empty_denominator(void **state) {
  pm_context *ctx = *state;
  const char *sw[] = {"POINT(200 200)"};
  const char *sl[] = {"F"};
  pm_features *st = pm_test_wkt(ctx, "stations", sw, sl, 1);
  pm_features *sp = pm_test_wkt(ctx, "stops", NULL, NULL, 0);
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC ", target: \">= 90\"}");
  pm_indicator_result ir = {0};
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_OK);
  const pm_result *a = pm_test_result(&ir, "A"), *b = pm_test_result(&ir, "B");
  assert_false(b->has_value);
  assert_non_null(b->null_reason);
  assert_non_null(strstr(b->null_reason, "no rail stations in B"));
  assert_false(b->met);
  assert_true(a->has_value);
  assert_near(a->value, 0, 0);
  assert_int_equal(a->n_gaps, 1);
  assert_true(isnan(a->gaps[0].distance_m));
  assert_null(a->gaps[0].nearest);
  pm_indicator_result_clear(&ir);

  pm_indicator_spec_clear(&spec);
  spec = pm_test_spec(ctx, SPEC ", basis: stop, target: \">= 90\"}");
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_OK);
  assert_false(pm_test_result(&ir, "A")->has_value);
  assert_non_null(strstr(pm_test_result(&ir, "A")->null_reason, "no bus stops within 300 m"));
  pm_indicator_result_clear(&ir);
  pm_features_destroy(ctx, st);
  pm_features_destroy(ctx, sp);
  pm_districts_destroy(ctx, d);
  pm_indicator_spec_clear(&spec);
}

/* Gaps come worst first: 200 m, 90 m, 60 m. */
static void test_gaps_sorted(void **state) {
  pm_context *ctx = *state;
  const char *sw[] = {"POINT(100 100)", "POINT(100 400)", "POINT(100 700)"};
  const char *sl[] = {"S1", "S2", "S3"};
  const char *pw[] = {"POINT(160 100)", "POINT(300 400)", "POINT(190 700)"};
  pm_features *st = pm_test_wkt(ctx, "stations", sw, sl, 3);
  pm_features *sp = pm_test_wkt(ctx, "stops", pw, NULL, 3);
  assert_int_equal(pm_features_index(ctx, sp), PM_OK); /* the caller's index is used as it is */
  pm_districts *d = TWO_DISTRICTS(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC "}");
  pm_indicator_result ir = {0};
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_OK);
  const pm_result *a = pm_test_result(&ir, "A");
  assert_int_equal(a->n_gaps, 3);
  assert_string_equal(a->gaps[0].name, "S2");
  assert_near(a->gaps[0].distance_m, 200, 1e-9);
  assert_string_equal(a->gaps[1].name, "S3");
  assert_near(a->gaps[1].distance_m, 90, 1e-9);
  assert_string_equal(a->gaps[2].name, "S1");
  assert_near(a->gaps[2].distance_m, 60, 1e-9);
  assert_non_null(a->gaps[0].nearest); /* unlabelled stops are named by their id */
  assert_near(a->value, 0, 0);
  assert_int_equal(pm_test_result(&ir, "_all")->n_gaps, 3);
  pm_indicator_result_clear(&ir);
  pm_features_destroy(ctx, st);
  pm_features_destroy(ctx, sp);
  pm_districts_destroy(ctx, d);
  pm_indicator_spec_clear(&spec);
}

/* distance: network. Two streets 40 m apart (y 0 and y 40) join only at x = 500. Station S1
 * (0, -5) has stop P1 (0, 45) 50 m away in a straight line, across the barrier: 5 + 500 + 40 +
 * 500 + 5 = 1050 m walked. Stop P2 (200, -5) is 200 m away, 5 + 200 + 5 = 210 m walked: S1's
 * nearest stop along the network, beyond 50 m. S2 (0, -300) is 300 m from every street: farther
 * than max_snap_m (100 m), unroutable: it counts and never passes. Straight lines: S1 passes. */
static void test_network_barrier(void **state) {
  pm_context *ctx = *state;
  const char *rw[] = {"LINESTRING(-500 0, 500 0)", "LINESTRING(-500 40, 500 40)",
                      "LINESTRING(500 0, 500 40)"};
  pm_features *roads = pm_test_wkt(ctx, "roads", rw, NULL, 3);
  pm_network_options opt;
  pm_network_options_init(&opt);
  pm_network *net = NULL;
  assert_int_equal(pm_network_build(ctx, roads, &opt, &net), PM_OK);
  const char *sw[] = {"POINT(0 -5)", "POINT(0 -300)"}, *sl[] = {"S1", "S2"};
  const char *pw[] = {"POINT(0 45)", "POINT(200 -5)"}, *pl[] = {"P1", "P2"};
  pm_features *st = pm_test_wkt(ctx, "stations", sw, sl, 2);
  pm_features *sp = pm_test_wkt(ctx, "stops", pw, pl, 2);
  pm_districts *d = pm_test_no_districts(ctx);
  pm_indicator_spec spec = pm_test_spec(ctx, SPEC "}");
  pm_indicator_result ir = {0};
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, NULL, d, &ir), PM_OK);
  assert_near(ir.results[0].value, 50, 1e-9); /* straight lines: S1 passes (50 m, inclusive) */
  assert_string_equal(ir.distance, "euclidean");
  pm_indicator_result_clear(&ir);
  pm_indicator_spec_clear(&spec);

  spec = pm_test_spec(ctx, SPEC ", distance: network, network: roads}");
  assert_int_equal(pm_transfer_coverage(ctx, &spec, st, sp, NULL, net, d, &ir), PM_OK);
  const pm_result *all = &ir.results[0];
  assert_near(all->denominator, 2, 0); /* the unroutable station counts */
  assert_near(all->numerator, 0, 0);
  assert_int_equal(all->n_gaps, 2);
  const pm_gap *g1 = strcmp(all->gaps[0].name, "S1") == 0 ? &all->gaps[0] : &all->gaps[1];
  const pm_gap *g2 = g1 == &all->gaps[0] ? &all->gaps[1] : &all->gaps[0];
  assert_near(g1->distance_m, 210, 1e-9); /* walked, to the nearest stop along the network */
  assert_near(g1->straight_m, 200, 1e-9);
  assert_string_equal(g1->nearest, "P2");
  assert_string_equal(g2->name, "S2");
  assert_false(isfinite(g2->distance_m));
  assert_non_null(g2->note);
  assert_non_null(strstr(g2->note, "unroutable"));
  assert_string_equal(ir.distance, "network");
  assert_non_null(ir.network);
  assert_non_null(strstr(ir.network, "\"unroutable\": {\"stations\": 1, \"stops\": 0}"));
  /* the station's segment is the walked path: 5 + 200 + 5 m */
  assert_int_equal(pm_test_n_role(&ir, "segment"), 1);
  assert_near(pm_test_detail_length(ctx, pm_test_detail(&ir, "segment", 0)), 210, 1e-9);
  pm_indicator_result_clear(&ir);
  pm_indicator_spec_clear(&spec);
  pm_network_destroy(ctx, net);
  pm_features_destroy(ctx, roads);
  pm_features_destroy(ctx, st);
  pm_features_destroy(ctx, sp);
  pm_districts_destroy(ctx, d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_threshold_inclusive),
      cmocka_unit_test(test_three_entrances),
      cmocka_unit_test(test_entrance_station_field),
      cmocka_unit_test(test_route_basis),
      cmocka_unit_test(test_stop_basis_two_districts),
      cmocka_unit_test(test_boundary_station_and_target),
      cmocka_unit_test(test_empty_denominator),
      cmocka_unit_test(test_gaps_sorted),
      cmocka_unit_test(test_network_barrier),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
