/* internal.h: helpers every module of the library shares; not installed, not part of the API. */
#ifndef PM_ENGINE_INTERNAL_H
#define PM_ENGINE_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "planmetrics/context.h"

#define PM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The last GEOS error text of this context ("" when none). Borrowed. */
const char *pm__context_geos_message(const pm_context *ctx);
/* The context's 2D WKB writer, made on first use and destroyed with the context (a context is
 * one thread's, so its writer is too); NULL when out of memory. Borrowed. */
GEOSWKBWriter *pm__context_wkb_writer(pm_context *ctx);

/* Whether results computed with this context keep their details (the features behind each value,
 * pm_indicator_result_add_detail*), which only the run history and what is made from it (export,
 * HTML) read: a run that records no history skips them (pm_run_options.skip_details), and with
 * them the geometry they would encode and hold. Threads of pm__parallel_for take their parent's
 * setting. Default: kept. */
void pm__context_set_details(pm_context *ctx, int keep);
int pm__context_keeps_details(const pm_context *ctx);

/* The notice printer currently set on ctx (fn NULL: silence), e.g. to put it back after holding
 * notices for a while. */
void pm__context_notice(const pm_context *ctx, pm_notice_fn *fn, void **user);

/* Growable array: ensure *arr has room for need elements of size elem (doubling). */
pm_status pm__grow(pm_context *ctx, void **arr, size_t *cap, size_t need, size_t elem);

/* qsort comparison of size_t values. */
int pm__cmp_size(const void *a, const void *b);

/* SHA-256 of the concatenated contents of the files (missing files are skipped when optional is
 * set for them, else an error naming the file). hex receives 64 hex digits and a NUL. */
pm_status pm__sha256_files(pm_context *ctx, const char *const *paths, const int *optional, size_t n,
                           char hex[65]);
/* The same without a context, for another thread: 1 on success, else 0 with err filled (err->path
 * borrows paths[i]); pm__hash_error_report turns err into the message pm__sha256_files gives. */
typedef enum { PM__HASH_OK, PM__HASH_NO_DIGEST, PM__HASH_OPEN, PM__HASH_READ } pm__hash_error_kind;
typedef struct pm__hash_error {
  pm__hash_error_kind kind;
  int errnum;
  const char *path;
} pm__hash_error;
int pm__sha256_files_raw(const char *const *paths, const int *optional, size_t n, char hex[65],
                         pm__hash_error *err);
pm_status pm__hash_error_report(pm_context *ctx, const pm__hash_error *err);
/* SHA-256 of a memory buffer. */
void pm__sha256_buffer(const void *data, size_t len, char hex[65]);

/* --- UTF-8 text (text.c) --- */

/* Decode one UTF-8 character at p: its length (1-4), or 0 when the bytes at p are not valid
 * UTF-8 (the caller then skips one byte). Never reads past a NUL. */
size_t pm__utf8_next(const unsigned char *p, uint32_t *cp);
/* Columns on a terminal of one character (0, 1 or 2; control characters 0). */
int pm__utf8_cp_width(uint32_t cp);
/* Columns on a terminal of a text: wide East Asian characters count 2, combining marks 0, an invalid
 * byte 1 (shown as a replacement character). NULL counts 0. */
size_t pm__utf8_width(const char *utf8);
/* s as a JSON string literal ("null" for NULL); invalid UTF-8 becomes U+FFFD, control
 * characters and U+2028/2029 are escaped. */
void pm__json_string(FILE *f, const char *s);

/* A decimal number as a planner writes it: [-+]digits[.digits][e[-+]digits] (no hex, no
 * "inf"/"nan", no spaces), or ".inf" when allow_inf. 1 and *out set when it is one, else 0. */
int pm__parse_decimal(const char *s, int allow_inf, double *out);

/* A row filter (a plan's or a command's `where`) must be one condition on a layer's fields, as
 * SQL or OGR SQL: no ';', no comments, balanced parentheses, quotes closed, no word that makes
 * it a query (SELECT, UNION, FROM, WITH, ...), at most PM_FILTER_MAX characters. It is pasted
 * into a WHERE clause, so this is what keeps it from reading or changing anything else. Returns 1
 * when it is one, else 0 with the reason in why ("the ')' at character 2 closes ..."). */
#define PM_FILTER_MAX 10000
int pm__filter_check(const char *expr, char *why, size_t size);

/* --- Threads (parallel.c) --- */

/* pm__parallel_for: tasks 0 .. n-1 shared among up to `threads` threads, the calling thread
 * included. Every thread has its own context (the caller's on the calling thread; a new one with
 * the caller's notice printer on the others) and makes its own state with setup (optional), freed
 * with teardown. Tasks must not depend on which thread runs them, so the caller's results are the
 * same for any number of threads. Returns the failure of the first failed task in task order, its
 * message copied into ctx; once a task fails, the tasks not yet started are skipped. */
typedef pm_status (*pm__task_setup)(pm_context *ctx, void *arg, void **state);
typedef pm_status (*pm__task_run)(pm_context *ctx, void *state, void *arg, size_t i);
typedef void (*pm__task_teardown)(pm_context *ctx, void *state, void *arg);
pm_status pm__parallel_for(pm_context *ctx, int threads, size_t n, pm__task_setup setup,
                           pm__task_run run, pm__task_teardown teardown, void *arg);

#endif
