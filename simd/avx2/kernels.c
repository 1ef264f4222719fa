#include "avx2.h"

/* Every entry is the avx2 kernel. */
const nst_kernels nst__kernels_avx2 = {
    .name = "avx2",
    .conv_prepare = nst_conv_prepare__avx2,
    .conv_release = nst_conv_release__avx2,
    .conv3x3_bias_relu = nst_f32_conv3x3_bias_relu__avx2,
    .conv3x3_backward_data = nst_f32_conv3x3_backward_data__avx2,
    .gram = nst_f32_gram__avx2,
    .gram_backward = nst_f32_gram_backward__avx2,
    .relu_backward = nst_f32_relu_backward__avx2,
    .avgpool2x2 = nst_f32_avgpool2x2__avx2,
    .avgpool2x2_backward = nst_f32_avgpool2x2_backward__avx2,
    .maxpool2x2 = nst_f32_maxpool2x2__avx2,
    .maxpool2x2_backward = nst_f32_maxpool2x2_backward__avx2,
    .adam_update = nst_f32_adam_update__avx2,
};
