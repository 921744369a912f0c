/* Which tensors get quantizers (SPEC 1.2) and how the quantsim config sets
 * them up (SPEC 7), in AIMET's order:
 *   1. params: ConnectedGraph's param slots (weights also in Constant nodes);
 *   2. activations: float32 graph inputs, then per node the inputs not seen
 *      before ("input quantizers": constant operands), then its outputs;
 *   3. config: all off; defaults; params; op_type; supergroups; model_input;
 *      model_output; default bw/dtype; per-channel. */
#include "placement.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <string.h>

static int is_op(const qsim__node *n, const char *t)
{
    return strcmp(n->op_type, t) == 0 && (!n->domain[0] || !strcmp(n->domain, "ai.onnx"));
}

/* ---- element types ----------------------------------------------------- */

/* AIMET reads dtypes off one dummy run; libqsim propagates them through
 * the graph (declared types win). Only "is it float32" matters here. */
static int out_dtype(const qsim__graph *g, const qsim__node *n, size_t k, const int *dt)
{
    static const char *const i64[] = {"Shape", "Size", "NonZero", "ArgMax", "ArgMin", NULL};
    static const char *const boolean[] = {"Equal", "Less", "Greater", "LessOrEqual",
                                          "GreaterOrEqual", "Not", "And", "Or", "Xor",
                                          "IsNaN", "IsInf", NULL};
    for (size_t i = 0; i64[i]; i++)
        if (is_op(n, i64[i]))
            return QSIM__DT_INT64;
    for (size_t i = 0; boolean[i]; i++)
        if (is_op(n, boolean[i]))
            return QSIM__DT_BOOL;
    if ((is_op(n, "TopK") || is_op(n, "MaxPool")) && k == 1)
        return QSIM__DT_INT64;
    if (is_op(n, "Cast")) {
        int64_t to = 0;
        if (qsim__attr_int(n, "to", 0, &to) != QSIM_OK)
            return 0;
        return (int)to;
    }
    if (is_op(n, "ConstantOfShape")) {
        const qsim__attr *a = qsim__node_attr(n, "value");
        return a && a->type == QSIM__ATTR_TENSOR && a->t ? a->t->dtype : QSIM__DT_FLOAT;
    }
    if (is_op(n, "DequantizeLinear"))
        return QSIM__DT_FLOAT;
    if (is_op(n, "QuantizeLinear"))
        return n->n_inputs > 2 && n->inputs[2] >= 0 ? dt[n->inputs[2]] : QSIM__DT_UINT8;
    if (is_op(n, "Where"))
        return n->n_inputs > 1 && n->inputs[1] >= 0 ? dt[n->inputs[1]] : 0;
    for (size_t i = 0; i < n->n_inputs; i++)
        if (n->inputs[i] >= 0)
            return dt[n->inputs[i]];
    (void)g;
    return 0;
}

static qsim_status infer_dtypes(const qsim__graph *g, int **out)
{
    int *dt = qsim__calloc(g->n_values ? g->n_values : 1, sizeof *dt);
    if (!dt)
        return qsim__oom();
    for (size_t v = 0; v < g->n_values; v++) {
        const qsim__value *val = &g->values[v];
        dt[v] = val->constant ? val->constant->dtype : val->elem_type;
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        for (size_t k = 0; k < n->n_outputs; k++) {
            int32_t v = n->outputs[k];
            if (v < 0 || dt[v])
                continue;
            dt[v] = out_dtype(g, n, k, dt);
        }
    }
    *out = dt;
    return QSIM_OK;
}

/* ---- params -------------------------------------------------------------- */

/* Param type of input slot k of node n (ConnectedGraph), or -1 when that
 * slot holds no param. */
static int param_slot(const qsim__node *n, size_t k)
{
    if (is_op(n, "Conv") || is_op(n, "ConvTranspose") || is_op(n, "Gemm")) {
        if (k == 1)
            return QSIM__PARAM_WEIGHT;
        if (k == 2)
            return QSIM__PARAM_BIAS;
        return -1;
    }
    if (is_op(n, "MatMul"))
        return k == 1 ? QSIM__PARAM_WEIGHT : -1;
    if (is_op(n, "BatchNormalization")) {
        if (k == 1)
            return QSIM__PARAM_WEIGHT;
        if (k == 2)
            return QSIM__PARAM_BIAS;
        if (k == 3 || k == 4)
            return QSIM__PARAM_NONE;
        return -1;
    }
    if (is_op(n, "InstanceNormalization") || is_op(n, "LayerNormalization") ||
        is_op(n, "GroupNormalization")) {
        if (k == 1)
            return QSIM__PARAM_WEIGHT;
        if (k == 2)
            return QSIM__PARAM_BIAS;
    }
    return -1;
}

static int is_param_value(const qsim__graph *g, int32_t v, const int *dt)
{
    return v >= 0 && g->values[v].constant && dt[v] == QSIM__DT_FLOAT;
}

int qsim__param_channel_axis(const qsim__node *n, int rank)
{
    int pcq = is_op(n, "Conv") || is_op(n, "ConvTranspose") || is_op(n, "Gemm") ||
              is_op(n, "MatMul");
    if (!pcq || rank < 1)
        return -1;
    if (rank == 1)
        return 0;
    if (is_op(n, "ConvTranspose"))
        return 1;
    if (is_op(n, "Gemm")) {
        int64_t tb = 0;
        if (qsim__attr_int(n, "transB", 0, &tb) != QSIM_OK)
            return -1;
        return tb ? 0 : 1;
    }
    if (is_op(n, "MatMul"))
        return rank - 1;
    return 0;
}

/* ---- activations ---------------------------------------------------------- */

static int producer_ignored(const qsim__graph *g, int32_t v)
{
    static const char *const ignore[] = {"Flatten", "Gather", "Reshape", "Shape", "Unsqueeze",
                                         "Squeeze", "Split", "Compress", "Tile", "Transpose",
                                         "Identity", NULL};
    int32_t p = g->values[v].producer;
    if (p < 0)
        return 0;
    for (size_t i = 0; ignore[i]; i++)
        if (is_op(&g->nodes[p], ignore[i]))
            return 1;
    return 0;
}

/* A 1-D constant feeding an Add whose other input comes from a MatMul with
 * a single consumer (a "linear bias"): AIMET places no quantizer on it. */
static int is_linear_bias(const qsim__graph *g, const qsim__node *n, size_t k)
{
    if (!is_op(n, "Add") || n->n_inputs != 2)
        return 0;
    int32_t v = n->inputs[k], o = n->inputs[1 - k];
    if (v < 0 || o < 0 || !g->values[v].constant || !g->values[v].is_initializer ||
        g->values[v].constant->shape.rank != 1)
        return 0;
    int32_t p = g->values[o].producer;
    return p >= 0 && is_op(&g->nodes[p], "MatMul") && g->values[o].n_consumers == 1;
}

static int quantizable(const qsim__graph *g, int32_t v, const int *dt)
{
    return v >= 0 && dt[v] == QSIM__DT_FLOAT && !producer_ignored(g, v);
}

/* ---- building the dict ----------------------------------------------------- */

typedef struct place_ctx {
    const qsim__graph *g;
    const qsim__config *c;
    qsim__qdict *d;
    int *dt;
    int *param_type;        /* per value: -2 not a param, else qsim__param_type */
    int32_t *param_node;    /* per value: first node using it as a param */
    uint8_t *input_q;       /* per value: in AIMET's input_quantizers_name */
    uint8_t *modified;      /* per quantizer index: setting bits of this step */
} place_ctx;

static qsim_status find_params(place_ctx *x)
{
    const qsim__graph *g = x->g;
    for (size_t v = 0; v < g->n_values; v++) {
        x->param_type[v] = -2;
        x->param_node[v] = -1;
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++) {
            int t = param_slot(n, k);
            int32_t v = n->inputs[k];
            if (t < 0 || !is_param_value(g, v, x->dt) || x->param_type[v] != -2)
                continue;
            x->param_type[v] = t;
            x->param_node[v] = (int32_t)i;
        }
    }
    return QSIM_OK;
}

static qsim_status add_activation(place_ctx *x, int32_t v, int32_t producer)
{
    if (qsim__qdict_get(x->d, x->g->values[v].name))
        return QSIM_OK;
    return qsim__qdict_add(x->d, x->g, v, QSIM_QUANTIZER_ACTIVATION, producer, 0, NULL);
}

static qsim_status build(place_ctx *x)
{
    const qsim__graph *g = x->g;
    for (size_t i = 0; i < g->n_inputs; i++) {
        int32_t v = g->inputs[i];
        if (x->param_type[v] == -2 && quantizable(g, v, x->dt))
            QSIM__TRY(add_activation(x, v, -1));
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++) {
            int32_t v = n->inputs[k];
            if (v < 0 || qsim__qdict_get(x->d, g->values[v].name))
                continue;
            if (x->param_type[v] != -2) {
                int32_t pn = x->param_node[v];
                /* op type: the first consumer, which may precede the node
                 * that makes it a param */
                int32_t first = g->values[v].n_consumers ? g->values[v].consumers[0] : pn;
                qsim_quantizer *q = NULL;
                QSIM__TRY(qsim__qdict_add(x->d, g, v, QSIM_QUANTIZER_PARAM, first,
                                          x->param_type[v], &q));
                continue;
            }
            if (is_op(n, "Resize") && k > 0)
                continue;
            if (is_linear_bias(g, n, k))
                continue;
            if (!quantizable(g, v, x->dt))
                continue;
            QSIM__TRY(add_activation(x, v, g->values[v].producer));
            x->input_q[v] = 1;
        }
        for (size_t k = 0; k < n->n_outputs; k++) {
            int32_t v = n->outputs[k];
            if (v < 0 || x->param_type[v] != -2 || !quantizable(g, v, x->dt))
                continue;
            QSIM__TRY(add_activation(x, v, (int32_t)i));
        }
    }
    return QSIM_OK;
}

/* ---- config application ------------------------------------------------------ */

enum { SET_ENABLED = 1, SET_SYMMETRIC = 2 };

static qsim_quantizer *act_q(place_ctx *x, int32_t v)
{
    if (v < 0 || x->param_type[v] != -2)
        return NULL;
    return qsim__qdict_get(x->d, x->g->values[v].name);
}

static qsim_quantizer *param_q(place_ctx *x, const qsim__node *n, size_t k, int *type)
{
    int32_t v = n->inputs[k];
    int t = param_slot(n, k);
    if (t < 0 || v < 0 || x->param_type[v] == -2)
        return NULL;
    if (type)
        *type = t;
    return qsim__qdict_get(x->d, x->g->values[v].name);
}

/* Per-step settings are tracked per graph value (one quantizer each). */
static size_t q_index(const qsim_quantizer *q) { return (size_t)q->value; }

/* AIMET's _modify_activation_quantize_op: a second, different setting of
 * the same kind within one step is a config conflict. */
static qsim_status modify(place_ctx *x, qsim_quantizer *q, int what, int val)
{
    uint8_t *m = &x->modified[q_index(q)];
    if (*m & what) {
        int cur = what == SET_ENABLED ? q->enabled : q->symmetric;
        if (cur != val)
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "quantsim config: conflicting %s settings for quantizer '%s'",
                              what == SET_ENABLED ? "is_quantized" : "is_symmetric", q->name);
        return QSIM_OK;
    }
    if (what == SET_ENABLED)
        q->enabled = val;
    else
        q->symmetric = val;
    *m |= (uint8_t)what;
    return QSIM_OK;
}

static void new_step(place_ctx *x) { memset(x->modified, 0, x->g->n_values ? x->g->n_values : 1); }

static void set_param_cfg(qsim_quantizer *q, int quantized, int symmetric)
{
    if (quantized >= 0)
        q->enabled = quantized;
    if (symmetric >= 0)
        q->symmetric = symmetric;
}

static const char *param_type_name(int type)
{
    return type == QSIM__PARAM_WEIGHT ? "weight" : type == QSIM__PARAM_BIAS ? "bias" : NULL;
}

/* _set_config_for_op: inputs, outputs, symmetry of both, and op params. */
static qsim_status config_op(place_ctx *x, const qsim__node *n, int in_q, int out_q, int sym,
                             const qsim__cfg_op_rule *rule)
{
    if (in_q >= 0)
        for (size_t k = 0; k < n->n_inputs; k++) {
            qsim_quantizer *q = act_q(x, n->inputs[k]);
            if (q)
                QSIM__TRY(modify(x, q, SET_ENABLED, in_q));
        }
    if (out_q >= 0)
        for (size_t k = 0; k < n->n_outputs; k++) {
            qsim_quantizer *q = act_q(x, n->outputs[k]);
            if (q)
                QSIM__TRY(modify(x, q, SET_ENABLED, out_q));
        }
    if (sym >= 0) {
        for (size_t k = 0; k < n->n_inputs; k++) {
            qsim_quantizer *q = act_q(x, n->inputs[k]);
            if (q)
                QSIM__TRY(modify(x, q, SET_SYMMETRIC, sym));
        }
        for (size_t k = 0; k < n->n_outputs; k++) {
            qsim_quantizer *q = act_q(x, n->outputs[k]);
            if (q)
                QSIM__TRY(modify(x, q, SET_SYMMETRIC, sym));
        }
    }
    if (rule && rule->param_count)
        for (size_t k = 0; k < n->n_inputs; k++) {
            int t = 0;
            qsim_quantizer *q = param_q(x, n, k, &t);
            const char *tn = q ? param_type_name(t) : NULL;
            const qsim__cfg_param_rule *pc = tn ? qsim__cfg_op_find_param(rule, tn) : NULL;
            if (pc)
                set_param_cfg(q, pc->is_quantized, pc->is_symmetric);
        }
    return QSIM_OK;
}

static int is_const_node(const qsim__node *n)
{
    return is_op(n, "Constant") || is_op(n, "ConstantOfShape");
}

/* ConnectedGraph's starting ops: no input comes from another (non-Constant) op. */
static int is_input_op(const qsim__graph *g, const qsim__node *n)
{
    if (is_const_node(n))
        return 0;
    for (size_t k = 0; k < n->n_inputs; k++) {
        int32_t v = n->inputs[k];
        if (v >= 0 && g->values[v].producer >= 0 && !is_const_node(&g->nodes[g->values[v].producer]))
            return 0;
    }
    return 1;
}

/* Ops whose outputs feed no other op. */
static int is_output_op(const qsim__graph *g, const qsim__node *n)
{
    if (is_const_node(n))
        return 0;
    for (size_t k = 0; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0 && g->values[n->outputs[k]].n_consumers)
            return 0;
    return 1;
}


/* Match a supergroup chain starting at node i: each op's first output has
 * exactly one consumer, of the next type. */
static int match_group(const qsim__graph *g, size_t i, char *const *types, size_t len,
                       int32_t *chain)
{
    int32_t cur = (int32_t)i;
    for (size_t k = 0; k < len; k++) {
        const qsim__node *n = &g->nodes[cur];
        if (!is_op(n, types[k]))
            return 0;
        chain[k] = cur;
        if (k + 1 == len)
            break;
        if (n->n_outputs < 1 || n->outputs[0] < 0)
            return 0;
        const qsim__value *o = &g->values[n->outputs[0]];
        if (o->n_consumers != 1)
            return 0;
        cur = o->consumers[0];
    }
    return 1;
}

/* aimet-onnx [B]: a 4-bit grid cannot hold per-channel norm scales (one
 * per-tensor step for every channel's gamma), so normalization params get
 * at least 8 bits, and BatchNormalization/LayerNormalization params are
 * asymmetric below 16 bits. A config or set_bitwidth can still override. */
static void norm_param_rule(const place_ctx *x, qsim_quantizer *q)
{
    int32_t pn = x->param_node[q->value];
    if (pn < 0)
        return;
    const qsim__node *n = &x->g->nodes[pn];
    int bn_ln = is_op(n, "BatchNormalization") || is_op(n, "LayerNormalization");
    if (!bn_ln && !is_op(n, "InstanceNormalization") && !is_op(n, "GroupNormalization"))
        return;
    if (q->bitwidth < 8)
        q->bitwidth = 8;
    if (bn_ln && q->bitwidth < 16)
        q->symmetric = 0;
}

static qsim_status apply_config(place_ctx *x, const qsim__place_opts *o)
{
    const qsim__graph *g = x->g;
    const qsim__config *c = x->c;
    size_t nq = qsim__qdict_count(x->d);
    /* 1. everything off */
    for (size_t i = 0; i < nq; i++)
        qsim__qdict_at(x->d, i)->enabled = 0;
    /* 2. defaults: ops, then params, then strict/unsigned */
    new_step(x);
    for (size_t i = 0; i < g->n_nodes; i++)
        if (!is_const_node(&g->nodes[i]))
            QSIM__TRY(config_op(x, &g->nodes[i], -1, c->ops_is_output_quantized,
                                c->ops_is_symmetric, NULL));
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        if (!is_input_op(g, n))
            continue;
        for (size_t k = 0; k < n->n_inputs; k++) {
            qsim_quantizer *q = act_q(x, n->inputs[k]);
            if (q)
                q->enabled = 0;
        }
    }
    for (size_t i = 0; i < nq; i++) {
        qsim_quantizer *q = qsim__qdict_at(x->d, i);
        int32_t p = g->values[q->value].producer;
        if (q->kind == QSIM_QUANTIZER_ACTIVATION &&
            (x->input_q[q->value] || (p >= 0 && is_const_node(&g->nodes[p]))))
            q->enabled = 0;
    }
    for (size_t i = 0; i < nq; i++) {
        qsim_quantizer *q = qsim__qdict_at(x->d, i);
        if (q->kind == QSIM_QUANTIZER_PARAM)
            set_param_cfg(q, c->params_is_quantized, c->params_is_symmetric);
    }
    for (size_t i = 0; i < nq; i++) {
        qsim_quantizer *q = qsim__qdict_at(x->d, i);
        if (c->strict_symmetric >= 0)
            q->strict = c->strict_symmetric;
        if (c->unsigned_symmetric >= 0)
            q->unsigned_sym = c->unsigned_symmetric;
    }
    /* 3. params by type, op types, supergroups */
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++) {
            int t = 0;
            qsim_quantizer *q = param_q(x, n, k, &t);
            const char *tn = q ? param_type_name(t) : NULL;
            const qsim__cfg_param_rule *pc = tn ? qsim__config_find_param(c, tn) : NULL;
            if (pc)
                set_param_cfg(q, pc->is_quantized, pc->is_symmetric);
        }
    }
    new_step(x);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        const qsim__cfg_op_rule *oc = qsim__config_find_op(c, n->op_type);
        if (!oc || is_const_node(n))
            continue;
        QSIM__TRY(config_op(x, n, oc->is_input_quantized, oc->is_output_quantized,
                            oc->is_symmetric, oc));
        if (oc->has_encoding_constraints)
            for (size_t k = 0; k < n->n_outputs; k++) {
                qsim_quantizer *q = act_q(x, n->outputs[k]);
                if (q) {
                    q->has_fixed_range = 1;
                    q->fixed_min = oc->constraint_min;
                    q->fixed_max = oc->constraint_max;
                }
            }
    }
    for (size_t gi = 0; gi < c->supergroup_count; gi++) {
        int32_t chain[16];
        size_t len = c->supergroups[gi].count;
        if (len < 2 || len > 16)
            continue;
        for (size_t i = 0; i < g->n_nodes; i++) {
            if (!match_group(g, i, c->supergroups[gi].op_list, len, chain))
                continue;
            for (size_t k = 0; k + 1 < len; k++) {
                const qsim__node *n = &g->nodes[chain[k]];
                for (size_t j = 0; j < n->n_outputs; j++) {
                    qsim_quantizer *q = act_q(x, n->outputs[j]);
                    if (q)
                        q->enabled = 0;
                }
            }
        }
    }
    /* 4. model inputs (and constant operands), model outputs */
    if (c->model_input_is_input_quantized >= 0) {
        new_step(x);
        for (size_t i = 0; i < g->n_nodes; i++)
            if (is_input_op(g, &g->nodes[i]))
                QSIM__TRY(config_op(x, &g->nodes[i], c->model_input_is_input_quantized, -1, -1,
                                    NULL));
        for (size_t i = 0; i < nq; i++) {
            qsim_quantizer *q = qsim__qdict_at(x->d, i);
            int32_t p = g->values[q->value].producer;
            if (q->kind != QSIM_QUANTIZER_ACTIVATION || x->modified[q->value])
                continue;
            if (x->input_q[q->value] || (p >= 0 && is_const_node(&g->nodes[p])))
                QSIM__TRY(modify(x, q, SET_ENABLED, c->model_input_is_input_quantized));
        }
    }
    if (c->model_output_is_output_quantized >= 0)
        for (size_t i = 0; i < g->n_nodes; i++)
            if (is_output_op(g, &g->nodes[i])) {
                new_step(x);
                QSIM__TRY(config_op(x, &g->nodes[i], -1, c->model_output_is_output_quantized, -1,
                                    NULL));
            }
    /* 5. bitwidth and data type from the options */
    for (size_t i = 0; i < nq; i++) {
        qsim_quantizer *q = qsim__qdict_at(x->d, i);
        q->data_type = o->data_type;
        q->scheme = o->quant_scheme;
        q->bitwidth = q->kind == QSIM_QUANTIZER_PARAM ? o->param_bw : o->activation_bw;
        if (q->data_type == QSIM_DATA_TYPE_FLOAT)
            q->bitwidth = 16;
        else if (q->kind == QSIM_QUANTIZER_PARAM)
            norm_param_rule(x, q);
    }
    /* 6. per-channel: every param quantizer of an op that has it */
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        const qsim__cfg_op_rule *oc = qsim__config_find_op(c, n->op_type);
        int pcq = oc && oc->per_channel_quantization >= 0 ? oc->per_channel_quantization
                                                          : c->per_channel_quantization > 0;
        if (!pcq)
            continue;
        for (size_t k = 0; k < n->n_inputs; k++) {
            qsim_quantizer *q = param_q(x, n, k, NULL);
            if (!q || q->axis >= 0)
                continue;
            const qsim__tensor *t = g->values[q->value].constant;
            int axis = qsim__param_channel_axis(n, t->shape.rank);
            if (axis < 0 || axis >= t->shape.rank)
                continue;
            QSIM__TRY(qsim__quantizer_set_channels(q, axis, (size_t)t->shape.dims[axis]));
        }
    }
    return QSIM_OK;
}

qsim_status qsim__place_quantizers(const qsim__graph *g, const qsim__config *c,
                                   const qsim__place_opts *o, qsim__qdict *d)
{
    place_ctx x;
    memset(&x, 0, sizeof x);
    x.g = g;
    x.c = c;
    x.d = d;
    size_t nv = g->n_values ? g->n_values : 1;
    qsim_status st = infer_dtypes(g, &x.dt);
    if (st != QSIM_OK)
        return st;
    x.param_type = qsim__malloc_array(nv, sizeof *x.param_type);
    x.param_node = qsim__malloc_array(nv, sizeof *x.param_node);
    x.input_q = qsim__calloc(nv, 1);
    x.modified = qsim__calloc(nv, 1);
    if (!x.param_type || !x.param_node || !x.input_q || !x.modified)
        st = qsim__oom();
    if (st == QSIM_OK)
        st = find_params(&x);
    if (st == QSIM_OK)
        st = build(&x);
    if (st == QSIM_OK)
        st = apply_config(&x, o);
    qsim__free(x.dt);
    qsim__free(x.param_type);
    qsim__free(x.param_node);
    qsim__free(x.input_q);
    qsim__free(x.modified);
    return st;
}
