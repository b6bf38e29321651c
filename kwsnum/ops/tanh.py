"""tanh: TFLite / TFLM int8 TANH (reference_integer_ops::Tanh, gemmlowp fixed point), elementwise.

int8 in, int8 out with zero point 0 (scale 1/128 by TFLite's convention): x = q - zp_in; -128 for
x <= -radius, 127 for x >= radius; otherwise gemmlowp's tanh of the Q4.27 requantize(x, multiplier, shift),
rounded to 1/128 steps. The integers are TFLM's Prepare results, derived as LOGISTIC's
(:func:`kwsnum.ops.logistic.logistic_params`). Spec: docs/numerics.md 11.9.
"""
import numpy as np
from numba import njit

from ..fixedpoint import tanh_q, rdbpot, requantize, ROUND_DOUBLE
from .base import Attr, Op, in_tensor, out_tensor, require
from .logistic import INPUT_INT_BITS, logistic_params as tanh_params   # noqa: F401  (the same derivation)


@njit(cache=True, nogil=True, error_model="numpy")  # serial: the interpreter runs batch slices on threads
def tanh_int8(x, zp, mult, shift, radius, out):
    for i in range(x.shape[0]):
        v = np.int64(x[i]) - zp
        if v <= -radius:
            out[i] = -128
        elif v >= radius:
            out[i] = 127
        else:
            r = tanh_q(requantize(v, mult, shift, ROUND_DOUBLE), INPUT_INT_BITS)
            out[i] = min(max(rdbpot(r, 24), -128), 127)


class Tanh(Op):
    name = "tanh"
    formats = ("int8",)
    storage_floats = False
    attrs = {
        "input_multiplier": Attr("int", min=0, max=(1 << 31) - 1),
        "input_left_shift": Attr("int", min=-31, max=30),
        "input_range_radius": Attr("int", min=0, max=(1 << 31) - 1),
    }

    def check(self, node, model, in_specs, fmt):
        xout = out_tensor(model, node)
        require(xout.format == "int8" and int(xout.zero_point) == 0, node,
                f"the output must be int8 with zero point 0 (TFLite's 1/128, 0), got {xout.describe()}")
        a = node.attrs
        ls = max(a["input_left_shift"], 0)
        require(min(255, a["input_range_radius"]) * (1 << ls) < (1 << 31), node,
                "input_range_radius with input_left_shift: the rescaled input could overflow int32")
        require(model.rounding == "double", node, "tanh follows TFLM's double-rounding build (rounding 'double')")

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
        tanh_int8(x.reshape(-1), *p, out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        from ..torchref import tanh_q as t_tanh, requantize as t_requantize, round_half_away_pow2
        a = node.attrs
        v = inputs[0].to(torch.int64) - int(in_tensor(model, node).zero_point)
        r = t_tanh(t_requantize(v, a["input_multiplier"], a["input_left_shift"], "double"), INPUT_INT_BITS)
        y = round_half_away_pow2(r, 24).clamp(-128, 127)
        y = torch.where(v <= -a["input_range_radius"], torch.full_like(y, -128), y)
        return [torch.where(v >= a["input_range_radius"], torch.full_like(y, 127), y)]

    def c_call(self, node, model):
        """C: kws_tanh_s8 (c_runtime/kws_tanh.h), elementwise over the sample."""
        a = node.attrs
        xin = in_tensor(model, node)
        return "kws_tanh_s8", [("in", 0), ("out", 0)] + [("i32", int(v)) for v in (
            xin.size, xin.zero_point, a["input_multiplier"], a["input_left_shift"], a["input_range_radius"])]

    def summary(self, node):
        return ""


OPS = [Tanh()]
