"""What every op declares: its schema (attributes and constant arrays), its shape rule,
its oracle kernel (numba) and its PyTorch reference.

An op module defines one or more :class:`Op` subclasses and registers them in
``kwsnum/ops/__init__.py``. The interpreter, the torch runner, the HDF5 loader and
``kwsnum inspect`` only ever talk to ops through this interface.
"""
import numpy as np

from ..errors import ModelError


class Attr:
    """Schema of one scalar/tuple attribute.

    kind: "int", "ints" (tuple of ``length`` ints), "float", "str", "bool".
    """

    def __init__(self, kind, length=None, default=None, choices=None, min=None, max=None, formats=None):
        self.kind, self.length, self.default = kind, length, default
        self.choices, self.min, self.max = choices, min, max
        self.formats = formats  # only required for these node formats (None: all)

    def coerce(self, name, value, node):
        k = self.kind
        try:
            if k == "int":
                v = np.asarray(value)
                if v.ndim != 0 or v.dtype.kind not in "iub":
                    raise TypeError
                v = int(v)
                vals = (v,)
            elif k == "ints":
                v = np.asarray(value)
                if v.ndim != 1 or (v.size and v.dtype.kind not in "iu") or \
                        (self.length is not None and v.size != self.length):
                    raise TypeError
                v = tuple(int(i) for i in v)
                vals = v
            elif k == "float":
                v = np.asarray(value)
                if v.ndim != 0 or v.dtype.kind not in "fiu":
                    raise TypeError
                v = float(v)
                vals = ()
            elif k == "str":
                if isinstance(value, bytes):
                    value = value.decode()
                if not isinstance(value, str):
                    raise TypeError
                v = value
                vals = ()
            elif k == "bool":
                v = np.asarray(value)
                if v.ndim != 0 or v.dtype.kind not in "bi":
                    raise TypeError
                v = bool(v)
                vals = ()
            else:  # pragma: no cover - schema bug
                raise AssertionError(k)
        except (TypeError, ValueError):
            want = {"int": "an integer", "ints": f"{self.length or 'a list of'} integers", "float": "a number",
                    "str": "a string", "bool": "a boolean"}[k]
            raise node.error(f"attribute {name!r} must be {want}, got {value!r}") from None
        if self.choices is not None and v not in self.choices:
            raise node.error(f"attribute {name!r} must be one of {list(self.choices)}, got {v!r}")
        for i in vals:
            if (self.min is not None and i < self.min) or (self.max is not None and i > self.max):
                raise node.error(f"attribute {name!r} = {v!r} is out of range [{self.min}, {self.max}]")
        return v


class Arr:
    """Schema of one constant array: its dtype per node format (absent: not used in that format)."""

    def __init__(self, optional=False, **dtype_by_format):
        self.optional = optional
        self.dtypes = {f: np.dtype(d) for f, d in dtype_by_format.items()}


class Op:
    name = ""
    n_inputs = 1
    formats = ("int8", "float32")
    attrs = {}
    arrays = {}

    # ------------------------------------------------------------ schema
    def node_format(self, node, model):
        """The format a node computes in: by default, that of its first input."""
        return model.tensors[node.inputs[0]].format

    def fill_defaults(self, node, fmt=None):
        for name, spec in self.attrs.items():
            if spec.formats is not None and fmt is not None and fmt not in spec.formats:
                continue
            if name not in node.attrs and spec.default is not None:
                node.attrs[name] = spec.default

    def validate(self, node, model):
        if len(node.inputs) != self.n_inputs:
            raise node.error(f"takes {self.n_inputs} input(s), got {len(node.inputs)}")
        if len(node.outputs) != 1:
            raise node.error(f"produces 1 output, got {len(node.outputs)}")
        fmt = self.node_format(node, model)
        if fmt not in self.formats:
            raise node.error(f"format {fmt} is not supported (supported: {', '.join(self.formats)})")
        unknown = sorted(set(node.attrs) - set(self.attrs))
        if unknown:
            raise node.error(f"unknown attribute(s) {', '.join(map(repr, unknown))} (known: {', '.join(self.attrs)})")
        for name, spec in self.attrs.items():
            if spec.formats is not None and fmt not in spec.formats:
                continue
            if name not in node.attrs:
                if spec.default is None:
                    raise node.error(f"missing attribute {name!r}")
                node.attrs[name] = spec.default
            node.attrs[name] = spec.coerce(name, node.attrs[name], node)
        unknown = sorted(set(node.arrays) - set(self.arrays))
        if unknown:
            raise node.error(f"unknown dataset(s) {', '.join(map(repr, unknown))} (known: {', '.join(self.arrays)})")
        for name, spec in self.arrays.items():
            dt = spec.dtypes.get(fmt)
            if dt is None:
                continue
            if name not in node.arrays:
                if spec.optional:
                    continue
                raise node.error(f"missing dataset {name!r}")
            a = np.asarray(node.arrays[name])
            if a.dtype != dt:
                raise node.error(f"dataset {name!r} has dtype {a.dtype}, expected {dt} for {fmt}")
            node.arrays[name] = a
        in_specs = [model.tensors[t] for t in node.inputs]
        self.check(node, model, in_specs, fmt)
        shapes = self.output_shapes(node, [tuple(s.shape) for s in in_specs])
        for t, shp in zip(node.outputs, shapes):
            declared = tuple(model.tensors[t].shape)
            if tuple(shp) != declared:
                raise node.error(f"output {t!r} has shape {declared}, but the op computes {tuple(shp)}")
        out = model.tensors[node.outputs[0]]
        want = self.output_format(node, model, fmt)
        if out.format != want:
            raise node.error(f"output {out.name!r} has format {out.format}, expected {want}")
        if fmt == "int8" and "act_min" in self.attrs:
            lo, hi = node.attrs["act_min"], node.attrs["act_max"]
            if not -128 <= lo <= hi <= 127:
                raise node.error(f"activation clamp [{lo}, {hi}] is not inside [-128, 127]")
        if fmt == "float32" and "act_min_f" in self.attrs:
            lo, hi = node.attrs["act_min_f"], node.attrs["act_max_f"]
            if np.isnan(lo) or np.isnan(hi) or not np.float32(lo) <= np.float32(hi):
                raise node.error(f"activation clamp [{lo}, {hi}] must be an ordered pair of numbers")

    def output_format(self, node, model, fmt):
        return fmt

    def check(self, node, model, in_specs, fmt):
        """Op-specific consistency checks (array shapes against tensor shapes). Raise node.error(...)."""

    def output_shapes(self, node, in_shapes):
        raise NotImplementedError

    # ------------------------------------------------------------ execution
    def prepare(self, node, model, rounding):
        """Everything the kernel needs, computed once per plan: returns an opaque object for run()."""
        raise NotImplementedError

    def run(self, prep, inputs):
        """Oracle: inputs are numpy arrays with a leading batch dimension. Returns a list of outputs."""
        raise NotImplementedError

    def torch_ref(self, node, model, inputs):
        """Independent torch implementation of the same arithmetic (see docs/numerics.md)."""
        raise NotImplementedError

    def c_call(self, node, model):
        """The C runtime call (c_runtime/) that computes this node for ONE sample: returns
        ``(function_name, args)``, args a list describing each C argument in order:

        - ``("in", i)``: pointer to input i of the sample (int8_t* / float*, contiguous, row-major);
        - ``("out", 0)``: pointer to the output of the sample;
        - ``("array", key)``: const pointer to ``node.arrays[key]`` (contiguous, its stored dtype);
        - ``("scratch", nbytes)``: a caller-provided scratch buffer of nbytes bytes;
        - ``("i32", int)``, ``("i64", int)``, ``("f32", float)``: scalars (f32: a float32 value, may be +-inf).

        Values come from the node's attrs/arrays, the tensor specs and ``model.rounding`` exactly as
        :meth:`prepare` derives them; nothing else (no Python-only state). Used by the ctypes tests and
        the C code generator.
        """
        raise NotImplementedError

    # ------------------------------------------------------------ reporting
    def macs(self, node, model):
        return 0

    def param_count(self, node):
        return int(sum(np.asarray(a).size for k, a in node.arrays.items() if k in ("weight", "bias", "gamma", "beta")))

    def weight_bytes(self, node):
        return int(sum(np.asarray(a).nbytes for a in node.arrays.values()))

    def summary(self, node):
        """Short text of the op parameters for ``kwsnum inspect``."""
        keys = [k for k in node.attrs if k not in ("act_min", "act_max")]
        return ", ".join(f"{k}={_fmt(node.attrs[k])}" for k in keys)


def _fmt(v):
    if isinstance(v, tuple):
        return "x".join(str(i) for i in v) if v else "()"
    return str(v)


def out_tensor(model, node):
    return model.tensors[node.outputs[0]]


def in_tensor(model, node, i=0):
    return model.tensors[node.inputs[i]]


def qparams(spec):
    """(scale, zero_point) of an int8 tensor spec."""
    return float(spec.scale), int(spec.zero_point)


def require(cond, node, message):
    if not cond:
        raise node.error(message)


def check_int8_accumulation(node, weight, bias, multiplier, shift):
    """The int8 checks shared by every op that accumulates (q_in - zp_in) * w into int32 and requantizes
    per output channel (docs/numerics.md 3.2 and 3.4): shifts in [-31, 30], multipliers >= 0, symmetric
    weights, and |bias| + 255 * sum|w| < 2**31 for every output channel."""
    require(np.all((shift >= -31) & (shift <= 30)), node, "shift values must be in [-31, 30]")
    require(np.all(multiplier >= 0), node, "multiplier values must be >= 0")
    require(np.all(weight != -128), node, "int8 weights must be in [-127, 127] (symmetric)")
    O = weight.shape[0]
    bound = np.abs(bias.astype(np.int64)) + np.abs(weight.astype(np.int64)).reshape(O, -1).sum(axis=1) * 255
    worst = int(bound.max(initial=0))
    require(worst < 2 ** 31, node, f"int32 accumulator could overflow (worst case {worst}); the weights are too large")


__all__ = ["Attr", "Arr", "Op", "ModelError", "out_tensor", "in_tensor", "qparams", "require",
           "check_int8_accumulation"]
