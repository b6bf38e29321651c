/* kws_pad.c -- see kws_pad.h. Spec: docs/numerics.md 11.7. */
#include "kws_pad.h"

static void put(unsigned char *y, int64_t i, int32_t elem, const unsigned char *v)
{
    int32_t k;
    for (k = 0; k < elem; k++) y[i * elem + k] = v[k];
}

void kws_pad(const void *input, void *output, int32_t elem, int32_t fill, int32_t d0, int32_t d1, int32_t d2,
             int32_t a0, int32_t b0, int32_t a1, int32_t b1, int32_t a2, int32_t b2)
{
    const unsigned char *x = (const unsigned char *)input;
    unsigned char *y = (unsigned char *)output;
    const int32_t o0 = d0 + a0 + b0, o1 = d1 + a1 + b1, o2 = d2 + a2 + b2;
    unsigned char v[4];
    const uint32_t u = (uint32_t)fill;
    int32_t i, j, k;
    int64_t n = 0;
    if (elem == 1) {
        v[0] = (unsigned char)(u & 0xFFu);
    } else {                                 /* the value's bytes in this machine's order, as the tensors are */
        union { uint32_t w; uint16_t h; unsigned char b[4]; } pat;
        if (elem == 2) { pat.h = (uint16_t)(u & 0xFFFFu); } else { pat.w = u; }
        for (k = 0; k < elem; k++) v[k] = pat.b[k];
    }
    for (i = 0; i < o0; i++)
        for (j = 0; j < o1; j++)
            for (k = 0; k < o2; k++, n++) {
                const int32_t si = i - a0, sj = j - a1, sk = k - a2;
                if (si >= 0 && si < d0 && sj >= 0 && sj < d1 && sk >= 0 && sk < d2)
                    put(y, n, elem, x + (((int64_t)si * d1 + sj) * d2 + sk) * elem);
                else
                    put(y, n, elem, v);
            }
}
