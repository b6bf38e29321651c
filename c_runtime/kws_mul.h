/* kws_mul.h -- mul: TFLM's int8 and int16 MUL with broadcasting (docs/numerics.md 11.11). One sample per call. */
#ifndef KWS_MUL_H
#define KWS_MUL_H
#include <stdint.h>

/** Output (n0, n1, n2); input a's element at output index (i, j, k) is a[i*a0 + j*a1 + k*a2] (stride 0 where a
 * broadcasts), likewise b (the second input, or a constant operand's array). y = clamp(requantize((a - za) *
 * (b - zb), multiplier, shift, mode) + zo, lo, hi). */
void kws_mul_s8(const int8_t *a, const int8_t *b, int8_t *output, int32_t n0, int32_t n1, int32_t n2, int32_t a0,
                int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t za, int32_t zb, int32_t zo,
                int32_t multiplier, int32_t shift, int32_t mode, int32_t act_min, int32_t act_max);

/** int16 (TFLM's int16 MUL, docs/numerics.md 11.11): the same arguments and formula; the zero points are 0 (the
 * caller passes 0) and |a * b| <= 2**30 stays inside int32. */
void kws_mul_s16(const int16_t *a, const int16_t *b, int16_t *output, int32_t n0, int32_t n1, int32_t n2,
                 int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t za, int32_t zb,
                 int32_t zo, int32_t multiplier, int32_t shift, int32_t mode, int32_t act_min, int32_t act_max);
#endif
