/* kws_div.c -- see kws_div.h. Spec: docs/numerics.md section 4, "div". */
#include "kws_div.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The float kernel, once, for every storage type st (kws_storage.h). */
KWS_ST_INLINE void div_float(const void *a, const void *b, void *output, int32_t d0, int32_t d1, int32_t d2,
                             int32_t b0, int32_t b1, int32_t b2, float eps, float act_min, float act_max, int st)
{
    int32_t i, j, l;
    for (i = 0; i < d0; i++) {
        for (j = 0; j < d1; j++) {
            for (l = 0; l < d2; l++) {
                const int32_t bi = ((b0 == 1 ? 0 : i) * b1 + (b1 == 1 ? 0 : j)) * b2 + (b2 == 1 ? 0 : l);
                const int32_t ai = (i * d1 + j) * d2 + l;
                const float t = kws_ldf(b, st, bi) + eps;
                const float y = kws_ldf(a, st, ai) / t;
                kws_stf(output, st, ai, kws_clamp_f32(y, act_min, act_max));
            }
        }
    }
}

void kws_div_f32(const float *a, const float *b, float *output, int32_t d0, int32_t d1, int32_t d2,
                 int32_t b0, int32_t b1, int32_t b2, float eps, float act_min, float act_max)
{
    div_float(a, b, output, d0, d1, d2, b0, b1, b2, eps, act_min, act_max, KWS_ST_F32);
}

void kws_div_f16(const uint16_t *a, const uint16_t *b, uint16_t *output, int32_t d0, int32_t d1, int32_t d2,
                 int32_t b0, int32_t b1, int32_t b2, float eps, float act_min, float act_max)
{
    div_float(a, b, output, d0, d1, d2, b0, b1, b2, eps, act_min, act_max, KWS_ST_F16);
}

void kws_div_bf16(const uint16_t *a, const uint16_t *b, uint16_t *output, int32_t d0, int32_t d1, int32_t d2,
                  int32_t b0, int32_t b1, int32_t b2, float eps, float act_min, float act_max)
{
    div_float(a, b, output, d0, d1, d2, b0, b1, b2, eps, act_min, act_max, KWS_ST_BF16);
}
