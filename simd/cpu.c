#include "cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

/* XGETBV with ECX = 0 reads XCR0: which register states the OS saves. */
static unsigned long long xcr0(void)
{
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

int nst_cpu_has_avx2_fma(void)
{
    unsigned int a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    const unsigned int fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
    if ((c & (fma | osxsave | avx)) != (fma | osxsave | avx))
        return 0;
    /* Bits 1 (SSE) and 2 (AVX upper halves): the OS saves YMM registers. */
    if ((xcr0() & 6) != 6)
        return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
        return 0;
    return (b >> 5) & 1; /* AVX2 */
}
#else
int nst_cpu_has_avx2_fma(void)
{
    return 0;
}
#endif

int nst_cpu_has_neon(void)
{
#if defined(__aarch64__)
    return 1;
#else
    return 0;
#endif
}
