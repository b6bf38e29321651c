/* kws_cast.h -- casts between the float formats float32, fp16, bf16 (docs/numerics.md section 7).
 * Elementwise over n elements; fp16 / bf16 are uint16_t bit patterns. Every cast goes through the exact float32
 * value of its input (widening is exact) and rounds once, to nearest even, to the output format:
 *   to float32: kws_f16_to_f32 / kws_bf16_to_f32 (exact);
 *   to fp16 / bf16: kws_f32_to_f16 / kws_f32_to_bf16 of that float32 value (fp16 <-> bf16 included:
 *   one rounding, since the intermediate float32 is exact).
 * NaN stays NaN (quiet, sign and top payload bits kept, as the conversions of kws_float16.h). */
#ifndef KWS_CAST_H
#define KWS_CAST_H
#include <stdint.h>

void kws_cast_f32_f16(const float *x, uint16_t *y, int32_t n);
void kws_cast_f32_bf16(const float *x, uint16_t *y, int32_t n);
void kws_cast_f16_f32(const uint16_t *x, float *y, int32_t n);
void kws_cast_bf16_f32(const uint16_t *x, float *y, int32_t n);
void kws_cast_f16_bf16(const uint16_t *x, uint16_t *y, int32_t n);
void kws_cast_bf16_f16(const uint16_t *x, uint16_t *y, int32_t n);
#endif
