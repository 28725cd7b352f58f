/* context.c: the per-thread context: GEOS handle, PROJ context, error slot, notices, progress. */
#include "planmetrics/context.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

struct pm_context {
  GEOSContextHandle_t geos;
  PJ_CONTEXT *proj;
  pm_status status;
  char *message;
  char geos_message[512];
  GEOSWKBWriter *wkb_writer; /* 2D, made on first use (pm__context_wkb_writer) */
  pm_notice_fn notice;
  void *notice_user;
  pm_progress_fn progress;
  void *progress_user;
  int threads;
  int skip_details; /* pm__context_set_details */
};

const char *pm_status_name(pm_status st) {
  switch (st) {
  case PM_OK: return "ok";
  case PM_EINPUT: return "input error";
  case PM_EIO: return "I/O error";
  case PM_ECRS: return "CRS error";
  case PM_EGEOM: return "geometry error";
  case PM_ENOMEM: return "out of memory";
  case PM_EDB: return "database error";
  case PM_ENOTFOUND: return "not found";
  case PM_EINTERNAL: return "internal error";
  case PM_EBUSY: return "in use by another process";
  case PM_EEXIST: return "created by another process";
  }
  return "unknown error";
}

/* GEOS reports through callbacks; keep its last message so a failed call can say why. */
static void geos_message_handler(const char *message, void *user) {
  pm_context *ctx = user;
  snprintf(ctx->geos_message, sizeof ctx->geos_message, "%s", message);
}

static void geos_notice_handler(const char *message, void *user) {
  (void)message;
  (void)user; /* GEOS notices (e.g. "Self-intersection at") are reported by our own validation */
}

pm_status pm_context_create(pm_context **out) {
  *out = NULL;
  pm_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx) return PM_ENOMEM;
  ctx->geos = GEOS_init_r();
  ctx->proj = proj_context_create();
  if (!ctx->geos || !ctx->proj) {
    pm_context_destroy(ctx);
    return PM_ENOMEM;
  }
  GEOSContext_setErrorMessageHandler_r(ctx->geos, geos_message_handler, ctx);
  GEOSContext_setNoticeMessageHandler_r(ctx->geos, geos_notice_handler, ctx);
  proj_log_level(ctx->proj, PJ_LOG_NONE);
  ctx->threads = 1;
  *out = ctx;
  return PM_OK;
}

void pm_context_destroy(pm_context *ctx) {
  if (!ctx) return;
  if (ctx->wkb_writer) GEOSWKBWriter_destroy_r(ctx->geos, ctx->wkb_writer);
  if (ctx->geos) GEOS_finish_r(ctx->geos);
  if (ctx->proj) proj_context_destroy(ctx->proj);
  free(ctx->message);
  free(ctx);
}

GEOSContextHandle_t pm_context_geos(pm_context *ctx) { return ctx->geos; }

GEOSWKBWriter *pm__context_wkb_writer(pm_context *ctx) {
  if (!ctx->wkb_writer && (ctx->wkb_writer = GEOSWKBWriter_create_r(ctx->geos)))
    GEOSWKBWriter_setOutputDimension_r(ctx->geos, ctx->wkb_writer, 2);
  return ctx->wkb_writer;
}
PJ_CONTEXT *pm_context_proj(pm_context *ctx) { return ctx->proj; }

void pm_context_set_threads(pm_context *ctx, int threads) {
  ctx->threads = threads < 1 ? 1 : threads > PM_MAX_THREADS ? PM_MAX_THREADS : threads;
}

int pm_context_threads(const pm_context *ctx) { return ctx->threads; }

static char *vformat(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0) return NULL;
  char *s = malloc((size_t)n + 1);
  if (s) vsnprintf(s, (size_t)n + 1, fmt, ap);
  return s;
}

pm_status pm_error(pm_context *ctx, pm_status st, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *m = vformat(fmt, ap);
  va_end(ap);
  free(ctx->message);
  ctx->message = m;
  ctx->status = st;
  return st;
}

pm_status pm_error_prefix(pm_context *ctx, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *p = vformat(fmt, ap);
  va_end(ap);
  if (!p) return ctx->status;
  const char *old = ctx->message ? ctx->message : "";
  size_t n = strlen(p) + strlen(old) + 1;
  char *m = malloc(n);
  if (m) {
    snprintf(m, n, "%s%s", p, old);
    free(ctx->message);
    ctx->message = m;
  }
  free(p);
  return ctx->status;
}

const char *pm_context_message(const pm_context *ctx) {
  if (ctx->message) return ctx->message;
  return ctx->status == PM_OK ? "" : pm_status_name(ctx->status);
}

pm_status pm_context_status(const pm_context *ctx) { return ctx->status; }

void pm_context_clear_error(pm_context *ctx) {
  free(ctx->message);
  ctx->message = NULL;
  ctx->status = PM_OK;
  ctx->geos_message[0] = '\0';
}

void pm_context_set_notice(pm_context *ctx, pm_notice_fn fn, void *user) {
  ctx->notice = fn;
  ctx->notice_user = user;
}

void pm__context_notice(const pm_context *ctx, pm_notice_fn *fn, void **user) {
  *fn = ctx->notice;
  *user = ctx->notice_user;
}

void pm_notice(pm_context *ctx, const char *fmt, ...) {
  if (!ctx->notice) return;
  va_list ap;
  va_start(ap, fmt);
  char *m = vformat(fmt, ap);
  va_end(ap);
  if (m) ctx->notice(ctx->notice_user, m);
  free(m);
}

void pm_context_inherit_notice(pm_context *child, const pm_context *parent) {
  child->notice = parent->notice;
  child->notice_user = parent->notice_user;
}

void pm__context_set_details(pm_context *ctx, int keep) { ctx->skip_details = !keep; }

int pm__context_keeps_details(const pm_context *ctx) { return !ctx->skip_details; }

void pm_context_set_progress(pm_context *ctx, pm_progress_fn fn, void *user) {
  ctx->progress = fn;
  ctx->progress_user = user;
}

void pm_progress(pm_context *ctx, const char *label, uint64_t done, uint64_t total) {
  if (ctx->progress) ctx->progress(ctx->progress_user, label, done, total);
}

pm_status pm_asprintf(pm_context *ctx, char **out, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  *out = vformat(fmt, ap);
  va_end(ap);
  return *out ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
}

pm_status pm_strdup(pm_context *ctx, char **out, const char *s) {
  *out = NULL;
  if (!s) return PM_OK;
  *out = strdup(s);
  return *out ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
}

/* Internal: the last GEOS error text, for messages about failed geometry operations. */
const char *pm__context_geos_message(const pm_context *ctx) { return ctx->geos_message; }
