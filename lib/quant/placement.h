/* Quantizer placement (SPEC 1.2) and applying a parsed quantsim config
 * (lib/quant/config_json.h) to the placed quantizers (SPEC 7). */
#ifndef QSIM_QUANT_PLACEMENT_H
#define QSIM_QUANT_PLACEMENT_H

#include <qsim/qsim.h>
#include <stdint.h>

#include "config_json.h"
#include "quantizer.h"

/* What placement needs from the sim's options. */
typedef struct qsim__place_opts {
    int param_bw, activation_bw;
    int data_type;
    int quant_scheme;
} qsim__place_opts;

/* Build the dict for graph g and apply config c. On failure the dict holds
 * whatever was built (the caller clears it). */
qsim_status qsim__place_quantizers(const qsim__graph *g, const qsim__config *c,
                                   const qsim__place_opts *o, qsim__qdict *d);

/* Per-channel axis of a param of node n (SPEC 1.2), -1 when the op has no
 * per-channel quantization. rank is the param's rank. */
int qsim__param_channel_axis(const qsim__node *n, int rank);

#endif
