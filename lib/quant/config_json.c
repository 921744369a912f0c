/* Parsing and validating AIMET's quantsim config JSON (SPEC 7). The checks
 * follow AIMET's JSON schema (required and allowed keys, "True"/"False"
 * strings, kernel bitwidths) and the settings AIMET's code refuses. */
#include "quant/config_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "quant/json_io.h"

typedef struct cctx {
    const char *src;
} cctx;

static qsim_status cbad(const cctx *c, qsim_status code, const char *path, const char *fmt, ...)
    QSIM__PRINTF(4, 5);

static qsim_status cbad(const cctx *c, qsim_status code, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return qsim__fail(code, "%s: %s: %s", c->src, path, msg);
}

#define DESCRIBE(v, buf) (qsim__json_describe((v), (buf), sizeof(buf)), (buf))
#define PATH(buf, ...) snprintf((buf), sizeof(buf), __VA_ARGS__)

static qsim_status need_object(const cctx *c, const json_t *v, const char *path)
{
    char d[96];
    if (!json_is_object(v))
        return cbad(c, QSIM_ERR_PARSE, path, "must be an object, got %s", DESCRIBE(v, d));
    return QSIM_OK;
}

/* additionalProperties: false */
static qsim_status only_keys(const cctx *c, const json_t *obj, const char *path,
                             const char *const *allowed)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        int ok = 0;
        for (size_t i = 0; allowed[i]; i++)
            ok |= strcmp(key, allowed[i]) == 0;
        if (!ok) {
            char list[256] = "";
            for (size_t i = 0; allowed[i]; i++) {
                size_t l = strlen(list);
                snprintf(list + l, sizeof list - l, "%s%s", i ? ", " : "", allowed[i]);
            }
            return cbad(c, QSIM_ERR_PARSE, path, "unknown key \"%.64s\" (allowed: %s)", key,
                        list);
        }
    }
    return QSIM_OK;
}

/* AIMET's booleans are the strings "True"/"False"; absent is UNSET. */
static qsim_status get_bool(const cctx *c, const json_t *obj, const char *key, const char *path,
                            qsim__cfg_bool *out)
{
    char d[96], p[512];
    const json_t *v = json_object_get(obj, key);
    *out = QSIM__CFG_UNSET;
    if (!v)
        return QSIM_OK;
    const char *s = json_string_value(v);
    if (s && strcmp(s, "True") == 0)
        *out = QSIM__CFG_TRUE;
    else if (s && strcmp(s, "False") == 0)
        *out = QSIM__CFG_FALSE;
    else {
        PATH(p, "%s.%s", path, key);
        if (json_is_boolean(v))
            return cbad(c, QSIM_ERR_PARSE, p,
                        "must be the string \"%s\" (AIMET's config writes booleans as "
                        "strings), not the JSON literal %s",
                        json_is_true(v) ? "True" : "False", json_is_true(v) ? "true" : "false");
        return cbad(c, QSIM_ERR_PARSE, p, "must be the string \"True\" or \"False\", got %s",
                    DESCRIBE(v, d));
    }
    return QSIM_OK;
}

static qsim_status only_true(const cctx *c, qsim__cfg_bool v, const char *path)
{
    if (v == QSIM__CFG_FALSE)
        return cbad(c, QSIM_ERR_UNSUPPORTED, path,
                    "\"False\" is not supported (AIMET accepts only \"True\" here)");
    return QSIM_OK;
}

static qsim_status kernel_side(const cctx *c, const json_t *side, const char *path, int *bw,
                               qsim__cfg_dtype *dt)
{
    static const char *const keys[] = {"bitwidth", "dtype", NULL};
    char d[96], p[512];
    QSIM__TRY(need_object(c, side, path));
    QSIM__TRY(only_keys(c, side, path, keys));
    const json_t *b = json_object_get(side, "bitwidth"), *t = json_object_get(side, "dtype");
    PATH(p, "%s.bitwidth", path);
    double bv = json_is_number(b) ? json_number_value(b) : 0;
    if (!(bv == 4 || bv == 8 || bv == 16 || bv == 32))
        return cbad(c, QSIM_ERR_PARSE, p, "must be 4, 8, 16 or 32, got %s", DESCRIBE(b, d));
    PATH(p, "%s.dtype", path);
    const char *s = json_string_value(t);
    if (s && strcmp(s, "int") == 0)
        *dt = QSIM__CFG_DTYPE_INT;
    else if (s && strcmp(s, "float") == 0)
        *dt = QSIM__CFG_DTYPE_FLOAT;
    else
        return cbad(c, QSIM_ERR_PARSE, p, "must be \"int\" or \"float\", got %s", DESCRIBE(t, d));
    *bw = (int)bv;
    if (*dt == QSIM__CFG_DTYPE_FLOAT && *bw != 16 && *bw != 32)
        return cbad(c, QSIM_ERR_PARSE, path, "a float kernel needs bitwidth 16 or 32, got %d",
                    *bw);
    return QSIM_OK;
}

static qsim_status parse_kernels(const cctx *c, const json_t *arr, const char *path,
                                 qsim__cfg_kernel **out, size_t *count)
{
    static const char *const keys[] = {"activation", "param", NULL};
    char d[96], p[512];
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return cbad(c, QSIM_ERR_PARSE, path, "must be a non-empty list, got %s", DESCRIBE(arr, d));
    size_t n = json_array_size(arr);
    qsim__cfg_kernel *k = qsim__calloc(n, sizeof *k);
    if (!k)
        return qsim__oom();
    *out = k; /* owned by the config from here, freed with it */
    *count = n;
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(arr, i);
        PATH(p, "%s[%zu]", path, i);
        QSIM__TRY(need_object(c, item, p));
        QSIM__TRY(only_keys(c, item, p, keys));
        const json_t *a = json_object_get(item, "activation"), *w = json_object_get(item, "param");
        if (!a || !w)
            return cbad(c, QSIM_ERR_PARSE, p, "needs both 'activation' and 'param'");
        PATH(p, "%s[%zu].activation", path, i);
        QSIM__TRY(kernel_side(c, a, p, &k[i].activation_bitwidth, &k[i].activation_dtype));
        PATH(p, "%s[%zu].param", path, i);
        QSIM__TRY(kernel_side(c, w, p, &k[i].param_bitwidth, &k[i].param_dtype));
    }
    return QSIM_OK;
}

static qsim_status parse_param_rules(const cctx *c, const json_t *obj, const char *path,
                                     qsim__cfg_param_rule **out, size_t *count)
{
    static const char *const keys[] = {"is_quantized", "is_symmetric", NULL};
    char p[512];
    QSIM__TRY(need_object(c, obj, path));
    size_t n = json_object_size(obj);
    if (n == 0)
        return QSIM_OK;
    qsim__cfg_param_rule *r = qsim__calloc(n, sizeof *r);
    if (!r)
        return qsim__oom();
    *out = r;
    const char *key;
    json_t *val;
    size_t i = 0;
    json_object_foreach((json_t *)obj, key, val) {
        PATH(p, "%s.%s", path, key);
        QSIM__TRY(need_object(c, val, p));
        QSIM__TRY(only_keys(c, val, p, keys));
        if (!(r[i].param_type = qsim__strdup(key)))
            return qsim__oom();
        *count = ++i;
        QSIM__TRY(get_bool(c, val, "is_quantized", p, &r[i - 1].is_quantized));
        QSIM__TRY(get_bool(c, val, "is_symmetric", p, &r[i - 1].is_symmetric));
    }
    return QSIM_OK;
}

static qsim_status parse_defaults(const cctx *c, const json_t *def, qsim__config *cfg)
{
    static const char *const keys[] = {"ops", "params", "strict_symmetric", "unsigned_symmetric",
                                       "per_channel_quantization", "hw_version",
                                       "supported_kernels", NULL};
    static const char *const op_keys[] = {"is_input_quantized", "is_output_quantized",
                                          "is_symmetric", NULL};
    static const char *const param_keys[] = {"is_quantized", "is_symmetric", NULL};
    char d[96];
    QSIM__TRY(need_object(c, def, "defaults"));
    QSIM__TRY(only_keys(c, def, "defaults", keys));
    const json_t *ops = json_object_get(def, "ops"), *params = json_object_get(def, "params");
    if (!ops || !params)
        return cbad(c, QSIM_ERR_PARSE, "defaults", "needs both 'ops' and 'params'");
    QSIM__TRY(need_object(c, ops, "defaults.ops"));
    QSIM__TRY(only_keys(c, ops, "defaults.ops", op_keys));
    qsim__cfg_bool in;
    QSIM__TRY(get_bool(c, ops, "is_input_quantized", "defaults.ops", &in));
    if (in != QSIM__CFG_UNSET)
        return cbad(c, QSIM_ERR_UNSUPPORTED, "defaults.ops.is_input_quantized",
                    "is not supported in defaults (AIMET refuses it; set it per op_type)");
    QSIM__TRY(get_bool(c, ops, "is_output_quantized", "defaults.ops", &cfg->ops_is_output_quantized));
    QSIM__TRY(only_true(c, cfg->ops_is_output_quantized, "defaults.ops.is_output_quantized"));
    QSIM__TRY(get_bool(c, ops, "is_symmetric", "defaults.ops", &cfg->ops_is_symmetric));
    QSIM__TRY(need_object(c, params, "defaults.params"));
    QSIM__TRY(only_keys(c, params, "defaults.params", param_keys));
    QSIM__TRY(get_bool(c, params, "is_quantized", "defaults.params", &cfg->params_is_quantized));
    QSIM__TRY(get_bool(c, params, "is_symmetric", "defaults.params", &cfg->params_is_symmetric));
    QSIM__TRY(get_bool(c, def, "strict_symmetric", "defaults", &cfg->strict_symmetric));
    QSIM__TRY(get_bool(c, def, "unsigned_symmetric", "defaults", &cfg->unsigned_symmetric));
    QSIM__TRY(get_bool(c, def, "per_channel_quantization", "defaults",
                       &cfg->per_channel_quantization));
    const json_t *hw = json_object_get(def, "hw_version");
    if (hw) {
        if (!json_is_string(hw))
            return cbad(c, QSIM_ERR_PARSE, "defaults.hw_version", "must be a string, got %s",
                        DESCRIBE(hw, d));
        if (!(cfg->hw_version = qsim__strdup(json_string_value(hw))))
            return qsim__oom();
    }
    const json_t *k = json_object_get(def, "supported_kernels");
    if (k)
        QSIM__TRY(parse_kernels(c, k, "defaults.supported_kernels", &cfg->kernels,
                                &cfg->kernel_count));
    return QSIM_OK;
}

static qsim_status parse_op(const cctx *c, const char *name, const json_t *val,
                            qsim__cfg_op_rule *op)
{
    static const char *const keys[] = {"is_input_quantized", "is_output_quantized",
                                       "is_symmetric", "params", "supported_kernels",
                                       "per_channel_quantization", "encoding_constraints", NULL};
    static const char *const ec_keys[] = {"min", "max", NULL};
    char p[512], d[96], d2[96];
    PATH(p, "op_type.%.400s", name);
    QSIM__TRY(need_object(c, val, p));
    QSIM__TRY(only_keys(c, val, p, keys));
    QSIM__TRY(get_bool(c, val, "is_input_quantized", p, &op->is_input_quantized));
    QSIM__TRY(get_bool(c, val, "is_output_quantized", p, &op->is_output_quantized));
    QSIM__TRY(get_bool(c, val, "is_symmetric", p, &op->is_symmetric));
    QSIM__TRY(get_bool(c, val, "per_channel_quantization", p, &op->per_channel_quantization));
    char q[512];
    PATH(q, "%.400s.is_input_quantized", p);
    QSIM__TRY(only_true(c, op->is_input_quantized, q));
    const json_t *v;
    if ((v = json_object_get(val, "params"))) {
        PATH(q, "%.400s.params", p);
        QSIM__TRY(parse_param_rules(c, v, q, &op->params, &op->param_count));
    }
    if ((v = json_object_get(val, "supported_kernels"))) {
        PATH(q, "%.400s.supported_kernels", p);
        QSIM__TRY(parse_kernels(c, v, q, &op->kernels, &op->kernel_count));
    }
    if ((v = json_object_get(val, "encoding_constraints"))) {
        PATH(q, "%.400s.encoding_constraints", p);
        QSIM__TRY(need_object(c, v, q));
        QSIM__TRY(only_keys(c, v, q, ec_keys));
        const json_t *mn = json_object_get(v, "min"), *mx = json_object_get(v, "max");
        if (!json_is_number(mn) || !json_is_number(mx))
            return cbad(c, QSIM_ERR_PARSE, q, "needs numbers 'min' and 'max', got %s and %s",
                        DESCRIBE(mn, d), DESCRIBE(mx, d2));
        op->constraint_min = json_number_value(mn);
        op->constraint_max = json_number_value(mx);
        if (!(op->constraint_min < op->constraint_max))
            return cbad(c, QSIM_ERR_PARSE, q, "needs min < max, got %.17g and %.17g",
                        op->constraint_min, op->constraint_max);
        op->has_encoding_constraints = 1;
    }
    return QSIM_OK;
}

static qsim_status parse_ops(const cctx *c, const json_t *obj, qsim__config *cfg)
{
    QSIM__TRY(need_object(c, obj, "op_type"));
    size_t n = json_object_size(obj);
    if (n == 0)
        return QSIM_OK;
    if (!(cfg->ops = qsim__calloc(n, sizeof *cfg->ops)))
        return qsim__oom();
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        qsim__cfg_op_rule *op = &cfg->ops[cfg->op_count];
        if (!(op->op_type = qsim__strdup(key)))
            return qsim__oom();
        cfg->op_count++;
        QSIM__TRY(parse_op(c, key, val, op));
    }
    return QSIM_OK;
}

static qsim_status parse_supergroups(const cctx *c, const json_t *arr, qsim__config *cfg)
{
    static const char *const keys[] = {"op_list", NULL};
    char p[128], d[96];
    if (!json_is_array(arr))
        return cbad(c, QSIM_ERR_PARSE, "supergroups", "must be a list, got %s", DESCRIBE(arr, d));
    size_t n = json_array_size(arr);
    if (n == 0)
        return QSIM_OK;
    if (!(cfg->supergroups = qsim__calloc(n, sizeof *cfg->supergroups)))
        return qsim__oom();
    for (size_t i = 0; i < n; i++) {
        const json_t *g = json_array_get(arr, i);
        PATH(p, "supergroups[%zu]", i);
        QSIM__TRY(need_object(c, g, p));
        QSIM__TRY(only_keys(c, g, p, keys));
        const json_t *list = json_object_get(g, "op_list");
        PATH(p, "supergroups[%zu].op_list", i);
        if (!json_is_array(list) || json_array_size(list) < 2)
            return cbad(c, QSIM_ERR_PARSE, p, "must be a list of at least 2 op types, got %s",
                        DESCRIBE(list, d));
        size_t m = json_array_size(list);
        qsim__cfg_supergroup *sg = &cfg->supergroups[i];
        if (!(sg->op_list = qsim__calloc(m, sizeof *sg->op_list)))
            return qsim__oom();
        cfg->supergroup_count = i + 1;
        for (size_t j = 0; j < m; j++) {
            const json_t *s = json_array_get(list, j);
            if (!json_is_string(s)) {
                PATH(p, "supergroups[%zu].op_list[%zu]", i, j);
                return cbad(c, QSIM_ERR_PARSE, p, "must be a string, got %s", DESCRIBE(s, d));
            }
            if (!(sg->op_list[j] = qsim__strdup(json_string_value(s))))
                return qsim__oom();
            sg->count = j + 1;
        }
    }
    return QSIM_OK;
}

static qsim_status parse_config(const cctx *c, const json_t *root, qsim__config *cfg)
{
    static const char *const keys[] = {"defaults", "params", "op_type", "supergroups",
                                       "model_input", "model_output", NULL};
    static const char *const in_keys[] = {"is_input_quantized", NULL};
    static const char *const out_keys[] = {"is_output_quantized", NULL};
    QSIM__TRY(need_object(c, root, "<top level>"));
    QSIM__TRY(only_keys(c, root, "<top level>", keys));
    for (size_t i = 0; keys[i]; i++)
        if (!json_object_get(root, keys[i]))
            return cbad(c, QSIM_ERR_PARSE, "<top level>", "required key \"%s\" is missing",
                        keys[i]);
    QSIM__TRY(parse_defaults(c, json_object_get(root, "defaults"), cfg));
    QSIM__TRY(parse_param_rules(c, json_object_get(root, "params"), "params", &cfg->params,
                                &cfg->param_count));
    QSIM__TRY(parse_ops(c, json_object_get(root, "op_type"), cfg));
    QSIM__TRY(parse_supergroups(c, json_object_get(root, "supergroups"), cfg));
    const json_t *mi = json_object_get(root, "model_input");
    QSIM__TRY(need_object(c, mi, "model_input"));
    QSIM__TRY(only_keys(c, mi, "model_input", in_keys));
    QSIM__TRY(get_bool(c, mi, "is_input_quantized", "model_input",
                       &cfg->model_input_is_input_quantized));
    QSIM__TRY(only_true(c, cfg->model_input_is_input_quantized, "model_input.is_input_quantized"));
    const json_t *mo = json_object_get(root, "model_output");
    QSIM__TRY(need_object(c, mo, "model_output"));
    QSIM__TRY(only_keys(c, mo, "model_output", out_keys));
    QSIM__TRY(get_bool(c, mo, "is_output_quantized", "model_output",
                       &cfg->model_output_is_output_quantized));
    QSIM__TRY(only_true(c, cfg->model_output_is_output_quantized,
                        "model_output.is_output_quantized"));
    return QSIM_OK;
}

static void free_params(qsim__cfg_param_rule *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        qsim__free(r[i].param_type);
    qsim__free(r);
}

void qsim__config_free(qsim__config *c)
{
    if (!c)
        return;
    qsim__free(c->hw_version);
    qsim__free(c->kernels);
    free_params(c->params, c->param_count);
    for (size_t i = 0; i < c->op_count; i++) {
        qsim__free(c->ops[i].op_type);
        free_params(c->ops[i].params, c->ops[i].param_count);
        qsim__free(c->ops[i].kernels);
    }
    qsim__free(c->ops);
    for (size_t i = 0; i < c->supergroup_count; i++) {
        for (size_t j = 0; j < c->supergroups[i].count; j++)
            qsim__free(c->supergroups[i].op_list[j]);
        qsim__free(c->supergroups[i].op_list);
    }
    qsim__free(c->supergroups);
    qsim__free(c);
}

qsim_status qsim__config_parse(const void *data, size_t size, const char *source,
                               qsim__config **out)
{
    if ((!data && size) || !out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "config_parse: NULL argument");
    cctx c = {source ? source : "<buffer>"};
    json_t *root;
    QSIM__TRY(qsim__json_parse(data ? data : "", size, c.src, &root));
    qsim__config *cfg = qsim__calloc(1, sizeof *cfg);
    if (!cfg) {
        json_decref(root);
        return qsim__oom();
    }
    qsim_status st = parse_config(&c, root, cfg);
    json_decref(root);
    if (st != QSIM_OK) {
        qsim__config_free(cfg);
        return st;
    }
    *out = cfg;
    return QSIM_OK;
}

qsim_status qsim__config_load(const char *path, qsim__config **out)
{
    if (!path || !out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "config_load: NULL argument");
    char *data;
    size_t size;
    QSIM__TRY(qsim__read_file(path, &data, &size));
    qsim_status st = qsim__config_parse(data, size, path, out);
    qsim__free(data);
    return st;
}

qsim_status qsim__config_default(int per_channel, qsim__config **out)
{
    const char *s = per_channel ? qsim__config_default_per_channel_json : qsim__config_default_json;
    return qsim__config_parse(s, strlen(s),
                              per_channel ? "<default_config_per_channel>" : "<default_config>",
                              out);
}

const qsim__cfg_op_rule *qsim__config_find_op(const qsim__config *c, const char *op_type)
{
    for (size_t i = 0; i < c->op_count; i++)
        if (strcmp(c->ops[i].op_type, op_type) == 0)
            return &c->ops[i];
    return NULL;
}

static const qsim__cfg_param_rule *find_param(const qsim__cfg_param_rule *r, size_t n,
                                              const char *type)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(r[i].param_type, type) == 0)
            return &r[i];
    return NULL;
}

const qsim__cfg_param_rule *qsim__config_find_param(const qsim__config *c, const char *param_type)
{
    return find_param(c->params, c->param_count, param_type);
}

const qsim__cfg_param_rule *qsim__cfg_op_find_param(const qsim__cfg_op_rule *op,
                                                    const char *param_type)
{
    return find_param(op->params, op->param_count, param_type);
}
