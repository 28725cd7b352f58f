#!/usr/bin/env bash
# Install dependencies, build, and run the whole test suite (unit + end-to-end).
# Usage: scripts/test.sh [--sanitize | --tsan]
#   --sanitize  the whole suite built with AddressSanitizer + UBSan (in build-asan/)
#   --tsan      the threaded tests (ctest label "threaded") built with ThreadSanitizer (build-tsan/)
set -euo pipefail
cd "$(dirname "$0")/.."
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
