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
for v in near within length; do
  check "query $v --help" run "$TMP/o" "$TMP/e" query "$v" --help
done
check "sql --help" run "$TMP/o" "$TMP/e" sql --help

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
tail -n 1 "$TMP/o" | grep -q '^449 of 449 ' && ok "near: all within the largest distance" || bad "near: all within the largest distance" "$(tail -n 1 "$TMP/o")"
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
tail -n 1 "$TMP/o" | grep -q "^$((n_qp - n_miss)) of $n_qp features of metro_stations in 青浦区 within 50 m" &&
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
[ $rc -eq 0 ] && tail -n 1 "$TMP/o" | grep -q ' of 25 features of bus_stops in Sé within 300 m' && cmp -s "$TMP/o" "$TMP/o2" &&
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
