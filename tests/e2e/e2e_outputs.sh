#!/usr/bin/env bash
# e2e_outputs.sh: report paths never destroy the project (every output option over the database,
# however spelled, is refused before anything runs); devices and FIFOs are written into, never
# replaced; a run whose commit fails (a full disk) leaves no report and no recorded run.
. "$(dirname "$0")/lib.sh"
SH=$DATA/shanghai
cat >"$WORK/plan.yaml" <<YAML
plan: e2e-outputs
districts: {layer: districts, name_field: NAME, only: [黄浦区]}
layers:
  districts: {path: $SH/districts.shp}
  metro:     {path: $SH/metro_stations.csv, x: lon, y: lat, src_crs: EPSG:4326}
  bus_stops: {path: $SH/bus_stops.csv, x: lon, y: lat, src_crs: EPSG:4326}
indicators:
  - id: transfer_50m
    metric: transfer_coverage
    from: metro
    to: bus_stops
    threshold_m: 50
YAML
DB=$WORK/plan.sqlite
expect_exit 0 "a first run" "$PM" run "$WORK/plan.yaml" --db "$DB" --quiet
sum() { sha256sum "$1" | cut -d' ' -f1; }
before=$(sum "$DB")
mkdir -p "$WORK/sub"
ln -s "$DB" "$WORK/link.sqlite"

# 1. Every output option over the project database: exit 2, the database untouched.
over_db() { # over_db DESCRIPTION ARGS...: planmetrics ARGS must be refused
  local what=$1
  shift
  expect_exit 2 "$what" "$PM" "$@"
  contains "$what: the database is named" "$ERR" "--db"
  check "$what: database untouched" test "$(sum "$DB")" = "$before"
  check "$what: still a file, not a link" test -f "$DB" -a ! -L "$DB"
}
for spelling in "$DB" "$WORK/sub/../plan.sqlite" "$WORK/link.sqlite"; do
  for opt in --json --csv --md; do
    over_db "run $opt $spelling" run "$WORK/plan.yaml" --db "$DB" "$opt" "$spelling"
  done
  for opt in --html --json --csv --md; do
    over_db "report $opt $spelling" report --db "$DB" "$opt" "$spelling"
  done
  over_db "export --gpkg $spelling" export --db "$DB" --gpkg "$spelling"
  over_db "export --qgs $spelling" export --db "$DB" --gpkg "$WORK/x.gpkg" --qgs "$spelling"
done
check "no run recorded by refused commands" \
  test "$(sqlite3 "$DB" 'SELECT count(*) FROM pm_runs')" = 1

# 2. Devices and FIFOs are written into, not replaced by a regular file (a private null device
# when running as root, so the machine's /dev/null is never at stake).
if mknod "$WORK/null" c 1 3 2>/dev/null; then
  expect_exit 0 "run --json into a device" "$PM" run "$WORK/plan.yaml" --db "$DB" --no-history \
    --json "$WORK/null" --quiet
  check "the device is still a device" test -c "$WORK/null"
  expect_exit 0 "report --html into a device" "$PM" report --db "$DB" --html "$WORK/null"
  check "the device is still a device after report" test -c "$WORK/null"
else
  echo "e2e_outputs: not root: the device check runs on /dev/null only"
fi
expect_exit 0 "run --json /dev/null" "$PM" run "$WORK/plan.yaml" --db "$DB" --no-history \
  --json /dev/null --quiet
check "/dev/null is still a device" test -c /dev/null
mkfifo "$WORK/fifo"
cat "$WORK/fifo" >"$WORK/from_fifo.json" &
reader=$!
expect_exit 0 "run --json into a FIFO" "$PM" run "$WORK/plan.yaml" --db "$DB" --no-history \
  --json "$WORK/fifo" --quiet
wait "$reader"
check "the FIFO is still a FIFO" test -p "$WORK/fifo"
check "the report came through the FIFO" python3 -c \
  'import json,sys; assert json.load(open(sys.argv[1]))["plan"] == "e2e-outputs"' "$WORK/from_fifo.json"
expect_exit 0 "run --json - (standard output)" "$PM" run "$WORK/plan.yaml" --db "$DB" \
  --no-history --json - --quiet
contains "the JSON report on standard output" "$OUT" '"plan": "e2e-outputs"'

# 3. A full disk at the commit (a file size limit just above the database: its growth fails):
# exit 2, no report, no recorded run, the database as it was. The run is of every district, so
# that its record (a gap row and geometry per station missing its target) cannot fit in the free
# space of the database's pages and the file must grow.
sed '/^districts:/s/, only: \[黄浦区\]//' "$WORK/plan.yaml" >"$WORK/plan-all.yaml"
before=$(sum "$DB")
runs=$(sqlite3 "$DB" 'SELECT count(*) FROM pm_runs')
limit=$(( $(stat -c %s "$DB") / 1024 + 4 ))
full_disk_run() {
  ( trap '' XFSZ; ulimit -f "$limit"; exec "$PM" "$@" )
}
expect_exit 2 "a run whose commit fails" full_disk_run run "$WORK/plan-all.yaml" --db "$DB" \
  --json "$WORK/full.json" --csv "$WORK/full.csv" --md "$WORK/full.md"
contains "the failure is explained" "$ERR" "could not be written"
check "no JSON report left" test ! -e "$WORK/full.json"
check "no CSV report left" test ! -e "$WORK/full.csv"
check "no Markdown report left" test ! -e "$WORK/full.md"
check "no temporary report left" test -z "$(find "$WORK" -maxdepth 1 -name 'full.*')"
check "no run recorded" test "$(sqlite3 "$DB" 'SELECT count(*) FROM pm_runs')" = "$runs"
check "database as it was" test "$(sum "$DB")" = "$before"
check "no journal left behind" test ! -e "$DB-journal"
expect_exit 0 "the same run with space" "$PM" run "$WORK/plan.yaml" --db "$DB" \
  --json "$WORK/full.json" --quiet
check "its report names the recorded run" python3 -c '
import json,sys; r=json.load(open(sys.argv[1])); assert r["run_id"] == int(sys.argv[2]) + 1, r["run_id"]' \
  "$WORK/full.json" "$runs"
finish
