/* kws_mul.c -- see kws_mul.h. Spec: docs/numerics.md 11.11. */
#include "kws_mul.h"
#include "kws_fixedpoint.h"
#include "kws_broadcast.h"
#include "kws_storage.h"

/* mul, once, for the integer storage type it (KWS_ST_S8 / KWS_ST_S16) of both inputs and the output:
 * |x * y| <= 255 * 255 (int8) or 32768 * 32768 = 2**30 (int16, zero points 0): the int32 product is exact. */
KWS_ST_INLINE void mul_int(const void *a, const void *b, void *output, int32_t n0, int32_t n1, int32_t n2,
                           int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t za,
                           int32_t zb, int32_t zo, int32_t multiplier, int32_t shift, int32_t mode, int32_t act_min,
                           int32_t act_max, int it)
{
    int32_t i, j, k;
    int64_t n = 0;
    for (i = 0; i < n0; i++)
        for (j = 0; j < n1; j++)
            for (k = 0; k < n2; k++, n++) {
                const int32_t x = kws_ldi(a, it, kws_bcast_at(i, j, k, a0, a1, a2)) - za;
                const int32_t y = kws_ldi(b, it, kws_bcast_at(i, j, k, b0, b1, b2)) - zb;
                const int64_t v = (int64_t)kws_requantize(x * y, multiplier, shift, (int)mode) + zo;
                kws_sti(output, it, n, kws_clamp(v, act_min, act_max));
            }
}

void kws_mul_s8(const int8_t *a, const int8_t *b, int8_t *output, int32_t n0, int32_t n1, int32_t n2, int32_t a0,
                int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t za, int32_t zb, int32_t zo,
                int32_t multiplier, int32_t shift, int32_t mode, int32_t act_min, int32_t act_max)
{
    mul_int(a, b, output, n0, n1, n2, a0, a1, a2, b0, b1, b2, za, zb, zo, multiplier, shift, mode, act_min, act_max,
            KWS_ST_S8);
}

void kws_mul_s16(const int16_t *a, const int16_t *b, int16_t *output, int32_t n0, int32_t n1, int32_t n2,
                 int32_t a0, int32_t a1, int32_t a2, int32_t b0, int32_t b1, int32_t b2, int32_t za, int32_t zb,
                 int32_t zo, int32_t multiplier, int32_t shift, int32_t mode, int32_t act_min, int32_t act_max)
{
    mul_int(a, b, output, n0, n1, n2, a0, a1, a2, b0, b1, b2, za, zb, zo, multiplier, shift, mode, act_min, act_max,
            KWS_ST_S16);
}
