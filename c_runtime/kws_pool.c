/* kws_pool.c -- see kws_pool.h. Spec: docs/numerics.md section 4, "Pooling". */
#include "kws_pool.h"
#include "kws_fixedpoint.h"
#include "kws_storage.h"

/* The avgpool, once, for every storage type st (kws_storage.h); the branches on the constant st and q fold away.
 * Integer types, affine (q == 0): int32 sum (|sum| <= 128 * KH * KW for int8, 32768 * KH * KW for int16, < 2**31:
 * checked at load), padded taps counted as q = zp when count_include_pad (int16 passes zp = 0, docs/numerics.md
 * 9.4), one rounded 32-bit division (kws_div_round_away_i32), the integer clamp. Q-format (q == 1, docs/numerics.md 10.3,
 * zp = 0): int64 sum, padded taps 0, one division kws_div_round(sum, cnt, qround), the integer clamp.
 * Float types: float32 sum in tap order, one division, the float clamp. */
KWS_ST_INLINE void avgpool2d_any(const void *input, void *output, int32_t channels, int32_t in_h, int32_t in_w,
                                 int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h,
                                 int32_t stride_w, int32_t pad_top, int32_t pad_left, int32_t count_include_pad,
                                 int32_t zp, int32_t act_min, int32_t act_max, float act_min_f, float act_max_f,
                                 int32_t qround, int st, int q)
{
    const int32_t area = k_h * k_w;
    int32_t c, oh, ow, i, j;
    for (c = 0; c < channels; c++) {
        const void *xc = kws_cadv(input, st, (int64_t)c * in_h * in_w);
        void *yc = kws_adv(output, st, (int64_t)c * out_h * out_w);
        for (oh = 0; oh < out_h; oh++) {
            const int32_t ih0 = oh * stride_h - pad_top;
            for (ow = 0; ow < out_w; ow++) {
                const int32_t iw0 = ow * stride_w - pad_left;
                int32_t sum = 0, cnt = 0;
                int64_t sum64 = 0; /* Q */
                float acc = 0.0f;
                for (i = 0; i < k_h; i++) {
                    const int32_t ih = ih0 + i;
                    if (ih < 0 || ih >= in_h) continue;
                    for (j = 0; j < k_w; j++) {
                        const int32_t iw = iw0 + j;
                        if (iw < 0 || iw >= in_w) continue;
                        if (q) sum64 += kws_ldi(xc, st, ih * in_w + iw);
                        else if (KWS_ST_IS_INT(st)) sum += kws_ldi(xc, st, ih * in_w + iw);
                        else acc = acc + kws_ldf(xc, st, ih * in_w + iw);
                        cnt++;
                    }
                }
                if (count_include_pad) { /* padded taps are the real value 0 (int: q = zp; Q: 0) */
                    if (!q) sum += (area - cnt) * zp;
                    cnt = area;
                }
                if (q)
                    kws_sti(yc, st, oh * out_w + ow,
                            kws_clamp(kws_div_round(sum64, cnt, (int)qround), act_min, act_max));
                else if (KWS_ST_IS_INT(st))
                    kws_sti(yc, st, oh * out_w + ow, kws_clamp(kws_div_round_away_i32(sum, cnt), act_min, act_max));
                else
                    kws_stf(yc, st, oh * out_w + ow, kws_clamp_f32(acc / (float)cnt, act_min_f, act_max_f));
            }
        }
    }
}

void kws_avgpool2d_s8(const int8_t *input, int8_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                      int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                      int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t zp,
                      int32_t act_min, int32_t act_max)
{
    avgpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  pad_top, pad_left, count_include_pad, zp, act_min, act_max, 0.0f, 0.0f, 0, KWS_ST_S8, 0);
}

void kws_avgpool2d_s16(const int16_t *input, int16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t act_min, int32_t act_max)
{
    avgpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  pad_top, pad_left, count_include_pad, 0, act_min, act_max, 0.0f, 0.0f, 0, KWS_ST_S16, 0);
}

#define KWS_AVGPOOL2D_Q_ARGS(it) input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w, \
                                 pad_top, pad_left, count_include_pad, 0, act_min, act_max, 0.0f, 0.0f, qround, it, 1

void kws_avgpool2d_q8(const int8_t *input, int8_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                      int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                      int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t act_min, int32_t act_max,
                      int32_t qround)
{
    avgpool2d_any(KWS_AVGPOOL2D_Q_ARGS(KWS_ST_S8));
}

void kws_avgpool2d_q16(const int16_t *input, int16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t act_min, int32_t act_max,
                       int32_t qround)
{
    avgpool2d_any(KWS_AVGPOOL2D_Q_ARGS(KWS_ST_S16));
}

void kws_avgpool2d_q32(const int32_t *input, int32_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, int32_t act_min, int32_t act_max,
                       int32_t qround)
{
    avgpool2d_any(KWS_AVGPOOL2D_Q_ARGS(KWS_ST_S32));
}
#undef KWS_AVGPOOL2D_Q_ARGS

void kws_avgpool2d_f32(const float *input, float *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, float act_min, float act_max)
{
    avgpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  pad_top, pad_left, count_include_pad, 0, 0, 0, act_min, act_max, 0, KWS_ST_F32, 0);
}

void kws_avgpool2d_f16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t pad_top, int32_t pad_left, int32_t count_include_pad, float act_min, float act_max)
{
    avgpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  pad_top, pad_left, count_include_pad, 0, 0, 0, act_min, act_max, 0, KWS_ST_F16, 0);
}

void kws_avgpool2d_bf16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                        int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                        int32_t pad_top, int32_t pad_left, int32_t count_include_pad, float act_min, float act_max)
{
    avgpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  pad_top, pad_left, count_include_pad, 0, 0, 0, act_min, act_max, 0, KWS_ST_BF16, 0);
}

/* The maxpool, once, for every storage type st; integer types compare int32 values from the type's minimum,
 * float types float32 values from -inf with NaN propagating (as PyTorch). Every window has a valid tap
 * (checked at load). */
KWS_ST_INLINE void maxpool2d_any(const void *input, void *output, int32_t channels, int32_t in_h, int32_t in_w,
                                 int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h,
                                 int32_t stride_w, int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                                 int32_t act_min, int32_t act_max, float act_min_f, float act_max_f, int st)
{
    int32_t c, oh, ow, i, j;
    for (c = 0; c < channels; c++) {
        const void *xc = kws_cadv(input, st, (int64_t)c * in_h * in_w);
        void *yc = kws_adv(output, st, (int64_t)c * out_h * out_w);
        for (oh = 0; oh < out_h; oh++) {
            const int32_t ih0 = oh * stride_h - pad_top;
            for (ow = 0; ow < out_w; ow++) {
                const int32_t iw0 = ow * stride_w - pad_left;
                int32_t m = KWS_ST_IS_INT(st) ? kws_st_qmin(st) : 0;
                float mf = -KWS_INFINITY_F32;
                for (i = 0; i < k_h; i++) {
                    const int32_t ih = ih0 + i * dil_h;
                    if (ih < 0 || ih >= in_h) continue;
                    for (j = 0; j < k_w; j++) {
                        const int32_t iw = iw0 + j * dil_w;
                        if (iw < 0 || iw >= in_w) continue;
                        if (KWS_ST_IS_INT(st)) {
                            const int32_t v = kws_ldi(xc, st, ih * in_w + iw);
                            if (v > m) m = v;
                        } else {
                            const float v = kws_ldf(xc, st, ih * in_w + iw);
                            if (v > mf || v != v) mf = v;
                        }
                    }
                }
                if (KWS_ST_IS_INT(st))
                    kws_sti(yc, st, oh * out_w + ow, kws_clamp(m, act_min, act_max));
                else
                    kws_stf(yc, st, oh * out_w + ow, kws_clamp_f32(mf, act_min_f, act_max_f));
            }
        }
    }
}

void kws_maxpool2d_s8(const int8_t *input, int8_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                      int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                      int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                      int32_t act_min, int32_t act_max)
{
    maxpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  dil_h, dil_w, pad_top, pad_left, act_min, act_max, 0.0f, 0.0f, KWS_ST_S8);
}

void kws_maxpool2d_s16(const int16_t *input, int16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                       int32_t act_min, int32_t act_max)
{
    maxpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  dil_h, dil_w, pad_top, pad_left, act_min, act_max, 0.0f, 0.0f, KWS_ST_S16);
}

void kws_maxpool2d_s32(const int32_t *input, int32_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                       int32_t act_min, int32_t act_max)
{
    maxpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  dil_h, dil_w, pad_top, pad_left, act_min, act_max, 0.0f, 0.0f, KWS_ST_S32);
}

void kws_maxpool2d_f32(const float *input, float *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                       float act_min, float act_max)
{
    maxpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  dil_h, dil_w, pad_top, pad_left, 0, 0, act_min, act_max, KWS_ST_F32);
}

void kws_maxpool2d_f16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                       int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                       int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                       float act_min, float act_max)
{
    maxpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  dil_h, dil_w, pad_top, pad_left, 0, 0, act_min, act_max, KWS_ST_F16);
}

void kws_maxpool2d_bf16(const uint16_t *input, uint16_t *output, int32_t channels, int32_t in_h, int32_t in_w,
                        int32_t out_h, int32_t out_w, int32_t k_h, int32_t k_w, int32_t stride_h, int32_t stride_w,
                        int32_t dil_h, int32_t dil_w, int32_t pad_top, int32_t pad_left,
                        float act_min, float act_max)
{
    maxpool2d_any(input, output, channels, in_h, in_w, out_h, out_w, k_h, k_w, stride_h, stride_w,
                  dil_h, dil_w, pad_top, pad_left, 0, 0, act_min, act_max, KWS_ST_BF16);
}
