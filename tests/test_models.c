/* Real models through the public API against torch / numpy references made
 * by tests/tools/gen_engine_models.py (resnet18, mobilenet_v2 with unfused
 * BatchNormalization, a transformer block, old-opset models, Constant-node
 * weights, a symbolic batch run at 1, 3, then 1 on one sim). Accuracy is
 * max|ours - ref| / max|ref|, reported per run. Every run is also repeated
 * on a sim with 1 thread and one with 3: results must be bit-identical.
 *
 * Usage: test_models DIR   (DIR/models.txt; TAP on stdout) */
#include <qsim/qsim.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct tensor {
    int32_t dtype, rank;
    int64_t dims[8];
    size_t numel;
    void *data;
} tensor;

static int read_bin(const char *path, tensor *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    char magic[4];
    int ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "QTEN", 4) &&
             fread(&t->dtype, 4, 1, f) == 1 && fread(&t->rank, 4, 1, f) == 1 && t->rank >= 0 &&
             t->rank <= 8 && fread(t->dims, 8, (size_t)t->rank, f) == (size_t)t->rank;
    size_t es = t->dtype == 7 ? 8 : 4;
    t->numel = 1;
    for (int d = 0; ok && d < t->rank; d++)
        t->numel *= (size_t)t->dims[d];
    ok = ok && (t->data = malloc(t->numel * es + 1)) && fread(t->data, es, t->numel, f) == t->numel;
    fclose(f);
    return ok;
}

static qsim_sim *make_sim(const qsim_model *m, int threads)
{
    qsim_sim_options *o = NULL;
    qsim_sim *s = NULL;
    if (threads >= 0) {
        if (qsim_sim_options_create(&o) != QSIM_OK ||
            qsim_sim_options_set_int(o, QSIM_OPT_NUM_THREADS, threads) != QSIM_OK)
            return NULL;
    }
    if (qsim_sim_create(m, o, &s) != QSIM_OK)
        s = NULL;
    qsim_sim_options_free(o);
    return s;
}

/* Run one input; *out points into the sim. */
static int run(qsim_sim *s, const qsim_model *m, const tensor *x, const float **out,
               const int64_t **shape, size_t *rank, char *why, size_t n)
{
    if (qsim_sim_set_input(s, qsim_model_input_name(m, 0), x->data, x->dims, (size_t)x->rank) !=
            QSIM_OK ||
        qsim_sim_run(s) != QSIM_OK ||
        qsim_sim_get_output(s, qsim_model_output_name(m, 0), out, shape, rank) != QSIM_OK) {
        snprintf(why, n, "%.900s", qsim_last_error());
        return 0;
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char path[1024], mname[256], xin[256], yout[256], cur[256] = "";
    double tol;
    snprintf(path, sizeof path, "%.900s/models.txt", argv[1]);
    FILE *list = fopen(path, "r");
    if (!list) {
        printf("1..0 # SKIP no %s\n", path);
        return 0;
    }
    int count = 0;
    while (fscanf(list, "%255s %255s %255s %lf", mname, xin, yout, &tol) == 4)
        count++;
    rewind(list);
    printf("1..%d\n", 2 * count);
    qsim_model *m = NULL;
    qsim_sim *s = NULL, *s1 = NULL, *s3 = NULL;
    int k = 0, failed = 0;
    while (fscanf(list, "%255s %255s %255s %lf", mname, xin, yout, &tol) == 4) {
        char why[1000] = "";
        int ok = 1;
        if (strcmp(cur, mname) != 0) { /* a new model: new sims */
            qsim_sim_free(s), qsim_sim_free(s1), qsim_sim_free(s3);
            qsim_model_free(m);
            s = s1 = s3 = NULL;
            m = NULL;
            snprintf(cur, sizeof cur, "%s", mname);
            snprintf(path, sizeof path, "%.700s/%.250s", argv[1], mname);
            if (qsim_model_load(path, &m) == QSIM_OK) {
                s = make_sim(m, -1);
                s1 = make_sim(m, 1);
                s3 = make_sim(m, 3);
            }
            if (!s || !s1 || !s3)
                snprintf(why, sizeof why, "load/create: %.900s", qsim_last_error());
        }
        tensor x, y;
        snprintf(path, sizeof path, "%.700s/%.250s", argv[1], xin);
        int have = read_bin(path, &x);
        snprintf(path, sizeof path, "%.700s/%.250s", argv[1], yout);
        have = have && read_bin(path, &y);
        const float *o = NULL, *o1 = NULL, *o3 = NULL;
        const int64_t *shape = NULL;
        size_t rank = 0;
        if (!have) {
            ok = 0;
            snprintf(why, sizeof why, "cannot read %s or %s", xin, yout);
        } else if (!s || !s1 || !s3) {
            ok = 0;
        } else {
            ok = run(s, m, &x, &o, &shape, &rank, why, sizeof why);
            const int64_t *sh1;
            size_t r1;
            ok = ok && run(s1, m, &x, &o1, &sh1, &r1, why, sizeof why) &&
                 run(s3, m, &x, &o3, &sh1, &r1, why, sizeof why);
        }
        double err = 0, ref = 0;
        if (ok) {
            int same = (int)rank == y.rank;
            for (int d = 0; same && d < y.rank; d++)
                same = shape[d] == y.dims[d];
            if (!same) {
                ok = 0;
                snprintf(why, sizeof why, "output rank %zu / shape differs from the reference", rank);
            } else {
                const float *r = y.data;
                for (size_t i = 0; i < y.numel; i++) {
                    double e = fabs((double)o[i] - r[i]);
                    if (e > err || isnan(e))
                        err = isnan(e) ? INFINITY : e;
                    if (fabs(r[i]) > ref)
                        ref = fabs(r[i]);
                }
                double rel = ref > 0 ? err / ref : err;
                if (!(rel <= tol)) {
                    ok = 0;
                    snprintf(why, sizeof why, "max|a-b|/max|ref| = %.3g exceeds %g", rel, tol);
                }
                printf("# %s %s: max|a-b| %.3g, max|ref| %.3g, relative %.3g (tolerance %g)\n", mname,
                       xin, err, ref, rel, tol);
            }
        }
        k++;
        printf("%s %d - %s %s vs reference%s%s\n", ok ? "ok" : "not ok", k, mname, xin,
               ok ? "" : ": ", ok ? "" : why);
        failed += !ok;
        int tok = ok && !memcmp(o, o1, y.numel * sizeof *o) && !memcmp(o, o3, y.numel * sizeof *o);
        k++;
        printf("%s %d - %s %s: 1, 3 and all threads give identical bits\n", tok ? "ok" : "not ok",
               k, mname, xin);
        failed += !tok;
        free(x.data);
        free(y.data);
    }
    fclose(list);
    qsim_sim_free(s), qsim_sim_free(s1), qsim_sim_free(s3);
    qsim_model_free(m);
    return failed ? 1 : 0;
}
