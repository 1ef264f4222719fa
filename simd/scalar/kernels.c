#include "scalar.h"

const nst_kernels nst_kernels_scalar = {
    .name = "scalar",
    .conv_prepare = nst_conv_prepare__scalar,
    .conv_release = nst_conv_release__scalar,
    .conv3x3_bias_relu = nst_f32_conv3x3_bias_relu__scalar,
    .conv3x3_backward_data = nst_f32_conv3x3_backward_data__scalar,
    .gram = nst_f32_gram__scalar,
    .gram_backward = nst_f32_gram_backward__scalar,
    .relu_backward = nst_f32_relu_backward__scalar,
    .avgpool2x2 = nst_f32_avgpool2x2__scalar,
    .avgpool2x2_backward = nst_f32_avgpool2x2_backward__scalar,
    .maxpool2x2 = nst_f32_maxpool2x2__scalar,
    .maxpool2x2_backward = nst_f32_maxpool2x2_backward__scalar,
    .adam_update = nst_f32_adam_update__scalar,
};
