/* kws_micro_pcan.c -- see kws_micro_pcan.h. */
#include "kws_micro_pcan.h"
#include "kws_micro_common.h"

int16_t kws_micro_pcan_gain(uint32_t x, const int16_t *lut)
{
    int interval, b;
    int32_t frac, r;
    if (x <= 2) return lut[x];
    interval = kws_micro_msb64(x);
    b = 4 * interval - 6;
    frac = (int32_t)((interval < 11 ? (x << (11 - interval)) : (x >> (interval - 11))) & 0x3FFu);
    r = (int32_t)kws_floor_shift((int64_t)lut[b + 2] * frac, 5);
    r += (int32_t)lut[b + 1] * 32;
    r = (int32_t)kws_floor_shift((int64_t)r * frac + (1 << 14), 15);
    return kws_micro_wrap16((int64_t)r + lut[b]);
}

uint32_t kws_micro_pcan_shrink(uint32_t x)
{
    if (x < (2u << 12)) return (x * x) >> (2 + 2 * 12 - 6);
    return (x >> (12 - 6)) - (1u << 6);
}

void kws_micro_pcan(uint32_t *signal, const uint32_t *estimate, int32_t n, const int16_t *lut, int32_t snr_shift)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        const uint32_t gain = (uint32_t)(int32_t)kws_micro_pcan_gain(estimate[i], lut);   /* int16 -> uint32 */
        const uint64_t prod = (uint64_t)signal[i] * gain;
        const uint32_t snr = snr_shift >= 64 ? 0u : (uint32_t)(prod >> snr_shift);
        signal[i] = kws_micro_pcan_shrink(snr);
    }
}
