/* kws_add.c -- see kws_add.h. Spec: docs/numerics.md section 4, "add". */
#include "kws_add.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The integer kernel, once, for every integer storage type it (kws_storage.h); int16 passes zero points 0 and
 * left_shift <= 15 (docs/numerics.md 9.4). All int32 by the attribute ranges (in shifts <= 0):
 * int8 |x'| <= 255 * 2**22, |raw| < 510 * 2**22; int16 |x'| <= 2**15 * 2**15 = 2**30, |raw| <= 2 * (2**29 + 1). */
KWS_ST_INLINE void add_int(const void *input1, const void *input2, void *output, int32_t size,
                           int32_t in1_zp, int32_t in2_zp, int32_t left_shift,
                           int32_t in1_multiplier, int32_t in1_shift, int32_t in2_multiplier, int32_t in2_shift,
                           int32_t out_multiplier, int32_t out_shift, int32_t out_zp,
                           int32_t act_min, int32_t act_max, int32_t rounding, int it)
{
    const int32_t scale = (int32_t)1 << left_shift; /* a multiplication: never shift a negative value */
    int32_t i;
    for (i = 0; i < size; i++) {
        const int32_t x1 = (kws_ldi(input1, it, i) - in1_zp) * scale;
        const int32_t x2 = (kws_ldi(input2, it, i) - in2_zp) * scale;
        const int32_t raw = kws_requantize(x1, in1_multiplier, in1_shift, (int)rounding)
                          + kws_requantize(x2, in2_multiplier, in2_shift, (int)rounding);
        const int64_t v = (int64_t)kws_requantize(raw, out_multiplier, out_shift, (int)rounding) + out_zp;
        kws_sti(output, it, i, kws_clamp(v, act_min, act_max));
    }
}

void kws_add_s8(const int8_t *input1, const int8_t *input2, int8_t *output, int32_t size,
                int32_t in1_zp, int32_t in2_zp, int32_t left_shift,
                int32_t in1_multiplier, int32_t in1_shift, int32_t in2_multiplier, int32_t in2_shift,
                int32_t out_multiplier, int32_t out_shift, int32_t out_zp,
                int32_t act_min, int32_t act_max, int32_t rounding)
{
    add_int(input1, input2, output, size, in1_zp, in2_zp, left_shift, in1_multiplier, in1_shift, in2_multiplier,
            in2_shift, out_multiplier, out_shift, out_zp, act_min, act_max, rounding, KWS_ST_S8);
}

void kws_add_s16(const int16_t *input1, const int16_t *input2, int16_t *output, int32_t size, int32_t left_shift,
                 int32_t in1_multiplier, int32_t in1_shift, int32_t in2_multiplier, int32_t in2_shift,
                 int32_t out_multiplier, int32_t out_shift, int32_t act_min, int32_t act_max, int32_t rounding)
{
    add_int(input1, input2, output, size, 0, 0, left_shift, in1_multiplier, in1_shift, in2_multiplier,
            in2_shift, out_multiplier, out_shift, 0, act_min, act_max, rounding, KWS_ST_S16);
}

/* The float kernel, once, for every storage type st (kws_storage.h). */
KWS_ST_INLINE void add_float(const void *input1, const void *input2, void *output, int32_t size,
                             float act_min, float act_max, int st)
{
    int32_t i;
    for (i = 0; i < size; i++)
        kws_stf(output, st, i, kws_clamp_f32(kws_ldf(input1, st, i) + kws_ldf(input2, st, i), act_min, act_max));
}

void kws_add_f32(const float *input1, const float *input2, float *output, int32_t size,
                 float act_min, float act_max)
{
    add_float(input1, input2, output, size, act_min, act_max, KWS_ST_F32);
}

void kws_add_f16(const uint16_t *input1, const uint16_t *input2, uint16_t *output, int32_t size,
                 float act_min, float act_max)
{
    add_float(input1, input2, output, size, act_min, act_max, KWS_ST_F16);
}

void kws_add_bf16(const uint16_t *input1, const uint16_t *input2, uint16_t *output, int32_t size,
                  float act_min, float act_max)
{
    add_float(input1, input2, output, size, act_min, act_max, KWS_ST_BF16);
}
