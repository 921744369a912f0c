/* The ONNX side of AdaRound's linear view: which nodes are layers and the
 * qsim__ada_view of a node for a given input shape (shared by apply.c and
 * the benchmark). */
#ifndef QSIM_ADAROUND_NODE_H
#define QSIM_ADAROUND_NODE_H

#include <qsim/qsim.h>

#include "../core/tensor.h"
#include "../onnx/graph.h"
#include "layer.h"

enum {
    QSIM__ADA_OP_NONE = 0,
    QSIM__ADA_OP_CONV,
    QSIM__ADA_OP_CONVT,
    QSIM__ADA_OP_GEMM,
    QSIM__ADA_OP_MATMUL,
};

/* QSIM__ADA_OP_* of an ai.onnx node type, NONE for anything else. */
int qsim__ada_op_of(const qsim__node *n);

/* The view of node n (op as above) with weight shape ws for the layer
 * input shape xs (batch first; Gemm with transA = 1: xs is [K, M] and the
 * M columns are the samples). Conv/ConvTranspose: 1-D or 2-D, pads from
 * pads / auto_pad / (ConvTranspose) output_shape as the engine computes
 * them. QSIM_ERR_UNSUPPORTED names the node for what the view cannot model. */
qsim_status qsim__ada_node_view(const qsim__node *n, int op, const qsim__shape *ws,
                                const qsim__shape *xs, qsim__ada_view *v);

#endif
