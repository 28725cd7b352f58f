/* store_internal.h: the project database's SQLite handle and SQL quoting, for the library's own
 * modules (store, queries' read-only SQL, report's export); not part of the API. */
#ifndef PM_STORE_INTERNAL_H
#define PM_STORE_INTERNAL_H

#include <sqlite3.h>

#include "planmetrics/store.h"

/* The open connection; borrowed, valid until pm_store_close. */
sqlite3 *pm__store_db(pm_store *store);

/* Whether a transaction (or savepoint) is open. */
int pm__store_in_transaction(const pm_store *store);

/* Quote an SQL identifier ("a""b") into a new heap string (NULL when out of memory). Caller frees. */
char *pm__sql_ident(const char *name);

/* Execute SQL that returns no rows; errors name the SQL's purpose (what) for the user. */
pm_status pm__store_exec(pm_store *store, const char *what, const char *sql);
/* Prepare one statement; on error the message names `what`. Caller finalizes *out. */
pm_status pm__store_prepare(pm_store *store, const char *what, const char *sql, sqlite3_stmt **out);

#endif
