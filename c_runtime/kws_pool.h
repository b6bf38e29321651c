/* kws_pool.h -- avgpool1d/2d, maxpool1d/2d (docs/numerics.md section 4, "Pooling").
 * Layout: input (C, H, W), output (C, OH, OW), one sample; the 1d ops are these kernels with H = KH = 1,
 * stride_h = dil_h = 1, pad_top = 0. No scratch memory. */
#ifndef KWS_POOL_H
#define KWS_POOL_H
#include <stdint.h>

/** int8 avgpool ("int8 avgpool"): sum of q over the valid taps (int32: 128 * KH * KW < 2**31, checked),
 * cnt = number of valid taps; count_include_pad: sum += (KH*KW - cnt) * zp, cnt = KH*KW;
 * y = clamp(div_round_away(sum, cnt), act_min, act_max). Input and output share (scale, zp). */
void kws_avgpool2d_s8(const int8_t *input, int8_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                      int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                      int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t zp,
                      int32_t act_min, int32_t act_max);

/** int16 avgpool (docs/numerics.md 9.4): the int8 rule with zero point 0 (sum: 32768 * KH * KW < 2**31, checked;
 * count_include_pad only changes the divisor). Input and output share the scale. */
void kws_avgpool2d_s16(const int16_t *input, int16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t act_min, int32_t act_max);

/** Q-format avgpool (docs/numerics.md 10.3, "avgpool1d / avgpool2d"; output frac_bits = input's): sum of q over
 * the valid taps (int64), cnt = the number of valid taps (KH * KW with count_include_pad: padded taps are 0);
 * y = clamp(div_round(sum, cnt, qround), act_min, act_max). The kws_avgpool2d_s16 arguments, then qround
 * (section 8's code); q8 / q16 / q32 = int8_t / int16_t / int32_t. */
void kws_avgpool2d_q8(const int8_t *input, int8_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                      int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                      int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t act_min, int32_t act_max,
                      int32_t qround);
void kws_avgpool2d_q16(const int16_t *input, int16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t act_min, int32_t act_max,
                       int32_t qround);
void kws_avgpool2d_q32(const int32_t *input, int32_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t act_min, int32_t act_max,
                       int32_t qround);

/** float32 avgpool ("float32"): acc = +0.0f; valid taps kh outer, kw inner: acc = acc + x;
 * y = acc / (float)cnt (cnt = KH*KW if count_include_pad else the valid taps); clamp_f. */
void kws_avgpool2d_f32(const float *input, float *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7): the float32 kernel above on the exactly widened input
 * (uint16_t bit patterns), each output rounded once (nearest even) to 16 bits. Same arguments. */
void kws_avgpool2d_f16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, float act_min, float act_max);
void kws_avgpool2d_bf16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                        int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                        int32_t pad_top, int32_t pad_left, int32_t count_include_pad, float act_min, float act_max);

/** int8 maxpool ("int8 maxpool"): max of q over the valid (dilated) taps, then clamp. */
void kws_maxpool2d_s8(const int8_t *input, int8_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                      int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                      int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                      int32_t act_min, int32_t act_max);

/** int16 maxpool (docs/numerics.md 9.4): max of q over the valid (dilated) taps, then clamp. */
void kws_maxpool2d_s16(const int16_t *input, int16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                       int32_t act_min, int32_t act_max);

/** int32 maxpool (the q32 container, docs/numerics.md 10.3, "maxpool1d / maxpool2d"; q8 / q16 call
 * kws_maxpool2d_s8 / _s16): max of q over the valid (dilated) taps, then clamp. */
void kws_maxpool2d_s32(const int32_t *input, int32_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                       int32_t act_min, int32_t act_max);

/** float32 maxpool: m = -inf; valid taps kh outer, kw inner: if (v > m || v != v) m = v (NaN propagates);
 * then clamp_f. */
void kws_maxpool2d_f32(const float *input, float *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                       float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7): the float32 kernel above on the exactly widened input
 * (uint16_t bit patterns), each output rounded once (nearest even) to 16 bits. Same arguments. */
void kws_maxpool2d_f16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                       float act_min, float act_max);
void kws_maxpool2d_bf16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                        int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                        int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                        float act_min, float act_max);
#endif
