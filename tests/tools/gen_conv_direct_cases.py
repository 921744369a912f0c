"""Convolution cases for tests/test_conv_direct.c, reference in numpy float64
(independent of torch and of libqsim): pads, strides, dilations, groups,
odd channel counts and widths, k-blocking, accumulate mode, activations.

Usage: gen_conv_direct_cases.py OUT_FILE
File: int64 case count, then per case int64 header
[N, C, H, W, M, group, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, has_bias, act,
 accumulate, OH, OW], float32 [act_a, act_b], float32 x, weight, bias (if
any), residual (if accumulate), expected y, and the float64 sum of the
absolute terms (as float32), the scale for the tolerance.
"""
import struct
import sys

import numpy as np

# (N, C, H, W, M, group, kh, kw, stride, dil, pads(t, l, b, r), bias, act, accumulate)
CASES = [
    # 1x1 stride 1 on the input itself: planes not a multiple of 16
    (3, 20, 9, 13, 11, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 1, 0),
    (1, 7, 2, 3, 9, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 0, 1),     # plane of 6
    (3, 5, 2, 4, 13, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 0, 2, 0),    # plane of 8
    (1, 6, 4, 6, 7, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 3, 1),     # 24 = 16 + 8
    (1, 9, 7, 7, 140, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 1, 0),   # M > one M block
    (3, 12, 7, 7, 20, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 3, 1),   # 7x7: row pairs
    (2, 300, 5, 5, 10, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 0, 1),  # K > KC
    (3, 12, 6, 10, 18, 3, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 2, 1),  # groups
    # KxK stride 1 from the padded copy
    (3, 18, 6, 37, 14, 2, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 1, 1),  # 37 = 16+16+5
    (1, 5, 7, 7, 8, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0, 0),     # rows of 7: pairs
    (3, 4, 5, 8, 7, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 0, 3, 1),     # 5 rows of 8
    (1, 40, 6, 9, 13, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 2, 1),   # K = 360: 2 k-blocks
    (2, 32, 5, 28, 30, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 1, 1),  # 24+6 rows, 16+12 cols
    (2, 16, 6, 6, 26, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 3, 0),   # 24 rows, row pairs
    (1, 3, 13, 29, 5, 1, 3, 3, (1, 1), (2, 3), (2, 3, 2, 3), 1, 1, 0),   # dilation
    (3, 6, 8, 19, 4, 2, 2, 3, (1, 1), (1, 1), (0, 1, 1, 0), 1, 0, 1),    # asym pads, groups
    (1, 4, 11, 23, 6, 1, 5, 4, (1, 1), (1, 2), (2, 0, 3, 1), 1, 3, 0),
    # strides 2 and 3 (phase-split copy)
    (3, 3, 30, 33, 10, 1, 7, 7, (2, 2), (1, 1), (3, 3, 3, 3), 1, 1, 0),  # stem-like
    (1, 10, 12, 35, 9, 1, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 0, 1),
    (3, 8, 9, 17, 12, 1, 1, 1, (2, 2), (1, 1), (0, 0, 0, 0), 0, 0, 1),   # 1x1 stride 2
    (1, 6, 14, 40, 9, 3, 3, 3, (3, 2), (2, 2), (0, 2, 1, 3), 1, 2, 0),   # stride 3/2, dil 2
    (1, 5, 9, 50, 6, 1, 3, 5, (1, 3), (1, 1), (1, 2, 1, 2), 1, 3, 1),    # stride 3 in W
    # 1-D (H = 1)
    (3, 7, 1, 45, 5, 1, 1, 3, (1, 1), (1, 1), (0, 1, 0, 1), 1, 1, 1),
    (1, 6, 1, 70, 9, 3, 1, 5, (1, 2), (1, 2), (0, 0, 0, 3), 1, 0, 0),
]


def act_ref(y, act, a, b):
    if act == 1:
        return np.maximum(y, 0)
    if act == 2:
        return np.clip(y, a, b)
    if act == 3:
        return np.where(y < 0, a * y, y)
    return y


def conv_ref(x, w, g, s, d, p):
    """float64 conv of NCHW x with [M, C/g, kh, kw] w, pads p = (t, l, b, r)."""
    N, C, H, W = x.shape
    M, Cg, kh, kw = w.shape
    pt, pl, pb, pr = p
    xp = np.zeros((N, C, H + pt + pb, W + pl + pr))
    xp[:, :, pt:pt + H, pl:pl + W] = x
    OH = (H + pt + pb - d[0] * (kh - 1) - 1) // s[0] + 1
    OW = (W + pl + pr - d[1] * (kw - 1) - 1) // s[1] + 1
    Mg = M // g
    y = np.zeros((N, M, OH, OW))
    for gi in range(g):
        xg = xp[:, gi * Cg:(gi + 1) * Cg]
        wg = w[gi * Mg:(gi + 1) * Mg]
        for ky in range(kh):
            for kx in range(kw):
                y0, x0 = ky * d[0], kx * d[1]
                xs = xg[:, :, y0:y0 + (OH - 1) * s[0] + 1:s[0], x0:x0 + (OW - 1) * s[1] + 1:s[1]]
                y[:, gi * Mg:(gi + 1) * Mg] += np.einsum("mc,nchw->nmhw", wg[:, :, ky, kx], xs)
    return y


def main():
    rng = np.random.default_rng(11)
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<q", len(CASES)))
        for (N, C, H, W, M, g, kh, kw, s, d, p, hb, act, accu) in CASES:
            a_a, a_b = (-0.4, 0.7) if act == 2 else (0.05, 0.0)
            x = rng.standard_normal((N, C, H, W)).astype(np.float32)
            w = rng.standard_normal((M, C // g, kh, kw)).astype(np.float32)
            b = rng.standard_normal(M).astype(np.float32) if hb else None
            y = conv_ref(x.astype(np.float64), w.astype(np.float64), g, s, d, p)
            sc = conv_ref(np.abs(x).astype(np.float64), np.abs(w).astype(np.float64), g, s, d, p)
            OH, OW = y.shape[2], y.shape[3]
            r = rng.standard_normal(y.shape).astype(np.float32) if accu else None
            if accu:
                y = y + r
                sc = sc + np.abs(r)
            if hb:
                y = y + b.astype(np.float64)[None, :, None, None]
                sc = sc + np.abs(b).astype(np.float64)[None, :, None, None]
            y = act_ref(y, act, a_a, a_b)
            f.write(struct.pack("<21q", N, C, H, W, M, g, kh, kw, s[0], s[1], d[0], d[1],
                                p[0], p[1], p[2], p[3], hb, act, accu, OH, OW))
            f.write(struct.pack("<2f", a_a, a_b))
            f.write(x.tobytes())
            f.write(w.tobytes())
            if hb:
                f.write(b.tobytes())
            if accu:
                f.write(r.tobytes())
            f.write(y.astype(np.float32).tobytes())
            f.write(sc.astype(np.float32).tobytes())


if __name__ == "__main__":
    main()
