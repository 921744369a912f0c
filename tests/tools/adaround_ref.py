#!/usr/bin/env python3
"""Independent torch reference of AdaRound for one layer (SPEC 8.3).

Written from the spec with autograd and torch.optim.Adam; shares nothing
with the C code except the documented minibatch sampler (splitmix64 and a
persistent partial Fisher-Yates permutation, lib/adaround/layer.h).

Usage: adaround_ref.py OUTDIR KIND key=value ...
KIND: conv | convt | gemm | matmul. Writes into OUTDIR raw little-endian
files: x.f32 (cached layer inputs), y.f32 (FP32 targets, native layout),
w.f32 (weight, native layout), b.f32 (bias, may be empty), enc.f64
(delta, offset, bw per channel), up.u8 (reference decisions, native
layout), near.u8 (round-to-nearest decisions), loss.f32 (recon per
iteration), mse.f64 (full-data recon MSE: nearest, torch AdaRound).
model=1 also writes model.onnx: the layer alone (input x, weight w, bias b,
output y) for qsim_apply_adaround, with noise=0 so that the layer input is
the model input. ConvTranspose takes oshape=H,W (output_shape) or
autopad=SAME_UPPER|SAME_LOWER|VALID; its pads then follow the ONNX spec,
applied here by cropping (or zero-extending) the unpadded output. Gemm
takes transa=1 (the model input is X^T, samples are columns).
act=softmax: softmax over dim 1 (channels; Gemm features).
"""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch
import torch.nn.functional as F

ZETA, GAMMA = 1.1, -0.1
M64 = (1 << 64) - 1


class SplitMix64:
    def __init__(self, seed):
        self.s = seed & M64

    def next(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)


def batches(S, B, seed, iters):
    rng = SplitMix64(seed)
    perm = list(range(S))
    for _ in range(iters):
        if S <= B:
            yield list(range(S))
            continue
        for i in range(B):
            j = i + rng.next() % (S - i)
            perm[i], perm[j] = perm[j], perm[i]
        yield perm[:B]


def main():
    # --batch FILE: one "OUTDIR KIND key=value ..." per line (one torch
    # start-up for every case)
    if sys.argv[1] == '--batch':
        with open(sys.argv[2]) as f:
            for line in f:
                if line.strip():
                    run(line.split())
    else:
        run(sys.argv[1:])


def run(argv):
    out, kind = argv[0], argv[1]
    a = dict(kv.split('=') for kv in argv[2:])
    gi = lambda k, d: int(a.get(k, d))
    gf = lambda k, d: float(a.get(k, d))
    torch.manual_seed(gi('seed', 0))
    torch.set_num_threads(1)
    S, iters, bw = gi('samples', 64), gi('iters', 500), gi('bw', 4)
    B, lr, lam = gi('batch', 32), gf('lr', 1e-3), gf('reg', 0.01)
    warm, b0, b1 = gf('warm', 0.2), gf('beta0', 20), gf('beta1', 2)
    full = gi('full', 0)  # 1: every sample every iteration (Gram's loss)
    pcq = gi('pcq', 1)
    act = a.get('act', 'none')
    g = torch.Generator().manual_seed(gi('seed', 0))
    rnd = lambda *s: torch.randn(*s, generator=g)

    if kind in ('conv', 'convt'):
        cin, cout, grp = gi('cin', 8), gi('cout', 16), gi('groups', 1)
        h, w, kh, kw = gi('h', 8), gi('w', 8), gi('kh', 3), gi('kw', 3)
        st = (gi('sh', 1), gi('sw', 1))
        dl = (gi('dh', 1), gi('dw', 1))
        if kind == 'conv':
            pads = [gi('phb', 1), gi('pwb', 1), gi('phe', 1), gi('pwe', 1)]
            W = rnd(cout, cin // grp, kh, kw) * 0.3
            axis = 0

            def fwd(x, wt, b):
                xp = F.pad(x, [pads[1], pads[3], pads[0], pads[2]])
                return F.conv2d(xp, wt, b, st, 0, dl, grp)
        else:
            pad = (gi('ph', 0), gi('pw', 0))
            op = (gi('oph', 0), gi('opw', 0))
            W = rnd(cin, cout // grp, kh, kw) * 0.3
            axis = 1
            oshape = [int(t) for t in a['oshape'].split(',')] if 'oshape' in a else None
            autopad = a.get('autopad', 'NOTSET')
            if oshape is None and autopad == 'NOTSET':
                def fwd(x, wt, b):
                    return F.conv_transpose2d(x, wt, b, st, pad, op, grp, dl)
            else:
                # ONNX ConvTranspose: total = s*(in-1) + op + (k-1)*d + 1 - out;
                # SAME_UPPER puts the extra pad at the end, otherwise the start
                pads_b, pads_e = [], []
                for i, (n_in, k) in enumerate(((h, kh), (w, kw))):
                    unpadded = st[i] * (n_in - 1) + op[i] + (k - 1) * dl[i] + 1
                    if autopad == 'VALID' and oshape is None:
                        pb = pe = 0
                    else:
                        o_len = oshape[i] if oshape is not None else n_in * st[i]
                        tot = unpadded - o_len
                        pb = tot // 2 if autopad == 'SAME_UPPER' else tot - tot // 2
                        pe = tot - pb
                    pads_b.append(pb)
                    pads_e.append(pe)

                def fwd(x, wt, b):
                    # crop the unpadded output (negative pads extend it with
                    # zeros), then the bias on every output element
                    y = F.conv_transpose2d(x, wt, None, st, 0, op, grp, dl)
                    y = F.pad(y, [-pads_b[1], -pads_e[1], -pads_b[0], -pads_e[0]])
                    return y + b.reshape(1, -1, 1, 1) if b is not None else y
        bias = rnd(cout) * 0.1
        mix = rnd(cin, cin) * 0.5 + torch.eye(cin)
        X = torch.relu(torch.einsum('dc,schw->sdhw', mix, rnd(S, cin, h, w)))
        nch = cout
    else:
        K, N = gi('k', 32), gi('n', 16)
        T = gi('t', 0)
        mix = rnd(K, K) * 0.5 + torch.eye(K)
        if kind == 'gemm':
            tb = gi('transb', 0)
            alpha, beta = gf('alpha', 1.0), gf('beta', 1.0)
            W = rnd(N, K) * 0.3 if tb else rnd(K, N) * 0.3
            axis = 0 if tb else 1
            bias = rnd(N) * 0.1

            def fwd(x, wt, b):
                y = alpha * (x @ (wt.t() if tb else wt))
                return y + beta * b if b is not None else y
            X = rnd(S, K) @ mix
        else:
            W = rnd(K, N) * 0.3
            axis = 1
            bias = None

            def fwd(x, wt, b):
                return x @ wt
            X = rnd(S, T, K) @ mix
        nch = N
    Xq = X + gf('noise', 0.02) * rnd(*X.shape)  # the quantized sim's input
    with torch.no_grad():
        Y = fwd(X, W, bias)

    # Encodings: TF min-max per output channel (or per tensor), asymmetric.
    qmax = 2 ** bw - 1
    wc = W.transpose(0, axis).reshape(W.shape[axis], -1).double()
    if pcq:
        mn, mx = wc.min(1).values.clamp(max=0), wc.max(1).values.clamp(min=0)
    else:
        mn = wc.min().clamp(max=0).repeat(W.shape[axis])
        mx = wc.max().clamp(min=0).repeat(W.shape[axis])
    delta = (mx - mn) / qmax
    offset = torch.round(mn / delta)
    shape = [1] * W.dim()
    shape[axis] = -1
    d32 = delta.float().reshape(shape)
    o32 = offset.float().reshape(shape)

    slope = None
    if act == 'relu':
        actf = torch.relu
    elif act == 'clip':
        actf = lambda t: torch.clamp(t, gf('lo', -0.5), gf('hi', 0.7))
    elif act == 'leaky':
        actf = lambda t: F.leaky_relu(t, gf('slope', 0.1))
    elif act == 'prelu':
        slope = (torch.rand(nch, generator=g) * 0.3).float()
        # per output channel: dim 1 of the output (conv), last dim (rows)
        if kind in ('conv', 'convt'):
            actf = lambda t: F.prelu(t, slope)
        else:
            actf = lambda t: torch.where(t > 0, t, t * slope)
    elif act == 'sigmoid':
        actf = torch.sigmoid
    elif act == 'tanh':
        actf = torch.tanh
    elif act == 'softmax':
        actf = lambda t: torch.softmax(t, dim=1)
    else:
        actf = lambda t: t

    wf = torch.floor(W / d32)
    r = W / d32 - wf
    alpha_p = (-torch.log((ZETA - GAMMA) / (r - GAMMA) - 1)).clone().requires_grad_(True)
    opt = torch.optim.Adam([alpha_p], lr=lr)

    def soft(al):
        hh = torch.clamp(torch.sigmoid(al) * (ZETA - GAMMA) + GAMMA, 0, 1)
        return (torch.clamp(wf + hh - o32, 0, qmax) + o32) * d32, hh

    def recon(wt, xs, ys):
        return (torch.norm(actf(fwd(xs, wt, bias)) - actf(ys), p='fro', dim=1) ** 2).mean()

    losses = []
    wn = warm * iters
    for it, idx in enumerate(batches(S, B, gi('rngseed', 0), iters)):
        if full:
            idx = list(range(S))
        opt.zero_grad()
        ws, hh = soft(alpha_p)
        rl = recon(ws, Xq[idx], Y[idx])
        loss = rl
        if it >= wn:
            rel = (it - wn) / (iters - wn)
            bt = b1 + 0.5 * (b0 - b1) * (1 + math.cos(rel * math.pi))
            loss = rl + lam * (1 - torch.abs(2 * hh - 1) ** bt).sum()
        loss.backward()
        opt.step()
        losses.append(rl.item())

    up = (alpha_p.detach() >= 0)
    near = torch.round(W / d32) > wf  # nearest rounds up (ties away from 0 ignored)
    with torch.no_grad():
        def hard(u):
            return (torch.clamp(wf + u.float() - o32, 0, qmax) + o32) * d32
        mse = [recon(hard(near), Xq, Y).item(), recon(hard(up), Xq, Y).item()]

    os.makedirs(out, exist_ok=True)
    wr = lambda n, t, dt: np.ascontiguousarray(t, dtype=dt).tofile(os.path.join(out, n))
    wr('x.f32', Xq.numpy(), np.float32)
    wr('y.f32', Y.numpy(), np.float32)
    wr('w.f32', W.numpy(), np.float32)
    wr('b.f32', bias.numpy() if bias is not None else np.zeros(0), np.float32)
    wr('slope.f32', slope.numpy() if slope is not None else np.zeros(0), np.float32)
    enc = np.stack([delta.numpy(), offset.numpy(), np.full(len(delta), bw)], 1)
    wr('enc.f64', enc, np.float64)
    wr('up.u8', up.numpy(), np.uint8)
    wr('near.u8', near.numpy(), np.uint8)
    wr('loss.f32', np.array(losses), np.float32)
    wr('mse.f64', np.array(mse), np.float64)
    if gi('model', 0):
        write_model(out, kind, a, W, bias, Xq)
    print('changed vs nearest: %d of %d; mse nearest %.6g adaround %.6g'
          % (int((up != near).sum()), up.numel(), mse[0], mse[1]))


def write_model(out, kind, a, W, bias, X):
    """The layer alone as an ONNX model (opset 13)."""
    inits = [numpy_helper.from_array(W.numpy().astype(np.float32), 'w')]
    ins = ['x', 'w']
    if bias is not None:
        inits.append(numpy_helper.from_array(bias.numpy().astype(np.float32), 'b'))
        ins.append('b')
    attrs = {}
    if kind == 'convt':
        attrs = dict(strides=[int(a.get('sh', 1)), int(a.get('sw', 1))],
                     group=int(a.get('groups', 1)))
        if 'oph' in a or 'opw' in a:
            attrs['output_padding'] = [int(a.get('oph', 0)), int(a.get('opw', 0))]
        if 'oshape' in a:
            attrs['output_shape'] = [int(t) for t in a['oshape'].split(',')]
        if 'autopad' in a:
            attrs['auto_pad'] = a['autopad']
        if 'oshape' not in a and 'autopad' not in a:
            attrs['pads'] = [int(a.get('ph', 0)), int(a.get('pw', 0))] * 2
        xshape = ['N'] + list(X.shape[1:])
        op = 'ConvTranspose'
    elif kind == 'gemm':
        attrs = dict(transA=int(a.get('transa', 0)), transB=int(a.get('transb', 0)),
                     alpha=float(a.get('alpha', 1.0)), beta=float(a.get('beta', 1.0)))
        xshape = [X.shape[1], 'M'] if attrs['transA'] else ['M', X.shape[1]]
        op = 'Gemm'
    else:
        raise SystemExit('model=1: convt or gemm only')
    node = helper.make_node(op, ins, ['y'], name='layer', **attrs)
    g = helper.make_graph([node], 'layer',
                          [helper.make_tensor_value_info('x', TensorProto.FLOAT, xshape)],
                          [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)])
    onnx.save(m, os.path.join(out, 'model.onnx'))


if __name__ == '__main__':
    main()
