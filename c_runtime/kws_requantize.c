/* kws_requantize.c -- see kws_requantize.h. Spec: docs/numerics.md 9.4, "requantize". */
#include "kws_requantize.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* requantize, once, for every integer storage type it_in of the input and it_out of the output (kws_storage.h):
 * x = q - in_zp (|x| <= 32768), out_zp added in int64 (requantize may saturate to int32), clamped to the output
 * type's range. */
KWS_ST_INLINE void requantize_int(const void *input, void *output, int32_t size, int32_t in_zp, int32_t multiplier,
                                  int32_t shift, int32_t out_zp, int32_t rounding, int it_in, int it_out)
{
    int32_t i;
    for (i = 0; i < size; i++) {
        const int32_t x = kws_ldi(input, it_in, i) - in_zp;
        const int64_t v = (int64_t)kws_requantize(x, multiplier, shift, (int)rounding) + out_zp;
        kws_sti(output, it_out, i, kws_clamp(v, kws_st_qmin(it_out), kws_st_qmax(it_out)));
    }
}

#define KWS_REQUANTIZE_ARGS input, output, size, in_zp, multiplier, shift, out_zp, rounding

void kws_requantize_s8_s16(const int8_t *input, int16_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S8, KWS_ST_S16);
}

void kws_requantize_s16_s8(const int16_t *input, int8_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S16, KWS_ST_S8);
}

void kws_requantize_s8_s8(const int8_t *input, int8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S8, KWS_ST_S8);
}

void kws_requantize_s16_s16(const int16_t *input, int16_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S16, KWS_ST_S16);
}
#undef KWS_REQUANTIZE_ARGS
