/* store_internal.h: the project database's SQLite handle and SQL quoting, for the library's own
 * modules (store, queries' read-only SQL, report's export); not part of the API. */
#ifndef PM_STORE_INTERNAL_H
#define PM_STORE_INTERNAL_H

#include <sqlite3.h>

#include "planmetrics/store.h"

/* The open connection; borrowed, valid until pm_store_close. */
sqlite3 *pm__store_db(pm_store *store);
/* The connection's SpatiaLite cache (where SpatiaLite keeps the last GEOS error); borrowed. */
const void *pm__store_spatialite(pm_store *store);

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
