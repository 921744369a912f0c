/* Node -> linear view for AdaRound (see node.h). Padding follows the
 * engine (lib/ops/conv.c) so that the view computes what the sim runs. */
#include "node.h"

#include <string.h>

#include "../core/error.h"

int qsim__ada_op_of(const qsim__node *n)
{
    const char *t = n->op_type;
    if (n->domain[0])
        return QSIM__ADA_OP_NONE;
    return !strcmp(t, "Conv") ? QSIM__ADA_OP_CONV
         : !strcmp(t, "ConvTranspose") ? QSIM__ADA_OP_CONVT
         : !strcmp(t, "Gemm") ? QSIM__ADA_OP_GEMM
         : !strcmp(t, "MatMul") ? QSIM__ADA_OP_MATMUL : QSIM__ADA_OP_NONE;
}

/* An ints attribute of exactly `want` values (or absent: def). */
static qsim_status ints_n(const qsim__node *n, const char *name, size_t want, int64_t def,
                          int64_t *out)
{
    const int64_t *v;
    size_t c;
    QSIM__TRY(qsim__attr_ints(n, name, &v, &c));
    for (size_t i = 0; i < want; i++)
        out[i] = def;
    if (!v)
        return QSIM_OK;
    if (c != want)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': attribute %s has %zu values",
                          n->name, name, c);
    for (size_t i = 0; i < want; i++)
        out[i] = v[i];
    return QSIM_OK;
}

enum { AP_NOTSET, AP_VALID, AP_UPPER, AP_LOWER };

static qsim_status auto_pad(const qsim__node *n, int *ap)
{
    const char *s;
    QSIM__TRY(qsim__attr_string(n, "auto_pad", "NOTSET", &s));
    *ap = !strcmp(s, "NOTSET") ? AP_NOTSET : !strcmp(s, "VALID") ? AP_VALID
        : !strcmp(s, "SAME_UPPER") ? AP_UPPER : !strcmp(s, "SAME_LOWER") ? AP_LOWER : -1;
    if (*ap < 0)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': auto_pad %s", n->name, s);
    return QSIM_OK;
}

/* floor(a / 2) for either sign */
static int64_t half_floor(int64_t a)
{
    return a >= 0 ? a / 2 : -((-a + 1) / 2);
}

static qsim_status conv_view(const qsim__node *n, int op, const qsim__shape *ws,
                             const qsim__shape *xs, qsim__ada_view *v)
{
    int sp = xs->rank - 2;
    if ((sp != 1 && sp != 2) || ws->rank != xs->rank)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': only 1-D and 2-D "
                          "convolutions", n->name);
    /* spatial axes as (h, w); 1-D is h = 1 and lands on index 1 */
    int64_t st[2], dl[2], pd[4], grp, opd[2] = {0, 0}, osh[2] = {0, 0};
    QSIM__TRY(ints_n(n, "strides", (size_t)sp, 1, st));
    QSIM__TRY(ints_n(n, "dilations", (size_t)sp, 1, dl));
    QSIM__TRY(ints_n(n, "pads", 2 * (size_t)sp, 0, pd));
    QSIM__TRY(qsim__attr_int(n, "group", 1, &grp));
    int ap;
    QSIM__TRY(auto_pad(n, &ap));
    int o = 2 - sp; /* first used index of the 2-wide arrays */
    int64_t s2[2] = {1, 1}, d2[2] = {1, 1}, k2[2] = {1, 1}, in2[2] = {1, 1};
    int64_t pads[4] = {0, 0, 0, 0}, op2[2] = {0, 0};
    for (int a = 0; a < sp; a++) {
        s2[o + a] = st[a], d2[o + a] = dl[a], k2[o + a] = ws->dims[2 + a];
        in2[o + a] = xs->dims[2 + a];
        pads[o + a] = pd[a], pads[o + a + 2] = pd[sp + a];
    }
    if (op == QSIM__ADA_OP_CONV) {
        if (ap == AP_VALID)
            memset(pads, 0, sizeof pads);
        for (int a = 0; a < 2 && (ap == AP_UPPER || ap == AP_LOWER); a++) {
            int64_t out = (in2[a] + s2[a] - 1) / s2[a];
            int64_t tot = (out - 1) * s2[a] + (k2[a] - 1) * d2[a] + 1 - in2[a];
            tot = tot < 0 ? 0 : tot;
            int64_t b = ap == AP_UPPER ? tot / 2 : tot - tot / 2;
            pads[a] = b, pads[a + 2] = tot - b;
        }
        return qsim__ada_view_conv(v, xs->dims[1], in2[0], in2[1], ws->dims[0], grp, k2[0],
                                   k2[1], s2, d2, pads);
    }
    /* ConvTranspose: output_padding, output_shape ([spatial] or [N, C, spatial]) */
    int64_t opd1[2];
    QSIM__TRY(ints_n(n, "output_padding", (size_t)sp, 0, opd1));
    for (int a = 0; a < sp; a++)
        opd[a] = opd1[a];
    const int64_t *ov;
    size_t oc;
    QSIM__TRY(qsim__attr_ints(n, "output_shape", &ov, &oc));
    int has_os = oc > 0;
    if (oc == (size_t)xs->rank)
        ov += 2, oc -= 2;
    if (has_os && oc != (size_t)sp)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': output_shape has %zu "
                          "values", n->name, oc);
    for (int a = 0; a < sp && has_os; a++)
        osh[a] = ov[a];
    for (int a = 0; a < sp; a++) {
        int i = o + a;
        op2[i] = opd[a];
        int64_t full = s2[i] * (in2[i] - 1) + op2[i] + (k2[i] - 1) * d2[i] + 1;
        if (has_os || ap == AP_UPPER || ap == AP_LOWER) {
            /* total pad from the wanted output; the odd one at the end
             * for SAME_UPPER, else at the start (the engine's rule) */
            int64_t out = has_os ? osh[a] : in2[i] * s2[i];
            int64_t tot = full - out, h = half_floor(tot);
            int64_t b = ap == AP_UPPER ? h : tot - h;
            pads[i] = b, pads[i + 2] = tot - b;
        } else if (ap == AP_VALID) {
            pads[i] = pads[i + 2] = 0;
        }
    }
    return qsim__ada_view_convt(v, xs->dims[1], in2[0], in2[1], ws->dims[1] * grp, grp, k2[0],
                                k2[1], s2, d2, pads, op2);
}

qsim_status qsim__ada_node_view(const qsim__node *n, int op, const qsim__shape *ws,
                                const qsim__shape *xs, qsim__ada_view *v)
{
    if (op == QSIM__ADA_OP_CONV || op == QSIM__ADA_OP_CONVT)
        return conv_view(n, op, ws, xs, v);
    if (ws->rank != 2)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': weight is not 2-D", n->name);
    if (op == QSIM__ADA_OP_GEMM) {
        int64_t tb, ta;
        QSIM__TRY(qsim__attr_int(n, "transB", 0, &tb));
        QSIM__TRY(qsim__attr_int(n, "transA", 0, &ta));
        size_t K = (size_t)(tb ? ws->dims[1] : ws->dims[0]);
        size_t N = (size_t)(tb ? ws->dims[0] : ws->dims[1]);
        if (xs->rank != 2 || (size_t)xs->dims[ta ? 0 : 1] != K)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': input is not a "
                              "matrix of %zu features", n->name, K);
        return qsim__ada_view_rows(v, 1, K, N, (int)tb, 1.0);
    }
    if (op != QSIM__ADA_OP_MATMUL)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': not a layer", n->name);
    if (xs->rank == 2)
        return qsim__ada_view_rows(v, 1, (size_t)ws->dims[0], (size_t)ws->dims[1], 0, 1.0);
    if (xs->rank == 3)
        return qsim__ada_view_rows(v, (size_t)xs->dims[1], (size_t)ws->dims[0],
                                   (size_t)ws->dims[1], 0, (double)ws->dims[1]);
    return qsim__fail(QSIM_ERR_UNSUPPORTED, "adaround: node '%s': MatMul input of rank %d",
                      n->name, xs->rank);
}
