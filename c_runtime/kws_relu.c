/* kws_relu.c -- see kws_relu.h. Spec: docs/numerics.md section 4, "relu". */
#include "kws_relu.h"
#include "kws_fixedpoint.h"

void kws_relu_s8(const int8_t *input, int8_t *output, int32_t size, int32_t act_min, int32_t act_max)
{
    int32_t i;
    for (i = 0; i < size; i++)
        output[i] = (int8_t)kws_clamp(input[i], act_min, act_max);
}

void kws_relu_f32(const float *input, float *output, int32_t size, float act_min, float act_max)
{
    int32_t i;
    for (i = 0; i < size; i++)
        output[i] = kws_clamp_f32(input[i], act_min, act_max);
}
