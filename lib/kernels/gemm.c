/* GEMM dispatch and the blocked driver (see gemm_driver.h). The driver is
 * plain C; the arithmetic is in the per-ISA microkernels. */
#include "gemm_driver.h"

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/error.h"

#include <string.h>

#define MC_MAX 144    /* rows per block: 24 MR panels (A block 144 KiB) */
/* A prepacked (conv weights): measured best on this EPYC with KC 256 */
#define MC_MAX_PACKED 132
/* C written in one k-block and at least this big: stored around the
 * caches (it cannot stay in them, and a normal store also reads the line).
 * Above the L3 of common x86 parts (32 MiB): smaller outputs are better
 * left in the cache for the next layer. */
#define STREAM_MIN_BYTES ((size_t)32 << 20)
#define MIN_TASKS 8   /* split finer when a product has fewer blocks */
/* with A prepacked, splitting N costs nothing but re-reading A: finer
 * tasks balance better */
#define MIN_TASKS_PACKED 16

qsim__ukr_fn qsim__gemm_ukr(qsim__ukr_fn *narrow)
{
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2()) {
        *narrow = qsim__k_f32_gemm_6x8__avx2;
        return qsim__k_f32_gemm_6x16__avx2;
    }
#endif
    *narrow = qsim__k_f32_gemm_6x16__generic;
    return qsim__k_f32_gemm_6x16__generic;
}

const qsim__tall_ukr_fn *qsim__gemm_tall_ukr(void)
{
#ifdef QSIM_HAVE_AVX512
    if (qsim__cpu_use_avx512())
        return qsim__k_f32_gemm_tall__avx512;
#endif
    return NULL;
}

const char *qsim__kernels_isa(void)
{
#ifdef QSIM_HAVE_AVX512
    if (qsim__cpu_use_avx512())
        return "avx512";
#endif
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2())
        return "avx2";
#endif
    return "generic";
}

static size_t round_up(size_t x, size_t m) { return (x + m - 1) / m * m; }
static size_t div_up(size_t x, size_t m) { return (x + m - 1) / m; }

int qsim__gemm_plan(qsim__gemm_job *j)
{
    size_t mc_max = j->a_packed ? MC_MAX_PACKED : MC_MAX;
    size_t mc = round_up(j->M < mc_max ? j->M : mc_max, QSIM__MR);
    size_t nc = round_up(j->N < QSIM__NC_MAX ? j->N : QSIM__NC_MAX, QSIM__NR);
    if (mc == 0)
        mc = QSIM__MR;
    if (nc == 0)
        nc = QSIM__NR;
    /* A task covers mt rows (mc is only the cache block inside it) and nc
     * columns: enough tasks to share among threads, decided from the shape
     * alone. Splitting M repacks B per task and splitting N repacks A, so
     * with A prepacked split N first (down to 128 columns: narrower blocks
     * re-stream big weights, e.g. resnet18 layer4 at batch 8, ~5%), else
     * the larger side. */
    size_t mt = round_up(j->M ? j->M : 1, QSIM__MR);
    for (;;) {
        size_t tasks = div_up(j->M, mt) * div_up(j->N, nc) * j->nbatch;
        if (tasks >= (j->a_packed ? MIN_TASKS_PACKED : MIN_TASKS))
            break;
        int split_n = j->a_packed ? nc > 8 * QSIM__NR
                                  : nc > 2 * QSIM__NR && !(mt > 4 * QSIM__MR && mt >= nc / 2);
        if (split_n)
            nc = round_up(nc / 2, QSIM__NR);
        else if (mt > 4 * QSIM__MR)
            mt = round_up(mt / 2, QSIM__MR);
        else if (nc > QSIM__NR)
            nc = round_up(nc / 2, QSIM__NR);
        else if (mt > QSIM__MR)
            mt = round_up(mt / 2, QSIM__MR);
        else
            break;
    }
    /* even blocks: N = 392 in blocks of 64 would leave a last one of 8 */
    if (j->N) {
        nc = round_up(div_up(j->N, div_up(j->N, nc)), QSIM__NR);
        mt = round_up(div_up(j->M ? j->M : 1, div_up(j->M ? j->M : 1, mt)), QSIM__MR);
    }
    if (mc > mt)
        mc = mt;
    j->mc = mc;
    j->mt = mt;
    j->nc = nc;
    j->mblocks = j->M ? div_up(j->M, mt) : 0;
    j->nblocks = j->N ? div_up(j->N, nc) : 0;
    /* the longest of the balanced k-blocks */
    size_t kc = div_up(j->K, qsim__kblocks(j->K));
    size_t a = 0, b = 0, total;
    if (!j->a_packed && !qsim__mul_size(mc, kc, &a))
        return 0;
    a = round_up(a, 16);   /* the B block starts 64-byte aligned */
    j->ws_a_floats = a;
    if (!j->b_packed && !qsim__mul_size(nc, kc, &b))
        return 0;
    if (!qsim__add_size(a, b, &total))
        return 0;
    j->ws_floats = round_up(total, 16);   /* keep each slice 64-byte aligned */
    return 1;
}

size_t qsim__gemm_ws_bytes(const qsim__gemm_job *j, int threads)
{
    size_t n;
    if (!qsim__mul_size(j->ws_floats, (size_t)(threads < 1 ? 1 : threads), &n) ||
        !qsim__mul_size(n, sizeof(float), &n))
        return SIZE_MAX;
    return n;
}

static void gemm_task(void *ctx, size_t task, int thread)
{
    const qsim__gemm_job *j = ctx;
    size_t per = j->mblocks * j->nblocks;
    size_t b = task / per, r = task % per;
    size_t mi = r % j->mblocks, ni = r / j->mblocks;
    size_t mt0 = mi * j->mt, n0 = ni * j->nc;
    size_t mtb = j->M - mt0 < j->mt ? j->M - mt0 : j->mt;
    size_t nb = j->N - n0 < j->nc ? j->N - n0 : j->nc;
    const float *a_packed = j->a_packed, *A = j->A, *bias = j->bias;
    float *C = j->C;
    if (j->bind)
        j->bind(j, b, &a_packed, &A, &C, &bias);
    float *ws = j->ws + (size_t)thread * j->ws_floats;
    float *abuf = ws, *bbuf = ws + j->ws_a_floats;
    qsim__ukr_fn ukr_narrow, ukr_wide = qsim__gemm_ukr(&ukr_narrow);
    const qsim__tall_ukr_fn *tall = qsim__gemm_tall_ukr();
    size_t nkb = qsim__kblocks(j->K);
    size_t npan_n = div_up(nb, QSIM__NR);
    qsim__ukr_out o = {
        .alpha = j->alpha, .beta = j->beta, .act = j->act, .act_a = j->act_a,
        .act_b = j->act_b, .stream = j->stream,
    };
    for (size_t kb = 0; kb < nkb; kb++) {
        size_t k0, kc;
        qsim__kblock(j->K, nkb, kb, &k0, &kc);
        o.first = kb == 0;
        o.last = kb == nkb - 1;
        if (j->pack_b)
            j->pack_b(j, b, k0, kc, n0, nb, bbuf);
        else if (!j->b_packed)
            qsim__pack_b_block(j->transB, j->B, j->ldb, k0, kc, n0, nb, bbuf);
        /* cache blocks of mc rows share the packed B block */
        for (size_t m0 = mt0; m0 < mt0 + mtb; m0 += j->mc) {
            size_t mb = mt0 + mtb - m0 < j->mc ? mt0 + mtb - m0 : j->mc;
            size_t npan_m = div_up(mb, QSIM__MR);
            if (!a_packed) {
                for (size_t ip = 0; ip < npan_m; ip++) {
                    size_t r0 = m0 + ip * QSIM__MR;
                    size_t mr = mb - ip * QSIM__MR < QSIM__MR ? mb - ip * QSIM__MR : QSIM__MR;
                    qsim__pack_a_panel(j->transA, A, j->lda, r0, mr, k0, kc,
                                       abuf + ip * kc * QSIM__MR);
                }
            }
            for (size_t jp = 0; jp < npan_n; jp++) {
                size_t c0 = n0 + jp * QSIM__NR;
                size_t nr = nb - jp * QSIM__NR < QSIM__NR ? nb - jp * QSIM__NR : QSIM__NR;
                float *cbase = C + c0;
                int cross = 0;
                qsim__ukr_fn ukr = nr <= QSIM__NR / 2 ? ukr_narrow : ukr_wide;
                /* tall tiles: columns [0, split) to cbase, [split, nr) to
                 * cnext + split (the next image, when the tile crosses one) */
                size_t split = nr;
                float *cnext = cbase;
                if (j->img_cols) {
                    size_t img = c0 / j->img_cols, pos = c0 % j->img_cols;
                    cbase = C + img * j->img_stride + pos;
                    cross = pos + nr > j->img_cols;
                    split = cross ? j->img_cols - pos : nr;
                    cnext = cross ? C + (img + 1) * j->img_stride - split : cbase;
                }
                const float *bp = j->b_packed ? j->b_packed + (c0 / QSIM__NR) * j->K * QSIM__NR +
                                                    k0 * QSIM__NR
                                              : bbuf + jp * kc * QSIM__NR;
                o.bias_col = bias && !j->bias_per_row ? bias + c0 : NULL;
                size_t ip = 0;
                if (tall && nr - split <= j->img_cols) {
                    /* up to 4 panels at a time, the last partial one too */
                    size_t as = a_packed ? j->K * QSIM__MR : kc * QSIM__MR;
                    for (size_t np; ip < npan_m; ip += np) {
                        np = npan_m - ip < 4 ? npan_m - ip : 4;
                        size_t r0 = m0 + ip * QSIM__MR;
                        size_t rows = mb - ip * QSIM__MR < np * QSIM__MR ? mb - ip * QSIM__MR
                                                                          : np * QSIM__MR;
                        const float *ap = a_packed ? a_packed + (r0 / QSIM__MR) * as +
                                                         k0 * QSIM__MR
                                                   : abuf + ip * as;
                        o.bias_row = bias && j->bias_per_row ? bias + r0 : NULL;
                        tall[np - 1](kc, ap, as, bp, cbase + r0 * j->ldc, cnext + r0 * j->ldc,
                                     split, nr, rows, j->ldc, &o);
                    }
                }
                for (; ip < npan_m; ip++) {
                    size_t r0 = m0 + ip * QSIM__MR;
                    size_t mr = mb - ip * QSIM__MR < QSIM__MR ? mb - ip * QSIM__MR : QSIM__MR;
                    const float *ap = a_packed ? a_packed + (r0 / QSIM__MR) * j->K * QSIM__MR +
                                                     k0 * QSIM__MR
                                               : abuf + ip * kc * QSIM__MR;
                    o.bias_row = bias && j->bias_per_row ? bias + r0 : NULL;
                    if (!cross) {
                        ukr(kc, ap, bp, cbase + r0 * j->ldc, j->ldc, mr, nr, &o);
                        continue;
                    }
                    /* the tile spans images: raw tile, then column by column */
                    float tile[QSIM__MR * QSIM__NR];
                    o.acc_out = tile;
                    ukr(kc, ap, bp, NULL, j->ldc, mr, nr, &o);
                    o.acc_out = NULL;
                    for (size_t jj = 0; jj < nr; jj++) {
                        size_t n = c0 + jj;
                        float *cc = C + (n / j->img_cols) * j->img_stride + n % j->img_cols;
                        qsim__ukr_out oc = o;
                        oc.bias_col = o.bias_col ? o.bias_col + jj : NULL;
                        qsim__ukr_store_tile(tile + jj, cc + r0 * j->ldc, j->ldc, mr, 1, &oc);
                    }
                }
            }
        }
    }
}

static void gemm_task_fenced(void *ctx, size_t task, int thread)
{
    gemm_task(ctx, task, thread);
    /* non-temporal stores are weakly ordered: make them visible before the
     * pool reports the task done */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void qsim__gemm_run(qsim__pool *pool, qsim__gemm_job *j)
{
    size_t tasks = j->mblocks * j->nblocks * j->nbatch, cbytes;
    j->stream = qsim__kblocks(j->K) == 1 && j->beta == 0.0f &&
                qsim__mul_size(j->M, j->N, &cbytes) &&
                qsim__mul_size(cbytes, j->nbatch * sizeof(float), &cbytes) &&
                cbytes >= STREAM_MIN_BYTES;
    qsim__pool_run(pool, tasks, j->stream ? gemm_task_fenced : gemm_task, j);
}

/* ---- public entry points ---- */

struct qsim__packed_b {
    size_t K, N;
    float *data;   /* ceil(N / NR) panels of K * NR floats */
};

static void set_epilogue(qsim__gemm_job *j, const qsim__epilogue *ep)
{
    j->act = ep ? ep->act : QSIM__ACT_NONE;
    j->act_a = ep ? ep->a : 0.0f;
    j->act_b = ep ? ep->b : 0.0f;
}

/* Used when scratch cannot be allocated: slow but correct, same contract. */
static void sgemm_fallback(int transA, int transB, size_t M, size_t N, size_t K, float alpha,
                           const float *A, size_t lda, const float *B, size_t ldb,
                           const float *b_packed, float beta, float *C, size_t ldc,
                           const float *bias, int bias_per_row, const qsim__epilogue *ep)
{
    int act = ep ? ep->act : 0;
    float aa = ep ? ep->a : 0.0f, ab = ep ? ep->b : 0.0f;
    for (size_t i = 0; i < M; i++) {
        for (size_t n = 0; n < N; n++) {
            float s = 0.0f;
            for (size_t k = 0; k < K; k++) {
                float a = transA ? A[k * lda + i] : A[i * lda + k];
                float b = b_packed ? b_packed[(n / QSIM__NR) * K * QSIM__NR + k * QSIM__NR +
                                              n % QSIM__NR]
                                   : transB ? B[n * ldb + k] : B[k * ldb + n];
                s += a * b;
            }
            float v = alpha * s;
            if (beta != 0.0f)
                v += beta * C[i * ldc + n];
            if (bias)
                v += bias_per_row ? bias[i] : bias[n];
            C[i * ldc + n] = qsim__act_apply(v, act, aa, ab);
        }
    }
}

void qsim__sgemm(qsim__pool *pool, int transA, int transB, size_t M, size_t N, size_t K,
                 float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                 float beta, float *C, size_t ldc, const float *bias, int bias_per_row,
                 const qsim__epilogue *ep)
{
    if (M == 0 || N == 0)
        return;
    qsim__gemm_job j = {
        .M = M, .N = N, .K = K, .nbatch = 1, .A = A, .lda = lda, .transA = transA,
        .B = B, .ldb = ldb, .transB = transB, .C = C, .ldc = ldc, .alpha = alpha,
        .beta = beta, .bias = bias, .bias_per_row = bias_per_row,
    };
    set_epilogue(&j, ep);
    size_t bytes = 0;
    if (qsim__gemm_plan(&j))
        bytes = qsim__gemm_ws_bytes(&j, qsim__pool_threads(pool));
    j.ws = bytes && bytes != SIZE_MAX ? qsim__malloc_aligned(bytes) : NULL;
    if (!j.ws) {
        sgemm_fallback(transA, transB, M, N, K, alpha, A, lda, B, ldb, NULL, beta, C, ldc, bias,
                       bias_per_row, ep);
        return;
    }
    qsim__gemm_run(pool, &j);
    qsim__free_aligned(j.ws);
}

qsim_status qsim__pack_b(int transB, size_t K, size_t N, const float *B, size_t ldb,
                         qsim__packed_b **out)
{
    *out = NULL;
    size_t panels = div_up(N, QSIM__NR), floats, bytes;
    if (!qsim__mul_size(panels, K, &floats) || !qsim__mul_size(floats, QSIM__NR, &floats) ||
        !qsim__mul_size(floats, sizeof(float), &bytes))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "gemm: packed weight %zu x %zu is too large",
                          K, N);
    qsim__packed_b *p = qsim__calloc(1, sizeof *p);
    if (!p)
        return qsim__oom();
    p->data = qsim__malloc_aligned(bytes);
    if (!p->data) {
        qsim__free(p);
        return qsim__oom();
    }
    p->K = K;
    p->N = N;
    for (size_t jp = 0; jp < panels; jp++) {
        size_t nr = N - jp * QSIM__NR < QSIM__NR ? N - jp * QSIM__NR : QSIM__NR;
        qsim__pack_b_panel(transB, B, ldb, 0, K, jp * QSIM__NR, nr,
                           p->data + jp * K * QSIM__NR);
    }
    *out = p;
    return QSIM_OK;
}

void qsim__packed_b_free(qsim__packed_b *p)
{
    if (!p)
        return;
    qsim__free_aligned(p->data);
    qsim__free(p);
}

void qsim__sgemm_packed(qsim__pool *pool, int transA, size_t M, const float *A, size_t lda,
                        const qsim__packed_b *B, float *C, size_t ldc, const float *bias,
                        const qsim__epilogue *ep)
{
    if (M == 0 || B->N == 0)
        return;
    qsim__gemm_job j = {
        .M = M, .N = B->N, .K = B->K, .nbatch = 1, .A = A, .lda = lda, .transA = transA,
        .b_packed = B->data, .C = C, .ldc = ldc, .alpha = 1.0f, .beta = 0.0f, .bias = bias,
    };
    set_epilogue(&j, ep);
    size_t bytes = 0;
    if (qsim__gemm_plan(&j))
        bytes = qsim__gemm_ws_bytes(&j, qsim__pool_threads(pool));
    j.ws = bytes && bytes != SIZE_MAX ? qsim__malloc_aligned(bytes) : NULL;
    if (!j.ws) {
        sgemm_fallback(transA, 0, M, B->N, B->K, 1.0f, A, lda, NULL, 0, B->data, 0.0f, C, ldc,
                       bias, 0, ep);
        return;
    }
    qsim__gemm_run(pool, &j);
    qsim__free_aligned(j.ws);
}

/* ---- batched ---- */

typedef struct batch_ctx {
    const float *A, *B;
    float *C;
    size_t strideA, strideB, strideC;
} batch_ctx;

static void batch_bind(const qsim__gemm_job *j, size_t b, const float **a_packed,
                       const float **A, float **C, const float **bias)
{
    const batch_ctx *x = j->bind_ctx;
    *A = x->A + b * x->strideA;
    *C = x->C + b * x->strideC;
    (void)a_packed;
    (void)bias;
}

static void batch_pack_b(const qsim__gemm_job *j, size_t b, size_t k0, size_t kc, size_t n0,
                         size_t nb, float *dst)
{
    const batch_ctx *x = j->pack_ctx;
    qsim__pack_b_block(j->transB, x->B + b * x->strideB, j->ldb, k0, kc, n0, nb, dst);
}

void qsim__sgemm_batch(qsim__pool *pool, size_t batch, int transA, int transB, size_t M,
                       size_t N, size_t K, float alpha, const float *A, size_t lda,
                       size_t strideA, const float *B, size_t ldb, size_t strideB, float beta,
                       float *C, size_t ldc, size_t strideC, const float *bias,
                       int bias_per_row, const qsim__epilogue *ep)
{
    if (batch == 0 || M == 0 || N == 0)
        return;
    batch_ctx x = {A, B, C, strideA, strideB, strideC};
    qsim__gemm_job j = {
        .M = M, .N = N, .K = K, .nbatch = batch, .A = A, .lda = lda, .transA = transA,
        .B = B, .ldb = ldb, .transB = transB, .pack_b = batch_pack_b, .pack_ctx = &x,
        .bind = batch_bind, .bind_ctx = &x, .C = C, .ldc = ldc, .alpha = alpha, .beta = beta,
        .bias = bias, .bias_per_row = bias_per_row,
    };
    set_epilogue(&j, ep);
    size_t bytes = 0;
    if (qsim__gemm_plan(&j))
        bytes = qsim__gemm_ws_bytes(&j, qsim__pool_threads(pool));
    j.ws = bytes && bytes != SIZE_MAX ? qsim__malloc_aligned(bytes) : NULL;
    if (!j.ws) {
        for (size_t i = 0; i < batch; i++)
            sgemm_fallback(transA, transB, M, N, K, alpha, A + i * strideA, lda, B + i * strideB,
                           ldb, NULL, beta, C + i * strideC, ldc, bias, bias_per_row, ep);
        return;
    }
    qsim__gemm_run(pool, &j);
    qsim__free_aligned(j.ws);
}
