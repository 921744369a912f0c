/* Node attributes: conversion from AttributeProto at load time and the typed
 * getters ops use. Subgraph, sparse and type-proto attributes are kept only
 * as their name and type (opaque): the graph loads, and an op that needs
 * them reports that it is unsupported. */
#include "loader.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <stdio.h>
#include <string.h>

static const char *type_name(int t)
{
    static const char *const names[] = {"UNDEFINED", "FLOAT",  "INT",           "STRING",
                                        "TENSOR",    "GRAPH",  "FLOATS",        "INTS",
                                        "STRINGS",   "TENSORS", "GRAPHS",       "SPARSE_TENSOR",
                                        "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"};
    if (t >= 0 && (size_t)t < sizeof names / sizeof names[0])
        return names[t];
    return "unknown";
}

const char *qsim__node_label(const qsim__node *n)
{
    static _Thread_local char buf[QSIM__MAX_NAME + 128];
    if (!n)
        return "node (null)";
    if (n->name && n->name[0])
        snprintf(buf, sizeof buf, "node '%s' (%s)", n->name, n->op_type ? n->op_type : "?");
    else
        snprintf(buf, sizeof buf, "node #%zu (%s)", n->proto_index, n->op_type ? n->op_type : "?");
    return buf;
}

/* Old exporters (IR < 3) leave AttributeProto.type unset: infer it from the
 * field that carries a value. */
static int infer_type(const Onnx__AttributeProto *ap)
{
    if (ap->has_type)
        return (int)ap->type;
    if (ap->n_floats) return QSIM__ATTR_FLOATS;
    if (ap->n_ints) return QSIM__ATTR_INTS;
    if (ap->n_strings) return QSIM__ATTR_STRINGS;
    if (ap->n_tensors) return QSIM__ATTR_TENSORS;
    if (ap->n_graphs) return QSIM__ATTR_GRAPHS;
    if (ap->t) return QSIM__ATTR_TENSOR;
    if (ap->g) return QSIM__ATTR_GRAPH;
    if (ap->sparse_tensor) return QSIM__ATTR_SPARSE_TENSOR;
    if (ap->has_s) return QSIM__ATTR_STRING;
    if (ap->has_i) return QSIM__ATTR_INT;
    if (ap->has_f) return QSIM__ATTR_FLOAT;
    return QSIM__ATTR_UNDEFINED;
}

static qsim_status too_many(const qsim__node *n, const char *name, size_t count)
{
    return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: attribute '%s' has %zu elements (limit %u)",
                      qsim__node_label(n), name, count, QSIM__MAX_ATTR_ELEMS);
}

qsim_status qsim__attr_convert(const qsim__onnx_ctx *ctx, const qsim__node *n,
                               const Onnx__AttributeProto *ap, qsim__attr *out)
{
    memset(out, 0, sizeof *out);
    const char *name = ap->name ? ap->name : "";
    if (strlen(name) > QSIM__MAX_NAME)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute name longer than %d bytes",
                          qsim__node_label(n), QSIM__MAX_NAME);
    out->name = qsim__strdup(name);
    if (!out->name)
        return qsim__oom();
    out->type = infer_type(ap);
    switch (out->type) {
    case QSIM__ATTR_FLOAT:
        out->f = ap->f;
        break;
    case QSIM__ATTR_INT:
        out->i = ap->i;
        break;
    case QSIM__ATTR_STRING:
        out->s = qsim__strndup(ap->s.data ? (const char *)ap->s.data : "", ap->s.len);
        if (!out->s)
            return qsim__oom();
        out->s_len = ap->s.len;
        break;
    case QSIM__ATTR_FLOATS:
        if (ap->n_floats > QSIM__MAX_ATTR_ELEMS)
            return too_many(n, name, ap->n_floats);
        out->floats = qsim__malloc_array(ap->n_floats, sizeof(float));
        if (!out->floats)
            return qsim__oom();
        if (ap->n_floats)
            memcpy(out->floats, ap->floats, ap->n_floats * sizeof(float));
        out->n = ap->n_floats;
        break;
    case QSIM__ATTR_INTS:
        if (ap->n_ints > QSIM__MAX_ATTR_ELEMS)
            return too_many(n, name, ap->n_ints);
        out->ints = qsim__malloc_array(ap->n_ints, sizeof(int64_t));
        if (!out->ints)
            return qsim__oom();
        if (ap->n_ints)
            memcpy(out->ints, ap->ints, ap->n_ints * sizeof(int64_t));
        out->n = ap->n_ints;
        break;
    case QSIM__ATTR_STRINGS:
        if (ap->n_strings > QSIM__MAX_ATTR_ELEMS)
            return too_many(n, name, ap->n_strings);
        out->strings = qsim__calloc(ap->n_strings ? ap->n_strings : 1, sizeof(char *));
        if (!out->strings)
            return qsim__oom();
        for (size_t k = 0; k < ap->n_strings; k++) {
            const ProtobufCBinaryData *b = &ap->strings[k];
            out->strings[k] = qsim__strndup(b->data ? (const char *)b->data : "", b->len);
            if (!out->strings[k])
                return qsim__oom();
            out->n = k + 1;
        }
        break;
    case QSIM__ATTR_TENSOR: {
        if (!ap->t)
            return qsim__fail(QSIM_ERR_PARSE, "%s: attribute '%s' of type TENSOR has no tensor",
                              qsim__node_label(n), name);
        char what[QSIM__MAX_NAME * 2 + 160];
        snprintf(what, sizeof what, "%s: attribute '%s'", qsim__node_label(n), name);
        QSIM__TRY(qsim__onnx_decode_tensor(ctx, ap->t, what, &out->t));
        break;
    }
    default:
        /* GRAPH(S), TENSORS, SPARSE_TENSOR(S), TYPE_PROTO(S), UNDEFINED:
         * kept opaque. */
        break;
    }
    return QSIM_OK;
}

static void attr_free(qsim__attr *a)
{
    qsim__free(a->name);
    qsim__free(a->s);
    qsim__free(a->floats);
    qsim__free(a->ints);
    if (a->strings)
        for (size_t k = 0; k < a->n; k++)
            qsim__free(a->strings[k]);
    qsim__free(a->strings);
    qsim__tensor_free(a->t);
}

void qsim__attrs_free(qsim__attr *attrs, size_t n)
{
    if (!attrs)
        return;
    for (size_t i = 0; i < n; i++)
        attr_free(&attrs[i]);
    qsim__free(attrs);
}

/* ---- getters ------------------------------------------------------------- */

const qsim__attr *qsim__node_attr(const qsim__node *n, const char *name)
{
    if (!n || !name)
        return NULL;
    for (size_t i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

static qsim_status wrong_type(const qsim__node *n, const qsim__attr *a, int want)
{
    return qsim__fail(QSIM_ERR_PARSE, "%s: attribute '%s' has type %s, expected %s",
                      qsim__node_label(n), a->name, type_name(a->type), type_name(want));
}

qsim_status qsim__attr_int(const qsim__node *n, const char *name, int64_t def, int64_t *out)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) {
        *out = def;
        return QSIM_OK;
    }
    if (a->type != QSIM__ATTR_INT)
        return wrong_type(n, a, QSIM__ATTR_INT);
    *out = a->i;
    return QSIM_OK;
}

qsim_status qsim__attr_float(const qsim__node *n, const char *name, float def, float *out)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) {
        *out = def;
        return QSIM_OK;
    }
    if (a->type != QSIM__ATTR_FLOAT)
        return wrong_type(n, a, QSIM__ATTR_FLOAT);
    *out = a->f;
    return QSIM_OK;
}

qsim_status qsim__attr_string(const qsim__node *n, const char *name, const char *def,
                              const char **out)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) {
        *out = def;
        return QSIM_OK;
    }
    if (a->type != QSIM__ATTR_STRING)
        return wrong_type(n, a, QSIM__ATTR_STRING);
    *out = a->s;
    return QSIM_OK;
}

qsim_status qsim__attr_ints(const qsim__node *n, const char *name, const int64_t **vals,
                            size_t *count)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) {
        *vals = NULL;
        *count = 0;
        return QSIM_OK;
    }
    if (a->type != QSIM__ATTR_INTS)
        return wrong_type(n, a, QSIM__ATTR_INTS);
    *vals = a->ints;
    *count = a->n;
    return QSIM_OK;
}

qsim_status qsim__attr_floats(const qsim__node *n, const char *name, const float **vals,
                              size_t *count)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) {
        *vals = NULL;
        *count = 0;
        return QSIM_OK;
    }
    if (a->type != QSIM__ATTR_FLOATS)
        return wrong_type(n, a, QSIM__ATTR_FLOATS);
    *vals = a->floats;
    *count = a->n;
    return QSIM_OK;
}
