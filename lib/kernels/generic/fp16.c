/* Portable binary16 conversions with integer arithmetic only, matching
 * F16C's VCVTPS2PH (round to nearest even) and VCVTPH2PS bit for bit,
 * NaN payloads included. */
#include "../fp16.h"

#include <string.h>

static inline uint16_t to_half(float x)
{
    uint32_t b;
    memcpy(&b, &x, 4);
    uint32_t sign = (b >> 16) & 0x8000u;
    uint32_t a = b & 0x7fffffffu;
    if (a >= 0x7f800000u) {
        if (a == 0x7f800000u)
            return (uint16_t)(sign | 0x7c00u);
        /* NaN: quiet it, keep the top 9 payload bits. */
        return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
    }
    if (a >= 0x477ff000u) /* >= 65520: rounds to infinity */
        return (uint16_t)(sign | 0x7c00u);
    if (a >= 0x38800000u) { /* >= 2^-14: normal half */
        uint32_t r = (a - 0x38000000u) >> 13;
        uint32_t rem = a & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (r & 1u)))
            r++;
        return (uint16_t)(sign | r);
    }
    if (a <= 0x33000000u) /* <= 2^-25: rounds to zero (2^-25 ties to even 0) */
        return (uint16_t)sign;
    /* Subnormal half: value / 2^-24 rounded to nearest even. */
    uint32_t e = a >> 23;
    uint32_t m = (a & 0x7fffffu) | 0x800000u;
    uint32_t s = 126u - e; /* 14 .. 24 */
    uint32_t r = m >> s;
    uint32_t rem = m & ((1u << s) - 1u), half = 1u << (s - 1u);
    if (rem > half || (rem == half && (r & 1u)))
        r++;
    return (uint16_t)(sign | r);
}

static inline float to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu, b;
    if (e == 0) {
        if (m == 0) {
            b = sign;
        } else { /* subnormal: normalise */
            uint32_t ex = 113;
            while (!(m & 0x400u)) {
                m <<= 1;
                ex--;
            }
            b = sign | (ex << 23) | ((m & 0x3ffu) << 13);
        }
    } else if (e == 31) {
        b = sign | 0x7f800000u | (m << 13);
        if (m)
            b |= 0x400000u; /* NaN comes back quiet */
    } else {
        b = sign | ((e + 112u) << 23) | (m << 13);
    }
    float f;
    memcpy(&f, &b, 4);
    return f;
}

uint16_t qsim__f32_to_f16(float x) { return to_half(x); }
float qsim__f16_to_f32(uint16_t h) { return to_float(h); }

void qsim__f32_to_f16_buf__generic(const float *x, uint16_t *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h[i] = to_half(x[i]);
}

void qsim__f16_to_f32_buf__generic(const uint16_t *h, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = to_float(h[i]);
}

void qsim__fp16_qdq_f32__generic(const float *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        y[i] = to_float(to_half(x[i]));
}
