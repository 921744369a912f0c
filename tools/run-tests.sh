#!/usr/bin/env bash
# Builds libqsim (warnings are errors) and runs the default test suite.
# Usage: tools/run-tests.sh [BUILD_DIR] [extra meson setup args...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shift || true
if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dwerror=true "$@"
fi
ninja -C "$build"
export NODE_PATH=${NODE_PATH:-/opt/ort/node_modules}
meson test -C "$build" --print-errorlogs --num-processes 2
