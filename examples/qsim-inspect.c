/* qsim-inspect: print what libqsim sees in an ONNX model.
 *
 *   qsim-inspect [--nodes] MODEL.onnx
 *
 * Inputs and outputs with shapes (symbolic dimensions by name), opset
 * imports, parameter count and size, node count and an op-type histogram;
 * --nodes also lists every node, in topological order, with its inputs and
 * outputs. Uses only the public API. */
#include <qsim/qsim.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ONNX TensorProto.DataType names. */
static const char *type_name(int32_t t)
{
    static const char *const names[] = {
        "undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string",
        "bool", "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16"};
    if (t >= 0 && (size_t)t < sizeof names / sizeof names[0])
        return names[t];
    return "other";
}

static void print_tensor(const qsim_model *m, const char *name)
{
    int32_t elem = 0;
    int64_t rank = 0, dims[16];
    printf("  %s", name);
    if (qsim_model_tensor_info(m, name, &elem, &rank, dims, 16) != QSIM_OK) {
        printf("  (%s)\n", qsim_last_error());
        return;
    }
    printf("  %s", type_name(elem));
    if (rank < 0) {
        printf("  shape unknown\n");
        return;
    }
    printf("  [");
    for (int64_t d = 0; d < rank; d++) {
        const char *param = qsim_model_tensor_dim_param(m, name, (size_t)d);
        if (d)
            printf(", ");
        if (param && *param)
            printf("%s", param);
        else if (dims[d] < 0)
            printf("?");
        else
            printf("%" PRId64, dims[d]);
    }
    printf("]\n");
}

struct op_count {
    const char *op;
    size_t n;
};

static int by_count(const void *a, const void *b)
{
    const struct op_count *x = a, *y = b;
    if (x->n != y->n)
        return x->n < y->n ? 1 : -1;
    return strcmp(x->op, y->op);
}

/* Op types are few: a linear scan per node is fine for a listing tool. */
static void print_histogram(const qsim_model *m)
{
    size_t n = qsim_model_node_count(m), used = 0;
    struct op_count *hist = calloc(n ? n : 1, sizeof *hist);
    if (!hist)
        return;
    for (size_t i = 0; i < n; i++) {
        const char *op = qsim_model_node_op_type(m, i);
        size_t k = 0;
        while (k < used && strcmp(hist[k].op, op) != 0)
            k++;
        if (k == used)
            hist[used++].op = op;
        hist[k].n++;
    }
    qsort(hist, used, sizeof *hist, by_count);
    printf("op types (%zu):\n", used);
    for (size_t k = 0; k < used; k++)
        printf("  %-24s %zu\n", hist[k].op, hist[k].n);
    free(hist);
}

static void print_nodes(const qsim_model *m)
{
    size_t n = qsim_model_node_count(m);
    printf("nodes:\n");
    for (size_t i = 0; i < n; i++) {
        const char *name = qsim_model_node_name(m, i);
        printf("  [%zu] %s '%s'\n      inputs:", i, qsim_model_node_op_type(m, i), name);
        for (size_t k = 0; k < qsim_model_node_input_count(m, i); k++) {
            const char *in = qsim_model_node_input(m, i, k);
            printf(" %s", *in ? in : "(none)");
        }
        printf("\n      outputs:");
        for (size_t k = 0; k < qsim_model_node_output_count(m, i); k++) {
            const char *out = qsim_model_node_output(m, i, k);
            printf(" %s", *out ? out : "(none)");
        }
        printf("\n");
    }
}

int main(int argc, char **argv)
{
    int list_nodes = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--nodes") == 0)
            list_nodes = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            path = NULL, argc = 0;
        else
            path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "usage: qsim-inspect [--nodes] MODEL.onnx\n");
        return 2;
    }
    qsim_model *m = NULL;
    qsim_status st = qsim_model_load(path, &m);
    if (st != QSIM_OK) {
        fprintf(stderr, "qsim-inspect: %s: %s\n", qsim_status_string(st), qsim_last_error());
        return 1;
    }
    printf("model: %s\n", path);
    printf("inputs (%zu):\n", qsim_model_input_count(m));
    for (size_t i = 0; i < qsim_model_input_count(m); i++)
        print_tensor(m, qsim_model_input_name(m, i));
    printf("outputs (%zu):\n", qsim_model_output_count(m));
    for (size_t i = 0; i < qsim_model_output_count(m); i++)
        print_tensor(m, qsim_model_output_name(m, i));
    printf("opsets (%zu):\n", qsim_model_opset_count(m));
    for (size_t i = 0; i < qsim_model_opset_count(m); i++) {
        const char *d = qsim_model_opset_domain(m, i);
        printf("  %s %" PRId64 "\n", *d ? d : "ai.onnx", qsim_model_opset_version(m, i));
    }
    printf("initializers: %zu\n", qsim_model_initializer_count(m));
    printf("parameters: %" PRIu64 " (%" PRIu64 " bytes)\n", qsim_model_parameter_count(m),
           qsim_model_parameter_bytes(m));
    printf("nodes: %zu\n", qsim_model_node_count(m));
    print_histogram(m);
    if (list_nodes)
        print_nodes(m);
    qsim_model_free(m);
    return 0;
}
