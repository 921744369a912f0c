/* What the engine's fusion pass (lib/sim/fuse.c) needs from the Conv op. */
#ifndef QSIM_OPS_CONV_TAKE_H
#define QSIM_OPS_CONV_TAKE_H

#include "op.h"
#include "../kernels/conv.h"

/* A packed conv for Conv node n with the plan's input views (weights and
 * bias constant, in[*].data set): the one the node's state holds when it
 * was built for these inputs (handed over: the node packs again when it
 * next needs one, so fusion never keeps two copies of the weights), else a
 * new one. The caller owns *out. */
qsim_status qsim__conv_op_take(void *state, const qsim__node *n, const qsim__tview *in,
                               size_t n_in, qsim__conv **out);

#endif
