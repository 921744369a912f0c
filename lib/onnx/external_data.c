/* External tensor data (TensorProto.data_location = EXTERNAL): the bytes
 * live in a file named by the "location" entry, relative to the model's
 * folder, at "offset" for "length" bytes. A model is untrusted input, so the
 * location may not leave that folder: absolute paths, ".." components and
 * symlinks that resolve outside it are refused. */
#include "loader.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Strict unsigned decimal; 0 on junk or overflow. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (!s || !*s)
        return 0;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return 0;
        if (v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 1;
}

static int has_dotdot(const char *loc)
{
    const char *p = loc;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

/* realpath(file) must lie inside realpath(dir). */
static qsim_status check_inside(const char *dir, const char *file, const char *what,
                                const char *loc)
{
    char *rd = realpath(dir, NULL);
    char *rf = rd ? realpath(file, NULL) : NULL;
    qsim_status st = QSIM_OK;
    if (!rd || !rf) {
        st = qsim__fail(QSIM_ERR_IO, "%s: external data file '%s': %s", what, loc,
                        strerror(errno));
    } else {
        size_t n = strlen(rd);
        int inside = strncmp(rf, rd, n) == 0 && (rf[n] == '/' || (n == 1 && rd[0] == '/'));
        if (!inside)
            st = qsim__fail(QSIM_ERR_UNSUPPORTED,
                            "%s: external data location '%s' resolves outside the model's folder",
                            what, loc);
    }
    free(rd); /* realpath's buffers come from malloc */
    free(rf);
    return st;
}

qsim_status qsim__onnx_open_external(const qsim__onnx_ctx *ctx, const Onnx__TensorProto *tp,
                                     const char *what, size_t bytes, int *fd_out,
                                     uint64_t *offset_out)
{
    if (!ctx || !ctx->base_dir)
        return qsim__fail(QSIM_ERR_UNSUPPORTED,
                          "%s: external data cannot be used when loading from memory "
                          "(load the model from its file)",
                          what);
    const char *loc = NULL;
    uint64_t offset = 0, length = 0;
    int has_length = 0;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e || !e->key)
            continue;
        const char *v = e->value ? e->value : "";
        if (strcmp(e->key, "location") == 0) {
            loc = v;
        } else if (strcmp(e->key, "offset") == 0) {
            if (!parse_u64(v, &offset))
                return qsim__fail(QSIM_ERR_PARSE, "%s: bad external data offset '%s'", what, v);
        } else if (strcmp(e->key, "length") == 0) {
            if (!parse_u64(v, &length))
                return qsim__fail(QSIM_ERR_PARSE, "%s: bad external data length '%s'", what, v);
            has_length = 1;
        }
    }
    if (!loc || !*loc)
        return qsim__fail(QSIM_ERR_PARSE, "%s: external data has no location", what);
    if (loc[0] == '/' || loc[0] == '\\')
        return qsim__fail(QSIM_ERR_UNSUPPORTED,
                          "%s: external data location '%s' is absolute (only paths inside the "
                          "model's folder are allowed)",
                          what, loc);
    if (has_dotdot(loc) || strchr(loc, '\\'))
        return qsim__fail(QSIM_ERR_UNSUPPORTED,
                          "%s: external data location '%s' leaves the model's folder", what, loc);
    if (has_length && length != bytes)
        return qsim__fail(QSIM_ERR_PARSE,
                          "%s: external data length %llu but the shape needs %zu bytes (data too "
                          "%s)",
                          what, (unsigned long long)length, bytes, length < bytes ? "short" : "long");

    size_t dlen = strlen(ctx->base_dir), llen = strlen(loc), plen;
    if (!qsim__add_size(dlen, llen, &plen) || !qsim__add_size(plen, 2, &plen))
        return qsim__oom();
    char *path = qsim__malloc(plen);
    if (!path)
        return qsim__oom();
    memcpy(path, ctx->base_dir, dlen);
    path[dlen] = '/';
    memcpy(path + dlen + 1, loc, llen + 1);

    qsim_status st = check_inside(ctx->base_dir, path, what, loc);
    int fd = -1;
    if (st == QSIM_OK) {
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            st = qsim__fail(QSIM_ERR_IO, "%s: cannot open external data file '%s': %s", what, loc,
                            strerror(errno));
    }
    qsim__free(path);
    if (st != QSIM_OK)
        return st;

    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return qsim__fail(QSIM_ERR_IO, "%s: external data '%s' is not a regular file", what, loc);
    }
    uint64_t fsize = (uint64_t)sb.st_size;
    if (offset > fsize || fsize - offset < bytes || (!has_length && fsize - offset != bytes)) {
        close(fd);
        return qsim__fail(QSIM_ERR_PARSE,
                          "%s: external data '%s' has %llu bytes after offset %llu but the shape "
                          "needs %zu",
                          what, loc, (unsigned long long)(offset > fsize ? 0 : fsize - offset),
                          (unsigned long long)offset, bytes);
    }
    *fd_out = fd;
    *offset_out = offset;
    return QSIM_OK;
}

qsim_status qsim__onnx_read_external(int fd, uint64_t offset, const char *what, void *dst,
                                     size_t bytes)
{
    size_t got = 0;
    while (got < bytes) {
        ssize_t r = pread(fd, (uint8_t *)dst + got, bytes - got, (off_t)(offset + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            close(fd);
            return qsim__fail(QSIM_ERR_IO, "%s: reading external data: %s", what,
                              e ? strerror(e) : "unexpected end of file");
        }
        got += (size_t)r;
    }
    close(fd);
    return QSIM_OK;
}
