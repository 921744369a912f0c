/* CPU features, detected once (cpuid + XGETBV: the OS must save AVX state).
 * Kernel families pick their implementation from these. */
#ifndef QSIM_CORE_CPU_H
#define QSIM_CORE_CPU_H

typedef struct qsim__cpu {
    int avx2, fma, f16c;   /* 1 when usable */
} qsim__cpu;

/* Features usable by this process; all 0 when QSIM_FORCE_GENERIC=1 is set in
 * the environment or qsim__cpu_force_generic(1) was called. */
const qsim__cpu *qsim__cpu_get(void);
/* 1 when the AVX2+FMA+F16C kernels may run (and were built). */
int qsim__cpu_use_avx2(void);
/* Tests pin the portable kernels process-wide (call before kernels run). */
void qsim__cpu_force_generic(int on);

#endif
