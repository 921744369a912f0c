/* Status names and the thread-local last-error buffer. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A fixed per-thread buffer: never NULL, no heap, nothing to free at thread
 * exit (valgrind-clean), and an OOM report cannot fail. */
#define LAST_ERROR_SIZE 1024
static _Thread_local char last_error[LAST_ERROR_SIZE];

static const char *const status_names[] = {
    "QSIM_OK",
    "QSIM_ERR_INVALID_ARGUMENT",
    "QSIM_ERR_OUT_OF_MEMORY",
    "QSIM_ERR_IO",
    "QSIM_ERR_PARSE",
    "QSIM_ERR_UNSUPPORTED",
    "QSIM_ERR_NOT_FOUND",
    "QSIM_ERR_SHAPE",
    "QSIM_ERR_STATE",
    "QSIM_ERR_FROZEN",
    "QSIM_ERR_INTERNAL",
};

const char *qsim_status_string(qsim_status s)
{
    unsigned u = (unsigned)s;
    if (u < sizeof status_names / sizeof status_names[0])
        return status_names[u];
    return "QSIM_ERR_UNKNOWN";
}

const char *qsim_last_error(void) { return last_error; }

qsim_status qsim__fail(qsim_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return s;
}

qsim_status qsim__fail_prefix(qsim_status s, const char *fmt, ...)
{
    char old[LAST_ERROR_SIZE];
    memcpy(old, last_error, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last_error)
        snprintf(last_error + n, sizeof last_error - (size_t)n, "%s", old);
    return s;
}

qsim_status qsim__oom(void)
{
    static const char msg[] = "out of memory";
    memcpy(last_error, msg, sizeof msg);
    return QSIM_ERR_OUT_OF_MEMORY;
}
