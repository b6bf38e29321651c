/* kws_logmel.h -- the float frontends (kinds logmel and mfcc, docs/frontend.md section 3 and "C float
 * frontends") in float32 C, libm only (logf; sqrtf / powf for power != 2). Not bit-exact with the float64 numpy
 * reference: the tolerance is stated in docs/frontend.md and checked by tests/test_logmel_c.py. */
#ifndef KWS_LOGMEL_H
#define KWS_LOGMEL_H
#include <stdint.h>

typedef struct {
    int32_t clip_samples, n_fft, hop_length, center, n_frames, n_freqs, n_mels, n_coeffs, time_major;
    const float *window;       /* n_fft: the (zero-padded, centred) periodic Hann window */
    const float *twiddles;     /* 2 * n_fft: cos, sin of -2 pi k / n_fft, interleaved */
    int32_t n_stages;
    const int32_t *factors;    /* 2 * n_stages: radix p, then m = n / (p_0 ... p_s), outermost first */
    const int32_t *mel_start, *mel_len, *mel_offset;   /* n_mels: first bin, bins, offset into mel_w */
    const float *mel_w;        /* the non-zero filterbank weights, filter after filter */
    const float *dct;          /* n_coeffs x n_mels (mfcc), or NULL (logmel: n_coeffs = n_mels) */
    float power, log_offset, mean, std;
} kws_logmel_config;

/** Scratch floats kws_logmel needs. */
#define KWS_LOGMEL_SCRATCH_FLOATS(clip, n_fft, n_freqs, n_mels) \
    ((clip) + 6 * (n_fft) + (n_freqs) + (n_mels) + 8)

/** One clip (clip_samples int16, already padded / truncated) -> out: n_frames x n_coeffs (time_major) or
 * n_coeffs x n_frames. */
void kws_logmel(const kws_logmel_config *cfg, const int16_t *pcm, float *scratch, float *out);
#endif
