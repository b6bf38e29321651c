/* kws_micro_frontend.h -- TFLM's microfrontend (docs/frontend.md, "The micro frontend"): int16 PCM in,
 * one uint16 feature frame per window step out. Static memory: the caller (generated code) owns every table
 * and buffer; no malloc, no float, no libm.
 *
 *     kws_micro_reset(&state);
 *     while (n > 0) {                          // any chunk sizes give the same frames
 *         size_t used;
 *         if (kws_micro_process(&cfg, &state, pcm, n, &used, frame)) { ... a frame of cfg.num_channels ... }
 *         pcm += used; n -= used;
 *     }
 */
#ifndef KWS_MICRO_FRONTEND_H
#define KWS_MICRO_FRONTEND_H
#include <stddef.h>
#include <stdint.h>

/** The stored tables and integers of a micro frontend (the model file's /frontend). */
typedef struct {
    int32_t window_size, window_step, fft_size, num_channels;
    const int16_t *window;                 /* window_size Q12 coefficients */
    const int16_t *fft_twiddles;           /* fft_size / 2 complex */
    const int16_t *fft_super_twiddles;     /* fft_size / 4 complex */
    int32_t fb_start_index, fb_end_index;
    const int16_t *fb_frequency_starts, *fb_weight_starts, *fb_widths;   /* num_channels + 1 */
    const int16_t *fb_weights, *fb_unweights;
    int32_t smoothing_bits, nr_even, nr_odd, nr_min;
    int32_t enable_pcan, pcan_snr_shift;
    const int16_t *pcan_gain_lut;          /* 125 */
    int32_t enable_log, scale_shift, correction_bits;
    const uint16_t *log_lut;               /* 130 */
} kws_micro_config;

/** State (buffer, fill, noise estimate) and scratch; sizes in brackets. */
typedef struct {
    int16_t *buffer;       /* [window_size] samples of the current window */
    int32_t used;          /* samples in buffer */
    uint32_t *estimate;    /* [num_channels] noise estimate */
    int16_t *windowed;     /* [window_size] */
    int16_t *fft_scratch;  /* [2 * fft_size] */
    int16_t *spectrum;     /* [2 * (fft_size / 2 + 1)] */
    int32_t *energy;       /* [fft_size / 2 + 1] */
    int64_t *work;         /* [num_channels + 1] */
    uint32_t *signal;      /* [num_channels] */
} kws_micro_state;

/** Empty the window buffer and zero the noise estimate (TFLM's FrontendReset). */
void kws_micro_reset(const kws_micro_config *cfg, kws_micro_state *st);

/** TFLM's FrontendProcessSamples: takes up to what the window still needs from pcm[0..n-1] (*used), and
 * when the window is full computes one frame into out[num_channels] and returns 1 (else 0). */
int kws_micro_process(const kws_micro_config *cfg, kws_micro_state *st, const int16_t *pcm, size_t n,
                      size_t *used, uint16_t *out);

/** One frame from the full window in st->buffer (no buffer bookkeeping): the stages in order. */
void kws_micro_frame(const kws_micro_config *cfg, kws_micro_state *st, uint16_t *out);
#endif
