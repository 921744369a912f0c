/* libFuzzer target: arbitrary bytes through qsim_model_load_memory. Any
 * result is fine as long as nothing crashes, leaks or reads out of bounds;
 * a loaded model is walked through the public introspection calls. */
#include <qsim/qsim.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qsim_model *m = NULL;
    if (qsim_model_load_memory(data, size, &m) != QSIM_OK) {
        /* every failure explains itself */
        if (qsim_last_error()[0] == '\0')
            __builtin_trap();
        return 0;
    }
    size_t sink = 0;
    for (size_t i = 0; i < qsim_model_node_count(m); i++) {
        sink += strlen(qsim_model_node_op_type(m, i));
        for (size_t k = 0; k < qsim_model_node_input_count(m, i); k++)
            sink += strlen(qsim_model_node_input(m, i, k));
        for (size_t k = 0; k < qsim_model_node_output_count(m, i); k++)
            sink += strlen(qsim_model_node_output(m, i, k));
    }
    for (size_t i = 0; i < qsim_model_input_count(m); i++) {
        int32_t et;
        int64_t rank, dims[8];
        const char *name = qsim_model_input_name(m, i);
        if (qsim_model_tensor_info(m, name, &et, &rank, dims, 8) == QSIM_OK && rank > 0)
            sink += strlen(qsim_model_tensor_dim_param(m, name, 0));
    }
    (void)sink;
    qsim_model_free(m);
    return 0;
}
