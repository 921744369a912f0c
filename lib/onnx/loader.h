/* Internal interfaces between the ONNX loader's files (not used elsewhere):
 * load.c reads and unpacks bytes, decode_tensor.c and external_data.c turn
 * TensorProtos into qsim__tensors, graph.c builds and checks the graph. */
#ifndef QSIM_ONNX_LOADER_H
#define QSIM_ONNX_LOADER_H

#include "graph.h"

#include "onnx.pb-c.h"

/* Deepest message nesting accepted (Model > Graph > Node > Attribute >
 * Graph ...). protobuf-c unpacks recursively without a limit, so deeper
 * input is refused by a bounded pre-scan before it can exhaust the stack. */
#define QSIM__MAX_PROTO_DEPTH 100

/* Read a whole file (at most QSIM__MAX_MODEL_BYTES) into a qsim__malloc'd
 * buffer. Errors: QSIM_ERR_IO with strerror, not prefixed with the path. */
qsim_status qsim__onnx_read_file(const char *path, uint8_t **data, size_t *size);

/* Unpack a ModelProto. Allocations are capped at a budget proportional to
 * size so hostile input cannot exhaust memory. Free the result with
 * qsim__onnx_proto_free. */
qsim_status qsim__onnx_unpack(const uint8_t *data, size_t size, Onnx__ModelProto **out);
void qsim__onnx_proto_free(Onnx__ModelProto *p);
/* Release one protobuf-c allocated payload (e.g. raw_data we decoded). */
void qsim__onnx_proto_release(void *p);

/* Where a tensor's external data is looked up; NULL base_dir = memory load
 * (external data refused). */
typedef struct qsim__onnx_ctx {
    const char *base_dir;
} qsim__onnx_ctx;

/* Decode a TensorProto (initializer or TENSOR attribute) into a new tensor.
 * `what` names it in messages ("initializer 'conv1.weight'"). */
qsim_status qsim__onnx_decode_tensor(const qsim__onnx_ctx *ctx, const Onnx__TensorProto *tp,
                                     const char *what, qsim__tensor **out);

/* Declared shape of a TensorProto, with rank/negative/overflow checks; *numel
 * gets the element count. */
qsim_status qsim__onnx_tensor_shape(const Onnx__TensorProto *tp, const char *what,
                                    qsim__shape *shape, size_t *numel);

/* Resolve and open the external data file of tp and check that it holds
 * `bytes` at the given offset; *fd is open on success. */
qsim_status qsim__onnx_open_external(const qsim__onnx_ctx *ctx, const Onnx__TensorProto *tp,
                                     const char *what, size_t bytes, int *fd, uint64_t *offset);
/* Read `bytes` at offset into dst and close fd (always). */
qsim_status qsim__onnx_read_external(int fd, uint64_t offset, const char *what, void *dst,
                                     size_t bytes);

/* Build g from the unpacked model (g zeroed by the caller; on failure the
 * caller frees it with qsim__graph_free). */
qsim_status qsim__graph_build(const qsim__onnx_ctx *ctx, Onnx__ModelProto *mp, qsim__graph *g);

/* Free a node's attributes (graph.c). */
void qsim__attrs_free(qsim__attr *attrs, size_t n);
/* Convert one AttributeProto; TENSOR attributes are decoded. */
qsim_status qsim__attr_convert(const qsim__onnx_ctx *ctx, const qsim__node *n,
                               const Onnx__AttributeProto *ap, qsim__attr *out);

#endif
