"""requantize: an integer tensor to another integer format / quantization (int8 <-> int16, also int8 -> int8 and
int16 -> int16), TFLite QUANTIZE between integer types (TFLM ``reference_ops::Requantize``):

    y = clamp(zp_out + requantize(q_in - zp_in, multiplier, shift, rounding), qmin_out, qmax_out)

with the 32-bit requantize of docs/numerics.md 3.2 in the model's rounding mode and the output type's full range.
The exporter inserts it where an int8 layer meets an int16 one; (multiplier, shift) = QM(s_in / s_out).
uint8, the edge-only storage format (docs/numerics.md section 2), is accepted on one side with int8 on the other
(TFLM's int8 -> uint8 and uint8 -> int8 QUANTIZE); the formula is the same, with the uint8 range [0, 255].

Also here: :func:`torch_requantize64`, the torch reference of the 64-bit requantization of the int16 conv /
linear (docs/numerics.md 9.2), written independently of kwsnum.fixedpoint.mbqm_int64.
Spec: docs/numerics.md section 9.
"""
import numpy as np
from .._numba import njit

from ..fixedpoint import requantize, clamp
from ..model import EDGE, QRANGE, QUANTIZED, INTEGER, QFORMATS
from ..quant import quantize_multiplier
from .base import Attr, Op, in_tensor, out_tensor, require


def zero_point(spec):
    """The zero point of an integer tensor (int16 and the Q formats: 0)."""
    return 0 if spec.format in QFORMATS else int(spec.zero_point)

I32MAX = (1 << 31) - 1


def torch_requantize64(acc, multiplier, shift, axis=1):
    """requantize64 (docs/numerics.md 9.2) on an int64 tensor, per channel along ``axis``, in torch int64 ops:
    reduced multiplier by integer floor division, one floor division by 2**total, clamp to int32."""
    import torch
    acc = acc.to(torch.int64)
    shape = [1] * acc.ndim
    if np.ndim(multiplier):
        shape[axis] = -1
    m = torch.as_tensor(np.asarray(multiplier, np.int64)).reshape(shape if np.ndim(multiplier) else ())
    s = torch.as_tensor(np.asarray(shift, np.int64)).reshape(shape if np.ndim(shift) else ())
    reduced = torch.where(m < 0x7FFF0000, torch.div(m + 2 ** 15, 2 ** 16, rounding_mode="floor"),
                          torch.full_like(m, 0x7FFF))
    total = 15 - s
    den = torch.pow(torch.full_like(total, 2), total)
    y = torch.div(acc * reduced + torch.div(den, 2, rounding_mode="floor"), den, rounding_mode="floor")
    return y.clamp(-(1 << 31), I32MAX)


def requantize_params(s_in, s_out):
    """Export: (multiplier, shift) = QM(f64(s_in) / f64(s_out)) of the scales as float32 values (TFLM
    PrepareQuantizeReference)."""
    return quantize_multiplier(float(np.float32(s_in)) / float(np.float32(s_out)))


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def requantize_q(x, in_off, mult, shift, mode, out_zp, qmin, qmax, out):
    """x int8 / int16 / Q (flat) -> out int8 / int16 / Q (flat)."""
    for i in range(x.shape[0]):
        v = requantize(np.int64(x[i]) + in_off, mult, shift, mode) + out_zp
        out[i] = clamp(v, qmin, qmax)


class Requantize(Op):
    name = "requantize"
    formats = INTEGER + EDGE     # the node format is its input's; the output is another integer format
    storage_floats = False
    attrs = {
        "multiplier": Attr("int", min=0, max=I32MAX),
        "shift": Attr("int", min=-31, max=30),
    }

    def output_format(self, node, model, fmt):
        out = out_tensor(model, node).format
        if fmt in EDGE:
            return "int8"
        return out if out in INTEGER or (out in EDGE and fmt == "int8") else "int8 or int16"

    def check(self, node, model, in_specs, fmt):
        out = out_tensor(model, node).format
        if fmt in EDGE or out in EDGE:   # docs/numerics.md section 2: TFLM's pairs only
            require({fmt, out} == {"int8", "uint8"}, node,
                    f"{fmt} -> {out}: uint8 is requantized only to or from int8 (TFLM's QUANTIZE pairs)")
            return
        require(fmt in QUANTIZED or out_tensor(model, node).format in QUANTIZED, node,
                f"{fmt} -> {out_tensor(model, node).format}: between Q formats use the qcast op "
                f"(docs/numerics.md 10.3)")

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        zi, zo = zero_point(in_tensor(model, node)), zero_point(out_tensor(model, node))
        qmin, qmax = QRANGE[out_tensor(model, node).format]
        i64 = np.int64
        return dict(args=(i64(-zi), i64(node.attrs["multiplier"]), i64(node.attrs["shift"]), i64(rounding),
                          i64(zo), i64(qmin), i64(qmax)), dtype=out_tensor(model, node).dtype)

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty(x.shape, dtype=p["dtype"])
        requantize_q(x.reshape(-1), *p["args"], out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        from ..torchref import requantize as t_requantize
        zi, zo = zero_point(in_tensor(model, node)), zero_point(out_tensor(model, node))
        qmin, qmax = QRANGE[out_tensor(model, node).format]
        import torch
        y = t_requantize(inputs[0].to(torch.int64) - zi, node.attrs["multiplier"], node.attrs["shift"],
                         model.rounding) + zo
        return [y.clamp(qmin, qmax)]

    def c_call(self, node, model):
        """C: kws_requantize_<in>_<out> (c_runtime/kws_requantize.h), in / out in s8, s16, q8, q16, q32; u8 with s8."""
        from ..fixedpoint import ROUNDING_MODES
        xin, xout = in_tensor(model, node), out_tensor(model, node)
        sfx = {"int8": "s8", "int16": "s16", "q8": "q8", "q16": "q16", "q32": "q32", "uint8": "u8"}
        return f"kws_requantize_{sfx[xin.format]}_{sfx[xout.format]}", \
            [("in", 0), ("out", 0)] + [("i32", int(v)) for v in (xin.size, zero_point(xin), node.attrs["multiplier"],
                                                                 node.attrs["shift"], zero_point(xout),
                                                                 ROUNDING_MODES[model.rounding])]

    def summary(self, node):
        return ""


OPS = [Requantize()]
