/* kws_pad.h -- pad (docs/numerics.md 11.7): constant padding of a sample of up to 3 axes. */
#ifndef KWS_PAD_H
#define KWS_PAD_H
#include <stdint.h>

/** input (d0, d1, d2) of elem-byte elements (1, 2 or 4) -> output (d0+a0+b0, d1+a1+b1, d2+a2+b2); outside
 * the input, every element is `fill` (the low elem bytes of its two's complement / float32 bit pattern). */
void kws_pad(const void *input, void *output, int32_t elem, int32_t fill, int32_t d0, int32_t d1, int32_t d2,
             int32_t a0, int32_t b0, int32_t a1, int32_t b1, int32_t a2, int32_t b2);
#endif
