/* The 6 x 16 register block shared by the AVX2 convolution (its
 * Winograd-domain products) and the Gram backward: twelve accumulators, one
 * FMA chain per output in k order, over packed panels. */
#ifndef NST_AVX2_GEMM_6X16_H
#define NST_AVX2_GEMM_6X16_H

#include <immintrin.h>
#include <stddef.h>

/* acc[r][q] = sum over k < kn of a[lda k + r] * b[16k + 8q .. 16k + 8q + 8):
 * a 6 rows lda floats apart per k (a packed panel has lda = 6), b a 32-byte
 * aligned panel of 16 columns. Inlined, so the accumulators stay in
 * registers and the caller's store follows. */
static inline __attribute__((always_inline)) void
nst__gemm_6x16_avx2(int kn, const float *a, size_t lda, const float *b,
                    __m256 acc[6][2])
{
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00;
    __m256 c20 = c00, c21 = c00, c30 = c00, c31 = c00;
    __m256 c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int k = 0; k < kn; k++, a += lda, b += 16) {
        const __m256 v0 = _mm256_load_ps(b), v1 = _mm256_load_ps(b + 8);
        __m256 s = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(s, v0, c00);
        c01 = _mm256_fmadd_ps(s, v1, c01);
        s = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(s, v0, c10);
        c11 = _mm256_fmadd_ps(s, v1, c11);
        s = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(s, v0, c20);
        c21 = _mm256_fmadd_ps(s, v1, c21);
        s = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(s, v0, c30);
        c31 = _mm256_fmadd_ps(s, v1, c31);
        s = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(s, v0, c40);
        c41 = _mm256_fmadd_ps(s, v1, c41);
        s = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(s, v0, c50);
        c51 = _mm256_fmadd_ps(s, v1, c51);
    }
    acc[0][0] = c00, acc[0][1] = c01, acc[1][0] = c10, acc[1][1] = c11;
    acc[2][0] = c20, acc[2][1] = c21, acc[3][0] = c30, acc[3][1] = c31;
    acc[4][0] = c40, acc[4][1] = c41, acc[5][0] = c50, acc[5][1] = c51;
}

#endif
