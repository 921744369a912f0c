/* Portable QDQ and min/max kernels; see lib/kernels/quant.h for the exact
 * arithmetic. Rounding is done inline on the magnitude with the sign put
 * back afterwards, so -0.3 rounds to -0.0 exactly like roundf/nearbyintf. */
#include "../quant.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float with_sign_of(float mag, float s)
{
    uint32_t a, b;
    memcpy(&a, &mag, 4);
    memcpy(&b, &s, 4);
    a = (a & 0x7fffffffu) | (b & 0x80000000u);
    memcpy(&mag, &a, 4);
    return mag;
}

/* Half away from zero == roundf(). Values >= 2^23 are already integral. */
static inline float round_away(float v)
{
    float a = fabsf(v);
    if (!(a < 8388608.0f))
        return v; /* integral, inf or NaN */
    float t = (float)(int32_t)a;
    if (a - t >= 0.5f) /* exact: a - trunc(a) */
        t += 1.0f;
    return with_sign_of(t, v);
}

/* Half to even == nearbyintf() in the default rounding mode: adding 2^23
 * to a value in [0, 2^23) rounds it to an integer with ties to even. */
static inline float round_even(float v)
{
    float a = fabsf(v);
    if (!(a < 8388608.0f))
        return v;
    float t = (a + 8388608.0f) - 8388608.0f; /* not folded without -ffast-math */
    return with_sign_of(t, v);
}

void qsim__qdq_f32__generic(const float *x, float *y, size_t n, const qsim__qdq_params *p,
                            int round_mode)
{
    const float mn = (float)p->min, mx = (float)p->max;
    const float d = (float)p->delta, o = (float)p->offset;
    if (round_mode == QSIM__ROUND_HALF_EVEN) {
        for (size_t i = 0; i < n; i++) {
            float v = x[i];
            v = v > mn ? v : mn;
            v = v < mx ? v : mx;
            y[i] = d * (round_even(v / d - o) + o);
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            float v = x[i];
            v = v > mn ? v : mn;
            v = v < mx ? v : mx;
            y[i] = d * (round_away(v / d - o) + o);
        }
    }
}

void qsim__minmax_f32__generic(const float *x, size_t n, float *mn, float *mx)
{
    float lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        lo = v < lo ? v : lo; /* NaN compares false: ignored */
        hi = v > hi ? v : hi;
    }
    *mn = lo;
    *mx = hi;
}

void qsim__hist_count_f32__generic(const float *x, size_t n, float bin, float off, uint64_t *count)
{
    for (size_t i = 0; i < n; i++) {
        float t = x[i] / bin - off;
        if (!(t > -0.5f && t < 511.5f)) /* round(t) outside [0, 511]; NaN too */
            continue;
        int k = (int)t; /* trunc; 0 for t in (-0.5, 0) */
        if (t - (float)k >= 0.5f)
            k++;
        count[k]++;
    }
}
