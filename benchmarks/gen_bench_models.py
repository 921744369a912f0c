#!/usr/bin/python3
"""Benchmark models: torchvision resnet18 and mobilenet_v2 with random
(seeded) weights, BatchNormalization unfused, dynamic batch, opset 13.

    /usr/bin/python3 benchmarks/gen_bench_models.py OUTDIR
"""
import os
import sys

import onnx
import torch
import torchvision


def export(name, model, outdir):
    torch.manual_seed(0)
    model.eval()
    path = os.path.join(outdir, name + ".onnx")
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["output"], do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    ops = {n.op_type for n in onnx.load(path).graph.node}
    if "BatchNormalization" not in ops:
        raise SystemExit(name + ": BatchNormalization was folded")
    print(path)


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else "."
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)
    export("resnet18", torchvision.models.resnet18(weights=None), outdir)
    torch.manual_seed(0)
    export("mobilenet_v2", torchvision.models.mobilenet_v2(weights=None), outdir)


if __name__ == "__main__":
    main()
