/* The public model handle: loading (file or memory), reference counting and
 * the introspection calls of qsim.h. The work is done in load.c (bytes ->
 * ModelProto) and graph.c (ModelProto -> qsim__graph). */
#include "loader.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <string.h>

/* ---- handle -------------------------------------------------------------- */

qsim_status qsim__model_check(const qsim_model *m, const char *fn)
{
    if (!m)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: model is NULL", fn);
    if (m->magic != QSIM__MODEL_MAGIC)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "%s: not a qsim_model (bad handle or already freed)", fn);
    return QSIM_OK;
}

static void model_destroy(qsim_model *m)
{
    m->magic = 0;
    qsim__graph_free(&m->graph);
    qsim__onnx_proto_free(m->proto);
    qsim__free(m->path);
    qsim__free(m);
}

void qsim__model_retain(qsim_model *m)
{
    if (m)
        __atomic_fetch_add(&m->refcount, 1, __ATOMIC_RELAXED);
}

void qsim__model_release(qsim_model *m)
{
    if (!m || m->magic != QSIM__MODEL_MAGIC)
        return;
    if (__atomic_sub_fetch(&m->refcount, 1, __ATOMIC_ACQ_REL) == 0)
        model_destroy(m);
}

void qsim_model_free(qsim_model *m) { qsim__model_release(m); }

/* ---- loading ------------------------------------------------------------- */

/* `owned` (may be NULL) is the caller's buffer holding data: it is freed
 * as soon as the bytes are unpacked, so the file and the decoded weights
 * are not held at the same time. */
static qsim_status load_bytes(const uint8_t *data, size_t size, uint8_t *owned, const char *path,
                              const char *base_dir, qsim_model **out)
{
    Onnx__ModelProto *mp = NULL;
    qsim_status ust = qsim__onnx_unpack(data, size, &mp);
    qsim__free(owned);
    if (ust != QSIM_OK)
        return ust;
    qsim_model *m = qsim__calloc(1, sizeof *m);
    if (!m) {
        qsim__onnx_proto_free(mp);
        return qsim__oom();
    }
    m->magic = QSIM__MODEL_MAGIC;
    m->refcount = 1;
    m->proto = mp;
    if (path && !(m->path = qsim__strdup(path))) {
        model_destroy(m);
        return qsim__oom();
    }
    qsim__onnx_ctx ctx = {base_dir};
    qsim_status st = qsim__graph_build(&ctx, mp, &m->graph);
    if (st != QSIM_OK) {
        model_destroy(m);
        return st;
    }
    *out = m;
    return QSIM_OK;
}

/* Folder of a path ("." for a bare file name), newly allocated. */
static char *parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return qsim__strdup(".");
    if (slash == path)
        return qsim__strdup("/");
    return qsim__strndup(path, (size_t)(slash - path));
}

qsim_status qsim_model_load(const char *path, qsim_model **out)
{
    if (!path || !out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_model_load: path and out must not be NULL");
    uint8_t *data = NULL;
    size_t size = 0;
    qsim_status st = qsim__onnx_read_file(path, &data, &size);
    if (st == QSIM_OK) {
        char *dir = parent_dir(path);
        if (dir) {
            st = load_bytes(data, size, data, path, dir, out);
        } else {
            qsim__free(data);
            st = qsim__oom();
        }
        qsim__free(dir);
    }
    if (st != QSIM_OK)
        return qsim__fail_prefix(st, "%s: ", path);
    return QSIM_OK;
}

qsim_status qsim_model_load_memory(const void *data, size_t size, qsim_model **out)
{
    if (!out || (!data && size))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_model_load_memory: data and out must not be NULL");
    return load_bytes(data, size, NULL, NULL, NULL, out);
}

/* ---- introspection ------------------------------------------------------- */

static const qsim__graph *graph_of(const qsim_model *m)
{
    return m && m->magic == QSIM__MODEL_MAGIC ? &m->graph : NULL;
}

size_t qsim_model_input_count(const qsim_model *m)
{
    const qsim__graph *g = graph_of(m);
    return g ? g->n_inputs : 0;
}

const char *qsim_model_input_name(const qsim_model *m, size_t i)
{
    const qsim__graph *g = graph_of(m);
    return g && i < g->n_inputs ? g->values[g->inputs[i]].name : NULL;
}

size_t qsim_model_output_count(const qsim_model *m)
{
    const qsim__graph *g = graph_of(m);
    return g ? g->n_outputs : 0;
}

const char *qsim_model_output_name(const qsim_model *m, size_t i)
{
    const qsim__graph *g = graph_of(m);
    return g && i < g->n_outputs ? g->values[g->outputs[i]].name : NULL;
}

size_t qsim_model_node_count(const qsim_model *m)
{
    const qsim__graph *g = graph_of(m);
    return g ? g->n_nodes : 0;
}

static const qsim__node *node_at(const qsim_model *m, size_t i)
{
    const qsim__graph *g = graph_of(m);
    return g && i < g->n_nodes ? &g->nodes[i] : NULL;
}

const char *qsim_model_node_name(const qsim_model *m, size_t i)
{
    const qsim__node *n = node_at(m, i);
    return n ? n->name : NULL;
}

const char *qsim_model_node_op_type(const qsim_model *m, size_t i)
{
    const qsim__node *n = node_at(m, i);
    return n ? n->op_type : NULL;
}

size_t qsim_model_node_input_count(const qsim_model *m, size_t i)
{
    const qsim__node *n = node_at(m, i);
    return n ? n->n_inputs : 0;
}

const char *qsim_model_node_input(const qsim_model *m, size_t i, size_t k)
{
    const qsim__node *n = node_at(m, i);
    if (!n || k >= n->n_inputs)
        return NULL;
    return n->inputs[k] < 0 ? "" : m->graph.values[n->inputs[k]].name;
}

size_t qsim_model_node_output_count(const qsim_model *m, size_t i)
{
    const qsim__node *n = node_at(m, i);
    return n ? n->n_outputs : 0;
}

const char *qsim_model_node_output(const qsim_model *m, size_t i, size_t k)
{
    const qsim__node *n = node_at(m, i);
    if (!n || k >= n->n_outputs)
        return NULL;
    return n->outputs[k] < 0 ? "" : m->graph.values[n->outputs[k]].name;
}

qsim_status qsim_model_tensor_info(const qsim_model *m, const char *name, int32_t *elem_type,
                                   int64_t *rank, int64_t *dims, size_t max_rank)
{
    QSIM__TRY(qsim__model_check(m, "qsim_model_tensor_info"));
    if (!name || !elem_type || !rank || (!dims && max_rank))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_model_tensor_info: name, elem_type, rank and dims must not be NULL");
    int32_t idx = qsim__graph_find(&m->graph, name);
    if (idx < 0)
        return qsim__fail(QSIM_ERR_NOT_FOUND, "qsim_model_tensor_info: no tensor named '%s'", name);
    const qsim__value *v = &m->graph.values[idx];
    if (v->rank > 0 && (size_t)v->rank > max_rank)
        return qsim__fail(QSIM_ERR_SHAPE,
                          "qsim_model_tensor_info: tensor '%s' has rank %d but dims holds %zu",
                          name, v->rank, max_rank);
    *elem_type = v->elem_type;
    *rank = v->rank;
    for (int d = 0; d < v->rank; d++)
        dims[d] = v->dims[d];
    return QSIM_OK;
}

const char *qsim_model_tensor_dim_param(const qsim_model *m, const char *name, size_t d)
{
    const qsim__graph *g = graph_of(m);
    int32_t idx = g && name ? qsim__graph_find(g, name) : -1;
    if (idx < 0)
        return NULL;
    const qsim__value *v = &g->values[idx];
    if (v->rank < 0 || d >= (size_t)v->rank)
        return NULL;
    return v->dim_param[d] ? v->dim_param[d] : "";
}

size_t qsim_model_opset_count(const qsim_model *m)
{
    const qsim__graph *g = graph_of(m);
    return g ? g->n_opsets : 0;
}

const char *qsim_model_opset_domain(const qsim_model *m, size_t i)
{
    const qsim__graph *g = graph_of(m);
    return g && i < g->n_opsets ? g->opsets[i].domain : NULL;
}

int64_t qsim_model_opset_version(const qsim_model *m, size_t i)
{
    const qsim__graph *g = graph_of(m);
    return g && i < g->n_opsets ? g->opsets[i].version : 0;
}

size_t qsim_model_initializer_count(const qsim_model *m)
{
    const qsim__graph *g = graph_of(m);
    return g ? g->n_initializers : 0;
}

uint64_t qsim_model_parameter_count(const qsim_model *m)
{
    const qsim__graph *g = graph_of(m);
    return g ? g->param_count : 0;
}

uint64_t qsim_model_parameter_bytes(const qsim_model *m)
{
    const qsim__graph *g = graph_of(m);
    return g ? g->param_bytes : 0;
}
