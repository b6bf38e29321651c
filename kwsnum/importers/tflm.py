"""TFLM (the ``tflite-micro`` package's Python interpreter) as an implementation beside the oracle, C and torch:
run the original .tflite on the inputs of an imported kwsnum model and return every tensor TFLM kept, in kwsnum's
layout and under kwsnum's tensor names (``kwsnum verify --tflm``, tests/test_tflite_import.py).

The mapping comes from the imported model's meta ``tflite_tensors`` ({kwsnum tensor: [TFLite tensor index,
axis permutation]}), written by :mod:`kwsnum.importers.tflite`.
"""
import json

import numpy as np

from ..errors import InputError, ModelImportError


def tensor_map(model):
    """{kwsnum tensor name: (TFLite tensor index, perm)} of an imported model; InputError for other models."""
    raw = model.meta.get("tflite_tensors")
    if not raw:
        raise InputError("the model was not imported from a .tflite file (no tflite_tensors in its meta): "
                         "import it with kwsnum import MODEL.tflite")
    try:
        return {k: (int(v[0]), tuple(int(p) for p in v[1])) for k, v in json.loads(raw).items()}
    except (ValueError, TypeError, IndexError, AttributeError):
        raise InputError("the model's tflite_tensors meta is malformed") from None


def to_tflite_layout(x, perm):
    """A kwsnum batch (N, *kwsnum shape) as TFLite's (N, *TFLite shape): the inverse of the import permutation."""
    if not perm:
        return x
    inv = np.argsort(perm)
    return np.ascontiguousarray(np.transpose(x, (0,) + tuple(1 + int(i) for i in inv)))


def from_tflite_layout(t, perm):
    """One TFLite tensor (1, *TFLite shape) as kwsnum's (*kwsnum shape)."""
    t = np.asarray(t)[0]
    return np.ascontiguousarray(np.transpose(t, perm)) if perm else t


class TFLM:
    """One TFLM interpreter on model bytes, preserving every tensor (kPreserveAllTensors)."""

    def __init__(self, data, model):
        self.model, self.map, self.data = model, tensor_map(model), bytes(data)
        self.interp = self._new()
        from .tflite import schema
        fb = schema()
        m = fb.ModelT.InitFromObj(fb.Model.GetRootAs(bytes(data), 0))
        self.inputs = [int(i) for i in m.subgraphs[0].inputs]
        if len(self.inputs) != len(model.inputs) or \
                any(self.map.get(name, (None,))[0] != i for name, i in zip(model.inputs, self.inputs)):
            raise InputError("the .tflite file's inputs are not the kwsnum model's: give the file it was imported from")

    def _new(self):
        try:
            from tflite_micro.python.tflite_micro import runtime
        except ImportError:
            raise InputError("--tflm needs the tflite-micro package (pip install 'kwsnum[tflite]')") from None
        try:    # the runtime counts the model's resource variables itself (count_resource_variables)
            return runtime.Interpreter.from_bytes(
                self.data, arena_size=max(1 << 20, 16 * len(self.data)),
                intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
        except (RuntimeError, ValueError) as e:
            raise ModelImportError(f"TFLM cannot load the model: {e}") from None

    def run(self, x):
        """Trace dict {kwsnum tensor name: (N, *kwsnum shape)} for the batch x (a tuple for several inputs).
        A stateful model runs each sample from its initial state, as kwsnum's Model.run does (a fresh
        interpreter per sample: TFLM's reset() refills resource variables with their zero point rather than
        re-running the CALL_ONCE initialization)."""
        from ..streaming import is_streaming
        xs = list(x) if isinstance(x, tuple) else [x]
        n = xs[0].shape[0]
        fresh = is_streaming(self.model)
        out = {name: [] for name in self.map}
        for s in range(n):
            if fresh and s:
                self.interp = self._new()
            for name, v in self.step(tuple(xi[s] for xi in xs)).items():
                out[name].append(v)
        return {k: np.stack(v) for k, v in out.items()}

    def step(self, x):
        """One invoke on one sample x (*kwsnum input shape; a tuple for several inputs), the interpreter's state
        (resource variables) carried from the previous step: {kwsnum tensor name: (*kwsnum shape)}."""
        xs = list(x) if isinstance(x, tuple) else [x]
        for j, (name, xi) in enumerate(zip(self.model.inputs, xs)):
            self.interp.set_input(to_tflite_layout(np.asarray(xi)[None], self.map[name][1]), j)
        self.interp.invoke()
        out = {}
        for name, (idx, perm) in self.map.items():
            t = self.interp.GetTensor(idx, 0)
            out[name] = from_tflite_layout(np.asarray(t["tensor_data"]).reshape(tuple(t["shape"])), perm)
        return out


__all__ = ["TFLM", "tensor_map", "to_tflite_layout", "from_tflite_layout"]
