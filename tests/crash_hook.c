/* crash_hook.c: a test-only LD_PRELOAD library (never linked into planmetrics) that kills the
 * process at an exact moment of a transaction: the Nth write, sync, truncation or removal of a
 * file whose path contains $PM_CRASH_FILE (the project database, its journal, a new project's
 * temporary file). PM_CRASH_AT=N kills with SIGKILL just before event N (0 or unset: never);
 * PM_CRASH_COUNT=FILE receives the number of events at exit, to choose N. tests/e2e/e2e_crash.sh
 * uses it to crash ingests and runs throughout their commit. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static long events, crash_at;
static const char *match;
static int ready;

static void init(void) {
  if (ready) return;
  ready = 1;
  match = getenv("PM_CRASH_FILE");
  const char *at = getenv("PM_CRASH_AT");
  crash_at = at ? atol(at) : 0;
}

static int path_matches(const char *path) { return match && *match && path && strstr(path, match); }

static int fd_matches(int fd) {
  if (!match || !*match) return 0;
  char link[64], path[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n < 0) return 0;
  path[n] = '\0';
  return strstr(path, match) != NULL;
}

static void event(void) {
  events++;
  if (crash_at > 0 && events == crash_at) kill(getpid(), SIGKILL);
}

/* The libc function this one stands in for (its prototype from the system header). */
#define REAL(name)                        \
  static __typeof__(name) *real_##name;   \
  if (!real_##name) real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off) {
  REAL(pwrite64);
  init();
  if (fd_matches(fd)) event();
  return real_pwrite64(fd, buf, n, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off) {
  REAL(pwrite);
  init();
  if (fd_matches(fd)) event();
  return real_pwrite(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n) {
  REAL(write);
  init();
  if (fd > 2 && fd_matches(fd)) event();
  return real_write(fd, buf, n);
}

int fsync(int fd) {
  REAL(fsync);
  init();
  if (fd_matches(fd)) event();
  return real_fsync(fd);
}

int fdatasync(int fd) {
  REAL(fdatasync);
  init();
  if (fd_matches(fd)) event();
  return real_fdatasync(fd);
}

int ftruncate64(int fd, off64_t len) {
  REAL(ftruncate64);
  init();
  if (fd_matches(fd)) event();
  return real_ftruncate64(fd, len);
}

int ftruncate(int fd, off_t len) {
  REAL(ftruncate);
  init();
  if (fd_matches(fd)) event();
  return real_ftruncate(fd, len);
}

int unlink(const char *path) {
  REAL(unlink);
  init();
  if (path_matches(path)) event();
  return real_unlink(path);
}

int link(const char *from, const char *to) {
  REAL(link);
  init();
  if (path_matches(to)) event();
  return real_link(from, to);
}

__attribute__((destructor)) static void report(void) {
  const char *out = getenv("PM_CRASH_COUNT");
  if (!out) return;
  FILE *f = fopen(out, "w");
  if (!f) return;
  fprintf(f, "%ld\n", events);
  fclose(f);
}
