/* The quantizer layer of a sim (s->quant): the qc_quantize_op_dict plus
 * what calibration, export and the forward pass need. */
#ifndef QSIM_QUANT_QUANTSIM_H
#define QSIM_QUANT_QUANTSIM_H

#include <qsim/qsim.h>

#include "../sim/sim_internal.h"
#include "quantizer.h"

typedef struct qsim__quantsim {
    qsim__qdict dict;
    /* quantizer_args of exported files (SPEC 5.2) */
    int param_bw, activation_bw;
    int params_symmetric;       /* config defaults.params.is_symmetric */
    int per_channel;            /* config defaults per_channel_quantization */
    int calibrating;            /* inside compute_encodings' callback */
    uint64_t batches;           /* runs seen while calibrating */
} qsim__quantsim;

/* The sim's quantizer state (never NULL after a successful create). */
static inline qsim__quantsim *qsim__quant_of(const qsim_sim *s)
{
    return (qsim__quantsim *)s->quant;
}

/* placement.c: build the dict and apply the config (qsim_sim_create). */
qsim_status qsim__quant_create(qsim_sim *s);
void qsim__quant_free(qsim_sim *s);

/* quantsim.c: install the value hooks and param QDQ (after placement and
 * after any change); called by the engine before each run. */
qsim_status qsim__quant_prepare_run(qsim_sim *s);
/* After a successful run: progress reporting while calibrating. */
void qsim__quant_after_run(qsim_sim *s);

/* ---- for AdaRound (lib/adaround) ---- */

/* The float weights a param quantizer quantizes: the sim's own copy when
 * one was set (AdaRound moves them), else the model's. */
const qsim__tensor *qsim__quant_weight(const qsim_sim *s, const qsim_quantizer *q);
/* Replace a param's float weights with a copy of t (same dtype and shape;
 * NULL restores the model's). The next run re-QDQs them; qsim_export
 * writes them. The qsim_model is never touched. */
qsim_status qsim__quant_set_weight(qsim_sim *s, qsim_quantizer *q, const qsim__tensor *t);
/* compute_encodings' one-shot for one enabled int param: encodings from
 * its current weights with the sim's scheme. */
qsim_status qsim__quant_param_encodings(qsim_sim *s, qsim_quantizer *q);
/* Set q's encodings (q->channels entries) and freeze it. */
qsim_status qsim__quant_freeze(qsim_quantizer *q, const qsim__encoding *enc);

#endif
