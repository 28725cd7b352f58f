#!/usr/bin/env bash
# e2e_network.sh: the walking network on the Porto and London OSM extracts (data/), checked
# against an independent implementation: tests/network_check.py rebuilds the graph from the
# project layer through GDAL and runs networkx's Dijkstra from a super-source carrying the legs;
# every node distance, nearest source, point distance, snap and reached length must agree.
source "$(dirname "$0")/lib.sh"
: "${PM_NETWORK_DUMP:?PM_NETWORK_DUMP (tests/network_dump) must be set}"
PY=/usr/bin/python3 # Debian's, with python3-gdal, python3-numpy and python3-networkx
if ! "$PY" -c 'import networkx, numpy, osgeo' 2>/dev/null; then
  bad "python3-networkx, python3-numpy and python3-gdal are needed (scripts/install-deps.sh)"
  finish
  exit 1
fi
CHECK="$PM_SOURCE_DIR/tests/network_check.py"

# network CITY CONNECT CUTOFF SOURCES [--skip-graph]: dump the network of CITY's walkable lines
# and compare it
network() {
  local city=$1 connect=$2 cutoff=$3 sources=$4 skip=${5:-}
  local db="$WORK/$city.sqlite" out="$WORK/$city-$connect"
  mkdir -p "$out"
  expect_exit 0 "$city $connect: network_dump" "$PM_NETWORK_DUMP" --db "$db" --layer lines \
    --osm-walkable --connect "$connect" --cutoff "$cutoff" --sources "$sources" --out "$out"
  expect_exit 0 "$city $connect: networkx agrees" "$PY" "$CHECK" --db "$db" --layer lines \
    --dump "$out" $skip
  echo "$city ($connect, cutoff $cutoff m, $sources sources):"
  sed 's/^/  /' "$WORK/out"
  contains "$city $connect: summary" "$OUT" "all agree"
}

for city in porto london; do
  expect_exit 0 "ingest $city lines" "$PM" ingest "$PM_SOURCE_DIR/data/$city/$city.osm.pbf" \
    --db "$WORK/$city.sqlite" --as lines --source-layer lines --quiet
done
network porto vertices 800 60
network porto vertices 2500 5
network london vertices 600 40
network london crossings 600 40 --skip-graph

# the walkable filter keeps what §5 keeps: no motorway/trunk without foot=yes, no foot=no
n_bad=$("$PM" sql --db "$WORK/london.sqlite" --csv "SELECT count(*) FROM lines WHERE ($(
  "$PY" -c "import sys; print(open(sys.argv[1]).read())" "$WORK/london-vertices/where.txt")) AND (
  highway IN ('motorway','trunk','construction','proposed','platform') AND coalesce(foot,'') NOT IN ('yes','designated')
  OR foot = 'no' OR area = 'yes')" 2>/dev/null | sed -n 2p | tr -d '\r')
check "walkable filter excludes what §5 excludes (found ${n_bad:-?})" [ "${n_bad:-x}" = 0 ]
n_walk=$(grep '^edges ' "$WORK/london-vertices/info.txt" | cut -d' ' -f2)
check "london walkable network has edges (${n_walk:-?})" [ "${n_walk:-0}" -gt 1000 ]
finish
