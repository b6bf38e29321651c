"""Comparing two implementations of a model (docs/numerics.md section 5, docs/verify.md).

Rules: integer tensors compare with ``==``; float32 oracle vs C compares bit for bit (NaN equals NaN, the sign
of a zero is not part of the contract); the PyTorch float reference vs the oracle, on float32 tensors only,
within ``FLOAT_RTOL * max(1, max |reference|)`` taken per sample and tensor.

:func:`layer_diffs` walks two traces (``{tensor name: (N, *shape) array}``, as ``Model.run(x, trace=True)``,
``torchref.run_reference(..., trace=True)`` and the C trace build return) in graph order and says, per layer, how
many elements differ; :func:`first_difference` names the first layer that does.
"""
from dataclasses import dataclass

import numpy as np

FLOAT_RTOL = 1e-4   # docs/numerics.md section 5: |o - r| <= FLOAT_RTOL * max(1, max |r|)
# float16 / bfloat16 tensors (section 7): the same rule with 4 units of roundoff of the 16-bit format
STORAGE_RTOL = {"float16": 2.0 ** -9, "bfloat16": 2.0 ** -6}

EXACT = "exact"
TOLERANCE = "tolerance"


def same_values(a, b):
    """Element-wise equality: integers ``==``; floats ``==`` except that NaN equals NaN (and -0.0 == 0.0)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return (a == b) | (np.isnan(a) & np.isnan(b))
    return a == b


def storage_values(a, fmt):
    """Values of a float16 / bfloat16 tensor given as uint16 bit patterns, as float64 (numpy's own float16;
    bfloat16 by placing the bits in the top half of a float32). Other formats unchanged."""
    a = np.asarray(a)
    if fmt == "float16":
        with np.errstate(invalid="ignore"):
            return a.astype(np.uint16).view(np.float16).astype(np.float64)
    if fmt == "bfloat16":
        with np.errstate(invalid="ignore"):      # signalling NaN patterns stay NaN
            return (a.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return a


def within_tolerance(a, ref, rtol=FLOAT_RTOL):
    """Element-wise ``|a - ref| <= rtol * max(1, max |ref|)``, the max taken per sample (axis 0 is the
    batch). NaN agrees only with NaN, an infinity only with the same infinity."""
    a = np.asarray(a, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    n = ref.shape[0] if ref.ndim else 1
    finite = np.where(np.isfinite(ref), np.abs(ref), 0.0).reshape(n, -1)
    bound = rtol * np.maximum(1.0, finite.max(axis=1, initial=0.0))
    bound = bound.reshape((n,) + (1,) * (ref.ndim - 1)) if ref.ndim else bound[0]
    with np.errstate(invalid="ignore"):
        close = np.abs(a - ref) <= bound
    return close | same_values(a, ref)


def agreement(a, b, rule, fmt=None):
    """Element-wise agreement of ``a`` with the reference ``b`` under ``rule``: EXACT (float16 / bfloat16 bit
    patterns compared as bits), or TOLERANCE, which applies to float tensors only (integer tensors are always
    exact; float16 / bfloat16 tensors, given their ``fmt``, compare as values within STORAGE_RTOL)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    if rule == TOLERANCE and fmt in STORAGE_RTOL:
        return within_tolerance(storage_values(a, fmt), storage_values(b, fmt), STORAGE_RTOL[fmt])
    if rule == TOLERANCE and b.dtype.kind == "f":
        return within_tolerance(a, b)
    return same_values(a, b)


def per_sample(ok):
    """(N,) bool: every element of each sample agrees."""
    ok = np.asarray(ok)
    return ok.reshape(ok.shape[0], -1).all(axis=1)


@dataclass
class LayerDiff:
    """How one tensor differs between two traces."""
    position: int          # 0 = the model input, i = the output of node i - 1
    layer: str             # the node name ("input" for the model input)
    op: str
    tensor: str
    n_diff: int            # differing elements (over every sample compared)
    n_total: int
    max_abs_diff: float
    first: tuple = None    # (sample, element index, value a, value b) of the first differing element

    @property
    def fraction(self):
        return self.n_diff / max(1, self.n_total)

    def describe(self, names=("a", "b")):
        s = (f"layer {self.position - 1} '{self.layer}' ({self.op}), tensor '{self.tensor}': "
             f"{self.n_diff}/{self.n_total} elements differ ({100 * self.fraction:.2f} %), "
             f"max |diff| {self.max_abs_diff:g}")
        if self.first is not None:
            smp, idx, va, vb = self.first
            s += f"; first at sample {smp}, element {idx}: {names[0]} {va!r}, {names[1]} {vb!r}"
        return s


def _order(model):
    out = [(0, "input", "input", model.inputs[0])]
    out += [(i + 1, n.name, n.op, n.outputs[0]) for i, n in enumerate(model.nodes)]
    return out


def layer_diffs(model, trace_a, trace_b, rule=EXACT, masks=False):
    """One :class:`LayerDiff` per tensor, in graph order (input, then each node's output), over the tensors both
    traces hold (TFLM's lacks the reshapes an import inserts). With ``masks``, (LayerDiff, element-wise agreement
    array) pairs."""
    out = []
    for pos, layer, op, t in _order(model):
        if t not in trace_a or t not in trace_b:
            continue
        a, b = np.asarray(trace_a[t]), np.asarray(trace_b[t])
        ok = agreement(a, b, rule, model.tensors[t].format)
        n_diff = int(ok.size - np.count_nonzero(ok))
        max_abs, first = 0.0, None
        if n_diff:
            with np.errstate(invalid="ignore", over="ignore"):
                d = np.abs(a.astype(np.float64) - b.astype(np.float64))[~ok]
            max_abs = float(np.nanmax(d)) if not np.all(np.isnan(d)) else float("nan")
            idx = np.unravel_index(int(np.argmin(ok.reshape(-1))), ok.shape)
            first = (int(idx[0]), tuple(int(i) for i in idx[1:]), a[idx].item(), b[idx].item())
        d = LayerDiff(pos, layer, op, t, n_diff, int(ok.size), max_abs, first)
        out.append((d, ok) if masks else d)
    return out


def first_difference(model, trace_a, trace_b, rule=EXACT):
    """The first :class:`LayerDiff` (graph order) with a differing element, or None if the traces agree."""
    for d in layer_diffs(model, trace_a, trace_b, rule):
        if d.n_diff:
            return d
    return None


__all__ = ["FLOAT_RTOL", "STORAGE_RTOL", "EXACT", "TOLERANCE", "same_values", "storage_values",
           "within_tolerance", "agreement", "per_sample",
           "LayerDiff", "layer_diffs", "first_difference"]
