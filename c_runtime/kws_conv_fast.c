/* kws_conv_fast.c -- see kws_conv_fast.h. Spec: docs/numerics.md section 4, "conv1d, conv2d" (int8).
 *
 * The same arithmetic as kws_conv2d_s8 (integer sums are exact, so only the order of the products differs),
 * organized the way CMSIS-NN organizes it: the taps of two output pixels gathered into a small int16 scratch
 * (im2col, input zero point already subtracted, padding taps 0), then 2 pixels x 2 output channels per inner
 * loop, four taps at a time. With the Arm DSP / SIMD32 extension (__ARM_FEATURE_SIMD32: Cortex-M4, M7, M33,
 * M55) four int8 weights are widened by two SXTB16 and multiplied by SMLAD (two 16 x 16 MACs per
 * instruction); elsewhere the same loops run in portable C. Both are bit-exact with the oracle.
 */
#include "kws_conv_fast.h"

void kws_conv2d_s8_fast(const int8_t *input, const int8_t *weight, const int32_t *bias,
                        const int32_t *multiplier, const int32_t *shift, int8_t *output, void *scratch,
                        int32_t in_c, int32_t in_h, int32_t in_w, int32_t out_c, int32_t k_h, int32_t k_w,
                        int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                        int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t in_zp, int32_t out_zp,
                        int32_t act_min, int32_t act_max, int32_t rounding)
{
    kws_conv2d_s8_fast_inline(input, weight, bias, multiplier, shift, output, scratch, in_c, in_h, in_w, out_c, k_h,
                              k_w, out_h, out_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left, in_zp, out_zp,
                              act_min, act_max, rounding);
}

void kws_dwconv2d_s8_fast(const int8_t *input, const int8_t *weight, const int32_t *bias,
                          const int32_t *multiplier, const int32_t *shift, int8_t *output, void *scratch,
                          int32_t channels, int32_t in_h, int32_t in_w, int32_t k_h, int32_t k_w,
                          int32_t out_h, int32_t out_w, int32_t stride_h, int32_t stride_w, int32_t dil_h,
                          int32_t dil_w, int32_t pad_top, int32_t pad_left, int32_t in_zp, int32_t out_zp,
                          int32_t act_min, int32_t act_max, int32_t rounding)
{
    kws_dwconv2d_s8_fast_inline(input, weight, bias, multiplier, shift, output, scratch, channels, in_h, in_w, k_h,
                                k_w, out_h, out_w, stride_h, stride_w, dil_h, dil_w, pad_top, pad_left, in_zp,
                                out_zp, act_min, act_max, rounding);
}
