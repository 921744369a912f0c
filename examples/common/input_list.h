/* QNN-style input_list.txt reader for the examples.
 *
 * One line per sample. A line holds one or more whitespace-separated entries,
 * each either a path (the graph inputs in order) or "name:=path". Lines
 * starting with '#' (after optional blanks) are comments, blank lines are
 * skipped, a trailing '\r' is ignored. Relative paths are resolved against
 * the folder that holds the list. Rules, all checked at read time:
 *  - every sample has the same number of entries;
 *  - a line is either all positional or all named; named lines use the same
 *    set of names as the first sample (any order), each name once;
 *  - every referenced file exists and is a regular file.
 * Each file holds raw little-endian float32 values; qex_raw_read_f32 checks
 * its size against the element count the model expects. */
#ifndef QEX_INPUT_LIST_H
#define QEX_INPUT_LIST_H

#include <stddef.h>

#include "qex_util.h"

#define QEX_INPUT_LIST_MAX_BYTES ((size_t)64 << 20)

typedef struct qex_input_entry {
    char *name;   /* NULL for positional entries */
    char *path;   /* resolved path */
} qex_input_entry;

typedef struct qex_input_sample {
    size_t line;              /* 1-based line number in the list */
    size_t n_entries;
    qex_input_entry *entries; /* in the order written */
} qex_input_sample;

typedef struct qex_input_list {
    size_t n_samples;
    qex_input_sample *samples;
    size_t n_inputs;          /* entries per sample */
    int named;                /* 1 if the entries are "name:=path" */
} qex_input_list;

/* On success *out owns everything (qex_input_list_free); on failure *out is
 * zeroed and err names the list file, the line and the problem. */
int qex_input_list_read(const char *path, qex_input_list *out, qex_err *err);

/* The path for input `name` of a sample (named lists), or NULL. */
const char *qex_input_sample_find(const qex_input_sample *s, const char *name);

/* Reads a raw float32 file that must hold exactly `count` values. */
int qex_raw_read_f32(const char *path, size_t count, float *dst, qex_err *err);

void qex_input_list_free(qex_input_list *list);

#endif
