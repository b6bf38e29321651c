"""softmax: TFLite / TFLM SOFTMAX along one axis: int8 (reference_ops::Softmax with gemmlowp fixed point) and
int16 (reference_ops::SoftmaxInt16 with TFLM's exp and 1 / (1 + x) lookup tables).

int8 in, int8 out with the fixed output quantization scale 1/256, zero point -128. Per row (the elements along
``axis``): d = q - max(row); rows elements with d < diff_min contribute nothing and give -128; the others
are rescaled by input_multiplier * 2**input_left_shift into Q5.26, exponentiated (exp_on_negative_values),
summed in Q12.19, and divided by the sum through TFLM's GetReciprocal. The integers input_multiplier,
input_left_shift and diff_min are TFLM's Prepare results (:func:`softmax_params`), stored. Spec:
docs/numerics.md 11.4.

int16 in (zero point 0), int16 out with scale 1/32768, zero point 0: per row d = q - max(row) is rescaled by
(input_multiplier, input_left_shift) so that [-65535, 0] covers [-10, 0], recentred by +32767 and saturated to
int16, looked up in ``exp_lut`` (Q0.15); the sum's reciprocal is ``recip_lut`` looked up at the sum normalised
to [1, 2); each output is exp * reciprocal rounded back to Q0.15. The two 513-entry tables are TFLM's
LUTPopulate results in float32 (:func:`softmax_params16`, :mod:`kwsnum.ops.lut16`), stored. Spec:
docs/numerics.md 11.4.1.
"""
import math

import numpy as np
from .._numba import njit

from ..fixedpoint import srdhm, rdbpot, exp_on_negative_values, reciprocal_q12
from ..fixedpoint import requantize, ROUND_DOUBLE
from ..quant import quantize_multiplier
from .base import Arr, Attr, Op, in_tensor, out_tensor, require
from ..fixedpoint import lut_lookup16
from .lut16 import LUT16_SIZE, softmax_luts

OUT_SCALE, OUT_ZP = 1.0 / 256.0, -128
SCALED_DIFF_BITS = 5          # TFLM's kScaledDiffIntegerBits
MAX_DEPTH = 511               # keeps the Q12.19 sum below 2**28, where TFLM's output exponent stays <= 31
MAX_DEPTH16 = 65536           # int16: keeps the sum of Q0.15 exps below 2**31
MAX_SHIFT16 = 15              # int16: 65535 * 2**shift < 2**31 (TFLM's left shift would overflow past it)
OUT_SCALE16 = 1.0 / 32768.0


def softmax_params(beta, s_in):
    """TFLM CalculateSoftmaxParams for int8 (PreprocessSoftmaxScaling, CalculateInputRadius), in double:
    real = min(beta * s_in * 2**26, 2**31 - 1); (multiplier, left_shift) = QuantizeMultiplier(real), which must
    be > 1 (left_shift >= 0); diff_min = -floor(31 * 2**26 / 2**left_shift). ``beta`` and ``s_in`` as float32."""
    real = min(float(np.float32(beta)) * float(np.float32(s_in)) * float(1 << (31 - SCALED_DIFF_BITS)),
               float((1 << 31) - 1))
    if not real > 1.0:
        raise ValueError(f"beta * input scale * 2**26 = {real} must exceed 1 (TFLM's QuantizeMultiplierGreaterThanOne)")
    m, shift = quantize_multiplier(real)
    radius = math.floor(1.0 * ((1 << SCALED_DIFF_BITS) - 1) * float(1 << (31 - SCALED_DIFF_BITS)) / float(1 << shift))
    return dict(input_multiplier=m, input_left_shift=shift, diff_min=-int(radius))


def softmax_params16(beta, s_in):
    """TFLM CalculateSoftmaxParams for int16, in double: (input_multiplier, input_left_shift) = QuantizeMultiplier(
    s_in * beta / (10 / 65535)) (``beta`` and ``s_in`` as float32), and InitializeLutForInt16's two tables.
    Returns (attributes, arrays)."""
    real = float(np.float32(s_in)) * float(np.float32(beta)) / (10.0 / 65535.0)
    try:
        m, shift = quantize_multiplier(real)
    except ValueError:
        m, shift = 0, MAX_SHIFT16 + 1
    if shift > MAX_SHIFT16:
        raise ValueError(f"beta * input scale = {real * 10.0 / 65535.0}: the int16 rescale's left shift {shift} "
                         f"exceeds {MAX_SHIFT16} (TFLM's int32 shift of the difference would overflow)")
    if m == 0:
        raise ValueError(f"beta * input scale = {real * 10.0 / 65535.0} is too small: TFLM's multiplier is 0")
    exp_lut, recip_lut = softmax_luts()
    return dict(input_multiplier=m, input_left_shift=shift), dict(exp_lut=exp_lut, recip_lut=recip_lut)


@njit(cache=True, nogil=True, error_model="numpy")
def softmax_int16(x, outer, depth, inner, mult, shift, exp_lut, recip_lut, out):
    """x, out: (N, outer * depth * inner) int16, rows along the middle axis (TFLM SoftmaxInt16 per row)."""
    N = x.shape[0]
    for k in range(N * outer * inner):
        n = k // (outer * inner)
        j = k % (outer * inner)
        o, i = j // inner, j % inner
        base = o * depth * inner + i
        xr, yr = x[n], out[n]
        mx = np.int64(-32768)
        for c in range(depth):
            v = np.int64(xr[base + c * inner])
            if v > mx:
                mx = v
        total = np.int64(0)
        for c in range(depth):
            d = requantize(np.int64(xr[base + c * inner]) - mx, mult, shift, ROUND_DOUBLE) + np.int64(32767)
            e = lut_lookup16(min(max(d, np.int64(-32768)), np.int64(32767)), exp_lut)
            yr[base + c * inner] = e                     # TFLM keeps the exps in the output
            total += e
        hpo = np.int64(32)
        while hpo > 0 and (total >> (np.int64(32) - hpo)) != 0:
            hpo -= 1                                     # count leading zeros of the 32-bit sum
        shifted = ((total << (hpo - np.int64(1))) + np.int64(1 << 13)) >> np.int64(14)
        sym = min(max(shifted - np.int64((1 << 15) + (1 << 16)), np.int64(-32768)), np.int64(32767))
        recip = lut_lookup16(sym, recip_lut)
        rs = np.int64(31) - hpo
        for c in range(depth):
            r = (np.int64(yr[base + c * inner]) * recip + (np.int64(1) << (rs - np.int64(1)))) >> rs
            yr[base + c * inner] = min(max(r, np.int64(0)), np.int64(32767))


def torch_softmax_int16(x, axis, mult, shift, exp_lut, recip_lut):
    """TFLM int16 SOFTMAX (numerics 11.4.1) of a torch batch x (N, *shape) along the per-sample ``axis``."""
    import torch
    from ..torchref import requantize as t_requantize

    def lookup(v, lut):
        t = torch.as_tensor(np.asarray(lut, dtype=np.int64))
        idx = 256 + torch.div(v, 128, rounding_mode="floor")
        off = torch.remainder(v, 128)
        b = t[idx]
        slope = torch.remainder(t[idx + 1] - b + 32768, 65536) - 32768
        return torch.remainder(b + torch.div(slope * off + 64, 128, rounding_mode="floor") + 32768, 65536) - 32768

    ax = (axis % (x.ndim - 1)) + 1
    v = x.to(torch.int64).movedim(ax, -1)
    d = v - v.max(dim=-1, keepdim=True).values
    e = lookup((t_requantize(d, mult, shift, "double") + 32767).clamp(-32768, 32767), exp_lut)
    total = e.sum(dim=-1, keepdim=True)
    bits = sum((total >= (1 << k)).to(torch.int64) for k in range(32))              # bit length
    hpo = 32 - bits
    shifted = torch.div(total * torch.bitwise_left_shift(torch.ones_like(hpo), hpo - 1) + (1 << 13), 1 << 14,
                        rounding_mode="floor")
    recip = lookup((shifted - (1 << 15) - (1 << 16)).clamp(-32768, 32767), recip_lut)
    rs = 31 - hpo
    one = torch.ones_like(rs)
    y = torch.div(e * recip + torch.bitwise_left_shift(one, rs - 1), torch.bitwise_left_shift(one, rs),
                  rounding_mode="floor").clamp(0, 32767)
    return y.movedim(-1, ax).to(torch.int16)


@njit(cache=True)
def softmax_row(x, base, step, depth, mult, left_shift, diff_min, out):
    """One row x[base + c*step], c < depth, int8 -> out (same indices)."""
    mx = np.int64(-128)
    for c in range(depth):
        v = np.int64(x[base + c * step])
        if v > mx:
            mx = v
    total = np.int64(0)
    for c in range(depth):
        d = np.int64(x[base + c * step]) - mx
        if d >= diff_min:
            r = srdhm(d * (np.int64(1) << np.int64(left_shift)), mult)
            total += rdbpot(exp_on_negative_values(r, 5), 12)
    scale, nbou = reciprocal_q12(total)
    e = nbou + 23
    for c in range(depth):
        d = np.int64(x[base + c * step]) - mx
        y = np.int64(-128)
        if d >= diff_min:
            r = srdhm(d * (np.int64(1) << np.int64(left_shift)), mult)
            y = rdbpot(srdhm(scale, exp_on_negative_values(r, 5)), e) - 128
            y = min(max(y, np.int64(-128)), np.int64(127))
        out[base + c * step] = y


@njit(cache=True, nogil=True, error_model="numpy")  # serial: the interpreter runs batch slices on threads
def softmax_int8(x, outer, depth, inner, mult, left_shift, diff_min, out):
    """x, out: (N, outer * depth * inner) int8, rows along the middle axis."""
    N = x.shape[0]
    for k in range(N * outer * inner):
        n = k // (outer * inner)
        j = k % (outer * inner)
        o, i = j // inner, j % inner
        softmax_row(x[n], o * depth * inner + i, inner, depth, mult, left_shift, diff_min, out[n])


def _geometry(shape, axis):
    axis = axis % len(shape)
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    return outer, int(shape[axis]), inner, axis


class Softmax(Op):
    name = "softmax"
    formats = ("int8", "int16")
    storage_floats = False
    attrs = {
        "axis": Attr("int", default=-1),
        "input_multiplier": Attr("int", min=1 << 30, max=(1 << 31) - 1),
        "input_left_shift": Attr("int", min=-31, max=30),
        "diff_min": Attr("int", min=-(1 << 31), max=0, formats=("int8",)),
    }
    arrays = {"exp_lut": Arr(int16=np.int16), "recip_lut": Arr(int16=np.int16)}

    def check(self, node, model, in_specs, fmt):
        shape = in_specs[0].shape
        a = node.attrs["axis"]
        require(-len(shape) <= a < len(shape), node, f"axis {a} is out of range for a rank-{len(shape)} input")
        depth = shape[a]
        if fmt == "int16":
            self._check16(node, model, depth)
            return
        require(node.attrs["input_left_shift"] >= 0, node, "int8: input_left_shift must be >= 0")
        require(depth <= MAX_DEPTH, node, f"softmax over {depth} elements: at most {MAX_DEPTH} (TFLM's Q12.19 sum "
                                          f"and output exponent)")
        ls, dm = node.attrs["input_left_shift"], node.attrs["diff_min"]
        require(min(255, -dm) * (1 << ls) < (1 << 31), node,
                f"diff_min {dm} with input_left_shift {ls}: the rescaled difference could overflow int32")
        require(model.rounding == "double", node, "softmax follows TFLM's double-rounding build (rounding 'double')")
        xout = out_tensor(model, node)
        require(xout.format == "int8" and np.float32(xout.scale) == np.float32(OUT_SCALE) and
                int(xout.zero_point) == OUT_ZP, node,
                f"the output must be int8 with scale 1/256 and zero point -128 (TFLM's), got {xout.describe()}")

    def _check16(self, node, model, depth):
        a = node.attrs
        xin, xout = in_tensor(model, node), out_tensor(model, node)
        require(int(xin.zero_point) == 0, node, f"an int16 input has zero point 0 (TFLM's), got {xin.describe()}")
        require(xout.format == "int16" and np.float32(xout.scale) == np.float32(OUT_SCALE16) and
                int(xout.zero_point) == 0, node,
                f"the output must be int16 with scale 1/32768 and zero point 0 (TFLM's), got {xout.describe()}")
        require(depth <= MAX_DEPTH16, node, f"softmax over {depth} elements: at most {MAX_DEPTH16} (the int32 sum)")
        require(a["input_left_shift"] <= MAX_SHIFT16, node,
                f"int16: input_left_shift {a['input_left_shift']} exceeds {MAX_SHIFT16} (the shifted difference "
                f"would overflow int32)")
        require(model.rounding == "double", node, "softmax follows TFLM's double-rounding build (rounding 'double')")
        for k in ("exp_lut", "recip_lut"):
            t = node.arrays[k]
            require(t.shape == (LUT16_SIZE,) and int(t.min()) >= 0, node,
                    f"{k} must hold {LUT16_SIZE} entries in [0, 32767]")
        require(min(int(node.arrays["exp_lut"][511]), int(node.arrays["exp_lut"][512])) >= 1, node,
                "exp_lut must give exp(0) > 0 (its last two entries at least 1)")

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        a = node.attrs
        xin = in_tensor(model, node)
        outer, depth, inner, _ = _geometry(xin.shape, a["axis"])
        i64 = np.int64
        if xin.format == "int16":
            return ("int16", i64(outer), i64(depth), i64(inner), i64(a["input_multiplier"]),
                    i64(a["input_left_shift"]), np.ascontiguousarray(node.arrays["exp_lut"]),
                    np.ascontiguousarray(node.arrays["recip_lut"]))
        return ("int8", i64(outer), i64(depth), i64(inner), i64(a["input_multiplier"]), i64(a["input_left_shift"]),
                i64(a["diff_min"]))

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty_like(x)
        kernel = softmax_int16 if p[0] == "int16" else softmax_int8
        kernel(x.reshape(x.shape[0], -1), *p[1:], out.reshape(x.shape[0], -1))
        return [out]

    def torch_ref(self, node, model, inputs):
        from ..torchref import softmax_int8 as t_softmax
        a = node.attrs
        if in_tensor(model, node).format == "int16":
            return [torch_softmax_int16(inputs[0], a["axis"], a["input_multiplier"], a["input_left_shift"],
                                        node.arrays["exp_lut"], node.arrays["recip_lut"])]
        return [t_softmax(inputs[0], a["axis"], a["input_multiplier"], a["input_left_shift"], a["diff_min"])]

    def c_call(self, node, model):
        """C: kws_softmax_s8 / kws_softmax_s16 (c_runtime/kws_softmax.h) over one sample viewed as (outer, depth,
        inner)."""
        a = node.attrs
        xin = in_tensor(model, node)
        outer, depth, inner, _ = _geometry(xin.shape, a["axis"])
        if xin.format == "int16":
            return "kws_softmax_s16", [("in", 0), ("out", 0)] + [("i32", int(v)) for v in (
                outer, depth, inner, a["input_multiplier"], a["input_left_shift"])] + [
                ("array", "exp_lut"), ("array", "recip_lut")]
        return "kws_softmax_s8", [("in", 0), ("out", 0)] + [("i32", int(v)) for v in (
            outer, depth, inner, a["input_multiplier"], a["input_left_shift"], a["diff_min"])]

    def summary(self, node):
        return f"axis={node.attrs['axis']}"


OPS = [Softmax()]
