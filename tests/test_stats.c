/* Calibration statistics: running min/max (per tensor and per channel) and
 * the 512-bin PDF, against the numpy reference's histogram. */
#include "quant/stats.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "kernels/quant.h"
#include "quant_ref_util.h"

static void running_minmax(void **state)
{
    (void)state;
    qsim__minmax s;
    qsim__minmax_reset(&s);
    float a[5] = {1, -2, NAN, 3, 0.5f}, b[3] = {-7, 2, 2}, c[2] = {NAN, NAN};
    qsim__minmax_update(&s, a, 5);
    assert_true(s.min == -2 && s.max == 3 && s.batches == 1);
    qsim__minmax_update(&s, b, 3);
    assert_true(s.min == -7 && s.max == 3 && s.batches == 2);
    qsim__minmax_update(&s, c, 2); /* all NaN: only counted */
    qsim__minmax_update(&s, c, 0); /* empty: ignored */
    assert_true(s.min == -7 && s.max == 3 && s.batches == 3);

    /* per channel along axis 1 of [2, 3, 2] */
    float x[12] = {0, 1, 10, 11, 20, 21, -1, 5, 9, 30, 19, 19};
    qsim__minmax pc[3];
    for (int i = 0; i < 3; i++)
        qsim__minmax_reset(&pc[i]);
    qsim__minmax_update_channels(pc, 3, x, 2, 2);
    assert_true(pc[0].min == -1 && pc[0].max == 5);
    assert_true(pc[1].min == 9 && pc[1].max == 30);
    assert_true(pc[2].min == 19 && pc[2].max == 21);
    /* last axis (inner 1): [4, 3] */
    qsim__minmax_update_channels(pc, 3, x, 4, 1);
    assert_true(pc[0].min == -1 && pc[0].max == 30); /* 0, 11, -1, 30 */
    assert_true(pc[1].min == 1 && pc[1].max == 30);  /* 1, 20, 5, 19 */
    assert_true(pc[2].min == 9 && pc[2].max == 21);  /* 10, 21, 9, 19 */
    assert_int_equal(pc[0].batches, 2);
}

/* The PDF matches the reference bin for bin after several batches,
 * including values outside the 3x range (dropped) and an all-zero first
 * batch (skipped for initialisation). */
static void histogram_vs_reference(void **state)
{
    (void)state;
    assert_true(qt_setup());
    enum { NB = 4, BN = 3001 };
    static float x[3][NB * BN];
    qt_seed(21);
    for (size_t i = 0; i < NB * BN; i++) {
        size_t b = i / BN;
        x[0][i] = qt_normal() * (float)(1 + b) + 0.25f * (float)b; /* later batches overflow */
        x[1][i] = b == 0 ? 0.0f : (float)(qt_uniform() * 3);
        x[2][i] = b == 1 ? 5.0f : (b == 0 ? 0.0f : (float)qt_uniform() * 5); /* min == max */
    }
    FILE *cmd = fopen(qt_path("cmds"), "w");
    assert_non_null(cmd);
    for (int k = 0; k < 3; k++) {
        char name[8];
        snprintf(name, sizeof name, "x%d", k);
        assert_true(qt_write(name, x[k], sizeof x[k]));
        fprintf(cmd, "hist %d x%d h%d\n", NB, k, k);
    }
    fclose(cmd);
    assert_true(qt_ref("batch cmds"));
    for (int k = 0; k < 3; k++) {
        static double ref[2 * QSIM__PDF_SIZE + 1];
        char name[8];
        snprintf(name, sizeof name, "h%d", k);
        assert_true(qt_read(name, ref, sizeof ref));
        qsim__hist h;
        qsim__hist_reset(&h);
        for (int b = 0; b < NB; b++)
            qsim__hist_update(&h, x[k] + b * BN, BN);
        assert_true(h.initialized);
        assert_int_equal(h.batches, NB);
        assert_true((double)h.iterations == ref[2 * QSIM__PDF_SIZE]);
        double sum = 0;
        for (int i = 0; i < QSIM__PDF_SIZE; i++) {
            assert_true(h.xleft[i] == ref[i]);
            assert_true(h.pdf[i] == ref[QSIM__PDF_SIZE + i]);
            sum += h.pdf[i];
        }
        if (k == 1)
            assert_true(fabs(sum - 1.0) < 1e-9);
        else
            assert_true(sum < 1.0 - 1e-3); /* out-of-range values were dropped */
    }
    qt_teardown();
}

static void histogram_details(void **state)
{
    (void)state;
    qsim__hist h;
    qsim__hist_reset(&h);
    float z[3] = {0, 0, 0};
    qsim__hist_update(&h, z, 3);
    assert_false(h.initialized);
    assert_int_equal(h.batches, 1);
    float c[2] = {1.0f, 1.0f}; /* min == max: range 0.01, widened 3x */
    qsim__hist_update(&h, c, 2);
    assert_true(h.initialized);
    float lo = 1.0f, hi = 1.0f + 0.01f, m = (hi + lo) / 2;
    assert_true(h.xleft[0] == (double)(m - 3 * (m - lo)));
    assert_true(fabs(h.xleft[511] + (h.xleft[1] - h.xleft[0]) - (double)(m + 3 * (hi - m))) < 1e-6);
    assert_int_equal(h.iterations, 1);
    /* Non-finite first batches do not initialise the bins. */
    qsim__hist g;
    qsim__hist_reset(&g);
    float bad[2] = {NAN, INFINITY};
    qsim__hist_update(&g, bad, 2);
    assert_false(g.initialized);
    /* Per-channel histograms equal a histogram of the gathered channel. */
    float x[12] = {0, 1, 10, 11, 20, 21, -1, 5, 9, 30, 19, 19};
    qsim__hist pc[3], ref;
    for (int i = 0; i < 3; i++)
        qsim__hist_reset(&pc[i]);
    assert_int_equal(qsim__hist_update_channels(pc, 3, x, 2, 2), QSIM_OK);
    float ch1[4] = {10, 11, 9, 30};
    qsim__hist_reset(&ref);
    qsim__hist_update(&ref, ch1, 4);
    assert_memory_equal(&pc[1], &ref, sizeof ref);
    /* overflowing sizes and allocation failure are errors, not crashes */
    assert_int_equal(qsim__hist_update_channels(pc, 3, x, SIZE_MAX, 2), QSIM_ERR_INVALID_ARGUMENT);
    qsim__alloc_fail_after(1);
    assert_int_equal(qsim__hist_update_channels(pc, 3, x, 2, 2), QSIM_ERR_OUT_OF_MEMORY);
    qsim__alloc_fail_after(0);
}

/* Portable and AVX2 bin counting agree, edges, NaN and inf included. */
static void count_paths(void **state)
{
    (void)state;
    enum { M = 40003 };
    static float x[M];
    qt_seed(13);
    float bin = 0.0123f, off = -3.7f / 0.0123f;
    for (size_t i = 0; i < M; i++) {
        if (i % 5 == 0) /* exact bin centres +-0.5: ties */
            x[i] = ((float)(int)(qt_uniform() * 520) - 4.5f + off) * bin;
        else
            x[i] = (float)(qt_uniform() * 8 - 4);
    }
    x[3] = NAN;
    x[6] = INFINITY;
    x[8] = -INFINITY;
    x[11] = 1e38f;
    uint64_t a[QSIM__PDF_SIZE] = {0}, b[QSIM__PDF_SIZE] = {0};
    qsim__hist_count_f32__generic(x, M, bin, off, a);
    uint64_t total = 0;
    for (int i = 0; i < QSIM__PDF_SIZE; i++)
        total += a[i];
    assert_true(total > M / 2 && total < M);
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2()) {
        qsim__hist_count_f32__avx2(x, M, bin, off, b);
        assert_memory_equal(a, b, sizeof a);
    }
#else
    (void)b;
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(running_minmax),
        cmocka_unit_test(histogram_vs_reference),
        cmocka_unit_test(histogram_details),
        cmocka_unit_test(count_paths),
    };
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
