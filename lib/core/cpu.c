#include "cpu.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static qsim__cpu detected, detected_avx2;   /* the second without AVX-512 */
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int max_isa = QSIM__ISA_AVX512;

static void detect(void)
{
    memset(&detected, 0, sizeof detected);
#if (defined(__x86_64__) || defined(__i386__)) && defined(QSIM_HAVE_AVX2)
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    int fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx)
        return;
    /* XGETBV: XMM and YMM state enabled by the OS */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6) != 0x6)
        return;
    if (__get_cpuid_max(0, NULL) < 7)
        return;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1;
    detected.avx2 = avx2;
    detected.fma = fma;
    detected.f16c = f16c;
#ifdef QSIM_HAVE_AVX512
    /* AVX-512F, and XCR0 bits 5-7: opmask and all 32 ZMM registers saved */
    detected.avx512f = (b >> 16) & 1 && (lo & 0xe0) == 0xe0;
#endif
#endif
    const char *env = getenv("QSIM_FORCE_GENERIC");
    if (env && env[0] == '1')
        memset(&detected, 0, sizeof detected);
    env = getenv("QSIM_FORCE_AVX2");
    if (env && env[0] == '1')
        detected.avx512f = 0;
    detected_avx2 = detected;
    detected_avx2.avx512f = 0;
}

static const qsim__cpu none;

const qsim__cpu *qsim__cpu_get(void)
{
    pthread_once(&once, detect);
    if (max_isa == QSIM__ISA_GENERIC)
        return &none;
    return max_isa == QSIM__ISA_AVX2 ? &detected_avx2 : &detected;
}

int qsim__cpu_use_avx2(void)
{
    const qsim__cpu *c = qsim__cpu_get();
    return c->avx2 && c->fma && c->f16c;
}

int qsim__cpu_use_avx512(void) { return qsim__cpu_use_avx2() && qsim__cpu_get()->avx512f; }

int qsim__cpu_force_isa(int max_level)
{
    max_isa = max_level;
    pthread_once(&once, detect);
    if (max_level == QSIM__ISA_AVX512)
        return detected.avx512f && qsim__cpu_use_avx2();
    if (max_level == QSIM__ISA_AVX2)
        return qsim__cpu_use_avx2();
    return 1;
}

void qsim__cpu_force_generic(int on)
{
    qsim__cpu_force_isa(on ? QSIM__ISA_GENERIC : QSIM__ISA_AVX512);
}
