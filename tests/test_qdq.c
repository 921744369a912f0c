/* QDQ kernels (SPEC 3.3) bit for bit against the numpy reference, on the
 * portable and AVX2 paths, in place and out of place, odd lengths, both
 * rounding modes, per-tensor and per-channel (axis 0, 1 and last). */
#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "quant/encoding.h"
#include "quant/stats.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "quant_ref_util.h"

typedef void (*qdq_fn)(const float *, float *, size_t, const qsim__qdq_params *, int);

static int n_paths(qdq_fn *f)
{
    int n = 0;
    f[n++] = qsim__qdq_f32__generic;
#ifdef QSIM_HAVE_AVX2
    if (qsim__cpu_use_avx2())
        f[n++] = qsim__qdq_f32__avx2;
#endif
    f[n++] = qsim__qdq_f32; /* dispatcher */
    return n;
}

static size_t count_diff_bits(const float *a, const float *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += memcmp(&a[i], &b[i], 4) != 0;
    return d;
}

static void worked_example(void **state)
{
    (void)state;
    qsim__qdq_params p;
    assert_int_equal(qsim__qdq_params_tensor(-1.0, 3.0, 8, &p), QSIM_OK);
    float x[5] = {0.0f, 3.0f, -2.0f, 1.0f, NAN}, y[5];
    qsim__qdq_f32(x, y, 5, &p, QSIM__ROUND_HALF_AWAY);
    float d = (float)(4.0 / 255);
    assert_true(y[0] == 0.0f);
    assert_true(y[1] == d * (255.0f - 64.0f)); /* clamped to the top of the grid */
    assert_true(y[2] == d * -64.0f);
    assert_true(y[3] == d * (128.0f - 64.0f)); /* 1/d + 64 = 127.75 -> 128 */
    assert_true(y[4] == y[2]); /* NaN clamps to min */
}

#define N 2053 /* odd: exercises every tail length on the way */

static const struct { int bw; double mn, mx; } grids[] = {
    {8, -1.0, 3.0},  {8, -0.5, 0.5},  {8, -0.503937007874, 0.5}, {4, -2.0, 1.3},
    {16, -3.0, 5.0}, {8, 0.0, 6.0},   {8, -6.0, 0.0},            {4, -0.5, 0.5},
    {2, -1.0, 1.0},  {8, 0.0, 0.0},   {12, -0.001, 0.0007},
};
#define NGRIDS (sizeof grids / sizeof grids[0])

static void make_data(float *x, size_t n, const qsim__qdq_params *p)
{
    float d = (float)p->delta, o = (float)p->offset;
    double w = p->max - p->min;
    for (size_t i = 0; i < n; i++) {
        double u = qt_uniform();
        if (i % 3 == 0) /* exact tie candidates: (k + 0.5 + o) * d */
            x[i] = d * ((float)(int)(u * 300 - 20) + 0.5f + o);
        else
            x[i] = (float)(p->min + (u * 1.4 - 0.2) * w);
    }
    x[1] = NAN;
    x[2] = INFINITY;
    x[4] = -INFINITY;
    x[5] = -0.0f;
    x[7] = 1e30f;
}

static void per_tensor_vs_reference(void **state)
{
    (void)state;
    assert_true(qt_setup());
    static float x[NGRIDS][N];
    FILE *cmd = fopen(qt_path("cmds"), "w");
    assert_non_null(cmd);
    qt_seed(3);
    for (size_t g = 0; g < NGRIDS; g++) {
        qsim__qdq_params p;
        assert_int_equal(qsim__qdq_params_tensor(grids[g].mn, grids[g].mx, grids[g].bw, &p),
                         QSIM_OK);
        make_data(x[g], N, &p);
        char name[32];
        snprintf(name, sizeof name, "x%zu", g);
        assert_true(qt_write(name, x[g], sizeof x[g]));
        for (int r = 0; r < 2; r++)
            fprintf(cmd, "qdq %d %.17g %.17g %d x%zu y%zu_%d\n", grids[g].bw, grids[g].mn,
                    grids[g].mx, r, g, g, r);
    }
    fclose(cmd);
    assert_true(qt_ref("batch cmds"));
    qdq_fn fns[3];
    int nf = n_paths(fns);
    size_t ties = 0;
    for (size_t g = 0; g < NGRIDS; g++) {
        qsim__qdq_params p;
        assert_int_equal(qsim__qdq_params_tensor(grids[g].mn, grids[g].mx, grids[g].bw, &p),
                         QSIM_OK);
        static float ref[2][N], y[N];
        for (int r = 0; r < 2; r++) {
            char name[32];
            snprintf(name, sizeof name, "y%zu_%d", g, r);
            assert_true(qt_read(name, ref[r], sizeof ref[r]));
        }
        ties += count_diff_bits(ref[0], ref[1], N);
        for (int f = 0; f < nf; f++)
            for (int r = 0; r < 2; r++)
                for (size_t len = N - 8; len <= N; len++) { /* every tail 0..7 */
                    memset(y, 0x7f, sizeof y);
                    fns[f](x[g], y, len, &p, r);
                    size_t bad = count_diff_bits(y, ref[r], len);
                    if (bad)
                        printf("# grid %zu path %d round %d len %zu: %zu differ\n", g, f, r, len,
                               bad);
                    assert_int_equal(bad, 0);
                    assert_true(qt_bits(y[len < N ? len : 0]) == 0x7f7f7f7fu || len == N);
                    /* in place */
                    memcpy(y, x[g], len * sizeof(float));
                    fns[f](y, y, len, &p, r);
                    assert_int_equal(count_diff_bits(y, ref[r], len), 0);
                }
    }
    /* Half-away and half-even outputs differ only on exact ties: make sure
     * the data really contained some. */
    printf("# %zu exact ties exercised\n", ties);
    assert_true(ties > 100);
    qt_teardown();
}

/* Portable and AVX2 paths agree on random bit patterns (NaN, inf,
 * subnormals included) for random grids. */
static void generic_vs_avx2_sweep(void **state)
{
    (void)state;
#ifdef QSIM_HAVE_AVX2
    if (!qsim__cpu_use_avx2())
        skip();
    enum { M = 1 << 16 };
    static float x[M], a[M], b[M];
    qt_seed(11);
    for (int rep = 0; rep < 32; rep++) {
        for (size_t i = 0; i < M; i++) {
            uint32_t u = (uint32_t)qt_next();
            if (rep & 1) /* keep many values near the grid */
                x[i] = (float)((qt_uniform() - 0.5) * 8);
            else
                memcpy(&x[i], &u, 4);
        }
        qsim__qdq_params p;
        int bw = 2 + (int)(qt_next() % 31);
        double mn = -qt_uniform() * 3, mx = qt_uniform() * 3;
        assert_int_equal(qsim__qdq_params_tensor(mn, mx, bw, &p), QSIM_OK);
        for (int r = 0; r < 2; r++) {
            qsim__qdq_f32__generic(x, a, M, &p, r);
            qsim__qdq_f32__avx2(x, b, M, &p, r);
            assert_int_equal(count_diff_bits(a, b, M), 0);
        }
    }
#else
    skip();
#endif
}

/* Per-channel: TF encodings per channel (stored grid used directly). */
static void per_channel_vs_reference(void **state)
{
    (void)state;
    assert_true(qt_setup());
    static const struct { int rank, dims[4], axis; } cases[] = {
        {4, {6, 5, 3, 3}, 0}, {4, {6, 5, 3, 3}, 1}, {2, {9, 7, 0, 0}, 1}, {3, {2, 3, 37, 0}, 1}};
    enum { NC = sizeof cases / sizeof cases[0], MAXN = 6 * 5 * 3 * 3 };
    static float x[NC][MAXN];
    static double enc[NC][6 * 4 + 64];
    size_t numel[NC], outer[NC], ch[NC], inner[NC];
    FILE *cmd = fopen(qt_path("cmds"), "w");
    assert_non_null(cmd);
    qt_seed(5);
    for (size_t k = 0; k < NC; k++) {
        numel[k] = 1;
        outer[k] = 1;
        inner[k] = 1;
        for (int i = 0; i < cases[k].rank; i++) {
            size_t d = (size_t)cases[k].dims[i];
            numel[k] *= d;
            if (i < cases[k].axis)
                outer[k] *= d;
            else if (i > cases[k].axis)
                inner[k] *= d;
        }
        ch[k] = (size_t)cases[k].dims[cases[k].axis];
        for (size_t i = 0; i < numel[k]; i++)
            x[k][i] = qt_normal() * (float)(1 + i % 3);
        qsim__minmax mm[16];
        for (size_t c = 0; c < ch[k]; c++)
            qsim__minmax_reset(&mm[c]);
        qsim__minmax_update_channels(mm, ch[k], x[k], outer[k], inner[k]);
        for (size_t c = 0; c < ch[k]; c++) {
            qsim__encoding e;
            unsigned fl = (k & 1) ? QSIM__ENC_SYMMETRIC : 0;
            assert_int_equal(qsim__encoding_tf(&mm[c], k == 3 ? 4 : 8, fl, &e), QSIM_OK);
            enc[k][4 * c] = e.min;
            enc[k][4 * c + 1] = e.max;
            enc[k][4 * c + 2] = e.delta;
            enc[k][4 * c + 3] = (double)e.offset;
        }
        char xn[16], en[16];
        snprintf(xn, sizeof xn, "x%zu", k);
        snprintf(en, sizeof en, "e%zu", k);
        assert_true(qt_write(xn, x[k], numel[k] * sizeof(float)));
        assert_true(qt_write(en, enc[k], ch[k] * 4 * sizeof(double)));
        for (int r = 0; r < 2; r++) {
            fprintf(cmd, "qdq_pc %d %d", cases[k].axis, cases[k].rank);
            for (int i = 0; i < cases[k].rank; i++)
                fprintf(cmd, " %d", cases[k].dims[i]);
            fprintf(cmd, " %d e%zu x%zu y%zu_%d\n", r, k, k, k, r);
        }
    }
    fclose(cmd);
    assert_true(qt_ref("batch cmds"));
    for (size_t k = 0; k < NC; k++) {
        qsim__qdq_params p[16];
        for (size_t c = 0; c < ch[k]; c++) {
            qsim__encoding e = {enc[k][4 * c], enc[k][4 * c + 1], enc[k][4 * c + 2],
                                (int64_t)enc[k][4 * c + 3], 8};
            qsim__qdq_params_from_encoding(&e, &p[c]);
        }
        for (int r = 0; r < 2; r++) {
            static float ref[MAXN], y[MAXN];
            char name[16];
            snprintf(name, sizeof name, "y%zu_%d", k, r);
            assert_true(qt_read(name, ref, numel[k] * sizeof(float)));
            for (int gen = 0; gen < 2; gen++) {
                qsim__cpu_force_generic(gen);
                qsim__qdq_channels_f32(x[k], y, outer[k], ch[k], inner[k], p, r);
                assert_int_equal(count_diff_bits(y, ref, numel[k]), 0);
                memcpy(y, x[k], numel[k] * sizeof(float));
                qsim__qdq_channels_f32(y, y, outer[k], ch[k], inner[k], p, r);
                assert_int_equal(count_diff_bits(y, ref, numel[k]), 0);
            }
            qsim__cpu_force_generic(0);
        }
    }
    qt_teardown();
}

static void minmax_paths(void **state)
{
    (void)state;
    static float x[1000];
    qt_seed(9);
    for (size_t i = 0; i < 1000; i++)
        x[i] = qt_normal();
    x[17] = NAN;
    x[999] = 9.0f;  /* in the scalar tail */
    x[998] = -9.5f;
    for (size_t n = 0; n <= 1000; n += (n < 40 ? 1 : 37)) {
        float lo = INFINITY, hi = -INFINITY, a, b;
        for (size_t i = 0; i < n; i++)
            if (!isnan(x[i])) {
                lo = fminf(lo, x[i]);
                hi = fmaxf(hi, x[i]);
            }
        qsim__minmax_f32__generic(x, n, &a, &b);
        assert_true(a == lo && b == hi);
#ifdef QSIM_HAVE_AVX2
        if (qsim__cpu_use_avx2()) {
            qsim__minmax_f32__avx2(x, n, &a, &b);
            assert_true(a == lo && b == hi);
        }
#endif
    }
}

/* Pool tasks, run in reverse order, give the same bytes as one call. */
static void job_tasks(void **state)
{
    (void)state;
    size_t n = 3 * QSIM__ELEM_JOB_CHUNK + 77;
    float *x = malloc(n * sizeof(float)), *a = malloc(n * sizeof(float));
    float *b = malloc(n * sizeof(float));
    assert_true(x && a && b);
    qt_seed(4);
    for (size_t i = 0; i < n; i++)
        x[i] = qt_normal() * 3;
    qsim__qdq_params p;
    assert_int_equal(qsim__qdq_params_tensor(-2.0, 2.5, 8, &p), QSIM_OK);
    qsim__elem_job j = {QSIM__ELEM_QDQ, x, b, n, &p, QSIM__ROUND_HALF_AWAY};
    assert_int_equal(qsim__elem_job_tasks(&j), 4);
    for (size_t t = qsim__elem_job_tasks(&j); t-- > 0;)
        qsim__elem_job_run(&j, t, 0);
    qsim__qdq_f32(x, a, n, &p, QSIM__ROUND_HALF_AWAY);
    assert_memory_equal(a, b, n * sizeof(float));
    j.op = QSIM__ELEM_FP16;
    j.y = x; /* in place */
    memcpy(a, x, n * sizeof(float));
    for (size_t t = 0; t < qsim__elem_job_tasks(&j); t++)
        qsim__elem_job_run(&j, t, 1);
    for (size_t i = 0; i < n; i++)
        assert_true(x[i] == qsim__f16_to_f32(qsim__f32_to_f16(a[i])));
    /* through a real pool of 3 threads (the caller included) */
    qsim__pool *pool = NULL;
    assert_int_equal(qsim__pool_create(3, &pool), QSIM_OK);
    j.op = QSIM__ELEM_QDQ;
    j.x = a;
    j.y = b;
    memset(b, 0, n * sizeof(float));
    qsim__pool_run(pool, qsim__elem_job_tasks(&j), qsim__elem_job_run, &j);
    float *c = malloc(n * sizeof(float));
    assert_non_null(c);
    qsim__qdq_f32(a, c, n, &p, QSIM__ROUND_HALF_AWAY);
    assert_memory_equal(b, c, n * sizeof(float));
    free(c);
    qsim__pool_free(pool);
    j.n = 0;
    assert_int_equal(qsim__elem_job_tasks(&j), 0);
    free(x);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(worked_example),
        cmocka_unit_test(per_tensor_vs_reference),
        cmocka_unit_test(generic_vs_avx2_sweep),
        cmocka_unit_test(per_channel_vs_reference),
        cmocka_unit_test(minmax_paths),
        cmocka_unit_test(job_tasks),
    };
    return cmocka_run_group_tests_name("qdq", tests, NULL, NULL);
}
