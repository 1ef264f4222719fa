#include "avx2.h"

/* Starts from the scalar table (see dispatch.c) and replaces every entry. */
void nst__kernels_avx2_override(nst_kernels *k)
{
    k->name = "avx2";
    k->conv_prepare = nst_conv_prepare__avx2;
    k->conv_release = nst_conv_release__avx2;
    k->conv3x3_bias_relu = nst_f32_conv3x3_bias_relu__avx2;
    k->conv3x3_backward_data = nst_f32_conv3x3_backward_data__avx2;
    k->gram = nst_f32_gram__avx2;
    k->gram_backward = nst_f32_gram_backward__avx2;
    k->relu_backward = nst_f32_relu_backward__avx2;
    k->avgpool2x2 = nst_f32_avgpool2x2__avx2;
    k->avgpool2x2_backward = nst_f32_avgpool2x2_backward__avx2;
    k->maxpool2x2 = nst_f32_maxpool2x2__avx2;
    k->maxpool2x2_backward = nst_f32_maxpool2x2_backward__avx2;
    k->adam_update = nst_f32_adam_update__avx2;
}
