"""layernorm: LayerNorm over the last ``axes`` (1 or 2) dims, elementwise affine (torch.nn.LayerNorm).

int8: integer mean / variance / integer square root / Q16 normalized value, then a per-element
fixed-point gamma and beta folded with the output scale at export (:func:`int8_params`).
float32: two-pass mean / variance in float32 in row-major order. Spec: docs/numerics.md, "layernorm".
"""
import math
import warnings

import numpy as np
from .._numba import njit

from ..fixedpoint import div_round_away, shift_round_away, isqrt, clamp, qcast
from ..quant import round_half_away
from ..torchref import round_half_away_div as t_div, round_half_away_pow2 as t_shift, isqrt as t_isqrt
from .base import Attr, Arr, Op, in_tensor, out_tensor, qparams, require, q_attrs, qmodes

INT_FMTS = ("int8", "int16", "q8", "q16")   # Q: zero points 0 and a qcast at the end (numerics 10.3)
MEAN_BITS = {"int8": 8, "q8": 8, "int16": 6, "q16": 6}   # F: fractional bits of the mean (8-bit / 16-bit inputs)
MAX_D16 = 1 << 19                      # 16-bit inputs: |c| < 2**16 * 2**6, sum of c**2 < D * 2**44 < 2**63

F_BITS = 8        # fractional bits of the mean (units 2**-8 of an input step)
Z_BITS = 16       # fractional bits of the normalized value z (Q16)
SD_BITS = 8       # extra fractional bits of the standard deviation: sd = isqrt(v << 16), units 2**-(F+8)
MAX_GAMMA_SHIFT = 62 - Z_BITS          # Z + gamma_shift <= 62 (shift_round_away's domain)
MAX_EPS_Q = 1 << 40                    # v = var_f + eps_q < 2**41, v << 16 < 2**57
MAX_D = 1 << 28                        # sum of c**2 < D * 2**32 <= 2**60
BETA_Q_LIMIT = 1 << 60                 # what int8_params keeps |beta_q| below


def z_bound(D):
    """An integer upper bound of |z_i| (docs: |z| < 1.25 * sqrt(D) * 2**16 + 1/2)."""
    return 5 * (1 << 14) * (math.isqrt(D) + 1)


def acc_bound(D, gamma_q, beta_q, gamma_shift):
    """Worst |acc| + rounding half of the final shift, as a Python int: must stay below 2**63."""
    g = int(np.abs(np.asarray(gamma_q, dtype=np.int64)).max(initial=0))
    b = int(np.abs(np.asarray(beta_q, dtype=np.int64)).max(initial=0))
    return z_bound(D) * g + b + (1 << (Z_BITS + gamma_shift - 1))


# ---------------------------------------------------------------- numba kernels
@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def layernorm_int8(x, gamma, beta, in_zp, out_zp, eps_q, gamma_shift, act_min, act_max, f_bits, q, rmode, omode,
                   bits, out):
    """x, out: (R, D) int8 / int16 / q8 / q16, one normalization group per row; gamma int32 (D,), beta int64 (D,).
    f_bits: the mean's fractional bits F (8 for 8-bit, 0 for 16-bit inputs). ``q``: a Q format (zero points 0;
    the output is qcast(acc, 16 + gamma_shift, rmode, bits, omode), numerics 10.3)."""
    R, D = x.shape
    d = np.int64(D)
    one_f = np.int64(1) << np.int64(f_bits)
    zmul = np.int64(1 << (SD_BITS + Z_BITS))
    oshift = np.int64(Z_BITS) + np.int64(gamma_shift)
    for r in range(R):
        s = np.int64(0)
        for i in range(D):
            s += np.int64(x[r, i]) - in_zp
        mean_f = div_round_away(s * one_f, d)
        ss = np.int64(0)
        for i in range(D):
            c = (np.int64(x[r, i]) - in_zp) * one_f - mean_f
            ss += c * c
        var_f = div_round_away(ss, d)
        v = var_f + eps_q
        sd = isqrt(v * np.int64(1 << (2 * SD_BITS)))
        for i in range(D):
            c = (np.int64(x[r, i]) - in_zp) * one_f - mean_f
            z = np.int64(0)
            if sd != 0:
                z = div_round_away(c * zmul, sd)
            acc = z * np.int64(gamma[i]) + beta[i]
            if q:
                y = qcast(acc, oshift, rmode, bits, omode)
            else:
                y = shift_round_away(acc, oshift) + out_zp
            out[r, i] = clamp(y, act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def layernorm_f32(x, gamma, beta, eps, act_min, act_max, out):
    """x, out: (R, D) float32; every operation is one float32 operation, in this order."""
    R, D = x.shape
    fd = np.float32(D)
    one = np.float32(1.0)
    for r in range(R):
        s = np.float32(0.0)
        for i in range(D):
            s = s + x[r, i]
        mean = s / fd
        ss = np.float32(0.0)
        for i in range(D):
            t = x[r, i] - mean
            ss = ss + t * t
        var = ss / fd
        rstd = one / np.sqrt(var + eps)
        for i in range(D):
            y = (x[r, i] - mean) * rstd
            y = y * gamma[i]
            y = y + beta[i]
            out[r, i] = min(max(y, act_min), act_max)


# ---------------------------------------------------------------- export helper
def int8_params(gamma, beta, eps, s_in, s_out, normalized_shape, f_bits=F_BITS):
    """Export: the int8 node's arrays and attrs from a float LayerNorm.

    gamma, beta: float arrays of ``normalized_shape`` (None: 1 and 0, elementwise_affine=False);
    eps: the float epsilon; s_in, s_out: input / output scales (the float32 values stored on the tensors).
    Returns (arrays, attrs): arrays {"gamma": int32, "beta": int64}, attrs {"axes", "eps", "eps_q",
    "gamma_shift"}. The fused activation clamp (act_min / act_max) is the caller's (quant.act_clamp_int8).
    f_bits: the mean's fractional bits of the node's format (MEAN_BITS; 0 for 16-bit inputs), which sets the
    units of eps_q (2**-2F input steps squared).
    """
    shape = tuple(int(d) for d in normalized_shape)
    if len(shape) not in (1, 2):
        raise ValueError(f"layernorm normalizes 1 or 2 trailing dims, got normalized_shape {shape}")
    g = np.ones(shape) if gamma is None else np.asarray(gamma, dtype=np.float64)
    b = np.zeros(shape) if beta is None else np.asarray(beta, dtype=np.float64)
    if g.shape != shape or b.shape != shape:
        raise ValueError(f"gamma {g.shape} / beta {b.shape} do not match normalized_shape {shape}")
    s_in, s_out, eps = float(s_in), float(s_out), float(eps)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(b)) and math.isfinite(eps) and eps >= 0
            and s_in > 0 and s_out > 0):
        raise ValueError("layernorm parameters must be finite, eps >= 0, scales > 0")
    D = int(np.prod(shape))
    gr = g / s_out
    br = b / s_out
    for gs in range(MAX_GAMMA_SHIFT, -1, -1):
        gq = round_half_away(gr * 2.0 ** gs)
        bq = round_half_away(br * 2.0 ** (Z_BITS + gs))
        if np.abs(gq).max(initial=0) <= 2 ** 31 - 1 and np.abs(bq).max(initial=0) <= BETA_Q_LIMIT and \
                acc_bound(D, gq.astype(np.int64), bq.astype(np.int64), gs) < 2 ** 63:
            break
    else:
        # |gamma| / s_out >= 2**31 - 1/2 (or |beta| / s_out > 2**44): gamma_shift = 0 with saturated values.
        # Every z != 0 then gives |gamma term| >= 2**15 - 1 output steps either way, so the clamped output is
        # unchanged as long as |beta / s_out| < 2**15 - 2**8; this happens only for a degenerate calibration.
        warnings.warn(f"layernorm: gamma/s_out (max {np.abs(gr).max(initial=0):.3g}) or beta/s_out "
                      f"(max {np.abs(br).max(initial=0):.3g}) beyond the int8 kernel's range; saturated")
        gq = np.clip(gq, -(2 ** 31 - 1), 2 ** 31 - 1)
        bq = np.clip(bq, -BETA_Q_LIMIT, BETA_Q_LIMIT)
    gq = gq.astype(np.int32)
    bq = bq.astype(np.int64)
    eps_q = round_half_away(eps * float(1 << (2 * f_bits)) / s_in / s_in)
    eps_q = int(min(max(eps_q, 1.0), float(MAX_EPS_Q)))
    arrays = {"gamma": gq, "beta": bq}
    attrs = {"axes": len(shape), "eps": eps, "eps_q": eps_q, "gamma_shift": int(gs)}
    return arrays, attrs


# ---------------------------------------------------------------- the op
class LayerNorm(Op):
    name = "layernorm"
    attrs = {
        "axes": Attr("int", choices=(1, 2)),
        "eps": Attr("float", default=1e-5),
        "eps_q": Attr("int", min=0, max=MAX_EPS_Q, formats=INT_FMTS),
        "gamma_shift": Attr("int", min=0, max=MAX_GAMMA_SHIFT, formats=INT_FMTS),
        "act_min": Attr("int", formats=INT_FMTS),
        "act_max": Attr("int", formats=INT_FMTS),
        "act_min_f": Attr("float", default=float("-inf"), formats=("float32",)),
        "act_max_f": Attr("float", default=float("inf"), formats=("float32",)),
        **q_attrs(),
    }
    formats = ("int8", "float32", "int16", "q8", "q16")
    arrays = {
        "gamma": Arr(int8="int32", float32="float32", q8="int32", int16="int32", q16="int32"),
        "beta": Arr(int8="int64", float32="float32", q8="int64", int16="int64", q16="int64"),
    }

    def check(self, node, model, in_specs, fmt):
        shape = tuple(in_specs[0].shape)
        k = node.attrs["axes"]
        require(len(shape) >= k, node, f"axes={k} but the input {shape} has only {len(shape)} dims")
        norm = shape[len(shape) - k:]
        D = int(np.prod(norm))
        max_d = MAX_D16 if fmt in ("int16", "q16") else MAX_D
        require(D <= max_d, node, f"normalized size {D} exceeds {max_d} (for {fmt})")
        for name in ("gamma", "beta"):
            a = node.arrays[name]
            require(a.shape == norm, node, f"{name} shape {a.shape} does not match the normalized dims {norm}")
        eps = node.attrs["eps"]
        require(math.isfinite(eps) and eps >= 0, node, f"eps must be finite and >= 0, got {eps}")
        if fmt in INT_FMTS:
            g = node.arrays["gamma"]
            require(np.all(g != np.iinfo(np.int32).min), node, "gamma values must be in [-(2**31-1), 2**31-1]")
            worst = acc_bound(D, g, node.arrays["beta"], node.attrs["gamma_shift"])
            require(worst < 2 ** 63, node,
                    f"int64 accumulator could overflow (worst |z*gamma+beta| + rounding = {worst} >= 2**63); "
                    f"gamma, beta or gamma_shift too large")

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        xin, xout = in_tensor(model, node), out_tensor(model, node)
        k = node.attrs["axes"]
        D = int(np.prod(xin.shape[len(xin.shape) - k:]))
        p = dict(D=D, fmt=xin.format,
                 gamma=np.ascontiguousarray(node.arrays["gamma"].reshape(D)),
                 beta=np.ascontiguousarray(node.arrays["beta"].reshape(D)))
        if xin.format in INT_FMTS:
            q = xin.format in ("q8", "q16")
            zi, zo = (0, 0) if q else (qparams(xin)[1], qparams(xout)[1])
            rmode, omode = qmodes(node) if q else (0, 0)
            p.update(in_zp=np.int64(zi), out_zp=np.int64(zo), eps_q=np.int64(node.attrs["eps_q"]),
                     gamma_shift=np.int64(node.attrs["gamma_shift"]),
                     q=(MEAN_BITS[xin.format], q, rmode, omode, 8 if xin.format == "q8" else 16),
                     act=(np.int64(node.attrs["act_min"]), np.int64(node.attrs["act_max"])))
        else:
            p.update(eps=np.float32(node.attrs["eps"]),
                     act=(np.float32(node.attrs["act_min_f"]), np.float32(node.attrs["act_max_f"])))
        return p

    def run(self, p, inputs):
        x = inputs[0]
        x2 = np.ascontiguousarray(x.reshape(-1, p["D"]))
        out = np.empty_like(x2)
        if p["fmt"] in INT_FMTS:
            layernorm_int8(x2, p["gamma"], p["beta"], p["in_zp"], p["out_zp"], p["eps_q"], p["gamma_shift"],
                           p["act"][0], p["act"][1], *p["q"], out)
        else:
            layernorm_f32(x2, p["gamma"], p["beta"], p["eps"], p["act"][0], p["act"][1], out)
        return [out.reshape(x.shape)]

    def c_call(self, node, model):
        """C: kws_layernorm_s8 / _f32 (c_runtime/kws_layernorm.h): G groups of D elements per sample."""
        xin, xout = in_tensor(model, node), out_tensor(model, node)
        k = node.attrs["axes"]
        D = int(np.prod(xin.shape[len(xin.shape) - k:]))
        G = xin.size // D
        if xin.format in ("q8", "q16"):
            a = node.attrs
            rmode, omode = qmodes(node)
            return f"kws_layernorm_{xin.format}", [("in", 0), ("array", "gamma"), ("array", "beta"), ("out", 0),
                                                   ("i32", G), ("i32", D), ("i64", int(a["eps_q"])),
                                                   ("i32", int(a["gamma_shift"])), ("i32", int(a["act_min"])),
                                                   ("i32", int(a["act_max"])), ("i32", rmode), ("i32", omode)]
        if xin.format == "int16":          # zero points 0 (numerics 9.4)
            a = node.attrs
            return "kws_layernorm_s16", [("in", 0), ("array", "gamma"), ("array", "beta"), ("out", 0),
                                         ("i32", G), ("i32", D), ("i64", int(a["eps_q"])),
                                         ("i32", int(a["gamma_shift"])), ("i32", int(a["act_min"])),
                                         ("i32", int(a["act_max"]))]
        if xin.format == "int8":
            _, zi = qparams(xin)
            _, zo = qparams(xout)
            a = node.attrs
            return "kws_layernorm_s8", [("in", 0), ("array", "gamma"), ("array", "beta"), ("out", 0),
                                        ("i32", G), ("i32", D), ("i32", zi), ("i32", zo),
                                        ("i64", int(a["eps_q"])), ("i32", int(a["gamma_shift"])),
                                        ("i32", int(a["act_min"])), ("i32", int(a["act_max"]))]
        return "kws_layernorm_f32", [("in", 0), ("array", "gamma"), ("array", "beta"), ("out", 0),
                                     ("i32", G), ("i32", D), ("f32", float(np.float32(node.attrs["eps"]))),
                                     ("f32", float(np.float32(node.attrs["act_min_f"]))),
                                     ("f32", float(np.float32(node.attrs["act_max_f"])))]

    def torch_ref(self, node, model, inputs):
        import torch
        import torch.nn.functional as tF
        x = inputs[0]
        xin, xout = in_tensor(model, node), out_tensor(model, node)
        k = node.attrs["axes"]
        norm = tuple(xin.shape[len(xin.shape) - k:])
        D = int(np.prod(norm))
        if xin.format == "float32":
            g = torch.as_tensor(node.arrays["gamma"].astype(np.float64))
            b = torch.as_tensor(node.arrays["beta"].astype(np.float64))
            y = tF.layer_norm(x.to(torch.float64), norm, g, b, float(np.float32(node.attrs["eps"])))
            y = y.clamp(node.attrs["act_min_f"], node.attrs["act_max_f"]).to(torch.float32)
            return [y]
        q = xin.format in ("q8", "q16")
        fb = MEAN_BITS[xin.format]
        xs = (x.to(torch.int64) - (0 if q else xin.zero_point)).reshape(x.shape[:x.ndim - k] + (D,))
        total = torch.sum(xs, dim=-1, keepdim=True, dtype=torch.int64)
        mean_f = t_div(total * (1 << fb), D)
        c = xs * (1 << fb) - mean_f
        var_f = t_div(torch.sum(c * c, dim=-1, keepdim=True, dtype=torch.int64), D)
        v = var_f + int(node.attrs["eps_q"])
        sd = t_isqrt(v * (1 << (2 * SD_BITS)))
        z = t_div(c * (1 << (SD_BITS + Z_BITS)), sd.clamp(min=1))
        z = torch.where(sd == 0, torch.zeros_like(z), z)
        g = torch.as_tensor(node.arrays["gamma"].astype(np.int64).reshape(D))
        b = torch.as_tensor(node.arrays["beta"].astype(np.int64).reshape(D))
        acc = z * g + b
        if q:
            from ..torchref import qcast as t_qcast
            y = t_qcast(acc, Z_BITS + int(node.attrs["gamma_shift"]), node.attrs["qround"],
                        8 if xin.format == "q8" else 16, node.attrs["qoverflow"])
        else:
            y = t_shift(acc, Z_BITS + int(node.attrs["gamma_shift"])) + xout.zero_point
        y = y.clamp(node.attrs["act_min"], node.attrs["act_max"])
        return [y.reshape(x.shape)]

    def macs(self, node, model):
        # per element: one square (variance) and one gamma multiply; divisions and the sqrt not counted
        return 2 * in_tensor(model, node).size


OPS = [LayerNorm()]
