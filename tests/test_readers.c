/* Data readers of examples/common (IDX, .npy, input lists), checked against
 * numpy and Python's gzip: tests/tools/gen_reader_data.py writes the files and
 * the expected values at test time. Hostile files must fail with a message
 * naming the file and the problem, never crash or leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "idx.h"
#include "input_list.h"
#include "npy.h"

static char g_dir[1024];   /* generated data */
static char g_fmnist[1024]; /* Fashion-MNIST folder */
static int g_have_fmnist;

static const char *path_of(const char *fmt, ...) QEX_PRINTF(1, 2);
static const char *path_of(const char *fmt, ...)
{
    static char buf[4][2048];
    static int which;
    char rel[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    char *b = buf[which++ % 4];
    snprintf(b, sizeof buf[0], "%s/%s", g_dir, rel);
    return b;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int setup_group(void **state)
{
    (void)state;
    const char *base = getenv("QSIM_TEST_DATA");
    const char *src = getenv("QSIM_SOURCE_ROOT");
    const char *py = getenv("PYTHON3");
    const char *fm = getenv("QSIM_FMNIST_DIR");
    if (!base || !src || !py) {
        fprintf(stderr, "QSIM_TEST_DATA, QSIM_SOURCE_ROOT and PYTHON3 must be set\n");
        return -1;
    }
    snprintf(g_fmnist, sizeof g_fmnist, "%s", fm ? fm : "/usr/share/datasets/fashion-mnist");
    snprintf(g_dir, sizeof g_dir, "%s/readers", base);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && '%s' '%s/tests/tools/gen_reader_data.py' '%s' '%s'",
             g_dir, py, src, g_dir, g_fmnist);
    if (system(cmd) != 0) {
        fprintf(stderr, "generator failed: %s\n", cmd);
        return -1;
    }
    struct stat st;
    g_have_fmnist = stat(path_of("fmnist_expect.txt"), &st) == 0;
    return 0;
}

/* ---- IDX on the real Fashion-MNIST files ---- */

static void check_split(const char *split, const char *expect_line)
{
    char name[16];
    size_t n_img, rows, cols, n_lab, hist[10];
    int got = sscanf(expect_line, "%15s %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu %zu",
                     name, &n_img, &rows, &cols, &n_lab, &hist[0], &hist[1], &hist[2], &hist[3],
                     &hist[4], &hist[5], &hist[6], &hist[7], &hist[8], &hist[9]);
    assert_int_equal(got, 15);
    assert_string_equal(name, split);

    char ip[1200], lp[1200];
    snprintf(ip, sizeof ip, "%s/%s-images-idx3-ubyte.gz", g_fmnist, split);
    snprintf(lp, sizeof lp, "%s/%s-labels-idx1-ubyte.gz", g_fmnist, split);
    qex_idx img, lab;
    qex_err err = {{0}};
    assert_int_equal(qex_idx_read_images(ip, &img, &err), 0);
    assert_int_equal(qex_idx_read_labels(lp, 10, &lab, &err), 0);
    assert_int_equal(qex_idx_check_pair(&img, &lab, &err), 0);
    assert_int_equal(img.ndim, 3);
    assert_int_equal(img.dims[0], n_img);
    assert_int_equal(img.dims[1], rows);
    assert_int_equal(img.dims[2], cols);
    assert_int_equal(lab.dims[0], n_lab);
    assert_int_equal(img.count, n_img * rows * cols);

    size_t h[10] = {0};
    for (size_t i = 0; i < lab.count; i++)
        h[lab.data[i]]++;
    for (int k = 0; k < 10; k++)
        assert_int_equal(h[k], hist[k]);

    size_t len;
    unsigned char *first = slurp(path_of("fmnist_%s_first.u8", split), &len);
    assert_non_null(first);
    assert_int_equal(len, rows * cols);
    assert_memory_equal(first, img.data, len);
    free(first);
    unsigned char *last = slurp(path_of("fmnist_%s_last.u8", split), &len);
    assert_non_null(last);
    assert_memory_equal(last, img.data + img.count - len, len);
    free(last);
    unsigned char *labs = slurp(path_of("fmnist_%s_labels_first.u8", split), &len);
    assert_non_null(labs);
    assert_int_equal(len, 100);
    assert_memory_equal(labs, lab.data, 100);
    free(labs);

    /* Preprocessing: bit-identical to numpy's float32 arithmetic. */
    unsigned char *pre = slurp(path_of("fmnist_%s_pre5.f32", split), &len);
    assert_non_null(pre);
    assert_int_equal(len, 5 * rows * cols * sizeof(float));
    float *x = malloc(len);
    assert_non_null(x);
    assert_int_equal(qex_idx_images_to_nchw(&img, 0, 5, x, 5 * rows * cols, &err), 0);
    assert_memory_equal(pre, x, len);
    /* Range and buffer checks. */
    assert_int_equal(qex_idx_images_to_nchw(&img, n_img - 4, 5, x, 5 * rows * cols, &err), -1);
    assert_non_null(strstr(err.msg, "outside"));
    assert_int_equal(qex_idx_images_to_nchw(&img, 0, 5, x, 5 * rows * cols - 1, &err), -1);
    assert_non_null(strstr(err.msg, "buffer"));
    assert_int_equal(qex_idx_images_to_nchw(&img, n_img, 0, x, 0, &err), 0);
    free(x);
    free(pre);
    qex_idx_free(&img);
    qex_idx_free(&lab);
}

static void test_idx_fmnist(void **state)
{
    (void)state;
    if (!g_have_fmnist) {
        fprintf(stderr, "# Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist)\n",
                g_fmnist);
        skip();
    }
    size_t len;
    char *expect = (char *)slurp(path_of("fmnist_expect.txt"), &len);
    assert_non_null(expect);
    expect[len] = 0;
    char *nl = strchr(expect, '\n');
    assert_non_null(nl);
    *nl = 0;
    check_split("train", expect);
    check_split("t10k", nl + 1);
    assert_int_equal(strncmp(expect, "train 60000 28 28 60000", 23), 0);
    assert_int_equal(strncmp(nl + 1, "t10k 10000 28 28 10000", 22), 0);
    free(expect);
}

static void test_idx_small(void **state)
{
    (void)state;
    const char *names[] = {"idx/ok3.idx", "idx/ok3.idx.gz"};
    for (int k = 0; k < 2; k++) {
        qex_idx x;
        qex_err err = {{0}};
        assert_int_equal(qex_idx_read(path_of("%s", names[k]), 0, &x, &err), 0);
        assert_int_equal(x.ndim, 3);
        assert_int_equal(x.dims[0], 2);
        assert_int_equal(x.dims[1], 3);
        assert_int_equal(x.dims[2], 4);
        for (size_t i = 0; i < 24; i++)
            assert_int_equal(x.data[i], i);
        qex_idx_free(&x);
        qex_idx_free(&x); /* idempotent */
        /* Wrong rank for labels. */
        assert_int_equal(qex_idx_read_labels(path_of("%s", names[k]), 0, &x, &err), -1);
        assert_non_null(strstr(err.msg, "3 dims, expected 1"));
        assert_null(x.data);
    }
    qex_idx_free(NULL);
}

typedef struct bad_case {
    const char *file;
    const char *expect; /* substring of the message */
} bad_case;

static void test_idx_hostile(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"idx/bad_magic.idx", "bad magic"},
        {"idx/bad_type.idx", "type code 0x0d"},
        {"idx/bad_ndim0.idx", "0 dims"},
        {"idx/bad_ndim5.idx", "5 dims"},
        {"idx/bad_zero_dim.idx", "dimension 1 is 0"},
        {"idx/bad_short_header.idx", "truncated header"},
        {"idx/bad_tiny.idx", "truncated"},
        {"idx/bad_empty.idx", "truncated"},
        {"idx/bad_lying_count.idx", "truncated: header promises 12000"},
        {"idx/bad_lying_count.idx.gz", "truncated: header promises 12000"},
        {"idx/bad_huge_dims.idx", "limit"},
        {"idx/bad_trailing.idx", "1 bytes of trailing data"},
        {"idx/bad_trailing.idx.gz", "trailing data"},
        {"idx/bad_trailing_big.idx.gz", "at least 64 bytes of trailing data"},
        {"idx/bad_not_gzip.idx.gz", "not gzip-compressed"},
        {"idx/bad_cut_stream.idx.gz", "gzip"},
        {"idx/bad_crc.idx.gz", "corrupt gzip data: incorrect data check"},
        {"idx/does_not_exist.idx", "cannot open"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = path_of("%s", cases[i].file);
        qex_idx x;
        qex_err err = {{0}};
        memset(&x, 0x5a, sizeof x);
        int r = qex_idx_read(p, 0, &x, &err);
        if (r != -1 || !strstr(err.msg, cases[i].expect) || !strstr(err.msg, p))
            fail_msg("%s: r=%d msg='%s', want '%s'", cases[i].file, r, err.msg, cases[i].expect);
        if (getenv("QSIM_TEST_VERBOSE"))
            printf("# %s\n", err.msg);
        assert_null(x.data);
        assert_int_equal(x.count, 0);
    }
    /* A label outside 0..9 for a 10-class set. */
    qex_idx lab;
    qex_err err = {{0}};
    assert_int_equal(qex_idx_read_labels(path_of("idx/labels_range.idx"), 10, &lab, &err), -1);
    assert_non_null(strstr(err.msg, "label 2 is 10"));
    assert_null(lab.data);
    assert_int_equal(qex_idx_read_labels(path_of("idx/labels_range.idx"), 11, &lab, &err), 0);
    qex_idx img;
    assert_int_equal(qex_idx_read_images(path_of("idx/ok3.idx"), &img, &err), 0);
    assert_int_equal(qex_idx_check_pair(&img, &lab, &err), -1);
    assert_non_null(strstr(err.msg, "2 images but 4 labels"));
    qex_idx_free(&img);
    assert_int_equal(qex_idx_read(path_of("idx/ok3.idx"), 9, &img, &err), -1);
    assert_non_null(strstr(err.msg, "at most 4"));
    qex_idx_free(&lab);
}

/* Every byte of a small gzip IDX file flipped a few ways, and every prefix:
 * each read must succeed with the right size or fail with a message. */
static void test_idx_mutations(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = slurp(path_of("idx/ok3.idx.gz"), &len);
    assert_non_null(buf);
    const char *tmp = path_of("idx/mutant.idx.gz");
    static const unsigned char xors[] = {0x01, 0x80, 0xff};
    size_t ok = 0, failed = 0;
    for (size_t i = 0; i <= len; i++) {
        for (size_t v = 0; v < sizeof xors + 1; v++) {
            FILE *f = fopen(tmp, "wb");
            assert_non_null(f);
            if (v == sizeof xors) { /* prefix of i bytes */
                if (i < len)
                    assert_int_equal(fwrite(buf, 1, i, f), i);
            } else if (i < len) {
                buf[i] ^= xors[v];
                assert_int_equal(fwrite(buf, 1, len, f), len);
                buf[i] ^= xors[v];
            }
            fclose(f);
            qex_idx x;
            qex_err err = {{0}};
            if (qex_idx_read(tmp, 0, &x, &err) == 0) {
                size_t n = 1;
                for (unsigned d = 0; d < x.ndim; d++)
                    n *= x.dims[d];
                assert_int_equal(n, x.count);
                ok++;
                qex_idx_free(&x);
            } else {
                assert_non_null(strstr(err.msg, tmp));
                assert_null(x.data);
                failed++;
            }
        }
    }
    assert_true(failed > len); /* most damage is detected (gzip CRC) */
    assert_true(ok > 0);       /* e.g. flips in the header's mtime field */
    free(buf);
}

/* ---- .npy ---- */

static void test_npy_valid(void **state)
{
    (void)state;
    static const char *cases[] = {"f4_2x3", "f4_nchw", "f8_5", "u1_2x2x2", "i1_4", "i4_3", "i8_4",
                                  "f2_6", "b1_3", "scalar", "empty_0x3", "v2_f4", "v3_f4",
                                  "rank8", "bighdr"};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        qex_npy a;
        qex_err err = {{0}};
        if (qex_npy_read(path_of("npy/%s.npy", cases[c]), &a, &err) != 0)
            fail_msg("%s: %s", cases[c], err.msg);
        size_t len;
        char *shape = (char *)slurp(path_of("npy/%s.shape", cases[c]), &len);
        assert_non_null(shape);
        shape[len] = 0;
        char *p = shape;
        size_t ndim = strtoul(p, &p, 10), count = 1;
        assert_int_equal(a.ndim, ndim);
        for (size_t i = 0; i < ndim; i++) {
            size_t d = strtoul(p, &p, 10);
            assert_int_equal(a.shape[i], d);
            count *= d;
        }
        free(shape);
        assert_int_equal(a.count, count);
        unsigned char *want = slurp(path_of("npy/%s.f32", cases[c]), &len);
        assert_non_null(want);
        assert_int_equal(len, count * sizeof(float));
        if (count)
            assert_memory_equal(want, a.data, len); /* bit-exact, incl. inf and -0 */
        else
            assert_null(a.data);
        free(want);
        qex_npy_free(&a);
    }
    qex_npy_free(NULL);
}

static void test_npy_hostile(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"npy/bad_fortran.npy", "fortran_order"},
        {"npy/bad_bigendian.npy", "unsupported .npy dtype '>f4'"},
        {"npy/bad_object.npy", "unsupported .npy dtype '|O'"},
        {"npy/bad_struct.npy", "quoted string"},
        {"npy/bad_c8.npy", "'<c8'"},
        {"npy/bad_truncated.npy", "(truncated)"},
        {"npy/bad_trailing.npy", "(trailing data)"},
        {"npy/bad_hlen_huge.npy", "exceeds"},
        {"npy/bad_hlen_past_end.npy", "truncated .npy header"},
        {"npy/bad_magic.npy", "bad magic"},
        {"npy/bad_short.npy", "bad magic"},
        {"npy/bad_empty.npy", "bad magic"},
        {"npy/bad_version.npy", "version 4.0"},
        {"npy/bad_overflow.npy", "overflows"},
        {"npy/bad_dimdigits.npy", "too large"},
        {"npy/bad_negdim.npy", "tuple of integers"},
        {"npy/bad_rank9.npy", "more than 8 dims"},
        {"npy/bad_nokey.npy", "lacks 'shape'"},
        {"npy/bad_extrakey.npy", "key 'x'"},
        {"npy/bad_dupkey.npy", "repeated key 'descr'"},
        {"npy/bad_unterminated.npy", "unterminated"},
        {"npy/bad_nul.npy", "NUL"},
        {"npy/bad_garbage_after.npy", "text after the closing '}'"},
        {"npy/bad_notdict.npy", "expected '{'"},
        {"npy/bad_fortran_value.npy", "True or False"},
        {"npy/nothere.npy", "cannot open"},
        {"npy", "not a regular file"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = path_of("%s", cases[i].file);
        qex_npy a;
        qex_err err = {{0}};
        int r = qex_npy_read(p, &a, &err);
        if (r != -1 || !strstr(err.msg, cases[i].expect) || !strstr(err.msg, p))
            fail_msg("%s: r=%d msg='%s', want '%s'", cases[i].file, r, err.msg, cases[i].expect);
        if (getenv("QSIM_TEST_VERBOSE"))
            printf("# %s\n", err.msg);
        assert_null(a.data);
    }
}

/* Every prefix of a valid file, and every single-byte corruption of its
 * header, must either parse or fail cleanly (valgrind/ASan see the rest). */
static void test_npy_mutations(void **state)
{
    (void)state;
    size_t len;
    unsigned char *buf = slurp(path_of("npy/f4_2x3.npy"), &len);
    assert_non_null(buf);
    for (size_t n = 0; n < len; n++) {
        unsigned char *copy = malloc(n ? n : 1); /* exact size: overreads are caught */
        assert_non_null(copy);
        memcpy(copy, buf, n);
        qex_npy a;
        qex_err err = {{0}};
        assert_int_equal(qex_npy_parse(copy, n, "prefix", &a, &err), -1);
        free(copy);
    }
    static const unsigned char vals[] = {0, '\'', '"', '(', ')', ',', '{', '}', ':', '9', 'T',
                                         ' ', 0xff, 0x80, '\\', 'L'};
    size_t ok = 0;
    for (size_t i = 0; i < 128 && i < len; i++) {
        for (size_t v = 0; v < sizeof vals; v++) {
            unsigned char *copy = malloc(len);
            assert_non_null(copy);
            memcpy(copy, buf, len);
            copy[i] = vals[v];
            qex_npy a;
            qex_err err = {{0}};
            if (qex_npy_parse(copy, len, "mutant", &a, &err) == 0) {
                ok++;
                qex_npy_free(&a);
            } else {
                assert_true(strlen(err.msg) > 0);
            }
            free(copy);
        }
    }
    assert_true(ok > 0); /* e.g. padding spaces replaced by spaces */
    free(buf);
}

/* ---- input lists ---- */

static void expect_raw(const char *path, const float *want, size_t n)
{
    float got[8];
    qex_err err = {{0}};
    if (qex_raw_read_f32(path, n, got, &err) != 0)
        fail_msg("%s", err.msg);
    assert_memory_equal(got, want, n * sizeof(float));
}

static void test_input_list_valid(void **state)
{
    (void)state;
    static const float a[] = {1.0f, -2.0f, 3.5f, 1e-3f}, b[] = {7.25f, -0.5f},
                       c[] = {0, 1, 2, 3};
    qex_input_list l;
    qex_err err = {{0}};
    if (qex_input_list_read(path_of("lists/ok_pos.txt"), &l, &err) != 0)
        fail_msg("%s", err.msg);
    assert_int_equal(l.n_samples, 2);
    assert_int_equal(l.n_inputs, 2);
    assert_int_equal(l.named, 0);
    assert_int_equal(l.samples[0].line, 2);
    assert_int_equal(l.samples[1].line, 5);
    assert_null(l.samples[0].entries[0].name);
    assert_string_equal(l.samples[0].entries[0].path, path_of("lists/a.raw"));
    assert_string_equal(l.samples[0].entries[1].path, path_of("lists/sub/c.raw"));
    assert_string_equal(l.samples[1].entries[0].path, path_of("lists/sub/../a.raw"));
    expect_raw(l.samples[1].entries[0].path, a, 4);
    expect_raw(l.samples[1].entries[1].path, c, 4); /* absolute, \r stripped */
    qex_input_list_free(&l);

    assert_int_equal(qex_input_list_read(path_of("lists/ok_named.txt"), &l, &err), 0);
    assert_int_equal(l.n_samples, 2);
    assert_int_equal(l.named, 1);
    assert_string_equal(l.samples[1].entries[0].name, "y");
    expect_raw(qex_input_sample_find(&l.samples[0], "x"), a, 4);
    expect_raw(qex_input_sample_find(&l.samples[0], "y"), b, 2);
    expect_raw(qex_input_sample_find(&l.samples[1], "x"), c, 4);
    assert_null(qex_input_sample_find(&l.samples[1], "z"));
    qex_input_list_free(&l);

    assert_int_equal(qex_input_list_read(path_of("lists/sub/ok_nested.txt"), &l, &err), 0);
    assert_int_equal(l.n_samples, 2);
    expect_raw(l.samples[0].entries[0].path, a, 4);
    expect_raw(l.samples[1].entries[0].path, c, 4);
    qex_input_list_free(&l);

    assert_int_equal(qex_input_list_read(path_of("lists/ok_abs.txt"), &l, &err), 0);
    expect_raw(l.samples[0].entries[0].path, a, 4);
    qex_input_list_free(&l);
    qex_input_list_free(NULL);

    /* Wrong sizes. */
    float buf[8];
    assert_int_equal(qex_raw_read_f32(path_of("lists/a.raw"), 3, buf, &err), -1);
    assert_non_null(strstr(err.msg, "16 bytes, expected 3 float32 values (12 bytes)"));
    assert_int_equal(qex_raw_read_f32(path_of("lists/b.raw"), 4, buf, &err), -1);
    assert_non_null(strstr(err.msg, "8 bytes, expected 4 float32 values (16 bytes)"));
    assert_int_equal(qex_raw_read_f32(path_of("lists/b.raw"), SIZE_MAX / 2, buf, &err), -1);
    assert_int_equal(qex_raw_read_f32(path_of("lists/none.raw"), 1, buf, &err), -1);
    assert_non_null(strstr(err.msg, "cannot open"));
}

static void test_input_list_hostile(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"lists/bad_missing.txt", ":2: input file"},
        {"lists/bad_mixed.txt", ":1: line mixes named"},
        {"lists/bad_mixed_lines.txt", ":2: positional entries, but line 1 uses named"},
        {"lists/bad_count.txt", ":2: 1 inputs, but line 1 has 2"},
        {"lists/bad_names.txt", ":2: input 'z' is not among"},
        {"lists/bad_dup.txt", ":1: input 'x' given twice"},
        {"lists/bad_emptyname.txt", "needs a name and a path"},
        {"lists/bad_emptypath.txt", "needs a name and a path"},
        {"lists/bad_dir.txt", "not a regular file"},
        {"lists/bad_comments_only.txt", "no samples"},
        {"lists/bad_empty.txt", "no samples"},
        {"lists/bad_nul.txt", "NUL"},
        {"lists/nothere.txt", "cannot open"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = path_of("%s", cases[i].file);
        qex_input_list l;
        qex_err err = {{0}};
        int r = qex_input_list_read(p, &l, &err);
        if (r != -1 || !strstr(err.msg, cases[i].expect) || !strstr(err.msg, p))
            fail_msg("%s: r=%d msg='%s', want '%s'", cases[i].file, r, err.msg, cases[i].expect);
        if (getenv("QSIM_TEST_VERBOSE"))
            printf("# %s\n", err.msg);
        assert_int_equal(l.n_samples, 0);
        assert_null(l.samples);
    }
    /* The missing file is named. */
    qex_input_list l;
    qex_err err = {{0}};
    assert_int_equal(qex_input_list_read(path_of("lists/bad_missing.txt"), &l, &err), -1);
    assert_non_null(strstr(err.msg, "nothere.raw"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idx_fmnist),
        cmocka_unit_test(test_idx_small),
        cmocka_unit_test(test_idx_hostile),
        cmocka_unit_test(test_idx_mutations),
        cmocka_unit_test(test_npy_valid),
        cmocka_unit_test(test_npy_hostile),
        cmocka_unit_test(test_npy_mutations),
        cmocka_unit_test(test_input_list_valid),
        cmocka_unit_test(test_input_list_hostile),
    };
    return cmocka_run_group_tests_name("readers", tests, setup_group, NULL);
}
