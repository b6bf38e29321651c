/* kws_storage.h -- storage types of the kernels: the floats of the float kernels (docs/numerics.md section 7,
 * "C runtime") and the signed integers of the quantized ones (int8, int16: sections 4 and 9).
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
 *
 * Integer elements, the same way: each quantized op's integer arithmetic is written once, in a KWS_ST_INLINE
 * function taking a width code; the public kws_<op>_s8 / _s16 functions are thin wrappers passing a constant
 * code (and, for int16, the constant zero points 0 of docs/numerics.md 9.1):
 *   KWS_ST_S8     int8_t   q in [-128, 127]            (int8; also the q8 container, docs/numerics.md 10.1)
 *   KWS_ST_S16    int16_t  q in [-32768, 32767]        (int16; also the q16 container)
 *   KWS_ST_S32    int32_t  q in [-2**31, 2**31 - 1]    (the q32 container)
 *   KWS_ST_U8     uint8_t  q in [0, 255]               (uint8: edge storage only, read / written by requantize and
 *                                                       dequantize; docs/numerics.md section 2)
 * Elements are read with kws_ldi (widened exactly to int32) and written with kws_sti (the value must already be
 * in the type's range: every kernel clamps first, so the conversion is exact); kws_st_qmin / kws_st_qmax give the
 * range; kws_cadv / kws_adv advance these pointers too. Where the int16 path differs in substance (conv / linear:
 * int64 bias and accumulator, requantize64; docs/numerics.md 9.2, 9.3) the kernel branches on the constant code
 * explicitly; the branch folds away, so the int8 wrapper compiles to the plain int8 loop.
 * The Q-format kernels (docs/numerics.md section 10: kws_<op>_q8 / _q16 / _q32) take the same codes for their
 * containers (q8 = KWS_ST_S8, q16 = KWS_ST_S16, q32 = KWS_ST_S32); kws_st_bits gives the width for qcast.
 * kws_ldi of a KWS_ST_S32 element is any int32: kernels widen to int64 before any arithmetic that could
 * overflow int32.
 */
#ifndef KWS_STORAGE_H
#define KWS_STORAGE_H

#include <stdint.h>
#include "kws_float16.h"

#define KWS_ST_F32 0
#define KWS_ST_F16 1
#define KWS_ST_BF16 2
#define KWS_ST_S8 3
#define KWS_ST_S16 4
#define KWS_ST_S32 5
#define KWS_ST_U8 6
/** Is storage type st an integer one (KWS_ST_S8 / KWS_ST_S16 / KWS_ST_S32 / KWS_ST_U8)? */
#define KWS_ST_IS_INT(st) ((st) == KWS_ST_S8 || (st) == KWS_ST_S16 || (st) == KWS_ST_S32 || (st) == KWS_ST_U8)

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

/** p[i] of integer storage type `type` (KWS_ST_S8 / KWS_ST_S16 / KWS_ST_S32 / KWS_ST_U8), as an int32 (exact). */
KWS_ST_INLINE int32_t kws_ldi(const void *p, int type, int64_t i)
{
    if (type == KWS_ST_S32) return ((const int32_t *)p)[i];
    if (type == KWS_ST_U8) return ((const uint8_t *)p)[i];
    if (type == KWS_ST_S16) return ((const int16_t *)p)[i];
    return ((const int8_t *)p)[i];
}

/** p[i] = v in integer storage type `type`; v must be in the type's range (clamped by the caller: exact). */
KWS_ST_INLINE void kws_sti(void *p, int type, int64_t i, int64_t v)
{
    if (type == KWS_ST_S32) ((int32_t *)p)[i] = (int32_t)v;
    else if (type == KWS_ST_U8) ((uint8_t *)p)[i] = (uint8_t)v;
    else if (type == KWS_ST_S16) ((int16_t *)p)[i] = (int16_t)v;
    else ((int8_t *)p)[i] = (int8_t)v;
}

/** Smallest value of integer storage type `type` (-128, -32768, -2**31 or 0 for uint8). */
KWS_ST_INLINE int32_t kws_st_qmin(int type)
{
    if (type == KWS_ST_S32) return -2147483647 - 1;
    if (type == KWS_ST_U8) return 0;
    return type == KWS_ST_S16 ? -32768 : -128;
}

/** Largest value of integer storage type `type` (127, 32767, 2**31 - 1 or 255 for uint8). */
KWS_ST_INLINE int32_t kws_st_qmax(int type)
{
    if (type == KWS_ST_S32) return 2147483647;
    if (type == KWS_ST_U8) return 255;
    return type == KWS_ST_S16 ? 32767 : 127;
}

/** Width in bits of integer storage type `type` (8, 16 or 32): the `bits` of qcast / overflow. */
KWS_ST_INLINE int kws_st_bits(int type)
{
    if (type == KWS_ST_S32) return 32;
    return type == KWS_ST_S16 ? 16 : 8;
}

/** Bytes per element of storage type `type`. */
KWS_ST_INLINE int64_t kws_st_bytes(int type)
{
    if (type == KWS_ST_F32) return (int64_t)sizeof(float);
    if (type == KWS_ST_S8) return (int64_t)sizeof(int8_t);
    if (type == KWS_ST_U8) return (int64_t)sizeof(uint8_t);
    if (type == KWS_ST_S16) return (int64_t)sizeof(int16_t);
    if (type == KWS_ST_S32) return (int64_t)sizeof(int32_t);
    return (int64_t)sizeof(uint16_t);
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
