/* sources.h: the input layers of a recorded run and their licences (internal to report/). */
#ifndef PM_REPORT_SOURCES_H
#define PM_REPORT_SOURCES_H

#include "planmetrics/result.h"
#include "planmetrics/store.h"

/* How OpenStreetMap data is credited: the ODbL asks for it wherever maps or results made from it
 * are shown. */
#define PM_OSM_CREDIT "© OpenStreetMap contributors, ODbL"

/* One input layer of a run. */
typedef struct pm__source {
  char *layer;         /* the layer's name, as the run recorded it */
  char *run_hash;      /* SHA-256 of its source file(s) when the run used it */
  pm_layer_info info;  /* its metadata now (the `layers` table); zeroed when !found */
  int found;           /* the layer is still in the project */
  int changed;         /* ingested again since the run, from other files (info is the new one) */
  int osm;             /* OpenStreetMap data */
  char *attribution;   /* the plan's `attribution:` as the run recorded it, or NULL */
} pm__source;

/* The layers run used (pm_runs.input_hashes, in the run's order) with their metadata and licence.
 * A run recorded without its inputs gives *n = 0. The caller frees with pm__sources_free. */
pm_status pm__run_sources(pm_store *store, const pm_run_result *run, pm__source **out, size_t *n);
void pm__sources_free(pm__source *v, size_t n);

/* Whether a project layer holds OpenStreetMap data: read from an OSM file (.osm, .pbf, .o5m...)
 * or carrying the columns GDAL's OSM driver writes (osm_id, osm_way_id). */
int pm__layer_is_osm(pm_store *store, const pm_layer_info *info);

#endif
