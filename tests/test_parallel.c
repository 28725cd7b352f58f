/* test_parallel.c: pm__parallel_for (engine/parallel.c) and merging partial results
 * (pm_indicator_result_append), the two pieces metrics use to split their work over threads. */
#include "fixtures.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "engine/measure.h"

typedef struct sum_job {
  long *out;           /* one slot per task */
  atomic_int setups;   /* threads that made a state */
  atomic_int teardowns;
  size_t fail_at;      /* task that fails ((size_t)-1: none) */
} sum_job;

static pm_status sum_setup(pm_context *ctx, void *arg, void **state) {
  sum_job *j = arg;
  long *scratch = malloc(sizeof *scratch);
  if (!scratch) return pm_error(ctx, PM_ENOMEM, "out of memory");
  *state = scratch;
  atomic_fetch_add(&j->setups, 1);
  return PM_OK;
}

static pm_status sum_run(pm_context *ctx, void *state, void *arg, size_t i) {
  sum_job *j = arg;
  long *scratch = state;
  assert_non_null(scratch);
  assert_non_null(pm_context_geos(ctx)); /* every thread has its own working context */
  if (i == j->fail_at) return pm_error(ctx, PM_EINPUT, "task %zu failed on purpose", i);
  *scratch = (long)i * (long)i;
  j->out[i] = *scratch;
  return PM_OK;
}

static void sum_teardown(pm_context *ctx, void *state, void *arg) {
  (void)ctx;
  sum_job *j = arg;
  atomic_fetch_add(&j->teardowns, 1);
  free(state);
}

static void test_every_task_once(void **state) {
  (void)state;
  for (int threads = 1; threads <= 4; threads++) {
    pm_context *ctx = NULL;
    assert_int_equal(pm_context_create(&ctx), PM_OK);
    long out[1000];
    memset(out, 0xff, sizeof out);
    sum_job j = {.out = out, .fail_at = (size_t)-1};
    assert_int_equal(pm__parallel_for(ctx, threads, 1000, sum_setup, sum_run, sum_teardown, &j),
                     PM_OK);
    for (long i = 0; i < 1000; i++) assert_int_equal(out[i], i * i);
    assert_true(j.setups >= 1 && j.setups <= threads);
    assert_int_equal(j.setups, j.teardowns);
    pm_context_destroy(ctx);
  }
}

static void test_failure_reported_with_message(void **state) {
  pm_context *ctx = *state;
  long out[64] = {0};
  sum_job j = {.out = out, .fail_at = 17};
  assert_int_equal(pm__parallel_for(ctx, 3, 64, sum_setup, sum_run, sum_teardown, &j), PM_EINPUT);
  assert_string_equal(pm_context_message(ctx), "task 17 failed on purpose");
  assert_int_equal(j.setups, j.teardowns);
  /* no tasks: nothing runs, nothing fails */
  assert_int_equal(pm__parallel_for(ctx, 3, 0, sum_setup, sum_run, sum_teardown, &j), PM_OK);
}

static pm_status failing_setup(pm_context *ctx, void *arg, void **state) {
  (void)arg;
  *state = NULL;
  return pm_error(ctx, PM_ENOMEM, "no room for the scratch space");
}

static void test_setup_failure(void **state) {
  pm_context *ctx = *state;
  long out[8] = {0};
  sum_job j = {.out = out, .fail_at = (size_t)-1};
  assert_int_equal(pm__parallel_for(ctx, 2, 8, failing_setup, sum_run, NULL, &j), PM_ENOMEM);
  assert_string_equal(pm_context_message(ctx), "no room for the scratch space");
}

static void test_append_moves_in_order(void **state) {
  pm_context *ctx = *state;
  const char *names[] = {"A", "B", "_all"};
  pm_indicator_result dst = {0}, src = {0}, other = {0};
  assert_int_equal(pm_indicator_result_init_results(ctx, &dst, names, 3), PM_OK);
  assert_int_equal(pm_indicator_result_init_results(ctx, &src, names, 3), PM_OK);
  assert_int_equal(pm_indicator_result_init_results(ctx, &other, names, 2), PM_OK);
  char id[32];
  /* enough gaps to cross several capacity steps on both sides */
  for (int k = 0; k < 20; k++) {
    snprintf(id, sizeof id, "d%d", k);
    assert_int_equal(pm_result_add_gap(ctx, &dst.results[1], id, NULL, "B", 1, k, NULL, NULL, 0, 0),
                     PM_OK);
  }
  for (int k = 0; k < 13; k++) {
    snprintf(id, sizeof id, "s%d", k);
    assert_int_equal(pm_result_add_gap(ctx, &src.results[1], id, NULL, "B", 1, k, NULL, NULL, 0, 0),
                     PM_OK);
    assert_int_equal(pm_indicator_result_add_detail(ctx, &src, "uncovered", "B", id, NULL, 0, 1,
                                                    NULL, (const unsigned char *)"wkb", 3),
                     PM_OK);
  }
  assert_int_equal(pm_result_add_class(ctx, &src.results[2], "park", 4), PM_OK);
  assert_int_equal(pm_indicator_result_append(ctx, &dst, &src), PM_OK);
  assert_int_equal(dst.results[1].n_gaps, 33);
  assert_string_equal(dst.results[1].gaps[19].id, "d19");
  assert_string_equal(dst.results[1].gaps[20].id, "s0");
  assert_string_equal(dst.results[1].gaps[32].id, "s12");
  /* a gap's strings share one allocation: absent ones stay NULL, the others are whole */
  assert_null(dst.results[1].gaps[20].name);
  assert_null(dst.results[1].gaps[20].note);
  assert_string_equal(dst.results[1].gaps[20].district, "B");
  assert_string_equal(dst.details[12].role, "uncovered");
  assert_null(dst.details[12].name);
  assert_int_equal(dst.n_details, 13);
  assert_string_equal(dst.details[12].id, "s12");
  assert_memory_equal(dst.details[12].wkb, "wkb", 3);
  assert_int_equal(dst.results[2].n_classes, 1);
  assert_int_equal(dst.results[2].classes[0].count, 4);
  assert_int_equal(src.results[1].n_gaps, 0);
  assert_int_equal(src.n_details, 0);
  /* appending still works after a move (the capacity follows the length) */
  assert_int_equal(pm_result_add_gap(ctx, &dst.results[1], "last", NULL, "B", 1, 0, NULL, NULL, 0, 0),
                   PM_OK);
  assert_string_equal(dst.results[1].gaps[33].id, "last");
  assert_int_equal(pm_result_add_gap(ctx, &dst.results[0], NULL, NULL, NULL, 1, 0, NULL, NULL, 0, 0),
                   PM_OK); /* no strings at all */
  assert_null(dst.results[0].gaps[0].id);
  assert_null(dst.results[0].gaps[0].district);
  /* different slots: refused, nothing moved */
  assert_int_equal(pm_indicator_result_append(ctx, &dst, &other), PM_EINTERNAL);
  assert_int_equal(dst.results[1].n_gaps, 34);
  pm_indicator_result_clear(&dst);
  pm_indicator_result_clear(&src);
  pm_indicator_result_clear(&other);
}

/* pm_union_pairwise on strips (engine/measure.c): the same point set as one union of everything,
 * with the same parts, and the same geometry for one thread and two. Disks (as coverage's
 * buffers) or segments (as greenway's lines) ordered west to east in 8 strips of 1 km; members
 * near a strip's edge reach into the next one, so the seams join parts. */
static void strip_members(pm_context *ctx, int lines, pm_geom_list strip[8]) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  uint64_t x = 0x2545F4914F6CDD1DULL;
  for (int s = 0; s < 8; s++) {
    memset(&strip[s], 0, sizeof strip[s]);
    for (int k = 0; k < 60; k++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      double px = s * 1000.0 + (double)(x % 1000), py = (double)((x >> 20) % 4000);
      double r = 40.0 + (double)((x >> 40) % 160);
      GEOSGeometry *g;
      if (lines) {
        GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, 2, 2);
        GEOSCoordSeq_setXY_r(h, cs, 0, px - r, py - r / 2);
        GEOSCoordSeq_setXY_r(h, cs, 1, px + r, py + r);
        g = GEOSGeom_createLineString_r(h, cs);
      } else {
        GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(h, px, py);
        g = GEOSBuffer_r(h, pt, r, 8);
        GEOSGeom_destroy_r(h, pt);
      }
      assert_non_null(g);
      assert_int_equal(pm_geom_list_push(ctx, &strip[s], g), PM_OK);
    }
  }
}

/* The strips dissolved one by one, then pairwise on `threads` threads; *parts: the strips'
 * parts together before the pairwise step. */
static GEOSGeometry *pairwise(pm_context *ctx, int lines, int threads, int *parts) {
  GEOSContextHandle_t h = pm_context_geos(ctx);
  pm_geom_list m[8];
  GEOSGeometry *strip[8];
  strip_members(ctx, lines, m);
  *parts = 0;
  for (int s = 0; s < 8; s++) {
    assert_non_null(strip[s] = pm_geom_list_union(ctx, &m[s], GEOS_GEOMETRYCOLLECTION));
    *parts += GEOSGetNumGeometries_r(h, strip[s]);
  }
  pm_context_set_threads(ctx, threads);
  assert_int_equal(pm_union_pairwise(ctx, strip, 8, "test"), PM_OK);
  pm_context_set_threads(ctx, 1);
  for (int s = 1; s < 8; s++) assert_null(strip[s]);
  return strip[0];
}

static double size_of(GEOSContextHandle_t h, const GEOSGeometry *g, int lines) {
  double v = 0;
  assert_int_equal(lines ? GEOSLength_r(h, g, &v) : GEOSArea_r(h, g, &v), 1);
  return v;
}

static void test_union_pairwise_as_one_union(void **state) {
  pm_context *ctx = *state;
  GEOSContextHandle_t h = pm_context_geos(ctx);
  for (int lines = 0; lines < 2; lines++) {
    pm_geom_list m[8], all = {0};
    strip_members(ctx, lines, m);
    for (int s = 0; s < 8; s++) {
      for (size_t k = 0; k < m[s].n; k++)
        assert_int_equal(pm_geom_list_push(ctx, &all, m[s].v[k]), PM_OK);
      free(m[s].v);
    }
    GEOSGeometry *one = pm_geom_list_union(ctx, &all, GEOS_GEOMETRYCOLLECTION);
    int parts1, parts2;
    GEOSGeometry *p1 = pairwise(ctx, lines, 1, &parts1), *p2 = pairwise(ctx, lines, 2, &parts2);
    assert_non_null(one);
    assert_int_equal(GEOSisValid_r(h, p1), 1);
    assert_int_equal(GEOSGetNumGeometries_r(h, p1), GEOSGetNumGeometries_r(h, one));
    if (!lines) assert_true(GEOSGetNumGeometries_r(h, p1) < parts1); /* seams joined parts */
    double a = size_of(h, one, lines);
    assert_true(a > 0 && fabs(a - size_of(h, p1, lines)) <= 1e-9 * a);
    GEOSGeometry *d = GEOSSymDifference_r(h, one, p1); /* nothing of either outside the other */
    assert_non_null(d);
    assert_true(size_of(h, d, lines) <= 1e-9 * a);
    assert_int_equal(GEOSEqualsExact_r(h, p1, p2, 0), 1); /* any thread count: same geometry */
    GEOSGeom_destroy_r(h, d);
    GEOSGeom_destroy_r(h, one);
    GEOSGeom_destroy_r(h, p1);
    GEOSGeom_destroy_r(h, p2);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_task_once),
      pm_test_case(test_failure_reported_with_message),
      pm_test_case(test_setup_failure),
      pm_test_case(test_append_moves_in_order),
      pm_test_case(test_union_pairwise_as_one_union),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
