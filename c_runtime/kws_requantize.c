/* kws_requantize.c -- see kws_requantize.h. Spec: docs/numerics.md 9.4 and 10.3, "requantize". */
#include "kws_requantize.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* requantize, once, for every integer storage type it_in of the input and it_out of the output (kws_storage.h):
 * x = q - in_zp (|x| <= 32768 for int8 / int16 / uint8; a Q input has in_zp = 0, so x is any int32 q, which the 32-bit
 * requantize of 3.2 accepts), out_zp added in int64 (requantize may saturate to int32), clamped to the output
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

void kws_requantize_s8_u8(const int8_t *input, uint8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S8, KWS_ST_U8);
}

void kws_requantize_u8_s8(const uint8_t *input, int8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_U8, KWS_ST_S8);
}

/* affine (int8, int16) <-> Q (docs/numerics.md 10.3, "requantize"): the same kernel, with the Q side's zero point
 * 0 (passed by the caller) and the Q container's full range as [qmin, qmax]. */
void kws_requantize_s8_q8(const int8_t *input, int8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S8, KWS_ST_S8);
}

void kws_requantize_s8_q16(const int8_t *input, int16_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S8, KWS_ST_S16);
}

void kws_requantize_s8_q32(const int8_t *input, int32_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S8, KWS_ST_S32);
}

void kws_requantize_s16_q8(const int16_t *input, int8_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S16, KWS_ST_S8);
}

void kws_requantize_s16_q16(const int16_t *input, int16_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S16, KWS_ST_S16);
}

void kws_requantize_s16_q32(const int16_t *input, int32_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S16, KWS_ST_S32);
}

void kws_requantize_q8_s8(const int8_t *input, int8_t *output, int32_t size, int32_t in_zp,
                          int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S8, KWS_ST_S8);
}

void kws_requantize_q16_s8(const int16_t *input, int8_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S16, KWS_ST_S8);
}

void kws_requantize_q32_s8(const int32_t *input, int8_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S32, KWS_ST_S8);
}

void kws_requantize_q8_s16(const int8_t *input, int16_t *output, int32_t size, int32_t in_zp,
                           int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S8, KWS_ST_S16);
}

void kws_requantize_q16_s16(const int16_t *input, int16_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S16, KWS_ST_S16);
}

void kws_requantize_q32_s16(const int32_t *input, int16_t *output, int32_t size, int32_t in_zp,
                            int32_t multiplier, int32_t shift, int32_t out_zp, int32_t rounding)
{
    requantize_int(KWS_REQUANTIZE_ARGS, KWS_ST_S32, KWS_ST_S16);
}
#undef KWS_REQUANTIZE_ARGS

/* Q -> Q (docs/numerics.md 10.3, "requantize"), once, for every container it_in of the input and it_out of the
 * output: y = qcast(q, shift, qround, bits_out, qoverflow), shift = n_in - n_out in [-62, 62]. */
KWS_ST_INLINE void requantize_q(const void *input, void *output, int32_t size, int32_t shift, int32_t qround,
                                int32_t qoverflow, int it_in, int it_out)
{
    const int bits = kws_st_bits(it_out);
    int32_t i;
    for (i = 0; i < size; i++)
        kws_sti(output, it_out, i, kws_qcast(kws_ldi(input, it_in, i), (int)shift, (int)qround, bits, (int)qoverflow));
}

void kws_requantize_q8_q8(const int8_t *input, int8_t *output, int32_t size, int32_t shift, int32_t qround,
                          int32_t qoverflow)
{
    requantize_q(input, output, size, shift, qround, qoverflow, KWS_ST_S8, KWS_ST_S8);
}

void kws_requantize_q8_q16(const int8_t *input, int16_t *output, int32_t size, int32_t shift, int32_t qround,
                           int32_t qoverflow)
{
    requantize_q(input, output, size, shift, qround, qoverflow, KWS_ST_S8, KWS_ST_S16);
}

void kws_requantize_q8_q32(const int8_t *input, int32_t *output, int32_t size, int32_t shift, int32_t qround,
                           int32_t qoverflow)
{
    requantize_q(input, output, size, shift, qround, qoverflow, KWS_ST_S8, KWS_ST_S32);
}

void kws_requantize_q16_q8(const int16_t *input, int8_t *output, int32_t size, int32_t shift, int32_t qround,
                           int32_t qoverflow)
{
    requantize_q(input, output, size, shift, qround, qoverflow, KWS_ST_S16, KWS_ST_S8);
}

void kws_requantize_q16_q16(const int16_t *input, int16_t *output, int32_t size, int32_t shift, int32_t qround,
                            int32_t qoverflow)
{
    requantize_q(input, output, size, shift, qround, qoverflow, KWS_ST_S16, KWS_ST_S16);
}

void kws_requantize_q16_q32(const int16_t *input, int32_t *output, int32_t size, int32_t shift, int32_t qround,
                            int32_t qoverflow)
{
    requantize_q(input, output, size, shift, qround, qoverflow, KWS_ST_S16, KWS_ST_S32);
}

void kws_requantize_q32_q8(const int32_t *input, int8_t *output, int32_t size, int32_t shift, int32_t qround,
                           int32_t qoverflow)
{
    requantize_q(input, output, size, shift, qround, qoverflow, KWS_ST_S32, KWS_ST_S8);
}

void kws_requantize_q32_q16(const int32_t *input, int16_t *output, int32_t size, int32_t shift, int32_t qround,
                            int32_t qoverflow)
{
    requantize_q(input, output, size, shift, qround, qoverflow, KWS_ST_S32, KWS_ST_S16);
}

void kws_requantize_q32_q32(const int32_t *input, int32_t *output, int32_t size, int32_t shift, int32_t qround,
                            int32_t qoverflow)
{
    requantize_q(input, output, size, shift, qround, qoverflow, KWS_ST_S32, KWS_ST_S32);
}
