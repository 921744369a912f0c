/* qsim_apply_adaround: AdaRound on a sim, layer by layer (SPEC 8.2, with
 * libqsim's differences: every fed batch is used, mixed precision kept).
 *
 * 1. The callback runs once; a hook on the first graph input copies every
 *    model input of each run (up to MAX_SAMPLES samples / NUM_BATCHES).
 * 2. For every Conv/ConvTranspose/Gemm/MatMul whose weight has an enabled
 *    int param quantizer, in topological order, the cached inputs are
 *    replayed twice: with the sim as it is but int activation quantizers
 *    off (AIMET) -> the layer's input X (earlier layers already rounded;
 *    FP16 quantizers stay); with every quantizer off and the weights as
 *    they were before AdaRound -> the FP32 target Y. Only this layer's
 *    samples are held.
 * 3. The rounding is optimised (layer.c), the grid values are written into
 *    the sim's copy of the weight and the encodings are frozen. */
#include <string.h>

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/fp16.h"
#include "../quant/quantsim.h"
#include "layer.h"
#include "node.h"

enum {
    OP_CONV = QSIM__ADA_OP_CONV,
    OP_CONVT = QSIM__ADA_OP_CONVT,
    OP_GEMM = QSIM__ADA_OP_GEMM,
    OP_MATMUL = QSIM__ADA_OP_MATMUL,
};

/* ---- input capture ----------------------------------------------------- */

typedef struct capture {
    size_t n_in;
    qsim__tensor **t; /* nb * n_in */
    size_t nb, capb;
    size_t samples, max_samples, max_batches;
    qsim_status st;
} capture;

static size_t batch_of(const qsim__shape *sh)
{
    return sh->rank >= 1 ? (size_t)sh->dims[0] : 1;
}

static qsim_status capture_hook(void *ctx, qsim_sim *s, int32_t value, qsim__tview *t)
{
    (void)value;
    (void)t;
    capture *c = ctx;
    if (c->samples >= c->max_samples || (c->max_batches && c->nb >= c->max_batches))
        return QSIM_OK;
    if (c->nb == c->capb) {
        size_t nc = c->capb ? 2 * c->capb : 8, n;
        if (!qsim__mul_size(nc, c->n_in, &n))
            return qsim__oom();
        qsim__tensor **p = qsim__realloc_array(c->t, n, sizeof *p);
        if (!p)
            return qsim__oom();
        c->t = p;
        c->capb = nc;
    }
    for (size_t i = 0; i < c->n_in; i++) {
        qsim__tensor *cl = qsim__tensor_clone(s->inputs[i]);
        if (!cl) {
            for (size_t j = 0; j < i; j++)
                qsim__tensor_free(c->t[c->nb * c->n_in + j]);
            return qsim__oom();
        }
        c->t[c->nb * c->n_in + i] = cl;
    }
    c->samples += batch_of(&s->inputs[0]->shape);
    c->nb++;
    return QSIM_OK;
}

static void capture_free(capture *c)
{
    for (size_t i = 0; i < c->nb * c->n_in; i++)
        qsim__tensor_free(c->t[i]);
    qsim__free(c->t);
    memset(c, 0, sizeof *c);
}

/* ---- one layer ---------------------------------------------------------- */

typedef struct job {
    const qsim__node *node;
    qsim_quantizer *q;
    int op;
    int32_t xv, yv;
    int mode; /* 0: collect X, 1: collect Y */
    int fp16_x;
    int have_view;
    qsim__ada_layer L;
    qsim__ada_data d;
    size_t nx, ny, cap;
    float *bias;
    float *slope;
    int trans_a;   /* Gemm transA = 1: the samples are X's columns */
    float *col;    /* one gathered column (trans_a) */
} job;

/* The linear view from the layer's input shape (first batch seen). */
static qsim_status build_view(qsim_sim *s, job *j, const qsim__shape *xs)
{
    const qsim__tensor *w = qsim__quant_weight(s, j->q);
    return qsim__ada_node_view(j->node, j->op, &w->shape, xs, &j->L.view);
}

static qsim_status put_columns(job *j, const qsim__tview *t)
{
    size_t K = j->d.xsz, M = K && t->shape.rank == 2 ? t->numel / K : 0;
    if (!M || t->shape.dims[0] != (int64_t)K)
        return qsim__fail(QSIM_ERR_SHAPE, "adaround: node '%s': input is not [%zu, M]",
                          j->node->name, K);
    if (!j->col && !(j->col = qsim__malloc_array(K, sizeof *j->col)))
        return qsim__oom();
    const float *x = t->data;
    for (size_t m = 0; m < M && j->nx < j->cap; m++) {
        for (size_t i = 0; i < K; i++)
            j->col[i] = x[i * M + m];
        qsim__ada_data_put_x(&j->d, j->nx++, j->col);
    }
    return QSIM_OK;
}

static qsim_status layer_hook(void *ctx, qsim_sim *s, int32_t value, qsim__tview *t)
{
    job *j = ctx;
    if (t->dtype != QSIM__DT_FLOAT)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': input is not float",
                          j->node->name);
    size_t B = batch_of(&t->shape);
    if (value == j->xv && j->mode == 0) {
        if (j->fp16_x) /* the FP16 quantizer this hook stands in for */
            qsim__fp16_qdq_f32(t->data, t->data, t->numel);
        if (!j->have_view) {
            QSIM__TRY(build_view(s, j, &t->shape));
            QSIM__TRY(qsim__ada_data_init(&j->d, &j->L.view, j->cap));
            j->have_view = 1;
        }
        if (j->trans_a) /* [K, M]: M samples of K, one column each */
            return put_columns(j, t);
        if (!B || t->numel / B != j->d.xsz || t->numel % B)
            return qsim__fail(QSIM_ERR_SHAPE, "adaround: node '%s': batches of different shapes",
                              j->node->name);
        for (size_t b = 0; b < B && j->nx < j->cap; b++)
            qsim__ada_data_put_x(&j->d, j->nx++, (const float *)t->data + b * j->d.xsz);
    } else if (value == j->yv && j->mode == 1 && j->have_view) {
        if (!B || t->numel / B != j->d.ysz || t->numel % B)
            return qsim__fail(QSIM_ERR_SHAPE, "adaround: node '%s': output of unexpected size",
                              j->node->name);
        for (size_t b = 0; b < B && j->ny < j->cap; b++)
            qsim__ada_data_put_y(&j->d, &j->L.view, j->ny++, (const float *)t->data + b * j->d.ysz);
    }
    return QSIM_OK;
}

/* Activation of the loss: the output's first consumer (SPEC 8.3). */
static qsim_status loss_act(qsim_sim *s, job *j)
{
    const qsim__graph *g = s->g;
    const qsim__value *out = &g->values[j->yv];
    j->L.act.kind = QSIM__ADA_ACT_NONE;
    if (!out->n_consumers)
        return QSIM_OK;
    const qsim__node *c = &g->nodes[out->consumers[0]];
    if (c->n_inputs < 1 || c->inputs[0] != j->yv)
        return QSIM_OK;
    qsim__ada_act *a = &j->L.act;
    if (!strcmp(c->op_type, "Relu")) {
        a->kind = QSIM__ADA_ACT_RELU;
    } else if (!strcmp(c->op_type, "Sigmoid")) {
        a->kind = QSIM__ADA_ACT_SIGMOID;
    } else if (!strcmp(c->op_type, "Tanh")) {
        a->kind = QSIM__ADA_ACT_TANH;
    } else if (!strcmp(c->op_type, "Softmax") &&
               (j->L.view.kind == QSIM__ADA_CONV || j->L.view.rows == 1)) {
        a->kind = QSIM__ADA_ACT_SOFTMAX; /* over dim 1 (AIMET), not 3-D MatMul's T */
    } else if (!strcmp(c->op_type, "LeakyRelu")) {
        a->kind = QSIM__ADA_ACT_LEAKY;
        QSIM__TRY(qsim__attr_float(c, "alpha", 0.01f, &a->a));
    } else if (!strcmp(c->op_type, "Clip")) {
        float lo = -3.402823466e38f, hi = 3.402823466e38f;
        if (c->opset < 11) {
            QSIM__TRY(qsim__attr_float(c, "min", lo, &lo));
            QSIM__TRY(qsim__attr_float(c, "max", hi, &hi));
        } else {
            for (size_t i = 1; i < 3 && i < c->n_inputs; i++) {
                if (c->inputs[i] < 0)
                    continue;
                const qsim__tensor *b = g->values[c->inputs[i]].constant;
                if (!b || b->dtype != QSIM__DT_FLOAT || b->numel != 1)
                    return QSIM_OK; /* bounds not known: no activation */
                *(i == 1 ? &lo : &hi) = *(const float *)b->data;
            }
        }
        a->kind = QSIM__ADA_ACT_CLIP;
        a->a = lo, a->b = hi;
    } else if (!strcmp(c->op_type, "PRelu") && c->n_inputs > 1 && c->inputs[1] >= 0) {
        const qsim__tensor *sl = g->values[c->inputs[1]].constant;
        size_t N = j->L.view.groups * j->L.view.n;
        if (!sl || sl->dtype != QSIM__DT_FLOAT || (sl->numel != 1 && sl->numel != N))
            return QSIM_OK;
        a->kind = QSIM__ADA_ACT_PRELU;
        a->slope = sl->data;
        a->nslope = sl->numel;
    }
    return QSIM_OK;
}

/* Static checks: 1 when the node is a layer AdaRound handles. */
static int layer_op(const qsim_sim *s, const qsim__node *n, qsim_quantizer *q, int *op)
{
    *op = qsim__ada_op_of(n);
    if (!*op || n->n_inputs < 2 || !q)
        return 0;
    if (q->kind != QSIM_QUANTIZER_PARAM || !q->enabled || q->data_type != QSIM_DATA_TYPE_INT)
        return 0;
    const qsim__tensor *w = qsim__quant_weight(s, q);
    if (!w || w->dtype != QSIM__DT_FLOAT)
        return 0;
    /* what the linear view cannot model is left alone (nearest rounding) */
    int wr = w->shape.rank;
    if ((*op == OP_CONV || *op == OP_CONVT) && wr != 3 && wr != 4)
        return 0; /* 3-D convolutions: skipped, as in AIMET */
    if ((*op == OP_GEMM || *op == OP_MATMUL) && wr != 2)
        return 0;
    if (*op == OP_MATMUL) {
        int xr = s->g->values[n->inputs[0]].rank;
        if (xr > 3)
            return 0;
    }
    /* per-channel must be along the output channels (the Wmat rows) */
    int want = *op == OP_CONV ? 0 : *op == OP_CONVT ? 1 : 1;
    if (*op == OP_GEMM) {
        int64_t tb = 0;
        if (qsim__attr_int(n, "transB", 0, &tb) != QSIM_OK)
            return 0;
        want = tb ? 0 : 1;
    }
    if (q->axis >= 0 && q->axis != want)
        return 0;
    return 1;
}

static void set_modes(qsim__quantsim *qs, const uint8_t *saved, int mode)
{
    size_t n = qsim__qdict_count(&qs->dict);
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim__qdict_at(&qs->dict, i);
        int en = saved[i];
        if (mode == 1 && q->kind == QSIM_QUANTIZER_ACTIVATION && q->data_type == QSIM_DATA_TYPE_INT)
            en = 0;
        if (mode == 2)
            en = 0;
        if (q->enabled != en) {
            q->enabled = en;
            q->version++;
        }
    }
}

typedef struct done_layer {
    qsim_quantizer *q;
    qsim__tensor *orig;    /* weight before AdaRound (NULL: the model's) */
    qsim__tensor *rounded;
} done_layer;

static qsim_status replay(qsim_sim *s, const capture *c)
{
    const qsim__graph *g = s->g;
    for (size_t b = 0; b < c->nb; b++) {
        for (size_t i = 0; i < c->n_in; i++) {
            const qsim__tensor *t = c->t[b * c->n_in + i];
            QSIM__TRY(qsim_sim_set_input_typed(s, g->values[g->inputs[i]].name, t->dtype, t->data,
                                               t->shape.dims, (size_t)t->shape.rank));
        }
        QSIM__TRY(qsim_sim_run(s));
    }
    return QSIM_OK;
}

typedef struct prog_ctx {
    qsim_sim *s;
} prog_ctx;

static void iter_progress(void *ctx, uint64_t done, uint64_t total)
{
    prog_ctx *p = ctx;
    if (p->s->progress)
        p->s->progress("adaround_iterations", done, total, p->s->progress_user);
}

static qsim_status run_layer(qsim_sim *s, job *j, const capture *c, const uint8_t *saved,
                             done_layer *done, size_t ndone, const qsim_adaround_params *p)
{
    qsim__quantsim *qs = qsim__quant_of(s);
    qsim_quantizer *q = j->q;
    if (!q->enc)
        QSIM__TRY(qsim__quant_param_encodings(s, q));
    /* X: the sim as set, int activation quantizers off */
    qsim_quantizer *xq = qsim__qdict_get(&qs->dict, s->g->values[j->xv].name);
    j->fp16_x = xq && xq->enabled && xq->data_type == QSIM_DATA_TYPE_FLOAT;
    qsim_status st = qsim__sim_set_hook(s, j->xv, layer_hook, j);
    if (st == QSIM_OK)
        st = qsim__sim_set_hook(s, j->yv, layer_hook, j);
    j->mode = 0;
    set_modes(qs, saved, 1);
    if (st == QSIM_OK)
        st = replay(s, c);
    if (st == QSIM_OK && !j->have_view)
        st = qsim__fail(QSIM_ERR_STATE, "adaround: node '%s' saw no data", j->node->name);
    /* Y: everything off, weights as before AdaRound */
    if (st == QSIM_OK) {
        j->mode = 1;
        set_modes(qs, saved, 2);
        for (size_t i = 0; i < ndone && st == QSIM_OK; i++)
            st = qsim__quant_set_weight(s, done[i].q, done[i].orig);
        if (st == QSIM_OK)
            st = replay(s, c);
        for (size_t i = 0; i < ndone; i++) {
            qsim_status st2 = qsim__quant_set_weight(s, done[i].q, done[i].rounded);
            if (st == QSIM_OK)
                st = st2;
        }
    }
    set_modes(qs, saved, 0);
    qsim__sim_set_hook(s, j->xv, NULL, NULL);
    qsim__sim_set_hook(s, j->yv, NULL, NULL);
    QSIM__TRY(st);
    j->d.count = j->nx < j->ny ? j->nx : j->ny;

    /* the layer: encodings, FP32 bias (times Gemm beta), alpha, activation */
    const qsim__node *n = j->node;
    qsim__ada_view *v = &j->L.view;
    size_t N = v->groups * v->n;
    j->L.enc = q->enc;
    j->L.nenc = q->channels;
    j->L.out_scale = 1.0f;
    float beta = 1.0f;
    if (j->op == OP_GEMM) {
        QSIM__TRY(qsim__attr_float(n, "alpha", 1.0f, &j->L.out_scale));
        QSIM__TRY(qsim__attr_float(n, "beta", 1.0f, &beta));
    }
    if (j->op != OP_MATMUL && n->n_inputs > 2 && n->inputs[2] >= 0) {
        const qsim__tensor *b = s->g->values[n->inputs[2]].constant;
        if (!b || b->dtype != QSIM__DT_FLOAT || (b->numel != N && b->numel != 1))
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': bias is not a constant "
                              "of %zu floats", n->name, N);
        j->bias = qsim__malloc_array(N, sizeof(float));
        if (!j->bias)
            return qsim__oom();
        for (size_t i = 0; i < N; i++)
            j->bias[i] = beta * ((const float *)b->data)[b->numel == 1 ? 0 : i];
        j->L.bias = j->bias;
    }
    QSIM__TRY(loss_act(s, j));

    const qsim__tensor *w = qsim__quant_weight(s, q);
    qsim__tensor *nw = qsim__tensor_clone(w);
    float *wmat = qsim__malloc_array(w->numel, sizeof(float));
    if (!nw || !wmat) {
        qsim__tensor_free(nw);
        qsim__free(wmat);
        return qsim__oom();
    }
    qsim__ada_weight_to_mat(v, w->data, wmat);
    prog_ctx pc = {s};
    st = qsim__ada_optimize(s->pool, &j->L, &j->d, p, wmat, NULL, NULL, iter_progress, &pc);
    if (st == QSIM_OK) {
        qsim__ada_mat_to_weight(v, wmat, nw->data);
        st = qsim__quant_set_weight(s, q, nw);
    }
    qsim__free(wmat);
    qsim__tensor_free(nw);
    if (st == QSIM_OK && !q->frozen) {
        qsim__encoding *e = qsim__malloc_array(q->channels, sizeof *e);
        if (!e)
            return qsim__oom();
        memcpy(e, q->enc, q->channels * sizeof *e);
        st = qsim__quant_freeze(q, e);
        qsim__free(e);
    }
    return st;
}

qsim_status qsim_apply_adaround(qsim_sim *s, qsim_forward_fn fn, void *user_data,
                                const qsim_adaround_params *params)
{
    QSIM__TRY(qsim__sim_check(s, "qsim_apply_adaround"));
    if (!fn)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_apply_adaround: callback is NULL");
    if (s->busy)
        return qsim__fail(QSIM_ERR_STATE, "qsim_apply_adaround: called from inside "
                          "compute_encodings or apply_adaround on the same sim");
    qsim__quantsim *qs = qsim__quant_of(s);
    if (!qs)
        return qsim__fail(QSIM_ERR_STATE, "qsim_apply_adaround: the sim has no quantizers");
    const qsim__graph *g = s->g;
    if (!g->n_inputs)
        return qsim__fail(QSIM_ERR_STATE, "qsim_apply_adaround: the model has no inputs");
    qsim_adaround_params defp;
    qsim__adaround_params_default(&defp);
    const qsim_adaround_params *p = params ? params : &defp;

    /* the layers, in topological order */
    size_t nl = 0;
    job *jobs = qsim__calloc(g->n_nodes ? g->n_nodes : 1, sizeof *jobs);
    size_t nq = qsim__qdict_count(&qs->dict);
    uint8_t *saved = qsim__calloc(nq ? nq : 1, 1);
    done_layer *done = qsim__calloc(g->n_nodes ? g->n_nodes : 1, sizeof *done);
    if (!jobs || !saved || !done) {
        qsim__free(jobs);
        qsim__free(saved);
        qsim__free(done);
        return qsim__oom();
    }
    for (size_t i = 0; i < nq; i++)
        saved[i] = (uint8_t)qsim__qdict_at(&qs->dict, i)->enabled;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        if (n->n_inputs < 2 || n->inputs[1] < 0 || n->inputs[0] < 0 || n->n_outputs < 1 ||
            n->outputs[0] < 0)
            continue;
        qsim_quantizer *q = qsim__qdict_get(&qs->dict, g->values[n->inputs[1]].name);
        int op;
        if (!layer_op(s, n, q, &op))
            continue;
        job *j = &jobs[nl++];
        j->node = n, j->q = q, j->op = op;
        j->xv = n->inputs[0], j->yv = n->outputs[0];
        j->cap = (size_t)p->max_samples;
        int64_t ta = 0;
        if (op == OP_GEMM && qsim__attr_int(n, "transA", 0, &ta) == QSIM_OK)
            j->trans_a = ta != 0;
    }

    /* 1. capture the model inputs of every run of the callback */
    capture c = {0};
    c.n_in = g->n_inputs;
    c.max_samples = (size_t)p->max_samples;
    c.max_batches = (size_t)p->num_batches;
    qsim_status st = QSIM_OK;
    if (nl) {
        int32_t v0 = g->inputs[0];
        st = qsim__sim_set_hook(s, v0, capture_hook, &c);
        if (st == QSIM_OK) {
            s->busy = 1;
            st = fn(s, user_data);
            s->busy = 0;
            qsim__sim_set_hook(s, v0, NULL, NULL);
            if (st != QSIM_OK)
                st = qsim__fail_prefix(st, "qsim_apply_adaround: the forward callback failed: ");
            else if (!c.nb)
                st = qsim__fail(QSIM_ERR_STATE, "qsim_apply_adaround: the callback ran no batch");
        }
    }
    /* 2. layer by layer */
    size_t ndone = 0;
    s->busy = 1;
    for (size_t i = 0; i < nl && st == QSIM_OK; i++) {
        if (s->progress)
            s->progress("adaround", i, nl, s->progress_user);
        qsim_quantizer *q = jobs[i].q;
        done[ndone].q = q;
        if (q->weight && !(done[ndone].orig = qsim__tensor_clone(q->weight))) {
            st = qsim__oom();
            break;
        }
        st = run_layer(s, &jobs[i], &c, saved, done, ndone, p);
        if (st == QSIM_OK && !(done[ndone].rounded = qsim__tensor_clone(q->weight)))
            st = qsim__oom();
        ndone++;
        qsim__ada_data_free(&jobs[i].d);
    }
    s->busy = 0;
    if (st == QSIM_OK && s->progress)
        s->progress("adaround", nl, nl, s->progress_user);
    for (size_t i = 0; i < nl; i++) {
        qsim__ada_data_free(&jobs[i].d);
        qsim__free(jobs[i].bias);
        qsim__free(jobs[i].col);
    }
    for (size_t i = 0; i < ndone; i++) {
        qsim__tensor_free(done[i].orig);
        qsim__tensor_free(done[i].rounded);
    }
    capture_free(&c);
    qsim__free(jobs);
    qsim__free(saved);
    qsim__free(done);
    s->have_run = 0;
    return st;
}
