/* metrics.h: the metric kinds of METRICS.md §2, each computed on features already in memory. */
#ifndef PLANMETRICS_METRICS_H
#define PLANMETRICS_METRICS_H

#include "planmetrics/context.h"
#include "planmetrics/districts.h"
#include "planmetrics/features.h"
#include "planmetrics/result.h"

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


/* Every metric function fills `out` (which the caller zeroed and later clears with
 * pm_indicator_result_clear): copies of spec id/title/metric/unit, one pm_result per district in
 * `d` then `_all` (in that order), gaps sorted worst first, details for export, and the target
 * applied. Inputs are borrowed. Distances are inclusive (d <= threshold). */

/* METRICS.md §2 transfer_coverage. entrances may be NULL. stops must carry attribute
 * spec->routes_field when spec->basis is "route"; entrances carry spec->entrance_station_field
 * when given. */
pm_status pm_transfer_coverage(pm_context *ctx, const pm_indicator_spec *spec,
                               const pm_features *stations, const pm_features *stops,
                               const pm_features *entrances, const pm_districts *d,
                               pm_indicator_result *out);

/* §2 length. within[i]/near[i] are the selections of spec->within/near; share_of may be NULL. */
pm_status pm_length(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *lines,
                    const pm_features *const *within, size_t n_within,
                    const pm_features *const *near, size_t n_near, const pm_features *share_of,
                    const pm_districts *d, pm_indicator_result *out);

/* §2 coverage. population may be NULL (the district polygons are the denominator); it carries
 * attribute spec->weight_field when given. */
pm_status pm_coverage(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *sources,
                      const pm_features *population, const pm_districts *d,
                      pm_indicator_result *out);

/* §2 area_share. of may be NULL (the district is the denominator). */
pm_status pm_area_share(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                        const pm_features *of, const pm_districts *d, pm_indicator_result *out);

/* §2 count. */
pm_status pm_count(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                   const pm_districts *d, pm_indicator_result *out);

/* §2 line_coverage. by[i] are the selections of spec->by. */
pm_status pm_line_coverage(pm_context *ctx, const pm_indicator_spec *spec,
                           const pm_features *lines, const pm_features *const *by, size_t n_by,
                           const pm_districts *d, pm_indicator_result *out);

#ifdef __cplusplus
}
#endif
#endif
