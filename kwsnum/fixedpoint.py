"""The fixed-point primitives of docs/numerics.md, once, for every numba kernel.

Every function here is exact integer arithmetic on int64 values; numba compiles
them into the kernels that call them. Kernels never re-derive rounding inline.

Rounding modes of requantization (stored in the model as ``rounding``):
  ROUND_DOUBLE = 0  gemmlowp SaturatingRoundingDoublingHighMul + RoundingDivideByPOT (TFLM default)
  ROUND_SINGLE = 1  one rounding step, as TFLITE_SINGLE_ROUNDING / CMSIS-NN
"""
import numpy as np
from numba import njit

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
    """
    if a == -2147483648 and b == -2147483648:
        return np.int64(2147483647)
    ab = np.int64(a) * np.int64(b)
    if ab >= 0:
        t = ab + np.int64(1073741824)
        return t >> np.int64(31)
    t = ab + np.int64(1 - 1073741824)
    # truncating division of a negative value: -((-t) >> 31)
    return -((-t) >> np.int64(31))


@njit(cache=True)
def rdbpot(x, exponent):
    """gemmlowp RoundingDivideByPOT: x / 2**exponent rounded half away from zero, 0 <= exponent <= 31."""
    mask = (np.int64(1) << np.int64(exponent)) - np.int64(1)
    remainder = x & mask
    threshold = (mask >> np.int64(1)) + (np.int64(1) if x < 0 else np.int64(0))
    return (x >> np.int64(exponent)) + (np.int64(1) if remainder > threshold else np.int64(0))


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
