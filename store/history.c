/* history.c: the run history: record runs in the project database, load them back, show progress. */
#define _POSIX_C_SOURCE 200809L
#include "planmetrics/history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"
#include "store/history_internal.h"
#include "store/store_internal.h"

static const char *HISTORY_SCHEMA =
    "CREATE TABLE IF NOT EXISTS pm_runs ("
    " run_id INTEGER PRIMARY KEY, plan TEXT, title TEXT, plan_path TEXT, plan_hash TEXT,"
    " crs TEXT, started_at TEXT, finished_at TEXT, input_hashes TEXT, exit_code INTEGER,"
    " districts_layer TEXT, districts_field TEXT, timezone TEXT, attributions TEXT);"
    "CREATE TABLE IF NOT EXISTS pm_indicators ("
    " run_id INTEGER NOT NULL, indicator_id TEXT NOT NULL, ind_ord INTEGER, params TEXT,"
    " distance TEXT, network TEXT, PRIMARY KEY (run_id, indicator_id));"
    "CREATE TABLE IF NOT EXISTS pm_results ("
    " run_id INTEGER NOT NULL, indicator_id TEXT NOT NULL, title TEXT, metric TEXT, unit TEXT,"
    " status TEXT, status_reason TEXT, target_op TEXT, target_value REAL, district TEXT,"
    " value REAL, null_reason TEXT, numerator REAL, denominator REAL, has_ratio INTEGER,"
    " met INTEGER, n_gaps INTEGER, ord INTEGER, ind_ord INTEGER, has_target INTEGER,"
    " target REAL);"
    "CREATE INDEX IF NOT EXISTS pm_results_run ON pm_results(run_id, ind_ord, ord);"
    "CREATE TABLE IF NOT EXISTS pm_gaps ("
    " run_id INTEGER NOT NULL, indicator_id TEXT NOT NULL, district TEXT, ord INTEGER, id TEXT,"
    " name TEXT, distance_m REAL, shortfall REAL, nearest TEXT, note TEXT, x REAL, y REAL,"
    " result_ord INTEGER, gap_district TEXT, straight_m REAL);"
    "CREATE INDEX IF NOT EXISTS pm_gaps_run ON pm_gaps(run_id, indicator_id, result_ord, ord);"
    "CREATE TABLE IF NOT EXISTS pm_classes ("
    " run_id INTEGER NOT NULL, indicator_id TEXT NOT NULL, district TEXT, label TEXT,"
    " count INTEGER, result_ord INTEGER, ord INTEGER);"
    "CREATE INDEX IF NOT EXISTS pm_classes_run ON pm_classes(run_id, indicator_id, result_ord, ord);"
    "CREATE TABLE IF NOT EXISTS pm_facilities ("
    " run_id INTEGER NOT NULL, indicator_id TEXT NOT NULL, district TEXT, name TEXT, value REAL,"
    " numerator REAL, denominator REAL, result_ord INTEGER, ord INTEGER);"
    "CREATE TABLE IF NOT EXISTS pm_details ("
    " run_id INTEGER NOT NULL, indicator_id TEXT NOT NULL, role TEXT, district TEXT, id TEXT,"
    " name TEXT, covered INTEGER, distance_m REAL, nearest TEXT, ord INTEGER, geom_type TEXT);"
    "CREATE INDEX IF NOT EXISTS pm_details_run ON pm_details(run_id, indicator_id, ord);";

/* ---------- small helpers ---------- */

/* Whether pm_details.geom is registered (it is added once the project CRS is known). */
static int details_has_geom(sqlite3 *db) {
  sqlite3_stmt *q = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(db,
                         "SELECT 1 FROM geometry_columns WHERE lower(f_table_name)='pm_details' "
                         "AND lower(f_geometry_column)='geom'",
                         -1, &q, NULL) == SQLITE_OK)
    found = sqlite3_step(q) == SQLITE_ROW;
  sqlite3_finalize(q);
  return found;
}

static int column_exists(sqlite3 *db, const char *table, const char *column) {
  sqlite3_stmt *q = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?", -1, &q, NULL) ==
      SQLITE_OK) {
    sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, column, -1, SQLITE_STATIC);
    found = sqlite3_step(q) == SQLITE_ROW;
  }
  sqlite3_finalize(q);
  return found;
}

/* Create the history tables, or bring those of an older planmetrics up to date (inside the
 * caller's transaction, so a failed run migrates nothing). */
static pm_status ensure_schema(pm_store *s, int srid) {
  pm_status st = pm__store_exec(s, "creating the run history tables", HISTORY_SCHEMA);
  static const char *const ADDED[] = {"districts_layer", "districts_field", "timezone",
                                      "attributions"};
  for (size_t i = 0; !st && i < PM_ARRAY_LEN(ADDED); i++) {
    if (column_exists(pm__store_db(s), "pm_runs", ADDED[i])) continue;
    char sql[96];
    snprintf(sql, sizeof sql, "ALTER TABLE pm_runs ADD COLUMN %s TEXT", ADDED[i]);
    st = pm__store_exec(s, "bringing the run history to schema 2", sql);
  }
  static const struct {
    const char *table, *column, *type;
  } ADDED2[] = {{"pm_details", "geom_type", "TEXT"}, {"pm_gaps", "straight_m", "REAL"},
                {"pm_indicators", "distance", "TEXT"}, {"pm_indicators", "network", "TEXT"}};
  for (size_t i = 0; !st && i < PM_ARRAY_LEN(ADDED2); i++) {
    if (column_exists(pm__store_db(s), ADDED2[i].table, ADDED2[i].column)) continue;
    char sql[128];
    snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", ADDED2[i].table,
             ADDED2[i].column, ADDED2[i].type);
    st = pm__store_exec(s, "bringing the run history to schema 2", sql);
  }
  if (!st) st = pm__store_set_schema(s);
  if (!st && srid > 0) st = pm__details_schema(s, srid);
  return st;
}

void pm__bind_text(sqlite3_stmt *q, int i, const char *v) {
  if (v)
    sqlite3_bind_text(q, i, v, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(q, i);
}

void pm__bind_real(sqlite3_stmt *q, int i, double v) {
  if (isnan(v))
    sqlite3_bind_null(q, i);
  else
    sqlite3_bind_double(q, i, v);
}

static double col_real(sqlite3_stmt *q, int i) {
  return sqlite3_column_type(q, i) == SQLITE_NULL ? NAN : sqlite3_column_double(q, i);
}

/* Copy a text column (NULL stays NULL). Returns -1 when out of memory. */
static int col_str(sqlite3_stmt *q, int i, char **dst) {
  *dst = NULL;
  const unsigned char *t = sqlite3_column_text(q, i);
  if (!t) return 0;
  size_t n = (size_t)sqlite3_column_bytes(q, i);
  *dst = malloc(n + 1);
  if (!*dst) return -1;
  memcpy(*dst, t, n);
  (*dst)[n] = '\0';
  return 0;
}

static pm_status db_fail(pm_store *s, const char *what) {
  return pm_error(pm_store_context(s), PM_EDB, "%s: %s (%s)", pm_store_path(s), what,
                  sqlite3_errmsg(pm__store_db(s)));
}

static pm_status step_done(pm_store *s, sqlite3_stmt *q, const char *what) {
  int rc = sqlite3_step(q);
  pm_status st = rc == SQLITE_DONE ? PM_OK : db_fail(s, what);
  sqlite3_reset(q);
  sqlite3_clear_bindings(q);
  return st;
}

/* -1 no verdict, else 0/1. */
static int verdict(const pm_result *r) {
  if (!r->has_target || !r->has_value) return -1;
  return r->met ? 1 : 0;
}

/* Append room for one element to an array whose capacity is implied by its length (powers of
 * two), so loaders need no separate capacity per array. The new element is zeroed. */
static int push(void **arr, size_t n, size_t elem) {
  if (n == 0 || (n & (n - 1)) == 0) {
    size_t cap = n ? 2 * n : 1;
    void *p = realloc(*arr, cap * elem);
    if (!p) return -1;
    *arr = p;
  }
  memset((char *)*arr + n * elem, 0, elem);
  return 0;
}

static pm_indicator_status status_from_name(const char *s) {
  if (s && strcmp(s, "no data") == 0) return PM_IND_NO_DATA;
  if (s && strcmp(s, "manual") == 0) return PM_IND_MANUAL;
  return PM_IND_COMPUTED;
}

/* ---------- recording ---------- */

typedef struct rec_stmts {
  sqlite3_stmt *res, *gap, *cls, *det, *par, *fac;
  pm__details_writer *geoms; /* NULL while the project has no CRS (and so no geometry) */
} rec_stmts;

static pm_status record_indicator(pm_store *s, rec_stmts *q, int64_t run_id,
                                  const pm_indicator_result *ir, size_t k) {
  pm_context *ctx = pm_store_context(s);
  pm_status st = PM_OK;
  const char *status = pm_indicator_status_name(ir->status);
  sqlite3_bind_int64(q->par, 1, run_id);
  pm__bind_text(q->par, 2, ir->id);
  sqlite3_bind_int64(q->par, 3, (sqlite3_int64)k);
  pm__bind_text(q->par, 4, ir->params);
  pm__bind_text(q->par, 5, ir->distance);
  pm__bind_text(q->par, 6, ir->network);
  if ((st = step_done(s, q->par, "recording the parameters of an indicator"))) return st;
  size_t nrows = ir->n_results ? ir->n_results : 1;
  for (size_t i = 0; !st && i < nrows; i++) {
    const pm_result *r = ir->n_results ? &ir->results[i] : NULL;
    sqlite3_stmt *x = q->res;
    sqlite3_bind_int64(x, 1, run_id);
    pm__bind_text(x, 2, ir->id);
    pm__bind_text(x, 3, ir->title);
    pm__bind_text(x, 4, ir->metric);
    pm__bind_text(x, 5, ir->unit);
    pm__bind_text(x, 6, status);
    pm__bind_text(x, 7, ir->status_reason);
    pm__bind_text(x, 8, ir->has_target ? ir->target_op : NULL);
    pm__bind_real(x, 9, ir->has_target ? ir->target_value : NAN);
    sqlite3_bind_int64(x, 18, r ? (sqlite3_int64)i : -1);
    sqlite3_bind_int64(x, 19, (sqlite3_int64)k);
    if (r) {
      pm__bind_text(x, 10, r->district);
      pm__bind_real(x, 11, r->has_value ? r->value : NAN);
      pm__bind_text(x, 12, r->has_value ? NULL : r->null_reason);
      pm__bind_real(x, 13, r->numerator);
      pm__bind_real(x, 14, r->denominator);
      sqlite3_bind_int(x, 15, r->has_ratio ? 1 : 0);
      int v = verdict(r);
      if (v < 0)
        sqlite3_bind_null(x, 16);
      else
        sqlite3_bind_int(x, 16, v);
      sqlite3_bind_int64(x, 17, (sqlite3_int64)r->n_gaps);
      sqlite3_bind_int(x, 20, r->has_target ? 1 : 0);
      pm__bind_real(x, 21, r->has_target ? r->target : NAN);
    } else {
      sqlite3_bind_int(x, 15, 0);
      sqlite3_bind_int(x, 17, 0);
      sqlite3_bind_int(x, 20, 0);
    }
    st = step_done(s, x, "recording a result in the run history");
    if (!r) break;
    for (size_t g = 0; !st && g < r->n_gaps; g++) {
      const pm_gap *gp = &r->gaps[g];
      sqlite3_stmt *y = q->gap;
      sqlite3_bind_int64(y, 1, run_id);
      pm__bind_text(y, 2, ir->id);
      pm__bind_text(y, 3, r->district);
      sqlite3_bind_int64(y, 4, (sqlite3_int64)g);
      pm__bind_text(y, 5, gp->id);
      pm__bind_text(y, 6, gp->name);
      pm__bind_real(y, 7, gp->distance_m);
      pm__bind_real(y, 8, gp->shortfall);
      pm__bind_text(y, 9, gp->nearest);
      pm__bind_text(y, 10, gp->note);
      pm__bind_real(y, 11, gp->x);
      pm__bind_real(y, 12, gp->y);
      sqlite3_bind_int64(y, 13, (sqlite3_int64)i);
      pm__bind_text(y, 14, gp->district);
      pm__bind_real(y, 15, gp->straight_m);
      st = step_done(s, y, "recording a gap in the run history");
    }
    for (size_t c = 0; !st && c < r->n_facilities; c++) {
      sqlite3_stmt *y = q->fac;
      const pm_facility_share *fs = &r->facilities[c];
      sqlite3_bind_int64(y, 1, run_id);
      pm__bind_text(y, 2, ir->id);
      pm__bind_text(y, 3, r->district);
      pm__bind_text(y, 4, fs->name);
      pm__bind_real(y, 5, fs->has_value ? fs->value : NAN);
      pm__bind_real(y, 6, fs->numerator);
      pm__bind_real(y, 7, fs->denominator);
      sqlite3_bind_int64(y, 8, (sqlite3_int64)i);
      sqlite3_bind_int64(y, 9, (sqlite3_int64)c);
      st = step_done(s, y, "recording a facility share in the run history");
    }
    for (size_t c = 0; !st && c < r->n_classes; c++) {
      sqlite3_stmt *y = q->cls;
      sqlite3_bind_int64(y, 1, run_id);
      pm__bind_text(y, 2, ir->id);
      pm__bind_text(y, 3, r->district);
      pm__bind_text(y, 4, r->classes[c].label);
      sqlite3_bind_int64(y, 5, r->classes[c].count);
      sqlite3_bind_int64(y, 6, (sqlite3_int64)i);
      sqlite3_bind_int64(y, 7, (sqlite3_int64)c);
      st = step_done(s, y, "recording a class count in the run history");
    }
  }
  for (size_t d = 0; !st && d < ir->n_details; d++) {
    const pm_detail *dt = &ir->details[d];
    char *geom_type = NULL;
    if (dt->wkb && dt->wkb_len && !q->geoms)
      return pm_error(ctx, PM_EINTERNAL,
                      "%s: the run of indicator '%s' has geometries but the project CRS is not "
                      "set; the run history cannot store them",
                      pm_store_path(s), ir->id ? ir->id : "?");
    if (q->geoms && (st = pm__details_write(q->geoms, run_id, ir->id, d, dt, &geom_type))) break;
    sqlite3_stmt *y = q->det;
    sqlite3_bind_int64(y, 1, run_id);
    pm__bind_text(y, 2, ir->id);
    pm__bind_text(y, 3, dt->role);
    pm__bind_text(y, 4, dt->district);
    pm__bind_text(y, 5, dt->id);
    pm__bind_text(y, 6, dt->name);
    sqlite3_bind_int(y, 7, dt->covered);
    pm__bind_real(y, 8, dt->distance_m);
    pm__bind_text(y, 9, dt->nearest);
    sqlite3_bind_int64(y, 10, (sqlite3_int64)d);
    pm__bind_text(y, 11, geom_type);
    st = step_done(s, y, "recording a result detail in the run history");
    free(geom_type);
  }
  return st;
}

pm_status pm_history_record(pm_store *s, const pm_run_result *run, const char *plan_path,
                            const char *input_hashes_json, const char *started_at, int exit_code,
                            int64_t *run_id) {
  pm_context *ctx = pm_store_context(s);
  sqlite3 *db = pm__store_db(s);
  if (run_id) *run_id = 0;
  if (sqlite3_get_autocommit(db))
    return pm_error(ctx, PM_EINTERNAL,
                    "%s: the run history must be written inside a transaction (pm_store_begin)",
                    pm_store_path(s));
  int srid = 0;
  pm_store_crs(s, &srid, NULL);
  pm_status st = ensure_schema(s, srid);
  if (st) return st;

  char now[32];
  pm_utc_now(now, sizeof now);
  sqlite3_stmt *ins = NULL;
  if ((st = pm__store_prepare(s, "recording the run",
                             "INSERT INTO pm_runs (plan, title, plan_path, plan_hash, crs, "
                             "started_at, finished_at, input_hashes, exit_code, districts_layer, "
                             "districts_field, timezone, attributions) "
                             "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             &ins)))
    return st;
  pm__bind_text(ins, 1, run->plan);
  pm__bind_text(ins, 2, run->title);
  pm__bind_text(ins, 3, plan_path);
  pm__bind_text(ins, 4, run->plan_hash);
  pm__bind_text(ins, 5, run->crs);
  pm__bind_text(ins, 6, started_at);
  pm__bind_text(ins, 7, run->generated_at ? run->generated_at : now);
  pm__bind_text(ins, 8, input_hashes_json);
  sqlite3_bind_int(ins, 9, exit_code);
  pm__bind_text(ins, 10, run->districts_layer);
  pm__bind_text(ins, 11, run->districts_name_field);
  pm__bind_text(ins, 12, run->timezone);
  pm__bind_text(ins, 13, run->attributions);
  st = step_done(s, ins, "recording the run");
  sqlite3_finalize(ins);
  if (st) return st;
  int64_t id = sqlite3_last_insert_rowid(db);

  rec_stmts q = {0};
  if (!(st = pm__store_prepare(
            s, "recording results",
            "INSERT INTO pm_results (run_id, indicator_id, title, metric, unit, status, "
            "status_reason, target_op, target_value, district, value, null_reason, numerator, "
            "denominator, has_ratio, met, n_gaps, ord, ind_ord, has_target, target) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            &q.res)) &&
      !(st = pm__store_prepare(s, "recording gaps",
                              "INSERT INTO pm_gaps (run_id, indicator_id, district, ord, id, name, "
                              "distance_m, shortfall, nearest, note, x, y, result_ord, "
                              "gap_district, straight_m) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                              &q.gap)) &&
      !(st = pm__store_prepare(s, "recording parameters",
                               "INSERT INTO pm_indicators (run_id, indicator_id, ind_ord, params, "
                               "distance, network) VALUES (?,?,?,?,?,?)",
                               &q.par)) &&
      !(st = pm__store_prepare(s, "recording facility shares",
                               "INSERT INTO pm_facilities (run_id, indicator_id, district, name, "
                               "value, numerator, denominator, result_ord, ord) "
                               "VALUES (?,?,?,?,?,?,?,?,?)",
                               &q.fac)) &&
      !(st = pm__store_prepare(s, "recording class counts",
                              "INSERT INTO pm_classes (run_id, indicator_id, district, label, "
                              "count, result_ord, ord) VALUES (?,?,?,?,?,?,?)",
                              &q.cls)))
    st = pm__store_prepare(s, "recording result details",
                           "INSERT INTO pm_details (run_id, indicator_id, role, district, id, name, "
                           "covered, distance_m, nearest, ord, geom_type) "
                           "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           &q.det);
  if (!st && srid > 0) st = pm__details_writer_create(s, srid, &q.geoms);
  for (size_t k = 0; !st && k < run->n_indicators; k++)
    st = record_indicator(s, &q, id, &run->indicators[k], k);
  if (!st && q.geoms) st = pm__details_writer_finish(q.geoms);
  sqlite3_finalize(q.res);
  sqlite3_finalize(q.gap);
  sqlite3_finalize(q.cls);
  sqlite3_finalize(q.det);
  sqlite3_finalize(q.par);
  sqlite3_finalize(q.fac);
  pm__details_writer_destroy(q.geoms);
  if (!st && run_id) *run_id = id;
  return st;
}

/* ---------- loading ---------- */

static pm_status no_history(pm_store *s) {
  return pm_error(pm_store_context(s), PM_ENOTFOUND,
                  "%s: no run is recorded yet; `planmetrics run PLAN` records one",
                  pm_store_path(s));
}

static pm_status oom(pm_store *s) {
  return pm_error(pm_store_context(s), PM_ENOMEM, "out of memory reading the run history");
}

/* The indicator of that id (the last match is cached in *hint). */
pm_indicator_result *pm__history_find_indicator(pm_run_result *run, const char *id, size_t *hint) {
  if (!id) return NULL;
  if (*hint < run->n_indicators && run->indicators[*hint].id &&
      strcmp(run->indicators[*hint].id, id) == 0)
    return &run->indicators[*hint];
  for (size_t k = 0; k < run->n_indicators; k++)
    if (run->indicators[k].id && strcmp(run->indicators[k].id, id) == 0) {
      *hint = k;
      return &run->indicators[k];
    }
  return NULL;
}

static pm_status corrupt(pm_store *s, int64_t run_id, const char *what) {
  return pm_error(pm_store_context(s), PM_EDB,
                  "%s: the run history of run %lld is inconsistent (%s); run the plan again",
                  pm_store_path(s), (long long)run_id, what);
}

/* Runs recorded by an earlier planmetrics wrote the status into the reason ("no data: layer x");
 * the writers add "no data" themselves, so it is taken off here. */
static void strip_no_data(char *reason) {
  static const char P[] = "no data: ";
  if (reason && strncmp(reason, P, sizeof P - 1) == 0)
    memmove(reason, reason + sizeof P - 1, strlen(reason + sizeof P - 1) + 1);
}

static pm_status load_results(pm_store *s, int64_t id, pm_run_result *run) {
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(
      s, "reading the run history",
      "SELECT indicator_id, title, metric, unit, status, status_reason, target_op, target_value, "
      "district, value, null_reason, numerator, denominator, has_ratio, met, has_target, target, "
      "ind_ord, ord FROM pm_results WHERE run_id = ? ORDER BY ind_ord, ord",
      &q);
  if (st) return st;
  sqlite3_bind_int64(q, 1, id);
  int64_t last_ind = INT64_MIN;
  int rc;
  while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    int64_t ind_ord = sqlite3_column_int64(q, 17);
    int64_t ord = sqlite3_column_int64(q, 18);
    if (ind_ord != last_ind || run->n_indicators == 0) {
      last_ind = ind_ord;
      if (push((void **)&run->indicators, run->n_indicators, sizeof *run->indicators)) {
        st = oom(s);
        break;
      }
      pm_indicator_result *ir = &run->indicators[run->n_indicators++];
      char *op = NULL, *status = NULL;
      if (col_str(q, 0, &ir->id) || col_str(q, 1, &ir->title) || col_str(q, 2, &ir->metric) ||
          col_str(q, 3, &ir->unit) || col_str(q, 4, &status) || col_str(q, 5, &ir->status_reason) ||
          col_str(q, 6, &op)) {
        free(op);
        free(status);
        st = oom(s);
        break;
      }
      ir->status = status_from_name(status);
      free(status);
      if (ir->status == PM_IND_NO_DATA) strip_no_data(ir->status_reason);
      ir->has_target = op != NULL;
      if (op) snprintf(ir->target_op, sizeof ir->target_op, "%s", op);
      free(op);
      ir->target_value = ir->has_target ? col_real(q, 7) : NAN;
    }
    if (ord < 0) continue; /* an indicator without results */
    pm_indicator_result *ir = &run->indicators[run->n_indicators - 1];
    if (push((void **)&ir->results, ir->n_results, sizeof *ir->results)) {
      st = oom(s);
      break;
    }
    pm_result *r = &ir->results[ir->n_results++];
    if (col_str(q, 8, &r->district) || col_str(q, 10, &r->null_reason)) {
      st = oom(s);
      break;
    }
    if (ir->status == PM_IND_NO_DATA) strip_no_data(r->null_reason);
    r->has_value = sqlite3_column_type(q, 9) != SQLITE_NULL;
    r->value = col_real(q, 9);
    r->numerator = col_real(q, 11);
    r->denominator = col_real(q, 12);
    r->has_ratio = sqlite3_column_int(q, 13) != 0;
    r->met = sqlite3_column_type(q, 14) != SQLITE_NULL && sqlite3_column_int(q, 14) != 0;
    r->has_target = sqlite3_column_int(q, 15) != 0;
    r->target = col_real(q, 16);
  }
  if (!st && rc != SQLITE_DONE) st = db_fail(s, "reading the run history");
  sqlite3_finalize(q);
  return st;
}

/* One row of a per-indicator table, already matched with its indicator. */
typedef pm_status (*row_fn)(pm_store *s, int64_t run_id, sqlite3_stmt *q, pm_indicator_result *ir);

/* Run sql (bound to the run id; first column the indicator id) and hand each row to `row`. */
static pm_status load_rows(pm_store *s, int64_t id, pm_run_result *run, const char *what,
                           const char *sql, row_fn row) {
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, what, sql, &q);
  if (st) return st;
  sqlite3_bind_int64(q, 1, id);
  size_t hint = 0;
  int rc;
  while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    pm_indicator_result *ir = pm__history_find_indicator(run, (const char *)sqlite3_column_text(q, 0), &hint);
    st = ir ? row(s, id, q, ir) : corrupt(s, id, "a row of an unknown indicator");
  }
  if (!st && rc != SQLITE_DONE) st = db_fail(s, what);
  sqlite3_finalize(q);
  return st;
}

/* The result a row belongs to (column 1: its position in the indicator), or NULL. */
static pm_result *result_of_row(sqlite3_stmt *q, pm_indicator_result *ir) {
  int64_t ro = sqlite3_column_int64(q, 1);
  return ro >= 0 && (size_t)ro < ir->n_results ? &ir->results[ro] : NULL;
}

static pm_status gap_row(pm_store *s, int64_t id, sqlite3_stmt *q, pm_indicator_result *ir) {
  pm_result *r = result_of_row(q, ir);
  if (!r) return corrupt(s, id, "a gap of an unknown result");
  const char *t[9] = {NULL};
  static const int text_cols[] = {2, 3, 4, 7, 8}; /* only these: text would round the numbers */
  for (size_t k = 0; k < PM_ARRAY_LEN(text_cols); k++)
    t[text_cols[k]] = (const char *)sqlite3_column_text(q, text_cols[k]);
  if (pm_result_add_gap(pm_store_context(s), r, t[2], t[3], t[4], col_real(q, 5), col_real(q, 6),
                        t[7], t[8], col_real(q, 9), col_real(q, 10)))
    return oom(s);
  r->gaps[r->n_gaps - 1].straight_m = col_real(q, 11);
  return PM_OK;
}

static pm_status class_row(pm_store *s, int64_t id, sqlite3_stmt *q, pm_indicator_result *ir) {
  pm_result *r = result_of_row(q, ir);
  if (!r) return corrupt(s, id, "a class count of an unknown result");
  if (push((void **)&r->classes, r->n_classes, sizeof *r->classes)) return oom(s);
  pm_class_count *c = &r->classes[r->n_classes++];
  c->count = sqlite3_column_int64(q, 3);
  return col_str(q, 2, &c->label) ? oom(s) : PM_OK;
}

static pm_status facility_row(pm_store *s, int64_t id, sqlite3_stmt *q, pm_indicator_result *ir) {
  pm_result *r = result_of_row(q, ir);
  if (!r) return corrupt(s, id, "a facility share of an unknown result");
  if (push((void **)&r->facilities, r->n_facilities, sizeof *r->facilities)) return oom(s);
  pm_facility_share *x = &r->facilities[r->n_facilities++];
  x->has_value = sqlite3_column_type(q, 3) != SQLITE_NULL;
  x->value = col_real(q, 3);
  x->numerator = col_real(q, 4);
  x->denominator = col_real(q, 5);
  return col_str(q, 2, &x->name) ? oom(s) : PM_OK;
}

static pm_status detail_row(pm_store *s, int64_t id, sqlite3_stmt *q, pm_indicator_result *ir) {
  (void)id;
  const char *t[8] = {NULL};
  static const int text_cols[] = {1, 2, 3, 4, 7}; /* only these: text would round the numbers */
  for (size_t k = 0; k < PM_ARRAY_LEN(text_cols); k++)
    t[text_cols[k]] = (const char *)sqlite3_column_text(q, text_cols[k]);
  const unsigned char *blob = sqlite3_column_blob(q, 8);
  int len = sqlite3_column_bytes(q, 8);
  if (pm_indicator_result_add_detail(pm_store_context(s), ir, t[1], t[2], t[3], t[4],
                                     sqlite3_column_int(q, 5), col_real(q, 6), t[7],
                                     len > 0 ? blob : NULL, len > 0 ? (size_t)len : 0))
    return oom(s);
  return PM_OK;
}

static pm_status params_row(pm_store *s, int64_t id, sqlite3_stmt *q, pm_indicator_result *ir) {
  (void)id;
  return col_str(q, 1, &ir->params) || col_str(q, 2, &ir->distance) || col_str(q, 3, &ir->network)
             ? oom(s)
             : PM_OK;
}

static pm_status load_details(pm_store *s, int64_t id, pm_run_result *run) {
  char sql[400];
  snprintf(sql, sizeof sql,
           "SELECT indicator_id, role, district, id, name, covered, distance_m, nearest, %s "
           "FROM pm_details WHERE run_id = ? ORDER BY indicator_id, ord",
           details_has_geom(pm__store_db(s)) ? "AsBinary(geom)" : "NULL");
  return load_rows(s, id, run, "reading the details of a run", sql, detail_row);
}

static pm_status load_parts(pm_store *s, int64_t id, pm_run_result *run) {
  sqlite3 *db = pm__store_db(s);
  char sql[400];
  snprintf(sql, sizeof sql,
           "SELECT indicator_id, result_ord, id, name, gap_district, distance_m, shortfall, "
           "nearest, note, x, y, %s FROM pm_gaps WHERE run_id = ? ORDER BY indicator_id, "
           "result_ord, ord",
           column_exists(db, "pm_gaps", "straight_m") ? "straight_m" : "NULL");
  pm_status st = load_rows(s, id, run, "reading the gaps of a run", sql, gap_row);
  if (!st)
    st = load_rows(s, id, run, "reading the class counts of a run",
                   "SELECT indicator_id, result_ord, label, count FROM pm_classes WHERE run_id = ? "
                   "ORDER BY indicator_id, result_ord, ord",
                   class_row);
  if (!st && pm__store_has_table(s, "pm_facilities"))
    st = load_rows(s, id, run, "reading the facility shares of a run",
                   "SELECT indicator_id, result_ord, name, value, numerator, denominator FROM "
                   "pm_facilities WHERE run_id = ? ORDER BY indicator_id, result_ord, ord",
                   facility_row);
  if (!st) st = load_details(s, id, run);
  if (!st) st = pm__details_load(s, id, run);
  /* Runs recorded by planmetrics 0.1 have no parameters: their params stay NULL. */
  if (!st && pm__store_has_table(s, "pm_indicators")) {
    snprintf(sql, sizeof sql, "SELECT indicator_id, params, %s FROM pm_indicators WHERE run_id = ?",
             column_exists(db, "pm_indicators", "network") ? "distance, network" : "NULL, NULL");
    st = load_rows(s, id, run, "reading the parameters of a run", sql, params_row);
  }
  return st;
}

pm_status pm_history_load_run(pm_store *s, int64_t run_id, pm_run_result **out) {
  *out = NULL;
  sqlite3 *db = pm__store_db(s);
  if (!pm__store_has_table(s, "pm_runs")) return no_history(s);
  sqlite3_stmt *q = NULL;
  /* districts: NULL for runs recorded by planmetrics 0.1 (schema 1) */
  char sql[300];
  snprintf(sql, sizeof sql,
           "SELECT run_id, plan, title, crs, finished_at, plan_hash, %s, %s FROM pm_runs %s",
           column_exists(db, "pm_runs", "districts_layer")
               ? "districts_layer, districts_field, timezone"
               : "NULL, NULL, NULL",
           column_exists(db, "pm_runs", "attributions") ? "attributions" : "NULL",
           run_id > 0 ? "WHERE run_id = ?" : "ORDER BY run_id DESC LIMIT 1");
  pm_status st = pm__store_prepare(s, "reading the run history", sql, &q);
  if (st) return st;
  if (run_id > 0) sqlite3_bind_int64(q, 1, run_id);
  int rc = sqlite3_step(q);
  if (rc != SQLITE_ROW) {
    st = rc != SQLITE_DONE ? db_fail(s, "reading the run history")
         : run_id > 0
             ? pm_error(pm_store_context(s), PM_ENOTFOUND,
                        "%s: there is no run %lld in the history; `planmetrics history` lists "
                        "the recorded runs",
                        pm_store_path(s), (long long)run_id)
             : no_history(s);
    sqlite3_finalize(q);
    return st;
  }
  pm_run_result *run = calloc(1, sizeof *run);
  if (!run) {
    sqlite3_finalize(q);
    return oom(s);
  }
  run->run_id = sqlite3_column_int64(q, 0);
  if (col_str(q, 1, &run->plan) || col_str(q, 2, &run->title) || col_str(q, 3, &run->crs) ||
      col_str(q, 4, &run->generated_at) || col_str(q, 5, &run->plan_hash) ||
      col_str(q, 6, &run->districts_layer) || col_str(q, 7, &run->districts_name_field) ||
      col_str(q, 8, &run->timezone) || col_str(q, 9, &run->attributions))
    st = oom(s);
  sqlite3_finalize(q);
  if (!st) st = load_results(s, run->run_id, run);
  if (!st) st = load_parts(s, run->run_id, run);
  if (st) {
    pm_run_result_destroy(run);
    return st;
  }
  *out = run;
  return PM_OK;
}

/* ---------- listing ---------- */

void pm_history_runs_destroy(pm_history_run *runs, size_t n) {
  for (size_t i = 0; runs && i < n; i++) {
    free(runs[i].plan);
    free(runs[i].title);
    free(runs[i].plan_path);
    free(runs[i].plan_hash);
    free(runs[i].crs);
    free(runs[i].started_at);
    free(runs[i].finished_at);
    free(runs[i].input_hashes);
    free(runs[i].districts_layer);
    free(runs[i].districts_name_field);
    free(runs[i].timezone);
  }
  free(runs);
}

pm_status pm_history_runs(pm_store *s, const char *plan_id, pm_history_run **runs, size_t *n) {
  *runs = NULL;
  *n = 0;
  if (!pm__store_has_table(s, "pm_runs")) return PM_OK;
  sqlite3_stmt *q = NULL;
  char sql[400];
  snprintf(sql, sizeof sql,
           "SELECT run_id, plan, title, plan_path, plan_hash, crs, started_at, finished_at, "
           "input_hashes, exit_code, %s FROM pm_runs WHERE ?1 IS NULL OR plan = ?1 ORDER BY run_id",
           column_exists(pm__store_db(s), "pm_runs", "districts_layer")
               ? "districts_layer, districts_field, timezone"
               : "NULL, NULL, NULL");
  pm_status st = pm__store_prepare(s, "listing the recorded runs", sql, &q);
  if (st) return st;
  pm__bind_text(q, 1, plan_id);
  int rc;
  while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (push((void **)runs, *n, sizeof **runs)) {
      st = oom(s);
      break;
    }
    pm_history_run *r = &(*runs)[(*n)++];
    r->run_id = sqlite3_column_int64(q, 0);
    r->exit_code = sqlite3_column_int(q, 9);
    if (col_str(q, 1, &r->plan) || col_str(q, 2, &r->title) || col_str(q, 3, &r->plan_path) ||
        col_str(q, 4, &r->plan_hash) || col_str(q, 5, &r->crs) || col_str(q, 6, &r->started_at) ||
        col_str(q, 7, &r->finished_at) || col_str(q, 8, &r->input_hashes) ||
        col_str(q, 10, &r->districts_layer) || col_str(q, 11, &r->districts_name_field) ||
        col_str(q, 12, &r->timezone))
      st = oom(s);
  }
  if (!st && rc != SQLITE_DONE) st = db_fail(s, "listing the recorded runs");
  sqlite3_finalize(q);
  if (st) {
    pm_history_runs_destroy(*runs, *n);
    *runs = NULL;
    *n = 0;
  }
  return st;
}

void pm_history_rows_destroy(pm_history_row *rows, size_t n) {
  for (size_t i = 0; rows && i < n; i++) {
    free(rows[i].finished_at);
    free(rows[i].plan);
    free(rows[i].indicator_id);
    free(rows[i].title);
    free(rows[i].unit);
    free(rows[i].status);
    free(rows[i].district);
    free(rows[i].null_reason);
  }
  free(rows);
}

pm_status pm_history_list(pm_store *s, const char *plan_id, pm_history_row **rows, size_t *n) {
  *rows = NULL;
  *n = 0;
  if (!pm__store_has_table(s, "pm_runs") || !pm__store_has_table(s, "pm_results"))
    return PM_OK;
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(
      s, "listing the run history",
      "SELECT r.run_id, u.finished_at, u.plan, r.indicator_id, r.title, r.unit, r.status, "
      "r.district, r.value, r.null_reason, r.has_target, r.target_op, r.target, r.met, r.n_gaps "
      "FROM pm_results r JOIN pm_runs u ON u.run_id = r.run_id "
      "WHERE ?1 IS NULL OR u.plan = ?1 ORDER BY r.run_id, r.ind_ord, r.ord",
      &q);
  if (st) return st;
  pm__bind_text(q, 1, plan_id);
  int rc;
  while (!st && (rc = sqlite3_step(q)) == SQLITE_ROW) {
    if (push((void **)rows, *n, sizeof **rows)) {
      st = oom(s);
      break;
    }
    pm_history_row *r = &(*rows)[(*n)++];
    r->run_id = sqlite3_column_int64(q, 0);
    r->has_value = sqlite3_column_type(q, 8) != SQLITE_NULL;
    r->value = col_real(q, 8);
    r->has_target = sqlite3_column_int(q, 10) != 0;
    const unsigned char *op = sqlite3_column_text(q, 11);
    if (r->has_target && op) snprintf(r->target_op, sizeof r->target_op, "%s", (const char *)op);
    if (!op) r->has_target = 0;
    r->target = r->has_target ? col_real(q, 12) : NAN;
    r->met = sqlite3_column_type(q, 13) == SQLITE_NULL ? -1 : sqlite3_column_int(q, 13) != 0;
    r->n_gaps = sqlite3_column_int64(q, 14);
    if (col_str(q, 1, &r->finished_at) || col_str(q, 2, &r->plan) ||
        col_str(q, 3, &r->indicator_id) || col_str(q, 4, &r->title) || col_str(q, 5, &r->unit) ||
        col_str(q, 6, &r->status) || col_str(q, 7, &r->district) ||
        col_str(q, 9, &r->null_reason))
      st = oom(s);
  }
  if (!st && rc != SQLITE_DONE) st = db_fail(s, "listing the run history");
  sqlite3_finalize(q);
  if (st) {
    pm_history_rows_destroy(*rows, *n);
    *rows = NULL;
    *n = 0;
  }
  return st;
}
