#!/usr/bin/python3
"""Guards the committed demo models (data/*.onnx, see data/README.md).

Checks with onnx 1.12: opset 13, input "input" [batch,1,28,28] and output
"logits" [batch,10] float32, BatchNormalization unfused and in eval form, the
op list. Then, if node and onnxruntime-node are available (NODE_PATH, default
/opt/ort/node_modules), runs tools/ort_eval.js over the 10,000 test images and
checks the FP32 accuracy recorded in data/README.md (within 5 images).
Exit 77 (skip) if onnx is missing or when run under valgrind.
"""
import os
import shutil
import subprocess
import sys

# Nothing of ours to check under `meson test --setup=valgrind`: skip early.
if 'vgpreload' in os.environ.get('LD_PRELOAD', ''):
    sys.exit(77)
try:
    import onnx
except ImportError:
    sys.exit(77)

ROOT = os.environ.get('QSIM_SOURCE_ROOT', os.path.join(os.path.dirname(__file__), '..', '..'))
MODELS = {
    'fmnist_cnn.onnx': ({'Conv': 3, 'BatchNormalization': 3, 'Relu': 3, 'MaxPool': 2,
                         'Flatten': 1, 'Gemm': 1}, 9210),
    'fmnist_dwsep.onnx': ({'Conv': 7, 'BatchNormalization': 7, 'Relu': 7, 'MaxPool': 2,
                           'GlobalAveragePool': 1, 'Flatten': 1, 'Gemm': 1}, 9007),
}


def dims(vi):
    return [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]


def check_graph(path, want_ops):
    m = onnx.load(path)
    onnx.checker.check_model(m)
    assert [o.version for o in m.opset_import if o.domain in ('', 'ai.onnx')] == [13], path
    g = m.graph
    assert [i.name for i in g.input] == ['input'], [i.name for i in g.input]
    assert [o.name for o in g.output] == ['logits'], [o.name for o in g.output]
    assert dims(g.input[0]) == ['batch', 1, 28, 28], dims(g.input[0])
    assert dims(g.output[0]) == ['batch', 10], dims(g.output[0])
    assert g.input[0].type.tensor_type.elem_type == onnx.TensorProto.FLOAT
    ops = {}
    for n in g.node:
        ops[n.op_type] = ops.get(n.op_type, 0) + 1
        if n.op_type == 'BatchNormalization':
            assert len(n.input) == 5 and len(n.output) == 1, n.name
            for a in n.attribute:
                assert a.name != 'training_mode' or a.i == 0, n.name
    assert ops == want_ops, (path, ops)
    assert os.path.getsize(path) < 1 << 20


def main():
    failed = 0
    for name, (ops, correct) in MODELS.items():
        path = os.path.join(ROOT, 'data', name)
        check_graph(path, ops)
        print('%s: graph ok' % name)
        node = shutil.which('node')
        node_path = os.environ.get('NODE_PATH', '/opt/ort/node_modules')
        if not node or not os.path.isdir(os.path.join(node_path, 'onnxruntime-node')):
            print('%s: onnxruntime-node not found, accuracy not checked' % name)
            continue
        env = dict(os.environ, NODE_PATH=node_path)
        out = subprocess.run([node, os.path.join(ROOT, 'tools', 'ort_eval.js'), path],
                             env=env, capture_output=True, text=True)
        print(out.stdout.strip(), out.stderr.strip())
        try:
            got = int(out.stdout.split('(')[-1].split('/')[0])
        except ValueError:
            got = -1
        if out.returncode != 0 or abs(got - correct) > 5:
            print('%s: FAIL, onnxruntime-node gets %d correct, README says %d' % (
                name, got, correct))
            failed = 1
    return failed


if __name__ == '__main__':
    sys.exit(main())
