/* Encoding math; see encoding.h and SPEC 3. Float32 expressions in the
 * TF-enhanced and percentile code mirror AIMET's float analyzers operation
 * by operation (including where C++ promotes to double), so keep their
 * order and types when editing. */
#include "encoding.h"

#include <float.h>
#include <math.h>
#include <stddef.h>

#include "../core/error.h"

qsim_status qsim__encoding_check_bw(int bw)
{
    if (bw < QSIM__ENC_MIN_BW || bw > QSIM__ENC_MAX_BW)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "bitwidth %d is outside [%d, %d]", bw,
                          QSIM__ENC_MIN_BW, QSIM__ENC_MAX_BW);
    return QSIM_OK;
}

static double steps_of(int bw) { return ldexp(1.0, bw) - 1.0; }

/* Python's round(): half to even (default rounding mode). */
static double round_even(double v) { return nearbyint(v); }

/* float -> int as x86 C++ compilers do it for in-range values; out-of-range
 * and NaN saturate to INT_MIN like cvttss2si ("integer indefinite"). */
static int f2i(float v)
{
    if (!(v >= -2147483648.0f && v < 2147483648.0f))
        return INT32_MIN;
    return (int)v;
}

static int d2i(double v)
{
    if (!(v >= -2147483648.0 && v < 2147483648.0))
        return INT32_MIN;
    return (int)v;
}

qsim_status qsim__encoding_compute(int bw, double min, double max, unsigned flags,
                                   qsim__encoding *out)
{
    QSIM__TRY(qsim__encoding_check_bw(bw));
    if (isnan(min) || isnan(max))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encoding range is NaN");
    if (isinf(min))
        min = min < 0 ? -FLT_MAX : FLT_MAX;
    if (isinf(max))
        max = max < 0 ? -FLT_MAX : FLT_MAX;
    if (min > max)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encoding range [%g, %g] has min > max",
                          min, max);
    int sym = (flags & QSIM__ENC_SYMMETRIC) != 0;
    double n = steps_of(bw);
    if (sym && (flags & QSIM__ENC_STRICT))
        n -= 1;
    qsim__encoding e = {0};
    e.bw = bw;
    if (sym && (min < 0.0 || !(flags & QSIM__ENC_UNSIGNED))) {
        double a = fmax(fabs(max), fabs(min));
        double pos = floor(n / 2);
        e.delta = a / pos;
        e.offset = (int64_t)-ceil(n / 2);
        e.min = (double)e.offset * e.delta;
        e.max = e.delta * pos;
    } else {
        e.delta = (max - min) / n;
        if (!(e.delta > 0) || !isfinite(e.delta))
            goto bad;
        double off;
        if (min < 0 && max > 0) {
            double z = round(-min / e.delta);
            z = fmin(n, fmax(0.0, z));
            off = -z;
        } else {
            off = round(min / e.delta);
        }
        e.offset = (int64_t)off;
        e.min = e.delta * off;
        e.max = max - min + e.min;
    }
    if (!(e.delta > 0) || !isfinite(e.delta))
        goto bad;
    *out = e;
    return QSIM_OK;
bad:
    return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                      "encoding range [%g, %g] at %d bits gives no positive step", min, max, bw);
}

qsim_status qsim__encoding_tf(const qsim__minmax *s, int bw, unsigned flags, qsim__encoding *out)
{
    if (s->batches == 0)
        return qsim__fail(QSIM_ERR_STATE, "no statistics collected for a min-max encoding");
    double mn = fmin(0.0, s->min), mx = fmax(0.0, s->max);
    mx = fmax(mx, mn + QSIM__MIN_RANGE);
    return qsim__encoding_compute(bw, mn, mx, flags, out);
}

/* Histogram seen only all-zero data: a valid encoding covering 0. */
static qsim_status zero_data_encoding(int bw, unsigned flags, qsim__encoding *out)
{
    float steps = (float)steps_of(bw);
    if ((flags & QSIM__ENC_SYMMETRIC) && (flags & QSIM__ENC_STRICT))
        steps -= 1;
    int n = (int)(double)steps;
    if (bw == 32)
        n = INT32_MAX; /* 2^32 does not fit AIMET's int(numSteps) */
    qsim__encoding e;
    e.bw = bw;
    e.min = -1;
    e.max = 1;
    e.delta = (e.max - e.min) / n;
    e.offset = (int64_t)floor(e.min / e.delta);
    e.min = (double)e.offset * e.delta;
    e.max = e.min + n * e.delta;
    *out = e;
    return QSIM_OK;
}

static qsim_status hist_ready(const qsim__hist *h, int bw, unsigned flags, qsim__encoding *out,
                              int *done)
{
    *done = 0;
    QSIM__TRY(qsim__encoding_check_bw(bw));
    if (h->batches == 0)
        return qsim__fail(QSIM_ERR_STATE, "no statistics collected for a histogram encoding");
    if (!h->initialized) {
        *done = 1;
        return zero_data_encoding(bw, flags, out);
    }
    return QSIM_OK;
}

/* findOriginalRange<float> / _findRangeOfAggregateStats. */
static void hist_range(const qsim__hist *h, float *mn, float *mx)
{
    float lo = (float)h->xleft[0], hi = (float)h->xleft[QSIM__PDF_SIZE - 1];
    for (int i = 0; i < QSIM__PDF_SIZE; i++)
        if (h->pdf[i] > 0) {
            lo = (float)h->xleft[i];
            break;
        }
    for (int i = QSIM__PDF_SIZE - 1; i > 0; i--)
        if (h->pdf[i] > 0) {
            hi = (float)h->xleft[i];
            break;
        }
    lo = 0.0f < lo ? 0.0f : lo;
    hi = hi < 0.0f ? 0.0f : hi;
    float m = lo + (float)QSIM__MIN_RANGE;
    hi = hi < m ? m : hi;
    *mn = lo;
    *mx = hi;
}

static int bin_floor(float v)
{
    if (!(v > 0.0f)) /* also NaN */
        return 0;
    if (v >= (float)(QSIM__PDF_SIZE - 1))
        return QSIM__PDF_SIZE - 1;
    return (int)floorf(v);
}

float qsim__tfe_cost(const qsim__hist *h, int bw, float delta, int64_t offset64)
{
    int offset = (int)offset64;
    float minv = delta * (float)offset;
    float step_size = (float)steps_of(bw);
    float maxv = delta * step_size + minv;
    float start = (float)h->xleft[0];
    float step = (float)(h->xleft[1] - h->xleft[0]);
    int mi = bin_floor((minv - start) / step);
    int ma = bin_floor((maxv - start) / step);
    float half = step / 2;

    float sat_lo = 0, sat_hi = 0, quant = 0;
    float mid_lo = start + (float)mi * step + half;
    for (int i = 0; i < mi; i++) {
        float mid = start + (float)i * step + half;
        double d = (double)(mid - mid_lo); /* C++ pow(float, 2) is double */
        sat_lo = (float)((double)sat_lo + h->pdf[i] * (d * d));
    }
    float mid_hi = start + (float)ma * step + half;
    for (int i = ma; i < QSIM__PDF_SIZE; i++) {
        float mid = start + (float)i * step + half;
        double d = (double)(mid - mid_hi);
        sat_hi = (float)((double)sat_hi + h->pdf[i] * (d * d));
    }
    for (int i = mi; i < ma; i++) {
        float v = start + (float)i * step + half;
        int q = f2i(roundf(v / delta - (float)offset));
        float dq = delta * (float)((int64_t)q + offset);
        double d = (double)(v - dq);
        quant = (float)((double)quant + h->pdf[i] * (d * d));
    }
    return 3.0f * (sat_lo + sat_hi) + quant;
}

typedef struct cand {
    float delta;
    int offset;
} cand;

/* At most 17*21 + 1 asymmetric or 102 symmetric candidates. */
#define MAX_CANDS (17 * 21 + 1 + 8)

static size_t asym_candidates(float minv, float maxv, float steps, cand *c)
{
    size_t n = 0;
    float od = (maxv - minv) / steps;
    int oo = f2i(roundf(minv / od));
    float omin = od * (float)oo;
    float omax = omin + od * steps;
    float dmax = od;
    for (float f = (float)(1.0 / 16); (double)f <= 1.0 + 1.0 / 16;
         f = (float)((double)f + 1.0 / 16)) {
        float td = f * dmax; /* clamped in place below, as in AIMET */
        for (int i = 0; i <= 20; i++) {
            /* saturating like f2i: at 32 bits -steps is below INT_MIN */
            int to = d2i((double)(-steps) + (double)steps / 20.0 * i);
            float tmin = td * (float)to;
            float tmax = tmin + td * steps;
            if (tmin < omin && tmax > omax)
                continue;
            tmin = omin < tmin ? tmin : omin;
            tmax = tmax < omax ? tmax : omax;
            if (!(tmax > tmin)) /* empty intersection (SPEC) */
                continue;
            td = (tmax - tmin) / steps;
            to = f2i(roundf(tmin / td));
            if (n < MAX_CANDS - 1)
                c[n++] = (cand){td, to};
        }
    }
    c[n++] = (cand){od, oo};
    return n;
}

static size_t sym_candidates(float minv, float maxv, float steps, int unsig, cand *c)
{
    size_t n = 0;
    float dmax;
    int to;
    if (minv == 0.0f && unsig) {
        dmax = maxv / steps;
        to = 0;
    } else {
        float a = fabsf(maxv) < fabsf(minv) ? fabsf(minv) : fabsf(maxv);
        dmax = (2 * a) / steps;
        to = f2i(floorf(-steps / 2));
    }
    for (float f = (float)(1.0 / 100); (double)f <= 1.0 + 1.0 / 100;
         f = (float)((double)f + 1.0 / 100))
        if (n < MAX_CANDS)
            c[n++] = (cand){f * dmax, to};
    return n;
}

qsim_status qsim__encoding_tf_enhanced(const qsim__hist *h, int bw, unsigned flags,
                                       qsim__encoding *out)
{
    int done;
    QSIM__TRY(hist_ready(h, bw, flags, out, &done));
    if (done)
        return QSIM_OK;
    float minv, maxv;
    hist_range(h, &minv, &maxv);
    float steps = (float)steps_of(bw);
    cand c[MAX_CANDS];
    size_t nc;
    if (flags & QSIM__ENC_SYMMETRIC) {
        if (flags & QSIM__ENC_STRICT)
            steps -= 1;
        nc = sym_candidates(minv, maxv, steps, (flags & QSIM__ENC_UNSIGNED) != 0, c);
    } else {
        nc = asym_candidates(minv, maxv, steps, c);
    }
    float best_cost = FLT_MAX, bd = -1;
    int bo = -1, found = 0;
    for (size_t i = 0; i < nc; i++) {
        float cost = qsim__tfe_cost(h, bw, c[i].delta, c[i].offset);
        if (cost < best_cost) {
            best_cost = cost;
            bd = c[i].delta;
            bo = c[i].offset;
            found = 1;
        }
    }
    if (!found || !(bd > 0))
        return qsim__fail(QSIM_ERR_STATE, "TF-enhanced search found no candidate with a finite cost");
    qsim__encoding e;
    e.bw = bw;
    e.delta = bd;
    e.offset = bo;
    e.min = (double)(bd * (float)bo);
    e.max = (double)(bd * steps) + e.min;
    *out = e;
    return QSIM_OK;
}

qsim_status qsim__encoding_percentile(const qsim__hist *h, float percentile, int bw,
                                      unsigned flags, qsim__encoding *out)
{
    if (!(percentile >= 50.0f && percentile <= 100.0f))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "percentile %g is outside [50, 100]",
                          (double)percentile);
    int done;
    QSIM__TRY(hist_ready(h, bw, flags, out, &done));
    if (done)
        return QSIM_OK;
    float amin, amax;
    hist_range(h, &amin, &amax);
    if (percentile != 100.0f) {
        const float width = (float)(h->xleft[1] - h->xleft[0]);
        float hmin = (float)h->xleft[0];
        float hmax = (float)(h->xleft[QSIM__PDF_SIZE - 1] + (double)width);
        float pmin = hmin, pmax = hmax;
        double cdf[QSIM__PDF_SIZE];
        cdf[0] = h->pdf[0];
        for (int i = 1; i < QSIM__PDF_SIZE; i++)
            cdf[i] = h->pdf[i] + cdf[i - 1];
        float left = 1 - percentile / 100;
        for (int i = 0; i < QSIM__PDF_SIZE; i++)
            if (cdf[i] >= (double)left) {
                pmin = (float)h->xleft[i];
                break;
            }
        float right = percentile / 100;
        for (int i = QSIM__PDF_SIZE - 1; i >= 0; i--)
            if (cdf[i] < (double)right) {
                /* AIMET reads xLeft[512] here; the right edge is meant */
                pmax = i == QSIM__PDF_SIZE - 1 ? hmax : (float)h->xleft[i + 1];
                break;
            }
        if (pmin == pmax)
            pmax += width;
        amin = pmin;
        amax = pmax;
    }
    amin = 0.0f < amin ? 0.0f : amin;
    amax = amax < 0.0f ? 0.0f : amax;
    return qsim__encoding_compute(bw, (double)amin, (double)amax, flags, out);
}

qsim_status qsim__encoding_from_scale_offset(double scale, int64_t offset, int bw,
                                             qsim__encoding *out)
{
    QSIM__TRY(qsim__encoding_check_bw(bw));
    if (!(scale > 0) || !isfinite(scale))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encoding scale %g is not a positive number",
                          scale);
    qsim__encoding e;
    e.bw = bw;
    e.delta = scale;
    e.offset = offset;
    e.min = scale * (double)offset;
    e.max = scale * (steps_of(bw) + (double)offset);
    *out = e;
    return QSIM_OK;
}

qsim_status qsim__encoding_from_min_max(double min, double max, int bw, unsigned flags,
                                        qsim__encoding *out)
{
    QSIM__TRY(qsim__encoding_check_bw(bw));
    if (isnan(min) || isnan(max))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encoding range is NaN");
    qsim__encoding e;
    e.bw = bw;
    if (flags & QSIM__ENC_SYMMETRIC) {
        double p = ldexp(1.0, bw - 1) - 1;
        double a = fmax(fabs(min), fabs(max));
        if (!(a > 0) || !isfinite(a))
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "symmetric encoding range [%g, %g] has no extent", min, max);
        e.delta = a / p;
        e.offset = -(int64_t)p - ((flags & QSIM__ENC_STRICT) ? 0 : 1);
        e.min = e.delta * (double)e.offset;
        e.max = e.delta * p;
    } else {
        double n = steps_of(bw);
        double mn = fmin(min, 0.0), mx = fmax(max, 0.0);
        mx = fmax(mx, mn + QSIM__MIN_RANGE);
        e.delta = (mx - mn) / n;
        if (!isfinite(e.delta))
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encoding range [%g, %g] is not finite",
                              min, max);
        double off = round_even(mn / e.delta);
        e.offset = (int64_t)off;
        e.min = e.delta * off;
        e.max = e.min + n * e.delta;
    }
    *out = e;
    return QSIM_OK;
}

qsim_status qsim__calc_delta_offset(double min, double max, int bw, unsigned flags,
                                    double *delta, int64_t *offset)
{
    QSIM__TRY(qsim__encoding_check_bw(bw));
    if (isnan(min) || isnan(max) || isinf(min) || isinf(max))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encoding range [%g, %g] is not finite",
                          min, max);
    int sym = (flags & QSIM__ENC_SYMMETRIC) != 0;
    double n = steps_of(bw);
    if (sym && (flags & QSIM__ENC_STRICT))
        n -= 1;
    double mn = fmin(min, 0.0), mx = fmax(max, 0.0);
    mx = fmax(mx, mn + QSIM__QDQ_MIN_RANGE);
    if (sym && mn < 0) {
        double pos = floor(n / 2);
        *delta = mx / pos;
        *offset = -(int64_t)pos - ((flags & QSIM__ENC_STRICT) ? 0 : 1);
    } else {
        *delta = (mx - mn) / n;
        *offset = (int64_t)round_even(mn / *delta);
    }
    return QSIM_OK;
}

qsim_status qsim__qdq_params_tensor(double min, double max, int bw, qsim__qdq_params *out)
{
    QSIM__TRY(qsim__encoding_check_bw(bw));
    if (isnan(min) || isnan(max))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "QDQ range is NaN");
    min = fmin(min, 0.0);
    max = fmax(max, 0.0);
    max = fmax(max, min + QSIM__QDQ_MIN_RANGE);
    double n = steps_of(bw);
    if (min == -max)
        n -= 1; /* strict symmetric */
    double d = (max - min) / n;
    if (!(d > 0) || !isfinite(d))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "QDQ range [%g, %g] is not finite", min, max);
    double o = round(min / d);
    out->delta = d;
    out->offset = o;
    out->min = o * d;
    out->max = out->min + n * d;
    return QSIM_OK;
}

void qsim__qdq_params_from_encoding(const qsim__encoding *e, qsim__qdq_params *out)
{
    out->min = e->min;
    out->max = e->max;
    out->delta = e->delta;
    out->offset = (double)e->offset;
}
