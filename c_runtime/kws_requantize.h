/* kws_requantize.h -- requantize between integer formats (docs/numerics.md 9.4, "requantize"; TFLite QUANTIZE
 * between integer types, TFLM reference_ops::Requantize). Elementwise, n elements; in_zp / out_zp are 0 for int16.
 * y = clamp(out_zp + requantize(q - in_zp, multiplier, shift, rounding), qmin, qmax) with the 32-bit requantize of
 * section 3.2 and [qmin, qmax] the full range of the output type. */
#ifndef KWS_REQUANTIZE_H
#define KWS_REQUANTIZE_H
#include <stdint.h>

void kws_requantize_s8_s16(const int8_t *input, int16_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_s16_s8(const int16_t *input, int8_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_s8_s8(const int8_t *input, int8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_s16_s16(const int16_t *input, int16_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
#endif
