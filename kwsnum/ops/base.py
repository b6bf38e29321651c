"""What every op declares: its schema (attributes and constant arrays), its shape rule,
its oracle kernel (numba) and its PyTorch reference.

An op module defines one or more :class:`Op` subclasses and registers them in
``kwsnum/ops/__init__.py``. The interpreter, the torch runner, the HDF5 loader and
``kwsnum inspect`` only ever talk to ops through this interface.
"""
import numpy as np

from ..errors import ModelError
from ..text import short_repr
from ..quant import INT16_ACC_LIMIT   # requantize64's input range (numerics 9.3)
from ..model import QBITS, QFORMATS, QRANGE, QUANTIZED, STORAGE_FLOATS, Node, TensorSpec

C_SUFFIX = {"float16": "_f16", "bfloat16": "_bf16"}


def schema_format(fmt, op=None):
    """The format whose schema (attributes, array dtypes, kernels) a node of format ``fmt`` uses: a storage
    float (float16 / bfloat16) runs through the float32 kernel when the op supports it."""
    if fmt in STORAGE_FLOATS and (op is None or op.storage_floats):
        return "float32"
    return fmt


class Attr:
    """Schema of one scalar/tuple attribute.

    kind: "int", "ints" (tuple of ``length`` ints), "float", "str", "bool".
    """

    def __init__(self, kind, length=None, default=None, choices=None, min=None, max=None, formats=None,
                 out_formats=None):
        self.kind, self.length, self.default = kind, length, default  # default: a value, or {format: value}
        self.choices, self.min, self.max = choices, min, max
        self.formats = formats  # only required for these node formats (None: all)
        self.out_formats = out_formats  # ... and only when the output is in one of these formats (None: any)

    def applies(self, fmt, out_fmt):
        """Does this attribute belong to a node of (schema) format ``fmt`` whose output has format ``out_fmt``?
        (None: not known yet, no filter.)"""
        if self.formats is not None and fmt is not None and fmt not in self.formats:
            return False
        return self.out_formats is None or out_fmt is None or out_fmt in self.out_formats

    def default_for(self, fmt):
        """The default of a node in format ``fmt`` (None: required)."""
        if isinstance(self.default, dict):
            return self.default.get(fmt)
        return self.default

    def coerce(self, name, value, node):
        k = self.kind
        try:
            if k == "int":
                v = np.asarray(value)
                if v.ndim != 0 or v.dtype.kind not in "iu":      # a bool is not an integer
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
            raise node.error(f"attribute {name!r} must be {want}, got {short_repr(value)}") from None
        if self.choices is not None and v not in self.choices:
            raise node.error(f"attribute {name!r} must be one of {list(self.choices)}, got {short_repr(v)}")
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
    # float16 / bfloat16 nodes run through the float32 kernel (the storage adapter below): every input widened
    # exactly, float32 arithmetic, every output rounded once. Ops that convert formats set this False.
    storage_floats = True
    attrs = {}
    arrays = {}
    # stateful ops (delay) also define step(prep, inputs, state) and torch_step(node, model, inputs, state): state
    # is a dict the stream keeps between steps (kwsnum/streaming.py); run() / torch_ref() see the initial state
    stateful = False

    # ------------------------------------------------------------ schema
    def node_format(self, node, model):
        """The format a node computes in: by default, that of its first input."""
        return model.tensors[node.inputs[0]].format

    def _adapted(self, fmt):
        return fmt in STORAGE_FLOATS and self.storage_floats and "float32" in self.formats

    def supports(self, fmt):
        return fmt in self.formats or self._adapted(fmt)

    def fill_defaults(self, node, fmt=None, out_fmt=None):
        if fmt is not None and self._adapted(fmt):
            fmt = "float32"
        for name, spec in self.attrs.items():
            if not spec.applies(fmt, out_fmt):
                continue
            if name not in node.attrs and spec.default_for(fmt) is not None:
                node.attrs[name] = spec.default_for(fmt)

    def validate(self, node, model):
        if self.n_inputs is not None and len(node.inputs) != self.n_inputs:    # None: the op checks the count
            raise node.error(f"takes {self.n_inputs} input(s), got {len(node.inputs)}")
        if len(node.outputs) != 1:
            raise node.error(f"produces 1 output, got {len(node.outputs)}")
        node_fmt = self.node_format(node, model)
        if not self.supports(node_fmt):
            sup = list(self.formats) + (list(STORAGE_FLOATS) if self.storage_floats and "float32" in self.formats
                                        else [])
            raise node.error(f"format {node_fmt} is not supported (supported: {', '.join(sup)})")
        fmt = "float32" if self._adapted(node_fmt) else node_fmt    # the schema's format
        unknown = sorted(set(node.attrs) - set(self.attrs))
        if unknown:
            raise node.error(f"unknown attribute(s) {', '.join(map(repr, unknown))} (known: {', '.join(self.attrs)})")
        out_fmt = model.tensors[node.outputs[0]].format
        for name, spec in self.attrs.items():
            if not spec.applies(fmt, out_fmt):
                if spec.out_formats is not None and name in node.attrs:
                    raise node.error(f"attribute {name!r} only applies to an output in {', '.join(spec.out_formats)}")
                continue
            if name not in node.attrs:
                if spec.default_for(fmt) is None or getattr(model, "strict", False):
                    raise node.error(f"missing attribute {name!r}")   # a file states every attribute
                node.attrs[name] = spec.default_for(fmt)
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
            if node_fmt != fmt and dt == np.float32:
                dt = np.dtype(np.uint16)          # stored as the node's 16-bit float bit patterns
            if a.dtype != dt:
                raise node.error(f"dataset {name!r} has dtype {a.dtype}, expected {dt} for {node_fmt}")
            node.arrays[name] = a
        out = model.tensors[node.outputs[0]]
        want = self.output_format(node, model, node_fmt)     # before check(): it may rely on the output format
        if out.format != want:
            raise node.error(f"output {out.name!r} has format {out.format}, expected {want}")
        in_specs = [model.tensors[t] for t in node.inputs]
        self.check(node, model, in_specs, fmt)
        shapes = self.output_shapes(node, [tuple(s.shape) for s in in_specs])
        for t, shp in zip(node.outputs, shapes):
            declared = tuple(model.tensors[t].shape)
            if tuple(shp) != declared:
                raise node.error(f"output {t!r} has shape {declared}, but the op computes {tuple(shp)}")
        if fmt in QRANGE and "act_min" in self.attrs:
            lo, hi = node.attrs["act_min"], node.attrs["act_max"]
            qmin, qmax = QRANGE[fmt]
            if not qmin <= lo <= hi <= qmax:
                raise node.error(f"activation clamp [{lo}, {hi}] is not inside [{qmin}, {qmax}]")
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

    # ------------------------------------------------------------ format-aware entry points
    # The interpreter, the torch reference runner and the code generator call these; they call the op's own
    # prepare/run, torch_ref and c_call, through the storage adapter for float16 / bfloat16 nodes.
    def storage_format(self, node, model):
        """float16 / bfloat16 if this node runs through the storage adapter, else None."""
        fmt = self.node_format(node, model)
        return fmt if self._adapted(fmt) else None

    def plan(self, node, model, rounding):
        sf = self.storage_format(node, model)
        if sf is None:
            return (None, None, self.prepare(node, model, rounding))
        n32, m32 = float32_view(node, model)
        return ([model.tensors[t].format for t in node.inputs], [model.tensors[t].format for t in node.outputs],
                self.prepare(n32, m32, rounding))

    def execute(self, planned, inputs):
        in_fmts, out_fmts, prep = planned
        if in_fmts is None:
            return self.run(prep, inputs)
        from ..float16 import narrow, widen
        outs = self.run(prep, [widen(x, f) for x, f in zip(inputs, in_fmts)])
        return [narrow(o, f) for o, f in zip(outs, out_fmts)]

    def reference(self, node, model, inputs):
        sf = self.storage_format(node, model)
        if sf is None:
            return self.torch_ref(node, model, inputs)
        from ..torchref import narrow, widen
        n32, m32 = float32_view(node, model)
        outs = self.torch_ref(n32, m32, [widen(x, model.tensors[t].format) for x, t in zip(inputs, node.inputs)])
        return [narrow(o, model.tensors[t].format) for o, t in zip(outs, node.outputs)]

    def c_function(self, node, model):
        """:meth:`c_call` of the node; a float16 / bfloat16 node calls the ``_f16`` / ``_bf16`` twin of the
        float32 kernel with the same arguments (tensors and arrays as uint16_t bit patterns)."""
        sf = self.storage_format(node, model)
        if sf is None:
            return self.c_call(node, model)
        n32, m32 = float32_view(node, model)
        fname, args = self.c_call(n32, m32)
        if not fname.endswith("_f32"):
            raise node.error(f"the C kernel {fname} has no {sf} twin")
        return fname[:-4] + C_SUFFIX[sf], args

    # ------------------------------------------------------------ execution (the op's own format)
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

    def work(self, node, model):
        """Operations per sample the node costs (the resource bound of docs/format.md, "Limits"): its MACs, and
        at least one per output element. Ops whose per-output cost grows with an attribute (pools) override."""
        return max(int(self.macs(node, model)), sum(model.tensors[t].size for t in node.outputs))

    def param_count(self, node):
        return int(sum(np.asarray(a).size for k, a in node.arrays.items() if k in ("weight", "bias", "gamma", "beta")))

    def weight_bytes(self, node):
        return int(sum(np.asarray(a).nbytes for a in node.arrays.values()))

    def inplace_inputs(self, node, model):
        """Indices of inputs whose bytes this node's C kernel may overwrite with its output (an elementwise
        kernel that reads element i of that input before writing element i of the output, and never reads it
        again). The C memory planner uses it (codegen/planner.py); sizes are checked there."""
        return ()

    def accumulator(self, node, model):
        """None, or accumulator_report(...) for an op that accumulates in integers (``kwsnum inspect``)."""
        return None

    def summary(self, node):
        """Short text of the op parameters for ``kwsnum inspect``."""
        keys = [k for k in node.attrs if k not in ("act_min", "act_max")]
        return ", ".join(f"{k}={_fmt(node.attrs[k])}" for k in keys)


class _ModelView:
    """A model seen with some tensor specs replaced (everything else delegated)."""

    def __init__(self, model, tensors):
        self._model = model
        self.tensors = tensors

    def __getattr__(self, name):
        return getattr(self._model, name)


def float32_view(node, model):
    """(node, model) as the float32 kernel sees a float16 / bfloat16 node: its float arrays widened exactly to
    float32 and its input and output tensors declared float32 (shapes unchanged)."""
    from ..float16 import widen
    sf = {model.tensors[t].format for t in node.inputs} | {model.tensors[t].format for t in node.outputs}
    fmt = next(iter(sorted(sf & set(STORAGE_FLOATS))), None)
    arrays = {k: (widen(a, fmt) if np.asarray(a).dtype == np.uint16 else a) for k, a in node.arrays.items()}
    n32 = Node(node.op, node.name, list(node.inputs), list(node.outputs), dict(node.attrs), arrays, node.index)
    tensors = dict(model.tensors)
    for t in list(node.inputs) + list(node.outputs):
        spec = tensors[t]
        if spec.format in STORAGE_FLOATS:
            tensors[t] = TensorSpec(spec.name, spec.shape, "float32")
    return n32, _ModelView(model, tensors)


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


def int8_accumulator_bound(weight, bias, in_zp):
    """Worst |accumulator| of an op accumulating bias + sum (q_in - zp_in) * w over int8 inputs q_in in
    [-128, 127] (docs/numerics.md 3.4): max over output channels of |bias| + sum|w| * max|q_in - zp_in|."""
    O = weight.shape[0]
    span = max(127 - int(in_zp), int(in_zp) + 128)
    bound = np.abs(bias.astype(np.int64)) + np.abs(weight.astype(np.int64)).reshape(O, -1).sum(axis=1) * span
    return int(bound.max(initial=0))


def accumulator_report(worst, bits=32):
    """dict(worst=..., bits=..., headroom=...) for ``kwsnum inspect``: headroom is how many more bits the
    worst case could grow before it overflows a signed ``bits``-bit accumulator."""
    used = int(worst).bit_length()
    return dict(worst=int(worst), bits=int(bits), headroom=int(bits - 1 - used))


def weighted_sum_accumulator(node, model):
    """accumulator_report of an op accumulating bias + sum x * w (conv, linear): int8 inputs in an int32
    accumulator (3.4), int16 inputs in the 48-bit range the int64 path allows (9.3); None for float formats."""
    x = model.tensors[node.inputs[0]]
    w, b = node.arrays["weight"], node.arrays["bias"]
    if x.format == "int16":
        return accumulator_report(int16_accumulator_bound(w, b), bits=48)
    if x.format == "int8":
        return accumulator_report(int8_accumulator_bound(w, b, x.zero_point))
    if x.format in QFORMATS:
        return accumulator_report(q_accumulator_bound(w, b, QBITS[x.format]), bits=32 if x.format == "q8" else 64)
    return None


def check_int8_accumulation(node, weight, bias, multiplier, shift, in_zp):
    """The int8 checks shared by every op that accumulates (q_in - zp_in) * w into int32 and requantizes
    per output channel (docs/numerics.md 3.2 and 3.4): shifts in [-31, 30], multipliers >= 0, symmetric
    weights, and the worst accumulator (:func:`int8_accumulator_bound`) below 2**31."""
    require(np.all((shift >= -31) & (shift <= 30)), node, "shift values must be in [-31, 30]")
    require(np.all(multiplier >= 0), node, "multiplier values must be >= 0")
    require(np.all(weight != -128), node, "int8 weights must be in [-127, 127] (symmetric)")
    worst = int8_accumulator_bound(weight, bias, in_zp)
    require(worst < 2 ** 31, node, f"the int32 accumulator could overflow: worst case |acc| = {worst} "
                                   f"(>= 2**31) from the weights and the int8 input range; reduce the fan-in "
                                   f"or the weight magnitudes of this layer")


# ------------------------------------------------------------------ int16 activations (TFLite 16x8, section 9)


def int16_accumulator_bound(weight, bias):
    """Worst |accumulator| of an int16 conv / linear (docs/numerics.md 9.3): max over output channels of
    |bias| + 32768 * sum |w| (zero point 0, |q| <= 32768). Python integers: exact."""
    O = weight.shape[0]
    sw = np.abs(weight.astype(np.int64)).reshape(O, -1).sum(axis=1)
    return max((abs(int(b)) + 32768 * int(w) for b, w in zip(bias.reshape(-1), sw)), default=0)


def check_int16_accumulation(node, weight, bias, multiplier, shift):
    """The int16 (16x8) checks of conv / linear: shifts in [-31, 7] and multipliers >= 0 (requantize64's range),
    symmetric int8 weights, and the worst accumulator below 2**47 (9.3)."""
    require(np.all((shift >= -31) & (shift <= 7)), node, "int16 shift values must be in [-31, 7] (the 64-bit "
                                                         "requantization's range: real multiplier < 128)")
    require(np.all(multiplier >= 0), node, "multiplier values must be >= 0")
    require(np.all(weight != -128), node, "int8 weights must be in [-127, 127] (symmetric)")
    worst = int16_accumulator_bound(weight, bias)
    require(worst < INT16_ACC_LIMIT, node, f"the int64 accumulator could leave requantize64's input range: worst "
                                           f"case |acc| = {worst} (>= 2**47) from the weights, bias and the int16 "
                                           f"input range")


# ------------------------------------------------------------------ Q-format fixed point (docs/numerics.md 10)
def q_attrs(overflow=True, output=False):
    """The rounding and overflow mode attributes of a Q node (10.1), as names; default RND + SAT. Ops whose
    result always fits (averages) have no overflow mode. ``output``: the modes belong to nodes whose OUTPUT is Q
    (quantize from a float format), not to nodes that compute in Q."""
    from ..fixedpoint import QROUNDING_MODES, OVERFLOW_MODES
    where = dict(out_formats=QFORMATS) if output else dict(formats=QFORMATS)
    a = {"qround": Attr("str", default="RND", choices=tuple(QROUNDING_MODES), **where)}
    if overflow:
        a["qoverflow"] = Attr("str", default="SAT", choices=tuple(OVERFLOW_MODES), **where)
    return a


def qmodes(node):
    """(rounding, overflow) mode codes of a Q node (section 8's integers, as C takes them)."""
    from ..fixedpoint import QROUNDING_MODES, OVERFLOW_MODES
    return QROUNDING_MODES[node.attrs["qround"]], OVERFLOW_MODES[node.attrs.get("qoverflow", "SAT")]


def q_accumulator_bound(weight, bias, bits_in):
    """Worst |bias + sum x * w| of a Q conv / linear over inputs |x| <= 2**(bits_in - 1) (10.3). Exact."""
    O = weight.shape[0]
    sw = np.abs(weight.astype(np.int64)).reshape(O, -1).sum(axis=1)
    return max((abs(int(b)) + (int(w) << (bits_in - 1)) for b, w in zip(bias.reshape(-1), sw)), default=0)


def q_shifts(node, model):
    """Per output channel n_in + weight_frac[o] - n_out of a Q conv / linear (int64 array)."""
    n_in = model.tensors[node.inputs[0]].frac_bits
    n_out = model.tensors[node.outputs[0]].frac_bits
    return node.arrays["weight_frac"].astype(np.int64) + (n_in - n_out)


def check_q_accumulation(node, model, fmt):
    """Q conv / linear checks (10.3): weight_frac range, shifts in [-62, 62], the accumulator bound."""
    from ..fixedpoint import Q_FRAC_MIN, Q_FRAC_MAX
    wf = node.arrays["weight_frac"]
    require(np.all((wf >= Q_FRAC_MIN) & (wf <= Q_FRAC_MAX)), node,
            f"weight_frac values must be in [{Q_FRAC_MIN}, {Q_FRAC_MAX}]")
    sh = q_shifts(node, model)
    require(np.all(np.abs(sh) <= 62), node, f"the shift n_in + weight_frac - n_out must be in [-62, 62], got "
                                            f"{int(sh[np.argmax(np.abs(sh))])}")
    worst = q_accumulator_bound(node.arrays["weight"], node.arrays["bias"], QBITS[fmt])
    limit = 31 if fmt == "q8" else 63
    require(worst < 2 ** limit, node, f"the int{limit + 1} accumulator could overflow: worst case |acc| = {worst} "
                                      f"(>= 2**{limit}) from the weights, bias and the {fmt} input range")


def q_frac(model, tensor):
    return model.tensors[tensor].frac_bits


__all__ = ["Attr", "Arr", "Op", "ModelError", "out_tensor", "in_tensor", "qparams", "require",
           "check_int8_accumulation", "int8_accumulator_bound", "accumulator_report", "schema_format", "float32_view", "STORAGE_FLOATS",
           "QUANTIZED", "QRANGE", "int16_accumulator_bound", "check_int16_accumulation", "QFORMATS", "QBITS", "q_attrs", "qmodes",
           "q_accumulator_bound", "q_shifts", "check_q_accumulation", "q_frac"]
