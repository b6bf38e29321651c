"""Streaming: stateful models that consume a stride of new frames per step (docs/numerics.md section 12).

    smodel = to_streaming(model)          # a windowed model (time = last axis) -> its streaming form
    s = smodel.stream(batch=1)            # the oracle, stepping; reference=True: the torch reference
    y = s.push(frames)                    # (steps, *output shape): one output per completed step
    s.reset()

A streaming model is an ordinary kwsnum model whose ``delay`` nodes (kwsnum/ops/delay.py) keep the frames of
earlier steps. :func:`to_streaming` inserts them: before every convolution or pooling along time, the
``dilation*(K-1) + 1 - stride`` frames it still needs; before the classifier (the flatten of the final frames),
all but the newest frame. Its input takes ``step`` frames (the product of the strides along time); step ``k``
(0-based, counted from a reset) outputs, bit for bit, what the windowed model outputs on input frames
``[(k+1)*step - window, (k+1)*step)`` once ``k >= warmup`` (= ceil(window / step) - 1); before that, the
output depends on the initial state.

The interpreter and the torch reference know nothing of this module: they take a ``state`` dict, which a
:class:`Stream` keeps between steps.
"""
import json
import math

import numpy as np

from . import ops
from .errors import ExportError, InputError
from .model import Model, Node, TensorSpec

ELEMENTWISE = ("relu", "quantize", "dequantize", "requantize", "cast", "qcast")
WINDOWED = ("conv1d", "avgpool1d", "maxpool1d")
BOUNDARY = ("reshape", "linear")         # the classifier over a fixed number of final frames
REFUSED = {
    "global_avgpool": "global pooling over time needs the whole window at once (use a classifier over a fixed "
                      "number of final frames, or strided pooling)",
    "layernorm": "LayerNorm over a time axis normalizes with statistics of the whole window",
    "matmul": "attention (matmul) mixes all frames of the window",
    "div": "the attention normalizer (div) mixes all frames of the window",
    "conv2d": "streaming takes 1-D time series (channels, time): conv2d is not supported yet",
    "avgpool2d": "streaming takes 1-D time series (channels, time): 2-D pooling is not supported yet",
    "maxpool2d": "streaming takes 1-D time series (channels, time): 2-D pooling is not supported yet",
}
META_KEY = "streaming"


def _refuse(node, why):
    return ExportError(f"layer {node.name!r} cannot stream: {why}", where=node.where)


def _geometry(node):
    """(kernel, stride, dilation, padding) of a windowed op along time."""
    a = node.attrs
    k = int(node.arrays["weight"].shape[-1]) if node.op == "conv1d" else int(a["kernel"][0])
    return k, int(a["stride"][0]), int(a.get("dilation", (1,))[0]), tuple(int(p) for p in a["padding"])


def zero_value(spec):
    """The stored value of real 0 in ``spec``'s format (int8: the zero point; float16 / bfloat16: +0)."""
    return int(spec.zero_point) if spec.format == "int8" else 0


def is_streaming(model):
    """Has the model state, or was it made by :func:`to_streaming` (a model whose window is one step has none)?"""
    return META_KEY in model.meta or any(getattr(ops.get(n.op, n), "stateful", False) for n in model.nodes)


def info(model):
    """dict(step=, window=, warmup=) of a streaming model (stored in ``model.meta["streaming"]`` by
    :func:`to_streaming`); None for a model without state."""
    if not is_streaming(model):
        return None
    raw = model.meta.get(META_KEY)
    step = int(model.input.shape[-1])
    d = json.loads(raw) if raw else {}
    window = int(d.get("window", step))
    return dict(step=step, window=window, warmup=int(d.get("warmup", max(0, math.ceil(window / step) - 1))))


def state_report(model):
    """[(node name, state shape, format, bytes per stream)] of every stateful node, in graph order."""
    rows = []
    for n in model.nodes:
        op = ops.get(n.op, n)
        if getattr(op, "stateful", False):
            shape, fmt = op.state_spec(n, model)
            nbytes = int(np.prod(shape, dtype=np.int64)) * TensorSpec("", shape, fmt).dtype.itemsize
            rows.append((n.name, tuple(shape), fmt, nbytes))
    return rows


def state_bytes(model):
    return sum(r[3] for r in state_report(model))


# ------------------------------------------------------------------ the transformation
def _time_pass(model):
    """Per tensor: (window length, cumulative stride) for tensors with a time axis (the last); per node the
    delay frames it needs (windowed ops and the classifier boundary). Refuses what cannot stream."""
    if len(model.inputs) != 1:
        raise ExportError(f"streaming takes models with one input; this one has {len(model.inputs)}")
    x = model.input
    if len(x.shape) != 2:
        raise ExportError(f"streaming takes a 1-D time series input (channels, time); the input is "
                          f"{tuple(x.shape)}", where="/tensors (input)")
    time = {x.name: (int(x.shape[-1]), 1)}
    boundary = []          # nodes whose time input ends the time axis
    windowed = []          # (node, K, s, d)
    for node in model.nodes:
        t_in = [t for t in node.inputs if t in time]
        if not t_in:
            continue
        if node.op in REFUSED:
            raise _refuse(node, REFUSED[node.op])
        L, c = time[node.inputs[0]] if node.inputs[0] in time else time[t_in[0]]
        out = node.outputs[0]
        if node.op in ELEMENTWISE:
            time[out] = (L, c)
        elif node.op == "add":
            if len(t_in) != len(node.inputs) or len({time[t] for t in node.inputs}) != 1:
                raise _refuse(node, "its inputs do not cover the same frames (both must have a time axis of the same "
                                    "length and stride)")
            time[out] = (L, c)
        elif node.op in WINDOWED:
            k, s, d, pad = _geometry(node)
            if any(pad):
                raise _refuse(node, f"padding {pad} along time (a stream has no frames beyond its ends; export "
                                    f"the layer with padding 0)")
            span = d * (k - 1) + 1
            if span < s:
                raise _refuse(node, f"its stride {s} is larger than its kernel extent {span}: frames would be skipped")
            u = (L - span) % s
            if u:
                raise _refuse(node, f"its last {u} input frame(s) are never used ({L} frames, kernel extent {span}, "
                                    f"stride {s}): choose a window length whose frames every strided layer uses to "
                                    f"the end")
            windowed.append((node, span - s))
            time[out] = ((L - span) // s + 1, c * s)
        elif node.op in BOUNDARY:
            boundary.append((node, L, c))
        else:
            raise _refuse(node, f"op {node.op!r} has no streaming rule")
    ends = [c for _, _, c in boundary] + [time[t][1] for t in model.outputs if t in time]
    step = max(ends + [1])
    for name, (L, c) in time.items():
        if step % c:
            raise ExportError(f"tensor {name!r} advances by {c} input frames per frame, which does not divide the "
                              f"model's step of {step} frames")
    return time, windowed, boundary, step


def to_streaming(model, name=None):
    """The streaming form of a windowed model whose last input axis is time (see the module doc). Raises
    ExportError naming the layer that cannot stream and why."""
    time, windowed, boundary, step = _time_pass(model)
    W = int(model.input.shape[-1])
    if W < step:
        raise ExportError(f"the window ({W} frames) is shorter than the model's step ({step} frames)")
    frames = {}      # node index -> delay frames before its (first) time input
    for node, S in windowed:
        frames[node.index] = S
    for node, L, c in boundary:
        frames[node.index] = L - step // c
    tensors = []
    for t in model.tensors.values():
        if t.name in time:
            shape = tuple(t.shape[:-1]) + (step // time[t.name][1],)
            tensors.append(TensorSpec(t.name, shape, t.format, t.scale, t.zero_point, t.frac_bits))
        else:
            tensors.append(TensorSpec(t.name, tuple(t.shape), t.format, t.scale, t.zero_point, t.frac_bits))
    specs = {t.name: t for t in tensors}
    nodes = []
    used = set(specs) | {n.name for n in model.nodes}

    def fresh(base):
        n, i = base, 1
        while n in used:
            i += 1
            n = f"{base}{i}"
        used.add(n)
        return n

    for node in model.nodes:
        new = Node(node.op, node.name, list(node.inputs), list(node.outputs), dict(node.attrs), dict(node.arrays))
        S = frames.get(node.index, 0)
        if S > 0:
            src = specs[node.inputs[0]]
            dname = fresh(f"{node.name}.delay")
            tname = fresh(f"{src.name}.window_{node.name}")
            shape = tuple(src.shape[:-1]) + (src.shape[-1] + S,)
            specs[tname] = TensorSpec(tname, shape, src.format, src.scale, src.zero_point, src.frac_bits)
            tensors.append(specs[tname])
            init = np.full(tuple(src.shape[:-1]) + (S,), zero_value(src), dtype=src.dtype)
            nodes.append(Node("delay", dname, [src.name], [tname], dict(frames=int(S)), dict(init=init)))
            new.inputs[0] = tname
        nodes.append(new)
    meta = dict(model.meta)
    warmup = max(0, math.ceil(W / step) - 1)
    meta[META_KEY] = json.dumps(dict(step=step, window=W, warmup=warmup))
    return Model(tensors, nodes, list(model.inputs), list(model.outputs), labels=model.labels,
                 rounding=model.rounding, name=name or model.name, meta=meta, frontend=model.frontend)


# ------------------------------------------------------------------ running
class Stream:
    """A batch of ``batch`` independent streams through a streaming model: :meth:`push` frames (any number),
    get the output of every step they complete. ``reference=True``: the torch reference instead of the oracle."""

    def __init__(self, model, batch=1, reference=False):
        if not is_streaming(model):
            raise InputError("the model has no state (make it a streaming model with kwsnum.streaming.to_streaming)")
        if int(batch) < 1:
            raise InputError(f"batch must be >= 1, got {batch}")
        self.model = model
        self.batch = int(batch)
        self.reference = bool(reference)
        i = info(model)
        self.step_frames, self.window, self.warmup = i["step"], i["window"], i["warmup"]
        self.reset()

    def reset(self):
        """Every stream back to the initial state; pending frames dropped."""
        self.state = {}
        self.steps = 0
        spec = self.model.input
        self._pending = np.zeros((self.batch,) + tuple(spec.shape[:-1]) + (0,), dtype=spec.dtype)

    def push(self, frames, tensor=None):
        """frames: (batch, channels, T) (or (channels, T) when batch is 1), T >= 0, in the model input's format.
        Returns the outputs of the steps completed: (batch, steps, *output shape) (or (steps, *output shape)).
        ``tensor``: return that tensor of every step instead of the output (e.g. the integer output before the
        final dequantize, which the detector reads: kwsnum.detector.output_spec(model).name)."""
        spec = self.model.input
        if tensor is not None and tensor not in self.model.tensors:
            raise InputError(f"the model has no tensor {tensor!r}")
        x = np.asarray(frames)
        single = self.batch == 1 and x.ndim == len(spec.shape)
        if single:
            x = x[None]
        if x.ndim != len(spec.shape) + 1 or x.shape[0] != self.batch or x.shape[1:-1] != tuple(spec.shape[:-1]):
            raise InputError(f"frames of shape {x.shape} do not match ({self.batch}, "
                             f"{', '.join(map(str, spec.shape[:-1]))}, T)")
        if spec.format == "float32":
            if x.dtype.kind not in "fiu":
                raise InputError(f"frames dtype {x.dtype} is not numeric; the model takes float32")
            x = x.astype(np.float32)
        elif x.dtype != spec.dtype:
            raise InputError(f"frames dtype {x.dtype} does not match the model input format {spec.format}")
        buf = np.concatenate([self._pending, x], axis=-1)
        R = self.step_frames
        n = buf.shape[-1] // R
        outs = []
        import numba
        threads = numba.get_num_threads()
        numba.set_num_threads(1)      # a step is small: one thread (a parallel launch costs more than the step)
        try:
            for k in range(n):
                outs.append(self._step(np.ascontiguousarray(buf[..., k * R:(k + 1) * R]), tensor))
        finally:
            numba.set_num_threads(threads)
        self._pending = np.ascontiguousarray(buf[..., n * R:])
        out = self.model.tensors[tensor] if tensor is not None else self.model.output
        y = np.stack(outs, axis=1) if outs else np.zeros((self.batch, 0) + tuple(out.shape), dtype=out.dtype)
        return y[0] if single else y

    def _step(self, x, tensor=None):
        self.steps += 1
        trace = tensor is not None
        if self.reference:
            from .torchref import run_reference
            y = run_reference(self.model, x, state=self.state, trace=trace)
        else:
            y = self.model.plan().run(x, state=self.state, trace=trace)
        return np.asarray(y[tensor] if trace else y)


def windows(x, window, step, first=0):
    """The windows the steps of a stream over ``x`` (N, C, T) correspond to, from step ``first`` on: an array
    (N, steps, C, window) with step k's window = x[..., (k+1)*step - window : (k+1)*step]."""
    x = np.asarray(x)
    n = x.shape[-1] // step
    ks = [k for k in range(first, n) if (k + 1) * step >= window]
    return np.stack([x[..., (k + 1) * step - window:(k + 1) * step] for k in ks], axis=1), ks


__all__ = ["to_streaming", "Stream", "is_streaming", "info", "state_report", "state_bytes", "windows", "zero_value"]
