#!/usr/bin/env bash
# e2e_concurrency.sh: several planmetrics processes on one project at once, new or existing:
# writers take turns (the later one waits) or fail saying the project is in use by another
# planmetrics process after the documented wait; nothing any of them reported as done is lost; a
# failing first use never removes what another process created.
. "$(dirname "$0")/lib.sh"
SH=$DATA/shanghai
layer_args() { # layer_args NAME: the ingest arguments of one of four Shanghai layers
  case "$1" in
    districts) echo "$SH/districts.shp" ;;
    bus_stops) echo "$SH/bus_stops.csv --x lon --y lat --src-crs EPSG:4326" ;;
    metro) echo "$SH/metro_stations.csv --x lon --y lat --src-crs EPSG:4326" ;;
    roads) echo "$SH/peoples_square_roads.osm --source-layer lines --where highway<>''" ;;
  esac
}
count() { sqlite3 "$1" "SELECT count(*) FROM $2" 2>/dev/null; }

# 1. Four ingests into a new project at once, three times: each succeeds, all four are there.
for round in 1 2 3; do
  db=$WORK/new$round.sqlite
  pids=()
  for l in districts bus_stops metro roads; do
    # shellcheck disable=SC2046
    "$PM" ingest $(layer_args $l) --db "$db" --as $l --quiet >"$WORK/$l.out" 2>&1 &
    pids+=($!)
  done
  i=0
  for l in districts bus_stops metro roads; do
    wait "${pids[$i]}"
    check "round $round: ingest $l succeeded ($(cat "$WORK/$l.out"))" test $? -eq 0
    i=$((i + 1))
  done
  check "round $round: four layers" test "$(count "$db" layers)" = 4
  check "round $round: 10186 bus stops" test "$(count "$db" bus_stops)" = 10186
  check "round $round: 17 districts" test "$(count "$db" districts)" = 17
  check "round $round: no temporary file left" test -z "$(find "$WORK" -name "new$round.sqlite.*")"
done

# 2. Two runs of a plan on a new project at once: both finish, both are recorded, same numbers.
cat >"$WORK/plan.yaml" <<YAML
plan: together
districts: {layer: districts, name_field: NAME, only: [黄浦区, 静安区]}
layers:
  districts: {path: $SH/districts.shp}
  metro:     {path: $SH/metro_stations.csv, x: lon, y: lat, src_crs: EPSG:4326}
  bus_stops: {path: $SH/bus_stops.csv, x: lon, y: lat, src_crs: EPSG:4326}
indicators:
  - {id: transfer_50m, metric: transfer_coverage, from: metro, to: bus_stops, threshold_m: 50}
  - {id: stops, metric: count, layer: bus_stops}
YAML
DB=$WORK/runs.sqlite
"$PM" run "$WORK/plan.yaml" --db "$DB" --json "$WORK/a.json" --quiet >"$WORK/a.out" 2>&1 &
a=$!
"$PM" run "$WORK/plan.yaml" --db "$DB" --json "$WORK/b.json" --quiet >"$WORK/b.out" 2>&1 &
b=$!
wait $a
check "first run finished ($(cat "$WORK/a.out"))" test $? -eq 0
wait $b
check "second run finished ($(cat "$WORK/b.out"))" test $? -eq 0
check "both runs recorded" test "$(count "$DB" pm_runs)" = 2
values() { python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
print([(i["id"], [(x["district"], x["value"]) for x in i["results"]]) for i in r["indicators"]])' "$1"; }
check "the same numbers" test "$(values "$WORK/a.json")" = "$(values "$WORK/b.json")"
check "two different run ids" python3 -c '
import json,sys; assert json.load(open(sys.argv[1]))["run_id"] != json.load(open(sys.argv[2]))["run_id"]' \
  "$WORK/a.json" "$WORK/b.json"

# 3. A run and an ingest on an existing project at once: the run is recorded, the layer is there.
"$PM" run "$WORK/plan.yaml" --db "$DB" --quiet >"$WORK/a.out" 2>&1 &
a=$!
"$PM" ingest $(layer_args roads) --db "$DB" --as roads --quiet >"$WORK/b.out" 2>&1 &
b=$!
wait $a
check "the run finished beside an ingest ($(cat "$WORK/a.out"))" test $? -eq 0
wait $b
check "the ingest finished beside a run ($(cat "$WORK/b.out"))" test $? -eq 0
check "three runs recorded" test "$(count "$DB" pm_runs)" = 3
check "the roads layer is there" test "$(count "$DB" layers)" = 4

# 4. A first run that fails late, while an ingest creates the same project: the ingest's layer
# stays (a process removes only what it created itself, and a new project appears whole).
cat >"$WORK/failing.yaml" <<YAML
plan: failing
layers:
  bus_stops: {path: $SH/bus_stops.csv, x: lon, y: lat, src_crs: EPSG:4326}
indicators:
  - {id: n, metric: count, layer: {layer: bus_stops, where: "no_such_field = 1"}}
YAML
for delay in 0.2 0.5 0.8; do
  db=$WORK/late$delay.sqlite
  "$PM" run "$WORK/failing.yaml" --db "$db" --quiet >"$WORK/a.out" 2>&1 &
  a=$!
  sleep "$delay"
  "$PM" ingest $(layer_args metro) --db "$db" --as metro --quiet >"$WORK/b.out" 2>&1
  ingest_rc=$?
  wait $a
  check "delay $delay: the run failed as it should" test $? -eq 2
  check "delay $delay: the ingest succeeded ($(cat "$WORK/b.out"))" test $ingest_rc -eq 0
  check "delay $delay: its layer was not lost" test "$(count "$db" metro)" = 449
done

# 5. A writer that cannot get its turn: with PLANMETRICS_WAIT it waits that long, then exits 2
# naming the reason; with a longer wait it queues and succeeds; readers are never blocked.
DB2=$WORK/held.sqlite
cp "$DB" "$DB2"
hold() { # hold SECONDS: another process holds the project's write lock
  python3 - "$DB2" "$1" <<'PY' &
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("INSERT INTO pm_project(key, value) VALUES ('held', 'yes')")
open(sys.argv[1] + ".held", "w").close()
time.sleep(float(sys.argv[2]))
c.execute("ROLLBACK")
PY
  HOLDER=$!
  while [ ! -e "$DB2.held" ]; do sleep 0.05; done
  rm -f "$DB2.held"
}
sum() { sha256sum "$1" | cut -d' ' -f1; }
before=$(sum "$DB2")
hold 10
start=$(date +%s)
expect_exit 2 "a writer gives up after PLANMETRICS_WAIT" env PLANMETRICS_WAIT=1 "$PM" ingest \
  $(layer_args metro) --db "$DB2" --as metro2
contains "says why" "$ERR" "in use by another planmetrics process"
check "gave up after about a second" test $(( $(date +%s) - start )) -le 4
expect_exit 2 "a run gives up too" env PLANMETRICS_WAIT=1 "$PM" run "$WORK/plan.yaml" --db "$DB2" \
  --json "$WORK/held.json"
contains "the run says why" "$ERR" "in use by another planmetrics process"
check "no report of a run that did not happen" test ! -e "$WORK/held.json"
check "the writers that gave up changed nothing" test "$(sum "$DB2")" = "$before"
expect_exit 0 "a reader is not blocked" "$PM" info --db "$DB2"
expect_exit 0 "nor a report" "$PM" report --db "$DB2" --json "$WORK/r.json"
wait "$HOLDER"
hold 8 # held again, long enough for the reading before the write (slow under sanitizers)
expect_exit 0 "a writer with a longer wait queues" env PLANMETRICS_WAIT=60 "$PM" ingest \
  $(layer_args metro) --db "$DB2" --as metro2
contains "and says it waits" "$ERR" "waiting for it"
wait "$HOLDER"
check "its layer is there" test "$(count "$DB2" metro2)" = 449
check "nothing of the holder's rolled-back change" test "$(sqlite3 "$DB2" \
  "SELECT count(*) FROM pm_project WHERE key = 'held'")" = 0
finish
