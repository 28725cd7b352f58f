/* result.h: indicator results: value, numerator, denominator, target, gap list, detail features. */
#ifndef PLANMETRICS_RESULT_H
#define PLANMETRICS_RESULT_H

#include "planmetrics/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A place that misses the target: a station without a stop in reach, an uncovered residential
 * block, a district short of length. NAN marks a number that does not apply. */
typedef struct pm_gap {
  char *id;           /* "<layer>#<fid>" or a pair id such as "人民广场(地铁站)|20路" */
  char *name;         /* display name, or NULL */
  char *district;     /* district name, or NULL when outside every district */
  double distance_m;  /* measured distance to the nearest candidate (NAN: none / not applicable) */
  double shortfall;   /* how far from passing (NAN: not applicable): for a district missing its target,
                       * in the indicator's unit; coverage: uncovered m2 (or the feature's weight);
                       * line_coverage: uncovered km of the line; count: features missing */
  char *nearest;      /* the nearest candidate (stop, park...), or NULL */
  char *note;         /* extra explanation, or NULL */
  double x, y;        /* representative point in the project CRS (NAN when none) */
  double straight_m;  /* with distance: network, the straight-line distance to the same nearest
                       * candidate, beside the network distance in distance_m (NAN otherwise) */
  char *mem;          /* owns the strings above (one allocation, made by pm_result_add_gap) */
} pm_gap;

typedef struct pm_class_count {
  char *label;        /* e.g. "pocket park (400-10000 m2, 300 m)" */
  int64_t count;
} pm_class_count;

/* life_circle: the share served by one facility type. */
typedef struct pm_facility_share {
  char *name;
  int has_value;      /* 0: the denominator is empty */
  double value;       /* % */
  double numerator, denominator;
} pm_facility_share;

/* One district's (or `_all`'s) result. */
typedef struct pm_result {
  char *district;
  int has_value;      /* 0: value is null, null_reason says why */
  double value;
  char *null_reason;
  int has_ratio;      /* numerator/denominator apply (shares); counts and lengths set numerator */
  double numerator;
  double denominator;
  int has_target;
  double target;
  int met;            /* only meaningful when has_target and has_value */
  pm_gap *gaps;       /* sorted worst first by pm_result_sort_gaps */
  size_t n_gaps;
  pm_class_count *classes; /* count_by_class, else NULL */
  size_t n_classes;
  pm_facility_share *facilities; /* life_circle: per facility type, else NULL */
  size_t n_facilities;
} pm_result;

/* Geometry behind a result, for export layers and maps: stations with their distance, the
 * station-to-stop segments, service areas, uncovered features, measured line parts. */
typedef struct pm_detail {
  char *role;          /* "station", "segment", "stop", "service_area", "uncovered", "measured", ... */
  char *district;      /* NULL when not applicable */
  char *id;
  char *name;
  int covered;         /* 1 passes, 0 fails, -1 not applicable */
  double distance_m;   /* NAN when not applicable */
  char *nearest;
  unsigned char *wkb;  /* geometry in the project CRS (ISO WKB, 2D); owned */
  size_t wkb_len;
  char *mem;           /* owns the strings above (one allocation, made by
                        * pm_indicator_result_add_detail) */
} pm_detail;

typedef enum pm_indicator_status {
  PM_IND_COMPUTED = 0, /* measured from layers */
  PM_IND_NO_DATA = 1,  /* a layer it needs is missing from the data; status_reason names it */
  PM_IND_MANUAL = 2    /* a non-spatial figure reported by hand in the plan file */
} pm_indicator_status;

PM_API const char *pm_indicator_status_name(pm_indicator_status s); /* "computed", "no data", "manual" */

typedef struct pm_indicator_result {
  char *id;
  char *title;
  char *metric;
  char *unit;
  pm_indicator_status status;
  char *status_reason;
  int has_target;
  char target_op[3];   /* ">=", ">", "<=", "<", "==" */
  double target_value;
  pm_result *results;  /* one per district in scope, then `_all` */
  size_t n_results;
  pm_detail *details;
  size_t n_details;
  char *distance;      /* kinds that measure a distance: "euclidean" or "network"; else NULL */
  char *network;       /* with distance network: the network as measured, a JSON object (layer,
                        * where, connect, nodes, edges, components, largest_share, length_km,
                        * islands, unroutable: points farther than max_snap_m); else NULL */
  char *params;        /* the parameters it was computed with: canonical JSON of its resolved
                        * spec (pm_indicator_spec_to_json), NULL when not known (runs recorded
                        * by planmetrics 0.1) */
} pm_indicator_result;

typedef struct pm_run_result {
  int64_t run_id;      /* id in the run history, 0 when not recorded */
  char *plan;
  char *title;
  char *crs;           /* "EPSG:32651" */
  char *generated_at;  /* ISO 8601 UTC */
  char *timezone;      /* the time zone reports show times in (tz database name, e.g.
                        * "Asia/Shanghai"); NULL: UTC (runs recorded by planmetrics 0.1) */
  char *plan_hash;
  char *districts_layer;      /* the plan's districts layer and its name field, NULL without */
  char *districts_name_field; /* districts (or for runs recorded by planmetrics 0.1) */
  char *attributions;  /* the plan's `attribution:` of the run's layers as a JSON object
                        * {"layer": "text", ...} (layers in plan order); NULL when none gives one */
  pm_indicator_result *indicators;
  size_t n_indicators;
} pm_run_result;

/* Allocate n empty results named after the slots (names[i]); all owned by ir. */
PM_API pm_status pm_indicator_result_init_results(pm_context *ctx, pm_indicator_result *ir,
                                           const char *const *names, size_t n);
/* Append a gap (strings copied; any may be NULL). */
PM_API pm_status pm_result_add_gap(pm_context *ctx, pm_result *r, const char *id, const char *name,
                            const char *district, double distance_m, double shortfall,
                            const char *nearest, const char *note, double x, double y);
/* Append the share of a facility type (name copied); an empty denominator gives no value. */
PM_API pm_status pm_result_add_facility(pm_context *ctx, pm_result *r, const char *name,
                                        double numerator, double denominator);
/* Append a class count (label copied). */
PM_API pm_status pm_result_add_class(pm_context *ctx, pm_result *r, const char *label, int64_t count);
/* Append a detail (strings and WKB copied; wkb may be NULL). */
PM_API pm_status pm_indicator_result_add_detail(pm_context *ctx, pm_indicator_result *ir,
                                         const char *role, const char *district, const char *id,
                                         const char *name, int covered, double distance_m,
                                         const char *nearest, const unsigned char *wkb,
                                         size_t wkb_len);
/* Append a detail from a GEOS geometry (written as 2D WKB). */
PM_API pm_status pm_indicator_result_add_detail_geom(pm_context *ctx, pm_indicator_result *ir,
                                              const char *role, const char *district,
                                              const char *id, const char *name, int covered,
                                              double distance_m, const char *nearest,
                                              const GEOSGeometry *g);

/* Set value as numerator/denominator in % (has_ratio = 1); an empty denominator gives a null
 * value with null_reason (copied). */
PM_API pm_status pm_result_set_share(pm_context *ctx, pm_result *r, double numerator, double denominator,
                              const char *why_empty);
/* Sort gaps worst first: by shortfall descending, then distance descending (NAN last), then id. */
PM_API void pm_result_sort_gaps(pm_result *r);
/* Apply the indicator's target to every result with a value (sets has_target, target, met). */
PM_API void pm_indicator_result_apply_target(pm_indicator_result *ir);
/* Whether value satisfies `op target` (with a tolerance of 1e-9 relative for ==). */
PM_API int pm_target_met(const char *op, double target, double value);

/* Move src's gaps and class counts (slot by slot) and its details to the end of dst's, in order;
 * both must have the same slots. The moved strings and WKB belong to dst afterwards and src is
 * left without gaps, classes or details (its other fields untouched). On failure nothing moves. */
PM_API pm_status pm_indicator_result_append(pm_context *ctx, pm_indicator_result *dst,
                                     pm_indicator_result *src);

PM_API void pm_indicator_result_clear(pm_indicator_result *ir);
PM_API void pm_run_result_destroy(pm_run_result *run);

#ifdef __cplusplus
}
#endif
#endif
