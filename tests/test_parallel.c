/* test_parallel.c: pm__parallel_for (engine/parallel.c) and merging partial results
 * (pm_indicator_result_append), the two pieces metrics use to split their work over threads. */
#include "fixtures.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

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
  /* different slots: refused, nothing moved */
  assert_int_equal(pm_indicator_result_append(ctx, &dst, &other), PM_EINTERNAL);
  assert_int_equal(dst.results[1].n_gaps, 34);
  pm_indicator_result_clear(&dst);
  pm_indicator_result_clear(&src);
  pm_indicator_result_clear(&other);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_task_once),
      pm_test_case(test_failure_reported_with_message),
      pm_test_case(test_setup_failure),
      pm_test_case(test_append_moves_in_order),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
