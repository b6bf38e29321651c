/* kws_tanh.h -- tanh: TFLM's TANH, int8 and int16 (docs/numerics.md 11.9): entry points of the kernels shared with
 * logistic (kws_logistic.h). One sample per call, no malloc. */
#ifndef KWS_TANH_H
#define KWS_TANH_H
#include <stdint.h>

/** int8 -> int8 (output zero point 0, scale 1/128). */
void kws_tanh_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in, int32_t input_multiplier,
                 int32_t input_left_shift, int32_t input_range_radius);
/** int16 -> int16 (scale 2**-15, zero point 0). */
void kws_tanh_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_multiplier,
                  int32_t input_left_shift, const uint16_t *sigmoid_table);
#endif
