/* kws_softmax.h -- softmax: TFLM's int8 SOFTMAX (docs/numerics.md 11.4). One sample per call, no malloc. */
#ifndef KWS_SOFTMAX_H
#define KWS_SOFTMAX_H
#include <stdint.h>

/** int8 -> int8 (output scale 1/256, zero point -128) along the middle axis of a sample viewed as
 * (outer, depth, inner), depth <= 511: per row d = q - max; elements with d >= diff_min are rescaled by
 * (input_multiplier, input_left_shift) into Q5.26, exponentiated, summed in Q12.19 and scaled by TFLM's
 * reciprocal of the sum; the others give -128. */
void kws_softmax_s8(const int8_t *input, int8_t *output, int32_t outer, int32_t depth, int32_t inner,
                    int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min);
#endif
