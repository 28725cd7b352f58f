#!/usr/bin/env bash
# e2e_crash.sh: kill -9 an ingest, a run and a first ingest into a new project at many moments:
# at exact writes of the database and its journal through the commit (tests/crash_hook.c, an
# LD_PRELOAD library of the tests only), and at random times. After each crash: read-only
# commands work on what is left, PRAGMA integrity_check is ok, the project is exactly in its
# state before or after the command (a dump of every table, times aside), and doing the command
# again gives exactly the state and the numbers of a clean run.
. "$(dirname "$0")/lib.sh"
SH=$DATA/shanghai
HOOK=${PM_BUILD_DIR:?}/tests/libpm_crash_hook.so
# The logical content of a project: a dump of every table (one snapshot) and the schema version,
# times replaced by TIME so that a crashed command's state compares with a clean one's.
state() {
  sqlite3 -readonly "$1" .dump 'PRAGMA user_version' |
    sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?Z?/TIME/g'
}
[ -f "$HOOK" ] || { bad "the crash hook $HOOK is not built"; finish; exit 1; }
# a preloaded library comes before a sanitizer runtime: tell ASan that is intended
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# How many crash points per command: SPREAD spread over it and its last SPREAD writes, and
# RANDOM_KILLS random moments; fewer under a sanitizer, which makes each a few times slower.
SPREAD=5 RANDOM_KILLS=3
if linked_with "$PM" 'libasan\|libtsan'; then SPREAD=3 RANDOM_KILLS=2; fi
plan() { # plan FILE [BUS_STOPS_FILTER]
  cat >"$1" <<YAML
plan: crash
districts: {layer: districts, name_field: NAME, only: [黄浦区, 静安区]}
layers:
  districts: {path: $SH/districts.shp}
  metro:     {path: $SH/metro_stations.csv, x: lon, y: lat, src_crs: EPSG:4326}
  bus_stops: {path: $SH/bus_stops.csv, x: lon, y: lat, src_crs: EPSG:4326${2:+, where: \"$2\"}}
indicators:
  - {id: transfer_50m, metric: transfer_coverage, from: metro, to: bus_stops, threshold_m: 50}
  - {id: stops, metric: count, layer: bus_stops}
YAML
}
plan "$WORK/p1.yaml"
plan "$WORK/p2.yaml" "adname <> '崇明区'"
BASE=$WORK/base.sqlite
"$PM" run "$WORK/p1.yaml" --db "$BASE" --quiet >/dev/null 2>&1
check "the base project" test "$(sqlite3 "$BASE" 'SELECT count(*) FROM pm_runs')" = 1
state "$BASE" >"$WORK/base.state"

# The three commands, each on $W (a copy of the base, or a new file). They exec planmetrics, so
# that a subshell running one is the process to kill: call them as (op_NAME).
W=$WORK/w.sqlite
op_ingest() { exec "$PM" ingest "$SH/bus_stops.csv" --db "$W" --as bus_stops --x lon --y lat \
  --src-crs EPSG:4326 --where "adname = '黄浦区'" --quiet; }
op_run() { exec "$PM" run "$WORK/p2.yaml" --db "$W" --json "$WORK/w.json" --quiet >/dev/null; }
op_new() { exec "$PM" ingest "$SH/districts.shp" --db "$W" --as districts --quiet; }
fresh() { # fresh OP: the state before OP
  rm -f "$W" "$W"-journal "$W".new-* "$WORK/w.json"
  [ "$1" = new ] || cp "$BASE" "$W"
}
values() { python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
print([(i["id"], [(x["district"], x["value"], x["numerator"], x["denominator"]) for x in i["results"]])
       for i in r["indicators"]])' "$1"; }

for op in ingest run new; do
  echo "e2e_crash: $op: $(date +%T)"
  fresh $op
  [ $op = new ] && : >"$WORK/before.$op.state" || cp "$WORK/base.state" "$WORK/before.$op.state"
  start=$(date +%s%N)
  (LD_PRELOAD=$HOOK PM_CRASH_FILE=w.sqlite PM_CRASH_COUNT="$WORK/count" op_$op)
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  check "$op: a clean run (exit $rc)" test $rc -le 1
  state "$W" >"$WORK/after.$op.state"
  [ $op = run ] && values "$WORK/w.json" >"$WORK/clean.values"
  n=$(cat "$WORK/count")
  check "$op: the hook saw its writes ($n)" test "$n" -gt 10
  # crash points: spread over the command, and each of its last writes (the commit's end)
  points=$(for i in $(seq "$SPREAD"); do echo $(( n * i / (SPREAD + 1) )); done
           seq $(( n - SPREAD + 1 )) "$n")
  points=$(printf '%s\n' 1 $points | sort -nu)
  # random moments (ms), for the computing between writes as well
  moments=$(for i in $(seq "$RANDOM_KILLS"); do echo $(( RANDOM % (ms + 1) )); done)
  for how in $(for k in $points; do echo "at:$k"; done; for t in $moments; do echo "after:$t"; done); do
    fresh $op
    case $how in
      at:*) ( (LD_PRELOAD=$HOOK PM_CRASH_FILE=w.sqlite PM_CRASH_AT=${how#at:} op_$op); true ) \
              >/dev/null 2>&1 ;;
      after:*) ( (op_$op) & pid=$!; sleep "$(awk "BEGIN {print ${how#after:} / 1000}")";
                 kill -9 $pid 2>/dev/null; wait $pid ) >/dev/null 2>&1 ;;
    esac
    what="$op killed $how"
    if [ -e "$W" ]; then
      expect_exit 0 "$what: info reads what is left" "$PM" info --db "$W"
      [ $op = new ] || expect_exit 0 "$what: history reads it" "$PM" history --db "$W" --json
      expect_exit 0 "$what: sql reads it" "$PM" sql --db "$W" "SELECT count(*) FROM layers"
      check "$what: integrity" test "$(sqlite3 "$W" 'PRAGMA integrity_check')" = ok
      state "$W" >"$WORK/now.state"
    else
      : >"$WORK/now.state"
    fi
    if cmp -s "$WORK/now.state" "$WORK/before.$op.state"; then
      ok
      (op_$op) >/dev/null 2>&1
      check "$what: done again, exit $?" test -e "$W"
      state "$W" >"$WORK/again.state"
      check "$what: done again, the clean state" cmp -s "$WORK/again.state" "$WORK/after.$op.state"
      [ $op = run ] && check "$what: done again, the clean numbers" \
        test "$(values "$WORK/w.json")" = "$(cat "$WORK/clean.values")"
    elif cmp -s "$WORK/now.state" "$WORK/after.$op.state"; then
      ok
    else
      bad "$what: the project is neither in its state before nor after: $(diff "$WORK/now.state" \
        "$WORK/after.$op.state" | head -5)"
    fi
  done
done
finish
