/* kws_quantize.c -- see kws_quantize.h. Spec: docs/numerics.md section 4, "quantize, dequantize". */
#include "kws_quantize.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* quantize, once, for every float storage type st of the input (kws_storage.h). */
KWS_ST_INLINE void quantize_float_s8(const void *input, int8_t *output, int32_t size, float scale, int32_t zp,
                                     int st)
{
    int32_t i;
    for (i = 0; i < size; i++) {
        const float v = kws_ldf(input, st, i) / scale;
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

/* dequantize, once, for every float storage type st of the output (kws_storage.h). */
KWS_ST_INLINE void dequantize_s8_float(const int8_t *input, void *output, int32_t size, float scale, int32_t zp,
                                       int st)
{
    int32_t i;
    for (i = 0; i < size; i++)
        kws_stf(output, st, i, (float)((int32_t)input[i] - zp) * scale);
}

void kws_quantize_f32_s8(const float *input, int8_t *output, int32_t size, float scale, int32_t zp)
{
    quantize_float_s8(input, output, size, scale, zp, KWS_ST_F32);
}

void kws_quantize_f16_s8(const uint16_t *input, int8_t *output, int32_t size, float scale, int32_t zp)
{
    quantize_float_s8(input, output, size, scale, zp, KWS_ST_F16);
}

void kws_quantize_bf16_s8(const uint16_t *input, int8_t *output, int32_t size, float scale, int32_t zp)
{
    quantize_float_s8(input, output, size, scale, zp, KWS_ST_BF16);
}

void kws_dequantize_s8_f32(const int8_t *input, float *output, int32_t size, float scale, int32_t zp)
{
    dequantize_s8_float(input, output, size, scale, zp, KWS_ST_F32);
}

void kws_dequantize_s8_f16(const int8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp)
{
    dequantize_s8_float(input, output, size, scale, zp, KWS_ST_F16);
}

void kws_dequantize_s8_bf16(const int8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp)
{
    dequantize_s8_float(input, output, size, scale, zp, KWS_ST_BF16);
}
