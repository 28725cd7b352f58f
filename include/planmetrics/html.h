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
 * Everything comes from the recorded run: the parameters of each indicator (the transfer
 * threshold of the legends, the notes) as the run recorded them (pm_indicator_result.params), the
 * district outlines from the districts layer and name field the run recorded. No plan file is
 * read, so the page is the same when the plan has been moved, edited or deleted. A run recorded by
 * planmetrics 0.1 has neither: the legends then use the registry's default threshold and the maps
 * have no outlines, and a notice says to run the plan again.
 *
 * path "-" writes to standard output; otherwise the page is written to a temporary file next to
 * path and renamed into place when complete. store is borrowed; errors are in its context. */
PM_API pm_status pm_html_write_report(pm_store *store, int64_t run_id, const char *path);

#ifdef __cplusplus
}
#endif
#endif
