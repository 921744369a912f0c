/* The qc_quantize_op_dict: quantizers by tensor name, in graph order
 * (strmap keeps insertion order; placement inserts in graph order). */
#include "quantizer.h"

#include "../core/alloc.h"
#include "../core/error.h"

#include <stdio.h>
#include <string.h>

qsim_status qsim__qdict_init(qsim__qdict *d)
{
    d->map = qsim__strmap_create();
    return d->map ? QSIM_OK : qsim__oom();
}

void qsim__qdict_clear(qsim__qdict *d)
{
    if (!d->map)
        return;
    size_t n = qsim__strmap_count(d->map);
    for (size_t i = 0; i < n; i++)
        qsim__quantizer_free(qsim__strmap_value_at(d->map, i));
    qsim__strmap_free(d->map);
    d->map = NULL;
}

qsim_status qsim__qdict_add(qsim__qdict *d, const qsim__graph *g, int32_t v, int kind,
                            int32_t node, int param_type, qsim_quantizer **out)
{
    const qsim__value *val = &g->values[v];
    qsim_quantizer *q = qsim__calloc(1, sizeof *q);
    if (!q)
        return qsim__oom();
    q->magic = QSIM__QUANTIZER_MAGIC;
    q->name = qsim__strdup(val->name);
    q->value = v;
    q->kind = kind;
    q->node = node;
    q->op_type = node >= 0 ? g->nodes[node].op_type : "";
    q->param_type = param_type;
    q->enabled = 1;
    q->bitwidth = 8;
    q->data_type = QSIM_DATA_TYPE_INT;
    q->axis = -1;
    q->channels = 1;
    q->version = 1;
    if (!q->name) {
        qsim__quantizer_free(q);
        return qsim__oom();
    }
    int r = qsim__strmap_put_new(d->map, q->name, q);
    if (r != 0) {
        qsim__quantizer_free(q);
        if (r < 0)
            return qsim__oom();
        return qsim__fail(QSIM_ERR_INTERNAL, "quantizer for '%s' placed twice", val->name);
    }
    if (out)
        *out = q;
    return QSIM_OK;
}

size_t qsim__qdict_count(const qsim__qdict *d) { return qsim__strmap_count(d->map); }

qsim_quantizer *qsim__qdict_at(const qsim__qdict *d, size_t i)
{
    if (i >= qsim__strmap_count(d->map))
        return NULL;
    return qsim__strmap_value_at(d->map, i);
}

qsim_quantizer *qsim__qdict_get(const qsim__qdict *d, const char *name)
{
    return d->map ? qsim__strmap_get(d->map, name, NULL) : NULL;
}

/* Levenshtein distance, capped: names longer than 256 bytes compare by
 * prefix (the suggestion is a hint, not an exact science). */
static size_t edit_distance(const char *a, const char *b)
{
    enum { CAP = 256 };
    size_t la = strnlen(a, CAP), lb = strnlen(b, CAP);
    size_t row[CAP + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

qsim_status qsim__qdict_fail_missing(const qsim__qdict *d, qsim_status st, const char *prefix,
                                     const char *name)
{
    enum { K = 3 };
    size_t best[K];
    size_t dist[K];
    size_t nbest = 0;
    size_t n = qsim__qdict_count(d);
    for (size_t i = 0; i < n; i++) {
        size_t dd = edit_distance(name, qsim__strmap_key_at(d->map, i));
        size_t pos = nbest;
        while (pos > 0 && dist[pos - 1] > dd)
            pos--;
        if (pos >= K)
            continue;
        size_t last = nbest < K ? nbest : K - 1;
        for (size_t k = last; k > pos; k--) {
            best[k] = best[k - 1];
            dist[k] = dist[k - 1];
        }
        best[pos] = i;
        dist[pos] = dd;
        if (nbest < K)
            nbest++;
    }
    char hint[700];
    size_t off = 0;
    hint[0] = '\0';
    for (size_t k = 0; k < nbest && off < sizeof hint; k++) {
        int w = snprintf(hint + off, sizeof hint - off, "%s'%.180s'", k ? ", " : "",
                         qsim__strmap_key_at(d->map, best[k]));
        if (w < 0)
            break;
        off += (size_t)w;
    }
    if (!nbest)
        return qsim__fail(st, "%sno quantizer named '%.300s' (the sim has no quantizers)", prefix,
                          name);
    return qsim__fail(st, "%sno quantizer named '%.300s'; closest: %s", prefix, name, hint);
}
