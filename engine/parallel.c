/* parallel.c: share a numbered list of tasks among threads, each with its own context. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

typedef struct par {
  pm_context *parent;
  size_t n;
  pm__task_setup setup;
  pm__task_run run;
  pm__task_teardown teardown;
  void *arg;
  pm_status *st; /* per task */
  char **msg;    /* per task: the message of a failed task */
  pm_status setup_st; /* the calling thread's setup, when it failed */
  char *setup_msg;
  atomic_size_t take;
  atomic_int failed;
} par;

/* Take tasks until none is left (or one has failed) with this thread's context. */
static void par_loop(par *p, pm_context *ctx) {
  void *state = NULL;
  pm_status st = p->setup ? p->setup(ctx, p->arg, &state) : PM_OK;
  if (st) { /* this thread takes no task; the others (and the caller) do */
    if (ctx == p->parent) { /* reported before any task's failure */
      p->setup_st = st;
      p->setup_msg = strdup(pm_context_message(ctx));
      atomic_store(&p->failed, 1);
    }
    return;
  }
  for (;;) {
    size_t i = atomic_fetch_add(&p->take, 1);
    if (i >= p->n) break;
    if (atomic_load(&p->failed)) continue; /* skipped; an earlier failure is reported */
    pm_context_clear_error(ctx);
    p->st[i] = p->run(ctx, state, p->arg, i);
    if (p->st[i]) {
      p->msg[i] = strdup(pm_context_message(ctx));
      atomic_store(&p->failed, 1);
    }
  }
  if (p->teardown) p->teardown(ctx, state, p->arg);
}

static void *par_thread(void *arg) {
  par *p = arg;
  pm_context *ctx = NULL;
  if (pm_context_create(&ctx)) return NULL; /* the others take its share */
  pm_context_inherit_notice(ctx, p->parent);
  pm__context_set_details(ctx, pm__context_keeps_details(p->parent));
  par_loop(p, ctx);
  pm_context_destroy(ctx);
  return NULL;
}

pm_status pm__parallel_for(pm_context *ctx, int threads, size_t n, pm__task_setup setup,
                          pm__task_run run, pm__task_teardown teardown, void *arg) {
  if (n == 0) return PM_OK;
  par p = {.parent = ctx, .n = n, .setup = setup, .run = run, .teardown = teardown, .arg = arg};
  p.st = calloc(n, sizeof *p.st);
  p.msg = calloc(n, sizeof *p.msg);
  if (!p.st || !p.msg) {
    free(p.st);
    free(p.msg);
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  atomic_init(&p.take, 0);
  atomic_init(&p.failed, 0);
  if (threads > PM_MAX_THREADS) threads = PM_MAX_THREADS;
  if ((size_t)threads > n) threads = (int)n;
  pthread_t tid[PM_MAX_THREADS];
  int started = 0;
  for (int t = 1; t < threads; t++)
    if (pthread_create(&tid[started], NULL, par_thread, &p) == 0) started++;
  par_loop(&p, ctx);
  for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);

  pm_status st = PM_OK;
  if (p.setup_st)
    st = pm_error(ctx, p.setup_st, "%s", p.setup_msg ? p.setup_msg : pm_status_name(p.setup_st));
  for (size_t i = 0; i < n && !st; i++)
    if (p.st[i]) st = pm_error(ctx, p.st[i], "%s", p.msg[i] ? p.msg[i] : pm_status_name(p.st[i]));
  free(p.setup_msg);
  for (size_t i = 0; i < n; i++) free(p.msg[i]);
  free(p.st);
  free(p.msg);
  return st;
}
