/* kws_div.h -- div: y = a / (b + eps), elementwise, b broadcast (docs/numerics.md section 4, "div").
 * a and y are (d0, d1, d2) row-major; b is (b0, b1, b2) with each b_i equal to d_i or 1 (broadcast).
 * float32: t = b + eps; y = a / t (one IEEE float32 operation each); y = clamp_f(y, act_min, act_max). */
#ifndef KWS_DIV_H
#define KWS_DIV_H
#include <stdint.h>

void kws_div_f32(const float *a, const float *b, float *output, int32_t d0, int32_t d1, int32_t d2,
                 int32_t b0, int32_t b1, int32_t b2, float eps, float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7). Same arguments, uint16_t bit patterns. */
void kws_div_f16(const uint16_t *a, const uint16_t *b, uint16_t *output, int32_t d0, int32_t d1, int32_t d2,
                 int32_t b0, int32_t b1, int32_t b2, float eps, float act_min, float act_max);
void kws_div_bf16(const uint16_t *a, const uint16_t *b, uint16_t *output, int32_t d0, int32_t d1, int32_t d2,
                  int32_t b0, int32_t b1, int32_t b2, float eps, float act_min, float act_max);
#endif
