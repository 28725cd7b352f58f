#!/usr/bin/env bash
# make_corpus.sh: (re)make the seed corpus of the fuzz targets from the shipped data: small cuts
# of data/ and the shipped plans (the files in corpus/ were made by this script; run it from the
# repository root after changing it).
set -euo pipefail
cd "$(dirname "$0")/../.."
C=tests/fuzz/corpus
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
rm -f $C/*/*
cp plans/*.yaml $C/plan/
for f in metro_stations bus_stops; do
  head -n 12 data/shanghai/$f.csv >$C/ingest_csv/$f.csv
done
printf 'name,lon,lat\n"a, ""quoted""",121.47,31.23\nb,121.5,\nc,,31.2\n' >$C/ingest_csv/quotes.csv
ogr2ogr -f GeoJSON -lco COORDINATE_PRECISION=5 -simplify 0.005 -where "NAME IN ('黄浦区','静安区')" \
  $C/ingest_geojson/districts.geojson data/shanghai/districts.shp
ogr2ogr -f GeoJSON -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 \
  -sql "SELECT name, lon, lat FROM metro_stations LIMIT 10" $C/ingest_geojson/metro.geojson \
  data/shanghai/metro_stations.csv
ogr2ogr -f "ESRI Shapefile" -simplify 0.005 -where "NAME IN ('黄浦区','静安区')" \
  $T/districts.shp data/shanghai/districts.shp
ogr2ogr -f "ESRI Shapefile" -oo X_POSSIBLE_NAMES=lon -oo Y_POSSIBLE_NAMES=lat -a_srs EPSG:4326 \
  -sql "SELECT name, lon, lat FROM metro_stations LIMIT 10" $T/metro.shp \
  data/shanghai/metro_stations.csv
for s in districts metro; do python3 tests/fuzz/pack_shp.py $T/$s.shp $C/ingest_shp/$s.bin; done
ls -l $C/*
