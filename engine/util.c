/* util.c: small helpers every module uses: growable arrays, the time of day, size comparison. */
#include <stdlib.h>
#include <time.h>

#include "engine/internal.h"

pm_status pm__grow(pm_context *ctx, void **arr, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return PM_OK;
  size_t n = *cap ? *cap : 16;
  while (n < need) n *= 2;
  void *p = realloc(*arr, n * elem);
  if (!p) return pm_error(ctx, PM_ENOMEM, "out of memory");
  *arr = p;
  *cap = n;
  return PM_OK;
}

void pm_utc_now(char *buf, size_t size) {
  time_t t = time(NULL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}


int pm__cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return (x > y) - (x < y);
}
