/* qsim_sim_options: one table row per key (type, bounds), validated when set
 * so that qsim_sim_create never sees a bad value. */
#include "options.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { KEY_INT, KEY_STRING };

typedef struct key_info {
    qsim_option key;
    const char *name;
    int type;
    int64_t lo, hi; /* KEY_INT bounds, inclusive */
} key_info;

static const key_info keys[] = {
    {QSIM_OPT_DEFAULT_PARAM_BW, "QSIM_OPT_DEFAULT_PARAM_BW", KEY_INT, 2, 32},
    {QSIM_OPT_DEFAULT_ACTIVATION_BW, "QSIM_OPT_DEFAULT_ACTIVATION_BW", KEY_INT, 2, 32},
    {QSIM_OPT_QUANT_SCHEME, "QSIM_OPT_QUANT_SCHEME", KEY_INT, QSIM_SCHEME_TF,
     QSIM_SCHEME_PERCENTILE},
    {QSIM_OPT_PERCENTILE, "QSIM_OPT_PERCENTILE", KEY_STRING, 0, 0},
    {QSIM_OPT_DEFAULT_DATA_TYPE, "QSIM_OPT_DEFAULT_DATA_TYPE", KEY_INT, QSIM_DATA_TYPE_INT,
     QSIM_DATA_TYPE_FLOAT},
    {QSIM_OPT_CONFIG_FILE, "QSIM_OPT_CONFIG_FILE", KEY_STRING, 0, 0},
    {QSIM_OPT_NUM_THREADS, "QSIM_OPT_NUM_THREADS", KEY_INT, 0, 256},
    {QSIM_OPT_ENCODING_VERSION, "QSIM_OPT_ENCODING_VERSION", KEY_STRING, 0, 0},
    {QSIM_OPT_PER_CHANNEL, "QSIM_OPT_PER_CHANNEL", KEY_INT, 0, 1},
    {QSIM_OPT_KERNELS, "QSIM_OPT_KERNELS", KEY_STRING, 0, 0},
    {QSIM_OPT_QDQ_LOW_BIT, "QSIM_OPT_QDQ_LOW_BIT", KEY_STRING, 0, 0},
    {QSIM_OPT_FUSION, "QSIM_OPT_FUSION", KEY_INT, 0, 1},
};

static const key_info *find_key(qsim_option key)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].key == key)
            return &keys[i];
    return NULL;
}

void qsim__options_defaults(qsim_sim_options *o)
{
    memset(o, 0, sizeof *o);
    o->magic = QSIM__OPTIONS_MAGIC;
    o->param_bw = 8;
    o->activation_bw = 8;
    o->quant_scheme = QSIM_SCHEME_TF;
    o->percentile = 100.0;
    strcpy(o->percentile_str, "100");
    o->data_type = QSIM_DATA_TYPE_INT;
    o->config_file = NULL;
    o->num_threads = 0;
    strcpy(o->encoding_version, "1.0.0");
    o->per_channel = 0;
    o->kernels_generic = 0;
    o->qdq_low_bit_clip = 0;
    o->fusion = 1;
}

qsim_status qsim__options_copy(qsim_sim_options *dst, const qsim_sim_options *src)
{
    char *cfg = NULL;
    if (src->config_file && !(cfg = qsim__strdup(src->config_file)))
        return qsim__oom();
    *dst = *src;
    dst->config_file = cfg;
    return QSIM_OK;
}

void qsim__options_clear(qsim_sim_options *o)
{
    qsim__free(o->config_file);
    o->config_file = NULL;
}

static qsim_status check_handle(const qsim_sim_options *o, const char *fn)
{
    if (!o)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: options handle is NULL", fn);
    if (o->magic != QSIM__OPTIONS_MAGIC)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "%s: not a live qsim_sim_options handle",
                          fn);
    return QSIM_OK;
}

qsim_status qsim_sim_options_create(qsim_sim_options **out)
{
    if (!out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_sim_options_create: out is NULL");
    qsim_sim_options *o = qsim__malloc(sizeof *o);
    if (!o)
        return qsim__oom();
    qsim__options_defaults(o);
    *out = o;
    return QSIM_OK;
}

void qsim_sim_options_free(qsim_sim_options *o)
{
    if (!o || o->magic != QSIM__OPTIONS_MAGIC)
        return;
    qsim__options_clear(o);
    o->magic = 0;
    qsim__free(o);
}

qsim_status qsim_sim_options_set_int(qsim_sim_options *o, qsim_option key, int64_t value)
{
    QSIM__TRY(check_handle(o, "qsim_sim_options_set_int"));
    const key_info *k = find_key(key);
    if (!k)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_sim_options_set_int: unknown option key %d", (int)key);
    if (k->type != KEY_INT)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_sim_options_set_int: %s takes a string "
                          "(use qsim_sim_options_set_string)",
                          k->name);
    if (value < k->lo || value > k->hi)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_sim_options_set_int: %s = %" PRId64
                          " is out of bounds [%" PRId64 ", %" PRId64 "]",
                          k->name, value, k->lo, k->hi);
    int v = (int)value;
    switch (key) {
    case QSIM_OPT_DEFAULT_PARAM_BW: o->param_bw = v; break;
    case QSIM_OPT_DEFAULT_ACTIVATION_BW: o->activation_bw = v; break;
    case QSIM_OPT_QUANT_SCHEME: o->quant_scheme = v; break;
    case QSIM_OPT_DEFAULT_DATA_TYPE: o->data_type = v; break;
    case QSIM_OPT_NUM_THREADS: o->num_threads = v; break;
    case QSIM_OPT_PER_CHANNEL: o->per_channel = v; break;
    case QSIM_OPT_FUSION: o->fusion = v; break;
    default:
        return qsim__fail(QSIM_ERR_INTERNAL, "qsim_sim_options_set_int: %s not handled",
                          k->name);
    }
    return QSIM_OK;
}

/* A percentile in [50, 100] written as a plain decimal number. */
static int parse_percentile(const char *s, double *out)
{
    if (!s[0] || strlen(s) >= 32)
        return 0;
    for (const char *p = s; *p; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return 0;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !end || *end || !isfinite(v) || v < 50.0 || v > 100.0)
        return 0;
    *out = v;
    return 1;
}

/* A string option with two spellings: *flag = 0 for `off`, 1 for `on`. */
static qsim_status pick2(const key_info *k, const char *value, const char *off, const char *on,
                         int *flag)
{
    if (strcmp(value, off) == 0)
        *flag = 0;
    else if (strcmp(value, on) == 0)
        *flag = 1;
    else
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_sim_options_set_string: %s = '%.40s' is not one of "
                          "\"%s\", \"%s\"",
                          k->name, value, off, on);
    return QSIM_OK;
}

qsim_status qsim_sim_options_set_string(qsim_sim_options *o, qsim_option key, const char *value)
{
    QSIM__TRY(check_handle(o, "qsim_sim_options_set_string"));
    const key_info *k = find_key(key);
    if (!k)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_sim_options_set_string: unknown option key %d", (int)key);
    if (k->type != KEY_STRING)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                          "qsim_sim_options_set_string: %s takes an integer "
                          "(use qsim_sim_options_set_int)",
                          k->name);
    if (!value)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_sim_options_set_string: %s: value is NULL",
                          k->name);
    switch (key) {
    case QSIM_OPT_PERCENTILE: {
        double v;
        if (!parse_percentile(value, &v))
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "qsim_sim_options_set_string: %s = '%.40s' is not a number in "
                              "[50, 100] (e.g. \"99.99\")",
                              k->name, value);
        o->percentile = v;
        strcpy(o->percentile_str, value);
        return QSIM_OK;
    }
    case QSIM_OPT_CONFIG_FILE: {
        if (!value[0])
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "qsim_sim_options_set_string: %s: empty path", k->name);
        char *c = qsim__strdup(value);
        if (!c)
            return qsim__oom();
        qsim__free(o->config_file);
        o->config_file = c;
        return QSIM_OK;
    }
    case QSIM_OPT_ENCODING_VERSION:
        if (strcmp(value, "1.0.0") && strcmp(value, "0.6.1") && strcmp(value, "2.0.0"))
            return qsim__fail(QSIM_ERR_INVALID_ARGUMENT,
                              "qsim_sim_options_set_string: %s = '%.40s' is not one of "
                              "\"1.0.0\", \"0.6.1\", \"2.0.0\"",
                              k->name, value);
        strcpy(o->encoding_version, value);
        return QSIM_OK;
    case QSIM_OPT_KERNELS:
        return pick2(k, value, "auto", "generic", &o->kernels_generic);
    case QSIM_OPT_QDQ_LOW_BIT:
        return pick2(k, value, "int4", "clip", &o->qdq_low_bit_clip);
    default:
        return qsim__fail(QSIM_ERR_INTERNAL, "qsim_sim_options_set_string: %s not handled",
                          k->name);
    }
}
