"""The TFLite operators of ``kwsnum import`` (:mod:`kwsnum.importers.tflite`), one handler each: every integer
TFLM's Prepare derives from the flatbuffer's floats is derived here the same way (docs/numerics.md section 11).

A handler ``(ctx, model, subgraph, operator index, operator)`` appends kwsnum nodes to ``ctx`` through
:func:`_add_node` (which validates each node as the loader would) or fails with ``ctx.fail`` (a one-line
ModelImportError naming the operator).
"""
import numpy as np

from ..errors import KwsnumError
from ..model import Node, TensorSpec
from ..quant import act_clamp_int8, act_clamp_int16, quantize_multiplier
from .tflite import PERM, _activation, _const, _names, _quant, _same_order, _spec, _tfl_shape, _buffer, _text


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
    if "uint8" in fmts:
        ctx.fail("a uint8 operator: uint8 is accepted only at the edges (QUANTIZE to or from int8, DEQUANTIZE)")
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


def _softmax(ctx, m, sg, k, op):
    """SOFTMAX along TFLite's last axis: int8 -> int8 (gemmlowp) or int16 -> int16 (TFLM's lookup tables)."""
    from ..ops.softmax import softmax_params, softmax_params16
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    beta = float(op.builtinOptions.beta) if op.builtinOptions is not None else 1.0
    arrays = None
    try:
        if xs.format == "int8" and ys.format == "int8":
            p = softmax_params(beta, xs.scale)
        elif xs.format == "int16" and ys.format == "int16":
            if int(xs.zero_point) != 0 or int(ys.zero_point) != 0:
                ctx.fail(f"SOFTMAX int16 needs zero points 0 (TFLM's), got {xs.describe()} -> {ys.describe()}")
            if np.float32(ys.scale) != np.float32(1.0 / 32768):
                ctx.fail(f"SOFTMAX int16 output scale {ys.scale}: kwsnum takes exactly 1/32768 (TFLM accepts 0.1% "
                         f"either side and computes as if it were 1/32768)")
            p, arrays = softmax_params16(beta, xs.scale)
        else:
            ctx.fail(f"SOFTMAX {xs.format} -> {ys.format}: kwsnum implements TFLM's int8 -> int8 and int16 -> int16 "
                     f"softmax (int8 -> int16 has a zero point of -32768)")
    except ValueError as e:
        ctx.fail(str(e))
    rank = len(_tfl_shape(sg, ins[0]))
    axis = PERM[rank].index(rank - 2)             # TFLite's last axis, in kwsnum's layout
    _add_node(ctx, "softmax", f"op{k}_softmax", [x], [y], dict(axis=axis, **p), arrays)


def _sigmoid_family(ctx, m, sg, k, op, name):
    """LOGISTIC / TANH: int8 -> int8 (gemmlowp) or int16 -> int16 (TFLM's sigmoid table), TFLM's Prepare
    integers (kwsnum.ops.sigmoid)."""
    from ..ops.sigmoid import LOGISTIC, TANH, int8_params, int16_arrays, int16_params
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    kind = LOGISTIC if name == "logistic" else TANH
    tfl = name.upper()
    arrays = None
    try:
        if xs.format == "int8" and ys.format == "int8":
            p = int8_params(xs.scale)
        elif xs.format == "int16" and ys.format == "int16":
            if int(xs.zero_point) != 0 or int(ys.zero_point) != 0:
                ctx.fail(f"{tfl} int16 needs zero points 0 (TFLM's), got {xs.describe()} -> {ys.describe()}")
            if np.float32(ys.scale) != np.float32(2.0 ** -15):
                ctx.fail(f"{tfl} int16 output scale {ys.scale}: kwsnum takes exactly 2**-15 (TFLM accepts any scale "
                         f"whose log2 rounds to -15 and computes as if it were 2**-15)")
            p, arrays = int16_params(xs.scale, kind), int16_arrays()
        else:
            ctx.fail(f"{tfl} {xs.format} -> {ys.format}: kwsnum implements TFLM's int8 -> int8 and int16 -> int16")
    except ValueError as e:
        ctx.fail(str(e))
    _add_node(ctx, name, f"op{k}_{name}", [x], [y], p, arrays)


def _logistic(ctx, m, sg, k, op):
    _sigmoid_family(ctx, m, sg, k, op, "logistic")


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
    _sigmoid_family(ctx, m, sg, k, op, "tanh")


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


from .tflite_elementwise import _add, _dequantize, _mul, _quantize   # noqa: E402  (they use this module's helpers)

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
