/* Op family 'pool': MaxPool (with optional Indices), AveragePool and the
 * global pools, over 1 to 3 spatial dims. Lower ranks run as 3-D with
 * leading unit dims so one loop nest serves all. */
#include "op.h"

#include "oputil.h"
#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/pool.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

enum { POOL_MAX, POOL_AVG, POOL_GMAX, POOL_GAVG };

/* Per output position of one spatial dim: the kernel taps that land inside
 * the input [lo, hi) and how many land inside input + pads (for
 * count_include_pad), so the window loops need no bounds checks. */
typedef struct win {
    int64_t lo, hi, padded;
} win;

typedef struct pool_plan {
    int kind, nd;
    int dtype;               /* float, or uint8/int8 for MaxPool (opset 12) */
    int include_pad;         /* AveragePool count_include_pad */
    int col_major;           /* MaxPool storage_order = 1 */
    size_t planes;           /* N * C */
    int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
    qsim__shape os;
} pool_plan;

static int op_kind(const qsim__node *n)
{
    if (strcmp(n->op_type, "MaxPool") == 0)
        return POOL_MAX;
    if (strcmp(n->op_type, "AveragePool") == 0)
        return POOL_AVG;
    if (strcmp(n->op_type, "GlobalMaxPool") == 0)
        return POOL_GMAX;
    return POOL_GAVG;
}

static qsim_status pool_make(const qsim__node *n, const qsim__tview *x, pool_plan *p)
{
    memset(p, 0, sizeof *p);
    p->kind = op_kind(n);
    p->dtype = x->dtype;
    if (!(p->kind == POOL_MAX && n->opset >= 12 &&
          (x->dtype == QSIM__DT_UINT8 || x->dtype == QSIM__DT_INT8)))
        QSIM__TRY(qsim__check_float(n, x, "input X"));
    int rank = x->shape.rank;
    if (rank < 3 || rank > 5)
        return qsim__fail(rank > 5 ? QSIM_ERR_UNSUPPORTED : QSIM_ERR_SHAPE,
                          "%s: X %s must have 1 to 3 spatial dims (rank 3 to 5)",
                          qsim__node_label(n), qsim__vshape(x));
    int nd = rank - 2, off = 3 - nd;
    p->nd = nd;
    p->planes = (size_t)x->shape.dims[0] * (size_t)x->shape.dims[1];
    for (int i = 0; i < 3; i++) {
        p->in[i] = p->out[i] = p->k[i] = p->s[i] = p->d[i] = 1;
        p->pb[i] = p->pe[i] = 0;
    }
    p->os = x->shape;
    if (p->kind == POOL_GMAX || p->kind == POOL_GAVG) {
        for (int i = 0; i < nd; i++) {
            p->in[off + i] = p->k[off + i] = x->shape.dims[2 + i];
            p->os.dims[2 + i] = 1;
        }
        return QSIM_OK;
    }
    qsim__spatial sp;
    int dil = p->kind == POOL_MAX ? n->opset >= 10 : n->opset >= 19;
    QSIM__TRY(qsim__spatial_read(n, nd, 1, dil, &sp));
    int64_t ceil_mode = 0, v = 0;
    if (n->opset >= 10)
        QSIM__TRY(qsim__attr_int(n, "ceil_mode", 0, &ceil_mode));
    if (p->kind == POOL_AVG) {
        if (n->opset >= 7)
            QSIM__TRY(qsim__attr_int(n, "count_include_pad", 0, &v));
        p->include_pad = v != 0;
    } else if (n->opset >= 8) {
        QSIM__TRY(qsim__attr_int(n, "storage_order", 0, &v));
        p->col_major = v != 0;
    }
    int64_t pb[3], pe[3], od[3];
    QSIM__TRY(qsim__spatial_out(n, &sp, x->shape.dims + 2, (int)ceil_mode, pb, pe, od));
    for (int i = 0; i < nd; i++) {
        int j = off + i;
        p->in[j] = x->shape.dims[2 + i];
        p->out[j] = od[i];
        p->k[j] = sp.k[i];
        p->s[j] = sp.s[i];
        p->d[j] = sp.d[i];
        p->pb[j] = pb[i];
        p->pe[j] = pe[i];
        p->os.dims[2 + i] = od[i];
    }
    return QSIM_OK;
}

static qsim_status pool_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    QSIM__TRY(qsim__check_n_in(n, n_in, 1, 1));
    QSIM__TRY(qsim__no_extra_outputs(n, op_kind(n) == POOL_MAX ? 2 : 1));
    *state = NULL;
    return QSIM_OK;
}

static qsim_status pool_infer(void *state, const qsim__node *n, const qsim__tview *in,
                              size_t n_in, qsim__tview *out, size_t n_out, size_t *workspace)
{
    pool_plan p;
    QSIM__TRY(qsim__check_n_in(n, n_in, 1, 1));
    QSIM__TRY(pool_make(n, &in[0], &p));
    QSIM__TRY(qsim__set_out(n, &out[0], p.dtype, &p.os));
    if (n_out > 1)
        QSIM__TRY(qsim__set_out(n, &out[1], QSIM__DT_INT64, &p.os));
    /* window ranges per output position of each spatial dim */
    *workspace = (size_t)(p.out[0] + p.out[1] + p.out[2]) * sizeof(win);
    (void)state;
    return QSIM_OK;
}

/* Per output position of one spatial dim: the kernel taps that land inside
 * the input [lo, hi) and how many land inside input + pads (for
 * count_include_pad), so the window loops need no bounds checks. */

typedef struct pool_ctx {
    const pool_plan *p;
    const void *x;
    void *y;
    int64_t *idx;
    const win *w[3];
} pool_ctx;

static int64_t cdiv(int64_t a, int64_t b)
{
    return a <= 0 ? 0 : (a + b - 1) / b;
}

static void make_windows(const pool_plan *p, int j, win *w)
{
    for (int64_t o = 0; o < p->out[j]; o++) {
        int64_t start = o * p->s[j] - p->pb[j], k = p->k[j], d = p->d[j];
        int64_t lo = start < 0 ? cdiv(-start, d) : 0;
        int64_t hi = cdiv(p->in[j] - start, d);
        int64_t pd = cdiv(p->in[j] + p->pe[j] - start, d);
        w[o].lo = lo < k ? lo : k;
        w[o].hi = hi < k ? hi : k;
        if (w[o].hi < w[o].lo)
            w[o].hi = w[o].lo;
        w[o].padded = pd < k ? pd : k;
    }
}

/* 8-bit MaxPool stores through a clamp: an all-padding window holds -inf. */
static void store8(int dt, void *y, size_t i, float v)
{
    float lo = dt == QSIM__DT_UINT8 ? 0.0f : -128.0f, hi = dt == QSIM__DT_UINT8 ? 255.0f : 127.0f;
    v = v >= lo ? (v <= hi ? v : hi) : lo;
    if (dt == QSIM__DT_UINT8)
        ((uint8_t *)y)[i] = (uint8_t)v;
    else
        ((int8_t *)y)[i] = (int8_t)v;
}

/* The window loops, one instance per element type. */
#define POOL_PLANES(NAME, T)                                                                   \
    static void NAME(const pool_ctx *k, size_t pb_, size_t pe_)                                \
    {                                                                                          \
        const pool_plan *p = k->p;                                                             \
        size_t isz = (size_t)(p->in[0] * p->in[1] * p->in[2]);                                 \
        size_t osz = (size_t)(p->out[0] * p->out[1] * p->out[2]);                              \
        int is_max = p->kind == POOL_MAX;                                                      \
        int64_t I1 = p->in[1], I2 = p->in[2];                                                  \
        for (size_t pl = pb_; pl < pe_; pl++) {                                                \
            const T *xp = (const T *)k->x + pl * isz;                                          \
            size_t o = pl * osz;                                                               \
            for (int64_t a = 0; a < p->out[0]; a++)                                            \
                for (int64_t b = 0; b < p->out[1]; b++)                                        \
                    for (int64_t c = 0; c < p->out[2]; c++, o++) {                             \
                        const win *w0 = &k->w[0][a], *w1 = &k->w[1][b], *w2 = &k->w[2][c];     \
                        int64_t h0 = a * p->s[0] - p->pb[0], h1 = b * p->s[1] - p->pb[1],      \
                                h2 = c * p->s[2] - p->pb[2];                                   \
                        int empty = w0->lo >= w0->hi || w1->lo >= w1->hi || w2->lo >= w2->hi; \
                        int64_t bi = empty ? -1                                                \
                                           : ((h0 + w0->lo * p->d[0]) * I1 + h1 +              \
                                              w1->lo * p->d[1]) * I2 + h2 + w2->lo * p->d[2];  \
                        float best = empty ? -INFINITY : (float)xp[bi];                        \
                        double sum = 0.0;                                                      \
                        for (int64_t i = w0->lo; i < w0->hi; i++) {                            \
                            int64_t r0 = (h0 + i * p->d[0]) * I1;                              \
                            for (int64_t j = w1->lo; j < w1->hi; j++) {                        \
                                int64_t r1 = (r0 + h1 + j * p->d[1]) * I2 + h2;                \
                                if (is_max) {                                                  \
                                    for (int64_t l = w2->lo; l < w2->hi; l++) {                \
                                        int64_t e = r1 + l * p->d[2];                          \
                                        float v = (float)xp[e];                                \
                                        /* first maximum wins; NaN propagates */               \
                                        if (v > best || (v != v && best == best)) {            \
                                            best = v;                                          \
                                            bi = e;                                            \
                                        }                                                      \
                                    }                                                          \
                                } else {                                                       \
                                    for (int64_t l = w2->lo; l < w2->hi; l++)                  \
                                        sum += (float)xp[r1 + l * p->d[2]];                    \
                                }                                                              \
                            }                                                                  \
                        }                                                                      \
                        if (is_max) {                                                          \
                            pool_store(k, o, best, bi, pl * isz);                              \
                        } else {                                                               \
                            int64_t div = p->include_pad                                       \
                                ? w0->padded * w1->padded * w2->padded                         \
                                : (w0->hi - w0->lo) * (w1->hi - w1->lo) * (w2->hi - w2->lo);   \
                            ((float *)k->y)[o] = div ? (float)(sum / (double)div) : 0.0f;      \
                        }                                                                      \
                    }                                                                          \
        }                                                                                      \
    }

static void pool_store(const pool_ctx *k, size_t o, float best, int64_t bi, size_t plane)
{
    const pool_plan *p = k->p;
    if (p->dtype == QSIM__DT_FLOAT)
        ((float *)k->y)[o] = best;
    else
        store8(p->dtype, k->y, o, best);
    if (!k->idx)
        return;
    int64_t e = bi < 0 ? 0 : bi;
    if (p->col_major) { /* column-major over the spatial dims */
        int64_t z = e % p->in[2], w = e / p->in[2] % p->in[1], h = e / p->in[2] / p->in[1];
        e = (z * p->in[1] + w) * p->in[0] + h;
    }
    k->idx[o] = (int64_t)plane + e;
}

POOL_PLANES(planes_f32, float)
POOL_PLANES(planes_u8, uint8_t)
POOL_PLANES(planes_s8, int8_t)

/* Global pools: one reduction per plane. */
static void global_planes(const pool_ctx *k, size_t pb_, size_t pe_)
{
    const pool_plan *p = k->p;
    size_t isz = (size_t)(p->in[0] * p->in[1] * p->in[2]);
    if (isz > 0 && isz <= INT32_MAX) { /* vectorized (lib/kernels/pool.h) */
        qsim__k_f32_global_pool()((const float *)k->x + pb_ * isz, isz, pe_ - pb_,
                                  (float *)k->y + pb_, p->kind == POOL_GMAX);
        return;
    }
    for (size_t pl = pb_; pl < pe_; pl++) {
        const float *xp = (const float *)k->x + pl * isz;
        float *y = (float *)k->y + pl;
        if (p->kind == POOL_GAVG) {
            double sum = 0.0;
            for (size_t i = 0; i < isz; i++)
                sum += xp[i];
            *y = isz ? (float)(sum / (double)isz) : 0.0f;
        } else {
            float m = isz ? xp[0] : -INFINITY;
            for (size_t i = 1; i < isz; i++)
                if (xp[i] > m || (isnan(xp[i]) && !isnan(m)))
                    m = xp[i];
            *y = m;
        }
    }
}

/* float pools without Indices, one output row at a time: for each kernel
 * tap the output columns it reaches form one range, so the innermost loop
 * is a strided sweep with no bounds checks. Taps reach each output in the
 * same order as in the window loops above. mode: 0 max (branch-free; returns
 * 1 when it met a NaN), 1 max that propagates NaN, 2 sum. */
static int row_taps(const pool_ctx *k, const float *xp, int64_t a, int64_t b, float *yr, int mode)
{
    const pool_plan *p = k->p;
    int64_t I1 = p->in[1], I2 = p->in[2], O2 = p->out[2], s2 = p->s[2];
    const win *w0 = &k->w[0][a], *w1 = &k->w[1][b];
    int64_t h0 = a * p->s[0] - p->pb[0], h1 = b * p->s[1] - p->pb[1];
    int anynan = 0;
    for (int64_t c = 0; c < O2; c++)
        yr[c] = mode == 2 ? 0.0f : -INFINITY;
    for (int64_t i = w0->lo; i < w0->hi; i++)
        for (int64_t j = w1->lo; j < w1->hi; j++) {
            const float *xr = xp + ((h0 + i * p->d[0]) * I1 + h1 + j * p->d[1]) * I2;
            for (int64_t l = 0; l < p->k[2]; l++) {
                int64_t off = l * p->d[2] - p->pb[2];
                int64_t lo = off < 0 ? cdiv(-off, s2) : 0, hi = cdiv(I2 - off, s2);
                if (hi > O2)
                    hi = O2;
                const float *xc = xr + off;
                if (mode == 0) {
                    for (int64_t c = lo; c < hi; c++) {
                        float v = xc[c * s2], m = yr[c];
                        yr[c] = v > m ? v : m;
                        anynan |= v != v;
                    }
                } else if (mode == 1) {
                    for (int64_t c = lo; c < hi; c++) {
                        float v = xc[c * s2], m = yr[c];
                        yr[c] = (v > m || (v != v && m == m)) ? v : m;
                    }
                } else {
                    for (int64_t c = lo; c < hi; c++)
                        yr[c] += xc[c * s2];
                }
            }
        }
    return anynan;
}

/* 1-D and 2-D float pools with no width dilation and width stride 1 or 2
 * go through the row kernels (lib/kernels/pool.h). */
static int row_kernel_fits(const pool_plan *p)
{
    return p->in[0] == 1 && p->out[0] == 1 && p->k[0] == 1 && p->d[2] == 1 &&
           qsim__pool_row_fits(p->out[2], p->k[2], p->s[2]);
}

static void rows_kernel(const pool_ctx *k, size_t pb_, size_t pe_)
{
    const pool_plan *p = k->p;
    const int64_t O1 = p->out[1], O2 = p->out[2], I1 = p->in[1], I2 = p->in[2];
    const int avg = p->kind == POOL_AVG;
    float coldiv[QSIM__POOL_ROW_MAX + 8];
    for (int64_t c = 0; c < (O2 + 7) / 8 * 8; c++) {
        const win *w2 = &k->w[2][c < O2 ? c : O2 - 1];
        coldiv[c] = (float)(p->include_pad ? w2->padded : w2->hi - w2->lo);
    }
    qsim__k_pool_row_fn fn = qsim__k_f32_pool_row();
    qsim__pool_row a = {.xstride = p->d[1] * I2, .W = I2, .OW = O2, .kw = p->k[2],
                        .sw = p->s[2], .pl = p->pb[2], .avg = avg, .coldiv = coldiv};
    for (size_t pl = pb_; pl < pe_; pl++) {
        const float *xp = (const float *)k->x + pl * (size_t)(I1 * I2);
        float *yp = (float *)k->y + pl * (size_t)(O1 * O2);
        for (int64_t b = 0; b < O1; b++) {
            const win *w1 = &k->w[1][b];
            int64_t h1 = b * p->s[1] - p->pb[1];
            a.nrows = w1->hi - w1->lo;
            a.x = a.nrows > 0 ? xp + (h1 + w1->lo * p->d[1]) * I2 : xp;
            a.rowdiv = (float)(p->include_pad ? w1->padded : w1->hi - w1->lo);
            a.y = yp + b * O2;
            if (fn(&a)) /* rare: a NaN in the window rows */
                row_taps(k, xp, 0, b, a.y, 1);
        }
    }
}

static void rows_f32(const pool_ctx *k, size_t pb_, size_t pe_)
{
    const pool_plan *p = k->p;
    int64_t O2 = p->out[2];
    size_t isz = (size_t)(p->in[0] * p->in[1] * p->in[2]);
    if (row_kernel_fits(p)) {
        rows_kernel(k, pb_, pe_);
        return;
    }
    for (size_t pl = pb_; pl < pe_; pl++) {
        const float *xp = (const float *)k->x + pl * isz;
        float *yr = (float *)k->y + pl * (size_t)(p->out[0] * p->out[1] * O2);
        for (int64_t a = 0; a < p->out[0]; a++)
            for (int64_t b = 0; b < p->out[1]; b++, yr += O2) {
                if (p->kind == POOL_MAX) {
                    if (row_taps(k, xp, a, b, yr, 0)) /* rare: redo with NaN rules */
                        row_taps(k, xp, a, b, yr, 1);
                    continue;
                }
                row_taps(k, xp, a, b, yr, 2);
                const win *w0 = &k->w[0][a], *w1 = &k->w[1][b];
                for (int64_t c = 0; c < O2; c++) {
                    const win *w2 = &k->w[2][c];
                    int64_t div = p->include_pad
                        ? w0->padded * w1->padded * w2->padded
                        : (w0->hi - w0->lo) * (w1->hi - w1->lo) * (w2->hi - w2->lo);
                    yr[c] = div ? yr[c] / (float)div : 0.0f;
                }
            }
    }
}

static void pool_planes(void *c, size_t b, size_t e)
{
    const pool_ctx *k = c;
    if (k->p->kind == POOL_GAVG || k->p->kind == POOL_GMAX)
        global_planes(k, b, e);
    else if (k->p->dtype == QSIM__DT_FLOAT && !k->idx)
        rows_f32(k, b, e);
    else if (k->p->dtype == QSIM__DT_UINT8)
        planes_u8(k, b, e);
    else if (k->p->dtype == QSIM__DT_INT8)
        planes_s8(k, b, e);
    else
        planes_f32(k, b, e);
}

static qsim_status pool_run(void *state, const qsim__node *n, const qsim__exec *ex,
                            const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    pool_plan p;
    QSIM__TRY(pool_make(n, &in[0], &p));
    pool_ctx k = {&p, in[0].data, out[0].data, NULL, {NULL, NULL, NULL}};
    if (n_out > 1 && out[1].data)
        k.idx = out[1].data;
    if (out[0].numel == 0)
        return QSIM_OK;
    win *w = ex->workspace;
    for (int j = 0; j < 3; j++) {
        make_windows(&p, j, w);
        k.w[j] = w;
        w += p.out[j];
    }
    size_t per = (size_t)(p.out[0] * p.out[1] * p.out[2]) * (size_t)(p.k[0] * p.k[1] * p.k[2]);
    qsim__op_parallel(ex->pool, p.planes, per ? 65536 / per + 1 : p.planes, pool_planes, &k);
    (void)state;
    (void)n_in;
    return QSIM_OK;
}

static const qsim__op_desc maxpool_op = {"MaxPool", 0, pool_init, pool_infer, pool_run,
                                         qsim__op_free_none};
static const qsim__op_desc avgpool_op = {"AveragePool", 0, pool_init, pool_infer, pool_run,
                                         qsim__op_free_none};
static const qsim__op_desc gmaxpool_op = {"GlobalMaxPool", 0, pool_init, pool_infer, pool_run,
                                          qsim__op_free_none};
static const qsim__op_desc gavgpool_op = {"GlobalAveragePool", 0, pool_init, pool_infer, pool_run,
                                          qsim__op_free_none};

const qsim__op_desc *const qsim__ops_pool[] = {&maxpool_op, &avgpool_op, &gmaxpool_op,
                                               &gavgpool_op, NULL};
