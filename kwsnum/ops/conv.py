"""conv1d and conv2d: stride, dilation, groups (depthwise included), explicit zero padding per side.

Layout (PyTorch): input (N, C, H, W) / (N, C, L); weight (O, C/groups, KH, KW) / (O, C/groups, K).
conv1d runs the conv2d kernel on a height-1 view. Spec: docs/numerics.md, "conv".
"""
import numpy as np
from .. import backend
from .._numba import njit

from ..torchref import requantize as t_requantize
from .base import (Attr, Arr, Op, in_tensor, out_tensor, qparams, require, check_int8_accumulation,
                   check_int16_accumulation, weighted_sum_accumulator, QFORMATS, QBITS, q_attrs, qmodes, q_shifts,
                   check_q_accumulation)
from .requantize import torch_requantize64
from . import gemm
from .gemm import KIND_INT8, KIND_INT16, KIND_Q, int_epilogue  # noqa: F401  (linear imports them from here)


@njit(cache=True, nogil=True)
def tap_range(pad, offset, stride, n_in, n_out):
    """The outputs o in [lo, hi) whose tap o*stride - pad + offset lies inside [0, n_in)."""
    lo = -((offset - pad) // stride)            # ceil((pad - offset) / stride)
    hi = (n_in - 1 + pad - offset) // stride + 1
    return max(lo, 0), min(hi, n_out)


# Both loop kernels accumulate a whole output plane per (sample, output channel), tap by tap in the order
# ci, kh, kw: every output still receives its terms in the spec's order (docs/numerics.md, conv), and the
# inner loop runs over contiguous outputs without bounds tests. The integer formats take the exact fast paths
# of kwsnum/ops/gemm.py where the plan-time bounds allow (docs/numerics.md 3.6).


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def conv2d_int(x, w, bias, mult, shift, sh, sw, dh, dw, pt, pl, groups, out_zp, act_min, act_max, mode, kind,
               bits, omode, out):
    """x holds q_in - zp_in (int8: as int16; the caller subtracts the zero point once per tensor).
    int8: bias int32, int32 accumulator; int16 (docs/numerics.md 9.4): bias int64, int64 accumulator; Q (10.3):
    int32 (q8) or int64 accumulator, products in int64 for q32. See int_epilogue."""
    N, C, H, W = x.shape
    O, Cg, KH, KW = w.shape
    OH, OW = out.shape[2], out.shape[3]
    Og = O // groups
    prod64 = bits == 32
    for no in range(N * O):
        n = no // O
        o = no % O
        c0 = (o // Og) * Cg
        acc = np.empty((OH, OW), dtype=bias.dtype)  # int32 / int64, exact: the loader bounds |acc| (3.4, 9.3, 10.3)
        acc[:] = bias[o]
        for ci in range(Cg):
            xc = x[n, c0 + ci]
            for kh in range(KH):
                oh_lo, oh_hi = tap_range(pt, kh * dh, sh, H, OH)
                for kw in range(KW):
                    wv = np.int32(w[o, ci, kh, kw])
                    if wv == 0:
                        continue
                    ow_lo, ow_hi = tap_range(pl, kw * dw, sw, W, OW)
                    base = kw * dw - pl
                    for oh in range(oh_lo, oh_hi):
                        xr = xc[oh * sh - pt + kh * dh]
                        ar = acc[oh]
                        # unsigned indices: no negative-index wrap-around test in the inner loop
                        if prod64:
                            for ow in range(ow_lo, ow_hi):
                                ar[np.uintp(ow)] += np.int64(xr[np.uintp(ow * sw + base)]) * np.int64(wv)
                        else:
                            for ow in range(ow_lo, ow_hi):
                                ar[np.uintp(ow)] += np.int32(xr[np.uintp(ow * sw + base)]) * wv
        for oh in range(OH):
            for ow in range(OW):
                out[n, o, oh, ow] = int_epilogue(np.int64(acc[oh, ow]), kind, np.int64(mult[o]), np.int64(shift[o]),
                                                 mode, out_zp, bits, omode, act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def conv2d_f32(x, w, bias, sh, sw, dh, dw, pt, pl, groups, act_min, act_max, out):
    N, C, H, W = x.shape
    O, Cg, KH, KW = w.shape
    OH, OW = out.shape[2], out.shape[3]
    Og = O // groups
    for no in range(N * O):
        n = no // O
        o = no % O
        c0 = (o // Og) * Cg
        acc = np.full((OH, OW), bias[o], dtype=np.float32)
        for ci in range(Cg):
            xc = x[n, c0 + ci]
            for kh in range(KH):
                oh_lo, oh_hi = tap_range(pt, kh * dh, sh, H, OH)
                for kw in range(KW):
                    wv = w[o, ci, kh, kw]
                    ow_lo, ow_hi = tap_range(pl, kw * dw, sw, W, OW)
                    base = kw * dw - pl
                    for oh in range(oh_lo, oh_hi):
                        xr = xc[oh * sh - pt + kh * dh]
                        ar = acc[oh]
                        for ow in range(ow_lo, ow_hi):
                            ar[np.uintp(ow)] = ar[np.uintp(ow)] + xr[np.uintp(ow * sw + base)] * wv
        for oh in range(OH):
            for ow in range(OW):
                out[n, o, oh, ow] = min(max(acc[oh, ow], act_min), act_max)


def conv_out_len(n, k, stride, dil, pad_a, pad_b):
    return (n + pad_a + pad_b - dil * (k - 1) - 1) // stride + 1


class Conv2d(Op):
    name = "conv2d"
    rank = 2
    attrs = {
        "stride": Attr("ints", 2, min=1, max=1 << 16),
        "dilation": Attr("ints", 2, default=(1, 1), min=1, max=1 << 16),
        "padding": Attr("ints", 4, default=(0, 0, 0, 0), min=0, max=1 << 16),  # top, bottom, left, right
        "groups": Attr("int", default=1, min=1),
        "act_min": Attr("int", formats=("int8", "int16") + QFORMATS),
        "act_max": Attr("int", formats=("int8", "int16") + QFORMATS),
        "act_min_f": Attr("float", default=float("-inf"), formats=("float32",)),
        "act_max_f": Attr("float", default=float("inf"), formats=("float32",)),
        **q_attrs(),
    }
    formats = ("int8", "float32", "int16") + QFORMATS
    arrays = {
        "weight": Arr(int8="int8", float32="float32", int16="int8", q8="int8", q16="int16", q32="int16"),
        "bias": Arr(int8="int32", float32="float32", int16="int64", q8="int32", q16="int64", q32="int64"),
        "multiplier": Arr(int8="int32", int16="int32"),
        "shift": Arr(int8="int32", int16="int32"),
        "weight_frac": Arr(q8="int32", q16="int32", q32="int32"),
    }

    # -- geometry in conv2d terms: conv1d overrides these two
    def geom_4d(self, node):
        a = node.attrs
        return a["stride"], a["dilation"], a["padding"]

    def as4d(self, shape):
        return shape

    def check(self, node, model, in_specs, fmt):
        w = node.arrays["weight"]
        require(w.ndim == self.rank + 2, node,
                f"weight must have {self.rank + 2} dimensions (O, C/groups, {'KH, KW' if self.rank == 2 else 'K'}), "
                f"got shape {w.shape}")
        require(len(in_specs[0].shape) == self.rank + 1, node,
                f"input must be (C, {'H, W' if self.rank == 2 else 'L'}), got {tuple(in_specs[0].shape)}")
        x = self.as4d(in_specs[0].shape)
        g = node.attrs["groups"]
        O, Cg = w.shape[0], w.shape[1]
        C = x[0]
        require(C % g == 0 and O % g == 0, node, f"groups={g} must divide in_channels={C} and out_channels={O}")
        require(Cg * g == C, node, f"weight shape {w.shape} does not match in_channels={C} with groups={g}")
        for k in ("bias", "multiplier", "shift", "weight_frac"):
            if k in node.arrays:
                require(node.arrays[k].shape == (O,), node,
                        f"{k} shape {node.arrays[k].shape} does not match out_channels={O}")
        if fmt in QFORMATS:
            check_q_accumulation(node, model, fmt)
        if fmt == "int8":
            a = node.arrays
            check_int8_accumulation(node, w, a["bias"], a["multiplier"], a["shift"], in_specs[0].zero_point)
        if fmt == "int16":
            a = node.arrays
            check_int16_accumulation(node, w, a["bias"], a["multiplier"], a["shift"])
        kh, kw = (1, w.shape[2]) if self.rank == 1 else w.shape[2:]
        _, H, W = x
        (sh_, sw_), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        require(H + pt + pb >= dh * (kh - 1) + 1 and W + pl + pr >= dw * (kw - 1) + 1, node,
                f"kernel {tuple(w.shape[2:])} with dilation is larger than the padded input {tuple(in_specs[0].shape[1:])}")

    def accumulator(self, node, model):
        return weighted_sum_accumulator(node, model)

    def output_shapes(self, node, in_shapes):
        C, H, W = self.as4d(in_shapes[0])
        w = node.arrays["weight"]
        kh, kw = (1, w.shape[2]) if self.rank == 1 else w.shape[2:]
        (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        OH = conv_out_len(H, kh, sh, dh, pt, pb)
        OW = conv_out_len(W, kw, sw, dw, pl, pr)
        if self.rank == 1:
            return [(w.shape[0], OW)]
        return [(w.shape[0], OH, OW)]

    def prepare(self, node, model, rounding):
        w = node.arrays["weight"]
        w4 = w if self.rank == 2 else w[:, :, None, :]
        (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        p = dict(w=np.ascontiguousarray(w4), geom=(sh, sw, dh, dw, pt, pl), groups=node.attrs["groups"],
                 out_shape=tuple(out_tensor(model, node).shape), fmt=in_tensor(model, node).format)
        if p["fmt"] in ("int8", "int16"):
            _, zi = qparams(in_tensor(model, node))
            _, zo = qparams(out_tensor(model, node))
            p.update(bias=node.arrays["bias"], mult=node.arrays["multiplier"], shift=node.arrays["shift"],
                     in_off=-zi, out_zp=zo, act=(node.attrs["act_min"], node.attrs["act_max"]), mode=rounding,
                     kind=KIND_INT16 if p["fmt"] == "int16" else KIND_INT8, bits=0, omode=0)
        elif p["fmt"] in QFORMATS:
            p.update(q_prepare(node, model))
        else:
            p.update(bias=node.arrays["bias"],
                     act=(np.float32(node.attrs["act_min_f"]), np.float32(node.attrs["act_max_f"])))
        p["path"], p["dtype"] = "loops", None
        if p["fmt"] != "float32":     # integer: an exact fast path where the bounds allow (3.6)
            zi = in_tensor(model, node).zero_point if p["fmt"] == "int8" else 0
            p["path"], p["dtype"] = gemm.choose(p["fmt"], w, zi, dense=p["groups"] == 1,
                                                depthwise=w.shape[1] == 1 and p["groups"] > 1)
            if p["path"] in ("gemm", "depthwise_float"):
                p["wf"] = p["w"].reshape(w.shape[0], -1).astype(p["dtype"])
            p["epilogue"] = gemm.choose_epilogue(p["kind"], p["mode"], w, p["bias"], p["mult"], p["shift"],
                                                 gemm.input_abs_max(p["fmt"], zi))
            if p["epilogue"] == "f64":
                p["consts"] = gemm.f64_epilogue_consts(p["kind"], p["mode"], p["mult"], p["shift"])
        return p

    def run(self, p, inputs):
        x = inputs[0]
        n = x.shape[0]
        x4 = x if self.rank == 2 else x[:, :, None, :]
        x4 = np.ascontiguousarray(x4)
        oshape = p["out_shape"] if self.rank == 2 else (p["out_shape"][0], 1, p["out_shape"][1])
        out = np.empty((n,) + tuple(oshape), dtype=x.dtype)
        sh, sw, dh, dw, pt, pl = p["geom"]
        if p["path"] == "gemm":
            _, _, KH, KW = p["w"].shape
            OH, OW = out.shape[2], out.shape[3]
            cols = gemm.im2col_batched(x4, p["in_off"], p["dtype"], KH, KW, sh, sw, dh, dw, pt, pl, OH, OW)
            acc = gemm.matmul_exact(p["wf"], cols)          # (O, N * OH * OW)
            gemm.epilogue(p, acc.reshape(-1, n, OH * OW), out.reshape(n, -1, OH * OW), onp=True)
        elif p["path"] == "depthwise_float":
            _, _, KH, KW = p["w"].shape
            OH, OW = out.shape[2], out.shape[3]
            if backend.vector():
                acc = gemm.depthwise_float_v(x4, p["in_off"], p["wf"], KH, KW, sh, sw, dh, dw, pt, pl, OH, OW,
                                             p["dtype"])
            else:
                hq, wq, phases = gemm.float_phases(x4, KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, p["dtype"])
                acc = np.empty((n, out.shape[1], OH * OW), p["dtype"])
                gemm.depthwise_float(x4, p["in_off"], p["wf"], KH, KW, sh, sw, dh, dw, pt, pl, OH, OW, hq, wq,
                                     phases, acc)
            gemm.epilogue(p, acc, out.reshape(acc.shape))
        elif p["path"] == "depthwise":
            _, _, KH, KW = p["w"].shape
            phases = gemm.stride_phases(x4, KH, KW, sh, sw, dh, dw, pt, pl, out.shape[2], out.shape[3])
            gemm.depthwise_int(x4, p["in_off"], p["w"], p["bias"], p["mult"], p["shift"], sh, sw, dh, dw, pt, pl,
                               p["out_zp"], p["act"][0], p["act"][1], p["mode"], p["kind"], p["bits"], p["omode"],
                               phases, out)
        elif p["fmt"] in ("int8", "int16") + QFORMATS:
            # q_in - zp_in: int8 in [-255, 255]; int16 and Q have zero point 0
            xo = x4.astype(np.int16) + np.int16(p["in_off"]) if p["fmt"] == "int8" else x4
            conv2d_int(xo, p["w"], p["bias"], p["mult"], p["shift"], sh, sw, dh, dw, pt, pl, p["groups"],
                       p["out_zp"], p["act"][0], p["act"][1], p["mode"], p["kind"], p["bits"], p["omode"], out)
        else:
            conv2d_f32(x4, p["w"], p["bias"], sh, sw, dh, dw, pt, pl, p["groups"], p["act"][0], p["act"][1], out)
        return [out.reshape((n,) + tuple(p["out_shape"]))]

    def torch_ref(self, node, model, inputs):
        import torch
        import torch.nn.functional as F
        x = inputs[0]
        w = torch.as_tensor(node.arrays["weight"].astype(np.float64))
        (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        g = node.attrs["groups"]
        xin, xout = in_tensor(model, node), out_tensor(model, node)
        if xin.format in QFORMATS:
            def conv(v):
                v = F.pad(v, (pl, pr, pt, pb) if self.rank == 2 else (pl, pr))
                if self.rank == 2:
                    return F.conv2d(v, w, None, stride=(sh, sw), dilation=(dh, dw), groups=g)
                return F.conv1d(v, w, None, stride=sw, dilation=dw, groups=g)
            return [torch_q_weighted_sum(conv, x, node, model, axis=1)]
        if xin.format in ("int8", "int16"):
            # padding below adds real zeros; float64 holds every int16 partial sum (< 2**47) exactly
            xf = (x - xin.zero_point).to(torch.float64)
        else:
            xf = x.to(torch.float64)
        if self.rank == 2:
            xf = F.pad(xf, (pl, pr, pt, pb))
            acc = F.conv2d(xf, w, None, stride=(sh, sw), dilation=(dh, dw), groups=g)
        else:
            xf = F.pad(xf, (pl, pr))
            acc = F.conv1d(xf, w, None, stride=sw, dilation=dw, groups=g)
        bshape = (1, -1) + (1,) * self.rank
        if xin.format == "int16":
            acc = acc.round().to(torch.int64) + torch.as_tensor(node.arrays["bias"].astype(np.int64)).reshape(bshape)
            y = torch_requantize64(acc, node.arrays["multiplier"], node.arrays["shift"], axis=1)
            return [y.clamp(node.attrs["act_min"], node.attrs["act_max"])]
        if xin.format == "int8":
            acc = acc.round().to(torch.int64) + torch.as_tensor(node.arrays["bias"].astype(np.int64)).reshape(bshape)
            y = t_requantize(acc, node.arrays["multiplier"], node.arrays["shift"], model.rounding, axis=1)
            y = (y + xout.zero_point).clamp(node.attrs["act_min"], node.attrs["act_max"])
            return [y]
        y = acc + torch.as_tensor(node.arrays["bias"].astype(np.float64)).reshape(bshape)
        y = y.clamp(node.attrs["act_min_f"], node.attrs["act_max_f"]).to(torch.float32)
        return [y]

    def c_call(self, node, model):
        """C: kws_conv2d_s8 / kws_conv2d_s16 / kws_conv2d_f32 (c_runtime/kws_conv.h); conv1d is the 2-D kernel with
        H = KH = 1. int8 with groups == 1 or depthwise: the fast twins of c_runtime/kws_conv_fast.h (same
        arithmetic, a scratch buffer)."""
        from ..fixedpoint import ROUNDING_MODES
        w = node.arrays["weight"]
        O = w.shape[0]
        kh, kw = (1, w.shape[2]) if self.rank == 1 else w.shape[2:]
        C, H, W = self.as4d(tuple(in_tensor(model, node).shape))
        _, OH, OW = self.as4d(tuple(out_tensor(model, node).shape))
        (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        geom = [("i32", int(v)) for v in (C, H, W, O, kh, kw, OH, OW, sh, sw, dh, dw, pt, pl, node.attrs["groups"])]
        if in_tensor(model, node).format in QFORMATS:
            return q_c_call("kws_conv2d", node, model, geom)
        if in_tensor(model, node).format == "int16":
            return "kws_conv2d_s16", ([("in", 0), ("array", "weight"), ("array", "bias"), ("array", "multiplier"),
                                       ("array", "shift"), ("out", 0)] + geom +
                                      [("i32", int(node.attrs["act_min"])), ("i32", int(node.attrs["act_max"]))])
        if in_tensor(model, node).format == "int8":
            _, zi = qparams(in_tensor(model, node))
            _, zo = qparams(out_tensor(model, node))
            tail = [("i32", zi), ("i32", zo), ("i32", int(node.attrs["act_min"])),
                    ("i32", int(node.attrs["act_max"])), ("i32", ROUNDING_MODES[model.rounding])]
            g = node.attrs["groups"]
            head = [("in", 0), ("array", "weight"), ("array", "bias"), ("array", "multiplier"), ("array", "shift"),
                    ("out", 0)]
            if g == 1:        # im2col + 2x2 blocking (SMLAD on Cortex-M): c_runtime/kws_conv_fast.h
                return "kws_conv2d_s8_fast", (head + [("scratch", 4 * C * kh * kw)] + geom[:-1] + tail)
            if g == C == O:   # depthwise on a padded plane
                ph, pw = (OH - 1) * sh + (kh - 1) * dh + 1, (OW - 1) * sw + (kw - 1) * dw + 1
                return "kws_dwconv2d_s8_fast", (head + [("scratch", 2 * ph * pw)] +
                                                [("i32", int(v)) for v in (C, H, W, kh, kw, OH, OW, sh, sw, dh, dw,
                                                                           pt, pl)] + tail)
            return "kws_conv2d_s8", (head + geom + tail)
        return "kws_conv2d_f32", ([("in", 0), ("array", "weight"), ("array", "bias"), ("out", 0)] + geom +
                                  [("f32", float(np.float32(node.attrs["act_min_f"]))),
                                   ("f32", float(np.float32(node.attrs["act_max_f"])))])

    def macs(self, node, model):
        w = node.arrays["weight"]
        out = out_tensor(model, node)
        return int(np.prod(out.shape)) * int(np.prod(w.shape[1:]))


class Conv1d(Conv2d):
    name = "conv1d"
    rank = 1
    attrs = dict(Conv2d.attrs)
    attrs.update({
        "stride": Attr("ints", 1, min=1, max=1 << 16),
        "dilation": Attr("ints", 1, default=(1,), min=1, max=1 << 16),
        "padding": Attr("ints", 2, default=(0, 0), min=0, max=1 << 16),  # left, right
    })

    def geom_4d(self, node):
        a = node.attrs
        l, r = a["padding"]
        return (1, a["stride"][0]), (1, a["dilation"][0]), (0, 0, l, r)

    def as4d(self, shape):
        return (shape[0], 1, shape[1])


def q_prepare(node, model):
    """prepare() entries of a Q conv / linear (docs/numerics.md 10.3): the shifts n_in + weight_frac - n_out
    and the mode codes, for conv2d_int / linear_int's KIND_Q epilogue."""
    fmt = in_tensor(model, node).format
    rmode, omode = qmodes(node)
    sh = q_shifts(node, model)
    return dict(bias=node.arrays["bias"], mult=np.zeros_like(sh), shift=sh, in_off=0, out_zp=0,
                act=(node.attrs["act_min"], node.attrs["act_max"]), mode=rmode, kind=KIND_Q, bits=QBITS[fmt],
                omode=omode)


def torch_q_weighted_sum(op, x, node, model, axis):
    """Torch reference of a Q conv / linear (10.3): ``op`` is the float64 conv / matmul with the weights bound;
    x splits into 16-bit halves (x = xh * 2**16 + xl, 0 <= xl < 2**16) so that each float64 sum of products
    (|x| < 2**16, |w| <= 2**15) is exact; acc = bias + op(xh) * 2**16 + op(xl) in int64, then qcast, clamp."""
    import torch
    from ..torchref import qcast
    fmt = in_tensor(model, node).format
    x = x.to(torch.int64)
    xh = torch.div(x, 1 << 16, rounding_mode="floor")
    xl = x - xh * (1 << 16)
    acc = op(xh.to(torch.float64)).round().to(torch.int64) * (1 << 16) + op(xl.to(torch.float64)).round().to(torch.int64)
    shape = [1] * acc.ndim
    shape[axis] = -1
    acc = acc + torch.as_tensor(node.arrays["bias"].astype(np.int64)).reshape(shape)
    sh = torch.as_tensor(q_shifts(node, model)).reshape(shape)
    y = qcast(acc, sh, node.attrs["qround"], QBITS[fmt], node.attrs["qoverflow"])
    return y.clamp(node.attrs["act_min"], node.attrs["act_max"])


def q_c_call(base, node, model, geom):
    """C call of a Q conv / linear: <base>_q8/_q16/_q32(in, weight, bias, weight_frac, out, <geom>, in_frac,
    out_frac, act_min, act_max, qround, qoverflow) (docs/numerics.md 10.3)."""
    rmode, omode = qmodes(node)
    xin, xout = in_tensor(model, node), out_tensor(model, node)
    return f"{base}_{xin.format}", ([("in", 0), ("array", "weight"), ("array", "bias"), ("array", "weight_frac"),
                                     ("out", 0)] + geom +
                                    [("i32", xin.frac_bits), ("i32", xout.frac_bits),
                                     ("i32", int(node.attrs["act_min"])), ("i32", int(node.attrs["act_max"])),
                                     ("i32", rmode), ("i32", omode)])


conv2d_int8 = conv2d_int   # the former name

OPS = [Conv2d(), Conv1d()]
