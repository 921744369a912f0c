/* Op family 'resize': Resize (opsets 10-19) and Upsample (7, 9). Each
 * resized axis gets a table of input taps (index, weight) per output
 * position; an output element sums the products of its axes' taps, which
 * is the separable N-D interpolation the ONNX spec describes. */
#include "op.h"

#include "oputil.h"
#include "../core/alloc.h"
#include "../core/error.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

enum { M_NEAREST, M_LINEAR, M_CUBIC };
enum { CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC, CT_TF_HALF_PIXEL_NN,
       CT_TF_CROP_AND_RESIZE, CT_HALF_PIXEL_SYMMETRIC };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL, NM_SIMPLE };

typedef struct rs_attrs {
    int mode, ctm, nearest;
    float cubic_a, extrapolation;
    int exclude_outside;
} rs_attrs;

typedef struct rs_plan {
    rs_attrs at;
    int rank;
    int64_t in[QSIM__MAX_RANK], out[QSIM__MAX_RANK];
    double scale[QSIM__MAX_RANK];
    double roi_s[QSIM__MAX_RANK], roi_e[QSIM__MAX_RANK];
} rs_plan;

typedef struct tap {
    int64_t idx[4];
    float w[4];
    int n;
    int outside;  /* tf_crop_and_resize: position maps outside the input */
} tap;

static int pick(const char *s, const char *const *names, int count)
{
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static qsim_status read_attrs(const qsim__node *n, int upsample, rs_attrs *a)
{
    memset(a, 0, sizeof *a);
    const char *s;
    QSIM__TRY(qsim__attr_string(n, "mode", "nearest", &s));
    static const char *const modes[] = {"nearest", "linear", "cubic", "bilinear"};
    int m = pick(s, modes, 4);
    if (m == 3 && upsample)
        m = M_LINEAR;
    if (m < 0 || m == 3 || (m == M_CUBIC && (upsample || n->opset < 11)))
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'mode' value '%s' is not "
                          "supported", qsim__node_label(n), s);
    a->mode = m;
    a->cubic_a = -0.75f;
    if (upsample || n->opset < 11) {
        /* Upsample and Resize-10 map asymmetrically; nearest uses floor when
         * enlarging and ceil when shrinking (what onnxruntime does). */
        a->ctm = CT_ASYMMETRIC;
        a->nearest = NM_SIMPLE;
        return QSIM_OK;
    }
    static const char *const ctms[] = {"half_pixel", "pytorch_half_pixel", "align_corners",
                                       "asymmetric", "tf_half_pixel_for_nn",
                                       "tf_crop_and_resize", "half_pixel_symmetric"};
    QSIM__TRY(qsim__attr_string(n, "coordinate_transformation_mode", "half_pixel", &s));
    a->ctm = pick(s, ctms, 7);
    if (a->ctm < 0 || (a->ctm == CT_HALF_PIXEL_SYMMETRIC && n->opset < 19))
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'coordinate_transformation_mode' "
                          "value '%s' is not supported", qsim__node_label(n), s);
    static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    QSIM__TRY(qsim__attr_string(n, "nearest_mode", "round_prefer_floor", &s));
    a->nearest = pick(s, nms, 4);
    if (a->nearest < 0)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'nearest_mode' value '%s' is not "
                          "supported", qsim__node_label(n), s);
    QSIM__TRY(qsim__attr_float(n, "cubic_coeff_a", -0.75f, &a->cubic_a));
    QSIM__TRY(qsim__attr_float(n, "extrapolation_value", 0.0f, &a->extrapolation));
    int64_t v;
    QSIM__TRY(qsim__attr_int(n, "exclude_outside", 0, &v));
    a->exclude_outside = v != 0;
    if (n->opset >= 18) {
        QSIM__TRY(qsim__attr_int(n, "antialias", 0, &v));
        if (v)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'antialias' = 1 is not "
                              "supported", qsim__node_label(n));
    }
    return QSIM_OK;
}

/* Reads a float tensor input (scales, roi) of `count` values into dst. */
static qsim_status const_floats(const qsim__node *n, const qsim__tview *t, const char *what,
                                size_t count, double *dst)
{
    if (t->dtype != QSIM__DT_FLOAT)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: %s has type %s (float expected)",
                          qsim__node_label(n), what, qsim__dtype_name(t->dtype));
    if (!t->data)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: %s must be a constant", qsim__node_label(n),
                          what);
    if (t->numel != count)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: %s %s has %zu values, expected %zu",
                          qsim__node_label(n), what, qsim__vshape(t), t->numel, count);
    const float *f = t->data;
    for (size_t i = 0; i < count; i++)
        dst[i] = f[i];
    return QSIM_OK;
}

static qsim_status rs_make(const qsim__node *n, const qsim__tview *in, size_t n_in, rs_plan *p)
{
    int upsample = strcmp(n->op_type, "Upsample") == 0;
    memset(p, 0, sizeof *p);
    QSIM__TRY(read_attrs(n, upsample, &p->at));
    const qsim__tview *x = &in[0];
    QSIM__TRY(qsim__check_float(n, x, "input X"));
    int r = p->rank = x->shape.rank;
    if (r < 1)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: X %s must have rank >= 1", qsim__node_label(n),
                          qsim__vshape(x));
    for (int i = 0; i < r; i++) {
        p->in[i] = x->shape.dims[i];
        p->scale[i] = 1.0;
        p->roi_s[i] = 0.0;
        p->roi_e[i] = 1.0;
    }
    /* which axes the scales/sizes/roi talk about */
    int axes[QSIM__MAX_RANK], na = r;
    for (int i = 0; i < r; i++)
        axes[i] = i;
    int64_t policy = 0; /* stretch, not_larger, not_smaller */
    if (!upsample && n->opset >= 18) {
        const int64_t *av;
        size_t ac;
        QSIM__TRY(qsim__attr_ints(n, "axes", &av, &ac));
        if (ac) {
            if (ac > (size_t)r)
                return qsim__fail(QSIM_ERR_SHAPE, "%s: attribute 'axes' has %zu values for X %s",
                                  qsim__node_label(n), ac, qsim__vshape(x));
            unsigned seen = 0;
            for (size_t i = 0; i < ac; i++) {
                int64_t a = av[i] < 0 ? av[i] + r : av[i];
                if (a < 0 || a >= r || (seen & (1u << a)))
                    return qsim__fail(QSIM_ERR_SHAPE, "%s: attribute 'axes' value %" PRId64
                                      " is invalid for X %s", qsim__node_label(n), av[i],
                                      qsim__vshape(x));
                seen |= 1u << a;
                axes[i] = (int)a;
            }
            na = (int)ac;
        }
        const char *s;
        QSIM__TRY(qsim__attr_string(n, "keep_aspect_ratio_policy", "stretch", &s));
        static const char *const pols[] = {"stretch", "not_larger", "not_smaller"};
        policy = pick(s, pols, 3);
        if (policy < 0)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute 'keep_aspect_ratio_policy' "
                              "value '%s' is not supported", qsim__node_label(n), s);
    }
    double vals[QSIM__MAX_RANK];
    const qsim__tview *scales = NULL, *sizes = NULL, *roi = NULL;
    if (upsample && n->opset < 9) {
        const float *f;
        size_t c;
        QSIM__TRY(qsim__attr_floats(n, "scales", &f, &c));
        if (c != (size_t)r)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: attribute 'scales' has %zu values for X %s",
                              qsim__node_label(n), c, qsim__vshape(x));
        for (int i = 0; i < r; i++)
            p->scale[i] = f[i];
    } else if (upsample || n->opset < 11) {
        if (!qsim__in_present(in, n_in, 1))
            return qsim__fail(QSIM_ERR_PARSE, "%s: input 'scales' is missing", qsim__node_label(n));
        scales = &in[1];
    } else {
        if (qsim__in_present(in, n_in, 1))
            roi = &in[1];
        if (qsim__in_present(in, n_in, 2) && in[2].numel > 0)
            scales = &in[2];
        if (qsim__in_present(in, n_in, 3) && in[3].numel > 0)
            sizes = &in[3];
        if ((scales != NULL) == (sizes != NULL))
            return qsim__fail(QSIM_ERR_PARSE, "%s: exactly one of 'scales' and 'sizes' must be "
                              "given", qsim__node_label(n));
    }
    if (scales) {
        QSIM__TRY(const_floats(n, scales, "scales", (size_t)na, vals));
        for (int i = 0; i < na; i++)
            p->scale[axes[i]] = vals[i];
    }
    if (roi && p->at.ctm == CT_TF_CROP_AND_RESIZE) {
        double rv[2 * QSIM__MAX_RANK];
        if (roi->numel == 0) {
            /* no roi: the whole input */
        } else {
            QSIM__TRY(const_floats(n, roi, "roi", 2 * (size_t)na, rv));
            for (int i = 0; i < na; i++) {
                p->roi_s[axes[i]] = rv[i];
                p->roi_e[axes[i]] = rv[na + i];
            }
        }
    }
    for (int i = 0; i < r; i++) {
        if (!(p->scale[i] > 0.0) || p->scale[i] > 1e6)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: scale %g on axis %d is invalid",
                              qsim__node_label(n), p->scale[i], i);
        if (upsample && p->scale[i] < 1.0)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: Upsample scale %g on axis %d is below 1",
                              qsim__node_label(n), p->scale[i], i);
        /* The spec scales tf_crop_and_resize's length by the roi extent too;
         * onnxruntime and ONNX's reference do not, and we follow them. */
        p->out[i] = (int64_t)floor((double)p->in[i] * p->scale[i]);
    }
    if (sizes) {
        if (sizes->dtype != QSIM__DT_INT64)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: sizes has type %s (int64 expected)",
                              qsim__node_label(n), qsim__dtype_name(sizes->dtype));
        if (!sizes->data)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: sizes must be a constant",
                              qsim__node_label(n));
        if (sizes->numel != (size_t)na)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: sizes %s does not match X %s",
                              qsim__node_label(n), qsim__vshape(sizes), qsim__vshape(x));
        const int64_t *sz = sizes->data;
        for (int i = 0; i < na; i++)
            if (sz[i] < 0 || sz[i] > ((int64_t)1 << 32))
                return qsim__fail(QSIM_ERR_SHAPE, "%s: sizes value %" PRId64 " is invalid",
                                  qsim__node_label(n), sz[i]);
        if (policy == 0) {
            for (int i = 0; i < na; i++) {
                int a = axes[i];
                p->out[a] = sz[i];
                p->scale[a] = p->in[a] ? (double)sz[i] / (double)p->in[a] : 1.0;
            }
        } else {
            double s = policy == 1 ? INFINITY : 0.0;
            for (int i = 0; i < na; i++) {
                double v = p->in[axes[i]] ? (double)sz[i] / (double)p->in[axes[i]] : 1.0;
                s = policy == 1 ? fmin(s, v) : fmax(s, v);
            }
            for (int i = 0; i < na; i++) {
                int a = axes[i];
                p->scale[a] = s;
                p->out[a] = (int64_t)floor(s * (double)p->in[a] + 0.5);
            }
        }
    }
    for (int i = 0; i < r; i++)
        if (p->out[i] < 0 || p->out[i] > ((int64_t)1 << 32) || (p->out[i] > 0 && p->in[i] == 0))
            return qsim__fail(QSIM_ERR_SHAPE, "%s: output size %" PRId64 " on axis %d of X %s "
                              "is invalid", qsim__node_label(n), p->out[i], i, qsim__vshape(x));
    return QSIM_OK;
}

/* Output coordinate -> input coordinate on one axis. */
static double src_coord(const rs_plan *p, int ax, int64_t o)
{
    double x = (double)o, s = p->scale[ax], in = (double)p->in[ax], out = (double)p->out[ax];
    switch (p->at.ctm) {
    case CT_HALF_PIXEL:
        return (x + 0.5) / s - 0.5;
    case CT_HALF_PIXEL_SYMMETRIC: {
        double adj = out / (s * in), center = in / 2.0;
        return center * (1.0 - adj) + (x + 0.5) / s - 0.5;
    }
    case CT_PYTORCH_HALF_PIXEL:
        return out > 1 ? (x + 0.5) / s - 0.5 : 0.0;
    case CT_ALIGN_CORNERS:
        return out > 1 ? x * (in - 1) / (out - 1) : 0.0;
    case CT_TF_HALF_PIXEL_NN:
        return (x + 0.5) / s;
    case CT_TF_CROP_AND_RESIZE: {
        double a = p->roi_s[ax], b = p->roi_e[ax];
        return out > 1 ? a * (in - 1) + x * (b - a) * (in - 1) / (out - 1)
                       : 0.5 * (a + b) * (in - 1);
    }
    default:
        return x / s;
    }
}

static int64_t clampi(int64_t v, int64_t hi)
{
    return v < 0 ? 0 : v > hi ? hi : v;
}

static void cubic_w(double t, double A, double w[4])
{
    double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
    w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * t2 - (A + 3)) * t2 * t2 + 1;
    w[3] = ((A * t3 - 5 * A) * t3 + 8 * A) * t3 - 4 * A;
}

static void make_taps(const rs_plan *p, int ax, tap *tp)
{
    int64_t last = p->in[ax] - 1;
    for (int64_t o = 0; o < p->out[ax]; o++) {
        tap *t = &tp[o];
        memset(t, 0, sizeof *t);
        double x = src_coord(p, ax, o);
        if (p->at.ctm == CT_TF_CROP_AND_RESIZE && (x < 0 || x > (double)last))
            t->outside = 1;
        if (p->at.mode == M_NEAREST) {
            double f;
            switch (p->at.nearest) {
            case NM_ROUND_PREFER_CEIL: f = floor(x + 0.5); break;
            case NM_FLOOR: f = floor(x); break;
            case NM_CEIL: f = ceil(x); break;
            case NM_SIMPLE: f = p->scale[ax] < 1.0 ? ceil(x) : floor(x); break;
            default: f = ceil(x - 0.5); break;
            }
            t->n = 1;
            t->idx[0] = clampi((int64_t)fmax(fmin(f, 1e18), -1e18), last);
            t->w[0] = 1.0f;
            continue;
        }
        double x0 = floor(x), fr = x - x0;
        int64_t i0 = (int64_t)fmax(fmin(x0, 1e18), -1e18);
        if (p->at.mode == M_LINEAR) {
            int64_t i1 = i0 + 1;
            double w0 = 1.0 - fr, w1 = fr;
            if (i0 == i1 - 1 && clampi(i0, last) == clampi(i1, last)) {
                t->n = 1;
                t->idx[0] = clampi(i0, last);
                t->w[0] = 1.0f;
                continue;
            }
            t->idx[0] = clampi(i0, last);
            t->idx[1] = clampi(i1, last);
            t->w[0] = (float)w0;
            t->w[1] = (float)w1;
            t->n = 2;
        } else {
            double w[4], sum = 0.0;
            cubic_w(fr, p->at.cubic_a, w);
            for (int k = 0; k < 4; k++) {
                int64_t i = i0 - 1 + k;
                if (p->at.exclude_outside && (i < 0 || i > last))
                    w[k] = 0.0;
                sum += w[k];
            }
            for (int k = 0; k < 4; k++) {
                t->idx[k] = clampi(i0 - 1 + k, last);
                t->w[k] = (float)(p->at.exclude_outside ? (sum != 0.0 ? w[k] / sum : 0.0) : w[k]);
            }
            t->n = 4;
        }
        /* drop zero weights (exact grid positions) to save work */
        int m = 0;
        for (int k = 0; k < t->n; k++)
            if (t->w[k] != 0.0f) {
                t->idx[m] = t->idx[k];
                t->w[m] = t->w[k];
                m++;
            }
        if (m == 0) {
            m = 1;
            t->w[0] = 0.0f;
        }
        t->n = m;
    }
}

static qsim_status rs_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    int upsample = strcmp(n->op_type, "Upsample") == 0;
    size_t hi = upsample ? (n->opset < 9 ? 1 : 2) : (n->opset < 11 ? 2 : 4);
    QSIM__TRY(qsim__check_n_in(n, n_in, 1, hi));
    QSIM__TRY(qsim__no_extra_outputs(n, 1));
    rs_attrs a;
    QSIM__TRY(read_attrs(n, upsample, &a));
    *state = NULL;
    return QSIM_OK;
}

static size_t taps_total(const rs_plan *p)
{
    size_t t = 0;
    for (int i = 0; i < p->rank; i++)
        t += (size_t)p->out[i];
    return t;
}

static qsim_status rs_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                            qsim__tview *out, size_t n_out, size_t *workspace)
{
    rs_plan p;
    QSIM__TRY(rs_make(n, in, n_in, &p));
    qsim__shape os = {p.rank, {0}};
    for (int i = 0; i < p.rank; i++)
        os.dims[i] = p.out[i];
    QSIM__TRY(qsim__set_out(n, &out[0], QSIM__DT_FLOAT, &os));
    *workspace = taps_total(&p) * sizeof(tap);
    (void)state;
    (void)n_out;
    return QSIM_OK;
}

typedef struct rs_ctx {
    const rs_plan *p;
    const tap *taps[QSIM__MAX_RANK];
    size_t istr[QSIM__MAX_RANK];
    const float *x;
    float *y;
} rs_ctx;

/* Output elements [b, e) one at a time: an odometer over every axis' taps. */
static void rs_elems(void *c, size_t b, size_t e)
{
    const rs_ctx *k = c;
    const rs_plan *p = k->p;
    int r = p->rank;
    int64_t idx[QSIM__MAX_RANK];
    size_t rem = b;
    for (int i = r - 1; i >= 0; i--) {
        idx[i] = (int64_t)(rem % (size_t)p->out[i]);
        rem /= (size_t)p->out[i];
    }
    for (size_t o = b; o < e; o++) {
        const tap *t[QSIM__MAX_RANK];
        int outside = 0;
        for (int i = 0; i < r; i++) {
            t[i] = &k->taps[i][idx[i]];
            outside |= t[i]->outside;
        }
        if (outside) {
            k->y[o] = p->at.extrapolation;
        } else {
            int c_[QSIM__MAX_RANK] = {0};
            float acc = 0.0f;
            for (;;) {
                float w = 1.0f;
                size_t off = 0;
                for (int i = 0; i < r; i++) {
                    w *= t[i]->w[c_[i]];
                    off += (size_t)t[i]->idx[c_[i]] * k->istr[i];
                }
                acc += w * k->x[off];
                int i = r - 1;
                for (; i >= 0; i--) {
                    if (++c_[i] < t[i]->n)
                        break;
                    c_[i] = 0;
                }
                if (i < 0)
                    break;
            }
            k->y[o] = acc;
        }
        for (int i = r - 1; i >= 0; i--) {
            if (++idx[i] < p->out[i])
                break;
            idx[i] = 0;
        }
    }
}

#define MAX_COMBOS 64

/* Output rows [b, e) (all axes but the last fixed): the other axes' tap
 * products are formed once per row, then each element adds its last-axis
 * taps over them. */
static void rs_rows(void *c, size_t b, size_t e)
{
    const rs_ctx *k = c;
    const rs_plan *p = k->p;
    int r = p->rank, L = r - 1;
    int64_t idx[QSIM__MAX_RANK] = {0}, OL = p->out[L];
    size_t rem = b;
    for (int i = L - 1; i >= 0; i--) {
        idx[i] = (int64_t)(rem % (size_t)p->out[i]);
        rem /= (size_t)p->out[i];
    }
    size_t coff[MAX_COMBOS];
    float cw[MAX_COMBOS];
    const tap *lt = k->taps[L];
    for (size_t row = b; row < e; row++) {
        /* combos over axes 0..L-1 */
        int nc = 1, outside = 0;
        coff[0] = 0;
        cw[0] = 1.0f;
        for (int i = 0; i < L; i++) {
            const tap *t = &k->taps[i][idx[i]];
            outside |= t->outside;
            int m = nc;
            for (int q = t->n - 1; q >= 0; q--)
                for (int j = 0; j < m; j++) {
                    coff[q * m + j] = coff[j] + (size_t)t->idx[q] * k->istr[i];
                    cw[q * m + j] = cw[j] * t->w[q];
                }
            nc = m * t->n;
        }
        float *y = k->y + row * (size_t)OL;
        for (int64_t ol = 0; ol < OL; ol++) {
            const tap *t = &lt[ol];
            if (outside || t->outside) {
                y[ol] = p->at.extrapolation;
                continue;
            }
            float acc = 0.0f;
            for (int j = 0; j < nc; j++) {
                const float *xb = k->x + coff[j];
                float part = 0.0f;
                for (int q = 0; q < t->n; q++)
                    part += t->w[q] * xb[t->idx[q]];
                acc += cw[j] * part;
            }
            y[ol] = acc;
        }
        for (int i = L - 1; i >= 0; i--) {
            if (++idx[i] < p->out[i])
                break;
            idx[i] = 0;
        }
    }
}

static qsim_status rs_run(void *state, const qsim__node *n, const qsim__exec *ex,
                          const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    rs_plan p;
    QSIM__TRY(rs_make(n, in, n_in, &p));
    if (out[0].numel == 0)
        return QSIM_OK;
    rs_ctx k = {&p, {NULL}, {0}, in[0].data, out[0].data};
    tap *tp = ex->workspace;
    size_t str = 1;
    for (int i = p.rank - 1; i >= 0; i--) {
        k.istr[i] = str;
        str *= (size_t)p.in[i];
    }
    for (int i = 0; i < p.rank; i++) {
        make_taps(&p, i, tp);
        k.taps[i] = tp;
        tp += p.out[i];
    }
    size_t combos = 1;
    for (int i = 0; i + 1 < p.rank; i++) {
        int most = 1;
        for (int64_t o = 0; o < p.out[i]; o++)
            most = k.taps[i][o].n > most ? k.taps[i][o].n : most;
        combos *= (size_t)most;
    }
    if (combos <= MAX_COMBOS) {
        size_t OL = (size_t)p.out[p.rank - 1];
        qsim__op_parallel(ex->pool, out[0].numel / OL, 16384 / OL + 1, rs_rows, &k);
    } else {
        qsim__op_parallel(ex->pool, out[0].numel, 16384, rs_elems, &k);
    }
    (void)state;
    (void)n_out;
    return QSIM_OK;
}

static const qsim__op_desc resize_op = {"Resize", 0, rs_init, rs_infer, rs_run,
                                        qsim__op_free_none};
static const qsim__op_desc upsample_op = {"Upsample", 0, rs_init, rs_infer, rs_run,
                                          qsim__op_free_none};

const qsim__op_desc *const qsim__ops_resize[] = {&resize_op, &upsample_op, NULL};
