/* The sim handle and the engine's plan.
 *
 * Lifetime of things:
 * - create: options copied, every node's op looked up (unsupported ops are
 *   reported together) and initialized with the model's constants.
 * - plan (plan.c): built on the first run and again whenever an input's
 *   shape or type changes. Infers every value's type and shape in
 *   topological order, folds nodes whose inputs are all constant (so
 *   Shape->Gather->Concat->Reshape chains become constants), schedules the
 *   rest and lays out one 64-byte aligned arena by buffer liveness, with
 *   in-place (QSIM__OP_INPLACE) and aliasing (QSIM__OP_ALIAS) reuse.
 * - run (run.c): walks the schedule; after each produced value it calls the
 *   value's hook, where quantizers plug in.
 *
 * Hooks for the quantizer modules:
 * - qsim__sim_set_hook(): a per-value post-process callback that may read or
 *   rewrite a value in place right after it is produced (graph inputs: at
 *   the start of each run). A value with a hook always owns its buffer (it
 *   is never an alias of another value and never folded), so rewriting it
 *   touches nothing else.
 * - qsim__sim_set_constant(): replaces a constant (a re-quantized weight);
 *   the nodes that consume it are initialized again and the plan is rebuilt.
 */
#ifndef QSIM_SIM_INTERNAL_H
#define QSIM_SIM_INTERNAL_H

#include <qsim/qsim.h>
#include <stdint.h>

#include "../core/tensor.h"
#include "../core/threadpool.h"
#include "../onnx/graph.h"
#include "../ops/op.h"
#include "options.h"
#include "../core/cpu.h"

#define QSIM__SIM_MAGIC 0x53494d53u /* "SIMS" */

/* Post-process callback for one value: t->data is the value's buffer, which
 * the hook may rewrite in place. A non-OK status stops the run. */
typedef qsim_status (*qsim__value_hook_fn)(void *ctx, qsim_sim *s, int32_t value,
                                           qsim__tview *t);

typedef struct qsim__value_hook {
    qsim__value_hook_fn fn;   /* NULL: none */
    void *ctx;
} qsim__value_hook;

typedef struct qsim__node_rt {
    const qsim__op_desc *op;  /* NULL for Constant nodes (skipped) */
    void *state;              /* from op->init */
} qsim__node_rt;

/* Where a value's bytes live at run time. */
enum {
    QSIM__VAL_UNUSED = 0,     /* omitted or never computed */
    QSIM__VAL_CONST,          /* a model/replaced constant or a folded value */
    QSIM__VAL_INPUT,          /* the sim's copy of a graph input */
    QSIM__VAL_ARENA,          /* a buffer in the plan's arena */
};

/* How a scheduled node runs. */
enum {
    QSIM__NODE_RUN = 0,       /* op->run */
    QSIM__NODE_ALIAS,         /* output 0 shares input 0's bytes: nothing to do */
    QSIM__NODE_COPY,          /* an ALIAS op whose output needs its own buffer */
    QSIM__NODE_FUSED,         /* a fused group (fuse.c): plan->fused[step] */
};

struct qsim__conv;

/* A fused group (fuse.c): Conv [-> BatchNormalization] [-> Add(residual)]
 * [-> Relu | Clip | LeakyRelu] [-> MaxPool], run as one conv at the
 * group's last node. With the MaxPool, image by image: each image's conv
 * output goes to a workspace buffer and is pooled while still cached. */
typedef struct qsim__fused {
    struct qsim__conv *conv;  /* owned: BN folded in, the activation as epilogue */
    int32_t x, res, out;      /* values: conv input, residual (-1: none), output */
    int32_t ins[2], outs[1];
    qsim__node node;          /* inputs {res, x} or {x}, outputs {out}: what the
                                 layout sees (not a graph node) */
    int32_t pool;             /* the MaxPool node, or -1 */
    qsim__shape mid, pooled;  /* one image's conv and pool outputs */
    size_t conv_ws, pool_ws;  /* workspace: conv, pool, then the conv output */
} qsim__fused;

typedef struct qsim__rtval {
    int dtype;
    qsim__shape shape;
    size_t numel;
    int kind;                 /* QSIM__VAL_* of the root */
    int32_t root;             /* value whose buffer this one uses (itself if none) */
    size_t offset, bytes;     /* arena placement of a root buffer */
    int32_t def, last;        /* schedule steps: produced, last read */
    void *data;               /* resolved at the start of each run */
} qsim__rtval;

typedef struct qsim__plan {
    size_t n_values;
    size_t n_nodes;
    size_t n_inputs;
    qsim__shape *in_shapes;   /* the input shapes this plan was built for */
    int *in_dtypes;
    void **in_data;           /* per input: values of keyed (shape-like) inputs, else NULL */
    qsim__rtval *vals;        /* per graph value */
    qsim__tensor **folded;    /* per value: computed at plan time (owned) */
    int32_t *sched;           /* node indices in run order */
    uint8_t *mode;            /* per scheduled step: QSIM__NODE_* */
    qsim__fused **fused;      /* per scheduled step: the group when FUSED (owned) */
    size_t n_sched;
    void *arena;
    size_t arena_bytes;
    void *workspace;
    size_t workspace_bytes;
    size_t naive_bytes;       /* sum of all arena buffers, without reuse */
    qsim__tview *views;       /* 2 * max_io scratch views for run */
    qsim__tview **omitted;    /* per node: inferred views of all outputs when some
                                 are omitted (they write into `discard`), else NULL */
    void *discard;            /* scratch for omitted outputs, 64-byte aligned */
    size_t discard_bytes;
    size_t max_io;            /* most inputs or outputs of one node */
} qsim__plan;

struct qsim_sim {
    uint32_t magic;
    qsim_model *model;
    const qsim__graph *g;
    qsim_sim_options opts;
    qsim__pool *pool;
    qsim__node_rt *nodes;            /* per node */
    qsim__tensor **const_override;   /* per value: replaced constant, NULL = model's */
    qsim__tensor **inputs;           /* per graph input (g->inputs order), NULL until set */
    qsim__value_hook *hooks;         /* per value */
    void *quant;                     /* quantizer module state; NULL for FP32 */
    qsim__plan *plan;                /* NULL until the first run / after invalidation */
    int have_run;                    /* outputs valid */
    int busy;                        /* inside compute_encodings / adaround */
    qsim_progress_fn progress;
    void *progress_user;
};

/* NULL / bad-magic check naming the calling function. */
qsim_status qsim__sim_check(const qsim_sim *s, const char *fn);

/* The constant data of a value (replaced, else the model's), or NULL when
 * the value is not a constant of the model. Plan-time folded values are in
 * s->plan->folded. */
const qsim__tensor *qsim__sim_constant(const qsim_sim *s, int32_t value);

/* Replace the constant `value` with a copy of t (same dtype and shape), or
 * restore the model's when t is NULL; re-initializes the consuming nodes
 * and drops the plan. */
qsim_status qsim__sim_set_constant(qsim_sim *s, int32_t value, const qsim__tensor *t);

/* Install or remove (fn NULL) the hook of a value; drops the plan. */
qsim_status qsim__sim_set_hook(qsim_sim *s, int32_t value, qsim__value_hook_fn fn, void *ctx);

/* (Re)initialize node i with the constants known now; extra_const (per
 * value, may be NULL) adds plan-time folded constants. */
qsim_status qsim__sim_init_node(qsim_sim *s, size_t i, qsim__tensor *const *extra_const);

/* Drop the cached plan (next run rebuilds it); outputs become invalid. */
void qsim__sim_invalidate(qsim_sim *s);

/* plan.c */
qsim_status qsim__plan_build(qsim_sim *s, qsim__plan **out);
void qsim__plan_free(qsim__plan *p);
/* 1 for a small shape-like input (int32/int64, or only feeding parameter
 * slots such as Resize scales) whose values the plan reads, and is rebuilt
 * for when they change. */
int qsim__plan_keyed_input(const qsim__graph *g, int32_t v, const qsim__tensor *t);
/* 1 when p was built for the inputs currently set. */
int qsim__plan_matches(const qsim_sim *s, const qsim__plan *p);

/* Tests: above n arena buffers the layout switches from greedy-by-size to
 * first fit in schedule order (default 4096). */
void qsim__plan_set_greedy_max(size_t n);

/* fuse.c: after scheduling, before the layout: replace fusable chains by
 * QSIM__NODE_FUSED steps. Values inside a group (one consumer, not a graph
 * output, no hook) become QSIM__VAL_UNUSED. When any value has a hook (a
 * quantizer, a capture) only bit-exact fusions happen (the activation
 * epilogue); BN folding and the residual add change rounding. */
qsim_status qsim__fuse_plan(qsim_sim *s, qsim__plan *p);
qsim_status qsim__fused_run(qsim_sim *s, const qsim__plan *p, const qsim__fused *f,
                            const qsim__exec *ex);
void qsim__fused_free(qsim__fused *f);
/* The node scheduled at step k (a fused group's synthesized node). */
const qsim__node *qsim__plan_step_node(const qsim_sim *s, const qsim__plan *p, size_t k);
/* Tests and benchmarks: 0 turns fusion off process-wide (default 1). */
void qsim__plan_set_fusion(int on);
/* Tests: 0 keeps MaxPool out of the groups (default 1). */
void qsim__plan_set_pool_fusion(int on);

/* run.c: execute the current plan. */
qsim_status qsim__run_plan(qsim_sim *s);

/* A tview of value v as planned (data resolved for the current run). */
void qsim__plan_view(const qsim__plan *p, int32_t v, qsim__tview *out);

#endif
