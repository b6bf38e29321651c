/* kws_transpose.c -- see kws_transpose.h. Spec: docs/numerics.md 11.10. */
#include "kws_transpose.h"

void kws_transpose(const void *input, void *output, int32_t elem, int32_t n0, int32_t n1, int32_t n2, int32_t t0,
                   int32_t t1, int32_t t2)
{
    const unsigned char *x = (const unsigned char *)input;
    unsigned char *y = (unsigned char *)output;
    int32_t i, j, k, e;
    int64_t n = 0;
    for (i = 0; i < n0; i++)
        for (j = 0; j < n1; j++)
            for (k = 0; k < n2; k++, n++) {
                const int64_t src = (int64_t)i * t0 + (int64_t)j * t1 + (int64_t)k * t2;
                for (e = 0; e < elem; e++) y[n * elem + e] = x[src * elem + e];
            }
}
