/* IDX reader (the MNIST / Fashion-MNIST file format) for the examples.
 *
 * Only unsigned-byte data (type code 0x08) is accepted, which is what the
 * image (3-D) and label (1-D) files use. Files whose name ends in ".gz" must
 * be gzip-compressed and are inflated with zlib; other files are read as is.
 * The header must be exact: magic 00 00 08 <ndim>, ndim big-endian u32 dims,
 * every dim >= 1, then exactly prod(dims) bytes (no more, no less). */
#ifndef QEX_IDX_H
#define QEX_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "qex_util.h"

#define QEX_IDX_MAX_DIMS 4
/* Largest payload accepted, against hostile headers (Fashion-MNIST train: 47 MB). */
#define QEX_IDX_MAX_BYTES ((size_t)1 << 30)

/* The demo's preprocessing (tools/train_demo.py, data/README.md):
 * x = (pixel / 255 - MEAN) / STD, each step in float32. */
#define QEX_FMNIST_MEAN 0.2860f
#define QEX_FMNIST_STD 0.3530f

typedef struct qex_idx {
    uint8_t *data;                  /* prod(dims) bytes, row-major */
    unsigned ndim;
    size_t dims[QEX_IDX_MAX_DIMS];
    size_t count;                   /* prod(dims) */
} qex_idx;

/* Reads `path`; ndim must equal expect_ndim (1..QEX_IDX_MAX_DIMS), or any
 * ndim if expect_ndim is 0. On success *out owns its data (qex_idx_free);
 * on failure *out is zeroed and err names the file and the problem. */
int qex_idx_read(const char *path, unsigned expect_ndim, qex_idx *out, qex_err *err);

/* Images [N, H, W] and labels [N] with every label < num_classes (0 = no check). */
int qex_idx_read_images(const char *path, qex_idx *out, qex_err *err);
int qex_idx_read_labels(const char *path, unsigned num_classes, qex_idx *out, qex_err *err);

/* Fails unless the image and label files hold the same number of items. */
int qex_idx_check_pair(const qex_idx *images, const qex_idx *labels, qex_err *err);

/* Writes images [first, first + n) as float32 NCHW [n, 1, H, W] into dst
 * (dst_len floats available), applying the demo preprocessing. */
int qex_idx_images_to_nchw(const qex_idx *images, size_t first, size_t n, float *dst,
                           size_t dst_len, qex_err *err);

/* One pixel through the demo preprocessing. */
float qex_fmnist_preprocess(uint8_t pixel);

void qex_idx_free(qex_idx *idx);

#endif
