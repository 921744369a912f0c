/* Shared parts of the `qsim` command (examples/qsim.c): option parsing for
 * the quantization options, datasets (IDX, .npy folder, input_list.txt),
 * batch loops that feed a sim, and the terminal progress bar.
 * Uses only the public libqsim API and examples/common. */
#ifndef QSIM_CLI_H
#define QSIM_CLI_H

#include <qsim/qsim.h>

#include <stddef.h>
#include <stdint.h>

/* Exit codes of every subcommand. */
enum { CLI_EXIT_OK = 0, CLI_EXIT_RUNTIME = 1, CLI_EXIT_USAGE = 2 };

#define CLI_MAX_FP16 64
#define CLI_MAX_RANK 8
#define CLI_MAX_INPUTS 16

/* The options shared by quantize, eval and demo. */
typedef struct cli_quant_opts {
    int param_bw, act_bw;         /* 0 = library default */
    int scheme;                   /* -1 = default, else qsim_quant_scheme */
    int act_scheme;               /* activations only (-1: as scheme) */
    const char *percentile;
    int per_channel;
    const char *config;
    const char *fp16[CLI_MAX_FP16]; /* op types or tensor names */
    size_t n_fp16;
    const char *encoding_version;
    int threads;                  /* -1 = default */
    int adaround;
    int iterations;               /* AdaRound Adam steps, 0 = default */
    int64_t seed;                 /* AdaRound: QSIM_ADAROUND_SEED */
    size_t batch;                 /* samples per run */
    size_t limit;                 /* 0 = all samples */
    float mean, std;              /* IDX preprocessing */
} cli_quant_opts;

void cli_quant_opts_init(cli_quant_opts *o);

/* Tries to consume argv[*i] (and its value) as a shared option.
 * Returns 1 if consumed, 0 if not a shared option, -1 on a usage error
 * (message printed). */
int cli_parse_quant_opt(const char *cmd, int argc, char **argv, int *i, cli_quant_opts *o);

/* Parses an unsigned decimal; returns 0 or -1 (message printed). */
int cli_parse_size(const char *cmd, const char *opt, const char *s, size_t lo, size_t hi,
                   size_t *out);

/* Prints "qsim CMD: STATUS: message" for a failed libqsim call. */
void cli_report(const char *cmd, qsim_status st);

/* Creates a sim with the options applied and the FP16 overrides set. */
qsim_status cli_build_sim(const char *cmd, const qsim_model *m, const cli_quant_opts *o,
                          qsim_sim **out);

/* Sets every quantizer of the sim enabled (1) or disabled (0). */
qsim_status cli_set_all_enabled(qsim_sim *s, int enabled);

/* Sets to FP16 every quantizer whose op type or tensor name is `what`;
 * *n_set gets how many matched. */
qsim_status cli_set_fp16(qsim_sim *s, const char *what, size_t *n_set);

/* A dataset held in memory: for each model input, n samples of
 * sample_elems floats; labels (optional) one per sample. */
typedef struct cli_dataset {
    size_t n;                            /* samples */
    size_t n_inputs;
    const char *names[CLI_MAX_INPUTS];   /* borrowed from the model */
    size_t sample_elems[CLI_MAX_INPUTS];
    int64_t shape[CLI_MAX_INPUTS][CLI_MAX_RANK]; /* shape[k][0] is the batch */
    size_t rank[CLI_MAX_INPUTS];
    int64_t fixed_batch;                 /* > 0 when the model's batch is fixed */
    float *data[CLI_MAX_INPUTS];
    uint8_t *labels;
    const char *out_name;                /* the model's first output */
} cli_dataset;

/* Loads a calibration SPEC: a directory (.npy files, sorted by name), a
 * *.txt QNN input list, or an IDX images file (.gz, idx, idx3, ubyte).
 * `limit` (0 = all) caps the samples. Prints the error (naming the file). */
int cli_dataset_load(const char *cmd, const qsim_model *m, const char *spec,
                     const cli_quant_opts *o, size_t limit, cli_dataset *out);

/* IDX images + labels (for eval). */
int cli_dataset_load_labeled(const char *cmd, const qsim_model *m, const char *images,
                             const char *labels, const cli_quant_opts *o, size_t limit,
                             cli_dataset *out);

void cli_dataset_free(cli_dataset *d);

/* Progress bar on stderr, only when stderr is a terminal. */
typedef struct cli_progress {
    int tty;
    double t0;
    double t_stage;        /* start of the current stage (for the ETA) */
    char stage[48];
    char label[48];        /* what is drawn, e.g. "adaround 2/4" */
    uint64_t layer, layers; /* AdaRound: layers done / total */
    int drawn;
} cli_progress;

void cli_progress_start(cli_progress *p, const char *stage);
void cli_progress_update(cli_progress *p, uint64_t done, uint64_t total);
void cli_progress_end(cli_progress *p);
/* qsim_progress_fn adapter; user_data is a cli_progress. */
void cli_progress_cb(const char *stage, uint64_t done, uint64_t total, void *user_data);

double cli_now(void);

/* Feeds the whole dataset through the sim in batches (a qsim_forward_fn
 * whose user_data is a cli_feed). */
typedef struct cli_feed {
    const cli_dataset *d;
    size_t batch;
    size_t limit;          /* 0 = all samples */
    cli_progress *progress;
} cli_feed;

qsim_status cli_feed_forward(qsim_sim *s, void *user_data);

/* Top-1 accuracy of the sim's first output over a labeled dataset. */
qsim_status cli_top1(qsim_sim *s, const cli_dataset *d, size_t batch, cli_progress *p,
                     size_t *correct);

/* compute_encodings over the first `limit` samples (0 = all), with progress. */
qsim_status cli_calibrate(qsim_sim *s, const cli_dataset *d, size_t batch, size_t limit);

/* 1 when this build has qsim_apply_adaround. */
int cli_have_adaround(void);

/* qsim_apply_adaround over the first `limit` samples (0 = all) with
 * o->iterations; QSIM_ERR_UNSUPPORTED when not built in. */
qsim_status cli_adaround(qsim_sim *s, const cli_dataset *d, const cli_quant_opts *o,
                         size_t limit);

/* Finds a data file: `name` under QSIM_DATA_DIR (source tree) or the
 * installed share dir; returns a static buffer or NULL. */
const char *cli_find_data(const char *name);

/* Subcommands. */
int cli_cmd_inspect(int argc, char **argv);
int cli_cmd_quantize(int argc, char **argv);
int cli_cmd_eval(int argc, char **argv);
int cli_cmd_demo(int argc, char **argv);

#endif
