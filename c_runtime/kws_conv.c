/* kws_conv.c -- see kws_conv.h. Spec: docs/numerics.md section 4, "conv1d, conv2d". */
#include "kws_conv.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* Taps k in [*lo, *hi) of a kernel of size k_n whose input index pos * stride - pad + k * dil lies in
 * [0, n): the padding taps are skipped by the loop bounds, not by a test per tap. */
KWS_ST_INLINE void conv_taps(int32_t pos, int32_t stride, int32_t pad, int32_t dil, int32_t k_n, int32_t n,
                             int32_t *lo, int32_t *hi)
{
    const int32_t first = pos * stride - pad;        /* input index of tap 0 */
    const int32_t last_ok = n - 1 - first;           /* tap k is inside iff 0 <= first + k * dil <= n - 1 */
    int32_t l = 0, h;
    if (first < 0)
        l = (-first + dil - 1) / dil;
    if (last_ok < 0) {
        h = 0;
    } else {
        h = last_ok / dil + 1;
        if (h > k_n) h = k_n;
    }
    *lo = l;
    *hi = h > l ? h : l;
}

/* The integer kernel, once, for every integer storage type it of input and output and wt of the weights
 * (kws_storage.h), affine (q == 0) or Q-format (q == 1); the branches on the constant codes fold away.
 * Accumulator: int32 for int8 and q8 (it == KWS_ST_S8; exact by 3.4 / the q8 bound of 10.3), int64 otherwise.
 * Each product x * w is formed in int32 (|x * w| <= 2**15 * 2**15) except for q32 input (int64).
 * int8: the 32-bit requantize in `rounding`, zero points. int16 (TFLite 16x8, docs/numerics.md 9.4): zero points 0
 * (the wrapper passes 0), int64 bias (|acc| < 2**47 by 9.3), requantize64 (the same in both rounding modes).
 * Q (docs/numerics.md 10.3): zero points 0, bias int32 (q8) or int64 (q16, q32), weights int8 (q8) or int16
 * (q16, q32); y = clamp(qcast(acc, in_frac + weight_frac[o] - out_frac, qround, bits, qoverflow), act_min,
 * act_max) (multiplier / shift unused). */
KWS_ST_INLINE void conv2d_int(const void *input, const void *weight, const void *bias,
                              const int32_t *multiplier, const int32_t *shift, const int32_t *weight_frac,
                              void *output,
                              int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                              int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                              int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_zp,
                              int32_t out_zp, int32_t act_min, int32_t act_max, int32_t rounding,
                              int32_t in_frac, int32_t out_frac, int32_t qround, int32_t qoverflow,
                              int it, int wt, int q)
{
    const int32_t cg = in_c / groups, og = out_c / groups;
    const int wide = it != KWS_ST_S8;            /* int64 bias and accumulator */
    int32_t o, oh, ow, ci, kh, kw;
    for (o = 0; o < out_c; o++) {
        const int32_t c0 = (o / og) * cg;
        const void *wo = kws_cadv(weight, wt, (int64_t)o * cg * k_h * k_w);
        for (oh = 0; oh < out_h; oh++) {
            int32_t kh0, kh1;
            conv_taps(oh, stride_h, pad_top, dil_h, k_h, in_h, &kh0, &kh1);
            for (ow = 0; ow < out_w; ow++) {
                int32_t acc32 = 0; /* int8, q8 */
                int64_t acc64 = 0; /* int16, q16, q32 */
                int64_t v;
                int32_t kw0, kw1;
                const int32_t iw0 = ow * stride_w - pad_left;
                conv_taps(ow, stride_w, pad_left, dil_w, k_w, in_w, &kw0, &kw1);
                if (wide) acc64 = ((const int64_t *)bias)[o];
                else acc32 = ((const int32_t *)bias)[o];
                /* integer sums are exact (3.4, 9.3, 10.3): the order of the taps does not matter */
                if (k_h == 1 && k_w == 1) {          /* pointwise: one tap per input channel */
                    if (kh0 < kh1 && kw0 < kw1) {
                        const int32_t plane = in_h * in_w;
                        int32_t idx = c0 * plane + (oh * stride_h - pad_top) * in_w + iw0;
                        for (ci = 0; ci < cg; ci++, idx += plane) {
                            if (it == KWS_ST_S32) {
                                acc64 += (int64_t)kws_ldi(input, it, idx) * kws_ldi(wo, wt, ci);
                            } else {
                                const int32_t t = (kws_ldi(input, it, idx) - in_zp) * kws_ldi(wo, wt, ci);
                                if (wide) acc64 += t;
                                else acc32 += t;
                            }
                        }
                    }
                } else for (ci = 0; ci < cg; ci++) {
                    const void *xc = kws_cadv(input, it, (int64_t)(c0 + ci) * in_h * in_w);
                    const void *wc = kws_cadv(wo, wt, (int64_t)ci * k_h * k_w);
                    for (kh = kh0; kh < kh1; kh++) {
                        const int32_t row = (oh * stride_h - pad_top + kh * dil_h) * in_w + iw0;
                        const void *wr = kws_cadv(wc, wt, kh * k_w);
                        for (kw = kw0; kw < kw1; kw++) {
                            if (it == KWS_ST_S32) {
                                acc64 += (int64_t)kws_ldi(xc, it, row + kw * dil_w) * kws_ldi(wr, wt, kw);
                            } else {
                                /* |t| <= 2**22 (int8 weights), <= 2**30 (q16) */
                                const int32_t t = (kws_ldi(xc, it, row + kw * dil_w) - in_zp) * kws_ldi(wr, wt, kw);
                                if (wide) acc64 += t;
                                else acc32 += t;
                            }
                        }
                    }
                }
                if (q)
                    v = kws_qcast(wide ? acc64 : (int64_t)acc32, (int)(in_frac + weight_frac[o] - out_frac),
                                  (int)qround, kws_st_bits(it), (int)qoverflow);
                else if (it == KWS_ST_S16) v = kws_requantize_s64(acc64, multiplier[o], shift[o]);
                else v = (int64_t)kws_requantize(acc32, multiplier[o], shift[o], (int)rounding) + out_zp;
                kws_sti(output, it, ((int64_t)o * out_h + oh) * out_w + ow, kws_clamp(v, act_min, act_max));
            }
        }
    }
}

#define KWS_CONV2D_INT_ARGS in_c, in_h, in_w, out_c, k_h, k_w, out_h, out_w, stride_h, stride_w, dil_h, dil_w, \
                            pad_top, pad_left, groups

void kws_conv2d_s8(const int8_t *input, const int8_t *weight, const int32_t *bias,
                   const int32_t *multiplier, const int32_t *shift, int8_t *output,
                   int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                   int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                   int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_zp, int32_t out_zp,
                   int32_t act_min, int32_t act_max, int32_t rounding)
{
    conv2d_int(input, weight, bias, multiplier, shift, 0, output, KWS_CONV2D_INT_ARGS, in_zp, out_zp, act_min,
               act_max, rounding, 0, 0, 0, 0, KWS_ST_S8, KWS_ST_S8, 0);
}

void kws_conv2d_s16(const int16_t *input, const int8_t *weight, const int64_t *bias,
                    const int32_t *multiplier, const int32_t *shift, int16_t *output,
                    int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                    int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                    int32_t pad_top, int32_t pad_left, int32_t groups, int32_t act_min, int32_t act_max)
{
    conv2d_int(input, weight, bias, multiplier, shift, 0, output, KWS_CONV2D_INT_ARGS, 0, 0, act_min, act_max,
               KWS_ROUND_DOUBLE, 0, 0, 0, 0, KWS_ST_S16, KWS_ST_S8, 0);
}

#define KWS_CONV2D_Q_ARGS(it, wt) input, weight, bias, 0, 0, weight_frac, output, KWS_CONV2D_INT_ARGS, 0, 0, \
                                  act_min, act_max, 0, in_frac, out_frac, qround, qoverflow, it, wt, 1

void kws_conv2d_q8(const int8_t *input, const int8_t *weight, const int32_t *bias, const int32_t *weight_frac,
                   int8_t *output, int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h,
                   int32_t k_w, int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                   int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_frac,
                   int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow)
{
    conv2d_int(KWS_CONV2D_Q_ARGS(KWS_ST_S8, KWS_ST_S8));
}

void kws_conv2d_q16(const int16_t *input, const int16_t *weight, const int64_t *bias, const int32_t *weight_frac,
                    int16_t *output, int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h,
                    int32_t k_w, int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                    int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_frac,
                    int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow)
{
    conv2d_int(KWS_CONV2D_Q_ARGS(KWS_ST_S16, KWS_ST_S16));
}

void kws_conv2d_q32(const int32_t *input, const int16_t *weight, const int64_t *bias, const int32_t *weight_frac,
                    int32_t *output, int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h,
                    int32_t k_w, int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                    int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_frac,
                    int32_t out_frac, int32_t act_min, int32_t act_max, int32_t qround, int32_t qoverflow)
{
    conv2d_int(KWS_CONV2D_Q_ARGS(KWS_ST_S32, KWS_ST_S16));
}
#undef KWS_CONV2D_Q_ARGS
#undef KWS_CONV2D_INT_ARGS

/* The float kernel, once, for every storage type st (kws_storage.h). */
KWS_ST_INLINE void conv2d_float(const void *input, const void *weight, const void *bias, void *output,
                                int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                                int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                                int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t groups, float act_min,
                                float act_max, int st)
{
    const int32_t cg = in_c / groups, og = out_c / groups;
    int32_t o, oh, ow, ci, kh, kw;
    for (o = 0; o < out_c; o++) {
        const int32_t c0 = (o / og) * cg;
        const void *wo = kws_cadv(weight, st, (int64_t)o * cg * k_h * k_w);
        void *yo = kws_adv(output, st, (int64_t)o * out_h * out_w);
        for (oh = 0; oh < out_h; oh++) {
            for (ow = 0; ow < out_w; ow++) {
                float acc = kws_ldf(bias, st, o);
                for (ci = 0; ci < cg; ci++) {
                    const void *xc = kws_cadv(input, st, (int64_t)(c0 + ci) * in_h * in_w);
                    const void *wc = kws_cadv(wo, st, (int64_t)ci * k_h * k_w);
                    for (kh = 0; kh < k_h; kh++) {
                        const int32_t ih = oh * stride_h - pad_top + kh * dil_h;
                        if (ih < 0 || ih >= in_h) continue;
                        for (kw = 0; kw < k_w; kw++) {
                            const int32_t iw = ow * stride_w - pad_left + kw * dil_w;
                            if (iw < 0 || iw >= in_w) continue;
                            acc = acc + kws_ldf(xc, st, ih * in_w + iw) * kws_ldf(wc, st, kh * k_w + kw);
                        }
                    }
                }
                kws_stf(yo, st, oh * out_w + ow, kws_clamp_f32(acc, act_min, act_max));
            }
        }
    }
}

#define KWS_CONV2D_FLOAT_ARGS in_c, in_h, in_w, out_c, k_h, k_w, out_h, out_w, stride_h, stride_w, dil_h, dil_w, \
                              pad_top, pad_left, groups, act_min, act_max

void kws_conv2d_f32(const float *input, const float *weight, const float *bias, float *output,
                    int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                    int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                    int32_t pad_top, int32_t pad_left, int32_t groups, float act_min, float act_max)
{
    conv2d_float(input, weight, bias, output, KWS_CONV2D_FLOAT_ARGS, KWS_ST_F32);
}

void kws_conv2d_f16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                    int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                    int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                    int32_t pad_top, int32_t pad_left, int32_t groups, float act_min, float act_max)
{
    conv2d_float(input, weight, bias, output, KWS_CONV2D_FLOAT_ARGS, KWS_ST_F16);
}

void kws_conv2d_bf16(const uint16_t *input, const uint16_t *weight, const uint16_t *bias, uint16_t *output,
                     int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                     int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                     int32_t pad_top, int32_t pad_left, int32_t groups, float act_min, float act_max)
{
    conv2d_float(input, weight, bias, output, KWS_CONV2D_FLOAT_ARGS, KWS_ST_BF16);
}
#undef KWS_CONV2D_FLOAT_ARGS
