/* export.h: a recorded run as a QGIS-ready GeoPackage (styled layers) and QGIS project. */
#ifndef PLANMETRICS_EXPORT_H
#define PLANMETRICS_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "planmetrics/context.h"
#include "planmetrics/query.h"
#include "planmetrics/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What to export. Everything comes from the run recorded in the project database
 * (pm_history_load_run), never from a new computation. */
typedef struct pm_export_options {
  int64_t run_id;        /* the recorded run; 0: the latest */
  const char *gpkg_path; /* required: the GeoPackage to write (replaced atomically if it exists) */
  const char *qgs_path;  /* NULL: no project; a path ending in .qgz is a zipped project, any
                            other a plain .qgs XML project. Its layers point at gpkg_path (by a
                            relative path when both are on the same file system tree). */
} pm_export_options;

/* What an export wrote. Strings are owned by the report; release with pm_export_report_clear. */
typedef struct pm_export_report {
  int64_t run_id;             /* the run that was exported */
  char *plan;                 /* its plan id */
  size_t n_input_layers;      /* project layers copied */
  size_t n_result_layers;     /* <indicator>_<role> layers */
  size_t n_district_layers;   /* <indicator>_districts layers */
  size_t n_styles;            /* rows written to layer_styles */
  int64_t n_features;         /* features in all spatial layers */
  char *districts_layer;      /* the project layer the district polygons came from, or NULL */
  char *districts_field;      /* its name field, or NULL */
} pm_export_report;

/* Write the recorded run `opt->run_id` of the project as a GeoPackage in the project CRS:
 *   - every project layer (the `layers` table) with its attributes, under its own name;
 *   - per indicator and detail role, a layer `<indicator_id>_<role>` (district, id, name,
 *     covered, distance_m and `nearest` under a name saying what it is, e.g. nearest_stop);
 *   - per indicator with district results, `<indicator_id>_districts`: the district polygons
 *     with value, target, met, numerator, denominator, unit, n_gaps;
 *   - `run_results`, a table with every result row of the run (`_all` included);
 *   - `layer_styles`, the QGIS default style (QML) of every spatial layer;
 * and, with opt->qgs_path, a QGIS project showing all layers styled, zoomed to the plan area.
 * Files are written under a temporary name and renamed into place, so a failed export leaves
 * any earlier file untouched. rep (may be NULL) receives counts; clear it with
 * pm_export_report_clear. docs/export.md lists every layer and field. */
PM_API pm_status pm_export(pm_context *ctx, pm_store *store, const pm_export_options *opt,
                    pm_export_report *rep);

PM_API void pm_export_report_clear(pm_export_report *rep);

/* One query table (pm_query_reach, pm_query_route...) as a GeoPackage layer. */
typedef struct pm_table_layer {
  const char *name;       /* the layer's name (made unique in the file: name, name_2...) */
  const char *title;      /* its description, or NULL */
  const pm_table *table;  /* the features: geometry from the column `wkt` (WKT in the project CRS;
                             a table without it is written as a plain table), every other column
                             a field typed as its cells (text, integer, real, boolean) */
  const char *style;      /* the QGIS style it gets, named as the detail roles of a run's export:
                             "reached" (graduated on distance_m, near dark to far light),
                             "service_area" (green fill), "route" (a walked path); NULL: plain */
} pm_table_layer;

/* Write tables as layers of a new GeoPackage in the project CRS (EPSG srid), each spatial layer
 * with its QGIS default style in layer_styles. The file is written under a temporary name and
 * renamed into place, so a failure leaves any earlier file untouched. */
PM_API pm_status pm_export_tables(pm_context *ctx, const char *gpkg_path, int srid,
                                  const pm_table_layer *layers, size_t n);

#ifdef __cplusplus
}
#endif
#endif
