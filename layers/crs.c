/* crs.c: metric CRS choice, PROJ transformations into it, and GCJ-02/BD-09 conversion (no
 * maintained library implements the Chinese web-map offsets, so they are written out here). */
#include "planmetrics/crs.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"

/* ---- GCJ-02 / BD-09: the published formulas (Krasovsky 1940 ellipsoid parameters) ---- */

static const double GCJ_A = 6378245.0;
static const double GCJ_EE = 0.00669342162296594323;
static const double BD_X_PI = M_PI * 3000.0 / 180.0;

int pm_gcj02_applies(double lon, double lat) {
  return !(lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271);
}

static double gcj_dlat(double x, double y) {
  double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt(fabs(x));
  r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
  r += (20.0 * sin(y * M_PI) + 40.0 * sin(y / 3.0 * M_PI)) * 2.0 / 3.0;
  r += (160.0 * sin(y / 12.0 * M_PI) + 320.0 * sin(y * M_PI / 30.0)) * 2.0 / 3.0;
  return r;
}

static double gcj_dlon(double x, double y) {
  double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt(fabs(x));
  r += (20.0 * sin(6.0 * x * M_PI) + 20.0 * sin(2.0 * x * M_PI)) * 2.0 / 3.0;
  r += (20.0 * sin(x * M_PI) + 40.0 * sin(x / 3.0 * M_PI)) * 2.0 / 3.0;
  r += (150.0 * sin(x / 12.0 * M_PI) + 300.0 * sin(x / 30.0 * M_PI)) * 2.0 / 3.0;
  return r;
}

pm_status pm_gcj02_from_wgs84(double lon, double lat, double *out_lon, double *out_lat) {
  if (!pm_gcj02_applies(lon, lat)) {
    *out_lon = lon;
    *out_lat = lat;
    return PM_OK;
  }
  double dlat = gcj_dlat(lon - 105.0, lat - 35.0);
  double dlon = gcj_dlon(lon - 105.0, lat - 35.0);
  double radlat = lat / 180.0 * M_PI;
  double magic = sin(radlat);
  magic = 1 - GCJ_EE * magic * magic;
  double sqrt_magic = sqrt(magic);
  dlat = (dlat * 180.0) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sqrt_magic) * M_PI);
  dlon = (dlon * 180.0) / (GCJ_A / sqrt_magic * cos(radlat) * M_PI);
  *out_lon = lon + dlon;
  *out_lat = lat + dlat;
  return PM_OK;
}

pm_status pm_bd09_from_gcj02(double lon, double lat, double *out_lon, double *out_lat) {
  double z = sqrt(lon * lon + lat * lat) + 0.00002 * sin(lat * BD_X_PI);
  double theta = atan2(lat, lon) + 0.000003 * cos(lon * BD_X_PI);
  *out_lon = z * cos(theta) + 0.0065;
  *out_lat = z * sin(theta) + 0.006;
  return PM_OK;
}

pm_status pm_bd09_from_wgs84(double lon, double lat, double *out_lon, double *out_lat) {
  double glon, glat;
  pm_gcj02_from_wgs84(lon, lat, &glon, &glat);
  return pm_bd09_from_gcj02(glon, glat, out_lon, out_lat);
}

typedef pm_status (*forward_fn)(double, double, double *, double *);

/* Invert a forward offset by fixed-point iteration: the offsets are smooth and small (< 1 km), so
 * each step shrinks the error by orders of magnitude; 1e-10 degrees is about 0.01 mm. */
static pm_status invert(forward_fn fwd, double lon, double lat, double guess_lon, double guess_lat,
                        double *out_lon, double *out_lat) {
  double x = guess_lon, y = guess_lat;
  for (int i = 0; i < 30; i++) {
    double fx, fy;
    fwd(x, y, &fx, &fy);
    double ex = lon - fx, ey = lat - fy;
    x += ex;
    y += ey;
    if (fabs(ex) < 1e-10 && fabs(ey) < 1e-10) break;
  }
  *out_lon = x;
  *out_lat = y;
  return PM_OK;
}

pm_status pm_wgs84_from_gcj02(double lon, double lat, double *out_lon, double *out_lat) {
  return invert(pm_gcj02_from_wgs84, lon, lat, lon, lat, out_lon, out_lat);
}

pm_status pm_gcj02_from_bd09(double lon, double lat, double *out_lon, double *out_lat) {
  /* The published closed-form approximation, refined by iteration to an exact inverse. */
  double x = lon - 0.0065, y = lat - 0.006;
  double z = sqrt(x * x + y * y) - 0.00002 * sin(y * BD_X_PI);
  double theta = atan2(y, x) - 0.000003 * cos(x * BD_X_PI);
  return invert(pm_bd09_from_gcj02, lon, lat, z * cos(theta), z * sin(theta), out_lon, out_lat);
}

pm_status pm_wgs84_from_bd09(double lon, double lat, double *out_lon, double *out_lat) {
  double g0, g1;
  pm_gcj02_from_bd09(lon, lat, &g0, &g1);
  return pm_wgs84_from_gcj02(g0, g1, out_lon, out_lat);
}

/* ---- metric CRS ---- */

pm_status pm_crs_utm_epsg(double lon, double lat, int *epsg) {
  int zone = (int)floor((lon + 180.0) / 6.0) + 1;
  if (zone < 1) zone = 1;
  if (zone > 60) zone = 60;
  /* The two exceptions of the UTM grid: south-west Norway and Svalbard. */
  if (lat >= 56.0 && lat < 64.0 && lon >= 3.0 && lon < 12.0) zone = 32;
  if (lat >= 72.0 && lat < 84.0) {
    if (lon >= 0.0 && lon < 9.0) zone = 31;
    else if (lon >= 9.0 && lon < 21.0) zone = 33;
    else if (lon >= 21.0 && lon < 33.0) zone = 35;
    else if (lon >= 33.0 && lon < 42.0) zone = 37;
  }
  *epsg = (lat >= 0 ? 32600 : 32700) + zone;
  return PM_OK;
}

static int parse_epsg(const char *spec) {
  const char *p = spec;
  if (strncasecmp(p, "EPSG:", 5) == 0) p += 5;
  if (!*p) return 0;
  for (const char *q = p; *q; q++)
    if (!isdigit((unsigned char)*q)) return 0;
  long v = strtol(p, NULL, 10);
  return v > 0 && v < 1000000 ? (int)v : 0;
}

pm_status pm_crs_metric_epsg(pm_context *ctx, const char *spec, int *epsg) {
  *epsg = 0;
  int code = parse_epsg(spec);
  if (!code)
    return pm_error(ctx, PM_ECRS,
                    "metric CRS '%s' is not an EPSG code; give one such as EPSG:32651 (WGS 84 / UTM "
                    "51N) or EPSG:4549 (CGCS2000 / 3-degree Gauss-Kruger CM 120E)",
                    spec);
  PJ_CONTEXT *pc = pm_context_proj(ctx);
  char def[32];
  snprintf(def, sizeof def, "EPSG:%d", code);
  PJ *crs = proj_create(pc, def);
  if (!crs)
    return pm_error(ctx, PM_ECRS,
                    "unknown CRS %s: PROJ's database has no such EPSG code; give a projected CRS "
                    "in metres such as EPSG:32651 (WGS 84 / UTM 51N) or EPSG:4549",
                    def);
  pm_status st = PM_OK;
  PJ_TYPE t = proj_get_type(crs);
  if (t != PJ_TYPE_PROJECTED_CRS) {
    st = pm_error(ctx, PM_ECRS,
                  "%s (%s) is not a projected CRS: measuring needs metres, not degrees; give a "
                  "projected CRS such as the UTM zone of the data (e.g. EPSG:32651 for Shanghai)",
                  def, proj_get_name(crs));
  } else {
    PJ *cs = proj_crs_get_coordinate_system(pc, crs);
    const char *unit = NULL;
    double factor = 0;
    if (!cs || !proj_cs_get_axis_info(pc, cs, 0, NULL, NULL, NULL, &factor, &unit, NULL, NULL) ||
        fabs(factor - 1.0) > 1e-12)
      st = pm_error(ctx, PM_ECRS, "%s (%s) does not measure in metres (unit: %s); give a metric CRS",
                    def, proj_get_name(crs), unit ? unit : "unknown");
    proj_destroy(cs);
  }
  proj_destroy(crs);
  if (!st) *epsg = code;
  return st;
}

pm_status pm_crs_identify_epsg(pm_context *ctx, const char *definition, int *epsg) {
  *epsg = 0;
  PJ_CONTEXT *pc = pm_context_proj(ctx);
  PJ *crs = proj_create(pc, definition);
  if (!crs) return PM_OK;
  int *confidence = NULL;
  PJ_OBJ_LIST *list = proj_identify(pc, crs, "EPSG", NULL, &confidence);
  if (list && proj_list_get_count(list) > 0 && confidence[0] >= 90) {
    PJ *best = proj_list_get(pc, list, 0);
    const char *code = best ? proj_get_id_code(best, 0) : NULL;
    if (code) *epsg = atoi(code);
    proj_destroy(best);
  }
  proj_int_list_destroy(confidence);
  proj_list_destroy(list);
  proj_destroy(crs);
  return PM_OK;
}

int pm_crs_is_geographic(pm_context *ctx, const char *definition) {
  if (!definition) return 0;
  if (strcasecmp(definition, "gcj02") == 0 || strcasecmp(definition, "gcj-02") == 0 ||
      strcasecmp(definition, "bd09") == 0 || strcasecmp(definition, "bd-09") == 0)
    return 1;
  char epsg_def[32];
  if (parse_epsg(definition) && strncasecmp(definition, "EPSG:", 5) != 0) {
    snprintf(epsg_def, sizeof epsg_def, "EPSG:%d", parse_epsg(definition)); /* a bare "4326" */
    definition = epsg_def;
  }
  PJ *crs = proj_create(pm_context_proj(ctx), definition);
  if (!crs) return 0;
  PJ_TYPE t = proj_get_type(crs);
  PJ *base = NULL;
  if (t == PJ_TYPE_COMPOUND_CRS && (base = proj_crs_get_sub_crs(pm_context_proj(ctx), crs, 0)))
    t = proj_get_type(base);
  proj_destroy(base);
  proj_destroy(crs);
  return t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS ||
         t == PJ_TYPE_GEOGRAPHIC_CRS;
}

/* ---- transformations ---- */

/* Whether a source CRS string is an identifier or a definition (EPSG:4326, urn:ogc:..., WKT, a
 * PROJ string, PROJJSON) rather than a name for PROJ to look up. */
static int is_definition(const char *s) {
  while (isspace((unsigned char)*s)) s++;
  if (*s == '+' || *s == '{' || strchr(s, '[') || strncasecmp(s, "proj=", 5) == 0 ||
      strncasecmp(s, "urn:", 4) == 0 || strncasecmp(s, "http", 4) == 0)
    return 1;
  const char *colon = strchr(s, ':');
  if (!colon || colon == s || !colon[1]) return 0;
  for (const char *p = s; p < colon; p++)
    if (!isalnum((unsigned char)*p) && *p != '_') return 0;
  return 1;
}

typedef enum { WEB_NONE, WEB_GCJ02, WEB_BD09 } web_kind;

struct pm_transform {
  pm_context *ctx;
  PJ *op;          /* normalised: x = lon/easting, y = lat/northing */
  web_kind web;
  char name[128];
  int failed;      /* set by the GEOS callback when PROJ cannot transform a point */
  int identity;    /* PROJ's operation is a no-op (source CRS = project CRS): points stay as they are */
};

pm_status pm_transform_create(pm_context *ctx, const char *source, int target_epsg,
                              pm_transform **out) {
  *out = NULL;
  pm_transform *tr = calloc(1, sizeof *tr);
  if (!tr) return pm_error(ctx, PM_ENOMEM, "out of memory");
  tr->ctx = ctx;
  const char *def = source;
  if (strcasecmp(source, "gcj02") == 0 || strcasecmp(source, "gcj-02") == 0) {
    tr->web = WEB_GCJ02;
    def = "EPSG:4326";
    snprintf(tr->name, sizeof tr->name, "gcj02");
  } else if (strcasecmp(source, "bd09") == 0 || strcasecmp(source, "bd-09") == 0) {
    tr->web = WEB_BD09;
    def = "EPSG:4326";
    snprintf(tr->name, sizeof tr->name, "bd09");
  }
  PJ_CONTEXT *pc = pm_context_proj(ctx);
  char epsg_def[32];
  if (!tr->web && parse_epsg(def) && strncasecmp(def, "EPSG:", 5) != 0) {
    snprintf(epsg_def, sizeof epsg_def, "EPSG:%d", parse_epsg(def)); /* a bare "4326" */
    def = epsg_def;
  }
  PJ *src = proj_create(pc, def);
  /* PROJ also takes a CRS name and then guesses among similar ones ("FOO" gives a Bessel 1841
   * CRS): a name is only accepted when PROJ knows it exactly. */
  if (src && !tr->web && !is_definition(def)) {
    const char *found = proj_get_name(src);
    if (!found || strcasecmp(found, def) != 0) {
      proj_destroy(src);
      src = NULL;
    }
  }
  if (!src) {
    free(tr);
    return pm_error(ctx, PM_ECRS,
                    "unknown source CRS '%.200s': give an EPSG code (e.g. EPSG:4326), a WKT or PROJ "
                    "definition, or gcj02 / bd09 for Chinese web-map coordinates",
                    source);
  }
  if (!tr->name[0]) {
    int code = 0;
    const char *auth = proj_get_id_auth_name(src, 0);
    const char *id = proj_get_id_code(src, 0);
    if (auth && id && strcmp(auth, "EPSG") == 0) code = atoi(id);
    if (!code) pm_crs_identify_epsg(ctx, def, &code);
    if (code)
      snprintf(tr->name, sizeof tr->name, "EPSG:%d", code);
    else
      snprintf(tr->name, sizeof tr->name, "%.120s", proj_get_name(src) ? proj_get_name(src) : "custom");
  }
  char dst_def[32];
  snprintf(dst_def, sizeof dst_def, "EPSG:%d", target_epsg);
  PJ *dst = proj_create(pc, dst_def);
  PJ *op = dst ? proj_create_crs_to_crs_from_pj(pc, src, dst, NULL, NULL) : NULL;
  PJ *norm = op ? proj_normalize_for_visualization(pc, op) : NULL;
  proj_destroy(src);
  proj_destroy(dst);
  proj_destroy(op);
  if (!norm) {
    free(tr);
    return pm_error(ctx, PM_ECRS, "PROJ found no transformation from %.200s to %s", source, dst_def);
  }
  tr->op = norm;
  PJ_PROJ_INFO info = proj_pj_info(norm);
  tr->identity = !tr->web && info.id && strcmp(info.id, "noop") == 0;
  *out = tr;
  return PM_OK;
}

void pm_transform_destroy(pm_transform *tr) {
  if (!tr) return;
  proj_destroy(tr->op);
  free(tr);
}

const char *pm_transform_source_name(const pm_transform *tr) { return tr->name; }

pm_status pm_transform_xy(pm_transform *tr, double *x, double *y) {
  double lon = *x, lat = *y;
  if (tr->web == WEB_GCJ02) pm_wgs84_from_gcj02(*x, *y, &lon, &lat);
  else if (tr->web == WEB_BD09) pm_wgs84_from_bd09(*x, *y, &lon, &lat);
  PJ_COORD c = proj_coord(lon, lat, 0, 0);
  PJ_COORD r = proj_trans(tr->op, PJ_FWD, c);
  if (!isfinite(r.xy.x) || !isfinite(r.xy.y) || r.xy.x == HUGE_VAL)
    return pm_error(tr->ctx, PM_ECRS, "coordinate (%.9g, %.9g) cannot be transformed to the project CRS (%s)",
                    *x, *y, proj_errno_string(proj_errno(tr->op)));
  *x = r.xy.x;
  *y = r.xy.y;
  return PM_OK;
}

int pm_transform_is_noop(const pm_transform *tr) { return tr->identity; }

pm_status pm_transform_points(pm_transform *tr, double *xy, size_t n) {
  for (size_t i = 0; i < n; i++) {
    double *x = &xy[2 * i], *y = &xy[2 * i + 1];
    /* PROJ's no-op gives every finite point back unchanged; anything else (and the error for a
     * point that is not finite) takes the general way. */
    if (tr->identity && isfinite(*x) && isfinite(*y)) continue;
    pm_status st = pm_transform_xy(tr, x, y);
    if (st) return st;
  }
  return PM_OK;
}

static int transform_cb(double *x, double *y, void *user) {
  pm_transform *tr = user;
  if (pm_transform_xy(tr, x, y) != PM_OK) {
    tr->failed = 1;
    return 0;
  }
  return 1;
}

pm_status pm_transform_geom(pm_transform *tr, const GEOSGeometry *in, GEOSGeometry **out) {
  tr->failed = 0;
  *out = GEOSGeom_transformXY_r(pm_context_geos(tr->ctx), in, transform_cb, tr);
  if (!*out) {
    if (tr->failed) return PM_ECRS; /* message set by pm_transform_xy */
    return pm_error(tr->ctx, PM_EGEOM, "cannot transform a geometry (%s)",
                    pm__context_geos_message(tr->ctx));
  }
  return PM_OK;
}
