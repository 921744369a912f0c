/* qsim_export_qdq and qsim_sim_create_from_qdq under allocation failure:
 * every failing allocation gives QSIM_ERR_OUT_OF_MEMORY (or, for the
 * file's rename, a clean error), never a crash or a leak (run under
 * valgrind / ASan), and no half-written file. */
#include <qsim/qsim.h>

#include "core/alloc.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char tmpdir[256];

static qsim_status forward(qsim_sim *s, void *user)
{
    (void)user;
    static float x[2 * 28 * 28];
    static const int64_t shape[4] = {2, 1, 28, 28};
    for (size_t i = 0; i < sizeof x / sizeof *x; i++)
        x[i] = (float)((i * 7919u) % 255u) / 255.0f;
    qsim_status st = qsim_sim_set_input(s, "input", x, shape, 4);
    return st == QSIM_OK ? qsim_sim_run(s) : st;
}

/* mode 0: 8 bit; 1: 4-bit weights as int4 (opset 21); 2: 4-bit weights
 * in the "clip" form (QSIM_OPT_QDQ_LOW_BIT) */
static void oom_one(int mode)
{
    const char *src = getenv("QSIM_SOURCE_ROOT");
    char mp[600], out[600];
    snprintf(mp, sizeof mp, "%s/data/fmnist_cnn.onnx", src ? src : ".");
    snprintf(out, sizeof out, "%s/m%d.onnx", tmpdir, mode);
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(mp, &m), QSIM_OK);
    qsim_sim_options *o = NULL;
    assert_int_equal(qsim_sim_options_create(&o), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_PER_CHANNEL, 1), QSIM_OK);
    assert_int_equal(qsim_sim_options_set_int(o, QSIM_OPT_NUM_THREADS, 1), QSIM_OK);
    if (mode == 2)
        assert_int_equal(qsim_sim_options_set_string(o, QSIM_OPT_QDQ_LOW_BIT, "clip"), QSIM_OK);
    qsim_sim *s = NULL;
    assert_int_equal(qsim_sim_create(m, o, &s), QSIM_OK);
    for (size_t i = 0; mode && i < qsim_quantizer_count(s); i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        if (qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_PARAM && qsim_quantizer_is_enabled(q))
            assert_int_equal(qsim_quantizer_set_bitwidth(q, 4), QSIM_OK);
    }
    assert_int_equal(qsim_compute_encodings(s, forward, NULL), QSIM_OK);
    size_t fails = 0;
    for (size_t n = 1;; n++) {
        qsim__alloc_fail_after(n);
        qsim_status st = qsim_export_qdq(s, out);
        qsim__alloc_fail_after(0);
        if (st == QSIM_OK)
            break;
        assert_int_equal(st, QSIM_ERR_OUT_OF_MEMORY);
        assert_int_equal(access(out, F_OK), -1);
        fails++;
    }
    qsim_model *qm = NULL;
    for (size_t n = 1;; n++) { /* int4 zero points decoded under failure too */
        qsim__alloc_fail_after(n);
        qsim_status st = qsim_model_load(out, &qm);
        qsim__alloc_fail_after(0);
        if (st == QSIM_OK)
            break;
        assert_null(qm);
        assert_int_equal(st, QSIM_ERR_OUT_OF_MEMORY);
        fails++;
    }
    for (size_t n = 1;; n++) {
        qsim_sim *r = NULL;
        qsim__alloc_fail_after(n);
        qsim_status st = qsim_sim_create_from_qdq(qm, o, &r);
        qsim__alloc_fail_after(0);
        if (st == QSIM_OK) {
            assert_non_null(r);
            for (size_t i = 0; mode && i < qsim_quantizer_count(r); i++) {
                qsim_quantizer *q = qsim_quantizer_at(r, i);
                if (qsim_quantizer_get_kind(q) == QSIM_QUANTIZER_PARAM &&
                    qsim_quantizer_is_enabled(q))
                    assert_int_equal(qsim_quantizer_get_bitwidth(q), 4);
            }
            qsim_sim_free(r);
            break;
        }
        assert_null(r);
        assert_true(st == QSIM_ERR_OUT_OF_MEMORY);
        fails++;
    }
    printf("# mode %d: %zu failing allocations handled\n", mode, fails);
    assert_true(fails > 20);
    qsim_model_free(qm);
    qsim_sim_options_free(o);
    qsim_sim_free(s);
    qsim_model_free(m);
}

static void test_oom(void **state)
{
    (void)state;
    for (int mode = 0; mode < 3; mode++)
        oom_one(mode);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/qsim-qdq-oom-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_oom)};
    int r = cmocka_run_group_tests_name("qdq_oom", tests, NULL, NULL);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        r = 1;
    return r;
}
