#!/usr/bin/env bash
# e2e_query.sh: the real `planmetrics query` and `planmetrics sql` on a project ingested from the
# Shanghai data, each answer checked against SpatiaLite SQL or a fact about the data.
set -u
export LC_ALL=C.UTF-8
PM=${PM:?set PM to the planmetrics binary}
PM_SOURCE_DIR=${PM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
DATA=$PM_SOURCE_DIR/data/shanghai
TMP=$(mktemp -d /tmp/e2e_query.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
DB=$TMP/sh.sqlite
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && printf '     %s\n' "$2"; }
check() { # check NAME COMMAND...: passes when the command succeeds
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}
# run OUT ERR ARGS...: run the CLI, keep stdout/stderr, return its exit code
run() {
  local out=$1 err=$2; shift 2
  "$PM" "$@" >"$out" 2>"$err"
}
sql1() { # the single value of a query (CSV, second line); brute-force checks are slow by design
  # (cross joins, slower still under sanitizers): no statement time limit for them
  "$PM" sql --db "$DB" --timeout 0 --csv "$1" 2>/dev/null | sed -n 2p | tr -d '\r'
}
same_num() { # same_num A B TOL
  awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'
}
json_valid() {
  if command -v jq >/dev/null 2>&1; then jq -e . "$1" >/dev/null
  elif command -v python3 >/dev/null 2>&1; then python3 -m json.tool "$1" >/dev/null
  else true; fi
}

# ---- the project ----
"$PM" ingest "$DATA/districts.shp" --db "$DB" --as districts --quiet &&
  "$PM" ingest "$DATA/metro_stations.csv" --db "$DB" --as metro_stations --x lon --y lat --src-crs EPSG:4326 --quiet &&
  "$PM" ingest "$DATA/bus_stops.csv" --db "$DB" --as bus_stops --x lon --y lat --src-crs EPSG:4326 --quiet &&
  "$PM" ingest "$DATA/peoples_square_roads.osm" --db "$DB" --as roads --source-layer lines --quiet
if [ $? -ne 0 ] || [ ! -f "$DB" ]; then
  echo "FAIL ingest of the Shanghai data"
  echo "e2e_query: 0 passed, 1 failed"
  exit 1
fi
sum_before=$(sha256sum "$DB" | cut -d' ' -f1)

# ---- help ----
for v in near within length reach route; do
  check "query $v --help" run "$TMP/o" "$TMP/e" query "$v" --help
done
check "sql --help" run "$TMP/o" "$TMP/e" sql --help
check "network --help" run "$TMP/o" "$TMP/e" network --help
check "network info --help" run "$TMP/o" "$TMP/e" network info --help

# ---- near ----
run "$TMP/near.txt" "$TMP/e" query near --db "$DB" --from metro_stations --to bus_stops --within 50
rc=$?
[ $rc -eq 0 ] && ok "near: exit 0" || bad "near: exit 0" "rc=$rc: $(cat "$TMP/e")"
summary=$(tail -n 1 "$TMP/near.txt")
if [[ $summary =~ ^([0-9]+)\ of\ 449\ features\ of\ metro_stations\ within\ 50\ m\ of\ bus_stops ]]; then
  ok "near: summary line"
  n_within=${BASH_REMATCH[1]}
else
  bad "near: summary line" "$summary"
  n_within=-1
fi
run "$TMP/near.json" "$TMP/e" query near --db "$DB" --from metro_stations --to bus_stops --within 50 --json
check "near --json is valid JSON" json_valid "$TMP/near.json"
n_rows=$(grep -c '"from_fid"' "$TMP/near.json")
[ "$n_rows" = 449 ] && ok "near --json: 449 rows" || bad "near --json: 449 rows" "got $n_rows"
n_true=$(grep -c '"within": true' "$TMP/near.json")
[ "$n_true" = "$n_within" ] && ok "near: summary counts the rows within" || bad "near: summary counts the rows within" "$n_true vs $n_within"
grep -q 'within 50 m' "$TMP/e" && ok "near --json: summary on stderr" || bad "near --json: summary on stderr"
run "$TMP/near.csv" "$TMP/e" query near --db "$DB" --from metro_stations --to bus_stops --within 50 --csv
[ "$(head -n 1 "$TMP/near.csv")" = $'from_fid,from_name,to_fid,to_name,distance_m,within\r' ] &&
  ok "near --csv: header with CRLF" || bad "near --csv: header with CRLF" "$(head -n 1 "$TMP/near.csv" | od -c | head -2)"
[ "$(wc -l <"$TMP/near.csv")" = 450 ] && ok "near --csv: 449 rows" || bad "near --csv: 449 rows"

# The nearest-neighbour answers equal the brute-force minimum over all pairs (first 60 stations).
"$PM" sql --db "$DB" --timeout 0 --csv "SELECT m.fid, printf('%.2f', MIN(ST_Distance(m.geom, b.geom))) FROM metro_stations m, bus_stops b WHERE m.fid <= 60 GROUP BY m.fid ORDER BY m.fid" 2>/dev/null |
  tr -d '\r' | tail -n +2 >"$TMP/brute.txt"
tr -d '\r' <"$TMP/near.csv" | tail -n +2 | awk -F, '$1 <= 60 { print $1 "," $(NF-1) }' >"$TMP/mine.txt"
if [ -s "$TMP/brute.txt" ] && diff -q "$TMP/brute.txt" "$TMP/mine.txt" >/dev/null; then
  ok "near: distances equal the brute-force minimum"
else
  bad "near: distances equal the brute-force minimum" "$(diff "$TMP/brute.txt" "$TMP/mine.txt" | head -5)"
fi
# Inclusive: with --within set to the largest nearest distance, every station is within.
max_d=$(tr -d '\r' <"$TMP/near.csv" | tail -n +2 | awk -F, '$(NF-1) > m { m = $(NF-1) } END { printf "%.3f", m + 0.005 }')
run "$TMP/o" "$TMP/e" query near --db "$DB" --from metro_stations --to bus_stops --within "$max_d"
grep -q '^449 of 449 ' <<<"$(tail -n 1 "$TMP/o")" && ok "near: all within the largest distance" || bad "near: all within the largest distance" "$(tail -n 1 "$TMP/o")"
# Filters on both sides.
run "$TMP/o" "$TMP/e" query near --db "$DB" --from metro_stations --where-from "adname = '青浦区'" --to bus_stops --where-to "adname = '青浦区'" --within 100 --json
n=$(grep -c '"from_fid"' "$TMP/o")
want=$(sql1 "SELECT count(*) FROM metro_stations WHERE adname = '青浦区'")
[ "$n" = "$want" ] && [ "$n" -gt 0 ] && ok "near --where-from: $n stations of 青浦区" || bad "near --where-from" "$n vs $want"

# --district and --misses: the Qingpu stations without a bus stop within 50 m, against SQL.
want_ids=$(sql1 "SELECT group_concat(fid, ' ') FROM (SELECT m.fid FROM metro_stations m, districts d WHERE d.NAME = '青浦区' AND ST_Covers(d.geom, m.geom) AND (SELECT MIN(ST_Distance(m.geom, b.geom)) FROM bus_stops b) > 50 ORDER BY m.fid)")
n_qp=$(sql1 "SELECT count(*) FROM metro_stations m, districts d WHERE d.NAME = '青浦区' AND ST_Covers(d.geom, m.geom)")
run "$TMP/o" "$TMP/e" query near --db "$DB" --from metro_stations --to bus_stops --within 50 \
  --district 青浦区 --misses --csv
rc=$?
got_ids=$(tr -d '\r' <"$TMP/o" | tail -n +2 | cut -d, -f1 | tr '\n' ' ' | sed 's/ $//')
[ $rc -eq 0 ] && [ -n "$want_ids" ] && [ "$got_ids" = "$want_ids" ] &&
  ok "near --district 青浦区 --misses: stations $got_ids (as SQL)" || bad "near --district --misses" "rc=$rc, got '$got_ids', want '$want_ids': $(cat "$TMP/e")"
n_miss=$(echo "$want_ids" | wc -w)
grep -q "^$n_miss of $n_qp features of metro_stations in 青浦区 have no feature of bus_stops within 50 m" "$TMP/e" &&
  ok "near --misses: summary counts the misses of the district" || bad "near --misses: summary" "$(cat "$TMP/e")"
grep -q ',true' "$TMP/o" && bad "near --misses: a station within is listed" || ok "near --misses: only misses listed"
run "$TMP/o" "$TMP/e" query near --db "$DB" --from metro_stations --to bus_stops --within 50 --district 青浦区
grep -q "^$((n_qp - n_miss)) of $n_qp features of metro_stations in 青浦区 within 50 m" <<<"$(tail -n 1 "$TMP/o")" &&
  ok "near --district: all $n_qp stations of 青浦区 measured" || bad "near --district" "$(tail -n 1 "$TMP/o")"
run "$TMP/o" "$TMP/e" query near --db "$DB" --from metro_stations --to bus_stops --within 50 \
  --district 青浦区 --districts districts --name-field NAME --json
check "near --districts --name-field: valid JSON" json_valid "$TMP/o"
[ "$(grep -c '"from_fid"' "$TMP/o")" = "$n_qp" ] && ok "near --districts LAYER --name-field F" || bad "near --districts LAYER --name-field F"
expect_error_q() { # like expect_error below
  run "$TMP/o" "$TMP/e" "${@:3}"; local rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$2" "$TMP/e"; then ok "$1"; else bad "$1" "rc=$rc: $(cat "$TMP/e")"; fi
}
# A project whose plan names its districts (Porto: layer freguesias, field name): the default.
"$PM" run "$PM_SOURCE_DIR/plans/porto-demo.yaml" --db "$TMP/porto.sqlite" --quiet >/dev/null 2>&1
run "$TMP/o" "$TMP/e" query near --db "$TMP/porto.sqlite" --from bus_stops --to stations --within 300 --district Sé
rc=$?
run "$TMP/o2" "$TMP/e" query near --db "$TMP/porto.sqlite" --from bus_stops --to stations --within 300 \
  --district Sé --districts freguesias --name-field name
[ $rc -eq 0 ] && grep -q ' of 25 features of bus_stops in Sé within 300 m' <<<"$(tail -n 1 "$TMP/o")" && cmp -s "$TMP/o" "$TMP/o2" &&
  ok "near --district: the plan's districts by default (Porto freguesias)" || bad "near --district: the plan's districts" "rc=$rc: $(tail -n 1 "$TMP/o")"
expect_error_q "near --district: unknown district lists the names" "青浦区" \
  query near --db "$DB" --from metro_stations --to bus_stops --within 50 --district 青浦
expect_error_q "near --districts without --district" "go with --district" \
  query near --db "$DB" --from metro_stations --to bus_stops --within 50 --districts districts
expect_error_q "near --district: unknown districts layer" "no layer 'zones'" \
  query near --db "$DB" --from metro_stations --to bus_stops --within 50 --district 青浦区 --districts zones

# ---- within ----
run "$TMP/w.txt" "$TMP/e" query within --db "$DB" --layer metro_stations --district 青浦区
rc=$?
n=$(($(wc -l <"$TMP/w.txt") - 3))
want=$(sql1 "SELECT count(*) FROM metro_stations m, districts d WHERE d.NAME = '青浦区' AND ST_Covers(d.geom, m.geom)")
[ $rc -eq 0 ] && [ "$n" = "$want" ] && [ "$n" -gt 0 ] && ok "within: $n stations in 青浦区 (as ST_Covers)" || bad "within: stations in 青浦区" "rc=$rc, $n vs $want"
# Alignment: every line of the table has the same display width (Chinese characters count 2).
widths=$(head -n -1 "$TMP/w.txt" | while IFS= read -r line; do printf '%s' "$line" | wc -L; done | sort -u | wc -l)
[ "$widths" = 1 ] && ok "within: table aligned with Chinese names" || bad "within: table aligned with Chinese names" "$(head -n 4 "$TMP/w.txt")"
run "$TMP/wr.json" "$TMP/e" query within --db "$DB" --layer roads --district 黄浦区 --json
check "within roads --json is valid JSON" json_valid "$TMP/wr.json"
n=$(grep -c '"fid"' "$TMP/wr.json")
bad_parts=$(grep -o '"length_inside_m": [0-9.]*, "length_m": [0-9.]*' "$TMP/wr.json" | awk -F'[:,]' '$2 > $4 + 0.01 || $2 <= 0 { c++ } END { print c + 0 }')
[ "$n" -gt 0 ] && [ "$bad_parts" = 0 ] && ok "within roads: $n roads, 0 < inside <= whole" || bad "within roads" "n=$n bad=$bad_parts"

# ---- length ----
run "$TMP/l.csv" "$TMP/e" query length --db "$DB" --layer roads --csv
mine=$(tr -d '\r' <"$TMP/l.csv" | sed -n 2p | cut -d, -f2)
want=$(sql1 "SELECT ST_Length(ST_Union(geom)) / 1000 FROM roads")
raw=$(sql1 "SELECT sum(ST_Length(geom)) / 1000 FROM roads")
same_num "$mine" "$want" 0.0015 && ok "length: dissolved $mine km (SpatiaLite: $want)" || bad "length: dissolved" "$mine vs $want"
awk -v a="$mine" -v b="$raw" 'BEGIN { exit !(a < b) }' && ok "length: overlaps counted once ($mine < $raw km)" || bad "length: overlaps counted once" "$mine vs $raw"
run "$TMP/ld.csv" "$TMP/e" query length --db "$DB" --layer roads --by-district --districts-layer districts --name-field NAME --csv
rows=$(tr -d '\r' <"$TMP/ld.csv" | tail -n +2)
[ "$(echo "$rows" | wc -l)" = 18 ] && ok "length --by-district: 17 districts + _all" || bad "length --by-district: rows" "$rows"
huangpu=$(echo "$rows" | awk -F, '$1 == "黄浦区" { print $2 }')
all=$(echo "$rows" | awk -F, '$1 == "_all" { print $2 }')
sumd=$(echo "$rows" | awk -F, '$1 != "_all" { s += $2 } END { print s }')
awk -v h="$huangpu" 'BEGIN { exit !(h > 0) }' && ok "length: roads in 黄浦区 ($huangpu km)" || bad "length: roads in 黄浦区" "$huangpu"
same_num "$sumd" "$all" 0.01 && ok "length: districts add up to _all" || bad "length: districts add up to _all" "$sumd vs $all"
run "$TMP/o" "$TMP/e" query length --db "$DB" --layer roads --where "highway = 'primary'"
primary=$(sed -n 3p "$TMP/o" | awk '{ print $2 }')
want=$(sql1 "SELECT ST_Length(ST_Union(geom)) / 1000 FROM roads WHERE highway = 'primary'")
same_num "$primary" "$want" 0.0015 && ok "length --where: $primary km of primary roads" || bad "length --where" "$primary vs $want"

# ---- errors: exit 2, and the message names what is wrong and what exists ----
expect_error() { # expect_error NAME PATTERN ARGS...
  local name=$1 pat=$2; shift 2
  run "$TMP/o" "$TMP/e" "$@"
  local rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$pat" "$TMP/e"; then ok "$name"; else bad "$name" "rc=$rc: $(cat "$TMP/e")"; fi
}
expect_error "error: unknown layer lists the layers" "bus_stops, districts, metro_stations, roads" \
  query near --db "$DB" --from metro --to bus_stops --within 50
expect_error "error: unknown field names it and the fields" "no such column: route.*fields are: name, address" \
  query near --db "$DB" --from metro_stations --to bus_stops --within 50 --where-to "route = '1'"
expect_error "error: unknown district lists the names" "青浦区, 浦东新区" \
  query within --db "$DB" --layer bus_stops --district 青浦
expect_error "error: unknown name field lists the fields" "NAMEX.*NAME, PYNAME" \
  query within --db "$DB" --layer bus_stops --district 青浦区 --name-field NAMEX
expect_error "error: length of polygons" "holds polygons" query length --db "$DB" --layer districts
expect_error "error: --within needs metres" "metres" \
  query near --db "$DB" --from metro_stations --to bus_stops --within fifty
expect_error "error: missing --to" "\-\-to" query near --db "$DB" --from metro_stations --within 50
expect_error "error: unknown verb" "unknown verb" query nearest --db "$DB"
expect_error "error: missing database" "no such project database" \
  query length --db "$TMP/none.sqlite" --layer roads
[ ! -e "$TMP/none.sqlite" ] && ok "error: missing database is not created" || bad "error: missing database is not created"

# ---- along the walking network (reach, route, network info) ----
# Shanghai: `roads` is the People's Square OSM extract; no run recorded, so the default network
# is the layer `roads` with the OSM walkable default.
run "$TMP/ni.json" "$TMP/e" network info --db "$DB" --json
rc=$?
[ $rc -eq 0 ] && ok "network info: default layer roads" || bad "network info: default layer roads" "rc=$rc: $(cat "$TMP/e")"
check "network info --json is valid JSON" json_valid "$TMP/ni.json"
ni() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["network"][sys.argv[2]])' "$TMP/ni.json" "$1"; }
[ "$(ni filter)" = "OSM walkable default" ] && ok "network info: OSM walkable default" || bad "network info: OSM walkable default" "$(ni filter)"
# the edges partition the selected lines: their length is the lines' length (SpatiaLite)
want=$(sql1 "SELECT sum(ST_Length(geom)) / 1000 FROM roads WHERE $(ni where)")
same_num "$(ni length_km)" "$want" 0.0015 && ok "network info: $(ni length_km) km, as ST_Length of the walkable roads" ||
  bad "network info: length" "$(ni length_km) vs $want"
n_trunk=$(sql1 "SELECT count(*) FROM roads WHERE highway IN ('trunk','trunk_link','motorway') AND ($(ni where))")
[ "$n_trunk" = 0 ] && ok "network info: no expressways walked" || bad "network info: expressways walked" "$n_trunk"
run "$TMP/o" "$TMP/e" network info --db "$DB" --where "" --json
want=$(sql1 "SELECT sum(ST_Length(geom)) / 1000 FROM roads")
got=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))["network"]; print(d["length_km"], d["filter"])' "$TMP/o")
same_num "${got% *}" "$want" 0.0015 && [ "${got#* }" = none ] && ok "network info --where \"\": every line" || bad "network info --where \"\"" "$got vs $want"
run "$TMP/o" "$TMP/e" network info --db "$DB"
grep -q "^roads (OSM walkable default): [0-9]* nodes" "$TMP/o" && grep -q "^piece  *nodes" "$TMP/o" &&
  ok "network info: summary, figures and pieces" || bad "network info: table" "$(head -5 "$TMP/o")"
# reach from the stations of the extract; route between two of them and from a lon,lat point
box="lon BETWEEN 121.4631 AND 121.4843 AND lat BETWEEN 31.2216 AND 31.2392"
run "$TMP/r.csv" "$TMP/e" query reach --db "$DB" --from metro_stations --where "$box" --within 400 --csv
rc=$?
n=$(($(wc -l <"$TMP/r.csv") - 1))
want=$(sql1 "SELECT count(*) FROM metro_stations WHERE $box")
[ $rc -eq 0 ] && [ "$n" = "$want" ] && [ "$n" -gt 2 ] && ok "reach: $n stations of the extract" || bad "reach: stations" "rc=$rc $n vs $want: $(cat "$TMP/e")"
[ "$(head -1 "$TMP/r.csv" | tr -d '\r')" = "from_fid,from_name,routable,snap_m,reached_km,reached_nodes,note" ] &&
  ok "reach --csv: columns" || bad "reach --csv: columns" "$(head -1 "$TMP/r.csv")"
ids=$(tr -d '\r' <"$TMP/r.csv" | awk -F, 'NR > 1 && $3 == "true" { print $1 }' | head -2 | tr '\n' ' ')
set -- $ids
run "$TMP/o" "$TMP/e" query route --db "$DB" --from "metro_stations:$1" --to "metro_stations:$2" --json
rc=$?
walk=$(python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))[0]; print(r["walk_m"], r["straight_m"], r["detour"])' "$TMP/o" 2>/dev/null)
set -- $walk
[ $rc -eq 0 ] && awk -v w="$1" -v s="$2" -v d="$3" 'BEGIN { exit !(w >= s && d >= 1) }' &&
  ok "route: walk $1 m >= straight line $2 m" || bad "route between two stations" "rc=$rc '$walk': $(cat "$TMP/e")"
sqlite_sum=$(sha256sum "$DB" | cut -d' ' -f1)
run "$TMP/o" "$TMP/e" query route --db "$DB" --from=121.4737,31.2304 --to=121.4790,31.2350 \
  --xy-crs EPSG:4326 --gpkg "$TMP/route.gpkg"
rc=$?
[ $rc -eq 0 ] && grep -q "^walk [0-9.]* m along roads" "$TMP/o" && grep -q "Wrote $TMP/route.gpkg: layer route (1)" "$TMP/e" &&
  ok "route --xy-crs EPSG:4326 --gpkg" || bad "route --xy-crs --gpkg" "rc=$rc: $(cat "$TMP/o" "$TMP/e")"
[ "$(ogrinfo -ro -q "$TMP/route.gpkg" -sql "SELECT count(*) AS n FROM route WHERE ST_Length(geom) > 0" 2>/dev/null | grep -o 'n (Integer) = [0-9]*')" = "n (Integer) = 1" ] &&
  ok "route: the walk as a line layer" || bad "route: the walk as a line layer"

# Porto (the demo plan ran above: its latest run walked `roads`, the default now)
PORTO=$TMP/porto.sqlite
porto_sum=$(sha256sum "$PORTO" | cut -d' ' -f1)
run "$TMP/p.csv" "$TMP/e" query reach --db "$PORTO" --from parks --within 500 --csv --gpkg "$TMP/parks.gpkg"
rc=$?
[ $rc -eq 0 ] && grep -q "walking network: layer roads, as the project's latest run walked it" "$TMP/e" &&
  ok "reach: the latest run's network by default" || bad "reach: the latest run's network" "rc=$rc: $(cat "$TMP/e")"
[ "$(($(wc -l <"$TMP/p.csv") - 1))" = 21 ] && ok "reach: 21 parks" || bad "reach: 21 parks"
layers=$(ogrinfo -ro -q "$TMP/parks.gpkg" 2>/dev/null | cut -d: -f2 | cut -d' ' -f2 | sort | tr '\n' ' ')
[ "$layers" = "layer_styles reach reached_network service_area " ] && ok "reach --gpkg: layers" || bad "reach --gpkg: layers" "$layers"
style=$(sqlite3 "$TMP/parks.gpkg" "SELECT substr(styleQML, instr(styleQML, '<renderer-v2'), 60) FROM layer_styles WHERE f_table_name = 'reached_network'")
case "$style" in *graduatedSymbol*distance_m*) ok "reach --gpkg: reached network graduated on distance_m" ;; *) bad "reach --gpkg: style" "$style" ;; esac
# the bands of each park add up to its reached length; a wider walk reaches no less
bands=$(sqlite3 "$TMP/parks.gpkg" "SELECT count(*) FROM reach r WHERE abs(r.reached_km * 1000 - (SELECT coalesce(sum(length_m), 0) FROM reached_network n WHERE n.from_fid = r.from_fid)) > 1")
[ "$bands" = 0 ] && ok "reach: bands add up to the reached length" || bad "reach: bands add up" "$bands parks differ"
run "$TMP/p3.csv" "$TMP/e" query reach --db "$PORTO" --from parks --within 300 --csv
less=$(paste -d, <(tr -d '\r' <"$TMP/p3.csv" | cut -d, -f5) <(tr -d '\r' <"$TMP/p.csv" | cut -d, -f5) | awk -F, 'NR > 1 && $1 > $2 + 1e-9 { c++ } END { print c + 0 }')
[ "$less" = 0 ] && ok "reach: 300 m reaches no more than 500 m" || bad "reach: monotone" "$less parks"
run "$TMP/o" "$TMP/e" query reach --db "$PORTO" --from bus_stops --within 0 --csv --network roads --max-snap 5
zero=$(tr -d '\r' <"$TMP/o" | awk -F, 'NR > 1 && $5 != 0 { c++ } END { print c + 0 }')
unr=$(tr -d '\r' <"$TMP/o" | awk -F, 'NR > 1 && $3 == "false" { c++ } END { print c + 0 }')
[ "$zero" = 0 ] && [ "$unr" -gt 0 ] && ok "reach --within 0 --max-snap 5: nothing reached, $unr stops unroutable" || bad "reach --within 0" "$zero $unr"
st=$("$PM" sql --db "$PORTO" --csv "SELECT fid FROM stations ORDER BY fid LIMIT 1" | sed -n 2p | tr -d '\r')
bs=$("$PM" sql --db "$PORTO" --csv "SELECT fid FROM bus_stops ORDER BY fid LIMIT 1" | sed -n 2p | tr -d '\r')
run "$TMP/o" "$TMP/e" query route --db "$PORTO" --from "stations:$st" --to "bus_stops:$bs"
[ $? -eq 0 ] && grep -q "^stations#$st " "$TMP/o" && ok "route: station to bus stop (Porto)" || bad "route (Porto)" "$(cat "$TMP/o" "$TMP/e")"
# London: the City's lines, under another name (no `roads`, no run)
LON=$TMP/london.sqlite
"$PM" ingest "$PM_SOURCE_DIR/data/london/london.osm.pbf" --db "$LON" --as lines --source-layer lines --quiet
"$PM" ingest "$PM_SOURCE_DIR/data/london/london.osm.pbf" --db "$LON" --as points --source-layer points --quiet
run "$TMP/o" "$TMP/e" network info --db "$LON" --layer lines --json
check "network info (London lines)" json_valid "$TMP/o"
v=$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); n = d["network"]; print(n["components"] - 1 == len(d["pieces"]), n["largest_share_pct"] > 90)' "$TMP/o")
[ "$v" = "True True" ] && ok "network info (London): pieces listed, the largest holds most" || bad "network info (London)" "$v"
run "$TMP/o2" "$TMP/e" network info --db "$LON" --layer lines --connect crossings --json
v=$(python3 -c 'import json, sys; a, b = (json.load(open(p))["network"] for p in sys.argv[1:]); print(b["connect"], b["components"] <= a["components"])' "$TMP/o" "$TMP/o2")
[ "$v" = "crossings True" ] && ok "network info --connect crossings: no more pieces" || bad "network info --connect crossings" "$v"
run "$TMP/o" "$TMP/e" query reach --db "$LON" --from points --where "highway = 'bus_stop'" --within 300 --network lines --json
[ $? -eq 0 ] && [ "$(grep -c '"from_fid"' "$TMP/o")" = 101 ] && ok "reach (London): 101 bus stops" || bad "reach (London)" "$(cat "$TMP/e")"
expect_error_q "network info: no roads layer, the default explained" "defaults to the layer \`roads\`" \
  network info --db "$LON"
# bad input: exit 2, the reason named, the databases untouched
expect_error_q "network: a point layer" "holds points" network info --db "$DB" --layer metro_stations
expect_error_q "network: a filter leaving no lines" "leaves no lines" \
  network info --db "$DB" --where "highway = 'nothing'"
expect_error_q "network: a filter naming a missing field" "no such column" \
  query reach --db "$DB" --from metro_stations --within 100 --network-where "kind = 'x'"
expect_error_q "network: connect misspelt" "is \`vertices\`" network info --db "$DB" --connect vertex
expect_error_q "network: negative max-snap" "\-\-max-snap takes a distance" \
  query reach --db "$DB" --from metro_stations --within 100 --max-snap -5
expect_error_q "network: absurd max-snap" "max_snap_m must be" \
  query reach --db "$DB" --from metro_stations --within 100 --max-snap 6000
expect_error_q "network: absurd access width" "access_width_m must be" \
  query reach --db "$DB" --from metro_stations --within 100 --access-width 900
expect_error_q "reach: absurd distance" "check the unit" \
  query reach --db "$DB" --from metro_stations --within 100000
expect_error_q "reach: negative distance" "metres >= 0" \
  query reach --db "$DB" --from metro_stations --within -10
expect_error_q "reach: unknown layer" "no layer 'stations'" \
  query reach --db "$DB" --from stations --within 100
expect_error_q "route: a place that is neither" "LAYER:FID" \
  query route --db "$DB" --from metro_stations --to metro_stations:1
expect_error_q "route: unknown fid" "no feature with fid 99999" \
  query route --db "$DB" --from metro_stations:1 --to metro_stations:99999
expect_error_q "route: --gpkg over the database" "would destroy it" \
  query route --db "$DB" --from metro_stations:1 --to metro_stations:2 --gpkg "$DB"
expect_error_q "route: unknown CRS" "xy-crs" \
  query route --db "$DB" --from=1,2 --to=3,4 --xy-crs EPSG:999999
expect_error_q "network: unknown verb" "unknown verb" network show --db "$DB"
[ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$sqlite_sum" ] && [ "$(sha256sum "$PORTO" | cut -d' ' -f1)" = "$porto_sum" ] &&
  ok "network queries leave the databases unchanged" || bad "network queries changed a database"

# ---- sql ----
[ "$(sql1 "SELECT count(*) FROM bus_stops")" = 10186 ] && ok "sql: 10186 bus stops" || bad "sql: count"
run "$TMP/o" "$TMP/e" sql --db "$DB" "SELECT name, geom FROM metro_stations WHERE fid = 1"
grep -q 'POINT(' "$TMP/o" && ok "sql: geometry printed as WKT" || bad "sql: geometry as WKT" "$(cat "$TMP/o")"
run "$TMP/o" "$TMP/e" sql --db "$DB" --json "SELECT NAME, ST_Area(geom) / 1e6 AS km2 FROM districts ORDER BY NAME"
check "sql --json is valid JSON" json_valid "$TMP/o"
[ "$(grep -c '"km2"' "$TMP/o")" = 17 ] && ok "sql --json: 17 districts" || bad "sql --json: 17 districts"
expect_error "sql: DELETE refused" "would change" sql --db "$DB" "DELETE FROM bus_stops"
expect_error "sql: DROP refused" "would change" sql --db "$DB" "DROP TABLE roads"
expect_error "sql: two statements refused" "one SQL statement" sql --db "$DB" "SELECT 1; DELETE FROM bus_stops"
expect_error "sql: unknown table lists the layers" "bus_stops, districts" sql --db "$DB" "SELECT * FROM busstops"
# SpatiaLite's functions that write are called from a SELECT: still refused, exit 2, no "0" answer
sum_before=$(sha256sum "$DB" | cut -d' ' -f1)
expect_error "sql: DropGeoTable refused" "tried to change the project database" \
  sql --db "$DB" "SELECT DropGeoTable('districts')"
grep -q '^ *0$' "$TMP/o" && bad "sql: DropGeoTable printed an answer" "$(cat "$TMP/o")" || ok "sql: no answer printed"
expect_error "sql: CreateSpatialIndex refused" "only reads" \
  sql --db "$DB" "SELECT CreateSpatialIndex('bus_stops', 'geom')"
expect_error "sql: UpdateLayerStatistics refused" "only reads" sql --db "$DB" --csv "SELECT UpdateLayerStatistics()"
expect_error "sql: a GEOS error is an error" "GEOS error.*TopologyException" sql --db "$DB" \
  "SELECT ST_Union(ST_GeomFromText('POLYGON((0 0,1 1,1 0,0 1,0 0))'), ST_GeomFromText('POINT(0 0)'))"
[ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$sum_before" ] && ok "sql: database unchanged" || bad "sql: database unchanged"
[ "$(sql1 "SELECT count(*) FROM bus_stops")" = 10186 ] && ok "sql: nothing deleted" || bad "sql: nothing deleted"
[ "$(sha256sum "$DB" | cut -d' ' -f1)" = "$sum_before" ] && ok "the project database is unchanged by queries" ||
  bad "the project database is unchanged by queries"

echo "e2e_query: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
