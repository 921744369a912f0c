#include "lightops.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int qsim__lo_is_float(int dtype)
{
    return dtype == QSIM__DT_FLOAT || dtype == QSIM__DT_DOUBLE || dtype == QSIM__DT_FLOAT16 ||
           dtype == QSIM__DT_BFLOAT16;
}

int qsim__lo_is_int(int dtype)
{
    switch (dtype) {
    case QSIM__DT_UINT8: case QSIM__DT_INT8: case QSIM__DT_UINT16: case QSIM__DT_INT16:
    case QSIM__DT_INT32: case QSIM__DT_INT64: case QSIM__DT_UINT32: case QSIM__DT_UINT64:
    case QSIM__DT_BOOL:
        return 1;
    default:
        return 0;
    }
}

uint16_t qsim__lo_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t exp = (x >> 23) & 0xffu, man = x & 0x7fffffu;
    if (exp == 0xff) /* inf / nan */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u | (man >> 13) : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000u;
        unsigned shift = (unsigned)(14 - e);
        uint32_t h = man >> shift, rem = man & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1)))
        h++; /* may carry into the exponent, up to inf: correct */
    return (uint16_t)(sign | h);
}

float qsim__lo_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    uint32_t x;
    if (exp == 0x1f)
        x = sign | 0x7f800000u | (man << 13);
    else if (exp == 0) {
        if (!man)
            x = sign;
        else {
            int e = -1;
            do {
                man <<= 1;
                e++;
            } while (!(man & 0x400u));
            x = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else
        x = sign | ((exp - 15 + 127) << 23) | (man << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

uint16_t qsim__lo_f32_to_bf16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

float qsim__lo_bf16_to_f32(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

double qsim__lo_get_f(const void *d, int dtype, size_t i)
{
    switch (dtype) {
    case QSIM__DT_FLOAT: return ((const float *)d)[i];
    case QSIM__DT_DOUBLE: return ((const double *)d)[i];
    case QSIM__DT_FLOAT16: return qsim__lo_f16_to_f32(((const uint16_t *)d)[i]);
    case QSIM__DT_BFLOAT16: return qsim__lo_bf16_to_f32(((const uint16_t *)d)[i]);
    case QSIM__DT_UINT64: return (double)((const uint64_t *)d)[i];
    default: return (double)qsim__lo_get_i(d, dtype, i);
    }
}

int64_t qsim__lo_get_i(const void *d, int dtype, size_t i)
{
    switch (dtype) {
    case QSIM__DT_UINT8: return ((const uint8_t *)d)[i];
    case QSIM__DT_INT8: return ((const int8_t *)d)[i];
    case QSIM__DT_UINT16: return ((const uint16_t *)d)[i];
    case QSIM__DT_INT16: return ((const int16_t *)d)[i];
    case QSIM__DT_INT32: return ((const int32_t *)d)[i];
    case QSIM__DT_INT64: return ((const int64_t *)d)[i];
    case QSIM__DT_UINT32: return ((const uint32_t *)d)[i];
    case QSIM__DT_UINT64: return (int64_t)((const uint64_t *)d)[i];
    case QSIM__DT_BOOL: return ((const uint8_t *)d)[i] != 0;
    default: {
        double v = qsim__lo_get_f(d, dtype, i);
        /* float to int: truncate, saturating instead of undefined behaviour */
        if (isnan(v))
            return 0;
        if (v >= 9.2233720368547758e18)
            return INT64_MAX;
        if (v <= -9.2233720368547758e18)
            return INT64_MIN;
        return (int64_t)v;
    }
    }
}

void qsim__lo_set_i(void *d, int dtype, size_t i, int64_t v)
{
    switch (dtype) {
    case QSIM__DT_UINT8: ((uint8_t *)d)[i] = (uint8_t)v; return;
    case QSIM__DT_INT8: ((int8_t *)d)[i] = (int8_t)(uint8_t)v; return;
    case QSIM__DT_UINT16: ((uint16_t *)d)[i] = (uint16_t)v; return;
    case QSIM__DT_INT16: ((int16_t *)d)[i] = (int16_t)(uint16_t)v; return;
    case QSIM__DT_INT32: ((int32_t *)d)[i] = (int32_t)(uint32_t)v; return;
    case QSIM__DT_INT64: ((int64_t *)d)[i] = v; return;
    case QSIM__DT_UINT32: ((uint32_t *)d)[i] = (uint32_t)v; return;
    case QSIM__DT_UINT64: ((uint64_t *)d)[i] = (uint64_t)v; return;
    case QSIM__DT_BOOL: ((uint8_t *)d)[i] = v != 0; return;
    default: qsim__lo_set_f(d, dtype, i, (double)v); return;
    }
}

void qsim__lo_set_f(void *d, int dtype, size_t i, double v)
{
    switch (dtype) {
    case QSIM__DT_FLOAT: ((float *)d)[i] = (float)v; return;
    case QSIM__DT_DOUBLE: ((double *)d)[i] = v; return;
    case QSIM__DT_FLOAT16: ((uint16_t *)d)[i] = qsim__lo_f32_to_f16((float)v); return;
    case QSIM__DT_BFLOAT16: ((uint16_t *)d)[i] = qsim__lo_f32_to_bf16((float)v); return;
    case QSIM__DT_BOOL: ((uint8_t *)d)[i] = v != 0.0; return;
    default: {
        /* float to int: truncate toward zero, saturate out of range */
        int64_t iv;
        if (isnan(v))
            iv = 0;
        else if (v >= 9.2233720368547758e18)
            iv = INT64_MAX;
        else if (v <= -9.2233720368547758e18)
            iv = INT64_MIN;
        else
            iv = (int64_t)v;
        qsim__lo_set_i(d, dtype, i, iv);
        return;
    }
    }
}

qsim_status qsim__lo_const_ints(const qsim__node *n, const qsim__tview *t, const char *what,
                                int64_t *out, size_t cap, size_t *count)
{
    if (!t->data && t->numel)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: input '%s' must be a constant (or computable "
                          "from shapes) for the engine", qsim__node_label(n), what);
    if (t->dtype != QSIM__DT_INT64 && t->dtype != QSIM__DT_INT32)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "%s: input '%s' must be int64 or int32, not %s",
                          qsim__node_label(n), what, qsim__dtype_name(t->dtype));
    if (t->numel > cap)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: input '%s' has %zu values, at most %zu allowed",
                          qsim__node_label(n), what, t->numel, cap);
    for (size_t i = 0; i < t->numel; i++)
        out[i] = qsim__lo_get_i(t->data, t->dtype, i);
    *count = t->numel;
    return QSIM_OK;
}

qsim_status qsim__lo_axis(const qsim__node *n, int64_t axis, int rank, int *out)
{
    if (axis < -(int64_t)rank || axis >= (int64_t)rank)
        return qsim__fail(QSIM_ERR_SHAPE, "%s: axis %" PRId64 " is out of range for rank %d",
                          qsim__node_label(n), axis, rank);
    *out = (int)(axis < 0 ? axis + rank : axis);
    return QSIM_OK;
}

const char *qsim__lo_shape(const qsim__shape *s, int slot)
{
    static _Thread_local char buf[4][160];
    return qsim__shape_str(s, buf[slot & 3], sizeof buf[0]);
}

qsim_status qsim__lo_broadcast(const qsim__node *n, const qsim__tview *in, size_t k,
                               qsim__shape *out)
{
    int rank = 0;
    for (size_t i = 0; i < k; i++)
        if (in[i].dtype && in[i].shape.rank > rank)
            rank = in[i].shape.rank;
    out->rank = rank;
    for (int d = 0; d < rank; d++)
        out->dims[d] = 1;
    for (size_t i = 0; i < k; i++) {
        if (!in[i].dtype)
            continue;
        const qsim__shape *s = &in[i].shape;
        for (int d = 0; d < s->rank; d++) {
            int od = rank - s->rank + d;
            int64_t a = out->dims[od], b = s->dims[d];
            if (a == b || b == 1)
                continue;
            if (a == 1) {
                out->dims[od] = b;
                continue;
            }
            char tmp[160];
            qsim__shape partial = *out;
            qsim__shape_str(&partial, tmp, sizeof tmp);
            return qsim__fail(QSIM_ERR_SHAPE, "%s: input %zu of shape %s does not broadcast with %s",
                              qsim__node_label(n), i, qsim__lo_shape(s, 0), tmp);
        }
    }
    return QSIM_OK;
}

void qsim__lo_strides(const qsim__shape *s, int64_t *st)
{
    int64_t acc = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        st[d] = acc;
        acc *= s->dims[d];
    }
}

void qsim__lo_bstrides(const qsim__shape *in, const qsim__shape *out, int64_t *st)
{
    int64_t own[QSIM__MAX_RANK];
    qsim__lo_strides(in, own);
    for (int d = 0; d < out->rank; d++) {
        int id = d - (out->rank - in->rank);
        st[d] = (id < 0 || in->dims[id] == 1) ? 0 : own[id];
    }
}

void qsim__lo_bcast_init(qsim__lo_bcast *b, const qsim__shape *out, const qsim__shape *const *in,
                         size_t n_in)
{
    memset(b, 0, sizeof *b);
    b->n_in = n_in;
    int64_t st[QSIM__LO_MAX_IN][QSIM__MAX_RANK];
    for (size_t k = 0; k < n_in; k++)
        qsim__lo_bstrides(in[k], out, st[k]);
    /* drop size-1 dims and merge neighbours that are contiguous in every
     * operand, so common cases become one long row */
    int r = 0;
    for (int d = 0; d < out->rank; d++) {
        if (out->dims[d] == 1)
            continue;
        int merge = r > 0;
        for (size_t k = 0; k < n_in && merge; k++)
            merge = b->st[k][r - 1] == st[k][d] * out->dims[d];
        if (merge) {
            b->dims[r - 1] *= out->dims[d];
            for (size_t k = 0; k < n_in; k++)
                b->st[k][r - 1] = st[k][d];
            continue;
        }
        b->dims[r] = out->dims[d];
        for (size_t k = 0; k < n_in; k++)
            b->st[k][r] = st[k][d];
        r++;
    }
    if (r == 0) {
        b->dims[0] = 1;
        for (size_t k = 0; k < n_in; k++)
            b->st[k][0] = 0;
        r = 1;
    }
    b->rank = r;
    b->len = (size_t)b->dims[r - 1];
    size_t rows = 1;
    for (int d = 0; d < r - 1; d++)
        rows *= (size_t)b->dims[d];
    b->rows = rows;
    for (int d = 0; d < out->rank; d++)
        if (out->dims[d] == 0)
            b->rows = 0;
}

void qsim__lo_bcast_rows(const qsim__lo_bcast *b, size_t r0, size_t r1, qsim__lo_row_fn fn,
                         void *ctx)
{
    if (r0 >= r1)
        return;
    int outer = b->rank - 1;
    int64_t idx[QSIM__MAX_RANK] = {0};
    size_t off[QSIM__LO_MAX_IN] = {0};
    int64_t step[QSIM__LO_MAX_IN];
    size_t rem = r0;
    for (int d = outer - 1; d >= 0; d--) {
        idx[d] = (int64_t)(rem % (size_t)b->dims[d]);
        rem /= (size_t)b->dims[d];
    }
    for (size_t k = 0; k < b->n_in; k++) {
        step[k] = b->st[k][b->rank - 1];
        for (int d = 0; d < outer; d++)
            off[k] += (size_t)(idx[d] * b->st[k][d]);
    }
    for (size_t r = r0; r < r1; r++) {
        fn(ctx, r * b->len, off, step, b->len);
        for (int d = outer - 1; d >= 0; d--) {
            idx[d]++;
            for (size_t k = 0; k < b->n_in; k++)
                off[k] += (size_t)b->st[k][d];
            if (idx[d] < b->dims[d])
                break;
            for (size_t k = 0; k < b->n_in; k++)
                off[k] -= (size_t)(b->st[k][d] * b->dims[d]);
            idx[d] = 0;
        }
    }
}

typedef struct par_ctx {
    const qsim__lo_bcast *b;
    qsim__lo_row_fn fn;
    void *ctx;
    size_t per_task; /* rows per task, or elements when there is one row */
} par_ctx;

static void par_task(void *c, size_t task, int thread)
{
    (void)thread;
    const par_ctx *p = c;
    const qsim__lo_bcast *b = p->b;
    if (b->rows == 1) {
        size_t s = task * p->per_task, e = s + p->per_task;
        if (e > b->len)
            e = b->len;
        size_t off[QSIM__LO_MAX_IN];
        int64_t step[QSIM__LO_MAX_IN];
        for (size_t k = 0; k < b->n_in; k++) {
            step[k] = b->st[k][b->rank - 1];
            off[k] = s * (size_t)step[k];
        }
        p->fn(p->ctx, s, off, step, e - s);
        return;
    }
    size_t r0 = task * p->per_task, r1 = r0 + p->per_task;
    if (r1 > b->rows)
        r1 = b->rows;
    qsim__lo_bcast_rows(b, r0, r1, p->fn, p->ctx);
}

void qsim__lo_bcast_run(qsim__pool *pool, const qsim__lo_bcast *b, qsim__lo_row_fn fn, void *ctx)
{
    if (b->rows == 0 || b->len == 0)
        return;
    par_ctx p = {b, fn, ctx, 0};
    size_t tasks;
    if (b->rows == 1) {
        p.per_task = QSIM__LO_CHUNK;
        tasks = (b->len + QSIM__LO_CHUNK - 1) / QSIM__LO_CHUNK;
    } else {
        p.per_task = b->len >= QSIM__LO_CHUNK ? 1 : QSIM__LO_CHUNK / b->len;
        tasks = (b->rows + p.per_task - 1) / p.per_task;
    }
    if (tasks <= 1) {
        par_task(&p, 0, 0);
        return;
    }
    qsim__pool_run(pool, tasks, par_task, &p);
}

qsim_status qsim__lo_state(const void *src, size_t size, void **state)
{
    void *s = qsim__malloc(size);
    if (!s)
        return qsim__oom();
    memcpy(s, src, size);
    *state = s;
    return QSIM_OK;
}

void qsim__lo_state_free(void *state) { qsim__free(state); }
