/* The quantized forward pass and qsim_compute_encodings (SPEC 2, 4).
 *
 * Activations: a value hook on every enabled activation quantizer's tensor
 * QDQs it in place right after it is produced (int: per-tensor kernel;
 * float: FP16 round trip). While calibrating, int quantizers collect
 * statistics and pass data through; float ones pass through (SPEC 2.2).
 * Params: the QDQ'd copy of the weight replaces the constant in the engine
 * (which re-initializes, e.g. repacks, the consuming node) only when the
 * quantizer's version changed since the copy was made. */
#include "quantsim.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../kernels/fp16.h"
#include "../kernels/quant.h"
#include "config_json.h"
#include "encoding.h"
#include "placement.h"

#include <math.h>
#include <string.h>

/* ---- create / free ----------------------------------------------------------- */

void qsim__quant_free(qsim_sim *s)
{
    qsim__quantsim *qs = qsim__quant_of(s);
    if (!qs)
        return;
    qsim__qdict_clear(&qs->dict);
    qsim__free(qs);
    s->quant = NULL;
}

qsim_status qsim__quant_create(qsim_sim *s)
{
    qsim__quantsim *qs = qsim__calloc(1, sizeof *qs);
    if (!qs)
        return qsim__oom();
    s->quant = qs;
    QSIM__TRY(qsim__qdict_init(&qs->dict));
    qsim__config *cfg = NULL;
    if (s->opts.config_file) {
        qsim_status st = qsim__config_load(s->opts.config_file, &cfg);
        if (st != QSIM_OK)
            return qsim__fail_prefix(st, "qsim_sim_create: quantsim config: ");
    } else {
        QSIM__TRY(qsim__config_default(s->opts.per_channel, &cfg));
    }
    qsim__place_opts po = {s->opts.param_bw, s->opts.activation_bw, s->opts.data_type,
                          s->opts.quant_scheme};
    qsim_status st = qsim__place_quantizers(s->g, cfg, &po, &qs->dict);
    qs->param_bw = s->opts.param_bw;
    qs->activation_bw = s->opts.activation_bw;
    qs->params_symmetric = cfg->params_is_symmetric > 0;
    qs->per_channel = cfg->per_channel_quantization > 0;
    qsim__config_free(cfg);
    if (st != QSIM_OK)
        return qsim__fail_prefix(st, "qsim_sim_create: placing quantizers: ");
    return QSIM_OK;
}

/* ---- helpers ------------------------------------------------------------------ */

/* The weight a param quantizer starts from: the sim's moved copy, else the
 * model's. */
static const qsim__tensor *float_weight(const qsim_sim *s, const qsim_quantizer *q)
{
    return q->weight ? q->weight : s->g->values[q->value].constant;
}

/* outer x channels x inner split of a tensor along q->axis. */
static void channel_split(const qsim__tensor *t, int axis, size_t *outer, size_t *ch,
                          size_t *inner)
{
    size_t o = 1, in = 1;
    for (int d = 0; d < axis; d++)
        o *= (size_t)t->shape.dims[d];
    for (int d = axis + 1; d < t->shape.rank; d++)
        in *= (size_t)t->shape.dims[d];
    *outer = o;
    *ch = (size_t)t->shape.dims[axis];
    *inner = in;
}

/* One batch into q->stats: x is the whole tensor t (per-channel params)
 * or a flat activation (t NULL). */
static qsim_status stats_update(qsim_quantizer *q, const float *x, size_t numel,
                                const qsim__tensor *t)
{
    qsim__qstats *st = &q->stats;
    if (!numel || !st->mm)
        return QSIM_OK;
    if (q->channels == 1 || !t) {
        qsim__minmax_update(&st->mm[0], x, numel);
        if (st->hist)
            qsim__hist_update(&st->hist[0], x, numel);
        return QSIM_OK;
    }
    size_t outer, ch, inner;
    channel_split(t, q->axis, &outer, &ch, &inner);
    qsim__minmax_update_channels(st->mm, ch, x, outer, inner);
    if (st->hist)
        QSIM__TRY(qsim__hist_update_channels(st->hist, ch, x, outer, inner));
    return QSIM_OK;
}

static unsigned enc_flags(const qsim_quantizer *q)
{
    return (q->symmetric ? QSIM__ENC_SYMMETRIC : 0u) | (q->strict ? QSIM__ENC_STRICT : 0u) |
           (q->unsigned_sym ? QSIM__ENC_UNSIGNED : 0u);
}

/* Encodings from the collected stats with the sim's scheme (fixed ranges
 * from encoding_constraints win). */
static qsim_status encodings_from_stats(const qsim_sim *s, qsim_quantizer *q)
{
    qsim__encoding stack[1];
    qsim__encoding *enc = q->channels == 1 ? stack
                                           : qsim__malloc_array(q->channels, sizeof *enc);
    if (!enc)
        return qsim__oom();
    unsigned flags = enc_flags(q);
    qsim_status st = QSIM_OK;
    for (size_t c = 0; c < q->channels && st == QSIM_OK; c++) {
        if (q->has_fixed_range)
            st = qsim__encoding_from_min_max(q->fixed_min, q->fixed_max, q->bitwidth, flags,
                                             &enc[c]);
        else if (q->scheme == QSIM_SCHEME_TF_ENHANCED && q->stats.hist)
            st = qsim__encoding_tf_enhanced(&q->stats.hist[c], q->bitwidth, flags, &enc[c]);
        else if (q->scheme == QSIM_SCHEME_PERCENTILE && q->stats.hist)
            st = qsim__encoding_percentile(&q->stats.hist[c], (float)s->opts.percentile,
                                           q->bitwidth, flags, &enc[c]);
        else
            st = qsim__encoding_tf(&q->stats.mm[c], q->bitwidth, flags, &enc[c]);
    }
    if (st == QSIM_OK)
        st = qsim__quantizer_set_encodings(q, enc);
    else
        st = qsim__fail_prefix(st, "quantizer '%s': ", q->name);
    if (enc != stack)
        qsim__free(enc);
    return st;
}

/* ---- the forward pass ------------------------------------------------------- */

/* Params and activation quantizers of constant operands: their data is
 * known up front, so QDQ happens once on a copy instead of in a hook. */
static int is_const_q(const qsim_sim *s, const qsim_quantizer *q)
{
    return q->kind == QSIM_QUANTIZER_PARAM || s->g->values[q->value].constant != NULL;
}

/* Activation work split over the sim's threads in fixed chunks (the
 * kernels are pure, so results do not depend on the split). */
enum { JOB_QDQ, JOB_FP16, JOB_MINMAX };
#define CHUNK 16384

typedef struct act_job {
    int kind;
    float *x;
    size_t n;
    qsim__qdq_params p;
    float *mm;              /* JOB_MINMAX: 2 per chunk */
} act_job;

static void act_task(void *ctx, size_t task, int thread)
{
    act_job *j = ctx;
    (void)thread;
    size_t lo = task * CHUNK, len = j->n - lo < CHUNK ? j->n - lo : CHUNK;
    float *x = j->x + lo;
    if (j->kind == JOB_QDQ)
        qsim__qdq_f32(x, x, len, &j->p, QSIM__ROUND_HALF_AWAY);
    else if (j->kind == JOB_FP16)
        qsim__fp16_qdq_f32(x, x, len);
    else
        qsim__minmax_f32(x, len, &j->mm[2 * task], &j->mm[2 * task + 1]);
}

static void act_run(qsim_sim *s, act_job *j)
{
    size_t tasks = (j->n + CHUNK - 1) / CHUNK;
    if (tasks <= 1 || !s->pool)
        for (size_t t = 0; t < tasks; t++)
            act_task(j, t, 0);
    else
        qsim__pool_run(s->pool, tasks, act_task, j);
}

/* Per-tensor QDQ: the grid is regenerated from (min, max, bw) (SPEC 3.3). */
static qsim_status qdq_tensor(qsim_sim *s, const qsim_quantizer *q, float *x, size_t n)
{
    act_job j = {JOB_QDQ, x, n, {0, 0, 0, 0}, NULL};
    const qsim__encoding *e = &q->enc[0];
    QSIM__TRY(qsim__qdq_params_tensor(e->min, e->max, e->bw, &j.p));
    if (s)
        act_run(s, &j);
    else
        qsim__qdq_f32(x, x, n, &j.p, QSIM__ROUND_HALF_AWAY);
    return QSIM_OK;
}

/* Calibration stats of an activation: min/max per chunk in parallel, then
 * one update with the chunk extremes (the same result as one pass). */
static qsim_status act_stats(qsim_sim *s, qsim_quantizer *q, float *x, size_t n)
{
    size_t tasks = (n + CHUNK - 1) / CHUNK;
    if (q->stats.hist || tasks <= 1 || !s->pool || !q->stats.mm)
        return stats_update(q, x, n, NULL);
    float stack[64];
    float *mm = tasks <= 32 ? stack : qsim__malloc_array(tasks, 2 * sizeof *mm);
    if (!mm)
        return qsim__oom();
    act_job j = {JOB_MINMAX, x, n, {0, 0, 0, 0}, mm};
    act_run(s, &j);
    size_t k = 0;
    for (size_t t = 0; t < tasks; t++)
        if (mm[2 * t] <= mm[2 * t + 1]) { /* chunks of only NaN give +inf > -inf */
            mm[k++] = mm[2 * t];
            mm[k++] = mm[2 * t + 1];
        }
    if (!k)
        mm[k++] = NAN; /* counts as a batch, adds no value */
    qsim__minmax_update(&q->stats.mm[0], mm, k);
    if (mm != stack)
        qsim__free(mm);
    return QSIM_OK;
}

static qsim_status act_hook(void *ctx, qsim_sim *s, int32_t value, qsim__tview *t)
{
    qsim_quantizer *q = ctx;
    qsim__quantsim *qs = qsim__quant_of(s);
    (void)value;
    if (!q->enabled || t->dtype != QSIM__DT_FLOAT || !t->numel)
        return QSIM_OK;
    float *x = t->data;
    if (q->data_type == QSIM_DATA_TYPE_FLOAT) {
        if (!qs->calibrating) {
            act_job j = {JOB_FP16, x, t->numel, {0, 0, 0, 0}, NULL};
            act_run(s, &j);
        }
        return QSIM_OK;
    }
    if (qs->calibrating && !q->frozen)
        return act_stats(s, q, x, t->numel);
    if (q->enc)
        return qdq_tensor(s, q, x, t->numel);
    return QSIM_OK;
}

/* QDQ'd copy of a param per its current state; NULL out = use the float
 * weight unchanged. */
static qsim_status param_qdq(const qsim_sim *s, qsim_quantizer *q, qsim__tensor **out)
{
    *out = NULL;
    if (!q->enabled)
        return QSIM_OK;
    if (q->data_type == QSIM_DATA_TYPE_INT && !q->enc)
        return QSIM_OK;
    const qsim__tensor *w = float_weight(s, q);
    qsim__tensor *c = qsim__tensor_clone(w);
    if (!c)
        return qsim__oom();
    float *x = c->data;
    qsim_status st = QSIM_OK;
    if (q->data_type == QSIM_DATA_TYPE_FLOAT) {
        qsim__fp16_qdq_f32(x, x, c->numel);
    } else if (q->channels == 1) {
        st = qdq_tensor(NULL, q, x, c->numel);
    } else {
        /* per-channel QDQ uses the stored grids as they are */
        size_t outer, ch, inner;
        channel_split(c, q->axis, &outer, &ch, &inner);
        qsim__qdq_params *p = qsim__malloc_array(ch, sizeof *p);
        if (!p) {
            st = qsim__oom();
        } else {
            for (size_t k = 0; k < ch; k++)
                qsim__qdq_params_from_encoding(&q->enc[k], &p[k]);
            qsim__qdq_channels_f32(x, x, outer, ch, inner, p, QSIM__ROUND_HALF_AWAY);
            qsim__free(p);
        }
    }
    if (st != QSIM_OK) {
        qsim__tensor_free(c);
        return st;
    }
    *out = c;
    return QSIM_OK;
}

qsim_status qsim__quant_prepare_run(qsim_sim *s)
{
    qsim__quantsim *qs = qsim__quant_of(s);
    if (!qs)
        return QSIM_OK;
    size_t n = qsim__qdict_count(&qs->dict);
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim__qdict_at(&qs->dict, i);
        if (!is_const_q(s, q)) {
            /* hooks only where they do something: a hooked value owns its
             * buffer and is never folded, so idle ones would cost memory */
            int want = q->enabled && (q->data_type == QSIM_DATA_TYPE_FLOAT || q->enc ||
                                      (qs->calibrating && !q->frozen));
            /* a hook someone else installed (a test, a tool) is left alone */
            qsim__value_hook_fn cur = s->hooks[q->value].fn;
            if (cur && cur != act_hook)
                continue;
            int have = cur != NULL;
            if (want != have)
                QSIM__TRY(qsim__sim_set_hook(s, q->value, want ? act_hook : NULL, q));
            continue;
        }
        /* constants: the engine gets the QDQ'd copy, re-made only when the
         * quantizer changed. A constant activation (an operand such as an
         * Add's initializer) passes through while calibrating (updateStats) */
        int pass = q->kind == QSIM_QUANTIZER_ACTIVATION && qs->calibrating && !q->frozen;
        uint64_t key = q->version * 2 + (uint64_t)pass;
        if (q->applied_version == key)
            continue;
        qsim__tensor *t = NULL;
        if (!pass)
            QSIM__TRY(param_qdq(s, q, &t));
        qsim_status st = qsim__sim_set_constant(s, q->value, t ? t : q->weight);
        qsim__tensor_free(t);
        QSIM__TRY(st);
        q->applied_version = key;
    }
    return QSIM_OK;
}

/* ---- compute_encodings -------------------------------------------------------- */

/* AIMET's oneShotQuantizeDequantize for params: encodings from the weight. */
static qsim_status one_shot(qsim_sim *s, qsim_quantizer *q)
{
    const qsim__tensor *w = float_weight(s, q);
    QSIM__TRY(qsim__qstats_reset(q, q->scheme != QSIM_SCHEME_TF));
    QSIM__TRY(stats_update(q, w->data, w->numel, w));
    return encodings_from_stats(s, q);
}

static int calibrated(const qsim_quantizer *q)
{
    return q->enabled && !q->frozen && q->data_type == QSIM_DATA_TYPE_INT;
}

qsim_status qsim_compute_encodings(qsim_sim *s, qsim_forward_fn fn, void *user_data)
{
    QSIM__TRY(qsim__sim_check(s, "qsim_compute_encodings"));
    if (!fn)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_compute_encodings: callback is NULL");
    if (s->busy)
        return qsim__fail(QSIM_ERR_STATE, "qsim_compute_encodings: called from inside "
                          "compute_encodings or apply_adaround on the same sim");
    qsim__quantsim *qs = qsim__quant_of(s);
    if (!qs)
        return qsim__fail(QSIM_ERR_STATE, "qsim_compute_encodings: the sim has no quantizers");
    size_t n = qsim__qdict_count(&qs->dict);
    qsim_status st = QSIM_OK;
    for (size_t i = 0; i < n && st == QSIM_OK; i++) {
        qsim_quantizer *q = qsim__qdict_at(&qs->dict, i);
        if (q->frozen)
            continue;
        if (is_const_q(s, q)) {
            if (calibrated(q))
                st = one_shot(s, q);
        } else {
            st = qsim__qstats_reset(q, q->scheme != QSIM_SCHEME_TF);
            if (st == QSIM_OK && calibrated(q))
                qsim__quantizer_reset_encodings(q);
        }
    }
    if (st != QSIM_OK)
        return st;
    s->busy = 1;
    qs->calibrating = 1;
    qs->batches = 0;
    if (s->progress)
        s->progress("compute_encodings", 0, 0, s->progress_user);
    st = fn(s, user_data);
    qs->calibrating = 0;
    s->busy = 0;
    s->have_run = 0; /* outputs of calibration runs are not quantized ones */
    if (st != QSIM_OK)
        return qsim__fail_prefix(st, "qsim_compute_encodings: the forward callback failed: ");
    for (size_t i = 0; i < n; i++) {
        qsim_quantizer *q = qsim__qdict_at(&qs->dict, i);
        if (is_const_q(s, q) || !calibrated(q))
            continue;
        if ((!q->stats.mm || !q->stats.mm[0].batches) && !q->has_fixed_range)
            continue; /* saw no data: stays without encoding, as in AIMET */
        QSIM__TRY(encodings_from_stats(s, q));
    }
    for (size_t i = 0; i < n; i++) /* statistics are not needed any more */
        qsim__qstats_free(&qsim__qdict_at(&qs->dict, i)->stats);
    return QSIM_OK;
}

void qsim__quant_after_run(qsim_sim *s)
{
    qsim__quantsim *qs = qsim__quant_of(s);
    if (!qs || !qs->calibrating)
        return;
    qs->batches++;
    if (s->progress)
        s->progress("compute_encodings", qs->batches, 0, s->progress_user);
}

/* ---- for AdaRound -------------------------------------------------------------- */

const qsim__tensor *qsim__quant_weight(const qsim_sim *s, const qsim_quantizer *q)
{
    return float_weight(s, q);
}

qsim_status qsim__quant_set_weight(qsim_sim *s, qsim_quantizer *q, const qsim__tensor *t)
{
    const qsim__tensor *orig = s->g->values[q->value].constant;
    if (q->kind != QSIM_QUANTIZER_PARAM || !orig)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "quantizer '%s' is not a param", q->name);
    qsim__tensor *copy = NULL;
    if (t) {
        if (t->dtype != orig->dtype || !qsim__shape_equal(&t->shape, &orig->shape))
            return qsim__fail(QSIM_ERR_SHAPE, "param '%s': new weights differ in type or shape",
                              q->name);
        if (!(copy = qsim__tensor_clone(t)))
            return qsim__oom();
    }
    qsim__tensor_free(q->weight);
    q->weight = copy;
    q->version++;
    return QSIM_OK;
}

qsim_status qsim__quant_param_encodings(qsim_sim *s, qsim_quantizer *q)
{
    if (q->kind != QSIM_QUANTIZER_PARAM || q->data_type != QSIM_DATA_TYPE_INT)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "quantizer '%s' is not an int param",
                          q->name);
    qsim_status st = one_shot(s, q);
    qsim__qstats_free(&q->stats);
    return st;
}

qsim_status qsim__quant_freeze(qsim_quantizer *q, const qsim__encoding *enc)
{
    QSIM__TRY(qsim__quantizer_set_encodings(q, enc));
    q->frozen = 1;
    return QSIM_OK;
}
