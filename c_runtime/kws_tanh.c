/* kws_tanh.c -- see kws_tanh.h. Spec: docs/numerics.md 11.9. */
#include "kws_tanh.h"
#include "kws_fixedpoint.h"

void kws_tanh_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in, int32_t input_multiplier,
                 int32_t input_left_shift, int32_t input_range_radius)
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
            y = kws_rdbpot(kws_tanh_q(kws_requantize(v, input_multiplier, input_left_shift, KWS_ROUND_DOUBLE), 4), 24);
            y = y < -128 ? -128 : (y > 127 ? 127 : y);
        }
        output[i] = (int8_t)y;
    }
}
