#!/usr/bin/python3
"""Independent whole-model AdaRound reference (SPEC 8, aimet_onnx semantics).

Written from SPEC 8 with torch autograd and torch.optim.Adam; shares no code
with libqsim. Encodings and QDQ grids come from tests/tools/quant_ref.py
(the project's numpy reference of SPEC 3). The network is rebuilt in torch
from the ONNX graph itself (a small interpreter for the ops the demo models
use), with the weights read by onnx.numpy_helper.

What it does, as aimet_onnx's Adaround.apply_adaround with default
parameters except the iteration count:
  * param quantizers (the default config's placement): every Conv/Gemm
    weight W4 per-tensor symmetric, min-max ('tf'); BatchNormalization scale,
    mean and var 8-bit asymmetric per-tensor (aimet-onnx [B]: norm params get
    >= 8 bits, asymmetric below 16); biases (Gemm, BN) not quantized;
  * no activation quantization while optimising;
  * layer by layer in topological order: X = the layer's input from the
    model whose earlier layers are already rounded and whose quantized
    params are QDQ'd; Y = the FP32 model's layer output; the loss is taken
    after the activation that is the layer output's first consumer (Relu,
    Clip as ReLU6, Sigmoid, Tanh, Softmax), else on the layer output itself
    (a Conv feeding BatchNormalization has no activation in its loss);
  * 32 random cached samples per Adam step (torch.randperm over ALL cached
    samples: AIMET's only-the-first-batch bug is not reproduced), Adam lr
    1e-3, reg 0.01, beta 20 -> 2 cosine after a 0.2 warm start, zeta 1.1,
    gamma -0.1; hard rounding up iff alpha >= 0.

Usage:
  adaround_model_ref.py MODEL.onnx OUTDIR [--data-dir D] [--samples 1024]
      [--iterations 2000] [--reg 0.01] [--seed 0] [--threads 1]
      [--eval-limit 0]
Prints 'SKIP: ...' and exits 0 when torch or the data is missing (the test
then reports a skip). Writes OUTDIR/ref.onnx (the model with every Conv/Gemm weight replaced by
its rounded grid value), OUTDIR/ref.encodings (AIMET 1.0.0, param
encodings of those weights: set_and_freeze them) and prints, computed in
torch on the test set: FP32 top-1, W4 round-to-nearest top-1 and W4
AdaRound top-1 (weights and BN params quantized, FP32 activations), one
'KEY VALUE' line each (fp32_top1, w4_rtn_top1, w4_ref_top1).
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

import numpy as np
import onnx
import onnx.numpy_helper
try:
    import torch
    import torch.nn.functional as Fn
except ImportError:  # the test then skips (exit 77) instead of failing the build
    print('SKIP: python3-torch is not installed')
    sys.exit(0)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quant_ref  # noqa: E402

ZETA, GAMMA = 1.1, -0.1
BATCH_SIZE = 32
MEAN, STD = 0.2860, 0.3530
F32 = np.float32


# ------------------------------------------------------------------ data
def read_idx(path):
    with gzip.open(path, 'rb') as f:
        raw = f.read()
    zero, dtype, ndim = struct.unpack('>HBB', raw[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError('%s: not an unsigned-byte IDX file' % path)
    dims = struct.unpack('>' + 'I' * ndim, raw[4:4 + 4 * ndim])
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def images(path, limit=0):
    u8 = read_idx(path)
    if limit:
        u8 = u8[:limit]
    x = u8.astype(F32) / F32(255.0)  # data/README.md: each step in float32
    x = (x - F32(MEAN)) / F32(STD)
    return torch.from_numpy(np.ascontiguousarray(x[:, None, :, :]))


# ------------------------------------------------------------------ graph
def attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def conv(x, w, b, at):
    p = list(at.get('pads', [0, 0, 0, 0]))
    # ONNX pads [h_begin, w_begin, h_end, w_end]; F.pad wants [w_b, w_e, h_b, h_e]
    x = Fn.pad(x, [p[1], p[3], p[0], p[2]])
    return Fn.conv2d(x, w, b, list(at.get('strides', [1, 1])), 0,
                     list(at.get('dilations', [1, 1])), at.get('group', 1))


def gemm(x, w, b, at):
    if at.get('transA', 0):
        raise ValueError('Gemm transA is not supported here')
    y = at.get('alpha', 1.0) * (x @ (w.t() if at.get('transB', 0) else w))
    return y + at.get('beta', 1.0) * b if b is not None else y


def run_node(n, at, v):
    t = n.op_type
    if t == 'Conv':
        return conv(v[0], v[1], v[2] if len(v) > 2 else None, at)
    if t == 'Gemm':
        return gemm(v[0], v[1], v[2] if len(v) > 2 else None, at)
    if t == 'BatchNormalization':
        return Fn.batch_norm(v[0], v[3], v[4], v[1], v[2], False, 0.0, at.get('epsilon', 1e-5))
    if t == 'Relu':
        return torch.relu(v[0])
    if t == 'MaxPool':
        p = at.get('pads', [0, 0, 0, 0])
        if any(p) or at.get('ceil_mode', 0):
            raise ValueError('MaxPool pads/ceil_mode not supported here')
        return Fn.max_pool2d(v[0], list(at['kernel_shape']), list(at.get('strides', [1, 1])))
    if t == 'GlobalAveragePool':
        return v[0].mean(dim=(2, 3), keepdim=True)
    if t == 'Flatten':
        a = at.get('axis', 1)
        return v[0].reshape(int(np.prod(v[0].shape[:a])), -1)
    raise ValueError('op %s (%s) is not supported by this reference' % (t, n.name))


class Net:
    def __init__(self, model):
        self.g = model.graph
        self.nodes = list(self.g.node)  # ONNX requires topological order
        self.at = [attrs(n) for n in self.nodes]
        self.params = {t.name: torch.from_numpy(onnx.numpy_helper.to_array(t).copy())
                       for t in self.g.initializer}
        self.inp = [i.name for i in self.g.input if i.name not in self.params][0]
        self.out = self.g.output[0].name

    def forward(self, params, x, want):
        env = dict(params)
        env[self.inp] = x
        got = {}
        for n, at in zip(self.nodes, self.at):
            y = run_node(n, at, [env[i] if i else None for i in n.input])
            env[n.output[0]] = y
            if n.output[0] in want:
                got[n.output[0]] = y
            for i in n.input:
                if i in want:
                    got[i] = env[i]
            if len(got) == len(want):
                break
        return got

    def batched(self, params, x, name, bs=256):
        with torch.no_grad():
            return torch.cat([self.forward(params, x[i:i + bs], {name})[name]
                              for i in range(0, x.shape[0], bs)])

    def consumers(self, tensor):
        return [n for n in self.nodes if tensor in n.input]


# ------------------------------------------------------------------ quantizers
def weight_encoding(w, bw):
    """W per-tensor symmetric min-max (SPEC 3.1) and its QDQ grid (SPEC 3.3)."""
    mn, mx, delta, off, _ = quant_ref.encode('tf', [w.numpy()], bw, quant_ref.SYM, 100.0)
    return {'min': mn, 'max': mx, 'delta': delta, 'offset': off,
            'grid': quant_ref.qdq_grid(mn, mx, bw)}


def qdq_asym8(t):
    mn, mx, _, _, _ = quant_ref.encode('tf', [t.numpy()], 8, 0, 100.0)
    return torch.from_numpy(quant_ref.qdq(t.numpy(), quant_ref.qdq_grid(mn, mx, 8), False))


def layer_activation(net, n):
    """AIMET: the mapped module of the output's first consumer, if it is one."""
    cons = net.consumers(n.output[0])
    if not cons:
        return None, lambda t: t
    t = cons[0].op_type
    table = {'Relu': torch.relu, 'Clip': Fn.relu6, 'Sigmoid': torch.sigmoid,
             'Tanh': torch.tanh, 'Softmax': lambda v: torch.softmax(v, 1)}
    if t == 'PRelu':
        raise ValueError('PRelu consumer not supported by this reference')
    return (t, table[t]) if t in table else (None, lambda v: v)


def adaround_layer(w, enc, bw, X, Y, fwd, act, iters, reg, beta, warm):
    """SPEC 8.3: returns the hard-rounded integer grid index (0..2^bw-1)."""
    qmax = 2 ** bw - 1
    d = torch.tensor(enc['delta'], dtype=torch.float32)
    o = torch.tensor(enc['offset'], dtype=torch.float32)
    wf = torch.floor(w / d)
    r = w / d - wf
    alpha = (-torch.log((ZETA - GAMMA) / (r - GAMMA) - 1)).clone().requires_grad_(True)
    opt = torch.optim.Adam([alpha])
    yt = act(Y)
    wn = warm * iters
    for it in range(iters):
        idx = torch.randperm(X.shape[0])[:BATCH_SIZE]
        h = torch.clamp(torch.sigmoid(alpha) * (ZETA - GAMMA) + GAMMA, 0, 1)
        ws = (torch.clamp(wf + h - o, 0, qmax) + o) * d
        yh = act(fwd(X[idx], ws))
        loss = (torch.norm(yh - yt[idx], p='fro', dim=1) ** 2).mean()
        if it >= wn:
            b = beta[1] + 0.5 * (beta[0] - beta[1]) * (1 + math.cos((it - wn) / (iters - wn) * math.pi))
            loss = loss + reg * (1 - torch.abs(2 * h - 1) ** b).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    up = (alpha.detach() >= 0).float()
    return torch.clamp(wf + up - o, 0, qmax), torch.clamp(torch.round(w / d) - o, 0, qmax)


def grid_values(k, enc):
    """Integer index k -> the float32 value QDQ with enc's grid produces."""
    _, _, gd, go = enc['grid']
    v = (F32(gd) * (k.numpy().astype(F32) + F32(go))).astype(F32)
    back = quant_ref.qdq(v, enc['grid'], False)
    if not np.array_equal(back, v):
        raise RuntimeError('grid values are not QDQ fixed points')
    return torch.from_numpy(v)


# ------------------------------------------------------------------ main
def top1(net, params, x, labels, bs=500):
    c = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], bs):
            y = net.forward(params, x[i:i + bs], {net.out})[net.out]
            c += int((y.argmax(1) == labels[i:i + bs]).sum())
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('model')
    ap.add_argument('outdir')
    ap.add_argument('--data-dir', default='/usr/share/datasets/fashion-mnist')
    ap.add_argument('--samples', type=int, default=1024)
    ap.add_argument('--iterations', type=int, default=2000)
    ap.add_argument('--reg', type=float, default=0.01)
    ap.add_argument('--param-bw', type=int, default=4)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--eval-limit', type=int, default=0)
    a = ap.parse_args()
    for split in ('train', 't10k'):
        if not os.path.exists(os.path.join(a.data_dir, '%s-images-idx3-ubyte.gz' % split)):
            print('SKIP: no Fashion-MNIST in %s' % a.data_dir)
            return
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    t0 = time.time()

    model = onnx.load(a.model)
    net = Net(model)
    fp = net.params
    layers = [(n, at) for n, at in zip(net.nodes, net.at)
              if n.op_type in ('Conv', 'Gemm') and len(n.input) > 1 and n.input[1] in fp]
    # Quantized params: BN scale/mean/var QDQ'd (8-bit asym), weights W4.
    qp = dict(fp)
    for n in net.nodes:
        if n.op_type == 'BatchNormalization':
            for name in (n.input[1], n.input[3], n.input[4]):
                qp[name] = qdq_asym8(fp[name])
    encs = {n.input[1]: weight_encoding(fp[n.input[1]], a.param_bw) for n, _ in layers}
    rtn = dict(qp)
    for name, e in encs.items():
        rtn[name] = torch.from_numpy(quant_ref.qdq(fp[name].numpy(), e['grid'], False))

    xs = images(os.path.join(a.data_dir, 'train-images-idx3-ubyte.gz'), a.samples)
    print('model %s: %d layers, %d samples x %d iterations, W%d, seed %d'
          % (os.path.basename(a.model), len(layers), xs.shape[0], a.iterations, a.param_bw, a.seed))
    cur = dict(rtn)  # not-yet-rounded weights: nearest (irrelevant to X upstream)
    changed = total = 0
    for n, at in layers:
        wname = n.input[1]
        X = net.batched(cur, xs, n.input[0])
        Y = net.batched(fp, xs, n.output[0])
        b = fp[n.input[2]] if len(n.input) > 2 and n.input[2] else None
        if n.op_type == 'Conv':
            def fwd(x, w, at=at, b=b):
                return conv(x, w, b, at)
        else:
            def fwd(x, w, at=at, b=b):
                return Fn.linear(x, w if at.get('transB', 0) else w.t(), b)
        actname, act = layer_activation(net, n)
        t1 = time.time()
        k, knear = adaround_layer(fp[wname], encs[wname], a.param_bw, X, Y, fwd, act,
                                  a.iterations, a.reg, (20.0, 2.0), 0.2)
        cur[wname] = grid_values(k, encs[wname])
        diff = int((k != knear).sum())
        changed += diff
        total += k.numel()
        print('  %-28s %-6s X %-18s loss act %-5s delta %.6g: %d/%d differ from nearest, %.1f s'
              % (n.name, n.op_type, tuple(X.shape), actname or 'none', encs[wname]['delta'],
                 diff, k.numel(), time.time() - t1))
        sys.stdout.flush()

    os.makedirs(a.outdir, exist_ok=True)
    for init in model.graph.initializer:
        if init.name in encs:
            init.CopyFrom(onnx.numpy_helper.from_array(cur[init.name].numpy(), init.name))
    onnx.save(model, os.path.join(a.outdir, 'ref.onnx'))
    entries = [{'name': name, 'enc_type': 'PER_TENSOR', 'dtype': 'INT', 'bw': a.param_bw,
                'is_sym': True, 'scale': [e['delta']], 'offset': [float(e['offset'])]}
               for name, e in encs.items()]
    with open(os.path.join(a.outdir, 'ref.encodings'), 'w') as f:
        json.dump({'version': '1.0.0', 'activation_encodings': [], 'param_encodings': entries},
                  f, indent=1, sort_keys=True)

    xt = images(os.path.join(a.data_dir, 't10k-images-idx3-ubyte.gz'), a.eval_limit)
    lt = torch.from_numpy(read_idx(os.path.join(a.data_dir, 't10k-labels-idx1-ubyte.gz'))
                          [:xt.shape[0]].astype(np.int64))
    N = xt.shape[0]
    print('rounding decisions differing from nearest: %d of %d' % (changed, total))
    for key, params in (('fp32_top1', fp), ('w4_rtn_top1', rtn), ('w4_ref_top1', cur)):
        c = top1(net, params, xt, lt)
        print('%s %.4f (%d/%d)' % (key, c / N, c, N))
    print('time %.1f s' % (time.time() - t0))


if __name__ == '__main__':
    main()
