/* The kernel thread pool: every task runs exactly once, thread indices stay
 * in range, the caller takes part, and pools start and stop cleanly. */
#include "core/threadpool.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

typedef struct counts {
    _Atomic int *runs;     /* per task */
    _Atomic int bad_thread;
    _Atomic int used[8];   /* per thread index */
    int nthreads;
} counts;

static void count_task(void *ctx, size_t task, int thread)
{
    counts *c = ctx;
    atomic_fetch_add(&c->runs[task], 1);
    if (thread < 0 || thread >= c->nthreads)
        atomic_store(&c->bad_thread, 1);
    else if (thread < 8)
        atomic_fetch_add(&c->used[thread], 1);
    /* a little work so several threads get a share */
    volatile double s = 0;
    for (int i = 0; i < 2000; i++)
        s = s + i * 0.5;
    (void)s;
}

static void check_pool(int nthreads, size_t ntasks, int rounds)
{
    qsim__pool *p = NULL;
    assert_int_equal(qsim__pool_create(nthreads, &p), QSIM_OK);
    assert_non_null(p);
    assert_int_equal(qsim__pool_threads(p), nthreads);
    counts c;
    memset(&c, 0, sizeof c);
    c.nthreads = nthreads;
    c.runs = calloc(ntasks ? ntasks : 1, sizeof *c.runs);
    assert_non_null(c.runs);
    for (int r = 0; r < rounds; r++) {
        for (size_t t = 0; t < ntasks; t++)
            atomic_store(&c.runs[t], 0);
        qsim__pool_run(p, ntasks, count_task, &c);
        for (size_t t = 0; t < ntasks; t++)
            assert_int_equal(atomic_load(&c.runs[t]), 1);
        assert_int_equal(atomic_load(&c.bad_thread), 0);
    }
    free(c.runs);
    qsim__pool_free(p);
}

static void tasks_run_once(void **state)
{
    (void)state;
    int threads[] = {1, 2, 7};
    size_t tasks[] = {0, 1, 2, 3, 7, 64, 1001};
    for (size_t i = 0; i < 3; i++)
        for (size_t k = 0; k < sizeof tasks / sizeof *tasks; k++)
            check_pool(threads[i], tasks[k], 3);
}

static void caller_takes_part(void **state)
{
    (void)state;
    qsim__pool *p = NULL;
    assert_int_equal(qsim__pool_create(2, &p), QSIM_OK);
    counts c;
    memset(&c, 0, sizeof c);
    c.nthreads = 2;
    c.runs = calloc(4000, sizeof *c.runs);
    assert_non_null(c.runs);
    qsim__pool_run(p, 4000, count_task, &c);
    /* the caller (thread 0) always claims at least one task */
    assert_true(atomic_load(&c.used[0]) > 0);
    assert_int_equal(atomic_load(&c.used[0]) + atomic_load(&c.used[1]), 4000);
    free(c.runs);
    qsim__pool_free(p);
}

static void sum_task(void *ctx, size_t task, int thread)
{
    (void)thread;
    _Atomic size_t *s = ctx;
    atomic_fetch_add(s, task + 1);
}

static void many_tiny_runs(void **state)
{
    (void)state;
    qsim__pool *p = NULL;
    assert_int_equal(qsim__pool_create(3, &p), QSIM_OK);
    _Atomic size_t s = 0;
    size_t want = 0;
    for (int r = 0; r < 5000; r++) {
        size_t n = (size_t)(r % 5);
        qsim__pool_run(p, n, sum_task, &s);
        want += n * (n + 1) / 2;
    }
    assert_int_equal(atomic_load(&s), want);
    qsim__pool_free(p);
}

static void idle_free_and_null(void **state)
{
    (void)state;
    /* free right after create (workers may not have started waiting yet) */
    for (int i = 0; i < 20; i++) {
        qsim__pool *p = NULL;
        assert_int_equal(qsim__pool_create(1 + i % 4, &p), QSIM_OK);
        qsim__pool_free(p);
    }
    /* free after workers went to sleep */
    qsim__pool *p = NULL;
    assert_int_equal(qsim__pool_create(2, &p), QSIM_OK);
    _Atomic size_t s = 0;
    qsim__pool_run(p, 5, sum_task, &s);
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
    qsim__pool_run(p, 5, sum_task, &s);
    assert_int_equal(atomic_load(&s), 30);
    qsim__pool_free(p);
    qsim__pool_free(NULL);
    /* NULL pool runs inline; default size is at least one thread */
    assert_int_equal(qsim__pool_threads(NULL), 1);
    atomic_store(&s, 0);
    qsim__pool_run(NULL, 4, sum_task, &s);
    assert_int_equal(atomic_load(&s), 10);
    assert_int_equal(qsim__pool_create(0, &p), QSIM_OK);
    assert_true(qsim__pool_threads(p) >= 1);
    qsim__pool_free(p);
    assert_int_not_equal(qsim__pool_create(100000, &p), QSIM_OK);
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tasks_run_once),
        cmocka_unit_test(caller_takes_part),
        cmocka_unit_test(many_tiny_runs),
        cmocka_unit_test(idle_free_and_null),
    };
    return cmocka_run_group_tests_name("threadpool", tests, NULL, NULL);
}
