/* kws_conv.c -- see kws_conv.h. Spec: docs/numerics.md section 4, "conv1d, conv2d". */
#include "kws_conv.h"
#include "kws_fixedpoint.h"

void kws_conv2d_s8(const int8_t *input, const int8_t *weight, const int32_t *bias,
                   const int32_t *multiplier, const int32_t *shift, int8_t *output,
                   int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                   int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                   int32_t pad_top, int32_t pad_left, int32_t groups, int32_t in_zp, int32_t out_zp,
                   int32_t act_min, int32_t act_max, int32_t rounding)
{
    const int32_t cg = in_c / groups, og = out_c / groups;
    int32_t o, oh, ow, ci, kh, kw;
    for (o = 0; o < out_c; o++) {
        const int32_t c0 = (o / og) * cg;
        const int8_t *wo = weight + (int64_t)o * cg * k_h * k_w;
        for (oh = 0; oh < out_h; oh++) {
            for (ow = 0; ow < out_w; ow++) {
                int32_t acc = bias[o]; /* |acc| < 2**31: checked at load (3.4) */
                int64_t v;
                for (ci = 0; ci < cg; ci++) {
                    const int8_t *xc = input + (int64_t)(c0 + ci) * in_h * in_w;
                    const int8_t *wc = wo + (int64_t)ci * k_h * k_w;
                    for (kh = 0; kh < k_h; kh++) {
                        const int32_t ih = oh * stride_h - pad_top + kh * dil_h;
                        if (ih < 0 || ih >= in_h) continue;
                        for (kw = 0; kw < k_w; kw++) {
                            const int32_t iw = ow * stride_w - pad_left + kw * dil_w;
                            if (iw < 0 || iw >= in_w) continue;
                            acc += ((int32_t)xc[ih * in_w + iw] - in_zp) * (int32_t)wc[kh * k_w + kw];
                        }
                    }
                }
                v = (int64_t)kws_requantize(acc, multiplier[o], shift[o], (int)rounding) + out_zp;
                output[((int64_t)o * out_h + oh) * out_w + ow] = (int8_t)kws_clamp(v, act_min, act_max);
            }
        }
    }
}

void kws_conv2d_f32(const float *input, const float *weight, const float *bias, float *output,
                    int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                    int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h, int32_t dil_w,
                    int32_t pad_top, int32_t pad_left, int32_t groups, float act_min, float act_max)
{
    const int32_t cg = in_c / groups, og = out_c / groups;
    int32_t o, oh, ow, ci, kh, kw;
    for (o = 0; o < out_c; o++) {
        const int32_t c0 = (o / og) * cg;
        const float *wo = weight + (int64_t)o * cg * k_h * k_w;
        for (oh = 0; oh < out_h; oh++) {
            for (ow = 0; ow < out_w; ow++) {
                float acc = bias[o];
                for (ci = 0; ci < cg; ci++) {
                    const float *xc = input + (int64_t)(c0 + ci) * in_h * in_w;
                    const float *wc = wo + (int64_t)ci * k_h * k_w;
                    for (kh = 0; kh < k_h; kh++) {
                        const int32_t ih = oh * stride_h - pad_top + kh * dil_h;
                        if (ih < 0 || ih >= in_h) continue;
                        for (kw = 0; kw < k_w; kw++) {
                            const int32_t iw = ow * stride_w - pad_left + kw * dil_w;
                            if (iw < 0 || iw >= in_w) continue;
                            acc = acc + xc[ih * in_w + iw] * wc[kh * k_w + kw];
                        }
                    }
                }
                output[((int64_t)o * out_h + oh) * out_w + ow] = kws_clamp_f32(acc, act_min, act_max);
            }
        }
    }
}
