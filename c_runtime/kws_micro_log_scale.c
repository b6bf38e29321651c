/* kws_micro_log_scale.c -- see kws_micro_log_scale.h. */
#include "kws_micro_log_scale.h"
#include "kws_micro_common.h"

/* TFLM's Log(x, scale_shift) for x >= 2: log2 from the leading bit and the LUT-corrected mantissa (Q16),
 * times ln 2 (45426 / 2**16), times 2**scale_shift / 2**16, each step rounded half up. */
static uint32_t kws_micro_log(uint32_t x, int32_t scale_shift, const uint16_t *lut)
{
    const int integer = kws_micro_msb64(x) - 1;
    int32_t frac = (int32_t)(x - ((uint32_t)1 << integer));
    int32_t base, c0, c1, rel;
    uint32_t log2, loge;
    if (integer < 16) frac = (int32_t)((uint32_t)frac << (16 - integer));
    else frac = (int32_t)((uint32_t)frac >> (integer - 16));
    base = frac >> 9;
    c0 = lut[base];
    c1 = lut[base + 1];
    rel = (int32_t)kws_floor_shift((int64_t)(c1 - c0) * (frac - 512 * base), 16);
    log2 = ((uint32_t)integer << 16) + (uint32_t)(frac + c0 + rel);
    loge = (uint32_t)(((uint64_t)45426u * log2 + 32768u) >> 16);
    return ((loge << scale_shift) + 32768u) >> 16;
}

void kws_micro_log_scale(const uint32_t *signal, int32_t n, int32_t correction_bits, int32_t scale_shift,
                         int32_t enable_log, const uint16_t *lut, uint16_t *out)
{
    int32_t i;
    for (i = 0; i < n; i++) {
        uint32_t v = signal[i];
        if (enable_log) {
            if (correction_bits < 0) v >>= -correction_bits;
            else v <<= correction_bits;
            v = v > 1 ? kws_micro_log(v, scale_shift, lut) : 0;
        }
        out[i] = (uint16_t)(v < 0xFFFFu ? v : 0xFFFFu);
    }
}
