/* crs.h: the project's metric CRS, coordinate transformation (PROJ) and Chinese web-map
 * coordinates (GCJ-02, BD-09). */
#ifndef PLANMETRICS_CRS_H
#define PLANMETRICS_CRS_H

#include "planmetrics/context.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- Chinese web-map coordinates (published formulas; lon/lat in degrees) ---
 * GCJ-02 is WGS 84 with a deliberate offset (Amap/Gaode, Tencent); BD-09 is a further offset of
 * GCJ-02 (Baidu). Outside China the GCJ-02 offset is not applied (as the official formula). The
 * inverses iterate until the round trip is within 1e-9 degrees (about 0.1 mm). */
PM_API pm_status pm_gcj02_from_wgs84(double lon, double lat, double *out_lon, double *out_lat);
PM_API pm_status pm_wgs84_from_gcj02(double lon, double lat, double *out_lon, double *out_lat);
PM_API pm_status pm_bd09_from_gcj02(double lon, double lat, double *out_lon, double *out_lat);
PM_API pm_status pm_gcj02_from_bd09(double lon, double lat, double *out_lon, double *out_lat);
PM_API pm_status pm_bd09_from_wgs84(double lon, double lat, double *out_lon, double *out_lat);
PM_API pm_status pm_wgs84_from_bd09(double lon, double lat, double *out_lon, double *out_lat);
/* Whether the GCJ-02 offset applies at this WGS 84 position (mainland China's rough box). */
PM_API int pm_gcj02_applies(double lon, double lat);

/* EPSG code of the WGS 84 / UTM zone containing lon/lat (326xx north, 327xx south). */
PM_API pm_status pm_crs_utm_epsg(double lon, double lat, int *epsg);

/* Resolve a metric CRS given by a user ("EPSG:4549", "epsg:32651", "32651") to its EPSG code.
 * Refuses unknown codes and CRSs that are not projected in metres, saying what to give instead. */
PM_API pm_status pm_crs_metric_epsg(pm_context *ctx, const char *spec, int *epsg);

/* A transformation from a source CRS to the project's metric CRS (EPSG code). The source is any
 * PROJ-understood definition (WKT, "EPSG:4326", PROJ string) or "gcj02"/"bd09" (lon/lat in those
 * web-map systems: converted to WGS 84 first). Axis order is always x=easting/longitude,
 * y=northing/latitude. Caller owns *out. */
typedef struct pm_transform pm_transform;
PM_API pm_status pm_transform_create(pm_context *ctx, const char *source, int target_epsg,
                              pm_transform **out);
PM_API void pm_transform_destroy(pm_transform *tr);
/* Transform one coordinate in place. */
PM_API pm_status pm_transform_xy(pm_transform *tr, double *x, double *y);
/* Transform n points in place, xy holding x0, y0, x1, y1, ...: the same numbers as pm_transform_xy
 * point by point (a no-op transformation leaves finite points untouched). Stops at the first point
 * PROJ cannot transform, with pm_transform_xy's message for it. */
PM_API pm_status pm_transform_points(pm_transform *tr, double *xy, size_t n);
/* Whether the transformation leaves every finite point as it is (source CRS = project CRS). */
PM_API int pm_transform_is_noop(const pm_transform *tr);
/* Transform a GEOS geometry into a new one. Caller owns *out. A point PROJ cannot transform is
 * PM_ECRS (the message says so; the caller names the feature). */
PM_API pm_status pm_transform_geom(pm_transform *tr, const GEOSGeometry *in, GEOSGeometry **out);
/* Short readable name of the source CRS ("EPSG:4326", "gcj02", a CRS name). Borrowed. */
PM_API const char *pm_transform_source_name(const pm_transform *tr);

/* 1 when a source CRS (as pm_transform_create takes it) is geographic: coordinates are degrees
 * of longitude and latitude (EPSG:4326, gcj02, bd09, ...); 0 otherwise or when unknown. */
PM_API int pm_crs_is_geographic(pm_context *ctx, const char *definition);

/* EPSG code of a CRS definition when PROJ can identify it (0 otherwise). */
PM_API pm_status pm_crs_identify_epsg(pm_context *ctx, const char *definition, int *epsg);

#ifdef __cplusplus
}
#endif
#endif
