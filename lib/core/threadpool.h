/* A small pthread pool that only runs kernels. Work is split into tasks
 * whose boundaries never depend on the thread count, and reductions happen
 * in task order, so results are identical for any number of threads. */
#ifndef QSIM_CORE_THREADPOOL_H
#define QSIM_CORE_THREADPOOL_H

#include <qsim/qsim.h>
#include <stddef.h>

typedef struct qsim__pool qsim__pool;

/* nthreads <= 0: one per online core. 1: no worker threads at all. */
qsim_status qsim__pool_create(int nthreads, qsim__pool **out);
void qsim__pool_free(qsim__pool *p);
/* Threads that run tasks, the caller included; 1 for a NULL pool. */
int qsim__pool_threads(const qsim__pool *p);

/* fn(ctx, task, thread) for every task in [0, ntasks), spread over the
 * pool's threads (the caller takes part); returns when all have finished.
 * `thread` is in [0, qsim__pool_threads(p)) and lets a task pick a per-thread
 * scratch slice. A NULL pool or ntasks == 1 runs inline. Not reentrant. */
typedef void (*qsim__task_fn)(void *ctx, size_t task, int thread);
void qsim__pool_run(qsim__pool *p, size_t ntasks, qsim__task_fn fn, void *ctx);

#endif
