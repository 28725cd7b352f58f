#!/usr/bin/env bash
# Install dependencies, build, and run the whole test suite (unit + end-to-end).
# Usage: scripts/test.sh [--sanitize | --tsan | --fuzz]
#   --sanitize  the whole suite built with AddressSanitizer + UBSan (in build-asan/)
#   --tsan      the threaded tests (ctest label "threaded") built with ThreadSanitizer (build-tsan/)
#   --fuzz      the fuzz targets (tests/fuzz/) built with clang, libFuzzer, ASan and UBSan
#               (build-fuzz/): their regression inputs, then each fuzzed for PM_FUZZ_SECONDS
#               (default 60) from its seed corpus; a crash fails the run and is kept in
#               build-fuzz/fuzz-crashes/ (add it to tests/fuzz/regressions/TARGET/ with its fix)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fuzz" ]; then
  scripts/install-deps.sh --fuzz
  build=build-fuzz
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
  cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPM_FUZZ=ON
  targets=(plan ingest_csv ingest_geojson ingest_shp)
  cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
  ctest --test-dir "$build" --output-on-failure -R '^fuzz_'
  rm -rf "$build/fuzz-crashes"
  mkdir -p "$build/fuzz-crashes"
  for t in "${targets[@]}"; do
    corpus=$build/fuzz-corpus/$t  # grows from run to run; the seeds are in the repository
    mkdir -p "$corpus"
    echo "fuzzing $t for ${PM_FUZZ_SECONDS:-60} s"
    if ! "$build/tests/fuzz/fuzz_$t" -max_total_time="${PM_FUZZ_SECONDS:-60}" -max_len=16384 \
         -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$build/fuzz-crashes/$t-" \
         "$corpus" "tests/fuzz/corpus/$t" >"$build/fuzz-$t.log" 2>&1; then
      tail -50 "$build/fuzz-$t.log"
      echo "fuzz_$t found a crash: $(ls "$build/fuzz-crashes/")" >&2
      echo "keep it in tests/fuzz/regressions/$t/ with its fix" >&2
      exit 1
    fi
    grep -E '^stat::number_of_executed_units|^Done' "$build/fuzz-$t.log" || true
  done
  exit 0
fi
scripts/install-deps.sh --qgis --browser
build=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
if [ "${1:-}" = "--sanitize" ]; then
  build=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DPM_SANITIZE=ON)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp:print_suppressions=0
fi
only=()
if [ "${1:-}" = "--tsan" ]; then
  build=build-tsan; flags=(-DCMAKE_BUILD_TYPE=Debug -DPM_TSAN=ON)
  export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/tsan.supp"
  only=(-L threaded)
fi
cmake -S . -B "$build" "${flags[@]}"
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "${only[@]}"
