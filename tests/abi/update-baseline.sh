#!/usr/bin/env bash
# Regenerates the committed ABI baseline from a -g build. Run it in the same
# commit that adds API (and a new map node once 1.0 has shipped).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$src/build-abi}
[ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=debugoptimized -Dtests=disabled -Dexamples=disabled >/dev/null
ninja -C "$build" >/dev/null
abidw --no-corpus-path --headers-dir "$src/include/qsim" --header-file "$build/include/qsim/qsim_version.h" \
  --drop-undefined-syms "$build/lib/libqsim.so.1" > "$src/tests/abi/libqsim-1.abi"
echo "wrote tests/abi/libqsim-1.abi"
