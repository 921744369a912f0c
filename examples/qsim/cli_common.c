/* qsim command: shared option parsing, sim building, batch loops, progress. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_quant_opts_init(cli_quant_opts *o)
{
    memset(o, 0, sizeof *o);
    o->scheme = -1;
    o->act_scheme = -1;
    o->threads = -1;
    o->batch = 64;
    o->mean = 0.2860f;
    o->std = 0.3530f;
}

int cli_parse_size(const char *cmd, const char *opt, const char *s, size_t lo, size_t hi,
                   size_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!*s || *s == '-' || *end || errno || v < lo || v > hi) {
        fprintf(stderr, "qsim %s: %s: '%s' is not an integer in [%zu, %zu]\n", cmd, opt, s, lo,
                hi);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

static int parse_float(const char *cmd, const char *opt, const char *s, float *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (!*s || *end || errno || v != v) {
        fprintf(stderr, "qsim %s: %s: '%s' is not a number\n", cmd, opt, s);
        return -1;
    }
    *out = (float)v;
    return 0;
}

/* The value of option argv[*i]; NULL (message printed) when missing. */
static const char *value_of(const char *cmd, int argc, char **argv, int *i)
{
    if (*i + 1 >= argc) {
        fprintf(stderr, "qsim %s: option %s needs a value\n", cmd, argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_parse_quant_opt(const char *cmd, int argc, char **argv, int *i, cli_quant_opts *o)
{
    const char *a = argv[*i], *v;
    size_t n = 0;
    if (strcmp(a, "--per-channel") == 0) {
        o->per_channel = 1;
        return 1;
    }
    if (strcmp(a, "--adaround") == 0) {
        o->adaround = 1;
        return 1;
    }
    static const char *const with_value[] = {
        "--param-bw", "--act-bw", "--scheme", "--act-scheme", "--percentile", "--config", "--fp16",
        "--encoding-version", "--threads", "--iterations", "--seed", "--batch", "--limit", "--mean",
        "--std"};
    size_t k = 0, nk = sizeof with_value / sizeof with_value[0];
    while (k < nk && strcmp(a, with_value[k]) != 0)
        k++;
    if (k == nk)
        return 0;
    if (!(v = value_of(cmd, argc, argv, i)))
        return -1;
    if (strcmp(a, "--param-bw") == 0 || strcmp(a, "--act-bw") == 0) {
        if (cli_parse_size(cmd, a, v, 2, 32, &n))
            return -1;
        *(a[2] == 'p' ? &o->param_bw : &o->act_bw) = (int)n;
    } else if (strcmp(a, "--scheme") == 0 || strcmp(a, "--act-scheme") == 0) {
        int *dst = a[2] == 's' ? &o->scheme : &o->act_scheme;
        if (strcmp(v, "tf") == 0)
            *dst = QSIM_SCHEME_TF;
        else if (strcmp(v, "tf_enhanced") == 0)
            *dst = QSIM_SCHEME_TF_ENHANCED;
        else if (strcmp(v, "percentile") == 0)
            *dst = QSIM_SCHEME_PERCENTILE;
        else {
            fprintf(stderr, "qsim %s: %s: '%s' is not tf, tf_enhanced or percentile\n", cmd, a,
                    v);
            return -1;
        }
    } else if (strcmp(a, "--percentile") == 0) {
        o->percentile = v;
    } else if (strcmp(a, "--config") == 0) {
        o->config = v;
    } else if (strcmp(a, "--fp16") == 0) {
        if (o->n_fp16 == CLI_MAX_FP16) {
            fprintf(stderr, "qsim %s: at most %d --fp16 options\n", cmd, CLI_MAX_FP16);
            return -1;
        }
        o->fp16[o->n_fp16++] = v;
    } else if (strcmp(a, "--encoding-version") == 0) {
        if (strcmp(v, "0.6.1") && strcmp(v, "1.0.0") && strcmp(v, "2.0.0")) {
            fprintf(stderr, "qsim %s: --encoding-version: '%s' is not 0.6.1, 1.0.0 or 2.0.0\n",
                    cmd, v);
            return -1;
        }
        o->encoding_version = v;
    } else if (strcmp(a, "--threads") == 0) {
        if (cli_parse_size(cmd, a, v, 0, 256, &n))
            return -1;
        o->threads = (int)n;
    } else if (strcmp(a, "--iterations") == 0) {
        if (cli_parse_size(cmd, a, v, 1, 100000000, &n))
            return -1;
        o->iterations = (int)n;
    } else if (strcmp(a, "--seed") == 0) {
        if (cli_parse_size(cmd, a, v, 0, (size_t)INT64_MAX, &n))
            return -1;
        o->seed = (int64_t)n;
    } else if (strcmp(a, "--batch") == 0) {
        if (cli_parse_size(cmd, a, v, 1, 1 << 20, &o->batch))
            return -1;
    } else if (strcmp(a, "--limit") == 0) {
        if (cli_parse_size(cmd, a, v, 1, (size_t)1 << 40, &o->limit))
            return -1;
    } else if (strcmp(a, "--mean") == 0) {
        if (parse_float(cmd, a, v, &o->mean))
            return -1;
    } else {
        if (parse_float(cmd, a, v, &o->std))
            return -1;
        if (o->std == 0.0f) {
            fprintf(stderr, "qsim %s: --std must not be 0\n", cmd);
            return -1;
        }
    }
    return 1;
}

void cli_report(const char *cmd, qsim_status st)
{
    fprintf(stderr, "qsim %s: %s: %s\n", cmd, qsim_status_string(st), qsim_last_error());
}

qsim_status cli_set_fp16(qsim_sim *s, const char *what, size_t *n_set)
{
    size_t n = qsim_quantizer_count(s), hits = 0;
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        if (!q)
            return QSIM_ERR_INTERNAL;
        if (strcmp(qsim_quantizer_op_type(q), what) != 0 &&
            strcmp(qsim_quantizer_name(q), what) != 0)
            continue;
        qsim_status st = qsim_quantizer_set_data_type(q, QSIM_DATA_TYPE_FLOAT);
        if (st != QSIM_OK)
            return st;
        hits++;
    }
    *n_set = hits;
    return QSIM_OK;
}

qsim_status cli_set_all_enabled(qsim_sim *s, int enabled)
{
    size_t n = qsim_quantizer_count(s);
    for (size_t i = 0; i < n; i++) {
        qsim_status st = qsim_quantizer_set_enabled(qsim_quantizer_at(s, i), enabled);
        if (st != QSIM_OK)
            return st;
    }
    return QSIM_OK;
}

qsim_status cli_build_sim(const char *cmd, const qsim_model *m, const cli_quant_opts *o,
                          qsim_sim **out)
{
    qsim_sim_options *opt = NULL;
    qsim_status st = qsim_sim_options_create(&opt);
    if (st == QSIM_OK && o->param_bw)
        st = qsim_sim_options_set_int(opt, QSIM_OPT_DEFAULT_PARAM_BW, o->param_bw);
    if (st == QSIM_OK && o->act_bw)
        st = qsim_sim_options_set_int(opt, QSIM_OPT_DEFAULT_ACTIVATION_BW, o->act_bw);
    if (st == QSIM_OK && o->scheme >= 0)
        st = qsim_sim_options_set_int(opt, QSIM_OPT_QUANT_SCHEME, o->scheme);
    if (st == QSIM_OK && o->percentile)
        st = qsim_sim_options_set_string(opt, QSIM_OPT_PERCENTILE, o->percentile);
    if (st == QSIM_OK && o->per_channel)
        st = qsim_sim_options_set_int(opt, QSIM_OPT_PER_CHANNEL, 1);
    if (st == QSIM_OK && o->config)
        st = qsim_sim_options_set_string(opt, QSIM_OPT_CONFIG_FILE, o->config);
    if (st == QSIM_OK && o->encoding_version)
        st = qsim_sim_options_set_string(opt, QSIM_OPT_ENCODING_VERSION, o->encoding_version);
    if (st == QSIM_OK && o->threads >= 0)
        st = qsim_sim_options_set_int(opt, QSIM_OPT_NUM_THREADS, o->threads);
    qsim_sim *s = NULL;
    if (st == QSIM_OK)
        st = qsim_sim_create(m, opt, &s);
    qsim_sim_options_free(opt);
    if (st != QSIM_OK) {
        cli_report(cmd, st);
        return st;
    }
    /* --act-scheme: every activation quantizer's own calibration scheme */
    for (size_t i = 0, n = qsim_quantizer_count(s); o->act_scheme >= 0 && i < n; i++) {
        qsim_quantizer *q = qsim_quantizer_at(s, i);
        if (qsim_quantizer_get_kind(q) != QSIM_QUANTIZER_ACTIVATION)
            continue;
        if ((st = qsim_quantizer_set_quant_scheme(q, (qsim_quant_scheme)o->act_scheme)) != QSIM_OK) {
            cli_report(cmd, st);
            qsim_sim_free(s);
            return st;
        }
    }
    for (size_t k = 0; k < o->n_fp16; k++) {
        size_t hits = 0;
        st = cli_set_fp16(s, o->fp16[k], &hits);
        if (st != QSIM_OK) {
            cli_report(cmd, st);
            qsim_sim_free(s);
            return st;
        }
        if (hits == 0) {
            fprintf(stderr, "qsim %s: --fp16 %s: no quantizer has that op type or tensor name\n",
                    cmd, o->fp16[k]);
            qsim_sim_free(s);
            return QSIM_ERR_NOT_FOUND;
        }
    }
    *out = s;
    return QSIM_OK;
}

/* ---- progress ----------------------------------------------------------- */

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_start(cli_progress *p, const char *stage)
{
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    p->t0 = p->t_stage = cli_now();
    snprintf(p->stage, sizeof p->stage, "%s", stage);
    snprintf(p->label, sizeof p->label, "%s", stage);
}

static void fmt_secs(char *buf, size_t len, double s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(buf, len, "%4.1fs", s);
    else
        snprintf(buf, len, "%dm%02ds", (int)(s / 60), (int)s % 60);
}

void cli_progress_update(cli_progress *p, uint64_t done, uint64_t total)
{
    if (!p || !p->tty)
        return;
    double now = cli_now(), el = now - p->t0, el_stage = now - p->t_stage;
    char e[16], r[16];
    fmt_secs(e, sizeof e, el);
    if (total > 0) {
        if (done > total)
            done = total;
        double frac = (double)done / (double)total;
        int width = 24, fill = (int)(frac * width);
        char bar[32];
        for (int k = 0; k < width; k++)
            bar[k] = k < fill ? '#' : '.';
        bar[width] = '\0';
        if (done > 0)
            fmt_secs(r, sizeof r, el_stage / frac - el_stage);
        else
            snprintf(r, sizeof r, "  ?");
        fprintf(stderr, "\r%-20.20s [%s] %llu/%llu %3d%%  %s  eta %s \033[K", p->label, bar,
                (unsigned long long)done, (unsigned long long)total, (int)(frac * 100), e, r);
    } else {
        fprintf(stderr, "\r%-20.20s %llu  %s\033[K", p->label, (unsigned long long)done, e);
    }
    p->drawn = 1;
}

void cli_progress_end(cli_progress *p)
{
    if (p && p->tty && p->drawn)
        fprintf(stderr, "\r\033[K");
    if (p)
        p->drawn = 0;
}

void cli_progress_cb(const char *stage, uint64_t done, uint64_t total, void *user_data)
{
    cli_progress *p = user_data;
    /* compute_encodings reports an unknown total: the batch loop draws it. */
    if (!p || total == 0)
        return;
    /* AdaRound reports layers ("adaround") and each layer's Adam steps
     * ("adaround_iterations"): draw the steps, labelled with the layer. */
    if (strcmp(stage, "adaround") == 0) {
        p->layer = done, p->layers = total;
        return;
    }
    if (strcmp(stage, p->stage) != 0 || done == 0) {
        snprintf(p->stage, sizeof p->stage, "%s", stage);
        p->t_stage = cli_now();
    }
    if (strcmp(stage, "adaround_iterations") == 0 && p->layers)
        snprintf(p->label, sizeof p->label, "adaround layer %llu/%llu",
                 (unsigned long long)(p->layer + 1 > p->layers ? p->layers : p->layer + 1),
                 (unsigned long long)p->layers);
    else
        snprintf(p->label, sizeof p->label, "%s", stage);
    cli_progress_update(p, done, total);
}

/* ---- batch loops ---------------------------------------------------------- */

static size_t batch_size(const cli_dataset *d, size_t want)
{
    return d->fixed_batch > 0 ? (size_t)d->fixed_batch : want;
}

static qsim_status set_batch(qsim_sim *s, const cli_dataset *d, size_t first, size_t b)
{
    for (size_t k = 0; k < d->n_inputs; k++) {
        int64_t shape[CLI_MAX_RANK];
        memcpy(shape, d->shape[k], sizeof shape);
        shape[0] = (int64_t)b;
        qsim_status st = qsim_sim_set_input(s, d->names[k], d->data[k] + first * d->sample_elems[k],
                                            shape, d->rank[k]);
        if (st != QSIM_OK)
            return st;
    }
    return QSIM_OK;
}

qsim_status cli_feed_forward(qsim_sim *s, void *user_data)
{
    const cli_feed *f = user_data;
    const cli_dataset *d = f->d;
    size_t n = f->limit && f->limit < d->n ? f->limit : d->n;
    size_t bs = batch_size(d, f->batch);
    for (size_t first = 0; first < n; first += bs) {
        size_t b = n - first < bs ? n - first : bs;
        if (d->fixed_batch > 0 && b != bs)
            break; /* a fixed-batch model cannot take the partial tail */
        qsim_status st = set_batch(s, d, first, b);
        if (st == QSIM_OK)
            st = qsim_sim_run(s);
        if (st != QSIM_OK)
            return st;
        cli_progress_update(f->progress, first + b, n);
    }
    return QSIM_OK;
}

qsim_status cli_top1(qsim_sim *s, const cli_dataset *d, size_t batch, cli_progress *p,
                     size_t *correct)
{
    size_t bs = batch_size(d, batch), hits = 0;
    for (size_t first = 0; first < d->n; first += bs) {
        size_t b = d->n - first < bs ? d->n - first : bs;
        if (d->fixed_batch > 0 && b != bs)
            break;
        qsim_status st = set_batch(s, d, first, b);
        if (st == QSIM_OK)
            st = qsim_sim_run(s);
        const float *y = NULL;
        const int64_t *shape = NULL;
        size_t rank = 0;
        if (st == QSIM_OK)
            st = qsim_sim_get_output(s, d->out_name, &y, &shape, &rank);
        if (st != QSIM_OK)
            return st;
        size_t c = rank >= 2 ? (size_t)shape[rank - 1] : 1;
        for (size_t i = 0; i < b; i++) {
            size_t best = 0;
            for (size_t k = 1; k < c; k++)
                if (y[i * c + k] > y[i * c + best])
                    best = k;
            hits += best == d->labels[first + i];
        }
        cli_progress_update(p, first + b, d->n);
    }
    *correct = hits;
    return QSIM_OK;
}

const char *cli_find_data(const char *name)
{
    static char buf[4096];
    static const char *const dirs[] = {
#ifdef QSIM_DATA_DIR
        QSIM_DATA_DIR,
#endif
#ifdef QSIM_SHARE_DIR
        QSIM_SHARE_DIR,
#endif
        "data"};
    for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
        snprintf(buf, sizeof buf, "%s/%s", dirs[k], name);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    return NULL;
}

qsim_status cli_calibrate(qsim_sim *s, const cli_dataset *d, size_t batch, size_t limit)
{
    cli_progress p;
    cli_progress_start(&p, "compute_encodings");
    cli_feed f = {d, batch, limit, &p};
    qsim_sim_set_progress(s, cli_progress_cb, &p);
    qsim_status st = qsim_compute_encodings(s, cli_feed_forward, &f);
    qsim_sim_set_progress(s, NULL, NULL);
    cli_progress_end(&p);
    return st;
}

int cli_have_adaround(void)
{
#ifdef QSIM_CLI_HAVE_ADAROUND
    return 1;
#else
    return 0;
#endif
}

qsim_status cli_adaround(qsim_sim *s, const cli_dataset *d, const cli_quant_opts *o, size_t limit)
{
#ifdef QSIM_CLI_HAVE_ADAROUND
    qsim_adaround_params *ap = NULL;
    qsim_status st = qsim_adaround_params_create(&ap);
    if (st == QSIM_OK && o->iterations > 0)
        st = qsim_adaround_params_set_int(ap, QSIM_ADAROUND_NUM_ITERATIONS, o->iterations);
    if (st == QSIM_OK && o->seed)
        st = qsim_adaround_params_set_int(ap, QSIM_ADAROUND_SEED, o->seed);
    if (st == QSIM_OK) {
        cli_progress p;
        cli_progress_start(&p, "adaround");
        cli_feed f = {d, o->batch, limit, NULL};
        qsim_sim_set_progress(s, cli_progress_cb, &p);
        st = qsim_apply_adaround(s, cli_feed_forward, &f, ap);
        qsim_sim_set_progress(s, NULL, NULL);
        cli_progress_end(&p);
    }
    qsim_adaround_params_free(ap);
    return st;
#else
    (void)s, (void)d, (void)o, (void)limit;
    return QSIM_ERR_UNSUPPORTED;
#endif
}
