/* test_export.c: a recorded run exported as a GeoPackage with QGIS styles and a QGIS project. */
#define _GNU_SOURCE
#include <cpl_minixml.h>
#include <cpl_vsi.h>
#include <gdal.h>
#include <math.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "planmetrics/export.h"
#include "planmetrics/history.h"
#include "fixtures.h"

/* The project, in EPSG:32651 around (X0, Y0); coordinates below are offsets in metres.
 *   zones      A x 0..1000, B x 1000..2000, both y 0..1000 (field label) — the plan's districts
 *   districts  A and B again, shifted 10 km north (field NAME): a decoy that the plan-less
 *              search prefers, because it is called `districts`
 *   parks      one polygon named "park" (no district names: never taken for districts)
 * The run (built by hand, then recorded):
 *   transfer_50m (transfer_coverage, >= 50 %): A 1/2 = 50 % met, B 0/1 missed, _all 1/3.
 *     stations S1 covered 20 m, S2 not 80 m, S3 not (no distance, no stop), S4 without
 *     geometry; segments for S1 and S2.
 *   green_cov (coverage, >= 90 %): A 95 met, B 85 missed; a service area, an uncovered
 *     collection (polygon + line) and an uncovered point (so "uncovered" is split by
 *     dimension), two sources whose `nearest` is their class.
 *   trees (count, no target): A 3, B 5, _all 8; two counted points.
 *   sponge: no data (no results, no details). */
#define X0 350000.0
#define Y0 3450000.0

/* A detail named by its id, its geometry an offset WKT (NULL: none). */
static void detail(pm_context *ctx, pm_indicator_result *ir, const char *role, const char *district,
                   const char *id, int covered, double d, const char *nearest, const char *wkt) {
  size_t len = 0;
  unsigned char *wkb = wkt ? pm_test_wkb(ctx, wkt, X0, Y0, &len) : NULL;
  assert_int_equal(pm_indicator_result_add_detail(ctx, ir, role, district, id, id, covered, d,
                                                  nearest, wkb, len),
                   PM_OK);
  free(wkb);
}

static pm_run_result *make_run(pm_context *ctx, const char *const *districts) {
  pm_run_result *run = pm_test_run(ctx, "t-plan", "测试计划", "EPSG:32651",
                                     "2026-01-01T08:00:00Z", 4);

  const char *names[] = {districts[0], districts[1], "_all"};

  pm_indicator_result *ir = &run->indicators[0];
  pm_test_indicator(ctx, ir, "transfer_50m", "transfer_50m", "transfer_coverage", "%", ">=", 50);
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, 3), PM_OK);
  pm_result_set_share(ctx, &ir->results[0], 1, 2, NULL);
  pm_result_set_share(ctx, &ir->results[1], 0, 1, NULL);
  pm_result_set_share(ctx, &ir->results[2], 1, 3, NULL);
  pm_result_add_gap(ctx, &ir->results[0], "S2", "S2", names[0], 80, NAN, "P2", NULL, NAN, NAN);
  pm_result_add_gap(ctx, &ir->results[1], "S3", "S3", names[1], NAN, NAN, NULL, NULL, NAN, NAN);
  detail(ctx, ir, "station", names[0], "S1", 1, 20, "P1", "POINT(100 100)");
  detail(ctx, ir, "station", names[0], "S2", 0, 80, "P2", "POINT(500 500)");
  detail(ctx, ir, "station", names[1], "S3", 0, NAN, NULL, "POINT(1500 500)");
  detail(ctx, ir, "station", NULL, "S4", -1, NAN, NULL, NULL);
  detail(ctx, ir, "segment", names[0], "S1", 1, 20, "P1", "LINESTRING(100 100, 120 100)");
  detail(ctx, ir, "segment", names[0], "S2", 0, 80, "P2", "LINESTRING(500 500, 580 500)");
  pm_indicator_result_apply_target(ir);

  ir = &run->indicators[1];
  pm_test_indicator(ctx, ir, "green_cov", "green_cov", "coverage", "%", ">=", 90);
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, 3), PM_OK);
  pm_result_set_share(ctx, &ir->results[0], 95, 100, NULL);
  pm_result_set_share(ctx, &ir->results[1], 85, 100, NULL);
  pm_result_set_share(ctx, &ir->results[2], 180, 200, NULL);
  detail(ctx, ir, "service_area", names[0], names[0], 1, NAN, NULL,
         "POLYGON((0 0, 500 0, 500 500, 0 500, 0 0))");
  detail(ctx, ir, "uncovered", names[1], "R1", 0, 30, "K1",
         "GEOMETRYCOLLECTION(POLYGON((1000 0, 1100 0, 1100 100, 1000 0)), LINESTRING(0 0, 1 1))");
  detail(ctx, ir, "uncovered", names[1], "R2", 0, 40, "K1", "POINT(1200 200)");
  detail(ctx, ir, "source", names[0], "K1", -1, NAN, "pocket park", "POINT(50 50)");
  detail(ctx, ir, "source", names[1], "K2", -1, NAN, "park", "POINT(1050 50)");
  pm_indicator_result_apply_target(ir);

  ir = &run->indicators[2];
  pm_test_indicator(ctx, ir, "trees", "trees", "count", "count", NULL, NAN);
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, 3), PM_OK);
  double counts[] = {3, 5, 8};
  for (int k = 0; k < 3; k++) {
    ir->results[k].has_value = 1;
    ir->results[k].value = counts[k];
    ir->results[k].numerator = counts[k];
    ir->results[k].denominator = NAN;
  }
  detail(ctx, ir, "counted", names[0], "T1", 1, NAN, NULL, "POINT(10 10)");
  detail(ctx, ir, "counted", names[1], "T2", 1, NAN, NULL, "POINT(1010 10)");

  ir = &run->indicators[3];
  pm_test_indicator(ctx, ir, "sponge", "sponge", "area_share", "%", ">=", 40);
  pm_test_no_data(ctx, ir, "layer sponge_zones is not in the data", NULL, 0);
  return run;
}

static const char *const AB[] = {"A", "B"};
static const char *const SQUARES[] = {"MULTIPOLYGON(((0 0,1000 0,1000 1000,0 1000,0 0)))",
                                      "MULTIPOLYGON(((1000 0,2000 0,2000 1000,1000 1000,1000 0)))"};
static const char *const PARK[] = {"MULTIPOLYGON(((10 10,20 10,20 20,10 10)))"};
static const char *const PARK_NAME[] = {"park"};

/* A project with one recorded run whose districts come from layer d_layer, field d_field (both
 * NULL: a run of planmetrics 0.1, which did not record them). run_districts names the run's. */
static pm_store *make_project(pm_context *ctx, const char *name, const char *d_layer,
                              const char *d_field, const char *const *run_districts) {
  pm_store *store = pm_test_store(ctx, name, 32651);
  assert_int_equal(pm_store_begin(store), PM_OK);
  pm_test_store_layer(ctx, store, "zones", PM_KIND_POLYGON, "label", AB, SQUARES, 2, X0, Y0);
  pm_test_store_layer(ctx, store, "districts", PM_KIND_POLYGON, "NAME", AB, SQUARES, 2, X0,
                      Y0 + 10000);
  pm_test_store_layer(ctx, store, "parks", PM_KIND_POLYGON, "name", PARK_NAME, PARK, 1, X0, Y0);
  pm_run_result *run = make_run(ctx, run_districts);
  pm_strdup(ctx, &run->districts_layer, d_layer);
  pm_strdup(ctx, &run->districts_name_field, d_field);
  int64_t id = 0;
  assert_int_equal(pm_history_record(store, run, "gone/plan.yaml", NULL, NULL, 1, &id), PM_OK);
  assert_int_equal(id, 1);
  assert_int_equal(pm_store_commit(store), PM_OK);
  pm_run_result_destroy(run);
  return store;
}

typedef struct fixture {
  pm_context *ctx;
  pm_store *store;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(pm_context_create(&f->ctx), PM_OK);
  GDALAllRegister();
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  pm_store_close(f->store);
  pm_context_destroy(f->ctx);
  free(f);
  return 0;
}

static int64_t count_of(GDALDatasetH ds, const char *layer) {
  OGRLayerH l = GDALDatasetGetLayerByName(ds, layer);
  if (!l) fail_msg("no layer %s in the GeoPackage", layer);
  return OGR_L_GetFeatureCount(l, TRUE);
}

/* The feature of layer whose field `key` is `value` (caller destroys). */
static OGRFeatureH feature_where(GDALDatasetH ds, const char *layer, const char *key,
                                 const char *value) {
  OGRLayerH l = GDALDatasetGetLayerByName(ds, layer);
  assert_non_null(l);
  OGR_L_ResetReading(l);
  OGRFeatureH f;
  while ((f = OGR_L_GetNextFeature(l))) {
    int i = OGR_F_GetFieldIndex(f, key);
    assert_true(i >= 0);
    if (OGR_F_IsFieldSetAndNotNull(f, i) && strcmp(OGR_F_GetFieldAsString(f, i), value) == 0)
      return f;
    OGR_F_Destroy(f);
  }
  fail_msg("%s: no feature with %s = %s", layer, key, value);
  return NULL;
}

static int is_null(OGRFeatureH f, const char *field) {
  int i = OGR_F_GetFieldIndex(f, field);
  assert_true(i >= 0);
  return !OGR_F_IsFieldSetAndNotNull(f, i);
}

static double num(OGRFeatureH f, const char *field) {
  int i = OGR_F_GetFieldIndex(f, field);
  assert_true(i >= 0);
  assert_true(OGR_F_IsFieldSetAndNotNull(f, i));
  return OGR_F_GetFieldAsDouble(f, i);
}

static const char *str(OGRFeatureH f, const char *field) {
  int i = OGR_F_GetFieldIndex(f, field);
  assert_true(i >= 0);
  return OGR_F_GetFieldAsString(f, i);
}

/* OpenStreetMap data is credited in the GeoPackage: on the dataset and on each layer read from an
 * OSM file; the plan's attribution of a layer too. */
static void test_osm_attribution(void **state) {
  fixture *f = *state;
  f->store = make_project(f->ctx, "osm.sqlite", "zones", "label", AB);
  pm_layer_info li;
  int found = 0;
  assert_int_equal(pm_store_begin(f->store), PM_OK);
  assert_int_equal(pm_store_layer_info(f->store, "parks", &li, &found), PM_OK);
  assert_true(found);
  free(li.source_path);
  li.source_path = strdup("data/city.osm.pbf");
  assert_int_equal(pm_store_put_layer_info(f->store, &li), PM_OK);
  pm_layer_info_clear(&li);
  /* a second run, recording its inputs and the plan's attribution of zones */
  pm_run_result *run = make_run(f->ctx, AB);
  pm_strdup(f->ctx, &run->attributions, "{\"zones\": \"测试 (MIT)\"}");
  /* sponge has no data, with a null result per district as a run makes them */
  pm_indicator_result *sp = &run->indicators[3];
  assert_string_equal(sp->id, "sponge");
  const char *slots[] = {"A", "B", "_all"};
  assert_int_equal(pm_indicator_result_init_results(f->ctx, sp, slots, 3), PM_OK);
  int64_t id = 0;
  assert_int_equal(pm_history_record(f->store, run, "gone/plan.yaml",
                                     "{\"zones\": \"\", \"parks\": \"\"}", NULL, 1, &id),
                   PM_OK);
  pm_run_result_destroy(run);
  assert_int_equal(pm_store_commit(f->store), PM_OK);
  const char *out = pm_test_path("osm.gpkg");
  pm_export_options opt = {.run_id = id, .gpkg_path = out};
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_OK);
  GDALDatasetH ds = GDALOpenEx(out, GDAL_OF_VECTOR, NULL, NULL, NULL);
  assert_non_null(ds);
  const char *a = GDALGetMetadataItem(ds, "PLANMETRICS_ATTRIBUTION", NULL);
  assert_non_null(a);
  assert_string_equal(a, "© OpenStreetMap contributors, ODbL; zones: 测试 (MIT)");
  OGRLayerH parks = GDALDatasetGetLayerByName(ds, "parks");
  assert_non_null(parks);
  a = GDALGetMetadataItem((GDALMajorObjectH)parks, "ATTRIBUTION", NULL);
  assert_non_null(a);
  assert_string_equal(a, "© OpenStreetMap contributors, ODbL");
  a = GDALGetMetadataItem((GDALMajorObjectH)parks, "DESCRIPTION", NULL);
  assert_non_null(a);
  assert_string_equal(a, "input layer parks (from data/city.osm.pbf). © OpenStreetMap contributors, ODbL");
  OGRLayerH zones = GDALDatasetGetLayerByName(ds, "zones");
  assert_null(GDALGetMetadataItem((GDALMajorObjectH)zones, "ATTRIBUTION", NULL));
  /* not measured: no gap count */
  OGRFeatureH r = feature_where(ds, "run_results", "indicator_id", "sponge");
  assert_true(is_null(r, "n_gaps"));
  OGR_F_Destroy(r);
  r = feature_where(ds, "sponge_districts", "district", "B");
  assert_true(is_null(r, "n_gaps"));
  OGR_F_Destroy(r);
  r = feature_where(ds, "transfer_50m_districts", "district", "B");
  assert_false(is_null(r, "n_gaps"));
  OGR_F_Destroy(r);
  GDALClose(ds);
}

/* Layers, counts, fields and values as the run recorded them, with the plan's districts. */
static void test_layers(void **state) {
  fixture *f = *state;
  f->store = make_project(f->ctx, "p1.sqlite", "zones", "label", AB);
  const char *out = pm_test_path("p1.gpkg");
  pm_export_options opt = {.run_id = 0, .gpkg_path = out};
  pm_export_report rep;
  assert_int_equal(pm_export(f->ctx, f->store, &opt, &rep), PM_OK);
  assert_int_equal(rep.run_id, 1);
  assert_string_equal(rep.plan, "t-plan");
  assert_string_equal(rep.districts_layer, "zones"); /* as recorded, not the decoy */
  assert_string_equal(rep.districts_field, "label");
  assert_int_equal(rep.n_input_layers, 3);
  assert_int_equal(rep.n_result_layers, 7);
  assert_int_equal(rep.n_district_layers, 3);
  assert_int_equal(rep.n_styles, 13);
  pm_export_report_clear(&rep);

  GDALDatasetH ds = GDALOpenEx(out, GDAL_OF_VECTOR, NULL, NULL, NULL);
  assert_non_null(ds);
  assert_int_equal(GDALDatasetGetLayerCount(ds), 15);
  assert_int_equal(count_of(ds, "transfer_50m_station"), 4);
  assert_int_equal(count_of(ds, "transfer_50m_segment"), 2);
  assert_int_equal(count_of(ds, "green_cov_service_area"), 1);
  assert_int_equal(count_of(ds, "green_cov_uncovered_polygons"), 1);
  assert_int_equal(count_of(ds, "green_cov_uncovered_points"), 1);
  assert_int_equal(count_of(ds, "green_cov_source"), 2);
  assert_int_equal(count_of(ds, "trees_counted"), 2);
  assert_int_equal(count_of(ds, "transfer_50m_districts"), 2);
  assert_int_equal(count_of(ds, "green_cov_districts"), 2);
  assert_int_equal(count_of(ds, "trees_districts"), 2);
  assert_int_equal(count_of(ds, "zones"), 2);
  assert_int_equal(count_of(ds, "districts"), 2);
  assert_int_equal(count_of(ds, "parks"), 1);
  assert_int_equal(count_of(ds, "run_results"), 10); /* 3 + 3 + 3 results, 1 row for no data */
  assert_int_equal(count_of(ds, "layer_styles"), 13);
  assert_null(GDALDatasetGetLayerByName(ds, "sponge_districts"));

  /* every spatial layer in EPSG:32651, with the geometry types a GIS expects */
  OGRLayerH st = GDALDatasetGetLayerByName(ds, "transfer_50m_station");
  OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(st);
  assert_non_null(srs);
  assert_string_equal(OSRGetAuthorityCode(srs, NULL), "32651");
  assert_int_equal(OGR_L_GetGeomType(st), wkbPoint);
  assert_int_equal(OGR_L_GetGeomType(GDALDatasetGetLayerByName(ds, "transfer_50m_segment")),
                   wkbLineString);
  assert_int_equal(OGR_L_GetGeomType(GDALDatasetGetLayerByName(ds, "green_cov_uncovered_polygons")),
                   wkbMultiPolygon);
  assert_int_equal(OGR_L_GetGeomType(GDALDatasetGetLayerByName(ds, "transfer_50m_districts")),
                   wkbMultiPolygon);

  /* stations: nearest is called nearest_stop; NAN and -1 are NULL */
  OGRFeatureH s = feature_where(ds, "transfer_50m_station", "id", "S1");
  assert_string_equal(str(s, "district"), "A");
  assert_int_equal((int)num(s, "covered"), 1);
  assert_near(num(s, "distance_m"), 20, 1e-9);
  assert_string_equal(str(s, "nearest_stop"), "P1");
  OGRGeometryH g = OGR_F_GetGeometryRef(s);
  assert_near(OGR_G_GetX(g, 0), X0 + 100, 1e-6);
  assert_near(OGR_G_GetY(g, 0), Y0 + 100, 1e-6);
  OGR_F_Destroy(s);
  s = feature_where(ds, "transfer_50m_station", "id", "S3");
  assert_int_equal((int)num(s, "covered"), 0);
  assert_true(is_null(s, "distance_m"));
  assert_true(is_null(s, "nearest_stop"));
  OGR_F_Destroy(s);
  s = feature_where(ds, "transfer_50m_station", "id", "S4");
  assert_true(is_null(s, "covered"));
  assert_true(is_null(s, "district"));
  assert_null(OGR_F_GetGeometryRef(s));
  OGR_F_Destroy(s);
  /* coverage: the source's class and the uncovered collection's polygon part only */
  s = feature_where(ds, "green_cov_source", "id", "K1");
  assert_string_equal(str(s, "class"), "pocket park");
  OGR_F_Destroy(s);
  s = feature_where(ds, "green_cov_uncovered_polygons", "id", "R1");
  assert_string_equal(str(s, "nearest_source"), "K1");
  assert_near(OGR_G_Area(OGR_F_GetGeometryRef(s)), 5000, 1e-6);
  OGR_F_Destroy(s);

  /* districts: the plan's polygons (1 km2, at y 0..1000, not the decoy 10 km north) */
  s = feature_where(ds, "transfer_50m_districts", "district", "A");
  assert_near(num(s, "value"), 50, 1e-9);
  assert_near(num(s, "target"), 50, 1e-9);
  assert_string_equal(str(s, "target_op"), ">=");
  assert_int_equal((int)num(s, "met"), 1);
  assert_near(num(s, "numerator"), 1, 1e-9);
  assert_near(num(s, "denominator"), 2, 1e-9);
  assert_string_equal(str(s, "unit"), "%");
  assert_int_equal((int)num(s, "n_gaps"), 1);
  g = OGR_F_GetGeometryRef(s);
  assert_non_null(g);
  assert_near(OGR_G_Area(g), 1e6, 1e-3);
  OGREnvelope env;
  OGR_G_GetEnvelope(g, &env);
  assert_near(env.MaxY, Y0 + 1000, 1e-6);
  OGR_F_Destroy(s);
  s = feature_where(ds, "transfer_50m_districts", "district", "B");
  assert_int_equal((int)num(s, "met"), 0);
  OGR_F_Destroy(s);
  s = feature_where(ds, "trees_districts", "district", "B");
  assert_near(num(s, "value"), 5, 1e-9);
  assert_true(is_null(s, "met"));
  assert_true(is_null(s, "target"));
  assert_true(is_null(s, "denominator"));
  OGR_F_Destroy(s);
  /* run_results keeps _all and the indicator without data */
  s = feature_where(ds, "run_results", "indicator_id", "sponge");
  assert_string_equal(str(s, "status"), "no data");
  assert_true(is_null(s, "district"));
  assert_true(is_null(s, "value"));
  OGR_F_Destroy(s);
  /* input layers keep their attributes */
  s = feature_where(ds, "parks", "name", "park");
  OGR_F_Destroy(s);
  GDALClose(ds);
}

/* layer_styles: one default style per spatial layer, renderer by layer, valid XML. */
static void test_styles(void **state) {
  fixture *f = *state;
  f->store = make_project(f->ctx, "p2.sqlite", "districts", "NAME", AB);
  const char *out = pm_test_path("p2.gpkg");
  pm_export_options opt = {.gpkg_path = out};
  pm_export_report rep;
  assert_int_equal(pm_export(f->ctx, f->store, &opt, &rep), PM_OK);
  assert_string_equal(rep.districts_layer, "districts");
  pm_export_report_clear(&rep);
  GDALDatasetH ds = GDALOpenEx(out, GDAL_OF_VECTOR, NULL, NULL, NULL);
  assert_non_null(ds);
  static const struct {
    const char *layer, *renderer;
  } want[] = {{"transfer_50m_station", "categorizedSymbol"},
              {"transfer_50m_segment", "categorizedSymbol"},
              {"green_cov_service_area", "singleSymbol"},
              {"green_cov_uncovered_polygons", "categorizedSymbol"},
              {"green_cov_source", "singleSymbol"},
              {"trees_counted", "singleSymbol"},
              {"transfer_50m_districts", "RuleRenderer"},
              {"trees_districts", "graduatedSymbol"},
              {"zones", "singleSymbol"}};
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    OGRFeatureH s = feature_where(ds, "layer_styles", "f_table_name", want[i].layer);
    assert_string_equal(str(s, "f_table_catalog"), "");
    assert_string_equal(str(s, "f_table_schema"), "");
    assert_string_equal(str(s, "f_geometry_column"), "geom");
    assert_int_equal((int)num(s, "useAsDefault"), 1);
    CPLXMLNode *x = CPLParseXMLString(str(s, "styleQML"));
    if (!x) fail_msg("%s: styleQML is not valid XML", want[i].layer);
    const char *type = CPLGetXMLValue(x, "=qgis.renderer-v2.type", "");
    if (strcmp(type, want[i].renderer) != 0)
      fail_msg("%s: renderer %s, wanted %s", want[i].layer, type, want[i].renderer);
    if (strcmp(want[i].renderer, "categorizedSymbol") == 0) {
      assert_string_equal(CPLGetXMLValue(x, "=qgis.renderer-v2.attr", ""), "covered");
      const char *color = CPLGetXMLValue(x, "=qgis.renderer-v2.symbols.symbol.layer.prop.v", "");
      assert_true(strlen(color) > 0);
    }
    if (strcmp(want[i].renderer, "RuleRenderer") == 0)
      assert_non_null(strstr(str(s, "styleQML"), "&quot;met&quot; = 1"));
    CPLDestroyXMLNode(x);
    OGR_F_Destroy(s);
  }
  /* the colours the issue asks for */
  OGRFeatureH s = feature_where(ds, "layer_styles", "f_table_name", "transfer_50m_station");
  assert_non_null(strstr(str(s, "styleQML"), "26,152,80,255"));
  assert_non_null(strstr(str(s, "styleQML"), "215,48,39,255"));
  OGR_F_Destroy(s);
  GDALClose(ds);
}

/* Read a whole (possibly /vsizip/) file into a string. Caller frees. */
/* A file read through GDAL's virtual file system (/vsizip/ inside a .qgz). Caller frees. */
static char *vsi_read(const char *path) {
  VSILFILE *fp = VSIFOpenL(path, "rb");
  if (!fp) fail_msg("cannot open %s", path);
  VSIFSeekL(fp, 0, SEEK_END);
  size_t n = (size_t)VSIFTellL(fp);
  VSIFSeekL(fp, 0, SEEK_SET);
  char *s = malloc(n + 1);
  assert_non_null(s);
  assert_int_equal(VSIFReadL(s, 1, n, fp), n);
  s[n] = '\0';
  VSIFCloseL(fp);
  return s;
}

/* The drawing order: points, lines, polygons, districts at the bottom (by layer name). */
static int rank_of(const char *name) {
  if (strcmp(name, "districts") == 0) return 2; /* the decoy: an ordinary polygon input */
  if (strstr(name, "_districts") || strcmp(name, "zones") == 0) return 3;
  if (strstr(name, "station") || strstr(name, "source") || strstr(name, "counted") ||
      strstr(name, "_points"))
    return 0;
  if (strstr(name, "segment")) return 1;
  return 2;
}

/* The layer name of the <maplayer> whose <id> is `id`, or NULL: what QGIS resolves a layer-tree
 * entry or a drawing-order item to. */
static const char *layer_named_by(const CPLXMLNode *layers, const char *id) {
  for (const CPLXMLNode *c = layers->psChild; c; c = c->psNext)
    if (c->eType == CXT_Element && strcmp(CPLGetXMLValue(c, "id", ""), id) == 0)
      return CPLGetXMLValue(c, "layername", NULL);
  return NULL;
}

/* Every layer-tree entry of a group (recursively) names a map layer; returns how many entries. */
static int check_tree(const CPLXMLNode *group, const CPLXMLNode *layers) {
  int n = 0;
  for (const CPLXMLNode *c = group->psChild; c; c = c->psNext) {
    if (c->eType != CXT_Element) continue;
    if (strcmp(c->pszValue, "layer-tree-group") == 0) n += check_tree(c, layers);
    if (strcmp(c->pszValue, "layer-tree-layer") != 0) continue;
    const char *id = CPLGetXMLValue(c, "id", ""), *name = CPLGetXMLValue(c, "name", "");
    const char *target = layer_named_by(layers, id);
    if (!target) fail_msg("layer-tree entry %s (id %s) points at no layer", name, id);
    assert_string_equal(target, name);
    n++;
  }
  return n;
}

static void check_project(const char *xml) {
  CPLXMLNode *x = CPLParseXMLString(xml);
  if (!x) fail_msg("the QGIS project is not valid XML");
  assert_string_equal(CPLGetXMLValue(x, "=qgis.projectCrs.spatialrefsys.authid", ""), "EPSG:32651");
  const CPLXMLNode *layers = CPLGetXMLNode(x, "=qgis.projectlayers");
  assert_non_null(layers);
  const CPLXMLNode *order = CPLGetXMLNode(x, "=qgis.layerorder");
  assert_non_null(order);
  int last = -1, n = 0;
  for (const CPLXMLNode *c = order->psChild; c; c = c->psNext) {
    if (c->eType != CXT_Element) continue;
    const char *id = CPLGetXMLValue(c, "id", "");
    const char *name = layer_named_by(layers, id);
    if (!name) fail_msg("drawing-order item %s points at no layer", id);
    int r = rank_of(name);
    if (r < last) fail_msg("layer %s (rank %d) drawn below a layer of rank %d", name, r, last);
    last = r;
    n++;
  }
  assert_int_equal(n, 13);
  /* the layer panel: every entry resolves to a layer, and so does the custom order */
  assert_int_equal(check_tree(CPLGetXMLNode(x, "=qgis.layer-tree-group"), layers), 13);
  const CPLXMLNode *custom = CPLGetXMLNode(x, "=qgis.layer-tree-group.custom-order");
  assert_non_null(custom);
  for (const CPLXMLNode *c = custom->psChild; c; c = c->psNext)
    if (c->eType == CXT_Element && !layer_named_by(layers, CPLGetXMLValue(c, NULL, "")))
      fail_msg("custom-order item %s points at no layer", CPLGetXMLValue(c, NULL, ""));
  int n_layers = 0;
  for (const CPLXMLNode *c = layers->psChild; c; c = c->psNext) {
    if (c->eType != CXT_Element) continue;
    n_layers++;
    /* QGIS 3.22 replaces a saved id of 10 characters or fewer by a random one */
    const char *id = CPLGetXMLValue(c, "id", "");
    if (strlen(id) <= 10) fail_msg("layer id %s: QGIS drops ids of 10 characters or fewer", id);
    for (const CPLXMLNode *d = c->psNext; d; d = d->psNext)
      if (d->eType == CXT_Element && strcmp(CPLGetXMLValue(d, "id", ""), id) == 0)
        fail_msg("layer id %s used twice", id);
    assert_string_equal(CPLGetXMLValue(c, "provider", ""), "ogr");
    assert_string_equal(CPLGetXMLValue(c, "srs.spatialrefsys.authid", ""), "EPSG:32651");
    assert_true(strncmp(CPLGetXMLValue(c, "datasource", ""), "./p3.gpkg|layername=", 20) == 0);
    assert_non_null(CPLGetXMLNode((CPLXMLNode *)c, "renderer-v2"));
  }
  assert_int_equal(n_layers, 13);
  /* zoomed on the plan area (both 1 km squares) with a 5 % margin */
  const CPLXMLNode *v = CPLGetXMLNode(x, "=qgis.ProjectViewSettings.DefaultViewExtent");
  assert_non_null(v);
  assert_near(atof(CPLGetXMLValue(v, "xmin", "")), X0 - 100, 1e-3);
  assert_near(atof(CPLGetXMLValue(v, "xmax", "")), X0 + 2100, 1e-3);
  assert_near(atof(CPLGetXMLValue(v, "ymin", "")), Y0 - 50, 1e-3);
  assert_near(atof(CPLGetXMLValue(v, "ymax", "")), Y0 + 1050, 1e-3);
  CPLDestroyXMLNode(x);
}

static void test_project(void **state) {
  fixture *f = *state;
  f->store = make_project(f->ctx, "p3.sqlite", "zones", "label", AB);
  const char *gpkg = pm_test_path("p3.gpkg");
  char qgs[512], qgz[512], vsi[600];
  snprintf(qgs, sizeof qgs, "%s", pm_test_path("p3.qgs"));
  snprintf(qgz, sizeof qgz, "%s", pm_test_path("p3.qgz"));
  pm_export_options opt = {.gpkg_path = gpkg, .qgs_path = qgs};
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_OK);
  char *xml = pm_test_read_file(qgs);
  check_project(xml);
  /* the same run exports the same project, byte for byte (ids do not depend on time) */
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_OK);
  char *again = pm_test_read_file(qgs);
  assert_string_equal(again, xml);
  free(again);
  free(xml);
  opt.qgs_path = qgz;
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_OK);
  snprintf(vsi, sizeof vsi, "/vsizip/{%s}/p3.qgs", qgz); /* braces: .qgz is no zip suffix GDAL knows */
  xml = vsi_read(vsi);
  check_project(xml);
  free(xml);
}

/* A failed export leaves the earlier file as it was and no temporary file behind. */
static void test_atomic(void **state) {
  fixture *f = *state;
  f->store = make_project(f->ctx, "p4.sqlite", "zones", "label", AB);
  char dir[512], out[600];
  snprintf(dir, sizeof dir, "%s/atomic", pm_test_tmpdir());
  mkdir(dir, 0755);
  snprintf(out, sizeof out, "%s/out.gpkg", dir);
  pm_test_write_file(out, "earlier");
  pm_export_options opt = {.run_id = 99, .gpkg_path = out};
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(f->ctx), "no run 99"));
  char *s = pm_test_read_file(out);
  assert_string_equal(s, "earlier");
  free(s);
  opt.run_id = 1;
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_OK);
  GDALDatasetH ds = GDALOpenEx(out, GDAL_OF_VECTOR, NULL, NULL, NULL);
  assert_non_null(ds);
  GDALClose(ds);
  /* exactly one file in the directory: no temporary left over */
  assert_int_equal(pm_test_system("test $(ls -A '%s' | wc -l) -eq 1", dir), 0);
}

static void test_errors(void **state) {
  fixture *f = *state;
  const char *db = pm_test_path("p5.sqlite");
  f->store = make_project(f->ctx, "p5.sqlite", "zones", "label", AB);
  pm_export_options opt = {.gpkg_path = db};
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "project database"));
  opt.gpkg_path = "/nonexistent-dir/x.gpkg";
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_EIO);
  assert_non_null(strstr(pm_context_message(f->ctx), "/nonexistent-dir/x.gpkg"));
  opt.gpkg_path = NULL;
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_EINPUT);
  /* a project without runs */
  pm_store_close(f->store);
  f->store = NULL;
  f->store = pm_test_store(f->ctx, "p5e.sqlite", 32651);
  assert_int_equal(pm_store_begin(f->store), PM_OK);
  pm_test_store_layer(f->ctx, f->store, "zones", PM_KIND_POLYGON, "label", AB, SQUARES, 2, X0,
                      Y0);
  assert_int_equal(pm_store_commit(f->store), PM_OK);
  opt.gpkg_path = pm_test_path("p5.gpkg");
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(f->ctx), "planmetrics run"));
  assert_false(pm_test_file_exists(opt.gpkg_path));
}

/* Districts the recorded layer does not have (or a run that recorded none): the district layers
 * are still written, without geometry. */
static void test_unknown_districts(void **state) {
  fixture *f = *state;
  static const char *const XY[] = {"X", "Y"};
  f->store = make_project(f->ctx, "p6.sqlite", "zones", "label", XY);
  const char *out = pm_test_path("p6.gpkg");
  pm_export_options opt = {.gpkg_path = out};
  pm_export_report rep;
  assert_int_equal(pm_export(f->ctx, f->store, &opt, &rep), PM_OK);
  assert_null(rep.districts_layer);
  pm_export_report_clear(&rep);
  GDALDatasetH ds = GDALOpenEx(out, GDAL_OF_VECTOR, NULL, NULL, NULL);
  assert_non_null(ds);
  OGRFeatureH s = feature_where(ds, "transfer_50m_districts", "district", "X");
  assert_null(OGR_F_GetGeometryRef(s));
  assert_near(num(s, "value"), 50, 1e-9);
  OGR_F_Destroy(s);
  GDALClose(ds);
}


/* distance: network in the export: the reached network graduated on its walked distance (bands of
 * 50 m: at most 10 classes of whole bands, near dark to far light), the walked segments labelled
 * as walks. */
static void test_network_styles(void **state) {
  fixture *f = *state;
  f->store = pm_test_store(f->ctx, "net.sqlite", 32651);
  assert_int_equal(pm_store_begin(f->store), PM_OK);
  pm_test_store_layer(f->ctx, f->store, "zones", PM_KIND_POLYGON, "label", AB, SQUARES, 2, X0,
                      Y0);
  pm_run_result *run = pm_test_run(f->ctx, "net-plan", NULL, NULL, NULL, 2);
  const char *names[] = {"A", "B", "_all"};
  pm_indicator_result *ir = &run->indicators[0];
  pm_test_indicator(f->ctx, ir, "cov_walk", "cov_walk", "coverage", "%", ">=", 90);
  pm_strdup(f->ctx, &ir->distance, "network");
  assert_int_equal(pm_indicator_result_init_results(f->ctx, ir, names, 3), PM_OK);
  for (int b = 1; b <= 20; b++) { /* bands of 50 m up to 1000 m: two bands a class */
    char wkt[96];
    snprintf(wkt, sizeof wkt, "MULTILINESTRING((%d 0,%d 0))", 50 * (b - 1), 50 * b);
    detail(f->ctx, ir, "reached", NULL, "band", -1, 50.0 * b, NULL, wkt);
  }
  ir = &run->indicators[1];
  pm_test_indicator(f->ctx, ir, "transfer_walk", "transfer_walk", "transfer_coverage", "%", ">=",
                    50);
  pm_strdup(f->ctx, &ir->distance, "network");
  assert_int_equal(pm_indicator_result_init_results(f->ctx, ir, names, 3), PM_OK);
  detail(f->ctx, ir, "segment", "A", "S1", 1, 45, "P1", "LINESTRING(100 100,120 100,120 125)");
  detail(f->ctx, ir, "segment", "A", "S2", 0, 80, "P2", "LINESTRING(500 500,580 500)");
  int64_t id = 0;
  assert_int_equal(pm_history_record(f->store, run, "net.yaml", NULL, NULL, 1, &id), PM_OK);
  assert_int_equal(pm_store_commit(f->store), PM_OK);
  pm_run_result_destroy(run);

  const char *out = pm_test_path("net.gpkg");
  pm_export_options opt = {.gpkg_path = out};
  assert_int_equal(pm_export(f->ctx, f->store, &opt, NULL), PM_OK);
  GDALDatasetH ds = GDALOpenEx(out, GDAL_OF_VECTOR, NULL, NULL, NULL);
  assert_non_null(ds);
  assert_int_equal(count_of(ds, "cov_walk_reached"), 20);
  OGRFeatureH s = feature_where(ds, "layer_styles", "f_table_name", "cov_walk_reached");
  CPLXMLNode *x = CPLParseXMLString(str(s, "styleQML"));
  assert_non_null(x);
  assert_string_equal(CPLGetXMLValue(x, "=qgis.renderer-v2.type", ""), "graduatedSymbol");
  assert_string_equal(CPLGetXMLValue(x, "=qgis.renderer-v2.attr", ""), "distance_m");
  int n = 0;
  double last_upper = 0;
  for (CPLXMLNode *r = CPLGetXMLNode(x, "=qgis.renderer-v2.ranges")->psChild; r; r = r->psNext) {
    if (r->eType != CXT_Element || strcmp(r->pszValue, "range") != 0) continue;
    assert_near(atof(CPLGetXMLValue(r, "lower", "")), last_upper, 1e-9);
    last_upper = atof(CPLGetXMLValue(r, "upper", ""));
    n++;
  }
  assert_int_equal(n, 10);
  assert_near(last_upper, 1000, 1e-9);
  assert_non_null(strstr(str(s, "styleQML"), "walked 0 – 100 m"));
  assert_non_null(strstr(str(s, "styleQML"), "8,29,88,255"));    /* nearest: dark */
  assert_non_null(strstr(str(s, "styleQML"), "199,233,180,255")); /* farthest: light */
  CPLDestroyXMLNode(x);
  OGR_F_Destroy(s);
  s = feature_where(ds, "layer_styles", "f_table_name", "transfer_walk_segment");
  assert_non_null(strstr(str(s, "styleQML"), "walked path to the nearest stop"));
  OGR_F_Destroy(s);
  OGRLayerH l = GDALDatasetGetLayerByName(ds, "transfer_walk_segment");
  assert_non_null(strstr(GDALGetMetadataItem(l, "DESCRIPTION", NULL), "walked path"));
  GDALClose(ds);
}

/* Query tables as a GeoPackage: geometry from the wkt column, fields typed as the cells, a style
 * per spatial layer; a table without wkt is a plain table. */
static void test_export_tables(void **state) {
  fixture *f = *state;
  static const char *const cols[] = {"from_fid", "name", "ok", "distance_m", "wkt"};
  pm_table *lines = NULL, *plain = NULL;
  assert_int_equal(pm_table_create(f->ctx, cols, 5, &lines), PM_OK);
  for (int i = 0; i < 3; i++) {
    size_t r;
    char wkt[96];
    snprintf(wkt, sizeof wkt, "MULTILINESTRING((%.0f %.0f,%.0f %.0f))", X0, Y0 + i, X0 + 50,
             Y0 + i);
    assert_int_equal(pm_table_add_row(f->ctx, lines, &r), PM_OK);
    pm_table_set_int(f->ctx, lines, r, 0, 7 + i);
    pm_table_set_text(f->ctx, lines, r, 1, i ? "b" : NULL);
    pm_table_set_bool(f->ctx, lines, r, 2, i % 2);
    pm_table_set_real(f->ctx, lines, r, 3, 50.0 * (i + 1), -1);
    pm_table_set_text(f->ctx, lines, r, 4, wkt);
  }
  assert_int_equal(pm_table_create(f->ctx, cols, 2, &plain), PM_OK);
  assert_int_equal(pm_table_add_row(f->ctx, plain, NULL), PM_OK);
  const char *out = pm_test_path("tables.gpkg");
  const pm_table_layer layers[] = {{"reached_network", "reached", lines, "reached"},
                                   {"reach", NULL, plain, NULL}};
  assert_int_equal(pm_export_tables(f->ctx, out, 32651, layers, 2), PM_OK);
  GDALDatasetH ds = GDALOpenEx(out, GDAL_OF_VECTOR, NULL, NULL, NULL);
  assert_non_null(ds);
  OGRLayerH l = GDALDatasetGetLayerByName(ds, "reached_network");
  assert_non_null(l);
  assert_int_equal(OGR_L_GetFeatureCount(l, TRUE), 3);
  assert_int_equal(wkbFlatten(OGR_L_GetGeomType(l)), wkbMultiLineString);
  OGRFeatureDefnH d = OGR_L_GetLayerDefn(l);
  assert_int_equal(OGR_FD_GetFieldCount(d), 4); /* wkt is the geometry */
  assert_int_equal(OGR_Fld_GetType(OGR_FD_GetFieldDefn(d, 0)), OFTInteger64);
  assert_int_equal(OGR_Fld_GetSubType(OGR_FD_GetFieldDefn(d, 2)), OFSTBoolean);
  assert_int_equal(OGR_Fld_GetType(OGR_FD_GetFieldDefn(d, 3)), OFTReal);
  OGRFeatureH g = feature_where(ds, "reached_network", "from_fid", "8");
  assert_near(num(g, "distance_m"), 100, 0);
  assert_string_equal(str(g, "name"), "b");
  OGREnvelope env;
  OGR_G_GetEnvelope(OGR_F_GetGeometryRef(g), &env);
  assert_near(env.MinX, X0, 1e-6);
  OGR_F_Destroy(g);
  assert_non_null(GDALDatasetGetLayerByName(ds, "reach"));
  assert_int_equal(count_of(ds, "reach"), 1);
  OGRFeatureH s = feature_where(ds, "layer_styles", "f_table_name", "reached_network");
  assert_non_null(strstr(str(s, "styleQML"), "graduatedSymbol"));
  OGR_F_Destroy(s);
  assert_int_equal(count_of(ds, "layer_styles"), 1);
  GDALClose(ds);
  /* a failure leaves the earlier file */
  struct stat before;
  assert_int_equal(stat(out, &before), 0);
  assert_int_equal(pm_export_tables(f->ctx, out, 999999, layers, 2), PM_ECRS);
  struct stat after;
  assert_int_equal(stat(out, &after), 0);
  assert_int_equal(before.st_size, after.st_size);
  pm_table_destroy(lines);
  pm_table_destroy(plain);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_layers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_osm_attribution, setup, teardown),
      cmocka_unit_test_setup_teardown(test_styles, setup, teardown),
      cmocka_unit_test_setup_teardown(test_project, setup, teardown),
      cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
      cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unknown_districts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_network_styles, setup, teardown),
      cmocka_unit_test_setup_teardown(test_export_tables, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
