#include "neon.h"

/* Starts from the scalar table (see dispatch.c) and replaces every entry. */
void nst__kernels_neon_override(nst_kernels *k)
{
    k->name = "neon";
    k->conv_prepare = nst_conv_prepare__neon;
    k->conv_release = nst_conv_release__neon;
    k->conv3x3_bias_relu = nst_f32_conv3x3_bias_relu__neon;
    k->conv3x3_backward_data = nst_f32_conv3x3_backward_data__neon;
    k->gram = nst_f32_gram__neon;
    k->gram_backward = nst_f32_gram_backward__neon;
    k->relu_backward = nst_f32_relu_backward__neon;
    k->avgpool2x2 = nst_f32_avgpool2x2__neon;
    k->avgpool2x2_backward = nst_f32_avgpool2x2_backward__neon;
    k->maxpool2x2 = nst_f32_maxpool2x2__neon;
    k->maxpool2x2_backward = nst_f32_maxpool2x2_backward__neon;
    k->adam_update = nst_f32_adam_update__neon;
}
