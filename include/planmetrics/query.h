/* query.h: ad-hoc questions on a project (near, within, length, read-only SQL, and along the
 * walking network: reach, route, network info) answered as tables. */
#ifndef PLANMETRICS_QUERY_H
#define PLANMETRICS_QUERY_H

#include <stdint.h>
#include <stdio.h>

#include "planmetrics/context.h"
#include "planmetrics/features.h"
#include "planmetrics/metrics.h"
#include "planmetrics/network.h"
#include "planmetrics/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- pm_table: a small result table (named columns, rows of typed cells) ---- */

typedef enum pm_cell_type {
  PM_CELL_NULL = 0, /* no value: empty in a table and CSV, null in JSON */
  PM_CELL_TEXT,     /* UTF-8 text */
  PM_CELL_INT,
  PM_CELL_REAL,     /* NaN is written as null */
  PM_CELL_BOOL      /* "yes"/"no" in a table, true/false in JSON and CSV */
} pm_cell_type;

typedef struct pm_cell {
  pm_cell_type type;
  char *s;      /* PM_CELL_TEXT: owned by the table */
  int64_t i;    /* PM_CELL_INT, PM_CELL_BOOL (0/1) */
  double d;     /* PM_CELL_REAL */
  int decimals; /* PM_CELL_REAL: digits after the point; -1 for up to 15 significant digits */
} pm_cell;

/* Everything is owned by the table and released by pm_table_destroy. cells is row-major:
 * cell (r, c) is cells[r * n_cols + c]. summary is one human line printed under the table
 * ("312 of 449 within 50 m (69.5 %)"), or NULL. */
typedef struct pm_table {
  size_t n_cols;
  char **cols;
  size_t n_rows, cap_rows;
  pm_cell *cells;
  char *summary;
} pm_table;

/* A table with these column names and no rows. The caller owns *out (pm_table_destroy). */
PM_API pm_status pm_table_create(pm_context *ctx, const char *const *cols, size_t n_cols, pm_table **out);
PM_API void pm_table_destroy(pm_table *t);

/* Append a row of NULL cells; *row (may be NULL) receives its index. */
PM_API pm_status pm_table_add_row(pm_context *ctx, pm_table *t, size_t *row);
/* Set a cell of an existing row; text is copied (NULL gives a NULL cell). */
PM_API pm_status pm_table_set_text(pm_context *ctx, pm_table *t, size_t row, size_t col, const char *s);
PM_API pm_status pm_table_set_int(pm_context *ctx, pm_table *t, size_t row, size_t col, int64_t v);
PM_API pm_status pm_table_set_real(pm_context *ctx, pm_table *t, size_t row, size_t col, double v,
                            int decimals);
PM_API pm_status pm_table_set_bool(pm_context *ctx, pm_table *t, size_t row, size_t col, int v);
/* Set the summary line (printf format), replacing any earlier one. */
PM_API pm_status pm_table_set_summary(pm_context *ctx, pm_table *t, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Borrowed cell (r, c). */
PM_API const pm_cell *pm_table_cell(const pm_table *t, size_t row, size_t col);
/* Index of the column named name, or -1. */
PM_API int pm_table_col(const pm_table *t, const char *name);

/* ---- the query verbs. Each returns a new table the caller frees with pm_table_destroy. ---- */

/* What `near` asks: for each feature of `from` (filtered by where_from, may be NULL), the
 * nearest feature of `to` (filtered by where_to) and whether it lies within within_m. */
typedef struct pm_near_query {
  const char *from, *where_from;
  const char *to, *where_to;
  double within_m;             /* a number of metres >= 0 */
  const char *district;        /* only the features of `from` in this district (NULL: all): points
                                  the district covers (boundary included), lines and polygons with
                                  a part of positive length or area inside; the nearest feature of
                                  `to` is looked for everywhere, also across the boundary */
  const char *districts_layer; /* the districts' polygon layer (NULL: "districts") */
  const char *name_field;      /* its field holding the names (NULL: "NAME") */
  int misses_only;             /* only the rows without a feature of `to` within within_m */
} pm_near_query;

/* Columns from_fid, from_name, to_fid, to_name, distance_m, within (distance_m <= within_m).
 * Distances are planar, between geometries, in the project CRS; ties go to the lowest fid. When
 * `to` is empty the to_* and distance cells are NULL and within is false. The summary counts the
 * features within (with misses_only: those without), of the features measured. Uses the STRtree
 * of `to` (nearest-neighbour search with exact distances), never all pairs. An unknown district
 * is an error listing the names. */
PM_API pm_status pm_query_near(pm_context *ctx, pm_store *store, const pm_near_query *q, pm_table **out);
/* The same on selections already in memory (to is indexed if it is not yet). */
PM_API pm_status pm_query_near_features(pm_context *ctx, const pm_features *from, pm_features *to,
                                 double within_m, pm_table **out);

/* The features of `layer` (filtered by where) in the district `district` of the polygon layer
 * districts_layer (NULL: "districts"), whose names are in name_field (NULL: "NAME").
 * Points (and multipoints) count when the district polygon covers them (boundary included):
 * columns fid, name, x, y. Lines and polygons count when a part of positive length or area lies
 * inside: columns fid, name, length_inside_m, length_m (lines) or area_inside_m2, area_m2
 * (polygons). Rows are in fid order. An unknown district is an error listing the names. */
PM_API pm_status pm_query_within(pm_context *ctx, pm_store *store, const char *layer, const char *where,
                          const char *district, const char *districts_layer,
                          const char *name_field, pm_table **out);

/* Length in km of the dissolved line selection (overlaps count once): columns district,
 * length_km. Without by_district one row, district "_all" (everything). With by_district one row
 * per district of districts_layer (NULL: "districts", names in name_field, NULL: "NAME"), then
 * "_all", the part inside the union of the districts. The summary gives the feature count and
 * the whole dissolved length. A layer that does not hold lines is an error. */
PM_API pm_status pm_query_length(pm_context *ctx, pm_store *store, const char *layer, const char *where,
                          int by_district, const char *districts_layer, const char *name_field,
                          pm_table **out);

/* Run one read-only SQL statement (SpatiaLite functions available) and return its rows; column
 * names as SQLite gives them. SpatiaLite geometry blobs become WKT (as AsText would give), other
 * blobs "<blob N bytes>". A statement that could change the database (INSERT, UPDATE, DELETE,
 * CREATE, DROP, ...) or more than one statement is refused with PM_EINPUT; so is a statement
 * that tries to change it while it runs (a SpatiaLite function such as DropGeoTable or
 * CreateSpatialIndex: SQLite's authorizer refuses every write, on any store), and a GEOS error
 * inside a SpatiaLite function (which would otherwise answer NULL) is PM_EINPUT naming the row.
 * Open the store with PM_STORE_READONLY as a second guard. */
PM_API pm_status pm_query_sql(pm_context *ctx, pm_store *store, const char *sql, pm_table **out);

/* ---- along the walking network (METRICS.md §5) ---- */

/* The walking network a question walks along. */
typedef struct pm_network_query {
  const char *layer;     /* a line layer of the project; NULL: "roads" */
  const char *where;     /* SQL filter on its fields; NULL: on OpenStreetMap data (a `highway`
                            field) the walkable default of §5 (pm_network_osm_walkable_where),
                            else every line; "": every line, OSM or not */
  const char *connect;   /* "vertices" or "crossings"; NULL: vertices */
  double max_snap_m;     /* NAN: 100; points farther from every edge are unroutable; 0 < x <= 5000 */
  double min_piece_m;    /* NAN: 200; shorter pieces are islands, never snapped to; 0 <= x <= 1e6 */
  double access_width_m; /* NAN: 50; the reached network is widened by this into service areas;
                            0 <= x <= 500 */
} pm_network_query;

/* Every field "not given": NULL strings, NAN numbers (a zeroed struct would ask for max_snap_m 0).
 * Start every pm_network_query (also those inside pm_reach_query and pm_route_query) from it. */
PM_API void pm_network_query_init(pm_network_query *q);

/* The longest walk a question may ask about (metres): beyond it, a unit is wrong. */
#define PM_QUERY_MAX_WALK_M 50000.0

/* Build the network q names from the project (a pm_network, engine/network.h). Errors
 * (PM_EINPUT / PM_ENOTFOUND, each naming the layer and what to do): no such layer, a layer that
 * does not hold lines, a filter that leaves no lines (or names a missing field), a misspelt
 * connect, a number out of its range. *where_used (may be NULL) receives the filter applied (NULL:
 * every line; caller frees) and *osm_default (may be NULL) 1 when that filter is the OSM walkable
 * default. Caller owns *out (pm_network_destroy). */
PM_API pm_status pm_query_network_build(pm_context *ctx, pm_store *store, const pm_network_query *q,
                                        pm_network **out, char **where_used, int *osm_default);

/* The network the project's latest run walked along: that of its first indicator measured with
 * distance: network (layer, the filter as applied, connect, max_snap_m, min_piece_m,
 * access_width_m). *found is 0 (and *out untouched) when the latest run has none, or the project
 * no run. Fills *out with strings the caller frees with free(): out->layer.layer,
 * out->layer.where, out->connect. */
PM_API pm_status pm_query_network_recorded(pm_context *ctx, pm_store *store, pm_network_spec *out,
                                           int *found);

/* `network info`: the network as built. *out: one row with columns layer, filter ("OSM walkable
 * default", "given", "none"), where, connect, nodes, edges, components, largest_km,
 * largest_share_pct, length_km, dangling_ends, islands, island_km, merged_ends, skipped_parts,
 * min_piece_m, max_snap_m, memory_mb, bytes_per_edge. *pieces (may be NULL): every connected piece
 * but the largest, longest first: piece (its component id), nodes, edges, length_m, island (shorter
 * than min_piece_m: never snapped to), minx, miny, maxx, maxy (extent in the project CRS). Both
 * tables have a summary line. Caller frees both with pm_table_destroy. */
PM_API pm_status pm_query_network_info(pm_context *ctx, pm_store *store, const pm_network_query *q,
                                       pm_table **out, pm_table **pieces);

/* What `reach` asks: what each feature of `from` reaches along the network within within_m. */
typedef struct pm_reach_query {
  const char *from, *where; /* the features to start from and their filter (may be NULL) */
  double within_m;          /* metres walked, 0 .. PM_QUERY_MAX_WALK_M, the legs included */
  pm_network_query network;
} pm_reach_query;

/* The filter a walking network on `layer` takes when none is given (METRICS.md §5): for
 * OpenStreetMap data (the layer has a `highway` field) the walkable default, else none. When the
 * layer is OSM data but lacks a field the default reads, *where is NULL and *missing names that
 * field (the caller says how to fix it: re-ingest, or give a filter); otherwise *missing is NULL.
 * Both are static strings. The one place the runner and the network queries decide this. */
PM_API pm_status pm_network_default_where(pm_store *store, const char *layer, const char **where,
                                          const char **missing);

/* For each feature (fid order): columns from_fid, from_name, routable (some access point within
 * max_snap_m of the network), snap_m (the shortest leg from an access point to the network),
 * reached_km (length of the network within within_m, partly reached edges up to the reached
 * point), reached_nodes (junctions and ends reached), note (why a feature is unroutable). A
 * feature is entered as §5 says: a point at itself, a polygon from points along its exterior
 * boundary every 20 m and at every vertex, a line from its vertices and every 20 m along it.
 * lines (may be NULL) receives the reached network in bands of 50 m of walked distance: columns
 * from_fid, from_name, distance_m (the band's upper bound), band ("0-50 m"), length_m, wkt (a
 * MultiLineString in the project CRS); areas (may be NULL) the service areas, the reached network
 * widened by access_width_m: from_fid, from_name, within_m, reached_km, area_m2, wkt (a
 * (Multi)Polygon). Unroutable features have no rows in lines and areas. Caller frees the tables. */
PM_API pm_status pm_query_reach(pm_context *ctx, pm_store *store, const pm_reach_query *q,
                                pm_table **out, pm_table **lines, pm_table **areas);

/* One end of a route: a feature (layer and fid), or a point in the project CRS (layer NULL). */
typedef struct pm_route_end {
  const char *layer;
  int64_t fid;
  double x, y;
} pm_route_end;

typedef struct pm_route_query {
  pm_route_end from, to;
  pm_network_query network;
} pm_route_query;

/* The shortest walk between two ends (d of §5: the legs to the network and the path along it; a
 * polygon or line is entered from its access points as for reach, the best pair wins). One row:
 * from, from_name, to, to_name, walk_m (NULL when no walk exists: an end is unroutable or the two
 * lie on pieces of network that do not meet; note says which), straight_m (the straight-line
 * distance between the two geometries), detour (walk_m / straight_m), from_snap_m, to_snap_m,
 * note, wkt (the walk as a LineString from the start point through the network to the end point).
 * An unknown layer or fid is PM_ENOTFOUND. Caller frees *out. */
PM_API pm_status pm_query_route(pm_context *ctx, pm_store *store, const pm_route_query *q,
                                pm_table **out);

#ifdef __cplusplus
}
#endif
#endif
