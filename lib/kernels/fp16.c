/* Run-time selection of the binary16 kernels (portable or F16C). */
#include "fp16.h"

#include "../core/cpu.h"

#ifdef QSIM_HAVE_AVX2
#define QSIM__PICK(fn, ...)                      \
    do {                                         \
        if (qsim__cpu_use_avx2()) {              \
            fn##__avx2(__VA_ARGS__);             \
            return;                              \
        }                                        \
        fn##__generic(__VA_ARGS__);              \
    } while (0)
#else
#define QSIM__PICK(fn, ...) fn##__generic(__VA_ARGS__)
#endif

void qsim__f32_to_f16_buf(const float *x, uint16_t *h, size_t n)
{
    QSIM__PICK(qsim__f32_to_f16_buf, x, h, n);
}

void qsim__f16_to_f32_buf(const uint16_t *h, float *y, size_t n)
{
    QSIM__PICK(qsim__f16_to_f32_buf, h, y, n);
}

void qsim__fp16_qdq_f32(const float *x, float *y, size_t n)
{
    QSIM__PICK(qsim__fp16_qdq_f32, x, y, n);
}
