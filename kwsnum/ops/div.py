"""div: elementwise y = a / (b + eps) with ``b`` broadcast along its size-1 dimensions (same rank as ``a``,
each dimension equal to a's or 1). For the normaliser of linear attention.

Float formats only: float32, and float16 / bfloat16 through the storage adapter (docs/numerics.md section 7.1).
float32 arithmetic (docs/numerics.md, "div"): ``t = b + eps`` (one float32 addition, always done: -0 + 0 is
+0), ``y = a / t`` (one IEEE float32 division; x/0 gives +-inf or NaN as IEEE says), then the clamp
[act_min_f, act_max_f] by comparisons. Every step is one correctly rounded IEEE operation, so the torch
reference agrees bit for bit too.
"""
import numpy as np

from .base import Attr, Op, require

MAX_RANK = 3


class Div(Op):
    name = "div"
    n_inputs = 2
    formats = ("float32",)
    attrs = {
        "eps": Attr("float", default=0.0),
        "act_min_f": Attr("float", default=-np.inf, formats=("float32",)),
        "act_max_f": Attr("float", default=np.inf, formats=("float32",)),
    }

    def check(self, node, model, in_specs, fmt):
        a, b = (tuple(s.shape) for s in in_specs)
        require(in_specs[0].format == in_specs[1].format, node,
                f"inputs have different formats {in_specs[0].format} and {in_specs[1].format}")
        require(len(a) <= MAX_RANK, node, f"rank {len(a)} > {MAX_RANK} per sample is not supported")
        require(len(a) == len(b) and all(db in (1, da) for da, db in zip(a, b)), node,
                f"divisor shape {b} does not broadcast to {a} (same rank, each dimension equal or 1)")
        require(np.isfinite(np.float32(node.attrs["eps"])), node, "eps must be finite")

    def inplace_inputs(self, node, model):
        return (0,)          # y[i] from a[i] and b[broadcast i]: y may overwrite a (not b: broadcast reads repeat)

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        return dict(eps=np.float32(node.attrs["eps"]), lo=np.float32(node.attrs["act_min_f"]),
                    hi=np.float32(node.attrs["act_max_f"]))

    def run(self, p, inputs):
        # numpy float32 elementwise operations are single IEEE operations (no FMA, no reassociation)
        a, b = (np.asarray(x, np.float32) for x in inputs)
        with np.errstate(all="ignore"):
            t = (b + p["eps"]).astype(np.float32)
            y = (a / t).astype(np.float32)
        y = np.where(y < p["lo"], p["lo"], np.where(y > p["hi"], p["hi"], y)).astype(np.float32)
        return [y]

    def torch_ref(self, node, model, inputs):
        import torch
        a, b = (x.to(torch.float32) for x in inputs)
        t = b + torch.tensor(np.float32(node.attrs["eps"]))
        y = torch.div(a, t)
        lo = torch.tensor(np.float32(node.attrs["act_min_f"]))
        hi = torch.tensor(np.float32(node.attrs["act_max_f"]))
        return [torch.clamp(y, lo, hi)]

    def c_call(self, node, model):
        """C: kws_div_f32 (c_runtime/kws_div.h): shapes padded to rank 3 with leading 1s."""
        a = (1,) * (MAX_RANK - len(model.tensors[node.inputs[0]].shape)) + tuple(model.tensors[node.inputs[0]].shape)
        b = (1,) * (MAX_RANK - len(model.tensors[node.inputs[1]].shape)) + tuple(model.tensors[node.inputs[1]].shape)
        return "kws_div_f32", [("in", 0), ("in", 1), ("out", 0)] + [("i32", d) for d in a] + \
            [("i32", d) for d in b] + [("f32", float(np.float32(node.attrs["eps"]))),
                                       ("f32", float(np.float32(node.attrs["act_min_f"]))),
                                       ("f32", float(np.float32(node.attrs["act_max_f"])))]

    def summary(self, node):
        return f"eps={node.attrs['eps']:g}"


OPS = [Div()]
