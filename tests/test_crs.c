/* test_crs.c: GCJ-02/BD-09 conversion, UTM zone choice, metric CRS checks and PROJ transforms. */
#include <math.h>
#include <string.h>

#include "fixtures.h"

/* Metres between two lon/lat points (equirectangular: plenty for tens of metres). */
static double metres(double lon1, double lat1, double lon2, double lat2) {
  double k = M_PI / 180.0 * 6371008.8;
  double dx = (lon2 - lon1) * k * cos((lat1 + lat2) / 2 * M_PI / 180.0);
  double dy = (lat2 - lat1) * k;
  return sqrt(dx * dx + dy * dy);
}

/* People's Square station (data/README.md): about 121.4706 E 31.2347 N in WGS 84 and about
 * 121.4753 E 31.2330 N in GCJ-02. Both figures are rounded to 1e-4 degree (up to 5 m a coordinate)
 * and "about"; the exact formula lands 30 m from the GCJ-02 figure, so 40 m is the check here and
 * the exact published vectors below pin the formula down. */
static void gcj02_peoples_square(void **state) {
  (void)state;
  double lon, lat;
  assert_int_equal(pm_gcj02_from_wgs84(121.4706, 31.2347, &lon, &lat), PM_OK);
  assert_true(metres(lon, lat, 121.4753, 31.2330) < 40.0);
  /* The offset in Shanghai: some 430 m east and 190 m south. */
  assert_true(lon > 121.4706 + 0.004 && lon < 121.4706 + 0.005);
  assert_true(lat < 31.2347 - 0.0015 && lat > 31.2347 - 0.0025);
  /* Inverse: back to the WGS 84 point within 0.01 m (1e-7 degree). */
  double wlon, wlat;
  assert_int_equal(pm_wgs84_from_gcj02(lon, lat, &wlon, &wlat), PM_OK);
  assert_near(wlon, 121.4706, 1e-7);
  assert_near(wlat, 31.2347, 1e-7);
  assert_true(metres(wlon, wlat, 121.4706, 31.2347) < 0.01);
  /* And the published GCJ-02 figure itself maps to a WGS 84 point near the station. */
  assert_int_equal(pm_wgs84_from_gcj02(121.4753, 31.2330, &wlon, &wlat), PM_OK);
  assert_true(metres(wlon, wlat, 121.4706, 31.2347) < 40.0);
}

/* The published test vectors of the reference GCJ-02 implementation (eviltransform: Shanghai,
 * Shenzhen, Beijing), WGS 84 -> GCJ-02, which its tests compare to 1e-5 degree. */
static void gcj02_reference_vectors(void **state) {
  (void)state;
  static const double v[3][4] = {
      {121.5272106, 31.1774276, 121.531541859215, 31.17530398364597},
      {113.912316, 22.543847, 113.9171764808363, 22.540796131694766},
      {116.377817, 39.911954, 116.38404722455657, 39.91334545536069},
  };
  for (int i = 0; i < 3; i++) {
    double lon, lat, wlon, wlat;
    assert_int_equal(pm_gcj02_from_wgs84(v[i][0], v[i][1], &lon, &lat), PM_OK);
    assert_near(lon, v[i][2], 1e-9);
    assert_near(lat, v[i][3], 1e-9);
    assert_int_equal(pm_wgs84_from_gcj02(v[i][2], v[i][3], &wlon, &wlat), PM_OK);
    assert_near(wlon, v[i][0], 1e-7);
    assert_near(wlat, v[i][1], 1e-7);
  }
}

static void bd09_round_trips(void **state) {
  (void)state;
  double glon, glat, blon, blat, lon, lat;
  /* GCJ-02 -> BD-09 is a fixed offset of about +0.0065, +0.006 degree near Shanghai. */
  assert_int_equal(pm_gcj02_from_wgs84(121.4706, 31.2347, &glon, &glat), PM_OK);
  assert_int_equal(pm_bd09_from_gcj02(glon, glat, &blon, &blat), PM_OK);
  assert_true(fabs(blon - glon - 0.0065) < 0.0005);
  assert_true(fabs(blat - glat - 0.006) < 0.0005);
  assert_int_equal(pm_gcj02_from_bd09(blon, blat, &lon, &lat), PM_OK);
  assert_near(lon, glon, 1e-9);
  assert_near(lat, glat, 1e-9);
  /* WGS 84 -> BD-09 is the composition, and its inverse returns within 0.01 m. */
  double b2lon, b2lat;
  assert_int_equal(pm_bd09_from_wgs84(121.4706, 31.2347, &b2lon, &b2lat), PM_OK);
  assert_near(b2lon, blon, 1e-12);
  assert_near(b2lat, blat, 1e-12);
  assert_int_equal(pm_wgs84_from_bd09(blon, blat, &lon, &lat), PM_OK);
  assert_near(lon, 121.4706, 1e-7);
  assert_near(lat, 31.2347, 1e-7);
  /* A second point far from the first (Urumqi): the same round trip. */
  assert_int_equal(pm_bd09_from_wgs84(87.6168, 43.8256, &blon, &blat), PM_OK);
  assert_int_equal(pm_wgs84_from_bd09(blon, blat, &lon, &lat), PM_OK);
  assert_near(lon, 87.6168, 1e-7);
  assert_near(lat, 43.8256, 1e-7);
}

/* Porto and Helsinki: the offset does not apply, both ways. */
static void gcj02_outside_china(void **state) {
  (void)state;
  static const struct {
    const char *name;
    double lon, lat;
  } places[] = {{"Porto", -8.6109, 41.1496}, {"Helsinki", 24.9384, 60.1699}};
  for (size_t i = 0; i < sizeof places / sizeof places[0]; i++) {
    double lon0 = places[i].lon, lat0 = places[i].lat, lon, lat, wlon, wlat;
    if (pm_gcj02_applies(lon0, lat0)) fail_msg("%s: GCJ-02 applies", places[i].name);
    assert_int_equal(pm_gcj02_from_wgs84(lon0, lat0, &lon, &lat), PM_OK);
    assert_int_equal(pm_wgs84_from_gcj02(lon0, lat0, &wlon, &wlat), PM_OK);
    if (lon != lon0 || lat != lat0 || wlon != lon0 || wlat != lat0)
      fail_msg("%s: moved to %.10g %.10g (to GCJ-02) and %.10g %.10g (from GCJ-02)",
               places[i].name, lon, lat, wlon, wlat);
  }
  assert_true(pm_gcj02_applies(121.4706, 31.2347));
}

static void utm_zones(void **state) {
  (void)state;
  static const struct {
    const char *name;
    double lon, lat;
    int epsg;
  } cases[] = {
      {"Shanghai: 120-126 E", 121.4706, 31.2347, 32651},
      {"Porto: 12-6 W", -8.6109, 41.1496, 32629},
      {"Sydney: southern hemisphere", 151.2093, -33.8688, 32756},
      {"Sao Paulo", -46.6333, -23.5505, 32723},
      {"a zone starts at its western edge; the equator is north", 120.0, 0.0, 32651},
      {"the antimeridian, west", -180.0, 10.0, 32601},
      {"the antimeridian, east", 180.0, 10.0, 32660},
      /* Norway: zone 32 is widened to 3 E between 56 and 64 N. */
      {"Bergen (would be 31)", 5.3221, 60.3913, 32632},
      {"south of 56 N the normal rule", 5.3221, 55.9, 32631},
      /* Svalbard (72-84 N): zones 31, 33, 35, 37 only. */
      {"Longyearbyen", 15.6356, 78.2232, 32633},
      {"Svalbard 8 E (would be 32)", 8.0, 79.0, 32631},
      {"Svalbard 10 E (would be 32)", 10.0, 79.0, 32633},
      {"Svalbard 25 E (35 anyway)", 25.0, 80.0, 32635},
      {"Svalbard 34 E (would be 36)", 34.0, 80.0, 32637},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int e = 0;
    pm_status st = pm_crs_utm_epsg(cases[i].lon, cases[i].lat, &e);
    if (st != PM_OK || e != cases[i].epsg)
      fail_msg("%s (%g %g): status %d, EPSG:%d, want EPSG:%d", cases[i].name, cases[i].lon,
               cases[i].lat, st, e, cases[i].epsg);
  }
}

static void metric_epsg(void **state) {
  pm_context *ctx = *state;
  static const struct {
    const char *crs;
    pm_status status;
    int epsg;                 /* when PM_OK */
    const char *said, *said2; /* fragments of the message when refused */
  } cases[] = {
      {"EPSG:32651", PM_OK, 32651, NULL, NULL},
      {"EPSG:4549", PM_OK, 4549, NULL, NULL}, /* CGCS2000 3-degree GK */
      {"epsg:32629", PM_OK, 32629, NULL, NULL},
      {"32756", PM_OK, 32756, NULL, NULL},
      /* geographic: degrees, not metres */
      {"EPSG:4326", PM_ECRS, 0, "EPSG:4326", "not a projected CRS"},
      {"EPSG:999999", PM_ECRS, 0, "EPSG:999999", "no such EPSG code"},
      /* projected in US survey feet (NAD83 / California zone 3) */
      {"EPSG:2227", PM_ECRS, 0, "metres", NULL},
      /* not an EPSG code at all */
      {"UTM51N", PM_ECRS, 0, "UTM51N", NULL},
      {"EPSG:", PM_ECRS, 0, NULL, NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int e = -1;
    pm_status st = pm_crs_metric_epsg(ctx, cases[i].crs, &e);
    const char *msg = st ? pm_context_message(ctx) : "";
    if (st != cases[i].status || (!st && e != cases[i].epsg) || (st && e != 0) ||
        (cases[i].said && !strstr(msg, cases[i].said)) ||
        (cases[i].said2 && !strstr(msg, cases[i].said2)))
      fail_msg("%s: status %d (want %d), EPSG %d (want %d), message \"%s\"", cases[i].crs, st,
               cases[i].status, e, cases[i].epsg, msg);
  }
}

/* `echo "31.2347 121.4706" | cs2cs -d 4 EPSG:4326 EPSG:32651` gives 354344.9679 3456621.2574
 * (cs2cs takes EPSG:4326 as lat/lon; pm_transform always takes lon/lat). */
static void transform_matches_cs2cs(void **state) {
  pm_context *ctx = *state;
  pm_transform *tr = NULL;
  assert_int_equal(pm_transform_create(ctx, "EPSG:4326", 32651, &tr), PM_OK);
  assert_string_equal(pm_transform_source_name(tr), "EPSG:4326");
  double x = 121.4706, y = 31.2347;
  assert_int_equal(pm_transform_xy(tr, &x, &y), PM_OK);
  assert_near(x, 354344.9679, 0.001);
  assert_near(y, 3456621.2574, 0.001);
  /* A latitude beyond the pole cannot be transformed. */
  x = 121.0;
  y = 91.0;
  assert_int_equal(pm_transform_xy(tr, &x, &y), PM_ECRS);
  pm_transform_destroy(tr);
  /* Porto, `echo "41.1496 -8.6109" | cs2cs -d 4 EPSG:4326 EPSG:32629`: 532649.8379 4555437.2493 */
  assert_int_equal(pm_transform_create(ctx, "EPSG:4326", 32629, &tr), PM_OK);
  x = -8.6109;
  y = 41.1496;
  assert_int_equal(pm_transform_xy(tr, &x, &y), PM_OK);
  assert_near(x, 532649.8379, 0.001);
  assert_near(y, 4555437.2493, 0.001);
  pm_transform_destroy(tr);
  /* The ESRI WKT of the Shanghai districts' .prj is WGS 84, identified as EPSG:4326. */
  const char *esri =
      "GEOGCS[\"GCS_WGS_1984\",DATUM[\"D_WGS_1984\",SPHEROID[\"WGS_1984\",6378137.0,"
      "298.257223563]],PRIMEM[\"Greenwich\",0.0],UNIT[\"Degree\",0.0174532925199433]]";
  int epsg = 0;
  assert_int_equal(pm_crs_identify_epsg(ctx, esri, &epsg), PM_OK);
  assert_int_equal(epsg, 4326);
  assert_int_equal(pm_transform_create(ctx, esri, 32651, &tr), PM_OK);
  assert_string_equal(pm_transform_source_name(tr), "EPSG:4326");
  x = 121.4706;
  y = 31.2347;
  assert_int_equal(pm_transform_xy(tr, &x, &y), PM_OK);
  assert_near(x, 354344.9679, 0.001);
  assert_near(y, 3456621.2574, 0.001);
  pm_transform_destroy(tr);
  /* A bare code and an exact CRS name are accepted too. */
  assert_int_equal(pm_transform_create(ctx, "4326", 32651, &tr), PM_OK);
  assert_string_equal(pm_transform_source_name(tr), "EPSG:4326");
  pm_transform_destroy(tr);
  assert_int_equal(pm_transform_create(ctx, "WGS 84", 32651, &tr), PM_OK);
  assert_string_equal(pm_transform_source_name(tr), "EPSG:4326");
  pm_transform_destroy(tr);
}

/* Web-map sources land where their WGS 84 equivalent lands. */
static void transform_web_sources(void **state) {
  pm_context *ctx = *state;
  double glon, glat, blon, blat;
  pm_gcj02_from_wgs84(121.4706, 31.2347, &glon, &glat);
  pm_bd09_from_wgs84(121.4706, 31.2347, &blon, &blat);
  const char *src[] = {"gcj02", "GCJ-02", "bd09"};
  const double in[3][2] = {{glon, glat}, {glon, glat}, {blon, blat}};
  for (int i = 0; i < 3; i++) {
    pm_transform *tr = NULL;
    assert_int_equal(pm_transform_create(ctx, src[i], 32651, &tr), PM_OK);
    assert_string_equal(pm_transform_source_name(tr), i == 2 ? "bd09" : "gcj02");
    double x = in[i][0], y = in[i][1];
    assert_int_equal(pm_transform_xy(tr, &x, &y), PM_OK);
    assert_near(x, 354344.9679, 0.01);
    assert_near(y, 3456621.2574, 0.01);
    pm_transform_destroy(tr);
  }
  /* A whole geometry: a 2-point line in GCJ-02 keeps its points' WGS 84 positions. */
  pm_transform *tr = NULL;
  assert_int_equal(pm_transform_create(ctx, "gcj02", 32651, &tr), PM_OK);
  GEOSContextHandle_t h = pm_context_geos(ctx);
  char wkt[128];
  snprintf(wkt, sizeof wkt, "LINESTRING(%.12f %.12f, %.12f %.12f)", glon, glat, glon, glat + 0.01);
  GEOSGeometry *g = pm_test_geom(ctx, wkt), *t = NULL;
  assert_int_equal(pm_transform_geom(tr, g, &t), PM_OK);
  const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, t);
  double x0, y0;
  GEOSCoordSeq_getXY_r(h, cs, 0, &x0, &y0);
  assert_near(x0, 354344.9679, 0.01);
  assert_near(y0, 3456621.2574, 0.01);
  GEOSGeom_destroy_r(h, g);
  GEOSGeom_destroy_r(h, t);
  pm_transform_destroy(tr);
}

static void transform_unknown_sources(void **state) {
  pm_context *ctx = *state;
  pm_transform *tr = (pm_transform *)&ctx; /* must be reset to NULL */
  assert_int_equal(pm_transform_create(ctx, "EPSG:999999", 32651, &tr), PM_ECRS);
  assert_null(tr);
  assert_non_null(strstr(pm_context_message(ctx), "EPSG:999999"));
  /* PROJ would guess a CRS of a similar name for "FOO" (a Bessel 1841 one): refused. */
  assert_int_equal(pm_transform_create(ctx, "FOO", 32651, &tr), PM_ECRS);
  assert_null(tr);
  assert_non_null(strstr(pm_context_message(ctx), "'FOO'"));
  assert_int_equal(pm_transform_create(ctx, "not a crs at all", 32651, &tr), PM_ECRS);
  assert_int_equal(pm_transform_create(ctx, "+proj=nonsense", 32651, &tr), PM_ECRS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(gcj02_peoples_square),    cmocka_unit_test(gcj02_reference_vectors),
      cmocka_unit_test(bd09_round_trips),        cmocka_unit_test(gcj02_outside_china),
      cmocka_unit_test(utm_zones),               cmocka_unit_test(metric_epsg),
      cmocka_unit_test(transform_matches_cs2cs), cmocka_unit_test(transform_web_sources),
      cmocka_unit_test(transform_unknown_sources),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
