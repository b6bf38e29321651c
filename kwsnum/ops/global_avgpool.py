"""global_avgpool: mean over all spatial positions, per channel (PyTorch AdaptiveAvgPool1d/2d(1)).

Input (C, L) or (C, H, W); output (C, 1) or (C, 1, 1) (a following reshape flattens).
int8: acc = sum(q - zp_in) exact in int32, then ONE requantization by (multiplier, shift) =
quantize_multiplier(s_in / (s_out * count)) computed at export: 1/count is folded into the multiplier.
This is kwsnum's own rule; it is not TFLite AVERAGE_POOL (divide, then no requantization) nor claimed
bit-exact with TFLite MEAN. float32: sum in row-major order, then one division by float32(count).
Spec: docs/numerics.md, "global_avgpool".
"""
import numpy as np
from .._numba import njit

from .. import backend
from ..fixedpoint import requantize, requantize_v, clamp, div_round
from ..model import QRANGE
from ..torchref import requantize as t_requantize
from .base import Attr, Op, in_tensor, out_tensor, qparams, require, QFORMATS, q_attrs, qmodes
from .relu import INT_FORMATS, same_qparams

ACC_LIMIT = 1 << 31  # count * 255 must stay below this: the int32 sum of (q - zp_in) is exact


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def global_avgpool_int8(x, in_off, mult, shift, mode, out_zp, act_min, act_max, q, out):
    """acc = sum (q - zp_in) (int64, exact), then int8 / int16: requantize(acc, mult, shift, mode) + out_zp;
    Q (``q``, docs/numerics.md 10.3): div_round(acc, count, mode) (mode: the qround code; in_off = out_zp = 0)."""
    N, C, S = x.shape
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        acc = np.int64(0)
        for s in range(S):
            acc += np.int64(x[n, c, s]) + in_off
        if q:
            v = div_round(acc, np.int64(S), mode)
        else:
            v = requantize(acc, mult, shift, mode) + out_zp
        out[n, c] = clamp(v, act_min, act_max)


def global_avgpool_int8_v(x, in_off, mult, shift, mode, out_zp, act_min, act_max, out):
    """:func:`global_avgpool_int8` of int8 / int16 on whole arrays (docs/numerics.md 3.7): the int64 sums, then
    the vector requantization."""
    acc = x.sum(axis=2, dtype=np.int64) + np.int64(in_off) * x.shape[2]
    out[...] = np.clip(requantize_v(acc, mult, shift, mode) + np.int64(out_zp), act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def global_avgpool_f32(x, act_min, act_max, out):
    N, C, S = x.shape
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        acc = np.float32(0.0)
        for s in range(S):
            acc = acc + x[n, c, s]
        y = acc / np.float32(S)
        out[n, c] = min(max(y, act_min), act_max)


class GlobalAvgPool(Op):
    name = "global_avgpool"
    formats = ("int8", "float32", "int16") + QFORMATS
    attrs = {
        "multiplier": Attr("int", min=0, max=(1 << 31) - 1, formats=("int8", "int16")),
        "shift": Attr("int", min=-31, max=30, formats=("int8", "int16")),
        "act_min": Attr("int", default={f: QRANGE[f][0] for f in INT_FORMATS}, formats=INT_FORMATS),
        "act_max": Attr("int", default={f: QRANGE[f][1] for f in INT_FORMATS}, formats=INT_FORMATS),
        **q_attrs(overflow=False),
        "act_min_f": Attr("float", default=float("-inf"), formats=("float32",)),
        "act_max_f": Attr("float", default=float("inf"), formats=("float32",)),
    }

    def check(self, node, model, in_specs, fmt):
        shp = tuple(in_specs[0].shape)
        require(len(shp) in (2, 3), node, f"input must be (C, L) or (C, H, W), got {shp}")
        count = int(np.prod(shp[1:]))
        if fmt == "int8":
            require(count * 255 < ACC_LIMIT, node,
                    f"{count} spatial elements are too many for an exact int32 sum (count * 255 must be < 2**31)")
        if fmt == "int16":   # |q| <= 32768, zero point 0 (docs/numerics.md 9.4)
            require(count * 32768 < ACC_LIMIT, node,
                    f"{count} spatial elements are too many for an exact int32 sum (count * 32768 must be < 2**31)")
        if fmt in QFORMATS:   # the int64 sum of count <= 2**28 values |q| <= 2**31 is exact
            same_qparams(node, model, "global_avgpool")

    def output_shapes(self, node, in_shapes):
        shp = tuple(in_shapes[0])
        return [(shp[0],) + (1,) * (len(shp) - 1)]

    def prepare(self, node, model, rounding):
        xin = in_tensor(model, node)
        p = dict(fmt=xin.format, out_shape=tuple(out_tensor(model, node).shape))
        if p["fmt"] in ("int8", "int16"):
            _, zi = qparams(xin)
            _, zo = qparams(out_tensor(model, node))
            p.update(in_off=-zi, out_zp=zo, mult=node.attrs["multiplier"], shift=node.attrs["shift"], mode=rounding,
                     act=(node.attrs["act_min"], node.attrs["act_max"]))
        elif p["fmt"] in QFORMATS:
            p.update(in_off=0, out_zp=0, mult=0, shift=0, mode=qmodes(node)[0],
                     act=(node.attrs["act_min"], node.attrs["act_max"]))
        else:
            p.update(act=(np.float32(node.attrs["act_min_f"]), np.float32(node.attrs["act_max_f"])))
        return p

    def run(self, p, inputs):
        x = inputs[0]
        n, c = x.shape[0], x.shape[1]
        x3 = np.ascontiguousarray(x).reshape(n, c, -1)
        out = np.empty((n, c), dtype=x.dtype)
        lo, hi = p["act"]
        if p["fmt"] in ("int8", "int16") and backend.vector():
            global_avgpool_int8_v(x3, p["in_off"], p["mult"], p["shift"], p["mode"], p["out_zp"], lo, hi, out)
        elif p["fmt"] in ("int8", "int16") + QFORMATS:
            global_avgpool_int8(x3, p["in_off"], p["mult"], p["shift"], p["mode"], p["out_zp"], lo, hi,
                                p["fmt"] in QFORMATS, out)
        else:
            global_avgpool_f32(x3, lo, hi, out)
        return [out.reshape((n,) + p["out_shape"])]

    def c_call(self, node, model):
        """C: kws_global_avgpool_s8 / _s16 / _f32 (c_runtime/kws_global_avgpool.h) on the (C, count) view."""
        from ..fixedpoint import ROUNDING_MODES
        xin = in_tensor(model, node)
        C, count = int(xin.shape[0]), int(np.prod(xin.shape[1:]))
        if xin.format in QFORMATS:
            ints = (C, count, node.attrs["act_min"], node.attrs["act_max"], qmodes(node)[0])
            return f"kws_global_avgpool_{xin.format}", [("in", 0), ("out", 0)] + [("i32", int(v)) for v in ints]
        if xin.format == "int16":
            a = node.attrs
            ints = (C, count, a["multiplier"], a["shift"], a["act_min"], a["act_max"], ROUNDING_MODES[model.rounding])
            return "kws_global_avgpool_s16", [("in", 0), ("out", 0)] + [("i32", int(v)) for v in ints]
        if xin.format == "int8":
            _, zi = qparams(xin)
            _, zo = qparams(out_tensor(model, node))
            a = node.attrs
            ints = (C, count, zi, a["multiplier"], a["shift"], zo, a["act_min"], a["act_max"],
                    ROUNDING_MODES[model.rounding])
            return "kws_global_avgpool_s8", [("in", 0), ("out", 0)] + [("i32", int(v)) for v in ints]
        return "kws_global_avgpool_f32", [("in", 0), ("out", 0), ("i32", C), ("i32", count),
                                          ("f32", float(np.float32(node.attrs["act_min_f"]))),
                                          ("f32", float(np.float32(node.attrs["act_max_f"])))]

    def torch_ref(self, node, model, inputs):
        import torch
        x = inputs[0]
        xin, xout = in_tensor(model, node), out_tensor(model, node)
        dims = tuple(range(2, x.ndim))
        if xin.format in QFORMATS:
            from ..torchref import div_round as t_div_round
            count = int(np.prod(xin.shape[1:]))
            y = t_div_round(x.to(torch.int64).sum(dim=dims, keepdim=True), count, node.attrs["qround"])
            return [y.clamp(node.attrs["act_min"], node.attrs["act_max"])]
        if xin.format in ("int8", "int16"):
            acc = (x.to(torch.int64) - xin.zero_point).sum(dim=dims, keepdim=True)
            y = t_requantize(acc, node.attrs["multiplier"], node.attrs["shift"], model.rounding)
            return [(y + xout.zero_point).clamp(node.attrs["act_min"], node.attrs["act_max"])]
        y = x.to(torch.float64).mean(dim=dims, keepdim=True)
        return [y.clamp(node.attrs["act_min_f"], node.attrs["act_max_f"]).to(torch.float32)]


OPS = [GlobalAvgPool()]
