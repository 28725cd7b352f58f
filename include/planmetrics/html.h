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
 * The header gives the run's time in the plan's time zone with its offset (pm_run_result.timezone;
 * UTC for runs that did not record one). Per indicator with data: the title and id, the plan's
 * note, a bar chart of the value per district against the target (green met, red missed, blue
 * without a target, grey no value with the reason listed under the chart), the rule "a target is
 * met only if every district meets it" where `_all` meets the target and a district does not, a
 * map, a legend, the gap list (worst first, the first 50 rows, then "N more") and, when the history
 * holds at least two runs of the plan up to this one, a small line chart of the value across runs
 * per district. The indicators without data follow in one short table (title, target, the missing
 * layer), then the Sources: each input layer of the run (pm_runs.input_hashes) with its file, the
 * time it was ingested, its feature count and source CRS from the `layers` table (marked when it
 * was ingested again from other files since the run) and its licence: the plan's `attribution:`
 * as the run recorded it, and "© OpenStreetMap contributors, ODbL" for OpenStreetMap data (also on
 * every map and in the footer).
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
 * Under the details, a base map from the project's own layers (nothing is fetched): water, parks
 * and roads where a layer looks like them (OSM attributes highway/waterway/leisure/landuse/
 * natural/water, or the layer's name), and the outline of every district of the districts layer,
 * neighbours included (lines under 1.5 px are left out, and a kind of feature too dense for the
 * map's scale, such as the minor roads of a whole city, is left out whole and the map says so;
 * maps of the same area share one base map).
 * Stations and parks (coverage sources, counted features) are named from the details, each name
 * shown from the zoom at which it clears the others (failing stations first). Every map has a
 * north arrow (grid north of the project CRS) and a scale bar that follows the zoom.
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
