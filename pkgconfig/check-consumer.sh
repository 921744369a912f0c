#!/usr/bin/env bash
# Installs libqsim into a staging prefix, then builds an out-of-tree program
# against it with pkg-config and with CMake's pkg_check_modules, and runs
# both (optionally on a model given as $2).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:?usage: check-consumer.sh BUILD_DIR [MODEL.onnx]}
model=${2:-}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
meson setup "$stage/build" "$src" --prefix="$stage/prefix" --libdir=lib \
  -Dtests=disabled -Dexamples=disabled -Ddocs=disabled >/dev/null
ninja -C "$stage/build" install >/dev/null
export PKG_CONFIG_PATH="$stage/prefix/lib/pkgconfig"
export LD_LIBRARY_PATH="$stage/prefix/lib"
echo "pkg-config: $(pkg-config --cflags --libs libqsim)"
cc -std=c11 -Wall -Wextra -Wpedantic -Werror "$src/pkgconfig/consumer/consumer.c" \
  $(pkg-config --cflags --libs libqsim) -o "$stage/consumer-pc"
"$stage/consumer-pc" $model
cmake -S "$src/pkgconfig/consumer" -B "$stage/cmake" -DCMAKE_PREFIX_PATH="$stage/prefix" >/dev/null
cmake --build "$stage/cmake" >/dev/null
"$stage/cmake/consumer" $model
# the installed pkg-config file carries the private requirements
grep -q '^Requires.private:.*libprotobuf-c' "$stage/prefix/lib/pkgconfig/libqsim.pc"
grep -q '^Requires.private:.*jansson' "$stage/prefix/lib/pkgconfig/libqsim.pc"
echo "check-consumer: pkg-config and CMake consumers built and ran"
