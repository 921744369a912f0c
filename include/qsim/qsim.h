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

/* ------------------------------------------------------------------------ */
/* Sim options                                                               */
/* ------------------------------------------------------------------------ */

/** Options for qsim_sim_create(): an opaque key/value object. Values are
 *  validated when set; the sim copies what it needs, so the options object
 *  may be freed or reused right after qsim_sim_create(). */
typedef struct qsim_sim_options qsim_sim_options;

/** Option keys (explicit values; new keys get new values). */
typedef enum qsim_option {
    QSIM_OPT_DEFAULT_PARAM_BW = 100,      /**< int 2..32, default 8 */
    QSIM_OPT_DEFAULT_ACTIVATION_BW = 101, /**< int 2..32, default 8 */
    QSIM_OPT_QUANT_SCHEME = 102,          /**< ::qsim_quant_scheme, default QSIM_SCHEME_TF */
    QSIM_OPT_PERCENTILE = 103,            /**< string, a number in 50..100, default "100" */
    QSIM_OPT_DEFAULT_DATA_TYPE = 104,     /**< ::qsim_data_type, default QSIM_DATA_TYPE_INT */
    QSIM_OPT_CONFIG_FILE = 105,           /**< string: path of an AIMET quantsim config JSON */
    QSIM_OPT_NUM_THREADS = 106,           /**< int 0..256; 0 = one per online core (default) */
    QSIM_OPT_ENCODING_VERSION = 107,      /**< string "1.0.0" (default), "0.6.1" or "2.0.0" */
    QSIM_OPT_PER_CHANNEL = 108,           /**< int 0/1, default 0 */
    QSIM_OPT_KERNELS = 109,               /**< string "auto" (default) or "generic": a sim
                                               created with "generic" pins the portable
                                               kernels for the whole process (kernel
                                               dispatch is global), like the environment
                                               variable QSIM_FORCE_GENERIC=1 */
    QSIM_OPT_QDQ_LOW_BIT = 110,           /**< string, how qsim_export_qdq() writes int
                                               quantizers below 8 bits: "int4" (default;
                                               4 bit as opset-21 int4/uint4 Q/DQ, other
                                               widths refused) or "clip" (2..7 bit as a
                                               Clip to the quantizer's float range, then
                                               an int8/uint8 Q/DQ pair: no opset-21 types,
                                               so 8- and low-bit models stay at opset 13;
                                               the model gets metadata_props
                                               "qsim.qdq_low_bit" = "clip", which
                                               qsim_sim_create_from_qdq() reads back).
                                               Since: 1.0 */
    QSIM_OPT_FUSION = 111                 /**< int 0/1, default 1: fuse Conv with a following
                                               BatchNormalization, residual Add and
                                               Relu/Clip/LeakyRelu (and a MaxPool after
                                               them, image by image, at batch > 1) when
                                               nothing observes the values in between
                                               (no quantizer, not a model output). While
                                               any activation quantizer is active or
                                               calibrating, only the bit-exact fusions
                                               (activation, MaxPool) are done. 0 runs
                                               every node on its own. Since: 1.0 */
} qsim_option;

/** Encoding calibration schemes (AIMET's QuantScheme). */
typedef enum qsim_quant_scheme {
    QSIM_SCHEME_TF = 0,          /**< min-max */
    QSIM_SCHEME_TF_ENHANCED = 1, /**< SQNR-based range search */
    QSIM_SCHEME_PERCENTILE = 2   /**< percentile of |x| histogram (QSIM_OPT_PERCENTILE) */
} qsim_quant_scheme;

/** Quantizer data types. */
typedef enum qsim_data_type {
    QSIM_DATA_TYPE_INT = 0,      /**< integer grid (scale/offset) */
    QSIM_DATA_TYPE_FLOAT = 1     /**< floating point (FP16) */
} qsim_data_type;

/** Create an options object holding the defaults.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT (out NULL), QSIM_ERR_OUT_OF_MEMORY.
 *  Ownership: *out is the caller's; release with qsim_sim_options_free().
 *  Since: 1.0 */
QSIM_API qsim_status qsim_sim_options_create(qsim_sim_options **out);

/** Release an options object. NULL is a no-op. Since: 1.0 */
QSIM_API void qsim_sim_options_free(qsim_sim_options *o);

/** Set an integer option. Bit widths are 2..32, QSIM_OPT_NUM_THREADS 0..256,
 *  QSIM_OPT_PER_CHANNEL and QSIM_OPT_FUSION 0/1, the scheme and data type one of
 *  their enum values.
 *  @return QSIM_OK; QSIM_ERR_INVALID_ARGUMENT for a NULL handle, an unknown
 *          key, a string key, or a value out of bounds (the message states
 *          the bounds); the option is unchanged on error. Since: 1.0 */
QSIM_API qsim_status qsim_sim_options_set_int(qsim_sim_options *o, qsim_option key, int64_t value);

/** Set a string option (QSIM_OPT_PERCENTILE, QSIM_OPT_CONFIG_FILE,
 *  QSIM_OPT_ENCODING_VERSION, QSIM_OPT_KERNELS, QSIM_OPT_QDQ_LOW_BIT). The
 *  string is copied.
 *  @return QSIM_OK; QSIM_ERR_INVALID_ARGUMENT for a NULL handle or value, an
 *          unknown key, an integer key or a bad value. Since: 1.0 */
QSIM_API qsim_status qsim_sim_options_set_string(qsim_sim_options *o, qsim_option key,
                                                 const char *value);

/* ------------------------------------------------------------------------ */
/* Sim                                                                       */
/* ------------------------------------------------------------------------ */

/** A simulation of one model: an FP32 inference engine (quantizers come on
 *  top). Not thread-safe: use one sim from one thread at a time. */
typedef struct qsim_sim qsim_sim;

/** Create a sim for a model. Every node's op is checked first: when some
 *  are not supported, the call fails with QSIM_ERR_UNSUPPORTED and one
 *  message listing every unsupported op type and the nodes using it.
 *  @param o options, or NULL for the defaults (not kept after the call).
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_UNSUPPORTED,
 *          QSIM_ERR_SHAPE, QSIM_ERR_OUT_OF_MEMORY.
 *  Ownership: *out is the caller's (qsim_sim_free()); the sim keeps the
 *  model alive. Since: 1.0 */
QSIM_API qsim_status qsim_sim_create(const qsim_model *m, const qsim_sim_options *o,
                                     qsim_sim **out);

/** Release a sim. NULL is a no-op. Since: 1.0 */
QSIM_API void qsim_sim_free(qsim_sim *s);

/** Set a float32 model input. The data is copied. The shape must match the
 *  model's rank and fixed dimensions; symbolic dimensions (e.g. the batch)
 *  may change from call to call.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_NOT_FOUND (unknown
 *          name; the message lists the inputs), QSIM_ERR_SHAPE (rank or a
 *          dimension differs), QSIM_ERR_UNSUPPORTED (the input is not float;
 *          use qsim_sim_set_input_typed()), QSIM_ERR_OUT_OF_MEMORY.
 *  Since: 1.0 */
QSIM_API qsim_status qsim_sim_set_input(qsim_sim *s, const char *name, const float *data,
                                        const int64_t *shape, size_t rank);

/** Like qsim_sim_set_input() for any element type the engine holds:
 *  elem_type is an ONNX TensorProto.DataType value (1 float, 6 int32,
 *  7 int64, 9 bool as one byte per element, 11 double, ...) and must be the
 *  model input's type. Since: 1.0 */
QSIM_API qsim_status qsim_sim_set_input_typed(qsim_sim *s, const char *name, int32_t elem_type,
                                              const void *data, const int64_t *shape,
                                              size_t rank);

/** Run the model on the inputs set so far (all of them must be set).
 *  Shapes are planned once per set of input shapes (a new batch size plans
 *  again).
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_STATE (an input is
 *          not set), QSIM_ERR_SHAPE (shapes that do not fit the model, with
 *          the node and shapes), QSIM_ERR_UNSUPPORTED, QSIM_ERR_OUT_OF_MEMORY.
 *  Since: 1.0 */
QSIM_API qsim_status qsim_sim_run(qsim_sim *s);

/** A float32 output of the last run.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_NOT_FOUND (not a
 *          model output; the message lists them), QSIM_ERR_STATE (no
 *          successful run yet), QSIM_ERR_UNSUPPORTED (not float; use
 *          qsim_sim_get_output_typed()).
 *  Ownership: *data and *shape are borrowed, valid until the next
 *  set_input/run on this sim or its free. Since: 1.0 */
QSIM_API qsim_status qsim_sim_get_output(qsim_sim *s, const char *name, const float **data,
                                         const int64_t **shape, size_t *rank);

/** Like qsim_sim_get_output() for any type: *elem_type receives the ONNX
 *  TensorProto.DataType value (bool is one byte per element). Since: 1.0 */
QSIM_API qsim_status qsim_sim_get_output_typed(qsim_sim *s, const char *name,
                                               int32_t *elem_type, const void **data,
                                               const int64_t **shape, size_t *rank);

/* ------------------------------------------------------------------------ */
/* Progress                                                                  */
/* ------------------------------------------------------------------------ */

/** Progress report for long calls: stage name, units done out of total.
 *  Runs on the calling thread. */
typedef void (*qsim_progress_fn)(const char *stage, uint64_t done, uint64_t total,
                                 void *user_data);

/** Install (fn non-NULL) or remove (fn NULL) the sim's progress callback.
 *  user_data is passed through, never freed. A NULL sim is ignored.
 *  Since: 1.0 */
QSIM_API void qsim_sim_set_progress(qsim_sim *s, qsim_progress_fn fn, void *user_data);

/* ------------------------------------------------------------------------ */
/* AdaRound parameters                                                       */
/* ------------------------------------------------------------------------ */

/** AdaRound hyper-parameters (SPEC 8); an opaque set of keyed values. */
typedef struct qsim_adaround_params qsim_adaround_params;

/** Keys of qsim_adaround_params_set_int() / _set_double(). Values are fixed
 *  forever. Integer keys take set_int, real keys set_double. */
typedef enum qsim_adaround_key {
    /** int, >= 0, default 0: use at most this many batches of the data
     *  callback; 0 uses every batch it feeds. */
    QSIM_ADAROUND_NUM_BATCHES = 200,
    /** int, in [1, 10^8], default 10000: Adam steps per layer. */
    QSIM_ADAROUND_NUM_ITERATIONS = 201,
    /** real, finite, >= 0, default 0.01: weight of the rounding regulariser. */
    QSIM_ADAROUND_REG_PARAM = 202,
    /** real, finite, > 0, default 20: beta at the end of the warm start. */
    QSIM_ADAROUND_BETA_START = 203,
    /** real, finite, > 0, default 2: beta at the last iteration. */
    QSIM_ADAROUND_BETA_END = 204,
    /** real, in [0, 1], default 0.2: fraction of the iterations without the
     *  rounding regulariser. */
    QSIM_ADAROUND_WARM_START = 205,
    /** int, any value, default 0: seed of the minibatch sampler (results are
     *  deterministic for a seed). */
    QSIM_ADAROUND_SEED = 206,
    /** int, in [1, 2^20], default 32: samples per Adam step (direct
     *  formulation). */
    QSIM_ADAROUND_BATCH_SIZE = 207,
    /** real, finite, > 0, default 1e-3: Adam learning rate (betas 0.9,
     *  0.999, eps 1e-8 as torch.optim.Adam). */
    QSIM_ADAROUND_LEARNING_RATE = 208,
    /** int, in [1, 2^31], default 1024: at most this many samples (batch
     *  items) of one layer's input and target are cached; the rest of the
     *  data is ignored for that layer. Memory is one layer's samples at a
     *  time. */
    QSIM_ADAROUND_MAX_SAMPLES = 209,
    /** int, default 0: 0 chooses per layer the cheaper of the two
     *  formulations, 1 forces the direct one (random minibatches, as
     *  AIMET), 2 forces the Gram one (the exact full-data reconstruction
     *  loss through X^T X; only for layers without an activation in the
     *  loss, others fall back to direct). */
    QSIM_ADAROUND_FORMULATION = 210
} qsim_adaround_key;

/** Create a parameter set holding every default.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT (out NULL),
 *          QSIM_ERR_OUT_OF_MEMORY. Ownership: *out is the caller's
 *          (qsim_adaround_params_free()). Since: 1.0 */
QSIM_API qsim_status qsim_adaround_params_create(qsim_adaround_params **out);

/** Release a parameter set. NULL is a no-op. Since: 1.0 */
QSIM_API void qsim_adaround_params_free(qsim_adaround_params *p);

/** Set an integer key (see ::qsim_adaround_key for the ranges).
 *  @return QSIM_OK; QSIM_ERR_INVALID_ARGUMENT for a NULL handle, an
 *          unknown or real key, or a value out of range (nothing changes).
 *  Since: 1.0 */
QSIM_API qsim_status qsim_adaround_params_set_int(qsim_adaround_params *p, qsim_adaround_key k,
                                                  int64_t v);

/** Set a real key (see ::qsim_adaround_key for the ranges).
 *  @return QSIM_OK; QSIM_ERR_INVALID_ARGUMENT for a NULL handle, an
 *          unknown or integer key, or a value out of range or not finite
 *          (nothing changes). Since: 1.0 */
QSIM_API qsim_status qsim_adaround_params_set_double(qsim_adaround_params *p,
                                                     qsim_adaround_key k, double v);

/* ------------------------------------------------------------------------ */
/* Quantizers (the qc_quantize_op_dict)                                       */
/* ------------------------------------------------------------------------ */

/** One quantizer of a sim (AIMET's QcQuantizeOp), keyed by the name of the
 *  tensor it quantizes. Owned by the sim: valid until qsim_sim_free(). */
typedef struct qsim_quantizer qsim_quantizer;

/** What a quantizer quantizes (values fixed). */
typedef enum qsim_quantizer_kind {
    QSIM_QUANTIZER_ACTIVATION = 0, /**< a model input or a node output */
    QSIM_QUANTIZER_PARAM = 1       /**< a weight, bias or norm parameter */
} qsim_quantizer_kind;

/** Number of quantizers of the sim (0 for a NULL sim). Since: 1.0 */
QSIM_API size_t qsim_quantizer_count(const qsim_sim *s);

/** Quantizer i in graph order: model inputs, then per node (topological
 *  order) its inputs not seen before (params keyed by initializer name),
 *  then its outputs.
 *  @return the quantizer (borrowed), or NULL with qsim_last_error() set for
 *          a bad handle or an index out of range. Since: 1.0 */
QSIM_API qsim_quantizer *qsim_quantizer_at(qsim_sim *s, size_t i);

/** Quantizer of the tensor `name` (O(1) hash lookup).
 *  @return the quantizer (borrowed), or NULL when absent: qsim_last_error()
 *          then says so and suggests the closest names. Since: 1.0 */
QSIM_API qsim_quantizer *qsim_quantizer_find(qsim_sim *s, const char *name);

/** Tensor name (borrowed; NULL for a bad handle). Since: 1.0 */
QSIM_API const char *qsim_quantizer_name(const qsim_quantizer *q);

/** Activation or param quantizer. Since: 1.0 */
QSIM_API qsim_quantizer_kind qsim_quantizer_get_kind(const qsim_quantizer *q);

/** Op type of the node that produces the tensor (activation) or first
 *  consumes it (param); "" for a model input (borrowed). Since: 1.0 */
QSIM_API const char *qsim_quantizer_op_type(const qsim_quantizer *q);

/** Set the bitwidth: int 2..32; float: 16 (FP16) only. Drops the
 *  quantizer's encodings (compute them again).
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT (bad handle or bitwidth),
 *          QSIM_ERR_FROZEN (the quantizer is frozen; AIMET silently ignores
 *          this, libqsim refuses). Since: 1.0 */
QSIM_API qsim_status qsim_quantizer_set_bitwidth(qsim_quantizer *q, int bitwidth);

/** Bitwidth (0 for a bad handle). Since: 1.0 */
QSIM_API int qsim_quantizer_get_bitwidth(const qsim_quantizer *q);

/** Set the calibration scheme of this quantizer only (AIMET's per-op
 *  quant_scheme; default: the sim's QSIM_OPT_QUANT_SCHEME, percentile
 *  value from QSIM_OPT_PERCENTILE). Used by the next compute_encodings; a
 *  change drops the encodings. Float quantizers keep it unused.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT (bad handle or scheme),
 *          QSIM_ERR_FROZEN. Since: 1.1 */
QSIM_API qsim_status qsim_quantizer_set_quant_scheme(qsim_quantizer *q, qsim_quant_scheme scheme);

/** Calibration scheme (QSIM_SCHEME_TF for a bad handle). Since: 1.1 */
QSIM_API qsim_quant_scheme qsim_quantizer_get_quant_scheme(const qsim_quantizer *q);

/** Set the data type. QSIM_DATA_TYPE_FLOAT is FP16 emulation (a binary16
 *  round trip) and sets the bitwidth to 16; float quantizers have no
 *  encodings. A change drops the encodings.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_FROZEN. Since: 1.0 */
QSIM_API qsim_status qsim_quantizer_set_data_type(qsim_quantizer *q, qsim_data_type t);

/** Data type (QSIM_DATA_TYPE_INT for a bad handle). Since: 1.0 */
QSIM_API qsim_data_type qsim_quantizer_get_data_type(const qsim_quantizer *q);

/** Enable (non-zero) or disable the quantizer; a disabled quantizer passes
 *  its tensor through. Allowed on frozen quantizers.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT. Since: 1.0 */
QSIM_API qsim_status qsim_quantizer_set_enabled(qsim_quantizer *q, int enabled);

/** 1 when enabled, else 0. Since: 1.0 */
QSIM_API int qsim_quantizer_is_enabled(const qsim_quantizer *q);

/** 1 when the encodings are frozen (qsim_set_and_freeze_param_encodings),
 *  else 0. Since: 1.0 */
QSIM_API int qsim_quantizer_is_frozen(const qsim_quantizer *q);

/** Encoding of one channel (0 when per-tensor): min, max, scale (AIMET's
 *  delta) and offset (the negated unsigned zero point, e.g. -128 for
 *  signed-symmetric int8). Any output pointer may be NULL.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT (bad handle, channel out of
 *          range), QSIM_ERR_STATE (no encoding: not computed yet, or a
 *          float quantizer). Since: 1.0 */
QSIM_API qsim_status qsim_quantizer_get_encoding(const qsim_quantizer *q, size_t channel,
                                                 double *min, double *max, double *scale,
                                                 int64_t *offset);

/** Number of channels: 1 when per-tensor, else the size of the param's
 *  channel axis. Since: 1.0 */
QSIM_API size_t qsim_quantizer_channel_count(const qsim_quantizer *q);

/* ------------------------------------------------------------------------ */
/* The AIMET workflow                                                        */
/* ------------------------------------------------------------------------ */

/** Calibration callback: feeds batches with qsim_sim_set_input() and
 *  qsim_sim_run(). A non-OK return stops compute_encodings with that status. */
typedef qsim_status (*qsim_forward_fn)(qsim_sim *s, void *user_data);

/** AIMET's compute_encodings: resets the statistics of every non-frozen
 *  quantizer, derives each enabled int param quantizer's encodings from its
 *  weight (so weights are already quantized while calibrating), calls `fn`
 *  (int activation quantizers collect min/max and pass data through, float
 *  ones pass through), then computes the encodings of every enabled,
 *  non-frozen int activation quantizer with the sim's scheme, symmetry and
 *  fixed ranges. An enabled quantizer that saw no data keeps no encoding
 *  and is not applied. Progress: stage "compute_encodings", runs done, total
 *  0 (unknown). Statistics take fixed memory per quantizer.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_STATE (called from
 *          inside a callback of the same sim, or a histogram scheme found
 *          no usable range), the callback's status (prefixed message),
 *          QSIM_ERR_OUT_OF_MEMORY. Since: 1.0 */
QSIM_API qsim_status qsim_compute_encodings(qsim_sim *s, qsim_forward_fn fn, void *user_data);

/** AIMET's export: writes `dir/prefix.encodings` (AIMET JSON in the sim's
 *  QSIM_OPT_ENCODING_VERSION, "1.0.0" by default; activation and param
 *  sections hold every enabled quantizer that has an encoding, plus FP16
 *  quantizers as float entries in 0.6.1 and 1.0.0; 2.0.0 has no float
 *  entries) and `dir/prefix.onnx` (the model without quantizers, with the
 *  sim's current float weights written inline). Each file is written to a
 *  temporary name and renamed. The sim is not changed.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT (NULL or a prefix with '/'),
 *          QSIM_ERR_STATE (no encodings yet), QSIM_ERR_IO,
 *          QSIM_ERR_UNSUPPORTED (a model over 2 GB), QSIM_ERR_OUT_OF_MEMORY.
 *  Since: 1.0 */
QSIM_API qsim_status qsim_export(const qsim_sim *s, const char *dir, const char *prefix);

/** Write the sim as a standard QDQ ONNX model at `path` (temporary file +
 *  rename). Every enabled int quantizer with an encoding becomes a
 *  QuantizeLinear + DequantizeLinear pair on its tensor (per-tensor, or
 *  per-channel with the quantizer's axis), every enabled FP16 quantizer a
 *  Cast(float16) + Cast(float) pair; disabled ones and int ones without an
 *  encoding add nothing. Consumers read the dequantized tensor; graph
 *  outputs keep their names. Scale = delta (float32); signed symmetric
 *  encodings become int4/int8/int16 with zero point 0, all others
 *  uint4/uint8/uint16 with zero point -offset. The ai.onnx opset is raised
 *  to 13 (8-bit only) or 21 (any 4- or 16-bit quantizer). With the sim
 *  option QSIM_OPT_QDQ_LOW_BIT "clip", 2..7-bit quantizers are written as
 *  Min(x, max) -> Max(., min) (the encoding's float range, per channel for
 *  per-channel quantizers) before an int8/uint8 pair, which is exact and
 *  needs no opset-21 type, and the model gets metadata_props
 *  "qsim.qdq_low_bit" = "clip". Weights are the sim's current float
 *  weights. The sim is not changed.
 *  Note: onnxruntime's QuantizeLinear rounds half to even, the sim half
 *  away from zero, so exact ties can differ by one step.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_STATE (inside
 *          compute_encodings or adaround), QSIM_ERR_UNSUPPORTED (a bitwidth
 *          other than 4, 8, 16, or 2..8 and 16 with "clip"; a model below
 *          opset 11 or with attributes
 *          the raised opset turned into inputs; over 2 GB), QSIM_ERR_IO,
 *          QSIM_ERR_OUT_OF_MEMORY.
 *  Since: 1.0 */
QSIM_API qsim_status qsim_export_qdq(const qsim_sim *s, const char *path);

/** Create a sim from a QDQ ONNX model (as written by qsim_export_qdq(), or
 *  onnxruntime's quantizer with Q/DQ pairs on float tensors): every
 *  QuantizeLinear -> DequantizeLinear pair (constant float32 scale,
 *  uint4/int4/uint8/int8/uint16/int16 zero point shared by both nodes,
 *  per-tensor or per-axis; bitwidth from the zero point type) and every
 *  Cast(float16) -> Cast(float) pair is removed from
 *  the float graph (consumers reconnected; the tensor keeps the pair's
 *  input name, or its output name when that is a graph output), and the
 *  quantizer the sim places on that tensor gets the pair's encoding
 *  (offset = -zero_point, minus 2^(bw-1) for signed types; scale = delta)
 *  or FP16, frozen. Quantizers on tensors without a pair are disabled.
 *  The sim owns the rebuilt float model; qdq_model is not changed and may
 *  be freed. o as for qsim_sim_create() (NULL = defaults).
 *  A lone DequantizeLinear on an int initializer (onnxruntime's default
 *  weight layout) becomes a float initializer of the same name holding the
 *  dequantized values, with the DequantizeLinear's encoding. In a model
 *  marked metadata_props "qsim.qdq_low_bit" = "clip" (QSIM_OPT_QDQ_LOW_BIT),
 *  an int8/uint8 pair fed by Max(Min(X, hi), lo) whose constant bounds are
 *  grid points spanning 2^bw codes (bw 2..7; 2^bw - 1 symmetric codes for
 *  strict symmetric) is a bw-bit pair on X with min = lo, max = hi; the
 *  Min and Max go too.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_UNSUPPORTED (a pair
 *          with non-constant or differing scale/zero point, another zero
 *          point type, a "clip" that is not a low-bit grid, a pair on a
 *          tensor the sim does not quantize, a
 *          per-axis pair on an activation), the statuses of
 *          qsim_sim_create(), QSIM_ERR_OUT_OF_MEMORY.
 *  Ownership: *out is the caller's; release with qsim_sim_free().
 *  Since: 1.0 */
QSIM_API qsim_status qsim_sim_create_from_qdq(const qsim_model *qdq_model,
                                              const qsim_sim_options *o, qsim_sim **out);

/** Load param encodings from an encodings file (0.6.1, 1.0.0 or 2.0.0; a
 *  full export or AdaRound's param-only file) and freeze them: each param
 *  named gets enabled, its bitwidth, data type, symmetry (strict and
 *  unsigned inferred from the offsets, SPEC 5.3) and per-channel encodings,
 *  and becomes frozen (compute_encodings leaves it alone; set_bitwidth and
 *  set_data_type fail with QSIM_ERR_FROZEN). Activation entries of a full
 *  export are skipped; quantizers not in the file are untouched. Every
 *  entry is checked before any is applied, so an error changes nothing.
 *  @return QSIM_OK; QSIM_ERR_NOT_FOUND (a name with no quantizer; the
 *          message suggests the closest), QSIM_ERR_INVALID_ARGUMENT (an
 *          activation in the param section, a bad bitwidth),
 *          QSIM_ERR_SHAPE (channel count or axis differs from the param's),
 *          QSIM_ERR_IO, QSIM_ERR_PARSE, QSIM_ERR_UNSUPPORTED,
 *          QSIM_ERR_STATE (inside compute_encodings). Since: 1.0 */
QSIM_API qsim_status qsim_set_and_freeze_param_encodings(qsim_sim *s, const char *encodings_path);

/** AdaRound (SPEC 8) on the sim, in place. `fn` runs once and feeds
 *  calibration batches (qsim_sim_set_input + qsim_sim_run); the model
 *  inputs of its runs are kept, up to QSIM_ADAROUND_MAX_SAMPLES samples
 *  (dim 0 of the first input) and QSIM_ADAROUND_NUM_BATCHES batches, and
 *  every one of them is used. Then for every Conv (1-D/2-D),
 *  ConvTranspose (1-D/2-D, explicit pads), Gemm (transA = 0) and MatMul
 *  (2-D constant weight) whose weight has an enabled int param quantizer,
 *  in topological order: the quantizer's encodings are computed from the
 *  weight if it has none; the layer's input is collected from the sim with
 *  its int activation quantizers off (earlier layers already rounded, FP16
 *  quantizers and disabled ones as the user set them), the FP32 target
 *  from a pass with every quantizer off; the rounding is optimised at the
 *  quantizer's own bitwidth and per-channel setting; the chosen grid
 *  values are written into the sim's copy of the weight (QDQ with the
 *  encodings reproduces them; qsim_export writes them into prefix.onnx)
 *  and the encodings are set and frozen. Layers it cannot model are left
 *  alone (nearest rounding, not frozen): 3-D convolutions, ConvTranspose
 *  with output_shape or auto_pad, Gemm with transA, MatMul with a weight
 *  that is not 2-D or an input of rank > 3, and weights whose per-channel
 *  axis is not the output channel axis. The qsim_model is never
 *  modified; only one layer's samples are in memory at a time (plus the
 *  kept model inputs). Progress: stage "adaround" (layers done, total)
 *  and "adaround_iterations" (Adam steps of the current layer, total).
 *  @param params NULL for the defaults.
 *  @return QSIM_OK, QSIM_ERR_INVALID_ARGUMENT, QSIM_ERR_STATE (no
 *          quantizers, called from a callback, the callback ran nothing),
 *          the callback's status (prefixed message), QSIM_ERR_SHAPE,
 *          QSIM_ERR_UNSUPPORTED (a layer attribute AdaRound cannot model;
 *          earlier layers stay rounded and frozen), QSIM_ERR_OUT_OF_MEMORY.
 *  Since: 1.0 */
QSIM_API qsim_status qsim_apply_adaround(qsim_sim *s, qsim_forward_fn fn, void *user_data,
                                         const qsim_adaround_params *params);

QSIM_END_DECLS

#endif /* QSIM_H */
