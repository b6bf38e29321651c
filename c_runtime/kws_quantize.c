/* kws_quantize.c -- see kws_quantize.h. Spec: docs/numerics.md section 4, "quantize, dequantize". */
#include "kws_quantize.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* One quantized value: v = x / scale (already one float32 division); NaN -> zp; else
 * clamp(roundf(v) + zp, qmin, qmax), in float32 and int32 only (no double, no libm): r = roundf(v) is an
 * integer-valued float; r + zp < qmin exactly when r < qmin - zp (a small integer, exact in float32), so the
 * clamp is two float comparisons and, in range, |r| <= 65535 converts to int32 exactly. +-inf saturate. */
KWS_ST_INLINE int32_t quantize_value(float v, int32_t zp, int32_t qmin, int32_t qmax)
{
    float r;
    if (v != v) return zp; /* NaN */
    r = kws_round_half_away_f32(v);
    if (r < (float)(qmin - zp)) return qmin;
    if (r > (float)(qmax - zp)) return qmax;
    return (int32_t)r + zp;
}

/* quantize, once, for every float storage type st of the input and integer storage type it of the output
 * (kws_storage.h); int16 passes zp = 0 (docs/numerics.md 9.4). */
KWS_ST_INLINE void quantize_float_int(const void *input, void *output, int32_t size, float scale, int32_t zp,
                                      int st, int it)
{
    const int32_t qmin = kws_st_qmin(it), qmax = kws_st_qmax(it);
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

void kws_dequantize_u8_f32(const uint8_t *input, float *output, int32_t size, float scale, int32_t zp)
{
    dequantize_int_float(input, output, size, scale, zp, KWS_ST_U8, KWS_ST_F32);
}

void kws_dequantize_u8_f16(const uint8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp)
{
    dequantize_int_float(input, output, size, scale, zp, KWS_ST_U8, KWS_ST_F16);
}

void kws_dequantize_u8_bf16(const uint8_t *input, uint16_t *output, int32_t size, float scale, int32_t zp)
{
    dequantize_int_float(input, output, size, scale, zp, KWS_ST_U8, KWS_ST_BF16);
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

/* ---------------------------------------------------------------------------------------------------------
 * Q-format quantize / dequantize (docs/numerics.md 10.3). */

/* The float32 2**n for n in [-126, 127] (frac_bits in [-32, 62]: a normal number), from its bit pattern. */
KWS_ST_INLINE float pow2_f32(int32_t n)
{
    return kws_bits_f32((uint32_t)(n + 127) << 23);
}

/* quantize to Q, once, for every float storage type st of the input and integer storage type it of the output:
 * x widened exactly to float32, kws_quantize_q(x, 2**frac_bits, qround, bits, qoverflow). */
KWS_ST_INLINE void quantize_float_q(const void *input, void *output, int32_t size, int32_t frac_bits, int32_t qround,
                                    int32_t qoverflow, int st, int it)
{
    const float scale = pow2_f32(frac_bits);
    const int bits = kws_st_bits(it);
    int32_t i;
    for (i = 0; i < size; i++)
        kws_sti(output, it, i, kws_quantize_q(kws_ldf(input, st, i), scale, (int)qround, bits, (int)qoverflow));
}

void kws_quantize_f32_q8(const float *input, int8_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                         int32_t qoverflow)
{
    quantize_float_q(input, output, size, frac_bits, qround, qoverflow, KWS_ST_F32, KWS_ST_S8);
}

void kws_quantize_f32_q16(const float *input, int16_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow)
{
    quantize_float_q(input, output, size, frac_bits, qround, qoverflow, KWS_ST_F32, KWS_ST_S16);
}

void kws_quantize_f32_q32(const float *input, int32_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow)
{
    quantize_float_q(input, output, size, frac_bits, qround, qoverflow, KWS_ST_F32, KWS_ST_S32);
}

void kws_quantize_f16_q8(const uint16_t *input, int8_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                         int32_t qoverflow)
{
    quantize_float_q(input, output, size, frac_bits, qround, qoverflow, KWS_ST_F16, KWS_ST_S8);
}

void kws_quantize_f16_q16(const uint16_t *input, int16_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow)
{
    quantize_float_q(input, output, size, frac_bits, qround, qoverflow, KWS_ST_F16, KWS_ST_S16);
}

void kws_quantize_f16_q32(const uint16_t *input, int32_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow)
{
    quantize_float_q(input, output, size, frac_bits, qround, qoverflow, KWS_ST_F16, KWS_ST_S32);
}

void kws_quantize_bf16_q8(const uint16_t *input, int8_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                          int32_t qoverflow)
{
    quantize_float_q(input, output, size, frac_bits, qround, qoverflow, KWS_ST_BF16, KWS_ST_S8);
}

void kws_quantize_bf16_q16(const uint16_t *input, int16_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                           int32_t qoverflow)
{
    quantize_float_q(input, output, size, frac_bits, qround, qoverflow, KWS_ST_BF16, KWS_ST_S16);
}

void kws_quantize_bf16_q32(const uint16_t *input, int32_t *output, int32_t size, int32_t frac_bits, int32_t qround,
                           int32_t qoverflow)
{
    quantize_float_q(input, output, size, frac_bits, qround, qoverflow, KWS_ST_BF16, KWS_ST_S32);
}

/* dequantize from Q: dequantize_int_float with zp 0 and scale 2**-frac_bits: y = (float)q * 2**-n, one float32
 * multiplication ((float)q rounds to nearest even for |q| > 2**24, q32 only). */
void kws_dequantize_q8_f32(const int8_t *input, float *output, int32_t size, int32_t frac_bits)
{
    dequantize_int_float(input, output, size, pow2_f32(-frac_bits), 0, KWS_ST_S8, KWS_ST_F32);
}

void kws_dequantize_q8_f16(const int8_t *input, uint16_t *output, int32_t size, int32_t frac_bits)
{
    dequantize_int_float(input, output, size, pow2_f32(-frac_bits), 0, KWS_ST_S8, KWS_ST_F16);
}

void kws_dequantize_q8_bf16(const int8_t *input, uint16_t *output, int32_t size, int32_t frac_bits)
{
    dequantize_int_float(input, output, size, pow2_f32(-frac_bits), 0, KWS_ST_S8, KWS_ST_BF16);
}

void kws_dequantize_q16_f32(const int16_t *input, float *output, int32_t size, int32_t frac_bits)
{
    dequantize_int_float(input, output, size, pow2_f32(-frac_bits), 0, KWS_ST_S16, KWS_ST_F32);
}

void kws_dequantize_q16_f16(const int16_t *input, uint16_t *output, int32_t size, int32_t frac_bits)
{
    dequantize_int_float(input, output, size, pow2_f32(-frac_bits), 0, KWS_ST_S16, KWS_ST_F16);
}

void kws_dequantize_q16_bf16(const int16_t *input, uint16_t *output, int32_t size, int32_t frac_bits)
{
    dequantize_int_float(input, output, size, pow2_f32(-frac_bits), 0, KWS_ST_S16, KWS_ST_BF16);
}

void kws_dequantize_q32_f32(const int32_t *input, float *output, int32_t size, int32_t frac_bits)
{
    dequantize_int_float(input, output, size, pow2_f32(-frac_bits), 0, KWS_ST_S32, KWS_ST_F32);
}

void kws_dequantize_q32_f16(const int32_t *input, uint16_t *output, int32_t size, int32_t frac_bits)
{
    dequantize_int_float(input, output, size, pow2_f32(-frac_bits), 0, KWS_ST_S32, KWS_ST_F16);
}

void kws_dequantize_q32_bf16(const int32_t *input, uint16_t *output, int32_t size, int32_t frac_bits)
{
    dequantize_int_float(input, output, size, pow2_f32(-frac_bits), 0, KWS_ST_S32, KWS_ST_BF16);
}

/* int16 PCM -> int8 by a threshold table (see kws_quantize.h): a branch-light binary search, 8 steps. */
void kws_quantize_pcm_s8(const int16_t *pcm, int8_t *output, int32_t size, const int16_t *thresholds, int32_t q_lo)
{
    int32_t i;
    for (i = 0; i < size; i++) {
        const int32_t s = pcm[i];
        int32_t k = 0, step;
        for (step = 128; step > 0; step >>= 1)
            if (s > thresholds[k + step - 1]) k += step;
        output[i] = (int8_t)(q_lo + k);
    }
}
