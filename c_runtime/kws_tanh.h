/* kws_tanh.h -- tanh: TFLM's int8 TANH (docs/numerics.md 11.9). One sample per call, no malloc. */
#ifndef KWS_TANH_H
#define KWS_TANH_H
#include <stdint.h>

/** int8 -> int8 (output zero point 0, scale 1/128), elementwise: x = q - zp_in; -128 for x <= -radius, 127 for
 * x >= radius, else gemmlowp's tanh of the Q4.27 requantize(x, multiplier, left_shift), rounded to 1/128. */
void kws_tanh_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in, int32_t input_multiplier,
                 int32_t input_left_shift, int32_t input_range_radius);
#endif
