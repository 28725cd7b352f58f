/* plan.h: plan files (YAML, METRICS.md §3): layers to ingest, districts in scope, indicators. */
#ifndef PLANMETRICS_PLAN_H
#define PLANMETRICS_PLAN_H

#include "planmetrics/context.h"
#include "planmetrics/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A layer the plan ingests. path is resolved relative to the plan file's directory. */
typedef struct pm_plan_layer {
  char *name;
  char *path;
  char *encoding;
  char *src_crs;
  char *x, *y;
  char *source_layer;
  char *where;
  char *label_field;  /* field used as display name in gap lists (default name/NAME) */
  int optional;       /* a missing file makes its indicators `no data` instead of an error */
  char *attribution;  /* `attribution:` the data's source and licence as reports credit it, or NULL
                       * (OpenStreetMap data is credited without it) */
  int line;
} pm_plan_layer;

typedef struct pm_plan {
  char *path;          /* the plan file as given */
  char *dir;           /* its directory */
  char *hash;          /* SHA-256 of the plan file, hex */
  char *id;            /* `plan:` */
  char *title;
  char *crs;           /* "auto" or "EPSG:nnnn" */
  char *timezone;      /* `timezone:` (tz database name) for times in reports; NULL: this machine's */
  char *db;            /* project database path: `db:` resolved, default <dir>/<id>.sqlite */
  char *districts_layer;      /* NULL: no districts (only `_all`) */
  char *districts_name_field; /* default NAME */
  char **districts_only;
  size_t n_districts_only;
  pm_plan_layer *layers;
  size_t n_layers;
  pm_indicator_spec *indicators;
  size_t n_indicators;
  pm_network_spec network;    /* `network:` (layer NULL: none); copied into every indicator with
                               * distance: network that gives no network of its own */
} pm_plan;

/* Parse and validate a plan file. Unknown keys, wrong types, missing required keys, duplicate ids,
 * undeclared layers are PM_EINPUT errors naming the file and line. Caller frees with pm_plan_destroy.
 * What a plan may hold is bounded, so that no plan can make planmetrics hang or misreport:
 * - the file at most PM_PLAN_MAX_BYTES, lists and mappings nested at most PM_PLAN_MAX_DEPTH deep;
 * - every number in range: distances 0 .. PM_MAX_DIST_M, areas 0 .. PM_MAX_AREA_M2 (also in
 *   coverage classes), targets finite, a share in % between 0 and 100, any other target at most
 *   PM_PLAN_MAX_TARGET in size; no NaN or infinity (but max_area_m2: .inf);
 * - `where:` filters one condition on the layer's fields (no ';', comments, subqueries);
 * - two layers whose names differ only in case are one layer: refused, naming both lines. */
#define PM_PLAN_MAX_BYTES (1024 * 1024)
#define PM_PLAN_MAX_DEPTH 32
#define PM_PLAN_MAX_TARGET 1e15
PM_API pm_status pm_plan_load(pm_context *ctx, const char *path, pm_plan **out);
PM_API void pm_plan_destroy(pm_plan *plan);

/* The declared layer of that name, or NULL. Borrowed. */
PM_API const pm_plan_layer *pm_plan_find_layer(const pm_plan *plan, const char *name);

#ifdef __cplusplus
}
#endif
#endif
