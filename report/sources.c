/* sources.c: the input layers of a recorded run with their files, dates and licences. */
#define _GNU_SOURCE /* strcasestr */
#include "report/sources.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/internal.h"
#include "store/store_internal.h"

static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), m = strlen(tail);
  return n >= m && strcasecmp(s + n - m, tail) == 0;
}

int pm__layer_is_osm(pm_store *store, const pm_layer_info *info) {
  const char *p = info->source_path ? info->source_path : "";
  static const char *const EXT[] = {".osm", ".pbf", ".o5m", ".osm.bz2", ".osm.gz", ".osm.xml"};
  for (size_t i = 0; i < PM_ARRAY_LEN(EXT); i++)
    if (ends_with(p, EXT[i])) return 1;
  char **names = NULL, **types = NULL;
  size_t n = 0;
  int osm = 0;
  if (info->name && pm_store_layer_fields(store, info->name, &names, &types, &n) == PM_OK) {
    for (size_t i = 0; i < n; i++) {
      if (strcmp(names[i], "osm_id") == 0 || strcmp(names[i], "osm_way_id") == 0) osm = 1;
      free(names[i]);
      free(types[i]);
    }
    free(names);
    free(types);
  } else {
    pm_context_clear_error(pm_store_context(store));
  }
  return osm;
}

void pm__sources_free(pm__source *v, size_t n) {
  for (size_t i = 0; v && i < n; i++) {
    free(v[i].layer);
    free(v[i].run_hash);
    free(v[i].attribution);
    pm_layer_info_clear(&v[i].info);
  }
  free(v);
}

/* The run's input_hashes (JSON text), or NULL. */
static pm_status input_hashes(pm_store *store, int64_t run_id, char **out) {
  *out = NULL;
  sqlite3_stmt *q = NULL;
  pm_status st = pm__store_prepare(store, "reading the inputs of a run",
                                   "SELECT input_hashes FROM pm_runs WHERE run_id = ?", &q);
  if (st) return st;
  sqlite3_bind_int64(q, 1, run_id);
  if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0) &&
      !(*out = strdup((const char *)sqlite3_column_text(q, 0))))
    st = pm_error(pm_store_context(store), PM_ENOMEM, "out of memory");
  sqlite3_finalize(q);
  return st;
}

pm_status pm__run_sources(pm_store *store, const pm_run_result *run, pm__source **out, size_t *n) {
  pm_context *ctx = pm_store_context(store);
  *out = NULL;
  *n = 0;
  char *text = NULL;
  pm_status st = run->run_id > 0 ? input_hashes(store, run->run_id, &text) : PM_OK;
  if (st || !text) return st;
  json_object *hashes = json_tokener_parse(text), *attrs = NULL;
  free(text);
  if (run->attributions) attrs = json_tokener_parse(run->attributions);
  if (!hashes || !json_object_is_type(hashes, json_type_object)) {
    json_object_put(hashes);
    json_object_put(attrs);
    return PM_OK; /* unreadable: the page only loses its Sources section */
  }
  pm__source *v = calloc((size_t)json_object_object_length(hashes) + 1, sizeof *v);
  if (!v) st = pm_error(ctx, PM_ENOMEM, "out of memory");
  size_t k = 0;
  json_object_object_foreach(hashes, name, hash) {
    if (st) break;
    pm__source *s = &v[k++];
    json_object *a = NULL;
    if (!(s->layer = strdup(name)) ||
        (json_object_get_string(hash) && !(s->run_hash = strdup(json_object_get_string(hash)))) ||
        (attrs && json_object_object_get_ex(attrs, name, &a) && json_object_get_string(a) &&
         !(s->attribution = strdup(json_object_get_string(a))))) {
      st = pm_error(ctx, PM_ENOMEM, "out of memory");
      break;
    }
    if ((st = pm_store_layer_info(store, name, &s->info, &s->found))) break;
    if (s->found) {
      s->changed = s->run_hash && *s->run_hash && s->info.source_hash &&
                   strcmp(s->run_hash, s->info.source_hash) != 0;
      s->osm = pm__layer_is_osm(store, &s->info);
    }
  }
  json_object_put(hashes);
  json_object_put(attrs);
  if (st) {
    pm__sources_free(v, k);
    return st;
  }
  *out = v;
  *n = k;
  return PM_OK;
}
