/* Throughput of the quantization kernels: per-tensor and per-channel QDQ,
 * the FP16 round trip, the min/max scan and the histogram update, on 1, 16
 * and 64 MiB float32 buffers. Prints Gelem/s and the implied memory
 * traffic (bytes read + written per second) of the fastest run within the
 * time budget. Usage: bench_quant [seconds per measurement, default 0.5]. */
#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/fp16.h"
#include "kernels/quant.h"
#include "quant/encoding.h"
#include "quant/stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct job {
    const char *name;
    int kind;  /* 0 qdq, 1 qdq per-channel, 2 fp16, 3 minmax, 4 hist, 5/6 qdq/fp16 pooled */
    int avx2;
    size_t bytes_per_elem;
} job;

static float *x, *y;
static qsim__qdq_params pt, pc[64];
static qsim__hist hist;
static volatile float sink;
static qsim__pool *pool;

static void run(const job *j, size_t n)
{
    float lo, hi;
    switch (j->kind) {
    case 0:
#ifdef QSIM_HAVE_AVX2
        if (j->avx2) {
            qsim__qdq_f32__avx2(x, y, n, &pt, QSIM__ROUND_HALF_AWAY);
            break;
        }
#endif
        qsim__qdq_f32__generic(x, y, n, &pt, QSIM__ROUND_HALF_AWAY);
        break;
    case 1:
        qsim__cpu_force_generic(!j->avx2);
        qsim__qdq_channels_f32(x, y, 1, 64, n / 64, pc, QSIM__ROUND_HALF_AWAY);
        qsim__cpu_force_generic(0);
        break;
    case 2:
#ifdef QSIM_HAVE_AVX2
        if (j->avx2) {
            qsim__fp16_qdq_f32__avx2(x, y, n);
            break;
        }
#endif
        qsim__fp16_qdq_f32__generic(x, y, n);
        break;
    case 3:
#ifdef QSIM_HAVE_AVX2
        if (j->avx2) {
            qsim__minmax_f32__avx2(x, n, &lo, &hi);
            sink = lo + hi;
            break;
        }
#endif
        qsim__minmax_f32__generic(x, n, &lo, &hi);
        sink = lo + hi;
        break;
    case 4:
        qsim__hist_update(&hist, x, n);
        break;
    default: {
        qsim__elem_job ej = {j->kind == 5 ? QSIM__ELEM_QDQ : QSIM__ELEM_FP16, x, y, n, &pt,
                              QSIM__ROUND_HALF_AWAY};
        qsim__pool_run(pool, qsim__elem_job_tasks(&ej), qsim__elem_job_run, &ej);
        break;
    }
    }
}

int main(int argc, char **argv)
{
    double budget = argc > 1 ? atof(argv[1]) : 0.5;
    const size_t sizes_mib[] = {1, 16, 64};
    size_t maxn = (64u << 20) / sizeof(float);
    x = aligned_alloc(64, maxn * sizeof(float));
    y = aligned_alloc(64, maxn * sizeof(float));
    if (!x || !y)
        return 1;
    unsigned s = 1;
    for (size_t i = 0; i < maxn; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = (float)((s >> 8) & 0xffff) / 8192.0f - 4.0f;
    }
    if (qsim__qdq_params_tensor(-3.0, 3.5, 8, &pt) != QSIM_OK)
        return 1;
    for (int c = 0; c < 64; c++) {
        qsim__encoding e;
        if (qsim__encoding_compute(8, -1.0 - c * 0.05, 1.0 + c * 0.03, QSIM__ENC_SYMMETRIC, &e))
            return 1;
        qsim__qdq_params_from_encoding(&e, &pc[c]);
    }
    qsim__hist_reset(&hist);
    qsim__hist_update(&hist, x, 4096);
    int have_avx2 = qsim__cpu_use_avx2();
    const job jobs[] = {
        {"qdq per-tensor  generic", 0, 0, 8}, {"qdq per-tensor  avx2", 0, 1, 8},
        {"qdq per-channel generic", 1, 0, 8}, {"qdq per-channel avx2", 1, 1, 8},
        {"fp16 round trip generic", 2, 0, 8}, {"fp16 round trip f16c", 2, 1, 8},
        {"min/max scan    generic", 3, 0, 4}, {"min/max scan    avx2", 3, 1, 4},
        {"histogram update", 4, 0, 4},
        {"qdq per-tensor  2 threads", 5, 1, 8}, {"fp16 round trip 2 threads", 6, 1, 8},
    };
    if (qsim__pool_create(2, &pool) != QSIM_OK)
        return 1;
    printf("%-26s %6s %10s %10s\n", "kernel", "MiB", "Gelem/s", "GB/s(r+w)");
    for (size_t k = 0; k < sizeof jobs / sizeof jobs[0]; k++) {
        if (jobs[k].avx2 && !have_avx2)
            continue;
        for (size_t m = 0; m < 3; m++) {
            size_t n = (sizes_mib[m] << 20) / sizeof(float);
            run(&jobs[k], n); /* warm up, fault in pages */
            /* Fastest single run within the time budget: on a shared,
             * oversubscribed machine the mean mostly measures preemption. */
            double best = 1e30, t_end = now() + budget;
            do {
                double t0 = now();
                run(&jobs[k], n);
                double t = now() - t0;
                if (t < best)
                    best = t;
            } while (now() < t_end);
            printf("%-26s %6zu %10.3f %10.2f\n", jobs[k].name, sizes_mib[m], (double)n / best * 1e-9,
                   (double)n * (double)jobs[k].bytes_per_elem / best * 1e-9);
        }
    }
    qsim__pool_free(pool);
    free(x);
    free(y);
    return 0;
}
