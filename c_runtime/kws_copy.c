/* kws_copy.c -- see kws_copy.h. Spec: docs/numerics.md section 4, "reshape". */
#include "kws_copy.h"

void kws_copy(const void *input, void *output, int32_t nbytes)
{
    const unsigned char *src = (const unsigned char *)input;
    unsigned char *dst = (unsigned char *)output;
    int32_t i;
    if (src == dst) return;
    for (i = 0; i < nbytes; i++)
        dst[i] = src[i];
}
