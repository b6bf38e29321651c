/* kws_linear.c -- see kws_linear.h. Spec: docs/numerics.md section 4, "linear". */
#include "kws_linear.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The integer kernel, once, for every integer storage type it of input and output and wt of the weights
 * (kws_storage.h), affine (q == 0) or Q-format (q == 1); the branches on the constant codes fold away.
 * Accumulator: int32 for int8 and q8 (it == KWS_ST_S8; exact by 3.4 / the q8 bound of 10.3), int64 otherwise;
 * each product in int32 (|x * w| <= 2**30) except for q32 input (int64).
 * int8: the 32-bit requantize in `rounding`, zero points. int16 (TFLite 16x8, docs/numerics.md 9.4): zero points 0
 * (the wrapper passes 0), int64 bias (|acc| < 2**47 by 9.3), requantize64 (the same in both rounding modes).
 * Q (docs/numerics.md 10.3): y = clamp(qcast(acc, in_frac + weight_frac[o] - out_frac, qround, bits, qoverflow),
 * act_min, act_max). */
KWS_ST_INLINE void linear_int(const void *input, const void *weight, const void *bias,
                              const int32_t *multiplier, const int32_t *shift, const int32_t *weight_frac,
                              void *output, int32_t in_features, int32_t out_features, int32_t in_zp, int32_t out_zp,
                              int32_t act_min, int32_t act_max, int32_t rounding, int32_t in_frac, int32_t out_frac,
                              int32_t qround, int32_t qoverflow, int it, int wt, int q)
{
    const int wide = it != KWS_ST_S8;            /* int64 bias and accumulator */
    int32_t o, f;
    for (o = 0; o < out_features; o++) {
        const void *wo = kws_cadv(weight, wt, (int64_t)o * in_features);
        int32_t acc32 = 0; /* int8, q8 */
        int64_t acc64 = 0; /* int16, q16, q32 */
        int64_t v;
        if (wide) acc64 = ((const int64_t *)bias)[o];
        else acc32 = ((const int32_t *)bias)[o];
        for (f = 0; f < in_features; f++) {
            if (it == KWS_ST_S32) {
                acc64 += (int64_t)kws_ldi(input, it, f) * kws_ldi(wo, wt, f);
            } else {
                const int32_t t = (kws_ldi(input, it, f) - in_zp) * kws_ldi(wo, wt, f); /* |t| <= 2**30 */
                if (wide) acc64 += t;
                else acc32 += t;
            }
        }
        if (q)
            v = kws_qcast(wide ? acc64 : (int64_t)acc32, (int)(in_frac + weight_frac[o] - out_frac), (int)qround,
                          kws_st_bits(it), (int)qoverflow);
        else if (it == KWS_ST_S16) v = kws_requantize_s64(acc64, multiplier[o], shift[o]);
        else v = (int64_t)kws_requantize(acc32, multiplier[o], shift[o], (int)rounding) + out_zp;
        kws_sti(output, it, o, kws_clamp(v, act_min, act_max));
    }
}

void kws_linear_s8(const int8_t *input, const int8_t *weight, const int32_t *bias,
                   const int32_t *multiplier, const int32_t *shift, int8_t *output,
                   int32_t in_features, int32_t out_features, int32_t in_zp, int32_t out_zp,
                   int32_t act_min, int32_t act_max, int32_t rounding)
{
    linear_int(input, weight, bias, multiplier, shift, 0, output, in_features, out_features, in_zp, out_zp,
               act_min, act_max, rounding, 0, 0, 0, 0, KWS_ST_S8, KWS_ST_S8, 0);
}

void kws_linear_s16(const int16_t *input, const int8_t *weight, const int64_t *bias,
                    const int32_t *multiplier, const int32_t *shift, int16_t *output,
                    int32_t in_features, int32_t out_features, int32_t act_min, int32_t act_max)
{
    linear_int(input, weight, bias, multiplier, shift, 0, output, in_features, out_features, 0, 0,
               act_min, act_max, KWS_ROUND_DOUBLE, 0, 0, 0, 0, KWS_ST_S16, KWS_ST_S8, 0);
}

#define KWS_LINEAR_Q_ARGS(it, wt) input, weight, bias, 0, 0, weight_frac, output, in_features, out_features, 0, 0, \
                                  act_min, act_max, 0, in_frac, out_frac, qround, qoverflow, it, wt, 1

void kws_linear_q8(const int8_t *input, const int8_t *weight, const int32_t *bias, const int32_t *weight_frac,
                   int8_t *output, int32_t in_features, int32_t out_features, int32_t in_frac, int32_t out_frac,
                   int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow)
{
    linear_int(KWS_LINEAR_Q_ARGS(KWS_ST_S8, KWS_ST_S8));
}

void kws_linear_q16(const int16_t *input, const int16_t *weight, const int64_t *bias, const int32_t *weight_frac,
                    int16_t *output, int32_t in_features, int32_t out_features, int32_t in_frac, int32_t out_frac,
                    int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow)
{
    linear_int(KWS_LINEAR_Q_ARGS(KWS_ST_S16, KWS_ST_S16));
}

void kws_linear_q32(const int32_t *input, const int16_t *weight, const int64_t *bias, const int32_t *weight_frac,
                    int32_t *output, int32_t in_features, int32_t out_features, int32_t in_frac, int32_t out_frac,
                    int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow)
{
    linear_int(KWS_LINEAR_Q_ARGS(KWS_ST_S32, KWS_ST_S16));
}
#undef KWS_LINEAR_Q_ARGS

/* The float kernel, once, for every storage type st (kws_storage.h). */
KWS_ST_INLINE void linear_float(const void *input, const void *weight, const void *bias, void *output,
                                int32_t in_features, int32_t out_features, float act_min, float act_max, int st)
{
    int32_t o, f;
    for (o = 0; o < out_features; o++) {
        const void *wo = kws_cadv(weight, st, (int64_t)o * in_features);
        float acc = kws_ldf(bias, st, o);
        for (f = 0; f < in_features; f++)
            acc = acc + kws_ldf(input, st, f) * kws_ldf(wo, st, f);
        kws_stf(output, st, o, kws_clamp_f32(acc, act_min, act_max));
    }
}

void kws_linear_f32(const float *input, const float *weight, const float *bias, float *output,
                    int32_t in_features, int32_t out_features, float act_min, float act_max)
{
    linear_float(input, weight, bias, output, in_features, out_features, act_min, act_max, KWS_ST_F32);
}

void kws_linear_f16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                    int32_t in_features, int32_t out_features, float act_min, float act_max)
{
    linear_float(input, weight, bias, output, in_features, out_features, act_min, act_max, KWS_ST_F16);
}

void kws_linear_bf16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                     int32_t in_features, int32_t out_features, float act_min, float act_max)
{
    linear_float(input, weight, bias, output, in_features, out_features, act_min, act_max, KWS_ST_BF16);
}
