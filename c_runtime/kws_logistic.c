/* kws_logistic.c -- see kws_logistic.h. Spec: docs/numerics.md 11.5 (the tanh entry points: kws_tanh.c). */
#include "kws_logistic.h"
#include "kws_fixedpoint.h"

void kws_sigmoid_family_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in,
                           int32_t input_multiplier, int32_t input_left_shift, int32_t input_range_radius, int kind)
{
    int32_t i;
    for (i = 0; i < size; i++) {
        const int32_t v = (int32_t)input[i] - zp_in;
        int32_t y;
        if (v <= -input_range_radius) {
            y = -128;
        } else if (v >= input_range_radius) {
            y = 127;
        } else {
            const int32_t a = kws_requantize(v, input_multiplier, input_left_shift, KWS_ROUND_DOUBLE);
            if (kind == KWS_SIGMOID_LOGISTIC)
                y = kws_rdbpot(kws_logistic_q(a, 4), 23) - 128;
            else
                y = kws_rdbpot(kws_tanh_q(a, 4), 24);
            y = y < -128 ? -128 : (y > 127 ? 127 : y);
        }
        output[i] = (int8_t)y;
    }
}

void kws_sigmoid_family_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_multiplier,
                            int32_t input_left_shift, const uint16_t *sigmoid_table, int kind)
{
    /* |q * m| < 2**30 and round <= 2**30: the sum fits int32 (int64 here, floor shift: no implementation-defined
     * shift of a negative value) */
    const int64_t rnd = input_left_shift > 0 ? (int64_t)1 << (input_left_shift - 1) : 0;
    const int fb = kind == KWS_SIGMOID_LOGISTIC ? 9 : 8;
    int32_t i;
    for (i = 0; i < size; i++) {
        const int64_t v = kws_floor_shift((int64_t)input[i] * input_multiplier + rnd, (int)input_left_shift);
        const int64_t a = v < 0 ? -v : v;
        const int64_t uh = a >> fb;
        int64_t r;
        if (uh >= 255) {
            r = kind == KWS_SIGMOID_LOGISTIC ? (int64_t)0x7FFF << 10 : (int64_t)0xFFFF << 8;
        } else {
            const int64_t ua = sigmoid_table[uh], ub = sigmoid_table[uh + 1];
            r = ua * ((int64_t)1 << fb) + (a & (((int64_t)1 << fb) - 1)) * (ub - ua);
        }
        /* logistic: [1, 32767]; tanh: [-32767, 32767] (numerics 11.5.1) */
        if (kind == KWS_SIGMOID_LOGISTIC)
            r = kws_floor_shift(v >= 0 ? r + 512 : ((int64_t)1 << 25) - r + 511, 10);
        else
            r = kws_floor_shift(v >= 0 ? r - ((int64_t)1 << 23) + 128 : ((int64_t)1 << 23) - r + 127, 8);
        output[i] = (int16_t)r;
    }
}

void kws_logistic_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in, int32_t input_multiplier,
                     int32_t input_left_shift, int32_t input_range_radius)
{
    kws_sigmoid_family_s8(input, output, size, zp_in, input_multiplier, input_left_shift, input_range_radius,
                          KWS_SIGMOID_LOGISTIC);
}

void kws_logistic_s16(const int16_t *input, int16_t *output, int32_t size, int32_t input_multiplier,
                      int32_t input_left_shift, const uint16_t *sigmoid_table)
{
    kws_sigmoid_family_s16(input, output, size, input_multiplier, input_left_shift, sigmoid_table,
                           KWS_SIGMOID_LOGISTIC);
}
