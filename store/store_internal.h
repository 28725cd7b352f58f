/* store_internal.h: the project database's SQLite handle and SQL quoting, for the library's own
 * modules (store, queries' read-only SQL, report's export); not part of the API. */
#ifndef PM_STORE_INTERNAL_H
#define PM_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdint.h>

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
/* The open project (store/file.c opens, creates and commits it; store.c reads and writes its
 * tables). */
struct pm_store {
  pm_context *ctx;
  sqlite3 *db;             /* NULL once a failed creation gave the file up */
  void *spatialite_cache;
  char *path;              /* as the caller named it: messages, and where a new project goes */
  char *file;              /* a new project's temporary file until it is put in place */
  int pending;             /* a new project not yet in place (the outermost commit puts it) */
  int readonly;
  int in_transaction;
  int srid;
  char crs_name[32];
  /* waiting for another process's lock */
  double wait_s, busy_since;
  int busy_noticed;
  /* limits on statements (0: none) and the clock of the running one */
  double timeout_s;
  int64_t memory_limit;
  sqlite3_stmt *active[8];
  size_t n_active;
  double spent, resumed;
  int paused;
  unsigned n_progress;
  int limit_hit;           /* PM__LIMIT_*: why SQLite interrupted the last statement */
  void *old_caches[8];     /* SpatiaLite caches of connections closed while statements lived */
  size_t n_old_caches;
};
enum { PM__LIMIT_TIME = 1, PM__LIMIT_MEMORY = 2 };

/* Whether the project database has a table of that name (exactly). */
int pm__store_has_table(pm_store *store, const char *name);

/* The open connection; borrowed, valid until pm_store_close. */
sqlite3 *pm__store_db(pm_store *store);
/* The connection's SpatiaLite cache (where SpatiaLite keeps the last GEOS error); borrowed. */
const void *pm__store_spatialite(pm_store *store);

/* Whether a transaction (or savepoint) is open. */
int pm__store_in_transaction(const pm_store *store);

/* Quote an SQL identifier ("a""b") into a new heap string (NULL when out of memory). Caller frees. */
char *pm__sql_ident(const char *name);

/* The error of the connection's last call, as a message for the user naming `what` was being
 * done: another process holding the project (PM_EBUSY), a limit reached, a full disk, else st
 * with SQLite's message (or detail when given). */
pm_status pm__store_fail(pm_store *store, pm_status st, const char *what, const char *detail);
/* Why the last statement was stopped by a limit ("it ran longer than 60 s, the --timeout
 * limit") into buf, or NULL when it was not. */
const char *pm__store_limit_message(const pm_store *store, char *buf, size_t size);
/* sqlite3_step for loops over many rows: the statement's clock (pm_store_set_timeout) runs
 * from here to the next row, so the caller's work between rows does not count, and SQLite's
 * does however long one call takes. */
int pm__store_step(pm_store *store, sqlite3_stmt *q);
/* The limits set with pm_store_set_timeout (0: none). */
double pm__store_timeout(const pm_store *store);
int64_t pm__store_memory_limit(const pm_store *store);
/* Read the project CRS from pm_project into the store. */
pm_status pm__store_load_crs(pm_store *store);
/* A layer may be written as `name` only when no other layer has that name in another case
 * (layer names are case-insensitive, as SQLite's table names are) and no table of another
 * program has it. PM_EINPUT with a message naming the existing one otherwise. */
pm_status pm__store_check_layer_write(pm_store *store, const char *name);

/* A bulk load into a SpatiaLite table without its per-row triggers (geometry check, insert time,
 * R*Tree insert, each an SQL statement per row): pm__store_triggers_aside drops the table's
 * triggers, keeping their SQL in *t; pm__store_triggers_restore creates them again from it (and
 * clears *t), after the caller has done their work in bulk (the R*Tree entries, and
 * pm__store_note_insert for the insert time). Inside the caller's transaction: a rollback brings
 * the triggers back too. pm__store_triggers_clear frees *t. */
typedef struct pm__store_triggers {
  char **sql;
  size_t n;
} pm__store_triggers;
pm_status pm__store_triggers_aside(pm_store *store, const char *table, pm__store_triggers *t);
pm_status pm__store_triggers_restore(pm_store *store, pm__store_triggers *t);
void pm__store_triggers_clear(pm__store_triggers *t);
/* What SpatiaLite's insert-time trigger records (geometry_columns_time.last_insert of table.geom). */
pm_status pm__store_note_insert(pm_store *store, const char *table);

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
