"""The oracle: a thin loop over a planned graph. No op knowledge here.

Planning (once per model) asks every op to prepare its kernel arguments and computes each
tensor's last use, so repeated ``run`` calls do no re-planning and free dead tensors early.
"""
import numpy as np

from . import backend, ops, parallel
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
        # the work per sample that decides the split: multiply-accumulates plus every output element
        self.work = sum(op.macs(node, model) + sum(model.tensors[t].size for t in node.outputs)
                        for op, node, _, _ in self.steps)

    def run(self, x, trace=False, state=None):
        """The outputs for batch ``x``: a large batch runs on slices, in parallel where there are threads
        (kwsnum/parallel.py; samples are independent, so the result is the same); a job of little work runs the ops'
        numpy kernels (kwsnum/backend.py: the same result). ``state``: None (stateful nodes
        see their initial state), or the dict a stream keeps between steps (kwsnum/streaming.py), updated in place:
        then the batch runs in one piece (the state holds every stream of the batch)."""
        model = self.model
        x = model.check_input(x)
        xs = x if len(model.inputs) > 1 else (x,)
        n = len(xs[0])
        bounds = parallel.slices(n, self.work) if state is None else [(0, n)]
        vector = backend.vector_job(n * self.work)      # numba's kernels or numpy's (kwsnum/backend.py)

        def part(a, b):
            with backend.use(vector):
                return self._run(tuple(v[a:b] for v in xs), trace, None)
        with parallel.blas_single_thread():
            if len(bounds) == 1:
                with backend.use(vector):
                    return self._run(xs, trace, state)
            parts = parallel.run_slices(part, n, bounds)
        if trace:
            return {t: np.concatenate([p[t] for p in parts], axis=0) for t in parts[0]}
        return np.concatenate(parts, axis=0)

    def _run(self, xs, trace, state=None):
        model = self.model
        values = dict(zip(model.inputs, xs))
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
