/* qsim command: calibration and evaluation datasets held in memory.
 * SPEC kinds: a directory of .npy files, a QNN input_list.txt, IDX images. */
#include "cli.h"

#include "idx.h"
#include "input_list.h"
#include "npy.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void cli_dataset_free(cli_dataset *d)
{
    for (size_t k = 0; k < CLI_MAX_INPUTS; k++)
        free(d->data[k]);
    free(d->labels);
    memset(d, 0, sizeof *d);
}

/* Shapes of the model inputs: dim 0 is the batch, the rest must be fixed. */
static int setup_inputs(const char *cmd, const qsim_model *m, cli_dataset *d)
{
    memset(d, 0, sizeof *d);
    d->n_inputs = qsim_model_input_count(m);
    d->out_name = qsim_model_output_name(m, 0);
    if (d->n_inputs == 0 || d->n_inputs > CLI_MAX_INPUTS || !d->out_name) {
        fprintf(stderr, "qsim %s: the model has %zu inputs and %zu outputs (need 1..%d inputs)\n",
                cmd, d->n_inputs, qsim_model_output_count(m), CLI_MAX_INPUTS);
        return -1;
    }
    for (size_t k = 0; k < d->n_inputs; k++) {
        const char *name = qsim_model_input_name(m, k);
        int32_t elem = 0;
        int64_t rank = 0;
        d->names[k] = name;
        qsim_status st = qsim_model_tensor_info(m, name, &elem, &rank, d->shape[k], CLI_MAX_RANK);
        if (st != QSIM_OK) {
            cli_report(cmd, st);
            return -1;
        }
        if (elem != 1 || rank < 1) {
            fprintf(stderr, "qsim %s: input '%s' must be float32 with a batch dimension\n", cmd,
                    name);
            return -1;
        }
        d->rank[k] = (size_t)rank;
        if (d->shape[k][0] > 0)
            d->fixed_batch = d->shape[k][0];
        size_t elems = 1;
        for (size_t i = 1; i < d->rank[k]; i++) {
            if (d->shape[k][i] <= 0 || d->shape[k][i] > (int64_t)1 << 30 ||
                elems > ((size_t)1 << 31) / (size_t)d->shape[k][i]) {
                fprintf(stderr,
                        "qsim %s: input '%s' dimension %zu is symbolic or too large; only the "
                        "batch dimension may vary\n",
                        cmd, name, i);
                return -1;
            }
            elems *= (size_t)d->shape[k][i];
        }
        d->sample_elems[k] = elems;
    }
    return 0;
}

/* Grows input k's buffer to hold `n` samples. */
static int reserve(const char *cmd, cli_dataset *d, size_t k, size_t n, size_t *cap)
{
    if (n <= *cap)
        return 0;
    size_t want = *cap ? *cap : 64;
    while (want < n)
        want *= 2;
    size_t bytes;
    if (qex_mul_size(want, d->sample_elems[k], &bytes) || qex_mul_size(bytes, sizeof(float), &bytes)) {
        fprintf(stderr, "qsim %s: dataset too large\n", cmd);
        return -1;
    }
    float *p = realloc(d->data[k], bytes);
    if (!p) {
        fprintf(stderr, "qsim %s: out of memory for %zu samples\n", cmd, want);
        return -1;
    }
    d->data[k] = p;
    *cap = want;
    return 0;
}

static int idx_to_floats(const char *cmd, const char *path, const qex_idx *img, size_t n,
                         const cli_quant_opts *o, cli_dataset *d)
{
    qex_err err;
    size_t hw = img->dims[1] * img->dims[2], total;
    if (d->n_inputs != 1 || d->sample_elems[0] != hw) {
        fprintf(stderr,
                "qsim %s: %s: images of %zux%zu do not fit model input '%s' (%zu values per "
                "sample)\n",
                cmd, path, img->dims[1], img->dims[2], d->names[0], d->sample_elems[0]);
        return -1;
    }
    if (qex_mul_size(n, hw, &total) || !(d->data[0] = malloc(total ? total * sizeof(float) : 1))) {
        fprintf(stderr, "qsim %s: %s: out of memory\n", cmd, path);
        return -1;
    }
    if (o->mean == QEX_FMNIST_MEAN && o->std == QEX_FMNIST_STD) {
        if (qex_idx_images_to_nchw(img, 0, n, d->data[0], total, &err) != 0) {
            fprintf(stderr, "qsim %s: %s\n", cmd, err.msg);
            return -1;
        }
    } else {
        for (size_t i = 0; i < total; i++) {
            float v = (float)img->data[i] / 255.0f;
            v = v - o->mean;
            d->data[0][i] = v / o->std;
        }
    }
    d->n = n;
    return 0;
}

static int load_idx(const char *cmd, const char *path, const cli_quant_opts *o, size_t limit,
                    cli_dataset *d)
{
    qex_err err;
    qex_idx img;
    if (qex_idx_read_images(path, &img, &err) != 0) {
        fprintf(stderr, "qsim %s: %s\n", cmd, err.msg);
        return -1;
    }
    size_t n = limit && limit < img.dims[0] ? limit : img.dims[0];
    int rc = idx_to_floats(cmd, path, &img, n, o, d);
    qex_idx_free(&img);
    return rc;
}

static int has_suffix(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_npy_dir(const char *cmd, const char *dir, size_t limit, cli_dataset *d)
{
    if (d->n_inputs != 1) {
        fprintf(stderr,
                "qsim %s: %s: a .npy folder feeds single-input models only (this one has %zu); "
                "use an input_list.txt\n",
                cmd, dir, d->n_inputs);
        return -1;
    }
    DIR *dp = opendir(dir);
    if (!dp) {
        fprintf(stderr, "qsim %s: %s: cannot open the folder\n", cmd, dir);
        return -1;
    }
    char **names = NULL;
    size_t n_names = 0, cap_names = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        if (!has_suffix(e->d_name, ".npy"))
            continue;
        if (n_names == cap_names) {
            size_t nc = cap_names ? cap_names * 2 : 64;
            char **p = realloc(names, nc * sizeof *p);
            if (!p) {
                rc = -1;
                break;
            }
            names = p, cap_names = nc;
        }
        if (!(names[n_names] = strdup(e->d_name))) {
            rc = -1;
            break;
        }
        n_names++;
    }
    closedir(dp);
    if (rc == 0 && n_names == 0) {
        fprintf(stderr, "qsim %s: %s: the folder holds no .npy files\n", cmd, dir);
        rc = -1;
    } else if (rc != 0) {
        fprintf(stderr, "qsim %s: %s: out of memory\n", cmd, dir);
    }
    if (rc == 0)
        qsort(names, n_names, sizeof *names, cmp_str);
    size_t cap = 0, per = d->sample_elems[0];
    for (size_t i = 0; rc == 0 && i < n_names && (!limit || d->n < limit); i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        qex_npy npy;
        qex_err err;
        if (qex_npy_read(path, &npy, &err) != 0) {
            fprintf(stderr, "qsim %s: %s\n", cmd, err.msg);
            rc = -1;
            break;
        }
        if (npy.count == 0 || npy.count % per != 0) {
            fprintf(stderr,
                    "qsim %s: %s: %zu values is not a whole number of samples of input '%s' "
                    "(%zu values each)\n",
                    cmd, path, npy.count, d->names[0], per);
            rc = -1;
        } else {
            size_t k = npy.count / per;
            if (limit && d->n + k > limit)
                k = limit - d->n;
            rc = reserve(cmd, d, 0, d->n + k, &cap);
            if (rc == 0) {
                memcpy(d->data[0] + d->n * per, npy.data, k * per * sizeof(float));
                d->n += k;
            }
        }
        qex_npy_free(&npy);
    }
    for (size_t i = 0; i < n_names; i++)
        free(names[i]);
    free(names);
    return rc;
}

static int load_input_list(const char *cmd, const char *path, size_t limit, cli_dataset *d)
{
    qex_input_list list;
    qex_err err;
    if (qex_input_list_read(path, &list, &err) != 0) {
        fprintf(stderr, "qsim %s: %s\n", cmd, err.msg);
        return -1;
    }
    int rc = 0;
    if (list.n_inputs != d->n_inputs) {
        fprintf(stderr, "qsim %s: %s: %zu entries per line, but the model has %zu inputs\n", cmd,
                path, list.n_inputs, d->n_inputs);
        rc = -1;
    }
    size_t n = limit && limit < list.n_samples ? limit : list.n_samples;
    for (size_t k = 0; rc == 0 && k < d->n_inputs; k++) {
        size_t cap = 0;
        rc = reserve(cmd, d, k, n ? n : 1, &cap);
    }
    for (size_t i = 0; rc == 0 && i < n; i++) {
        const qex_input_sample *s = &list.samples[i];
        for (size_t k = 0; rc == 0 && k < d->n_inputs; k++) {
            const char *file = list.named ? qex_input_sample_find(s, d->names[k])
                                          : s->entries[k].path;
            if (!file) {
                fprintf(stderr, "qsim %s: %s: line %zu: no entry for input '%s'\n", cmd, path,
                        s->line, d->names[k]);
                rc = -1;
            } else if (qex_raw_read_f32(file, d->sample_elems[k],
                                        d->data[k] + i * d->sample_elems[k], &err) != 0) {
                fprintf(stderr, "qsim %s: %s: line %zu: %s\n", cmd, path, s->line, err.msg);
                rc = -1;
            }
        }
    }
    if (rc == 0)
        d->n = n;
    qex_input_list_free(&list);
    return rc;
}

/* A model with a fixed batch size sees whole batches only. */
static int whole_batches(const char *cmd, const char *path, cli_dataset *d)
{
    if (d->fixed_batch <= 0)
        return 0;
    d->n -= d->n % (size_t)d->fixed_batch;
    if (d->n == 0) {
        fprintf(stderr, "qsim %s: %s: fewer samples than the model's fixed batch of %lld\n", cmd,
                path, (long long)d->fixed_batch);
        return -1;
    }
    return 0;
}

int cli_dataset_load(const char *cmd, const qsim_model *m, const char *spec,
                     const cli_quant_opts *o, size_t limit, cli_dataset *out)
{
    struct stat sb;
    if (setup_inputs(cmd, m, out) != 0)
        return -1;
    int rc;
    if (stat(spec, &sb) != 0) {
        fprintf(stderr, "qsim %s: %s: no such file or folder\n", cmd, spec);
        rc = -1;
    } else if (S_ISDIR(sb.st_mode)) {
        rc = load_npy_dir(cmd, spec, limit, out);
    } else if (has_suffix(spec, ".txt")) {
        rc = load_input_list(cmd, spec, limit, out);
    } else if (has_suffix(spec, ".gz") || has_suffix(spec, ".idx") || has_suffix(spec, ".idx3") ||
               has_suffix(spec, "ubyte")) {
        rc = load_idx(cmd, spec, o, limit, out);
    } else {
        fprintf(stderr,
                "qsim %s: %s: unknown calibration data (want a folder of .npy files, an "
                "input_list .txt, or IDX images .gz/.idx/.idx3/-ubyte)\n",
                cmd, spec);
        rc = -1;
    }
    if (rc == 0 && out->n == 0) {
        fprintf(stderr, "qsim %s: %s: no samples\n", cmd, spec);
        rc = -1;
    }
    if (rc == 0)
        rc = whole_batches(cmd, spec, out);
    if (rc != 0)
        cli_dataset_free(out);
    return rc;
}

int cli_dataset_load_labeled(const char *cmd, const qsim_model *m, const char *images,
                             const char *labels, const cli_quant_opts *o, size_t limit,
                             cli_dataset *out)
{
    qex_err err;
    qex_idx img, lab;
    if (setup_inputs(cmd, m, out) != 0)
        return -1;
    if (qex_idx_read_images(images, &img, &err) != 0) {
        fprintf(stderr, "qsim %s: %s\n", cmd, err.msg);
        return -1;
    }
    if (qex_idx_read_labels(labels, 256, &lab, &err) != 0 ||
        qex_idx_check_pair(&img, &lab, &err) != 0) {
        fprintf(stderr, "qsim %s: %s\n", cmd, err.msg);
        qex_idx_free(&img);
        qex_idx_free(&lab);
        return -1;
    }
    size_t n = limit && limit < img.dims[0] ? limit : img.dims[0];
    int rc = idx_to_floats(cmd, images, &img, n, o, out);
    if (rc == 0) {
        out->labels = malloc(n);
        if (!out->labels) {
            fprintf(stderr, "qsim %s: %s: out of memory\n", cmd, labels);
            rc = -1;
        } else {
            memcpy(out->labels, lab.data, n);
        }
    }
    qex_idx_free(&img);
    qex_idx_free(&lab);
    if (rc == 0)
        rc = whole_batches(cmd, images, out);
    if (rc != 0)
        cli_dataset_free(out);
    return rc;
}
