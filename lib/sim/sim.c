/* qsim_sim: create/free, inputs, outputs, constants and hooks. */
#include "sim_internal.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../quant/quantsim.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

qsim_status qsim__sim_check(const qsim_sim *s, const char *fn)
{
    if (!s)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: sim handle is NULL", fn);
    if (s->magic != QSIM__SIM_MAGIC)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: not a live qsim_sim handle", fn);
    return QSIM_OK;
}

const qsim__tensor *qsim__sim_constant(const qsim_sim *s, int32_t value)
{
    if (value < 0 || (size_t)value >= s->g->n_values)
        return NULL;
    if (s->const_override[value])
        return s->const_override[value];
    return s->g->values[value].constant;
}

void qsim__sim_invalidate(qsim_sim *s)
{
    qsim__plan_free(s->plan);
    s->plan = NULL;
    s->have_run = 0;
}

static void view_of_tensor(const qsim__tensor *t, qsim__tview *v)
{
    v->dtype = t->dtype;
    v->shape = t->shape;
    v->numel = t->numel;
    v->data = t->data;
}

/* A view for init time: constants carry data; other values only what the
 * model declares (dims may be -1 when symbolic; numel is 0). */
static void init_view(const qsim_sim *s, int32_t v, qsim__tensor *const *extra, qsim__tview *out)
{
    memset(out, 0, sizeof *out);
    if (v < 0)
        return;
    const qsim__tensor *c = qsim__sim_constant(s, v);
    if (!c && extra)
        c = extra[v];
    if (c) {
        view_of_tensor(c, out);
        return;
    }
    const qsim__value *val = &s->g->values[v];
    out->dtype = val->elem_type;
    out->shape.rank = val->rank > 0 ? val->rank : 0;
    for (int d = 0; d < out->shape.rank; d++)
        out->shape.dims[d] = val->dims[d];
}

qsim_status qsim__sim_init_node(qsim_sim *s, size_t i, qsim__tensor *const *extra_const)
{
    const qsim__node *n = &s->g->nodes[i];
    qsim__node_rt *rt = &s->nodes[i];
    if (!rt->op)
        return QSIM_OK;
    qsim__tview stack_in[8];
    qsim__tview *in = stack_in;
    if (n->n_inputs > 8 && !(in = qsim__malloc_array(n->n_inputs, sizeof *in)))
        return qsim__oom();
    for (size_t k = 0; k < n->n_inputs; k++)
        init_view(s, n->inputs[k], extra_const, &in[k]);
    /* the old state stays until the new one exists: a failed re-init
     * leaves the node as it was */
    void *state = NULL;
    qsim_status st = QSIM_OK;
    if (rt->op->init)
        st = rt->op->init(n, in, n->n_inputs, &state);
    if (in != stack_in)
        qsim__free(in);
    if (st != QSIM_OK) {
        if (state && rt->op->free_state)
            rt->op->free_state(state);
        return st;
    }
    if (rt->state && rt->op->free_state)
        rt->op->free_state(rt->state);
    rt->state = state;
    return QSIM_OK;
}

static int is_constant_node(const qsim__node *n)
{
    return strcmp(n->op_type, "Constant") == 0 && (!n->domain[0] || !strcmp(n->domain, "ai.onnx"));
}

/* Append to buf (bounded). */
/* Append strings a, b, c (NULL ends the list early) to buf, bounded. */
static void append3(char *buf, size_t size, size_t *pos, const char *a, const char *b,
                    const char *c)
{
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3 && parts[i]; i++) {
        if (*pos + 1 >= size)
            return;
        int k = snprintf(buf + *pos, size - *pos, "%s", parts[i]);
        if (k > 0)
            *pos += (size_t)k;
        if (*pos >= size)
            *pos = size - 1;
    }
}

static int unsupported(const qsim_sim *s, size_t i)
{
    return !s->nodes[i].op && !is_constant_node(&s->g->nodes[i]);
}

static int same_type(const qsim__node *a, const qsim__node *b)
{
    return !strcmp(a->op_type, b->op_type) && !strcmp(a->domain, b->domain);
}

/* One message listing every unsupported op type with its nodes. Linear in
 * the node count per listed type; the listing stops when the message is
 * full. */
static qsim_status check_supported(const qsim_sim *s)
{
    const qsim__graph *g = s->g;
    enum { MAX_TYPES = 32 };
    size_t first[MAX_TYPES], n_types = 0, more_types = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        if (!unsupported(s, i))
            continue;
        size_t t = 0;
        while (t < n_types && !same_type(&g->nodes[first[t]], &g->nodes[i]))
            t++;
        if (t < n_types)
            continue;
        if (n_types < MAX_TYPES)
            first[n_types++] = i;
        else
            more_types = 1;
    }
    if (!n_types)
        return QSIM_OK;
    char msg[900];
    size_t pos = 0;
    append3(msg, sizeof msg, &pos, "unsupported ops: ", NULL, NULL);
    for (size_t t = 0; t < n_types && pos + 1 < sizeof msg; t++) {
        const qsim__node *n = &g->nodes[first[t]];
        size_t count = 0;
        for (size_t j = first[t]; j < g->n_nodes; j++)
            count += unsupported(s, j) && same_type(&g->nodes[j], n);
        if (t)
            append3(msg, sizeof msg, &pos, ", ", NULL, NULL);
        if (n->domain[0] && strcmp(n->domain, "ai.onnx"))
            append3(msg, sizeof msg, &pos, "", n->domain, ".");
        append3(msg, sizeof msg, &pos, n->op_type, NULL, NULL);
        append3(msg, sizeof msg, &pos, " (", count > 1 ? "nodes" : "node", "");
        int k = 0;
        for (size_t j = first[t]; j < g->n_nodes && pos + 1 < sizeof msg; j++) {
            if (!unsupported(s, j) || !same_type(&g->nodes[j], n))
                continue;
            append3(msg, sizeof msg, &pos, k++ ? ", '" : " '", g->nodes[j].name, "'");
        }
        append3(msg, sizeof msg, &pos, ")", NULL, NULL);
    }
    if (more_types)
        append3(msg, sizeof msg, &pos, ", and more op types", NULL, NULL);
    if (pos + 1 >= sizeof msg)
        strcpy(msg + sizeof msg - 5, "...");
    return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s", msg);
}

void qsim_sim_free(qsim_sim *s)
{
    if (!s || s->magic != QSIM__SIM_MAGIC)
        return;
    const qsim__graph *g = s->g;
    qsim__plan_free(s->plan);
    qsim__quant_free(s);
    if (s->nodes)
        for (size_t i = 0; i < g->n_nodes; i++)
            if (s->nodes[i].state && s->nodes[i].op && s->nodes[i].op->free_state)
                s->nodes[i].op->free_state(s->nodes[i].state);
    if (s->const_override)
        for (size_t v = 0; v < g->n_values; v++)
            qsim__tensor_free(s->const_override[v]);
    if (s->inputs)
        for (size_t i = 0; i < g->n_inputs; i++)
            qsim__tensor_free(s->inputs[i]);
    qsim__free(s->nodes);
    qsim__free(s->const_override);
    qsim__free(s->inputs);
    qsim__free(s->hooks);
    qsim__pool_free(s->pool);
    qsim__options_clear(&s->opts);
    if (s->model)
        qsim__model_release(s->model);
    s->magic = 0;
    qsim__free(s);
}

qsim_status qsim_sim_create(const qsim_model *m, const qsim_sim_options *o, qsim_sim **out)
{
    if (!out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_sim_create: out is NULL");
    QSIM__TRY(qsim__model_check(m, "qsim_sim_create"));
    if (o && o->magic != QSIM__OPTIONS_MAGIC)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_sim_create: options is not a live qsim_sim_options handle");
    qsim_sim *s = qsim__calloc(1, sizeof *s);
    if (!s)
        return qsim__oom();
    s->magic = QSIM__SIM_MAGIC;
    qsim__options_defaults(&s->opts);
    qsim_status st = QSIM_OK;
    if (o && (st = qsim__options_copy(&s->opts, o)) != QSIM_OK) {
        qsim__free(s);
        return st;
    }
    qsim__model_retain((qsim_model *)m);
    s->model = (qsim_model *)m;
    s->g = &m->graph;
    const qsim__graph *g = s->g;
    s->nodes = qsim__calloc(g->n_nodes ? g->n_nodes : 1, sizeof *s->nodes);
    s->const_override = qsim__calloc(g->n_values ? g->n_values : 1, sizeof *s->const_override);
    s->inputs = qsim__calloc(g->n_inputs ? g->n_inputs : 1, sizeof *s->inputs);
    s->hooks = qsim__calloc(g->n_values ? g->n_values : 1, sizeof *s->hooks);
    if (!s->nodes || !s->const_override || !s->inputs || !s->hooks) {
        st = qsim__oom();
        goto fail;
    }
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        if (is_constant_node(n)) {
            if (n->n_outputs >= 1 && n->outputs[0] >= 0 &&
                !g->values[n->outputs[0]].constant) {
                st = qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: no value the engine can use",
                                qsim__node_label(n));
                goto fail;
            }
            continue;
        }
        s->nodes[i].op = qsim__op_lookup(n->domain, n->op_type);
    }
    if ((st = check_supported(s)) != QSIM_OK)
        goto fail;
    for (size_t i = 0; i < g->n_nodes; i++)
        if ((st = qsim__sim_init_node(s, i, NULL)) != QSIM_OK)
            goto fail;
    /* QSIM_OPT_KERNELS "generic": kernel dispatch is process-wide, so the
     * pin is too (like QSIM_FORCE_GENERIC=1) */
    if (s->opts.kernels_generic)
        qsim__cpu_force_generic(1);
    if ((st = qsim__pool_create(s->opts.num_threads, &s->pool)) != QSIM_OK)
        goto fail;
    if ((st = qsim__quant_create(s)) != QSIM_OK)
        goto fail;
    *out = s;
    return QSIM_OK;
fail:
    qsim_sim_free(s);
    return st;
}

void qsim_sim_set_progress(qsim_sim *s, qsim_progress_fn fn, void *user_data)
{
    if (!s || s->magic != QSIM__SIM_MAGIC)
        return;
    s->progress = fn;
    s->progress_user = fn ? user_data : NULL;
}

/* ---- inputs ---------------------------------------------------------- */

static size_t list_names(const qsim__graph *g, const int32_t *idx, size_t n, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        append3(buf, size, &pos, i ? ", '" : "'", g->values[idx[i]].name, "'");
    }
    if (n == 0)
        append3(buf, size, &pos, "(none)", NULL, NULL);
    return pos;
}

static const char *model_shape_str(const qsim__value *v, char *buf, size_t size)
{
    size_t pos = 0;
    buf[0] = '\0';
    append3(buf, size, &pos, "[", NULL, NULL);
    for (int d = 0; d < v->rank; d++) {
        if (d)
            append3(buf, size, &pos, ",", NULL, NULL);
        if (v->dims[d] >= 0) {
            char num[32];
            snprintf(num, sizeof num, "%" PRId64, v->dims[d]);
            append3(buf, size, &pos, num, NULL, NULL);
        } else {
            append3(buf, size, &pos, v->dim_param[d] ? v->dim_param[d] : "?", NULL, NULL);
        }
    }
    append3(buf, size, &pos, "]", NULL, NULL);
    return buf;
}

static qsim_status set_input(qsim_sim *s, const char *fn, const char *name, int32_t elem_type,
                             const void *data, const int64_t *shape, size_t rank)
{
    QSIM__TRY(qsim__sim_check(s, fn));
    if (!name)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: name is NULL", fn);
    const qsim__graph *g = s->g;
    size_t which = g->n_inputs;
    for (size_t i = 0; i < g->n_inputs; i++)
        if (strcmp(g->values[g->inputs[i]].name, name) == 0)
            which = i;
    if (which == g->n_inputs) {
        char names[600];
        list_names(g, g->inputs, g->n_inputs, names, sizeof names);
        return qsim__fail(QSIM_ERR_NOT_FOUND, "%s: '%.200s' is not a model input; inputs are %s",
                          fn, name, names);
    }
    const qsim__value *v = &g->values[g->inputs[which]];
    if (rank > QSIM__MAX_RANK)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: input '%s': rank %zu exceeds the limit %d", fn,
                          v->name, rank, QSIM__MAX_RANK);
    if (rank && !shape)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: input '%s': shape is NULL", fn,
                          v->name);
    if (v->elem_type && v->elem_type != elem_type)
        return qsim__fail(elem_type == QSIM__DT_FLOAT ? QSIM_ERR_UNSUPPORTED
                                                      : QSIM_ERR_INVALID_ARGUMENT,
                          "%s: input '%s' is %s in the model, the data given is %s%s", fn,
                          v->name, qsim__dtype_name(v->elem_type), qsim__dtype_name(elem_type),
                          elem_type == QSIM__DT_FLOAT ? " (use qsim_sim_set_input_typed)" : "");
    if (!qsim__dtype_size(elem_type) || qsim__dtype_is_4bit(elem_type))
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: input '%s': element type %s is not supported",
                          fn, v->name, qsim__dtype_name(elem_type));
    qsim__shape sh;
    sh.rank = (int)rank;
    for (size_t d = 0; d < rank; d++) {
        sh.dims[d] = shape[d];
        if (shape[d] < 0)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: input '%s': dimension %zu is negative (%" PRId64 ")",
                              fn, v->name, d, shape[d]);
    }
    int fits = v->rank < 0 || v->rank == (int)rank;
    for (int d = 0; fits && v->rank >= 0 && d < v->rank; d++)
        if (v->dims[d] >= 0 && !v->dim_param[d] && v->dims[d] != shape[d])
            fits = 0;
    if (!fits) {
        char a[200], b[200];
        return qsim__fail(QSIM_ERR_SHAPE, "%s: input '%s': shape %s does not fit the model's %s",
                          fn, v->name, qsim__shape_str(&sh, a, sizeof a),
                          model_shape_str(v, b, sizeof b));
    }
    qsim__tensor *t = NULL;
    char what[300];
    snprintf(what, sizeof what, "input '%.200s'", v->name);
    QSIM__TRY(qsim__tensor_new(elem_type, &sh, what, &t));
    size_t bytes = t->numel * qsim__dtype_size(elem_type);
    if (bytes && !data) {
        qsim__tensor_free(t);
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: input '%s': data is NULL", fn, v->name);
    }
    if (bytes)
        memcpy(t->data, data, bytes);
    if (elem_type == QSIM__DT_BOOL)
        for (size_t i = 0; i < t->numel; i++)
            ((uint8_t *)t->data)[i] = ((uint8_t *)t->data)[i] != 0;
    qsim__tensor *old = s->inputs[which];
    s->inputs[which] = t;
    qsim__tensor_free(old);
    s->have_run = 0;
    return QSIM_OK;
}

qsim_status qsim_sim_set_input(qsim_sim *s, const char *name, const float *data,
                               const int64_t *shape, size_t rank)
{
    return set_input(s, "qsim_sim_set_input", name, QSIM__DT_FLOAT, data, shape, rank);
}

qsim_status qsim_sim_set_input_typed(qsim_sim *s, const char *name, int32_t elem_type,
                                     const void *data, const int64_t *shape, size_t rank)
{
    return set_input(s, "qsim_sim_set_input_typed", name, elem_type, data, shape, rank);
}

/* ---- run and outputs -------------------------------------------------- */

qsim_status qsim_sim_run(qsim_sim *s)
{
    QSIM__TRY(qsim__sim_check(s, "qsim_sim_run"));
    const qsim__graph *g = s->g;
    for (size_t i = 0; i < g->n_inputs; i++)
        if (!s->inputs[i])
            return qsim__fail(QSIM_ERR_STATE, "qsim_sim_run: input '%s' is not set",
                              g->values[g->inputs[i]].name);
    s->have_run = 0;
    QSIM__TRY(qsim__quant_prepare_run(s));
    if (s->plan && !qsim__plan_matches(s, s->plan)) {
        qsim__plan_free(s->plan);
        s->plan = NULL;
    }
    if (!s->plan)
        QSIM__TRY(qsim__plan_build(s, &s->plan));
    QSIM__TRY(qsim__run_plan(s));
    s->have_run = 1;
    qsim__quant_after_run(s);
    return QSIM_OK;
}

static qsim_status get_output(qsim_sim *s, const char *fn, const char *name, int32_t *elem_type,
                              const void **data, const int64_t **shape, size_t *rank,
                              int want_float)
{
    QSIM__TRY(qsim__sim_check(s, fn));
    if (!name || !data || !shape || !rank || (!want_float && !elem_type))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: name and output pointers must not be NULL",
                          fn);
    const qsim__graph *g = s->g;
    int32_t v = -1;
    for (size_t i = 0; i < g->n_outputs; i++)
        if (strcmp(g->values[g->outputs[i]].name, name) == 0)
            v = g->outputs[i];
    if (v < 0) {
        char names[600];
        list_names(g, g->outputs, g->n_outputs, names, sizeof names);
        return qsim__fail(QSIM_ERR_NOT_FOUND, "%s: '%.200s' is not a model output; outputs are %s",
                          fn, name, names);
    }
    if (!s->have_run || !s->plan)
        return qsim__fail(QSIM_ERR_STATE, "%s: output '%s': no successful qsim_sim_run since the "
                          "sim was created or its inputs changed", fn, g->values[v].name);
    const qsim__rtval *rv = &s->plan->vals[v];
    if (want_float && rv->dtype != QSIM__DT_FLOAT)
        return qsim__fail(QSIM_ERR_UNSUPPORTED,
                          "%s: output '%s' is %s, not float (use qsim_sim_get_output_typed)", fn,
                          g->values[v].name, qsim__dtype_name(rv->dtype));
    if (elem_type)
        *elem_type = rv->dtype;
    *data = rv->data;
    *shape = rv->shape.dims;
    *rank = (size_t)rv->shape.rank;
    return QSIM_OK;
}

qsim_status qsim_sim_get_output(qsim_sim *s, const char *name, const float **data,
                                const int64_t **shape, size_t *rank)
{
    const void *d = NULL;
    if (!data)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_sim_get_output: data is NULL");
    QSIM__TRY(get_output(s, "qsim_sim_get_output", name, NULL, &d, shape, rank, 1));
    *data = d;
    return QSIM_OK;
}

qsim_status qsim_sim_get_output_typed(qsim_sim *s, const char *name, int32_t *elem_type,
                                      const void **data, const int64_t **shape, size_t *rank)
{
    return get_output(s, "qsim_sim_get_output_typed", name, elem_type, data, shape, rank, 0);
}

/* ---- hooks for the quantizer modules ----------------------------------- */

qsim_status qsim__sim_set_constant(qsim_sim *s, int32_t value, const qsim__tensor *t)
{
    const qsim__graph *g = s->g;
    if (value < 0 || (size_t)value >= g->n_values)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "set_constant: value %d out of range",
                          (int)value);
    const qsim__value *v = &g->values[value];
    if (!v->constant)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "set_constant: '%s' is not a constant",
                          v->name);
    qsim__tensor *copy = NULL;
    if (t) {
        if (t->dtype != v->constant->dtype || !qsim__shape_equal(&t->shape, &v->constant->shape))
            return qsim__fail(QSIM_ERR_SHAPE, "set_constant: '%s': type or shape differs from "
                              "the model's", v->name);
        if (!(copy = qsim__tensor_clone(t)))
            return qsim__oom();
    }
    qsim__tensor *old = s->const_override[value];
    s->const_override[value] = copy;
    qsim__sim_invalidate(s);
    /* consumers appear once per input slot: init each node once; if one
     * refuses the new data, put the old constant back everywhere */
    for (size_t c = 0; c < v->n_consumers; c++) {
        int32_t ni = v->consumers[c];
        if (c > 0 && v->consumers[c - 1] == ni)
            continue;
        qsim_status st = qsim__sim_init_node(s, (size_t)ni, NULL);
        if (st != QSIM_OK) {
            s->const_override[value] = old;
            qsim__tensor_free(copy);
            for (size_t r = 0; r < c; r++)
                if (r == 0 || v->consumers[r - 1] != v->consumers[r])
                    (void)qsim__sim_init_node(s, (size_t)v->consumers[r], NULL);
            return st;
        }
    }
    qsim__tensor_free(old);
    return QSIM_OK;
}

qsim_status qsim__sim_set_hook(qsim_sim *s, int32_t value, qsim__value_hook_fn fn, void *ctx)
{
    if (value < 0 || (size_t)value >= s->g->n_values)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "set_hook: value %d out of range", (int)value);
    s->hooks[value].fn = fn;
    s->hooks[value].ctx = fn ? ctx : NULL;
    qsim__sim_invalidate(s);
    return QSIM_OK;
}
