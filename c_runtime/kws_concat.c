/* kws_concat.c -- see kws_concat.h. Spec: docs/numerics.md 11.6. */
#include "kws_concat.h"

/* copy input rows of `bytes` bytes into the output rows of `row` bytes at byte offset `offset` */
static void part(const void *input, void *output, int32_t outer, int32_t bytes, int32_t row, int32_t offset)
{
    const unsigned char *x = (const unsigned char *)input;
    unsigned char *y = (unsigned char *)output;
    int32_t o, i;
    for (o = 0; o < outer; o++)
        for (i = 0; i < bytes; i++)
            y[(int64_t)o * row + offset + i] = x[(int64_t)o * bytes + i];
}

void kws_concat1(const void *in0, void *output, int32_t outer, int32_t b0)
{
    part(in0, output, outer, b0, b0, 0);
}

void kws_concat2(const void *in0, const void *in1, void *output, int32_t outer, int32_t b0, int32_t b1)
{
    const int32_t row = b0 + b1;
    part(in0, output, outer, b0, row, 0);
    part(in1, output, outer, b1, row, b0);
}

void kws_concat3(const void *in0, const void *in1, const void *in2, void *output, int32_t outer, int32_t b0,
                 int32_t b1, int32_t b2)
{
    const int32_t row = b0 + b1 + b2;
    part(in0, output, outer, b0, row, 0);
    part(in1, output, outer, b1, row, b0);
    part(in2, output, outer, b2, row, b0 + b1);
}

void kws_concat4(const void *in0, const void *in1, const void *in2, const void *in3, void *output, int32_t outer,
                 int32_t b0, int32_t b1, int32_t b2, int32_t b3)
{
    const int32_t row = b0 + b1 + b2 + b3;
    part(in0, output, outer, b0, row, 0);
    part(in1, output, outer, b1, row, b0);
    part(in2, output, outer, b2, row, b0 + b1);
    part(in3, output, outer, b3, row, b0 + b1 + b2);
}
