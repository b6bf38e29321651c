"""transpose: the axes of a sample permuted (TFLite TRANSPOSE without the batch axis, torch.permute).

``perm``: output axis i is input axis perm[i] (per-sample axes, batch excluded). No arithmetic: a copy in any
format; the output keeps the input's quantization. The importer also uses it to move a tensor between kwsnum's
NCHW and TFLite's NHWC element order around a RESHAPE. Spec: docs/numerics.md 11.10.
"""
import numpy as np

from .base import Attr, Op, in_tensor, require
from .relu import same_qparams

MAX_RANK = 3


class Transpose(Op):
    name = "transpose"
    formats = ("int8", "int16", "float32", "float16", "bfloat16", "q8", "q16", "q32")
    storage_floats = False
    attrs = {"perm": Attr("ints", min=0, max=MAX_RANK - 1)}

    def check(self, node, model, in_specs, fmt):
        rank = len(in_specs[0].shape)
        p = tuple(node.attrs["perm"])
        require(rank <= MAX_RANK, node, f"rank {rank}: transpose takes per-sample ranks up to {MAX_RANK}")
        require(sorted(p) == list(range(rank)), node, f"perm {p} is not a permutation of the {rank} axes")
        same_qparams(node, model, "transpose")

    def output_shapes(self, node, in_shapes):
        s = in_shapes[0]
        p = tuple(node.attrs["perm"])
        if sorted(p) != list(range(len(s))):
            return [tuple(s)]                      # check() reports it
        return [tuple(int(s[i]) for i in p)]

    def prepare(self, node, model, rounding):
        return (0,) + tuple(1 + int(i) for i in node.attrs["perm"])

    def run(self, p, inputs):
        return [np.ascontiguousarray(np.transpose(inputs[0], p))]

    def torch_ref(self, node, model, inputs):
        return [inputs[0].permute(0, *[1 + int(i) for i in node.attrs["perm"]]).contiguous()]

    def c_call(self, node, model):
        """C: kws_transpose (c_runtime/kws_transpose.h): the sample as (d0, d1, d2) with leading 1s, and the
        input stride (in elements) of each output axis."""
        xin = in_tensor(model, node)
        rank = len(xin.shape)
        k = MAX_RANK - rank
        dims = (1,) * k + tuple(xin.shape)
        perm = tuple(range(k)) + tuple(k + int(i) for i in node.attrs["perm"])
        strides = [int(np.prod(dims[i + 1:], dtype=np.int64)) for i in range(MAX_RANK)]
        out = [dims[i] for i in perm]
        return "kws_transpose", [("in", 0), ("out", 0), ("i32", xin.dtype.itemsize)] + \
            [("i32", int(v)) for v in out] + [("i32", strides[i]) for i in perm]

    def summary(self, node):
        return f"perm={tuple(node.attrs['perm'])}"


OPS = [Transpose()]
