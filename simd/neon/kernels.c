#include "neon.h"

/* Every entry is the neon kernel. */
const nst_kernels nst__kernels_neon = {
    .name = "neon",
    .conv_prepare = nst_conv_prepare__neon,
    .conv_release = nst_conv_release__neon,
    .conv3x3_bias_relu = nst_f32_conv3x3_bias_relu__neon,
    .conv3x3_backward_data = nst_f32_conv3x3_backward_data__neon,
    .gram = nst_f32_gram__neon,
    .gram_backward = nst_f32_gram_backward__neon,
    .relu_backward = nst_f32_relu_backward__neon,
    .avgpool2x2 = nst_f32_avgpool2x2__neon,
    .avgpool2x2_backward = nst_f32_avgpool2x2_backward__neon,
    .maxpool2x2 = nst_f32_maxpool2x2__neon,
    .maxpool2x2_backward = nst_f32_maxpool2x2_backward__neon,
    .adam_update = nst_f32_adam_update__neon,
};
