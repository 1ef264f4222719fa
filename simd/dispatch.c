#include "simd.h"

#include <stdlib.h>
#include <string.h>

#include "cpu.h"

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

const nst_kernels *nst_kernels_for(const char *isa)
{
    if (strcmp(isa, "scalar") == 0)
        return &nst_kernels_scalar;
#if defined(NST_HAVE_AVX2)
    if (strcmp(isa, "avx2") == 0 && nst_cpu_has_avx2_fma())
        return &nst__kernels_avx2;
#endif
#if defined(NST_HAVE_NEON)
    if (strcmp(isa, "neon") == 0 && nst_cpu_has_neon())
        return &nst__kernels_neon;
#endif
    return NULL;
}

const nst_kernels *nst_kernels_best(void)
{
    const char *forced = getenv("NST_ISA");
    if (forced && *forced)
        return nst_kernels_for(forced);
    static const char *const order[] = {"avx2", "neon"};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        const nst_kernels *k = nst_kernels_for(order[i]);
        if (k)
            return k;
    }
    return &nst_kernels_scalar;
}
