/* kws_global_avgpool.c -- see kws_global_avgpool.h. Spec: docs/numerics.md section 4, "global_avgpool". */
#include "kws_global_avgpool.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The integer kernel, once, for every integer storage type it (kws_storage.h); int16 passes in_zp = out_zp = 0
 * (docs/numerics.md 9.4). acc is int32: count * 255 (int8) or count * 32768 (int16) < 2**31, checked at load. */
KWS_ST_INLINE void global_avgpool_int(const void *input, void *output, int32_t channels, int32_t count,
                                      int32_t in_zp, int32_t multiplier, int32_t shift, int32_t out_zp,
                                      int32_t act_min, int32_t act_max, int32_t rounding, int it)
{
    int32_t c, s;
    for (c = 0; c < channels; c++) {
        const void *xc = kws_cadv(input, it, (int64_t)c * count);
        int32_t acc = 0;
        int64_t v;
        for (s = 0; s < count; s++)
            acc += kws_ldi(xc, it, s) - in_zp;
        v = (int64_t)kws_requantize(acc, multiplier, shift, (int)rounding) + out_zp;
        kws_sti(output, it, c, kws_clamp(v, act_min, act_max));
    }
}

void kws_global_avgpool_s8(const int8_t *input, int8_t *output, int32_t channels, int32_t count,
                           int32_t in_zp, int32_t multiplier, int32_t shift, int32_t out_zp,
                           int32_t act_min, int32_t act_max, int32_t rounding)
{
    global_avgpool_int(input, output, channels, count, in_zp, multiplier, shift, out_zp, act_min, act_max,
                       rounding, KWS_ST_S8);
}

void kws_global_avgpool_s16(const int16_t *input, int16_t *output, int32_t channels, int32_t count,
                            int32_t multiplier, int32_t shift, int32_t act_min, int32_t act_max, int32_t rounding)
{
    global_avgpool_int(input, output, channels, count, 0, multiplier, shift, 0, act_min, act_max, rounding,
                       KWS_ST_S16);
}

/* The Q-format kernel (docs/numerics.md 10.3, "global_avgpool"), once, for every integer storage type it:
 * sum = sum_s q (int64: count * 2**31 < 2**62); y = clamp(div_round(sum, count, qround), act_min, act_max)
 * (count in [1, 2**31)). */
KWS_ST_INLINE void global_avgpool_q(const void *input, void *output, int32_t channels, int32_t count,
                                    int32_t act_min, int32_t act_max, int32_t qround, int it)
{
    int32_t c, s;
    for (c = 0; c < channels; c++) {
        const void *xc = kws_cadv(input, it, (int64_t)c * count);
        int64_t sum = 0;
        for (s = 0; s < count; s++)
            sum += kws_ldi(xc, it, s);
        kws_sti(output, it, c, kws_clamp(kws_div_round(sum, count, (int)qround), act_min, act_max));
    }
}

void kws_global_avgpool_q8(const int8_t *input, int8_t *output, int32_t channels, int32_t count,
                           int32_t act_min, int32_t act_max, int32_t qround)
{
    global_avgpool_q(input, output, channels, count, act_min, act_max, qround, KWS_ST_S8);
}

void kws_global_avgpool_q16(const int16_t *input, int16_t *output, int32_t channels, int32_t count,
                            int32_t act_min, int32_t act_max, int32_t qround)
{
    global_avgpool_q(input, output, channels, count, act_min, act_max, qround, KWS_ST_S16);
}

void kws_global_avgpool_q32(const int32_t *input, int32_t *output, int32_t channels, int32_t count,
                            int32_t act_min, int32_t act_max, int32_t qround)
{
    global_avgpool_q(input, output, channels, count, act_min, act_max, qround, KWS_ST_S32);
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
