/* Helpers shared by the engine-level tests (test_engine, test_fuse): load a
 * generated model from QSIM_TEST_DATA, find a value of a sim's graph.
 * Header-only; include after <cmocka.h> and "sim/sim_internal.h". */
#ifndef QSIM_TESTS_SIM_TEST_UTIL_H
#define QSIM_TESTS_SIM_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>

static inline qsim_model *load(const char *name)
{
    char buf[1024];
    const char *dir = getenv("QSIM_TEST_DATA");
    snprintf(buf, sizeof buf, "%s/%s", dir ? dir : "data", name);
    qsim_model *m = NULL;
    if (qsim_model_load(buf, &m) != QSIM_OK)
        fail_msg("load %s: %s", name, qsim_last_error());
    return m;
}

static inline int32_t value(const qsim_sim *s, const char *name)
{
    int32_t v = qsim__graph_find(s->g, name);
    if (v < 0)
        fail_msg("no value %s", name);
    return v;
}

#endif
