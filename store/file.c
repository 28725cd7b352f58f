/* file.c: the project file itself: opening (with crash recovery), creating it atomically,
 * transactions, waiting for another planmetrics process, and the limits on every SQL statement. */
#define _GNU_SOURCE /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <sqlite3.h>
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/internal.h"
#include "store/store_internal.h"

/* The statement clock's time: CLOCK_MONOTONIC_COARSE, as the progress handler reads it often. */
static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* --- Messages --- */

static const char *limit_why(const pm_store *s, char *buf, size_t size) {
  if (s->limit_hit == PM__LIMIT_MEMORY)
    snprintf(buf, size, "it needed more than %lld MB of SQLite memory, the limit",
             (long long)(s->memory_limit >> 20));
  else
    snprintf(buf, size, "it ran longer than %g s, the --timeout limit", s->timeout_s);
  return buf;
}

const char *pm__store_limit_message(const pm_store *s, char *buf, size_t size) {
  int code = s->db ? sqlite3_errcode(s->db) & 0xff : SQLITE_OK;
  if (code == SQLITE_INTERRUPT && s->limit_hit) return limit_why(s, buf, size);
  if (code == SQLITE_TOOBIG)
    snprintf(buf, size, "a value would exceed %lld MB, the limit on one text or blob",
             (long long)(s->memory_limit >> 22));
  else
    return NULL;
  return buf;
}

pm_status pm__store_fail(pm_store *s, pm_status st, const char *what, const char *detail) {
  int code = s->db ? sqlite3_errcode(s->db) & 0xff : SQLITE_OK;
  int sys = s->db ? sqlite3_system_errno(s->db) : 0;
  const char *msg = detail ? detail : s->db ? sqlite3_errmsg(s->db) : "no connection";
  char why[160];
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    return pm_error(s->ctx, PM_EBUSY,
                    "%s: in use by another planmetrics process (waited %g s while %s); nothing was "
                    "changed: run this command again when the other one has finished "
                    "(PLANMETRICS_WAIT=SECONDS waits longer)",
                    s->path, s->wait_s, what);
  if (pm__store_limit_message(s, why, sizeof why))
    return pm_error(s->ctx, PM_EINPUT, "%s: %s was stopped: %s", s->path, what, why);
  int ext = s->db ? sqlite3_extended_errcode(s->db) : SQLITE_OK;
  if (code == SQLITE_FULL || ext == SQLITE_IOERR_WRITE || ext == SQLITE_IOERR_FSYNC ||
      ext == SQLITE_IOERR_TRUNCATE || sys == ENOSPC || sys == EFBIG || sys == EDQUOT)
    return pm_error(s->ctx, PM_EIO,
                    "%s: %s: the project database could not be written (%s: the disk is full, a "
                    "file size limit was reached or the disk failed); nothing was changed: free "
                    "some space and run again",
                    s->path, what, sys ? strerror(sys) : msg);
  return pm_error(s->ctx, st, "%s: %s (%s)", s->path, what, msg);
}

pm_status pm__store_exec(pm_store *s, const char *what, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    pm_status st = pm__store_fail(s, PM_EDB, what, err ? err : NULL);
    sqlite3_free(err);
    return st;
  }
  return PM_OK;
}

pm_status pm__store_prepare(pm_store *s, const char *what, const char *sql, sqlite3_stmt **out) {
  if (sqlite3_prepare_v2(s->db, sql, -1, out, NULL) != SQLITE_OK) {
    *out = NULL;
    return pm__store_fail(s, PM_EDB, what, NULL);
  }
  return PM_OK;
}

/* --- Waiting for another process --- */

/* SQLite's busy handler: another connection holds the lock we need. Wait (polling, a notice
 * after a second) up to s->wait_s, then give up: the statement fails with SQLITE_BUSY and the
 * message says the project is in use. The time waited is not SQL work: the statement clock
 * stops meanwhile. */
static int busy_wait(void *arg, int count) {
  pm_store *s = arg;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  double now = (double)t.tv_sec + (double)t.tv_nsec / 1e9;
  if (count == 0) {
    s->busy_since = now;
    if (!s->paused) s->spent += now_s() - s->resumed;
    s->paused = 1;
  }
  double waited = now - s->busy_since;
  if (waited >= s->wait_s) return 0;
  if (!s->busy_noticed && waited >= 1.0) {
    s->busy_noticed = 1;
    pm_notice(s->ctx, "%s is in use by another planmetrics process; waiting for it (up to %g s)",
              s->path, s->wait_s);
  }
  double pause = count < 10 ? 0.005 * (count + 1) : 0.1;
  if (pause > s->wait_s - waited) pause = s->wait_s - waited;
  usleep((useconds_t)(pause * 1e6) + 1);
  return 1;
}

/* --- Limits on statements --- */

/* Every PM__PROGRESS_OPS virtual-machine steps: stop the statement once it has worked longer
 * than the timeout or SQLite's memory passes the limit. The time counted is SQLite's own work on
 * one statement (with the statements it runs inside functions), not the caller's between rows. */
#define PM__PROGRESS_OPS 100
static int progress(void *arg) {
  pm_store *s = arg;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &t); /* a few ms of resolution: enough, and cheap */
  double now = (double)t.tv_sec + (double)t.tv_nsec / 1e9;
  if (s->paused) {
    s->resumed = now;
    s->paused = 0;
  }
  if (s->timeout_s > 0 && s->spent + (now - s->resumed) > s->timeout_s) {
    s->limit_hit = PM__LIMIT_TIME;
    return 1;
  }
  if (s->memory_limit > 0 && (++s->n_progress & 15) == 0 &&
      sqlite3_memory_used() > s->memory_limit) {
    s->limit_hit = PM__LIMIT_MEMORY;
    return 1;
  }
  return 0;
}

/* Statement boundaries: a statement that starts while none is running starts the clock; rows
 * handed to the caller stop it until SQLite works again; statements started meanwhile (inside a
 * function, or by the caller between rows) count with the running one. */
static int trace(unsigned type, void *arg, void *p, void *x) {
  (void)x;
  pm_store *s = arg;
  sqlite3_stmt *q = p;
  size_t i = 0;
  for (; i < s->n_active && s->active[i] != q; i++) {}
  if (type == SQLITE_TRACE_STMT) {
    if (i < s->n_active) return 0;
    if (s->n_active == 0) {
      s->spent = 0;
      s->resumed = now_s();
      s->paused = 0;
      s->limit_hit = 0;
    }
    if (s->n_active < PM_ARRAY_LEN(s->active)) s->active[s->n_active++] = q;
  } else if (type == SQLITE_TRACE_ROW) {
    /* checked here too: a filter may spend long in one function call, never reaching the
     * progress handler between rows */
    if (!s->paused) {
      s->spent += now_s() - s->resumed;
      s->paused = 1;
    }
    if (s->timeout_s > 0 && s->spent > s->timeout_s) {
      s->limit_hit = PM__LIMIT_TIME;
      sqlite3_interrupt(s->db);
    }
  } else if (type == SQLITE_TRACE_PROFILE && i < s->n_active) {
    s->active[i] = s->active[--s->n_active];
  }
  return 0;
}

static void apply_limits(pm_store *s) {
  if (!s->db) return;
  int on = s->timeout_s > 0 || s->memory_limit > 0;
  sqlite3_progress_handler(s->db, on ? PM__PROGRESS_OPS : 0, on ? progress : NULL, s);
  sqlite3_trace_v2(s->db, on ? SQLITE_TRACE_STMT | SQLITE_TRACE_ROW | SQLITE_TRACE_PROFILE : 0,
                   on ? trace : NULL, s);
  /* without limits: back to SQLite's own maximum (a larger request is clamped to it) */
  sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH,
                s->memory_limit > 0 ? (int)(s->memory_limit >> 2) : 0x7fffffff);
  s->n_active = 0;
}

int pm__store_step(pm_store *s, sqlite3_stmt *q) {
  if (s->paused && s->n_active) {
    s->resumed = now_s();
    s->paused = 0;
  }
  return sqlite3_step(q);
}

void pm_store_set_timeout(pm_store *s, double seconds) {
  if (!s) return;
  s->timeout_s = seconds > 0 ? seconds : 0;
  s->memory_limit = seconds > 0 ? PM_STORE_MEMORY_LIMIT : 0;
  apply_limits(s);
}

double pm__store_timeout(const pm_store *s) { return s->timeout_s; }
int64_t pm__store_memory_limit(const pm_store *s) { return s->memory_limit; }

/* --- Opening --- */

/* The connection's settings, the same for every file we open. */
static pm_status connect(pm_store *s, const char *file, int oflags) {
  if (sqlite3_open_v2(file, &s->db, oflags, NULL) != SQLITE_OK) {
    pm_status st = pm_error(s->ctx, PM_EIO, "%s: cannot open the project database (%s)", s->path,
                            s->db ? sqlite3_errmsg(s->db) : "out of memory");
    sqlite3_close_v2(s->db);
    s->db = NULL;
    return st;
  }
  sqlite3_extended_result_codes(s->db, 1);
  /* A large page cache: building a city-sized layer's R*Tree touches pages all over the index, and
   * SQLite's 2 MB default makes that I/O-bound. Memory is only used as pages are read. */
  sqlite3_exec(s->db, "PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY", NULL, NULL, NULL);
  s->spatialite_cache = spatialite_alloc_connection();
  spatialite_init_ex(s->db, s->spatialite_cache, 0);
  /* after SpatiaLite, which sets a busy timeout of its own */
  sqlite3_busy_handler(s->db, busy_wait, s);
  apply_limits(s);
  return PM_OK;
}

static void disconnect(pm_store *s) {
  if (s->db) sqlite3_close_v2(s->db); /* statements still open keep it until finalized */
  s->db = NULL;
  if (s->spatialite_cache) {
    /* freed at pm_store_close: a statement finalized after this point may still reach it */
    if (s->n_old_caches < PM_ARRAY_LEN(s->old_caches))
      s->old_caches[s->n_old_caches++] = s->spatialite_cache;
    else
      spatialite_cleanup_ex(s->spatialite_cache);
    s->spatialite_cache = NULL;
  }
}

/* Read the schema once: this is where SQLite rolls back what a crashed writer left. */
static int probe(pm_store *s) {
  sqlite3_stmt *q = NULL;
  int rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL);
  if (rc == SQLITE_OK) rc = sqlite3_step(q) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(s->db);
  sqlite3_finalize(q);
  return rc;
}

int pm__store_has_table(pm_store *s, const char *name) {
  sqlite3_stmt *q = NULL;
  int found = 0;
  if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1,
                         &q, NULL) == SQLITE_OK) {
    sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(q) == SQLITE_ROW;
  }
  sqlite3_finalize(q);
  return found;
}

static int user_version(pm_store *s) {
  sqlite3_stmt *v = NULL;
  int version = 0;
  if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &v, NULL) == SQLITE_OK &&
      sqlite3_step(v) == SQLITE_ROW)
    version = sqlite3_column_int(v, 0);
  sqlite3_finalize(v);
  return version;
}

/* A read-only connection cannot roll back the journal a crashed writer left ("hot"): open the
 * file read-write once, which rolls it back, then read-only again. */
static pm_status recover_then_reopen(pm_store *s) {
  disconnect(s);
  pm_status st = connect(s, s->path, SQLITE_OPEN_READWRITE);
  int rc = st ? SQLITE_CANTOPEN : probe(s);
  disconnect(s);
  if (st || rc != SQLITE_OK) {
    pm_context_clear_error(s->ctx);
    return pm_error(s->ctx, PM_EIO,
                    "%s: a planmetrics process stopped while writing this project and left its "
                    "journal (%s-journal), which must be rolled back before the project can be "
                    "read; this user cannot write the file or its directory to do so: run any "
                    "planmetrics command on it as a user who can (nothing committed is lost)",
                    s->path, s->path);
  }
  return connect(s, s->path, SQLITE_OPEN_READONLY);
}

static pm_status open_existing(pm_store *s) {
  pm_status st = connect(s, s->path, s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE);
  if (st) return st;
  int rc = probe(s);
  if (s->readonly && (rc == SQLITE_READONLY_ROLLBACK || rc == SQLITE_READONLY_RECOVERY ||
                      (rc & 0xff) == SQLITE_READONLY)) {
    if ((st = recover_then_reopen(s))) return st;
    rc = probe(s);
  }
  if ((rc & 0xff) == SQLITE_BUSY) return pm__store_fail(s, PM_EBUSY, "reading the schema", NULL);
  if ((rc & 0xff) == SQLITE_NOTADB)
    return pm_error(s->ctx, PM_EINPUT,
                    "%s: not a planmetrics project database (not an SQLite file); give another "
                    "file with --db, or a new name to create a project",
                    s->path);
  if ((rc & 0xff) == SQLITE_CORRUPT)
    return pm_error(s->ctx, PM_EIO,
                    "%s: the project database is damaged (%s); restore it from a copy",
                    s->path, sqlite3_errmsg(s->db));
  if (rc != SQLITE_OK)
    return pm_error(s->ctx, PM_EIO, "%s: cannot read the project database (%s)", s->path,
                    sqlite3_errmsg(s->db));
  if (!pm__store_has_table(s, "geometry_columns"))
    return pm_error(s->ctx, PM_EINPUT,
                    "%s: this SQLite file has no SpatiaLite metadata, so it is not a planmetrics "
                    "project database; give a new file name with --db",
                    s->path);
  int version = user_version(s);
  int ours = pm__store_has_table(s, "pm_project");
  if (ours && version > PM__STORE_SCHEMA)
    return pm_error(s->ctx, PM_EINPUT,
                    "%s: this project database was written by a newer planmetrics (schema %d; this "
                    "version reads up to %d); upgrade planmetrics to use it",
                    s->path, version, PM__STORE_SCHEMA);
  if (!ours && version != 0)
    return pm_error(s->ctx, PM_EINPUT,
                    "%s: this SpatiaLite file belongs to another program (its schema version is "
                    "%d), so it is not a planmetrics project database; give a new file name with "
                    "--db",
                    s->path, version);
  return PM_OK;
}

/* A free name beside path for building a new project: "PATH.new-PID-N" (created, empty, with
 * the mode a new file gets). */
static pm_status temp_beside(pm_store *s) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  for (unsigned i = 0; i < 1000; i++) {
    free(s->file);
    s->file = NULL;
    pm_status st = pm_asprintf(s->ctx, &s->file, "%s.new-%ld-%u", s->path, (long)getpid(),
                               (unsigned)(t.tv_nsec / 1000) + i);
    if (st) return st;
    int fd = open(s->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      close(fd);
      return PM_OK;
    }
    if (errno != EEXIST) {
      int err = errno;
      free(s->file);
      s->file = NULL;
      return pm_error(s->ctx, PM_EIO,
                      "%s: cannot create the project database (%s); check that the directory "
                      "exists and is writable",
                      s->path, strerror(err));
    }
  }
  return pm_error(s->ctx, PM_EIO, "%s: cannot find a free temporary name beside it", s->path);
}

/* Remove what this process created for a new project that was never put in place. */
static void remove_temp(pm_store *s) {
  if (!s->file) return;
  char journal[4096];
  unlink(s->file);
  snprintf(journal, sizeof journal, "%s-journal", s->file);
  unlink(journal);
}

/* A new project is built whole in a file of its own beside path; the outermost commit puts it
 * in place (publish), so nobody ever sees half a project and a failure removes only that file. */
/* Fill the new, empty file at path with the compiled-in new-project database. 0 when it cannot
 * be used (another SpatiaLite version than the one that made it, no memory, a write error): the
 * caller then makes the project the slow way (the file is emptied again). */
static int write_template(const char *path) {
  if (strcmp(spatialite_version(), pm__project_template_spatialite) != 0) return 0;
  size_t n = pm__project_template_raw_size;
  unsigned char *raw = malloc(n);
  int ok = raw && LZ4_decompress_safe((const char *)pm__project_template, (char *)raw,
                                      (int)pm__project_template_size, (int)n) == (int)n;
  int fd = ok ? open(path, O_WRONLY | O_TRUNC | O_CLOEXEC) : -1;
  if (fd < 0) ok = 0;
  for (size_t at = 0; ok && at < n;) {
    ssize_t w = write(fd, raw + at, n - at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) ok = 0;
    else at += (size_t)w;
  }
  if (fd >= 0 && !ok && ftruncate(fd, 0) != 0) ok = 0;
  if (fd >= 0) close(fd);
  free(raw);
  return ok;
}

static pm_status create_new(pm_store *s) {
  pm_status st = temp_beside(s);
  if (!st) s->pending = 1; /* from now on, pm_store_close removes the file unless it is published */
  int templated = !st && write_template(s->file);
  if (!st) st = connect(s, s->file, SQLITE_OPEN_READWRITE);
  if (st) return st;
  /* The file is this process's own until it is published: its metadata is written without
   * waiting for the disk (the commit that publishes it, with the usual setting, syncs it all). */
  int sync_mode = -1;
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(s->db, "PRAGMA synchronous", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    sync_mode = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  if (sync_mode > 0) sqlite3_exec(s->db, "PRAGMA synchronous = OFF", NULL, NULL, NULL);
  if (templated) /* SpatiaLite's log of its metadata: made now, by these versions */
    st = pm__store_exec(s, "initialising SpatiaLite metadata",
                        "UPDATE spatialite_history SET timestamp = "
                        "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ver_sqlite = sqlite_version(), "
                        "ver_splite = spatialite_version()");
  else
    st = pm__store_exec(s, "initialising SpatiaLite metadata",
                        PM__STORE_PAGE_SIZE_PRAGMA "SELECT InitSpatialMetadata(1)");
  if (!st) st = pm__store_exec(s, "creating project tables", PM__STORE_TABLES);
  if (!st) st = pm__store_set_schema(s);
  if (sync_mode > 0) {
    char sql[48];
    snprintf(sql, sizeof sql, "PRAGMA synchronous = %d", sync_mode);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  }
  return st;
}

static double wait_from_env(void) {
  const char *w = getenv("PLANMETRICS_WAIT");
  double v;
  if (w && pm__parse_decimal(w, 0, &v) && v >= 0) return v;
  return PM_STORE_WAIT_S;
}

pm_status pm_store_open(pm_context *ctx, const char *path, int flags, pm_store **out, int *created) {
  *out = NULL;
  if (created) *created = 0;
  struct stat sb;
  int exists = stat(path, &sb) == 0;
  if (!exists && lstat(path, &sb) == 0)
    return pm_error(ctx, PM_EINPUT,
                    "%s: a symbolic link to a file that does not exist; give the project "
                    "database's own path with --db",
                    path);
  if (!exists && !(flags & PM_STORE_CREATE))
    return pm_error(ctx, PM_ENOTFOUND,
                    "%s: no such project database; create it with `planmetrics ingest ... --db %s`",
                    path, path);
  pm_store *s = calloc(1, sizeof *s);
  if (!s) return pm_error(ctx, PM_ENOMEM, "out of memory");
  s->ctx = ctx;
  s->readonly = (flags & PM_STORE_READONLY) != 0;
  s->wait_s = wait_from_env();
  s->paused = 1;
  pm_status st = (s->path = strdup(path)) ? PM_OK : pm_error(ctx, PM_ENOMEM, "out of memory");
  if (!st) st = exists ? open_existing(s) : create_new(s);
  if (!st && pm__store_has_table(s, "pm_project")) st = pm__store_load_crs(s);
  if (st) {
    pm_store_close(s);
    return st;
  }
  if (created) *created = !exists;
  *out = s;
  return PM_OK;
}

void pm_store_release_memory(pm_store *store) {
  if (store && store->db) sqlite3_db_release_memory(store->db);
}

void pm_store_close(pm_store *s) {
  if (!s) return;
  while (s->in_transaction > 0) pm_store_rollback(s);
  disconnect(s);
  if (s->pending) remove_temp(s);
  for (size_t i = 0; i < s->n_old_caches; i++) spatialite_cleanup_ex(s->old_caches[i]);
  free(s->file);
  free(s->path);
  free(s);
}

sqlite3 *pm__store_db(pm_store *s) { return s->db; }

const void *pm__store_spatialite(pm_store *s) { return s->spatialite_cache; }

int pm__store_in_transaction(const pm_store *s) { return s->in_transaction > 0; }

pm_status pm__store_set_schema(pm_store *s) {
  char sql[48];
  snprintf(sql, sizeof sql, "PRAGMA user_version = %d", PM__STORE_SCHEMA);
  return pm__store_exec(s, "recording the database schema version", sql);
}

pm_context *pm_store_context(pm_store *s) { return s->ctx; }
const char *pm_store_path(const pm_store *s) { return s->path; }

/* --- Transactions --- */

/* The project's own tables, created by the first write transaction on a file that lacks them
 * (a SpatiaLite file of another program): a command that fails leaves that file as it was. */
static pm_status ensure_tables(pm_store *s) {
  if (pm__store_has_table(s, "pm_project") && pm__store_has_table(s, "layers")) return PM_OK;
  int fresh = !pm__store_has_table(s, "pm_project");
  pm_status st = pm__store_exec(s, "creating project tables", PM__STORE_TABLES);
  if (!st && fresh) st = pm__store_set_schema(s);
  return st;
}

/* Put a new project in place under its name, only if the name is still free: link() (or a
 * rename that refuses to replace) is atomic, so two processes creating the same project cannot
 * both succeed, and nothing that another process created is ever replaced or removed. */
static pm_status publish(pm_store *s) {
  disconnect(s);
  int rc = link(s->file, s->path), err = rc ? errno : 0;
  if (rc && err != EEXIST) {
    /* file systems without hard links */
    rc = renameat2(AT_FDCWD, s->file, AT_FDCWD, s->path, RENAME_NOREPLACE);
    err = rc ? errno : 0;
    if (!rc) {
      s->pending = 0; /* the temporary name is gone with the rename */
      return connect(s, s->path, SQLITE_OPEN_READWRITE);
    }
  }
  if (rc) {
    remove_temp(s);
    s->pending = 0;
    if (err == EEXIST)
      return pm_error(s->ctx, PM_EEXIST,
                      "%s: another process created this project while this one was building it; "
                      "nothing of this command was written",
                      s->path);
    return pm_error(s->ctx, PM_EIO, "%s: cannot put the new project database in place (%s)",
                    s->path, strerror(err));
  }
  remove_temp(s);
  s->pending = 0;
  return connect(s, s->path, SQLITE_OPEN_READWRITE);
}

pm_status pm_store_begin(pm_store *s) {
  /* Nested begins become savepoints, so a plan run can hold several ingests and its history in
   * one outer transaction: all of it lands, or none. */
  pm_status st;
  if (!s->db) return pm_error(s->ctx, PM_EINTERNAL, "%s: the store is closed", s->path);
  if (s->in_transaction == 0) {
    s->busy_noticed = 0;
    st = pm__store_exec(s, "starting to write", "BEGIN IMMEDIATE");
    if (!st) {
      s->in_transaction = 1;
      if ((st = ensure_tables(s))) pm_store_rollback(s);
      return st;
    }
  } else {
    char sql[48];
    snprintf(sql, sizeof sql, "SAVEPOINT pm_sp%d", s->in_transaction);
    st = pm__store_exec(s, "starting a savepoint", sql);
  }
  if (!st) s->in_transaction++;
  return st;
}

pm_status pm_store_commit(pm_store *s) {
  if (s->in_transaction <= 0) return pm_error(s->ctx, PM_EINTERNAL, "commit without a transaction");
  pm_status st;
  if (s->in_transaction == 1) {
    st = pm__store_exec(s, "committing", "COMMIT");
    if (st) {
      pm_store_rollback(s);
      return st;
    }
    s->in_transaction = 0;
    return s->pending ? publish(s) : PM_OK;
  }
  char sql[48];
  snprintf(sql, sizeof sql, "RELEASE pm_sp%d", s->in_transaction - 1);
  st = pm__store_exec(s, "releasing a savepoint", sql);
  if (st) {
    pm_store_rollback(s);
    return st;
  }
  s->in_transaction--;
  return PM_OK;
}

void pm_store_rollback(pm_store *s) {
  if (s->in_transaction <= 0) return;
  if (s->in_transaction == 1) {
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
  } else {
    char sql[96];
    snprintf(sql, sizeof sql, "ROLLBACK TO pm_sp%d; RELEASE pm_sp%d", s->in_transaction - 1,
             s->in_transaction - 1);
    sqlite3_exec(s->db, sql, NULL, NULL, NULL);
  }
  s->in_transaction--;
  if (pm__store_has_table(s, "pm_project")) pm__store_load_crs(s); /* the CRS may have been set inside */
}
