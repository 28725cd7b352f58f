# lib.sh: shared helpers for the end-to-end tests (sourced). Counts checks and prints the closing
# line "NAME: N passed, M failed" that CTest logs show; the script exits non-zero on any failure.
set -uo pipefail
: "${PM:?PM (the planmetrics CLI) must be set}"
: "${PM_SOURCE_DIR:?PM_SOURCE_DIR must be set}"
# The repository carries every file the tests read: data/ (real sample data, also used by the
# demo and the plans) and tests/data/ (test-only files); nothing outside the repository.
DATA=$PM_SOURCE_DIR/data
TEST_DATA=$PM_SOURCE_DIR/tests/data
E2E_NAME=${E2E_NAME:-$(basename "$0" .sh)}
PASS=0
FAIL=0
WORK=$(mktemp -d /tmp/pm-e2e.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

ok() { PASS=$((PASS + 1)); }
bad() { FAIL=$((FAIL + 1)); echo "FAIL: $*" >&2; }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then ok; else bad "$what"; fi
}
# expect_exit CODE DESCRIPTION COMMAND...: run, compare the exit code, keep output in $OUT/$ERR
expect_exit() {
  local want=$1 what=$2; shift 2
  "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  OUT=$(cat "$WORK/out"); ERR=$(cat "$WORK/err")
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, wanted $want; stderr: $ERR"; fi
}
contains() { # contains DESCRIPTION HAYSTACK NEEDLE
  case "$2" in *"$3"*) ok ;; *) bad "$1: '$3' not in: $2" ;; esac
}
# linked_with FILE PATTERN: FILE (a program or library) loads a library matching PATTERN. The
# list is read whole first: under pipefail, `ldd F | grep -q P` fails at random when grep exits
# at its first match while ldd still writes (SIGPIPE), which is why no test pipes into grep -q.
linked_with() {
  local deps
  deps=$(ldd "$1" 2>/dev/null) || return 1
  grep -q -- "$2" <<<"$deps"
}
finish() {
  echo "$E2E_NAME: $PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}
