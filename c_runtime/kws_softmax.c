/* kws_softmax.c -- see kws_softmax.h. Spec: docs/numerics.md 11.4. */
#include "kws_softmax.h"
#include "kws_fixedpoint.h"

/* the Q0.31 exp of one element's difference d >= diff_min (|d| * 2**left_shift < 2**31: checked at load) */
static int32_t scaled_exp(int32_t d, int32_t multiplier, int32_t left_shift)
{
    return kws_exp_on_negative_values(kws_srdhm(d * ((int32_t)1 << left_shift), multiplier), 5);
}

void kws_softmax_s8(const int8_t *input, int8_t *output, int32_t outer, int32_t depth, int32_t inner,
                    int32_t input_multiplier, int32_t input_left_shift, int32_t diff_min)
{
    int32_t o, i, c;
    for (o = 0; o < outer; o++) {
        for (i = 0; i < inner; i++) {
            const int8_t *x = input + (int64_t)o * depth * inner + i;
            int8_t *y = output + (int64_t)o * depth * inner + i;
            int32_t mx = -128, total = 0, scale, shifted, e;
            int hpo;
            for (c = 0; c < depth; c++)
                if (x[c * inner] > mx) mx = x[c * inner];
            for (c = 0; c < depth; c++) {
                const int32_t d = (int32_t)x[c * inner] - mx;
                if (d >= diff_min) total += kws_rdbpot(scaled_exp(d, input_multiplier, input_left_shift), 12);
            }
            /* TFLM GetReciprocal(total, 12): 2**19 <= total < 2**28 (depth <= 511) */
            hpo = kws_clz32((uint32_t)total);
            shifted = (int32_t)(((uint32_t)total << hpo) - ((uint32_t)1 << 31));
            scale = kws_one_over_one_plus_x(shifted);
            e = (12 - hpo) + 23;
            for (c = 0; c < depth; c++) {
                const int32_t d = (int32_t)x[c * inner] - mx;
                int32_t v = -128;
                if (d >= diff_min) {
                    v = kws_rdbpot(kws_srdhm(scale, scaled_exp(d, input_multiplier, input_left_shift)), (int)e) - 128;
                    v = v < -128 ? -128 : (v > 127 ? 127 : v);
                }
                y[c * inner] = (int8_t)v;
            }
        }
    }
}

void kws_softmax_s16(const int16_t *input, int16_t *output, int32_t outer, int32_t depth, int32_t inner,
                     int32_t input_multiplier, int32_t input_left_shift, const int16_t *exp_lut,
                     const int16_t *recip_lut)
{
    int32_t o, i, c;
    for (o = 0; o < outer; o++) {
        for (i = 0; i < inner; i++) {
            const int16_t *x = input + (int64_t)o * depth * inner + i;
            int16_t *y = output + (int64_t)o * depth * inner + i;
            int32_t mx = -32768, total = 0, shifted, recip, rs;
            int hpo;
            for (c = 0; c < depth; c++)
                if (x[c * inner] > mx) mx = x[c * inner];
            for (c = 0; c < depth; c++) {
                /* |d| <= 65535, shift <= 15: no overflow in the requantization's left shift */
                const int64_t d = (int64_t)kws_requantize((int32_t)x[c * inner] - mx, input_multiplier,
                                                          input_left_shift, KWS_ROUND_DOUBLE) + 32767;
                const int32_t e = kws_lut_lookup16((int32_t)kws_clamp(d, -32768, 32767), exp_lut);  /* in [0, 32767] */
                y[c * inner] = (int16_t)e;
                total += e;                                       /* < 65537 * 32768 = 2**31 + 2**15: depth <= 65536 */
            }
            /* total >= 1 (exp_lut at 32767 >= 1), < 2**31 */
            hpo = kws_clz32((uint32_t)total);
            shifted = (int32_t)((((int64_t)total << (hpo - 1)) + (1 << 13)) >> 14);
            shifted -= (1 << 15) + (1 << 16);
            shifted = shifted < -32768 ? -32768 : (shifted > 32767 ? 32767 : shifted);
            recip = kws_lut_lookup16(shifted, recip_lut);
            rs = 31 - hpo;
            for (c = 0; c < depth; c++) {
                const int64_t r = kws_floor_shift((int64_t)y[c * inner] * recip + ((int64_t)1 << (rs - 1)), (int)rs);
                y[c * inner] = (int16_t)(r < 0 ? 0 : (r > 32767 ? 32767 : r));
            }
        }
    }
}
