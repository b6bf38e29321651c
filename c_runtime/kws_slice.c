/* kws_slice.c -- see kws_slice.h. Spec: docs/numerics.md 11.8. */
#include "kws_slice.h"

void kws_slice(const void *input, void *output, int32_t elem, int32_t d0, int32_t d1, int32_t d2, int32_t b0,
               int32_t b1, int32_t b2, int32_t s0, int32_t s1, int32_t s2, int32_t n0, int32_t n1, int32_t n2)
{
    const unsigned char *x = (const unsigned char *)input;
    unsigned char *y = (unsigned char *)output;
    int32_t i, j, k, e;
    int64_t n = 0;
    (void)d0;
    for (i = 0; i < n0; i++)
        for (j = 0; j < n1; j++)
            for (k = 0; k < n2; k++, n++) {
                const int64_t src = ((int64_t)(b0 + i * s0) * d1 + (b1 + j * s1)) * d2 + (b2 + k * s2);
                for (e = 0; e < elem; e++) y[n * elem + e] = x[src * elem + e];
            }
}
