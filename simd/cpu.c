#include "cpu.h"

#include <stdio.h>
#include <unistd.h>

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

/* The size of cache index `index` of cpu0 if it is a level-2 data or
 * unified cache, else 0. The sizes read "1024K" (or "2M"). */
static size_t sysfs_l2(int index)
{
    char path[80], type[16] = "";
    int level = 0;
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/",
             index);
    char file[96];
    snprintf(file, sizeof file, "%slevel", path);
    FILE *fp = fopen(file, "r");
    if (!fp)
        return 0;
    const int ok = fscanf(fp, "%d", &level) == 1;
    fclose(fp);
    snprintf(file, sizeof file, "%stype", path);
    if (!ok || level != 2 || !(fp = fopen(file, "r")))
        return 0;
    const int typed = fscanf(fp, "%15s", type) == 1;
    fclose(fp);
    snprintf(file, sizeof file, "%ssize", path);
    if (!typed || type[0] == 'I' || !(fp = fopen(file, "r")))
        return 0;
    unsigned long n = 0;
    char unit = 'K';
    const int got = fscanf(fp, "%lu%c", &n, &unit);
    fclose(fp);
    if (got < 1)
        return 0;
    return unit == 'M' ? n << 20 : unit == 'K' ? n << 10 : n;
}

size_t nst_cpu_l2_bytes(void)
{
#ifdef _SC_LEVEL2_CACHE_SIZE
    const long n = sysconf(_SC_LEVEL2_CACHE_SIZE);
    if (n > 0)
        return (size_t)n;
#endif
    for (int i = 0; i < 8; i++) {
        const size_t n = sysfs_l2(i);
        if (n)
            return n;
    }
    return 0;
}
