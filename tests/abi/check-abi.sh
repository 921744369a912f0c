#!/usr/bin/env bash
# Compares the built library with the committed baseline using abigail's
# abidiff. Exit bits: 4 = change (e.g. added function), 8 = incompatible.
# Policy: any incompatible change fails; an addition fails unless the
# baseline was regenerated in the same commit (then abidiff reports 0).
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
lib=${1:?usage: check-abi.sh path/to/libqsim.so.1 [build dir]}
build=${2:-$(dirname "$(dirname "$lib")")}
abidiff --headers-dir2 "$src/include/qsim" \
  --header-file2 "$build/include/qsim/qsim_version.h" \
  "$src/tests/abi/libqsim-1.abi" "$lib" > /tmp/abidiff.$$ 2>&1
rc=$?
cat /tmp/abidiff.$$; rm -f /tmp/abidiff.$$
if [ $rc -eq 0 ]; then echo "check-abi: identical to the baseline"; exit 0; fi
if [ $((rc & 8)) -ne 0 ]; then echo "check-abi: INCOMPATIBLE change (abidiff $rc)"; exit 1; fi
if [ $((rc & 4)) -ne 0 ]; then
  echo "check-abi: the ABI changed compatibly (abidiff $rc); regenerate the baseline with tests/abi/update-baseline.sh in the same commit"
  exit 1
fi
echo "check-abi: abidiff failed ($rc)"; exit 1
