/* Shared jansson plumbing: see json_io.h. */
#include "quant/json_io.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"

static pthread_once_t json_once = PTHREAD_ONCE_INIT;

/* jansson reports some allocation failures inside its lexer as syntax
 * errors; the hook remembers them so they are reported as what they are. */
static _Thread_local int json_alloc_failed;

static void *json_malloc_hook(size_t n)
{
    void *p = qsim__malloc(n);
    if (!p)
        json_alloc_failed = 1;
    return p;
}
static void json_free_hook(void *p) { qsim__free(p); }

static void json_init_once(void)
{
    json_malloc_t m = NULL;
    json_free_t f = NULL;
    json_get_alloc_funcs(&m, &f);
    /* qsim__malloc is malloc plus fault injection, so values allocated
     * before or after the switch can be freed by either side. A custom
     * allocator installed by the application is left alone. */
    if (m == malloc && f == free)
        json_set_alloc_funcs(json_malloc_hook, json_free_hook);
}

void qsim__json_init(void) { pthread_once(&json_once, json_init_once); }

qsim_status qsim__read_file(const char *path, char **data, size_t *size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return qsim__fail(QSIM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* Refuse what cannot be a JSON file before reading a byte; pipes and
     * devices are read up to the cap. */
    struct stat st;
    if (fstat(fileno(fp), &st) == 0) {
        const char *why = NULL;
        if (S_ISDIR(st.st_mode))
            why = "is a directory";
        else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > (uint64_t)QSIM__MAX_JSON_BYTES)
            why = "is larger than the 256 MiB limit for JSON files";
        if (why) {
            fclose(fp);
            return qsim__fail(QSIM_ERR_IO, "%s: %s", path, why);
        }
    }
    size_t cap = 64 * 1024, len = 0;
    char *buf = qsim__malloc(cap);
    if (!buf) {
        fclose(fp);
        return qsim__oom();
    }
    for (;;) {
        if (len == cap) {
            if (cap >= QSIM__MAX_JSON_BYTES) {
                qsim__free(buf);
                fclose(fp);
                return qsim__fail(QSIM_ERR_IO, "%s: file larger than %zu bytes", path,
                                  QSIM__MAX_JSON_BYTES);
            }
            size_t ncap = cap * 2 > QSIM__MAX_JSON_BYTES ? QSIM__MAX_JSON_BYTES : cap * 2;
            char *nb = qsim__realloc(buf, ncap);
            if (!nb) {
                qsim__free(buf);
                fclose(fp);
                return qsim__oom();
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0) {
            if (ferror(fp)) {
                int e = errno;
                qsim__free(buf);
                fclose(fp);
                return qsim__fail(QSIM_ERR_IO, "%s: read error: %s", path, strerror(e));
            }
            break;
        }
    }
    fclose(fp);
    *data = buf;
    *size = len;
    return QSIM_OK;
}

qsim_status qsim__json_parse(const void *data, size_t size, const char *source, json_t **out)
{
    qsim__json_init();
    json_error_t err;
    json_alloc_failed = 0;
    json_t *root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &err);
    if (!root) {
        /* jansson 2.14 leaves the text empty when its lexer cannot
         * allocate its first buffer */
        if (json_alloc_failed || json_error_code(&err) == json_error_out_of_memory ||
            err.text[0] == '\0')
            return qsim__oom();
        return qsim__fail(QSIM_ERR_PARSE, "%s: line %d, column %d: %s", source, err.line,
                          err.column, err.text);
    }
    *out = root;
    return QSIM_OK;
}

const char *qsim__json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

void qsim__json_describe(const json_t *v, char *buf, size_t size)
{
    if (!v) {
        snprintf(buf, size, "nothing");
        return;
    }
    switch (json_typeof(v)) {
    case JSON_STRING: {
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        /* printable ASCII only, so messages stay one clean line */
        char tmp[48];
        size_t k = 0;
        for (size_t i = 0; i < n && k < 40; i++)
            tmp[k++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        tmp[k] = '\0';
        snprintf(buf, size, "\"%s%s\"", tmp, n > 40 ? "..." : "");
        break;
    }
    case JSON_INTEGER:
        snprintf(buf, size, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(buf, size, "%.17g", json_real_value(v));
        break;
    default:
        snprintf(buf, size, "%s", qsim__json_type_name(v));
        break;
    }
}
