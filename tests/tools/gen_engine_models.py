#!/usr/bin/python3
"""Models and reference outputs for libqsim's engine tests (tests/test_models.c).

Usage: gen_engine_models.py OUTDIR

Writes OUTDIR/<model>.onnx, input/output tensors as .bin files (the layout of
tests/tools/gen_backend_cases.py: b"QTEN", int32 elem_type, int32 rank,
int64 dims[rank], raw little-endian data) and OUTDIR/models.txt, one run per
line: "<model>.onnx <input>.bin <expected>.bin <rel_tol>". Consecutive lines
of one model run on the same sim (e.g. batch 1, then batch 3).

References are independent of libqsim: torch 1.13 (eval mode, the exported
module itself) for the torchvision and transformer models, numpy for the
hand-built old-opset models.
"""
import os
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = None
LINES = []


def save_bin(name, a):
    a = np.ascontiguousarray(a)
    dt = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int64): TensorProto.INT64}[a.dtype]
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(b"QTEN" + struct.pack("<ii", dt, a.ndim))
        f.write(struct.pack("<%dq" % a.ndim, *a.shape))
        f.write(a.tobytes())


def add_run(model, tag, x, y, tol=1e-4):
    save_bin("%s.%s.in.bin" % (model, tag), x)
    save_bin("%s.%s.out.bin" % (model, tag), y)
    LINES.append("%s.onnx %s.%s.in.bin %s.%s.out.bin %g" % (model, model, tag, model, tag, tol))


def torch_export(name, module, x, opset, check_ops=(), dynamic_batch=False):
    import torch
    module.eval()
    path = os.path.join(OUT, name + ".onnx")
    kw = {}
    if dynamic_batch:
        kw["dynamic_axes"] = {"input": {0: "batch"}, "output": {0: "batch"}}
    torch.onnx.export(module, x, path, opset_version=opset, input_names=["input"],
                      output_names=["output"], do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE, **kw)
    ops = {n.op_type for n in onnx.load(path).graph.node}
    for op in check_ops:
        if op not in ops:
            raise SystemExit("%s: expected a %s node, export gave %s" % (name, op, sorted(ops)))
    with torch.no_grad():
        y = module(x).numpy()
    return path, y


def vision_models():
    import torch
    import torchvision
    for name, ctor in (("resnet18", torchvision.models.resnet18),
                       ("mobilenet_v2", torchvision.models.mobilenet_v2)):
        torch.manual_seed(0)
        m = ctor(weights=None)
        m.eval()
        # random BN statistics so that unfused BatchNormalization matters
        g = torch.Generator().manual_seed(1)
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=g) * 0.1)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=g) * 0.5 + 0.75)
        x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(2))
        _, y = torch_export(name, m, x, 13, check_ops=("BatchNormalization", "Conv", "Gemm"))
        add_run(name, "b1", x.numpy(), y)


def transformer():
    import torch
    import torch.nn as nn

    class Block(nn.Module):
        """A pre-norm transformer encoder block written out explicitly."""

        def __init__(self, d=64, heads=4, ff=128):
            super().__init__()
            self.h, self.dk = heads, d // heads
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.fc1, self.fc2 = nn.Linear(d, ff), nn.Linear(ff, d)
            self.act = nn.GELU()

        def forward(self, x):
            b, t, d = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=-1)
            q = q.reshape(b, t, self.h, self.dk).transpose(1, 2)
            k = k.reshape(b, t, self.h, self.dk).transpose(1, 2)
            v = v.reshape(b, t, self.h, self.dk).transpose(1, 2)
            att = torch.softmax(q @ k.transpose(-2, -1) / (self.dk ** 0.5), dim=-1)
            o = (att @ v).transpose(1, 2).reshape(b, t, d)
            x = x + self.proj(o)
            return x + self.fc2(self.act(self.fc1(self.ln2(x))))

    torch.manual_seed(0)
    m = Block()
    x = torch.randn(2, 16, 64, generator=torch.Generator().manual_seed(3))
    _, y = torch_export("transformer", m, x, 17,
                        check_ops=("LayerNormalization", "MatMul", "Softmax", "Erf"),
                        dynamic_batch=True)
    add_run("transformer", "b2", x.numpy(), y)
    x3 = torch.randn(3, 16, 64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        add_run("transformer", "b3", x3.numpy(), m(x3).numpy())


def save_model(name, nodes, inputs, outputs, inits, opset):
    g = helper.make_graph(nodes, name, inputs, outputs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + ".onnx"))


def np_softmax_2d(x, axis):
    s = x.reshape(int(np.prod(x.shape[:axis])), -1)
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return (e / e.sum(axis=1, keepdims=True)).reshape(x.shape)


def old_opsets():
    """opset 6: Clip-6 (min/max attributes), Slice-1, Squeeze-1 and
    Unsqueeze-1 (attributes), Softmax-1 (2-D coercion at axis 1), Pad-2
    (pads attribute, reflect), Mul-6 with the legacy broadcast/axis
    attributes."""
    F = TensorProto.FLOAT
    nodes = [
        helper.make_node("Clip", ["x"], ["c"], min=-0.5, max=0.75),
        helper.make_node("Slice", ["c"], ["s"], starts=[1, -5], ends=[4, 100], axes=[1, 3]),
        helper.make_node("Unsqueeze", ["s"], ["u"], axes=[0]),
        helper.make_node("Squeeze", ["u"], ["q"], axes=[0]),
        helper.make_node("Softmax", ["q"], ["sm"], axis=1),
        helper.make_node("Pad", ["sm"], ["p"], mode="reflect", pads=[0, 0, 1, 2, 0, 0, 1, 0]),
        helper.make_node("Mul", ["p", "scale"], ["y"], broadcast=1, axis=1),
    ]
    rng = np.random.default_rng(5)
    scale = rng.standard_normal((3,)).astype(np.float32)
    save_model("old_opset6", nodes,
               [helper.make_tensor_value_info("x", F, [2, 5, 3, 7])],
               [helper.make_tensor_value_info("y", F, [2, 3, 5, 7])],
               [numpy_helper.from_array(scale, "scale")], 6)
    x = rng.standard_normal((2, 5, 3, 7)).astype(np.float32)
    c = np.clip(x, -0.5, 0.75)
    s = c[:, 1:4, :, 2:]
    p = np.pad(np_softmax_2d(s, 1), ((0, 0), (0, 0), (1, 1), (2, 0)), mode="reflect")
    y = p * scale.reshape(1, 3, 1, 1)
    add_run("old_opset6", "r", x, y.astype(np.float32), 1e-5)


def opset11():
    """opset 11: Resize-11 (roi + scales inputs, nearest/asymmetric/floor and
    linear/half_pixel), Split-11 (split attribute), Concat."""
    F = TensorProto.FLOAT
    empty = numpy_helper.from_array(np.zeros((0,), np.float32), "empty_roi")
    scales = numpy_helper.from_array(np.array([1, 1, 2, 3], np.float32), "scales")
    nodes = [
        helper.make_node("Split", ["x"], ["a", "b"], axis=1, split=[1, 3]),
        helper.make_node("Resize", ["a", "empty_roi", "scales"], ["ra"], mode="nearest",
                         coordinate_transformation_mode="asymmetric", nearest_mode="floor"),
        helper.make_node("Resize", ["b", "empty_roi", "scales"], ["rb"], mode="linear",
                         coordinate_transformation_mode="half_pixel"),
        helper.make_node("Concat", ["rb", "ra"], ["y"], axis=1),
    ]
    save_model("opset11", nodes, [helper.make_tensor_value_info("x", F, [1, 4, 3, 4])],
               [helper.make_tensor_value_info("y", F, [1, 4, 6, 12])], [empty, scales], 11)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 4, 3, 4)).astype(np.float32)
    a, b = x[:, :1], x[:, 1:]
    ra = a.repeat(2, axis=2).repeat(3, axis=3)

    def lin_axis(v, axis, scale):
        n = v.shape[axis]
        out_n = n * scale
        o = (np.arange(out_n) + 0.5) / scale - 0.5
        o = np.clip(o, 0, n - 1)
        i0 = np.floor(o).astype(int)
        i1 = np.minimum(i0 + 1, n - 1)
        w = (o - i0).astype(np.float64)
        v0, v1 = np.take(v, i0, axis=axis), np.take(v, i1, axis=axis)
        shape = [1] * v.ndim
        shape[axis] = out_n
        w = w.reshape(shape)
        return v0 * (1 - w) + v1 * w

    rb = lin_axis(lin_axis(b.astype(np.float64), 2, 2), 3, 3)
    y = np.concatenate([rb, ra], axis=1).astype(np.float32)
    add_run("opset11", "r", x, y, 1e-5)


def constant_weights():
    """Weights in Constant nodes instead of initializers: MatMul + Add + Relu
    twice, with a Constant feeding a Reshape target too."""
    F = TensorProto.FLOAT
    rng = np.random.default_rng(7)
    w1 = rng.standard_normal((12, 16)).astype(np.float32)
    b1 = rng.standard_normal((16,)).astype(np.float32)
    w2 = rng.standard_normal((16, 4)).astype(np.float32)

    def const(name, a):
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(a, name + "_v"))

    nodes = [
        const("w1", w1), const("b1", b1), const("w2", w2),
        const("shape", np.array([-1, 12], np.int64)),
        helper.make_node("Reshape", ["x", "shape"], ["xf"]),
        helper.make_node("MatMul", ["xf", "w1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Relu", ["hb"], ["hr"]),
        helper.make_node("MatMul", ["hr", "w2"], ["y"]),
    ]
    save_model("constant_weights", nodes, [helper.make_tensor_value_info("x", F, [2, 3, 4])],
               [helper.make_tensor_value_info("y", F, [2, 4])], [], 13)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    h = np.maximum(x.reshape(-1, 12).astype(np.float64) @ w1 + b1, 0)
    add_run("constant_weights", "r", x, (h @ w2).astype(np.float32), 1e-5)


def symbolic_batch():
    """Input [N,3,4] with a symbolic batch; the flatten target is computed
    from Shape -> Gather -> Unsqueeze -> Concat (folded by the engine), then
    Gemm-free MatMul, Sigmoid, Softmax. Run at batch 1, then 3, then 1."""
    F = TensorProto.FLOAT
    rng = np.random.default_rng(8)
    w = rng.standard_normal((12, 5)).astype(np.float32)
    inits = [numpy_helper.from_array(w, "w"),
             numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1")]
    nodes = [
        helper.make_node("Shape", ["x"], ["sh"]),
        helper.make_node("Gather", ["sh", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["xf"]),
        helper.make_node("MatMul", ["xf", "w"], ["h"]),
        helper.make_node("Sigmoid", ["h"], ["s"]),
        helper.make_node("Softmax", ["s"], ["y"], axis=-1),
    ]
    save_model("symbolic_batch", nodes, [helper.make_tensor_value_info("x", F, ["N", 3, 4])],
               [helper.make_tensor_value_info("y", F, ["N", 5])], inits, 11)
    for tag, n in (("b1", 1), ("b3", 3), ("b1again", 1)):
        x = rng.standard_normal((n, 3, 4)).astype(np.float32)
        h = x.reshape(n, 12).astype(np.float64) @ w
        s = 1 / (1 + np.exp(-h))
        e = np.exp(s - s.max(axis=1, keepdims=True))
        add_run("symbolic_batch", tag, x, (e / e.sum(axis=1, keepdims=True)).astype(np.float32), 1e-5)


def np_conv(x, w, b, stride, pad, group):
    """NCHW convolution, symmetric pads, by explicit loops over the kernel."""
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, m, oh, ow))
    mg = m // group
    for o in range(m):
        g = o // mg
        for ky in range(kh):
            for kx in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg, ky:ky + stride * oh:stride,
                           kx:kx + stride * ow:stride]
                y[:, o] += np.einsum("nchw,c->nhw", patch, w[o, :, ky, kx].astype(np.float64))
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y


def np_bn(x, p, eps=1e-5):
    s, b, mean, var = (a.astype(np.float64)[None, :, None, None] for a in p)
    return (x - mean) / np.sqrt(var + eps) * s + b


def fuse_models():
    """Chains the engine fuses (tests/test_fuse.c): Conv+BN+Relu, Conv+BN+Add
    (residual)+Relu, depthwise stride-2 Conv+BN+Clip(0, 6), 1x1 Conv+LeakyRelu,
    Conv+BN+Add without activation; and ones it must not fuse whole: a conv
    output that is also a graph output ('c6'), one with two consumers ('c7').
    A stem Conv+BN+Relu+MaxPool big enough for the MaxPool to join.
    Odd spatial sizes; BN with non-trivial statistics. Reference: numpy."""
    F = TensorProto.FLOAT
    rng = np.random.default_rng(7)
    inits, nodes = [], []

    def init(name, a):
        inits.append(numpy_helper.from_array(a.astype(np.float32), name))
        return a.astype(np.float32)

    def bn_params(name, c):
        p = (rng.uniform(0.5, 1.5, c), rng.normal(0, 0.2, c), rng.normal(0, 0.3, c),
             rng.uniform(0.5, 2.0, c))
        return [init(name + suf, a) for suf, a in zip(("_s", "_b", "_m", "_v"), p)]

    W = {}
    W["w1"] = init("w1", rng.normal(0, 0.2, (16, 8, 3, 3)))
    W["b1"] = init("b1", rng.normal(0, 0.1, 16))
    W["w2"] = init("w2", rng.normal(0, 0.1, (16, 16, 3, 3)))
    W["w3"] = init("w3", rng.normal(0, 0.3, (16, 1, 3, 3)))
    W["w4"] = init("w4", rng.normal(0, 0.2, (8, 16, 1, 1)))
    W["w5"] = init("w5", rng.normal(0, 0.2, (8, 16, 1, 1)))
    W["b5"] = init("b5", rng.normal(0, 0.1, 8))
    W["w6"] = init("w6", rng.normal(0, 0.2, (8, 8, 3, 3)))
    W["w7"] = init("w7", rng.normal(0, 0.2, (8, 8, 1, 1)))
    bn = {k: bn_params(k, c) for k, c in (("bn1", 16), ("bn2", 16), ("bn3", 16), ("bn4", 8))}
    init("lo", np.array(0.0))
    init("hi", np.array(6.0))
    mk = helper.make_node
    nodes += [
        mk("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        mk("BatchNormalization", ["c1"] + [k + s for k in ["bn1"] for s in ("_s", "_b", "_m", "_v")], ["n1"]),
        mk("Relu", ["n1"], ["r1"]),
        mk("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
        mk("BatchNormalization", ["c2", "bn2_s", "bn2_b", "bn2_m", "bn2_v"], ["n2"]),
        mk("Add", ["r1", "n2"], ["a2"]),
        mk("Relu", ["a2"], ["r2"]),
        mk("Conv", ["r2", "w3"], ["c3"], pads=[1, 1, 1, 1], strides=[2, 2], group=16),
        mk("BatchNormalization", ["c3", "bn3_s", "bn3_b", "bn3_m", "bn3_v"], ["n3"]),
        mk("Clip", ["n3", "lo", "hi"], ["k3"]),
        mk("Conv", ["k3", "w5", "b5"], ["c5"]),
        mk("LeakyRelu", ["c5"], ["l5"], alpha=0.1),
        mk("Conv", ["k3", "w4"], ["c4"]),
        mk("BatchNormalization", ["c4", "bn4_s", "bn4_b", "bn4_m", "bn4_v"], ["n4"]),
        mk("Add", ["n4", "l5"], ["a4"]),
        mk("Conv", ["a4", "w6"], ["c6"], pads=[1, 1, 1, 1]),
        mk("Relu", ["c6"], ["r6"]),
        mk("Conv", ["r6", "w7"], ["c7"]),
        mk("Relu", ["c7"], ["r7"]),
        mk("Add", ["r7", "c7"], ["y"]),
    ]
    save_model("fuse_chain", nodes, [helper.make_tensor_value_info("x", F, ["N", 8, 9, 11])],
               [helper.make_tensor_value_info("y", F, ["N", 8, 5, 6]),
                helper.make_tensor_value_info("c6", F, ["N", 8, 5, 6])], inits, 13)
    relu = lambda v: np.maximum(v, 0)
    for tag, n in (("b1", 1), ("b3", 3)):
        x = rng.normal(0, 1, (n, 8, 9, 11)).astype(np.float32)
        r1 = relu(np_bn(np_conv(x, W["w1"], W["b1"], 1, 1, 1), bn["bn1"]))
        r2 = relu(r1 + np_bn(np_conv(r1, W["w2"], None, 1, 1, 1), bn["bn2"]))
        k3 = np.clip(np_bn(np_conv(r2, W["w3"], None, 2, 1, 16), bn["bn3"]), 0, 6)
        c5 = np_conv(k3, W["w5"], W["b5"], 1, 0, 1)
        l5 = np.where(c5 < 0, 0.1 * c5, c5)
        a4 = np_bn(np_conv(k3, W["w4"], None, 1, 0, 1), bn["bn4"]) + l5
        c6 = np_conv(a4, W["w6"], None, 1, 1, 1)
        c7 = np_conv(relu(c6), W["w7"], None, 1, 0, 1)
        y = relu(c7) + c7
        add_run("fuse_chain", tag, x, y.astype(np.float32), 1e-5)
    # a CNN stem: Conv+BN+Relu+MaxPool, one image's conv output 512 KiB (the
    # MaxPool joins the group at batch > 1 and it runs image by image)
    W["ws"] = init("ws", rng.normal(0, 0.3, (32, 3, 3, 3)))
    W["bs"] = init("bs", rng.normal(0, 0.1, 32))
    bns = bn_params("bns", 32)
    nodes = [mk("Conv", ["x", "ws", "bs"], ["cs"], pads=[1, 1, 1, 1]),
             mk("BatchNormalization", ["cs", "bns_s", "bns_b", "bns_m", "bns_v"], ["ns"]),
             mk("Relu", ["ns"], ["rs"]),
             mk("MaxPool", ["rs"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])]
    save_model("fuse_stem", nodes, [helper.make_tensor_value_info("x", F, ["N", 3, 64, 64])],
               [helper.make_tensor_value_info("y", F, ["N", 32, 32, 32])],
               [i for i in inits if i.name in ("ws", "bs") or i.name.startswith("bns")], 13)
    for tag, n in (("b1", 1), ("b3", 3)):
        x = rng.normal(0, 1, (n, 3, 64, 64)).astype(np.float32)
        r = relu(np_bn(np_conv(x, W["ws"], W["bs"], 1, 1, 1), bns))
        rp = np.pad(r, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
        y = np.full((n, 32, 32, 32), -np.inf)
        for ky in range(3):
            for kx in range(3):
                y = np.maximum(y, rp[:, :, ky:ky + 64:2, kx:kx + 64:2])
        add_run("fuse_stem", tag, x, y.astype(np.float32), 1e-5)
    # the opset-6 forms: BatchNormalization-6 (spatial), Clip-6 attributes
    nodes = [mk("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
             mk("BatchNormalization", ["c1", "bn1_s", "bn1_b", "bn1_m", "bn1_v"], ["n1"],
                epsilon=1e-3, is_test=1),
             mk("Clip", ["n1"], ["y"], min=-0.5, max=1.25)]
    save_model("fuse_opset6", nodes, [helper.make_tensor_value_info("x", F, [2, 8, 9, 11])],
               [helper.make_tensor_value_info("y", F, [2, 16, 9, 11])],
               [i for i in inits if i.name in ("w1", "b1") or i.name.startswith("bn1")], 6)
    x = rng.normal(0, 1, (2, 8, 9, 11)).astype(np.float32)
    y = np.clip(np_bn(np_conv(x, W["w1"], W["b1"], 1, 1, 1), bn["bn1"], 1e-3), -0.5, 1.25)
    add_run("fuse_opset6", "r", x, y.astype(np.float32), 1e-5)


def api_models():
    """Small models for tests/test_sim.c (no reference outputs)."""
    F = TensorProto.FLOAT
    # unsupported ops, reported together
    nodes = [
        helper.make_node("Relu", ["boxes"], ["r"], name="relu0"),
        helper.make_node("NonMaxSuppression", ["r", "scores"], ["sel1"], name="nms1"),
        helper.make_node("NonMaxSuppression", ["r", "scores"], ["sel2"], name="nms2"),
        helper.make_node("TopK", ["scores", "k"], ["tv", "ti"], name="topk1"),
    ]
    g = helper.make_graph(nodes, "unsupported",
                          [helper.make_tensor_value_info("boxes", F, [1, 4, 4]),
                           helper.make_tensor_value_info("scores", F, [1, 1, 4])],
                          [helper.make_tensor_value_info("sel1", TensorProto.INT64, [None, 3]),
                           helper.make_tensor_value_info("sel2", TensorProto.INT64, [None, 3]),
                           helper.make_tensor_value_info("tv", F, None)],
                          [numpy_helper.from_array(np.array([2], np.int64), "k")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, os.path.join(OUT, "api_unsupported.onnx"))
    # outputs that are a graph input, an initializer and a Constant output;
    # two inputs, one with a symbolic dim; an int64 input
    c = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3), "c")
    nodes = [
        helper.make_node("Add", ["a", "b"], ["sum"], name="add"),
        helper.make_node("Relu", ["sum"], ["y"], name="relu"),
        helper.make_node("Constant", [], ["k"], name="const",
                         value=numpy_helper.from_array(np.array([7.0, 8.0], np.float32), "kv")),
        helper.make_node("Gather", ["c", "idx"], ["g"], name="gather", axis=1),
    ]
    g = helper.make_graph(nodes, "api",
                          [helper.make_tensor_value_info("a", F, [2, 3]),
                           helper.make_tensor_value_info("b", F, ["N", 3]),
                           helper.make_tensor_value_info("idx", TensorProto.INT64, [2])],
                          [helper.make_tensor_value_info("y", F, None),
                           helper.make_tensor_value_info("a", F, [2, 3]),
                           helper.make_tensor_value_info("c", F, [2, 3]),
                           helper.make_tensor_value_info("k", F, [2]),
                           helper.make_tensor_value_info("g", F, None)], [c])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, os.path.join(OUT, "api_io.onnx"))
    # a long chain for arena reuse: x -> Relu -> Sigmoid -> ... (40 nodes),
    # with a Reshape (alias) in the middle
    nodes, prev = [], "x"
    for i in range(40):
        op = ("Relu", "Sigmoid", "Tanh", "Neg")[i % 3]
        nodes.append(helper.make_node(op, [prev], ["t%d" % i], name="n%d" % i))
        prev = "t%d" % i
    nodes.append(helper.make_node("Reshape", [prev, "shape"], ["flat"], name="flatten"))
    nodes.append(helper.make_node("Mul", ["flat", "w"], ["y"], name="scale"))
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", F, ["N", 64])],
                          [helper.make_tensor_value_info("y", F, None)],
                          [numpy_helper.from_array(np.array([-1], np.int64), "shape"),
                           numpy_helper.from_array(np.array([2.0], np.float32), "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, os.path.join(OUT, "api_chain.onnx"))
    # shapes that only fail at plan time: a broadcast that does not fit and
    # a Reshape target that cannot hold the data
    nodes = [helper.make_node("Add", ["x", "v"], ["s"], name="bad_add"),
             helper.make_node("Reshape", ["s", "t"], ["y"], name="bad_reshape")]
    g = helper.make_graph(nodes, "bad_shapes", [helper.make_tensor_value_info("x", F, ["N", 4])],
                          [helper.make_tensor_value_info("y", F, None)],
                          [numpy_helper.from_array(np.ones(4, np.float32), "v"),
                           numpy_helper.from_array(np.array([3, -1], np.int64), "t")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, os.path.join(OUT, "api_bad_shapes.onnx"))
    # omitted ("") outputs: Split's second part and TopK-free ops still write
    # them; the engine gives them scratch space
    nodes = [helper.make_node("Split", ["x"], ["a", ""], name="split", axis=1),
             helper.make_node("Neg", ["a"], ["y"], name="neg")]
    g = helper.make_graph(nodes, "omitted", [helper.make_tensor_value_info("x", F, [2, 6])],
                          [helper.make_tensor_value_info("y", F, [2, 3])], [])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(m, os.path.join(OUT, "api_omitted.onnx"))


def main():
    global OUT
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    which = sys.argv[2:] or ["small", "vision"]
    if "small" in which:
        api_models()
        old_opsets()
        opset11()
        constant_weights()
        symbolic_batch()
        fuse_models()
        transformer()
    if "vision" in which:
        vision_models()
    with open(os.path.join(OUT, "models.txt"), "w") as f:
        f.write("\n".join(LINES) + "\n")


if __name__ == "__main__":
    main()
