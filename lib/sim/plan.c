/* The plan: types and shapes, constant folding, schedule, arena layout.
 * Built once per set of input shapes and cached on the sim. */
#include "sim_internal.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <stdio.h>
#include <string.h>

#define ALIGN 64u

void qsim__plan_free(qsim__plan *p)
{
    if (!p)
        return;
    if (p->folded)
        for (size_t i = 0; i < p->n_values; i++)
            qsim__tensor_free(p->folded[i]);
    qsim__free(p->folded);
    qsim__free(p->in_shapes);
    qsim__free(p->in_dtypes);
    if (p->in_data)
        for (size_t i = 0; i < p->n_inputs; i++)
            qsim__free(p->in_data[i]);
    qsim__free(p->in_data);
    qsim__free(p->vals);
    qsim__free(p->sched);
    qsim__free(p->mode);
    if (p->fused)
        for (size_t i = 0; i < p->n_nodes; i++)
            qsim__fused_free(p->fused[i]);
    qsim__free(p->fused);
    qsim__free(p->views);
    if (p->omitted)
        for (size_t i = 0; i < p->n_nodes; i++)
            qsim__free(p->omitted[i]);
    qsim__free(p->omitted);
    qsim__free_aligned(p->discard);
    qsim__free_aligned(p->arena);
    qsim__free_aligned(p->workspace);
    qsim__free(p);
}

int qsim__plan_matches(const qsim_sim *s, const qsim__plan *p)
{
    for (size_t i = 0; i < p->n_inputs; i++) {
        const qsim__tensor *t = s->inputs[i];
        if (!t || t->dtype != p->in_dtypes[i] || !qsim__shape_equal(&t->shape, &p->in_shapes[i]))
            return 0;
        if (p->in_data[i] &&
            memcmp(p->in_data[i], t->data, t->numel * qsim__dtype_size(t->dtype)) != 0)
            return 0;
    }
    return 1;
}

int qsim__plan_keyed_input(const qsim__graph *g, int32_t v, const qsim__tensor *t)
{
    if (t->numel > 64)
        return 0;
    if (t->dtype == QSIM__DT_INT64 || t->dtype == QSIM__DT_INT32)
        return 1;
    /* a small tensor that only ever feeds parameter slots (Resize scales,
     * Clip bounds, Pad's constant value), never a node's data input 0 */
    const qsim__value *val = &g->values[v];
    if (val->is_graph_output || !val->n_consumers)
        return 0;
    for (size_t c = 0; c < val->n_consumers; c++) {
        const qsim__node *n = &g->nodes[val->consumers[c]];
        for (size_t k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] == v && k == 0)
                return 0;
    }
    return 1;
}

void qsim__plan_view(const qsim__plan *p, int32_t v, qsim__tview *out)
{
    memset(out, 0, sizeof *out);
    if (v < 0)
        return;
    const qsim__rtval *r = &p->vals[v];
    out->dtype = r->dtype;
    out->shape = r->shape;
    out->numel = r->numel;
    out->data = r->data;
}

static int32_t find_root(const qsim__plan *p, int32_t v)
{
    while (p->vals[v].root != v)
        v = p->vals[v].root;
    return v;
}

static int is_op(const qsim__node *n, const char *type)
{
    return strcmp(n->op_type, type) == 0;
}

/* Fill in views for node n from the plan's values (data for constants). */
static qsim_status node_inputs(const qsim_sim *s, const qsim__plan *p, const qsim__node *n,
                               qsim__tview *in, int *all_const)
{
    *all_const = 1;
    for (size_t k = 0; k < n->n_inputs; k++) {
        int32_t v = n->inputs[k];
        memset(&in[k], 0, sizeof in[k]);
        if (v < 0)
            continue;
        const qsim__rtval *r = &p->vals[v];
        if (r->kind == QSIM__VAL_UNUSED)
            return qsim__fail(QSIM_ERR_INTERNAL, "%s: input '%s' is computed by no earlier node",
                              qsim__node_label(n), s->g->values[v].name);
        qsim__plan_view(p, v, &in[k]);
        if (r->kind != QSIM__VAL_CONST) {
            in[k].data = NULL;
            *all_const = 0;
        }
    }
    return QSIM_OK;
}

static qsim_status set_output_info(const qsim_sim *s, qsim__plan *p, const qsim__node *n,
                                   const qsim__tview *out)
{
    for (size_t k = 0; k < n->n_outputs; k++) {
        int32_t v = n->outputs[k];
        if (v < 0)
            continue;
        qsim__rtval *r = &p->vals[v];
        const char *name = s->g->values[v].name;
        if (!qsim__dtype_size(out[k].dtype))
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: output '%s' has element type %s",
                              qsim__node_label(n), name, qsim__dtype_name(out[k].dtype));
        char what[300];
        snprintf(what, sizeof what, "%s output '%.100s'", qsim__node_label(n), name);
        size_t numel, bytes;
        QSIM__TRY(qsim__shape_numel(&out[k].shape, what, &numel));
        if (!qsim__mul_size(numel, qsim__dtype_size(out[k].dtype), &bytes) ||
            bytes > QSIM__MAX_TENSOR_BYTES)
            return qsim__fail(QSIM_ERR_SHAPE, "%s: %zu elements exceed the tensor size limit", what,
                              numel);
        r->dtype = out[k].dtype;
        r->shape = out[k].shape;
        r->numel = numel;
        r->root = v;
        r->kind = QSIM__VAL_ARENA;
        r->def = r->last = -1;
    }
    return QSIM_OK;
}

/* Outputs the model omits ("" names) still get written by most ops: keep
 * their inferred views and a scratch buffer big enough for any of them. */
static qsim_status keep_omitted(qsim__plan *p, size_t ni, const qsim__node *n, qsim__tview *out)
{
    int any = 0;
    for (size_t k = 0; k < n->n_outputs; k++)
        any |= n->outputs[k] < 0;
    if (!any)
        return QSIM_OK;
    qsim__tview *keep = qsim__malloc_array(n->n_outputs, sizeof *keep);
    if (!keep)
        return qsim__oom();
    for (size_t k = 0; k < n->n_outputs; k++) {
        keep[k] = out[k];
        if (n->outputs[k] >= 0)
            continue;
        size_t numel = 0, bytes = 0;
        if (out[k].dtype) {
            qsim_status st = qsim__shape_numel(&out[k].shape, "omitted output", &numel);
            if (st != QSIM_OK || !qsim__mul_size(numel, qsim__dtype_size(out[k].dtype), &bytes) ||
                bytes > QSIM__MAX_TENSOR_BYTES) {
                qsim__free(keep);
                return qsim__fail(QSIM_ERR_SHAPE, "%s: omitted output %zu is too large",
                                  qsim__node_label(n), k);
            }
        }
        keep[k].numel = numel;
        if (bytes > p->discard_bytes) {
            void *d = qsim__malloc_aligned(bytes);
            if (!d) {
                qsim__free(keep);
                return qsim__oom();
            }
            qsim__free_aligned(p->discard);
            p->discard = d;
            p->discard_bytes = bytes;
        }
    }
    qsim__free(p->omitted[ni]);
    p->omitted[ni] = keep;
    return QSIM_OK;
}

/* Run node n now: its inputs are constants; outputs become plan-owned. */
static qsim_status fold_node(qsim_sim *s, qsim__plan *p, size_t ni, const qsim__tview *in,
                             qsim__tview *out, size_t ws)
{
    const qsim__node *n = &s->g->nodes[ni];
    const qsim__op_desc *op = s->nodes[ni].op;
    if (!p->discard && !(p->discard = qsim__malloc_aligned(64)))
        return qsim__oom();
    for (size_t k = 0; k < n->n_outputs; k++) {
        int32_t v = n->outputs[k];
        if (v < 0) {
            out[k].data = p->discard; /* keep_omitted sized it */
            continue;
        }
        qsim__tensor *t = NULL;
        QSIM__TRY(qsim__tensor_new(p->vals[v].dtype, &p->vals[v].shape, s->g->values[v].name, &t));
        p->folded[v] = t;
        out[k].data = t->data;
        out[k].numel = t->numel;
        p->vals[v].kind = QSIM__VAL_CONST;
        p->vals[v].data = t->data;
    }
    void *wsbuf = NULL;
    if (ws && !(wsbuf = qsim__malloc_aligned(ws)))
        return qsim__oom();
    qsim__exec ex = {s->pool, wsbuf};
    qsim_status st = op->run(s->nodes[ni].state, n, &ex, in, n->n_inputs, out, n->n_outputs);
    qsim__free_aligned(wsbuf);
    return st;
}

static int hooked_outputs(const qsim_sim *s, const qsim__node *n)
{
    for (size_t k = 0; k < n->n_outputs; k++)
        if (n->outputs[k] >= 0 && s->hooks[n->outputs[k]].fn)
            return 1;
    return 0;
}

static int non_omitted_outputs(const qsim__node *n)
{
    int c = 0;
    for (size_t k = 0; k < n->n_outputs; k++)
        c += n->outputs[k] >= 0;
    return c;
}

/* Shapes, folding and the schedule. */
static qsim_status infer_all(qsim_sim *s, qsim__plan *p)
{
    const qsim__graph *g = s->g;
    size_t max_io = 1;
    for (size_t i = 0; i < g->n_nodes; i++) {
        if (g->nodes[i].n_inputs > max_io)
            max_io = g->nodes[i].n_inputs;
        if (g->nodes[i].n_outputs > max_io)
            max_io = g->nodes[i].n_outputs;
    }
    p->max_io = max_io;
    if (!(p->views = qsim__malloc_array(2 * max_io, sizeof *p->views)))
        return qsim__oom();
    qsim__tview *in = p->views, *out = p->views + max_io;
    for (size_t ni = 0; ni < g->n_nodes; ni++) {
        const qsim__node *n = &g->nodes[ni];
        const qsim__op_desc *op = s->nodes[ni].op;
        if (!op)
            continue; /* Constant: its outputs are model constants */
        int all_const, uses_folded = 0;
        QSIM__TRY(node_inputs(s, p, n, in, &all_const));
        for (size_t k = 0; k < n->n_inputs; k++)
            uses_folded |= n->inputs[k] >= 0 && p->folded[n->inputs[k]] != NULL;
        /* a weight that is only constant after folding: give init its data */
        if (uses_folded)
            QSIM__TRY(qsim__sim_init_node(s, ni, p->folded));
        memset(out, 0, n->n_outputs * sizeof *out);
        size_t ws = 0;
        QSIM__TRY(op->infer(s->nodes[ni].state, n, in, n->n_inputs, out, n->n_outputs, &ws));
        QSIM__TRY(set_output_info(s, p, n, out));
        QSIM__TRY(keep_omitted(p, ni, n, out));
        int has_input = 0;
        for (size_t k = 0; k < n->n_inputs; k++)
            has_input |= n->inputs[k] >= 0;
        /* Shape and Size read only the (known) shape of their input */
        int foldable = (all_const || is_op(n, "Shape") || is_op(n, "Size")) && has_input &&
                       !hooked_outputs(s, n);
        if (foldable) {
            QSIM__TRY(fold_node(s, p, ni, in, out, ws));
            continue;
        }
        if (ws > p->workspace_bytes)
            p->workspace_bytes = ws;
        uint8_t mode = QSIM__NODE_RUN;
        if ((op->flags & QSIM__OP_ALIAS) && n->n_inputs >= 1 && n->inputs[0] >= 0 &&
            n->n_outputs >= 1 && n->outputs[0] >= 0 && non_omitted_outputs(n) == 1 &&
            !s->hooks[n->outputs[0]].fn) {
            const qsim__rtval *a = &p->vals[n->inputs[0]], *b = &p->vals[n->outputs[0]];
            if (a->dtype == b->dtype && a->numel == b->numel)
                mode = QSIM__NODE_ALIAS;
        }
        p->sched[p->n_sched] = (int32_t)ni;
        p->mode[p->n_sched] = mode;
        p->n_sched++;
    }
    return QSIM_OK;
}

static size_t round_up(size_t x)
{
    return (x + ALIGN - 1) / ALIGN * ALIGN;
}

typedef struct buf {
    int32_t v;
    size_t bytes;
    int32_t def, last;
    size_t offset;
} buf;

static int overlap(const buf *a, const buf *b)
{
    return a->def <= b->last && b->def <= a->last;
}

/* Greedy by size: biggest first, each at the lowest offset that is free
 * during its whole lifetime among the already placed buffers. Packs well;
 * quadratic, so used up to greedy_max (4096) buffers. */
static size_t greedy_max = 4096;

void qsim__plan_set_greedy_max(size_t n) { greedy_max = n; }

static qsim_status place_greedy(buf *bufs, size_t nbuf, size_t *total)
{
    for (size_t i = 1; i < nbuf; i++)
        for (size_t j = i; j > 0 && bufs[j].bytes > bufs[j - 1].bytes; j--) {
            buf t = bufs[j];
            bufs[j] = bufs[j - 1];
            bufs[j - 1] = t;
        }
    for (size_t i = 0; i < nbuf; i++) {
        size_t off = 0;
        int moved = 1;
        while (moved) {
            moved = 0;
            for (size_t j = 0; j < i; j++) {
                if (!overlap(&bufs[i], &bufs[j]) || bufs[j].bytes == 0 || bufs[i].bytes == 0)
                    continue;
                if (off < bufs[j].offset + bufs[j].bytes && bufs[j].offset < off + bufs[i].bytes) {
                    off = bufs[j].offset + bufs[j].bytes;
                    moved = 1;
                }
            }
        }
        bufs[i].offset = off;
        if (off + bufs[i].bytes > *total)
            *total = off + bufs[i].bytes;
    }
    return QSIM_OK;
}

typedef struct block {
    size_t offset, bytes;
} block;

/* First fit in schedule order with a free list (large graphs): buffers are
 * released after their last step and their space merged with neighbours. */
static qsim_status place_first_fit(buf *bufs, size_t nbuf, size_t *total)
{
    /* order by first step (insertion sort is too slow here: merge sort) */
    buf *tmp = qsim__malloc_array(nbuf, sizeof *tmp);
    block *free_list = qsim__malloc_array(nbuf + 1, sizeof *free_list);
    size_t *active = qsim__malloc_array(nbuf, sizeof *active);
    if (!tmp || !free_list || !active) {
        qsim__free(tmp), qsim__free(free_list), qsim__free(active);
        return qsim__oom();
    }
    for (size_t width = 1; width < nbuf; width *= 2) {
        for (size_t lo = 0; lo < nbuf; lo += 2 * width) {
            size_t mid = lo + width < nbuf ? lo + width : nbuf;
            size_t hi = lo + 2 * width < nbuf ? lo + 2 * width : nbuf;
            size_t a = lo, b = mid, k = lo;
            while (a < mid || b < hi)
                tmp[k++] = (b >= hi || (a < mid && bufs[a].def <= bufs[b].def)) ? bufs[a++]
                                                                                : bufs[b++];
        }
        memcpy(bufs, tmp, nbuf * sizeof *bufs);
    }
    size_t n_free = 0, n_active = 0, top = 0;
    for (size_t i = 0; i < nbuf; i++) {
        /* release what died before this buffer's first step */
        for (size_t a = 0; a < n_active;) {
            const buf *d = &bufs[active[a]];
            if (d->last >= bufs[i].def) {
                a++;
                continue;
            }
            size_t pos = 0;
            while (pos < n_free && free_list[pos].offset < d->offset)
                pos++;
            memmove(free_list + pos + 1, free_list + pos, (n_free - pos) * sizeof *free_list);
            free_list[pos] = (block){d->offset, d->bytes};
            n_free++;
            if (pos + 1 < n_free &&
                free_list[pos].offset + free_list[pos].bytes == free_list[pos + 1].offset) {
                free_list[pos].bytes += free_list[pos + 1].bytes;
                memmove(free_list + pos + 1, free_list + pos + 2,
                        (n_free - pos - 2) * sizeof *free_list);
                n_free--;
            }
            if (pos > 0 && free_list[pos - 1].offset + free_list[pos - 1].bytes ==
                               free_list[pos].offset) {
                free_list[pos - 1].bytes += free_list[pos].bytes;
                memmove(free_list + pos, free_list + pos + 1, (n_free - pos - 1) * sizeof *free_list);
                n_free--;
            }
            active[a] = active[--n_active];
        }
        size_t need = bufs[i].bytes, f = 0;
        while (f < n_free && free_list[f].bytes < need)
            f++;
        if (f < n_free) {
            bufs[i].offset = free_list[f].offset;
            free_list[f].offset += need;
            free_list[f].bytes -= need;
            if (!free_list[f].bytes) {
                memmove(free_list + f, free_list + f + 1, (n_free - f - 1) * sizeof *free_list);
                n_free--;
            }
        } else if (n_free && free_list[n_free - 1].offset + free_list[n_free - 1].bytes == top) {
            /* grow the arena from the last free block */
            bufs[i].offset = free_list[n_free - 1].offset;
            top = bufs[i].offset + need;
            n_free--;
        } else {
            bufs[i].offset = top;
            top += need;
        }
        active[n_active++] = i;
    }
    *total = top;
    qsim__free(tmp), qsim__free(free_list), qsim__free(active);
    return QSIM_OK;
}

/* Liveness, in-place and aliasing, then the arena layout. */
static qsim_status layout(qsim_sim *s, qsim__plan *p)
{
    const qsim__graph *g = s->g;
    qsim__rtval *vals = p->vals;
    const int32_t end = (int32_t)p->n_sched; /* graph outputs live past the last step */

    /* roots: aliases share their input's root */
    for (size_t k = 0; k < p->n_sched; k++) {
        const qsim__node *n = qsim__plan_step_node(s, p, k);
        for (size_t o = 0; o < n->n_outputs; o++)
            if (n->outputs[o] >= 0)
                vals[n->outputs[o]].def = (int32_t)k;
        if (p->mode[k] == QSIM__NODE_ALIAS)
            vals[n->outputs[0]].root = n->inputs[0];
    }
    /* last use of every value (not root yet) */
    for (size_t k = 0; k < p->n_sched; k++) {
        const qsim__node *n = qsim__plan_step_node(s, p, k);
        for (size_t i = 0; i < n->n_inputs; i++)
            if (n->inputs[i] >= 0 && vals[n->inputs[i]].last < (int32_t)k)
                vals[n->inputs[i]].last = (int32_t)k;
        for (size_t o = 0; o < n->n_outputs; o++)
            if (n->outputs[o] >= 0 && vals[n->outputs[o]].last < (int32_t)k)
                vals[n->outputs[o]].last = (int32_t)k;
    }
    for (size_t i = 0; i < g->n_outputs; i++)
        vals[g->outputs[i]].last = end;
    /* fold the last use of each value into its root */
    for (size_t v = 0; v < p->n_values; v++) {
        if (vals[v].kind == QSIM__VAL_UNUSED)
            continue;
        int32_t r = find_root(p, (int32_t)v);
        if (vals[v].last > vals[r].last)
            vals[r].last = vals[v].last;
    }
    /* in-place: output 0 takes input 0's buffer when input 0 dies here */
    for (size_t k = 0; k < p->n_sched; k++) {
        const qsim__node *n = qsim__plan_step_node(s, p, k);
        /* a fused group with a residual writes over it (input 0) */
        int inplace = p->mode[k] == QSIM__NODE_FUSED
                          ? p->fused[k]->res >= 0
                          : p->mode[k] == QSIM__NODE_RUN &&
                                (s->nodes[p->sched[k]].op->flags & QSIM__OP_INPLACE);
        if (!inplace || n->n_inputs < 1 ||
            n->inputs[0] < 0 || n->n_outputs < 1 || n->outputs[0] < 0)
            continue;
        int32_t in0 = n->inputs[0], out0 = n->outputs[0];
        int32_t r = find_root(p, in0);
        if (vals[r].kind != QSIM__VAL_ARENA || vals[r].last != (int32_t)k || r == out0 ||
            vals[in0].numel != vals[out0].numel ||
            qsim__dtype_size(vals[in0].dtype) != qsim__dtype_size(vals[out0].dtype))
            continue;
        int shared = 0;
        for (size_t i = 1; i < n->n_inputs; i++)
            shared |= n->inputs[i] >= 0 && find_root(p, n->inputs[i]) == r;
        if (shared)
            continue;
        vals[out0].root = r;
        if (vals[out0].last > vals[r].last)
            vals[r].last = vals[out0].last;
    }
    /* resolve kinds and collect arena buffers */
    size_t nbuf = 0;
    buf *bufs = qsim__malloc_array(p->n_values ? p->n_values : 1, sizeof *bufs);
    if (!bufs)
        return qsim__oom();
    for (size_t v = 0; v < p->n_values; v++) {
        if (vals[v].kind == QSIM__VAL_UNUSED)
            continue;
        int32_t r = find_root(p, (int32_t)v);
        vals[v].root = r;
        vals[v].kind = vals[r].kind;
        if (r != (int32_t)v || vals[v].kind != QSIM__VAL_ARENA)
            continue;
        size_t bytes = vals[v].numel * qsim__dtype_size(vals[v].dtype);
        /* hooked graph inputs are copied into the arena at step -1 */
        int32_t def = vals[v].def < 0 ? -1 : vals[v].def;
        int32_t last = vals[v].last < def ? def : vals[v].last;
        bufs[nbuf++] = (buf){(int32_t)v, round_up(bytes), def, last, 0};
    }
    size_t total = 0, naive = 0;
    qsim_status st = nbuf <= greedy_max ? place_greedy(bufs, nbuf, &total)
                                        : place_first_fit(bufs, nbuf, &total);
    if (st != QSIM_OK) {
        qsim__free(bufs);
        return st;
    }
    for (size_t i = 0; i < nbuf; i++) {
        naive += bufs[i].bytes;
        vals[bufs[i].v].offset = bufs[i].offset;
        vals[bufs[i].v].bytes = bufs[i].bytes;
    }
    qsim__free(bufs);
    p->arena_bytes = total;
    p->naive_bytes = naive;
    if (total && !(p->arena = qsim__malloc_aligned(total)))
        return qsim__oom();
    if (p->workspace_bytes && !(p->workspace = qsim__malloc_aligned(p->workspace_bytes)))
        return qsim__oom();
    return QSIM_OK;
}

qsim_status qsim__plan_build(qsim_sim *s, qsim__plan **out)
{
    const qsim__graph *g = s->g;
    qsim__plan *p = qsim__calloc(1, sizeof *p);
    if (!p)
        return qsim__oom();
    p->n_values = g->n_values;
    p->n_inputs = g->n_inputs;
    size_t nv = g->n_values ? g->n_values : 1, nn = g->n_nodes ? g->n_nodes : 1;
    size_t ni = g->n_inputs ? g->n_inputs : 1;
    p->vals = qsim__calloc(nv, sizeof *p->vals);
    p->folded = qsim__calloc(nv, sizeof *p->folded);
    p->sched = qsim__calloc(nn, sizeof *p->sched);
    p->mode = qsim__calloc(nn, sizeof *p->mode);
    p->fused = qsim__calloc(nn, sizeof *p->fused);
    p->in_shapes = qsim__calloc(ni, sizeof *p->in_shapes);
    p->in_dtypes = qsim__calloc(ni, sizeof *p->in_dtypes);
    p->in_data = qsim__calloc(ni, sizeof *p->in_data);
    p->n_nodes = g->n_nodes;
    p->omitted = qsim__calloc(nn, sizeof *p->omitted);
    qsim_status st = QSIM_OK;
    if (!p->vals || !p->folded || !p->sched || !p->mode || !p->fused || !p->in_shapes || !p->in_dtypes ||
        !p->in_data || !p->omitted) {
        st = qsim__oom();
        goto fail;
    }
    for (size_t v = 0; v < g->n_values; v++) {
        const qsim__tensor *c = qsim__sim_constant(s, (int32_t)v);
        qsim__rtval *r = &p->vals[v];
        r->root = (int32_t)v;
        r->def = r->last = -1;
        if (!c)
            continue;
        r->kind = QSIM__VAL_CONST;
        r->dtype = c->dtype;
        r->shape = c->shape;
        r->numel = c->numel;
        r->data = c->data;
    }
    for (size_t i = 0; i < g->n_inputs; i++) {
        const qsim__tensor *t = s->inputs[i];
        qsim__rtval *r = &p->vals[g->inputs[i]];
        p->in_shapes[i] = t->shape;
        p->in_dtypes[i] = t->dtype;
        r->dtype = t->dtype;
        r->shape = t->shape;
        r->numel = t->numel;
        /* a hooked input is rewritten in place: work on a copy */
        r->kind = s->hooks[g->inputs[i]].fn ? QSIM__VAL_ARENA : QSIM__VAL_INPUT;
        /* integer inputs are shape-like (a Reshape target, Slice starts):
         * the plan reads their values, so it is keyed on them too */
        if (qsim__plan_keyed_input(g, g->inputs[i], t) && !s->hooks[g->inputs[i]].fn) {
            r->kind = QSIM__VAL_CONST;
            r->data = t->data;
            size_t bytes = t->numel * qsim__dtype_size(t->dtype);
            if (!(p->in_data[i] = qsim__malloc(bytes ? bytes : 1))) {
                st = qsim__oom();
                goto fail;
            }
            memcpy(p->in_data[i], t->data, bytes);
        }
    }
    if ((st = infer_all(s, p)) != QSIM_OK || (st = qsim__fuse_plan(s, p)) != QSIM_OK ||
        (st = layout(s, p)) != QSIM_OK)
        goto fail;
    *out = p;
    return QSIM_OK;
fail:
    qsim__plan_free(p);
    return st;
}
