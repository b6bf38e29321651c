/* kws_add.h -- add: elementwise sum of two tensors with broadcasting (docs/numerics.md section 4, "add").
 * One sample per call. Every kernel takes the output shape (n0, n1, n2) (leading 1s) and each input's element
 * strides per output axis, a0..a2 and b0..b2 (0 where that input broadcasts; kws_broadcast.h): input1's element
 * at output index (i, j, k) is input1[i*a0 + j*a1 + k*a2]. Same shapes: (1, 1, size) and strides (0, 0, 1). */
#ifndef KWS_ADD_H
#define KWS_ADD_H
#include <stdint.h>

/** int8 (TFLite ADD): x_i' = (q_i - zp_i) * 2**left_shift; raw = requantize(x1', in1_multiplier, in1_shift)
 * + requantize(x2', in2_multiplier, in2_shift); y = clamp(requantize(raw, out_multiplier, out_shift)
 * + out_zp, act_min, act_max); every requantize in the model's rounding mode; all int32 by the attribute
 * ranges (left_shift <= 22, in shifts <= 0). */
void kws_add_s8(const int8_t *input1, const int8_t *input2, int8_t *output, int32_t n0, int32_t n1, int32_t n2,
    int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2,
                int32_t in1_zp, int32_t in2_zp, int32_t left_shift,
                int32_t in1_multiplier, int32_t in1_shift, int32_t in2_multiplier, int32_t in2_shift,
                int32_t out_multiplier, int32_t out_shift, int32_t out_zp,
                int32_t act_min, int32_t act_max, int32_t rounding);

/** int16 add, TFLM's general quantized ADD for int16 (docs/numerics.md 9.4): zero points 0, left_shift <= 15;
 * the int8 formula: raw = requantize(q1 * 2**left_shift, in1) + requantize(q2 * 2**left_shift, in2);
 * y = clamp(requantize(raw, out), act_min, act_max), every requantize in `rounding`. */
void kws_add_s16(const int16_t *input1, const int16_t *input2, int16_t *output, int32_t n0, int32_t n1, int32_t n2,
    int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t left_shift,
                 int32_t in1_multiplier, int32_t in1_shift, int32_t in2_multiplier, int32_t in2_shift,
                 int32_t out_multiplier, int32_t out_shift, int32_t act_min, int32_t act_max, int32_t rounding);

/** Q-format add (docs/numerics.md 10.3, "add"): inputs with frac1, frac2 fractional bits (|frac1 - frac2| <= 31),
 * n = max(frac1, frac2); a = x1 * 2**(n - frac1) + x2 * 2**(n - frac2) (int64, exact);
 * y = clamp(qcast(a, n - out_frac, qround, bits, qoverflow), act_min, act_max), bits = 8 / 16 / 32 (the
 * container of inputs and output: int8_t / int16_t / int32_t). qround / qoverflow: section 8's codes. */
void kws_add_q8(const int8_t *input1, const int8_t *input2, int8_t *output, int32_t n0, int32_t n1, int32_t n2,
    int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t frac1,
                int32_t frac2, int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow);
void kws_add_q16(const int16_t *input1, const int16_t *input2, int16_t *output, int32_t n0, int32_t n1, int32_t n2,
    int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t frac1,
                 int32_t frac2, int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow);
void kws_add_q32(const int32_t *input1, const int32_t *input2, int32_t *output, int32_t n0, int32_t n1, int32_t n2,
    int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t frac1,
                 int32_t frac2, int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow);

/** float32: y = clamp_f(x1 + x2, act_min, act_max) (one float32 addition). */
void kws_add_f32(const float *input1, const float *input2, float *output, int32_t n0, int32_t n1, int32_t n2,
    int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2,
                 float act_min, float act_max);

/** fp16 / bf16 storage (docs/numerics.md section 7): the float32 kernel above on the exactly widened inputs
 * (uint16_t bit patterns), each output rounded once (nearest even) to 16 bits. Same arguments. */
void kws_add_f16(const uint16_t *input1, const uint16_t *input2, uint16_t *output, int32_t n0, int32_t n1, int32_t n2,
    int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2,
                 float act_min, float act_max);
void kws_add_bf16(const uint16_t *input1, const uint16_t *input2, uint16_t *output, int32_t n0, int32_t n1, int32_t n2,
    int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2,
                  float act_min, float act_max);
#endif
