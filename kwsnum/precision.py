"""Changing the precision of a model's float parts (docs/numerics.md section 7).

:func:`to_storage_float` turns every float32 tensor of a model into float16 or bfloat16 storage: the tensors'
format changes, and every float32 constant array of a node that now computes in 16-bit storage is rounded once
(RNE, :mod:`kwsnum.float16`) and stored as bit patterns. The arithmetic stays float32 (the storage adapter of
:class:`kwsnum.ops.base.Op`). With ``keep_io_float32`` the model keeps a float32 input and output and gains
``cast`` nodes at both ends, which is what the exporter produces for ``precision="float16"``.
"""
import numpy as np

from . import ops
from .float16 import narrow
from .model import STORAGE_FLOATS, Model, Node, TensorSpec


def _io_name(base, taken):
    name, k = base, 1
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


def to_storage_float(model, fmt, keep_io_float32=False):
    """A new model: ``model``'s float32 tensors stored as ``fmt`` ("float16" or "bfloat16")."""
    if fmt not in STORAGE_FLOATS:
        raise ValueError(f"fmt must be one of {STORAGE_FLOATS}, got {fmt!r}")
    old = model.tensors
    tensors = {n: (TensorSpec(t.name, tuple(t.shape), fmt) if t.format == "float32" else
                   TensorSpec(t.name, tuple(t.shape), t.format, t.scale, t.zero_point)) for n, t in old.items()}
    nodes = []
    for node in model.nodes:
        op = ops.get(node.op, node)
        arrays = dict(node.arrays)
        if op.storage_floats and op.node_format(node, model) == "float32":
            arrays = {k: (narrow(np.asarray(a, np.float32), fmt) if np.asarray(a).dtype == np.float32 else a)
                      for k, a in arrays.items()}
        nodes.append(Node(node.op, node.name, list(node.inputs), list(node.outputs), dict(node.attrs), arrays))
    inputs, outputs = list(model.inputs), list(model.outputs)
    if keep_io_float32:
        taken = set(tensors)
        names = {n.name for n in nodes}
        x, y = inputs[0], outputs[0]
        if old[x].format == "float32":
            x16 = _io_name(f"{x}_{fmt}", taken)
            tensors[x16] = TensorSpec(x16, tuple(old[x].shape), fmt)
            tensors[x] = TensorSpec(x, tuple(old[x].shape), "float32")
            for n in nodes:
                n.inputs = [x16 if t == x else t for t in n.inputs]
            nodes.insert(0, Node("cast", _io_name(f"to_{fmt}", names), [x], [x16]))
        if old[y].format == "float32":
            y16 = _io_name(f"{y}_{fmt}", taken)
            tensors[y16] = TensorSpec(y16, tuple(old[y].shape), fmt)
            tensors[y] = TensorSpec(y, tuple(old[y].shape), "float32")
            for n in nodes:
                n.outputs = [y16 if t == y else t for t in n.outputs]
                n.inputs = [y16 if t == y else t for t in n.inputs]
            nodes.append(Node("cast", _io_name("to_float32", names), [y16], [y]))
    meta = dict(model.meta)
    meta["precision"] = fmt
    return Model(list(tensors.values()), nodes, inputs, outputs, labels=model.labels, rounding=model.rounding,
                 name=model.name, meta=meta, frontend=model.frontend)


__all__ = ["to_storage_float"]
