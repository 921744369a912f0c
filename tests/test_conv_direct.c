/* The direct conv path (lib/kernels/conv_direct.c) and the im2col/GEMM path,
 * each forced, AVX2 and generic, vs a numpy float64 reference
 * (tests/tools/gen_conv_direct_cases.py): pads, strides 1-3, dilations,
 * groups, odd channel counts and widths, several k- and M-blocks, batch 1
 * and 3, every activation, plain and accumulate (residual) mode; the same
 * bits for 1, 2 and 3 threads; no workspace and failed allocations. */
#include "core/alloc.h"
#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/conv.h"
#include "kernels/conv_impl.h"

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


enum { NH = 21 };


typedef struct ccase {
    int64_t h[NH];
    float fl[2];
    float *x, *w, *b, *r, *want, *scale;
} ccase;

static void run(const qsim__conv *c, qsim__pool *pool, const ccase *k, float *y, void *ws)
{
    const int64_t *h = k->h;
    size_t ny = (size_t)(h[0] * h[4] * h[19] * h[20]);
    if (h[18]) {
        memcpy(y, k->r, ny * sizeof *y);
        qsim__conv_run_accumulate(c, pool, k->x, h[0], h[2], h[3], y, ws);
    } else {
        for (size_t i = 0; i < ny; i++)
            y[i] = NAN;
        qsim__conv_run(c, pool, k->x, h[0], h[2], h[3], y, ws);
    }
}

static void check(const ccase *k, const float *y, const char *what)
{
    size_t ny = (size_t)(k->h[0] * k->h[4] * k->h[19] * k->h[20]);
    for (size_t i = 0; i < ny; i++) {
        double tol = 1e-5 * k->scale[i] + 1e-6;
        if (!(fabs((double)y[i] - k->want[i]) <= tol))
            fail_msg("%s: y[%zu] = %.8g, numpy %.8g", what, i, y[i], k->want[i]);
    }
}

static void run_case(int64_t cs, const ccase *k)
{
    const int64_t *h = k->h;
    qsim__conv_desc d = {
        .C = h[1], .M = h[4], .group = h[5], .kh = h[6], .kw = h[7], .sh = h[8], .sw = h[9],
        .dh = h[10], .dw = h[11], .pt = h[12], .pl = h[13], .pb = h[14], .pr = h[15],
    };
    int64_t N = h[0], H = h[2], W = h[3], OH, OW;
    qsim__epilogue ep = {(int)h[17], k->fl[0], k->fl[1]};
    qsim__conv_out_size(&d, H, W, &OH, &OW);
    assert_int_equal(OH, h[19]);
    assert_int_equal(OW, h[20]);
    size_t ny = (size_t)(N * d.M * OH * OW);
    float *y = malloc(ny * sizeof *y), *first = malloc(ny * sizeof *y);
    float *tall = malloc(ny * sizeof *y);   /* the AVX-512 result, if any */
    assert_non_null(y);
    assert_non_null(first);
    assert_non_null(tall);
    int ran_tall = 0;
    char what[128];
    for (int path = 1; path <= 2; path++) {
        qsim__conv_force_path(path);
        for (int isa = QSIM__ISA_AVX512; isa >= QSIM__ISA_GENERIC; isa--) {
            if (!qsim__cpu_force_isa(isa))
                continue;
            snprintf(what, sizeof what, "case %lld, %s path, %s", (long long)cs,
                     path == 1 ? "im2col" : "direct", qsim__kernels_isa());
            qsim__conv *c = NULL;
            if (qsim__conv_create(&d, k->w, k->b, h[17] ? &ep : NULL, &c) != QSIM_OK)
                fail_msg("%s: %s", what, qsim_last_error());
            for (int t = 0; t < 3; t++) {
                size_t ws_bytes = qsim__conv_workspace(c, N, H, W, pools[t]);
                assert_true(ws_bytes < ((size_t)64 << 20));
                void *ws = ws_bytes ? qsim__malloc_aligned(ws_bytes) : NULL;
                run(c, pools[t], k, y, ws);
                qsim__free_aligned(ws);
                if (t) {
                    assert_memory_equal(y, first, ny * sizeof *y);
                    continue;
                }
                memcpy(first, y, ny * sizeof *y);
                check(k, y, what);
                /* the AVX-512 tiles do the AVX2 tiles' arithmetic: same bits */
                if (isa == QSIM__ISA_AVX512) {
                    memcpy(tall, y, ny * sizeof *y);
                    ran_tall = 1;
                } else if (isa == QSIM__ISA_AVX2 && ran_tall) {
                    assert_memory_equal(y, tall, ny * sizeof *y);
                }
            }
            /* no workspace: allocated inside, the same bits */
            run(c, pools[1], k, y, NULL);
            assert_memory_equal(y, first, ny * sizeof *y);
            /* ... and when that fails, the scratch-free loop */
            qsim__alloc_fail_after(1);
            run(c, pools[1], k, y, NULL);
            qsim__alloc_fail_after(0);
            check(k, y, "scratch-free");
            qsim__conv_free(c);
        }
    }
    qsim__conv_force_path(0);
    qsim__cpu_force_generic(0);
    free(y);
    free(first);
    free(tall);
}

static void against_numpy(void **state)
{
    (void)state;
    int64_t ncases;
    FILE *f = kt_open_cases("gen_conv_direct_cases.py", "conv_direct_cases.bin", &ncases);
    for (int64_t cs = 0; cs < ncases; cs++) {
        ccase k = {0};
        assert_true(read_all(f, k.h, sizeof k.h) && read_all(f, k.fl, sizeof k.fl));
        const int64_t *h = k.h;
        size_t nx = (size_t)(h[0] * h[1] * h[2] * h[3]);
        size_t nw = (size_t)(h[4] * (h[1] / h[5]) * h[6] * h[7]);
        size_t ny = (size_t)(h[0] * h[4] * h[19] * h[20]);
        k.x = malloc(nx * 4);
        k.w = malloc(nw * 4);
        k.want = malloc(ny * 4);
        k.scale = malloc(ny * 4);
        assert_true(k.x && k.w && k.want && k.scale);
        assert_true(read_all(f, k.x, nx * 4) && read_all(f, k.w, nw * 4));
        if (h[16]) {
            k.b = malloc((size_t)h[4] * 4);
            assert_true(k.b && read_all(f, k.b, (size_t)h[4] * 4));
        }
        if (h[18]) {
            k.r = malloc(ny * 4);
            assert_true(k.r && read_all(f, k.r, ny * 4));
        }
        assert_true(read_all(f, k.want, ny * 4) && read_all(f, k.scale, ny * 4));
        run_case(cs, &k);
        free(k.x);
        free(k.w);
        free(k.b);
        free(k.r);
        free(k.want);
        free(k.scale);
    }
    fclose(f);
}

/* The shape rule: resnet18's wide stride-1 maps and stem take the direct
 * path, its stride-2 3x3 and 1x1 convs the im2col one; depthwise never. */
static void path_rule(void **state)
{
    (void)state;
    qsim__conv_desc l1 = {.C = 64, .M = 64, .group = 1, .kh = 3, .kw = 3, .sh = 1, .sw = 1,
                          .dh = 1, .dw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1};
    assert_true(qsim__dconv_preferred(&l1, 8, 56, 56, 56, 56));
    qsim__conv_desc stem = l1;
    stem.C = 3, stem.kh = stem.kw = 7, stem.sh = stem.sw = 2;
    stem.pt = stem.pl = stem.pb = stem.pr = 3;
    assert_true(qsim__dconv_preferred(&stem, 1, 224, 224, 112, 112));
    qsim__conv_desc s2 = l1;
    s2.sh = s2.sw = 2;
    assert_false(qsim__dconv_preferred(&s2, 8, 56, 56, 28, 28));
    qsim__conv_desc pw = {.C = 96, .M = 24, .group = 1, .kh = 1, .kw = 1, .sh = 1, .sw = 1,
                          .dh = 1, .dw = 1};
    assert_true(qsim__dconv_preferred(&pw, 1, 56, 56, 56, 56));
}

/* Outputs of 32 MiB and more written in one k-block take non-temporal
 * stores (no numpy case is that big): a 1x1 conv with a 35 MiB output on
 * both paths and every ISA, checked on sampled outputs against a double
 * loop, and the AVX-512 and AVX2 results for the same bits. */
static void big_outputs(void **state)
{
    (void)state;
    const int64_t N = 40, C = 64, H = 56, W = 56, M = 70;   /* M: 11 panels + 4 rows */
    size_t nx = (size_t)(N * C * H * W), ny = (size_t)(N * M * H * W);
    float *x = malloc(nx * sizeof *x), *w = malloc((size_t)(M * C * 9) * sizeof *w);
    float *b = malloc((size_t)M * sizeof *b);
    float *y = qsim__malloc_aligned(ny * sizeof *y);   /* aligned as the engine's arena */
    float *avx512 = malloc(ny * sizeof *y);
    assert_true(x && w && b && y && avx512);
    uint32_t r = 7;
    for (size_t i = 0; i < nx; i++)
        x[i] = (float)((r = r * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f;
    for (size_t i = 0; i < (size_t)(M * C * 9); i++)
        w[i] = ((float)((r = r * 1664525u + 1013904223u) >> 8) / 8388608.0f - 1.0f) * 0.1f;
    for (int64_t m = 0; m < M; m++)
        b[m] = 0.01f * (float)m;
    qsim__epilogue relu = {QSIM__ACT_RELU, 0.0f, 0.0f};
    {
        const int k = 1;
        qsim__conv_desc d = {.C = C, .M = M, .group = 1, .kh = k, .kw = k, .sh = 1, .sw = 1,
                             .dh = 1, .dw = 1};
        for (int path = 1; path <= 2; path++) {
            qsim__conv_force_path(path);
            int ran_tall = 0;
            for (int isa = QSIM__ISA_AVX512; isa >= QSIM__ISA_GENERIC; isa--) {
                if (!qsim__cpu_force_isa(isa))
                    continue;
                qsim__conv *c = NULL;
                assert_int_equal(qsim__conv_create(&d, w, b, &relu, &c), QSIM_OK);
                memset(y, 0xff, ny * sizeof *y);   /* NaN: every output must be written */
                qsim__conv_run(c, pools[1], x, N, H, W, y, NULL);
                qsim__conv_free(c);
                for (size_t s = 0; s < 2000; s++) {
                    size_t i = (size_t)((r = r * 1664525u + 1013904223u) >> 4) % ny;
                    size_t ox = i % (size_t)W, oy = i / (size_t)W % (size_t)H;
                    size_t m = i / (size_t)(H * W) % (size_t)M, n = i / (size_t)(M * H * W);
                    double acc = b[m], scale = fabs(b[m]);
                    for (int64_t ch = 0; ch < C; ch++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int64_t iy = (int64_t)oy + ky - k / 2, ix = (int64_t)ox + kx - k / 2;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                double t = (double)w[((size_t)m * (size_t)C + (size_t)ch) * (size_t)(k * k) +
                                                     (size_t)(ky * k + kx)] *
                                           x[(((size_t)n * (size_t)C + (size_t)ch) * (size_t)H + (size_t)iy) *
                                                 (size_t)W + (size_t)ix];
                                acc += t;
                                scale += fabs(t);
                            }
                    double want = acc > 0 ? acc : 0;
                    if (!(fabs(y[i] - want) <= 1e-5 * scale + 1e-6))
                        fail_msg("%dx%d, %s path, %s: y[%zu] = %.8g, want %.8g", k, k,
                                 path == 1 ? "im2col" : "direct", qsim__kernels_isa(), i, y[i],
                                 want);
                }
                if (isa == QSIM__ISA_AVX512) {
                    memcpy(avx512, y, ny * sizeof *y);
                    ran_tall = 1;
                } else if (isa == QSIM__ISA_AVX2 && ran_tall) {
                    assert_memory_equal(y, avx512, ny * sizeof *y);
                }
            }
        }
    }
    qsim__conv_force_path(0);
    qsim__cpu_force_generic(0);
    free(x);
    free(w);
    free(b);
    qsim__free_aligned(y);
    free(avx512);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(against_numpy),
        cmocka_unit_test(path_rule),
        cmocka_unit_test(big_outputs),
    };
    return cmocka_run_group_tests_name("conv_direct", tests, kt_setup, kt_teardown);
}
