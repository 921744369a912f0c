/* Helpers shared by the light op families (eltwise.c, reduce.c, shape.c):
 * typed element access, constant int inputs, axes, broadcasting. */
#ifndef QSIM_OPS_LIGHTOPS_H
#define QSIM_OPS_LIGHTOPS_H

#include "op.h"

#include <stdint.h>

/* 1 for float, double, float16, bfloat16. */
int qsim__lo_is_float(int dtype);
/* 1 for the integer types and bool. */
int qsim__lo_is_int(int dtype);
/* Element i of a buffer of `dtype`, converted. */
double qsim__lo_get_f(const void *data, int dtype, size_t i);
int64_t qsim__lo_get_i(const void *data, int dtype, size_t i);
/* Store v as element i (float types round to nearest; integer types wrap;
 * bool is v != 0). */
void qsim__lo_set_f(void *data, int dtype, size_t i, double v);
void qsim__lo_set_i(void *data, int dtype, size_t i, int64_t v);
/* IEEE half and bfloat16 conversions (round to nearest even). */
uint16_t qsim__lo_f32_to_f16(float f);
float qsim__lo_f16_to_f32(uint16_t h);
uint16_t qsim__lo_f32_to_bf16(float f);
float qsim__lo_bf16_to_f32(uint16_t h);

/* The values of a constant int32/int64 input (at most cap of them); fails
 * naming node and `what` when the input is not constant or not integer. */
qsim_status qsim__lo_const_ints(const qsim__node *n, const qsim__tview *t, const char *what,
                                int64_t *out, size_t cap, size_t *count);
/* axis in [-rank, rank) -> [0, rank), else a message naming the node. */
qsim_status qsim__lo_axis(const qsim__node *n, int64_t axis, int rank, int *out);
/* Multidirectional (numpy) broadcast of the non-omitted inputs. */
qsim_status qsim__lo_broadcast(const qsim__node *n, const qsim__tview *in, size_t k,
                               qsim__shape *out);
/* Element strides of `in` read under the broadcast shape `out` (0 where
 * broadcast; in is right-aligned to out). */
void qsim__lo_bstrides(const qsim__shape *in, const qsim__shape *out, int64_t *st);
/* Contiguous strides of s. */
void qsim__lo_strides(const qsim__shape *s, int64_t *st);

/* Row iteration over a broadcast: the output is split into rows of its last
 * dimension; for rows [r0, r1) calls fn with the row's output element
 * offset, the inputs' element offsets and their inner strides. */
#define QSIM__LO_MAX_IN 3
typedef struct qsim__lo_bcast {
    int rank;
    int64_t dims[QSIM__MAX_RANK];
    int64_t st[QSIM__LO_MAX_IN][QSIM__MAX_RANK];
    size_t n_in;
    size_t rows, len;          /* row count and row length */
} qsim__lo_bcast;
void qsim__lo_bcast_init(qsim__lo_bcast *b, const qsim__shape *out, const qsim__shape *const *in,
                         size_t n_in);
typedef void (*qsim__lo_row_fn)(void *ctx, size_t out_off, const size_t *in_off,
                                const int64_t *in_step, size_t len);
void qsim__lo_bcast_rows(const qsim__lo_bcast *b, size_t r0, size_t r1, qsim__lo_row_fn fn,
                         void *ctx);

/* Elements per parallel task: fixed, so results never depend on threads. */
#define QSIM__LO_CHUNK ((size_t)1 << 15)

/* Formats "[a,b,c]" into a per-thread buffer slot (0..3). */
const char *qsim__lo_shape(const qsim__shape *s, int slot);



/* Runs qsim__lo_bcast_rows over the whole broadcast, in fixed-size tasks on
 * the pool (a single long row is split too). */
void qsim__lo_bcast_run(qsim__pool *pool, const qsim__lo_bcast *b, qsim__lo_row_fn fn, void *ctx);

/* A small heap-allocated state holding a copy of `size` bytes. */
qsim_status qsim__lo_state(const void *src, size_t size, void **state);
void qsim__lo_state_free(void *state);
#endif
