#!/usr/bin/env bash
# tests_listed.sh TESTS_DIR: every unit test source and e2e script in TESTS_DIR is registered in its
# CMakeLists.txt (the list is explicit, so a new file left out of it would silently never run).
set -euo pipefail
dir=$1
missing=0
for f in "$dir"/test_*.c; do
  name=$(basename "$f" .c)
  grep -Eq "^pm_unit_test\($name( |\))" "$dir/CMakeLists.txt" || { echo "$f is not listed: add pm_unit_test($name <labels>)"; missing=1; }
done
for f in "$dir"/e2e/e2e_*.sh; do
  name=$(basename "$f" .sh)
  grep -Eq "^pm_e2e_test\($name( |\))" "$dir/CMakeLists.txt" || { echo "$f is not listed: add pm_e2e_test($name)"; missing=1; }
done
exit $missing
