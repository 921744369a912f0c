#!/usr/bin/env bash
# End-to-end tests of the `qsim` command (examples/qsim.c).
# Usage: test_cli.sh QSIM_EXE   (env: QSIM_SOURCE_ROOT, PYTHON3, NODE_PATH)
# References: the exported .encodings are parsed with Python's json; the FP32
# accuracy is compared with onnxruntime-node (tools/ort_eval.js) on the same
# test images. Exit 0 pass, 1 fail, 77 skip (no Fashion-MNIST data).
set -u
qsim=$1
root=${QSIM_SOURCE_ROOT:?}
py=${PYTHON3:-/usr/bin/python3}
export NODE_PATH=${NODE_PATH:-/opt/ort/node_modules}
model=$root/data/fmnist_cnn.onnx
fm=/usr/share/datasets/fashion-mnist
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# expect RC CMD...: runs CMD, checks the exit status, keeps stdout/stderr.
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" -ne "$want" ]; then
    fail "exit $rc (want $want): $*"; sed 's/^/  | /' "$tmp/err" | head -5
    return 1
  fi
  return 0
}
err_has() { grep -q -- "$1" "$tmp/err" || { fail "stderr lacks '$1': $(head -c 300 "$tmp/err")"; return 1; }; }

# --help of every subcommand: exit 0, usage on stdout.
for c in "" inspect quantize eval demo; do
  if expect 0 "$qsim" $c --help && grep -q "usage: qsim" "$tmp/out"; then ok "help $c"
  else fail "help $c prints no usage"; fi
done

# Usage errors: exit 2 with a message.
expect 2 "$qsim" && err_has "usage" && ok "no command"
expect 2 "$qsim" frobnicate && err_has "unknown command 'frobnicate'" && ok "unknown command"
expect 2 "$qsim" inspect && err_has "no model" && ok "inspect without model"
expect 2 "$qsim" quantize "$model" --out "$tmp/q" && err_has "--calib is required" && ok "quantize without --calib"
expect 2 "$qsim" quantize "$model" --calib x.gz --out "$tmp/q" --param-bw 1 && err_has "--param-bw" && ok "bad bitwidth"
expect 2 "$qsim" quantize "$model" --calib x.gz --out "$tmp/q" --seed -3 && err_has "--seed" && ok "bad seed"
expect 2 "$qsim" quantize "$model" --calib x.gz --out "$tmp/q" --act-scheme minmax && err_has "--act-scheme: 'minmax'" && ok "bad act scheme"
expect 2 "$qsim" quantize "$model" --calib x.gz --out "$tmp/q" --scheme nope && err_has "tf_enhanced" && ok "bad scheme"
expect 2 "$qsim" quantize "$model" --calib x.gz --out "$tmp/q" --bogus && err_has "unknown option '--bogus'" && ok "unknown option"
expect 2 "$qsim" quantize "$model" --calib && err_has "needs a value" && ok "missing value"
expect 2 "$qsim" eval "$model" --data x && err_has "--labels is required" && ok "eval without labels"
expect 2 "$qsim" eval "$model" --data x --labels y --adaround-limit 0 && err_has "--adaround-limit" && ok "eval bad --adaround-limit"
expect 2 "$qsim" demo --fats && err_has "unexpected argument" && ok "demo bad arg"

# Bad files: exit 1 and the message names the file.
expect 1 "$qsim" inspect "$tmp/missing.onnx" && err_has "missing.onnx" && ok "missing model"
printf 'not an onnx model' >"$tmp/junk.onnx"
expect 1 "$qsim" inspect "$tmp/junk.onnx" && err_has "junk.onnx" && ok "junk model"
expect 1 "$qsim" quantize "$model" --calib "$tmp/nothere.gz" --out "$tmp/q" && err_has "nothere.gz" && ok "missing calib"
printf 'garbage' >"$tmp/bad.idx3"
expect 1 "$qsim" quantize "$model" --calib "$tmp/bad.idx3" --out "$tmp/q" && err_has "bad.idx3" && ok "bad IDX calib"
printf 'in.raw\n' >"$tmp/list.txt"; printf '1234' >"$tmp/in.raw"
expect 1 "$qsim" quantize "$model" --calib "$tmp/list.txt" --out "$tmp/q" && err_has "in.raw" && ok "short raw file in input list"
mkdir "$tmp/npyempty"
expect 1 "$qsim" quantize "$model" --calib "$tmp/npyempty" --out "$tmp/q" && err_has "npyempty" && ok "empty npy folder"
expect 1 "$qsim" quantize "$model" --calib "$tmp/list.txt" --out "$tmp/q" --fp16 NoSuchOp && err_has "NoSuchOp" && ok "--fp16 matching nothing"

# The man page renders without groff warnings (groff is part of man-db's deps).
if command -v groff >/dev/null; then
  w=$(groff -man -Tutf8 -ww -z "$root/docs/qsim.1" 2>&1)
  if [ -z "$w" ]; then ok "man page"; else fail "docs/qsim.1: $w"; fi
fi

expect 0 "$qsim" inspect "$model" && grep -q "BatchNormalization *3" "$tmp/out" && grep -q "input  float  \[batch, 1, 28, 28\]" "$tmp/out" && ok "inspect"

# inspect --quantizers: every initializer has a param quantizer and every
# listed name is a tensor of the model (python onnx).
if expect 0 "$qsim" inspect --quantizers "$model" &&
   "$py" - "$model" "$tmp/out" <<'PY'
import onnx, sys
g = onnx.load(sys.argv[1]).graph
lines = open(sys.argv[2]).read().split("quantizers (")[1].splitlines()[1:]
rows = [l.split() for l in lines if l.strip()]
inits = {i.name for i in g.initializer}
tensors = inits | {i.name for i in g.input} | {o for n in g.node for o in n.output}
params = {r[-1] for r in rows if r[0] == "param"}
assert params == inits, (params ^ inits)
assert all(r[-1] in tensors for r in rows), rows
PY
then ok "inspect --quantizers"; else fail "inspect --quantizers"; fi

if [ ! -r "$fm/t10k-images-idx3-ubyte.gz" ]; then
  echo "SKIP: no Fashion-MNIST in $fm"; [ $fails -eq 0 ] && exit 77; exit 1
fi

# quantize with IDX calibration (64 images): both files; FP16 BN entries,
# int Conv/Gemm entries.
check_enc() { # FILE VERSION
  "$py" - "$1" "$2" <<'PY'
import json, sys
path, ver = sys.argv[1], sys.argv[2]
e = json.load(open(path))
act, par = e["activation_encodings"], e["param_encodings"]
if ver == "1.0.0":
    act = {a["name"]: a for a in act}; par = {p["name"]: p for p in par}
    get = lambda d, n: d[n]
else:  # 0.6.1: name -> [per-channel entries]
    get = lambda d, n: d[n][0]
for n in ["/bn1/BatchNormalization_output_0", "/bn3/BatchNormalization_output_0"]:
    a = get(act, n); assert a["dtype"] == "float" if ver == "0.6.1" else a["dtype"] == "FLOAT", (n, a); assert a["bitwidth" if ver == "0.6.1" else "bw"] == 16
for n in ["bn1.weight", "bn2.weight", "bn3.running_var"]:
    p = get(par, n); assert p["dtype"].lower() == "float", (n, p)
for n in ["conv1.weight", "conv2.weight", "conv3.weight", "fc.weight"]:
    p = get(par, n); assert p["dtype"].lower() == "int", (n, p); assert p["bitwidth" if ver == "0.6.1" else "bw"] == 4, (n, p)
for n in ["/conv1/Conv_output_0", "logits"]:
    a = get(act, n); assert a["dtype"].lower() == "int" and a["bitwidth" if ver == "0.6.1" else "bw"] == 8, (n, a)
print("encodings ok", len(act), len(par))
PY
}
for v in 1.0.0 0.6.1; do
  if expect 0 "$qsim" quantize "$model" --calib "$fm/train-images-idx3-ubyte.gz" --limit 64 \
       --out "$tmp/q$v" --prefix cnn --param-bw 4 --fp16 BatchNormalization --encoding-version $v &&
     [ -s "$tmp/q$v/cnn.onnx" ] && [ -s "$tmp/q$v/cnn.encodings" ] &&
     grep -q "calibrated on 64 samples" "$tmp/out" && check_enc "$tmp/q$v/cnn.encodings" $v; then
    ok "quantize IDX $v"
  else fail "quantize IDX $v"; fi
  [ -s "$tmp/err" ] && fail "stderr not quiet when not a terminal: $(head -c 200 "$tmp/err")"
done

# AdaRound (a few iterations): the exported weights are on the frozen grid,
# so the 4-bit encodings are int and the run says AdaRound.
if expect 0 "$qsim" quantize "$model" --calib "$fm/train-images-idx3-ubyte.gz" --limit 64 \
     --out "$tmp/ada" --prefix cnn --param-bw 4 --fp16 BatchNormalization --adaround --iterations 20 --seed 5 &&
   grep -q "(AdaRound)" "$tmp/out" && check_enc "$tmp/ada/cnn.encodings" 1.0.0; then
  ok "quantize --adaround"
else fail "quantize --adaround"; fi

# --fp16 by tensor name: only that tensor's quantizer becomes FP16.
if expect 0 "$qsim" quantize "$model" --calib "$fm/train-images-idx3-ubyte.gz" --limit 16 \
     --out "$tmp/t16" --prefix m --fp16 /conv2/Conv_output_0 &&
   "$py" -c '
import json, sys
e = json.load(open(sys.argv[1]))
d = {a["name"]: a["dtype"] for a in e["activation_encodings"] + e["param_encodings"]}
assert d["/conv2/Conv_output_0"] == "FLOAT", d
assert [n for n, t in d.items() if t == "FLOAT"] == ["/conv2/Conv_output_0"], d
assert d["/conv1/Conv_output_0"] == "INT" and d["conv2.weight"] == "INT", d
' "$tmp/t16/m.encodings"; then ok "--fp16 TENSOR"; else fail "--fp16 TENSOR"; fi

# The same 8 images as a .npy folder and as an input_list of raw files give
# the same encodings as IDX calibration.
"$py" - "$fm/train-images-idx3-ubyte.gz" "$tmp" <<'PY'
import gzip, sys, os, numpy as np
src, tmp = sys.argv[1], sys.argv[2]
raw = gzip.open(src).read()
img = np.frombuffer(raw, np.uint8, 8 * 784, 16).reshape(8, 1, 28, 28)
x = ((img.astype(np.float32) / np.float32(255)) - np.float32(0.2860)) / np.float32(0.3530)
os.makedirs(f"{tmp}/npy"); os.makedirs(f"{tmp}/raw")
np.save(f"{tmp}/npy/a.npy", x[:3]); np.save(f"{tmp}/npy/b.npy", x[3:])
with open(f"{tmp}/raw/input_list.txt", "w") as f:
    for i in range(8):
        x[i].tofile(f"{tmp}/raw/s{i}.raw"); f.write(f"input:=s{i}.raw\n")
PY
expect 0 "$qsim" quantize "$model" --calib "$fm/train-images-idx3-ubyte.gz" --limit 8 --out "$tmp/i8" --prefix m &&
expect 0 "$qsim" quantize "$model" --calib "$tmp/npy" --out "$tmp/n8" --prefix m &&
expect 0 "$qsim" quantize "$model" --calib "$tmp/raw/input_list.txt" --out "$tmp/r8" --prefix m &&
if cmp -s "$tmp/i8/m.encodings" "$tmp/n8/m.encodings" && cmp -s "$tmp/i8/m.encodings" "$tmp/r8/m.encodings"; then
  ok "npy folder and input_list calibrate like IDX"
else fail "npy/input_list encodings differ from IDX"; fi

# eval on 1000 test images: FP32 equals onnxruntime's count, W8A8 within 2 points.
if expect 0 "$qsim" eval "$model" --data "$fm/t10k-images-idx3-ubyte.gz" \
     --labels "$fm/t10k-labels-idx1-ubyte.gz" --calib "$fm/train-images-idx3-ubyte.gz" --limit 1000; then
  cp "$tmp/out" "$tmp/eval.txt"; cat "$tmp/eval.txt"
  ours=$(sed -n 's/^fp32 top-1 [0-9.]* (\([0-9]*\)\/1000).*/\1/p' "$tmp/eval.txt")
  quant=$(sed -n 's/^quant top-1 [0-9.]* (\([0-9]*\)\/1000).*/\1/p' "$tmp/eval.txt")
  if node -e "require('onnxruntime-node')" 2>/dev/null; then
    ref=$(node "$root/tools/ort_eval.js" "$model" --data-dir "$fm" --limit 1000 | sed -n 's/.*(\([0-9]*\)\/1000).*/\1/p')
    if [ -n "$ours" ] && [ "$ours" = "$ref" ]; then ok "eval FP32 $ours/1000 = onnxruntime $ref/1000"
    else fail "eval FP32 '$ours' vs onnxruntime '$ref'"; fi
  else
    fail "onnxruntime-node not found (set NODE_PATH=/opt/ort/node_modules)"
  fi
  if [ -n "$quant" ] && [ $((ours - quant)) -le 20 ] && [ $((quant - ours)) -le 20 ]; then ok "W8A8 $quant within 20/1000 of FP32 $ours"
  else fail "W8A8 '$quant' vs FP32 '$ours'"; fi
else fail "eval"; fi

# --no-fp32: the same quant count as above, no fp32 line.
if expect 0 "$qsim" eval "$model" --data "$fm/t10k-images-idx3-ubyte.gz" --no-fp32 \
     --labels "$fm/t10k-labels-idx1-ubyte.gz" --calib "$fm/train-images-idx3-ubyte.gz" --limit 1000 &&
   ! grep -q "^fp32" "$tmp/out" && grep -q "^quant top-1 [0-9.]* (${quant:-x}/1000)" "$tmp/out"; then
  ok "eval --no-fp32"
else fail "eval --no-fp32: $(cat "$tmp/out")"; fi

# eval with frozen param encodings from the quantize run above.
expect 0 "$qsim" eval "$model" --encodings "$tmp/q1.0.0/cnn.encodings" --fp16 BatchNormalization \
  --data "$fm/t10k-images-idx3-ubyte.gz" --labels "$fm/t10k-labels-idx1-ubyte.gz" --limit 200 &&
  grep -q "^quant top-1" "$tmp/out" && ok "eval --encodings"
expect 1 "$qsim" eval "$model" --encodings "$tmp/nope.encodings" \
  --data "$fm/t10k-images-idx3-ubyte.gz" --labels "$fm/t10k-labels-idx1-ubyte.gz" --limit 10 &&
  err_has "nope.encodings" && ok "eval missing encodings"
expect 1 "$qsim" eval "$model" --data "$fm/t10k-images-idx3-ubyte.gz" --labels "$fm/train-labels-idx1-ubyte.gz" &&
  err_has "labels" && ok "eval mismatched labels"

# demo --fast (few AdaRound steps): five rows; the FP32 row is onnxruntime's
# accuracy on the same 2000 test images; AdaRound W4A8 is not below nearest
# by more than a point.
if expect 0 "$qsim" demo --fast --iterations 50 --data-dir "$fm"; then
  cat "$tmp/out"
  fp=$(sed -n 's/^FP32 (quantizers disabled) *\([0-9.]*\) .*/\1/p' "$tmp/out")
  rtn=$(sed -n 's/^W4A8 round-to-nearest *\([0-9.]*\) .*/\1/p' "$tmp/out")
  ada=$(sed -n 's/^W4A8 AdaRound *\([0-9.]*\) .*/\1/p' "$tmp/out")
  ref=$(node "$root/tools/ort_eval.js" "$model" --data-dir "$fm" --limit 2000 | sed -n 's/.*FP32 top-1 \([0-9.]*\) .*/\1/p')
  if [ -n "$fp" ] && [ "$fp" = "$ref" ]; then ok "demo FP32 $fp = onnxruntime $ref"; else fail "demo FP32 '$fp' vs onnxruntime '$ref'"; fi
  if [ "$(grep -c '^[A-Zm].* [0-9.]\{6\} *[0-9.]*s$' "$tmp/out")" -eq 5 ]; then ok "demo rows"; else fail "demo rows"; fi
  if [ -n "$ada" ] && "$py" -c "import sys; sys.exit(0 if float('$ada') >= float('$rtn') - 0.01 else 1)"; then
    ok "demo AdaRound $ada vs nearest $rtn"; else fail "demo AdaRound '$ada' vs nearest '$rtn'"; fi
else fail "demo --fast"; fi

# A model with a fixed batch of 4 is fed whole batches only.
"$py" -c '
import onnx, sys
m = onnx.load(sys.argv[1])
for t in list(m.graph.input) + list(m.graph.output):
    d = t.type.tensor_type.shape.dim[0]; d.ClearField("dim_param"); d.dim_value = 4
onnx.save(m, sys.argv[2])' "$model" "$tmp/b4.onnx"
expect 0 "$qsim" eval "$tmp/b4.onnx" --data "$fm/t10k-images-idx3-ubyte.gz" \
  --labels "$fm/t10k-labels-idx1-ubyte.gz" --limit 10 --calib-limit 8 &&
  grep -q "^fp32 top-1 [0-9.]* ([0-9]*/8)" "$tmp/out" && ok "fixed batch eval"
expect 1 "$qsim" quantize "$tmp/b4.onnx" --calib "$fm/t10k-images-idx3-ubyte.gz" --limit 3 --out "$tmp/b4" &&
  err_has "fixed batch of 4" && ok "fixed batch, too few samples"

echo "$fails failure(s)"
[ $fails -eq 0 ]
