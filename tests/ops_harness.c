/* See ops_harness.h. */
#include "ops_harness.h"

#include "core/error.h"
#include "core/threadpool.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

/* ---- reading the case file ------------------------------------------------ */

typedef struct rd {
    const unsigned char *p, *end;
    int bad;
} rd;

static void take(rd *r, void *dst, size_t n)
{
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p, n);
    r->p += n;
}

static uint32_t u32(rd *r) { uint32_t v; take(r, &v, 4); return v; }
static int32_t i32(rd *r) { int32_t v; take(r, &v, 4); return v; }
static int64_t i64(rd *r) { int64_t v; take(r, &v, 8); return v; }
static double f64(rd *r) { double v; take(r, &v, 8); return v; }

static char *str(rd *r)
{
    uint32_t n = u32(r);
    if (r->bad || (size_t)(r->end - r->p) < n) {
        r->bad = 1;
        return calloc(1, 1);
    }
    char *s = malloc((size_t)n + 1);
    memcpy(s, r->p, n);
    s[n] = 0;
    r->p += n;
    return s;
}

typedef struct tcase_t {
    int dtype;
    uint32_t flags;
    qsim__shape shape;
    size_t numel, bytes;
    void *data;
} tcase_t;

static void tensor(rd *r, tcase_t *t, int with_flags)
{
    memset(t, 0, sizeof *t);
    t->dtype = i32(r);
    if (with_flags)
        t->flags = u32(r);
    t->shape.rank = (int)u32(r);
    if (t->shape.rank > QSIM__MAX_RANK) {
        r->bad = 1;
        return;
    }
    t->numel = 1;
    for (int i = 0; i < t->shape.rank; i++) {
        t->shape.dims[i] = i64(r);
        t->numel *= (size_t)t->shape.dims[i];
    }
    uint64_t nb;
    take(r, &nb, 8);
    t->bytes = (size_t)nb;
    /* 64-byte aligned copy, at least one byte so data is never NULL */
    size_t alloc = (t->bytes + 63) / 64 * 64 + 64;
    void *d = NULL;
    if (posix_memalign(&d, 64, alloc) != 0)
        abort();
    memset(d, 0, alloc);
    take(r, d, t->bytes);
    t->data = d;
}

typedef struct ocase {
    char *name, *op_type;
    int64_t opset;
    ops_node node;
    size_t n_in, n_out;
    tcase_t in[8], out[4];
    double rtol, atol;
    int status;
} ocase;

static void read_case(rd *r, ocase *c)
{
    memset(c, 0, sizeof *c);
    c->name = str(r);
    c->op_type = str(r);
    c->opset = i64(r);
    uint32_t na = u32(r);
    qsim__node *n = &c->node.n;
    n->attrs = c->node.attrs;
    for (uint32_t i = 0; i < na && !r->bad; i++) {
        if (i >= 16) {
            r->bad = 1;
            break;
        }
        qsim__attr *a = &c->node.attrs[i];
        a->name = str(r);
        a->type = (int)u32(r);
        switch (a->type) {
        case QSIM__ATTR_FLOAT: take(r, &a->f, 4); break;
        case QSIM__ATTR_INT: a->i = i64(r); break;
        case QSIM__ATTR_STRING:
            a->s = str(r);
            a->s_len = strlen(a->s);
            break;
        case QSIM__ATTR_FLOATS:
            a->n = u32(r);
            a->floats = calloc(a->n + 1, sizeof(float));
            take(r, a->floats, a->n * sizeof(float));
            break;
        case QSIM__ATTR_INTS:
            a->n = u32(r);
            a->ints = calloc(a->n + 1, sizeof(int64_t));
            take(r, a->ints, a->n * sizeof(int64_t));
            break;
        default: r->bad = 1;
        }
        n->n_attrs = i + 1;
    }
    c->n_in = u32(r);
    for (size_t i = 0; i < c->n_in && !r->bad; i++) {
        if (i >= 8) {
            r->bad = 1;
            break;
        }
        tensor(r, &c->in[i], 1);
    }
    c->n_out = u32(r);
    for (size_t i = 0; i < c->n_out && !r->bad; i++) {
        if (i >= 4) {
            r->bad = 1;
            break;
        }
        tensor(r, &c->out[i], 0);
    }
    c->rtol = f64(r);
    c->atol = f64(r);
    c->status = i32(r);
    n->name = c->name;
    n->op_type = c->op_type;
    n->domain = "";
    n->opset = c->opset;
    n->n_inputs = c->n_in;
    n->inputs = c->node.ins;
    for (size_t i = 0; i < c->n_in && i < 8; i++)
        c->node.ins[i] = c->in[i].dtype ? (int32_t)i : -1;
    n->n_outputs = c->n_out;
    n->outputs = c->node.outs;
    for (size_t i = 0; i < c->n_out && i < 4; i++)
        c->node.outs[i] = (i == 0 || c->out[i].dtype) ? (int32_t)(100 + i) : -1;
}

static void free_case(ocase *c)
{
    for (size_t i = 0; i < c->node.n.n_attrs; i++) {
        qsim__attr *a = &c->node.attrs[i];
        free(a->name);
        free(a->s);
        free(a->floats);
        free(a->ints);
    }
    for (size_t i = 0; i < c->n_in && i < 8; i++)
        free(c->in[i].data);
    for (size_t i = 0; i < c->n_out && i < 4; i++)
        free(c->out[i].data);
    free(c->name);
    free(c->op_type);
}

/* ---- running one case ------------------------------------------------------ */

static int close_enough(const ocase *c, size_t k, const tcase_t *exp, const void *got,
                        const char *variant)
{
    if (exp->dtype == QSIM__DT_FLOAT) {
        const float *e = exp->data, *g = got;
        for (size_t i = 0; i < exp->numel; i++) {
            double a = g[i], b = e[i];
            if (isnan(a) && isnan(b))
                continue;
            if (!(fabs(a - b) <= c->atol + c->rtol * fabs(b))) {
                print_message("# %s (%s): output %zu element %zu: got %.9g, expected %.9g\n",
                              c->name, variant, k, i, a, b);
                return 0;
            }
        }
        return 1;
    }
    if (memcmp(exp->data, got, exp->bytes) != 0) {
        size_t es = qsim__dtype_size(exp->dtype);
        for (size_t i = 0; es && i < exp->numel; i++)
            if (memcmp((const char *)exp->data + i * es, (const char *)got + i * es, es) != 0) {
                long long ev = 0, gv = 0;
                memcpy(&ev, (const char *)exp->data + i * es, es < 8 ? es : 8);
                memcpy(&gv, (const char *)got + i * es, es < 8 ? es : 8);
                print_message("# %s (%s): output %zu element %zu differs (raw %lld vs %lld)\n",
                              c->name, variant, k, i, gv, ev);
                break;
            }
        return 0;
    }
    return 1;
}

/* 1 = pass. `all_const`: inputs with flags >= 1 are constant at init. */
static int run_case(const ocase *c, int all_const, qsim__pool *pool)
{
    const char *variant = all_const ? "constants, 1 thread" : "runtime inputs, pool";
    const qsim__node *n = &c->node.n;
    const qsim__op_desc *op = qsim__op_lookup("", c->op_type);
    if (!op) {
        print_message("# %s: no op for %s\n", c->name, c->op_type);
        return 0;
    }
    qsim__tview in[8], out[4];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    for (size_t i = 0; i < c->n_in; i++) {
        in[i].dtype = c->in[i].dtype;
        in[i].shape = c->in[i].shape;
        in[i].numel = c->in[i].numel;
        int cst = c->in[i].flags >= (all_const ? 1u : 2u);
        in[i].data = c->in[i].dtype && cst ? c->in[i].data : NULL;
    }
    void *state = NULL;
    size_t ws = 0;
    qsim_status st = op->init(n, in, c->n_in, &state);
    if (st == QSIM_OK) {
        st = op->infer(state, n, in, c->n_in, out, c->n_out, &ws);
        if (st != QSIM_OK)
            op->free_state(state);
    }
    if (c->status != 0 || st != QSIM_OK) {
        int ok = (int)st == c->status;
        const char *msg = qsim_last_error();
        if (ok && !strstr(msg, c->name)) {
            print_message("# %s: message does not name the node: %s\n", c->name, msg);
            ok = 0;
        }
        if (!ok)
            print_message("# %s (%s): status %d (%s), expected %d\n", c->name, variant, (int)st,
                          st ? msg : "", c->status);
        if (st == QSIM_OK)
            op->free_state(state);
        return ok;
    }
    int ok = 1;
    void *bufs[4] = {NULL};
    for (size_t k = 0; k < c->n_out; k++) {
        if (!c->out[k].dtype)
            continue;
        if (out[k].dtype != c->out[k].dtype || !qsim__shape_equal(&out[k].shape, &c->out[k].shape)) {
            char a[128], b[128];
            print_message("# %s (%s): output %zu is %s %s, expected %s %s\n", c->name, variant, k,
                          qsim__dtype_name(out[k].dtype), qsim__shape_str(&out[k].shape, a, 128),
                          qsim__dtype_name(c->out[k].dtype),
                          qsim__shape_str(&c->out[k].shape, b, 128));
            ok = 0;
            continue;
        }
        size_t bytes = out[k].numel * qsim__dtype_size(out[k].dtype);
        if (posix_memalign(&bufs[k], 64, bytes + 64) != 0)
            abort();
        memset(bufs[k], 0xff, bytes + 64); /* NaN garbage: ops must write every element */
        out[k].data = bufs[k];
    }
    for (size_t k = c->n_out; k < 4; k++)
        out[k].data = NULL;
    if (ok) {
        for (size_t i = 0; i < c->n_in; i++)
            in[i].data = c->in[i].dtype ? c->in[i].data : NULL;
        void *w = NULL;
        if (ws && posix_memalign(&w, 64, ws) != 0)
            abort();
        if (w)
            memset(w, 0xff, ws);
        qsim__exec ex = {pool, w};
        st = op->run(state, n, &ex, in, c->n_in, out, c->n_out);
        free(w);
        if (st != QSIM_OK) {
            print_message("# %s (%s): run failed: %s\n", c->name, variant, qsim_last_error());
            ok = 0;
        }
        for (size_t k = 0; ok && k < c->n_out; k++)
            if (c->out[k].dtype && !close_enough(c, k, &c->out[k], out[k].data, variant))
                ok = 0;
    }
    for (size_t k = 0; k < 4; k++)
        free(bufs[k]);
    op->free_state(state);
    return ok;
}

int ops_harness_run_family(const char *family)
{
    const char *py = getenv("PYTHON3"), *root = getenv("QSIM_SOURCE_ROOT"),
               *dir = getenv("QSIM_TEST_DATA");
    if (!py)
        py = "/usr/bin/python3";
    if (!root)
        root = "..";
    if (!dir)
        dir = ".";
    char path[4096], cmd[9000];
    snprintf(path, sizeof path, "%s/ops_%s.bin", dir, family);
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && '%s' '%s/tests/tools/gen_op_cases.py' %s '%s'",
             dir, py, root, family, path);
    if (system(cmd) != 0) {
        print_message("# generator failed: %s\n", cmd);
        return 1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        print_message("# cannot open %s\n", path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len + 1);
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    rd r = {buf, buf + got, 0};
    char magic[4];
    take(&r, magic, 4);
    uint32_t count = u32(&r);
    int failed = 0, passed = 0, backend = 0;
    if (r.bad || memcmp(magic, "QOPC", 4) != 0) {
        free(buf);
        print_message("# %s: bad case file\n", path);
        return 1;
    }
    qsim__pool *pool = NULL;
    if (qsim__pool_create(2, &pool) != QSIM_OK)
        return 1;
    for (uint32_t i = 0; i < count; i++) {
        ocase c;
        read_case(&r, &c);
        if (r.bad) {
            print_message("# %s: truncated at case %u\n", path, i);
            free_case(&c);
            failed++;
            break;
        }
        int ok = run_case(&c, 1, NULL) && run_case(&c, 0, pool);
        if (ok) {
            passed++;
            if (strncmp(c.name, "test_", 5) == 0) {
                backend++;
                print_message("# ok %s\n", c.name);
            }
        } else {
            failed++;
            print_message("# FAILED %s\n", c.name);
        }
        free_case(&c);
    }
    qsim__pool_free(pool);
    free(buf);
    print_message("# %s: %d cases passed (%d ONNX backend), %d failed\n", family, passed, backend,
                  failed);
    return failed;
}

/* ---- hand-built nodes ----------------------------------------------------- */

void ops_node_init(ops_node *b, const char *op_type, int64_t opset, size_t n_in, size_t n_out)
{
    memset(b, 0, sizeof *b);
    b->n.name = "hand";
    b->n.op_type = (char *)op_type;
    b->n.domain = "";
    b->n.opset = opset;
    b->n.n_inputs = n_in;
    b->n.inputs = b->ins;
    b->n.n_outputs = n_out;
    b->n.outputs = b->outs;
    b->n.attrs = b->attrs;
    for (size_t i = 0; i < 8; i++)
        b->ins[i] = (int32_t)i;
    for (size_t i = 0; i < 4; i++)
        b->outs[i] = (int32_t)(100 + i);
}

static qsim__attr *add(ops_node *b, const char *name, int type)
{
    qsim__attr *a = &b->attrs[b->n.n_attrs++];
    memset(a, 0, sizeof *a);
    a->name = (char *)name;
    a->type = type;
    return a;
}

void ops_node_int(ops_node *b, const char *name, int64_t v) { add(b, name, QSIM__ATTR_INT)->i = v; }

void ops_node_ints(ops_node *b, const char *name, const int64_t *v, size_t n)
{
    qsim__attr *a = add(b, name, QSIM__ATTR_INTS);
    a->ints = (int64_t *)v;
    a->n = n;
}

void ops_node_string(ops_node *b, const char *name, const char *v)
{
    qsim__attr *a = add(b, name, QSIM__ATTR_STRING);
    a->s = (char *)v;
    a->s_len = strlen(v);
}

qsim__tview ops_view(int dtype, void *data, int rank, const int64_t *dims)
{
    qsim__tview t;
    memset(&t, 0, sizeof t);
    t.dtype = dtype;
    t.shape.rank = rank;
    t.numel = 1;
    for (int i = 0; i < rank; i++) {
        t.shape.dims[i] = dims[i];
        t.numel *= (size_t)dims[i];
    }
    t.data = data;
    return t;
}

int ops_harness_oom(const qsim__node *n, qsim__tview *in, size_t n_in, size_t n_out)
{
    const qsim__op_desc *op = qsim__op_lookup("", n->op_type);
    if (!op)
        return 1;
    int bad = 0;
    for (size_t k = 1; k < 10000; k++) {
        qsim__tview out[4];
        memset(out, 0, sizeof out);
        void *state = NULL, *bufs[4] = {NULL}, *w = NULL;
        size_t ws = 0;
        qsim__alloc_fail_after(k);
        qsim_status st = op->init(n, in, n_in, &state);
        if (st == QSIM_OK) {
            st = op->infer(state, n, in, n_in, out, n_out, &ws);
            if (st == QSIM_OK) {
                for (size_t i = 0; i < n_out; i++)
                    bufs[i] = out[i].data = calloc(out[i].numel + 1, 8);
                if (ws && posix_memalign(&w, 64, ws) != 0)
                    abort();
                qsim__exec ex = {NULL, w};
                st = op->run(state, n, &ex, in, n_in, out, n_out);
            }
            op->free_state(state);
        }
        qsim__alloc_fail_after(0);
        free(w);
        for (size_t i = 0; i < 4; i++)
            free(bufs[i]);
        if (st == QSIM_OK)
            return bad;
        if (st != QSIM_ERR_OUT_OF_MEMORY) {
            print_message("# %s: allocation %zu failing gave status %d: %s\n", n->op_type, k,
                          (int)st, qsim_last_error());
            bad++;
        }
    }
    return bad + 1;
}
