/* kws_relu.c -- see kws_relu.h. Spec: docs/numerics.md section 4, "relu". */
#include "kws_relu.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The integer relu, once, for every integer storage type it (kws_storage.h). */
KWS_ST_INLINE void relu_int(const void *input, void *output, int32_t size, int32_t act_min, int32_t act_max, int it)
{
    int32_t i;
    for (i = 0; i < size; i++)
        kws_sti(output, it, i, kws_clamp(kws_ldi(input, it, i), act_min, act_max));
}

void kws_relu_s8(const int8_t *input, int8_t *output, int32_t size, int32_t act_min, int32_t act_max)
{
    relu_int(input, output, size, act_min, act_max, KWS_ST_S8);
}

void kws_relu_s16(const int16_t *input, int16_t *output, int32_t size, int32_t act_min, int32_t act_max)
{
    relu_int(input, output, size, act_min, act_max, KWS_ST_S16);
}

void kws_relu_s32(const int32_t *input, int32_t *output, int32_t size, int32_t act_min, int32_t act_max)
{
    relu_int(input, output, size, act_min, act_max, KWS_ST_S32);
}

/* The float kernel, once, for every storage type st (kws_storage.h). */
KWS_ST_INLINE void relu_float(const void *input, void *output, int32_t size, float act_min, float act_max, int st)
{
    int32_t i;
    for (i = 0; i < size; i++)
        kws_stf(output, st, i, kws_clamp_f32(kws_ldf(input, st, i), act_min, act_max));
}

void kws_relu_f32(const float *input, float *output, int32_t size, float act_min, float act_max)
{
    relu_float(input, output, size, act_min, act_max, KWS_ST_F32);
}

void kws_relu_f16(const uint16_t *input, uint16_t *output, int32_t size, float act_min, float act_max)
{
    relu_float(input, output, size, act_min, act_max, KWS_ST_F16);
}

void kws_relu_bf16(const uint16_t *input, uint16_t *output, int32_t size, float act_min, float act_max)
{
    relu_float(input, output, size, act_min, act_max, KWS_ST_BF16);
}
