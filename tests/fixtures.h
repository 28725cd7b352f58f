/* fixtures.h: what the cmocka tests share: temp files, contexts, WKT layers, districts, specs. */
#ifndef PM_TEST_FIXTURES_H
#define PM_TEST_FIXTURES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "planmetrics/planmetrics.h"

/* Tests see the library's internals too (they link its objects). */
#include "engine/internal.h"
#include "store/store_internal.h"

/* Every fixture asserts its own success (a failure names what failed): a test reads as the
 * case it checks, not as error handling. What a fixture returns the caller owns, unless it says
 * borrowed. */

/* ---------- contexts ---------- */

/* cmocka setup: *state becomes a new context; use as the group's (or a test's) setup. */
int pm_test_context_setup(void **state);
/* cmocka teardown of pm_test_context_setup. */
int pm_test_context_teardown(void **state);
/* A test with a context of its own in *state: cmocka_unit_test with the two above. */
#define pm_test_case(f) \
  cmocka_unit_test_setup_teardown(f, pm_test_context_setup, pm_test_context_teardown)

/* The notices a context gave, one a line, and how many. */
typedef struct pm_test_notices {
  char text[8192];
  size_t n;
} pm_test_notices;
/* Collect ctx's notices into ns (emptied first) until the context goes or gets another sink. */
void pm_test_collect_notices(pm_context *ctx, pm_test_notices *ns);

/* ---------- temporary files, outputs ---------- */

/* A fresh temporary directory for this test process (created once, removed at exit unless
 * PM_KEEP_TMP is set). Borrowed. */
const char *pm_test_tmpdir(void);
/* A path inside the temporary directory: pm_test_path("a.sqlite"). Returns a static buffer
 * rotated among 8 slots. */
const char *pm_test_path(const char *name);
/* Write text to a file. */
void pm_test_write_file(const char *path, const char *text);
/* The whole file as a NUL-terminated string. Caller frees. */
char *pm_test_read_file(const char *path);
/* Whether a path exists. */
int pm_test_file_exists(const char *path);
/* Run a shell command; returns its exit status (or -1). */
int pm_test_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* How many times needle occurs in text (overlapping occurrences counted). */
size_t pm_test_count(const char *text, const char *needle);

/* Assert that text holds (or lacks) needle; a failure shows the text. */
#define assert_contains(text, needle) \
  pm_test_assert_contains((text), (needle), 1, __FILE__, __LINE__)
#define assert_lacks(text, needle) \
  pm_test_assert_contains((text), (needle), 0, __FILE__, __LINE__)
void pm_test_assert_contains(const char *text, const char *needle, int want, const char *file,
                             int line);
/* Assert that two doubles agree within tol. */
#define assert_near(a, b, tol) pm_test_assert_near((a), (b), (tol), __FILE__, __LINE__)
void pm_test_assert_near(double a, double b, double tol, const char *file, int line);

/* A xorshift64 generator, so that "random" cases are the same on every run: the next raw value,
 * and a double in [0, 1). *state must not be 0. */
uint64_t pm_test_rand_u64(uint64_t *state);
double pm_test_rand(uint64_t *state);

/* ---------- features and districts in memory ---------- */

/* Features from WKT; labels may be NULL. Free with pm_features_destroy. */
pm_features *pm_test_wkt(pm_context *ctx, const char *layer, const char *const *wkt,
                         const char *const *labels, size_t n);
/* Districts from WKT polygons and names. Free with pm_districts_destroy. */
pm_districts *pm_test_districts_wkt(pm_context *ctx, const char *const *wkt,
                                    const char *const *names, size_t n);
/* The two-district fixture: A x 0..w and B x w..2w, both y y0..y1, sharing the edge x = w.
 * Most metric tests use w = 1000, y 0..1000 (100 ha each). */
pm_districts *pm_test_two_districts(pm_context *ctx, double w, double y0, double y1);
/* No districts: only `_all`, which covers everything. */
pm_districts *pm_test_no_districts(pm_context *ctx);
/* A GEOS geometry from WKT. Free with GEOSGeom_destroy_r. */
GEOSGeometry *pm_test_geom(pm_context *ctx, const char *wkt);
/* ISO WKB (2D) of a WKT moved by (dx, dy). Caller frees with free(); *len is its length. */
unsigned char *pm_test_wkb(pm_context *ctx, const char *wkt, double dx, double dy, size_t *len);

/* ---------- indicator specs ---------- */

/* The spec of one indicator written as a plan file writes it (a YAML flow mapping, printf-style),
 * built by the plan parser itself: every key checked as in a plan (types, ranges, choices, keys
 * that need each other, the kind's own checks, units), then the registry's defaults applied.
 * The layers it names are declared for it. A test thus never holds a spec that a plan could not
 * give:
 *   pm_test_spec(ctx, "{id: t, metric: count, layer: parks, min_area_m2: %g}", 400.0)
 * Clear it with pm_indicator_spec_clear. */
pm_indicator_spec pm_test_spec(pm_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same for a spec the parser may refuse: its status (message in ctx); *out is set on PM_OK
 * only. */
pm_status pm_test_spec_parse(pm_context *ctx, pm_indicator_spec *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---------- results ---------- */

/* The result of `district` ("_all" for the plan area); fails the test when there is none. */
const pm_result *pm_test_result(const pm_indicator_result *ir, const char *district);
/* How many details of that role. */
size_t pm_test_n_role(const pm_indicator_result *ir, const char *role);
/* The k-th detail of that role (from 0); fails the test when there is none. */
const pm_detail *pm_test_detail(const pm_indicator_result *ir, const char *role, size_t k);
/* The first detail of that role named name; fails the test when there is none. */
const pm_detail *pm_test_detail_named(const pm_indicator_result *ir, const char *role,
                                      const char *name);
/* The geometry of a detail (its WKB read back). Free with GEOSGeom_destroy_r. */
GEOSGeometry *pm_test_detail_geom(pm_context *ctx, const pm_detail *x);
/* Length (m) and area (m2) of a detail's geometry. */
double pm_test_detail_length(pm_context *ctx, const pm_detail *x);
double pm_test_detail_area(pm_context *ctx, const pm_detail *x);

/* Hand-built results, for the writers (report, history, export): a run of n empty indicators
 * with plan, title, CRS and time. Free with pm_run_result_destroy. */
pm_run_result *pm_test_run(pm_context *ctx, const char *plan, const char *title, const char *crs,
                           const char *generated_at, size_t n_indicators);
/* Name an empty indicator result: id, title, metric and unit; a target `op value` when op is not
 * NULL. */
void pm_test_indicator(pm_context *ctx, pm_indicator_result *ir, const char *id, const char *title,
                       const char *metric, const char *unit, const char *op, double target);
/* Make ir an indicator without data (status_reason reason): n null results named names[], each
 * with the reason (n = 0: no results, as planmetrics 0.1 recorded them), the target applied. */
void pm_test_no_data(pm_context *ctx, pm_indicator_result *ir, const char *reason,
                     const char *const *names, size_t n);
/* Append a detail whose geometry is a WKT (NULL: none). */
void pm_test_add_detail_wkt(pm_context *ctx, pm_indicator_result *ir, const char *role,
                            const char *district, const char *id, const char *name, int covered,
                            double distance_m, const char *nearest, const char *wkt);

/* ---------- project stores ---------- */

/* A new project database pm_test_path(name) (an old one removed first), with CRS EPSG:epsg set
 * and committed when epsg > 0. Close with pm_store_close. */
pm_store *pm_test_store(pm_context *ctx, const char *name, int epsg);
/* A layer of the open transaction: n features from WKT moved by (dx, dy), fids 1..n, one text
 * attribute `field` (values may be NULL, and so may values[i]), with its metadata. */
void pm_test_store_layer(pm_context *ctx, pm_store *store, const char *name, pm_geom_kind kind,
                         const char *field, const char *const *values, const char *const *wkt,
                         size_t n, double dx, double dy);
/* The first column of the first row of a query (-1 / NAN when there is no row). */
int64_t pm_test_sql_int(pm_store *store, const char *sql);
double pm_test_sql_double(pm_store *store, const char *sql);
/* The text of the first column of the first row, copied into buf ("" when there is none). */
const char *pm_test_sql_text(pm_store *store, const char *sql, char *buf, size_t size);
/* Run SQL statements on the project database. */
void pm_test_sql_exec(pm_store *store, const char *sql);

#endif
