/* kws_micro_filterbank.h -- microfrontend stage 3: energy, mel-spaced triangular channels, square root
 * (docs/frontend.md M.4; TFLM filterbank.c). */
#ifndef KWS_MICRO_FILTERBANK_H
#define KWS_MICRO_FILTERBANK_H
#include <stdint.h>

/** energy[k] = re^2 + im^2 of spectrum bin k for start <= k < end, stored as TFLM's int32 (2**31 wraps to
 * -2**31); 0 for the other bins (0 <= k < bins). spec: interleaved int16 (real, imag). */
void kws_micro_energy(const int16_t *spec, int32_t start, int32_t end, int32_t bins, int32_t *energy);

/** work[c], c < nbands (= channels + 1): sum_j weights[ws[c] + j] * energy[fs[c] + j] over j < widths[c],
 * plus band c - 1's sum with the unweights (exact int64; TFLM's uint64 accumulators hold it mod 2**64). */
void kws_micro_filterbank(const int32_t *energy, const int16_t *fs, const int16_t *ws, const int16_t *widths,
                          const int16_t *weights, const int16_t *unweights, int32_t nbands, int64_t *work);

/** TFLM's Sqrt64 (round to nearest, saturating) of the uint64 bit pattern of v. */
uint32_t kws_micro_sqrt64(int64_t v);

/** out[c] = kws_micro_sqrt64(work[c + 1]) >> shift, c < channels (0 <= shift <= 31). */
void kws_micro_filterbank_sqrt(const int64_t *work, int32_t channels, int32_t shift, uint32_t *out);
#endif
