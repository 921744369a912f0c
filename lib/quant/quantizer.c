/* The public quantizer calls (API.md "Quantizers") and quantizer internals. */
#include "quantsim.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <string.h>

/* ---- internals ---------------------------------------------------------- */

void qsim__qstats_free(qsim__qstats *s)
{
    qsim__free(s->mm);
    qsim__free(s->hist);
    s->mm = NULL;
    s->hist = NULL;
    s->channels = 0;
}

qsim_status qsim__qstats_reset(qsim_quantizer *q, int with_hist)
{
    qsim__qstats *s = &q->stats;
    qsim__qstats_free(s);
    s->mm = qsim__malloc_array(q->channels, sizeof *s->mm);
    if (with_hist)
        s->hist = qsim__malloc_array(q->channels, sizeof *s->hist);
    if (!s->mm || (with_hist && !s->hist)) {
        qsim__qstats_free(s);
        return qsim__oom();
    }
    s->channels = q->channels;
    for (size_t c = 0; c < s->channels; c++) {
        qsim__minmax_reset(&s->mm[c]);
        if (s->hist)
            qsim__hist_reset(&s->hist[c]);
    }
    return QSIM_OK;
}

void qsim__quantizer_free(qsim_quantizer *q)
{
    if (!q)
        return;
    qsim__qstats_free(&q->stats);
    qsim__free(q->enc);
    qsim__free(q->name);
    qsim__tensor_free(q->weight);
    q->magic = 0;
    qsim__free(q);
}

void qsim__quantizer_reset_encodings(qsim_quantizer *q)
{
    qsim__free(q->enc);
    q->enc = NULL;
    q->version++;
}

qsim_status qsim__quantizer_set_channels(qsim_quantizer *q, int axis, size_t channels)
{
    if (channels == 0)
        return qsim__fail(QSIM_ERR_SHAPE, "quantizer '%s': per-channel axis %d has no channels",
                          q->name, axis);
    qsim__quantizer_reset_encodings(q);
    qsim__qstats_free(&q->stats);
    q->axis = channels == 1 && axis < 0 ? -1 : axis;
    q->channels = channels;
    return QSIM_OK;
}

qsim_status qsim__quantizer_set_encodings(qsim_quantizer *q, const qsim__encoding *enc)
{
    qsim__encoding *copy = qsim__malloc_array(q->channels, sizeof *copy);
    if (!copy)
        return qsim__oom();
    memcpy(copy, enc, q->channels * sizeof *copy);
    qsim__free(q->enc);
    q->enc = copy;
    q->version++;
    return QSIM_OK;
}

/* ---- public ------------------------------------------------------------- */

static int live(const qsim_quantizer *q) { return q && q->magic == QSIM__QUANTIZER_MAGIC; }

#define CHECK_Q(q, fn)                                                                    \
    do {                                                                                  \
        if (!live(q))                                                                     \
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: quantizer handle is %s", fn, \
                              (q) ? "not a live quantizer" : "NULL");                     \
    } while (0)

/* Setters that change how a quantizer computes its encodings refuse frozen
 * ones (set_and_freeze_param_encodings pinned them). */
#define CHECK_NOT_FROZEN(q, fn)                                                           \
    do {                                                                                  \
        if ((q)->frozen)                                                                  \
            return qsim__fail(QSIM_ERR_FROZEN,                                            \
                              "%s: quantizer '%s' is frozen (its encodings were set and " \
                              "frozen)", fn, (q)->name);                                  \
    } while (0)

size_t qsim_quantizer_count(const qsim_sim *s)
{
    if (!s || s->magic != QSIM__SIM_MAGIC || !s->quant)
        return 0;
    return qsim__qdict_count(&qsim__quant_of(s)->dict);
}

qsim_quantizer *qsim_quantizer_at(qsim_sim *s, size_t i)
{
    if (qsim__sim_check(s, "qsim_quantizer_at") != QSIM_OK)
        return NULL;
    size_t n = qsim_quantizer_count(s);
    if (i >= n) {
        qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_quantizer_at: index %zu out of range (%zu quantizers)",
                   i, n);
        return NULL;
    }
    return qsim__qdict_at(&qsim__quant_of(s)->dict, i);
}

qsim_quantizer *qsim_quantizer_find(qsim_sim *s, const char *name)
{
    if (qsim__sim_check(s, "qsim_quantizer_find") != QSIM_OK)
        return NULL;
    if (!name) {
        qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_quantizer_find: name is NULL");
        return NULL;
    }
    if (!s->quant) {
        qsim__fail(QSIM_ERR_NOT_FOUND, "qsim_quantizer_find: the sim has no quantizers");
        return NULL;
    }
    const qsim__qdict *d = &qsim__quant_of(s)->dict;
    qsim_quantizer *q = qsim__qdict_get(d, name);
    if (!q)
        qsim__qdict_fail_missing(d, QSIM_ERR_NOT_FOUND, "qsim_quantizer_find: ", name);
    return q;
}

const char *qsim_quantizer_name(const qsim_quantizer *q) { return live(q) ? q->name : NULL; }

qsim_quantizer_kind qsim_quantizer_get_kind(const qsim_quantizer *q)
{
    return live(q) ? (qsim_quantizer_kind)q->kind : QSIM_QUANTIZER_ACTIVATION;
}

const char *qsim_quantizer_op_type(const qsim_quantizer *q) { return live(q) ? q->op_type : NULL; }

static qsim_status check_bitwidth(const qsim_quantizer *q, int data_type, int bw, const char *fn)
{
    if (data_type == QSIM_DATA_TYPE_FLOAT) {
        if (bw != 16)
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "%s: quantizer '%s': bitwidth %d is not supported for float "
                              "(only 16, FP16)", fn, q->name, bw);
    } else if (bw < 2 || bw > 32) {
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "%s: quantizer '%s': bitwidth %d out of range (int: 2..32)", fn, q->name,
                          bw);
    }
    return QSIM_OK;
}

qsim_status qsim_quantizer_set_bitwidth(qsim_quantizer *q, int bitwidth)
{
    CHECK_Q(q, "qsim_quantizer_set_bitwidth");
    CHECK_NOT_FROZEN(q, "qsim_quantizer_set_bitwidth");
    QSIM__TRY(check_bitwidth(q, q->data_type, bitwidth, "qsim_quantizer_set_bitwidth"));
    q->bitwidth = bitwidth;
    qsim__quantizer_reset_encodings(q);
    return QSIM_OK;
}

int qsim_quantizer_get_bitwidth(const qsim_quantizer *q) { return live(q) ? q->bitwidth : 0; }

qsim_status qsim_quantizer_set_quant_scheme(qsim_quantizer *q, qsim_quant_scheme scheme)
{
    CHECK_Q(q, "qsim_quantizer_set_quant_scheme");
    if (scheme != QSIM_SCHEME_TF && scheme != QSIM_SCHEME_TF_ENHANCED &&
        scheme != QSIM_SCHEME_PERCENTILE)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_quantizer_set_quant_scheme: quantizer '%s': unknown scheme %d",
                          q->name, (int)scheme);
    CHECK_NOT_FROZEN(q, "qsim_quantizer_set_quant_scheme");
    if ((int)scheme == q->scheme)
        return QSIM_OK;
    q->scheme = (int)scheme;
    qsim__quantizer_reset_encodings(q);
    return QSIM_OK;
}

qsim_quant_scheme qsim_quantizer_get_quant_scheme(const qsim_quantizer *q)
{
    return live(q) ? (qsim_quant_scheme)q->scheme : QSIM_SCHEME_TF;
}

qsim_status qsim_quantizer_set_data_type(qsim_quantizer *q, qsim_data_type t)
{
    CHECK_Q(q, "qsim_quantizer_set_data_type");
    if (t != QSIM_DATA_TYPE_INT && t != QSIM_DATA_TYPE_FLOAT)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_quantizer_set_data_type: quantizer '%s': unknown data type %d",
                          q->name, (int)t);
    CHECK_NOT_FROZEN(q, "qsim_quantizer_set_data_type");
    if ((int)t == q->data_type)
        return QSIM_OK;
    q->data_type = (int)t;
    /* float only exists as FP16 for now: switching to it sets bw 16 */
    if (t == QSIM_DATA_TYPE_FLOAT)
        q->bitwidth = 16;
    qsim__quantizer_reset_encodings(q);
    return QSIM_OK;
}

qsim_data_type qsim_quantizer_get_data_type(const qsim_quantizer *q)
{
    return live(q) ? (qsim_data_type)q->data_type : QSIM_DATA_TYPE_INT;
}

qsim_status qsim_quantizer_set_enabled(qsim_quantizer *q, int enabled)
{
    CHECK_Q(q, "qsim_quantizer_set_enabled");
    if (!!enabled != q->enabled) {
        q->enabled = !!enabled;
        q->version++;
    }
    return QSIM_OK;
}

int qsim_quantizer_is_enabled(const qsim_quantizer *q) { return live(q) ? q->enabled : 0; }
int qsim_quantizer_is_frozen(const qsim_quantizer *q) { return live(q) ? q->frozen : 0; }

qsim_status qsim_quantizer_get_encoding(const qsim_quantizer *q, size_t channel, double *min,
                                        double *max, double *scale, int64_t *offset)
{
    CHECK_Q(q, "qsim_quantizer_get_encoding");
    if (q->data_type == QSIM_DATA_TYPE_FLOAT)
        return qsim__fail(QSIM_ERR_STATE, "qsim_quantizer_get_encoding: quantizer '%s' is float "
                          "(FP16) and has no encoding", q->name);
    if (!q->enc)
        return qsim__fail(QSIM_ERR_STATE, "qsim_quantizer_get_encoding: quantizer '%s' has no "
                          "encoding yet (run qsim_compute_encodings)", q->name);
    if (channel >= q->channels)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_quantizer_get_encoding: quantizer '%s': channel %zu out of range "
                          "(%zu channels)", q->name, channel, q->channels);
    const qsim__encoding *e = &q->enc[channel];
    if (min)
        *min = e->min;
    if (max)
        *max = e->max;
    if (scale)
        *scale = e->delta;
    if (offset)
        *offset = e->offset;
    return QSIM_OK;
}

size_t qsim_quantizer_channel_count(const qsim_quantizer *q) { return live(q) ? q->channels : 0; }
