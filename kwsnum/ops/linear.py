"""linear (fully connected): y = x W^T + b on a (F,) input, PyTorch layout: weight (O, F), bias (O,).

The arithmetic is conv's (a 1x1 conv over a length-1 signal): int32 accumulator from the input offset
-zp_in, per-output-channel requantization, + zp_out, clamp to [act_min, act_max].
Spec: docs/numerics.md, "linear".
"""
import numpy as np
from .._numba import njit

from ..fixedpoint import clamp
from ..torchref import requantize as t_requantize
from .base import (Attr, Arr, Op, in_tensor, out_tensor, qparams, require, check_int8_accumulation,
                   check_int16_accumulation, weighted_sum_accumulator, QFORMATS, q_attrs, check_q_accumulation)
from .conv import KIND_INT8, KIND_INT16, int_epilogue, q_prepare, q_c_call, torch_q_weighted_sum
from .requantize import torch_requantize64
from . import gemm


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def linear_int(x, w, bias, mult, shift, in_off, out_zp, act_min, act_max, mode, kind, bits, omode, out):
    """int8, int16 (docs/numerics.md 9.4; in_off = out_zp = 0) and Q (10.3) linear: the accumulator is int64 for
    all (int8's value is the int32 one: exact by 3.4; q8's by 10.3); the output by conv's int_epilogue."""
    N, F = x.shape
    O = w.shape[0]
    for no in range(N * O):
        n = no // O
        o = no % O
        acc = np.int64(bias[o])
        for f in range(F):
            acc += (np.int64(x[n, f]) + in_off) * np.int64(w[o, f])
        out[n, o] = int_epilogue(acc, kind, np.int64(mult[o]), np.int64(shift[o]), mode, out_zp, bits, omode,
                                 act_min, act_max)


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def linear_f32(x, w, bias, act_min, act_max, out):
    N, F = x.shape
    O = w.shape[0]
    for no in range(N * O):
        n = no // O
        o = no % O
        acc = bias[o]
        for f in range(F):
            acc = acc + x[n, f] * w[o, f]
        out[n, o] = clamp(acc, act_min, act_max)


class Linear(Op):
    name = "linear"
    attrs = {
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

    def check(self, node, model, in_specs, fmt):
        w = node.arrays["weight"]
        require(w.ndim == 2, node, f"weight must have 2 dimensions (O, F), got shape {w.shape}")
        require(len(in_specs[0].shape) == 1, node, f"input must be (F,), got {tuple(in_specs[0].shape)}")
        O, F = w.shape
        require(in_specs[0].shape[0] == F, node,
                f"weight shape {w.shape} does not match in_features={in_specs[0].shape[0]}")
        for k in ("bias", "multiplier", "shift", "weight_frac"):
            if k in node.arrays:
                require(node.arrays[k].shape == (O,), node,
                        f"{k} shape {node.arrays[k].shape} does not match out_features={O}")
        if fmt in QFORMATS:
            check_q_accumulation(node, model, fmt)
        if fmt == "int8":
            a = node.arrays
            check_int8_accumulation(node, w, a["bias"], a["multiplier"], a["shift"], in_specs[0].zero_point)
        if fmt == "int16":
            a = node.arrays
            check_int16_accumulation(node, w, a["bias"], a["multiplier"], a["shift"])

    def accumulator(self, node, model):
        return weighted_sum_accumulator(node, model)

    def output_shapes(self, node, in_shapes):
        return [(node.arrays["weight"].shape[0],)]

    def prepare(self, node, model, rounding):
        p = dict(w=np.ascontiguousarray(node.arrays["weight"]), bias=node.arrays["bias"],
                 O=node.arrays["weight"].shape[0], fmt=in_tensor(model, node).format)
        if p["fmt"] in ("int8", "int16"):
            _, zi = qparams(in_tensor(model, node))
            _, zo = qparams(out_tensor(model, node))
            p.update(mult=node.arrays["multiplier"], shift=node.arrays["shift"], in_off=-zi, out_zp=zo,
                     act=(node.attrs["act_min"], node.attrs["act_max"]), mode=rounding,
                     kind=KIND_INT16 if p["fmt"] == "int16" else KIND_INT8, bits=0, omode=0)
        elif p["fmt"] in QFORMATS:
            p.update(q_prepare(node, model))
        else:
            p.update(act=(np.float32(node.attrs["act_min_f"]), np.float32(node.attrs["act_max_f"])))
        p["path"], p["dtype"] = "loops", None
        if p["fmt"] != "float32":     # integer: the exact GEMM where the bound allows (3.6)
            zi = in_tensor(model, node).zero_point if p["fmt"] == "int8" else 0
            p["path"], p["dtype"] = gemm.choose(p["fmt"], p["w"], zi, dense=True, depthwise=False)
            if p["path"] == "gemm":
                p["wft"] = np.ascontiguousarray(p["w"].T.astype(p["dtype"]))
                p["epilogue"] = gemm.choose_epilogue(p["kind"], p["mode"], p["w"], p["bias"], p["mult"], p["shift"],
                                                     gemm.input_abs_max(p["fmt"], zi))
                if p["epilogue"] == "f64":
                    p["consts"] = gemm.f64_epilogue_consts(p["kind"], p["mode"], p["mult"], p["shift"])
        return p

    def run(self, p, inputs):
        x = np.ascontiguousarray(inputs[0])
        out = np.empty((x.shape[0], p["O"]), dtype=x.dtype)
        if p["path"] == "gemm":
            acc = gemm.matmul_exact(gemm.as_float(x, p["in_off"], p["dtype"]), p["wft"])
            gemm.epilogue(p, acc[:, :, None], out[:, :, None])
        elif p["fmt"] in ("int8", "int16") + QFORMATS:
            linear_int(x, p["w"], p["bias"], p["mult"], p["shift"], p["in_off"], p["out_zp"],
                       p["act"][0], p["act"][1], p["mode"], p["kind"], p["bits"], p["omode"], out)
        else:
            linear_f32(x, p["w"], p["bias"], p["act"][0], p["act"][1], out)
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        import torch.nn.functional as F
        x = inputs[0]
        w = torch.as_tensor(node.arrays["weight"].astype(np.float64))
        xin, xout = in_tensor(model, node), out_tensor(model, node)
        if xin.format in QFORMATS:
            return [torch_q_weighted_sum(lambda v: F.linear(v, w), x, node, model, axis=1)]
        if xin.format == "int16":
            # float64 holds every partial sum exactly (integers below 2**47 by the accumulator check, 9.3)
            acc = F.linear(x.to(torch.float64), w)
            acc = acc.round().to(torch.int64) + torch.as_tensor(node.arrays["bias"].astype(np.int64))
            y = torch_requantize64(acc, node.arrays["multiplier"], node.arrays["shift"], axis=1)
            return [y.clamp(node.attrs["act_min"], node.attrs["act_max"])]
        if xin.format == "int8":
            # float64 holds every partial sum exactly (integers below 2**31 by the accumulator check)
            acc = F.linear((x - xin.zero_point).to(torch.float64), w)
            acc = acc.round().to(torch.int64) + torch.as_tensor(node.arrays["bias"].astype(np.int64))
            y = t_requantize(acc, node.arrays["multiplier"], node.arrays["shift"], model.rounding, axis=1)
            return [(y + xout.zero_point).clamp(node.attrs["act_min"], node.attrs["act_max"])]
        y = F.linear(x.to(torch.float64), w, torch.as_tensor(node.arrays["bias"].astype(np.float64)))
        return [y.clamp(node.attrs["act_min_f"], node.attrs["act_max_f"]).to(torch.float32)]

    def c_call(self, node, model):
        """C: kws_linear_s8 / kws_linear_s16 / kws_linear_f32 (c_runtime/kws_linear.h)."""
        from ..fixedpoint import ROUNDING_MODES
        O, F = node.arrays["weight"].shape
        if in_tensor(model, node).format in QFORMATS:
            return q_c_call("kws_linear", node, model, [("i32", int(F)), ("i32", int(O))])
        if in_tensor(model, node).format == "int16":
            return "kws_linear_s16", [("in", 0), ("array", "weight"), ("array", "bias"), ("array", "multiplier"),
                                      ("array", "shift"), ("out", 0), ("i32", int(F)), ("i32", int(O)),
                                      ("i32", int(node.attrs["act_min"])), ("i32", int(node.attrs["act_max"]))]
        if in_tensor(model, node).format == "int8":
            _, zi = qparams(in_tensor(model, node))
            _, zo = qparams(out_tensor(model, node))
            return "kws_linear_s8", [("in", 0), ("array", "weight"), ("array", "bias"), ("array", "multiplier"),
                                     ("array", "shift"), ("out", 0), ("i32", int(F)), ("i32", int(O)),
                                     ("i32", zi), ("i32", zo), ("i32", int(node.attrs["act_min"])),
                                     ("i32", int(node.attrs["act_max"])), ("i32", ROUNDING_MODES[model.rounding])]
        return "kws_linear_f32", [("in", 0), ("array", "weight"), ("array", "bias"), ("out", 0),
                                  ("i32", int(F)), ("i32", int(O)),
                                  ("f32", float(np.float32(node.attrs["act_min_f"]))),
                                  ("f32", float(np.float32(node.attrs["act_max_f"])))]

    def macs(self, node, model):
        return int(node.arrays["weight"].size)


linear_int8 = linear_int   # the former name

OPS = [Linear()]
