"""reshape (and flatten): the same elements in row-major (C) order under a new per-sample shape.

``shape`` is the output shape without the batch dimension; its element count must equal the input's.
No arithmetic: int8 output carries the input's scale and zero point. Spec: docs/numerics.md, "reshape".
"""
import numpy as np

from .base import Attr, Op, out_tensor, require
from .relu import same_qparams


class Reshape(Op):
    name = "reshape"
    attrs = {
        "shape": Attr("ints", min=1),
    }

    formats = ("int8", "float32", "float16", "bfloat16", "int16", "q8", "q16", "q32")
    storage_floats = False      # a byte copy: every format as it is

    def check(self, node, model, in_specs, fmt):
        shape = node.attrs["shape"]
        require(len(shape) >= 1, node, "attribute 'shape' must have at least one dimension")
        n_in = int(np.prod(in_specs[0].shape, dtype=np.int64))
        n_out = int(np.prod(shape, dtype=np.int64))
        require(n_in == n_out, node,
                f"cannot reshape {tuple(in_specs[0].shape)} ({n_in} elements) to {tuple(shape)} ({n_out} elements)")
        same_qparams(node, model, "reshape")

    def output_shapes(self, node, in_shapes):
        return [tuple(int(d) for d in node.attrs["shape"])]

    def prepare(self, node, model, rounding):
        return dict(shape=tuple(out_tensor(model, node).shape))

    def run(self, p, inputs):
        x = inputs[0]
        return [np.ascontiguousarray(x).reshape((x.shape[0],) + p["shape"])]

    def c_call(self, node, model):
        """C: kws_copy (c_runtime/kws_copy.h) of the sample's bytes (a generator may alias instead)."""
        return "kws_copy", [("in", 0), ("out", 0), ("i32", int(out_tensor(model, node).nbytes))]

    def torch_ref(self, node, model, inputs):
        x = inputs[0]
        return [x.reshape((x.shape[0],) + tuple(node.attrs["shape"]))]


OPS = [Reshape()]
