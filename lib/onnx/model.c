/* Placeholder until the loader lands: reports I/O errors, refuses the rest. */
#include "graph.h"

#include "../core/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

qsim_status qsim_model_load(const char *path, qsim_model **out)
{
    if (!path || !out)
        return qsim__fail(QSIM_ERR_INVALID_ARGUMENT, "qsim_model_load: path and out must not be NULL");
    FILE *f = fopen(path, "rb");
    if (!f)
        return qsim__fail(QSIM_ERR_IO, "cannot open '%s': %s", path, strerror(errno));
    fclose(f);
    return qsim__fail(QSIM_ERR_UNSUPPORTED, "'%s': loader not built yet", path);
}

void qsim_model_free(qsim_model *m) { (void)m; }
