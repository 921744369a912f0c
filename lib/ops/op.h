/* The op interface between the engine (lib/sim) and the op implementations
 * (lib/ops/<family>.c). An op validates its node once (init), infers output
 * types and shapes per input shape (infer, at plan time), and computes
 * (run). Ops see only tensor views and the node; the engine owns buffers. */
#ifndef QSIM_OPS_OP_H
#define QSIM_OPS_OP_H

#include <qsim/qsim.h>
#include <stddef.h>

#include "../core/tensor.h"
#include "../core/threadpool.h"
#include "../onnx/graph.h"

/* A run-time tensor: a borrowed buffer plus its type and shape. */
typedef struct qsim__tview {
    int dtype;             /* qsim__dtype; 0 for an omitted optional input */
    qsim__shape shape;
    size_t numel;
    void *data;            /* at init/infer: non-NULL only for constants */
} qsim__tview;

typedef struct qsim__exec {
    qsim__pool *pool;      /* NULL = single-threaded */
    void *workspace;       /* infer's *workspace bytes, 64-byte aligned */
} qsim__exec;

enum {
    /* out[0] may share its buffer with in[0] (elementwise ops). */
    QSIM__OP_INPLACE = 1u << 0,
    /* out[0] is in[0]'s data under a new shape (Reshape, Flatten, Squeeze,
     * Unsqueeze, Identity, Dropout): the engine aliases, run is not called. */
    QSIM__OP_ALIAS = 1u << 1,
};

typedef struct qsim__op_desc {
    const char *op_type;   /* domain ai.onnx */
    unsigned flags;
    /* Validate attributes (for node->opset) and build per-node state, e.g.
     * packed weights. in[i].data is set for constant inputs (initializers,
     * Constant outputs, values the engine folded). Called at sim creation and
     * again whenever a constant input changes (a re-quantized weight).
     * May leave *state NULL. Errors name the node (qsim__node_label). */
    qsim_status (*init)(const qsim__node *n, const qsim__tview *in, size_t n_in, void **state);
    /* Output dtypes and shapes from the inputs' (constant inputs carry data,
     * e.g. Reshape's shape); *workspace = scratch bytes run needs. */
    qsim_status (*infer)(void *state, const qsim__node *n, const qsim__tview *in, size_t n_in,
                         qsim__tview *out, size_t n_out, size_t *workspace);
    /* Compute outputs into the engine's buffers (out[i].data set). */
    qsim_status (*run)(void *state, const qsim__node *n, const qsim__exec *ex,
                       const qsim__tview *in, size_t n_in, qsim__tview *out, size_t n_out);
    void (*free_state)(void *state);
} qsim__op_desc;

/* The op for (domain, op_type), or NULL. domain "" and "ai.onnx" match. */
const qsim__op_desc *qsim__op_lookup(const char *domain, const char *op_type);

/* Each family file exports a NULL-terminated table; registry.c walks them. */
extern const qsim__op_desc *const qsim__ops_conv[];     /* Conv, ConvTranspose */
extern const qsim__op_desc *const qsim__ops_gemm[];     /* Gemm, MatMul */
extern const qsim__op_desc *const qsim__ops_norm[];     /* BatchNormalization, LayerNormalization */
extern const qsim__op_desc *const qsim__ops_pool[];     /* Max/Average/GlobalAverage/GlobalMaxPool */
extern const qsim__op_desc *const qsim__ops_resize[];   /* Resize, Upsample */
extern const qsim__op_desc *const qsim__ops_qdq[];      /* QuantizeLinear, DequantizeLinear */
extern const qsim__op_desc *const qsim__ops_eltwise[];  /* unary/binary elementwise, Clip, Where ... */
extern const qsim__op_desc *const qsim__ops_reduce[];   /* Softmax, ReduceMean */
extern const qsim__op_desc *const qsim__ops_shape[];    /* Reshape, Transpose, Concat, Slice, Gather ... */

#endif
