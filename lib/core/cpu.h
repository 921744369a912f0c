/* CPU features, detected once (cpuid + XGETBV: the OS must save AVX state).
 * Kernel families pick their implementation from these. */
#ifndef QSIM_CORE_CPU_H
#define QSIM_CORE_CPU_H

typedef struct qsim__cpu {
    int avx2, fma, f16c;   /* 1 when usable */
    int avx512f;           /* 1 when usable (and the OS saves ZMM state) */
} qsim__cpu;

/* Kernel levels, each a superset of the one before. */
enum { QSIM__ISA_GENERIC = 0, QSIM__ISA_AVX2 = 1, QSIM__ISA_AVX512 = 2 };

/* Features usable by this process, capped by qsim__cpu_force_isa and the
 * environment: QSIM_FORCE_GENERIC=1 clears them all, QSIM_FORCE_AVX2=1
 * clears avx512f (to compare the two kernel sets on one machine). */
const qsim__cpu *qsim__cpu_get(void);
/* 1 when the AVX2+FMA+F16C kernels may run (and were built). */
int qsim__cpu_use_avx2(void);
/* 1 when the AVX-512F kernels may run as well (and were built). */
int qsim__cpu_use_avx512(void);
/* Tests pin the kernels at or below a level process-wide (call before
 * kernels run); returns 0 when that level is not on this CPU or build (the
 * cap is then set anyway: the kernels run the best level below it). */
int qsim__cpu_force_isa(int max_level);
/* qsim__cpu_force_isa(on ? QSIM__ISA_GENERIC : QSIM__ISA_AVX512) */
void qsim__cpu_force_generic(int on);

#endif
