/* kws_micro_filterbank.c -- see kws_micro_filterbank.h. */
#include "kws_micro_filterbank.h"
#include "kws_micro_common.h"

void kws_micro_energy(const int16_t *spec, int32_t start, int32_t end, int32_t bins, int32_t *energy)
{
    int32_t k;
    for (k = 0; k < bins; k++) {
        int64_t e = 0;
        if (k >= start && k < end) {
            e = (int64_t)spec[2 * k] * spec[2 * k] + (int64_t)spec[2 * k + 1] * spec[2 * k + 1];
            if (e >= 2147483648LL) e -= 4294967296LL;
        }
        energy[k] = (int32_t)e;
    }
}

void kws_micro_filterbank(const int32_t *energy, const int16_t *fs, const int16_t *ws, const int16_t *widths,
                          const int16_t *weights, const int16_t *unweights, int32_t nbands, int64_t *work)
{
    int64_t carry = 0;
    int32_t c, j;
    for (c = 0; c < nbands; c++) {
        int64_t acc = carry, un = 0;
        const int32_t *e = energy + fs[c];
        const int16_t *w = weights + ws[c], *uw = unweights + ws[c];
        for (j = 0; j < widths[c]; j++) {
            acc += (int64_t)w[j] * e[j];
            un += (int64_t)uw[j] * e[j];
        }
        work[c] = acc;
        carry = un;
    }
}

/* The digit-by-digit root of TFLM's Sqrt32 (top = 32) / Sqrt64 (top = 64) for num != 0. */
static uint64_t kws_micro_sqrt_bits(uint64_t num, int top)
{
    int mbn = (top - kws_micro_msb64(num)) | 1;
    uint64_t bit = (uint64_t)1 << (top - 1 - mbn);
    uint64_t res = 0;
    uint64_t lim = top == 32 ? 0xFFFFu : 0xFFFFFFFFu;
    int it = (top - 1 - mbn) / 2 + 1;
    while (it--) {
        if (num >= res + bit) {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if (num > res && res != lim) res++;
    return res;
}

uint32_t kws_micro_sqrt64(int64_t v)
{
    uint64_t u = (uint64_t)v;
    if (u == 0) return 0;
    return (uint32_t)kws_micro_sqrt_bits(u, (u >> 32) == 0 ? 32 : 64);
}

void kws_micro_filterbank_sqrt(const int64_t *work, int32_t channels, int32_t shift, uint32_t *out)
{
    int32_t c;
    for (c = 0; c < channels; c++) out[c] = kws_micro_sqrt64(work[c + 1]) >> shift;
}
