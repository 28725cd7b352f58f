/* test_project_file.c: the project file (store/file.c): a new project appears whole or not at
 * all, never replaces or removes another's; a crashed writer's journal is rolled back also for
 * readers; another program's SpatiaLite file is changed only by a command that succeeds; a
 * second writer waits and then says the project is in use; statements stop at their limits;
 * filters are one condition that only reads. */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <spatialite.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

static int exists(const char *path) { return access(path, F_OK) == 0; }

/* Files in the test directory whose name starts with prefix (temporary projects left behind). */
static int count_prefixed(const char *prefix) {
  DIR *d = opendir(pm_test_tmpdir());
  assert_non_null(d);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
  closedir(d);
  return n;
}

/* A project with one point layer `name` of n points (committed); returns the open store. */
static pm_store *project_with_points(pm_context *ctx, const char *db, const char *name, int n) {
  pm_store *s = NULL;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_CREATE, &s, NULL), PM_OK);
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_store_set_crs(s, 32651), PM_OK);
  const pm_field_def f[] = {{"k", PM_FIELD_INTEGER}};
  pm_layer_writer *w = NULL;
  assert_int_equal(pm_store_layer_create(s, name, PM_KIND_POINT, 0, f, 1, &w), PM_OK);
  for (int i = 0; i < n; i++) {
    unsigned char wkb[21] = {1, 1, 0, 0, 0};
    double xy[2] = {300000.0 + i, 3400000.0};
    memcpy(wkb + 5, xy, 16);
    pm_value v = {.i = i};
    assert_int_equal(pm_layer_writer_add(w, i + 1, wkb, sizeof wkb, &v), PM_OK);
  }
  assert_int_equal(pm_layer_writer_finish(w), PM_OK);
  pm_layer_writer_destroy(w);
  pm_layer_info info = {.name = (char *)name, .kind = PM_KIND_POINT,
                        .geometry_type = (char *)"POINT", .n_read = n, .n_stored = n,
                        .minx = NAN, .miny = NAN, .maxx = NAN, .maxy = NAN};
  assert_int_equal(pm_store_put_layer_info(s, &info), PM_OK);
  assert_int_equal(pm_store_commit(s), PM_OK);
  return s;
}

static void new_project_appears_whole(void **state) {
  pm_context *ctx = *state;
  char db[512];
  snprintf(db, sizeof db, "%s", pm_test_path("whole.sqlite"));
  pm_store *s = NULL;
  int created = 0;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_CREATE, &s, &created), PM_OK);
  assert_int_equal(created, 1);
  assert_false(exists(db)); /* built beside it, not yet in place */
  assert_int_equal(count_prefixed("whole.sqlite.new-"), 1);
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_store_set_crs(s, 32651), PM_OK);
  pm_store_close(s); /* failed first use: nothing left, not even the temporary file */
  assert_false(exists(db));
  assert_int_equal(count_prefixed("whole.sqlite"), 0);

  pm_store_close(project_with_points(ctx, db, "stops", 3));
  assert_true(exists(db));
  assert_int_equal(count_prefixed("whole.sqlite"), 1);
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_READONLY, &s, NULL), PM_OK);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM stops"), 3);
  assert_int_equal(pm_test_sql_int(s, "PRAGMA user_version"), PM__STORE_SCHEMA);
  pm_store_close(s);
  /* a link to nothing is not a name to create a project under (link(2) would find it taken) */
  char dangling[512];
  snprintf(dangling, sizeof dangling, "%s", pm_test_path("dangling.sqlite"));
  assert_int_equal(symlink("nowhere.sqlite", dangling), 0);
  assert_int_equal(pm_store_open(ctx, dangling, PM_STORE_CREATE, &s, NULL), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "symbolic link"));
}

/* Two processes creating one project: the second to finish finds the name taken, writes
 * nothing (PM_EEXIST) and removes only its own file; a failed first use never removes the
 * project another one put in place meanwhile. */
static void creation_race(void **state) {
  pm_context *ctx = *state;
  char db[512];
  snprintf(db, sizeof db, "%s", pm_test_path("race.sqlite"));
  pm_store *late = NULL, *failing = NULL;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_CREATE, &late, NULL), PM_OK);
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_CREATE, &failing, NULL), PM_OK);
  pm_store_close(project_with_points(ctx, db, "first", 2)); /* the winner */
  assert_int_equal(pm_store_begin(late), PM_OK);
  assert_int_equal(pm_store_set_crs(late, 32651), PM_OK);
  assert_int_equal(pm_store_set_setting(late, "late", "1"), PM_OK);
  assert_int_equal(pm_store_commit(late), PM_EEXIST);
  assert_non_null(strstr(pm_context_message(ctx), "another process created this project"));
  pm_store_close(late);
  assert_int_equal(pm_store_begin(failing), PM_OK);
  pm_store_rollback(failing);
  pm_store_close(failing);
  assert_int_equal(count_prefixed("race.sqlite"), 1); /* no temporary file left */
  pm_store *s = NULL;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_READONLY, &s, NULL), PM_OK);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM first"), 2);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM pm_project WHERE key = 'late'"), 0);
  pm_store_close(s);
}

static void sha_of(const char *path, char hex[65]) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *buf = malloc((size_t)n);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  pm__sha256_buffer(buf, (size_t)n, hex);
  free(buf);
}

/* Another program's SpatiaLite file: opening it and failing changes nothing; the project's
 * tables come with the first write that is committed. */
static void foreign_file_changed_only_by_success(void **state) {
  pm_context *ctx = *state;
  char db[512];
  snprintf(db, sizeof db, "%s", pm_test_path("foreign.sqlite"));
  sqlite3 *raw = NULL;
  assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
  void *cache = spatialite_alloc_connection();
  spatialite_init_ex(raw, cache, 0);
  assert_int_equal(sqlite3_exec(raw, "SELECT InitSpatialMetadata(1); CREATE TABLE roads(a);",
                                NULL, NULL, NULL),
                   SQLITE_OK);
  sqlite3_close(raw);
  spatialite_cleanup_ex(cache);
  char before[65], after[65];
  sha_of(db, before);
  pm_store *s = NULL;
  assert_int_equal(pm_store_open(ctx, db, 0, &s, NULL), PM_OK);
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_store_set_crs(s, 32651), PM_OK);
  /* a layer named like the other program's table is refused, not dropped */
  pm_layer_writer *w = NULL;
  const pm_field_def f[] = {{"k", PM_FIELD_INTEGER}};
  assert_int_equal(pm_store_layer_create(s, "Roads", PM_KIND_LINE, 0, f, 1, &w), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "not a planmetrics layer"));
  pm_store_rollback(s);
  pm_store_close(s);
  sha_of(db, after);
  assert_string_equal(before, after);

  assert_int_equal(pm_store_open(ctx, db, 0, &s, NULL), PM_OK);
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_store_set_crs(s, 32651), PM_OK);
  assert_int_equal(pm_store_commit(s), PM_OK);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM sqlite_master WHERE name IN ('pm_project', "
                              "'layers')"),
                   2);
  assert_int_equal(pm_test_sql_int(s, "PRAGMA user_version"), PM__STORE_SCHEMA);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM roads"), 0);
  pm_store_close(s);
}

/* A writer killed in the middle of a transaction leaves a hot journal; a read-only open rolls
 * it back and shows the last committed state. */
static void hot_journal_read_only(void **state) {
  pm_context *ctx = *state;
  char db[512], journal[600];
  snprintf(db, sizeof db, "%s", pm_test_path("hot.sqlite"));
  snprintf(journal, sizeof journal, "%s-journal", db);
  pm_store_close(project_with_points(ctx, db, "stops", 500));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    sqlite3 *raw = NULL;
    if (sqlite3_open(db, &raw) != SQLITE_OK) _exit(3);
    /* a tiny cache makes SQLite write changed pages into the file before the commit */
    sqlite3_exec(raw,
                 "PRAGMA cache_size = 1; BEGIN; DELETE FROM stops; CREATE TABLE junk(x);",
                 NULL, NULL, NULL);
    sqlite3_exec(raw, "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < "
                      "2000) INSERT INTO junk SELECT randomblob(4000) FROM c",
                 NULL, NULL, NULL);
    kill(getpid(), SIGKILL);
    _exit(4);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFSIGNALED(status));
  assert_true(exists(journal));
  pm_store *s = NULL;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_READONLY, &s, NULL), PM_OK);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM stops"), 500);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM sqlite_master WHERE name = 'junk'"), 0);
  sqlite3_stmt *q = NULL;
  assert_int_equal(sqlite3_prepare_v2(pm__store_db(s), "PRAGMA integrity_check", -1, &q, NULL),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(q), SQLITE_ROW);
  assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
  sqlite3_finalize(q);
  pm_store_close(s);
  assert_false(exists(journal));
}

/* A second writer waits for the first, then gives up saying why; a reader is not blocked. */
static void second_writer_waits_then_says_busy(void **state) {
  pm_context *ctx = *state;
  char db[512];
  snprintf(db, sizeof db, "%s", pm_test_path("busy.sqlite"));
  pm_store *a = project_with_points(ctx, db, "stops", 3);
  assert_int_equal(pm_store_begin(a), PM_OK);
  assert_int_equal(pm_store_set_setting(a, "writing", "yes"), PM_OK);
  setenv("PLANMETRICS_WAIT", "0.3", 1);
  pm_store *b = NULL, *r = NULL;
  assert_int_equal(pm_store_open(ctx, db, 0, &b, NULL), PM_OK);
  assert_int_equal(pm_store_begin(b), PM_EBUSY);
  assert_non_null(strstr(pm_context_message(ctx), "in use by another planmetrics process"));
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_READONLY, &r, NULL), PM_OK);
  assert_int_equal(pm_test_sql_int(r, "SELECT count(*) FROM stops"), 3);
  pm_store_close(r);
  assert_int_equal(pm_store_commit(a), PM_OK);
  assert_int_equal(pm_store_begin(b), PM_OK); /* free now */
  pm_store_rollback(b);
  unsetenv("PLANMETRICS_WAIT");
  pm_store_close(b);
  pm_store_close(a);
}

/* A statement past the time limit stops with a message naming the limit; so does a filter, and
 * a filter that would write is refused. */
static void limits_and_filters(void **state) {
  pm_context *ctx = *state;
  char db[512];
  snprintf(db, sizeof db, "%s", pm_test_path("limits.sqlite"));
  pm_store_close(project_with_points(ctx, db, "stops", 300));
  pm_store *s = NULL;
  assert_int_equal(pm_store_open(ctx, db, PM_STORE_READONLY, &s, NULL), PM_OK);
  pm_store_set_timeout(s, 0.5);
  pm_table *t = NULL;
  assert_int_equal(pm_query_sql(ctx, s, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                                        "FROM c) SELECT count(*) FROM c",
                                &t),
                   PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "--timeout"));
  assert_int_equal(pm_query_sql(ctx, s, "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 "
                                        "FROM c) SELECT x FROM c",
                                &t),
                   PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "--timeout"));
  assert_null(t);
  pm_features *fs = NULL;
  pm_load_options slow = {.where = "length(randomblob(20000000)) < 0"};
  assert_int_equal(pm_features_load(ctx, s, "stops", &slow, &fs), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "the filter `length(randomblob"));
  assert_non_null(strstr(pm_context_message(ctx), "--timeout"));
  pm_store_close(s);

  assert_int_equal(pm_store_open(ctx, db, 0, &s, NULL), PM_OK);
  const char *bad[] = {"0) UNION ALL SELECT fid, AsBinary(geom), NULL FROM stops --",
                       "k > 1; DROP TABLE stops", "k IN (SELECT k FROM stops)"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    pm_load_options o = {.where = bad[i]};
    assert_int_equal(pm_features_load(ctx, s, "stops", &o, &fs), PM_EINPUT);
    assert_non_null(strstr(pm_context_message(ctx), "not one condition"));
  }
  pm_load_options drop = {.where = "DropTable(NULL, 'stops') = 1"};
  assert_int_equal(pm_store_begin(s), PM_OK);
  assert_int_equal(pm_features_load(ctx, s, "stops", &drop, &fs), PM_EINPUT);
  assert_non_null(strstr(pm_context_message(ctx), "tried to change the project database"));
  assert_int_equal(pm_store_commit(s), PM_OK);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM stops"), 300);
  pm_load_options fine = {.where = "k < 10 AND (k % 2) = 0"};
  assert_int_equal(pm_features_load(ctx, s, "STOPS", &fine, &fs), PM_OK); /* any case */
  assert_int_equal(fs->n, 5);
  pm_features_destroy(ctx, fs);
  pm_store_close(s);
}

static void filter_check(void **state) {
  (void)state;
  char why[256];
  const char *good[] = {"highway = 'bus_stop'", "name LIKE '%(在建)%'", "a IN (1, 2)",
                        "\"odd)name\" = 1", "x = 'it''s; -- fine'", "(a > 1) AND (b < 2)",
                        "[a b] = 1", "railway IN ('station','halt') AND station = 'light_rail'",
                        "(';' || address) GLOB '*;[^(]*'"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    if (!pm__filter_check(good[i], why, sizeof why)) fail_msg("%s refused: %s", good[i], why);
  const char *bad[] = {"0) UNION ALL SELECT 1 --", "a = 1; DROP TABLE x", "a = 1 -- c",
                       "a = 1 /* c */", "a IN (SELECT b FROM t)", "(a = 1", "a = 'open",
                       "", "   ", "a = 1 UNION SELECT 2", "\"unclosed = 1"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (pm__filter_check(bad[i], why, sizeof why)) fail_msg("%s accepted", bad[i]);
  char *long_filter = malloc(PM_FILTER_MAX + 10);
  assert_non_null(long_filter);
  memset(long_filter, 'a', PM_FILTER_MAX + 9);
  long_filter[PM_FILTER_MAX + 9] = '\0';
  assert_false(pm__filter_check(long_filter, why, sizeof why));
  free(long_filter);
}

/* Layer names do not tell case apart: any spelling finds a layer, another spelling cannot be
 * written beside it. */
static void layer_names_ignore_case(void **state) {
  pm_context *ctx = *state;
  char db[512];
  snprintf(db, sizeof db, "%s", pm_test_path("case.sqlite"));
  pm_store *s = project_with_points(ctx, db, "bus_stops", 4);
  pm_layer_info info;
  int found = 0;
  assert_int_equal(pm_store_layer_info(s, "BUS_STOPS", &info, &found), PM_OK);
  assert_int_equal(found, 1);
  assert_string_equal(info.name, "bus_stops");
  pm_layer_info_clear(&info);
  assert_int_equal(pm_store_begin(s), PM_OK);
  pm_layer_writer *w = NULL;
  const pm_field_def f[] = {{"k", PM_FIELD_INTEGER}};
  assert_int_equal(pm_store_layer_create(s, "Bus_Stops", PM_KIND_POINT, 0, f, 1, &w), PM_EINPUT);
  assert_null(w);
  assert_non_null(strstr(pm_context_message(ctx), "'bus_stops'"));
  assert_non_null(strstr(pm_context_message(ctx), "--as bus_stops"));
  assert_int_equal(pm_store_layer_create(s, "bus_stops", PM_KIND_POINT, 0, f, 1, &w), PM_OK);
  pm_layer_writer_destroy(w);
  pm_store_rollback(s);
  assert_int_equal(pm_test_sql_int(s, "SELECT count(*) FROM bus_stops"), 4);
  pm_store_close(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      pm_test_case(new_project_appears_whole),
      pm_test_case(creation_race),
      pm_test_case(foreign_file_changed_only_by_success),
      pm_test_case(hot_journal_read_only),
      pm_test_case(second_writer_waits_then_says_busy),
      pm_test_case(limits_and_filters),
      cmocka_unit_test(filter_check),
      pm_test_case(layer_names_ignore_case),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
