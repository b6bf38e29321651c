/* kws_micro_window.h -- microfrontend stage 1, the window (docs/frontend.md M.2; TFLM window.c). */
#ifndef KWS_MICRO_WINDOW_H
#define KWS_MICRO_WINDOW_H
#include <stdint.h>

/** out[i] = wrap16(floor(in[i] * coef[i] / 2**12)), i < n. Returns the frame's peak: the largest
 * wrap16(|out[i]|) (>= 0; an output of -32768 does not count, as TFLM's int16 negation). */
int16_t kws_micro_window(const int16_t *in, const int16_t *coef, int32_t n, int16_t *out);
#endif
