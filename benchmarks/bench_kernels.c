/* Kernel benchmark: FP32 GEMM GFLOP/s (square and resnet-like shapes) and
 * every resnet18 conv layer at batch 1 and 8, at 1 and 2 threads.
 * Usage: bench_kernels [-q] [-g] [-c] [-d] [-P] [-p path] [-t threads] [-l layer] ; -g pins the
 * generic kernels, -p 1|2 forces the conv path (1 im2col/GEMM, 2 direct; default per shape),
 * -d runs only the MobileNetV2 depthwise and 1x1 layers, -P only the pools,
 * -q runs only the resnet18 sum, -c times CPU instead of wall time (only
 * meaningful with -t 1: spinning threads count too). Best of several runs (the machine is shared). */
#include "core/alloc.h"
#include "core/cpu.h"
#include "core/threadpool.h"
#include "kernels/conv.h"
#include "kernels/conv_impl.h"
#include "kernels/gemm.h"
#include "ops/op.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* GFLOP/s of one core's FMA units, measured at start (fma_peak); 96 = 2 x
 * 256-bit FMA per cycle at 3 GHz where it cannot be measured */
static double peak_per_core = 96.0;

static clockid_t clock_id = CLOCK_MONOTONIC;
static const char *only;   /* -l: layers whose name contains this */

static double now(void)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float *rand_buf(size_t n)
{
    float *p = qsim__malloc_aligned(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    unsigned s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (float)((s >> 9) & 0xffff) / 65536.0f - 0.5f;
    }
    return p;
}

/* Best time of `reps` runs after one warm-up, with at least ~0.2 s total. */
typedef void (*bench_fn)(void *ctx);
static double best_time(bench_fn fn, void *ctx)
{
    fn(ctx);
    double best = 1e30, start = now();
    for (int r = 0; r < 50; r++) {
        double t0 = now();
        fn(ctx);
        double t = now() - t0;
        if (t < best)
            best = t;
        if (r >= 3 && now() - start > 0.3)
            break;
    }
    return best;
}

typedef struct gemm_ctx {
    qsim__pool *pool;
    size_t M, N, K;
    float *A, *B, *C;
    qsim__packed_b *pb;
} gemm_ctx;

static void run_gemm(void *p)
{
    gemm_ctx *g = p;
    qsim__sgemm(g->pool, 0, 0, g->M, g->N, g->K, 1.0f, g->A, g->K, g->B, g->N, 0.0f, g->C, g->N,
                NULL, 0, NULL);
}

static void run_gemm_packed(void *p)
{
    gemm_ctx *g = p;
    qsim__sgemm_packed(g->pool, 0, g->M, g->A, g->K, g->pb, g->C, g->N, NULL, NULL);
}

static void bench_gemm(qsim__pool *pool, size_t M, size_t N, size_t K)
{
    gemm_ctx g = {pool, M, N, K, rand_buf(M * K), rand_buf(K * N), rand_buf(M * N), NULL};
    if (qsim__pack_b(0, K, N, g.B, N, &g.pb) != QSIM_OK)
        exit(1);
    double t = best_time(run_gemm, &g), tp = best_time(run_gemm_packed, &g);
    double fl = 2.0 * (double)M * (double)N * (double)K * 1e-9;
    int th = qsim__pool_threads(pool);
    printf("gemm %5zu x %5zu x %5zu  %d thr: %7.1f GFLOP/s (%4.0f%% peak), packed B %7.1f\n", M,
           N, K, th, fl / t, 100.0 * fl / t / (peak_per_core * th), fl / tp);
    qsim__packed_b_free(g.pb);
    qsim__free_aligned(g.A);
    qsim__free_aligned(g.B);
    qsim__free_aligned(g.C);
}

typedef struct layer {
    const char *name;
    int64_t C, M, H, k, s, p;
    int count;   /* occurrences in resnet18 */
} layer;

static const layer resnet18[] = {
    {"conv1 7x7/2", 3, 64, 224, 7, 2, 3, 1},
    {"l1 3x3 64", 64, 64, 56, 3, 1, 1, 4},
    {"l2 3x3/2 64-128", 64, 128, 56, 3, 2, 1, 1},
    {"l2 3x3 128", 128, 128, 28, 3, 1, 1, 3},
    {"l2 ds 1x1/2", 64, 128, 56, 1, 2, 0, 1},
    {"l3 3x3/2 128-256", 128, 256, 28, 3, 2, 1, 1},
    {"l3 3x3 256", 256, 256, 14, 3, 1, 1, 3},
    {"l3 ds 1x1/2", 128, 256, 28, 1, 2, 0, 1},
    {"l4 3x3/2 256-512", 256, 512, 14, 3, 2, 1, 1},
    {"l4 3x3 512", 512, 512, 7, 3, 1, 1, 3},
    {"l4 ds 1x1/2", 256, 512, 14, 1, 2, 0, 1},
    {"1x1 s1 256-64", 256, 64, 56, 1, 1, 0, 0},   /* resnet50-like, not in the sum */
};

/* MobileNetV2 1x1 convs (expansion, projection), not in the resnet sum. */
static const layer mobilenet_1x1[] = {
    {"mb stem 3x3/2 3-32", 3, 32, 224, 3, 2, 1, 1},   /* not 1x1: the first conv */
    {"mb dw-proj 32-16 112", 32, 16, 112, 1, 1, 0, 1},
    {"mb exp 16-96 112", 16, 96, 112, 1, 1, 0, 1},
    {"mb proj 96-24 56", 96, 24, 56, 1, 1, 0, 1},
    {"mb exp 24-144 56", 24, 144, 56, 1, 1, 0, 1},
    {"mb proj 144-24 56", 144, 24, 56, 1, 1, 0, 1},
    {"mb proj 144-32 28", 144, 32, 28, 1, 1, 0, 1},
    {"mb exp 64-384 14", 64, 384, 14, 1, 1, 0, 1},
    {"mb proj 576-96 14", 576, 96, 14, 1, 1, 0, 1},
    {"mb exp 160-960 7", 160, 960, 7, 1, 1, 0, 1},
    {"mb proj 960-320 7", 960, 320, 7, 1, 1, 0, 1},
    {"mb last 320-1280 7", 320, 1280, 7, 1, 1, 0, 1},
};

typedef struct conv_ctx {
    qsim__conv *c;
    qsim__pool *pool;
    float *x, *y;
    void *ws;
    int64_t N, H;
} conv_ctx;

static void run_conv(void *p)
{
    conv_ctx *c = p;
    qsim__conv_run(c->c, c->pool, c->x, c->N, c->H, c->H, c->y, c->ws);
}

static double bench_conv(qsim__pool *pool, const layer *l, int64_t N, int print)
{
    qsim__conv_desc d = {.C = l->C, .M = l->M, .group = 1, .kh = l->k, .kw = l->k, .sh = l->s,
                         .sw = l->s, .dh = 1, .dw = 1, .pt = l->p, .pl = l->p, .pb = l->p,
                         .pr = l->p};
    float *w = rand_buf((size_t)(l->M * l->C * l->k * l->k)), *b = rand_buf((size_t)l->M);
    qsim__epilogue relu = {QSIM__ACT_RELU, 0, 0};
    conv_ctx c = {NULL, pool, NULL, NULL, NULL, N, l->H};
    if (qsim__conv_create(&d, w, b, &relu, &c.c) != QSIM_OK)
        exit(1);
    int64_t OH, OW;
    qsim__conv_out_size(&d, l->H, l->H, &OH, &OW);
    c.x = rand_buf((size_t)(N * l->C * l->H * l->H));
    c.y = rand_buf((size_t)(N * l->M * OH * OW));
    size_t wsb = qsim__conv_workspace(c.c, N, l->H, l->H, pool);
    c.ws = wsb ? qsim__malloc_aligned(wsb) : NULL;
    double t = best_time(run_conv, &c);
    double fl = 2.0 * (double)(N * l->M * OH * OW) * (double)(l->C * l->k * l->k) * 1e-9;
    if (print)
        printf("  %-18s N=%d %d thr: %7.3f ms  %6.1f GFLOP/s  (ws %zu KiB)\n", l->name, (int)N,
               qsim__pool_threads(pool), t * 1e3, fl / t, wsb >> 10);
    qsim__conv_free(c.c);
    qsim__free_aligned(c.ws);
    qsim__free_aligned(c.x);
    qsim__free_aligned(c.y);
    qsim__free_aligned(w);
    qsim__free_aligned(b);
    return t;
}

typedef struct dwlayer {
    int64_t C, H, s;
} dwlayer;

/* MobileNetV2-like depthwise 3x3 layers at batch N. */
static void bench_depthwise(qsim__pool *pool, int64_t N)
{
    static const dwlayer dws[] = {{32, 112, 1}, {96, 112, 2}, {144, 56, 1}, {144, 56, 2},
                                  {192, 28, 1}, {384, 14, 1}, {960, 7, 1},
                                  {192, 28, 2}, {576, 14, 2}};
    for (size_t i = 0; i < sizeof dws / sizeof *dws; i++) {
        const dwlayer *l = &dws[i];
        qsim__conv_desc d = {.C = l->C, .M = l->C, .group = l->C, .kh = 3, .kw = 3, .sh = l->s,
                             .sw = l->s, .dh = 1, .dw = 1, .pt = 1, .pl = 1, .pb = 1, .pr = 1};
        float *w = rand_buf((size_t)(l->C * 9)), *b = rand_buf((size_t)l->C);
        qsim__epilogue relu6 = {QSIM__ACT_CLIP, 0, 6};
        int64_t OH, OW;
        conv_ctx c = {NULL, pool, NULL, NULL, NULL, N, l->H};
        if (qsim__conv_create(&d, w, b, &relu6, &c.c) != QSIM_OK)
            exit(1);
        qsim__conv_out_size(&d, l->H, l->H, &OH, &OW);
        c.x = rand_buf((size_t)(N * l->C * l->H * l->H));
        c.y = rand_buf((size_t)(N * l->C * OH * OW));
        double t = best_time(run_conv, &c);
        double bytes = 4.0 * (double)(N * l->C) * (double)(l->H * l->H + OH * OW);
        printf("  dw3x3/%d C=%-4d %3dx%-3d N=%d %d thr: %7.3f ms  %6.1f GFLOP/s  %5.1f GB/s\n",
               (int)l->s, (int)l->C, (int)l->H, (int)l->H, (int)N, qsim__pool_threads(pool),
               t * 1e3,
               18.0 * (double)(N * l->C * OH * OW) * 1e-9 / t, bytes * 1e-9 / t);
        qsim__conv_free(c.c);
        qsim__free_aligned(c.x);
        qsim__free_aligned(c.y);
        qsim__free_aligned(w);
        qsim__free_aligned(b);
    }
}

/* Pools through the op (lib/ops/pool.c) on resnet18/mobilenet shapes. */
typedef struct poolcase {
    const char *op;
    int64_t C, H, k, s, p;
} poolcase;

typedef struct pool_ctx {
    const qsim__op_desc *op;
    qsim__node *n;
    qsim__tview *in, *out;
    qsim__exec ex;
} pool_ctx;

static void run_pool(void *ctx)
{
    pool_ctx *c = ctx;
    if (c->op->run(NULL, c->n, &c->ex, c->in, 1, c->out, 1) != QSIM_OK)
        exit(1);
}

static void bench_pools(qsim__pool *pool)
{
    static const poolcase cases[] = {{"MaxPool", 64, 112, 3, 2, 1},
                                     {"MaxPool", 64, 56, 2, 2, 0},
                                     {"AveragePool", 64, 56, 3, 1, 1},
                                     {"GlobalAveragePool", 512, 7, 0, 0, 0},
                                     {"GlobalAveragePool", 1280, 7, 0, 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const poolcase *pc = &cases[i];
        int64_t N = 8, k[2] = {pc->k, pc->k}, st[2] = {pc->s, pc->s};
        int64_t pads[4] = {pc->p, pc->p, pc->p, pc->p};
        qsim__attr at[3] = {{.name = "kernel_shape", .type = QSIM__ATTR_INTS, .n = 2, .ints = k},
                            {.name = "strides", .type = QSIM__ATTR_INTS, .n = 2, .ints = st},
                            {.name = "pads", .type = QSIM__ATTR_INTS, .n = 4, .ints = pads}};
        int32_t ins[1] = {0}, outs[1] = {1};
        qsim__node n = {.name = "bench", .op_type = (char *)pc->op, .domain = "", .opset = 13,
                        .n_inputs = 1, .inputs = ins, .n_outputs = 1, .outputs = outs,
                        .n_attrs = pc->k ? 3 : 0, .attrs = at};
        const qsim__op_desc *op = qsim__op_lookup("", pc->op);
        qsim__tview in = {.dtype = QSIM__DT_FLOAT, .shape = {.rank = 4,
                          .dims = {N, pc->C, pc->H, pc->H}}}, out;
        in.numel = (size_t)(N * pc->C * pc->H * pc->H);
        size_t ws = 0;
        void *state = NULL;
        if (!op || op->init(&n, &in, 1, &state) != QSIM_OK ||
            op->infer(state, &n, &in, 1, &out, 1, &ws) != QSIM_OK) {
            fprintf(stderr, "%s: %s\n", pc->op, qsim_last_error());
            exit(1);
        }
        in.data = rand_buf(in.numel);
        out.data = rand_buf(out.numel);
        pool_ctx c = {op, &n, &in, &out, {pool, ws ? qsim__malloc_aligned(ws) : NULL}};
        double t = best_time(run_pool, &c);
        double bytes = 4.0 * (double)(in.numel + out.numel);
        printf("  %-17s %lldx%lld/%lld [8,%lld,%lld,%lld] %d thr: %7.3f ms  %5.1f GB/s\n", pc->op,
               (long long)pc->k, (long long)pc->k, (long long)pc->s, (long long)pc->C,
               (long long)pc->H, (long long)pc->H, qsim__pool_threads(pool), t * 1e3,
               bytes * 1e-9 / t);
        op->free_state(state);
        qsim__free_aligned(c.ex.workspace);
        qsim__free_aligned(in.data);
        qsim__free_aligned(out.data);
    }
}

static void resnet_sum(qsim__pool *pool, int64_t N, int print)
{
    double total = 0, flops = 0;
    for (size_t i = 0; i < sizeof resnet18 / sizeof *resnet18; i++) {
        const layer *l = &resnet18[i];
        if (only && !strstr(l->name, only))
            continue;
        double t = bench_conv(pool, l, N, print);
        int64_t OH = (l->H + 2 * l->p - l->k) / l->s + 1;
        total += t * l->count;
        flops += 2.0 * (double)(N * l->M * OH * OH) * (double)(l->C * l->k * l->k) * l->count;
    }
    printf("resnet18 convs N=%d %d thr: %.2f ms, %.1f GFLOP/s (%.1f%% of peak)\n", (int)N,
           qsim__pool_threads(pool), total * 1e3, flops * 1e-9 / total,
           100.0 * flops * 1e-9 / total / (peak_per_core * qsim__pool_threads(pool)));
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
/* 12 independent FMA chains (more than latency x ports) for ~0.2 s: the
 * core's FMA throughput at the clock it runs under load. */
__attribute__((target("avx2,fma"))) static double fma_peak(void)
{
    /* distinct starts, or the compiler folds the identical chains into one */
    __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(0.1f), a2 = _mm256_set1_ps(0.2f);
    __m256 a3 = _mm256_set1_ps(0.3f), a4 = _mm256_set1_ps(0.4f), a5 = _mm256_set1_ps(0.5f);
    __m256 a6 = _mm256_set1_ps(0.6f), a7 = _mm256_set1_ps(0.7f), a8 = _mm256_set1_ps(0.8f);
    __m256 a9 = _mm256_set1_ps(0.9f), a10 = _mm256_set1_ps(1.0f), a11 = _mm256_set1_ps(1.1f);
    const __m256 m = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(0.001f);
    const long iters = 20000000;
    double t0 = now();
    for (long k = 0; k < iters; k++) {
        a0 = _mm256_fmadd_ps(a0, m, c), a1 = _mm256_fmadd_ps(a1, m, c);
        a2 = _mm256_fmadd_ps(a2, m, c), a3 = _mm256_fmadd_ps(a3, m, c);
        a4 = _mm256_fmadd_ps(a4, m, c), a5 = _mm256_fmadd_ps(a5, m, c);
        a6 = _mm256_fmadd_ps(a6, m, c), a7 = _mm256_fmadd_ps(a7, m, c);
        a8 = _mm256_fmadd_ps(a8, m, c), a9 = _mm256_fmadd_ps(a9, m, c);
        a10 = _mm256_fmadd_ps(a10, m, c), a11 = _mm256_fmadd_ps(a11, m, c);
        __asm__ volatile("" ::"x"(a0), "x"(a6));
    }
    double t = now() - t0;
    __m256 sum = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                               _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
    sum = _mm256_add_ps(sum, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
    float out[8];
    _mm256_storeu_ps(out, sum);
    return out[0] > 0.0f && t > 0.0 ? (double)iters * 12 * 16 / t * 1e-9 : 0.0;
}
#endif

int main(int argc, char **argv)
{
    int quick = 0, dw_only = 0, pool_only = 0, threads[2] = {1, 2}, nth = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-q"))
            quick = 1;
        else if (!strcmp(argv[i], "-c"))
            clock_id = CLOCK_PROCESS_CPUTIME_ID;   /* 1 thread on a busy machine */
        else if (!strcmp(argv[i], "-d"))
            dw_only = 1;   /* only the MobileNetV2 layers (depthwise, 1x1) */
        else if (!strcmp(argv[i], "-P"))
            pool_only = 1;
        else if (!strcmp(argv[i], "-g"))
            qsim__cpu_force_generic(1);
        else if (!strcmp(argv[i], "-p") && i + 1 < argc)
            qsim__conv_force_path(atoi(argv[++i]));
        else if (!strcmp(argv[i], "-l") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) {
            threads[0] = atoi(argv[++i]);
            nth = 1;
        }
    }
#if defined(__x86_64__) || defined(__i386__)
    if (qsim__cpu_use_avx2()) {
        clockid_t keep = clock_id;
        clock_id = CLOCK_MONOTONIC;
        double p = fma_peak();
        clock_id = keep;
        if (p > 0.0)
            peak_per_core = p;
    }
#endif
    printf("kernels: %s, FMA peak %.1f GFLOP/s per core (%s)\n", qsim__kernels_isa(),
           peak_per_core, peak_per_core == 96.0 ? "assumed" : "measured");
    for (int ti = 0; ti < nth; ti++) {
        qsim__pool *pool = NULL;
        if (qsim__pool_create(threads[ti], &pool) != QSIM_OK)
            return 1;
        if (pool_only) {
            bench_pools(pool);
            qsim__pool_free(pool);
            continue;
        }
        if (dw_only) {
            bench_depthwise(pool, 8);
            bench_depthwise(pool, 1);
            for (size_t i = 0; i < sizeof mobilenet_1x1 / sizeof *mobilenet_1x1; i++)
                for (int64_t n = 1; n <= 8; n += 7)
                    bench_conv(pool, &mobilenet_1x1[i], n, 1);
            qsim__pool_free(pool);
            continue;
        }
        if (!quick) {
            bench_gemm(pool, 256, 256, 256);
            bench_gemm(pool, 512, 512, 512);
            bench_gemm(pool, 1024, 1024, 1024);
            bench_gemm(pool, 64, 3136, 576);
            bench_gemm(pool, 256, 196, 2304);
            bench_gemm(pool, 512, 49, 4608);
            bench_gemm(pool, 8, 1000, 512);
            bench_depthwise(pool, 8);
            bench_pools(pool);
        }
        resnet_sum(pool, 1, !quick);
        resnet_sum(pool, 8, !quick);
        qsim__pool_free(pool);
    }
    return 0;
}
