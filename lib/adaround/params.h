/* AdaRound hyper-parameters (the public qsim_adaround_params). */
#ifndef QSIM_ADAROUND_PARAMS_H
#define QSIM_ADAROUND_PARAMS_H

#include <qsim/qsim.h>
#include <stdint.h>

enum {
    QSIM__ADA_FORM_AUTO = 0,
    QSIM__ADA_FORM_DIRECT = 1,
    QSIM__ADA_FORM_GRAM = 2,
};

struct qsim_adaround_params {
    int64_t num_batches;    /* 0 = every batch */
    int64_t num_iterations;
    int64_t seed;
    int64_t batch_size;
    int64_t max_samples;
    int64_t formulation;    /* QSIM__ADA_FORM_* */
    double reg_param, beta_start, beta_end, warm_start, lr;
};

/* Fill *p with the defaults (the public create uses this too). */
void qsim__adaround_params_default(qsim_adaround_params *p);

#endif
