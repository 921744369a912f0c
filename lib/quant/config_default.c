/* The built-in configs: AIMET's default_config.json and its per-channel
 * variant, written from SPEC 7's description of them. */
#include "quant/config_json.h"

#define QSIM__DEFAULT_OPS                                                       \
    "        \"Cast\": {\"is_output_quantized\": \"False\"},\n"                 \
    "        \"Dropout\": {\"is_output_quantized\": \"False\"},\n"              \
    "        \"Expand\": {\"is_output_quantized\": \"False\"},\n"               \
    "        \"Squeeze\": {\"is_output_quantized\": \"False\"},\n"              \
    "        \"Pad\": {\"is_output_quantized\": \"False\"},\n"                  \
    "        \"Mean\": {\"is_output_quantized\": \"False\"},\n"                 \
    "        \"Gather\": {\"is_output_quantized\": \"False\"}"

#define QSIM__DEFAULT_TAIL                                                      \
    "    \"supergroups\": [\n"                                                  \
    "        {\"op_list\": [\"Conv\", \"Relu\"]},\n"                            \
    "        {\"op_list\": [\"ConvTranspose\", \"Relu\"]},\n"                   \
    "        {\"op_list\": [\"Conv\", \"Clip\"]},\n"                            \
    "        {\"op_list\": [\"Add\", \"Relu\"]},\n"                             \
    "        {\"op_list\": [\"Gemm\", \"Relu\"]}\n"                             \
    "    ],\n"                                                                  \
    "    \"model_input\": {\"is_input_quantized\": \"True\"},\n"                \
    "    \"model_output\": {}\n"                                                \
    "}\n"

#define QSIM__DEFAULT_HEAD(pcq)                                                 \
    "{\n"                                                                       \
    "    \"defaults\": {\n"                                                     \
    "        \"ops\": {\"is_output_quantized\": \"True\"},\n"                   \
    "        \"params\": {\"is_quantized\": \"True\", \"is_symmetric\": \"True\"},\n" \
    "        \"strict_symmetric\": \"False\",\n"                                \
    "        \"unsigned_symmetric\": \"False\",\n"                              \
    "        \"per_channel_quantization\": \"" pcq "\"\n"                       \
    "    },\n"                                                                  \
    "    \"params\": {\"bias\": {\"is_quantized\": \"False\"}},\n"

const char qsim__config_default_json[] =
    QSIM__DEFAULT_HEAD("False")
    "    \"op_type\": {\n" QSIM__DEFAULT_OPS "\n    },\n"
    QSIM__DEFAULT_TAIL;

/* Same, with per-channel weights except for Gemm, MatMul and LayerNorm. */
const char qsim__config_default_per_channel_json[] =
    QSIM__DEFAULT_HEAD("True")
    "    \"op_type\": {\n" QSIM__DEFAULT_OPS ",\n"
    "        \"Gemm\": {\"per_channel_quantization\": \"False\"},\n"
    "        \"MatMul\": {\"per_channel_quantization\": \"False\"},\n"
    "        \"LayerNormalization\": {\"per_channel_quantization\": \"False\"}\n"
    "    },\n"
    QSIM__DEFAULT_TAIL;
