/* Convolution kernels vs torch.nn.functional.conv1d/conv2d computed in
 * float64 (tests/tools/gen_conv_cases.py): groups, depthwise, dilations,
 * strides, asymmetric pads, 1x1, 1-D and tile edges; AVX2 and generic paths;
 * bit-identical for 1, 2 and 3 threads; workspace exactly as reported. */
#include "core/alloc.h"
#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/conv.h"

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



static void run_case(int64_t cs, const int64_t *h, const float *fl, const float *x,
                     const float *w, const float *b, const float *want, const float *scale)
{
    qsim__conv_desc d = {
        .C = h[1], .M = h[4], .group = h[5], .kh = h[6], .kw = h[7], .sh = h[8], .sw = h[9],
        .dh = h[10], .dw = h[11], .pt = h[12], .pl = h[13], .pb = h[14], .pr = h[15],
    };
    int64_t N = h[0], H = h[2], W = h[3], OH, OW;
    qsim__epilogue ep = {(int)h[17], fl[0], fl[1]};
    qsim__conv_out_size(&d, H, W, &OH, &OW);
    assert_int_equal(OH, h[18]);
    assert_int_equal(OW, h[19]);
    size_t ny = (size_t)(N * d.M * OH * OW);
    float *y = malloc(ny * sizeof *y), *first = malloc(ny * sizeof *y);
    assert_non_null(y);
    assert_non_null(first);
    for (int isa = QSIM__ISA_AVX512; isa >= QSIM__ISA_GENERIC; isa--) {
        if (!qsim__cpu_force_isa(isa))
            continue;
        qsim__conv *c = NULL;
        assert_int_equal(qsim__conv_create(&d, w, b, h[17] ? &ep : NULL, &c), QSIM_OK);
        for (int t = 0; t < 3; t++) {
            size_t ws_bytes = qsim__conv_workspace(c, N, H, W, pools[t]);
            assert_true(ws_bytes < ((size_t)64 << 20));
            void *ws = ws_bytes ? qsim__malloc_aligned(ws_bytes) : NULL;
            for (size_t i = 0; i < ny; i++)
                y[i] = NAN;
            qsim__conv_run(c, pools[t], x, N, H, W, y, ws);
            qsim__free_aligned(ws);
            if (t) {
                assert_memory_equal(y, first, ny * sizeof *y);
                continue;
            }
            memcpy(first, y, ny * sizeof *y);
            for (size_t i = 0; i < ny; i++) {
                double tol = 1e-5 * scale[i] + 1e-6;
                if (!(fabs((double)y[i] - want[i]) <= tol))
                    fail_msg("conv case %lld (%s): y[%zu] = %.8g, torch %.8g", (long long)cs,
                             qsim__kernels_isa(), i, y[i], want[i]);
            }
        }
        /* no workspace given: allocated inside, same result */
        qsim__conv_run(c, pools[1], x, N, H, W, y, NULL);
        assert_memory_equal(y, first, ny * sizeof *y);
        /* ... and when that allocation fails, the scratch-free loop */
        for (size_t i = 0; i < ny; i++)
            y[i] = NAN;
        qsim__alloc_fail_after(1);
        qsim__conv_run(c, pools[1], x, N, H, W, y, NULL);
        qsim__alloc_fail_after(0);
        for (size_t i = 0; i < ny; i++)
            if (!(fabs((double)y[i] - want[i]) <= 1e-5 * scale[i] + 1e-6))
                fail_msg("conv case %lld (no scratch): y[%zu] = %.8g, torch %.8g", (long long)cs,
                         i, y[i], want[i]);
        qsim__conv_free(c);
    }
    qsim__cpu_force_generic(0);
    free(y);
    free(first);
}

static void against_torch(void **state)
{
    (void)state;
    int64_t ncases;
    FILE *f = kt_open_cases("gen_conv_cases.py", "conv_cases.bin", &ncases);
    for (int64_t cs = 0; cs < ncases; cs++) {
        int64_t h[20];
        float fl[2];
        assert_true(read_all(f, h, sizeof h) && read_all(f, fl, sizeof fl));
        size_t nx = (size_t)(h[0] * h[1] * h[2] * h[3]);
        size_t nw = (size_t)(h[4] * (h[1] / h[5]) * h[6] * h[7]);
        size_t ny = (size_t)(h[0] * h[4] * h[18] * h[19]);
        float *x = malloc(nx * 4), *w = malloc(nw * 4), *b = NULL;
        float *want = malloc(ny * 4), *scale = malloc(ny * 4);
        assert_true(read_all(f, x, nx * 4) && read_all(f, w, nw * 4));
        if (h[16]) {
            b = malloc((size_t)h[4] * 4);
            assert_true(read_all(f, b, (size_t)h[4] * 4));
        }
        assert_true(read_all(f, want, ny * 4) && read_all(f, scale, ny * 4));
        run_case(cs, h, fl, x, w, b, want, scale);
        free(x);
        free(w);
        free(b);
        free(want);
        free(scale);
    }
    fclose(f);
}

static void bad_descriptors(void **state)
{
    (void)state;
    float w[64] = {0};
    qsim__conv_desc ok = {.C = 4, .M = 4, .group = 2, .kh = 1, .kw = 1, .sh = 1, .sw = 1,
                          .dh = 1, .dw = 1};
    qsim__conv *c = (qsim__conv *)1;
    qsim__conv_desc d = ok;
    d.group = 3;
    assert_int_equal(qsim__conv_create(&d, w, NULL, NULL, &c), QSIM_ERR_INVALID_ARGUMENT);
    assert_null(c);
    d = ok;
    d.sh = 0;
    assert_int_equal(qsim__conv_create(&d, w, NULL, NULL, &c), QSIM_ERR_INVALID_ARGUMENT);
    d = ok;
    d.pl = -1;
    assert_int_equal(qsim__conv_create(&d, w, NULL, NULL, &c), QSIM_ERR_INVALID_ARGUMENT);
    d = ok;
    d.kh = INT64_MAX / 2;
    d.kw = 4;
    assert_int_equal(qsim__conv_create(&d, w, NULL, NULL, &c), QSIM_ERR_INVALID_ARGUMENT);
    assert_true(strstr(qsim_last_error(), "conv") != NULL);
    /* allocation failures at every step: a status, no leak */
    for (size_t n = 1; n < 6; n++) {
        qsim__alloc_fail_after(n);
        qsim_status s = qsim__conv_create(&ok, w, w, NULL, &c);
        qsim__alloc_fail_after(0);
        if (s == QSIM_OK) {
            qsim__conv_free(c);
            break;
        }
        assert_int_equal(s, QSIM_ERR_OUT_OF_MEMORY);
        assert_null(c);
    }
    qsim__conv_free(NULL);
    int64_t OH, OW;
    d = ok;
    d.pt = (int64_t)1 << 40;
    assert_int_equal(qsim__conv_create(&d, w, NULL, NULL, &c), QSIM_ERR_INVALID_ARGUMENT);
    /* hostile geometry: no overflow, an empty output */
    d = ok;
    d.dh = INT64_MAX / 2;
    d.kh = 5;
    qsim__conv_out_size(&d, 10, 10, &OH, &OW);
    assert_int_equal(OH, 0);
    d = ok;
    d.pb = INT64_MAX;
    qsim__conv_out_size(&d, 10, 10, &OH, &OW);
    assert_int_equal(OH, 0);
    /* output size below 1 is reported as 0 (the ops layer rejects it) */
    d = ok;
    d.kh = 5;
    qsim__conv_out_size(&d, 3, 3, &OH, &OW);
    assert_int_equal(OH, 0);
    assert_int_equal(OW, 3);
}

/* A 1x1 conv whose output (38.5 MB) takes the non-temporal store path of
 * the GEMM: values against a float64 loop, and the same bits for 1, 2 and
 * 3 threads. */
static void streamed_output(void **state)
{
    (void)state;
    const int64_t N = 8, C = 16, M = 96, H = 112, W = 112, HW = H * W;
    qsim__conv_desc d = {.C = C, .M = M, .group = 1, .kh = 1, .kw = 1, .sh = 1, .sw = 1,
                         .dh = 1, .dw = 1};
    size_t nx = (size_t)(N * C * HW), ny = (size_t)(N * M * HW);
    float *x = malloc(nx * 4), *w = malloc((size_t)(M * C) * 4), *b = malloc((size_t)M * 4);
    float *y = qsim__malloc_aligned(ny * 4), *y0 = malloc(ny * 4);
    assert_true(x && w && b && y && y0);
    uint32_t r = 12345;
    for (size_t i = 0; i < nx; i++, r = r * 1664525u + 1013904223u)
        x[i] = (float)(r >> 8) / 16777216.0f - 0.5f;
    for (int64_t i = 0; i < M * C; i++, r = r * 1664525u + 1013904223u)
        w[i] = (float)(r >> 8) / 16777216.0f - 0.5f;
    for (int64_t i = 0; i < M; i++)
        b[i] = (float)(i % 7) * 0.1f - 0.3f;
    qsim__epilogue relu = {QSIM__ACT_RELU, 0, 0};
    qsim__conv *c = NULL;
    assert_int_equal(qsim__conv_create(&d, w, b, &relu, &c), QSIM_OK);
    for (int t = 0; t < 3; t++) {
        memset(y, 0xff, ny * 4);
        qsim__conv_run(c, pools[t], x, N, H, W, y, NULL);
        if (t == 0) {
            memcpy(y0, y, ny * 4);
            double worst = 0;
            for (int64_t n = 0; n < N; n++)
                for (int64_t m = 0; m < M; m++)
                    for (int64_t p = n; p < HW; p += 13) {
                        double s = b[m];
                        for (int64_t k = 0; k < C; k++)
                            s += (double)w[m * C + k] * x[(n * C + k) * HW + p];
                        s = s > 0 ? s : 0;
                        double e = fabs(s - y[(n * M + m) * HW + p]);
                        worst = e > worst ? e : worst;
                    }
            assert_true(worst < 1e-5);
        } else {
            assert_memory_equal(y, y0, ny * 4);
        }
    }
    qsim__conv_free(c);
    free(x), free(w), free(b), free(y0);
    qsim__free_aligned(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_descriptors),
        cmocka_unit_test(against_torch),
        cmocka_unit_test(streamed_output),
    };
    return cmocka_run_group_tests_name("conv", tests, kt_setup, kt_teardown);
}
