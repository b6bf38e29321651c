/* kws_micro_frontend.c -- see kws_micro_frontend.h. */
#include "kws_micro_frontend.h"
#include "kws_micro_common.h"
#include "kws_micro_window.h"
#include "kws_micro_fft.h"
#include "kws_micro_filterbank.h"
#include "kws_micro_noise_reduction.h"
#include "kws_micro_pcan.h"
#include "kws_micro_log_scale.h"

void kws_micro_reset(const kws_micro_config *cfg, kws_micro_state *st)
{
    int32_t i;
    for (i = 0; i < cfg->window_size; i++) st->buffer[i] = 0;
    for (i = 0; i < cfg->num_channels; i++) st->estimate[i] = 0;
    st->used = 0;
}

void kws_micro_frame(const kws_micro_config *cfg, kws_micro_state *st, uint16_t *out)
{
    const int16_t peak = kws_micro_window(st->buffer, cfg->window, cfg->window_size, st->windowed);
    const int32_t shift = 15 - kws_micro_msb64((uint64_t)(int64_t)peak);
    const int32_t bins = cfg->fft_size / 2 + 1;
    kws_micro_fft(st->windowed, cfg->window_size, shift, cfg->fft_size, cfg->fft_twiddles,
                  cfg->fft_super_twiddles, st->fft_scratch, st->spectrum);
    kws_micro_energy(st->spectrum, cfg->fb_start_index, cfg->fb_end_index, bins, st->energy);
    kws_micro_filterbank(st->energy, cfg->fb_frequency_starts, cfg->fb_weight_starts, cfg->fb_widths,
                         cfg->fb_weights, cfg->fb_unweights, cfg->num_channels + 1, st->work);
    kws_micro_filterbank_sqrt(st->work, cfg->num_channels, shift, st->signal);
    kws_micro_noise_reduction(st->signal, st->estimate, cfg->num_channels, cfg->smoothing_bits, cfg->nr_even,
                              cfg->nr_odd, cfg->nr_min);
    if (cfg->enable_pcan)
        kws_micro_pcan(st->signal, st->estimate, cfg->num_channels, cfg->pcan_gain_lut, cfg->pcan_snr_shift);
    kws_micro_log_scale(st->signal, cfg->num_channels, cfg->correction_bits, cfg->scale_shift, cfg->enable_log,
                        cfg->log_lut, out);
}

int kws_micro_process(const kws_micro_config *cfg, kws_micro_state *st, const int16_t *pcm, size_t n,
                      size_t *used, uint16_t *out)
{
    size_t room = (size_t)(cfg->window_size - st->used), k, i;
    int32_t j;
    k = room < n ? room : n;
    for (i = 0; i < k; i++) st->buffer[(size_t)st->used + i] = pcm[i];
    st->used += (int32_t)k;
    *used = k;
    if (st->used < cfg->window_size) return 0;
    kws_micro_frame(cfg, st, out);
    for (j = 0; j < cfg->window_size - cfg->window_step; j++) st->buffer[j] = st->buffer[j + cfg->window_step];
    st->used -= cfg->window_step;
    return 1;
}
