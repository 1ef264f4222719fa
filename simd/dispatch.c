#include "simd.h"

#include <stdlib.h>
#include <string.h>

#include "../src/error.h"
#include "cpu.h"

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

static nst_kernels avx2_table, neon_table;

const nst_kernels *nst_kernels_for(const char *isa)
{
    if (strcmp(isa, "scalar") == 0)
        return &nst_kernels_scalar;
#if defined(NST_HAVE_AVX2)
    if (strcmp(isa, "avx2") == 0 && nst_cpu_has_avx2_fma()) {
        if (!avx2_table.name) {
            avx2_table = nst_kernels_scalar;
            nst__kernels_avx2_override(&avx2_table);
        }
        return &avx2_table;
    }
#endif
#if defined(NST_HAVE_NEON)
    if (strcmp(isa, "neon") == 0 && nst_cpu_has_neon()) {
        if (!neon_table.name) {
            neon_table = nst_kernels_scalar;
            nst__kernels_neon_override(&neon_table);
        }
        return &neon_table;
    }
#endif
    (void)avx2_table;
    (void)neon_table;
    return NULL;
}

const nst_kernels *nst_kernels_best(void)
{
    const char *forced = getenv("NST_ISA");
    if (forced && *forced) {
        const nst_kernels *k = nst_kernels_for(forced);
        if (!k)
            nst_fail("NST_ISA=%s: this build or this CPU cannot run it "
                     "(choose scalar, avx2 or neon)",
                     forced);
        return k;
    }
    static const char *const order[] = {"avx2", "neon"};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        const nst_kernels *k = nst_kernels_for(order[i]);
        if (k)
            return k;
    }
    return &nst_kernels_scalar;
}
