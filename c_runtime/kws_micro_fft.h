/* kws_micro_fft.h -- microfrontend stage 2: kissfft's real FFT in 16-bit fixed point, as TFLM builds it
 * (FIXED_POINT=16; docs/frontend.md M.3). Complex values are interleaved int16 (real, imag). */
#ifndef KWS_MICRO_FFT_H
#define KWS_MICRO_FFT_H
#include <stdint.h>

/** TFLM's FftCompute: x[i] = wrap16((win[i] mod 2**16) << shift) for i < n_in, 0 for n_in <= i < fft_size,
 * then the real FFT of x (fft_size a power of two, 8..4096; n_in <= fft_size; 0 <= shift <= 15).
 * tw: the fft_size/2 complex twiddles, stw: the fft_size/4 super twiddles (int16 pairs, |v| <= 32767).
 * scratch: 2 * fft_size int16. out: fft_size/2 + 1 complex values. */
void kws_micro_fft(const int16_t *win, int32_t n_in, int32_t shift, int32_t fft_size, const int16_t *tw,
                   const int16_t *stw, int16_t *scratch, int16_t *out);
#endif
