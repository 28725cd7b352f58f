/* driver.c: runs a fuzz target on given files and directories once each, without libFuzzer: the
 * regression test of every build (corpus and crashes kept in tests/fuzz/). Arguments starting
 * with '-' are libFuzzer's and ignored, so one command line serves both builds. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      cap = cap ? cap * 2 : 65536;
      uint8_t *nb = realloc(buf, cap);
      if (!nb) abort();
      buf = nb;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

static int cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  int failed = 0, n = 0;
  for (int i = 1; i < argc; i++) {
    if (argv[i][0] == '-') continue;
    struct stat sb;
    if (stat(argv[i], &sb) != 0) continue; /* a directory of crashes may not exist yet */
    if (!S_ISDIR(sb.st_mode)) {
      failed |= run_file(argv[i]);
      n++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    char **names = NULL;
    size_t k = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      size_t len = strlen(argv[i]) + strlen(e->d_name) + 2;
      char **more = realloc(names, (k + 1) * sizeof *names);
      if (!more || !(more[k] = malloc(len))) abort();
      names = more;
      snprintf(names[k++], len, "%s/%s", argv[i], e->d_name);
    }
    if (d) closedir(d);
    if (k) qsort(names, k, sizeof *names, cmp);
    for (size_t j = 0; j < k; j++) {
      failed |= run_file(names[j]);
      n++;
      free(names[j]);
    }
    free(names);
  }
  printf("%d inputs run\n", n);
  return failed || n == 0;
}
