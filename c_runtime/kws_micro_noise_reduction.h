/* kws_micro_noise_reduction.h -- microfrontend stage 4 (docs/frontend.md M.5; TFLM noise_reduction.c). */
#ifndef KWS_MICRO_NOISE_REDUCTION_H
#define KWS_MICRO_NOISE_REDUCTION_H
#include <stdint.h>

/** In place on signal[0..n-1]; estimate[] is the per-channel state (zero after reset). even / odd: the
 * Q14 smoothing of even / odd channels, min_remaining: Q14 floor (each in [0, 16384]); 0 <= smoothing_bits
 * <= 16. */
void kws_micro_noise_reduction(uint32_t *signal, uint32_t *estimate, int32_t n, int32_t smoothing_bits,
                               int32_t even, int32_t odd, int32_t min_remaining);
#endif
