"""Stage 1, the window: int16 samples x int16 coefficients (Q12) -> int16, and the frame's peak.

TFLM: window.c (WindowProcessSamples) and window_util.c (the coefficients). Spec: docs/frontend.md, M.2.
"""
import math

from .. import _numba as nb
import numpy as np

from . import f32
from .bits import wrap16, torch_wrap16

WINDOW_BITS = 12   # kFrontendWindowBits


def coefficients(size):
    """The Hann-like window of ``size`` samples as TFLM's WindowPopulateState computes it in float32:
    w[i] = floor((0.5 - 0.5 cos(2 pi / size * (i + 0.5))) * 4096 + 0.5)."""
    F = f32.F
    arg = F(F(math.pi) * F(2.0)) / F(size)
    out = np.empty(size, np.int16)
    for i in range(size):
        v = F(0.5) - F(0.5) * f32.cosf(arg * (F(i) + F(0.5)))
        out[i] = int(f32.floorf(v * F(1 << WINDOW_BITS) + F(0.5)))
    return out


@nb.njit(cache=True)
def apply(inp, coef, out):
    """out[i] = wrap16((inp[i] * coef[i]) >> 12) (arithmetic shift); returns the frame's max_abs: the
    largest wrap16(|out[i]|) (so -32768 counts as -32768, i.e. not at all, as TFLM's int16 negation)."""
    m = 0
    for i in range(inp.shape[0]):
        v = wrap16((np.int64(inp[i]) * np.int64(coef[i])) >> WINDOW_BITS)
        out[i] = v
        a = wrap16(-v) if v < 0 else v
        if a > m:
            m = a
    return m


def apply_torch(inp, coef):
    """inp: (..., size) int64 samples, coef: (size,) int64 -> (windowed (..., size), max_abs (...))."""
    v = torch_wrap16((inp * coef) >> WINDOW_BITS)
    a = torch_wrap16(v.abs())
    return v, a.clamp(min=0).amax(dim=-1)
