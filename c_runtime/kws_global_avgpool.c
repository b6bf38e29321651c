/* kws_global_avgpool.c -- see kws_global_avgpool.h. Spec: docs/numerics.md section 4, "global_avgpool". */
#include "kws_global_avgpool.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

void kws_global_avgpool_s8(const int8_t *input, int8_t *output, int32_t channels, int32_t count,
                           int32_t in_zp, int32_t multiplier, int32_t shift, int32_t out_zp,
                           int32_t act_min, int32_t act_max, int32_t rounding)
{
    int32_t c, s;
    for (c = 0; c < channels; c++) {
        const int8_t *xc = input + (int64_t)c * count;
        int32_t acc = 0;
        int64_t v;
        for (s = 0; s < count; s++)
            acc += (int32_t)xc[s] - in_zp;
        v = (int64_t)kws_requantize(acc, multiplier, shift, (int)rounding) + out_zp;
        output[c] = (int8_t)kws_clamp(v, act_min, act_max);
    }
}

/* The float kernel, once, for every storage type st (kws_storage.h). */
KWS_ST_INLINE void global_avgpool_float(const void *input, void *output, int32_t channels, int32_t count,
                                        float act_min, float act_max, int st)
{
    int32_t c, s;
    for (c = 0; c < channels; c++) {
        const void *xc = kws_cadv(input, st, (int64_t)c * count);
        float acc = 0.0f;
        for (s = 0; s < count; s++)
            acc = acc + kws_ldf(xc, st, s);
        kws_stf(output, st, c, kws_clamp_f32(acc / (float)count, act_min, act_max));
    }
}

void kws_global_avgpool_f32(const float *input, float *output, int32_t channels, int32_t count,
                            float act_min, float act_max)
{
    global_avgpool_float(input, output, channels, count, act_min, act_max, KWS_ST_F32);
}

void kws_global_avgpool_f16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t count,
                            float act_min, float act_max)
{
    global_avgpool_float(input, output, channels, count, act_min, act_max, KWS_ST_F16);
}

void kws_global_avgpool_bf16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t count,
                             float act_min, float act_max)
{
    global_avgpool_float(input, output, channels, count, act_min, act_max, KWS_ST_BF16);
}
