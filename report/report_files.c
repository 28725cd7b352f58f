/* report_files.c: a run's reports written before the run is recorded, put in place after. */
#include <stdlib.h>

#include "engine/internal.h"
#include "planmetrics/report.h"
#include "report/output.h"

struct pm_report_files {
  pm_context *ctx;
  pm__output *v;
  size_t n, cap;
};

pm_status pm_report_files_create(pm_context *ctx, pm_report_files **out) {
  *out = calloc(1, sizeof **out);
  if (!*out) return pm_error(ctx, PM_ENOMEM, "out of memory");
  (*out)->ctx = ctx;
  return PM_OK;
}

static const char *const WHAT[] = {"JSON report", "CSV report", "Markdown report"};

pm_status pm_report_files_add(pm_report_files *files, pm_report_format format,
                              const pm_run_result *run, const char *path) {
  pm_context *ctx = files->ctx;
  if ((unsigned)format >= PM_ARRAY_LEN(WHAT))
    return pm_error(ctx, PM_EINTERNAL, "unknown report format %d", (int)format);
  pm_status st = pm__grow(ctx, (void **)&files->v, &files->cap, files->n + 1, sizeof *files->v);
  if (st) return st;
  pm__output *o = &files->v[files->n];
  if ((st = pm__output_stage(ctx, o, path, WHAT[format]))) return st;
  st = pm__output_staged(ctx, o, pm__report_render(ctx, format, run, o->f));
  if (!st) files->n++;
  return st;
}

pm_status pm_report_files_publish(pm_report_files *files) {
  pm_status st = PM_OK;
  size_t i = 0;
  for (; i < files->n && !st; i++) st = pm__output_publish(files->ctx, &files->v[i]);
  for (; i < files->n; i++) pm__output_discard(&files->v[i]);
  files->n = 0;
  return st;
}

void pm_report_files_destroy(pm_report_files *files) {
  if (!files) return;
  for (size_t i = 0; i < files->n; i++) pm__output_discard(&files->v[i]);
  free(files->v);
  free(files);
}
