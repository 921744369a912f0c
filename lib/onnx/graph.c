/* GraphProto -> qsim__graph: values (edges) by name, nodes with resolved
 * input/output indices, Constant-node data, types and symbolic dims, a
 * topological order and consumer lists. Every structural problem (dangling
 * input, two producers, cycle, oversized shape) is reported naming the
 * tensor or node. No recursion: the 100,000-node chain must not need stack. */
#include "loader.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* ---- lookup -------------------------------------------------------------- */

int32_t qsim__graph_find(const qsim__graph *g, const char *name)
{
    if (!g || !g->value_index || !name)
        return -1;
    int found = 0;
    void *v = qsim__strmap_get(g->value_index, name, &found);
    if (!found)
        return -1;
    return (int32_t)((intptr_t)v - 1);
}

static int is_default_domain(const char *d) { return !d || !*d || strcmp(d, "ai.onnx") == 0; }

int64_t qsim__graph_opset(const qsim__graph *g, const char *domain)
{
    if (!g)
        return 0;
    int def = is_default_domain(domain);
    for (size_t i = 0; i < g->n_opsets; i++) {
        const char *d = g->opsets[i].domain;
        if (def ? is_default_domain(d) : strcmp(d, domain) == 0)
            return g->opsets[i].version;
    }
    return 0;
}

void qsim__graph_free(qsim__graph *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n_values; i++) {
        qsim__value *v = &g->values[i];
        qsim__free(v->name);
        for (int d = 0; d < QSIM__MAX_RANK; d++)
            qsim__free(v->dim_param[d]);
        qsim__tensor_free(v->constant);
        qsim__free(v->consumers);
    }
    qsim__free(g->values);
    qsim__strmap_free(g->value_index);
    for (size_t i = 0; i < g->n_nodes; i++) {
        qsim__node *n = &g->nodes[i];
        qsim__free(n->name);
        qsim__free(n->op_type);
        qsim__free(n->domain);
        qsim__free(n->inputs);
        qsim__free(n->outputs);
        qsim__free(n->implicit_inputs);
        qsim__attrs_free(n->attrs, n->n_attrs);
    }
    qsim__free(g->nodes);
    qsim__free(g->inputs);
    qsim__free(g->outputs);
    qsim__free(g->initializers);
    for (size_t i = 0; i < g->n_opsets; i++)
        qsim__free(g->opsets[i].domain);
    qsim__free(g->opsets);
    qsim__free(g->name);
    qsim__free(g->producer_name);
    qsim__free(g->producer_version);
    memset(g, 0, sizeof *g);
}

/* ---- building blocks ----------------------------------------------------- */

static char *dup_or_empty(const char *s) { return qsim__strdup(s ? s : ""); }

static qsim_status check_name(const char *name, const char *kind)
{
    if (strlen(name) > QSIM__MAX_NAME)
        return qsim__fail(QSIM_ERR_PARSE, "%s name '%.64s...' is longer than %d bytes", kind, name,
                          QSIM__MAX_NAME);
    return QSIM_OK;
}

/* New value named `name` (not yet present); *idx gets its index. */
static qsim_status add_value(qsim__graph *g, size_t cap, const char *name, int32_t *idx)
{
    QSIM__TRY(check_name(name, "tensor"));
    if (g->n_values >= cap || g->n_values >= INT32_MAX)
        return qsim__fail(QSIM_ERR_INTERNAL, "value table overflow");
    qsim__value *v = &g->values[g->n_values];
    memset(v, 0, sizeof *v);
    v->rank = -1;
    v->producer = -1;
    for (int d = 0; d < QSIM__MAX_RANK; d++)
        v->dims[d] = -1;
    v->name = qsim__strdup(name);
    if (!v->name)
        return qsim__oom();
    g->n_values++; /* counted now so qsim__graph_free releases the name */
    int r = qsim__strmap_put_new(g->value_index, name, (void *)(intptr_t)g->n_values);
    if (r < 0)
        return qsim__oom();
    if (r > 0)
        return qsim__fail(QSIM_ERR_INTERNAL, "tensor '%s' added twice", name);
    *idx = (int32_t)(g->n_values - 1);
    return QSIM_OK;
}

/* Product of the known dims times the element size must fit in int64, so
 * later shape arithmetic cannot overflow. */
static qsim_status check_dims(const qsim__value *v)
{
    int64_t p = 1;
    size_t es = qsim__dtype_size(v->elem_type);
    if (es && !qsim__mul_i64(p, (int64_t)es, &p))
        return QSIM_OK;
    for (int d = 0; d < v->rank; d++) {
        if (v->dims[d] < 0)
            continue;
        if (!qsim__mul_i64(p, v->dims[d], &p))
            return qsim__fail(QSIM_ERR_SHAPE,
                              "tensor '%s': dimension %d (%" PRId64 ") makes its size overflow",
                              v->name, d, v->dims[d]);
    }
    return QSIM_OK;
}

/* Element type and shape from a ValueInfoProto (tensor types only; others
 * stay unknown). */
static qsim_status apply_type(qsim__value *v, const Onnx__ValueInfoProto *vi)
{
    const Onnx__TypeProto *tp = vi->type;
    if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
        return QSIM_OK;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    if (tt->has_elem_type)
        v->elem_type = tt->elem_type;
    if (!tt->shape)
        return QSIM_OK;
    const Onnx__TensorShapeProto *sp = tt->shape;
    if (sp->n_dim > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_UNSUPPORTED,
                          "tensor '%s': rank %zu exceeds the supported maximum of %d", v->name,
                          sp->n_dim, QSIM__MAX_RANK);
    v->rank = (int)sp->n_dim;
    for (size_t d = 0; d < sp->n_dim; d++) {
        const Onnx__TensorShapeProto__Dimension *dim = sp->dim[d];
        v->dims[d] = -1;
        if (!dim)
            continue;
        if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (dim->dim_value >= 0)
                v->dims[d] = dim->dim_value;
        } else if (dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                   dim->dim_param && dim->dim_param[0]) {
            QSIM__TRY(check_name(dim->dim_param, "dimension"));
            v->dim_param[d] = qsim__strdup(dim->dim_param);
            if (!v->dim_param[d])
                return qsim__oom();
        }
    }
    return check_dims(v);
}

static void set_from_tensor(qsim__value *v, const qsim__tensor *t)
{
    v->elem_type = t->dtype;
    v->rank = t->shape.rank;
    for (int d = 0; d < QSIM__MAX_RANK; d++)
        v->dims[d] = d < t->shape.rank ? t->shape.dims[d] : -1;
}

/* ---- pieces of the model ------------------------------------------------- */

static qsim_status build_opsets(const Onnx__ModelProto *mp, qsim__graph *g)
{
    g->opsets = qsim__calloc(mp->n_opset_import ? mp->n_opset_import : 1, sizeof *g->opsets);
    if (!g->opsets)
        return qsim__oom();
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        const Onnx__OperatorSetIdProto *op = mp->opset_import[i];
        const char *d = op && !is_default_domain(op->domain) ? op->domain : "";
        g->opsets[i].domain = qsim__strdup(d);
        if (!g->opsets[i].domain)
            return qsim__oom();
        g->opsets[i].version = op && op->has_version ? op->version : 0;
        g->n_opsets = i + 1;
    }
    return QSIM_OK;
}

static qsim_status build_initializers(const qsim__onnx_ctx *ctx, Onnx__GraphProto *gp,
                                      qsim__graph *g, size_t cap)
{
    if (gp->n_sparse_initializer)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "sparse initializer '%s' is not supported",
                          gp->sparse_initializer[0] && gp->sparse_initializer[0]->values &&
                                  gp->sparse_initializer[0]->values->name
                              ? gp->sparse_initializer[0]->values->name
                              : "");
    g->initializers = qsim__malloc_array(gp->n_initializer ? gp->n_initializer : 1, sizeof(int32_t));
    if (!g->initializers)
        return qsim__oom();
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i];
        const char *name = tp && tp->name ? tp->name : "";
        if (!*name)
            return qsim__fail(QSIM_ERR_PARSE, "initializer #%zu has no name", i);
        if (qsim__graph_find(g, name) >= 0)
            return qsim__fail(QSIM_ERR_PARSE, "initializer '%s' is listed twice", name);
        int32_t idx;
        QSIM__TRY(add_value(g, cap, name, &idx));
        qsim__value *v = &g->values[idx];
        v->is_initializer = 1;
        g->initializers[g->n_initializers++] = idx;
        char what[QSIM__MAX_NAME + 32];
        snprintf(what, sizeof what, "initializer '%s'", name);
        QSIM__TRY(qsim__onnx_decode_tensor(ctx, tp, what, &v->constant));
        set_from_tensor(v, v->constant);
        g->param_count += v->constant->numel;
        g->param_bytes += qsim__dtype_is_4bit(v->constant->dtype)
                              ? (uint64_t)qsim__int4_packed_size(v->constant->numel)
                              : (uint64_t)v->constant->numel * qsim__dtype_size(v->constant->dtype);
        /* The decoded copy is authoritative: drop the proto's payload now
         * rather than holding the weights twice (see graph.h, proto). */
        if (tp->has_raw_data) {
            qsim__onnx_proto_release(tp->raw_data.data);
            tp->raw_data.data = NULL;
            tp->raw_data.len = 0;
            tp->has_raw_data = 0;
        }
    }
    return QSIM_OK;
}

static qsim_status build_inputs(const Onnx__GraphProto *gp, qsim__graph *g, size_t cap)
{
    g->inputs = qsim__malloc_array(gp->n_input ? gp->n_input : 1, sizeof(int32_t));
    if (!g->inputs)
        return qsim__oom();
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *name = vi && vi->name ? vi->name : "";
        if (!*name)
            return qsim__fail(QSIM_ERR_PARSE, "graph input #%zu has no name", i);
        int32_t idx = qsim__graph_find(g, name);
        if (idx >= 0) {
            /* IR < 4 style: every initializer is also listed as an input.
             * It is a parameter, not something the caller feeds. */
            if (g->values[idx].is_initializer)
                continue;
            return qsim__fail(QSIM_ERR_PARSE, "graph input '%s' is listed twice", name);
        }
        QSIM__TRY(add_value(g, cap, name, &idx));
        g->values[idx].is_graph_input = 1;
        g->inputs[g->n_inputs++] = idx;
        QSIM__TRY(apply_type(&g->values[idx], vi));
    }
    return QSIM_OK;
}

static const char *producer_label(const qsim__graph *g, const qsim__value *v)
{
    if (v->producer >= 0)
        return qsim__node_label(&g->nodes[v->producer]);
    return v->is_initializer ? "an initializer" : "a graph input";
}

/* Node records in proto order with their outputs registered. */
static qsim_status build_nodes(const qsim__onnx_ctx *ctx, const Onnx__GraphProto *gp,
                               qsim__graph *g, size_t cap)
{
    g->nodes = qsim__calloc(gp->n_node ? gp->n_node : 1, sizeof *g->nodes);
    if (!g->nodes)
        return qsim__oom();
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        qsim__node *n = &g->nodes[i];
        g->n_nodes = i + 1;
        n->proto_index = i;
        if (!np)
            return qsim__fail(QSIM_ERR_PARSE, "node #%zu is missing", i);
        QSIM__TRY(check_name(np->name ? np->name : "", "node"));
        QSIM__TRY(check_name(np->op_type ? np->op_type : "", "op type"));
        n->name = dup_or_empty(np->name);
        n->op_type = dup_or_empty(np->op_type);
        n->domain = dup_or_empty(is_default_domain(np->domain) ? "" : np->domain);
        if (!n->name || !n->op_type || !n->domain)
            return qsim__oom();
        if (!n->op_type[0])
            return qsim__fail(QSIM_ERR_PARSE, "%s has no op_type", qsim__node_label(n));
        n->opset = qsim__graph_opset(g, n->domain);
        n->inputs = qsim__malloc_array(np->n_input ? np->n_input : 1, sizeof(int32_t));
        n->outputs = qsim__malloc_array(np->n_output ? np->n_output : 1, sizeof(int32_t));
        if (!n->inputs || !n->outputs)
            return qsim__oom();
        for (size_t k = 0; k < np->n_output; k++) {
            const char *name = np->output[k] ? np->output[k] : "";
            n->outputs[k] = -1;
            n->n_outputs = k + 1;
            if (!*name)
                continue;
            int32_t idx = qsim__graph_find(g, name);
            if (idx >= 0) {
                char first[QSIM__MAX_NAME + 128];
                snprintf(first, sizeof first, "%s", producer_label(g, &g->values[idx]));
                return qsim__fail(QSIM_ERR_PARSE, "tensor '%s' has two producers: %s and %s",
                                  name, first, qsim__node_label(n));
            }
            QSIM__TRY(add_value(g, cap, name, &idx));
            g->values[idx].producer = (int32_t)i;
            n->outputs[k] = idx;
        }
        n->attrs = qsim__calloc(np->n_attribute ? np->n_attribute : 1, sizeof *n->attrs);
        if (!n->attrs)
            return qsim__oom();
        for (size_t k = 0; k < np->n_attribute; k++) {
            n->n_attrs = k + 1;
            if (!np->attribute[k])
                return qsim__fail(QSIM_ERR_PARSE, "%s: attribute #%zu is missing",
                                  qsim__node_label(n), k);
            QSIM__TRY(qsim__attr_convert(ctx, n, np->attribute[k], &n->attrs[k]));
        }
    }
    return QSIM_OK;
}

/* Second pass: inputs can refer to outputs of later nodes (unsorted graph). */
static qsim_status link_inputs(const Onnx__GraphProto *gp, qsim__graph *g)
{
    for (size_t i = 0; i < gp->n_node; i++) {
        const Onnx__NodeProto *np = gp->node[i];
        qsim__node *n = &g->nodes[i];
        for (size_t k = 0; k < np->n_input; k++) {
            const char *name = np->input[k] ? np->input[k] : "";
            n->inputs[k] = -1;
            n->n_inputs = k + 1;
            if (!*name)
                continue;
            int32_t idx = qsim__graph_find(g, name);
            if (idx < 0)
                return qsim__fail(QSIM_ERR_PARSE,
                                  "%s: input '%s' is not produced by any node and is not a graph "
                                  "input or initializer",
                                  qsim__node_label(n), name);
            n->inputs[k] = idx;
        }
    }
    return QSIM_OK;
}

typedef struct graph_stack {
    const Onnx__GraphProto **items;
    size_t n, cap;
} graph_stack;

static qsim_status push_subgraphs(graph_stack *s, const Onnx__AttributeProto *ap)
{
    if (!ap)
        return QSIM_OK;
    size_t more = (ap->g ? 1 : 0) + ap->n_graphs;
    for (size_t j = 0; j < more; j++) {
        const Onnx__GraphProto *x = ap->g && j == 0 ? ap->g : ap->graphs[j - (ap->g ? 1 : 0)];
        if (!x)
            continue;
        if (s->n == s->cap) {
            size_t nc = s->cap ? s->cap * 2 : 8;
            const Onnx__GraphProto **ni = qsim__realloc_array(s->items, nc, sizeof *ni);
            if (!ni)
                return qsim__oom();
            s->items = ni;
            s->cap = nc;
        }
        s->items[s->n++] = x;
    }
    return QSIM_OK;
}

static qsim_status add_implicit(qsim__node *n, int32_t v, size_t *cap)
{
    if (n->n_implicit == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        int32_t *ni = qsim__realloc_array(n->implicit_inputs, nc, sizeof(int32_t));
        if (!ni)
            return qsim__oom();
        n->implicit_inputs = ni;
        *cap = nc;
    }
    n->implicit_inputs[n->n_implicit++] = v;
    return QSIM_OK;
}

/* Outer values read inside a node's subgraphs. ONNX forbids shadowing a
 * name across scopes, so any name of this graph found in a nested node's
 * inputs is an outer reference. Nested graphs are walked with an explicit
 * stack (no recursion); `stamp` (one per value) dedupes per node. */
static qsim_status implicit_inputs(qsim__graph *g, qsim__node *n, const Onnx__NodeProto *np,
                                   uint32_t *stamp)
{
    graph_stack s = {NULL, 0, 0};
    size_t cap = 0;
    uint32_t mark = (uint32_t)n->proto_index + 1;
    qsim_status st = QSIM_OK;
    for (size_t a = 0; a < np->n_attribute && st == QSIM_OK; a++)
        st = push_subgraphs(&s, np->attribute[a]);
    while (st == QSIM_OK && s.n > 0) {
        const Onnx__GraphProto *sg = s.items[--s.n];
        for (size_t i = 0; i < sg->n_node && st == QSIM_OK; i++) {
            const Onnx__NodeProto *sub = sg->node[i];
            if (!sub)
                continue;
            for (size_t k = 0; k < sub->n_input && st == QSIM_OK; k++) {
                int32_t v = qsim__graph_find(g, sub->input[k] ? sub->input[k] : "");
                if (v < 0 || stamp[v] == mark)
                    continue;
                stamp[v] = mark;
                st = add_implicit(n, v, &cap);
            }
            for (size_t k = 0; k < sub->n_attribute && st == QSIM_OK; k++)
                st = push_subgraphs(&s, sub->attribute[k]);
        }
    }
    qsim__free(s.items);
    return st;
}

static int has_subgraph(const Onnx__NodeProto *np)
{
    for (size_t a = 0; a < np->n_attribute; a++)
        if (np->attribute[a] && (np->attribute[a]->g || np->attribute[a]->n_graphs))
            return 1;
    return 0;
}

static qsim_status link_implicit(const Onnx__GraphProto *gp, qsim__graph *g)
{
    uint32_t *stamp = NULL;
    qsim_status st = QSIM_OK;
    for (size_t i = 0; i < gp->n_node && st == QSIM_OK; i++) {
        if (!has_subgraph(gp->node[i]))
            continue;
        if (!stamp && !(stamp = qsim__calloc(g->n_values ? g->n_values : 1, sizeof *stamp)))
            return qsim__oom();
        st = implicit_inputs(g, &g->nodes[i], gp->node[i], stamp);
    }
    qsim__free(stamp);
    return st;
}

/* Constant nodes: the output value carries the data. The 'value' tensor is
 * moved from the attribute (attr->t becomes NULL) so it is held once. */
static qsim_status constant_data(qsim__graph *g, qsim__node *n)
{
    if (n->n_outputs < 1 || n->outputs[0] < 0)
        return qsim__fail(QSIM_ERR_PARSE, "%s has no output", qsim__node_label(n));
    qsim__value *v = &g->values[n->outputs[0]];
    for (size_t k = 0; k < n->n_attrs; k++) {
        qsim__attr *a = &n->attrs[k];
        qsim__shape sh = {0, {0}};
        int dtype = 0;
        if (strcmp(a->name, "value") == 0 && a->type == QSIM__ATTR_TENSOR) {
            v->constant = a->t;
            a->t = NULL;
        } else if (strcmp(a->name, "value_float") == 0 && a->type == QSIM__ATTR_FLOAT) {
            dtype = QSIM__DT_FLOAT;
        } else if (strcmp(a->name, "value_int") == 0 && a->type == QSIM__ATTR_INT) {
            dtype = QSIM__DT_INT64;
        } else if (strcmp(a->name, "value_floats") == 0 && a->type == QSIM__ATTR_FLOATS) {
            dtype = QSIM__DT_FLOAT;
            sh.rank = 1;
            sh.dims[0] = (int64_t)a->n;
        } else if (strcmp(a->name, "value_ints") == 0 && a->type == QSIM__ATTR_INTS) {
            dtype = QSIM__DT_INT64;
            sh.rank = 1;
            sh.dims[0] = (int64_t)a->n;
        } else if (strncmp(a->name, "value", 5) == 0 || strcmp(a->name, "sparse_value") == 0) {
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute '%s' (%s) is not supported",
                              qsim__node_label(n), a->name,
                              a->type == QSIM__ATTR_SPARSE_TENSOR ? "sparse tensor"
                                                                  : "unexpected type");
        } else {
            continue;
        }
        if (dtype) {
            char what[QSIM__MAX_NAME + 32];
            snprintf(what, sizeof what, "tensor '%s'", v->name);
            QSIM__TRY(qsim__tensor_new(dtype, &sh, what, &v->constant));
            if (a->type == QSIM__ATTR_FLOAT)
                *(float *)v->constant->data = a->f;
            else if (a->type == QSIM__ATTR_INT)
                *(int64_t *)v->constant->data = a->i;
            else if (a->type == QSIM__ATTR_FLOATS && a->n)
                memcpy(v->constant->data, a->floats, a->n * sizeof(float));
            else if (a->type == QSIM__ATTR_INTS && a->n)
                memcpy(v->constant->data, a->ints, a->n * sizeof(int64_t));
        }
        set_from_tensor(v, v->constant);
        return QSIM_OK;
    }
    return qsim__fail(QSIM_ERR_PARSE, "%s has no value attribute", qsim__node_label(n));
}

static qsim_status build_outputs(const Onnx__GraphProto *gp, qsim__graph *g)
{
    g->outputs = qsim__malloc_array(gp->n_output ? gp->n_output : 1, sizeof(int32_t));
    if (!g->outputs)
        return qsim__oom();
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        const char *name = vi && vi->name ? vi->name : "";
        int32_t idx = qsim__graph_find(g, name);
        if (idx < 0)
            return qsim__fail(QSIM_ERR_PARSE,
                              "graph output '%s' is not produced by any node and is not a graph "
                              "input or initializer",
                              name);
        qsim__value *v = &g->values[idx];
        v->is_graph_output = 1;
        g->outputs[g->n_outputs++] = idx;
        if (!v->constant && v->rank < 0 && v->elem_type == 0)
            QSIM__TRY(apply_type(v, vi));
    }
    return QSIM_OK;
}

static qsim_status apply_value_info(const Onnx__GraphProto *gp, qsim__graph *g)
{
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        int32_t idx = qsim__graph_find(g, vi && vi->name ? vi->name : "");
        if (idx < 0)
            continue; /* describes nothing in this graph */
        qsim__value *v = &g->values[idx];
        if (!v->constant && v->rank < 0 && v->elem_type == 0)
            QSIM__TRY(apply_type(v, vi));
    }
    return QSIM_OK;
}

/* ---- consumers and topological order ------------------------------------ */

static void count_consumers(qsim__graph *g)
{
    for (size_t i = 0; i < g->n_values; i++)
        g->values[i].n_consumers = 0;
    for (size_t j = 0; j < g->n_nodes; j++)
        for (size_t k = 0; k < g->nodes[j].n_inputs; k++)
            if (g->nodes[j].inputs[k] >= 0)
                g->values[g->nodes[j].inputs[k]].n_consumers++;
}

/* consumers[] of every value (sized by count_consumers), filled by walking nodes in `order`. */
static qsim_status fill_consumers(qsim__graph *g, const int32_t *order)
{
    for (size_t i = 0; i < g->n_values; i++) {
        qsim__value *v = &g->values[i];
        if (!v->consumers) {
            v->consumers = qsim__malloc_array(v->n_consumers ? v->n_consumers : 1, sizeof(int32_t));
            if (!v->consumers)
                return qsim__oom();
        }
        v->n_consumers = 0;
    }
    for (size_t j = 0; j < g->n_nodes; j++) {
        int32_t ni = order ? order[j] : (int32_t)j;
        const qsim__node *n = &g->nodes[ni];
        for (size_t k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] >= 0) {
                qsim__value *v = &g->values[n->inputs[k]];
                v->consumers[v->n_consumers++] = (int32_t)j;
            }
    }
    return QSIM_OK;
}

/* Binary min-heap of node indices: Kahn's algorithm picks the ready node
 * that came first in the file, so an already sorted model keeps its order. */
static void heap_push(int32_t *h, size_t *n, int32_t x)
{
    size_t i = (*n)++;
    while (i > 0 && h[(i - 1) / 2] > x) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static int32_t heap_pop(int32_t *h, size_t *n)
{
    int32_t top = h[0], x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && h[c + 1] < h[c])
            c++;
        if (h[c] >= x)
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = x;
    return top;
}

/* A node on a cycle: among unsorted nodes every one has an unsorted
 * predecessor, so walking predecessors must revisit a node. */
static qsim_status cycle_error(const qsim__graph *g, const int32_t *indeg, uint8_t *seen)
{
    size_t x = 0;
    while (x + 1 < g->n_nodes && indeg[x] == 0)
        x++;
    while (!seen[x]) {
        seen[x] = 1;
        const qsim__node *n = &g->nodes[x];
        size_t next = x;
        for (size_t k = 0; k < n->n_inputs + n->n_implicit; k++) {
            int32_t in = k < n->n_inputs ? n->inputs[k] : n->implicit_inputs[k - n->n_inputs];
            if (in >= 0 && g->values[in].producer >= 0 && indeg[g->values[in].producer] > 0) {
                next = (size_t)g->values[in].producer;
                break;
            }
        }
        if (next == x)
            break;
        x = next;
    }
    return qsim__fail(QSIM_ERR_PARSE, "graph has a cycle through %s",
                      qsim__node_label(&g->nodes[x]));
}

static qsim_status topo_sort(qsim__graph *g)
{
    size_t n = g->n_nodes;
    qsim_status st = QSIM_OK;
    count_consumers(g);
    int32_t *indeg = qsim__calloc(n ? n : 1, sizeof(int32_t));
    int32_t *heap = qsim__malloc_array(n ? n : 1, sizeof(int32_t));
    int32_t *order = qsim__malloc_array(n ? n : 1, sizeof(int32_t));
    int32_t *pos = qsim__malloc_array(n ? n : 1, sizeof(int32_t));
    uint8_t *seen = qsim__calloc(n ? n : 1, 1);
    qsim__node *sorted = qsim__malloc_array(n ? n : 1, sizeof *sorted);
    /* implicit (subgraph) consumers of each value, as CSR */
    size_t n_imp = 0;
    for (size_t i = 0; i < n; i++)
        n_imp += g->nodes[i].n_implicit;
    size_t *imp_start = qsim__calloc(g->n_values + 1, sizeof(size_t));
    int32_t *imp = qsim__malloc_array(n_imp ? n_imp : 1, sizeof(int32_t));
    if (!indeg || !heap || !order || !pos || !seen || !sorted || !imp_start || !imp) {
        st = qsim__oom();
        goto done;
    }
    st = fill_consumers(g, NULL); /* proto order, for the successor walk */
    if (st != QSIM_OK)
        goto done;
    for (size_t i = 0; i < n; i++) {
        const qsim__node *nd = &g->nodes[i];
        for (size_t k = 0; k < nd->n_inputs; k++) {
            int32_t in = nd->inputs[k];
            if (in >= 0 && g->values[in].producer >= 0)
                indeg[i]++;
        }
        for (size_t k = 0; k < nd->n_implicit; k++) {
            imp_start[nd->implicit_inputs[k] + 1]++;
            if (g->values[nd->implicit_inputs[k]].producer >= 0)
                indeg[i]++;
        }
    }
    for (size_t v = 0; v < g->n_values; v++)
        imp_start[v + 1] += imp_start[v];
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < g->nodes[i].n_implicit; k++)
            imp[imp_start[g->nodes[i].implicit_inputs[k]]++] = (int32_t)i;
    for (size_t v = g->n_values; v > 0; v--) /* shift the ends back to starts */
        imp_start[v] = imp_start[v - 1];
    imp_start[0] = 0;
    size_t hn = 0, done_n = 0;
    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0)
            heap_push(heap, &hn, (int32_t)i);
    while (hn) {
        int32_t x = heap_pop(heap, &hn);
        order[done_n++] = x;
        const qsim__node *nd = &g->nodes[x];
        for (size_t k = 0; k < nd->n_outputs; k++) {
            if (nd->outputs[k] < 0)
                continue;
            const qsim__value *v = &g->values[nd->outputs[k]];
            for (size_t c = 0; c < v->n_consumers; c++)
                if (--indeg[v->consumers[c]] == 0)
                    heap_push(heap, &hn, v->consumers[c]);
            size_t vi = (size_t)nd->outputs[k];
            for (size_t c = imp_start[vi]; c < imp_start[vi + 1]; c++)
                if (--indeg[imp[c]] == 0)
                    heap_push(heap, &hn, imp[c]);
        }
    }
    if (done_n < n) {
        st = cycle_error(g, indeg, seen);
        goto done;
    }
    for (size_t j = 0; j < n; j++)
        pos[order[j]] = (int32_t)j;
    st = fill_consumers(g, order);
    if (st != QSIM_OK)
        goto done;
    for (size_t j = 0; j < n; j++)
        sorted[j] = g->nodes[order[j]];
    qsim__free(g->nodes);
    g->nodes = sorted;
    sorted = NULL;
    for (size_t i = 0; i < g->n_values; i++)
        if (g->values[i].producer >= 0)
            g->values[i].producer = pos[g->values[i].producer];
done:
    qsim__free(indeg);
    qsim__free(heap);
    qsim__free(order);
    qsim__free(pos);
    qsim__free(seen);
    qsim__free(sorted);
    qsim__free(imp_start);
    qsim__free(imp);
    return st;
}

/* ---- the whole graph ----------------------------------------------------- */

static qsim_status value_capacity(const Onnx__GraphProto *gp, size_t *cap)
{
    size_t c = 0;
    if (!qsim__add_size(gp->n_initializer, gp->n_input, &c))
        return qsim__oom();
    for (size_t i = 0; i < gp->n_node; i++)
        if (gp->node[i] && !qsim__add_size(c, gp->node[i]->n_output, &c))
            return qsim__oom();
    if (c >= INT32_MAX)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "graph has too many tensors (%zu)", c);
    *cap = c;
    return QSIM_OK;
}

qsim_status qsim__graph_build(const qsim__onnx_ctx *ctx, Onnx__ModelProto *mp, qsim__graph *g)
{
    Onnx__GraphProto *gp = mp->graph;
    if (!gp)
        return qsim__fail(QSIM_ERR_PARSE, "cannot parse ONNX ModelProto: it has no graph (not ONNX?)");
    if (gp->n_node > QSIM__MAX_NODES)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "graph has %zu nodes (limit %d)", gp->n_node,
                          QSIM__MAX_NODES);
    g->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    g->name = dup_or_empty(gp->name);
    g->producer_name = dup_or_empty(mp->producer_name);
    g->producer_version = dup_or_empty(mp->producer_version);
    g->value_index = qsim__strmap_create();
    if (!g->name || !g->producer_name || !g->producer_version || !g->value_index)
        return qsim__oom();
    QSIM__TRY(build_opsets(mp, g));
    size_t cap = 0;
    QSIM__TRY(value_capacity(gp, &cap));
    g->values = qsim__calloc(cap ? cap : 1, sizeof *g->values);
    if (!g->values)
        return qsim__oom();
    QSIM__TRY(build_initializers(ctx, gp, g, cap));
    QSIM__TRY(build_inputs(gp, g, cap));
    QSIM__TRY(build_nodes(ctx, gp, g, cap));
    QSIM__TRY(link_inputs(gp, g));
    QSIM__TRY(link_implicit(gp, g));
    for (size_t i = 0; i < g->n_nodes; i++) {
        qsim__node *n = &g->nodes[i];
        if (strcmp(n->op_type, "Constant") == 0 && n->domain[0] == '\0')
            QSIM__TRY(constant_data(g, n));
    }
    QSIM__TRY(build_outputs(gp, g));
    QSIM__TRY(apply_value_info(gp, g));
    return topo_sort(g);
}
