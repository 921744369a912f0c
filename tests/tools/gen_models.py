#!/usr/bin/env python3
"""Generate ONNX test models for libqsim's loader tests.

Usage: gen_models.py OUTDIR [name ...]   (no names: every model)

Each model is made by one function `model_<name>(outdir)` that writes
OUTDIR/<name>.onnx. Valid models also get OUTDIR/<name>.json: a summary
computed by the onnx Python package's own view of the file (onnx.load and
numpy_helper), which the C tests compare the loader against. Hostile models
(names starting with bad_) are built with onnx.helper without the checker.
Other scripts may import this module and reuse `summarize` and `save`.
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _dims(vi):
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            out.append(d.dim_value)
        elif d.HasField("dim_param"):
            out.append(d.dim_param)
        else:
            out.append(None)
    return out


def summarize(path):
    """The reference view of a model, from onnx.load (external data loaded)."""
    m = onnx.load(path)
    g = m.graph
    init_names = {t.name for t in g.initializer}
    inits = []
    total = 0
    for t in g.initializer:
        a = numpy_helper.to_array(t)
        total += int(a.size)
        inits.append({"name": t.name, "dtype": int(t.data_type), "dims": list(a.shape),
                      "sum": float(np.sum(a.astype(np.float64))),
                      "first": [float(x) for x in a.astype(np.float64).ravel()[:4]]})
    consts = []
    for n in g.node:
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    arr = numpy_helper.to_array(a.t)
                elif a.name == "value_float":
                    arr = np.array(a.f, dtype=np.float32)
                elif a.name == "value_floats":
                    arr = np.array(list(a.floats), dtype=np.float32)
                elif a.name == "value_int":
                    arr = np.array(a.i, dtype=np.int64)
                elif a.name == "value_ints":
                    arr = np.array(list(a.ints), dtype=np.int64)
                else:
                    continue
                consts.append({"name": n.output[0], "dims": list(arr.shape),
                               "sum": float(np.sum(arr.astype(np.float64)))})
    return {
        "ir_version": m.ir_version,
        "opsets": [[o.domain, o.version] for o in m.opset_import],
        "nodes": [[n.name, n.op_type, list(n.input), list(n.output)] for n in g.node],
        "inputs": [{"name": i.name, "elem_type": i.type.tensor_type.elem_type, "dims": _dims(i)}
                   for i in g.input if i.name not in init_names],
        "outputs": [{"name": o.name, "elem_type": o.type.tensor_type.elem_type, "dims": _dims(o)}
                    for o in g.output],
        "initializers": inits,
        "param_count": total,
        "constants": consts,
    }


def save(model, outdir, name, summary=True, **kw):
    path = os.path.join(outdir, name + ".onnx")
    onnx.save(model, path, **kw)
    if summary:
        with open(os.path.join(outdir, name + ".json"), "w") as f:
            json.dump(summarize(path), f, indent=1)
    return path


def _torch_export(net, x, outdir, name, **kw):
    import torch
    path = os.path.join(outdir, name + ".onnx")
    net.eval()
    with torch.no_grad():
        torch.onnx.export(net, x, path, input_names=["input"], output_names=["output"], **kw)
    with open(os.path.join(outdir, name + ".json"), "w") as f:
        json.dump(summarize(path), f, indent=1)


# ---- valid models ---------------------------------------------------------

def model_resnet18(outdir):
    import torch
    import torchvision
    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None)
    _torch_export(net, torch.randn(1, 3, 224, 224), outdir, "resnet18", opset_version=13)


def _small_cnn():
    import torch
    from torch import nn
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 4 * 4, 10))


def model_symbolic_batch(outdir):
    """Opset 13 with a symbolic batch dimension named 'batch'."""
    import torch
    _torch_export(_small_cnn(), torch.randn(2, 1, 8, 8), outdir, "symbolic_batch",
                  opset_version=13,
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})


def model_old_opset(outdir):
    """Opset 9 with every initializer also listed as a graph input (IR 3 style)."""
    import torch
    _torch_export(_small_cnn(), torch.randn(1, 1, 8, 8), outdir, "old_opset",
                  opset_version=9, keep_initializers_as_inputs=True)


def _conv_graph(weight_nodes, inits, name):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 5, 5])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = weight_nodes + [
        helper.make_node("Conv", ["x", "W", "B"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Reshape", ["c", "shape"], ["r"], name="reshape"),
        helper.make_node("Mul", ["r", "scale"], ["m"], name="mul"),
        helper.make_node("Add", ["m", "bias1"], ["y"], name="add"),
    ]
    return helper.make_graph(nodes, name, [x], [y], initializer=inits)


def model_constant_weights(outdir):
    """Weights held in Constant nodes (value, value_float, value_floats, value_ints)."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    consts = [
        helper.make_node("Constant", [], ["W"], name="cW", value=numpy_helper.from_array(w, "W")),
        helper.make_node("Constant", [], ["B"], name="cB", value_floats=b.tolist()),
        helper.make_node("Constant", [], ["shape"], name="cS", value_ints=[-1, 75]),
        helper.make_node("Constant", [], ["scale"], name="cK", value_float=0.5),
        helper.make_node("Constant", [], ["bias1"], name="cI",
                         value=numpy_helper.from_array(np.array([1.5], np.float32), "bias1")),
    ]
    g = _conv_graph(consts, [], "constant_weights")
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    save(m, outdir, "constant_weights")


def model_external_data(outdir):
    """Initializers stored in an external file next to the model."""
    rng = np.random.default_rng(2)
    inits = [numpy_helper.from_array(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), "W"),
             numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "B"),
             numpy_helper.from_array(np.array([-1, 75], np.int64), "shape"),
             numpy_helper.from_array(np.array(0.25, np.float32), "scale"),
             numpy_helper.from_array(np.array([2.0], np.float32), "bias1")]
    g = _conv_graph([], inits, "external_data")
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    save(m, outdir, "external_data", save_as_external_data=True, all_tensors_to_one_file=True,
         location="external_data.onnx.data", size_threshold=0)


def model_typed_data(outdir):
    """Initializers in the typed TensorProto fields (not raw_data), every dtype."""
    arrays = {
        "f32": np.array([[1.5, -2.25, 3.0], [0.0, 1e-3, -7.0]], np.float32),
        "f16": np.array([1.0, -0.5, 65504.0, 6e-5], np.float16),
        "f64": np.array([1e100, -2.5], np.float64),
        "i8": np.array([-128, 0, 127], np.int8),
        "u8": np.array([0, 200, 255], np.uint8),
        "i16": np.array([-32768, 5, 32767], np.int16),
        "u16": np.array([0, 40000, 65535], np.uint16),
        "i32": np.array([-2147483648, 7, 2147483647], np.int32),
        "i64": np.array([-(2 ** 62), 9, 2 ** 40], np.int64),
        "u32": np.array([0, 4000000000], np.uint32),
        "u64": np.array([1, 2 ** 63 + 5], np.uint64),
        "b": np.array([True, False, True], np.bool_),
    }
    inits, outs, nodes = [], [], []
    for name, a in arrays.items():
        dt = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype]
        # (onnx 1.12's make_tensor stores float16 values as their bit
        # patterns in int32_data itself)
        t = helper.make_tensor(name, dt, a.shape, a.ravel().tolist())
        assert not t.HasField("raw_data")
        inits.append(t)
        nodes.append(helper.make_node("Identity", [name], ["out_" + name], name="id_" + name))
        outs.append(helper.make_tensor_value_info("out_" + name, dt, list(a.shape)))
    g = helper.make_graph(nodes, "typed_data", [], outs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    save(m, outdir, "typed_data")


def model_unsorted(outdir):
    """Nodes listed out of order (a diamond, reversed): the loader sorts them."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    nodes = [helper.make_node("Add", ["l", "r"], ["y"], name="join"),
             helper.make_node("Neg", ["a"], ["r"], name="right"),
             helper.make_node("Relu", ["a"], ["l"], name="left"),
             helper.make_node("Abs", ["x"], ["a"], name="top")]
    g = helper.make_graph(nodes, "unsorted", [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    save(m, outdir, "unsorted", summary=False)


def model_chain_100k(outdir):
    """A 100,000-node Relu chain: loads without recursion or quadratic work."""
    n = 100000
    nodes = [helper.make_node("Relu", ["t%d" % i], ["t%d" % (i + 1)]) for i in range(n)]
    g = helper.make_graph(nodes, "chain",
                          [helper.make_tensor_value_info("t0", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("t%d" % n, TensorProto.FLOAT, [1])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    save(m, outdir, "chain_100k", summary=False)


def _if_model(name, unsorted):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    c = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    t_out = helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])
    e_out = helper.make_tensor_value_info("e", TensorProto.FLOAT, [2])
    then_g = helper.make_graph([helper.make_node("Relu", ["r"], ["t"], name="then_relu")],
                               "then", [], [t_out])
    else_g = helper.make_graph([helper.make_node("Neg", ["r"], ["e"], name="else_neg")],
                               "else", [], [e_out])
    nodes = [helper.make_node("Abs", ["x"], ["r"], name="abs"),
             helper.make_node("If", ["cond"], ["y"], name="if", then_branch=then_g,
                              else_branch=else_g)]
    if unsorted:
        nodes.reverse()
    g = helper.make_graph(nodes, name, [x, c], [y])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def model_if_subgraph(outdir):
    """An If node with GRAPH attributes whose branches read an outer value."""
    save(_if_model("if_subgraph", False), outdir, "if_subgraph")


def model_if_unsorted(outdir):
    """The If node listed before the producer of the value its branches read."""
    save(_if_model("if_unsorted", True), outdir, "if_unsorted", summary=False)


def model_loop_nested(outdir):
    """A Loop whose body holds an If whose branch reads two outer values."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    then_g = helper.make_graph(
        [helper.make_node("Add", ["acc_in", "scale"], ["t"], name="inner_add")], "then", [],
        [helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])])
    else_g = helper.make_graph(
        [helper.make_node("Identity", ["acc_in"], ["e"], name="inner_id")], "else", [],
        [helper.make_tensor_value_info("e", TensorProto.FLOAT, [2])])
    body = helper.make_graph(
        [helper.make_node("If", ["flag"], ["acc_out"], name="body_if", then_branch=then_g,
                          else_branch=else_g),
         helper.make_node("Identity", ["cond_in"], ["cond_out"], name="body_cond")],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [2])])
    inits = [numpy_helper.from_array(np.array(3, np.int64), "trips"),
             numpy_helper.from_array(np.array(True), "flag")]
    nodes = [helper.make_node("Loop", ["trips", "", "x"], ["y"], name="loop", body=body),
             helper.make_node("Neg", ["x"], ["scale"], name="make_scale")]
    g = helper.make_graph(nodes, "loop_nested", [x], [y], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    save(m, outdir, "loop_nested", summary=False)


# ---- hostile models -------------------------------------------------------

def _tiny(nodes, inits=(), inputs=None, outputs=None, opset=13):
    inputs = inputs if inputs is not None else [
        helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])]
    outputs = outputs if outputs is not None else [
        helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])]
    g = helper.make_graph(nodes, "bad", inputs, outputs, initializer=list(inits))
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def _add_w(t):
    return _tiny([helper.make_node("Add", ["x", t.name], ["y"], name="add")], [t])


def _raw(name, dims, nbytes):
    t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims)
    t.raw_data = bytes(nbytes)
    return t


def model_bad_raw_short(outdir):
    save(_add_w(_raw("w_short", [2], 7)), outdir, "bad_raw_short", summary=False)


def model_bad_raw_long(outdir):
    save(_add_w(_raw("w_long", [2], 9)), outdir, "bad_raw_long", summary=False)


def model_bad_float_data_long(outdir):
    t = TensorProto(name="w_typed", data_type=TensorProto.FLOAT, dims=[2])
    t.float_data.extend([1.0, 2.0, 3.0])
    save(_add_w(t), outdir, "bad_float_data_long", summary=False)


def model_bad_dim_2_62(outdir):
    save(_add_w(_raw("w_huge", [2 ** 62], 8)), outdir, "bad_dim_2_62", summary=False)


def model_bad_input_dim_overflow(outdir):
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2 ** 62, 2 ** 62])
    m = _tiny([helper.make_node("Relu", ["x"], ["y"], name="relu")], inputs=[x])
    save(m, outdir, "bad_input_dim_overflow", summary=False)


def model_bad_rank9(outdir):
    x = helper.make_tensor_value_info("x9", TensorProto.FLOAT, [1] * 9)
    m = _tiny([helper.make_node("Relu", ["x9"], ["y"], name="relu")], inputs=[x])
    save(m, outdir, "bad_rank9", summary=False)


def _ext(name, location):
    t = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=[2])
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", location
    return t


def model_bad_ext_dotdot(outdir):
    save(_add_w(_ext("w_dotdot", "../x")), outdir, "bad_ext_dotdot", summary=False)


def model_bad_ext_abs(outdir):
    save(_add_w(_ext("w_abs", "/etc/passwd")), outdir, "bad_ext_abs", summary=False)


def model_bad_ext_symlink(outdir):
    link = os.path.join(outdir, "bad_ext_symlink.link")
    if os.path.lexists(link):
        os.remove(link)
    os.symlink("/etc/passwd", link)
    save(_add_w(_ext("w_link", "bad_ext_symlink.link")), outdir, "bad_ext_symlink", summary=False)


def model_bad_ext_missing(outdir):
    save(_add_w(_ext("w_missing", "no_such_file.bin")), outdir, "bad_ext_missing", summary=False)


def model_bad_ext_short(outdir):
    with open(os.path.join(outdir, "bad_ext_short.bin"), "wb") as f:
        f.write(bytes(4))
    save(_add_w(_ext("w_extshort", "bad_ext_short.bin")), outdir, "bad_ext_short", summary=False)


def model_bad_dup_initializer(outdir):
    ts = [_raw("w_twice", [2], 8), _raw("w_twice", [2], 8)]
    m = _tiny([helper.make_node("Add", ["x", "w_twice"], ["y"], name="add")], ts)
    save(m, outdir, "bad_dup_initializer", summary=False)


def model_bad_constant_novalue(outdir):
    nodes = [helper.make_node("Constant", [], ["k"], name="empty_const"),
             helper.make_node("Add", ["x", "k"], ["y"], name="add")]
    save(_tiny(nodes), outdir, "bad_constant_novalue", summary=False)


def model_bad_sparse_constant(outdir):
    vals = helper.make_tensor("v", TensorProto.FLOAT, [1], [1.0])
    idx = helper.make_tensor("i", TensorProto.INT64, [1], [0])
    sp = helper.make_sparse_tensor(vals, idx, [2])
    nodes = [helper.make_node("Constant", [], ["k"], name="sparse_const", sparse_value=sp),
             helper.make_node("Add", ["x", "k"], ["y"], name="add")]
    save(_tiny(nodes), outdir, "bad_sparse_constant", summary=False)


def model_bad_output_undefined(outdir):
    nodes = [helper.make_node("Relu", ["x"], ["z"], name="relu")]
    save(_tiny(nodes), outdir, "bad_output_undefined", summary=False)


def model_bad_subgraph_cycle(outdir):
    """An If whose branch reads the If's own output."""
    t_out = helper.make_tensor_value_info("t", TensorProto.FLOAT, [2])
    then_g = helper.make_graph([helper.make_node("Relu", ["y"], ["t"], name="reads_y")],
                               "then", [], [t_out])
    c = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    nodes = [helper.make_node("If", ["cond"], ["y"], name="self_if", then_branch=then_g,
                              else_branch=then_g)]
    save(_tiny(nodes, inputs=[c]), outdir, "bad_subgraph_cycle", summary=False)


def model_bad_cycle(outdir):
    nodes = [helper.make_node("Add", ["x", "b"], ["a"], name="n_a"),
             helper.make_node("Relu", ["a"], ["b"], name="n_b"),
             helper.make_node("Relu", ["a"], ["y"], name="n_y")]
    save(_tiny(nodes), outdir, "bad_cycle", summary=False)


def model_bad_dup_producer(outdir):
    nodes = [helper.make_node("Relu", ["x"], ["y"], name="first"),
             helper.make_node("Neg", ["x"], ["y"], name="second")]
    save(_tiny(nodes), outdir, "bad_dup_producer", summary=False)


def model_bad_dangling(outdir):
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="adder")]
    save(_tiny(nodes), outdir, "bad_dangling", summary=False)


# int4 (22) / uint4 (21): two values per byte, built by hand (onnx 1.12
# has no helpers for them).
def _t4(name, dtype, dims, raw=None, i32=None):
    t = TensorProto(name=name, data_type=dtype, dims=dims)
    if raw is not None:
        t.raw_data = bytes(raw)
    if i32 is not None:
        t.int32_data.extend(i32)
    return t


def _dq4(t, opset=21):
    s = helper.make_tensor("s4", TensorProto.FLOAT, [], [1.0])
    nodes = [helper.make_node("DequantizeLinear", [t.name, "s4"], ["d"], name="dq4"),
             helper.make_node("Add", ["x", "d"], ["y"], name="add")]
    return _tiny(nodes, [t, s], opset=opset)


def model_bad_int4_raw_short(outdir):
    # 5 values need 3 bytes
    save(_dq4(_t4("w4_short", 22, [5], raw=b"\x12\x34")), outdir, "bad_int4_raw_short",
         summary=False)


def model_bad_int4_raw_long(outdir):
    # 4 values need 2 bytes (as if unpacked, one per byte)
    save(_dq4(_t4("w4_long", 21, [4], raw=b"\x01\x02\x03\x04")), outdir, "bad_int4_raw_long",
         summary=False)


def model_bad_int4_typed_count(outdir):
    # 3 values need 2 int32_data entries (one packed byte each), not 3
    save(_dq4(_t4("w4_typed", 22, [3], i32=[1, 2, 3])), outdir, "bad_int4_typed_count",
         summary=False)


def model_bad_int4_typed_value(outdir):
    save(_dq4(_t4("w4_val", 22, [2], i32=[300])), outdir, "bad_int4_typed_value",
         summary=False)


def model_bad_int4_huge(outdir):
    # 2^62 values would be 2^61 packed bytes; 8 bytes given
    save(_dq4(_t4("w4_huge", 22, [2 ** 62], raw=bytes(8))), outdir, "bad_int4_huge",
         summary=False)


def model_bad_int4_dims_overflow(outdir):
    save(_dq4(_t4("w4_ovf", 21, [2 ** 40, 2 ** 40], raw=bytes(8))), outdir,
         "bad_int4_dims_overflow", summary=False)


def model_bad_int4_constant(outdir):
    c = _t4("cv", 22, [2, 2], raw=b"\x11")  # 4 values need 2 bytes
    nodes = [helper.make_node("Constant", [], ["k"], name="const4", value=c),
             helper.make_node("DequantizeLinear", ["k", "s4"], ["d"], name="dq4"),
             helper.make_node("Add", ["x", "d"], ["y"], name="add")]
    s = helper.make_tensor("s4", TensorProto.FLOAT, [], [1.0])
    save(_tiny(nodes, [s], opset=21), outdir, "bad_int4_constant", summary=False)


MODELS = {k[len("model_"):]: v for k, v in sorted(globals().items()) if k.startswith("model_")}


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    outdir = argv[1]
    os.makedirs(outdir, exist_ok=True)
    for name in argv[2:] or list(MODELS):
        MODELS[name](outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
