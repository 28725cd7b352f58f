/* store_internal.h: the project database's SQLite handle and SQL quoting, for the library's own
 * modules (store, queries' read-only SQL, report's export); not part of the API. */
#ifndef PM_STORE_INTERNAL_H
#define PM_STORE_INTERNAL_H

#include <sqlite3.h>

#include "planmetrics/store.h"

/* The project's own tables (besides SpatiaLite's metadata and the layer tables). */
#define PM__STORE_TABLES                                                                           \
  "CREATE TABLE IF NOT EXISTS pm_project (key TEXT PRIMARY KEY, value TEXT);"                      \
  "CREATE TABLE IF NOT EXISTS layers ("                                                            \
  " name TEXT PRIMARY KEY, kind TEXT NOT NULL, geometry_type TEXT NOT NULL,"                       \
  " source_path TEXT, source_layer TEXT, source_hash TEXT, source_crs TEXT, encoding TEXT,"       \
  " filter TEXT, options TEXT, n_read INTEGER, n_stored INTEGER, n_repaired INTEGER,"            \
  " n_dropped INTEGER, repaired_ids TEXT, dropped_ids TEXT,"                                      \
  " minx REAL, miny REAL, maxx REAL, maxy REAL, ingested_at TEXT);"

/* The page size of a new project database: 16 KB pages make the bulk load of a layer about 5 %
 * cheaper than SQLite's default 4 KB (fewer pages to allocate, fill and write) and change nothing
 * else (the R*Tree's nodes have the same 51 cells). */
#define PM__STORE_PAGE_SIZE_PRAGMA "PRAGMA page_size = 16384;"

/* A new project database as InitSpatialMetadata(1) and PM__STORE_TABLES make it, made at build
 * time (store/make_template.c), LZ4-compressed: size bytes inflating to raw_size, made by the
 * SpatiaLite version named. */
extern const unsigned char pm__project_template[];
extern const size_t pm__project_template_size, pm__project_template_raw_size;
extern const char pm__project_template_spatialite[];

/* The open connection; borrowed, valid until pm_store_close. */
sqlite3 *pm__store_db(pm_store *store);
/* The connection's SpatiaLite cache (where SpatiaLite keeps the last GEOS error); borrowed. */
const void *pm__store_spatialite(pm_store *store);

/* Whether a transaction (or savepoint) is open. */
int pm__store_in_transaction(const pm_store *store);

/* Quote an SQL identifier ("a""b") into a new heap string (NULL when out of memory). Caller frees. */
char *pm__sql_ident(const char *name);

/* Execute SQL that returns no rows; errors name the SQL's purpose (what) for the user. */
pm_status pm__store_exec(pm_store *store, const char *what, const char *sql);
/* Prepare one statement; on error the message names `what`. Caller finalizes *out. */
pm_status pm__store_prepare(pm_store *store, const char *what, const char *sql, sqlite3_stmt **out);

/* The project database schema this planmetrics writes (PRAGMA user_version): 1 = planmetrics 0.1
 * (user_version 0 on disk), 2 = runs record their parameters and districts. A newer one is
 * refused when opened. */
#define PM__STORE_SCHEMA 2
/* Mark the database as being of schema PM__STORE_SCHEMA (inside the caller's transaction). */
pm_status pm__store_set_schema(pm_store *store);

#endif
