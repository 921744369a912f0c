#!/usr/bin/env python3
"""Reference QuantizationSimModel for libqsim's tests: the FP32 model run
op by op with torch (float32), with AIMET's quantizers inserted where
placement_ref.py puts them, calibrated and applied with quant_ref.py's
numpy encoding math (SPEC 3, 4). Independent of the C code.

Usage: quantsim_ref.py MODEL CONFIG PARAM_BW ACT_BW CALIB NB EVAL OUTDIR [SCHEME]
  CALIB: raw float32, NB equal batches of the model input; EVAL: raw
  float32 input for the quantized forward pass (batch from its size).
  SCHEME: tf (default), tf_enhanced or percentile (percentile 100).
Writes OUTDIR/ref_encodings.txt ("name channel min max delta offset" for
every enabled int quantizer with an encoding) and OUTDIR/ref_output.bin
(float32 output of the quantized forward pass on EVAL).
Supported ops: Conv, BatchNormalization, Relu, Add, Flatten, MatMul, Gemm,
Constant.
"""
import os
import subprocess
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as Fn
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quant_ref  # noqa: E402


def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def run_graph(g, consts, x, act_hook):
    """Evaluate g on x (numpy). act_hook(name, array) -> array for every
    graph input / node output (the quantized sim's QDQ points)."""
    env = dict(consts)
    env[g.input[0].name] = act_hook(g.input[0].name, x)
    for n in g.node:
        a = attrs(n)
        t = [torch.from_numpy(np.ascontiguousarray(env[i])) if i else None for i in n.input]
        if n.op_type == "Constant":
            continue
        if n.op_type == "Conv":
            p = a.get("pads", [0, 0, 0, 0])
            y = Fn.conv2d(Fn.pad(t[0], [p[1], p[3], p[0], p[2]]), t[1],
                          t[2] if len(t) > 2 else None, stride=a.get("strides", [1, 1]))
        elif n.op_type == "BatchNormalization":
            y = Fn.batch_norm(t[0], t[3], t[4], t[1], t[2], False, 0.0, a.get("epsilon", 1e-5))
        elif n.op_type == "Relu":
            y = torch.relu(t[0])
        elif n.op_type == "Add":
            y = t[0] + t[1]
        elif n.op_type == "Flatten":
            y = t[0].reshape(t[0].shape[0], -1)
        elif n.op_type == "MatMul":
            y = t[0] @ t[1]
        elif n.op_type == "Gemm":
            w = t[1].t() if a.get("transB", 0) else t[1]
            y = t[0] @ w + t[2]
        else:
            raise SystemExit("unsupported op " + n.op_type)
        env[n.output[0]] = act_hook(n.output[0], y.numpy().astype(np.float32))
    return env[g.output[0].name]


def main():
    model, cfg, pbw, abw, calib, nb, evalf, out = sys.argv[1:9]
    nb = int(nb)
    scheme = sys.argv[9] if len(sys.argv) > 9 else "tf"
    here = os.path.dirname(os.path.abspath(__file__))
    lines = subprocess.run([sys.executable, os.path.join(here, "placement_ref.py"), model, cfg,
                            pbw, abw, "int"], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    qs = {}
    for ln in lines:
        name, kind, en, op, sym, bw, dt, ch = ln.split()
        qs[name] = dict(kind=kind, enabled=en == "1", sym=sym == "1", bw=int(bw),
                        channels=int(ch), op=op)
    m = onnx.load(model)
    g = m.graph
    consts = {i.name: numpy_helper.to_array(i).astype(np.float32) if i.data_type == 1
              else numpy_helper.to_array(i) for i in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(attrs(n)["value"])
    enc = {}  # name -> list of (min, max, delta, offset)

    def flags(q):
        return quant_ref.SYM if q["sym"] else 0

    # params (and constant operands): one-shot encodings from the data
    fp32 = dict(consts)
    qdq_consts = dict(consts)
    act_const = {}
    for name, q in qs.items():
        if not q["enabled"] or name not in consts:
            continue
        w = consts[name]
        if q["channels"] > 1:
            op = q["op"]
            axis = {"Conv": 0, "ConvTranspose": 1, "MatMul": w.ndim - 1}.get(op, 0)
            if w.ndim == 1:
                axis = 0
            outer, ch, inner = quant_ref.split_axis(list(w.shape), axis)
            r = w.reshape(outer, ch, inner)
            e = [quant_ref.encode(scheme, [r[:, c, :].ravel()], q["bw"], flags(q), 100.0)[:4]
                 for c in range(ch)]
            y = np.empty_like(r)
            for c in range(ch):
                y[:, c, :] = quant_ref.qdq(r[:, c, :], e[c], False)
            qw = y.reshape(w.shape)
        else:
            e = [quant_ref.encode(scheme, [w.ravel()], q["bw"], flags(q), 100.0)[:4]]
            qw = quant_ref.qdq(w, quant_ref.qdq_grid(e[0][0], e[0][1], q["bw"]), False)
        enc[name] = e
        if q["kind"] == "param":
            qdq_consts[name] = qw
        else:
            act_const[name] = qw  # QDQ'd only after calibration

    # calibration: QDQ'd params, activations observed (not quantized)
    calib_x = np.fromfile(calib, dtype=np.float32)
    in_shape = [d.dim_value for d in g.input[0].type.tensor_type.shape.dim][1:]
    per = int(np.prod(in_shape))
    batches = np.split(calib_x, nb)
    seen = {}

    def observe(name, v):
        q = qs.get(name)
        if q and q["enabled"] and q["kind"] == "act" and name not in consts:
            seen.setdefault(name, []).append(v.ravel().copy())
        return v

    for b in batches:
        run_graph(g, qdq_consts, b.reshape([-1] + in_shape), observe)
    for name, vs in seen.items():
        q = qs[name]
        enc[name] = [quant_ref.encode(scheme, vs, q["bw"], flags(q), 100.0)[:4]]

    # quantized forward pass
    eval_consts = dict(qdq_consts)
    eval_consts.update(act_const)

    def apply(name, v):
        q = qs.get(name)
        if q and q["enabled"] and q["kind"] == "act" and name in enc:
            e = enc[name][0]
            return quant_ref.qdq(v.astype(np.float32), quant_ref.qdq_grid(e[0], e[1], q["bw"]),
                                 False)
        return v

    ex = np.fromfile(evalf, dtype=np.float32)
    y = run_graph(g, eval_consts, ex.reshape([-1] + in_shape), apply)
    os.makedirs(out, exist_ok=True)
    np.asarray(y, dtype=np.float32).tofile(os.path.join(out, "ref_output.bin"))
    with open(os.path.join(out, "ref_encodings.txt"), "w") as f:
        for name, es in enc.items():
            for c, e in enumerate(es):
                f.write("%s %d %.17g %.17g %.17g %.17g\n" % ((name, c) + tuple(e)))
    del fp32, per


if __name__ == "__main__":
    main()
