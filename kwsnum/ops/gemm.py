"""The exact fast paths of the integer weighted sums (conv, linear): docs/numerics.md 3.6.

An integer accumulator ``bias + sum x * w`` has the same value whichever order its terms are added in, so the
oracle may compute ``sum x * w`` by any method that is exact. Two are used here, chosen once per node at plan time
from the weights and the whole input range (never from the data):

- ``gemm``: im2col (conv) and one BLAS matrix product per sample (numpy ``matmul``) in float32 when the bound below
  is under 2**24, else in float64 when it is under 2**53. Every product and every partial sum, in whatever order and
  grouping BLAS adds them (FMA included), is an integer of magnitude at most that bound, hence exactly representable,
  so every float operation is exact and the float result is the integer sum. The bias is added afterwards in int64.
- ``depthwise_float``: a numba kernel for convolutions with one input channel per group, in float32 / float64 under
  the same bounds: each input plane staged once, zero-padded and split by stride phase, in a scratch buffer (no
  bounds tests), so that every tap is one long contiguous inner loop; the taps added three per pass.
- ``depthwise``: the same staging with integer accumulators as the loop kernels (beyond 2**53: q32 only).

The epilogue of the gemm and depthwise_float paths runs in float64 where every product it rounds stays below
2**53 (:func:`f64_epilogue_ok`, kwsnum.fixedpoint.requantize_f64_row), else in integers (:func:`int_epilogue`).

    bound = max over output channels o of  xmax * sum |w[o]|
    xmax  = max |x| over the input range: int8 max(127 - zp_in, zp_in + 128) (x is q - zp_in), int16 32768,
            q8 / q16 / q32 2**(bits - 1)

Outside the bounds (and for float formats, whose operation order is part of the spec) the ops keep their loop
kernels. :func:`choose` names the path; :func:`forced` lets tests run every path on the same inputs.
"""
import contextlib

import numpy as np
from .._numba import njit

from .. import backend
from ..fixedpoint import requantize, clamp, mbqm_int64, qcast
from ..fixedpoint import (F64_EXACT, reduced_multiplier, requantize_f64_consts, requantize_f64_row,  # noqa: F401
                          requantize_f64_v)

F32_EXACT = 1 << 24     # float32 holds every integer of magnitude <= 2**24; the bound must stay below

PATHS = ("loops", "gemm", "depthwise", "depthwise_float")
EPILOGUES = ("int", "f64")
_forced = []


@contextlib.contextmanager
def forced(path=None, dtype=None, epilogue=None):
    """Plan every conv / linear node created inside on ``path`` ("loops", "gemm", "depthwise" or "depthwise_float";
    None: the node's own choice; where a path does not apply to a node, e.g. depthwise for a dense conv, the node
    keeps its own choice) with the float sums in ``dtype`` ("float32" / "float64"; default: the exact one) and the
    epilogue of the gemm / depthwise_float paths ``epilogue`` ("int" / "f64"; default: f64 where exact). For
    tests: a forced float32 beyond its bound is inexact, and so is a forced f64 epilogue beyond its own."""
    if path is not None and path not in PATHS:
        raise ValueError(f"unknown path {path!r} (known: {', '.join(PATHS)})")
    if epilogue is not None and epilogue not in EPILOGUES:
        raise ValueError(f"unknown epilogue {epilogue!r} (known: {', '.join(EPILOGUES)})")
    _forced.append((path, dtype, epilogue))
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
    """(path, dtype) of an integer conv / linear node: gemm where ``dense`` (groups == 1) and the bound allows;
    where ``depthwise`` (one input channel per group), depthwise_float where the bound allows, else depthwise;
    else loops. dtype: the float type of the sums (gemm, depthwise_float)."""
    dtype = exact_dtype(weighted_sum_bound(weight, input_abs_max(fmt, zero_point)))
    fast = dtype is not None
    path = "gemm" if dense and fast else ("depthwise_float" if depthwise and fast else
                                         "depthwise" if depthwise else "loops")
    if _forced:
        want, want_dtype, _ = _forced[-1]
        if want == "loops" or (want == "gemm" and dense) or (want in ("depthwise", "depthwise_float") and depthwise):
            path = want
        if want_dtype is not None:
            dtype = np.dtype(want_dtype).type
        if path in ("gemm", "depthwise_float") and dtype is None:
            path = "depthwise" if depthwise else "loops"
    return path, dtype


def choose_epilogue(kind, mode, weight, bias, mult, shift, xmax):
    """"f64" where :func:`f64_epilogue_ok` holds (or forced), else "int": the epilogue of the gemm (conv, linear)
    and depthwise_float paths."""
    ok = f64_epilogue_ok(kind, mode, weight, bias, mult, shift, xmax)
    if _forced and _forced[-1][2] is not None and kind in (KIND_INT8, KIND_INT16):
        return _forced[-1][2]
    return "f64" if ok else "int"


def epilogue(p, acc, out, onp=False):
    """out (N, O, P) from the exact sums acc, (O, N, P) when ``onp`` else (N, O, P), by the node's epilogue (p: the
    conv's / linear's prepare() dict, with "consts" where the epilogue is f64). The f64 epilogue takes its vector
    form in a job of vector kernels (kwsnum/backend.py)."""
    if p["epilogue"] == "f64":
        kernel = epilogue_f64_v if backend.vector() else epilogue_f64
        kernel(acc, onp, p["bias"], p["consts"], p["out_zp"], p["act"][0], p["act"][1],
               p["kind"] == KIND_INT8 and p["mode"] == 0, out)
    else:
        gemm_epilogue(acc, onp, p["bias"], p["mult"], p["shift"], p["out_zp"], p["act"][0], p["act"][1], p["mode"],
                      p["kind"], p["bits"], p["omode"], out)


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
def gemm_epilogue(acc, onp, bias, mult, shift, out_zp, act_min, act_max, mode, kind, bits, omode, out):
    """out[n, o, p] = int_epilogue(bias[o] + acc): acc holds exact integer sums (float32 / float64), acc[o, n, p]
    when ``onp`` (the batched GEMM's layout), else acc[n, o, p]."""
    N, O, P = out.shape
    for n in range(N):
        for o in range(O):
            epilogue_row(acc[o, n] if onp else acc[n, o], np.int64(bias[o]), np.int64(mult[o]), np.int64(shift[o]),
                         out_zp, act_min, act_max, mode, kind, bits, omode, out[n, o])


# ------------------------------------------------------------------ the epilogue in float64 (docs/numerics.md 3.6)
def f64_epilogue_ok(kind, mode, weight, bias, mult, shift, xmax):
    """Whether :func:`epilogue_f64` is exact for this node: per output channel o, with X = xmax * sum |w[o]| +
    |bias[o]| (a bound on |bias + sum x * w|), the product t that the requantization rounds stays below 2**53:
    int8 double rounding X * 2**max(shift, 0) * M < 2**53, single rounding X * M < 2**53, int16 X * reduced(M) <
    2**53. Python integers: exact."""
    if kind not in (KIND_INT8, KIND_INT16) or mult is None:
        return False
    O = weight.shape[0]
    sw = np.abs(weight.astype(np.int64)).reshape(O, -1).sum(axis=1)
    for o in range(O):
        X = int(sw[o]) * int(xmax) + abs(int(bias[o]))
        m, s = int(mult[o]), int(shift[o])
        if m < 0:
            return False
        if kind == KIND_INT16:
            m = reduced_multiplier(m)
        elif mode == 0:
            m <<= max(s, 0)
        if X * m >= F64_EXACT:
            return False
    return True


def f64_epilogue_consts(kind, mode, mult, shift):
    """The per-channel constants of :func:`epilogue_f64` (kwsnum.fixedpoint.requantize_f64_consts) for a node of
    kind int8 / int16."""
    return requantize_f64_consts(kind == KIND_INT16, mode, mult, shift)


@njit(cache=True, nogil=True)
def epilogue_f64(acc, onp, bias, consts, out_zp, act_min, act_max, double, out):
    """out[n, o, p] = int_epilogue(bias[o] + acc) by kwsnum.fixedpoint.requantize_f64_row (int8 / int16 kinds);
    acc is acc[o, n, p] when ``onp`` (the batched GEMM's layout), else acc[n, o, p]."""
    N, O, P = out.shape
    zp, lo, hi = np.float64(out_zp), np.float64(act_min), np.float64(act_max)
    for n in range(N):
        for o in range(O):
            a = acc[o, n] if onp else acc[n, o]
            c = consts[o]
            requantize_f64_row(a, np.float64(bias[o]), c[0], c[1], c[2], c[3], zp, lo, hi, double, out[n, o])


VECTOR_BLOCK = 16384     # elements per block of the vector float64 epilogue (128 KiB of float64 a buffer: in cache)


def epilogue_f64_v(acc, onp, bias, consts, out_zp, act_min, act_max, double, out):
    """:func:`epilogue_f64` on whole arrays (docs/numerics.md 3.7) by kwsnum.fixedpoint.requantize_f64_v, a block of
    about VECTOR_BLOCK elements at a time (several whole samples, or a range of channels of one sample) in reused
    buffers: they stay in cache, and no temporary is allocated."""
    a = acc.transpose(1, 0, 2) if onp else acc                           # (N, O, P)
    N, O, P = out.shape
    bias = bias.astype(np.float64)
    c = [consts[:, i] for i in range(4)]
    zp, lo, hi = np.float64(out_zp), np.float64(act_min), np.float64(act_max)
    if O * P <= VECTOR_BLOCK:                                            # blocks of whole samples
        ns = max(1, min(N, VECTOR_BLOCK // max(O * P, 1)))
        bufs = [np.empty((ns, O, P)) for _ in range(3)] + [np.empty((ns, O, P), np.bool_)]
        b, cb = bias[None, :, None], [ci[None, :, None] for ci in c]
        for n0 in range(0, N, ns):
            k = min(N, n0 + ns) - n0
            requantize_f64_v(a[n0:n0 + k], b, cb, zp, lo, hi, double, out[n0:n0 + k], [u[:k] for u in bufs])
    else:                                                                # blocks of channels of one sample
        rows = max(1, VECTOR_BLOCK // max(P, 1))
        bufs = [np.empty((rows, P)) for _ in range(3)] + [np.empty((rows, P), np.bool_)]
        for n in range(N):
            for o0 in range(0, O, rows):
                o1 = min(O, o0 + rows)
                requantize_f64_v(a[n, o0:o1], bias[o0:o1, None], [ci[o0:o1, None] for ci in c], zp, lo, hi, double,
                                 out[n, o0:o1], [u[:o1 - o0] for u in bufs])


def depthwise_float_v(x, in_off, wf, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, dtype):
    """The sums of :func:`depthwise_float` on whole arrays (docs/numerics.md 3.7), as an (N, O, OH * OW) array of
    ``dtype``: the zero-padded window view of x + in_off (:func:`im2col`), one multiply-add over the batch per tap.
    Exact for the same reason (every product and partial sum is an integer of magnitude <= the bound)."""
    N, C = x.shape[:2]
    O = wf.shape[0]
    og = O // C
    win = im2col(as_float(x, in_off, dtype), KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, split=True)
    w = wf.reshape(C, og, KH, KW)
    acc = np.zeros((N, C, og, OH, OW), dtype)
    for kh in range(KH):
        for kw in range(KW):
            acc += win[:, :, None, kh, kw] * w[None, :, :, kh, kw, None, None]
    return acc.reshape(N, O, OH * OW)


def as_float(x, offset, dtype):
    """x + offset in the GEMM's float type (exact: |x + offset| <= xmax <= the bound)."""
    return np.add(x, dtype(offset), dtype=dtype)      # one pass: convert and add


def matmul_exact(wf, cols):
    """(O, K) @ (N, K, P) -> (N, O, P), or (N, F) @ (F, O) for linear: numpy's BLAS, exact within the bound."""
    return np.matmul(wf, cols)


def im2col_batched(x, offset, dtype, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    """(N, C, H, W) integers -> (C * KH * KW, N * OH * OW) columns of x + offset in the GEMM's float type, the
    whole batch side by side (one matrix product for the batch: small per-sample products waste BLAS's time):
    column n * OH * OW + p is sample n's output position p, rows as :func:`im2col`. A 1x1 convolution reading its
    whole input is one converting, transposing copy."""
    N, C, H, W = x.shape
    if kh == kw == sh == sw == 1 and not pt and not pl and oh == H and ow == W:
        xt = np.empty((C, N, H, W), dtype)
        np.add(x.transpose(1, 0, 2, 3), dtype(offset), out=xt)
        return xt.reshape(C, N * H * W)
    win = im2col(as_float(x, offset, dtype), kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, split=True)
    return np.ascontiguousarray(win.transpose(1, 2, 3, 0, 4, 5)).reshape(C * kh * kw, N * oh * ow)


def im2col(xf, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, split=False):
    """(N, C, H, W) -> (N, C * KH * KW, OH * OW) columns of the zero-padded input (row order c, kh, kw: the
    weight's). Padded taps are 0 (for int8 x is q - zp_in, and padding is the real value 0). ``split``: the
    (N, C, KH, KW, OH, OW) window view instead."""
    N, C, H, W = xf.shape
    hn = (oh - 1) * sh + (kh - 1) * dh + 1          # rows / columns the output reads
    wn = (ow - 1) * sw + (kw - 1) * dw + 1
    if pt or pl or hn > H or wn > W:
        xp = np.zeros((N, C, max(hn, pt + H), max(wn, pl + W)), xf.dtype)
        xp[:, :, pt:pt + H, pl:pl + W] = xf
    else:
        xp = xf
    if kh == kw == sh == sw == 1 and hn == xp.shape[2] and wn == xp.shape[3] and not split:
        return xp.reshape(N, C, hn * wn)
    s = xp.strides
    win = np.lib.stride_tricks.as_strided(
        xp, (N, C, kh, kw, oh, ow), (s[0], s[1], s[2] * dh, s[3] * dw, s[2] * sh, s[3] * sw), writeable=False)
    return win if split else win.reshape(N, C * kh * kw, oh * ow)


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


@njit(cache=True, nogil=True, error_model="numpy")   # sh, sw >= 1: no division checks
def depthwise_float(x, in_off, wf, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, Hq, Wq, phases, acc):
    """The sums of products of a convolution with one input channel per group (groups = C, O = C * og), in a float
    type that holds every partial sum exactly (docs/numerics.md 3.6): acc[n, o, oh * OW + ow] = sum over taps of
    (x[n, o // og, oh * sh - pt + kh * dh, ow * sw - pl + kw * dw] + in_off) * wf[o, kh * KW + kw] (0 outside).

    As :func:`depthwise_int`, each input plane is staged once in ``phases`` (float, :func:`float_phases`),
    zero-padded and split by stride phase (sh * sw phases of Hq x Wq, one after the other): padded position (r, c)
    at phase (r % sh) * sw + c % sw, element (r // sh, c // sw); every tap is then a shifted copy of one flattened
    phase over the output rows at width Wq. Here the taps are added three at a time in one pass over the row
    (row += xa * wa + xb * wb + xc * wc, the weights in registers): a third of the row's loads and stores, in 8-lane
    float vectors. Every product and partial sum is an integer of magnitude <= the bound, exactly representable in
    the float type, so neither the order nor the grouping of the additions changes the sum. The row is computed
    over a length rounded up to whole vectors (the scratch has room): the columns beyond OW and the rows' tails are
    sums of in-range products too (within the bound), never read."""
    N, C, H, W = x.shape
    O = wf.shape[0]
    og = O // C
    T = KH * KW
    PQ = Hq * Wq
    L = (OH - 1) * Wq + OW
    Lv = -(-L // 32) * 32                            # whole vectors (8 lanes, unrolled 4 times)
    toff = np.empty(T, np.intp)                      # tap t: its offset in phases
    for kh in range(KH):
        for kw in range(KW):
            a, b = kh * dh, kw * dw
            toff[kh * KW + kw] = ((a % sh) * sw + b % sw) * PQ + (a // sh) * Wq + b // sw
    pos = np.empty(H * W, np.intp)                   # input (h, j): its place in phases
    for h in range(H):
        r = pt + h
        for j in range(W):
            c = pl + j
            pos[h * W + j] = ((r % sh) * sw + c % sw) * PQ + (r // sh) * Wq + c // sw
    row = np.empty(Lv, dtype=phases.dtype)
    phases[:] = 0
    xf = x.reshape(N, C, H * W)
    for n in range(N):
        for c in range(C):
            xc = xf[n, c]
            for k in range(H * W):
                phases[np.uintp(pos[k])] = xc[k] + in_off
            for o in range(c * og, (c + 1) * og):
                ws = wf[o]
                row[:] = 0
                t = 0
                while t < T:
                    xa = phases[toff[t]:toff[t] + Lv]          # views: the indices below are >= 0
                    wa = ws[t]
                    if t + 3 <= T:
                        xb = phases[toff[t + 1]:toff[t + 1] + Lv]
                        xc = phases[toff[t + 2]:toff[t + 2] + Lv]
                        wb, wc = ws[t + 1], ws[t + 2]
                        for i in range(Lv):
                            row[i] += xa[i] * wa + xb[i] * wb + xc[i] * wc
                        t += 3
                    elif t + 2 <= T:
                        xb = phases[toff[t + 1]:toff[t + 1] + Lv]
                        wb = ws[t + 1]
                        for i in range(Lv):
                            row[i] += xa[i] * wa + xb[i] * wb
                        t += 2
                    else:
                        for i in range(Lv):
                            row[i] += xa[i] * wa
                        t += 1
                ao = acc[n, o]
                for oh in range(OH):
                    for ow in range(OW):
                        ao[np.uintp(oh * OW + ow)] = row[np.uintp(oh * Wq + ow)]


def float_phases(x, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow, dtype):
    """(Hq, Wq, scratch) of :func:`depthwise_float`: sh * sw phases of Hq x Wq (as :func:`stride_phases`), flat, in
    the float type, with room for the rows read past their end (whole vectors)."""
    _, _, H, W = x.shape
    hq = max(oh + (kh - 1) * dh // sh, -(-(pt + H) // sh))
    wq = max(ow + (kw - 1) * dw // sw, -(-(pl + W) // sw))
    return hq, wq, np.empty(sh * sw * hq * wq + 32, dtype)


def stride_phases(x, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow):
    """The scratch (sh * sw, Hq, Wq) of :func:`depthwise_int`: every phase holds every position an (oh, ow) output
    reads from it and every padded input position (int16; int32 for q32 inputs)."""
    _, _, H, W = x.shape
    hq = max(oh + (kh - 1) * dh // sh, -(-(pt + H) // sh))
    wq = max(ow + (kw - 1) * dw // sw, -(-(pl + W) // sw))
    return np.empty((sh * sw, hq, wq), np.int32 if x.dtype.itemsize > 2 else np.int16)
