/* test_store.c: the SpatiaLite project database: create, CRS, layer tables and metadata, reading
 * back, filters, rollback, reserved names. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

/* Three parks in metres: 100 x 100 (1 ha), 200 x 100 (2 ha) and 50 x 50 (0.25 ha, no name). */
static const char *PARK_WKT[] = {
    "MULTIPOLYGON(((0 0,100 0,100 100,0 100,0 0)))",
    "MULTIPOLYGON(((1000 0,1200 0,1200 100,1000 100,1000 0)))",
    "MULTIPOLYGON(((5000 5000,5050 5000,5050 5050,5000 5050,5000 5000)))",
};
static const char *PARK_NAME[] = {"人民公园", "Park B", NULL};
static const double PARK_HA[] = {1.0, 2.0, 0.25};
static const int64_t PARK_FID[] = {3, 7, 8};

static void write_parks(pm_context *ctx, pm_store *s, const char *layer) {
  const pm_field_def fields[] = {
      {"name", PM_FIELD_TEXT}, {"area_ha", PM_FIELD_REAL}, {"trees", PM_FIELD_INTEGER}};
  pm_layer_writer *w = NULL;
  assert_int_equal(pm_store_layer_create(s, layer, PM_KIND_POLYGON, 0, fields, 3, &w), PM_OK);
  for (int i = 0; i < 3; i++) {
    size_t len = 0;
    unsigned char *wkb = pm_test_wkb(ctx, PARK_WKT[i], 0, 0, &len);
    pm_value v[3] = {{0}};
    v[0].is_null = PARK_NAME[i] == NULL;
    v[0].s = PARK_NAME[i];
    v[1].d = PARK_HA[i];
    v[2].i = 10 * (i + 1);
    v[2].is_null = i == 2;
    assert_int_equal(pm_layer_writer_add(w, PARK_FID[i], wkb, len, v), PM_OK);
    free(wkb);
  }
  assert_int_equal(pm_layer_writer_finish(w), PM_OK);
  pm_layer_writer_destroy(w);
  pm_layer_info info = {0};
  info.name = (char *)layer;
  info.kind = PM_KIND_POLYGON;
  info.geometry_type = (char *)"MULTIPOLYGON";
  info.source_path = (char *)"parks.gpkg";
  info.source_crs = (char *)"EPSG:4326";
  info.n_read = 4;
  info.n_stored = 3;
  info.n_dropped = 1;
  info.dropped_ids = (char *)"12";
  info.minx = 0;
  info.miny = 0;
  info.maxx = 5050;
  info.maxy = 5050;
  info.ingested_at = (char *)"2026-01-01T00:00:00Z";
  assert_int_equal(pm_store_put_layer_info(s, &info), PM_OK);
}

static void round_trip(void **state) {
  pm_context *ctx = *state;
  const char *path = pm_test_path("round.sqlite");
  char db[512];
  snprintf(db, sizeof db, "%s", path);
  pm_store *s = NULL;
  int created = 0;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_CREATE, &s, &created), PM_OK);
  assert_int_equal(created, 1);
  int srid = -1;
  const char *name = NULL;
  assert_int_equal(pm_store_crs(s, &srid, &name), PM_OK);
  assert_int_equal(srid, 0);
  assert_string_equal(name, "");
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_store_set_crs(s, 32651), PM_OK);
  write_parks(ctx, s, "parks");
  assert_int_equal(pm_store_commit(s), PM_OK);
  pm_store_close(s);

  /* Reopen read-only: CRS, metadata, fields, registration, spatial index. */
  s = NULL;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_READONLY, &s, &created), PM_OK);
  assert_int_equal(created, 0);
  assert_int_equal(pm_store_crs(s, &srid, &name), PM_OK);
  assert_int_equal(srid, 32651);
  assert_string_equal(name, "EPSG:32651");
  char *v = NULL;
  assert_int_equal(pm_store_get_setting(s, "srid", &v), PM_OK);
  assert_string_equal(v, "32651");
  free(v);
  pm_layer_info info;
  int found = 0;
  assert_int_equal(pm_store_layer_info(s, "parks", &info, &found), PM_OK);
  assert_int_equal(found, 1);
  assert_string_equal(info.name, "parks");
  assert_int_equal(info.kind, PM_KIND_POLYGON);
  assert_string_equal(info.geometry_type, "MULTIPOLYGON");
  assert_string_equal(info.source_crs, "EPSG:4326");
  assert_int_equal(info.n_read, 4);
  assert_int_equal(info.n_stored, 3);
  assert_int_equal(info.n_dropped, 1);
  assert_string_equal(info.dropped_ids, "12");
  assert_null(info.encoding);
  assert_near(info.maxx, 5050, 0);
  pm_layer_info_clear(&info);
  assert_int_equal(pm_store_layer_info(s, "nothing", &info, &found), PM_OK);
  assert_int_equal(found, 0);

  pm_layer_info *all = NULL;
  size_t n = 0;
  assert_int_equal(pm_store_list_layers(s, &all, &n), PM_OK);
  assert_int_equal(n, 1);
  assert_string_equal(all[0].name, "parks");
  pm_layer_info_destroy_all(all, n);

  char **names = NULL, **types = NULL;
  assert_int_equal(pm_store_layer_fields(s, "parks", &names, &types, &n), PM_OK);
  assert_int_equal(n, 3);
  assert_string_equal(names[0], "name");
  assert_string_equal(types[0], "TEXT");
  assert_string_equal(names[1], "area_ha");
  assert_string_equal(types[1], "REAL");
  assert_string_equal(names[2], "trees");
  assert_string_equal(types[2], "INTEGER");
  for (size_t i = 0; i < n; i++) {
    free(names[i]);
    free(types[i]);
  }
  free(names);
  free(types);
  assert_int_equal(pm_store_layer_fields(s, "nothing", &names, &types, &n), PM_ENOTFOUND);

  /* An ordinary SpatiaLite layer: registered geometry column, R*Tree index filled. */
  assert_int_equal(pm_test_sql_int(s, "SELECT srid FROM geometry_columns WHERE f_table_name = 'parks' "
                              "AND f_geometry_column = 'geom'"),
                   32651);
  assert_int_equal(pm_test_sql_int(s, "SELECT geometry_type FROM geometry_columns "
                              "WHERE f_table_name = 'parks'"),
                   6); /* MULTIPOLYGON */
  assert_int_equal(pm_test_sql_int(s, "SELECT spatial_index_enabled FROM geometry_columns "
                              "WHERE f_table_name = 'parks'"),
                   1);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM idx_parks_geom"), 3);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM idx_parks_geom WHERE xmin >= 999 AND "
                              "xmax <= 1201"),
                   1);
  assert_int_equal(pm_test_sql_int(s, "SELECT trees FROM parks WHERE fid = 7"), 20);

  /* Load with a filter and a label field. */
  pm_features *fs = NULL;
  const char *attrs[] = {"trees"};
  pm_load_options lo = {.where = "area_ha >= 1", .label_field = "name", .attrs = attrs,
                        .n_attrs = 1};
  assert_int_equal(pm_features_load(ctx, s, "parks", &lo, &fs), PM_OK);
  assert_int_equal(fs->n, 2);
  assert_int_equal(fs->kind, PM_KIND_POLYGON);
  assert_int_equal(fs->fid[0], 3);
  assert_int_equal(fs->fid[1], 7);
  assert_string_equal(fs->label[0], "人民公园");
  assert_string_equal(fs->label[1], "Park B");
  assert_string_equal(fs->attr[0][1], "20");
  double area = 0;
  GEOSArea_r(pm_context_geos(ctx), fs->geom[1], &area);
  assert_near(area, 20000.0, 1e-6);
  pm_features_destroy(ctx, fs);

  /* No filter: all three, the unnamed one with a NULL label and a NULL attribute. */
  pm_load_options lo2 = {.attrs = attrs, .n_attrs = 1};
  assert_int_equal(pm_features_load(ctx, s, "parks", &lo2, &fs), PM_OK);
  assert_int_equal(fs->n, 3);
  assert_null(fs->label[2]);
  assert_null(fs->attr[0][2]);
  pm_features_destroy(ctx, fs);

  /* A filter naming a missing field: an input error naming the field and the layer. */
  pm_load_options bad = {.where = "area_sqm > 1"};
  fs = NULL;
  assert_int_equal(pm_features_load(ctx, s, "parks", &bad, &fs), PM_EINPUT);
  assert_null(fs);
  assert_non_null(strstr(pm_context_message(ctx), "area_sqm"));
  assert_non_null(strstr(pm_context_message(ctx), "parks"));
  pm_load_options bad_label = {.label_field = "title"};
  assert_int_equal(pm_features_load(ctx, s, "parks", &bad_label, &fs), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "title"));
  assert_int_equal(pm_features_load(ctx, s, "lakes", NULL, &fs), PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(ctx), "lakes"));
  pm_store_close(s);
}

static void rollback_leaves_nothing(void **state) {
  pm_context *ctx = *state;
  char db[512];
  snprintf(db, sizeof db, "%s", pm_test_path("rollback.sqlite"));
  pm_store *s = NULL;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_CREATE, &s, NULL), PM_OK);
  /* A first transaction that sets the CRS and writes a layer, rolled back. */
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_store_set_crs(s, 32629), PM_OK);
  write_parks(ctx, s, "parks");
  pm_store_rollback(s);
  int srid = -1;
  pm_store_crs(s, &srid, NULL);
  assert_int_equal(srid, 0); /* the CRS was set inside the rolled-back transaction */
  pm_layer_info info;
  int found = 1;
  assert_int_equal(pm_store_layer_info(s, "parks", &info, &found), PM_OK);
  assert_int_equal(found, 0);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%parks%'"), 0);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM geometry_columns"), 0);

  /* Committed layer, then a failed replacement: the committed one survives unchanged. */
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_store_set_crs(s, 32651), PM_OK);
  write_parks(ctx, s, "parks");
  assert_int_equal(pm_store_commit(s), PM_OK);
  assert_int_equal(pm_store_begin(s), PM_OK);
  pm_layer_writer *w = NULL;
  const pm_field_def f1[] = {{"x", PM_FIELD_INTEGER}};
  assert_int_equal(pm_store_layer_create(s, "parks", PM_KIND_POINT, 0, f1, 1, &w), PM_OK);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM parks"), 0);
  pm_layer_writer_destroy(w);
  pm_store_rollback(s);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM parks"), 3);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM idx_parks_geom"), 3);
  pm_store_crs(s, &srid, NULL);
  assert_int_equal(srid, 32651);
  /* Writing outside a transaction is a bug, not silently auto-committed. */
  assert_int_equal(pm_store_layer_create(s, "other", PM_KIND_POINT, 0, f1, 1, &w), PM_EINTERNAL);
  assert_null(w);
  pm_store_close(s);
}

static void reserved_names(void **state) {
  pm_context *ctx = *state;
  const char *good[] = {"bus_stops", "Metro2024", "_tmp", "parks"};
  for (size_t i = 0; i < 4; i++) assert_int_equal(pm_store_check_layer_name(ctx, good[i]), PM_OK);
  const char *reserved[] = {"layers", "LAYERS", "geometry_columns", "spatial_ref_sys",
                            "pm_project", "pm_runs", "idx_parks_geom", "sqlite_master",
                            "SpatialIndex", "KNN", "geometry_x"};
  for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++) {
    assert_int_equal(pm_store_check_layer_name(ctx, reserved[i]), PM_EINPUT);
    assert_non_null(strstr(pm_context_message(ctx), reserved[i]));
    assert_non_null(strstr(pm_context_message(ctx), "reserved"));
  }
  const char *malformed[] = {"", "2parks", "bus-stops", "bus stops", "公园", "a;DROP TABLE layers",
                             "a234567890123456789012345678901234567890123456789012345678901"};
  for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++)
    assert_int_equal(pm_store_check_layer_name(ctx, malformed[i]), PM_EINPUT);
  assert_int_equal(pm_store_check_layer_name(ctx, NULL), PM_EINPUT);

  /* And the writer refuses them too. */
  pm_store *s = pm_test_store(ctx, "reserved.sqlite", 32651);
  assert_int_equal(pm_store_begin(s), PM_OK);
  pm_layer_writer *w = NULL;
  const pm_field_def f1[] = {{"x", PM_FIELD_INTEGER}};
  assert_int_equal(pm_store_layer_create(s, "layers", PM_KIND_POINT, 0, f1, 1, &w), PM_EINPUT);
  assert_null(w);
  assert_int_equal(pm_store_layer_create(s, "geometry_columns", PM_KIND_POINT, 0, f1, 1, &w),
                   PM_EINPUT);
  pm_store_rollback(s);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM layers"), 0);
  pm_store_close(s);
}

static void crs_is_fixed(void **state) {
  pm_context *ctx = *state;
  char db[512];
  snprintf(db, sizeof db, "%s", pm_test_path("fixed.sqlite"));
  pm_store *s = pm_test_store(ctx, "fixed.sqlite", 32651);
  pm_store_close(s);
  assert_int_equal(pm_store_open(ctx, db, 0, &s, NULL), PM_OK);
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_store_set_crs(s, 32651), PM_OK); /* the same again is fine */
  assert_int_equal(pm_store_set_crs(s, 32629), PM_ECRS);
  assert_non_null(strstr(pm_context_message(ctx), "EPSG:32651"));
  assert_non_null(strstr(pm_context_message(ctx), "EPSG:32629"));
  pm_store_rollback(s);
  int srid = 0;
  pm_store_crs(s, &srid, NULL);
  assert_int_equal(srid, 32651);
  pm_store_close(s);
}

static void open_errors(void **state) {
  pm_context *ctx = *state;
  char db[512];
  snprintf(db, sizeof db, "%s", pm_test_path("missing.sqlite"));
  pm_store *s = (pm_store *)&ctx;
  int created = 7;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_READONLY, &s, &created), PM_ENOTFOUND);
  assert_null(s);
  assert_int_equal(created, 0);
  assert_non_null(strstr(pm_context_message(ctx), "missing.sqlite"));
  assert_int_not_equal(access(db, F_OK), 0); /* nothing created */
  /* A file that is not SQLite, and a SQLite file that is not a project. */
  char txt[512];
  snprintf(txt, sizeof txt, "%s", pm_test_path("notes.sqlite"));
  pm_test_write_file(txt, "these are not the tables you are looking for\n");
  assert_int_not_equal(pm_store_open(ctx, txt, 0, &s, NULL), PM_OK);
  assert_null(s);
  assert_non_null(strstr(pm_context_message(ctx), "notes.sqlite"));
  char plain[512];
  snprintf(plain, sizeof plain, "%s", pm_test_path("plain.sqlite"));
  assert_int_equal(pm_test_system("sqlite3 '%s' 'CREATE TABLE t(a)'", plain), 0);
  assert_int_equal(pm_store_open(ctx, plain, 0, &s, NULL), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "not a planmetrics project"));
}

/* Whether a layer has fields: without case, the first missing one named, an unknown layer an error. */
static void has_fields(void **state) {
  pm_context *ctx = *state;
  pm_store *s = pm_test_store(ctx, "has_fields.sqlite", 32651);
  assert_int_equal(pm_store_begin(s), PM_OK);
  const char *const wkt[] = {"POINT(0 0)"}, *const values[] = {"a"};
  pm_test_store_layer(ctx, s, "stops", PM_KIND_POINT, "Highway", values, wkt, 1, 0, 0);
  assert_int_equal(pm_store_commit(s), PM_OK);
  const struct {
    const char *names[3];
    int all;
    const char *missing;
  } cases[] = {{{"highway", NULL}, 1, NULL},
               {{"HIGHWAY", "foot", NULL}, 0, "foot"},
               {{NULL}, 1, NULL}};
  for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
    int all = -1;
    const char *missing = "x";
    assert_int_equal(pm_store_layer_has_fields(s, "stops", cases[i].names, &all, &missing), PM_OK);
    if (all != cases[i].all) fail_msg("case %zu: all %d", i, all);
    if (cases[i].missing) assert_string_equal(missing, cases[i].missing);
    else assert_null(missing);
  }
  int all = 0;
  const char *missing = NULL;
  const char *const one[] = {"highway", NULL};
  assert_int_not_equal(pm_store_layer_has_fields(s, "nowhere", one, &all, &missing), PM_OK);
  pm_context_clear_error(ctx);
  pm_store_close(s);
}

/* Loading reads the blobs planmetrics writes straight into GEOS, and any other SpatiaLite blob
 * (here compressed ones) through SpatiaLite: points, lines, polygons with holes, multi parts;
 * the same geometries either way (compression keeps intermediate vertices as float offsets). */
static void load_reads_every_blob(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_store *s = pm_test_store(ctx, "blobs.sqlite", 32651);
  const char *const pts[] = {"POINT(1 2)", "POINT(-3.25 1e6)"};
  const char *const lines[] = {"MULTILINESTRING((0 0, 10 0, 10 10))",
                               "MULTILINESTRING((0 0, 1 1, 2 0), (5 5, 6 6))"};
  const char *const polys[] = {
      "MULTIPOLYGON(((0 0, 100 0, 100 100, 0 100, 0 0), (10 10, 20 10, 20 20, 10 20, 10 10), "
      "(50 50, 60 50, 60 60, 50 50)))",
      "MULTIPOLYGON(((0 0, 10 0, 10 10, 0 0)), ((20 20, 30 20, 30 30, 20 30, 20 20)))"};
  const char *const *wkt[3] = {pts, lines, polys};
  const char *names[3] = {"pts", "lines", "polys"};
  pm_geom_kind kinds[3] = {PM_KIND_POINT, PM_KIND_LINE, PM_KIND_POLYGON};
  assert_int_equal(pm_store_begin(s), PM_OK);
  for (int t = 0; t < 3; t++)
    pm_test_store_layer(ctx, s, names[t], kinds[t], "name", NULL, wkt[t], 2, 0, 0);
  assert_int_equal(pm_store_commit(s), PM_OK);
  for (int t = 0; t < 3; t++) {
    pm_features *plain = NULL, *packed = NULL;
    assert_int_equal(pm_features_load(ctx, s, names[t], NULL, &plain), PM_OK);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE %s SET geom = CompressGeometry(geom)", names[t]);
    pm_test_sql_exec(s, sql);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE IsValid(geom) AND hex(geom) LIKE '00%%'",
             names[t]);
    assert_int_equal(pm_test_sql_int(s, sql), 2);
    assert_int_equal(pm_features_load(ctx, s, names[t], NULL, &packed), PM_OK);
    assert_int_equal(plain->n, 2);
    assert_int_equal(packed->n, 2);
    for (size_t i = 0; i < 2; i++) {
      GEOSGeometry *want = pm_test_geom(ctx, wkt[t][i]);
      if (GEOSEqualsExact_r(h, plain->geom[i], want, 0) != 1)
        fail_msg("%s #%zu: not read as written (%s)", names[t], i, wkt[t][i]);
      if (GEOSEqualsExact_r(h, packed->geom[i], plain->geom[i], 1e-3) != 1)
        fail_msg("%s #%zu: the compressed blob reads differently", names[t], i);
      GEOSGeom_destroy_r(h, want);
    }
    pm_features_destroy(ctx, plain);
    pm_features_destroy(ctx, packed);
  }
  pm_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(has_fields),
      cmocka_unit_test(round_trip),   cmocka_unit_test(rollback_leaves_nothing),
      cmocka_unit_test(reserved_names), cmocka_unit_test(crs_is_fixed),
      cmocka_unit_test(open_errors),    cmocka_unit_test(load_reads_every_blob),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
