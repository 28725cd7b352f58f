/* plan.h: plan files (YAML, METRICS.md §3): layers to ingest, districts in scope, indicators. */
#ifndef PLANMETRICS_PLAN_H
#define PLANMETRICS_PLAN_H

#include "planmetrics/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A layer and an optional filter, written `name` or `{layer: name, where: "..."}` in YAML. */
typedef struct pm_layer_ref {
  char *layer; /* NULL when absent */
  char *where; /* NULL when no filter */
} pm_layer_ref;

typedef struct pm_layer_refs {
  pm_layer_ref *v;
  size_t n;
} pm_layer_refs;

/* One service-radius class of the coverage metric; max_area_m2 is INFINITY when open. */
typedef struct pm_size_class {
  double min_area_m2;
  double max_area_m2;
  double radius_m;
  char *label; /* e.g. "pocket park"; generated when not given */
} pm_size_class;

/* One indicator. Parameters not given are NAN (numbers) or NULL (strings); the parser then fills
 * the defaults of METRICS.md through pm_indicator_spec_defaults. */
typedef struct pm_indicator_spec {
  char *id;
  char *title;
  char *metric;   /* transfer_coverage, length, coverage, area_share, count, line_coverage, manual */
  char *unit;     /* "%", "km", "m2", "ha", "count" ... */
  char *note;
  int line;       /* line of the indicator in the plan file (1-based), 0 when built in code */

  int has_target;
  char target_op[3];
  double target_value;

  pm_layer_ref layer;       /* length, area_share, count, line_coverage: the measured selection */
  pm_layer_ref from, to;    /* transfer_coverage: stations, stops */
  pm_layer_ref entrances;   /* transfer_coverage: station entrances (layer NULL: none) */
  pm_layer_refs within;     /* length: only parts inside the union of these */
  pm_layer_refs near;       /* length: only parts within near_m of the union of these */
  pm_layer_refs by;         /* line_coverage: what covers */
  pm_layer_ref share_of;    /* length: denominator selection (layer NULL: none) */
  pm_layer_ref of;          /* area_share: denominator (layer NULL: the district) */
  pm_layer_ref sources;     /* coverage: parks etc. */
  pm_layer_ref population;  /* coverage: denominator (layer NULL: the district polygon) */

  double threshold_m;       /* transfer_coverage, default 50 */
  double catchment_m;       /* transfer_coverage, default 300 */
  double near_m;            /* length with near */
  double within_m;          /* line_coverage */
  double radius_m;          /* coverage: radius for point sources / override for all */
  double min_area_m2;       /* count */
  double max_area_m2;       /* count */
  char *basis;              /* transfer_coverage: station (default), route, stop */
  char *routes_field;       /* transfer_coverage basis route */
  char *routes_sep;         /* default ";" */
  char *entrance_station_field; /* entrances: attribute naming the station (matches its label) */
  char *weight_field;       /* coverage: population weight */
  pm_size_class *classes;   /* coverage classes, defaults 400-10000 m2 -> 300 m, >= 10000 -> 500 m */
  size_t n_classes;
  int count_by_class;

  int has_manual_value;     /* manual: the reported value */
  double manual_value;
} pm_indicator_spec;

/* Set every field to "not given": NULL strings, NAN numbers, no target, no classes. Use it before
 * filling a spec by hand (a zeroed spec would read as threshold_m 0). Frees nothing. */
void pm_indicator_spec_init(pm_indicator_spec *spec);
/* Fill METRICS.md defaults for the spec's metric (idempotent). */
pm_status pm_indicator_spec_defaults(pm_context *ctx, pm_indicator_spec *spec);
/* Free everything the spec owns and leave it as after pm_indicator_spec_init. */
void pm_indicator_spec_clear(pm_indicator_spec *spec);

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
  int line;
} pm_plan_layer;

typedef struct pm_plan {
  char *path;          /* the plan file as given */
  char *dir;           /* its directory */
  char *hash;          /* SHA-256 of the plan file, hex */
  char *id;            /* `plan:` */
  char *title;
  char *crs;           /* "auto" or "EPSG:nnnn" */
  char *db;            /* project database path: `db:` resolved, default <dir>/<id>.sqlite */
  char *districts_layer;      /* NULL: no districts (only `_all`) */
  char *districts_name_field; /* default NAME */
  char **districts_only;
  size_t n_districts_only;
  pm_plan_layer *layers;
  size_t n_layers;
  pm_indicator_spec *indicators;
  size_t n_indicators;
} pm_plan;

/* Parse and validate a plan file. Unknown keys, wrong types, missing required keys, duplicate ids,
 * undeclared layers are PM_EINPUT errors naming the file and line. Caller frees with pm_plan_free. */
pm_status pm_plan_load(pm_context *ctx, const char *path, pm_plan **out);
void pm_plan_free(pm_plan *plan);

/* The declared layer of that name, or NULL. Borrowed. */
const pm_plan_layer *pm_plan_find_layer(const pm_plan *plan, const char *name);

#ifdef __cplusplus
}
#endif
#endif
