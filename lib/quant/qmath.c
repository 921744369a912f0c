/* See qmath.h. C rounding (half away from zero) as AIMET's C++ code. */
#include "qmath.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static void computed(double min, double max, int bw, int sym, int strict, int unsigned_sym,
                     qsim__qenc *e)
{
    double n = ldexp(1.0, bw) - 1.0;
    if (sym && strict)
        n -= 1.0;
    if (isinf(min))
        min = min < 0 ? -DBL_MAX : DBL_MAX;
    if (isinf(max))
        max = max < 0 ? -DBL_MAX : DBL_MAX;
    e->bw = bw;
    if (sym && (min < 0 || !unsigned_sym)) {
        double a = fmax(fabs(min), fabs(max));
        double p = floor(n / 2.0);
        e->delta = a / p;
        e->offset = -ceil(n / 2.0);
        e->min = e->offset * e->delta;
        e->max = p * e->delta;
        return;
    }
    e->delta = (max - min) / n;
    if (min < 0 && max > 0) {
        double z = round(-min / e->delta);
        z = z < 0 ? 0 : z > n ? n : z;
        e->offset = -z;
        double nmin = e->delta * e->offset;
        e->max = max - min + nmin;
        e->min = nmin;
    } else {
        e->offset = round(min / e->delta);
        e->min = min;
        e->max = max;
    }
}

void qsim__qm_tf_encoding(double min, double max, int bw, int sym, int strict, int unsigned_sym,
                          qsim__qenc *out)
{
    min = fmin(0.0, min);
    max = fmax(0.0, max);
    max = fmax(max, min + 0.01);
    computed(min, max, bw, sym, strict, unsigned_sym, out);
}

void qsim__qm_fixed_encoding(double min, double max, int bw, int sym, int strict,
                             qsim__qenc *out)
{
    out->bw = bw;
    if (sym) {
        double p = ldexp(1.0, bw - 1) - 1.0;
        double a = fmax(fabs(min), fabs(max));
        out->delta = a / p;
        out->offset = -(p + (strict ? 0 : 1));
        out->min = out->delta * out->offset;
        out->max = out->delta * p;
        return;
    }
    min = fmin(0.0, min);
    max = fmax(0.0, max);
    max = fmax(max, min + 0.01);
    double n = ldexp(1.0, bw) - 1.0;
    out->delta = (max - min) / n;
    out->offset = nearbyint(min / out->delta); /* Python round: half to even */
    out->min = out->delta * out->offset;
    out->max = out->min + n * out->delta;
}

static void qdq(float *x, size_t n, size_t stride, float lo, float hi, float d, float o)
{
    for (size_t i = 0; i < n; i++) {
        float v = x[i * stride];
        v = v < lo ? lo : v > hi ? hi : v;
        float q = roundf(v / d - o);
        x[i * stride] = d * (q + o);
    }
}

void qsim__qm_qdq_tensor(float *x, size_t n, const qsim__qenc *e)
{
    double min = fmin(e->min, 0.0), max = fmax(e->max, 0.0);
    max = fmax(max, min + 1e-5);
    double steps = ldexp(1.0, e->bw) - 1.0;
    if (min == -max)
        steps -= 1.0;
    double d = (max - min) / steps;
    double o = round(min / d);
    min = o * d;
    max = min + steps * d;
    qdq(x, n, 1, (float)min, (float)max, (float)d, (float)o);
}

void qsim__qm_qdq_stored(float *x, size_t n, size_t stride, const qsim__qenc *e)
{
    qdq(x, n, stride, (float)e->min, (float)e->max, (float)e->delta, (float)e->offset);
}

static float fp16_round(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint32_t sign = x & 0x80000000u, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u)
        return f; /* inf, NaN */
    if (ax >= 0x477ff000u) { /* >= 65520: rounds to infinity */
        x = sign | 0x7f800000u;
    } else if (ax < 0x38800000u) { /* half subnormal range: quantum 2^-24 */
        float a;
        memcpy(&a, &ax, sizeof a);
        a = ldexpf(rintf(ldexpf(a, 24)), -24);
        memcpy(&ax, &a, sizeof ax);
        x = sign | ax;
    } else {
        uint32_t lsb = (ax >> 13) & 1u;
        ax += 0xfffu + lsb;
        ax &= ~0x1fffu;
        x = sign | ax;
    }
    memcpy(&f, &x, sizeof f);
    return f;
}

void qsim__qm_fp16(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = fp16_round(x[i]);
}
