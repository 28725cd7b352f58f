/* fuzz_ingest.c: fuzz targets: a CSV (lon/lat columns), a GeoJSON file or a Shapefile ingested
 * into a project (pm_ingest), as PM_FUZZ_FORMAT says. Any input must end in a stored layer or an
 * error message, and a failed ingest must leave the project as it was.
 *
 * A Shapefile is three files: the input is [u32 LE length of .shp][u32 LE length of .shx] then
 * the .shp, the .shx and the .dbf (the rest); tests/fuzz/pack_shp.py makes one from a shapefile. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "planmetrics/planmetrics.h"
#include "store/store_internal.h"

#define FORMAT_CSV PM_FUZZ_FORMAT_CSV
#define FORMAT_GEOJSON PM_FUZZ_FORMAT_GEOJSON
#define FORMAT_SHP PM_FUZZ_FORMAT_SHP

#if PM_FUZZ_FORMAT == FORMAT_SHP
static uint32_t u32le(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
#endif

/* The input as the source file(s); the path to ingest in src. 0 when written. */
static int write_source(const uint8_t *data, size_t size, unsigned n, char *src, size_t cap) {
  const char *dir = pm_fuzz_dir();
#if PM_FUZZ_FORMAT == FORMAT_SHP
  if (size < 8) return -1;
  uint32_t a = u32le(data), b = u32le(data + 4);
  if (a > size - 8 || b > size - 8 - a) return -1;
  const uint8_t *p = data + 8;
  char path[400];
  snprintf(src, cap, "%s/in%u.shp", dir, n);
  snprintf(path, sizeof path, "%s/in%u.shx", dir, n);
  if (pm_fuzz_write(src, p, a) || pm_fuzz_write(path, p + a, b)) return -1;
  snprintf(path, sizeof path, "%s/in%u.dbf", dir, n);
  return pm_fuzz_write(path, p + a + b, size - 8 - a - b);
#else
  snprintf(src, cap, "%s/in%u.%s", dir, n, PM_FUZZ_FORMAT == FORMAT_CSV ? "csv" : "geojson");
  return pm_fuzz_write(src, data, size);
#endif
}

static void remove_source(unsigned n) {
  char path[400];
  static const char *const ext[] = {"csv", "geojson", "shp", "shx", "dbf", "cpg", "prj"};
  for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
    snprintf(path, sizeof path, "%s/in%u.%s", pm_fuzz_dir(), n, ext[i]);
    remove(path);
  }
}

/* What a failed ingest must leave unchanged: the layers and their counts. */
static double layers_sum(pm_store *store) {
  sqlite3_stmt *q = NULL;
  double v = -1;
  if (sqlite3_prepare_v2(pm__store_db(store), "SELECT count(*) + total(n_stored) FROM layers", -1,
                         &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW)
    v = sqlite3_column_double(q, 0);
  sqlite3_finalize(q);
  return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static pm_context *ctx;
  static pm_store *store;
  static unsigned n;
  if (!ctx) {
    char db[300];
    snprintf(db, sizeof db, "%s/project.sqlite", pm_fuzz_dir());
    if (pm_context_create(&ctx) != PM_OK || pm_store_open(ctx, db, PM_STORE_CREATE, &store, NULL) ||
        pm_store_begin(store) || pm_store_set_crs(store, 32651) || pm_store_commit(store)) {
      fprintf(stderr, "fuzz_ingest: cannot make the project: %s\n", pm_context_message(ctx));
      abort();
    }
    /* a scratch project: crash safety is not what is fuzzed here */
    sqlite3_exec(pm__store_db(store), "PRAGMA synchronous = OFF", NULL, NULL, NULL);
  }
  char src[400];
  unsigned id = n++;
  double before = layers_sum(store);
  if (write_source(data, size, id, src, sizeof src) == 0) {
    pm_ingest_options opt = {.path = src, .as = "fuzzed", .src_crs = "EPSG:4326"};
#if PM_FUZZ_FORMAT == FORMAT_CSV
    opt.x_field = "lon";
    opt.y_field = "lat";
#endif
    pm_ingest_report rep;
    pm_status st = pm_ingest(ctx, store, &opt, &rep);
    pm_ingest_report_clear(&rep);
    if (st && layers_sum(store) != before) {
      fprintf(stderr, "fuzz_ingest: a failed ingest changed the project: %s\n",
              pm_context_message(ctx));
      abort();
    }
    pm_context_clear_error(ctx);
  }
  remove_source(id);
  return 0;
}
