/* report.h: writing a run's results as JSON, CSV, Markdown and a terminal summary. */
#ifndef PLANMETRICS_REPORT_H
#define PLANMETRICS_REPORT_H

#include <stdio.h>

#include "planmetrics/context.h"
#include "planmetrics/history.h"
#include "planmetrics/metrics.h"
#include "planmetrics/query.h"
#include "planmetrics/result.h"
#include "planmetrics/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* All writers borrow `run` and never change it. A file is written to a temporary file next to
 * `path` and renamed into place only when complete, so a failed write never leaves half a report
 * (and never destroys an earlier one); errors name the path. path "-" writes to stdout.
 *
 * Numbers in JSON and CSV: integers (|v| < 1e15) are printed without decimals, every other finite
 * number with up to 10 significant digits (printf "%.10g"), which hides floating-point noise such
 * as 20.000000000000004 while keeping centimetre precision for coordinates and distances. The
 * full double precision is kept in the run history (history.h). NAN and infinities are `null` in
 * JSON and empty in CSV. */

/* METRICS.md §4 JSON, extended compatibly:
 * {"plan", "title", "crs", "generated_at", "run_id" (null when not recorded), "plan_hash",
 *  "indicators": [{"id", "title", "metric", "unit", "status" ("computed"|"no data"|"manual"),
 *    "status_reason", "target_op", "target" (indicator target value or null),
 *    "results": [{"district", "value", "null_reason", "numerator", "denominator", "target",
 *                 "met", "n_gaps", "classes": [{"label", "count"}],
 *                 "gaps": [{"id", "name", "district", "distance_m", "shortfall", "nearest",
 *                           "note", "x", "y"}]}]}]}
 * value is null (with null_reason) when the result has no value; numerator/denominator are null
 * where they do not apply; target and met are null without a target; met is null when the value
 * is null. An indicator without data (status "no data") has no gap count: its results' n_gaps and
 * gaps are null (0 and [] would read "nothing missing"). generated_at stays UTC (the other
 * writers show times in the run's time zone). Strings are UTF-8 with control characters escaped;
 * invalid UTF-8 bytes become U+FFFD. */
PM_API pm_status pm_report_write_json(pm_context *ctx, const pm_run_result *run, const char *path);

/* CSV (RFC 4180: fields with comma, quote, CR or LF are quoted, quotes doubled; CRLF line ends;
 * UTF-8 with a byte-order mark so that Excel shows Chinese correctly). One header row, then one
 * row per (indicator, district); an indicator without results (no data) gets one row with an
 * empty district. Columns:
 *   indicator_id, title, metric, unit, status, district, value, numerator, denominator,
 *   target_op, target, met, n_gaps, worst_gaps, null_reason
 * met is "true"/"false"/empty. worst_gaps lists the first 5 gaps (worst first) as
 * "id (name): 87.4 m" separated by "; ", followed by "; ... and N more" when there are more.
 * null_reason is the result's null reason, or the indicator's status reason. n_gaps is empty for
 * an indicator without data (not measured, so no count). */
PM_API pm_status pm_report_write_csv(pm_context *ctx, const pm_run_result *run, const char *path);

/* Markdown: a heading with the plan title and id, CRS, time (in the run's time zone, with its
 * offset) and run; per indicator a table (District | Value | Numerator | Denominator | Target |
 * Met), the rule "a target is met only if every district meets it" where `_all` meets the target
 * but a district does not, class counts when present, and
 * the gap list per district (worst first, the first 20, then "... and N more"). When the
 * indicator has district results besides `_all`, the `_all` gap list is not repeated (it is the
 * districts' gaps combined). Values are rounded to 2 decimals for reading (more when needed so
 * that a missed target never displays as reached). */
PM_API pm_status pm_report_write_markdown(pm_context *ctx, const pm_run_result *run, const char *path);

/* Reports written together and put in place later: `run` writes its reports before it records
 * the run, and publishes them only once the run is committed, so a run that fails at the end
 * (a full disk, another process) leaves neither a report nor a recorded run.
 * - pm_report_files_add writes one report completely (to a temporary file beside path, synced;
 *   "-", a device or a FIFO into memory): a full disk fails here, before the run is recorded.
 * - pm_report_files_publish renames each over its path (or writes it in place), in order.
 * - pm_report_files_destroy removes what was not published. */
typedef enum pm_report_format { PM_REPORT_JSON, PM_REPORT_CSV, PM_REPORT_MARKDOWN } pm_report_format;
typedef struct pm_report_files pm_report_files;
PM_API pm_status pm_report_files_create(pm_context *ctx, pm_report_files **out);
PM_API pm_status pm_report_files_add(pm_report_files *files, pm_report_format format,
                                     const pm_run_result *run, const char *path);
PM_API pm_status pm_report_files_publish(pm_report_files *files);
PM_API void pm_report_files_destroy(pm_report_files *files);

/* A readable aligned table for the terminal (under the title, plan, CRS and the run's time in its
 * time zone): indicator, district, value, target, met (✓/✗), gaps, or "manual", with null reasons
 * and status reasons after the last column; then one line counting indicators whose target is met
 * (in every district and `_all`) and missed (somewhere), those without data and those reported by
 * hand; then the indicators without data, named in one (wrapped) line instead of a row each
 * ("19 indicators need layers this data set lacks (no data): a, b, ..."). Column widths count
 * East Asian wide characters (Chinese) as two columns. color != 0 adds ANSI colours (use it when
 * `out` is a terminal). */
PM_API pm_status pm_report_print_summary(pm_context *ctx, const pm_run_result *run, FILE *out, int color);

/* Helpers shared with the other report writers (HTML, history). */

/* Format a number as in JSON/CSV (see above) into buf (at least 32 bytes); "" for NAN/inf.
 * Returns buf. */
PM_API const char *pm_report_number(double v, char *buf, size_t size);
/* A value for people to read (summary, Markdown, history): rounded to 2 decimals with trailing
 * zeros removed, then the unit ("20%", "12.5 km", "4" for unit "count" or none). With a target
 * (op not NULL) more decimals are shown when rounding would make a missed target look reached or
 * the reverse ("99.996%" instead of "100%"). "" for NAN. Returns buf. */
PM_API const char *pm_report_format_value(double value, const char *unit, const char *op, double target,
                                   char *buf, size_t size);

/* --- The metric kinds (see metrics.h) --- */

/* The reference of every metric kind from the registry: its summary, unit, parameters (type,
 * default, what it is) and detail layers; markdown != 0 writes Markdown tables (the generated
 * part of docs/metrics.md), else plain text. PM_EIO when the stream reports an error. */
PM_API pm_status pm_report_write_metrics(FILE *out, int markdown);

/* --- The run history (see history.h) --- */

/* How many of the latest runs pm_history_print shows side by side. */
#define PM_HISTORY_PRINT_RUNS 6

/* What pm_history_print shows (all NULL/0: every plan's table). */
typedef struct pm_history_options {
  const char *plan_id;      /* one plan's runs, or NULL: every plan */
  const char *indicator_id; /* one indicator, shown even without data; NULL: every indicator
                               that had data in some run (the others are named under the table) */
  int json;                 /* JSON instead of the tables: {"runs": [...], "results": [...],
                               "left_out_without_data": [{"plan", "indicator_id"}]}, every run */
} pm_history_options;

/* Print the progress table of a plan (one table per plan): indicator, district, target, then one
 * column per run (the latest PM_HISTORY_PRINT_RUNS; header "#id YYYY-MM-DD HH:MM", finished at,
 * UTC) with the value and ✓ (met) or ✗ (missed); "—" where the run has no such result. opt may
 * be NULL. No recorded run, or an unknown indicator (the message lists the indicators), is
 * PM_ENOTFOUND. */
PM_API pm_status pm_history_print(pm_context *ctx, pm_store *store, const pm_history_options *opt,
                           FILE *out);

/* --- Ad-hoc query tables (see query.h) --- */

/* Writers. They return PM_EIO when the stream reports a write error (no message is recorded,
 * as there is no context: the caller names the output).
 * - pm_table_print: columns aligned by display width (numbers right-aligned), a rule under the
 *   header, "(no rows)" when there are none, then the summary line. Cells wider than 60 columns
 *   are cut with "…" and control characters shown as spaces (the JSON and CSV writers keep
 *   every byte).
 * - pm_table_write_json: an array of objects, one per row, keys the column names, then "\n".
 * - pm_table_write_json_row: row `row` alone as one such object (no line end).
 * - pm_table_write_csv: RFC 4180 (header row, CRLF line ends, fields with a comma, quote or line
 *   break quoted with doubled quotes). */
PM_API pm_status pm_table_print(const pm_table *t, FILE *out);
PM_API pm_status pm_table_write_json(const pm_table *t, FILE *out);
PM_API pm_status pm_table_write_json_row(const pm_table *t, size_t row, FILE *out);
PM_API pm_status pm_table_write_csv(const pm_table *t, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
