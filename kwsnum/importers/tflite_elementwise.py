"""The elementwise TFLite operators of ``kwsnum import``: ADD and MUL (two activations, or one and a constant
operand), QUANTIZE and DEQUANTIZE (float32 / uint8 edges). Handlers as in :mod:`kwsnum.importers.tflite_ops`
(docs/numerics.md section 11.3).
"""
import numpy as np

from .tflite import PERM, _buffer, _const, _quant, _tfl_shape, _text
from .tflite_ops import _add_node, _clamp, _integer_formats, _io, _multipliers, _new_tensor


def _binary_const(ctx, sg, m, op, opname):
    """ADD / MUL with one constant input (docs/numerics.md 11.3): None when both inputs are activations, else
    (activation TFLite index, its kwsnum name, output TFLite index, output name, the constant's b array in kwsnum's
    layout, its scale, its zero point). A constant first input is moved second (ADD and MUL are symmetric)."""
    ins = [int(i) for i in op.inputs]
    if len(ins) != 2:
        ctx.fail(f"{opname} with {len(ins)} inputs")
    const = [j for j in (0, 1) if ins[j] not in ctx.kw and ins[j] >= 0 and
             _buffer(ctx, m, sg.tensors[ins[j]], ins[j]) is not None]
    if not const:
        return None
    if len(const) == 2:
        ctx.fail(f"{opname} of two constants (kwsnum takes at most one constant operand)")
    j = const[0]
    ka, kc = ins[1 - j], ins[j]
    ins_io, (x,), ko, y = _io(ctx, sg, m, type("Op", (), dict(inputs=[ka], outputs=op.outputs))(), 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    fmt = _integer_formats(ctx, (xs, ys))
    c, t = _const(ctx, m, sg, kc, ("INT16",) if fmt == "int16" else ("INT8",))
    scales, zps, _ = _quant(t)
    if scales is None or len(scales) != 1:
        ctx.fail(f"constant input tensor {kc} ({_text(t.name)}) needs one scale (per-tensor quantization)")
    if not np.isfinite(scales[0]) or scales[0] <= 0 or (fmt == "int16" and int(zps[0]) != 0):
        ctx.fail(f"constant input tensor {kc} ({_text(t.name)}): scale {float(scales[0])}, zero point {int(zps[0])}")
    ta, tc = _tfl_shape(sg, ka), tuple(int(d) for d in c.shape)
    r = len(ta)
    if len(tc) > r:
        ctx.fail(f"{opname}: the constant {tc} has a higher rank than the activation {ta}")
    pc = (1,) * (r - len(tc)) + tc                       # TFLite aligns the shapes from the last axis
    if pc[0] != 1:
        ctx.fail(f"{opname}: the constant {tc} has a batch of {pc[0]}")
    b = np.ascontiguousarray(np.transpose(c.reshape(pc)[0], PERM[r]) if PERM[r] else c.reshape(pc)[0])
    if b.ndim == 0:
        b = b.reshape(1)
    return ka, x, ko, y, b, float(scales[0]), int(zps[0])


def _add(ctx, m, sg, k, op):
    from ..ops.add import add_params, broadcast_shape, LEFT_SHIFT, LEFT_SHIFT_INT16
    cst = _binary_const(ctx, sg, m, op, "ADD")
    if cst is not None:      # one constant input: the node's b / b_zero_point (docs/numerics.md 11.3)
        ka, a, ko, y, bq, bs, bz = cst
        sa, ys = ctx.tensors[a], ctx.tensors[y]
        fmt = sa.format
        if broadcast_shape(sa.shape, bq.shape) != tuple(ys.shape):
            ctx.fail(f"ADD of {_tfl_shape(sg, ka)} and a constant: kwsnum's layout of the broadcast is "
                     f"{broadcast_shape(sa.shape, bq.shape)}, the output's is {tuple(ys.shape)}")
        try:
            p = add_params(sa.scale, bs, ys.scale, LEFT_SHIFT_INT16 if fmt == "int16" else LEFT_SHIFT)
        except ValueError as e:
            ctx.fail(f"requantization multiplier: {e}")
        if p["out_shift"] > 0:
            ctx.fail("the output multiplier is >= 1, which TFLM's ADD refuses (QuantizeMultiplierSmallerThanOneExp)")
        lo, hi = _clamp(ctx, op.builtinOptions, ys)
        _add_node(ctx, "add", f"op{k}_add", [a], [y], dict(p, act_min=lo, act_max=hi),
                  dict(b=bq, b_zero_point=np.array([bz], np.int32)))
        return
    ins, (a, b), ko, y = _io(ctx, sg, m, op, 2)
    sa, sb, ys = ctx.tensors[a], ctx.tensors[b], ctx.tensors[y]
    fmt = _integer_formats(ctx, (sa, sb, ys))
    ta, tb, ty = (tuple(int(d) for d in _tfl_shape(sg, i)) for i in (ins[0], ins[1], ko))
    r = max(len(ta), len(tb))
    pa, pb = (1,) * (r - len(ta)) + ta, (1,) * (r - len(tb)) + tb   # TFLite aligns from the last axis
    if len(ty) != r or any(x != y_ and 1 not in (x, y_) for x, y_ in zip(pa, pb)) or \
            tuple(max(x, y_) for x, y_ in zip(pa, pb)) != ty:
        ctx.fail(f"ADD of {ta} and {tb} to {ty}: the shapes do not broadcast to the output")
    # kwsnum axis i of a rank-r tensor is TFLite axis 1 + PERM[r][i] (the channel axis first): the lower-rank input,
    # padded with leading 1s as TFLite pads it, is mapped with the output's permutation. Its kwsnum element order is
    # unchanged by the padding (inserted size-1 axes only; the channel axis stays first), so a reshape is exact.
    names = [a, b]
    for j, (t, p) in enumerate(((ta, pa), (tb, pb))):
        if len(t) != r:
            shape = tuple(p[1 + i] for i in PERM[r])
            kept = [d for d in ctx.tensors[names[j]].shape if d > 1]
            if kept != [d for d in shape if d > 1]:   # cannot happen with PERM's channel-first layouts; never guess
                ctx.fail(f"ADD: the layout of input {j} {t} padded to rank {r} is not a reshape in kwsnum's layout")
            x = _new_tensor(ctx, f"{names[j]}_rank{r}", shape, ctx.tensors[names[j]])
            _add_node(ctx, "reshape", f"op{k}_add_in{j}_rank{r}", [names[j]], [x], dict(shape=shape))
            names[j] = x
    a, b = names
    sa, sb = ctx.tensors[a], ctx.tensors[b]
    if broadcast_shape(sa.shape, sb.shape) != tuple(ys.shape):   # the same rank on both sides: axis by axis
        ctx.fail(f"ADD of {ta} and {tb}: kwsnum's layout of the broadcast is {broadcast_shape(sa.shape, sb.shape)}, "
                 f"the output's is {tuple(ys.shape)}")
    try:   # TFLM CalculateOpDataAdd: left shift 20 (int8) / 15 (int16), multipliers in double
        p = add_params(sa.scale, sb.scale, ys.scale, LEFT_SHIFT_INT16 if fmt == "int16" else LEFT_SHIFT)
    except ValueError as e:
        ctx.fail(f"requantization multiplier: {e}")
    if p["out_shift"] > 0:
        ctx.fail("the output multiplier is >= 1, which TFLM's ADD refuses (QuantizeMultiplierSmallerThanOneExp)")
    lo, hi = _clamp(ctx, op.builtinOptions, ys)
    _add_node(ctx, "add", f"op{k}_add", [a, b], [y], dict(p, act_min=lo, act_max=hi))


def _quantize(ctx, m, sg, k, op):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    pair = (xs.format, ys.format)
    if "uint8" in pair and pair not in (("int8", "uint8"), ("uint8", "int8")):   # docs/numerics.md 11.3
        ctx.fail(f"QUANTIZE {xs.format} -> {ys.format} is not supported: uint8 is requantized only to or from "
                 f"int8 (TFLM refuses the other uint8 pairs)")
    if ys.format not in ("int8", "int16", "uint8"):
        ctx.fail(f"QUANTIZE to {ys.format} is not supported (int8, int16; uint8 from int8)")
    if xs.format == "float32":
        _add_node(ctx, "quantize", f"op{k}_quantize", [x], [y], {})
        return
    # TFLM PrepareQuantizeReference: QuantizeMultiplier(double(s_in) / double(s_out)), then Requantize
    mult_, shift = _multipliers(ctx, [float(np.float32(xs.scale)) / float(np.float32(ys.scale))])
    _add_node(ctx, "requantize", f"op{k}_requantize", [x], [y], dict(multiplier=int(mult_[0]), shift=int(shift[0])))


def _dequantize(ctx, m, sg, k, op):
    ins, (x,), ko, y = _io(ctx, sg, m, op, 1)
    xs, ys = ctx.tensors[x], ctx.tensors[y]
    if xs.format not in ("int8", "int16", "uint8") or ys.format != "float32":
        ctx.fail(f"DEQUANTIZE {xs.format} -> {ys.format} is not supported (int8, int16 or uint8 to float32)")
    _add_node(ctx, "dequantize", f"op{k}_dequantize", [x], [y], {})


def _mul(ctx, m, sg, k, op):
    from ..ops.mul import mul_params, broadcast_shape
    cst = _binary_const(ctx, sg, m, op, "MUL")
    if cst is not None:      # one constant input: the node's b / b_zero_point (docs/numerics.md 11.3)
        ka, a, ko, y, bq, bs, bz = cst
        sa, ys = ctx.tensors[a], ctx.tensors[y]
        if broadcast_shape(sa.shape, bq.shape) != tuple(ys.shape):
            ctx.fail(f"MUL of {_tfl_shape(sg, ka)} and a constant: kwsnum's layout of the broadcast is "
                     f"{broadcast_shape(sa.shape, bq.shape)}, the output's is {tuple(ys.shape)}")
        scales, arrays, inputs = (sa.scale, bs), dict(b=bq, b_zero_point=np.array([bz], np.int32)), [a]
    else:
        ins, (a, b), ko, y = _io(ctx, sg, m, op, 2)
        sa, sb, ys = ctx.tensors[a], ctx.tensors[b], ctx.tensors[y]
        _integer_formats(ctx, (sa, sb, ys))
        if len(_tfl_shape(sg, ins[0])) != len(_tfl_shape(sg, ins[1])) or \
                broadcast_shape(sa.shape, sb.shape) != tuple(ys.shape):
            ctx.fail(f"MUL of {_tfl_shape(sg, ins[0])} and {_tfl_shape(sg, ins[1])}: kwsnum broadcasts equal ranks "
                     f"only")
        scales, arrays, inputs = (sa.scale, sb.scale), None, [a, b]
    try:     # TFLM CalculateOpDataMul: int8 and int16 alike
        p = mul_params(scales[0], scales[1], ys.scale)
    except ValueError as e:
        ctx.fail(f"requantization multiplier: {e}")
    lo, hi = _clamp(ctx, op.builtinOptions, ys)
    _add_node(ctx, "mul", f"op{k}_mul", inputs, [y], dict(p, act_min=lo, act_max=hi), arrays)
