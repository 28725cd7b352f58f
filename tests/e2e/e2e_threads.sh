#!/usr/bin/env bash
# e2e_threads.sh: results do not depend on the number of threads. The Porto plan (every metric
# kind, real OSM data) run with 1, 2 and 3 threads gives byte-identical JSON and CSV reports
# (timestamps aside). Under ThreadSanitizer (scripts/test.sh --tsan) this is the threaded run.
. "$(dirname "$0")/lib.sh"
mkdir -p "$WORK/p/plans"
ln -s "$PM_SOURCE_DIR/data" "$WORK/p/data"
cp "$PM_SOURCE_DIR/plans/porto-demo.yaml" "$WORK/p/plans/porto.yaml"
for n in 1 2 3; do
  expect_exit 1 "run with $n thread(s)" "$PM" run "$WORK/p/plans/porto.yaml" --db "$WORK/t$n.sqlite" \
    --threads "$n" --json "$WORK/t$n.json" --csv "$WORK/t$n.csv" --quiet
  sed -i -E 's/"generated_at": "[^"]*"//' "$WORK/t$n.json"
done
for n in 2 3; do
  check "JSON with $n threads = with 1" cmp -s "$WORK/t1.json" "$WORK/t$n.json"
  check "CSV with $n threads = with 1" cmp -s "$WORK/t1.csv" "$WORK/t$n.csv"
done
finish
