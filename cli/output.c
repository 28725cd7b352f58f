/* output.c: how the command talks to people: errors, notices, progress bars on a terminal. */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

int pm_cli_fail(pm_cli *cli) {
  fprintf(stderr, "planmetrics: error: %s\n", pm_context_message(cli->ctx));
  return PM_EXIT_ERROR;
}

int pm_cli_usage(const char *cmd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "planmetrics %s: ", cmd);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n(see `planmetrics %s --help`)\n", cmd);
  va_end(ap);
  return PM_EXIT_ERROR;
}

static void print_notice(void *user, const char *message) {
  (void)user;
  fprintf(stderr, "planmetrics: %s\n", message);
}

typedef struct progress_state {
  struct timespec start;
  char label[96];
  int active;
  double last_draw;
} progress_state;

static double seconds_since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One bar, redrawn in place at most ten times a second; a finished step leaves one line. */
static void print_progress(void *user, const char *label, uint64_t done, uint64_t total) {
  progress_state *p = user;
  if (!p->active || strcmp(p->label, label) != 0) {
    snprintf(p->label, sizeof p->label, "%s", label);
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    p->active = 1;
    p->last_draw = -1;
  }
  double el = seconds_since(&p->start);
  int finished = total > 0 && done >= total;
  if (!finished && el - p->last_draw < 0.1) return;
  p->last_draw = el;
  if (total > 0) {
    int width = 30, fill = (int)((double)width * (double)done / (double)total);
    if (fill > width) fill = width;
    char bar[32];
    memset(bar, '#', (size_t)fill);
    memset(bar + fill, '.', (size_t)(width - fill));
    bar[width] = '\0';
    fprintf(stderr, "\r%-28.28s [%s] %llu/%llu  %.1fs\033[K", label, bar, (unsigned long long)done,
            (unsigned long long)total, el);
  } else {
    fprintf(stderr, "\r%-28.28s %llu  %.1fs\033[K", label, (unsigned long long)done, el);
  }
  if (finished) {
    fputc('\n', stderr);
    p->active = 0;
  }
  fflush(stderr);
}

void pm_cli_setup_output(pm_cli *cli) {
  static progress_state state; /* one per process: the CLI is single-threaded at this level */
  if (!cli->quiet) pm_context_set_notice(cli->ctx, print_notice, NULL);
  if (!cli->quiet && cli->tty) pm_context_set_progress(cli->ctx, print_progress, &state);
}

int pm_cli_check_output(pm_cli *cli, const char *path) {
  if (!path || strcmp(path, "-") == 0) return 0;
  char *copy = strdup(path);
  if (!copy) return -1;
  const char *dir = dirname(copy);
  int ok = access(dir, W_OK) == 0;
  if (!ok)
    pm_error(cli->ctx, PM_EIO, "%s: cannot write the report there (%s: %s)", path, dir,
             strerror(errno));
  free(copy);
  return ok ? 0 : -1;
}
