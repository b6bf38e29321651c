"""quantize (float32 -> int8, the OUTPUT tensor's scale and zero point) and dequantize (int8 -> float32,
the INPUT tensor's scale and zero point). Elementwise, any shape.

Bridges to the 16-bit storage floats (docs/numerics.md section 7): quantize also takes a float16 / bfloat16
input (widened exactly to float32 first), dequantize also produces a float16 / bfloat16 output (the float32
value rounded once, RNE).

quantize:   v = x / float32(scale) (one IEEE float32 division), r = roundf(v) (ties away from zero),
            q = clamp(r + zp, -128, 127) in floating point (so huge values and infinities saturate),
            NaN -> zp.
dequantize: y = float32(q - zp) * float32(scale) (one IEEE float32 multiplication).
Both are exact IEEE operations: oracle, torch and C agree bit for bit. Spec: docs/numerics.md, "quantize".
"""
import numpy as np
from .._numba import njit

from .. import backend
from ..fixedpoint import round_half_away_f32, round_half_away_f32_v, quantize_q
from ..float16 import narrow, widen
from ..model import EDGE, QRANGE, STORAGE_FLOATS, INTEGER, QBITS, QFORMATS
from .base import C_SUFFIX, Op, in_tensor, out_tensor, qparams, q_attrs, qmodes

FLOATS = ("float32",) + STORAGE_FLOATS


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def quantize_f32_int(x, scale, zp, qmin, qmax, out):
    """x float32 (flat), scale float32, zp int64 -> out int8 / int16 (flat), clamped to [qmin, qmax]
    ([-128, 127] / [-32768, 32767], docs/numerics.md 9.4)."""
    lo = np.float64(qmin)
    hi = np.float64(qmax)
    for i in range(x.shape[0]):
        v = x[i] / scale                       # float32 / float32 -> float32
        if v != v:                             # NaN
            out[i] = zp
            continue
        q = round_half_away_f32(v) + np.float64(zp)   # exact below 2**53; beyond, saturates anyway
        if q < lo:
            q = lo
        elif q > hi:
            q = hi
        out[i] = np.int64(q)


def quantize_f32_int_v(x, scale, zp, qmin, qmax, out):
    """:func:`quantize_f32_int` on whole arrays (kwsnum/backend.py): the same float32 division, rounding, clamp in
    float64 and NaN rule."""
    v = x / scale                                                   # float32 / float32 -> float32
    q = np.clip(round_half_away_f32_v(v) + np.float64(zp), np.float64(qmin), np.float64(qmax))
    out[:] = np.where(v != v, np.float64(zp), q)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def quantize_f32_qfmt(x, scale_pow2, rmode, bits, omode, out):
    """x float32 (flat) -> Q values (flat) by kwsnum.fixedpoint.quantize_q (docs/numerics.md 10.3)."""
    for i in range(x.shape[0]):
        out[i] = quantize_q(x[i], scale_pow2, rmode, bits, omode)


def pow2_f32(n):
    """2**n as a float32 (exact for the frac_bits range [-32, 62])."""
    return np.float32(2.0 ** int(n))


def int_qparams(spec):
    """(float32 scale, zero point) of an integer tensor: int8 / int16 as stored, Q formats 2**-frac_bits and 0."""
    if spec.format in QFORMATS:
        return pow2_f32(-spec.frac_bits), 0
    s, z = qparams(spec)
    return np.float32(s), z


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def dequantize_int8_f32(x, scale, zp, out):
    """x int8 / int16 / uint8 (flat), scale float32, zp int64 -> out float32 (flat)."""
    for i in range(x.shape[0]):
        out[i] = np.float32(np.int64(x[i]) - zp) * scale   # float32 * float32 -> float32


def dequantize_int8_f32_v(x, scale, zp, out):
    """:func:`dequantize_int8_f32` on whole arrays (kwsnum/backend.py): q - zp in int64, exactly converted to
    float32 (|q - zp| < 2**24), one float32 multiplication."""
    np.multiply((x.astype(np.int64) - zp).astype(np.float32), scale, out=out)


class Quantize(Op):
    name = "quantize"
    formats = FLOATS            # the node format is its input's; the output is int8, int16 or a Q format
    storage_floats = False      # the 16-bit input is widened here, not by the storage adapter
    attrs = q_attrs(output=True)   # a Q output's rounding / overflow modes (docs/numerics.md 10.3)

    def output_format(self, node, model, fmt):
        out = out_tensor(model, node).format
        return out if out in INTEGER else "int8"

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        xout = out_tensor(model, node)
        if xout.format in QFORMATS:
            rmode, omode = qmodes(node)
            return dict(q_args=(pow2_f32(xout.frac_bits), rmode, QBITS[xout.format], omode),
                        fmt=in_tensor(model, node).format, dtype=xout.dtype)
        s, z = qparams(out_tensor(model, node))
        qmin, qmax = QRANGE[out_tensor(model, node).format]
        return dict(scale=np.float32(s), zp=np.int64(z), fmt=in_tensor(model, node).format,
                    q=(np.int64(qmin), np.int64(qmax)), dtype=out_tensor(model, node).dtype)

    def run(self, p, inputs):
        x = np.ascontiguousarray(widen(inputs[0], p["fmt"]), dtype=np.float32)
        out = np.empty(x.shape, dtype=p["dtype"])
        if "q_args" in p:
            quantize_f32_qfmt(x.reshape(-1), *p["q_args"], out.reshape(-1))
            return [out]
        kernel = quantize_f32_int_v if backend.vector() else quantize_f32_int
        kernel(x.reshape(-1), p["scale"], p["zp"], p["q"][0], p["q"][1], out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        from ..torchref import widen as torch_widen
        x = torch_widen(inputs[0], in_tensor(model, node).format).to(torch.float32)
        xout = out_tensor(model, node)
        if xout.format in QFORMATS:
            from ..torchref import quantize_q as t_quantize_q
            return [t_quantize_q(x, xout.frac_bits, node.attrs["qround"], QBITS[xout.format],
                                 node.attrs["qoverflow"])]
        s, z = qparams(out_tensor(model, node))
        v = x / torch.full_like(x, np.float32(s))          # elementwise IEEE float32 division
        # roundf written differently from the oracle: torch.round (ties to even, exact) corrected at ties,
        # all in float32 (|v| < 2**23 wherever a tie is possible, so trunc(v) + sign(v) is exact)
        t = torch.trunc(v)
        tie = (v - t).abs() == 0.5
        r = torch.where(tie, t + torch.sign(v), torch.round(v))
        qmin, qmax = QRANGE[out_tensor(model, node).format]
        q = (r.to(torch.float64) + z).clamp(float(qmin), float(qmax))
        q = torch.where(torch.isnan(q), torch.full_like(q, float(z)), q)
        return [q.to(torch.int64)]

    def c_call(self, node, model):
        """C: kws_quantize_{f32,f16,bf16}_s8 (c_runtime/kws_quantize.h), the OUTPUT tensor's scale (float32)
        and zp; int16 output: kws_quantize_{f32,f16,bf16}_s16 (no zero point: 0)."""
        fin = C_SUFFIX.get(in_tensor(model, node).format, "_f32")
        xout = out_tensor(model, node)
        if xout.format in QFORMATS:       # kws_quantize_{f32,f16,bf16}_{q8,q16,q32} (docs/numerics.md 10.3)
            rmode, omode = qmodes(node)
            return f"kws_quantize{fin}_{xout.format}", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                                        ("i32", xout.frac_bits), ("i32", rmode), ("i32", omode)]
        s, z = qparams(out_tensor(model, node))
        if out_tensor(model, node).format == "int16":
            return f"kws_quantize{fin}_s16", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                            ("f32", float(np.float32(s)))]
        return f"kws_quantize{fin}_s8", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                       ("f32", float(np.float32(s))), ("i32", z)]

    def summary(self, node):
        return ""


class Dequantize(Op):
    name = "dequantize"
    formats = INTEGER + EDGE    # the node format is its input's (uint8 too: section 2); the output is a float format

    def output_format(self, node, model, fmt):
        out = out_tensor(model, node).format
        return out if out in FLOATS else "float32"

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        s, z = int_qparams(in_tensor(model, node))       # Q: 2**-n, 0 (docs/numerics.md 10.3)
        return dict(scale=np.float32(s), zp=np.int64(z), fmt=out_tensor(model, node).format)

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty(x.shape, dtype=np.float32)
        kernel = dequantize_int8_f32_v if backend.vector() else dequantize_int8_f32
        kernel(x.reshape(-1), p["scale"], p["zp"], out.reshape(-1))
        return [narrow(out, p["fmt"])]

    def torch_ref(self, node, model, inputs):
        import torch
        s, z = int_qparams(in_tensor(model, node))
        from ..torchref import narrow as torch_narrow
        d = (inputs[0].to(torch.int64) - z).to(torch.float32)
        y = d * torch.full_like(d, np.float32(s))          # elementwise IEEE float32 multiplication
        return [torch_narrow(y, out_tensor(model, node).format)]

    def c_call(self, node, model):
        """C: kws_dequantize_s8_{f32,f16,bf16} (c_runtime/kws_quantize.h), the INPUT tensor's scale (float32)
        and zp; int16 input: kws_dequantize_s16_{f32,f16,bf16} (no zero point: 0); uint8: kws_dequantize_u8_*."""
        fout = C_SUFFIX.get(out_tensor(model, node).format, "_f32")
        xin = in_tensor(model, node)
        if xin.format in QFORMATS:        # kws_dequantize_{q8,q16,q32}_{f32,f16,bf16}(in, out, size, frac_bits)
            return f"kws_dequantize_{xin.format}{fout}", [("in", 0), ("out", 0), ("i32", xin.size),
                                                          ("i32", xin.frac_bits)]
        s, z = qparams(in_tensor(model, node))
        if in_tensor(model, node).format == "uint8":    # docs/numerics.md section 4, "dequantize" of uint8
            return f"kws_dequantize_u8{fout}", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                             ("f32", float(np.float32(s))), ("i32", z)]
        if in_tensor(model, node).format == "int16":
            return f"kws_dequantize_s16{fout}", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                              ("f32", float(np.float32(s)))]
        return f"kws_dequantize_s8{fout}", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                         ("f32", float(np.float32(s))), ("i32", z)]

    def summary(self, node):
        return ""


quantize_f32_int8 = quantize_f32_int   # the former name (call with qmin, qmax = -128, 127)

OPS = [Quantize(), Dequantize()]
