/* The linear view of Conv/ConvTranspose/Gemm/MatMul for AdaRound: weight
 * mapping, im2col of one sample and the per-layer sample cache. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "layer.h"

#define DIM_MAX ((int64_t)1 << 31)

static int dim_ok(int64_t d)
{
    return d >= 1 && d <= DIM_MAX;
}

static qsim_status finish_conv(qsim__ada_view *v, int64_t cin, int64_t cout, int64_t groups)
{
    if (!dim_ok(cin) || !dim_ok(cout) || !dim_ok(groups) || cin % groups || cout % groups)
        return qsim__fail(QSIM_ERR_SHAPE,
                          "adaround: channels (in %lld, out %lld) do not split into %lld groups",
                          (long long)cin, (long long)cout, (long long)groups);
    if (!dim_ok(v->oh) || !dim_ok(v->ow))
        return qsim__fail(QSIM_ERR_SHAPE, "adaround: empty convolution output (%lld x %lld)",
                          (long long)v->oh, (long long)v->ow);
    size_t k, rows;
    if (!qsim__mul_size((size_t)(cin / groups), (size_t)v->kh, &k) ||
        !qsim__mul_size(k, (size_t)v->kw, &k) || !qsim__mul_size((size_t)v->oh, (size_t)v->ow, &rows))
        return qsim__fail(QSIM_ERR_SHAPE, "adaround: convolution sizes overflow");
    v->kind = QSIM__ADA_CONV;
    v->c = cin;
    v->groups = (size_t)groups;
    v->n = (size_t)(cout / groups);
    v->k = k;
    v->rows = rows;
    v->norm = (double)rows;
    return QSIM_OK;
}

qsim_status qsim__ada_view_conv(qsim__ada_view *v, int64_t cin, int64_t h, int64_t w, int64_t cout,
                                int64_t groups, int64_t kh, int64_t kw, const int64_t stride[2],
                                const int64_t dil[2], const int64_t pads[4])
{
    memset(v, 0, sizeof *v);
    if (!dim_ok(h) || !dim_ok(w) || !dim_ok(kh) || !dim_ok(kw) || !dim_ok(stride[0]) ||
        !dim_ok(stride[1]) || !dim_ok(dil[0]) || !dim_ok(dil[1]))
        return qsim__fail(QSIM_ERR_SHAPE, "adaround: bad Conv geometry");
    for (int i = 0; i < 4; i++)
        if (pads[i] < 0 || pads[i] > DIM_MAX)
            return qsim__fail(QSIM_ERR_SHAPE, "adaround: bad Conv pad %lld", (long long)pads[i]);
    v->wlayout = QSIM__ADA_W_NK;
    v->h = h, v->w = w, v->kh = kh, v->kw = kw;
    v->sh = stride[0], v->sw = stride[1], v->dh = dil[0], v->dw = dil[1];
    v->ph = pads[0], v->pw = pads[1], v->uh = 1, v->uw = 1;
    int64_t eh = (kh - 1) * dil[0] + 1, ew = (kw - 1) * dil[1] + 1;
    v->oh = h + pads[0] + pads[2] >= eh ? (h + pads[0] + pads[2] - eh) / stride[0] + 1 : 0;
    v->ow = w + pads[1] + pads[3] >= ew ? (w + pads[1] + pads[3] - ew) / stride[1] + 1 : 0;
    return finish_conv(v, cin, cout, groups);
}

qsim_status qsim__ada_view_convt(qsim__ada_view *v, int64_t cin, int64_t h, int64_t w,
                                 int64_t cout, int64_t groups, int64_t kh, int64_t kw,
                                 const int64_t stride[2], const int64_t dil[2],
                                 const int64_t pads[4], const int64_t out_pad[2])
{
    memset(v, 0, sizeof *v);
    if (!dim_ok(h) || !dim_ok(w) || !dim_ok(kh) || !dim_ok(kw) || !dim_ok(stride[0]) ||
        !dim_ok(stride[1]) || !dim_ok(dil[0]) || !dim_ok(dil[1]) || out_pad[0] < 0 ||
        out_pad[1] < 0 || out_pad[0] > DIM_MAX || out_pad[1] > DIM_MAX)
        return qsim__fail(QSIM_ERR_SHAPE, "adaround: bad ConvTranspose geometry");
    for (int i = 0; i < 4; i++)
        if (pads[i] < -DIM_MAX || pads[i] > DIM_MAX) /* negative: output_shape larger */
            return qsim__fail(QSIM_ERR_SHAPE, "adaround: bad ConvTranspose pad %lld",
                              (long long)pads[i]);
    /* Equivalent convolution: stride 1 over the input dilated by the
     * stride, begin pad dil*(k-1) - pad (negative crops). */
    v->wlayout = QSIM__ADA_W_CONVT;
    v->h = h, v->w = w, v->kh = kh, v->kw = kw;
    v->sh = 1, v->sw = 1, v->dh = dil[0], v->dw = dil[1];
    v->uh = stride[0], v->uw = stride[1];
    v->ph = dil[0] * (kh - 1) - pads[0];
    v->pw = dil[1] * (kw - 1) - pads[1];
    v->oh = stride[0] * (h - 1) + out_pad[0] + (kh - 1) * dil[0] + 1 - pads[0] - pads[2];
    v->ow = stride[1] * (w - 1) + out_pad[1] + (kw - 1) * dil[1] + 1 - pads[1] - pads[3];
    return finish_conv(v, cin, cout, groups);
}

qsim_status qsim__ada_view_rows(qsim__ada_view *v, size_t rows, size_t K, size_t N, int trans_b,
                                double norm)
{
    memset(v, 0, sizeof *v);
    if (!rows || !K || !N || !(norm > 0))
        return qsim__fail(QSIM_ERR_SHAPE, "adaround: empty Gemm/MatMul view");
    v->kind = QSIM__ADA_ROWS;
    v->wlayout = trans_b ? QSIM__ADA_W_NK : QSIM__ADA_W_KN;
    v->groups = 1;
    v->n = N;
    v->k = K;
    v->rows = rows;
    v->norm = norm;
    return QSIM_OK;
}

/* Index into the native weight of Wmat element (row r, column j). */
static size_t native_index(const qsim__ada_view *v, size_t r, size_t j)
{
    switch (v->wlayout) {
    case QSIM__ADA_W_KN:
        return j * v->n + r;
    case QSIM__ADA_W_CONVT: {
        size_t g = r / v->n, co = r % v->n, khw = (size_t)(v->kh * v->kw);
        size_t ci = j / khw, t = j % khw;
        size_t y = t / (size_t)v->kw, x = t % (size_t)v->kw;
        size_t fy = (size_t)v->kh - 1 - y, fx = (size_t)v->kw - 1 - x;
        size_t cin_g = v->k / khw;
        return (((g * cin_g + ci) * v->n + co) * (size_t)v->kh + fy) * (size_t)v->kw + fx;
    }
    default:
        return r * v->k + j;
    }
}

void qsim__ada_weight_to_mat(const qsim__ada_view *v, const float *w, float *wmat)
{
    size_t N = v->groups * v->n;
    for (size_t r = 0; r < N; r++)
        for (size_t j = 0; j < v->k; j++)
            wmat[r * v->k + j] = w[native_index(v, r, j)];
}

void qsim__ada_mat_to_weight(const qsim__ada_view *v, const float *wmat, float *w)
{
    size_t N = v->groups * v->n;
    for (size_t r = 0; r < N; r++)
        for (size_t j = 0; j < v->k; j++)
            w[native_index(v, r, j)] = wmat[r * v->k + j];
}

/* Source index along one axis, or -1 for padding / dilation holes. */
static int64_t src_coord(int64_t o, int64_t kk, int64_t s, int64_t d, int64_t p, int64_t u,
                         int64_t in)
{
    int64_t vc = o * s + kk * d - p;
    if (vc < 0 || vc > (in - 1) * u || vc % u)
        return -1;
    return vc / u;
}

void qsim__ada_sample_rows(const qsim__ada_view *v, const float *x, float *xrows)
{
    size_t K = v->groups * v->k;
    if (v->kind == QSIM__ADA_ROWS) {
        memcpy(xrows, x, v->rows * K * sizeof *x);
        return;
    }
    size_t khw = (size_t)(v->kh * v->kw);
    size_t hw = (size_t)(v->h * v->w);
    for (int64_t oy = 0; oy < v->oh; oy++) {
        for (int64_t ox = 0; ox < v->ow; ox++) {
            float *row = xrows + ((size_t)(oy * v->ow + ox)) * K;
            for (int64_t ky = 0; ky < v->kh; ky++) {
                int64_t iy = src_coord(oy, ky, v->sh, v->dh, v->ph, v->uh, v->h);
                for (int64_t kx = 0; kx < v->kw; kx++) {
                    int64_t ix = src_coord(ox, kx, v->sw, v->dw, v->pw, v->uw, v->w);
                    size_t t = (size_t)(ky * v->kw + kx);
                    if (iy < 0 || ix < 0) {
                        for (int64_t c = 0; c < v->c; c++)
                            row[(size_t)c * khw + t] = 0.0f;
                    } else {
                        const float *src = x + (size_t)(iy * v->w + ix);
                        for (int64_t c = 0; c < v->c; c++)
                            row[(size_t)c * khw + t] = src[(size_t)c * hw];
                    }
                }
            }
        }
    }
}

qsim_status qsim__ada_data_init(qsim__ada_data *d, const qsim__ada_view *v, size_t cap)
{
    memset(d, 0, sizeof *d);
    size_t N = v->groups * v->n, K = v->groups * v->k, xsz, ysz, xt, yt;
    if (v->kind == QSIM__ADA_CONV) {
        if (!qsim__mul_size((size_t)v->c, (size_t)(v->h * v->w), &xsz))
            return qsim__fail(QSIM_ERR_OUT_OF_MEMORY, "adaround: sample too large");
    } else if (!qsim__mul_size(v->rows, K, &xsz)) {
        return qsim__fail(QSIM_ERR_OUT_OF_MEMORY, "adaround: sample too large");
    }
    if (!qsim__mul_size(v->rows, N, &ysz) || !qsim__mul_size(xsz, cap, &xt) ||
        !qsim__mul_size(ysz, cap, &yt))
        return qsim__fail(QSIM_ERR_OUT_OF_MEMORY, "adaround: cache of %zu samples too large", cap);
    d->x = qsim__malloc_array(xt ? xt : 1, sizeof(float));
    d->y = qsim__malloc_array(yt ? yt : 1, sizeof(float));
    if (!d->x || !d->y) {
        qsim__ada_data_free(d);
        return qsim__oom();
    }
    d->cap = cap;
    d->xsz = xsz;
    d->ysz = ysz;
    return QSIM_OK;
}

void qsim__ada_data_put_x(qsim__ada_data *d, size_t i, const float *x)
{
    memcpy(d->x + i * d->xsz, x, d->xsz * sizeof *x);
}

void qsim__ada_data_put_y(qsim__ada_data *d, const qsim__ada_view *v, size_t i, const float *y)
{
    float *dst = d->y + i * d->ysz;
    size_t N = v->groups * v->n;
    if (v->kind == QSIM__ADA_CONV) {
        for (size_t c = 0; c < N; c++)
            for (size_t p = 0; p < v->rows; p++)
                dst[p * N + c] = y[c * v->rows + p];
    } else {
        memcpy(dst, y, d->ysz * sizeof *y);
    }
}

qsim_status qsim__ada_data_add(qsim__ada_data *d, const qsim__ada_view *v, const float *x,
                               const float *y)
{
    if (d->count >= d->cap)
        return QSIM_OK;
    qsim__ada_data_put_x(d, d->count, x);
    qsim__ada_data_put_y(d, v, d->count, y);
    d->count++;
    return QSIM_OK;
}

void qsim__ada_data_free(qsim__ada_data *d)
{
    qsim__free(d->x);
    qsim__free(d->y);
    memset(d, 0, sizeof *d);
}
