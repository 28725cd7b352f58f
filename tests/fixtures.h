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

/* A fresh temporary directory for this test process (created once, removed at exit). Borrowed. */
const char *pm_test_tmpdir(void);
/* A path inside the temporary directory: pm_test_path("a.sqlite"). Returns a static buffer
 * rotated among 8 slots. */
const char *pm_test_path(const char *name);
/* Write text to a file (asserts on failure). */
void pm_test_write_file(const char *path, const char *text);
/* Run a shell command; returns its exit status (or -1). */
int pm_test_system(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Assert that two doubles agree within tol. */
#define assert_near(a, b, tol) pm_test_assert_near((a), (b), (tol), __FILE__, __LINE__)
void pm_test_assert_near(double a, double b, double tol, const char *file, int line);

/* A spec of `metric` with the registry's defaults, id `id`, then key/value pairs set as a plan
 * writes them (pm_indicator_spec_set), ending with NULL: pm_test_spec(ctx, "transfer_coverage",
 * "t", "basis", "route", NULL). Asserts success. The caller clears it (pm_indicator_spec_clear). */
pm_indicator_spec pm_test_spec(pm_context *ctx, const char *metric, const char *id, ...);

/* Features from WKT (asserts success). Caller frees with pm_features_destroy. */
pm_features *pm_test_wkt(pm_context *ctx, const char *layer, const char *const *wkt,
                         const char *const *labels, size_t n);
/* Districts from WKT polygons and names (asserts success). Caller frees with pm_districts_destroy. */
pm_districts *pm_test_districts_wkt(pm_context *ctx, const char *const *wkt,
                                    const char *const *names, size_t n);
/* No districts: only `_all` (asserts success). */
pm_districts *pm_test_no_districts(pm_context *ctx);

#endif
