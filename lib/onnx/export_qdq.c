/* QDQ ONNX export: the loaded model re-serialized (export.c) with a
 * QuantizeLinear/DequantizeLinear or Cast pair inserted on each chosen
 * tensor. Everything added is allocated in a per-call arena of small
 * blocks; the model and its proto are never modified. */
#include "export_qdq.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "export.h"
#include "loader.h"

#include <stdio.h>
#include <string.h>

typedef struct arena {
    void **p;
    size_t n, cap;
    int oom;
} arena;

static void *keep(arena *a, void *p)
{
    if (!p) {
        a->oom = 1;
        return NULL;
    }
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        void **np = qsim__realloc_array(a->p, cap, sizeof *np);
        if (!np) {
            qsim__free(p);
            a->oom = 1;
            return NULL;
        }
        a->p = np;
        a->cap = cap;
    }
    a->p[a->n++] = p;
    return p;
}

static void *acalloc(arena *a, size_t n, size_t size)
{
    return keep(a, qsim__calloc(n ? n : 1, size));
}

static char *aname(arena *a, const char *base, const char *suffix)
{
    size_t n = strlen(base) + strlen(suffix) + 1;
    char *s = acalloc(a, n, 1);
    if (s)
        snprintf(s, n, "%s%s", base, suffix);
    return s;
}

/* Per pair: the names the rewrite uses. */
typedef struct pair_names {
    const char *orig;   /* the tensor's name in the model */
    const char *write;  /* what its producer writes (orig, or "<orig>_fp") */
    const char *read;   /* what its consumers read ("<orig>_dq", or orig) */
} pair_names;

typedef struct edit_ctx {
    const qsim_model *m;
    const qsim__qdq_pair *pairs;
    size_t n_pairs;
    int64_t opset;
    const char *path;
    arena a;
    pair_names *names;
    qsim__strmap *by_name;   /* orig name -> pair index + 1 */
} edit_ctx;

static Onnx__AttributeProto *int_attr(arena *a, const char *name, int64_t v)
{
    Onnx__AttributeProto *at = acalloc(a, 1, sizeof *at);
    if (!at)
        return NULL;
    onnx__attribute_proto__init(at);
    at->name = (char *)name;
    at->has_type = 1;
    at->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    at->has_i = 1;
    at->i = v;
    return at;
}

static Onnx__NodeProto *new_node(arena *a, const char *op, char *name, size_t nin,
                                 const char *const *in, const char *out,
                                 Onnx__AttributeProto *attr)
{
    Onnx__NodeProto *n = acalloc(a, 1, sizeof *n);
    char **ins = acalloc(a, nin, sizeof *ins);
    char **outs = acalloc(a, 1, sizeof *outs);
    Onnx__AttributeProto **ats = acalloc(a, 1, sizeof *ats);
    if (!n || !ins || !outs || !ats || !name)
        return NULL;
    onnx__node_proto__init(n);
    n->op_type = (char *)op;
    n->name = name;
    n->domain = (char *)"";
    n->n_input = nin;
    n->input = ins;
    for (size_t i = 0; i < nin; i++)
        ins[i] = (char *)in[i];
    n->n_output = 1;
    n->output = outs;
    outs[0] = (char *)out;
    if (attr) {
        ats[0] = attr;
        n->n_attribute = 1;
        n->attribute = ats;
    }
    return n;
}

static size_t zp_bytes(int type, size_t n)
{
    switch (type) {
    case 21: case 22: return (n + 1) / 2;      /* uint4 / int4: two per byte */
    case 4: case 5: return n * 2;
    default: return n;
    }
}

/* A scale or zero-point initializer: rank 0 per-tensor, [channels] per-channel. */
static Onnx__TensorProto *new_init(arena *a, const char *name, int type, const qsim__qdq_pair *p,
                                   int is_zp)
{
    Onnx__TensorProto *t = acalloc(a, 1, sizeof *t);
    int64_t *dims = acalloc(a, 1, sizeof *dims);
    size_t nb = is_zp ? zp_bytes(type, p->channels) : p->channels * sizeof(float);
    uint8_t *d = acalloc(a, nb, 1);
    if (!t || !dims || !d)
        return NULL;
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = type;
    if (p->axis >= 0) {
        dims[0] = (int64_t)p->channels;
        t->n_dims = 1;
        t->dims = dims;
    }
    for (size_t c = 0; c < p->channels; c++) {
        if (!is_zp) {
            memcpy(d + c * sizeof(float), &p->scale[c], sizeof(float));
            continue;
        }
        int32_t z = p->zero_point[c];
        switch (type) {
        case 21: case 22:
            d[c / 2] = (uint8_t)(d[c / 2] | (((uint32_t)z & 0xfu) << (4 * (c % 2))));
            break;
        case 4: case 5: {
            uint16_t u = (uint16_t)(uint32_t)z;
            d[2 * c] = (uint8_t)(u & 0xffu); /* little-endian raw_data */
            d[2 * c + 1] = (uint8_t)(u >> 8);
            break;
        }
        default:
            d[c] = (uint8_t)(uint32_t)z;
        }
    }
    t->has_raw_data = 1;
    t->raw_data.len = nb;
    t->raw_data.data = d;
    return t;
}

/* A Clip bound: a float scalar per-tensor, or shaped [1..C..1] (C at axis
 * of a rank-r tensor) per-channel so Min/Max broadcast it per channel. */
static Onnx__TensorProto *bound_init(arena *a, const char *name, const float *v,
                                     const qsim__qdq_pair *p, int rank)
{
    Onnx__TensorProto *t = acalloc(a, 1, sizeof *t);
    int64_t *dims = acalloc(a, rank > 0 ? (size_t)rank : 1, sizeof *dims);
    uint8_t *d = acalloc(a, p->channels, sizeof(float));
    if (!t || !dims || !d)
        return NULL;
    onnx__tensor_proto__init(t);
    t->name = (char *)name;
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    if (p->axis >= 0) {
        for (int i = 0; i < rank; i++)
            dims[i] = i == p->axis ? (int64_t)p->channels : 1;
        t->n_dims = (size_t)rank;
        t->dims = dims;
    }
    memcpy(d, v, p->channels * sizeof(float));
    t->has_raw_data = 1;
    t->raw_data.len = p->channels * sizeof(float);
    t->raw_data.data = d;
    return t;
}

/* Append metadata_props "qsim.qdq_low_bit" = "clip" (replacing one the
 * model may already have). */
static qsim_status mark_clip(arena *a, Onnx__ModelProto *model)
{
    size_t n = model->n_metadata_props;
    Onnx__StringStringEntryProto **md = acalloc(a, n + 1, sizeof *md);
    Onnx__StringStringEntryProto *e = acalloc(a, 1, sizeof *e);
    if (!md || !e)
        return qsim__oom();
    onnx__string_string_entry_proto__init(e);
    e->key = (char *)QSIM__QDQ_CLIP_KEY;
    e->value = (char *)QSIM__QDQ_CLIP_VALUE;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!model->metadata_props[i]->key ||
            strcmp(model->metadata_props[i]->key, QSIM__QDQ_CLIP_KEY))
            md[k++] = model->metadata_props[i];
    md[k++] = e;
    model->metadata_props = md;
    model->n_metadata_props = k;
    return QSIM_OK;
}

static qsim_status edit(void *model_v, void *ctx_v)
{
    Onnx__ModelProto *model = model_v;
    edit_ctx *c = ctx_v;
    arena *a = &c->a;
    const qsim__graph *g = &c->m->graph;
    Onnx__GraphProto *gp = model->graph;
    size_t np = c->n_pairs, nn = gp->n_node, ni = gp->n_initializer;
    /* every pair adds 2 nodes (4 with a clip), an int pair 2 initializers
     * (4 with a clip); pair i's nodes are pair_nodes[4i ..], n_pn[i] of them */
    Onnx__NodeProto **nodes = acalloc(a, nn + 4 * np, sizeof *nodes);
    Onnx__TensorProto **inits = acalloc(a, ni + 4 * np, sizeof *inits);
    Onnx__NodeProto **pair_nodes = acalloc(a, 4 * np, sizeof *pair_nodes);
    size_t *n_pn = acalloc(a, np, sizeof *n_pn);
    int any_clip = 0;
    /* proto node index -> first pair following it (+1), chained by next */
    size_t *after = acalloc(a, nn + 1, sizeof *after), *next = acalloc(a, np, sizeof *next);
    if (!nodes || !inits || !pair_nodes || !n_pn || !after || !next)
        return qsim__oom();
    memcpy(inits, gp->initializer, ni * sizeof *inits);
    size_t n_init = ni;
    for (size_t i = 0; i < np; i++) {
        const qsim__qdq_pair *p = &c->pairs[i];
        const pair_names *pn = &c->names[i];
        const char *o = pn->orig;
        if (p->kind == QSIM__QDQ_FP16) {
            Onnx__AttributeProto *to16 = int_attr(a, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT16);
            Onnx__AttributeProto *to32 = int_attr(a, "to", ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
            const char *mid = aname(a, o, "_fp16");
            const char *in1[1] = {pn->write}, *in2[1] = {mid};
            pair_nodes[4 * i] = new_node(a, "Cast", aname(a, o, "_cast_fp16"), 1, in1, mid, to16);
            pair_nodes[4 * i + 1] = new_node(a, "Cast", aname(a, o, "_cast_fp32"), 1, in2, pn->read,
                                             to32);
            n_pn[i] = 2;
            if (!to16 || !to32 || !mid || !pair_nodes[4 * i] || !pair_nodes[4 * i + 1])
                return qsim__oom();
            continue;
        }
        const char *qsrc = pn->write;
        if (p->clip_lo) {
            /* Min(x, hi) -> Max(., lo): the quantizer's float range */
            const char *hn = aname(a, o, "_clip_hi"), *ln = aname(a, o, "_clip_lo");
            const char *mn = aname(a, o, "_clip_min"), *cn = aname(a, o, "_clipped");
            if (!hn || !ln || !mn || !cn)
                return qsim__oom();
            int rank = g->values[p->value].rank;
            if (p->axis >= 0 && rank <= p->axis)
                return qsim__fail(QSIM_ERR_INTERNAL, "exporting QDQ: per-channel tensor '%s' has "
                                  "no known rank", o);
            Onnx__TensorProto *ht = bound_init(a, hn, p->clip_hi, p, rank);
            Onnx__TensorProto *lt = bound_init(a, ln, p->clip_lo, p, rank);
            const char *min_in[2] = {pn->write, hn}, *max_in[2] = {mn, ln};
            pair_nodes[4 * i] = new_node(a, "Min", aname(a, o, "_ClipMin"), 2, min_in, mn, NULL);
            pair_nodes[4 * i + 1] = new_node(a, "Max", aname(a, o, "_ClipMax"), 2, max_in, cn,
                                             NULL);
            if (!ht || !lt || !pair_nodes[4 * i] || !pair_nodes[4 * i + 1])
                return qsim__oom();
            inits[n_init++] = ht;
            inits[n_init++] = lt;
            n_pn[i] = 2;
            qsrc = cn;
            any_clip = 1;
        }
        const char *sn = aname(a, o, "_scale"), *zn = aname(a, o, "_zero_point");
        const char *qn = aname(a, o, "_quantized");
        if (!sn || !zn || !qn)
            return qsim__oom();
        Onnx__TensorProto *st = new_init(a, sn, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT, p, 0);
        Onnx__TensorProto *zt = new_init(a, zn, p->zp_type, p, 1);
        Onnx__AttributeProto *ax1 = p->axis >= 0 ? int_attr(a, "axis", p->axis) : NULL;
        Onnx__AttributeProto *ax2 = p->axis >= 0 ? int_attr(a, "axis", p->axis) : NULL;
        const char *qin[3] = {qsrc, sn, zn}, *dqin[3] = {qn, sn, zn};
        size_t k0 = 4 * i + n_pn[i];
        pair_nodes[k0] = new_node(a, "QuantizeLinear", aname(a, o, "_QuantizeLinear"), 3, qin,
                                  qn, ax1);
        pair_nodes[k0 + 1] = new_node(a, "DequantizeLinear", aname(a, o, "_DequantizeLinear"),
                                      3, dqin, pn->read, ax2);
        n_pn[i] += 2;
        if (!st || !zt || (p->axis >= 0 && (!ax1 || !ax2)) || !pair_nodes[k0] ||
            !pair_nodes[k0 + 1])
            return qsim__oom();
        inits[n_init++] = st;
        inits[n_init++] = zt;
    }
    /* placement: pairs on inputs/constants first, others after their producer */
    for (size_t i = np; i-- > 0;) {
        int32_t prod = g->values[c->pairs[i].value].producer;
        size_t slot = prod >= 0 ? g->nodes[prod].proto_index + 1 : 0;
        if (slot > nn)
            slot = 0;
        next[i] = after[slot];
        after[slot] = i + 1;
    }
    size_t k = 0;
    for (size_t j = after[0]; j; j = next[j - 1])
        for (size_t e = 0; e < n_pn[j - 1]; e++)
            nodes[k++] = pair_nodes[4 * (j - 1) + e];
    for (size_t ix = 0; ix < nn; ix++) {
        Onnx__NodeProto *src = gp->node[ix];
        int changed = 0;
        for (size_t s = 0; s < src->n_input && !changed; s++)
            changed = src->input[s] && *src->input[s] &&
                      qsim__strmap_get(c->by_name, src->input[s], NULL);
        for (size_t s = 0; s < src->n_output && !changed; s++)
            changed = src->output[s] && *src->output[s] &&
                      qsim__strmap_get(c->by_name, src->output[s], NULL);
        if (!changed) {
            nodes[k++] = src;
        } else {
            Onnx__NodeProto *cp = acalloc(a, 1, sizeof *cp);
            char **ins = acalloc(a, src->n_input, sizeof *ins);
            char **outs = acalloc(a, src->n_output, sizeof *outs);
            if (!cp || !ins || !outs)
                return qsim__oom();
            *cp = *src;
            for (size_t s = 0; s < src->n_input; s++) {
                void *v = src->input[s] && *src->input[s]
                              ? qsim__strmap_get(c->by_name, src->input[s], NULL) : NULL;
                ins[s] = v ? (char *)c->names[(size_t)(intptr_t)v - 1].read : src->input[s];
            }
            for (size_t s = 0; s < src->n_output; s++) {
                void *v = src->output[s] && *src->output[s]
                              ? qsim__strmap_get(c->by_name, src->output[s], NULL) : NULL;
                outs[s] = v ? (char *)c->names[(size_t)(intptr_t)v - 1].write : src->output[s];
            }
            cp->input = ins;
            cp->output = outs;
            nodes[k++] = cp;
        }
        for (size_t j = after[ix + 1]; j; j = next[j - 1])
            for (size_t e = 0; e < n_pn[j - 1]; e++)
                nodes[k++] = pair_nodes[4 * (j - 1) + e];
    }
    gp->node = nodes;
    gp->n_node = k;
    if (any_clip)
        QSIM__TRY(mark_clip(a, model));
    gp->initializer = inits;
    gp->n_initializer = n_init;
    /* opset and IR version (opset 21 needs IR 10, 13 needs IR 7) */
    Onnx__OperatorSetIdProto **ops = acalloc(a, model->n_opset_import + 1, sizeof *ops);
    Onnx__OperatorSetIdProto *onnx_op = acalloc(a, 1, sizeof *onnx_op);
    if (!ops || !onnx_op)
        return qsim__oom();
    size_t no = 0;
    int found = 0;
    for (size_t i = 0; i < model->n_opset_import; i++) {
        Onnx__OperatorSetIdProto *o = model->opset_import[i];
        if (!found && (!o->domain || !*o->domain || !strcmp(o->domain, "ai.onnx"))) {
            *onnx_op = *o;
            if (!onnx_op->has_version || onnx_op->version < c->opset)
                onnx_op->version = c->opset;
            onnx_op->has_version = 1;
            ops[no++] = onnx_op;
            found = 1;
            continue;
        }
        ops[no++] = o;
    }
    if (!found) {
        onnx__operator_set_id_proto__init(onnx_op);
        onnx_op->domain = (char *)"";
        onnx_op->has_version = 1;
        onnx_op->version = c->opset;
        ops[no++] = onnx_op;
    }
    model->opset_import = ops;
    model->n_opset_import = no;
    int64_t ir = c->opset >= 21 ? 10 : 7;
    if (!model->has_ir_version || model->ir_version < ir) {
        model->has_ir_version = 1;
        model->ir_version = ir;
    }
    return QSIM_OK;
}

qsim_status qsim__onnx_export_qdq(const qsim_model *m, const qsim__tensor *const *replace,
                                  const qsim__qdq_pair *pairs, size_t n_pairs, int64_t opset,
                                  const char *path)
{
    const qsim__graph *g = &m->graph;
    edit_ctx c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.pairs = pairs;
    c.n_pairs = n_pairs;
    c.opset = opset;
    c.path = path;
    qsim_status st = QSIM_OK;
    c.names = qsim__calloc(n_pairs ? n_pairs : 1, sizeof *c.names);
    c.by_name = qsim__strmap_create();
    if (!c.names || !c.by_name) {
        st = qsim__oom();
        goto out;
    }
    static const char *const sfx[] = {"_dq", "_fp", "_fp16", "_scale", "_zero_point",
                                      "_quantized", "_QuantizeLinear", "_DequantizeLinear",
                                      "_cast_fp16", "_cast_fp32", "_clip_hi", "_clip_lo",
                                      "_clip_min", "_clipped", "_ClipMin", "_ClipMax"};
    for (size_t i = 0; i < n_pairs && st == QSIM_OK; i++) {
        const qsim__value *v = &g->values[pairs[i].value];
        pair_names *pn = &c.names[i];
        pn->orig = v->name;
        for (size_t s = 0; s < sizeof sfx / sizeof *sfx; s++) {
            char *nm = aname(&c.a, v->name, sfx[s]);
            if (!nm) {
                st = qsim__oom();
                break;
            }
            if (qsim__graph_find(g, nm) >= 0) {
                st = qsim__fail(QSIM_ERR_UNSUPPORTED, "exporting QDQ '%s': the model already has "
                                "a tensor '%s', the name of an inserted one", path, nm);
                break;
            }
        }
        if (st != QSIM_OK)
            break;
        int out_renamed = v->producer >= 0 && v->is_graph_output && !v->constant;
        pn->write = out_renamed ? aname(&c.a, v->name, "_fp") : v->name;
        pn->read = out_renamed ? v->name : aname(&c.a, v->name, "_dq");
        if (!pn->write || !pn->read || c.a.oom) {
            st = qsim__oom();
            break;
        }
        int r = qsim__strmap_put_new(c.by_name, v->name, (void *)(intptr_t)(i + 1));
        if (r < 0) {
            st = qsim__oom();
            break;
        }
        if (r) {
            st = qsim__fail(QSIM_ERR_INTERNAL, "exporting QDQ '%s': tensor '%s' has two pairs",
                            path, v->name);
            break;
        }
    }
    if (st == QSIM_OK)
        st = qsim__onnx_export_edit(m, replace, edit, &c, path);
out:
    for (size_t i = 0; i < c.a.n; i++)
        qsim__free(c.a.p[i]);
    qsim__free(c.a.p);
    qsim__free(c.names);
    qsim__strmap_free(c.by_name);
    return st;
}
