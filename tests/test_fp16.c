/* binary16 emulation: portable vs F16C on every float32 bit pattern
 * (test_fp16_all: ~13 s of CPU) or a sample of them (this
 * 'fast' binary), all 65536 half patterns, known values, and numpy's
 * float16 conversion as the independent reference. float -> half agreeing
 * on all 2^32 inputs plus half -> float agreeing on all 65536 halves gives
 * the round trip for every input. */
#include "kernels/fp16.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/cpu.h"
#include "quant_ref_util.h"

static float f_of(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void known_values(void **state)
{
    (void)state;
    assert_int_equal(qsim__f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(qsim__f32_to_f16(65519.996f), 0x7bff);
    assert_int_equal(qsim__f32_to_f16(65520.0f), 0x7c00); /* ties to even: inf */
    assert_int_equal(qsim__f32_to_f16(-1e10f), 0xfc00);
    assert_int_equal(qsim__f32_to_f16(INFINITY), 0x7c00);
    assert_int_equal(qsim__f32_to_f16(0x1p-24f), 0x0001); /* smallest subnormal */
    assert_int_equal(qsim__f32_to_f16(0x1p-25f), 0x0000); /* tie -> even (0) */
    assert_int_equal(qsim__f32_to_f16(0x1.000002p-25f), 0x0001);
    assert_int_equal(qsim__f32_to_f16(0x3p-25f), 0x0002); /* 1.5 ulp -> 2 */
    assert_int_equal(qsim__f32_to_f16(0x1p-14f), 0x0400); /* smallest normal */
    assert_int_equal(qsim__f32_to_f16(0x1.ffcp-15f), 0x03ff + 1); /* rounds up into normals */
    assert_int_equal(qsim__f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(qsim__f32_to_f16(1.0f + 0x1p-11f), 0x3c00); /* tie, even stays */
    assert_int_equal(qsim__f32_to_f16(1.0f + 0x3p-11f), 0x3c02); /* tie, odd goes up */
    assert_int_equal(qsim__f32_to_f16(-0.0f), 0x8000);
    assert_int_equal(qsim__f32_to_f16(f_of(0x7fc00000u)), 0x7e00);
    assert_int_equal(qsim__f32_to_f16(f_of(0x7f800001u)), 0x7e00); /* sNaN quieted */
    assert_int_equal(qsim__f32_to_f16(f_of(0xffa00000u)), 0xff00);  /* payload kept */
    assert_true(qsim__f16_to_f32(0x7bff) == 65504.0f);
    assert_true(qsim__f16_to_f32(0x0001) == 0x1p-24f);
    assert_true(qsim__f16_to_f32(0x8001) == -0x1p-24f);
    assert_true(qsim__f16_to_f32(0x03ff) == 0x3ffp-24f);
    assert_true(qt_bits(qsim__f16_to_f32(0x7c01)) == 0x7fc02000u); /* sNaN -> qNaN */
    float x[3] = {65520.0f, 0.1f, -3.0f}, y[3];
    qsim__fp16_qdq_f32(x, y, 3);
    assert_true(isinf(y[0]) && y[1] == 0.0999755859375f && y[2] == -3.0f);
}

static void all_half_patterns(void **state)
{
    (void)state;
    static uint16_t h[65536], back[65536];
    static float f[65536], g[65536];
    for (uint32_t i = 0; i < 65536; i++)
        h[i] = (uint16_t)i;
    qsim__f16_to_f32_buf__generic(h, f, 65536);
    qsim__f32_to_f16_buf__generic(f, back, 65536);
    for (uint32_t i = 0; i < 65536; i++) {
        int nan = (i & 0x7c00) == 0x7c00 && (i & 0x3ff);
        assert_int_equal(back[i], nan ? (i | 0x200) : i); /* NaN comes back quiet */
        if (!nan)
            assert_true(qsim__f16_to_f32(h[i]) == f[i] || isnan(f[i]));
    }
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2()) {
        qsim__f16_to_f32_buf__avx2(h, g, 65536);
        assert_memory_equal(f, g, sizeof f);
        static uint16_t b2[65536];
        qsim__f32_to_f16_buf__avx2(g, b2, 65536);
        assert_memory_equal(back, b2, sizeof back);
    }
#else
    (void)g;
#endif
}

/* Blocks of 2^16 consecutive patterns through both paths. */
static void sweep(uint64_t first_block, uint64_t nblocks, uint64_t stride)
{
#ifdef QSIM_HAVE_AVX2
    if (!qsim__cpu_use_avx2())
        skip();
    static uint32_t u[65536];
    static uint16_t ha[65536], hb[65536];
    static float ya[65536], yb[65536];
    for (uint64_t b = first_block; b < first_block + nblocks * stride; b += stride) {
        uint32_t base = (uint32_t)(b << 16);
        for (uint32_t i = 0; i < 65536; i++)
            u[i] = base | i;
        const float *x = (const float *)(const void *)u;
        qsim__f32_to_f16_buf__generic(x, ha, 65536);
        qsim__f32_to_f16_buf__avx2(x, hb, 65536);
        if (memcmp(ha, hb, sizeof ha) != 0) {
            for (uint32_t i = 0; i < 65536; i++)
                if (ha[i] != hb[i])
                    fail_msg("float bits 0x%08x: portable 0x%04x, F16C 0x%04x", base | i, ha[i],
                             hb[i]);
        }
        if (stride > 1) { /* the round-trip kernels too, on the sample */
            qsim__fp16_qdq_f32__generic(x, ya, 65536);
            qsim__fp16_qdq_f32__avx2(x, yb, 65536);
            assert_memory_equal(ya, yb, sizeof ya);
        }
    }
#else
    (void)first_block;
    (void)nblocks;
    (void)stride;
    skip();
#endif
}

static void all_float_patterns(void **state)
{
    (void)state;
#ifdef QSIM_FP16_ALL
    sweep(0, 65536, 1); /* every one of the 2^32 patterns */
#else
    sweep(0, 65536 / 61 + 1, 61); /* 1075 blocks spread over all exponents */
#endif
}

/* numpy's float16 cast (an independent RNE implementation) on samples. */
static void numpy_reference(void **state)
{
    (void)state;
    assert_true(qt_setup());
    enum { M = 1 << 18 };
    static float x[M], ref[M], y[M];
    qt_seed(99);
    for (size_t i = 0; i < M; i++) {
        uint32_t r = (uint32_t)qt_next();
        if (i & 1) /* concentrate on the binary16 range, subnormals, ties */
            r = (r & 0x80001fffu) | ((uint32_t)(0x65 + (qt_next() % 0x30)) << 23) |
                (r & 0x7fe000u);
        memcpy(&x[i], &r, 4);
    }
    assert_true(qt_write("x", x, sizeof x));
    assert_true(qt_ref("fp16 x y"));
    assert_true(qt_read("y", ref, sizeof ref));
    qsim__fp16_qdq_f32__generic(x, y, M);
    for (size_t i = 0; i < M; i++) {
        if (isnan(ref[i]))
            assert_true(isnan(y[i]));
        else if (qt_bits(y[i]) != qt_bits(ref[i]))
            fail_msg("x bits 0x%08x: libqsim 0x%08x numpy 0x%08x", qt_bits(x[i]), qt_bits(y[i]),
                     qt_bits(ref[i]));
    }
    qsim__fp16_qdq_f32(x, y, M); /* dispatched path, in place of y */
    for (size_t i = 0; i < M; i++)
        assert_true(isnan(ref[i]) ? isnan(y[i]) : qt_bits(y[i]) == qt_bits(ref[i]));
    qt_teardown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_values),
        cmocka_unit_test(all_half_patterns),
        cmocka_unit_test(all_float_patterns),
        cmocka_unit_test(numpy_reference),
    };
    return cmocka_run_group_tests_name("fp16", tests, NULL, NULL);
}
