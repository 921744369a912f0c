/* AdaRound's per-layer optimisation (SPEC 8.3) with analytic gradients.
 *
 * alpha -> h = clamp(sigmoid(alpha)*(zeta-gamma)+gamma, 0, 1)
 *       -> x = floor(W/delta) + h - offset
 *       -> W' = (clamp(x, 0, 2^bw-1) + offset) * delta
 * loss = recon(W') + [iter >= warm] lambda * sum(1 - |2h-1|^beta).
 * Two ways to get dRecon/dW':
 *  direct: a random minibatch of samples, Yhat = s*X*W'^T + b, act on both
 *          sides, dW' = s * dYhat^T X (AIMET's, needed with an activation);
 *  Gram:   the full-data loss |s*X*W'^T + b - Y|^2 / R through
 *          G = X^T X and C = (Y-b)^T X accumulated once:
 *          dW' = (2/R)(s^2 W' G - s C). Exact, no sampling noise, and far
 *          cheaper when k is small against the minibatch rows.
 * Element-wise work is split into fixed row ranges (thread-count
 * independent), the GEMMs use the packed kernels of lib/kernels/gemm.h. */
#include <math.h>
#include <string.h>
#include <time.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/adaround.h"
#include "../kernels/gemm.h"
#include "layer.h"

#define ZETA 1.1f
#define GAMMA (-0.1f)
#define ROWS_PER_TASK 16

uint64_t qsim__ada_rng_next(qsim__ada_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- element-wise state over Wmat ------------------------------------- */

typedef struct elem_ctx {
    const qsim__ada_layer *L;
    size_t N, k;
    const float *wfloor; /* floor(W/delta) */
    float *alpha, *m, *v, *wsoft;
    float *sig;          /* sigmoid(alpha) */
    const float *grad;   /* dRecon/dW' */
    double *reg_part;    /* per task */
    int with_reg, update;
    float beta, lambda;
    float step_size, bc2_sqrt, b1, b2, eps;
} elem_ctx;

static const qsim__encoding *enc_of(const qsim__ada_layer *L, size_t row)
{
    return &L->enc[row % L->nenc]; /* nenc is 1, N, or n (grouped ConvTranspose) */
}

/* update == 0: compute W' from alpha. update == 1: gradient step from
 * grad (at the W' of the same alpha), then W' again. One fused pass per
 * row (lib/kernels/adaround.h; sigmoid(alpha) is kept between steps). */
static void elem_task(void *vctx, size_t task, int thread)
{
    (void)thread;
    elem_ctx *c = vctx;
    size_t r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK;
    if (r1 > c->N)
        r1 = c->N;
    qsim__ada_step sp;
    sp.zg = ZETA - GAMMA, sp.gamma = GAMMA;
    sp.update = c->update, sp.with_reg = c->update && c->with_reg;
    sp.beta_m1 = c->beta - 1.0f, sp.cd = -c->lambda * c->beta;
    sp.step = c->step_size, sp.bc2s = c->bc2_sqrt, sp.b1 = c->b1, sp.b2 = c->b2;
    sp.omb1 = 1.0f - c->b1, sp.omb2 = 1.0f - c->b2, sp.eps = c->eps;
    double reg = 0.0;
    for (size_t r = r0; r < r1; r++) {
        const qsim__encoding *e = enc_of(c->L, r);
        sp.delta = (float)e->delta, sp.off = (float)e->offset;
        sp.qmax = (float)(ldexp(1.0, e->bw) - 1.0);
        size_t j = r * c->k;
        reg += qsim__ada_step_f32(&sp, c->k, c->wfloor + j, c->update ? c->grad + j : NULL,
                                  c->alpha + j, c->m + j, c->v + j, c->sig + j, c->wsoft + j);
    }
    if (c->reg_part)
        c->reg_part[task] = reg;
}

/* ---- activation -------------------------------------------------------- */

static float act_f(const qsim__ada_act *a, float x, size_t col)
{
    switch (a->kind) {
    case QSIM__ADA_ACT_RELU:
        return x > 0.0f ? x : 0.0f;
    case QSIM__ADA_ACT_CLIP:
        return x < a->a ? a->a : (x > a->b ? a->b : x);
    case QSIM__ADA_ACT_LEAKY:
        return x > 0.0f ? x : a->a * x;
    case QSIM__ADA_ACT_PRELU:
        return x > 0.0f ? x : a->slope[col % a->nslope] * x;
    case QSIM__ADA_ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-x));
    case QSIM__ADA_ACT_TANH:
        return tanhf(x);
    default:
        return x;
    }
}

/* Derivative at x given y = act(x) (torch's backward conventions). */
static float act_d(const qsim__ada_act *a, float x, float y, size_t col)
{
    switch (a->kind) {
    case QSIM__ADA_ACT_RELU:
        return x > 0.0f ? 1.0f : 0.0f;
    case QSIM__ADA_ACT_CLIP:
        return (x >= a->a && x <= a->b) ? 1.0f : 0.0f;
    case QSIM__ADA_ACT_LEAKY:
        return x > 0.0f ? 1.0f : a->a;
    case QSIM__ADA_ACT_PRELU:
        return x > 0.0f ? 1.0f : a->slope[col % a->nslope];
    case QSIM__ADA_ACT_SIGMOID:
        return y * (1.0f - y);
    case QSIM__ADA_ACT_TANH:
        return 1.0f - y * y;
    default:
        return 1.0f;
    }
}

/* Softmax over each row of N (dim 1 of NCHW and of [B, N] outputs). */
static void softmax_row(const float *x, float *y, size_t N)
{
    float mx = x[0], sum = 0.0f;
    for (size_t j = 1; j < N; j++)
        mx = x[j] > mx ? x[j] : mx;
    for (size_t j = 0; j < N; j++) {
        y[j] = expf(x[j] - mx);
        sum += y[j];
    }
    for (size_t j = 0; j < N; j++)
        y[j] /= sum;
}

/* ---- direct formulation: minibatch rows -------------------------------- */

typedef struct batch_ctx {
    const qsim__ada_layer *L;
    const qsim__ada_data *d;
    const size_t *idx;
    float *X, *T; /* [B*P, K], [B*P, N] */
    size_t K, N;
    const float *xrows; /* optional: every sample's rows (the im2col cache) */
} batch_ctx;

static void batch_task(void *vctx, size_t task, int thread)
{
    (void)thread;
    batch_ctx *c = vctx;
    const qsim__ada_view *v = &c->L->view;
    size_t s = c->idx[task], P = v->rows;
    if (c->xrows)
        memcpy(c->X + task * P * c->K, c->xrows + s * P * c->K, P * c->K * sizeof(float));
    else
        qsim__ada_sample_rows(v, c->d->x + s * c->d->xsz, c->X + task * P * c->K);
    const float *y = c->d->y + s * c->d->ysz;
    float *t = c->T + task * P * c->N;
    for (size_t i = 0; i < P * c->N; i++)
        t[i] = c->L->act.kind ? act_f(&c->L->act, y[i], i % c->N) : y[i];
    for (size_t r = 0; c->L->act.kind == QSIM__ADA_ACT_SOFTMAX && r < P; r++)
        softmax_row(t + r * c->N, t + r * c->N, c->N);
}

/* Yhat in place -> dYhat; returns the sum of squared errors. */
typedef struct dy_ctx {
    const qsim__ada_act *act;
    float *Y;
    const float *T;
    size_t rows, N;
    float scale;
    double *part;
} dy_ctx;

/* Softmax rows: y = softmax(x), e = y - T, g = scale*e,
 * dx_i = y_i * (g_i - sum_j g_j y_j); returns the sum of e^2. */
static double dy_softmax_rows(dy_ctx *c, size_t r0, size_t r1)
{
    double acc = 0.0;
    for (size_t r = r0; r < r1; r++) {
        float *x = c->Y + r * c->N;
        const float *t = c->T + r * c->N;
        softmax_row(x, x, c->N);
        float dot = 0.0f;
        for (size_t j = 0; j < c->N; j++) {
            float e = x[j] - t[j];
            acc += (double)e * (double)e;
            dot += c->scale * e * x[j];
        }
        for (size_t j = 0; j < c->N; j++)
            x[j] = x[j] * (c->scale * (x[j] - t[j]) - dot);
    }
    return acc;
}

#define DY_ROWS 64
static void dy_task(void *vctx, size_t task, int thread)
{
    (void)thread;
    dy_ctx *c = vctx;
    size_t r0 = task * DY_ROWS, r1 = r0 + DY_ROWS;
    if (r1 > c->rows)
        r1 = c->rows;
    if (c->act->kind == QSIM__ADA_ACT_SOFTMAX) {
        c->part[task] = dy_softmax_rows(c, r0, r1);
        return;
    }
    double acc = 0.0;
    for (size_t i = r0 * c->N; i < r1 * c->N; i++) {
        size_t col = i % c->N;
        float x = c->Y[i];
        float y = c->act->kind ? act_f(c->act, x, col) : x;
        float e = y - c->T[i];
        acc += (double)e * (double)e;
        float g = c->scale * e;
        c->Y[i] = c->act->kind ? g * act_d(c->act, x, y, col) : g;
    }
    c->part[task] = acc;
}

/* ---- Gram accumulation ------------------------------------------------- */

static qsim_status gram_build(qsim__pool *pool, const qsim__ada_layer *L, const qsim__ada_data *d,
                              float *G, float *C, double *yy)
{
    const qsim__ada_view *v = &L->view;
    size_t N = v->groups * v->n, K = v->groups * v->k, P = v->rows;
    size_t chunk = (size_t)1 << 22; /* floats of X per chunk */
    size_t per = (P * K) > 0 ? chunk / (P * K) : 1;
    if (per < 1)
        per = 1;
    if (per > d->count)
        per = d->count;
    size_t xn, tn;
    if (!qsim__mul_size(per * P, K, &xn) || !qsim__mul_size(per * P, N, &tn))
        return qsim__fail(QSIM_ERR_OUT_OF_MEMORY, "adaround: Gram chunk too large");
    float *X = qsim__malloc_array(xn, sizeof *X);
    float *T = qsim__malloc_array(tn, sizeof *T);
    size_t *idx = qsim__malloc_array(per, sizeof *idx);
    if (!X || !T || !idx) {
        qsim__free(X);
        qsim__free(T);
        qsim__free(idx);
        return qsim__oom();
    }
    qsim__ada_layer plain = *L;
    plain.act.kind = QSIM__ADA_ACT_NONE;
    double acc = 0.0;
    for (size_t s0 = 0; s0 < d->count; s0 += per) {
        size_t nb = d->count - s0 < per ? d->count - s0 : per;
        for (size_t i = 0; i < nb; i++)
            idx[i] = s0 + i;
        batch_ctx bc = {&plain, d, idx, X, T, K, N, NULL};
        qsim__pool_run(pool, nb, batch_task, &bc);
        size_t R = nb * P;
        for (size_t i = 0; i < R; i++)
            for (size_t j = 0; j < N; j++) {
                float t = T[i * N + j] - (L->bias ? L->bias[j] : 0.0f);
                T[i * N + j] = t;
                acc += (double)t * (double)t;
            }
        float beta = s0 ? 1.0f : 0.0f;
        for (size_t g = 0; g < v->groups; g++) {
            /* G_g += X_g^T X_g ; C_g += T_g^T X_g */
            qsim__sgemm(pool, 1, 0, v->k, v->k, R, 1.0f, X + g * v->k, K, X + g * v->k, K, beta,
                        G + g * v->k * v->k, v->k, NULL, 0, NULL);
            qsim__sgemm(pool, 1, 0, v->n, v->k, R, 1.0f, T + g * v->n, N, X + g * v->k, K, beta,
                        C + g * v->n * v->k, v->k, NULL, 0, NULL);
        }
    }
    *yy = acc;
    qsim__free(X);
    qsim__free(T);
    qsim__free(idx);
    return QSIM_OK;
}

/* ---- step helpers -------------------------------------------------------- */

/* im2col rows of every cached sample, built once for the direct steps when
 * they fit QSIM__ADA_XCACHE_BYTES (layer.h): a step then copies contiguous
 * rows instead of gathering patches. */
typedef struct xcache_ctx {
    const qsim__ada_view *v;
    const qsim__ada_data *d;
    float *rows;
    size_t per; /* floats per sample: P*K */
} xcache_ctx;

static void xcache_task(void *vctx, size_t task, int thread)
{
    (void)thread;
    xcache_ctx *c = vctx;
    qsim__ada_sample_rows(c->v, c->d->x + task * c->d->xsz, c->rows + task * c->per);
}

static float *xcache_build(qsim__pool *pool, const qsim__ada_view *v, const qsim__ada_data *d)
{
    size_t per, all, bytes;
    if (v->kind != QSIM__ADA_CONV || !qsim__mul_size(v->rows, v->groups * v->k, &per) ||
        !qsim__mul_size(per, d->count, &all) || !qsim__mul_size(all, sizeof(float), &bytes) ||
        bytes > QSIM__ADA_XCACHE_BYTES)
        return NULL;
    float *rows = qsim__malloc_array(all, sizeof(float));
    if (!rows) /* only a speed-up: go on without it */
        return NULL;
    xcache_ctx c = {v, d, rows, per};
    qsim__pool_run(pool, d->count, xcache_task, &c);
    return rows;
}

/* G packed once for the Gram steps' W' * G (one group; grouped layers run
 * all groups as one batched product instead). */
static qsim_status gram_pack(const qsim__ada_view *v, const float *G, qsim__packed_b **gp)
{
    if (v->groups == 1)
        QSIM__TRY(qsim__pack_b(0, v->k, v->k, G, v->k, &gp[0]));
    return QSIM_OK;
}

/* M_g = W'_g G_g for every group. */
static void gram_product(qsim__pool *pool, const qsim__ada_view *v, const float *wsoft,
                         const float *G, qsim__packed_b *const *gp, float *M)
{
    size_t n = v->n, k = v->k;
    if (v->groups == 1)
        qsim__sgemm_packed(pool, 0, n, wsoft, k, gp[0], M, k, NULL, NULL);
    else
        qsim__sgemm_batch(pool, v->groups, 0, 0, n, k, k, 1.0f, wsoft, k, n * k, G, k, k * k, 0.0f,
                          M, k, n * k, NULL, 0, NULL);
}

/* ---- driver ------------------------------------------------------------ */

static qsim_status check_layer(const qsim__ada_layer *L, const qsim__ada_data *d)
{
    const qsim__ada_view *v = &L->view;
    size_t N = v->groups * v->n;
    if (!d || !d->count)
        return qsim__fail(QSIM_ERR_STATE, "adaround: no cached samples for the layer");
    int per_group = v->wlayout == QSIM__ADA_W_CONVT && L->nenc == v->n;
    if (!L->enc || (L->nenc != 1 && L->nenc != N && !per_group))
        return qsim__fail(QSIM_ERR_SHAPE, "adaround: %zu encodings for %zu output channels",
                          L->nenc, N);
    for (size_t i = 0; i < L->nenc; i++) {
        const qsim__encoding *e = &L->enc[i];
        if (!(e->delta > 0) || !isfinite(e->delta) || e->bw < QSIM__ENC_MIN_BW ||
            e->bw > QSIM__ENC_MAX_BW)
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "adaround: encoding %zu has delta %g, bitwidth %d", i, e->delta,
                              e->bw);
    }
    if (L->act.kind == QSIM__ADA_ACT_PRELU && (!L->act.slope || !L->act.nslope))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "adaround: PRelu without slopes");
    return QSIM_OK;
}

qsim_status qsim__ada_optimize(qsim__pool *pool, const qsim__ada_layer *L, const qsim__ada_data *d,
                               const qsim_adaround_params *p, float *wmat, uint8_t *up,
                               qsim__ada_result *res, qsim__ada_progress prog, void *prog_ctx)
{
    QSIM__TRY(check_layer(L, d));
    double t0 = now_s();
    const qsim__ada_view *v = &L->view;
    size_t N = v->groups * v->n, K = v->groups * v->k, k = v->k, n = v->n, P = v->rows;
    size_t nw = N * k;
    size_t B = (size_t)p->batch_size < d->count ? (size_t)p->batch_size : d->count;
    size_t BP = B * P;

    /* Per iteration GEMM FLOPs of each formulation. */
    double f_direct = 4.0 * (double)BP * (double)k * (double)N;
    double f_gram = 2.0 * (double)N * (double)k * (double)k;
    int form = (int)p->formulation;
    if (L->act.kind != QSIM__ADA_ACT_NONE)
        form = QSIM__ADA_FORM_DIRECT;
    else if (form == QSIM__ADA_FORM_AUTO)
        form = f_gram < f_direct ? QSIM__ADA_FORM_GRAM : QSIM__ADA_FORM_DIRECT;

    qsim_status st = QSIM_OK;
    float *alpha = qsim__calloc(nw, sizeof(float));
    float *mom = qsim__calloc(nw, sizeof(float));
    float *vel = qsim__calloc(nw, sizeof(float));
    float *wfl = qsim__malloc_array(nw, sizeof(float));
    float *wsoft = qsim__malloc_array(nw, sizeof(float));
    float *sig = qsim__malloc_array(nw, sizeof(float));
    float *grad = qsim__malloc_array(nw, sizeof(float));
    size_t ntask = (N + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    double *reg_part = qsim__calloc(ntask, sizeof(double));
    float *X = NULL, *T = NULL, *Y = NULL, *G = NULL, *C = NULL, *M = NULL, *gpart = NULL;
    size_t *perm = NULL;
    double *dy_part = NULL;
    size_t ndy = 0;
    double yy = 0.0;
    float *xrows = NULL;         /* direct: im2col cache */
    qsim__packed_b **gp = NULL;  /* Gram: G packed */
    if (!alpha || !mom || !vel || !wfl || !wsoft || !sig || !grad || !reg_part) {
        st = qsim__oom();
        goto out;
    }
    if (form == QSIM__ADA_FORM_GRAM) {
        size_t gn;
        if (!qsim__mul_size(v->groups * k, k, &gn)) {
            st = qsim__fail(QSIM_ERR_OUT_OF_MEMORY, "adaround: Gram matrix too large");
            goto out;
        }
        G = qsim__malloc_array(gn, sizeof *G);
        C = qsim__malloc_array(nw, sizeof *C);
        M = qsim__malloc_array(nw, sizeof *M);
        if (!G || !C || !M) {
            st = qsim__oom();
            goto out;
        }
        st = gram_build(pool, L, d, G, C, &yy);
        if (st != QSIM_OK)
            goto out;
        if (!(gp = qsim__calloc(v->groups, sizeof *gp))) {
            st = qsim__oom();
            goto out;
        }
        if ((st = gram_pack(v, G, gp)) != QSIM_OK)
            goto out;
    } else {
        size_t xn, tn;
        if (!qsim__mul_size(BP, K, &xn) || !qsim__mul_size(BP, N, &tn)) {
            st = qsim__fail(QSIM_ERR_OUT_OF_MEMORY, "adaround: minibatch too large");
            goto out;
        }
        ndy = (BP + DY_ROWS - 1) / DY_ROWS;
        X = qsim__malloc_array(xn, sizeof *X);
        T = qsim__malloc_array(tn, sizeof *T);
        Y = qsim__malloc_array(tn, sizeof *Y);
        perm = qsim__malloc_array(d->count, sizeof *perm);
        dy_part = qsim__calloc(ndy, sizeof *dy_part);
        size_t gn;
        if (qsim__ada_gs_applies(v) && qsim__mul_size(qsim__ada_gs_tasks(BP), nw, &gn) &&
            !(gpart = qsim__malloc_array(gn, sizeof *gpart))) {
            st = qsim__oom();
            goto out;
        }
        if (!X || !T || !Y || !perm || !dy_part) {
            st = qsim__oom();
            goto out;
        }
        for (size_t i = 0; i < d->count; i++)
            perm[i] = i;
        xrows = xcache_build(pool, v, d);
    }

    /* alpha so that h(alpha) = W/delta - floor(W/delta). */
    for (size_t r = 0; r < N; r++) {
        const qsim__encoding *e = enc_of(L, r);
        float delta = (float)e->delta;
        for (size_t j = r * k; j < (r + 1) * k; j++) {
            float q = wmat[j] / delta;
            float fl = floorf(q);
            float rr = q - fl;
            wfl[j] = fl;
            alpha[j] = -logf((ZETA - GAMMA) / (rr - GAMMA) - 1.0f);
            sig[j] = 1.0f / (1.0f + expf(-alpha[j]));
        }
    }

    elem_ctx ec = {0};
    ec.L = L, ec.N = N, ec.k = k, ec.wfloor = wfl, ec.alpha = alpha, ec.m = mom, ec.v = vel;
    ec.wsoft = wsoft, ec.sig = sig, ec.grad = grad, ec.lambda = (float)p->reg_param;
    ec.b1 = 0.9f, ec.b2 = 0.999f, ec.eps = 1e-8f;
    ec.update = 0;
    qsim__pool_run(pool, ntask, elem_task, &ec);

    double t_setup = now_s() - t0;
    qsim__ada_rng rng = {(uint64_t)p->seed};
    int64_t iters = p->num_iterations;
    double warm = p->warm_start * (double)iters;
    double R_gram = (double)d->count * v->norm;
    for (int64_t it = 0; it < iters; it++) {
        double recon;
        if (form == QSIM__ADA_FORM_GRAM) {
            float s = L->out_scale;
            gram_product(pool, v, wsoft, G, gp, M);
            double q = 0.0, l = 0.0;
            float c2 = (float)(2.0 / R_gram);
            for (size_t i = 0; i < nw; i++) {
                q += (double)wsoft[i] * (double)M[i];
                l += (double)wsoft[i] * (double)C[i];
                grad[i] = c2 * (s * s * M[i] - s * C[i]);
            }
            recon = ((double)s * s * q - 2.0 * s * l + yy) / R_gram;
        } else {
            size_t S = d->count;
            if (S > B) {
                for (size_t i = 0; i < B; i++) {
                    size_t j = i + (size_t)(qsim__ada_rng_next(&rng) % (uint64_t)(S - i));
                    size_t t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
            }
            batch_ctx bc = {L, d, perm, X, T, K, N, xrows};
            qsim__pool_run(pool, B, batch_task, &bc);
            if (gpart)
                qsim__ada_gs_forward(pool, v, L->out_scale, X, wsoft, L->bias, Y, BP);
            else
                for (size_t g = 0; g < v->groups; g++)
                    qsim__sgemm(pool, 0, 1, BP, n, k, L->out_scale, X + g * k, K,
                                wsoft + g * n * k, k, 0.0f, Y + g * n, N,
                                L->bias ? L->bias + g * n : NULL, 0, NULL);
            double R = (double)B * v->norm;
            dy_ctx dc = {&L->act, Y, T, BP, N, (float)(2.0 / R), dy_part};
            qsim__pool_run(pool, ndy, dy_task, &dc);
            double sse = 0.0;
            for (size_t i = 0; i < ndy; i++)
                sse += dy_part[i];
            recon = sse / R;
            if (gpart)
                qsim__ada_gs_backward(pool, v, L->out_scale, Y, X, grad, BP, gpart);
            else
                for (size_t g = 0; g < v->groups; g++)
                    qsim__sgemm(pool, 1, 0, n, k, BP, L->out_scale, Y + g * n, N, X + g * k, K,
                                0.0f, grad + g * n * k, k, NULL, 0, NULL);
        }
        ec.with_reg = (double)it >= warm && p->reg_param > 0.0;
        if (ec.with_reg) {
            double rel = ((double)it - warm) / ((double)iters - warm);
            ec.beta = (float)(p->beta_end + 0.5 * (p->beta_start - p->beta_end) *
                                                (1.0 + cos(rel * 3.14159265358979323846)));
        }
        double t = (double)(it + 1);
        double bc1 = 1.0 - pow(0.9, t), bc2 = 1.0 - pow(0.999, t);
        ec.step_size = (float)(p->lr / bc1);
        ec.bc2_sqrt = (float)sqrt(bc2);
        ec.update = 1;
        ec.reg_part = reg_part;
        qsim__pool_run(pool, ntask, elem_task, &ec);
        double reg = 0.0;
        if (ec.with_reg)
            for (size_t i = 0; i < ntask; i++)
                reg += reg_part[i];
        if (res && res->recon_trace)
            res->recon_trace[it] = (float)recon;
        if (res && res->round_trace)
            res->round_trace[it] = (float)(p->reg_param * reg);
        if (prog && ((it + 1) % 100 == 0 || it + 1 == iters))
            prog(prog_ctx, (uint64_t)(it + 1), (uint64_t)iters);
    }

    /* Hard rounding: up iff alpha >= 0 (h >= 0.5), clamped to the grid. */
    for (size_t r = 0; r < N; r++) {
        const qsim__encoding *e = enc_of(L, r);
        double delta = e->delta, off = (double)e->offset;
        double qmax = ldexp(1.0, e->bw) - 1.0;
        for (size_t j = r * k; j < (r + 1) * k; j++) {
            int u = alpha[j] >= 0.0f;
            double q = (double)wfl[j] + u - off;
            q = q < 0.0 ? 0.0 : (q > qmax ? qmax : q);
            wmat[j] = (float)((q + off) * delta);
            if (up)
                up[j] = (uint8_t)u;
        }
    }
    if (res) {
        res->formulation = form;
        res->flops_iter = form == QSIM__ADA_FORM_GRAM ? f_gram : f_direct;
        res->seconds = now_s() - t0;
        res->setup_seconds = t_setup;
    }
out:
    qsim__free(alpha);
    qsim__free(mom);
    qsim__free(vel);
    qsim__free(wfl);
    qsim__free(wsoft);
    qsim__free(sig);
    qsim__free(grad);
    qsim__free(reg_part);
    qsim__free(X);
    qsim__free(T);
    qsim__free(Y);
    qsim__free(G);
    qsim__free(xrows);
    for (size_t g = 0; gp && g < v->groups; g++)
        qsim__packed_b_free(gp[g]);
    qsim__free(gp);
    qsim__free(C);
    qsim__free(M);
    qsim__free(perm);
    qsim__free(dy_part);
    qsim__free(gpart);
    return st;
}
