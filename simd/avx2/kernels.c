#include "avx2.h"

/* Starts from the scalar table (see dispatch.c); the operations that are
 * bound by memory bandwidth stay scalar. */
void nst__kernels_avx2_override(nst_kernels *k)
{
    k->name = "avx2";
    k->conv_prepare = nst_conv_prepare__avx2;
    k->conv_release = nst_conv_release__avx2;
    k->conv3x3_bias_relu = nst_f32_conv3x3_bias_relu__avx2;
    k->conv3x3_backward_data = nst_f32_conv3x3_backward_data__avx2;
    k->gram = nst_f32_gram__avx2;
    k->gram_backward = nst_f32_gram_backward__avx2;
}
