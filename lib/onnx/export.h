/* Re-serializing a loaded model (qsim_export's prefix.onnx). */
#ifndef QSIM_ONNX_EXPORT_H
#define QSIM_ONNX_EXPORT_H

#include <qsim/qsim.h>

#include "graph.h"

/* Write m as ONNX to `path` atomically (temp file + rename). replace, when
 * not NULL, has one entry per graph value: a non-NULL tensor replaces that
 * initializer's (or Constant node's) data. All initializer data is written
 * inline. Errors: QSIM_ERR_IO, QSIM_ERR_UNSUPPORTED (over 2 GB, or external
 * data the graph did not decode), QSIM_ERR_OUT_OF_MEMORY. */
qsim_status qsim__onnx_export(const qsim_model *m, const qsim__tensor *const *replace,
                              const char *path);

/* Like qsim__onnx_export, but edit (when not NULL) gets the shallow copy
 * of the ModelProto (an Onnx__ModelProto *) just before it is packed, with
 * the initializers and nodes already resolved, and may point its arrays
 * elsewhere (memory it owns until the call returns). */
typedef qsim_status (*qsim__onnx_edit_fn)(void *model, void *ctx);
qsim_status qsim__onnx_export_edit(const qsim_model *m, const qsim__tensor *const *replace,
                                   qsim__onnx_edit_fn edit, void *ctx, const char *path);
/* Like qsim__onnx_export_edit, but the serialized model goes to *out
 * (qsim__malloc'd, *out_size bytes) instead of a file; path only names it
 * in messages. */
qsim_status qsim__onnx_export_edit_mem(const qsim_model *m, const qsim__tensor *const *replace,
                                       qsim__onnx_edit_fn edit, void *ctx, const char *path,
                                       uint8_t **out, size_t *out_size);

#endif
