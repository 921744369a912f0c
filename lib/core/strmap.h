/* A hash map from string keys to pointers that remembers insertion order
 * (the qc_quantize_op_dict is kept in graph order) and is seeded per map so
 * hostile names cannot force collisions. Keys are copied. */
#ifndef QSIM_CORE_STRMAP_H
#define QSIM_CORE_STRMAP_H

#include <stddef.h>

typedef struct qsim__strmap qsim__strmap;

qsim__strmap *qsim__strmap_create(void);
void qsim__strmap_free(qsim__strmap *m);
/* Insert or replace. Returns 0 on success, -1 on allocation failure. */
int qsim__strmap_put(qsim__strmap *m, const char *key, void *value);
/* Like put, but fails with 1 (and changes nothing) when the key exists. */
int qsim__strmap_put_new(qsim__strmap *m, const char *key, void *value);
/* Value for key, or NULL. *found (optional) says whether the key exists. */
void *qsim__strmap_get(const qsim__strmap *m, const char *key, int *found);
size_t qsim__strmap_count(const qsim__strmap *m);
/* Entries in insertion order, i < count. */
const char *qsim__strmap_key_at(const qsim__strmap *m, size_t i);
void *qsim__strmap_value_at(const qsim__strmap *m, size_t i);

#endif
