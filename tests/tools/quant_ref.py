#!/usr/bin/python3
"""Independent numpy reference for libqsim's encoding math (SPEC.md 3).

Written from SPEC 3.1-3.3's formulas, not from the C code. Where AIMET's
C++ analyzers (instantiated for float) work in float32, so does this script
(np.float32 scalars, one IEEE operation at a time); getComputedEncodings,
TF and QDQ grid regeneration are float64; the QDQ itself is float32.
C++ round() is half away from zero (rha below); Python round() is not used.

Usage (all binary files are raw little-endian; IN is float32):
  encode SCHEME BW FLAGS PCT NBATCH IN OUT
      SCHEME tf|tf_enhanced|percentile; FLAGS bit0 symmetric, bit1 strict,
      bit2 unsigned. IN holds NBATCH equal batches. OUT: float64
      [min, max, delta, offset, cost] (cost: tf_enhanced only, else nan).
  encode_pc SCHEME BW FLAGS PCT NBATCH AXIS RANK D0..Dr-1 IN OUT
      per-channel along AXIS of each batch; OUT float64 [C, 4]
      (min, max, delta, offset).
  qdq BW MIN MAX ROUND IN OUT          per-tensor QDQ (ROUND 0 away, 1 even)
  qdq_pc AXIS RANK D0..Dr-1 ROUND ENC IN OUT   ENC float64 [C, 4]
  fp16 IN OUT                          float32 -> float16 (RNE) -> float32
  batch FILE                           runs each line of FILE as a command
  hist NBATCH IN OUT                   OUT float64 [xleft(512), pdf(512), it]
"""
import math
import sys

import numpy as np

F = np.float32
PDF_SIZE = 512
SYM, STRICT, UNSIGNED = 1, 2, 4


def rha(x):
    """round half away from zero, same type as x (float32 or float)."""
    if isinstance(x, np.floating):
        t = np.trunc(x)
        if abs(x - t) >= F(0.5):
            t = t + np.copysign(x.dtype.type(1), x)
        return t
    if math.isnan(x) or math.isinf(x):
        return x
    t = math.trunc(x)
    if abs(x - t) >= 0.5:
        t += 1 if x > 0 else -1
    return float(t)


def rha_arr(v, even):
    if even:
        return np.rint(v)
    t = np.trunc(v)
    adj = np.where(np.abs(v - t) >= F(0.5), np.copysign(F(1), v), F(0)).astype(v.dtype)
    return np.copysign(t + adj, v)


def f2i(x):
    """float -> C int: truncation (x86: out of range gives INT_MIN)."""
    if not (-2147483648.0 <= float(x) < 2147483648.0):
        return -2147483648
    return int(x)


# ---------------------------------------------------------------- SPEC 3.1
def computed_encodings(bw, mn, mx, flags):
    n = 2.0 ** bw - 1
    sym = bool(flags & SYM)
    if sym and flags & STRICT:
        n -= 1
    fmax = float(np.finfo(np.float32).max)
    if math.isinf(mn):
        mn = -fmax if mn < 0 else fmax
    if math.isinf(mx):
        mx = -fmax if mx < 0 else fmax
    if sym and (mn < 0.0 or not flags & UNSIGNED):
        a = max(abs(mn), abs(mx))
        p = math.floor(n / 2)
        delta = a / p
        off = -math.ceil(n / 2)
        return (off * delta, delta * p, delta, off)
    delta = (mx - mn) / n
    if mn < 0 and mx > 0:
        z = min(n, max(0.0, rha(-mn / delta)))
        off = -z
    else:
        off = rha(mn / delta)
    emin = delta * off
    return (emin, mx - mn + emin, delta, off)


def enc_tf(batches, bw, flags):
    mn = min(float(np.nanmin(b)) for b in batches)
    mx = max(float(np.nanmax(b)) for b in batches)
    mn = min(0.0, mn)
    mx = max(0.0, mx)
    mx = max(mx, mn + 0.01)
    return computed_encodings(bw, mn, mx, flags)


# ---------------------------------------------------------------- SPEC 3.2
class Hist:
    def __init__(self):
        self.xleft = None
        self.pdf = np.zeros(PDF_SIZE)
        self.it = 0
        self.seen = 0

    def update(self, x):
        x = np.asarray(x, dtype=np.float32).ravel()
        self.seen += 1
        if self.xleft is None:
            lo, hi = F(np.nanmin(x)), F(np.nanmax(x))
            if lo == 0 and hi == 0:
                return
            if lo == hi:
                hi = max(hi, lo + F(0.01))
            c = (hi + lo) / F(2)
            lo = c - F(3) * (c - lo)
            hi = c + F(3) * (hi - c)
            b = (hi - lo) / F(PDF_SIZE)
            self.xleft = np.array([float(lo + F(i) * b) for i in range(PDF_SIZE)])
        lo = F(self.xleft[0])
        b = F(self.xleft[1] - self.xleft[0])
        off = lo / b
        with np.errstate(invalid='ignore'):
            idx = rha_arr(x / b - off, False)
            ok = (idx >= 0) & (idx < PDF_SIZE)
        cnt = np.bincount(idx[ok].astype(np.int64), minlength=PDF_SIZE)
        p = cnt.astype(np.float64) / float(x.size)
        self.pdf = (self.pdf * self.it + p) / (self.it + 1)
        self.it += 1

    def range(self):
        lo, hi = F(self.xleft[0]), F(self.xleft[-1])
        nz = np.nonzero(self.pdf > 0)[0]
        if nz.size:
            lo = F(self.xleft[nz[0]])
            if nz[-1] > 0:
                hi = F(self.xleft[nz[-1]])
        lo = min(lo, F(0))
        hi = max(hi, F(0))
        hi = max(hi, lo + F(0.01))
        return lo, hi


def tfe_cost(h, bw, delta, off):
    """cost = 3*sat + quant, float32 accumulators fed double terms."""
    delta = F(delta)
    minv = delta * F(off)
    maxv = delta * F(2.0 ** bw - 1) + minv
    start = F(h.xleft[0])
    step = F(h.xleft[1] - h.xleft[0])
    half = step / F(2)

    def idx(v):
        v = (v - start) / step
        if not v > 0:
            return 0
        if v >= PDF_SIZE - 1:
            return PDF_SIZE - 1
        return int(np.floor(v))

    mi, ma = idx(minv), idx(maxv)
    mid = lambda i: start + F(i) * step + half  # noqa: E731
    nz = np.nonzero(h.pdf)[0]
    sb = st = qc = F(0)
    mlo, mhi = mid(mi), mid(ma)
    for i in nz:
        p = float(h.pdf[i])
        m = mid(i)
        if i < mi:
            d = float(m - mlo)
            sb = F(float(sb) + p * (d * d))
        if i >= ma:
            d = float(m - mhi)
            st = F(float(st) + p * (d * d))
        if mi <= i < ma:
            q = f2i(rha(m / delta - F(off)))
            dq = delta * F(q + off)
            d = float(m - dq)
            qc = F(float(qc) + p * (d * d))
    return F(3) * (sb + st) + qc


def f_loop(step, limit):
    f = F(step)
    while float(f) <= limit:
        yield f
        f = F(float(f) + step)


def enc_tf_enhanced(h, bw, flags):
    steps = F(2.0 ** bw - 1)
    if h.xleft is None:
        return zero_data(bw, flags)
    lo, hi = h.range()
    cands = []
    if flags & SYM:
        if flags & STRICT:
            steps = steps - F(1)
        if lo == 0 and flags & UNSIGNED:
            dmax, o = hi / steps, 0
        else:
            dmax = (F(2) * max(abs(lo), abs(hi))) / steps
            o = f2i(np.floor(-steps / F(2)))
        cands = [(f * dmax, o) for f in f_loop(1.0 / 100, 1.0 + 1.0 / 100)]
    else:
        od = (hi - lo) / steps
        oo = f2i(rha(lo / od))
        omin = od * F(oo)
        omax = omin + od * steps
        for f in f_loop(1.0 / 16, 1.0 + 1.0 / 16):
            td = f * od  # clamped in place: carries over to the next offset
            for i in range(21):
                to = int(-float(steps) + float(steps) / 20.0 * i)
                tmin = td * F(to)
                tmax = tmin + td * steps
                if tmin < omin and tmax > omax:
                    continue
                tmin = max(omin, tmin)
                tmax = min(omax, tmax)
                if not tmax > tmin:
                    continue
                td = (tmax - tmin) / steps
                to = f2i(rha(tmin / td))
                cands.append((td, to))
        cands.append((od, oo))
    best, bc = None, F(np.finfo(np.float32).max)
    for d, o in cands:
        c = tfe_cost(h, bw, d, o)
        if c < bc:
            bc, best = c, (d, o)
    d, o = best
    emin = float(d * F(o))
    return (emin, float(d * steps) + emin, float(d), float(o), float(bc))


def zero_data(bw, flags):
    steps = F(2.0 ** bw - 1)
    if flags & SYM and flags & STRICT:
        steps = steps - F(1)
    n = int(steps)
    delta = 2.0 / n
    off = math.floor(-1.0 / delta)
    emin = off * delta
    return (emin, emin + n * delta, delta, float(off), float('nan'))


def enc_percentile(h, pct, bw, flags):
    if h.xleft is None:
        return zero_data(bw, flags)[:4]
    lo, hi = h.range()
    pct = F(pct)
    if pct != F(100):
        width = F(h.xleft[1] - h.xleft[0])
        hmin = F(h.xleft[0])
        hmax = F(h.xleft[-1] + float(width))
        pmin, pmax = hmin, hmax
        cdf = np.cumsum(h.pdf)
        left = F(1) - pct / F(100)
        right = pct / F(100)
        for i in range(PDF_SIZE):
            if cdf[i] >= float(left):
                pmin = F(h.xleft[i])
                break
        for i in range(PDF_SIZE - 1, -1, -1):
            if cdf[i] < float(right):
                pmax = hmax if i == PDF_SIZE - 1 else F(h.xleft[i + 1])
                break
        if pmin == pmax:
            pmax = pmax + width
        lo, hi = pmin, pmax
    lo = min(lo, F(0))
    hi = max(hi, F(0))
    return computed_encodings(bw, float(lo), float(hi), flags)


def encode(scheme, batches, bw, flags, pct):
    if scheme == 'tf':
        return tuple(enc_tf(batches, bw, flags)) + (float('nan'),)
    h = Hist()
    for b in batches:
        h.update(b)
    if scheme == 'tf_enhanced':
        return enc_tf_enhanced(h, bw, flags)
    return tuple(enc_percentile(h, pct, bw, flags)) + (float('nan'),)


# ---------------------------------------------------------------- SPEC 3.3
def qdq_grid(mn, mx, bw):
    mn = min(mn, 0.0)
    mx = max(mx, 0.0)
    mx = max(mx, mn + 1e-5)
    n = 2.0 ** bw - 1
    if mn == -mx:
        n -= 1
    d = (mx - mn) / n
    o = rha(mn / d)
    mn = o * d
    return (mn, mn + n * d, d, o)


def qdq(x, grid, even):
    mn, mx, d, o = (F(v) for v in grid)
    v = np.where(x > mn, x, mn).astype(np.float32)  # NaN -> mn
    v = np.where(v < mx, v, mx).astype(np.float32)
    q = rha_arr(v / d - o, even)
    return (d * (q + o)).astype(np.float32)


def split_axis(dims, axis):
    outer = int(np.prod(dims[:axis], dtype=np.int64))
    inner = int(np.prod(dims[axis + 1:], dtype=np.int64))
    return outer, dims[axis], inner


def main(argv):
    cmd = argv[1]
    if cmd == 'encode':
        scheme, bw, flags, pct, nb = argv[2], int(argv[3]), int(argv[4]), float(argv[5]), int(argv[6])
        x = np.fromfile(argv[7], dtype=np.float32)
        res = encode(scheme, np.split(x, nb), bw, flags, pct)
        np.array(res, dtype=np.float64).tofile(argv[8])
    elif cmd == 'encode_pc':
        scheme, bw, flags, pct, nb = argv[2], int(argv[3]), int(argv[4]), float(argv[5]), int(argv[6])
        axis, rank = int(argv[7]), int(argv[8])
        dims = [int(v) for v in argv[9:9 + rank]]
        x = np.fromfile(argv[9 + rank], dtype=np.float32).reshape([nb] + dims)
        outer, ch, inner = split_axis(dims, axis)
        out = []
        for c in range(ch):
            bs = [b.reshape(outer, ch, inner)[:, c, :].ravel() for b in x]
            out.append(encode(scheme, bs, bw, flags, pct)[:4])
        np.array(out, dtype=np.float64).tofile(argv[10 + rank])
    elif cmd == 'qdq':
        bw, mn, mx, even = int(argv[2]), float(argv[3]), float(argv[4]), int(argv[5])
        x = np.fromfile(argv[6], dtype=np.float32)
        qdq(x, qdq_grid(mn, mx, bw), even).tofile(argv[7])
    elif cmd == 'qdq_pc':
        axis, rank = int(argv[2]), int(argv[3])
        dims = [int(v) for v in argv[4:4 + rank]]
        even = int(argv[4 + rank])
        enc = np.fromfile(argv[5 + rank], dtype=np.float64).reshape(-1, 4)
        x = np.fromfile(argv[6 + rank], dtype=np.float32)
        outer, ch, inner = split_axis(dims, axis)
        x = x.reshape(outer, ch, inner)
        y = np.empty_like(x)
        for c in range(ch):
            y[:, c, :] = qdq(x[:, c, :], enc[c], even)
        y.tofile(argv[7 + rank])
    elif cmd == 'hist':
        h = Hist()
        for b in np.split(np.fromfile(argv[3], dtype=np.float32), int(argv[2])):
            h.update(b)
        xl = h.xleft if h.xleft is not None else np.zeros(PDF_SIZE)
        np.concatenate([xl, h.pdf, [h.it]]).astype(np.float64).tofile(argv[4])
    elif cmd == 'fp16':
        x = np.fromfile(argv[2], dtype=np.float32)
        with np.errstate(over='ignore', invalid='ignore'):
            x.astype(np.float16).astype(np.float32).tofile(argv[3])
    elif cmd == 'batch':
        with open(argv[2]) as f:
            for line in f:
                if line.strip():
                    main([argv[0]] + line.split())
    else:
        sys.exit('unknown command ' + cmd)


if __name__ == '__main__':
    main(sys.argv)
