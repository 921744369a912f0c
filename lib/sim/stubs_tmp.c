/* TEMPORARY: stand-ins for the loader and kernels branches until they are
 * merged (deleted at merge time). */
#include "../core/error.h"
#include "../core/threadpool.h"
#include "../onnx/graph.h"

#include <stdio.h>
#include <string.h>

qsim_status qsim__pool_create(int nthreads, qsim__pool **out)
{
    (void)nthreads;
    *out = NULL;
    return QSIM_OK;
}
void qsim__pool_free(qsim__pool *p) { (void)p; }
int qsim__pool_threads(const qsim__pool *p) { (void)p; return 1; }
void qsim__pool_run(qsim__pool *p, size_t ntasks, qsim__task_fn fn, void *ctx)
{
    (void)p;
    for (size_t t = 0; t < ntasks; t++)
        fn(ctx, t, 0);
}

void qsim__model_retain(qsim_model *m) { (void)m; }
void qsim__model_release(qsim_model *m) { (void)m; }
qsim_status qsim__model_check(const qsim_model *m, const char *fn)
{
    if (!m)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: model is NULL", fn);
    return QSIM_OK;
}

const qsim__attr *qsim__node_attr(const qsim__node *n, const char *name)
{
    for (size_t i = 0; i < n->n_attrs; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

const char *qsim__node_label(const qsim__node *n)
{
    static _Thread_local char buf[600];
    snprintf(buf, sizeof buf, "node '%.200s' (%.100s)", n->name, n->op_type);
    return buf;
}

qsim_status qsim__attr_int(const qsim__node *n, const char *name, int64_t def, int64_t *out)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) { *out = def; return QSIM_OK; }
    if (a->type != QSIM__ATTR_INT)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute '%s' is not an int", qsim__node_label(n), name);
    *out = a->i;
    return QSIM_OK;
}
qsim_status qsim__attr_float(const qsim__node *n, const char *name, float def, float *out)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) { *out = def; return QSIM_OK; }
    if (a->type != QSIM__ATTR_FLOAT)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute '%s' is not a float", qsim__node_label(n), name);
    *out = a->f;
    return QSIM_OK;
}
qsim_status qsim__attr_string(const qsim__node *n, const char *name, const char *def,
                              const char **out)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) { *out = def; return QSIM_OK; }
    if (a->type != QSIM__ATTR_STRING)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute '%s' is not a string", qsim__node_label(n), name);
    *out = a->s;
    return QSIM_OK;
}
qsim_status qsim__attr_ints(const qsim__node *n, const char *name, const int64_t **vals,
                            size_t *count)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) { *vals = NULL; *count = 0; return QSIM_OK; }
    if (a->type != QSIM__ATTR_INTS)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute '%s' is not ints", qsim__node_label(n), name);
    *vals = a->ints;
    *count = a->n;
    return QSIM_OK;
}
qsim_status qsim__attr_floats(const qsim__node *n, const char *name, const float **vals,
                              size_t *count)
{
    const qsim__attr *a = qsim__node_attr(n, name);
    if (!a) { *vals = NULL; *count = 0; return QSIM_OK; }
    if (a->type != QSIM__ATTR_FLOATS)
        return qsim__fail(QSIM_ERR_PARSE, "%s: attribute '%s' is not floats", qsim__node_label(n), name);
    *vals = a->floats;
    *count = a->n;
    return QSIM_OK;
}
