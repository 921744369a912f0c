#include "idx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* zlib's message without the "path: " prefix it adds. */
static const char *zmsg(gzFile f, const char *path, int *zerr)
{
    const char *m = gzerror(f, zerr);
    size_t n = strlen(path);
    if (strncmp(m, path, n) == 0 && m[n] == ':' && m[n + 1] == ' ')
        m += n + 2;
    return m;
}

/* Reads exactly `want` bytes; *got tells how many arrived before EOF. */
static int read_exact(gzFile f, const char *path, void *dst, size_t want, size_t *got,
                      qex_err *err)
{
    unsigned char *p = dst;
    *got = 0;
    while (*got < want) {
        size_t chunk = want - *got;
        if (chunk > ((size_t)1 << 24))
            chunk = (size_t)1 << 24;
        int r = gzread(f, p + *got, (unsigned)chunk);
        if (r < 0) {
            int zerr = 0;
            const char *m = zmsg(f, path, &zerr);
            if (zerr == Z_ERRNO)
                return qex_fail(err, "%s: read error: %s", path, strerror(errno));
            return qex_fail(err, "%s: corrupt gzip data: %s", path, m);
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    /* A damaged or cut gzip stream shows up as an error once data stops. */
    int zerr = 0;
    const char *m = zmsg(f, path, &zerr);
    if (zerr != Z_OK && zerr != Z_STREAM_END)
        return qex_fail(err, "%s: corrupt or truncated gzip data: %s", path, m);
    return 0;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

static int read_payload(gzFile f, const char *path, size_t count, uint8_t **out, qex_err *err)
{
    /* Grow while reading, so a header that lies about a huge size fails at
     * end of file instead of allocating what it claims. */
    size_t cap = count < ((size_t)1 << 20) ? count : ((size_t)1 << 20);
    size_t have = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return qex_fail(err, "%s: out of memory", path);
    while (have < count) {
        if (have == cap) {
            size_t ncap = cap * 2 < count ? cap * 2 : count;
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                free(buf);
                return qex_fail(err, "%s: out of memory (%zu bytes)", path, ncap);
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = 0;
        if (read_exact(f, path, buf + have, cap - have, &got, err) != 0) {
            free(buf);
            return -1;
        }
        have += got;
        if (got == 0 || have < cap)
            break;
    }
    if (have < count) {
        free(buf);
        return qex_fail(err, "%s: truncated: header promises %zu data bytes, file has %zu",
                        path, count, have);
    }
    unsigned char extra[64];
    size_t got = 0;
    if (read_exact(f, path, extra, sizeof extra, &got, err) != 0) {
        free(buf);
        return -1;
    }
    if (got != 0) {
        free(buf);
        return qex_fail(err, "%s: %s%zu bytes of trailing data after the %zu data bytes",
                        path, got == sizeof extra ? "at least " : "", got, count);
    }
    *out = buf;
    return 0;
}

int qex_idx_read(const char *path, unsigned expect_ndim, qex_idx *out, qex_err *err)
{
    memset(out, 0, sizeof *out);
    if (expect_ndim > QEX_IDX_MAX_DIMS)
        return qex_fail(err, "%s: asked for %u dims, at most %d supported", path, expect_ndim,
                        QEX_IDX_MAX_DIMS);
    int gz = ends_with(path, ".gz");
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return qex_fail(err, "%s: cannot open: %s", path,
                        errno ? strerror(errno) : "out of memory");
    unsigned char head[4 + 4 * QEX_IDX_MAX_DIMS];
    size_t got = 0;
    if (read_exact(f, path, head, 4, &got, err) != 0)
        goto fail;
    if (gz && gzdirect(f)) {
        qex_fail(err, "%s: name ends in .gz but the file is not gzip-compressed", path);
        goto fail;
    }
    if (got < 4) {
        qex_fail(err, "%s: truncated: %zu bytes, an IDX header needs at least 4", path, got);
        goto fail;
    }
    if (head[0] != 0 || head[1] != 0) {
        qex_fail(err, "%s: bad magic %02x %02x %02x %02x, an IDX file starts with 00 00",
                 path, head[0], head[1], head[2], head[3]);
        goto fail;
    }
    if (head[2] != 0x08) {
        qex_fail(err, "%s: IDX type code 0x%02x unsupported, only 0x08 (unsigned byte)",
                 path, head[2]);
        goto fail;
    }
    unsigned ndim = head[3];
    if (ndim < 1 || ndim > QEX_IDX_MAX_DIMS) {
        qex_fail(err, "%s: IDX header has %u dims, supported 1..%d", path, ndim,
                 QEX_IDX_MAX_DIMS);
        goto fail;
    }
    if (expect_ndim != 0 && ndim != expect_ndim) {
        qex_fail(err, "%s: IDX file has %u dims, expected %u", path, ndim, expect_ndim);
        goto fail;
    }
    if (read_exact(f, path, head + 4, 4 * ndim, &got, err) != 0)
        goto fail;
    if (got < 4 * ndim) {
        qex_fail(err, "%s: truncated header: %zu of %u dimension bytes", path, got, 4 * ndim);
        goto fail;
    }
    size_t count = 1;
    for (unsigned i = 0; i < ndim; i++) {
        uint32_t d = be32(head + 4 + 4 * i);
        if (d == 0) {
            qex_fail(err, "%s: dimension %u is 0", path, i);
            goto fail;
        }
        if (qex_mul_size(count, d, &count) != 0 || count > QEX_IDX_MAX_BYTES) {
            qex_fail(err, "%s: header claims more than the %zu-byte limit", path,
                     QEX_IDX_MAX_BYTES);
            goto fail;
        }
        out->dims[i] = d;
    }
    if (read_payload(f, path, count, &out->data, err) != 0)
        goto fail;
    gzclose(f);
    out->ndim = ndim;
    out->count = count;
    return 0;
fail:
    gzclose(f);
    memset(out, 0, sizeof *out);
    return -1;
}

int qex_idx_read_images(const char *path, qex_idx *out, qex_err *err)
{
    return qex_idx_read(path, 3, out, err);
}

int qex_idx_read_labels(const char *path, unsigned num_classes, qex_idx *out, qex_err *err)
{
    if (qex_idx_read(path, 1, out, err) != 0)
        return -1;
    if (num_classes == 0)
        return 0;
    for (size_t i = 0; i < out->count; i++) {
        if (out->data[i] >= num_classes) {
            unsigned v = out->data[i];
            qex_idx_free(out);
            return qex_fail(err, "%s: label %zu is %u, expected 0..%u", path, i, v,
                            num_classes - 1);
        }
    }
    return 0;
}

int qex_idx_check_pair(const qex_idx *images, const qex_idx *labels, qex_err *err)
{
    if (images->ndim != 3 || labels->ndim != 1)
        return qex_fail(err, "IDX pair: want 3-D images and 1-D labels, got %u-D and %u-D",
                        images->ndim, labels->ndim);
    if (images->dims[0] != labels->dims[0])
        return qex_fail(err, "IDX pair: %zu images but %zu labels", images->dims[0],
                        labels->dims[0]);
    return 0;
}

float qex_fmnist_preprocess(uint8_t pixel)
{
    /* Separate float32 steps, the same rounding as numpy/onnxruntime-node. */
    float v = (float)pixel / 255.0f;
    v = v - QEX_FMNIST_MEAN;
    return v / QEX_FMNIST_STD;
}

int qex_idx_images_to_nchw(const qex_idx *images, size_t first, size_t n, float *dst,
                           size_t dst_len, qex_err *err)
{
    if (!images || images->ndim != 3 || !images->data)
        return qex_fail(err, "images_to_nchw: not a 3-D image set");
    if (first > images->dims[0] || n > images->dims[0] - first)
        return qex_fail(err, "images_to_nchw: images [%zu, %zu+%zu) outside the %zu images",
                        first, first, n, images->dims[0]);
    size_t hw = images->dims[1] * images->dims[2]; /* <= count, cannot overflow */
    size_t need = n * hw;                          /* <= count as well */
    if (!dst || dst_len < need)
        return qex_fail(err, "images_to_nchw: need %zu floats, buffer has %zu", need, dst_len);
    const uint8_t *src = images->data + first * hw;
    for (size_t i = 0; i < need; i++)
        dst[i] = qex_fmnist_preprocess(src[i]);
    return 0;
}

void qex_idx_free(qex_idx *idx)
{
    if (!idx)
        return;
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}
