/* Internal error reporting: every failure path is `return qsim__fail(...)`. */
#ifndef QSIM_CORE_ERROR_H
#define QSIM_CORE_ERROR_H

#include <qsim/qsim.h>

#if defined(__GNUC__)
#  define QSIM__PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#  define QSIM__PRINTF(a, b)
#endif

/* Formats the thread-local last-error message and returns `s` (SDL's idiom). */
qsim_status qsim__fail(qsim_status s, const char *fmt, ...) QSIM__PRINTF(2, 3);

/* Out of memory: writes a constant message, allocates and formats nothing. */
qsim_status qsim__oom(void);

/* Prefixes the current last-error message with more context
 * ("loading model.onnx: " + old message) and returns `s`. */
qsim_status qsim__fail_prefix(qsim_status s, const char *fmt, ...) QSIM__PRINTF(2, 3);

/* Internal invariant: returns QSIM_ERR_INTERNAL instead of aborting. */
#define QSIM__CHECK(cond)                                                        \
    do {                                                                         \
        if (!(cond))                                                             \
            return qsim__fail(QSIM_ERR_INTERNAL, "internal check failed: %s (%s:%d)", \
                              #cond, __FILE__, __LINE__);                         \
    } while (0)

/* Propagate a non-OK status. */
#define QSIM__TRY(expr)                                                          \
    do {                                                                         \
        qsim_status qsim__st_ = (expr);                                          \
        if (qsim__st_ != QSIM_OK)                                                \
            return qsim__st_;                                                    \
    } while (0)

#endif
