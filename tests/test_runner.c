/* test_runner.c: running a plan: reasons of missing data, error messages, notices of a failed run. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* A plan on three points (poi.csv, field kind) and a 1 km square district, then `indicators`. */
static const char *write_plan(const char *name, const char *indicators) {
  pm_test_write_file(pm_test_path("poi.csv"), "x,y,kind\n100,100,a\n200,200,a\n300,300,b\n");
  pm_test_write_file(pm_test_path("area.csv"),
                     "wkt,name\n\"POLYGON ((0 0, 1000 0, 1000 1000, 0 1000, 0 0))\",甲\n");
  char text[4096];
  snprintf(text, sizeof text,
           "plan: runner\n"
           "crs: EPSG:32651\n"
           "districts: {layer: area, name_field: name}\n"
           "layers:\n"
           "  area: {path: area.csv, src_crs: EPSG:32651}\n"
           "  poi: {path: poi.csv, x: x, y: y, src_crs: EPSG:32651}\n"
           "  parks: {path: parks.gpkg, optional: true}\n"
           "indicators:\n%s",
           indicators);
  const char *path = pm_test_path(name);
  pm_test_write_file(path, text);
  return path;
}

static pm_status run(pm_context *ctx, const char *plan_path, const char *db, pm_run_result **out,
                     pm_run_ingest_log *log) {
  pm_plan *plan = NULL;
  pm_status st = pm_plan_load(ctx, plan_path, &plan);
  if (st) fail_msg("%s", pm_context_message(ctx));
  remove(pm_test_path(db));
  pm_run_options opt = {.db = pm_test_path(db), .record = 1};
  st = pm_plan_run(ctx, plan, &opt, out, log);
  pm_plan_destroy(plan);
  return st;
}

/* "no data" is the status; the reason says which layer, once (writers put the two together). */
static void test_no_data_reason(void **state) {
  pm_context *ctx = *state;
  const char *p = write_plan("nodata.yaml", "  - id: parks_n\n    metric: count\n    layer: parks\n");
  pm_run_result *r = NULL;
  if (run(ctx, p, "nodata.sqlite", &r, NULL)) fail_msg("%s", pm_context_message(ctx));
  const pm_indicator_result *ir = &r->indicators[0];
  assert_int_equal(ir->status, PM_IND_NO_DATA);
  assert_non_null(ir->status_reason);
  if (strncmp(ir->status_reason, "layer parks (", 13) != 0 || !strstr(ir->status_reason, "parks.gpkg) is not in the data"))
    fail_msg("reason: %s", ir->status_reason);
  assert_null(strstr(ir->status_reason, "no data"));
  for (size_t i = 0; i < ir->n_results; i++)
    assert_string_equal(ir->results[i].null_reason, ir->status_reason);
  pm_run_result_destroy(r);
}

/* An indicator that fails says "PLAN:LINE: indicator ID:" once, whichever part found the problem:
 * the metric kind (length on a point layer), the layer loader (a filter naming a missing field),
 * or the attributes a parameter names (weight_field). */
static void test_error_names_indicator_once(void **state) {
  pm_context *ctx = *state;
  const char *cases[][2] = {
      {"  - id: a\n    metric: length\n    layer: poi\n", "holds points"},
      {"  - id: a\n    metric: count\n    layer: {layer: poi, where: \"knd = 'a'\"}\n", "knd"},
      {"  - id: a\n    metric: coverage\n    sources: poi\n    radius_m: 10\n"
       "    population: area\n    weight_field: nosuch\n",
       "nosuch"},
      {"  - id: a\n    metric: transfer_coverage\n    from: poi\n    to: poi\n    basis: route\n"
       "    routes_field: nosuch\n",
       "nosuch"},
  };
  for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
    const char *p = write_plan("fails.yaml", cases[i][0]);
    pm_run_result *r = NULL;
    assert_int_not_equal(run(ctx, p, "fails.sqlite", &r, NULL), PM_OK);
    assert_null(r);
    const char *m = pm_context_message(ctx);
    if (pm_test_count(m, "indicator a:") != 1 || !strstr(m, "fails.yaml:9: indicator a: ") ||
        !strstr(m, cases[i][1]))
      fail_msg("case %zu: %s", i, m);
  }
}

/* A run that fails after ingesting is rolled back whole: it does not say "ingested poi" (the
 * layer was not kept); the log tells how many layers were rolled back. A run that succeeds says
 * it, once committed. */
static void test_failed_run_notices(void **state) {
  (void)state;
  pm_context *ctx = NULL;
  assert_int_equal(pm_context_create(&ctx), PM_OK);
  pm_test_notices h;
  pm_test_collect_notices(ctx, &h);
  const char *p = write_plan("late.yaml", "  - id: a\n    metric: length\n    layer: poi\n");
  pm_run_result *r = NULL;
  pm_run_ingest_log log;
  assert_int_equal(run(ctx, p, "late.sqlite", &r, &log), PM_EINPUT);
  assert_int_equal(log.n_ingested, 2); /* area and poi, both rolled back */
  if (strstr(h.text, "ingested")) fail_msg("notices of a failed run: %s", h.text);
  /* The printer is the caller's again. */
  pm_notice(ctx, "after");
  assert_string_equal(h.text, "after\n");

  h.text[0] = '\0';
  p = write_plan("good.yaml", "  - id: a\n    metric: count\n    layer: poi\n");
  assert_int_equal(run(ctx, p, "good.sqlite", &r, &log), PM_OK);
  if (!strstr(h.text, "ingested area: 1 features\ningested poi: 3 features\n"))
    fail_msg("notices: %s", h.text);
  pm_run_result_destroy(r);
  pm_context_destroy(ctx);

  /* The command says that nothing was kept, after the error. */
  const char *err = pm_test_path("late.err");
  remove(pm_test_path("late.sqlite"));
  int rc = pm_test_system("'%s' run '%s' --db '%s' 2>'%s' >/dev/null", PM_CLI,
                          pm_test_path("late.yaml"), pm_test_path("late.sqlite"), err);
  assert_int_equal(rc, 2);
  char *text = pm_test_read_file(err);
  const char *e = strstr(text, "planmetrics: error: ");
  const char *k = strstr(text, "planmetrics: the run failed: nothing was kept (the 2 layers "
                               "ingested in this run were rolled back)\n");
  if (!e || !k || k < e || strstr(text, "ingested area")) fail_msg("stderr: %s", text);
  free(text);
  FILE *f = fopen(pm_test_path("late.sqlite"), "rb");
  assert_null(f); /* the database the run created is gone */
}

/* A layer's `attribution:` is recorded with the run (the reports credit it from the record), for
 * the layers the run used: not for a missing optional one. */
static void test_attributions_recorded(void **state) {
  pm_context *ctx = *state;
  pm_test_write_file(pm_test_path("poi.csv"), "x,y,kind\n100,100,a\n");
  const char *p = pm_test_path("attr.yaml");
  pm_test_write_file(p, "plan: attr\ncrs: EPSG:32651\nlayers:\n"
                        "  poi: {path: poi.csv, x: x, y: y, src_crs: EPSG:32651,\n"
                        "        attribution: \"测试 \\\"data\\\" (MIT)\"}\n"
                        "  parks: {path: parks.gpkg, optional: true, attribution: OSM}\n"
                        "indicators:\n  - id: a\n    metric: count\n    layer: poi\n");
  pm_run_result *r = NULL;
  if (run(ctx, p, "attr.sqlite", &r, NULL)) fail_msg("%s", pm_context_message(ctx));
  assert_string_equal(r->attributions, "{\"poi\": \"测试 \\\"data\\\" (MIT)\"}");
  pm_run_result_destroy(r);
  pm_store *store = NULL;
  assert_int_equal(pm_store_open(ctx, pm_test_path("attr.sqlite"), PM_STORE_READONLY, &store, NULL),
                   PM_OK);
  assert_int_equal(pm_history_load_run(store, 0, &r), PM_OK);
  assert_string_equal(r->attributions, "{\"poi\": \"测试 \\\"data\\\" (MIT)\"}");
  pm_run_result_destroy(r);
  pm_store_close(store);
}

/* skip_details (what `run --no-history` asks): the same values and gaps, no details at all, also
 * from the threads a metric starts (coverage's chunks on two threads). */
static void test_skip_details(void **state) {
  pm_context *ctx = *state;
  /* 600 blocks of 20 m: coverage by area handles them in chunks of 256 on both threads */
  static char homes[600 * 96 + 8];
  strcpy(homes, "wkt,name\n");
  for (int k = 0; k < 600; k++) {
    int x = 20 + (k % 25) * 40, y = 20 + (k / 25) * 40;
    snprintf(homes + strlen(homes), sizeof homes - strlen(homes),
             "\"POLYGON ((%d %d, %d %d, %d %d, %d %d, %d %d))\",b%d\n", x, y, x + 20, y, x + 20, y + 20,
             x, y + 20, x, y, k);
  }
  pm_test_write_file(pm_test_path("homes.csv"), homes);
  const char *p = write_plan("details.yaml",
                             "  - id: a_n\n    metric: count\n    layer: poi\n    where: \"kind = 'a'\"\n"
                             "  - id: near_poi\n    metric: coverage\n    sources: poi\n    radius_m: 150\n"
                             "    population: homes\n");
  /* the homes layer, beside the others */
  char *text = pm_test_read_file(p);
  assert_non_null(text);
  char *at = strstr(text, "indicators:");
  assert_non_null(at);
  char plan_text[4096];
  snprintf(plan_text, sizeof plan_text, "%.*s  homes: {path: homes.csv, src_crs: EPSG:32651}\n%s",
           (int)(at - text), text, at);
  free(text);
  pm_test_write_file(p, plan_text);
  pm_plan *plan = NULL;
  if (pm_plan_load(ctx, p, &plan)) fail_msg("%s", pm_context_message(ctx));
  pm_run_result *run[2] = {NULL, NULL};
  for (int skip = 0; skip < 2; skip++) {
    pm_run_options opt = {.db = pm_test_path("details.sqlite"), .threads = 2, .skip_details = skip};
    if (pm_plan_run(ctx, plan, &opt, &run[skip], NULL)) fail_msg("%s", pm_context_message(ctx));
  }
  pm_plan_destroy(plan);
  assert_int_equal(run[0]->n_indicators, 2);
  for (size_t i = 0; i < 2; i++) {
    const pm_indicator_result *a = &run[0]->indicators[i], *b = &run[1]->indicators[i];
    assert_true(a->n_details > 0);
    assert_int_equal(b->n_details, 0);
    assert_int_equal(a->n_results, b->n_results);
    for (size_t k = 0; k < a->n_results; k++) {
      assert_true(a->results[k].value == b->results[k].value);
      assert_int_equal(a->results[k].n_gaps, b->results[k].n_gaps);
    }
  }
  assert_true(run[0]->indicators[1].results[0].n_gaps > 0); /* homes far from the three points */
  pm_run_result_destroy(run[0]);
  pm_run_result_destroy(run[1]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      pm_test_case(test_no_data_reason),
      pm_test_case(test_error_names_indicator_once),
      cmocka_unit_test(test_failed_run_notices),
      pm_test_case(test_attributions_recorded),
      pm_test_case(test_skip_details),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
