"""The exact fast paths of the integer weighted sums (conv, linear): docs/numerics.md 3.6.

An integer accumulator ``bias + sum x * w`` has the same value whichever order its terms are added in, so the
oracle may compute ``sum x * w`` by any method that is exact. Two are used here, chosen once per node at plan time
from the weights and the whole input range (never from the data):

- ``gemm``: im2col (conv) and one BLAS matrix product per sample (numpy ``matmul``) in float32 when the bound below
  is under 2**24, else in float64 when it is under 2**53. Every product and every partial sum, in whatever order and
  grouping BLAS adds them (FMA included), is an integer of magnitude at most that bound, hence exactly representable,
  so every float operation is exact and the float result is the integer sum. The bias is added afterwards in int64.
- ``depthwise``: a numba kernel for convolutions with one input channel per group: each input plane staged once,
  zero-padded and split by stride phase, in a scratch buffer (no bounds tests), so that every tap is one long
  contiguous inner loop; integer accumulators as the loop kernels.

    bound = max over output channels o of  xmax * sum |w[o]|
    xmax  = max |x| over the input range: int8 max(127 - zp_in, zp_in + 128) (x is q - zp_in), int16 32768,
            q8 / q16 / q32 2**(bits - 1)

Outside the bounds (and for float formats, whose operation order is part of the spec) the ops keep their loop
kernels. :func:`choose` names the path; :func:`forced` lets tests run every path on the same inputs.
"""
import contextlib

import numpy as np
from numba import njit

from ..fixedpoint import requantize, clamp, mbqm_int64, qcast

F32_EXACT = 1 << 24     # float32 holds every integer of magnitude <= 2**24; the bound must stay below
F64_EXACT = 1 << 53     # float64: 2**53

PATHS = ("loops", "gemm", "depthwise")
_forced = []


@contextlib.contextmanager
def forced(path, dtype=None):
    """Plan every conv / linear node created inside on ``path`` ("loops", "gemm" or "depthwise"; where a path does
    not apply to a node, e.g. depthwise for a dense conv, the node keeps its own choice) with the GEMM in ``dtype``
    ("float32" / "float64"; default: the exact one). For tests: a forced float32 beyond its bound is inexact."""
    if path not in PATHS:
        raise ValueError(f"unknown path {path!r} (known: {', '.join(PATHS)})")
    _forced.append((path, dtype))
    try:
        yield
    finally:
        _forced.pop()


def input_abs_max(fmt, zero_point=0):
    """max |x| of the kernel input x over the whole input range (int8: x = q - zp_in)."""
    if fmt == "int8":
        return max(127 - int(zero_point), int(zero_point) + 128)
    if fmt == "int16":
        return 1 << 15
    from ..model import QBITS
    return 1 << (QBITS[fmt] - 1)


def weighted_sum_bound(weight, xmax):
    """max over output channels of xmax * sum |w[o]| (Python integers: exact)."""
    O = weight.shape[0]
    sw = np.abs(weight.astype(np.int64)).reshape(O, -1).sum(axis=1)
    return int(sw.max(initial=0)) * int(xmax)


def exact_dtype(bound):
    """The float type in which every partial sum of magnitude <= bound is exact: float32, float64 or None."""
    if bound < F32_EXACT:
        return np.float32
    if bound < F64_EXACT:
        return np.float64
    return None


def choose(fmt, weight, zero_point, dense, depthwise):
    """(path, dtype) of an integer conv / linear node: gemm where ``dense`` (groups == 1) and the bound allows,
    depthwise where ``depthwise`` (one input channel per group), else loops. dtype: the GEMM's float type."""
    dtype = exact_dtype(weighted_sum_bound(weight, input_abs_max(fmt, zero_point)))
    path = "gemm" if dense and dtype is not None else ("depthwise" if depthwise else "loops")
    if _forced:
        want, want_dtype = _forced[-1]
        if want == "loops" or (want == "gemm" and dense) or (want == "depthwise" and depthwise):
            path = want
        if want_dtype is not None:
            dtype = np.dtype(want_dtype).type
        if path == "gemm" and dtype is None:
            path = "depthwise" if depthwise else "loops"
    return path, dtype


KIND_INT8, KIND_INT16, KIND_Q = 0, 1, 2     # the integer epilogues of conv / linear


@njit(cache=True, nogil=True)
def int_epilogue(acc, kind, mult, shift, mode, out_zp, bits, omode, act_min, act_max):
    """The output of an integer conv / linear accumulator: int8 requantize(mode) + out_zp (docs/numerics.md 4);
    int16 requantize64 (9.4); Q qcast(acc, shift, mode, bits, omode) with shift = n_in + weight_frac - n_out
    (10.3). Then the clamp."""
    if kind == 1:
        v = mbqm_int64(acc, mult, shift)
    elif kind == 2:
        v = qcast(acc, shift, mode, bits, omode)
    else:
        v = requantize(acc, mult, shift, mode) + out_zp
    return clamp(v, act_min, act_max)


@njit(cache=True, nogil=True)
def epilogue_row(a, b, m, s, out_zp, act_min, act_max, mode, kind, bits, omode, y):
    """y[p] = int_epilogue(b + a[p]) of one output channel (multiplier m, shift s, bias b): a holds exact integer
    sums (int32 / int64 / float32 / float64). The loop is written once per (kind, mode) with those as constants,
    so that LLVM vectorizes it (a data-dependent dispatch inside the loop costs ten times more)."""
    P = a.shape[0]
    if kind == 0 and mode == 0:
        for p in range(P):
            y[p] = int_epilogue(b + np.int64(a[p]), 0, m, s, 0, out_zp, bits, omode, act_min, act_max)
    elif kind == 0 and mode == 1:
        for p in range(P):
            y[p] = int_epilogue(b + np.int64(a[p]), 0, m, s, 1, out_zp, bits, omode, act_min, act_max)
    elif kind == 1:
        for p in range(P):
            y[p] = int_epilogue(b + np.int64(a[p]), 1, m, s, mode, out_zp, bits, omode, act_min, act_max)
    else:
        for p in range(P):
            y[p] = int_epilogue(b + np.int64(a[p]), kind, m, s, mode, out_zp, bits, omode, act_min, act_max)


@njit(cache=True, nogil=True)
def gemm_epilogue(acc, bias, mult, shift, out_zp, act_min, act_max, mode, kind, bits, omode, out):
    """out[n, o, p] = int_epilogue(bias[o] + acc[n, o, p]): acc holds exact integer sums (float32 / float64)."""
    N, O, P = acc.shape
    for n in range(N):
        for o in range(O):
            epilogue_row(acc[n, o], np.int64(bias[o]), np.int64(mult[o]), np.int64(shift[o]), out_zp, act_min,
                         act_max, mode, kind, bits, omode, out[n, o])


def as_float(x, offset, dtype):
    """x + offset in the GEMM's float type (exact: |x + offset| <= xmax <= the bound)."""
    return np.add(x, dtype(offset), dtype=dtype)      # one pass: convert and add


def matmul_exact(wf, cols):
    """(O, K) @ (N, K, P) -> (N, O, P), or (N, F) @ (F, O) for linear: numpy's BLAS, exact within the bound."""
    return np.matmul(wf, cols)


def im2col(xf, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    """(N, C, H, W) -> (N, C * KH * KW, OH * OW) columns of the zero-padded input (row order c, kh, kw: the
    weight's). Padded taps are 0 (for int8 x is q - zp_in, and padding is the real value 0)."""
    N, C, H, W = xf.shape
    hn = (oh - 1) * sh + (kh - 1) * dh + 1          # rows / columns the output reads
    wn = (ow - 1) * sw + (kw - 1) * dw + 1
    if pt or pl or hn > H or wn > W:
        xp = np.zeros((N, C, max(hn, pt + H), max(wn, pl + W)), xf.dtype)
        xp[:, :, pt:pt + H, pl:pl + W] = xf
    else:
        xp = xf
    if kh == kw == sh == sw == 1 and hn == xp.shape[2] and wn == xp.shape[3]:
        return xp.reshape(N, C, hn * wn)
    s = xp.strides
    win = np.lib.stride_tricks.as_strided(
        xp, (N, C, kh, kw, oh, ow), (s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw), writeable=False)
    return win.reshape(N, C * kh * kw, oh * ow)


@njit(cache=True, nogil=True, error_model="numpy")   # sh, sw >= 1: no division checks
def depthwise_int(x, in_off, w, bias, mult, shift, sh, sw, dh, dw, pt, pl, out_zp, act_min, act_max, mode, kind,
                  bits, omode, phases, out):
    """Convolution with one input channel per group (groups = C, O = C * og): output channel o reads input channel
    o // og. Each input plane is staged once, zero-padded and offset (x + in_off, int8: q - zp_in), split by stride
    phase into ``phases`` (sh * sw, Hq, Wq), a scratch of the caller (:func:`stride_phases`): padded position (r, c)
    goes to phase (r % sh) * sw + c % sw at (r // sh, c // sw). Tap (kh, kw) of output (oh, ow) is then element
    (oh + a // sh, ow + b // sw) of phase (a % sh, b % sw), a = kh * dh, b = kw * dw: each tap adds a shifted copy of
    one flattened phase over the output rows at width Wq (columns beyond OW are computed and dropped), so the inner
    loop is long and contiguous whatever the stride. The sum of products accumulates in bias's type (int32 for int8,
    int64 else; exact by the loader's bounds, 3.4, 9.3, 10.3); the epilogue adds the bias in int64."""
    N, C, H, W = x.shape
    O, _, KH, KW = w.shape
    OH, OW = out.shape[2], out.shape[3]
    _, Hq, Wq = phases.shape
    og = O // C
    prod64 = bits == 32
    flat = phases.reshape(sh * sw, Hq * Wq)          # phases is C-contiguous: a view
    L = (OH - 1) * Wq + OW
    acc = np.empty(L, dtype=bias.dtype)
    y = np.empty(L, dtype=out.dtype)
    phases[:, :, :] = 0
    for n in range(N):
        for c in range(C):
            for h in range(H):
                r = pt + h
                xr = x[n, c, h]
                for bp in range(sw):                 # the input columns j of column phase bp: (pl + j) % sw == bp
                    j0 = (bp - pl) % sw
                    dst = phases[(r % sh) * sw + bp, r // sh, (pl + j0) // sw:]
                    xs = xr[j0:]
                    for k in range((W - j0 + sw - 1) // sw):
                        dst[k] = xs[k * sw] + in_off
            for o in range(c * og, (c + 1) * og):
                acc[:] = 0
                for kh in range(KH):
                    a = kh * dh
                    for kw in range(KW):
                        wv = w[o, 0, kh, kw]
                        if wv == 0:
                            continue
                        b = kw * dw
                        base = (a // sh) * Wq + b // sw
                        xs = flat[(a % sh) * sw + b % sw, base:base + L]   # a view: indices below are >= 0
                        if prod64:
                            w64 = np.int64(wv)
                            for i in range(L):
                                acc[i] += np.int64(xs[i]) * w64
                        else:
                            w32 = np.int32(wv)
                            for i in range(L):
                                acc[i] += np.int32(xs[i]) * w32
                # the columns beyond OW are sums of as many in-range terms: within the same bound, then dropped
                epilogue_row(acc, np.int64(bias[o]), np.int64(mult[o]), np.int64(shift[o]), out_zp, act_min, act_max,
                             mode, kind, bits, omode, y)
                for oh in range(OH):
                    for ow in range(OW):
                        out[n, o, oh, ow] = y[oh * Wq + ow]


def stride_phases(x, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    """The scratch (sh * sw, Hq, Wq) of :func:`depthwise_int`: every phase holds every position an (oh, ow) output
    reads from it and every padded input position (int16; int32 for q32 inputs)."""
    _, _, H, W = x.shape
    hq = max(oh + (kh - 1) * dh // sh, -(-(pt + H) // sh))
    wq = max(ow + (kw - 1) * dw // sw, -(-(pl + W) // sw))
    return np.empty((sh * sw, hq, wq), np.int32 if x.dtype.itemsize > 2 else np.int16)
