/* The in-memory encodings file: container, entry checks, accessors. */
#include "quant/encodings_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/limits.h"

qsim__encodings *qsim__encodings_create(void)
{
    qsim__encodings *e = qsim__calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->index = qsim__strmap_create();
    if (!e->index) {
        qsim__free(e);
        return NULL;
    }
    e->version = QSIM__ENC_V1_0_0;
    return e;
}

void qsim__enc_entry_clear(qsim__enc_entry *en)
{
    qsim__free(en->name);
    qsim__free(en->scale);
    qsim__free(en->offset);
    qsim__free(en->min);
    qsim__free(en->max);
    memset(en, 0, sizeof *en);
}

void qsim__encodings_free(qsim__encodings *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->count; i++)
        qsim__enc_entry_clear(&e->entries[i]);
    qsim__free(e->entries);
    qsim__strmap_free(e->index);
    qsim__free(e->producer_package);
    qsim__free(e->producer_version);
    qsim__free(e);
}

qsim_status qsim__enc_entry_alloc(qsim__enc_entry *en, size_t channels)
{
    if (channels == 0 || channels > QSIM__ENC_MAX_CHANNELS)
        return qsim__fail(QSIM_ERR_INTERNAL, "bad channel count %zu", channels);
    en->scale = qsim__malloc_array(channels, sizeof *en->scale);
    en->offset = qsim__malloc_array(channels, sizeof *en->offset);
    en->min = qsim__malloc_array(channels, sizeof *en->min);
    en->max = qsim__malloc_array(channels, sizeof *en->max);
    if (!en->scale || !en->offset || !en->min || !en->max)
        return qsim__oom();
    en->channels = channels;
    return QSIM_OK;
}

int qsim__enc_entry_check(qsim__enc_entry *en, char *msg, size_t msg_size)
{
    if (en->dtype == QSIM__ENC_DTYPE_FLOAT) {
        if (en->bitwidth != 16 && en->bitwidth != 32) {
            snprintf(msg, msg_size, "float bitwidth must be 16 or 32, got %d", en->bitwidth);
            return -1;
        }
        if (en->channels != 0 || en->scale || en->offset || en->min || en->max) {
            snprintf(msg, msg_size, "a float entry has no scale/offset/min/max");
            return -1;
        }
        en->is_symmetric = en->is_strict = en->is_unsigned = 0;
        en->enc_type = QSIM__ENC_PER_TENSOR;
        return 0;
    }
    if (en->dtype != QSIM__ENC_DTYPE_INT) {
        snprintf(msg, msg_size, "unknown dtype %d", (int)en->dtype);
        return -1;
    }
    if (en->bitwidth < 2 || en->bitwidth > 32) {
        snprintf(msg, msg_size, "int bitwidth must be 2..32, got %d", en->bitwidth);
        return -1;
    }
    if (en->channels == 0 || en->channels > QSIM__ENC_MAX_CHANNELS || !en->scale || !en->offset ||
        !en->min || !en->max) {
        snprintf(msg, msg_size, "an int entry needs 1..%zu channels of scale/offset/min/max",
                 QSIM__ENC_MAX_CHANNELS);
        return -1;
    }
    if (en->enc_type == QSIM__ENC_PER_TENSOR && en->channels != 1) {
        snprintf(msg, msg_size, "PER_TENSOR with %zu channels", en->channels);
        return -1;
    }
    if (en->enc_type != QSIM__ENC_PER_TENSOR && en->enc_type != QSIM__ENC_PER_CHANNEL) {
        snprintf(msg, msg_size, "unknown enc_type %d", (int)en->enc_type);
        return -1;
    }
    if (en->axis < -1 || en->axis >= QSIM__MAX_RANK) {
        snprintf(msg, msg_size, "axis %lld out of range", (long long)en->axis);
        return -1;
    }
    en->is_symmetric = en->is_symmetric ? 1 : 0;
    const int64_t n = qsim__enc_levels(en->bitwidth);
    const int64_t strict_offset = -((int64_t)1 << (en->bitwidth - 1)) + 1;
    en->is_strict = en->is_unsigned = 0;
    for (size_t c = 0; c < en->channels; c++) {
        double s = en->scale[c];
        if (!isfinite(s) || !(s > 0)) {
            snprintf(msg, msg_size, "scale[%zu] must be a positive finite number, got %.17g", c,
                     s);
            return -1;
        }
        if (en->offset[c] < -n || en->offset[c] > 0) {
            snprintf(msg, msg_size, "offset[%zu] must be in [%lld, 0] for %d bits, got %lld", c,
                     (long long)-n, en->bitwidth, (long long)en->offset[c]);
            return -1;
        }
        if (!isfinite(en->min[c]) || !isfinite(en->max[c]) || en->min[c] > en->max[c]) {
            snprintf(msg, msg_size, "min[%zu]/max[%zu] must be finite with min <= max, got %.17g/%.17g",
                     c, c, en->min[c], en->max[c]);
            return -1;
        }
        if (en->is_symmetric) {
            if (en->offset[c] == strict_offset)
                en->is_strict = 1;
            if (en->offset[c] == 0)
                en->is_unsigned = 1;
        }
    }
    return 0;
}

qsim_status qsim__encodings_append_owned(qsim__encodings *e, qsim__enc_entry *en, int *dup)
{
    *dup = 0;
    if (qsim__strmap_get(e->index, en->name, dup), *dup)
        return QSIM_ERR_INVALID_ARGUMENT;
    if (e->count == e->cap) {
        size_t ncap = e->cap ? e->cap * 2 : 16;
        qsim__enc_entry *ne = qsim__realloc_array(e->entries, ncap, sizeof *ne);
        if (!ne)
            return qsim__oom();
        e->entries = ne;
        e->cap = ncap;
    }
    if (qsim__strmap_put_new(e->index, en->name, (void *)(uintptr_t)(e->count + 1)) != 0)
        return qsim__oom();
    e->entries[e->count++] = *en;
    memset(en, 0, sizeof *en);
    return QSIM_OK;
}

static double *dup_doubles(const double *src, size_t n)
{
    double *d = qsim__malloc_array(n, sizeof *d);
    if (d)
        memcpy(d, src, n * sizeof *d);
    return d;
}

/* Names go into JSON, which must be UTF-8; ONNX names are not checked by
 * protobuf-c, so an invalid one is refused here with a clear message
 * instead of failing later inside jansson. */
static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s++;
        int extra;
        unsigned min;
        if (c < 0x80)
            continue;
        else if ((c & 0xe0) == 0xc0)
            extra = 1, min = 0x80, c &= 0x1f;
        else if ((c & 0xf0) == 0xe0)
            extra = 2, min = 0x800, c &= 0x0f;
        else if ((c & 0xf8) == 0xf0)
            extra = 3, min = 0x10000, c &= 0x07;
        else
            return 0;
        for (int i = 0; i < extra; i++) {
            if ((*s & 0xc0) != 0x80)
                return 0;
            c = (c << 6) | (*s++ & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
            return 0;
    }
    return 1;
}

qsim_status qsim__encodings_add(qsim__encodings *e, const qsim__enc_entry *entry)
{
    if (!e || !entry || !entry->name)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encodings_add: NULL argument");
    const char *name = entry->name;
    if (strlen(name) > QSIM__MAX_NAME)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encoding name longer than %d bytes",
                          QSIM__MAX_NAME);
    if (!valid_utf8((const unsigned char *)name) || !name[0])
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "encoding name is empty or not valid UTF-8 (JSON needs UTF-8)");
    qsim__enc_entry en = *entry;
    en.name = NULL;
    en.scale = NULL;
    en.offset = NULL;
    en.min = NULL;
    en.max = NULL;
    char msg[256];
    int bad_arrays = entry->dtype == QSIM__ENC_DTYPE_INT &&
                     (entry->channels == 0 || entry->channels > QSIM__ENC_MAX_CHANNELS ||
                      !entry->scale || !entry->offset || !entry->min || !entry->max);
    if (bad_arrays)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "%s: an int entry needs 1..%zu channels of scale/offset/min/max", name,
                          QSIM__ENC_MAX_CHANNELS);
    if (entry->dtype == QSIM__ENC_DTYPE_FLOAT) {
        en.channels = 0;
    } else {
        size_t c = entry->channels;
        en.scale = dup_doubles(entry->scale, c);
        en.min = dup_doubles(entry->min, c);
        en.max = dup_doubles(entry->max, c);
        en.offset = qsim__malloc_array(c, sizeof *en.offset);
        if (en.offset)
            memcpy(en.offset, entry->offset, c * sizeof *en.offset);
    }
    en.name = qsim__strdup(name);
    if (!en.name || (entry->dtype == QSIM__ENC_DTYPE_INT &&
                     (!en.scale || !en.min || !en.max || !en.offset))) {
        qsim__enc_entry_clear(&en);
        return qsim__oom();
    }
    if (en.section != QSIM__ENC_SECTION_UNKNOWN && en.section != QSIM__ENC_SECTION_PARAM &&
        en.section != QSIM__ENC_SECTION_ACTIVATION) {
        qsim__enc_entry_clear(&en);
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: unknown section", name);
    }
    if (qsim__enc_entry_check(&en, msg, sizeof msg) != 0) {
        qsim__enc_entry_clear(&en);
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: %s", name, msg);
    }
    int dup = 0;
    qsim_status st = qsim__encodings_append_owned(e, &en, &dup);
    if (st != QSIM_OK) {
        qsim__enc_entry_clear(&en);
        if (dup)
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: duplicate encoding name", name);
    }
    return st;
}

void qsim__encodings_set_quantizer_args(qsim__encodings *e, const qsim__enc_quantizer_args *args)
{
    if (args) {
        e->qargs = *args;
        e->qargs.quant_scheme[sizeof e->qargs.quant_scheme - 1] = '\0';
    } else {
        memset(&e->qargs, 0, sizeof e->qargs);
    }
}

qsim__enc_version qsim__encodings_version(const qsim__encodings *e) { return e->version; }
int qsim__encodings_param_only(const qsim__encodings *e) { return e->param_only; }
size_t qsim__encodings_count(const qsim__encodings *e) { return e->count; }

const qsim__enc_entry *qsim__encodings_at(const qsim__encodings *e, size_t i)
{
    return i < e->count ? &e->entries[i] : NULL;
}

const qsim__enc_entry *qsim__encodings_find(const qsim__encodings *e, const char *name)
{
    uintptr_t k = (uintptr_t)qsim__strmap_get(e->index, name, NULL);
    return k ? &e->entries[k - 1] : NULL;
}

const qsim__enc_quantizer_args *qsim__encodings_quantizer_args(const qsim__encodings *e)
{
    return e->qargs.present ? &e->qargs : NULL;
}

const char *qsim__encodings_producer_package(const qsim__encodings *e)
{
    return e->producer_package;
}
const char *qsim__encodings_producer_version(const qsim__encodings *e)
{
    return e->producer_version;
}

const char *qsim__enc_version_string(qsim__enc_version v)
{
    switch (v) {
    case QSIM__ENC_V0_6_1: return "0.6.1";
    case QSIM__ENC_V1_0_0: return "1.0.0";
    case QSIM__ENC_V2_0_0: return "2.0.0";
    }
    return "?";
}

int qsim__enc_version_from_string(const char *s, qsim__enc_version *out)
{
    static const qsim__enc_version all[] = {QSIM__ENC_V0_6_1, QSIM__ENC_V1_0_0,
                                            QSIM__ENC_V2_0_0};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (s && strcmp(s, qsim__enc_version_string(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}
