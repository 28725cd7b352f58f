/* test_features.c: engine/features.c: selections from WKT (kinds, fids, labels, attributes), the
 * STRtree index, the dissolved union, the nearest feature and its ties, stable ids. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

/* The kind of a selection is its first feature's: points and multipoints are points, lines and
 * multilines lines, polygons and multipolygons polygons; anything else is none. */
static void test_kinds(void **state) {
  pm_context *ctx = *state;
  static const struct {
    const char *wkt;
    pm_geom_kind kind;
    const char *name;
  } cases[] = {
      {"POINT(1 2)", PM_KIND_POINT, "point"},
      {"MULTIPOINT((1 2),(3 4))", PM_KIND_POINT, "point"},
      {"LINESTRING(0 0,1 1)", PM_KIND_LINE, "line"},
      {"MULTILINESTRING((0 0,1 1),(2 2,3 3))", PM_KIND_LINE, "line"},
      {"LINEARRING(0 0,1 0,1 1,0 0)", PM_KIND_LINE, "line"},
      {"POLYGON((0 0,1 0,1 1,0 0))", PM_KIND_POLYGON, "polygon"},
      {"MULTIPOLYGON(((0 0,1 0,1 1,0 0)))", PM_KIND_POLYGON, "polygon"},
      {"GEOMETRYCOLLECTION(POINT(1 2))", PM_KIND_NONE, "none"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *w[] = {cases[i].wkt, "POINT(9 9)"};
    pm_features *fs = pm_test_wkt(ctx, "k", w, NULL, 2);
    if (fs->kind != cases[i].kind || strcmp(pm_geom_kind_name(fs->kind), cases[i].name) != 0)
      fail_msg("%s: kind %d (%s), want %d (%s)", cases[i].wkt, fs->kind,
               pm_geom_kind_name(fs->kind), cases[i].kind, cases[i].name);
    pm_features_destroy(ctx, fs);
  }
}

/* Fids are 1..n in input order; labels are copied (NULL ones and a NULL array allowed); the layer
 * name is copied too, "features" when none is given. */
static void test_from_wkt_fids_labels(void **state) {
  pm_context *ctx = *state;
  const char *w[] = {"POINT(0 0)", "POINT(1 0)", "POINT(2 0)"};
  char label[] = "甲站";
  const char *labels[] = {label, NULL, "丙站"};
  char layer[] = "stations";
  pm_features *fs = pm_test_wkt(ctx, layer, w, labels, 3);
  label[0] = 'X'; /* the caller's buffers are not kept */
  layer[0] = 'X';
  assert_string_equal(fs->layer, "stations");
  assert_int_equal(fs->n, 3);
  for (size_t i = 0; i < 3; i++) assert_int_equal(fs->fid[i], (int64_t)i + 1);
  assert_string_equal(fs->label[0], "甲站");
  assert_null(fs->label[1]);
  assert_string_equal(fs->label[2], "丙站");
  double x = -1;
  assert_int_equal(GEOSGeomGetX_r(pm_context_geos(ctx), fs->geom[2], &x), 1);
  assert_near(x, 2, 0);
  assert_null(fs->tree); /* not indexed until asked */
  assert_int_equal(fs->n_attrs, 0);
  pm_features_destroy(ctx, fs);

  fs = pm_test_wkt(ctx, NULL, w, NULL, 3);
  assert_string_equal(fs->layer, "features");
  for (size_t i = 0; i < 3; i++) assert_null(fs->label[i]);
  pm_features_destroy(ctx, fs);

  fs = pm_test_wkt(ctx, "none", NULL, NULL, 0);
  assert_int_equal(fs->n, 0);
  assert_int_equal(fs->kind, PM_KIND_NONE);
  pm_features_destroy(ctx, fs);
  pm_features_destroy(ctx, NULL); /* nothing to free is fine */
}

/* Text that is not WKT is an input error naming the item; nothing is returned. A selection grows
 * past its first allocation (64) intact. */
static void test_from_wkt_errors_and_growth(void **state) {
  pm_context *ctx = *state;
  const char *w[] = {"POINT(0 0)", "POINT(1 oops)"};
  pm_features *fs = (pm_features *)1;
  assert_int_equal(pm_features_from_wkt(ctx, "bad", w, NULL, 2, &fs), PM_EINPUT);
  assert_null(fs);
  assert_contains(pm_context_message(ctx), "bad WKT #1: POINT(1 oops)");

  enum { N = 200 };
  char buf[N][40];
  const char *many[N];
  for (int i = 0; i < N; i++) {
    snprintf(buf[i], sizeof buf[i], "POINT(%d %d)", i, -i);
    many[i] = buf[i];
  }
  fs = pm_test_wkt(ctx, "many", many, many, N);
  assert_int_equal(fs->n, N);
  for (int i = 0; i < N; i++) {
    double x, y;
    assert_int_equal(GEOSGeomGetX_r(pm_context_geos(ctx), fs->geom[i], &x), 1);
    assert_int_equal(GEOSGeomGetY_r(pm_context_geos(ctx), fs->geom[i], &y), 1);
    if (x != i || y != -i || fs->fid[i] != i + 1 || strcmp(fs->label[i], buf[i]) != 0)
      fail_msg("feature %d: (%g %g) fid %lld label %s", i, x, y, (long long)fs->fid[i],
               fs->label[i]);
  }
  pm_features_destroy(ctx, fs);
}

/* Attributes: values copied (NULL ones stay NULL, a NULL array gives a column of NULLs); a name is
 * found exactly first, then regardless of case; -1 when absent. */
static void test_attributes(void **state) {
  pm_context *ctx = *state;
  const char *w[] = {"POINT(0 0)", "POINT(1 0)", "POINT(2 0)"};
  pm_features *fs = pm_test_wkt(ctx, "stops", w, NULL, 3);
  char first[] = "1路;2路";
  const char *routes[] = {first, NULL, "3路"};
  assert_int_equal(pm_features_add_attr(ctx, fs, "routes", routes), PM_OK);
  first[0] = 'X';
  assert_int_equal(pm_features_add_attr(ctx, fs, "NAME", NULL), PM_OK);
  assert_int_equal(pm_features_add_attr(ctx, fs, "name", (const char *[]){"a", "b", "c"}), PM_OK);
  assert_int_equal(fs->n_attrs, 3);
  static const struct {
    const char *name;
    int index;
  } lookups[] = {{"routes", 0}, {"NAME", 1}, {"name", 2}, {"Routes", 0}, {"nAmE", 1}, {"pop", -1}};
  for (size_t i = 0; i < sizeof lookups / sizeof lookups[0]; i++)
    if (pm_features_attr_index(fs, lookups[i].name) != lookups[i].index)
      fail_msg("%s: index %d, want %d", lookups[i].name,
               pm_features_attr_index(fs, lookups[i].name), lookups[i].index);
  assert_string_equal(fs->attr[0][0], "1路;2路");
  assert_null(fs->attr[0][1]);
  assert_string_equal(fs->attr[0][2], "3路");
  for (size_t i = 0; i < 3; i++) assert_null(fs->attr[1][i]);
  assert_string_equal(fs->attr[2][1], "b");
  pm_features_destroy(ctx, fs);
}

typedef struct hits {
  size_t v[16];
  size_t n;
} hits;

static void collect(void *item, void *user) {
  hits *h = user;
  if (h->n < 16) h->v[h->n] = (size_t)(uintptr_t)item;
  h->n++;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}

/* The index: items are feature indices (index 0 included), found by their bounds; building it
 * twice keeps the first tree. */
static void test_index_bounds(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  /* bounds: [0,10]^2, [20,30]x[0,10], a line from (0,50) to (100,50), a point (55,5) */
  const char *w[] = {"POLYGON((0 0,10 0,10 10,0 10,0 0))", "POLYGON((20 0,30 0,30 10,20 10,20 0))",
                     "LINESTRING(0 50,100 50)", "POINT(55 5)"};
  pm_features *fs = pm_test_wkt(ctx, "mixed", w, NULL, 4);
  assert_int_equal(pm_features_index(ctx, fs), PM_OK);
  assert_non_null(fs->tree);
  GEOSSTRtree *tree = fs->tree;
  assert_int_equal(pm_features_index(ctx, fs), PM_OK);
  assert_ptr_equal(fs->tree, tree);
  static const struct {
    const char *query;
    size_t n, want[4];
  } cases[] = {
      {"POINT(5 5)", 1, {0}},
      {"POINT(10 10)", 1, {0}},                          /* on a corner of the bounds */
      {"POLYGON((9 1,21 1,21 2,9 2,9 1))", 2, {0, 1}},   /* across two boxes */
      {"POLYGON((40 40,60 40,60 60,40 60,40 40))", 1, {2}},
      {"POLYGON((0 0,100 0,100 100,0 100,0 0))", 4, {0, 1, 2, 3}},
      {"POINT(15 5)", 0, {0}},                           /* between the boxes */
      {"POINT(55 6)", 0, {0}},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    GEOSGeometry *q = pm_test_geom(ctx, cases[c].query);
    hits got = {{0}, 0};
    GEOSSTRtree_query_r(h, fs->tree, q, collect, &got);
    GEOSGeom_destroy_r(h, q);
    qsort(got.v, got.n < 16 ? got.n : 16, sizeof got.v[0], cmp_size);
    int same = got.n == cases[c].n;
    for (size_t k = 0; same && k < got.n; k++) same = got.v[k] == cases[c].want[k];
    if (!same)
      fail_msg("%s: %zu hits (first %zu), want %zu", cases[c].query, got.n,
               got.n ? got.v[0] : 0, cases[c].n);
  }
  pm_features_destroy(ctx, fs);

  /* An empty selection gets a tree too. */
  fs = pm_test_wkt(ctx, "empty", NULL, NULL, 0);
  assert_int_equal(pm_features_index(ctx, fs), PM_OK);
  assert_non_null(fs->tree);
  pm_features_destroy(ctx, fs);
}

/* The union dissolves: overlapping squares count once, touching ones merge into one polygon; an
 * empty selection gives an empty collection. */
static void test_union(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  static const struct {
    const char *name;
    const char *wkt[3];
    size_t n;
    double area, length;
    int parts;
  } cases[] = {
      {"overlapping squares", {"POLYGON((0 0,10 0,10 10,0 10,0 0))",
                               "POLYGON((5 0,15 0,15 10,5 10,5 0))"}, 2, 150, 0, 1},
      {"touching squares", {"POLYGON((0 0,10 0,10 10,0 10,0 0))",
                            "POLYGON((10 0,20 0,20 10,10 10,10 0))"}, 2, 200, 0, 1},
      {"apart", {"POLYGON((0 0,10 0,10 10,0 10,0 0))", "POLYGON((20 0,30 0,30 10,20 10,20 0))"},
       2, 200, 0, 2},
      {"a line twice and an overlap", {"LINESTRING(0 0,10 0)", "LINESTRING(10 0,0 0)",
                                       "LINESTRING(5 0,15 0)"}, 3, 0, 15, -1},
      {"nothing", {NULL}, 0, 0, 0, 0},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    pm_features *fs = pm_test_wkt(ctx, "u", cases[c].wkt, NULL, cases[c].n);
    GEOSGeometry *u = NULL;
    assert_int_equal(pm_features_union(ctx, fs, &u), PM_OK);
    double area = -1, length = -1;
    assert_true(GEOSArea_r(h, u, &area) && GEOSLength_r(h, u, &length));
    int parts = GEOSGetNumGeometries_r(h, u);
    if (cases[c].area > 0) length = 0; /* a polygon's perimeter is not checked */
    if (fabs(area - cases[c].area) > 1e-9 || fabs(length - cases[c].length) > 1e-9 ||
        (cases[c].parts >= 0 && parts != cases[c].parts) ||
        (cases[c].n == 0 && !GEOSisEmpty_r(h, u)))
      fail_msg("%s: area %g, length %g, %d parts; want %g, %g, %d", cases[c].name, area, length,
               parts, cases[c].area, cases[c].length, cases[c].parts);
    GEOSGeom_destroy_r(h, u);
    pm_features_destroy(ctx, fs);
  }
}

/* The nearest feature by exact distance between geometries (not bounding boxes), and among
 * features at the same distance the lowest index, however the tree is shaped. */
static void test_nearest(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  /* A long diagonal line whose bounds hold the query point, 70.7 m from it; a square 10 m away
   * (its bounds farther than the line's). */
  const char *w[] = {"LINESTRING(0 0,200 200)", "POLYGON((110 0,120 0,120 10,110 10,110 0))"};
  pm_features *fs = pm_test_wkt(ctx, "n", w, NULL, 2);
  assert_int_equal(pm_features_index(ctx, fs), PM_OK);
  static const struct {
    const char *query;
    size_t index;
    double dist;
  } cases[] = {
      {"POINT(100 0)", 1, 10},
      {"POINT(100 100)", 0, 0},      /* on the line */
      {"POINT(115 5)", 1, 0},        /* inside the square */
      {"POINT(50 0)", 0, 25 * M_SQRT2},
      {"LINESTRING(130 5,140 5)", 1, 10}, /* a line to a polygon */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    GEOSGeometry *q = pm_test_geom(ctx, cases[c].query);
    size_t i = 99;
    double d = -1;
    assert_int_equal(pm_features_nearest(ctx, fs, NULL, q, &i, &d), PM_OK);
    GEOSGeom_destroy_r(h, q);
    if (i != cases[c].index || fabs(d - cases[c].dist) > 1e-9)
      fail_msg("%s: feature %zu at %.12g, want %zu at %.12g", cases[c].query, i, d,
               cases[c].index, cases[c].dist);
  }
  pm_features_destroy(ctx, fs);

  /* Ties: a grid of 400 points 10 m apart, in a scrambled order; the centre of every cell is
   * 7.07 m from its four corners. The lowest index of the four wins, wherever they sit in the
   * tree (the search may stop before it meets them all). */
  enum { G = 20 };
  char buf[G * G][40];
  const char *grid[G * G];
  for (int k = 0; k < 2; k++) {
    for (int i = 0; i < G * G; i++) {
      int j = (i * 7 + k * 97) % (G * G); /* 7 is prime to 400: a permutation */
      snprintf(buf[i], sizeof buf[i], "POINT(%d %d)", 10 * (j % G), 10 * (j / G));
      grid[i] = buf[i];
    }
    fs = pm_test_wkt(ctx, "grid", grid, NULL, G * G);
    assert_int_equal(pm_features_index(ctx, fs), PM_OK);
    for (int cx = 0; cx < G - 1; cx++)
      for (int cy = 0; cy < G - 1; cy++) {
        size_t want = SIZE_MAX;
        for (int i = 0; i < G * G && want == SIZE_MAX; i++) {
          int j = (i * 7 + k * 97) % (G * G), x = j % G, y = j / G;
          if ((x == cx || x == cx + 1) && (y == cy || y == cy + 1)) want = (size_t)i;
        }
        char wkt[40];
        snprintf(wkt, sizeof wkt, "POINT(%d %d)", 10 * cx + 5, 10 * cy + 5);
        GEOSGeometry *q = pm_test_geom(ctx, wkt);
        size_t i = 0;
        double d = 0;
        assert_int_equal(pm_features_nearest(ctx, fs, NULL, q, &i, &d), PM_OK);
        GEOSGeom_destroy_r(h, q);
        if (i != want || fabs(d - 5 * M_SQRT2) > 1e-12)
          fail_msg("order %d, %s: feature %zu at %.12g, want %zu (the lowest of the tie)", k, wkt,
                   i, d, want);
      }
    pm_features_destroy(ctx, fs);
  }
}

/* The nearest feature of an empty selection is none (SIZE_MAX, INFINITY); of a selection without
 * an index, an internal error; with a tree of the caller's, that tree is used. */
static void test_nearest_edges(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSGeometry *q = pm_test_geom(ctx, "POINT(0 0)");
  pm_features *none = pm_test_wkt(ctx, "none", NULL, NULL, 0);
  size_t i = 0;
  double d = 0;
  assert_int_equal(pm_features_nearest(ctx, none, NULL, q, &i, &d), PM_OK);
  assert_true(i == SIZE_MAX);
  assert_true(isinf(d) && d > 0);

  const char *w[] = {"POINT(3 4)", "POINT(30 40)"};
  pm_features *fs = pm_test_wkt(ctx, "pts", w, NULL, 2);
  assert_int_equal(pm_features_nearest(ctx, fs, NULL, q, &i, &d), PM_EINTERNAL);
  assert_contains(pm_context_message(ctx), "pts is not indexed");
  /* the caller's tree holds only the second point: its answer is that one */
  GEOSSTRtree *tree = GEOSSTRtree_create_r(h, 10);
  GEOSSTRtree_insert_r(h, tree, fs->geom[1], (void *)(uintptr_t)1);
  assert_int_equal(pm_features_nearest(ctx, fs, tree, q, &i, &d), PM_OK);
  assert_int_equal(i, 1);
  assert_near(d, 50, 1e-12);
  GEOSSTRtree_destroy_r(h, tree);
  assert_int_equal(pm_features_index(ctx, fs), PM_OK);
  assert_int_equal(pm_features_nearest(ctx, fs, NULL, q, &i, &d), PM_OK);
  assert_int_equal(i, 0);
  assert_near(d, 5, 1e-12);
  GEOSGeom_destroy_r(h, q);
  pm_features_destroy(ctx, fs);
  pm_features_destroy(ctx, none);
}

/* A feature's stable id is "<layer>#<fid>", whatever its label. */
static void test_ids(void **state) {
  pm_context *ctx = *state;
  const char *w[] = {"POINT(0 0)", "POINT(1 1)"}, *l[] = {"人民广场", NULL};
  pm_features *fs = pm_test_wkt(ctx, "metro_stations", w, l, 2);
  fs->fid[1] = 9000000000LL; /* fids are 64-bit */
  char *id = NULL;
  assert_int_equal(pm_features_id(ctx, fs, 0, &id), PM_OK);
  assert_string_equal(id, "metro_stations#1");
  free(id);
  assert_int_equal(pm_features_id(ctx, fs, 1, &id), PM_OK);
  assert_string_equal(id, "metro_stations#9000000000");
  free(id);
  pm_features_destroy(ctx, fs);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds),
      cmocka_unit_test(test_from_wkt_fids_labels),
      cmocka_unit_test(test_from_wkt_errors_and_growth),
      cmocka_unit_test(test_attributes),
      cmocka_unit_test(test_index_bounds),
      cmocka_unit_test(test_union),
      cmocka_unit_test(test_nearest),
      cmocka_unit_test(test_nearest_edges),
      cmocka_unit_test(test_ids),
  };
  return cmocka_run_group_tests(tests, pm_test_context_setup, pm_test_context_teardown);
}
