#!/usr/bin/env bash
# e2e_readme.sh: what README.md promises a newcomer runs as written. On a fresh copy of plans/ (and
# data/ beside it) the demo's runs (scripts/demo-run.sh, what scripts/demo.sh does after building)
# write out/, then every example between the readme-check markers runs in order, as the README
# shows it (continuation lines joined), and must succeed (a `run` may exit 1: a target missed).
. "$(dirname "$0")/lib.sh"
mkdir "$WORK/clone" && cd "$WORK/clone" || exit 2 # $WORK/out is lib.sh's
cp -r "$PM_SOURCE_DIR/plans" plans
ln -s "$PM_SOURCE_DIR/data" data
mkdir build && ln -s "$PM" build/planmetrics

expect_exit 0 "scripts/demo-run.sh" "$PM_SOURCE_DIR/scripts/demo-run.sh" build/planmetrics out
for f in qingpu.json qingpu.csv qingpu.md qingpu.html porto.json porto.md porto.html; do
  check "demo writes out/$f" test -s "out/$f"
done
contains "demo prints the Qingpu summary" "$OUT" "qingpu-2024-2026"
contains "demo prints the Porto summary" "$OUT" "porto-demo"

# The examples: indented lines between the markers; a line ending in \ continues on the next.
mapfile -t EXAMPLES < <(awk '
  /<!-- readme-check: begin -->/ { on = 1; next }
  /<!-- readme-check: end -->/ { on = 0 }
  on && /^    / {
    line = substr($0, 5)
    sub(/[ \t]+#.*$/, "", line)           # a trailing comment
    if (cmd != "") { sub(/^[ \t]+/, "", line); cmd = cmd " " line } else cmd = line
    if (cmd ~ /\\$/) { sub(/[ \t]*\\$/, "", cmd); next }
    print cmd; cmd = ""
  }' "$PM_SOURCE_DIR/README.md")
check "README has examples" test "${#EXAMPLES[@]}" -ge 8
for cmd in "${EXAMPLES[@]}"; do
  case "$cmd" in build/planmetrics\ *) ok ;; *) bad "README example does not start with build/planmetrics: $cmd" ;; esac
  bash -c "$cmd" >"$WORK/out.txt" 2>"$WORK/err.txt"
  rc=$?
  want="0"
  case "$cmd" in "build/planmetrics run "*) want="0 or 1" ;; esac
  if [ "$rc" -eq 0 ] || { [ "$rc" -eq 1 ] && [ "$want" = "0 or 1" ]; }; then ok; else
    bad "README example exits $rc (wanted $want): $cmd; stderr: $(head -c 600 "$WORK/err.txt")"
  fi
  check "README example prints or writes something: $cmd" test -s "$WORK/out.txt" -o -s "$WORK/err.txt"
done
# What the examples claim to write is there and usable.
check "export wrote the GeoPackage" test -s out/porto.gpkg
check "export wrote the QGIS project" test -s out/porto.qgz
check "run --md wrote the district report" grep -q "Sé" out/se.md
check "city project holds the districts" test "$("$PM" sql --db out/city.sqlite "SELECT count(*) FROM districts" --csv 2>/dev/null | tail -1 | tr -d "\r")" -gt 0
check "the repository's plans are untouched" diff -r "$PM_SOURCE_DIR/plans" plans
finish
