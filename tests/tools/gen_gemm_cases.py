"""GEMM reference cases computed with numpy (float64) for tests/test_gemm.c.

Usage: gen_gemm_cases.py OUT_FILE
Each case: int64 header [M, N, K, transA, transB, bias_mode, act], float32
[alpha, beta, act_a, act_b], then float32 A (as stored, op applied by the
test's flags), B, C (input), bias (M or N values, or none), expected C.
"""
import struct
import sys

import numpy as np


def main():
    rng = np.random.default_rng(1234)
    # (M, N, K, transA, transB, bias_mode 0 none/1 col/2 row, act)
    cases = [
        (1, 1, 1, 0, 0, 0, 0),
        (5, 15, 255, 0, 0, 1, 1),
        (6, 16, 256, 1, 0, 2, 2),
        (7, 17, 257, 0, 1, 1, 3),
        (64, 200, 96, 1, 1, 2, 1),
        (150, 270, 530, 0, 0, 1, 0),
        (13, 3, 600, 1, 0, 0, 2),
    ]
    with open(sys.argv[1], "wb") as f:
        f.write(struct.pack("<q", len(cases)))
        for M, N, K, ta, tb, bm, act in cases:
            alpha, beta, a_a, a_b = 0.75, (0.5 if bm != 2 else 0.0), -0.5, 0.8
            if act == 3:
                a_a = 0.1
            A = rng.standard_normal((K, M) if ta else (M, K)).astype(np.float32)
            B = rng.standard_normal((N, K) if tb else (K, N)).astype(np.float32)
            C = rng.standard_normal((M, N)).astype(np.float32)
            bias = rng.standard_normal(N if bm == 1 else M).astype(np.float32)
            opA = A.T if ta else A
            opB = B.T if tb else B
            r = alpha * (opA.astype(np.float64) @ opB.astype(np.float64))
            r += beta * C.astype(np.float64)
            if bm == 1:
                r += bias[None, :]
            elif bm == 2:
                r += bias[:, None]
            if act == 1:
                r = np.maximum(r, 0)
            elif act == 2:
                r = np.clip(r, a_a, a_b)
            elif act == 3:
                r = np.where(r < 0, a_a * r, r)
            f.write(struct.pack("<7q", M, N, K, ta, tb, bm, act))
            f.write(struct.pack("<4f", alpha, beta, a_a, a_b))
            for arr in (A, B, C):
                f.write(np.ascontiguousarray(arr).tobytes())
            if bm:
                f.write(bias.tobytes())
            f.write(r.astype(np.float32).tobytes())


if __name__ == "__main__":
    main()
