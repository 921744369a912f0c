/* Reading AIMET encodings files, versions 0.6.1, 1.0.0 and 2.0.0, full
 * exports and param-only (AdaRound) files. Every field is type-checked;
 * messages name the file, the entry and the field. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/limits.h"
#include "quant/encodings_internal.h"
#include "quant/json_io.h"

typedef struct pctx {
    const char *src;
    qsim__encodings *e;
} pctx;

static qsim_status bad(const pctx *c, qsim_status code, const char *entry, const char *fmt, ...)
    QSIM__PRINTF(4, 5);

static qsim_status bad(const pctx *c, qsim_status code, const char *entry, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a hostile name must not push the actual problem out of the message */
    if (entry)
        return qsim__fail(code, "%s: %.200s%s: %s", c->src, entry, strlen(entry) > 200 ? "..." : "",
                          msg);
    return qsim__fail(code, "%s: %s", c->src, msg);
}

#define DESCRIBE(v, buf) (qsim__json_describe((v), (buf), sizeof(buf)), (buf))

/* An integral JSON number (integer, or a real such as -128.0) into *out. */
static int integral_value(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (isfinite(d) && d == floor(d) && fabs(d) <= 9007199254740992.0) {
            *out = (int64_t)d;
            return 1;
        }
    }
    return 0;
}

static qsim_status check_name(const pctx *c, const char *name, const char *where)
{
    size_t n = strlen(name);
    if (n == 0)
        return bad(c, QSIM_ERR_PARSE, where, "empty tensor name");
    if (n > QSIM__MAX_NAME)
        return bad(c, QSIM_ERR_PARSE, where, "tensor name longer than %d bytes", QSIM__MAX_NAME);
    return QSIM_OK;
}

/* Rebuilds min/max from scale/offset (SPEC 5.3: files without them). */
static void rebuild_min_max(qsim__enc_entry *en)
{
    double n = (double)qsim__enc_levels(en->bitwidth);
    for (size_t i = 0; i < en->channels; i++) {
        en->min[i] = en->scale[i] * (double)en->offset[i];
        en->max[i] = en->scale[i] * (n + (double)en->offset[i]);
    }
}

/* Checks, then appends `en` (ownership moves; on failure en is cleared). */
static qsim_status finish_entry(pctx *c, qsim__enc_entry *en)
{
    char msg[256];
    if (qsim__enc_entry_check(en, msg, sizeof msg) != 0) {
        qsim_status st = bad(c, QSIM_ERR_PARSE, en->name, "%s", msg);
        qsim__enc_entry_clear(en);
        return st;
    }
    int dup = 0;
    qsim_status st = qsim__encodings_append_owned(c->e, en, &dup);
    if (st != QSIM_OK) {
        if (dup)
            st = bad(c, QSIM_ERR_PARSE, en->name, "duplicate encoding name");
        qsim__enc_entry_clear(en);
    }
    return st;
}

/* ---- 0.6.1: {name: [{bitwidth, dtype, is_symmetric, max, min, offset, scale}, ...]} ---- */

static qsim_status parse_dtype_061(const pctx *c, const char *name, size_t i, const json_t *ch,
                                   qsim__enc_dtype *dt)
{
    char d[96];
    const json_t *v = json_object_get(ch, "dtype");
    if (!v) { /* files from before the dtype field are int */
        *dt = QSIM__ENC_DTYPE_INT;
        return QSIM_OK;
    }
    const char *s = json_string_value(v);
    if (s && strcmp(s, "int") == 0)
        *dt = QSIM__ENC_DTYPE_INT;
    else if (s && strcmp(s, "float") == 0)
        *dt = QSIM__ENC_DTYPE_FLOAT;
    else
        return bad(c, QSIM_ERR_PARSE, name, "[%zu] 'dtype' must be \"int\" or \"float\", got %s",
                   i, DESCRIBE(v, d));
    return QSIM_OK;
}

static qsim_status parse_061_tensor(pctx *c, const char *name, const json_t *list,
                                    qsim__enc_section section)
{
    char d[96];
    QSIM__TRY(check_name(c, name, name));
    if (!json_is_array(list))
        return bad(c, QSIM_ERR_PARSE, name, "must be a list of per-channel entries, got %s",
                   DESCRIBE(list, d));
    size_t n = json_array_size(list);
    if (n == 0)
        return bad(c, QSIM_ERR_PARSE, name, "empty list of encodings");
    if (n > QSIM__ENC_MAX_CHANNELS)
        return bad(c, QSIM_ERR_PARSE, name, "more than %zu channels", QSIM__ENC_MAX_CHANNELS);

    qsim__enc_entry en;
    memset(&en, 0, sizeof en);
    en.section = section;
    en.axis = -1;
    en.enc_type = n > 1 ? QSIM__ENC_PER_CHANNEL : QSIM__ENC_PER_TENSOR;
    en.name = qsim__strdup(name);
    if (!en.name)
        return qsim__oom();
    qsim_status st = QSIM_OK;
    int have_minmax = -1;
    for (size_t i = 0; i < n && st == QSIM_OK; i++) {
        const json_t *ch = json_array_get(list, i);
        if (!json_is_object(ch)) {
            st = bad(c, QSIM_ERR_PARSE, name, "[%zu] must be an object, got %s", i,
                     DESCRIBE(ch, d));
            break;
        }
        qsim__enc_dtype dt;
        if ((st = parse_dtype_061(c, name, i, ch, &dt)) != QSIM_OK)
            break;
        const json_t *bwv = json_object_get(ch, "bitwidth");
        int lo = dt == QSIM__ENC_DTYPE_INT ? 2 : 16;
        if (!json_is_integer(bwv) || json_integer_value(bwv) < lo ||
            json_integer_value(bwv) > 32 ||
            (dt == QSIM__ENC_DTYPE_FLOAT && json_integer_value(bwv) != 16 &&
             json_integer_value(bwv) != 32)) {
            st = bad(c, QSIM_ERR_PARSE, name, "[%zu] 'bitwidth' must be an integer %s, got %s", i,
                     dt == QSIM__ENC_DTYPE_INT ? "2..32" : "16 or 32 for float",
                     DESCRIBE(bwv, d));
            break;
        }
        int bw = (int)json_integer_value(bwv);
        if (i == 0) {
            en.dtype = dt;
            en.bitwidth = bw;
            if (dt == QSIM__ENC_DTYPE_INT && (st = qsim__enc_entry_alloc(&en, n)) != QSIM_OK)
                break;
        } else if (dt != en.dtype || bw != en.bitwidth) {
            st = bad(c, QSIM_ERR_PARSE, name,
                     "[%zu] 'dtype'/'bitwidth' differ from channel 0 (all channels of a tensor "
                     "share them)", i);
            break;
        }
        if (dt == QSIM__ENC_DTYPE_FLOAT)
            continue;

        const json_t *sym = json_object_get(ch, "is_symmetric");
        const char *ss = json_string_value(sym);
        int is_sym;
        if (ss && strcmp(ss, "True") == 0)
            is_sym = 1;
        else if (ss && strcmp(ss, "False") == 0)
            is_sym = 0;
        else {
            st = bad(c, QSIM_ERR_PARSE, name,
                     "[%zu] 'is_symmetric' must be the string \"True\" or \"False\", got %s", i,
                     DESCRIBE(sym, d));
            break;
        }
        if (i == 0)
            en.is_symmetric = is_sym;
        else if (is_sym != en.is_symmetric) {
            st = bad(c, QSIM_ERR_PARSE, name, "[%zu] 'is_symmetric' differs from channel 0", i);
            break;
        }
        const json_t *sv = json_object_get(ch, "scale");
        if (!json_is_number(sv)) {
            st = bad(c, QSIM_ERR_PARSE, name, "[%zu] 'scale' must be a number, got %s", i,
                     DESCRIBE(sv, d));
            break;
        }
        en.scale[i] = json_number_value(sv);
        const json_t *ov = json_object_get(ch, "offset");
        if (!integral_value(ov, &en.offset[i])) {
            st = bad(c, QSIM_ERR_PARSE, name, "[%zu] 'offset' must be an integer, got %s", i,
                     DESCRIBE(ov, d));
            break;
        }
        const json_t *mn = json_object_get(ch, "min"), *mx = json_object_get(ch, "max");
        int has = mn != NULL || mx != NULL;
        if (has && (!json_is_number(mn) || !json_is_number(mx))) {
            st = bad(c, QSIM_ERR_PARSE, name, "[%zu] 'min' and 'max' must both be numbers",
                     i);
            break;
        }
        if (have_minmax >= 0 && have_minmax != has) {
            st = bad(c, QSIM_ERR_PARSE, name, "[%zu] 'min'/'max' present on some channels only",
                     i);
            break;
        }
        have_minmax = has;
        if (has) {
            en.min[i] = json_number_value(mn);
            en.max[i] = json_number_value(mx);
        }
    }
    if (st != QSIM_OK) {
        qsim__enc_entry_clear(&en);
        return st;
    }
    if (en.dtype == QSIM__ENC_DTYPE_INT && have_minmax == 0)
        rebuild_min_max(&en);
    return finish_entry(c, &en);
}

static qsim_status parse_061_section(pctx *c, const json_t *obj, const char *key,
                                     qsim__enc_section section)
{
    char d[96];
    if (!json_is_object(obj))
        return bad(c, QSIM_ERR_PARSE, NULL, "'%s' must be an object, got %s", key,
                   DESCRIBE(obj, d));
    const char *name;
    json_t *list;
    json_object_foreach((json_t *)obj, name, list) {
        QSIM__TRY(parse_061_tensor(c, name, list, section));
    }
    return QSIM_OK;
}

/* ---- 1.0.0: [{name, enc_type, dtype, bw, is_sym, scale[], offset[]}] ---- */

static qsim_status entry_name(const pctx *c, const json_t *ent, const char *where, size_t i,
                              const char **name)
{
    char d[96], w[64];
    snprintf(w, sizeof w, "%s[%zu]", where, i);
    if (!json_is_object(ent))
        return bad(c, QSIM_ERR_PARSE, w, "must be an object, got %s", DESCRIBE(ent, d));
    const json_t *nv = json_object_get(ent, "name");
    if (!json_is_string(nv))
        return bad(c, QSIM_ERR_PARSE, w, "'name' must be a string, got %s", DESCRIBE(nv, d));
    *name = json_string_value(nv);
    return check_name(c, *name, w);
}

/* A list of numbers (scale) or of integral numbers (offset). */
static qsim_status number_list(const pctx *c, const char *name, const json_t *ent,
                               const char *key, size_t *len)
{
    char d[96];
    const json_t *v = json_object_get(ent, key);
    if (!json_is_array(v))
        return bad(c, QSIM_ERR_PARSE, name, "'%s' must be a list of numbers, got %s", key,
                   DESCRIBE(v, d));
    *len = json_array_size(v);
    if (*len == 0 || *len > QSIM__ENC_MAX_CHANNELS)
        return bad(c, QSIM_ERR_PARSE, name, "'%s' must have 1..%zu elements, got %zu", key,
                   QSIM__ENC_MAX_CHANNELS, *len);
    return QSIM_OK;
}

static qsim_status parse_100_entry(pctx *c, const json_t *ent, const char *where, size_t idx,
                                   qsim__enc_section section)
{
    char d[96];
    const char *name;
    QSIM__TRY(entry_name(c, ent, where, idx, &name));

    const json_t *dv = json_object_get(ent, "dtype");
    const char *ds = json_string_value(dv);
    qsim__enc_dtype dt;
    if (ds && strcmp(ds, "INT") == 0)
        dt = QSIM__ENC_DTYPE_INT;
    else if (ds && strcmp(ds, "FLOAT") == 0)
        dt = QSIM__ENC_DTYPE_FLOAT;
    else
        return bad(c, QSIM_ERR_PARSE, name, "'dtype' must be \"INT\" or \"FLOAT\", got %s",
                   DESCRIBE(dv, d));

    const json_t *tv = json_object_get(ent, "enc_type");
    const char *ts = json_string_value(tv);
    qsim__enc_type et;
    if (ts && strcmp(ts, "PER_TENSOR") == 0)
        et = QSIM__ENC_PER_TENSOR;
    else if (ts && strcmp(ts, "PER_CHANNEL") == 0)
        et = QSIM__ENC_PER_CHANNEL;
    else if (ts && (strcmp(ts, "PER_BLOCK") == 0 || strcmp(ts, "LPBQ") == 0))
        return bad(c, QSIM_ERR_UNSUPPORTED, name,
                   "enc_type %s (blockwise quantization) is not supported", ts);
    else
        return bad(c, QSIM_ERR_PARSE, name,
                   "'enc_type' must be \"PER_TENSOR\", \"PER_CHANNEL\", \"PER_BLOCK\" or "
                   "\"LPBQ\", got %s",
                   DESCRIBE(tv, d));
    if (json_object_get(ent, "block_size"))
        return bad(c, QSIM_ERR_UNSUPPORTED, name,
                   "'block_size' (blockwise quantization) is not supported");

    const json_t *bwv = json_object_get(ent, "bw");
    json_int_t bw = json_is_integer(bwv) ? json_integer_value(bwv) : 0;
    if (dt == QSIM__ENC_DTYPE_INT ? (bw < 2 || bw > 32) : (bw != 16 && bw != 32))
        return bad(c, QSIM_ERR_PARSE, name, "'bw' must be an integer %s, got %s",
                   dt == QSIM__ENC_DTYPE_INT ? "2..32" : "16 or 32 for FLOAT",
                   DESCRIBE(bwv, d));

    qsim__enc_entry en;
    memset(&en, 0, sizeof en);
    en.section = section;
    en.dtype = dt;
    en.bitwidth = (int)bw;
    en.axis = -1;
    /* AIMET [A] wrote PER_CHANNEL for float quantizers with PCQ on; a float
     * entry has no channels either way. */
    en.enc_type = dt == QSIM__ENC_DTYPE_FLOAT ? QSIM__ENC_PER_TENSOR : et;
    if (dt == QSIM__ENC_DTYPE_INT) {
        const json_t *sv = json_object_get(ent, "is_sym");
        if (!json_is_boolean(sv))
            return bad(c, QSIM_ERR_PARSE, name, "'is_sym' must be true or false, got %s",
                       DESCRIBE(sv, d));
        en.is_symmetric = json_is_true(sv);
        size_t ns, no;
        QSIM__TRY(number_list(c, name, ent, "scale", &ns));
        QSIM__TRY(number_list(c, name, ent, "offset", &no));
        if (ns != no)
            return bad(c, QSIM_ERR_PARSE, name, "'scale' has %zu elements but 'offset' has %zu",
                       ns, no);
        if (et == QSIM__ENC_PER_TENSOR && ns != 1)
            return bad(c, QSIM_ERR_PARSE, name, "PER_TENSOR needs 1 scale, got %zu", ns);
        en.name = qsim__strdup(name);
        if (!en.name)
            return qsim__oom();
        qsim_status st = qsim__enc_entry_alloc(&en, ns);
        const json_t *sl = json_object_get(ent, "scale"), *ol = json_object_get(ent, "offset");
        for (size_t i = 0; i < ns && st == QSIM_OK; i++) {
            const json_t *s = json_array_get(sl, i), *o = json_array_get(ol, i);
            if (!json_is_number(s))
                st = bad(c, QSIM_ERR_PARSE, name, "'scale'[%zu] must be a number, got %s", i,
                         DESCRIBE(s, d));
            else if (!integral_value(o, &en.offset[i]))
                st = bad(c, QSIM_ERR_PARSE, name,
                         "'offset'[%zu] must be an integral number, got %s", i, DESCRIBE(o, d));
            else
                en.scale[i] = json_number_value(s);
        }
        if (st != QSIM_OK) {
            qsim__enc_entry_clear(&en);
            return st;
        }
        rebuild_min_max(&en);
    } else {
        en.name = qsim__strdup(name);
        if (!en.name)
            return qsim__oom();
    }
    return finish_entry(c, &en);
}

static qsim_status parse_100_section(pctx *c, const json_t *arr, const char *key,
                                     qsim__enc_section section)
{
    char d[96];
    if (!json_is_array(arr))
        return bad(c, QSIM_ERR_PARSE, NULL, "'%s' must be a list, got %s", key,
                   DESCRIBE(arr, d));
    for (size_t i = 0; i < json_array_size(arr); i++)
        QSIM__TRY(parse_100_entry(c, json_array_get(arr, i), key, i, section));
    return QSIM_OK;
}

/* ---- 2.0.0: [{name, output_dtype, y_scale, y_zero_point?, axis?}] ---- */

/* "int8" -> signed 1, bits 8; "uint4" -> signed 0, bits 4. */
static int parse_int_dtype(const char *s, int *is_signed, int *bits)
{
    if (strncmp(s, "uint", 4) == 0) {
        *is_signed = 0;
        s += 4;
    } else if (strncmp(s, "int", 3) == 0) {
        *is_signed = 1;
        s += 3;
    } else {
        return 0;
    }
    if (s[0] < '1' || s[0] > '9' || (s[1] && (s[1] < '0' || s[1] > '9' || s[2])))
        return 0;
    *bits = s[0] - '0';
    if (s[1])
        *bits = *bits * 10 + (s[1] - '0');
    return 1;
}

static qsim_status parse_200_entry(pctx *c, const json_t *ent, const char *where, size_t idx)
{
    char d[96];
    const char *name;
    QSIM__TRY(entry_name(c, ent, where, idx, &name));

    static const char *const blockwise_keys[] = {"block_size", "per_block_int_scale",
                                                 "per_channel_float_scale"};
    for (size_t k = 0; k < sizeof blockwise_keys / sizeof blockwise_keys[0]; k++)
        if (json_object_get(ent, blockwise_keys[k]))
            return bad(c, QSIM_ERR_UNSUPPORTED, name,
                       "'%s' (blockwise/LPBQ quantization) is not supported", blockwise_keys[k]);

    const json_t *dv = json_object_get(ent, "output_dtype");
    const char *ds = json_string_value(dv);
    if (!ds)
        return bad(c, QSIM_ERR_PARSE, name, "'output_dtype' must be a string, got %s",
                   DESCRIBE(dv, d));
    const json_t *ys = json_object_get(ent, "y_scale");
    qsim__enc_entry en;
    memset(&en, 0, sizeof en);
    en.section = QSIM__ENC_SECTION_UNKNOWN;
    en.axis = -1;
    int is_signed = 0, bits = 0;
    if (!parse_int_dtype(ds, &is_signed, &bits)) {
        /* AIMET writes no entry for float16; accept a plain one anyway. */
        if (!ys && (strcmp(ds, "float16") == 0 || strcmp(ds, "float32") == 0)) {
            en.dtype = QSIM__ENC_DTYPE_FLOAT;
            en.bitwidth = ds[5] == '1' ? 16 : 32;
            en.name = qsim__strdup(name);
            if (!en.name)
                return qsim__oom();
            return finish_entry(c, &en);
        }
        if (strncmp(ds, "float", 5) == 0 || strncmp(ds, "bfloat", 6) == 0)
            return bad(c, QSIM_ERR_UNSUPPORTED, name, "output_dtype %s is not supported",
                       DESCRIBE(dv, d));
        return bad(c, QSIM_ERR_PARSE, name,
                   "'output_dtype' must be int<N> or uint<N>, got %s", DESCRIBE(dv, d));
    }
    if (bits < 2 || bits > 32)
        return bad(c, QSIM_ERR_PARSE, name, "'output_dtype' %s: bitwidth must be 2..32", ds);
    en.dtype = QSIM__ENC_DTYPE_INT;
    en.bitwidth = bits;
    en.is_symmetric = is_signed;

    size_t n;
    if (json_is_number(ys)) {
        n = 1;
        en.enc_type = QSIM__ENC_PER_TENSOR;
    } else if (json_is_array(ys)) {
        n = json_array_size(ys);
        if (n == 0 || n > QSIM__ENC_MAX_CHANNELS)
            return bad(c, QSIM_ERR_PARSE, name, "'y_scale' must have 1..%zu elements, got %zu",
                       QSIM__ENC_MAX_CHANNELS, n);
        if (json_is_array(json_array_get(ys, 0)))
            return bad(c, QSIM_ERR_UNSUPPORTED, name,
                       "nested 'y_scale' (blockwise quantization) is not supported");
        en.enc_type = QSIM__ENC_PER_CHANNEL;
    } else {
        return bad(c, QSIM_ERR_PARSE, name, "'y_scale' must be a number or a list, got %s",
                   DESCRIBE(ys, d));
    }
    const json_t *zp = json_object_get(ent, "y_zero_point");
    if (zp && (json_is_array(zp) != json_is_array(ys) ||
               (json_is_array(zp) && json_array_size(zp) != n)))
        return bad(c, QSIM_ERR_PARSE, name,
                   "'y_zero_point' must have the shape of 'y_scale' (%zu %s)", n,
                   json_is_array(ys) ? "elements" : "scalar");
    const json_t *ax = json_object_get(ent, "axis");
    if (ax) {
        if (!json_is_integer(ax) || json_integer_value(ax) < 0 ||
            json_integer_value(ax) >= QSIM__MAX_RANK)
            return bad(c, QSIM_ERR_PARSE, name, "'axis' must be an integer 0..%d, got %s",
                       QSIM__MAX_RANK - 1, DESCRIBE(ax, d));
        en.axis = (int64_t)json_integer_value(ax);
    }
    en.name = qsim__strdup(name);
    if (!en.name)
        return qsim__oom();
    qsim_status st = qsim__enc_entry_alloc(&en, n);
    /* zero-point range of the dtype: int: [-2^(b-1), 2^(b-1)-1], uint: [0, 2^b-1] */
    int64_t half = (int64_t)1 << (bits - 1);
    int64_t zlo = is_signed ? -half : 0, zhi = is_signed ? half - 1 : qsim__enc_levels(bits);
    for (size_t i = 0; i < n && st == QSIM_OK; i++) {
        const json_t *s = json_is_array(ys) ? json_array_get(ys, i) : ys;
        if (!json_is_number(s)) {
            st = bad(c, QSIM_ERR_PARSE, name, "'y_scale'[%zu] must be a number, got %s", i,
                     DESCRIBE(s, d));
            break;
        }
        en.scale[i] = json_number_value(s);
        int64_t z = 0;
        if (zp) {
            const json_t *zv = json_is_array(zp) ? json_array_get(zp, i) : zp;
            if (!json_is_integer(zv) || (z = (int64_t)json_integer_value(zv)) < zlo || z > zhi) {
                st = bad(c, QSIM_ERR_PARSE, name,
                         "'y_zero_point'[%zu] must be an integer %lld..%lld for %s, got %s", i,
                         (long long)zlo, (long long)zhi, ds, DESCRIBE(zv, d));
                break;
            }
        }
        /* SPEC 5.4, inverted: int{b}: offset = -(zp + 2^(b-1)); uint{b}: -zp */
        en.offset[i] = is_signed ? -(z + half) : -z;
    }
    if (st != QSIM_OK) {
        qsim__enc_entry_clear(&en);
        return st;
    }
    rebuild_min_max(&en);
    return finish_entry(c, &en);
}

static qsim_status parse_200_list(pctx *c, const json_t *arr, const char *key)
{
    char d[96];
    if (!json_is_array(arr))
        return bad(c, QSIM_ERR_PARSE, NULL, "'%s' must be a list, got %s", key, DESCRIBE(arr, d));
    for (size_t i = 0; i < json_array_size(arr); i++)
        QSIM__TRY(parse_200_entry(c, json_array_get(arr, i), key, i));
    return QSIM_OK;
}

/* ---- top level ---- */

static qsim_status parse_bool_arg(const pctx *c, const json_t *v, const char *key, int *out)
{
    char d[96];
    const char *s = json_string_value(v);
    if (json_is_boolean(v))
        *out = json_is_true(v);
    else if (s && strcmp(s, "True") == 0)
        *out = 1;
    else if (s && strcmp(s, "False") == 0)
        *out = 0;
    else
        return bad(c, QSIM_ERR_PARSE, "quantizer_args",
                   "'%s' must be true/false (or \"True\"/\"False\"), got %s", key,
                   DESCRIBE(v, d));
    return QSIM_OK;
}

static qsim_status parse_quantizer_args(pctx *c, const json_t *q)
{
    char d[96];
    const char *where = "quantizer_args";
    if (!json_is_object(q))
        return bad(c, QSIM_ERR_PARSE, NULL, "'quantizer_args' must be an object, got %s",
                   DESCRIBE(q, d));
    qsim__enc_quantizer_args a;
    memset(&a, 0, sizeof a);
    const json_t *v;
    if ((v = json_object_get(q, "quant_scheme"))) {
        if (!json_is_string(v) || json_string_length(v) >= sizeof a.quant_scheme)
            return bad(c, QSIM_ERR_PARSE, where, "'quant_scheme' must be a short string, got %s",
                       DESCRIBE(v, d));
        memcpy(a.quant_scheme, json_string_value(v), json_string_length(v) + 1);
        a.present |= QSIM__QARG_QUANT_SCHEME;
    }
    static const struct { const char *key; unsigned bit; } bws[] = {
        {"param_bitwidth", QSIM__QARG_PARAM_BW}, {"activation_bitwidth", QSIM__QARG_ACTIVATION_BW}};
    for (size_t i = 0; i < 2; i++) {
        if (!(v = json_object_get(q, bws[i].key)))
            continue;
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 32)
            return bad(c, QSIM_ERR_PARSE, where, "'%s' must be an integer 1..32, got %s",
                       bws[i].key, DESCRIBE(v, d));
        if (i == 0)
            a.param_bitwidth = (int)json_integer_value(v);
        else
            a.activation_bitwidth = (int)json_integer_value(v);
        a.present |= bws[i].bit;
    }
    if ((v = json_object_get(q, "dtype"))) {
        const char *s = json_string_value(v);
        if (s && strcmp(s, "int") == 0)
            a.dtype = QSIM__ENC_DTYPE_INT;
        else if (s && strcmp(s, "float") == 0)
            a.dtype = QSIM__ENC_DTYPE_FLOAT;
        else
            return bad(c, QSIM_ERR_PARSE, where, "'dtype' must be \"int\" or \"float\", got %s",
                       DESCRIBE(v, d));
        a.present |= QSIM__QARG_DTYPE;
    }
    if ((v = json_object_get(q, "is_symmetric"))) {
        QSIM__TRY(parse_bool_arg(c, v, "is_symmetric", &a.is_symmetric));
        a.present |= QSIM__QARG_IS_SYMMETRIC;
    }
    if ((v = json_object_get(q, "per_channel_quantization"))) {
        QSIM__TRY(parse_bool_arg(c, v, "per_channel_quantization", &a.per_channel_quantization));
        a.present |= QSIM__QARG_PER_CHANNEL;
    }
    c->e->qargs = a;
    return QSIM_OK;
}

static qsim_status parse_producer(pctx *c, const json_t *p)
{
    char d[96];
    const json_t *pk = json_object_get(p, "package"), *pv = json_object_get(p, "version");
    if (!json_is_object(p) || (pk && !json_is_string(pk)) || (pv && !json_is_string(pv)))
        return bad(c, QSIM_ERR_PARSE, NULL,
                   "'producer' must be an object with string 'package' and 'version', got %s",
                   DESCRIBE(p, d));
    if (pk && !(c->e->producer_package = qsim__strdup(json_string_value(pk))))
        return qsim__oom();
    if (pv && !(c->e->producer_version = qsim__strdup(json_string_value(pv))))
        return qsim__oom();
    return QSIM_OK;
}

static qsim_status parse_versioned(pctx *c, const json_t *root)
{
    char d[96];
    const json_t *vv = json_object_get(root, "version");
    const char *vs = json_string_value(vv);
    if (!vs)
        return bad(c, QSIM_ERR_PARSE, NULL, "'version' must be a string, got %s",
                   DESCRIBE(vv, d));
    qsim__enc_version ver;
    if (qsim__enc_version_from_string(vs, &ver) != 0)
        return bad(c, QSIM_ERR_UNSUPPORTED, NULL,
                   "encodings version %s is not supported (0.6.1, 1.0.0, 2.0.0 are)",
                   DESCRIBE(vv, d));
    c->e->version = ver;
    c->e->param_only = 0;

    /* Unknown top-level keys are errors: a misspelt section would
     * otherwise load as "no encodings" without a word. */
    static const char *const keys_old[] = {"version", "activation_encodings", "param_encodings",
                                           "quantizer_args", "producer", NULL};
    static const char *const keys_new[] = {"version", "encodings", "quantizer_args", "producer",
                                           NULL};
    const char *const *allowed = ver == QSIM__ENC_V2_0_0 ? keys_new : keys_old;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)root, key, val) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            ok |= strcmp(key, allowed[i]) == 0;
        if (!ok)
            return bad(c, QSIM_ERR_PARSE, NULL, "unknown top-level key \"%.64s\" in a %s file",
                       key, vs);
    }
    if ((val = json_object_get(root, "producer")))
        QSIM__TRY(parse_producer(c, val));
    if ((val = json_object_get(root, "quantizer_args")))
        QSIM__TRY(parse_quantizer_args(c, val));

    if (ver == QSIM__ENC_V2_0_0) {
        val = json_object_get(root, "encodings");
        if (!val)
            return bad(c, QSIM_ERR_PARSE, NULL, "a 2.0.0 file needs an 'encodings' list");
        return parse_200_list(c, val, "encodings");
    }
    const json_t *act = json_object_get(root, "activation_encodings");
    const json_t *par = json_object_get(root, "param_encodings");
    if (!act && !par)
        return bad(c, QSIM_ERR_PARSE, NULL,
                   "a %s file needs 'activation_encodings' and/or 'param_encodings'", vs);
    if (ver == QSIM__ENC_V0_6_1) {
        if (act)
            QSIM__TRY(parse_061_section(c, act, "activation_encodings",
                                        QSIM__ENC_SECTION_ACTIVATION));
        if (par)
            QSIM__TRY(parse_061_section(c, par, "param_encodings", QSIM__ENC_SECTION_PARAM));
    } else {
        if (act)
            QSIM__TRY(parse_100_section(c, act, "activation_encodings",
                                        QSIM__ENC_SECTION_ACTIVATION));
        if (par)
            QSIM__TRY(parse_100_section(c, par, "param_encodings", QSIM__ENC_SECTION_PARAM));
    }
    return QSIM_OK;
}

/* Version detection as AIMET [B] does it (SPEC 6). */
static qsim_status parse_root(pctx *c, const json_t *root)
{
    char d[96];
    if (json_is_object(root)) {
        /* A real version is a string; a list under "version" is a tensor of
         * that name in a params-only 0.6.1 file (found by fuzzing). */
        const json_t *ver = json_object_get(root, "version");
        if (ver && !json_is_array(ver))
            return parse_versioned(c, root);
        /* param-only 0.6.1: every value a list */
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)root, key, val) {
            if (!json_is_array(val))
                return bad(c, QSIM_ERR_PARSE, NULL,
                           "no 'version' key, so this should be a 0.6.1 param-only file "
                           "(name -> list), but \"%.64s\" is not a list (got %s)",
                           key, DESCRIBE(val, d));
        }
        c->e->version = QSIM__ENC_V0_6_1;
        c->e->param_only = 1;
        return parse_061_section(c, root, "<top level>", QSIM__ENC_SECTION_PARAM);
    }
    if (json_is_array(root)) {
        c->e->param_only = 1;
        const json_t *first = json_array_get(root, 0);
        if (json_is_object(first) && json_object_get(first, "y_scale")) {
            c->e->version = QSIM__ENC_V2_0_0;
            return parse_200_list(c, root, "<top level>");
        }
        c->e->version = QSIM__ENC_V1_0_0;
        return parse_100_section(c, root, "<top level>", QSIM__ENC_SECTION_PARAM);
    }
    return bad(c, QSIM_ERR_PARSE, NULL, "an encodings file is an object or a list, got %s",
               DESCRIBE(root, d));
}

qsim_status qsim__encodings_parse(const void *data, size_t size, const char *source,
                                  qsim__encodings **out)
{
    if (!data && size)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encodings_parse: NULL data");
    if (!out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encodings_parse: NULL out");
    pctx c = {source ? source : "<buffer>", NULL};
    json_t *root;
    QSIM__TRY(qsim__json_parse(data ? data : "", size, c.src, &root));
    c.e = qsim__encodings_create();
    if (!c.e) {
        json_decref(root);
        return qsim__oom();
    }
    qsim_status st = parse_root(&c, root);
    json_decref(root);
    if (st != QSIM_OK) {
        qsim__encodings_free(c.e);
        return st;
    }
    *out = c.e;
    return QSIM_OK;
}

qsim_status qsim__encodings_load(const char *path, qsim__encodings **out)
{
    if (!path || !out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "encodings_load: NULL argument");
    char *data;
    size_t size;
    QSIM__TRY(qsim__read_file(path, &data, &size));
    qsim_status st = qsim__encodings_parse(data, size, path, out);
    qsim__free(data);
    return st;
}
