/* Writing a model back to ONNX (qsim_export's prefix.onnx): the loaded
 * ModelProto re-serialized with protobuf-c, every initializer's data taken
 * from the caller's tensors (the sim's current float weights) or the
 * graph's decoded copy, written inline as raw_data. The model and its
 * proto are never modified: the copies below are shallow, built per call. */
#include "export.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../core/fileio.h"
#include "loader.h"

#include <string.h>

/* Pack unpacked int4/uint4 values two per byte, low nibble first. */
static uint8_t *pack4(const qsim__tensor *t)
{
    size_t nb = qsim__int4_packed_size(t->numel);
    uint8_t *d = qsim__calloc(nb ? nb : 1, 1);
    const uint8_t *s = t->data;
    if (d)
        for (size_t i = 0; i < t->numel; i++)
            d[i / 2] = (uint8_t)(d[i / 2] | ((s[i] & 0xfu) << (4 * (i & 1))));
    return d;
}

/* A TensorProto holding t's bytes inline; names and dims borrowed from src.
 * 4-bit tensors are packed into a new buffer (*packed, the caller frees). */
static qsim_status inline_tensor(const Onnx__TensorProto *src, const qsim__tensor *t,
                                 Onnx__TensorProto *dst, uint8_t **packed)
{
    onnx__tensor_proto__init(dst);
    dst->n_dims = src->n_dims;
    dst->dims = src->dims;
    dst->has_data_type = 1;
    dst->data_type = src->data_type;
    dst->name = src->name;
    dst->doc_string = src->doc_string;
    dst->has_raw_data = 1;
    dst->raw_data.len = t->numel * qsim__dtype_size(t->dtype);
    dst->raw_data.data = t->data;
    if (qsim__dtype_is_4bit(t->dtype)) {
        if (!(*packed = pack4(t)))
            return qsim__oom();
        dst->raw_data.len = qsim__int4_packed_size(t->numel);
        dst->raw_data.data = *packed;
    }
    return QSIM_OK;
}

qsim_status qsim__onnx_export(const qsim_model *m, const qsim__tensor *const *replace,
                              const char *path)
{
    return qsim__onnx_export_edit(m, replace, NULL, NULL, path);
}

qsim_status qsim__onnx_export_edit(const qsim_model *m, const qsim__tensor *const *replace,
                                   qsim__onnx_edit_fn edit, void *ctx, const char *path)
{
    return qsim__onnx_export_edit_mem(m, replace, edit, ctx, path, NULL, NULL);
}

qsim_status qsim__onnx_export_edit_mem(const qsim_model *m, const qsim__tensor *const *replace,
                                       qsim__onnx_edit_fn edit, void *ctx, const char *path,
                                       uint8_t **out, size_t *out_size)
{
    const Onnx__ModelProto *mp = m->proto;
    if (!mp || !mp->graph)
        return qsim__fail(QSIM_ERR_STATE, "exporting '%s': the model keeps no ONNX proto", path);
    const qsim__graph *g = &m->graph;
    const Onnx__GraphProto *gp = mp->graph;
    Onnx__ModelProto model = *mp;
    Onnx__GraphProto graph = *gp;
    model.graph = &graph;
    size_t ni = gp->n_initializer;
    Onnx__TensorProto *tps = qsim__calloc(ni ? ni : 1, sizeof *tps);
    Onnx__TensorProto **tpp = qsim__calloc(ni ? ni : 1, sizeof *tpp);
    /* Constant nodes whose value the caller replaced get a copied node */
    size_t nn = gp->n_node;
    Onnx__NodeProto **nodes = qsim__calloc(nn ? nn : 1, sizeof *nodes);
    Onnx__NodeProto *node_copies = qsim__calloc(nn ? nn : 1, sizeof *node_copies);
    Onnx__AttributeProto *attr_copies = qsim__calloc(nn ? nn : 1, sizeof *attr_copies);
    Onnx__TensorProto *attr_tensors = qsim__calloc(nn ? nn : 1, sizeof *attr_tensors);
    Onnx__AttributeProto ***attr_ptrs = qsim__calloc(nn ? nn : 1, sizeof *attr_ptrs);
    /* packed copies of 4-bit tensors: [0, ni) initializers, [ni, ni+nn) nodes */
    uint8_t **packed = qsim__calloc(ni + nn + 1, sizeof *packed);
    uint8_t *buf = NULL;
    qsim_status st = QSIM_OK;
    if (!tps || !tpp || !nodes || !node_copies || !attr_copies || !attr_tensors ||
        !attr_ptrs || !packed) {
        st = qsim__oom();
        goto out;
    }
    for (size_t i = 0; i < ni; i++) {
        const Onnx__TensorProto *src = gp->initializer[i];
        int32_t v = src->name ? qsim__graph_find(g, src->name) : -1;
        const qsim__tensor *t = v >= 0 ? g->values[v].constant : NULL;
        if (v >= 0 && replace && replace[v])
            t = replace[v];
        if (!t || !qsim__dtype_size(t->dtype)) {
            if (src->has_data_location &&
                src->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL) {
                st = qsim__fail(QSIM_ERR_UNSUPPORTED, "exporting '%s': initializer '%s' (%s) "
                                "cannot be written inline", path, src->name ? src->name : "",
                                t ? qsim__dtype_name(t->dtype) : "no data");
                goto out;
            }
            tpp[i] = (Onnx__TensorProto *)src; /* typed data still in the proto */
            continue;
        }
        if ((st = inline_tensor(src, t, &tps[i], &packed[i])) != QSIM_OK)
            goto out;
        tpp[i] = &tps[i];
    }
    graph.initializer = tpp;
    for (size_t i = 0; i < nn; i++) {
        Onnx__NodeProto *np = gp->node[i];
        nodes[i] = np;
        if (!replace || !np->op_type || strcmp(np->op_type, "Constant") || np->n_output < 1)
            continue;
        int32_t v = qsim__graph_find(g, np->output[0]);
        if (v < 0 || !replace[v])
            continue;
        size_t k = np->n_attribute;
        for (size_t a = 0; a < np->n_attribute; a++)
            if (np->attribute[a]->name && !strcmp(np->attribute[a]->name, "value") &&
                np->attribute[a]->t)
                k = a;
        if (k == np->n_attribute)
            continue;
        attr_ptrs[i] = qsim__malloc_array(np->n_attribute, sizeof **attr_ptrs);
        if (!attr_ptrs[i]) {
            st = qsim__oom();
            goto out;
        }
        memcpy(attr_ptrs[i], np->attribute, np->n_attribute * sizeof **attr_ptrs);
        attr_copies[i] = *np->attribute[k];
        if ((st = inline_tensor(np->attribute[k]->t, replace[v], &attr_tensors[i],
                                &packed[ni + i])) != QSIM_OK)
            goto out;
        attr_copies[i].t = &attr_tensors[i];
        attr_ptrs[i][k] = &attr_copies[i];
        node_copies[i] = *np;
        node_copies[i].attribute = attr_ptrs[i];
        nodes[i] = &node_copies[i];
    }
    graph.node = nodes;
    if (edit && (st = edit(&model, ctx)) != QSIM_OK)
        goto out;
    size_t size = onnx__model_proto__get_packed_size(&model);
    if (size > (size_t)INT32_MAX) {
        st = qsim__fail(QSIM_ERR_UNSUPPORTED, "exporting '%s': the model is %zu bytes; ONNX files "
                        "over 2 GB need external data, which export does not write", path, size);
        goto out;
    }
    buf = qsim__malloc(size ? size : 1);
    if (!buf) {
        st = qsim__oom();
        goto out;
    }
    if (onnx__model_proto__pack(&model, buf) != size) {
        st = qsim__fail(QSIM_ERR_INTERNAL, "exporting '%s': protobuf packed size changed", path);
        goto out;
    }
    if (out) {
        *out = buf;
        *out_size = size;
        buf = NULL;
    } else {
        st = qsim__write_file_atomic(path, buf, size);
    }
out:
    qsim__free(buf);
    if (packed)
        for (size_t i = 0; i < ni + nn; i++)
            qsim__free(packed[i]);
    qsim__free(packed);
    if (attr_ptrs)
        for (size_t i = 0; i < nn; i++)
            qsim__free(attr_ptrs[i]);
    qsim__free(attr_ptrs);
    qsim__free(attr_tensors);
    qsim__free(attr_copies);
    qsim__free(node_copies);
    qsim__free(nodes);
    qsim__free(tpp);
    qsim__free(tps);
    return st;
}
