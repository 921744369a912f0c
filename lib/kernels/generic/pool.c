/* Portable pooling row kernel (see pool.h for the algorithm). */
#include "../pool.h"

#include <math.h>

int qsim__k_f32_pool_row__generic(const qsim__pool_row *a)
{
    float t[QSIM__POOL_ROW_MAX];
    const int64_t sw = a->sw, kw = a->kw, L = (a->OW - 1) * sw + kw;
    const float padv = a->avg ? 0.0f : -INFINITY;
    int64_t c0 = a->pl < L ? a->pl : L;
    int64_t c1 = a->pl + a->W < L ? a->pl + a->W : L;
    int nan = 0;
    for (int64_t c = 0; c < c0; c++)
        t[c] = padv;
    for (int64_t c = c1; c < L; c++)
        t[c] = padv;
    /* columns reduced over the window rows, in row order */
    float *d = t + c0;
    const int64_t n = c1 - c0;
    if (a->nrows == 0)
        for (int64_t i = 0; i < n; i++)
            d[i] = padv;
    for (int64_t r = 0; r < a->nrows; r++) {
        const float *xr = a->x + r * a->xstride;
        if (r == 0) {
            for (int64_t i = 0; i < n; i++)
                d[i] = xr[i];
        } else if (a->avg) {
            for (int64_t i = 0; i < n; i++)
                d[i] += xr[i];
        } else {
            for (int64_t i = 0; i < n; i++)
                d[i] = xr[i] > d[i] ? xr[i] : d[i];
        }
        if (!a->avg)
            for (int64_t i = 0; i < n; i++)
                nan |= xr[i] != xr[i];
    }
    if (nan)
        return 1;
    for (int64_t ox = 0; ox < a->OW; ox++) {
        const float *s = t + ox * sw;
        float acc = s[0];
        if (a->avg) {
            for (int64_t j = 1; j < kw; j++)
                acc += s[j];
            float div = a->rowdiv * a->coldiv[ox];
            acc = div != 0.0f ? acc / div : 0.0f;
        } else {
            for (int64_t j = 1; j < kw; j++)
                acc = s[j] > acc ? s[j] : acc;
        }
        a->y[ox] = acc;
    }
    return 0;
}

void qsim__k_f32_global_pool__generic(const float *x, size_t n, size_t planes, float *y, int max)
{
    for (size_t p = 0; p < planes; p++, x += n) {
        if (max) {
            float m = x[0];
            int nan = 0;
            for (size_t i = 0; i < n; i++) {
                m = x[i] > m ? x[i] : m;
                nan |= x[i] != x[i];
            }
            y[p] = nan ? NAN : m;
            continue;
        }
        double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (size_t i = 0; i < n; i++)
            s[i % 8] += (double)x[i];
        double t = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
        y[p] = (float)(t / (double)n);
    }
}
