"""delay: a delay line along the last (time) axis, the one stateful op (docs/numerics.md section 12).

    y     = concat(state, x)      along the last axis: S + T frames, the S oldest from the state
    state = y[..., T:]            the S newest frames, for the next step

``frames`` = S (>= 1); the dataset ``init`` (shape = input shape without its last axis, then S; the format's
storage dtype) is the state's initial value and what a reset restores. No arithmetic: every format moves its
stored values unchanged and the output carries the input's quantization. A model run without a stream
(``Model.run``) sees the initial state and updates nothing; :mod:`kwsnum.streaming` keeps the state between
steps. C: kws_delay (c_runtime/kws_delay.h) on bytes, the state in static memory (codegen/streaming.py).
"""
import numpy as np

from ..model import EDGE, FORMATS, STORAGE_DTYPE
from .base import Arr, Attr, Op, in_tensor, require
from .relu import same_qparams

STATE_FORMATS = tuple(f for f in FORMATS if f not in EDGE)   # uint8 is edge storage only (numerics.md 2)


class Delay(Op):
    name = "delay"
    attrs = {"frames": Attr("int", min=1, max=1 << 16)}
    arrays = {"init": Arr(**{f: STORAGE_DTYPE[f] for f in STATE_FORMATS})}
    formats = STATE_FORMATS
    storage_floats = False      # values are moved, never computed on: every format as it is
    stateful = True

    def check(self, node, model, in_specs, fmt):
        shp = tuple(in_specs[0].shape)
        want = shp[:-1] + (node.attrs["frames"],)
        init = node.arrays["init"]
        require(tuple(init.shape) == want, node, f"init shape {tuple(init.shape)} does not match the state shape "
                                                 f"{want} (the input {shp} with its last axis replaced by frames)")
        same_qparams(node, model, "delay")

    def output_shapes(self, node, in_shapes):
        s = tuple(in_shapes[0])
        return [s[:-1] + (s[-1] + node.attrs["frames"],)]

    def state_spec(self, node, model):
        """(shape, format) of the node's state (per stream)."""
        x = in_tensor(model, node)
        return tuple(x.shape[:-1]) + (node.attrs["frames"],), x.format

    def prepare(self, node, model, rounding):
        return dict(key=node.name, init=np.ascontiguousarray(node.arrays["init"]), frames=node.attrs["frames"])

    def run(self, p, inputs):
        x = inputs[0]
        s = np.broadcast_to(p["init"], (x.shape[0],) + p["init"].shape)
        return [np.concatenate([s, x], axis=-1)]

    def step(self, planned, inputs, state):
        """One step (``planned``: what Op.plan returned) with ``state`` (a dict: node name -> (N, *state shape)
        array, absent: the initial value); updates it."""
        p = planned[2]
        x = inputs[0]
        s = state.get(p["key"])
        if s is None:
            s = np.broadcast_to(p["init"], (x.shape[0],) + p["init"].shape)
        y = np.concatenate([s, x], axis=-1)
        state[p["key"]] = np.ascontiguousarray(y[..., y.shape[-1] - p["frames"]:])
        return [y]

    def torch_ref(self, node, model, inputs):
        return self.torch_step(node, model, inputs, None)

    def torch_step(self, node, model, inputs, state):
        """The torch reference: the same concatenation and update on torch tensors."""
        import torch
        from ..torchref import to_torch
        x = inputs[0]
        s = None if state is None else state.get(node.name)
        if s is None:
            s = to_torch(node.arrays["init"]).unsqueeze(0).expand((x.shape[0],) + node.arrays["init"].shape)
        y = torch.cat([s.to(x.dtype), x], dim=-1)
        if state is not None:
            state[node.name] = y[..., y.shape[-1] - node.attrs["frames"]:].clone()
        return [y]

    def c_call(self, node, model):
        """C: kws_delay(state, x, y, rows, state_bytes, in_bytes) (c_runtime/kws_delay.h); ("state", "init") is
        the node's state buffer, initialized from (and reset to) its ``init`` array."""
        x = in_tensor(model, node)
        esize = x.dtype.itemsize
        rows = int(np.prod(x.shape[:-1], dtype=np.int64))
        return "kws_delay", [("state", "init"), ("in", 0), ("out", 0), ("i32", rows),
                             ("i32", node.attrs["frames"] * esize), ("i32", int(x.shape[-1]) * esize)]

    def weight_bytes(self, node):
        return 0         # init is state, reported as state bytes (kwsnum inspect), not as weights

    def summary(self, node):
        return f"frames={node.attrs['frames']} (state)"


OPS = [Delay()]
