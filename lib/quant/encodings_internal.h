/* Shared between encodings_json.c, encodings_parse.c and
 * encodings_write.c; not for other modules. */
#ifndef QSIM_QUANT_ENCODINGS_INTERNAL_H
#define QSIM_QUANT_ENCODINGS_INTERNAL_H

#include "core/strmap.h"
#include "quant/encodings_json.h"

/* Channels in one entry: far above any real layer, low enough that
 * 4 arrays of it stay small. */
#define QSIM__ENC_MAX_CHANNELS ((size_t)1 << 24)

struct qsim__encodings {
    qsim__enc_version version;
    int param_only;
    qsim__enc_entry *entries;
    size_t count, cap;
    qsim__strmap *index; /* name -> entry index + 1 */
    qsim__enc_quantizer_args qargs;
    char *producer_package;
    char *producer_version;
};

/* Frees an entry's name and arrays (not the struct), leaves it zeroed. */
void qsim__enc_entry_clear(qsim__enc_entry *en);

/* Allocates the four arrays for `channels` channels. */
qsim_status qsim__enc_entry_alloc(qsim__enc_entry *en, size_t channels);

/* Checks the numbers of a filled entry and derives is_strict/is_unsigned.
 * On failure writes "what is wrong" (no name prefix) into msg and returns
 * -1. */
int qsim__enc_entry_check(qsim__enc_entry *en, char *msg, size_t msg_size);

/* Appends, taking ownership of en's name and arrays (en is zeroed on
 * success and on failure the caller still owns them). Returns
 * QSIM_ERR_OUT_OF_MEMORY, or QSIM_ERR_INVALID_ARGUMENT with `dup` set when
 * the name is already present. */
qsim_status qsim__encodings_append_owned(qsim__encodings *e, qsim__enc_entry *en, int *dup);

/* 2^bw - 1 for bw in 1..32. */
static inline int64_t qsim__enc_levels(int bw) { return ((int64_t)1 << bw) - 1; }

#endif
