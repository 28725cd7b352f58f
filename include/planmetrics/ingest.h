/* ingest.h: read a layer with GDAL (any format, encoding, CRS), repair it, store it. */
#ifndef PLANMETRICS_INGEST_H
#define PLANMETRICS_INGEST_H

#include "planmetrics/context.h"
#include "planmetrics/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pm_ingest_options {
  const char *path;          /* the source file (or directory GDAL opens) */
  const char *as;            /* layer name in the project */
  const char *encoding;      /* text encoding of attributes (GBK, GB18030, UTF-8, CP1252...) or NULL */
  const char *src_crs;       /* source CRS when the file has none or to override: EPSG:n, gcj02, bd09 */
  const char *x_field;       /* CSV (or any table) coordinate columns */
  const char *y_field;
  const char *source_layer;  /* layer inside the dataset (OSM: points, lines, multipolygons...) */
  const char *where;         /* OGR SQL WHERE filter on the source attributes */
  const char *crs;           /* project metric CRS when the project is new: EPSG code; NULL: auto */
} pm_ingest_options;

typedef struct pm_ingest_report {
  int64_t n_read;            /* features that passed the filter */
  int64_t n_stored;
  int64_t n_repaired;        /* invalid geometries made valid */
  int64_t n_dropped;         /* empty or unrepairable geometries left out */
  int skipped;               /* 1 when pm_ingest_if_changed found nothing changed */
  char *encoding;            /* encoding used (detected or given), or NULL for none/UTF-8 native */
  int encoding_detected;     /* 1 when the encoding was detected rather than given or declared */
  char *source_crs;          /* readable source CRS */
  char *repaired_ids;        /* comma-separated source FIDs (at most 50, then ",...") */
  char *dropped_ids;
  char *dropped_reasons;     /* "fid 12: empty geometry; fid 40: ..." (first 20) */
} pm_ingest_report;

/* Ingest one layer into the project database, in one transaction: on any error the database is
 * exactly as it was. When the project has no CRS yet, it is fixed from opt->crs or the UTM zone of
 * this layer's centre. The caller frees the report with pm_ingest_report_clear. */
PM_API pm_status pm_ingest(pm_context *ctx, pm_store *store, const pm_ingest_options *opt,
                    pm_ingest_report *report);

/* Like pm_ingest, but does nothing (report->skipped = 1) when the layer exists with the same file
 * hash and the same options. */
PM_API pm_status pm_ingest_if_changed(pm_context *ctx, pm_store *store, const pm_ingest_options *opt,
                               pm_ingest_report *report);

/* The canonical option string stored in `layers.options` (caller frees). */
PM_API pm_status pm_ingest_options_string(pm_context *ctx, const pm_ingest_options *opt, char **out);

/* SHA-256 (hex) of a source: the file and, for a shapefile, its sidecar files (.dbf .shx .prj .cpg).
 * Caller frees *hex. */
PM_API pm_status pm_source_hash(pm_context *ctx, const char *path, char **hex);

/* The UTM zone EPSG code for a source layer's centre (what a new project would use). */
PM_API pm_status pm_ingest_auto_epsg(pm_context *ctx, const pm_ingest_options *opt, int *epsg);

PM_API void pm_ingest_report_clear(pm_ingest_report *report);

/* --- Text encoding (layers/encoding.c) --- */
/* Whether s (len bytes) is valid UTF-8. */
PM_API int pm_utf8_valid(const char *s, size_t len);
/* Whether s decodes cleanly as GB18030 (a superset of GBK) with at least one multi-byte char. */
PM_API int pm_gb18030_plausible(const char *s, size_t len);
/* Convert text from `encoding` to UTF-8 (GDAL's CPLRecode, iconv). Fails with PM_EINPUT when the
 * bytes are not valid in that encoding. Caller frees *out. */
PM_API pm_status pm_recode_to_utf8(pm_context *ctx, const char *s, const char *encoding, char **out);
/* Whether the encoding name is known to the converter. */
PM_API int pm_encoding_known(const char *encoding);

#ifdef __cplusplus
}
#endif
#endif
