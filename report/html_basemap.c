/* html_basemap.c: the HTML maps' base map, drawn from the project's own layers (nothing fetched). */
#define _GNU_SOURCE /* strcasestr */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"
#include "report/html_internal.h"
#include "store/store_internal.h"

#define BASE_SIMPLIFY_PX 0.6
#define BASE_MIN_PX 1.5 /* a line smaller than this both ways is not seen: not drawn */

/* What a base-map feature is, in drawing order (bottom first). */
enum { B_WATER, B_PARK, B_DIST, B_ROAD, B_MAJOR, B_WLINE, B_N };

static const char *const B_CLASS[B_N] = {"b-water", "b-park", "b-dist", "b-road", "b-major",
                                         "b-wline"};
/* Coordinates per class and base map. A class that would need more is left out whole (minor
 * roads of a whole city, say): a part of it, cut wherever the budget ran out, would mislead. */
static const long B_BUDGET[B_N] = {40000, 40000, 40000, 60000, 50000, 30000};

/* What one base map has drawn so far. */
typedef struct bstate {
  pm__hbuf out[B_N]; /* the paths of each class */
  long used[B_N];    /* their coordinates */
  int dropped[B_N];  /* over its budget: left out */
  size_t skipped;    /* features of the classes left out */
} bstate;

/* The OSM columns that tell what a feature is. */
enum { C_HIGHWAY, C_WATERWAY, C_LEISURE, C_LANDUSE, C_NATURAL, C_WATER, C_N };
static const char *const COLS[C_N] = {"highway", "waterway", "leisure", "landuse", "natural",
                                      "water"};

typedef struct blayer {
  char *name;
  pm_geom_kind kind;
  int has[C_N];      /* the column exists */
  int by_name;       /* no telling columns: every feature is this class (B_*), -1 none */
  int districts;     /* the run's districts layer: outlines of every district */
  int indexed;       /* has its SpatiaLite R*Tree idx_<name>_geom */
} blayer;

struct pm__basemap {
  pm_context *ctx;
  pm_store *store;
  GEOSContextHandle_t h;
  GEOSWKBReader *reader;
  blayer *v;
  size_t n;
};

static int has_word(const char *name, const char *const *words) {
  for (size_t i = 0; words[i]; i++)
    if (strcasestr(name, words[i])) return 1;
  return 0;
}

/* A layer without OSM columns, judged by its name. */
static int class_by_name(const char *name, pm_geom_kind kind) {
  static const char *const WATER[] = {"water", "river", "lake", "canal", "河", "湖", "水", NULL};
  static const char *const PARK[] = {"park", "green", "garden", "公园", "绿", NULL};
  static const char *const ROAD[] = {"road", "street", "highway", "路", "街", NULL};
  if (kind == PM_KIND_POLYGON) {
    if (has_word(name, WATER)) return B_WATER;
    if (has_word(name, PARK)) return B_PARK;
  } else if (kind == PM_KIND_LINE) {
    if (has_word(name, WATER)) return B_WLINE;
    if (has_word(name, ROAD)) return B_ROAD;
  }
  return -1;
}

static int table_exists(pm_store *s, const char *name) {
  sqlite3_stmt *q = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(pm__store_db(s), "SELECT 1 FROM sqlite_master WHERE name = ?", -1, &q,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(q) == SQLITE_ROW;
  }
  sqlite3_finalize(q);
  return found;
}

void pm__basemap_close(pm__basemap *bm) {
  if (!bm) return;
  for (size_t i = 0; i < bm->n; i++) free(bm->v[i].name);
  free(bm->v);
  if (bm->reader) GEOSWKBReader_destroy_r(bm->h, bm->reader);
  free(bm);
}

pm_status pm__basemap_open(pm_context *ctx, pm_store *store, const char *districts_layer,
                           pm__basemap **out) {
  *out = NULL;
  pm__basemap *bm = calloc(1, sizeof *bm);
  if (!bm) return pm_error(ctx, PM_ENOMEM, "out of memory");
  bm->ctx = ctx;
  bm->store = store;
  bm->h = pm_context_geos(ctx);
  if (!(bm->reader = GEOSWKBReader_create_r(bm->h))) {
    pm__basemap_close(bm);
    return pm_error(ctx, PM_ENOMEM, "out of memory");
  }
  pm_layer_info *li = NULL;
  size_t nl = 0;
  pm_status st = pm_store_list_layers(store, &li, &nl);
  if (!st && !(bm->v = calloc(nl ? nl : 1, sizeof *bm->v)))
    st = pm_error(ctx, PM_ENOMEM, "out of memory");
  for (size_t i = 0; !st && i < nl; i++) {
    if (li[i].kind != PM_KIND_LINE && li[i].kind != PM_KIND_POLYGON) continue;
    blayer *l = &bm->v[bm->n];
    memset(l, 0, sizeof *l);
    l->kind = li[i].kind;
    l->districts = districts_layer && strcmp(districts_layer, li[i].name) == 0;
    char **names = NULL, **types = NULL;
    size_t nf = 0;
    if (pm_store_layer_fields(store, li[i].name, &names, &types, &nf)) {
      pm_context_clear_error(ctx); /* a layer that cannot be read is left off the base map */
      continue;
    }
    int any = 0;
    for (size_t f = 0; f < nf; f++) {
      for (int c = 0; c < C_N; c++)
        if (strcmp(names[f], COLS[c]) == 0) l->has[c] = any = 1;
      free(names[f]);
      free(types[f]);
    }
    free(names);
    free(types);
    l->by_name = any ? -1 : class_by_name(li[i].name, li[i].kind);
    if (!l->districts && !any && l->by_name < 0) continue;
    char idx[96];
    snprintf(idx, sizeof idx, "idx_%s_geom", li[i].name);
    l->indexed = table_exists(store, idx);
    if (!(l->name = strdup(li[i].name))) st = pm_error(ctx, PM_ENOMEM, "out of memory");
    else bm->n++;
  }
  pm_layer_info_destroy_all(li, nl);
  if (st) {
    pm__basemap_close(bm);
    return st;
  }
  *out = bm;
  return PM_OK;
}

int pm__basemap_layers(const pm__basemap *bm) { return bm && bm->n > 0; }

static int is_one_of(const char *v, const char *const *list) {
  for (size_t i = 0; v && list[i]; i++)
    if (strcmp(v, list[i]) == 0) return 1;
  return 0;
}

/* The class of one feature from its OSM values (NULL when absent), or -1: not drawn. */
static int class_of(const blayer *l, const char *const *val) {
  if (l->districts) return B_DIST;
  if (!l->has[0] && !l->has[1] && !l->has[2] && !l->has[3] && !l->has[4] && !l->has[5])
    return l->by_name;
  static const char *const MAJOR[] = {"motorway", "trunk", "primary", "secondary", "motorway_link",
                                      "trunk_link", "primary_link", "secondary_link", NULL};
  static const char *const MINOR[] = {"tertiary", "tertiary_link", "residential", "unclassified",
                                      "living_street", "pedestrian", "road", "service", NULL};
  static const char *const RIVER[] = {"river", "canal", "stream", NULL};
  static const char *const PARKS[] = {"park", "garden", "nature_reserve", "common",
                                      "recreation_ground", NULL};
  static const char *const GREEN[] = {"grass", "recreation_ground", "forest", "meadow",
                                      "village_green", NULL};
  static const char *const WOOD[] = {"wood", "scrub", "grassland", NULL};
  if (l->kind == PM_KIND_LINE) {
    if (is_one_of(val[C_HIGHWAY], MAJOR)) return B_MAJOR;
    if (is_one_of(val[C_HIGHWAY], MINOR)) return B_ROAD;
    if (is_one_of(val[C_WATERWAY], RIVER)) return B_WLINE;
    return -1; /* footways, tracks, railways...: too fine for a base map */
  }
  if ((val[C_NATURAL] && strcmp(val[C_NATURAL], "water") == 0) || val[C_WATER] ||
      (val[C_WATERWAY] && strcmp(val[C_WATERWAY], "riverbank") == 0) ||
      (val[C_LANDUSE] && strcmp(val[C_LANDUSE], "reservoir") == 0))
    return B_WATER;
  if (is_one_of(val[C_LEISURE], PARKS) || is_one_of(val[C_LANDUSE], GREEN) ||
      is_one_of(val[C_NATURAL], WOOD))
    return B_PARK;
  return -1;
}

/* Draw the features of layer l inside the view's area: one path per class appended to cls[] (a
 * path per layer, so that features two layers share never cancel out under the even-odd rule
 * that gives polygons their holes). */
static pm_status draw_layer(pm__basemap *bm, const blayer *l, const pm__html_view *v, bstate *bs) {
  pm__hbuf cls[B_N];
  memset(cls, 0, sizeof cls);
  char *t = pm__sql_ident(l->name), *sql = NULL;
  if (!t) return pm_error(bm->ctx, PM_ENOMEM, "out of memory");
  char cols[256] = "";
  for (int c = 0; c < C_N; c++) {
    size_t n = strlen(cols);
    snprintf(cols + n, sizeof cols - n, ", %s%s%s", l->has[c] ? "\"" : "",
             l->has[c] ? COLS[c] : "NULL", l->has[c] ? "\"" : "");
  }
  char idx[96];
  snprintf(idx, sizeof idx, "idx_%s_geom", l->name);
  char *ti = pm__sql_ident(idx);
  pm_status st = !ti ? pm_error(bm->ctx, PM_ENOMEM, "out of memory")
                 : l->indexed
                     ? pm_asprintf(bm->ctx, &sql,
                                   "SELECT AsBinary(geom)%s FROM %s WHERE fid IN (SELECT pkid FROM "
                                   "%s WHERE xmin <= ?1 AND xmax >= ?2 AND ymin <= ?3 AND "
                                   "ymax >= ?4) ORDER BY fid",
                                   cols, t, ti)
                     : pm_asprintf(bm->ctx, &sql,
                                   "SELECT AsBinary(geom)%s FROM %s WHERE MbrIntersects(geom, "
                                   "BuildMbr(?2, ?4, ?1, ?3)) ORDER BY fid",
                                   cols, t);
  free(t);
  free(ti);
  sqlite3_stmt *q = NULL;
  if (!st) st = pm__store_prepare(bm->store, "reading a base-map layer", sql, &q);
  free(sql);
  /* A margin around the map, so that lines leave it at its edge, not short of it. */
  double m = (v->maxx - v->minx) * 0.02;
  double x0 = v->minx - m, y0 = v->miny - m, x1 = v->maxx + m, y1 = v->maxy + m;
  sqlite3_bind_double(q, 1, x1);
  sqlite3_bind_double(q, 2, x0);
  sqlite3_bind_double(q, 3, y1);
  sqlite3_bind_double(q, 4, y0);
  while (!st && q && sqlite3_step(q) == SQLITE_ROW) {
    const char *val[C_N];
    for (int c = 0; c < C_N; c++) val[c] = (const char *)sqlite3_column_text(q, c + 1);
    int k = class_of(l, val);
    if (k < 0) continue;
    if (bs->dropped[k]) {
      bs->skipped++;
      continue;
    }
    const unsigned char *wkb = sqlite3_column_blob(q, 0);
    int len = sqlite3_column_bytes(q, 0);
    if (!wkb || len <= 0) continue;
    GEOSGeometry *g = GEOSWKBReader_read_r(bm->h, bm->reader, wkb, (size_t)len);
    if (!g) continue; /* an unreadable feature only loses its drawing */
    if (k == B_DIST) {
      /* outlines only: the boundary, so that a clipped district shows no false edge */
      GEOSGeometry *bd = GEOSBoundary_r(bm->h, g);
      GEOSGeom_destroy_r(bm->h, g);
      g = bd;
    }
    GEOSGeometry *c = g ? GEOSClipByRect_r(bm->h, g, x0, y0, x1, y1) : NULL;
    double e[4];
    int seen = c && GEOSisEmpty_r(bm->h, c) == 0 && GEOSGeom_getXMin_r(bm->h, c, &e[0]) &&
               GEOSGeom_getYMin_r(bm->h, c, &e[1]) && GEOSGeom_getXMax_r(bm->h, c, &e[2]) &&
               GEOSGeom_getYMax_r(bm->h, c, &e[3]) &&
               fmax(e[2] - e[0], e[3] - e[1]) * v->scale >= BASE_MIN_PX;
    GEOSGeometry *sg = seen ? pm__html_simplify(bm->h, v, c, BASE_SIMPLIFY_PX) : NULL;
    if (sg) {
      long n = pm__html_path_geom(bm->h, v, sg, &cls[k]);
      if (n > 0) bs->used[k] += n;
      GEOSGeom_destroy_r(bm->h, sg);
      if (bs->used[k] > B_BUDGET[k]) { /* too dense at this scale: the class goes */
        bs->dropped[k] = 1;
        bs->skipped++;
        pm__hbuf_free(&cls[k]);
        pm__hbuf_free(&bs->out[k]);
      }
    }
    if (c) GEOSGeom_destroy_r(bm->h, c);
    if (g) GEOSGeom_destroy_r(bm->h, g);
  }
  sqlite3_finalize(q);
  for (int k = 0; k < B_N; k++) {
    if (cls[k].oom) st = pm_error(bm->ctx, PM_ENOMEM, "out of memory drawing the base map");
    if (!st && cls[k].len && !bs->dropped[k]) {
      /* The attribute, not only CSS, so that a map reusing this base map keeps thin strokes. */
      pm__hbuf_put(&bs->out[k], "<path vector-effect=\"non-scaling-stroke\" d=\"");
      pm__hbuf_cat(&bs->out[k], &cls[k]);
      pm__hbuf_put(&bs->out[k], "\"/>");
    }
    pm__hbuf_free(&cls[k]);
  }
  return st;
}

pm_status pm__basemap_draw(pm__basemap *bm, const pm__html_view *v, int id, pm__hbuf *b,
                           size_t *skipped) {
  *skipped = 0;
  if (!bm || !bm->n) return PM_OK;
  bstate bs;
  memset(&bs, 0, sizeof bs);
  pm__hbuf *cls = bs.out;
  pm_status st = PM_OK;
  for (size_t i = 0; i < bm->n && !st; i++) st = draw_layer(bm, &bm->v[i], v, &bs);
  *skipped = bs.skipped;
  int any = 0;
  for (int k = 0; k < B_N; k++) any |= cls[k].len > 0;
  if (!st && any) {
    pm__hbuf_printf(b, "<g class=\"base\" id=\"bm-%d\">\n", id);
    for (int k = 0; k < B_N; k++) {
      if (!cls[k].len) continue;
      pm__hbuf_printf(b, "<g class=\"%s\">", B_CLASS[k]);
      pm__hbuf_cat(b, &cls[k]);
      pm__hbuf_put(b, "</g>\n");
    }
    pm__hbuf_put(b, "</g>\n");
  }
  for (int k = 0; k < B_N; k++) {
    if (cls[k].oom) st = pm_error(bm->ctx, PM_ENOMEM, "out of memory drawing the base map");
    pm__hbuf_free(&cls[k]);
  }
  return st;
}
