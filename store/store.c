/* store.c: the SpatiaLite project database's contents: settings, CRS, layer names, layer metadata,
 * layer tables (store/file.c opens the file and runs the transactions). */
#include "planmetrics/store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sqlite3.h>
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "engine/internal.h"
#include "store/store_internal.h"

char *pm__sql_ident(const char *name) {
  size_t n = 3;
  for (const char *p = name; *p; p++) n += (*p == '"') ? 2 : 1;
  char *out = malloc(n);
  if (!out) return NULL;
  char *q = out;
  *q++ = '"';
  for (const char *p = name; *p; p++) {
    if (*p == '"') *q++ = '"';
    *q++ = *p;
  }
  *q++ = '"';
  *q = '\0';
  return out;
}

static pm_status db_error(pm_store *s, pm_status st, const char *what) {
  return pm__store_fail(s, st, what, NULL);
}

pm_status pm__store_load_crs(pm_store *s) {
  char *v = NULL;
  pm_status st = pm_store_get_setting(s, "srid", &v);
  if (st) return st;
  s->srid = v ? atoi(v) : 0;
  free(v);
  if (s->srid > 0)
    snprintf(s->crs_name, sizeof s->crs_name, "EPSG:%d", s->srid);
  else
    s->crs_name[0] = '\0';
  return PM_OK;
}

pm_status pm_store_get_setting(pm_store *s, const char *key, char **value) {
  *value = NULL;
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, "reading project settings",
                                  "SELECT value FROM pm_project WHERE key = ?", &q);
  if (st) return st;
  sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
    *value = strdup((const char *)sqlite3_column_text(q, 0));
    if (!*value) st = pm_error(s->ctx, PM_ENOMEM, "out of memory");
  }
  sqlite3_finalize(q);
  return st;
}

pm_status pm_store_set_setting(pm_store *s, const char *key, const char *value) {
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, "writing project settings",
                                  "INSERT OR REPLACE INTO pm_project(key, value) VALUES (?, ?)", &q);
  if (st) return st;
  sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(q, 2, value, -1, SQLITE_STATIC);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_error(s, PM_EDB, "writing project settings");
  sqlite3_finalize(q);
  return st;
}

pm_status pm_store_crs(pm_store *s, int *srid, const char **name) {
  if (srid) *srid = s->srid;
  if (name) *name = s->crs_name;
  return PM_OK;
}

pm_status pm_store_set_crs(pm_store *s, int srid) {
  if (s->srid == srid) return PM_OK;
  if (s->srid)
    return pm_error(s->ctx, PM_ECRS,
                    "%s: the project CRS is already EPSG:%d and cannot change to EPSG:%d; use a new "
                    "project database for another CRS",
                    s->path, s->srid, srid);
  char sql[128], v[32];
  /* SpatiaLite's spatial_ref_sys holds the EPSG registry; add the code if an older copy lacks it. */
  snprintf(sql, sizeof sql,
           "SELECT InsertEpsgSrid(%d) WHERE NOT EXISTS (SELECT 1 FROM spatial_ref_sys WHERE srid = %d)",
           srid, srid);
  sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  snprintf(v, sizeof v, "%d", srid);
  pm_status st = pm_store_set_setting(s, "srid", v);
  if (!st) {
    char now[32];
    pm_utc_now(now, sizeof now);
    st = pm_store_set_setting(s, "crs_fixed_at", now);
  }
  if (st) return st;
  s->srid = srid;
  snprintf(s->crs_name, sizeof s->crs_name, "EPSG:%d", srid);
  return PM_OK;
}

static const char *const RESERVED[] = {"layers", "geometry_columns", "spatial_ref_sys",
                                       "spatialite_history", "views_geometry_columns",
                                       "virts_geometry_columns", "sql_statements_log",
                                       "data_licenses", "geom_cols_ref_sys", "spatial_ref_sys_aux",
                                       "spatial_ref_sys_all", "ElementaryGeometries", "KNN", "KNN2",
                                       "SpatialIndex"};

pm_status pm_store_check_layer_name(pm_context *ctx, const char *name) {
  size_t n = name ? strlen(name) : 0;
  int ok = n > 0 && n <= 60 && (isalpha((unsigned char)name[0]) || name[0] == '_');
  for (size_t i = 0; ok && i < n; i++)
    ok = isalnum((unsigned char)name[i]) || name[i] == '_';
  if (!ok)
    return pm_error(ctx, PM_EINPUT,
                    "layer name '%s' is not usable: use letters, digits and '_' (starting with a "
                    "letter, at most 60 characters), e.g. bus_stops",
                    name ? name : "");
  for (size_t i = 0; i < PM_ARRAY_LEN(RESERVED); i++)
    if (strcasecmp(name, RESERVED[i]) == 0) ok = 0;
  if (strncasecmp(name, "pm_", 3) == 0 || strncasecmp(name, "idx_", 4) == 0 ||
      strncasecmp(name, "sqlite_", 7) == 0 || strncasecmp(name, "vector_", 7) == 0 ||
      strncasecmp(name, "geometry_", 9) == 0)
    ok = 0;
  if (!ok)
    return pm_error(ctx, PM_EINPUT,
                    "layer name '%s' is reserved for the project database's own tables; choose "
                    "another name with --as",
                    name);
  return PM_OK;
}

/* The spelling a layer (or, with tables set, any table) is stored under when it differs from
 * `name` only in case, into buf; 0 when there is none. */
static int other_spelling(pm_store *s, const char *sql, const char *name, char *buf, size_t size) {
  sqlite3_stmt *q = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW) {
      snprintf(buf, size, "%s", (const char *)sqlite3_column_text(q, 0));
      found = 1;
    }
  }
  sqlite3_finalize(q);
  return found;
}

pm_status pm__store_check_layer_write(pm_store *s, const char *name) {
  char other[128];
  int have_layers = other_spelling(s, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                   "name = 'layers' AND ?1 IS NOT NULL", name, other, sizeof other);
  if (have_layers && other_spelling(s, "SELECT name FROM layers WHERE name = ?1 COLLATE NOCASE "
                                    "AND name <> ?1 LIMIT 1", name, other, sizeof other))
    return pm_error(s->ctx, PM_EINPUT,
                    "%s: layer '%s' would replace the project's layer '%s': layer names do not "
                    "tell upper from lower case (they are SQLite tables), so both are one layer. "
                    "To replace it, ingest with --as %s; to keep both, choose another name",
                    s->path, name, other, other);
  const char *tables =
      have_layers ? "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND "
                    "name = ?1 COLLATE NOCASE AND NOT EXISTS (SELECT 1 FROM layers WHERE name = "
                    "sqlite_master.name COLLATE NOCASE) LIMIT 1"
                  : "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND "
                    "name = ?1 COLLATE NOCASE LIMIT 1";
  if (other_spelling(s, tables, name, other, sizeof other))
    return pm_error(s->ctx, PM_EINPUT,
                    "%s: the database already has a table '%s' that is not a planmetrics layer "
                    "(another program's data); choose another name with --as",
                    s->path, other);
  return PM_OK;
}

/* --- layers metadata --- */

static const char *LAYER_COLUMNS =
    "name, kind, geometry_type, source_path, source_layer, source_hash, source_crs, encoding, "
    "filter, options, n_read, n_stored, n_repaired, n_dropped, repaired_ids, dropped_ids, minx, "
    "miny, maxx, maxy, ingested_at";

static char *col_dup(sqlite3_stmt *q, int i) {
  const unsigned char *t = sqlite3_column_text(q, i);
  return t ? strdup((const char *)t) : NULL;
}

static pm_geom_kind kind_from_name(const char *k) {
  if (!k) return PM_KIND_NONE;
  if (strcmp(k, "point") == 0) return PM_KIND_POINT;
  if (strcmp(k, "line") == 0) return PM_KIND_LINE;
  if (strcmp(k, "polygon") == 0) return PM_KIND_POLYGON;
  return PM_KIND_NONE;
}

static void read_info_row(sqlite3_stmt *q, pm_layer_info *in) {
  in->name = col_dup(q, 0);
  const unsigned char *k = sqlite3_column_text(q, 1);
  in->kind = kind_from_name((const char *)k);
  in->geometry_type = col_dup(q, 2);
  in->source_path = col_dup(q, 3);
  in->source_layer = col_dup(q, 4);
  in->source_hash = col_dup(q, 5);
  in->source_crs = col_dup(q, 6);
  in->encoding = col_dup(q, 7);
  in->filter = col_dup(q, 8);
  in->options = col_dup(q, 9);
  in->n_read = sqlite3_column_int64(q, 10);
  in->n_stored = sqlite3_column_int64(q, 11);
  in->n_repaired = sqlite3_column_int64(q, 12);
  in->n_dropped = sqlite3_column_int64(q, 13);
  in->repaired_ids = col_dup(q, 14);
  in->dropped_ids = col_dup(q, 15);
  in->minx = sqlite3_column_type(q, 16) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 16);
  in->miny = sqlite3_column_type(q, 17) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 17);
  in->maxx = sqlite3_column_type(q, 18) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 18);
  in->maxy = sqlite3_column_type(q, 19) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 19);
  in->ingested_at = col_dup(q, 20);
}

void pm_layer_info_clear(pm_layer_info *in) {
  if (!in) return;
  free(in->name);
  free(in->geometry_type);
  free(in->source_path);
  free(in->source_layer);
  free(in->source_hash);
  free(in->source_crs);
  free(in->encoding);
  free(in->filter);
  free(in->options);
  free(in->repaired_ids);
  free(in->dropped_ids);
  free(in->ingested_at);
  memset(in, 0, sizeof *in);
}

void pm_layer_info_destroy_all(pm_layer_info *infos, size_t n) {
  for (size_t i = 0; i < n; i++) pm_layer_info_clear(&infos[i]);
  free(infos);
}

pm_status pm_store_layer_info(pm_store *s, const char *name, pm_layer_info *info, int *found) {
  memset(info, 0, sizeof *info);
  *found = 0;
  char sql[512];
  /* Names are case-insensitive: any spelling finds the layer (its own first). */
  snprintf(sql, sizeof sql,
           "SELECT %s FROM layers WHERE name = ?1 COLLATE NOCASE ORDER BY name = ?1 DESC LIMIT 1",
           LAYER_COLUMNS);
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, "reading layer metadata", sql, &q);
  if (st) return st;
  sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
  if (sqlite3_step(q) == SQLITE_ROW) {
    read_info_row(q, info);
    *found = 1;
  }
  sqlite3_finalize(q);
  return PM_OK;
}

pm_status pm_store_list_layers(pm_store *s, pm_layer_info **out, size_t *n) {
  *out = NULL;
  *n = 0;
  char sql[512];
  snprintf(sql, sizeof sql, "SELECT %s FROM layers ORDER BY name", LAYER_COLUMNS);
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, "listing layers", sql, &q);
  if (st) return st;
  size_t cap = 0;
  while (sqlite3_step(q) == SQLITE_ROW) {
    if ((st = pm__grow(s->ctx, (void **)out, &cap, *n + 1, sizeof **out))) break;
    memset(&(*out)[*n], 0, sizeof **out);
    read_info_row(q, &(*out)[(*n)++]);
  }
  sqlite3_finalize(q);
  if (st) {
    pm_layer_info_destroy_all(*out, *n);
    *out = NULL;
    *n = 0;
  }
  return st;
}

static void bind_text_or_null(sqlite3_stmt *q, int i, const char *v) {
  if (v)
    sqlite3_bind_text(q, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(q, i);
}

static void bind_real_or_null(sqlite3_stmt *q, int i, double v) {
  if (isnan(v))
    sqlite3_bind_null(q, i);
  else
    sqlite3_bind_double(q, i, v);
}

pm_status pm_store_put_layer_info(pm_store *s, const pm_layer_info *in) {
  char sql[768];
  snprintf(sql, sizeof sql,
           "INSERT OR REPLACE INTO layers (%s) VALUES "
           "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
           LAYER_COLUMNS);
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, "writing layer metadata", sql, &q);
  if (st) return st;
  bind_text_or_null(q, 1, in->name);
  bind_text_or_null(q, 2, pm_geom_kind_name(in->kind));
  bind_text_or_null(q, 3, in->geometry_type);
  bind_text_or_null(q, 4, in->source_path);
  bind_text_or_null(q, 5, in->source_layer);
  bind_text_or_null(q, 6, in->source_hash);
  bind_text_or_null(q, 7, in->source_crs);
  bind_text_or_null(q, 8, in->encoding);
  bind_text_or_null(q, 9, in->filter);
  bind_text_or_null(q, 10, in->options);
  sqlite3_bind_int64(q, 11, in->n_read);
  sqlite3_bind_int64(q, 12, in->n_stored);
  sqlite3_bind_int64(q, 13, in->n_repaired);
  sqlite3_bind_int64(q, 14, in->n_dropped);
  bind_text_or_null(q, 15, in->repaired_ids);
  bind_text_or_null(q, 16, in->dropped_ids);
  bind_real_or_null(q, 17, in->minx);
  bind_real_or_null(q, 18, in->miny);
  bind_real_or_null(q, 19, in->maxx);
  bind_real_or_null(q, 20, in->maxy);
  bind_text_or_null(q, 21, in->ingested_at);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_error(s, PM_EDB, "writing layer metadata");
  sqlite3_finalize(q);
  return st;
}

pm_status pm_store_layer_fields(pm_store *s, const char *layer, char ***names, char ***types,
                                size_t *n) {
  *names = NULL;
  *types = NULL;
  *n = 0;
  char *id = pm__sql_ident(layer);
  char *sql = NULL;
  pm_status st = id ? pm_asprintf(s->ctx, &sql, "PRAGMA table_info(%s)", id)
                    : pm_error(s->ctx, PM_ENOMEM, "out of memory");
  free(id);
  if (st) return st;
  sqlite3_stmt *q = NULL;
  st = pm__store_prepare(s, "reading layer fields", sql, &q);
  free(sql);
  if (st) return st;
  size_t cap_n = 0, cap_t = 0;
  while (!st && sqlite3_step(q) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(q, 1);
    const char *type = (const char *)sqlite3_column_text(q, 2);
    if (strcmp(name, "fid") == 0 || strcmp(name, "geom") == 0) continue;
    if ((st = pm__grow(s->ctx, (void **)names, &cap_n, *n + 1, sizeof(char *)))) break;
    if ((st = pm__grow(s->ctx, (void **)types, &cap_t, *n + 1, sizeof(char *)))) break;
    (*names)[*n] = strdup(name);
    (*types)[*n] = strdup(type ? type : "");
    (*n)++;
  }
  sqlite3_finalize(q);
  if (!st && *n == 0) {
    pm_layer_info info;
    int found = 0;
    pm_store_layer_info(s, layer, &info, &found);
    pm_layer_info_clear(&info);
    if (!found)
      st = pm_error(s->ctx, PM_ENOTFOUND, "%s: no layer '%s' in the project", s->path, layer);
  }
  return st;
}

/* --- layer tables (written by layer_writer.c) --- */

static int table_exists(pm_store *s, const char *name) {
  sqlite3_stmt *q = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(s->db,
                         "SELECT 1 FROM sqlite_master WHERE type='table' AND lower(name)=lower(?)",
                         -1, &q, NULL) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(q) == SQLITE_ROW;
  }
  sqlite3_finalize(q);
  return found;
}

pm_status pm_store_drop_layer(pm_store *s, const char *name) {
  pm_status st = pm_store_check_layer_name(s->ctx, name);
  if (st) return st;
  if (table_exists(s, name)) {
    /* DropTable removes the table with its geometry registration, triggers and spatial index. */
    sqlite3_stmt *q = NULL;
    if ((st = pm__store_prepare(s, "dropping a layer", "SELECT DropTable(NULL, ?, 1)", &q)))
      return st;
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(q);
    int ok = rc == SQLITE_ROW && sqlite3_column_int(q, 0) == 1;
    sqlite3_finalize(q);
    if (!ok) return db_error(s, PM_EDB, "dropping the old layer table");
  }
  sqlite3_stmt *d = NULL;
  if ((st = pm__store_prepare(s, "dropping layer metadata", "DELETE FROM layers WHERE name = ?", &d)))
    return st;
  sqlite3_bind_text(d, 1, name, -1, SQLITE_STATIC);
  if (sqlite3_step(d) != SQLITE_DONE) st = db_error(s, PM_EDB, "dropping layer metadata");
  sqlite3_finalize(d);
  return st;
}

pm_status pm_store_layer_has_fields(pm_store *store, const char *layer, const char *const *names,
                                    int *all, const char **missing) {
  char **fn = NULL, **ft = NULL;
  size_t nf = 0;
  *all = 1;
  *missing = NULL;
  pm_status st = pm_store_layer_fields(store, layer, &fn, &ft, &nf);
  for (size_t i = 0; !st && names[i] && *all; i++) {
    int found = 0;
    for (size_t k = 0; k < nf && !found; k++) found = strcasecmp(fn[k], names[i]) == 0;
    if (!found) *all = 0, *missing = names[i];
  }
  for (size_t k = 0; k < nf; k++) {
    free(fn[k]);
    free(ft[k]);
  }
  free(fn);
  free(ft);
  return st;
}

/* --- bulk loads --- */

pm_status pm__store_triggers_aside(pm_store *s, const char *table, pm__store_triggers *out) {
  memset(out, 0, sizeof *out);
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, "reading the table's triggers",
                                   "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                                   "lower(tbl_name) = lower(?) ORDER BY rowid",
                                   &q);
  if (st) return st;
  sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
  char **names = NULL;
  size_t cap = 0, cap_n = 0;
  while (!st && sqlite3_step(q) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(q, 0);
    const char *sql = (const char *)sqlite3_column_text(q, 1);
    if (!name || !sql) continue;
    st = pm__grow(s->ctx, (void **)&out->sql, &cap, out->n + 1, sizeof *out->sql);
    if (!st) st = pm__grow(s->ctx, (void **)&names, &cap_n, out->n + 1, sizeof *names);
    if (st) break;
    out->sql[out->n] = strdup(sql);
    names[out->n] = pm__sql_ident(name);
    if (!out->sql[out->n] || !names[out->n]) {
      free(out->sql[out->n]);
      free(names[out->n]);
      st = pm_error(s->ctx, PM_ENOMEM, "out of memory");
      break;
    }
    out->n++;
  }
  sqlite3_finalize(q);
  for (size_t i = 0; !st && i < out->n; i++) {
    char sql[256];
    snprintf(sql, sizeof sql, "DROP TRIGGER %s", names[i]);
    st = pm__store_exec(s, "setting the table's triggers aside", sql);
  }
  for (size_t i = 0; i < out->n; i++) free(names[i]);
  free(names);
  return st;
}

pm_status pm__store_triggers_restore(pm_store *s, pm__store_triggers *t) {
  pm_status st = PM_OK;
  for (size_t i = 0; !st && i < t->n; i++)
    st = pm__store_exec(s, "restoring the table's triggers", t->sql[i]);
  if (!st) pm__store_triggers_clear(t);
  return st;
}

void pm__store_triggers_clear(pm__store_triggers *t) {
  for (size_t i = 0; i < t->n; i++) free(t->sql[i]);
  free(t->sql);
  t->sql = NULL;
  t->n = 0;
}

pm_status pm__store_note_insert(pm_store *s, const char *table) {
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(s, "recording the insert time",
                                   "UPDATE geometry_columns_time SET last_insert = "
                                   "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE lower(f_table_name) = "
                                   "lower(?1) AND lower(f_geometry_column) = 'geom'",
                                   &q);
  if (st) return st;
  sqlite3_bind_text(q, 1, table, -1, SQLITE_STATIC);
  if (sqlite3_step(q) != SQLITE_DONE) st = db_error(s, PM_EDB, "recording the insert time");
  sqlite3_finalize(q);
  return st;
}
