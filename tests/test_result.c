/* test_result.c: engine/result.c: result slots, gaps (copied, and sorted worst first), shares and
 * empty denominators, targets and their tolerance, classes, facility shares, details and their
 * WKB, merging partial results (ownership moves), the "no data" result, clearing. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

static const char *const SLOTS[] = {"青浦区", "松江区", "_all"};

/* Slots are named after the districts (copied), every number NAN and nothing set. */
static void test_init_results(void **state) {
  pm_context *ctx = *state;
  pm_indicator_result ir = {0};
  char name[] = "青浦区";
  const char *names[] = {name, "_all"};
  assert_int_equal(pm_indicator_result_init_results(ctx, &ir, names, 2), PM_OK);
  name[0] = 'X';
  assert_int_equal(ir.n_results, 2);
  assert_string_equal(ir.results[0].district, "青浦区");
  assert_string_equal(ir.results[1].district, "_all");
  for (size_t i = 0; i < 2; i++) {
    const pm_result *r = &ir.results[i];
    assert_true(isnan(r->value) && isnan(r->numerator) && isnan(r->denominator) &&
                isnan(r->target));
    assert_false(r->has_value || r->has_ratio || r->has_target || r->met);
    assert_null(r->null_reason);
    assert_int_equal(r->n_gaps + r->n_classes + r->n_facilities, 0);
  }
  pm_indicator_result_clear(&ir);
  assert_null(ir.results);
  assert_int_equal(ir.n_results, 0);

  assert_int_equal(pm_indicator_result_init_results(ctx, &ir, NULL, 0), PM_OK);
  assert_int_equal(ir.n_results, 0);
  pm_indicator_result_clear(&ir);
}

/* A gap keeps copies of its strings (any may be NULL) and its numbers; the straight distance is
 * NAN until a network measure sets it. Many gaps stay in order. */
static void test_gaps_copied(void **state) {
  pm_context *ctx = *state;
  pm_indicator_result ir = {0};
  assert_int_equal(pm_indicator_result_init_results(ctx, &ir, SLOTS, 3), PM_OK);
  pm_result *r = &ir.results[0];
  char id[] = "metro_stations#7", name[] = "赵巷", nearest[] = "bus_stops#9", note[] = "note";
  assert_int_equal(pm_result_add_gap(ctx, r, id, name, "青浦区", 120.25, NAN, nearest, note, 1000.5,
                                     2000.25),
                   PM_OK);
  id[0] = name[0] = nearest[0] = note[0] = 'X';
  assert_int_equal(pm_result_add_gap(ctx, r, "b", NULL, NULL, NAN, 3, NULL, NULL, NAN, NAN), PM_OK);
  assert_int_equal(r->n_gaps, 2);
  const pm_gap *g = &r->gaps[0];
  assert_string_equal(g->id, "metro_stations#7");
  assert_string_equal(g->name, "赵巷");
  assert_string_equal(g->district, "青浦区");
  assert_string_equal(g->nearest, "bus_stops#9");
  assert_string_equal(g->note, "note");
  assert_near(g->distance_m, 120.25, 0);
  assert_true(isnan(g->shortfall));
  assert_near(g->x, 1000.5, 0);
  assert_near(g->y, 2000.25, 0);
  assert_true(isnan(g->straight_m));
  g = &r->gaps[1];
  assert_null(g->name);
  assert_null(g->district);
  assert_null(g->nearest);
  assert_null(g->note);
  assert_near(g->shortfall, 3, 0);

  pm_result *many = &ir.results[2];
  for (int i = 0; i < 1000; i++) {
    char gid[16];
    snprintf(gid, sizeof gid, "g%d", i);
    assert_int_equal(pm_result_add_gap(ctx, many, gid, NULL, NULL, i, NAN, NULL, NULL, NAN, NAN),
                     PM_OK);
  }
  assert_int_equal(many->n_gaps, 1000);
  for (int i = 0; i < 1000; i++) {
    char gid[16];
    snprintf(gid, sizeof gid, "g%d", i);
    if (strcmp(many->gaps[i].id, gid) != 0 || many->gaps[i].distance_m != i)
      fail_msg("gap %d is %s at %g", i, many->gaps[i].id, many->gaps[i].distance_m);
  }
  pm_indicator_result_clear(&ir);
}

/* Worst first: the larger shortfall, then the larger distance, a number that does not apply
 * (NAN) after every number, then the id. */
static void test_gaps_sorted(void **state) {
  pm_context *ctx = *state;
  static const struct {
    const char *name;
    struct {
      const char *id;
      double shortfall, distance;
    } in[4];
    const char *order;
  } cases[] = {
      {"by shortfall", {{"a", 1, 0}, {"b", 3, 0}, {"c", 2, 0}, {"d", 0.5, 900}}, "bcad"},
      {"then by distance", {{"a", 1, 10}, {"b", 1, 30}, {"c", 1, 20}, {"d", 2, 0}}, "dbca"},
      {"NAN shortfalls last", {{"a", NAN, 900}, {"b", 1, 0}, {"c", NAN, 5}, {"d", 0, 0}}, "bdac"},
      {"NAN distances last", {{"a", NAN, NAN}, {"b", NAN, 5}, {"c", NAN, 50}, {"d", NAN, NAN}},
       "cbad"},
      {"then by id", {{"d", 1, 1}, {"b", 1, 1}, {"c", 1, 1}, {"a", 1, 1}}, "abcd"},
      {"negative shortfall (an upper bound passed)", {{"a", -1, 0}, {"b", 0, 0}, {"c", -2, 0},
                                                       {"d", 1, 0}}, "dbac"},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    pm_indicator_result ir = {0};
    assert_int_equal(pm_indicator_result_init_results(ctx, &ir, SLOTS + 2, 1), PM_OK);
    pm_result *r = &ir.results[0];
    for (size_t i = 0; i < 4; i++)
      assert_int_equal(pm_result_add_gap(ctx, r, cases[c].in[i].id, NULL, NULL,
                                         cases[c].in[i].distance, cases[c].in[i].shortfall, NULL,
                                         NULL, NAN, NAN),
                       PM_OK);
    pm_result_sort_gaps(r);
    char got[5] = "";
    for (size_t i = 0; i < 4; i++) got[i] = r->gaps[i].id[0];
    if (strcmp(got, cases[c].order) != 0)
      fail_msg("%s: %s, want %s", cases[c].name, got, cases[c].order);
    pm_indicator_result_clear(&ir);
  }
}

/* A share is numerator / denominator in %; an empty denominator gives no value and says why
 * (the reason copied, or a default), and a later share clears the reason. */
static void test_share(void **state) {
  pm_context *ctx = *state;
  pm_result r;
  memset(&r, 0, sizeof r);
  assert_int_equal(pm_result_set_share(ctx, &r, 3, 15, NULL), PM_OK);
  assert_true(r.has_ratio && r.has_value);
  assert_near(r.value, 20, 1e-12);
  assert_near(r.numerator, 3, 0);
  assert_near(r.denominator, 15, 0);
  assert_null(r.null_reason);
  char why[] = "no stations in 松江区";
  assert_int_equal(pm_result_set_share(ctx, &r, 0, 0, why), PM_OK);
  why[0] = 'X';
  assert_false(r.has_value);
  assert_true(r.has_ratio && isnan(r.value));
  assert_near(r.denominator, 0, 0);
  assert_string_equal(r.null_reason, "no stations in 松江区");
  assert_int_equal(pm_result_set_share(ctx, &r, 1, -2, NULL), PM_OK); /* not > 0: empty too */
  assert_false(r.has_value);
  assert_string_equal(r.null_reason, "the denominator is empty");
  assert_int_equal(pm_result_set_share(ctx, &r, 1, NAN, NULL), PM_OK);
  assert_false(r.has_value);
  assert_int_equal(pm_result_set_share(ctx, &r, 15, 15, NULL), PM_OK);
  assert_true(r.has_value);
  assert_near(r.value, 100, 0);
  assert_null(r.null_reason);
}

/* Whether a value meets `op target`: floating point tolerance of 1e-9 relative (at least 1e-9),
 * never for a missing value or an unknown operator. */
static void test_target_met(void **state) {
  (void)state;
  static const struct {
    const char *op;
    double target, value;
    int met;
  } cases[] = {
      {">=", 100, 100.0 * 15.0 / 15.0, 1},
      {">=", 100, 100 - 5e-8, 1},    /* within 1e-9 x 100 */
      {">=", 100, 100 - 2e-7, 0},
      {">=", 100, 99.99, 0},
      {">", 100, 100, 0},
      {">", 100, 100 + 2e-7, 1},
      {"<=", 5, 5, 1},
      {"<=", 5, 5 + 4e-9, 1},        /* within 1e-9 x 5 */
      {"<=", 5, 5.001, 0},
      {"<", 5, 5, 0},
      {"<", 5, 4.99, 1},
      {"==", 0.3, 0.1 + 0.2, 1},
      {"==", 0.3, 0.31, 0},
      {">=", 0, -1e-10, 1},          /* the tolerance is at least 1e-9 */
      {">=", 100, NAN, 0},
      {">=", NAN, 5, 0},
      {"=>", 1, 5, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    if (pm_target_met(cases[i].op, cases[i].target, cases[i].value) != cases[i].met)
      fail_msg("%.17g %s %g: %d, want %d", cases[i].value, cases[i].op, cases[i].target,
               !cases[i].met, cases[i].met);
}

/* The indicator's target goes to every slot; only a slot with a value can meet it. */
static void test_apply_target(void **state) {
  pm_context *ctx = *state;
  pm_indicator_result ir = {0};
  pm_test_indicator(ctx, &ir, "t", "t", "count", "count", "<=", 2);
  assert_int_equal(pm_indicator_result_init_results(ctx, &ir, SLOTS, 3), PM_OK);
  ir.results[0].has_value = 1;
  ir.results[0].value = 2;
  ir.results[2].has_value = 1;
  ir.results[2].value = 3;
  pm_indicator_result_apply_target(&ir);
  const int met[] = {1, 0, 0};
  for (size_t i = 0; i < 3; i++) {
    assert_true(ir.results[i].has_target);
    assert_near(ir.results[i].target, 2, 0);
    assert_int_equal(ir.results[i].met, met[i]);
  }
  /* Without a target nothing is met and the target is NAN. */
  ir.has_target = 0;
  pm_indicator_result_apply_target(&ir);
  for (size_t i = 0; i < 3; i++) {
    assert_false(ir.results[i].has_target || ir.results[i].met);
    assert_true(isnan(ir.results[i].target));
  }
  pm_indicator_result_clear(&ir);
}

/* Class counts and facility shares are copied; a facility with an empty denominator has no
 * value. */
static void test_classes_and_facilities(void **state) {
  pm_context *ctx = *state;
  pm_result r;
  memset(&r, 0, sizeof r);
  char label[] = "pocket park";
  assert_int_equal(pm_result_add_class(ctx, &r, label, 5), PM_OK);
  label[0] = 'X';
  assert_int_equal(pm_result_add_class(ctx, &r, "park", 0), PM_OK);
  assert_int_equal(r.n_classes, 2);
  assert_string_equal(r.classes[0].label, "pocket park");
  assert_int_equal(r.classes[0].count, 5);
  assert_string_equal(r.classes[1].label, "park");
  assert_int_equal(pm_result_add_facility(ctx, &r, "school", 3, 4), PM_OK);
  assert_int_equal(pm_result_add_facility(ctx, &r, "market", 0, 0), PM_OK);
  assert_int_equal(r.n_facilities, 2);
  assert_string_equal(r.facilities[0].name, "school");
  assert_true(r.facilities[0].has_value);
  assert_near(r.facilities[0].value, 75, 1e-12);
  assert_near(r.facilities[0].numerator, 3, 0);
  assert_near(r.facilities[0].denominator, 4, 0);
  assert_false(r.facilities[1].has_value);
  assert_true(isnan(r.facilities[1].value));
  for (size_t i = 0; i < r.n_classes; i++) free(r.classes[i].label);
  free(r.classes);
  for (size_t i = 0; i < r.n_facilities; i++) free(r.facilities[i].name);
  free(r.facilities);
}

/* A detail keeps a copy of its WKB; one from a GEOS geometry is written as 2D WKB (a Z is
 * dropped); none has no WKB. */
static void test_details(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_indicator_result ir = {0};
  size_t len = 0;
  unsigned char *wkb = pm_test_wkb(ctx, "POINT(1 2)", 0, 0, &len);
  assert_int_equal(pm_indicator_result_add_detail(ctx, &ir, "station", "青浦区", "s#1", "S", 1, 20,
                                                  "P", wkb, len),
                   PM_OK);
  memset(wkb, 0, len);
  free(wkb);
  GEOSGeometry *z = pm_test_geom(ctx, "LINESTRING Z (0 0 5, 3 4 5)");
  assert_int_equal(pm_indicator_result_add_detail_geom(ctx, &ir, "segment", NULL, "s#1|p#1", NULL,
                                                       0, 5, NULL, z),
                   PM_OK);
  GEOSGeom_destroy_r(h, z);
  assert_int_equal(pm_indicator_result_add_detail_geom(ctx, &ir, "station", NULL, "s#2", NULL, -1,
                                                       NAN, NULL, NULL),
                   PM_OK);
  assert_int_equal(ir.n_details, 3);
  const pm_detail *d = &ir.details[0];
  assert_string_equal(d->role, "station");
  assert_string_equal(d->district, "青浦区");
  assert_string_equal(d->id, "s#1");
  assert_string_equal(d->name, "S");
  assert_string_equal(d->nearest, "P");
  assert_int_equal(d->covered, 1);
  assert_near(d->distance_m, 20, 0);
  GEOSGeometry *g = pm_test_detail_geom(ctx, d);
  double x = 0, y = 0;
  assert_true(GEOSGeomGetX_r(h, g, &x) && GEOSGeomGetY_r(h, g, &y));
  assert_near(x, 1, 0);
  assert_near(y, 2, 0);
  GEOSGeom_destroy_r(h, g);
  d = &ir.details[1];
  assert_int_equal(d->wkb_len, 1 + 4 + 4 + 2 * 16); /* 2D: two points of two doubles */
  assert_near(pm_test_detail_length(ctx, d), 5, 1e-12);
  assert_null(d->district);
  assert_int_equal(d->covered, 0);
  d = &ir.details[2];
  assert_null(d->wkb);
  assert_int_equal(d->wkb_len, 0);
  assert_int_equal(d->covered, -1);
  assert_true(isnan(d->distance_m));
  pm_indicator_result_clear(&ir);
}

static void add_parts(pm_context *ctx, pm_indicator_result *ir, const char *tag) {
  char id[32];
  for (size_t i = 0; i < ir->n_results; i++) {
    snprintf(id, sizeof id, "%s%zu", tag, i);
    assert_int_equal(pm_result_add_gap(ctx, &ir->results[i], id, NULL, NULL, 1, 1, NULL, NULL,
                                       NAN, NAN),
                     PM_OK);
    assert_int_equal(pm_result_add_class(ctx, &ir->results[i], id, 1), PM_OK);
  }
  snprintf(id, sizeof id, "%sd", tag);
  pm_test_add_detail_wkt(ctx, ir, "measured", NULL, id, NULL, -1, NAN, NULL, "POINT(0 0)");
}

/* Merging a partial result (one thread's) moves its gaps, classes and details to the end of the
 * other's, slot by slot and in order: they belong to dst afterwards, and src keeps its other
 * fields. Different slots: refused, and nothing moves. */
static void test_append(void **state) {
  pm_context *ctx = *state;
  pm_indicator_result dst = {0}, src = {0};
  assert_int_equal(pm_indicator_result_init_results(ctx, &dst, SLOTS, 3), PM_OK);
  assert_int_equal(pm_indicator_result_init_results(ctx, &src, SLOTS, 3), PM_OK);
  add_parts(ctx, &dst, "d");
  add_parts(ctx, &src, "s");
  add_parts(ctx, &src, "t");
  src.results[1].has_value = 1;
  src.results[1].value = 7;
  char *moved_gap = src.results[2].gaps[1].id;
  unsigned char *moved_wkb = src.details[1].wkb;
  assert_int_equal(pm_indicator_result_append(ctx, &dst, &src), PM_OK);
  for (size_t i = 0; i < 3; i++) {
    const pm_result *r = &dst.results[i];
    const char *tags = "dst";
    assert_int_equal(r->n_gaps, 3);
    assert_int_equal(r->n_classes, 3);
    for (size_t k = 0; k < 3; k++) {
      char want[32];
      snprintf(want, sizeof want, "%c%zu", tags[k], i);
      if (strcmp(r->gaps[k].id, want) != 0 || strcmp(r->classes[k].label, want) != 0)
        fail_msg("slot %zu, item %zu: gap %s, class %s; want %s", i, k, r->gaps[k].id,
                 r->classes[k].label, want);
    }
    assert_int_equal(src.results[i].n_gaps + src.results[i].n_classes, 0);
    assert_null(src.results[i].gaps);
    assert_null(src.results[i].classes);
  }
  assert_ptr_equal(dst.results[2].gaps[2].id, moved_gap); /* moved, not copied */
  assert_int_equal(dst.n_details, 3);
  assert_string_equal(dst.details[0].id, "dd");
  assert_string_equal(dst.details[1].id, "sd");
  assert_string_equal(dst.details[2].id, "td");
  assert_ptr_equal(dst.details[2].wkb, moved_wkb);
  assert_int_equal(src.n_details, 0);
  assert_null(src.details);
  assert_int_equal(src.n_results, 3); /* the rest of src is untouched */
  assert_true(src.results[1].has_value);
  assert_near(src.results[1].value, 7, 0);

  pm_indicator_result other = {0};
  assert_int_equal(pm_indicator_result_init_results(ctx, &other, SLOTS, 2), PM_OK);
  add_parts(ctx, &other, "o");
  assert_int_equal(pm_indicator_result_append(ctx, &dst, &other), PM_EINTERNAL);
  assert_contains(pm_context_message(ctx), "merging results of 3 and 2 districts");
  assert_int_equal(dst.results[0].n_gaps, 3);
  assert_int_equal(other.results[0].n_gaps, 1);
  assert_int_equal(other.n_details, 1);
  pm_indicator_result_clear(&dst);
  pm_indicator_result_clear(&src);
  pm_indicator_result_clear(&other);
}

/* An indicator that could not be measured: its spec's names, status "no data" and the reason, a
 * null value with that reason in every slot (districts, then `_all`), the target carried and not
 * met. */
static void test_no_data(void **state) {
  pm_context *ctx = *state;
  pm_districts *d = pm_test_two_districts(ctx, 1000, 0, 1000);
  pm_indicator_spec spec =
      pm_test_spec(ctx, "{id: pocket_parks, title: 口袋公园, metric: count, layer: parks, "
                        "target: \">= 4\"}");
  pm_indicator_result out = {0};
  const char *why = "layer parks (data/parks.gpkg) is not in the data";
  assert_int_equal(pm_metric_no_data(ctx, &spec, d, why, &out), PM_OK);
  assert_int_equal(out.status, PM_IND_NO_DATA);
  assert_string_equal(pm_indicator_status_name(out.status), "no data");
  assert_string_equal(out.status_reason, why);
  assert_string_equal(out.id, "pocket_parks");
  assert_string_equal(out.title, "口袋公园");
  assert_string_equal(out.metric, "count");
  assert_string_equal(out.unit, "count");
  assert_true(out.has_target);
  assert_int_equal(out.n_results, 3);
  for (size_t i = 0; i < 3; i++) {
    const pm_result *r = &out.results[i];
    assert_string_equal(r->district, i == 0 ? "A" : i == 1 ? "B" : "_all");
    assert_false(r->has_value);
    assert_true(isnan(r->value));
    assert_string_equal(r->null_reason, why);
    assert_true(r->has_target);
    assert_near(r->target, 4, 0);
    assert_false(r->met);
    assert_int_equal(r->n_gaps, 0);
  }
  assert_int_equal(out.n_details, 0);
  pm_indicator_result_clear(&out);
  pm_indicator_spec_clear(&spec);
  pm_districts_destroy(ctx, d);
}

/* Status names, and clearing: an indicator result is left zeroed; a run frees all it holds. */
static void test_names_and_clearing(void **state) {
  pm_context *ctx = *state;
  static const struct {
    pm_indicator_status s;
    const char *name;
  } names[] = {{PM_IND_COMPUTED, "computed"},
               {PM_IND_NO_DATA, "no data"},
               {PM_IND_MANUAL, "manual"},
               {(pm_indicator_status)42, "unknown"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    assert_string_equal(pm_indicator_status_name(names[i].s), names[i].name);

  pm_run_result *run = pm_test_run(ctx, "p", "t", "EPSG:32651", "2026-01-01T00:00:00Z", 2);
  pm_test_indicator(ctx, &run->indicators[0], "a", "A", "count", "count", ">=", 1);
  assert_int_equal(pm_indicator_result_init_results(ctx, &run->indicators[0], SLOTS, 3), PM_OK);
  add_parts(ctx, &run->indicators[0], "x");
  pm_test_indicator(ctx, &run->indicators[1], "b", NULL, "length", "km", NULL, NAN);
  pm_test_no_data(ctx, &run->indicators[1], "missing", SLOTS, 3);
  pm_indicator_result copy = run->indicators[0];
  run->indicators[0] = (pm_indicator_result){0};
  pm_indicator_result_clear(&copy);
  pm_indicator_result zero;
  memset(&zero, 0, sizeof zero);
  assert_memory_equal(&copy, &zero, sizeof zero);
  pm_indicator_result_clear(NULL);
  pm_run_result_destroy(run); /* the leak checker sees the rest freed */
  pm_run_result_destroy(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_init_results),  cmocka_unit_test(test_gaps_copied),
      cmocka_unit_test(test_gaps_sorted),   cmocka_unit_test(test_share),
      cmocka_unit_test(test_target_met),    cmocka_unit_test(test_apply_target),
      cmocka_unit_test(test_classes_and_facilities),
      cmocka_unit_test(test_details),       cmocka_unit_test(test_append),
      cmocka_unit_test(test_no_data),       cmocka_unit_test(test_names_and_clearing),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
