"""Export a PyTorch module to a kwsnum Model (int8 or float32). Spec: docs/numerics.md, "Export from PyTorch".

Steps: ``torch.fx.symbolic_trace`` (eval mode) -> one pass over the fx graph that turns every
supported call into a *layer* (a future kwsnum node), folding BatchNorm into the preceding
conv/linear and fusing ReLU/ReLU6 into the producer's output clamp -> shape propagation with the
example input -> calibration (an fx Interpreter over the calibration data, recording the range of
every tensor that becomes a kwsnum tensor) -> quantization of every layer with kwsnum.quant ->
GraphBuilder.

The stages live in their own modules: kwsnum/export/classify.py (the fx graph to layers), calibrate.py (the
ranges), build.py (quantization and the kwsnum graph); layers.py holds what they share. This module holds the
entry point and the precision config. torch is imported lazily: ``import kwsnum.export`` works without torch.
"""
from ..errors import ExportError
from ..model import INTEGER, QFORMATS
from .build import build
from .calibrate import as_tensor, calibrate, parse_calibration
from .classify import classify
from .layers import fail, torch_module


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
    torch = torch_module()
    policy = _Precision(precision)
    from ..fixedpoint import ROUNDING_MODES, QROUNDING_MODES, OVERFLOW_MODES
    if rounding not in ROUNDING_MODES:
        raise ExportError(f"rounding must be one of {', '.join(ROUNDING_MODES)}, got {rounding!r}")
    if qround not in QROUNDING_MODES or qoverflow not in OVERFLOW_MODES:
        raise ExportError(f"qround must be one of {', '.join(QROUNDING_MODES)} and qoverflow one of "
                          f"{', '.join(OVERFLOW_MODES)}; got {qround!r}, {qoverflow!r}")
    policy.qmodes = dict(qround=qround, qoverflow=qoverflow)
    pct, calib_name = parse_calibration(calibration)
    if not isinstance(module, torch.nn.Module):
        raise ExportError(f"expected a torch.nn.Module, got {type(module).__name__}")
    calib = as_tensor(torch, calibration_data, "calibration_data")
    example = as_tensor(torch, example_input, "example_input")
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
        layers, out_layer = classify(torch, gm)

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
                raise fail(fxnode, "a non-tensor value", "expected a tensor")
            s = tuple(int(d) for d in tm.shape)
            if len(s) < 2 or s[0] != 2:
                raise fail(fxnode, "a layer", f"its output {s} does not keep the batch dimension first")
            return s[1:]

        for L in layers:
            policy.resolve(L)
        ranges = {}
        if policy.needs_calibration:
            wanted = [L.out for L in layers if L.kind not in ("reshape", "pad")]
            ranges = calibrate(torch, gm, wanted, calib, pct)
        model = build(layers, out_layer, shape_of, ranges, policy, rounding, labels,
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
