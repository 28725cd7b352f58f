#!/usr/bin/env bash
# e2e_ingest.sh: `planmetrics ingest` and `info` on every layer of the real sample data (Shapefile,
# CSV, OSM XML and PBF, GeoPackage and GeoJSON made here), repair and drop of bad geometries, and
# every bad input: exit code 2, one message naming the file and the field, the database untouched.
set -euo pipefail
: "${PM:?PM (the planmetrics CLI) must be set}"
: "${PM_SOURCE_DIR:?PM_SOURCE_DIR must be set}"
SH=$PM_SOURCE_DIR/data/shanghai            # data/: the sample data the demo and plans use
PBF_PORTO=$PM_SOURCE_DIR/data/porto/porto.osm.pbf
OSM=$PM_SOURCE_DIR/tests/data/osm           # tests/data/: test-only extracts
W=$(mktemp -d /tmp/pm-e2e-ingest.XXXXXX)
trap 'rm -rf "$W"' EXIT
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok; else bad "$what"; fi
}
# run COMMAND...: sets RC, OUT and ERR without stopping the script on a failure
run() {
  RC=0
  "$@" >"$W/out" 2>"$W/err" || RC=$?
  OUT=$(cat "$W/out")
  ERR=$(cat "$W/err")
}
expect_rc() { # expect_rc CODE DESCRIPTION (after run)
  if [ "$RC" -eq "$1" ]; then ok; else bad "$2: exit $RC, wanted $1; stderr: $ERR"; fi
}
has() { # has DESCRIPTION HAYSTACK NEEDLE
  case "$2" in *"$3"*) ok ;; *) bad "$1: '$3' not in: $2" ;; esac
}
equals() { # equals DESCRIPTION GOT WANT
  if [ "$2" = "$3" ]; then ok; else bad "$1: got '$2', wanted '$3'"; fi
}
sql() { sqlite3 -batch "$1" "$2"; }
ogr_count() { ogrinfo -ro -so "$1" "$2" 2>/dev/null | sed -n 's/^Feature Count: //p'; }
ogr_epsg() { # the CRS's own EPSG id: the last top-level ID[...] of the layer's WKT
  ogrinfo -ro -so "$1" "$2" 2>/dev/null | grep -E '^    ID\["EPSG",[0-9]+\]\]$' | tail -1 |
    sed -E 's/.*"EPSG",([0-9]+).*/EPSG:\1/'
}
# ingest_ok DESCRIPTION DB LAYER WANT_COUNT ARGS...: ingest succeeds and the layer holds WANT_COUNT
ingest_ok() {
  local what=$1 db=$2 layer=$3 want=$4
  shift 4
  run "$PM" ingest "$@" --db "$db" --as "$layer"
  expect_rc 0 "$what"
  equals "$what: stored count" "$(sql "$db" "SELECT count(*) FROM \"$layer\"" 2>&1)" "$want"
}
sha() { if [ -e "$1" ]; then sha256sum <"$1"; else echo absent; fi; }
# expect_error DESCRIPTION DB 'NEEDLE|NEEDLE...' ARGS...: `planmetrics ingest ARGS --db DB` exits 2
# with one error message containing every needle, and DB is byte for byte as it was (a DB that did
# not exist still does not).
expect_error() {
  local what=$1 db=$2 needles=$3
  shift 3
  local before
  before=$(sha "$db")
  run "$PM" ingest "$@" --db "$db"
  expect_rc 2 "$what"
  equals "$what: database unchanged" "$(sha "$db")" "$before"
  check "$what: no journal left" test ! -e "$db-journal"
  equals "$what: one error message" "$(grep -c 'error:' "$W/err" || true)" "1"
  local n
  IFS='|' read -ra ns <<<"$needles"
  for n in "${ns[@]}"; do has "$what: message" "$ERR" "$n"; done
}

# ---------------------------------------------------------------- Shanghai: Shapefile, CSV, OSM XML
DB=$W/shanghai.sqlite
ingest_ok "districts.shp" "$DB" districts 17 "$SH/districts.shp"
has "districts: CRS and encoding reported" "$OUT" "EPSG:32651"
has "districts: CP936 from the .dbf header" "$OUT" "CP936"
equals "districts: names decoded" \
  "$(sql "$DB" "SELECT count(*) FROM districts WHERE NAME IN ('青浦区','松江区','长宁区')")" 3
equals "project CRS fixed in pm_project" "$(sql "$DB" "SELECT value FROM pm_project WHERE key='srid'")" 32651
ingest_ok "metro_stations.csv" "$DB" metro_stations 449 "$SH/metro_stations.csv" --x lon --y lat \
  --src-crs EPSG:4326
ingest_ok "bus_stops.csv" "$DB" bus_stops 10186 "$SH/bus_stops.csv" --x lon --y lat --src-crs EPSG:4326
ingest_ok "peoples_square_roads.osm lines" "$DB" roads 796 "$SH/peoples_square_roads.osm" \
  --source-layer lines
# the attributes come with their names
equals "CSV attributes kept" "$(sql "$DB" "SELECT count(*) FROM metro_stations WHERE name = '人民广场(地铁站)' AND address = '1号线;2号线;8号线' AND adname = '黄浦区'")" 1
equals "OSM tags as columns" "$(sql "$DB" "SELECT count(*) FROM roads WHERE highway IS NULL")" 0

# Re-ingest replaces the layer: same count, not doubled.
ingest_ok "metro re-ingested" "$DB" metro_stations 449 "$SH/metro_stations.csv" --x lon --y lat \
  --src-crs EPSG:4326
equals "one metadata row per layer" "$(sql "$DB" "SELECT count(*) FROM layers")" 4

# An ordinary SpatiaLite source: registered geometry columns with spatial index, read by OGR.
equals "geometry_columns: 4 layers, EPSG:32651, indexed" \
  "$(sql "$DB" "SELECT count(*) FROM geometry_columns WHERE f_table_name IN ('districts','metro_stations','bus_stops','roads') AND srid = 32651 AND spatial_index_enabled = 1")" 4
equals "spatial index filled" "$(sql "$DB" "SELECT count(*) FROM idx_bus_stops_geom")" 10186
equals "ogrinfo: districts count" "$(ogr_count "$DB" districts)" 17
equals "ogrinfo: districts CRS" "$(ogr_epsg "$DB" districts)" EPSG:32651
equals "ogrinfo: bus_stops count" "$(ogr_count "$DB" bus_stops)" 10186
equals "ogrinfo: bus_stops CRS" "$(ogr_epsg "$DB" bus_stops)" EPSG:32651
check "ogrinfo: district names through OGR" \
  grep -q '青浦区' <(ogrinfo -ro -q "$DB" -sql "SELECT NAME FROM districts" 2>/dev/null)

# info lists kind, geometry type, count, extent and CRS.
run "$PM" info --db "$DB"
expect_rc 0 "info"
has "info: CRS" "$OUT" "CRS EPSG:32651"
check "info: districts row" grep -Eq '^districts +polygon +MULTIPOLYGON +17 ' "$W/out"
check "info: bus_stops row" grep -Eq '^bus_stops +point +POINT +10186 ' "$W/out"
check "info: roads row" grep -Eq '^roads +line +MULTILINESTRING +796 ' "$W/out"
run "$PM" info --db "$DB" --json
expect_rc 0 "info --json"
check "info --json: kinds, counts, extents in UTM 51N metres" python3 - "$W/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["crs"] == "EPSG:32651", j["crs"]
l = {x["name"]: x for x in j["layers"]}
want = {"districts": ("polygon", "MULTIPOLYGON", 17), "metro_stations": ("point", "POINT", 449),
        "bus_stops": ("point", "POINT", 10186), "roads": ("line", "MULTILINESTRING", 796)}
for name, (kind, gt, n) in want.items():
    x = l[name]
    assert (x["kind"], x["geometry_type"], x["count"]) == (kind, gt, n), x
    minx, miny, maxx, maxy = x["extent"]
    assert 200000 < minx < maxx < 500000 and 3300000 < miny < maxy < 3600000, x["extent"]
assert l["districts"]["encoding"] == "CP936" and l["metro_stations"]["source_crs"] == "EPSG:4326"
PY

# The detection path: the same .dbf with its code-page byte (29) zeroed and no .cpg.
for e in shp shx dbf prj; do cp "$SH/districts.$e" "$W/nocp.$e"; done
chmod u+w "$W"/nocp.*
printf '\000' | dd of="$W/nocp.dbf" bs=1 seek=29 conv=notrunc 2>/dev/null
equals "copy has no language driver" "$(od -An -tx1 -j29 -N1 "$W/nocp.dbf" | tr -d ' ')" 00
ingest_ok "GBK detected without .cpg" "$DB" districts_nocp 17 "$W/nocp.shp"
has "detection is said (notice)" "$ERR" "GBK/GB18030"
has "detection is said (summary)" "$OUT" "GB18030 (detected)"
equals "detected: names decoded" \
  "$(sql "$DB" "SELECT count(*) FROM districts_nocp WHERE NAME IN ('青浦区','松江区','长宁区')")" 3
ingest_ok "--encoding GBK" "$DB" districts_gbk 17 "$W/nocp.shp" --encoding GBK
equals "--encoding GBK: names" \
  "$(sql "$DB" "SELECT count(*) FROM districts_gbk WHERE NAME IN ('青浦区','松江区','长宁区')")" 3
printf 'CP936' >"$W/nocp.cpg"
ingest_ok ".cpg honoured" "$DB" districts_cpg 17 "$W/nocp.shp"
equals ".cpg: names" "$(sql "$DB" "SELECT count(*) FROM districts_cpg WHERE NAME = '长宁区'")" 1
rm "$W/nocp.cpg"

# GeoPackage and GeoJSON made from the sample data.
ogr2ogr -f GPKG "$W/districts.gpkg" "$SH/districts.shp" -nlt PROMOTE_TO_MULTI 2>/dev/null
ogr2ogr -f GeoJSON "$W/districts.geojson" "$SH/districts.shp" 2>/dev/null
ogr2ogr -f GPKG "$W/metro.gpkg" "$SH/metro_stations.csv" -oo X_POSSIBLE_NAMES=lon \
  -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 -nln metro 2>/dev/null
ingest_ok "GeoPackage polygons" "$DB" districts_gpkg 17 "$W/districts.gpkg"
has "GeoPackage: CRS read" "$OUT" "from EPSG:4326"
ingest_ok "GeoJSON polygons" "$DB" districts_geojson 17 "$W/districts.geojson"
equals "GeoJSON: names" "$(sql "$DB" "SELECT count(*) FROM districts_geojson WHERE NAME IN ('青浦区','松江区','长宁区')")" 3
ingest_ok "GeoPackage points" "$DB" metro_gpkg 449 "$W/metro.gpkg"
ingest_ok "GeoPackage filter" "$DB" metro_line1 "$(sql "$DB" "SELECT count(*) FROM metro_stations WHERE address LIKE '%1号线%'")" \
  "$W/metro.gpkg" --where "address LIKE '%1号线%'"
equals "GeoPackage and CSV points agree" \
  "$(sqlite3 -batch -cmd '.load mod_spatialite' "$DB" "SELECT count(*) FROM metro_gpkg g JOIN metro_stations c ON c.fid = g.fid WHERE ST_Distance(g.geom, c.geom) < 0.001")" 449

# Bad geometries: a bow-tie is repaired, an empty polygon and a null geometry are dropped.
cat >"$W/shapes.geojson" <<'EOF'
{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"square"},"geometry":{"type":"Polygon","coordinates":[[[121.40,31.20],[121.41,31.20],[121.41,31.21],[121.40,31.21],[121.40,31.20]]]}},
{"type":"Feature","properties":{"name":"bowtie"},"geometry":{"type":"Polygon","coordinates":[[[121.42,31.20],[121.43,31.21],[121.43,31.20],[121.42,31.21],[121.42,31.20]]]}},
{"type":"Feature","properties":{"name":"empty"},"geometry":{"type":"Polygon","coordinates":[[]]}},
{"type":"Feature","properties":{"name":"none"},"geometry":null}
]}
EOF
ingest_ok "bow-tie and empty geometries" "$DB" shapes 2 "$W/shapes.geojson"
has "repaired count and id reported" "$OUT" "repaired 1 invalid geometries (source FIDs 1)"
has "dropped count reported" "$OUT" "dropped 2 features"
has "empty geometry named" "$OUT" "feature FID 2: empty geometry"
has "missing geometry named" "$OUT" "feature FID 3: no geometry"
equals "repair recorded" "$(sql "$DB" "SELECT n_read || ' ' || n_stored || ' ' || n_repaired || ' ' || n_dropped || ' ' || repaired_ids || ' ' || dropped_ids FROM layers WHERE name = 'shapes'")" "4 2 1 2 1 2,3"

# ---------------------------------------------------------------- Porto: every OSM layer kind
PO=$W/porto.sqlite
PBF=$PBF_PORTO
ingest_ok "Porto bus stops" "$PO" bus_stops 204 "$PBF" --source-layer points --where "highway = 'bus_stop'"
equals "Porto: project CRS" "$(sql "$PO" "SELECT value FROM pm_project WHERE key='srid'")" 32629
ingest_ok "Porto metro stations" "$PO" stations 12 "$PBF" --source-layer points --where "station = 'light_rail'"
ingest_ok "Porto subway entrances" "$PO" entrances 21 "$PBF" --source-layer points --where "railway = 'subway_entrance'"
ingest_ok "Porto public_transport" "$PO" platforms 203 "$PBF" --source-layer points --where "public_transport = 'platform' AND highway = 'bus_stop'"
ingest_ok "Porto roads" "$PO" roads 3460 "$PBF" --source-layer lines --where "highway IS NOT NULL"
ingest_ok "Porto rivers" "$PO" rivers 23 "$PBF" --source-layer lines --where "waterway IS NOT NULL"
ingest_ok "Porto parks" "$PO" parks 21 "$PBF" --source-layer multipolygons --where "leisure = 'park'"
ingest_ok "Porto station areas (OSM tags on multipolygons)" "$PO" station_areas \
  "$(ogrinfo -ro -q "$PBF" multipolygons -where "other_tags LIKE '%\"railway\"=>\"station\"%' OR other_tags LIKE '%\"public_transport\"=>\"station\"%'" 2>/dev/null | grep -c OGRFeature || true)" \
  "$PBF" --source-layer multipolygons --where "railway = 'station' OR public_transport = 'station'"
ingest_ok "Porto freguesias" "$PO" freguesias 4 "$PBF" --source-layer multipolygons \
  --where "boundary = 'administrative' AND admin_level = '9'"
run "$PM" ingest "$PBF" --db "$PO" --as landuse --source-layer multipolygons --where "landuse IS NOT NULL"
expect_rc 0 "Porto landuse"
check "Porto landuse: polygons" test "$(sql "$PO" "SELECT count(*) FROM landuse")" -gt 100
equals "ogrinfo: Porto parks CRS" "$(ogr_epsg "$PO" parks)" EPSG:32629
equals "ogrinfo: Porto parks count" "$(ogr_count "$PO" parks)" 21
run "$PM" info --db "$PO"
has "info: Porto CRS" "$OUT" "CRS EPSG:32629"
check "info: parks row" grep -Eq '^parks +polygon +MULTIPOLYGON +21 ' "$W/out"

# ---------------------------------------------------------------- Helsinki, Liechtenstein
HE=$W/helsinki.sqlite
run "$PM" ingest "$OSM/helsinki.osm.pbf" --db "$HE" --as parks --source-layer multipolygons --where "leisure = 'park'"
expect_rc 0 "Helsinki parks"
# 17 parks, one clipped by the extract to a 2-point ring: dropped, and said so
has "Helsinki: degenerate park dropped" "$OUT" "dropped 1 features"
equals "Helsinki parks: read, stored" "$(sql "$HE" "SELECT n_read || ' ' || n_stored FROM layers WHERE name = 'parks'")" "17 16"
equals "Helsinki: project CRS" "$(sql "$HE" "SELECT value FROM pm_project WHERE key='srid'")" 32635
ingest_ok "Helsinki bus stops" "$HE" bus_stops 92 "$OSM/helsinki.osm.pbf" --source-layer points --where "highway = 'bus_stop'"
LI=$W/liechtenstein.sqlite
ingest_ok "Liechtenstein rivers" "$LI" rivers 161 "$OSM/liechtenstein.osm.pbf" --source-layer lines \
  --where "waterway IN ('river', 'stream', 'canal')"
equals "Liechtenstein: project CRS" "$(sql "$LI" "SELECT value FROM pm_project WHERE key='srid'")" 32632

# ---------------------------------------------------------------- bad inputs
head -c 100000 "$SH/districts.shp" >"$W/trunc.shp"
for e in shx dbf prj; do cp "$SH/districts.$e" "$W/trunc.$e"; done
cp "$SH/districts.shp" "$W/nodbf.shp"
cp "$SH/districts.shx" "$W/nodbf.shx"
for e in shp shx dbf; do cp "$SH/districts.$e" "$W/noprj.$e"; done
printf 'name,lon,lat\na,121.47,31.23\nb,abc,31.24\n' >"$W/badcoord.csv"
chmod u+w "$W"/*

expect_error "missing file" "$DB" "nope.shp|no such file" "$W/nope.shp" --as x
expect_error "truncated .shp" "$DB" "trunc.shp|feature FID|truncated" "$W/trunc.shp" --as x
expect_error "missing .dbf" "$DB" "nodbf.dbf|missing" "$W/nodbf.shp" --as x
expect_error "unknown --x field" "$DB" "metro_stations.csv|'lng'|--x|name, address" \
  "$SH/metro_stations.csv" --as x --x lng --y lat --src-crs EPSG:4326
expect_error "unknown --y field" "$DB" "metro_stations.csv|'latitude'|--y" \
  "$SH/metro_stations.csv" --as x --x lon --y latitude --src-crs EPSG:4326
expect_error "unknown --where field (CSV)" "$DB" "metro_stations.csv|'kind'|--where" \
  "$SH/metro_stations.csv" --as x --x lon --y lat --src-crs EPSG:4326 --where "kind = '地铁站'"
expect_error "unknown --where field (OSM)" "$DB" "porto.osm.pbf|'bus_stop'|--where" \
  "$PBF" --as x --source-layer points --where 'highway = "bus_stop"'
expect_error "unknown --where field (GeoPackage)" "$DB" "districts.gpkg|'NAMEX'" \
  "$W/districts.gpkg" --as x --where "NAMEX = '青浦区'"
expect_error "unknown --src-crs code" "$DB" "metro_stations.csv|--src-crs|EPSG:999999" \
  "$SH/metro_stations.csv" --as x --x lon --y lat --src-crs EPSG:999999
expect_error "unknown --src-crs name" "$DB" "metro_stations.csv|'FOO'" \
  "$SH/metro_stations.csv" --as x --x lon --y lat --src-crs FOO
expect_error "unknown --crs" "$W/new1.sqlite" "metro_stations.csv|--crs|EPSG:999999" \
  "$SH/metro_stations.csv" --as x --x lon --y lat --src-crs EPSG:4326 --crs EPSG:999999
expect_error "geographic --crs" "$W/new2.sqlite" "EPSG:4326|not a projected CRS" \
  "$SH/metro_stations.csv" --as x --x lon --y lat --src-crs EPSG:4326 --crs EPSG:4326
expect_error "--crs cannot change a project" "$DB" "EPSG:32651|cannot change" \
  "$SH/metro_stations.csv" --as x --x lon --y lat --src-crs EPSG:4326 --crs EPSG:32650
expect_error "unknown --encoding" "$DB" "districts.shp|FOO|--encoding" \
  "$SH/districts.shp" --as x --encoding FOO
expect_error "--encoding UTF-8 on GBK text" "$DB" "nocp.shp|field NAME|not valid UTF-8|--encoding" \
  "$W/nocp.shp" --as districts --encoding UTF-8
expect_error "layer without CRS" "$DB" "noprj.shp|no CRS|--src-crs" "$W/noprj.shp" --as x
expect_error "CSV without --src-crs" "$DB" "bus_stops.csv|--src-crs" \
  "$SH/bus_stops.csv" --as x --x lon --y lat
expect_error "bad coordinates in CSV" "$DB" "badcoord.csv|row 2|lon|'abc'" \
  "$W/badcoord.csv" --as x --x lon --y lat --src-crs EPSG:4326
expect_error "CSV columns swapped" "$DB" "metro_stations.csv|row 1|--x lat|longitude" \
  "$SH/metro_stations.csv" --as x --x lat --y lon --src-crs EPSG:4326
expect_error "unknown --source-layer" "$DB" "porto.osm.pbf|'roads'|points, lines" \
  "$PBF" --as x --source-layer roads
expect_error "OSM without --source-layer" "$DB" "porto.osm.pbf|--source-layer|points, lines" \
  "$PBF" --as x --where "highway = 'bus_stop'"
expect_error "reserved layer name" "$DB" "'layers'|reserved" "$SH/districts.shp" --as layers
# a failure on a new project leaves no file behind, whatever step it failed in
expect_error "new project, missing file" "$W/new3.sqlite" "nope.csv" "$W/nope.csv" --as x
expect_error "new project, bad coordinates" "$W/new4.sqlite" "badcoord.csv|row 2" \
  "$W/badcoord.csv" --as x --x lon --y lat --src-crs EPSG:4326
expect_error "new project, bad text" "$W/new5.sqlite" "nocp.shp|not valid UTF-8" \
  "$W/nocp.shp" --as x --encoding UTF-8
# and the failed replacements above left the layers as they were
equals "failed re-ingest kept districts" "$(sql "$DB" "SELECT count(*) FROM districts")" 17
equals "failed re-ingest kept metadata" "$(sql "$DB" "SELECT count(*) FROM layers")" 12

echo "e2e_ingest: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
