#!/usr/bin/env bash
# e2e_html.sh: `planmetrics report --html` on a plan run twice on the real Shanghai data: one
# self-contained page with a chart per indicator, maps, gap tables, history, the recorded numbers;
# bad options fail cleanly; with Chromium installed the page loads without errors and shows maps.
. "$(dirname "$0")/lib.sh"
SH=$DATA/shanghai
cat >"$WORK/plan.yaml" <<YAML
plan: e2e-html
title: 青浦区 & 长宁区 <换乘> 报告
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
  - id: station_service
    title: 轨道站点800米服务覆盖率
    metric: coverage
    sources: metro_stations
    radius_m: 800
    target: {op: ">=", value: 30, unit: "%"}
  - id: pocket_parks
    title: 口袋公园
    metric: count
    layer: parks
    target: {op: ">=", value: 4}
YAML
DB=$WORK/plan.sqlite
expect_exit 1 "first run" "$PM" run "$WORK/plan.yaml" --db "$DB" --quiet
expect_exit 1 "second run" "$PM" run "$WORK/plan.yaml" --db "$DB" --json "$WORK/r2.json" --quiet

H=$WORK/report.html
expect_exit 0 "report --html" "$PM" report --db "$DB" --html "$H"
check "page written" test -s "$H"
page=$(cat "$H")
check "self-contained: no remote src/href/url()" \
  bash -c '! grep -Eiq "(src|href)[[:space:]]*=[[:space:]]*[\"'\'']?[[:space:]]*(https?:)?//|url\([[:space:]]*[\"'\'']?(https?:)?//" "$1"' _ "$H"
check "self-contained: no http(s) address at all" bash -c '! grep -Eq "https?://" "$1"' _ "$H"
check "no external script or stylesheet" bash -c '! grep -Eiq "<(script|link)[^>]+(src|href)=" "$1"' _ "$H"
check "a bar chart per indicator with data" test "$(grep -o '<svg class="bars"' "$H" | wc -l)" -eq 2
check "a map per computed indicator" test "$(grep -oE '<svg class="map( [a-z]+)?"' "$H" | wc -l)" -eq 2
check "a north arrow on every map" test "$(grep -o '<div class="north"' "$H" | wc -l)" -eq 2
check "a scale bar on every map" test "$(grep -o '<div class="scalebar"' "$H" | wc -l)" -eq 2
contains "indicators without data in one section" "$page" '<section class="nodata" id="nodata">'
check "the no-data reason said once" bash -c '! grep -q "no data: no data" "$1"' _ "$H"
contains "station names on the map" "$page" '<g class="flbl"'
contains "neighbouring districts on the base map" "$page" '<g class="b-dist">'
contains "sources: the files of the run" "$page" "$SH/bus_stops.csv"
contains "gap table" "$page" '<table class="gaps"'
contains "gap rows locate on the map" "$page" '<tr data-x="'
contains "no-data indicator says so" "$page" "无数据 no data"
contains "no-data reason" "$page" "layer parks ($WORK/parks.gpkg) is not in the data"
contains "history charts (two runs)" "$page" "历次运行 History"
contains "title escaped" "$page" "青浦区 &amp; 长宁区 &lt;换乘&gt; 报告"
check "no raw markup from the title" bash -c '! grep -q "<换乘>" "$1"' _ "$H"
contains "district outlines" "$page" 'class="dline"'
contains "threshold from the plan file" "$page" "换乘阈值 threshold 50 m"
contains "Chinese font stack" "$page" '"Noto Sans CJK SC"'
# The page shows the recorded numbers: numerator / denominator of every transfer result.
for nd in $(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
t = [i for i in r["indicators"] if i["id"] == "transfer_50m"][0]
print(" ".join("%g/%g" % (x["numerator"], x["denominator"]) for x in t["results"]))' "$WORK/r2.json"); do
  contains "recorded numbers ${nd}" "$page" "(${nd%/*} / ${nd#*/})"
done

expect_exit 0 "report of run 1" "$PM" report --db "$DB" --run 1 --html "$WORK/r1.html"
contains "run 1 named" "$(cat "$WORK/r1.html")" "运行 run #1"
check "run 1 has no history yet" bash -c '! grep -q "历次运行 History" "$1"' _ "$WORK/r1.html"
expect_exit 0 "report latest via the plan file" "$PM" report "$WORK/plan.yaml" --db "$DB" --run latest \
  --html "$WORK/latest.html" --md "$WORK/latest.md"
contains "plan's latest run" "$(cat "$WORK/latest.html")" "运行 run #2"
contains "Markdown from the recorded run" "$(cat "$WORK/latest.md")" "轨道交通和公共交通换乘距离在50米以内的占比"
expect_exit 0 "report to standard output" "$PM" report --db "$DB" --html -
contains "stdout is the page" "$OUT" "<!DOCTYPE html>"

expect_exit 2 "unknown run" "$PM" report --db "$DB" --run 99 --html "$WORK/x.html"
contains "names the run" "$ERR" "99"
check "nothing written for an unknown run" test ! -e "$WORK/x.html"
expect_exit 2 "bad run id" "$PM" report --db "$DB" --run abc --html "$WORK/x.html"
contains "explains --run" "$ERR" "--run"
expect_exit 2 "no output" "$PM" report --db "$DB"
contains "asks for --html" "$ERR" "--html"
expect_exit 2 "unwritable directory" "$PM" report --db "$DB" --html "$WORK/no/such/dir/r.html"
contains "names the path" "$ERR" "no/such/dir"
expect_exit 2 "missing database" "$PM" report --db "$WORK/none.sqlite" --html "$WORK/x.html"
check "no database created" test ! -e "$WORK/none.sqlite"
ls "$WORK"/*.tmp.* >/dev/null 2>&1 && bad "temporary files left behind" || ok

# The Porto demo (OpenStreetMap data): every map has the base map from the project's own roads,
# water and parks, names of stations and parks, a north arrow, a scale bar and the OSM credit;
# the Sources section names the file each layer came from.
PD=$WORK/porto.sqlite
expect_exit 1 "Porto demo run" "$PM" run "$PM_SOURCE_DIR/plans/porto-demo.yaml" --db "$PD" --quiet
PH=$WORK/porto.html
expect_exit 0 "Porto report --html" "$PM" report --db "$PD" --html "$PH"
porto=$(cat "$PH")
maps=$(grep -oE '<svg class="map( [a-z]+)?"' "$PH" | wc -l)
# one map per indicator that recorded geometry
with_geom=$(sqlite3 "$PD" "SELECT count(DISTINCT indicator_id) FROM pm_details WHERE run_id = 1")
check "Porto: a map per indicator with geometry ($with_geom)" test "$maps" -eq "$with_geom"
check "Porto: a north arrow on every map" test "$(grep -o '<div class="north"' "$PH" | wc -l)" -eq "$maps"
check "Porto: a scale bar on every map" test "$(grep -o '<div class="scalebar"' "$PH" | wc -l)" -eq "$maps"
check "Porto: OSM credit on every map" \
  test "$(grep -o '<div class="credit">© OpenStreetMap contributors, ODbL</div>' "$PH" | wc -l)" -eq "$maps"
contains "Porto: credits OpenStreetMap contributors" "$porto" "© OpenStreetMap contributors"
contains "Porto: names its source file" "$porto" "data/porto/porto.osm.pbf"
contains "Porto: sources section" "$porto" "<h2>数据来源 Sources</h2>"
for l in freguesias stations entrances bus_stops roads rivers river_water parks; do
  contains "Porto: source layer $l" "$porto" "<tr><td><code>$l</code></td>"
done
contains "Porto: base map roads" "$porto" '<g class="b-major">'
contains "Porto: base map water" "$porto" '<g class="b-water">'
contains "Porto: base map parks" "$porto" '<g class="b-park">'
contains "Porto: station named" "$porto" '>São Bento</text>'
contains "Porto: park named" "$porto" '>Parque Municipal das Virtudes</text>'
contains "Porto: time in Lisbon" "$porto" "(Europe/Lisbon)"
contains "Porto: life circle per facility type" "$porto" "<caption>各类设施服务比例 share of homes served by each facility type</caption>"
contains "Porto: life circle park share of _all" "$porto" "<td>全部 _all</td><td class=\"num\">100%</td><td class=\"num\">100%</td><td class=\"num\">100%</td><td class=\"num\">12.34%</td>"

# In a browser: loads without console errors, the script runs, the maps are there and visible.
for pg in "$H:2" "$PH:6"; do
  "$PM_SOURCE_DIR/tests/html/check_page.sh" "${pg%:*}" "$WORK/chromium-$(basename "${pg%:*}" .html)" "${pg##*:}"
  rc=$?
  if [ $rc -eq 77 ]; then
    echo "e2e_html: browser check SKIPPED (chromium not installed)"
    # CI installs Chromium (scripts/test.sh): there a missing browser is a failure, not a skip.
    [ -n "${CI:-}" ] && bad "browser check cannot run in CI: chromium is not installed"
  elif [ $rc -eq 0 ]; then
    ok
  else
    bad "page ${pg%:*} in headless Chromium (see above)"
  fi
done
# What the browser shows: the north arrow and the scale bar of every map, the OSM credit.
if command -v chromium >/dev/null; then
  dom=$WORK/chromium-porto/dom.html
  check "browser: north arrows" test "$(grep -o 'class="north"' "$dom" | wc -l)" -eq "$maps"
  check "browser: scale bars with a length" test "$(grep -oE '<span>[0-9.]+ k?m</span>' "$dom" | wc -l)" -eq "$maps"
  check "browser: OSM credit" grep -q "© OpenStreetMap contributors" "$dom"
fi
finish
