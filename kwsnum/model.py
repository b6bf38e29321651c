"""The in-memory model: tensors, nodes in topological order, labels and the rounding mode.

A :class:`Model` is what ``kwsnum.load`` returns and ``kwsnum.save`` writes. It knows no op:
op knowledge lives in ``kwsnum.ops.<op>``; execution lives in ``kwsnum.interpreter``.
"""
from dataclasses import dataclass, field

import numpy as np

from .errors import ModelError, InputError

FORMATS = ("int8", "float32", "float16", "bfloat16", "int16", "q8", "q16", "q32", "uint8")
QUANTIZED = ("int8", "int16")              # integer formats with a scale (int16: symmetric, zero point 0; section 9)
EDGE = ("uint8",)                          # affine storage at a model's edges only: no op computes in it (section 2)
AFFINE = QUANTIZED + EDGE                  # every format with a scale and a zero point
QFORMATS = ("q8", "q16", "q32")            # Q-format fixed point: real = q * 2**-frac_bits (docs/numerics.md 10)
QBITS = {"q8": 8, "q16": 16, "q32": 32}
INTEGER = QUANTIZED + QFORMATS             # every integer format
QRANGE = {"int8": (-128, 127), "int16": (-32768, 32767), "q8": (-128, 127), "q16": (-32768, 32767),
          "q32": (-(1 << 31), (1 << 31) - 1), "uint8": (0, 255)}
STORAGE_FLOATS = ("float16", "bfloat16")   # 16-bit storage, float32 arithmetic (docs/numerics.md section 7)
STORAGE_DTYPE = {"int8": np.dtype(np.int8), "float32": np.dtype(np.float32),
                 "float16": np.dtype(np.uint16), "bfloat16": np.dtype(np.uint16), "int16": np.dtype(np.int16),
                 "q8": np.dtype(np.int8), "q16": np.dtype(np.int16), "q32": np.dtype(np.int32), "uint8": np.dtype(np.uint8)}   # 16-bit floats as bit patterns
# Resource bounds (docs/format.md, "Limits"): what one model may demand, checked at load before anything runs.
MAX_DIM = 1 << 24                    # no single dimension beyond this
MAX_ELEMENTS = 1 << 24               # no tensor beyond this many elements (per sample)
MAX_ACTIVATION_BYTES = 1 << 28       # all activation tensors of one sample together
MAX_WORK = 1 << 28                   # MACs (or pooling taps, elementwise ops) per sample: 4.6x tiny-kws DS-CNN (58.6 M)
MAX_CONSTANT_BYTES = 1 << 28         # all constant arrays (weights, tables) together


@dataclass
class TensorSpec:
    """An activation tensor. ``shape`` excludes the batch dimension."""
    name: str
    shape: tuple
    format: str                      # "int8" (affine) | "float32" | "float16" | "bfloat16" | "int16" (see FORMATS)
    scale: float = None              # int8 / int16 / uint8 only (float32 value)
    zero_point: int = None           # int8 / int16 / uint8 only (int16: 0)
    frac_bits: int = None            # q8 / q16 / q32 only: real = q * 2**-frac_bits (docs/numerics.md 10.1)

    @property
    def dtype(self):
        """The numpy dtype of stored values (float16 / bfloat16: uint16 bit patterns)."""
        return STORAGE_DTYPE[self.format]

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self):
        return self.size * self.dtype.itemsize

    def describe(self):
        if self.format in AFFINE:
            return f"{self.format}(s={self.scale:.6g},zp={self.zero_point})"
        if self.format in QFORMATS:
            return f"{self.format}(Q{QBITS[self.format] - self.frac_bits}.{self.frac_bits})"
        return self.format


@dataclass
class Node:
    """One op application. ``attrs`` hold scalars/tuples/strings, ``arrays`` hold constant tensors."""
    op: str
    name: str
    inputs: list
    outputs: list
    attrs: dict = field(default_factory=dict)
    arrays: dict = field(default_factory=dict)
    index: int = -1

    @property
    def where(self):
        return f"/graph/{self.index} ({self.op})"

    def error(self, message):
        return ModelError(message, where=self.where)


class Model:
    """A kwsnum model: an ordered graph of nodes over named tensors."""

    def __init__(self, tensors, nodes, inputs, outputs, labels=None, rounding="double", name="model",
                 meta=None, frontend=None, validate=True, strict=False, integrity=None):
        self.tensors = {t.name: t for t in tensors}
        self.nodes = list(nodes)
        for i, n in enumerate(self.nodes):
            n.index = i
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.labels = list(labels) if labels is not None else None
        self.rounding = rounding
        self.name = name
        self.meta = dict(meta or {})
        self.frontend = frontend  # kwsnum.frontend.Frontend turning a clip into the input, or None
        # strict: every attribute of every node must be present (a model read from a file: a missing attribute
        # is an error, never a default); integrity: "verified" / "none" (digest of a loaded file), None in memory
        self.strict = bool(strict)
        self.integrity = integrity
        self._plan = None
        if validate:
            self.validate()

    # ---------------------------------------------------------------- checks
    def validate(self):
        """Check everything a runtime relies on; raise ModelError naming the offending path."""
        from . import ops
        from .fixedpoint import ROUNDING_MODES
        if self.rounding not in ROUNDING_MODES:
            raise ModelError(f"unknown rounding mode {self.rounding!r} (known: {', '.join(ROUNDING_MODES)})",
                             where="/ (attribute rounding)")
        for i, t in enumerate(self.tensors.values()):
            where = f"/tensors/{i} ({t.name})"
            if t.format not in FORMATS:
                raise ModelError(f"unknown format {t.format!r} (known: {', '.join(FORMATS)})", where=where)
            if any((not isinstance(d, (int, np.integer))) or d < 1 for d in t.shape):
                raise ModelError(f"shape {tuple(t.shape)} must be positive integers", where=where)
            if any(d > MAX_DIM for d in t.shape) or t.size > MAX_ELEMENTS:
                raise ModelError(f"dimensions too large: {tuple(t.shape)} (at most {MAX_DIM} per dimension and "
                                 f"{MAX_ELEMENTS} elements)", where=where)
            if t.format in AFFINE:
                if t.scale is not None:
                    t.scale = float(np.float32(t.scale))  # scales are float32 values (as in TFLite)
                if t.scale is None or not np.isfinite(t.scale) or t.scale <= 0:
                    raise ModelError(f"{t.format} tensor needs a finite scale > 0, got {t.scale}", where=where)
                if t.format == "int16":
                    if t.zero_point is None or int(t.zero_point) != 0:
                        raise ModelError(f"int16 zero point must be 0 (symmetric, TFLite 16x8), got {t.zero_point}",
                                         where=where)
                elif t.format == "uint8":
                    if t.zero_point is None or not 0 <= int(t.zero_point) <= 255:
                        raise ModelError(f"uint8 zero point must be in [0, 255], got {t.zero_point}", where=where)
                elif t.zero_point is None or not -128 <= int(t.zero_point) <= 127:
                    raise ModelError(f"int8 zero point must be in [-128, 127], got {t.zero_point}", where=where)
            if t.format in QFORMATS:
                from .fixedpoint import Q_FRAC_MIN, Q_FRAC_MAX
                n = t.frac_bits
                if n is None or isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) \
                        or not Q_FRAC_MIN <= n <= Q_FRAC_MAX:
                    raise ModelError(f"{t.format} tensor needs integer frac_bits in [{Q_FRAC_MIN}, {Q_FRAC_MAX}], "
                                     f"got {n!r}", where=where)
                t.frac_bits = int(n)
        for name in self.inputs + self.outputs:
            if name not in self.tensors:
                raise ModelError(f"model input/output {name!r} is not a declared tensor", where="/")
        produced = set(self.inputs)
        for n in self.nodes:
            op = ops.get(n.op, n)
            for t in n.inputs:
                if t not in self.tensors:
                    raise n.error(f"input tensor {t!r} is not declared")
                if t not in produced:
                    raise n.error(f"input tensor {t!r} is used before it is produced (nodes must be in "
                                  f"topological order)")
            for t in n.outputs:
                if t not in self.tensors:
                    raise n.error(f"output tensor {t!r} is not declared")
                if t in produced:
                    raise n.error(f"output tensor {t!r} is produced twice")
                produced.add(t)
            op.validate(n, self)
        for name in self.outputs:
            if name not in produced:
                raise ModelError(f"model output {name!r} is never produced", where="/")
        self._check_resources()
        if self.frontend is not None:
            try:
                self.frontend.validate()
            except ModelError as e:
                raise ModelError(e.message, where="/frontend") from None
            want = self._frontend_shape()
            if tuple(self.frontend.output_shape) != want or self.input.format != "float32":
                raise ModelError(f"the frontend produces {tuple(self.frontend.output_shape)} float32 features, but "
                                 f"the model input is {tuple(self.input.shape)} {self.input.format}"
                                 + (f" (a streaming model: the frontend's clip must give the window, {want})"
                                    if want != tuple(self.input.shape) else ""), where="/frontend")
        if self.labels is not None:
            out = self.tensors[self.outputs[0]]
            if len(self.labels) != out.size:
                raise ModelError(f"{len(self.labels)} labels for an output of shape {tuple(out.shape)}",
                                 where="/labels")

    def _frontend_shape(self):
        """The shape the frontend must produce from one clip: the input shape, or for a streaming model (the
        frontend describes the windowed model's clip: docs/numerics.md 12.6) the input with time = the window."""
        from .streaming import info
        i = info(self)
        if i is None:
            return tuple(self.input.shape)
        return tuple(self.input.shape[:-1]) + (i["window"],)

    def _check_resources(self):
        """The per-sample bounds of docs/format.md: activation bytes and MACs."""
        from . import ops
        act = sum(t.nbytes for t in self.tensors.values())
        if act > MAX_ACTIVATION_BYTES:
            big = max(self.tensors.values(), key=lambda t: t.nbytes)
            raise ModelError(f"the activations need {act} bytes per sample (at most {MAX_ACTIVATION_BYTES}); the "
                             f"largest is {big.name!r} {tuple(big.shape)}", where="/tensors")
        work = [(ops.get(n.op, n).work(n, self), n) for n in self.nodes]
        total = sum(w for w, _ in work)
        if total > MAX_WORK:
            w, n = max(work, key=lambda p: p[0])
            raise ModelError(f"the model needs {total} multiply-accumulates (or comparable operations) per sample "
                             f"(at most {MAX_WORK}); this layer alone needs {w}", where=n.where)

    # ---------------------------------------------------------------- running
    @property
    def input(self):
        return self.tensors[self.inputs[0]]

    @property
    def output(self):
        return self.tensors[self.outputs[0]]

    def plan(self):
        if self._plan is None:
            from .interpreter import Plan
            self._plan = Plan(self)
        return self._plan

    def run(self, x, trace=False):
        """Run the oracle on a batch ``x`` of shape (N, *input_shape) (or one sample of input_shape).

        Returns the output array (N, ...); with ``trace=True`` returns a dict of every tensor by name."""
        return self.plan().run(x, trace=trace)

    def stream(self, batch=1, reference=False):
        """A :class:`kwsnum.streaming.Stream` over ``batch`` independent streams (a model with state: see
        kwsnum/streaming.py); ``reference``: step the torch reference instead of the oracle."""
        from .streaming import Stream
        return Stream(self, batch=batch, reference=reference)

    def check_input(self, x):
        """A checked, contiguous batch for the model input (one sample gains a batch dimension). A model with
        several inputs takes a tuple, one batch per input, and gets a tuple back."""
        if len(self.inputs) > 1:
            if not isinstance(x, tuple) or len(x) != len(self.inputs):
                raise InputError(f"the model has {len(self.inputs)} inputs ({', '.join(self.inputs)}): give a tuple "
                                 f"of {len(self.inputs)} arrays")
            xs = tuple(self._check_one(xi, self.tensors[t]) for xi, t in zip(x, self.inputs))
            if len({len(xi) for xi in xs}) != 1:
                raise InputError(f"the inputs have different batch sizes {[len(xi) for xi in xs]}")
            return xs
        return self._check_one(x, self.input)

    def _check_one(self, x, spec):
        x = np.asarray(x)
        if x.shape == tuple(spec.shape):
            x = x[None]
        if x.ndim == len(spec.shape) + 1 and x.shape[0] == 0:
            raise InputError("the batch holds no samples")
        if x.shape[1:] != tuple(spec.shape):
            raise InputError(f"input shape {x.shape} does not match the model input {tuple(spec.shape)} "
                             f"(optionally with a leading batch dimension)")
        if spec.format == "float32":
            if x.dtype.kind not in "fiu":
                raise InputError(f"input dtype {x.dtype} is not numeric; the model takes float32")
            x = x.astype(np.float32)
        elif x.dtype != spec.dtype:
            raise InputError(f"input dtype {x.dtype} does not match the model input format {spec.format} "
                             f"(stored as {spec.dtype})")
        return np.ascontiguousarray(x)

    def __repr__(self):
        return f"<kwsnum.Model {self.name!r}: {len(self.nodes)} nodes, {self.input.shape} -> {self.output.shape}>"
