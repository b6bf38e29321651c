/* kws_logistic.c -- see kws_logistic.h. Spec: docs/numerics.md 11.5. */
#include "kws_logistic.h"
#include "kws_fixedpoint.h"

void kws_logistic_s8(const int8_t *input, int8_t *output, int32_t size, int32_t zp_in, int32_t input_multiplier,
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
            const int32_t r = kws_logistic_q(kws_requantize(v, input_multiplier, input_left_shift, KWS_ROUND_DOUBLE), 4);
            y = kws_rdbpot(r, 23) - 128;
            y = y < -128 ? -128 : (y > 127 ? 127 : y);
        }
        output[i] = (int8_t)y;
    }
}
