"""slice: a strided window of the input (TFLite STRIDED_SLICE with positive strides, Python x[b:e:s]).

No arithmetic: y[i0, i1, ...] = x[begin_0 + i0 * stride_0, begin_1 + i1 * stride_1, ...] with the output shape
``size``; every read index lies inside the input (validated). Input and output share the quantization.
Spec: docs/numerics.md 11.8.
"""
import numpy as np

from .base import Attr, Op, in_tensor, require
from .relu import same_qparams

MAX_RANK = 3


class Slice(Op):
    name = "slice"
    formats = ("int8", "int16", "float32", "float16", "bfloat16", "q8", "q16", "q32")
    storage_floats = False
    attrs = {
        "begin": Attr("ints", min=0),
        "stride": Attr("ints", min=1),
        "size": Attr("ints", min=1),
    }

    def check(self, node, model, in_specs, fmt):
        shape = in_specs[0].shape
        rank = len(shape)
        a = node.attrs
        require(rank <= MAX_RANK, node, f"rank {rank}: slice takes per-sample ranks up to {MAX_RANK}")
        require(len(a["begin"]) == len(a["stride"]) == len(a["size"]) == rank, node,
                f"begin, stride and size need {rank} entries each")
        for i in range(rank):
            last = a["begin"][i] + (a["size"][i] - 1) * a["stride"][i]
            require(last < shape[i], node, f"axis {i}: the window reads index {last} of a dimension of {shape[i]}")
        same_qparams(node, model, "slice")

    def output_shapes(self, node, in_shapes):
        return [tuple(int(d) for d in node.attrs["size"])]

    def prepare(self, node, model, rounding):
        a = node.attrs
        return (slice(None),) + tuple(slice(b, b + (n - 1) * s + 1, s)
                                      for b, s, n in zip(a["begin"], a["stride"], a["size"]))

    def run(self, p, inputs):
        return [np.ascontiguousarray(inputs[0][p])]

    def torch_ref(self, node, model, inputs):
        a = node.attrs
        idx = (slice(None),) + tuple(slice(b, b + (n - 1) * s + 1, s)
                                     for b, s, n in zip(a["begin"], a["stride"], a["size"]))
        return [inputs[0][idx].contiguous()]

    def c_call(self, node, model):
        """C: kws_slice (c_runtime/kws_slice.h), the sample as (d0, d1, d2) with leading 1s."""
        xin = in_tensor(model, node)
        a = node.attrs
        k = MAX_RANK - len(xin.shape)
        dims = (1,) * k + tuple(xin.shape)
        begin, stride, size = (0,) * k + tuple(a["begin"]), (1,) * k + tuple(a["stride"]), (1,) * k + tuple(a["size"])
        return "kws_slice", [("in", 0), ("out", 0), ("i32", xin.dtype.itemsize)] + \
            [("i32", int(v)) for v in dims + begin + stride + size]

    def summary(self, node):
        a = node.attrs
        return f"begin={a['begin']}, stride={a['stride']}, size={a['size']}"


OPS = [Slice()]
