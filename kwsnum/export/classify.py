"""Export stage 1 (kwsnum/export/torch_export.py runs the stages): one pass over the torch.fx graph that turns
every supported call into a layer (kwsnum/export/layers.Layer, a future kwsnum node), folding BatchNorm into the
preceding conv / linear and fusing ReLU / ReLU6 into the producer's output clamp. Spec: docs/numerics.md, "Export
from PyTorch"."""
import operator

import numpy as np

from ..errors import ExportError
from .layers import SUPPORTED, Layer, fail, np64, tup


def classify(torch, gm):
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
            raise fail(n, _what(n), f"argument {i} is not a tensor produced by a supported layer")
        if a in padded and not allow_pad:
            raise fail(n, _what(n), "it consumes a zero pad: ZeroPad / ConstantPad(value 0) / F.pad are "
                                     "supported only directly before a Conv1d/Conv2d (folded into its padding)")
        if a in transposed and not allow_transpose:
            raise fail(n, _what(n), "it consumes a transpose: .transpose(-1, -2) / .permute(0, 2, 1) is supported "
                                     "only as an operand of a matmul (folded into its transpose flag)")
        if a in plus and not allow_plus:
            raise fail(n, _what(n), "it consumes `tensor + number`: adding a constant is supported only as the "
                                     "divisor of a division, a / (b + eps) (folded into its eps)")
        return value[a]

    def fold_one_user(n, what, why):
        if users(n) != 1:
            raise fail(n, what, f"{why} must have exactly one user")

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
            raise fail(n, what, f"pad {pad}: only non-negative (left, right[, top, bottom[, front, back]]) "
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
        L = Layer(kind, n, inputs, **params)
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
                raise fail(n, "a second model input", "only single-input models are supported")
            new("input", n, [])
        elif k == "output":
            a = n.args[0]
            if not isinstance(a, torch.fx.Node) or a not in value:
                raise fail(n, "the model output", "the module must return one tensor")
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
                    raise fail(n, what, f"padding_mode={m.padding_mode!r} (only 'zeros' is supported)")
                ks = tup(m.kernel_size, rank)
                dil = tup(m.dilation, rank)
                if isinstance(m.padding, str):
                    if m.padding == "valid":
                        pads = [(0, 0)] * rank
                    else:  # 'same': as PyTorch, left = total // 2, right = total - left
                        pads = []
                        for d, kk in zip(dil, ks):
                            total = d * (kk - 1)
                            pads.append((total // 2, total - total // 2))
                else:
                    pads = [(p, p) for p in tup(m.padding, rank)]
                a = n.args[0] if n.args else None
                if a in padded:   # fold a preceding zero pad: torch order is last dim first
                    extra = padded[a]
                    if len(extra) != 2 * rank:
                        raise fail(n, what, f"the zero pad before it pads {len(extra) // 2} dims, the conv has "
                                             f"{rank} spatial dims")
                    per_dim = [(extra[2 * j], extra[2 * j + 1]) for j in range(rank)][::-1]
                    pads = [(p0 + e0, p1 + e1) for (p0, p1), (e0, e1) in zip(pads, per_dim)]
                w = np64(m.weight)
                b = np64(m.bias) if m.bias is not None else np.zeros(w.shape[0])
                new(f"conv{rank}d", n, [tin(n, allow_pad=True)], weight=w, bias=b, stride=tup(m.stride, rank),
                    dilation=dil,
                    padding=tuple(p for pair in pads for p in pair), groups=int(m.groups))
            elif type(m) in (nn.ZeroPad1d, nn.ZeroPad2d, nn.ConstantPad1d, nn.ConstantPad2d):
                zero_pad(n, tup(m.padding, 2 if type(m) in (nn.ZeroPad1d, nn.ConstantPad1d) else 4), what,
                         float(m.value))
            elif type(m) is nn.Linear:
                w = np64(m.weight)
                b = np64(m.bias) if m.bias is not None else np.zeros(w.shape[0])
                new("linear", n, [tin(n)], weight=w, bias=b)
            elif type(m) in (nn.BatchNorm1d, nn.BatchNorm2d):
                src = tin(n)
                if m.running_mean is None or m.running_var is None:
                    raise fail(n, what, "BatchNorm without running statistics (track_running_stats=False) "
                                         "cannot be folded")
                if src.kind not in ("conv1d", "conv2d", "linear") or src.act is not None or src.folded or \
                        users(src.out) != 1:
                    why = ("its input is not produced by a Conv1d/Conv2d/Linear" if src.kind not in
                           ("conv1d", "conv2d", "linear") else
                           "an activation lies between it and the conv/linear" if src.act is not None else
                           "the conv/linear already has a folded BatchNorm" if src.folded else
                           "the conv/linear output has other users")
                    raise fail(n, what, f"BatchNorm cannot be folded: {why}")
                mean, var = np64(m.running_mean), np64(m.running_var)
                gamma = np64(m.weight) if m.weight is not None else np.ones_like(mean)
                beta = np64(m.bias) if m.bias is not None else np.zeros_like(mean)
                if mean.shape[0] != src.params["weight"].shape[0]:
                    raise fail(n, what, "BatchNorm channels do not match the conv/linear output channels")
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
                    raise fail(n, what, "ceil_mode=True is not supported")
                if rank == 2 and m.divisor_override is not None:
                    raise fail(n, what, "divisor_override is not supported")
                ks = tup(m.kernel_size, rank)
                st = tup(m.stride if m.stride is not None else m.kernel_size, rank)
                pads = tup(m.padding, rank)
                new("avgpool", n, [tin(n)], rank=rank, kernel=ks, stride=st,
                    padding=tuple(p for q in pads for p in (q, q)), count_include_pad=bool(m.count_include_pad))
            elif type(m) in (nn.MaxPool1d, nn.MaxPool2d):
                rank = 1 if type(m) is nn.MaxPool1d else 2
                if m.ceil_mode:
                    raise fail(n, what, "ceil_mode=True is not supported")
                if m.return_indices:
                    raise fail(n, what, "return_indices=True is not supported")
                ks = tup(m.kernel_size, rank)
                st = tup(m.stride if m.stride is not None else m.kernel_size, rank)
                pads = tup(m.padding, rank)
                new("maxpool", n, [tin(n)], rank=rank, kernel=ks, stride=st,
                    padding=tuple(p for q in pads for p in (q, q)), dilation=tup(m.dilation, rank))
            elif type(m) in (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d):
                rank = 1 if type(m) is nn.AdaptiveAvgPool1d else 2
                if tup(m.output_size, rank) != (1,) * rank:
                    raise fail(n, what, f"output_size={m.output_size!r} (only 1, global average pooling, "
                                         f"is supported)")
                new("gap", n, [tin(n)])
            elif type(m) is nn.Softmax:
                if not isinstance(m.dim, int):
                    raise fail(n, _what(n), "Softmax needs an explicit integer dim")
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
                    raise fail(n, what, f"normalized_shape {ns} (only the last 1 or 2 dims are supported)")
                gamma = np64(m.weight) if m.weight is not None else np.ones(ns)
                beta = np64(m.bias) if getattr(m, "bias", None) is not None else np.zeros(ns)
                new("layernorm", n, [tin(n)], axes=len(ns), eps=float(m.eps), gamma=gamma.reshape(ns),
                    beta=beta.reshape(ns), normalized_shape=ns)
            else:
                raise fail(n, what)
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
                    raise fail(n, what, "only the sum of two tensors (alpha=1) is supported")
                new("add", n, [tin(n, 0), tin(n, 1)])     # broadcasting: checked with the shapes (build)
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
                    raise fail(n, what, "only matmul(a, b) of two tensors is supported")
                a0, a1 = n.args
                new("matmul", n, [tin(n, 0, allow_transpose=True), tin(n, 1, allow_transpose=True)],
                    transpose_a=a0 in transposed, transpose_b=a1 in transposed)
            elif (k == "method" and t == "transpose") or (k == "function" and t is torch.transpose):
                dims = tuple(n.args[1:3]) if len(n.args) >= 3 else (n.kwargs.get("dim0"), n.kwargs.get("dim1"))
                if sorted(dims) not in ([1, 2], [-2, -1]):
                    raise fail(n, what, f"transpose{dims}: only the last two dims of a (N, rows, cols) tensor, "
                                         f"as a matmul operand")
                fold_one_user(n, what, "a transpose")
                value[n] = tin(n)
                transposed.add(n)
            elif k == "method" and t == "permute":
                dims = tuple(n.args[1:]) if len(n.args) > 2 else tuple(n.args[1]) if len(n.args) == 2 else ()
                if dims != (0, 2, 1):
                    raise fail(n, what, f"permute{dims}: only permute(0, 2, 1), as a matmul operand")
                fold_one_user(n, what, "a transpose")
                value[n] = tin(n)
                transposed.add(n)
            elif (k == "function" and t in (operator.truediv, torch.div, torch.true_divide)) or \
                    (k == "method" and t in ("div", "true_divide")):
                if len(n.args) != 2 or set(n.kwargs) - {"rounding_mode"} or n.kwargs.get("rounding_mode") is not None \
                        or not all(isinstance(a, torch.fx.Node) for a in n.args):
                    raise fail(n, what, "only the true division of two tensors is supported")
                d = n.args[1]
                new("div", n, [tin(n, 0), tin(n, 1, allow_plus=True)], eps=float(plus.get(d, 0.0)))
            elif (k == "function" and t is F.pad):
                pad = n.args[1] if len(n.args) > 1 else n.kwargs.get("pad")
                mode = n.args[2] if len(n.args) > 2 else n.kwargs.get("mode", "constant")
                val = n.args[3] if len(n.args) > 3 else n.kwargs.get("value", None)
                if mode != "constant" or not isinstance(pad, (tuple, list)) or \
                        not (val is None or (isinstance(val, (int, float)) and not isinstance(val, bool))):
                    raise fail(n, what, "only constant padding with a fixed pad tuple and value is supported")
                zero_pad(n, pad, what, float(val or 0.0))
            elif (k == "function" and t in (torch.sigmoid, F.sigmoid)) or (k == "method" and t == "sigmoid"):
                new("logistic", n, [tin(n)])
            elif (k == "function" and t in (torch.tanh, F.tanh)) or (k == "method" and t == "tanh"):
                new("tanh", n, [tin(n)])
            elif (k == "function" and t in (F.softmax, torch.softmax)) or (k == "method" and t == "softmax"):
                dim = n.args[1] if len(n.args) > 1 else n.kwargs.get("dim")
                if not isinstance(dim, int) or isinstance(dim, bool):
                    raise fail(n, what, "softmax needs an explicit integer dim")
                if n.kwargs.get("dtype") is not None or (k == "method" and len(n.args) > 2):
                    raise fail(n, what, "softmax with a dtype is not supported")
                new("softmax", n, [tin(n)], dim=int(dim))
            elif k == "function" and t is operator.getitem and n.args[0] in pieces:
                src, how = pieces[n.args[0]]
                i = n.args[1]
                if not isinstance(i, int) or isinstance(i, bool):
                    raise fail(n, what, "a piece of chunk / split is taken by an integer index")
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
                    raise fail(n, what, f"{name} needs a fixed positive {'count' if name == 'chunk' else 'size or list of sizes'} "
                                         f"and an integer dim")
                pieces[n] = (tin(n), (name, tuple(arg) if isinstance(arg, (list, tuple)) else int(arg), int(dim)))
            elif k == "function" and t in (torch.cat, torch.concat):
                seq = n.args[0] if n.args else n.kwargs.get("tensors")
                dim = n.args[1] if len(n.args) > 1 else n.kwargs.get("dim", 0)
                if not isinstance(seq, (list, tuple)) or not 1 <= len(seq) <= 4 or \
                        not isinstance(dim, int) or isinstance(dim, bool):
                    raise fail(n, what, "torch.cat of a list of 1 to 4 tensors along an integer dim is supported")
                srcs = []
                for a in seq:
                    if not isinstance(a, torch.fx.Node) or a not in value or a in padded or a in transposed or \
                            a in plus:
                        raise fail(n, what, "every concatenated value must be a tensor produced by a supported layer")
                    srcs.append(value[a])
                new("concat", n, srcs, dim=int(dim))
            elif (k == "method" and t == "narrow") or (k == "function" and t is torch.narrow):
                args = list(n.args[1:]) + [n.kwargs[a] for a in ("dim", "start", "length") if a in n.kwargs]
                if len(args) != 3 or not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
                    raise fail(n, what, "narrow needs integer dim, start and length")
                new("slice", n, [tin(n)], narrow=tuple(args))
            elif k == "method" and t in ("contiguous",):
                value[n] = tin(n)
            else:
                raise fail(n, what)
        else:
            raise fail(n, f"{n.op} {n.target!r}", f"unsupported fx node kind {n.op!r} (e.g. a parameter or "
                                                     f"buffer used directly in forward). Supported: {SUPPORTED}")
    if n_inputs != 1:
        raise ExportError("the module has no tensor input")
    if out_layer is None:
        raise ExportError("the module has no output")
    return layers, out_layer
