/* qgis_style.h: QGIS styles (QML) and QGIS projects for exported layers; private to report/. */
#ifndef PM_REPORT_QGIS_STYLE_H
#define PM_REPORT_QGIS_STYLE_H

#include <stddef.h>
#include <stdint.h>

#include "planmetrics/context.h"
#include "planmetrics/store.h"

/* Which family of style a layer gets. */
typedef enum pm_qgis_layer_class {
  PM_QGIS_INPUT = 0,    /* a project layer: neutral colours */
  PM_QGIS_RESULT = 1,   /* a detail layer <indicator>_<role> */
  PM_QGIS_DISTRICTS = 2 /* <indicator>_districts: graded by value against the target */
} pm_qgis_layer_class;

/* One spatial layer of the GeoPackage as the style and project writers see it. All strings are
 * borrowed from the exporter. */
typedef struct pm_qgis_layer {
  const char *name;        /* table name in the GeoPackage (also the layer name in QGIS) */
  const char *group;       /* layer-tree group: the indicator id, or NULL for input layers */
  const char *group_title; /* the indicator title shown with the group, or NULL */
  pm_qgis_layer_class cls;
  pm_geom_kind kind;       /* point, line or polygon */
  const char *wkb_name;    /* QGIS wkbType: "Point", "MultiLineString", "MultiPolygon" ... */
  const char *metric;      /* the indicator's metric kind for PM_QGIS_RESULT, else NULL */
  const char *role;        /* detail role for PM_QGIS_RESULT, else NULL */
  int has_covered;         /* the layer has 0/1 values in `covered` */
  int walked;              /* its lines are walked paths along the network (distance: network) */
  const char *unit;        /* the indicator's unit (districts), or NULL */
  int has_target;          /* districts: the indicator has a target */
  const char *target_op;   /* ">=", ... when has_target */
  double target;
  double value_min, value_max; /* districts: the range of values; role "reached": of distance_m
                                  (NAN when none) */
  int is_district_input;   /* an input layer that provided the district polygons */
  int64_t n_features;
  int has_extent;
  double minx, miny, maxx, maxy;
} pm_qgis_layer;

/* The renderer and labelling of a layer as the inside of a QML document (<renderer-v2> ...,
 * <labeling>, <blendMode> ...), shared by the QML and the project. Caller frees *out. */
pm_status pm_qgis_layer_style_body(pm_context *ctx, const pm_qgis_layer *l, char **out);
/* A complete QML style document for the layer (what QGIS stores in layer_styles.styleQML).
 * Caller frees *out. */
pm_status pm_qgis_layer_qml(pm_context *ctx, const pm_qgis_layer *l, char **out);
/* The renderer type the style uses ("categorizedSymbol", "singleSymbol", "RuleRenderer",
 * "graduatedSymbol"). Static string. */
const char *pm_qgis_renderer_type(const pm_qgis_layer *l);

/* Everything a QGIS project needs besides the layers. */
typedef struct pm_qgis_project {
  const char *title;      /* project title (the plan's) */
  const char *gpkg_path;  /* the final GeoPackage path (layers point at it) */
  int srid;               /* EPSG code of the project CRS */
  double minx, miny, maxx, maxy; /* initial view: the plan area */
} pm_qgis_project;

/* Write a QGIS 3 project showing the layers: points on top, then lines, then polygons, district
 * layers at the bottom; one group per indicator (the first switched on, the others off) and a
 * group of input layers (only the districts outline on). final_path is where the project will
 * live (layer paths are made relative to it; a name ending in .qgz means a zipped project);
 * the bytes go to write_path (a temporary file the caller renames to final_path). */
pm_status pm_qgis_write_project(pm_context *ctx, const pm_qgis_project *proj,
                                const pm_qgis_layer *layers, size_t n, const char *final_path,
                                const char *write_path);

#endif
