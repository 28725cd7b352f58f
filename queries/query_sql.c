/* query_sql.c: `planmetrics sql`: one read-only SpatiaLite statement on the project, as a table. */
#include "planmetrics/query.h"

#include <ctype.h>
#include <sqlite3.h>
#include <spatialite/gaiageo.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/internal.h"
#include "store/store_internal.h"

static pm_status oom(pm_context *ctx) { return pm_error(ctx, PM_ENOMEM, "out of memory"); }

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Skip blanks, comments and semicolons: what may follow the one statement. */
static const char *skip_trailer(const char *p) {
  for (;;) {
    while (*p && (isspace((unsigned char)*p) || *p == ';')) p++;
    if (p[0] == '-' && p[1] == '-') {
      while (*p && *p != '\n') p++;
    } else if (p[0] == '/' && p[1] == '*') {
      const char *e = strstr(p + 2, "*/");
      if (!e) return p + strlen(p);
      p = e + 2;
    } else {
      return p;
    }
  }
}

/* "a, b, c" of the project's layers (caller frees), or NULL when it cannot be listed. */
static char *layer_list(pm_store *store) {
  pm_layer_info *all = NULL;
  size_t n = 0;
  if (pm_store_list_layers(store, &all, &n)) return NULL;
  size_t len = 1;
  for (size_t i = 0; i < n; i++) len += strlen(all[i].name) + 2;
  char *list = calloc(len, 1);
  for (size_t i = 0; list && i < n; i++) {
    if (i) strcat(list, ", ");
    strcat(list, all[i].name);
  }
  pm_layer_info_destroy_all(all, n);
  return list;
}

/* msg must not point into SQLite's own error buffer: listing the layers replaces that. */
static pm_status sql_error(pm_context *ctx, pm_store *store, const char *msg) {
  char *layers = NULL;
  const char *hint = "";
  if (strstr(msg, "no such table")) {
    layers = layer_list(store);
    hint = layers ? "; the project's layers are: " : "";
  } else if (strstr(msg, "no such column")) {
    hint = "; list a layer's fields with PRAGMA table_info(LAYER)";
  }
  pm_status st = pm_error(ctx, PM_EINPUT, "SQL: %s%s%s", msg, hint, layers ? layers : "");
  free(layers);
  return st;
}

/* What a statement tried to change while it ran: SpatiaLite's administrative functions
 * (DropGeoTable, CreateSpatialIndex, UpdateLayerStatistics ...) are called from a SELECT, which
 * SQLite deems read-only, and write through statements of their own; they report a failure by
 * printing it and answering 0, so the attempt itself is what must be caught. */
typedef struct write_guard {
  int denied;
  char what[160];
} write_guard;

static const char *action_name(int action) {
  switch (action) {
  case SQLITE_INSERT: return "insert into";
  case SQLITE_UPDATE: return "update";
  case SQLITE_DELETE: return "delete from";
  case SQLITE_DROP_TABLE: case SQLITE_DROP_TEMP_TABLE: return "drop table";
  case SQLITE_DROP_INDEX: case SQLITE_DROP_TEMP_INDEX: return "drop index";
  case SQLITE_DROP_TRIGGER: case SQLITE_DROP_TEMP_TRIGGER: return "drop trigger";
  case SQLITE_DROP_VIEW: case SQLITE_DROP_TEMP_VIEW: return "drop view";
  case SQLITE_DROP_VTABLE: return "drop virtual table";
  case SQLITE_CREATE_TABLE: case SQLITE_CREATE_TEMP_TABLE: return "create table";
  case SQLITE_CREATE_INDEX: case SQLITE_CREATE_TEMP_INDEX: return "create index";
  case SQLITE_CREATE_TRIGGER: case SQLITE_CREATE_TEMP_TRIGGER: return "create trigger";
  case SQLITE_CREATE_VIEW: case SQLITE_CREATE_TEMP_VIEW: return "create view";
  case SQLITE_CREATE_VTABLE: return "create virtual table";
  case SQLITE_ALTER_TABLE: return "alter table";
  case SQLITE_ATTACH: return "attach";
  case SQLITE_DETACH: return "detach";
  case SQLITE_ANALYZE: return "analyze";
  case SQLITE_REINDEX: return "reindex";
  default: return "change";
  }
}

/* Allow reading only (SELECT, reads, functions, pragmas, transactions); refuse and remember any
 * change, however deep in a function it is asked for. The database is also opened read-only when
 * the caller follows query.h; this guard holds on a writable store too. */
static int read_only_authorizer(void *user, int action, const char *a, const char *b,
                                const char *db, const char *trigger) {
  (void)b;
  (void)db;
  (void)trigger;
  switch (action) {
  case SQLITE_SELECT:
  case SQLITE_READ:
  case SQLITE_FUNCTION:
  case SQLITE_PRAGMA:
  case SQLITE_RECURSIVE:
  case SQLITE_TRANSACTION:
  case SQLITE_SAVEPOINT: return SQLITE_OK;
  default: break;
  }
  write_guard *g = user;
  if (!g->denied++)
    snprintf(g->what, sizeof g->what, "%s%s%s", action_name(action), a ? " " : "", a ? a : "");
  return SQLITE_DENY;
}

/* Quote at most 60 bytes of the statement, cut at a character boundary: its length for "%.*s". */
static int quote_len(const char *sql) {
  int n = (int)strlen(sql);
  if (n > 60) {
    n = 60;
    while (n > 0 && ((unsigned char)sql[n] & 0xC0) == 0x80) n--;
  }
  return n;
}

/* A SpatiaLite geometry blob as WKT (NULL when the blob is not a geometry). Caller frees. */
static pm_status blob_wkt(pm_context *ctx, pm_store *store, sqlite3_stmt **astext,
                          const void *blob, int len, char **wkt) {
  *wkt = NULL;
  if (!*astext) {
    pm_status st = pm__store_prepare(store, "converting geometries to WKT", "SELECT AsText(?1)", astext);
    if (st) return st;
  }
  sqlite3_reset(*astext);
  sqlite3_bind_blob(*astext, 1, blob, len, SQLITE_STATIC);
  if (sqlite3_step(*astext) == SQLITE_ROW && sqlite3_column_type(*astext, 0) == SQLITE_TEXT) {
    if (!(*wkt = strdup((const char *)sqlite3_column_text(*astext, 0)))) return oom(ctx);
  }
  sqlite3_reset(*astext);
  sqlite3_clear_bindings(*astext);
  return PM_OK;
}

pm_status pm_query_sql(pm_context *ctx, pm_store *store, const char *sql, pm_table **out) {
  *out = NULL;
  sqlite3 *db = pm__store_db(store);
  if (!sql || !*skip_trailer(sql))
    return pm_error(ctx, PM_EINPUT,
                    "give one SQL statement, e.g. \"SELECT name, AsText(geom) FROM bus_stops "
                    "LIMIT 5\"");
  sqlite3_stmt *q = NULL;
  const char *tail = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &q, &tail) != SQLITE_OK) {
    char *msg = strdup(sqlite3_errmsg(db));
    pm_status st = msg ? sql_error(ctx, store, msg) : oom(ctx);
    free(msg);
    return st;
  }
  if (!q)
    return pm_error(ctx, PM_EINPUT, "the SQL holds no statement; give one, e.g. \"SELECT ...\"");
  if (tail && *skip_trailer(tail)) {
    sqlite3_finalize(q);
    return pm_error(ctx, PM_EINPUT,
                    "give one SQL statement at a time (found more after the first `;`)");
  }
  if (!sqlite3_stmt_readonly(q)) {
    int n = quote_len(sql);
    pm_status st = pm_error(ctx, PM_EINPUT,
                            "SQL: `%.*s%s` would change the project database; `sql` only reads "
                            "(SELECT ...). Layers are changed by re-ingesting them",
                            n, sql, sql[n] ? "..." : "");
    sqlite3_finalize(q);
    return st;
  }
  int nc = sqlite3_column_count(q);
  const char **cols = calloc(nc > 0 ? (size_t)nc : 1, sizeof *cols);
  if (!cols) {
    sqlite3_finalize(q);
    return oom(ctx);
  }
  for (int c = 0; c < nc; c++) {
    cols[c] = sqlite3_column_name(q, c);
    if (!cols[c]) cols[c] = "?";
  }
  pm_table *t = NULL;
  pm_status st = pm_table_create(ctx, cols, (size_t)nc, &t);
  free(cols);
  sqlite3_stmt *astext = NULL;
  int rc = SQLITE_DONE;
  write_guard guard = {0};
  const void *splite = pm__store_spatialite(store);
  sqlite3_set_authorizer(db, read_only_authorizer, &guard);
  gaiaResetGeosMsg_r(splite);
  size_t row = 0, bytes = 0;
  /* The limits cover the whole statement here, the rows it hands over included: an endless
   * recursive WITH produces rows forever, and they would fill the memory. */
  double timeout = pm__store_timeout(store), start = seconds_now();
  int64_t max_bytes = pm__store_memory_limit(store);
  const char *stopped = NULL;
  char why[160];
  while (!st) {
    rc = pm__store_step(store, q);
    row += rc == SQLITE_ROW;
    if (rc == SQLITE_ROW && timeout > 0 && (row & 1023) == 0 && seconds_now() - start > timeout) {
      snprintf(why, sizeof why, "it ran longer than %g s, the --timeout limit", timeout);
      stopped = why;
    }
    if (rc == SQLITE_ROW && max_bytes > 0 && (int64_t)bytes > max_bytes / 2) {
      snprintf(why, sizeof why, "its result passed %lld MB, the limit",
               (long long)(max_bytes >> 21));
      stopped = why;
    }
    if (stopped) break;
    /* SpatiaLite answers NULL (or -1) when GEOS fails, keeping the message in its cache */
    const char *geos = gaiaGetGeosErrorMsg_r(splite);
    if (geos && *geos && !guard.denied) {
      if (rc == SQLITE_ROW)
        st = pm_error(ctx, PM_EINPUT, "SQL: row %zu: GEOS error in a SpatiaLite function: %s "
                      "(invalid geometries can be repaired with ST_MakeValid(geom))", row, geos);
      else
        st = pm_error(ctx, PM_EINPUT, "SQL: GEOS error in a SpatiaLite function: %s (invalid "
                      "geometries can be repaired with ST_MakeValid(geom))", geos);
      break;
    }
    if (rc != SQLITE_ROW || guard.denied) break;
    size_t r;
    if ((st = pm_table_add_row(ctx, t, &r))) break;
    bytes += 16 * (size_t)(nc + 1);
    for (int c = 0; !st && c < nc; c++) {
      switch (sqlite3_column_type(q, c)) {
      case SQLITE_INTEGER: st = pm_table_set_int(ctx, t, r, (size_t)c, sqlite3_column_int64(q, c)); break;
      case SQLITE_FLOAT:
        st = pm_table_set_real(ctx, t, r, (size_t)c, sqlite3_column_double(q, c), -1);
        break;
      case SQLITE_TEXT:
        st = pm_table_set_text(ctx, t, r, (size_t)c, (const char *)sqlite3_column_text(q, c));
        bytes += (size_t)sqlite3_column_bytes(q, c);
        break;
      case SQLITE_BLOB: {
        int len = sqlite3_column_bytes(q, c);
        const void *blob = sqlite3_column_blob(q, c);
        char *wkt = NULL;
        st = blob_wkt(ctx, store, &astext, blob, len, &wkt);
        bytes += wkt ? strlen(wkt) : 32;
        if (!st && wkt) {
          st = pm_table_set_text(ctx, t, r, (size_t)c, wkt);
        } else if (!st) {
          char buf[48];
          snprintf(buf, sizeof buf, "<blob %d bytes>", len);
          st = pm_table_set_text(ctx, t, r, (size_t)c, buf);
        }
        free(wkt);
        break;
      }
      default: break; /* NULL */
      }
    }
  }
  const char *limit = !st && !stopped && rc != SQLITE_ROW && rc != SQLITE_DONE
                          ? pm__store_limit_message(store, why, sizeof why)
                          : NULL;
  if (!st && (stopped || limit)) {
    int n = quote_len(sql);
    if (stopped) limit = stopped;
    st = pm_error(ctx, PM_EINPUT, "SQL: `%.*s%s` was stopped: %s; %s", n, sql, sql[n] ? "..." : "",
                  limit,
                  strstr(limit, "--timeout")
                      ? "add a LIMIT, narrow the query or end a recursive WITH (or raise --timeout)"
                      : "narrow the query (a LIMIT, fewer or smaller values)");
  } else if (!st && guard.denied) {
    int n = quote_len(sql);
    st = pm_error(ctx, PM_EINPUT,
                  "SQL: `%.*s%s` tried to change the project database (%s): `sql` only reads, and "
                  "SpatiaLite's functions that write (DropGeoTable, CreateSpatialIndex, ...) are "
                  "refused. Layers are changed by re-ingesting them",
                  n, sql, sql[n] ? "..." : "", guard.what);
  } else if (!st && rc != SQLITE_DONE) {
    char *msg = strdup(sqlite3_errmsg(db));
    st = msg ? sql_error(ctx, store, msg) : oom(ctx);
    free(msg);
  }
  sqlite3_finalize(astext);
  sqlite3_finalize(q);
  sqlite3_set_authorizer(db, NULL, NULL);
  gaiaResetGeosMsg_r(splite);
  if (!st) st = pm_table_set_summary(ctx, t, "%zu row%s", t->n_rows, t->n_rows == 1 ? "" : "s");
  if (st) {
    pm_table_destroy(t);
    return st;
  }
  *out = t;
  return PM_OK;
}
