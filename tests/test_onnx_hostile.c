/* Hostile input for the ONNX loader: broken models from
 * tests/tools/gen_models.py (bad_*), truncations of a real resnet18, random
 * and mutated bytes, deep nesting, memory amplification and allocation
 * failure at every step. Each must give a non-OK status and a message
 * naming the problem, never a crash or a leak (run under valgrind/ASan).
 * argv[1] is the folder the models were generated into. */
#include "core/alloc.h"
#include "onnx/graph.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *model_dir = ".";

static const char *model_path(const char *file)
{
    static char buf[1024];
    snprintf(buf, sizeof buf, "%s/%s", model_dir, file);
    return buf;
}

static unsigned char *read_all(const char *file, size_t *size)
{
    FILE *f = fopen(model_path(file), "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return buf;
}

static void expect_fail(qsim_status st, qsim_model *m, qsim_status want, const char *what,
                        const char *s1, const char *s2)
{
    if (st != want)
        fail_msg("%s: got %s (%s), want %s", what, qsim_status_string(st), qsim_last_error(),
                 qsim_status_string(want));
    assert_null(m);
    const char *e = qsim_last_error();
    if ((s1 && !strstr(e, s1)) || (s2 && !strstr(e, s2)))
        fail_msg("%s: message '%s' lacks '%s' / '%s'", what, e, s1, s2 ? s2 : "");
}

struct bad_case {
    const char *model;
    qsim_status status;
    const char *s1, *s2;
};

static const struct bad_case bad_cases[] = {
    {"bad_raw_short", QSIM_ERR_PARSE, "initializer 'w_short'", "too short"},
    {"bad_raw_long", QSIM_ERR_PARSE, "initializer 'w_long'", "too long"},
    {"bad_float_data_long", QSIM_ERR_PARSE, "initializer 'w_typed'", "too long"},
    {"bad_dim_2_62", QSIM_ERR_SHAPE, "initializer 'w_huge'", "4611686018427387904"},
    {"bad_input_dim_overflow", QSIM_ERR_SHAPE, "tensor 'x'", "overflow"},
    {"bad_rank9", QSIM_ERR_UNSUPPORTED, "tensor 'x9'", "rank 9"},
    {"bad_ext_dotdot", QSIM_ERR_UNSUPPORTED, "initializer 'w_dotdot'", "'../x'"},
    {"bad_ext_abs", QSIM_ERR_UNSUPPORTED, "initializer 'w_abs'", "absolute"},
    {"bad_ext_symlink", QSIM_ERR_UNSUPPORTED, "initializer 'w_link'", "outside"},
    {"bad_ext_missing", QSIM_ERR_IO, "initializer 'w_missing'", "no_such_file.bin"},
    {"bad_ext_short", QSIM_ERR_PARSE, "initializer 'w_extshort'", "needs 8"},
    {"bad_cycle", QSIM_ERR_PARSE, "cycle", "node 'n_"},
    {"bad_subgraph_cycle", QSIM_ERR_PARSE, "cycle", "node 'self_if' (If)"},
    {"bad_dup_producer", QSIM_ERR_PARSE, "tensor 'y' has two producers", "node 'second' (Neg)"},
    {"bad_dangling", QSIM_ERR_PARSE, "node 'adder' (Add): input 'ghost'", NULL},
    {"bad_dup_initializer", QSIM_ERR_PARSE, "initializer 'w_twice'", "twice"},
    {"bad_constant_novalue", QSIM_ERR_PARSE, "node 'empty_const' (Constant)", "no value"},
    {"bad_sparse_constant", QSIM_ERR_UNSUPPORTED, "node 'sparse_const' (Constant)", "sparse"},
    {"bad_output_undefined", QSIM_ERR_PARSE, "graph output 'y'", NULL},
    {"bad_int4_raw_short", QSIM_ERR_PARSE, "initializer 'w4_short'",
     "needs 3 (two values per byte) (data too short)"},
    {"bad_int4_raw_long", QSIM_ERR_PARSE, "initializer 'w4_long'", "of uint4 needs 2"},
    {"bad_int4_typed_count", QSIM_ERR_PARSE, "initializer 'w4_typed'",
     "int32_data has 3 values"},
    {"bad_int4_typed_value", QSIM_ERR_PARSE, "initializer 'w4_val'", "int32_data[0] = 300"},
    {"bad_int4_huge", QSIM_ERR_SHAPE, "initializer 'w4_huge'",
     "exceeds the tensor size limit"},
    {"bad_int4_dims_overflow", QSIM_ERR_SHAPE, "initializer 'w4_ovf'", NULL},
    {"bad_int4_constant", QSIM_ERR_PARSE, "const4", "needs 2"},
};

static void bad_models(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        char file[256];
        snprintf(file, sizeof file, "%s.onnx", c->model);
        qsim_model *m = NULL;
        qsim_status st = qsim_model_load(model_path(file), &m);
        expect_fail(st, m, c->status, c->model, c->s1, c->s2);
        /* file loads name the file first */
        assert_non_null(strstr(qsim_last_error(), file));
    }
}

static void missing_empty_and_directory(void **state)
{
    (void)state;
    qsim_model *m = NULL;
    expect_fail(qsim_model_load(model_path("no_such_model.onnx"), &m), m, QSIM_ERR_IO,
                "missing", "no_such_model.onnx", "No such file");
    char empty[1024];
    snprintf(empty, sizeof empty, "%s", model_path("hostile_empty.onnx"));
    FILE *f = fopen(empty, "wb");
    assert_non_null(f);
    fclose(f);
    expect_fail(qsim_model_load(empty, &m), m, QSIM_ERR_PARSE, "empty", "hostile_empty.onnx",
                "empty");
    expect_fail(qsim_model_load(model_dir, &m), m, QSIM_ERR_IO, "directory", model_dir, NULL);
    expect_fail(qsim_model_load_memory("", 0, &m), m, QSIM_ERR_PARSE, "empty buffer", "empty",
                NULL);
    /* a valid protobuf that is not a model: no graph */
    expect_fail(qsim_model_load_memory("\x08\x07", 2, &m), m, QSIM_ERR_PARSE, "no graph",
                "no graph", NULL);
}

static void resnet18_truncations(void **state)
{
    (void)state;
    size_t n;
    unsigned char *buf = read_all("resnet18.onnx", &n);
    for (int k = 1; k < 64; k++) {
        size_t len = n / 64 * (size_t)k;
        qsim_model *m = NULL;
        qsim_status st = qsim_model_load_memory(buf, len, &m);
        char what[64];
        snprintf(what, sizeof what, "truncated at %zu", len);
        expect_fail(st, m, QSIM_ERR_PARSE, what, "truncated or not ONNX", NULL);
    }
    /* the first bytes alone */
    for (size_t len = 1; len < 64; len++) {
        qsim_model *m = NULL;
        qsim_status st = qsim_model_load_memory(buf, len, &m);
        if (st == QSIM_OK)
            qsim_model_free(m);
        else
            assert_true(qsim_last_error()[0] != '\0');
    }
    free(buf);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void try_load(const unsigned char *buf, size_t len)
{
    qsim_model *m = NULL;
    qsim_status st = qsim_model_load_memory(buf, len, &m);
    if (st == QSIM_OK) {
        /* whatever loaded must be introspectable */
        for (size_t i = 0; i < qsim_model_node_count(m); i++)
            assert_non_null(qsim_model_node_op_type(m, i));
        qsim_model_free(m);
    } else {
        assert_null(m);
        assert_true(qsim_last_error()[0] != '\0');
    }
}

static void random_bytes(void **state)
{
    (void)state;
    unsigned char buf[4096];
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = 1 + rnd() % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)rnd();
        /* half of them look like a ModelProto with a graph field */
        if (iter & 1) {
            buf[0] = 0x3a;
            buf[1] = (unsigned char)(len > 2 ? (len - 3) & 0x7f : 0);
        }
        try_load(buf, len);
    }
}

static void mutated_models(void **state)
{
    (void)state;
    const char *models[] = {"symbolic_batch.onnx", "constant_weights.onnx", "typed_data.onnx",
                            "if_subgraph.onnx"};
    for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
        size_t n;
        unsigned char *orig = read_all(models[k], &n);
        unsigned char *buf = malloc(n);
        assert_non_null(buf);
        for (int iter = 0; iter < 600; iter++) {
            memcpy(buf, orig, n);
            int flips = 1 + (int)(rnd() % 4);
            for (int f = 0; f < flips; f++) {
                size_t at = (size_t)(rnd() % n);
                switch (rnd() % 3) {
                case 0: buf[at] ^= (unsigned char)(1u << (rnd() % 8)); break;
                case 1: buf[at] = (unsigned char)rnd(); break;
                default: buf[at] = (unsigned char)(rnd() & 1 ? 0xff : 0x00); break;
                }
            }
            try_load(buf, iter % 5 == 0 ? (size_t)(rnd() % n) : n);
        }
        free(buf);
        free(orig);
    }
}

/* Appends a varint. */
static size_t put_varint(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    do {
        p[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v > 0x7f) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Model > Graph > Node > Attribute(g) > Graph > ... nested 60,000 deep
 * (protobuf-c alone would recurse once per level). Lengths are computed
 * from the inside out, then the wrappers written from the outside in. */
static void deep_nesting(void **state)
{
    (void)state;
    const size_t wrappers = 60000;
    /* AttributeProto.g = 6, NodeProto.attribute = 5, GraphProto.node = 1,
     * repeating outwards; the outermost is ModelProto.graph = 7. */
    static const unsigned char tags[3] = {0x32, 0x2a, 0x0a};
    uint64_t *lens = malloc((wrappers + 1) * sizeof *lens);
    assert_non_null(lens);
    lens[0] = 0; /* innermost: an empty GraphProto */
    for (size_t j = 0; j < wrappers; j++)
        lens[j + 1] = 1 + varint_len(lens[j]) + lens[j];
    size_t total = 1 + varint_len(lens[wrappers]) + lens[wrappers];
    unsigned char *buf = malloc(total);
    assert_non_null(buf);
    size_t h = 0;
    buf[h++] = 0x3a;
    h += put_varint(buf + h, lens[wrappers]);
    for (size_t j = wrappers; j-- > 0;) {
        buf[h++] = tags[j % 3];
        h += put_varint(buf + h, lens[j]);
    }
    assert_int_equal(h, total);
    qsim_model *m = NULL;
    expect_fail(qsim_model_load_memory(buf, total, &m), m, QSIM_ERR_PARSE, "deep", "deeper",
                NULL);
    free(lens);
    free(buf);
}

/* 2-byte empty initializers each unpack to a ~200-byte TensorProto: the
 * unpack budget refuses the expansion instead of exhausting memory. */
static void amplification(void **state)
{
    (void)state;
    const size_t count = 600000;
    size_t glen = count * 2;
    unsigned char *buf = malloc(glen + 16);
    assert_non_null(buf);
    size_t h = 0;
    buf[h++] = 0x3a;
    h += put_varint(buf + h, glen);
    for (size_t i = 0; i < count; i++) {
        buf[h++] = 0x2a; /* GraphProto.initializer = 5 */
        buf[h++] = 0x00;
    }
    qsim_model *m = NULL;
    expect_fail(qsim_model_load_memory(buf, h, &m), m, QSIM_ERR_PARSE, "amplification",
                "memory", NULL);
    free(buf);
}

/* Fail the 1st, 2nd, ... allocation of a load until it succeeds: each
 * failure is QSIM_ERR_OUT_OF_MEMORY and frees everything (valgrind). */
static void oom_loop_one(const char *file, int from_memory)
{
    size_t n = 0;
    unsigned char *buf = from_memory ? read_all(file, &n) : NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s", model_path(file));
    for (size_t k = 1;; k++) {
        qsim_model *m = NULL;
        qsim__alloc_fail_after(k);
        qsim_status st = from_memory ? qsim_model_load_memory(buf, n, &m)
                                     : qsim_model_load(path, &m);
        qsim__alloc_fail_after(0);
        if (st == QSIM_OK) {
            assert_true(k > 10);
            qsim_model_free(m);
            break;
        }
        if (st != QSIM_ERR_OUT_OF_MEMORY)
            fail_msg("%s, allocation %zu failing: %s (%s)", file, k, qsim_status_string(st),
                     qsim_last_error());
        assert_null(m);
        assert_non_null(strstr(qsim_last_error(), "out of memory"));
        assert_true(k < 100000);
    }
    free(buf);
}

static void out_of_memory(void **state)
{
    (void)state;
    oom_loop_one("symbolic_batch.onnx", 1);
    oom_loop_one("constant_weights.onnx", 0);
    oom_loop_one("external_data.onnx", 0);
    oom_loop_one("typed_data.onnx", 1);
    oom_loop_one("if_subgraph.onnx", 1);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        model_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_models),
        cmocka_unit_test(missing_empty_and_directory),
        cmocka_unit_test(resnet18_truncations),
        cmocka_unit_test(random_bytes),
        cmocka_unit_test(mutated_models),
        cmocka_unit_test(deep_nesting),
        cmocka_unit_test(amplification),
        cmocka_unit_test(out_of_memory),
    };
    return cmocka_run_group_tests_name("onnx_hostile", tests, NULL, NULL);
}
