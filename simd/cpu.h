/* What the processor this program runs on can do. */
#ifndef NST_CPU_H
#define NST_CPU_H

#include <stddef.h>

/* 1 if the CPU has AVX2 and FMA and the OS saves YMM state, else 0. */
int nst_cpu_has_avx2_fma(void);

/* 1 on aarch64 (Advanced SIMD is mandatory there), else 0. */
int nst_cpu_has_neon(void);

/* The size in bytes of one core's level-2 data cache as the system reports
 * it (sysconf, else /sys/devices/system/cpu/cpu0/cache), or 0 if it does
 * not say. */
size_t nst_cpu_l2_bytes(void);

#endif
