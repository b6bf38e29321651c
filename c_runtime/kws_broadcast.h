/* kws_broadcast.h -- the indexing of elementwise ops with broadcasting (mul: docs/numerics.md 11.11; add:
 * section 4, "add"). The output is (n0, n1, n2) row-major (per-sample shapes padded with leading 1s); an input's
 * element at output index (i, j, k) is input[i*s0 + j*s1 + k*s2], with its row-major element strides per axis and
 * stride 0 where it broadcasts (size 1). The offset is formed in int64 (no overflow) and is below the input's
 * size, so it fits the int32 element index of kws_storage.h. */
#ifndef KWS_BROADCAST_H
#define KWS_BROADCAST_H
#include <stdint.h>

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
static inline
#else
static
#endif
int64_t kws_bcast_at(int32_t i, int32_t j, int32_t k, int32_t s0, int32_t s1, int32_t s2)
{
    return (int64_t)i * s0 + (int64_t)j * s1 + (int64_t)k * s2;
}
#endif
