/* The kernel thread pool. One job at a time: the caller publishes (fn, ctx,
 * ntasks) and bumps a generation counter; workers (and the caller) claim task
 * indices from a shared atomic counter until none are left. Which thread runs
 * a task varies, but task boundaries are the caller's, so results never
 * depend on the thread count. Idle workers spin briefly (kernels come in
 * bursts during a forward pass), then sleep on a condition variable. */
#include "threadpool.h"

#include "alloc.h"
#include "error.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

/* Spin iterations before sleeping (a pause is ~10-100 ns: tens of us), with
 * sched_yield in between so an oversubscribed machine still makes progress. */
#define SPIN_WORK 20000
#define SPIN_DONE 20000
#define YIELD_EVERY 1024

/* Upper bound on threads, against absurd requests. */
#define MAX_THREADS 256

typedef struct worker {
    qsim__pool *pool;
    int index;
    pthread_t tid;
} worker;

struct qsim__pool {
    int nthreads;
    int nworkers;        /* started worker threads (nthreads - 1) */
    worker *workers;

    pthread_mutex_t mu;
    pthread_cond_t work_cv;
    pthread_cond_t done_cv;

    /* the job, written by the caller before `gen` is bumped (release) */
    qsim__task_fn fn;
    void *ctx;
    size_t ntasks;

    _Atomic unsigned gen;      /* job generation */
    _Atomic size_t next;       /* next unclaimed task */
    _Atomic int pending;       /* workers that have not finished this job */
    _Atomic int sleepers;      /* workers blocked in work_cv */
    _Atomic int stop;
};

static void run_tasks(qsim__pool *p, int thread)
{
    qsim__task_fn fn = p->fn;
    void *ctx = p->ctx;
    size_t n = p->ntasks;
    for (;;) {
        size_t t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= n)
            break;
        fn(ctx, t, thread);
    }
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    qsim__pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&p->stop, memory_order_acquire)) {
            if (++spins < SPIN_WORK) {
                if (spins % YIELD_EVERY == 0)
                    sched_yield();
                CPU_RELAX();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (atomic_load(&p->gen) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->work_cv, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load_explicit(&p->stop, memory_order_acquire))
            break;
        seen = g;
        run_tasks(p, w->index);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (int)n;
}

qsim_status qsim__pool_create(int nthreads, qsim__pool **out)
{
    *out = NULL;
    if (nthreads <= 0)
        nthreads = online_cores();
    if (nthreads > MAX_THREADS)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "thread pool: %d threads requested, at most %d",
                          nthreads, MAX_THREADS);
    qsim__pool *p = qsim__calloc(1, sizeof *p);
    if (!p)
        return qsim__oom();
    p->nthreads = nthreads;
    if (nthreads == 1) {
        *out = p;
        return QSIM_OK;
    }
    p->workers = qsim__calloc((size_t)nthreads - 1, sizeof *p->workers);
    if (!p->workers) {
        qsim__free(p);
        return qsim__oom();
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    atomic_init(&p->gen, 0);
    atomic_init(&p->next, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, 0);
    for (int i = 0; i < nthreads - 1; i++) {
        worker *w = &p->workers[i];
        w->pool = p;
        w->index = i + 1;
        int rc = pthread_create(&w->tid, NULL, worker_main, w);
        if (rc != 0) {
            qsim__pool_free(p);
            return qsim__fail(QSIM_ERR_OUT_OF_MEMORY,
                              "thread pool: could not start worker thread %d of %d (error %d)",
                              i + 1, nthreads - 1, rc);
        }
        p->nworkers++;
    }
    *out = p;
    return QSIM_OK;
}

void qsim__pool_free(qsim__pool *p)
{
    if (!p)
        return;
    if (p->nthreads > 1) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->stop, 1);
        pthread_cond_broadcast(&p->work_cv);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->nworkers; i++)
            pthread_join(p->workers[i].tid, NULL);
        pthread_cond_destroy(&p->work_cv);
        pthread_cond_destroy(&p->done_cv);
        pthread_mutex_destroy(&p->mu);
    }
    qsim__free(p->workers);
    qsim__free(p);
}

int qsim__pool_threads(const qsim__pool *p) { return p ? p->nthreads : 1; }

void qsim__pool_run(qsim__pool *p, size_t ntasks, qsim__task_fn fn, void *ctx)
{
    if (ntasks == 0)
        return;
    if (!p || p->nthreads == 1 || ntasks == 1) {
        for (size_t t = 0; t < ntasks; t++)
            fn(ctx, t, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->ntasks = ntasks;
    atomic_store_explicit(&p->next, 0, memory_order_relaxed);
    atomic_store_explicit(&p->pending, p->nworkers, memory_order_relaxed);
    /* seq_cst pairs with the sleepers increment in worker_main: either the
     * worker sees the new generation, or we see it sleeping and wake it */
    atomic_fetch_add(&p->gen, 1);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->work_cv);
        pthread_mutex_unlock(&p->mu);
    }
    run_tasks(p, 0);
    int spins = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0) {
        if (++spins < SPIN_DONE) {
            if (spins % YIELD_EVERY == 0)
                sched_yield();
            CPU_RELAX();
            continue;
        }
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->pending) != 0)
            pthread_cond_wait(&p->done_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}
