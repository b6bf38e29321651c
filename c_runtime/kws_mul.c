/* kws_mul.c -- see kws_mul.h. Spec: docs/numerics.md 11.11. */
#include "kws_mul.h"
#include "kws_fixedpoint.h"
#include "kws_broadcast.h"

void kws_mul_s8(const int8_t *a, const int8_t *b, int8_t *output, int32_t n0, int32_t n1, int32_t n2, int32_t a0,
                int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t za, int32_t zb, int32_t zo,
                int32_t multiplier, int32_t shift, int32_t mode, int32_t act_min, int32_t act_max)
{
    int32_t i, j, k;
    int64_t n = 0;
    for (i = 0; i < n0; i++)
        for (j = 0; j < n1; j++)
            for (k = 0; k < n2; k++, n++) {
                const int32_t x = (int32_t)a[kws_bcast_at(i, j, k, a0, a1, a2)] - za;
                const int32_t y = (int32_t)b[kws_bcast_at(i, j, k, b0, b1, b2)] - zb;
                const int64_t v = (int64_t)kws_requantize(x * y, multiplier, shift, (int)mode) + zo; /* |x*y| <= 65025 */
                output[n] = (int8_t)kws_clamp(v, act_min, act_max);
            }
}
