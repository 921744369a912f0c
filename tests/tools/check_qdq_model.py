#!/usr/bin/env python3
"""Checks the structure of a QDQ model written by qsim_export_qdq.

Usage: check_qdq_model.py MODEL OPSET N_QDQ N_FP16 ZP_TYPES
ZP_TYPES: comma-separated ONNX element types that must all appear among
the zero points (e.g. "22,4" = int4 and uint16). Checks: the ai.onnx opset,
N_QDQ QuantizeLinear each feeding exactly one DequantizeLinear with the
same scale, zero point and axis, N_FP16 Cast(16)->Cast(1) pairs, and that
no node reads a quantized tensor except its DequantizeLinear."""
import sys

import onnx


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
    print("# checked", path, "opset", opset, "qdq", nq, "fp16", nc, "zp types", sorted(seen))


if __name__ == "__main__":
    main()
