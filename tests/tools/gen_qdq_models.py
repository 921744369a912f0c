#!/usr/bin/env python3
"""QDQ models laid out the way onnxruntime's static quantizer writes them
(QDQ format with AddQDQPairToWeight: float weights behind Q/DQ pairs,
"<t>_scale"/"<t>_zero_point" initializers, "<t>_QuantizeLinear_Output" /
"<t>_DequantizeLinear_Output" tensors), plus malformed ones, for
qsim_sim_create_from_qdq. Usage: gen_qdq_models.py OUTDIR"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def qdq(nodes, inits, t, scale, zp, axis=None, share_dq_params=True):
    s = numpy_helper.from_array(np.asarray(scale, np.float32), t + "_scale")
    z = numpy_helper.from_array(np.asarray(zp), t + "_zero_point")
    inits += [s, z]
    kw = {} if axis is None else {"axis": axis}
    q_out, dq_out = t + "_QuantizeLinear_Output", t + "_DequantizeLinear_Output"
    nodes.append(helper.make_node("QuantizeLinear", [t, s.name, z.name], [q_out],
                                  name=t + "_QuantizeLinear", **kw))
    sn, zn = s.name, z.name
    if not share_dq_params:
        s2 = numpy_helper.from_array(np.asarray(scale, np.float32) * 2, t + "_scale2")
        inits.append(s2)
        sn = s2.name
    nodes.append(helper.make_node("DequantizeLinear", [q_out, sn, zn], [dq_out],
                                  name=t + "_DequantizeLinear", **kw))
    return dq_out


def dq_weight(nodes, inits, t, w, scale):
    """onnxruntime's default weight layout: int8 initializer + DequantizeLinear."""
    q = np.clip(np.round(w / scale.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
    inits += [numpy_helper.from_array(q, t + "_quantized"),
              numpy_helper.from_array(scale.astype(np.float32), t + "_scale"),
              numpy_helper.from_array(np.zeros(len(scale), np.int8), t + "_zero_point")]
    nodes.append(helper.make_node("DequantizeLinear", [t + "_quantized", t + "_scale",
                                                       t + "_zero_point"], [t], axis=0))
    return t


def model(share_dq_params=True, quantized_weights=False):
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((4, 1, 3, 3)) * 0.3).astype(np.float32)
    b = (rng.standard_normal(4) * 0.1).astype(np.float32)
    nodes, inits = [], [numpy_helper.from_array(b, "conv.bias")]
    x = qdq(nodes, inits, "input", 2.0 / 255, np.uint8(64))
    wsc = np.abs(w).reshape(4, -1).max(1) / 127
    if quantized_weights:
        wq = dq_weight(nodes, inits, "conv.weight", w, wsc)
    else:
        inits.append(numpy_helper.from_array(w, "conv.weight"))
        wq = qdq(nodes, inits, "conv.weight", wsc, np.zeros(4, np.int8), axis=0,
                 share_dq_params=share_dq_params)
    nodes.append(helper.make_node("Conv", [x, wq, "conv.bias"], ["conv_out"], name="conv",
                                  pads=[1, 1, 1, 1]))
    c = qdq(nodes, inits, "conv_out", 0.02, np.uint8(100))
    nodes.append(helper.make_node("Relu", [c], ["relu_out"], name="relu"))
    # the last pair ends in the graph output, as onnxruntime writes it
    s = numpy_helper.from_array(np.asarray(0.01, np.float32), "relu_out_scale")
    z = numpy_helper.from_array(np.asarray(0, np.uint8), "relu_out_zero_point")
    inits += [s, z]
    nodes.append(helper.make_node("QuantizeLinear", ["relu_out", s.name, z.name], ["relu_q"]))
    nodes.append(helper.make_node("DequantizeLinear", ["relu_q", s.name, z.name], ["output"]))
    g = helper.make_graph(nodes, "ort_qdq",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 1, 8, 8])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [2, 4, 8, 8])],
                          inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)
    return m


def tie_model():
    """input -> Q/DQ (scale 0.25, uint8 zero point 128) -> Relu -> output:
    inputs at exact half steps show the two rounding rules."""
    inits = [numpy_helper.from_array(np.asarray(0.25, np.float32), "s"),
             numpy_helper.from_array(np.asarray(128, np.uint8), "z")]
    nodes = [helper.make_node("QuantizeLinear", ["input", "s", "z"], ["q"]),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["input_dq"]),
             helper.make_node("Relu", ["input_dq"], ["output"])]
    g = helper.make_graph(nodes, "ties",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 64])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 64])],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)


def opset11_model(squeeze):
    """A float opset-11 model: Conv -> Relu (-> Squeeze with the axes
    attribute, which opset 13 turned into an input)."""
    rng = np.random.default_rng(1)
    w = (rng.standard_normal((2, 1, 3, 3)) * 0.3).astype(np.float32)
    nodes = [helper.make_node("Conv", ["input", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r" if squeeze else "output"], name="relu")]
    if squeeze:
        nodes.append(helper.make_node("Squeeze", ["r"], ["output"], name="sq", axes=[0]))
    out_shape = [2, 4, 4] if squeeze else [1, 2, 4, 4]
    g = helper.make_graph(nodes, "opset11",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 4, 4])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
                          [numpy_helper.from_array(w, "w")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)], ir_version=6)


# ---- int4 / uint4 (TensorProto types 22 / 21, opset 21): python3-onnx 1.12
# has no helpers for them, so the tensors are built by hand: two values per
# byte, the first in the low nibble, in raw_data or one byte per int32_data
# entry. Packed with numpy here, independently of the C loader.
INT4, UINT4 = 22, 21


def pack4(vals):
    v = np.asarray(vals, np.int64).reshape(-1) & 0xF
    if len(v) % 2:
        v = np.append(v, 0)
    return (v[0::2] | (v[1::2] << 4)).astype(np.uint8)


def t4(name, dtype, vals, dims=None, raw=True, pad=0):
    t = TensorProto(name=name, data_type=dtype,
                    dims=list(np.shape(vals)) if dims is None else dims)
    b = pack4(vals)
    if pad and len(np.asarray(vals).reshape(-1)) % 2:
        b[-1] |= pad << 4  # junk in the padding nibble: must be ignored
    if raw:
        t.raw_data = b.tobytes()
    else:
        t.int32_data.extend(int(x) for x in b)
    return t


def int4_decode_model():
    """input x [5] -> y [25]: int4/uint4 initializers (odd counts, raw and
    int32_data, junk padding), an int4 Constant node, and QuantizeLinear
    to int4/uint4 (saturating) -> DequantizeLinear, all concatenated."""
    f = lambda n, v: numpy_helper.from_array(np.asarray(v, np.float32), n)
    inits = [t4("a", INT4, [-8, -1, 0, 7, 3], pad=0xB), t4("a_zp", INT4, np.int64(-1), dims=[]),
             t4("b", UINT4, [0, 15, 1, 8, 9], raw=False, pad=0x7),
             t4("b_zp", UINT4, np.int64(3), dims=[], raw=False),
             t4("z0", INT4, np.int64(0), dims=[]), t4("z2", UINT4, np.int64(2), dims=[]),
             f("s_a", 0.5), f("s_b", 0.25), f("s_c", 1.0), f("s_x", 0.05)]
    nodes = [helper.make_node("Constant", [], ["c"], name="c4",
                              value=t4("cval", INT4, [5, -6, 7, -8, 1], pad=0x3)),
             helper.make_node("DequantizeLinear", ["a", "s_a", "a_zp"], ["da"], name="dq_a"),
             helper.make_node("DequantizeLinear", ["b", "s_b", "b_zp"], ["db"], name="dq_b"),
             helper.make_node("DequantizeLinear", ["c", "s_c"], ["dc"], name="dq_c"),
             helper.make_node("QuantizeLinear", ["x", "s_x", "z0"], ["q1"], name="q_s4"),
             helper.make_node("DequantizeLinear", ["q1", "s_x", "z0"], ["d1"], name="dq_s4"),
             helper.make_node("QuantizeLinear", ["x", "s_x", "z2"], ["q2"], name="q_u4"),
             helper.make_node("DequantizeLinear", ["q2", "s_x", "z2"], ["d2"], name="dq_u4"),
             helper.make_node("Concat", ["da", "db", "dc", "d1", "d2"], ["y"], axis=0)]
    g = helper.make_graph(nodes, "int4_decode",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [25])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)], ir_version=10)


def int4_weight_model():
    """model(quantized_weights=True) with the weights as int4 (per-channel,
    zero point 0) behind a lone DequantizeLinear: onnxruntime's 4-bit
    weight layout. Opset 21."""
    m = model(quantized_weights=True)
    rng = np.random.default_rng(0)
    w = (rng.standard_normal((4, 1, 3, 3)) * 0.3).astype(np.float32)
    wsc = (np.abs(w).reshape(4, -1).max(1) / 7).astype(np.float32)
    q = np.clip(np.round(w / wsc.reshape(-1, 1, 1, 1)), -8, 7).astype(np.int64)
    for i, t in enumerate(m.graph.initializer):
        if t.name == "conv.weight_quantized":
            m.graph.initializer[i].CopyFrom(t4(t.name, INT4, q))
        elif t.name == "conv.weight_scale":
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(wsc, t.name))
        elif t.name == "conv.weight_zero_point":
            m.graph.initializer[i].CopyFrom(t4(t.name, INT4, np.zeros(4, np.int64)))
    del m.opset_import[:]
    m.opset_import.extend([helper.make_opsetid("", 21)])
    m.ir_version = 10
    return m


def clip_model(lo, hi, meta):
    """input [1, 4] -> Min(hi) -> Max(lo) -> Q/DQ (scale 0.1, uint8 zero
    point 1) -> Relu -> output, as QSIM_OPT_QDQ_LOW_BIT "clip" writes a
    4-bit quantizer when [lo, hi] = [-0.1, 1.4] (16 codes)."""
    f = lambda n, v: numpy_helper.from_array(np.asarray(v, np.float32), n)
    inits = [f("hi", hi), f("lo", lo), f("s", 0.1),
             numpy_helper.from_array(np.asarray(1, np.uint8), "z")]
    nodes = [helper.make_node("Min", ["input", "hi"], ["mn"], name="clip_min"),
             helper.make_node("Max", ["mn", "lo"], ["mx"], name="clip_max"),
             helper.make_node("QuantizeLinear", ["mx", "s", "z"], ["q"], name="q"),
             helper.make_node("DequantizeLinear", ["q", "s", "z"], ["dq"], name="dq"),
             helper.make_node("Relu", ["dq"], ["output"], name="relu")]
    g = helper.make_graph(nodes, "clip",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])],
                          inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], ir_version=7)
    if meta:
        helper.set_model_props(m, {"qsim.qdq_low_bit": "clip"})
    return m


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    m = model()
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, os.path.join(out, "ort_qdq.onnx"))
    onnx.save(model(share_dq_params=False), os.path.join(out, "bad_qdq_scales.onnx"))
    m = model()  # int32 zero point: not a QuantizeLinear type
    for i, t in enumerate(m.graph.initializer):
        if t.name == "conv_out_zero_point":
            m.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.asarray(100, np.int32),
                                                                    t.name))
    onnx.save(m, os.path.join(out, "bad_qdq_int32.onnx"))
    onnx.save(tie_model(), os.path.join(out, "tie_qdq.onnx"))
    onnx.save(int4_decode_model(), os.path.join(out, "int4_decode.onnx"))
    onnx.save(clip_model(-0.1, 1.4, True), os.path.join(out, "clip_ok.onnx"))
    onnx.save(clip_model(-0.1, 1.4, False), os.path.join(out, "clip_nometa.onnx"))
    onnx.save(clip_model(-0.1, 0.33, True), os.path.join(out, "clip_bad_grid.onnx"))
    onnx.save(clip_model(-0.1, 0.5, True), os.path.join(out, "clip_bad_count.onnx"))
    onnx.save(int4_weight_model(), os.path.join(out, "ort_qdq_int4_weights.onnx"))
    m = model(quantized_weights=True)
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, os.path.join(out, "ort_qdq_int_weights.onnx"))
    onnx.save(opset11_model(False), os.path.join(out, "opset11.onnx"))
    onnx.save(opset11_model(True), os.path.join(out, "opset11_squeeze.onnx"))


if __name__ == "__main__":
    main()
