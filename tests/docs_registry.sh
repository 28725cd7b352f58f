#!/usr/bin/env bash
# docs_registry.sh PLANMETRICS DOC [--update]: the generated section of docs/metrics.md (between
# the registry markers) equals `planmetrics metrics --markdown`. --update rewrites it.
set -euo pipefail
pm=$1; doc=$2
gen=$("$pm" metrics --markdown)
cur=$(sed -n '/<!-- registry:begin -->/,/<!-- registry:end -->/p' "$doc" | sed '1d;$d')
if [ "${3:-}" = "--update" ]; then
  tmp=$(mktemp)
  awk -v gen="$gen" '/<!-- registry:begin -->/ {print; print gen; skip=1; next}
                     /<!-- registry:end -->/ {skip=0} !skip' "$doc" > "$tmp"
  mv "$tmp" "$doc"
  exit 0
fi
if [ "$gen" != "$cur" ]; then
  echo "$doc: the parameter reference differs from the registry; run"
  echo "  tests/docs_registry.sh $pm $doc --update"
  diff <(echo "$cur") <(echo "$gen") || true
  exit 1
fi
echo "docs/metrics.md matches the registry"
