/* wkb.h: the ISO WKB OGR exports, read in place: its structure, its coordinates transformed where
 * they lie, the checks GEOS would make on points and lines, a single part wrapped as a multi
 * geometry. Internal to the library. */
#ifndef PM_LAYERS_WKB_H
#define PM_LAYERS_WKB_H

#include <stddef.h>
#include <stdint.h>

#include "planmetrics/crs.h"

/* One run of coordinates inside a WKB buffer: n points (x, y as doubles) from byte off. */
typedef struct pm__wkb_run {
  size_t off;
  uint32_t n;
  int ring; /* a polygon ring (else a line or a point) */
} pm__wkb_run;

/* What pm__wkb_scan found. Reused between features; free with pm__wkb_shape_clear. */
typedef struct pm__wkb_shape {
  int type;          /* ISO type of the whole: 1 point ... 6 multipolygon */
  uint32_t n_parts;  /* parts of a multi geometry (1 for a single one) */
  size_t first_part; /* byte offset of the first part of a multi geometry */
  pm__wkb_run *runs;
  size_t n_runs, cap_runs;
} pm__wkb_shape;

void pm__wkb_shape_clear(pm__wkb_shape *s);

/* Read the structure of a little-endian 2D ISO WKB point, line string, polygon or multi of those.
 * Returns 1 when it is "plain": well formed, no empty part, every line with 2 points or more,
 * every ring closed (first point = last) with 4 points or more. Anything else (curves, Z/M,
 * collections, empty parts, unclosed rings, other byte orders, a big-endian host) returns 0, and
 * the caller takes the general (GEOS) way. Returns -1 when out of memory. */
int pm__wkb_scan(const unsigned char *wkb, size_t len, pm__wkb_shape *s);

/* Transform every coordinate in place with pm_transform_points (same numbers, same order, same
 * error for the first point that cannot be transformed as GEOSGeom_transformXY_r with
 * pm_transform_xy). scratch: a growable buffer of doubles owned by the caller. */
pm_status pm__wkb_transform(pm_context *ctx, unsigned char *wkb, const pm__wkb_shape *s,
                            pm_transform *tr, double **scratch, size_t *scratch_cap);

/* Whether GEOS's IsValidOp would call a point or line geometry valid: every coordinate finite and
 * every line with two distinct points at least (GEOS 3.11: checkCoordinatesValid,
 * checkTooFewPoints). Polygons are not judged here. bbox receives minx, miny, maxx, maxy. */
int pm__wkb_valid_points_lines(const unsigned char *wkb, const pm__wkb_shape *s, double bbox[4]);

/* Whether a polygon of one ring (a Polygon, or a MultiPolygon of one such) is certainly valid as
 * GEOS judges it: finite coordinates, and a simple ring, shown with orientation tests whose sign
 * is certain in floating point (Shewchuk's error bound), for rings of up to 64 points. 0 means
 * "not shown", not "invalid": the caller then asks GEOS. bbox as above. */
int pm__wkb_certainly_valid_ring(const unsigned char *wkb, const pm__wkb_shape *s, double bbox[4]);

/* Extent of every coordinate (all finite). */
void pm__wkb_bbox(const unsigned char *wkb, const pm__wkb_shape *s, double bbox[4]);

#endif
