/* fixtures.c: what the cmocka tests share (see fixtures.h). */
#define _GNU_SOURCE
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

/* ---------- contexts ---------- */

int pm_test_context_setup(void **state) {
  pm_context *ctx = NULL;
  if (pm_context_create(&ctx) != PM_OK) return -1;
  *state = ctx;
  return 0;
}

int pm_test_context_teardown(void **state) {
  pm_context_destroy(*state);
  *state = NULL;
  return 0;
}

static void collect_notice(void *user, const char *message) {
  pm_test_notices *ns = user;
  size_t len = strlen(ns->text);
  snprintf(ns->text + len, sizeof ns->text - len, "%s\n", message);
  ns->n++;
}

void pm_test_collect_notices(pm_context *ctx, pm_test_notices *ns) {
  ns->text[0] = '\0';
  ns->n = 0;
  pm_context_set_notice(ctx, collect_notice, ns);
}

/* ---------- temporary files, outputs ---------- */

static char tmpdir[256];

static void cleanup_tmpdir(void) {
  if (tmpdir[0]) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  }
}

const char *pm_test_tmpdir(void) {
  if (!tmpdir[0]) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/pmtest.XXXXXX");
    if (!mkdtemp(tmpdir)) {
      perror("mkdtemp");
      abort();
    }
    if (!getenv("PM_KEEP_TMP")) atexit(cleanup_tmpdir);
  }
  return tmpdir;
}

const char *pm_test_path(const char *name) {
  static char slots[8][512];
  static int next;
  char *p = slots[next++ % 8];
  snprintf(p, 512, "%s/%s", pm_test_tmpdir(), name);
  return p;
}

void pm_test_write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  if (!f) fail_msg("cannot write %s", path);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
}

char *pm_test_read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot read %s", path);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  long n = ftell(f);
  assert_true(n >= 0);
  assert_int_equal(fseek(f, 0, SEEK_SET), 0);
  char *s = malloc((size_t)n + 1);
  assert_non_null(s);
  assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
  s[n] = '\0';
  fclose(f);
  return s;
}

int pm_test_file_exists(const char *path) { return access(path, F_OK) == 0; }

int pm_test_system(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  int len = vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  if (len < 0 || (size_t)len >= sizeof cmd) fail_msg("command too long: %.200s...", cmd);
  int rc = system(cmd);
  if (rc == -1) return -1;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

size_t pm_test_count(const char *text, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

void pm_test_assert_contains(const char *text, const char *needle, int want, const char *file,
                             int line) {
  if (!text) fail_msg("%s:%d: no text to look for \"%s\" in", file, line, needle);
  if ((strstr(text, needle) != NULL) != want)
    fail_msg("%s:%d: %s \"%s\" in:\n%s", file, line, want ? "missing" : "unexpected", needle, text);
}

void pm_test_assert_near(double a, double b, double tol, const char *file, int line) {
  if (!(fabs(a - b) <= tol)) {
    fail_msg("%s:%d: %.12g and %.12g differ by more than %g", file, line, a, b, tol);
  }
}

uint64_t pm_test_rand_u64(uint64_t *state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

double pm_test_rand(uint64_t *state) {
  return (double)(pm_test_rand_u64(state) >> 11) / 9007199254740992.0;
}

/* ---------- features and districts in memory ---------- */

pm_features *pm_test_wkt(pm_context *ctx, const char *layer, const char *const *wkt,
                         const char *const *labels, size_t n) {
  pm_features *fs = NULL;
  if (pm_features_from_wkt(ctx, layer, wkt, labels, n, &fs) != PM_OK)
    fail_msg("features %s: %s", layer, pm_context_message(ctx));
  return fs;
}

pm_districts *pm_test_districts_wkt(pm_context *ctx, const char *const *wkt,
                                    const char *const *names, size_t n) {
  pm_features *fs = pm_test_wkt(ctx, "districts", wkt, names, n);
  pm_districts *d = NULL;
  if (pm_districts_from_features(ctx, fs, &d) != PM_OK)
    fail_msg("districts: %s", pm_context_message(ctx));
  pm_features_destroy(ctx, fs);
  return d;
}

pm_districts *pm_test_two_districts(pm_context *ctx, double w, double y0, double y1) {
  char a[256], b[256];
  snprintf(a, sizeof a, "POLYGON((0 %.17g,%.17g %.17g,%.17g %.17g,0 %.17g,0 %.17g))", y0, w, y0, w,
           y1, y1, y0);
  snprintf(b, sizeof b, "POLYGON((%.17g %.17g,%.17g %.17g,%.17g %.17g,%.17g %.17g,%.17g %.17g))",
           w, y0, 2 * w, y0, 2 * w, y1, w, y1, w, y0);
  const char *wkt[] = {a, b}, *names[] = {"A", "B"};
  return pm_test_districts_wkt(ctx, wkt, names, 2);
}

pm_districts *pm_test_no_districts(pm_context *ctx) {
  pm_districts *d = NULL;
  assert_int_equal(pm_districts_none(ctx, &d), PM_OK);
  return d;
}

GEOSGeometry *pm_test_geom(pm_context *ctx, const char *wkt) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKTReader *rd = GEOSWKTReader_create_r(h);
  assert_non_null(rd);
  GEOSGeometry *g = GEOSWKTReader_read_r(h, rd, wkt);
  GEOSWKTReader_destroy_r(h, rd);
  if (!g) fail_msg("bad WKT: %s", wkt);
  return g;
}

static int move_xy(double *x, double *y, void *user) {
  const double *d = user;
  *x += d[0];
  *y += d[1];
  return 1;
}

unsigned char *pm_test_wkb(pm_context *ctx, const char *wkt, double dx, double dy, size_t *len) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSGeometry *g = pm_test_geom(ctx, wkt);
  double d[2] = {dx, dy};
  GEOSGeometry *moved = GEOSGeom_transformXY_r(h, g, move_xy, d);
  assert_non_null(moved);
  GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
  assert_non_null(w);
  GEOSWKBWriter_setOutputDimension_r(h, w, 2);
  GEOSWKBWriter_setFlavor_r(h, w, GEOS_WKB_ISO);
  unsigned char *tmp = GEOSWKBWriter_write_r(h, w, moved, len);
  assert_non_null(tmp);
  unsigned char *out = malloc(*len);
  assert_non_null(out);
  memcpy(out, tmp, *len);
  GEOSFree_r(h, tmp);
  GEOSWKBWriter_destroy_r(h, w);
  GEOSGeom_destroy_r(h, moved);
  GEOSGeom_destroy_r(h, g);
  return out;
}

/* ---------- indicator specs ---------- */

typedef struct layer_names {
  char v[32][128];
  size_t n;
} layer_names;

static void add_name(layer_names *ns, const char *name) {
  for (size_t i = 0; i < ns->n; i++)
    if (strcasecmp(ns->v[i], name) == 0) return;
  if (ns->n == 32 || strlen(name) >= sizeof ns->v[0]) fail_msg("too many or long layer names");
  snprintf(ns->v[ns->n++], sizeof ns->v[0], "%s", name);
}

/* The layer names under a layer-valued key: `name`, [name, {layer: name, ...}], {layer: name}
 * (a network block, a facility). */
static void names_under(yaml_document_t *doc, yaml_node_t *v, layer_names *ns) {
  if (!v) return;
  if (v->type == YAML_SCALAR_NODE) {
    add_name(ns, (const char *)v->data.scalar.value);
  } else if (v->type == YAML_SEQUENCE_NODE) {
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++)
      names_under(doc, yaml_document_get_node(doc, *it), ns);
  } else if (v->type == YAML_MAPPING_NODE) {
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(doc, p->key);
      if (k && k->type == YAML_SCALAR_NODE &&
          strcmp((const char *)k->data.scalar.value, "layer") == 0)
        names_under(doc, yaml_document_get_node(doc, p->value), ns);
    }
  }
}

/* The layers an indicator names, by the registry's types of its keys. Text that does not parse
 * names none: the plan parser then says what is wrong. */
static void indicator_layers(const char *yaml, layer_names *ns) {
  yaml_parser_t parser;
  yaml_document_t doc;
  assert_true(yaml_parser_initialize(&parser));
  yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, strlen(yaml));
  if (!yaml_parser_load(&parser, &doc)) {
    yaml_parser_delete(&parser);
    return;
  }
  yaml_node_t *root = yaml_document_get_root_node(&doc);
  const pm_metric_kind *k = NULL;
  for (int pass = 0; root && root->type == YAML_MAPPING_NODE && pass < 2; pass++)
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
      yaml_node_t *key = yaml_document_get_node(&doc, p->key);
      yaml_node_t *val = yaml_document_get_node(&doc, p->value);
      if (!key || key->type != YAML_SCALAR_NODE) continue;
      const char *name = (const char *)key->data.scalar.value;
      if (pass == 0) {
        if (strcmp(name, "metric") == 0 && val && val->type == YAML_SCALAR_NODE)
          k = pm_metric_kind_find((const char *)val->data.scalar.value);
        continue;
      }
      const pm_param *prm = k ? pm_metric_param(k, name) : NULL;
      if (prm && (prm->type == PM_PARAM_REF || prm->type == PM_PARAM_REFS ||
                  prm->type == PM_PARAM_NETWORK || prm->type == PM_PARAM_FACILITIES))
        names_under(&doc, val, ns);
    }
  yaml_document_delete(&doc);
  yaml_parser_delete(&parser);
}

static pm_status spec_parse(pm_context *ctx, pm_indicator_spec *out, const char *yaml) {
  layer_names ns = {.n = 0};
  indicator_layers(yaml, &ns);
  size_t cap = strlen(yaml) + 64 + ns.n * 300;
  char *plan = malloc(cap);
  assert_non_null(plan);
  size_t len = (size_t)snprintf(plan, cap, "plan: fixture\n%s", ns.n ? "layers:\n" : "");
  for (size_t i = 0; i < ns.n; i++)
    len += (size_t)snprintf(plan + len, cap - len, "  %s: {path: %s.shp}\n", ns.v[i], ns.v[i]);
  snprintf(plan + len, cap - len, "indicators:\n  - %s\n", yaml);
  const char *path = pm_test_path("fixture-spec.yaml");
  pm_test_write_file(path, plan);
  free(plan);
  pm_plan *p = NULL;
  pm_status st = pm_plan_load(ctx, path, &p);
  if (st) return st;
  if (p->n_indicators != 1) fail_msg("%zu indicators in: %s", p->n_indicators, yaml);
  *out = p->indicators[0];
  pm_indicator_spec_init(&p->indicators[0]); /* moved out: the plan no longer owns it */
  pm_plan_destroy(p);
  return PM_OK;
}

static char *vformat(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) fail_msg("out of memory");
  return s;
}

pm_indicator_spec pm_test_spec(pm_context *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *yaml = vformat(fmt, ap);
  va_end(ap);
  pm_indicator_spec s;
  if (spec_parse(ctx, &s, yaml) != PM_OK)
    fail_msg("the plan parser refuses %s: %s", yaml, pm_context_message(ctx));
  free(yaml);
  return s;
}

pm_status pm_test_spec_parse(pm_context *ctx, pm_indicator_spec *out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *yaml = vformat(fmt, ap);
  va_end(ap);
  pm_status st = spec_parse(ctx, out, yaml);
  free(yaml);
  return st;
}

/* ---------- results ---------- */

const pm_result *pm_test_result(const pm_indicator_result *ir, const char *district) {
  for (size_t i = 0; i < ir->n_results; i++)
    if (strcmp(ir->results[i].district, district) == 0) return &ir->results[i];
  fail_msg("indicator %s has no result for %s", ir->id ? ir->id : "?", district);
  return NULL;
}

size_t pm_test_n_role(const pm_indicator_result *ir, const char *role) {
  size_t n = 0;
  for (size_t i = 0; i < ir->n_details; i++) n += strcmp(ir->details[i].role, role) == 0;
  return n;
}

const pm_detail *pm_test_detail(const pm_indicator_result *ir, const char *role, size_t k) {
  for (size_t i = 0; i < ir->n_details; i++)
    if (strcmp(ir->details[i].role, role) == 0 && k-- == 0) return &ir->details[i];
  fail_msg("indicator %s has too few %s details", ir->id ? ir->id : "?", role);
  return NULL;
}

const pm_detail *pm_test_detail_named(const pm_indicator_result *ir, const char *role,
                                      const char *name) {
  for (size_t i = 0; i < ir->n_details; i++)
    if (strcmp(ir->details[i].role, role) == 0 && ir->details[i].name &&
        strcmp(ir->details[i].name, name) == 0)
      return &ir->details[i];
  fail_msg("indicator %s has no %s detail named %s", ir->id ? ir->id : "?", role, name);
  return NULL;
}

GEOSGeometry *pm_test_detail_geom(pm_context *ctx, const pm_detail *x) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
  assert_non_null(rd);
  GEOSGeometry *g = GEOSWKBReader_read_r(h, rd, x->wkb, x->wkb_len);
  GEOSWKBReader_destroy_r(h, rd);
  if (!g) fail_msg("the %s detail %s has no readable geometry", x->role, x->id ? x->id : "?");
  return g;
}

static double detail_measure(pm_context *ctx, const pm_detail *x, int area) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  GEOSGeometry *g = pm_test_detail_geom(ctx, x);
  double v = -1;
  assert_true(area ? GEOSArea_r(h, g, &v) : GEOSLength_r(h, g, &v));
  GEOSGeom_destroy_r(h, g);
  return v;
}

double pm_test_detail_length(pm_context *ctx, const pm_detail *x) {
  return detail_measure(ctx, x, 0);
}

double pm_test_detail_area(pm_context *ctx, const pm_detail *x) {
  return detail_measure(ctx, x, 1);
}

static char *copy_text(const char *s) {
  if (!s) return NULL;
  char *p = strdup(s);
  assert_non_null(p);
  return p;
}

pm_run_result *pm_test_run(pm_context *ctx, const char *plan, const char *title, const char *crs,
                           const char *generated_at, size_t n_indicators) {
  (void)ctx;
  pm_run_result *run = calloc(1, sizeof *run);
  assert_non_null(run);
  run->plan = copy_text(plan);
  run->title = copy_text(title);
  run->crs = copy_text(crs);
  run->generated_at = copy_text(generated_at);
  run->n_indicators = n_indicators;
  run->indicators = calloc(n_indicators ? n_indicators : 1, sizeof *run->indicators);
  assert_non_null(run->indicators);
  return run;
}

void pm_test_indicator(pm_context *ctx, pm_indicator_result *ir, const char *id, const char *title,
                       const char *metric, const char *unit, const char *op, double target) {
  (void)ctx;
  ir->id = copy_text(id);
  ir->title = copy_text(title);
  ir->metric = copy_text(metric);
  ir->unit = copy_text(unit);
  if (op) {
    ir->has_target = 1;
    snprintf(ir->target_op, sizeof ir->target_op, "%s", op);
    ir->target_value = target;
  }
}

void pm_test_no_data(pm_context *ctx, pm_indicator_result *ir, const char *reason,
                     const char *const *names, size_t n) {
  ir->status = PM_IND_NO_DATA;
  ir->status_reason = copy_text(reason);
  if (!n) return;
  assert_int_equal(pm_indicator_result_init_results(ctx, ir, names, n), PM_OK);
  for (size_t i = 0; i < n; i++) ir->results[i].null_reason = copy_text(reason);
  pm_indicator_result_apply_target(ir);
}

void pm_test_add_detail_wkt(pm_context *ctx, pm_indicator_result *ir, const char *role,
                            const char *district, const char *id, const char *name, int covered,
                            double distance_m, const char *nearest, const char *wkt) {
  GEOSGeometry *g = wkt ? pm_test_geom(ctx, wkt) : NULL;
  assert_int_equal(pm_indicator_result_add_detail_geom(ctx, ir, role, district, id, name, covered,
                                                       distance_m, nearest, g),
                   PM_OK);
  if (g) GEOSGeom_destroy_r(pm_context_geos(ctx), g);
}

/* ---------- project stores ---------- */

pm_store *pm_test_store(pm_context *ctx, const char *name, int epsg) {
  const char *path = pm_test_path(name);
  if (unlink(path) != 0 && pm_test_file_exists(path)) fail_msg("cannot remove %s", path);
  pm_store *s = NULL;
  if (pm_store_open(ctx, path, PM_STORE_CREATE, &s, NULL) != PM_OK)
    fail_msg("project %s: %s", path, pm_context_message(ctx));
  if (epsg > 0) {
    assert_int_equal(pm_store_begin(s), PM_OK);
    assert_int_equal(pm_store_set_crs(s, epsg), PM_OK);
    assert_int_equal(pm_store_commit(s), PM_OK);
  }
  return s;
}

void pm_test_store_layer(pm_context *ctx, pm_store *store, const char *name, pm_geom_kind kind,
                         const char *field, const char *const *values, const char *const *wkt,
                         size_t n, double dx, double dy) {
  pm_field_def fields[] = {{field, PM_FIELD_TEXT}};
  pm_layer_writer *w = NULL;
  if (pm_store_layer_create(store, name, kind, 0, fields, 1, &w) != PM_OK)
    fail_msg("layer %s: %s", name, pm_context_message(ctx));
  for (size_t i = 0; i < n; i++) {
    size_t len = 0;
    unsigned char *wkb = pm_test_wkb(ctx, wkt[i], dx, dy, &len);
    pm_value v = {.s = values ? values[i] : NULL, .is_null = !values || !values[i]};
    assert_int_equal(pm_layer_writer_add(w, (int64_t)i + 1, wkb, len, &v), PM_OK);
    free(wkb);
  }
  assert_int_equal(pm_layer_writer_finish(w), PM_OK);
  pm_layer_writer_destroy(w);
  pm_layer_info info;
  memset(&info, 0, sizeof info);
  info.name = (char *)name;
  info.kind = kind;
  info.geometry_type = (char *)(kind == PM_KIND_POINT  ? "POINT"
                                : kind == PM_KIND_LINE ? "MULTILINESTRING"
                                                       : "MULTIPOLYGON");
  info.source_path = (char *)"test";
  info.n_read = info.n_stored = (int64_t)n;
  info.minx = info.miny = info.maxx = info.maxy = NAN;
  info.ingested_at = (char *)"2026-01-01T00:00:00Z";
  assert_int_equal(pm_store_put_layer_info(store, &info), PM_OK);
}

static sqlite3_stmt *first_row(pm_store *store, const char *sql, int *row) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(pm__store_db(store), sql, -1, &q, NULL) != SQLITE_OK)
    fail_msg("%s: %s", sql, sqlite3_errmsg(pm__store_db(store)));
  *row = sqlite3_step(q) == SQLITE_ROW;
  return q;
}

int64_t pm_test_sql_int(pm_store *store, const char *sql) {
  int row;
  sqlite3_stmt *q = first_row(store, sql, &row);
  int64_t v = row ? sqlite3_column_int64(q, 0) : -1;
  sqlite3_finalize(q);
  return v;
}

double pm_test_sql_double(pm_store *store, const char *sql) {
  int row;
  sqlite3_stmt *q = first_row(store, sql, &row);
  double v = row ? sqlite3_column_double(q, 0) : NAN;
  sqlite3_finalize(q);
  return v;
}

const char *pm_test_sql_text(pm_store *store, const char *sql, char *buf, size_t size) {
  int row;
  sqlite3_stmt *q = first_row(store, sql, &row);
  buf[0] = '\0';
  if (row && sqlite3_column_text(q, 0))
    snprintf(buf, size, "%s", (const char *)sqlite3_column_text(q, 0));
  sqlite3_finalize(q);
  return buf;
}

void pm_test_sql_exec(pm_store *store, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(pm__store_db(store), sql, NULL, NULL, &err) != SQLITE_OK)
    fail_msg("%s: %s", sql, err ? err : "?");
}
