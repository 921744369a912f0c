/* Status names, version agreement and the per-thread last-error contract,
 * through the public API only. */
#include <qsim/qsim.h>

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void status_names_are_fixed(void **state)
{
    (void)state;
    static const struct { qsim_status s; int value; const char *name; } want[] = {
        {QSIM_OK, 0, "QSIM_OK"},
        {QSIM_ERR_INVALID_ARGUMENT, 1, "QSIM_ERR_INVALID_ARGUMENT"},
        {QSIM_ERR_OUT_OF_MEMORY, 2, "QSIM_ERR_OUT_OF_MEMORY"},
        {QSIM_ERR_IO, 3, "QSIM_ERR_IO"},
        {QSIM_ERR_PARSE, 4, "QSIM_ERR_PARSE"},
        {QSIM_ERR_UNSUPPORTED, 5, "QSIM_ERR_UNSUPPORTED"},
        {QSIM_ERR_NOT_FOUND, 6, "QSIM_ERR_NOT_FOUND"},
        {QSIM_ERR_SHAPE, 7, "QSIM_ERR_SHAPE"},
        {QSIM_ERR_STATE, 8, "QSIM_ERR_STATE"},
        {QSIM_ERR_FROZEN, 9, "QSIM_ERR_FROZEN"},
        {QSIM_ERR_INTERNAL, 10, "QSIM_ERR_INTERNAL"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal((int)want[i].s, want[i].value);
        assert_string_equal(qsim_status_string(want[i].s), want[i].name);
    }
    assert_string_equal(qsim_status_string((qsim_status)11), "QSIM_ERR_UNKNOWN");
    assert_string_equal(qsim_status_string((qsim_status)-1), "QSIM_ERR_UNKNOWN");
}

static void version_matches_header(void **state)
{
    (void)state;
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", QSIM_VERSION_MAJOR, QSIM_VERSION_MINOR,
             QSIM_VERSION_PATCH);
    assert_string_equal(qsim_version_string(), buf);
    assert_string_equal(qsim_version_string(), QSIM_VERSION_STRING);
    assert_int_equal(qsim_version_number(), QSIM_VERSION_NUMBER);
    assert_int_equal(QSIM_VERSION_NUMBER,
                     QSIM_VERSION_MAJOR * 10000 + QSIM_VERSION_MINOR * 100 + QSIM_VERSION_PATCH);
}

static void *fail_in_thread(void *arg)
{
    (void)arg;
    /* a fresh thread starts with an empty message */
    if (strcmp(qsim_last_error(), "") != 0)
        return (void *)1;
    qsim_model *m = NULL;
    if (qsim_model_load("/nonexistent/thread.onnx", &m) == QSIM_OK)
        return (void *)2;
    if (strstr(qsim_last_error(), "thread.onnx") == NULL)
        return (void *)3;
    return NULL;
}

static void last_error_is_per_thread(void **state)
{
    (void)state;
    assert_non_null(qsim_last_error());
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load("/nonexistent/main.onnx", &m), QSIM_ERR_IO);
    assert_null(m);
    assert_non_null(strstr(qsim_last_error(), "main.onnx"));
    pthread_t t;
    void *ret = (void *)99;
    assert_int_equal(pthread_create(&t, NULL, fail_in_thread, NULL), 0);
    assert_int_equal(pthread_join(t, &ret), 0);
    assert_null(ret);
    /* the other thread's failure did not touch ours */
    assert_non_null(strstr(qsim_last_error(), "main.onnx"));
    /* a successful call does not clear it */
    qsim_model_free(NULL);
    assert_non_null(strstr(qsim_last_error(), "main.onnx"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(status_names_are_fixed),
        cmocka_unit_test(version_matches_header),
        cmocka_unit_test(last_error_is_per_thread),
    };
    return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
