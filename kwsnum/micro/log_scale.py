"""Stage 6, log scale: a fixed-point natural log (log2 by a 128-segment correction LUT, times ln 2),
scaled by 2**scale_shift / 2**16 and clamped to uint16.

TFLM: log_scale.c, log_lut.c. Spec: docs/frontend.md, M.7.
"""
import math

from .. import _numba as nb
import numpy as np

LOG_SEGMENTS_LOG2 = 7        # kLogSegmentsLog2 (128 segments)
LOG_SCALE_LOG2 = 16          # kLogScaleLog2
LOG_SCALE = 1 << LOG_SCALE_LOG2
LOG_COEFF = round(math.log(2.0) * LOG_SCALE)   # kLogCoeff = 45426


def log_lut():
    """kLogLut: 130 uint16, c[i] = round((log2(1 + i/128) - i/128) * 2**16) for i = 0..128, and a 0 (the
    entry after the last segment). Generated here; tests check it yields TFLM's features."""
    n = 1 << LOG_SEGMENTS_LOG2
    v = [math.floor((math.log2(1.0 + i / n) - i / n) * LOG_SCALE + 0.5) for i in range(n + 1)]
    return np.asarray(v + [0], np.uint16)


@nb.njit(cache=True)
def _log(x, scale_shift, lut):
    """TFLM's Log(x, scale_shift) for x >= 2 (uint32)."""
    integer = -1
    t = x
    while t > 0:
        integer += 1
        t >>= 1
    frac = x - (np.int64(1) << integer)
    if integer < LOG_SCALE_LOG2:
        frac <<= LOG_SCALE_LOG2 - integer
    else:
        frac >>= integer - LOG_SCALE_LOG2
    base = frac >> (LOG_SCALE_LOG2 - LOG_SEGMENTS_LOG2)
    unit = LOG_SCALE >> LOG_SEGMENTS_LOG2
    c0 = np.int64(lut[base])
    c1 = np.int64(lut[base + 1])
    rel = ((c1 - c0) * (frac - unit * base)) >> LOG_SCALE_LOG2
    fraction = (frac + c0 + rel) & 0xFFFFFFFF
    log2 = ((integer << LOG_SCALE_LOG2) + fraction) & 0xFFFFFFFF
    rnd = LOG_SCALE // 2
    loge = ((LOG_COEFF * log2 + rnd) >> LOG_SCALE_LOG2) & 0xFFFFFFFF
    return ((((loge << scale_shift) & 0xFFFFFFFF) + rnd) & 0xFFFFFFFF) >> LOG_SCALE_LOG2


@nb.njit(cache=True)
def apply(signal, correction_bits, scale_shift, enable_log, lut, out):
    """out[i] (uint16) from signal[i] (uint32 values in int64)."""
    for i in range(signal.shape[0]):
        v = signal[i]
        if enable_log:
            if correction_bits < 0:
                v >>= -correction_bits
            else:
                v = (v << correction_bits) & 0xFFFFFFFF
            v = _log(v, scale_shift, lut) if v > 1 else 0
        out[i] = v if v < 0xFFFF else 0xFFFF


def apply_torch(signal, correction_bits, scale_shift, enable_log, lut):
    """signal (..., C) int64 -> (..., C) int64 in [0, 65535]."""
    import torch
    from .bits import torch_msb
    v = signal
    if enable_log:
        v = (v >> -correction_bits) if correction_bits < 0 else ((v << correction_bits) & 0xFFFFFFFF)
        x = torch.where(v > 1, v, torch.full_like(v, 2))
        integer = torch_msb(x) - 1
        frac = x - (torch.ones_like(x) << integer)
        up = (LOG_SCALE_LOG2 - integer).clamp(min=0)
        down = (integer - LOG_SCALE_LOG2).clamp(min=0)
        frac = torch.where(integer < LOG_SCALE_LOG2, frac << up, frac >> down)
        base = frac >> (LOG_SCALE_LOG2 - LOG_SEGMENTS_LOG2)
        c0, c1 = lut[base], lut[base + 1]
        rel = ((c1 - c0) * (frac - (LOG_SCALE >> LOG_SEGMENTS_LOG2) * base)) >> LOG_SCALE_LOG2
        log2 = ((integer << LOG_SCALE_LOG2) + ((frac + c0 + rel) & 0xFFFFFFFF)) & 0xFFFFFFFF
        loge = ((LOG_COEFF * log2 + LOG_SCALE // 2) >> LOG_SCALE_LOG2) & 0xFFFFFFFF
        lg = ((((loge << scale_shift) & 0xFFFFFFFF) + LOG_SCALE // 2) & 0xFFFFFFFF) >> LOG_SCALE_LOG2
        v = torch.where(v > 1, lg, torch.zeros_like(v))
    return v.clamp(max=0xFFFF)
