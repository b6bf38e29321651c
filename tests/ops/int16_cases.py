"""Hypothesis pieces for the int16 (TFLite 16x8) format of the op strategies (docs/numerics.md section 9)."""
import numpy as np
from hypothesis import strategies as st

from kwsnum.quant import quantize_multiplier


def int16_scale(draw):
    return float(np.float32(draw(st.floats(1e-5, 1.0, allow_nan=False, allow_infinity=False))))


def int16_array(draw, shape):
    """int16 activations: uniform, the extremes, or a narrow cluster (so rounding ties and saturation show)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    kind = draw(st.sampled_from(["uniform", "extremes", "narrow", "small", "floor"]))
    if kind == "floor":     # mostly the int16 minimum: whole windows of -32768 (max / avg pool starting values)
        return rng.choice(np.array([-32768, -32768, -32768, 32767], dtype=np.int16), size=shape)
    if kind == "uniform":
        return rng.integers(-32768, 32768, size=shape).astype(np.int16)
    if kind == "extremes":
        return rng.choice(np.array([-32768, -32767, -1, 0, 1, 32766, 32767], dtype=np.int16), size=shape)
    if kind == "small":
        return rng.integers(-300, 301, size=shape).astype(np.int16)
    c = int(rng.integers(-30000, 30000))
    return np.clip(c + rng.integers(-64, 65, size=shape), -32768, 32767).astype(np.int16)


def int16_clamp(draw):
    kind = draw(st.sampled_from(["none", "relu", "random"]))
    if kind == "none":
        return -32768, 32767
    if kind == "relu":
        return 0, 32767
    lo = draw(st.integers(-32768, 32767))
    return lo, draw(st.integers(lo, 32767))


def multipliers16(draw, n, K, calibrated):
    """n (multiplier, shift) pairs with shift in [-31, 7] (requantize64's range, 9.1). ``calibrated``: outputs of a
    typical accumulator (sqrt(K) * 18900 * 73 for uniform int16 inputs and int8 weights) of about +-2**k steps,
    k in [-1, 15]; otherwise anything in range, tiny and saturating included."""
    out = []
    for _ in range(n):
        if calibrated:
            r = 2.0 ** draw(st.floats(-1, 15)) / (np.sqrt(K) * 18900 * 73)
        else:
            r = draw(st.one_of(st.floats(1e-9, 127.0), st.sampled_from([1e-9, 0.25, 0.5, 1.0, 127.0, 2 ** -20])))
        out.append(quantize_multiplier(r))
    ms, ss = zip(*out)
    mult = np.array(ms, np.int32)
    if draw(st.booleans()):     # multipliers at the 0x7FFF0000 edge of the reduction
        mult[0] = draw(st.sampled_from([0x7FFEFFFF, 0x7FFF0000, 2 ** 31 - 1, 2 ** 30]))
    return mult, np.array(ss, np.int32)


def bias64(draw, n, big):
    hi = 2 ** 40 if big else 2 ** 22
    return np.asarray(draw(st.lists(st.integers(-hi, hi), min_size=n, max_size=n)), np.int64)
