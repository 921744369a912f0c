/* The direct formulation's two products for grouped layers whose groups
 * are tiny (depthwise: n = 1 output, k = kh*kw inputs per group). Calling
 * the packed GEMM once per group costs a pack and a thread dispatch per
 * group for a few hundred FLOPs each; here one pass over the rows does all
 * groups. Rows are split into a fixed number of tasks (independent of the
 * thread count) and the weight gradient is reduced over the tasks in task
 * order, so results do not depend on the threads. */
#include "layer.h"

#define GS_MIN_ROWS 128
#define GS_MAX_TASKS 64

size_t qsim__ada_gs_tasks(size_t rows)
{
    size_t t = (rows + GS_MIN_ROWS - 1) / GS_MIN_ROWS;
    if (t > GS_MAX_TASKS)
        t = GS_MAX_TASKS;
    return t ? t : 1;
}

int qsim__ada_gs_applies(const qsim__ada_view *v)
{
    return v->groups > 1 && v->n * v->k <= 64;
}

typedef struct gs_ctx {
    const qsim__ada_view *v;
    float s;
    const float *X, *W, *bias;
    float *Y; /* forward: out; backward: dY in */
    float *part;
    size_t rows, ntask;
} gs_ctx;

static void span(const gs_ctx *c, size_t task, size_t *r0, size_t *r1)
{
    size_t per = (c->rows + c->ntask - 1) / c->ntask;
    *r0 = task * per;
    *r1 = *r0 + per < c->rows ? *r0 + per : c->rows;
    if (*r0 > *r1)
        *r0 = *r1;
}

static void fwd_task(void *vc, size_t task, int thread)
{
    (void)thread;
    const gs_ctx *c = vc;
    size_t G = c->v->groups, n = c->v->n, k = c->v->k, N = G * n, K = G * k, r0, r1;
    span(c, task, &r0, &r1);
    for (size_t r = r0; r < r1; r++) {
        const float *x = c->X + r * K;
        float *y = c->Y + r * N;
        for (size_t g = 0; g < G; g++) {
            const float *xg = x + g * k;
            for (size_t i = 0; i < n; i++) {
                const float *w = c->W + (g * n + i) * k;
                float acc = 0.0f;
                for (size_t j = 0; j < k; j++)
                    acc += xg[j] * w[j];
                size_t col = g * n + i;
                y[col] = c->s * acc + (c->bias ? c->bias[col] : 0.0f);
            }
        }
    }
}

static void bwd_task(void *vc, size_t task, int thread)
{
    (void)thread;
    const gs_ctx *c = vc;
    size_t G = c->v->groups, n = c->v->n, k = c->v->k, N = G * n, K = G * k, r0, r1;
    span(c, task, &r0, &r1);
    float *p = c->part + task * N * k;
    for (size_t i = 0; i < N * k; i++)
        p[i] = 0.0f;
    for (size_t r = r0; r < r1; r++) {
        const float *x = c->X + r * K;
        const float *dy = c->Y + r * N;
        for (size_t col = 0; col < N; col++) {
            float d = dy[col];
            const float *xg = x + (col / n) * k;
            float *pg = p + col * k;
            for (size_t j = 0; j < k; j++)
                pg[j] += d * xg[j];
        }
    }
}

void qsim__ada_gs_forward(qsim__pool *pool, const qsim__ada_view *v, float s, const float *X,
                          const float *W, const float *bias, float *Y, size_t rows)
{
    gs_ctx c = {v, s, X, W, bias, Y, NULL, rows, qsim__ada_gs_tasks(rows)};
    qsim__pool_run(pool, c.ntask, fwd_task, &c);
}

void qsim__ada_gs_backward(qsim__pool *pool, const qsim__ada_view *v, float s, float *dY,
                           const float *X, float *grad, size_t rows, float *part)
{
    gs_ctx c = {v, s, X, NULL, NULL, dY, part, rows, qsim__ada_gs_tasks(rows)};
    qsim__pool_run(pool, c.ntask, bwd_task, &c);
    size_t nw = v->groups * v->n * v->k;
    for (size_t i = 0; i < nw; i++) {
        float acc = 0.0f;
        for (size_t t = 0; t < c.ntask; t++)
            acc += part[t * nw + i];
        grad[i] = s * acc;
    }
}
