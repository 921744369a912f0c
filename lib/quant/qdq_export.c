/* qsim_export_qdq: the sim as a standard QDQ ONNX model.
 *
 * Mapping (AIMET offset o, scale delta, bitwidth bw):
 * - signed symmetric (offset -2^(bw-1), or -2^(bw-1)+1 strict): int{bw},
 *   zero point 0. Strict symmetric grids are [-(2^(bw-1)-1), 2^(bw-1)-1]
 *   steps; QuantizeLinear can also reach -2^(bw-1), but only for values
 *   below the strict range, which never happens for the weights a strict
 *   encoding was computed from.
 * - otherwise (asymmetric, unsigned symmetric): uint{bw}, zero point -o.
 * - scale = (float)delta, per-tensor or per-channel (axis attribute).
 * - 8-bit only: ai.onnx opset max(model's, 13). Any 4- or 16-bit
 *   quantizer: opset 21 (int4/uint4 and int16/uint16 QuantizeLinear).
 *   Other bitwidths have no ONNX type: QSIM_ERR_UNSUPPORTED.
 * - FP16 quantizers: Cast(to float16) + Cast(to float).
 * - QSIM_OPT_QDQ_LOW_BIT "clip": 2..7-bit quantizers become int8/uint8
 *   pairs (as above, with int8/uint8 types) preceded by Min(x, max) ->
 *   Max(., min) on the encoding's float range: that is the sim's own first
 *   step (x clamped to [(float)min, (float)max]), and inside it the 8-bit
 *   QuantizeLinear never reaches a code outside the low-bit grid, so the
 *   model is exact at opset 13 (onnx 1.12's checker knows it).
 * Raising the opset is refused for models older than opset 11 and for ops
 * whose attributes became inputs in between (Squeeze axes at 13,
 * Reduce* axes at 18, ...), since the model would no longer be valid. */
#include "quantsim.h"

#include "../core/alloc.h"
#include "../core/error.h"
#include "../onnx/export_qdq.h"

#include <string.h>

/* Attributes that became inputs: the model cannot be moved past `opset`
 * while a node still has them. */
static const struct {
    const char *op, *attr;
    int64_t opset;
} moved_attrs[] = {
    {"Squeeze", "axes", 13}, {"Unsqueeze", "axes", 13}, {"Split", "split", 13},
    {"ReduceSum", "axes", 13}, {"ReduceMean", "axes", 18}, {"ReduceMax", "axes", 18},
    {"ReduceMin", "axes", 18}, {"ReduceProd", "axes", 18}, {"ReduceL1", "axes", 18},
    {"ReduceL2", "axes", 18}, {"ReduceLogSum", "axes", 18}, {"ReduceLogSumExp", "axes", 18},
    {"ReduceSumSquare", "axes", 18},
};

static qsim_status check_opset(const qsim__graph *g, int64_t target, const char *path)
{
    int64_t have = qsim__graph_opset(g, "");
    if (have >= target)
        return QSIM_OK;
    if (have < 11)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "qsim_export_qdq: '%s': the model imports ai.onnx "
                          "opset %lld; QDQ export needs opset %lld and only raises models from "
                          "opset 11 on", path, (long long)have, (long long)target);
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        if (n->domain && *n->domain && strcmp(n->domain, "ai.onnx"))
            continue;
        for (size_t k = 0; k < sizeof moved_attrs / sizeof *moved_attrs; k++)
            if (!strcmp(n->op_type, moved_attrs[k].op) && moved_attrs[k].opset > have &&
                moved_attrs[k].opset <= target && qsim__node_attr(n, moved_attrs[k].attr))
                return qsim__fail(QSIM_ERR_UNSUPPORTED, "qsim_export_qdq: '%s': %s has attribute "
                                  "'%s', an input from opset %lld; the QDQ model needs opset "
                                  "%lld (model: %lld)", path, qsim__node_label(n),
                                  moved_attrs[k].attr, (long long)moved_attrs[k].opset,
                                  (long long)target, (long long)have);
    }
    return QSIM_OK;
}

/* Fill pair p for int quantizer q; scale/zp (and with clip, lo/hi) arrays
 * have q->channels entries. clip: QSIM_OPT_QDQ_LOW_BIT "clip". */
static qsim_status int_pair(const qsim_quantizer *q, int clip, qsim__qdq_pair *p, float *scale,
                            int32_t *zp, float *lo, float *hi)
{
    int bw = q->enc[0].bw;
    for (size_t c = 1; c < q->channels; c++)
        if (q->enc[c].bw != bw)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "qsim_export_qdq: quantizer '%s': channels "
                              "have different bitwidths", q->name);
    int low = clip && bw >= 2 && bw < 8; /* an 8-bit pair behind a clip */
    if (bw != 4 && bw != 8 && bw != 16 && !low)
        return qsim__fail(QSIM_ERR_UNSUPPORTED, "qsim_export_qdq: quantizer '%s': bitwidth %d has "
                          "no ONNX QuantizeLinear type (4, 8 and 16 do; 2..7 with "
                          "QSIM_OPT_QDQ_LOW_BIT \"clip\")", q->name, bw);
    int64_t half = (int64_t)1 << (bw - 1), full = ((int64_t)1 << bw) - 1;
    int is_signed = q->symmetric;
    for (size_t c = 0; c < q->channels && is_signed; c++)
        is_signed = q->enc[c].offset == -half || q->enc[c].offset == -half + 1;
    for (size_t c = 0; c < q->channels; c++) {
        const qsim__encoding *e = &q->enc[c];
        scale[c] = (float)e->delta;
        if (!(scale[c] > 0.0f) || scale[c] > 3.0e38f)
            return qsim__fail(QSIM_ERR_UNSUPPORTED, "qsim_export_qdq: quantizer '%s' channel %zu: "
                              "scale %g is not a positive float32", q->name, c, e->delta);
        if (low) {
            /* exactly the sim's clamp: x to [(float)min, (float)max] */
            lo[c] = (float)e->min;
            hi[c] = (float)e->max;
        }
        if (is_signed) {
            zp[c] = 0;
        } else {
            if (-e->offset < 0 || -e->offset > full)
                return qsim__fail(QSIM_ERR_UNSUPPORTED, "qsim_export_qdq: quantizer '%s' channel "
                                  "%zu: offset %lld gives a zero point outside uint%d", q->name,
                                  c, (long long)e->offset, bw);
            zp[c] = (int32_t)-e->offset;
        }
    }
    static const int types[2][3] = {{21, 2, 4}, {22, 3, 5}}; /* [signed][4, 8, 16 bit] */
    p->kind = QSIM__QDQ_INT;
    p->zp_type = types[is_signed][low ? 1 : bw == 4 ? 0 : bw == 8 ? 1 : 2];
    p->clip_lo = low ? lo : NULL;
    p->clip_hi = low ? hi : NULL;
    p->axis = q->axis;
    p->channels = q->channels;
    p->scale = scale;
    p->zero_point = zp;
    return QSIM_OK;
}

qsim_status qsim_export_qdq(const qsim_sim *s, const char *path)
{
    QSIM__TRY(qsim__sim_check(s, "qsim_export_qdq"));
    if (!path || !*path)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_export_qdq: path must be given");
    const qsim__quantsim *qs = qsim__quant_of(s);
    if (!qs)
        return qsim__fail(QSIM_ERR_STATE, "qsim_export_qdq: the sim has no quantizers");
    if (s->busy)
        return qsim__fail(QSIM_ERR_STATE, "qsim_export_qdq: called from inside compute_encodings "
                          "or apply_adaround on the same sim");
    size_t n = qsim__qdict_count(&qs->dict), total = 0;
    for (size_t i = 0; i < n; i++)
        total += qsim__qdict_at(&qs->dict, i)->channels;
    qsim__qdq_pair *pairs = qsim__calloc(n ? n : 1, sizeof *pairs);
    float *scales = qsim__calloc(total ? total : 1, sizeof *scales);
    int32_t *zps = qsim__calloc(total ? total : 1, sizeof *zps);
    float *los = qsim__calloc(total ? total : 1, sizeof *los);
    float *his = qsim__calloc(total ? total : 1, sizeof *his);
    const qsim__tensor **replace = qsim__calloc(s->g->n_values ? s->g->n_values : 1,
                                                sizeof *replace);
    qsim_status st = QSIM_OK;
    if (!pairs || !scales || !zps || !los || !his || !replace) {
        st = qsim__oom();
        goto out;
    }
    size_t np = 0, used = 0;
    int64_t opset = 13;
    for (size_t i = 0; i < n && st == QSIM_OK; i++) {
        const qsim_quantizer *q = qsim__qdict_at(&qs->dict, i);
        if (q->kind == QSIM_QUANTIZER_PARAM && q->weight)
            replace[q->value] = q->weight;
        if (!q->enabled)
            continue;
        qsim__qdq_pair *p = &pairs[np];
        p->value = q->value;
        if (q->data_type == QSIM_DATA_TYPE_FLOAT) {
            p->kind = QSIM__QDQ_FP16;
            p->axis = -1;
            np++;
            continue;
        }
        if (!q->enc)
            continue;
        st = int_pair(q, s->opts.qdq_low_bit_clip, p, scales + used, zps + used, los + used,
                      his + used);
        used += q->channels;
        if (p->zp_type != 2 && p->zp_type != 3)
            opset = 21;
        np++;
    }
    if (st != QSIM_OK)
        goto out;
    if ((st = check_opset(s->g, opset, path)) != QSIM_OK)
        goto out;
    st = qsim__onnx_export_qdq(s->model, replace, pairs, np, opset, path);
    if (st != QSIM_OK)
        st = qsim__fail_prefix(st, "qsim_export_qdq: ");
out:
    qsim__free(pairs);
    qsim__free(scales);
    qsim__free(zps);
    qsim__free(los);
    qsim__free(his);
    qsim__free(replace);
    return st;
}
