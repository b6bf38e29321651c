"""mul: TFLite / TFLM int8 MUL, elementwise with broadcasting (equal ranks, size-1 axes broadcast).

    y = clamp(requantize((q1 - zp1) * (q2 - zp2), multiplier, shift, rounding) + zp_out, act_min, act_max)

(multiplier, shift) = QM(f64(s1) * f64(s2) / f64(s_out)) (TFLM CalculateOpDataMul). |(q1 - zp1)(q2 - zp2)| <=
255**2: exact in int32. Spec: docs/numerics.md 11.11.
"""
import numpy as np
from numba import njit

from ..fixedpoint import requantize, clamp
from ..quant import quantize_multiplier
from .base import Attr, Op, out_tensor, require

MAX_RANK = 3


def mul_params(s1, s2, s_out):
    """(multiplier, shift) as TFLM: QuantizeMultiplier(double(s1) * double(s2) / double(s_out))."""
    m, sh = quantize_multiplier(float(np.float32(s1)) * float(np.float32(s2)) / float(np.float32(s_out)))
    return dict(multiplier=m, shift=sh)


def broadcast_shape(a, b):
    if len(a) != len(b) or any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
        return None
    return tuple(max(x, y) for x, y in zip(a, b))


def broadcast_strides(shape, out_shape, rank=MAX_RANK):
    """The element strides of a row-major input of ``shape`` per axis of ``out_shape``, both padded with leading 1s
    to ``rank`` axes (aligned from the last axis), 0 where the input broadcasts (size 1): the input's element at
    output index (i, j, k) is at i*s0 + j*s1 + k*s2 (C: kws_bcast_at, c_runtime/kws_broadcast.h)."""
    sh = (1,) * (rank - len(shape)) + tuple(shape)
    assert len(sh) == rank and len(out_shape) <= rank
    return [int(np.prod(sh[i + 1:], dtype=np.int64)) if sh[i] > 1 else 0
            for i in range(rank)]


@njit(cache=True, nogil=True, error_model="numpy")  # serial: the interpreter runs batch slices on threads
def mul_int8(p, m, s, mode, zo, lo, hi, out):
    for i in range(p.shape[0]):
        out[i] = clamp(requantize(p[i], m, s, mode) + zo, lo, hi)


class Mul(Op):
    name = "mul"
    n_inputs = 2
    formats = ("int8",)
    storage_floats = False
    attrs = {
        "multiplier": Attr("int", min=0, max=(1 << 31) - 1),
        "shift": Attr("int", min=-31, max=30),
        "act_min": Attr("int", default=-128),
        "act_max": Attr("int", default=127),
    }

    def check(self, node, model, in_specs, fmt):
        a, b = in_specs[0].shape, in_specs[1].shape
        require(len(a) <= MAX_RANK, node, f"rank {len(a)}: mul takes per-sample ranks up to {MAX_RANK}")
        require(broadcast_shape(a, b) is not None, node,
                f"shapes {tuple(a)} and {tuple(b)} do not broadcast (equal ranks, each axis equal or 1)")
        require(in_specs[1].format == "int8", node, "both inputs must be int8")

    def output_shapes(self, node, in_shapes):
        return [broadcast_shape(in_shapes[0], in_shapes[1]) or tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        z1, z2 = (int(model.tensors[t].zero_point) for t in node.inputs)
        a = node.attrs
        return dict(z=(z1, z2), args=(np.int64(a["multiplier"]), np.int64(a["shift"]),
                                      np.int64(rounding),
                                      np.int64(out_tensor(model, node).zero_point),
                                      np.int64(a["act_min"]), np.int64(a["act_max"])))

    def run(self, p, inputs):
        x1 = inputs[0].astype(np.int64) - p["z"][0]
        x2 = inputs[1].astype(np.int64) - p["z"][1]
        prod = np.ascontiguousarray(x1 * x2)           # numpy broadcasting (batch included)
        out = np.empty(prod.shape, np.int8)
        mul_int8(prod.reshape(-1), *p["args"], out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        from ..torchref import requantize as t_requantize
        z1, z2 = (int(model.tensors[t].zero_point) for t in node.inputs)
        prod = (inputs[0].to(torch.int64) - z1) * (inputs[1].to(torch.int64) - z2)
        a = node.attrs
        y = t_requantize(prod, a["multiplier"], a["shift"], model.rounding) + int(out_tensor(model, node).zero_point)
        return [y.clamp(a["act_min"], a["act_max"])]

    def c_call(self, node, model):
        """C: kws_mul_s8 (c_runtime/kws_mul.h): the output as (n0, n1, n2) with leading 1s, each input's element
        strides per output axis (0 where it broadcasts)."""
        from ..fixedpoint import ROUNDING_MODES as RM
        out = out_tensor(model, node)
        k = MAX_RANK - len(out.shape)
        dims = (1,) * k + tuple(out.shape)
        args = [("in", 0), ("in", 1), ("out", 0)] + [("i32", int(d)) for d in dims]
        for t in node.inputs:
            args += [("i32", v) for v in broadcast_strides(model.tensors[t].shape, out.shape)]
        z1, z2 = (int(model.tensors[t].zero_point) for t in node.inputs)
        a = node.attrs
        args += [("i32", int(v)) for v in (z1, z2, out.zero_point, a["multiplier"], a["shift"], RM[model.rounding],
                                           a["act_min"], a["act_max"])]
        return "kws_mul_s8", args

    def summary(self, node):
        return ""


OPS = [Mul()]
