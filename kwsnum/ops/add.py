"""add: elementwise sum of two tensors with broadcasting (numpy / TFLite: per-sample shapes aligned from the last
axis, missing leading axes and size-1 axes broadcast), e.g. a residual connection or a per-channel offset.

int8 is TFLite/TFLM ADD exactly: both inputs are brought to a common fixed-point scale (shifted left by
``left_shift`` bits, then each requantized by its own multiplier), summed in int32, requantized to the
output scale, offset by the output zero point and clamped. float32: y = x1 + x2 (one float32 addition),
then the clamp. Broadcasting changes only which elements are read (TFLM's BroadcastAdd does the per-element
arithmetic of its plain ADD); same shapes take the flat fast path. int8 / int16: the second operand may be a
constant (datasets ``b``, ``b_zero_point``; kwsnum.ops.mul.second_operand). Spec: docs/numerics.md, "add". The exporter computes the int8 attributes with
:func:`add_params`.
"""
import numpy as np
from .._numba import njit

from ..fixedpoint import requantize, clamp, qcast
from ..quant import quantize_multiplier
from ..torchref import requantize as t_requantize
from .mul import (broadcast_strides, CONST_ARRAYS, check_operands, const_of, has_const, operand_c, operands_np,
                  operands_torch, second_operand)
from .base import Attr, Op, in_tensor, out_tensor, qparams, require, QFORMATS, QBITS, q_attrs, qmodes, q_frac

LEFT_SHIFT = 20  # TFLite's value for int8 ADD
LEFT_SHIFT_INT16 = 15  # TFLite's value for int16 ADD (general path): |q| * 2**15 <= 2**30
I32MAX = (1 << 31) - 1
MAX_RANK = 3  # per-sample rank of a broadcasting add (the C geometry of c_runtime/kws_broadcast.h)


def broadcast_shape(a, b):
    """numpy's / TFLite's broadcast shape of per-sample shapes a and b (aligned from the last axis, missing leading
    axes are 1; each pair equal or one of them 1), or None if they do not broadcast."""
    r = max(len(a), len(b))
    a, b = (1,) * (r - len(a)) + tuple(a), (1,) * (r - len(b)) + tuple(b)
    if any(x != y and 1 not in (x, y) for x, y in zip(a, b)):
        return None
    return tuple(max(x, y) for x, y in zip(a, b))


def _padded(x, rank):
    """x (batch first) reshaped to (N,) + per-sample shape padded with leading 1s to ``rank`` axes."""
    return x.reshape((x.shape[0],) + (1,) * (rank - (x.ndim - 1)) + tuple(x.shape[1:]))


def add_params(s1, s2, s_out, left_shift=LEFT_SHIFT):
    """Export: the int8 ADD multipliers from the three float32 scales, as TFLite's Prepare does.

    twice_max = 2 max(s1, s2); real_in_i = s_i / twice_max (<= 0.5, so in_shift <= 0);
    real_out = twice_max / (2**left_shift * s_out). Scales are taken as float32 values, arithmetic in double.
    Returns the int attributes (without act_min / act_max).
    """
    s1, s2, so = (float(np.float32(s)) for s in (s1, s2, s_out))
    twice_max = 2.0 * max(s1, s2)
    m1, sh1 = quantize_multiplier(s1 / twice_max)
    m2, sh2 = quantize_multiplier(s2 / twice_max)
    mo, sho = quantize_multiplier(twice_max / ((1 << left_shift) * so))
    return dict(in1_multiplier=m1, in1_shift=sh1, in2_multiplier=m2, in2_shift=sh2,
                out_multiplier=mo, out_shift=sho, left_shift=left_shift)


@njit(cache=True, nogil=True, error_model="numpy")
def _int8_elem(q1, q2, off1, off2, left_shift, m1, s1, m2, s2, mo, so, out_zp, act_min, act_max, mode):
    scale = np.int64(1) << left_shift
    x1 = (np.int64(q1) + off1) * scale
    x2 = (np.int64(q2) + off2) * scale
    raw = requantize(x1, m1, s1, mode) + requantize(x2, m2, s2, mode)
    return clamp(requantize(raw, mo, so, mode) + out_zp, act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def add_int8(a, b, off1, off2, left_shift, m1, s1, m2, s2, mo, so, out_zp, act_min, act_max, mode, out):
    for i in range(a.shape[0]):
        out[i] = _int8_elem(a[i], b[i], off1, off2, left_shift, m1, s1, m2, s2, mo, so, out_zp, act_min, act_max,
                            mode)


@njit(cache=True, nogil=True, error_model="numpy")
def add_int8_bcast(a, b, off1, off2, left_shift, m1, s1, m2, s2, mo, so, out_zp, act_min, act_max, mode, out):
    """a, b: (N, n0, n1, n2) views with stride 0 along their broadcast axes (np.broadcast_to); out contiguous."""
    for n in range(out.shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                for k in range(out.shape[3]):
                    out[n, i, j, k] = _int8_elem(a[n, i, j, k], b[n, i, j, k], off1, off2, left_shift, m1, s1, m2,
                                                 s2, mo, so, out_zp, act_min, act_max, mode)


@njit(cache=True, nogil=True, error_model="numpy")
def _q_elem(x1, x2, k1, k2, shift, rmode, bits, omode, act_min, act_max):
    s = np.int64(x1) * (np.int64(1) << k1) + np.int64(x2) * (np.int64(1) << k2)
    return clamp(qcast(s, shift, rmode, bits, omode), act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def add_q(a, b, k1, k2, shift, rmode, bits, omode, act_min, act_max, out):
    """Q add (docs/numerics.md 10.3): s = a * 2**k1 + b * 2**k2 (k1, k2 >= 0, one of them 0; int64 exact),
    y = clamp(qcast(s, shift, rmode, bits, omode), act_min, act_max)."""
    for i in range(a.shape[0]):
        out[i] = _q_elem(a[i], b[i], k1, k2, shift, rmode, bits, omode, act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")
def add_q_bcast(a, b, k1, k2, shift, rmode, bits, omode, act_min, act_max, out):
    for n in range(out.shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                for k in range(out.shape[3]):
                    out[n, i, j, k] = _q_elem(a[n, i, j, k], b[n, i, j, k], k1, k2, shift, rmode, bits, omode,
                                              act_min, act_max)


def q_add_shifts(node, model):
    """(k1, k2, shift) of a Q add: the inputs aligned to n = max(n1, n2), then shifted by n - n_out (10.3)."""
    n1, n2 = q_frac(model, node.inputs[0]), q_frac(model, node.inputs[1])
    n = max(n1, n2)
    return n - n1, n - n2, n - q_frac(model, node.outputs[0])


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def add_f32(a, b, act_min, act_max, out):
    for i in range(a.shape[0]):
        out[i] = clamp(a[i] + b[i], act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")
def add_f32_bcast(a, b, act_min, act_max, out):
    for n in range(out.shape[0]):
        for i in range(out.shape[1]):
            for j in range(out.shape[2]):
                for k in range(out.shape[3]):
                    out[n, i, j, k] = clamp(a[n, i, j, k] + b[n, i, j, k], act_min, act_max)


def _int8_attr(lo, hi, default=None):
    return Attr("int", default=default, min=lo, max=hi, formats=("int8", "int16"))


class Add(Op):
    name = "add"
    n_inputs = None             # 2, or 1 and a constant operand (kwsnum.ops.mul.check_operands)
    formats = ("int8", "float32", "int16") + QFORMATS
    attrs = {
        "in1_multiplier": _int8_attr(0, I32MAX),
        "in1_shift": _int8_attr(-31, 0),
        "in2_multiplier": _int8_attr(0, I32MAX),
        "in2_shift": _int8_attr(-31, 0),
        "out_multiplier": _int8_attr(0, I32MAX),
        "out_shift": _int8_attr(-31, 30),
        # |q - zp| <= 255 and in_shift <= 0 keep x' and the raw sum inside int32 for left_shift <= 22
        "left_shift": _int8_attr(0, 22, default=LEFT_SHIFT),
        "act_min": Attr("int", formats=("int8", "int16") + QFORMATS),
        "act_max": Attr("int", formats=("int8", "int16") + QFORMATS),
        "act_min_f": Attr("float", default=float("-inf"), formats=("float32",)),
        "act_max_f": Attr("float", default=float("inf"), formats=("float32",)),
        **q_attrs(),
    }
    arrays = dict(CONST_ARRAYS)

    def check(self, node, model, in_specs, fmt):
        check_operands(node, model, fmt)
        a = in_specs[0]
        b_shape = second_operand(node, model)[0]
        if len(in_specs) == 2:
            b = in_specs[1]
            require(b.format == a.format, node, f"both inputs must have the same format, got {a.format} and "
                    f"{b.format}")
        if tuple(a.shape) != tuple(b_shape):
            out = broadcast_shape(a.shape, b_shape)
            require(out is not None, node, f"shapes {tuple(a.shape)} and {tuple(b_shape)} do not broadcast (aligned "
                    "from the last axis, each axis equal or 1 in one of them)")
            require(len(out) <= MAX_RANK, node, f"a broadcasting add of per-sample rank {len(out)}: at most "
                    f"{MAX_RANK} (same shapes: any rank)")
        if fmt == "int16":   # |q| <= 2**15: x' = q * 2**left_shift and the raw sum stay inside int32 (9.4)
            require(node.attrs["left_shift"] <= LEFT_SHIFT_INT16, node,
                    f"int16 add needs left_shift <= {LEFT_SHIFT_INT16}, got {node.attrs['left_shift']}")
        if fmt in QFORMATS:
            k1, k2, shift = q_add_shifts(node, model)
            require(max(k1, k2) <= 31, node, f"the inputs' frac_bits differ by {max(k1, k2)} (at most 31)")
            require(abs(shift) <= 62, node, f"the shift max(n1, n2) - n_out = {shift} is outside [-62, 62]")

    def inplace_inputs(self, node, model):
        # elementwise: y[o] from a[o] and b[o] for an input of the output's shape (a broadcast input's elements are
        # read again later, so y may not overwrite it)
        out = tuple(model.tensors[node.outputs[0]].shape)
        return tuple(i for i in range(len(node.inputs)) if tuple(model.tensors[node.inputs[i]].shape) == out)

    def output_shapes(self, node, in_shapes):
        b = tuple(np.shape(node.arrays["b"])) if len(in_shapes) == 1 and "b" in node.arrays else \
            tuple(in_shapes[1] if len(in_shapes) > 1 else in_shapes[0])
        return [broadcast_shape(in_shapes[0], b) or tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        p = self._prepare(node, model, rounding)
        p["b"] = const_of(node)
        ins = [tuple(model.tensors[node.inputs[0]].shape), second_operand(node, model)[0]]
        p["out"] = tuple(out_tensor(model, node).shape)
        p["bcast"] = None if ins[0] == ins[1] else (1,) * (MAX_RANK - len(out_tensor(model, node).shape)) + tuple(
            out_tensor(model, node).shape)
        return p

    def _prepare(self, node, model, rounding):
        fmt = in_tensor(model, node).format
        if fmt == "float32":
            return dict(fmt=fmt, act=(np.float32(node.attrs["act_min_f"]), np.float32(node.attrs["act_max_f"])))
        if fmt in QFORMATS:
            rmode, omode = qmodes(node)
            return dict(fmt=fmt, args=q_add_shifts(node, model) + (rmode, QBITS[fmt], omode, node.attrs["act_min"],
                                                                  node.attrs["act_max"]))
        a = node.attrs   # int8 and int16 (zero points 0): the same kernel
        _, z1 = qparams(in_tensor(model, node, 0))
        z2 = second_operand(node, model)[1]
        _, zo = qparams(out_tensor(model, node))
        i64 = np.int64
        args = (i64(-z1), i64(-z2), i64(a["left_shift"]),
                i64(a["in1_multiplier"]), i64(a["in1_shift"]), i64(a["in2_multiplier"]), i64(a["in2_shift"]),
                i64(a["out_multiplier"]), i64(a["out_shift"]), i64(zo),
                i64(a["act_min"]), i64(a["act_max"]), i64(rounding))
        return dict(fmt=fmt, args=args)

    def run(self, p, inputs):
        inputs = operands_np(p["b"], inputs)
        if p["bcast"] is not None:   # (N,) + the padded output shape; the inputs as stride-0 views of it
            full = (inputs[0].shape[0],) + p["bcast"]
            a, b = (np.broadcast_to(_padded(x, MAX_RANK), full) for x in inputs)
            out = np.empty(full, inputs[0].dtype)
            if p["fmt"] in QFORMATS:
                add_q_bcast(a, b, *p["args"], out)
            elif p["fmt"] in ("int8", "int16"):
                add_int8_bcast(a, b, *p["args"], out)
            else:
                add_f32_bcast(a, b, p["act"][0], p["act"][1], out)
            return [out.reshape((full[0],) + p["out"])]
        a = np.ascontiguousarray(inputs[0])   # same shapes: the flat fast path
        b = np.ascontiguousarray(inputs[1])
        out = np.empty_like(a)
        if p["fmt"] in QFORMATS:
            add_q(a.reshape(-1), b.reshape(-1), *p["args"], out.reshape(-1))
        elif p["fmt"] in ("int8", "int16"):
            add_int8(a.reshape(-1), b.reshape(-1), *p["args"], out.reshape(-1))
        else:
            add_f32(a.reshape(-1), b.reshape(-1), p["act"][0], p["act"][1], out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        x1, x2 = operands_torch(node, inputs)
        r = max(x1.dim(), x2.dim())   # align the per-sample shapes from the last axis; torch broadcasts the rest
        x1 = x1.reshape((x1.shape[0],) + (1,) * (r - x1.dim()) + tuple(x1.shape[1:]))
        x2 = x2.reshape((x2.shape[0],) + (1,) * (r - x2.dim()) + tuple(x2.shape[1:]))
        if in_tensor(model, node).format == "float32":
            lo = torch.tensor(np.float32(node.attrs["act_min_f"]))
            hi = torch.tensor(np.float32(node.attrs["act_max_f"]))
            return [torch.clamp(x1 + x2, lo, hi)]
        if in_tensor(model, node).format in QFORMATS:
            from ..torchref import qcast as t_qcast
            n1, n2 = q_frac(model, node.inputs[0]), q_frac(model, node.inputs[1])
            n = max(n1, n2)
            s_ = x1.to(torch.int64) * 2 ** (n - n1) + x2.to(torch.int64) * 2 ** (n - n2)
            y = t_qcast(s_, n - q_frac(model, node.outputs[0]), node.attrs["qround"],
                        QBITS[in_tensor(model, node).format], node.attrs["qoverflow"])
            return [y.clamp(node.attrs["act_min"], node.attrs["act_max"])]
        a, r = node.attrs, model.rounding
        z1 = in_tensor(model, node, 0).zero_point
        z2 = second_operand(node, model)[1]
        zo = out_tensor(model, node).zero_point
        k = 2 ** a["left_shift"]
        s1 = t_requantize((x1.to(torch.int64) - z1) * k, a["in1_multiplier"], a["in1_shift"], r)
        s2 = t_requantize((x2.to(torch.int64) - z2) * k, a["in2_multiplier"], a["in2_shift"], r)
        y = t_requantize(s1 + s2, a["out_multiplier"], a["out_shift"], r) + zo
        return [y.clamp(a["act_min"], a["act_max"])]

    def c_call(self, node, model):
        """C: kws_add_s8 / _s16 / _q8 / _q16 / _q32 / _f32 (c_runtime/kws_add.h), one sample: the output geometry
        (n0, n1, n2) and each input's strides per output axis (kws_broadcast.h); same shapes: (1, 1, size)."""
        from ..fixedpoint import ROUNDING_MODES
        out = out_tensor(model, node)
        shapes = [tuple(model.tensors[node.inputs[0]].shape), second_operand(node, model)[0]]
        if shapes[0] == shapes[1]:
            geom = (1, 1, out.size, 0, 0, 1, 0, 0, 1)
        else:
            geom = tuple((1,) * (MAX_RANK - len(out.shape)) + tuple(out.shape))
            for sh in shapes:
                geom += tuple(broadcast_strides(sh, out.shape))
        g = [("i32", int(v)) for v in geom]
        ab = [("in", 0), operand_c(node, 1), ("out", 0)]
        if in_tensor(model, node).format == "float32":
            return "kws_add_f32", [("in", 0), ("in", 1), ("out", 0)] + g + [
                                   ("f32", float(np.float32(node.attrs["act_min_f"]))),
                                   ("f32", float(np.float32(node.attrs["act_max_f"])))]
        a = node.attrs
        fmt = in_tensor(model, node).format
        if fmt in QFORMATS:
            rmode, omode = qmodes(node)
            ints = (q_frac(model, node.inputs[0]), q_frac(model, node.inputs[1]), q_frac(model, node.outputs[0]),
                    a["act_min"], a["act_max"], rmode, omode)
            return f"kws_add_{fmt}", [("in", 0), ("in", 1), ("out", 0)] + g + [("i32", int(v)) for v in ints]
        _, z1 = qparams(in_tensor(model, node, 0))
        z2 = second_operand(node, model)[1]
        _, zo = qparams(out_tensor(model, node))
        if in_tensor(model, node).format == "int16":
            ints = (a["left_shift"], a["in1_multiplier"], a["in1_shift"], a["in2_multiplier"], a["in2_shift"],
                    a["out_multiplier"], a["out_shift"], a["act_min"], a["act_max"], ROUNDING_MODES[model.rounding])
            return "kws_add_s16", ab + g + [("i32", int(v)) for v in ints]
        ints = (z1, z2, a["left_shift"], a["in1_multiplier"], a["in1_shift"], a["in2_multiplier"], a["in2_shift"],
                a["out_multiplier"], a["out_shift"], zo, a["act_min"], a["act_max"], ROUNDING_MODES[model.rounding])
        return "kws_add_s8", ab + g + [("i32", int(v)) for v in ints]

    def summary(self, node):
        s = f"left_shift={node.attrs['left_shift']}" if "left_shift" in node.attrs else ""
        return s + (", constant b" if has_const(node) else "")


OPS = [Add()]
