"""logistic: TFLite / TFLM int8 LOGISTIC (reference_integer_ops::Logistic, gemmlowp fixed point), elementwise.

int8 in, int8 out with zero point -128 (scale 1/256 by TFLite's convention): x = q - zp_in; x <= -radius gives
-128, x >= radius gives 127; otherwise the Q4.27 value requantize(x, input_multiplier, input_left_shift) goes
through gemmlowp's logistic and is rounded to 1/256 steps. The integers are TFLM's Prepare results
(:func:`logistic_params`), stored. Spec: docs/numerics.md 11.5.
"""
import math

import numpy as np
from numba import njit

from ..fixedpoint import logistic_q, rdbpot, requantize, ROUND_DOUBLE
from .base import Attr, Op, in_tensor, out_tensor, require

INPUT_INT_BITS = 4           # TFLM's kInputIntegerBits for int8


def logistic_params(s_in):
    """TFLM CalculateArithmeticOpDataLogistic for int8, in double: real = s_in * 2**27; (q, shift) = frexp(real);
    input_multiplier = round(q * 2**31) (no renormalisation: a q rounding to 2**31 is refused);
    input_range_radius = floor(15 * 2**27 / 2**shift)."""
    real = float(np.float32(s_in)) * float(1 << (31 - INPUT_INT_BITS))
    q, shift = math.frexp(real)
    m = int(math.floor(q * (1 << 31) + 0.5))
    if m >= 1 << 31:
        raise ValueError(f"input scale {s_in}: TFLM's multiplier rounds to 2**31 (it would overflow int32)")
    if not -31 <= shift <= 30:
        raise ValueError(f"input scale {s_in}: the left shift {shift} is outside [-31, 30]")
    radius = math.floor(1.0 * ((1 << INPUT_INT_BITS) - 1) * float(1 << (31 - INPUT_INT_BITS)) / 2.0 ** shift)
    return dict(input_multiplier=m, input_left_shift=shift, input_range_radius=int(min(radius, (1 << 31) - 1)))


@njit(cache=True, nogil=True, error_model="numpy")  # serial: the interpreter runs batch slices on threads
def logistic_int8(x, zp, mult, shift, radius, out):
    for i in range(x.shape[0]):
        v = np.int64(x[i]) - zp
        if v <= -radius:
            out[i] = -128
        elif v >= radius:
            out[i] = 127
        else:
            r = logistic_q(requantize(v, mult, shift, ROUND_DOUBLE), INPUT_INT_BITS)
            out[i] = min(max(rdbpot(r, 23) - 128, -128), 127)


class Logistic(Op):
    name = "logistic"
    formats = ("int8",)
    storage_floats = False
    attrs = {
        "input_multiplier": Attr("int", min=0, max=(1 << 31) - 1),
        "input_left_shift": Attr("int", min=-31, max=30),
        "input_range_radius": Attr("int", min=0, max=(1 << 31) - 1),
    }

    def check(self, node, model, in_specs, fmt):
        xout = out_tensor(model, node)
        require(xout.format == "int8" and int(xout.zero_point) == -128, node,
                f"the output must be int8 with zero point -128 (TFLM's), got {xout.describe()}")
        a = node.attrs
        ls = max(a["input_left_shift"], 0)
        require(min(255, a["input_range_radius"]) * (1 << ls) < (1 << 31), node,
                "input_range_radius with input_left_shift: the rescaled input could overflow int32")
        require(model.rounding == "double", node, "logistic follows TFLM's double-rounding build (rounding 'double')")

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def inplace_inputs(self, node, model):
        return (0,)

    def prepare(self, node, model, rounding):
        a = node.attrs
        i64 = np.int64
        return (i64(in_tensor(model, node).zero_point), i64(a["input_multiplier"]), i64(a["input_left_shift"]),
                i64(a["input_range_radius"]))

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty_like(x)
        logistic_int8(x.reshape(-1), *p, out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        from ..torchref import logistic_q as t_logistic, requantize as t_requantize, round_half_away_pow2
        a = node.attrs
        v = inputs[0].to(torch.int64) - int(in_tensor(model, node).zero_point)
        r = t_logistic(t_requantize(v, a["input_multiplier"], a["input_left_shift"], "double"), INPUT_INT_BITS)
        y = (round_half_away_pow2(r, 23) - 128).clamp(-128, 127)
        y = torch.where(v <= -a["input_range_radius"], torch.full_like(y, -128), y)
        return [torch.where(v >= a["input_range_radius"], torch.full_like(y, 127), y)]

    def c_call(self, node, model):
        """C: kws_logistic_s8 (c_runtime/kws_logistic.h), elementwise over the sample."""
        a = node.attrs
        xin = in_tensor(model, node)
        return "kws_logistic_s8", [("in", 0), ("out", 0)] + [("i32", int(v)) for v in (
            xin.size, xin.zero_point, a["input_multiplier"], a["input_left_shift"], a["input_range_radius"])]

    def summary(self, node):
        return ""


OPS = [Logistic()]
