#!/usr/bin/env bash
# api_exports.sh LIB HEADER_DIR: the shared library exports exactly the functions that the public
# headers declare with PM_API (the library is built with hidden visibility).
set -euo pipefail
lib=$1; inc=$2
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ {print $3}' | sort)
declared=$(sed -n 's/^PM_API[^(]*\b\(pm_[A-Za-z0-9_]*\)(.*/\1/p' "$inc"/*.h | sort)
unmarked=$(grep -hE '^[A-Za-z].*\bpm_[A-Za-z0-9_]+\(' "$inc"/*.h | grep -vE '^(PM_API|typedef|#)' || true)
if [ -n "$unmarked" ]; then echo "public declarations without PM_API:"; echo "$unmarked"; exit 1; fi
extra=$(comm -23 <(echo "$exported") <(echo "$declared"))
missing=$(comm -13 <(echo "$exported") <(echo "$declared"))
if [ -n "$extra" ]; then echo "exported but not declared with PM_API in $inc:"; echo "$extra"; fi
if [ -n "$missing" ]; then echo "declared with PM_API but not exported (not implemented?):"; echo "$missing"; fi
[ -z "$extra" ] && [ -z "$missing" ] || exit 1
echo "$(echo "$exported" | wc -l) functions exported, all declared in $inc"
