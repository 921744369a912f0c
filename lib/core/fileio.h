/* Whole-file output for every exporter (ONNX models, encodings JSON):
 * written beside the target and renamed into place, so a failed export
 * never leaves a half-written file. */
#ifndef QSIM_CORE_FILEIO_H
#define QSIM_CORE_FILEIO_H

#include <stddef.h>

#include <qsim/qsim.h>

/* Writes `size` bytes to `path` atomically: a temporary "path.tmp.XXXXXX"
 * in the same directory, fsync, rename. On failure the temporary file is
 * removed and `path` is untouched. QSIM_ERR_IO names the path. */
qsim_status qsim__write_file_atomic(const char *path, const void *data, size_t size);

#endif
