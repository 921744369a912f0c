/* AIMET's quantsim config JSON (SPEC.md section 7): parsed, validated like
 * AIMET's schema plus the combinations AIMET's code rejects, and exposed as
 * plain structs. Applying it to a graph (quantizer placement) is the sim's
 * job, not this module's. See docs/config-schema.md. */
#ifndef QSIM_QUANT_CONFIG_JSON_H
#define QSIM_QUANT_CONFIG_JSON_H

#include <stddef.h>

#include <qsim/qsim.h>

/* An optional "True"/"False" setting: UNSET when the key is absent, so
 * the applier can tell "not said here" from "False". */
typedef enum qsim__cfg_bool {
    QSIM__CFG_UNSET = -1,
    QSIM__CFG_FALSE = 0,
    QSIM__CFG_TRUE = 1,
} qsim__cfg_bool;

typedef enum qsim__cfg_dtype {
    QSIM__CFG_DTYPE_INT = 0,
    QSIM__CFG_DTYPE_FLOAT = 1,
} qsim__cfg_dtype;

/* One supported_kernels item: bitwidth in {4, 8, 16, 32}; float: 16/32. */
typedef struct qsim__cfg_kernel {
    int activation_bitwidth;
    qsim__cfg_dtype activation_dtype;
    int param_bitwidth;
    qsim__cfg_dtype param_dtype;
} qsim__cfg_kernel;

/* params.<type> or op_type.<Op>.params.<type> ("weight", "bias", ...). */
typedef struct qsim__cfg_param_rule {
    char *param_type;
    qsim__cfg_bool is_quantized;
    qsim__cfg_bool is_symmetric;
} qsim__cfg_param_rule;

typedef struct qsim__cfg_op_rule {
    char *op_type; /* ONNX op type, e.g. "Conv" */
    qsim__cfg_bool is_input_quantized; /* only TRUE or UNSET (AIMET) */
    qsim__cfg_bool is_output_quantized;
    qsim__cfg_bool is_symmetric;       /* input and output activations */
    qsim__cfg_bool per_channel_quantization;
    int has_encoding_constraints;      /* fixed output range */
    double constraint_min, constraint_max;
    qsim__cfg_param_rule *params;
    size_t param_count;
    qsim__cfg_kernel *kernels;         /* supported_kernels; NULL/0 when absent */
    size_t kernel_count;
} qsim__cfg_op_rule;

typedef struct qsim__cfg_supergroup {
    char **op_list; /* >= 2 op types, in pattern order */
    size_t count;
} qsim__cfg_supergroup;

typedef struct qsim__config {
    /* defaults.ops */
    qsim__cfg_bool ops_is_output_quantized; /* only TRUE or UNSET */
    qsim__cfg_bool ops_is_symmetric;
    /* defaults.params */
    qsim__cfg_bool params_is_quantized;
    qsim__cfg_bool params_is_symmetric;
    /* defaults */
    qsim__cfg_bool strict_symmetric;
    qsim__cfg_bool unsigned_symmetric;
    qsim__cfg_bool per_channel_quantization;
    char *hw_version; /* NULL when absent */
    qsim__cfg_kernel *kernels;
    size_t kernel_count;
    /* params.<type> */
    qsim__cfg_param_rule *params;
    size_t param_count;
    /* op_type.<Op>, in file order */
    qsim__cfg_op_rule *ops;
    size_t op_count;
    qsim__cfg_supergroup *supergroups;
    size_t supergroup_count;
    qsim__cfg_bool model_input_is_input_quantized;   /* only TRUE or UNSET */
    qsim__cfg_bool model_output_is_output_quantized; /* only TRUE or UNSET */
} qsim__config;

/* AIMET's default_config.json and default_config_per_channel.json as we
 * describe them from SPEC 7 (our own text, not AIMET's file). */
extern const char qsim__config_default_json[];
extern const char qsim__config_default_per_channel_json[];

/* Parses and validates a config document; `source` names it in messages.
 * QSIM_ERR_PARSE: malformed JSON (line, column) or a schema violation
 * (the key path, e.g. "op_type.Conv.is_symmetric"); QSIM_ERR_UNSUPPORTED:
 * a setting AIMET refuses (is_input_quantized "False", defaults.ops
 * is_input_quantized, defaults.ops.is_output_quantized "False",
 * model_input/model_output "False"); QSIM_ERR_OUT_OF_MEMORY. */
qsim_status qsim__config_parse(const void *data, size_t size, const char *source,
                               qsim__config **out);
/* The same from a file (QSIM_ERR_IO when it cannot be read). */
qsim_status qsim__config_load(const char *path, qsim__config **out);
/* The embedded defaults (per_channel != 0: the per-channel variant). */
qsim_status qsim__config_default(int per_channel, qsim__config **out);
void qsim__config_free(qsim__config *c);

/* Lookups by exact name; NULL when absent. */
const qsim__cfg_op_rule *qsim__config_find_op(const qsim__config *c, const char *op_type);
const qsim__cfg_param_rule *qsim__config_find_param(const qsim__config *c, const char *param_type);
const qsim__cfg_param_rule *qsim__cfg_op_find_param(const qsim__cfg_op_rule *op,
                                                    const char *param_type);

#endif
