/* jansson's allocator routing (json_io.c): an application that installed
 * its own jansson allocator before libqsim's first JSON call keeps it, and
 * libqsim still parses, writes and frees correctly through it. (The other
 * JSON tests cover the default case, where jansson goes through
 * qsim__malloc and its fault injection.) Own binary: the setting is
 * process-wide. */
#include "core/alloc.h"
#include "quant/config_json.h"
#include "quant/encodings_json.h"

#include <jansson.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static size_t app_allocs, app_frees;

static void *app_malloc(size_t n)
{
    __atomic_add_fetch(&app_allocs, 1, __ATOMIC_RELAXED);
    return malloc(n);
}

static void app_free(void *p)
{
    if (p)
        __atomic_add_fetch(&app_frees, 1, __ATOMIC_RELAXED);
    free(p);
}

static void *parse_in_thread(void *arg)
{
    qsim__config *c = NULL;
    qsim_status st = qsim__config_default(arg != NULL, &c);
    qsim__config_free(c);
    return (void *)(uintptr_t)st;
}

static void application_allocator_is_kept(void **state)
{
    (void)state;
    json_set_alloc_funcs(app_malloc, app_free);
    /* first libqsim JSON calls, from several threads at once */
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, parse_in_thread, (void *)(uintptr_t)(i & 1)),
                         0);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_int_equal((uintptr_t)r, QSIM_OK);
    }
    json_malloc_t m;
    json_free_t f;
    json_get_alloc_funcs(&m, &f);
    assert_ptr_equal(m, app_malloc);
    assert_ptr_equal(f, app_free);
    assert_true(app_allocs > 0);

    /* the writer's string is copied out of jansson's allocator */
    static const char text[] = "[{\"name\": \"w\", \"output_dtype\": \"int8\", \"y_scale\": 0.5}]";
    qsim__encodings *e = NULL;
    assert_int_equal(qsim__encodings_parse(text, sizeof text - 1, "t", &e), QSIM_OK);
    qsim__enc_write_opts o = {QSIM__ENC_V2_0_0, 1, 0};
    char *out = NULL;
    assert_int_equal(qsim__encodings_to_string(e, &o, &out), QSIM_OK);
    assert_non_null(strstr(out, "\"y_scale\": 0.5"));
    qsim__free(out);
    qsim__encodings_free(e);
    assert_int_equal(app_allocs, app_frees);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(application_allocator_is_kept),
    };
    return cmocka_run_group_tests_name("json_alloc", tests, NULL, NULL);
}
