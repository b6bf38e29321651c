"""relu: a standalone activation clamp (ReLU, ReLU6, or any [lo, hi] clamp), elementwise, any shape.

int8: y = clamp(q, act_min, act_max); the output has the input's scale and zero point (the clamp bounds
are computed at export, e.g. kwsnum.quant.act_clamp_int8). float32: y = clamp(x, act_min_f, act_max_f)
by comparisons (x < lo ? lo : x > hi ? hi : x), so NaN passes through.
``kind`` ("relu" | "relu6") is informational only. Spec: docs/numerics.md, "relu".
"""
import numpy as np
from .._numba import njit

from ..fixedpoint import clamp
from .base import Attr, Op, in_tensor, out_tensor, require, QFORMATS

INT_FORMATS = ("int8", "int16") + QFORMATS
C_INT = {"int8": "s8", "int16": "s16", "q8": "s8", "q16": "s16", "q32": "s32"}   # C storage suffix of integer formats


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def clamp_flat(x, lo, hi, out):
    """Elementwise clamp of flat arrays: int8 (lo, hi int64) or float32 (lo, hi float32)."""
    for i in range(x.shape[0]):
        out[i] = clamp(x[i], lo, hi)


def same_qparams(node, model, what):
    """int8 ops whose output must carry the input's scale and zero point (compared as float32); Q ops whose
    output must carry the input's frac_bits."""
    xin, xout = in_tensor(model, node), out_tensor(model, node)
    if xin.format in QFORMATS and xout.format == xin.format:
        require(xin.frac_bits == xout.frac_bits, node, f"{what}: output frac_bits {xout.frac_bits} must equal the "
                                                       f"input's {xin.frac_bits}")
        return
    if xin.format not in ("int8", "int16") or xout.format != xin.format:
        return  # the format check of Op.validate reports this
    require(np.float32(xin.scale) == np.float32(xout.scale) and int(xin.zero_point) == int(xout.zero_point), node,
            f"{what}: output quantization (scale={xout.scale}, zero_point={xout.zero_point}) must equal the input's "
            f"(scale={xin.scale}, zero_point={xin.zero_point})")


class Relu(Op):
    name = "relu"
    formats = ("int8", "float32", "int16") + QFORMATS
    attrs = {
        "kind": Attr("str", default="relu", choices=("relu", "relu6")),
        "act_min": Attr("int", formats=INT_FORMATS),
        "act_max": Attr("int", formats=INT_FORMATS),
        "act_min_f": Attr("float", formats=("float32",)),
        "act_max_f": Attr("float", formats=("float32",)),
    }

    def check(self, node, model, in_specs, fmt):
        same_qparams(node, model, "relu")

    def inplace_inputs(self, node, model):
        return (0,)          # elementwise: y[i] from x[i]

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        fmt = in_tensor(model, node).format
        if fmt in INT_FORMATS:
            return dict(act=(np.int64(node.attrs["act_min"]), np.int64(node.attrs["act_max"])))
        return dict(act=(np.float32(node.attrs["act_min_f"]), np.float32(node.attrs["act_max_f"])))

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty_like(x)
        clamp_flat(x.reshape(-1), p["act"][0], p["act"][1], out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        x = inputs[0]
        if in_tensor(model, node).format in INT_FORMATS:
            return [x.clamp(node.attrs["act_min"], node.attrs["act_max"])]
        import torch
        lo = torch.tensor(np.float32(node.attrs["act_min_f"]))
        hi = torch.tensor(np.float32(node.attrs["act_max_f"]))
        return [torch.clamp(x, lo, hi)]

    def c_call(self, node, model):
        """C: kws_relu_s8 / _s16 / _s32 (int8, int16 and the Q containers: the same clamp) / kws_relu_f32
        (c_runtime/kws_relu.h), elementwise over the sample."""
        xin = in_tensor(model, node)
        if xin.format in INT_FORMATS:
            return f"kws_relu_{C_INT[xin.format]}", [("in", 0), ("out", 0), ("i32", xin.size),
                                                     ("i32", int(node.attrs["act_min"])),
                                                     ("i32", int(node.attrs["act_max"]))]
        return "kws_relu_f32", [("in", 0), ("out", 0), ("i32", xin.size),
                                ("f32", float(np.float32(node.attrs["act_min_f"]))),
                                ("f32", float(np.float32(node.attrs["act_max_f"])))]

    def summary(self, node):
        return f"kind={node.attrs.get('kind', 'relu')}"


OPS = [Relu()]
