/* Convolution: weights packed once at create; run picks per shape
 * - depthwise (group == C == M): a direct per-plane kernel;
 * - 1x1, stride 1, no padding: GEMM straight on the NCHW input (B = x_g,
 *   only copied into panels);
 * - everything else: implicit GEMM, im2col packed tile by tile into the
 *   per-thread B block (never a whole-image im2col buffer; only a packed B
 *   of at most PREPACK_MAX_BYTES when several M blocks would share it);
 * - or, where qsim__dconv_preferred says so, the same GEMM with the im2col
 *   columns read straight from the input (conv_direct.c).
 * GEMM view per group: C[Mg, N*OH*OW] = W_g[Mg, K] * B[K, N*OH*OW],
 * K = Cg*kh*kw, columns (image, oy, ox), so the output lands in NCHW with
 * bias per row and small maps of a batch share panels. */
#include "conv_impl.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/error.h"
#include "gemm_driver.h"

#include <string.h>

enum { KIND_GEMM_1X1 = 1, KIND_IM2COL = 2, KIND_DEPTHWISE = 3 };

/* Largest kernel size, stride, dilation or pad accepted. */
#define CONV_GEOMETRY_MAX ((int64_t)1 << 24)

/* Largest B packed whole before the GEMM (see setup_job). */
#define PREPACK_MAX_BYTES ((size_t)2 << 20)

struct qsim__conv {
    qsim__conv_desc d;
    int kind;
    int64_t Cg, Mg;
    size_t K;               /* Cg * kh * kw */
    float *wpack;           /* per group: ceil(Mg/MR) A panels of K*MR floats */
    size_t wpack_group;     /* floats per group */
    float *wdw;             /* depthwise: M x kh*kw */
    float *bias;            /* M values or NULL */
    qsim__epilogue ep;
};

/* What the packing and binding callbacks need for one run. */
typedef struct conv_ctx {
    const qsim__conv *c;
    const float *x;
    float *y;
    int64_t H, W, OH, OW;
    size_t N;
    void (*im2col)(const qsim__im2col *, size_t, size_t, size_t, size_t, float *);
} conv_ctx;

/* One output extent; 0 when it would be < 1 or the arithmetic overflows
 * (any descriptor, even one conv_create rejects). */
static int64_t out_extent(int64_t in, int64_t k, int64_t s, int64_t dil, int64_t p0, int64_t p1)
{
    int64_t e, n;
    if (s < 1 || k < 1 || __builtin_mul_overflow(dil, k - 1, &e) ||
        __builtin_add_overflow(in, p0, &n) || __builtin_add_overflow(n, p1, &n) ||
        __builtin_sub_overflow(n, e, &n) || __builtin_sub_overflow(n, 1, &n) || n < 0)
        return 0;
    return n / s + 1;
}

void qsim__conv_out_size(const qsim__conv_desc *d, int64_t H, int64_t W, int64_t *OH, int64_t *OW)
{
    *OH = out_extent(H, d->kh, d->sh, d->dh, d->pt, d->pb);
    *OW = out_extent(W, d->kw, d->sw, d->dw, d->pl, d->pr);
}

qsim_status qsim__conv_create(const qsim__conv_desc *d, const float *weight, const float *bias,
                              const qsim__epilogue *ep, qsim__conv **out)
{
    *out = NULL;
    if (d->C < 1 || d->M < 1 || d->group < 1 || d->C % d->group || d->M % d->group)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "conv: C=%lld, M=%lld must be positive multiples of group=%lld",
                          (long long)d->C, (long long)d->M, (long long)d->group);
    if (d->kh < 1 || d->kw < 1 || d->sh < 1 || d->sw < 1 || d->dh < 1 || d->dw < 1)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "conv: kernel %lldx%lld, strides %lld,%lld and dilations %lld,%lld "
                          "must be >= 1",
                          (long long)d->kh, (long long)d->kw, (long long)d->sh, (long long)d->sw,
                          (long long)d->dh, (long long)d->dw);
    if (d->pt < 0 || d->pl < 0 || d->pb < 0 || d->pr < 0)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "conv: pads %lld,%lld,%lld,%lld must be >= 0",
                          (long long)d->pt, (long long)d->pl, (long long)d->pb, (long long)d->pr);
    /* bounded geometry keeps every index product far from int64 overflow */
    const int64_t geo[] = {d->kh, d->kw, d->sh, d->sw, d->dh, d->dw, d->pt, d->pl, d->pb, d->pr};
    for (size_t i = 0; i < sizeof geo / sizeof *geo; i++)
        if (geo[i] > CONV_GEOMETRY_MAX)
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "conv: kernel, stride, dilation and pad values must be <= %lld "
                              "(got %lld)",
                              (long long)CONV_GEOMETRY_MAX, (long long)geo[i]);
    int64_t Cg = d->C / d->group, Mg = d->M / d->group, K64;
    if (!qsim__mul_i64(Cg, d->kh, &K64) || !qsim__mul_i64(K64, d->kw, &K64) ||
        (uint64_t)K64 > SIZE_MAX / 64)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "conv: kernel volume overflows");
    size_t K = (size_t)K64;
    qsim__conv *c = qsim__calloc(1, sizeof *c);
    if (!c)
        return qsim__oom();
    c->d = *d;
    c->Cg = Cg;
    c->Mg = Mg;
    c->K = K;
    if (ep)
        c->ep = *ep;
    size_t wcount;
    if (!qsim__mul_size((size_t)d->M, K, &wcount))
        goto too_big;
    if (bias) {
        c->bias = qsim__malloc_array((size_t)d->M, sizeof(float));
        if (!c->bias)
            goto oom;
        memcpy(c->bias, bias, (size_t)d->M * sizeof(float));
    }
    if (d->group == d->C && d->group == d->M) {
        c->kind = KIND_DEPTHWISE;
        c->wdw = qsim__malloc_array(wcount, sizeof(float));
        if (!c->wdw)
            goto oom;
        memcpy(c->wdw, weight, wcount * sizeof(float));
        *out = c;
        return QSIM_OK;
    }
    c->kind = d->kh == 1 && d->kw == 1 && d->sh == 1 && d->sw == 1 && d->pt == 0 &&
                      d->pl == 0 && d->pb == 0 && d->pr == 0
                  ? KIND_GEMM_1X1
                  : KIND_IM2COL;
    size_t panels = ((size_t)Mg + QSIM__MR - 1) / QSIM__MR, per, total;
    if (!qsim__mul_size(panels, K, &per) || !qsim__mul_size(per, QSIM__MR, &per) ||
        !qsim__mul_size(per, (size_t)d->group, &total) ||
        !qsim__mul_size(total, sizeof(float), &total))
        goto too_big;
    c->wpack_group = per;
    c->wpack = qsim__malloc_aligned(total);
    if (!c->wpack)
        goto oom;
    for (int64_t g = 0; g < d->group; g++) {
        const float *wg = weight + (size_t)g * (size_t)Mg * K;
        float *dst = c->wpack + (size_t)g * per;
        for (size_t p = 0; p < panels; p++) {
            size_t r0 = p * QSIM__MR;
            size_t mr = (size_t)Mg - r0 < QSIM__MR ? (size_t)Mg - r0 : QSIM__MR;
            qsim__pack_a_panel(0, wg, K, r0, mr, 0, K, dst + p * K * QSIM__MR);
        }
    }
    *out = c;
    return QSIM_OK;
too_big:
    qsim__conv_free(c);
    return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "conv: weight [%lld, %lld, %lld, %lld] too large",
                      (long long)d->M, (long long)Cg, (long long)d->kh, (long long)d->kw);
oom:
    qsim__conv_free(c);
    return qsim__oom();
}

void qsim__conv_free(qsim__conv *c)
{
    if (!c)
        return;
    qsim__free_aligned(c->wpack);
    qsim__free(c->wdw);
    qsim__free(c->bias);
    qsim__free(c);
}

/* ---- GEMM paths ---- */

static int force_path;

void qsim__conv_force_path(int path)
{
    force_path = path;
}

/* The direct path for this input shape? (never for depthwise) */
static int use_direct(const qsim__conv *c, int64_t N, int64_t H, int64_t W, int64_t OH,
                      int64_t OW)
{
    if (c->kind == KIND_DEPTHWISE || force_path == 1)
        return 0;
    return force_path == 2 || qsim__dconv_preferred(&c->d, N, H, W, OH, OW);
}

static qsim__dconv_view direct_view(const qsim__conv *c)
{
    return (qsim__dconv_view){.d = &c->d, .Cg = c->Cg, .Mg = c->Mg, .K = c->K,
                              .wpack = c->wpack, .wpack_group = c->wpack_group,
                              .bias = c->bias, .ep = c->ep};
}

/* One product per group; its columns are (image, oy, ox), so small images
 * share panels (no tile wasted on a 7x7 map's edge). */
static void bind_group(const qsim__gemm_job *j, size_t g, const float **a_packed,
                       const float **A, float **C, const float **bias)
{
    const conv_ctx *r = j->bind_ctx;
    const qsim__conv *c = r->c;
    *a_packed = c->wpack + g * c->wpack_group;
    *C = r->y + g * (size_t)c->Mg * (size_t)(r->OH * r->OW);
    *bias = c->bias ? c->bias + g * (size_t)c->Mg : NULL;
    (void)A;
}

static void im2col_geometry(const conv_ctx *r, size_t g, qsim__im2col *geo)
{
    const qsim__conv_desc *d = &r->c->d;
    size_t hw = (size_t)(r->H * r->W);
    *geo = (qsim__im2col){
        .x = r->x + g * (size_t)r->c->Cg * hw, .img_stride = (size_t)d->C * hw,
        .lo = r->x, .hi = r->x + r->N * (size_t)d->C * hw,
        .H = r->H, .W = r->W, .OH = r->OH, .OW = r->OW, .kh = d->kh, .kw = d->kw,
        .sh = d->sh, .sw = d->sw, .dh = d->dh, .dw = d->dw, .pt = d->pt, .pl = d->pl,
    };
}

static void pack_im2col(const qsim__gemm_job *j, size_t g, size_t k0, size_t kc, size_t n0,
                        size_t nb, float *dst)
{
    const conv_ctx *r = j->pack_ctx;
    qsim__im2col geo;
    im2col_geometry(r, g, &geo);
    r->im2col(&geo, k0, kc, n0, nb, dst);
}

/* 1x1, stride 1, no padding: B is the input itself, [Cg, H*W] per image. */
static void pack_1x1(const qsim__gemm_job *j, size_t g, size_t k0, size_t kc, size_t n0,
                     size_t nb, float *dst)
{
    const conv_ctx *r = j->pack_ctx;
    size_t hw = (size_t)(r->H * r->W), img = n0 / hw, p = n0 % hw;
    if (p + nb > hw) {   /* the block spans images */
        pack_im2col(j, g, k0, kc, n0, nb, dst);
        return;
    }
    const float *x = r->x + (img * (size_t)r->c->d.C + g * (size_t)r->c->Cg) * hw;
    qsim__pack_b_block(0, x, hw, k0, kc, p, nb, dst);
}

static int setup_job(const qsim__conv *c, const conv_ctx *r, int64_t N, qsim__gemm_job *j,
                     size_t *pre_floats)
{
    *pre_floats = 0;
    memset(j, 0, sizeof *j);
    size_t ohw = (size_t)(r->OH * r->OW);
    j->M = (size_t)c->Mg;
    j->N = (size_t)N * ohw;
    j->K = c->K;
    j->nbatch = (size_t)c->d.group;
    j->a_packed = c->wpack;
    j->pack_b = c->kind == KIND_GEMM_1X1 ? pack_1x1 : pack_im2col;
    j->pack_ctx = r;
    j->bind = bind_group;
    j->bind_ctx = r;
    j->ldc = ohw;
    j->img_cols = ohw;
    j->img_stride = (size_t)c->d.M * ohw;
    j->alpha = 1.0f;
    j->bias_per_row = 1;
    j->act = c->ep.act;
    j->act_a = c->ep.a;
    j->act_b = c->ep.b;
    if (!qsim__gemm_plan(j))
        return 0;
    /* Several M blocks would each pack the same B: when the whole packed B
     * is small (small maps, e.g. 7x7 at batch 1), pack it once up front, in
     * parallel, and let the blocks share it. Decided from the shape only. */
    *pre_floats = 0;
    if (c->d.group == 1 && j->mblocks > 1) {   /* several M tasks */
        size_t panels = (j->N + QSIM__NR - 1) / QSIM__NR, f;
        if (qsim__mul_size(panels, j->K, &f) && qsim__mul_size(f, QSIM__NR, &f) &&
            f <= PREPACK_MAX_BYTES / sizeof(float)) {
            *pre_floats = f;
            j->b_packed = c->wpack;   /* placeholder until run: plans no B scratch */
            j->pack_b = NULL;
            if (!qsim__gemm_plan(j))
                return 0;
        }
    }
    return 1;
}

/* Bytes for the prepacked B (64-byte multiple) plus the GEMM's scratch. */
static size_t total_ws(const qsim__gemm_job *j, size_t pre_floats, int threads)
{
    size_t g = qsim__gemm_ws_bytes(j, threads), pre = (pre_floats + 15) / 16 * 16 * sizeof(float);
    return g == SIZE_MAX || g > SIZE_MAX - pre ? SIZE_MAX : g + pre;
}

typedef struct prepack_ctx {
    const qsim__gemm_job *j;
    qsim__pack_b_fn pack;
    float *dst;
} prepack_ctx;

/* One NR panel over all of K: exactly the layout b_packed expects. */
static void prepack_task(void *ctx, size_t p, int thread)
{
    const prepack_ctx *t = ctx;
    size_t n0 = p * QSIM__NR, nr = t->j->N - n0 < QSIM__NR ? t->j->N - n0 : QSIM__NR;
    t->pack(t->j, 0, 0, t->j->K, n0, nr, t->dst + p * t->j->K * QSIM__NR);
    (void)thread;
}

size_t qsim__conv_workspace(const qsim__conv *c, int64_t N, int64_t H, int64_t W,
                            const qsim__pool *pool)
{
    if (c->kind == KIND_DEPTHWISE)
        return 0;
    conv_ctx r = {.c = c, .H = H, .W = W};
    qsim__conv_out_size(&c->d, H, W, &r.OH, &r.OW);
    if (N <= 0 || r.OH <= 0 || r.OW <= 0)
        return 0;
    if (use_direct(c, N, H, W, r.OH, r.OW)) {
        qsim__dconv_view v = direct_view(c);
        return qsim__dconv_ws_bytes(&v, N, H, W, r.OH, r.OW, qsim__pool_threads(pool));
    }
    qsim__gemm_job j;
    size_t pre;
    if (!setup_job(c, &r, N, &j, &pre))
        return SIZE_MAX;
    return total_ws(&j, pre, qsim__pool_threads(pool));
}

/* Scratch-free direct convolution from the packed weights: only used when
 * no workspace was given and none can be allocated. */
static void conv_direct(const conv_ctx *r, int64_t N, int accumulate)
{
    const qsim__conv *c = r->c;
    const qsim__conv_desc *d = &c->d;
    int64_t khw = d->kh * d->kw;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < d->M; m++) {
            int64_t g = m / c->Mg, mg = m % c->Mg;
            const float *wp = c->wpack + (size_t)g * c->wpack_group +
                              (size_t)(mg / QSIM__MR) * c->K * QSIM__MR + (size_t)(mg % QSIM__MR);
            const float *xg = r->x + (size_t)((n * d->C + g * c->Cg) * r->H * r->W);
            float *yp = r->y + (size_t)((n * d->M + m) * r->OH * r->OW);
            for (int64_t oy = 0; oy < r->OH; oy++)
                for (int64_t ox = 0; ox < r->OW; ox++) {
                    float s = 0.0f;
                    for (int64_t k = 0; k < (int64_t)c->K; k++) {
                        int64_t ch = k / khw, ky = k % khw / d->kw, kx = k % d->kw;
                        int64_t iy = oy * d->sh - d->pt + ky * d->dh;
                        int64_t ix = ox * d->sw - d->pl + kx * d->dw;
                        if (iy >= 0 && iy < r->H && ix >= 0 && ix < r->W)
                            s += wp[(size_t)k * QSIM__MR] * xg[(ch * r->H + iy) * r->W + ix];
                    }
                    if (accumulate)
                        s += yp[oy * r->OW + ox];
                    if (c->bias)
                        s += c->bias[m];
                    yp[oy * r->OW + ox] = qsim__act_apply(s, c->ep.act, c->ep.a, c->ep.b);
                }
        }
}

/* ---- depthwise ---- */

typedef struct dw_ctx {
    const conv_ctx *r;
    void (*kern)(const qsim__dw_planes *);
    size_t per_task, planes;   /* planes (image, channel) per task, in all */
} dw_ctx;

/* Planes per task: small maps are grouped so a task is not mostly overhead
 * (decided from the shape only). */
#define DW_TASK_OUTPUTS 4096
/* Inputs past this many floats (16 MiB) come from memory, not the caches. */
#define DW_STREAMED_FLOATS ((size_t)4 << 20)

static void dw_task(void *ctx, size_t task, int thread)
{
    const dw_ctx *t = ctx;
    const conv_ctx *r = t->r;
    const qsim__conv *c = r->c;
    const qsim__conv_desc *d = &c->d;
    size_t p0 = task * t->per_task, p1 = p0 + t->per_task < t->planes ? p0 + t->per_task
                                                                     : t->planes;
    qsim__dw_planes p = {
        .a = {
            .x = r->x + p0 * (size_t)(r->H * r->W),
            .y = r->y + p0 * (size_t)(r->OH * r->OW),
            .H = r->H, .W = r->W, .OH = r->OH, .OW = r->OW,
            .kh = d->kh, .kw = d->kw, .sh = d->sh, .sw = d->sw, .dh = d->dh, .dw = d->dw,
            .pt = d->pt, .pl = d->pl,
            .act = c->ep.act, .act_a = c->ep.a, .act_b = c->ep.b,
            .streamed = t->planes * (size_t)(r->H * r->W) > DW_STREAMED_FLOATS,
        },
        .wall = c->wdw, .ball = c->bias, .ch0 = p0 % (size_t)d->C, .C = (size_t)d->C,
        .n = p1 - p0,
    };
    t->kern(&p);
    (void)thread;
}

static void conv_run(const qsim__conv *c, qsim__pool *pool, const float *x, int64_t N, int64_t H,
                     int64_t W, float *y, void *workspace, int accumulate)
{
    conv_ctx r = {.c = c, .x = x, .y = y, .H = H, .W = W, .N = (size_t)N,
                  .im2col = qsim__im2col_block__generic};
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2())
        r.im2col = qsim__im2col_block__avx2;
#endif
#ifdef QSIM_HAVE_AVX512
    if (qsim__cpu_use_avx512())
        r.im2col = qsim__im2col_block__avx512;
#endif
    qsim__conv_out_size(&c->d, H, W, &r.OH, &r.OW);
    if (N <= 0 || r.OH <= 0 || r.OW <= 0)
        return;
    if (c->kind == KIND_DEPTHWISE && accumulate)
        return;
    if (c->kind == KIND_DEPTHWISE) {
        dw_ctx t = {.r = &r, .kern = qsim__k_f32_dwconv_planes__generic};
#ifdef QSIM_HAVE_AVX2
        if (qsim__cpu_use_avx2())
            t.kern = qsim__k_f32_dwconv_planes__avx2;
#endif
        size_t ohw = (size_t)(r.OH * r.OW);
        t.planes = (size_t)(N * c->d.C);
        t.per_task = ohw >= DW_TASK_OUTPUTS ? 1 : DW_TASK_OUTPUTS / ohw;
        qsim__pool_run(pool, (t.planes + t.per_task - 1) / t.per_task, dw_task, &t);
        return;
    }
    if (use_direct(c, N, H, W, r.OH, r.OW)) {
        qsim__dconv_view v = direct_view(c);
        size_t bytes = qsim__dconv_ws_bytes(&v, N, H, W, r.OH, r.OW, qsim__pool_threads(pool));
        void *own = NULL;
        if (!workspace) {
            own = bytes != SIZE_MAX ? qsim__malloc_aligned(bytes) : NULL;
            if (!own) {
                conv_direct(&r, N, accumulate);
                return;
            }
            workspace = own;
        }
        qsim__dconv_run(&v, pool, x, N, H, W, r.OH, r.OW, y, workspace, accumulate);
        qsim__free_aligned(own);
        return;
    }
    qsim__gemm_job j;
    size_t pre;
    if (!setup_job(c, &r, N, &j, &pre))
        return;
    /* beta 1: the residual in y joins the first k-block's sum */
    j.beta = accumulate ? 1.0f : 0.0f;
    float *ws = workspace;
    void *own = NULL;
    if (!ws && (j.ws_floats || pre)) {
        /* caller passed no workspace: allocate; failing that, go slow */
        size_t bytes = total_ws(&j, pre, qsim__pool_threads(pool));
        own = bytes != SIZE_MAX ? qsim__malloc_aligned(bytes) : NULL;
        if (!own) {
            conv_direct(&r, N, accumulate);
            return;
        }
        ws = own;
    }
    if (pre) {
        prepack_ctx t = {&j, c->kind == KIND_GEMM_1X1 ? pack_1x1 : pack_im2col, ws};
        qsim__pool_run(pool, (j.N + QSIM__NR - 1) / QSIM__NR, prepack_task, &t);
        j.b_packed = ws;
        ws += (pre + 15) / 16 * 16;
    }
    j.ws = ws;
    qsim__gemm_run(pool, &j);
    qsim__free_aligned(own);
}

void qsim__conv_run(const qsim__conv *c, qsim__pool *pool, const float *x, int64_t N, int64_t H,
                    int64_t W, float *y, void *workspace)
{
    conv_run(c, pool, x, N, H, W, y, workspace, 0);
}

void qsim__conv_run_accumulate(const qsim__conv *c, qsim__pool *pool, const float *x, int64_t N,
                               int64_t H, int64_t W, float *y, void *workspace)
{
    conv_run(c, pool, x, N, H, W, y, workspace, 1);
}

int qsim__conv_is_depthwise(const qsim__conv *c)
{
    return c->kind == KIND_DEPTHWISE;
}

void qsim__conv_set_epilogue(qsim__conv *c, const qsim__epilogue *ep)
{
    if (ep)
        c->ep = *ep;
    else
        memset(&c->ep, 0, sizeof c->ep);
}

qsim_status qsim__conv_fold_affine(qsim__conv *c, const double *mul, const double *add)
{
    size_t M = (size_t)c->d.M;
    if (!c->bias) {
        if (!(c->bias = qsim__calloc(M, sizeof(float))))
            return qsim__oom();
    }
    for (size_t m = 0; m < M; m++)
        c->bias[m] = (float)((double)c->bias[m] * mul[m] + add[m]);
    if (c->kind == KIND_DEPTHWISE) {
        size_t khw = (size_t)(c->d.kh * c->d.kw);
        for (size_t m = 0; m < M; m++)
            for (size_t k = 0; k < khw; k++)
                c->wdw[m * khw + k] = (float)((double)c->wdw[m * khw + k] * mul[m]);
        return QSIM_OK;
    }
    /* packed: per group, panels of MR rows over K (rows past Mg stay 0) */
    size_t Mg = (size_t)c->Mg;
    for (size_t m = 0; m < M; m++) {
        size_t g = m / Mg, mg = m % Mg;
        float *wp = c->wpack + g * c->wpack_group + (mg / QSIM__MR) * c->K * QSIM__MR +
                    mg % QSIM__MR;
        for (size_t k = 0; k < c->K; k++)
            wp[k * QSIM__MR] = (float)((double)wp[k * QSIM__MR] * mul[m]);
    }
    return QSIM_OK;
}
