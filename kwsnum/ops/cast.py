"""cast: between the float formats float32, float16 and bfloat16, elementwise, any shape (docs/numerics.md
section 7, "cast").

    y = narrow_out(widen_in(x))

widen_in is exact (a 16-bit float is a float32 value), narrow_out rounds once to nearest even (identity for a
float32 output), so a 16-bit to 16-bit cast is also a single rounding. The oracle uses kwsnum.float16 (bit
level, numba), the torch reference torch's own float16 / bfloat16 types, C kws_cast_<in>_<out> (kws_cast.h).
"""
import numpy as np

from ..float16 import narrow, widen
from ..model import STORAGE_FLOATS
from .base import C_SUFFIX, Op, in_tensor, out_tensor, require

FLOATS = ("float32",) + STORAGE_FLOATS


class Cast(Op):
    name = "cast"
    formats = FLOATS              # the node format is its input's; the output format is the output tensor's
    storage_floats = False

    def output_format(self, node, model, fmt):
        out = out_tensor(model, node).format
        return out if out in FLOATS else "float32"

    def check(self, node, model, in_specs, fmt):
        require(out_tensor(model, node).format != in_specs[0].format, node,
                f"cast from {in_specs[0].format} to the same format")

    def output_shapes(self, node, in_shapes):
        return [tuple(in_shapes[0])]

    def prepare(self, node, model, rounding):
        return (in_tensor(model, node).format, out_tensor(model, node).format)

    def run(self, p, inputs):
        fin, fout = p
        y = np.ascontiguousarray(widen(inputs[0], fin), dtype=np.float32)
        return [narrow(y, fout)]

    def torch_ref(self, node, model, inputs):
        from ..torchref import narrow as torch_narrow, widen as torch_widen
        x = torch_widen(inputs[0], in_tensor(model, node).format)
        return [torch_narrow(x, out_tensor(model, node).format)]

    def c_call(self, node, model):
        """C: kws_cast_<in>_<out>(x, y, n) (c_runtime/kws_cast.h)."""
        fin = C_SUFFIX.get(in_tensor(model, node).format, "_f32")
        fout = C_SUFFIX.get(out_tensor(model, node).format, "_f32")
        return f"kws_cast{fin}{fout}", [("in", 0), ("out", 0), ("i32", in_tensor(model, node).size)]

    def summary(self, node):
        return ""


OPS = [Cast()]
