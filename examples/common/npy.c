#include "npy.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct dtype_info {
    const char *descr;
    size_t size;
} dtype_info;

enum { K_F4, K_F8, K_F2, K_U1, K_I1, K_I4, K_I8, K_B1 };

/* Same order as the enum above. */
static const dtype_info dtypes[] = {
    {"<f4", 4}, {"<f8", 8}, {"<f2", 2}, {"|u1", 1}, {"|i1", 1}, {"<i4", 4}, {"<i8", 8},
    {"|b1", 1},
};

/* Cursor over the header text (a Python dict literal). */
typedef struct hdr {
    const char *p, *end, *start;
    const char *name;
} hdr;

static void skip_ws(hdr *h)
{
    while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r'))
        h->p++;
}

static int expect_char(hdr *h, char c, qex_err *err)
{
    skip_ws(h);
    if (h->p >= h->end || *h->p != c)
        return qex_fail(err, "%s: bad .npy header: expected '%c' at header offset %td", h->name,
                        c, h->p - h->start);
    h->p++;
    return 0;
}

/* A quoted string without escapes, copied into out (size cap). */
static int parse_str(hdr *h, char *out, size_t cap, qex_err *err)
{
    skip_ws(h);
    if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
        return qex_fail(err, "%s: bad .npy header: expected a quoted string", h->name);
    char q = *h->p++;
    size_t n = 0;
    while (h->p < h->end && *h->p != q) {
        if (*h->p == '\\' || n + 1 >= cap)
            return qex_fail(err, "%s: bad .npy header: unexpected string", h->name);
        out[n++] = *h->p++;
    }
    if (h->p >= h->end)
        return qex_fail(err, "%s: bad .npy header: unterminated string", h->name);
    h->p++;
    out[n] = 0;
    return 0;
}

static int parse_bool(hdr *h, int *v, qex_err *err)
{
    skip_ws(h);
    size_t left = (size_t)(h->end - h->p);
    if (left >= 4 && memcmp(h->p, "True", 4) == 0) {
        h->p += 4;
        *v = 1;
        return 0;
    }
    if (left >= 5 && memcmp(h->p, "False", 5) == 0) {
        h->p += 5;
        *v = 0;
        return 0;
    }
    return qex_fail(err, "%s: bad .npy header: fortran_order must be True or False", h->name);
}

/* "(d0, d1, ...)" with an optional trailing comma; "()" is a scalar. */
static int parse_shape(hdr *h, qex_npy *out, qex_err *err)
{
    if (expect_char(h, '(', err) != 0)
        return -1;
    out->ndim = 0;
    for (;;) {
        skip_ws(h);
        if (h->p < h->end && *h->p == ')') {
            h->p++;
            return 0;
        }
        if (h->p >= h->end || *h->p < '0' || *h->p > '9')
            return qex_fail(err, "%s: bad .npy header: shape must be a tuple of integers",
                            h->name);
        size_t v = 0;
        while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
            size_t d = (size_t)(*h->p - '0');
            if (v > (SIZE_MAX - d) / 10)
                return qex_fail(err, "%s: .npy shape dimension too large", h->name);
            v = v * 10 + d;
            h->p++;
        }
        if (h->p < h->end && *h->p == 'L') /* Python 2 longs */
            h->p++;
        if (out->ndim == QEX_NPY_MAX_DIMS)
            return qex_fail(err, "%s: .npy shape has more than %d dims", h->name,
                            QEX_NPY_MAX_DIMS);
        out->shape[out->ndim++] = v;
        skip_ws(h);
        if (h->p < h->end && *h->p == ',') {
            h->p++;
            continue;
        }
        if (h->p < h->end && *h->p == ')') {
            h->p++;
            return 0;
        }
        return qex_fail(err, "%s: bad .npy header: expected ',' or ')' in shape", h->name);
    }
}

static int parse_header(hdr *h, qex_npy *out, int *fortran, qex_err *err)
{
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    if (expect_char(h, '{', err) != 0)
        return -1;
    for (;;) {
        skip_ws(h);
        if (h->p < h->end && *h->p == '}') {
            h->p++;
            break;
        }
        char key[32];
        if (parse_str(h, key, sizeof key, err) != 0 || expect_char(h, ':', err) != 0)
            return -1;
        if (strcmp(key, "descr") == 0 && !seen_descr) {
            char d[32];
            if (parse_str(h, d, sizeof d, err) != 0)
                return -1;
            if (strlen(d) >= sizeof out->descr)
                return qex_fail(err, "%s: unsupported .npy dtype '%s'", h->name, d);
            strcpy(out->descr, d);
            seen_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !seen_fortran) {
            if (parse_bool(h, fortran, err) != 0)
                return -1;
            seen_fortran = 1;
        } else if (strcmp(key, "shape") == 0 && !seen_shape) {
            if (parse_shape(h, out, err) != 0)
                return -1;
            seen_shape = 1;
        } else {
            return qex_fail(err, "%s: bad .npy header: unexpected or repeated key '%s'",
                            h->name, key);
        }
        skip_ws(h);
        if (h->p < h->end && *h->p == ',') {
            h->p++;
            continue;
        }
        if (h->p < h->end && *h->p == '}') {
            h->p++;
            break;
        }
        return qex_fail(err, "%s: bad .npy header: expected ',' or '}'", h->name);
    }
    skip_ws(h);
    if (h->p != h->end)
        return qex_fail(err, "%s: bad .npy header: text after the closing '}'", h->name);
    if (!seen_descr || !seen_fortran || !seen_shape)
        return qex_fail(err, "%s: .npy header lacks '%s'", h->name,
                        !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
    return 0;
}

static uint64_t le(const unsigned char *b, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = v << 8 | b[i];
    return v;
}

static float half_to_float(uint16_t h)
{
    int sign = h >> 15, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    float v;
    if (e == 0)
        v = ldexpf((float)m, -24);
    else if (e == 31)
        v = m ? NAN : INFINITY;
    else
        v = ldexpf((float)(m | 0x400), e - 25);
    return sign ? -v : v;
}

/* kind: index into dtypes[]. Bytes are decoded explicitly (little-endian),
 * so this also works on big-endian hosts. */
static void convert(const unsigned char *src, size_t kind, size_t count, float *dst)
{
    for (size_t i = 0; i < count; i++) {
        switch (kind) {
        case K_F4: {
            uint32_t u = (uint32_t)le(src + 4 * i, 4);
            memcpy(&dst[i], &u, 4);
            break;
        }
        case K_F8: {
            uint64_t u = le(src + 8 * i, 8);
            double d;
            memcpy(&d, &u, 8);
            dst[i] = (float)d;
            break;
        }
        case K_F2: dst[i] = half_to_float((uint16_t)le(src + 2 * i, 2)); break;
        case K_U1: dst[i] = (float)src[i]; break;
        case K_I1: dst[i] = (float)(int8_t)src[i]; break;
        case K_I4: dst[i] = (float)(int32_t)(uint32_t)le(src + 4 * i, 4); break;
        case K_I8: dst[i] = (float)(int64_t)le(src + 8 * i, 8); break;
        default: dst[i] = src[i] ? 1.0f : 0.0f; break; /* K_B1 */
        }
    }
}

int qex_npy_parse(const void *buf, size_t len, const char *name, qex_npy *out, qex_err *err)
{
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    const unsigned char *b = buf;
    memset(out, 0, sizeof *out);
    if (len < 10 || memcmp(b, magic, 6) != 0)
        return qex_fail(err, "%s: not a .npy file (bad magic)", name);
    unsigned major = b[6], minor = b[7];
    size_t hlen, off;
    if (major == 1 && minor == 0) {
        hlen = (size_t)le(b + 8, 2);
        off = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
        if (len < 12)
            return qex_fail(err, "%s: truncated .npy preamble", name);
        hlen = (size_t)le(b + 8, 4);
        off = 12;
    } else {
        return qex_fail(err, "%s: unsupported .npy format version %u.%u", name, major, minor);
    }
    if (hlen > QEX_NPY_MAX_HEADER)
        return qex_fail(err, "%s: .npy header length %zu exceeds the %zu-byte limit", name,
                        hlen, QEX_NPY_MAX_HEADER);
    if (hlen > len - off)
        return qex_fail(err, "%s: truncated .npy header: %zu bytes promised, %zu present", name,
                        hlen, len - off);
    const char *text = (const char *)b + off;
    if (memchr(text, 0, hlen))
        return qex_fail(err, "%s: .npy header contains a NUL byte", name);
    hdr h = {text, text + hlen, text, name};
    int fortran = 0;
    if (parse_header(&h, out, &fortran, err) != 0)
        goto fail;
    if (fortran) {
        qex_fail(err, "%s: fortran_order arrays are not supported (save with C order)", name);
        goto fail;
    }
    size_t isize = 0, kind = 0;
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++) {
        if (strcmp(out->descr, dtypes[i].descr) == 0) {
            isize = dtypes[i].size;
            kind = i;
        }
    }
    if (isize == 0) {
        qex_fail(err, "%s: unsupported .npy dtype '%s' (want <f4, <f8, <f2, |u1, |i1, <i4, "
                 "<i8 or |b1; little-endian only)", name, out->descr);
        goto fail;
    }
    size_t count = 1, bytes;
    for (size_t i = 0; i < out->ndim; i++) {
        if (qex_mul_size(count, out->shape[i], &count) != 0) {
            qex_fail(err, "%s: .npy shape overflows", name);
            goto fail;
        }
    }
    if (qex_mul_size(count, isize, &bytes) != 0 || bytes > QEX_NPY_MAX_BYTES ||
        count > QEX_NPY_MAX_BYTES / sizeof(float)) {
        qex_fail(err, "%s: .npy array exceeds the %zu-byte limit", name, QEX_NPY_MAX_BYTES);
        goto fail;
    }
    size_t data_off = off + hlen;
    if (len - data_off != bytes) {
        qex_fail(err, "%s: .npy data is %zu bytes, shape and dtype '%s' need %zu%s", name,
                 len - data_off, out->descr, bytes,
                 len - data_off < bytes ? " (truncated)" : " (trailing data)");
        goto fail;
    }
    if (count > 0) {
        out->data = malloc(count * sizeof(float));
        if (!out->data) {
            qex_fail(err, "%s: out of memory for %zu floats", name, count);
            goto fail;
        }
        convert(b + data_off, kind, count, out->data);
    }
    out->count = count;
    return 0;
fail:
    memset(out, 0, sizeof *out);
    return -1;
}

int qex_npy_read(const char *path, qex_npy *out, qex_err *err)
{
    unsigned char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (qex_read_file(path, QEX_NPY_MAX_BYTES + QEX_NPY_MAX_HEADER + 16, &buf, &len, err) != 0)
        return -1;
    int r = qex_npy_parse(buf, len, path, out, err);
    free(buf);
    return r;
}

void qex_npy_free(qex_npy *npy)
{
    if (!npy)
        return;
    free(npy->data);
    memset(npy, 0, sizeof *npy);
}
