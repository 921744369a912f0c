/* AIMET encodings files (SPEC.md sections 5, 6 and 8.5) in memory, with a
 * parser for versions 0.6.1, 1.0.0 and 2.0.0 (full exports and param-only
 * AdaRound files) and a writer for the same three versions.
 *
 * Engine-independent: nothing here knows about sims or graphs. The sim
 * builds a qsim__encodings from its quantizers to export, and applies a
 * parsed one to its quantizers (set_and_freeze_param_encodings).
 * See docs/encodings-format.md. */
#ifndef QSIM_QUANT_ENCODINGS_JSON_H
#define QSIM_QUANT_ENCODINGS_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <qsim/qsim.h>

typedef enum qsim__enc_version {
    QSIM__ENC_V0_6_1 = 0,
    QSIM__ENC_V1_0_0 = 1,
    QSIM__ENC_V2_0_0 = 2,
} qsim__enc_version;

/* Which section of a 0.6.1/1.0.0 file an entry sits in; 2.0.0 has one flat
 * list, so its entries are UNKNOWN. */
typedef enum qsim__enc_section {
    QSIM__ENC_SECTION_UNKNOWN = 0,
    QSIM__ENC_SECTION_PARAM = 1,
    QSIM__ENC_SECTION_ACTIVATION = 2,
} qsim__enc_section;

typedef enum qsim__enc_dtype {
    QSIM__ENC_DTYPE_INT = 0,
    QSIM__ENC_DTYPE_FLOAT = 1,
} qsim__enc_dtype;

typedef enum qsim__enc_type {
    QSIM__ENC_PER_TENSOR = 0,
    QSIM__ENC_PER_CHANNEL = 1,
} qsim__enc_type;

/* One quantizer's encoding. For float entries `channels` is 0 and the
 * arrays are NULL. For int entries every array has `channels` elements
 * (1 for PER_TENSOR). Offsets follow AIMET's convention: the negated
 * unsigned zero point, in [-(2^bw - 1), 0]. */
typedef struct qsim__enc_entry {
    char *name;
    qsim__enc_section section;
    qsim__enc_dtype dtype;
    int bitwidth;       /* int: 2..32; float: 16 or 32 */
    int is_symmetric;   /* int only: 0/1 */
    qsim__enc_type enc_type;
    int64_t axis;       /* channel axis, -1 when the file does not say */
    size_t channels;
    double *scale;
    int64_t *offset;
    double *min;
    double *max;
    /* Derived on parse and on add (SPEC 5.3, get_symmetric_properties):
     * strict when a symmetric offset is -2^(bw-1)+1, unsigned when a
     * symmetric entry has an offset of 0. Not written. */
    int is_strict;
    int is_unsigned;
} qsim__enc_entry;

/* Bits of qsim__enc_quantizer_args.present. */
enum {
    QSIM__QARG_QUANT_SCHEME = 1 << 0,
    QSIM__QARG_PARAM_BW = 1 << 1,
    QSIM__QARG_ACTIVATION_BW = 1 << 2,
    QSIM__QARG_DTYPE = 1 << 3,
    QSIM__QARG_IS_SYMMETRIC = 1 << 4,
    QSIM__QARG_PER_CHANNEL = 1 << 5,
};

/* The "quantizer_args" block of 0.6.1/1.0.0 files (SPEC 5.2). */
typedef struct qsim__enc_quantizer_args {
    unsigned present;      /* QSIM__QARG_* bits; 0: no block */
    char quant_scheme[64]; /* e.g. "post_training_tf_enhanced" */
    int param_bitwidth;
    int activation_bitwidth;
    qsim__enc_dtype dtype;
    int is_symmetric;
    int per_channel_quantization;
} qsim__enc_quantizer_args;

typedef struct qsim__encodings qsim__encodings;

/* ---- building ---------------------------------------------------------- */

qsim__encodings *qsim__encodings_create(void);
void qsim__encodings_free(qsim__encodings *e);

/* Validates `entry` and appends a deep copy (is_strict/is_unsigned are
 * recomputed; min/max must be given for int entries). A duplicate name or
 * an invalid field is QSIM_ERR_INVALID_ARGUMENT naming the entry. */
qsim_status qsim__encodings_add(qsim__encodings *e, const qsim__enc_entry *entry);

/* Copies `args` (NULL clears the block). */
void qsim__encodings_set_quantizer_args(qsim__encodings *e, const qsim__enc_quantizer_args *args);

/* ---- reading ----------------------------------------------------------- */

/* Parses an encodings document. `source` names it in messages (a file
 * name; "<buffer>" if NULL). Errors: QSIM_ERR_PARSE for malformed JSON
 * (line, column) or a bad field (entry name and field),
 * QSIM_ERR_UNSUPPORTED for blockwise/LPBQ entries, float8 dtypes or an
 * unknown version, QSIM_ERR_OUT_OF_MEMORY. */
qsim_status qsim__encodings_parse(const void *data, size_t size, const char *source,
                                  qsim__encodings **out);
/* The same from a file; QSIM_ERR_IO when it cannot be read. */
qsim_status qsim__encodings_load(const char *path, qsim__encodings **out);

qsim__enc_version qsim__encodings_version(const qsim__encodings *e);
/* 1 when the document had only a param section (AdaRound's shape: a
 * dict of lists or a top-level list, no version). */
int qsim__encodings_param_only(const qsim__encodings *e);
size_t qsim__encodings_count(const qsim__encodings *e);
/* Entries in file order. */
const qsim__enc_entry *qsim__encodings_at(const qsim__encodings *e, size_t i);
/* By tensor name, NULL when absent. */
const qsim__enc_entry *qsim__encodings_find(const qsim__encodings *e, const char *name);
/* NULL when the document had no quantizer_args block. */
const qsim__enc_quantizer_args *qsim__encodings_quantizer_args(const qsim__encodings *e);
/* The 2.0.0 "producer" package/version, or NULL. */
const char *qsim__encodings_producer_package(const qsim__encodings *e);
const char *qsim__encodings_producer_version(const qsim__encodings *e);

/* "0.6.1", "1.0.0", "2.0.0". */
const char *qsim__enc_version_string(qsim__enc_version v);
/* Parses "0.6.1"/"1.0.0"/"2.0.0"; 0 on success, -1 otherwise. */
int qsim__enc_version_from_string(const char *s, qsim__enc_version *out);

/* ---- writing ----------------------------------------------------------- */

typedef struct qsim__enc_write_opts {
    qsim__enc_version version;
    /* AdaRound's file (SPEC 8.5): only PARAM/UNKNOWN entries, no version
     * and no quantizer_args: a dict of lists (0.6.1) or a list (1.0.0,
     * 2.0.0). An ACTIVATION entry is then an error. */
    int param_only;
    /* 2.0.0: write symmetric int activations as uint (AIMET's default
     * force_activation_as="unsigned"); their zero point shifts by
     * 2^(bw-1), the numbers do not change. */
    int force_activation_unsigned;
} qsim__enc_write_opts;

/* Serialises like AIMET's json.dump(..., sort_keys=True, indent=4).
 * 0.6.1/1.0.0 need every entry's section known unless param_only;
 * 2.0.0 needs an axis for every per-channel entry and skips float
 * entries (AIMET writes none for float16). QSIM_ERR_INVALID_ARGUMENT
 * names the entry that cannot be written. *out is qsim__malloc'd. */
qsim_status qsim__encodings_to_string(const qsim__encodings *e, const qsim__enc_write_opts *o,
                                      char **out);
/* The same, written atomically to `path` (QSIM_ERR_IO on failure, and
 * then nothing is left behind). */
qsim_status qsim__encodings_write(const qsim__encodings *e, const char *path,
                                  const qsim__enc_write_opts *o);

#endif
