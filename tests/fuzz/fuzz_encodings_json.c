/* Fuzz target: the encodings parser on arbitrary bytes. Whatever parses
 * must also survive the writer for every version, and what the writer
 * produces must parse again with the same entries (a round-trip oracle). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "quant/encodings_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t expected_count(const qsim__encodings *e, qsim__enc_version v)
{
    size_t n = 0;
    for (size_t i = 0; i < qsim__encodings_count(e); i++)
        n += v != QSIM__ENC_V2_0_0 || qsim__encodings_at(e, i)->dtype == QSIM__ENC_DTYPE_INT;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qsim__encodings *e = NULL;
    if (qsim__encodings_parse(data, size, "fuzz", &e) != QSIM_OK)
        return 0;
    for (int v = 0; v < 3; v++) {
        for (int po = 0; po < 2; po++) {
            qsim__enc_write_opts o = {(qsim__enc_version)v, po, 0};
            char *text = NULL;
            qsim_status st = qsim__encodings_to_string(e, &o, &text);
            if (st == QSIM_ERR_INVALID_ARGUMENT)
                continue; /* unknown section or axis: refused by design */
            if (st != QSIM_OK)
                abort();
            qsim__encodings *back = NULL;
            if (qsim__encodings_parse(text, strlen(text), "fuzz-rewrite", &back) != QSIM_OK)
                abort();
            size_t want = expected_count(e, (qsim__enc_version)v);
            if (qsim__encodings_count(back) != want)
                abort();
            for (size_t i = 0; i < qsim__encodings_count(back); i++) {
                const qsim__enc_entry *b = qsim__encodings_at(back, i);
                const qsim__enc_entry *a = qsim__encodings_find(e, b->name);
                if (!a || a->dtype != b->dtype || a->bitwidth != b->bitwidth ||
                    a->channels != b->channels)
                    abort();
                for (size_t c = 0; c < a->channels; c++)
                    if (a->scale[c] != b->scale[c] || a->offset[c] != b->offset[c])
                        abort();
            }
            qsim__encodings_free(back);
            qsim__free(text);
        }
    }
    qsim__encodings_free(e);
    return 0;
}
