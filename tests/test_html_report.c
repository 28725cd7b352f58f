/* test_html_report.c: the HTML report: map view transform, escaping, SVG paths, a whole page. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planmetrics/history.h"
#include "planmetrics/html.h"
#include "report/html_internal.h"
#include "fixtures.h"

/* ---------- view ---------- */

/* 100 x 50 m into 220 px wide, at most 200 px high, 10 px margin: the width decides (2 px/m),
 * the map is 50 * 2 + 20 = 120 px high; (0, 50) is the top-left data corner at (10, 10). */
static void test_view_fit_wide(void **state) {
  pm_context *ctx = *state;
  pm__html_view v;
  assert_int_equal(pm__html_view_fit(ctx, 0, 0, 100, 50, 220, 200, 10, &v), PM_OK);
  assert_near(v.scale, 2, 1e-12);
  assert_near(v.width_px, 220, 1e-12);
  assert_near(v.height_px, 120, 1e-12);
  double x, y;
  pm__html_view_apply(&v, 0, 50, &x, &y);
  assert_near(x, 10, 1e-9);
  assert_near(y, 10, 1e-9);
  pm__html_view_apply(&v, 100, 0, &x, &y); /* y flipped: the lowest y is at the bottom */
  assert_near(x, 210, 1e-9);
  assert_near(y, 110, 1e-9);
  pm__html_view_apply(&v, 0, 0, &x, &y);
  assert_near(x, 10, 1e-9);
  assert_near(y, 110, 1e-9);
  /* The shown extent is the whole SVG: its corners map to the SVG's corners. */
  pm__html_view_apply(&v, v.minx, v.maxy, &x, &y);
  assert_near(x, 0, 1e-9);
  assert_near(y, 0, 1e-9);
  pm__html_view_apply(&v, v.maxx, v.miny, &x, &y);
  assert_near(x, 220, 1e-9);
  assert_near(y, 120, 1e-9);
}

/* A tall extent (10 x 100 m) is limited by the height (180 px usable: 1.8 px/m) and centred
 * horizontally in the 220 px map. */
static void test_view_fit_tall(void **state) {
  pm_context *ctx = *state;
  pm__html_view v;
  assert_int_equal(pm__html_view_fit(ctx, 0, 0, 10, 100, 220, 200, 10, &v), PM_OK);
  assert_near(v.scale, 1.8, 1e-12);
  assert_near(v.height_px, 200, 1e-12);
  double x, y;
  pm__html_view_apply(&v, 5, 50, &x, &y);
  assert_near(x, 110, 1e-9);
  assert_near(y, 100, 1e-9);
  pm__html_view_apply(&v, 0, 100, &x, &y);
  assert_near(x, 110 - 9, 1e-9);
  assert_near(y, 10, 1e-9);
}

/* One point: 1 km around it, in 100 px usable: 0.1 px/m, the point in the middle. */
static void test_view_fit_point_and_errors(void **state) {
  pm_context *ctx = *state;
  pm__html_view v;
  assert_int_equal(pm__html_view_fit(ctx, 500, 500, 500, 500, 120, 120, 10, &v), PM_OK);
  assert_near(v.scale, 0.1, 1e-12);
  double x, y;
  pm__html_view_apply(&v, 500, 500, &x, &y);
  assert_near(x, 60, 1e-9);
  assert_near(y, 60, 1e-9);
  assert_int_equal(pm__html_view_fit(ctx, 0, 0, 10, 10, 20, 100, 10, &v), PM_EINPUT);
  assert_int_equal(pm__html_view_fit(ctx, NAN, 0, 10, 10, 200, 100, 10, &v), PM_EINPUT);
  assert_int_equal(pm__html_view_fit(ctx, 10, 0, 0, 10, 200, 100, 10, &v), PM_EINPUT);
}

/* ---------- escaping ---------- */

static void check_escape(pm_context *ctx, const char *in, const char *want) {
  char *out = NULL;
  assert_int_equal(pm__html_escape(ctx, in, &out), PM_OK);
  assert_string_equal(out, want);
  free(out);
}

static void test_escape(void **state) {
  pm_context *ctx = *state;
  check_escape(ctx, "<a href=\"x\">R&D's</a>", "&lt;a href=&quot;x&quot;&gt;R&amp;D&#39;s&lt;/a&gt;");
  check_escape(ctx, "人民广场（地铁站）", "人民广场（地铁站）");
  check_escape(ctx, "a\x01" "b\tc\nd\x7f", "ab\tc\nd");
  check_escape(ctx, "bad \xff byte \xe4\xb8", "bad \xEF\xBF\xBD byte \xEF\xBF\xBD\xEF\xBF\xBD");
  check_escape(ctx, "&amp;", "&amp;amp;");
  check_escape(ctx, NULL, "");
  check_escape(ctx, "", "");
}

/* ---------- SVG paths ---------- */

static void check_path(pm_context *ctx, const pm__html_view *v, const char *wkt, double simplify,
                       const char *want, size_t want_n) {
  size_t len = 0, n = 99;
  unsigned char *wkb = pm_test_wkb(ctx, wkt, 0, 0, &len);
  char *d = NULL;
  assert_int_equal(pm__html_svg_path(ctx, v, wkb, len, simplify, &d, &n), PM_OK);
  if (strcmp(d, want) != 0) fail_msg("%s: got '%s', want '%s'", wkt, d, want);
  assert_int_equal(n, want_n);
  free(d);
  free(wkb);
}

/* The view of test_view_fit_wide: px = (x + 5) * 2, py = (55 - y) * 2. */
static void test_svg_path(void **state) {
  pm_context *ctx = *state;
  pm__html_view v;
  assert_int_equal(pm__html_view_fit(ctx, 0, 0, 100, 50, 220, 200, 10, &v), PM_OK);
  check_path(ctx, &v, "POINT (10 40)", 0, "M30 30h0", 1);
  check_path(ctx, &v, "POINT (0.123 49.99)", 0, "M10.25 10.02h0", 1);
  check_path(ctx, &v, "POINT (-5.025 55.5)", 0, "M-.05-1h0", 1);
  check_path(ctx, &v, "MULTIPOINT ((0 0), (100 50))", 0, "M10 110h0M210 10h0", 2);
  /* Relative steps after the first point; the ring's closing point is not repeated. */
  check_path(ctx, &v, "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))", 0, "M10 110l20 0 0-20-20 0z", 4);
  check_path(ctx, &v, "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 2 2))", 0,
             "M10 110l20 0 0-20-20 0zM14 106l0-4 4 0z", 7);
  /* A point closer than 0.01 px to the previous one is dropped. */
  check_path(ctx, &v, "LINESTRING (0 0, 0.001 0, 10 0)", 0, "M10 110l20 0", 2);
  /* A 0.1 m kink is 0.2 px: kept without simplification, gone with a 1 px tolerance. */
  check_path(ctx, &v, "LINESTRING (0 0, 5 0.1, 10 0)", 0, "M10 110l10-.2 10 .2", 3);
  check_path(ctx, &v, "LINESTRING (0 0, 5 0.1, 10 0)", 1, "M10 110l20 0", 2);
  check_path(ctx, &v, "GEOMETRYCOLLECTION EMPTY", 0, "", 0);
  char *d = NULL;
  unsigned char junk[] = {1, 99, 0, 0, 0};
  assert_int_equal(pm__html_svg_path(ctx, &v, junk, sizeof junk, 0, &d, NULL), PM_EGEOM);
  assert_null(d);
}

/* ---------- a whole page ---------- */

#define HOSTILE_DISTRICT "长宁<区>&"

/* Two districts; a transfer indicator with a hostile title, 3 stations (two within 50 m), 60
 * gaps; an indicator without data; a count that `_all` meets and a district misses. `second`
 * changes the value as a later run would. */
static pm_run_result *make_run(pm_context *ctx, int second) {
  pm_run_result *run =
      pm_test_run(ctx, "html-test", "测试计划 <b>bold</b>", "EPSG:32651",
                  second ? "2026-02-01T08:00:00Z" : "2026-01-01T08:00:00Z", 3);
  pm_strdup(ctx, &run->plan_hash, "hash-1");
  pm_strdup(ctx, &run->timezone, "Asia/Shanghai");
  if (second) pm_strdup(ctx, &run->attributions, "{\"districts\": \"测试区划 <MIT>\"}");
  const char *names[] = {"青浦区", HOSTILE_DISTRICT, "_all"};
  pm_indicator_result *ir = &run->indicators[0];
  pm_test_indicator(ctx, ir, "transfer_50m", "<script>alert('x')</script>换乘",
                    "transfer_coverage", "%", ">=", 100);
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, 3), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[0], second ? 2 : 1, 2, NULL), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[1], 0, 0, "no stations <here>"), PM_OK);
  assert_int_equal(pm_result_set_share(ctx, &ir->results[2], second ? 2 : 1, 2, NULL), PM_OK);
  for (int i = 0; i < 60; i++) {
    char id[32];
    snprintf(id, sizeof id, "metro_stations#%d", i);
    assert_int_equal(pm_result_add_gap(ctx, &ir->results[2], id, "站 & <站>", "青浦区",
                                       200.0 - i, NAN, "bus_stops#1", NULL, 500, 500),
                     PM_OK);
  }
  pm_result_sort_gaps(&ir->results[2]);
  pm_test_add_detail_wkt(ctx, ir, "station", "青浦区", "metro_stations#1", "甲", 1, 30,
                         "bus_stops#1", "POINT (200 200)");
  pm_test_add_detail_wkt(ctx, ir, "station", "青浦区", "metro_stations#2", "乙", 1, 45,
                         "bus_stops#2", "POINT (400 400)");
  pm_test_add_detail_wkt(ctx, ir, "station", "青浦区", "metro_stations#3", "丙\"", 0, 80,
                         "bus_stops#3", "POINT (600 600)");
  pm_test_add_detail_wkt(ctx, ir, "segment", "青浦区", "metro_stations#3", "丙", 0, 80,
                         "bus_stops#3", "LINESTRING (600 600, 680 600)");
  pm_indicator_result_apply_target(ir);

  ir = &run->indicators[1];
  pm_test_indicator(ctx, ir, "pocket_parks", "口袋公园", "count", "count", ">=", 4);
  pm_test_no_data(ctx, ir, "layer parks (data/parks.gpkg) is not in the data", names, 3);

  ir = &run->indicators[2];
  pm_test_indicator(ctx, ir, "blocks", "美丽街区", "count", "count", ">=", 4);
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, 3), PM_OK);
  double counts[] = {5, 2, 7};
  for (int r = 0; r < 3; r++) {
    ir->results[r].has_value = 1;
    ir->results[r].value = ir->results[r].numerator = counts[r];
  }
  /* in 青浦区 only: its map shows the same area as the transfer map */
  pm_test_add_detail_wkt(ctx, ir, "counted", "青浦区", "blocks#1", "街区一", -1, NAN, NULL,
                         "POINT (250 750)");
  /* on 青浦区's name: named only once zoomed in */
  pm_test_add_detail_wkt(ctx, ir, "counted", "青浦区", "blocks#2", "街区二", -1, NAN, NULL,
                         "POINT (505 500)");
  pm_indicator_result_apply_target(ir);
  return run;
}

static void add_district(pm_context *ctx, pm_layer_writer *w, int64_t fid, const char *name,
                         const char *wkt) {
  size_t len = 0;
  unsigned char *wkb = pm_test_wkb(ctx, wkt, 0, 0, &len);
  pm_value v[2] = {{.s = "区"}, {.s = name}};
  assert_int_equal(pm_layer_writer_add(w, fid, wkb, len, v), PM_OK);
  free(wkb);
}

static pm_store *make_store_as(pm_context *ctx, const char *name, const char *layer,
                               const char *field) {
  pm_store *store = pm_test_store(ctx, name, 32651);
  assert_int_equal(pm_store_begin(store), PM_OK);
  pm_field_def f[2] = {{"kind", PM_FIELD_TEXT}, {field, PM_FIELD_TEXT}};
  pm_layer_writer *w = NULL;
  assert_int_equal(pm_store_layer_create(store, layer, PM_KIND_POLYGON, 0, f, 2, &w), PM_OK);
  add_district(ctx, w, 1, "青浦区", "MULTIPOLYGON (((0 0, 1000 0, 1000 1000, 0 1000, 0 0)))");
  add_district(ctx, w, 2, HOSTILE_DISTRICT,
               "MULTIPOLYGON (((1000 0, 2000 0, 2000 1000, 1000 1000, 1000 0)))");
  add_district(ctx, w, 3, "松江区", "MULTIPOLYGON (((0 5000, 10 5000, 10 5010, 0 5000)))");
  assert_int_equal(pm_layer_writer_finish(w), PM_OK);
  pm_layer_writer_destroy(w);
  pm_layer_info info;
  memset(&info, 0, sizeof info);
  info.name = (char *)layer;
  info.kind = PM_KIND_POLYGON;
  info.geometry_type = (char *)"MULTIPOLYGON";
  info.source_path = (char *)"data/districts.shp";
  info.source_hash = (char *)"h1";
  info.source_crs = (char *)"EPSG:4326";
  info.ingested_at = (char *)"2026-01-01T07:00:00Z";
  info.n_stored = 3;
  assert_int_equal(pm_store_put_layer_info(store, &info), PM_OK);
  /* Base-map layers: OSM roads (a primary road and a footway in 青浦区), a lake (no OSM columns:
   * judged by its name), and bus stops (points: never on the base map). */
  pm_field_def rf[3] = {{"osm_id", PM_FIELD_TEXT}, {"name", PM_FIELD_TEXT}, {"highway", PM_FIELD_TEXT}};
  assert_int_equal(pm_store_layer_create(store, "roads", PM_KIND_LINE, 0, rf, 3, &w), PM_OK);
  const char *roads[][3] = {{"MULTILINESTRING ((100 100, 900 900))", "大道", "primary"},
                            {"MULTILINESTRING ((100 900, 900 100))", "小径", "footway"}};
  for (int i = 0; i < 2; i++) {
    size_t len = 0;
    unsigned char *wkb = pm_test_wkb(ctx, roads[i][0], 0, 0, &len);
    pm_value v[3] = {{.s = "1"}, {.s = roads[i][1]}, {.s = roads[i][2]}};
    assert_int_equal(pm_layer_writer_add(w, i + 1, wkb, len, v), PM_OK);
    free(wkb);
  }
  assert_int_equal(pm_layer_writer_finish(w), PM_OK);
  pm_layer_writer_destroy(w);
  pm_layer_info ri = {.name = (char *)"roads", .kind = PM_KIND_LINE,
                      .geometry_type = (char *)"MULTILINESTRING",
                      .source_path = (char *)"data/city.osm.pbf", .source_layer = (char *)"lines",
                      .source_hash = (char *)"h2-new", .source_crs = (char *)"EPSG:4326",
                      .ingested_at = (char *)"2026-03-01T07:00:00Z", .n_stored = 2};
  assert_int_equal(pm_store_put_layer_info(store, &ri), PM_OK);
  pm_field_def lf[1] = {{"name", PM_FIELD_TEXT}};
  assert_int_equal(pm_store_layer_create(store, "lakes", PM_KIND_POLYGON, 0, lf, 1, &w), PM_OK);
  size_t llen = 0;
  unsigned char *lwkb =
      pm_test_wkb(ctx, "MULTIPOLYGON (((300 300, 400 300, 400 400, 300 300)))", 0, 0, &llen);
  pm_value lv[1] = {{.s = "湖"}};
  assert_int_equal(pm_layer_writer_add(w, 1, lwkb, llen, lv), PM_OK);
  free(lwkb);
  assert_int_equal(pm_layer_writer_finish(w), PM_OK);
  pm_layer_writer_destroy(w);
  pm_layer_info lk = {.name = (char *)"lakes", .kind = PM_KIND_POLYGON,
                      .geometry_type = (char *)"MULTIPOLYGON"};
  assert_int_equal(pm_store_put_layer_info(store, &lk), PM_OK);
  for (int second = 0; second < 2; second++) {
    pm_run_result *run = make_run(ctx, second);
    pm_strdup(ctx, &run->districts_layer, layer);
    pm_strdup(ctx, &run->districts_name_field, field);
    int64_t id = 0;
    pm_status st = pm_history_record(store, run, "nowhere/plan.yaml",
                                     "{\"districts\": \"h1\", \"roads\": \"h2\"}", NULL, 1, &id);
    if (st) fail_msg("%s", pm_context_message(ctx));
    pm_run_result_destroy(run);
  }
  assert_int_equal(pm_store_commit(store), PM_OK);
  return store;
}

static pm_store *make_store(pm_context *ctx, const char *name) {
  return make_store_as(ctx, name, "districts", "NAME");
}

static void must_contain(const char *page, const char *needle) {
  if (!strstr(page, needle)) fail_msg("page lacks: %s", needle);
}

static void test_page(void **state) {
  pm_context *ctx = *state;
  pm_store *store = make_store(ctx, "html.sqlite");
  const char *out = pm_test_path("report.html");
  pm_status st = pm_html_write_report(store, 0, out);
  if (st) fail_msg("%s", pm_context_message(ctx));
  char *page = pm_test_read_file(out);
  /* Every text is escaped: no markup from names gets through. */
  must_contain(page, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;换乘");
  assert_null(strstr(page, "<script>alert"));
  assert_int_equal(pm_test_count(page, "<script>"), 1); /* the page's own */
  must_contain(page, "测试计划 &lt;b&gt;bold&lt;/b&gt;");
  must_contain(page, "长宁&lt;区&gt;&amp;");
  must_contain(page, "站 &amp; &lt;站&gt;");
  must_contain(page, "no stations &lt;here&gt;");
  /* Two maps (the no-data indicator has none) with both districts in scope as outlines; the
   * third district is not one of the run's. */
  assert_int_equal(pm_test_count(page, "<svg class=\"map"), 2);
  must_contain(page, "id=\"m1-d0\"");
  must_contain(page, "id=\"m1-d1\"");
  assert_null(strstr(page, "id=\"m1-d2\""));
  assert_null(strstr(page, "松江区"));
  /* A bar chart per indicator with data; the one without data is listed at the end, with its
   * reason once and no gap count. */
  assert_int_equal(pm_test_count(page, "<svg class=\"bars\""), 2);
  must_contain(page, "<section class=\"nodata\" id=\"nodata\"><h2>无数据的指标 Indicators without data "
                     "<small>1</small>");
  must_contain(page, "<tr id=\"ind-2\"><td class=\"num\">2</td><td>口袋公园");
  must_contain(page, "<td>layer parks (data/parks.gpkg) is not in the data</td></tr>");
  assert_int_equal(pm_test_count(page, "layer parks (data/parks.gpkg)"), 1);
  assert_null(strstr(page, "no data: no data"));
  assert_null(strstr(page, "id=\"ind-2\"><h2>"));
  must_contain(page, "无数据 no data</span></td><td class=\"num\">—</td></tr>");
  /* Times in the run's time zone. */
  must_contain(page, "完成 finished 2026-02-01 16:00 +08:00 (Asia/Shanghai)");
  /* `_all` meets the count, a district does not: the rule is said there. */
  assert_int_equal(pm_test_count(page, "a target is met only if every district meets it"), 1);
  must_contain(page, "<p class=\"rule\">未达标：全部 _all 达到目标，但 长宁&lt;区&gt;&amp; 未达到");
  /* Every map has a north arrow and a scale bar, and names its stations (the covered ones once
   * they clear the others). */
  assert_int_equal(pm_test_count(page, "<div class=\"north\""), 2);
  assert_int_equal(pm_test_count(page, "<div class=\"scalebar\""), 2);
  must_contain(page, "<g class=\"flbl\"");
  must_contain(page, "data-z=\"1\">丙&quot;</text>");
  must_contain(page, "data-z=\"1\">街区一</text>");
  assert_null(strstr(page, "data-z=\"1\">街区二</text>")); /* it would cover 青浦区's name */
  must_contain(page, "style=\"display:none\">街区二</text>");
  /* The base map: the primary road (not the footway), the lake by its layer's name, the district
   * outlines; drawn once, then reused by the second map of the same area. */
  must_contain(page, "<g class=\"base\" id=\"bm-1\">");
  must_contain(page, "<g class=\"b-major\"><path vector-effect=\"non-scaling-stroke\" d=\"M");
  assert_null(strstr(page, "class=\"b-road\""));
  must_contain(page, "<g class=\"b-water\">");
  must_contain(page, "<g class=\"b-dist\">");
  assert_int_equal(pm_test_count(page, "<g class=\"base\""), 1);
  must_contain(page, "<use href=\"#bm-1\"/>");
  /* Sources: each input layer with its file, date, count and licence; OpenStreetMap credited
   * on the page and on every map. */
  must_contain(page, "<h2>数据来源 Sources</h2>");
  must_contain(page, "<code>districts</code></td><td class=\"file\">data/districts.shp</td>"
                     "<td class=\"when\">2026-01-01 15:00 +08:00</td><td class=\"num\">3</td>"
                     "<td>EPSG:4326</td><td>测试区划 &lt;MIT&gt;</td>");
  must_contain(page, "<code>roads</code></td><td class=\"file\">data/city.osm.pbf <span "
                     "class=\"idline\">(lines)</span><br><span class=\"idline\">此后已重新导入");
  must_contain(page, "<td>© OpenStreetMap contributors, ODbL</td></tr>");
  assert_int_equal(pm_test_count(page, "<div class=\"credit\">© OpenStreetMap contributors, ODbL</div>"), 2);
  /* Stations: 2 covered, 1 not; the threshold is not stored and the plan file is gone: 50 m agrees
   * with the distances (30, 45 covered, 80 not), so circles of 50 m. All the stations lie in
   * 青浦区, so the map shows that district (1000 m square) in at most 960 x 620 px with 16 px
   * margins: 588 / 1000 px/m, r = 29.4 px. */
  must_contain(page, "换乘阈值 threshold 50 m");
  must_contain(page, "r=\"29.4\"");
  /* "all": both districts, 2000 x 1000 m, from x = (960 - 588) / 2 px. */
  must_contain(page, "data-box=\"186 16 1176 588\">全部 all</button>");
  assert_int_equal(pm_test_count(page, "<circle cx="), 3);
  /* The gap table: 50 rows then the rest counted, worst first. */
  must_contain(page, "… 还有 10 条 (10 more)");
  assert_int_equal(pm_test_count(page, "<tr data-x="), 50);
  const char *first = strstr(page, "metro_stations#0<"), *second = strstr(page, "metro_stations#1<");
  assert_non_null(first);
  assert_non_null(second);
  assert_true(first < second);
  /* Two runs: the history charts, one per result of the computed indicator. */
  must_contain(page, "历次运行 History");
  assert_int_equal(pm_test_count(page, "<figure>"), 6);
  /* Self-contained: nothing loaded from elsewhere. */
  assert_null(strstr(page, "http://"));
  assert_null(strstr(page, "https://"));
  assert_null(strstr(page, "src="));
  free(page);

  /* Run 1 as of then: no history yet. */
  assert_int_equal(pm_html_write_report(store, 1, out), PM_OK);
  page = pm_test_read_file(out);
  assert_null(strstr(page, "历次运行 History"));
  must_contain(page, "运行 run #1");
  free(page);
  assert_int_equal(pm_html_write_report(store, 7, out), PM_ENOTFOUND);
  assert_int_equal(pm_html_write_report(store, 0, pm_test_path("no/such/dir/r.html")), PM_EIO);
  pm_store_close(store);
}

/* The outlines come from the districts layer and field the run recorded, whatever their names
 * (not from the layer's other text field). */
static void test_page_other_layer(void **state) {
  pm_context *ctx = *state;
  pm_store *store = make_store_as(ctx, "html2.sqlite", "admin_areas", "qu_name");
  const char *out = pm_test_path("report2.html");
  pm_status st = pm_html_write_report(store, 0, out);
  if (st) fail_msg("%s", pm_context_message(ctx));
  char *page = pm_test_read_file(out);
  must_contain(page, "id=\"m1-d0\"");
  must_contain(page, "id=\"m1-d1\"");
  must_contain(page, "区界 districts: admin_areas.qu_name");
  free(page);
  pm_store_close(store);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      pm_test_case(test_view_fit_wide),
      pm_test_case(test_view_fit_tall),
      pm_test_case(test_view_fit_point_and_errors),
      pm_test_case(test_escape),
      pm_test_case(test_svg_path),
      pm_test_case(test_page),
      pm_test_case(test_page_other_layer),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
