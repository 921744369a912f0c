/* Shared jansson plumbing for the JSON modules (encodings, quantsim config):
 * allocator routing, loading with located errors, atomic writing. */
#ifndef QSIM_QUANT_JSON_IO_H
#define QSIM_QUANT_JSON_IO_H

#include <stddef.h>

#include <jansson.h>
#include <qsim/qsim.h>

/* Largest JSON file read into memory (encodings of big per-channel models
 * run to tens of MB; this keeps hostile paths such as /dev/zero bounded). */
#define QSIM__MAX_JSON_BYTES ((size_t)1 << 30)

/* Routes jansson's allocations through qsim__malloc/qsim__free so the
 * out-of-memory tests cover jansson too. Done once per process, and only if
 * jansson still uses plain malloc/free: an application that installed its
 * own jansson allocator keeps it. Safe to call from any thread, any time. */
void qsim__json_init(void);

/* Reads a whole file (at most QSIM__MAX_JSON_BYTES) into a qsim__malloc'd
 * buffer. QSIM_ERR_IO with the path and errno text on failure. */
qsim_status qsim__read_file(const char *path, char **data, size_t *size);

/* Parses a JSON document with duplicate keys rejected. `source` names the
 * file in messages. Syntax errors are QSIM_ERR_PARSE with line and column;
 * allocation failure is QSIM_ERR_OUT_OF_MEMORY. *out is a new reference. */
qsim_status qsim__json_parse(const void *data, size_t size, const char *source, json_t **out);

/* Serialises like Python's json.dump(obj, sort_keys=True, indent=4) with
 * doubles in 17 significant digits (exact round trip). *out is
 * qsim__malloc'd, NUL-terminated. */
qsim_status qsim__json_dump_string(const json_t *root, char **out);

/* Writes `size` bytes to `path` atomically: a temporary "path.tmp.XXXXXX"
 * in the same directory, fsync, rename. On failure the temporary file is
 * removed and `path` is untouched. QSIM_ERR_IO names the path. */
qsim_status qsim__write_file_atomic(const char *path, const void *data, size_t size);

/* "object", "array", "string", "integer", "real", "true", "false", "null". */
const char *qsim__json_type_name(const json_t *v);

/* Short rendering of a value for messages: strings quoted and cut at ~40
 * bytes, numbers printed, containers by type name. */
void qsim__json_describe(const json_t *v, char *buf, size_t size);

#endif
