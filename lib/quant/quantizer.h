/* Quantizers (AIMET's QcQuantizeOp) and the qc_quantize_op_dict.
 *
 * One quantizer per quantized tensor, keyed by the tensor's name in the
 * model. The registry (registry.c) owns them, in graph order; placement
 * (placement.c) creates them at qsim_sim_create and applies the quantsim
 * config; quantsim.c runs them (QDQ in the forward pass, calibration,
 * export, set_and_freeze).
 *
 * Every change that affects what a quantizer computes bumps `version`, so
 * the sim re-QDQs a cached weight (and the conv repacks it) only when
 * something actually changed. */
#ifndef QSIM_QUANT_QUANTIZER_H
#define QSIM_QUANT_QUANTIZER_H

#include <qsim/qsim.h>
#include <stddef.h>
#include <stdint.h>

#include "../core/strmap.h"
#include "../core/tensor.h"
#include "../onnx/graph.h"
#include "encoding.h"
#include "stats.h"

#define QSIM__QUANTIZER_MAGIC 0x51544e5au /* "QTNZ" */

/* Param type as ConnectedGraph names it: the key of the config's "params"
 * sections. BN mean/var have none (AIMET's type None). */
typedef enum qsim__param_type {
    QSIM__PARAM_NONE = 0,
    QSIM__PARAM_WEIGHT = 1,
    QSIM__PARAM_BIAS = 2,
} qsim__param_type;

/* Calibration statistics (lib/quant/stats.h), one collector per channel:
 * min/max always, the 512-bin histogram for TF-enhanced and percentile.
 * Memory is fixed per quantizer, independent of the number of batches. */
typedef struct qsim__qstats {
    size_t channels;
    qsim__minmax *mm;       /* channels entries */
    qsim__hist *hist;       /* channels entries, NULL for the TF scheme */
} qsim__qstats;

struct qsim_quantizer {
    uint32_t magic;
    char *name;                 /* tensor / initializer name (owned) */
    int32_t value;              /* graph value index */
    int kind;                   /* qsim_quantizer_kind */
    int32_t node;               /* producer (activation) / first consumer (param), -1 */
    const char *op_type;        /* that node's op type, "" for a model input */
    int param_type;             /* qsim__param_type (params only) */

    int enabled;
    int bitwidth;
    int data_type;              /* qsim_data_type */
    int symmetric, strict, unsigned_sym;
    int scheme;                 /* qsim_quant_scheme (the sim's option unless set) */

    int axis;                   /* per-channel axis, -1 per-tensor */
    size_t channels;            /* 1 when per-tensor */
    qsim__encoding *enc;            /* `channels` encodings, NULL when none */
    int frozen;

    int has_fixed_range;        /* config encoding_constraints */
    double fixed_min, fixed_max;

    qsim__qstats stats;
    uint64_t version;           /* bumped on every change */

    /* params: the sim's current float weights (NULL = the model's; AdaRound
     * moves them). Constants (params and constant operands): which state
     * (version * 2 + calibrating pass-through) the engine's copy reflects. */
    qsim__tensor *weight;
    uint64_t applied_version;
};

/* ---- the dict (registry.c) ------------------------------------------- */

typedef struct qsim__qdict {
    qsim__strmap *map;          /* name -> qsim_quantizer*, graph order */
} qsim__qdict;

qsim_status qsim__qdict_init(qsim__qdict *d);
void qsim__qdict_clear(qsim__qdict *d);
/* Create and insert a quantizer for value v (name = the value's name);
 * enabled, int, no encodings. Fails with QSIM_ERR_INTERNAL on a duplicate. */
qsim_status qsim__qdict_add(qsim__qdict *d, const qsim__graph *g, int32_t v, int kind,
                            int32_t node, int param_type, qsim_quantizer **out);
size_t qsim__qdict_count(const qsim__qdict *d);
qsim_quantizer *qsim__qdict_at(const qsim__qdict *d, size_t i);
qsim_quantizer *qsim__qdict_get(const qsim__qdict *d, const char *name);
/* Fail with `st` and "<prefix>'name' ...; closest: 'a', 'b', 'c'". */
qsim_status qsim__qdict_fail_missing(const qsim__qdict *d, qsim_status st, const char *prefix,
                                     const char *name);

/* ---- quantizer internals (quantizer.c) ------------------------------- */

void qsim__quantizer_free(qsim_quantizer *q);
/* Drop encodings (not frozen ones: callers check). Bumps version. */
void qsim__quantizer_reset_encodings(qsim_quantizer *q);
/* Make the quantizer per-channel with `channels` channels on `axis`
 * (channels 1 / axis -1: per-tensor). Drops encodings and stats. */
qsim_status qsim__quantizer_set_channels(qsim_quantizer *q, int axis, size_t channels);
/* Replace the encodings with a copy of `enc` (q->channels entries). */
qsim_status qsim__quantizer_set_encodings(qsim_quantizer *q, const qsim__encoding *enc);
/* Stats: reset (allocating per-channel collectors; histograms only when
 * with_hist) and free. */
qsim_status qsim__qstats_reset(qsim_quantizer *q, int with_hist);
void qsim__qstats_free(qsim__qstats *s);

#endif
