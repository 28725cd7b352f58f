#!/usr/bin/env bash
# e2e_network_indicators.sh: every value and gap of the walking-network indicators, the life circle,
# slow-traffic continuity and the network queries, on the Porto and London extracts, against an
# independent implementation (tests/network_indicators.py: GDAL reads the project layers, the graph
# is built again in Python, points are snapped by brute force, networkx runs Dijkstra from a
# super-source carrying the legs; the continuity's pieces come from shapely):
# transfer_coverage (basis station, with and without entrances), coverage with point population,
# with polygon land by area and with the districts' land; life_circle walked and straight, by area,
# weighted and by count, `require: all` and k of n; connectivity joined at vertices and at
# crossings, with and without districts; `network info`, `query reach` and `query route`. Also the
# shipped plans with network twins, a life circle and continuity (porto-demo,
# shanghai-peoples-square; the district plans' life circles have no data in the samples).
source "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3 # Debian's, with python3-gdal, python3-numpy, python3-networkx, python3-shapely
if ! "$PY" -c 'import networkx, numpy, osgeo, shapely' 2>/dev/null; then
  bad "python3-networkx, python3-numpy, python3-gdal and python3-shapely are needed" \
    "(scripts/install-deps.sh)"
  finish
  exit 1
fi
CHECK="$PM_SOURCE_DIR/tests/network_indicators.py"

# layers PBF STATIONS_FILTER: the layers of the plans below
layers() {
  local pbf=$1 stations=$2
  cat <<YAML
layers:
  stations: {path: $pbf, source_layer: points, where: "$stations"}
  entrances: {path: $pbf, source_layer: points, where: "railway = 'subway_entrance'"}
  bus_stops: {path: $pbf, source_layer: points, where: "highway = 'bus_stop'"}
  roads: {path: $pbf, source_layer: lines, where: "highway IS NOT NULL"}
  parks: {path: $pbf, source_layer: multipolygons, where: "leisure = 'park'"}
  pois: {path: $pbf, source_layer: points, where: "amenity IS NOT NULL OR shop IS NOT NULL"}
  buildings: {path: $pbf, source_layer: multipolygons, where: "building IS NOT NULL"}
  poi_areas: {path: $pbf, source_layer: multipolygons,
              where: "amenity IS NOT NULL OR shop IS NOT NULL"}
YAML
}

# life_circle and connectivity: types with their own distances, a type drawn from points and
# areas, `where` filters on homes and facilities
lc_indicators() {
  local homes="building IN ('residential', 'apartments', 'house', 'terrace', 'detached')"
  local school="amenity IN ('school', 'kindergarten')"
  local health="amenity IN ('clinic', 'doctors', 'hospital', 'pharmacy')"
  local market="shop IN ('supermarket', 'convenience', 'greengrocer') OR amenity = 'marketplace'"
  cat <<YAML
  - id: life_circle_walk
    metric: life_circle
    homes: buildings
    homes_where: "$homes"
    facilities: &types
      - {name: school, layer: pois, where: "$school", within_m: 500}
      - {name: school, layer: poi_areas, where: "$school", within_m: 500}
      - {name: health, layer: pois, where: "$health", within_m: 800}
      - {name: health, layer: poi_areas, where: "$health", within_m: 800}
      - {name: market, layer: pois, where: "$market", within_m: 300}
      - {name: market, layer: poi_areas, where: "$market", within_m: 300}
      - {name: park, layer: parks, within_m: 300}
      - {name: bus stop, layer: bus_stops, within_m: 200}
    require: all
  - {id: life_circle_straight, metric: life_circle, homes: buildings, homes_where: "$homes",
     facilities: *types, require: all, distance: euclidean}
  # weighted homes: any number does; osm_way_id is empty for relations (weight 0, never a gap)
  - {id: life_circle_weighted_walk, metric: life_circle, homes: buildings, homes_where: "$homes",
     weight_field: osm_way_id, facilities: *types, require: 3}
  # point homes (1 each), 2 of 4 types
  - id: life_circle_2of4_walk
    metric: life_circle
    homes: pois
    homes_where: "amenity IN ('cafe', 'restaurant', 'bar', 'fast_food')"
    facilities:
      - {name: school, layer: poi_areas, where: "$school", within_m: 400}
      - {name: health, layer: pois, where: "$health", within_m: 250}
      - {name: park, layer: parks, within_m: 500}
      - {name: bus stop, layer: bus_stops, within_m: 150}
    require: 2
  - {id: slow_lanes_continuity, metric: connectivity,
     layer: {layer: roads, where: "highway IN ('cycleway', 'footway')"}}
  - {id: slow_paths_crossings, metric: connectivity, connect: crossings,
     layer: {layer: roads,
             where: "highway IN ('cycleway', 'footway', 'path', 'pedestrian', 'steps')"}}
YAML
}

# plan CITY STATIONS_FILTER: a plan without districts measuring everything along the network
plan() {
  local city=$1 stations=$2 pbf=$DATA/$1/$1.osm.pbf
  {
    cat <<YAML
plan: e2e-network-$city
title: walking-network indicators on the $city extract
crs: auto
YAML
    layers "$pbf" "$stations"
    cat <<YAML
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
    lc_indicators
  } >"$WORK/$city.yaml"
}

# verify NAME PLAN [DB]: run the plan, then recompute every indicator of the run it can
verify() {
  local name=$1 plan=$2 db=${3:-$WORK/$1.sqlite}
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

# the life circle and continuity per district: Porto's four historic-centre freguesias, on a copy
# of the Porto project (its layers are ingested already)
pbf=$DATA/porto/porto.osm.pbf
{
  cat <<YAML
plan: e2e-network-porto-districts
title: life circle and continuity per freguesia
crs: auto
districts: {layer: freguesias, name_field: name}
YAML
  layers "$pbf" "railway IN ('station','halt') AND station = 'light_rail'"
  cat <<YAML
  freguesias: {path: $pbf, source_layer: multipolygons,
               where: "boundary = 'administrative' AND admin_level = '9'"}
network: {layer: roads}
indicators:
YAML
  lc_indicators
} >"$WORK/porto-districts.yaml"
cp "$WORK/porto.sqlite" "$WORK/porto-districts.sqlite"
verify porto-districts "$WORK/porto-districts.yaml"
contains "porto-districts: per freguesia" "$OUT" "Miragaia"

verify porto-demo "$PM_SOURCE_DIR/plans/porto-demo.yaml"
contains "porto-demo: its life circle is checked" "$OUT" "life_circle_15min:"
contains "porto-demo: its continuity is checked" "$OUT" \
  "slow_network_continuity (connect vertices):"
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
