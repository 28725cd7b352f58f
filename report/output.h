/* output.h: files the writers produce whole or not at all (internal to report/). */
#ifndef PM_REPORT_OUTPUT_H
#define PM_REPORT_OUTPUT_H

#include <stdio.h>

#include "planmetrics/context.h"
#include "planmetrics/report.h"

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
  char *buf;        /* staged in place: the content, written by pm__output_publish */
  size_t len;
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

/* Staged outputs: written now, put in place later (a run's reports appear only once the run is
 * recorded). pm__output_stage opens like pm__output_open, except that in-place outputs ("-", a
 * device, a FIFO) are written into memory; pm__output_staged closes it with the outcome st (on
 * success a regular file's temporary file is complete and synced, still under its temporary
 * name); pm__output_publish renames it over path (or writes the memory in place);
 * pm__output_discard removes what was staged. Each frees what o holds, except staged, which
 * keeps it for publish or discard. */
pm_status pm__output_stage(pm_context *ctx, pm__output *o, const char *path, const char *what);
pm_status pm__output_staged(pm_context *ctx, pm__output *o, pm_status st);
pm_status pm__output_publish(pm_context *ctx, pm__output *o);
void pm__output_discard(pm__output *o);

/* Write a whole buffer to path through pm__output. */
pm_status pm__output_write_all(pm_context *ctx, const char *path, const char *what,
                               const char *data, size_t len);

/* Write a run's report in the format to f (report.c). */
pm_status pm__report_render(pm_context *ctx, pm_report_format format, const pm_run_result *run,
                            FILE *f);

#endif
