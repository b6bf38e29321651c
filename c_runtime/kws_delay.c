/* kws_delay.c -- see kws_delay.h. Spec: docs/numerics.md section 11, "delay". */
#include <string.h>
#include "kws_delay.h"

void kws_delay(void *state, const void *x, void *y, int32_t rows, int32_t state_bytes, int32_t in_bytes)
{
    unsigned char *s = (unsigned char *)state;
    const unsigned char *in = (const unsigned char *)x;
    unsigned char *out = (unsigned char *)y;
    const size_t sb = (size_t)state_bytes, ib = (size_t)in_bytes;
    int32_t r;
    for (r = 0; r < rows; r++) {
        unsigned char *yr = out + (size_t)r * (sb + ib);
        unsigned char *sr = s + (size_t)r * sb;
        memcpy(yr, sr, sb);
        memcpy(yr + sb, in + (size_t)r * ib, ib);
        memcpy(sr, yr + ib, sb);          /* the newest state_bytes of y[r]: y and state never overlap */
    }
}
