/* Fashion-MNIST plumbing shared by aimet_workflow.c and mixed_precision.c:
 * load images (examples/common/idx.h), a calibration callback for
 * qsim_compute_encodings / qsim_apply_adaround, and top-1 on the test set.
 * The bundled model's tensors are "input" [batch, 1, 28, 28] and "logits"
 * [batch, 10]. Header-only (static functions) to keep each example one file. */
#ifndef FMNIST_EXAMPLE_H
#define FMNIST_EXAMPLE_H

#include <qsim/qsim.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "idx.h"

#ifndef QSIM_DATA_DIR
#define QSIM_DATA_DIR "data"
#endif
#define EX_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
#define EX_PIXELS (28 * 28)

typedef struct ex_data {
    float *x;         /* [n, 1, 28, 28], preprocessed */
    uint8_t *labels;  /* [n] or NULL */
    size_t n;
} ex_data;

/* Reports a failed libqsim call; returns st so callers can `return ex_report(...)`. */
static qsim_status ex_report(const char *what, qsim_status st)
{
    if (st != QSIM_OK)
        fprintf(stderr, "%s: %s: %s\n", what, qsim_status_string(st), qsim_last_error());
    return st;
}

static void ex_data_free(ex_data *d)
{
    free(d->x);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

/* The first `limit` (0 = all) images of split "train" or "t10k". */
static int ex_load(const char *dir, const char *split, size_t limit, int with_labels, ex_data *d)
{
    char path[4096];
    qex_err err;
    qex_idx img = {0}, lab = {0};
    int rc = -1;
    memset(d, 0, sizeof *d);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, split);
    if (qex_idx_read_images(path, &img, &err) != 0)
        goto fail;
    if (with_labels) {
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
        if (qex_idx_read_labels(path, 10, &lab, &err) != 0 || qex_idx_check_pair(&img, &lab, &err))
            goto fail;
    }
    d->n = limit && limit < img.dims[0] ? limit : img.dims[0];
    d->x = malloc(d->n * EX_PIXELS * sizeof *d->x);
    d->labels = with_labels ? malloc(d->n) : NULL;
    if (!d->x || (with_labels && !d->labels)) {
        snprintf(err.msg, sizeof err.msg, "out of memory for %zu images", d->n);
        goto fail;
    }
    if (qex_idx_images_to_nchw(&img, 0, d->n, d->x, d->n * EX_PIXELS, &err) != 0)
        goto fail;
    if (with_labels)
        memcpy(d->labels, lab.data, d->n);
    rc = 0;
    goto done;
fail:
    fprintf(stderr, "%s\n", err.msg);
    ex_data_free(d);
done:
    qex_idx_free(&img);
    qex_idx_free(&lab);
    return rc;
}

static qsim_status ex_run_batch(qsim_sim *s, const ex_data *d, size_t first, size_t b)
{
    const int64_t shape[4] = {(int64_t)b, 1, 28, 28};
    qsim_status st = qsim_sim_set_input(s, "input", d->x + first * EX_PIXELS, shape, 4);
    return st == QSIM_OK ? qsim_sim_run(s) : st;
}

/* qsim_forward_fn: runs all of `user_data` (an ex_data) in batches of 64. */
static qsim_status ex_forward(qsim_sim *s, void *user_data)
{
    const ex_data *d = user_data;
    for (size_t first = 0; first < d->n; first += 64) {
        qsim_status st = ex_run_batch(s, d, first, d->n - first < 64 ? d->n - first : 64);
        if (st != QSIM_OK)
            return st;
    }
    return QSIM_OK;
}

/* Top-1 accuracy of the sim on a labelled set. */
static qsim_status ex_top1(qsim_sim *s, const ex_data *d, double *acc)
{
    size_t hits = 0;
    for (size_t first = 0; first < d->n; first += 250) {
        size_t b = d->n - first < 250 ? d->n - first : 250;
        const float *y = NULL;
        const int64_t *shape = NULL;
        size_t rank = 0;
        qsim_status st = ex_run_batch(s, d, first, b);
        if (st == QSIM_OK)
            st = qsim_sim_get_output(s, "logits", &y, &shape, &rank);
        if (st != QSIM_OK)
            return st;
        for (size_t i = 0; i < b; i++) {
            size_t best = 0;
            for (size_t k = 1; k < 10; k++)
                if (y[i * 10 + k] > y[i * 10 + best])
                    best = k;
            hits += best == d->labels[first + i];
        }
    }
    *acc = d->n ? (double)hits / (double)d->n : 0.0;
    return QSIM_OK;
}

/* A sim with int params of param_bw bits and 8-bit activations. */
static qsim_status ex_make_sim(const qsim_model *m, int param_bw, qsim_sim **out)
{
    qsim_sim_options *o = NULL;
    qsim_status st = qsim_sim_options_create(&o);
    if (st == QSIM_OK)
        st = qsim_sim_options_set_int(o, QSIM_OPT_DEFAULT_PARAM_BW, param_bw);
    if (st == QSIM_OK)
        st = qsim_sim_options_set_int(o, QSIM_OPT_DEFAULT_ACTIVATION_BW, 8);
    if (st == QSIM_OK)
        st = qsim_sim_create(m, o, out);
    qsim_sim_options_free(o);
    return ex_report("create sim", st);
}

/* Every BatchNormalization quantizer (params and output) to FP16. Frozen
 * quantizers (set_and_freeze_param_encodings) refuse with QSIM_ERR_FROZEN;
 * they are skipped and counted in *n_frozen (NULL: that is an error). */
static qsim_status ex_bn_to_fp16(qsim_sim *s, size_t *n_fp16, size_t *n_frozen)
{
    *n_fp16 = 0;
    if (n_frozen)
        *n_frozen = 0;
    for (size_t i = 0; i < qsim_quantizer_count(s); i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        const char *op = qsim_quantizer_op_type(q);
        if (!op || strcmp(op, "BatchNormalization") != 0)
            continue;
        qsim_status st = qsim_quantizer_set_data_type(q, QSIM_DATA_TYPE_FLOAT);
        if (st == QSIM_ERR_FROZEN && n_frozen) {
            (*n_frozen)++;
            continue;
        }
        if (st != QSIM_OK)
            return ex_report(qsim_quantizer_name(q), st);
        (*n_fp16)++;
    }
    return QSIM_OK;
}

/* The options both examples take. */
typedef struct ex_args {
    const char *out, *model, *data_dir;
    size_t limit;
    long iterations;
} ex_args;

/* Parses --out --model --data-dir --limit --iterations into *a (which holds
 * the defaults) and creates the output folder. Returns 0, or the exit status
 * (2 usage, 1 folder error) after printing why. */
static int ex_parse_args(const char *prog, int argc, char **argv, ex_args *a)
{
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i];
        int known = strcmp(k, "--out") == 0 || strcmp(k, "--model") == 0 ||
                    strcmp(k, "--data-dir") == 0 || strcmp(k, "--limit") == 0 ||
                    strcmp(k, "--iterations") == 0;
        if (!known || i + 1 >= argc) {
            if (known)
                fprintf(stderr, "%s: %s needs a value\n", prog, k);
            fprintf(stderr, "usage: %s [--out DIR] [--limit N] [--iterations N] "
                            "[--model FILE] [--data-dir DIR]\n", prog);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(k, "--out") == 0)
            a->out = v;
        else if (strcmp(k, "--model") == 0)
            a->model = v;
        else if (strcmp(k, "--data-dir") == 0)
            a->data_dir = v;
        else if (strcmp(k, "--limit") == 0)
            a->limit = strtoul(v, NULL, 10);
        else
            a->iterations = strtol(v, NULL, 10);
    }
    if (mkdir(a->out, 0777) != 0 && errno != EEXIST) {
        perror(a->out);
        return 1;
    }
    return 0;
}

#endif
