/* html_internal.h: pieces shared by the HTML report files (buffer, SVG paths, CSS and script). */
#ifndef PM_HTML_INTERNAL_H
#define PM_HTML_INTERNAL_H

#include <stddef.h>

#include "planmetrics/html.h"
#include "planmetrics/store.h"

/* How map coordinates become SVG pixels: px = (x - minx) * scale, py = (maxy - y) * scale (SVG's y
 * grows downwards), so (minx, maxy) is the top-left corner and (maxx, miny) the bottom-right one. */
typedef struct pm__html_view {
  double minx, miny, maxx, maxy; /* the extent shown (the whole SVG), in map units (metres) */
  double scale;                  /* pixels per map unit */
  double width_px, height_px;    /* the SVG's size (viewBox 0 0 width height) */
} pm__html_view;

/* Fit the extent into a map width_px wide and at most max_height_px high with at least pad_px of
 * margin on every side, keeping the aspect ratio and centring the extent. The map is width_px wide;
 * its height is that of the scaled extent plus the margins, at most max_height_px; out->minx..maxy
 * is then the (larger) extent the whole map shows. An extent smaller than 1 m both ways (one point)
 * is widened to 1 km around its centre. width_px and max_height_px must exceed 2 * pad_px
 * (PM_EINPUT otherwise, and for non-finite numbers or an inverted extent). */
pm_status pm__html_view_fit(pm_context *ctx, double minx, double miny, double maxx, double maxy,
                           double width_px, double max_height_px, double pad_px,
                           pm__html_view *out);
/* Map coordinates to SVG pixels. */
void pm__html_view_apply(const pm__html_view *v, double x, double y, double *px, double *py);

/* Escape UTF-8 text for HTML (element content and quoted attribute values): & < > " ' become
 * entities, control characters other than tab, LF and CR are dropped, invalid UTF-8 bytes become
 * U+FFFD. text NULL gives "". The caller frees *out. */
pm_status pm__html_escape(pm_context *ctx, const char *text, char **out);

/* The SVG path data ("M12.3 45.6l1-2 ...z") of a WKB geometry under view v: points become "Mx yh0"
 * (drawn as dots with a round line cap), lines "M...l...", polygon rings close with "z". Lines and
 * polygons are first simplified with a tolerance of simplify_px pixels (0: not at all);
 * coordinates are rounded to 0.1 px and repeated points dropped. *n_points (may be NULL) receives
 * the number of coordinates written. An empty geometry gives "". The caller frees *out. */
pm_status pm__html_svg_path(pm_context *ctx, const pm__html_view *v, const unsigned char *wkb,
                           size_t wkb_len, double simplify_px, char **out, size_t *n_points);


/* A growing text buffer. Appends never fail: on allocation failure `oom` is set and later appends
 * are ignored; check it once at the end. Zero-initialise; release with pm__hbuf_free. */
typedef struct pm__hbuf {
  char *s;
  size_t len, cap;
  int oom;
} pm__hbuf;

void pm__hbuf_putn(pm__hbuf *b, const char *s, size_t n);
void pm__hbuf_put(pm__hbuf *b, const char *s);
void pm__hbuf_printf(pm__hbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append text escaped for HTML (see pm__html_escape); NULL appends nothing. */
void pm__hbuf_esc(pm__hbuf *b, const char *text);
/* Append buffer o. */
void pm__hbuf_cat(pm__hbuf *b, const pm__hbuf *o);
void pm__hbuf_free(pm__hbuf *b);

/* Append a pixel number rounded to 0.01 px (the path precision) in the shortest form. */
void pm__hbuf_px(pm__hbuf *b, double px);

/* Append the path data of GEOS geometry g under v (no simplification here). Returns the number of
 * coordinates written, or -1 when GEOS cannot read g. */
long pm__html_path_geom(GEOSContextHandle_t h, const pm__html_view *v, const GEOSGeometry *g,
                       pm__hbuf *b);
/* A simplified copy of g (tolerance simplify_px pixels under v) for lines and polygons, or a clone
 * for points. NULL on GEOS failure. The caller destroys it. */
GEOSGeometry *pm__html_simplify(GEOSContextHandle_t h, const pm__html_view *v, const GEOSGeometry *g,
                               double simplify_px);

/* The base map under an indicator's map, from the project's own layers (nothing is fetched):
 * water, parks and roads where a layer looks like them (judged by geometry kind and the OSM
 * attributes highway, waterway, leisure, landuse, natural, water, or else by the layer's name:
 * roads, river, park, 路, 河, 公园...), and the outline of every district of the districts layer
 * (the neighbours of the plan's districts too). pm__basemap_open finds the layers (the caller
 * closes it); pm__basemap_draw appends <g class="base" id="bm-ID"> with what lies in the area v
 * shows, clipped to it and simplified (lines under 1.5 px left out; a class of features over its
 * budget of coordinates, e.g. the minor roads of a whole city, left out whole: *skipped counts the
 * features left out), or nothing when there is nothing to draw. */
typedef struct pm__basemap pm__basemap;
pm_status pm__basemap_open(pm_context *ctx, pm_store *store, const char *districts_layer,
                           pm__basemap **out);
int pm__basemap_layers(const pm__basemap *bm);
pm_status pm__basemap_draw(pm__basemap *bm, const pm__html_view *v, int id, pm__hbuf *b,
                           size_t *skipped);
void pm__basemap_close(pm__basemap *bm);

/* The page's stylesheet and script (static text). */
extern const char PM_HTML_CSS[];
extern const char PM_HTML_JS[];

#endif
