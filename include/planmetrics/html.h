/* html.h: a self-contained HTML report of a recorded run: charts, maps, gap lists, history. */
#ifndef PLANMETRICS_HTML_H
#define PLANMETRICS_HTML_H

#include <stddef.h>

#include "planmetrics/context.h"
#include "planmetrics/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Write one HTML page for run `run_id` of the project's history (0: the latest run). Nothing is
 * recomputed: the values, gaps and detail geometries are those the run recorded
 * (pm_history_load_run). The page needs no network: CSS, SVG and a little JavaScript (map zoom and
 * pan, "show on map" from a gap row) are inline, fonts are the reader's own ("Noto Sans CJK SC",
 * "Microsoft YaHei", sans-serif).
 *
 * Per indicator: the title and id, a bar chart of the value per district against the target
 * (green met, red missed, blue without a target, grey no value with the reason listed under the
 * chart), a map, a legend, the gap list (worst first, the first 50 rows, then "N more") and, when
 * the history holds at least two runs of the plan up to this one, a small line chart of the value
 * across runs per district.
 *
 * Maps are inline SVG drawn from the recorded detail geometries (WKB in the project CRS), y flipped,
 * simplified to half a pixel (GEOSTopologyPreserveSimplify_r; district outlines to 0.1 px) and
 * written with coordinates rounded to 0.01 px, repeated points dropped. A map shows the
 * indicator's districts that hold some of its geometry (all its districts when none does); buttons
 * zoom to each district. Failing features are drawn first and always (up to 400,000 coordinates);
 * passing and neutral ones stop at 150,000 coordinates and the map's note says how many were left
 * out. Features have hover titles (name, id, district, distance, nearest) when the indicator has
 * at most 4,000 details. What is drawn:
 *   transfer_coverage: stations (green covered / red not) with a circle of the threshold distance,
 *     the segment to the nearest bus stop, route pairs (basis route), stops (basis stop);
 *   coverage: service areas (green), uncovered land (red), sources, ignored sources (grey);
 *   length / area_share: the measured lines or polygons; line_coverage: covered / uncovered lines;
 *   count: the counted features' points.
 * The threshold of transfer_coverage is not stored with the run: it is read from the plan file the
 * run recorded (pm_runs.plan_path, as given or relative to the database's directory) when that file
 * still has the recorded SHA-256; otherwise it is 50 m (the METRICS.md default) when that agrees
 * with the recorded distances (every covered station within, every uncovered one beyond), else the
 * largest distance of a covered station; the legend says which.
 *
 * District outlines are read from the project database: the plan's districts layer and name field
 * (when the plan file is found as above), else the layer `districts` with a field NAME or name,
 * else the first polygon layer with a text field holding the result's district names. Without any
 * (a plan without districts) the map shows the details only.
 *
 * path "-" writes to standard output; otherwise the page is written to a temporary file next to
 * path and renamed into place when complete. store is borrowed; errors are in its context. */
pm_status pm_html_write_report(pm_store *store, int64_t run_id, const char *path);

/* --- pieces, public for tests --- */

/* How map coordinates become SVG pixels: px = (x - minx) * scale, py = (maxy - y) * scale (SVG's y
 * grows downwards), so (minx, maxy) is the top-left corner and (maxx, miny) the bottom-right one. */
typedef struct pm_html_view {
  double minx, miny, maxx, maxy; /* the extent shown (the whole SVG), in map units (metres) */
  double scale;                  /* pixels per map unit */
  double width_px, height_px;    /* the SVG's size (viewBox 0 0 width height) */
} pm_html_view;

/* Fit the extent into a map width_px wide and at most max_height_px high with at least pad_px of
 * margin on every side, keeping the aspect ratio and centring the extent. The map is width_px wide;
 * its height is that of the scaled extent plus the margins, at most max_height_px; out->minx..maxy
 * is then the (larger) extent the whole map shows. An extent smaller than 1 m both ways (one point)
 * is widened to 1 km around its centre. width_px and max_height_px must exceed 2 * pad_px
 * (PM_EINPUT otherwise, and for non-finite numbers or an inverted extent). */
pm_status pm_html_view_fit(pm_context *ctx, double minx, double miny, double maxx, double maxy,
                           double width_px, double max_height_px, double pad_px,
                           pm_html_view *out);
/* Map coordinates to SVG pixels. */
void pm_html_view_apply(const pm_html_view *v, double x, double y, double *px, double *py);

/* Escape UTF-8 text for HTML (element content and quoted attribute values): & < > " ' become
 * entities, control characters other than tab, LF and CR are dropped, invalid UTF-8 bytes become
 * U+FFFD. text NULL gives "". The caller frees *out. */
pm_status pm_html_escape(pm_context *ctx, const char *text, char **out);

/* The SVG path data ("M12.3 45.6l1-2 ...z") of a WKB geometry under view v: points become "Mx yh0"
 * (drawn as dots with a round line cap), lines "M...l...", polygon rings close with "z". Lines and
 * polygons are first simplified with a tolerance of simplify_px pixels (0: not at all);
 * coordinates are rounded to 0.1 px and repeated points dropped. *n_points (may be NULL) receives
 * the number of coordinates written. An empty geometry gives "". The caller frees *out. */
pm_status pm_html_svg_path(pm_context *ctx, const pm_html_view *v, const unsigned char *wkb,
                           size_t wkb_len, double simplify_px, char **out, size_t *n_points);

#ifdef __cplusplus
}
#endif
#endif
