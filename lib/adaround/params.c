/* qsim_adaround_params: defaults and bounds-checked setters. */
#include "params.h"

#include <math.h>

#include "../core/alloc.h"
#include "../core/error.h"

void qsim__adaround_params_default(qsim_adaround_params *p)
{
    p->num_batches = 0;
    p->num_iterations = 10000;
    p->seed = 0;
    p->batch_size = 32;
    p->max_samples = 1024;
    p->formulation = QSIM__ADA_FORM_AUTO;
    p->reg_param = 0.01;
    p->beta_start = 20.0;
    p->beta_end = 2.0;
    p->warm_start = 0.2;
    p->lr = 1e-3;
}

qsim_status qsim_adaround_params_create(qsim_adaround_params **out)
{
    if (!out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_adaround_params_create: out is NULL");
    qsim_adaround_params *p = qsim__calloc(1, sizeof *p);
    if (!p)
        return qsim__oom();
    qsim__adaround_params_default(p);
    *out = p;
    return QSIM_OK;
}

void qsim_adaround_params_free(qsim_adaround_params *p)
{
    qsim__free(p);
}

static qsim_status int_range(const char *name, int64_t v, int64_t lo, int64_t hi, int64_t *dst)
{
    if (v < lo || v > hi)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_adaround_params_set_int: %s = %lld is outside [%lld, %lld]", name,
                          (long long)v, (long long)lo, (long long)hi);
    *dst = v;
    return QSIM_OK;
}

qsim_status qsim_adaround_params_set_int(qsim_adaround_params *p, qsim_adaround_key k, int64_t v)
{
    if (!p)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_adaround_params_set_int: params is NULL");
    switch (k) {
    case QSIM_ADAROUND_NUM_BATCHES:
        return int_range("NUM_BATCHES", v, 0, INT64_MAX, &p->num_batches);
    case QSIM_ADAROUND_NUM_ITERATIONS:
        return int_range("NUM_ITERATIONS", v, 1, 100000000, &p->num_iterations);
    case QSIM_ADAROUND_SEED:
        p->seed = v;
        return QSIM_OK;
    case QSIM_ADAROUND_BATCH_SIZE:
        return int_range("BATCH_SIZE", v, 1, (int64_t)1 << 20, &p->batch_size);
    case QSIM_ADAROUND_MAX_SAMPLES:
        return int_range("MAX_SAMPLES", v, 1, (int64_t)1 << 31, &p->max_samples);
    case QSIM_ADAROUND_FORMULATION:
        return int_range("FORMULATION", v, 0, 2, &p->formulation);
    case QSIM_ADAROUND_REG_PARAM:
    case QSIM_ADAROUND_BETA_START:
    case QSIM_ADAROUND_BETA_END:
    case QSIM_ADAROUND_WARM_START:
    case QSIM_ADAROUND_LEARNING_RATE:
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_adaround_params_set_int: key %d is a real key (use set_double)",
                          (int)k);
    }
    return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_adaround_params_set_int: unknown key %d",
                      (int)k);
}

static qsim_status real_range(const char *name, double v, double lo, int lo_open, double hi,
                              double *dst)
{
    if (!isfinite(v) || v < lo || (lo_open && v == lo) || v > hi)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_adaround_params_set_double: %s = %g is outside %c%g, %g]", name, v,
                          lo_open ? '(' : '[', lo, hi);
    *dst = v;
    return QSIM_OK;
}

qsim_status qsim_adaround_params_set_double(qsim_adaround_params *p, qsim_adaround_key k, double v)
{
    if (!p)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_adaround_params_set_double: params is NULL");
    switch (k) {
    case QSIM_ADAROUND_REG_PARAM:
        return real_range("REG_PARAM", v, 0.0, 0, 1e30, &p->reg_param);
    case QSIM_ADAROUND_BETA_START:
        return real_range("BETA_START", v, 0.0, 1, 1e6, &p->beta_start);
    case QSIM_ADAROUND_BETA_END:
        return real_range("BETA_END", v, 0.0, 1, 1e6, &p->beta_end);
    case QSIM_ADAROUND_WARM_START:
        return real_range("WARM_START", v, 0.0, 0, 1.0, &p->warm_start);
    case QSIM_ADAROUND_LEARNING_RATE:
        return real_range("LEARNING_RATE", v, 0.0, 1, 1e6, &p->lr);
    case QSIM_ADAROUND_NUM_BATCHES:
    case QSIM_ADAROUND_NUM_ITERATIONS:
    case QSIM_ADAROUND_SEED:
    case QSIM_ADAROUND_BATCH_SIZE:
    case QSIM_ADAROUND_MAX_SAMPLES:
    case QSIM_ADAROUND_FORMULATION:
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_adaround_params_set_double: key %d is an integer key (use set_int)",
                          (int)k);
    }
    return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_adaround_params_set_double: unknown key %d",
                      (int)k);
}
