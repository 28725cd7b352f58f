/* cmd_ingest.c: `planmetrics ingest` and `planmetrics info`. */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const char INGEST_HELP[] =
    "usage: planmetrics ingest PATH --db PROJECT.sqlite --as LAYER [options]\n\n"
    "Load one layer of a Shapefile, GeoPackage, GeoJSON, CSV or OpenStreetMap file into the\n"
    "project database, transformed into the project's metric CRS, geometries validated and\n"
    "repaired. Re-ingesting a layer replaces it; on any error the database is left as it was.\n\n"
    "  --db FILE            project database (created when missing)\n"
    "  --as NAME            layer name in the project (letters, digits, _)\n"
    "  --encoding ENC       attribute text encoding (GBK, GB18030, UTF-8, BIG5, CP1252, ...);\n"
    "                       default: the .cpg / DBF header, else detected (UTF-8 or GBK)\n"
    "  --src-crs CRS        source CRS when the file has none or to override it: EPSG:4326,\n"
    "                       gcj02 (Amap/Gaode, Tencent), bd09 (Baidu), WKT or PROJ string\n"
    "  --x FIELD --y FIELD  coordinate columns of a table (CSV)\n"
    "  --source-layer NAME  layer inside the file (OSM: points, lines, multipolygons, ...)\n"
    "  --where FILTER       OGR SQL filter on the source attributes, e.g. \"railway = 'station'\"\n"
    "  --crs EPSG:CODE      metric CRS of a new project (default: UTM zone of the data)\n"
    "  --quiet              no notices, progress or summary of what was stored (nothing is\n"
    "                       printed on success)\n";

int pm_cmd_ingest(pm_cli *cli, int argc, char **argv) {
  static const struct option longopts[] = {
      {"db", required_argument, NULL, 'd'},       {"as", required_argument, NULL, 'a'},
      {"encoding", required_argument, NULL, 'e'}, {"src-crs", required_argument, NULL, 's'},
      {"x", required_argument, NULL, 'x'},        {"y", required_argument, NULL, 'y'},
      {"source-layer", required_argument, NULL, 'l'}, {"where", required_argument, NULL, 'w'},
      {"crs", required_argument, NULL, 'c'},      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  pm_ingest_options opt = {0};
  const char *db = NULL;
  int c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'a': opt.as = optarg; break;
    case 'e': opt.encoding = optarg; break;
    case 's': opt.src_crs = optarg; break;
    case 'x': opt.x_field = optarg; break;
    case 'y': opt.y_field = optarg; break;
    case 'l': opt.source_layer = optarg; break;
    case 'w': opt.where = optarg; break;
    case 'c': opt.crs = optarg; break;
    case 'h': fputs(INGEST_HELP, stdout); return PM_EXIT_OK;
    case ':': return pm_cli_usage("ingest", "option %s needs a value", argv[optind - 1]);
    default: return pm_cli_usage("ingest", "unknown option %s", argv[optind - 1]);
    }
  }
  if (optind != argc - 1)
    return pm_cli_usage("ingest", optind >= argc ? "give the file to ingest"
                                                 : "give exactly one file to ingest");
  opt.path = argv[optind];
  if (!db) return pm_cli_usage("ingest", "give the project database with --db PROJECT.sqlite");
  if (!opt.as) return pm_cli_usage("ingest", "name the layer with --as NAME (e.g. --as bus_stops)");

  /* A new project is put in place only when the ingest succeeded (nothing is left behind when
   * it fails); when another process created it meanwhile, ingest again into theirs. */
  pm_ingest_report rep;
  pm_status st = PM_OK;
  int srid = 0;
  for (int attempt = 0; attempt < 2; attempt++) {
    pm_store *store = NULL;
    if (pm_store_open(cli->ctx, db, PM_STORE_CREATE, &store, NULL)) return pm_cli_fail(cli);
    st = pm_ingest(cli->ctx, store, &opt, &rep);
    pm_store_crs(store, &srid, NULL);
    pm_store_close(store);
    if (st != PM_EEXIST) break;
    pm_ingest_report_clear(&rep);
    pm_notice(cli->ctx, "%s was created by another planmetrics process meanwhile; ingesting into it",
              db);
  }
  if (st) {
    pm_ingest_report_clear(&rep);
    return pm_cli_fail(cli);
  }
  if (!cli->quiet) {
    printf("%s: %lld features stored as layer '%s' (EPSG:%d", opt.path, (long long)rep.n_stored,
           opt.as, srid);
    printf(", from %s", rep.source_crs ? rep.source_crs : "?");
    if (rep.encoding) printf(", text %s%s", rep.encoding, rep.encoding_detected ? " (detected)" : "");
    printf(")\n");
    if (rep.n_read != rep.n_stored)
      printf("  read %lld, stored %lld\n", (long long)rep.n_read, (long long)rep.n_stored);
    if (rep.n_repaired)
      printf("  repaired %lld invalid geometries (source FIDs %s)\n", (long long)rep.n_repaired,
             rep.repaired_ids);
    if (rep.n_dropped)
      printf("  dropped %lld features: %s%s\n", (long long)rep.n_dropped, rep.dropped_reasons,
             rep.n_dropped > 20 ? "; ..." : "");
  }
  pm_ingest_report_clear(&rep);
  return PM_EXIT_OK;
}

static const char INFO_HELP[] =
    "usage: planmetrics info --db PROJECT.sqlite [--json]\n\n"
    "List the project's layers: kind, geometry type, feature count, extent, CRS and provenance.\n";

static void json_str(FILE *out, const char *s) {
  if (!s) {
    fputs("null", out);
    return;
  }
  fputc('"', out);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
    else if (*p < 0x20) fprintf(out, "\\u%04x", *p);
    else fputc(*p, out);
  }
  fputc('"', out);
}

static void json_num(FILE *out, double v) {
  if (isnan(v)) fputs("null", out);
  else fprintf(out, "%.3f", v);
}

int pm_cmd_info(pm_cli *cli, int argc, char **argv) {
  static const struct option longopts[] = {{"db", required_argument, NULL, 'd'},
                                           {"json", no_argument, NULL, 'j'},
                                           {"help", no_argument, NULL, 'h'},
                                           {NULL, 0, NULL, 0}};
  const char *db = NULL;
  int json = 0, c;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
    switch (c) {
    case 'd': db = optarg; break;
    case 'j': json = 1; break;
    case 'h': fputs(INFO_HELP, stdout); return PM_EXIT_OK;
    case ':': return pm_cli_usage("info", "option %s needs a value", argv[optind - 1]);
    default: return pm_cli_usage("info", "unknown option %s", argv[optind - 1]);
    }
  }
  if (!db) return pm_cli_usage("info", "give the project database with --db PROJECT.sqlite");
  if (optind != argc) return pm_cli_usage("info", "unexpected argument %s", argv[optind]);
  pm_store *store = NULL;
  if (pm_store_open(cli->ctx, db, PM_STORE_READONLY, &store, NULL)) return pm_cli_fail(cli);
  pm_layer_info *layers = NULL;
  size_t n = 0;
  const char *crs = NULL;
  pm_store_crs(store, NULL, &crs);
  if (pm_store_list_layers(store, &layers, &n)) {
    pm_store_close(store);
    return pm_cli_fail(cli);
  }
  if (json) {
    printf("{\"db\": ");
    json_str(stdout, db);
    printf(", \"crs\": ");
    json_str(stdout, *crs ? crs : NULL);
    printf(", \"layers\": [");
    for (size_t i = 0; i < n; i++) {
      pm_layer_info *l = &layers[i];
      printf("%s\n {\"name\": ", i ? "," : "");
      json_str(stdout, l->name);
      printf(", \"kind\": \"%s\", \"geometry_type\": ", pm_geom_kind_name(l->kind));
      json_str(stdout, l->geometry_type);
      printf(", \"count\": %lld, \"read\": %lld, \"repaired\": %lld, \"dropped\": %lld, \"extent\": [",
             (long long)l->n_stored, (long long)l->n_read, (long long)l->n_repaired,
             (long long)l->n_dropped);
      json_num(stdout, l->minx);
      printf(", ");
      json_num(stdout, l->miny);
      printf(", ");
      json_num(stdout, l->maxx);
      printf(", ");
      json_num(stdout, l->maxy);
      printf("], \"source\": ");
      json_str(stdout, l->source_path);
      printf(", \"source_layer\": ");
      json_str(stdout, l->source_layer);
      printf(", \"source_crs\": ");
      json_str(stdout, l->source_crs);
      printf(", \"encoding\": ");
      json_str(stdout, l->encoding);
      printf(", \"filter\": ");
      json_str(stdout, l->filter);
      printf(", \"sha256\": ");
      json_str(stdout, l->source_hash);
      printf(", \"ingested_at\": ");
      json_str(stdout, l->ingested_at);
      printf("}");
    }
    printf("]}\n");
  } else {
    printf("project %s  CRS %s  %zu layer%s\n", db, *crs ? crs : "(not fixed yet)", n,
           n == 1 ? "" : "s");
    if (n)
      printf("%-22s %-8s %-16s %9s  %-45s %s\n", "layer", "kind", "geometry", "count",
             "extent (minx miny maxx maxy, m)", "source");
    for (size_t i = 0; i < n; i++) {
      pm_layer_info *l = &layers[i];
      char ext[64];
      if (isnan(l->minx))
        snprintf(ext, sizeof ext, "(empty)");
      else
        snprintf(ext, sizeof ext, "%.0f %.0f %.0f %.0f", l->minx, l->miny, l->maxx, l->maxy);
      printf("%-22s %-8s %-16s %9lld  %-45s %s [%s%s%s%s%s]\n", l->name, pm_geom_kind_name(l->kind),
             l->geometry_type, (long long)l->n_stored, ext, l->source_path ? l->source_path : "",
             l->source_crs ? l->source_crs : "", l->encoding ? ", " : "",
             l->encoding ? l->encoding : "", l->filter ? ", where " : "", l->filter ? l->filter : "");
      if (l->n_repaired || l->n_dropped)
        printf("%-22s repaired %lld, dropped %lld\n", "", (long long)l->n_repaired,
               (long long)l->n_dropped);
    }
  }
  pm_layer_info_destroy_all(layers, n);
  pm_store_close(store);
  return PM_EXIT_OK;
}
