/* The ONNX loader on real models, checked against the onnx Python package's
 * own view of each file: tests/tools/gen_models.py writes MODEL.json next to
 * MODEL.onnx with onnx.load + numpy_helper (node list, inputs/outputs with
 * symbolic dims, initializer shapes, sums and first values, Constant data).
 * argv[1] is the folder the models were generated into. */
#include "core/alloc.h"
#include "onnx/graph.h"
#include "onnx.pb-c.h"

#include <jansson.h>
#include <pthread.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

static const char *model_dir = ".";

static char *model_path(const char *name, const char *ext)
{
    static char buf[4][1024];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s%s", model_dir, name, ext);
    return buf[k];
}

static qsim_model *load_ok(const char *name)
{
    qsim_model *m = NULL;
    qsim_status st = qsim_model_load(model_path(name, ".onnx"), &m);
    if (st != QSIM_OK)
        fail_msg("loading %s: %s: %s", name, qsim_status_string(st), qsim_last_error());
    assert_non_null(m);
    return m;
}

static json_t *load_json(const char *name)
{
    json_error_t err;
    json_t *j = json_load_file(model_path(name, ".json"), 0, &err);
    if (!j)
        fail_msg("%s.json: %s", name, err.text);
    return j;
}

/* Element i of a constant tensor as double, whatever its type. */
static double elem(const qsim__tensor *t, size_t i)
{
    switch (t->dtype) {
    case QSIM__DT_FLOAT: return ((const float *)t->data)[i];
    case QSIM__DT_DOUBLE: return ((const double *)t->data)[i];
    case QSIM__DT_INT8: return ((const int8_t *)t->data)[i];
    case QSIM__DT_UINT8: return ((const uint8_t *)t->data)[i];
    case QSIM__DT_BOOL: return ((const uint8_t *)t->data)[i];
    case QSIM__DT_INT16: return ((const int16_t *)t->data)[i];
    case QSIM__DT_UINT16: return ((const uint16_t *)t->data)[i];
    case QSIM__DT_INT32: return ((const int32_t *)t->data)[i];
    case QSIM__DT_UINT32: return ((const uint32_t *)t->data)[i];
    case QSIM__DT_INT64: return (double)((const int64_t *)t->data)[i];
    case QSIM__DT_UINT64: return (double)((const uint64_t *)t->data)[i];
    case QSIM__DT_FLOAT16: {
        /* IEEE half -> double, independent of the library's converters. */
        uint16_t h = ((const uint16_t *)t->data)[i];
        int e = (h >> 10) & 0x1f, f = h & 0x3ff;
        double v = e == 0 ? ldexp(f, -24) : e == 31 ? INFINITY : ldexp(f + 1024, e - 25);
        return (h & 0x8000) ? -v : v;
    }
    default: fail_msg("unexpected dtype %d", t->dtype);
    }
    return 0;
}

static void check_close(double got, double want, const char *what)
{
    double tol = 1e-9 * fmax(1.0, fabs(want));
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.17g, onnx says %.17g", what, got, want);
}

static void check_tensor_json(const qsim__tensor *t, json_t *ji, const char *what)
{
    json_t *dims = json_object_get(ji, "dims");
    assert_int_equal(t->shape.rank, json_array_size(dims));
    for (size_t d = 0; d < json_array_size(dims); d++)
        assert_int_equal(t->shape.dims[d], json_integer_value(json_array_get(dims, d)));
    double sum = 0;
    for (size_t i = 0; i < t->numel; i++)
        sum += elem(t, i);
    check_close(sum, json_number_value(json_object_get(ji, "sum")), what);
    json_t *first = json_object_get(ji, "first");
    for (size_t i = 0; first && i < json_array_size(first); i++)
        check_close(elem(t, i), json_number_value(json_array_get(first, i)), what);
}

/* Graph inputs/outputs: names, element types, dims (symbolic by name). */
static void check_io(const qsim_model *m, json_t *arr, int outputs)
{
    size_t n = outputs ? qsim_model_output_count(m) : qsim_model_input_count(m);
    assert_int_equal(n, json_array_size(arr));
    for (size_t i = 0; i < n; i++) {
        json_t *jo = json_array_get(arr, i);
        const char *name = outputs ? qsim_model_output_name(m, i) : qsim_model_input_name(m, i);
        assert_string_equal(name, json_string_value(json_object_get(jo, "name")));
        int32_t elem_type;
        int64_t rank, dims[QSIM__MAX_RANK];
        assert_int_equal(qsim_model_tensor_info(m, name, &elem_type, &rank, dims, QSIM__MAX_RANK),
                         QSIM_OK);
        assert_int_equal(elem_type, json_integer_value(json_object_get(jo, "elem_type")));
        json_t *jd = json_object_get(jo, "dims");
        if (json_is_null(jd)) {
            assert_int_equal(rank, -1);
            continue;
        }
        assert_int_equal(rank, json_array_size(jd));
        for (size_t d = 0; d < (size_t)rank; d++) {
            json_t *x = json_array_get(jd, d);
            const char *param = qsim_model_tensor_dim_param(m, name, d);
            assert_non_null(param);
            if (json_is_string(x)) {
                assert_int_equal(dims[d], -1);
                assert_string_equal(param, json_string_value(x));
            } else if (json_is_integer(x)) {
                assert_int_equal(dims[d], json_integer_value(x));
                assert_string_equal(param, "");
            } else {
                assert_int_equal(dims[d], -1);
            }
        }
        assert_null(qsim_model_tensor_dim_param(m, name, (size_t)rank));
    }
}

/* Internal consistency every module relies on (graph.h's contract). */
static void check_graph_invariants(const qsim__graph *g)
{
    size_t slots = 0, listed = 0;
    for (size_t i = 0; i < g->n_nodes; i++) {
        const qsim__node *n = &g->nodes[i];
        for (size_t k = 0; k < n->n_inputs; k++) {
            int32_t v = n->inputs[k];
            if (v < 0)
                continue;
            slots++;
            assert_true(v < (int32_t)g->n_values);
            /* topological: producers come first */
            assert_true(g->values[v].producer < (int32_t)i);
        }
        for (size_t k = 0; k < n->n_implicit; k++)
            assert_true(g->values[n->implicit_inputs[k]].producer < (int32_t)i);
        for (size_t k = 0; k < n->n_outputs; k++)
            if (n->outputs[k] >= 0)
                assert_int_equal(g->values[n->outputs[k]].producer, (int32_t)i);
        assert_int_equal(n->opset, qsim__graph_opset(g, n->domain));
    }
    for (size_t v = 0; v < g->n_values; v++) {
        const qsim__value *val = &g->values[v];
        assert_int_equal(qsim__graph_find(g, val->name), (int32_t)v);
        listed += val->n_consumers;
        for (size_t c = 0; c < val->n_consumers; c++) {
            if (c)
                assert_true(val->consumers[c - 1] <= val->consumers[c]);
            const qsim__node *n = &g->nodes[val->consumers[c]];
            int uses = 0;
            for (size_t k = 0; k < n->n_inputs; k++)
                uses += n->inputs[k] == (int32_t)v;
            assert_true(uses > 0);
        }
        if (val->is_initializer) {
            assert_non_null(val->constant);
            assert_false(val->is_graph_input);
            assert_int_equal(val->producer, -1);
        }
    }
    assert_int_equal(slots, listed);
}

/* Everything the JSON reference says about a model. */
static void check_against_onnx(const char *name)
{
    qsim_model *m = load_ok(name);
    json_t *j = load_json(name);
    const qsim__graph *g = &m->graph;

    json_t *nodes = json_object_get(j, "nodes");
    assert_int_equal(qsim_model_node_count(m), json_array_size(nodes));
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        json_t *jn = json_array_get(nodes, i);
        assert_string_equal(qsim_model_node_name(m, i), json_string_value(json_array_get(jn, 0)));
        assert_string_equal(qsim_model_node_op_type(m, i),
                            json_string_value(json_array_get(jn, 1)));
        json_t *ins = json_array_get(jn, 2), *outs = json_array_get(jn, 3);
        assert_int_equal(qsim_model_node_input_count(m, i), json_array_size(ins));
        for (size_t k = 0; k < json_array_size(ins); k++)
            assert_string_equal(qsim_model_node_input(m, i, k),
                                json_string_value(json_array_get(ins, k)));
        assert_int_equal(qsim_model_node_output_count(m, i), json_array_size(outs));
        for (size_t k = 0; k < json_array_size(outs); k++)
            assert_string_equal(qsim_model_node_output(m, i, k),
                                json_string_value(json_array_get(outs, k)));
        assert_null(qsim_model_node_input(m, i, json_array_size(ins)));
        assert_null(qsim_model_node_output(m, i, json_array_size(outs)));
    }
    check_io(m, json_object_get(j, "inputs"), 0);
    check_io(m, json_object_get(j, "outputs"), 1);

    json_t *ops = json_object_get(j, "opsets");
    assert_int_equal(qsim_model_opset_count(m), json_array_size(ops));
    for (size_t i = 0; i < json_array_size(ops); i++) {
        assert_string_equal(qsim_model_opset_domain(m, i),
                            json_string_value(json_array_get(json_array_get(ops, i), 0)));
        assert_int_equal(qsim_model_opset_version(m, i),
                         json_integer_value(json_array_get(json_array_get(ops, i), 1)));
    }
    assert_int_equal(g->ir_version, json_integer_value(json_object_get(j, "ir_version")));

    json_t *inits = json_object_get(j, "initializers");
    assert_int_equal(qsim_model_initializer_count(m), json_array_size(inits));
    assert_int_equal(qsim_model_parameter_count(m),
                     json_integer_value(json_object_get(j, "param_count")));
    uint64_t bytes = 0;
    for (size_t i = 0; i < json_array_size(inits); i++) {
        json_t *ji = json_array_get(inits, i);
        const char *iname = json_string_value(json_object_get(ji, "name"));
        const qsim__value *v = &g->values[g->initializers[i]];
        assert_string_equal(v->name, iname);
        assert_int_equal(v->elem_type, json_integer_value(json_object_get(ji, "dtype")));
        check_tensor_json(v->constant, ji, iname);
        bytes += v->constant->numel * qsim__dtype_size(v->constant->dtype);
    }
    assert_int_equal(qsim_model_parameter_bytes(m), bytes);

    json_t *consts = json_object_get(j, "constants");
    for (size_t i = 0; i < json_array_size(consts); i++) {
        json_t *jc = json_array_get(consts, i);
        const char *cname = json_string_value(json_object_get(jc, "name"));
        int32_t idx = qsim__graph_find(g, cname);
        assert_true(idx >= 0);
        assert_non_null(g->values[idx].constant);
        assert_false(g->values[idx].is_initializer);
        check_tensor_json(g->values[idx].constant, jc, cname);
    }
    check_graph_invariants(g);
    json_decref(j);
    qsim_model_free(m);
}

static void resnet18_matches_onnx(void **state)
{
    (void)state;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    qsim_model *m = load_ok("resnet18");
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("# resnet18 load: %.3f s\n", (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec));
    qsim_model_free(m);
    check_against_onnx("resnet18");
}

static void symbolic_batch_matches_onnx(void **state)
{
    (void)state;
    check_against_onnx("symbolic_batch");
    qsim_model *m = load_ok("symbolic_batch");
    assert_string_equal(qsim_model_tensor_dim_param(m, "input", 0), "batch");
    assert_string_equal(qsim_model_tensor_dim_param(m, "input", 1), "");
    qsim_model_free(m);
}

static void old_opset_initializers_are_not_inputs(void **state)
{
    (void)state;
    check_against_onnx("old_opset");
    qsim_model *m = load_ok("old_opset");
    /* the file lists 5 graph inputs: the image and 4 initializers */
    assert_int_equal(((Onnx__ModelProto *)m->proto)->graph->n_input, 5);
    assert_int_equal(qsim_model_input_count(m), 1);
    assert_string_equal(qsim_model_input_name(m, 0), "input");
    assert_int_equal(qsim__graph_opset(&m->graph, ""), 9);
    assert_int_equal(qsim__graph_opset(&m->graph, "ai.onnx"), 9);
    assert_int_equal(qsim__graph_opset(&m->graph, "com.example"), 0);
    qsim_model_free(m);
}

static void external_data_matches_onnx(void **state)
{
    (void)state;
    check_against_onnx("external_data");
}

static void constant_weights_match_onnx(void **state)
{
    (void)state;
    check_against_onnx("constant_weights");
    qsim_model *m = load_ok("constant_weights");
    const qsim__graph *g = &m->graph;
    const qsim__value *w = &g->values[qsim__graph_find(g, "W")];
    assert_int_equal(w->elem_type, QSIM__DT_FLOAT);
    assert_int_equal(w->rank, 4);
    assert_int_equal(w->dims[0], 3);
    assert_int_equal(g->nodes[w->producer].op_type[0], 'C');
    const qsim__value *k = &g->values[qsim__graph_find(g, "scale")];
    assert_int_equal(k->rank, 0);
    assert_true(*(const float *)k->constant->data == 0.5f);
    const qsim__value *s = &g->values[qsim__graph_find(g, "shape")];
    assert_int_equal(s->elem_type, QSIM__DT_INT64);
    assert_int_equal(((const int64_t *)s->constant->data)[1], 75);
    qsim_model_free(m);
}

static void typed_fields_match_onnx(void **state)
{
    (void)state;
    check_against_onnx("typed_data");
    qsim_model *m = load_ok("typed_data");
    const qsim__graph *g = &m->graph;
    const qsim__value *u = &g->values[qsim__graph_find(g, "u64")];
    assert_true(((const uint64_t *)u->constant->data)[1] == 9223372036854775813ull);
    const qsim__value *i = &g->values[qsim__graph_find(g, "i64")];
    assert_true(((const int64_t *)i->constant->data)[0] == -4611686018427387904ll);
    qsim_model_free(m);
}

/* Subgraph attributes are kept opaque; the model loads. */
static void if_subgraph_loads(void **state)
{
    (void)state;
    check_against_onnx("if_subgraph");
    qsim_model *m = load_ok("if_subgraph");
    const qsim__graph *g = &m->graph;
    const qsim__node *n = &g->nodes[1];
    assert_string_equal(n->op_type, "If");
    const qsim__attr *a = qsim__node_attr(n, "then_branch");
    assert_non_null(a);
    assert_int_equal(a->type, QSIM__ATTR_GRAPH);
    /* both branches read the outer 'r': one implicit input */
    assert_int_equal(n->n_implicit, 1);
    assert_string_equal(g->values[n->implicit_inputs[0]].name, "r");
    qsim_model_free(m);

    /* Loop > body > If > branch: 'scale' (made by a later node) and the
     * initializer 'flag' are read from two levels down; the body's own
     * 'acc_in' is not an outer value. */
    m = load_ok("loop_nested");
    assert_string_equal(qsim_model_node_name(m, 0), "make_scale");
    n = &m->graph.nodes[1];
    assert_string_equal(n->name, "loop");
    assert_int_equal(n->n_implicit, 2);
    const char *a0 = m->graph.values[n->implicit_inputs[0]].name;
    const char *a1 = m->graph.values[n->implicit_inputs[1]].name;
    assert_true((!strcmp(a0, "flag") && !strcmp(a1, "scale")) ||
                (!strcmp(a0, "scale") && !strcmp(a1, "flag")));
    assert_int_equal(n->n_inputs, 3);
    assert_int_equal(n->inputs[1], -1);
    assert_string_equal(qsim_model_node_input(m, 1, 1), "");
    check_graph_invariants(&m->graph);
    qsim_model_free(m);

    /* listed If-first, it still comes after the producer of 'r' */
    m = load_ok("if_unsorted");
    assert_string_equal(qsim_model_node_op_type(m, 0), "Abs");
    assert_string_equal(qsim_model_node_op_type(m, 1), "If");
    assert_int_equal(m->graph.nodes[1].proto_index, 0);
    check_graph_invariants(&m->graph);
    qsim_model_free(m);
}

static unsigned char *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
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

static void memory_load(void **state)
{
    (void)state;
    size_t n;
    unsigned char *buf = read_all(model_path("symbolic_batch", ".onnx"), &n);
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load_memory(buf, n, &m), QSIM_OK);
    free(buf);
    assert_int_equal(qsim_model_node_count(m), 5);
    assert_null(m->path);
    qsim_model_free(m);

    buf = read_all(model_path("external_data", ".onnx"), &n);
    m = NULL;
    assert_int_equal(qsim_model_load_memory(buf, n, &m), QSIM_ERR_UNSUPPORTED);
    assert_null(m);
    assert_non_null(strstr(qsim_last_error(), "initializer 'W'"));
    assert_non_null(strstr(qsim_last_error(), "memory"));
    free(buf);
}

static void api_edges(void **state)
{
    (void)state;
    qsim_model *m = NULL;
    assert_int_equal(qsim_model_load(NULL, &m), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_model_load("x.onnx", NULL), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_model_load_memory(NULL, 10, &m), QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_model_load_memory("", 0, NULL), QSIM_ERR_INVALID_ARGUMENT);
    qsim_model_free(NULL);
    assert_int_equal(qsim_model_input_count(NULL), 0);
    assert_null(qsim_model_input_name(NULL, 0));
    assert_int_equal(qsim_model_node_count(NULL), 0);
    assert_null(qsim_model_node_name(NULL, 0));
    assert_int_equal(qsim_model_opset_count(NULL), 0);
    assert_int_equal(qsim_model_parameter_count(NULL), 0);
    assert_int_equal(qsim__model_check(NULL, "fn"), QSIM_ERR_INVALID_ARGUMENT);
    assert_non_null(strstr(qsim_last_error(), "fn"));

    m = load_ok("symbolic_batch");
    assert_int_equal(qsim__model_check(m, "fn"), QSIM_OK);
    size_t nn = qsim_model_node_count(m);
    assert_null(qsim_model_node_name(m, nn));
    assert_null(qsim_model_node_op_type(m, nn));
    assert_int_equal(qsim_model_node_input_count(m, nn), 0);
    assert_null(qsim_model_node_input(m, nn, 0));
    assert_null(qsim_model_input_name(m, 1));
    assert_null(qsim_model_output_name(m, 1));
    assert_null(qsim_model_opset_domain(m, 1));
    int32_t et = 77;
    int64_t rank = 77, dims[4] = {0};
    assert_int_equal(qsim_model_tensor_info(m, "nope", &et, &rank, dims, 4), QSIM_ERR_NOT_FOUND);
    assert_non_null(strstr(qsim_last_error(), "nope"));
    assert_int_equal(qsim_model_tensor_info(m, "input", &et, &rank, dims, 3), QSIM_ERR_SHAPE);
    assert_int_equal(et, 77); /* outputs untouched on failure */
    assert_int_equal(qsim_model_tensor_info(m, "input", &et, &rank, NULL, 4),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_int_equal(qsim_model_tensor_info(NULL, "input", &et, &rank, dims, 4),
                     QSIM_ERR_INVALID_ARGUMENT);
    assert_null(qsim_model_tensor_dim_param(m, "nope", 0));
    /* shared ownership: the model lives until the last reference goes */
    qsim__model_retain(m);
    qsim_model_free(m);
    assert_int_equal(qsim_model_node_count(m), nn);
    qsim__model_release(m);
}

static void attribute_getters(void **state)
{
    (void)state;
    qsim_model *m = load_ok("resnet18");
    const qsim__graph *g = &m->graph;
    const qsim__node *conv = NULL;
    for (size_t i = 0; i < g->n_nodes && !conv; i++)
        if (strcmp(g->nodes[i].op_type, "Conv") == 0)
            conv = &g->nodes[i];
    assert_non_null(conv);
    assert_int_equal(conv->opset, 13);
    const int64_t *v;
    size_t n;
    assert_int_equal(qsim__attr_ints(conv, "pads", &v, &n), QSIM_OK);
    assert_int_equal(n, 4); /* resnet18's stem conv: 7x7, pads 3 */
    assert_int_equal(v[0], 3);
    assert_int_equal(qsim__attr_ints(conv, "strides", &v, &n), QSIM_OK);
    assert_int_equal(v[1], 2);
    int64_t group;
    assert_int_equal(qsim__attr_int(conv, "group", 1, &group), QSIM_OK);
    assert_int_equal(group, 1);
    assert_int_equal(qsim__attr_int(conv, "absent", 42, &group), QSIM_OK);
    assert_int_equal(group, 42);
    assert_int_equal(qsim__attr_ints(conv, "absent", &v, &n), QSIM_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    int64_t x;
    assert_int_equal(qsim__attr_int(conv, "pads", 0, &x), QSIM_ERR_PARSE);
    char want[256];
    snprintf(want, sizeof want, "node '%s' (Conv): attribute 'pads' has type INTS, expected INT",
             conv->name);
    assert_string_equal(qsim_last_error(), want);
    float f;
    assert_int_equal(qsim__attr_float(conv, "group", 0, &f), QSIM_ERR_PARSE);
    const char *s;
    assert_int_equal(qsim__attr_string(conv, "auto_pad", "NOTSET", &s), QSIM_OK);
    assert_string_equal(s, "NOTSET");
    const float *fv;
    assert_int_equal(qsim__attr_floats(conv, "pads", &fv, &n), QSIM_ERR_PARSE);
    assert_non_null(strstr(qsim__node_label(conv), "(Conv)"));
    qsim_model_free(m);
}

/* Out-of-order nodes come out topologically sorted; among ready nodes the
 * one listed first in the file goes first. */
static void unsorted_nodes_are_sorted(void **state)
{
    (void)state;
    qsim_model *m = load_ok("unsorted");
    const char *want[] = {"top", "right", "left", "join"};
    const size_t proto_index[] = {3, 1, 2, 0};
    assert_int_equal(qsim_model_node_count(m), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_string_equal(qsim_model_node_name(m, i), want[i]);
        assert_int_equal(m->graph.nodes[i].proto_index, proto_index[i]);
    }
    check_graph_invariants(&m->graph);
    const qsim__value *a = &m->graph.values[qsim__graph_find(&m->graph, "a")];
    assert_int_equal(a->producer, 0);
    assert_int_equal(a->n_consumers, 2);
    assert_int_equal(a->consumers[0], 1);
    assert_int_equal(a->consumers[1], 2);
    qsim_model_free(m);
}

/* Loads on several threads at once share nothing but read-only data; a
 * model loaded on one thread is read on another. */
static void *load_in_thread(void *arg)
{
    qsim_model **shared = arg;
    intptr_t bad = 0;
    for (int i = 0; i < 20; i++) {
        qsim_model *m = NULL;
        if (qsim_model_load(model_path("constant_weights", ".onnx"), &m) != QSIM_OK ||
            qsim_model_node_count(m) != 9)
            bad++;
        qsim_model_free(m);
        if (strcmp(qsim_model_node_op_type(*shared, 0), "Conv") != 0)
            bad++;
    }
    return (void *)bad;
}

static void concurrent_loads(void **state)
{
    (void)state;
    qsim_model *shared = load_ok("symbolic_batch");
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, load_in_thread, &shared), 0);
    for (int i = 0; i < 3; i++) {
        void *r;
        assert_int_equal(pthread_join(t[i], &r), 0);
        assert_null(r);
    }
    qsim_model_free(shared);
}

static void chain_100k(void **state)
{
    (void)state;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    qsim_model *m = load_ok("chain_100k");
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("# chain_100k load: %.3f s\n",
           (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec));
    assert_int_equal(qsim_model_node_count(m), 100000);
    char want[32];
    for (size_t i = 0; i < 100000; i += 9973) {
        snprintf(want, sizeof want, "t%zu", i + 1);
        assert_string_equal(qsim_model_node_output(m, i, 0), want);
    }
    check_graph_invariants(&m->graph);
    qsim_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        model_dir = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resnet18_matches_onnx),
        cmocka_unit_test(symbolic_batch_matches_onnx),
        cmocka_unit_test(old_opset_initializers_are_not_inputs),
        cmocka_unit_test(external_data_matches_onnx),
        cmocka_unit_test(constant_weights_match_onnx),
        cmocka_unit_test(typed_fields_match_onnx),
        cmocka_unit_test(if_subgraph_loads),
        cmocka_unit_test(memory_load),
        cmocka_unit_test(api_edges),
        cmocka_unit_test(attribute_getters),
        cmocka_unit_test(unsorted_nodes_are_sorted),
        cmocka_unit_test(concurrent_loads),
        cmocka_unit_test(chain_100k),
    };
    return cmocka_run_group_tests_name("onnx_load", tests, NULL, NULL);
}
