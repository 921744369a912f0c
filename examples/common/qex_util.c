#include "qex_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int qex_fail(qex_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int qex_mul_size(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a)
        return -1;
    *out = a * b;
    return 0;
}

int qex_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len,
                  qex_err *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return qex_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return qex_fail(err, "%s: not a regular file", path);
    }
    if (st.st_size < 0 || (uintmax_t)st.st_size > (uintmax_t)max_bytes) {
        fclose(f);
        return qex_fail(err, "%s: file is %jd bytes, more than the limit of %zu", path,
                        (intmax_t)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return qex_fail(err, "%s: out of memory reading %zu bytes", path, n);
    }
    size_t got = fread(buf, 1, n, f);
    int extra = fgetc(f); /* the file must not have grown meanwhile */
    int bad = ferror(f);
    fclose(f);
    if (bad || got != n || extra != EOF) {
        free(buf);
        return qex_fail(err, "%s: read error or file changed while reading", path);
    }
    buf[n] = 0;
    *data = buf;
    *len = n;
    return 0;
}
