#!/usr/bin/env bash
# Install dependencies, build, and run the main job: the Qingpu 2024-2026 plan on the bundled
# Shanghai sample data, then the Porto demo plan (OpenStreetMap data on which every metric kind
# computes), writing reports and HTML pages with maps to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
mkdir -p out
# Exit code 1 means "some target missed": the job itself succeeded.
run() {
  local rc=0
  build/planmetrics run "$@" || rc=$?
  [ "$rc" -le 1 ] || exit "$rc"
}
run plans/qingpu-2024-2026.yaml --db out/qingpu.sqlite \
  --json out/qingpu.json --csv out/qingpu.csv --md out/qingpu.md
build/planmetrics report --db out/qingpu.sqlite --html out/qingpu.html
echo
run plans/porto-demo.yaml --db out/porto.sqlite --json out/porto.json --md out/porto.md
build/planmetrics report --db out/porto.sqlite --html out/porto.html
echo
echo "reports: out/qingpu.json out/qingpu.csv out/qingpu.md out/qingpu.html"
echo "         out/porto.json out/porto.md out/porto.html (open the .html pages in a browser)"
