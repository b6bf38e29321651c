/* kws_fixedpoint.h -- the primitives of docs/numerics.md section 3, once, for every C kernel.
 *
 * Bit-identical to kwsnum/fixedpoint.py (the numba oracle). Kernels call these and never re-derive
 * rounding inline. C99, no libm, no undefined behaviour:
 *   - no signed overflow (every intermediate has a stated width; int32 x int32 products are formed in int64),
 *   - no shift of a negative value (floor / round-away of negatives are written as -((-x + k) >> n)),
 *   - no shift by >= the width of the type.
 * Signed bitwise AND is not used either (the remainder of a floor division is computed arithmetically).
 */
#ifndef KWS_FIXEDPOINT_H
#define KWS_FIXEDPOINT_H

#include <stdint.h>
#include <float.h>
#include <math.h> /* INFINITY only (a constant); integer paths use no libm function */
#include "kws_float16.h" /* kws_f32_bits */

#define KWS_INFINITY_F32 ((float)INFINITY)

/* The float32 kernels must evaluate float expressions in float (SSE, ARM VFP, ...), not in a wider
 * type (x87): their bit-exactness against the oracle depends on it (docs/numerics.md section 5). */
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD != 0 && FLT_EVAL_METHOD != -1
#error "kwsnum float32 kernels need FLT_EVAL_METHOD == 0 (e.g. gcc -msse2 -mfpmath=sse on x86-32)"
#endif

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define KWS_INLINE static inline
#else
#define KWS_INLINE static
#endif

/* Rounding modes of requantization (the model's root attribute "rounding"). */
#define KWS_ROUND_DOUBLE 0 /* gemmlowp SRDHM + RoundingDivideByPOT (TFLM default) */
#define KWS_ROUND_SINGLE 1 /* TFLITE_SINGLE_ROUNDING / CMSIS-NN: one rounding, ties toward +inf */

#define KWS_INT32_MIN (-2147483647 - 1)
#define KWS_INT32_MAX 2147483647

/** Saturate an int64 to the int32 range (3.2 saturate_int32). */
KWS_INLINE int32_t kws_sat_i32(int64_t x)
{
    if (x > (int64_t)KWS_INT32_MAX) return KWS_INT32_MAX;
    if (x < (int64_t)KWS_INT32_MIN) return KWS_INT32_MIN;
    return (int32_t)x;
}

/** clamp(x, lo, hi) = min(max(x, lo), hi) on integers (section 1). */
KWS_INLINE int64_t kws_clamp(int64_t x, int64_t lo, int64_t hi)
{
    if (x < lo) return lo;
    if (x > hi) return hi;
    return x;
}

/** float32 clamp_f (docs "linear"): lo if v < lo, hi if v > hi, else v. NaN passes through; this equals the
 * oracle's Python/numba min(max(v, lo), hi). Never fminf/fmaxf (they drop NaN). */
KWS_INLINE float kws_clamp_f32(float v, float lo, float hi)
{
    if (v < lo) return lo;
    if (v > hi) return hi;
    return v;
}

/** floor(x / 2**n) for 0 <= n <= 62, without shifting a negative value:
 * for x < 0, floor(x / 2**n) = -floor((-x - 1) / 2**n) - 1 (and -x - 1 >= 0 never overflows). */
KWS_INLINE int64_t kws_floor_shift(int64_t x, int n)
{
    if (x >= 0) return x >> n;
    return -((-(x + 1)) >> n) - 1;
}

/** gemmlowp SaturatingRoundingDoublingHighMul (3.2): trunc((a*b + nudge) / 2**31), nudge = 2**30 if
 * a*b >= 0 else 1 - 2**30, a*b in int64; INT32_MAX for a == b == INT32_MIN. */
KWS_INLINE int32_t kws_srdhm(int32_t a, int32_t b)
{
    int64_t ab, t;
    if (a == KWS_INT32_MIN && b == KWS_INT32_MIN) return KWS_INT32_MAX;
    ab = (int64_t)a * (int64_t)b;                 /* |ab| <= 2**62 */
    if (ab >= 0) {
        t = ab + ((int64_t)1 << 30);
        return (int32_t)(t >> 31);
    }
    t = ab + (1 - ((int64_t)1 << 30));             /* negative */
    return (int32_t)(-((-t) >> 31));               /* truncating division of a negative value */
}

/** gemmlowp RoundingDivideByPOT (3.2): x / 2**exponent rounded half away from zero, 0 <= exponent <= 31.
 * floor(x / 2**e) + (1 if remainder > ((2**e - 1) >> 1) + (x < 0)). */
KWS_INLINE int32_t kws_rdbpot(int32_t x, int exponent)
{
    /* in 32 bits (a 64-bit shift by a variable amount is a dozen instructions on a 32-bit core): the floor
     * quotient without shifting a negative value, the remainder from the two's complement bits */
    const uint32_t mask = (1u << exponent) - 1u;                   /* exponent <= 31 */
    const int32_t q = x >= 0 ? x >> exponent : -((-(x + 1)) >> exponent) - 1;
    const uint32_t r = (uint32_t)x & mask;                         /* 0 <= r < 2**e, the Python x & mask */
    const uint32_t threshold = (mask >> 1) + (x < 0 ? 1u : 0u);
    return q + (r > threshold ? 1 : 0);                            /* r > 0 only if e > 0: no overflow */
}

/** requantize(x, M, -right, KWS_ROUND_DOUBLE) for right in [0, 31] (shift <= 0, the usual case) and M in
 * [0, 2**31): SRDHM (its INT32_MIN x INT32_MIN case cannot occur: M >= 0) then RDBPOT, written so that the
 * product is one SMULL on a 32-bit core and the rest 32-bit arithmetic. */
KWS_INLINE int32_t kws_requantize_down(int32_t x, int32_t multiplier, int right)
{
    const int64_t ab = (int64_t)x * (int64_t)multiplier;           /* |ab| < 2**62 */
    const int32_t h = ab >= 0 ? (int32_t)((ab + ((int64_t)1 << 30)) >> 31)
                              : -(int32_t)((((int64_t)1 << 30) - 1 - ab) >> 31); /* trunc((ab + 1 - 2**30) / 2**31) */
    return kws_rdbpot(h, right);
}

/** requantize(x, M, shift, mode) (3.2): x int32, multiplier M in [0, 2**31), shift in [-31, 30].
 * KWS_ROUND_DOUBLE: RDBPOT(SRDHM(saturate_int32(x * 2**max(shift, 0)), M), max(-shift, 0)).
 * KWS_ROUND_SINGLE: saturate_int32(floor((x*M + 2**(30 - shift)) / 2**(31 - shift))), x*M in int64. */
KWS_INLINE int32_t kws_requantize(int32_t x, int32_t multiplier, int32_t shift, int mode)
{
    if (mode == KWS_ROUND_SINGLE) {
        int total = 31 - (int)shift;                                /* 1 .. 62 */
        int64_t p = (int64_t)x * (int64_t)multiplier;               /* |p| < 2**62 */
        p += (int64_t)1 << (total - 1);                             /* < 2**62 + 2**61 */
        return kws_sat_i32(kws_floor_shift(p, total));
    } else {
        const int left = shift > 0 ? (int)shift : 0;
        const int right = shift < 0 ? (int)-shift : 0;
        int32_t xl = x;
        if (left == 0) return kws_requantize_down(x, multiplier, right);                                /* saturate_int32(x * 2**left), in 32 bits */
        if (left > 0) {
            const int32_t hi = KWS_INT32_MAX >> left, lo = -(int32_t)(0x80000000u >> left); /* left <= 30 */
            xl = x > hi ? KWS_INT32_MAX : x < lo ? KWS_INT32_MIN : x * (int32_t)(1u << left);
        }
        return kws_rdbpot(kws_srdhm(xl, multiplier), right);
    }
}

/** requantize64(x, M, shift) (docs/numerics.md 9.2): TFLM's 64-bit MultiplyByQuantizedMultiplier for int16
 * activations, the same in both rounding modes. reduced = (M + 2**15) >> 16 if M < 0x7FFF0000 else 0x7FFF;
 * total = 15 - shift; saturate_int32(floor((x * reduced + 2**(total - 1)) / 2**total)).
 * -2**47 <= x < 2**47, M in [0, 2**31), shift in [-31, 7] (checked at load): |x * reduced| < 2**62. */
KWS_INLINE int32_t kws_requantize_s64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int64_t reduced = multiplier < 0x7FFF0000 ? ((int64_t)multiplier + 32768) / 65536 : 0x7FFF; /* M >= 0 */
    const int total = 15 - (int)shift;                              /* 8 .. 46 */
    const int64_t p = x * reduced + ((int64_t)1 << (total - 1));    /* |p| < 2**62 + 2**45 */
    return kws_sat_i32(kws_floor_shift(p, total));
}

/* ---------------------------------------------------------------------------------------------------------
 * Division without a 64-bit division helper. Cortex-M has a 32-bit UDIV (M3/M4/M7/M33/M55) but no 64-bit one:
 * a C `int64_t / int64_t` calls libgcc's __aeabi_ldivmod (about 0.9 KB, and slow). Every kwsnum divisor fits
 * 32 bits, so an unsigned 64 / 32 division built from two 32 / 32 divisions (Hacker's Delight, divlu) is exact
 * and all the kernels need. */

/** Number of leading zero bits of a non-zero uint32. */
KWS_INLINE int kws_nlz32(uint32_t x)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_clz(x);
#else
    int n = 0;
    if (x <= 0x0000FFFFu) { n += 16; x <<= 16; }
    if (x <= 0x00FFFFFFu) { n += 8; x <<= 8; }
    if (x <= 0x0FFFFFFFu) { n += 4; x <<= 4; }
    if (x <= 0x3FFFFFFFu) { n += 2; x <<= 2; }
    if (x <= 0x7FFFFFFFu) { n += 1; }
    return n;
#endif
}

/** (u1 * 2**32 + u0) / v for u1 < v (so the quotient fits 32 bits), remainder in *r: Knuth's algorithm D with
 * 16-bit digits (Hacker's Delight 9-3), only 32-bit unsigned arithmetic (mod 2**32 where it wraps by design). */
KWS_INLINE uint32_t kws_divlu(uint32_t u1, uint32_t u0, uint32_t v, uint32_t *r)
{
    const uint32_t b = 65536u;
    uint32_t vn1, vn0, un32, un10, un1, un0, un21, q1, q0, rhat;
    const int s = kws_nlz32(v);                  /* 0 .. 31: normalize v */
    v <<= s;
    vn1 = v >> 16;
    vn0 = v & 0xFFFFu;
    un32 = s == 0 ? u1 : (u1 << s) | (u0 >> (32 - s));
    un10 = u0 << s;
    un1 = un10 >> 16;
    un0 = un10 & 0xFFFFu;
    q1 = un32 / vn1;
    rhat = un32 - q1 * vn1;                      /* < vn1 < b */
    while (q1 >= b || q1 * vn0 > b * rhat + un1) { /* q1 < b on the right of ||: no overflow */
        q1--;
        rhat += vn1;
        if (rhat >= b) break;
    }
    un21 = un32 * b + un1 - q1 * v;              /* the true value is < v: exact mod 2**32 */
    q0 = un21 / vn1;
    rhat = un21 - q0 * vn1;
    while (q0 >= b || q0 * vn0 > b * rhat + un0) {
        q0--;
        rhat += vn1;
        if (rhat >= b) break;
    }
    *r = (un21 * b + un0 - q0 * v) >> s;
    return q1 * b + q0;
}

/** floor(n / d) for uint64 n and 1 <= d < 2**32, remainder in *rem; exact, no 64-bit division. */
KWS_INLINE uint64_t kws_udiv64_32(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint32_t nh = (uint32_t)(n >> 32), nl = (uint32_t)n, qh, ql;
    if (nh == 0u) {
        ql = nl / d;
        *rem = nl - ql * d;
        return ql;
    }
    qh = nh / d;
    nh -= qh * d;                                /* < d */
    ql = kws_divlu(nh, nl, d, rem);
    return ((uint64_t)qh << 32) | ql;
}

/** div_round_away(n, d), 1 <= d < 2**32 (3.3): (n + d/2) / d for n > 0 else -((-n + d/2) / d), truncating
 * division on non-negative values only (TFLM average pooling). Equals round_away(n / d). n > INT64_MIN;
 * |n| + d/2 is formed in uint64 (no overflow), the division by kws_udiv64_32. */
KWS_INLINE int64_t kws_div_round_away(int64_t num, int64_t den)
{
    const uint32_t d = (uint32_t)den;
    uint32_t rem;
    uint64_t u = num > 0 ? (uint64_t)num : (uint64_t)0 - (uint64_t)num;
    u = kws_udiv64_32(u + (d >> 1), d, &rem);
    return num > 0 ? (int64_t)u : -(int64_t)u;
}

/** kws_div_round_away for an int32 numerator and 1 <= d < 2**31: one 32-bit unsigned division. */
KWS_INLINE int32_t kws_div_round_away_i32(int32_t num, int32_t den)
{
    const uint32_t d = (uint32_t)den;
    const uint32_t u = (num > 0 ? (uint32_t)num : 0u - (uint32_t)num) + (d >> 1); /* < 2**31 + 2**30 */
    const uint32_t q = u / d;                                                       /* < 2**31 */
    return num > 0 ? (int32_t)q : -(int32_t)q;
}

/** shift_round_away(x, n), 0 <= n <= 62 (3.3): round_away(x / 2**n), int64. */
KWS_INLINE int64_t kws_shift_round_away(int64_t x, int n)
{
    int64_t half;
    if (n == 0) return x;
    half = (int64_t)1 << (n - 1);
    if (x >= 0) return (x + half) >> n;
    return -((-x + half) >> n);
}

/** isqrt(v) (3.3): floor(sqrt(v)), exact, bit by bit (the oracle's method); v < 2**62 in kwsnum. */
KWS_INLINE uint64_t kws_isqrt(uint64_t v)
{
    uint64_t res = 0;
    uint64_t bit = (uint64_t)1 << 62;
    while (bit > v) bit >>= 2;
    while (bit != 0) {
        if (v >= res + bit) {
            v -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    return res;
}

/** C roundf (3.3, "quantize"): v rounded to an integer, ties away from zero; NaN and +-inf pass through.
 * Computed without libm and without any rounding step of its own, so there is no double rounding
 * (the float32 formula floor(|v| + 0.5f) is wrong for 0.49999997f, where |v| + 0.5f rounds up to 1.0f):
 * for |v| < 2**23, t = (float)(int32)|v| is the truncation (exact), f = |v| - t is exact (both share the
 * ulp of |v| or finer, and the difference is a multiple of that ulp below 1), and t + 1 < 2**24 is exact;
 * the tie test f >= 0.5f is a plain comparison. |v| >= 2**23 (or inf) is already an integer. The sign is
 * restored by negation, so -0.3f gives -0.0f, as roundf does. */
KWS_INLINE float kws_round_half_away_f32(float v)
{
    float a, t, f;
    if (v != v || v == 0.0f) return v;         /* NaN, +-0 */
    a = v < 0.0f ? -v : v;
    if (!(a < 8388608.0f)) return v;           /* >= 2**23 or inf: already an integer */
    t = (float)(int32_t)a;
    f = a - t;
    if (f >= 0.5f) t = t + 1.0f;
    return v < 0.0f ? -t : t;
}

/* ---------------------------------------------------------------------------------------------------------
 * Q-format fixed point: rounding and overflow modes (docs/numerics.md, "Q-format fixed point: rounding and
 * overflow modes"); CMSIS-NN q7/q15, NNoM, hls4ml ap_fixed style. Bit-identical to kwsnum/fixedpoint.py
 * (shift_round, overflow, qcast). A separate enumeration from KWS_ROUND_DOUBLE / KWS_ROUND_SINGLE.
 * The default pair is KWS_ROUND_RND + KWS_OVERFLOW_SAT (KWS_QROUND_DEFAULT, KWS_OVERFLOW_DEFAULT).
 */
#define KWS_ROUND_TRN 0         /* floor (toward -inf)                      */
#define KWS_ROUND_TRN_ZERO 1    /* toward zero                              */
#define KWS_ROUND_RND 2         /* nearest, ties toward +inf (half up)      */
#define KWS_ROUND_RND_ZERO 3    /* nearest, ties toward zero                */
#define KWS_ROUND_RND_INF 4     /* nearest, ties away from zero             */
#define KWS_ROUND_RND_MIN_INF 5 /* nearest, ties toward -inf                */
#define KWS_ROUND_RND_CONV 6    /* nearest, ties to even                    */
#define KWS_OVERFLOW_WRAP 0     /* keep the low `bits` bits (two's complement) */
#define KWS_OVERFLOW_SAT 1      /* clamp to [-2**(b-1), 2**(b-1) - 1]          */
#define KWS_OVERFLOW_SAT_SYM 2  /* clamp to [-(2**(b-1) - 1), 2**(b-1) - 1]    */
#define KWS_OVERFLOW_SAT_ZERO 3 /* out of [-2**(b-1), 2**(b-1) - 1] -> 0       */
#define KWS_QROUND_DEFAULT KWS_ROUND_RND
#define KWS_OVERFLOW_DEFAULT KWS_OVERFLOW_SAT

#define KWS_INT64_MAX ((int64_t)0x7FFFFFFFFFFFFFFF)
#define KWS_INT64_MIN (-KWS_INT64_MAX - 1)

/** shift_round(x, shift, mode): x * 2**-shift for int64 x. shift in [0, 62]: floor q = floor(x / 2**shift)
 * and remainder r = x - q * 2**shift in [0, 2**shift) (r from the uint64 bit pattern, q by kws_floor_shift),
 * then q + 1 when the mode says so (see the spec); shift in [-62, -1]: exact x * 2**-shift saturated to the
 * int64 range. An unknown mode rounds as KWS_ROUND_TRN (loaders validate modes). */
KWS_INLINE int64_t kws_shift_round(int64_t x, int shift, int mode)
{
    int64_t q;
    uint64_t r, half;
    int up;
    if (shift <= 0) {
        int64_t limit;
        if (shift == 0) return x;
        limit = KWS_INT64_MAX >> (-shift);                    /* 2**(63-k) - 1 */
        if (x > limit) return KWS_INT64_MAX;
        if (x < -limit - 1) return KWS_INT64_MIN;
        return x * ((int64_t)1 << (-shift));                   /* fits: no overflow */
    }
    q = kws_floor_shift(x, shift);
    r = (uint64_t)x & (((uint64_t)1 << shift) - 1u);           /* floor remainder (two's complement bits) */
    half = (uint64_t)1 << (shift - 1);
    switch (mode) {
    case KWS_ROUND_TRN_ZERO:    up = r != 0u && x < 0; break;
    case KWS_ROUND_RND:         up = r >= half; break;
    case KWS_ROUND_RND_ZERO:    up = r > half || (r == half && x < 0); break;
    case KWS_ROUND_RND_INF:     up = r > half || (r == half && x >= 0); break;
    case KWS_ROUND_RND_MIN_INF: up = r > half; break;
    case KWS_ROUND_RND_CONV:    up = r > half || (r == half && ((uint64_t)q & 1u) != 0u); break;
    default:                    up = 0; break;                 /* KWS_ROUND_TRN */
    }
    return up ? q + 1 : q;                                     /* q < 2**62 */
}

/** overflow(x, bits, mode): int64 x to a `bits`-bit two's complement integer, bits in [2, 63]. WRAP keeps
 * the low `bits` bits (uint64 arithmetic); SAT / SAT_SYM clamp; SAT_ZERO gives 0 out of range. An unknown
 * mode saturates as KWS_OVERFLOW_SAT. */
KWS_INLINE int64_t kws_overflow(int64_t x, int bits, int mode)
{
    uint64_t uhalf = (uint64_t)1 << (bits - 1);
    int64_t hi = (int64_t)(uhalf - 1u);
    int64_t lo = -hi - 1;
    if (mode == KWS_OVERFLOW_WRAP) {
        uint64_t u = (uint64_t)x & ((uhalf - 1u) | uhalf);     /* x mod 2**bits */
        if (u < uhalf) return (int64_t)u;
        return (int64_t)(u - uhalf) - (int64_t)uhalf;           /* u - 2**bits; uhalf <= 2**62 */
    }
    if (mode == KWS_OVERFLOW_SAT_SYM) lo = -hi;
    if (x > hi) return mode == KWS_OVERFLOW_SAT_ZERO ? 0 : hi;
    if (x < lo) return mode == KWS_OVERFLOW_SAT_ZERO ? 0 : lo;
    return x;
}

/** qcast(x, shift, rmode, bits, omode) = overflow(x * 2**-shift rounded by rmode, bits, omode), exact:
 * kws_overflow(kws_shift_round(...)) except that a left shift with WRAP keeps the low bits of the exact
 * product (uint64 multiplication) instead of saturating it to int64 first. */
KWS_INLINE int64_t kws_qcast(int64_t x, int shift, int rmode, int bits, int omode)
{
    if (shift < 0 && omode == KWS_OVERFLOW_WRAP) {
        uint64_t v = (uint64_t)x << (-shift);                   /* mod 2**64; wrapped again to bits <= 63 */
        return kws_overflow((int64_t)(v & 0x7FFFFFFFFFFFFFFFu), bits, omode);
    }
    return kws_overflow(kws_shift_round(x, shift, rmode), bits, omode);
}

/* ---------------------------------------------------------------------------------------------------------
 * Q-format ops' primitives (docs/numerics.md 10.2, 10.3 "quantize"): bit-identical to kwsnum/fixedpoint.py
 * (_round_up, div_round, round_float, quantize_q).
 */

/** The rounding decision of section 8's table, shared by kws_div_round and kws_round_float (the oracle's
 * _round_up): add one to the floor? tie: exactly half way; above: more than half way; neg: the value is
 * negative; odd: the floor is odd; inexact: the value is not an integer. An unknown mode is KWS_ROUND_TRN. */
KWS_INLINE int kws_round_up(int mode, int tie, int above, int neg, int odd, int inexact)
{
    switch (mode) {
    case KWS_ROUND_TRN_ZERO:    return inexact && neg;
    case KWS_ROUND_RND:         return above || tie;
    case KWS_ROUND_RND_ZERO:    return above || (tie && neg);
    case KWS_ROUND_RND_INF:     return above || (tie && !neg);
    case KWS_ROUND_RND_MIN_INF: return above;
    case KWS_ROUND_RND_CONV:    return above || (tie && odd);
    default:                    return 0;                        /* KWS_ROUND_TRN */
    }
}

/** div_round(x, d, mode) (docs/numerics.md 10.2): x / d rounded by `mode` (KWS_ROUND_*), x int64, d in
 * [1, 2**31). q = floor(x / d) from C's truncating / and % (q - 1, r + d when r < 0; no overflow: d >= 1),
 * r = x - q * d in [0, d); then q + 1 when kws_round_up says so, with the tie test 2r == d (2r < 2**32).
 * q + 1 never overflows: q == INT64_MAX only for d == 1, where r == 0 and nothing rounds up. The floor division
 * is kws_udiv64_32 on |x| (no 64-bit division helper). */
KWS_INLINE int64_t kws_div_round(int64_t x, int64_t d, int mode)
{
    /* floor division through kws_udiv64_32 on |x| (uint64: INT64_MIN included), d in [1, 2**31) */
    const uint32_t ud = (uint32_t)d;
    uint32_t ur;
    int64_t q, r;
    if (x >= 0) {
        q = (int64_t)kws_udiv64_32((uint64_t)x, ud, &ur);
        r = (int64_t)ur;
    } else {
        const uint64_t uq = kws_udiv64_32((uint64_t)0 - (uint64_t)x, ud, &ur); /* 1 .. 2**63 */
        q = -(int64_t)(uq - 1u) - 1;             /* -uq, without converting 2**63 */
        r = 0;
        if (ur != 0u) {
            q -= 1;
            r = (int64_t)(ud - ur);
        }
    }
    return kws_round_up(mode, 2 * r == d, 2 * r > d, x < 0, ((uint64_t)q & 1u) != 0u, r != 0) ? q + 1 : q;
}

/** round_float(t, mode) (docs/numerics.md 10.2): float32 t to an integer-valued float32 by `mode`, in float32
 * arithmetic. |t| >= 2**23 (or +-inf, NaN) is returned as is (an integer already; NaN is the caller's).
 * Else fl = floor(t) (the truncation (float)(int32_t)t, minus 1 when above t: exact), h = fl + 0.5f (exact),
 * and fl + 1 when kws_round_up says so with tie t == h, above t > h (never t - fl: for t = -2**-30,
 * t + 1 rounds to 1.0f). +-0 are returned as is (the oracle's floor keeps -0.0). No libm. */
KWS_INLINE float kws_round_float(float t, int mode)
{
    float a = t < 0.0f ? -t : t, fl, h;
    if (!(a < 8388608.0f) || t == 0.0f) return t;
    fl = (float)(int32_t)t;                                        /* trunc, |t| < 2**23: exact */
    if (fl > t) fl = fl - 1.0f;                                    /* floor */
    h = fl + 0.5f;
    return kws_round_up(mode, t == h, t > h, t < 0.0f, ((uint32_t)(int32_t)fl & 1u) != 0u, t != fl)
         ? fl + 1.0f : fl;
}

/** quantize_q(x, scale_pow2, rmode, bits, omode) (docs/numerics.md 10.3 "quantize"): t = x * scale_pow2 (one
 * float32 multiplication by the float32 2**n); NaN -> overflow(0); else kws_round_float(t, rmode), clamped to
 * [-2**62, 2**62] (+-inf included), converted to int64 (an integer in range: exact), kws_overflow to `bits`. */
KWS_INLINE int64_t kws_quantize_q(float x, float scale_pow2, int rmode, int bits, int omode)
{
    const float limit = 4611686018427387904.0f;                    /* 2**62 */
    float r;
    const float t = x * scale_pow2;
    if (t != t) return kws_overflow(0, bits, omode);
    r = kws_round_float(t, rmode);
    if (r > limit) r = limit;
    else if (r < -limit) r = -limit;
    if (bits <= 32) {
        /* No float -> int64 conversion (a libgcc helper on 32-bit targets): |r| < 2**31 converts to int32
         * exactly; beyond, every saturating mode maps r like +-2**40, and WRAP needs only the low 32 bits of
         * the integer r = m * 2**e (m the 24-bit significand, e >= 8), read from its bit pattern. */
        uint32_t u, m, low;
        int e;
        if (r >= -2147483648.0f && r < 2147483648.0f) return kws_overflow((int32_t)r, bits, omode);
        if (omode != KWS_OVERFLOW_WRAP) return kws_overflow(r > 0.0f ? (int64_t)1 << 40 : -((int64_t)1 << 40),
                                                            bits, omode);
        u = kws_f32_bits(r);
        m = (u & 0x7FFFFFu) | 0x800000u;
        e = (int)((u >> 23) & 0xFFu) - 150;                        /* r = m * 2**e, 8 <= e <= 39 */
        low = e < 32 ? m << e : 0u;
        if (r < 0.0f) low = 0u - low;
        return kws_overflow((int64_t)(int32_t)(low & 0x7FFFFFFFu) - (int64_t)(low & 0x80000000u), bits, omode);
    }
    return kws_overflow((int64_t)r, bits, omode);
}

/* ---- gemmlowp fixed point (docs/numerics.md 11.4): exp and 1 / (1 + x) as TFLM's int8 SOFTMAX uses them.
 * A raw int32 r with I integer bits means r * 2**(I - 31). */

/** gemmlowp SaturatingRoundingMultiplyByPOT<e>, 0 < e < 31: x * 2**e saturated to int32. */
KWS_INLINE int32_t kws_sat_mul_pot(int32_t x, int e)
{
    return kws_sat_i32((int64_t)x * ((int64_t)1 << e));
}

/** Leading zero bits of x as a uint32 (32 for 0). */
KWS_INLINE int kws_clz32(uint32_t x)
{
    int n = 0;
    while (n < 32 && x < ((uint32_t)1 << (31 - n))) n++;
    return n;
}

/** exp_on_interval_between_negative_one_quarter_and_0_excl: Q0.31 a in [-1/4, 0) -> Q0.31 exp(a). */
KWS_INLINE int32_t kws_exp_quarter(int32_t a)
{
    const int32_t c = 1895147668;                                  /* exp(-1/8) */
    const int32_t x = a + (1 << 28);                               /* a + 1/8, in [-1/8, 1/8) */
    const int32_t x2 = kws_srdhm(x, x), x3 = kws_srdhm(x2, x), x4 = kws_srdhm(x2, x2);
    const int32_t t = kws_rdbpot(kws_srdhm(kws_rdbpot(x4, 2) + x3, 715827883) + x2, 1);
    return c + kws_srdhm(c, x + t);
}

/** gemmlowp exp_on_negative_values: raw a <= 0 with int_bits (0..30) integer bits -> Q0.31 exp(a). */
KWS_INLINE int32_t kws_exp_on_negative_values(int32_t a, int int_bits)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int frac = 31 - int_bits;
    const int32_t quarter = (int32_t)1 << (frac - 2);
    const int32_t a_mod = (int32_t)((uint32_t)a & (uint32_t)(quarter - 1)) - quarter;   /* in [-1/4, 0) */
    const uint32_t rem = (uint32_t)((int64_t)a_mod - (int64_t)a);  /* 0 <= a_mod - a <= 2**31 - 2**(frac-2) */
    int32_t result = kws_exp_quarter(int_bits ? kws_sat_mul_pot(a_mod, int_bits) : a_mod);
    int k;
    for (k = -2; k <= 4; k++)
        if (int_bits > k && (rem & ((uint32_t)1 << (frac + k))) != 0u)
            result = kws_srdhm(result, barrel[k + 2]);
    if (int_bits > 5 && (int64_t)a < -((int64_t)1 << (36 - int_bits))) result = 0;
    if (a == 0) result = KWS_INT32_MAX;
    return result;
}

/** gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 a in [0, 1) -> Q0.31 1 / (1 + a) (Newton-Raphson, Q2.29). */
KWS_INLINE int32_t kws_one_over_one_plus_x(int32_t a)
{
    const int64_t s = (int64_t)a + KWS_INT32_MAX;                  /* RoundingHalfSum(a, One): s >= 0 here */
    const int32_t d = (int32_t)((s + 1) / 2);
    int32_t x = 1515870810 + kws_srdhm(d, -1010580540);           /* 48/17 - 32/17 d */
    int i;
    for (i = 0; i < 3; i++)
        x = x + kws_sat_mul_pot(kws_srdhm(x, (1 << 29) - kws_srdhm(d, x)), 2);
    return kws_sat_mul_pot(x, 1);
}

/** gemmlowp logistic: raw a with int_bits integer bits -> Q0.31 1 / (1 + exp(-a)) (1/2 at 0). |a| < 2**31 - 1. */
KWS_INLINE int32_t kws_logistic_q(int32_t a, int int_bits)
{
    int32_t r;
    if (a == 0) return (int32_t)1 << 30;
    r = kws_one_over_one_plus_x(kws_exp_on_negative_values(a > 0 ? -a : a, int_bits));
    return a > 0 ? r : KWS_INT32_MAX - r;
}

/** gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: Q0.31 a in [0, 1) -> Q0.31 (1 - a) / (1 + a). */
KWS_INLINE int32_t kws_one_minus_x_over_one_plus_x(int32_t a)
{
    const int64_t s = (int64_t)a + KWS_INT32_MAX;
    const int32_t d = (int32_t)((s + 1) / 2);
    int32_t x = 1515870810 + kws_srdhm(d, -1010580540);
    int i;
    for (i = 0; i < 3; i++)
        x = x + kws_sat_mul_pot(kws_srdhm(x, (1 << 29) - kws_srdhm(d, x)), 2);
    return kws_sat_mul_pot(x - (1 << 29), 2);
}

/** gemmlowp tanh: raw a with int_bits integer bits -> Q0.31 tanh(a) (0 at 0). |a| < 2**31 - 1. */
KWS_INLINE int32_t kws_tanh_q(int32_t a, int int_bits)
{
    int32_t t;
    if (a == 0) return 0;
    t = kws_one_minus_x_over_one_plus_x(kws_exp_on_negative_values(a > 0 ? -a : a, int_bits + 1));
    return a > 0 ? t : -t;
}

/** The two's complement int16 of v (C++'s static_cast<int16_t>), without an out-of-range conversion. */
KWS_INLINE int32_t kws_wrap16(int32_t v)
{
    return (int32_t)((uint32_t)v & 0xFFFFu) - (((uint32_t)v & 0x8000u) ? 65536 : 0);
}

/** TFLM LUTLookup(int16_t, const int16_t *): lut has 513 entries; index 256 + floor(value / 128), the 7 low bits
 * interpolate; the slope and the sum wrap to int16 as TFLM's casts do. */
KWS_INLINE int32_t kws_lut_lookup16(int32_t value, const int16_t *lut)
{
    const int32_t index = 256 + (int32_t)kws_floor_shift(value, 7);
    const int32_t offset = value & 0x7F;
    const int32_t base = lut[index];
    const int32_t slope = kws_wrap16((int32_t)lut[index + 1] - base);
    return kws_wrap16(base + (int32_t)kws_floor_shift((int64_t)slope * offset + 64, 7));
}

#endif /* KWS_FIXEDPOINT_H */
