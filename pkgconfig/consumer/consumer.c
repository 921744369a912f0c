/* An out-of-tree application: includes only <qsim/qsim.h>, built against an
 * installed libqsim through pkg-config (or CMake's pkg_check_modules). */
#include <qsim/qsim.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (strcmp(qsim_version_string(), QSIM_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s does not match library %s\n", QSIM_VERSION_STRING,
                qsim_version_string());
        return 1;
    }
    if (argc < 2) {
        printf("libqsim %s\n", qsim_version_string());
        return 0;
    }
    qsim_model *m = NULL;
    qsim_status st = qsim_model_load(argv[1], &m);
    if (st != QSIM_OK) {
        fprintf(stderr, "%s: %s\n", qsim_status_string(st), qsim_last_error());
        return 2;
    }
    for (size_t i = 0; i < qsim_model_input_count(m); i++)
        printf("input %s\n", qsim_model_input_name(m, i));
    for (size_t i = 0; i < qsim_model_output_count(m); i++)
        printf("output %s\n", qsim_model_output_name(m, i));
    printf("nodes %zu\n", qsim_model_node_count(m));
    qsim_model_free(m);
    return 0;
}
