"""Stage 4, noise reduction: a running per-channel noise estimate (the frontend's state), subtracted.

TFLM: noise_reduction.c and noise_reduction_util.c (the Q14 smoothing constants). Spec: docs/frontend.md, M.5.
"""
from .. import _numba as nb

from . import f32

NOISE_REDUCTION_BITS = 14   # kNoiseReductionBits


def constants(even_smoothing, odd_smoothing, min_signal_remaining):
    """NoiseReductionPopulateState: float32 value * 2**14, truncated to uint16."""
    F = f32.F
    q = lambda v: int(F(v) * F(1 << NOISE_REDUCTION_BITS))  # noqa: E731
    return q(even_smoothing), q(odd_smoothing), q(min_signal_remaining)


@nb.njit(cache=True)
def apply(signal, estimate, smoothing_bits, even, odd, min_remaining):
    """In place on signal (uint32 values in int64) and estimate (the state, uint32 values)."""
    one = 1 << NOISE_REDUCTION_BITS
    for i in range(signal.shape[0]):
        s = even if (i & 1) == 0 else odd
        up = (signal[i] << smoothing_bits) & 0xFFFFFFFF
        est = (up * s + estimate[i] * (one - s)) >> NOISE_REDUCTION_BITS
        estimate[i] = est & 0xFFFFFFFF
        est = estimate[i]
        if est > up:
            est = up
        floor = (signal[i] * min_remaining) >> NOISE_REDUCTION_BITS
        sub = (up - est) >> smoothing_bits
        signal[i] = sub if sub > floor else floor


def apply_torch(signal, estimate, smoothing_bits, even, odd, min_remaining):
    """One frame: signal (C,), estimate (C,) int64 -> (new signal, new estimate)."""
    import torch
    one = 1 << NOISE_REDUCTION_BITS
    idx = torch.arange(signal.shape[-1])
    s = torch.where(idx % 2 == 0, torch.tensor(even), torch.tensor(odd))
    up = (signal << smoothing_bits) & 0xFFFFFFFF
    est = ((up * s + estimate * (one - s)) >> NOISE_REDUCTION_BITS) & 0xFFFFFFFF
    floor = (signal * min_remaining) >> NOISE_REDUCTION_BITS
    sub = (up - torch.minimum(est, up)) >> smoothing_bits
    return torch.maximum(sub, floor), est
