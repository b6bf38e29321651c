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


def quantize_bias(b, in_scale, w_scales):
    bs = np.float64(in_scale) * np.asarray(w_scales, dtype=np.float64)
    q = round_half_away(np.asarray(b, dtype=np.float64) / bs)
    return np.clip(q, -(2 ** 31), 2 ** 31 - 1).astype(np.int32)


def act_clamp_int8(act, scale, zp):
    """Fused activation as the int8 clamp [act_min, act_max] (TFLite CalculateActivationRangeQuantized)."""
    lo, hi = -128, 127
    if act in ("relu", "relu6"):
        lo = max(lo, zp)
    if act == "relu6":
        hi = min(hi, zp + int(round_half_away(6.0 / scale)))
    return int(lo), int(hi)


def act_clamp_float(act):
    lo, hi = -np.inf, np.inf
    if act in ("relu", "relu6"):
        lo = 0.0
    if act == "relu6":
        hi = 6.0
    return float(lo), float(hi)
