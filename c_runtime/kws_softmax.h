/* kws_softmax.h -- softmax: TFLM's int8 and int16 SOFTMAX (docs/numerics.md 11.4, 11.4.1). One sample per call, no malloc. */
#ifndef KWS_SOFTMAX_H
#define KWS_SOFTMAX_H
#include <stdint.h>

/** int8 -> int8 (output scale 1/256, zero point -128) along the middle axis of a sample viewed as
 * (outer, depth, inner), depth <= 511: per row d = q - max; elements with d >= diff_min are rescaled by
 * (input_multiplier, input_left_shift) into Q5.26, exponentiated, summed in Q12.19 and scaled by TFLM's
 * reciprocal of the sum; the others give -128. */
void kws_softmax_s8(const int8_t *input, int8_t *output, int32_t outer, int32_t depth, int32_t inner,
                    int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min);

/** int16 -> int16 (input zero point 0; output scale 1/32768, zero point 0) along the middle axis of a sample viewed
 * as (outer, depth, inner), depth <= 65536, input_left_shift <= 15: per row d = q - max is rescaled by
 * (input_multiplier, input_left_shift), + 32767, saturated, looked up in exp_lut; the sum's reciprocal is recip_lut
 * at the normalised sum; out = exp * reciprocal rounded to Q0.15 (TFLM's SoftmaxInt16). The tables: 513 entries in
 * [0, 32767] (checked at load), exp_lut[511], exp_lut[512] >= 1. The output holds the exps between the passes. */
void kws_softmax_s16(const int16_t *input, int16_t *output, int32_t outer, int32_t depth, int32_t inner,
                     int32_t input_multiplier, int32_t input_left_shift, const int16_t *exp_lut,
                     const int16_t *recip_lut);
#endif
