"""Export a PyTorch module to a kwsnum Model (int8 or float32). Spec: docs/numerics.md, "Export from PyTorch".

Steps: ``torch.fx.symbolic_trace`` (eval mode) -> one pass over the fx graph that turns every
supported call into a *layer* (a future kwsnum node), folding BatchNorm into the preceding
conv/linear and fusing ReLU/ReLU6 into the producer's output clamp -> shape propagation with the
example input -> calibration (an fx Interpreter over the calibration data, recording the range of
every tensor that becomes a kwsnum tensor) -> quantization of every layer with kwsnum.quant ->
GraphBuilder.

torch is imported lazily: ``import kwsnum.export`` works without torch.
"""
import operator

import numpy as np

from ..builder import GraphBuilder
from ..errors import ExportError, ModelError
from ..model import INTEGER, QBITS, QFORMATS, QUANTIZED
from ..quant import (act_clamp_float, act_clamp_int8, act_clamp_int16, act_clamp_q, affine_params, int16_params,
                     q_frac_bits, q_layer_params, quantize_bias, quantize_multiplier, quantize_multipliers,
                     quantize_weights, symmetric_weight_scales)
from ..ops.requantize import requantize_params

# exporter layer kinds with an int16 kernel (docs/numerics.md 9.4); others (layernorm) are an ExportError in int16
INT16_KINDS = ("conv1d", "conv2d", "linear", "avgpool", "maxpool", "gap", "relu", "reshape", "add", "layernorm",
               "softmax", "logistic", "tanh", "slice", "concat", "pad")
# ... with a Q-format kernel (docs/numerics.md 10.3; layernorm in q8 and q16, not q32)
Q_KINDS = ("conv1d", "conv2d", "linear", "avgpool", "maxpool", "gap", "relu", "reshape", "add", "layernorm",
           "slice")
# TFLM's activation ops (docs/numerics.md 11.4, 11.5, 11.9): int8 and int16 kernels only, fixed output quantization
TFLM_ACT_KINDS = ("softmax", "logistic", "tanh")

CALIB_CHUNK = 64

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


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is a dependency of export only
        raise ExportError("kwsnum.export.from_torch needs PyTorch (pip install torch)") from e
    return torch


def _tup(v, n):
    if isinstance(v, (tuple, list)):
        v = tuple(int(i) for i in v)
        if len(v) == 1 and n > 1:
            v = v * n
        return v
    return (int(v),) * n


def _np64(t):
    """A parameter/buffer as a float64 numpy array (exact: the values are float32)."""
    return t.detach().cpu().double().numpy()


class _Layer:
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


def _fail(node, what, why=None):
    tgt = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", repr(node.target))
    msg = f"cannot export {what} (fx node {node.name!r}, target {tgt!r})"
    if why:
        msg += f": {why}"
    else:
        msg += f". Supported: {SUPPORTED}"
    return ExportError(msg, where=f"fx:{node.name}")


# ---------------------------------------------------------------------------------------------------
def _classify(torch, gm):
    """fx graph -> list of layers (in topological order) and the layer of the graph output."""
    import torch.nn as nn
    import torch.nn.functional as F

    nodes = list(gm.graph.nodes)
    mods = dict(gm.named_modules())
    META, ALIAS = "meta", "alias"

    def kind_of(n):
        if n.op == "placeholder":
            return "input"
        if n.op == "output":
            return "output"
        if n.op == "call_module":
            m = mods[n.target]
            if isinstance(m, (nn.Dropout, nn.Identity)):
                return ALIAS
            return "module"
        if n.op == "call_method":
            if n.target == "size":
                return META
            if n.target in ("dim", "numel"):
                return META
            return "method"
        if n.op == "call_function":
            if n.target is getattr and len(n.args) > 1 and n.args[1] == "shape":
                return META
            if n.target is operator.getitem and isinstance(n.args[0], torch.fx.Node) and \
                    kinds.get(n.args[0]) == META:
                return META
            if n.target in (F.dropout,):
                return ALIAS
            return "function"
        return "other"

    kinds = {}
    for n in nodes:
        kinds[n] = kind_of(n)

    # effective number of tensor users of an fx node (aliases forward to their own users; the graph
    # output counts as a user)
    memo = {}

    def users(n):
        if n in memo:
            return memo[n]
        c = 0
        for u in n.users:
            if kinds[u] == META:
                continue
            if kinds[u] == ALIAS:
                c += users(u)
            else:
                c += 1
        memo[n] = c
        return c

    value = {}     # fx node -> layer producing its value
    layers = []
    n_inputs = 0
    out_layer = None

    padded = {}      # fx node of a zero pad -> its torch pad tuple (folded into the conv that consumes it)
    transposed = set()   # fx nodes of a last-two-dims transpose (folded into the matmul that consumes it)
    plus = {}        # fx node of `tensor + number` -> the number (folded into the div whose divisor it is)
    pieces = {}      # fx node of chunk / split -> (its input's layer, (how, arg, dim)): each getitem is a slice

    def tin(n, i=0, allow_pad=False, allow_transpose=False, allow_plus=False):
        """The layer producing tensor argument i of node n."""
        a = n.args[i] if i < len(n.args) else None
        if not isinstance(a, torch.fx.Node) or a not in value:
            raise _fail(n, _what(n), f"argument {i} is not a tensor produced by a supported layer")
        if a in padded and not allow_pad:
            raise _fail(n, _what(n), "it consumes a zero pad: ZeroPad / ConstantPad(value 0) / F.pad are "
                                     "supported only directly before a Conv1d/Conv2d (folded into its padding)")
        if a in transposed and not allow_transpose:
            raise _fail(n, _what(n), "it consumes a transpose: .transpose(-1, -2) / .permute(0, 2, 1) is supported "
                                     "only as an operand of a matmul (folded into its transpose flag)")
        if a in plus and not allow_plus:
            raise _fail(n, _what(n), "it consumes `tensor + number`: adding a constant is supported only as the "
                                     "divisor of a division, a / (b + eps) (folded into its eps)")
        return value[a]

    def fold_one_user(n, what, why):
        if users(n) != 1:
            raise _fail(n, what, f"{why} must have exactly one user")

    def before_conv(n, rank):
        """Is n's one user a Conv1d / Conv2d of ``rank`` spatial dims reading it directly (where a zero pad folds)?"""
        us = [u for u in n.users if kinds[u] != META]
        if len(us) != 1 or kinds[us[0]] != "module" or not us[0].args or us[0].args[0] is not n:
            return False
        m = mods[us[0].target]
        return type(m) is (nn.Conv1d if rank == 1 else nn.Conv2d)

    def zero_pad(n, pad, what, fill=0.0):
        pad = tuple(int(p) for p in pad)
        if len(pad) not in (2, 4, 6) or min(pad) < 0:
            raise _fail(n, what, f"pad {pad}: only non-negative (left, right[, top, bottom[, front, back]]) "
                                 f"constant pads are supported")
        if fill == 0.0 and len(pad) in (2, 4) and users(n) == 1 and before_conv(n, len(pad) // 2):
            value[n] = tin(n)       # folded into the conv's padding (6.1)
            padded[n] = pad
            return
        new("pad", n, [tin(n)], pad=pad, fill=float(fill))   # a standalone pad layer (numerics 11.7, 6.1)

    def _what(n):
        if n.op == "call_module":
            return f"module {type(mods[n.target]).__name__} {n.target!r}"
        if n.op == "call_method":
            return f"method .{n.target}()"
        if n.op == "call_function":
            mod = getattr(n.target, "__module__", "") or ""
            return f"function {mod}.{getattr(n.target, '__name__', repr(n.target))}"
        return f"{n.op} {n.target!r}"

    def new(kind, n, inputs, **params):
        L = _Layer(kind, n, inputs, **params)
        layers.append(L)
        value[n] = L
        return L

    def fuse_relu(n, kind, src):
        if src.kind in ("conv1d", "conv2d", "linear", "add", "layernorm", "avgpool", "maxpool", "gap", "matmul",
                        "div") and \
                src.act is None and users(src.out) == 1:
            src.act = kind
            src.fused.append(n.name)
            src.out = n
            value[n] = src
        else:
            new("relu", n, [src], relu_kind=kind)

    for n in nodes:
        k = kinds[n]
        if k == "input":
            n_inputs += 1
            if n_inputs > 1:
                raise _fail(n, "a second model input", "only single-input models are supported")
            new("input", n, [])
        elif k == "output":
            a = n.args[0]
            if not isinstance(a, torch.fx.Node) or a not in value:
                raise _fail(n, "the model output", "the module must return one tensor")
            out_layer = tin(n, 0)
        elif k == META:
            continue
        elif k == ALIAS:
            value[n] = tin(n)
        elif k == "module":
            m = mods[n.target]
            what = _what(n)
            if isinstance(m, (nn.Conv1d, nn.Conv2d)) and type(m) in (nn.Conv1d, nn.Conv2d):
                rank = 1 if isinstance(m, nn.Conv1d) else 2
                if m.padding_mode != "zeros":
                    raise _fail(n, what, f"padding_mode={m.padding_mode!r} (only 'zeros' is supported)")
                ks = _tup(m.kernel_size, rank)
                dil = _tup(m.dilation, rank)
                if isinstance(m.padding, str):
                    if m.padding == "valid":
                        pads = [(0, 0)] * rank
                    else:  # 'same': as PyTorch, left = total // 2, right = total - left
                        pads = []
                        for d, kk in zip(dil, ks):
                            total = d * (kk - 1)
                            pads.append((total // 2, total - total // 2))
                else:
                    pads = [(p, p) for p in _tup(m.padding, rank)]
                a = n.args[0] if n.args else None
                if a in padded:   # fold a preceding zero pad: torch order is last dim first
                    extra = padded[a]
                    if len(extra) != 2 * rank:
                        raise _fail(n, what, f"the zero pad before it pads {len(extra) // 2} dims, the conv has "
                                             f"{rank} spatial dims")
                    per_dim = [(extra[2 * j], extra[2 * j + 1]) for j in range(rank)][::-1]
                    pads = [(p0 + e0, p1 + e1) for (p0, p1), (e0, e1) in zip(pads, per_dim)]
                w = _np64(m.weight)
                b = _np64(m.bias) if m.bias is not None else np.zeros(w.shape[0])
                new(f"conv{rank}d", n, [tin(n, allow_pad=True)], weight=w, bias=b, stride=_tup(m.stride, rank),
                    dilation=dil,
                    padding=tuple(p for pair in pads for p in pair), groups=int(m.groups))
            elif type(m) in (nn.ZeroPad1d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d):
                zero_pad(n, _tup(m.padding, 2 if type(m) in (nn.ZeroPad1d, nn.ConstantPad1d) else 4), what,
                         float(m.value))
            elif type(m) is nn.Linear:
                w = _np64(m.weight)
                b = _np64(m.bias) if m.bias is not None else np.zeros(w.shape[0])
                new("linear", n, [tin(n)], weight=w, bias=b)
            elif type(m) in (nn.BatchNorm1d, nn.BatchNorm2d):
                src = tin(n)
                if m.running_mean is None or m.running_var is None:
                    raise _fail(n, what, "BatchNorm without running statistics (track_running_stats=False) "
                                         "cannot be folded")
                if src.kind not in ("conv1d", "conv2d", "linear") or src.act is not None or src.folded or \
                        users(src.out) != 1:
                    why = ("its input is not produced by a Conv1d/Conv2d/Linear" if src.kind not in
                           ("conv1d", "conv2d", "linear") else
                           "an activation lies between it and the conv/linear" if src.act is not None else
                           "the conv/linear already has a folded BatchNorm" if src.folded else
                           "the conv/linear output has other users")
                    raise _fail(n, what, f"BatchNorm cannot be folded: {why}")
                mean, var = _np64(m.running_mean), _np64(m.running_var)
                gamma = _np64(m.weight) if m.weight is not None else np.ones_like(mean)
                beta = _np64(m.bias) if m.bias is not None else np.zeros_like(mean)
                if mean.shape[0] != src.params["weight"].shape[0]:
                    raise _fail(n, what, "BatchNorm channels do not match the conv/linear output channels")
                # fold in float64, round once to float32 (docs/numerics.md, "BatchNorm folding")
                scale = gamma / np.sqrt(var + float(m.eps))
                w = src.params["weight"].astype(np.float64)
                shape = (-1,) + (1,) * (w.ndim - 1)
                src.params["weight"] = (w * scale.reshape(shape)).astype(np.float32).astype(np.float64)
                src.params["bias"] = ((src.params["bias"] - mean) * scale + beta).astype(np.float32).astype(np.float64)
                src.folded.append(n.name)
                src.out = n
                value[n] = src
            elif type(m) in (nn.ReLU, nn.ReLU6):
                fuse_relu(n, "relu" if type(m) is nn.ReLU else "relu6", tin(n))
            elif type(m) in (nn.AvgPool1d, nn.AvgPool2d):
                rank = 1 if type(m) is nn.AvgPool1d else 2
                if m.ceil_mode:
                    raise _fail(n, what, "ceil_mode=True is not supported")
                if rank == 2 and m.divisor_override is not None:
                    raise _fail(n, what, "divisor_override is not supported")
                ks = _tup(m.kernel_size, rank)
                st = _tup(m.stride if m.stride is not None else m.kernel_size, rank)
                pads = _tup(m.padding, rank)
                new("avgpool", n, [tin(n)], rank=rank, kernel=ks, stride=st,
                    padding=tuple(p for q in pads for p in (q, q)), count_include_pad=bool(m.count_include_pad))
            elif type(m) in (nn.MaxPool1d, nn.MaxPool2d):
                rank = 1 if type(m) is nn.MaxPool1d else 2
                if m.ceil_mode:
                    raise _fail(n, what, "ceil_mode=True is not supported")
                if m.return_indices:
                    raise _fail(n, what, "return_indices=True is not supported")
                ks = _tup(m.kernel_size, rank)
                st = _tup(m.stride if m.stride is not None else m.kernel_size, rank)
                pads = _tup(m.padding, rank)
                new("maxpool", n, [tin(n)], rank=rank, kernel=ks, stride=st,
                    padding=tuple(p for q in pads for p in (q, q)), dilation=_tup(m.dilation, rank))
            elif type(m) in (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d):
                rank = 1 if type(m) is nn.AdaptiveAvgPool1d else 2
                if _tup(m.output_size, rank) != (1,) * rank:
                    raise _fail(n, what, f"output_size={m.output_size!r} (only 1, global average pooling, "
                                         f"is supported)")
                new("gap", n, [tin(n)])
            elif type(m) is nn.Softmax:
                if not isinstance(m.dim, int):
                    raise _fail(n, _what(n), "Softmax needs an explicit integer dim")
                new("softmax", n, [tin(n)], dim=int(m.dim))
            elif type(m) is nn.Sigmoid:
                new("logistic", n, [tin(n)])
            elif type(m) is nn.Tanh:
                new("tanh", n, [tin(n)])
            elif type(m) is nn.Flatten:
                new("reshape", n, [tin(n)])
            elif type(m) is nn.LayerNorm:
                ns = tuple(int(d) for d in m.normalized_shape)
                if len(ns) not in (1, 2):
                    raise _fail(n, what, f"normalized_shape {ns} (only the last 1 or 2 dims are supported)")
                gamma = _np64(m.weight) if m.weight is not None else np.ones(ns)
                beta = _np64(m.bias) if getattr(m, "bias", None) is not None else np.zeros(ns)
                new("layernorm", n, [tin(n)], axes=len(ns), eps=float(m.eps), gamma=gamma.reshape(ns),
                    beta=beta.reshape(ns), normalized_shape=ns)
            else:
                raise _fail(n, what)
        elif k in ("function", "method"):
            t = n.target
            what = _what(n)
            if ((k == "function" and t in (operator.add, torch.add)) or (k == "method" and t == "add")) and \
                    len(n.args) == 2 and not n.kwargs and sum(isinstance(a, torch.fx.Node) for a in n.args) == 1 and \
                    any(isinstance(a, (int, float)) and not isinstance(a, bool) for a in n.args):
                ti = 0 if isinstance(n.args[0], torch.fx.Node) else 1
                fold_one_user(n, what, "`tensor + number`")
                value[n] = tin(n, ti)
                plus[n] = float(n.args[1 - ti])
            elif (k == "function" and t in (operator.add, torch.add)) or (k == "method" and t == "add"):
                alpha = n.kwargs.get("alpha", 1)
                if alpha != 1 or len(n.args) != 2 or set(n.kwargs) - {"alpha"} or \
                        not all(isinstance(a, torch.fx.Node) and a in value for a in n.args):
                    raise _fail(n, what, "only the sum of two tensors (alpha=1) is supported")
                new("add", n, [tin(n, 0), tin(n, 1)])     # broadcasting: checked with the shapes (_build)
            elif (k == "function" and t in (F.relu, torch.relu)) or (k == "method" and t in ("relu", "relu_")):
                fuse_relu(n, "relu", tin(n))
            elif k == "function" and t is F.relu6:
                fuse_relu(n, "relu6", tin(n))
            elif (k == "function" and t in (torch.flatten, torch.reshape)) or \
                    (k == "method" and t in ("view", "reshape", "flatten")):
                new("reshape", n, [tin(n)])
            elif (k == "function" and t in (torch.matmul, torch.bmm, operator.matmul)) or \
                    (k == "method" and t in ("matmul", "bmm")):
                if len(n.args) != 2 or n.kwargs:
                    raise _fail(n, what, "only matmul(a, b) of two tensors is supported")
                a0, a1 = n.args
                new("matmul", n, [tin(n, 0, allow_transpose=True), tin(n, 1, allow_transpose=True)],
                    transpose_a=a0 in transposed, transpose_b=a1 in transposed)
            elif (k == "method" and t == "transpose") or (k == "function" and t is torch.transpose):
                dims = tuple(n.args[1:3]) if len(n.args) >= 3 else (n.kwargs.get("dim0"), n.kwargs.get("dim1"))
                if sorted(dims) not in ([1, 2], [-2, -1]):
                    raise _fail(n, what, f"transpose{dims}: only the last two dims of a (N, rows, cols) tensor, "
                                         f"as a matmul operand")
                fold_one_user(n, what, "a transpose")
                value[n] = tin(n)
                transposed.add(n)
            elif k == "method" and t == "permute":
                dims = tuple(n.args[1:]) if len(n.args) > 2 else tuple(n.args[1]) if len(n.args) == 2 else ()
                if dims != (0, 2, 1):
                    raise _fail(n, what, f"permute{dims}: only permute(0, 2, 1), as a matmul operand")
                fold_one_user(n, what, "a transpose")
                value[n] = tin(n)
                transposed.add(n)
            elif (k == "function" and t in (operator.truediv, torch.div, torch.true_divide)) or \
                    (k == "method" and t in ("div", "true_divide")):
                if len(n.args) != 2 or set(n.kwargs) - {"rounding_mode"} or n.kwargs.get("rounding_mode") is not None \
                        or not all(isinstance(a, torch.fx.Node) for a in n.args):
                    raise _fail(n, what, "only the true division of two tensors is supported")
                d = n.args[1]
                new("div", n, [tin(n, 0), tin(n, 1, allow_plus=True)], eps=float(plus.get(d, 0.0)))
            elif (k == "function" and t is F.pad):
                pad = n.args[1] if len(n.args) > 1 else n.kwargs.get("pad")
                mode = n.args[2] if len(n.args) > 2 else n.kwargs.get("mode", "constant")
                val = n.args[3] if len(n.args) > 3 else n.kwargs.get("value", None)
                if mode != "constant" or not isinstance(pad, (tuple, list)) or \
                        not (val is None or (isinstance(val, (int, float)) and not isinstance(val, bool))):
                    raise _fail(n, what, "only constant padding with a fixed pad tuple and value is supported")
                zero_pad(n, pad, what, float(val or 0.0))
            elif (k == "function" and t in (torch.sigmoid, F.sigmoid)) or (k == "method" and t == "sigmoid"):
                new("logistic", n, [tin(n)])
            elif (k == "function" and t in (torch.tanh, F.tanh)) or (k == "method" and t == "tanh"):
                new("tanh", n, [tin(n)])
            elif (k == "function" and t in (F.softmax, torch.softmax)) or (k == "method" and t == "softmax"):
                dim = n.args[1] if len(n.args) > 1 else n.kwargs.get("dim")
                if not isinstance(dim, int) or isinstance(dim, bool):
                    raise _fail(n, what, "softmax needs an explicit integer dim")
                if n.kwargs.get("dtype") is not None or (k == "method" and len(n.args) > 2):
                    raise _fail(n, what, "softmax with a dtype is not supported")
                new("softmax", n, [tin(n)], dim=int(dim))
            elif k == "function" and t is operator.getitem and n.args[0] in pieces:
                src, how = pieces[n.args[0]]
                i = n.args[1]
                if not isinstance(i, int) or isinstance(i, bool):
                    raise _fail(n, what, "a piece of chunk / split is taken by an integer index")
                new("slice", n, [src], split=how + (i,))
            elif k == "function" and t is operator.getitem and isinstance(n.args[0], torch.fx.Node):
                new("slice", n, [tin(n)], index=n.args[1])
            elif (k == "function" and t in (torch.chunk, torch.split)) or (k == "method" and t in ("chunk", "split")):
                name = t if isinstance(t, str) else t.__name__
                arg = n.args[1] if len(n.args) > 1 else n.kwargs.get("chunks" if name == "chunk" else
                                                                        "split_size_or_sections",
                                                                        n.kwargs.get("split_size"))
                dim = n.args[2] if len(n.args) > 2 else n.kwargs.get("dim", 0)
                ok_arg = (isinstance(arg, int) and not isinstance(arg, bool) and arg >= 1) or \
                    (name == "split" and isinstance(arg, (list, tuple)) and
                     all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in arg))
                if not ok_arg or not isinstance(dim, int) or isinstance(dim, bool):
                    raise _fail(n, what, f"{name} needs a fixed positive {'count' if name == 'chunk' else 'size or list of sizes'} "
                                         f"and an integer dim")
                pieces[n] = (tin(n), (name, tuple(arg) if isinstance(arg, (list, tuple)) else int(arg), int(dim)))
            elif k == "function" and t in (torch.cat, torch.concat):
                seq = n.args[0] if n.args else n.kwargs.get("tensors")
                dim = n.args[1] if len(n.args) > 1 else n.kwargs.get("dim", 0)
                if not isinstance(seq, (list, tuple)) or not 1 <= len(seq) <= 4 or \
                        not isinstance(dim, int) or isinstance(dim, bool):
                    raise _fail(n, what, "torch.cat of a list of 1 to 4 tensors along an integer dim is supported")
                srcs = []
                for a in seq:
                    if not isinstance(a, torch.fx.Node) or a not in value or a in padded or a in transposed or \
                            a in plus:
                        raise _fail(n, what, "every concatenated value must be a tensor produced by a supported layer")
                    srcs.append(value[a])
                new("concat", n, srcs, dim=int(dim))
            elif (k == "method" and t == "narrow") or (k == "function" and t is torch.narrow):
                args = list(n.args[1:]) + [n.kwargs[a] for a in ("dim", "start", "length") if a in n.kwargs]
                if len(args) != 3 or not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                    raise _fail(n, what, "narrow needs integer dim, start and length")
                new("slice", n, [tin(n)], narrow=tuple(args))
            elif k == "method" and t in ("contiguous",):
                value[n] = tin(n)
            else:
                raise _fail(n, what)
        else:
            raise _fail(n, f"{n.op} {n.target!r}", f"unsupported fx node kind {n.op!r} (e.g. a parameter or "
                                                     f"buffer used directly in forward). Supported: {SUPPORTED}")
    if n_inputs != 1:
        raise ExportError("the module has no tensor input")
    if out_layer is None:
        raise ExportError("the module has no output")
    return layers, out_layer


# ---------------------------------------------------------------------------------------------------
def _slice_attrs(L, shape):
    """kwsnum slice attributes (numerics 11.8) of a torch basic index or narrow on a tensor of per-sample
    ``shape``: per axis begin, stride, size; the batch axis must be taken whole."""
    nd = len(shape) + 1
    dims = (2,) + tuple(int(d) for d in shape)          # the batch: any size, taken whole
    what = f"layer {L.node.name} (slicing)"
    if "split" in L.params:      # torch.chunk / torch.split: piece i is a narrow (6.1)
        how, arg, dim, i = L.params["split"]
        if not -nd <= dim < nd or dim % nd == 0:
            raise _fail(L.node, what, f"{how} along dim {dim}: kwsnum slices the axes of one sample")
        d = dims[dim % nd]
        if how == "chunk":
            size = -(-d // arg)
            lengths = [min(size, d - s0) for s0 in range(0, d, size)]
        elif isinstance(arg, tuple):
            lengths = list(arg)
        else:
            lengths = [min(arg, d - s0) for s0 in range(0, d, arg)]
        if sum(lengths) != d or not -len(lengths) <= i < len(lengths) or lengths[i] < 1:
            raise _fail(L.node, what, f"piece {i} of {how}({arg}) of a dimension of {d} is empty or out of range")
        i %= len(lengths)
        L.params["narrow"] = (dim, sum(lengths[:i]), lengths[i])
    if "narrow" in L.params:
        dim, start, length = L.params["narrow"]
        if not -nd <= dim < nd or length < 1:
            raise _fail(L.node, what, f"narrow({dim}, {start}, {length}) is out of range")
        dim %= nd
        if dim == 0:
            raise _fail(L.node, what, "narrow of the batch axis: kwsnum slices the axes of one sample")
        start = start + dims[dim] if start < 0 else start
        if start < 0 or start + length > dims[dim]:
            raise _fail(L.node, what, f"narrow({dim}, {start}, {length}) runs past the dimension {dims[dim]}")
        sl = [slice(None)] * nd
        sl[dim] = slice(start, start + length)
    else:
        idx = L.params["index"]
        idx = tuple(idx) if isinstance(idx, tuple) else (idx,)
        if any(i is None for i in idx) or not all(isinstance(i, slice) or i is Ellipsis for i in idx):
            raise _fail(L.node, what, f"index {idx!r}: only slices (and one ...) are supported, no integer, "
                                      f"tensor or None index (they change the rank)")
        if sum(i is Ellipsis for i in idx) > 1:
            raise _fail(L.node, what, "more than one ... in the index")
        if Ellipsis in idx:
            e = idx.index(Ellipsis)
            idx = idx[:e] + (slice(None),) * (nd - len(idx) + 1) + idx[e + 1:]
        if len(idx) > nd:
            raise _fail(L.node, what, f"{len(idx)} indices for a rank-{nd} tensor")
        sl = list(idx) + [slice(None)] * (nd - len(idx))
    begin, stride, size = [], [], []
    for a, (s_, dim) in enumerate(zip(sl, dims)):
        for v in (s_.start, s_.stop, s_.step):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                raise _fail(L.node, what, f"slice {s_!r}: the bounds must be integers fixed at trace time")
        if a == 0:
            if (s_.start, s_.stop, s_.step) != (None, None, None):
                raise _fail(L.node, what, "slicing the batch axis: kwsnum slices the axes of one sample")
            continue
        if s_.step is not None and s_.step < 1:
            raise _fail(L.node, what, f"slice {s_!r}: the step must be positive")
        b0, e0, st = s_.indices(dim)
        n = len(range(b0, e0, st))
        if n < 1:
            raise _fail(L.node, what, f"slice {s_!r} of a dimension of {dim} is empty")
        begin.append(b0)
        stride.append(st)
        size.append(n)
    return dict(begin=tuple(begin), stride=tuple(stride), size=tuple(size))


def _pad_layer(b, L, nm, x, si, fmt):
    """A standalone constant pad (F.pad / ConstantPad / ZeroPad not folded into a conv) as kwsnum pad (numerics 11.7):
    torch's (left, right[, top, bottom[, front, back]]) pads the last dims, last dim first; the output keeps the
    input's quantization and the fill is the real value exactly: 0 is the zero point (int8) or 0 (int16); a
    nonzero fill only in float32 (an integer fill would be rounded)."""
    what = f"layer {nm} (pad)"
    pad, fill = L.params["pad"], L.params["fill"]
    rank = len(si.shape)
    if len(pad) // 2 > rank:
        raise _fail(L.node, what, f"pad {pad} pads {len(pad) // 2} dims of a sample of rank {rank} (the batch axis "
                                  f"is not padded)")
    per_axis = [(0, 0)] * (rank - len(pad) // 2) + [(pad[2 * j], pad[2 * j + 1]) for j in range(len(pad) // 2)][::-1]
    attrs = dict(pads=tuple(v for pr in per_axis for v in pr))
    if fmt in QUANTIZED:
        if fill != 0.0:
            raise _fail(L.node, what, f"value={fill}: an integer pad fills with real 0 (the zero point) only")
        attrs["value"] = int(si.zero_point)
        return b.add("pad", nm, [x], attrs, scale=si.scale, zero_point=si.zero_point)
    if fmt != "float32":
        raise _fail(L.node, f"{what} in {fmt}", "pad is exported in int8, int16 and float32; give this layer one "
                                                "of them")
    attrs["value_f"] = float(np.float32(fill))
    return b.add("pad", nm, [x], attrs)


def _tflm_activation(b, L, nm, x, si, fmt):
    """softmax / logistic / tanh as TFLite's converter fixes them: the output quantization is the op's own (int8:
    softmax and logistic 1/256, zero point -128, tanh 1/128, 0; int16: 1/32768 (softmax), 2**-15, zero point 0),
    not the calibrated range; the integers are TFLM's Prepare results (numerics 11.4, 11.5, 11.9), beta = 1."""
    from ..ops.softmax import softmax_params, softmax_params16
    from ..ops.sigmoid import LOGISTIC, TANH, int8_params, int16_arrays, int16_params
    if fmt not in ("int8", "int16"):
        raise _fail(L.node, f"layer {nm} ({L.kind}) in {fmt}",
                    f"{L.kind} has int8 and int16 kernels only (TFLM's); give this layer int8 or int16 in the "
                    f"precision config")
    arrays = None
    if L.kind == "softmax":
        nd = len(si.shape) + 1
        d = L.params["dim"]
        if not -nd <= d < nd:
            raise _fail(L.node, f"layer {nm} (softmax)", f"dim {d} is out of range for a rank-{nd} tensor")
        if d % nd == 0:
            raise _fail(L.node, f"layer {nm} (softmax)", f"dim {d} is the batch axis: kwsnum's softmax runs along "
                                                         f"an axis of one sample")
        if fmt == "int16":
            attrs, arrays = softmax_params16(1.0, si.scale)
            so, zo = 1.0 / 32768, 0
        else:
            attrs = softmax_params(1.0, si.scale)
            so, zo = 1.0 / 256, -128
        attrs = dict(axis=d % nd - 1, **attrs)
    else:
        kind = LOGISTIC if L.kind == "logistic" else TANH
        if fmt == "int16":
            attrs, arrays = int16_params(si.scale, kind), int16_arrays()
            so, zo = 2.0 ** -15, 0
        else:
            attrs = int8_params(si.scale)
            so, zo = (1.0 / 256, -128) if kind == LOGISTIC else (1.0 / 128, 0)
    return b.add(L.kind, nm, [x], attrs, arrays, scale=so, zero_point=zo)


class _Stats:
    """Range of one tensor over the calibration set."""

    def __init__(self, pct):
        self.pct = pct
        self.lo, self.hi = np.inf, -np.inf
        self.absvals = []

    def update(self, name, t):
        a = t.detach().cpu().float()
        if a.numel() == 0:
            raise ExportError(f"fx node {name!r} produces an empty tensor {tuple(a.shape)} (e.g. an empty slicing)")
        if not bool(a.isfinite().all()):
            raise ExportError(f"calibration produced non-finite values at fx node {name!r}")
        self.lo = min(self.lo, float(a.min()))
        self.hi = max(self.hi, float(a.max()))
        if self.pct is not None:
            self.absvals.append(a.abs().reshape(-1).numpy().copy())

    def range(self):
        if self.pct is None:
            return self.lo, self.hi
        a = float(np.percentile(np.concatenate(self.absvals).astype(np.float64), self.pct))
        return max(self.lo, -a), min(self.hi, a)


def _calibrate(torch, gm, wanted, data, pct):
    stats = {n: _Stats(pct) for n in wanted}

    class Rec(torch.fx.Interpreter):
        def run_node(self, n):
            r = super().run_node(n)
            if n in stats:
                stats[n].update(n.name, r)
            return r

    interp = Rec(gm)
    with torch.no_grad():
        for i in range(0, data.shape[0], CALIB_CHUNK):
            interp.run(data[i:i + CALIB_CHUNK])
    return {n: s.range() for n, s in stats.items()}


# ---------------------------------------------------------------------------------------------------
def _as_tensor(torch, x, what):
    if x is None:
        return None
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
    else:
        t = torch.as_tensor(np.asarray(x))
    if not t.is_floating_point() and t.dtype not in (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8):
        raise ExportError(f"{what} must be a numeric tensor/array, got {t.dtype}")
    return t.to(torch.float32).contiguous()


def _parse_calibration(calibration):
    if calibration == "minmax":
        return None, "minmax"
    if isinstance(calibration, (tuple, list)) and len(calibration) == 2 and calibration[0] == "percentile":
        p = float(calibration[1])
        if not 0.0 < p <= 100.0:
            raise ExportError(f"percentile must be in (0, 100], got {p}")
        return p, f"percentile:{p:g}"
    raise ExportError(f"calibration must be 'minmax' or ('percentile', p), got {calibration!r}")


def from_torch(module, example_input, calibration_data, precision="int8", rounding="double",
               calibration="minmax", labels=None, name=None, frontend=None, qround="RND", qoverflow="SAT",
               streaming=False):
    """Export ``module`` (a torch.nn.Module) to a :class:`kwsnum.Model`.

    example_input: a float batch (N, *input_shape) used to trace shapes (None: the first calibration
    samples). calibration_data: a float batch (M, *input_shape) (tensor or array); its activation
    ranges fix every int8 scale and zero point. precision: "int8" (quantize -> int8 graph ->
    dequantize, float32 in and out), "float32", or "float16" / "bfloat16" (the float32 graph with every
    tensor and float array stored in 16 bits, float32 arithmetic, cast nodes at the float32 input and output;
    docs/numerics.md section 7). rounding: "double" | "single" (stored in the model).
    calibration: "minmax" or ("percentile", p). See docs/numerics.md, "Export from PyTorch".
    precision "q8" / "q16" / "q32": Q-format fixed point (docs/numerics.md 10.4), every Q node with the rounding
    mode ``qround`` and the overflow mode ``qoverflow`` (section 8's names; default RND + SAT).
    frontend: a kwsnum.frontend.Frontend stored with the model, so that `kwsnum run model.h5 clip.wav` works;
    its output shape must be the module's input shape.
    streaming: return the streaming form (kwsnum.streaming.to_streaming: delay lines, a step of the model's
    stride of new frames; docs/numerics.md section 11) of the exported windowed model, or an ExportError naming
    the layer that cannot stream. A frontend is kept: it describes the windowed clip (its frames = the window),
    and kwsnum.listen runs it incrementally (docs/numerics.md 12.6).
    """
    torch = _torch()
    policy = _Precision(precision)
    from ..fixedpoint import ROUNDING_MODES, QROUNDING_MODES, OVERFLOW_MODES
    if rounding not in ROUNDING_MODES:
        raise ExportError(f"rounding must be one of {', '.join(ROUNDING_MODES)}, got {rounding!r}")
    if qround not in QROUNDING_MODES or qoverflow not in OVERFLOW_MODES:
        raise ExportError(f"qround must be one of {', '.join(QROUNDING_MODES)} and qoverflow one of "
                          f"{', '.join(OVERFLOW_MODES)}; got {qround!r}, {qoverflow!r}")
    policy.qmodes = dict(qround=qround, qoverflow=qoverflow)
    pct, calib_name = _parse_calibration(calibration)
    if not isinstance(module, torch.nn.Module):
        raise ExportError(f"expected a torch.nn.Module, got {type(module).__name__}")
    calib = _as_tensor(torch, calibration_data, "calibration_data")
    example = _as_tensor(torch, example_input, "example_input")
    if example is None:
        if calib is None:
            raise ExportError("give example_input or calibration_data")
        example = calib[:1]
    if example.ndim < 2:
        raise ExportError(f"example_input must be a batch (N, *input_shape), got shape {tuple(example.shape)}")
    in_shape = tuple(int(d) for d in example.shape[1:])
    if policy.needs_calibration:
        if calib is None or calib.shape[0] == 0:
            raise ExportError("int8 export needs calibration_data (a batch of inputs)")
        if tuple(calib.shape[1:]) != in_shape:
            raise ExportError(f"calibration_data shape {tuple(calib.shape)} does not match the example input "
                              f"shape (N, {', '.join(map(str, in_shape))})")

    was_training = module.training
    module.eval()
    try:
        try:
            gm = torch.fx.symbolic_trace(module)
        except Exception as e:  # noqa: BLE001 - fx raises many types
            raise ExportError(f"torch.fx.symbolic_trace failed on {type(module).__name__}: "
                              f"{type(e).__name__}: {e}") from e
        gm.eval()
        layers, out_layer = _classify(torch, gm)

        # shapes: propagate a batch of 2 so that a reshape which mixes the batch dimension is caught
        from torch.fx.passes.shape_prop import ShapeProp
        ex2 = torch.cat([example[:1], example[:1]], 0)
        with torch.no_grad():
            try:
                ShapeProp(gm).propagate(ex2)
            except Exception as e:  # noqa: BLE001
                raise ExportError(f"running {type(module).__name__} on the example input failed: "
                                  f"{type(e).__name__}: {e}") from e

        def shape_of(fxnode):
            tm = fxnode.meta.get("tensor_meta")
            if tm is None or not hasattr(tm, "shape"):
                raise _fail(fxnode, "a non-tensor value", "expected a tensor")
            s = tuple(int(d) for d in tm.shape)
            if len(s) < 2 or s[0] != 2:
                raise _fail(fxnode, "a layer", f"its output {s} does not keep the batch dimension first")
            return s[1:]

        for L in layers:
            policy.resolve(L)
        ranges = {}
        if policy.needs_calibration:
            wanted = [L.out for L in layers if L.kind not in ("reshape", "pad")]
            ranges = _calibrate(torch, gm, wanted, calib, pct)
        model = _build(layers, out_layer, shape_of, ranges, policy, rounding, labels,
                       name or type(module).__name__, frontend)
    finally:
        module.train(was_training)
    import json
    meta = {"source": "torch", "module": type(module).__name__, "precision": policy.describe(),
            # kwsnum tensor -> the fx node of the float module whose value it represents
            "torch_nodes": json.dumps({t: L.out.name for L in layers if L.tensor is not None
                                       for t in [L.tensor] + L.bridges}),
            "torch_version": str(torch.__version__),
            "bn_folded": ",".join(f for L in layers for f in L.folded),
            "relu_fused": ",".join(f for L in layers for f in L.fused)}
    if policy.needs_calibration:
        meta.update(calibration=calib_name, calibration_samples=str(int(calib.shape[0])))
    if any(model.tensors[t].format in QFORMATS for t in model.tensors):
        meta.update(qround=qround, qoverflow=qoverflow)
    model.meta.update(meta)
    if streaming:
        from ..streaming import to_streaming
        model = to_streaming(model)
    return model


PRECISIONS = ("int8", "float32", "float16", "bfloat16", "int16", "q8", "q16", "q32")
# layer kinds of the exporter -> the kwsnum op names a precision config uses
_OP_NAMES = {"conv1d": ("conv1d",), "conv2d": ("conv2d",), "linear": ("linear",), "gap": ("global_avgpool",),
             "avgpool": ("avgpool1d", "avgpool2d", "avgpool"), "maxpool": ("maxpool1d", "maxpool2d", "maxpool"),
             "relu": ("relu",), "add": ("add",), "layernorm": ("layernorm",), "reshape": ("reshape",),
             "matmul": ("matmul",), "div": ("div",), "softmax": ("softmax",), "logistic": ("logistic", "sigmoid"),
             "tanh": ("tanh",), "slice": ("slice",), "concat": ("concat",), "pad": ("pad",)}


class _Precision:
    """The precision config of an export (docs/numerics.md 6.8): a format name for the whole model, or
    ``{"default": fmt, "ops": {op name: fmt}, "layers": {layer name: fmt}}`` where a layer name is the fx node
    name (``features_3``) or the module path (``features.3``); layers win over ops, ops over the default.
    ``reshape`` always keeps its input's format (it moves no numbers)."""

    def __init__(self, precision):
        if isinstance(precision, str):
            precision = {"default": precision}
        if not isinstance(precision, dict) or set(precision) - {"default", "ops", "layers"}:
            raise ExportError(f"precision must be one of {', '.join(PRECISIONS)} or a dict with keys default, ops, "
                              f"layers; got {precision!r}")
        self.default = precision.get("default", "int8")
        self.ops = dict(precision.get("ops") or {})
        self.layers = dict(precision.get("layers") or {})
        for where, fmt in [("default", self.default)] + [(f"ops[{k!r}]", v) for k, v in self.ops.items()] + \
                [(f"layers[{k!r}]", v) for k, v in self.layers.items()]:
            if fmt not in PRECISIONS:
                raise ExportError(f"precision {where} must be one of {', '.join(PRECISIONS)}, got {fmt!r}")
        known_ops = {n for names in _OP_NAMES.values() for n in names}
        bad = sorted(set(self.ops) - known_ops)
        if bad:
            raise ExportError(f"precision ops {bad} are not op names (known: {', '.join(sorted(known_ops))})")
        self.used_layers = set()
        self.chosen = {}
        # any integer layer (int8, or int16: docs/numerics.md 9.5) needs calibration
        self.needs_calibration = any(f in INTEGER for f in [self.default, *self.ops.values(), *self.layers.values()])
        self.qmodes = dict(qround="RND", qoverflow="SAT")

    def resolve(self, L):
        """The format layer L computes in (None for the input and reshape: they follow their data)."""
        if L.kind in ("input", "reshape", "slice", "pad"):
            return None
        fmt = self.default
        for n in _OP_NAMES[L.kind]:
            if n in self.ops:
                fmt = self.ops[n]
        # layer entries: the fx node name, the module path, or an enclosing module's path (a scope such as
        # "attn" covers the modules and the functions called inside attn.forward); the most specific wins
        scopes = list((L.node.meta.get("nn_module_stack") or {}).keys())
        target = L.node.target if isinstance(L.node.target, str) else None
        candidates = [(1 + k.count("."), k) for k in scopes if k in self.layers]
        if target in self.layers:
            candidates.append((100, target))
        if L.node.name in self.layers:
            candidates.append((101, L.node.name))
        if candidates:
            key = max(candidates)[1]
            fmt = self.layers[key]
            self.used_layers.update(k for _, k in candidates)
        self.chosen[L] = fmt
        return fmt

    def check_layers_used(self):
        unused = sorted(set(self.layers) - self.used_layers)
        if unused:
            raise ExportError(f"precision layers {unused} name no exported layer (use fx node names such as "
                              f"'features_3' or module paths such as 'features.3')")

    def describe(self):
        if not self.ops and not self.layers:
            return self.default
        import json
        return json.dumps(dict(default=self.default, ops=self.ops, layers=self.layers), sort_keys=True)


# ---------------------------------------------------------------------------------------------------
def _build(layers, out_layer, shape_of, ranges, policy, rounding, labels, name, frontend=None):
    from ..float16 import narrow
    from ..model import STORAGE_FLOATS
    b = GraphBuilder(name=name, rounding=rounding)
    policy.check_layers_used()
    q8 = False                  # the format of the layer being built is an affine integer one (int8 or int16)
    q16 = False                 # ... int16 (TFLite 16x8, docs/numerics.md 9.5)
    qf = False                  # ... a Q format (docs/numerics.md 10.4)
    fmt = "float32"             # ... its format
    producer = {}               # kwsnum tensor -> the layer whose calibrated range it carries
    bridges = {}                # (tensor, format) -> the bridged tensor

    def qp(L, f=None):
        lo, hi = ranges[L.out]
        if (f or fmt) == "int16":
            return int16_params(lo, hi)      # symmetric, zero point 0
        return affine_params(lo, hi)

    def qn(L, f=None):
        """frac_bits of layer L's output in Q format f (10.4)."""
        lo, hi = ranges[L.out]
        return q_frac_bits(max(abs(lo), abs(hi)), QBITS[f or fmt])

    def scale_of(t):
        """float32 scale of an integer tensor: int8 / int16 as stored, Q 2**-frac_bits."""
        sp = b.tensors[t]
        return float(np.float32(2.0 ** -sp.frac_bits)) if sp.format in QFORMATS else sp.scale

    def convert(t, want):
        """Tensor t in format ``want``: t itself, or a bridge node (quantize / dequantize / cast), made once."""
        have = b.tensors[t].format
        if have == want:
            return t
        if (t, want) in bridges:
            return bridges[(t, want)]
        nm = f"{t}_to_{want}"
        if t == "input":          # the model input's bridge: quantize / to_float16 / to_bfloat16
            nm = "quantize" if want == "int8" else f"to_{want}"
        if t == "input" and want in INTEGER:
            nm = "quantize"
        if want in QFORMATS and have in QFORMATS:      # Q -> Q: qcast
            y = b.add("qcast", nm, [t], dict(policy.qmodes), format=want, frac_bits=qn(producer[t], want))
        elif want in QFORMATS and have in QUANTIZED:   # affine -> Q: requantize
            n_ = qn(producer[t], want)
            m_, sh_ = requantize_params(b.tensors[t].scale, np.float32(2.0 ** -n_))
            y = b.add("requantize", nm, [t], dict(multiplier=m_, shift=sh_), format=want, frac_bits=n_)
        elif want in QUANTIZED and have in INTEGER:   # integer -> affine integer: requantize
            s_, z_ = qp(producer[t], want)
            m_, sh_ = requantize_params(scale_of(t), s_)
            y = b.add("requantize", nm, [t], dict(multiplier=m_, shift=sh_), format=want, scale=s_, zero_point=z_)
        elif want in QFORMATS:
            y = b.add("quantize", nm, [t], dict(policy.qmodes), format=want, frac_bits=qn(producer[t], want))
        elif want in QUANTIZED:
            s_, z_ = qp(producer[t], want)
            y = b.add("quantize", nm, [t], format=want, scale=s_, zero_point=z_)
        elif have in INTEGER:
            y = b.add("dequantize", nm, [t], format=want)
        else:
            y = b.add("cast", nm, [t], format=want)
        bridges[(t, want)] = y
        producer[y] = producer[t]
        producer[t].bridges.append(y)
        return y

    def farr(a):
        """A float array of the layer being built: float32, or 16-bit storage bit patterns."""
        a = np.asarray(a, np.float32)
        return narrow(a, fmt) if fmt in STORAGE_FLOATS else a

    def fout():
        """format= of a float layer's output."""
        return dict(format=fmt)

    def spec(t):
        return b.tensors[t]

    def same_quant(si):
        """The output quantization of a layer that keeps its input's (reshape, slice)."""
        if qf:
            return dict(frac_bits=si.frac_bits)
        if q8:
            return dict(scale=si.scale, zero_point=si.zero_point)
        return fout()

    def act_attrs(L, scale=None, zp=None, n=None):
        if qf:
            lo, hi = act_clamp_q(L.act, n, QBITS[fmt])
            return dict(act_min=lo, act_max=hi)
        if q16:
            lo, hi = act_clamp_int16(L.act, scale)
            return dict(act_min=lo, act_max=hi)
        if q8:
            lo, hi = act_clamp_int8(L.act, scale, zp)
            return dict(act_min=lo, act_max=hi)
        lo, hi = act_clamp_float(L.act)
        return dict(act_min_f=lo, act_max_f=hi)

    def real(x):
        """float64 value of a float32 scale."""
        return np.float64(np.float32(x))

    try:
        for L in layers:
            nm = L.node.name
            if L.kind == "input":
                x = b.input("input", shape_of(L.out), "float32")
                producer[x] = L
                L.tensor = x
                continue
            fmt = policy.chosen.get(L) or b.tensors[L.inputs[0].tensor].format
            q8 = fmt in QUANTIZED
            q16 = fmt == "int16"
            qf = fmt in QFORMATS
            if qf and (L.kind not in Q_KINDS or (L.kind == "layernorm" and fmt == "q32")):
                raise _fail(L.node, f"layer {nm} ({L.kind}) in {fmt}",
                            f"there is no {fmt} kernel for {L.kind} (Q formats support: {', '.join(Q_KINDS)}; "
                            f"layernorm in q8 and q16); choose another format for this layer in the precision config")
            if q16 and L.kind not in INT16_KINDS:
                raise _fail(L.node, f"layer {nm} ({L.kind}) in int16",
                            f"there is no int16 kernel for {L.kind} (int16 supports: {', '.join(INT16_KINDS)}); "
                            f"choose another format for this layer in the precision config")
            ins = [convert(P.tensor, fmt) for P in L.inputs]
            x = ins[0]
            si = spec(x)
            want_shape = shape_of(L.out)
            p = L.params
            if L.kind in ("conv1d", "conv2d", "linear"):
                if L.kind == "linear" and len(si.shape) != 1:
                    raise _fail(L.node, "Linear", f"its input has shape {tuple(si.shape)} (without batch); "
                                                   f"only (features,) is supported: flatten first")
                attrs = {}
                if L.kind != "linear":
                    attrs = dict(stride=p["stride"], dilation=p["dilation"], padding=p["padding"],
                                 groups=p["groups"])
                w, bias = p["weight"], p["bias"]
                if qf:
                    no = qn(L)
                    bits = QBITS[fmt]
                    wq, bq, wf = q_layer_params(w, bias, si.frac_bits, bits, 8 if fmt == "q8" else 16,
                                                32 if fmt == "q8" else 64)
                    arrays = dict(weight=wq, bias=bq, weight_frac=wf)
                    y = b.add(L.kind, nm, [x], dict(attrs, **act_attrs(L, n=no), **policy.qmodes), arrays,
                              frac_bits=no)
                elif q8:
                    so, zo = qp(L)
                    sw = symmetric_weight_scales(w, axis=0)
                    wq = quantize_weights(w, sw, axis=0)
                    bq = quantize_bias(bias, si.scale, sw, wide=q16)
                    reals = real(si.scale) * sw.astype(np.float64) / real(so)
                    mult, shift = quantize_multipliers(reals)
                    arrays = dict(weight=wq, bias=bq, multiplier=mult, shift=shift)
                    y = b.add(L.kind, nm, [x], dict(attrs, **act_attrs(L, so, zo)), arrays, scale=so, zero_point=zo)
                else:
                    arrays = dict(weight=farr(w), bias=farr(bias))
                    y = b.add(L.kind, nm, [x], dict(attrs, **act_attrs(L)), arrays, **fout())
            elif L.kind in ("avgpool", "maxpool"):
                op = f"{L.kind}{p['rank']}d"
                attrs = dict(kernel=p["kernel"], stride=p["stride"], padding=p["padding"])
                if L.kind == "avgpool":
                    attrs["count_include_pad"] = p["count_include_pad"]
                else:
                    attrs["dilation"] = p["dilation"]
                if qf:  # output keeps the input's frac_bits (10.3)
                    if L.kind == "avgpool":
                        attrs["qround"] = policy.qmodes["qround"]
                    y = b.add(op, nm, [x], dict(attrs, **act_attrs(L, n=si.frac_bits)), frac_bits=si.frac_bits)
                elif q8:  # output shares the input's scale and zero point
                    y = b.add(op, nm, [x], dict(attrs, **act_attrs(L, si.scale, si.zero_point)),
                              scale=si.scale, zero_point=si.zero_point)
                else:
                    y = b.add(op, nm, [x], dict(attrs, **act_attrs(L)), **fout())
            elif L.kind == "gap":
                if qf:
                    y = b.add("global_avgpool", nm, [x], dict(qround=policy.qmodes["qround"],
                                                              **act_attrs(L, n=si.frac_bits)), frac_bits=si.frac_bits)
                elif q8:
                    so, zo = qp(L)
                    count = int(np.prod(si.shape[1:]))
                    m, sh = quantize_multiplier(real(si.scale) / (real(so) * count))
                    y = b.add("global_avgpool", nm, [x], dict(multiplier=m, shift=sh, **act_attrs(L, so, zo)),
                              scale=so, zero_point=zo)
                else:
                    y = b.add("global_avgpool", nm, [x], act_attrs(L), **fout())
            elif L.kind == "relu":
                kind = p["relu_kind"]
                if qf:
                    lo, hi = act_clamp_q(kind, si.frac_bits, QBITS[fmt])
                    y = b.add("relu", nm, [x], dict(kind=kind, act_min=lo, act_max=hi), frac_bits=si.frac_bits)
                elif q8:
                    lo, hi = act_clamp_int16(kind, si.scale) if q16 else act_clamp_int8(kind, si.scale, si.zero_point)
                    y = b.add("relu", nm, [x], dict(kind=kind, act_min=lo, act_max=hi), scale=si.scale,
                              zero_point=si.zero_point)
                else:
                    lo, hi = act_clamp_float(kind)
                    y = b.add("relu", nm, [x], dict(kind=kind, act_min_f=lo, act_max_f=hi), **fout())
            elif L.kind == "reshape":
                attrs = dict(shape=tuple(want_shape))
                y = b.add("reshape", nm, [x], attrs, **same_quant(si))
            elif L.kind == "add":
                x2 = ins[1]
                s2 = spec(x2)
                from ..ops.add import broadcast_shape
                if len(si.shape) != len(s2.shape) or broadcast_shape(si.shape, s2.shape) is None:
                    raise _fail(L.node, "add", f"operands of shapes {tuple(si.shape)} and {tuple(s2.shape)} per "
                                               f"sample: kwsnum broadcasts tensors of equal rank (each axis equal or "
                                               f"1; the batch axis is never broadcast)")
                if qf:
                    no = qn(L)
                    y = b.add("add", nm, [x, x2], dict(act_attrs(L, n=no), **policy.qmodes), frac_bits=no)
                elif q8:
                    so, zo = qp(L)
                    # TFLite ADD: twice_max = 2 max(s1, s2); in_i = QM(s_i / twice_max);
                    # out = QM(twice_max / (2**20 s_out)) (kwsnum.ops.add.add_params)
                    from ..ops.add import add_params
                    attrs = dict(add_params(si.scale, s2.scale, so, left_shift=15 if q16 else 20), **act_attrs(L, so, zo))
                    y = b.add("add", nm, [x, x2], attrs, scale=so, zero_point=zo)
                else:
                    y = b.add("add", nm, [x, x2], act_attrs(L), **fout())
            elif L.kind == "layernorm":
                ns = p["normalized_shape"]
                if tuple(si.shape[-len(ns):]) != tuple(ns):
                    raise _fail(L.node, "LayerNorm", f"normalized_shape {ns} is not the trailing shape of its "
                                                     f"input {tuple(si.shape)}")
                attrs = dict(axes=p["axes"], eps=p["eps"])
                if qf:   # q8 / q16: the int8 / int16 algorithm with power-of-two scales (10.3)
                    no = qn(L)
                    from ..ops.layernorm import int8_params, MEAN_BITS
                    arrs, extra = int8_params(p["gamma"], p["beta"], p["eps"], 2.0 ** -si.frac_bits, 2.0 ** -no, ns,
                                              f_bits=MEAN_BITS[fmt])
                    attrs.update(extra)
                    attrs.update(act_attrs(L, n=no), **policy.qmodes)
                    y = b.add("layernorm", nm, [x], attrs, arrs, frac_bits=no)
                elif q8:
                    so, zo = qp(L)
                    from ..ops.layernorm import int8_params, MEAN_BITS
                    arrs, extra = int8_params(p["gamma"], p["beta"], p["eps"], si.scale, so, ns, f_bits=MEAN_BITS[fmt])
                    attrs.update(extra)
                    attrs.update(act_attrs(L, so, zo))
                    y = b.add("layernorm", nm, [x], attrs, arrs, scale=so, zero_point=zo)
                else:
                    arrs = dict(gamma=farr(p["gamma"]), beta=farr(p["beta"]))
                    y = b.add("layernorm", nm, [x], dict(attrs, **act_attrs(L)), arrs, **fout())
            elif L.kind == "pad":
                y = _pad_layer(b, L, nm, x, si, fmt)
            elif L.kind == "slice":
                attrs = _slice_attrs(L, si.shape)
                y = b.add("slice", nm, [x], attrs, **same_quant(si))
            elif L.kind in TFLM_ACT_KINDS:
                y = _tflm_activation(b, L, nm, x, si, fmt)
            elif L.kind == "concat":
                nd = len(si.shape) + 1
                d = L.params["dim"]
                if not -nd <= d < nd or d % nd == 0:
                    raise _fail(L.node, f"layer {nm} (concat)", f"dim {d}: kwsnum concatenates along an axis of one "
                                                                f"sample (not the batch axis)")
                attrs = dict(axis=d % nd - 1)
                if qf:
                    raise _fail(L.node, f"layer {nm} (concat) in {fmt}", "concat is exported in int8, int16 and "
                                                                          "float formats; give this layer one of them")
                if q8:      # one quantization for all: the output's calibrated range; inputs requantized to it
                    so, zo = qp(L)
                    same = []
                    for i, t in enumerate(ins):
                        ts = b.tensors[t]
                        if (np.float32(ts.scale), int(ts.zero_point)) != (np.float32(so), int(zo)):
                            m_, sh_ = requantize_params(ts.scale, so)
                            t = b.add("requantize", f"{nm}_in{i}", [t], dict(multiplier=m_, shift=sh_), format=fmt,
                                      scale=so, zero_point=zo)
                        same.append(t)
                    y = b.add("concat", nm, same, attrs, scale=so, zero_point=zo)
                else:
                    y = b.add("concat", nm, ins, attrs, **fout())
            elif L.kind in ("matmul", "div"):
                if fmt not in ("float32",) + STORAGE_FLOATS:
                    raise _fail(L.node, L.kind, f"{L.kind} has no {fmt} kernel: give this layer a float precision "
                                                f"(float32, float16, bfloat16), e.g. precision=dict(default="
                                                f"{policy.default!r}, layers={{<its module>: 'float16'}})")
                if L.kind == "matmul":
                    attrs = dict(transpose_a=p["transpose_a"], transpose_b=p["transpose_b"])
                else:
                    attrs = dict(eps=p["eps"])
                y = b.add(L.kind, nm, ins, dict(attrs, **act_attrs(L)), **fout())
            else:  # pragma: no cover
                raise AssertionError(L.kind)
            if tuple(b.shape(y)) != tuple(want_shape):
                raise _fail(L.node, f"layer {nm}", f"kwsnum computes shape {tuple(b.shape(y))} but PyTorch "
                                                   f"gives {tuple(want_shape)}")
            L.tensor = y
            producer[y] = L if L.kind not in ("reshape", "slice", "pad") else producer[x]
        out = out_layer.tensor
        if b.tensors[out].format in INTEGER:
            out = b.add("dequantize", "dequantize", [out], format="float32")
        elif b.tensors[out].format != "float32":
            out = b.add("cast", "to_float32", [out], format="float32")
        return b.build([out], labels=labels, frontend=frontend)
    except ExportError:
        raise
    except ValueError as e:  # e.g. a multiplier out of range in quantize_multiplier
        raise ExportError(f"quantization failed: {e}") from e
    except ModelError as e:
        import re
        m = re.match(r"/graph/(\d+)", e.where or "")
        layer = ""
        if m and int(m.group(1)) < len(b.nodes):
            layer = f"layer {b.nodes[int(m.group(1))].name!r}: "
        raise ExportError(f"the exported model is invalid: {layer}{e}") from e
