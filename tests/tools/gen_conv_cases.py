"""Convolution reference cases from torch (float64) for tests/test_conv.c.

Usage: gen_conv_cases.py OUT_FILE
File: int64 case count, then per case int64 header
[N, C, H, W, M, group, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, has_bias, act, OH, OW],
float32 [act_a, act_b], float32 x, weight, bias (if any), expected y, and
the float64 conv of |x| with |w| (as float32), the scale for the tolerance.
Asymmetric pads go through F.pad, 1-D convs (kh == 1, H == 1) through conv1d.
"""
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

# (N, C, H, W, M, group, kh, kw, stride, dil, pads(t, l, b, r), bias, act)
CASES = [
    (1, 3, 8, 8, 4, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),
    (2, 5, 7, 9, 6, 1, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 1),
    (1, 8, 6, 5, 7, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 0),      # 1x1 direct GEMM
    (2, 16, 4, 4, 5, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 0, 1),     # N = 16 = NR, M = 5
    (1, 17, 3, 5, 6, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 2),     # N = 15, M = 6
    (1, 9, 1, 17, 7, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 3),     # N = 17, M = 7
    (1, 64, 9, 9, 32, 1, 1, 1, (2, 2), (1, 1), (0, 0, 0, 0), 1, 0),    # 1x1 stride 2
    (1, 255, 4, 4, 13, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 0),   # K = KC - 1
    (1, 256, 4, 4, 12, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 0),   # K = KC
    (1, 257, 4, 4, 11, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 1),   # K = KC + 1
    (1, 64, 10, 10, 150, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 1), # K = 576, M > MC
    (1, 6, 23, 21, 10, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),   # N > NC
    (1, 8, 40, 40, 300, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 1),  # tasks of several MC
    (2, 4, 9, 11, 6, 2, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),     # groups
    (1, 12, 7, 7, 9, 3, 2, 3, (1, 2), (1, 1), (0, 1, 1, 0), 1, 2),     # groups, asym pads
    (1, 3, 13, 12, 5, 1, 3, 3, (1, 1), (2, 3), (2, 3, 2, 3), 1, 0),    # dilation
    (1, 3, 11, 14, 4, 1, 5, 4, (3, 2), (2, 1), (0, 2, 3, 1), 1, 3),    # everything odd
    (2, 3, 20, 20, 8, 1, 7, 7, (2, 2), (1, 1), (3, 3, 3, 3), 1, 1),    # resnet stem
    (1, 5, 6, 6, 3, 1, 3, 3, (1, 1), (1, 1), (0, 0, 0, 0), 0, 0),      # valid
    (1, 2, 4, 4, 3, 1, 5, 5, (1, 1), (1, 1), (2, 2, 2, 2), 1, 0),      # kernel > input
    (1, 8, 1, 37, 6, 1, 1, 3, (1, 1), (1, 1), (0, 1, 0, 1), 1, 0),     # 1-D
    (2, 6, 1, 40, 9, 3, 1, 5, (1, 2), (1, 2), (0, 0, 0, 3), 1, 1),     # 1-D grouped, asym
    # small maps: GEMM panels span several images
    (3, 10, 1, 7, 8, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 1),     # 1x1, OHW = 7
    (5, 12, 1, 1, 7, 1, 1, 1, (1, 1), (1, 1), (0, 0, 0, 0), 1, 0),     # 1x1 maps
    (4, 6, 2, 2, 13, 1, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),     # 2x2 maps
    (3, 16, 7, 7, 20, 2, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 1),    # 7x7, groups
    # depthwise (group == C == M)
    (2, 8, 10, 10, 8, 8, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),
    (1, 5, 17, 19, 5, 5, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 1),
    (1, 4, 9, 8, 4, 4, 3, 3, (1, 1), (1, 1), (0, 0, 0, 0), 0, 2),
    (1, 3, 12, 30, 3, 3, 5, 5, (1, 1), (2, 2), (4, 4, 4, 4), 1, 0),
    (1, 3, 11, 13, 3, 3, 3, 3, (2, 1), (1, 1), (0, 1, 2, 1), 1, 3),
    (1, 6, 33, 35, 6, 6, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 1),
    (1, 6, 33, 35, 6, 6, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 0),
    (1, 4, 1, 50, 4, 4, 1, 3, (1, 1), (1, 1), (0, 1, 0, 1), 1, 0),     # 1-D depthwise
    (2, 3, 9, 61, 3, 3, 3, 3, (1, 3), (1, 1), (1, 1, 1, 1), 1, 0),     # stride 3 (gathers)
    (1, 2, 8, 64, 2, 2, 5, 5, (2, 2), (1, 1), (2, 2, 2, 2), 1, 3),     # 5x5 stride 2
    (1, 4, 6, 6, 8, 4, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),      # channel multiplier
    # 3x3 depthwise from padded row copies (AVX2, maps wider than 32)
    (1, 3, 7, 101, 3, 3, 3, 3, (1, 2), (1, 1), (1, 2, 1, 0), 1, 2),    # stride 2, odd, asym
    (2, 2, 5, 77, 2, 2, 3, 3, (2, 1), (1, 1), (2, 1, 0, 2), 1, 1),     # sh 2, sw 1
    (1, 2, 6, 40, 2, 2, 3, 3, (1, 1), (1, 1), (3, 3, 3, 3), 1, 0),     # pads past the taps
    (1, 2, 4, 999, 2, 2, 3, 3, (1, 2), (1, 1), (0, 0, 0, 0), 1, 3),    # widest row buffer
    (1, 2, 3, 1500, 2, 2, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),   # too wide: general
    # 3x3 stride 1 depthwise straight from the input rows (AVX2, > 256 outputs)
    (3, 3, 23, 29, 3, 3, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 2),    # odd OH: last row alone
    (1, 2, 9, 40, 2, 2, 3, 3, (1, 1), (1, 1), (0, 2, 1, 0), 1, 1),
    (1, 2, 2, 150, 2, 2, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 0, 0),
    (1, 2, 1, 300, 2, 2, 3, 3, (1, 1), (1, 1), (1, 0, 1, 2), 1, 3),
    (1, 2, 30, 9, 2, 2, 3, 3, (1, 1), (1, 1), (2, 2, 0, 0), 1, 0),
    (1, 2, 12, 24, 2, 2, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),    # last vector full
    # 3x3 stride 2 depthwise straight from the input rows (AVX2, > 256 outputs)
    (2, 3, 40, 37, 3, 3, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 2),
    (1, 2, 41, 70, 2, 2, 3, 3, (2, 2), (1, 1), (0, 1, 1, 0), 1, 1),
    (1, 2, 3, 200, 2, 2, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 0, 0),
    (1, 2, 2, 600, 2, 2, 3, 3, (2, 2), (1, 1), (1, 2, 0, 1), 1, 3),
    (1, 2, 4, 100, 2, 2, 3, 3, (2, 2), (1, 1), (2, 1, 2, 1), 1, 0),
    (1, 2, 30, 47, 2, 2, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 0),    # last vector inside
    # 3x3 depthwise on small maps, several planes per call (AVX2 flat kernels)
    (3, 5, 7, 7, 5, 5, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 2),      # 7x7, ReLU6-like
    (2, 7, 14, 14, 7, 7, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 0, 1),
    (3, 4, 1, 1, 4, 4, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),      # 1x1 maps
    (3, 4, 2, 2, 4, 4, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 3),      # 2x2 maps
    (1, 3, 5, 13, 3, 3, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),
    (1, 3, 16, 16, 3, 3, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 1),    # largest flat plane
    (1, 3, 17, 15, 3, 3, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),
    (1, 2, 5, 47, 2, 2, 3, 3, (1, 1), (1, 1), (1, 1, 1, 1), 1, 0),     # widest flat row
    (1, 3, 3, 9, 3, 3, 3, 3, (1, 1), (1, 1), (1, 1, 0, 1), 1, 0),      # OH != H: not flat
    (3, 6, 14, 14, 6, 6, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 2),    # stride 2
    (1, 4, 28, 28, 4, 4, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 0, 1),
    (2, 3, 13, 13, 3, 3, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 0),    # odd sizes
    (1, 3, 9, 30, 3, 3, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 3),
    (1, 3, 31, 31, 3, 3, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 0),    # 16x16 out
    (3, 2, 1, 1, 2, 2, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 0),
    (3, 2, 2, 2, 2, 2, 3, 3, (2, 2), (1, 1), (1, 1, 1, 1), 1, 1),
    (1, 3, 14, 12, 3, 3, 3, 3, (2, 2), (1, 1), (1, 1, 0, 0), 1, 0),    # no bottom/right pad
    (1, 3, 10, 10, 3, 3, 3, 3, (2, 2), (1, 1), (1, 1, 3, 3), 1, 0),    # extra pad rows
]


def act_ref(y, act, a, b):
    if act == 1:
        return torch.clamp(y, min=0)
    if act == 2:
        return torch.clamp(y, a, b)
    if act == 3:
        return torch.where(y < 0, a * y, y)
    return y


def main():
    torch.manual_seed(7)
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<q", len(CASES)))
        for (N, C, H, W, M, g, kh, kw, s, d, p, hb, act) in CASES:
            a_a, a_b = (-0.4, 0.7) if act == 2 else (0.05, 0.0)
            x = torch.randn(N, C, H, W, dtype=torch.float32)
            w = torch.randn(M, C // g, kh, kw, dtype=torch.float32)
            b = torch.randn(M, dtype=torch.float32) if hb else None
            xd, wd = x.double(), w.double()
            bd = b.double() if hb else None
            pt, pl, pb, pr = p
            if H == 1 and kh == 1:
                xp = F.pad(xd[:, :, 0, :], (pl, pr))
                y = F.conv1d(xp, wd[:, :, 0, :], bd, stride=s[1], dilation=d[1], groups=g)
                sc = F.conv1d(F.pad(xd.abs()[:, :, 0, :], (pl, pr)), wd.abs()[:, :, 0, :],
                              None, stride=s[1], dilation=d[1], groups=g)
                y, sc = y[:, :, None, :], sc[:, :, None, :]
            else:
                xp = F.pad(xd, (pl, pr, pt, pb))
                y = F.conv2d(xp, wd, bd, stride=s, dilation=d, groups=g)
                sc = F.conv2d(F.pad(xd.abs(), (pl, pr, pt, pb)), wd.abs(), None, stride=s,
                              dilation=d, groups=g)
            if hb:
                sc = sc + bd.abs()[None, :, None, None]
            y = act_ref(y, act, a_a, a_b)
            OH, OW = y.shape[2], y.shape[3]
            f.write(struct.pack("<20q", N, C, H, W, M, g, kh, kw, s[0], s[1], d[0], d[1],
                                pt, pl, pb, pr, hb, act, OH, OW))
            f.write(struct.pack("<2f", a_a, a_b))
            f.write(x.numpy().tobytes())
            f.write(w.numpy().tobytes())
            if hb:
                f.write(b.numpy().tobytes())
            f.write(y.float().numpy().tobytes())
            f.write(sc.float().numpy().tobytes())


if __name__ == "__main__":
    main()
