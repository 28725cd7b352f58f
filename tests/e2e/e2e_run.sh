#!/usr/bin/env bash
# e2e_run.sh: `planmetrics run` and `history` on the real Shanghai data: reports, exit codes,
# unchanged layers not re-ingested, identical numbers on a second run, bad plans leave nothing.
. "$(dirname "$0")/lib.sh"
SH=$DATA/shanghai
cat >"$WORK/plan.yaml" <<YAML
plan: e2e-plan
title: 青浦区城市管理精细化三年行动计划（2024-2026年）
crs: auto
districts: {layer: districts, name_field: NAME, only: [青浦区, 长宁区]}
layers:
  districts:      {path: $SH/districts.shp}
  metro_stations: {path: $SH/metro_stations.csv, x: lon, y: lat, src_crs: EPSG:4326}
  bus_stops:      {path: $SH/bus_stops.csv, x: lon, y: lat, src_crs: EPSG:4326}
  parks:          {path: $WORK/parks.gpkg, optional: true}
indicators:
  - id: transfer_50m
    title: 轨道交通和公共交通换乘距离在50米以内的占比
    metric: transfer_coverage
    from: {layer: metro_stations, where: "(';' || address) GLOB '*;[^(]*'"}
    to: bus_stops
    threshold_m: 50
    target: {op: ">=", value: 100, unit: "%"}
  - id: pocket_parks
    title: 口袋公园
    metric: count
    layer: parks
    target: {op: ">=", value: 4}
YAML
DB=$WORK/plan.sqlite
expect_exit 1 "first run misses the 100 % target" "$PM" run "$WORK/plan.yaml" --db "$DB" \
  --json "$WORK/r1.json" --csv "$WORK/r1.csv" --md "$WORK/r1.md"
contains "summary shows the district" "$OUT" "青浦区"
contains "summary shows no data" "$OUT" "no data"
contains "three layers ingested" "$OUT" "3 ingested"
check "JSON is valid" python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$WORK/r1.json"
check "JSON follows METRICS.md §4" python3 - "$WORK/r1.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["plan"] == "e2e-plan" and r["crs"] == "EPSG:32651" and r["generated_at"].endswith("Z")
ind = {i["id"]: i for i in r["indicators"]}
t = ind["transfer_50m"]
assert t["metric"] == "transfer_coverage" and t["unit"] == "%"
names = [x["district"] for x in t["results"]]
assert names == ["青浦区", "长宁区", "_all"], names
for x in t["results"]:
    assert x["denominator"] > 0 and 0 <= x["numerator"] <= x["denominator"]
    assert abs(x["value"] - 100.0 * x["numerator"] / x["denominator"]) < 1e-6
    assert x["target"] == 100 and x["met"] is False
    assert len(x["gaps"]) == x["denominator"] - x["numerator"]
    d = [g["distance_m"] for g in x["gaps"]]
    assert d == sorted(d, reverse=True), "gaps worst first"
    assert all(v > 50 for v in d)
a = {x["district"]: x for x in t["results"]}
assert a["_all"]["denominator"] == a["青浦区"]["denominator"] + a["长宁区"]["denominator"]
p = ind["pocket_parks"]
assert p["status"] == "no data" and all(x["value"] is None for x in p["results"])
# not measured: no gap count (0 would read "nothing missing")
assert all(x["n_gaps"] is None and x["gaps"] is None for x in p["results"])
PY
check "CSV has a row per indicator and district" test "$(($(wc -l <"$WORK/r1.csv") - 1))" -eq 6
contains "Markdown has the title" "$(cat "$WORK/r1.md")" "轨道交通和公共交通换乘距离在50米以内的占比"

expect_exit 1 "second run" "$PM" run "$WORK/plan.yaml" --db "$DB" --json "$WORK/r2.json"
contains "second run ingests nothing" "$OUT" "0 ingested, 3 unchanged"
check "second run gives identical numbers" python3 - "$WORK/r1.json" "$WORK/r2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
strip = lambda r: [(i["id"], [(x["district"], x["value"], x["numerator"], x["denominator"],
                    [(g["id"], g["distance_m"]) for g in x["gaps"] or []]) for x in i["results"]])
                   for i in r["indicators"]]
assert strip(a) == strip(b)
assert b["run_id"] == a["run_id"] + 1
PY
expect_exit 1 "one thread" "$PM" run "$WORK/plan.yaml" --db "$DB" --threads 1 --no-history --json "$WORK/t1.json"
expect_exit 1 "two threads" "$PM" run "$WORK/plan.yaml" --db "$DB" --threads 2 --no-history --json "$WORK/t2.json"
check "one and two threads give the same report" python3 - "$WORK/t1.json" "$WORK/t2.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
for r in (a, b): r.pop("generated_at"); r.pop("run_id", None)
assert a == b
PY
expect_exit 2 "bad --threads" "$PM" run "$WORK/plan.yaml" --db "$DB" --threads 0
# --quiet hides notices, progress and the layer line, never the result table.
expect_exit 1 "run --quiet" "$PM" run "$WORK/plan.yaml" --db "$DB" --quiet --no-history
contains "--quiet keeps the summary table" "$OUT" "transfer_50m"
contains "--quiet keeps the verdict line" "$OUT" "Targets: 0 met, 1 missed"
check "--quiet drops the layer line" bash -c '! grep -q "^Layers:" "$1"' _ "$WORK/out"
check "--quiet: nothing on stderr" test -z "$ERR"
expect_exit 1 "run --quiet --json -" "$PM" run "$WORK/plan.yaml" --db "$DB" --quiet --no-history --json -
check "--quiet --json -: standard output is the JSON alone" python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$WORK/out"
contains "--quiet --json -: the table on stderr" "$ERR" "transfer_50m"
expect_exit 0 "run --help" "$PM" run --help
contains "run --help says what --quiet hides" "$OUT" "the summary table is still printed"
expect_exit 0 "history" "$PM" history "$WORK/plan.yaml" --db "$DB"
contains "history lists the indicator" "$OUT" "transfer_50m"
contains "history shows both runs" "$OUT" "#2"
check "history columns show run id, date and time" grep -Eq '#1 [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} +#2 ' "$WORK/out"
check "history leaves out an indicator that never had data" bash -c '! grep -q "^pocket_parks" "$1"' _ "$WORK/out"
contains "history names what it left out" "$OUT" "without data in every run: pocket_parks"
expect_exit 0 "history --indicator" "$PM" history "$WORK/plan.yaml" --db "$DB" --indicator pocket_parks
check "history --indicator: that indicator alone" bash -c 'grep -q "^pocket_parks" "$1" && ! grep -q transfer_50m "$1"' _ "$WORK/out"
expect_exit 2 "history --indicator unknown" "$PM" history --db "$DB" --indicator transfer
contains "unknown indicator: the indicators listed" "$ERR" "the indicators are: transfer_50m, pocket_parks"
expect_exit 0 "history --json" "$PM" history --db "$DB" --json
check "history --json: runs, results, left out" python3 - "$WORK/out" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))
assert [r["run_id"] for r in h["runs"]] == [1, 2], h["runs"]
assert all(r["finished_at"].endswith("Z") and r["exit_code"] == 1 for r in h["runs"])
res = h["results"]
assert {r["indicator_id"] for r in res} == {"transfer_50m"}, res
assert len(res) == 2 * 3 and {r["district"] for r in res} == {"青浦区", "长宁区", "_all"}
assert all(r["met"] is False and r["target_op"] == ">=" and r["target"] == 100 for r in res)
assert h["left_out_without_data"] == [{"plan": "e2e-plan", "indicator_id": "pocket_parks"}]
PY
expect_exit 0 "history --json --indicator" "$PM" history --db "$DB" --json --indicator pocket_parks
check "history --json --indicator: the no-data rows" python3 -c 'import json, sys
h = json.load(open(sys.argv[1]))
assert [r["status"] for r in h["results"]] == ["no data"] * 6, h["results"]
assert h["left_out_without_data"] == []' "$WORK/out"

expect_exit 1 "one district" "$PM" run "$WORK/plan.yaml" --db "$DB" --district 长宁区 --json "$WORK/r3.json"
check "only that district and _all" python3 -c '
import json,sys; r=json.load(open(sys.argv[1]))
assert [x["district"] for x in r["indicators"][0]["results"]] == ["长宁区", "_all"]' "$WORK/r3.json"
expect_exit 2 "district outside the scope" "$PM" run "$WORK/plan.yaml" --db "$DB" --district 松江区
contains "names the district" "$ERR" "松江区"

# Bad plans: exit 2, message with file and line, database unchanged.
before=$(sha256sum "$DB" | cut -d' ' -f1)
sed 's/threshold_m: 50/treshold_m: 50/' "$WORK/plan.yaml" >"$WORK/typo.yaml"
expect_exit 2 "unknown key" "$PM" run "$WORK/typo.yaml" --db "$DB"
contains "unknown key names file and line" "$ERR" "typo.yaml:16"
sed 's/address) GLOB/adress) GLOB/' "$WORK/plan.yaml" >"$WORK/field.yaml"
expect_exit 2 "unknown field in where" "$PM" run "$WORK/field.yaml" --db "$DB"
contains "unknown field is named" "$ERR" "adress"
sed "s|$SH/bus_stops.csv|$WORK/nope.csv|" "$WORK/plan.yaml" >"$WORK/missing.yaml"
expect_exit 2 "missing required layer file" "$PM" run "$WORK/missing.yaml" --db "$DB"
contains "missing file is named" "$ERR" "nope.csv"
check "database unchanged by failed runs" test "$(sha256sum "$DB" | cut -d' ' -f1)" = "$before"
# Outputs that would collide: refused before anything runs (exit 2), nothing written or changed.
runs_before=$(sqlite3 "$DB" "SELECT count(*) FROM pm_runs")
mkdir -p "$WORK/sub"
expect_exit 2 "two reports on standard output" "$PM" run "$WORK/plan.yaml" --db "$DB" --json - --md -
contains "stdout collision explained" "$ERR" "--json - and --md - would both write to standard output"
check "nothing on standard output" test -z "$OUT"
expect_exit 2 "the same file twice" "$PM" run "$WORK/plan.yaml" --db "$DB" --json "$WORK/same" --csv "$WORK/same"
contains "same file explained" "$ERR" "are the same file"
expect_exit 2 "the same file, spelled x/../" "$PM" run "$WORK/plan.yaml" --db "$DB" \
  --json "$WORK/same" --md "$WORK/sub/../same"
contains "x/../ spelling caught" "$ERR" "$WORK/sub/../same"
touch "$WORK/exists.json" && ln -s "$WORK/exists.json" "$WORK/link.json"
expect_exit 2 "an existing file and a link to it" "$PM" run "$WORK/plan.yaml" --db "$DB" \
  --json "$WORK/exists.json" --csv "$WORK/link.json"
expect_exit 2 "standard output twice (- and /dev/stdout)" "$PM" run "$WORK/plan.yaml" --db "$DB" \
  --json - --md /dev/stdout
contains "/dev/stdout is standard output" "$ERR" "both write to standard output"
expect_exit 2 "a report over the project database" "$PM" run "$WORK/plan.yaml" --db "$DB" --csv "$DB"
contains "database named" "$ERR" "--db"
cp "$WORK/plan.yaml" "$WORK/plan.copy"
expect_exit 2 "a report over the plan file" "$PM" run "$WORK/plan.yaml" --db "$DB" --md "$WORK/sub/../plan.yaml"
contains "plan file named" "$ERR" "is the plan file"
check "plan file untouched" cmp -s "$WORK/plan.yaml" "$WORK/plan.copy"
check "no report file written" test ! -e "$WORK/same"
check "exists.json untouched" test ! -s "$WORK/exists.json"
check "no run recorded" test "$(sqlite3 "$DB" "SELECT count(*) FROM pm_runs")" = "$runs_before"
check "database unchanged by refused runs" test "$(sha256sum "$DB" | cut -d' ' -f1)" = "$before"
expect_exit 1 "two /dev/null outputs are fine" "$PM" run "$WORK/plan.yaml" --db "$DB" --no-history \
  --json /dev/null --csv /dev/null
# the same for `report`
expect_exit 2 "report: two on standard output" "$PM" report --db "$DB" --html - --json -
contains "report: stdout collision explained" "$ERR" "both write to standard output"
expect_exit 2 "report: the same file twice" "$PM" report --db "$DB" --html "$WORK/r.html" --md "$WORK/sub/../r.html"
contains "report: same file explained" "$ERR" "are the same file"
expect_exit 2 "report: over the project database" "$PM" report --db "$DB" --json "$DB"
check "report: nothing written" test ! -e "$WORK/r.html"
check "database unchanged by refused reports" test "$(sha256sum "$DB" | cut -d' ' -f1)" = "$before"

expect_exit 2 "missing plan" "$PM" run "$WORK/none.yaml" --db "$WORK/none.sqlite"
check "no database created for a failed run" test ! -e "$WORK/none.sqlite"
finish
