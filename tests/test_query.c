/* test_query.c: hand-computable cases for the ad-hoc queries (near, within, length, sql) and the
 * pm_table writers. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "planmetrics/query.h"
#include "fixtures.h"

/* The project, in EPSG:32651 around (X0, Y0), coordinates below are offsets in metres:
 *   districts 甲区 x 0..1000 and 乙区 x 1000..2000, both y -500..500 (they share x = 1000).
 *   stations  S1 (0,0) on 甲区's west edge, S2 (1000,0) on the shared edge, S3 (5000,5000) outside.
 *   stops     P1 (50,0): exactly 50 m from S1; P2 (1000,50.01); P3 (5000,5100) and
 *             P4 (5000,4900): both exactly 100 m from S3 (the tie goes to the lower fid, P3).
 *   roads     R1 (0,0)-(1000,0) and R2 (500,0)-(1500,0) overlap on 500 m; R3 (5000,0)-(5200,0)
 *             lies outside; R4 (-100,600)-(0,500) touches 甲区 only at its corner.
 *   parks     K1 x 900..1100 y 0..100 straddles the shared edge (100 x 100 m in each district);
 *             K2 x 1000..1100 y 200..300 lies in 乙区 and touches 甲区 along its edge. */
#define X0 350000.0
#define Y0 3450000.0

/* A feature of a layer: its name and its offset WKT (shifted by (X0, Y0) when written). Features
 * are written in order, fids 1, 2, ... */
typedef struct feat {
  const char *name;
  const char *wkt;
} feat;

static const feat DISTRICTS[] = {
    {"甲区", "MULTIPOLYGON(((0 -500,1000 -500,1000 500,0 500,0 -500)))"},
    {"乙区", "MULTIPOLYGON(((1000 -500,2000 -500,2000 500,1000 500,1000 -500)))"},
};
static const feat STATIONS[] = {
    {"S1", "POINT(0 0)"}, {"S2", "POINT(1000 0)"}, {"S3", "POINT(5000 5000)"}};
static const feat STOPS[] = {{"P1", "POINT(50 0)"},
                             {"P2", "POINT(1000 50.01)"},
                             {"P3", "POINT(5000 5100)"},
                             {"P4", "POINT(5000 4900)"}};
static const feat ROADS[] = {{"R1", "MULTILINESTRING((0 0,1000 0))"},
                             {"R2", "MULTILINESTRING((500 0,1500 0))"},
                             {"R3", "MULTILINESTRING((5000 0,5200 0))"},
                             {"R4", "MULTILINESTRING((-100 600,0 500))"}};
static const feat PARKS[] = {
    {"K1", "MULTIPOLYGON(((900 0,1100 0,1100 100,900 100,900 0)))"},
    {"K2", "MULTIPOLYGON(((1000 200,1100 200,1100 300,1000 300,1000 200)))"}};

/* A layer of a test project: its features (field `name`). */
typedef struct layer_def {
  const char *name;
  pm_geom_kind kind;
  const feat *fs;
  size_t n;
} layer_def;
#define LAYER(name, kind, fs) {(name), (kind), (fs), sizeof(fs) / sizeof((fs)[0])}

/* The project file `file` of these layers, built into path on the first call (once per test
 * process); returns path. */
static const char *build_once(char *path, size_t size, const char *file, const layer_def *layers,
                              size_t n_layers) {
  if (path[0]) return path;
  snprintf(path, size, "%s", pm_test_path(file));
  pm_context *ctx = NULL;
  assert_int_equal(pm_context_create(&ctx), PM_OK);
  pm_store *store = pm_test_store(ctx, file, 32651);
  assert_int_equal(pm_store_begin(store), PM_OK);
  for (size_t l = 0; l < n_layers; l++) {
    const layer_def *ld = &layers[l];
    const char *names[8], *wkt[8];
    assert_true(ld->n <= 8);
    for (size_t i = 0; i < ld->n; i++) {
      names[i] = ld->fs[i].name;
      wkt[i] = ld->fs[i].wkt;
    }
    pm_test_store_layer(ctx, store, ld->name, ld->kind, "name", names, wkt, ld->n, X0, Y0);
  }
  assert_int_equal(pm_store_commit(store), PM_OK);
  pm_store_close(store);
  pm_context_destroy(ctx);
  return path;
}

static const char *project(void) {
  static char path[512];
  static const layer_def layers[] = {
      LAYER("districts", PM_KIND_POLYGON, DISTRICTS), LAYER("stations", PM_KIND_POINT, STATIONS),
      LAYER("stops", PM_KIND_POINT, STOPS),           LAYER("roads", PM_KIND_LINE, ROADS),
      LAYER("parks", PM_KIND_POLYGON, PARKS),
  };
  return build_once(path, sizeof path, "query.sqlite", layers, sizeof layers / sizeof layers[0]);
}

typedef struct fixture {
  pm_context *ctx;
  pm_store *store;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  const char *path = project();
  assert_int_equal(pm_context_create(&f->ctx), PM_OK);
  assert_int_equal(pm_store_open(f->ctx, path, PM_STORE_READONLY, &f->store, NULL), PM_OK);
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

static const pm_cell *cell(const pm_table *t, size_t row, const char *col) {
  int c = pm_table_col(t, col);
  if (c < 0) fail_msg("no column %s", col);
  const pm_cell *x = pm_table_cell(t, row, (size_t)c);
  assert_non_null(x);
  return x;
}

static const char *text(const pm_table *t, size_t row, const char *col) {
  const pm_cell *x = cell(t, row, col);
  assert_int_equal(x->type, PM_CELL_TEXT);
  return x->s;
}

static double real(const pm_table *t, size_t row, const char *col) {
  const pm_cell *x = cell(t, row, col);
  assert_int_equal(x->type, PM_CELL_REAL);
  return x->d;
}

static int64_t integer(const pm_table *t, size_t row, const char *col) {
  const pm_cell *x = cell(t, row, col);
  assert_int_equal(x->type, PM_CELL_INT);
  return x->i;
}

static int boolean(const pm_table *t, size_t row, const char *col) {
  const pm_cell *x = cell(t, row, col);
  assert_int_equal(x->type, PM_CELL_BOOL);
  return (int)x->i;
}

/* Run a writer into a string (caller frees). */
static char *capture(pm_status (*fn)(const pm_table *, FILE *), const pm_table *t) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  assert_non_null(f);
  assert_int_equal(fn(t, f), PM_OK);
  assert_int_equal(fclose(f), 0);
  /* a copy: returning buf itself trips GCC 12's -Wdangling-pointer at -O3 (open_memstream
   * sets it through the pointer it was given) */
  char *out = strdup(buf);
  free(buf);
  assert_non_null(out);
  return out;
}

/* ---- near ---- */

/* pm_query_near without a district, all rows. */
static pm_status near(fixture *f, const char *from, const char *where_from, const char *to,
                      const char *where_to, double within_m, pm_table **t) {
  pm_near_query q = {.from = from, .where_from = where_from, .to = to, .where_to = where_to,
                     .within_m = within_m};
  return pm_query_near(f->ctx, f->store, &q, t);
}

/* 50.0 m is within 50 (inclusive), 50.01 m is not; the tie at 100 m goes to fid 3. */
static void test_near_inclusive_and_ties(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(near(f, "stations", NULL, "stops", NULL, 50, &t), PM_OK);
  assert_int_equal(t->n_rows, 3);
  assert_int_equal(integer(t, 0, "from_fid"), 1);
  assert_string_equal(text(t, 0, "from_name"), "S1");
  assert_int_equal(integer(t, 0, "to_fid"), 1); /* the tree's item 0: must not read as "none" */
  assert_string_equal(text(t, 0, "to_name"), "P1");
  assert_near(real(t, 0, "distance_m"), 50.0, 1e-9);
  assert_true(boolean(t, 0, "within"));
  assert_string_equal(text(t, 1, "to_name"), "P2");
  assert_near(real(t, 1, "distance_m"), 50.01, 1e-6);
  assert_false(boolean(t, 1, "within"));
  assert_int_equal(integer(t, 2, "to_fid"), 3);
  assert_near(real(t, 2, "distance_m"), 100.0, 1e-9);
  assert_false(boolean(t, 2, "within"));
  assert_non_null(t->summary);
  assert_non_null(strstr(t->summary, "1 of 3"));
  assert_non_null(strstr(t->summary, "33.3 %"));
  pm_table_destroy(t);

  /* At 100 m all three are within. */
  assert_int_equal(near(f, "stations", NULL, "stops", NULL, 100, &t), PM_OK);
  for (size_t r = 0; r < 3; r++) assert_true(boolean(t, r, "within"));
  assert_non_null(strstr(t->summary, "3 of 3"));
  pm_table_destroy(t);
}

/* Filters restrict both sides: without P1 the nearest stop of S1 is P2 (sqrt(1000^2+50.01^2)). */
static void test_near_filters(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(near(f, "stations", "name <> 'S3'", "stops",
                                 "name <> 'P1'", 50, &t),
                   PM_OK);
  assert_int_equal(t->n_rows, 2);
  assert_string_equal(text(t, 0, "to_name"), "P2");
  assert_near(real(t, 0, "distance_m"), sqrt(1000.0 * 1000.0 + 50.01 * 50.01), 1e-6);
  assert_non_null(strstr(t->summary, "0 of 2"));
  pm_table_destroy(t);

  /* Nothing to look for: every row has no nearest feature and is not within. */
  assert_int_equal(near(f, "stations", NULL, "stops", "1 = 0", 50, &t),
                   PM_OK);
  assert_int_equal(t->n_rows, 3);
  assert_int_equal(cell(t, 0, "to_fid")->type, PM_CELL_NULL);
  assert_int_equal(cell(t, 0, "distance_m")->type, PM_CELL_NULL);
  assert_false(boolean(t, 0, "within"));
  pm_table_destroy(t);
}

/* --district keeps the features of FROM in the district (boundary included: S1 on 甲区's west
 * edge, S2 on the shared edge is in both); the nearest is looked for everywhere. --misses keeps
 * the rows without a feature within the distance. */
static void test_near_district_and_misses(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  pm_near_query q = {.from = "stations", .to = "stops", .within_m = 50, .district = "甲区"};
  assert_int_equal(pm_query_near(f->ctx, f->store, &q, &t), PM_OK);
  assert_int_equal(t->n_rows, 2);
  assert_string_equal(text(t, 0, "from_name"), "S1");
  assert_true(boolean(t, 0, "within"));
  assert_string_equal(text(t, 1, "from_name"), "S2");
  assert_false(boolean(t, 1, "within"));
  assert_string_equal(t->summary, "1 of 2 features of stations in 甲区 within 50 m of stops (50.0 %)");
  pm_table_destroy(t);

  q.misses_only = 1;
  assert_int_equal(pm_query_near(f->ctx, f->store, &q, &t), PM_OK);
  assert_int_equal(t->n_rows, 1);
  assert_string_equal(text(t, 0, "from_name"), "S2");
  assert_string_equal(text(t, 0, "to_name"), "P2"); /* the nearest is still given */
  assert_near(real(t, 0, "distance_m"), 50.01, 1e-6);
  assert_string_equal(t->summary,
                      "1 of 2 features of stations in 甲区 have no feature of stops within 50 m "
                      "(50.0 %)");
  pm_table_destroy(t);

  /* 乙区 holds only S2 (its west edge); a bus stop across the boundary would count */
  q.district = "乙区";
  q.within_m = 50.01;
  assert_int_equal(pm_query_near(f->ctx, f->store, &q, &t), PM_OK);
  assert_int_equal(t->n_rows, 0);
  assert_non_null(strstr(t->summary, "0 of 1 features of stations in 乙区 have no feature"));
  pm_table_destroy(t);

  /* --misses over everything: S2 (50.01 m) and S3 (100 m) */
  pm_near_query all = {.from = "stations", .to = "stops", .within_m = 50, .misses_only = 1};
  assert_int_equal(pm_query_near(f->ctx, f->store, &all, &t), PM_OK);
  assert_int_equal(t->n_rows, 2);
  assert_string_equal(text(t, 0, "from_name"), "S2");
  assert_string_equal(text(t, 1, "from_name"), "S3");
  assert_non_null(strstr(t->summary, "2 of 3 features of stations have no feature of stops"));
  pm_table_destroy(t);

  /* nothing to look for: every feature is a miss, without a nearest */
  all.where_to = "1 = 0";
  assert_int_equal(pm_query_near(f->ctx, f->store, &all, &t), PM_OK);
  assert_int_equal(t->n_rows, 3);
  assert_int_equal(cell(t, 0, "to_fid")->type, PM_CELL_NULL);
  pm_table_destroy(t);

  /* lines: R1 and R2 lie in 甲区, R3 outside, R4 only touches its corner */
  pm_near_query roads = {.from = "roads", .to = "stations", .within_m = 0, .district = "甲区"};
  assert_int_equal(pm_query_near(f->ctx, f->store, &roads, &t), PM_OK);
  assert_int_equal(t->n_rows, 2);
  assert_string_equal(text(t, 0, "from_name"), "R1");
  assert_true(boolean(t, 0, "within")); /* S1 lies on R1 */
  assert_string_equal(text(t, 1, "from_name"), "R2");
  assert_true(boolean(t, 1, "within")); /* S2 lies on R2 */
  pm_table_destroy(t);

  /* a district layer and field given by name */
  pm_near_query named = {.from = "stations", .to = "stops", .within_m = 50, .district = "K1",
                         .districts_layer = "parks", .name_field = "name"};
  assert_int_equal(pm_query_near(f->ctx, f->store, &named, &t), PM_OK);
  assert_int_equal(t->n_rows, 1); /* S2 (1000, 0) lies on K1's edge */
  assert_string_equal(text(t, 0, "from_name"), "S2");
  pm_table_destroy(t);

  /* an unknown district lists the names; an unknown district layer lists the layers */
  q.district = "丙区";
  assert_int_equal(pm_query_near(f->ctx, f->store, &q, &t), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "甲区"));
  assert_null(t);
  named.districts_layer = "zones";
  assert_int_equal(pm_query_near(f->ctx, f->store, &named, &t), PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(f->ctx), "districts, parks, roads, stations, stops"));
}

static void test_near_errors(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(near(f, "station", NULL, "stops", NULL, 50, &t),
                   PM_ENOTFOUND);
  assert_null(t);
  const char *m = pm_context_message(f->ctx);
  assert_non_null(strstr(m, "'station'"));
  assert_non_null(strstr(m, "districts, parks, roads, stations, stops"));

  assert_int_equal(near(f, "stations", NULL, "stops", "route = '1'", 50, &t),
                   PM_EINPUT);
  m = pm_context_message(f->ctx);
  assert_non_null(strstr(m, "stops"));
  assert_non_null(strstr(m, "route"));
  assert_non_null(strstr(m, "name")); /* the fields that exist */

  assert_int_equal(near(f, "stations", NULL, "stops", NULL, -1, &t),
                   PM_EINPUT);
  assert_int_equal(near(f, "stations", NULL, "stops", NULL, NAN, &t),
                   PM_EINPUT);
  assert_null(t);
}

/* The same search on in-memory selections, many points against many: every answer agrees with a
 * brute-force minimum. */
static void test_near_matches_brute_force(void **state) {
  fixture *f = *state;
  pm_context *ctx = f->ctx;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  enum { NA = 60, NB = 200 };
  char *wa[NA], *wb[NB];
  unsigned seed = 7;
  for (int i = 0; i < NA; i++) {
    seed = seed * 1103515245u + 12345u;
    double x = (seed >> 8) % 10000 / 10.0;
    seed = seed * 1103515245u + 12345u;
    double y = (seed >> 8) % 10000 / 10.0;
    assert_true(asprintf(&wa[i], "POINT(%g %g)", x, y) > 0);
  }
  for (int i = 0; i < NB; i++) {
    seed = seed * 1103515245u + 12345u;
    double x = (seed >> 8) % 10000 / 10.0;
    seed = seed * 1103515245u + 12345u;
    double y = (seed >> 8) % 10000 / 10.0;
    if (i % 3 == 0)
      assert_true(asprintf(&wb[i], "LINESTRING(%g %g,%g %g)", x, y, x + 30, y + 10) > 0);
    else
      assert_true(asprintf(&wb[i], "POINT(%g %g)", x, y) > 0);
  }
  pm_features *a = NULL, *b = NULL;
  assert_int_equal(pm_features_from_wkt(ctx, "a", (const char *const *)wa, NULL, NA, &a), PM_OK);
  assert_int_equal(pm_features_from_wkt(ctx, "b", (const char *const *)wb, NULL, NB, &b), PM_OK);
  pm_table *t = NULL;
  assert_int_equal(pm_query_near_features(ctx, a, b, 25, &t), PM_OK);
  assert_int_equal(t->n_rows, NA);
  size_t n_within = 0;
  for (size_t i = 0; i < NA; i++) {
    double best = INFINITY;
    int64_t best_fid = -1;
    for (size_t j = 0; j < NB; j++) {
      double d;
      assert_int_equal(GEOSDistance_r(h, a->geom[i], b->geom[j], &d), 1);
      if (d < best) {
        best = d;
        best_fid = b->fid[j];
      }
    }
    assert_near(real(t, i, "distance_m"), best, 1e-9);
    assert_int_equal(integer(t, i, "to_fid"), best_fid);
    assert_int_equal(boolean(t, i, "within"), best <= 25);
    n_within += best <= 25;
  }
  char want[32];
  snprintf(want, sizeof want, "%zu of %d", n_within, NA);
  assert_non_null(strstr(t->summary, want));
  pm_table_destroy(t);
  pm_features_destroy(ctx, a);
  pm_features_destroy(ctx, b);
  for (int i = 0; i < NA; i++) free(wa[i]);
  for (int i = 0; i < NB; i++) free(wb[i]);
}

/* ---- within ---- */

/* Points on the edge are covered: S1 (west edge) and S2 (shared edge) are in 甲区, S2 also in 乙区. */
static void test_within_points(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(pm_query_within(f->ctx, f->store, "stations", NULL, "甲区", NULL, "name", &t),
                   PM_OK);
  assert_int_equal(t->n_rows, 2);
  assert_string_equal(text(t, 0, "name"), "S1");
  assert_string_equal(text(t, 1, "name"), "S2");
  assert_near(real(t, 1, "x"), X0 + 1000, 1e-6);
  assert_near(real(t, 1, "y"), Y0, 1e-6);
  pm_table_destroy(t);
  assert_int_equal(pm_query_within(f->ctx, f->store, "stations", NULL, "乙区", "districts", "name",
                                   &t),
                   PM_OK);
  assert_int_equal(t->n_rows, 1);
  assert_string_equal(text(t, 0, "name"), "S2");
  pm_table_destroy(t);
  /* A filter applies before the district test. */
  assert_int_equal(pm_query_within(f->ctx, f->store, "stations", "name = 'S2'", "甲区", NULL,
                                   "name", &t),
                   PM_OK);
  assert_int_equal(t->n_rows, 1);
  pm_table_destroy(t);
}

/* R1 lies wholly in 甲区 (1000 m), R2 half (500 of 1000 m); R4 only touches a corner: left out. */
static void test_within_lines_and_polygons(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(pm_query_within(f->ctx, f->store, "roads", NULL, "甲区", NULL, "name", &t), PM_OK);
  assert_int_equal(t->n_rows, 2);
  assert_string_equal(text(t, 0, "name"), "R1");
  assert_near(real(t, 0, "length_inside_m"), 1000, 1e-6);
  assert_near(real(t, 0, "length_m"), 1000, 1e-6);
  assert_string_equal(text(t, 1, "name"), "R2");
  assert_near(real(t, 1, "length_inside_m"), 500, 1e-6);
  assert_near(real(t, 1, "length_m"), 1000, 1e-6);
  assert_non_null(strstr(t->summary, "1.500 km"));
  pm_table_destroy(t);

  /* K1 has 100 x 100 m in 甲区; K2 only shares an edge with it. In 乙区 both count. */
  assert_int_equal(pm_query_within(f->ctx, f->store, "parks", NULL, "甲区", NULL, "name", &t), PM_OK);
  assert_int_equal(t->n_rows, 1);
  assert_string_equal(text(t, 0, "name"), "K1");
  assert_near(real(t, 0, "area_inside_m2"), 10000, 1e-3);
  assert_near(real(t, 0, "area_m2"), 20000, 1e-3);
  pm_table_destroy(t);
  assert_int_equal(pm_query_within(f->ctx, f->store, "parks", NULL, "乙区", NULL, "name", &t), PM_OK);
  assert_int_equal(t->n_rows, 2);
  assert_near(real(t, 1, "area_inside_m2"), 10000, 1e-3);
  pm_table_destroy(t);
}

static void test_within_errors(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(pm_query_within(f->ctx, f->store, "stations", NULL, "丙区", NULL, "name", &t),
                   PM_EINPUT);
  const char *m = pm_context_message(f->ctx);
  assert_non_null(strstr(m, "丙区"));
  assert_non_null(strstr(m, "甲区, 乙区"));
  assert_int_equal(pm_query_within(f->ctx, f->store, "stations", NULL, "甲区", NULL, "NAMEX", &t),
                   PM_EINPUT);
  m = pm_context_message(f->ctx);
  assert_non_null(strstr(m, "NAMEX"));
  assert_non_null(strstr(m, "districts"));
  assert_int_equal(pm_query_within(f->ctx, f->store, "stations", NULL, "甲区", "zones", "name", &t),
                   PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(f->ctx), "zones"));
  assert_null(t);
}

/* ---- length ---- */

/* R1 and R2 overlap on 500 m, which counts once: 1500 m, + R3 200 m + R4 141.42 m. */
static void test_length_dissolved(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(pm_query_length(f->ctx, f->store, "roads", NULL, 0, NULL, NULL, &t), PM_OK);
  assert_int_equal(t->n_rows, 1);
  assert_string_equal(text(t, 0, "district"), "_all");
  assert_near(real(t, 0, "length_km"), (1700 + 100 * sqrt(2.0)) / 1000.0, 1e-9);
  assert_non_null(strstr(t->summary, "4 features"));
  pm_table_destroy(t);

  assert_int_equal(pm_query_length(f->ctx, f->store, "roads", "name IN ('R1', 'R2')", 0, NULL,
                                   NULL, &t),
                   PM_OK);
  assert_near(real(t, 0, "length_km"), 1.5, 1e-9);
  pm_table_destroy(t);

  /* Per district: 甲区 1000 m, 乙区 500 m; the plan area holds 1500 m (R3, R4 lie outside). */
  assert_int_equal(pm_query_length(f->ctx, f->store, "roads", NULL, 1, "districts", "name", &t),
                   PM_OK);
  assert_int_equal(t->n_rows, 3);
  assert_string_equal(text(t, 0, "district"), "甲区");
  assert_near(real(t, 0, "length_km"), 1.0, 1e-9);
  assert_string_equal(text(t, 1, "district"), "乙区");
  assert_near(real(t, 1, "length_km"), 0.5, 1e-9);
  assert_string_equal(text(t, 2, "district"), "_all");
  assert_near(real(t, 2, "length_km"), 1.5, 1e-9);
  pm_table_destroy(t);
}

static void test_length_errors(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(pm_query_length(f->ctx, f->store, "parks", NULL, 0, NULL, NULL, &t), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "polygon"));
  assert_int_equal(pm_query_length(f->ctx, f->store, "road", NULL, 0, NULL, NULL, &t),
                   PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(f->ctx), "roads"));
  assert_int_equal(pm_query_length(f->ctx, f->store, "roads", "kind = 'x'", 0, NULL, NULL, &t),
                   PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "kind"));
  assert_null(t);
}

/* ---- sql ---- */

static void test_sql_select(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(pm_query_sql(f->ctx, f->store,
                                "SELECT fid, name, ST_X(geom) - 350000 AS dx, geom, x'00ff' AS b, "
                                "NULL AS n FROM stations ORDER BY fid;  -- done",
                                &t),
                   PM_OK);
  assert_int_equal(t->n_cols, 6);
  assert_string_equal(t->cols[2], "dx");
  assert_int_equal(t->n_rows, 3);
  assert_int_equal(integer(t, 1, "fid"), 2);
  assert_string_equal(text(t, 1, "name"), "S2");
  assert_near(real(t, 1, "dx"), 1000, 1e-9);
  assert_non_null(strstr(text(t, 1, "geom"), "POINT(351000"));
  assert_string_equal(text(t, 0, "b"), "<blob 2 bytes>");
  assert_int_equal(cell(t, 0, "n")->type, PM_CELL_NULL);
  assert_string_equal(t->summary, "3 rows");
  pm_table_destroy(t);

  /* SpatiaLite functions measure in the project CRS: the overlap shows in the raw sum. */
  assert_int_equal(pm_query_sql(f->ctx, f->store,
                                "SELECT sum(ST_Length(geom)) AS m FROM roads WHERE name IN ('R1','R2')",
                                &t),
                   PM_OK);
  assert_near(real(t, 0, "m"), 2000, 1e-9);
  pm_table_destroy(t);
}

static void test_sql_refuses_writes(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  const char *writes[] = {"DELETE FROM stations", "UPDATE stations SET name = 'x'",
                          "DROP TABLE roads", "CREATE TABLE x (a)",
                          "INSERT INTO stations (fid, name) VALUES (9, 'S9')"};
  for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++) {
    assert_int_equal(pm_query_sql(f->ctx, f->store, writes[i], &t), PM_EINPUT);
    assert_non_null(strstr(pm_context_message(f->ctx), "would change"));
  }
  assert_int_equal(pm_query_sql(f->ctx, f->store, "SELECT 1; DELETE FROM stations", &t), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "one SQL statement"));
  assert_int_equal(pm_query_sql(f->ctx, f->store, "  -- nothing\n", &t), PM_EINPUT);
  assert_int_equal(pm_query_sql(f->ctx, f->store, "SELECT * FROM station", &t), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "parks, roads, stations, stops"));
  assert_int_equal(pm_query_sql(f->ctx, f->store, "SELEC 1", &t), PM_EINPUT);
  assert_null(t);
  /* Nothing was changed. */
  assert_int_equal(pm_query_sql(f->ctx, f->store, "SELECT count(*) AS n FROM stations", &t), PM_OK);
  assert_int_equal(integer(t, 0, "n"), 3);
  pm_table_destroy(t);
}

/* SpatiaLite functions that write (DropGeoTable, CreateSpatialIndex, ...) run inside statements
 * SQLite calls read-only; each attempt is an error (never a 0 printed as an answer), and nothing
 * changes, even on a store opened for writing. */
static void test_sql_spatialite_writes(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  const char *calls[] = {"SELECT DropGeoTable('roads')",
                         "SELECT CreateSpatialIndex('stations', 'geom')",
                         "SELECT RecoverGeometryColumn('roads', 'geom', 32651, 'MULTILINESTRING', 'XY')",
                         "SELECT UpdateLayerStatistics()", "SELECT DropTable(NULL, 'roads')",
                         "SELECT name, DisableSpatialIndex('stations', 'geom') FROM stations"};
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    if (pm_query_sql(f->ctx, f->store, calls[i], &t) != PM_EINPUT)
      fail_msg("%s: not refused", calls[i]);
    assert_null(t);
    if (!strstr(pm_context_message(f->ctx), "only reads"))
      fail_msg("%s: %s", calls[i], pm_context_message(f->ctx));
  }
  /* the same on a copy opened for writing: refused, and the copy is unchanged */
  char copy[600];
  snprintf(copy, sizeof copy, "%s/writable.sqlite", pm_test_tmpdir());
  assert_int_equal(pm_test_system("cp '%s' '%s'", project(), copy), 0);
  pm_store *rw = NULL;
  assert_int_equal(pm_store_open(f->ctx, copy, 0, &rw, NULL), PM_OK);
  for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
    if (pm_query_sql(f->ctx, rw, calls[i], &t) != PM_EINPUT)
      fail_msg("%s: not refused on a writable store", calls[i]);
    assert_null(t);
  }
  assert_int_equal(pm_query_sql(f->ctx, rw,
                                "SELECT (SELECT count(*) FROM roads) AS r, (SELECT count(*) FROM "
                                "geometry_columns WHERE f_table_name = 'roads') AS g, (SELECT "
                                "spatial_index_enabled FROM geometry_columns WHERE f_table_name = "
                                "'stations') AS idx",
                                &t),
                   PM_OK);
  assert_int_equal(integer(t, 0, "r"), 4);
  assert_int_equal(integer(t, 0, "g"), 1);
  assert_int_equal(integer(t, 0, "idx"), 1);
  pm_table_destroy(t);
  pm_store_close(rw);
  /* reading still works after a refusal */
  assert_int_equal(pm_query_sql(f->ctx, f->store, "SELECT count(*) AS n FROM roads", &t), PM_OK);
  assert_int_equal(integer(t, 0, "n"), 4);
  pm_table_destroy(t);
}

/* A GEOS error inside a SpatiaLite function (which then answers NULL) is an error naming it. */
static void test_sql_geos_error(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  assert_int_equal(pm_query_sql(f->ctx, f->store,
                                "SELECT name, ST_Union(CASE WHEN fid = 2 THEN ST_GeomFromText("
                                "'POLYGON((0 0, 1 1, 1 0, 0 1, 0 0))', 32651) ELSE ST_Buffer(geom, "
                                "1) END, ST_GeomFromText('POINT(0.5 0.2)', 32651)) AS u FROM "
                                "stations ORDER BY fid",
                                &t),
                   PM_EINPUT);
  assert_null(t);
  assert_non_null(strstr(pm_context_message(f->ctx), "TopologyException"));
  assert_non_null(strstr(pm_context_message(f->ctx), "row 2"));
  /* a warning (the reason a geometry is invalid) is an answer, not an error */
  assert_int_equal(pm_query_sql(f->ctx, f->store,
                                "SELECT ST_IsValid(ST_GeomFromText('POLYGON((0 0, 1 1, 1 0, 0 1, "
                                "0 0))')) AS v",
                                &t),
                   PM_OK);
  assert_int_equal(integer(t, 0, "v"), 0);
  pm_table_destroy(t);
}

/* ---- pm_table writers ---- */

static void test_utf8_width(void **state) {
  (void)state;
  assert_int_equal(pm__utf8_width(""), 0);
  assert_int_equal(pm__utf8_width("abc"), 3);
  assert_int_equal(pm__utf8_width("青浦区"), 6);
  assert_int_equal(pm__utf8_width("a青b"), 4);
  assert_int_equal(pm__utf8_width("（全角）"), 8); /* fullwidth parentheses */
  assert_int_equal(pm__utf8_width("e\xcc\x81"), 1); /* e + combining acute */
  assert_int_equal(pm__utf8_width("\xff"), 1);      /* invalid byte */
}

static pm_table *sample(pm_context *ctx) {
  const char *cols[] = {"name", "n", "ok", "d"};
  pm_table *t = NULL;
  assert_int_equal(pm_table_create(ctx, cols, 4, &t), PM_OK);
  size_t r;
  assert_int_equal(pm_table_add_row(ctx, t, &r), PM_OK);
  pm_table_set_text(ctx, t, r, 0, "青浦区");
  pm_table_set_int(ctx, t, r, 1, 7);
  pm_table_set_bool(ctx, t, r, 2, 1);
  pm_table_set_real(ctx, t, r, 3, 12.3456, 2);
  assert_int_equal(pm_table_add_row(ctx, t, &r), PM_OK);
  pm_table_set_text(ctx, t, r, 0, "a,\"b\"\nc");
  pm_table_set_int(ctx, t, r, 1, 1234);
  pm_table_set_bool(ctx, t, r, 2, 0);
  pm_table_set_real(ctx, t, r, 3, NAN, 2);
  assert_int_equal(pm_table_set_summary(ctx, t, "%d rows", 2), PM_OK);
  assert_int_equal(pm_table_set_text(ctx, t, 5, 0, "x"), PM_EINTERNAL); /* no such row */
  return t;
}

/* Every line of the table has the same display width: wide characters count twice. */
static void test_table_print(void **state) {
  fixture *f = *state;
  pm_table *t = sample(f->ctx);
  char *s = capture(pm_table_print, t);
  assert_string_equal(s, "name        n  ok       d\n"
                         "-------  ----  ---  -----\n"
                         "青浦区      7  yes  12.35\n"
                         "a,\"b\" c  1234  no        \n"
                         "2 rows\n");
  free(s);
  pm_table_destroy(t);

  /* A long cell is cut at 60 columns with an ellipsis. */
  const char *cols[] = {"wkt"};
  assert_int_equal(pm_table_create(f->ctx, cols, 1, &t), PM_OK);
  char longtext[200];
  memset(longtext, 'x', 150);
  longtext[150] = '\0';
  assert_int_equal(pm_table_add_row(f->ctx, t, NULL), PM_OK);
  pm_table_set_text(f->ctx, t, 0, 0, longtext);
  s = capture(pm_table_print, t);
  char *line = strchr(strchr(s, '\n') + 1, '\n') + 1;
  *strchr(line, '\n') = '\0';
  assert_int_equal(pm__utf8_width(line), 60);
  assert_non_null(strstr(line, "\xe2\x80\xa6"));
  free(s);
  pm_table_destroy(t);
}

static void test_table_json_csv(void **state) {
  fixture *f = *state;
  pm_table *t = sample(f->ctx);
  char *s = capture(pm_table_write_json, t);
  assert_string_equal(s, "[\n"
                         " {\"name\": \"青浦区\", \"n\": 7, \"ok\": true, \"d\": 12.35},\n"
                         " {\"name\": \"a,\\\"b\\\"\\nc\", \"n\": 1234, \"ok\": false, \"d\": null}\n"
                         "]\n");
  free(s);
  s = capture(pm_table_write_csv, t);
  assert_string_equal(s, "name,n,ok,d\r\n"
                         "青浦区,7,true,12.35\r\n"
                         "\"a,\"\"b\"\"\nc\",1234,false,\r\n");
  free(s);
  pm_table_destroy(t);

  const char *cols[] = {"x"};
  assert_int_equal(pm_table_create(f->ctx, cols, 1, &t), PM_OK);
  s = capture(pm_table_write_json, t);
  assert_string_equal(s, "[]\n");
  free(s);
  s = capture(pm_table_print, t);
  assert_string_equal(s, "x\n-\n(no rows)\n");
  free(s);
  pm_table_destroy(t);
}


/* ---- along the walking network (a project of its own) ----
 *   roads (the default network layer), offsets in metres:
 *     W1 (0,0)-(100,0), W2 (100,0)-(300,0), W3 (100,0)-(100,200): a T, 500 m, the largest piece;
 *     W4 (1000,1000)-(1050,1000): a 50 m island (< min_piece_m 200), never snapped to;
 *     W5 (2000,0)-(2300,0): a piece of 300 m of its own.
 *   places: A (0,10), B (300,-20), C (100,250), D (2100,5), E (1025,1010) (only the island
 *     near: unroutable).
 *   parks: K, the square x 150..170, y 20..40, 20 m above W2.
 *   empty_lines: a line layer without features. */
static const feat NET_ROADS[] = {{"W1", "MULTILINESTRING((0 0,100 0))"},
                                 {"W2", "MULTILINESTRING((100 0,300 0))"},
                                 {"W3", "MULTILINESTRING((100 0,100 200))"},
                                 {"W4", "MULTILINESTRING((1000 1000,1050 1000))"},
                                 {"W5", "MULTILINESTRING((2000 0,2300 0))"}};
static const feat NET_PLACES[] = {{"A", "POINT(0 10)"},     {"B", "POINT(300 -20)"},
                                  {"C", "POINT(100 250)"},  {"D", "POINT(2100 5)"},
                                  {"E", "POINT(1025 1010)"}};
static const feat NET_PARKS[] = {{"K", "MULTIPOLYGON(((150 20,170 20,170 40,150 40,150 20)))"}};

static const char *net_project(void) {
  static char path[512];
  static const layer_def layers[] = {
      LAYER("roads", PM_KIND_LINE, NET_ROADS),
      LAYER("places", PM_KIND_POINT, NET_PLACES),
      LAYER("parks", PM_KIND_POLYGON, NET_PARKS),
      {"empty_lines", PM_KIND_LINE, NULL, 0},
  };
  return build_once(path, sizeof path, "network.sqlite", layers, sizeof layers / sizeof layers[0]);
}

static int net_setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  const char *path = net_project();
  assert_int_equal(pm_context_create(&f->ctx), PM_OK);
  assert_int_equal(pm_store_open(f->ctx, path, PM_STORE_READONLY, &f->store, NULL), PM_OK);
  *state = f;
  return 0;
}

static int64_t row_of(const pm_table *t, const char *col, int64_t v) {
  for (size_t r = 0; r < t->n_rows; r++)
    if (integer(t, r, col) == v) return (int64_t)r;
  fail_msg("no row with %s = %lld", col, (long long)v);
  return -1;
}

/* Sizes of the network by hand: 8 nodes, 5 edges, 3 pieces; 7 dead ends; one island. */
static void test_network_info(void **state) {
  fixture *f = *state;
  pm_network_query q;
  pm_network_query_init(&q); /* the default layer, roads */
  pm_table *t = NULL, *p = NULL;
  assert_int_equal(pm_query_network_info(f->ctx, f->store, &q, &t, &p), PM_OK);
  assert_int_equal(t->n_rows, 1);
  assert_string_equal(text(t, 0, "layer"), "roads");
  assert_string_equal(text(t, 0, "filter"), "none"); /* no highway field: every line */
  assert_string_equal(text(t, 0, "connect"), "vertices");
  assert_int_equal(integer(t, 0, "nodes"), 8);
  assert_int_equal(integer(t, 0, "edges"), 5);
  assert_int_equal(integer(t, 0, "components"), 3);
  assert_int_equal(integer(t, 0, "dangling_ends"), 7);
  assert_int_equal(integer(t, 0, "islands"), 1);
  assert_near(real(t, 0, "length_km"), 0.85, 1e-9);
  assert_near(real(t, 0, "largest_km"), 0.5, 1e-9);
  assert_near(real(t, 0, "largest_share_pct"), 100 * 500.0 / 850.0, 1e-9);
  assert_near(real(t, 0, "island_km"), 0.05, 1e-9);
  assert_true(real(t, 0, "memory_mb") > 0);
  assert_non_null(strstr(t->summary, "3 pieces"));
  /* the pieces besides the largest, longest first, with their extent */
  assert_int_equal(p->n_rows, 2);
  assert_int_equal(integer(p, 0, "edges"), 1);
  assert_near(real(p, 0, "length_m"), 300, 1e-9);
  assert_false(boolean(p, 0, "island"));
  assert_near(real(p, 0, "minx"), X0 + 2000, 1e-6);
  assert_near(real(p, 1, "length_m"), 50, 1e-9);
  assert_true(boolean(p, 1, "island"));
  assert_near(real(p, 1, "miny"), Y0 + 1000, 1e-6);
  assert_near(real(p, 1, "maxx"), X0 + 1050, 1e-6);
  assert_non_null(strstr(p->summary, "2 pieces besides the largest"));
  pm_table_destroy(t);
  pm_table_destroy(p);

  /* a filter, and min_piece_m 0: no island left */
  q.where = "name <> 'W5'";
  q.min_piece_m = 0;
  assert_int_equal(pm_query_network_info(f->ctx, f->store, &q, &t, NULL), PM_OK);
  assert_string_equal(text(t, 0, "filter"), "given");
  assert_int_equal(integer(t, 0, "components"), 2);
  assert_int_equal(integer(t, 0, "islands"), 0);
  pm_table_destroy(t);
}

/* Bad networks: each an error naming what to fix, no table. */
static void test_network_errors(void **state) {
  fixture *f = *state;
  pm_network_query q;
  pm_table *t = NULL;
  pm_network *net = NULL;
  pm_network_query_init(&q);
  q.layer = "places";
  assert_int_equal(pm_query_network_info(f->ctx, f->store, &q, &t, NULL), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "holds points"));
  assert_null(t);
  q.layer = "empty_lines";
  assert_int_equal(pm_query_network_build(f->ctx, f->store, &q, &net, NULL, NULL), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "has no features"));
  assert_null(net);
  q.layer = "roads";
  q.where = "name = 'nothing'";
  assert_int_equal(pm_query_network_build(f->ctx, f->store, &q, &net, NULL, NULL), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "leaves no lines"));
  q.where = "highway = 'footway'"; /* a field the layer lacks */
  assert_int_equal(pm_query_network_build(f->ctx, f->store, &q, &net, NULL, NULL), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "highway"));
  q.where = NULL;
  q.connect = "vertex";
  assert_int_equal(pm_query_network_build(f->ctx, f->store, &q, &net, NULL, NULL), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "crossings"));
  q.connect = NULL;
  const double bad_snap[] = {0, -1, 6000, INFINITY};
  for (size_t i = 0; i < PM_ARRAY_LEN(bad_snap); i++) {
    q.max_snap_m = bad_snap[i];
    assert_int_equal(pm_query_network_build(f->ctx, f->store, &q, &net, NULL, NULL), PM_EINPUT);
    assert_non_null(strstr(pm_context_message(f->ctx), "max_snap_m"));
  }
  q.max_snap_m = NAN;
  q.min_piece_m = -1;
  assert_int_equal(pm_query_network_build(f->ctx, f->store, &q, &net, NULL, NULL), PM_EINPUT);
  q.min_piece_m = NAN;
  q.access_width_m = 501;
  assert_int_equal(pm_query_network_build(f->ctx, f->store, &q, &net, NULL, NULL), PM_EINPUT);
  q.access_width_m = NAN;
  q.layer = "streets";
  assert_int_equal(pm_query_network_build(f->ctx, f->store, &q, &net, NULL, NULL), PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(f->ctx), "empty_lines, parks, places, roads"));
  /* no run recorded: no recorded network */
  pm_network_spec rec;
  int found = 1;
  assert_int_equal(pm_query_network_recorded(f->ctx, f->store, &rec, &found), PM_OK);
  assert_int_equal(found, 0);
}

/* The walking network's default filter: none for a layer that is not OSM data, the walkable
 * default for OSM data with every field it reads, and the first missing field for OSM data
 * ingested without them (the runner and the queries turn that into their own advice). */
static void test_network_default_where(void **state) {
  pm_context *ctx = *state;
  pm_store *s = pm_test_store(ctx, "default_where.sqlite", 32651);
  const char *const wkt[] = {"MULTILINESTRING((0 0, 10 0))"}, *const values[] = {"footway"};
  assert_int_equal(pm_store_begin(s), PM_OK);
  pm_test_store_layer(ctx, s, "plain", PM_KIND_LINE, "name", values, wkt, 1, 0, 0);
  pm_test_store_layer(ctx, s, "osm_old", PM_KIND_LINE, "highway", values, wkt, 1, 0, 0);
  pm_test_store_layer(ctx, s, "osm_new", PM_KIND_LINE, "highway", values, wkt, 1, 0, 0);
  for (const char *const *k = pm_network_osm_walkable_fields(); *k; k++)
    if (strcmp(*k, "highway") != 0) {
      char sql[128];
      snprintf(sql, sizeof sql, "ALTER TABLE osm_new ADD COLUMN \"%s\" TEXT", *k);
      pm_test_sql_exec(s, sql);
    }
  assert_int_equal(pm_store_commit(s), PM_OK);
  const struct {
    const char *layer, *where, *missing;
  } cases[] = {{"plain", NULL, NULL},
               {"osm_old", NULL, pm_network_osm_walkable_fields()[1]},
               {"osm_new", pm_network_osm_walkable_where(), NULL}};
  for (size_t i = 0; i < PM_ARRAY_LEN(cases); i++) {
    const char *where = "x", *missing = "x";
    assert_int_equal(pm_network_default_where(s, cases[i].layer, &where, &missing), PM_OK);
    if ((where == NULL) != (cases[i].where == NULL) || (where && strcmp(where, cases[i].where)) ||
        (missing == NULL) != (cases[i].missing == NULL) ||
        (missing && strcmp(missing, cases[i].missing)))
      fail_msg("%s: where '%s', missing '%s'", cases[i].layer, where ? where : "(none)",
               missing ? missing : "(none)");
  }
  const char *where, *missing;
  assert_int_not_equal(pm_network_default_where(s, "nowhere", &where, &missing), PM_OK);
  pm_store_close(s);
}

static pm_status reach(fixture *f, const char *from, double within_m, double width_m,
                       pm_table **t, pm_table **lines, pm_table **areas) {
  pm_reach_query q = {.from = from, .within_m = within_m};
  pm_network_query_init(&q.network);
  q.network.access_width_m = width_m;
  return pm_query_reach(f->ctx, f->store, &q, t, lines, areas);
}

/* What each place reaches within 150 m, legs included. A (leg 10) walks W1 (100 m) to the
 * junction at 110 m, then 40 m up W2 and W3: 180 m and 2 nodes; B (leg 20): 130 m of W2; C (leg
 * 50): 100 m of W3; D (leg 5, in the middle of W5): 100 m left to its end (reached at 105 m) and
 * 145 m right: 245 m; E is unroutable (only the island is near). */
static void test_reach_by_hand(void **state) {
  fixture *f = *state;
  pm_table *t = NULL, *lines = NULL, *areas = NULL;
  assert_int_equal(reach(f, "places", 150, 10, &t, &lines, &areas), PM_OK);
  assert_int_equal(t->n_rows, 5);
  static const struct {
    int64_t fid;
    double km, snap;
    int64_t nodes;
  } want[] = {{1, 0.180, 10, 2}, {2, 0.130, 20, 1}, {3, 0.100, 50, 1}, {4, 0.245, 5, 1}};
  for (size_t i = 0; i < PM_ARRAY_LEN(want); i++) {
    size_t r = (size_t)row_of(t, "from_fid", want[i].fid);
    assert_true(boolean(t, r, "routable"));
    assert_near(real(t, r, "reached_km"), want[i].km, 1e-9);
    assert_near(real(t, r, "snap_m"), want[i].snap, 1e-9);
    assert_int_equal(integer(t, r, "reached_nodes"), want[i].nodes);
    assert_int_equal(cell(t, r, "note")->type, PM_CELL_NULL);
  }
  size_t e = (size_t)row_of(t, "from_fid", 5);
  assert_false(boolean(t, e, "routable"));
  assert_near(real(t, e, "reached_km"), 0, 0);
  assert_non_null(strstr(text(t, e, "note"), "unroutable"));
  assert_non_null(strstr(t->summary, "4 on the walking network"));
  /* A's bands: [0, 50] walks x 0..40 of W1 (40 m); (50, 100] x 40..90 (50 m); (100, 150] the
   * last 10 m of W1 and 40 m of W2 and of W3 (90 m) */
  static const double band_m[] = {40, 50, 90};
  size_t k = 0;
  for (size_t r = 0; r < lines->n_rows; r++) {
    if (integer(lines, r, "from_fid") != 1) continue;
    assert_true(k < 3);
    assert_near(real(lines, r, "distance_m"), 50.0 * (double)(k + 1), 0);
    assert_near(real(lines, r, "length_m"), band_m[k], 1e-9);
    assert_non_null(strstr(text(lines, r, "wkt"), "MULTILINESTRING"));
    k++;
  }
  assert_int_equal(k, 3);
  for (size_t r = 0; r < lines->n_rows; r++) assert_true(integer(lines, r, "from_fid") != 5);
  /* A's service area: the T reached (x 0..140 along y = 0, y 0..40 along x = 100) widened by
   * 10 m: 140 x 20 + a circle, plus 40 x 20 + a circle less the 10 x 20 + half a circle they
   * share: 3871.2 m2 (8 segments a quarter circle: 2 m2 less) */
  assert_int_equal(areas->n_rows, 4);
  size_t ra = (size_t)row_of(areas, "from_fid", 1);
  assert_near(real(areas, ra, "area_m2"), 140 * 20 + 40 * 20 - 10 * 20 + 1.5 * M_PI * 100, 6);
  assert_near(real(areas, ra, "reached_km"), 0.18, 1e-9);
  assert_non_null(strstr(text(areas, ra, "wkt"), "POLYGON"));
  pm_table_destroy(t);
  pm_table_destroy(lines);
  pm_table_destroy(areas);

  /* from a polygon: K's boundary; within 0 m nothing is reached beyond the snap points */
  assert_int_equal(reach(f, "parks", 0, 50, &t, NULL, NULL), PM_OK);
  assert_int_equal(t->n_rows, 1);
  assert_true(boolean(t, 0, "routable"));
  assert_near(real(t, 0, "snap_m"), 20, 1e-9);
  assert_near(real(t, 0, "reached_km"), 0, 1e-12);
  pm_table_destroy(t);

  assert_int_equal(reach(f, "places", -1, 50, &t, NULL, NULL), PM_EINPUT);
  assert_int_equal(reach(f, "places", 60000, 50, &t, NULL, NULL), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(f->ctx), "check the unit"));
  assert_int_equal(reach(f, "placs", 100, 50, &t, NULL, NULL), PM_ENOTFOUND);
  assert_null(t);
}

static pm_status route(fixture *f, pm_route_end from, pm_route_end to, pm_table **t) {
  pm_route_query q = {.from = from, .to = to};
  pm_network_query_init(&q.network);
  return pm_query_route(f->ctx, f->store, &q, t);
}

/* Walks by hand: the legs plus the way along the network. */
static void test_route_by_hand(void **state) {
  fixture *f = *state;
  pm_table *t = NULL;
  const pm_route_end A = {"places", 1, 0, 0}, B = {"places", 2, 0, 0}, C = {"places", 3, 0, 0},
                     D = {"places", 4, 0, 0}, E = {"places", 5, 0, 0}, K = {"parks", 1, 0, 0};
  /* A to B: 10 + 300 + 20 */
  assert_int_equal(route(f, A, B, &t), PM_OK);
  assert_int_equal(t->n_rows, 1);
  assert_string_equal(text(t, 0, "from"), "places#1");
  assert_string_equal(text(t, 0, "to_name"), "B");
  assert_near(real(t, 0, "walk_m"), 330, 1e-9);
  assert_near(real(t, 0, "straight_m"), hypot(300, 30), 1e-9);
  assert_near(real(t, 0, "detour"), 330 / hypot(300, 30), 1e-3);
  assert_near(real(t, 0, "from_snap_m"), 10, 1e-9);
  assert_near(real(t, 0, "to_snap_m"), 20, 1e-9);
  assert_int_equal(strncmp(text(t, 0, "wkt"), "LINESTRING", 10), 0);
  assert_non_null(strstr(t->summary, "walk 330.0 m"));
  pm_table_destroy(t);
  /* A to C through the junction: 10 + 100 + 200 + 50 */
  assert_int_equal(route(f, A, C, &t), PM_OK);
  assert_near(real(t, 0, "walk_m"), 360, 1e-9);
  pm_table_destroy(t);
  /* a point (50, -3) to B: 3 + 250 + 20 */
  pm_route_end P = {NULL, 0, X0 + 50, Y0 - 3};
  assert_int_equal(route(f, P, B, &t), PM_OK);
  assert_near(real(t, 0, "walk_m"), 273, 1e-9);
  assert_int_equal(cell(t, 0, "from_name")->type, PM_CELL_NULL);
  pm_table_destroy(t);
  /* from the park's boundary (its corner (170, 20), 20 m above W2) to B: 20 + 130 + 20 */
  assert_int_equal(route(f, K, B, &t), PM_OK);
  assert_near(real(t, 0, "walk_m"), 170, 1e-9);
  assert_near(real(t, 0, "straight_m"), hypot(130, 40), 1e-9);
  pm_table_destroy(t);
  /* no walk: pieces that do not meet, an unroutable end */
  assert_int_equal(route(f, A, D, &t), PM_OK);
  assert_int_equal(cell(t, 0, "walk_m")->type, PM_CELL_REAL);
  assert_true(isnan(real(t, 0, "walk_m")));
  assert_non_null(strstr(text(t, 0, "note"), "do not meet"));
  assert_int_equal(cell(t, 0, "wkt")->type, PM_CELL_NULL);
  pm_table_destroy(t);
  assert_int_equal(route(f, A, E, &t), PM_OK);
  assert_non_null(strstr(text(t, 0, "note"), "the end is"));
  assert_non_null(strstr(t->summary, "unroutable"));
  pm_table_destroy(t);
  /* an unknown feature */
  pm_route_end Z = {"places", 99, 0, 0};
  assert_int_equal(route(f, A, Z, &t), PM_ENOTFOUND);
  assert_non_null(strstr(pm_context_message(f->ctx), "no feature with fid 99"));
  assert_null(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_network_info, net_setup, teardown),
      cmocka_unit_test_setup_teardown(test_network_errors, net_setup, teardown),
      cmocka_unit_test_setup_teardown(test_reach_by_hand, net_setup, teardown),
      cmocka_unit_test_setup_teardown(test_route_by_hand, net_setup, teardown),
      cmocka_unit_test_setup_teardown(test_near_inclusive_and_ties, setup, teardown),
      cmocka_unit_test_setup_teardown(test_near_filters, setup, teardown),
      cmocka_unit_test_setup_teardown(test_near_district_and_misses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_near_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_near_matches_brute_force, setup, teardown),
      cmocka_unit_test_setup_teardown(test_within_points, setup, teardown),
      cmocka_unit_test_setup_teardown(test_within_lines_and_polygons, setup, teardown),
      cmocka_unit_test_setup_teardown(test_within_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_length_dissolved, setup, teardown),
      cmocka_unit_test_setup_teardown(test_length_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sql_select, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sql_refuses_writes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sql_spatialite_writes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sql_geos_error, setup, teardown),
      cmocka_unit_test(test_utf8_width),
      pm_test_case(test_network_default_where),
      cmocka_unit_test_setup_teardown(test_table_print, setup, teardown),
      cmocka_unit_test_setup_teardown(test_table_json_csv, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
