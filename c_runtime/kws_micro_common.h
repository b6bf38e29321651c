/* kws_micro_common.h -- integer helpers of the microfrontend stages (docs/frontend.md, "The micro frontend").
 *
 * TFLM's C stores intermediate results in int16_t / uint32_t variables and relies on two's complement
 * wrap-around and arithmetic right shifts; here each such store is an explicit, fully defined operation:
 * kws_micro_wrap16 (mod 2**16, signed), uint32_t arithmetic (mod 2**32), kws_floor_shift (floor of a
 * division by a power of two without shifting a negative value). No float, no libm, no UB.
 */
#ifndef KWS_MICRO_COMMON_H
#define KWS_MICRO_COMMON_H
#include <stdint.h>
#include "kws_fixedpoint.h"

/** x mod 2**16 as a two's complement int16. */
KWS_INLINE int16_t kws_micro_wrap16(int64_t x)
{
    int32_t v = (int32_t)((uint64_t)x & 0xFFFFu);
    if (v >= 32768) v -= 65536;
    return (int16_t)v;
}

/** Number of significant bits (TFLM's MostSignificantBit32/64): 0 for 0. */
KWS_INLINE int kws_micro_msb64(uint64_t x)
{
    int n = 0;
    while (x) { n++; x >>= 1; }
    return n;
}
#endif
