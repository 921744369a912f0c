/* Plan-level operator fusion: Conv [-> BatchNormalization] [-> Add] [-> Relu
 * | Clip | LeakyRelu] becomes one conv with the BN folded into its packed
 * weights and bias, the residual added in the GEMM (beta = 1 on a copy of
 * it, or on its own buffer when it dies there) and the activation as the
 * kernel's epilogue: one pass over the activations instead of up to four.
 * A MaxPool after it (a CNN stem) joins when the batch's conv output would
 * go through memory but one image's stays in the cache: the group then
 * runs image by image, conv into a workspace buffer, then the pool. Per
 * output element that is the same arithmetic (the conv's sums do not
 * depend on how the batch is tiled), so the bits are those of the two ops.
 *
 * Part of the plan, so it is redone whenever the plan is: on new input
 * shapes, a replaced constant (qsim__sim_set_constant) or a changed hook.
 * A value inside a group has exactly one consumer, is not a graph output,
 * is not read by a subgraph and has no hook, so nothing can observe that it
 * is never materialized. With any hook installed (a quantized sim, a
 * calibration or AdaRound capture) only the bit-exact fusion is done (Conv
 * + activation: the same float ops in the same order), so quantized
 * results never change; BN folding and the residual add round differently
 * (within float rounding) and are for FP32 sims. */
#include "sim_internal.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/conv.h"
#include "../ops/conv_take.h"

#include <math.h>
#include <string.h>

static int fusion_on = 1, pool_fusion_on = 1;

/* A MaxPool joins when one image's conv output is at least this big (below
 * it the batch's fits in the caches anyway) and at most MAX (so one image's
 * stays in them); with one image there is nothing to gain. */
#define POOL_MID_MIN_BYTES ((size_t)512 << 10)
#define POOL_MID_MAX_BYTES ((size_t)8 << 20)

/* mode of a step that joined a group, until the schedule is compacted */
enum { STEP_DROPPED = 0xff };

void qsim__plan_set_fusion(int on) { fusion_on = on != 0; }

void qsim__plan_set_pool_fusion(int on) { pool_fusion_on = on != 0; }

void qsim__fused_free(qsim__fused *f)
{
    if (!f)
        return;
    qsim__conv_free(f->conv);
    qsim__free(f);
}

const qsim__node *qsim__plan_step_node(const qsim_sim *s, const qsim__plan *p, size_t k)
{
    if (p->mode[k] == QSIM__NODE_FUSED)
        return &p->fused[k]->node;
    return &s->g->nodes[p->sched[k]];
}

/* What the pass knows about the plan. */
typedef struct fctx {
    qsim_sim *s;
    qsim__plan *p;
    int32_t *step_of;      /* per node: its step, or -1 */
    uint8_t *implicit;     /* per value: read by a subgraph */
    int exact;
    const qsim__op_desc *conv, *bn, *add, *relu, *clip, *leaky, *maxpool;
} fctx;

static int is_float(const fctx *c, int32_t v)
{
    return v >= 0 && c->p->vals[v].dtype == QSIM__DT_FLOAT;
}

static int is_const(const fctx *c, int32_t v)
{
    return v >= 0 && c->p->vals[v].kind == QSIM__VAL_CONST && c->p->vals[v].data;
}

/* The single consumer of v when v may vanish inside a group, else -1. */
static int32_t only_consumer(const fctx *c, int32_t v)
{
    const qsim__value *val = &c->s->g->values[v];
    if (val->n_consumers != 1 || val->is_graph_output || c->s->hooks[v].fn || c->implicit[v] ||
        c->p->vals[v].kind != QSIM__VAL_ARENA)
        return -1;
    int32_t ni = val->consumers[0];
    int32_t k = c->step_of[ni];
    if (k < 0 || c->p->mode[k] != QSIM__NODE_RUN)
        return -1;
    const qsim__node *n = &c->s->g->nodes[ni];
    if (n->n_outputs != 1 || n->outputs[0] < 0 || !is_float(c, n->outputs[0]))
        return -1;
    return ni;
}

/* The activation node ni as an epilogue; 0 if it is none we fuse. */
static int read_act(const fctx *c, int32_t ni, int32_t cur, qsim__epilogue *ep)
{
    const qsim__node *n = &c->s->g->nodes[ni];
    const qsim__op_desc *op = c->s->nodes[ni].op;
    if (n->n_inputs < 1 || n->inputs[0] != cur)
        return 0;
    memset(ep, 0, sizeof *ep);
    if (op == c->relu && n->n_inputs == 1) {
        ep->act = QSIM__ACT_RELU;
        return 1;
    }
    if (op == c->leaky && n->n_inputs == 1) {
        ep->act = QSIM__ACT_LEAKY_RELU;
        return qsim__attr_float(n, "alpha", 0.01f, &ep->a) == QSIM_OK;
    }
    if (op != c->clip)
        return 0;
    ep->act = QSIM__ACT_CLIP;
    ep->a = -INFINITY;
    ep->b = INFINITY;
    /* min > max: kernels disagree on the order of the two clamps; leave
     * that to the op */
    if (n->opset < 11)
        return n->n_inputs == 1 && qsim__attr_float(n, "min", -INFINITY, &ep->a) == QSIM_OK &&
               qsim__attr_float(n, "max", INFINITY, &ep->b) == QSIM_OK && ep->a <= ep->b;
    if (n->n_inputs > 3)
        return 0;
    for (size_t i = 1; i < n->n_inputs; i++) {
        int32_t v = n->inputs[i];
        if (v < 0)
            continue;
        if (!is_float(c, v) || !is_const(c, v) || c->p->vals[v].numel != 1)
            return 0;
        float b = *(const float *)c->p->vals[v].data;
        if (b != b)
            return 0; /* NaN bounds: leave them to the op */
        if (i == 1)
            ep->a = b;
        else
            ep->b = b;
    }
    return ep->a <= ep->b;
}

/* BatchNormalization node ni on `cur` with M channels as y*mul + add. */
static int read_bn(const fctx *c, int32_t ni, int32_t cur, size_t M, double *mul, double *add)
{
    const qsim__node *n = &c->s->g->nodes[ni];
    if (c->s->nodes[ni].op != c->bn || n->n_inputs != 5 || n->inputs[0] != cur)
        return 0;
    int64_t v;
    if (n->opset <= 8 && (qsim__attr_int(n, "spatial", 1, &v) != QSIM_OK || v == 0))
        return 0;
    if (n->opset >= 14 && (qsim__attr_int(n, "training_mode", 0, &v) != QSIM_OK || v != 0))
        return 0;
    float eps;
    if (qsim__attr_float(n, "epsilon", 1e-5f, &eps) != QSIM_OK)
        return 0;
    const float *prm[4];
    for (int i = 0; i < 4; i++) {
        int32_t pv = n->inputs[1 + i];
        if (!is_float(c, pv) || !is_const(c, pv) || c->p->vals[pv].numel != M ||
            c->p->vals[pv].shape.rank != 1)
            return 0;
        prm[i] = c->p->vals[pv].data;
    }
    /* the same arithmetic as the op's own fold (lib/ops/norm.c) */
    for (size_t m = 0; m < M; m++) {
        double a = (double)prm[0][m] / sqrt((double)prm[3][m] + (double)eps);
        mul[m] = a;
        add[m] = (double)prm[1][m] - (double)prm[2][m] * a;
    }
    return 1;
}

/* Add node ni with `cur` as one operand and a same-shape float other. */
static int32_t read_add(const fctx *c, int32_t ni, int32_t cur)
{
    const qsim__node *n = &c->s->g->nodes[ni];
    if (c->s->nodes[ni].op != c->add || n->n_inputs != 2)
        return -1;
    int32_t o = n->inputs[0] == cur ? n->inputs[1] : n->inputs[0];
    if ((n->inputs[0] != cur && n->inputs[1] != cur) || o < 0 || o == cur || !is_float(c, o))
        return -1;
    const qsim__rtval *a = &c->p->vals[o], *b = &c->p->vals[cur];
    if (a->kind == QSIM__VAL_UNUSED || !qsim__shape_equal(&a->shape, &b->shape))
        return -1;
    return o;
}

/* MaxPool node ni on `cur` ([N, C, H, W] float), without Indices, worth
 * running image by image (see POOL_MID_*). */
static int read_maxpool(const fctx *c, int32_t ni, int32_t cur)
{
    const qsim__node *n = &c->s->g->nodes[ni];
    const qsim__rtval *v = &c->p->vals[cur];
    if (!pool_fusion_on || c->s->nodes[ni].op != c->maxpool || n->n_inputs != 1 ||
        n->inputs[0] != cur || (n->n_outputs > 1 && n->outputs[1] >= 0) ||
        v->shape.rank != 4 || v->shape.dims[0] < 2)
        return 0;
    size_t img = v->numel / (size_t)v->shape.dims[0] * sizeof(float);
    return img >= POOL_MID_MIN_BYTES && img <= POOL_MID_MAX_BYTES;
}

typedef struct chain {
    int32_t nodes[5];
    int n;
    int32_t res, out, pool;
    int has_bn;
    qsim__epilogue ep;
} chain;

static size_t round64(size_t b) { return b > SIZE_MAX - 63 ? SIZE_MAX : (b + 63) / 64 * 64; }

/* The group's workspace with a MaxPool: the conv's and the pool's for one
 * image, then that image's conv output. SIZE_MAX on overflow. */
static size_t pool_workspace(const fctx *c, qsim__fused *f, const qsim__shape *xs)
{
    const qsim__node *pn = &c->s->g->nodes[f->pool];
    qsim__tview in = {.dtype = QSIM__DT_FLOAT, .shape = c->p->vals[pn->inputs[0]].shape}, out;
    in.shape.dims[0] = 1;
    in.numel = c->p->vals[pn->inputs[0]].numel / (size_t)xs->dims[0];
    memset(&out, 0, sizeof out);
    size_t pws = 0;
    if (c->s->nodes[f->pool].op->infer(c->s->nodes[f->pool].state, pn, &in, 1, &out, 1, &pws) !=
        QSIM_OK)
        return SIZE_MAX;
    f->mid = in.shape;
    f->pooled = out.shape;
    f->conv_ws = round64(qsim__conv_workspace(f->conv, 1, xs->rank == 4 ? xs->dims[2] : 1,
                                              xs->dims[xs->rank - 1], c->s->pool));
    f->pool_ws = round64(pws);
    size_t mid, t;
    if (f->conv_ws == SIZE_MAX || f->pool_ws == SIZE_MAX ||
        !qsim__mul_size(in.numel, sizeof(float), &mid) ||
        !qsim__add_size(f->conv_ws, f->pool_ws, &t) || !qsim__add_size(t, mid, &t))
        return SIZE_MAX;
    return t;
}

static qsim_status make_group(fctx *c, size_t k, const chain *ch, double *mul, double *add)
{
    qsim_sim *s = c->s;
    qsim__plan *p = c->p;
    const qsim__node *n = &s->g->nodes[ch->nodes[0]];
    qsim__tview in[3];
    for (size_t i = 0; i < 3; i++) {
        if (i < n->n_inputs)
            qsim__plan_view(p, n->inputs[i], &in[i]);
        else
            memset(&in[i], 0, sizeof in[i]);
    }
    qsim__fused *f = qsim__calloc(1, sizeof *f);
    if (!f)
        return qsim__oom();
    qsim_status st = qsim__conv_op_take(s->nodes[ch->nodes[0]].state, n, in,
                                        n->n_inputs < 3 ? n->n_inputs : 3, &f->conv);
    if (st == QSIM_OK && ch->has_bn)
        st = qsim__conv_fold_affine(f->conv, mul, add);
    const qsim__shape *xs = &in[0].shape;
    size_t ws = 0;
    f->pool = ch->pool;
    if (st == QSIM_OK) {
        qsim__conv_set_epilogue(f->conv, &ch->ep);
        ws = f->pool >= 0 ? pool_workspace(c, f, xs)
                          : qsim__conv_workspace(f->conv, xs->dims[0],
                                                 xs->rank == 4 ? xs->dims[2] : 1,
                                                 xs->dims[xs->rank - 1], s->pool);
        if (ws == SIZE_MAX)
            st = qsim__fail(QSIM_ERR_SHAPE, "%s: X is too large for the convolution kernel",
                            qsim__node_label(n));
    }
    if (st != QSIM_OK) {
        qsim__fused_free(f);
        return st;
    }
    if (ws > p->workspace_bytes)
        p->workspace_bytes = ws;
    f->x = n->inputs[0];
    f->res = ch->res;
    f->out = ch->out;
    /* residual first: the layout lets output 0 take input 0's buffer */
    size_t ni = 0;
    if (f->res >= 0)
        f->ins[ni++] = f->res;
    f->ins[ni++] = f->x;
    f->outs[0] = f->out;
    f->node = s->g->nodes[ch->nodes[ch->n - 1]];
    f->node.inputs = f->ins;
    f->node.n_inputs = ni;
    f->node.outputs = f->outs;
    f->node.n_outputs = 1;
    f->node.n_implicit = 0;
    f->node.implicit_inputs = NULL;
    /* the group runs where its last node did; the others drop out */
    size_t tail = (size_t)c->step_of[ch->nodes[ch->n - 1]];
    for (int i = 0; i < ch->n - 1; i++) {
        int32_t st_i = c->step_of[ch->nodes[i]];
        p->mode[st_i] = STEP_DROPPED;
        p->vals[s->g->nodes[ch->nodes[i]].outputs[0]].kind = QSIM__VAL_UNUSED;
    }
    p->fused[tail] = f;
    p->mode[tail] = QSIM__NODE_FUSED;
    (void)k;
    return QSIM_OK;
}

/* Try the chain starting at the Conv scheduled at step k. */
static qsim_status try_conv(fctx *c, size_t k, double *mul, double *add)
{
    qsim_sim *s = c->s;
    qsim__plan *p = c->p;
    int32_t ni = p->sched[k];
    const qsim__node *n = &s->g->nodes[ni];
    if (s->nodes[ni].op != c->conv || n->n_inputs < 2 || n->n_inputs > 3 || n->n_outputs != 1 ||
        n->outputs[0] < 0)
        return QSIM_OK;
    int32_t x = n->inputs[0], w = n->inputs[1], b = n->n_inputs > 2 ? n->inputs[2] : -1;
    if (!is_float(c, x) || (p->vals[x].shape.rank != 4 && p->vals[x].shape.rank != 3) ||
        !is_const(c, w) || (b >= 0 && !is_const(c, b)) || !is_float(c, n->outputs[0]))
        return QSIM_OK;
    const qsim__shape *ws = &p->vals[w].shape, *xs = &p->vals[x].shape;
    size_t M = (size_t)ws->dims[0];
    int depthwise = ws->dims[1] == 1 && ws->dims[0] == xs->dims[1];
    chain ch = {.nodes = {ni}, .n = 1, .res = -1, .out = n->outputs[0], .pool = -1};
    int32_t cur = n->outputs[0], nx = only_consumer(c, cur);
    if (nx >= 0 && !c->exact && read_bn(c, nx, cur, M, mul, add)) {
        ch.has_bn = 1;
        ch.nodes[ch.n++] = nx;
        cur = s->g->nodes[nx].outputs[0];
        nx = only_consumer(c, cur);
    }
    int32_t r;
    if (nx >= 0 && !c->exact && !depthwise && (r = read_add(c, nx, cur)) >= 0) {
        ch.res = r;
        ch.nodes[ch.n++] = nx;
        cur = s->g->nodes[nx].outputs[0];
        nx = only_consumer(c, cur);
    }
    if (nx >= 0 && read_act(c, nx, cur, &ch.ep)) {
        ch.nodes[ch.n++] = nx;
        cur = s->g->nodes[nx].outputs[0];
        nx = only_consumer(c, cur);
    } else {
        memset(&ch.ep, 0, sizeof ch.ep);
    }
    if (nx >= 0 && ch.res < 0 && read_maxpool(c, nx, cur)) {
        ch.pool = nx;
        ch.nodes[ch.n++] = nx;
        cur = s->g->nodes[nx].outputs[0];
    }
    if (ch.n == 1)
        return QSIM_OK;
    ch.out = cur;
    return make_group(c, k, &ch, mul, add);
}

qsim_status qsim__fuse_plan(qsim_sim *s, qsim__plan *p)
{
    const qsim__graph *g = s->g;
    if (!fusion_on || !s->opts.fusion || !p->n_sched)
        return QSIM_OK;
    fctx c = {.s = s, .p = p};
    c.conv = qsim__op_lookup("", "Conv");
    c.bn = qsim__op_lookup("", "BatchNormalization");
    c.add = qsim__op_lookup("", "Add");
    c.relu = qsim__op_lookup("", "Relu");
    c.clip = qsim__op_lookup("", "Clip");
    c.leaky = qsim__op_lookup("", "LeakyRelu");
    c.maxpool = qsim__op_lookup("", "MaxPool");
    if (!c.conv)
        return QSIM_OK;
    for (size_t v = 0; v < g->n_values; v++)
        c.exact |= s->hooks[v].fn != NULL;
    size_t max_m = 1;
    for (size_t k = 0; k < p->n_sched; k++) {
        const qsim__node *n = &g->nodes[p->sched[k]];
        if (s->nodes[p->sched[k]].op == c.conv && n->n_inputs >= 2 && n->inputs[1] >= 0 &&
            p->vals[n->inputs[1]].shape.rank >= 1 &&
            (size_t)p->vals[n->inputs[1]].shape.dims[0] > max_m)
            max_m = (size_t)p->vals[n->inputs[1]].shape.dims[0];
    }
    c.step_of = qsim__malloc_array(g->n_nodes ? g->n_nodes : 1, sizeof *c.step_of);
    c.implicit = qsim__calloc(g->n_values ? g->n_values : 1, 1);
    double *mul = qsim__malloc_array(2 * max_m, sizeof *mul);
    qsim_status st = QSIM_OK;
    if (!c.step_of || !c.implicit || !mul) {
        st = qsim__oom();
        goto done;
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        c.step_of[i] = -1;
        for (size_t j = 0; j < g->nodes[i].n_implicit; j++)
            if (g->nodes[i].implicit_inputs[j] >= 0)
                c.implicit[g->nodes[i].implicit_inputs[j]] = 1;
    }
    for (size_t k = 0; k < p->n_sched; k++)
        c.step_of[p->sched[k]] = (int32_t)k;
    for (size_t k = 0; k < p->n_sched && st == QSIM_OK; k++)
        if (p->mode[k] == QSIM__NODE_RUN)
            st = try_conv(&c, k, mul, mul + max_m);
    /* drop the steps that joined a group */
    size_t out = 0;
    for (size_t k = 0; k < p->n_sched; k++) {
        if (p->mode[k] == STEP_DROPPED)
            continue;
        p->sched[out] = p->sched[k];
        p->mode[out] = p->mode[k];
        p->fused[out] = p->fused[k];
        if (out != k)
            p->fused[k] = NULL;
        out++;
    }
    p->n_sched = out;
done:
    qsim__free(c.step_of);
    qsim__free(c.implicit);
    qsim__free(mul);
    return st;
}

qsim_status qsim__fused_run(qsim_sim *s, const qsim__plan *p, const qsim__fused *f,
                            const qsim__exec *ex)
{
    qsim__tview x, y;
    qsim__plan_view(p, f->x, &x);
    qsim__plan_view(p, f->out, &y);
    int64_t N = x.shape.dims[0];
    int64_t H = x.shape.rank == 4 ? x.shape.dims[2] : 1;
    int64_t W = x.shape.dims[x.shape.rank - 1];
    if (!y.numel)
        return QSIM_OK;
    if (f->pool >= 0) {
        /* image by image: conv into the workspace, pool from there */
        char *ws = ex->workspace;
        qsim__tview mid = {.dtype = QSIM__DT_FLOAT, .shape = f->mid,
                           .numel = (size_t)(f->mid.dims[1] * f->mid.dims[2] * f->mid.dims[3]),
                           .data = ws + f->conv_ws + f->pool_ws};
        qsim__tview out = {.dtype = QSIM__DT_FLOAT, .shape = f->pooled,
                           .numel = y.numel / (size_t)N};
        qsim__exec pex = {ex->pool, ws + f->conv_ws};
        const qsim__node_rt *pr = &s->nodes[f->pool];
        size_t img = x.numel / (size_t)N;
        for (int64_t n = 0; n < N; n++) {
            qsim__conv_run(f->conv, ex->pool, (const float *)x.data + (size_t)n * img, 1, H, W,
                           mid.data, ws);
            out.data = (float *)y.data + (size_t)n * out.numel;
            QSIM__TRY(pr->op->run(pr->state, &s->g->nodes[f->pool], &pex, &mid, 1, &out, 1));
        }
        return QSIM_OK;
    }
    if (f->res < 0) {
        qsim__conv_run(f->conv, ex->pool, x.data, N, H, W, y.data, ex->workspace);
        return QSIM_OK;
    }
    const qsim__rtval *r = &p->vals[f->res];
    if (r->data != y.data)
        memcpy(y.data, r->data, y.numel * sizeof(float));
    qsim__conv_run_accumulate(f->conv, ex->pool, x.data, N, H, W, y.data, ex->workspace);
    (void)s;
    return QSIM_OK;
}
