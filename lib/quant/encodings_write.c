/* Writing AIMET encodings files, versions 0.6.1, 1.0.0 and 2.0.0, with
 * AIMET's key names and JSON types (SPEC 5.2-5.4, 8.5). */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "quant/encodings_internal.h"
#include "quant/json_io.h"

/* Builders that steal `v` and record failure in *bad, so construction code
 * stays linear. jansson's *_new calls already release `v` when they fail
 * (and accept NULL), so `v` is released here only when they are not
 * called. */
static void put(json_t *obj, const char *key, json_t *v, int *bad)
{
    if (!obj) {
        json_decref(v);
        *bad = 1;
    } else if (json_object_set_new(obj, key, v) != 0) {
        *bad = 1;
    }
}

static void push(json_t *arr, json_t *v, int *bad)
{
    if (!arr) {
        json_decref(v);
        *bad = 1;
    } else if (json_array_append_new(arr, v) != 0) {
        *bad = 1;
    }
}

/* ---- 0.6.1 ---- */

static json_t *entry_061(const qsim__enc_entry *en, int *bad)
{
    json_t *list = json_array();
    if (en->dtype == QSIM__ENC_DTYPE_FLOAT) {
        json_t *o = json_object();
        put(o, "bitwidth", json_integer(en->bitwidth), bad);
        put(o, "dtype", json_string("float"), bad);
        push(list, o, bad);
        return list;
    }
    for (size_t c = 0; c < en->channels && !*bad; c++) {
        json_t *o = json_object();
        put(o, "bitwidth", json_integer(en->bitwidth), bad);
        put(o, "dtype", json_string("int"), bad);
        put(o, "is_symmetric", json_string(en->is_symmetric ? "True" : "False"), bad);
        put(o, "max", json_real(en->max[c]), bad);
        put(o, "min", json_real(en->min[c]), bad);
        put(o, "offset", json_integer(en->offset[c]), bad);
        put(o, "scale", json_real(en->scale[c]), bad);
        push(list, o, bad);
    }
    return list;
}

/* ---- 1.0.0 ---- */

static json_t *entry_100(const qsim__enc_entry *en, int *bad)
{
    json_t *o = json_object();
    put(o, "name", json_string(en->name), bad);
    put(o, "bw", json_integer(en->bitwidth), bad);
    if (en->dtype == QSIM__ENC_DTYPE_FLOAT) {
        put(o, "dtype", json_string("FLOAT"), bad);
        put(o, "enc_type", json_string("PER_TENSOR"), bad);
        return o;
    }
    put(o, "dtype", json_string("INT"), bad);
    put(o, "enc_type",
        json_string(en->enc_type == QSIM__ENC_PER_CHANNEL ? "PER_CHANNEL" : "PER_TENSOR"), bad);
    put(o, "is_sym", json_boolean(en->is_symmetric), bad);
    json_t *sc = json_array(), *of = json_array();
    for (size_t c = 0; c < en->channels && !*bad; c++) {
        push(sc, json_real(en->scale[c]), bad);
        /* AIMET writes offsets as floats (-128.0) in 1.0.0 */
        push(of, json_real((double)en->offset[c]), bad);
    }
    put(o, "scale", sc, bad);
    put(o, "offset", of, bad);
    return o;
}

/* ---- 2.0.0 ---- */

static json_t *entry_200(const qsim__enc_entry *en, int force_unsigned, int *bad)
{
    int as_signed = en->is_symmetric &&
                    !(force_unsigned && en->section == QSIM__ENC_SECTION_ACTIVATION);
    char dt[16];
    snprintf(dt, sizeof dt, "%s%d", as_signed ? "int" : "uint", en->bitwidth);
    int64_t half = (int64_t)1 << (en->bitwidth - 1);
    int any_zp = 0;
    for (size_t c = 0; c < en->channels; c++)
        any_zp |= (as_signed ? -en->offset[c] - half : -en->offset[c]) != 0;

    json_t *o = json_object();
    put(o, "name", json_string(en->name), bad);
    put(o, "output_dtype", json_string(dt), bad);
    if (en->enc_type == QSIM__ENC_PER_TENSOR) {
        put(o, "y_scale", json_real(en->scale[0]), bad);
        if (any_zp)
            put(o, "y_zero_point",
                json_integer(as_signed ? -en->offset[0] - half : -en->offset[0]), bad);
        return o;
    }
    json_t *sc = json_array(), *zp = any_zp ? json_array() : NULL;
    for (size_t c = 0; c < en->channels && !*bad; c++) {
        push(sc, json_real(en->scale[c]), bad);
        if (zp)
            push(zp, json_integer(as_signed ? -en->offset[c] - half : -en->offset[c]), bad);
    }
    put(o, "y_scale", sc, bad);
    if (zp)
        put(o, "y_zero_point", zp, bad);
    put(o, "axis", json_integer(en->axis), bad);
    return o;
}

static qsim_status check_writable(const qsim__encodings *e, const qsim__enc_write_opts *o)
{
    for (size_t i = 0; i < e->count; i++) {
        const qsim__enc_entry *en = &e->entries[i];
        if (o->param_only && en->section == QSIM__ENC_SECTION_ACTIVATION)
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "%s: an activation encoding cannot go into a param-only file",
                              en->name);
        if (o->version != QSIM__ENC_V2_0_0 && !o->param_only &&
            en->section == QSIM__ENC_SECTION_UNKNOWN)
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "%s: a %s file needs to know whether this is a param or an "
                              "activation encoding",
                              en->name, qsim__enc_version_string(o->version));
        if (o->version == QSIM__ENC_V2_0_0 && en->dtype == QSIM__ENC_DTYPE_INT &&
            en->enc_type == QSIM__ENC_PER_CHANNEL && en->axis < 0)
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "%s: a per-channel 2.0.0 encoding needs its channel axis",
                              en->name);
    }
    return QSIM_OK;
}

static json_t *quantizer_args_json(const qsim__enc_quantizer_args *a, int *bad)
{
    json_t *q = json_object();
    if (a->present & QSIM__QARG_QUANT_SCHEME)
        put(q, "quant_scheme", json_string(a->quant_scheme), bad);
    if (a->present & QSIM__QARG_PARAM_BW)
        put(q, "param_bitwidth", json_integer(a->param_bitwidth), bad);
    if (a->present & QSIM__QARG_ACTIVATION_BW)
        put(q, "activation_bitwidth", json_integer(a->activation_bitwidth), bad);
    if (a->present & QSIM__QARG_DTYPE)
        put(q, "dtype", json_string(a->dtype == QSIM__ENC_DTYPE_FLOAT ? "float" : "int"), bad);
    /* the code (not the docs) emits JSON booleans here, SPEC 5.2 */
    if (a->present & QSIM__QARG_IS_SYMMETRIC)
        put(q, "is_symmetric", json_boolean(a->is_symmetric), bad);
    if (a->present & QSIM__QARG_PER_CHANNEL)
        put(q, "per_channel_quantization", json_boolean(a->per_channel_quantization), bad);
    return q;
}

static json_t *build(const qsim__encodings *e, const qsim__enc_write_opts *o, int *bad)
{
    if (o->version == QSIM__ENC_V2_0_0) {
        json_t *list = json_array();
        for (size_t i = 0; i < e->count && !*bad; i++)
            if (e->entries[i].dtype == QSIM__ENC_DTYPE_INT) /* float16: no entry (SPEC 5.4) */
                push(list, entry_200(&e->entries[i], o->force_activation_unsigned, bad), bad);
        if (o->param_only)
            return list;
        json_t *root = json_object();
        json_t *prod = json_object();
        put(prod, "package", json_string("libqsim"), bad);
        put(prod, "version", json_string(qsim_version_string()), bad);
        put(root, "producer", prod, bad);
        put(root, "version", json_string("2.0.0"), bad);
        put(root, "encodings", list, bad);
        return root;
    }
    int v061 = o->version == QSIM__ENC_V0_6_1;
    json_t *par = v061 ? json_object() : json_array();
    json_t *act = o->param_only ? NULL : (v061 ? json_object() : json_array());
    for (size_t i = 0; i < e->count && !*bad; i++) {
        const qsim__enc_entry *en = &e->entries[i];
        json_t *dst = en->section == QSIM__ENC_SECTION_ACTIVATION ? act : par;
        if (v061)
            put(dst, en->name, entry_061(en, bad), bad);
        else
            push(dst, entry_100(en, bad), bad);
    }
    if (o->param_only) {
        json_decref(act);
        return par;
    }
    json_t *root = json_object();
    put(root, "version", json_string(qsim__enc_version_string(o->version)), bad);
    put(root, "activation_encodings", act, bad);
    put(root, "param_encodings", par, bad);
    if (e->qargs.present)
        put(root, "quantizer_args", quantizer_args_json(&e->qargs, bad), bad);
    return root;
}

qsim_status qsim__encodings_to_string(const qsim__encodings *e, const qsim__enc_write_opts *o,
                                      char **out)
{
    if (!e || !o || !out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encodings_to_string: NULL argument");
    if (o->version != QSIM__ENC_V0_6_1 && o->version != QSIM__ENC_V1_0_0 &&
        o->version != QSIM__ENC_V2_0_0)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "unknown encodings version %d",
                          (int)o->version);
    QSIM__TRY(check_writable(e, o));
    qsim__json_init();
    int bad = 0;
    json_t *root = build(e, o, &bad);
    if (bad || !root) {
        json_decref(root);
        /* every input was validated on the way in: only allocation fails */
        return qsim__oom();
    }
    qsim_status st = qsim__json_dump_string(root, out);
    json_decref(root);
    return st;
}

qsim_status qsim__encodings_write(const qsim__encodings *e, const char *path,
                                  const qsim__enc_write_opts *o)
{
    if (!path)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encodings_write: NULL path");
    char *text;
    QSIM__TRY(qsim__encodings_to_string(e, o, &text));
    qsim_status st = qsim__write_file_atomic(path, text, strlen(text));
    qsim__free(text);
    return st;
}
