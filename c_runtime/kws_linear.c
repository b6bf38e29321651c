/* kws_linear.c -- see kws_linear.h. Spec: docs/numerics.md section 4, "linear". */
#include "kws_linear.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

void kws_linear_s8(const int8_t *input, const int8_t *weight, const int32_t *bias,
                   const int32_t *multiplier, const int32_t *shift, int8_t *output,
                   int32_t in_features, int32_t out_features, int32_t in_zp, int32_t out_zp,
                   int32_t act_min, int32_t act_max, int32_t rounding)
{
    int32_t o, f;
    for (o = 0; o < out_features; o++) {
        const int8_t *wo = weight + (int64_t)o * in_features;
        int32_t acc = bias[o]; /* |acc| < 2**31: checked at load (3.4) */
        int64_t v;
        for (f = 0; f < in_features; f++)
            acc += ((int32_t)input[f] - in_zp) * (int32_t)wo[f];
        v = (int64_t)kws_requantize(acc, multiplier[o], shift[o], (int)rounding) + out_zp;
        output[o] = (int8_t)kws_clamp(v, act_min, act_max);
    }
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
