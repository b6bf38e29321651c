/* kws_relu.h -- relu: a standalone clamp (docs/numerics.md section 4, "relu"). Elementwise, n elements. */
#ifndef KWS_RELU_H
#define KWS_RELU_H
#include <stdint.h>

/** int8: y = clamp(q, act_min, act_max). */
void kws_relu_s8(const int8_t *input, int8_t *output, int32_t size, int32_t act_min, int32_t act_max);

/** int16: y = clamp(q, act_min, act_max) (docs/numerics.md 9.4). */
void kws_relu_s16(const int16_t *input, int16_t *output, int32_t size, int32_t act_min, int32_t act_max);

/** int32 (the q32 container; docs/numerics.md 10.3, "relu"; q8 / q16 call kws_relu_s8 / _s16):
 * y = clamp(q, act_min, act_max). */
void kws_relu_s32(const int32_t *input, int32_t *output, int32_t size, int32_t act_min, int32_t act_max);

/** float32: y = clamp_f(x, act_min, act_max) (NaN passes through). */
void kws_relu_f32(const float *input, float *output, int32_t size, float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7): the float32 kernel above on the exactly widened input
 * (uint16_t bit patterns), each output rounded once (nearest even) to 16 bits. Same arguments. */
void kws_relu_f16(const uint16_t *input, uint16_t *output, int32_t size, float act_min, float act_max);
void kws_relu_bf16(const uint16_t *input, uint16_t *output, int32_t size, float act_min, float act_max);
#endif
