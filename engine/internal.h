/* internal.h: helpers shared inside the library; not installed, not part of the public API. */
#ifndef PLANMETRICS_INTERNAL_H
#define PLANMETRICS_INTERNAL_H

#include "planmetrics/context.h"

/* The last GEOS error text of this context ("" when none). Borrowed. */
const char *pm_context_geos_message(const pm_context *ctx);

/* Growable array helper: ensure *arr has room for need elements of size elem. */
pm_status pm_grow(pm_context *ctx, void **arr, size_t *cap, size_t need, size_t elem);

/* Quote an SQL identifier ("a""b") into a new heap string. Caller frees. */
char *pm_sql_ident(const char *name);

/* SHA-256 of the concatenated contents of the files (missing files are skipped when optional is
 * set for them, else an error naming the file). hex receives 64 hex digits and a NUL. */
pm_status pm_sha256_files(pm_context *ctx, const char *const *paths, const int *optional, size_t n,
                          char hex[65]);
/* SHA-256 of a memory buffer. */
void pm_sha256_buffer(const void *data, size_t len, char hex[65]);

/* pm_parallel_for: tasks 0 .. n-1 shared among up to `threads` threads, the calling thread
 * included. Every thread has its own context (the caller's on the calling thread; a new one with
 * the caller's notice printer on the others) and makes its own state with setup (optional), freed
 * with teardown. Tasks must not depend on which thread runs them, so the caller's results are the
 * same for any number of threads. Returns the failure of the first failed task in task order, its
 * message copied into ctx; once a task fails, the tasks not yet started are skipped. */
typedef pm_status (*pm_task_setup)(pm_context *ctx, void *arg, void **state);
typedef pm_status (*pm_task_run)(pm_context *ctx, void *state, void *arg, size_t i);
typedef void (*pm_task_teardown)(pm_context *ctx, void *state, void *arg);
pm_status pm_parallel_for(pm_context *ctx, int threads, size_t n, pm_task_setup setup,
                          pm_task_run run, pm_task_teardown teardown, void *arg);

#define PM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
