/* ONNX's own backend node tests (generated at build time by
 * tests/tools/gen_backend_cases.py) through the public API only: load,
 * create with default options, set every input, run, compare every output
 * at ONNX's tolerance (rtol 1e-3, atol 1e-7). Every case passes or is listed
 * with its reason in tests/conformance_exclusions.txt; an excluded case that
 * passes is reported so the list can shrink.
 *
 * Usage: test_conformance CASES_DIR [EXCLUSIONS_FILE]  (TAP on stdout) */
#include <qsim/qsim.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RTOL 1e-3
#define ATOL 1e-7

typedef struct tensor {
    int32_t dtype;
    int32_t rank;
    int64_t dims[16];
    size_t numel;
    void *data;
} tensor;

static size_t elem_size(int32_t t)
{
    switch (t) {
    case 1: case 6: case 12: return 4;
    case 2: case 3: case 9: return 1;
    case 4: case 5: case 10: case 16: return 2;
    case 7: case 11: case 13: return 8;
    default: return 0;
    }
}

static int read_tensor(const char *path, tensor *t, char *why, size_t why_size)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_size, "cannot open %s", path);
        return 0;
    }
    char magic[4];
    int ok = fread(magic, 1, 4, f) == 4 && !memcmp(magic, "QTEN", 4) &&
             fread(&t->dtype, 4, 1, f) == 1 && fread(&t->rank, 4, 1, f) == 1 && t->rank >= 0 &&
             t->rank <= 16 && fread(t->dims, 8, (size_t)t->rank, f) == (size_t)t->rank;
    if (!ok) {
        fclose(f);
        snprintf(why, why_size, "bad tensor file %s", path);
        return 0;
    }
    if (t->dtype < 0) {
        fclose(f);
        snprintf(why, why_size, "sequence/optional value, not a tensor");
        return 0;
    }
    size_t es = elem_size(t->dtype);
    if (!es) {
        fclose(f);
        snprintf(why, why_size, "element type %d not handled by the test", (int)t->dtype);
        return 0;
    }
    t->numel = 1;
    for (int d = 0; d < t->rank; d++)
        t->numel *= (size_t)t->dims[d];
    t->data = malloc(t->numel * es + 1);
    ok = t->data && fread(t->data, es, t->numel, f) == t->numel;
    fclose(f);
    if (!ok) {
        snprintf(why, why_size, "short tensor file %s", path);
        return 0;
    }
    return 1;
}

static float half_to_float(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : (e == 31 ? (m ? NAN : INFINITY) : ldexp(m + 1024, e - 25));
    return (float)((h & 0x8000) ? -v : v);
}

static double get(const void *d, int32_t t, size_t i)
{
    switch (t) {
    case 1: return ((const float *)d)[i];
    case 11: return ((const double *)d)[i];
    case 2: case 9: return ((const uint8_t *)d)[i];
    case 3: return ((const int8_t *)d)[i];
    case 4: return ((const uint16_t *)d)[i];
    case 5: return ((const int16_t *)d)[i];
    case 6: return ((const int32_t *)d)[i];
    case 7: return (double)((const int64_t *)d)[i];
    case 12: return ((const uint32_t *)d)[i];
    case 13: return (double)((const uint64_t *)d)[i];
    case 10: return half_to_float(((const uint16_t *)d)[i]);
    case 16: {
        uint32_t x = (uint32_t)((const uint16_t *)d)[i] << 16;
        float f;
        memcpy(&f, &x, 4);
        return f;
    }
    default: return NAN;
    }
}

/* Returns 1 when the case passes; else writes why. */
static int run_case(const char *dir, const char *name, int n_in, int n_out, char *why,
                    size_t why_size)
{
    char path[1024];
    snprintf(path, sizeof path, "%.600s/%.200s/model.onnx", dir, name);
    qsim_model *m = NULL;
    qsim_sim *s = NULL;
    tensor t;
    int ok = 0;
    if (qsim_model_load(path, &m) != QSIM_OK) {
        snprintf(why, why_size, "load: %.1000s", qsim_last_error());
        return 0;
    }
    if (qsim_sim_create(m, NULL, &s) != QSIM_OK) {
        snprintf(why, why_size, "create: %.1000s", qsim_last_error());
        goto done;
    }
    if ((size_t)n_in != qsim_model_input_count(m)) {
        snprintf(why, why_size, "%d input files for %zu model inputs", n_in,
                 qsim_model_input_count(m));
        goto done;
    }
    for (int k = 0; k < n_in; k++) {
        snprintf(path, sizeof path, "%.600s/%.200s/input_%d.bin", dir, name, k);
        if (!read_tensor(path, &t, why, why_size))
            goto done;
        qsim_status st = qsim_sim_set_input_typed(s, qsim_model_input_name(m, (size_t)k), t.dtype,
                                                  t.data, t.dims, (size_t)t.rank);
        free(t.data);
        if (st != QSIM_OK) {
            snprintf(why, why_size, "set_input: %.1000s", qsim_last_error());
            goto done;
        }
    }
    if (qsim_sim_run(s) != QSIM_OK) {
        snprintf(why, why_size, "run: %.1000s", qsim_last_error());
        goto done;
    }
    for (int k = 0; k < n_out; k++) {
        snprintf(path, sizeof path, "%.600s/%.200s/output_%d.bin", dir, name, k);
        if (!read_tensor(path, &t, why, why_size))
            goto done;
        const char *oname = qsim_model_output_name(m, (size_t)k);
        int32_t dt;
        const void *data;
        const int64_t *shape;
        size_t rank;
        if (qsim_sim_get_output_typed(s, oname ? oname : "", &dt, &data, &shape, &rank) != QSIM_OK) {
            snprintf(why, why_size, "get_output: %.1000s", qsim_last_error());
            free(t.data);
            goto done;
        }
        int same = dt == t.dtype && (int)rank == t.rank;
        for (int d = 0; same && d < t.rank; d++)
            same = shape[d] == t.dims[d];
        if (!same) {
            snprintf(why, why_size, "output '%s': type %d rank %zu vs expected type %d rank %d",
                     oname, (int)dt, rank, (int)t.dtype, (int)t.rank);
            free(t.data);
            goto done;
        }
        size_t bad = 0, first = 0;
        double worst = 0;
        for (size_t i = 0; i < t.numel; i++) {
            double a = get(data, dt, i), b = get(t.data, t.dtype, i);
            if (isnan(a) && isnan(b))
                continue;
            if (a == b)
                continue;
            double err = fabs(a - b);
            if (!(err <= ATOL + RTOL * fabs(b))) {
                if (!bad)
                    first = i;
                bad++;
                if (err > worst || isnan(err))
                    worst = err;
            }
        }
        if (bad) {
            snprintf(why, why_size, "output '%s': %zu of %zu values off (first at %zu: %g vs %g; worst |diff| %g)",
                     oname, bad, t.numel, first, get(data, dt, first), get(t.data, t.dtype, first),
                     worst);
            free(t.data);
            goto done;
        }
        free(t.data);
    }
    ok = 1;
done:
    qsim_sim_free(s);
    qsim_model_free(m);
    return ok;
}

typedef struct excl {
    char name[256];
    char reason[512];
} excl;

static size_t load_exclusions(const char *path, excl **out)
{
    *out = NULL;
    if (!path)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = 0, cap = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            excl *e = realloc(*out, cap * sizeof *e);
            if (!e)
                break;
            *out = e;
        }
        excl *e = &(*out)[n];
        const char *hash = strchr(line, '#');
        size_t len = strcspn(line, " \t#");
        snprintf(e->name, sizeof e->name, "%.*s", (int)len, line);
        snprintf(e->reason, sizeof e->reason, "%s", hash ? hash + 1 : "no reason given");
        n++;
    }
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s CASES_DIR [EXCLUSIONS]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    excl *ex = NULL;
    size_t n_ex = load_exclusions(argc > 2 ? argv[2] : NULL, &ex);
    char path[1024];
    snprintf(path, sizeof path, "%.900s/cases.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("1..0 # SKIP no cases at %s\n", path);
        return 0;
    }
    char names[2048][128];
    int nin[2048], nout[2048];
    size_t n = 0;
    while (n < 2048 && fscanf(f, "%127s %d %d", names[n], &nin[n], &nout[n]) == 3)
        n++;
    fclose(f);
    printf("1..%zu\n", n);
    size_t pass = 0, fail = 0, excluded = 0, xpass = 0;
    for (size_t i = 0; i < n; i++) {
        char why[1200] = "";
        int ok = run_case(dir, names[i], nin[i], nout[i], why, sizeof why);
        const excl *e = NULL;
        for (size_t k = 0; k < n_ex; k++)
            if (!strcmp(ex[k].name, names[i]))
                e = &ex[k];
        if (ok && !e) {
            pass++;
            printf("ok %zu - %s\n", i + 1, names[i]);
        } else if (ok && e) {
            xpass++;
            printf("ok %zu - %s # SKIP excluded but passes now (remove it from the list)\n", i + 1,
                   names[i]);
        } else if (e) {
            excluded++;
            printf("ok %zu - %s # SKIP excluded:%s\n", i + 1, names[i], e->reason);
        } else {
            fail++;
            printf("not ok %zu - %s\n# %s\n", i + 1, names[i], why);
        }
    }
    /* every exclusion must name a case that exists */
    for (size_t k = 0; k < n_ex; k++) {
        int found = 0;
        for (size_t i = 0; i < n && !found; i++)
            found = !strcmp(ex[k].name, names[i]);
        if (!found)
            printf("# note: exclusion '%s' matches no generated case\n", ex[k].name);
    }
    printf("# conformance: %zu cases: %zu pass, %zu fail, %zu excluded, %zu excluded-but-passing\n",
           n, pass, fail, excluded, xpass);
    free(ex);
    return 0;
}
