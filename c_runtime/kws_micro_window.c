/* kws_micro_window.c -- see kws_micro_window.h. */
#include "kws_micro_window.h"
#include "kws_micro_common.h"

int16_t kws_micro_window(const int16_t *in, const int16_t *coef, int32_t n, int16_t *out)
{
    int32_t i;
    int16_t peak = 0;
    for (i = 0; i < n; i++) {
        int16_t v = kws_micro_wrap16(kws_floor_shift((int64_t)in[i] * coef[i], 12));
        int16_t a = v < 0 ? kws_micro_wrap16(-(int64_t)v) : v;
        out[i] = v;
        if (a > peak) peak = a;
    }
    return peak;
}
