/* qsim_sim_create_from_qdq: a QDQ ONNX model (libqsim's qsim_export_qdq,
 * or onnxruntime's quantizer with Q/DQ pairs on float tensors) becomes a
 * float graph plus a sim whose quantizers hold the pairs' encodings.
 *
 * A pair is QuantizeLinear(X, s, z) -> Y read only by DequantizeLinear(Y,
 * s', z') -> Z with constant s == s', z == z'; or Cast(X, to=float16) -> Y
 * read only by Cast(Y, to=float) -> Z (an FP16 quantizer). Both nodes go;
 * the merged tensor keeps X's name, or Z's when Z is a graph output, and
 * every reader of X or Z reads it. The float model is rebuilt (serialized
 * and loaded again), so the sim's graph never sees the pairs. Quantizers
 * the placement puts on tensors without a pair are disabled. A lone
 * DequantizeLinear on an int initializer W (onnxruntime's default weight
 * layout) goes too: W becomes a float initializer of dequantized values. */
#include "quantsim.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../onnx/export.h"
#include "../onnx/export_qdq.h"
#include "../onnx/loader.h"

#include <math.h>
#include <string.h>

typedef struct qpair {
    int32_t q_node, dq_node;      /* graph node indices */
    int32_t min_node, max_node;   /* the "clip" Min -> Max before q_node, or -1 */
    int32_t x, y, z;              /* values */
    int fp16;
    int bw, is_signed, strict;
    int axis;                     /* -1 per-tensor */
    size_t channels;
    qsim__encoding *enc;          /* channels entries (int pairs) */
    const char *name;             /* merged tensor's name */
    float *wf;                    /* lone DQ on an int initializer: its float values */
} qpair;

typedef struct import_ctx {
    const qsim__graph *g;
    qpair *pairs;
    size_t n;
    uint8_t *drop_node;           /* per proto node index */
    qsim__strmap *rename;         /* old name -> new name */
    qsim__strmap *drop_name;      /* value_info / initializer names to drop */
    qsim__strmap *float_init;     /* int initializer name -> qpair (lone DQ) */
    void **allocs;
    size_t n_allocs;
} import_ctx;

static int is_onnx(const qsim__node *n, const char *op)
{
    return !strcmp(n->op_type, op) && (!n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx"));
}

static int same_const(const qsim__graph *g, int32_t a, int32_t b)
{
    if (a == b)
        return 1;
    if (a < 0 || b < 0)
        return 0;
    const qsim__tensor *ta = g->values[a].constant, *tb = g->values[b].constant;
    return ta && tb && ta->dtype == tb->dtype && ta->numel == tb->numel &&
           !memcmp(ta->data, tb->data, ta->numel * qsim__dtype_size(ta->dtype));
}

static int64_t zp_at(const qsim__tensor *t, size_t i)
{
    switch (t->dtype) {
    case QSIM__DT_UINT8:
    case QSIM__DT_UINT4: return ((const uint8_t *)t->data)[i]; /* 4-bit: one per byte */
    case QSIM__DT_INT8:
    case QSIM__DT_INT4: return ((const int8_t *)t->data)[i];
    case QSIM__DT_UINT16: return ((const uint16_t *)t->data)[i];
    case QSIM__DT_INT16: return ((const int16_t *)t->data)[i];
    default: return 0;
    }
}

/* Encodings of scale s / zero point z (NULL: uint8 0) on p->x. */
static qsim_status encodings_from(const qsim__graph *g, const qsim__tensor *s,
                                  const qsim__tensor *z, int64_t qa, const char *lbl, qpair *p)
{
    if (s->dtype != QSIM__DT_FLOAT || (z && z->numel != s->numel) || s->numel == 0)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: float scale with a matching zero point "
                          "expected", lbl);
    int dt = z ? z->dtype : QSIM__DT_UINT8;
    int bw = dt == QSIM__DT_UINT8 || dt == QSIM__DT_INT8 ? 8
             : dt == QSIM__DT_UINT16 || dt == QSIM__DT_INT16 ? 16
             : qsim__dtype_is_4bit(dt) ? 4 : 0;
    if (!bw)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: zero point type %s (supported: uint4, int4, "
                          "uint8, int8, uint16, int16)", lbl, qsim__dtype_name(dt));
    p->bw = bw;
    p->is_signed = dt == QSIM__DT_INT8 || dt == QSIM__DT_INT16 || dt == QSIM__DT_INT4;
    p->channels = s->numel;
    p->axis = -1;
    if (s->shape.rank == 1 && s->numel > 1) {
        int rank = g->values[p->x].rank;
        if (rank <= 0 || qa < -rank || qa >= rank)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: axis %lld for a tensor of unknown or "
                              "smaller rank", lbl, (long long)qa);
        p->axis = (int)(qa < 0 ? qa + rank : qa);
    }
    p->enc = qsim__malloc_array(p->channels, sizeof *p->enc);
    if (!p->enc)
        return qsim__oom();
    double n = ldexp(1.0, bw) - 1.0;
    for (size_t c = 0; c < p->channels; c++) {
        double sc = ((const float *)s->data)[c];
        if (!(sc > 0.0) || !isfinite(sc))
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: scale %g is not positive", lbl, sc);
        int64_t zp = z ? zp_at(z, c) : 0;
        int64_t off = -zp - (p->is_signed ? ((int64_t)1 << (bw - 1)) : 0);
        qsim__encoding *e = &p->enc[c];
        e->delta = sc;
        e->offset = off;
        e->bw = bw;
        e->min = sc * (double)off;
        e->max = sc * (n + (double)off);
    }
    return QSIM_OK;
}

/* The only reader of value v is a node of type op (read at input slot 0):
 * its index, else -1. */
static int32_t sole_reader(const qsim__graph *g, int32_t v, const char *op)
{
    if (v < 0 || g->values[v].n_consumers != 1 || g->values[v].is_graph_output)
        return -1;
    int32_t n = g->values[v].consumers[0];
    const qsim__node *nd = &g->nodes[n];
    return is_onnx(nd, op) && nd->n_inputs >= 1 && nd->inputs[0] == v ? n : -1;
}

/* A "clip" model (QSIM_OPT_QDQ_LOW_BIT): QuantizeLinear's input is
 * Max(Min(X, hi), lo), each read only by the next. On a match p->x is X
 * and the two nodes are noted; *lo / *hi get the bound constants. */
static void find_clip(const qsim__graph *g, const qsim__node *q, qpair *p,
                      const qsim__tensor **lo, const qsim__tensor **hi)
{
    *lo = *hi = NULL;
    int32_t cv = q->inputs[0];
    int32_t mx = cv >= 0 ? g->values[cv].producer : -1;
    if (mx < 0 || !is_onnx(&g->nodes[mx], "Max") || g->nodes[mx].n_inputs != 2 ||
        g->values[cv].n_consumers != 1 || g->values[cv].is_graph_output)
        return;
    int32_t mv = g->nodes[mx].inputs[0], lv = g->nodes[mx].inputs[1];
    int32_t mn = mv >= 0 ? g->values[mv].producer : -1;
    if (mn < 0 || lv < 0 || !is_onnx(&g->nodes[mn], "Min") || g->nodes[mn].n_inputs != 2 ||
        sole_reader(g, mv, "Max") != mx || g->nodes[mn].inputs[0] < 0 ||
        g->nodes[mn].inputs[1] < 0)
        return;
    const qsim__tensor *l = g->values[lv].constant, *h = g->values[g->nodes[mn].inputs[1]].constant;
    if (!l || !h || l->dtype != QSIM__DT_FLOAT || h->dtype != QSIM__DT_FLOAT)
        return;
    *lo = l;
    *hi = h;
    p->min_node = mn;
    p->max_node = mx;
    p->x = g->nodes[mn].inputs[0];
}

/* The low-bit grid a clip [lo, hi] cuts out of the 8-bit pair: bounds on
 * the grid of every channel's scale, 2^bw codes (2..7 bit) or 2^bw - 1
 * symmetric around 0 (strict symmetric), inside the zero point type. */
static qsim_status clip_grid(const qsim__tensor *lo, const qsim__tensor *hi, const char *lbl,
                             qpair *p, const qsim__tensor *z)
{
    if ((lo->numel != 1 && lo->numel != p->channels) || hi->numel != lo->numel)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: clip bounds have %zu/%zu values for %zu "
                          "channels", lbl, lo->numel, hi->numel, p->channels);
    int bw = 0, strict = 0;
    for (size_t c = 0; c < p->channels; c++) {
        qsim__encoding *e = &p->enc[c];
        double l = ((const float *)lo->data)[lo->numel == 1 ? 0 : c];
        double h = ((const float *)hi->data)[hi->numel == 1 ? 0 : c];
        double kl = nearbyint(l / e->delta), kh = nearbyint(h / e->delta);
        int cb = 0, cs = 0;
        if (isfinite(kl) && isfinite(kh) && fabs(l - kl * e->delta) <= 1e-3 * e->delta &&
            fabs(h - kh * e->delta) <= 1e-3 * e->delta && kh > kl && kh - kl < 255) {
            double zp = z ? (double)zp_at(z, c) : 0.0;
            double tlo = p->is_signed ? -128.0 : 0.0, thi = p->is_signed ? 127.0 : 255.0;
            int64_t n = (int64_t)(kh - kl) + 1;
            for (int b = 2; b < 8 && !cb; b++) {
                if (n == ((int64_t)1 << b))
                    cb = b;
                else if (n == ((int64_t)1 << b) - 1 && p->is_signed && zp == 0 && kl == -kh)
                    cb = b, cs = 1;
            }
            if (kl + zp < tlo || kh + zp > thi)
                cb = 0;
        }
        if (!cb || (c > 0 && (cb != bw || cs != strict)))
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: the clip [%g, %g] before it is not a "
                              "2..7-bit grid of scale %g (channel %zu)%s", lbl, l, h, e->delta,
                              c, cb ? " like the other channels'" : "");
        bw = cb;
        strict = cs;
        e->bw = cb;
        e->offset = (int64_t)kl;
        e->min = l; /* exactly the clip: the sim clamps to (float)min, (float)max */
        e->max = h;
    }
    p->bw = bw;
    p->strict = strict;
    return QSIM_OK;
}

/* The int pair on Q node qn, or *ok = 0 when qn is not one. clip: the
 * model is marked as a "clip" export. */
static qsim_status int_pair(const qsim__graph *g, int32_t qn, int clip, qpair *p, int *ok)
{
    const qsim__node *q = &g->nodes[qn];
    *ok = 0;
    if (q->n_inputs < 2 || q->n_outputs < 1 || q->outputs[0] < 0)
        return QSIM_OK;
    const qsim__value *y = &g->values[q->outputs[0]];
    if (y->n_consumers != 1 || y->is_graph_output)
        return QSIM_OK;
    const qsim__node *dq = &g->nodes[y->consumers[0]];
    if (!is_onnx(dq, "DequantizeLinear") || dq->n_inputs < 2 || dq->inputs[0] != q->outputs[0] ||
        dq->n_outputs < 1 || dq->outputs[0] < 0)
        return QSIM_OK;
    int32_t qz = q->n_inputs > 2 ? q->inputs[2] : -1, dz = dq->n_inputs > 2 ? dq->inputs[2] : -1;
    int64_t qa = 1, da = 1;
    QSIM__TRY(qsim__attr_int(q, "axis", 1, &qa));
    QSIM__TRY(qsim__attr_int(dq, "axis", 1, &da));
    const qsim__tensor *s = g->values[q->inputs[1]].constant;
    const qsim__tensor *z = qz >= 0 ? g->values[qz].constant : NULL;
    const char *lbl = qsim__node_label(q);
    if (!s || (qz >= 0 && !z) || !same_const(g, q->inputs[1], dq->inputs[1]) ||
        !same_const(g, qz, dz) || qa != da)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: scale and zero point must be constants "
                          "shared with its DequantizeLinear", lbl);
    p->q_node = qn;
    p->dq_node = y->consumers[0];
    p->min_node = p->max_node = -1;
    p->x = q->inputs[0];
    p->y = q->outputs[0];
    p->z = dq->outputs[0];
    const qsim__tensor *lo = NULL, *hi = NULL;
    if (clip && (!z || z->dtype == QSIM__DT_INT8 || z->dtype == QSIM__DT_UINT8))
        find_clip(g, q, p, &lo, &hi);
    QSIM__TRY(encodings_from(g, s, z, qa, lbl, p));
    if (lo)
        QSIM__TRY(clip_grid(lo, hi, lbl, p, z));
    *ok = 1;
    return QSIM_OK;
}

/* DequantizeLinear(W, s, z) -> Z on an int initializer W (onnxruntime's
 * default weight layout): W becomes a float initializer holding the
 * dequantized values, and its quantizer gets (s, z). */
static qsim_status lone_dq(const qsim__graph *g, int32_t dn, qpair *p, int *ok)
{
    const qsim__node *dq = &g->nodes[dn];
    *ok = 0;
    if (dq->n_inputs < 2 || dq->inputs[0] < 0 || dq->outputs[0] < 0)
        return QSIM_OK;
    const qsim__value *w = &g->values[dq->inputs[0]];
    if (!w->is_initializer || !w->constant || w->n_consumers != 1 ||
        g->values[dq->outputs[0]].is_graph_output)
        return QSIM_OK;
    const char *lbl = qsim__node_label(dq);
    int32_t zv = dq->n_inputs > 2 ? dq->inputs[2] : -1;
    const qsim__tensor *s = g->values[dq->inputs[1]].constant;
    const qsim__tensor *z = zv >= 0 ? g->values[zv].constant : NULL;
    if (!s || (zv >= 0 && !z))
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: scale and zero point must be constants", lbl);
    if (w->constant->dtype != (z ? z->dtype : QSIM__DT_UINT8))
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: input type %s differs from the zero point's",
                          lbl, qsim__dtype_name(w->constant->dtype));
    int64_t axis = 1;
    QSIM__TRY(qsim__attr_int(dq, "axis", 1, &axis));
    p->q_node = -1;
    p->min_node = p->max_node = -1;
    p->dq_node = dn;
    p->x = dq->inputs[0];
    p->y = -1;
    p->z = dq->outputs[0];
    QSIM__TRY(encodings_from(g, s, z, axis, lbl, p));
    const qsim__tensor *t = w->constant;
    size_t inner = 1;
    if (p->axis >= 0)
        for (int d = p->axis + 1; d < t->shape.rank; d++)
            inner *= (size_t)t->shape.dims[d];
    if (p->axis >= 0 && (int64_t)p->channels != t->shape.dims[p->axis])
        return qsim__fail(QSIM_ERR_SHAPE, "%s: %zu scales for axis %d of size %lld", lbl,
                          p->channels, p->axis, (long long)t->shape.dims[p->axis]);
    p->wf = qsim__malloc_array(t->numel ? t->numel : 1, sizeof *p->wf);
    if (!p->wf)
        return qsim__oom();
    for (size_t i = 0; i < t->numel; i++) {
        size_t c = p->axis >= 0 ? (i / inner) % p->channels : 0;
        int64_t zp = z ? zp_at(z, c) : 0;
        p->wf[i] = (float)(zp_at(t, i) - zp) * ((const float *)s->data)[c];
    }
    *ok = 1;
    return QSIM_OK;
}

static int cast_to(const qsim__node *n, int64_t to)
{
    int64_t v = -1;
    return is_onnx(n, "Cast") && qsim__attr_int(n, "to", -1, &v) == QSIM_OK && v == to;
}

static void fp16_pair(const qsim__graph *g, int32_t cn, qpair *p, int *ok)
{
    const qsim__node *c = &g->nodes[cn];
    *ok = 0;
    if (!cast_to(c, QSIM__DT_FLOAT16) || c->n_inputs < 1 || c->outputs[0] < 0 ||
        g->values[c->inputs[0]].elem_type != QSIM__DT_FLOAT)
        return;
    const qsim__value *y = &g->values[c->outputs[0]];
    if (y->n_consumers != 1 || y->is_graph_output)
        return;
    const qsim__node *c2 = &g->nodes[y->consumers[0]];
    if (!cast_to(c2, QSIM__DT_FLOAT) || c2->outputs[0] < 0)
        return;
    p->q_node = cn;
    p->min_node = p->max_node = -1;
    p->dq_node = y->consumers[0];
    p->x = c->inputs[0];
    p->y = c->outputs[0];
    p->z = c2->outputs[0];
    p->fp16 = 1;
    p->axis = -1;
    p->channels = 1;
    *ok = 1;
}

static char **rename_list(import_ctx *c, char *const *names, size_t n, int *changed)
{
    *changed = 0;
    for (size_t i = 0; i < n; i++)
        if (names[i] && qsim__strmap_get(c->rename, names[i], NULL))
            *changed = 1;
    if (!*changed)
        return (char **)names;
    char **out = qsim__calloc(n ? n : 1, sizeof *out);
    if (!out)
        return NULL;
    c->allocs[c->n_allocs++] = out;
    for (size_t i = 0; i < n; i++) {
        char *r = names[i] ? qsim__strmap_get(c->rename, names[i], NULL) : NULL;
        out[i] = r ? r : names[i];
    }
    return out;
}

static qsim_status edit(void *model_v, void *ctx_v)
{
    Onnx__ModelProto *model = model_v;
    import_ctx *c = ctx_v;
    Onnx__GraphProto *gp = model->graph;
    size_t nn = gp->n_node;
    /* the free list first: everything below is on it */
    c->allocs = qsim__calloc(2 * nn + 9, sizeof *c->allocs);
    if (!c->allocs)
        return qsim__oom();
    Onnx__NodeProto **nodes = qsim__calloc(nn ? nn : 1, sizeof *nodes);
    Onnx__NodeProto *copies = qsim__calloc(nn ? nn : 1, sizeof *copies);
    Onnx__TensorProto **inits = qsim__calloc(gp->n_initializer + 1, sizeof *inits);
    Onnx__ValueInfoProto **vi = qsim__calloc(gp->n_value_info + 1, sizeof *vi);
    c->allocs[c->n_allocs++] = nodes;
    c->allocs[c->n_allocs++] = copies;
    c->allocs[c->n_allocs++] = inits;
    c->allocs[c->n_allocs++] = vi;
    if (!nodes || !copies || !inits || !vi)
        return qsim__oom();
    size_t k = 0;
    for (size_t i = 0; i < nn; i++) {
        if (c->drop_node[i])
            continue;
        Onnx__NodeProto *np = gp->node[i];
        int ci = 0, co = 0;
        char **ins = rename_list(c, np->input, np->n_input, &ci);
        char **outs = rename_list(c, np->output, np->n_output, &co);
        if (!ins || !outs)
            return qsim__oom();
        if (ci || co) {
            copies[i] = *np;
            copies[i].input = ins;
            copies[i].output = outs;
            np = &copies[i];
        }
        nodes[k++] = np;
    }
    gp->node = nodes;
    gp->n_node = k;
    size_t ki = 0, nf = qsim__strmap_count(c->float_init), kf = 0;
    Onnx__TensorProto *ft = qsim__calloc(nf + 1, sizeof *ft);
    c->allocs[c->n_allocs++] = ft;
    if (!ft)
        return qsim__oom();
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *t = gp->initializer[i];
        qpair *p = t->name ? qsim__strmap_get(c->float_init, t->name, NULL) : NULL;
        if (p && kf < nf) {
            const qsim__tensor *w = c->g->values[p->x].constant;
            Onnx__TensorProto *f = &ft[kf++];
            onnx__tensor_proto__init(f);
            f->name = t->name;
            f->n_dims = t->n_dims;
            f->dims = t->dims;
            f->has_data_type = 1;
            f->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
            f->has_raw_data = 1;
            f->raw_data.len = w->numel * sizeof(float);
            f->raw_data.data = (uint8_t *)p->wf;
            inits[ki++] = f;
        } else if (!t->name || !qsim__strmap_get(c->drop_name, t->name, NULL)) {
            inits[ki++] = t;
        }
    }
    gp->initializer = inits;
    gp->n_initializer = ki;
    size_t kv = 0;
    for (size_t i = 0; i < gp->n_value_info; i++)
        if (!gp->value_info[i]->name ||
            (!qsim__strmap_get(c->drop_name, gp->value_info[i]->name, NULL) &&
             !qsim__strmap_get(c->float_init, gp->value_info[i]->name, NULL)))
            vi[kv++] = gp->value_info[i];
    gp->value_info = vi;
    gp->n_value_info = kv;
    return QSIM_OK;
}

/* Configure the new sim's quantizers from the pairs. */
static qsim_status apply(qsim_sim *s, import_ctx *c, const char *what)
{
    qsim__quantsim *qs = qsim__quant_of(s);
    qsim__strmap *by = qsim__strmap_create();
    if (!by)
        return qsim__oom();
    qsim_status st = QSIM_OK;
    for (size_t i = 0; i < c->n && st == QSIM_OK; i++) {
        qsim_quantizer *q = qsim__qdict_get(&qs->dict, c->pairs[i].name);
        if (!q)
            st = qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: tensor '%s' has a Q/DQ pair but the sim "
                            "places no quantizer on it", what, c->pairs[i].name);
        else if (qsim__strmap_put(by, c->pairs[i].name, &c->pairs[i]) != 0)
            st = qsim__oom();
    }
    size_t nq = qsim__qdict_count(&qs->dict);
    for (size_t i = 0; i < nq && st == QSIM_OK; i++) {
        qsim_quantizer *q = qsim__qdict_at(&qs->dict, i);
        qpair *p = qsim__strmap_get(by, q->name, NULL);
        q->version++;
        if (!p) {
            q->enabled = 0;
            continue;
        }
        q->enabled = 1;
        if (p->fp16) {
            q->data_type = QSIM_DATA_TYPE_FLOAT;
            q->bitwidth = 16;
            qsim__quantizer_reset_encodings(q);
            q->frozen = 1;
            continue;
        }
        if (p->axis >= 0 && q->kind != QSIM_QUANTIZER_PARAM) {
            st = qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: activation '%s' has a per-axis Q/DQ pair "
                            "(per-channel quantizers are for params)", what, q->name);
            break;
        }
        if (p->axis != q->axis || p->channels != q->channels)
            if ((st = qsim__quantizer_set_channels(q, p->axis, p->channels)) != QSIM_OK)
                break;
        q->data_type = QSIM_DATA_TYPE_INT;
        q->bitwidth = p->bw;
        q->symmetric = p->is_signed;
        for (size_t ch = 0; ch < p->channels && q->symmetric; ch++)
            q->symmetric = p->enc[ch].offset == -((int64_t)1 << (p->bw - 1)) + p->strict;
        q->strict = p->strict && q->symmetric;
        q->unsigned_sym = 0;
        st = qsim__quant_freeze(q, p->enc);
    }
    qsim__strmap_free(by);
    return st;
}

qsim_status qsim_sim_create_from_qdq(const qsim_model *m, const qsim_sim_options *o,
                                     qsim_sim **out)
{
    static const char *what = "qsim_sim_create_from_qdq";
    if (!out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: out is NULL", what);
    *out = NULL;
    QSIM__TRY(qsim__model_check(m, what));
    const qsim__graph *g = &m->graph;
    import_ctx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    qsim_status st = QSIM_OK;
    uint8_t *buf = NULL;
    size_t size = 0;
    qsim_model *fm = NULL;
    qsim_sim *s = NULL;
    size_t nproto = 0;
    for (size_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].proto_index + 1 > nproto)
            nproto = g->nodes[i].proto_index + 1;
    c.pairs = qsim__calloc(g->n_nodes ? g->n_nodes : 1, sizeof *c.pairs);
    c.drop_node = qsim__calloc(nproto ? nproto : 1, 1);
    c.rename = qsim__strmap_create();
    c.drop_name = qsim__strmap_create();
    c.float_init = qsim__strmap_create();
    if (!c.pairs || !c.drop_node || !c.rename || !c.drop_name || !c.float_init) {
        st = qsim__oom();
        goto out;
    }
    int clip = 0; /* metadata_props "qsim.qdq_low_bit" = "clip" */
    const Onnx__ModelProto *mp = m->proto;
    for (size_t i = 0; mp && i < mp->n_metadata_props; i++)
        clip |= mp->metadata_props[i]->key && mp->metadata_props[i]->value &&
                !strcmp(mp->metadata_props[i]->key, QSIM__QDQ_CLIP_KEY) &&
                !strcmp(mp->metadata_props[i]->value, QSIM__QDQ_CLIP_VALUE);
    for (size_t i = 0; i < g->n_nodes && st == QSIM_OK; i++) {
        const qsim__node *n = &g->nodes[i];
        qpair *p = &c.pairs[c.n];
        int ok = 0;
        if (is_onnx(n, "QuantizeLinear"))
            st = int_pair(g, (int32_t)i, clip, p, &ok);
        else if (is_onnx(n, "Cast"))
            fp16_pair(g, (int32_t)i, p, &ok);
        else if (is_onnx(n, "DequantizeLinear") && n->inputs[0] >= 0 &&
                 g->values[n->inputs[0]].producer < 0)
            st = lone_dq(g, (int32_t)i, p, &ok);
        if (st != QSIM_OK || !ok)
            continue;
        const qsim__value *x = &g->values[p->x], *z = &g->values[p->z];
        if (z->is_graph_output && (x->is_graph_input || x->constant || x->is_graph_output)) {
            st = qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: %s: a pair from a model input, constant "
                            "or output straight to a graph output", what, qsim__node_label(n));
            break;
        }
        int r;
        if (z->is_graph_output) {
            p->name = z->name;
            r = qsim__strmap_put(c.rename, x->name, z->name);
        } else {
            p->name = x->name;
            r = qsim__strmap_put(c.rename, z->name, x->name);
        }
        if (r == 0 && p->y >= 0)
            r = qsim__strmap_put(c.drop_name, g->values[p->y].name, (void *)1);
        if (r == 0 && p->min_node >= 0)
            r = qsim__strmap_put(c.drop_name, g->values[g->nodes[p->min_node].outputs[0]].name,
                                 (void *)1);
        if (r == 0 && p->max_node >= 0)
            r = qsim__strmap_put(c.drop_name, g->values[g->nodes[p->max_node].outputs[0]].name,
                                 (void *)1);
        if (r == 0 && p->wf)
            r = qsim__strmap_put(c.float_init, x->name, p);
        if (r == 0)
            r = qsim__strmap_put(c.drop_name, z->is_graph_output ? x->name : z->name, (void *)1);
        if (r != 0) {
            st = qsim__oom();
            break;
        }
        if (p->q_node >= 0)
            c.drop_node[g->nodes[p->q_node].proto_index] = 1;
        if (p->min_node >= 0) {
            c.drop_node[g->nodes[p->min_node].proto_index] = 1;
            c.drop_node[g->nodes[p->max_node].proto_index] = 1;
        }
        c.drop_node[g->nodes[p->dq_node].proto_index] = 1;
        c.n++;
    }
    if (st != QSIM_OK)
        goto out;
    /* scales / zero points nothing reads any more (not the quantized
     * initializers themselves: their readers now read them directly) */
    for (size_t i = 0; i < g->n_initializers; i++) {
        const qsim__value *v = &g->values[g->initializers[i]];
        int is_x = 0;
        for (size_t k = 0; k < c.n && !is_x; k++)
            is_x = c.pairs[k].x == g->initializers[i];
        if (is_x)
            continue;
        size_t kept = 0;
        for (size_t k = 0; k < v->n_consumers; k++)
            kept += !c.drop_node[g->nodes[v->consumers[k]].proto_index];
        if (v->n_consumers && !kept && !v->is_graph_output &&
            qsim__strmap_put(c.drop_name, v->name, (void *)1) != 0) {
            st = qsim__oom();
            goto out;
        }
    }
    if ((st = qsim__onnx_export_edit_mem(m, NULL, edit, &c, what, &buf, &size)) != QSIM_OK)
        goto out;
    if ((st = qsim_model_load_memory(buf, size, &fm)) != QSIM_OK) {
        st = qsim__fail_prefix(st, "qsim_sim_create_from_qdq: the model without Q/DQ: ");
        goto out;
    }
    if ((st = qsim_sim_create(fm, o, &s)) != QSIM_OK)
        goto out;
    if ((st = apply(s, &c, what)) != QSIM_OK)
        goto out;
    *out = s;
    s = NULL;
out:
    qsim_sim_free(s);
    qsim_model_free(fm);
    qsim__free(buf);
    for (size_t i = 0; i < c.n_allocs; i++)
        qsim__free(c.allocs[i]);
    qsim__free(c.allocs);
    if (c.pairs)
        for (size_t i = 0; i < g->n_nodes; i++)
            qsim__free(c.pairs[i].enc), qsim__free(c.pairs[i].wf);
    qsim__free(c.pairs);
    qsim__free(c.drop_node);
    qsim__strmap_free(c.rename);
    qsim__strmap_free(c.drop_name);
    qsim__strmap_free(c.float_init);
    return st;
}
