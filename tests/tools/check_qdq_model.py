#!/usr/bin/env python3
"""Checks the structure of a QDQ model written by qsim_export_qdq.

Usage: check_qdq_model.py MODEL OPSET N_QDQ N_FP16 ZP_TYPES [CLIP_BITS]
ZP_TYPES: comma-separated ONNX element types that must all appear among
the zero points (e.g. "22,4" = int4 and uint16). Checks: the ai.onnx opset,
N_QDQ QuantizeLinear each feeding exactly one DequantizeLinear with the
same scale, zero point and axis, N_FP16 Cast(16)->Cast(1) pairs, and that
no node reads a quantized tensor except its DequantizeLinear.
CLIP_BITS ("4:12,3:1" = twelve 4-bit and one 3-bit quantizer written with
QSIM_OPT_QDQ_LOW_BIT "clip"): the model has metadata_props qsim.qdq_low_bit
= clip and exactly that many QuantizeLinear fed by Max(Min(x, hi), lo) whose
bounds, divided by the scale (numpy), span 2^bits grid points inside the
int8/uint8 type."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    path, opset, n_qdq, n_fp16, zps = sys.argv[1:6]
    m = onnx.load(path)
    ver = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
    assert ver == [int(opset)], ("opset", ver)
    inits = {t.name: t for t in m.graph.initializer}
    readers = {}
    for n in m.graph.node:
        for i in n.input:
            readers.setdefault(i, []).append(n)
    seen = set()
    nq = 0
    for n in m.graph.node:
        if n.op_type != "QuantizeLinear":
            continue
        nq += 1
        r = readers.get(n.output[0], [])
        assert len(r) == 1 and r[0].op_type == "DequantizeLinear", n.name
        assert list(r[0].input[1:]) == list(n.input[1:]), n.name
        ax = [a.i for a in n.attribute if a.name == "axis"]
        ax2 = [a.i for a in r[0].attribute if a.name == "axis"]
        assert ax == ax2, n.name
        z = inits[n.input[2]]
        s = inits[n.input[1]]
        assert s.data_type == 1 and list(s.dims) == list(z.dims), n.name
        assert (len(z.dims) == 1) == bool(ax), n.name
        seen.add(z.data_type)
    assert nq == int(n_qdq), ("QuantizeLinear", nq)
    nc = 0
    for n in m.graph.node:
        if n.op_type == "Cast" and n.attribute[0].i == 10:
            r = readers.get(n.output[0], [])
            assert len(r) == 1 and r[0].op_type == "Cast" and r[0].attribute[0].i == 1
            nc += 1
    assert nc == int(n_fp16), ("fp16 pairs", nc)
    for t in zps.split(","):
        if t:
            assert int(t) in seen, ("zero point type", t, sorted(seen))
    if len(sys.argv) > 6:
        check_clip(m, inits, sys.argv[6])
    print("# checked", path, "opset", opset, "qdq", nq, "fp16", nc, "zp types", sorted(seen))


def check_clip(m, inits, spec):
    want = {}
    for item in spec.split(","):
        b, c = (int(v) for v in item.split(":"))
        want[b] = c
    md = {p.key: p.value for p in m.metadata_props}
    assert md.get("qsim.qdq_low_bit") == "clip", md
    prod = {o: n for n in m.graph.node for o in n.output}
    found = {}
    for n in m.graph.node:
        if n.op_type != "QuantizeLinear":
            continue
        mx = prod.get(n.input[0])
        if mx is None or mx.op_type != "Max":
            continue
        mn = prod.get(mx.input[0])
        assert mn is not None and mn.op_type == "Min", n.name
        lo = numpy_helper.to_array(inits[mx.input[1]]).astype(np.float64).reshape(-1)
        hi = numpy_helper.to_array(inits[mn.input[1]]).astype(np.float64).reshape(-1)
        s = numpy_helper.to_array(inits[n.input[1]]).astype(np.float64).reshape(-1)
        z = numpy_helper.to_array(inits[n.input[2]]).astype(np.int64).reshape(-1)
        kl, kh = np.rint(lo / s), np.rint(hi / s)
        assert np.all(np.abs(lo - kl * s) <= 1e-3 * s), n.name
        assert np.all(np.abs(hi - kh * s) <= 1e-3 * s), n.name
        codes = set((kh - kl + 1).astype(int).tolist())
        assert len(codes) == 1, (n.name, codes)
        bits = int(np.log2(codes.pop()))
        assert np.all(kh - kl + 1 == 2 ** bits), (n.name, kh - kl + 1)
        signed = inits[n.input[2]].data_type == 3
        tlo, thi = (-128, 127) if signed else (0, 255)
        assert np.all(kl + z >= tlo) and np.all(kh + z <= thi), n.name
        found[bits] = found.get(bits, 0) + 1
    assert found == want, ("clipped QuantizeLinear by bitwidth", found, want)


if __name__ == "__main__":
    main()
