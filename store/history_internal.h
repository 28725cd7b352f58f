/* history_internal.h: what the run history's files share (history.c, details.c); internal. */
#ifndef PM_STORE_HISTORY_INTERNAL_H
#define PM_STORE_HISTORY_INTERNAL_H

#include <sqlite3.h>

#include "planmetrics/history.h"

/* Bind text (NULL: SQL NULL, copied) and a number (NAN: SQL NULL). */
void pm__bind_text(sqlite3_stmt *q, int i, const char *v);
void pm__bind_real(sqlite3_stmt *q, int i, double v);

/* The indicator of run with that id, or NULL; *hint caches the last match. */
pm_indicator_result *pm__history_find_indicator(pm_run_result *run, const char *id, size_t *hint);

/* Create the per-type detail geometry tables (pm_details_points, _lines, _polygons) in the
 * project CRS when they do not exist yet (inside the caller's transaction). */
pm_status pm__details_schema(pm_store *store, int srid);

/* Writes detail geometries into the per-type tables, split by dimension (a collection's parts go
 * to the table of their type). The tables' triggers are set aside from create to finish (a run
 * records up to millions of details: SpatiaLite's per-row R*Tree trigger parses an SQL statement
 * per row); finish adds the spatial index entries of the new rows in one statement per table and
 * puts the triggers back. Inside the caller's transaction: a failure before finish is undone by
 * its rollback, triggers included. */
typedef struct pm__details_writer pm__details_writer;
pm_status pm__details_writer_create(pm_store *store, int srid, pm__details_writer **out);
pm_status pm__details_writer_finish(pm__details_writer *w);
/* Write detail dt (position ord in indicator's details). *geom_type receives the geometry's type
 * as GEOS names it ("Point", "MultiPolygon", ...; NULL without geometry), to rebuild it exactly;
 * the caller frees it. */
pm_status pm__details_write(pm__details_writer *w, int64_t run_id, const char *indicator,
                            size_t ord, const pm_detail *dt, char **geom_type);
void pm__details_writer_destroy(pm__details_writer *w);

/* Give the details of a loaded run their geometries from the per-type tables, each rebuilt as the
 * type it was recorded with. Details recorded before these tables keep what they have. */
pm_status pm__details_load(pm_store *store, int64_t run_id, pm_run_result *run);

#endif
