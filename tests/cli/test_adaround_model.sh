#!/usr/bin/env bash
# Whole-model AdaRound check (issue 5 item 4): libqsim's W4A8 AdaRound top-1
# on a Fashion-MNIST demo model must be at least that of an independent torch
# AdaRound (tests/tools/adaround_model_ref.py, AIMET semantics, SPEC 8) minus
# 0.3 points, both measured in the same sim on all 10,000 test images.
#
# Usage: test_adaround_model.sh QSIM MODEL.onnx REF.log REFDIR [ITERATIONS]
#   REF.log/REFDIR: the reference's output (a meson custom_target, built once
#   per build dir): REFDIR/ref.onnx holds the reference's rounded weights,
#   REFDIR/ref.encodings their W4 encodings (frozen here), REF.log its figures.
#   ITERATIONS: libqsim's AdaRound steps per layer (default 2000, as the
#   reference and `qsim demo`).
#
# Same data for both, as `qsim demo`: AdaRound on the first 1024 training
# images, 2000 iterations per layer; activation encodings (8-bit, tf)
# calibrated by libqsim on the first 512 training images; params W4
# per-tensor symmetric, BN params 8-bit asymmetric (libqsim's default
# placement, which the reference mirrors).
#
# The test can fail: libqsim without effective optimisation (ITERATIONS 1:
# one Adam step from h(alpha) = frac(W/delta), then up iff alpha >= 0, which
# is round-to-nearest) scores about the RTN figure: measured 0.9047 (cnn) and
# 0.8057 (dwsep) against the reference's 0.9161 and 0.8956, so
# `test_adaround_model.sh ... 1` fails on both (checked).
# It also checks that the comparison is sound: the reference's rounded model
# in the sim with FP32 activations (--act-bw 32) must reproduce the top-1 the
# reference computed in torch (weights-only) to within 0.1 point, and the
# reference must beat round-to-nearest W4A8.
# Exit 0 pass, 1 fail, 77 skip (no torch or no Fashion-MNIST data).
set -u
qsim=$1 model=$2 reflog=$3 refdir=$4 iters=${5:-2000}
fm=/usr/share/datasets/fashion-mnist
if grep -q '^SKIP' "$reflog"; then
  cat "$reflog"; exit 77
fi
name=$(basename "$model" .onnx)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

echo "== torch reference ($reflog)"
cat "$reflog"
ref_torch=$(sed -n 's/^w4_ref_top1 [0-9.]* (\([0-9]*\)\/10000)$/\1/p' "$reflog")
[ -n "$ref_torch" ] || { echo "FAIL: no w4_ref_top1 line in $reflog"; exit 1; }

common=(--no-fp32 --param-bw 4 --data "$fm/t10k-images-idx3-ubyte.gz" --labels "$fm/t10k-labels-idx1-ubyte.gz"
        --calib "$fm/train-images-idx3-ubyte.gz" --calib-limit 512)
# run LABEL ARGS...: qsim eval; prints its output, sets $correct (quant top-1 count).
run() {
  local label=$1; shift
  local t0=$SECONDS
  if ! "$qsim" eval "$@" "${common[@]}" >"$tmp/out" 2>"$tmp/err"; then
    cat "$tmp/err"; echo "FAIL: qsim eval ($label) failed"; exit 1
  fi
  correct=$(sed -n 's/^quant top-1 [0-9.]* (\([0-9]*\)\/[0-9]*).*/\1/p' "$tmp/out")
  [ -n "$correct" ] || { cat "$tmp/out"; echo "FAIL: no quant top-1 line ($label)"; exit 1; }
  printf '%-44s %s (%d s)\n' "$label" "$(awk -v c="$correct" 'BEGIN{printf "%.4f", c/10000}')" \
    $((SECONDS - t0))
}

echo "== $name in libqsim's sim, 10000 test images"
run "reference weights, FP32 activations" "$refdir/ref.onnx" --encodings "$refdir/ref.encodings" --act-bw 32
ref_a32=$correct
run "W4A8 round-to-nearest" "$model" --act-bw 8
rtn=$correct
run "W4A8 reference AdaRound (torch)" "$refdir/ref.onnx" --encodings "$refdir/ref.encodings" --act-bw 8
refc=$correct
run "W4A8 libqsim AdaRound ($iters iterations)" "$model" --act-bw 8 --adaround \
  --iterations "$iters" --adaround-limit 1024
lib=$correct

d=$((ref_a32 - ref_torch)); d=${d#-}
[ "$d" -le 10 ] || fail "reference weights in the sim (FP32 act) $ref_a32/10000 vs torch $ref_torch/10000"
[ "$refc" -gt "$rtn" ] || fail "the reference ($refc) does not beat round-to-nearest ($rtn)"
if [ "$lib" -ge $((refc - 30)) ]; then
  echo "ok: libqsim $lib/10000 >= reference $refc/10000 - 0.3 points"
else
  fail "libqsim AdaRound $lib/10000 < reference $refc/10000 - 0.3 points"
fi
[ "$fails" -eq 0 ]
