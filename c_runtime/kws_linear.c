/* kws_linear.c -- see kws_linear.h. Spec: docs/numerics.md section 4, "linear". */
#include "kws_linear.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The integer kernel, once, for every integer storage type it of input and output (kws_storage.h); weights
 * are int8 for both. int8: int32 accumulator (exact by 3.4), the 32-bit requantize in `rounding`, zero points.
 * int16 (TFLite 16x8, docs/numerics.md 9.4): zero points 0 (the wrapper passes 0), int64 bias and accumulator
 * (|acc| < 2**47 by 9.3), requantize64 (the same in both rounding modes). */
KWS_ST_INLINE void linear_int(const void *input, const int8_t *weight, const void *bias,
                              const int32_t *multiplier, const int32_t *shift, void *output,
                              int32_t in_features, int32_t out_features, int32_t in_zp, int32_t out_zp,
                              int32_t act_min, int32_t act_max, int32_t rounding, int it)
{
    int32_t o, f;
    for (o = 0; o < out_features; o++) {
        const int8_t *wo = weight + (int64_t)o * in_features;
        int32_t acc32 = 0; /* int8 */
        int64_t acc64 = 0; /* int16 */
        int64_t v;
        if (it == KWS_ST_S16) acc64 = ((const int64_t *)bias)[o];
        else acc32 = ((const int32_t *)bias)[o];
        for (f = 0; f < in_features; f++) {
            const int32_t t = (kws_ldi(input, it, f) - in_zp) * (int32_t)wo[f]; /* |t| <= 2**22 */
            if (it == KWS_ST_S16) acc64 += t;
            else acc32 += t;
        }
        if (it == KWS_ST_S16) v = kws_requantize_s64(acc64, multiplier[o], shift[o]);
        else v = (int64_t)kws_requantize(acc32, multiplier[o], shift[o], (int)rounding) + out_zp;
        kws_sti(output, it, o, kws_clamp(v, act_min, act_max));
    }
}

void kws_linear_s8(const int8_t *input, const int8_t *weight, const int32_t *bias,
                   const int32_t *multiplier, const int32_t *shift, int8_t *output,
                   int32_t in_features, int32_t out_features, int32_t in_zp, int32_t out_zp,
                   int32_t act_min, int32_t act_max, int32_t rounding)
{
    linear_int(input, weight, bias, multiplier, shift, output, in_features, out_features, in_zp, out_zp,
               act_min, act_max, rounding, KWS_ST_S8);
}

void kws_linear_s16(const int16_t *input, const int8_t *weight, const int64_t *bias,
                    const int32_t *multiplier, const int32_t *shift, int16_t *output,
                    int32_t in_features, int32_t out_features, int32_t act_min, int32_t act_max)
{
    linear_int(input, weight, bias, multiplier, shift, output, in_features, out_features, 0, 0,
               act_min, act_max, KWS_ROUND_DOUBLE, KWS_ST_S16);
}

/* The float kernel, once, for every storage type st (kws_storage.h). */
KWS_ST_INLINE void linear_float(const void *input, const void *weight, const void *bias, void *output,
                                int32_t in_features, int32_t out_features, float act_min, float act_max, int st)
{
    int32_t o, f;
    for (o = 0; o < out_features; o++) {
        const void *wo = kws_cadv(weight, st, (int64_t)o * in_features);
        float acc = kws_ldf(bias, st, o);
        for (f = 0; f < in_features; f++)
            acc = acc + kws_ldf(input, st, f) * kws_ldf(wo, st, f);
        kws_stf(output, st, o, kws_clamp_f32(acc, act_min, act_max));
    }
}

void kws_linear_f32(const float *input, const float *weight, const float *bias, float *output,
                    int32_t in_features, int32_t out_features, float act_min, float act_max)
{
    linear_float(input, weight, bias, output, in_features, out_features, act_min, act_max, KWS_ST_F32);
}

void kws_linear_f16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                    int32_t in_features, int32_t out_features, float act_min, float act_max)
{
    linear_float(input, weight, bias, output, in_features, out_features, act_min, act_max, KWS_ST_F16);
}

void kws_linear_bf16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                     int32_t in_features, int32_t out_features, float act_min, float act_max)
{
    linear_float(input, weight, bias, output, in_features, out_features, act_min, act_max, KWS_ST_BF16);
}
