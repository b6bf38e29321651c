"""concat: the inputs joined along one axis (TFLite CONCATENATION, PyTorch torch.cat), 1 to 4 inputs.

No arithmetic: every input must have the output's format and quantization (as TFLM's CONCATENATION requires for
int8 / int16: no requantization). Spec: docs/numerics.md 11.6.
"""
import numpy as np

from .base import Attr, Op, out_tensor, require

MAX_INPUTS = 4


def _axis(node, rank):
    return node.attrs["axis"] % rank


class Concat(Op):
    name = "concat"
    n_inputs = None
    formats = ("int8", "float32", "float16", "bfloat16", "int16", "q8", "q16", "q32")
    storage_floats = False      # a byte copy: every format as it is
    attrs = {"axis": Attr("int", default=0)}

    def validate(self, node, model):
        n = len(node.inputs)
        if not 1 <= n <= MAX_INPUTS:
            raise node.error(f"takes 1 to {MAX_INPUTS} inputs, got {n}")
        super().validate(node, model)

    def check(self, node, model, in_specs, fmt):
        rank = len(in_specs[0].shape)
        a = node.attrs["axis"]
        require(-rank <= a < rank, node, f"axis {a} is out of range for rank-{rank} inputs")
        ax = a % rank
        out = out_tensor(model, node)
        for i, s in enumerate(in_specs):
            require(len(s.shape) == rank and all(d == e for j, (d, e) in enumerate(zip(s.shape, in_specs[0].shape))
                                                  if j != ax), node,
                    f"input {i} shape {tuple(s.shape)} does not match input 0 {tuple(in_specs[0].shape)} off axis {ax}")
            require(s.format == out.format and s.scale == out.scale and s.zero_point == out.zero_point and
                    s.frac_bits == out.frac_bits, node,
                    f"input {i} ({s.describe()}) must have the output's format and quantization ({out.describe()})")

    def output_shapes(self, node, in_shapes):
        rank = len(in_shapes[0])
        ax = _axis(node, rank)
        shape = list(in_shapes[0])
        shape[ax] = sum(int(s[ax]) for s in in_shapes)
        return [tuple(shape)]

    def prepare(self, node, model, rounding):
        return dict(axis=1 + _axis(node, len(out_tensor(model, node).shape)))

    def run(self, p, inputs):
        return [np.ascontiguousarray(np.concatenate([np.asarray(x) for x in inputs], axis=p["axis"]))]

    def torch_ref(self, node, model, inputs):
        import torch
        return [torch.cat(list(inputs), dim=1 + _axis(node, inputs[0].ndim - 1))]

    def c_call(self, node, model):
        """C: kws_concat<n> (c_runtime/kws_concat.h): per outer index, each input's contiguous block of
        (its extent along the axis) x (inner elements) bytes, in order."""
        out = out_tensor(model, node)
        ax = _axis(node, len(out.shape))
        outer = int(np.prod(out.shape[:ax], dtype=np.int64))
        inner_bytes = int(np.prod(out.shape[ax + 1:], dtype=np.int64)) * out.dtype.itemsize
        parts = [int(model.tensors[t].shape[ax]) * inner_bytes for t in node.inputs]
        n = len(node.inputs)
        return f"kws_concat{n}", [("in", i) for i in range(n)] + [("out", 0), ("i32", outer)] + \
            [("i32", b) for b in parts]

    def summary(self, node):
        return f"axis={node.attrs['axis']}"


OPS = [Concat()]
