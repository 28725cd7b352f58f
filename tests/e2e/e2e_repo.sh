#!/usr/bin/env bash
# e2e_repo.sh: the repository stands alone: no test, script, CMake file, plan or compiled path
# reads anything beside the checkout (such as a reference folder next to it), every data file a plan or test
# names lies inside the repository, and the data files are the ones their READMEs' checksums list.
. "$(dirname "$0")/lib.sh"
cd "$PM_SOURCE_DIR" || exit 1
ROOT=$(pwd -P)

# 1. Nothing names a folder outside the checkout. The build files, tests, scripts, plans and
# sources are searched; prose in READMEs and docs may mention other projects, so it is not.
# (the pattern is assembled, so that this file does not name such a folder itself)
outside="shar""ed"
hits=$(grep -rnE "\\.\\./$outside|/work/$outside|PM_${outside^^}_DATA" CMakeLists.txt planmetrics.pc.in \
  .ci scripts tests bench plans cli engine include layers queries report runner store \
  --include='*.c' --include='*.h' --include='*.in' --include='*.txt' --include='*.sh' \
  --include='*.py' --include='*.yaml' --include='run' --include='gen' --include='*.supp' \
  2>/dev/null)
check "no path outside the repository is named${hits:+: $hits}" test -z "$hits"

# 2. Every `path:` of a shipped plan (plans/, bench/plans/) resolves inside the repository.
for plan in plans/*.yaml bench/plans/*.yaml; do
  dir=$(dirname "$plan")
  while IFS= read -r line; do
    p=$(printf '%s\n' "$line" | sed -nE 's/.*path: *"?([^",}]+)"?.*/\1/p' | sed 's/ *$//')
    [ -n "$p" ] || continue
    case "$p" in /*) abs=$p ;; *) abs=$dir/$p ;; esac
    resolved=$(realpath -m "$abs")
    case "$resolved" in
      "$ROOT"/*) ok ;;
      *) bad "$plan: path $p is outside the repository ($resolved)" ;;
    esac
  done < <(grep -nE 'path:' "$plan")
done

# 3. The data files are those the READMEs list (byte for byte, as received).
for readme in data/README.md tests/data/README.md; do
  d=$(dirname "$readme")
  sums=$(sed -n '/^## Checksums/,$p' "$readme" | grep -E '^[0-9a-f]{64}  ')
  check "$readme lists checksums" test -n "$sums"
  out=$(cd "$d" && printf '%s\n' "$sums" | sha256sum -c 2>&1)
  check "$readme checksums match: $out" test $? -eq 0
done
# ... and every file of data/ and tests/data/ is listed (or is a README/licence).
for d in data tests/data; do
  while IFS= read -r f; do
    rel=${f#"$d"/}
    case "$rel" in README.md | LICENSE_*) continue ;; esac
    check "$d/$rel has a checksum in $d/README.md" grep -qE "^[0-9a-f]{64}  $rel\$" "$d/README.md"
  done < <(find "$d" -type f | sort)
done

# 4. No script pipes into `grep -q`: under pipefail (every test, via lib.sh, and the scripts),
# grep leaving at its first match kills the writer with SIGPIPE and the check fails at random
# on a busy machine (it did in CI: `ldd LIB | grep -q libasan`). Read the output whole first
# (`grep -q P <<<"$(cmd)"`, or linked_with in lib.sh).
piped=$(grep -rnE '\|[[:space:]]*grep[[:space:]]+-[a-zA-Z]*q' tests scripts .ci bench \
  --include='*.sh' --include='run' --include='gen' 2>/dev/null | grep -vE '^[^:]+:[0-9]+:[[:space:]]*#')
check "no pipe into grep -q${piped:+: $piped}" test -z "$piped"
finish
