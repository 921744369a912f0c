/* Calibration statistics whose memory does not grow with the number of
 * batches (SPEC 3.1 TF min/max, SPEC 3.2 histogram). Plain structs, owned
 * by the caller; no allocation except the per-channel histogram gather.
 * Precision follows AIMET, whose analyzers are instantiated for float:
 * histogram set-up and bin indexing are float32, the PDF itself double. */
#ifndef QSIM_QUANT_STATS_H
#define QSIM_QUANT_STATS_H

#include <qsim/qsim.h>
#include <stddef.h>
#include <stdint.h>

#define QSIM__PDF_SIZE 512

/* Running min/max over every batch (TfEncodingAnalyzer). NaN values are
 * ignored; an all-NaN or empty batch only counts as a batch. */
typedef struct qsim__minmax {
    double min, max;   /* +DBL_MAX / -DBL_MAX until a value is seen */
    int64_t batches;   /* update calls with n > 0 */
} qsim__minmax;

void qsim__minmax_reset(qsim__minmax *s);
void qsim__minmax_update(qsim__minmax *s, const float *x, size_t n);
/* x is [outer, channels, inner] (see lib/kernels/quant.h); s[c] collects
 * channel c. Every s[c] counts one batch. */
void qsim__minmax_update_channels(qsim__minmax *s, size_t channels, const float *x, size_t outer,
                                  size_t inner);

/* The 512-bin PDF of TF-enhanced and percentile (AIMET UpdatePdfSigned). */
typedef struct qsim__hist {
    double xleft[QSIM__PDF_SIZE]; /* left bin edges, fixed by the first batch */
    double pdf[QSIM__PDF_SIZE];   /* mean of the per-batch normalised histograms */
    int64_t iterations;           /* batches averaged into pdf */
    int64_t batches;              /* update calls with n > 0, all-zero ones included */
    int initialized;              /* xleft set (a batch that was not all zero) */
} qsim__hist;

void qsim__hist_reset(qsim__hist *h);
/* Adds one batch. The first batch whose min/max are not both zero fixes the
 * bins: if min == max, max = min + 0.01f; c = (min+max)/2; range
 * [c - 3(c - min), c + 3(max - c)] split into 512 bins. Bin of x is
 * round_half_away(x/bin - lo/bin) in float32; values outside [0, 512) are
 * dropped (still counted in n). pdf = (pdf*it + count/n)/(it + 1).
 * Batches before initialisation whose finite min/max are both zero, or
 * whose min/max are not finite (all NaN, +-inf: a libqsim guard; AIMET
 * would build garbage bins), are counted in `batches` only. n == 0 is a
 * no-op. */
void qsim__hist_update(qsim__hist *h, const float *x, size_t n);
/* Per-channel histograms h[c] over [outer, channels, inner] data; gathers
 * each channel into a scratch buffer (QSIM_ERR_OUT_OF_MEMORY on failure,
 * QSIM_ERR_INVALID_ARGUMENT if outer*inner overflows). */
qsim_status qsim__hist_update_channels(qsim__hist *h, size_t channels, const float *x,
                                       size_t outer, size_t inner);

#endif
