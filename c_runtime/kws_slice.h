/* kws_slice.h -- slice (docs/numerics.md 11.8): a strided window of a sample of up to 3 axes. */
#ifndef KWS_SLICE_H
#define KWS_SLICE_H
#include <stdint.h>

/** input (d0, d1, d2) of elem-byte elements -> output (n0, n1, n2):
 * y[i][j][k] = x[b0 + i*s0][b1 + j*s1][b2 + k*s2] (every index inside the input: checked at load). */
void kws_slice(const void *input, void *output, int32_t elem, int32_t d0, int32_t d1, int32_t d2, int32_t b0,
               int32_t b1, int32_t b2, int32_t s0, int32_t s1, int32_t s2, int32_t n0, int32_t n1, int32_t n2);
#endif
