/* kws_global_avgpool.h -- global_avgpool (docs/numerics.md section 4, "global_avgpool").
 * Input (C, S) with S = L or H*W (row-major spatial), output (C,) (the (C, 1[, 1]) tensor); one sample. */
#ifndef KWS_GLOBAL_AVGPOOL_H
#define KWS_GLOBAL_AVGPOOL_H
#include <stdint.h>

/** int8: acc = sum_s (q - in_zp) (int32: S * 255 < 2**31, checked);
 * y = clamp(requantize(acc, multiplier, shift, rounding) + out_zp, act_min, act_max). */
void kws_global_avgpool_s8(const int8_t *input, int8_t *output, int32_t channels, int32_t count,
                           int32_t in_zp, int32_t multiplier, int32_t shift, int32_t out_zp,
                           int32_t act_min, int32_t act_max, int32_t rounding);

/** int16 (docs/numerics.md 9.4): acc = sum_s q (int32: S * 32768 < 2**31, checked; zero points 0);
 * y = clamp(requantize(acc, multiplier, shift, rounding), act_min, act_max). */
void kws_global_avgpool_s16(const int16_t *input, int16_t *output, int32_t channels, int32_t count,
                            int32_t multiplier, int32_t shift, int32_t act_min, int32_t act_max, int32_t rounding);

/** Q-format (docs/numerics.md 10.3, "global_avgpool"; output frac_bits = input's): sum = sum_s q (int64);
 * y = clamp(div_round(sum, count, qround), act_min, act_max); q8 / q16 / q32 = int8_t / int16_t / int32_t. */
void kws_global_avgpool_q8(const int8_t *input, int8_t *output, int32_t channels, int32_t count,
                           int32_t act_min, int32_t act_max, int32_t qround);
void kws_global_avgpool_q16(const int16_t *input, int16_t *output, int32_t channels, int32_t count,
                            int32_t act_min, int32_t act_max, int32_t qround);
void kws_global_avgpool_q32(const int32_t *input, int32_t *output, int32_t channels, int32_t count,
                            int32_t act_min, int32_t act_max, int32_t qround);

/** float32: acc = +0.0f; for s ascending: acc = acc + x; y = acc / (float)count; clamp_f. */
void kws_global_avgpool_f32(const float *input, float *output, int32_t channels, int32_t count,
                            float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7): the float32 kernel above on the exactly widened input
 * (uint16_t bit patterns), each output rounded once (nearest even) to 16 bits. Same arguments. */
void kws_global_avgpool_f16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t count,
                            float act_min, float act_max);
void kws_global_avgpool_bf16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t count,
                             float act_min, float act_max);
#endif
