#!/usr/bin/env bash
# e2e_install.sh: an installed planmetrics works: `cmake --install` into a temporary prefix, then
# the installed command runs (found its library without LD_LIBRARY_PATH, also after the prefix
# is moved), ingests a real file, and a small program compiles and links against the installed
# headers and library through pkg-config.
. "$(dirname "$0")/lib.sh"
: "${PM_BUILD_DIR:?PM_BUILD_DIR (the build directory) must be set}"
unset LD_LIBRARY_PATH
P=$WORK/prefix
expect_exit 0 "cmake --install into a temporary prefix" cmake --install "$PM_BUILD_DIR" --prefix "$P"
BIN=$P/bin/planmetrics
check "binary installed" test -x "$BIN"

expect_exit 0 "installed binary runs (--version)" "$BIN" --version
contains "version printed" "$OUT" "planmetrics "
check "it uses the installed library, not the build's" \
  linked_with "$BIN" "libplanmetrics\.so.* => $P/"
expect_exit 0 "installed binary ingests" "$BIN" ingest "$DATA/shanghai/districts.shp" \
  --db "$WORK/installed.sqlite" --as districts --quiet
expect_exit 0 "installed binary queries" "$BIN" sql --db "$WORK/installed.sqlite" --csv \
  "SELECT count(*) AS n FROM districts"
contains "17 districts" "$OUT" "17"

# The prefix can be moved: the binary finds its library relative to itself ($ORIGIN).
mv "$P" "$WORK/moved"
P=$WORK/moved
BIN=$P/bin/planmetrics
expect_exit 0 "moved prefix: binary runs" "$BIN" --version

# A program built against the installed headers and library, found by pkg-config.
PC=$(dirname "$(find "$P" -name planmetrics.pc | head -1)")
check "planmetrics.pc installed" test -f "$PC/planmetrics.pc"
export PKG_CONFIG_PATH=$PC${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}
expect_exit 0 "pkg-config finds planmetrics" pkg-config --cflags --libs planmetrics
contains "pkg-config points into the prefix" "$OUT" "-I$P/"
cat >"$WORK/prog.c" <<'C'
#include <stdio.h>
#include <planmetrics/planmetrics.h>

int main(int argc, char **argv) {
  pm_context *ctx = NULL;
  pm_store *store = NULL;
  if (argc != 2 || pm_context_create(&ctx) != PM_OK) return 2;
  pm_status st = pm_store_open(ctx, argv[1], PM_STORE_CREATE, &store, NULL);
  if (!st) st = pm_store_set_crs(store, 32651);
  if (st) fprintf(stderr, "%s\n", pm_context_message(ctx));
  pm_store_close(store);
  pm_context_destroy(ctx);
  printf("libplanmetrics %s: %s\n", PLANMETRICS_VERSION, st ? pm_status_name(st) : "ok");
  return st ? 1 : 0;
}
C
# A sanitizer build's library needs the sanitizer runtime in the program too.
SAN=
if linked_with "$(pkg-config --variable=libdir planmetrics)/libplanmetrics.so" libasan; then
  SAN=-fsanitize=address,undefined
fi
# shellcheck disable=SC2046,SC2086
expect_exit 0 "a program compiles against the installed headers" \
  cc -std=c11 -Wall -Wextra -Werror $SAN -o "$WORK/prog" "$WORK/prog.c" \
  $(pkg-config --cflags --libs planmetrics) "-Wl,-rpath,$(pkg-config --variable=libdir planmetrics)"
expect_exit 0 "the program runs with the installed library" "$WORK/prog" "$WORK/prog.sqlite"
contains "the program opened a project" "$OUT" "libplanmetrics $("$BIN" --version | cut -d' ' -f2): ok"
finish
