/**
 * @file qsim.h
 * @brief libqsim: quantization simulation for ONNX models (AIMET-ONNX semantics in C).
 *
 * The only public header. Every handle is opaque; every fallible call returns
 * a ::qsim_status and writes its output arguments only on success; after a
 * non-OK status, qsim_last_error() tells what failed and where.
 *
 * Thread-safety: a qsim_model is immutable after load and may be shared by any
 * number of threads and sims. Other handles must be used by one thread at a
 * time. See docs/threading.md.
 */
#ifndef QSIM_H
#define QSIM_H

#include <stddef.h>
#include <stdint.h>

#include <qsim/qsim_export.h>
#include <qsim/qsim_version.h>

QSIM_BEGIN_DECLS

/* ------------------------------------------------------------------------ */
/* Status codes and errors                                                    */
/* ------------------------------------------------------------------------ */

/** Result of every fallible call. Values are fixed forever; new codes are
 *  appended with new explicit values. */
typedef enum qsim_status {
    QSIM_OK = 0,
    QSIM_ERR_INVALID_ARGUMENT = 1, /**< NULL handle, bad option key or value */
    QSIM_ERR_OUT_OF_MEMORY = 2,
    QSIM_ERR_IO = 3,               /**< file could not be read or written */
    QSIM_ERR_PARSE = 4,            /**< malformed ONNX, JSON or encodings */
    QSIM_ERR_UNSUPPORTED = 5,      /**< op, attribute, dtype or opset */
    QSIM_ERR_NOT_FOUND = 6,        /**< unknown tensor or quantizer name */
    QSIM_ERR_SHAPE = 7,
    QSIM_ERR_STATE = 8,            /**< call not valid now */
    QSIM_ERR_FROZEN = 9,           /**< changing a frozen encoding */
    QSIM_ERR_INTERNAL = 10
} qsim_status;

/** Static name of a status ("QSIM_ERR_PARSE"); "QSIM_ERR_UNKNOWN" for
 *  values that are not a status. Never NULL. Since: 1.0 */
QSIM_API const char *qsim_status_string(qsim_status s);

/** Message describing the last failing call on this thread: what failed, on
 *  which file, node or tensor, and why. Never NULL; "" when no call on this
 *  thread has failed. Not cleared by successful calls: read it only after a
 *  non-OK status. Valid until the next failing call on this thread.
 *  Since: 1.0 */
QSIM_API const char *qsim_last_error(void);

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

/** Runtime version string, e.g. "1.0.0"; compare with QSIM_VERSION_STRING to
 *  detect a header that does not match the library. Since: 1.0 */
QSIM_API const char *qsim_version_string(void);

/** Runtime version as MAJOR*10000 + MINOR*100 + PATCH. Since: 1.0 */
QSIM_API unsigned qsim_version_number(void);

/* ------------------------------------------------------------------------ */
/* Model                                                                     */
/* ------------------------------------------------------------------------ */

/** A loaded ONNX model: immutable, shareable between sims and threads. */
typedef struct qsim_model qsim_model;

/** Load an ONNX ModelProto from a file. External-data initializers are
 *  resolved relative to the file's folder; absolute locations and ones that
 *  leave the folder are refused.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_IO, QSIM_ERR_PARSE,
 *          QSIM_ERR_UNSUPPORTED, QSIM_ERR_SHAPE, QSIM_ERR_OUT_OF_MEMORY.
 *  Ownership: *out is the caller's; release it with qsim_model_free().
 *  Since: 1.0 */
QSIM_API qsim_status qsim_model_load(const char *path, qsim_model **out);

/** Load an ONNX ModelProto from memory. The bytes are not kept after the call
 *  returns. Models with external data cannot be loaded this way
 *  (QSIM_ERR_UNSUPPORTED). Same statuses as qsim_model_load(). Since: 1.0 */
QSIM_API qsim_status qsim_model_load_memory(const void *data, size_t size, qsim_model **out);

/** Release a model. NULL is a no-op. Sims created from the model keep it
 *  alive until they are freed. Since: 1.0 */
QSIM_API void qsim_model_free(qsim_model *m);

/** Number of graph inputs that are not initializers. Since: 1.0 */
QSIM_API size_t qsim_model_input_count(const qsim_model *m);
/** Name of input i (borrowed; NULL when out of range). Since: 1.0 */
QSIM_API const char *qsim_model_input_name(const qsim_model *m, size_t i);
/** Number of graph outputs. Since: 1.0 */
QSIM_API size_t qsim_model_output_count(const qsim_model *m);
/** Name of output i (borrowed; NULL when out of range). Since: 1.0 */
QSIM_API const char *qsim_model_output_name(const qsim_model *m, size_t i);

/** Number of nodes; nodes are indexed in topological order. Since: 1.0 */
QSIM_API size_t qsim_model_node_count(const qsim_model *m);
/** Node name (borrowed; "" for an unnamed node, NULL when out of range). */
QSIM_API const char *qsim_model_node_name(const qsim_model *m, size_t i);
/** Node op type, e.g. "Conv" (borrowed; NULL when out of range). */
QSIM_API const char *qsim_model_node_op_type(const qsim_model *m, size_t i);
/** Number of inputs of node i, counting omitted optional inputs. */
QSIM_API size_t qsim_model_node_input_count(const qsim_model *m, size_t i);
/** Name of input k of node i; "" for an omitted optional input; NULL when
 *  out of range. */
QSIM_API const char *qsim_model_node_input(const qsim_model *m, size_t i, size_t k);
/** Number of outputs of node i. */
QSIM_API size_t qsim_model_node_output_count(const qsim_model *m, size_t i);
/** Name of output k of node i; NULL when out of range. */
QSIM_API const char *qsim_model_node_output(const qsim_model *m, size_t i, size_t k);

/* -- additions beyond the v1 contract (Since: 1.0) ------------------------ */

/** Element type (ONNX TensorProto.DataType value, 1 = float) and rank of a
 *  graph input or output by name; dims get the fixed sizes, -1 where the
 *  dimension is symbolic or unknown. dims must hold `max_rank` entries; a
 *  larger rank is QSIM_ERR_SHAPE. *rank is -1 when the model gives no shape.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_NOT_FOUND, QSIM_ERR_SHAPE. */
QSIM_API qsim_status qsim_model_tensor_info(const qsim_model *m, const char *name,
                                            int32_t *elem_type, int64_t *rank,
                                            int64_t *dims, size_t max_rank);

/** Symbolic name of dimension d of a graph input or output ("" when fixed or
 *  unnamed; NULL when the tensor or dimension does not exist). */
QSIM_API const char *qsim_model_tensor_dim_param(const qsim_model *m, const char *name, size_t d);

/** Number of opset imports; domain ("" for the default ai.onnx domain) and
 *  version of import i. */
QSIM_API size_t qsim_model_opset_count(const qsim_model *m);
QSIM_API const char *qsim_model_opset_domain(const qsim_model *m, size_t i);
QSIM_API int64_t qsim_model_opset_version(const qsim_model *m, size_t i);

/** Number of initializers (parameters), and their total element count and
 *  bytes as stored in the model. */
QSIM_API size_t qsim_model_initializer_count(const qsim_model *m);
QSIM_API uint64_t qsim_model_parameter_count(const qsim_model *m);
QSIM_API uint64_t qsim_model_parameter_bytes(const qsim_model *m);

QSIM_END_DECLS

#endif /* QSIM_H */
