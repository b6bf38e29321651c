/* kws_quantize.c -- see kws_quantize.h. Spec: docs/numerics.md section 4, "quantize, dequantize". */
#include "kws_quantize.h"
#include "kws_fixedpoint.h"

void kws_quantize_f32_s8(const float *input, int8_t *output, int32_t size, float scale, int32_t zp)
{
    int32_t i;
    for (i = 0; i < size; i++) {
        const float v = input[i] / scale;
        double q;
        if (v != v) { /* NaN */
            output[i] = (int8_t)zp;
            continue;
        }
        /* r + zp in double: exact below 2**53; beyond, it saturates anyway; +-inf saturate */
        q = (double)kws_round_half_away_f32(v) + (double)zp;
        if (q < -128.0) q = -128.0;
        else if (q > 127.0) q = 127.0;
        output[i] = (int8_t)(int32_t)q; /* an integer in [-128, 127]: the conversion is exact */
    }
}

void kws_dequantize_s8_f32(const int8_t *input, float *output, int32_t size, float scale, int32_t zp)
{
    int32_t i;
    for (i = 0; i < size; i++)
        output[i] = (float)((int32_t)input[i] - zp) * scale;
}
