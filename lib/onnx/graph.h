/* The internal graph: what the ONNX loader produces and everything else
 * (engine, quantizer placement, export) reads. Plain arrays indexed by int32;
 * values are looked up by name through a strmap. Immutable after load. */
#ifndef QSIM_ONNX_GRAPH_H
#define QSIM_ONNX_GRAPH_H

#include <qsim/qsim.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/limits.h"
#include "../core/strmap.h"
#include "../core/tensor.h"

/* Attribute types: the values of ONNX AttributeProto.AttributeType. */
typedef enum qsim__attr_type {
    QSIM__ATTR_UNDEFINED = 0,
    QSIM__ATTR_FLOAT = 1,
    QSIM__ATTR_INT = 2,
    QSIM__ATTR_STRING = 3,
    QSIM__ATTR_TENSOR = 4,
    QSIM__ATTR_GRAPH = 5,
    QSIM__ATTR_FLOATS = 6,
    QSIM__ATTR_INTS = 7,
    QSIM__ATTR_STRINGS = 8,
    QSIM__ATTR_TENSORS = 9,
    QSIM__ATTR_GRAPHS = 10,
    QSIM__ATTR_SPARSE_TENSOR = 11,
    QSIM__ATTR_SPARSE_TENSORS = 12,
    QSIM__ATTR_TYPE_PROTO = 13,
    QSIM__ATTR_TYPE_PROTOS = 14,
} qsim__attr_type;

typedef struct qsim__attr {
    char *name;
    int type;              /* qsim__attr_type */
    float f;               /* FLOAT */
    int64_t i;             /* INT */
    char *s;               /* STRING: NUL-terminated copy of the bytes */
    size_t s_len;          /* STRING: byte length (may contain NUL) */
    size_t n;              /* element count of FLOATS / INTS / STRINGS */
    float *floats;         /* FLOATS */
    int64_t *ints;         /* INTS */
    char **strings;        /* STRINGS */
    qsim__tensor *t;       /* TENSOR (decoded like an initializer) */
} qsim__attr;

typedef struct qsim__node {
    char *name;            /* "" when the model leaves it unnamed */
    char *op_type;
    char *domain;          /* "" for ai.onnx */
    int64_t opset;         /* the opset version imported for this domain */
    size_t n_inputs;
    int32_t *inputs;       /* value indices; -1 for an omitted optional input */
    size_t n_outputs;
    int32_t *outputs;      /* value indices; -1 for an omitted optional output */
    size_t n_attrs;
    qsim__attr *attrs;
    size_t proto_index;    /* position of the node in the original GraphProto */
    /* Values of this graph that the node's subgraph attributes (If, Loop,
     * Scan bodies) read by name: the node depends on their producers (the
     * topological order respects that) and they must stay alive until it
     * runs. Not input slots: not listed in the values' consumers. */
    size_t n_implicit;
    int32_t *implicit_inputs;
} qsim__node;

/* One named tensor of the graph (an edge). */
typedef struct qsim__value {
    char *name;
    int elem_type;                        /* qsim__dtype; 0 when unknown */
    int rank;                             /* -1 when unknown */
    int64_t dims[QSIM__MAX_RANK];         /* -1 where symbolic or unknown */
    char *dim_param[QSIM__MAX_RANK];      /* symbolic name or NULL */
    int32_t producer;                     /* node index, -1 for inputs/initializers */
    /* Constant data: set for initializers and for outputs of Constant nodes
     * (the Constant node stays in the node list; the engine skips it).
     * Owned by the graph. A Constant node's 'value' TENSOR attribute is
     * moved here (that attribute's t is NULL after load); value_float(s) and
     * value_int(s) become float / int64 tensors (rank 0 or 1). */
    qsim__tensor *constant;
    uint8_t is_initializer;               /* from GraphProto.initializer */
    uint8_t is_graph_input;               /* a real input (not an initializer) */
    uint8_t is_graph_output;
    size_t n_consumers;
    int32_t *consumers;                   /* node indices, in topological order
                                             (a node appears once per input slot) */
} qsim__value;

typedef struct qsim__opset {
    char *domain;          /* "" for ai.onnx */
    int64_t version;
} qsim__opset;

typedef struct qsim__graph {
    size_t n_values;
    qsim__value *values;
    qsim__strmap *value_index;   /* name -> (void*)(intptr_t)(index + 1) */
    size_t n_nodes;
    qsim__node *nodes;           /* topological order */
    size_t n_inputs;
    int32_t *inputs;             /* real inputs, in GraphProto order */
    size_t n_outputs;
    int32_t *outputs;
    size_t n_initializers;
    int32_t *initializers;       /* value indices, in GraphProto order */
    size_t n_opsets;
    qsim__opset *opsets;
    int64_t ir_version;
    char *name;
    char *producer_name;
    char *producer_version;
    uint64_t param_count;        /* elements over all initializers */
    uint64_t param_bytes;        /* bytes as stored in the model */
} qsim__graph;

/* Value index by name, -1 when absent. */
int32_t qsim__graph_find(const qsim__graph *g, const char *name);
/* Opset version imported for a domain ("" and "ai.onnx" are the same);
 * 0 when the model does not import it. */
int64_t qsim__graph_opset(const qsim__graph *g, const char *domain);
void qsim__graph_free(qsim__graph *g); /* frees contents, not g itself */

/* Attribute access. Each getter returns QSIM_OK and writes *out, writes the
 * default when the attribute is absent (the _opt forms), or fails with a
 * message "node 'NAME' (OP): attribute 'X' ..." on a wrong type. */
const qsim__attr *qsim__node_attr(const qsim__node *n, const char *name);
qsim_status qsim__attr_int(const qsim__node *n, const char *name, int64_t def, int64_t *out);
qsim_status qsim__attr_float(const qsim__node *n, const char *name, float def, float *out);
/* String attribute; *out borrowed from the graph; def may be NULL. */
qsim_status qsim__attr_string(const qsim__node *n, const char *name, const char *def,
                              const char **out);
/* INTS attribute: *vals borrowed, *count 0 and *vals NULL when absent. */
qsim_status qsim__attr_ints(const qsim__node *n, const char *name, const int64_t **vals,
                            size_t *count);
qsim_status qsim__attr_floats(const qsim__node *n, const char *name, const float **vals,
                              size_t *count);

/* "node 'conv1' (Conv)" style label for messages, in a per-thread buffer. */
const char *qsim__node_label(const qsim__node *n);

/* ---- the model handle ---------------------------------------------------- */

#define QSIM__MODEL_MAGIC 0x4d4f444cu /* "MODL" */

struct qsim_model {
    uint32_t magic;
    int refcount;            /* atomic: sims hold references */
    qsim__graph graph;
    char *path;              /* file it came from, or NULL */
    void *proto;             /* the unpacked Onnx__ModelProto, kept for export.
                                Everything in it stays valid except the
                                initializers' raw_data, which is released after
                                decoding (has_raw_data = 0, len 0): the data is
                                in graph.values[].constant. Typed data fields,
                                external_data entries, Constant-node attributes
                                and subgraphs are untouched. */
};

/* Reference counting: sims call retain at create and release at free. */
void qsim__model_retain(qsim_model *m);
void qsim__model_release(qsim_model *m);
/* NULL / bad-magic check with a message naming the function. */
qsim_status qsim__model_check(const qsim_model *m, const char *fn);

#endif
