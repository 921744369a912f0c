#!/usr/bin/env python3
"""Reference quantizer placement for libqsim's tests, written from SPEC.md
sections 1.2 and 7 (AIMET-ONNX's QuantizationSimModel + quantsim config),
independently of the C code. Walks the graph with the onnx package.

Usage: placement_ref.py MODEL.onnx CONFIG.json PARAM_BW ACT_BW DTYPE(int|float)

Prints one line per quantizer, in qc_quantize_op_dict order (graph inputs,
then per node its inputs not yet seen, then its outputs):
    name kind enabled op_type symmetric+2*strict bitwidth dtype channels
kind is 'act' or 'param'; op_type is '-' for a model input.
"""
import json
import sys

import onnx
from onnx import TensorProto, shape_inference

IGNORED_PRODUCERS = {"Flatten", "Gather", "Reshape", "Shape", "Unsqueeze", "Squeeze", "Split",
                     "Compress", "Tile", "Transpose", "Identity"}
CONSTANT_TYPES = {"Constant", "ConstantOfShape"}


def truth(v):
    if v is None:
        return None
    return v == "True"


def param_slots(node):
    """{input index: param type} following ConnectedGraph."""
    t = node.op_type
    if t in ("Conv", "ConvTranspose", "Gemm"):
        return {1: "weight", 2: "bias"}
    if t == "MatMul":
        return {1: "weight"}
    if t == "BatchNormalization":
        return {1: "weight", 2: "bias", 3: None, 4: None}
    if t in ("InstanceNormalization", "LayerNormalization", "GroupNormalization"):
        return {1: "weight", 2: "bias"}
    return {}


def main():
    path, cfg_path, param_bw, act_bw, dtype = sys.argv[1:6]
    param_bw, act_bw = int(param_bw), int(act_bw)
    model = onnx.load(path)
    cfg = json.load(open(cfg_path))
    g = model.graph
    try:
        inferred = shape_inference.infer_shapes(model).graph
    except Exception:  # pragma: no cover
        inferred = g

    elem = {}
    for vi in list(inferred.value_info) + list(inferred.input) + list(inferred.output):
        if vi.type.tensor_type.elem_type:
            elem[vi.name] = vi.type.tensor_type.elem_type
    consts = {}  # name -> numpy array shape
    for init in g.initializer:
        elem[init.name] = init.data_type
        consts[init.name] = list(init.dims)
    producer = {}
    consumers = {}
    for i, n in enumerate(g.node):
        for o in n.output:
            if o:
                producer[o] = i
        for x in n.input:
            if x:
                consumers.setdefault(x, []).append(i)
        if n.op_type == "Constant":
            for a in n.attribute:
                if a.name == "value":
                    elem[n.output[0]] = a.t.data_type
                    consts[n.output[0]] = list(a.t.dims)
    init_names = {i.name for i in g.initializer}
    real_inputs = [i.name for i in g.input if i.name not in init_names]

    def is_float(name):
        return elem.get(name, TensorProto.FLOAT) == TensorProto.FLOAT

    # 1. params (first node that uses a constant in a param slot)
    params = {}
    for i, n in enumerate(g.node):
        for k, ptype in param_slots(n).items():
            if k < len(n.input) and n.input[k] and n.input[k] in consts and \
                    is_float(n.input[k]) and n.input[k] not in params:
                params[n.input[k]] = (ptype, i)

    def quantizable(name):
        if not is_float(name):
            return False
        p = producer.get(name)
        return p is None or g.node[p].op_type not in IGNORED_PRODUCERS

    def linear_bias(n, k):
        if n.op_type != "Add" or len(n.input) != 2:
            return False
        v, o = n.input[k], n.input[1 - k]
        if v not in init_names or len(consts[v]) != 1:
            return False
        p = producer.get(o)
        return p is not None and g.node[p].op_type == "MatMul" and len(consumers.get(o, [])) == 1

    # 2. the dict in graph order
    order = []
    q = {}
    input_q = set()

    def add(name, kind, node):
        q[name] = {"kind": kind, "node": node, "enabled": True, "sym": False, "strict": False,
                   "bw": 8, "dtype": "int", "channels": 1}
        order.append(name)

    for name in real_inputs:
        if name not in params and quantizable(name):
            add(name, "act", None)
    for i, n in enumerate(g.node):
        for k, x in enumerate(n.input):
            if not x or x in q:
                continue
            if x in params:
                add(x, "param", consumers[x][0])
                continue
            if n.op_type == "Resize" and k > 0:
                continue
            if linear_bias(n, k):
                continue
            if not quantizable(x):
                continue
            add(x, "act", producer.get(x))
            input_q.add(x)
        for x in n.output:
            if x and x not in params and quantizable(x) and x not in q:
                add(x, "act", i)

    def acts(names):
        return [x for x in names if x in q and q[x]["kind"] == "act"]

    def op_params(n):
        out = []
        for k, ptype in param_slots(n).items():
            if k < len(n.input) and n.input[k] in params:
                out.append((n.input[k], ptype))
        return out

    ops = [i for i, n in enumerate(g.node) if n.op_type not in CONSTANT_TYPES]

    def is_const_produced(x):
        p = producer.get(x)
        return p is not None and g.node[p].op_type in CONSTANT_TYPES

    def input_op(i):
        return all(not x or producer.get(x) is None or is_const_produced(x) for x in g.node[i].input)

    def output_op(i):
        return all(not x or not consumers.get(x) for x in g.node[i].output)

    class Step:
        def __init__(self):
            self.mod = {}

        def set(self, name, what, val):
            key = "enabled" if what == "en" else "sym"
            seen = self.mod.setdefault(name, set())
            if what in seen:
                if q[name][key] != val:
                    raise SystemExit("config conflict on %s" % name)
                return
            q[name][key] = val
            seen.add(what)

    def config_op(step, i, in_q, out_q, sym, rule):
        n = g.node[i]
        if in_q is not None:
            for x in acts(n.input):
                step.set(x, "en", in_q)
        if out_q is not None:
            for x in acts(n.output):
                step.set(x, "en", out_q)
        if sym is not None:
            for x in acts(list(n.input) + list(n.output)):
                step.set(x, "sym", sym)
        if rule and "params" in rule:
            for pname, ptype in op_params(n):
                pr = rule["params"].get(ptype) if ptype else None
                if pr:
                    set_param(pname, pr)

    def set_param(name, pr):
        if "is_quantized" in pr:
            q[name]["enabled"] = truth(pr["is_quantized"])
        if "is_symmetric" in pr:
            q[name]["sym"] = truth(pr["is_symmetric"])

    d = cfg["defaults"]
    for x in q.values():
        x["enabled"] = False
    step = Step()
    dops = d.get("ops", {})
    for i in ops:
        config_op(step, i, None, truth(dops.get("is_output_quantized")),
                  truth(dops.get("is_symmetric")), None)
    for i in ops:
        if input_op(i):
            for x in acts(g.node[i].input):
                q[x]["enabled"] = False
    for name in order:
        if q[name]["kind"] == "act" and (name in input_q or is_const_produced(name)):
            q[name]["enabled"] = False
    for name in order:
        if q[name]["kind"] == "param":
            set_param(name, d.get("params", {}))
    for name in order:
        if "strict_symmetric" in d:
            q[name]["strict"] = truth(d["strict_symmetric"])

    for i in range(len(g.node)):
        for pname, ptype in op_params(g.node[i]):
            if ptype and ptype in cfg.get("params", {}):
                set_param(pname, cfg["params"][ptype])
    step = Step()
    for i in ops:
        rule = cfg.get("op_type", {}).get(g.node[i].op_type)
        if rule:
            config_op(step, i, truth(rule.get("is_input_quantized")),
                      truth(rule.get("is_output_quantized")), truth(rule.get("is_symmetric")), rule)
    for sg in cfg.get("supergroups", []):
        types = sg["op_list"]
        for i in range(len(g.node)):
            chain, cur, ok = [], i, True
            for k, t in enumerate(types):
                n = g.node[cur]
                if n.op_type != t:
                    ok = False
                    break
                chain.append(cur)
                if k + 1 == len(types):
                    break
                outs = consumers.get(n.output[0], []) if n.output else []
                if len(outs) != 1:
                    ok = False
                    break
                cur = outs[0]
            if ok:
                for c in chain[:-1]:
                    for x in acts(g.node[c].output):
                        q[x]["enabled"] = False
    mi = truth(cfg.get("model_input", {}).get("is_input_quantized"))
    if mi is not None:
        step = Step()
        for i in ops:
            if input_op(i):
                config_op(step, i, mi, None, None, None)
        for name in order:
            if q[name]["kind"] == "act" and name not in step.mod and \
                    (name in input_q or is_const_produced(name)):
                step.set(name, "en", mi)
    mo = truth(cfg.get("model_output", {}).get("is_output_quantized"))
    if mo is not None:
        for i in ops:
            if output_op(i):
                config_op(Step(), i, None, mo, None, None)
    for name in order:
        x = q[name]
        x["dtype"] = dtype
        x["bw"] = 16 if dtype == "float" else (param_bw if x["kind"] == "param" else act_bw)
        # aimet-onnx [B] exception rule: normalization params get >= 8 bits;
        # BatchNormalization/LayerNormalization params are asymmetric < 16.
        nop = g.node[x["node"]].op_type if x["node"] is not None else None
        if dtype != "float" and x["kind"] == "param" and nop in (
                "BatchNormalization", "LayerNormalization", "InstanceNormalization",
                "GroupNormalization"):
            x["bw"] = max(x["bw"], 8)
            if nop in ("BatchNormalization", "LayerNormalization") and x["bw"] < 16:
                x["sym"] = False
    # per-channel (Conv, ConvTranspose, Gemm, MatMul params)
    dpcq = truth(d.get("per_channel_quantization")) or False
    for i, n in enumerate(g.node):
        rule = cfg.get("op_type", {}).get(n.op_type, {})
        pcq = truth(rule.get("per_channel_quantization"))
        if pcq is None:
            pcq = dpcq
        if not pcq or n.op_type not in ("Conv", "ConvTranspose", "Gemm", "MatMul"):
            continue
        for pname, _ in op_params(n):
            if q[pname]["channels"] != 1 or q[pname].get("axis") is not None:
                continue
            dims = consts[pname]
            if len(dims) == 1:
                axis = 0
            elif n.op_type == "ConvTranspose":
                axis = 1
            elif n.op_type == "Gemm":
                tb = [a.i for a in n.attribute if a.name == "transB"]
                axis = 0 if (tb and tb[0]) else 1
            elif n.op_type == "MatMul":
                axis = len(dims) - 1
            else:
                axis = 0
            q[pname]["axis"] = axis
            q[pname]["channels"] = dims[axis]

    for name in order:
        x = q[name]
        op = g.node[x["node"]].op_type if x["node"] is not None else "-"
        print("%s %s %d %s %d %d %s %d" % (name, x["kind"], x["enabled"], op,
                                            x["sym"] + 2 * x["strict"], x["bw"], x["dtype"],
                                            x["channels"]))


if __name__ == "__main__":
    main()
