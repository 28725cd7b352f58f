/* fixtures.c: shared fixtures for the cmocka tests (see fixtures.h). */
#define _GNU_SOURCE
#include "fixtures.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  assert_int_equal(fclose(f), 0);
}

int pm_test_system(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int rc = system(cmd);
  if (rc == -1) return -1;
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

void pm_test_assert_near(double a, double b, double tol, const char *file, int line) {
  if (!(fabs(a - b) <= tol)) {
    fail_msg("%s:%d: %.12g and %.12g differ by more than %g", file, line, a, b, tol);
  }
}

pm_features *pm_test_wkt(pm_context *ctx, const char *layer, const char *const *wkt,
                         const char *const *labels, size_t n) {
  pm_features *fs = NULL;
  assert_int_equal(pm_features_from_wkt(ctx, layer, wkt, labels, n, &fs), PM_OK);
  return fs;
}

pm_districts *pm_test_districts_wkt(pm_context *ctx, const char *const *wkt,
                                    const char *const *names, size_t n) {
  pm_features *fs = pm_test_wkt(ctx, "districts", wkt, names, n);
  pm_districts *d = NULL;
  assert_int_equal(pm_districts_from_features(ctx, fs, &d), PM_OK);
  pm_features_destroy(ctx, fs);
  return d;
}

pm_districts *pm_test_no_districts(pm_context *ctx) {
  pm_districts *d = NULL;
  assert_int_equal(pm_districts_none(ctx, &d), PM_OK);
  return d;
}

pm_indicator_spec pm_test_spec(pm_context *ctx, const char *metric, const char *id, ...) {
  pm_indicator_spec s;
  assert_int_equal(pm_indicator_spec_create(ctx, &s, metric, id), PM_OK);
  va_list ap;
  va_start(ap, id);
  for (const char *key = va_arg(ap, const char *); key; key = va_arg(ap, const char *)) {
    const char *value = va_arg(ap, const char *);
    if (pm_indicator_spec_set(ctx, &s, key, value) != PM_OK) fail_msg("%s", pm_context_message(ctx));
  }
  va_end(ap);
  /* a parameter set after the defaults may change them (basis, share_of): apply them again */
  assert_int_equal(pm_indicator_spec_defaults(ctx, &s), PM_OK);
  return s;
}
