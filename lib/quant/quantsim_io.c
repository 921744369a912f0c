/* qsim_export and qsim_set_and_freeze_param_encodings (SPEC 5, 6). */
#include "quantsim.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../onnx/export.h"
#include "encodings_json.h"
#include "placement.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- export ------------------------------------------------------------------ */

static const char *scheme_name(int scheme)
{
    switch (scheme) {
    case QSIM_SCHEME_TF_ENHANCED: return "post_training_tf_enhanced";
    case QSIM_SCHEME_PERCENTILE: return "post_training_percentile";
    default: return "post_training_tf";
    }
}

/* One quantizer as an encodings entry; *added 0 when it has nothing to write
 * (disabled, or int without an encoding). */
static qsim_status add_entry(qsim__encodings *e, const qsim_quantizer *q, int *added)
{
    *added = 0;
    if (!q->enabled || (q->data_type == QSIM_DATA_TYPE_INT && !q->enc))
        return QSIM_OK;
    qsim__enc_entry en;
    memset(&en, 0, sizeof en);
    en.name = q->name;
    en.section = q->kind == QSIM_QUANTIZER_PARAM ? QSIM__ENC_SECTION_PARAM
                                                 : QSIM__ENC_SECTION_ACTIVATION;
    en.bitwidth = q->bitwidth;
    en.axis = -1;
    if (q->data_type == QSIM_DATA_TYPE_FLOAT) {
        en.dtype = QSIM__ENC_DTYPE_FLOAT;
        en.enc_type = QSIM__ENC_PER_TENSOR;
        QSIM__TRY(qsim__encodings_add(e, &en));
        *added = 1;
        return QSIM_OK;
    }
    size_t n = q->channels;
    en.dtype = QSIM__ENC_DTYPE_INT;
    en.bitwidth = q->enc[0].bw;
    en.is_symmetric = q->symmetric;
    en.enc_type = q->axis >= 0 ? QSIM__ENC_PER_CHANNEL : QSIM__ENC_PER_TENSOR;
    en.axis = q->axis;
    en.channels = n;
    en.scale = qsim__malloc_array(n, sizeof *en.scale);
    en.offset = qsim__malloc_array(n, sizeof *en.offset);
    en.min = qsim__malloc_array(n, sizeof *en.min);
    en.max = qsim__malloc_array(n, sizeof *en.max);
    qsim_status st = QSIM_OK;
    if (!en.scale || !en.offset || !en.min || !en.max) {
        st = qsim__oom();
    } else {
        for (size_t c = 0; c < n; c++) {
            en.scale[c] = q->enc[c].delta;
            en.offset[c] = q->enc[c].offset;
            en.min[c] = q->enc[c].min;
            en.max[c] = q->enc[c].max;
        }
        st = qsim__encodings_add(e, &en);
    }
    qsim__free(en.scale);
    qsim__free(en.offset);
    qsim__free(en.min);
    qsim__free(en.max);
    if (st == QSIM_OK)
        *added = 1;
    return st;
}

static qsim_status join_path(char *buf, size_t size, const char *dir, const char *prefix,
                             const char *ext)
{
    int n = snprintf(buf, size, "%s/%s%s", dir, prefix, ext);
    if (n < 0 || (size_t)n >= size)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_export: path '%s/%s%s' is too long",
                          dir, prefix, ext);
    return QSIM_OK;
}

qsim_status qsim_export(const qsim_sim *s, const char *dir, const char *prefix)
{
    QSIM__TRY(qsim__sim_check(s, "qsim_export"));
    if (!dir || !prefix || !*prefix)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_export: dir and prefix must be given");
    if (strchr(prefix, '/'))
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_export: prefix '%s' contains '/'",
                          prefix);
    const qsim__quantsim *qs = qsim__quant_of(s);
    if (!qs)
        return qsim__fail(QSIM_ERR_STATE, "qsim_export: the sim has no quantizers");
    if (s->busy)
        return qsim__fail(QSIM_ERR_STATE, "qsim_export: called from inside compute_encodings or "
                          "apply_adaround on the same sim");
    qsim__enc_version ver;
    if (qsim__enc_version_from_string(s->opts.encoding_version, &ver) != 0)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_export: encoding version '%s'",
                          s->opts.encoding_version);
    char onnx_path[4096], enc_path[4096];
    QSIM__TRY(join_path(onnx_path, sizeof onnx_path, dir, prefix, ".onnx"));
    QSIM__TRY(join_path(enc_path, sizeof enc_path, dir, prefix, ".encodings"));

    qsim__encodings *e = qsim__encodings_create();
    const qsim__tensor **replace = qsim__calloc(s->g->n_values ? s->g->n_values : 1,
                                                sizeof *replace);
    qsim_status st = QSIM_OK;
    char *text = NULL;
    if (!e || !replace) {
        st = qsim__oom();
        goto out;
    }
    size_t n = qsim__qdict_count(&qs->dict), written = 0;
    for (size_t i = 0; i < n && st == QSIM_OK; i++) {
        const qsim_quantizer *q = qsim__qdict_at(&qs->dict, i);
        int added = 0;
        st = add_entry(e, q, &added);
        written += (size_t)added;
        if (q->kind == QSIM_QUANTIZER_PARAM && q->weight)
            replace[q->value] = q->weight;
    }
    if (st != QSIM_OK)
        goto out;
    if (!written) {
        st = qsim__fail(QSIM_ERR_STATE, "qsim_export: no quantizer has an encoding yet (run "
                        "qsim_compute_encodings first)");
        goto out;
    }
    qsim__enc_quantizer_args qa;
    memset(&qa, 0, sizeof qa);
    qa.present = QSIM__QARG_QUANT_SCHEME | QSIM__QARG_PARAM_BW | QSIM__QARG_ACTIVATION_BW |
                 QSIM__QARG_DTYPE | QSIM__QARG_IS_SYMMETRIC | QSIM__QARG_PER_CHANNEL;
    snprintf(qa.quant_scheme, sizeof qa.quant_scheme, "%s", scheme_name(s->opts.quant_scheme));
    qa.param_bitwidth = qs->param_bw;
    qa.activation_bitwidth = qs->activation_bw;
    qa.dtype = s->opts.data_type == QSIM_DATA_TYPE_FLOAT ? QSIM__ENC_DTYPE_FLOAT
                                                          : QSIM__ENC_DTYPE_INT;
    qa.is_symmetric = qs->params_symmetric;
    qa.per_channel_quantization = qs->per_channel;
    qsim__encodings_set_quantizer_args(e, &qa);
    qsim__enc_write_opts wo = {ver, 0, 1};
    /* serialise first: a bad entry must not leave a lone .onnx behind */
    if ((st = qsim__encodings_to_string(e, &wo, &text)) != QSIM_OK)
        goto out;
    if ((st = qsim__onnx_export(s->model, replace, onnx_path)) != QSIM_OK)
        goto out;
    st = qsim__encodings_write(e, enc_path, &wo);
out:
    qsim__free(text);
    qsim__free(replace);
    qsim__encodings_free(e);
    if (st != QSIM_OK && st != QSIM_ERR_STATE)
        return qsim__fail_prefix(st, "qsim_export: ");
    return st;
}

/* ---- set_and_freeze_param_encodings ------------------------------------------ */

/* How entry en fits quantizer q; axis and channels get the layout to apply. */
static qsim_status check_entry(const qsim_sim *s, const qsim_quantizer *q,
                               const qsim__enc_entry *en, const char *path, int *axis,
                               size_t *channels)
{
    if (en->dtype == QSIM__ENC_DTYPE_FLOAT) {
        if (en->bitwidth != 16)
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: '%s': float bitwidth %d is not "
                              "supported (only 16)", path, en->name, en->bitwidth);
        *axis = q->axis;
        *channels = q->channels;
        return QSIM_OK;
    }
    if (en->bitwidth < 2 || en->bitwidth > 32)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: '%s': bitwidth %d out of range (2..32)",
                          path, en->name, en->bitwidth);
    const qsim__tensor *w = s->g->values[q->value].constant;
    if (en->channels == 1 && en->enc_type == QSIM__ENC_PER_TENSOR) {
        *axis = -1;
        *channels = 1;
        return QSIM_OK;
    }
    int nat = q->axis;
    if (nat < 0 && q->node >= 0)
        nat = qsim__param_channel_axis(&s->g->nodes[q->node], w->shape.rank);
    if (nat < 0 || nat >= w->shape.rank)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: '%s': %zu per-channel encodings, but the %s "
                          "param of shape rank %d has no channel axis", path, en->name,
                          en->channels, q->op_type, w->shape.rank);
    if (en->axis >= 0 && en->axis != nat)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: '%s': channel axis %lld in the file, the sim uses "
                          "axis %d", path, en->name, (long long)en->axis, nat);
    if ((int64_t)en->channels != w->shape.dims[nat])
        return qsim__fail(QSIM_ERR_SHAPE, "%s: '%s': %zu channel encodings, but axis %d of the "
                          "param has %lld channels", path, en->name, en->channels, nat,
                          (long long)w->shape.dims[nat]);
    *axis = nat;
    *channels = en->channels;
    return QSIM_OK;
}

/* The encodings of an int entry (allocated while validating, so applying
 * cannot fail half-way). */
static qsim__encoding *entry_encodings(const qsim__enc_entry *en, size_t channels)
{
    qsim__encoding *enc = qsim__malloc_array(channels, sizeof *enc);
    if (!enc)
        return NULL;
    for (size_t c = 0; c < channels; c++) {
        enc[c].delta = en->scale[c];
        enc[c].offset = en->offset[c];
        enc[c].bw = en->bitwidth;
        if (en->min && en->max) {
            enc[c].min = en->min[c];
            enc[c].max = en->max[c];
        } else {
            enc[c].min = en->scale[c] * (double)en->offset[c];
            enc[c].max = en->scale[c] * (ldexp(1.0, en->bitwidth) - 1.0 + (double)en->offset[c]);
        }
    }
    return enc;
}

/* Apply a validated entry; takes ownership of enc (NULL for float). */
static void apply_entry(qsim_quantizer *q, const qsim__enc_entry *en, int axis, size_t channels,
                        qsim__encoding *enc)
{
    if (en->dtype == QSIM__ENC_DTYPE_FLOAT) {
        q->data_type = QSIM_DATA_TYPE_FLOAT;
        q->bitwidth = 16;
        qsim__quantizer_reset_encodings(q);
    } else {
        if (axis != q->axis || channels != q->channels) {
            /* cannot fail: channels > 0 was checked */
            qsim__quantizer_set_channels(q, axis, channels);
        }
        q->data_type = QSIM_DATA_TYPE_INT;
        q->bitwidth = en->bitwidth;
        q->symmetric = en->is_symmetric;
        if (en->is_symmetric)
            q->strict = en->is_strict;
        if (en->is_unsigned)
            q->unsigned_sym = 1;
        qsim__free(q->enc);
        q->enc = enc;
    }
    q->enabled = 1;
    q->frozen = 1;
    q->version++;
}

qsim_status qsim_set_and_freeze_param_encodings(qsim_sim *s, const char *encodings_path)
{
    QSIM__TRY(qsim__sim_check(s, "qsim_set_and_freeze_param_encodings"));
    if (!encodings_path)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_set_and_freeze_param_encodings: path is NULL");
    if (s->busy)
        return qsim__fail(QSIM_ERR_STATE, "qsim_set_and_freeze_param_encodings: called from "
                          "inside compute_encodings or apply_adaround on the same sim");
    qsim__quantsim *qs = qsim__quant_of(s);
    if (!qs)
        return qsim__fail(QSIM_ERR_STATE, "qsim_set_and_freeze_param_encodings: no quantizers");
    qsim__encodings *e = NULL;
    qsim_status st = qsim__encodings_load(encodings_path, &e);
    if (st != QSIM_OK)
        return qsim__fail_prefix(st, "qsim_set_and_freeze_param_encodings: ");
    size_t n = qsim__encodings_count(e);
    int *axes = qsim__malloc_array(n ? n : 1, sizeof *axes);
    size_t *chans = qsim__malloc_array(n ? n : 1, sizeof *chans);
    qsim_quantizer **qv = qsim__calloc(n ? n : 1, sizeof *qv);
    qsim__encoding **encs = qsim__calloc(n ? n : 1, sizeof *encs);
    if (!axes || !chans || !qv || !encs) {
        st = qsim__oom();
        goto out;
    }
    /* validate everything first: an error changes nothing */
    for (size_t i = 0; i < n && st == QSIM_OK; i++) {
        const qsim__enc_entry *en = qsim__encodings_at(e, i);
        if (en->section == QSIM__ENC_SECTION_ACTIVATION)
            continue; /* a full export: only its params are loaded */
        qsim_quantizer *q = qsim__qdict_get(&qs->dict, en->name);
        if (!q) {
            char prefix[600];
            snprintf(prefix, sizeof prefix, "qsim_set_and_freeze_param_encodings: %.500s: ",
                     encodings_path);
            st = qsim__qdict_fail_missing(&qs->dict, QSIM_ERR_NOT_FOUND, prefix, en->name);
            break;
        }
        if (q->kind != QSIM_QUANTIZER_PARAM) {
            if (en->section == QSIM__ENC_SECTION_UNKNOWN)
                continue; /* 2.0.0: activations share the list */
            st = qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_set_and_freeze_param_encodings: %s: "
                            "'%s' is an activation, not a param", encodings_path, en->name);
            break;
        }
        st = check_entry(s, q, en, encodings_path, &axes[i], &chans[i]);
        if (st != QSIM_OK)
            break;
        if (en->dtype == QSIM__ENC_DTYPE_INT && !(encs[i] = entry_encodings(en, chans[i]))) {
            st = qsim__oom();
            break;
        }
        qv[i] = q;
    }
    for (size_t i = 0; i < n && st == QSIM_OK; i++)
        if (qv[i]) {
            apply_entry(qv[i], qsim__encodings_at(e, i), axes[i], chans[i], encs[i]);
            encs[i] = NULL;
        }
out:
    if (encs)
        for (size_t i = 0; i < n; i++)
            qsim__free(encs[i]);
    qsim__free(encs);
    qsim__free(axes);
    qsim__free(chans);
    qsim__free(qv);
    qsim__encodings_free(e);
    return st;
}
