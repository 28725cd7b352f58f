#!/usr/bin/env bash
# Install dependencies, build, and run the main job: the Qingpu 2024-2026 plan on the bundled
# Shanghai sample data, then the Porto demo plan (OpenStreetMap data on which every metric kind
# computes), writing reports and HTML pages with maps to out/ (scripts/demo-run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
exec scripts/demo-run.sh build/planmetrics out
