"""mul: TFLite / TFLM int8 and int16 MUL, elementwise with broadcasting (equal ranks, size-1 axes broadcast).

    y = clamp(requantize((q1 - zp1) * (q2 - zp2), multiplier, shift, rounding) + zp_out, act_min, act_max)

(multiplier, shift) = QM(f64(s1) * f64(s2) / f64(s_out)) (TFLM CalculateOpDataMul). |(q1 - zp1)(q2 - zp2)| <=
255**2 (int8), <= 2**30 (int16, zero points 0): exact in int32. The second operand may be a constant (the datasets
``b`` and ``b_zero_point``, shared with add: :func:`second_operand`). Spec: docs/numerics.md 11.11 and 4 "add".
"""
import numpy as np
from .._numba import njit

from ..fixedpoint import requantize, clamp
from ..quant import quantize_multiplier
from .base import Arr, Attr, Op, out_tensor, require

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


# ---------------------------------------------------------------- a constant second operand (add and mul)
CONST_FORMATS = ("int8", "int16")
CONST_ARRAYS = {"b": Arr(optional=True, int8=np.int8, int16=np.int16),
                "b_zero_point": Arr(optional=True, int8=np.int32, int16=np.int32)}


def has_const(node):
    return "b" in node.arrays or "b_zero_point" in node.arrays


def second_operand(node, model):
    """(per-sample shape, zero point) of the second operand of add / mul: input 1, or the constant dataset ``b``
    with ``b_zero_point`` (docs/numerics.md 4, "add")."""
    if has_const(node):
        return tuple(np.shape(node.arrays["b"])), int(np.asarray(node.arrays["b_zero_point"]).reshape(-1)[0])
    t = model.tensors[node.inputs[1]]
    return tuple(t.shape), (0 if t.zero_point is None else int(t.zero_point))


def check_operands(node, model, fmt, n_inputs=2):
    """The input count and, for a constant operand, its datasets (format, zero point, rank)."""
    if not has_const(node):
        require(len(node.inputs) == n_inputs, node, f"takes {n_inputs} inputs (or 1 and the constant datasets b, "
                f"b_zero_point), got {len(node.inputs)}")
        return
    require(len(node.inputs) == 1, node, f"with a constant operand (datasets b, b_zero_point) the node takes 1 "
            f"input, got {len(node.inputs)}")
    require("b" in node.arrays and "b_zero_point" in node.arrays, node,
            "a constant operand needs both datasets b and b_zero_point")
    require(fmt in CONST_FORMATS, node, f"a constant operand is for {' and '.join(CONST_FORMATS)} nodes, not {fmt}")
    b, z = np.asarray(node.arrays["b"]), np.asarray(node.arrays["b_zero_point"])
    require(1 <= b.ndim <= MAX_RANK and b.size >= 1, node, f"dataset 'b' has shape {b.shape}: rank 1 to {MAX_RANK}")
    require(z.shape == (1,), node, f"dataset 'b_zero_point' has shape {z.shape}, expected (1,)")
    lo, hi = (-128, 127) if fmt == "int8" else (0, 0)
    require(lo <= int(z[0]) <= hi, node, f"b_zero_point {int(z[0])} is outside [{lo}, {hi}] for {fmt}")


def const_of(node):
    """What prepare() keeps for run(): the constant operand ``b`` (None without one)."""
    return np.ascontiguousarray(node.arrays["b"]) if has_const(node) else None


def operands_np(b, inputs):
    """The oracle's two operands: the inputs, or the input and the constant ``b`` as a stride-0 batch view."""
    if b is None:
        return list(inputs)
    return [inputs[0], np.broadcast_to(b[None], (inputs[0].shape[0],) + b.shape)]


def operands_torch(node, inputs):
    """The torch reference's two operands (``b`` expanded over the batch)."""
    if len(inputs) == 2:
        return list(inputs)
    import torch
    b = torch.from_numpy(np.array(node.arrays["b"]))
    return [inputs[0], b.unsqueeze(0).expand((inputs[0].shape[0],) + tuple(b.shape))]


def operand_c(node, i):
    """The C argument of operand i: the input pointer, or the constant array ``b``."""
    return ("in", i) if i < len(node.inputs) else ("array", "b")


@njit(cache=True, nogil=True, error_model="numpy")  # serial: the interpreter runs batch slices on threads
def mul_int8(p, m, s, mode, zo, lo, hi, out):
    for i in range(p.shape[0]):
        out[i] = clamp(requantize(p[i], m, s, mode) + zo, lo, hi)


class Mul(Op):
    name = "mul"
    n_inputs = None             # 2, or 1 and a constant operand (check_operands)
    formats = ("int8", "int16")
    storage_floats = False
    attrs = {
        "multiplier": Attr("int", min=0, max=(1 << 31) - 1),
        "shift": Attr("int", min=-31, max=30),
        "act_min": Attr("int", default={"int8": -128, "int16": -32768}),
        "act_max": Attr("int", default={"int8": 127, "int16": 32767}),
    }
    arrays = dict(CONST_ARRAYS)

    def check(self, node, model, in_specs, fmt):
        check_operands(node, model, fmt)
        a, (b, _) = in_specs[0].shape, second_operand(node, model)
        require(len(a) <= MAX_RANK, node, f"rank {len(a)}: mul takes per-sample ranks up to {MAX_RANK}")
        require(broadcast_shape(a, b) is not None, node,
                f"shapes {tuple(a)} and {tuple(b)} do not broadcast (equal ranks, each axis equal or 1)")
        if len(in_specs) == 2:
            require(in_specs[1].format == fmt, node, f"both inputs must be {fmt}")

    def output_shapes(self, node, in_shapes):
        b = tuple(np.shape(node.arrays["b"])) if len(in_shapes) == 1 and "b" in node.arrays else \
            tuple(in_shapes[1] if len(in_shapes) > 1 else in_shapes[0])
        return [broadcast_shape(in_shapes[0], b) or tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        z1 = int(model.tensors[node.inputs[0]].zero_point)
        z2 = second_operand(node, model)[1]
        a = node.attrs
        out = out_tensor(model, node)
        return dict(z=(z1, z2), dtype=out.dtype, b=const_of(node),
                    args=(np.int64(a["multiplier"]), np.int64(a["shift"]), np.int64(rounding),
                          np.int64(out.zero_point), np.int64(a["act_min"]), np.int64(a["act_max"])))

    def run(self, p, inputs):
        inputs = operands_np(p["b"], inputs)
        x1 = inputs[0].astype(np.int64) - p["z"][0]
        x2 = inputs[1].astype(np.int64) - p["z"][1]
        prod = np.ascontiguousarray(x1 * x2)           # numpy broadcasting (batch included)
        out = np.empty(prod.shape, p["dtype"])
        mul_int8(prod.reshape(-1), *p["args"], out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        from ..torchref import requantize as t_requantize
        x1, x2 = operands_torch(node, inputs)
        z1 = int(model.tensors[node.inputs[0]].zero_point)
        z2 = second_operand(node, model)[1]
        prod = (x1.to(torch.int64) - z1) * (x2.to(torch.int64) - z2)
        a = node.attrs
        y = t_requantize(prod, a["multiplier"], a["shift"], model.rounding) + int(out_tensor(model, node).zero_point)
        return [y.clamp(a["act_min"], a["act_max"])]

    def c_call(self, node, model):
        """C: kws_mul_s8 / kws_mul_s16 (c_runtime/kws_mul.h): the output as (n0, n1, n2) with leading 1s, each
        operand's element strides per output axis (0 where it broadcasts); a constant operand: its array."""
        from ..fixedpoint import ROUNDING_MODES as RM
        out = out_tensor(model, node)
        k = MAX_RANK - len(out.shape)
        dims = (1,) * k + tuple(out.shape)
        args = [("in", 0), operand_c(node, 1), ("out", 0)] + [("i32", int(d)) for d in dims]
        for sh in (model.tensors[node.inputs[0]].shape, second_operand(node, model)[0]):
            args += [("i32", v) for v in broadcast_strides(sh, out.shape)]
        z1 = int(model.tensors[node.inputs[0]].zero_point)
        z2 = second_operand(node, model)[1]
        a = node.attrs
        args += [("i32", int(v)) for v in (z1, z2, out.zero_point, a["multiplier"], a["shift"], RM[model.rounding],
                                           a["act_min"], a["act_max"])]
        return ("kws_mul_s16" if out.format == "int16" else "kws_mul_s8"), args

    def summary(self, node):
        return "constant b" if has_const(node) else ""


OPS = [Mul()]
