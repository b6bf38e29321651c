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

/** uint8 at a model's edges (docs/numerics.md section 2 and 9.4): int8 -> uint8 and uint8 -> int8, the formula
 * above with the uint8 zero point in [0, 255] and, for a uint8 output, [qmin, qmax] = [0, 255]. */
void kws_requantize_s8_u8(const int8_t *input, uint8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_u8_s8(const uint8_t *input, int8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);

/** affine (int8 "s8", int16 "s16") <-> Q (q8 / q16 / q32: int8_t / int16_t / int32_t) (docs/numerics.md 10.3,
 * "requantize"): the formula above with the Q side's zero point 0 (the caller passes in_zp = 0 or out_zp = 0) and
 * scale 2**-n (in multiplier, shift), [qmin, qmax] the full range of the output container. */
void kws_requantize_s8_q8(const int8_t *input, int8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_s8_q16(const int8_t *input, int16_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_s8_q32(const int8_t *input, int32_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_s16_q8(const int16_t *input, int8_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_s16_q16(const int16_t *input, int16_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_s16_q32(const int16_t *input, int32_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_q8_s8(const int8_t *input, int8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_q16_s8(const int16_t *input, int8_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_q32_s8(const int32_t *input, int8_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_q8_s16(const int8_t *input, int16_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_q16_s16(const int16_t *input, int16_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);
void kws_requantize_q32_s16(const int32_t *input, int16_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding);

/** Q -> Q (docs/numerics.md 10.3, "requantize"): y = qcast(q, shift, qround, bits, qoverflow) with
 * shift = n_in - n_out in [-62, 62] and bits the output container's width (8 / 16 / 32); qround / qoverflow:
 * section 8's codes. kws_requantize_q<a>_q<b>: input container q<a>, output q<b>. */
void kws_requantize_q8_q8(const int8_t *input, int8_t *output, int32_t size, int32_t shift, int32_t qround,
                          int32_t qoverflow);
void kws_requantize_q8_q16(const int8_t *input, int16_t *output, int32_t size, int32_t shift, int32_t qround,
                           int32_t qoverflow);
void kws_requantize_q8_q32(const int8_t *input, int32_t *output, int32_t size, int32_t shift, int32_t qround,
                           int32_t qoverflow);
void kws_requantize_q16_q8(const int16_t *input, int8_t *output, int32_t size, int32_t shift, int32_t qround,
                           int32_t qoverflow);
void kws_requantize_q16_q16(const int16_t *input, int16_t *output, int32_t size, int32_t shift, int32_t qround,
                            int32_t qoverflow);
void kws_requantize_q16_q32(const int16_t *input, int32_t *output, int32_t size, int32_t shift, int32_t qround,
                            int32_t qoverflow);
void kws_requantize_q32_q8(const int32_t *input, int8_t *output, int32_t size, int32_t shift, int32_t qround,
                           int32_t qoverflow);
void kws_requantize_q32_q16(const int32_t *input, int16_t *output, int32_t size, int32_t shift, int32_t qround,
                            int32_t qoverflow);
void kws_requantize_q32_q32(const int32_t *input, int32_t *output, int32_t size, int32_t shift, int32_t qround,
                            int32_t qoverflow);
#endif
