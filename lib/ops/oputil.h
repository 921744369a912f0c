/* Helpers shared by the op families: input checks with node-naming
 * messages, and the kernel/stride/dilation/pad attributes common to Conv,
 * ConvTranspose and the pools (auto_pad resolution, output sizes). */
#ifndef QSIM_OPS_OPUTIL_H
#define QSIM_OPS_OPUTIL_H

#include "op.h"

#include <stdint.h>

#define QSIM__MAX_SPATIAL 3

/* 1 when input i is present (not omitted). */
static inline int qsim__in_present(const qsim__tview *in, size_t n_in, size_t i)
{
    return i < n_in && in[i].dtype != 0;
}

/* Fails unless inputs count is in [lo, hi] (names the node). */
qsim_status qsim__check_n_in(const qsim__node *n, size_t n_in, size_t lo, size_t hi);
/* Fails with UNSUPPORTED unless input i is float32 ("what" names it). */
qsim_status qsim__check_float(const qsim__node *n, const qsim__tview *t, const char *what);
/* Output shape with numel filled in (checked for overflow). */
qsim_status qsim__set_out(const qsim__node *n, qsim__tview *out, int dtype, const qsim__shape *s);
/* UNSUPPORTED when output slot i >= 1 is requested by the node. */
qsim_status qsim__no_extra_outputs(const qsim__node *n, size_t keep);

enum { QSIM__PAD_NOTSET = 0, QSIM__PAD_SAME_UPPER, QSIM__PAD_SAME_LOWER, QSIM__PAD_VALID };

typedef struct qsim__spatial {
    int nd;                           /* spatial dims, 1..3 */
    int auto_pad;                     /* QSIM__PAD_* */
    int has_kernel;                   /* kernel_shape attribute given */
    int64_t k[QSIM__MAX_SPATIAL];
    int64_t s[QSIM__MAX_SPATIAL];
    int64_t d[QSIM__MAX_SPATIAL];
    int64_t pb[QSIM__MAX_SPATIAL];    /* explicit pads, begin */
    int64_t pe[QSIM__MAX_SPATIAL];    /* explicit pads, end */
} qsim__spatial;

/* Reads kernel_shape, strides, dilations (when `dilations` is nonzero;
 * otherwise the attribute must be absent or all 1), pads and auto_pad for
 * `nd` spatial dims. kernel_shape is required when `need_kernel`. */
qsim_status qsim__spatial_read(const qsim__node *n, int nd, int need_kernel, int dilations,
                               qsim__spatial *sp);

/* Output sizes for input sizes `in`, with the pads auto_pad implies written
 * to pb/pe (may alias sp's). ceil_mode as in the pools. Fails with a
 * SHAPE message when an output size would be < 1. */
qsim_status qsim__spatial_out(const qsim__node *n, const qsim__spatial *sp, const int64_t *in,
                              int ceil_mode, int64_t *pb, int64_t *pe, int64_t *out);

/* fn(ctx, begin, end) over [0, count) in tasks of `grain` items (fixed
 * boundaries, so results do not depend on the thread count). */
typedef void (*qsim__range_fn)(void *ctx, size_t begin, size_t end);
void qsim__op_parallel(qsim__pool *pool, size_t count, size_t grain, qsim__range_fn fn, void *ctx);

/* free_state for ops that keep no state. */
void qsim__op_free_none(void *state);

/* "[1,3,224,224]" of a view, in a per-thread rotating buffer (two shapes
 * can appear in one message). */
const char *qsim__vshape(const qsim__tview *t);

#endif
