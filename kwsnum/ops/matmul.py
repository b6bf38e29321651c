"""matmul: the product of two activation matrices (one sample each), y = op(A) @ op(B), where op transposes
when ``transpose_a`` / ``transpose_b`` is set. A is (m, k) ((k, m) transposed), B is (k, n) ((n, k)
transposed), y is (m, n). For attention blocks: V K^T, (V K^T) Q, ...

Float formats only: float32, and float16 / bfloat16 through the storage adapter (docs/numerics.md section 7.1).
float32 arithmetic (docs/numerics.md, "matmul"): for each (i, j), ``acc = 0.0f; for p in 0..k-1 (ascending):
acc = acc + a[i, p] * b[p, j]`` (each product rounded to float32, then the sum: no FMA), then the clamp
[act_min_f, act_max_f] by comparisons.
"""
import numpy as np
from .._numba import njit

from ..fixedpoint import clamp
from .base import Attr, Op, require


@njit(cache=True, nogil=True, error_model="numpy")  # as under parallel=True before
def matmul_f32(a, b, out, lo, hi):
    """a (N, m, k), b (N, k, n) float32, contiguous; out (N, m, n): the sequential float32 sums."""
    N, m, k = a.shape
    n = b.shape[2]
    for s in range(N * m):
        bi = s // m
        i = s % m
        for j in range(n):
            acc = np.float32(0.0)
            for p in range(k):
                acc = np.float32(acc + np.float32(a[bi, i, p] * b[bi, p, j]))
            out[bi, i, j] = clamp(acc, lo, hi)


def _dims(node, in_shapes):
    for i, shp in enumerate(in_shapes[:2]):
        if len(shp) != 2:
            raise node.error(f"input {i} must be a matrix (2-D per sample), got {tuple(shp)}")
    (a0, a1), (b0, b1) = in_shapes[0], in_shapes[1]
    m, ka = (a1, a0) if node.attrs.get("transpose_a") else (a0, a1)
    kb, n = (b1, b0) if node.attrs.get("transpose_b") else (b0, b1)
    return m, ka, kb, n


class Matmul(Op):
    name = "matmul"
    n_inputs = 2
    formats = ("float32",)
    attrs = {
        "transpose_a": Attr("bool", default=False),
        "transpose_b": Attr("bool", default=False),
        "act_min_f": Attr("float", default=-np.inf, formats=("float32",)),
        "act_max_f": Attr("float", default=np.inf, formats=("float32",)),
    }

    def check(self, node, model, in_specs, fmt):
        for i, s in enumerate(in_specs):
            require(len(s.shape) == 2, node, f"input {i} must be a matrix (2-D per sample), got {tuple(s.shape)}")
        require(in_specs[0].format == in_specs[1].format, node,
                f"inputs have different formats {in_specs[0].format} and {in_specs[1].format}")
        m, ka, kb, n = _dims(node, [tuple(s.shape) for s in in_specs])
        require(ka == kb, node, f"inner dimensions differ: A gives {ka}, B gives {kb} "
                                f"(transpose_a={node.attrs['transpose_a']}, transpose_b={node.attrs['transpose_b']})")

    def output_shapes(self, node, in_shapes):
        m, _, _, n = _dims(node, in_shapes)
        return [(m, n)]

    def prepare(self, node, model, rounding):
        return dict(ta=node.attrs["transpose_a"], tb=node.attrs["transpose_b"],
                    lo=np.float32(node.attrs["act_min_f"]), hi=np.float32(node.attrs["act_max_f"]))

    def run(self, p, inputs):
        a, b = (np.asarray(x, np.float32) for x in inputs)
        a = np.ascontiguousarray(a.transpose(0, 2, 1) if p["ta"] else a)
        b = np.ascontiguousarray(b.transpose(0, 2, 1) if p["tb"] else b)
        out = np.empty((a.shape[0], a.shape[1], b.shape[2]), np.float32)
        matmul_f32(a, b, out, p["lo"], p["hi"])
        return [out]

    def torch_ref(self, node, model, inputs):
        import torch
        a, b = (x.to(torch.float32) for x in inputs)
        if node.attrs["transpose_a"]:
            a = a.transpose(1, 2)
        if node.attrs["transpose_b"]:
            b = b.transpose(1, 2)
        y = torch.matmul(a, b)
        lo = torch.tensor(np.float32(node.attrs["act_min_f"]))
        hi = torch.tensor(np.float32(node.attrs["act_max_f"]))
        return [torch.clamp(y, lo, hi)]

    def c_call(self, node, model):
        """C: kws_matmul_f32 (c_runtime/kws_matmul.h): A and B as stored, with their transpose flags."""
        m, k, _, n = _dims(node, [tuple(model.tensors[t].shape) for t in node.inputs])
        return "kws_matmul_f32", [("in", 0), ("in", 1), ("out", 0), ("i32", m), ("i32", k), ("i32", n),
                                  ("i32", int(node.attrs["transpose_a"])), ("i32", int(node.attrs["transpose_b"])),
                                  ("f32", float(np.float32(node.attrs["act_min_f"]))),
                                  ("f32", float(np.float32(node.attrs["act_max_f"])))]

    def macs(self, node, model):
        m, k, _, n = _dims(node, [tuple(model.tensors[t].shape) for t in node.inputs])
        return m * k * n

    def summary(self, node):
        return f"transpose_a={node.attrs['transpose_a']}, transpose_b={node.attrs['transpose_b']}"


OPS = [Matmul()]
