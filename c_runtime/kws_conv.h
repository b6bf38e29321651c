/* kws_conv.h -- conv1d / conv2d (docs/numerics.md section 4, "conv1d, conv2d").
 * Layout: input (C, H, W), weight (O, C/groups, KH, KW), output (O, OH, OW), one sample, row-major.
 * conv1d is this kernel with H = KH = 1 (stride_h = dil_h = 1, pad_top = 0), as the oracle does.
 * No scratch memory: one accumulator per output element, terms in the spec's order (ci, kh, kw). */
#ifndef KWS_CONV_H
#define KWS_CONV_H
#include <stdint.h>

/** int8 conv (spec "conv1d, conv2d", int8): acc = bias[o] + sum (x - in_zp) * w over the valid taps (int32,
 * exact by 3.4); y = clamp(requantize(acc, multiplier[o], shift[o], rounding) + out_zp, act_min, act_max). */
void kws_conv2d_s8(const int8_t *input, const int8_t *weight, const int32_t *bias,
                   const int32_t *multiplier, const int32_t *shift, int8_t *output,
                   int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                   int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                   int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_zp, int32_t out_zp,
                   int32_t act_min, int32_t act_max, int32_t rounding);

/** int16 conv, TFLite 16x8 (docs/numerics.md 9.4): zero points 0, int64 bias; acc = bias[o] + sum x * w over the
 * valid taps (int64, |acc| < 2**47 by 9.3); y = clamp(requantize64(acc, multiplier[o], shift[o]), act_min, act_max).
 * No rounding-mode argument: requantize64 is the same in both modes. */
void kws_conv2d_s16(const int16_t *input, const int8_t *weight, const int64_t *bias,
                    const int32_t *multiplier, const int32_t *shift, int16_t *output,
                    int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                    int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                    int32_t pad_top, int32_t pad_left, int32_t groups, int32_t act_min, int32_t act_max);

/** Q-format conv, q8 (docs/numerics.md 10.3, "conv1d / conv2d"): int8 input / weights / output, int32 bias at
 * n_in + weight_frac[o] fractional bits; acc = bias[o] + sum x * w over the valid taps (int32, exact by the load
 * check); y = clamp(qcast(acc, in_frac + weight_frac[o] - out_frac, qround, 8, qoverflow), act_min, act_max).
 * qround / qoverflow: the KWS_ROUND_* / KWS_OVERFLOW_* codes of section 8. */
void kws_conv2d_q8(const int8_t *input, const int8_t *weight, const int32_t *bias, const int32_t *weight_frac,
                   int8_t *output, int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h,
                   int32_t k_w, int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                   int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_frac,
                   int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow);

/** Q-format conv, q16 / q32 (docs/numerics.md 10.3): as kws_conv2d_q8 with int16 weights, int64 bias and int64
 * accumulator, int16 (q16) or int32 (q32) input and output, qcast to 16 or 32 bits. Same arguments. */
void kws_conv2d_q16(const int16_t *input, const int16_t *weight, const int64_t *bias, const int32_t *weight_frac,
                    int16_t *output, int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h,
                    int32_t k_w, int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                    int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_frac,
                    int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow);
void kws_conv2d_q32(const int32_t *input, const int16_t *weight, const int64_t *bias, const int32_t *weight_frac,
                    int32_t *output, int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h,
                    int32_t k_w, int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                    int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_frac,
                    int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow);

/** float32 conv (spec "conv1d, conv2d", float32): acc = bias[o]; for ci, kh, kw ascending (valid taps):
 * acc = acc + x * w (no FMA); y = clamp_f(acc, act_min, act_max). */
void kws_conv2d_f32(const float *input, const float *weight, const float *bias, float *output,
                    int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                    int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                    int32_t pad_top, int32_t pad_left, int32_t groups, float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7): the float32 conv on the exactly widened input, weight and
 * bias (uint16_t bit patterns), each output rounded once (nearest even) to 16 bits. Same arguments. */
void kws_conv2d_f16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                    int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                    int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                    int32_t pad_top, int32_t pad_left, int32_t groups, float act_min, float act_max);
void kws_conv2d_bf16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                     int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                     int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                     int32_t pad_top, int32_t pad_left, int32_t groups, float act_min, float act_max);
#endif
