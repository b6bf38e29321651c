/* kws_logistic.h -- logistic: TFLM's LOGISTIC, int8 and int16 (docs/numerics.md 11.5), and the kernels it shares
 * with tanh (kws_tanh.h). One sample per call, no malloc. */
#ifndef KWS_LOGISTIC_H
#define KWS_LOGISTIC_H
#include <stdint.h>

#define KWS_SIGMOID_LOGISTIC 0
#define KWS_SIGMOID_TANH 1

/** The shared int8 kernel: x = q - zp_in; -128 for x <= -radius, 127 for x >= radius, else gemmlowp's logistic
 * (kind KWS_SIGMOID_LOGISTIC: rounded to 1/256, - 128) or tanh (KWS_SIGMOID_TANH: rounded to 1/128) of the Q4.27
 * requantize(x, multiplier, left_shift) (double rounding). */
void kws_sigmoid_family_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in,
                           int32_t input_multiplier, int32_t input_left_shift, int32_t input_range_radius, int kind);

/** The shared int16 kernel (TFLM's int16 LOGISTIC / TANH): v = (q * multiplier + round) >> left_shift
 * (multiplier <= 32767, left_shift <= 31), |v| interpolated in TFLM's 256-entry sigmoid table with 9 (logistic)
 * or 8 (tanh) fraction bits, folded by symmetry; output scale 2**-15, zero points 0. */
void kws_sigmoid_family_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_multiplier,
                            int32_t input_left_shift, const uint16_t *sigmoid_table, int kind);

/** int8 -> int8 (output zero point -128). */
void kws_logistic_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in, int32_t input_multiplier,
                     int32_t input_left_shift, int32_t input_range_radius);
/** int16 -> int16 (scale 2**-15, zero point 0). */
void kws_logistic_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_multiplier,
                      int32_t input_left_shift, const uint16_t *sigmoid_table);
#endif
