#!/usr/bin/env bash
# e2e_network_indicators.sh: every value and gap of the walking-network indicators, and the network
# queries, on the Porto and London extracts, against an independent implementation
# (tests/network_indicators.py: GDAL reads the project layers, the graph is built again in Python,
# points are snapped by brute force, networkx runs Dijkstra from a super-source carrying the legs):
# transfer_coverage (basis station, with and without entrances), coverage with point population,
# with polygon land by area and with the districts' land; `network info`, `query reach` and
# `query route`. Also the shipped plans with network twins (porto-demo, shanghai-peoples-square).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, with python3-gdal, python3-numpy and python3-networkx
if ! "$PY" -c 'import networkx, numpy, osgeo' 2>/dev/null; then
  bad "python3-networkx, python3-numpy and python3-gdal are needed (scripts/install-deps.sh)"
  finish
  exit 1
fi
CHECK="$PM_SOURCE_DIR/tests/network_indicators.py"

# plan CITY STATIONS_FILTER: a plan without districts measuring everything along the network
plan() {
  local city=$1 stations=$2 pbf=$DATA/$1/$1.osm.pbf
  cat >"$WORK/$city.yaml" <<YAML
plan: e2e-network-$city
title: walking-network indicators on the $city extract
crs: auto
layers:
  stations: {path: $pbf, source_layer: points, where: "$stations"}
  entrances: {path: $pbf, source_layer: points, where: "railway = 'subway_entrance'"}
  bus_stops: {path: $pbf, source_layer: points, where: "highway = 'bus_stop'"}
  roads: {path: $pbf, source_layer: lines, where: "highway IS NOT NULL"}
  parks: {path: $pbf, source_layer: multipolygons, where: "leisure = 'park'"}
  pois: {path: $pbf, source_layer: points, where: "amenity IS NOT NULL OR shop IS NOT NULL"}
  buildings: {path: $pbf, source_layer: multipolygons, where: "building IS NOT NULL"}
network: {layer: roads}
indicators:
  - {id: transfer_entrances_walk, metric: transfer_coverage, from: stations, to: bus_stops,
     entrances: entrances, threshold_m: 100, distance: network}
  - {id: transfer_points_walk, metric: transfer_coverage, from: stations, to: bus_stops,
     threshold_m: 100, distance: network}
  - {id: parks_pois_walk, metric: coverage, sources: parks, population: pois, distance: network}
  - {id: parks_buildings_walk, metric: coverage, sources: parks, population: buildings,
     distance: network}
YAML
}

# verify NAME PLAN: run the plan, then recompute every network indicator of the run
verify() {
  local name=$1 plan=$2 db="$WORK/$1.sqlite"
  "$PM" run "$plan" --db "$db" --json "$WORK/$name.json" --quiet >/dev/null 2>"$WORK/err"
  local rc=$?
  check "$name: plan runs (exit $rc)" test "$rc" -le 1
  expect_exit 0 "$name: the reference agrees" "$PY" "$CHECK" --db "$db" --run "$WORK/$name.json"
  echo "$name:"
  sed 's/^/  /' <<<"$OUT"
  contains "$name: summary" "$OUT" "all agree"
}

plan porto "railway IN ('station','halt') AND station = 'light_rail'"
plan london "railway IN ('station','halt')"
verify porto "$WORK/porto.yaml"
verify london "$WORK/london.yaml"
verify porto-demo "$PM_SOURCE_DIR/plans/porto-demo.yaml"
verify shanghai-peoples-square "$PM_SOURCE_DIR/plans/shanghai-peoples-square.yaml"

# the queries: network info, reach from every feature, routes between pairs
queries() {
  local name=$1 layer=$2 within=$3
  expect_exit 0 "$name: queries agree" "$PY" "$CHECK" --db "$WORK/$name.sqlite" --pm "$PM" \
    --queries "$layer" --network roads --within "$within" --pairs 12
  echo "$name queries ($layer):"
  sed 's/^/  /' <<<"$OUT"
  contains "$name: queries summary" "$OUT" "all agree"
}
queries porto parks 400
queries london bus_stops 300
finish
