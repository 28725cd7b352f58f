#!/usr/bin/env bash
# check_page.sh: load an HTML report in headless Chromium: no console errors, the script ran, the
# DOM holds the maps, and a screenshot shows coloured map features.
#
# usage: check_page.sh PAGE.html OUTDIR [MIN_MAPS]
# Writes OUTDIR/dom.html (the DOM after the script ran), OUTDIR/shot.png (1400x3000) and
# OUTDIR/console.log. Exit 0 when every check passes, 1 with a message per failed check, 77 when
# Chromium is not installed (apt-get install -y chromium).
set -uo pipefail
page=$(readlink -f "$1")
out=$2
min_maps=${3:-1}
here=$(dirname "$(readlink -f "$0")")
chrome=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$chrome" ]; then
  echo "check_page: SKIPPED (no chromium; apt-get install -y chromium)"
  exit 77
fi
mkdir -p "$out"
profile=$(mktemp -d /tmp/pm-chromium.XXXXXX)
trap 'rm -rf "$profile"' EXIT
# Everything that could reach the network is off: the page must not need it.
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
       --disable-background-networking --disable-component-update --disable-sync
       --hide-scrollbars --user-data-dir="$profile" --enable-logging=stderr --v=0)
fail=0
bad() { echo "check_page: FAIL: $*" >&2; fail=1; }

timeout 120 "$chrome" "${flags[@]}" --virtual-time-budget=3000 --dump-dom "file://$page" \
  >"$out/dom.html" 2>"$out/console.log" || bad "chromium --dump-dom failed (see $out/console.log)"
timeout 120 "$chrome" "${flags[@]}" --screenshot="$out/shot.png" --window-size=1400,3000 \
  "file://$page" >/dev/null 2>>"$out/console.log" || bad "chromium --screenshot failed"

# Console messages from the page are logged as CONSOLE lines; errors and failed loads are bugs.
if grep -E 'CONSOLE[:(]|Uncaught|ERR_(FILE|NAME|INTERNET|CONNECTION)' "$out/console.log" |
   grep -vi 'dbus' >"$out/console-page.log"; then
  [ -s "$out/console-page.log" ] && bad "console messages from the page: $(head -3 "$out/console-page.log")"
fi
grep -q 'data-pm-ready="1"' "$out/dom.html" || bad "the page's script did not run to its end"
maps=$(grep -oE '<svg class="map( [a-z]+)?"' "$out/dom.html" | wc -l)
[ "$maps" -ge "$min_maps" ] || bad "DOM has $maps maps, wanted at least $min_maps"
grep -q '<path' "$out/dom.html" || bad "DOM maps have no paths"
if [ -s "$out/shot.png" ]; then
  # Red (fails) and green (passes) map and chart colours must be visible in the first 3000 px.
  read -r size red green < <(python3 "$here/png_colors.py" "$out/shot.png" d73027 1a9850 |
                             awk 'NR==1{s=$1} NR==2{r=$2} NR==3{g=$2} END{print s, r, g}')
  [ "$size" = "1400x3000" ] || bad "screenshot is $size, wanted 1400x3000"
  [ "${red:-0}" -gt 200 ] || bad "screenshot shows almost no red (failing) features: $red"
  [ "${green:-0}" -gt 20 ] || bad "screenshot shows almost no green (passing) features: $green"
else
  bad "no screenshot written"
fi
[ $fail -eq 0 ] && echo "check_page: ok ($maps maps; screenshot $out/shot.png)"
exit $fail
