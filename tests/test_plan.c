/* test_plan.c: plan files (METRICS.md §3): every key parsed, every error names file and line. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

#include "engine/internal.h"

typedef struct fixture {
  pm_context *ctx;
  pm_plan *plan;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || pm_context_create(&f->ctx) != PM_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  pm_plan_destroy(f->plan);
  pm_context_destroy(f->ctx);
  free(f);
  return 0;
}

/* Write yaml to name in the temp dir and load it. */
static pm_status load(fixture *f, const char *name, const char *yaml) {
  const char *path = pm_test_path(name);
  pm_test_write_file(path, yaml);
  pm_plan_destroy(f->plan);
  f->plan = NULL;
  return pm_plan_load(f->ctx, path, &f->plan);
}

/* Load yaml expecting an input error whose message holds every given fragment. */
static void expect_error(fixture *f, const char *yaml, const char *frag1, const char *frag2) {
  pm_status st = load(f, "bad.yaml", yaml);
  if (st != PM_EINPUT) fail_msg("expected PM_EINPUT, got %d (%s)", st, pm_context_message(f->ctx));
  assert_null(f->plan);
  const char *msg = pm_context_message(f->ctx);
  assert_contains(msg, "/bad.yaml:");
  if (frag1) assert_contains(msg, frag1);
  if (frag2) assert_contains(msg, frag2);
}

#define HEAD                                                                 \
  "plan: t\n"                                                               \
  "layers:\n"                                                               \
  "  districts: {path: d.shp}\n"                                            \
  "  metro_stations: {path: m.csv, x: lon, y: lat, src_crs: EPSG:4326}\n"   \
  "  bus_stops: {path: b.csv, x: lon, y: lat, src_crs: EPSG:4326}\n"        \
  "  roads: {path: r.shp}\n"                                                \
  "  parks: {path: p.shp}\n"                                                \
  "indicators:\n"
/* HEAD is 8 lines; the first indicator starts on line 9. */

/* --- A full plan --- */

static const char FULL[] =
    "# full plan\n"                                                           /* 1 */
    "plan: full-plan_1.0\n"                                                   /* 2 */
    "title: \"Full: 青浦\"\n"                                                 /* 3 */
    "crs: 4549\n"                                                             /* 4 */
    "db: out/project.sqlite\n"                                                /* 5 */
    "districts: {layer: districts, name_field: QX, only: [青浦区, 松江区]}\n" /* 6 */
    "layers:\n"                                                               /* 7 */
    "  districts: {path: ../data/districts.shp, encoding: GBK, label_field: QX}\n" /* 8 */
    "  metro_stations:\n"                                                     /* 9 */
    "    path: data/metro.csv\n"                                              /* 10 */
    "    x: lon\n"                                                            /* 11 */
    "    y: lat\n"                                                            /* 12 */
    "    src_crs: gcj02\n"                                                    /* 13 */
    "  bus_stops: {path: /abs/bus.csv, x: X, y: Y, src_crs: 4326, optional: true}\n" /* 14 */
    "  entrances: data/entrances.geojson\n"                                   /* 15 */
    "  roads: {path: osm.pbf, source_layer: lines, where: \"highway IS NOT NULL\"}\n" /* 16 */
    "  rivers: {path: rivers.shp}\n"                                          /* 17 */
    "  zones: {path: zones.shp}\n"                                            /* 18 */
    "  parks: {path: parks.shp}\n"                                            /* 19 */
    "  homes: {path: homes.shp}\n"                                            /* 20 */
    "  cameras: {path: cameras.csv, x: lon, y: lat}\n"                        /* 21 */
    "indicators:\n"                                                           /* 22 */
    "  - id: transfer_route\n"                                                /* 23 */
    "    title: 换乘\n"                                                       /* 24 */
    "    metric: transfer_coverage\n"                                         /* 25 */
    "    note: by route\n"                                                    /* 26 */
    "    from: {layer: metro_stations, where: \"line = '17'\"}\n"             /* 27 */
    "    to: bus_stops\n"                                                     /* 28 */
    "    to_where: \"kind = 'bus'\"\n"                                        /* 29 */
    "    entrances: entrances\n"                                              /* 30 */
    "    entrance_station_field: station\n"                                   /* 31 */
    "    threshold_m: 49.5\n"                                                 /* 32 */
    "    catchment_m: 250\n"                                                  /* 33 */
    "    basis: route\n"                                                      /* 34 */
    "    routes_field: routes\n"                                              /* 35 */
    "    routes_sep: \",\"\n"                                                 /* 36 */
    "    target: {op: \">\", value: 80, unit: \"%\"}\n"                       /* 37 */
    "  - id: greenway_km\n"                                                   /* 38 */
    "    metric: length\n"                                                    /* 39 */
    "    layer: roads\n"                                                      /* 40 */
    "    where: \"highway IN ('footway','cycleway')\"\n"                      /* 41 */
    "    within: zones\n"                                                     /* 42 */
    "    near: [rivers, {layer: parks, where: \"area > 0\"}]\n"               /* 43 */
    "    near_m: 30\n"                                                        /* 44 */
    "    target: 10\n"                                                        /* 45 */
    "  - id: river_share\n"                                                   /* 46 */
    "    metric: length\n"                                                    /* 47 */
    "    layer: rivers\n"                                                     /* 48 */
    "    within: [zones]\n"                                                   /* 49 */
    "    share_of: {layer: rivers}\n"                                         /* 50 */
    "    target: \"<= 2.5e1\"\n"                                              /* 51 */
    "  - id: park_cover\n"                                                    /* 52 */
    "    metric: coverage\n"                                                  /* 53 */
    "    sources: parks\n"                                                    /* 54 */
    "    population: {layer: homes, where: \"pop > 0\"}\n"                    /* 55 */
    "    weight_field: pop\n"                                                 /* 56 */
    "    radius_m: 800\n"                                                     /* 57 */
    "    count_by_class: yes\n"                                               /* 58 */
    "    classes:\n"                                                          /* 59 */
    "      - {min_area_m2: 10000, radius_m: 500}\n"                           /* 60 */
    "      - {min_area_m2: 400, max_area_m2: 10000, radius_m: 300, label: 口袋公园}\n" /* 61 */
    "  - id: sponge\n"                                                        /* 62 */
    "    metric: area_share\n"                                                /* 63 */
    "    layer: zones\n"                                                      /* 64 */
    "    of: {layer: zones, where: \"built = 1\"}\n"                          /* 65 */
    "    unit: \"%\"\n"                                                       /* 66 */
    "  - id: big_parks\n"                                                     /* 67 */
    "    metric: count\n"                                                     /* 68 */
    "    layer: {layer: parks, where: \"type = 'park'\"}\n"                   /* 69 */
    "    min_area_m2: 1e6\n"                                                  /* 70 */
    "    max_area_m2: .inf\n"                                                 /* 71 */
    "    target: {value: 1}\n"                                                /* 72 */
    "  - id: video\n"                                                         /* 73 */
    "    metric: line_coverage\n"                                             /* 74 */
    "    layer: roads\n"                                                      /* 75 */
    "    by: cameras\n"                                                       /* 76 */
    "    within_m: 100\n"                                                     /* 77 */
    "    target: {op: \"==\", value: 100}\n"                                  /* 78 */
    "  - id: elevators\n"                                                     /* 79 */
    "    metric: manual\n"                                                    /* 80 */
    "    value: -3\n"                                                         /* 81 */
    "    unit: 台\n"                                                          /* 82 */
    "    target: {op: \"<\", value: 0, unit: 台}\n"                           /* 83 */
    "  - id: later\n"                                                         /* 84 */
    "    metric: manual\n"                                                    /* 85 */
    "    value: null\n";                                                      /* 86 */

static char *dirpath(const char *rel) {
  char *out = NULL;
  size_t n = strlen(pm_test_tmpdir()) + strlen(rel) + 2;
  out = malloc(n);
  snprintf(out, n, "%s/%s", pm_test_tmpdir(), rel);
  return out;
}

static void assert_path(const char *got, const char *rel) {
  char *want = dirpath(rel);
  assert_string_equal(got, want);
  free(want);
}

static void test_full_plan(void **state) {
  fixture *f = *state;
  pm_status st = load(f, "full.yaml", FULL);
  if (st) fail_msg("%s", pm_context_message(f->ctx));
  const pm_plan *p = f->plan;

  assert_path(p->path, "full.yaml");
  assert_string_equal(p->dir, pm_test_tmpdir());
  char hex[65];
  pm__sha256_buffer(FULL, strlen(FULL), hex);
  assert_string_equal(p->hash, hex);
  assert_string_equal(p->id, "full-plan_1.0");
  assert_string_equal(p->title, "Full: 青浦");
  assert_string_equal(p->crs, "EPSG:4549");
  assert_path(p->db, "out/project.sqlite");
  assert_string_equal(p->districts_layer, "districts");
  assert_string_equal(p->districts_name_field, "QX");
  assert_int_equal(p->n_districts_only, 2);
  assert_string_equal(p->districts_only[0], "青浦区");
  assert_string_equal(p->districts_only[1], "松江区");

  /* layers, in file order */
  assert_int_equal(p->n_layers, 10);
  const pm_plan_layer *l = &p->layers[0];
  assert_string_equal(l->name, "districts");
  /* "../data/x" next to the plan's directory, normalised (no ".." left in the path). */
  assert_non_null(strstr(l->path, "/data/districts.shp"));
  assert_null(strstr(l->path, ".."));
  assert_int_equal(strncmp(l->path, pm_test_tmpdir(), strlen(l->path) - strlen("/data/districts.shp")), 0);
  assert_string_equal(l->encoding, "GBK");
  assert_string_equal(l->label_field, "QX");
  assert_null(l->src_crs);
  assert_null(l->x);
  assert_int_equal(l->optional, 0);
  assert_int_equal(l->line, 8);
  l = &p->layers[1];
  assert_string_equal(l->name, "metro_stations");
  assert_path(l->path, "data/metro.csv");
  assert_string_equal(l->x, "lon");
  assert_string_equal(l->y, "lat");
  assert_string_equal(l->src_crs, "gcj02");
  assert_int_equal(l->line, 9);
  l = pm_plan_find_layer(p, "bus_stops");
  assert_ptr_equal(l, &p->layers[2]);
  assert_string_equal(l->path, "/abs/bus.csv");
  assert_string_equal(l->src_crs, "EPSG:4326");
  assert_string_equal(l->x, "X");
  assert_int_equal(l->optional, 1);
  l = pm_plan_find_layer(p, "entrances");
  assert_path(l->path, "data/entrances.geojson");
  l = pm_plan_find_layer(p, "roads");
  assert_string_equal(l->source_layer, "lines");
  assert_string_equal(l->where, "highway IS NOT NULL");
  assert_null(pm_plan_find_layer(p, "nope"));
  assert_null(pm_plan_find_layer(p, NULL));

  assert_int_equal(p->n_indicators, 9);
  /* transfer_coverage, every parameter */
  const pm_indicator_spec *s = &p->indicators[0];
  assert_string_equal(s->id, "transfer_route");
  assert_string_equal(s->title, "换乘");
  assert_string_equal(s->metric, "transfer_coverage");
  assert_string_equal(s->note, "by route");
  assert_string_equal(s->unit, "%");
  assert_int_equal(s->line, 23);
  assert_string_equal(s->from.layer, "metro_stations");
  assert_string_equal(s->from.where, "line = '17'");
  assert_string_equal(s->to.layer, "bus_stops");
  assert_string_equal(s->to.where, "kind = 'bus'");
  assert_string_equal(s->entrances.layer, "entrances");
  assert_null(s->entrances.where);
  assert_string_equal(s->entrance_station_field, "station");
  assert_near(s->threshold_m, 49.5, 0);
  assert_near(s->catchment_m, 250, 0);
  assert_string_equal(s->basis, "route");
  assert_string_equal(s->routes_field, "routes");
  assert_string_equal(s->routes_sep, ",");
  assert_int_equal(s->has_target, 1);
  assert_string_equal(s->target_op, ">");
  assert_near(s->target_value, 80, 0);
  assert_null(s->layer.layer);
  assert_true(isnan(s->near_m));

  /* length with within and near (mixed list) */
  s = &p->indicators[1];
  assert_string_equal(s->metric, "length");
  assert_string_equal(s->unit, "km");
  assert_string_equal(s->layer.layer, "roads");
  assert_string_equal(s->layer.where, "highway IN ('footway','cycleway')");
  assert_int_equal(s->within.n, 1);
  assert_string_equal(s->within.v[0].layer, "zones");
  assert_int_equal(s->near.n, 2);
  assert_string_equal(s->near.v[0].layer, "rivers");
  assert_null(s->near.v[0].where);
  assert_string_equal(s->near.v[1].layer, "parks");
  assert_string_equal(s->near.v[1].where, "area > 0");
  assert_near(s->near_m, 30, 0);
  assert_int_equal(s->has_target, 1);
  assert_string_equal(s->target_op, ">=");
  assert_near(s->target_value, 10, 0);
  assert_null(s->share_of.layer);

  /* length as a share: unit % */
  s = &p->indicators[2];
  assert_string_equal(s->unit, "%");
  assert_string_equal(s->share_of.layer, "rivers");
  assert_null(s->share_of.where);
  assert_string_equal(s->target_op, "<=");
  assert_near(s->target_value, 25, 0);

  /* coverage: classes sorted by area, labels given or generated */
  s = &p->indicators[3];
  assert_string_equal(s->sources.layer, "parks");
  assert_string_equal(s->population.layer, "homes");
  assert_string_equal(s->population.where, "pop > 0");
  assert_string_equal(s->weight_field, "pop");
  assert_near(s->radius_m, 800, 0);
  assert_int_equal(s->count_by_class, 1);
  assert_int_equal(s->n_classes, 2);
  assert_near(s->classes[0].min_area_m2, 400, 0);
  assert_near(s->classes[0].max_area_m2, 10000, 0);
  assert_near(s->classes[0].radius_m, 300, 0);
  assert_string_equal(s->classes[0].label, "口袋公园");
  assert_near(s->classes[1].min_area_m2, 10000, 0);
  assert_true(isinf(s->classes[1].max_area_m2));
  assert_near(s->classes[1].radius_m, 500, 0);
  assert_string_equal(s->classes[1].label, ">= 10000 m2");
  assert_string_equal(s->unit, "%");
  assert_int_equal(s->has_target, 0);

  s = &p->indicators[4];
  assert_string_equal(s->metric, "area_share");
  assert_string_equal(s->layer.layer, "zones");
  assert_string_equal(s->of.layer, "zones");
  assert_string_equal(s->of.where, "built = 1");

  s = &p->indicators[5];
  assert_string_equal(s->unit, "count");
  assert_string_equal(s->layer.where, "type = 'park'");
  assert_near(s->min_area_m2, 1e6, 0);
  assert_true(isinf(s->max_area_m2));
  assert_string_equal(s->target_op, ">=");
  assert_near(s->target_value, 1, 0);

  s = &p->indicators[6];
  assert_string_equal(s->by.v[0].layer, "cameras");
  assert_int_equal(s->by.n, 1);
  assert_near(s->within_m, 100, 0);
  assert_string_equal(s->target_op, "==");
  assert_string_equal(s->unit, "%");

  s = &p->indicators[7];
  assert_int_equal(s->has_manual_value, 1);
  assert_near(s->manual_value, -3, 0);
  assert_string_equal(s->unit, "台");
  assert_string_equal(s->target_op, "<");
  assert_near(s->target_value, 0, 0);

  s = &p->indicators[8];
  assert_int_equal(s->has_manual_value, 0);
  assert_string_equal(s->unit, "");
  assert_int_equal(s->line, 84);
}

/* --- The example of METRICS.md §3, verbatim, in a plans/ directory --- */

static const char EXAMPLE[] =
    "plan: qingpu-2024-2026\n"
    "title: 青浦区城市管理精细化三年行动计划（2024-2026年）\n"
    "crs: auto                      # or an EPSG code\n"
    "districts: {layer: districts, name_field: NAME, only: [青浦区]}\n"
    "layers:\n"
    "  districts:      {path: ../data/districts.shp, encoding: GBK}\n"
    "  metro_stations: {path: ../data/metro_stations.csv, x: lon, y: lat, src_crs: EPSG:4326}\n"
    "  bus_stops:      {path: ../data/bus_stops.csv, x: lon, y: lat, src_crs: EPSG:4326}\n"
    "indicators:\n"
    "  - id: transfer_50m\n"
    "    title: 轨道交通和公共交通换乘距离在50米以内的占比\n"
    "    metric: transfer_coverage\n"
    "    from: metro_stations\n"
    "    to: bus_stops\n"
    "    threshold_m: 50\n"
    "    target: {op: \">=\", value: 100, unit: \"%\"}\n";

static void test_metrics_example(void **state) {
  fixture *f = *state;
  assert_int_equal(pm_test_system("mkdir -p '%s/plans'", pm_test_tmpdir()), 0);
  pm_status st = load(f, "plans/qingpu.yaml", EXAMPLE);
  if (st) fail_msg("%s", pm_context_message(f->ctx));
  const pm_plan *p = f->plan;
  assert_string_equal(p->id, "qingpu-2024-2026");
  assert_string_equal(p->title, "青浦区城市管理精细化三年行动计划（2024-2026年）");
  assert_string_equal(p->crs, "auto");
  assert_path(p->dir, "plans");
  assert_path(p->db, "plans/qingpu-2024-2026.sqlite");
  assert_string_equal(p->districts_layer, "districts");
  assert_string_equal(p->districts_name_field, "NAME");
  assert_int_equal(p->n_districts_only, 1);
  assert_string_equal(p->districts_only[0], "青浦区");
  assert_int_equal(p->n_layers, 3);
  assert_path(p->layers[0].path, "data/districts.shp"); /* plans/../data, normalised */
  assert_string_equal(p->layers[0].encoding, "GBK");
  assert_path(p->layers[1].path, "data/metro_stations.csv");
  assert_string_equal(p->layers[2].src_crs, "EPSG:4326");
  assert_int_equal(p->n_indicators, 1);
  const pm_indicator_spec *s = &p->indicators[0];
  assert_string_equal(s->id, "transfer_50m");
  assert_string_equal(s->title, "轨道交通和公共交通换乘距离在50米以内的占比");
  assert_string_equal(s->from.layer, "metro_stations");
  assert_string_equal(s->to.layer, "bus_stops");
  assert_near(s->threshold_m, 50, 0);
  assert_near(s->catchment_m, 300, 0);
  assert_string_equal(s->basis, "station");
  assert_string_equal(s->routes_sep, ";");
  assert_null(s->routes_field);
  assert_null(s->entrances.layer);
  assert_string_equal(s->unit, "%");
  assert_int_equal(s->has_target, 1);
  assert_string_equal(s->target_op, ">=");
  assert_near(s->target_value, 100, 0);
  assert_int_equal(s->line, 10);

  /* The hash is the SHA-256 of the file bytes (checked against sha256sum). */
  char *sum = dirpath("plans/sum.txt");
  assert_int_equal(pm_test_system("sha256sum '%s' > '%s'", p->path, sum), 0);
  FILE *fp = fopen(sum, "r");
  assert_non_null(fp);
  char line[100] = "";
  assert_non_null(fgets(line, sizeof line, fp));
  fclose(fp);
  free(sum);
  line[64] = '\0';
  assert_string_equal(p->hash, line);
}

/* A plan given by a bare file name lives in "." and its paths stay as written. */
static void test_relative_to_cwd(void **state) {
  fixture *f = *state;
  char *cwd = getenv("PWD") ? strdup(getenv("PWD")) : NULL;
  assert_int_equal(pm_test_system("true"), 0);
  pm_test_write_file(pm_test_path("here.yaml"), "plan: here\nlayers: {a: a.shp}\n");
  /* chdir is process-wide; the tests run one at a time */
  assert_int_equal(chdir(pm_test_tmpdir()), 0);
  assert_int_equal(pm_plan_load(f->ctx, "here.yaml", &f->plan), PM_OK);
  assert_string_equal(f->plan->dir, ".");
  assert_string_equal(f->plan->db, "here.sqlite");
  assert_string_equal(f->plan->layers[0].path, "a.shp");
  assert_string_equal(f->plan->crs, "auto");
  assert_null(f->plan->districts_layer);
  assert_string_equal(f->plan->districts_name_field, "NAME");
  assert_int_equal(f->plan->n_indicators, 0);
  if (cwd) assert_int_equal(chdir(cwd), 0);
  free(cwd);
}

/* --- Errors --- */

static void test_error_unknown_key(void **state) {
  fixture *f = *state;
  expect_error(f,
               HEAD
               "  - id: transfer_50m\n"   /* 9 */
               "    metric: transfer_coverage\n"
               "    from: metro_stations\n"
               "    to: bus_stops\n"
               "    treshold_m: 50\n",   /* 13 */
               "bad.yaml:13: unknown key 'treshold_m' in indicator transfer_50m (did you mean "
               "threshold_m?)",
               NULL);
  /* no close key: the allowed keys are listed */
  expect_error(f, HEAD "  - id: a\n    metric: count\n    layer: parks\n    colour: red\n",
               "bad.yaml:12: unknown key 'colour' in indicator a; keys of metric count: id, title, "
               "metric, unit, note, target, layer, where, min_area_m2, max_area_m2",
               NULL);
  expect_error(f, "plan: t\nindicator: []\n",
               "bad.yaml:2: unknown key 'indicator' at the top level of the plan (did you mean "
               "indicators?)",
               NULL);
  expect_error(f, "plan: t\nlayers:\n  a: {path: a.shp, encodng: GBK}\n",
               "bad.yaml:3: unknown key 'encodng' in layer a (did you mean encoding?)", NULL);
  expect_error(f, HEAD "  - id: a\n    metric: count\n    layer: {layer: parks, were: \"x\"}\n",
               "bad.yaml:11: unknown key 'were' in 'layer' in indicator a (did you mean where?)",
               NULL);
  expect_error(f,
               HEAD "  - id: c\n    metric: coverage\n    sources: parks\n"
                    "    classes: [{radius_m: 300, max_area: 5}]\n",
               "bad.yaml:12: unknown key 'max_area' in classes in indicator c (did you mean "
               "max_area_m2?)",
               NULL);
  expect_error(f, "plan: t\ndistricts: {layer: d, nam_field: X}\nlayers: {d: d.shp}\n",
               "bad.yaml:2: unknown key 'nam_field' in districts (did you mean name_field?)", NULL);
}

static void test_error_key_of_other_metric(void **state) {
  fixture *f = *state;
  expect_error(f, HEAD "  - id: parks_n\n    metric: count\n    layer: parks\n    near_m: 30\n",
               "bad.yaml:12: key 'near_m' in indicator parks_n is not a parameter of metric count; "
               "allowed: id, title, metric, unit, note, target, layer, where, min_area_m2, "
               "max_area_m2",
               NULL);
  expect_error(f,
               HEAD "  - id: m\n    metric: manual\n    value: 3\n    layer: parks\n",
               "bad.yaml:12: key 'layer' in indicator m is not a parameter of metric manual", NULL);
}

static void test_error_wrong_type(void **state) {
  fixture *f = *state;
  const char *base = HEAD "  - id: t\n    metric: transfer_coverage\n    from: metro_stations\n"
                          "    to: bus_stops\n";
  char yaml[2048];
  snprintf(yaml, sizeof yaml, "%s    threshold_m: fifty\n", base);
  expect_error(f, yaml,
               "bad.yaml:13: key 'threshold_m' in indicator t must be a number of metres, not "
               "'fifty'",
               NULL);
  snprintf(yaml, sizeof yaml, "%s    threshold_m: \"50\"\n", base);
  expect_error(f, yaml, "bad.yaml:13:", "(remove the quotes)");
  snprintf(yaml, sizeof yaml, "%s    catchment_m: -1\n", base);
  expect_error(f, yaml, "bad.yaml:13: key 'catchment_m' in indicator t must be >= 0", NULL);
  snprintf(yaml, sizeof yaml, "%s    catchment_m: [300]\n", base);
  expect_error(f, yaml, "bad.yaml:13: key 'catchment_m' in indicator t must be a number", "a list");
  snprintf(yaml, sizeof yaml, "%s    threshold_m: 1,000\n", base);
  expect_error(f, yaml, "bad.yaml:13:", "thousands separators");
  snprintf(yaml, sizeof yaml, "%s    threshold_m: .inf\n", base);
  expect_error(f, yaml, "bad.yaml:13: key 'threshold_m' in indicator t must be a number", NULL);
  snprintf(yaml, sizeof yaml, "%s    routes_field: [a, b]\n", base);
  expect_error(f, yaml, "bad.yaml:13: key 'routes_field' in indicator t must be text, not a list",
               NULL);
  expect_error(f, HEAD "  - id: t\n    metric: transfer_coverage\n    from: [metro_stations]\n",
               "bad.yaml:11: key 'from' in indicator t must be a layer name or", NULL);
  snprintf(yaml, sizeof yaml, "%s    title:\n", base);
  expect_error(f, yaml, "bad.yaml:13: key 'title' in indicator t has no value", NULL);
  expect_error(f,
               HEAD "  - id: c\n    metric: coverage\n    sources: parks\n    count_by_class: 1\n",
               "bad.yaml:12: key 'count_by_class' in indicator c must be true or false, not '1'",
               NULL);
  expect_error(f, "plan: t\nlayers: {a: {path: a.shp, optional: maybe}}\n",
               "bad.yaml:2: key 'optional' in layer a must be true or false", NULL);
  expect_error(f, HEAD "  - id: m\n    metric: manual\n    value: lots\n",
               "bad.yaml:11: key 'value' in indicator m must be a number", NULL);
  expect_error(f, HEAD "  - id: m\n    metric: manual\n    value: 1\n    target: high\n",
               "bad.yaml:12: key 'target' in indicator m must be a number, not 'high'", NULL);
  expect_error(f, "plan: t\nlayers: [a, b]\n", "bad.yaml:2: 'layers' must be a mapping", NULL);
  expect_error(f, "plan: t\nindicators: {a: 1}\n", "bad.yaml:2: 'indicators' must be a list", NULL);
  expect_error(f, "plan: t\nindicators:\n  - just text\n",
               "bad.yaml:3: indicator #1 must be a mapping", NULL);
  expect_error(f, "- plan: t\n", "bad.yaml:1: a plan file is a mapping of keys", NULL);
  expect_error(f, "plan: t\ncrs: WGS84\n", "bad.yaml:2: crs 'WGS84' must be auto or an EPSG code",
               NULL);
  expect_error(f, "plan: my plan\n", "bad.yaml:1: plan id 'my plan' is not usable", NULL);
  expect_error(f, HEAD "  - id: 2nd-one\n    metric: manual\n    value: 1\n",
               "bad.yaml:9: indicator id '2nd-one' is not usable", NULL);
  expect_error(f, "plan: t\nlayers: {pm_runs: a.shp}\n", "bad.yaml:2: layer name 'pm_runs' is not usable",
               NULL);
  expect_error(f, "plan: t\nlayers: {a: {path: a.csv, x: lon}}\n",
               "bad.yaml:2: layer a: give both 'x' and 'y'", NULL);
}

static void test_error_missing_required(void **state) {
  fixture *f = *state;
  expect_error(f, "title: no id\n", "bad.yaml: missing key 'plan'", NULL);
  expect_error(f, HEAD "  - id: n\n    metric: count\n    where: \"a = 1\"\n",
               "bad.yaml:9: indicator n (metric count) needs key 'layer'", NULL);
  expect_error(f, HEAD "  - id: t\n    metric: transfer_coverage\n    from: metro_stations\n",
               "bad.yaml:9: indicator t (metric transfer_coverage) needs key 'to': the bus stops "
               "layer",
               NULL);
  expect_error(f, HEAD "  - id: v\n    metric: line_coverage\n    layer: roads\n    by: parks\n",
               "bad.yaml:9: indicator v (metric line_coverage) needs key 'within_m'", NULL);
  expect_error(f, HEAD "  - id: c\n    metric: coverage\n",
               "bad.yaml:9: indicator c (metric coverage) needs key 'sources'", NULL);
  expect_error(f, HEAD "  - id: a\n    metric: area_share\n    of: parks\n",
               "bad.yaml:9: indicator a (metric area_share) needs key 'layer'", NULL);
  expect_error(f, HEAD "  - id: l\n    metric: length\n",
               "bad.yaml:9: indicator l (metric length) needs key 'layer'", NULL);
  expect_error(f, HEAD "  - id: m\n    metric: manual\n",
               "bad.yaml:9: indicator m (metric manual) needs key 'value'", NULL);
  expect_error(f, HEAD "  - title: x\n    metric: manual\n", "bad.yaml:9: indicator #1 has no id",
               NULL);
  expect_error(f, HEAD "  - id: x\n    value: 3\n", "bad.yaml:9: indicator x has no metric", NULL);
  expect_error(f, HEAD "  - id: x\n    metric: lenght\n",
               "bad.yaml:10: unknown metric 'lenght' in indicator x (did you mean length?)", NULL);
  expect_error(f, "plan: t\nlayers:\n  a: {encoding: GBK}\n", "bad.yaml:3: layer a needs 'path:'",
               NULL);
  expect_error(f, "plan: t\ndistricts: {name_field: N}\n", "bad.yaml:2: districts needs 'layer:'",
               NULL);
  expect_error(f, HEAD "  - id: l\n    metric: length\n    layer: roads\n    near: parks\n",
               "bad.yaml:12: indicator l: 'near' needs 'near_m'", NULL);
  expect_error(f, HEAD "  - id: l\n    metric: length\n    layer: roads\n    near_m: 30\n",
               "bad.yaml:12: indicator l: 'near_m' needs 'near'", NULL);
  expect_error(f,
               HEAD "  - id: c\n    metric: coverage\n    sources: parks\n    weight_field: pop\n",
               "bad.yaml:12: indicator c: 'weight_field' needs 'population'", NULL);
  expect_error(f,
               HEAD "  - id: c\n    metric: coverage\n    sources: parks\n"
                    "    classes: [{min_area_m2: 400}]\n",
               "bad.yaml:12: class in indicator c needs 'radius_m:'", NULL);
  expect_error(f, HEAD "  - id: x\n    metric: manual\n    value: 1\n    target: {op: \">=\"}\n",
               "bad.yaml:12: target in indicator x needs 'value:'", NULL);
}

static void test_error_undeclared_layer(void **state) {
  fixture *f = *state;
  expect_error(f,
               HEAD "  - id: t\n    metric: transfer_coverage\n    from: trains\n    to: bus_stops\n",
               "bad.yaml:11: layer 'trains' (key 'from' in indicator t) is not declared under "
               "layers:",
               "declared layers: districts, metro_stations, bus_stops, roads, parks");
  expect_error(f,
               HEAD "  - id: t\n    metric: transfer_coverage\n    from: metro\n    to: bus_stops\n",
               "bad.yaml:11: layer 'metro' (key 'from' in indicator t) is not declared under "
               "layers: (did you mean metro_stations?)",
               NULL);
  expect_error(f,
               HEAD "  - id: t\n    metric: transfer_coverage\n    from: metro_stations\n"
                    "    to: {layer: bus_stop}\n",
               "bad.yaml:12: layer 'bus_stop' (key 'to' in indicator t) is not declared", "(did you mean bus_stops?)");
  expect_error(f,
               HEAD "  - id: l\n    metric: length\n    layer: roads\n    near: [parks, rivers]\n"
                    "    near_m: 5\n",
               "bad.yaml:12: layer 'rivers' (key 'near' in indicator l) is not declared", NULL);
  expect_error(f, "plan: t\ndistricts: {layer: qx}\nlayers: {d: d.shp}\n",
               "bad.yaml:2: layer 'qx' (key 'layer' in districts) is not declared", NULL);
  expect_error(f, "plan: t\ndistricts: qx\n",
               "bad.yaml:2: layer 'qx' (key 'layer' in districts) is not declared: the plan has no "
               "layers: section",
               NULL);
}

static void test_error_duplicates(void **state) {
  fixture *f = *state;
  expect_error(f,
               HEAD "  - id: same\n    metric: manual\n    value: 1\n"
                    "  - id: same\n    metric: manual\n    value: 2\n",
               "bad.yaml:12: indicator id 'same' is used twice (first at line 9)", NULL);
  expect_error(f, HEAD "  - id: a\n    metric: count\n    layer: parks\n    layer: roads\n",
               "bad.yaml:12: key 'layer' appears twice in indicator #1 (first at line 11)", NULL);
  expect_error(f, "plan: t\nlayers:\n  a: a.shp\n  a: b.shp\n",
               "bad.yaml:4: key 'a' appears twice in layers (first at line 3)", NULL);
  expect_error(f, "plan: t\ntitle: a\ntitle: b\n", "bad.yaml:3: key 'title' appears twice", NULL);
  expect_error(f, "plan: t\nlayers: {d: d.shp}\ndistricts: {layer: d, only: [a, b, a]}\n",
               "bad.yaml:3: district 'a' is listed twice", NULL);
  expect_error(f, HEAD "  - id: a\n    metric: count\n    layer: {layer: parks, where: \"a\"}\n"
                       "    where: \"b\"\n",
               "bad.yaml:12: the filter of 'where' in indicator a is given twice", NULL);
  expect_error(f,
               HEAD "  - id: c\n    metric: coverage\n    sources: parks\n    classes:\n"
                    "      - {min_area_m2: 0, max_area_m2: 500, radius_m: 100}\n"
                    "      - {min_area_m2: 400, radius_m: 300}\n",
               "bad.yaml:14: class in indicator c overlaps the class at line 13", NULL);
}

static void test_error_bad_op_and_basis(void **state) {
  fixture *f = *state;
  expect_error(f, HEAD "  - id: x\n    metric: manual\n    value: 1\n    target: {op: \"=>\", value: 1}\n",
               "bad.yaml:12: target op '=>' in indicator x is not one of >=, >, <=, <, == (did you "
               "mean >=?)",
               NULL);
  expect_error(f, HEAD "  - id: x\n    metric: manual\n    value: 1\n    target: {op: about, value: 1}\n",
               "bad.yaml:12: target op 'about' in indicator x is not one of", NULL);
  expect_error(f, HEAD "  - id: x\n    metric: manual\n    value: 1\n    target: \"=< 3\"\n",
               "bad.yaml:12: target op '=<' in indicator x is not one of", NULL);
  expect_error(f, HEAD "  - id: x\n    metric: manual\n    value: 1\n    target: {value: 1, unit: km}\n",
               "bad.yaml:12: target unit 'km' in indicator x differs from the indicator's unit ''",
               NULL);
  expect_error(f, HEAD "  - id: n\n    metric: count\n    layer: parks\n    unit: 个\n",
               "bad.yaml:12: unit '个' in indicator n: metric count reports in count; write unit: "
               "\"count\" or leave unit out",
               NULL);
  expect_error(f, HEAD "  - id: g\n    metric: length\n    layer: roads\n    unit: \"%\"\n",
               "bad.yaml:12: unit '%' in indicator g: metric length reports in km or m", NULL);
  expect_error(f,
               HEAD "  - id: g\n    metric: length\n    layer: roads\n    share_of: roads\n"
                    "    unit: km\n",
               "bad.yaml:13: unit 'km' in indicator g: metric length with share_of reports in %",
               NULL);
  expect_error(f, HEAD "  - id: v\n    metric: area_share\n    layer: parks\n    unit: ha\n",
               "bad.yaml:12: unit 'ha' in indicator v: metric area_share reports in %", NULL);
  expect_error(f,
               HEAD "  - id: t\n    metric: transfer_coverage\n    from: metro_stations\n"
                    "    to: bus_stops\n    basis: stations\n",
               "bad.yaml:13: basis 'stations' in indicator t must be station, route or stop (did "
               "you mean station?)",
               NULL);
  expect_error(f,
               HEAD "  - id: t\n    metric: transfer_coverage\n    from: metro_stations\n"
                    "    to: bus_stops\n    basis: route\n",
               "bad.yaml:13: indicator t: basis route needs 'routes_field'", NULL);
  expect_error(f,
               HEAD "  - id: t\n    metric: transfer_coverage\n    from: metro_stations\n"
                    "    to: bus_stops\n    entrance_station_field: s\n",
               "bad.yaml:13: indicator t: 'entrance_station_field' needs 'entrances'", NULL);
  expect_error(f,
               HEAD "  - id: n\n    metric: count\n    layer: parks\n    min_area_m2: 10\n"
                    "    max_area_m2: 5\n",
               "bad.yaml:13: indicator n: max_area_m2 is below min_area_m2", NULL);
}

static void test_error_yaml_syntax(void **state) {
  fixture *f = *state;
  expect_error(f, "plan: t\nlayers:\n  a: {path: a.shp\n  b: x\n", "YAML syntax error", NULL);
  expect_error(f, "plan: t\ntitle: a: b\n", "bad.yaml:2:9: YAML syntax error: mapping values are not allowed", NULL);
  expect_error(f, "plan: t\nlayers:\n\ta: a.shp\n", "bad.yaml:3:", "tabs");
  expect_error(f, HEAD "  - id: x\n    metric: manual\n    value: 1\n    target: {op: >=, value: 1}\n",
               "bad.yaml:12:18: YAML syntax error", "(quote the operator: op: \">=\")");
  expect_error(f, "plan: t\ntitle: x\nunit: %\n", "bad.yaml:3:7: YAML syntax error",
               "quote values that start with >");
  expect_error(f, "plan: t\ntitle: \"\xc7\xe0\xc6\xd6\"\n", "bad.yaml:2:", "save it as UTF-8");
  expect_error(f, "plan: t\n---\nplan: u\n", "bad.yaml:3: a second YAML document", NULL);
  expect_error(f, "# nothing\n", "the plan file is empty", NULL);
}

/* An operator written bare: YAML reads ">" as a folded text block and fails; the message says to
 * quote it, for the target shorthand, the flow and the block forms. `<=` is a plain text to YAML:
 * the target parser says the same. */
static void test_error_bare_operator(void **state) {
  fixture *f = *state;
  const char *ind = HEAD "  - id: x\n    metric: manual\n    value: 1\n";
  char yaml[1024];
  snprintf(yaml, sizeof yaml, "%s    target: >= 80\n", ind);
  expect_error(f, yaml, "bad.yaml:12:14: YAML syntax error",
               "(quote the operator: op: \">=\"; e.g. target: \">= 80\" or target: {op: \">=\", "
               "value: 80})");
  snprintf(yaml, sizeof yaml, "%s    target: > 5\n", ind);
  expect_error(f, yaml, "bad.yaml:12:", "(quote the operator: op: \">\"; e.g. target: \"> 5\"");
  snprintf(yaml, sizeof yaml, "%s    target:\n      op: >=\n      value: 80\n", ind);
  expect_error(f, yaml, "bad.yaml:13:", "(quote the operator: op: \">=\")");
  snprintf(yaml, sizeof yaml, "%s    target: {op: >, value: 80}\n", ind);
  expect_error(f, yaml, "bad.yaml:12:", "(quote the operator: op: \">\")");
  snprintf(yaml, sizeof yaml, "%s    target: <= 80\n", ind);
  expect_error(f, yaml, "bad.yaml:12: target in indicator x: quote the operator: op: \"<=\"",
               "target: \"<= 80\"");
  /* Quoted, they are fine; a folded note is not an operator. */
  snprintf(yaml, sizeof yaml, "%s    target: \">= 80\"\n    note: >\n      folded\n", ind);
  assert_int_equal(load(f, "ok.yaml", yaml), PM_OK);
  assert_string_equal(f->plan->indicators[0].target_op, ">=");
}

static void test_error_missing_file(void **state) {
  fixture *f = *state;
  const char *path = pm_test_path("no/such/plan.yaml");
  assert_int_equal(pm_plan_load(f->ctx, path, &f->plan), PM_EIO);
  assert_null(f->plan);
  assert_contains(pm_context_message(f->ctx), path);
  assert_contains(pm_context_message(f->ctx), "cannot read the plan file");
}

/* --- Defaults and hand-built specs --- */

static void test_defaults(void **state) {
  fixture *f = *state;
  pm_indicator_spec s;
  pm_indicator_spec_init(&s);
  assert_true(isnan(s.threshold_m) && isnan(s.manual_value) && isnan(s.max_area_m2));
  assert_int_equal(pm_indicator_spec_defaults(f->ctx, &s), PM_EINPUT); /* no metric */

  s.metric = strdup("transfer_coverage");
  s.threshold_m = 80;
  for (int pass = 0; pass < 2; pass++) { /* idempotent */
    assert_int_equal(pm_indicator_spec_defaults(f->ctx, &s), PM_OK);
    assert_near(s.threshold_m, 80, 0);
    assert_near(s.catchment_m, 300, 0);
    assert_string_equal(s.basis, "station");
    assert_string_equal(s.routes_sep, ";");
    assert_string_equal(s.unit, "%");
  }
  pm_indicator_spec_clear(&s);
  assert_null(s.metric);
  assert_true(isnan(s.threshold_m));

  s.metric = strdup("coverage");
  for (int pass = 0; pass < 2; pass++) {
    assert_int_equal(pm_indicator_spec_defaults(f->ctx, &s), PM_OK);
    assert_int_equal(s.n_classes, 2);
    assert_near(s.classes[0].min_area_m2, 400, 0);
    assert_near(s.classes[0].max_area_m2, 10000, 0);
    assert_near(s.classes[0].radius_m, 300, 0);
    assert_string_equal(s.classes[0].label, "pocket park");
    assert_near(s.classes[1].min_area_m2, 10000, 0);
    assert_true(isinf(s.classes[1].max_area_m2));
    assert_near(s.classes[1].radius_m, 500, 0);
    assert_string_equal(s.classes[1].label, "park");
    assert_string_equal(s.unit, "%");
    assert_true(isnan(s.radius_m));
  }
  pm_indicator_spec_clear(&s);

  /* a hand-made class gets a generated label */
  s.metric = strdup("coverage");
  s.classes = calloc(1, sizeof *s.classes);
  s.n_classes = 1;
  s.classes[0] = (pm_size_class){400, 1e6, 300, NULL};
  assert_int_equal(pm_indicator_spec_defaults(f->ctx, &s), PM_OK);
  assert_int_equal(s.n_classes, 1);
  assert_string_equal(s.classes[0].label, "400-1000000 m2");
  pm_indicator_spec_clear(&s);

  static const struct {
    const char *metric, *unit;
  } UNITS[] = {{"length", "km"}, {"area_share", "%"}, {"count", "count"},
               {"line_coverage", "%"}, {"manual", ""}};
  for (size_t i = 0; i < PM_ARRAY_LEN(UNITS); i++) {
    s.metric = strdup(UNITS[i].metric);
    assert_int_equal(pm_indicator_spec_defaults(f->ctx, &s), PM_OK);
    assert_string_equal(s.unit, UNITS[i].unit);
    assert_true(isnan(s.threshold_m));
    assert_null(s.basis);
    pm_indicator_spec_clear(&s);
  }

  s.metric = strdup("length");
  s.share_of.layer = strdup("rivers");
  assert_int_equal(pm_indicator_spec_defaults(f->ctx, &s), PM_OK);
  assert_string_equal(s.unit, "%");
  pm_indicator_spec_clear(&s);

  s.metric = strdup("count");
  s.unit = strdup("个");
  assert_int_equal(pm_indicator_spec_defaults(f->ctx, &s), PM_OK);
  assert_string_equal(s.unit, "个");
  pm_indicator_spec_clear(&s);

  s.metric = strdup("volume");
  assert_int_equal(pm_indicator_spec_defaults(f->ctx, &s), PM_EINPUT);
  assert_contains(pm_context_message(f->ctx), "unknown metric 'volume'");
  pm_indicator_spec_clear(&s);
  pm_indicator_spec_clear(NULL);
}

/* Defaults as the parser applies them, and UTF-8 text kept byte for byte. */
static void test_parsed_defaults_and_utf8(void **state) {
  fixture *f = *state;
  pm_status st = load(f, "d.yaml",
                      "plan: d\n"
                      "title: 松江区 “十四五” 规划\n"
                      "layers: {districts: d.shp, parks: p.shp}\n"
                      "districts: districts\n"
                      "indicators:\n"
                      "  - id: cov\n"
                      "    title: 公园绿地500米服务半径覆盖率\n"
                      "    note: '注: 新城'\n"
                      "    metric: coverage\n"
                      "    sources: parks\n"
                      "    target: \">= 90\"\n"
                      "  - {id: n, metric: count, layer: parks, target: 4}\n"
                      "  - {id: g, metric: length, layer: parks, unit: m, target: {value: 5, unit: m}}\n");
  if (st) fail_msg("%s", pm_context_message(f->ctx));
  const pm_plan *p = f->plan;
  assert_string_equal(p->title, "松江区 “十四五” 规划");
  assert_string_equal(p->districts_layer, "districts");
  assert_string_equal(p->districts_name_field, "NAME");
  assert_int_equal(p->n_districts_only, 0);
  const pm_indicator_spec *s = &p->indicators[0];
  assert_string_equal(s->title, "公园绿地500米服务半径覆盖率");
  assert_string_equal(s->note, "注: 新城");
  assert_int_equal(s->n_classes, 2);
  assert_string_equal(s->classes[1].label, "park");
  assert_null(s->population.layer);
  assert_int_equal(s->count_by_class, 0);
  assert_string_equal(s->target_op, ">=");
  assert_near(s->target_value, 90, 0);
  s = &p->indicators[1];
  assert_string_equal(s->unit, "count");
  assert_int_equal(s->line, 12);
  assert_true(isnan(s->min_area_m2));
  assert_true(isnan(s->max_area_m2));
  assert_near(s->target_value, 4, 0);
  s = &p->indicators[2];
  assert_string_equal(s->unit, "m");
  assert_near(s->target_value, 5, 0);
}

/* timezone: a tz database name, refused with its line otherwise; times shown with the offset. */
/* Every number a plan gives is range-checked with its line: absurd distances, areas and targets
 * are refused, not computed into 0 % or 100 %. */
static void test_numbers_in_range(void **state) {
  fixture *f = *state;
  /* indicators whose next line (line 13, or 12 for manual) is the case's */
  const char *cov = HEAD "  - id: c\n    metric: coverage\n    sources: parks\n    classes:\n";
  const char *tc = HEAD "  - id: t\n    metric: transfer_coverage\n    from: metro_stations\n"
                        "    to: bus_stops\n";
  const char *man = HEAD "  - id: m\n    metric: manual\n";
  static const struct {
    int kind; /* 0 coverage class, 1 transfer_coverage, 2 manual */
    const char *line, *at, *said; /* said NULL: accepted */
  } cases[] = {
      {0, "      - {min_area_m2: 0, radius_m: 1e200}\n", "bad.yaml:13:", "radius_m"},
      {0, "      - {min_area_m2: 0, radius_m: 1e15}\n", "bad.yaml:13:", "beyond 1,000 km"},
      {0, "      - {min_area_m2: 0, radius_m: -1}\n", "bad.yaml:13:", "radius_m"},
      {0, "      - {min_area_m2: 0, radius_m: .nan}\n", "bad.yaml:13:", "radius_m"},
      {0, "      - {min_area_m2: 0, radius_m: .inf}\n", "bad.yaml:13:", "radius_m"},
      {0, "      - {min_area_m2: 0, radius_m: 1e400}\n", "bad.yaml:13:", "radius_m"},
      {0, "      - {min_area_m2: -5, radius_m: 300}\n", "bad.yaml:13:", "min_area_m2"},
      {0, "      - {min_area_m2: 0, max_area_m2: 1e13, radius_m: 300}\n", "bad.yaml:13:",
       "max_area_m2"},
      {0, "      - {min_area_m2: 0, max_area_m2: .inf, radius_m: 300}\n", NULL, NULL},
      {1, "    threshold_m: 1e200\n", "bad.yaml:13:", "threshold_m"},
      {1, "    threshold_m: 1e15\n", "bad.yaml:13:", "threshold_m"},
      {1, "    threshold_m: -1\n", "bad.yaml:13:", "threshold_m"},
      {1, "    threshold_m: .nan\n", "bad.yaml:13:", "threshold_m"},
      {1, "    target: {op: \">=\", value: 180, unit: \"%\"}\n", "bad.yaml:13:", "between 0 and 100"},
      {1, "    target: -1\n", "bad.yaml:13:", "between 0 and 100"},
      {1, "    target: .nan\n", "bad.yaml:13:", "must be a number"},
      {2, "    value: 1\n    target: 1e200\n", "bad.yaml:12:", "beyond 1e+15"},
      {2, "    value: .inf\n", "bad.yaml:11:", "value"},
  };
  const char *heads[] = {cov, tc, man};
  char yaml[2048];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(yaml, sizeof yaml, "%s%s", heads[cases[i].kind], cases[i].line);
    pm_status st = load(f, "bad.yaml", yaml);
    const char *msg = st ? pm_context_message(f->ctx) : "";
    if (!cases[i].said ? st != PM_OK
                       : st != PM_EINPUT || f->plan || !strstr(msg, cases[i].at) ||
                             !strstr(msg, cases[i].said))
      fail_msg("case \"%.*s\": status %d, message \"%s\"; want %s %s %s",
               (int)strcspn(cases[i].line, "\n"), cases[i].line, st, msg,
               cases[i].said ? "an error at" : "success", cases[i].at ? cases[i].at : "",
               cases[i].said ? cases[i].said : "");
  }
}

/* Plans are bounded: nesting depth and file size are refused quickly with a clear message. */
static void test_plan_bounds(void **state) {
  fixture *f = *state;
  size_t n = 100000;
  char *deep = malloc(n + 64);
  assert_non_null(deep);
  int len = snprintf(deep, 64, "plan: t\nlayers: ");
  memset(deep + len, '[', n);
  deep[len + n] = '\0';
  expect_error(f, deep, "bad.yaml:2:", "nested more than 32 levels");
  free(deep);
  size_t big = PM_PLAN_MAX_BYTES + 10;
  char *huge = malloc(big + 1);
  assert_non_null(huge);
  memcpy(huge, "plan: t\ntitle: ", 15);
  memset(huge + 15, 'x', big - 16);
  huge[big - 1] = '\n';
  huge[big] = '\0';
  pm_status st = load(f, "huge.yaml", huge);
  free(huge);
  assert_int_equal(st, PM_EINPUT);
  assert_contains(pm_context_message(f->ctx), "larger than 1024 KB");
}

/* Filters are one condition; layer names differing only in case are one layer. */
static void test_filters_and_layer_case(void **state) {
  fixture *f = *state;
  expect_error(f,
               HEAD "  - id: n\n    metric: count\n    layer: {layer: bus_stops, where: \"0) UNION "
                    "ALL SELECT fid, AsBinary(geom), NULL FROM districts --\"}\n",
               "bad.yaml:11:", "not one condition");
  expect_error(f, "plan: t\nlayers:\n  a: {path: a.shp, where: \"x = 1; DROP TABLE layers\"}\n",
               "bad.yaml:3:", "';'");
  expect_error(f, "plan: t\nlayers:\n  bus_stops: b.csv\n  Bus_Stops: m.csv\n",
               "bad.yaml:4: layers 'bus_stops' (line 3) and 'Bus_Stops' (line 4) differ only in case",
               NULL);
}

static void test_timezone(void **state) {
  fixture *f = *state;
  expect_error(f, "plan: t\ntimezone: Asia/Shanghia\n", "bad.yaml:2", "Asia/Shanghai or Europe/Lisbon");
  expect_error(f, "plan: t\ntimezone: ../../etc/passwd\n", "bad.yaml:2", "not a time zone");
  assert_int_equal(load(f, "tz.yaml", "plan: t\ntimezone: Asia/Shanghai\n"), PM_OK);
  assert_string_equal(f->plan->timezone, "Asia/Shanghai");
  char buf[64];
  assert_string_equal(pm_time_in_zone("2026-01-01T08:30:00Z", "Asia/Shanghai", buf, sizeof buf),
                      "2026-01-01 16:30 +08:00");
  assert_string_equal(pm_time_in_zone("2026-07-01T08:30:00Z", "Europe/Lisbon", buf, sizeof buf),
                      "2026-07-01 09:30 +01:00"); /* summer time */
  assert_string_equal(pm_time_in_zone("2026-01-01T08:30:00Z", NULL, buf, sizeof buf),
                      "2026-01-01 08:30 +00:00");
  assert_string_equal(pm_time_in_zone("not a time", "UTC", buf, sizeof buf), "not a time");
  assert_true(pm_timezone_valid(pm_timezone_local(buf, sizeof buf)));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_full_plan, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timezone, setup, teardown),
      cmocka_unit_test_setup_teardown(test_numbers_in_range, setup, teardown),
      cmocka_unit_test_setup_teardown(test_plan_bounds, setup, teardown),
      cmocka_unit_test_setup_teardown(test_filters_and_layer_case, setup, teardown),
      cmocka_unit_test_setup_teardown(test_metrics_example, setup, teardown),
      cmocka_unit_test_setup_teardown(test_relative_to_cwd, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_unknown_key, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_key_of_other_metric, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_wrong_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_missing_required, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_undeclared_layer, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_duplicates, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_bad_op_and_basis, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_yaml_syntax, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_bare_operator, setup, teardown),
      cmocka_unit_test_setup_teardown(test_error_missing_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
      cmocka_unit_test_setup_teardown(test_parsed_defaults_and_utf8, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
