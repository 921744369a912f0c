/* Hard caps that keep hostile input from exhausting memory or stack
 * (the sqlite3_limit idea). Exceeding one is a clear error, never a crash. */
#ifndef QSIM_CORE_LIMITS_H
#define QSIM_CORE_LIMITS_H

#define QSIM__MAX_RANK 8                      /* tensor rank */
#define QSIM__MAX_NODES 10000000              /* nodes in a graph */
#define QSIM__MAX_NAME 4096                   /* bytes in a tensor/node name */
#define QSIM__MAX_MODEL_BYTES ((size_t)4 << 30) /* one model file or buffer */
#define QSIM__MAX_TENSOR_BYTES ((size_t)4 << 30) /* one tensor's data */
#define QSIM__MAX_ATTR_ELEMS (1u << 24)        /* ints/floats in one attribute */

#endif
