"""Export-time quantization arithmetic: floats in, integers out (stored in the model).

Runtimes never call this module; they read the integers it produced.
"""
import math

import numpy as np


def quantize_multiplier(real):
    """TFLite QuantizeMultiplier: real = M * 2**(shift - 31), M in [2**30, 2**31) or 0.

    Returns (M, shift) as Python ints. Shift below -31 flushes to (0, 0); shift is capped at 30.
    """
    real = float(real)
    if not math.isfinite(real) or real < 0:
        raise ValueError(f"multiplier must be finite and >= 0, got {real}")
    if real == 0.0:
        return 0, 0
    q, shift = math.frexp(real)  # real = q * 2**shift, q in [0.5, 1)
    m = int(math.floor(q * (1 << 31) + 0.5))  # std::round: half away from zero; q*2**31 is exact
    if m == (1 << 31):
        m //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if shift > 30:
        raise ValueError(f"multiplier {real} is too large (>= 2**30)")
    return m, shift


def quantize_multipliers(reals):
    ms, ss = zip(*(quantize_multiplier(r) for r in np.asarray(reals, dtype=np.float64).ravel()))
    return np.array(ms, dtype=np.int32), np.array(ss, dtype=np.int32)


def round_half_away(x):
    x = np.asarray(x, dtype=np.float64)
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def affine_params(lo, hi, qmin=-128, qmax=127):
    """Asymmetric per-tensor parameters from a calibrated float range, as TFLite: the range is widened
    to contain 0, scale = (hi - lo) / (qmax - qmin), zero point nudged to an integer in [qmin, qmax]."""
    lo = min(float(lo), 0.0)
    hi = max(float(hi), 0.0)
    if hi - lo < 1e-8:
        hi = lo + 1e-8
    scale = np.float32((hi - lo) / (qmax - qmin))
    zp = qmin - lo / float(scale)
    zp = int(min(max(round_half_away(zp), qmin), qmax))
    return float(scale), zp


def symmetric_weight_scales(w, axis=0, qmax=127):
    """Per-output-channel symmetric scales (float32 values) of a weight tensor."""
    w = np.asarray(w, dtype=np.float64)
    red = tuple(i for i in range(w.ndim) if i != axis)
    amax = np.max(np.abs(w), axis=red) if w.ndim > 1 else np.abs(w)
    scales = np.where(amax > 0, amax / qmax, 1.0).astype(np.float32)
    return scales


def quantize_weights(w, scales, axis=0, qmax=127):
    w = np.asarray(w, dtype=np.float64)
    shape = [1] * w.ndim
    shape[axis] = -1
    q = round_half_away(w / np.asarray(scales, dtype=np.float64).reshape(shape))
    return np.clip(q, -qmax, qmax).astype(np.int8)


INT16_ACC_LIMIT = 1 << 47   # requantize64's input range; every int64 partial sum stays below it (numerics 9.3)


def quantize_bias(b, in_scale, w_scales, wide=False):
    """round_away(b / (f64(s_in) * f64(s_w[c]))): int32 (int8 layers, clipped to the int32 range) or, with
    ``wide``, int64 clipped to +-2**47 (int16 layers, numerics 9.5; a clipped bias then fails the 9.3 bound)."""
    bs = np.float64(in_scale) * np.asarray(w_scales, dtype=np.float64)
    q = round_half_away(np.asarray(b, dtype=np.float64) / bs)
    if wide:
        return np.clip(q, -float(INT16_ACC_LIMIT), float(INT16_ACC_LIMIT)).astype(np.int64)
    return np.clip(q, -(2 ** 31), 2 ** 31 - 1).astype(np.int32)


def tflite_quantize_float(f, scale):
    """TFLite's kernel_util Quantize(scale, f) without the zero point: roundf(float32(f) / float32(scale)), the
    division in float32 (not float64) and ties away from zero. The clamps below follow it: float64 gives a
    different integer where f / s lies just below a half-integer in float64 but rounds onto it in float32
    (s = float32(2.4): 6 / s = 2.4999999 in float64, 2.5f in float32)."""
    v = np.float32(f) / np.float32(scale)
    if not np.isfinite(v):
        raise ValueError(f"{f} / scale {scale} is not finite in float32")
    return int(round_half_away(float(v)))


def act_clamp_int8(act, scale, zp, qmin=-128, qmax=127):
    """Fused activation as the integer clamp [act_min, act_max] (TFLite CalculateActivationRangeQuantized, its
    float32 arithmetic: :func:`tflite_quantize_float`): None -> [qmin, qmax]; relu -> [max(qmin, zp), qmax];
    relu6 -> also hi = min(qmax, zp + roundf(6.0f / s)); relu_n1_to_1 (TFLite's RELU_N1_TO_1) ->
    [max(qmin, zp + roundf(-1.0f / s)), min(qmax, zp + roundf(1.0f / s))]."""
    lo, hi = qmin, qmax               # any other act (None, "none") is no activation
    if act in ("relu", "relu6"):
        lo = max(lo, zp + tflite_quantize_float(0.0, scale))
    if act == "relu6":
        hi = min(hi, zp + tflite_quantize_float(6.0, scale))
    if act == "relu_n1_to_1":
        lo = max(lo, zp + tflite_quantize_float(-1.0, scale))
        hi = min(hi, zp + tflite_quantize_float(1.0, scale))
    return int(lo), int(hi)


def act_clamp_int16(act, scale):
    """The int16 clamp (zero point 0, numerics 9.4): act_clamp_int8 over [-32768, 32767]."""
    if act not in (None, "relu", "relu6"):
        raise ValueError(f"unknown activation {act!r}")
    return act_clamp_int8(act, float(np.float32(scale)), 0, -32768, 32767)


def int16_params(lo, hi):
    """(scale, 0) of a symmetric int16 tensor from a calibrated range: float32(max(|lo|, |hi|) / 32767), with
    1e-8 in place of a zero range (numerics 9.5)."""
    a = max(abs(float(lo)), abs(float(hi)))
    if a == 0.0:
        a = 1e-8
    return float(np.float32(a / 32767.0)), 0


def act_clamp_float(act):
    lo, hi = -np.inf, np.inf
    if act in ("relu", "relu6"):
        lo = 0.0
    if act == "relu6":
        hi = 6.0
    return float(lo), float(hi)


# ------------------------------------------------------------------ Q-format fixed point (docs/numerics.md 10.4)
Q_FRAC_RANGE = (-32, 62)


def q_frac_bits(amax, bits):
    """The largest n in [-32, 62] with amax * 2**n <= 2**(bits-1) - 1 (bits - 1 for amax = 0): the fractional
    bits of a Q tensor or weight channel whose largest magnitude is amax."""
    amax = float(amax)
    qmax = float((1 << (bits - 1)) - 1)
    if not math.isfinite(amax):
        raise ValueError(f"a Q range must be finite, got {amax}")
    if amax <= 0.0:
        return bits - 1
    n = math.floor(math.log2(qmax / amax))
    while amax * 2.0 ** n > qmax:        # log2 rounding at exact powers of two
        n -= 1
    while amax * 2.0 ** (n + 1) <= qmax:
        n += 1
    return int(min(max(n, Q_FRAC_RANGE[0]), Q_FRAC_RANGE[1]))


def act_clamp_q(act, frac_bits, bits):
    """The fused activation of a Q layer as its integer clamp (10.1): none -> the container's range;
    relu -> [0, max]; relu6 -> [0, min(max, round_away(6 * 2**n))]."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if act in ("relu", "relu6"):
        lo = 0
    if act == "relu6":
        hi = int(min(hi, round_half_away(6.0 * 2.0 ** frac_bits)))
    return int(lo), int(hi)


def q_layer_params(w, b, n_in, bits_in, wbits, acc_bits):
    """Export of a Q conv / linear (10.4): per output channel weight_frac, the weights in a ``wbits`` container and
    the bias at n_in + weight_frac, lowering a channel's weight_frac until its bias fits the int``acc_bits`` bias
    and its worst accumulator |bias| + 2**(bits_in-1) * sum|wq| stays below 2**(acc_bits-1).
    Returns (wq, bias, weight_frac)."""
    w = np.asarray(w, dtype=np.float64)
    O = w.shape[0]
    b = np.zeros(O) if b is None else np.asarray(b, dtype=np.float64)
    wm = (1 << (wbits - 1)) - 1
    limit = 1 << (acc_bits - 1)
    wq = np.zeros(w.shape, np.int8 if wbits == 8 else np.int16)
    bq = np.zeros(O, np.int32 if acc_bits == 32 else np.int64)
    wf = np.zeros(O, np.int32)
    for o in range(O):
        n = q_frac_bits(np.abs(w[o]).max(initial=0.0), wbits)
        while True:
            q = np.clip(round_half_away(w[o] * 2.0 ** n), -wm, wm)
            bias = float(round_half_away(b[o] * 2.0 ** (n_in + n)))
            worst = abs(bias) + float(np.abs(q).sum()) * 2.0 ** (bits_in - 1)
            if worst < limit or n <= Q_FRAC_RANGE[0]:
                break
            n -= 1
        if worst >= limit:
            raise ValueError(f"output channel {o}: the bias {b[o]:.6g} does not fit a {acc_bits}-bit accumulator at "
                             f"any weight_frac")
        wq[o], bq[o], wf[o] = q, int(bias), n
    return wq, bq, wf
