/* Op family 'gemm': Gemm and MatMul on lib/kernels/gemm.h. A constant
 * right-hand side is packed once at init. */
#include "op.h"

#include "oputil.h"
#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/gemm.h"

#include <inttypes.h>
#include <string.h>

typedef struct gemm_state {
    qsim__packed_b *packed;  /* constant B, packed with the node's transB */
    int64_t K, N;            /* the shape it was packed for */
} gemm_state;

static void gemm_free_state(void *st)
{
    gemm_state *s = st;
    if (!s)
        return;
    qsim__packed_b_free(s->packed);
    qsim__free(s);
}

/* Packs a constant 2-D B (as [K,N] after transB). */
static qsim_status pack_const_b(const qsim__node *n, const qsim__tview *b, int transB,
                                gemm_state **state)
{
    *state = NULL;
    if (!b->data || b->dtype != QSIM__DT_FLOAT || b->shape.rank != 2 || b->numel == 0)
        return QSIM_OK;
    gemm_state *s = qsim__calloc(1, sizeof *s);
    if (!s)
        return qsim__oom();
    s->K = b->shape.dims[transB ? 1 : 0];
    s->N = b->shape.dims[transB ? 0 : 1];
    qsim_status st = qsim__pack_b(transB, (size_t)s->K, (size_t)s->N, b->data,
                                  (size_t)b->shape.dims[1], &s->packed);
    if (st != QSIM_OK) {
        qsim__free(s);
        return qsim__fail_prefix(st, "%s: ", qsim__node_label(n));
    }
    *state = s;
    return QSIM_OK;
}

/* ---- Gemm ---------------------------------------------------------------- */

typedef struct gemm_attrs {
    float alpha, beta;
    int64_t transA, transB;
} gemm_attrs;

static qsim_status gemm_read(const qsim__node *n, gemm_attrs *a)
{
    QSIM__TRY(qsim__attr_float(n, "alpha", 1.0f, &a->alpha));
    QSIM__TRY(qsim__attr_float(n, "beta", 1.0f, &a->beta));
    QSIM__TRY(qsim__attr_int(n, "transA", 0, &a->transA));
    QSIM__TRY(qsim__attr_int(n, "transB", 0, &a->transB));
    if ((a->transA != 0 && a->transA != 1) || (a->transB != 0 && a->transB != 1))
        return qsim__fail(QSIM_ERR_PARSE, "%s: transA/transB must be 0 or 1",
                          qsim__node_label(n));
    return QSIM_OK;
}

/* How C broadcasts to [M,N]: row stride and column stride (0 = repeated). */
typedef struct cbcast {
    int present;
    size_t rs, cs;
} cbcast;

static qsim_status gemm_plan(const qsim__node *n, const gemm_attrs *a, const qsim__tview *in,
                             size_t n_in, size_t *M, size_t *N, size_t *K, cbcast *cb)
{
    const qsim__tview *A = &in[0], *B = &in[1];
    QSIM__TRY(qsim__check_float(n, A, "input A"));
    QSIM__TRY(qsim__check_float(n, B, "input B"));
    if (A->shape.rank != 2 || B->shape.rank != 2)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: A %s and B %s must both have rank 2",
                          qsim__node_label(n), qsim__vshape(A), qsim__vshape(B));
    int64_t m = A->shape.dims[a->transA ? 1 : 0], k = A->shape.dims[a->transA ? 0 : 1];
    int64_t kb = B->shape.dims[a->transB ? 1 : 0], nn = B->shape.dims[a->transB ? 0 : 1];
    if (k != kb)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: A %s and B %s do not match (transA=%" PRId64
                          ", transB=%" PRId64 ")", qsim__node_label(n), qsim__vshape(A),
                          qsim__vshape(B), a->transA, a->transB);
    *M = (size_t)m;
    *N = (size_t)nn;
    *K = (size_t)k;
    memset(cb, 0, sizeof *cb);
    if (qsim__in_present(in, n_in, 2)) {
        const qsim__tview *C = &in[2];
        QSIM__TRY(qsim__check_float(n, C, "input C"));
        int64_t cm = 1, cn = 1;
        if (C->shape.rank == 1) {
            cn = C->shape.dims[0];
        } else if (C->shape.rank == 2) {
            cm = C->shape.dims[0];
            cn = C->shape.dims[1];
        } else if (C->shape.rank != 0) {
            return qsim__fail(QSIM_ERR_SHAPE, "%s: C %s does not broadcast to [%" PRId64
                              ",%" PRId64 "]", qsim__node_label(n), qsim__vshape(C), m, nn);
        }
        if ((cm != 1 && cm != m) || (cn != 1 && cn != nn))
            return qsim__fail(QSIM_ERR_SHAPE, "%s: C %s does not broadcast to [%" PRId64
                              ",%" PRId64 "]", qsim__node_label(n), qsim__vshape(C), m, nn);
        cb->present = 1;
        cb->cs = cn == 1 ? 0 : 1;
        cb->rs = cm == 1 ? 0 : (size_t)cn;
    }
    return QSIM_OK;
}

static qsim_status gemm_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    QSIM__TRY(qsim__check_n_in(n, n_in, n->opset >= 11 ? 2 : 3, 3));
    QSIM__TRY(qsim__no_extra_outputs(n, 1));
    gemm_attrs a;
    QSIM__TRY(gemm_read(n, &a));
    return pack_const_b(n, &in[1], (int)a.transB, (gemm_state **)state);
}

/* The packed path: alpha == 1 and C (if any) one value per column. */
static int gemm_use_packed(const gemm_state *s, const gemm_attrs *a, const qsim__tview *in,
                           size_t K, size_t N, const cbcast *cb)
{
    return s && in[1].data && (size_t)s->K == K && (size_t)s->N == N && a->alpha == 1.0f &&
           (!cb->present || cb->rs == 0);
}

static qsim_status gemm_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                              qsim__tview *out, size_t n_out, size_t *workspace)
{
    gemm_attrs a;
    size_t M, N, K;
    cbcast cb;
    QSIM__TRY(gemm_read(n, &a));
    QSIM__TRY(gemm_plan(n, &a, in, n_in, &M, &N, &K, &cb));
    qsim__shape os = {2, {(int64_t)M, (int64_t)N}};
    QSIM__TRY(qsim__set_out(n, &out[0], QSIM__DT_FLOAT, &os));
    /* the packed path folds beta*C into a per-column bias */
    *workspace = gemm_use_packed(state, &a, in, K, N, &cb) && cb.present ? N * sizeof(float) : 0;
    (void)n_out;
    return QSIM_OK;
}

static qsim_status gemm_run(void *state, const qsim__node *n, const qsim__exec *ex,
                            const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    gemm_state *s = state;
    gemm_attrs a;
    size_t M, N, K;
    cbcast cb;
    QSIM__TRY(gemm_read(n, &a));
    QSIM__TRY(gemm_plan(n, &a, in, n_in, &M, &N, &K, &cb));
    const float *A = in[0].data, *B = in[1].data, *C = cb.present ? in[2].data : NULL;
    float *Y = out[0].data;
    size_t lda = (size_t)in[0].shape.dims[1];
    if (M == 0 || N == 0)
        return QSIM_OK;
    if (gemm_use_packed(s, &a, in, K, N, &cb)) {
        float *bias = NULL;
        if (cb.present) {
            bias = ex->workspace;
            for (size_t j = 0; j < N; j++)
                bias[j] = a.beta * C[j * cb.cs];
        }
        qsim__sgemm_packed(ex->pool, (int)a.transA, M, A, lda, s->packed, Y, N, bias, NULL);
        return QSIM_OK;
    }
    float beta = 0.0f;
    if (cb.present && a.beta != 0.0f) {
        for (size_t i = 0; i < M; i++)
            for (size_t j = 0; j < N; j++)
                Y[i * N + j] = C[i * cb.rs + j * cb.cs];
        beta = a.beta;
    }
    qsim__sgemm(ex->pool, (int)a.transA, (int)a.transB, M, N, K, a.alpha, A, lda, B,
                (size_t)in[1].shape.dims[1], beta, Y, N, NULL, 0, NULL);
    (void)n_out;
    return QSIM_OK;
}

static const qsim__op_desc gemm_op = {"Gemm", 0, gemm_init, gemm_infer, gemm_run,
                                      gemm_free_state};

/* ---- MatMul -------------------------------------------------------------- */

typedef struct mm_plan {
    size_t M, N, K, batch;
    int bat_rank;                           /* broadcast batch rank */
    int64_t bat[QSIM__MAX_RANK];            /* broadcast batch dims */
    size_t astr[QSIM__MAX_RANK], bstr[QSIM__MAX_RANK]; /* batch strides (0 = broadcast) */
    int a_flat;                             /* A's batches are contiguous rows over one B */
} mm_plan;

static qsim_status mm_plan_make(const qsim__node *n, const qsim__tview *in, mm_plan *p,
                                qsim__shape *os)
{
    const qsim__tview *A = &in[0], *B = &in[1];
    QSIM__TRY(qsim__check_float(n, A, "input A"));
    QSIM__TRY(qsim__check_float(n, B, "input B"));
    int ra = A->shape.rank, rb = B->shape.rank;
    if (ra < 1 || rb < 1)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: A %s and B %s must have rank >= 1",
                          qsim__node_label(n), qsim__vshape(A), qsim__vshape(B));
    /* 1-D operands are promoted: A [K] -> [1,K], B [K] -> [K,1]. */
    int64_t M = ra == 1 ? 1 : A->shape.dims[ra - 2], K = A->shape.dims[ra - 1];
    int64_t KB = rb == 1 ? B->shape.dims[0] : B->shape.dims[rb - 2];
    int64_t N = rb == 1 ? 1 : B->shape.dims[rb - 1];
    if (K != KB)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: A %s and B %s: inner dimensions differ",
                          qsim__node_label(n), qsim__vshape(A), qsim__vshape(B));
    int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0;
    int br = ba > bb ? ba : bb;
    memset(p, 0, sizeof *p);
    p->M = (size_t)M;
    p->N = (size_t)N;
    p->K = (size_t)K;
    p->bat_rank = br;
    size_t sa = (size_t)M * (size_t)K, sb = (size_t)K * (size_t)N;
    p->batch = 1;
    for (int i = br - 1; i >= 0; i--) {
        int ia = i - (br - ba), ib = i - (br - bb);
        int64_t da = ia >= 0 ? A->shape.dims[ia] : 1, db = ib >= 0 ? B->shape.dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: A %s and B %s: batch dimensions do not "
                              "broadcast", qsim__node_label(n), qsim__vshape(A), qsim__vshape(B));
        p->bat[i] = da > db ? da : db;
        if (da == 0 || db == 0)
            p->bat[i] = 0;
        p->astr[i] = da == 1 ? 0 : sa;
        p->bstr[i] = db == 1 ? 0 : sb;
        sa *= (size_t)da;
        sb *= (size_t)db;
        p->batch *= (size_t)p->bat[i];
    }
    /* B broadcast over every batch and A dense: one [batch*M, K] product */
    p->a_flat = 1;
    for (int i = 0; i < br; i++)
        if (p->bstr[i] != 0 || (p->astr[i] == 0 && p->bat[i] != 1))
            p->a_flat = 0;
    int r = 0;
    for (int i = 0; i < br; i++)
        os->dims[r++] = p->bat[i];
    if (ra > 1)
        os->dims[r++] = M;
    if (rb > 1)
        os->dims[r++] = N;
    os->rank = r;
    return QSIM_OK;
}

static qsim_status mm_init(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state)
{
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 2));
    QSIM__TRY(qsim__no_extra_outputs(n, 1));
    return pack_const_b(n, &in[1], 0, (gemm_state **)state);
}

static qsim_status mm_infer(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                            qsim__tview *out, size_t n_out, size_t *workspace)
{
    mm_plan p;
    qsim__shape os;
    QSIM__TRY(qsim__check_n_in(n, n_in, 2, 2));
    QSIM__TRY(mm_plan_make(n, in, &p, &os));
    QSIM__TRY(qsim__set_out(n, &out[0], QSIM__DT_FLOAT, &os));
    *workspace = 0;
    (void)state;
    (void)n_out;
    return QSIM_OK;
}

static qsim_status mm_run(void *state, const qsim__node *n, const qsim__exec *ex,
                          const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out)
{
    gemm_state *s = state;
    mm_plan p;
    qsim__shape os;
    QSIM__TRY(mm_plan_make(n, in, &p, &os));
    const float *A = in[0].data, *B = in[1].data;
    float *Y = out[0].data;
    size_t M = p.M, N = p.N, K = p.K;
    if (out[0].numel == 0)
        return QSIM_OK;
    if (K == 0) {
        memset(Y, 0, out[0].numel * sizeof(float));
        return QSIM_OK;
    }
    if (p.a_flat) {
        size_t rows = M * p.batch;
        if (s && in[1].data && in[1].shape.rank == 2 && (size_t)s->K == K && (size_t)s->N == N)
            qsim__sgemm_packed(ex->pool, 0, rows, A, K, s->packed, Y, N, NULL, NULL);
        else
            qsim__sgemm(ex->pool, 0, 0, rows, N, K, 1.0f, A, K, B, N, 0.0f, Y, N, NULL, 0, NULL);
        return QSIM_OK;
    }
    size_t idx[QSIM__MAX_RANK] = {0};
    for (size_t b = 0; b < p.batch; b++) {
        size_t oa = 0, ob = 0;
        for (int i = 0; i < p.bat_rank; i++) {
            oa += idx[i] * p.astr[i];
            ob += idx[i] * p.bstr[i];
        }
        qsim__sgemm(ex->pool, 0, 0, M, N, K, 1.0f, A + oa, K, B + ob, N, 0.0f, Y + b * M * N, N,
                    NULL, 0, NULL);
        for (int i = p.bat_rank - 1; i >= 0; i--) {
            if (++idx[i] < (size_t)p.bat[i])
                break;
            idx[i] = 0;
        }
    }
    (void)n_in;
    (void)n_out;
    return QSIM_OK;
}

static const qsim__op_desc matmul_op = {"MatMul", 0, mm_init, mm_infer, mm_run, gemm_free_state};

const qsim__op_desc *const qsim__ops_gemm[] = {&gemm_op, &matmul_op, NULL};
