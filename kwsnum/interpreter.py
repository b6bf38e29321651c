"""The oracle: a thin loop over a planned graph. No op knowledge here.

Planning (once per model) asks every op to prepare its kernel arguments and computes each
tensor's last use, so repeated ``run`` calls do no re-planning and free dead tensors early.
"""
import numpy as np

from . import ops
from .fixedpoint import ROUNDING_MODES


class Plan:
    def __init__(self, model):
        self.model = model
        mode = ROUNDING_MODES[model.rounding]
        self.steps = []
        last_use = {}
        for i, node in enumerate(model.nodes):
            for t in node.inputs:
                last_use[t] = i
        keep = set(model.outputs)
        for i, node in enumerate(model.nodes):
            op = ops.get(node.op, node)
            free = [t for t in node.inputs if last_use.get(t) == i and t not in keep]
            self.steps.append((op, node, op.plan(node, model, mode), free))

    def run(self, x, trace=False, state=None):
        """``state``: None (stateful nodes see their initial state), or the dict a stream keeps between steps
        (kwsnum/streaming.py), updated in place."""
        model = self.model
        x = model.check_input(x)
        values = dict(zip(model.inputs, x)) if len(model.inputs) > 1 else {model.inputs[0]: x}
        for op, node, prep, free in self.steps:
            ins = [values[t] for t in node.inputs]
            outs = op.step(prep, ins, state) if state is not None and op.stateful else op.execute(prep, ins)
            for t, o in zip(node.outputs, outs):
                values[t] = o
            if not trace:
                for t in free:
                    values.pop(t, None)
        if trace:
            return values
        return values[model.outputs[0]]


def softmax(logits):
    """Softmax over the last axis of float32 logits (float64 internally), for reporting scores."""
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
