/* test_fp16.c with the exhaustive float32 sweep (~13 s of CPU). */
#define QSIM_FP16_ALL 1
#include "test_fp16.c"
