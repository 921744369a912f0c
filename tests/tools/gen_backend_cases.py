#!/usr/bin/python3
"""Generate ONNX's own backend node test cases for libqsim's conformance test.

Usage: gen_backend_cases.py OUTDIR

Runs onnx's `backend-test-tools generate-data` (onnx 1.12 from Debian) with
the numpy-alias fix of /work/shared/tools/gen_node_data.py (numpy 1.24 removed
np.float & co., which some onnx 1.12 generators still use), then keeps every
node case whose ops are all in the engine's list (see OPS; Constant nodes
allowed) (plus the function-expanded cases of listed ops, whatever their bodies
use), and converts its test_data_set_0 tensors to a trivial binary format
the C test reads without protobuf:

  OUTDIR/<case>/model.onnx        copied unchanged
  OUTDIR/<case>/input_K.bin       K-th graph input (non-initializer)
  OUTDIR/<case>/output_K.bin      K-th graph output
  OUTDIR/cases.txt                "<case> <n_inputs> <n_outputs>" per line
  OUTDIR/partial.txt              cases that use a listed op together with
                                  ops outside the list (not run; for the record)

.bin layout (little-endian): b"QTEN", int32 elem_type (TensorProto.DataType),
int32 rank, int64 dims[rank], then the elements (bool: 1 byte each; float16
and bfloat16: their 16-bit patterns). A string tensor is written with no data;
a sequence or optional value as elem_type -1 with rank 0.
"""
import builtins
import os
import shutil
import struct
import sys
import tempfile

import numpy as np

for _name in ("float", "int", "bool", "object", "str", "complex"):
    if _name not in np.__dict__:
        setattr(np, _name, getattr(builtins, _name))

import onnx  # noqa: E402
from onnx import TensorProto, numpy_helper  # noqa: E402

OPS = set("""Conv ConvTranspose Gemm MatMul BatchNormalization Relu PRelu LeakyRelu Clip
Sigmoid HardSigmoid HardSwish Tanh Erf Softmax Add Sub Mul Div Pow Sqrt Equal Where MaxPool
AveragePool GlobalAveragePool GlobalMaxPool Flatten Reshape Transpose Concat Split Slice
Squeeze Unsqueeze Pad Resize Upsample ReduceMean LayerNormalization Identity Dropout Cast
Constant ConstantOfShape Shape Gather Expand QuantizeLinear DequantizeLinear""".split())


def generate(workdir):
    from onnx.backend.test.cmd_tools import main
    argv = sys.argv
    sys.argv = ["backend-test-tools", "generate-data", "-o", workdir]
    try:
        main()
    finally:
        sys.argv = argv


def write_tensor(path, t, model_type):
    try:
        a = numpy_helper.to_array(t)
    except ValueError:
        a = None  # a sequence or optional value, not a TensorProto
    if a is None or not t.dims and not t.ListFields():
        with open(path, "wb") as f:
            f.write(b"QTEN" + struct.pack("<ii", -1, 0))
        return
    dt = t.data_type
    if dt == TensorProto.UINT16 and model_type == TensorProto.BFLOAT16:
        dt = TensorProto.BFLOAT16  # onnx 1.12 stores bfloat16 test data as uint16
    with open(path, "wb") as f:
        f.write(b"QTEN")
        f.write(struct.pack("<ii", dt, a.ndim))
        f.write(struct.pack("<%dq" % a.ndim, *a.shape))
        if dt == TensorProto.STRING:
            return
        if dt == TensorProto.BOOL:
            a = a.astype(np.uint8)
        elif dt == TensorProto.BFLOAT16:
            a = a.astype(np.uint16)
        f.write(np.ascontiguousarray(a).tobytes())


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="qsim-onnx-cases-")
    try:
        generate(work)
        node = os.path.join(work, "node")
        cases, partial = [], []
        for case in sorted(os.listdir(node)):
            src = os.path.join(node, case)
            model_path = os.path.join(src, "model.onnx")
            if not os.path.exists(model_path):
                continue
            m = onnx.load(model_path)
            ops = {n.op_type for n in m.graph.node}
            if not ops & OPS:
                continue
            # a function-expanded case of a listed op (test_softmax_*_expanded)
            # is that op's case even though its body uses other ops
            expanded_of_listed = case.endswith("_expanded") and any(
                case[5:].replace("_", "").startswith(o.lower()) for o in OPS if len(o) > 4)
            if not ops <= OPS and not expanded_of_listed:
                partial.append("%s %s" % (case, ",".join(sorted(ops - OPS))))
                continue
            data = os.path.join(src, "test_data_set_0")
            ins = sorted(f for f in os.listdir(data) if f.startswith("input_"))
            outs = sorted(f for f in os.listdir(data) if f.startswith("output_"))
            dst = os.path.join(out, case)
            os.makedirs(dst, exist_ok=True)
            shutil.copy(model_path, os.path.join(dst, "model.onnx"))
            inits = {t.name for t in m.graph.initializer}
            types = {
                "input": [i.type.tensor_type.elem_type for i in m.graph.input if i.name not in inits],
                "output": [o.type.tensor_type.elem_type for o in m.graph.output],
            }
            for kind, files in (("input", ins), ("output", outs)):
                for fn in files:
                    k = int(fn[len(kind) + 1:-3])
                    t = onnx.load_tensor(os.path.join(data, fn))
                    mt = types[kind][k] if k < len(types[kind]) else 0
                    write_tensor(os.path.join(dst, "%s_%d.bin" % (kind, k)), t, mt)
            cases.append("%s %d %d" % (case, len(ins), len(outs)))
        with open(os.path.join(out, "partial.txt"), "w") as f:
            f.write("\n".join(partial) + "\n")
        with open(os.path.join(out, "cases.txt"), "w") as f:
            f.write("\n".join(cases) + "\n")
        print("%d cases, %d partial" % (len(cases), len(partial)))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
