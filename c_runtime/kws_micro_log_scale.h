/* kws_micro_log_scale.h -- microfrontend stage 6, the fixed-point log (docs/frontend.md M.7; TFLM
 * log_scale.c). */
#ifndef KWS_MICRO_LOG_SCALE_H
#define KWS_MICRO_LOG_SCALE_H
#include <stdint.h>

/** out[i] = min(65535, log(signal[i] shifted by correction_bits)) (or the shifted-less value itself when
 * enable_log is 0); lut: the 130-entry log2 correction table; 0 <= scale_shift <= 16,
 * -31 <= correction_bits <= 31. */
void kws_micro_log_scale(const uint32_t *signal, int32_t n, int32_t correction_bits, int32_t scale_shift,
                         int32_t enable_log, const uint16_t *lut, uint16_t *out);
#endif
