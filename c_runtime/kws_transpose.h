/* kws_transpose.h -- transpose (docs/numerics.md 11.10): the axes of a sample of up to 3 axes permuted. */
#ifndef KWS_TRANSPOSE_H
#define KWS_TRANSPOSE_H
#include <stdint.h>

/** output (n0, n1, n2) of elem-byte elements: y[i][j][k] = x[i*t0 + j*t1 + k*t2] (t: the input strides, in
 * elements, of the input axes that output axes 0, 1, 2 take). */
void kws_transpose(const void *input, void *output, int32_t elem, int32_t n0, int32_t n1, int32_t n2, int32_t t0,
                   int32_t t1, int32_t t2);
#endif
