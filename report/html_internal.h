/* html_internal.h: pieces shared by the HTML report files (buffer, SVG paths, CSS and script). */
#ifndef PM_HTML_INTERNAL_H
#define PM_HTML_INTERNAL_H

#include <stddef.h>

#include "planmetrics/html.h"

/* A growing text buffer. Appends never fail: on allocation failure `oom` is set and later appends
 * are ignored; check it once at the end. Zero-initialise; release with pm_hbuf_free. */
typedef struct pm_hbuf {
  char *s;
  size_t len, cap;
  int oom;
} pm_hbuf;

void pm_hbuf_putn(pm_hbuf *b, const char *s, size_t n);
void pm_hbuf_put(pm_hbuf *b, const char *s);
void pm_hbuf_printf(pm_hbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append text escaped for HTML (see pm_html_escape); NULL appends nothing. */
void pm_hbuf_esc(pm_hbuf *b, const char *text);
/* Append buffer o. */
void pm_hbuf_cat(pm_hbuf *b, const pm_hbuf *o);
void pm_hbuf_free(pm_hbuf *b);

/* Append a pixel number rounded to 0.01 px (the path precision) in the shortest form. */
void pm_hbuf_px(pm_hbuf *b, double px);

/* Append the path data of GEOS geometry g under v (no simplification here). Returns the number of
 * coordinates written, or -1 when GEOS cannot read g. */
long pm_html_path_geom(GEOSContextHandle_t h, const pm_html_view *v, const GEOSGeometry *g,
                       pm_hbuf *b);
/* A simplified copy of g (tolerance simplify_px pixels under v) for lines and polygons, or a clone
 * for points. NULL on GEOS failure. The caller destroys it. */
GEOSGeometry *pm_html_simplify(GEOSContextHandle_t h, const pm_html_view *v, const GEOSGeometry *g,
                               double simplify_px);

/* The page's stylesheet and script (static text). */
extern const char PM_HTML_CSS[];
extern const char PM_HTML_JS[];

#endif
