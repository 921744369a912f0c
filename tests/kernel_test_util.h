/* Helpers shared by the kernel tests (test_gemm, test_conv, test_conv_direct,
 * test_pool_kernels): thread pools of 1, 2 and 3 threads as the group
 * fixture, and the binary case files the tests/tools/gen_*_cases.py
 * reference scripts write. Header-only; include after <cmocka.h> and
 * "core/threadpool.h". */
#ifndef QSIM_TESTS_KERNEL_TEST_UTIL_H
#define QSIM_TESTS_KERNEL_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

/* pools[i] has i + 1 threads (kt_setup / kt_teardown) */
static qsim__pool *pools[3];

static int kt_setup(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        if (qsim__pool_create(i + 1, &pools[i]) != QSIM_OK)
            return -1;
    return 0;
}

static int kt_teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++)
        qsim__pool_free(pools[i]);
    return 0;
}

static int read_all(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

/* Runs tests/tools/<script> to write QSIM_TEST_DATA/<file>, opens it and
 * reads its case count; outside the meson test environment the test is
 * skipped (cmocka's skip() leaves it). */
static FILE *kt_open_cases(const char *script, const char *file, int64_t *ncases)
{
    const char *py = getenv("PYTHON3"), *root = getenv("QSIM_SOURCE_ROOT");
    const char *data = getenv("QSIM_TEST_DATA");
    if (!py || !root || !data) {
        skip();
        return NULL;
    }
    char path[4096], cmd[12288];
    snprintf(path, sizeof path, "%s/%s", data, file);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && '%s' '%s/tests/tools/%s' '%s'", data, py, root,
             script, path);
    if (system(cmd) != 0)
        fail_msg("%s failed", script);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s wrote no %s", script, path);
    assert_true(read_all(f, ncases, sizeof *ncases));
    return f;
}

#endif
