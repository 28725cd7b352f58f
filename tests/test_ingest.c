/* test_ingest.c: pm_ingest on small files written here: repair and drop of geometries (by the
 * fast way and the general way), encoding detection, missing CRS, GCJ-02/BD-09 sources, CSV text
 * kept, unchanged-file skipping, and errors that leave the project as it was. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

/* A square (1 ha at the equator is not the point: area is checked in the project CRS), a bow-tie
 * (self-intersecting: repaired into two triangles), an empty polygon and a feature without
 * geometry (both dropped), and a valid polygon after them. */
static const char *SHAPES_GEOJSON =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"properties\":{\"name\":\"square\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[121.40,31.20],[121.41,31.20],[121.41,31.21],[121.40,31.21],[121.40,31.20]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"name\":\"bowtie\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[121.42,31.20],[121.43,31.21],[121.43,31.20],[121.42,31.21],[121.42,31.20]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"name\":\"empty\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"name\":\"none\"},\"geometry\":null},\n"
    "{\"type\":\"Feature\",\"properties\":{\"name\":\"last\"},\"geometry\":{\"type\":\"Polygon\","
    "\"coordinates\":[[[121.44,31.20],[121.45,31.20],[121.45,31.21],[121.44,31.20]]]}}\n"
    "]}\n";

static void repairs_and_drops(void **state) {
  pm_context *ctx = *state;
  char path[512];
  snprintf(path, sizeof path, "%s", pm_test_path("shapes.geojson"));
  pm_test_write_file(path, SHAPES_GEOJSON);
  pm_store *s = pm_test_store(ctx, "shapes.sqlite", 0);
  pm_ingest_options o = {.path = path, .as = "shapes"};
  pm_ingest_report r;
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.n_read, 5);
  assert_int_equal(r.n_stored, 3);
  assert_int_equal(r.n_repaired, 1);
  assert_string_equal(r.repaired_ids, "1");
  assert_int_equal(r.n_dropped, 2);
  assert_string_equal(r.dropped_ids, "2,3");
  assert_non_null(strstr(r.dropped_reasons, "FID 2: empty geometry"));
  assert_non_null(strstr(r.dropped_reasons, "FID 3: no geometry"));
  assert_string_equal(r.source_crs, "EPSG:4326");
  int srid = 0;
  pm_store_crs(s, &srid, NULL);
  assert_int_equal(srid, 32651); /* UTM zone of the layer */
  char buf[256];
  /* Stored geometries are valid multipolygons; the bow-tie became two triangles whose area is half
   * the square's (the square and the bow-tie's bounding box are the same size). */
  assert_string_equal(pm_test_sql_text(s, "SELECT group_concat(ST_IsValid(geom)) FROM shapes", buf,
                               sizeof buf),
                      "1,1,1");
  assert_string_equal(pm_test_sql_text(s, "SELECT ST_NumGeometries(geom) FROM shapes WHERE name='bowtie'",
                               buf, sizeof buf),
                      "2");
  double sq = pm_test_sql_double(s, "SELECT ST_Area(geom) FROM shapes WHERE name='square'");
  double bt = pm_test_sql_double(s, "SELECT ST_Area(geom) FROM shapes WHERE name='bowtie'");
  assert_true(sq > 1.0e6 && sq < 1.1e6); /* about 953 m x 1108 m */
  assert_near(bt / sq, 0.5, 0.01);
  /* The stored fid is the source FID. */
  assert_string_equal(pm_test_sql_text(s, "SELECT group_concat(fid) FROM shapes", buf, sizeof buf),
                      "0,1,4");
  pm_layer_info info;
  int found = 0;
  assert_int_equal(pm_store_layer_info(s, "shapes", &info, &found), PM_OK);
  assert_int_equal(found, 1);
  assert_int_equal(info.n_repaired, 1);
  assert_int_equal(info.n_dropped, 2);
  assert_string_equal(info.repaired_ids, "1");
  assert_true(info.minx < info.maxx && info.miny < info.maxy);
  pm_layer_info_clear(&info);
  pm_ingest_report_clear(&r);
  pm_store_close(s);
}

/* 青浦区, 松江区, 长宁区 in GBK, in a CSV with no encoding said anywhere. */
static const char *GBK_CSV = "name,kind,lon,lat\n"
                             "\xc7\xe0\xc6\xd6\xc7\xf8,a,121.1,31.15\n"
                             "\xcb\xc9\xbd\xad\xc7\xf8,b,121.2,31.03\n"
                             "\xb3\xa4\xc4\xfe\xc7\xf8,c,121.4,31.22\n";

static void gbk_csv_detected(void **state) {
  pm_context *ctx = *state;
  pm_test_notices ns;
  pm_test_collect_notices(ctx, &ns);
  char path[512];
  snprintf(path, sizeof path, "%s", pm_test_path("gbk.csv"));
  pm_test_write_file(path, GBK_CSV);
  pm_store *s = pm_test_store(ctx, "gbk.sqlite", 0);
  pm_ingest_options o = {.path = path, .as = "towns", .x_field = "lon", .y_field = "lat",
                         .src_crs = "EPSG:4326"};
  pm_ingest_report r;
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.n_stored, 3);
  assert_string_equal(r.encoding, "GB18030");
  assert_int_equal(r.encoding_detected, 1);
  assert_int_equal(ns.n, 1);
  assert_non_null(strstr(ns.text, "gbk.csv"));
  assert_non_null(strstr(ns.text, "GBK/GB18030"));
  char buf[256];
  assert_string_equal(pm_test_sql_text(s, "SELECT group_concat(name, ' ') FROM towns", buf, sizeof buf),
                      "青浦区 松江区 长宁区");
  assert_string_equal(pm_test_sql_text(s, "SELECT encoding FROM layers WHERE name='towns'", buf,
                               sizeof buf),
                      "GB18030");
  pm_ingest_report_clear(&r);

  /* --encoding GBK says it: same names, nothing detected. */
  o.as = "towns2";
  o.encoding = "GBK";
  ns.n = 0;
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.encoding_detected, 0);
  assert_int_equal(ns.n, 0);
  assert_string_equal(pm_test_sql_text(s, "SELECT group_concat(name, ' ') FROM towns2", buf, sizeof buf),
                      "青浦区 松江区 长宁区");
  pm_ingest_report_clear(&r);

  /* --encoding UTF-8 on GBK text: an error naming the file, the row and the field; nothing
   * stored. */
  o.as = "towns3";
  o.encoding = "UTF-8";
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_EINPUT);
  const char *m = pm_context_message(ctx);
  assert_non_null(strstr(m, "gbk.csv"));
  assert_non_null(strstr(m, "row 1"));
  assert_non_null(strstr(m, "field name"));
  assert_non_null(strstr(m, "--encoding"));
  int found = 1;
  pm_layer_info info;
  assert_int_equal(pm_store_layer_info(s, "towns3", &info, &found), PM_OK);
  assert_int_equal(found, 0);
  pm_ingest_report_clear(&r);

  /* An encoding nobody knows. */
  o.encoding = "FOO";
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "FOO"));
  assert_non_null(strstr(pm_context_message(ctx), "gbk.csv"));
  pm_ingest_report_clear(&r);
  pm_store_close(s);
}

/* The Shanghai districts: CP936 declared in the .dbf header (GDAL decodes it), and a copy with
 * the language-driver byte zeroed (no declaration: detected). */
static void districts_encoding(void **state) {
  pm_context *ctx = *state;
  char shp[512];
  snprintf(shp, sizeof shp, "%s/data/shanghai/districts.shp", PM_SOURCE_DIR);
  pm_store *s = pm_test_store(ctx, "districts.sqlite", 0);
  pm_ingest_options o = {.path = shp, .as = "districts"};
  pm_ingest_report r;
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.n_stored, 17);
  assert_string_equal(r.encoding, "CP936");
  assert_int_equal(r.encoding_detected, 0);
  char buf[512];
  assert_string_equal(pm_test_sql_text(s, "SELECT count(*) FROM districts WHERE NAME IN ('青浦区', "
                                  "'松江区', '长宁区')",
                               buf, sizeof buf),
                      "3");
  pm_ingest_report_clear(&r);

  const char *dir = pm_test_tmpdir();
  assert_int_equal(pm_test_system("for e in shp shx dbf prj; do cp '%s/data/shanghai/districts.'$e "
                                  "'%s/noldid.'$e && chmod u+w '%s/noldid.'$e; done && printf "
                                  "'\\000' | dd of='%s/noldid.dbf' bs=1 seek=29 conv=notrunc "
                                  "2>/dev/null",
                                  PM_SOURCE_DIR, dir, dir, dir),
                   0);
  pm_test_notices ns;
  pm_test_collect_notices(ctx, &ns);
  char copy[512];
  snprintf(copy, sizeof copy, "%s/noldid.shp", dir);
  o.path = copy;
  o.as = "districts2";
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.n_stored, 17);
  assert_string_equal(r.encoding, "GB18030");
  assert_int_equal(r.encoding_detected, 1);
  assert_non_null(strstr(ns.text, "noldid.shp"));
  assert_string_equal(pm_test_sql_text(s, "SELECT count(*) FROM districts2 WHERE NAME IN ('青浦区', "
                                  "'松江区', '长宁区')",
                               buf, sizeof buf),
                      "3");
  pm_ingest_report_clear(&r);
  pm_store_close(s);
}

static void csv_needs_src_crs(void **state) {
  pm_context *ctx = *state;
  char path[512], db[512];
  snprintf(path, sizeof path, "%s", pm_test_path("nocrs.csv"));
  pm_test_write_file(path, "name,lon,lat\na,121.47,31.23\n");
  snprintf(db, sizeof db, "%s", pm_test_path("nocrs.sqlite"));
  pm_store *s = NULL;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_CREATE, &s, NULL), PM_OK);
  pm_ingest_options o = {.path = path, .as = "pts", .x_field = "lon", .y_field = "lat"};
  pm_ingest_report r;
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_ECRS);
  assert_non_null(strstr(pm_context_message(ctx), "nocrs.csv"));
  assert_non_null(strstr(pm_context_message(ctx), "--src-crs"));
  pm_ingest_report_clear(&r);
  /* Nothing fixed, nothing stored. */
  int srid = -1;
  pm_store_crs(s, &srid, NULL);
  assert_int_equal(srid, 0);
  pm_layer_info *all = NULL;
  size_t n = 9;
  assert_int_equal(pm_store_list_layers(s, &all, &n), PM_OK);
  assert_int_equal(n, 0);
  pm_layer_info_destroy_all(all, n);
  /* Without --x/--y the table has no geometry at all: say which options to give. */
  o.x_field = o.y_field = NULL;
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "--x and --y"));
  pm_ingest_report_clear(&r);
  /* A field that is not there. */
  o.x_field = "lng";
  o.y_field = "lat";
  o.src_crs = "EPSG:4326";
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "'lng'"));
  assert_non_null(strstr(pm_context_message(ctx), "name, lon, lat"));
  pm_ingest_report_clear(&r);
  /* A filter on a field that is not there. */
  o.x_field = "lon";
  o.where = "kind = 'metro'";
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "'kind'"));
  pm_ingest_report_clear(&r);
  pm_store_close(s);
}

/* The same places given in WGS 84, GCJ-02 and BD-09 land on the same spot. */
static void web_map_sources(void **state) {
  pm_context *ctx = *state;
  static const double pts[3][2] = {{121.4706, 31.2347}, {121.5272106, 31.1774276}, {121.1, 31.15}};
  char wgs[1024] = "id,lon,lat\n", gcj[1024] = "id,lon,lat\n", bd[1024] = "id,lon,lat\n";
  for (int i = 0; i < 3; i++) {
    double glon, glat, blon, blat;
    pm_gcj02_from_wgs84(pts[i][0], pts[i][1], &glon, &glat);
    pm_bd09_from_wgs84(pts[i][0], pts[i][1], &blon, &blat);
    snprintf(wgs + strlen(wgs), sizeof wgs - strlen(wgs), "%d,%.10f,%.10f\n", i + 1, pts[i][0],
             pts[i][1]);
    snprintf(gcj + strlen(gcj), sizeof gcj - strlen(gcj), "%d,%.10f,%.10f\n", i + 1, glon, glat);
    snprintf(bd + strlen(bd), sizeof bd - strlen(bd), "%d,%.10f,%.10f\n", i + 1, blon, blat);
  }
  char pw[512], pg[512], pb[512];
  snprintf(pw, sizeof pw, "%s", pm_test_path("wgs.csv"));
  snprintf(pg, sizeof pg, "%s", pm_test_path("gcj.csv"));
  snprintf(pb, sizeof pb, "%s", pm_test_path("bd.csv"));
  pm_test_write_file(pw, wgs);
  pm_test_write_file(pg, gcj);
  pm_test_write_file(pb, bd);
  pm_store *s = pm_test_store(ctx, "web.sqlite", 0);
  pm_ingest_report r;
  pm_ingest_options o = {.path = pw, .as = "wgs", .x_field = "lon", .y_field = "lat",
                         .src_crs = "EPSG:4326"};
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  pm_ingest_report_clear(&r);
  o.path = pg;
  o.as = "gcj";
  o.src_crs = "gcj02";
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  assert_string_equal(r.source_crs, "gcj02");
  pm_ingest_report_clear(&r);
  o.path = pb;
  o.as = "bd";
  o.src_crs = "bd09";
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  assert_string_equal(r.source_crs, "bd09");
  pm_ingest_report_clear(&r);
  double dg = pm_test_sql_double(s, "SELECT max(ST_Distance(w.geom, g.geom)) FROM wgs w JOIN gcj g "
                            "ON g.id = w.id");
  double db = pm_test_sql_double(s, "SELECT max(ST_Distance(w.geom, b.geom)) FROM wgs w JOIN bd b "
                            "ON b.id = w.id");
  assert_true(dg < 0.05);
  assert_true(db < 0.05);
  /* and the GCJ-02 coordinates read as if they were WGS 84 would be hundreds of metres off */
  o.path = pg;
  o.as = "gcj_as_wgs";
  o.src_crs = "EPSG:4326";
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  pm_ingest_report_clear(&r);
  double off = pm_test_sql_double(s, "SELECT min(ST_Distance(w.geom, g.geom)) FROM wgs w JOIN gcj_as_wgs "
                             "g ON g.id = w.id");
  assert_true(off > 300 && off < 800);
  /* the CSV's own coordinate columns are kept as attributes, as given */
  assert_near(pm_test_sql_double(s, "SELECT lon FROM wgs WHERE id = 1"), 121.4706, 1e-9);
  pm_store_close(s);
}

/* Writes text to the test file `name`, ingests it into s with options o (o->path set here) and
 * expects success; the caller clears *r. */
static void ingest_text(pm_context *ctx, pm_store *s, const char *name, const char *text,
                        pm_ingest_options *o, pm_ingest_report *r) {
  static char path[512];
  snprintf(path, sizeof path, "%s", pm_test_path(name));
  pm_test_write_file(path, text);
  o->path = path;
  if (pm_ingest(ctx, s, o, r) != PM_OK) fail_msg("%s: %s", name, pm_context_message(ctx));
}

/* Numbers GDAL would change stay the file's text; real numbers stay numbers (and filterable). */
static void csv_text_kept(void **state) {
  pm_context *ctx = *state;
  pm_store *s = pm_test_store(ctx, "codes.sqlite", 0);
  pm_ingest_options o = {.as = "codes", .x_field = "lon", .y_field = "lat",
                         .src_crs = "EPSG:4326", .where = "pop > 1000"};
  pm_ingest_report r;
  ingest_text(ctx, s, "codes.csv",
              "name,code,pop,big,lon,lat\n"
              "a,0571,1500,12345678901234567890,121.4,31.2\n"
              "b,1234,800,1,121.5,31.3\n"
              "c,,2500,,121.6,31.4\n",
              &o, &r);
  assert_int_equal(r.n_stored, 2);
  pm_ingest_report_clear(&r);
  char buf[256];
  assert_string_equal(pm_test_sql_text(s, "SELECT code FROM codes WHERE name = 'a'", buf, sizeof buf),
                      "0571");
  assert_string_equal(pm_test_sql_text(s, "SELECT big FROM codes WHERE name = 'a'", buf, sizeof buf),
                      "12345678901234567890");
  assert_string_equal(pm_test_sql_text(s, "SELECT typeof(code) || typeof(pop) || typeof(lon) FROM codes "
                                  "WHERE name = 'a'",
                               buf, sizeof buf),
                      "textintegerreal");
  assert_string_equal(pm_test_sql_text(s, "SELECT typeof(code) FROM codes WHERE name = 'c'", buf,
                               sizeof buf),
                      "null");
  pm_store_close(s);
}

/* Coordinates from a column GDAL typed as numbers keep every digit of the file (17 significant
 * digits here; the field's text form would be cut to 15, moving points by up to 1e-9 m in a
 * metric CRS and 1e-8 m from degrees); a row without coordinates is still dropped and named. */
static void csv_coordinates_exact(void **state) {
  pm_context *ctx = *state;
  pm_store *s = pm_test_store(ctx, "exact.sqlite", 32651);
  pm_ingest_options o = {.as = "pts", .x_field = "x", .y_field = "y", .src_crs = "EPSG:32651"};
  pm_ingest_report r;
  ingest_text(ctx, s, "exact.csv",
              "name,x,y\n"
              "a,342102.24670123456,3456789.1234567891\n"
              "b,342103.00000000012,3456790.9999999998\n"
              "c,,\n",
              &o, &r);
  assert_int_equal(r.n_stored, 2);
  assert_non_null(strstr(r.dropped_reasons, "no coordinates"));
  pm_ingest_report_clear(&r);
  static const struct { const char *name; double x, y; } want[] = {
      {"a", 342102.24670123456, 3456789.1234567891}, {"b", 342103.00000000012, 3456790.9999999998}};
  for (size_t i = 0; i < PM_ARRAY_LEN(want); i++) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT ST_X(geom) FROM pts WHERE name = '%s'", want[i].name);
    double x = pm_test_sql_double(s, sql);
    snprintf(sql, sizeof sql, "SELECT ST_Y(geom) FROM pts WHERE name = '%s'", want[i].name);
    double y = pm_test_sql_double(s, sql);
    if (x != want[i].x || y != want[i].y)
      fail_msg("%s: stored (%.17g, %.17g), the file says (%.17g, %.17g)", want[i].name, x, y,
               want[i].x, want[i].y);
  }
  pm_store_close(s);
}

static void bad_rows_change_nothing(void **state) {
  pm_context *ctx = *state;
  char good[512], bad[512];
  snprintf(good, sizeof good, "%s", pm_test_path("good.csv"));
  snprintf(bad, sizeof bad, "%s", pm_test_path("bad.csv"));
  pm_test_write_file(good, "name,lon,lat\na,121.4,31.2\nb,121.5,31.3\n");
  pm_test_write_file(bad, "name,lon,lat\na,121.4,31.2\nb,121.5x,31.3\n");
  pm_store *s = pm_test_store(ctx, "bad.sqlite", 0);
  pm_ingest_options o = {.path = good, .as = "stops", .x_field = "lon", .y_field = "lat",
                         .src_crs = "EPSG:4326"};
  pm_ingest_report r;
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  pm_ingest_report_clear(&r);
  /* Re-ingest replaces: the count stays 2. */
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_OK);
  pm_ingest_report_clear(&r);
  assert_near(pm_test_sql_double(s, "SELECT count(*) FROM stops"), 2, 0);
  /* A bad coordinate in the replacement: the error names file, row and field; the old layer
   * stays. */
  o.path = bad;
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_EINPUT);
  const char *m = pm_context_message(ctx);
  assert_non_null(strstr(m, "bad.csv"));
  assert_non_null(strstr(m, "row 2"));
  assert_non_null(strstr(m, "lon"));
  assert_non_null(strstr(m, "121.5x"));
  pm_ingest_report_clear(&r);
  assert_near(pm_test_sql_double(s, "SELECT count(*) FROM stops"), 2, 0);
  char buf[512];
  assert_non_null(strstr(pm_test_sql_text(s, "SELECT source_path FROM layers WHERE name = 'stops'", buf,
                                  sizeof buf),
                         "good.csv"));
  /* Reserved layer names are refused before anything is read. */
  o.path = good;
  o.as = "layers";
  assert_int_equal(pm_ingest(ctx, s, &o, &r), PM_EINPUT);
  pm_ingest_report_clear(&r);
  pm_store_close(s);
}

static void if_changed(void **state) {
  pm_context *ctx = *state;
  char path[512];
  snprintf(path, sizeof path, "%s", pm_test_path("changing.csv"));
  pm_test_write_file(path, "name,lon,lat\na,121.4,31.2\nb,121.5,31.3\n");
  pm_store *s = pm_test_store(ctx, "changing.sqlite", 0);
  pm_ingest_options o = {.path = path, .as = "pts", .x_field = "lon", .y_field = "lat",
                         .src_crs = "EPSG:4326"};
  pm_ingest_report r;
  assert_int_equal(pm_ingest_if_changed(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.skipped, 0);
  assert_int_equal(r.n_stored, 2);
  pm_ingest_report_clear(&r);
  char first[64], buf[64];
  pm_test_sql_text(s, "SELECT ingested_at || source_hash FROM layers WHERE name='pts'", first,
           sizeof first);
  /* Unchanged file, same options: skipped, with the stored counts. */
  assert_int_equal(pm_ingest_if_changed(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.skipped, 1);
  assert_int_equal(r.n_stored, 2);
  assert_string_equal(r.source_crs, "EPSG:4326");
  pm_ingest_report_clear(&r);
  /* Other options: ingested again. */
  o.where = "name = 'a'";
  assert_int_equal(pm_ingest_if_changed(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.skipped, 0);
  assert_int_equal(r.n_stored, 1);
  pm_ingest_report_clear(&r);
  o.where = NULL;
  assert_int_equal(pm_ingest_if_changed(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.skipped, 0);
  assert_int_equal(r.n_stored, 2);
  pm_ingest_report_clear(&r);
  /* A changed file: ingested again. */
  pm_test_write_file(path, "name,lon,lat\na,121.4,31.2\nb,121.5,31.3\nc,121.6,31.4\n");
  assert_int_equal(pm_ingest_if_changed(ctx, s, &o, &r), PM_OK);
  assert_int_equal(r.skipped, 0);
  assert_int_equal(r.n_stored, 3);
  pm_ingest_report_clear(&r);
  pm_test_sql_text(s, "SELECT ingested_at || source_hash FROM layers WHERE name='pts'", buf, sizeof buf);
  assert_string_not_equal(buf, first);
  assert_near(pm_test_sql_double(s, "SELECT count(*) FROM pts"), 3, 0);
  /* A file that went missing is an error, not a skip. */
  unlink(path);
  assert_int_equal(pm_ingest_if_changed(ctx, s, &o, &r), PM_EIO);
  assert_non_null(strstr(pm_context_message(ctx), "changing.csv"));
  pm_ingest_report_clear(&r);
  pm_store_close(s);
}

static void auto_epsg(void **state) {
  pm_context *ctx = *state;
  char path[512];
  snprintf(path, sizeof path, "%s/data/shanghai/metro_stations.csv", PM_SOURCE_DIR);
  pm_ingest_options o = {.path = path, .as = "metro", .x_field = "lon", .y_field = "lat",
                         .src_crs = "EPSG:4326"};
  int epsg = 0;
  assert_int_equal(pm_ingest_auto_epsg(ctx, &o, &epsg), PM_OK);
  assert_int_equal(epsg, 32651);
  snprintf(path, sizeof path, "%s/data/porto/porto.osm.pbf", PM_SOURCE_DIR);
  pm_ingest_options p = {.path = path, .as = "bus", .source_layer = "points"};
  assert_int_equal(pm_ingest_auto_epsg(ctx, &p, &epsg), PM_OK);
  assert_int_equal(epsg, 32629);
}

/* Features of every shape the fast way (plain WKB, no GEOS round trip) takes or hands to the
 * general way (GEOS: repairs, drops): the outcome pinned here is the one both ways gave before
 * the fast way existed (checked by ingesting with both builds, bench/compare_db.py). */
static const char *CASES_LINES =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"ok\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.40,31.20],[121.41,31.21]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"repeat-only\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.40,31.20],[121.40,31.20]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"repeat-some\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.40,31.20],[121.40,31.20],[121.42,31.22]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"multi\"},\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":[[[121.40,31.20],[121.41,31.21]],[[121.43,31.20],[121.44,31.21]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"multi-bad-part\"},\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":[[[121.40,31.20],[121.41,31.21]],[[121.43,31.20],[121.43,31.20]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"3d\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.40,31.20,5],[121.41,31.21,6]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"a point\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[121.40,31.20]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"self-cross\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.40,31.20],[121.41,31.21],[121.41,31.20],[121.40,31.21]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"one-point\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.40,31.20]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"empty\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[]}}\n"
    "]}\n";
static const char *CASES_POLYS =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"square\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[121.40,31.20],[121.41,31.20],[121.41,31.21],[121.40,31.21],[121.40,31.20]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"hole\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[121.40,31.20],[121.41,31.20],[121.41,31.21],[121.40,31.21],[121.40,31.20]],[[121.402,31.202],[121.404,31.202],[121.404,31.204],[121.402,31.202]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"bowtie\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[121.42,31.20],[121.43,31.21],[121.43,31.20],[121.42,31.21],[121.42,31.20]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"unclosed\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[121.44,31.20],[121.45,31.20],[121.45,31.21],[121.44,31.21]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"multi\"},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[121.40,31.20],[121.41,31.20],[121.41,31.21],[121.40,31.20]]],[[[121.50,31.20],[121.51,31.20],[121.51,31.21],[121.50,31.20]]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"overlapping-multi\"},\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[[[121.40,31.20],[121.41,31.20],[121.41,31.21],[121.40,31.20]]],[[[121.405,31.20],[121.415,31.20],[121.415,31.21],[121.405,31.20]]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"spike\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[121.40,31.20],[121.41,31.20],[121.42,31.20],[121.41,31.20],[121.41,31.21],[121.40,31.20]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"collapsed\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[121.40,31.20],[121.41,31.20],[121.40,31.20],[121.41,31.20],[121.40,31.20]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"3d\"},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":[[[121.40,31.20,1],[121.41,31.20,1],[121.41,31.21,1],[121.40,31.20,1]]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"gc\"},\"geometry\":{\"type\":\"GeometryCollection\",\"geometries\":[{\"type\":\"Polygon\",\"coordinates\":[[[121.40,31.20],[121.41,31.20],[121.41,31.21],[121.40,31.20]]]},{\"type\":\"Point\",\"coordinates\":[121.4,31.2]}]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"line\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.40,31.20],[121.41,31.21]]}}\n"
    "]}\n";
static const char *CASES_POINTS =
    "{\"type\":\"FeatureCollection\",\"features\":[\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"p\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[121.40,31.20]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"mp1\"},\"geometry\":{\"type\":\"MultiPoint\",\"coordinates\":[[121.41,31.21]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"mp2\"},\"geometry\":{\"type\":\"MultiPoint\",\"coordinates\":[[121.41,31.21],[121.42,31.22]]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"pz\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[121.43,31.23,7]}},\n"
    "{\"type\":\"Feature\",\"properties\":{\"n\":\"line\"},\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[121.40,31.20],[121.41,31.21]]}}\n"
    "]}\n";

typedef struct shape_case {
  int64_t fid;
  const char *type;
  int parts, points;
} shape_case;

static void check_shapes(pm_store *s, const shape_case *want, size_t n) {
  char sql[256], buf[128], expect[128];
  snprintf(sql, sizeof sql, "SELECT count(*) FROM t");
  assert_int_equal((int)pm_test_sql_double(s, sql), (int)n);
  for (size_t i = 0; i < n; i++) {
    snprintf(sql, sizeof sql,
             "SELECT GeometryType(geom) || ' ' || ST_NumGeometries(geom) || ' ' || ST_NPoints(geom) "
             "|| ' ' || ST_IsValid(geom) FROM t WHERE fid = %lld", (long long)want[i].fid);
    snprintf(expect, sizeof expect, "%s %d %d 1", want[i].type, want[i].parts, want[i].points);
    assert_string_equal(pm_test_sql_text(s, sql, buf, sizeof buf), expect);
  }
}

static void fast_and_general_ways(void **state) {
  pm_context *ctx = *state;
  const char *texts[] = {CASES_LINES, CASES_POLYS, CASES_POINTS};
  const char *names[] = {"lines.geojson", "polys.geojson", "points.geojson"};
  pm_ingest_report r[3];
  pm_store *s[3];
  for (int k = 0; k < 3; k++) {
    char path[512], db[64];
    snprintf(path, sizeof path, "%s", pm_test_path(names[k]));
    pm_test_write_file(path, texts[k]);
    snprintf(db, sizeof db, "cases%d.sqlite", k);
    s[k] = pm_test_store(ctx, db, 0);
    pm_ingest_options o = {.path = path, .as = "t", .crs = "EPSG:32651"};
    assert_int_equal(pm_ingest(ctx, s[k], &o, &r[k]), PM_OK);
  }
  /* lines: a repeated-points-only line and a one-point line cannot be kept; a multi-line with such
   * a part is repaired; 3D is flattened; a self-crossing line is valid */
  assert_int_equal(r[0].n_read, 10);
  assert_string_equal(r[0].repaired_ids, "4");
  assert_string_equal(r[0].dropped_ids, "1,6,8,9");
  assert_non_null(strstr(r[0].dropped_reasons, "FID 1: repair left nothing of the layer's shape"));
  assert_non_null(strstr(r[0].dropped_reasons, "FID 6: a point in a layer of other shapes"));
  assert_non_null(strstr(r[0].dropped_reasons, "FID 8: degenerate geometry, not repairable"));
  assert_non_null(strstr(r[0].dropped_reasons, "FID 9: empty geometry"));
  const shape_case lines[] = {{0, "MULTILINESTRING", 1, 2}, {2, "MULTILINESTRING", 1, 3},
                              {3, "MULTILINESTRING", 2, 4}, {4, "MULTILINESTRING", 1, 2},
                              {5, "MULTILINESTRING", 1, 2}, {7, "MULTILINESTRING", 1, 4}};
  check_shapes(s[0], lines, PM_ARRAY_LEN(lines));
  /* polygons: a bow-tie, an unclosed ring, overlapping parts and a spike are repaired; a collapsed
   * ring is dropped; a hole, 3D and a collection's polygon are kept */
  assert_int_equal(r[1].n_read, 11);
  assert_string_equal(r[1].repaired_ids, "2,3,5,6");
  assert_string_equal(r[1].dropped_ids, "7,10");
  assert_non_null(strstr(r[1].dropped_reasons, "FID 7: invalid and not repairable (collapses to nothing)"));
  assert_non_null(strstr(r[1].dropped_reasons, "FID 10: a line in a layer of other shapes"));
  const shape_case polys[] = {{0, "MULTIPOLYGON", 1, 5}, {1, "MULTIPOLYGON", 1, 9},
                              {2, "MULTIPOLYGON", 2, 8}, {3, "MULTIPOLYGON", 1, 5},
                              {4, "MULTIPOLYGON", 2, 8}, {5, "MULTIPOLYGON", 1, 11},
                              {6, "MULTIPOLYGON", 1, 4}, {8, "MULTIPOLYGON", 1, 4},
                              {9, "MULTIPOLYGON", 1, 4}};
  check_shapes(s[1], polys, PM_ARRAY_LEN(polys));
  /* points: a layer with a multi-point becomes a multi-point layer */
  assert_string_equal(r[2].dropped_ids, "4");
  const shape_case points[] = {{0, "MULTIPOINT", 1, 1}, {1, "MULTIPOINT", 1, 1},
                               {2, "MULTIPOINT", 2, 2}, {3, "MULTIPOINT", 1, 1}};
  check_shapes(s[2], points, PM_ARRAY_LEN(points));
  for (int k = 0; k < 3; k++) {
    pm_ingest_report_clear(&r[k]);
    pm_store_close(s[k]);
  }
}

/* The options recorded with a layer (which decide whether `run` ingests it again) name the OSM
 * configuration an extract was read with: its SHA-256 (layers/osmconf.ini, compiled in), so a
 * planmetrics reading other tags ingests the layer again. Other formats do not carry it. */
static void osm_config_in_options(void **state) {
  pm_context *ctx = *state;
  char hex[65], want[96];
  const char *ini = PM_SOURCE_DIR "/layers/osmconf.ini";
  assert_int_equal(pm__sha256_files(ctx, &ini, NULL, 1, hex), PM_OK);
  snprintf(want, sizeof want, "\x1f" "osmconf=%.16s", hex);
  const struct {
    const char *path;
    int osm;
  } cases[] = {{"data/porto/porto.osm.pbf", 1}, {"x/city.osm", 1}, {"stops.csv", 0},
               {"districts.shp", 0}, {"parks.gpkg", 0}};
  for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
    pm_ingest_options o = {.path = cases[i].path, .as = "roads", .where = "highway IS NOT NULL"};
    char *s = NULL;
    assert_int_equal(pm_ingest_options_string(ctx, &o, &s), PM_OK);
    const char *at = strstr(s, "\x1f" "osmconf=");
    if (cases[i].osm != (at != NULL)) fail_msg("%s: options '%s'", cases[i].path, s);
    if (at) assert_string_equal(at, want); /* the last option */
    free(s);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      pm_test_case(osm_config_in_options),
      pm_test_case(repairs_and_drops),  pm_test_case(gbk_csv_detected),
      pm_test_case(districts_encoding), pm_test_case(csv_needs_src_crs),
      pm_test_case(web_map_sources),    pm_test_case(csv_text_kept),
      pm_test_case(csv_coordinates_exact),
      pm_test_case(bad_rows_change_nothing), pm_test_case(if_changed),
      pm_test_case(auto_epsg),          pm_test_case(fast_and_general_ways),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
