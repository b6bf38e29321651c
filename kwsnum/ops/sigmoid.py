"""The shared base of logistic and tanh (TFLM's LOGISTIC and TANH, which TFLM builds the same way): one
parameter derivation, one numba kernel per format, one torch reference, one C entry point per format
(c_runtime/kws_logistic.h), with the function (``KIND``: 0 logistic, 1 tanh) as an argument.

int8 (docs/numerics.md 11.5): x = q - zp_in; x <= -radius and x >= radius saturate; otherwise gemmlowp's logistic
or tanh of the Q4.27 value requantize(x, input_multiplier, input_left_shift), rounded to the output step.

int16 (docs/numerics.md 11.5.1, reference_integer_ops::Logistic / Tanh for int16): zero points 0, output scale
2**-15; v = (q * input_multiplier + round) >> input_left_shift puts the input in units of 1/(3 * 4096)
(logistic) or 1/(3 * 2048) (tanh); |v| indexes TFLM's 256-entry sigmoid table (stored in the node as
``sigmoid_table``) with 9 (logistic) or 8 (tanh) fraction bits of linear interpolation; the sign folds by
symmetry. The integers are TFLM's Prepare results (:func:`int8_params`, :func:`int16_params`), stored.
"""
import math

import numpy as np
from .._numba import njit

from ..fixedpoint import logistic_q, tanh_q, rdbpot, requantize, ROUND_DOUBLE
from .base import Arr, Attr, Op, in_tensor, out_tensor, require
from .lut16 import SIGMOID_TABLE, checked_log2

INPUT_INT_BITS = 4           # TFLM's kInputIntegerBits for int8
INT16_INPUT_INT_BITS = 3     # ... and for int16
LOGISTIC, TANH = 0, 1


def int8_params(s_in):
    """TFLM's int8 Prepare (CalculateArithmeticOpDataLogistic, TANH's CalculateArithmeticOpData), in double:
    real = s_in * 2**27; (q, shift) = frexp(real); input_multiplier = round(q * 2**31) (no renormalisation: a q
    rounding to 2**31 is refused); input_range_radius = floor(15 * 2**27 / 2**shift)."""
    real = float(np.float32(s_in)) * float(1 << (31 - INPUT_INT_BITS))
    q, shift = math.frexp(real)
    m = int(math.floor(q * (1 << 31) + 0.5))
    if m >= 1 << 31:
        raise ValueError(f"input scale {s_in}: TFLM's multiplier rounds to 2**31 (it would overflow int32)")
    if not -31 <= shift <= 30:
        raise ValueError(f"input scale {s_in}: the left shift {shift} is outside [-31, 30]")
    radius = math.floor(1.0 * ((1 << INPUT_INT_BITS) - 1) * float(1 << (31 - INPUT_INT_BITS)) / 2.0 ** shift)
    return dict(input_multiplier=m, input_left_shift=shift, input_range_radius=int(min(radius, (1 << 31) - 1)))


def int16_params(s_in, kind):
    """TFLM's int16 Prepare: shift = 12 + round(log2(s_in)) (CheckedLog2, float32); a power-of-two scale with
    shift 0 (logistic) or 0 / 1 (tanh) gives multiplier 0, which the kernel reads as (3 << shift, 0); otherwise
    m = s_in * 4096 * 3 in double, doubled (shift + 1) while m <= 32767 / 2 and shift <= 30, then truncated.
    Returns the stored attributes (kernel-ready): the power-of-two case already resolved to (3 << shift, 0)."""
    log2, pot = checked_log2(s_in)
    shift = (15 - INT16_INPUT_INT_BITS) + log2
    pot = pot and shift in ((0,) if kind == LOGISTIC else (0, 1))
    if pot:
        m, shift = 3 << shift, 0
    else:
        real = float(np.float32(s_in)) * 4096.0 * 3.0
        shift = 0
        while real <= 32767.0 / 2.0 and shift <= 30:
            shift += 1
            real *= 2.0
        m = int(real)
    if m > 32767:
        raise ValueError(f"input scale {s_in}: TFLM's int16 multiplier {m} exceeds 32767 (TFLM requires <= 32767)")
    return dict(input_multiplier=m, input_left_shift=shift)


def int16_arrays():
    """The int16 node's constant array: TFLM's sigmoid table."""
    return {"sigmoid_table": SIGMOID_TABLE.copy()}


@njit(cache=True, nogil=True, error_model="numpy")  # serial: the interpreter runs batch slices on threads
def sigmoid_int8(x, zp, mult, shift, radius, kind, out):
    for i in range(x.shape[0]):
        v = np.int64(x[i]) - zp
        if v <= -radius:
            out[i] = -128
        elif v >= radius:
            out[i] = 127
        else:
            a = requantize(v, mult, shift, ROUND_DOUBLE)
            if kind == 0:
                y = rdbpot(logistic_q(a, INPUT_INT_BITS), 23) - 128
            else:
                y = rdbpot(tanh_q(a, INPUT_INT_BITS), 24)
            out[i] = min(max(y, -128), 127)


@njit(cache=True, nogil=True, error_model="numpy")
def sigmoid_int16(x, mult, shift, table, kind, out):
    rnd = (np.int64(1) << np.int64(shift - 1)) if shift > 0 else np.int64(0)
    fb = np.int64(9) if kind == 0 else np.int64(8)        # fraction bits of the interpolation
    for i in range(x.shape[0]):
        v = (np.int64(x[i]) * mult + rnd) >> np.int64(shift)
        a = -v if v < 0 else v
        uh = a >> fb
        if uh >= 255:
            r = np.int64(0x7FFF << 10) if kind == 0 else np.int64(0xFFFF << 8)
        else:
            ua = np.int64(table[uh])
            ub = np.int64(table[uh + 1])
            r = (ua << fb) + (a & ((np.int64(1) << fb) - 1)) * (ub - ua)
        if kind == 0:
            r = (r + 512) if v >= 0 else ((1 << 25) - r + 511)
            out[i] = r >> 10
        else:
            r = (r - (1 << 23) + 128) if v >= 0 else ((1 << 23) - r + 127)
            out[i] = r >> 8


def torch_sigmoid_int16(x, mult, shift, table, kind):
    """The int16 kernel on torch int64 tensors (the torch reference's one copy)."""
    import torch
    rnd = (1 << (shift - 1)) if shift > 0 else 0
    fb = 9 if kind == LOGISTIC else 8
    v = torch.div(x.to(torch.int64) * mult + rnd, 1 << shift, rounding_mode="floor")
    a = v.abs()
    uh = torch.div(a, 1 << fb, rounding_mode="floor")
    t = torch.as_tensor(np.asarray(table, dtype=np.int64))
    lo = t[uh.clamp(max=254)]
    hi = t[(uh + 1).clamp(max=255)]
    r = lo * (1 << fb) + torch.remainder(a, 1 << fb) * (hi - lo)
    r = torch.where(uh >= 255, torch.full_like(r, (0x7FFF << 10) if kind == LOGISTIC else (0xFFFF << 8)), r)
    if kind == LOGISTIC:
        r = torch.where(v >= 0, r + 512, (1 << 25) - r + 511)
        return torch.div(r, 1 << 10, rounding_mode="floor")
    r = torch.where(v >= 0, r - (1 << 23) + 128, (1 << 23) - r + 127)
    return torch.div(r, 1 << 8, rounding_mode="floor")


class SigmoidFamily(Op):
    """logistic / tanh; subclasses set name, KIND, OUT_ZP8 (int8 output zero point) and C_NAME."""
    formats = ("int8", "int16")
    storage_floats = False
    KIND = LOGISTIC
    OUT_ZP8 = -128
    C_NAME = "kws_logistic"
    attrs = {
        "input_multiplier": Attr("int", min=0, max=(1 << 31) - 1),
        "input_left_shift": Attr("int", min=-31, max=31),
        "input_range_radius": Attr("int", min=0, max=(1 << 31) - 1, formats=("int8",)),
    }
    arrays = {"sigmoid_table": Arr(int16=np.uint16)}

    def check(self, node, model, in_specs, fmt):
        a = node.attrs
        xout = out_tensor(model, node)
        if fmt == "int16":
            xin = in_tensor(model, node)
            require(int(xin.zero_point) == 0, node, f"an int16 input has zero point 0 (TFLM's), got {xin.describe()}")
            require(xout.format == "int16" and int(xout.zero_point) == 0 and
                    np.float32(xout.scale) == np.float32(2.0 ** -15), node,
                    f"the output must be int16 with scale 2**-15 and zero point 0 (TFLM's), got {xout.describe()}")
            require(0 <= a["input_multiplier"] <= 32767 and 0 <= a["input_left_shift"] <= 31, node,
                    f"int16: input_multiplier {a['input_multiplier']} must be in [0, 32767] and input_left_shift "
                    f"{a['input_left_shift']} in [0, 31] (TFLM's int16 kernel)")
            t = node.arrays["sigmoid_table"]
            require(t.shape == SIGMOID_TABLE.shape and bool(np.array_equal(t, SIGMOID_TABLE)), node,
                    "sigmoid_table must be TFLM's sigmoid_table_uint16 (256 entries)")
            return
        require(xout.format == "int8" and int(xout.zero_point) == self.OUT_ZP8, node,
                f"the output must be int8 with zero point {self.OUT_ZP8} (TFLM's), got {xout.describe()}")
        require(a["input_left_shift"] <= 30, node, "int8: input_left_shift must be <= 30")
        ls = max(a["input_left_shift"], 0)
        require(min(255, a["input_range_radius"]) * (1 << ls) < (1 << 31), node,
                "input_range_radius with input_left_shift: the rescaled input could overflow int32")
        require(model.rounding == "double", node, f"{self.name} follows TFLM's double-rounding build (rounding "
                                                  f"'double')")

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def inplace_inputs(self, node, model):
        return (0,)

    def prepare(self, node, model, rounding):
        a = node.attrs
        i64 = np.int64
        xin = in_tensor(model, node)
        if xin.format == "int16":
            return ("int16", i64(a["input_multiplier"]), i64(a["input_left_shift"]),
                    np.ascontiguousarray(node.arrays["sigmoid_table"]), i64(self.KIND))
        return ("int8", i64(xin.zero_point), i64(a["input_multiplier"]), i64(a["input_left_shift"]),
                i64(a["input_range_radius"]), i64(self.KIND))

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty_like(x)
        (sigmoid_int16 if p[0] == "int16" else sigmoid_int8)(x.reshape(-1), *p[1:], out.reshape(-1))
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        from ..torchref import logistic_q as t_logistic, tanh_q as t_tanh, requantize as t_requantize, \
            round_half_away_pow2
        a = node.attrs
        xin = in_tensor(model, node)
        if xin.format == "int16":
            y = torch_sigmoid_int16(inputs[0], a["input_multiplier"], a["input_left_shift"],
                                    node.arrays["sigmoid_table"], self.KIND)
            return [y.to(torch.int16)]
        v = inputs[0].to(torch.int64) - int(xin.zero_point)
        r = t_requantize(v, a["input_multiplier"], a["input_left_shift"], "double")
        if self.KIND == LOGISTIC:
            y = round_half_away_pow2(t_logistic(r, INPUT_INT_BITS), 23) - 128
        else:
            y = round_half_away_pow2(t_tanh(r, INPUT_INT_BITS), 24)
        y = y.clamp(-128, 127)
        y = torch.where(v <= -a["input_range_radius"], torch.full_like(y, -128), y)
        return [torch.where(v >= a["input_range_radius"], torch.full_like(y, 127), y).to(torch.int8)]

    def c_call(self, node, model):
        """C: kws_logistic_s8 / kws_tanh_s8 (int8) and kws_logistic_s16 / kws_tanh_s16 (int16), elementwise over
        the sample (c_runtime/kws_logistic.h, kws_tanh.h; both call the shared kernels in kws_logistic.c)."""
        a = node.attrs
        xin = in_tensor(model, node)
        if xin.format == "int16":
            return self.C_NAME + "_s16", [("in", 0), ("out", 0), ("i32", int(xin.size)),
                                          ("i32", int(a["input_multiplier"])), ("i32", int(a["input_left_shift"])),
                                          ("array", "sigmoid_table")]
        return self.C_NAME + "_s8", [("in", 0), ("out", 0)] + [("i32", int(v)) for v in (
            xin.size, xin.zero_point, a["input_multiplier"], a["input_left_shift"], a["input_range_radius"])]

    def summary(self, node):
        return ""
