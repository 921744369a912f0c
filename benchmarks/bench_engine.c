/* Whole-model latency through the public API (not a test).
 * Run: nice ./benchmarks/bench_engine MODEL.onnx [threads] [runs]
 * Input 0 gets its declared shape (symbolic dims = 1), filled with a ramp. */
#include <qsim/qsim.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.onnx [threads] [runs]\n", argv[0]);
        return 2;
    }
    int threads = argc > 2 ? atoi(argv[2]) : 0, runs = argc > 3 ? atoi(argv[3]) : 10;
    qsim_model *m = NULL;
    qsim_sim_options *o = NULL;
    qsim_sim *s = NULL;
    if (qsim_model_load(argv[1], &m) || qsim_sim_options_create(&o) ||
        qsim_sim_options_set_int(o, QSIM_OPT_NUM_THREADS, threads) || qsim_sim_create(m, o, &s)) {
        fprintf(stderr, "%s\n", qsim_last_error());
        return 1;
    }
    const char *name = qsim_model_input_name(m, 0);
    int32_t et;
    int64_t rank, dims[8];
    if (qsim_model_tensor_info(m, name, &et, &rank, dims, 8) || rank < 0) {
        fprintf(stderr, "input shape: %s\n", qsim_last_error());
        return 1;
    }
    size_t n = 1;
    for (int64_t d = 0; d < rank; d++) {
        if (dims[d] < 0)
            dims[d] = 1;
        n *= (size_t)dims[d];
    }
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(i % 255) / 255.0f - 0.5f;
    if (qsim_sim_set_input(s, name, x, dims, (size_t)rank) || qsim_sim_run(s)) {
        fprintf(stderr, "%s\n", qsim_last_error());
        return 1;
    }
    double best = 1e30, total = 0;
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        qsim_sim_run(s);
        double dt = now() - t0;
        total += dt;
        if (dt < best)
            best = dt;
    }
    printf("%s: threads %d, %d runs: best %.2f ms, mean %.2f ms\n", argv[1], threads, runs,
           best * 1e3, total / runs * 1e3);
    free(x);
    qsim_sim_free(s);
    qsim_sim_options_free(o);
    qsim_model_free(m);
    return 0;
}
