/* output.h: files the writers produce whole or not at all (internal to report/). */
#ifndef PM_REPORT_OUTPUT_H
#define PM_REPORT_OUTPUT_H

#include <stdio.h>

#include "planmetrics/context.h"

/* One output file. A regular file (or a new one) is written to a temporary file beside `path`
 * and renamed over it only when complete, so a failed write never leaves half a file and never
 * destroys an earlier one. "-" is standard output; a path that exists and is not a regular file
 * (a device such as /dev/null, a FIFO), or a link to an open descriptor (/dev/stdout, /dev/fd/N),
 * is written in place, never replaced; a symbolic link to a file is followed: the file is
 * replaced beside itself and the link kept. */
typedef struct pm__output {
  const char *path; /* borrowed from the caller */
  const char *what; /* "JSON report", "GeoPackage": for messages */
  char *tmp;        /* the temporary file, NULL when written in place */
  char *target;     /* the file renamed over when path is a symbolic link to it, else NULL */
  FILE *f;          /* the open stream (NULL for pm__output_reserve) */
  int in_place;     /* stdout or a non-regular file */
} pm__output;

/* Open the output for writing through o->f. */
pm_status pm__output_open(pm_context *ctx, pm__output *o, const char *path, const char *what);

/* Reserve a free temporary name beside path that keeps path's extension, for a library that
 * creates the file itself (GDAL picks its driver by the extension and refuses an existing file).
 * o->tmp is that name; the file does not exist. */
pm_status pm__output_reserve(pm_context *ctx, pm__output *o, const char *path, const char *what);

/* Finish the output. With st == PM_OK: flush, sync, close and rename the temporary file over
 * path; any failure is reported (naming the file) and leaves path untouched. With an error st:
 * remove the temporary file and return st. Always frees what o holds. */
pm_status pm__output_close(pm_context *ctx, pm__output *o, pm_status st);

/* Write a whole buffer to path through pm__output. */
pm_status pm__output_write_all(pm_context *ctx, const char *path, const char *what,
                               const char *data, size_t len);

#endif
