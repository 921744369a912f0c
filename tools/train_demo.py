#!/usr/bin/python3
"""Train the bundled libqsim demo models on Fashion-MNIST and export them to ONNX.

Usage (from the source root; Debian's python3-torch 1.13, CPU only):
    nice -n 10 /usr/bin/python3 tools/train_demo.py --arch cnn   --out data/fmnist_cnn.onnx
    nice -n 10 /usr/bin/python3 tools/train_demo.py --arch dwsep --out data/fmnist_dwsep.onnx

Data: the IDX files of Debian's dataset-fashion-mnist package, read directly
(gzip + numpy, no torchvision download).

Preprocessing (the C side must do exactly this, see examples/common/idx.h):
    x = (pixel / 255 - MEAN) / STD,  MEAN = 0.2860, STD = 0.3530
    pixels as float32, layout NCHW with C = 1, H = W = 28.

The exported graphs keep BatchNormalization unfused (do_constant_folding=False,
TrainingMode.PRESERVE on a model in eval() mode: BN nodes use running stats).
Input "input" [batch,1,28,28] float32, output "logits" [batch,10] float32.
"""
import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = 0.2860
STD = 0.3530
DATA_DIR = '/usr/share/datasets/fashion-mnist'


def read_idx(path):
    """Reads an IDX file (u8 data only) into a numpy array, checking the header."""
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError('%s: too short' % path)
    zero, dtype, ndim = struct.unpack('>HBB', raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError('%s: not an unsigned-byte IDX file' % path)
    dims = struct.unpack('>' + 'I' * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError('%s: size mismatch' % path)
    return data.reshape(dims)


def load_split(data_dir, split):
    images = read_idx(os.path.join(data_dir, '%s-images-idx3-ubyte.gz' % split))
    labels = read_idx(os.path.join(data_dir, '%s-labels-idx1-ubyte.gz' % split))
    return images, labels


def preprocess(images_u8):
    x = images_u8.astype(np.float32) / np.float32(255.0)
    x = (x - np.float32(MEAN)) / np.float32(STD)
    return torch.from_numpy(x[:, None, :, :].copy())


class FmnistCnn(nn.Module):
    """Plain CNN: 3 x (Conv3x3-BN-ReLU), max pools after the first two, one Gemm."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64 * 7 * 7, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.conv3(x)))
        return self.fc(torch.flatten(x, 1))


def dw_block(cin, cout):
    """Depthwise 3x3 + BN + ReLU, then pointwise 1x1 + BN + ReLU (MobileNet v1)."""
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class FmnistDwsep(nn.Module):
    """MobileNet-style net; depthwise layers have few weights per channel and
    widely varying per-channel ranges, so 4-bit per-tensor weights hurt."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1, bias=False),
                                  nn.BatchNorm2d(16), nn.ReLU())
        self.block1 = dw_block(16, 32)
        self.block2 = dw_block(32, 64)
        self.block3 = dw_block(64, 128)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = self.stem(x)
        x = F.max_pool2d(self.block1(x), 2)
        x = F.max_pool2d(self.block2(x), 2)
        x = self.block3(x)
        x = F.adaptive_avg_pool2d(x, 1)
        return self.fc(torch.flatten(x, 1))


ARCHS = {'cnn': FmnistCnn, 'dwsep': FmnistDwsep}


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            correct += int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    return correct / x.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--arch', choices=sorted(ARCHS), default='cnn')
    ap.add_argument('--out', required=True, help='ONNX file to write')
    ap.add_argument('--data-dir', default=DATA_DIR)
    ap.add_argument('--epochs', type=int, default=4)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=0.01)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    tr_img, tr_lab = load_split(args.data_dir, 'train')
    te_img, te_lab = load_split(args.data_dir, 't10k')
    xtr, ytr = preprocess(tr_img), torch.from_numpy(tr_lab.astype(np.int64))
    xte, yte = preprocess(te_img), torch.from_numpy(te_lab.astype(np.int64))
    print('train %s, test %s, train pixel mean %.4f std %.4f (using %.4f / %.4f)' % (
        tuple(tr_img.shape), tuple(te_img.shape), tr_img.mean() / 255, tr_img.std() / 255,
        MEAN, STD))

    model = ARCHS[args.arch]()
    nparams = sum(p.numel() for p in model.parameters())
    print('arch %s: %d parameters, seed %d, %d epochs, batch %d, threads %d' % (
        args.arch, nparams, args.seed, args.epochs, args.batch, args.threads))
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                          weight_decay=5e-4)
    steps = args.epochs * ((xtr.shape[0] + args.batch - 1) // args.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr * 10, total_steps=steps)

    t0 = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.from_numpy(rng.permutation(xtr.shape[0]))
        loss_sum, n = 0.0, 0
        for i in range(0, xtr.shape[0], args.batch):
            idx = perm[i:i + args.batch]
            xb, yb = xtr[idx], ytr[idx]
            if epoch < args.epochs - 1:
                # Random horizontal flips (not in the last epoch, to settle BN stats).
                flip = torch.from_numpy(rng.random(xb.shape[0]) < 0.5)
                xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += float(loss) * xb.shape[0]
            n += xb.shape[0]
        acc = evaluate(model, xte, yte)
        print('epoch %d: train loss %.4f, test top-1 %.4f, %.1f s' % (
            epoch + 1, loss_sum / n, acc, time.time() - t0))
        sys.stdout.flush()
    train_s = time.time() - t0
    acc = evaluate(model, xte, yte)
    print('FP32 torch eval test top-1: %.4f (%d/%d), training time %.1f s' % (
        acc, round(acc * xte.shape[0]), xte.shape[0], train_s))

    model.eval()
    dummy = xte[:2]
    torch.onnx.export(model, dummy, args.out, opset_version=13, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    check_export(args.out, model, xte)


def check_export(path, model, xte):
    import onnx
    m = onnx.load(path)
    onnx.checker.check_model(m)
    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    print('ONNX %s: %d bytes, opset %d, ops %s' % (
        path, os.path.getsize(path), m.opset_import[0].version,
        ', '.join('%s x%d' % kv for kv in sorted(ops.items()))))
    bn = [n for n in m.graph.node if n.op_type == 'BatchNormalization']
    if not bn:
        sys.exit('error: BatchNormalization was fused away')
    for n in bn:
        tm = [a.i for a in n.attribute if a.name == 'training_mode']
        if (tm and tm[0] != 0) or len(n.output) != 1:
            sys.exit('error: %s is in training mode' % n.name)
    print('BatchNormalization nodes: %s' % ', '.join(n.name for n in bn))
    print('inputs %s, outputs %s' % ([i.name for i in m.graph.input],
                                     [o.name for o in m.graph.output]))


if __name__ == '__main__':
    main()
