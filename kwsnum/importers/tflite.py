"""TFLite flatbuffer -> kwsnum model, with TFLM's integer semantics (docs/numerics.md section 11).

Every integer TFLM derives at Prepare time from the flatbuffer's floats (multipliers and shifts, activation
clamps, padding) is derived here the way TFLM derives it and stored in the kwsnum model; the weights and biases
are copied. What kwsnum cannot compute bit for bit is refused with a :class:`~kwsnum.errors.ModelImportError`
naming the operator index, its type and the reason; nothing is approximated.

Layout: TFLite activations are NHWC with a batch of 1; kwsnum's are PyTorch's NCHW without the batch. A rank-4
tensor (1, H, W, C) becomes (C, H, W), rank 3 (1, L, C) becomes (C, L), rank 2 (1, F) stays (F,). Weights are
re-laid out (CONV_2D OHWI -> OIHW, DEPTHWISE_CONV_2D 1HWO -> O1HW). RESHAPE-like ops are imported only where
both layouts give the same element order; the model's meta records each kwsnum tensor's TFLite tensor index and
axis permutation (``tflite_tensors``), which ``kwsnum verify --tflm`` uses to compare tensors.
"""
import json
import os
import re

import numpy as np

from ..errors import KwsnumError, ModelError, ModelImportError
from ..model import Model, Node, TensorSpec
from ..quant import act_clamp_int8, act_clamp_int16, quantize_multiplier

_fb = None


def schema():
    """The TFLite schema module (flatbuffers object API) shipped with tflite-micro."""
    global _fb
    if _fb is None:
        try:
            from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb
        except ImportError:
            raise ModelImportError("importing .tflite models needs the tflite-micro package "
                                   "(pip install 'kwsnum[tflite]')") from None
        _fb = fb
    return _fb


SUPPORTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD",
             "RESHAPE", "SQUEEZE", "EXPAND_DIMS", "QUANTIZE", "DEQUANTIZE", "SOFTMAX",
             "LOGISTIC", "MEAN", "CONCATENATION", "PAD", "PADV2",
             "STRIDED_SLICE", "TANH", "TRANSPOSE", "SPLIT", "SPLIT_V",
             "MUL")
NOT_YET = {  # known TFLite ops kwsnum has no exact kernel for yet: the reason is part of the error
    "VAR_HANDLE": "stateful models (resource variables) need kwsnum's streaming state, which does not exist yet",
    "READ_VARIABLE": "stateful models (resource variables) need kwsnum's streaming state, which does not exist yet",
    "ASSIGN_VARIABLE": "stateful models (resource variables) need kwsnum's streaming state, which does not exist yet",
    "CALL_ONCE": "stateful models (resource variables) need kwsnum's streaming state, which does not exist yet",
}
FORMAT_OF = {"INT8": "int8", "INT16": "int16", "FLOAT32": "float32"}
PERM = {4: (2, 0, 1), 3: (1, 0), 2: (0,), 1: ()}   # kwsnum axis i = TFLite axis 1 + PERM[rank][i]


def _names(enum_cls):
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_")}


class _Ctx:
    """The state of one import: the parsed flatbuffer, the kwsnum tensors and nodes built so far."""

    def __init__(self, data, fb, where_file):
        self.data, self.fb, self.file = data, fb, where_file
        self.op_names = _names(fb.BuiltinOperator)
        self.type_names = _names(fb.TensorType)
        self.tensors, self.nodes, self.kw = {}, [], {}     # kw: TFLite tensor index -> kwsnum tensor name
        self.origin = {}                                    # kwsnum tensor name -> (TFLite index, perm)
        self.where = None
        self._used = set()

    # ------------------------------------------------------------------ errors
    def fail(self, message, where=None):
        raise ModelImportError(message, where=where or self.where, file=self.file)


def from_tflite(source, labels=None, name=None):
    """Import a .tflite model (a path or its bytes). ``labels``: a list of class names (one per output element)."""
    fb = schema()
    file = None
    if isinstance(source, (str, os.PathLike)):
        file = os.fspath(source)
        try:
            with open(file, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ModelImportError(f"cannot read: {e.strerror or e}", file=file) from None
        name = name or os.path.splitext(os.path.basename(file))[0]
    else:
        data = bytes(source)
    ctx = _Ctx(data, fb, file)
    m = _parse(ctx)
    sg = m.subgraphs[0]
    for i in list(sg.inputs):
        _activation(ctx, sg, m, i, is_input=True)
    inputs = [ctx.kw[i] for i in sg.inputs]
    for k, op in enumerate(sg.operators or []):
        _operator(ctx, m, sg, k, op)
    ctx.where = None
    outputs = []
    for i in sg.outputs:
        if i not in ctx.kw:
            ctx.fail(f"model output tensor {i} is not produced by any operator", where="/subgraphs/0/outputs")
        outputs.append(ctx.kw[i])
    meta = dict(source="tflite", tflite_tensors=json.dumps({k: [int(v[0]), list(v[1])] for k, v in
                                                           ctx.origin.items()}),
                tflite_description=_text(m.description) or "")
    try:
        return Model(list(ctx.tensors.values()), ctx.nodes, inputs, outputs, labels=labels, rounding="double",
                     name=name or "tflite_model", meta=meta)
    except ModelError as e:
        raise ModelImportError(e.message, where=e.where, file=file) from None


# ---------------------------------------------------------------------------------------------- flatbuffer level
def _text(v):
    if v is None:
        return None
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _parse(ctx):
    data, fb = ctx.data, ctx.fb
    if len(data) < 8:
        ctx.fail(f"not a TFLite flatbuffer: {len(data)} bytes")
    if data[4:8] != b"TFL3":
        ctx.fail("not a TFLite flatbuffer (no 'TFL3' file identifier at byte 4)")
    root = int.from_bytes(data[0:4], "little")
    if root < 8 or root + 4 > len(data):
        ctx.fail(f"truncated or corrupted flatbuffer: root table offset {root} outside the {len(data)}-byte file")
    try:
        m = fb.ModelT.InitFromObj(fb.Model.GetRootAs(data, 0))
    except Exception as e:   # the flatbuffers runtime raises whatever an out-of-range offset produces
        ctx.fail(f"truncated or corrupted flatbuffer ({type(e).__name__}: {e})")
    if m.version != 3:
        ctx.fail(f"schema version {m.version} (kwsnum reads version 3)")
    if not m.subgraphs:
        ctx.fail("the model has no subgraph")
    if len(m.subgraphs) > 1:
        ctx.fail(f"{len(m.subgraphs)} subgraphs (control flow, or a CALL_ONCE initialization of state variables): "
                 f"kwsnum imports single-subgraph models; stateful models need streaming state, which kwsnum "
                 f"does not have yet", where="/subgraphs")
    sg = m.subgraphs[0]
    nt = len(sg.tensors or [])
    nb = len(m.buffers or [])
    for k, t in enumerate(sg.tensors or []):
        if not 0 <= t.buffer < max(nb, 1):
            ctx.fail(f"buffer index {t.buffer} out of range (the model has {nb} buffers)", where=f"tensor {k}")
    for k, op in enumerate(sg.operators or []):
        if not 0 <= op.opcodeIndex < len(m.operatorCodes or []):
            ctx.fail(f"opcode index {op.opcodeIndex} out of range", where=f"operator {k}")
        for i in list(op.inputs if op.inputs is not None else []) + list(op.outputs if op.outputs is not None
                                                                           else []):
            if not -1 <= int(i) < nt:
                ctx.fail(f"tensor index {int(i)} out of range (the subgraph has {nt} tensors)",
                         where=f"operator {k}")
    for i in list(sg.inputs if sg.inputs is not None else []) + list(sg.outputs if sg.outputs is not None else []):
        if not 0 <= int(i) < nt:
            ctx.fail(f"subgraph input/output tensor index {int(i)} out of range ({nt} tensors)",
                     where="/subgraphs/0")
    if sg.inputs is None or len(sg.inputs) == 0 or sg.outputs is None or len(sg.outputs) == 0:
        ctx.fail("the subgraph declares no inputs or no outputs", where="/subgraphs/0")
    return m


def _opcode(ctx, m, op):
    c = m.operatorCodes[op.opcodeIndex]
    code = max(int(c.builtinCode), int(c.deprecatedBuiltinCode))
    if code == ctx.fb.BuiltinOperator.CUSTOM:
        return f"CUSTOM:{_text(c.customCode)}"
    return ctx.op_names.get(code, f"builtin operator {code}")


def _buffer(ctx, m, t, k):
    """The constant data of tensor t (index k) as bytes, or None for an activation."""
    buf = m.buffers[t.buffer] if t.buffer < len(m.buffers or []) else None
    if buf is None:
        return None
    if buf.data is not None and len(buf.data):
        return np.asarray(buf.data, dtype=np.uint8).tobytes()
    if buf.offset and buf.offset > 1:
        end = int(buf.offset) + int(buf.size)
        if end > len(ctx.data):
            ctx.fail(f"buffer {t.buffer}: offset {buf.offset} + size {buf.size} lies outside the "
                     f"{len(ctx.data)}-byte file", where=f"tensor {k}")
        return ctx.data[int(buf.offset):end]
    return None


def _const(ctx, m, sg, k, dtype_names=("INT8",)):
    """(array in TFLite layout, TensorT) of constant tensor k."""
    t = sg.tensors[k]
    tname = ctx.type_names.get(t.type, str(t.type))
    raw = _buffer(ctx, m, t, k)
    if raw is None:
        ctx.fail(f"input tensor {k} ({_text(t.name)}) must be a constant (its buffer holds no data)")
    if tname not in dtype_names:
        ctx.fail(f"constant tensor {k} ({_text(t.name)}) is {tname}, expected {' or '.join(dtype_names)}")
    dt = np.dtype({"INT8": np.int8, "INT16": np.int16, "INT32": np.int32, "INT64": np.int64,
                   "FLOAT32": np.float32}[tname]).newbyteorder("<")
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    need = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
    if len(raw) != need:
        ctx.fail(f"constant tensor {k} ({_text(t.name)}): buffer holds {len(raw)} bytes, shape {shape} {tname} "
                 f"needs {need}")
    return np.frombuffer(raw, dtype=dt).astype(dt.newbyteorder("=")).reshape(shape), t


def _quant(t):
    q = t.quantization
    if q is None or q.scale is None or len(q.scale) == 0:
        return None, None, 0
    scales = np.asarray(q.scale, dtype=np.float32)
    zps = np.asarray(q.zeroPoint if q.zeroPoint is not None else np.zeros(len(scales)), dtype=np.int64)
    return scales, zps, int(q.quantizedDimension)


# ---------------------------------------------------------------------------------------------- tensors
def _kw_name(ctx, t, k):
    base = re.sub(r"[^A-Za-z0-9_.]", "_", _text(t.name) or "") or f"t{k}"
    base = base[-60:]
    name, i = base, 1
    while name in ctx._used:
        i += 1
        name = f"{base}_{i}"
    ctx._used.add(name)
    return name


def _activation(ctx, sg, m, k, is_input=False, fmt_override=None):
    """Declare TFLite activation tensor k as a kwsnum tensor (once); returns its name."""
    if k in ctx.kw:
        return ctx.kw[k]
    t = sg.tensors[k]
    where = ctx.where or f"tensor {k} ({_text(t.name)})"
    shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
    if _buffer(ctx, m, t, k) is not None and is_input:
        ctx.fail(f"tensor {k} is a model input but holds constant data", where=where)
    if len(shape) not in PERM or len(shape) < 2:
        ctx.fail(f"tensor {k} ({_text(t.name)}) has shape {shape}: kwsnum imports activations of rank 2 to 4 "
                 f"with a batch of 1", where=where)
    if shape[0] != 1:
        ctx.fail(f"tensor {k} ({_text(t.name)}) has batch {shape[0]}: kwsnum imports batch-1 models", where=where)
    if any(d < 1 for d in shape):
        ctx.fail(f"tensor {k} ({_text(t.name)}) has shape {shape} (dynamic or empty dimensions)", where=where)
    tname = ctx.type_names.get(t.type, str(t.type))
    fmt = FORMAT_OF.get(tname)
    if fmt is None:
        why = " (asymmetric uint8 tensors are not a kwsnum format yet)" if tname == "UINT8" else ""
        ctx.fail(f"tensor {k} ({_text(t.name)}) is {tname}: kwsnum imports int8, int16 and float32 edges{why}",
                 where=where)
    scale = zp = None
    if fmt in ("int8", "int16"):
        scales, zps, _ = _quant(t)
        if scales is None:
            ctx.fail(f"tensor {k} ({_text(t.name)}) is {tname} without quantization parameters", where=where)
        if len(scales) != 1:
            ctx.fail(f"activation tensor {k} ({_text(t.name)}) has {len(scales)} scales (per-channel activations "
                     f"are not TFLite int8 semantics)", where=where)
        scale, zp = float(scales[0]), int(zps[0])
        if not np.isfinite(scale) or scale <= 0:
            ctx.fail(f"tensor {k} ({_text(t.name)}) has scale {scale}", where=where)
        if fmt == "int16" and zp != 0:
            ctx.fail(f"int16 tensor {k} ({_text(t.name)}) has zero point {zp} (TFLite 16x8 is symmetric)",
                     where=where)
    perm = PERM[len(shape)]
    kshape = tuple(shape[1 + p] for p in perm)
    name = _kw_name(ctx, t, k)
    ctx.tensors[name] = TensorSpec(name, kshape, fmt, scale, zp)
    ctx.kw[k] = name
    ctx.origin[name] = (k, perm)
    return name


def _spec(ctx, k):
    return ctx.tensors[ctx.kw[k]]


def _tfl_shape(sg, k):
    return tuple(int(d) for d in sg.tensors[k].shape)


def _same_order(shape_a, shape_b):
    """Does reshaping TFLite tensor shape_a to shape_b (row-major, NHWC) move the elements as the kwsnum reshape
    of their mapped shapes (row-major, NCHW) does?"""
    def kw_flat_index(shape):
        perm = PERM[len(shape)]
        idx = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)[0]   # TFLite flat index per element
        return idx.transpose(perm).reshape(-1) if perm else idx.reshape(-1)      # ... in kwsnum order
    return np.array_equal(kw_flat_index(shape_a), kw_flat_index(shape_b))


# ---------------------------------------------------------------------------------------------- operators
ACT = {"NONE": None, "RELU": "relu", "RELU6": "relu6", "RELU_N1_TO_1": "relu_n1_to_1"}


def _clamp(ctx, opts, out):
    names = _names(ctx.fb.ActivationFunctionType)
    a = names.get(int(getattr(opts, "fusedActivationFunction", 0) or 0), "?")
    if a not in ACT:
        ctx.fail(f"fused activation {a} is not supported (NONE, RELU, RELU6, RELU_N1_TO_1)")
    if out.format == "int16":
        if a == "RELU_N1_TO_1":
            return act_clamp_int8("relu_n1_to_1", out.scale, 0, -32768, 32767)
        return act_clamp_int16(ACT[a], out.scale)
    return act_clamp_int8(ACT[a], out.scale, out.zero_point)


def _padding(ctx, opts, n, k, s, d):
    """TFLite ComputePaddingHeightWidth on one axis: (output size, pad before, pad after)."""
    pad_names = _names(ctx.fb.Padding)
    p = pad_names.get(int(opts.padding), "?")
    dk = (k - 1) * d + 1
    if p == "SAME":
        out = (n + s - 1) // s
    elif p == "VALID":
        out = (n - dk + s) // s
    else:
        ctx.fail(f"padding {p} is not supported (SAME, VALID)")
    if out < 1:
        ctx.fail(f"{p} padding of an input of {n} with a kernel of {k} (dilation {d}) leaves no output")
    total = max((out - 1) * s + dk - n, 0)
    return out, total // 2, total - total // 2


def _check_out_shape(ctx, sg, k_out, kshape):
    spec = _spec(ctx, k_out)
    if tuple(spec.shape) != tuple(kshape):
        ctx.fail(f"output tensor {k_out} has shape {_tfl_shape(sg, k_out)}, but the operator computes "
                 f"{tuple(kshape)} (kwsnum layout)")


def _add_node(ctx, op, name, inputs, outputs, attrs, arrays=None):
    from .. import ops
    node = Node(op, name, list(inputs), list(outputs), attrs, dict(arrays or {}), index=len(ctx.nodes))
    opdef = ops.get(op, node)
    view = type("View", (), {})()
    view.tensors, view.rounding = ctx.tensors, "double"
    shape = tuple(int(d) for d in opdef.output_shapes(node, [ctx.tensors[t].shape for t in inputs])[0])
    if shape != tuple(ctx.tensors[outputs[0]].shape):
        ctx.fail(f"kwsnum's {op} computes shape {shape}, the model declares {tuple(ctx.tensors[outputs[0]].shape)}")
    try:
        opdef.validate(node, view)
    except KwsnumError as e:
        ctx.fail(f"cannot be represented exactly as kwsnum {op}: {e.message}")
    ctx.nodes.append(node)
    return node


def _weights(ctx, m, sg, k, axis, n_out):
    """Symmetric int8 weights of constant tensor k and their per-channel scales along ``axis`` (length n_out)."""
    w, t = _const(ctx, m, sg, k, ("INT8",))
    scales, zps, qdim = _quant(t)
    if scales is None:
        ctx.fail(f"weight tensor {k} has no quantization parameters (a float or hybrid model)")
    if np.any(zps != 0):
        ctx.fail(f"weight tensor {k} has nonzero zero points (kwsnum's int8 weights are symmetric)")
    if len(scales) == 1:
        per_channel = False
        scales = np.repeat(scales, n_out)
    else:
        per_channel = True
        if qdim != axis or len(scales) != n_out:
            ctx.fail(f"weight tensor {k}: {len(scales)} scales along dimension {qdim}, expected {n_out} along "
                     f"dimension {axis}")
    if np.any(w == -128):
        ctx.fail(f"weight tensor {k} holds -128: kwsnum's int8 weights are symmetric, in [-127, 127]")
    return w, scales, per_channel


def _bias(ctx, m, sg, op, n_out, fmt):
    if len(op.inputs) < 3 or int(op.inputs[2]) < 0:
        return np.zeros(n_out, np.int64 if fmt == "int16" else np.int32)
    b, _ = _const(ctx, m, sg, int(op.inputs[2]), ("INT32", "INT64") if fmt == "int16" else ("INT32",))
    if b.shape != (n_out,):
        ctx.fail(f"bias shape {b.shape} does not match {n_out} output channels")
    return b.astype(np.int64 if fmt == "int16" else np.int32)


def _multipliers(ctx, reals):
    try:
        ms, ss = zip(*(quantize_multiplier(float(r)) for r in reals))
    except ValueError as e:
        ctx.fail(f"requantization multiplier: {e}")
    return np.array(ms, np.int32), np.array(ss, np.int32)


def _io(ctx, sg, m, op, n_in):
    ins = [int(i) for i in op.inputs]
    outs = [int(i) for i in op.outputs]
    if len(outs) != 1:
        ctx.fail(f"{len(outs)} outputs (kwsnum imports single-output operators)")
    x = [_activation(ctx, sg, m, i) if i in ctx.kw else None for i in ins[:n_in]]
    for i, name in zip(ins[:n_in], x):
        if name is None:
            t = sg.tensors[i]
            if _buffer(ctx, m, t, i) is not None:
                ctx.fail(f"input tensor {i} ({_text(t.name)}) is a constant: kwsnum ops take activations there")
            ctx.fail(f"input tensor {i} ({_text(t.name)}) is neither a model input nor an earlier output")
    y = _activation(ctx, sg, m, outs[0])
    return ins, x, outs[0], y


def _integer_formats(ctx, specs, allowed=("int8", "int16")):
    fmts = {s.format for s in specs}
    if "float32" in fmts:
        ctx.fail("a float32 operator: kwsnum imports integer models (int8, int16x8); float32 is accepted only at "
                 "the edges (QUANTIZE from, DEQUANTIZE to)")
    if len(fmts) != 1 or not fmts <= set(allowed):
        ctx.fail(f"tensor formats {sorted(fmts)}: expected one of {', '.join(allowed)} throughout")
    return fmts.pop()


def _conv(ctx, m, sg, k, op, depthwise):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    fmt = _integer_formats(ctx, (xs, ys))
    if len(xs.shape) != 3:
        ctx.fail(f"input must be NHWC (rank 4), got {_tfl_shape(sg, ins[0])}")
    C, H, W = xs.shape
    o = op.builtinOptions
    wshape = _tfl_shape(sg, ins[1])
    if len(wshape) != 4:
        ctx.fail(f"filter shape {wshape} is not rank 4")
    if depthwise:
        _, KH, KW, O = wshape
        mult = int(o.depthMultiplier)
        if O % C or (mult and O != C * mult):
            ctx.fail(f"filter has {O} output channels for {C} input channels and depth_multiplier {mult}")
        w, s_w, per_channel = _weights(ctx, m, sg, ins[1], 3, O)
        if w.shape[0] != 1:
            ctx.fail(f"depthwise filter shape {w.shape} must start with 1")
        weight = np.ascontiguousarray(w[0].transpose(2, 0, 1)[:, None])     # (O, 1, KH, KW)
        groups = C
    else:
        O, KH, KW, I = wshape
        if C % I:
            ctx.fail(f"filter input depth {I} does not divide the input's {C} channels")
        w, s_w, per_channel = _weights(ctx, m, sg, ins[1], 0, O)
        weight = np.ascontiguousarray(w.transpose(0, 3, 1, 2))                # (O, I, KH, KW)
        groups = C // I
    sh, sw = int(o.strideH), int(o.strideW)
    dh, dw = int(o.dilationHFactor or 1), int(o.dilationWFactor or 1)
    if min(sh, sw, dh, dw) < 1:
        ctx.fail(f"strides ({sh}, {sw}) and dilations ({dh}, {dw}) must be >= 1")
    OH, pt, pb = _padding(ctx, o, H, KH, sh, dh)
    OW, pl, pr = _padding(ctx, o, W, KW, sw, dw)
    _check_out_shape(ctx, sg, ko, (O, OH, OW))
    bias = _bias(ctx, m, sg, op, O, fmt)
    # TFLM PopulateConvolutionQuantizationParams: double(s_in) * double(s_w[c]) / double(s_out), per channel
    reals = [float(np.float32(xs.scale)) * float(s) / float(np.float32(ys.scale)) for s in s_w]
    mult_, shift = _multipliers(ctx, reals)
    lo, hi = _clamp(ctx, o, ys)
    _add_node(ctx, "conv2d", f"op{k}_{'depthwise' if depthwise else 'conv'}", [x], [y],
              dict(stride=(sh, sw), dilation=(dh, dw), padding=(pt, pb, pl, pr), groups=groups, act_min=lo,
                   act_max=hi),
              dict(weight=weight, bias=bias, multiplier=mult_, shift=shift))


def _new_tensor(ctx, base, shape, like):
    name = base
    while name in ctx.tensors:
        name += "_"
    ctx.tensors[name] = TensorSpec(name, tuple(int(d) for d in shape), like.format, like.scale, like.zero_point)
    return name


def _permute(ctx, k, x, perm, out=None, what="transpose"):
    """x with its axes permuted (output axis i = input axis perm[i]) into ``out`` (or a new tensor): a reshape
    where the permutation keeps the element order (it moves only size-1 axes), else a kwsnum transpose."""
    xs = ctx.tensors[x]
    shape = tuple(xs.shape[i] for i in perm)
    if out is None:
        out = _new_tensor(ctx, f"{x}_{what}", shape, xs)
    moved = [i for i in perm if xs.shape[i] > 1]
    if moved == sorted(moved):
        _add_node(ctx, "reshape", f"op{k}_{what}", [x], [out], dict(shape=shape))
    else:
        _add_node(ctx, "transpose", f"op{k}_{what}", [x], [out], dict(perm=tuple(int(i) for i in perm)))
    return out


def _to_tflite_order(ctx, k, x, rank):
    """x (kwsnum layout of a rank-``rank`` TFLite tensor) in TFLite's per-sample axis order."""
    perm = PERM[rank]
    if perm == tuple(range(len(perm))):
        return x
    return _permute(ctx, k, x, tuple(int(i) for i in np.argsort(perm)), what="nhwc")


def _reshape_via_tflite_order(ctx, k, x, in_rank, out_tfl_shape, y=None):
    """TFLite's row-major RESHAPE of x to out_tfl_shape, for any layouts: x to TFLite's order, a reshape, then
    to kwsnum's order of the result (into y, or a new tensor)."""
    xs = ctx.tensors[x]
    t = _to_tflite_order(ctx, k, x, in_rank)
    out_rank = len(out_tfl_shape)
    perm = PERM[out_rank]
    tfl = tuple(int(d) for d in out_tfl_shape[1:])
    if perm == tuple(range(len(perm))):
        if y is None:
            y = _new_tensor(ctx, f"{x}_reshaped", tfl, xs)
        _add_node(ctx, "reshape", f"op{k}_reshape", [t], [y], dict(shape=tfl))
        return y
    r = _new_tensor(ctx, f"{x}_reshaped_nhwc", tfl, xs)
    _add_node(ctx, "reshape", f"op{k}_reshape", [t], [r], dict(shape=tfl))
    return _permute(ctx, k, r, perm, out=y, what="nchw")


def _flatten_to(ctx, sg, m, k, k_in, x, F):
    """x as a (F,) kwsnum tensor: itself, or a reshape node when the two layouts agree on the element order."""
    xs = ctx.tensors[x]
    if tuple(xs.shape) == (F,):
        return x
    if xs.size != F:
        ctx.fail(f"input of {xs.size} elements does not match the filter's {F} input features (batch 1 only)")
    if not _same_order(_tfl_shape(sg, k_in), (1, F)):       # TFLite flattens in NHWC order
        return _reshape_via_tflite_order(ctx, k, x, len(_tfl_shape(sg, k_in)), (1, F))
    name = f"{x}_flat"
    while name in ctx.tensors:
        name += "_"
    ctx.tensors[name] = TensorSpec(name, (F,), xs.format, xs.scale, xs.zero_point)
    _add_node(ctx, "reshape", f"op{k}_flatten", [x], [name], dict(shape=(F,)))
    return name


def _fully_connected(ctx, m, sg, k, op):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    fmt = _integer_formats(ctx, (xs, ys))
    o = op.builtinOptions
    if o is not None and int(o.weightsFormat) != 0:
        ctx.fail("shuffled weights formats are not supported (DEFAULT only)")
    wshape = _tfl_shape(sg, ins[1])
    if len(wshape) != 2:
        ctx.fail(f"filter shape {wshape} is not (units, features)")
    O, F = wshape
    w, s_w, per_channel = _weights(ctx, m, sg, ins[1], 0, O)
    if tuple(ys.shape) != (O,):
        ctx.fail(f"output tensor {ko} has shape {_tfl_shape(sg, ko)}, expected (1, {O})")
    x = _flatten_to(ctx, sg, m, k, ins[0], x, F)
    bias = _bias(ctx, m, sg, op, O, fmt)
    si, so = float(np.float32(xs.scale)), float(np.float32(ys.scale))
    # TFLM CalculateOpDataFullyConnected: double(s_in) * double(s_w) / double(s_out), per channel and per tensor
    # alike (measured against the pinned tflite-micro: a float32 product s_in * s_w gives other outputs,
    # tests/test_tflite_import.py::test_fully_connected_per_tensor_multiplier_is_double)
    reals = [si * float(s) / so for s in s_w]
    mult_, shift = _multipliers(ctx, reals)
    lo, hi = _clamp(ctx, o, ys)
    _add_node(ctx, "linear", f"op{k}_fc", [x], [y], dict(act_min=lo, act_max=hi),
              dict(weight=np.ascontiguousarray(w), bias=bias, multiplier=mult_, shift=shift))


def _pool(ctx, m, sg, k, op, kind):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    _integer_formats(ctx, (xs, ys))
    if len(xs.shape) != 3:
        ctx.fail(f"input must be NHWC (rank 4), got {_tfl_shape(sg, ins[0])}")
    if (xs.scale, xs.zero_point) != (ys.scale, ys.zero_point):
        ctx.fail(f"output quantization {ys.describe()} differs from the input's {xs.describe()}: TFLM's pooling "
                 f"does not requantize, kwsnum's pooling needs them equal")
    o = op.builtinOptions
    C, H, W = xs.shape
    kh, kw, sh, sw = int(o.filterHeight), int(o.filterWidth), int(o.strideH), int(o.strideW)
    if min(kh, kw, sh, sw) < 1:
        ctx.fail(f"filter ({kh}, {kw}) and strides ({sh}, {sw}) must be >= 1")
    OH, pt, pb = _padding(ctx, o, H, kh, sh, 1)
    OW, pl, pr = _padding(ctx, o, W, kw, sw, 1)
    _check_out_shape(ctx, sg, ko, (C, OH, OW))
    lo, hi = _clamp(ctx, o, ys)
    attrs = dict(kernel=(kh, kw), stride=(sh, sw), padding=(pt, pb, pl, pr), act_min=lo, act_max=hi)
    if kind == "avg":
        attrs["count_include_pad"] = False     # TFLM divides by the number of valid taps
    _add_node(ctx, f"{kind}pool2d", f"op{k}_{kind}pool", [x], [y], attrs)


def _add(ctx, m, sg, k, op):
    from ..ops.add import add_params, LEFT_SHIFT, LEFT_SHIFT_INT16
    ins, (a, b), ko, y = _io(ctx, sg, m, op, 2)
    sa, sb, ys = ctx.tensors[a], ctx.tensors[b], ctx.tensors[y]
    fmt = _integer_formats(ctx, (sa, sb, ys))
    if _tfl_shape(sg, ins[0]) != _tfl_shape(sg, ins[1]) or tuple(sa.shape) != tuple(ys.shape):
        ctx.fail(f"broadcasting ADD ({_tfl_shape(sg, ins[0])} + {_tfl_shape(sg, ins[1])}) is not supported yet")
    try:   # TFLM CalculateOpDataAdd: left shift 20 (int8) / 15 (int16), multipliers in double
        p = add_params(sa.scale, sb.scale, ys.scale, LEFT_SHIFT_INT16 if fmt == "int16" else LEFT_SHIFT)
    except ValueError as e:
        ctx.fail(f"requantization multiplier: {e}")
    if p["out_shift"] > 0:
        ctx.fail("the output multiplier is >= 1, which TFLM's ADD refuses (QuantizeMultiplierSmallerThanOneExp)")
    lo, hi = _clamp(ctx, op.builtinOptions, ys)
    _add_node(ctx, "add", f"op{k}_add", [a, b], [y], dict(p, act_min=lo, act_max=hi))


def _reshape(ctx, m, sg, k, op, opname):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    if xs.format != ys.format or (xs.scale, xs.zero_point) != (ys.scale, ys.zero_point):
        ctx.fail(f"{opname} changes the quantization ({xs.describe()} -> {ys.describe()})")
    if xs.size != ys.size:
        ctx.fail(f"{opname} from {xs.size} to {ys.size} elements")
    if not _same_order(_tfl_shape(sg, ins[0]), _tfl_shape(sg, ko)):   # NHWC order: transposes around it
        _reshape_via_tflite_order(ctx, k, x, len(_tfl_shape(sg, ins[0])), _tfl_shape(sg, ko), y)
        return
    _add_node(ctx, "reshape", f"op{k}_reshape", [x], [y], dict(shape=tuple(ys.shape)))


def _quantize(ctx, m, sg, k, op):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    if ys.format not in ("int8", "int16"):
        ctx.fail(f"QUANTIZE to {ys.format} is not supported (int8, int16)")
    if xs.format == "float32":
        _add_node(ctx, "quantize", f"op{k}_quantize", [x], [y], {})
        return
    # TFLM PrepareQuantizeReference: QuantizeMultiplier(double(s_in) / double(s_out)), then Requantize
    mult_, shift = _multipliers(ctx, [float(np.float32(xs.scale)) / float(np.float32(ys.scale))])
    _add_node(ctx, "requantize", f"op{k}_requantize", [x], [y], dict(multiplier=int(mult_[0]), shift=int(shift[0])))


def _dequantize(ctx, m, sg, k, op):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    if xs.format not in ("int8", "int16") or ys.format != "float32":
        ctx.fail(f"DEQUANTIZE {xs.format} -> {ys.format} is not supported (int8 or int16 to float32)")
    _add_node(ctx, "dequantize", f"op{k}_dequantize", [x], [y], {})


def _softmax(ctx, m, sg, k, op):
    from ..ops.softmax import softmax_params
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    if xs.format != "int8" or ys.format != "int8":
        ctx.fail(f"SOFTMAX {xs.format} -> {ys.format}: kwsnum implements TFLM's int8 -> int8 softmax only (int16 "
                 f"uses TFLM's lookup tables, int8 -> int16 a zero point of -32768)")
    beta = float(op.builtinOptions.beta) if op.builtinOptions is not None else 1.0
    try:
        p = softmax_params(beta, xs.scale)
    except ValueError as e:
        ctx.fail(str(e))
    rank = len(_tfl_shape(sg, ins[0]))
    axis = PERM[rank].index(rank - 2)             # TFLite's last axis, in kwsnum's layout
    _add_node(ctx, "softmax", f"op{k}_softmax", [x], [y], dict(axis=axis, **p))


def _logistic(ctx, m, sg, k, op):
    from ..ops.logistic import logistic_params
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    if xs.format != "int8" or ys.format != "int8":
        ctx.fail(f"LOGISTIC {xs.format} -> {ys.format}: kwsnum implements TFLM's int8 logistic only (int16 uses "
                 f"TFLM's lookup tables)")
    try:
        p = logistic_params(xs.scale)
    except ValueError as e:
        ctx.fail(str(e))
    _add_node(ctx, "logistic", f"op{k}_logistic", [x], [y], p)


def _mean(ctx, m, sg, k, op):
    """MEAN over H and W of an NHWC tensor: kwsnum's global_avgpool (sum of q - zp_in, one requantization, + zp_out)
    with TFLM's integers: (M, s) = QM(s_in / s_out), then 1 / count folded in as TFLM's QuantizedMeanOrSum does."""
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    fmt = _integer_formats(ctx, (xs, ys))
    if len(ins) < 2:
        ctx.fail("MEAN needs an axis tensor")
    axes, _ = _const(ctx, m, sg, ins[1], ("INT32",))
    rank = len(_tfl_shape(sg, ins[0]))
    axes = sorted({int(a) % rank for a in axes.reshape(-1)})
    if rank != 4 or axes != [1, 2]:
        ctx.fail(f"MEAN over axes {axes} of a rank-{rank} tensor: kwsnum imports the mean over H and W of an NHWC "
                 f"tensor only")
    C, H, W = xs.shape
    count = H * W
    mult, shift = quantize_multiplier(float(np.float32(xs.scale)) / float(np.float32(ys.scale)))
    n = min(count.bit_length() - 1, 32, 31 + shift)
    mult, shift = (mult << n) // count, shift - n
    qmin, qmax = (-32768, 32767) if fmt == "int16" else (-128, 127)
    keep = bool(getattr(op.builtinOptions, "keepDims", False))
    if keep:
        out = y
    else:
        if tuple(ys.shape) != (C,):
            ctx.fail(f"output shape {_tfl_shape(sg, ko)} does not match (1, {C})")
        out = f"{y}_keepdims"
        while out in ctx.tensors:
            out += "_"
        ctx.tensors[out] = TensorSpec(out, (C, 1, 1), ys.format, ys.scale, ys.zero_point)
    _add_node(ctx, "global_avgpool", f"op{k}_mean", [x], [out], dict(multiplier=int(mult), shift=int(shift),
                                                                     act_min=qmin, act_max=qmax))
    if not keep:
        _add_node(ctx, "reshape", f"op{k}_mean_flatten", [out], [y], dict(shape=(C,)))


def _concatenation(ctx, m, sg, k, op):
    from ..ops.concat import MAX_INPUTS
    n = len(op.inputs)
    if not 1 <= n <= MAX_INPUTS:
        ctx.fail(f"{n} inputs: kwsnum's concat takes 1 to {MAX_INPUTS}")
    ins, xs, ko, y = _io(ctx, sg, m, op, n)
    ys = ctx.tensors[y]
    for i, x in zip(ins, xs):
        s = ctx.tensors[x]
        if (s.format, s.scale, s.zero_point) != (ys.format, ys.scale, ys.zero_point):
            ctx.fail(f"input tensor {i} ({s.describe()}) and the output ({ys.describe()}) differ in quantization, "
                     f"which TFLM's CONCATENATION does not allow")
    o = op.builtinOptions
    if int(getattr(o, "fusedActivationFunction", 0) or 0) != 0:
        ctx.fail("a fused activation on CONCATENATION is not supported")
    rank = len(_tfl_shape(sg, ko))
    a = int(getattr(o, "axis", 0)) % rank
    if a == 0:
        ctx.fail("concatenation along the batch axis (kwsnum imports batch-1 models)")
    _add_node(ctx, "concat", f"op{k}_concat", xs, [y], dict(axis=PERM[rank].index(a - 1)))


def _pad(ctx, m, sg, k, op, v2):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    fmt = _integer_formats(ctx, (xs, ys))
    if (xs.scale, xs.zero_point) != (ys.scale, ys.zero_point):
        ctx.fail(f"PAD changes the quantization ({xs.describe()} -> {ys.describe()})")
    rank = len(_tfl_shape(sg, ins[0]))
    p, _ = _const(ctx, m, sg, ins[1], ("INT32", "INT64"))
    if p.shape != (rank, 2) or np.any(p < 0):
        ctx.fail(f"paddings {p.tolist()} must be a non-negative ({rank}, 2) tensor")
    if p[0].any():
        ctx.fail("padding along the batch axis (kwsnum imports batch-1 models)")
    pads = []
    for i in PERM[rank]:
        pads += [int(p[1 + i][0]), int(p[1 + i][1])]
    value = ys.zero_point if fmt == "int8" else 0        # TFLM PAD: the output zero point (int16: 0)
    if v2 and len(ins) > 2 and ins[2] >= 0:
        c, _ = _const(ctx, m, sg, ins[2], ("INT8",) if fmt == "int8" else ("INT16",))
        if c.size != 1:
            ctx.fail("PADV2's constant must hold one value")
        value = int(c.reshape(-1)[0])
    _add_node(ctx, "pad", f"op{k}_pad", [x], [y], dict(pads=tuple(pads), value=int(value)))


def _strided_slice(ctx, m, sg, k, op):
    """STRIDED_SLICE with positive strides, begin / end masks (TFLite's StartForAxis / StopForAxis: negative
    indices count from the end, then clamped to [0, dim]); no ellipsis, new-axis or shrink masks, no offset."""
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    if xs.format != ys.format or (xs.scale, xs.zero_point) != (ys.scale, ys.zero_point):
        ctx.fail(f"STRIDED_SLICE changes the quantization ({xs.describe()} -> {ys.describe()})")
    o = op.builtinOptions
    for name in ("ellipsisMask", "newAxisMask", "shrinkAxisMask"):
        if int(getattr(o, name, 0) or 0):
            ctx.fail(f"{name} is not supported (it changes the rank, and so the layout mapping)")
    if bool(getattr(o, "offset", False)):
        ctx.fail("offset=True is not supported")
    shape = _tfl_shape(sg, ins[0])
    rank = len(shape)
    vals = []
    for j in (1, 2, 3):
        v, _ = _const(ctx, m, sg, ins[j], ("INT32", "INT64"))
        if v.shape != (rank,):
            ctx.fail(f"begin / end / strides must have {rank} entries, got shape {v.shape}")
        vals.append([int(a) for a in v])
    begin, end, strides = vals
    bm, em = int(getattr(o, "beginMask", 0) or 0), int(getattr(o, "endMask", 0) or 0)
    starts, sizes = [], []
    for a in range(rank):
        d, s = shape[a], strides[a]
        if s < 1:
            ctx.fail(f"stride {s} on axis {a}: only positive strides are supported")
        b = 0 if bm >> a & 1 else begin[a]
        e = d if em >> a & 1 else end[a]
        b = min(max(b + d if b < 0 else b, 0), d)
        e = min(max(e + d if e < 0 else e, 0), d)
        n = max(0, -(-(e - b) // s))
        if n < 1:
            ctx.fail(f"axis {a} is sliced to nothing")
        starts.append(b)
        sizes.append(n)
    if starts[0] != 0 or sizes[0] != 1:
        ctx.fail("slicing the batch axis (kwsnum imports batch-1 models)")
    perm = PERM[rank]
    _add_node(ctx, "slice", f"op{k}_slice", [x], [y],
              dict(begin=tuple(starts[1 + i] for i in perm), stride=tuple(strides[1 + i] for i in perm),
                   size=tuple(sizes[1 + i] for i in perm)))


def _tanh(ctx, m, sg, k, op):
    from ..ops.tanh import tanh_params
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    if xs.format != "int8" or ys.format != "int8":
        ctx.fail(f"TANH {xs.format} -> {ys.format}: kwsnum implements TFLM's int8 tanh only")
    try:
        p = tanh_params(xs.scale)
    except ValueError as e:
        ctx.fail(str(e))
    _add_node(ctx, "tanh", f"op{k}_tanh", [x], [y], p)


def _transpose(ctx, m, sg, k, op):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    if xs.format != ys.format or (xs.scale, xs.zero_point) != (ys.scale, ys.zero_point):
        ctx.fail(f"TRANSPOSE changes the quantization ({xs.describe()} -> {ys.describe()})")
    rank = len(_tfl_shape(sg, ins[0]))
    p, _ = _const(ctx, m, sg, ins[1], ("INT32", "INT64"))
    p = [int(v) % rank for v in p.reshape(-1)]
    if sorted(p) != list(range(rank)) or p[0] != 0:
        ctx.fail(f"perm {p} must permute the axes and keep the batch axis first")
    q = [v - 1 for v in p[1:]]                           # TFLite per-sample: output axis j = input axis q[j]
    pin, pout = PERM[rank], PERM[rank]
    perm = tuple(pin.index(q[pout[i]]) for i in range(rank - 1))
    _permute(ctx, k, x, perm, out=y)


def _split(ctx, m, sg, k, op, v):
    """SPLIT (axis tensor first, equal parts) and SPLIT_V (sizes tensor, then axis): one kwsnum slice per output."""
    ins = [int(i) for i in op.inputs]
    outs = [int(i) for i in op.outputs]
    kx = ins[0] if v else ins[1]
    if kx not in ctx.kw:
        ctx.fail(f"input tensor {kx} is neither a model input nor an earlier output")
    x = ctx.kw[kx]
    xs = ctx.tensors[x]
    shape = _tfl_shape(sg, kx)
    rank = len(shape)
    ax_t, _ = _const(ctx, m, sg, ins[2] if v else ins[0], ("INT32",))
    a = int(ax_t.reshape(-1)[0]) % rank
    if a == 0:
        ctx.fail("splitting the batch axis (kwsnum imports batch-1 models)")
    if v:
        sizes, _ = _const(ctx, m, sg, ins[1], ("INT32", "INT64"))
        sizes = [int(z) for z in sizes.reshape(-1)]
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = shape[a] - (sum(sizes) + 1)
    else:
        if shape[a] % len(outs):
            ctx.fail(f"{shape[a]} elements along axis {a} do not split into {len(outs)} equal parts")
        sizes = [shape[a] // len(outs)] * len(outs)
    if len(sizes) != len(outs) or sum(sizes) != shape[a] or min(sizes) < 1:
        ctx.fail(f"split sizes {sizes} do not cover the {shape[a]} elements of axis {a} with {len(outs)} outputs")
    kaxis = PERM[rank].index(a - 1)
    start = 0
    for j, (ko, n) in enumerate(zip(outs, sizes)):
        y = _activation(ctx, sg, m, ko)
        ys = ctx.tensors[y]
        if ys.format != xs.format or (ys.scale, ys.zero_point) != (xs.scale, xs.zero_point):
            ctx.fail(f"output {j} changes the quantization ({xs.describe()} -> {ys.describe()})")
        begin = [0] * len(xs.shape)
        size = list(xs.shape)
        begin[kaxis], size[kaxis] = start, n
        _add_node(ctx, "slice", f"op{k}_split{j}", [x], [y], dict(begin=tuple(begin), stride=(1,) * len(begin),
                                                                  size=tuple(size)))
        start += n


def _mul(ctx, m, sg, k, op):
    from ..ops.mul import mul_params, broadcast_shape
    ins, (a, b), ko, y = _io(ctx, sg, m, op, 2)
    sa, sb, ys = ctx.tensors[a], ctx.tensors[b], ctx.tensors[y]
    fmt = _integer_formats(ctx, (sa, sb, ys))
    if fmt != "int8":
        ctx.fail("MUL: kwsnum implements TFLM's int8 MUL only")
    if len(_tfl_shape(sg, ins[0])) != len(_tfl_shape(sg, ins[1])) or \
            broadcast_shape(sa.shape, sb.shape) != tuple(ys.shape):
        ctx.fail(f"MUL of {_tfl_shape(sg, ins[0])} and {_tfl_shape(sg, ins[1])}: kwsnum broadcasts equal ranks only")
    try:
        p = mul_params(sa.scale, sb.scale, ys.scale)
    except ValueError as e:
        ctx.fail(f"requantization multiplier: {e}")
    lo, hi = _clamp(ctx, op.builtinOptions, ys)
    _add_node(ctx, "mul", f"op{k}_mul", [a, b], [y], dict(p, act_min=lo, act_max=hi))


HANDLERS = {
    "MUL": _mul,
    "SPLIT": lambda c, m, sg, k, op: _split(c, m, sg, k, op, False),
    "SPLIT_V": lambda c, m, sg, k, op: _split(c, m, sg, k, op, True),
    "TRANSPOSE": _transpose,
    "TANH": _tanh,
    "STRIDED_SLICE": _strided_slice,
    "PAD": lambda c, m, sg, k, op: _pad(c, m, sg, k, op, False),
    "PADV2": lambda c, m, sg, k, op: _pad(c, m, sg, k, op, True),
    "CONCATENATION": _concatenation,
    "MEAN": _mean,
    "SOFTMAX": _softmax,
    "LOGISTIC": _logistic,
    "CONV_2D": lambda c, m, sg, k, op: _conv(c, m, sg, k, op, False),
    "DEPTHWISE_CONV_2D": lambda c, m, sg, k, op: _conv(c, m, sg, k, op, True),
    "FULLY_CONNECTED": _fully_connected,
    "AVERAGE_POOL_2D": lambda c, m, sg, k, op: _pool(c, m, sg, k, op, "avg"),
    "MAX_POOL_2D": lambda c, m, sg, k, op: _pool(c, m, sg, k, op, "max"),
    "ADD": _add,
    "RESHAPE": lambda c, m, sg, k, op: _reshape(c, m, sg, k, op, "RESHAPE"),
    "SQUEEZE": lambda c, m, sg, k, op: _reshape(c, m, sg, k, op, "SQUEEZE"),
    "EXPAND_DIMS": lambda c, m, sg, k, op: _reshape(c, m, sg, k, op, "EXPAND_DIMS"),
    "QUANTIZE": _quantize,
    "DEQUANTIZE": _dequantize,
}


def _operator(ctx, m, sg, k, op):
    opname = _opcode(ctx, m, op)
    ctx.where = f"operator {k} ({opname})"
    h = HANDLERS.get(opname)
    if h is None:
        why = NOT_YET.get(opname, "not supported")
        ctx.fail(f"{why} (supported: {', '.join(SUPPORTED)})")
    needs_opts = opname in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")
    if needs_opts and op.builtinOptions is None:
        ctx.fail("the operator has no builtin options")
    if op.inputs is None or op.outputs is None:
        ctx.fail("the operator lists no inputs or outputs")
    h(ctx, m, sg, k, op)


__all__ = ["from_tflite", "SUPPORTED", "schema"]
