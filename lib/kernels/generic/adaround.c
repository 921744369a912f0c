/* Portable AdaRound step (contract in ../adaround.h); the AVX2 kernel does
 * the same operations lane by lane. */
#include "../adaround.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define EXP_LO (-87.3f)
#define EXP_HI 88.3f
#define LOG2E 1.44269504088896341f
#define LN2_HI 0.693359375f
#define LN2_LO (-2.12194440e-4f)
#define SQRTHF 0.707106781186547524f
#define FLT_MIN_N 1.17549435e-38f

static float vmax(float a, float b)
{
    return a > b ? a : b;
}

static float vmin(float a, float b)
{
    return a < b ? a : b;
}

float qsim__ada_expf(float x)
{
    x = vmin(vmax(x, EXP_LO), EXP_HI);
    float fx = floorf(x * LOG2E + 0.5f);
    float r = x - fx * LN2_HI;
    r = r - fx * LN2_LO;
    float z = r * r;
    float y = 1.9875691500E-4f;
    y = y * r + 1.3981999507E-3f;
    y = y * r + 8.3334519073E-3f;
    y = y * r + 4.1665795894E-2f;
    y = y * r + 1.6666665459E-1f;
    y = y * r + 5.0000001201E-1f;
    y = y * z + r;
    y = y + 1.0f;
    uint32_t b = (uint32_t)((int32_t)fx + 127) << 23;
    float s;
    memcpy(&s, &b, sizeof s);
    return y * s;
}

float qsim__ada_logf(float x)
{
    x = vmax(x, FLT_MIN_N);
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    float e = (float)((int32_t)(b >> 23) - 126);
    b = (b & 0x807fffffu) | 0x3f000000u;
    float mt;
    memcpy(&mt, &b, sizeof mt); /* [0.5, 1) */
    int lt = mt < SQRTHF;
    float tmp = lt ? mt : 0.0f;
    mt = mt - 1.0f;
    e = e - (lt ? 1.0f : 0.0f);
    mt = mt + tmp;
    float z = mt * mt;
    float y = 7.0376836292E-2f;
    y = y * mt + -1.1514610310E-1f;
    y = y * mt + 1.1676998740E-1f;
    y = y * mt + -1.2420140846E-1f;
    y = y * mt + 1.4249322787E-1f;
    y = y * mt + -1.6668057665E-1f;
    y = y * mt + 2.0000714765E-1f;
    y = y * mt + -2.4999993993E-1f;
    y = y * mt + 3.3333331174E-1f;
    y = (y * mt) * z;
    y = y + e * LN2_LO;
    y = y - z * 0.5f;
    float r = mt + y;
    return r + e * LN2_HI;
}

double qsim__ada_step_f32__generic(const qsim__ada_step *p, size_t n, const float *wf,
                                   const float *grad, float *alpha, float *m, float *v,
                                   float *sig, float *wsoft)
{
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        float sg = sig[i];
        float hraw = sg * p->zg + p->gamma;
        float h = vmin(vmax(hraw, 0.0f), 1.0f);
        if (p->update) {
            float x = (wf[i] + h) - p->off;
            float gh = (x >= 0.0f && x <= p->qmax) ? grad[i] * p->delta : 0.0f;
            if (p->with_reg) {
                float t = 2.0f * h - 1.0f, at = fabsf(t);
                float pw = at > 0.0f ? qsim__ada_expf(p->beta_m1 * qsim__ada_logf(at)) : 0.0f;
                acc[i & 7] += (double)(1.0f - pw * at);
                float d = (p->cd * pw) * 2.0f;
                gh = gh + (t > 0.0f ? d : -d);
            }
            float g = (hraw >= 0.0f && hraw <= 1.0f) ? ((gh * p->zg) * sg) * (1.0f - sg) : 0.0f;
            float mm = m[i] * p->b1 + g * p->omb1;
            float vv = v[i] * p->b2 + (g * g) * p->omb2;
            m[i] = mm;
            v[i] = vv;
            float a = alpha[i] - p->step * (mm / (sqrtf(vv) / p->bc2s + p->eps));
            alpha[i] = a;
            sg = 1.0f / (1.0f + qsim__ada_expf(-a));
            sig[i] = sg;
            hraw = sg * p->zg + p->gamma;
            h = vmin(vmax(hraw, 0.0f), 1.0f);
        }
        float x = vmin(vmax((wf[i] + h) - p->off, 0.0f), p->qmax);
        wsoft[i] = (x + p->off) * p->delta;
    }
    double s = acc[0];
    for (int l = 1; l < 8; l++)
        s += acc[l];
    return s;
}
