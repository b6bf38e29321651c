/* kws_add.c -- see kws_add.h. Spec: docs/numerics.md section 4, "add". */
#include "kws_add.h"
#include "kws_broadcast.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The output geometry and the two inputs' strides (kws_add.h), passed on unchanged. */
#define KWS_ADD_GEOM_P int32_t n0, int32_t n1, int32_t n2, int32_t a0, int32_t a1, int32_t a2, \
                       int32_t b0, int32_t b1, int32_t b2
#define KWS_ADD_GEOM_A n0, n1, n2, a0, a1, a2, b0, b1, b2
/* The loop over the output (n0, n1, n2): `ia`, `ib`, `o` are the element indices of input1, input2, output. */
#define KWS_ADD_LOOP(BODY)                                                               \
    do {                                                                                 \
        int32_t i_, j_, k_, o = 0;                                                       \
        for (i_ = 0; i_ < n0; i_++)                                                      \
            for (j_ = 0; j_ < n1; j_++)                                                  \
                for (k_ = 0; k_ < n2; k_++, o++) {                                       \
                    const int64_t ia = kws_bcast_at(i_, j_, k_, a0, a1, a2);             \
                    const int64_t ib = kws_bcast_at(i_, j_, k_, b0, b1, b2);             \
                    BODY;                                                                \
                }                                                                        \
    } while (0)

/* The integer kernel, once, for every integer storage type it (kws_storage.h); int16 passes zero points 0 and
 * left_shift <= 15 (docs/numerics.md 9.4). All int32 by the attribute ranges (in shifts <= 0):
 * int8 |x'| <= 255 * 2**22, |raw| < 510 * 2**22; int16 |x'| <= 2**15 * 2**15 = 2**30, |raw| <= 2 * (2**29 + 1).
 * Broadcasting changes only which elements are read (TFLM's BroadcastAdd: the same per-element arithmetic). */
KWS_ST_INLINE void add_int(const void *input1, const void *input2, void *output, KWS_ADD_GEOM_P,
                           int32_t in1_zp, int32_t in2_zp, int32_t left_shift,
                           int32_t in1_multiplier, int32_t in1_shift, int32_t in2_multiplier, int32_t in2_shift,
                           int32_t out_multiplier, int32_t out_shift, int32_t out_zp,
                           int32_t act_min, int32_t act_max, int32_t rounding, int it)
{
    const int32_t scale = (int32_t)1 << left_shift; /* a multiplication: never shift a negative value */
    KWS_ADD_LOOP({
        const int32_t x1 = (kws_ldi(input1, it, ia) - in1_zp) * scale;
        const int32_t x2 = (kws_ldi(input2, it, ib) - in2_zp) * scale;
        const int32_t raw = kws_requantize(x1, in1_multiplier, in1_shift, (int)rounding)
                          + kws_requantize(x2, in2_multiplier, in2_shift, (int)rounding);
        const int64_t v = (int64_t)kws_requantize(raw, out_multiplier, out_shift, (int)rounding) + out_zp;
        kws_sti(output, it, o, kws_clamp(v, act_min, act_max));
    });
}

void kws_add_s8(const int8_t *input1, const int8_t *input2, int8_t *output, KWS_ADD_GEOM_P,
                int32_t in1_zp, int32_t in2_zp, int32_t left_shift,
                int32_t in1_multiplier, int32_t in1_shift, int32_t in2_multiplier, int32_t in2_shift,
                int32_t out_multiplier, int32_t out_shift, int32_t out_zp,
                int32_t act_min, int32_t act_max, int32_t rounding)
{
    add_int(input1, input2, output, KWS_ADD_GEOM_A, in1_zp, in2_zp, left_shift, in1_multiplier, in1_shift,
            in2_multiplier, in2_shift, out_multiplier, out_shift, out_zp, act_min, act_max, rounding, KWS_ST_S8);
}

void kws_add_s16(const int16_t *input1, const int16_t *input2, int16_t *output, KWS_ADD_GEOM_P, int32_t left_shift,
                 int32_t in1_multiplier, int32_t in1_shift, int32_t in2_multiplier, int32_t in2_shift,
                 int32_t out_multiplier, int32_t out_shift, int32_t act_min, int32_t act_max, int32_t rounding)
{
    add_int(input1, input2, output, KWS_ADD_GEOM_A, 0, 0, left_shift, in1_multiplier, in1_shift, in2_multiplier,
            in2_shift, out_multiplier, out_shift, 0, act_min, act_max, rounding, KWS_ST_S16);
}

/* The Q-format add (docs/numerics.md 10.3, "add"), once, for every integer storage type it (kws_storage.h):
 * n = max(frac1, frac2); a = x1 * 2**(n - frac1) + x2 * 2**(n - frac2) in int64 (|n1 - n2| <= 31: one factor is
 * 1, the other at most 2**31, so |a| <= 2**62 + 2**31); y = clamp(qcast(a, n - out_frac, qround, bits,
 * qoverflow), act_min, act_max). Left shifts are written as multiplications (never shift a negative value). */
KWS_ST_INLINE void add_q(const void *input1, const void *input2, void *output, KWS_ADD_GEOM_P, int32_t frac1,
                         int32_t frac2, int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround,
                         int32_t qoverflow, int it)
{
    const int32_t n = frac1 > frac2 ? frac1 : frac2;
    const int64_t m1 = (int64_t)1 << (n - frac1), m2 = (int64_t)1 << (n - frac2);
    const int shift = (int)(n - out_frac);
    const int bits = kws_st_bits(it);
    KWS_ADD_LOOP({
        const int64_t a = (int64_t)kws_ldi(input1, it, ia) * m1 + (int64_t)kws_ldi(input2, it, ib) * m2;
        kws_sti(output, it, o, kws_clamp(kws_qcast(a, shift, (int)qround, bits, (int)qoverflow), act_min, act_max));
    });
}

#define KWS_ADD_Q_ARGS input1, input2, output, KWS_ADD_GEOM_A, frac1, frac2, out_frac, act_min, act_max, qround, \
                       qoverflow

void kws_add_q8(const int8_t *input1, const int8_t *input2, int8_t *output, KWS_ADD_GEOM_P, int32_t frac1,
                int32_t frac2, int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow)
{
    add_q(KWS_ADD_Q_ARGS, KWS_ST_S8);
}

void kws_add_q16(const int16_t *input1, const int16_t *input2, int16_t *output, KWS_ADD_GEOM_P, int32_t frac1,
                 int32_t frac2, int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow)
{
    add_q(KWS_ADD_Q_ARGS, KWS_ST_S16);
}

void kws_add_q32(const int32_t *input1, const int32_t *input2, int32_t *output, KWS_ADD_GEOM_P, int32_t frac1,
                 int32_t frac2, int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow)
{
    add_q(KWS_ADD_Q_ARGS, KWS_ST_S32);
}
#undef KWS_ADD_Q_ARGS

/* The float kernel, once, for every storage type st (kws_storage.h). */
KWS_ST_INLINE void add_float(const void *input1, const void *input2, void *output, KWS_ADD_GEOM_P,
                             float act_min, float act_max, int st)
{
    KWS_ADD_LOOP(kws_stf(output, st, o, kws_clamp_f32(kws_ldf(input1, st, (int32_t)ia)
                                                      + kws_ldf(input2, st, (int32_t)ib), act_min, act_max)));
}

void kws_add_f32(const float *input1, const float *input2, float *output, KWS_ADD_GEOM_P,
                 float act_min, float act_max)
{
    add_float(input1, input2, output, KWS_ADD_GEOM_A, act_min, act_max, KWS_ST_F32);
}

void kws_add_f16(const uint16_t *input1, const uint16_t *input2, uint16_t *output, KWS_ADD_GEOM_P,
                 float act_min, float act_max)
{
    add_float(input1, input2, output, KWS_ADD_GEOM_A, act_min, act_max, KWS_ST_F16);
}

void kws_add_bf16(const uint16_t *input1, const uint16_t *input2, uint16_t *output, KWS_ADD_GEOM_P,
                  float act_min, float act_max)
{
    add_float(input1, input2, output, KWS_ADD_GEOM_A, act_min, act_max, KWS_ST_BF16);
}
#undef KWS_ADD_LOOP
#undef KWS_ADD_GEOM_A
#undef KWS_ADD_GEOM_P
