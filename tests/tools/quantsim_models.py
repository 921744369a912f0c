#!/usr/bin/env python3
"""Small ONNX models for the quantizer-layer tests (placement, calibration,
export), built with onnx.helper and seeded numpy weights.

Usage: quantsim_models.py OUTDIR   writes qs_cnn.onnx and qs_misc.onnx

qs_cnn: Conv+bias -> BatchNormalization -> Relu -> Conv (weight held in a
  Constant node, no bias) -> Add (constant per-channel operand) -> Relu ->
  Flatten -> MatMul -> Add (1-D "linear bias") -> Relu -> Gemm (transB=1)
  -> logits. Input x [N,1,8,8] with a symbolic batch.
qs_misc: Resize, Reshape, Transpose, Concat, Sigmoid, Mul, Clip, Softmax,
  LayerNormalization, Gemm transB=0 + Relu: placement corner cases.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def qs_cnn(rng):
    w1 = rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32)
    b1 = rng.normal(0, 0.1, (4,)).astype(np.float32)
    scale = rng.uniform(0.5, 1.5, (4,)).astype(np.float32)
    bias = rng.normal(0, 0.1, (4,)).astype(np.float32)
    mean = rng.normal(0, 0.2, (4,)).astype(np.float32)
    var = rng.uniform(0.5, 2.0, (4,)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (6, 4, 3, 3)).astype(np.float32)
    cadd = rng.normal(0, 0.2, (1, 6, 1, 1)).astype(np.float32)
    wm = rng.normal(0, 0.2, (96, 16)).astype(np.float32)
    bm = rng.normal(0, 0.1, (16,)).astype(np.float32)
    wg = rng.normal(0, 0.3, (10, 16)).astype(np.float32)
    bg = rng.normal(0, 0.1, (10,)).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "conv1.weight", "conv1.bias"], ["c1"], name="conv1",
                         pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn1.weight", "bn1.bias", "bn1.mean",
                                                "bn1.var"], ["b1"], name="bn1", epsilon=1e-5),
        helper.make_node("Relu", ["b1"], ["r1"], name="relu1"),
        helper.make_node("Constant", [], ["conv2.weight"], name="w2const",
                         value=numpy_helper.from_array(w2, "conv2.weight")),
        helper.make_node("Conv", ["r1", "conv2.weight"], ["c2"], name="conv2",
                         pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Add", ["c2", "add.const"], ["a2"], name="add2"),
        helper.make_node("Relu", ["a2"], ["r2"], name="relu2"),
        helper.make_node("Flatten", ["r2"], ["f"], name="flatten", axis=1),
        helper.make_node("MatMul", ["f", "fc1.weight"], ["m"], name="fc1"),
        helper.make_node("Add", ["m", "fc1.bias"], ["mb"], name="fc1_add"),
        helper.make_node("Relu", ["mb"], ["r3"], name="relu3"),
        helper.make_node("Gemm", ["r3", "fc2.weight", "fc2.bias"], ["logits"], name="fc2",
                         transB=1),
    ]
    inits = [init("conv1.weight", w1), init("conv1.bias", b1), init("bn1.weight", scale),
             init("bn1.bias", bias), init("bn1.mean", mean), init("bn1.var", var),
             init("add.const", cadd), init("fc1.weight", wm), init("fc1.bias", bm),
             init("fc2.weight", wg), init("fc2.bias", bg)]
    g = helper.make_graph(nodes, "qs_cnn",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def qs_misc(rng):
    wg = rng.normal(0, 0.3, (12, 5)).astype(np.float32)   # transB=0: [K, N]
    bg = rng.normal(0, 0.1, (5,)).astype(np.float32)
    lnw = rng.uniform(0.5, 1.5, (5,)).astype(np.float32)
    lnb = rng.normal(0, 0.1, (5,)).astype(np.float32)
    wc = rng.normal(0, 0.3, (3, 2, 1, 1)).astype(np.float32)
    nodes = [
        helper.make_node("Resize", ["x", "", "scales"], ["up"], name="resize", mode="nearest"),
        helper.make_node("Conv", ["up", "convc.weight"], ["cc"], name="convc"),
        helper.make_node("Clip", ["cc", "clip.min", "clip.max"], ["cl"], name="clip"),
        helper.make_node("Transpose", ["cl"], ["tr"], name="transpose", perm=[0, 1, 3, 2]),
        helper.make_node("Sigmoid", ["tr"], ["sg"], name="sigmoid"),
        helper.make_node("Mul", ["sg", "tr"], ["mu"], name="mul"),
        helper.make_node("Concat", ["mu", "sg"], ["cat"], name="concat", axis=1),
        helper.make_node("Reshape", ["cat", "shape"], ["rs"], name="reshape"),
        helper.make_node("Gemm", ["rs", "gemm.weight", "gemm.bias"], ["gm"], name="gemm"),
        helper.make_node("Relu", ["gm"], ["gr"], name="relu"),
        helper.make_node("LayerNormalization", ["gr", "ln.weight", "ln.bias"], ["ln"],
                         name="ln", axis=-1),
        helper.make_node("Softmax", ["ln"], ["y"], name="softmax", axis=-1),
    ]
    inits = [init("scales", np.array([1, 1, 2, 2], np.float32)),
             init("convc.weight", wc),
             init("clip.min", np.array(0, np.float32)), init("clip.max", np.array(6, np.float32)),
             init("shape", np.array([-1, 12], np.int64)),
             init("gemm.weight", wg), init("gemm.bias", bg),
             init("ln.weight", lnw), init("ln.bias", lnb)]
    g = helper.make_graph(nodes, "qs_misc",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 1, 1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 5])],
                          inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(1234)
    for name, fn in (("qs_cnn", qs_cnn), ("qs_misc", qs_misc)):
        m = fn(rng)
        m.ir_version = 8
        onnx.checker.check_model(m)
        onnx.save(m, os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main()
