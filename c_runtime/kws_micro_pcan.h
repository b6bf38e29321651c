/* kws_micro_pcan.h -- microfrontend stage 5, PCAN gain control (docs/frontend.md M.6; TFLM
 * pcan_gain_control.c). */
#ifndef KWS_MICRO_PCAN_H
#define KWS_MICRO_PCAN_H
#include <stdint.h>

/** TFLM's WideDynamicFunction: the gain for noise estimate x from the 125-entry LUT. */
int16_t kws_micro_pcan_gain(uint32_t x, const int16_t *lut);

/** TFLM's PcanShrink. */
uint32_t kws_micro_pcan_shrink(uint32_t x);

/** signal[i] = shrink(((signal[i] * gain(estimate[i])) >> snr_shift) mod 2**32), in place; 0 <= snr_shift
 * <= 32; estimate: the noise reduction's state after this frame. */
void kws_micro_pcan(uint32_t *signal, const uint32_t *estimate, int32_t n, const int16_t *lut, int32_t snr_shift);
#endif
