"""qcast: a Q-format tensor to another Q format (container and / or fractional bits), docs/numerics.md 10.3:

    y = qcast(q, n_in - n_out, qround, bits_out, qoverflow)

the shift rounded by the node's rounding mode and fitted to the output container by its overflow mode
(kwsnum.fixedpoint.qcast, section 8). Elementwise, any shape. The exporter inserts it where two Q layers with
different containers meet. C: kws_requantize_q<a>_q<b> (c_runtime/kws_requantize.h).
"""
import numpy as np
from .._numba import njit

from ..fixedpoint import qcast
from ..model import QBITS, QFORMATS
from .base import Op, in_tensor, out_tensor, q_attrs, qmodes, require


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def qcast_flat(x, shift, rmode, bits, omode, out):
    for i in range(x.shape[0]):
        out[i] = qcast(np.int64(x[i]), shift, rmode, bits, omode)


class QCast(Op):
    name = "qcast"
    formats = QFORMATS           # the node format is its input's; the output is a Q format
    storage_floats = False
    attrs = q_attrs()

    def output_format(self, node, model, fmt):
        out = out_tensor(model, node).format
        return out if out in QFORMATS else "q8, q16 or q32"

    def shift(self, node, model):
        return in_tensor(model, node).frac_bits - out_tensor(model, node).frac_bits

    def check(self, node, model, in_specs, fmt):
        sh = self.shift(node, model)
        require(-62 <= sh <= 62, node, f"the shift n_in - n_out = {sh} is outside [-62, 62]")

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def inplace_inputs(self, node, model):
        same = in_tensor(model, node).dtype == out_tensor(model, node).dtype
        return (0,) if same else ()          # elementwise; only when the element size is the same

    def prepare(self, node, model, rounding):
        rmode, omode = qmodes(node)
        xout = out_tensor(model, node)
        return dict(args=(np.int64(self.shift(node, model)), rmode, QBITS[xout.format], omode), dtype=xout.dtype)

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty(x.shape, dtype=p["dtype"])
        qcast_flat(x.reshape(-1), *p["args"], out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        from ..torchref import qcast as t_qcast
        return [t_qcast(inputs[0].to(torch.int64), self.shift(node, model), node.attrs["qround"],
                        QBITS[out_tensor(model, node).format], node.attrs["qoverflow"])]

    def c_call(self, node, model):
        """C: kws_requantize_q<a>_q<b>(in, out, size, shift, qround, qoverflow) (c_runtime/kws_requantize.h)."""
        rmode, omode = qmodes(node)
        xin, xout = in_tensor(model, node), out_tensor(model, node)
        return f"kws_requantize_{xin.format}_{xout.format}", [("in", 0), ("out", 0), ("i32", xin.size),
                                                              ("i32", self.shift(node, model)), ("i32", rmode),
                                                              ("i32", omode)]

    def summary(self, node):
        return f"qround={node.attrs['qround']}, qoverflow={node.attrs['qoverflow']}"


OPS = [QCast()]
