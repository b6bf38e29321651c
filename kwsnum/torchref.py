"""The PyTorch reference: the arithmetic of docs/numerics.md written again with torch ops.

It shares the spec with the oracle, not the code: integer tensors are torch int64 (or float64
holding exact integers below 2**53 for convolutions), rounding is written with torch's floor/trunc
division. ``run_reference`` is a thin loop, like the interpreter; op knowledge is in each op's
``torch_ref``.
"""
import numpy as np

from . import ops

INT32_MIN = -(1 << 31)
INT32_MAX = (1 << 31) - 1


def _torch():
    import torch
    return torch


def _bcast(v, x, axis):
    """Shape a per-channel vector v to broadcast against x along ``axis`` (int64)."""
    torch = _torch()
    v = torch.as_tensor(np.asarray(v), dtype=torch.int64)
    if v.ndim == 0 or v.numel() == 1:
        return v.reshape(())
    shape = [1] * x.ndim
    shape[axis] = -1
    return v.reshape(shape)


def round_half_away_pow2(x, e):
    """x / 2**e rounded half away from zero, e >= 0 (int64 tensors or ints)."""
    torch = _torch()
    e = torch.as_tensor(e, dtype=torch.int64)
    half = torch.where(e > 0, torch.bitwise_left_shift(torch.ones_like(e), (e - 1).clamp(min=0)),
                       torch.zeros_like(e))
    den = torch.bitwise_left_shift(torch.ones_like(e), e)
    mag = torch.div(x.abs() + half, den, rounding_mode="floor")
    return torch.where(x < 0, -mag, mag)


def round_half_away_div(x, d):
    """x / d rounded half away from zero, d > 0 (int64)."""
    torch = _torch()
    d = torch.as_tensor(d, dtype=torch.int64)
    mag = torch.div(2 * x.abs() + d, 2 * d, rounding_mode="floor")
    return torch.where(x < 0, -mag, mag)


def isqrt(v):
    """floor(sqrt(v)) of an int64 tensor, 0 <= v < 2**62: float64 sqrt, then corrected with exact int64
    comparisons (the float estimate is within 1 of the answer; two rounds of correction are done anyway)."""
    torch = _torch()
    v = v.to(torch.int64)
    s = torch.sqrt(v.to(torch.float64)).floor().to(torch.int64)
    for _ in range(2):
        s = torch.where(s * s > v, s - 1, s)
        s = torch.where((s + 1) * (s + 1) <= v, s + 1, s)
    return s


def requantize(acc, multiplier, shift, rounding, axis=1):
    """MultiplyByQuantizedMultiplier on an int64 tensor of int32 values; per-channel along ``axis``."""
    torch = _torch()
    acc = acc.to(torch.int64)
    m = _bcast(multiplier, acc, axis)
    s = _bcast(shift, acc, axis)
    if rounding == "single":
        total = 31 - s
        num = acc * m + torch.bitwise_left_shift(torch.ones_like(total), total - 1)
        r = torch.div(num, torch.bitwise_left_shift(torch.ones_like(total), total), rounding_mode="floor")
        return r.clamp(INT32_MIN, INT32_MAX)
    left = s.clamp(min=0)
    right = (-s).clamp(min=0)
    x = (acc * torch.bitwise_left_shift(torch.ones_like(left), left)).clamp(INT32_MIN, INT32_MAX)
    prod = x * m
    nudge = torch.where(prod >= 0, torch.tensor(1 << 30), torch.tensor(1 - (1 << 30)))
    high = torch.div(prod + nudge, 1 << 31, rounding_mode="trunc")
    high = torch.where((x == INT32_MIN) & (m == INT32_MIN), torch.tensor(INT32_MAX), high)
    return round_half_away_pow2(high, right)


def _round_up(mode, tie, above, neg, odd, inexact):
    """The Q rounding decision of docs/numerics.md 8 / 10.2 by mode NAME (boolean tensors in, boolean out)."""
    if mode == "TRN":
        return torch_false_like(tie)
    return {"TRN_ZERO": lambda: inexact & neg, "RND": lambda: above | tie, "RND_ZERO": lambda: above | (tie & neg),
            "RND_INF": lambda: above | (tie & ~neg), "RND_MIN_INF": lambda: above,
            "RND_CONV": lambda: above | (tie & odd)}[mode]()


def torch_false_like(t):
    return _torch().zeros_like(t, dtype=_torch().bool)


def div_round(x, d, mode):
    """x / d (int64 tensors, d >= 1, broadcastable) rounded by the Q rounding mode named ``mode``."""
    torch = _torch()
    d = torch.as_tensor(d, dtype=torch.int64)
    q = torch.div(x, d, rounding_mode="floor")
    r = x - q * d
    up = _round_up(mode, 2 * r == d, 2 * r > d, x < 0, torch.remainder(q, 2) == 1, r != 0)
    return q + up.to(torch.int64)


def overflow(x, bits, mode):
    """int64 tensor x to a ``bits``-bit signed integer by the overflow mode named ``mode`` (section 8)."""
    torch = _torch()
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if mode == "WRAP":
        return torch.remainder(x - lo, 1 << bits) + lo
    if mode == "SAT":
        return x.clamp(lo, hi)
    if mode == "SAT_SYM":
        return x.clamp(-hi, hi)
    return torch.where((x < lo) | (x > hi), torch.zeros_like(x), x)


def qcast(x, shift, rmode, bits, omode):
    """overflow(x * 2**-shift rounded by rmode, bits, omode) of int64 tensors; ``shift`` broadcastable, in
    [-62, 62]. A left shift is exact where it fits int64, saturated beyond (SAT modes: the container saturates
    anyway) or taken mod 2**64 (WRAP: a wrap to bits <= 63 only reads the low bits)."""
    torch = _torch()
    shift = torch.as_tensor(shift, dtype=torch.int64).expand_as(x)
    k = shift.clamp(min=0)
    right = div_round(x, torch.bitwise_left_shift(torch.ones_like(k), k), rmode)
    kl = (-shift).clamp(min=0)
    if omode == "WRAP":
        left = x * torch.bitwise_left_shift(torch.ones_like(kl), kl)        # mod 2**64
    else:
        limit = torch.bitwise_right_shift(torch.full_like(kl, (1 << 63) - 1), kl)
        big = (1 << 62)
        left = torch.where(x > limit, torch.full_like(x, big), torch.where(x < -limit, torch.full_like(x, -big),
                           x * torch.bitwise_left_shift(torch.ones_like(kl), kl)))
    return overflow(torch.where(shift >= 0, right, left), bits, omode)


def round_float(t, mode):
    """float32 tensor t to integer-valued float32 by the Q rounding mode named ``mode`` (docs/numerics.md 10.2)."""
    torch = _torch()
    t = t.to(torch.float32)
    fl = torch.floor(t)
    h = fl + 0.5
    odd = torch.remainder(fl, 2) == 1
    up = _round_up(mode, t == h, t > h, t < 0, odd, t != fl)
    r = fl + up.to(torch.float32)
    return torch.where(t.abs() < 2.0 ** 23, r, t)


def quantize_q(x, frac_bits, rmode, bits, omode):
    """float32 tensor to Q values (int64 tensor): t = x * 2**n in float32, NaN -> 0, round_float, clamp to
    +-2**62, overflow (docs/numerics.md 10.3 quantize)."""
    torch = _torch()
    t = x.to(torch.float32) * torch.tensor(2.0 ** frac_bits, dtype=torch.float32)
    r = round_float(torch.nan_to_num(t, nan=0.0, posinf=float("inf"), neginf=float("-inf")), rmode)
    r = r.clamp(-(2.0 ** 62), 2.0 ** 62)
    return overflow(r.to(torch.int64), bits, omode)


def widen(x, fmt):
    """Stored values of a float16 / bfloat16 tensor (bit patterns in an int64 tensor) as float32, with torch's
    own 16-bit float types (independent of kwsnum.float16). Other formats unchanged."""
    torch = _torch()
    if fmt not in ("float16", "bfloat16"):
        return x
    x = x.to(torch.int64)
    signed = torch.where(x >= 32768, x - 65536, x).to(torch.int16)
    return signed.view(torch.float16 if fmt == "float16" else torch.bfloat16).to(torch.float32)


def narrow(x, fmt):
    """float32 values rounded to float16 / bfloat16 by torch, as bit patterns in an int64 tensor."""
    torch = _torch()
    if fmt not in ("float16", "bfloat16"):
        return x
    h = x.to(torch.float32).to(torch.float16 if fmt == "float16" else torch.bfloat16)
    return h.view(torch.int16).to(torch.int64) & 0xFFFF


def to_torch(a):
    torch = _torch()
    a = np.asarray(a)
    if a.dtype.kind in "iu":
        return torch.as_tensor(a.astype(np.int64))
    return torch.as_tensor(a)


def run_reference(model, x, trace=False, feed=None, state=None):
    """Run the torch reference of ``model`` on a batch; same return convention as ``Model.run``.

    ``feed``: a trace of another implementation (``{tensor: array}``, e.g. ``model.run(x, trace=True)``); each
    node then takes its inputs from it instead of from the reference's own previous outputs, so every op is
    checked on identical inputs (needed where a float region feeds an integer one: a float difference within
    the tolerance may round to a different integer downstream)."""
    torch = _torch()
    x = model.check_input(x)
    xs = x if len(model.inputs) > 1 else (x,)
    values = {t: to_torch(xi) for t, xi in zip(model.inputs, xs)}
    with torch.no_grad():
        for node in model.nodes:
            op = ops.get(node.op, node)
            ins = [values[t] for t in node.inputs] if feed is None else [to_torch(feed[t]) for t in node.inputs]
            if state is not None and op.stateful:      # a stream's step (kwsnum/streaming.py): state updated
                outs = op.torch_step(node, model, ins, state)
            else:
                outs = op.reference(node, model, ins)
            for t, o in zip(node.outputs, outs):
                spec = model.tensors[t]
                o = o.detach().cpu().numpy()
                if spec.format == "int8":
                    assert o.dtype.kind in "iu" and o.min(initial=0) >= -128 and o.max(initial=0) <= 127, node.where
                values[t] = to_torch(o)
    out = {t: v.numpy().astype(model.tensors[t].dtype) for t, v in values.items()}
    return out if trace else out[model.outputs[0]]


# ------------------------------------------------------------------ gemmlowp fixed point (numerics 11.4), torch
def srdhm(a, b):
    """SaturatingRoundingDoublingHighMul on int64 tensors holding int32 values: trunc((a*b + nudge) / 2**31)."""
    torch = _torch()
    prod = a * b
    nudge = torch.where(prod >= 0, torch.tensor(1 << 30), torch.tensor(1 - (1 << 30)))
    high = torch.div(prod + nudge, 1 << 31, rounding_mode="trunc")
    return torch.where((a == INT32_MIN) & (b == INT32_MIN), torch.tensor(INT32_MAX), high)


def sat_mul_pot(x, e):
    """x * 2**e saturated to int32 (gemmlowp SaturatingRoundingMultiplyByPOT for e > 0)."""
    return (x * (1 << e)).clamp(INT32_MIN, INT32_MAX)


def exp_on_negative_values(a, int_bits):
    """Q(int_bits) raw a <= 0 -> Q0.31 exp(a) (gemmlowp), elementwise on int64 tensors."""
    torch = _torch()
    frac = 31 - int_bits
    quarter = 1 << (frac - 2)
    a_mod = torch.bitwise_and(a, quarter - 1) - quarter
    x = (sat_mul_pot(a_mod, int_bits) if int_bits else a_mod) + (1 << 28)        # Q0.31 in [-1/4, 0), + 1/8
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    t = round_half_away_pow2(srdhm(round_half_away_pow2(x4, 2) + x3, torch.tensor(715827883)) + x2, 1)
    c = torch.tensor(1895147668)
    result = c + srdhm(c, x + t)
    rem = a_mod - a
    for k, m in ((-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401),
                 (4, 242)):
        if int_bits > k:
            bit = torch.bitwise_and(rem, 1 << (frac + k)) != 0
            result = torch.where(bit, srdhm(result, torch.tensor(m)), result)
    if int_bits > 5:
        result = torch.where(a < -(1 << (36 - int_bits)), torch.zeros_like(result), result)
    return torch.where(a == 0, torch.tensor(INT32_MAX), result)


def one_over_one_plus_x(a):
    """Q0.31 a in [0, 1) -> Q0.31 1 / (1 + a) (gemmlowp's Newton-Raphson in Q2.29)."""
    torch = _torch()
    s = a + INT32_MAX
    d = torch.where(s >= 0, torch.div(s + 1, 2, rounding_mode="floor"), -torch.div(1 - s, 2, rounding_mode="floor"))
    x = 1515870810 + srdhm(d, torch.tensor(-1010580540))
    for _ in range(3):
        x = x + sat_mul_pot(srdhm(x, (1 << 29) - srdhm(d, x)), 2)
    return sat_mul_pot(x, 1)


def softmax_int8(x, axis, multiplier, left_shift, diff_min):
    """TFLM int8 SOFTMAX (numerics 11.4) of a batch x (N, *shape) along the per-sample ``axis``."""
    torch = _torch()
    ax = (axis % (x.ndim - 1)) + 1
    v = x.to(torch.int64).movedim(ax, -1)
    d = v - v.max(dim=-1, keepdim=True).values
    use = d >= diff_min
    r = srdhm(torch.where(use, d, torch.zeros_like(d)) * (1 << left_shift), torch.tensor(multiplier))
    e = exp_on_negative_values(r, 5)
    total = torch.where(use, round_half_away_pow2(e, 12), torch.zeros_like(e)).sum(dim=-1, keepdim=True)
    bits = sum((total >= (1 << k)).to(torch.int64) for k in range(32))              # bit length
    hpo = 32 - bits
    nbou = 12 - hpo
    scale = one_over_one_plus_x(total * torch.bitwise_left_shift(torch.ones_like(hpo), hpo) - (1 << 31))
    y = round_half_away_pow2(srdhm(scale, e), nbou + 23) - 128
    y = torch.where(use, y.clamp(-128, 127), torch.full_like(y, -128))
    return y.movedim(-1, ax).to(torch.int8)


def logistic_q(a, int_bits):
    """gemmlowp logistic on int64 tensors of raw int32 values with int_bits integer bits -> Q0.31."""
    torch = _torch()
    r = one_over_one_plus_x(exp_on_negative_values(-a.abs(), int_bits))
    r = torch.where(a > 0, r, INT32_MAX - r)
    return torch.where(a == 0, torch.tensor(1 << 30), r)


def one_minus_x_over_one_plus_x(a):
    """Q0.31 a in [0, 1) -> Q0.31 (1 - a) / (1 + a) (gemmlowp)."""
    torch = _torch()
    s = a + INT32_MAX
    d = torch.where(s >= 0, torch.div(s + 1, 2, rounding_mode="floor"), -torch.div(1 - s, 2, rounding_mode="floor"))
    x = 1515870810 + srdhm(d, torch.tensor(-1010580540))
    for _ in range(3):
        x = x + sat_mul_pot(srdhm(x, (1 << 29) - srdhm(d, x)), 2)
    return sat_mul_pot(x - (1 << 29), 2)


def tanh_q(a, int_bits):
    """gemmlowp tanh on int64 tensors of raw int32 values with int_bits integer bits -> Q0.31."""
    torch = _torch()
    t = one_minus_x_over_one_plus_x(exp_on_negative_values(-a.abs(), int_bits + 1))
    t = torch.where(a > 0, t, -t)
    return torch.where(a == 0, torch.zeros_like(t), t)
