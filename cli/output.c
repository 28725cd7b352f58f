/* output.c: how the command talks to people: errors, notices, progress bars on a terminal. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* Where an output goes, to tell two outputs apart however they are spelled: the device and
 * inode when the file exists (standard output's own for "-"), and the path with its directory
 * resolved (symbolic links, "." and "..") for a file still to be created. */
typedef struct out_key {
  int exists;
  dev_t dev;
  ino_t ino;
  char *resolved; /* NULL for "-" or when the directory cannot be resolved */
} out_key;

static void key_of(const char *path, out_key *k) {
  struct stat sb;
  memset(k, 0, sizeof *k);
  if (strcmp(path, "-") == 0) {
    if (fstat(STDOUT_FILENO, &sb) == 0) {
      k->exists = 1;
      k->dev = sb.st_dev;
      k->ino = sb.st_ino;
    }
    return;
  }
  if (stat(path, &sb) == 0) {
    k->exists = 1;
    k->dev = sb.st_dev;
    k->ino = sb.st_ino;
  }
  char *a = strdup(path), *b = strdup(path);
  char dir[PATH_MAX];
  if (a && b && realpath(dirname(a), dir)) {
    const char *base = basename(b);
    size_t len = strlen(dir) + strlen(base) + 2;
    if ((k->resolved = malloc(len)))
      snprintf(k->resolved, len, "%s%s%s", dir, strcmp(dir, "/") ? "/" : "", base);
  }
  free(a);
  free(b);
}

/* The null device takes any number of outputs. */
static int is_null_device(const out_key *k) {
  struct stat sb;
  return k->exists && stat("/dev/null", &sb) == 0 && sb.st_dev == k->dev && sb.st_ino == k->ino;
}

static int same_output(const out_key *x, const out_key *y) {
  if (is_null_device(x) || is_null_device(y)) return 0;
  if (x->exists && y->exists) return x->dev == y->dev && x->ino == y->ino;
  return x->resolved && y->resolved && strcmp(x->resolved, y->resolved) == 0;
}

static int check_dir(pm_cli *cli, const char *option, const char *path) {
  char *copy = strdup(path);
  if (!copy) return -1;
  const char *dir = dirname(copy);
  int ok = access(dir, W_OK) == 0;
  if (!ok)
    pm_error(cli->ctx, PM_EIO, "%s %s: cannot write there (%s: %s)", option, path, dir,
             strerror(errno));
  free(copy);
  return ok ? 0 : -1;
}

int pm_cli_check_outputs(pm_cli *cli, const pm_cli_output *outs, size_t n, int stdout_ok) {
  out_key *keys = calloc(n ? n : 1, sizeof *keys);
  if (!keys) {
    pm_error(cli->ctx, PM_ENOMEM, "out of memory");
    return -1;
  }
  int rc = 0;
  const char *on_stdout = NULL;
  for (size_t i = 0; i < n && !rc; i++) {
    const pm_cli_output *o = &outs[i];
    if (!o->path || o->input) continue;
    if (strcmp(o->path, "-") == 0) {
      if (!stdout_ok) {
        pm_error(cli->ctx, PM_EINPUT, "%s -: this file cannot go to standard output; give a file "
                 "name", o->option);
        rc = -1;
      } else if (on_stdout) {
        pm_error(cli->ctx, PM_EINPUT, "%s - and %s - would both write to standard output, "
                 "mixing two reports in one stream; send at most one there and the others to "
                 "files", on_stdout, o->option);
        rc = -1;
      }
      on_stdout = o->option;
      continue;
    }
    rc = check_dir(cli, o->option, o->path);
  }
  for (size_t i = 0; i < n; i++)
    if (outs[i].path) key_of(outs[i].path, &keys[i]);
  for (size_t i = 0; i < n && !rc; i++) {
    if (!outs[i].path || outs[i].input) continue;
    for (size_t k = 0; k < n && !rc; k++) {
      if (k == i || !outs[k].path || (k < i && !outs[k].input)) continue;
      if (!same_output(&keys[i], &keys[k])) continue;
      if (!strcmp(outs[i].path, "-") || !strcmp(outs[k].path, "-"))
        pm_error(cli->ctx, PM_EINPUT, "%s %s and %s %s both write to standard output, mixing "
                 "two reports in one stream; send at most one there and the others to files",
                 outs[k].option, outs[k].path, outs[i].option, outs[i].path);
      else if (outs[k].input)
        pm_error(cli->ctx, PM_EINPUT, "%s %s is %s (%s): writing there would destroy it; "
                 "give another file", outs[i].option, outs[i].path, outs[k].option, outs[k].path);
      else
        pm_error(cli->ctx, PM_EINPUT, "%s %s and %s %s are the same file: one would overwrite "
                 "the other; give each its own file", outs[i].option, outs[i].path,
                 outs[k].option, outs[k].path);
      rc = -1;
    }
  }
  for (size_t i = 0; i < n; i++) free(keys[i].resolved);
  free(keys);
  return rc;
}

int pm_cli_parse_seconds(const char *s, double *out) {
  char *end = NULL;
  errno = 0;
  double v = strtod(s, &end);
  if (!*s || !end || *end || errno || !(v >= 0) || v > 1e9) return 0;
  *out = v;
  return 1;
}
