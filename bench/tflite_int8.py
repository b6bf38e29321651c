"""Write a kwsnum int8 model as a .tflite flatbuffer (NHWC), for timing LiteRT on the same network (bench only).

    from bench.tflite_int8 import to_tflite
    data = to_tflite(model)          # bytes; ops: quantize, conv2d (dense / depthwise), global_avgpool, reshape,
                                     # linear, dequantize (others raise NotImplementedError)

Built with the flatbuffer object API of the schema that ai-edge-litert ships (``ai_edge_litert.schema_py_generated``).
Weights and biases are kwsnum's integers; per-channel weight scales are recovered from the stored multipliers
(s_w = real multiplier * s_out / s_in), so LiteRT requantizes as kwsnum does up to its own rounding of the
multipliers. Padding that TFLite's SAME cannot express becomes a PAD op (it pads with the zero point: real 0).
It is a timing harness: the bench reports how often its top-1 agrees with the oracle as a check of the graph.
"""
import numpy as np


def _schema():
    from ai_edge_litert import schema_py_generated as s
    return s


class _Graph:
    def __init__(self):
        s = self.s = _schema()
        self.tensors, self.buffers, self.ops, self.codes, self.code_index = [], [s.BufferT()], [], [], {}

    def tensor(self, shape, dtype, name, scale=None, zp=None, data=None, axis=0):
        s = self.s
        t = s.TensorT()
        t.shape = [int(d) for d in shape]
        t.type = {np.int8: s.TensorType.INT8, np.int32: s.TensorType.INT32, np.float32: s.TensorType.FLOAT32}[dtype]
        t.name = name
        if scale is not None:
            q = s.QuantizationParametersT()
            q.scale = [float(v) for v in np.atleast_1d(scale)]
            q.zeroPoint = [int(v) for v in np.atleast_1d(zp if zp is not None else np.zeros(len(q.scale), int))]
            q.quantizedDimension = axis
            t.quantization = q
        if data is not None:
            b = s.BufferT()
            b.data = np.ascontiguousarray(data, dtype).view(np.uint8).ravel().tolist()
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        else:
            t.buffer = 0
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, code, inputs, outputs, opt_type=0, opt=None):
        s = self.s
        if code not in self.code_index:
            c = s.OperatorCodeT()
            c.builtinCode = code
            c.deprecatedBuiltinCode = min(code, 127)
            c.version = 1
            self.code_index[code] = len(self.codes)
            self.codes.append(c)
        o = s.OperatorT()
        o.opcodeIndex = self.code_index[code]
        o.inputs, o.outputs = list(inputs), list(outputs)
        o.builtinOptionsType, o.builtinOptions = opt_type, opt
        self.ops.append(o)

    def finish(self, inputs, outputs):
        import flatbuffers
        s = self.s
        sg = s.SubGraphT()
        sg.tensors, sg.operators, sg.inputs, sg.outputs, sg.name = self.tensors, self.ops, inputs, outputs, "main"
        m = s.ModelT()
        m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, self.codes, [sg], self.buffers
        m.description = "kwsnum bench"
        b = flatbuffers.Builder(1 << 20)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def _nhwc(shape):
    """kwsnum (C, H, W) / (C, L) / (F,) -> TFLite (1, H, W, C) / (1, 1, L, C) / (1, F)."""
    if len(shape) == 3:
        return (1, shape[1], shape[2], shape[0])
    if len(shape) == 2:
        return (1, 1, shape[1], shape[0])
    return (1,) + tuple(shape)


def _activation(s, lo, hi, zp, scale):
    A = s.ActivationFunctionType
    if (lo, hi) == (-128, 127):
        return A.NONE
    if lo == max(-128, zp) and hi == 127:
        return A.RELU
    return A.RELU6


def _same_pad(n, k, stride, dil):
    out = -(-n // stride)
    total = max((out - 1) * stride + dil * (k - 1) + 1 - n, 0)
    return out, (total // 2, total - total // 2)


def to_tflite(model):
    s = _schema()
    g = _Graph()
    B = s.BuiltinOperator
    ids = {}

    def act_tensor(name):
        if name not in ids:
            spec = model.tensors[name]
            if spec.format == "int8":
                ids[name] = g.tensor(_nhwc(spec.shape), np.int8, name, spec.scale, spec.zero_point)
            elif spec.format == "float32":
                ids[name] = g.tensor(_nhwc(spec.shape), np.float32, name)
            else:
                raise NotImplementedError(f"tensor format {spec.format}")
        return ids[name]

    for node in model.nodes:
        xin, xout = model.tensors[node.inputs[0]], model.tensors[node.outputs[0]]
        a = act_tensor(node.inputs[0])
        if node.op in ("quantize", "dequantize"):
            g.op(B.QUANTIZE if node.op == "quantize" else B.DEQUANTIZE, [a], [act_tensor(node.outputs[0])])
        elif node.op == "conv2d":
            w, bias = node.arrays["weight"], node.arrays["bias"]
            O, Cg, KH, KW = w.shape
            real = node.arrays["multiplier"].astype(np.float64) * 2.0 ** (node.arrays["shift"].astype(np.float64) - 31)
            sw_ = (real * xout.scale / xin.scale).astype(np.float32)
            sw_ = np.where(sw_ > 0, sw_, np.float32(1e-9))
            (sh, sww), (dh, dw), (pt, pb, pl, pr) = node.attrs["stride"], node.attrs["dilation"], node.attrs["padding"]
            C, H, W = xin.shape
            oh, (st, sb) = _same_pad(H, KH, sh, dh)
            ow, (sl, sr) = _same_pad(W, KW, sww, dw)
            padding = s.Padding.VALID
            if (pt, pb, pl, pr) == (st, sb, sl, sr) and (oh, ow) == tuple(xout.shape[1:]):
                padding = s.Padding.SAME
            elif any((pt, pb, pl, pr)):
                pads = g.tensor((4, 2), np.int32, node.name + "/pads",
                                data=np.array([[0, 0], [pt, pb], [pl, pr], [0, 0]], np.int32))
                shape = (1, H + pt + pb, W + pl + pr, C)
                padded = g.tensor(shape, np.int8, node.name + "/padded", xin.scale, xin.zero_point)
                g.op(B.PAD, [a, pads], [padded], s.BuiltinOptions.PadOptions, s.PadOptionsT())
                a = padded
            depthwise = node.attrs["groups"] > 1
            if depthwise and not (Cg == 1 and node.attrs["groups"] == C):
                raise NotImplementedError("grouped conv")
            if depthwise:
                wt = np.transpose(w, (1, 2, 3, 0))                      # (1, KH, KW, O)
                wid = g.tensor(wt.shape, np.int8, node.name + "/w", sw_, np.zeros(O, int), data=wt, axis=3)
            else:
                wt = np.transpose(w, (0, 2, 3, 1))                      # (O, KH, KW, C)
                wid = g.tensor(wt.shape, np.int8, node.name + "/w", sw_, np.zeros(O, int), data=wt, axis=0)
            bid = g.tensor((O,), np.int32, node.name + "/b", (sw_.astype(np.float64) * xin.scale).astype(np.float32),
                           np.zeros(O, int), data=bias.astype(np.int32), axis=0)
            act = _activation(s, node.attrs["act_min"], node.attrs["act_max"], xout.zero_point, xout.scale)
            if depthwise:
                opt = s.DepthwiseConv2DOptionsT()
                opt.depthMultiplier = O // C
                code, otype = B.DEPTHWISE_CONV_2D, s.BuiltinOptions.DepthwiseConv2DOptions
            else:
                opt = s.Conv2DOptionsT()
                code, otype = B.CONV_2D, s.BuiltinOptions.Conv2DOptions
            opt.padding, opt.strideH, opt.strideW = padding, sh, sww
            opt.dilationHFactor, opt.dilationWFactor, opt.fusedActivationFunction = dh, dw, act
            g.op(code, [a, wid, bid], [act_tensor(node.outputs[0])], otype, opt)
        elif node.op == "global_avgpool":
            axes = g.tensor((2,), np.int32, node.name + "/axes", data=np.array([1, 2], np.int32))
            opt = s.ReducerOptionsT()
            opt.keepDims = True
            g.op(B.MEAN, [a, axes], [act_tensor(node.outputs[0])], s.BuiltinOptions.ReducerOptions, opt)
        elif node.op == "reshape":
            shape = (-1,) + _nhwc(xout.shape)[1:]              # any batch
            sid = g.tensor((len(shape),), np.int32, node.name + "/shape", data=np.array(shape, np.int32))
            opt = s.ReshapeOptionsT()
            opt.newShape = list(shape)
            g.op(B.RESHAPE, [a, sid], [act_tensor(node.outputs[0])], s.BuiltinOptions.ReshapeOptions, opt)
        elif node.op == "linear":
            w, bias = node.arrays["weight"], node.arrays["bias"]
            O = w.shape[0]
            real = node.arrays["multiplier"].astype(np.float64) * 2.0 ** (node.arrays["shift"].astype(np.float64) - 31)
            sw_ = np.where(real > 0, real * xout.scale / xin.scale, 1e-9).astype(np.float32)
            wid = g.tensor(w.shape, np.int8, node.name + "/w", sw_, np.zeros(O, int), data=w, axis=0)
            bid = g.tensor((O,), np.int32, node.name + "/b", (sw_.astype(np.float64) * xin.scale).astype(np.float32),
                           np.zeros(O, int), data=bias.astype(np.int32), axis=0)
            opt = s.FullyConnectedOptionsT()
            opt.fusedActivationFunction = _activation(s, node.attrs["act_min"], node.attrs["act_max"],
                                                      xout.zero_point, xout.scale)
            g.op(B.FULLY_CONNECTED, [a, wid, bid], [act_tensor(node.outputs[0])],
                 s.BuiltinOptions.FullyConnectedOptions, opt)
        else:
            raise NotImplementedError(f"op {node.op} has no TFLite int8 builtin here")
    return g.finish([ids[model.inputs[0]]], [ids[model.outputs[0]]])


def to_nhwc_batch(x):
    """A kwsnum batch (N, C, H, W) / (N, C, L) -> TFLite NHWC."""
    if x.ndim == 4:
        return np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))
    if x.ndim == 3:
        return np.ascontiguousarray(np.transpose(x, (0, 2, 1))[:, None])
    return x
