#!/usr/bin/env bash
# e2e_limits.sh: hostile or absurd input is refused with exit 2 and a message, quickly, leaving
# the project as it was: filters that are not one condition, SQL past the --timeout, deeply
# nested or huge plans, numbers out of range, coordinates off the globe or not decimal.
. "$(dirname "$0")/lib.sh"
SH=$DATA/shanghai
DB=$WORK/p.sqlite
"$PM" ingest "$SH/districts.shp" --db "$DB" --as districts --quiet
"$PM" ingest "$SH/bus_stops.csv" --db "$DB" --as bus_stops --x lon --y lat --src-crs EPSG:4326 --quiet
"$PM" ingest "$SH/metro_stations.csv" --db "$DB" --as metro --x lon --y lat --src-crs EPSG:4326 --quiet
sum() { sha256sum "$1" | cut -d' ' -f1; }
before=$(sum "$DB")
plan() { # plan NAME INDICATOR-LINES: a plan on the project's layers
  cat >"$WORK/$1.yaml" <<YAML
plan: limits
districts: {layer: districts, name_field: NAME, only: [黄浦区]}
layers:
  districts: {path: $SH/districts.shp}
  bus_stops: {path: $SH/bus_stops.csv, x: lon, y: lat, src_crs: EPSG:4326}
  metro:     {path: $SH/metro_stations.csv, x: lon, y: lat, src_crs: EPSG:4326}
indicators:
$2
YAML
}
# timed COMMAND...: like expect_exit 2, and the time it took in $SECS
refused() {
  local what=$1 start end
  shift
  start=$(date +%s)
  expect_exit 2 "$what" "$@"
  end=$(date +%s)
  SECS=$((end - start))
}

# 1. Filters are one condition: an injected UNION does not count districts as bus stops.
plan inject '  - id: stops
    metric: count
    layer: {layer: bus_stops, where: "0) UNION ALL SELECT fid, AsBinary(geom), NULL FROM districts --"}'
refused "a UNION pasted into a filter" "$PM" run "$WORK/inject.yaml" --db "$DB"
contains "the filter is refused with its line" "$ERR" "inject.yaml:10:"
contains "and why" "$ERR" "not one condition"
for f in "highway = 1; DROP TABLE layers" "fid > 0 -- comment" "fid IN (SELECT fid FROM districts)"; do
  refused "query --where '$f'" "$PM" query within --db "$DB" --layer bus_stops --district 黄浦区 --where "$f"
  contains "query filter refused: $f" "$ERR" "not one condition"
  refused "ingest --where '$f'" "$PM" ingest "$SH/districts.shp" --db "$DB" --as d2 --where "$f"
  contains "ingest filter refused: $f" "$ERR" "not one condition"
done
plan writes '  - id: stops
    metric: count
    layer: {layer: bus_stops, where: "DropTable(NULL, '"'"'districts'"'"') = 1"}'
refused "a filter calling a SpatiaLite function that writes" "$PM" run "$WORK/writes.yaml" --db "$DB"
contains "it only reads" "$ERR" "tried to change the project database"
check "districts still there" test "$(sqlite3 "$DB" 'SELECT count(*) FROM districts')" = 17

# 2. Time limits: a slow filter, a recursive WITH in sql, each stopped at --timeout.
plan slow '  - id: stops
    metric: count
    layer: {layer: bus_stops, where: "length(randomblob(100000000)) > 0"}'
refused "a slow filter" "$PM" run "$WORK/slow.yaml" --db "$DB" --timeout 2
contains "names the filter" "$ERR" "the filter \`length(randomblob(100000000)) > 0\`"
contains "names the limit" "$ERR" "longer than 2 s, the --timeout limit"
check "stopped near the limit ($SECS s)" test "$SECS" -le 20
refused "an endless recursive WITH" "$PM" sql --db "$DB" --timeout 2 \
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
contains "sql names the limit" "$ERR" "--timeout limit"
check "stopped near the limit ($SECS s)" test "$SECS" -le 10
refused "an endless recursive WITH, counted" "$PM" sql --db "$DB" --timeout 2 \
  "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
check "stopped near the limit ($SECS s)" test "$SECS" -le 10
refused "a huge blob" "$PM" sql --db "$DB" "SELECT length(randomblob(1000000000))"
contains "the value limit is named" "$ERR" "limit"
refused "--timeout needs seconds" "$PM" run "$WORK/slow.yaml" --db "$DB" --timeout soon
check "database unchanged by refused commands" test "$(sum "$DB")" = "$before"

# 3. Plans are bounded: 100,000 '[' and a 2 MB plan are refused at once.
{ printf 'plan: deep\nlayers: '; head -c 100000 /dev/zero | tr '\0' '['; } >"$WORK/deep.yaml"
refused "deeply nested YAML" "$PM" run "$WORK/deep.yaml" --db "$DB"
contains "depth explained" "$ERR" "nested more than 32 levels"
check "refused quickly ($SECS s)" test "$SECS" -le 5
{ printf 'plan: big\ntitle: '; head -c 2000000 /dev/zero | tr '\0' 'x'; echo; } >"$WORK/big.yaml"
refused "a 2 MB plan" "$PM" run "$WORK/big.yaml" --db "$DB"
contains "size explained" "$ERR" "larger than 1024 KB"

# 4. Numbers are range-checked with their line.
for r in 1e200 1e15 -1 .nan; do
  plan radius "  - id: parks
    metric: coverage
    sources: metro
    classes:
      - {min_area_m2: 0, radius_m: $r}"
  refused "coverage class radius_m: $r" "$PM" run "$WORK/radius.yaml" --db "$DB"
  contains "radius_m: $r refused with its line" "$ERR" "radius.yaml:12:"
  plan radius2 "  - id: cov
    metric: coverage
    sources: metro
    radius_m: $r"
  refused "coverage radius_m: $r" "$PM" run "$WORK/radius2.yaml" --db "$DB"
  contains "radius_m: $r refused with its line" "$ERR" "radius2.yaml:11:"
done
plan target '  - id: t
    metric: transfer_coverage
    from: metro
    to: bus_stops
    target: {op: ">=", value: 180, unit: "%"}'
refused "a share target of 180 %" "$PM" run "$WORK/target.yaml" --db "$DB"
contains "share range explained" "$ERR" "between 0 and 100"
check "database unchanged by refused plans" test "$(sum "$DB")" = "$before"

# 5. CSV coordinates: on the globe, decimal only.
csv() { { echo name,lon,lat; printf '%s\n' "$@"; } >"$WORK/pts.csv"; }
pts() { "$PM" ingest "$WORK/pts.csv" --db "$DB" --as pts --x lon --y lat --src-crs "${1:-EPSG:4326}"; }
csv "a,121.47,31.23" "b,540,31.23"
refused "a longitude of 540" pts
contains "the row is named" "$ERR" "row 2"
contains "the globe is explained" "$ERR" "[-180, 180] x [-90, 90]"
csv "a,121.47,91"
refused "a latitude of 91 (gcj02)" pts gcj02
for v in 0x79 inf nan 1e999 " 12 1"; do
  csv "a,$v,31.23"
  refused "a longitude written $v" pts
  contains "$v: decimal numbers only" "$ERR" "not a decimal number"
done
csv "a, 121.47 ,31.23"
expect_exit 0 "blanks around a decimal number are fine" pts
check "database changed only by the good ingest" test "$(sqlite3 "$DB" 'SELECT count(*) FROM pts')" = 1
finish
