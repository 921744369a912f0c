/* Writing a model with QuantizeLinear/DequantizeLinear (and Cast) pairs
 * inserted on chosen tensors (qsim_export_qdq). The quantizer layer
 * decides what each pair is; this module only edits the graph. */
#ifndef QSIM_ONNX_EXPORT_QDQ_H
#define QSIM_ONNX_EXPORT_QDQ_H

#include <qsim/qsim.h>
#include <stdint.h>

#include "graph.h"

typedef enum qsim__qdq_kind {
    QSIM__QDQ_INT = 0,   /* QuantizeLinear + DequantizeLinear */
    QSIM__QDQ_FP16 = 1,  /* Cast(to float16) + Cast(to float) */
} qsim__qdq_kind;

/* One pair on graph value `value`. INT: zp_type is the ONNX element type
 * of the zero point (2 uint8, 3 int8, 4 uint16, 5 int16, 21 uint4,
 * 22 int4); axis -1 per-tensor (channels 1) else the per-channel axis;
 * scale/zero_point have `channels` entries (borrowed). */
typedef struct qsim__qdq_pair {
    int32_t value;
    int kind;
    int zp_type;
    int axis;
    size_t channels;
    const float *scale;
    const int32_t *zero_point;
    /* QSIM_OPT_QDQ_LOW_BIT "clip": when clip_lo is set, the pair is preceded
     * by Min(x, clip_hi) -> Max(., clip_lo) (channels entries each: float
     * scalars per-tensor, shaped [1..C..1] along axis per-channel), the
     * quantizer's float range, so an int8/uint8 pair acts as a narrower
     * grid. The model then gets metadata_props "qsim.qdq_low_bit" = "clip". */
    const float *clip_lo, *clip_hi;
} qsim__qdq_pair;

/* The metadata_props entry of "clip" models (read back by the importer). */
#define QSIM__QDQ_CLIP_KEY "qsim.qdq_low_bit"
#define QSIM__QDQ_CLIP_VALUE "clip"

/* Write m with the pairs inserted: for a model input or a constant the
 * consumers are rewired to the dequantized copy "<name>_dq"; for a node
 * output the pair follows its producer and the consumers are rewired, and
 * a graph output keeps its name (the producer then writes "<name>_fp").
 * replace: as qsim__onnx_export (the sim's float weights). The ai.onnx
 * opset import becomes max(model's, opset) and the IR version at least
 * what that opset needs. Atomic write. Errors: QSIM_ERR_UNSUPPORTED (a
 * generated name already exists, external data), QSIM_ERR_IO,
 * QSIM_ERR_OUT_OF_MEMORY. */
qsim_status qsim__onnx_export_qdq(const qsim_model *m, const qsim__tensor *const *replace,
                                  const qsim__qdq_pair *pairs, size_t n_pairs, int64_t opset,
                                  const char *path);

#endif
