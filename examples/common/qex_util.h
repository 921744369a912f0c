/* Small helpers shared by the example programs' data readers (examples/common).
 * Not part of libqsim: the examples are separate programs, so they carry their
 * own error buffer instead of using libqsim's internals. */
#ifndef QEX_UTIL_H
#define QEX_UTIL_H

#include <stddef.h>

#if defined(__GNUC__)
#  define QEX_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define QEX_PRINTF(a, b)
#endif

/* Error report filled by every failing reader call: one line, no newline,
 * naming the file and the problem. */
typedef struct qex_err {
    char msg[768];
} qex_err;

/* Formats into err->msg (if err is not NULL) and returns -1, so failure
 * paths read `return qex_fail(err, "...", ...);`. */
int qex_fail(qex_err *err, const char *fmt, ...) QEX_PRINTF(2, 3);

/* a * b into *out; returns 0, or -1 if it would overflow size_t. */
int qex_mul_size(size_t a, size_t b, size_t *out);

/* Reads a whole regular file (at most max_bytes) into a new buffer, which
 * gets one extra NUL byte after the data. Caller frees *data with free(). */
int qex_read_file(const char *path, size_t max_bytes, unsigned char **data, size_t *len,
                  qex_err *err);

#endif
