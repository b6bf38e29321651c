/* kws_concat.h -- concat (docs/numerics.md 11.6): inputs joined along one axis, as bytes. */
#ifndef KWS_CONCAT_H
#define KWS_CONCAT_H
#include <stdint.h>

/** For o < outer: the output row o is input 0's row o (b0 bytes), then input 1's (b1 bytes), ... */
void kws_concat1(const void *in0, void *output, int32_t outer, int32_t b0);
void kws_concat2(const void *in0, const void *in1, void *output, int32_t outer, int32_t b0, int32_t b1);
void kws_concat3(const void *in0, const void *in1, const void *in2, void *output, int32_t outer, int32_t b0,
                 int32_t b1, int32_t b2);
void kws_concat4(const void *in0, const void *in1, const void *in2, const void *in3, void *output, int32_t outer,
                 int32_t b0, int32_t b1, int32_t b2, int32_t b3);
#endif
