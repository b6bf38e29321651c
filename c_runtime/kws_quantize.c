/* kws_quantize.c -- see kws_quantize.h. Spec: docs/numerics.md section 4, "quantize, dequantize". */
#include "kws_quantize.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* One quantized value: v = x / scale (already one float32 division); NaN -> zp; else
 * clamp(roundf(v) + zp, qmin, qmax) in double, then converted (an integer in range: exact). */
KWS_ST_INLINE int32_t quantize_value(float v, int32_t zp, double qmin, double qmax)
{
    double q;
    if (v != v) return zp; /* NaN */
    /* r + zp in double: exact below 2**53; beyond, it saturates anyway; +-inf saturate */
    q = (double)kws_round_half_away_f32(v) + (double)zp;
    if (q < qmin) q = qmin;
    else if (q > qmax) q = qmax;
    return (int32_t)q;
}

/* quantize, once, for every float storage type st of the input and integer storage type it of the output
 * (kws_storage.h); int16 passes zp = 0 (docs/numerics.md 9.4). */
KWS_ST_INLINE void quantize_float_int(const void *input, void *output, int32_t size, float scale, int32_t zp,
                                      int st, int it)
{
    const double qmin = (double)kws_st_qmin(it), qmax = (double)kws_st_qmax(it);
    int32_t i;
    for (i = 0; i < size; i++)
        kws_sti(output, it, i, quantize_value(kws_ldf(input, st, i) / scale, zp, qmin, qmax));
}

/* dequantize, once, for every integer storage type it of the input and float storage type st of the output:
 * one float32 multiplication ((float)(q - zp) is exact); int16 passes zp = 0. */
KWS_ST_INLINE void dequantize_int_float(const void *input, void *output, int32_t size, float scale, int32_t zp,
                                        int it, int st)
{
    int32_t i;
    for (i = 0; i < size; i++)
        kws_stf(output, st, i, (float)(kws_ldi(input, it, i) - zp) * scale);
}

void kws_quantize_f32_s8(const float *input, int8_t *output, int32_t size, float scale, int32_t zp)
{
    quantize_float_int(input, output, size, scale, zp, KWS_ST_F32, KWS_ST_S8);
}

void kws_quantize_f16_s8(const uint16_t *input, int8_t *output, int32_t size, float scale, int32_t zp)
{
    quantize_float_int(input, output, size, scale, zp, KWS_ST_F16, KWS_ST_S8);
}

void kws_quantize_bf16_s8(const uint16_t *input, int8_t *output, int32_t size, float scale, int32_t zp)
{
    quantize_float_int(input, output, size, scale, zp, KWS_ST_BF16, KWS_ST_S8);
}

void kws_dequantize_s8_f32(const int8_t *input, float *output, int32_t size, float scale, int32_t zp)
{
    dequantize_int_float(input, output, size, scale, zp, KWS_ST_S8, KWS_ST_F32);
}

void kws_dequantize_s8_f16(const int8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp)
{
    dequantize_int_float(input, output, size, scale, zp, KWS_ST_S8, KWS_ST_F16);
}

void kws_dequantize_s8_bf16(const int8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp)
{
    dequantize_int_float(input, output, size, scale, zp, KWS_ST_S8, KWS_ST_BF16);
}

void kws_quantize_f32_s16(const float *input, int16_t *output, int32_t size, float scale)
{
    quantize_float_int(input, output, size, scale, 0, KWS_ST_F32, KWS_ST_S16);
}

void kws_quantize_f16_s16(const uint16_t *input, int16_t *output, int32_t size, float scale)
{
    quantize_float_int(input, output, size, scale, 0, KWS_ST_F16, KWS_ST_S16);
}

void kws_quantize_bf16_s16(const uint16_t *input, int16_t *output, int32_t size, float scale)
{
    quantize_float_int(input, output, size, scale, 0, KWS_ST_BF16, KWS_ST_S16);
}

void kws_dequantize_s16_f32(const int16_t *input, float *output, int32_t size, float scale)
{
    dequantize_int_float(input, output, size, scale, 0, KWS_ST_S16, KWS_ST_F32);
}

void kws_dequantize_s16_f16(const int16_t *input, uint16_t *output, int32_t size, float scale)
{
    dequantize_int_float(input, output, size, scale, 0, KWS_ST_S16, KWS_ST_F16);
}

void kws_dequantize_s16_bf16(const int16_t *input, uint16_t *output, int32_t size, float scale)
{
    dequantize_int_float(input, output, size, scale, 0, KWS_ST_S16, KWS_ST_BF16);
}
