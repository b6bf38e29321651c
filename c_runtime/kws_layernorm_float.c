/* kws_layernorm_float.c -- see kws_layernorm.h. Spec: docs/numerics.md section 4, "layernorm". The float
 * kernels, in a translation unit of their own so that an integer model's objects never reference libm. */
#include <math.h> /* sqrtf (correctly rounded by IEEE 754) */
#include "kws_layernorm.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The float kernel, once, for every storage type st (kws_storage.h). x[j] is read (widened) in each of
 * the three passes; only the final values are stored. */
KWS_ST_INLINE void layernorm_float(const void *input, const void *gamma, const void *beta, void *output,
                                   int32_t groups, int32_t size, float eps, float act_min, float act_max, int st)
{
    const float fd = (float)size;
    int32_t g, j;
    for (g = 0; g < groups; g++) {
        const void *x = kws_cadv(input, st, (int64_t)g * size);
        void *y = kws_adv(output, st, (int64_t)g * size);
        float s = 0.0f, ss = 0.0f, mean, var, rstd;
        for (j = 0; j < size; j++)
            s = s + kws_ldf(x, st, j);
        mean = s / fd;
        for (j = 0; j < size; j++) {
            const float t = kws_ldf(x, st, j) - mean;
            ss = ss + t * t;
        }
        var = ss / fd;
        rstd = 1.0f / sqrtf(var + eps);
        for (j = 0; j < size; j++) {
            float t = (kws_ldf(x, st, j) - mean) * rstd;
            t = t * kws_ldf(gamma, st, j);
            t = t + kws_ldf(beta, st, j);
            kws_stf(y, st, j, kws_clamp_f32(t, act_min, act_max));
        }
    }
}

void kws_layernorm_f32(const float *input, const float *gamma, const float *beta, float *output,
                       int32_t groups, int32_t size, float eps, float act_min, float act_max)
{
    layernorm_float(input, gamma, beta, output, groups, size, eps, act_min, act_max, KWS_ST_F32);
}

void kws_layernorm_f16(const uint16_t *input, const uint16_t *gamma, const uint16_t *beta, uint16_t *output,
                       int32_t groups, int32_t size, float eps, float act_min, float act_max)
{
    layernorm_float(input, gamma, beta, output, groups, size, eps, act_min, act_max, KWS_ST_F16);
}

void kws_layernorm_bf16(const uint16_t *input, const uint16_t *gamma, const uint16_t *beta, uint16_t *output,
                        int32_t groups, int32_t size, float eps, float act_min, float act_max)
{
    layernorm_float(input, gamma, beta, output, groups, size, eps, act_min, act_max, KWS_ST_BF16);
}
