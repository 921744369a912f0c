/* Serialising a jansson tree exactly as Python's
 * json.dumps(obj, sort_keys=True, indent=4) does, byte for byte: AIMET
 * writes its files that way, so libqsim's files can be diffed against
 * AIMET's. The parts that differ from jansson's own dumper are the float
 * format (Python's repr: the shortest digits that read back to the same
 * double, "1e-05", "100.0") and lower-case \u escapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "quant/json_io.h"

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int failed; /* 1: allocation failure, 2: a value JSON cannot hold */
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->cap - b->len <= n) {
        size_t ncap = b->cap ? b->cap : 4096;
        while (ncap - b->len <= n) {
            if (ncap > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            ncap *= 2;
        }
        char *np = qsim__realloc(b->p, ncap);
        if (!np) {
            b->failed = 1;
            return;
        }
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static void newline(sbuf *b, int level)
{
    static const char spaces[] = "                                        ";
    put(b, "\n", 1);
    for (size_t n = (size_t)level * 4; n > 0;) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        put(b, spaces, k);
        n -= k;
    }
}

/* ensure_ascii: everything outside ' '..'~' is escaped, as \uXXXX (lower
 * case, surrogate pairs above U+FFFF) unless it has a short escape. */
static void emit_string(sbuf *b, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    char esc[16];
    put(b, "\"", 1);
    while (*u) {
        unsigned c = *u;
        if (c >= 0x20 && c <= 0x7e && c != '"' && c != '\\') {
            const unsigned char *start = u;
            while (*u >= 0x20 && *u <= 0x7e && *u != '"' && *u != '\\')
                u++;
            put(b, (const char *)start, (size_t)(u - start));
            continue;
        }
        u++;
        const char *short_esc = NULL;
        switch (c) {
        case '"': short_esc = "\\\""; break;
        case '\\': short_esc = "\\\\"; break;
        case '\n': short_esc = "\\n"; break;
        case '\r': short_esc = "\\r"; break;
        case '\t': short_esc = "\\t"; break;
        case '\b': short_esc = "\\b"; break;
        case '\f': short_esc = "\\f"; break;
        default: break;
        }
        if (short_esc) {
            puts_(b, short_esc);
            continue;
        }
        /* jansson only holds valid UTF-8 strings */
        int extra = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        c &= extra == 3 ? 0x07 : extra == 2 ? 0x0f : extra == 1 ? 0x1f : 0xff;
        for (int i = 0; i < extra && (*u & 0xc0) == 0x80; i++)
            c = (c << 6) | (*u++ & 0x3f);
        if (c > 0xffff) {
            c -= 0x10000;
            snprintf(esc, sizeof esc, "\\u%04x\\u%04x", 0xd800 + (c >> 10), 0xdc00 + (c & 0x3ff));
        } else {
            snprintf(esc, sizeof esc, "\\u%04x", c);
        }
        puts_(b, esc);
    }
    put(b, "\"", 1);
}

/* Python's float repr. The shortest digit count p that reads back as v is
 * found by bisection (if p digits round-trip, so do p+1), then laid out in
 * fixed notation for decimal exponents -4..15, else as d.ddde+XX. */
static void emit_real(sbuf *b, double v)
{
    char buf[64];
    if (!isfinite(v)) { /* never produced by the writers: they validate first */
        b->failed = 2;
        return;
    }
    if (v == 0) {
        puts_(b, signbit(v) ? "-0.0" : "0.0");
        return;
    }
    int lo = 1, hi = 17;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        snprintf(buf, sizeof buf, "%.*e", mid - 1, v);
        if (strtod(buf, NULL) == v)
            hi = mid;
        else
            lo = mid + 1;
    }
    snprintf(buf, sizeof buf, "%.*e", lo - 1, v);
    /* buf: [-]d[.ddd]e(+|-)XX */
    char digits[32];
    size_t nd = 0;
    const char *q = buf;
    int neg = *q == '-';
    if (neg)
        q++;
    for (; *q && *q != 'e'; q++)
        if (*q != '.')
            digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0') /* p was minimal, but be safe */
        nd--;
    digits[nd] = '\0';
    int x = atoi(q + 1); /* value = d.ddd * 10^x */
    char out[64];
    size_t k = 0;
    if (neg)
        out[k++] = '-';
    if (x < -4 || x >= 16) {
        out[k++] = digits[0];
        if (nd > 1) {
            out[k++] = '.';
            memcpy(out + k, digits + 1, nd - 1);
            k += nd - 1;
        }
        k += (size_t)snprintf(out + k, sizeof out - k, "e%c%02d", x < 0 ? '-' : '+', abs(x));
    } else if (x < 0) {
        out[k++] = '0';
        out[k++] = '.';
        for (int i = 0; i < -x - 1; i++)
            out[k++] = '0';
        memcpy(out + k, digits, nd);
        k += nd;
    } else {
        size_t ip = (size_t)x + 1; /* digits before the point */
        for (size_t i = 0; i < ip; i++)
            out[k++] = i < nd ? digits[i] : '0';
        out[k++] = '.';
        if (nd > ip) {
            memcpy(out + k, digits + ip, nd - ip);
            k += nd - ip;
        } else {
            out[k++] = '0';
        }
    }
    put(b, out, k);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void emit(sbuf *b, const json_t *v, int level)
{
    char buf[32];
    if (b->failed)
        return;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        size_t n = json_object_size(v);
        if (n == 0) {
            puts_(b, "{}");
            return;
        }
        const char **keys = qsim__malloc_array(n, sizeof *keys);
        if (!keys) {
            b->failed = 1;
            return;
        }
        size_t i = 0;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)v, key, val) {
            keys[i++] = key;
        }
        qsort(keys, n, sizeof *keys, cmp_keys); /* sort_keys: code point order */
        put(b, "{", 1);
        for (i = 0; i < n; i++) {
            newline(b, level + 1);
            emit_string(b, keys[i]);
            put(b, ": ", 2);
            emit(b, json_object_get(v, keys[i]), level + 1);
            if (i + 1 < n)
                put(b, ",", 1);
        }
        newline(b, level);
        put(b, "}", 1);
        qsim__free(keys);
        return;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        if (n == 0) {
            puts_(b, "[]");
            return;
        }
        put(b, "[", 1);
        for (size_t i = 0; i < n; i++) {
            newline(b, level + 1);
            emit(b, json_array_get(v, i), level + 1);
            if (i + 1 < n)
                put(b, ",", 1);
        }
        newline(b, level);
        put(b, "]", 1);
        return;
    }
    case JSON_STRING:
        emit_string(b, json_string_value(v));
        return;
    case JSON_INTEGER:
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        puts_(b, buf);
        return;
    case JSON_REAL:
        emit_real(b, json_real_value(v));
        return;
    case JSON_TRUE:
        puts_(b, "true");
        return;
    case JSON_FALSE:
        puts_(b, "false");
        return;
    case JSON_NULL:
        puts_(b, "null");
        return;
    }
}

qsim_status qsim__json_dump_string(const json_t *root, char **out)
{
    sbuf b = {NULL, 0, 0, 0};
    emit(&b, root, 0);
    if (!b.failed && !b.p)
        put(&b, "", 0);
    if (b.failed) {
        qsim__free(b.p);
        if (b.failed == 2)
            return qsim__fail(QSIM_ERR_INTERNAL, "a NaN or infinite number cannot be written to JSON");
        return qsim__oom();
    }
    *out = b.p;
    return QSIM_OK;
}
