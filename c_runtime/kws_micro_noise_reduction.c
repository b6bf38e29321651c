/* kws_micro_noise_reduction.c -- see kws_micro_noise_reduction.h. */
#include "kws_micro_noise_reduction.h"

void kws_micro_noise_reduction(uint32_t *signal, uint32_t *estimate, int32_t n, int32_t smoothing_bits,
                               int32_t even, int32_t odd, int32_t min_remaining)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        const uint64_t s = (uint64_t)((i & 1) == 0 ? even : odd);
        const uint32_t up = signal[i] << smoothing_bits;
        uint32_t est = (uint32_t)(((uint64_t)up * s + (uint64_t)estimate[i] * ((1u << 14) - s)) >> 14);
        uint32_t floor, sub;
        estimate[i] = est;
        if (est > up) est = up;
        floor = (uint32_t)(((uint64_t)signal[i] * (uint64_t)min_remaining) >> 14);
        sub = (up - est) >> smoothing_bits;
        signal[i] = sub > floor ? sub : floor;
    }
}
