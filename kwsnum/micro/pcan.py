"""Stage 5, PCAN gain control: per-channel gain from the noise estimate (a piecewise-quadratic LUT), then a
soft compression of the signal-to-noise ratio.

TFLM: pcan_gain_control.c (WideDynamicFunction, PcanShrink) and pcan_gain_control_util.c (the gain LUT,
float32 powf). Spec: docs/frontend.md, M.6.
"""
from .. import _numba as nb
import numpy as np

from . import f32

PCAN_SNR_BITS = 12          # kPcanSnrBits
PCAN_OUTPUT_BITS = 6        # kPcanOutputBits
WDF_BITS = 32               # kWideDynamicFunctionBits
LUT_SIZE = 4 * WDF_BITS - 3  # kWideDynamicFunctionLUTSize = 125


def _gain(strength, offset, gain_bits, input_bits, x):
    """PcanGainLookupFunction (float32)."""
    F = f32.F
    xf = F(x) / F(1 << input_bits)
    g = F(1 << gain_bits) * f32.powf(xf + F(offset), -F(strength))
    if g > F(0x7FFF):
        return 0x7FFF
    return int(g + F(0.5))


def _i16(v):
    return ((int(v) + 32768) & 0xFFFF) - 32768


def gain_lut(strength, offset, gain_bits, input_bits):
    """The 125-entry int16 gain LUT of PcanGainControlPopulateState: entries 0, 1 are the gains at x = 0, 1;
    interval i = 2..32 (x in [2**(i-1), 2**i)) stores y0, a1, a2 at 4i - 6 .. 4i - 4 (4i - 3 unused: 0)."""
    lut = np.zeros(LUT_SIZE, np.int16)
    g = lambda x: _gain(strength, offset, gain_bits, input_bits, x)  # noqa: E731
    lut[0] = g(0)
    lut[1] = g(1)
    for interval in range(2, WDF_BITS + 1):
        x0 = 1 << (interval - 1)
        x1 = x0 + (x0 >> 1)
        x2 = x0 + (x0 - 1) if interval == WDF_BITS else 2 * x0
        y0, y1, y2 = g(x0), g(x1), g(x2)
        diff1, diff2 = y1 - y0, y2 - y0
        a1 = 4 * diff1 - diff2
        a2 = diff2 - a1
        b = 4 * interval - 6
        lut[b] = _i16(y0)
        lut[b + 1] = _i16(a1)
        lut[b + 2] = _i16(a2)
    return lut


@nb.njit(cache=True)
def _floor_shift(x, n):
    return x >> n   # numba int64: arithmetic shift = floor


@nb.njit(cache=True)
def wide_dynamic(x, lut):
    """WideDynamicFunction(x, lut) -> int16 value."""
    if x <= 2:
        return np.int64(lut[x])
    interval = 0
    t = x
    while t > 0:
        interval += 1
        t >>= 1
    b = 4 * interval - 6
    if interval < 11:
        frac = (x << (11 - interval)) & 0x3FF
    else:
        frac = (x >> (interval - 11)) & 0x3FF
    r = (np.int64(lut[b + 2]) * frac) >> 5
    r += np.int64(lut[b + 1]) * 32
    r *= frac
    r = (r + (1 << 14)) >> 15
    r += np.int64(lut[b])
    return ((r + 32768) & 0xFFFF) - 32768


@nb.njit(cache=True)
def shrink(x):
    if x < (2 << PCAN_SNR_BITS):
        return (x * x) >> (2 + 2 * PCAN_SNR_BITS - PCAN_OUTPUT_BITS)
    return (x >> (PCAN_SNR_BITS - PCAN_OUTPUT_BITS)) - (1 << PCAN_OUTPUT_BITS)


@nb.njit(cache=True)
def apply(signal, estimate, lut, snr_shift):
    """In place on signal (uint32 values in int64); estimate: the noise reduction's state after this frame."""
    for i in range(signal.shape[0]):
        gain = wide_dynamic(estimate[i], lut) & 0xFFFFFFFF    # int16 -> uint32
        snr = (signal[i] * gain) >> snr_shift   # bits snr_shift..+31 of the (wrapped) product
        signal[i] = shrink(snr & 0xFFFFFFFF)


def apply_torch(signal, estimate, lut, snr_shift):
    """signal, estimate (..., C) int64; lut (125,) int64."""
    import torch
    from .bits import torch_msb, torch_wrap16
    x = estimate
    interval = torch_msb(x)
    b = (4 * interval - 6).clamp(min=0)
    sh_left = (11 - interval).clamp(min=0)
    sh_right = (interval - 11).clamp(min=0)
    frac = torch.where(interval < 11, x << sh_left, x >> sh_right) & 0x3FF
    r = (lut[(b + 2).clamp(max=lut.shape[0] - 1)] * frac) >> 5
    r = r + lut[(b + 1).clamp(max=lut.shape[0] - 1)] * 32
    r = ((r * frac) + (1 << 14)) >> 15
    r = torch_wrap16(r + lut[b])
    g = torch.where(x <= 2, lut[x.clamp(max=2)], r) & 0xFFFFFFFF
    snr = ((signal * g) >> snr_shift) & 0xFFFFFFFF
    small = snr < (2 << PCAN_SNR_BITS)
    return torch.where(small, (snr * snr) >> (2 + 2 * PCAN_SNR_BITS - PCAN_OUTPUT_BITS),
                       (snr >> (PCAN_SNR_BITS - PCAN_OUTPUT_BITS)) - (1 << PCAN_OUTPUT_BITS))
