#!/usr/bin/env bash
# demo-run.sh PLANMETRICS OUTDIR: the main job's runs, without installing or building (scripts/demo.sh
# calls it after building; the README check runs it on a fresh copy). Run from the repository
# root (plans/ and data/ relative to it).
set -euo pipefail
PM=${1:-build/planmetrics}
OUT=${2:-out}
mkdir -p "$OUT"
# Exit code 1 means "some target missed": the job itself succeeded.
run() {
  local rc=0
  "$PM" run "$@" || rc=$?
  [ "$rc" -le 1 ] || exit "$rc"
}
run plans/qingpu-2024-2026.yaml --db "$OUT/qingpu.sqlite" \
  --json "$OUT/qingpu.json" --csv "$OUT/qingpu.csv" --md "$OUT/qingpu.md"
"$PM" report --db "$OUT/qingpu.sqlite" --html "$OUT/qingpu.html"
echo
run plans/porto-demo.yaml --db "$OUT/porto.sqlite" --json "$OUT/porto.json" --md "$OUT/porto.md"
"$PM" report --db "$OUT/porto.sqlite" --html "$OUT/porto.html"
echo
echo "reports: $OUT/qingpu.json $OUT/qingpu.csv $OUT/qingpu.md $OUT/qingpu.html"
echo "         $OUT/porto.json $OUT/porto.md $OUT/porto.html (open the .html pages in a browser)"
