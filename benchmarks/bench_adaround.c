/* AdaRound inner loop benchmark (not a test).
 *
 *   nice ./benchmarks/bench_adaround [iterations]
 *     a few synthetic layer shapes, direct (32-sample minibatch) and Gram,
 *     next to the plain sgemm rate of the direct forward product.
 *   nice ./benchmarks/bench_adaround [-t threads] [-s samples] [-i iters]
 *         [-b seconds] [-d] [-l layer] MODEL.onnx
 *     every Conv/ConvTranspose/Gemm/MatMul of the model (e.g. resnet18 from
 *     gen_bench_models.py) on `samples` random-normal images (default 64;
 *     layer inputs and FP32 targets captured in one forward pass), 4-bit
 *     per-channel min-max encodings, the formulation FORMULATION 0 picks:
 *     per layer the GEMM FLOPs of one step, the time of `iters` (default
 *     1000) steps, the inner loop's GFLOP/s and the rate qsim__sgemm reaches
 *     on the same products (same M/N/K, transposes and strides) alone. Layers
 *     whose steps would exceed the budget (-b, default 4 s) run fewer steps
 *     (same warm-start fraction) and are scaled, marked '*'. -d adds the
 *     direct formulation for layers where Gram was chosen (what a loss
 *     activation would force). */
#include "adaround/layer.h"
#include "adaround/node.h"
#include "adaround/params.h"
#include "kernels/gemm.h"
#include "sim/sim_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int model_main(int argc, char **argv);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strstr(argv[i], ".onnx"))
            return model_main(argc, argv);
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

/* ---- whole-model mode ---------------------------------------------------- */

typedef struct vcap {
    size_t per, count, cap; /* floats per sample, samples held */
    float *data;
    qsim__shape shape;      /* first batch's shape */
} vcap;

static qsim_status cap_hook(void *ctx, qsim_sim *s, int32_t value, qsim__tview *t)
{
    (void)s;
    (void)value;
    vcap *c = ctx;
    if (t->dtype != QSIM__DT_FLOAT || t->shape.rank < 1)
        return QSIM_OK;
    size_t B = (size_t)t->shape.dims[0];
    if (!c->data) {
        c->per = t->numel / B;
        c->shape = t->shape;
        c->data = malloc(c->per * c->cap * sizeof(float));
        if (!c->data)
            return QSIM_ERR_OUT_OF_MEMORY;
    }
    for (size_t b = 0; b < B && c->count < c->cap; b++, c->count++)
        memcpy(c->data + c->count * c->per, (const float *)t->data + b * c->per,
               c->per * sizeof(float));
    return QSIM_OK;
}

/* Mean seconds per call over at least `budget` seconds (the mean, like the
 * optimiser's own figure, so a loaded machine slows both alike). */
typedef struct gemm_job {
    qsim__pool *pool;
    const qsim__ada_view *v;
    int form;
    size_t BP;
    float *X, *W, *Y, *G;
} gemm_job;

static void run_gemms(const gemm_job *j)
{
    const qsim__ada_view *v = j->v;
    size_t n = v->n, k = v->k, N = v->groups * n, K = v->groups * k;
    for (size_t g = 0; g < v->groups; g++) {
        if (j->form == QSIM__ADA_FORM_GRAM) {
            qsim__sgemm(j->pool, 0, 0, n, k, k, 1.0f, j->W + g * n * k, k, j->G + g * k * k, k,
                        0.0f, j->Y + g * n * k, k, NULL, 0, NULL);
        } else {
            qsim__sgemm(j->pool, 0, 1, j->BP, n, k, 1.0f, j->X + g * k, K, j->W + g * n * k, k,
                        0.0f, j->Y + g * n, N, NULL, 0, NULL);
            qsim__sgemm(j->pool, 1, 0, n, k, j->BP, 1.0f, j->Y + g * n, N, j->X + g * k, K, 0.0f,
                        j->G + g * n * k, k, NULL, 0, NULL);
        }
    }
}

static double gemm_seconds(const gemm_job *j, double budget)
{
    run_gemms(j); /* warm-up */
    double t0 = now_s();
    int reps = 0;
    do {
        run_gemms(j);
        reps++;
    } while (reps < 3 || (now_s() - t0 < budget && reps < 1000));
    return (now_s() - t0) / reps;
}

static float randn(unsigned long long *s)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        *s = *s * 6364136223846793005ull + 1442695040888963407ull;
        u[i] = ((double)(*s >> 11) + 0.5) / 9007199254740992.0;
    }
    return (float)(sqrt(-2.0 * log(u[0])) * cos(6.283185307179586 * u[1]));
}

static void shape_str(const qsim__ada_view *v, const qsim__node *n, char *buf, size_t len)
{
    if (v->kind == QSIM__ADA_CONV)
        snprintf(buf, len, "%lld>%zu %lldx%lld/%lld%s %lldx%lld", (long long)v->c,
                 v->groups * v->n, (long long)v->kh, (long long)v->kw,
                 (long long)(v->uh > 1 ? v->uh : v->sh), v->groups > 1 ? "g" : "",
                 (long long)v->oh, (long long)v->ow);
    else
        snprintf(buf, len, "%s %zu>%zu", n->op_type, v->k, v->n);
}

typedef struct opts {
    int threads, direct_too;
    size_t samples;
    int64_t iters;
    double budget;
    const char *only;
} opts;

/* One formulation of one layer: prints a table row; returns seconds. */
static double bench_layer(qsim__pool *pool, const opts *o, const qsim__ada_layer *L,
                          const qsim__ada_data *d, const float *wmat, int form, const char *name,
                          const char *shp, double *tot_gemm, double *setup)
{
    const qsim__ada_view *v = &L->view;
    size_t N = v->groups * v->n, nw = N * v->k;
    float *w = malloc(nw * sizeof *w);
    qsim_adaround_params p;
    qsim__adaround_params_default(&p);
    p.formulation = form;
    p.num_iterations = 2;
    p.lr = 1e-3;
    memcpy(w, wmat, nw * sizeof *w);
    qsim__ada_result r = {0};
    if (qsim__ada_optimize(pool, L, d, &p, w, NULL, &r, NULL, NULL) != QSIM_OK) {
        fprintf(stderr, "%s: %s\n", name, qsim_last_error());
        free(w);
        return 0.0;
    }
    double per = (r.seconds - r.setup_seconds) / 2;
    int64_t it = o->iters;
    int scaled = 0;
    if (per * (double)it > o->budget) {
        it = (int64_t)(o->budget / per);
        it = it < 5 ? 5 : it;
        scaled = it < o->iters;
    }
    p.num_iterations = it;
    memcpy(w, wmat, nw * sizeof *w);
    if (qsim__ada_optimize(pool, L, d, &p, w, NULL, &r, NULL, NULL) != QSIM_OK) {
        fprintf(stderr, "%s: %s\n", name, qsim_last_error());
        free(w);
        return 0.0;
    }
    double loop = (r.seconds - r.setup_seconds) / (double)it;
    double rate = r.flops_iter / loop * 1e-9;
    /* the same GEMMs alone */
    size_t B = (size_t)p.batch_size < d->count ? (size_t)p.batch_size : d->count;
    size_t BP = B * v->rows, K = v->groups * v->k;
    gemm_job gj = {pool, v, r.formulation, BP, NULL, w, NULL, NULL};
    int gram = r.formulation == QSIM__ADA_FORM_GRAM;
    size_t xn = gram ? 1 : BP * K, yn = gram ? nw : BP * N, gn = gram ? v->groups * v->k * v->k : nw;
    gj.X = malloc(xn * sizeof(float));
    gj.Y = malloc(yn * sizeof(float));
    gj.G = malloc(gn * sizeof(float));
    unsigned long long sd = 7;
    for (size_t i = 0; i < xn; i++)
        gj.X[i] = randn(&sd);
    for (size_t i = 0; i < gn; i++)
        gj.G[i] = randn(&sd);
    double gs = gemm_seconds(&gj, 0.3);
    double grate = r.flops_iter / gs * 1e-9;
    *tot_gemm += gs * (double)o->iters;
    double t1000 = loop * (double)o->iters;
    *setup = r.setup_seconds;
    printf("| %-22s | %-22s | %-6s | %8.3f | %8.2f%s | %6.2f | %6.1f | %6.1f | %4.0f%% |\n", name,
           shp, gram ? "Gram" : "direct", r.flops_iter * 1e-9, t1000, scaled ? "*" : " ",
           r.setup_seconds, rate, grate, 100.0 * rate / grate);
    fflush(stdout);
    free(gj.X), free(gj.Y), free(gj.G), free(w);
    return t1000 + r.setup_seconds;
}

static int model_main(int argc, char **argv)
{
    opts o = {2, 0, 64, 1000, 4.0, NULL};
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") && i + 1 < argc)
            o.threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-s") && i + 1 < argc)
            o.samples = (size_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "-i") && i + 1 < argc)
            o.iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-b") && i + 1 < argc)
            o.budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "-l") && i + 1 < argc)
            o.only = argv[++i];
        else if (!strcmp(argv[i], "-d"))
            o.direct_too = 1;
        else
            path = argv[i];
    }
    qsim_model *m = NULL;
    qsim_sim *s = NULL;
    qsim_sim_options *so = NULL;
    if (qsim_model_load(path, &m) != QSIM_OK || qsim_sim_options_create(&so) != QSIM_OK ||
        qsim_sim_options_set_int(so, QSIM_OPT_NUM_THREADS, o.threads) != QSIM_OK ||
        qsim_sim_create(m, so, &s) != QSIM_OK) {
        fprintf(stderr, "%s: %s\n", path, qsim_last_error());
        return 1;
    }
    qsim_sim_options_free(so);
    for (size_t i = 0; i < qsim_quantizer_count(s); i++)
        qsim_quantizer_set_enabled(qsim_quantizer_at(s, i), 0);
    const qsim__graph *g = s->g;
    /* the layers and one capture per distinct value */
    vcap *caps = calloc(g->n_values, sizeof *caps);
    int32_t *layers = calloc(g->n_nodes, sizeof *layers);
    size_t nl = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        if (!qsim__ada_op_of(n) || n->n_inputs < 2 || n->inputs[1] < 0 ||
            !qsim__sim_constant(s, n->inputs[1]))
            continue;
        if (o.only && !strstr(n->name, o.only))
            continue;
        layers[nl++] = (int32_t)i;
        int32_t vs[2] = {n->inputs[0], n->outputs[0]};
        for (int k = 0; k < 2; k++)
            if (!caps[vs[k]].cap) {
                caps[vs[k]].cap = o.samples;
                qsim__sim_set_hook(s, vs[k], cap_hook, &caps[vs[k]]);
            }
    }
    /* random-normal images through the FP32 model */
    const qsim__value *in = &g->values[g->inputs[0]];
    size_t per = 1;
    int64_t ishape[QSIM__MAX_RANK];
    for (int a = 0; a < in->rank; a++) {
        ishape[a] = in->dims[a] > 0 ? in->dims[a] : 1;
        if (a)
            per *= (size_t)ishape[a];
    }
    size_t bs = 16;
    float *x = malloc(bs * per * sizeof *x);
    unsigned long long sd = 1;
    double t0 = now_s();
    for (size_t done = 0; done < o.samples; done += bs) {
        ishape[0] = (int64_t)(o.samples - done < bs ? o.samples - done : bs);
        for (size_t i = 0; i < (size_t)ishape[0] * per; i++)
            x[i] = randn(&sd);
        if (qsim_sim_set_input(s, in->name, x, ishape, (size_t)in->rank) != QSIM_OK ||
            qsim_sim_run(s) != QSIM_OK) {
            fprintf(stderr, "run: %s\n", qsim_last_error());
            return 1;
        }
    }
    free(x);
    qsim__pool *pool = NULL;
    if (qsim__pool_create(o.threads, &pool) != QSIM_OK)
        return 1;
    printf("%s: %zu layers, %zu random-normal samples (capture %.1f s), isa %s, %d threads, "
           "%lld steps, batch 32, W4 per-channel\n\n",
           path, nl, o.samples, now_s() - t0, qsim__kernels_isa(), qsim__pool_threads(pool),
           (long long)o.iters);
    printf("| layer | shape | form | GFLOP/step | s/%lld steps | setup s | loop GFLOP/s | "
           "sgemm GFLOP/s | ratio |\n|---|---|---|---|---|---|---|---|---|\n",
           (long long)o.iters);
    double total = 0.0, total_gemm = 0.0, total_setup = 0.0;
    for (size_t li = 0; li < nl; li++) {
        const qsim__node *n = &g->nodes[layers[li]];
        vcap *cx = &caps[n->inputs[0]], *cy = &caps[n->outputs[0]];
        const qsim__tensor *wt = qsim__sim_constant(s, n->inputs[1]);
        qsim__ada_layer L;
        memset(&L, 0, sizeof L);
        if (!cx->data || !cy->data ||
            qsim__ada_node_view(n, qsim__ada_op_of(n), &wt->shape, &cx->shape, &L.view) != QSIM_OK) {
            printf("| %s | skipped: %s |\n", n->name, qsim_last_error());
            continue;
        }
        qsim__ada_view *v = &L.view;
        size_t N = v->groups * v->n, nw = N * v->k, S = cx->count < cy->count ? cx->count : cy->count;
        qsim__ada_data d;
        if (qsim__ada_data_init(&d, v, S) != QSIM_OK || d.xsz != cx->per || d.ysz != cy->per) {
            printf("| %s | skipped: sizes |\n", n->name);
            continue;
        }
        for (size_t i = 0; i < S; i++)
            qsim__ada_data_add(&d, v, cx->data + i * cx->per, cy->data + i * cy->per);
        float *wmat = malloc(nw * sizeof *wmat);
        qsim__ada_weight_to_mat(v, wt->data, wmat);
        qsim__encoding *enc = calloc(N, sizeof *enc);
        for (size_t r = 0; r < N; r++) {
            double mn = 0, mx = 0;
            for (size_t j = r * v->k; j < (r + 1) * v->k; j++) {
                mn = wmat[j] < mn ? wmat[j] : mn;
                mx = wmat[j] > mx ? wmat[j] : mx;
            }
            double dl = (mx - mn) / 15.0;
            dl = dl > 0 ? dl : 1e-8;
            enc[r].bw = 4;
            enc[r].delta = dl;
            enc[r].offset = (int64_t)llround(mn / dl);
            enc[r].min = (double)enc[r].offset * dl;
            enc[r].max = enc[r].min + 15.0 * dl;
        }
        L.enc = enc;
        L.nenc = N;
        L.out_scale = 1.0f;
        if (n->n_inputs > 2 && n->inputs[2] >= 0) {
            const qsim__tensor *b = qsim__sim_constant(s, n->inputs[2]);
            if (b && b->numel == N)
                L.bias = b->data;
        }
        char shp[64];
        shape_str(v, n, shp, sizeof shp);
        double f0 = 0.0, su = 0.0;
        double t = bench_layer(pool, &o, &L, &d, wmat, QSIM__ADA_FORM_AUTO, n->name, shp, &f0, &su);
        total += t;
        total_gemm += f0;
        total_setup += su;
        if (o.direct_too) {
            double f_gram = 2.0 * (double)N * (double)v->k * (double)v->k;
            double f_dir = 4.0 * 32.0 * (double)v->rows * (double)v->k * (double)N;
            if (f_gram < f_dir) {
                double dummy = 0.0, su2 = 0.0;
                bench_layer(pool, &o, &L, &d, wmat, QSIM__ADA_FORM_DIRECT, "  (direct)", shp,
                            &dummy, &su2);
            }
        }
        free(wmat);
        free(enc);
        qsim__ada_data_free(&d);
    }
    printf("\nwhole model, %lld steps per layer: %.1f s incl. setup, %.1f s of steps; the "
           "same GEMMs alone %.1f s (%.0f%%)\n",
           (long long)o.iters, total, total - total_setup, total_gemm,
           100.0 * total_gemm / (total - total_setup));
    for (size_t i = 0; i < g->n_values; i++)
        free(caps[i].data);
    free(caps);
    free(layers);
    qsim__pool_free(pool);
    qsim_sim_free(s);
    qsim_model_free(m);
    return 0;
}
