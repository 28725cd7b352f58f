/* util.c: small helpers every module uses: growable arrays, the time of day and time zones, size
 * comparison. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* ---------- time zones ---------- */

int pm_timezone_valid(const char *name) {
  if (!name || !*name || name[0] == '/' || strstr(name, "..") || strlen(name) > 64) return 0;
  for (const char *c = name; *c; c++)
    if (!(isalnum((unsigned char)*c) || strchr("/_-+", *c))) return 0;
  char path[128];
  snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", name);
  struct stat sb;
  return strcmp(name, "UTC") == 0 || (stat(path, &sb) == 0 && S_ISREG(sb.st_mode));
}

const char *pm_timezone_local(char *buf, size_t size) {
  const char *tz = getenv("TZ");
  if (tz && *tz == ':') tz++;
  if (tz && pm_timezone_valid(tz)) {
    snprintf(buf, size, "%s", tz);
    return buf;
  }
  FILE *f = fopen("/etc/timezone", "r");
  char line[128] = "";
  if (f) {
    if (fgets(line, sizeof line, f)) line[strcspn(line, " \r\n")] = '\0';
    fclose(f);
    if (pm_timezone_valid(line)) {
      snprintf(buf, size, "%s", line);
      return buf;
    }
  }
  char link[256];
  ssize_t n = readlink("/etc/localtime", link, sizeof link - 1);
  const char *zi = n > 0 ? (link[n] = '\0', strstr(link, "zoneinfo/")) : NULL;
  snprintf(buf, size, "%s", zi && pm_timezone_valid(zi + 9) ? zi + 9 : "UTC");
  return buf;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), so that UTC
 * text becomes a time_t without timegm. */
static long long days_from_civil(long long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long long)doe - 719468;
}

const char *pm_time_in_zone(const char *utc_iso, const char *tz, char *buf, size_t size) {
  int Y, M, D, h, m, s;
  snprintf(buf, size, "%s", utc_iso ? utc_iso : "");
  if (!utc_iso || sscanf(utc_iso, "%d-%d-%dT%d:%d:%dZ", &Y, &M, &D, &h, &m, &s) != 6) return buf;
  time_t t = (time_t)(days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400LL + h * 3600 + m * 60 + s);
  /* localtime_r reads TZ: set it for the call and put the process's back (the CLI is the only
   * caller on its thread; this runs once per page, not per feature). */
  char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
  setenv("TZ", tz && pm_timezone_valid(tz) ? tz : "UTC", 1);
  tzset();
  struct tm lt;
  int ok = localtime_r(&t, &lt) != NULL;
  if (saved) setenv("TZ", saved, 1);
  else unsetenv("TZ");
  tzset();
  free(saved);
  if (!ok) return buf;
  long off = lt.tm_gmtoff;
  snprintf(buf, size, "%04d-%02d-%02d %02d:%02d %c%02ld:%02ld", lt.tm_year + 1900, lt.tm_mon + 1,
           lt.tm_mday, lt.tm_hour, lt.tm_min, off < 0 ? '-' : '+', labs(off) / 3600,
           labs(off) % 3600 / 60);
  return buf;
}
