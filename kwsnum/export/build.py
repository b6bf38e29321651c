"""Export stage 3: every layer quantized in its format (kwsnum.quant: scales, zero points, multipliers, shifts,
clamps, as TFLite computes them) and written as kwsnum nodes through kwsnum.builder.GraphBuilder, with the bridges
between formats. Spec: docs/numerics.md, "Export from PyTorch"."""
import numpy as np

from ..builder import GraphBuilder
from ..errors import ExportError, ModelError
from ..model import INTEGER, QBITS, QFORMATS, QUANTIZED
from ..quant import (act_clamp_float, act_clamp_int8, act_clamp_int16, act_clamp_q, affine_params, int16_params,
                     q_frac_bits, q_layer_params, quantize_bias, quantize_multiplier, quantize_multipliers,
                     quantize_weights, symmetric_weight_scales)
from ..ops.requantize import requantize_params
from .layers import fail

# exporter layer kinds with an int16 kernel (docs/numerics.md 9.4); others (layernorm) are an ExportError in int16
INT16_KINDS = ("conv1d", "conv2d", "linear", "avgpool", "maxpool", "gap", "relu", "reshape", "add", "layernorm",
               "softmax", "logistic", "tanh", "slice", "concat", "pad")


# ... with a Q-format kernel (docs/numerics.md 10.3; layernorm in q8 and q16, not q32)
Q_KINDS = ("conv1d", "conv2d", "linear", "avgpool", "maxpool", "gap", "relu", "reshape", "add", "layernorm",
           "slice")


# TFLM's activation ops (docs/numerics.md 11.4, 11.5, 11.9): int8 and int16 kernels only, fixed output quantization
TFLM_ACT_KINDS = ("softmax", "logistic", "tanh")


def _slice_attrs(L, shape):
    """kwsnum slice attributes (numerics 11.8) of a torch basic index or narrow on a tensor of per-sample
    ``shape``: per axis begin, stride, size; the batch axis must be taken whole."""
    nd = len(shape) + 1
    dims = (2,) + tuple(int(d) for d in shape)          # the batch: any size, taken whole
    what = f"layer {L.node.name} (slicing)"
    if "split" in L.params:      # torch.chunk / torch.split: piece i is a narrow (6.1)
        how, arg, dim, i = L.params["split"]
        if not -nd <= dim < nd or dim % nd == 0:
            raise fail(L.node, what, f"{how} along dim {dim}: kwsnum slices the axes of one sample")
        d = dims[dim % nd]
        if how == "chunk":
            size = -(-d // arg)
            lengths = [min(size, d - s0) for s0 in range(0, d, size)]
        elif isinstance(arg, tuple):
            lengths = list(arg)
        else:
            lengths = [min(arg, d - s0) for s0 in range(0, d, arg)]
        if sum(lengths) != d or not -len(lengths) <= i < len(lengths) or lengths[i] < 1:
            raise fail(L.node, what, f"piece {i} of {how}({arg}) of a dimension of {d} is empty or out of range")
        i %= len(lengths)
        L.params["narrow"] = (dim, sum(lengths[:i]), lengths[i])
    if "narrow" in L.params:
        dim, start, length = L.params["narrow"]
        if not -nd <= dim < nd or length < 1:
            raise fail(L.node, what, f"narrow({dim}, {start}, {length}) is out of range")
        dim %= nd
        if dim == 0:
            raise fail(L.node, what, "narrow of the batch axis: kwsnum slices the axes of one sample")
        start = start + dims[dim] if start < 0 else start
        if start < 0 or start + length > dims[dim]:
            raise fail(L.node, what, f"narrow({dim}, {start}, {length}) runs past the dimension {dims[dim]}")
        sl = [slice(None)] * nd
        sl[dim] = slice(start, start + length)
    else:
        idx = L.params["index"]
        idx = tuple(idx) if isinstance(idx, tuple) else (idx,)
        if any(i is None for i in idx) or not all(isinstance(i, slice) or i is Ellipsis for i in idx):
            raise fail(L.node, what, f"index {idx!r}: only slices (and one ...) are supported, no integer, "
                                      f"tensor or None index (they change the rank)")
        if sum(i is Ellipsis for i in idx) > 1:
            raise fail(L.node, what, "more than one ... in the index")
        if Ellipsis in idx:
            e = idx.index(Ellipsis)
            idx = idx[:e] + (slice(None),) * (nd - len(idx) + 1) + idx[e + 1:]
        if len(idx) > nd:
            raise fail(L.node, what, f"{len(idx)} indices for a rank-{nd} tensor")
        sl = list(idx) + [slice(None)] * (nd - len(idx))
    begin, stride, size = [], [], []
    for a, (s_, dim) in enumerate(zip(sl, dims)):
        for v in (s_.start, s_.stop, s_.step):
            if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                raise fail(L.node, what, f"slice {s_!r}: the bounds must be integers fixed at trace time")
        if a == 0:
            if (s_.start, s_.stop, s_.step) != (None, None, None):
                raise fail(L.node, what, "slicing the batch axis: kwsnum slices the axes of one sample")
            continue
        if s_.step is not None and s_.step < 1:
            raise fail(L.node, what, f"slice {s_!r}: the step must be positive")
        b0, e0, st = s_.indices(dim)
        n = len(range(b0, e0, st))
        if n < 1:
            raise fail(L.node, what, f"slice {s_!r} of a dimension of {dim} is empty")
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
        raise fail(L.node, what, f"pad {pad} pads {len(pad) // 2} dims of a sample of rank {rank} (the batch axis "
                                  f"is not padded)")
    per_axis = [(0, 0)] * (rank - len(pad) // 2) + [(pad[2 * j], pad[2 * j + 1]) for j in range(len(pad) // 2)][::-1]
    attrs = dict(pads=tuple(v for pr in per_axis for v in pr))
    if fmt in QUANTIZED:
        if fill != 0.0:
            raise fail(L.node, what, f"value={fill}: an integer pad fills with real 0 (the zero point) only")
        attrs["value"] = int(si.zero_point)
        return b.add("pad", nm, [x], attrs, scale=si.scale, zero_point=si.zero_point)
    if fmt != "float32":
        raise fail(L.node, f"{what} in {fmt}", "pad is exported in int8, int16 and float32; give this layer one "
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
        raise fail(L.node, f"layer {nm} ({L.kind}) in {fmt}",
                    f"{L.kind} has int8 and int16 kernels only (TFLM's); give this layer int8 or int16 in the "
                    f"precision config")
    arrays = None
    if L.kind == "softmax":
        nd = len(si.shape) + 1
        d = L.params["dim"]
        if not -nd <= d < nd:
            raise fail(L.node, f"layer {nm} (softmax)", f"dim {d} is out of range for a rank-{nd} tensor")
        if d % nd == 0:
            raise fail(L.node, f"layer {nm} (softmax)", f"dim {d} is the batch axis: kwsnum's softmax runs along "
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


def build(layers, out_layer, shape_of, ranges, policy, rounding, labels, name, frontend=None):
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
                raise fail(L.node, f"layer {nm} ({L.kind}) in {fmt}",
                            f"there is no {fmt} kernel for {L.kind} (Q formats support: {', '.join(Q_KINDS)}; "
                            f"layernorm in q8 and q16); choose another format for this layer in the precision config")
            if q16 and L.kind not in INT16_KINDS:
                raise fail(L.node, f"layer {nm} ({L.kind}) in int16",
                            f"there is no int16 kernel for {L.kind} (int16 supports: {', '.join(INT16_KINDS)}); "
                            f"choose another format for this layer in the precision config")
            ins = [convert(P.tensor, fmt) for P in L.inputs]
            x = ins[0]
            si = spec(x)
            want_shape = shape_of(L.out)
            p = L.params
            if L.kind in ("conv1d", "conv2d", "linear"):
                if L.kind == "linear" and len(si.shape) != 1:
                    raise fail(L.node, "Linear", f"its input has shape {tuple(si.shape)} (without batch); "
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
                    raise fail(L.node, "add", f"operands of shapes {tuple(si.shape)} and {tuple(s2.shape)} per "
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
                    raise fail(L.node, "LayerNorm", f"normalized_shape {ns} is not the trailing shape of its "
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
                    raise fail(L.node, f"layer {nm} (concat)", f"dim {d}: kwsnum concatenates along an axis of one "
                                                                f"sample (not the batch axis)")
                attrs = dict(axis=d % nd - 1)
                if qf:
                    raise fail(L.node, f"layer {nm} (concat) in {fmt}", "concat is exported in int8, int16 and "
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
                    raise fail(L.node, L.kind, f"{L.kind} has no {fmt} kernel: give this layer a float precision "
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
                raise fail(L.node, f"layer {nm}", f"kwsnum computes shape {tuple(b.shape(y))} but PyTorch "
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
