/* context.h: status codes, the per-thread context (GEOS, PROJ, messages) and progress reporting. */
#ifndef PLANMETRICS_CONTEXT_H
#define PLANMETRICS_CONTEXT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <geos_c.h>
#include <proj.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks what the library exports: it is built with hidden visibility, so only the functions
 * declared with PM_API in include/planmetrics/ are part of libplanmetrics.so. */
#define PM_API __attribute__((visibility("default")))

/* Every public function returns a pm_status. Negative values are errors; the human message
 * (file, feature, field, what to do) is kept in the context, see pm_context_message(). */
typedef enum pm_status {
  PM_OK = 0,
  PM_EINPUT = -1,    /* bad user input: a file, option, field, plan key or value */
  PM_EIO = -2,       /* a file could not be read or written */
  PM_ECRS = -3,      /* unknown or unusable coordinate reference system */
  PM_EGEOM = -4,     /* a geometry operation failed */
  PM_ENOMEM = -5,    /* out of memory */
  PM_EDB = -6,       /* the project database refused an operation */
  PM_ENOTFOUND = -7, /* a named layer, run, district or field does not exist */
  PM_EINTERNAL = -8, /* a bug in planmetrics: please report it */
  PM_EBUSY = -9,     /* the project database is in use by another planmetrics process (it waited
                        and gave up); nothing was changed: run again later */
  PM_EEXIST = -10    /* a new project's file was created by another process while this one was
                        building it: nothing of this command was written; open it and redo */
} pm_status;

/* Short name of a status ("input error", ...). Static string, never freed. */
PM_API const char *pm_status_name(pm_status st);

typedef struct pm_context pm_context;

/* Notices are things a user should hear that are not errors (repaired geometries, a detected
 * encoding). The callback receives a message valid only during the call. */
typedef void (*pm_notice_fn)(void *user, const char *message);

/* Progress of a long step. total is 0 when unknown; done == total marks the end of the step.
 * label is valid only during the call. */
typedef void (*pm_progress_fn)(void *user, const char *label, uint64_t done, uint64_t total);

/* Create a context: one GEOS handle, one PROJ context, an error slot. One context per thread;
 * two contexts never share state. The caller owns *out and frees it with pm_context_destroy. */
PM_API pm_status pm_context_create(pm_context **out);
PM_API void pm_context_destroy(pm_context *ctx);

/* Borrowed handles, valid until pm_context_destroy. */
PM_API GEOSContextHandle_t pm_context_geos(pm_context *ctx);
PM_API PJ_CONTEXT *pm_context_proj(pm_context *ctx);

/* Threads a computation called with this context may use (default 1; at most PM_MAX_THREADS).
 * A metric that splits its work starts threads - 1 helpers, each with its own context; the
 * results do not depend on the number. */
#define PM_MAX_THREADS 8
PM_API void pm_context_set_threads(pm_context *ctx, int threads);
PM_API int pm_context_threads(const pm_context *ctx);

/* Record an error message (printf format) and return st, so that callers can write
 * `return pm_error(ctx, PM_EINPUT, "%s: ...", path);`. Replaces any earlier message. */
PM_API pm_status pm_error(pm_context *ctx, pm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Prepend context to the current message ("districts.shp: " + message). Returns the status
 * of the current error (or PM_OK when there is none). */
PM_API pm_status pm_error_prefix(pm_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The last error message, or "" when there is none. Borrowed; valid until the next error. */
PM_API const char *pm_context_message(const pm_context *ctx);
PM_API pm_status pm_context_status(const pm_context *ctx);
PM_API void pm_context_clear_error(pm_context *ctx);

/* Notices and progress: both default to silence. */
PM_API void pm_context_set_notice(pm_context *ctx, pm_notice_fn fn, void *user);
PM_API void pm_notice(pm_context *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
PM_API void pm_context_set_progress(pm_context *ctx, pm_progress_fn fn, void *user);
/* Give a worker thread's context the notice printer of its parent (not progress: bars from
 * several threads would garble each other). The callback must be safe to call from threads. */
PM_API void pm_context_inherit_notice(pm_context *child, const pm_context *parent);
PM_API void pm_progress(pm_context *ctx, const char *label, uint64_t done, uint64_t total);

/* Whether name is a time zone of the tz database on this machine ("Asia/Shanghai", "UTC"). */
PM_API int pm_timezone_valid(const char *name);
/* This machine's time zone name (TZ, /etc/timezone or the /etc/localtime link), or "UTC" when it
 * cannot be told. Writes at most size bytes into buf and returns buf. */
PM_API const char *pm_timezone_local(char *buf, size_t size);
/* An ISO 8601 UTC time ("2026-01-01T08:00:00Z") shown in time zone tz (NULL: UTC) with its offset:
 * "2026-01-01 16:00 +08:00". The input unchanged when it cannot be read. Returns buf. */
PM_API const char *pm_time_in_zone(const char *utc_iso, const char *tz, char *buf, size_t size);

/* printf into a new heap string. The caller frees *out with free(). */
PM_API pm_status pm_asprintf(pm_context *ctx, char **out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* strdup that records PM_ENOMEM in ctx; s may be NULL (then *out is NULL). Caller frees. */
PM_API pm_status pm_strdup(pm_context *ctx, char **out, const char *s);

/* Current time as ISO 8601 UTC ("2026-01-01T00:00:00Z") into buf (at least 21 bytes). */
PM_API void pm_utc_now(char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
