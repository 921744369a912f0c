"""MaxPool/AveragePool reference cases (numpy, float64 window loops) for
tests/test_pool_kernels.c: the row kernels' shapes (kernel 1..5, width
stride 1 and 2, pads, ceil_mode, count_include_pad, height dilation,
1x1/2x2 maps, widths around multiples of 8, 1-D) and NaNs; and
GlobalAveragePool/GlobalMaxPool (kind 2/3, numpy mean/max over the plane).

Usage: gen_pool_cases.py OUT_FILE
File: int64 case count, then per case int64 header
[rank, N, C, H, W, kind, kh, kw, sh, sw, pt, pl, pb, pr, ceil, cip, dh, OH, OW],
kind 0 MaxPool, 1 AveragePool, 2 GlobalAveragePool, 3 GlobalMaxPool,
float32 x, float32 expected y.
"""
import struct
import sys

import numpy as np

# (rank, N, C, H, W, avg, (kh, kw), (sh, sw), (pt, pl, pb, pr), ceil, cip, dh)
CASES = [
    (4, 1, 3, 112, 112, 0, (3, 3), (2, 2), (1, 1, 1, 1), 0, 0, 1),   # resnet stem
    (4, 3, 2, 13, 17, 0, (3, 3), (2, 2), (1, 1, 1, 1), 0, 0, 1),
    (4, 3, 2, 13, 17, 0, (3, 3), (2, 2), (1, 1, 1, 1), 1, 0, 1),
    (4, 1, 4, 9, 9, 0, (2, 2), (2, 2), (0, 0, 0, 0), 1, 0, 1),
    (4, 2, 3, 10, 24, 0, (2, 2), (2, 2), (0, 0, 0, 0), 0, 0, 1),
    (4, 1, 2, 15, 31, 0, (3, 3), (1, 1), (1, 1, 1, 1), 0, 0, 1),
    (4, 1, 2, 6, 33, 0, (2, 2), (1, 1), (0, 0, 1, 1), 0, 0, 1),
    (4, 3, 2, 1, 1, 0, (1, 1), (1, 1), (0, 0, 0, 0), 0, 0, 1),       # 1x1 maps
    (4, 3, 2, 2, 2, 0, (2, 2), (1, 1), (0, 0, 0, 0), 0, 0, 1),       # 2x2 maps
    (4, 3, 2, 2, 2, 0, (3, 3), (2, 2), (1, 1, 1, 1), 1, 0, 1),
    (4, 1, 2, 11, 19, 0, (5, 4), (3, 2), (2, 1, 2, 3), 1, 0, 1),     # sh 3, asym pads
    (4, 1, 2, 12, 12, 0, (3, 3), (1, 2), (2, 2, 2, 2), 0, 0, 2),     # height dilation
    (4, 1, 2, 7, 8, 0, (2, 3), (2, 1), (1, 2, 1, 2), 0, 0, 1),       # pads near kernel
    (4, 1, 3, 56, 56, 1, (3, 3), (1, 1), (1, 1, 1, 1), 0, 0, 1),
    (4, 1, 3, 56, 56, 1, (3, 3), (1, 1), (1, 1, 1, 1), 0, 1, 1),
    (4, 3, 2, 13, 17, 1, (3, 3), (2, 2), (1, 1, 1, 1), 1, 0, 1),
    (4, 3, 2, 13, 17, 1, (3, 3), (2, 2), (1, 1, 1, 1), 1, 1, 1),
    (4, 2, 2, 9, 23, 1, (2, 2), (2, 2), (0, 0, 0, 0), 0, 0, 1),
    (4, 1, 2, 10, 15, 1, (5, 4), (3, 2), (2, 1, 2, 3), 1, 1, 1),
    (4, 1, 2, 10, 15, 1, (5, 4), (3, 2), (2, 1, 2, 3), 1, 0, 1),
    (4, 3, 2, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 0, 0, 1),
    (4, 3, 2, 2, 2, 1, (3, 3), (2, 2), (1, 1, 1, 1), 1, 1, 1),
    (4, 1, 2, 7, 7, 1, (7, 7), (1, 1), (0, 0, 0, 0), 0, 0, 1),       # global-like
    (3, 2, 3, 1, 37, 0, (1, 3), (1, 2), (0, 1, 0, 1), 1, 0, 1),      # 1-D
    (3, 2, 3, 1, 37, 1, (1, 4), (1, 1), (0, 2, 0, 1), 0, 1, 1),
    (4, 1, 1, 3, 2040, 0, (3, 3), (1, 2), (1, 1, 1, 1), 0, 0, 1),    # widest row kernel
    (4, 1, 1, 3, 2047, 1, (3, 3), (1, 1), (1, 1, 1, 1), 0, 0, 1),    # too wide: window loops
]
NAN_CASES = {1, 4, 5, 23}   # MaxPool cases that also run with NaNs in x
# (rank, N, C, H, W, kind): global pools, plane sizes around multiples of 8
GLOBAL = [(4, 2, 3, 7, 7, 2), (4, 2, 3, 7, 7, 3), (4, 3, 2, 1, 1, 2), (4, 3, 2, 1, 1, 3),
          (4, 1, 5, 2, 4, 2), (4, 1, 5, 5, 3, 3), (4, 1, 5, 5, 3, 2), (3, 2, 3, 1, 37, 2),
          (3, 2, 3, 1, 37, 3), (4, 1, 4, 13, 11, 2)]


def out_size(n, k, s, p0, p1, d, ceil):
    dk = (k - 1) * d + 1
    span = n + p0 + p1 - dk
    if ceil:
        o = -(-span // s) + 1
        if (o - 1) * s >= n + p0:
            o -= 1
    else:
        o = span // s + 1
    return o


def pool_ref(x, avg, kh, kw, sh, sw, pt, pl, pb, pr, ceil, cip, dh):
    N, C, H, W = x.shape
    OH = out_size(H, kh, sh, pt, pb, dh, ceil)
    OW = out_size(W, kw, sw, pl, pr, 1, ceil)
    xd = x.astype(np.float64)
    y = np.zeros((N, C, OH, OW))
    for oy in range(OH):
        rows = [oy * sh - pt + i * dh for i in range(kh)]
        for ox in range(OW):
            cols = [ox * sw - pl + j for j in range(kw)]
            vr = [r for r in rows if 0 <= r < H]
            vc = [c for c in cols if 0 <= c < W]
            if not vr or not vc:
                y[:, :, oy, ox] = 0.0 if avg else -np.inf
                continue
            win = xd[:, :, vr][:, :, :, vc].reshape(N, C, -1)
            if not avg:
                y[:, :, oy, ox] = np.max(win, axis=2)   # NaN propagates
                continue
            if cip:
                cnt = sum(1 for r in rows if -pt <= r < H + pb) * \
                    sum(1 for c in cols if -pl <= c < W + pr)
            else:
                cnt = len(vr) * len(vc)
            y[:, :, oy, ox] = win.sum(axis=2) / cnt
    return y.astype(np.float32)


def main():
    rng = np.random.default_rng(11)
    out = []
    for i, cs in enumerate(CASES):
        variants = [False, True] if i in NAN_CASES else [False]
        for with_nan in variants:
            rank, N, C, H, W, avg, (kh, kw), (sh, sw), pads, ceil, cip, dh = cs
            x = rng.standard_normal((N, C, H, W)).astype(np.float32)
            # ties: a few repeated values (max picks any of equal ones)
            x[..., ::5] = np.round(x[..., ::5])
            if with_nan:
                flat = x.reshape(-1)
                flat[rng.choice(flat.size, max(1, flat.size // 97), replace=False)] = np.nan
            y = pool_ref(x, avg, kh, kw, sh, sw, *pads, ceil, cip, dh)
            out.append(((rank, N, C, H, W, avg, kh, kw, sh, sw) + tuple(pads) +
                        (ceil, cip, dh, y.shape[2], y.shape[3]), x, y))
    for rank, N, C, H, W, kind in GLOBAL:
        for with_nan in ([False, True] if kind == 3 else [False]):
            x = (rng.standard_normal((N, C, H, W)) * 3 + 1).astype(np.float32)
            if with_nan:
                x[0, 1].reshape(-1)[-1] = np.nan
            xd = x.astype(np.float64)
            y = xd.mean(axis=(2, 3), keepdims=True) if kind == 2 else \
                xd.max(axis=(2, 3), keepdims=True)
            out.append(((rank, N, C, H, W, kind) + (0,) * 11 + (1, 1), x, y.astype(np.float32)))
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<q", len(out)))
        for h, x, y in out:
            f.write(struct.pack("<19q", *h))
            f.write(x.tobytes())
            f.write(y.tobytes())


if __name__ == "__main__":
    main()
