#!/usr/bin/python3
"""Evaluate a committed demo ONNX model in torch (Debian python3-torch 1.13).

onnx 1.12 has no reference evaluator, so this rebuilds the torch module of
tools/train_demo.py from the ONNX initializers (their names are the torch
state_dict keys) and runs it in eval mode on the Fashion-MNIST test set.

    /usr/bin/python3 tools/eval_demo.py data/fmnist_cnn.onnx [--arch cnn]
        [--ort-logits F]   compare with logits dumped by tools/ort_eval.js --dump-logits
        [--w4]             also report 4-bit round-to-nearest weight accuracy

--w4 fake-quantizes every Conv and Gemm weight (not biases, not BN, no
activation quantization) per tensor, symmetric: scale = max|w| / 7,
q = clamp(round(w / scale), -8, 7), w' = q * scale. It is a rough indication
of how much 4-bit weights hurt each model, not AIMET's exact numbers.
"""
import argparse
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_demo  # noqa: E402


def load_model(path, arch):
    m = onnx.load(path)
    state = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
             for t in m.graph.initializer}
    model = train_demo.ARCHS[arch]()
    sd = model.state_dict()
    for k in sd:
        if k.endswith('num_batches_tracked'):
            state[k] = sd[k]
    model.load_state_dict(state, strict=True)
    model.eval()
    return model


def logits_of(model, x, batch=1000):
    outs = []
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            outs.append(model(x[i:i + batch]))
    return torch.cat(outs)


def fake_quant_w4(model):
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
                w = mod.weight
                scale = w.abs().max() / 7
                w.copy_(torch.clamp(torch.round(w / scale), -8, 7) * scale)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('--arch', choices=sorted(train_demo.ARCHS))
    ap.add_argument('--data-dir', default=train_demo.DATA_DIR)
    ap.add_argument('--ort-logits')
    ap.add_argument('--w4', action='store_true')
    args = ap.parse_args()
    arch = args.arch or ('dwsep' if 'dwsep' in os.path.basename(args.model) else 'cnn')
    torch.set_num_threads(2)

    img, lab = train_demo.load_split(args.data_dir, 't10k')
    x, y = train_demo.preprocess(img), torch.from_numpy(lab.astype(np.int64))
    model = load_model(args.model, arch)
    logits = logits_of(model, x)
    correct = int((logits.argmax(1) == y).sum())
    print('torch %s (%s) FP32 top-1 %.4f (%d/%d)' % (
        os.path.basename(args.model), arch, correct / len(y), correct, len(y)))

    if args.ort_logits:
        ort = np.fromfile(args.ort_logits, dtype=np.float32).reshape(-1, logits.shape[1])
        ref = logits.numpy()[:ort.shape[0]]
        diff = np.abs(ort - ref)
        same = int((ort.argmax(1) == ref.argmax(1)).sum())
        print('onnxruntime vs torch logits: max abs diff %.3g, max rel %.3g, argmax agree %d/%d' % (
            diff.max(), (diff / (np.abs(ref) + 1e-3)).max(), same, ort.shape[0]))
        if diff.max() > 1e-3:
            sys.exit('error: onnxruntime and torch eval outputs differ')

    if args.w4:
        fake_quant_w4(model)
        c4 = int((logits_of(model, x).argmax(1) == y).sum())
        print('torch %s W4 (per-tensor symmetric RTN, weights only) top-1 %.4f (%d/%d)' % (
            os.path.basename(args.model), c4 / len(y), c4, len(y)))


if __name__ == '__main__':
    main()
