/* Fuzz target: the quantsim config parser on arbitrary bytes; a parsed
 * config is walked completely (every string read, every lookup made). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "quant/config_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    qsim__config *c = NULL;
    if (qsim__config_parse(data, size, "fuzz", &c) != QSIM_OK)
        return 0;
    size_t sum = c->hw_version ? strlen(c->hw_version) : 0;
    for (size_t i = 0; i < c->op_count; i++) {
        const qsim__cfg_op_rule *op = &c->ops[i];
        if (qsim__config_find_op(c, op->op_type) == NULL)
            abort();
        for (size_t j = 0; j < op->param_count; j++)
            if (qsim__cfg_op_find_param(op, op->params[j].param_type) == NULL)
                abort();
        sum += (size_t)op->kernel_count;
    }
    for (size_t i = 0; i < c->param_count; i++)
        if (qsim__config_find_param(c, c->params[i].param_type) == NULL)
            abort();
    for (size_t i = 0; i < c->supergroup_count; i++) {
        if (c->supergroups[i].count < 2)
            abort();
        for (size_t j = 0; j < c->supergroups[i].count; j++)
            sum += strlen(c->supergroups[i].op_list[j]);
    }
    qsim__config_free(c);
    return (int)(sum & 0);
}
