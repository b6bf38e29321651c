/* kws_storage.h -- float storage types of the float kernels (docs/numerics.md section 7, "C runtime").
 *
 * Each float op's arithmetic is written once, in a KWS_ST_INLINE function of its .c file that takes a storage
 * type code; the public kws_<op>_f32 / _f16 / _bf16 functions are thin wrappers passing a constant code. Every
 * float tensor and float constant array of a call has that one storage type:
 *   KWS_ST_F32    float
 *   KWS_ST_F16    uint16_t fp16 bit patterns
 *   KWS_ST_BF16   uint16_t bf16 bit patterns
 * Elements are read with kws_ldf (16 bits: widened exactly, kws_f16_to_f32 / kws_bf16_to_f32) and written
 * with kws_stf (16 bits: rounded once, kws_f32_to_f16 / kws_f32_to_bf16); all arithmetic in between is the
 * float32 kernel's, in float32 locals (a kernel never stores a partial result in its output buffer). With
 * KWS_ST_F32 kws_ldf / kws_stf are a plain float load / store, so the float32 kernels are unchanged.
 * Pointers are `const void *` / `void *` that point to float or uint16_t objects (converted back to that
 * type before any access: no aliasing UB); kws_cadv / kws_adv advance them by whole elements.
 *
 * Speed: the kernels and these helpers are KWS_ST_INLINE (always_inline with GCC / clang), so each public
 * wrapper gets its own copy of the kernel with the constant type folded in: the float32 wrapper compiles to
 * the plain float32 loop (no per-element type test; -Os included), at the cost of one machine-code copy per
 * storage type (link with -ffunction-sections -Wl,--gc-sections to drop the unused ones). Other compilers
 * get `static inline`: the same results, maybe slower.
 */
#ifndef KWS_STORAGE_H
#define KWS_STORAGE_H

#include <stdint.h>
#include "kws_float16.h"

#define KWS_ST_F32 0
#define KWS_ST_F16 1
#define KWS_ST_BF16 2

#if defined(__GNUC__) || defined(__clang__)
#define KWS_ST_INLINE static inline __attribute__((always_inline))
#else
#define KWS_ST_INLINE KWS_INLINE
#endif

/** p[i] of storage type `type`, as a float32 (exact). */
KWS_ST_INLINE float kws_ldf(const void *p, int type, int32_t i)
{
    if (type == KWS_ST_F16) return kws_f16_to_f32(((const uint16_t *)p)[i]);
    if (type == KWS_ST_BF16) return kws_bf16_to_f32(((const uint16_t *)p)[i]);
    return ((const float *)p)[i];
}

/** p[i] = v in storage type `type` (16 bits: v rounded once to nearest even). */
KWS_ST_INLINE void kws_stf(void *p, int type, int32_t i, float v)
{
    if (type == KWS_ST_F16) ((uint16_t *)p)[i] = kws_f32_to_f16(v);
    else if (type == KWS_ST_BF16) ((uint16_t *)p)[i] = kws_f32_to_bf16(v);
    else ((float *)p)[i] = v;
}

/** Bytes per element of storage type `type`. */
KWS_ST_INLINE int64_t kws_st_bytes(int type)
{
    return type == KWS_ST_F32 ? (int64_t)sizeof(float) : (int64_t)sizeof(uint16_t);
}

/** p + n elements (const). */
KWS_ST_INLINE const void *kws_cadv(const void *p, int type, int64_t n)
{
    return (const unsigned char *)p + n * kws_st_bytes(type);
}

/** p + n elements. */
KWS_ST_INLINE void *kws_adv(void *p, int type, int64_t n)
{
    return (unsigned char *)p + n * kws_st_bytes(type);
}

#endif /* KWS_STORAGE_H */
