#include "stats.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/quant.h"

void qsim__minmax_reset(qsim__minmax *s)
{
    s->min = DBL_MAX;
    s->max = -DBL_MAX;
    s->batches = 0;
}

static void fold(qsim__minmax *s, float lo, float hi)
{
    /* kernel gives +inf/-inf for all-NaN input: no change then */
    if ((double)lo < s->min)
        s->min = lo;
    if ((double)hi > s->max)
        s->max = hi;
}

void qsim__minmax_update(qsim__minmax *s, const float *x, size_t n)
{
    if (n == 0)
        return;
    float lo, hi;
    qsim__minmax_f32(x, n, &lo, &hi);
    if (lo <= hi)
        fold(s, lo, hi);
    s->batches++;
}

void qsim__minmax_update_channels(qsim__minmax *s, size_t channels, const float *x, size_t outer,
                                  size_t inner)
{
    if (channels == 0)
        return;
    if (outer == 0 || inner == 0)
        return;
    for (size_t c = 0; c < channels; c++)
        s[c].batches++;
    for (size_t a = 0; a < outer; a++)
        for (size_t c = 0; c < channels; c++) {
            float lo, hi;
            const float *row = x + (a * channels + c) * inner;
            qsim__minmax_f32(row, inner, &lo, &hi);
            if (lo <= hi)
                fold(&s[c], lo, hi);
        }
}

void qsim__hist_reset(qsim__hist *h)
{
    memset(h, 0, sizeof *h);
}

void qsim__hist_update(qsim__hist *h, const float *x, size_t n)
{
    if (n == 0)
        return;
    h->batches++;
    if (!h->initialized) {
        float lo, hi;
        qsim__minmax_f32(x, n, &lo, &hi);
        if (!isfinite(lo) || !isfinite(hi))
            return;
        if (lo == 0.0f && hi == 0.0f)
            return;
        if (lo == hi) {
            float m = lo + 0.01f;
            hi = hi < m ? m : hi;
        }
        float c = (hi + lo) / 2;
        lo = c - 3 * (c - lo);
        hi = c + 3 * (hi - c);
        float b = (hi - lo) / QSIM__PDF_SIZE;
        for (int i = 0; i < QSIM__PDF_SIZE; i++)
            h->xleft[i] = (double)(lo + (float)i * b);
        memset(h->pdf, 0, sizeof h->pdf);
        h->iterations = 0;
        h->initialized = 1;
    }
    float lo = (float)h->xleft[0];
    float bin = (float)(h->xleft[1] - h->xleft[0]);
    float off = lo / bin;
    uint64_t count[QSIM__PDF_SIZE];
    memset(count, 0, sizeof count);
    qsim__hist_count_f32(x, n, bin, off, count);
    double it = (double)h->iterations;
    for (int i = 0; i < QSIM__PDF_SIZE; i++) {
        double p = (double)count[i] / (double)n;
        h->pdf[i] = (h->pdf[i] * it + p) / (it + 1);
    }
    h->iterations++;
}

qsim_status qsim__hist_update_channels(qsim__hist *h, size_t channels, const float *x,
                                       size_t outer, size_t inner)
{
    size_t m;
    if (!qsim__mul_size(outer, inner, &m))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "per-channel histogram: %zu x %zu elements overflow", outer, inner);
    if (channels == 0 || m == 0)
        return QSIM_OK;
    float *buf = qsim__malloc_array(m, sizeof(float));
    if (!buf)
        return qsim__oom();
    for (size_t c = 0; c < channels; c++) {
        for (size_t a = 0; a < outer; a++)
            memcpy(buf + a * inner, x + (a * channels + c) * inner, inner * sizeof(float));
        qsim__hist_update(&h[c], buf, m);
    }
    qsim__free(buf);
    return QSIM_OK;
}
