"""Build a model node by node; each node's output shape comes from its op's shape rule.

Used by the exporter and by the tests (single-op models for the property tests).
"""
from . import ops
from .model import Model, Node, TensorSpec


class GraphBuilder:
    def __init__(self, name="model", rounding="double"):
        self.name, self.rounding = name, rounding
        self.tensors, self.nodes, self.inputs = {}, [], []

    def _unique(self, name):
        base, i = name, 1
        while name in self.tensors:
            i += 1
            name = f"{base}_{i}"
        return name

    def input(self, name, shape, format="float32", scale=None, zero_point=None, frac_bits=None):
        name = self._unique(name)
        self.tensors[name] = TensorSpec(name, tuple(int(d) for d in shape), format, scale, zero_point, frac_bits)
        self.inputs.append(name)
        return name

    def add(self, op, name, inputs, attrs=None, arrays=None, format=None, scale=None, zero_point=None,
            frac_bits=None):
        """Append a node; its output tensor is named after the node and returned."""
        node = Node(op, name, list(inputs), [], dict(attrs or {}), dict(arrays or {}), index=len(self.nodes))
        opdef = ops.get(op, node)
        fmt = format or self.tensors[inputs[0]].format
        opdef.fill_defaults(node, self.tensors[inputs[0]].format, fmt)
        in_shapes = [self.tensors[t].shape for t in inputs]
        shape = tuple(int(d) for d in opdef.output_shapes(node, in_shapes)[0])
        out = self._unique(name)
        self.tensors[out] = TensorSpec(out, shape, fmt, scale, zero_point, frac_bits)
        node.outputs = [out]
        self.nodes.append(node)
        return out

    def shape(self, tensor):
        return self.tensors[tensor].shape

    def build(self, outputs, labels=None, meta=None, frontend=None):
        return Model(list(self.tensors.values()), self.nodes, self.inputs, list(outputs), labels=labels,
                     rounding=self.rounding, name=self.name, meta=meta, frontend=frontend)
