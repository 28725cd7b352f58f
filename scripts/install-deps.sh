#!/usr/bin/env bash
# Install the Debian packages planmetrics needs to build, test and run (Debian 12 "bookworm").
# Usage: scripts/install-deps.sh [--qgis] [--browser] [--bench] [--fuzz]
#   --qgis     also the headless QGIS used by the export end-to-end test
#   --browser  also Chromium for the HTML report test
#   --bench    also the peers of the benchmarks (GeoPandas, PostGIS)
#   --fuzz     also clang and its libFuzzer/sanitizer runtimes (scripts/test.sh --fuzz)
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
packages=(build-essential cmake pkg-config git
          libgdal-dev gdal-bin libproj-dev proj-bin libgeos-dev
          libspatialite-dev libsqlite3-mod-spatialite sqlite3
          libyaml-dev libssl-dev libjson-c-dev liblz4-dev libcmocka-dev python3 tzdata
          # the independent references of tests/network_check.py and tests/network_indicators.py
          python3-gdal python3-numpy python3-networkx python3-shapely)
for arg in "$@"; do
  case "$arg" in
    --qgis) packages+=(python3-qgis fonts-noto-cjk) ;;
    --browser) packages+=(chromium fonts-noto-cjk) ;;
    --bench) packages+=(python3-geopandas python3-shapely python3-rtree python3-gdal postgresql postgis
                        postgresql-15-pgrouting hyperfine time) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev) ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
