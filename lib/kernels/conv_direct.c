/* Direct convolution: the GEMM of conv.c (packed weight panels x im2col
 * columns) without packing the im2col matrix. A tile is 6 output channels
 * x 16 consecutive output pixels of one output row; its column k = (c, ky,
 * kx) is 16 consecutive floats of the source at off[k]:
 * - 1x1, stride 1, no pads: the source is the input itself and a "row" is
 *   the whole H*W plane;
 * - otherwise the source is a zero-padded copy of the input whose rows are
 *   split into `sw` phases (column X stored at phase X % sw, index X / sw),
 *   so that output pixels ox, ox+1, ... read consecutive floats for any
 *   stride and dilation. The copy is one pass (im2col reads each input
 *   value kh*kw times into panels).
 * Every output is summed over the fixed k-blocks of qsim__kblock in the
 * same order whatever the tasks, so results do not depend on threads. */
#include "conv_impl.h"

#include "core/alloc.h"
#include "core/cpu.h"

#include <string.h>

#define TASK_PIXELS 256   /* output pixels per task (a multiple of NR) */
#define TASK_ROWS 132     /* output channels per task: A block 132 KiB at KC */
#define MIN_TASKS 8
#define SLACK 16          /* floats past the padded copy: tiles read 16 */
/* output written in one k-block and at least this big: non-temporal
 * stores (as the GEMM driver) */
#define STREAM_MIN_BYTES ((size_t)32 << 20)

typedef struct dgeo {
    int flat;                 /* 1x1/1 without pads: the input is the source */
    int64_t rows, cols;       /* output pixels as tiled (flat: 1 x OH*OW) */
    size_t plane, img;        /* source floats per channel, per image */
    size_t row_step;          /* source floats between output rows */
    int64_t Hn, Wps, Wrow;    /* padded copy: rows, phase width, row width */
    size_t off_bytes;         /* offset table, rounded to 64 bytes */
    size_t xp_floats;         /* padded copy incl. slack (0 when flat) */
} dgeo;

static int geometry(const qsim__dconv_view *v, int64_t N, int64_t H, int64_t W, int64_t OH,
                    int64_t OW, dgeo *g)
{
    const qsim__conv_desc *d = v->d;
    memset(g, 0, sizeof *g);
    size_t n;
    if (!qsim__mul_size(v->K, sizeof(ptrdiff_t), &n) || n > SIZE_MAX - 64)
        return 0;
    g->off_bytes = (n + 63) / 64 * 64;
    g->flat = d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 &&
              d->pl == 0 && d->pb == 0 && d->pr == 0;
    if (g->flat) {
        g->rows = 1;
        g->cols = OH * OW;
        g->plane = (size_t)(H * W);
        g->img = (size_t)d->C * g->plane;
        return 1;
    }
    /* only the rows and phase columns some tap reads */
    g->Hn = (OH - 1) * d->sh + (d->kh - 1) * d->dh + 1;
    g->Wps = OW + (d->kw - 1) * d->dw / d->sw;
    g->Wrow = d->sw * g->Wps;
    g->rows = OH;
    g->cols = OW;
    g->row_step = (size_t)(d->sh * g->Wrow);
    if (!qsim__mul_size((size_t)g->Hn, (size_t)g->Wrow, &g->plane) ||
        !qsim__mul_size(g->plane, (size_t)d->C, &g->img) ||
        !qsim__mul_size(g->img, (size_t)N, &n) || !qsim__add_size(n, SLACK, &n))
        return 0;
    g->xp_floats = (n + 15) / 16 * 16;
    return 1;
}

/* Measured with benchmarks/bench_kernels (-p 1 vs -p 2) on the resnet18
 * and MobileNetV2 layers: the direct path wins where its tiles (16 pixels
 * of one output row) are full and the padded copy is cheap; the im2col
 * path, whose panels span rows and images, wins on narrow maps at batch 8
 * and on stride-2 3x3/1x1 convs (the phase-split copy costs as much as it
 * saves there). */
int qsim__dconv_preferred(const qsim__conv_desc *d, int64_t N, int64_t H, int64_t W,
                          int64_t OH, int64_t OW)
{
    (void)H, (void)W;
    int flat = d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 &&
               d->pl == 0 && d->pb == 0 && d->pr == 0;
    if (flat)   /* 1x1/1: no copy at all; one tile row per plane */
        return !(N == 1 && OH * OW < 64);
    if (d->sh > 1 || d->sw > 1)   /* e.g. the 7x7/2 stem at 112 wide */
        return OW >= 56;
    return OW >= 32 || (N == 1 && OW >= 16);
}

size_t qsim__dconv_ws_bytes(const qsim__dconv_view *v, int64_t N, int64_t H, int64_t W,
                            int64_t OH, int64_t OW)
{
    dgeo g;
    size_t b;
    if (!geometry(v, N, H, W, OH, OW, &g) || !qsim__mul_size(g.xp_floats, sizeof(float), &b) ||
        !qsim__add_size(b, g.off_bytes, &b))
        return SIZE_MAX;
    return b;
}

typedef struct dctx {
    const qsim__dconv_view *v;
    const float *x, *src;
    float *y, *xp;
    const ptrdiff_t *off;
    dgeo g;
    int64_t N, H, W, OH, OW;
    size_t nmb, mbsz, nrc, rpc, ncc, cpc;   /* task grid: M blocks, row and column chunks */
    float beta;
    int pair, stream;         /* tiles of two rows; non-temporal stores */
    qsim__cukr_fn wide, narrow;
} dctx;

/* One channel plane of the padded, phase-split copy. */
static void copy_plane(const dctx *t, size_t p)
{
    const qsim__conv_desc *d = t->v->d;
    const float *s = t->x + p * (size_t)(t->H * t->W);
    float *dst = t->xp + p * t->g.plane;
    int64_t sw = d->sw, Wps = t->g.Wps;
    for (int64_t Y = 0; Y < t->g.Hn; Y++) {
        float *row = dst + Y * t->g.Wrow;
        int64_t iy = Y - d->pt;
        if (iy < 0 || iy >= t->H) {
            memset(row, 0, (size_t)t->g.Wrow * sizeof(float));
            continue;
        }
        const float *srow = s + iy * t->W;
        for (int64_t ph = 0; ph < sw; ph++) {
            float *o = row + ph * Wps;
            /* j in [lo, hi) reads ix = ph + sw*j - pl inside [0, W) */
            int64_t lo = d->pl - ph <= 0 ? 0 : (d->pl - ph + sw - 1) / sw;
            int64_t hi = t->W + d->pl - ph <= 0 ? 0 : (t->W + d->pl - ph + sw - 1) / sw;
            if (hi > Wps)
                hi = Wps;
            if (lo > hi)
                lo = hi;
            memset(o, 0, (size_t)lo * sizeof(float));
            if (sw == 1)
                memcpy(o + lo, srow + lo - d->pl, (size_t)(hi - lo) * sizeof(float));
            else
                for (int64_t j = lo; j < hi; j++)
                    o[j] = srow[ph + sw * j - d->pl];
            memset(o + hi, 0, (size_t)(Wps - hi) * sizeof(float));
        }
    }
}

#define COPY_FLOATS 16384   /* planes per copy task: at least this much */

static void copy_task(void *ctx, size_t task, int thread)
{
    const dctx *t = ctx;
    size_t per = t->g.plane >= COPY_FLOATS ? 1 : COPY_FLOATS / t->g.plane;
    size_t planes = (size_t)t->N * (size_t)t->v->d->C;
    for (size_t p = task * per; p < planes && p < (task + 1) * per; p++)
        copy_plane(t, p);
    (void)thread;
}

static void conv_task(void *ctx, size_t task, int thread)
{
    const dctx *t = ctx;
    const qsim__dconv_view *v = t->v;
    size_t cc = task % t->ncc, rest = task / t->ncc;
    size_t rc = rest % t->nrc;
    rest /= t->nrc;
    size_t mb = rest % t->nmb;
    rest /= t->nmb;
    size_t grp = rest % (size_t)v->d->group, n = rest / (size_t)v->d->group;
    size_t Mg = (size_t)v->Mg, K = v->K, ohw = (size_t)(t->OH * t->OW);
    const float *src = t->src + n * t->g.img + grp * (size_t)v->Cg * t->g.plane;
    const float *wp = v->wpack + grp * v->wpack_group;
    float *yb = t->y + (n * (size_t)v->d->M + grp * Mg) * ohw;
    const float *bias = v->bias ? v->bias + grp * Mg : NULL;
    size_t m0 = mb * t->mbsz, m1 = m0 + t->mbsz < Mg ? m0 + t->mbsz : Mg;
    size_t r0 = rc * t->rpc, r1 = r0 + t->rpc < (size_t)t->g.rows ? r0 + t->rpc
                                                                  : (size_t)t->g.rows;
    size_t c0 = cc * t->cpc, c1 = c0 + t->cpc < (size_t)t->g.cols ? c0 + t->cpc
                                                                  : (size_t)t->g.cols;
    size_t nkb = qsim__kblocks(K);
    qsim__ukr_out o = {.alpha = 1.0f, .beta = t->beta, .act = v->ep.act, .act_a = v->ep.a,
                       .act_b = v->ep.b, .stream = t->stream};
    /* flat sources have no slack: a tile reading past the plane's end is
     * copied into this panel first */
    float panel[QSIM__KC * QSIM__NR] __attribute__((aligned(32)));
    ptrdiff_t poff[QSIM__KC];
    for (size_t kb = 0; kb < nkb; kb++) {
        size_t k0, kc;
        qsim__kblock(K, nkb, kb, &k0, &kc);
        o.first = kb == 0;
        o.last = kb == nkb - 1;
        const ptrdiff_t *off = t->off + k0;
        const float *wk = wp + k0 * QSIM__MR;
        if (t->pair) {
            /* rows of at most 8 pixels: a tile is two of them */
            for (size_t r = r0; r < r1; r += 2) {
                int two = r + 1 < r1;
                qsim__cukr_fn ukr = two ? t->wide : t->narrow;
                const float *xb = src + r * t->g.row_step;
                float *yt = yb + r * (size_t)t->g.cols;
                size_t w = (size_t)t->g.cols;
                for (size_t m = m0; m < m1; m += QSIM__MR) {
                    size_t mr = m1 - m < QSIM__MR ? m1 - m : QSIM__MR;
                    o.bias_row = bias ? bias + m : NULL;
                    ukr(kc, wk + (m / QSIM__MR) * K * QSIM__MR, xb, off, t->g.row_step,
                        yt + m * ohw, ohw, w, mr, w, two ? w : 0, &o);
                }
            }
            continue;
        }
        for (size_t r = r0; r < r1; r++) {
            for (size_t c = c0; c < c1; c += QSIM__NR) {
                size_t nr = c1 - c < QSIM__NR ? c1 - c : QSIM__NR;
                size_t nr0 = nr < 8 ? nr : 8;
                const float *xb = src + r * t->g.row_step + c;
                const ptrdiff_t *xo = off;
                qsim__cukr_fn ukr = nr <= QSIM__NR / 2 ? t->narrow : t->wide;
                size_t reads = nr <= QSIM__NR / 2 ? QSIM__NR / 2 : QSIM__NR;
                if (t->g.flat && c + reads > (size_t)t->g.cols) {
                    for (size_t k = 0; k < kc; k++) {
                        const float *s = xb + off[k];
                        float *dst = panel + k * QSIM__NR;
                        for (size_t j = 0; j < QSIM__NR; j++)
                            dst[j] = j < nr ? s[j] : 0.0f;
                        poff[k] = (ptrdiff_t)(k * QSIM__NR);
                    }
                    xb = panel;
                    xo = poff;
                }
                float *yt = yb + r * (size_t)t->g.cols + c;
                for (size_t m = m0; m < m1; m += QSIM__MR) {
                    size_t mr = m1 - m < QSIM__MR ? m1 - m : QSIM__MR;
                    o.bias_row = bias ? bias + m : NULL;
                    ukr(kc, wk + (m / QSIM__MR) * K * QSIM__MR, xb, xo, 8, yt + m * ohw, ohw, 8,
                        mr, nr0, nr - nr0, &o);
                }
            }
        }
    }
    (void)thread;
}

static void conv_task_fenced(void *ctx, size_t task, int thread)
{
    conv_task(ctx, task, thread);
    /* non-temporal stores are weakly ordered: visible before the task ends */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }

void qsim__dconv_run(const qsim__dconv_view *v, qsim__pool *pool, const float *x, int64_t N,
                     int64_t H, int64_t W, int64_t OH, int64_t OW, float *y, void *ws,
                     int accumulate)
{
    const qsim__conv_desc *d = v->d;
    dctx t = {.v = v, .x = x, .y = y, .N = N, .H = H, .W = W, .OH = OH, .OW = OW,
              .beta = accumulate ? 1.0f : 0.0f,
              .wide = qsim__k_f32_conv_6x16__generic, .narrow = qsim__k_f32_conv_6x8__generic};
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2()) {
        t.wide = qsim__k_f32_conv_6x16__avx2;
        t.narrow = qsim__k_f32_conv_6x8__avx2;
    }
#endif
    if (!geometry(v, N, H, W, OH, OW, &t.g))
        return;
    ptrdiff_t *off = ws;
    t.off = off;
    int64_t khw = d->kh * d->kw;
    for (size_t k = 0; k < v->K; k++) {
        int64_t ch = (int64_t)k / khw, ky = (int64_t)k % khw / d->kw, kx = (int64_t)k % d->kw;
        if (t.g.flat)
            off[k] = (ptrdiff_t)((size_t)ch * t.g.plane);
        else
            off[k] = (ptrdiff_t)((size_t)ch * t.g.plane + (size_t)(ky * d->dh * t.g.Wrow) +
                                 (size_t)(kx * d->dw % d->sw * t.g.Wps + kx * d->dw / d->sw));
    }
    if (t.g.flat) {
        t.src = x;
    } else {
        t.xp = (float *)((char *)ws + t.g.off_bytes);
        t.src = t.xp;
        size_t planes = (size_t)N * (size_t)d->C;
        size_t per = t.g.plane >= COPY_FLOATS ? 1 : COPY_FLOATS / t.g.plane;
        memset(t.xp + planes * t.g.plane, 0, SLACK * sizeof(float));
        qsim__pool_run(pool, div_up(planes, per), copy_task, &t);
    }
    /* the task grid, from the shape only */
    size_t Mg = (size_t)v->Mg, rows = (size_t)t.g.rows, cols = (size_t)t.g.cols;
    t.nmb = div_up(Mg, TASK_ROWS);
    t.mbsz = div_up(div_up(Mg, t.nmb), QSIM__MR) * QSIM__MR;
    t.cpc = cols > TASK_PIXELS ? TASK_PIXELS : cols;
    t.rpc = cols >= TASK_PIXELS ? 1 : TASK_PIXELS / cols;
    t.pair = !t.g.flat && cols <= QSIM__NR / 2;
    size_t outer = (size_t)N * (size_t)d->group;
    for (;;) {
        size_t tasks = outer * div_up(Mg, t.mbsz) * div_up(rows, t.rpc) * div_up(cols, t.cpc);
        if (tasks >= MIN_TASKS)
            break;
        if (t.rpc > 1)
            t.rpc = div_up(t.rpc, 2);
        else if (t.cpc > 4 * QSIM__NR)
            t.cpc = div_up(t.cpc / 2, QSIM__NR) * QSIM__NR;
        else if (t.mbsz > 4 * QSIM__MR)
            t.mbsz = div_up(t.mbsz / 2, QSIM__MR) * QSIM__MR;
        else
            break;
    }
    /* even chunks */
    t.nrc = div_up(rows, t.rpc);
    t.rpc = div_up(rows, t.nrc);
    if (t.pair && t.rpc % 2 && t.rpc < rows)   /* chunks of whole row pairs */
        t.rpc++;
    t.nrc = div_up(rows, t.rpc);
    t.ncc = div_up(cols, t.cpc);
    if (t.ncc > 1)
        t.cpc = div_up(div_up(cols, t.ncc), QSIM__NR) * QSIM__NR;
    t.ncc = div_up(cols, t.cpc);
    t.nmb = div_up(Mg, t.mbsz);
    size_t ybytes = (size_t)N * (size_t)d->M * (size_t)(OH * OW) * sizeof(float);
    t.stream = !accumulate && qsim__kblocks(v->K) == 1 && ybytes >= STREAM_MIN_BYTES;
    qsim__pool_run(pool, outer * t.nmb * t.nrc * t.ncc, t.stream ? conv_task_fenced : conv_task,
                   &t);
}
