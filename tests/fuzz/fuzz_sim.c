/* Fuzz target for the engine: bytes -> qsim_model_load_memory -> a default
 * sim -> every input set to its declared shape (symbolic dimensions 1..3,
 * capped) with values taken from the input bytes -> two runs (the second
 * reuses the plan). Any status is fine; crashes, leaks and UB are not. Every
 * failure must leave a message. Replayed over the ONNX corpus by
 * fuzz_main.c in the fast suite. */
#include <qsim/qsim.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t elem_size(int32_t t)
{
    switch (t) {
    case 1: case 6: case 12: return 4;
    case 2: case 3: case 9: return 1;
    case 4: case 5: case 10: case 16: return 2;
    case 7: case 11: case 13: return 8;
    default: return 0;
    }
}

static void check(qsim_status st)
{
    if (st != QSIM_OK && qsim_last_error()[0] == '\0')
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qsim_model *m = NULL;
    qsim_sim *s = NULL;
    qsim_status st = qsim_model_load_memory(data, size, &m);
    check(st);
    if (st != QSIM_OK)
        return 0;
    st = qsim_sim_create(m, NULL, &s);
    check(st);
    if (st == QSIM_OK) {
        for (size_t i = 0; i < qsim_model_input_count(m); i++) {
            const char *name = qsim_model_input_name(m, i);
            int32_t et;
            int64_t rank, dims[8];
            if (qsim_model_tensor_info(m, name, &et, &rank, dims, 8) != QSIM_OK || rank < 0)
                continue;
            size_t n = 1, es = elem_size(et);
            for (int64_t d = 0; d < rank; d++) {
                if (dims[d] < 0)
                    dims[d] = 1 + (int64_t)(size ? data[d % (int64_t)size] % 3 : 0);
                if (dims[d] > 256)
                    dims[d] = 256;
                n *= (size_t)dims[d];
            }
            if (!es || n > ((size_t)1 << 20))
                continue;
            uint8_t *buf = malloc(n * es + 1);
            if (!buf)
                continue;
            /* small values: valid indices and finite floats are likely */
            for (size_t b = 0; b < n * es; b++)
                buf[b] = (uint8_t)(size ? data[b % size] & 3 : 0);
            check(qsim_sim_set_input_typed(s, name, et, buf, dims, (size_t)rank));
            free(buf);
        }
        check(qsim_sim_run(s));
        check(qsim_sim_run(s));
        for (size_t i = 0; i < qsim_model_output_count(m); i++) {
            int32_t et;
            const void *out;
            const int64_t *shape;
            size_t rank;
            check(qsim_sim_get_output_typed(s, qsim_model_output_name(m, i), &et, &out, &shape,
                                            &rank));
        }
    }
    qsim_sim_free(s);
    qsim_model_free(m);
    return 0;
}
