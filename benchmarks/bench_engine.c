/* Whole-network latency and peak memory: libqsim against onnxruntime, side
 * by side, in one run. Not a test.
 *
 *   bench_engine [--runs N] [--warmup N] [--rounds N] [--ort-script PATH|--no-ort] [--quant]
 *                [--cpu] MODEL.onnx...
 *
 * --quant times the quantized forward (default W8A8 placement, calibrated
 * on the benchmark input) instead of FP32 (every quantizer disabled would be
 * the same graph; a fresh sim without calibration runs no QDQ).
 *
 * For every model, batch (1, 8) and thread count (1, 2), a child process
 * loads the model into a sim and times qsim_sim_run; onnxruntime is timed by
 * ../shared/tools/ort_bench.js (onnxruntime-node, all graph optimizations)
 * in another child. The two alternate for --rounds rounds (default 3) and
 * each column is the median of its rounds' medians: on a shared machine
 * whose speed drifts for seconds at a time, one block of runs per engine
 * would compare one engine's slow stretch with the other's fast one. Peak memory is each child's maxrss from wait4(); for
 * onnxruntime the maxrss of a node process that only loads onnxruntime-node
 * is subtracted, so both columns count the runtime's own memory. */
#include <qsim/qsim.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct result {
    double median_ms, min_ms;
    long maxrss_kb;
    int ok;
} result;

/* --cpu: process CPU time instead of wall time (A/B comparisons at 1 thread
 * on a busy machine; at 2 threads it adds both threads' time) */
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(clock_id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --quant: calibrate every quantizer (AIMET default placement, W8A8) on the
 * benchmark input first, so the timed runs are the quantized forward. */
static int quant_mode;

static qsim_status calib_once(qsim_sim *s, void *user_data)
{
    (void)user_data;
    return qsim_sim_run(s);
}

/* In the child: time qsim_sim_run and write "median min" to fd. */
static int qsim_child(const char *path, int batch, int threads, int warmup, int runs, int fd)
{
    qsim_model *m = NULL;
    qsim_sim_options *o = NULL;
    qsim_sim *s = NULL;
    if (qsim_model_load(path, &m) != QSIM_OK || qsim_sim_options_create(&o) != QSIM_OK ||
        qsim_sim_options_set_int(o, QSIM_OPT_NUM_THREADS, threads) != QSIM_OK ||
        qsim_sim_create(m, o, &s) != QSIM_OK) {
        fprintf(stderr, "libqsim: %s\n", qsim_last_error());
        return 1;
    }
    const char *in = qsim_model_input_name(m, 0);
    int32_t et;
    int64_t rank, dims[8];
    if (qsim_model_tensor_info(m, in, &et, &rank, dims, 8) != QSIM_OK || rank < 1) {
        fprintf(stderr, "libqsim: input shape: %s\n", qsim_last_error());
        return 1;
    }
    dims[0] = batch;
    size_t n = 1;
    for (int64_t i = 0; i < rank; i++) {
        if (dims[i] < 1)
            dims[i] = 1;
        n *= (size_t)dims[i];
    }
    float *x = malloc(n * sizeof *x);
    double *t = malloc((size_t)runs * sizeof *t);
    if (!x || !t)
        return 1;
    uint32_t r = 1;
    for (size_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        x[i] = (float)(r >> 8) / 8388608.0f - 1.0f;
    }
    if (qsim_sim_set_input(s, in, x, dims, (size_t)rank) != QSIM_OK) {
        fprintf(stderr, "libqsim: %s\n", qsim_last_error());
        return 1;
    }
    if (quant_mode && qsim_compute_encodings(s, calib_once, NULL) != QSIM_OK) {
        fprintf(stderr, "libqsim: %s\n", qsim_last_error());
        return 1;
    }
    for (int i = 0; i < warmup + runs; i++) {
        double t0 = now_ms();
        if (qsim_sim_run(s) != QSIM_OK) {
            fprintf(stderr, "libqsim: %s\n", qsim_last_error());
            return 1;
        }
        if (i >= warmup)
            t[i - warmup] = now_ms() - t0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    char buf[128];
    int len = snprintf(buf, sizeof buf, "%f %f\n", t[runs / 2], t[0]);
    if (write(fd, buf, (size_t)len) != len)
        return 1;
    free(x);
    free(t);
    qsim_sim_free(s);
    qsim_sim_options_free(o);
    qsim_model_free(m);
    return 0;
}

/* Runs argv (or the qsim child when argv is NULL) in a child; fills res from
 * what it prints ("median min" for qsim, ort_bench's JSON for node). */
static void run_child(char *const argv[], const char *path, int batch, int threads, int warmup,
                      int runs, result *res)
{
    memset(res, 0, sizeof *res);
    int p[2];
    if (pipe(p) != 0)
        return;
    pid_t pid = fork();
    if (pid < 0)
        return;
    if (pid == 0) {
        close(p[0]);
        if (!argv)
            _exit(qsim_child(path, batch, threads, warmup, runs, p[1]));
        dup2(p[1], 1);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(p[1]);
    char out[8192];
    size_t len = 0;
    ssize_t k;
    while (len < sizeof out - 1 && (k = read(p[0], out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)k;
    out[len] = '\0';
    close(p[0]);
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return;
    res->maxrss_kb = ru.ru_maxrss;
    if (!argv) {
        res->ok = sscanf(out, "%lf %lf", &res->median_ms, &res->min_ms) == 2;
    } else if (argv[1] && strcmp(argv[1], "-e") == 0) {
        res->ok = 1; /* the node baseline */
    } else {
        const char *a = strstr(out, "\"median_ms\":"), *b = strstr(out, "\"min_ms\":");
        res->ok = a && b && sscanf(a + 12, "%lf", &res->median_ms) == 1 &&
                  sscanf(b + 9, "%lf", &res->min_ms) == 1;
    }
}

/* Median of the rounds' medians, min of their mins, max of their maxrss;
 * not ok if any round failed. */
static void combine(const result *r, int n, result *out)
{
    double med[64];
    memset(out, 0, sizeof *out);
    out->ok = n > 0;
    out->min_ms = INFINITY;
    for (int i = 0; i < n; i++) {
        out->ok &= r[i].ok;
        med[i] = r[i].median_ms;
        if (r[i].min_ms < out->min_ms)
            out->min_ms = r[i].min_ms;
        if (r[i].maxrss_kb > out->maxrss_kb)
            out->maxrss_kb = r[i].maxrss_kb;
    }
    if (!out->ok)
        return;
    qsort(med, (size_t)n, sizeof *med, cmp_double);
    out->median_ms = n % 2 ? med[n / 2] : 0.5 * (med[n / 2 - 1] + med[n / 2]);
}

static const char *default_ort_script(void)
{
    static const char *candidates[] = {"../shared/tools/ort_bench.js",
                                       "../../shared/tools/ort_bench.js",
                                       "/work/shared/tools/ort_bench.js"};
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    return NULL;
}

int main(int argc, char **argv)
{
    int runs = 20, warmup = 3, rounds = 3;
    const char *ort = default_ort_script();
    int first = 1;
    for (; first < argc && strncmp(argv[first], "--", 2) == 0; first++) {
        if (strcmp(argv[first], "--runs") == 0 && first + 1 < argc)
            runs = atoi(argv[++first]);
        else if (strcmp(argv[first], "--warmup") == 0 && first + 1 < argc)
            warmup = atoi(argv[++first]);
        else if (strcmp(argv[first], "--rounds") == 0 && first + 1 < argc)
            rounds = atoi(argv[++first]);
        else if (strcmp(argv[first], "--ort-script") == 0 && first + 1 < argc)
            ort = argv[++first];
        else if (strcmp(argv[first], "--cpu") == 0)
            clock_id = CLOCK_PROCESS_CPUTIME_ID;
        else if (strcmp(argv[first], "--no-ort") == 0)
            ort = NULL;
        else if (strcmp(argv[first], "--quant") == 0)
            quant_mode = 1;
        else {
            fprintf(stderr, "unknown option %s\n", argv[first]);
            return 2;
        }
    }
    if (first >= argc || runs < 1 || warmup < 0 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "usage: bench_engine [--runs N] [--warmup N] [--rounds 1..64] "
                        "[--ort-script PATH|--no-ort] [--quant] [--cpu] MODEL.onnx...\n");
        return 2;
    }
    long node_base_kb = 0;
    if (ort) {
        char *base_argv[] = {"node", "-e", "require('onnxruntime-node')", NULL};
        result b;
        run_child(base_argv, NULL, 0, 0, 0, 0, &b);
        if (b.ok)
            node_base_kb = b.maxrss_kb;
        else
            ort = NULL, fprintf(stderr, "onnxruntime-node not usable (set NODE_PATH)\n");
    }
    printf("libqsim %s, %d runs after %d warm-up, %d alternating round%s (median of the "
           "rounds' medians); onnxruntime: %s\n",
           qsim_version_string(), runs, warmup, rounds, rounds == 1 ? "" : "s",
           ort ? "onnxruntime-node, graphOptimizationLevel all" : "not run");
    printf("%-16s %5s %3s | %10s %10s | %10s %10s | %6s | %9s %9s %6s\n", "model", "batch", "thr",
           "qsim med", "qsim min", "ort med", "ort min", "ratio", "qsim MiB", "ort MiB", "ratio");
    for (int mi = first; mi < argc; mi++) {
        const char *path = argv[mi];
        const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        static const int batches[] = {1, 8}, thread_counts[] = {1, 2};
        for (int bi = 0; bi < 2; bi++)
            for (int ti = 0; ti < 2; ti++) {
                int batch = batches[bi], threads = thread_counts[ti];
                result qr[64], orr[64], q, o;
                for (int r = 0; r < rounds; r++) {
                    run_child(NULL, path, batch, threads, warmup, runs, &qr[r]);
                    memset(&orr[r], 0, sizeof orr[r]);
                    if (ort) {
                        char shape[64], thr[16], rs[16], wu[16];
                        snprintf(shape, sizeof shape, "%d,3,224,224", batch);
                        snprintf(thr, sizeof thr, "%d", threads);
                        snprintf(rs, sizeof rs, "%d", runs);
                        snprintf(wu, sizeof wu, "%d", warmup);
                        char *oargv[] = {"node", (char *)ort, (char *)path, "--shape", shape,
                                         "--threads", thr, "--runs", rs, "--warmup", wu,
                                         "--json", NULL};
                        run_child(oargv, NULL, 0, 0, 0, 0, &orr[r]);
                    }
                }
                combine(qr, rounds, &q);
                combine(orr, rounds, &o);
                double qm = q.maxrss_kb / 1024.0, om = (o.maxrss_kb - node_base_kb) / 1024.0;
                printf("%-16.16s %5d %3d | %8.2fms %8.2fms | ", name, batch, threads,
                       q.ok ? q.median_ms : NAN, q.ok ? q.min_ms : NAN);
                if (o.ok)
                    printf("%8.2fms %8.2fms | %5.2fx | %9.1f %9.1f %5.2fx\n", o.median_ms,
                           o.min_ms, q.median_ms / o.median_ms, qm, om, qm / om);
                else
                    printf("%10s %10s | %6s | %9.1f %9s %6s\n", "-", "-", "-", qm, "-", "-");
                fflush(stdout);
            }
    }
    return 0;
}
