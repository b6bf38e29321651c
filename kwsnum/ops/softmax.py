"""softmax: TFLite / TFLM int8 SOFTMAX (reference_ops::Softmax with gemmlowp fixed point), along one axis.

int8 in, int8 out with the fixed output quantization scale 1/256, zero point -128. Per row (the elements along
``axis``): d = q - max(row); rows elements with d < diff_min contribute nothing and give -128; the others
are rescaled by input_multiplier * 2**input_left_shift into Q5.26, exponentiated (exp_on_negative_values),
summed in Q12.19, and divided by the sum through TFLM's GetReciprocal. The integers input_multiplier,
input_left_shift and diff_min are TFLM's Prepare results (:func:`softmax_params`), stored. Spec:
docs/numerics.md 11.4.
"""
import math

import numpy as np
from numba import njit

from ..fixedpoint import srdhm, rdbpot, exp_on_negative_values, reciprocal_q12
from ..quant import quantize_multiplier
from .base import Attr, Op, in_tensor, out_tensor, require

OUT_SCALE, OUT_ZP = 1.0 / 256.0, -128
SCALED_DIFF_BITS = 5          # TFLM's kScaledDiffIntegerBits
MAX_DEPTH = 511               # keeps the Q12.19 sum below 2**28, where TFLM's output exponent stays <= 31


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
    formats = ("int8",)
    storage_floats = False
    attrs = {
        "axis": Attr("int", default=-1),
        "input_multiplier": Attr("int", min=1 << 30, max=(1 << 31) - 1),
        "input_left_shift": Attr("int", min=0, max=30),
        "diff_min": Attr("int", min=-(1 << 31), max=0),
    }

    def check(self, node, model, in_specs, fmt):
        shape = in_specs[0].shape
        a = node.attrs["axis"]
        require(-len(shape) <= a < len(shape), node, f"axis {a} is out of range for a rank-{len(shape)} input")
        depth = shape[a]
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

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        a = node.attrs
        outer, depth, inner, _ = _geometry(in_tensor(model, node).shape, a["axis"])
        i64 = np.int64
        return (i64(outer), i64(depth), i64(inner), i64(a["input_multiplier"]), i64(a["input_left_shift"]),
                i64(a["diff_min"]))

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty_like(x)
        softmax_int8(x.reshape(x.shape[0], -1), *p, out.reshape(x.shape[0], -1))
        return [out]

    def torch_ref(self, node, model, inputs):
        from ..torchref import softmax_int8 as t_softmax
        a = node.attrs
        return [t_softmax(inputs[0], a["axis"], a["input_multiplier"], a["input_left_shift"], a["diff_min"])]

    def c_call(self, node, model):
        """C: kws_softmax_s8 (c_runtime/kws_softmax.h) over one sample viewed as (outer, depth, inner)."""
        a = node.attrs
        outer, depth, inner, _ = _geometry(in_tensor(model, node).shape, a["axis"])
        return "kws_softmax_s8", [("in", 0), ("out", 0)] + [("i32", int(v)) for v in (
            outer, depth, inner, a["input_multiplier"], a["input_left_shift"], a["diff_min"])]

    def summary(self, node):
        return f"axis={node.attrs['axis']}"


OPS = [Softmax()]
