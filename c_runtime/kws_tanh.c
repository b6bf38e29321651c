/* kws_tanh.c -- see kws_tanh.h; the kernels are kws_logistic.c's. Spec: docs/numerics.md 11.9. */
#include "kws_tanh.h"
#include "kws_logistic.h"

void kws_tanh_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in, int32_t input_multiplier,
                 int32_t input_left_shift, int32_t input_range_radius)
{
    kws_sigmoid_family_s8(input, output, size, zp_in, input_multiplier, input_left_shift, input_range_radius,
                          KWS_SIGMOID_TANH);
}

void kws_tanh_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_multiplier,
                  int32_t input_left_shift, const uint16_t *sigmoid_table)
{
    kws_sigmoid_family_s16(input, output, size, input_multiplier, input_left_shift, sigmoid_table, KWS_SIGMOID_TANH);
}
