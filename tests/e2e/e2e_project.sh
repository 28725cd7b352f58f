#!/usr/bin/env bash
# e2e_project.sh: the project database keeps what was committed: layer names that differ only in
# case are one layer (never silently replaced); a failed first use leaves no file; a crash's hot
# journal is rolled back by read-only commands, which show the last committed state; another
# program's SpatiaLite file changes only when a command succeeds.
. "$(dirname "$0")/lib.sh"
SH=$DATA/shanghai
DB=$WORK/city.sqlite
ingest() { "$PM" ingest "$@" --quiet; }
stops() { ingest "$SH/bus_stops.csv" --db "$1" --as "${2:-bus_stops}" --x lon --y lat --src-crs EPSG:4326; }
metro() { ingest "$SH/metro_stations.csv" --db "$1" --as "${2:-metro_stations}" --x lon --y lat --src-crs EPSG:4326; }

# 1. Layer names are case-insensitive: another spelling is refused, naming the existing layer.
check "bus stops ingested" stops "$DB"
check "metro stations ingested" metro "$DB"
check "districts ingested" ingest "$SH/districts.shp" --db "$DB" --as districts
sum() { sha256sum "$1" | cut -d' ' -f1; }
before=$(sum "$DB")
expect_exit 2 "metro stations --as Bus_Stops" metro "$DB" Bus_Stops
contains "names the existing layer" "$ERR" "'bus_stops'"
contains "says how to replace it" "$ERR" "--as bus_stops"
check "database unchanged" test "$(sum "$DB")" = "$before"
check "table and metadata agree" test "$(sqlite3 "$DB" "SELECT (SELECT count(*) FROM bus_stops) || ' ' || \
  group_concat(name || ':' || n_stored) FROM layers WHERE name LIKE 'bus_stops'")" = "10186 bus_stops:10186"
expect_exit 0 "any spelling reads the layer" "$PM" query near --db "$DB" --from METRO_STATIONS \
  --to Bus_Stops --within 50 --csv
contains "the query answers" "$ERR" "of 449"
cat >"$WORK/case.yaml" <<YAML
plan: case
layers:
  bus_stops: {path: $SH/bus_stops.csv, x: lon, y: lat, src_crs: EPSG:4326}
  Bus_Stops: {path: $SH/metro_stations.csv, x: lon, y: lat, src_crs: EPSG:4326}
indicators:
  - {id: n, metric: count, layer: bus_stops}
YAML
expect_exit 2 "a plan declaring both spellings" "$PM" run "$WORK/case.yaml" --db "$DB"
contains "both lines named" "$ERR" "case.yaml:4: layers 'bus_stops' (line 3) and 'Bus_Stops' (line 4)"
cat >"$WORK/case2.yaml" <<YAML
plan: case2
layers:
  Bus_Stops: {path: $SH/metro_stations.csv, x: lon, y: lat, src_crs: EPSG:4326}
indicators:
  - {id: n, metric: count, layer: Bus_Stops}
YAML
expect_exit 2 "a plan whose layer is the project's in another case" "$PM" run "$WORK/case2.yaml" --db "$DB"
contains "the project's spelling named" "$ERR" "'bus_stops'"
check "database unchanged by refused runs" test "$(sum "$DB")" = "$before"

# 2. A failed first use leaves nothing at all (the project is built beside its name).
expect_exit 2 "a failing first ingest" "$PM" ingest "$SH/districts.shp" --db "$WORK/new.sqlite" \
  --as districts --where "NO_SUCH_FIELD = 1"
check "no project file" test ! -e "$WORK/new.sqlite"
check "no temporary file" test -z "$(find "$WORK" -name 'new.sqlite*')"

# 3. A crash leaves a hot journal: read-only commands roll it back and show the committed state.
cat >"$WORK/plan.yaml" <<YAML
plan: hot
districts: {layer: districts, name_field: NAME, only: [黄浦区]}
layers:
  districts: {path: $SH/districts.shp}
  metro_stations: {path: $SH/metro_stations.csv, x: lon, y: lat, src_crs: EPSG:4326}
  bus_stops: {path: $SH/bus_stops.csv, x: lon, y: lat, src_crs: EPSG:4326}
indicators:
  - {id: t, metric: transfer_coverage, from: metro_stations, to: bus_stops, threshold_m: 50}
YAML
expect_exit 0 "a run to record" "$PM" run "$WORK/plan.yaml" --db "$DB" --quiet
info_before=$("$PM" info --db "$DB" --json)
history_before=$("$PM" history --db "$DB" --json)
crash() { # a writer killed in the middle of a transaction, its changed pages already in the file
  (python3 - "$DB" <<'PY'
import os, signal, sqlite3, sys
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("PRAGMA cache_size = 1")  # changed pages reach the file before any commit
c.execute("BEGIN")
c.execute("DELETE FROM pm_results")
c.execute("UPDATE layers SET n_stored = 0")
c.execute("CREATE TABLE junk(x)")
c.execute("INSERT INTO junk SELECT randomblob(2000) FROM bus_stops")
os.kill(os.getpid(), signal.SIGKILL)
PY
    true) 2>/dev/null
}
crash
check "a hot journal is left" test -s "$DB-journal"
expect_exit 0 "info after a crash" "$PM" info --db "$DB" --json
check "info shows the committed state" test "$OUT" = "$info_before"
check "the journal was rolled back" test ! -e "$DB-journal"
expect_exit 0 "integrity after recovery" sqlite3 "$DB" "PRAGMA integrity_check"
check "integrity ok" test "$OUT" = ok
# again, for each read-only command
crash
expect_exit 0 "history after a crash" "$PM" history --db "$DB" --json
check "history shows the committed runs" test "$OUT" = "$history_before"
crash
expect_exit 0 "sql after a crash" "$PM" sql --db "$DB" --csv "SELECT count(*) FROM pm_results"
check "sql sees the committed results" test "$(echo "$OUT" | tail -1 | tr -d '\r')" -gt 0
crash
expect_exit 0 "report after a crash" "$PM" report --db "$DB" --json "$WORK/r.json" --html "$WORK/r.html"
check "the report has the run" python3 -c \
  'import json,sys; assert json.load(open(sys.argv[1]))["indicators"][0]["results"]' "$WORK/r.json"
crash
expect_exit 0 "export after a crash" "$PM" export --db "$DB" --gpkg "$WORK/r.gpkg" --quiet
crash
expect_exit 0 "query after a crash" "$PM" query within --db "$DB" --layer bus_stops --district 黄浦区 --csv
crash
expect_exit 0 "run after a crash" "$PM" run "$WORK/plan.yaml" --db "$DB" --quiet
case "$ERR" in *"not a planmetrics project"*) bad "a valid project called invalid: $ERR" ;; *) ok ;; esac
check "no junk table survived" test "$(sqlite3 "$DB" "SELECT count(*) FROM sqlite_master WHERE name = 'junk'")" = 0

# 4. Another program's SpatiaLite file: a failing command changes nothing, a succeeding one adds
# the project's tables; a file another program marked with its own schema version is refused.
if ogr2ogr -f SQLite -dsco SPATIALITE=YES "$WORK/foreign.sqlite" "$SH/metro_stations.csv" \
     -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 -nln metro 2>/dev/null; then
  cp "$WORK/foreign.sqlite" "$WORK/foreign.orig"
  expect_exit 2 "a failing ingest into a foreign file" "$PM" ingest "$SH/districts.shp" \
    --db "$WORK/foreign.sqlite" --as districts --where "NO_SUCH_FIELD = 1"
  check "the foreign file is byte for byte as it was" cmp -s "$WORK/foreign.sqlite" "$WORK/foreign.orig"
  expect_exit 2 "a layer named like the foreign table" "$PM" ingest "$SH/districts.shp" \
    --db "$WORK/foreign.sqlite" --as Metro
  contains "the foreign table is not replaced" "$ERR" "not a planmetrics layer"
  check "still as it was" cmp -s "$WORK/foreign.sqlite" "$WORK/foreign.orig"
  expect_exit 0 "a succeeding ingest" "$PM" ingest "$SH/districts.shp" --db "$WORK/foreign.sqlite" \
    --as districts --quiet
  check "the project's tables now exist" test "$(sqlite3 "$WORK/foreign.sqlite" \
    "SELECT count(*) FROM sqlite_master WHERE name IN ('pm_project', 'layers')")" = 2
  check "the foreign table kept" test "$(sqlite3 "$WORK/foreign.sqlite" "SELECT count(*) FROM metro")" = 449
  cp "$WORK/foreign.orig" "$WORK/other.sqlite"
  sqlite3 "$WORK/other.sqlite" "PRAGMA user_version = 7"
  expect_exit 2 "another program's schema version" "$PM" ingest "$SH/districts.shp" \
    --db "$WORK/other.sqlite" --as districts
  contains "says whose file it is" "$ERR" "belongs to another program"
else
  bad "ogr2ogr could not write a SpatiaLite file"
fi
finish
