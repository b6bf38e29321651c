/* kws_float16.h -- fp16 (IEEE-754 binary16) and bf16 storage conversions (docs/numerics.md,
 * "Storage floats (fp16, bf16)"), once, for every C kernel.
 *
 * Bit-identical to kwsnum/float16.py (the numba oracle). fp16 / bf16 values are stored as uint16_t bit
 * patterns; kernels widen them to float32 to compute and narrow the results back. No compiler half types
 * (_Float16, __fp16, __bf16), no hardware conversion, no libm: the float32 bit pattern is read and written
 * with memcpy (no aliasing UB) and every computation is uint32_t arithmetic (no signed overflow, no shift
 * of a negative value, no shift by >= 32).
 *
 *   kws_f16_to_f32, kws_bf16_to_f32   exact widening
 *   kws_f32_to_f16, kws_f32_to_bf16   round to nearest, ties to even; subnormals kept; overflow to +-inf
 *   NaN (all four): stays NaN, sign kept, the payload's top bits kept, the quiet bit set.
 */
#ifndef KWS_FLOAT16_H
#define KWS_FLOAT16_H

#include <stdint.h>
#include <string.h>

#ifndef KWS_INLINE /* as in kws_fixedpoint.h */
#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define KWS_INLINE static inline
#else
#define KWS_INLINE static
#endif
#endif

/** The bit pattern of a float32 (memcpy: no aliasing UB). */
KWS_INLINE uint32_t kws_f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/** The float32 with bit pattern u. */
KWS_INLINE float kws_bits_f32(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/** fp16 bits -> float32 bits: exact; NaN: sign, payload << 13, quiet bit (0x00400000) set. */
KWS_INLINE uint32_t kws_f16_bits_to_f32_bits(uint16_t h)
{
    uint32_t sign = ((uint32_t)h & 0x8000u) << 16;
    uint32_t e = ((uint32_t)h >> 10) & 0x1Fu;
    uint32_t m = (uint32_t)h & 0x3FFu;
    uint32_t p;
    if (e == 0x1Fu) {                                       /* inf / NaN */
        if (m == 0u) return sign | 0x7F800000u;
        return sign | 0x7F800000u | 0x00400000u | (m << 13);
    }
    if (e != 0u) return sign | ((e + 112u) << 23) | (m << 13); /* normal: rebias 15 -> 127 */
    if (m == 0u) return sign;                              /* +-0 */
    p = 9u;                                                 /* subnormal m * 2**-24 = 1.f * 2**(p - 24) */
    while ((m >> p) == 0u) p--;
    return sign | ((p + 103u) << 23) | ((m << (23u - p)) & 0x7FFFFFu);
}

/** float32 bits -> fp16 bits: round to nearest even, subnormals, overflow to inf; NaN: sign, top 10
 * payload bits, quiet bit (0x0200) set. */
KWS_INLINE uint16_t kws_f32_bits_to_f16_bits(uint32_t u)
{
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7FFFFFFFu;
    uint32_t e, mant, s, q, r, half;
    if (a > 0x7F800000u)                                    /* NaN */
        return (uint16_t)(sign | 0x7C00u | 0x0200u | ((a >> 13) & 0x3FFu));
    if (a >= 0x477FF000u)                                   /* >= 65520 (ties to even: up) or inf */
        return (uint16_t)(sign | 0x7C00u);
    if (a >= 0x38800000u)                                   /* >= 2**-14: normal; the carry is right */
        return (uint16_t)(sign | ((a - 0x38000000u + 0xFFFu + ((a >> 13) & 1u)) >> 13));
    if (a <= 0x33000000u)                                   /* <= 2**-25 (ties to even: 0) */
        return (uint16_t)sign;
    e = a >> 23;                                            /* 102 .. 112 */
    mant = (a & 0x7FFFFFu) | 0x800000u;
    s = 126u - e;                                           /* 14 .. 24 */
    q = mant >> s;
    r = mant & ((1u << s) - 1u);
    half = 1u << (s - 1u);
    if (r > half || (r == half && (q & 1u) != 0u)) q++;    /* q == 0x400: the smallest normal */
    return (uint16_t)(sign | q);
}

/** bf16 bits -> float32 bits: b << 16; NaN: quiet bit (0x0040) set. */
KWS_INLINE uint32_t kws_bf16_bits_to_f32_bits(uint16_t b)
{
    uint32_t v = (uint32_t)b;
    if ((v & 0x7FFFu) > 0x7F80u) v |= 0x0040u;
    return v << 16;
}

/** float32 bits -> bf16 bits: round to nearest even (overflow to inf is the carry); NaN: sign, top 7
 * payload bits, quiet bit (0x0040) set. */
KWS_INLINE uint16_t kws_f32_bits_to_bf16_bits(uint32_t u)
{
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16); /* u <= 0xFF800000: no uint32 wrap */
}

/** fp16 bit pattern -> float32 (exact). */
KWS_INLINE float kws_f16_to_f32(uint16_t h) { return kws_bits_f32(kws_f16_bits_to_f32_bits(h)); }

/** float32 -> fp16 bit pattern (round to nearest even). */
KWS_INLINE uint16_t kws_f32_to_f16(float x) { return kws_f32_bits_to_f16_bits(kws_f32_bits(x)); }

/** bf16 bit pattern -> float32 (exact). */
KWS_INLINE float kws_bf16_to_f32(uint16_t b) { return kws_bits_f32(kws_bf16_bits_to_f32_bits(b)); }

/** float32 -> bf16 bit pattern (round to nearest even). */
KWS_INLINE uint16_t kws_f32_to_bf16(float x) { return kws_f32_bits_to_bf16_bits(kws_f32_bits(x)); }

#endif /* KWS_FLOAT16_H */
