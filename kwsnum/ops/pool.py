"""avgpool1d/2d and maxpool1d/2d: kernel, stride, explicit padding per side (maxpool: dilation).

Layout (PyTorch): input (N, C, H, W) / (N, C, L). The 1d ops run the 2d kernels on a height-1 view.
Output size is PyTorch's ceil_mode=False rule; padding per side is at most kernel // 2 (PyTorch's rule).
int8: input and output share scale and zero point (TFLite AVERAGE_POOL_2D / MAX_POOL_2D).
Spec: docs/numerics.md, "pooling".
"""
import numpy as np
from .._numba import njit

from ..fixedpoint import clamp, div_round, ROUND_RND_INF, QROUNDING_MODES
from ..model import QRANGE
from .base import Attr, Op, in_tensor, out_tensor, qparams, require, QFORMATS, q_attrs
from .relu import C_INT, INT_FORMATS, same_qparams


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def avgpool2d_int8(x, kh, kw, sh, sw, pt, pl, include_pad, zp, act_min, act_max, mode, out):
    """int8 / int16 (mode RND_INF: round_away, docs/numerics.md 4) and Q (mode: the node's qround, 10.3)."""
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    area = np.int64(kh * kw)
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        for oh in range(OH):
            ih0 = oh * sh - pt
            for ow in range(OW):
                iw0 = ow * sw - pl
                acc = np.int64(0)
                cnt = np.int64(0)
                for i in range(kh):
                    ih = ih0 + i
                    if ih < 0 or ih >= H:
                        continue
                    for j in range(kw):
                        iw = iw0 + j
                        if iw < 0 or iw >= W:
                            continue
                        acc += np.int64(x[n, c, ih, iw])
                        cnt += 1
                if include_pad:
                    acc += (area - cnt) * zp  # every padded tap is the real value 0, i.e. q = zp
                    cnt = area
                v = div_round(acc, cnt, mode)
                out[n, c, oh, ow] = clamp(v, act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def avgpool2d_f32(x, kh, kw, sh, sw, pt, pl, include_pad, act_min, act_max, out):
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        for oh in range(OH):
            ih0 = oh * sh - pt
            for ow in range(OW):
                iw0 = ow * sw - pl
                acc = np.float32(0.0)
                cnt = 0
                for i in range(kh):
                    ih = ih0 + i
                    if ih < 0 or ih >= H:
                        continue
                    for j in range(kw):
                        iw = iw0 + j
                        if iw < 0 or iw >= W:
                            continue
                        acc = acc + x[n, c, ih, iw]
                        cnt += 1
                if include_pad:
                    cnt = kh * kw
                y = acc / np.float32(cnt)
                out[n, c, oh, ow] = min(max(y, act_min), act_max)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def maxpool2d_int8(x, kh, kw, sh, sw, dh, dw, pt, pl, act_min, act_max, qmin, out):
    """int8 / int16 (qmin: the type's minimum, -128 / -32768)."""
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        for oh in range(OH):
            ih0 = oh * sh - pt
            for ow in range(OW):
                iw0 = ow * sw - pl
                m = np.int64(qmin)  # every window has a valid tap (checked), so this is max over the taps
                for i in range(kh):
                    ih = ih0 + i * dh
                    if ih < 0 or ih >= H:
                        continue
                    for j in range(kw):
                        iw = iw0 + j * dw
                        if iw < 0 or iw >= W:
                            continue
                        v = np.int64(x[n, c, ih, iw])
                        if v > m:
                            m = v
                out[n, c, oh, ow] = clamp(m, act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def maxpool2d_f32(x, kh, kw, sh, sw, dh, dw, pt, pl, act_min, act_max, out):
    N, C, H, W = x.shape
    OH, OW = out.shape[2], out.shape[3]
    for nc in range(N * C):
        n = nc // C
        c = nc % C
        for oh in range(OH):
            ih0 = oh * sh - pt
            for ow in range(OW):
                iw0 = ow * sw - pl
                m = np.float32(-np.inf)
                for i in range(kh):
                    ih = ih0 + i * dh
                    if ih < 0 or ih >= H:
                        continue
                    for j in range(kw):
                        iw = iw0 + j * dw
                        if iw < 0 or iw >= W:
                            continue
                        v = x[n, c, ih, iw]
                        if v > m or v != v:  # NaN propagates, as PyTorch
                            m = v
                out[n, c, oh, ow] = min(max(m, act_min), act_max)


def pool_out_len(n, k, stride, dil, pad_a, pad_b):
    """PyTorch ceil_mode=False output length."""
    return (n + pad_a + pad_b - dil * (k - 1) - 1) // stride + 1


def dim_problem(n, k, stride, dil, pad_a, pad_b):
    """None if this 1-D geometry is valid, else the reason: padding > k // 2 (PyTorch's rule), a kernel
    larger than the padded input, or (possible only with dilation) a window whose taps all fall in padding."""
    if pad_a > k // 2 or pad_b > k // 2:
        return f"padding ({pad_a}, {pad_b}) must be at most kernel // 2 = {k // 2} per side"
    if n + pad_a + pad_b < dil * (k - 1) + 1:
        return f"kernel {k} (dilation {dil}) is larger than the padded input {n} + {pad_a} + {pad_b}"
    for o in range(pool_out_len(n, k, stride, dil, pad_a, pad_b)):
        start = o * stride - pad_a
        if not any(0 <= start + i * dil < n for i in range(k)):
            return f"output position {o}: every tap of the window falls in the padding"
    return None


SUM_LIMIT = 1 << 31  # int8 avgpool: 128 * kernel area must stay below this (int32 sum exact)


class _Pool2d(Op):
    rank = 2
    formats = ("int8", "float32", "int16") + QFORMATS
    kind = "avg"
    attrs = {
        "kernel": Attr("ints", 2, min=1, max=1 << 16),
        "stride": Attr("ints", 2, min=1, max=1 << 16),
        "padding": Attr("ints", 4, default=(0, 0, 0, 0), min=0, max=1 << 16),  # top, bottom, left, right
        "act_min": Attr("int", default={f: QRANGE[f][0] for f in INT_FORMATS}, formats=INT_FORMATS),
        "act_max": Attr("int", default={f: QRANGE[f][1] for f in INT_FORMATS}, formats=INT_FORMATS),
        "act_min_f": Attr("float", default=float("-inf"), formats=("float32",)),
        "act_max_f": Attr("float", default=float("inf"), formats=("float32",)),
    }

    # -- geometry in 2d terms (kernel, stride, dilation, padding t,b,l,r): the 1d ops override these two
    def geom_4d(self, node):
        a = node.attrs
        return a["kernel"], a["stride"], a.get("dilation", (1, 1)), a["padding"]

    def as4d(self, shape):
        return shape

    def check(self, node, model, in_specs, fmt):
        require(len(in_specs[0].shape) == self.rank + 1, node,
                f"input must be (C, {'H, W' if self.rank == 2 else 'L'}), got {tuple(in_specs[0].shape)}")
        _, H, W = self.as4d(in_specs[0].shape)
        (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        dims = [("width" if self.rank == 2 else "length", W, kw, sw, dw, pl, pr)]
        if self.rank == 2:
            dims.insert(0, ("height", H, kh, sh, dh, pt, pb))
        for label, n, k, s, d, pa, pb_ in dims:
            why = dim_problem(n, k, s, d, pa, pb_)
            require(why is None, node, f"{label}: {why}")
        if fmt in ("int8", "int16"):
            xin, xout = in_tensor(model, node), out_tensor(model, node)
            require(qparams(xin) == qparams(xout), node,
                    f"{fmt} {self.name} needs the output quantization equal to the input's: input "
                    f"{xin.describe()}, output {xout.describe()}")
            big = 128 if fmt == "int8" else 32768     # max |q|: the int32 sum is exact (9.4 for int16)
            require(big * kh * kw < SUM_LIMIT, node, f"kernel area {kh * kw} is too large for an int32 sum")
        if fmt in QFORMATS:      # int64 sums of at most 2**32 taps of |q| <= 2**31: exact (10.3)
            same_qparams(node, model, self.name)

    def work(self, node, model):
        (kh, kw) = self.geom_4d(node)[0]
        return out_tensor(model, node).size * kh * kw      # one read per tap and output

    def output_shapes(self, node, in_shapes):
        C, H, W = self.as4d(in_shapes[0])
        (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        OH = pool_out_len(H, kh, sh, dh, pt, pb)
        OW = pool_out_len(W, kw, sw, dw, pl, pr)
        if self.rank == 1:
            return [(C, OW)]
        return [(C, OH, OW)]

    def prepare(self, node, model, rounding):
        (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        p = dict(geom=(kh, kw, sh, sw, dh, dw, pt, pl), out_shape=tuple(out_tensor(model, node).shape),
                 fmt=in_tensor(model, node).format,
                 include_pad=bool(node.attrs.get("count_include_pad", False)))
        if p["fmt"] in INT_FORMATS:
            q = p["fmt"] in QFORMATS
            p.update(zp=0 if q else qparams(in_tensor(model, node))[1],
                     act=(node.attrs["act_min"], node.attrs["act_max"]), qmin=QRANGE[p["fmt"]][0],
                     mode=QROUNDING_MODES[node.attrs["qround"]] if q and self.kind == "avg" else ROUND_RND_INF)
        else:
            p.update(act=(np.float32(node.attrs["act_min_f"]), np.float32(node.attrs["act_max_f"])))
        return p

    def run(self, p, inputs):
        x = inputs[0]
        n = x.shape[0]
        x4 = np.ascontiguousarray(x if self.rank == 2 else x[:, :, None, :])
        oshape = p["out_shape"] if self.rank == 2 else (p["out_shape"][0], 1, p["out_shape"][1])
        out = np.empty((n,) + tuple(oshape), dtype=x.dtype)
        kh, kw, sh, sw, dh, dw, pt, pl = p["geom"]
        lo, hi = p["act"]
        if self.kind == "avg":
            if p["fmt"] in INT_FORMATS:
                avgpool2d_int8(x4, kh, kw, sh, sw, pt, pl, p["include_pad"], p["zp"], lo, hi, p["mode"], out)
            else:
                avgpool2d_f32(x4, kh, kw, sh, sw, pt, pl, p["include_pad"], lo, hi, out)
        else:
            if p["fmt"] in INT_FORMATS:
                maxpool2d_int8(x4, kh, kw, sh, sw, dh, dw, pt, pl, lo, hi, p["qmin"], out)
            else:
                maxpool2d_f32(x4, kh, kw, sh, sw, dh, dw, pt, pl, lo, hi, out)
        return [out.reshape((n,) + tuple(p["out_shape"]))]

    def c_call(self, node, model):
        """C: kws_avgpool2d_s8/_s16/_q8/_q16/_q32/_f32, kws_maxpool2d_s8/_s16/_s32/_f32 (c_runtime/kws_pool.h; Q
        maxpool is the integer maxpool of its container); 1d ops: H = KH = 1; the _s16 and Q kernels take no zero
        point (0); Q avgpool takes the rounding mode last."""
        (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        xin = in_tensor(model, node)
        C, H, W = self.as4d(tuple(xin.shape))
        _, OH, OW = self.as4d(tuple(out_tensor(model, node).shape))
        args = [("in", 0), ("out", 0)] + [("i32", int(v)) for v in (C, H, W, OH, OW, kh, kw, sh, sw)]
        if self.kind == "avg":
            args += [("i32", int(v)) for v in (pt, pl, bool(node.attrs.get("count_include_pad", False)))]
            if xin.format == "int8":
                args.append(("i32", qparams(xin)[1]))
        else:
            args += [("i32", int(v)) for v in (dh, dw, pt, pl)]
        if xin.format in INT_FORMATS:
            args += [("i32", int(node.attrs["act_min"])), ("i32", int(node.attrs["act_max"]))]
        else:
            args += [("f32", float(np.float32(node.attrs["act_min_f"]))),
                     ("f32", float(np.float32(node.attrs["act_max_f"])))]
        if xin.format in QFORMATS and self.kind == "avg":
            args.append(("i32", QROUNDING_MODES[node.attrs["qround"]]))
            return f"kws_avgpool2d_{xin.format}", args
        return f"kws_{self.kind}pool2d_{C_INT.get(xin.format, 'f32')}", args

    def torch_ref(self, node, model, inputs):
        import torch
        import torch.nn.functional as F
        x = inputs[0]
        (kh, kw), (sh, sw), (dh, dw), (pt, pb, pl, pr) = self.geom_4d(node)
        x4 = x if self.rank == 2 else x.unsqueeze(2)
        xf = x4.to(torch.float64)  # int8 / int16 values are exact in float64, and so are their sums (q32: 2**53 / 2**31
                                   # = 4M taps; the loader allows kernels up to 2**32 taps, tests stay far below)
        pads = (pl, pr, pt, pb)
        fmt = in_tensor(model, node).format
        int8 = fmt in INT_FORMATS   # integer formats (int16, Q: zp 0)
        if self.kind == "avg":
            include = node.attrs["count_include_pad"]
            zp = qparams(in_tensor(model, node))[1] if fmt in ("int8", "int16") else 0
            # padded taps: the real value 0 (q = zp) when counted, else they add nothing
            xp = F.pad(xf, pads, value=float(zp) if include else 0.0)
            s = F.avg_pool2d(xp, (kh, kw), (sh, sw), divisor_override=1)
            if include:
                cnt = torch.full((1, 1) + tuple(s.shape[2:]), float(kh * kw), dtype=torch.float64)
            else:
                ones = F.pad(torch.ones((1, 1) + tuple(xf.shape[2:]), dtype=torch.float64), pads)
                cnt = F.avg_pool2d(ones, (kh, kw), (sh, sw), divisor_override=1)
            if int8:
                from ..torchref import div_round
                mode = node.attrs["qround"] if fmt in QFORMATS else "RND_INF"    # RND_INF: round_away (section 4)
                y = div_round(s.round().to(torch.int64), cnt.round().to(torch.int64), mode)
            else:
                y = s / cnt
        else:
            xp = F.pad(xf, pads, value=float("-inf"))
            y = F.max_pool2d(xp, (kh, kw), (sh, sw), dilation=(dh, dw))
            if int8:
                y = y.to(torch.int64)
        if int8:
            y = y.clamp(node.attrs["act_min"], node.attrs["act_max"])
        else:
            y = y.clamp(node.attrs["act_min_f"], node.attrs["act_max_f"]).to(torch.float32)
        if self.rank == 1:
            y = y.squeeze(2)
        return [y]


class AvgPool2d(_Pool2d):
    name = "avgpool2d"
    kind = "avg"
    attrs = dict(_Pool2d.attrs, count_include_pad=Attr("bool", default=False), **q_attrs(overflow=False))


class MaxPool2d(_Pool2d):
    name = "maxpool2d"
    kind = "max"
    attrs = dict(_Pool2d.attrs, dilation=Attr("ints", 2, default=(1, 1), min=1, max=1 << 16))


class _Pool1dMixin:
    rank = 1

    def geom_4d(self, node):
        a = node.attrs
        l, r = a["padding"]
        return (1, a["kernel"][0]), (1, a["stride"][0]), (1, a.get("dilation", (1,))[0]), (0, 0, l, r)

    def as4d(self, shape):
        return (shape[0], 1, shape[1])


_ATTRS_1D = {
    "kernel": Attr("ints", 1, min=1, max=1 << 16),
    "stride": Attr("ints", 1, min=1, max=1 << 16),
    "padding": Attr("ints", 2, default=(0, 0), min=0, max=1 << 16),  # left, right
}


class AvgPool1d(_Pool1dMixin, AvgPool2d):
    name = "avgpool1d"
    attrs = dict(AvgPool2d.attrs, **_ATTRS_1D)


class MaxPool1d(_Pool1dMixin, MaxPool2d):
    name = "maxpool1d"
    attrs = dict(MaxPool2d.attrs, **_ATTRS_1D, dilation=Attr("ints", 1, default=(1,), min=1, max=1 << 16))


OPS = [AvgPool2d(), AvgPool1d(), MaxPool2d(), MaxPool1d()]
