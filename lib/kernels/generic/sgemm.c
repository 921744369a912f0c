/* Portable FP32 GEMM microkernel and panel packers (plain C11: this file is
 * built without ISA flags and is the reference the SIMD kernels must match). */
#include "kernels/gemm_impl.h"

#include <string.h>

void qsim__k_f32_gemm_6x16__generic(size_t kc, const float *a, const float *b, float *c,
                                    size_t ldc, size_t mr, size_t nr, const qsim__ukr_out *o)
{
    float acc[QSIM__MR * QSIM__NR];
    /* two 6x8 halves: 48 accumulators fit the registers of a plain SSE2
     * target once the compiler vectorizes the j loop (96 would spill) */
    for (size_t h = 0; h < QSIM__NR; h += 8) {
        float t[QSIM__MR][8];
        memset(t, 0, sizeof t);
        for (size_t k = 0; k < kc; k++) {
            const float *ak = a + k * QSIM__MR;
            const float *bk = b + k * QSIM__NR + h;
            for (size_t i = 0; i < QSIM__MR; i++)
                for (size_t j = 0; j < 8; j++)
                    t[i][j] += ak[i] * bk[j];
        }
        for (size_t i = 0; i < QSIM__MR; i++)
            memcpy(acc + i * QSIM__NR + h, t[i], sizeof t[i]);
    }
    if (o->acc_out)
        memcpy(o->acc_out, acc, sizeof acc);
    else
        qsim__ukr_store_tile(acc, c, ldc, mr, nr, o);
}

void qsim__pack_a_panel(int trans, const float *A, size_t lda, size_t m0, size_t mr, size_t k0,
                        size_t kc, float *dst)
{
    if (!trans) {
        /* rows of A are contiguous in k: gather MR of them */
        for (size_t k = 0; k < kc; k++) {
            float *d = dst + k * QSIM__MR;
            for (size_t i = 0; i < mr; i++)
                d[i] = A[(m0 + i) * lda + k0 + k];
            for (size_t i = mr; i < QSIM__MR; i++)
                d[i] = 0.0f;
        }
    } else {
        for (size_t k = 0; k < kc; k++) {
            const float *s = A + (k0 + k) * lda + m0;
            float *d = dst + k * QSIM__MR;
            for (size_t i = 0; i < mr; i++)
                d[i] = s[i];
            for (size_t i = mr; i < QSIM__MR; i++)
                d[i] = 0.0f;
        }
    }
}

void qsim__pack_b_panel(int trans, const float *B, size_t ldb, size_t k0, size_t kc, size_t n0,
                        size_t nr, float *dst)
{
    if (!trans) {
        for (size_t k = 0; k < kc; k++) {
            const float *s = B + (k0 + k) * ldb + n0;
            float *d = dst + k * QSIM__NR;
            if (nr == QSIM__NR) {
                memcpy(d, s, QSIM__NR * sizeof *d);
            } else {
                for (size_t j = 0; j < nr; j++)
                    d[j] = s[j];
                for (size_t j = nr; j < QSIM__NR; j++)
                    d[j] = 0.0f;
            }
        }
    } else {
        for (size_t k = 0; k < kc; k++) {
            float *d = dst + k * QSIM__NR;
            for (size_t j = 0; j < nr; j++)
                d[j] = B[(n0 + j) * ldb + k0 + k];
            for (size_t j = nr; j < QSIM__NR; j++)
                d[j] = 0.0f;
        }
    }
}

void qsim__pack_b_block(int trans, const float *B, size_t ldb, size_t k0, size_t kc, size_t n0,
                        size_t nb, float *dst)
{
    size_t full = nb / QSIM__NR, tail = nb % QSIM__NR;
    if (trans) {
        for (size_t jp = 0; jp * QSIM__NR < nb; jp++)
            qsim__pack_b_panel(1, B, ldb, k0, kc, n0 + jp * QSIM__NR,
                               jp < full ? QSIM__NR : tail, dst + jp * kc * QSIM__NR);
        return;
    }
    for (size_t k = 0; k < kc; k++) {
        const float *s = B + (k0 + k) * ldb + n0;
        float *d = dst + k * QSIM__NR;
        for (size_t jp = 0; jp < full; jp++)
            memcpy(d + jp * kc * QSIM__NR, s + jp * QSIM__NR, QSIM__NR * sizeof *d);
        if (tail) {
            float *dt = d + full * kc * QSIM__NR;
            const float *st = s + full * QSIM__NR;
            for (size_t j = 0; j < tail; j++)
                dt[j] = st[j];
            for (size_t j = tail; j < QSIM__NR; j++)
                dt[j] = 0.0f;
        }
    }
}
