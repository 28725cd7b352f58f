/* test_history.c: recording runs in the project database and reading them back. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planmetrics/history.h"
#include "fixtures.h"

/* Two indicators over 青浦区, 松江区 and _all (a null value with its reason, gaps, classes,
 * details with geometries), an indicator without data and a manual figure. `second` changes
 * the numbers as a later run would. */
static pm_run_result *make_run(pm_context *ctx, int second) {
  pm_run_result *run =
      pm_test_run(ctx, "qingpu-2024-2026", "青浦区城市管理精细化三年行动计划（2024-2026年）",
                  "EPSG:32651", second ? "2026-02-01T08:00:00Z" : "2026-01-01T08:00:00Z", 4);
  pm_strdup(ctx, &run->plan_hash, second ? "hash-2" : "hash-1");
  pm_strdup(ctx, &run->timezone, "Asia/Shanghai");
  if (second) pm_strdup(ctx, &run->attributions, "{\"bus_stops\": \"ni1o1/pygeo-tutorial (MIT)\"}");
  const char *names[] = {"青浦区", "松江区", "_all"};

  pm_indicator_result *ir = &run->indicators[0];
  pm_test_indicator(ctx, ir, "transfer_50m", "轨道交通和公共交通换乘距离在50米以内的占比",
                    "transfer_coverage", "%", ">=", 100);
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, 3), PM_OK);
  double num = second ? 12 : 3;
  assert_int_equal(pm_result_set_share(ctx, &ir->results[0], num, 15, NULL), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[1], 0, 0, "no stations in 松江区"), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[2], num, 15, NULL), PM_OK);
  for (int r = 0; r < 3; r += 2) {
    assert_int_equal(pm_result_add_gap(ctx, &ir->results[r], "metro_stations#7", "赵巷, \"北\"",
                                       "青浦区", 120.25, NAN, "bus_stops#9", NULL, 1000.5, 2000.25),
                     PM_OK);
    assert_int_equal(pm_result_add_gap(ctx, &ir->results[r], "metro_stations#3", "人民广场",
                                       "青浦区", 87.4, NAN, NULL, "note\n2", NAN, NAN),
                     PM_OK);
  }
  pm_test_add_detail_wkt(ctx, ir, "station", "青浦区", "metro_stations#7", "赵巷", 0, 120.25,
                         "bus_stops#9", "POINT (1000.5 2000.25)");
  pm_test_add_detail_wkt(ctx, ir, "segment", "青浦区", "metro_stations#7|bus_stops#9", NULL, 0,
                         120.25, NULL, "LINESTRING (1000.5 2000.25, 1100 2068.5)");
  pm_test_add_detail_wkt(ctx, ir, "station", NULL, "metro_stations#1", NULL, -1, NAN, NULL, NULL);
  pm_indicator_result_apply_target(ir);

  ir = &run->indicators[1];
  pm_test_indicator(ctx, ir, "park_coverage", "公园绿地服务半径覆盖率", "coverage", "%", ">=", 90);
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, 3), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[0], 2.0, 3.0, NULL), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[1], second ? 95 : 91, 100, NULL), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[2], second ? 97 : 93, 103, NULL), PM_OK);
  assert_int_equal(pm_result_add_class(ctx, &ir->results[0], "pocket park (400-10000 m2, 300 m)", 4),
                   PM_OK);
  assert_int_equal(pm_result_add_class(ctx, &ir->results[0], "park (>= 10000 m2, 500 m)", 1), PM_OK);
  assert_int_equal(pm_result_add_class(ctx, &ir->results[2], "pocket park (400-10000 m2, 300 m)", 9),
                   PM_OK);
  assert_int_equal(pm_result_add_gap(ctx, &ir->results[0], "residential#12", "小区", "青浦区", 812.5,
                                     1234.5, "parks#3", NULL, 10, 20),
                   PM_OK);
  pm_test_add_detail_wkt(ctx, ir, "service_area", "青浦区", "parks#3", "口袋公园", 1, NAN, NULL,
                         "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 4 2, 2 2))");
  pm_test_add_detail_wkt(
      ctx, ir, "uncovered", "青浦区", "residential#12", "小区", 0, 812.5, "parks#3",
      "MULTIPOLYGON (((20 20, 30 20, 30 30, 20 20)), ((40 40, 50 40, 50 50, 40 40)))");
  /* Kept as recorded, although stored per geometry type: a one-part multi stays multi, and a
   * collection's parts (one table each) come back as one collection. */
  pm_test_add_detail_wkt(ctx, ir, "uncovered", "青浦区", "residential#13", NULL, 0, 900, NULL,
                         "MULTIPOLYGON (((60 60, 70 60, 70 70, 60 60)))");
  pm_test_add_detail_wkt(ctx, ir, "uncovered", "青浦区", "residential#14", NULL, 0, 950, NULL,
                         "GEOMETRYCOLLECTION (POINT (1 1), LINESTRING (0 0, 5 5), "
                         "POLYGON ((0 0, 1 0, 1 1, 0 0)))");
  pm_indicator_result_apply_target(ir);

  ir = &run->indicators[2];
  pm_test_indicator(ctx, ir, "sponge_share", "海绵城市建成区面积比例", "area_share", "%", ">=", 40);
  pm_test_no_data(ctx, ir, "layer sponge_zones is not in the data", NULL, 0);

  ir = &run->indicators[3];
  pm_test_indicator(ctx, ir, "elevators", NULL, "manual", "台", NULL, NAN);
  ir->status = PM_IND_MANUAL;
  const char *all[] = {"_all"};
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, all, 1), PM_OK);
  ir->results[0].has_value = 1;
  ir->results[0].value = second ? 40 : 35;
  pm_indicator_result_apply_target(ir); /* no target */
  return run;
}

static void assert_str_eq(const char *a, const char *b) {
  if (!a || !b) {
    if (a != b) fail_msg("'%s' != '%s'", a ? a : "(null)", b ? b : "(null)");
    return;
  }
  assert_string_equal(a, b);
}

/* Equal doubles, NAN equal to NAN: the history keeps full precision. */
static void assert_num_eq(double a, double b) {
  if (isnan(a) || isnan(b)) {
    if (!(isnan(a) && isnan(b))) fail_msg("%.17g != %.17g", a, b);
    return;
  }
  if (a != b) fail_msg("%.17g != %.17g", a, b);
}

static void assert_runs_equal(const pm_run_result *a, const pm_run_result *b) {
  assert_str_eq(a->plan, b->plan);
  assert_str_eq(a->title, b->title);
  assert_str_eq(a->crs, b->crs);
  assert_str_eq(a->generated_at, b->generated_at);
  assert_str_eq(a->plan_hash, b->plan_hash);
  assert_str_eq(a->timezone, b->timezone);
  assert_str_eq(a->attributions, b->attributions);
  assert_int_equal(a->n_indicators, b->n_indicators);
  for (size_t k = 0; k < a->n_indicators; k++) {
    const pm_indicator_result *x = &a->indicators[k], *y = &b->indicators[k];
    assert_str_eq(x->id, y->id);
    assert_str_eq(x->title, y->title);
    assert_str_eq(x->metric, y->metric);
    assert_str_eq(x->unit, y->unit);
    assert_int_equal(x->status, y->status);
    assert_str_eq(x->status_reason, y->status_reason);
    assert_int_equal(x->has_target, y->has_target);
    if (x->has_target) {
      assert_string_equal(x->target_op, y->target_op);
      assert_num_eq(x->target_value, y->target_value);
    }
    assert_int_equal(x->n_results, y->n_results);
    for (size_t i = 0; i < x->n_results; i++) {
      const pm_result *r = &x->results[i], *s = &y->results[i];
      assert_str_eq(r->district, s->district);
      assert_int_equal(r->has_value, s->has_value);
      if (r->has_value) assert_num_eq(r->value, s->value);
      assert_str_eq(r->has_value ? NULL : r->null_reason, s->has_value ? NULL : s->null_reason);
      assert_int_equal(r->has_ratio, s->has_ratio);
      assert_num_eq(r->numerator, s->numerator);
      assert_num_eq(r->denominator, s->denominator);
      assert_int_equal(r->has_target, s->has_target);
      assert_num_eq(r->target, s->target);
      assert_int_equal(r->met, s->met);
      assert_int_equal(r->n_gaps, s->n_gaps);
      for (size_t g = 0; g < r->n_gaps; g++) {
        const pm_gap *p = &r->gaps[g], *q = &s->gaps[g];
        assert_str_eq(p->id, q->id);
        assert_str_eq(p->name, q->name);
        assert_str_eq(p->district, q->district);
        assert_num_eq(p->distance_m, q->distance_m);
        assert_num_eq(p->shortfall, q->shortfall);
        assert_str_eq(p->nearest, q->nearest);
        assert_str_eq(p->note, q->note);
        assert_num_eq(p->x, q->x);
        assert_num_eq(p->y, q->y);
      }
      assert_int_equal(r->n_classes, s->n_classes);
      for (size_t c = 0; c < r->n_classes; c++) {
        assert_str_eq(r->classes[c].label, s->classes[c].label);
        assert_int_equal(r->classes[c].count, s->classes[c].count);
      }
    }
    assert_int_equal(x->n_details, y->n_details);
    for (size_t d = 0; d < x->n_details; d++) {
      const pm_detail *p = &x->details[d], *q = &y->details[d];
      assert_str_eq(p->role, q->role);
      assert_str_eq(p->district, q->district);
      assert_str_eq(p->id, q->id);
      assert_str_eq(p->name, q->name);
      assert_int_equal(p->covered, q->covered);
      assert_num_eq(p->distance_m, q->distance_m);
      assert_str_eq(p->nearest, q->nearest);
      assert_int_equal(p->wkb_len, q->wkb_len);
      if (p->wkb_len) assert_memory_equal(p->wkb, q->wkb, p->wkb_len);
    }
  }
}

static int64_t record(pm_store *store, const pm_run_result *run, const char *started, int exit_code) {
  int64_t id = 0;
  assert_int_equal(pm_store_begin(store), PM_OK);
  pm_status st = pm_history_record(store, run, "plans/qingpu.yaml",
                                   "{\"bus_stops\": \"aa11\", \"metro_stations\": \"bb22\"}",
                                   started, exit_code, &id);
  if (st) fail_msg("%s", pm_context_message(pm_store_context(store)));
  assert_int_equal(pm_store_commit(store), PM_OK);
  assert_true(id > 0);
  return id;
}

static void test_record_and_load(void **state) {
  pm_context *ctx = *state;
  pm_store *store = pm_test_store(ctx, "history.sqlite", 32651);
  pm_run_result *one = make_run(ctx, 0), *two = make_run(ctx, 1);
  int64_t id1 = record(store, one, "2026-01-01T07:59:00Z", 1);
  int64_t id2 = record(store, two, "2026-02-01T07:59:00Z", 1);
  assert_true(id2 > id1);

  pm_run_result *back = NULL;
  assert_int_equal(pm_history_load_run(store, 0, &back), PM_OK); /* latest = the second */
  assert_int_equal(back->run_id, id2);
  assert_runs_equal(two, back);
  assert_num_eq(back->indicators[0].results[0].value, 80);
  assert_num_eq(back->indicators[1].results[0].value, 200.0 / 3.0); /* full precision */
  pm_run_result_destroy(back);
  back = NULL;
  assert_int_equal(pm_history_load_run(store, id1, &back), PM_OK);
  assert_int_equal(back->run_id, id1);
  assert_runs_equal(one, back);
  pm_run_result_destroy(back);
  back = NULL;

  assert_int_equal(pm_history_load_run(store, id2 + 40, &back), PM_ENOTFOUND);
  assert_null(back);
  assert_non_null(strstr(pm_context_message(ctx), "no run"));

  /* Detail geometries are in one registered table per geometry type, in the project CRS, so
   * QGIS opens each with its type and CRS (SpatiaLite type codes 4, 5, 6: MULTI*). */
  sqlite3 *db = pm__store_db(store);
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT group_concat(f_table_name || ':' || geometry_type "
                                      "|| ':' || srid, ' ') FROM (SELECT * FROM geometry_columns "
                                      "WHERE f_table_name LIKE 'pm_details%' ORDER BY f_table_name)",
                                      -1, &q, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0),
                      "pm_details_lines:5:32651 pm_details_points:4:32651 "
                      "pm_details_polygons:6:32651");
  sqlite3_finalize(q);
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT AsText(geom), ST_SRID(geom), role, covered FROM "
                                      "pm_details_points WHERE run_id = ? AND id = 'metro_stations#7'",
                                      -1, &q, NULL),
                   SQLITE_OK);
  sqlite3_bind_int64(q, 1, id1);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "MULTIPOINT(1000.5 2000.25)");
  assert_int_equal(sqlite3_column_int(q, 1), 32651);
  assert_string_equal((const char *)sqlite3_column_text(q, 2), "station");
  sqlite3_finalize(q);
  /* Their spatial indexes hold every recorded geometry of both runs (written in bulk, the
   * tables' triggers set aside meanwhile) with its box, and the triggers are back. */
  for (int k = 0; k < 3; k++) {
    static const char *const T[3] = {"pm_details_points", "pm_details_lines", "pm_details_polygons"};
    char sql[600];
    snprintf(sql, sizeof sql,
             "SELECT (SELECT count(*) FROM %1$s WHERE geom IS NOT NULL),"
             " (SELECT count(*) FROM idx_%1$s_geom),"
             " (SELECT count(*) FROM %1$s t JOIN idx_%1$s_geom i ON i.pkid = t.rowid WHERE"
             "  i.xmin <= MbrMinX(t.geom) AND i.xmax >= MbrMaxX(t.geom) AND"
             "  i.ymin <= MbrMinY(t.geom) AND i.ymax >= MbrMaxY(t.geom)"
             "  AND i.xmax - i.xmin <= MbrMaxX(t.geom) - MbrMinX(t.geom) + 1e-3),"
             " rtreecheck('idx_%1$s_geom'),"
             " (SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '%1$s')",
             T[k]);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int n = sqlite3_column_int(q, 0);
    if (k != 1) assert_true(n > 0); /* the runs have points and polygons */
    assert_int_equal(sqlite3_column_int(q, 1), n);
    assert_int_equal(sqlite3_column_int(q, 2), n);
    assert_string_equal((const char *)sqlite3_column_text(q, 3), "ok");
    assert_int_equal(sqlite3_column_int(q, 4), 8); /* SpatiaLite's, as CreateSpatialIndex made them */
    sqlite3_finalize(q);
  }
  /* The tables of the brief, with the documented rows. */
  assert_int_equal(sqlite3_prepare_v2(db,
                                      "SELECT (SELECT count(*) FROM pm_results WHERE run_id = ?1),"
                                      " (SELECT count(*) FROM pm_gaps WHERE run_id = ?1),"
                                      " (SELECT count(*) FROM pm_classes WHERE run_id = ?1),"
                                      " (SELECT count(*) FROM pm_details WHERE run_id = ?1),"
                                      " (SELECT input_hashes || '|' || exit_code || '|' || "
                                      "started_at || '|' || plan_path FROM pm_runs WHERE run_id = ?1)",
                                      -1, &q, NULL),
                   SQLITE_OK);
  sqlite3_bind_int64(q, 1, id2);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_int_equal(sqlite3_column_int(q, 0), 3 + 3 + 1 + 1); /* no-data indicator: one row */
  assert_int_equal(sqlite3_column_int(q, 1), 2 + 2 + 1);
  assert_int_equal(sqlite3_column_int(q, 2), 3);
  assert_int_equal(sqlite3_column_int(q, 3), 7);
  assert_string_equal((const char *)sqlite3_column_text(q, 4),
                      "{\"bus_stops\": \"aa11\", \"metro_stations\": \"bb22\"}|1|"
                      "2026-02-01T07:59:00Z|plans/qingpu.yaml");
  sqlite3_finalize(q);

  pm_run_result_destroy(one);
  pm_run_result_destroy(two);
  pm_store_close(store);
}

/* A run recorded by an earlier planmetrics put "no data: " into its reasons; read back, the
 * reason says why only (the writers add "no data"). */
static void test_old_no_data_reason(void **state) {
  pm_context *ctx = *state;
  pm_store *store = pm_test_store(ctx, "old-reason.sqlite", 32651);
  pm_run_result *run = make_run(ctx, 0);
  pm_indicator_result *ir = &run->indicators[2];
  free(ir->status_reason);
  pm_strdup(ctx, &ir->status_reason, "no data: layer sponge_zones (a.gpkg) is not in the data");
  const char *all[] = {"_all"};
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, all, 1), PM_OK);
  pm_strdup(ctx, &ir->results[0].null_reason, ir->status_reason);
  int64_t id = record(store, run, NULL, 0);
  pm_run_result *back = NULL;
  assert_int_equal(pm_history_load_run(store, id, &back), PM_OK);
  assert_string_equal(back->indicators[2].status_reason, "layer sponge_zones (a.gpkg) is not in the data");
  assert_string_equal(back->indicators[2].results[0].null_reason,
                      "layer sponge_zones (a.gpkg) is not in the data");
  /* Only a no-data indicator's reasons: another null reason is kept as written. */
  assert_string_equal(back->indicators[0].results[1].null_reason, "no stations in 松江区");
  pm_run_result_destroy(back);
  pm_run_result_destroy(run);
  pm_store_close(store);
}

static void test_list_and_print(void **state) {
  pm_context *ctx = *state;
  pm_store *store = pm_test_store(ctx, "list.sqlite", 32651);
  pm_run_result *one = make_run(ctx, 0), *two = make_run(ctx, 1);
  int64_t id1 = record(store, one, NULL, 1);
  int64_t id2 = record(store, two, NULL, 0);

  pm_history_run *runs = NULL;
  size_t nr = 0;
  assert_int_equal(pm_history_runs(store, "qingpu-2024-2026", &runs, &nr), PM_OK);
  assert_int_equal(nr, 2);
  assert_int_equal(runs[0].run_id, id1);
  assert_int_equal(runs[1].run_id, id2);
  assert_string_equal(runs[1].finished_at, "2026-02-01T08:00:00Z");
  assert_string_equal(runs[1].plan_hash, "hash-2");
  assert_string_equal(runs[0].plan_path, "plans/qingpu.yaml");
  assert_null(runs[0].started_at);
  assert_int_equal(runs[0].exit_code, 1);
  assert_int_equal(runs[1].exit_code, 0);
  pm_history_runs_destroy(runs, nr);
  assert_int_equal(pm_history_runs(store, "other-plan", &runs, &nr), PM_OK);
  assert_int_equal(nr, 0);
  pm_history_runs_destroy(runs, nr);

  pm_history_row *rows = NULL;
  size_t n = 0;
  assert_int_equal(pm_history_list(store, "qingpu-2024-2026", &rows, &n), PM_OK);
  assert_int_equal(n, 2 * 8);
  /* Run 1 first, in the run's order: transfer 青浦区 20 % missed. */
  assert_int_equal(rows[0].run_id, id1);
  assert_string_equal(rows[0].indicator_id, "transfer_50m");
  assert_string_equal(rows[0].district, "青浦区");
  assert_int_equal(rows[0].has_value, 1);
  assert_near(rows[0].value, 20, 1e-12);
  assert_int_equal(rows[0].has_target, 1);
  assert_string_equal(rows[0].target_op, ">=");
  assert_near(rows[0].target, 100, 0);
  assert_int_equal(rows[0].met, 0);
  assert_int_equal(rows[0].n_gaps, 2);
  assert_string_equal(rows[0].finished_at, "2026-01-01T08:00:00Z");
  /* 松江区: null, with its reason, no verdict. */
  assert_string_equal(rows[1].district, "松江区");
  assert_int_equal(rows[1].has_value, 0);
  assert_true(isnan(rows[1].value));
  assert_string_equal(rows[1].null_reason, "no stations in 松江区");
  assert_int_equal(rows[1].met, -1);
  /* No data: one row without district. */
  assert_string_equal(rows[6].indicator_id, "sponge_share");
  assert_null(rows[6].district);
  assert_string_equal(rows[6].status, "no data");
  /* Manual without target. */
  assert_string_equal(rows[7].indicator_id, "elevators");
  assert_int_equal(rows[7].has_target, 0);
  assert_int_equal(rows[7].met, -1);
  /* Run 2: park coverage in 松江区 95 % met. */
  assert_int_equal(rows[8].run_id, id2);
  assert_near(rows[8].value, 80, 1e-12);
  assert_string_equal(rows[12].district, "松江区");
  assert_near(rows[12].value, 95, 1e-12);
  assert_int_equal(rows[12].met, 1);
  pm_history_rows_destroy(rows, n);

  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_non_null(f);
  assert_int_equal(pm_history_print(ctx, store, &(pm_history_options){.plan_id = "qingpu-2024-2026"}, f), PM_OK);
  fclose(f);
  char h1[64], h2[64];
  snprintf(h1, sizeof h1, "#%lld 2026-01-01 08:00", (long long)id1);
  snprintf(h2, sizeof h2, "#%lld 2026-02-01 08:00", (long long)id2);
  if (!strstr(text, h1) || !strstr(text, h2) || !strstr(text, "20% ✗") ||
      !strstr(text, "80% ✗") || !strstr(text, "66.67% ✗") || !strstr(text, "95% ✓") ||
      !strstr(text, "35 台") || !strstr(text, "40 台") || !strstr(text, "≥ 100%") ||
      !strstr(text, "2 runs recorded"))
    fail_msg("unexpected history table:\n%s", text);
  /* sponge_share never had data: no row of its own, named under the table */
  if (strstr(text, "\nsponge_share") || strstr(text, "no data") ||
      !strstr(text, "Left out, without data in every run: sponge_share"))
    fail_msg("an indicator without data is shown:\n%s", text);
  /* One line per (indicator, district): 7 + header + title + blank + the left-out line. */
  size_t lines = 0;
  for (const char *p = text; *p; p++) lines += *p == '\n';
  assert_int_equal(lines, 7 + 4);
  free(text);

  /* --indicator: that indicator alone, even without data */
  f = open_memstream(&text, &len);
  pm_history_options one_ind = {.plan_id = "qingpu-2024-2026", .indicator_id = "park_coverage"};
  assert_int_equal(pm_history_print(ctx, store, &one_ind, f), PM_OK);
  fclose(f);
  if (!strstr(text, "park_coverage") || strstr(text, "transfer_50m") || strstr(text, "elevators") ||
      strstr(text, "Left out"))
    fail_msg("--indicator park_coverage shows:\n%s", text);
  free(text);
  f = open_memstream(&text, &len);
  one_ind.indicator_id = "sponge_share";
  assert_int_equal(pm_history_print(ctx, store, &one_ind, f), PM_OK);
  fclose(f);
  if (!strstr(text, "sponge_share") || !strstr(text, "no data"))
    fail_msg("--indicator sponge_share shows:\n%s", text);
  free(text);
  one_ind.indicator_id = "sponge";
  assert_int_equal(pm_history_print(ctx, store, &one_ind, stdout), PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(ctx),
                         "the indicators are: transfer_50m, park_coverage, sponge_share, elevators"));

  /* JSON: every run and result kept, the left-out indicator named */
  f = open_memstream(&text, &len);
  pm_history_options js = {.plan_id = "qingpu-2024-2026", .json = 1};
  assert_int_equal(pm_history_print(ctx, store, &js, f), PM_OK);
  fclose(f);
  char want[160];
  snprintf(want, sizeof want, "{\"run_id\": %lld, \"plan\": \"qingpu-2024-2026\"", (long long)id2);
  if (!strstr(text, want) || !strstr(text, "\"finished_at\": \"2026-02-01T08:00:00Z\"") ||
      !strstr(text, "\"district\": \"松江区\", \"value\": 95, \"unit\": \"%\"") ||
      !strstr(text, "\"met\": false, \"n_gaps\": 2}") ||
      !strstr(text, "\"null_reason\": \"no stations in 松江区\"") ||
      !strstr(text, "\"left_out_without_data\": [\n    {\"plan\": \"qingpu-2024-2026\", "
                    "\"indicator_id\": \"sponge_share\"}"))
    fail_msg("unexpected history JSON:\n%s", text);
  size_t n_results = 0;
  for (const char *p = text; (p = strstr(p, "\"indicator_id\": \"")); p++) n_results++;
  assert_int_equal(n_results, 2 * 7 + 1);
  free(text);

  assert_int_equal(pm_history_print(ctx, store, &(pm_history_options){.plan_id = "other-plan"}, stdout), PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(ctx), "other-plan"));

  pm_run_result_destroy(one);
  pm_run_result_destroy(two);
  pm_store_close(store);
}

/* Three runs on one day are told apart: the header gives the run id and the time. */
static void test_runs_of_one_day(void **state) {
  pm_context *ctx = *state;
  pm_store *store = pm_test_store(ctx, "oneday.sqlite", 32651);
  const char *times[] = {"2026-11-29T08:05:00Z", "2026-11-29T13:42:10Z", "2026-11-29T13:58:59Z"};
  int64_t ids[3];
  for (int i = 0; i < 3; i++) {
    pm_run_result *run = make_run(ctx, i > 0);
    free(run->generated_at);
    pm_strdup(ctx, &run->generated_at, times[i]);
    ids[i] = record(store, run, NULL, 1);
    pm_run_result_destroy(run);
  }
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  assert_int_equal(pm_history_print(ctx, store, NULL, f), PM_OK);
  fclose(f);
  const char *hm[] = {"08:05", "13:42", "13:58"};
  for (int i = 0; i < 3; i++) {
    char h[64];
    snprintf(h, sizeof h, "#%lld 2026-11-29 %s", (long long)ids[i], hm[i]);
    if (!strstr(text, h)) fail_msg("no column '%s' in:\n%s", h, text);
  }
  free(text);
  pm_store_close(store);
}

/* The caller's transaction decides: outside one the history refuses; a rollback records nothing. */
static void test_transactions(void **state) {
  pm_context *ctx = *state;
  pm_store *store = pm_test_store(ctx, "tx.sqlite", 32651);
  pm_run_result *one = make_run(ctx, 0);
  pm_run_result *back = NULL;
  assert_int_equal(pm_history_load_run(store, 0, &back), PM_ENOTFOUND);
  int64_t id = 0;
  assert_int_equal(pm_history_record(store, one, NULL, NULL, NULL, 0, &id), PM_EINTERNAL);
  assert_int_equal(id, 0);
  assert_int_equal(pm_store_begin(store), PM_OK);
  assert_int_equal(pm_history_record(store, one, NULL, NULL, NULL, 0, &id), PM_OK);
  assert_true(id > 0);
  pm_store_rollback(store);
  assert_int_equal(pm_history_load_run(store, 0, &back), PM_ENOTFOUND);
  assert_null(back);
  pm_history_row *rows = NULL;
  size_t n = 1;
  assert_int_equal(pm_history_list(store, NULL, &rows, &n), PM_OK);
  assert_int_equal(n, 0);
  pm_history_rows_destroy(rows, n);
  assert_int_equal(pm_history_print(ctx, store, NULL, stdout), PM_ENOTFOUND);
  pm_run_result_destroy(one);
  pm_store_close(store);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      pm_test_case(test_record_and_load),
      pm_test_case(test_old_no_data_reason),
      pm_test_case(test_list_and_print),
      pm_test_case(test_runs_of_one_day),
      pm_test_case(test_transactions),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
