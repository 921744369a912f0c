/* Internals of the convolution kernels shared by conv.c and the per-ISA
 * direct (depthwise) kernels. */
#ifndef QSIM_KERNELS_CONV_IMPL_H
#define QSIM_KERNELS_CONV_IMPL_H

#include "conv.h"
#include "gemm_impl.h"

/* One depthwise plane: y[OH][OW] = act(sum_{ky,kx} w[ky][kx] * x[...] + bias).
 * Taps are summed in (ky, kx) order, then the bias is added. */
typedef struct qsim__dw_args {
    const float *x;    /* [H][W] */
    float *y;          /* [OH][OW] */
    const float *w;    /* [kh][kw] */
    float bias;
    int64_t H, W, OH, OW;
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
    int act;
    float act_a, act_b;
    int streamed;      /* the whole input is larger than the caches (a hint) */
} qsim__dw_args;

/* Geometry the im2col packer needs (one group; columns run over images). */
typedef struct qsim__im2col {
    const float *x;                 /* image 0: [Cg][H][W] */
    size_t img_stride;              /* floats between images */
    const float *lo, *hi;           /* the whole input buffer [lo, hi): SIMD
                                       packers may load any of it */
    int64_t H, W, OH, OW;
    int64_t kh, kw, sh, sw, dh, dw, pt, pl;
} qsim__im2col;

/* The panel's columns cut into runs within one output row of one image. */
typedef struct qsim__im2col_runs {
    int n;
    const float *x[QSIM__NR];
    int64_t oy[QSIM__NR], ox[QSIM__NR], j[QSIM__NR], len[QSIM__NR];
} qsim__im2col_runs;

static inline void qsim__im2col_split(const qsim__im2col *g, size_t n0, size_t nr,
                                      qsim__im2col_runs *r)
{
    size_t ohw = (size_t)(g->OH * g->OW), img = n0 / ohw, p = n0 % ohw;
    int64_t oy = (int64_t)p / g->OW, ox = (int64_t)p % g->OW;
    r->n = 0;
    for (size_t j = 0; j < nr;) {
        int64_t len = g->OW - ox;
        if (len > (int64_t)(nr - j))
            len = (int64_t)(nr - j);
        r->x[r->n] = g->x + img * g->img_stride;
        r->oy[r->n] = oy;
        r->ox[r->n] = ox;
        r->j[r->n] = (int64_t)j;
        r->len[r->n] = len;
        r->n++;
        j += (size_t)len;
        ox = 0;
        if (++oy == g->OH) {
            oy = 0;
            img++;
        }
    }
}

/* The im2col row k = (c, ky, kx) as its three indices, and the step to
 * k + 1, for the packers that walk k in order. */
static inline void qsim__ktap_start(const qsim__im2col *g, size_t k, int64_t *ch, int64_t *ky,
                                    int64_t *kx)
{
    int64_t khw = g->kh * g->kw, rem = (int64_t)k % khw;
    *ch = (int64_t)k / khw;
    *ky = rem / g->kw;
    *kx = rem % g->kw;
}

static inline void qsim__ktap_next(const qsim__im2col *g, int64_t *ch, int64_t *ky, int64_t *kx)
{
    if (++*kx == g->kw) {
        *kx = 0;
        if (++*ky == g->kh) {
            *ky = 0;
            ++*ch;
        }
    }
}

/* One NR-column panel of the implicit im2col matrix: rows k in [k0, k0+kc)
 * (k = (c, ky, kx)), columns n in [n0, n0+nr) (n = (image, oy, ox)), zero
 * past nr and in the padding. Each (k, run) is a clipped (strided) copy of
 * an input row segment. */
static inline void qsim__im2col_panel(const qsim__im2col *g, size_t k0, size_t kc, size_t n0,
                                      size_t nr, float *dst)
{
    qsim__im2col_runs r;
    qsim__im2col_split(g, n0, nr, &r);
    int64_t ch, ky, kx;
    qsim__ktap_start(g, k0, &ch, &ky, &kx);
    for (size_t kk = 0; kk < kc; kk++) {
        float *o = dst + kk * QSIM__NR;
        for (int s = 0; s < r.n; s++) {
            float *d = o + r.j[s];
            int64_t len = r.len[s];
            int64_t iy = r.oy[s] * g->sh - g->pt + ky * g->dh;
            if (iy < 0 || iy >= g->H) {
                for (int64_t t = 0; t < len; t++)
                    d[t] = 0.0f;
                continue;
            }
            const float *row = r.x[s] + (ch * g->H + iy) * g->W;
            int64_t ix0 = r.ox[s] * g->sw - g->pl + kx * g->dw, sw = g->sw;
            /* t is in bounds iff 0 <= ix0 + t*sw < W */
            int64_t lo = ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw;
            int64_t hi = g->W - ix0 <= 0 ? 0 : (g->W - ix0 + sw - 1) / sw;
            if (hi > len)
                hi = len;
            if (lo > hi)
                lo = hi;
            for (int64_t t = 0; t < lo; t++)
                d[t] = 0.0f;
            for (int64_t t = lo; t < hi; t++)
                d[t] = row[ix0 + t * sw];
            for (int64_t t = hi; t < len; t++)
                d[t] = 0.0f;
        }
        for (size_t j = nr; j < QSIM__NR; j++)
            o[j] = 0.0f;
        qsim__ktap_next(g, &ch, &ky, &kx);
    }
}

/* Columns [n0, n0+nb) as consecutive panels of kc * NR floats. */
void qsim__im2col_block__generic(const qsim__im2col *g, size_t k0, size_t kc, size_t n0,
                                 size_t nb, float *dst);
#ifdef QSIM_HAVE_AVX2
void qsim__im2col_block__avx2(const qsim__im2col *g, size_t k0, size_t kc, size_t n0,
                              size_t nb, float *dst);
#ifdef QSIM_HAVE_AVX512
/* strides 1 and 2 with masked AVX-512 loads; others go to the AVX2 packer */
void qsim__im2col_block__avx512(const qsim__im2col *g, size_t k0, size_t kc, size_t n0,
                                size_t nb, float *dst);
#endif
#endif

void qsim__k_f32_dwconv__generic(const qsim__dw_args *a);
#ifdef QSIM_HAVE_AVX2
void qsim__k_f32_dwconv__avx2(const qsim__dw_args *a);
#endif

/* ---- direct path (conv_direct.c): GEMM on the unpacked input ----
 * The weights' MR panels (as for the GEMM path) times 16 consecutive output
 * pixels of one row read straight from the input, or from a zero-padded
 * copy of it, at x + off[k] + j (k = (c, ky, kx)): no im2col panel. */

/* A tile's 16 columns are two halves of 8: half 0 reads x[off[k] + j] and
 * writes c[i*ldc + j], half 1 reads x[off[k] + xh + j] and writes
 * c[i*ldc + ch + j] (xh = ch = 8: 16 consecutive pixels; or two output
 * rows). c[mr x (nr0 | nr1)] <- (MR x kc panel a) times those columns, as
 * qsim__ukr_fn otherwise (o: first/last, beta, bias_row, act, stream;
 * acc_out and bias_col unused). Reads all 8 floats of each half (6x8: half
 * 0 only, nr1 == 0), whatever nr0 and nr1 are. */
typedef void (*qsim__cukr_fn)(size_t kc, const float *a, const float *x, const ptrdiff_t *off,
                              size_t xh, float *c, size_t ldc, size_t ch, size_t mr,
                              size_t nr0, size_t nr1, const qsim__ukr_out *o);
void qsim__k_f32_conv_6x16__generic(size_t kc, const float *a, const float *x,
                                    const ptrdiff_t *off, size_t xh, float *c, size_t ldc,
                                    size_t ch, size_t mr, size_t nr0, size_t nr1,
                                    const qsim__ukr_out *o);
void qsim__k_f32_conv_6x8__generic(size_t kc, const float *a, const float *x,
                                   const ptrdiff_t *off, size_t xh, float *c, size_t ldc,
                                   size_t ch, size_t mr, size_t nr0, size_t nr1,
                                   const qsim__ukr_out *o);
#ifdef QSIM_HAVE_AVX2
void qsim__k_f32_conv_6x16__avx2(size_t kc, const float *a, const float *x, const ptrdiff_t *off,
                                 size_t xh, float *c, size_t ldc, size_t ch, size_t mr,
                                 size_t nr0, size_t nr1, const qsim__ukr_out *o);
void qsim__k_f32_conv_6x8__avx2(size_t kc, const float *a, const float *x, const ptrdiff_t *off,
                                size_t xh, float *c, size_t ldc, size_t ch, size_t mr,
                                size_t nr0, size_t nr1, const qsim__ukr_out *o);
#endif

/* AVX-512F tall direct tiles: np = 1..4 consecutive MR panels (at
 * a + i * as), rows from mr on not stored, both halves present
 * (1 <= nr0, nr1 <= 8; reads all 8 floats of each). Bit-identical to 6x16.
 * Index np - 1. */
typedef void (*qsim__tall_cukr_fn)(size_t kc, const float *a, size_t as, const float *x,
                                   const ptrdiff_t *off, size_t xh, float *c, size_t ldc,
                                   size_t ch, size_t mr, size_t nr0, size_t nr1,
                                   const qsim__ukr_out *o);
#ifdef QSIM_HAVE_AVX512
extern const qsim__tall_cukr_fn qsim__k_f32_conv_tall__avx512[4];
#endif

/* What the direct path needs of a packed (non-depthwise) conv. */
typedef struct qsim__dconv_view {
    const qsim__conv_desc *d;
    int64_t Cg, Mg;
    size_t K;
    const float *wpack;     /* per group: MR panels over K */
    size_t wpack_group;
    const float *bias;
    qsim__epilogue ep;
} qsim__dconv_view;

/* 1 when the direct path is the faster one for this conv and input shape
 * (a rule on the shape only). */
int qsim__dconv_preferred(const qsim__conv_desc *d, int64_t N, int64_t H, int64_t W,
                          int64_t OH, int64_t OW);
/* Scratch bytes of qsim__dconv_run on a pool of `threads`, SIZE_MAX on
 * overflow. */
size_t qsim__dconv_ws_bytes(const qsim__dconv_view *v, int64_t N, int64_t H, int64_t W,
                            int64_t OH, int64_t OW, int threads);
/* As qsim__conv_run(_accumulate); ws: qsim__dconv_ws_bytes, 64-byte aligned. */
void qsim__dconv_run(const qsim__dconv_view *v, qsim__pool *pool, const float *x, int64_t N,
                     int64_t H, int64_t W, int64_t OH, int64_t OW, float *y, void *ws,
                     int accumulate);

/* Tests and benchmarks: 0 = choose per shape, 1 = always the GEMM/im2col
 * path, 2 = always the direct path (process-wide; set before running). */
void qsim__conv_force_path(int path);

/* n consecutive planes of one depthwise conv: plane i reads a->x + i*H*W,
 * writes a->y + i*OH*OW, and is channel (ch0 + i) % C with weights
 * wall + ch*kh*kw and bias ball[ch] (0 when ball is NULL); a->w and
 * a->bias are ignored. One call per task lets small planes share setup. */
typedef struct qsim__dw_planes {
    qsim__dw_args a;
    const float *wall, *ball;
    size_t ch0, C, n;
} qsim__dw_planes;

/* The single-plane arguments of plane i (< p->n) of p. */
static inline void qsim__dw_plane_args(const qsim__dw_planes *p, size_t i, qsim__dw_args *a)
{
    size_t ch = (p->ch0 + i) % p->C, khw = (size_t)(p->a.kh * p->a.kw);
    *a = p->a;
    a->x = p->a.x + i * (size_t)(p->a.H * p->a.W);
    a->y = p->a.y + i * (size_t)(p->a.OH * p->a.OW);
    a->w = p->wall + ch * khw;
    a->bias = p->ball ? p->ball[ch] : 0.0f;
}

void qsim__k_f32_dwconv_planes__generic(const qsim__dw_planes *p);
#ifdef QSIM_HAVE_AVX2
void qsim__k_f32_dwconv_planes__avx2(const qsim__dw_planes *p);
#endif

#endif
