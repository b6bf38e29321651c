/* kws_conv_fast.h -- int8 convolutions organized for speed on Cortex-M (docs/numerics.md section 4, "conv1d,
 * conv2d"; docs/codegen.md, "Fast kernels"): bit-exact with kws_conv2d_s8 in every build; the Arm DSP / SIMD32
 * path (SXTB16 + SMLAD through arm_acle.h) when __ARM_FEATURE_SIMD32 is defined, portable C otherwise. */
#ifndef KWS_CONV_FAST_H
#define KWS_CONV_FAST_H
#include <stdint.h>

/** kws_conv2d_s8 for groups == 1 (same arguments and layouts: NCHW input and output, OIHW weights), through a
 * two-pixel im2col. scratch: 2 * in_c * k_h * k_w int16 values (4 * in_c * k_h * k_w bytes, 4-byte aligned).
 * Accumulators are int32 (exact by docs/numerics.md 3.4). */
void kws_conv2d_s8_fast(const int8_t *input, const int8_t *weight, const int32_t *bias,
                        const int32_t *multiplier, const int32_t *shift, int8_t *output, void *scratch,
                        int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                        int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                        int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t in_zp, int32_t out_zp,
                        int32_t act_min, int32_t act_max, int32_t rounding);

/** kws_conv2d_s8 for depthwise convolutions (groups == in_c == out_c = channels). scratch: the padded plane,
 * ((out_h - 1) * stride_h + (k_h - 1) * dil_h + 1) * ((out_w - 1) * stride_w + (k_w - 1) * dil_w + 1) int16
 * values. */
void kws_dwconv2d_s8_fast(const int8_t *input, const int8_t *weight, const int32_t *bias,
                          const int32_t *multiplier, const int32_t *shift, int8_t *output, void *scratch,
                          int32_t channels, int32_t in_h, int32_t in_w, int32_t k_h, int32_t k_w,
                          int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                          int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t in_zp, int32_t out_zp,
                          int32_t act_min, int32_t act_max, int32_t rounding);

/* ---------------------------------------------------------------------------------------------------------
 * The implementations, static inline: the generated model source calls the *_inline twins with its literal
 * shapes, so every layer gets a copy specialized for its compile-time geometry; the functions above wrap them
 * for callers with run-time shapes. */
#include <string.h>
#include "kws_fixedpoint.h"

#if defined(__GNUC__) || defined(__clang__)
#define KWS_FAST_INLINE static inline __attribute__((always_inline))
#else
#define KWS_FAST_INLINE KWS_INLINE
#endif

#if defined(__ARM_FEATURE_SIMD32) && __ARM_FEATURE_SIMD32
#include <arm_acle.h>
#define KWS_SIMD32 1
#else
#define KWS_SIMD32 0
#endif

/* A 32-bit load from any address (memcpy: no alignment or aliasing UB; one LDR on Cortex-M3 and up). */
KWS_FAST_INLINE int32_t kws_ld32(const void *p)
{
    int32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* requantize + output zero point + clamp, as kws_conv2d_s8 (docs/numerics.md 3.2 and section 4); the usual
 * double rounding with shift <= 0 through kws_requantize_down (the same function kws_requantize calls). */
KWS_FAST_INLINE int8_t kws_out_s8(int32_t acc, int32_t multiplier, int32_t shift, int32_t out_zp, int32_t act_min,
                             int32_t act_max, int mode)
{
    const int32_t r = mode == KWS_ROUND_DOUBLE && shift <= 0 ? kws_requantize_down(acc, multiplier, (int)-shift)
                                                             : kws_requantize(acc, multiplier, shift, mode);
    int32_t v;
    if (r > KWS_INT32_MAX - 255 || r < KWS_INT32_MIN + 255)      /* + out_zp would overflow: saturate first */
        return (int8_t)(r > 0 ? act_max : act_min);
    v = r + out_zp;
    return (int8_t)(v < act_min ? act_min : v > act_max ? act_max : v);
}

/* SXTB16 of the word rotated right by 8 (bytes 1 and 3 sign-extended): one instruction with the ROR operand,
 * which ACLE's __sxtb16 cannot express. */
#if KWS_SIMD32
#if defined(__GNUC__) || defined(__clang__)
KWS_FAST_INLINE int32_t kws_sxtb16_ror8(uint32_t u)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(u));
    return r;
}
#else
#define kws_sxtb16_ror8(u) __sxtb16((int32_t)(((u) >> 8) | ((u) << 24)))
#endif
#endif

/* Where tap k of a group of four lands in the scratch: with SIMD32 the order (0, 2, 1, 3), so that the words
 * (x0, x2) and (x1, x3) pair with SXTB16(w) = (w0, w2) and SXTB16(w ROR 8) = (w1, w3); else the natural order. */
#if KWS_SIMD32
#define KWS_PERM(k, k4) ((k) < (k4) ? ((k) & ~3) + ((((k) & 1) << 1) | (((k) >> 1) & 1)) : (k))
#else
#define KWS_PERM(k, k4) ((void)(k4), (k))
#endif

/* The K = C * KH * KW taps of output pixel (oh, ow), x - in_zp (padding: 0), in (c, kh, kw) order (KWS_PERM). */
KWS_FAST_INLINE void kws_im2col_s8(const int8_t *input, int16_t *col, int32_t in_c, int32_t in_h, int32_t in_w, int32_t k_h,
                      int32_t k_w, int32_t oh, int32_t ow, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                      int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t in_zp, int32_t k4)
{
    const int32_t ih0 = oh * stride_h - pad_top, iw0 = ow * stride_w - pad_left;
    int32_t c, i, j, k = 0;
    if (k_h == 1 && k_w == 1 && ih0 >= 0 && ih0 < in_h && iw0 >= 0 && iw0 < in_w) {   /* pointwise */
        const int32_t plane = in_h * in_w;
        const int8_t *x = input + ih0 * in_w + iw0;
        for (c = 0; c < in_c; c++, x += plane)
            col[KWS_PERM(c, k4)] = (int16_t)(*x - in_zp);
        return;
    }
    for (c = 0; c < in_c; c++) {
        const int8_t *xc = input + c * in_h * in_w;
        for (i = 0; i < k_h; i++) {
            const int32_t ih = ih0 + i * dil_h;
            const int row_ok = ih >= 0 && ih < in_h;
            for (j = 0; j < k_w; j++, k++) {
                const int32_t iw = iw0 + j * dil_w;
                col[KWS_PERM(k, k4)] = (int16_t)(row_ok && iw >= 0 && iw < in_w ? xc[ih * in_w + iw] - in_zp : 0);
            }
        }
    }
}

/* Dot products of weight rows w0 (and w1) with the columns c0 (and c1), K taps, added to the accumulators. */
#if KWS_SIMD32
#define KWS_DOT4(acc, wlo, whi, col) \
    acc = __smlad(wlo, kws_ld32(col), acc); \
    acc = __smlad(whi, kws_ld32((col) + 2), acc)
#endif

KWS_FAST_INLINE void kws_gemm_2x2_s8(const int8_t *w0, const int8_t *w1, const int16_t *c0, const int16_t *c1, int32_t K,
                     int32_t k4, int32_t *a00, int32_t *a01, int32_t *a10, int32_t *a11)
{
    int32_t s00 = *a00, s01 = *a01, s10 = *a10, s11 = *a11, k;
#if KWS_SIMD32
    for (k = 0; k < k4; k += 4) {
        const uint32_t ua = (uint32_t)kws_ld32(w0 + k), ub = (uint32_t)kws_ld32(w1 + k);
        const int32_t a02 = __sxtb16((int32_t)ua), a13 = kws_sxtb16_ror8(ua);
        const int32_t b02 = __sxtb16((int32_t)ub), b13 = kws_sxtb16_ror8(ub);
        KWS_DOT4(s00, a02, a13, c0 + k);
        KWS_DOT4(s01, a02, a13, c1 + k);
        KWS_DOT4(s10, b02, b13, c0 + k);
        KWS_DOT4(s11, b02, b13, c1 + k);
    }
#else
    for (k = 0; k < k4; k += 4) {
        int32_t t;
        for (t = 0; t < 4; t++) {
            const int32_t x0 = c0[k + t], x1 = c1[k + t], wa = w0[k + t], wb = w1[k + t];
            s00 += wa * x0;
            s01 += wa * x1;
            s10 += wb * x0;
            s11 += wb * x1;
        }
    }
#endif
    for (k = k4; k < K; k++) {
        const int32_t x0 = c0[k], x1 = c1[k], wa = w0[k], wb = w1[k];
        s00 += wa * x0;
        s01 += wa * x1;
        s10 += wb * x0;
        s11 += wb * x1;
    }
    *a00 = s00;
    *a01 = s01;
    *a10 = s10;
    *a11 = s11;
}

KWS_FAST_INLINE int32_t kws_dot_s8(const int8_t *w, const int16_t *c, int32_t K, int32_t k4, int32_t acc)
{
    int32_t k;
#if KWS_SIMD32
    for (k = 0; k < k4; k += 4) {
        const uint32_t u = (uint32_t)kws_ld32(w + k);
        const int32_t lo = __sxtb16((int32_t)u), hi = kws_sxtb16_ror8(u);
        KWS_DOT4(acc, lo, hi, c + k);
    }
#else
    for (k = 0; k < k4; k++)
        acc += w[k] * c[k];
#endif
    for (k = k4; k < K; k++)
        acc += w[k] * c[k];
    return acc;
}

KWS_FAST_INLINE void kws_conv2d_s8_fast_inline(const int8_t *input, const int8_t *weight, const int32_t *bias,
                        const int32_t *multiplier, const int32_t *shift, int8_t *output, void *scratch,
                        int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                        int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                        int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t in_zp, int32_t out_zp,
                        int32_t act_min, int32_t act_max, int32_t rounding)
{
    const int32_t K = in_c * k_h * k_w, k4 = K & ~3, P = out_h * out_w;
    const int mode = (int)rounding;
    int16_t *col0 = (int16_t *)scratch, *col1 = col0 + K;
    int32_t p, o;
    for (p = 0; p < P; p += 2) {
        const int two = p + 1 < P;
        kws_im2col_s8(input, col0, in_c, in_h, in_w, k_h, k_w, p / out_w, p % out_w, stride_h, stride_w, dil_h, dil_w,
                  pad_top, pad_left, in_zp, k4);
        if (two)
            kws_im2col_s8(input, col1, in_c, in_h, in_w, k_h, k_w, (p + 1) / out_w, (p + 1) % out_w, stride_h,
                      stride_w, dil_h, dil_w, pad_top, pad_left, in_zp, k4);
        else
            memcpy(col1, col0, (size_t)K * sizeof *col1);   /* computed, never stored */
        for (o = 0; o + 1 < out_c; o += 2) {
            int32_t a00 = bias[o], a01 = bias[o], a10 = bias[o + 1], a11 = bias[o + 1];
            kws_gemm_2x2_s8(weight + o * K, weight + (o + 1) * K, col0, col1, K, k4, &a00, &a01, &a10, &a11);
            output[o * P + p] = kws_out_s8(a00, multiplier[o], shift[o], out_zp, act_min, act_max, mode);
            output[(o + 1) * P + p] = kws_out_s8(a10, multiplier[o + 1], shift[o + 1], out_zp, act_min, act_max,
                                                 mode);
            if (two) {
                output[o * P + p + 1] = kws_out_s8(a01, multiplier[o], shift[o], out_zp, act_min, act_max, mode);
                output[(o + 1) * P + p + 1] = kws_out_s8(a11, multiplier[o + 1], shift[o + 1], out_zp, act_min,
                                                         act_max, mode);
            }
        }
        if (o < out_c) {
            output[o * P + p] = kws_out_s8(kws_dot_s8(weight + o * K, col0, K, k4, bias[o]), multiplier[o], shift[o],
                                           out_zp, act_min, act_max, mode);
            if (two)
                output[o * P + p + 1] = kws_out_s8(kws_dot_s8(weight + o * K, col1, K, k4, bias[o]), multiplier[o],
                                                   shift[o], out_zp, act_min, act_max, mode);
        }
    }
}

/* Depthwise (groups == in_c == out_c): per channel, the padded input plane (x - in_zp, padding 0) in the int16
 * scratch, then every output as sum_{i,j} w[i][j] * plane[oh * sh + i * dh][ow * sw + j * dw], no bounds
 * tests; with SIMD32, two horizontally adjacent taps per SMLAD when dil_w == 1. */
KWS_FAST_INLINE void kws_dwconv2d_s8_fast_inline(const int8_t *input, const int8_t *weight, const int32_t *bias,
                          const int32_t *multiplier, const int32_t *shift, int8_t *output, void *scratch,
                          int32_t channels, int32_t in_h, int32_t in_w, int32_t k_h, int32_t k_w,
                          int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                          int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t in_zp, int32_t out_zp,
                          int32_t act_min, int32_t act_max, int32_t rounding)
{
    const int32_t ph = (out_h - 1) * stride_h + (k_h - 1) * dil_h + 1;
    const int32_t pw = (out_w - 1) * stride_w + (k_w - 1) * dil_w + 1;
    const int mode = (int)rounding;
    int16_t *plane = (int16_t *)scratch;
    int32_t c, r, s, oh, ow, i, j;
    for (c = 0; c < channels; c++) {
        const int8_t *xc = input + c * in_h * in_w;
        const int8_t *wc = weight + c * k_h * k_w;
        int8_t *yc = output + c * out_h * out_w;
        for (r = 0; r < ph; r++) {
            const int32_t ih = r - pad_top;
            int16_t *pr = plane + r * pw;
            if (ih < 0 || ih >= in_h) {
                for (s = 0; s < pw; s++)
                    pr[s] = 0;
                continue;
            }
            for (s = 0; s < pw; s++) {
                const int32_t iw = s - pad_left;
                pr[s] = (int16_t)(iw >= 0 && iw < in_w ? xc[ih * in_w + iw] - in_zp : 0);
            }
        }
        if (k_h == 3 && k_w == 3 && dil_h == 1 && dil_w == 1) {   /* the DS-CNN case, unrolled */
            const int32_t m = multiplier[c], sh = shift[c], b = bias[c];
            const int32_t w0 = wc[0], w1 = wc[1], w2 = wc[2], w3 = wc[3], w4 = wc[4], w5 = wc[5], w6 = wc[6],
                          w7 = wc[7], w8 = wc[8];
#if KWS_SIMD32
            const int32_t p01 = (int32_t)(((uint32_t)(uint16_t)w1 << 16) | (uint16_t)w0);
            const int32_t p34 = (int32_t)(((uint32_t)(uint16_t)w4 << 16) | (uint16_t)w3);
            const int32_t p67 = (int32_t)(((uint32_t)(uint16_t)w7 << 16) | (uint16_t)w6);
#endif
            for (oh = 0; oh < out_h; oh++) {
                const int16_t *r0 = plane + oh * stride_h * pw;
                for (ow = 0; ow < out_w; ow++, r0 += stride_w) {
                    const int16_t *r1 = r0 + pw, *r2 = r1 + pw;
#if KWS_SIMD32
                    int32_t acc = __smlad(p01, kws_ld32(r0), b);
                    acc = __smlad(p34, kws_ld32(r1), acc);
                    acc = __smlad(p67, kws_ld32(r2), acc);
                    acc += w2 * r0[2] + w5 * r1[2] + w8 * r2[2];
#else
                    const int32_t acc = b + w0 * r0[0] + w1 * r0[1] + w2 * r0[2] + w3 * r1[0] + w4 * r1[1] +
                                        w5 * r1[2] + w6 * r2[0] + w7 * r2[1] + w8 * r2[2];
#endif
                    yc[oh * out_w + ow] = kws_out_s8(acc, m, sh, out_zp, act_min, act_max, mode);
                }
            }
            continue;
        }
        for (oh = 0; oh < out_h; oh++) {
            for (ow = 0; ow < out_w; ow++) {
                const int16_t *base = plane + oh * stride_h * pw + ow * stride_w;
                int32_t acc = bias[c];
                for (i = 0; i < k_h; i++) {
                    const int16_t *row = base + i * dil_h * pw;
                    const int8_t *wr = wc + i * k_w;
                    j = 0;
#if KWS_SIMD32
                    if (dil_w == 1) {
                        for (; j + 1 < k_w; j += 2) {
                            /* (w[j], w[j+1]) as an int16 pair, little-endian: low half w[j] */
                            const int32_t wp = (int32_t)(((uint32_t)(uint16_t)(int16_t)wr[j + 1] << 16) |
                                                         (uint32_t)(uint16_t)(int16_t)wr[j]);
                            acc = __smlad(wp, kws_ld32(row + j), acc);
                        }
                    }
#endif
                    for (; j < k_w; j++)
                        acc += wr[j] * row[j * dil_w];
                }
                yc[oh * out_w + ow] = kws_out_s8(acc, multiplier[c], shift[c], out_zp, act_min, act_max, mode);
            }
        }
    }
}
#endif
