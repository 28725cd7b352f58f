/* store.h: the SpatiaLite project database: project CRS, layer tables, layer metadata. */
#ifndef PLANMETRICS_STORE_H
#define PLANMETRICS_STORE_H

#include "planmetrics/context.h"
#include "planmetrics/districts.h"
#include "planmetrics/features.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_store pm_store;

enum {
  PM_STORE_READONLY = 1, /* open an existing database read-only */
  PM_STORE_CREATE = 2    /* create the database (with SpatiaLite metadata) when it does not exist */
};

/* Open a project database. The caller owns *out and closes it with pm_store_close.
 *
 * - A missing file with PM_STORE_CREATE: the project is built in a file of its own beside path
 *   (PATH.new-PID-N) and put in place by the first (outermost) pm_store_commit, only if nothing
 *   has taken the name meanwhile (link(2): atomic); *created (may be NULL) is set. Until then
 *   no other process sees it; pm_store_close without a commit removes that file and nothing
 *   else. When another process created the project first, that commit fails with PM_EEXIST and
 *   writes nothing: open path again and redo the work on the existing project.
 * - An existing file left by a crashed writer (a "hot" rollback journal, PATH-journal) is rolled
 *   back to its last committed state, also for PM_STORE_READONLY (which then opens it
 *   read-write once, for the rollback alone).
 * - A file of another program (a SpatiaLite file without planmetrics' tables) is used as it is:
 *   the project's tables are created by the first write transaction, so a command that fails
 *   leaves it unchanged. A project written by a newer planmetrics is refused.
 * - While another connection holds the lock a statement needs, it waits (a notice after a
 *   second) up to PM_STORE_WAIT_S seconds, or the PLANMETRICS_WAIT environment variable's, then
 *   fails with PM_EBUSY: "in use by another planmetrics process". */
#define PM_STORE_WAIT_S 60
PM_API pm_status pm_store_open(pm_context *ctx, const char *path, int flags, pm_store **out, int *created);
PM_API void pm_store_close(pm_store *store);
/* Limits on every SQL statement of this connection from now on: SQLite's own work on one
 * statement (the caller's time between rows does not count) at most `seconds`, SQLite's memory
 * at most PM_STORE_MEMORY_LIMIT bytes, and one text or blob at most a quarter of that; a
 * statement past a limit stops with an error saying which (filters and `sql` name themselves).
 * seconds <= 0 removes the limits (the default of pm_store_open). The command line's --timeout
 * defaults to PM_STORE_TIMEOUT_S. */
#define PM_STORE_TIMEOUT_S 60
#define PM_STORE_MEMORY_LIMIT ((int64_t)1 << 30)
PM_API void pm_store_set_timeout(pm_store *store, double seconds);
PM_API void pm_store_release_memory(pm_store *store);

/* Borrowed handles, valid until pm_store_close. */
PM_API pm_context *pm_store_context(pm_store *store);
PM_API const char *pm_store_path(const pm_store *store);

/* One write transaction (BEGIN IMMEDIATE). Everything an ingest or a run writes happens between
 * begin and commit; any error calls rollback so the database stays exactly as it was. Begins nest
 * (inner ones are savepoints): a plan run wraps its ingests and its history in one transaction.
 * Only one process writes a project at a time: begin waits for the other (see pm_store_open) and
 * fails with PM_EBUSY when it does not finish in time. The outermost commit of a new project puts
 * it in place (PM_EEXIST: see pm_store_open). */
PM_API pm_status pm_store_begin(pm_store *store);
PM_API pm_status pm_store_commit(pm_store *store);
PM_API void pm_store_rollback(pm_store *store);

/* The project's metric CRS: srid 0 means not fixed yet (no layer ingested). *name is borrowed,
 * e.g. "EPSG:32651". */
PM_API pm_status pm_store_crs(pm_store *store, int *srid, const char **name);
/* Fix the project's metric CRS (only once: an error when a different one is already set). */
PM_API pm_status pm_store_set_crs(pm_store *store, int srid);

/* Project-level key/value settings (pm_project table). *value is a heap copy or NULL when the key
 * is absent; the caller frees it. */
PM_API pm_status pm_store_get_setting(pm_store *store, const char *key, char **value);
PM_API pm_status pm_store_set_setting(pm_store *store, const char *key, const char *value);

/* A layer name must be a plain identifier ([A-Za-z_][A-Za-z0-9_]*, at most 60 characters) that is
 * not one of the database's own tables. Returns PM_EINPUT with a message otherwise. */
PM_API pm_status pm_store_check_layer_name(pm_context *ctx, const char *name);

/* --- Layer metadata (the `layers` table) --- */
typedef struct pm_layer_info {
  char *name;
  pm_geom_kind kind;
  char *geometry_type;   /* SpatiaLite type: POINT, MULTILINESTRING, MULTIPOLYGON */
  char *source_path;
  char *source_layer;    /* layer inside the source dataset, or NULL */
  char *source_hash;     /* SHA-256 of the source file(s), hex */
  char *source_crs;      /* as given or read: "EPSG:4326", "gcj02", a WKT name... */
  char *encoding;        /* text encoding used to decode attributes, or NULL */
  char *filter;          /* the --where filter, or NULL */
  char *options;         /* canonical form of all ingest options (to detect unchanged inputs) */
  int64_t n_read, n_stored, n_repaired, n_dropped;
  char *repaired_ids;    /* comma-separated source FIDs, possibly truncated with ",..." */
  char *dropped_ids;
  double minx, miny, maxx, maxy; /* extent in the project CRS */
  char *ingested_at;     /* ISO 8601 UTC */
} pm_layer_info;

/* Metadata of one layer; *found is 0 (and *info zeroed) when the layer does not exist.
 * The caller releases the strings with pm_layer_info_clear. */
PM_API pm_status pm_store_layer_info(pm_store *store, const char *name, pm_layer_info *info, int *found);
/* All layers, sorted by name. The caller frees with pm_layer_info_destroy_all(*out, *n). */
PM_API pm_status pm_store_list_layers(pm_store *store, pm_layer_info **out, size_t *n);
PM_API void pm_layer_info_clear(pm_layer_info *info);
PM_API void pm_layer_info_destroy_all(pm_layer_info *infos, size_t n);
/* Insert or replace the metadata row (inside the caller's transaction). */
PM_API pm_status pm_store_put_layer_info(pm_store *store, const pm_layer_info *info);

/* Field names and SQLite types of a layer table, excluding fid and geom.
 * The caller frees each name and both arrays. */
PM_API pm_status pm_store_layer_fields(pm_store *store, const char *layer, char ***names, char ***types,
                                size_t *n);
/* Whether the layer has every field of names (NULL-terminated, compared without case): *all 1 or
 * 0, and *missing the first name it lacks (borrowed from names; NULL when none). */
PM_API pm_status pm_store_layer_has_fields(pm_store *store, const char *layer,
                                           const char *const *names, int *all,
                                           const char **missing);

/* --- Writing a layer table (inside a transaction) --- */
typedef enum pm_field_type { PM_FIELD_INTEGER, PM_FIELD_REAL, PM_FIELD_TEXT } pm_field_type;

typedef struct pm_field_def {
  const char *name;
  pm_field_type type;
} pm_field_def;

/* One attribute value; which member is read depends on the field's pm_field_type. */
typedef struct pm_value {
  int is_null;
  int64_t i;     /* PM_FIELD_INTEGER */
  double d;      /* PM_FIELD_REAL */
  const char *s; /* PM_FIELD_TEXT: UTF-8, borrowed */
} pm_value;

typedef struct pm_layer_writer pm_layer_writer;

/* Drop the layer table `name` if it exists and create it anew: `fid INTEGER PRIMARY KEY`, the
 * given fields, and a geometry column `geom` of the kind (multi types for lines and polygons,
 * POINT or MULTIPOINT for points) in the project CRS, registered with SpatiaLite with its spatial
 * index. The caller owns *out. The writer inserts on a thread of its own: until
 * pm_layer_writer_finish or _destroy, use the store only through the writer. */
PM_API pm_status pm_store_layer_create(pm_store *store, const char *name, pm_geom_kind kind,
                                       int multipoint, const pm_field_def *fields,
                                       size_t n_fields, pm_layer_writer **out);
/* Append one feature: WKB in the project CRS (2D) and one value per field (both copied; fids
 * increasing are cheapest). A feature that cannot be stored (a geometry of another type than the
 * layer's, a fid used twice) may be reported by a later call or by finish, naming its fid. */
PM_API pm_status pm_layer_writer_add(pm_layer_writer *w, int64_t fid, const unsigned char *wkb,
                                     size_t wkb_len, const pm_value *values);
/* Insert what is left, build the spatial index and SpatiaLite's layer statistics. The writer stays
 * owned by the caller. A writer destroyed without finishing leaves its table half made: roll the
 * transaction back. */
PM_API pm_status pm_layer_writer_finish(pm_layer_writer *w);
PM_API void pm_layer_writer_destroy(pm_layer_writer *w);

/* Drop a layer table and its metadata row (inside a transaction). */
PM_API pm_status pm_store_drop_layer(pm_store *store, const char *name);

/* --- Loading layers into memory --- */

typedef struct pm_load_options {
  const char *where;               /* SQL WHERE on the layer's attributes (OGR SQL subset), or NULL */
  const char *label_field;         /* field used as display name; NULL: `name`/`NAME` if present */
  const char *const *attrs;        /* further attributes to load as text */
  size_t n_attrs;
} pm_load_options;

/* Load a layer (or its filtered selection) from the project database. A filter naming a missing
 * field, or a missing layer, is an error naming the layer and the field. Caller owns *out. */
PM_API pm_status pm_features_load(pm_context *ctx, pm_store *store, const char *layer,
                           const pm_load_options *opt, pm_features **out);

/* A cache of loaded selections, keyed by layer, filter, label field and attributes, so several
 * indicators on the same layer load it once. Returned features are borrowed from the cache and
 * live until pm_cache_destroy. */
typedef struct pm_cache pm_cache;
PM_API pm_status pm_cache_create(pm_context *ctx, pm_store *store, pm_cache **out);
PM_API pm_status pm_cache_get(pm_cache *cache, const char *layer, const pm_load_options *opt,
                       const pm_features **out);
/* Free every cached selection except those in keep[0..n_keep): the others' pointers become
 * invalid (e.g. once the indicators that used them are computed). */
PM_API void pm_cache_release_except(pm_cache *cache, const pm_features *const *keep, size_t n_keep);
PM_API void pm_cache_destroy(pm_cache *cache);

/* Load districts from a polygon layer. name_field is the attribute holding the names; only (may be
 * NULL) restricts the scope to these names, in that order (an unknown name is an error that lists
 * the names present). Districts with the same name are merged. Caller owns *out. */
PM_API pm_status pm_districts_load(pm_context *ctx, pm_store *store, const char *layer,
                            const char *name_field, const char *const *only, size_t n_only,
                            pm_districts **out);
#ifdef __cplusplus
}
#endif
#endif
