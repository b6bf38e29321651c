/* kws_linear.h -- linear / fully connected (docs/numerics.md section 4, "linear").
 * input (F,), weight (O, F) (PyTorch layout), bias (O,), output (O,); one sample. */
#ifndef KWS_LINEAR_H
#define KWS_LINEAR_H
#include <stdint.h>

/** int8 linear: acc = bias[o] + sum_f (x[f] - in_zp) * w[o, f] (int32, exact by 3.4);
 * y = clamp(requantize(acc, multiplier[o], shift[o], rounding) + out_zp, act_min, act_max). */
void kws_linear_s8(const int8_t *input, const int8_t *weight, const int32_t *bias,
                   const int32_t *multiplier, const int32_t *shift, int8_t *output,
                   int32_t in_features, int32_t out_features, int32_t in_zp, int32_t out_zp,
                   int32_t act_min, int32_t act_max, int32_t rounding);

/** int16 linear, TFLite 16x8 (docs/numerics.md 9.4): acc = bias[o] + sum_f x[f] * w[o, f] (int64, |acc| < 2**47
 * by 9.3); y = clamp(requantize64(acc, multiplier[o], shift[o]), act_min, act_max). Zero points 0. */
void kws_linear_s16(const int16_t *input, const int8_t *weight, const int64_t *bias,
                    const int32_t *multiplier, const int32_t *shift, int16_t *output,
                    int32_t in_features, int32_t out_features, int32_t act_min, int32_t act_max);

/** Q-format linear (docs/numerics.md 10.3, "linear"): acc = bias[o] + sum_f x[f] * w[o, f] (exact: int32 for q8,
 * int64 for q16 / q32); y = clamp(qcast(acc, in_frac + weight_frac[o] - out_frac, qround, bits, qoverflow),
 * act_min, act_max). q8: int8 input / weights / output, int32 bias; q16: int16 input / weights / output, int64
 * bias; q32: int32 input / output, int16 weights, int64 bias. qround / qoverflow: section 8's codes. */
void kws_linear_q8(const int8_t *input, const int8_t *weight, const int32_t *bias, const int32_t *weight_frac,
                   int8_t *output, int32_t in_features, int32_t out_features, int32_t in_frac, int32_t out_frac,
                   int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow);
void kws_linear_q16(const int16_t *input, const int16_t *weight, const int64_t *bias, const int32_t *weight_frac,
                    int16_t *output, int32_t in_features, int32_t out_features, int32_t in_frac, int32_t out_frac,
                    int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow);
void kws_linear_q32(const int32_t *input, const int16_t *weight, const int64_t *bias, const int32_t *weight_frac,
                    int32_t *output, int32_t in_features, int32_t out_features, int32_t in_frac, int32_t out_frac,
                    int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow);

/** float32 linear: acc = bias[o]; for f ascending: acc = acc + x[f] * w[o, f] (no FMA); clamp_f. */
void kws_linear_f32(const float *input, const float *weight, const float *bias, float *output,
                    int32_t in_features, int32_t out_features, float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7): the float32 kernel above on the exactly widened input, weight and bias
 * (uint16_t bit patterns), each output rounded once (nearest even) to 16 bits. Same arguments. */
void kws_linear_f16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                    int32_t in_features, int32_t out_features, float act_min, float act_max);
void kws_linear_bf16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                     int32_t in_features, int32_t out_features, float act_min, float act_max);
#endif
