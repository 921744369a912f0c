/* The seeded, insertion-ordered string map behind the quantizer registry. */
#include "core/alloc.h"
#include "core/strmap.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

static void order_and_lookup(void **state)
{
    (void)state;
    qsim__strmap *m = qsim__strmap_create();
    assert_non_null(m);
    const char *keys[] = {"conv1.weight", "", "input", "bn.running_mean", "a/b:0"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(qsim__strmap_put(m, keys[i], (void *)(uintptr_t)(i + 1)), 0);
    assert_int_equal(qsim__strmap_count(m), 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(qsim__strmap_key_at(m, i), keys[i]);
        int found = 0;
        assert_ptr_equal(qsim__strmap_get(m, keys[i], &found), (void *)(uintptr_t)(i + 1));
        assert_true(found);
    }
    int found = 1;
    assert_null(qsim__strmap_get(m, "missing", &found));
    assert_false(found);
    /* replace keeps position, put_new refuses */
    assert_int_equal(qsim__strmap_put(m, "input", (void *)(uintptr_t)42), 0);
    assert_ptr_equal(qsim__strmap_value_at(m, 2), (void *)(uintptr_t)42);
    assert_int_equal(qsim__strmap_put_new(m, "input", NULL), 1);
    assert_ptr_equal(qsim__strmap_value_at(m, 2), (void *)(uintptr_t)42);
    assert_int_equal(qsim__strmap_count(m), 5);
    qsim__strmap_free(m);
    qsim__strmap_free(NULL);
}

static void many_keys(void **state)
{
    (void)state;
    qsim__strmap *m = qsim__strmap_create();
    char buf[32];
    for (uintptr_t i = 0; i < 100000; i++) {
        snprintf(buf, sizeof buf, "t%lu", (unsigned long)i);
        assert_int_equal(qsim__strmap_put_new(m, buf, (void *)(i + 1)), 0);
    }
    for (uintptr_t i = 0; i < 100000; i += 7) {
        snprintf(buf, sizeof buf, "t%lu", (unsigned long)i);
        assert_ptr_equal(qsim__strmap_get(m, buf, NULL), (void *)(i + 1));
        assert_string_equal(qsim__strmap_key_at(m, i), buf);
    }
    qsim__strmap_free(m);
}

static void allocation_failures_leave_map_usable(void **state)
{
    (void)state;
    qsim__strmap *m = qsim__strmap_create();
    char buf[32];
    for (size_t n = 1; n < 40; n++) {
        qsim__alloc_fail_after(n);
        for (int i = 0; i < 40; i++) {
            snprintf(buf, sizeof buf, "k%d", i);
            (void)qsim__strmap_put(m, buf, NULL);
        }
        qsim__alloc_fail_after(0);
        /* every key present is findable, order is consistent */
        for (size_t i = 0; i < qsim__strmap_count(m); i++) {
            int f = 0;
            qsim__strmap_get(m, qsim__strmap_key_at(m, i), &f);
            assert_true(f);
        }
    }
    qsim__strmap_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_and_lookup),
        cmocka_unit_test(many_keys),
        cmocka_unit_test(allocation_failures_leave_map_usable),
    };
    return cmocka_run_group_tests_name("strmap", tests, NULL, NULL);
}
