"""The exporter's shared pieces (kwsnum/export): the layer record every stage passes on, the error of an
unsupported construct (with the list of what is supported), and small conversions. torch is imported lazily."""
from ..errors import ExportError


SUPPORTED = (
    "modules: Conv1d, Conv2d (padding_mode='zeros'), Linear, BatchNorm1d/2d (folded into the preceding "
    "conv/linear), ZeroPad1d/2d and ConstantPad1d/2d (value 0 directly before a conv: folded into its padding; "
    "otherwise a pad layer, value 0 in integer formats), "
    "ReLU, ReLU6, AvgPool1d/2d (ceil_mode=False, no divisor_override), MaxPool1d/2d (ceil_mode=False), "
    "AdaptiveAvgPool1d/2d(1), Flatten, LayerNorm (last 1 or 2 dims), Dropout, Identity, Softmax(dim), Sigmoid, "
    "Tanh (int8 / int16 layers); "
    "functions: operator.add / torch.add / x + y (two tensors of equal rank, broadcasting), F.relu / torch.relu / .relu(), F.relu6, "
    "F.dropout, F.pad (constant mode, as the pad modules), torch.chunk / torch.split / .chunk / .split (each "
    "piece a slice), torch.matmul / torch.bmm / @ (of two tensors; operands may be "
    ".transpose(-1, -2) / .permute(0, 2, 1)), a / b and torch.div (two tensors; b may be `tensor + number`), "
    "torch.flatten / .flatten / .view / .reshape, .size() / .shape (for view arguments), F.softmax / "
    "torch.softmax / .softmax(dim) (not over the batch axis), torch.sigmoid / F.sigmoid / .sigmoid(), "
    "torch.tanh / F.tanh / .tanh() (these three in int8 / int16 layers), basic slicing x[:, a:b, ...] (positive "
    "steps, batch axis whole) and .narrow / torch.narrow, torch.cat / torch.concat of 1 to 4 tensors (not along "
    "the batch axis; not in Q formats)"
)


def torch_module():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is a dependency of export only
        raise ExportError("kwsnum.export.from_torch needs PyTorch (pip install torch)") from e
    return torch


def tup(v, n):
    if isinstance(v, (tuple, list)):
        v = tuple(int(i) for i in v)
        if len(v) == 1 and n > 1:
            v = v * n
        return v
    return (int(v),) * n


def np64(t):
    """A parameter/buffer as a float64 numpy array (exact: the values are float32)."""
    return t.detach().cpu().double().numpy()


class Layer:
    """One future kwsnum node."""

    def __init__(self, kind, node, inputs, **params):
        self.kind = kind          # conv1d conv2d linear avgpool maxpool gap relu reshape add layernorm input
        self.node = node          # the fx node that created it (its name names the kwsnum node)
        self.out = node           # the fx node whose traced value is the layer's output (after fusion)
        self.inputs = list(inputs)  # producing layers
        self.params = params
        self.act = None           # fused activation: None | "relu" | "relu6"
        self.folded = []          # names of folded BatchNorm fx nodes
        self.fused = []           # names of fused ReLU fx nodes
        self.tensor = None        # kwsnum tensor name, once built
        self.bridges = []         # kwsnum tensors holding the same value in other formats (bridge outputs)


def fail(node, what, why=None):
    tgt = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", repr(node.target))
    msg = f"cannot export {what} (fx node {node.name!r}, target {tgt!r})"
    if why:
        msg += f": {why}"
    else:
        msg += f". Supported: {SUPPORTED}"
    return ExportError(msg, where=f"fx:{node.name}")
