/* kws_logistic.h -- logistic: TFLM's int8 LOGISTIC (docs/numerics.md 11.5). One sample per call, no malloc. */
#ifndef KWS_LOGISTIC_H
#define KWS_LOGISTIC_H
#include <stdint.h>

/** int8 -> int8 (output zero point -128), elementwise over size elements: x = q - zp_in; -128 for
 * x <= -radius, 127 for x >= radius, else gemmlowp's logistic of the Q4.27 requantize(x, multiplier,
 * left_shift) (double rounding), rounded to 1/256 steps. */
void kws_logistic_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in, int32_t input_multiplier,
                     int32_t input_left_shift, int32_t input_range_radius);
#endif
