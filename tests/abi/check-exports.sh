#!/usr/bin/env bash
# The dynamic symbol table of libqsim.so.1, the names in lib/libqsim.map and
# the QSIM_API declarations in include/qsim/qsim.h must be the same set, and
# every exported name must start with qsim_ (jansson's check-exports idea).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
lib=${1:?usage: check-exports.sh path/to/libqsim.so.1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u > "$tmp/dynsym"
sed -n '/global:/,/local:/p' "$src/lib/libqsim.map" | grep -oE '^\s*qsim_[A-Za-z0-9_]+;' |
  tr -d ' ;' | sort -u > "$tmp/map"
grep -hoE 'QSIM_API[^;(]*\bqsim_[a-z0-9_]+\s*\(' "$src"/include/qsim/*.h |
  grep -oE 'qsim_[a-z0-9_]+\s*\($' | tr -d ' (' | sort -u > "$tmp/header"

status=0
if grep -v '^qsim_' "$tmp/dynsym" >/dev/null; then
  echo "FAIL: exported symbols without the qsim_ prefix:"; grep -v '^qsim_' "$tmp/dynsym"; status=1
fi
if ! diff -u "$tmp/map" "$tmp/dynsym" > "$tmp/d1"; then
  echo "FAIL: lib/libqsim.map (-) vs dynamic symbols (+):"; cat "$tmp/d1"; status=1
fi
if ! diff -u "$tmp/header" "$tmp/dynsym" > "$tmp/d2"; then
  echo "FAIL: QSIM_API declarations (-) vs dynamic symbols (+):"; cat "$tmp/d2"; status=1
fi
n=$(wc -l < "$tmp/dynsym")
[ $status = 0 ] && echo "check-exports: $n symbols, all qsim_, map and header agree"
exit $status
