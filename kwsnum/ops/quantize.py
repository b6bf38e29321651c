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
from numba import njit, prange

from ..fixedpoint import round_half_away_f32
from ..float16 import narrow, widen
from ..model import QRANGE, QUANTIZED, STORAGE_FLOATS
from .base import C_SUFFIX, Op, in_tensor, out_tensor, qparams

FLOATS = ("float32",) + STORAGE_FLOATS


@njit(cache=True, parallel=True)
def quantize_f32_int(x, scale, zp, qmin, qmax, out):
    """x float32 (flat), scale float32, zp int64 -> out int8 / int16 (flat), clamped to [qmin, qmax]
    ([-128, 127] / [-32768, 32767], docs/numerics.md 9.4)."""
    lo = np.float64(qmin)
    hi = np.float64(qmax)
    for i in prange(x.shape[0]):
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


@njit(cache=True, parallel=True)
def dequantize_int8_f32(x, scale, zp, out):
    """x int8 / int16 (flat), scale float32, zp int64 -> out float32 (flat)."""
    for i in prange(x.shape[0]):
        out[i] = np.float32(np.int64(x[i]) - zp) * scale   # float32 * float32 -> float32


class Quantize(Op):
    name = "quantize"
    formats = FLOATS            # the node format is its input's; the output is int8 or int16
    storage_floats = False      # the 16-bit input is widened here, not by the storage adapter

    def output_format(self, node, model, fmt):
        out = out_tensor(model, node).format
        return out if out in QUANTIZED else "int8"

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        s, z = qparams(out_tensor(model, node))
        qmin, qmax = QRANGE[out_tensor(model, node).format]
        return dict(scale=np.float32(s), zp=np.int64(z), fmt=in_tensor(model, node).format,
                    q=(np.int64(qmin), np.int64(qmax)), dtype=out_tensor(model, node).dtype)

    def run(self, p, inputs):
        x = np.ascontiguousarray(widen(inputs[0], p["fmt"]), dtype=np.float32)
        out = np.empty(x.shape, dtype=p["dtype"])
        quantize_f32_int(x.reshape(-1), p["scale"], p["zp"], p["q"][0], p["q"][1], out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        from ..torchref import widen as torch_widen
        s, z = qparams(out_tensor(model, node))
        x = torch_widen(inputs[0], in_tensor(model, node).format).to(torch.float32)
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
        s, z = qparams(out_tensor(model, node))
        fin = C_SUFFIX.get(in_tensor(model, node).format, "_f32")
        if out_tensor(model, node).format == "int16":
            return f"kws_quantize{fin}_s16", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                            ("f32", float(np.float32(s)))]
        return f"kws_quantize{fin}_s8", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                       ("f32", float(np.float32(s))), ("i32", z)]

    def summary(self, node):
        return ""


class Dequantize(Op):
    name = "dequantize"
    formats = QUANTIZED         # the node format is its input's; the output is float32, float16 or bfloat16

    def output_format(self, node, model, fmt):
        out = out_tensor(model, node).format
        return out if out in FLOATS else "float32"

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        s, z = qparams(in_tensor(model, node))
        return dict(scale=np.float32(s), zp=np.int64(z), fmt=out_tensor(model, node).format)

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty(x.shape, dtype=np.float32)
        dequantize_int8_f32(x.reshape(-1), p["scale"], p["zp"], out.reshape(-1))
        return [narrow(out, p["fmt"])]

    def torch_ref(self, node, model, inputs):
        import torch
        s, z = qparams(in_tensor(model, node))
        from ..torchref import narrow as torch_narrow
        d = (inputs[0].to(torch.int64) - z).to(torch.float32)
        y = d * torch.full_like(d, np.float32(s))          # elementwise IEEE float32 multiplication
        return [torch_narrow(y, out_tensor(model, node).format)]

    def c_call(self, node, model):
        """C: kws_dequantize_s8_{f32,f16,bf16} (c_runtime/kws_quantize.h), the INPUT tensor's scale (float32)
        and zp; int16 input: kws_dequantize_s16_{f32,f16,bf16} (no zero point: 0)."""
        s, z = qparams(in_tensor(model, node))
        fout = C_SUFFIX.get(out_tensor(model, node).format, "_f32")
        if in_tensor(model, node).format == "int16":
            return f"kws_dequantize_s16{fout}", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                              ("f32", float(np.float32(s)))]
        return f"kws_dequantize_s8{fout}", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size),
                                         ("f32", float(np.float32(s))), ("i32", z)]

    def summary(self, node):
        return ""


quantize_f32_int8 = quantize_f32_int   # the former name (call with qmin, qmax = -128, 127)

OPS = [Quantize(), Dequantize()]
