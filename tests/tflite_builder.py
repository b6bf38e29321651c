"""Write small .tflite flatbuffers for the tests (no converter, no downloads): tensors, constant buffers, operators
with their builtin options, through the object API of the TFLite schema module that ships with tflite-micro.

    b = TFLiteBuilder()
    x = b.tensor("x", (1, 8, 8, 1), "int8", scale=0.05, zero_point=-3)
    w = b.const("w", wq, "int8", scale=s_w, quantized_dimension=0)        # s_w: one scale per output channel
    y = b.tensor("y", (1, 8, 8, 4), "int8", scale=0.1, zero_point=5)
    b.op("CONV_2D", [x, w, bias], [y], padding="SAME", stride=(1, 1), act="RELU")
    data = b.finish(inputs=[x], outputs=[y])

Also :func:`run_tflm`: TFLM's Python interpreter on one model and one input, returning every tensor it kept.
"""
import numpy as np

flatbuffers = __import__("pytest").importorskip("flatbuffers")
tflm = __import__("pytest").importorskip("tflite_micro")
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as fb   # noqa: E402

TYPES = {"float32": fb.TensorType.FLOAT32, "int8": fb.TensorType.INT8, "int16": fb.TensorType.INT16,
         "int32": fb.TensorType.INT32, "int64": fb.TensorType.INT64, "uint8": fb.TensorType.UINT8}
DTYPES = {"float32": np.float32, "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
          "uint8": np.uint8}
ACTS = {None: fb.ActivationFunctionType.NONE, "NONE": fb.ActivationFunctionType.NONE,
        "RELU": fb.ActivationFunctionType.RELU, "RELU6": fb.ActivationFunctionType.RELU6,
        "RELU_N1_TO_1": fb.ActivationFunctionType.RELU_N1_TO_1, "TANH": fb.ActivationFunctionType.TANH}
PADDINGS = {"SAME": fb.Padding.SAME, "VALID": fb.Padding.VALID}


class TFLiteBuilder:
    def __init__(self):
        self.tensors, self.buffers, self.ops, self.codes = [], [fb.BufferT()], [], []

    def _buffer(self, data=None):
        buf = fb.BufferT()
        if data is not None:
            buf.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), dtype=np.uint8).copy()
        self.buffers.append(buf)
        return len(self.buffers) - 1

    def tensor(self, name, shape, dtype, scale=None, zero_point=None, quantized_dimension=0, data=None):
        t = fb.TensorT()
        t.name, t.shape, t.type = name, [int(d) for d in shape], TYPES[dtype]
        t.buffer = self._buffer(None if data is None else np.asarray(data, DTYPES[dtype]))
        if scale is not None:
            q = fb.QuantizationParametersT()
            q.scale = [float(np.float32(s)) for s in np.atleast_1d(scale)]
            zp = np.atleast_1d(0 if zero_point is None else zero_point)
            q.zeroPoint = [int(z) for z in (np.broadcast_to(zp, len(q.scale)) if zp.size == 1 else zp)]
            q.quantizedDimension = int(quantized_dimension)
            t.quantization = q
        self.tensors.append(t)
        return len(self.tensors) - 1

    def const(self, name, data, dtype, scale=None, zero_point=None, quantized_dimension=0):
        data = np.asarray(data, DTYPES[dtype])
        return self.tensor(name, data.shape, dtype, scale, zero_point, quantized_dimension, data=data)

    def _code(self, name):
        code = getattr(fb.BuiltinOperator, name)
        for i, c in enumerate(self.codes):
            if c.builtinCode == code:
                return i
        c = fb.OperatorCodeT()
        c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
        self.codes.append(c)
        return len(self.codes) - 1

    def op(self, name, inputs, outputs, **o):
        op = fb.OperatorT()
        op.opcodeIndex = self._code(name)
        op.inputs, op.outputs = [int(i) for i in inputs], [int(i) for i in outputs]
        act = ACTS[o.get("act")]
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            opt = fb.Conv2DOptionsT() if name == "CONV_2D" else fb.DepthwiseConv2DOptionsT()
            opt.padding = PADDINGS[o.get("padding", "VALID")]
            opt.strideH, opt.strideW = o.get("stride", (1, 1))
            opt.dilationHFactor, opt.dilationWFactor = o.get("dilation", (1, 1))
            opt.fusedActivationFunction = act
            if name == "DEPTHWISE_CONV_2D":
                opt.depthMultiplier = int(o.get("depth_multiplier", 1))
            op.builtinOptionsType = getattr(fb.BuiltinOptions, "Conv2DOptions" if name == "CONV_2D"
                                            else "DepthwiseConv2DOptions")
        elif name == "FULLY_CONNECTED":
            opt = fb.FullyConnectedOptionsT()
            opt.fusedActivationFunction = act
            opt.keepNumDims = bool(o.get("keep_num_dims", False))
            op.builtinOptionsType = fb.BuiltinOptions.FullyConnectedOptions
        elif name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            opt = fb.Pool2DOptionsT()
            opt.padding = PADDINGS[o.get("padding", "VALID")]
            opt.strideH, opt.strideW = o.get("stride", (1, 1))
            opt.filterHeight, opt.filterWidth = o["filter"]
            opt.fusedActivationFunction = act
            op.builtinOptionsType = fb.BuiltinOptions.Pool2DOptions
        elif name == "MUL":
            opt = fb.MulOptionsT()
            opt.fusedActivationFunction = act
            op.builtinOptionsType = fb.BuiltinOptions.MulOptions
        elif name == "ADD":
            opt = fb.AddOptionsT()
            opt.fusedActivationFunction = act
            opt.potScaleInt16 = False
            op.builtinOptionsType = fb.BuiltinOptions.AddOptions
        elif name == "RESHAPE":
            opt = fb.ReshapeOptionsT()
            opt.newShape = [int(d) for d in o["new_shape"]]
            op.builtinOptionsType = fb.BuiltinOptions.ReshapeOptions
        elif name == "CONCATENATION":
            opt = fb.ConcatenationOptionsT()
            opt.axis = int(o["axis"])
            opt.fusedActivationFunction = act
            op.builtinOptionsType = fb.BuiltinOptions.ConcatenationOptions
        elif name == "STRIDED_SLICE":
            opt = fb.StridedSliceOptionsT()
            opt.beginMask, opt.endMask = int(o.get("begin_mask", 0)), int(o.get("end_mask", 0))
            opt.shrinkAxisMask = int(o.get("shrink_axis_mask", 0))
            op.builtinOptionsType = fb.BuiltinOptions.StridedSliceOptions
        elif name in ("SPLIT", "SPLIT_V"):
            opt = fb.SplitOptionsT() if name == "SPLIT" else fb.SplitVOptionsT()
            opt.numSplits = len(outputs)
            op.builtinOptionsType = getattr(fb.BuiltinOptions, "SplitOptions" if name == "SPLIT" else "SplitVOptions")
        elif name == "MEAN":
            opt = fb.ReducerOptionsT()
            opt.keepDims = bool(o.get("keep_dims", False))
            op.builtinOptionsType = fb.BuiltinOptions.ReducerOptions
        elif name == "SOFTMAX":
            opt = fb.SoftmaxOptionsT()
            opt.beta = float(o.get("beta", 1.0))
            op.builtinOptionsType = fb.BuiltinOptions.SoftmaxOptions
        else:
            opt = None
        op.builtinOptions = opt
        self.ops.append(op)
        return outputs[0] if len(outputs) == 1 else outputs

    def finish(self, inputs, outputs):
        sg = fb.SubGraphT()
        sg.tensors, sg.operators = self.tensors, self.ops
        sg.inputs, sg.outputs = [int(i) for i in inputs], [int(i) for i in outputs]
        sg.name = "main"
        m = fb.ModelT()
        m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, self.codes, [sg], self.buffers
        m.description = "kwsnum test model"
        b = flatbuffers.Builder(4096)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def run_tflm(data, x):
    """TFLM's interpreter on model bytes ``data`` and one input batch ``x`` (the model's input dtype and NHWC
    shape). Returns {tensor index: array} of every tensor of subgraph 0 (kPreserveAllTensors)."""
    from tflite_micro.python.tflite_micro import runtime
    interp = runtime.Interpreter.from_bytes(data, arena_size=max(1 << 20, 16 * len(data)),
                                            intrepreter_config=runtime.InterpreterConfig.kPreserveAllTensors)
    interp.set_input(x, 0)
    interp.invoke()
    model = fb.ModelT.InitFromObj(fb.Model.GetRootAs(data, 0))
    out = {}
    for i in range(len(model.subgraphs[0].tensors)):
        t = interp.GetTensor(i, 0)
        out[i] = np.asarray(t["tensor_data"]).reshape(tuple(t["shape"]))
    return out
