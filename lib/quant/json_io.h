/* Shared jansson plumbing for the JSON modules (encodings, quantsim config):
 * allocator routing, loading with located errors. */
#ifndef QSIM_QUANT_JSON_IO_H
#define QSIM_QUANT_JSON_IO_H

#include <stddef.h>

#include <jansson.h>
#include <qsim/qsim.h>

#include "core/fileio.h" /* qsim__write_file_atomic */

/* Largest JSON file read into memory. Encodings of big per-channel models
 * run to tens of MB; jansson needs roughly 10-20x the text size in values,
 * so this also bounds the memory a hostile file (or /dev/zero) can take. */
#define QSIM__MAX_JSON_BYTES ((size_t)256 << 20)

/* Routes jansson's allocations through qsim__malloc/qsim__free so the
 * out-of-memory tests cover jansson too. Done once per process (a
 * pthread_once), and only if jansson still uses plain malloc/free: an
 * application that installed its own jansson allocator keeps it. Since
 * qsim__malloc is malloc when no fault is injected, values allocated on
 * either side of the switch can be freed on the other. The one caveat is
 * jansson's own: json_set_alloc_funcs is not synchronised with other
 * threads using jansson at that instant. Called by every entry point of
 * the JSON modules. */
void qsim__json_init(void);

/* Reads a whole file (at most QSIM__MAX_JSON_BYTES) into a qsim__malloc'd
 * buffer. QSIM_ERR_IO with the path and errno text on failure. */
qsim_status qsim__read_file(const char *path, char **data, size_t *size);

/* Parses a JSON document with duplicate keys rejected. `source` names the
 * file in messages. Syntax errors are QSIM_ERR_PARSE with line and column;
 * allocation failure is QSIM_ERR_OUT_OF_MEMORY. *out is a new reference. */
qsim_status qsim__json_parse(const void *data, size_t size, const char *source, json_t **out);

/* Serialises byte for byte like Python's json.dumps(obj, sort_keys=True,
 * indent=4) (json_emit.c): Python's shortest round-trip float repr,
 * ensure_ascii escapes, no trailing newline. *out is qsim__malloc'd and
 * NUL-terminated. QSIM_ERR_OUT_OF_MEMORY on allocation failure;
 * QSIM_ERR_INTERNAL for a non-finite real (Python would write the non-JSON
 * NaN/Infinity; the writers validate their numbers, so never reached). */
qsim_status qsim__json_dump_string(const json_t *root, char **out);

/* "object", "array", "string", "integer", "real", "true", "false", "null". */
const char *qsim__json_type_name(const json_t *v);

/* Short rendering of a value for messages: strings quoted and cut at ~40
 * bytes, numbers printed, containers by type name. */
void qsim__json_describe(const json_t *v, char *buf, size_t size);

#endif
