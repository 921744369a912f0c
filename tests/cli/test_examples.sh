#!/usr/bin/env bash
# Runs the example programs (examples/minimal.c, minimal_cxx.cc,
# aimet_workflow.c, mixed_precision.c) on the bundled model.
# Usage: test_examples.sh EXE...   (identified by file name; env:
# QSIM_SOURCE_ROOT, NODE_PATH). References: onnxruntime-node for minimal's
# logits on the ramp input and for the FP32 top-1 row of mixed_precision.
# Exit 0 pass, 1 fail, 77 skip (no Fashion-MNIST data for the data examples).
set -u
root=${QSIM_SOURCE_ROOT:?}
export NODE_PATH=${NODE_PATH:-/opt/ort/node_modules}
model=$root/data/fmnist_cnn.onnx
fm=/usr/share/datasets/fashion-mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
declare -A exe
for e in "$@"; do exe[$(basename "$e")]=$e; done
have_ort=0
node -e "require('onnxruntime-node')" 2>/dev/null && have_ort=1

# minimal (and minimal_cxx): FP32 logits of a -1..1 ramp, vs onnxruntime.
if [ "$have_ort" = 1 ]; then
  node -e "
const ort = require('onnxruntime-node');
(async () => {
  const s = await ort.InferenceSession.create(process.argv[1], {graphOptimizationLevel: 'disabled'});
  const n = 784, x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = -1 + 2 * i / (n - 1);
  const r = await s.run({input: new ort.Tensor('float32', x, [1, 1, 28, 28])});
  console.log(Array.from(r.logits.data).join('\n'));
})();" "$model" >"$tmp/ref" || fail "onnxruntime reference"
fi
for name in qsim-example-minimal qsim-example-minimal-cxx; do
  [ -n "${exe[$name]:-}" ] || { echo "skip: $name not built"; continue; }
  if ! "${exe[$name]}" >"$tmp/out" 2>"$tmp/err"; then
    fail "$name exit status"; cat "$tmp/err"; continue
  fi
  grep -q '^logits: shape \[1, 10\]$' "$tmp/out" || fail "$name: no 'logits: shape [1, 10]'"
  [ "$(grep -c '^  \[[0-9]\] ' "$tmp/out")" = 10 ] || fail "$name: not 10 values"
  if [ "$have_ort" = 1 ]; then
    sed -n 's/^  \[[0-9]\] //p' "$tmp/out" | paste - "$tmp/ref" |
      awk '{d = $1 - $2; if (d < 0) d = -d; if (d > 1e-3) bad = 1} END {exit bad}' ||
      fail "$name: logits differ from onnxruntime by more than 1e-3"
  fi
  "${exe[$name]}" "$tmp/missing.onnx" >/dev/null 2>"$tmp/err"
  rc=$?
  [ "$rc" = 1 ] && grep -q 'QSIM_ERR_IO.*missing.onnx' "$tmp/err" ||
    fail "$name: missing model gave exit $rc / '$(cat "$tmp/err")'"
  ok "$name"
done

[ -f "$fm/t10k-images-idx3-ubyte.gz" ] || { echo "skip: no Fashion-MNIST in $fm"; exit $((fails ? 1 : 77)); }

name=qsim-example-aimet-workflow
if [ -n "${exe[$name]:-}" ]; then
  if "${exe[$name]}" --out "$tmp/aimet" --limit 500 --iterations 100 >"$tmp/out" 2>"$tmp/err"; then
    grep -q 'stayed int' "$tmp/out" || fail "$name: no frozen-BN count"
    grep -Eq '^top-1 on 500 test images: 0\.(8|9)' "$tmp/out" || fail "$name: top-1 line"
    for f in adaround.onnx adaround.encodings final.onnx final.encodings; do
      [ -s "$tmp/aimet/$f" ] || fail "$name: no $f"
    done
    ok "$name"
  else
    fail "$name exit status"; cat "$tmp/err"
  fi
fi

name=qsim-example-mixed-precision
if [ -n "${exe[$name]:-}" ]; then
  if "${exe[$name]}" --out "$tmp/mixed" --limit 500 --iterations 100 >"$tmp/out" 2>"$tmp/err"; then
    cat "$tmp/out"
    grep -q '^configuration  *top-1$' "$tmp/out" || fail "$name: no table header"
    for row in 'FP32 (quantizers disabled)' 'W4A8 round-to-nearest' 'direct: BN FP16' 'workaround: '; do
      grep -Fq "$row" "$tmp/out" || fail "$name: no row '$row'"
    done
    # Every accuracy in the table is a plausible top-1 (the model gets ~0.92).
    awk '/^(FP32|W4A8|direct|workaround)/ {n++; if ($NF < 0.8 || $NF > 1) bad = 1}
         END {exit (n != 4 || bad)}' "$tmp/out" || fail "$name: table values"
    [ -s "$tmp/mixed/mixed.encodings" ] || fail "$name: no mixed.encodings"
    if [ "$have_ort" = 1 ] && node "$root/tools/ort_eval.js" "$model" --limit 500 >"$tmp/ort" 2>&1; then
      ref=$(sed -n 's/.*FP32 top-1 \([0-9.]*\).*/\1/p' "$tmp/ort")
      got=$(awk '/^FP32/ {print $NF}' "$tmp/out")
      awk -v a="$ref" -v b="$got" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(d <= 0.0021)}' ||
        fail "$name: FP32 top-1 $got, onnxruntime $ref"
    fi
    ok "$name"
  else
    fail "$name exit status"; cat "$tmp/err"
  fi
fi
exit $((fails ? 1 : 0))
