"""fp16 (IEEE-754 binary16) and bf16 (bfloat16) storage conversions, bit level, once, for every numba kernel.

docs/numerics.md, "Storage floats (fp16, bf16)". These are *storage* formats: values are widened to float32
to compute and narrowed back to 16 bits to store. Every function works on the float32 bit pattern with
integer arithmetic (no np.float16, no hardware conversion), and c_runtime/kws_float16.h is the same
arithmetic in C, so the two agree bit for bit:

  f16_to_f32(bits)  / bf16_to_f32(bits)   exact widening (every fp16 / bf16 value is a float32 value)
  f32_to_f16(x)     / f32_to_bf16(x)      round to nearest, ties to even; subnormals kept; overflow to +-inf
  NaN (all four):  stays NaN, sign kept, the payload's top bits kept, the quiet bit set (the result of any
                   conversion is a quiet NaN; a signalling NaN is quieted, as IEEE-754 conversions do).

Scalar functions take and return numbers (``bits``: any integer, its low 16 bits are used; ``x``: float32).
``*_bits`` functions map bit patterns to bit patterns (int64 in, int64 out) for kernels that store bits.
``*_array`` functions map arrays of any shape (uint16 bits <-> float32).
"""
import numpy as np
from ._numba import njit, intrinsic

F16_QUIET = 0x0200    # fp16 quiet bit (top mantissa bit)
BF16_QUIET = 0x0040   # bf16 quiet bit
F32_QUIET = 0x00400000


@intrinsic
def _f32_as_bits(typingctx, x):
    """The bit pattern of a float32 as an int64 in [0, 2**32) (a bitcast, no value conversion)."""
    from llvmlite import ir
    from numba import types
    if not isinstance(x, types.Float):
        return None
    sig = types.int64(x)

    def codegen(context, builder, signature, args):
        v = context.cast(builder, args[0], signature.args[0], types.float32)
        i = builder.bitcast(v, ir.IntType(32))
        return builder.zext(i, ir.IntType(64))
    return sig, codegen


@intrinsic
def _bits_as_f32(typingctx, u):
    """The float32 whose bit pattern is the low 32 bits of an integer (a bitcast, no value conversion)."""
    from llvmlite import ir
    from numba import types
    if not isinstance(u, types.Integer):
        return None
    sig = types.float32(u)

    def codegen(context, builder, signature, args):
        v = context.cast(builder, args[0], signature.args[0], types.int64)
        i = builder.trunc(v, ir.IntType(32))
        return builder.bitcast(i, ir.FloatType())
    return sig, codegen


# ------------------------------------------------------------------ bit pattern -> bit pattern (int64)
@njit(cache=True, nogil=True)
def f16_bits_to_f32_bits(h):
    """fp16 bits (low 16 bits of h) -> float32 bits. Exact; NaN: sign, payload << 13, quiet bit set."""
    h = np.int64(h) & np.int64(0xFFFF)
    sign = (h & np.int64(0x8000)) << np.int64(16)
    e = (h >> np.int64(10)) & np.int64(0x1F)
    m = h & np.int64(0x3FF)
    if e == 0x1F:                                   # inf / NaN
        if m == 0:
            return sign | np.int64(0x7F800000)
        return sign | np.int64(0x7F800000) | np.int64(F32_QUIET) | (m << np.int64(13))
    if e != 0:                                      # normal: rebias 15 -> 127
        return sign | ((e + np.int64(112)) << np.int64(23)) | (m << np.int64(13))
    if m == 0:                                      # +-0
        return sign
    # subnormal m * 2**-24: normalise (m has its top bit at position p < 10; value = 1.f * 2**(p - 24))
    p = np.int64(9)
    while (m >> p) == 0:
        p -= np.int64(1)
    f = (m << (np.int64(23) - p)) & np.int64(0x7FFFFF)
    return sign | ((p + np.int64(103)) << np.int64(23)) | f


@njit(cache=True, nogil=True)
def f32_bits_to_f16_bits(u):
    """float32 bits (low 32 bits of u) -> fp16 bits: round to nearest even, subnormals, overflow to inf,
    NaN: sign, top 10 payload bits, quiet bit set."""
    u = np.int64(u) & np.int64(0xFFFFFFFF)
    sign = (u >> np.int64(16)) & np.int64(0x8000)
    a = u & np.int64(0x7FFFFFFF)
    if a > 0x7F800000:                              # NaN
        return sign | np.int64(0x7C00) | np.int64(F16_QUIET) | ((a >> np.int64(13)) & np.int64(0x3FF))
    if a >= 0x477FF000:                             # >= 65520 (halfway 65504 .. 2**16, ties to even: up) or inf
        return sign | np.int64(0x7C00)
    if a >= 0x38800000:                             # >= 2**-14: fp16 normal; a carry into the exponent is right
        odd = (a >> np.int64(13)) & np.int64(1)
        return sign | ((a - np.int64(0x38000000) + np.int64(0xFFF) + odd) >> np.int64(13))
    if a <= 0x33000000:                             # <= 2**-25 (halfway 0 .. 2**-24, ties to even: 0)
        return sign
    # fp16 subnormal: round(x * 2**24) with x = mant * 2**(e - 150), e in [102, 112]
    e = a >> np.int64(23)
    mant = (a & np.int64(0x7FFFFF)) | np.int64(0x800000)
    s = np.int64(126) - e                           # 14 .. 24
    q = mant >> s
    r = mant & ((np.int64(1) << s) - np.int64(1))
    half = np.int64(1) << (s - np.int64(1))
    if r > half or (r == half and (q & np.int64(1)) == 1):
        q += np.int64(1)                            # q == 0x400 is the smallest normal: right
    return sign | q


@njit(cache=True, nogil=True)
def bf16_bits_to_f32_bits(b):
    """bf16 bits (low 16 bits of b) -> float32 bits: b << 16; NaN: quiet bit set."""
    b = np.int64(b) & np.int64(0xFFFF)
    if (b & np.int64(0x7FFF)) > 0x7F80:
        b |= np.int64(BF16_QUIET)
    return b << np.int64(16)


@njit(cache=True, nogil=True)
def f32_bits_to_bf16_bits(u):
    """float32 bits (low 32 bits of u) -> bf16 bits: round to nearest even (overflow to inf is the carry),
    NaN: sign, top 7 payload bits, quiet bit set."""
    u = np.int64(u) & np.int64(0xFFFFFFFF)
    if (u & np.int64(0x7FFFFFFF)) > 0x7F800000:
        return (u >> np.int64(16)) | np.int64(BF16_QUIET)
    odd = (u >> np.int64(16)) & np.int64(1)
    return (u + np.int64(0x7FFF) + odd) >> np.int64(16)


# ------------------------------------------------------------------ scalars
@njit(cache=True, nogil=True)
def f16_to_f32(bits):
    """fp16 bit pattern (uint16; low 16 bits of any integer) -> float32."""
    return _bits_as_f32(f16_bits_to_f32_bits(bits))


@njit(cache=True, nogil=True)
def f32_to_f16(x):
    """float32 -> fp16 bit pattern (uint16), round to nearest even."""
    return np.uint16(f32_bits_to_f16_bits(_f32_as_bits(np.float32(x))))


@njit(cache=True, nogil=True)
def bf16_to_f32(bits):
    """bf16 bit pattern (uint16; low 16 bits of any integer) -> float32."""
    return _bits_as_f32(bf16_bits_to_f32_bits(bits))


@njit(cache=True, nogil=True)
def f32_to_bf16(x):
    """float32 -> bf16 bit pattern (uint16), round to nearest even."""
    return np.uint16(f32_bits_to_bf16_bits(_f32_as_bits(np.float32(x))))


# ------------------------------------------------------------------ arrays (any shape)
@njit(cache=True, nogil=True)
def f16_to_f32_array(bits):
    """uint16 array of fp16 bit patterns -> float32 array of the same shape."""
    flat = bits.ravel()
    out = np.empty(flat.size, np.float32)
    for i in range(flat.size):
        out[i] = _bits_as_f32(f16_bits_to_f32_bits(flat[i]))
    return out.reshape(bits.shape)


@njit(cache=True, nogil=True)
def f32_to_f16_array(x):
    """float32 array -> uint16 array of fp16 bit patterns, same shape."""
    flat = x.ravel()
    out = np.empty(flat.size, np.uint16)
    for i in range(flat.size):
        out[i] = np.uint16(f32_bits_to_f16_bits(_f32_as_bits(flat[i])))
    return out.reshape(x.shape)


@njit(cache=True, nogil=True)
def bf16_to_f32_array(bits):
    """uint16 array of bf16 bit patterns -> float32 array of the same shape."""
    flat = bits.ravel()
    out = np.empty(flat.size, np.float32)
    for i in range(flat.size):
        out[i] = _bits_as_f32(bf16_bits_to_f32_bits(flat[i]))
    return out.reshape(bits.shape)


@njit(cache=True, nogil=True)
def f32_to_bf16_array(x):
    """float32 array -> uint16 array of bf16 bit patterns, same shape."""
    flat = x.ravel()
    out = np.empty(flat.size, np.uint16)
    for i in range(flat.size):
        out[i] = np.uint16(f32_bits_to_bf16_bits(_f32_as_bits(flat[i])))
    return out.reshape(x.shape)


# ------------------------------------------------------------------ by format name (docs/numerics.md section 7)
def widen(bits, fmt):
    """Stored values of a tensor of format ``fmt`` ("float16" / "bfloat16": uint16 bit patterns) as float32
    (exact). Other formats are returned unchanged."""
    if fmt == "float16":
        return f16_to_f32_array(np.ascontiguousarray(bits, dtype=np.uint16))
    if fmt == "bfloat16":
        return bf16_to_f32_array(np.ascontiguousarray(bits, dtype=np.uint16))
    return bits


def narrow(x, fmt):
    """float32 values rounded once (RNE, section 7) to the storage of format ``fmt`` ("float16" / "bfloat16":
    uint16 bit patterns). Other formats are returned unchanged."""
    if fmt == "float16":
        return f32_to_f16_array(np.ascontiguousarray(x, dtype=np.float32))
    if fmt == "bfloat16":
        return f32_to_bf16_array(np.ascontiguousarray(x, dtype=np.float32))
    return x
