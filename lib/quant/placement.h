/* Quantizer placement (SPEC 1.2) and the quantsim config as placement
 * applies it (SPEC 7). The config is a plain struct here; it is filled from
 * AIMET's default config (built in) or from a parsed config file. Every
 * boolean is a tri-state: -1 not given, 0, 1. */
#ifndef QSIM_QUANT_PLACEMENT_H
#define QSIM_QUANT_PLACEMENT_H

#include <qsim/qsim.h>
#include <stdint.h>

#include "quantizer.h"

#define QSIM__PCFG_MAX_OPS 64
#define QSIM__PCFG_MAX_GROUPS 32
#define QSIM__PCFG_MAX_GROUP_LEN 8
#define QSIM__PCFG_NAME 64

typedef struct qsim__pcfg_param {
    char type[QSIM__PCFG_NAME];   /* "weight", "bias" */
    int8_t is_quantized, is_symmetric;
} qsim__pcfg_param;

typedef struct qsim__pcfg_op {
    char op_type[QSIM__PCFG_NAME];
    int8_t is_input_quantized, is_output_quantized, is_symmetric, per_channel;
    int has_constraints;
    double cmin, cmax;
    size_t n_params;
    qsim__pcfg_param params[4];
} qsim__pcfg_op;

typedef struct qsim__pcfg {
    int8_t ops_output_quantized, ops_symmetric;         /* defaults.ops */
    int8_t params_quantized, params_symmetric;          /* defaults.params */
    int8_t strict_symmetric, unsigned_symmetric, per_channel;
    size_t n_params;
    qsim__pcfg_param params[8];                         /* params.<type> */
    size_t n_ops;
    qsim__pcfg_op ops[QSIM__PCFG_MAX_OPS];              /* op_type.<type> */
    size_t n_groups;
    size_t group_len[QSIM__PCFG_MAX_GROUPS];
    char groups[QSIM__PCFG_MAX_GROUPS][QSIM__PCFG_MAX_GROUP_LEN][QSIM__PCFG_NAME];
    int8_t model_input_quantized, model_output_quantized;
} qsim__pcfg;

/* AIMET's default_config.json; per_channel 1 gives
 * default_config_per_channel.json (Gemm, MatMul, LayerNorm stay per-tensor). */
void qsim__pcfg_default(qsim__pcfg *c, int per_channel);

/* What placement needs from the sim's options. */
typedef struct qsim__place_opts {
    int param_bw, activation_bw;
    int data_type;
} qsim__place_opts;

/* Build the dict for graph g and apply config c. On failure the dict holds
 * whatever was built (the caller clears it). */
qsim_status qsim__place_quantizers(const qsim__graph *g, const qsim__pcfg *c,
                                   const qsim__place_opts *o, qsim__qdict *d);

/* Per-channel axis of a param of node n (SPEC 1.2), -1 when the op has no
 * per-channel quantization. rank is the param's rank. */
int qsim__param_channel_axis(const qsim__node *n, int rank);

#endif
