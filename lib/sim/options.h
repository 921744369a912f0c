/* The sim options object: a plain struct behind the opaque public handle.
 * qsim_sim_create copies it, so later modules (quantizer placement,
 * calibration, export) read the sim's copy. */
#ifndef QSIM_SIM_OPTIONS_H
#define QSIM_SIM_OPTIONS_H

#include <qsim/qsim.h>
#include <stdint.h>

#define QSIM__OPTIONS_MAGIC 0x4f505453u /* "OPTS" */

struct qsim_sim_options {
    uint32_t magic;
    int param_bw;             /* QSIM_OPT_DEFAULT_PARAM_BW */
    int activation_bw;        /* QSIM_OPT_DEFAULT_ACTIVATION_BW */
    int quant_scheme;         /* qsim_quant_scheme */
    double percentile;        /* QSIM_OPT_PERCENTILE, parsed */
    char percentile_str[32];  /* as given */
    int data_type;            /* qsim_data_type */
    char *config_file;        /* owned, NULL when unset */
    int num_threads;          /* 0 = all cores */
    char encoding_version[8]; /* "1.0.0", "0.6.1" or "2.0.0" */
    int per_channel;          /* 0/1 */
    int kernels_generic;      /* QSIM_OPT_KERNELS "generic" */
    int qdq_low_bit_clip;     /* QSIM_OPT_QDQ_LOW_BIT "clip" */
};

/* Fill o with the defaults (config_file NULL, nothing allocated). */
void qsim__options_defaults(qsim_sim_options *o);
/* Deep copy into dst (dst's previous contents are not freed). */
qsim_status qsim__options_copy(qsim_sim_options *dst, const qsim_sim_options *src);
/* Free what a copy owns (not the struct itself). */
void qsim__options_clear(qsim_sim_options *o);

#endif
