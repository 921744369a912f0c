/* Executes a plan: resolve buffers, run the schedule, call value hooks. */
#include "sim_internal.h"

#include "../core/error.h"

#include <string.h>

static qsim_status call_hook(qsim_sim *s, int32_t v)
{
    const qsim__value_hook *h = &s->hooks[v];
    if (!h->fn)
        return QSIM_OK;
    qsim__tview t;
    qsim__plan_view(s->plan, v, &t);
    return h->fn(h->ctx, s, v, &t);
}

qsim_status qsim__run_plan(qsim_sim *s)
{
    const qsim__graph *g = s->g;
    qsim__plan *p = s->plan;
    qsim__rtval *vals = p->vals;
    /* roots first, then everything that shares a root */
    for (size_t i = 0; i < g->n_inputs; i++) {
        qsim__rtval *r = &vals[g->inputs[i]];
        if (r->kind == QSIM__VAL_INPUT || r->kind == QSIM__VAL_CONST)
            r->data = s->inputs[i]->data;
    }
    /* an all-empty plan has no arena: empty tensors still get a non-NULL
     * pointer (ops may memset/memcpy zero bytes from it) */
    static _Alignas(64) char empty[64];
    char *base = p->arena ? (char *)p->arena : empty;
    for (size_t v = 0; v < p->n_values; v++)
        if (vals[v].kind == QSIM__VAL_ARENA && vals[v].root == (int32_t)v)
            vals[v].data = base + vals[v].offset;
    for (size_t v = 0; v < p->n_values; v++)
        if (vals[v].kind != QSIM__VAL_UNUSED && vals[v].root != (int32_t)v)
            vals[v].data = vals[vals[v].root].data;
    for (size_t i = 0; i < g->n_inputs; i++) {
        int32_t v = g->inputs[i];
        if (!s->hooks[v].fn)
            continue;
        memcpy(vals[v].data, s->inputs[i]->data, vals[v].numel * qsim__dtype_size(vals[v].dtype));
        QSIM__TRY(call_hook(s, v));
    }
    qsim__tview *in = p->views, *out = p->views + p->max_io;
    qsim__exec ex = {s->pool, p->workspace};
    for (size_t k = 0; k < p->n_sched; k++) {
        if (p->mode[k] == QSIM__NODE_ALIAS)
            continue;
        if (p->mode[k] == QSIM__NODE_FUSED) {
            const qsim__fused *f = p->fused[k];
            QSIM__TRY(qsim__fused_run(s, p, f, &ex));
            QSIM__TRY(call_hook(s, f->out));
            continue;
        }
        size_t ni = (size_t)p->sched[k];
        const qsim__node *n = &g->nodes[ni];
        const qsim__node_rt *rt = &s->nodes[ni];
        for (size_t i = 0; i < n->n_inputs; i++)
            qsim__plan_view(p, n->inputs[i], &in[i]);
        for (size_t o = 0; o < n->n_outputs; o++) {
            qsim__plan_view(p, n->outputs[o], &out[o]);
            if (n->outputs[o] < 0 && p->omitted[ni]) {
                out[o] = p->omitted[ni][o];
                out[o].data = p->discard;
            }
        }
        QSIM__TRY(rt->op->run(rt->state, n, &ex, in, n->n_inputs, out, n->n_outputs));
        for (size_t o = 0; o < n->n_outputs; o++)
            if (n->outputs[o] >= 0)
                QSIM__TRY(call_hook(s, n->outputs[o]));
    }
    return QSIM_OK;
}
