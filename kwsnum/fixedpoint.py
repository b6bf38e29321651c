"""The fixed-point primitives of docs/numerics.md, once, for every numba kernel.

Every function here is exact integer arithmetic on int64 values (and, at the end, the same requantization in
float64, exact within its bound: docs/numerics.md 3.6); numba compiles them into the kernels that call them.
Kernels never re-derive rounding inline.

Rounding modes of requantization (stored in the model as ``rounding``):
  ROUND_DOUBLE = 0  gemmlowp SaturatingRoundingDoublingHighMul + RoundingDivideByPOT (TFLM default)
  ROUND_SINGLE = 1  one rounding step, as TFLITE_SINGLE_ROUNDING / CMSIS-NN
"""
import numpy as np
from ._numba import njit

ROUND_DOUBLE = 0
ROUND_SINGLE = 1
ROUNDING_MODES = {"double": ROUND_DOUBLE, "single": ROUND_SINGLE}

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


@njit(cache=True)
def sat_i32(x):
    """Saturate an int64 to the int32 range."""
    if x > 2147483647:
        return np.int64(2147483647)
    if x < -2147483648:
        return np.int64(-2147483648)
    return np.int64(x)


@njit(cache=True)
def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


@njit(cache=True)
def srdhm(a, b):
    """gemmlowp SaturatingRoundingDoublingHighMul of two int32 values (given as int64).

    (a*b + nudge) / 2**31, division truncating toward zero, nudge = 2**30 if a*b >= 0
    else 1 - 2**30. Saturates only for a == b == INT32_MIN.

    Written without data-dependent branches (masks and shifts; the kernels' epilogues run it per output):
    nudge = 2**30 - (2**31 - 1 if a*b < 0 else 0), trunc(t / 2**31) = (t + (2**31 - 1 if t < 0 else 0)) >> 31.
    """
    if a == -2147483648 and b == -2147483648:
        return np.int64(2147483647)
    ab = np.int64(a) * np.int64(b)
    t = ab + (np.int64(1073741824) - ((ab >> np.int64(63)) & np.int64(2147483647)))   # + nudge
    return (t + ((t >> np.int64(63)) & np.int64(2147483647))) >> np.int64(31)


@njit(cache=True)
def rdbpot(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2**exponent rounded half away from zero, 0 <= exponent <= 31."""
    mask = (np.int64(1) << np.int64(exponent)) - np.int64(1)
    remainder = x & mask
    threshold = (mask >> np.int64(1)) + ((np.int64(x) >> np.int64(63)) & np.int64(1))   # + 1 if x < 0
    return (x >> np.int64(exponent)) + np.int64(remainder > threshold)


@njit(cache=True)
def mbqm_double(x, multiplier, shift):
    """TFLM MultiplyByQuantizedMultiplier, double rounding. x int32, multiplier in [0, 2**31), shift in [-31, 30].

    The left shift saturates to int32 (where TFLM would overflow; identical wherever TFLM is defined).
    """
    left = shift if shift > 0 else 0
    right = -shift if shift < 0 else 0
    xl = sat_i32(np.int64(x) << np.int64(left))
    return rdbpot(srdhm(xl, multiplier), right)


@njit(cache=True)
def mbqm_single(x, multiplier, shift):
    """TFLITE_SINGLE_ROUNDING MultiplyByQuantizedMultiplier: floor((x*M + 2**(30-shift)) / 2**(31-shift)), saturated."""
    total = np.int64(31 - shift)
    rnd = np.int64(1) << (total - np.int64(1))
    r = (np.int64(x) * np.int64(multiplier) + rnd) >> total
    return sat_i32(r)


@njit(cache=True)
def requantize(x, multiplier, shift, mode):
    """Scale an int32 accumulator by the quantized multiplier (multiplier, shift) in rounding ``mode``."""
    if mode == 1:
        return mbqm_single(x, multiplier, shift)
    return mbqm_double(x, multiplier, shift)


INT16_MIN = -(1 << 15)
INT16_MAX = (1 << 15) - 1
MBQM64_X_LIMIT = 1 << 47     # requantize64 input range: -2**47 <= x < 2**47 (TFLM's assumption)
MBQM64_SHIFT_MAX = 7         # requantize64 shift range: [-31, 7]


def reduced_multiplier(m):
    """requantize64's multiplier reduced to 15 bits (docs/numerics.md 9.2): (M + 2**15) >> 16, and 0x7FFF from
    M >= 0x7FFF0000 (M >= 0). Plain Python for plan-time constants (Python ints), jitted as
    ``reduced_multiplier_nb`` for :func:`mbqm_int64`."""
    return (m + 32768) >> 16 if m < 0x7FFF0000 else 0x7FFF


reduced_multiplier_nb = njit(cache=True)(reduced_multiplier)


@njit(cache=True)
def mbqm_int64(x, multiplier, shift):
    """TFLM's 64-bit MultiplyByQuantizedMultiplier (int16 activations, docs/numerics.md 9.2), the same in both
    rounding modes: the multiplier reduced to 15 bits, reduced = (M + 2**15) >> 16 (0x7FFF from M >= 0x7FFF0000),
    then one rounding, floor((x * reduced + 2**(total - 1)) / 2**total) with total = 15 - shift, saturated to int32.
    -2**47 <= x < 2**47, M in [0, 2**31), shift in [-31, 7]: |x * reduced| < 2**62, no int64 overflow."""
    reduced = reduced_multiplier_nb(np.int64(multiplier))
    total = np.int64(15) - np.int64(shift)
    rnd = np.int64(1) << (total - np.int64(1))
    return sat_i32((np.int64(x) * reduced + rnd) >> total)


@njit(cache=True)
def div_round_away(num, den):
    """num / den (den > 0) rounded half away from zero, as TFLM average pooling:
    (num + den/2) / den for num > 0, else (num - den/2) / den, with truncating division."""
    half = den // np.int64(2)
    if num > 0:
        return (num + half) // den
    t = -num + half
    return -(t // den)


@njit(cache=True)
def shift_round_away(x, n):
    """x / 2**n rounded half away from zero, for int64 x and 0 <= n <= 62."""
    if n == 0:
        return np.int64(x)
    half = np.int64(1) << np.int64(n - 1)
    if x >= 0:
        return (x + half) >> np.int64(n)
    return -((-x + half) >> np.int64(n))


@njit(cache=True)
def isqrt(v):
    """floor(sqrt(v)) for 0 <= v < 2**62, exact, bit by bit."""
    res = np.int64(0)
    bit = np.int64(1) << np.int64(60)
    while bit > v:
        bit >>= np.int64(2)
    while bit != 0:
        if v >= res + bit:
            v -= res + bit
            res = (res >> np.int64(1)) + bit
        else:
            res >>= np.int64(1)
        bit >>= np.int64(2)
    return res


@njit(cache=True)
def round_half_away_f32(v):
    """C ``roundf``: a float32 ``v`` rounded to an integer, ties away from zero; returned as a float64.

    Computed as sign(v) * floor(|v| + 0.5) in float64, which is exact for every float32 ``v``:
    for |v| >= 0.5 the sum |v| + 0.5 needs at most 25 significant bits (or, from 2**52 on, the float32
    value is an even integer and 0.5 is at most a tie that rounds back to it), and for |v| < 0.5 the sum
    stays below 1 (the largest float32 below 0.5 is 0.5 - 2**-25). In float32 the same formula is wrong
    (0.49999997f + 0.5f rounds to 1.0f). NaN and +-inf pass through. Not exact for arbitrary float64 input.
    """
    a = np.floor(np.abs(np.float64(v)) + np.float64(0.5))
    if v < 0:
        return -a
    return a


# ---------------------------------------------------------------------------------------------------------
# Q-format fixed point: rounding and overflow modes (docs/numerics.md, "Q-format fixed point: rounding and
# overflow modes"). CMSIS-NN q7/q15, NNoM and hls4ml ap_fixed<W, I, Q, O> style. A separate enumeration from
# the requantization modes ROUND_DOUBLE / ROUND_SINGLE above (never pass those here: 0 / 1 mean TRN / TRN_ZERO).
#
# shift_round(x, shift, mode): x * 2**-shift, x int64; shift in [0, 62] rounds per mode, shift in [-62, -1]
#                              is an exact left shift saturated to the int64 range.
# overflow(x, bits, mode):     x int64 to a `bits`-bit two's complement integer, bits in [2, 63].
# qcast(x, shift, rmode, bits, omode): overflow(exact-rounded x * 2**-shift, bits, omode); equals
#                              overflow(shift_round(x, shift, rmode), bits, omode) except that a left shift
#                              beyond int64 wraps (omode WRAP) instead of saturating.
ROUND_TRN = 0          # floor: toward -infinity (arithmetic shift)                  ap_fixed AP_TRN
ROUND_TRN_ZERO = 1     # toward zero (truncation)                                     AP_TRN_ZERO
ROUND_RND = 2          # nearest, ties toward +infinity (half up; CMSIS-NN, NNoM)       AP_RND
ROUND_RND_ZERO = 3     # nearest, ties toward zero                                    AP_RND_ZERO
ROUND_RND_INF = 4      # nearest, ties away from zero                                 AP_RND_INF
ROUND_RND_MIN_INF = 5  # nearest, ties toward -infinity                               AP_RND_MIN_INF
ROUND_RND_CONV = 6     # nearest, ties to even (convergent)                           AP_RND_CONV
QROUNDING_MODES = {"TRN": ROUND_TRN, "TRN_ZERO": ROUND_TRN_ZERO, "RND": ROUND_RND, "RND_ZERO": ROUND_RND_ZERO,
                   "RND_INF": ROUND_RND_INF, "RND_MIN_INF": ROUND_RND_MIN_INF, "RND_CONV": ROUND_RND_CONV}

OVERFLOW_WRAP = 0      # two's complement wrap-around (keep the low `bits` bits)       AP_WRAP
OVERFLOW_SAT = 1       # saturate to [-2**(bits-1), 2**(bits-1) - 1]                  AP_SAT
OVERFLOW_SAT_SYM = 2   # saturate to [-(2**(bits-1) - 1), 2**(bits-1) - 1]            AP_SAT_SYM
OVERFLOW_SAT_ZERO = 3  # out of [-2**(bits-1), 2**(bits-1) - 1] -> 0                  AP_SAT_ZERO
OVERFLOW_MODES = {"WRAP": OVERFLOW_WRAP, "SAT": OVERFLOW_SAT, "SAT_SYM": OVERFLOW_SAT_SYM,
                  "SAT_ZERO": OVERFLOW_SAT_ZERO}

QROUND_DEFAULT = ROUND_RND        # the default pair: RND + SAT (CMSIS-NN q7/q15, NNoM)
OVERFLOW_DEFAULT = OVERFLOW_SAT

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1


@njit(cache=True)
def shift_round(x, shift, mode):
    """x * 2**-shift for int64 x. shift in [0, 62]: rounded by ``mode`` (ROUND_*); shift in [-62, -1]: the
    exact product x * 2**-shift, saturated to [INT64_MIN, INT64_MAX] (no rounding). Never overflows."""
    x = np.int64(x)
    if shift <= 0:
        if shift == 0:
            return x
        k = np.int64(-shift)
        limit = np.int64(9223372036854775807) >> k          # 2**(63-k) - 1
        if x > limit:
            return np.int64(9223372036854775807)
        if x < -limit - np.int64(1):
            return np.int64(-9223372036854775807 - 1)
        return x * (np.int64(1) << k)
    n = np.int64(shift)
    q = x >> n                                               # floor(x / 2**n)
    r = x & ((np.int64(1) << n) - np.int64(1))               # x - q * 2**n, in [0, 2**n)
    half = np.int64(1) << (n - np.int64(1))
    if mode == 0:      # TRN
        up = False
    elif mode == 1:    # TRN_ZERO
        up = r != 0 and x < 0
    elif mode == 2:    # RND
        up = r >= half
    elif mode == 3:    # RND_ZERO
        up = r > half or (r == half and x < 0)
    elif mode == 4:    # RND_INF
        up = r > half or (r == half and x >= 0)
    elif mode == 5:    # RND_MIN_INF
        up = r > half
    elif mode == 6:    # RND_CONV
        up = r > half or (r == half and (q & np.int64(1)) == 1)
    else:
        raise ValueError("shift_round: unknown rounding mode")
    if up:
        return q + np.int64(1)                               # q < 2**62: no overflow
    return q


@njit(cache=True)
def overflow(x, bits, mode):
    """int64 x to a ``bits``-bit two's complement integer (bits in [2, 63]) by ``mode`` (OVERFLOW_*)."""
    x = np.int64(x)
    half = np.int64(1) << np.int64(bits - 1)                 # 2**(bits-1)
    hi = half - np.int64(1)
    lo = -half
    if mode == 0:      # WRAP: the low `bits` bits, as a signed value
        u = x & (half + hi)                                  # mask 2**bits - 1, in [0, 2**bits)
        if u < half:
            return u
        return (u - half) - half
    if mode == 1:      # SAT
        if x > hi:
            return hi
        if x < lo:
            return lo
        return x
    if mode == 2:      # SAT_SYM
        if x > hi:
            return hi
        if x < -hi:
            return -hi
        return x
    if mode == 3:      # SAT_ZERO
        if x > hi or x < lo:
            return np.int64(0)
        return x
    raise ValueError("overflow: unknown overflow mode")


@njit(cache=True)
def qcast(x, shift, rmode, bits, omode):
    """overflow(x * 2**-shift rounded by rmode, bits, omode), exactly, for int64 x and shift in [-62, 62]:
    as overflow(shift_round(...)), except that with WRAP a left shift keeps the low bits of the exact product
    (a 64-bit wrap, which the final wrap to ``bits`` <= 63 cannot tell from the exact value)."""
    if shift < 0 and omode == 0:
        k = np.int64(-shift)
        # the low 63 bits of x * 2**k (all a wrap to bits <= 63 reads): keep the bits of x that stay below
        # bit 63, then shift (no signed overflow)
        m = np.int64(x) & ((np.int64(1) << (np.int64(63) - k)) - np.int64(1))
        return overflow(m << k, bits, omode)
    return overflow(shift_round(x, shift, rmode), bits, omode)


@njit(cache=True)
def _round_up(mode, tie, above, neg, odd, inexact):
    """The rounding decision shared by div_round and round_float: add one to the floor? (section 8's table;
    ``tie``: exactly half way, ``above``: more than half way, ``neg``: the value is negative, ``odd``: the
    floor is odd, ``inexact``: the value is not an integer)."""
    if mode == 0:      # TRN
        return False
    if mode == 1:      # TRN_ZERO
        return inexact and neg
    if mode == 2:      # RND
        return above or tie
    if mode == 3:      # RND_ZERO
        return above or (tie and neg)
    if mode == 4:      # RND_INF
        return above or (tie and not neg)
    if mode == 5:      # RND_MIN_INF
        return above
    if mode == 6:      # RND_CONV
        return above or (tie and odd)
    raise ValueError("unknown rounding mode")


@njit(cache=True)
def div_round(x, d, mode):
    """x / d rounded by ``mode`` (ROUND_*), for int64 x and d in [1, 2**31) (docs/numerics.md 10.2)."""
    x = np.int64(x)
    d = np.int64(d)
    q = x // d                                              # floor
    r = x - q * d                                           # [0, d)
    return q + np.int64(1) if _round_up(mode, 2 * r == d, 2 * r > d, x < 0, (q & np.int64(1)) == 1, r != 0) else q


TWO23 = np.float32(8388608.0)


@njit(cache=True)
def round_float(t, mode):
    """float32 t to an integer-valued float32 by ``mode`` (docs/numerics.md 10.2); NaN is the caller's."""
    t = np.float32(t)
    if not abs(t) < TWO23:
        return t
    fl = np.float32(np.floor(t))
    h = np.float32(fl + np.float32(0.5))
    up = _round_up(mode, t == h, t > h, t < np.float32(0.0), np.int32(fl) % 2 != 0, t != fl)
    return np.float32(fl + np.float32(1.0)) if up else fl


Q_FRAC_MIN, Q_FRAC_MAX = -32, 62      # frac_bits of a Q tensor or weight channel (10.1)
Q_LIMIT = np.float32(2.0 ** 62)


@njit(cache=True)
def quantize_q(x, scale_pow2, rmode, bits, omode):
    """float32 x to a Q value (docs/numerics.md 10.3 quantize): t = x * 2**n (scale_pow2 = float32 2**n),
    NaN -> 0, round_float, clamp to +-2**62, overflow to ``bits``."""
    t = np.float32(np.float32(x) * scale_pow2)
    if t != t:
        return overflow(np.int64(0), bits, omode)
    r = round_float(t, rmode)
    if r > Q_LIMIT:
        r = Q_LIMIT
    elif r < -Q_LIMIT:
        r = -Q_LIMIT
    return overflow(np.int64(r), bits, omode)


# ------------------------------------------------------------------ gemmlowp fixed-point functions (numerics 11.4)
# TFLM's int8 SOFTMAX (and LOGISTIC / TANH) evaluate exp and 1 / (1 + x) in gemmlowp's fixed point: a raw int32
# value r with I integer bits means r * 2**(I - 31). Every value below is an int32 held in an int64.
EXP_BARREL = ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401),
              (4, 242))      # (exponent k, raw Q0.31 exp(-2**k)), gemmlowp's constants


@njit(cache=True)
def sat_mul_pot(x, e):
    """gemmlowp SaturatingRoundingMultiplyByPOT<e> of an int32, e > 0: x * 2**e, saturated where |x| exceeds
    2**(31 - e) - 1 (e <= 0 is rdbpot(x, -e))."""
    thr = (np.int64(1) << np.int64(31 - e)) - np.int64(1)
    if x > thr:
        return np.int64(INT32_MAX)
    if x < -thr:
        return np.int64(INT32_MIN)
    return x * (np.int64(1) << np.int64(e))


@njit(cache=True)
def clz32(x):
    """Leading zero bits of x as a uint32 (0 <= x < 2**32); 32 for 0."""
    n = 0
    v = np.int64(x)
    while n < 32 and v < (np.int64(1) << np.int64(31 - n)):
        n += 1
    return n


@njit(cache=True)
def exp_quarter(a):
    """gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl: Q0.31 a in [-1/4, 0) -> Q0.31 exp(a)
    (a Taylor polynomial around -1/8)."""
    c = np.int64(1895147668)                       # exp(-1/8)
    x = a + np.int64(1 << 28)                      # a + 1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbpot(x4, 2)
    t = rdbpot(srdhm(x4_over_4 + x3, np.int64(715827883)) + x2, 1)     # 715827883: 1/3
    return c + srdhm(c, x + t)


@njit(cache=True)
def exp_on_negative_values(a, int_bits):
    """gemmlowp exp_on_negative_values: a raw int32 a <= 0 with int_bits integer bits -> Q0.31 exp(a): exp of
    a mod 1/4 by exp_quarter, times exp(-2**k) for each set bit k of the rest (the barrel shifter); below -32
    (int_bits > 5) 0; exp(0) = INT32_MAX."""
    frac = 31 - int_bits
    quarter = np.int64(1) << np.int64(frac - 2)
    a_mod = (a & (quarter - np.int64(1))) - quarter
    r = a_mod if int_bits == 0 else sat_mul_pot(a_mod, int_bits)      # Rescale<0>
    result = exp_quarter(r)
    remainder = a_mod - a
    for i in range(7):
        k = EXP_BARREL[i][0]
        if int_bits > k:
            if remainder & (np.int64(1) << np.int64(frac + k)):
                result = srdhm(result, np.int64(EXP_BARREL[i][1]))
    if int_bits > 5:
        if a < -(np.int64(1) << np.int64(36 - int_bits)):
            result = np.int64(0)
    if a == 0:
        result = np.int64(INT32_MAX)
    return result


@njit(cache=True)
def one_over_one_plus_x(a):
    """gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 a in [0, 1) -> Q0.31 1 / (1 + a), three Newton-Raphson
    steps in Q2.29 from 48/17 - 32/17 * d, d = (1 + a) / 2 (RoundingHalfSum)."""
    s = a + np.int64(INT32_MAX)
    d = (s + 1) // 2 if s >= 0 else -((1 - s) // 2)      # RoundingHalfSum: trunc((s + sign(s)) / 2)
    x = np.int64(1515870810) + srdhm(d, np.int64(-1010580540))
    for _ in range(3):
        one_minus = np.int64(1 << 29) - srdhm(d, x)
        x = x + sat_mul_pot(srdhm(x, one_minus), 2)
    return sat_mul_pot(x, 1)


@njit(cache=True)
def reciprocal_q12(s):
    """TFLM GetReciprocal(s, 12): for an accumulator 0 < s < 2**31 in Q12.19, (Q0.31 scale, num_bits_over_unit)
    with 1 / s ~= scale * 2**-num_bits_over_unit."""
    hpo = clz32(s)
    nbou = 12 - hpo
    shifted_minus_one = (s << np.int64(hpo)) - (np.int64(1) << np.int64(31))
    return one_over_one_plus_x(shifted_minus_one), nbou


@njit(cache=True)
def logistic_q(a, int_bits):
    """gemmlowp logistic: raw int32 a with int_bits integer bits -> Q0.31 1 / (1 + exp(-a)): for |a| > 0,
    r = one_over_one_plus_x(exp_on_negative_values(-|a|)), and INT32_MAX - r for a < 0; 2**30 (1/2) at 0."""
    if a == 0:
        return np.int64(1 << 30)
    r = one_over_one_plus_x(exp_on_negative_values(-a if a > 0 else a, int_bits))
    return r if a > 0 else np.int64(INT32_MAX) - r


@njit(cache=True)
def one_minus_x_over_one_plus_x(a):
    """gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: Q0.31 a in [0, 1) -> Q0.31 (1 - a) / (1 + a): the
    Newton-Raphson of one_over_one_plus_x, then 2 x - 1 (Rescale<0>(x - One) in Q2.29)."""
    s = a + np.int64(INT32_MAX)
    d = (s + 1) // 2 if s >= 0 else -((1 - s) // 2)
    x = np.int64(1515870810) + srdhm(d, np.int64(-1010580540))
    for _ in range(3):
        one_minus = np.int64(1 << 29) - srdhm(d, x)
        x = x + sat_mul_pot(srdhm(x, one_minus), 2)
    return sat_mul_pot(x - np.int64(1 << 29), 2)


@njit(cache=True)
def tanh_q(a, int_bits):
    """gemmlowp tanh: raw int32 a with int_bits integer bits -> Q0.31 tanh(a): t = (1 - e) / (1 + e) with
    e = exp(-2|a|) (the raw -|a| read with int_bits + 1 integer bits); t for a > 0, -t for a < 0, 0 at 0."""
    if a == 0:
        return np.int64(0)
    t = one_minus_x_over_one_plus_x(exp_on_negative_values(-a if a > 0 else a, int_bits + 1))
    return t if a > 0 else -t


@njit(cache=True)
def lut_lookup16(value, lut):
    """TFLM LUTLookup: value an int16 (as int64), lut 513 int16 -> int16 (as int64). The index is
    256 + floor(value / 128), the 7 low bits interpolate; the slope and the sum wrap to int16 as TFLM's casts do."""
    index = np.int64(256) + (value >> np.int64(7))
    offset = value & np.int64(0x7F)
    base = np.int64(lut[index])
    slope = ((np.int64(lut[index + 1]) - base + np.int64(32768)) & np.int64(0xFFFF)) - np.int64(32768)
    delta = (slope * offset + np.int64(64)) >> np.int64(7)
    return ((base + delta + np.int64(32768)) & np.int64(0xFFFF)) - np.int64(32768)



# --------------------------------------------------------------------------------------------------------------
# Vector forms (docs/numerics.md 3.7): the same arithmetic on whole numpy arrays, for the kernels of small jobs,
# which run without numba. Arguments broadcast (an int64 array against scalar or per-channel constants); every
# operation is the int64 (float64) operation of the scalar form above, so the results are identical element by
# element (tests/test_fixedpoint.py compares every vector form with its scalar form).

def sat_i32_v(x):
    """:func:`sat_i32` of an int64 array."""
    return np.clip(x, np.int64(INT32_MIN), np.int64(INT32_MAX))


def srdhm_v(a, b):
    """:func:`srdhm` of int64 arrays holding int32 values (the same masks and shifts)."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    ab = a * b
    t = ab + (np.int64(1073741824) - ((ab >> np.int64(63)) & np.int64(2147483647)))
    r = (t + ((t >> np.int64(63)) & np.int64(2147483647))) >> np.int64(31)
    return np.where((a == INT32_MIN) & (b == INT32_MIN), np.int64(INT32_MAX), r)


def rdbpot_v(x, exponent):
    """:func:`rdbpot` of int64 arrays, 0 <= exponent <= 31."""
    x, e = np.asarray(x, np.int64), np.asarray(exponent, np.int64)
    mask = (np.int64(1) << e) - np.int64(1)
    threshold = (mask >> np.int64(1)) + ((x >> np.int64(63)) & np.int64(1))
    return (x >> e) + ((x & mask) > threshold).astype(np.int64)


def requantize_v(x, multiplier, shift, mode):
    """:func:`requantize` (:func:`mbqm_double` / :func:`mbqm_single`) of an int64 array of int32 values;
    multiplier and shift: scalars or arrays that broadcast against x; mode: a Python int."""
    x = np.asarray(x, np.int64)
    m, s = np.asarray(multiplier, np.int64), np.asarray(shift, np.int64)
    if mode == 1:
        total = np.int64(31) - s
        return sat_i32_v((x * m + (np.int64(1) << (total - np.int64(1)))) >> total)
    xl = sat_i32_v(x << np.maximum(s, np.int64(0)))
    return rdbpot_v(srdhm_v(xl, m), np.maximum(-s, np.int64(0)))


def round_half_away_f32_v(v):
    """:func:`round_half_away_f32` of a float32 array (float64 result): sign(v) * floor(|v| + 0.5) in float64."""
    a = np.floor(np.abs(v.astype(np.float64)) + np.float64(0.5))
    return np.where(v < 0, -a, a)


# --------------------------------------------------------------------------------------------------------------
# Requantization in float64 (docs/numerics.md 3.6): the int8 / int16 requantization of an integer accumulator,
# exact in float64 while every product it rounds stays below 2**53; the epilogue of the oracle's fast conv /
# linear paths (kwsnum/ops/gemm.py), which vectorizes where the int64 form's 64-bit products do not. The C runtime
# has no such form (it runs the integer one of 3.2 and 9.2).

F64_EXACT = 1 << 53     # float64 holds every integer of magnitude <= 2**53


def requantize_f64_consts(int16, mode, mult, shift):
    """(O, 4) float64 constants of :func:`requantize_f64_row` per output channel, exact (powers of two and integers
    below 2**31): int16 (reduced(M), 2**-k, 2**(k-1), 0) with k = 15 - shift; int8 single rounding
    (M, 2**-k, 2**(k-1), 0) with k = 31 - shift; int8 double rounding (M, 2**left, 2**-e, 2**(e-1)) with
    left = max(shift, 0), e = max(-shift, 0)."""
    rows = []
    for m, s in zip(mult.tolist(), shift.tolist()):
        if int16:
            k = 15 - s
            rows.append((reduced_multiplier(m), 2.0 ** -k, 2.0 ** (k - 1), 0.0))
        elif mode == 1:
            k = 31 - s
            rows.append((m, 2.0 ** -k, 2.0 ** (k - 1), 0.0))
        else:
            e = max(-s, 0)
            rows.append((m, 2.0 ** max(s, 0), 2.0 ** -e, 2.0 ** (e - 1)))
    return np.array(rows, dtype=np.float64).reshape(-1, 4)


@njit(cache=True, nogil=True, error_model="numpy")
def requantize_f64_row(a, b, c0, c1, c2, c3, zp, lo, hi, double, y):
    """y[p] = clamp(requantize(b + a[p]) + zp, lo, hi) (int8, ``double`` or single rounding) or clamp(mbqm_int64(b +
    a[p]), lo, hi) (int16) of one output channel, computed in float64: exact where every product t below stays under
    F64_EXACT = 2**53 in magnitude (docs/numerics.md 3.6; kwsnum.ops.gemm.f64_epilogue_ok checks it at plan time);
    c0..c3: the channel's :func:`requantize_f64_consts`.
    Every rounding of the requantization is floor((t + 2**(k-1)) / 2**k) of an integer t below 2**53 in magnitude,
    which is q + [t >= (2q + 1) * 2**(k-1)] with q = floor(t * 2**-k): a scaling by a power of two, a floor and a
    comparison, each exact. int8 double rounding (``double``): srdhm is that rounding of t = sat32(x * 2**left) * M
    with k = 31 (gemmlowp's nudge rounds half up), then rdbpot rounds |v| / 2**e half up and restores the sign;
    int8 single rounding t = x * M, k = 31 - shift; int16 t = x * reduced(M), k = 15 - shift (zp = 0). The other
    int32 saturations never bind inside the clamp [lo, hi]. Vectorizes (4 lanes of float64), where the integer
    epilogue's 64-bit products do not."""
    P = a.shape[0]
    if double:
        for p in range(P):
            xl = min(max((np.float64(a[p]) + b) * c1, -2147483648.0), 2147483647.0)
            t = xl * c0
            q = np.floor(t * 4.656612873077393e-10)                     # 2**-31
            v = q + np.float64(t >= (2.0 * q + 1.0) * 1073741824.0)     # srdhm
            u = np.floor((abs(v) + c3) * c2)                            # rdbpot: |v| / 2**e, half away from zero
            v = -u if v < 0 else u
            y[p] = min(max(v + zp, lo), hi)
    else:
        for p in range(P):
            t = (np.float64(a[p]) + b) * c0
            q = np.floor(t * c1)
            q += np.float64(t >= (2.0 * q + 1.0) * c2)
            y[p] = min(max(q + zp, lo), hi)


def requantize_f64_v(a, bias, c, zp, lo, hi, double, out, bufs):
    """:func:`requantize_f64_row` on whole arrays: out = the float64 requantization of bias + a (bias and the
    constants c0..c3 broadcast against a), every element through the same float64 operations in the same order
    (min / max as a clip), through the caller's buffers t, q, r (float64) and m (bool) of a's shape (no temporary is
    allocated)."""
    t, q, r, m = bufs
    c0, c1, c2, c3 = c
    np.add(a, bias, out=t)                                               # x = bias + acc
    if double:
        np.multiply(t, c1, out=t)
        np.clip(t, -2147483648.0, 2147483647.0, out=t)
        np.multiply(t, c0, out=t)                                        # t = sat32(x * 2**left) * M
        np.multiply(t, 4.656612873077393e-10, out=q)                     # 2**-31
        np.floor(q, out=q)
        np.multiply(q, 2.0, out=r)
        r += 1.0
        r *= 1073741824.0
        np.greater_equal(t, r, out=m)
        q += m                                                           # v: srdhm
        np.abs(q, out=r)
        r += c3
        r *= c2
        np.floor(r, out=r)                                               # u: rdbpot of |v|
        np.copysign(r, q, out=r)     # -u where v < 0 (v is never -0.0: x = bias + acc is +0.0 at 0, and so is t)
        v = r
    else:
        np.multiply(t, c0, out=t)
        np.multiply(t, c1, out=q)
        np.floor(q, out=q)
        np.multiply(q, 2.0, out=r)
        r += 1.0
        r *= c2
        np.greater_equal(t, r, out=m)
        q += m
        v = q
    v += zp
    np.clip(v, lo, hi, out=v)
    out[...] = v
