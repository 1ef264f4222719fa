/* What the processor this program runs on can do. */
#ifndef NST_CPU_H
#define NST_CPU_H

/* 1 if the CPU has AVX2 and FMA and the OS saves YMM state, else 0. */
int nst_cpu_has_avx2_fma(void);

/* 1 on aarch64 (Advanced SIMD is mandatory there), else 0. */
int nst_cpu_has_neon(void);

#endif
