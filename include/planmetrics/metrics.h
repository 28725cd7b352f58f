/* metrics.h: indicator specs, the registry of metric kinds (METRICS.md §2), and the kinds' compute
 * functions, each on features already in memory. */
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

/* The walking network an indicator measures along (METRICS.md §5): the plan's `network:` block,
 * or the indicator's own. Numbers not given are NAN; the defaults (connect vertices, max_snap_m
 * 100, min_piece_m 200, access_width_m 50) are applied with the spec's. */
typedef struct pm_network_spec {
  pm_layer_ref layer;    /* the line layer and its filter (no filter on OSM data with a `highway`
                          * field: the walkable default of §5, applied when the layer is loaded) */
  char *connect;         /* "vertices" or "crossings" */
  double max_snap_m;     /* points farther from every edge are unroutable */
  double min_piece_m;    /* pieces of network shorter than this are islands, never snapped to */
  double access_width_m; /* the reached network is buffered by this (coverage) */
} pm_network_spec;

/* One facility type of a life circle: {name, layer, where, within_m}. */
typedef struct pm_facility_spec {
  char *name;         /* e.g. "school" (unique in the indicator) */
  pm_layer_ref layer; /* its features (points or polygons) and filter */
  double within_m;    /* a home is served by this type when one is within this distance */
} pm_facility_spec;

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

  char *distance;           /* transfer_coverage, coverage: "euclidean" (default) or "network" */
  pm_network_spec network;  /* with distance network: the walking network */
  pm_layer_ref source_entrances; /* coverage with distance network: entrance points of polygon
                                  * sources (layer NULL: boundary points every 20 m) */

  pm_layer_ref homes;       /* life_circle: residential polygons or points */
  pm_facility_spec *facilities; /* life_circle: the facility types */
  size_t n_facilities;
  char *require;            /* life_circle: "all" (default) or how many types, e.g. "4" */
  char *connect;            /* connectivity: "vertices" (default) or "crossings" */
} pm_indicator_spec;

/* Set every field to "not given": NULL strings, NAN numbers, no target, no classes. Frees
 * nothing. Prefer pm_indicator_spec_create, which also applies the metric's defaults. */
PM_API void pm_indicator_spec_init(pm_indicator_spec *spec);
/* Fill the defaults of the spec's metric from the registry (idempotent); an unknown metric is
 * PM_EINPUT. */
PM_API pm_status pm_indicator_spec_defaults(pm_context *ctx, pm_indicator_spec *spec);
/* A spec of metric `metric` with id `id` (may be NULL) and every default applied: the starting
 * point for a spec built in code. Clear it with pm_indicator_spec_clear. */
PM_API pm_status pm_indicator_spec_create(pm_context *ctx, pm_indicator_spec *spec, const char *metric,
                                   const char *id);
/* Set one parameter of the spec's metric from its text, as a plan file writes it ("50",
 * "station", "true", a layer name, ".inf"), with the same validation as the plan parser (range,
 * choices). key is a registry name: "threshold_m", "basis", "from", "from_where", ... Lists and
 * classes cannot be set this way. */
PM_API pm_status pm_indicator_spec_set(pm_context *ctx, pm_indicator_spec *spec, const char *key,
                                const char *value);
/* Free everything the spec owns and leave it as after pm_indicator_spec_init. */
PM_API void pm_indicator_spec_clear(pm_indicator_spec *spec);

/* The spec as canonical JSON: one object with every parameter of its metric in registry order,
 * defaults applied, absent ones as null; numbers printed so that they read back exactly. Two
 * specs that compute the same are the same text. The caller frees *out with free(). */
PM_API pm_status pm_indicator_spec_to_json(pm_context *ctx, const pm_indicator_spec *spec, char **out);
/* Read a spec back from pm_indicator_spec_to_json's text (spec is initialised first; on error
 * it is left cleared). The caller clears it with pm_indicator_spec_clear. */
PM_API pm_status pm_indicator_spec_from_json(pm_context *ctx, const char *json, pm_indicator_spec *spec);

/* --- The registry of metric kinds: one row per kind, read by the plan parser, the runner, the
 * writers and the docs (`planmetrics metrics`). --- */

typedef enum pm_param_type {
  PM_PARAM_ID,        /* the indicator id (letters, digits, '_') */
  PM_PARAM_METRIC,    /* the metric kind's name */
  PM_PARAM_TEXT,      /* non-empty text (char *) */
  PM_PARAM_UNIT,      /* text, may be empty (char *) */
  PM_PARAM_CHOICE,    /* one of pm_param.choices (char *) */
  PM_PARAM_TARGET,    /* {op, value, unit} (has_target, target_op, target_value) */
  PM_PARAM_REF,       /* a layer reference (pm_layer_ref): an input of the metric */
  PM_PARAM_WHERE,     /* the filter of the reference at the same offset */
  PM_PARAM_REFS,      /* one or more layer references (pm_layer_refs): inputs */
  PM_PARAM_DIST,      /* metres, 0 .. PM_MAX_DIST_M (double) */
  PM_PARAM_AREA,      /* square metres, 0 .. PM_MAX_AREA_M2 (double) */
  PM_PARAM_AREA_MAX,  /* square metres or .inf (double) */
  PM_PARAM_BOOL,      /* true/false (int) */
  PM_PARAM_NUMBER,    /* any finite number or null (has_manual_value, manual_value) */
  PM_PARAM_CLASSES,   /* coverage service-radius classes (classes, n_classes) */
  PM_PARAM_NETWORK,   /* a walking network (pm_network_spec): an input, built into a graph */
  PM_PARAM_FACILITIES /* life circle facility types (facilities, n_facilities): inputs, one layer
                       * each */
} pm_param_type;

/* Distances and areas beyond these are refused as typing errors: 1,000 km is farther than any
 * plan measures; 1,000,000 km2 is larger than any province. */
#define PM_MAX_DIST_M 1e6
#define PM_MAX_AREA_M2 1e12

enum {
  PM_PARAM_REQUIRED = 1 /* the plan must give it */
};

typedef struct pm_param {
  const char *name;      /* the plan key */
  pm_param_type type;
  size_t offset;         /* the field in pm_indicator_spec */
  unsigned flags;
  const char *dflt;      /* default as a plan writes it; NULL: none (the parameter is optional) */
  const char *choices;   /* PM_PARAM_CHOICE: "station|route|stop" */
  const char *attr_of;   /* a field-name parameter: the input (a REF parameter's name) whose layer
                          * carries that field; the runner loads it with the layer */
  const char *needs;     /* another parameter this one cannot go without */
  const char *help;      /* what it is, one line (docs, and "needs key X: <help>") */
} pm_param;

/* How maps and QGIS styles draw a detail feature of a role. */
typedef enum pm_role_style {
  PM_ROLE_VERDICT,  /* pass/fail by pm_detail.covered (stations, segments) */
  PM_ROLE_STOP,     /* a candidate target (bus stops), pass/fail by distance */
  PM_ROLE_PAIR,     /* a station-route pair's segment */
  PM_ROLE_PASS,     /* always what passes (service areas, covered parts) */
  PM_ROLE_FAIL,     /* always what fails (uncovered parts) */
  PM_ROLE_SOURCE,   /* a source (park) that serves */
  PM_ROLE_IGNORED,  /* a source left out (below the smallest class) */
  PM_ROLE_MEASURED, /* what is measured or counted */
  PM_ROLE_REACHED,  /* the walking network reached, graded by pm_detail.distance_m (walked) */
  PM_ROLE_ROUTE     /* a walk along the network (query route) */
} pm_role_style;

/* A role of the detail features a metric writes (pm_detail.role), for export layers and maps. */
typedef struct pm_detail_role {
  const char *role;     /* "station", "service_area", ... */
  pm_role_style style;
  const char *nearest;  /* name of the export field holding pm_detail.nearest */
  int by_covered;       /* its `covered` is a verdict: QGIS colours it pass/fail */
} pm_detail_role;

/* A metric's inputs, one slot per parameter of the kind (in pm_metric_kind.params order): for a
 * REF parameter v[0] (n = 1, or n = 0 when the plan does not name the layer), for REFS one per
 * reference, for FACILITIES one per facility type; for the NETWORK parameter of a spec with distance network, `net` (else NULL); other
 * parameters n = 0. Borrowed. */
typedef struct pm_metric_input {
  const pm_features *const *v;
  size_t n;
  const struct pm_network *net;
} pm_metric_input;

typedef pm_status (*pm_metric_fn)(pm_context *ctx, const pm_indicator_spec *spec,
                                  const pm_metric_input *in, const pm_districts *d,
                                  pm_indicator_result *out);

typedef struct pm_metric_kind {
  const char *name;
  const char *summary;            /* one line, for docs and `planmetrics metrics` */
  const pm_param *params;         /* the kind's own parameters (pm_metric_common_params() come first) */
  size_t n_params;
  const char *const *units;       /* units it reports in, the default first, NULL-terminated;
                                   * NULL: any (manual figures) */
  const char *shortfall;          /* what a gap's shortfall measures, e.g. "uncovered (km)"; NULL:
                                   * the indicator's unit away from the target */
  const pm_detail_role *roles;
  size_t n_roles;
  pm_metric_fn compute;
  /* Optional hooks for what a table cannot say. `defaults` completes defaults after the table's
   * (e.g. class labels); `check` returns the key at fault with a message in msg (NULL: fine);
   * `wide` says whether the metric shares its own work among threads (it then runs alone). */
  pm_status (*defaults)(pm_context *ctx, pm_indicator_spec *spec);
  const char *(*check)(const pm_indicator_spec *spec, char *msg, size_t size);
  int (*wide)(const pm_indicator_spec *spec, const pm_metric_input *in);
  /* The units this spec reports in when they depend on its parameters (length with share_of
   * reports "%"); NULL: `units`. */
  const char *const *(*units_of)(const pm_indicator_spec *spec);
} pm_metric_kind;

/* Every kind, in docs order; *n receives the count. Static, never freed. */
PM_API const pm_metric_kind *const *pm_metric_kinds(size_t *n);
/* The kind of that name, or NULL. */
PM_API const pm_metric_kind *pm_metric_kind_find(const char *name);
/* The parameters every kind has (id, title, metric, unit, note, target). */
PM_API const pm_param *pm_metric_common_params(size_t *n);
/* The parameter `name` of kind k (common ones included), or NULL. */
PM_API const pm_param *pm_metric_param(const pm_metric_kind *k, const char *name);
/* The role `role` of the kind named metric, or NULL (unknown kind or role). */
PM_API const pm_detail_role *pm_metric_role(const char *metric, const char *role);
/* How a layer of a query's tables is drawn, by the style its writer names (pm_table_layer.style:
 * "reached", "service_area", "route"), or NULL (plain). */
PM_API const pm_detail_role *pm_query_role(const char *style);
/* The units a spec of kind k reports in (NULL-terminated, the default first; NULL: any unit). */
PM_API const char *const *pm_metric_units(const pm_metric_kind *k, const pm_indicator_spec *spec);
/* Why value v is out of range for parameter p (a static sentence such as "must be >= 0"), or NULL
 * when it is acceptable. */
PM_API const char *pm_metric_param_range(const pm_param *p, double v);

/* Compute an indicator with its kind's function: one result per district of d, then `_all`.
 * in[] as pm_metric_input says. out must be zeroed; clear it with pm_indicator_result_clear. */
PM_API pm_status pm_metric_compute(pm_context *ctx, const pm_indicator_spec *spec,
                            const pm_metric_input *in, const pm_districts *d,
                            pm_indicator_result *out);
/* An indicator that could not be measured (status PM_IND_NO_DATA): every slot null with reason. */
PM_API pm_status pm_metric_no_data(pm_context *ctx, const pm_indicator_spec *spec, const pm_districts *d,
                            const char *reason, pm_indicator_result *out);

/* Every metric function fills `out` (which the caller zeroed and later clears with
 * pm_indicator_result_clear): copies of spec id/title/metric/unit, one pm_result per district in
 * `d` then `_all` (in that order), gaps sorted worst first, details for export, and the target
 * applied. Inputs are borrowed. Distances are inclusive (d <= threshold). */

/* METRICS.md §2 transfer_coverage. entrances may be NULL. stops must carry attribute
 * spec->routes_field when spec->basis is "route"; entrances carry spec->entrance_station_field
 * when given. net: the walking network of distance: network (§5), NULL for straight lines. */
PM_API pm_status pm_transfer_coverage(pm_context *ctx, const pm_indicator_spec *spec,
                                      const pm_features *stations, const pm_features *stops,
                                      const pm_features *entrances, const struct pm_network *net,
                                      const pm_districts *d, pm_indicator_result *out);

/* §2 length. within[i]/near[i] are the selections of spec->within/near; share_of may be NULL. */
PM_API pm_status pm_length(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *lines,
                    const pm_features *const *within, size_t n_within,
                    const pm_features *const *near, size_t n_near, const pm_features *share_of,
                    const pm_districts *d, pm_indicator_result *out);

/* §2 coverage. population may be NULL (the district polygons are the denominator); it carries
 * attribute spec->weight_field when given. net: the walking network of distance: network (§5),
 * NULL for straight lines; entrances (may be NULL): entrance points of the polygon sources. */
PM_API pm_status pm_coverage(pm_context *ctx, const pm_indicator_spec *spec,
                             const pm_features *sources, const pm_features *population,
                             const pm_features *entrances, const struct pm_network *net,
                             const pm_districts *d, pm_indicator_result *out);

/* §2 area_share. of may be NULL (the district is the denominator). */
PM_API pm_status pm_area_share(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                        const pm_features *of, const pm_districts *d, pm_indicator_result *out);

/* §2 count. */
PM_API pm_status pm_count(pm_context *ctx, const pm_indicator_spec *spec, const pm_features *layer,
                   const pm_districts *d, pm_indicator_result *out);

/* §5 life_circle. facilities[t] holds the features of spec->facilities[t] (indexed with
 * pm_features_index when distances are straight); homes carry spec->weight_field when given. net:
 * the walking network (distance: network, the default), NULL with distance: euclidean. */
PM_API pm_status pm_life_circle(pm_context *ctx, const pm_indicator_spec *spec,
                                const pm_features *homes, const pm_features *const *facilities,
                                size_t n_facilities, const struct pm_network *net,
                                const pm_districts *d, pm_indicator_result *out);

/* §5 connectivity: lines are the slow-traffic network's selection (spec->connect joins them). */
PM_API pm_status pm_connectivity(pm_context *ctx, const pm_indicator_spec *spec,
                                 const pm_features *lines, const pm_districts *d,
                                 pm_indicator_result *out);

/* §2 line_coverage. by[i] are the selections of spec->by. */
PM_API pm_status pm_line_coverage(pm_context *ctx, const pm_indicator_spec *spec,
                           const pm_features *lines, const pm_features *const *by, size_t n_by,
                           const pm_districts *d, pm_indicator_result *out);

#ifdef __cplusplus
}
#endif
#endif
