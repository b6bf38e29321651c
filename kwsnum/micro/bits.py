"""Integer helpers shared by the microfrontend stages (numba, and their torch twins).

TFLM's C stores results in int16_t / uint32_t variables; the spec (docs/frontend.md, "The micro frontend")
makes every such store an explicit wrap: ``wrap16`` (two's complement int16), ``u32`` (mod 2**32).
"""
from .. import _numba as nb


@nb.njit(cache=True, inline="always")
def wrap16(x):
    """x mod 2**16 as a signed int16 value (an int64)."""
    return ((x + 32768) & 0xFFFF) - 32768


@nb.njit(cache=True, inline="always")
def u32(x):
    return x & 0xFFFFFFFF


@nb.njit(cache=True, inline="always")
def msb(x):
    """Number of significant bits of x >= 0 (0 for 0): TFLM's MostSignificantBit32/64."""
    n = 0
    while x > 0:
        n += 1
        x >>= 1
    return n


def torch_wrap16(t):
    return ((t + 32768) & 0xFFFF) - 32768


def torch_msb(t):
    """Significant bits of each element of a non-negative int64 tensor (0 for 0)."""
    import torch
    n = torch.zeros_like(t)
    x = t.clone()
    for _ in range(64):
        nz = x > 0
        if not bool(nz.any()):
            break
        n = n + nz.to(t.dtype)
        x = x >> 1
    return n
