"""pad: constant padding per axis (TFLite PAD / PADV2, torch.nn.functional.pad with a constant).

No arithmetic: y[i] = x[i - before] inside, else the constant: ``value`` for integer formats (in stored units;
TFLite PAD uses the output zero point), ``value_f`` for float32. Input and output share the quantization.
Spec: docs/numerics.md 11.7.
"""
import numpy as np

from ..model import QRANGE
from .base import Attr, Op, in_tensor, out_tensor, require
from .relu import same_qparams

MAX_RANK = 3


class Pad(Op):
    name = "pad"
    formats = ("int8", "int16", "float32")
    storage_floats = False
    attrs = {
        "pads": Attr("ints", min=0, max=1 << 16),        # before_0, after_0, before_1, after_1, ...
        "value": Attr("int", default=0, formats=("int8", "int16")),
        "value_f": Attr("float", default=0.0, formats=("float32",)),
    }

    def check(self, node, model, in_specs, fmt):
        rank = len(in_specs[0].shape)
        require(rank <= MAX_RANK, node, f"rank {rank}: pad takes per-sample ranks up to {MAX_RANK}")
        require(len(node.attrs["pads"]) == 2 * rank, node,
                f"pads has {len(node.attrs['pads'])} entries, expected {2 * rank} (before and after per axis)")
        if fmt in QRANGE:
            lo, hi = QRANGE[fmt]
            require(lo <= node.attrs["value"] <= hi, node, f"value {node.attrs['value']} is outside [{lo}, {hi}]")
        same_qparams(node, model, "pad")

    def output_shapes(self, node, in_shapes):
        p = tuple(node.attrs["pads"])
        if len(p) != 2 * len(in_shapes[0]):
            return [tuple(in_shapes[0])]           # check() reports the mismatch
        return [tuple(int(d) + p[2 * i] + p[2 * i + 1] for i, d in enumerate(in_shapes[0]))]

    def _value(self, node, model):
        fmt = in_tensor(model, node).format
        return np.float32(node.attrs["value_f"]) if fmt == "float32" else node.attrs["value"]

    def prepare(self, node, model, rounding):
        p = node.attrs["pads"]
        xin = in_tensor(model, node)
        sl = tuple(slice(p[2 * i], p[2 * i] + d) for i, d in enumerate(xin.shape))
        return dict(slices=sl, shape=tuple(out_tensor(model, node).shape), value=self._value(node, model),
                    dtype=xin.dtype)

    def run(self, p, inputs):
        x = inputs[0]
        out = np.full((x.shape[0],) + p["shape"], p["value"], dtype=p["dtype"])
        out[(slice(None),) + p["slices"]] = x
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        x = inputs[0]
        p = node.attrs["pads"]
        rank = x.ndim - 1
        flat = []                                  # torch's F.pad order: last axis first
        for i in reversed(range(rank)):
            flat += [p[2 * i], p[2 * i + 1]]
        v = self._value(node, model)
        v = float(v) if in_tensor(model, node).format == "float32" else int(v)
        return [torch.nn.functional.pad(x, flat, mode="constant", value=v)]

    def c_call(self, node, model):
        """C: kws_pad (c_runtime/kws_pad.h): the sample as (d0, d1, d2) (leading 1s), element size, the fill's
        bit pattern, and the before / after padding per axis."""
        xin = in_tensor(model, node)
        rank = len(xin.shape)
        dims = (1,) * (MAX_RANK - rank) + tuple(xin.shape)
        pads = (0, 0) * (MAX_RANK - rank) + tuple(node.attrs["pads"])
        v = self._value(node, model)
        bits = int(np.float32(v).view(np.int32)) if xin.format == "float32" else int(v)
        return "kws_pad", [("in", 0), ("out", 0), ("i32", xin.dtype.itemsize), ("i32", bits)] + \
            [("i32", int(d)) for d in dims] + [("i32", int(q)) for q in pads]

    def summary(self, node):
        return f"pads={node.attrs['pads']}"


OPS = [Pad()]
