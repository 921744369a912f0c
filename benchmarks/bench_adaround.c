/* AdaRound inner loop: seconds per Adam step and GFLOP/s of its GEMMs for a
 * few layer shapes, direct (32-sample minibatch) and Gram formulations,
 * next to the plain sgemm rate of the direct forward product. Not a test.
 *   nice ./benchmarks/bench_adaround [iterations] */
#include "adaround/layer.h"
#include "adaround/params.h"
#include "kernels/gemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) & 0xffff) / 65536.0f - 0.5f;
}

typedef struct shape {
    const char *name;
    int conv;
    int64_t cin, cout, hw, k; /* conv: channels, spatial, kernel; rows: cin = K, cout = N */
    size_t samples;
} shape;

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 100;
    const shape shapes[] = {
        {"conv 16->32 3x3 14x14", 1, 16, 32, 14, 3, 256},
        {"conv 64->64 3x3 28x28", 1, 64, 64, 28, 3, 64},
        {"conv 128->128 1x1 14x14", 1, 128, 128, 14, 1, 64},
        {"gemm 512->512", 0, 512, 512, 0, 0, 1024},
        {"gemm 3136->10", 0, 3136, 10, 0, 0, 1024},
    };
    qsim__pool *pool = NULL;
    if (qsim__pool_create(0, &pool) != QSIM_OK)
        return 1;
    printf("isa %s, %d threads, %d iterations\n", qsim__kernels_isa(), qsim__pool_threads(pool),
           iters);
    unsigned seed = 1;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const shape *sh = &shapes[si];
        qsim__ada_view v;
        int64_t s1[2] = {1, 1}, pads[4] = {sh->k / 2, sh->k / 2, sh->k / 2, sh->k / 2};
        if (sh->conv)
            qsim__ada_view_conv(&v, sh->cin, sh->hw, sh->hw, sh->cout, 1, sh->k, sh->k, s1, s1, pads);
        else
            qsim__ada_view_rows(&v, 1, (size_t)sh->cin, (size_t)sh->cout, 1, 1.0);
        qsim__ada_data d;
        if (qsim__ada_data_init(&d, &v, sh->samples) != QSIM_OK)
            return 1;
        float *x = malloc(d.xsz * sizeof *x), *y = malloc(d.ysz * sizeof *y);
        for (size_t s = 0; s < sh->samples; s++) {
            for (size_t i = 0; i < d.xsz; i++)
                x[i] = frand(&seed);
            for (size_t i = 0; i < d.ysz; i++)
                y[i] = frand(&seed);
            qsim__ada_data_add(&d, &v, x, y);
        }
        size_t N = v.n, nw = N * v.k;
        float *w = malloc(nw * sizeof *w), *w2 = malloc(nw * sizeof *w2);
        for (size_t i = 0; i < nw; i++)
            w[i] = frand(&seed) * 0.2f;
        qsim__encoding e = {-0.1, 0.1, 0.2 / 15, -7, 4};
        qsim__ada_layer L = {.view = v, .enc = &e, .nenc = 1, .out_scale = 1.0f};
        qsim_adaround_params p;
        qsim__adaround_params_default(&p);
        p.num_iterations = iters;
        /* plain sgemm of the direct forward shape */
        size_t BP = 32 * v.rows;
        float *A = malloc(BP * v.k * sizeof *A), *C = malloc(BP * N * sizeof *C);
        for (size_t i = 0; i < BP * v.k; i++)
            A[i] = frand(&seed);
        double t0 = now_s();
        int reps = 0;
        do {
            qsim__sgemm(pool, 0, 1, BP, N, v.k, 1.0f, A, v.k, w, v.k, 0.0f, C, N, NULL, 0, NULL);
            reps++;
        } while (now_s() - t0 < 0.3);
        double gemm_rate = 2.0 * (double)BP * (double)N * (double)v.k * reps / (now_s() - t0) * 1e-9;
        printf("%-24s k=%-5zu n=%-4zu rows/sample=%-4zu  sgemm %6.1f GFLOP/s\n", sh->name, v.k,
               N, v.rows, gemm_rate);
        for (int f = 1; f <= 2; f++) {
            p.formulation = f;
            for (size_t i = 0; i < nw; i++)
                w2[i] = w[i];
            qsim__ada_result r = {0};
            double t1 = now_s();
            if (qsim__ada_optimize(pool, &L, &d, &p, w2, NULL, &r, NULL, NULL) != QSIM_OK)
                return 1;
            double tot = now_s() - t1, sec = r.seconds - r.setup_seconds;
            printf("    %-6s %8.3f ms/iter  %6.1f GFLOP/s  (10000 iterations: %7.1f s, total "
                   "incl. setup %.2f s)\n",
                   f == 1 ? "direct" : "gram", sec / iters * 1e3,
                   r.flops_iter * iters / sec * 1e-9, sec / iters * 1e4 + r.setup_seconds, tot);
        }
        free(A), free(C), free(w), free(w2), free(x), free(y);
        qsim__ada_data_free(&d);
    }
    qsim__pool_free(pool);
    return 0;
}
