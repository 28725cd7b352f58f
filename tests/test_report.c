/* test_report.c: the JSON, CSV, Markdown and terminal report writers on a hand-built run. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "planmetrics/report.h"
#include "fixtures.h"

/* A run with: a share with gaps and a null district, a count with classes and 25 gaps (met in
 * `_all`, missed in 松江区), an indicator without data (no results, as planmetrics 0.1 recorded
 * them), a manual figure, and an indicator without data with a null result per district (as a run
 * makes them). Chinese names throughout. */
static pm_run_result *make_run(pm_context *ctx) {
  pm_run_result *run =
      pm_test_run(ctx, "qingpu-2024-2026", "青浦区城市管理精细化三年行动计划（2024-2026年）",
                  "EPSG:32651", "2026-01-01T00:00:00Z", 5);
  pm_strdup(ctx, &run->plan_hash, "abc123");
  pm_strdup(ctx, &run->timezone, "Asia/Shanghai");
  const char *names[] = {"青浦区", "松江区", "_all"};

  /* 1. transfer: 3 of 15 stations = 20 %; 松江区 has no station (null). */
  pm_indicator_result *ir = &run->indicators[0];
  pm_test_indicator(ctx, ir, "transfer_50m", "轨道交通和公共交通换乘距离在50米以内的占比",
                    "transfer_coverage", "%", ">=", 100);
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, 3), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[0], 3, 15, NULL), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[1], 0, 0, "no stations in 松江区"), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[2], 3, 15, NULL), PM_OK);
  for (int r = 0; r < 3; r += 2) {
    assert_int_equal(pm_result_add_gap(ctx, &ir->results[r], "metro_stations#7", "赵巷, \"北\"",
                                       "青浦区", 120.25, NAN, "bus_stops#9", NULL, 1000.5, 2000.25),
                     PM_OK);
    assert_int_equal(pm_result_add_gap(ctx, &ir->results[r], "metro_stations#3", "人民广场",
                                       "青浦区", 87.4, NAN, NULL, "line1\nline2\ttab\x01 \\ end",
                                       NAN, NAN),
                     PM_OK);
  }
  pm_indicator_result_apply_target(ir);

  /* 2. count of pocket parks: 5 and 2, target >= 4; 25 gaps in 松江区. */
  ir = &run->indicators[1];
  pm_test_indicator(ctx, ir, "pocket_parks", "口袋公园", "count", "count", ">=", 4);
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, 3), PM_OK);
  double counts[] = {5, 2, 7};
  for (int r = 0; r < 3; r++) {
    ir->results[r].has_value = 1;
    ir->results[r].value = counts[r];
    ir->results[r].numerator = counts[r];
  }
  assert_int_equal(pm_result_add_class(ctx, &ir->results[0], "pocket park (400-10000 m2, 300 m)", 5),
                   PM_OK);
  assert_int_equal(pm_result_add_class(ctx, &ir->results[2], "pocket park (400-10000 m2, 300 m)", 7),
                   PM_OK);
  for (int g = 25; g >= 1; g--) {
    char id[32];
    snprintf(id, sizeof id, "parks#%d", g);
    assert_int_equal(pm_result_add_gap(ctx, &ir->results[1], id, NULL, "松江区", NAN, g * 0.5, NULL,
                                       NULL, NAN, NAN),
                     PM_OK);
  }
  pm_indicator_result_apply_target(ir);

  /* 3. no data. */
  ir = &run->indicators[2];
  pm_test_indicator(ctx, ir, "sponge_share", "海绵城市建成区面积比例", "area_share", "%", ">=", 40);
  pm_test_no_data(ctx, ir, "layer sponge_zones is not in the data", NULL, 0);

  /* 4. manual figure: 35 elevators against >= 30. */
  ir = &run->indicators[3];
  pm_test_indicator(ctx, ir, "elevators", "既有多层住宅加装电梯", "manual", "台", ">=", 30);
  ir->status = PM_IND_MANUAL;
  const char *all[] = {"_all"};
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, all, 1), PM_OK);
  ir->results[0].has_value = 1;
  ir->results[0].value = 35;
  pm_indicator_result_apply_target(ir);

  /* 5. no data, with its null results. */
  ir = &run->indicators[4];
  pm_test_indicator(ctx, ir, "greenway_km", "绿道", "length", "km", ">=", 10);
  pm_test_no_data(ctx, ir, "layer greenways (data/greenways.gpkg) is not in the data", names, 3);
  return run;
}

/* pm_report_number writes most numbers without printf; every one must be printf's own: random
 * doubles over the whole range a report sees (bit patterns from 1e-6 to 1e17, and decimals with
 * few digits, where ties to ten digits are likeliest), each compared with "%.0f"/"%.10g". */
static void test_numbers_as_printf(void **state) {
  (void)state;
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  char got[64], want[64];
  size_t differing = 0;
  for (int i = 0; i < 400000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    double v;
    if (i % 2) {
      int e2 = (int)(x % 78) - 20; /* 2^-20 .. 2^57 */
      v = ldexp((double)(x >> 11) / 9007199254740992.0 + 1.0, e2);
    } else {
      static const double scale[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e9, 1e11};
      v = (double)(x >> 30) / scale[(x >> 4) % 9]; /* decimals such as 12345.678 */
    }
    if (x & 1) v = -v;
    if (v == trunc(v) && fabs(v) < 1e15)
      snprintf(want, sizeof want, "%.0f", v);
    else
      snprintf(want, sizeof want, "%.10g", v);
    pm_report_number(v, got, sizeof got);
    if (strcmp(got, want) != 0 && differing++ < 5)
      print_error("%.17g: pm_report_number gives %s, printf %s\n", v, got, want);
  }
  assert_int_equal(differing, 0);
}

static void test_numbers(void **state) {
  (void)state;
  char b[64];
  assert_string_equal(pm_report_number(20.000000000000004, b, sizeof b), "20");
  assert_string_equal(pm_report_number(2.0 / 3 * 100, b, sizeof b), "66.66666667");
  assert_string_equal(pm_report_number(87.4, b, sizeof b), "87.4");
  assert_string_equal(pm_report_number(-0.0, b, sizeof b), "0");
  assert_string_equal(pm_report_number(3456789, b, sizeof b), "3456789");
  assert_string_equal(pm_report_number(0.30000000000000004, b, sizeof b), "0.3");
  assert_string_equal(pm_report_number(1e-7, b, sizeof b), "1e-07");
  assert_string_equal(pm_report_number(NAN, b, sizeof b), "");
  assert_string_equal(pm_report_number(INFINITY, b, sizeof b), "");

  assert_string_equal(pm_report_number(-1234567890123.0, b, sizeof b), "-1234567890123");
  assert_string_equal(pm_report_number(9999999999.5, b, sizeof b), "1e+10"); /* rounds up a digit */
  assert_string_equal(pm_report_number(0.00012345678905, b, sizeof b), "0.0001234567891");

  assert_string_equal(pm_report_format_value(2.0 / 3 * 100, "%", NULL, NAN, b, sizeof b), "66.67%");
  assert_string_equal(pm_report_format_value(12.5, "km", NULL, NAN, b, sizeof b), "12.5 km");
  assert_string_equal(pm_report_format_value(4, "count", ">=", 4, b, sizeof b), "4");
  /* 99.996 would round to 100 and look like the target is reached. */
  assert_string_equal(pm_report_format_value(99.996, "%", ">=", 100, b, sizeof b), "99.996%");
  assert_string_equal(pm_report_format_value(100, "%", ">=", 100, b, sizeof b), "100%");
  /* 40.004 against "<= 40" is missed: show it. */
  assert_string_equal(pm_report_format_value(40.004, "%", "<=", 40, b, sizeof b), "40.004%");
  assert_string_equal(pm_report_format_value(40.01, "%", "<=", 40, b, sizeof b), "40.01%");
}

static void test_text_width(void **state) {
  (void)state;
  assert_int_equal(pm__utf8_width("abc"), 3);
  assert_int_equal(pm__utf8_width("青浦区"), 6);
  assert_int_equal(pm__utf8_width("（2024）"), 8); /* fullwidth parentheses */
  assert_int_equal(pm__utf8_width("e\xcc\x81"), 1);  /* e + combining acute */
  assert_int_equal(pm__utf8_width("\xff" "a"), 2);   /* an invalid byte shows as one column */
  assert_int_equal(pm__utf8_width("✓"), 1);
  assert_int_equal(pm__utf8_width(""), 0);
  assert_int_equal(pm__utf8_width(NULL), 0);
}

static void test_json(void **state) {
  pm_context *ctx = *state;
  pm_run_result *run = make_run(ctx);
  const char *path = pm_test_path("report.json");
  assert_int_equal(pm_report_write_json(ctx, run, path), PM_OK);
  char *j = pm_test_read_file(path);
  assert_contains(j, "\"plan\": \"qingpu-2024-2026\"");
  assert_contains(j, "\"title\": \"青浦区城市管理精细化三年行动计划（2024-2026年）\"");
  assert_contains(j, "\"crs\": \"EPSG:32651\"");
  assert_contains(j, "\"generated_at\": \"2026-01-01T00:00:00Z\"");
  assert_contains(j, "\"run_id\": null");
  assert_contains(j, "\"id\": \"transfer_50m\"");
  assert_contains(j, "\"metric\": \"transfer_coverage\"");
  assert_contains(j, "\"unit\": \"%\"");
  assert_contains(j, "\"status\": \"computed\"");
  assert_contains(j, "\"target_op\": \">=\"");
  assert_contains(j, "\"district\": \"青浦区\",\n          \"value\": 20,\n"
                     "          \"null_reason\": null,\n          \"numerator\": 3,\n"
                     "          \"denominator\": 15,\n          \"target\": 100,\n"
                     "          \"met\": false,\n          \"n_gaps\": 2");
  assert_contains(j, "\"district\": \"松江区\",\n          \"value\": null,\n"
                     "          \"null_reason\": \"no stations in 松江区\",\n"
                     "          \"numerator\": 0,\n          \"denominator\": 0,\n"
                     "          \"target\": 100,\n          \"met\": null");
  assert_contains(j, "{\"id\": \"metro_stations#7\", \"name\": \"赵巷, \\\"北\\\"\", "
                     "\"district\": \"青浦区\", \"distance_m\": 120.25, \"shortfall\": null, "
                     "\"nearest\": \"bus_stops#9\", \"note\": null, \"x\": 1000.5, \"y\": 2000.25}");
  assert_contains(j, "\"note\": \"line1\\nline2\\ttab\\u0001 \\\\ end\"");
  /* a count: numerator only */
  assert_contains(j, "\"value\": 5,\n          \"null_reason\": null,\n          \"numerator\": 5,\n"
                     "          \"denominator\": null,\n          \"target\": 4,\n"
                     "          \"met\": true");
  assert_contains(j, "\"classes\": [{\"label\": \"pocket park (400-10000 m2, 300 m)\", \"count\": 5}]");
  assert_contains(j, "\"shortfall\": 12.5");
  assert_contains(j, "\"status\": \"no data\",\n      \"status_reason\": \"layer sponge_zones is "
                     "not in the data\",\n      \"target_op\": \">=\",\n      \"target\": 40,\n"
                     "      \"results\": []");
  assert_contains(j, "\"status\": \"manual\"");
  /* Not measured: no gap count (0 would read "nothing missing"). */
  assert_contains(j, "\"status\": \"no data\",\n      \"status_reason\": \"layer greenways "
                     "(data/greenways.gpkg) is not in the data\"");
  assert_contains(j, "\"district\": \"松江区\",\n          \"value\": null,\n"
                     "          \"null_reason\": \"layer greenways (data/greenways.gpkg) is not in "
                     "the data\",\n          \"numerator\": null,\n          \"denominator\": null,\n"
                     "          \"target\": 10,\n          \"met\": null,\n          \"n_gaps\": null,\n"
                     "          \"classes\": [],\n          \"gaps\": null\n");
  free(j);
  /* Valid JSON, and the parsed values are the ones written. */
  assert_int_equal(
      pm_test_system("python3 -c 'import json,sys; d=json.load(open(sys.argv[1], encoding=\"utf-8\"));"
                     " i=d[\"indicators\"]; r=i[0][\"results\"];"
                     " assert len(i)==5 and len(r)==3, d;"
                     " assert all(x[\"n_gaps\"] is None and x[\"gaps\"] is None for x in i[4][\"results\"]);"
                     " assert i[0][\"results\"][1][\"n_gaps\"]==0 and i[0][\"results\"][1][\"gaps\"]==[];"
                     " assert r[0][\"value\"]==20 and r[0][\"met\"] is False and r[1][\"value\"] is None;"
                     " assert r[0][\"gaps\"][0][\"name\"]==\"赵巷, \\\"北\\\"\";"
                     " assert r[0][\"gaps\"][1][\"note\"]==\"line1\\nline2\\ttab\\x01 \\\\ end\";"
                     " assert len(i[1][\"results\"][1][\"gaps\"])==25;"
                     " assert i[2][\"status\"]==\"no data\" and i[2][\"results\"]==[];"
                     " assert d[\"generated_at\"]==\"2026-01-01T00:00:00Z\"' '%s'",
                     path),
      0);
  pm_run_result_destroy(run);
}

static void test_csv(void **state) {
  pm_context *ctx = *state;
  pm_run_result *run = make_run(ctx);
  const char *path = pm_test_path("report.csv");
  assert_int_equal(pm_report_write_csv(ctx, run, path), PM_OK);
  char *c = pm_test_read_file(path);
  assert_memory_equal(c, "\xEF\xBB\xBF" "indicator_id,title,metric,unit,status,district,value,"
                         "numerator,denominator,target_op,target,met,n_gaps,worst_gaps,"
                         "null_reason\r\n",
                      strlen("\xEF\xBB\xBF" "indicator_id,title,metric,unit,status,district,value,"
                             "numerator,denominator,target_op,target,met,n_gaps,worst_gaps,"
                             "null_reason\r\n"));
  assert_contains(c, "\r\ntransfer_50m,轨道交通和公共交通换乘距离在50米以内的占比,transfer_coverage,%,"
                     "computed,青浦区,20,3,15,>=,100,false,2,\"metro_stations#7 (赵巷, \"\"北\"\"): "
                     "120.25 m; metro_stations#3 (人民广场): 87.4 m\",\r\n");
  assert_contains(c, "\r\ntransfer_50m,轨道交通和公共交通换乘距离在50米以内的占比,transfer_coverage,%,"
                     "computed,松江区,,0,0,>=,100,,0,,no stations in 松江区\r\n");
  assert_contains(c, "\r\npocket_parks,口袋公园,count,count,computed,松江区,2,2,,>=,4,false,25,"
                     "parks#25: short by 12.5; parks#24: short by 12; parks#23: short by 11.5; "
                     "parks#22: short by 11; parks#21: short by 10.5; ... and 20 more,\r\n");
  assert_contains(c, "\r\nsponge_share,海绵城市建成区面积比例,area_share,%,no data,,,,,>=,40,,,,"
                     "layer sponge_zones is not in the data\r\n");
  assert_contains(c, "\r\ngreenway_km,绿道,length,km,no data,松江区,,,,>=,10,,,,layer greenways "
                     "(data/greenways.gpkg) is not in the data\r\n");
  assert_contains(c, "\r\nelevators,既有多层住宅加装电梯,manual,台,manual,_all,35,,,>=,30,true,0,,\r\n");
  free(c);
  /* Any CSV reader gets 1 + 3 + 3 + 1 + 1 + 3 rows of 15 fields, the quoted name intact. */
  assert_int_equal(
      pm_test_system("python3 -c 'import csv,sys; rows=list(csv.reader(open(sys.argv[1], "
                     "encoding=\"utf-8-sig\", newline=\"\"))); assert len(rows)==12, rows;"
                     " assert all(len(r)==15 for r in rows), rows;"
                     " assert rows[1][13].startswith(\"metro_stations#7 (赵巷, \\\"北\\\")\"), rows[1]' '%s'",
                     path),
      0);
  pm_run_result_destroy(run);
}

static void test_markdown(void **state) {
  pm_context *ctx = *state;
  pm_run_result *run = make_run(ctx);
  run->run_id = 7;
  const char *path = pm_test_path("report.md");
  assert_int_equal(pm_report_write_markdown(ctx, run, path), PM_OK);
  char *m = pm_test_read_file(path);
  assert_contains(m, "# 青浦区城市管理精细化三年行动计划（2024-2026年）\n\n- Plan: `qingpu-2024-2026`\n"
                     "- CRS: EPSG:32651\n- Generated: 2026-01-01 08:00 +08:00 (Asia/Shanghai)\n- Run: 7\n");
  assert_contains(m, "## transfer\\_50m — 轨道交通和公共交通换乘距离在50米以内的占比\n\n"
                     "Metric: `transfer_coverage` · Unit: % · Target: ≥ 100% · Status: computed\n");
  assert_contains(m, "| District | Value | Numerator | Denominator | Target | Met |\n"
                     "|---|---:|---:|---:|---:|:-:|\n"
                     "| 青浦区 | 20% | 3 | 15 | ≥ 100% | ✗ |\n"
                     "| 松江区 | — (no stations in 松江区) | 0 | 0 | ≥ 100% |  |\n"
                     "| \\_all | 20% | 3 | 15 | ≥ 100% | ✗ |\n");
  assert_contains(m, "### Gaps in 青浦区 (2)\n\n| # | ID | Name | Distance (m) | Nearest | Note |\n");
  assert_contains(m, "| 1 | `metro_stations#7` | 赵巷, \"北\" | 120.25 | bus\\_stops#9 |  |\n");
  assert_contains(m, "| 2 | `metro_stations#3` | 人民广场 | 87.4 |  | line1 line2 tab  \\\\ end |\n");
  /* `_all` repeats the districts' gaps: listed once only. */
  assert_true(strstr(m, "### Gaps in \\_all") == NULL);
  /* 25 gaps: the worst 20, then the count of the rest. */
  assert_contains(m, "### Gaps in 松江区 (25)\n\n| # | ID | Shortfall |\n|---:|---|---:|\n"
                     "| 1 | `parks#25` | 12.5 |\n");
  assert_contains(m, "| 20 | `parks#6` | 3 |\n\n... and 5 more\n");
  assert_true(strstr(m, "parks#5`") == NULL);
  assert_contains(m, "| 松江区 | 2 | 2 |  | ≥ 4 | ✗ |\n");
  assert_contains(m, "| 青浦区 | pocket park (400-10000 m2, 300 m) | 5 |\n");
  assert_contains(m, "Status: no data (layer sponge\\_zones is not in the data)\n");
  assert_contains(m, "| `elevators` | 既有多层住宅加装电梯 | 35 台 | ≥ 30 台 | ✓ |\n");
  assert_contains(m, "| `greenway_km` | 绿道 | no data | ≥ 10 km |  |\n");
  assert_contains(m, "Status: no data (layer greenways (data/greenways.gpkg) is not in the data)\n");
  assert_null(strstr(m, "no data: no data"));
  /* `_all` meets the pocket-park target, 松江区 does not: the rule is said there, and only there. */
  assert_contains(m, "| \\_all | 7 | 7 |  | ≥ 4 | ✓ |\n\nMissed: a target is met only if every "
                     "district meets it; `_all` meets it, 松江区 does not.\n");
  assert_int_equal(pm_test_count(m, "a target is met only if every district meets it"), 1);
  free(m);
  pm_run_result_destroy(run);
}

/* The display column at which `needle` starts on the line that contains `key`. */
static size_t column_of(const char *text, const char *key, const char *needle) {
  const char *line = text;
  while (line && *line) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) : strlen(line);
    char *copy = strndup(line, len);
    assert_non_null(copy);
    char *k = strstr(copy, key), *n = k ? strstr(k + strlen(key), needle) : NULL;
    if (n) {
      *n = '\0';
      size_t col = pm__utf8_width(copy);
      free(copy);
      return col;
    }
    free(copy);
    line = end ? end + 1 : NULL;
  }
  fail_msg("no line with %s ... %s", key, needle);
  return 0;
}

static char *summary_text(pm_context *ctx, const pm_run_result *run, int color) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(pm_report_print_summary(ctx, run, f, color), PM_OK);
  fclose(f);
  return buf;
}

static void test_summary(void **state) {
  pm_context *ctx = *state;
  pm_run_result *run = make_run(ctx);
  char *s = summary_text(ctx, run, 0);
  assert_contains(s, "青浦区城市管理精细化三年行动计划（2024-2026年）\n"
                     "plan qingpu-2024-2026 · EPSG:32651 · 2026-01-01 08:00 +08:00 (Asia/Shanghai)\n");
  assert_true(strstr(s, "\033[") == NULL);
  /* Values right-aligned in one column whatever the width of the district names. */
  size_t c1 = column_of(s, "青浦区", "20%");
  size_t c2 = column_of(s, "_all", "20%");
  assert_int_equal(c1, c2);
  assert_int_equal(column_of(s, "Indicator", "District"), column_of(s, "transfer_50m", "青浦区"));
  assert_int_equal(column_of(s, "Indicator", "Met") + 0, column_of(s, "pocket_parks", "✓"));
  assert_contains(s, "✗");
  assert_contains(s, "n/a");
  assert_contains(s, "no stations in 松江区");
  assert_contains(s, "manual");
  /* Indicators without data: one line naming them, no row each. */
  assert_contains(s, "Targets: 1 met, 2 missed; 2 indicators without data; 1 reported by hand.\n"
                     "2 indicators need layers this data set lacks (no data): sponge_share, "
                     "greenway_km\n  — the reports name each missing layer and its file.\n");
  assert_int_equal(pm_test_count(s, "sponge_share"), 1);
  assert_int_equal(pm_test_count(s, "greenway_km"), 1);
  assert_null(strstr(s, "is not in the data"));
  free(s);
  s = summary_text(ctx, run, 1);
  assert_contains(s, "\033[31m✗\033[0m");
  assert_contains(s, "\033[32m✓\033[0m");
  free(s);
  pm_run_result_destroy(run);
}

/* A failed write names the path and leaves neither a half report nor a temporary file. */
static void test_write_failure(void **state) {
  pm_context *ctx = *state;
  pm_run_result *run = make_run(ctx);
  const char *missing = pm_test_path("no/such/dir/report.json");
  assert_int_equal(pm_report_write_json(ctx, run, missing), PM_EIO);
  assert_non_null(strstr(pm_context_message(ctx), missing));

  /* The target is a directory: the rename fails, the temporary file is removed. */
  char dir[512];
  snprintf(dir, sizeof dir, "%s", pm_test_path("isdir.md"));
  assert_int_equal(pm_test_system("mkdir -p '%s'", dir), 0);
  assert_int_equal(pm_report_write_markdown(ctx, run, dir), PM_EIO);
  assert_non_null(strstr(pm_context_message(ctx), dir));
  assert_int_equal(pm_test_system("ls -a '%s' | grep -q '\\.tmp\\.'", pm_test_tmpdir()), 1);

  /* Rewriting an existing report replaces it whole. */
  const char *path = pm_test_path("again.csv");
  pm_test_write_file(path, "old");
  assert_int_equal(pm_report_write_csv(ctx, run, path), PM_OK);
  char *c = pm_test_read_file(path);
  assert_true(strncmp(c, "\xEF\xBB\xBFindicator_id,", 16) == 0);
  free(c);
  pm_run_result_destroy(run);
}

/* A report written through a symbolic link updates the file the link names and keeps the link:
 * a link to another file (the file is replaced whole, beside it), and a link to an open
 * descriptor (/dev/stdout is /proc/self/fd/1: written in place, never replaced by a file). */
static void test_write_through_links(void **state) {
  pm_context *ctx = *state;
  pm_run_result *run = make_run(ctx);
  char real[512], link[512];
  snprintf(real, sizeof real, "%s", pm_test_path("real.json"));
  snprintf(link, sizeof link, "%s", pm_test_path("link.json"));
  pm_test_write_file(real, "old");
  assert_int_equal(pm_test_system("ln -sf real.json '%s'", link), 0);
  assert_int_equal(pm_report_write_json(ctx, run, link), PM_OK);
  struct stat sb;
  assert_int_equal(lstat(link, &sb), 0);
  assert_true(S_ISLNK(sb.st_mode));
  char *c = pm_test_read_file(real);
  assert_non_null(strstr(c, "\"plan\": "));
  free(c);

  /* a descriptor link, as /dev/stdout is when standard output is a file */
  char out[512], fdlink[512];
  snprintf(out, sizeof out, "%s", pm_test_path("stdout.txt"));
  snprintf(fdlink, sizeof fdlink, "%s", pm_test_path("fd-link"));
  int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(pm_test_system("ln -sf /proc/%d/fd/%d '%s'", (int)getpid(), fd, fdlink), 0);
  assert_int_equal(pm_report_write_csv(ctx, run, fdlink), PM_OK);
  close(fd);
  assert_int_equal(lstat(fdlink, &sb), 0);
  assert_true(S_ISLNK(sb.st_mode));
  c = pm_test_read_file(out);
  assert_true(strncmp(c, "\xEF\xBB\xBFindicator_id,", 16) == 0);
  free(c);
  pm_run_result_destroy(run);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_numbers_as_printf),  cmocka_unit_test(test_text_width),
      pm_test_case(test_json),     pm_test_case(test_csv),
      pm_test_case(test_markdown), pm_test_case(test_summary),
      pm_test_case(test_write_failure), pm_test_case(test_write_through_links),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
