/* FP32 GEMM kernels vs a double-precision triple loop and vs numpy cases
 * (tests/tools/gen_gemm_cases.py); AVX2 and generic paths; results must be
 * bit-identical for 1, 2 and 3 threads. */
#include "core/alloc.h"
#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/gemm.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kernel_test_util.h"


static uint64_t rng_state = 88172645463325252ull;
static float frand(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((double)(rng_state >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *rand_buf(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

static double act_ref(double v, const qsim__epilogue *ep)
{
    if (!ep)
        return v;
    switch (ep->act) {
    case QSIM__ACT_RELU:
        return v > 0 ? v : 0;
    case QSIM__ACT_CLIP:
        return v < ep->a ? ep->a : v > ep->b ? ep->b : v;
    case QSIM__ACT_LEAKY_RELU:
        return v < 0 ? ep->a * v : v;
    default:
        return v;
    }
}

/* Reference and error scale (sum of |terms|) for one element. */
static double ref_elem(int ta, int tb, size_t K, float alpha, const float *A, size_t lda,
                       const float *B, size_t ldb, float beta, float c0, const float *bias,
                       size_t i, size_t n, int bias_row, const qsim__epilogue *ep, double *scale)
{
    double s = 0, sa = 0;
    for (size_t k = 0; k < K; k++) {
        double a = ta ? A[k * lda + i] : A[i * lda + k];
        double b = tb ? B[n * ldb + k] : B[k * ldb + n];
        s += a * b;
        sa += fabs(a * b);
    }
    double v = alpha * s + (beta != 0.0f ? beta * (double)c0 : 0.0);
    if (bias)
        v += bias_row ? bias[i] : bias[n];
    *scale = fabs(alpha) * sa + (beta != 0.0f ? fabs(beta * (double)c0) : 0.0) + 1.0;
    return act_ref(v, ep);
}

typedef struct shape {
    size_t M, N, K;
} shape;

static void check_case(size_t M, size_t N, size_t K, int ta, int tb, float alpha, float beta,
                       int bias_mode, const qsim__epilogue *ep)
{
    size_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 1, ldc = N + 2;
    float *A = rand_buf((ta ? K : M) * lda);
    float *B = rand_buf((tb ? N : K) * ldb);
    float *C0 = rand_buf(M * ldc);
    float *bias = bias_mode ? rand_buf(bias_mode == 2 ? M : N) : NULL;
    if (beta == 0.0f)
        for (size_t i = 0; i < M * ldc; i++)
            C0[i] = NAN;   /* beta == 0 must not read C */
    float *C = malloc((M * ldc + 1) * sizeof *C);
    float *first = malloc((M * ldc + 1) * sizeof *C);
    float *tall = malloc((M * ldc + 1) * sizeof *C);   /* the AVX-512 result, if any */
    assert_non_null(C);
    assert_non_null(first);
    assert_non_null(tall);
    int ran_tall = 0;
    for (int isa = QSIM__ISA_AVX512; isa >= QSIM__ISA_GENERIC; isa--) {
        if (!qsim__cpu_force_isa(isa))
            continue;
        for (int t = 0; t < 3; t++) {
            memcpy(C, C0, M * ldc * sizeof *C);
            qsim__sgemm(pools[t], ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias,
                        bias_mode == 2, ep);
            if (t == 0) {
                memcpy(first, C, M * ldc * sizeof *C);
                for (size_t i = 0; i < M; i++) {
                    for (size_t n = 0; n < N; n++) {
                        double sc;
                        double r = ref_elem(ta, tb, K, alpha, A, lda, B, ldb, beta,
                                            C0[i * ldc + n], bias, i, n, bias_mode == 2, ep, &sc);
                        double got = C[i * ldc + n];
                        if (!(fabs(got - r) <= 1e-5 * sc)) {
                            fail_msg("gemm %zux%zux%zu ta=%d tb=%d %s: C[%zu][%zu] = %.8g, "
                                     "want %.8g",
                                     M, N, K, ta, tb, qsim__kernels_isa(), i, n, got, r);
                        }
                    }
                    /* the padding between rows is untouched */
                    for (size_t n = N; n < ldc; n++)
                        assert_memory_equal(&C[i * ldc + n], &C0[i * ldc + n], sizeof(float));
                }
                /* the AVX-512 tiles do the AVX2 tiles' arithmetic: same bits */
                if (isa == QSIM__ISA_AVX512) {
                    memcpy(tall, C, M * ldc * sizeof *C);
                    ran_tall = 1;
                } else if (isa == QSIM__ISA_AVX2 && ran_tall) {
                    assert_memory_equal(C, tall, M * ldc * sizeof *C);
                }
            } else {
                assert_memory_equal(C, first, M * ldc * sizeof *C);
            }
        }
    }
    qsim__cpu_force_generic(0);
    free(A);
    free(B);
    free(C0);
    free(C);
    free(first);
    free(tall);
    free(bias);
}

static const shape shapes[] = {
    {1, 1, 1},     {1, 1, 0},     {5, 15, 3},    {6, 16, 7},    {7, 17, 9},
    {11, 33, 255}, {12, 32, 256}, {13, 31, 257}, {1, 300, 40},  {300, 1, 40},
    {145, 257, 20}, {150, 520, 530}, {40, 70, 1000},
    {300, 2100, 40},   /* tasks of all rows: several mc cache blocks per task */
    /* AVX-512 tiles of 4 panels whose last has 2 or 4 rows, 3 with 4 */
    {20, 47, 33}, {22, 40, 610}, {64, 50, 70},
};

static void against_double_loop(void **state)
{
    (void)state;
    qsim__epilogue relu = {QSIM__ACT_RELU, 0, 0}, clip = {QSIM__ACT_CLIP, -0.3f, 0.6f},
                   leaky = {QSIM__ACT_LEAKY_RELU, 0.01f, 0};
    const qsim__epilogue *eps[] = {NULL, &relu, &clip, &leaky};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        for (int v = 0; v < 4; v++) {
            int ta = v & 1, tb = (v >> 1) & 1;
            size_t M = shapes[s].M, N = shapes[s].N, K = shapes[s].K;
            float alpha = v == 0 ? 1.0f : 1.5f, beta = (s + v) % 3 == 0 ? 0.0f : 0.5f;
            check_case(M, N, K, ta, tb, alpha, beta, (int)((s + v) % 3), eps[(s + v) % 4]);
        }
    }
}

static void packed_b(void **state)
{
    (void)state;
    const shape sh[] = {{1, 1, 1}, {7, 17, 9}, {13, 31, 257}, {150, 300, 600}, {3, 1000, 64}};
    for (size_t s = 0; s < sizeof sh / sizeof *sh; s++) {
        for (int tb = 0; tb < 2; tb++) {
            size_t M = sh[s].M, N = sh[s].N, K = sh[s].K;
            size_t lda = K, ldb = tb ? K : N, ldc = N;
            float *A = rand_buf(M * K), *B = rand_buf(K * N), *bias = rand_buf(N);
            float *C = malloc(M * N * sizeof *C), *first = malloc(M * N * sizeof *C);
            qsim__packed_b *pb = NULL;
            assert_int_equal(qsim__pack_b(tb, K, N, B, ldb, &pb), QSIM_OK);
            qsim__epilogue relu = {QSIM__ACT_RELU, 0, 0};
            for (int isa = QSIM__ISA_AVX512; isa >= QSIM__ISA_GENERIC; isa--) {
                if (!qsim__cpu_force_isa(isa))
                    continue;
                for (int t = 0; t < 3; t++) {
                    for (size_t i = 0; i < M * N; i++)
                        C[i] = NAN;
                    qsim__sgemm_packed(pools[t], 0, M, A, lda, pb, C, ldc, bias, &relu);
                    if (t) {
                        assert_memory_equal(C, first, M * N * sizeof *C);
                        continue;
                    }
                    memcpy(first, C, M * N * sizeof *C);
                    for (size_t i = 0; i < M; i++)
                        for (size_t n = 0; n < N; n++) {
                            double sc, r = ref_elem(0, tb, K, 1.0f, A, lda, B, ldb, 0.0f, 0.0f,
                                                    bias, i, n, 0, &relu, &sc);
                            if (!(fabs(C[i * ldc + n] - r) <= 1e-5 * sc))
                                fail_msg("packed %zux%zux%zu: C[%zu][%zu] = %.8g, want %.8g", M,
                                         N, K, i, n, C[i * ldc + n], r);
                        }
                }
            }
            qsim__cpu_force_generic(0);
            qsim__packed_b_free(pb);
            free(A);
            free(B);
            free(bias);
            free(C);
            free(first);
        }
    }
    qsim__packed_b_free(NULL);
    /* out of memory while packing: a status, no leak */
    float w[4] = {1, 2, 3, 4};
    qsim__packed_b *pb = (qsim__packed_b *)1;
    qsim__alloc_fail_after(1);
    assert_int_equal(qsim__pack_b(0, 2, 2, w, 2, &pb), QSIM_ERR_OUT_OF_MEMORY);
    assert_null(pb);
    qsim__alloc_fail_after(2);
    assert_int_equal(qsim__pack_b(0, 2, 2, w, 2, &pb), QSIM_ERR_OUT_OF_MEMORY);
    qsim__alloc_fail_after(0);
    /* scratch allocation failure in sgemm falls back, still correct */
    float a[4] = {1, 2, 3, 4}, c[4];
    qsim__alloc_fail_after(1);
    qsim__sgemm(pools[1], 0, 0, 2, 2, 2, 1.0f, a, 2, w, 2, 0.0f, c, 2, NULL, 0, NULL);
    qsim__alloc_fail_after(0);
    assert_true(c[0] == 7 && c[1] == 10 && c[2] == 15 && c[3] == 22);
}

static void batched(void **state)
{
    (void)state;
    /* (batch, M, N, K, share B) */
    const size_t cases[][5] = {{3, 5, 7, 9, 0}, {4, 13, 33, 20, 1}, {2, 70, 40, 300, 0},
                               {7, 1, 17, 5, 0}};
    qsim__epilogue leaky = {QSIM__ACT_LEAKY_RELU, 0.1f, 0};
    for (size_t cs = 0; cs < sizeof cases / sizeof *cases; cs++) {
        size_t bt = cases[cs][0], M = cases[cs][1], N = cases[cs][2], K = cases[cs][3];
        for (int v = 0; v < 4; v++) {
            int ta = v & 1, tb = v >> 1;
            size_t lda = ta ? M : K, ldb = tb ? K : N, ldc = N;
            size_t sa = M * K + 3, sb = cases[cs][4] ? 0 : K * N + 1, sc = M * N + 2;
            float *A = rand_buf(bt * sa), *B = rand_buf((bt - 1) * sb + K * N);
            float *C0 = rand_buf(bt * sc), *bias = rand_buf(M);
            float *C = malloc(bt * sc * sizeof *C), *first = malloc(bt * sc * sizeof *C);
            for (int isa = QSIM__ISA_AVX512; isa >= QSIM__ISA_GENERIC; isa--) {
                if (!qsim__cpu_force_isa(isa))
                    continue;
                for (int t = 0; t < 3; t++) {
                    memcpy(C, C0, bt * sc * sizeof *C);
                    qsim__sgemm_batch(pools[t], bt, ta, tb, M, N, K, 0.5f, A, lda, sa, B, ldb,
                                      sb, 0.25f, C, ldc, sc, bias, 1, &leaky);
                    if (t) {
                        assert_memory_equal(C, first, bt * sc * sizeof *C);
                        continue;
                    }
                    memcpy(first, C, bt * sc * sizeof *C);
                    for (size_t b = 0; b < bt; b++)
                        for (size_t i = 0; i < M; i++)
                            for (size_t n = 0; n < N; n++) {
                                double scl, r = ref_elem(ta, tb, K, 0.5f, A + b * sa, lda,
                                                         B + b * sb, ldb, 0.25f,
                                                         C0[b * sc + i * ldc + n], bias, i, n, 1,
                                                         &leaky, &scl);
                                double got = C[b * sc + i * ldc + n];
                                if (!(fabs(got - r) <= 1e-5 * scl))
                                    fail_msg("batch %zu item %zu: C[%zu][%zu] = %.8g, want %.8g",
                                             cs, b, i, n, got, r);
                            }
                    /* the gap between items is untouched */
                    for (size_t b = 0; b < bt; b++)
                        assert_memory_equal(&C[b * sc + M * N], &C0[b * sc + M * N],
                                            2 * sizeof *C);
                }
            }
            qsim__cpu_force_generic(0);
            free(A);
            free(B);
            free(C0);
            free(C);
            free(first);
            free(bias);
        }
    }
}


static void against_numpy(void **state)
{
    (void)state;
    int64_t ncases;
    FILE *f = kt_open_cases("gen_gemm_cases.py", "gemm_cases.bin", &ncases);
    for (int64_t cs = 0; cs < ncases; cs++) {
        int64_t h[7];
        float fl[4];
        assert_true(read_all(f, h, sizeof h));
        assert_true(read_all(f, fl, sizeof fl));
        size_t M = (size_t)h[0], N = (size_t)h[1], K = (size_t)h[2];
        int ta = (int)h[3], tb = (int)h[4], bm = (int)h[5];
        qsim__epilogue ep = {(int)h[6], fl[2], fl[3]};
        float *A = malloc(M * K * 4), *B = malloc(K * N * 4), *C = malloc(M * N * 4);
        float *want = malloc(M * N * 4), *bias = NULL;
        assert_true(read_all(f, A, M * K * 4) && read_all(f, B, K * N * 4) &&
                    read_all(f, C, M * N * 4));
        if (bm) {
            bias = malloc((bm == 2 ? M : N) * 4);
            assert_true(read_all(f, bias, (bm == 2 ? M : N) * 4));
        }
        assert_true(read_all(f, want, M * N * 4));
        float *C1 = malloc(M * N * 4);
        for (int isa = QSIM__ISA_AVX512; isa >= QSIM__ISA_GENERIC; isa--) {
            if (!qsim__cpu_force_isa(isa))
                continue;
            memcpy(C1, C, M * N * 4);
            qsim__sgemm(pools[1], ta, tb, M, N, K, fl[0], A, ta ? M : K, B, tb ? K : N, fl[1],
                        C1, N, bias, bm == 2, &ep);
            for (size_t i = 0; i < M * N; i++) {
                double tol = 1e-5 * sqrt((double)K) * 4 + 1e-5;
                if (!(fabs(C1[i] - want[i]) <= tol * (1 + fabs(want[i]))))
                    fail_msg("numpy case %lld (%s): C[%zu] = %.8g, numpy %.8g", (long long)cs,
                             qsim__kernels_isa(), i, C1[i], want[i]);
            }
        }
        qsim__cpu_force_generic(0);
        free(A);
        free(B);
        free(C);
        free(C1);
        free(want);
        free(bias);
    }
    fclose(f);
}

/* qsim__malloc_aligned: sizes near SIZE_MAX fail instead of wrapping when
 * rounded up (to 64 bytes, or 2 MiB for huge-page-sized buffers), and big
 * buffers are whole 2 MiB pages (what madvise needs). */
static void aligned_limits(void **state)
{
    (void)state;
    assert_null(qsim__malloc_aligned(SIZE_MAX));
    assert_null(qsim__malloc_aligned(SIZE_MAX - 70));
    assert_null(qsim__malloc_aligned(SIZE_MAX - ((size_t)1 << 20)));
    size_t n = ((size_t)5 << 20) + 3;
    unsigned char *p = qsim__malloc_aligned(n);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % ((size_t)2 << 20), 0);
    memset(p, 1, n);
    assert_int_equal(p[n - 1], 1);
    qsim__free_aligned(p);
    p = qsim__malloc_aligned(100);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    qsim__free_aligned(p);
}

static void isa_name(void **state)
{
    (void)state;
    qsim__cpu_force_generic(1);
    assert_string_equal(qsim__kernels_isa(), "generic");
    qsim__cpu_force_generic(0);
    if (qsim__cpu_force_isa(QSIM__ISA_AVX2))
        assert_string_equal(qsim__kernels_isa(), "avx2");
    if (qsim__cpu_force_isa(QSIM__ISA_AVX512))
        assert_string_equal(qsim__kernels_isa(), "avx512");
    qsim__cpu_force_generic(0);
#ifndef QSIM_HAVE_AVX512
    assert_false(qsim__cpu_use_avx512());
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(isa_name),
        cmocka_unit_test(aligned_limits),
        cmocka_unit_test(against_double_loop),
        cmocka_unit_test(packed_b),
        cmocka_unit_test(batched),
        cmocka_unit_test(against_numpy),
    };
    return cmocka_run_group_tests_name("gemm", tests, kt_setup, kt_teardown);
}
