/* test_layer_writer.c: the bulk layer writer (store/layer_writer.c) against SpatiaLite's own way
 * of writing the same layer (INSERTs through its triggers, CreateSpatialIndex,
 * UpdateLayerStatistics): same rows, same R*Tree entries, same triggers, same statistics; a valid
 * R*Tree at every depth; a failed write that leaves the database as it was; the compiled-in
 * new-project database the same as InitSpatialMetadata's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

#include <spatialite.h>

/* Rows of a query that are not in another: 0 when the first query's rows are all in the second. */
static int64_t missing(pm_store *s, const char *a, const char *b) {
  char sql[2048];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM (%s EXCEPT %s)", a, b);
  return pm_test_sql_int(s, sql);
}

static void same_rows(pm_store *s, const char *a, const char *b) {
  if (missing(s, a, b) != 0 || missing(s, b, a) != 0) fail_msg("not the same rows:\n  %s\n  %s", a, b);
  char ca[2048], cb[2048];
  snprintf(ca, sizeof ca, "SELECT count(*) FROM (%s)", a);
  snprintf(cb, sizeof cb, "SELECT count(*) FROM (%s)", b);
  assert_int_equal(pm_test_sql_int(s, ca), pm_test_sql_int(s, cb));
}

/* Deterministic pseudo-random numbers. */
static uint64_t rnd_state = 88172645463325252ull;
static double rnd(void) { return pm_test_rand(&rnd_state); }

/* Little-endian WKB of a multipolygon of one square, or of a point. */
static size_t square_wkb(unsigned char *w, double x, double y, double side) {
  const double pts[5][2] = {{x, y}, {x + side, y}, {x + side, y + side}, {x, y + side}, {x, y}};
  unsigned char *p = w;
  *p++ = 1;
  uint32_t u = 6;
  memcpy(p, &u, 4), p += 4;
  u = 1;
  memcpy(p, &u, 4), p += 4;
  *p++ = 1;
  u = 3;
  memcpy(p, &u, 4), p += 4;
  u = 1;
  memcpy(p, &u, 4), p += 4;
  u = 5;
  memcpy(p, &u, 4), p += 4;
  memcpy(p, pts, sizeof pts), p += sizeof pts;
  return (size_t)(p - w);
}
static size_t point_wkb(unsigned char *w, double x, double y) {
  w[0] = 1;
  uint32_t u = 1;
  memcpy(w + 1, &u, 4);
  memcpy(w + 5, &x, 8);
  memcpy(w + 13, &y, 8);
  return 21;
}

static const char *const NAMES[] = {"人民公园", "Park B", "", "長い名前の公園 with ASCII", "x"};

/* n features through the bulk writer into `name`, with every kind of value: texts (Chinese, empty,
 * NULL), reals (integral, NaN, NULL), integers (beyond 32 bits, NULL). */
static void write_layer(pm_store *s, const char *name, pm_geom_kind kind, size_t n) {
  const pm_field_def fields[] = {{"name", PM_FIELD_TEXT}, {"area", PM_FIELD_REAL},
                                 {"pop", PM_FIELD_INTEGER}, {"note", PM_FIELD_TEXT}};
  pm_layer_writer *w = NULL;
  assert_int_equal(pm_store_layer_create(s, name, kind, 0, fields, 4, &w), PM_OK);
  unsigned char wkb[256];
  for (size_t i = 0; i < n; i++) {
    double x = 300000 + rnd() * 90000, y = 3400000 + rnd() * 90000;
    size_t len = kind == PM_KIND_POINT ? point_wkb(wkb, x, y) : square_wkb(wkb, x, y, 1 + rnd() * 500);
    pm_value v[4] = {{0}};
    v[0].s = NAMES[i % 5];
    v[0].is_null = i % 7 == 3;
    v[1].d = i % 11 == 0 ? (double)(i / 11) : rnd() * 1e5;
    v[1].is_null = i % 13 == 5;
    if (i % 17 == 9) v[1].d = NAN;
    v[2].i = i % 3 == 0 ? (int64_t)i * 5000000011LL : (int64_t)i;
    v[2].is_null = i % 19 == 2;
    v[3].is_null = 1; /* a column of NULLs only */
    assert_int_equal(pm_layer_writer_add(w, (int64_t)(2 * i + 1), wkb, len, v), PM_OK);
  }
  assert_int_equal(pm_layer_writer_finish(w), PM_OK);
  pm_layer_writer_destroy(w);
  /* registered as ingest does, so that writing it again is replacing a planmetrics layer */
  pm_layer_info info = {.name = (char *)name, .kind = kind,
                        .geometry_type = kind == PM_KIND_POINT ? "POINT" : "MULTIPOLYGON",
                        .n_read = (int64_t)n, .n_stored = (int64_t)n};
  assert_int_equal(pm_store_put_layer_info(s, &info), PM_OK);
}

/* The same layer written by SpatiaLite alone: a table with the same columns, its geometry column,
 * the rows inserted through SpatiaLite's triggers (geometry check, R*Tree), its statistics. */
static void write_reference(pm_store *s, const char *from, const char *ref, const char *type) {
  char sql[1024];
  snprintf(sql, sizeof sql,
           "CREATE TABLE %s (fid INTEGER PRIMARY KEY, \"name\" TEXT, \"area\" REAL, \"pop\" INTEGER, "
           "\"note\" TEXT);"
           "SELECT AddGeometryColumn('%s', 'geom', 32651, '%s', 'XY');"
           "SELECT CreateSpatialIndex('%s', 'geom');"
           "INSERT INTO %s SELECT * FROM %s ORDER BY fid;"
           "SELECT UpdateLayerStatistics('%s', 'geom');",
           ref, ref, type, ref, ref, from, ref);
  pm_test_sql_exec(s, sql);
}

static void compare_with_spatialite(pm_store *s, const char *t, const char *ref) {
  char a[1024], b[1024];
  snprintf(a, sizeof a, "SELECT * FROM %s", t);
  snprintf(b, sizeof b, "SELECT * FROM %s", ref);
  same_rows(s, a, b);
  /* The R*Tree: valid, and the entries SpatiaLite's own inserts made. */
  snprintf(a, sizeof a, "SELECT rtreecheck('idx_%s_geom')", t);
  pm_test_sql_text(s, a, b, sizeof b);
  assert_string_equal(b, "ok");
  snprintf(a, sizeof a, "SELECT CheckSpatialIndex('%s', 'geom')", t);
  assert_int_equal(pm_test_sql_int(s, a), 1);
  snprintf(a, sizeof a, "SELECT * FROM idx_%s_geom", t);
  snprintf(b, sizeof b, "SELECT * FROM idx_%s_geom", ref);
  same_rows(s, a, b);
  /* The triggers: SpatiaLite's, by name and SQL. */
  snprintf(a, sizeof a,
           "SELECT replace(name, '%s', '#'), replace(sql, '%s', '#') FROM sqlite_master "
           "WHERE type = 'trigger' AND tbl_name = '%s'", t, t, t);
  snprintf(b, sizeof b,
           "SELECT replace(name, '%s', '#'), replace(sql, '%s', '#') FROM sqlite_master "
           "WHERE type = 'trigger' AND tbl_name = '%s'", ref, ref, ref);
  same_rows(s, a, b);
  snprintf(a, sizeof a, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = '%s'", t);
  assert_int_equal(pm_test_sql_int(s, a), 8);
  /* Registration and statistics, as UpdateLayerStatistics records them. */
  snprintf(a, sizeof a,
           "SELECT geometry_type, coord_dimension, srid, spatial_index_enabled FROM geometry_columns "
           "WHERE f_table_name = '%s'", t);
  snprintf(b, sizeof b,
           "SELECT geometry_type, coord_dimension, srid, spatial_index_enabled FROM geometry_columns "
           "WHERE f_table_name = '%s'", ref);
  same_rows(s, a, b);
  snprintf(a, sizeof a,
           "SELECT row_count, extent_min_x, extent_min_y, extent_max_x, extent_max_y, "
           "last_verified IS NOT NULL FROM geometry_columns_statistics WHERE f_table_name = '%s'", t);
  snprintf(b, sizeof b,
           "SELECT row_count, extent_min_x, extent_min_y, extent_max_x, extent_max_y, "
           "last_verified IS NOT NULL FROM geometry_columns_statistics WHERE f_table_name = '%s'", ref);
  same_rows(s, a, b);
  snprintf(a, sizeof a,
           "SELECT f_geometry_column, ordinal, column_name, null_values, integer_values, double_values, "
           "text_values, blob_values, max_size, integer_min, integer_max, double_min, double_max "
           "FROM geometry_columns_field_infos WHERE f_table_name = '%s'", t);
  snprintf(b, sizeof b,
           "SELECT f_geometry_column, ordinal, column_name, null_values, integer_values, double_values, "
           "text_values, blob_values, max_size, integer_min, integer_max, double_min, double_max "
           "FROM geometry_columns_field_infos WHERE f_table_name = '%s'", ref);
  same_rows(s, a, b);
  snprintf(a, sizeof a,
           "SELECT event FROM spatialite_history WHERE table_name = '%s' AND event NOT LIKE 'Check%%'", t);
  snprintf(b, sizeof b,
           "SELECT event FROM spatialite_history WHERE table_name = '%s' AND event NOT LIKE 'Check%%'", ref);
  same_rows(s, a, b);
  snprintf(a, sizeof a, "SELECT last_insert IS NOT NULL FROM geometry_columns_time WHERE f_table_name = '%s'", t);
  assert_int_equal(pm_test_sql_int(s, a), 1);
}

/* Layers of 0, 1, 51 (a full root leaf), 52 (a root over two leaves), 3,000 and 6,000 (three
 * levels, leaves in several slices) points or polygons: the packed R*Tree at every depth a test can
 * afford, batches and multi-row INSERTs with and without a remainder. */
static void same_as_spatialite(void **state) {
  pm_context *ctx = *state;
  pm_store *s = pm_test_store(ctx, "bulk.sqlite", 32651);
  assert_int_equal(pm_store_begin(s), PM_OK);
  const size_t sizes[] = {0, 1, 51, 52, 3000, 6000};
  for (size_t k = 0; k < PM_ARRAY_LEN(sizes); k++) {
    for (int poly = 0; poly < 2; poly++) {
      char t[32], ref[32];
      snprintf(t, sizeof t, "bulk_%zu_%d", sizes[k], poly);
      snprintf(ref, sizeof ref, "ref_%zu_%d", sizes[k], poly);
      write_layer(s, t, poly ? PM_KIND_POLYGON : PM_KIND_POINT, sizes[k]);
      write_reference(s, t, ref, poly ? "MULTIPOLYGON" : "POINT");
      compare_with_spatialite(s, t, ref);
    }
  }
  assert_int_equal(pm_store_commit(s), PM_OK);
  /* The restored triggers work: a wrong geometry type is refused (SpatiaLite's trigger rolls the
   * statement's transaction back), a new row is indexed. */
  assert_int_not_equal(sqlite3_exec(pm__store_db(s),
                                    "INSERT INTO bulk_3000_1 (fid, geom) VALUES "
                                    "(1, GeomFromText('POINT(1 2)', 32651))",
                                    NULL, NULL, NULL),
                       SQLITE_OK);
  pm_test_sql_exec(s, "INSERT INTO bulk_3000_1 (fid, geom) VALUES (100000, "
          "GeomFromText('MULTIPOLYGON(((10 10,20 10,20 20,10 10)))', 32651))");
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM idx_bulk_3000_1_geom WHERE pkid = 100000"), 1);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM SpatialIndex WHERE f_table_name = 'bulk_3000_1' "
                              "AND search_frame = BuildMbr(0, 0, 30, 30)"),
                   1);
  char buf[64];
  pm_test_sql_text(s, "SELECT rtreecheck('idx_bulk_3000_1_geom')", buf, sizeof buf);
  assert_string_equal(buf, "ok");
  pm_store_close(s);
}

/* The blob written straight from WKB is byte for byte the one SpatiaLite makes from the same WKB
 * (GeomFromWKB), for every kind of layer; WKB it does not take (big-endian here) goes through
 * SpatiaLite's own conversion. */
static void blobs_as_spatialite(void **state) {
  pm_context *ctx = *state;
  pm_store *s = pm_test_store(ctx, "blobs.sqlite", 32651);
  assert_int_equal(pm_store_begin(s), PM_OK);
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
  GEOSWKBWriter *wr = GEOSWKBWriter_create_r(h);
  static const struct {
    const char *name;
    pm_geom_kind kind;
    int multipoint;
    const char *wkt[3];
  } layers[] = {
      {"pts", PM_KIND_POINT, 0, {"POINT (350000.125 3450000.5)", "POINT (-1e-300 1e300)", "POINT (0 0)"}},
      {"mpts", PM_KIND_POINT, 1, {"MULTIPOINT ((1 2),(3 4))", "MULTIPOINT ((5 6))", "MULTIPOINT ((7 8),(9 10),(1 1))"}},
      {"lines", PM_KIND_LINE, 0,
       {"MULTILINESTRING ((0 0,1 1,2 0))", "MULTILINESTRING ((0 0,1 1),(5 5,6 6,7 5))",
        "MULTILINESTRING ((350000.1 3450000.2,350100.3 3450200.4))"}},
      {"polys", PM_KIND_POLYGON, 0,
       {"MULTIPOLYGON (((0 0,10 0,10 10,0 10,0 0),(2 2,4 2,4 4,2 2)))",
        "MULTIPOLYGON (((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5),(5.1 5.05,5.2 5.05,5.2 5.1,5.1 5.05)))",
        "MULTIPOLYGON (((350000 3450000,350010 3450000,350010 3450010,350000 3450000)))"}},
  };
  for (size_t l = 0; l < PM_ARRAY_LEN(layers); l++) {
    const pm_field_def f[] = {{"n", PM_FIELD_INTEGER}};
    pm_layer_writer *w = NULL;
    assert_int_equal(pm_store_layer_create(s, layers[l].name, layers[l].kind, layers[l].multipoint, f, 1, &w), PM_OK);
    for (int i = 0; i < 3; i++)
      for (int order = 0; order < 2; order++) { /* little-endian WKB, then big-endian */
        GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, layers[l].wkt[i]);
        assert_non_null(g);
        GEOSWKBWriter_setByteOrder_r(h, wr, order ? GEOS_WKB_XDR : GEOS_WKB_NDR);
        size_t len = 0;
        unsigned char *wkb = GEOSWKBWriter_write_r(h, wr, g, &len);
        pm_value v = {.i = i};
        assert_int_equal(pm_layer_writer_add(w, 2 * i + order + 1, wkb, len, &v), PM_OK);
        GEOSFree_r(h, wkb);
        GEOSGeom_destroy_r(h, g);
      }
    assert_int_equal(pm_layer_writer_finish(w), PM_OK);
    pm_layer_writer_destroy(w);
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE geom = GeomFromWKB(AsBinary(geom), 32651)",
             layers[l].name);
    assert_int_equal(pm_test_sql_int(s, sql), 6);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s WHERE ST_IsValid(geom) = 1", layers[l].name);
    assert_int_equal(pm_test_sql_int(s, sql), 6);
  }
  GEOSWKBWriter_destroy_r(h, wr);
  GEOSWKTReader_destroy_r(h, rd);
  assert_int_equal(pm_store_commit(s), PM_OK);
  pm_store_close(s);
}

/* A write that fails (a geometry of another type than the layer's, caught on the inserting thread)
 * leaves the project as it was once rolled back: the old layer, its index and its triggers. */
static void failure_changes_nothing(void **state) {
  pm_context *ctx = *state;
  pm_store *s = pm_test_store(ctx, "fail.sqlite", 32651);
  assert_int_equal(pm_store_begin(s), PM_OK);
  write_layer(s, "parks", PM_KIND_POLYGON, 2000);
  assert_int_equal(pm_store_commit(s), PM_OK);
  int64_t n_master = pm_test_sql_int(s, "SELECT count(*) FROM sqlite_master");
  int64_t n_nodes = pm_test_sql_int(s, "SELECT count(*) FROM idx_parks_geom_node");

  assert_int_equal(pm_store_begin(s), PM_OK);
  const pm_field_def f[] = {{"name", PM_FIELD_TEXT}};
  pm_layer_writer *w = NULL;
  assert_int_equal(pm_store_layer_create(s, "parks", PM_KIND_POINT, 0, f, 1, &w), PM_OK);
  unsigned char wkb[256];
  pm_status st = PM_OK;
  for (int i = 0; i < 5000 && !st; i++) {
    size_t len = i == 700 ? square_wkb(wkb, 1, 2, 3) : point_wkb(wkb, i, i);
    pm_value v = {.s = "p"};
    st = pm_layer_writer_add(w, i + 1, wkb, len, &v);
  }
  if (!st) st = pm_layer_writer_finish(w);
  assert_int_equal(st, PM_EGEOM);
  assert_non_null(strstr(pm_context_message(ctx), "feature 701 of layer 'parks'"));
  pm_layer_writer_destroy(w);
  pm_store_rollback(s);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM parks"), 2000);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM idx_parks_geom"), 2000);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM idx_parks_geom_node"), n_nodes);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM sqlite_master"), n_master);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'parks'"), 8);
  assert_int_equal(pm_test_sql_int(s, "SELECT CheckSpatialIndex('parks', 'geom')"), 1);

  /* A writer dropped without finishing (the caller failed elsewhere), then rolled back: same. */
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_store_layer_create(s, "parks", PM_KIND_POINT, 0, f, 1, &w), PM_OK);
  for (int i = 0; i < 3000; i++) {
    pm_value v = {.s = "p"};
    assert_int_equal(pm_layer_writer_add(w, i + 1, wkb, point_wkb(wkb, i, i), &v), PM_OK);
  }
  pm_layer_writer_destroy(w);
  pm_store_rollback(s);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM parks"), 2000);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM sqlite_master"), n_master);
  assert_int_equal(pm_test_sql_int(s, "SELECT CheckSpatialIndex('parks', 'geom')"), 1);
  pm_store_close(s);
}

/* A new project is the compiled-in template: the same schema, EPSG registry and metadata as
 * InitSpatialMetadata(1) and the project tables make, and its history dated now. */
static void template_same_as_init(void **state) {
  pm_context *ctx = *state;
  char ref[512];
  snprintf(ref, sizeof ref, "%s", pm_test_path("init.sqlite"));
  unlink(ref);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(ref, &db), SQLITE_OK);
  void *cache = spatialite_alloc_connection();
  spatialite_init_ex(db, cache, 0);
  assert_int_equal(sqlite3_exec(db, PM__STORE_PAGE_SIZE_PRAGMA "SELECT InitSpatialMetadata(1);" PM__STORE_TABLES,
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  spatialite_cleanup_ex(cache);

  char path[512];
  snprintf(path, sizeof path, "%s", pm_test_path("new.sqlite"));
  unlink(path);
  pm_store *s = NULL;
  int created = 0;
  assert_int_equal(pm_store_open(ctx, path, PM_STORE_CREATE, &s, &created), PM_OK);
  assert_int_equal(created, 1);
  char sql[1024];
  snprintf(sql, sizeof sql, "ATTACH '%s' AS ref", ref);
  pm_test_sql_exec(s, sql);
  same_rows(s, "SELECT type, name, tbl_name, sql FROM main.sqlite_master",
            "SELECT type, name, tbl_name, sql FROM ref.sqlite_master");
  same_rows(s, "SELECT * FROM main.spatial_ref_sys", "SELECT * FROM ref.spatial_ref_sys");
  same_rows(s, "SELECT * FROM main.spatial_ref_sys_aux", "SELECT * FROM ref.spatial_ref_sys_aux");
  same_rows(s, "SELECT * FROM main.geometry_columns", "SELECT * FROM ref.geometry_columns");
  same_rows(s, "SELECT * FROM main.data_licenses", "SELECT * FROM ref.data_licenses");
  same_rows(s, "SELECT event_id, table_name, geometry_column, event, ver_sqlite, ver_splite FROM main.spatialite_history",
            "SELECT event_id, table_name, geometry_column, event, ver_sqlite, ver_splite FROM ref.spatialite_history");
  /* dated by this run, not by the build */
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM main.spatialite_history WHERE timestamp < "
                              "(SELECT min(timestamp) FROM ref.spatialite_history)"),
                   0);
  assert_int_equal(pm_test_sql_int(s, "PRAGMA main.page_size"), pm_test_sql_int(s, "PRAGMA ref.page_size"));
  pm_test_sql_exec(s, "DETACH ref");
  pm_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      pm_test_case(same_as_spatialite),
      pm_test_case(blobs_as_spatialite),
      pm_test_case(failure_changes_nothing),
      pm_test_case(template_same_as_init),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
