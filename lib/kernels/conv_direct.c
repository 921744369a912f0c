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
        /* one row of H*W pixels, or rows of W <= 8 in pairs when fewer
         * lanes idle so (7x7: 7 of 8 rather than 49 of 64) */
        int64_t hw = H * W, lanes = (hw + QSIM__NR - 1) / QSIM__NR * QSIM__NR;
        int rows = W <= QSIM__NR / 2 && H > 1 && W * lanes > hw * (QSIM__NR / 2);
        g->rows = rows ? H : 1;
        g->cols = rows ? W : hw;
        g->row_step = rows ? (size_t)W : 0;
        g->plane = (size_t)hw;
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

/* Measured with benchmarks/bench_kernels (-c -t 1, -p 1 vs -p 2) on the
 * resnet18 and MobileNetV2 layers (GFLOP/s direct vs im2col):
 * - 1x1/1: 90-100 vs 55-98 (no packing at all), except on 7x7 maps: the
 *   GEMM's panels span images (49 of 64 lanes busy at batch 1 in both,
 *   7 of 8 in row pairs vs 392 of 400 at batch 8), which pays once K is
 *   large enough to hide its packing (960-320: 73 vs 88 at batch 1, 70
 *   vs 85 at 8; 160-960 at batch 8: 78 vs 66);
 * - the 7x7/2 stem (112 wide): 100 vs 85; stride-2 3x3 on 28/14-wide maps
 *   and 1x1/2 lose (80 vs 94, 44 vs 80: the copy costs what it saves),
 *   except 3x3/2 onto 7-wide maps at batch 8 (86 vs 82);
 * - 3x3/1: 56 wide 100 vs 91; 28 wide 92 vs 78 at batch 1 but 91 vs 95 at
 *   batch 8 (the GEMM's panels span rows and images); 14 wide 90 vs 98;
 *   7 wide (row pairs) 84-88 vs 76-78 at batch 1, but at batch 8 (k-blocks
 *   of 600, zero rows skipped) 96.5-97 vs 98-99, the GEMM's 392 columns
 *   filling 98% of the lanes against the row pairs' 14 of 16. */
int qsim__dconv_preferred(const qsim__conv_desc *d, int64_t N, int64_t H, int64_t W,
                          int64_t OH, int64_t OW)
{
    (void)H, (void)W;
    int flat = d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 &&
               d->pl == 0 && d->pb == 0 && d->pr == 0;
    if (flat)
        return OH * OW >= 64 || (N > 1 && d->C / d->group <= 256);
    if (d->sh > 1 || d->sw > 1)
        return OW >= 56 || (OW <= 8 && N > 1 && d->kh * d->kw > 1);
    return OW >= 32 || (OW <= 8 && N <= 2) || (N == 1 && OW > 16);
}

/* Padded copies of all images at once only when tiles pair rows across
 * images; otherwise image by image, so that the copy is still in the
 * cache when the tiles read it. */
static int all_images(const qsim__conv_desc *d, int64_t OW)
{
    (void)d;
    return OW <= QSIM__NR / 2;
}

/* Per thread, in the flat case: a KC x NR panel and its KC offsets for the
 * last tile of the input, which would read past its end (in the workspace,
 * not on the caller's stack: 43 KiB at KC 600). */
#define TAIL_BYTES \
    ((QSIM__KC * QSIM__NR * sizeof(float) + QSIM__KC * sizeof(ptrdiff_t) + 63) / 64 * 64)

size_t qsim__dconv_ws_bytes(const qsim__dconv_view *v, int64_t N, int64_t H, int64_t W,
                            int64_t OH, int64_t OW, int threads)
{
    dgeo g;
    size_t b, tails = 0;
    if (!geometry(v, all_images(v->d, OW) ? N : 1, H, W, OH, OW, &g) ||
        !qsim__mul_size(g.xp_floats, sizeof(float), &b) || !qsim__add_size(b, g.off_bytes, &b) ||
        (g.flat && !qsim__mul_size(TAIL_BYTES, (size_t)(threads < 1 ? 1 : threads), &tails)) ||
        !qsim__add_size(b, tails, &b))
        return SIZE_MAX;
    return b;
}

typedef struct dctx {
    const qsim__dconv_view *v;
    const float *x, *src;
    size_t src_len;           /* floats of a flat source (the input) */
    float *y, *xp;
    char *tails;              /* flat: TAIL_BYTES per thread */
    const ptrdiff_t *off;
    dgeo g;
    int64_t N, H, W, OH, OW;
    size_t nmb, mbsz, nrc, rpc, ncc, cpc;   /* task grid: M blocks, row and column chunks */
    size_t nimg, nrows;       /* images and rows per task grid (pairs: 1, N * rows) */
    float beta;
    int pair, stream;         /* tiles of two rows; non-temporal stores */
    qsim__cukr_fn wide, narrow;
    const qsim__tall_cukr_fn *tall;   /* NULL without AVX-512 */
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

/* What one k-block pass of a task's tiles shares. */
typedef struct kpass {
    size_t kc, m0, m1;
    const float *wk;            /* packed weights of the group at k0 */
    const ptrdiff_t *off;       /* offsets at k0 */
    const float *bias;          /* of the group, or NULL */
    qsim__ukr_out o;
    float *panel;               /* KC x NR scratch */
    ptrdiff_t *poff;            /* KC offsets into it */
} kpass;

/* Tile with halves x0 -> y0 (nr0 pixels) and x0 + xh -> y0 + ch (nr1, may
 * be 0) for every MR panel of the task's channels. */
static void tile(const dctx *t, kpass *p, const float *x0, size_t xh, float *y0, size_t ch,
                 size_t nr0, size_t nr1)
{
    const qsim__dconv_view *v = t->v;
    const ptrdiff_t *off = p->off;
    /* the input as source has no slack: a tile reading past its end is
     * copied into the panel first (offsets grow with k: the last is the
     * farthest) */
    if (t->g.flat &&
        (size_t)(x0 - t->src) + (nr1 ? xh : 0) + (size_t)t->off[v->K - 1] + 8 > t->src_len) {
        for (size_t k = 0; k < p->kc; k++) {
            float *d = p->panel + k * QSIM__NR;
            for (size_t j = 0; j < 8; j++) {
                d[j] = j < nr0 ? x0[off[k] + (ptrdiff_t)j] : 0.0f;
                d[8 + j] = j < nr1 ? x0[off[k] + (ptrdiff_t)(xh + j)] : 0.0f;
            }
            p->poff[k] = (ptrdiff_t)(k * QSIM__NR);
        }
        x0 = p->panel;
        xh = 8;
        off = p->poff;
    }
    qsim__cukr_fn ukr = nr1 ? t->wide : t->narrow;
    size_t ohw = (size_t)(t->OH * t->OW), K = v->K;
    size_t m = p->m0;
    if (t->tall && nr1) {
        /* up to 4 panels at a time, the last partial one too */
        size_t as = K * QSIM__MR;
        for (size_t np; m < p->m1; m += np * QSIM__MR) {
            size_t rows = p->m1 - m;
            np = rows >= 4 * QSIM__MR ? 4 : (rows + QSIM__MR - 1) / QSIM__MR;
            p->o.bias_row = p->bias ? p->bias + m : NULL;
            t->tall[np - 1](p->kc, p->wk + (m / QSIM__MR) * as, as, x0, off, xh, y0 + m * ohw, ohw,
                            ch, rows < np * QSIM__MR ? rows : np * QSIM__MR, nr0, nr1, &p->o);
        }
    }
    for (; m < p->m1; m += QSIM__MR) {
        size_t mr = p->m1 - m < QSIM__MR ? p->m1 - m : QSIM__MR;
        p->o.bias_row = p->bias ? p->bias + m : NULL;
        ukr(p->kc, p->wk + (m / QSIM__MR) * K * QSIM__MR, x0, off, xh, y0 + m * ohw, ohw, ch, mr,
            nr0, nr1, &p->o);
    }
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
    float *yb = t->y + (n * (size_t)v->d->M + grp * Mg) * ohw;
    size_t r0 = rc * t->rpc, r1 = r0 + t->rpc < t->nrows ? r0 + t->rpc : t->nrows;
    size_t cols = (size_t)t->g.cols, rows = (size_t)t->g.rows, ystep = (size_t)v->d->M * ohw;
    size_t c0 = cc * t->cpc, c1 = c0 + t->cpc < cols ? c0 + t->cpc : cols;
    size_t nkb = qsim__kblocks(K);
    char *own = t->tails ? t->tails + (size_t)thread * TAIL_BYTES : NULL;
    float *panel = (float *)own;
    ptrdiff_t *poff = own ? (ptrdiff_t *)(own + QSIM__KC * QSIM__NR * sizeof(float)) : NULL;
    kpass p = {.m0 = mb * t->mbsz, .bias = v->bias ? v->bias + grp * Mg : NULL,
               .o = {.alpha = 1.0f, .beta = t->beta, .act = v->ep.act, .act_a = v->ep.a,
                     .act_b = v->ep.b, .stream = t->stream},
               .panel = panel, .poff = poff};
    p.m1 = p.m0 + t->mbsz < Mg ? p.m0 + t->mbsz : Mg;
    for (size_t kb = 0; kb < nkb; kb++) {
        size_t k0;
        qsim__kblock(K, nkb, kb, &k0, &p.kc);
        p.o.first = kb == 0;
        p.o.last = kb == nkb - 1;
        p.off = t->off + k0;
        p.wk = v->wpack + grp * v->wpack_group + k0 * QSIM__MR;
        if (t->pair) {
            /* rows of at most 8 pixels: a tile is two of them, rows
             * counted over all images (r = image * rows + oy) */
            for (size_t r = r0; r < r1; r += 2) {
                size_t r2 = r + 1 < r1 ? r + 1 : r;
                size_t x0 = r / rows * t->g.img + r % rows * t->g.row_step;
                size_t x1 = r2 / rows * t->g.img + r2 % rows * t->g.row_step;
                size_t y0 = r / rows * ystep + r % rows * cols;
                size_t y1 = r2 / rows * ystep + r2 % rows * cols;
                tile(t, &p, src + x0, x1 - x0, yb + y0, y1 - y0, cols, r2 > r ? cols : 0);
            }
            continue;
        }
        /* a row's last 1-8 pixels (56 wide: 48..55) share one tile with
         * the next row's: its two halves (all 16 lanes busy, not 8) */
        size_t tail = c1 == cols && r1 - r0 > 1 ? (c1 - c0) % QSIM__NR : 0;
        if (tail > 8)
            tail = 0;
        size_t cend = c1 - tail, step = t->g.row_step;
        for (size_t r = r0; r < r1; r++) {
            for (size_t c = c0; c < cend; c += QSIM__NR) {
                size_t nr = cend - c < QSIM__NR ? cend - c : QSIM__NR, nr0 = nr < 8 ? nr : 8;
                tile(t, &p, src + r * step + c, 8, yb + r * cols + c, 8, nr0, nr - nr0);
            }
            if (tail && (r - r0) % 2 == 0)
                tile(t, &p, src + r * step + cend, step, yb + r * cols + cend, cols, tail,
                     r + 1 < r1 ? tail : 0);
        }
    }
}

static void conv_task_fenced(void *ctx, size_t task, int thread)
{
    conv_task(ctx, task, thread);
    /* non-temporal stores are weakly ordered: visible before the task ends */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static size_t div_up(size_t a, size_t b) { return (a + b - 1) / b; }

static void run_images(const qsim__dconv_view *v, qsim__pool *pool, const float *x, int64_t N,
                       int64_t H, int64_t W, int64_t OH, int64_t OW, float *y, void *ws,
                       int accumulate, int stream);

void qsim__dconv_run(const qsim__dconv_view *v, qsim__pool *pool, const float *x, int64_t N,
                     int64_t H, int64_t W, int64_t OH, int64_t OW, float *y, void *ws,
                     int accumulate)
{
    const qsim__conv_desc *d = v->d;
    size_t ybytes = (size_t)N * (size_t)d->M * (size_t)(OH * OW) * sizeof(float);
    int stream = !accumulate && qsim__kblocks(v->K) == 1 && ybytes >= STREAM_MIN_BYTES;
    int flat = d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 &&
               d->pl == 0 && d->pb == 0 && d->pr == 0;
    if (flat || all_images(d, OW)) {
        run_images(v, pool, x, N, H, W, OH, OW, y, ws, accumulate, stream);
        return;
    }
    for (int64_t n = 0; n < N; n++)
        run_images(v, pool, x + (size_t)n * (size_t)(d->C * H * W), 1, H, W, OH, OW,
                   y + (size_t)n * (size_t)(d->M * OH * OW), ws, accumulate, stream);
}

static void run_images(const qsim__dconv_view *v, qsim__pool *pool, const float *x, int64_t N,
                       int64_t H, int64_t W, int64_t OH, int64_t OW, float *y, void *ws,
                       int accumulate, int stream)
{
    const qsim__conv_desc *d = v->d;
    dctx t = {.v = v, .x = x, .y = y, .N = N, .H = H, .W = W, .OH = OH, .OW = OW,
              .beta = accumulate ? 1.0f : 0.0f, .stream = stream,
              .wide = qsim__k_f32_conv_6x16__generic, .narrow = qsim__k_f32_conv_6x8__generic};
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2()) {
        t.wide = qsim__k_f32_conv_6x16__avx2;
        t.narrow = qsim__k_f32_conv_6x8__avx2;
    }
#endif
#ifdef QSIM_HAVE_AVX512
    if (qsim__cpu_use_avx512()) {
        t.tall = qsim__k_f32_conv_tall__avx512;
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
        t.src_len = (size_t)N * t.g.img;
        t.tails = (char *)ws + t.g.off_bytes;
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
    t.pair = cols <= QSIM__NR / 2;
    t.nimg = t.pair ? 1 : (size_t)N;
    t.nrows = t.pair ? (size_t)N * rows : rows;
    rows = t.nrows;
    size_t outer = t.nimg * (size_t)d->group;
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
    qsim__pool_run(pool, outer * t.nmb * t.nrc * t.ncc, t.stream ? conv_task_fenced : conv_task,
                   &t);
}
