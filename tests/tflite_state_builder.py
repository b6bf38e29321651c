"""Stateful .tflite models for the tests, as TF's converter writes streaming models: a CALL_ONCE at the start of
subgraph 0 runs an initialization subgraph (VAR_HANDLE + ASSIGN_VARIABLE of a constant per state variable); the
main subgraph reads each variable (VAR_HANDLE + READ_VARIABLE), concatenates it with the new frames along time,
keeps the newest frames with a STRIDED_SLICE and assigns them back (ASSIGN_VARIABLE).

    b = StatefulBuilder()
    ...  b.state(name, x, init, axis=1) -> the CONCATENATION output (state + x along axis)
    data = b.finish(inputs=[x], outputs=[y])
"""
import numpy as np

from tests.tflite_builder import TFLiteBuilder, TYPES, DTYPES, fb, flatbuffers


class StatefulBuilder(TFLiteBuilder):
    def __init__(self):
        super().__init__()
        self.init_tensors, self.init_ops = [], []
        self.n_vars = 0

    def _handle(self, tensors, name):
        t = fb.TensorT()
        t.name, t.shape, t.type, t.buffer = f"{name}_handle", [], fb.TensorType.RESOURCE, 0
        tensors.append(t)
        return len(tensors) - 1

    def _var_op(self, opname, inputs, outputs, shared_name=None):
        op = fb.OperatorT()
        op.opcodeIndex = self._code(opname)
        op.inputs, op.outputs = list(inputs), list(outputs)
        if opname == "VAR_HANDLE":
            o = fb.VarHandleOptionsT()
            o.container, o.sharedName = "", shared_name
            op.builtinOptionsType, op.builtinOptions = fb.BuiltinOptions.VarHandleOptions, o
        elif opname == "READ_VARIABLE":
            op.builtinOptionsType, op.builtinOptions = fb.BuiltinOptions.ReadVariableOptions, fb.ReadVariableOptionsT()
        elif opname == "ASSIGN_VARIABLE":
            op.builtinOptionsType, op.builtinOptions = (fb.BuiltinOptions.AssignVariableOptions,
                                                        fb.AssignVariableOptionsT())
        elif opname == "CALL_ONCE":
            o = fb.CallOnceOptionsT()
            o.initSubgraphIndex = 1
            op.builtinOptionsType, op.builtinOptions = fb.BuiltinOptions.CallOnceOptions, o
        return op

    def state(self, name, x, x_shape, init, dtype, scale, zero_point, axis=1, slice_style="begin"):
        """A state variable of init.shape (= x_shape with axis replaced by S) before x: returns the CONCATENATION
        output tensor (x_shape with axis S + T). The variable's initial value ``init`` is assigned by the
        initialization subgraph. ``slice_style``: "begin" (begin = T, end = S + T) or "negative" (begin = -S,
        end mask)."""
        self.n_vars += 1
        init = np.asarray(init, DTYPES[dtype])
        S, T = init.shape[axis], x_shape[axis]
        # the initialization subgraph: VAR_HANDLE, a constant, ASSIGN_VARIABLE
        h0 = self._handle(self.init_tensors, name)
        c = fb.TensorT()
        c.name, c.shape, c.type = f"{name}_init", list(init.shape), TYPES[dtype]
        c.buffer = self._buffer(init)
        q = fb.QuantizationParametersT()
        q.scale, q.zeroPoint, q.quantizedDimension = [float(np.float32(scale))], [int(zero_point)], 0
        c.quantization = q
        self.init_tensors.append(c)
        ci = len(self.init_tensors) - 1
        self.init_ops.append(self._var_op("VAR_HANDLE", [], [h0], name))
        self.init_ops.append(self._var_op("ASSIGN_VARIABLE", [h0, ci], []))
        # the main subgraph
        h = self._handle(self.tensors, name)
        self.ops.append(self._var_op("VAR_HANDLE", [], [h], name))
        r = self.tensor(f"{name}_read", init.shape, dtype, scale=scale, zero_point=zero_point)
        self.ops.append(self._var_op("READ_VARIABLE", [h], [r]))
        cshape = list(x_shape)
        cshape[axis] = S + T
        cat = self.tensor(f"{name}_concat", cshape, dtype, scale=scale, zero_point=zero_point)
        self.op("CONCATENATION", [r, x], [cat], axis=axis)
        rank = len(x_shape)
        if slice_style == "begin":
            begin = [0] * rank
            begin[axis] = T
            end, emask = list(cshape), 0
        else:
            begin = [0] * rank
            begin[axis] = -S
            end, emask = [0] * rank, (1 << rank) - 1
        bt = self.const(f"{name}_begin", np.array(begin), "int32")
        et = self.const(f"{name}_end", np.array(end), "int32")
        st_ = self.const(f"{name}_strides", np.ones(rank), "int32")
        new = self.tensor(f"{name}_new", init.shape, dtype, scale=scale, zero_point=zero_point)
        self.op("STRIDED_SLICE", [cat, bt, et, st_], [new], end_mask=emask)
        self.ops.append(self._var_op("ASSIGN_VARIABLE", [h, new], []))
        return cat

    def finish(self, inputs, outputs):
        if self.n_vars:
            self.ops.insert(0, self._var_op("CALL_ONCE", [], []))
        sg = fb.SubGraphT()
        sg.tensors, sg.operators = self.tensors, self.ops
        sg.inputs, sg.outputs = [int(i) for i in inputs], [int(i) for i in outputs]
        sg.name = "main"
        subgraphs = [sg]
        if self.n_vars:
            init = fb.SubGraphT()
            init.tensors, init.operators, init.inputs, init.outputs = self.init_tensors, self.init_ops, [], []
            init.name = "init"
            subgraphs.append(init)
        m = fb.ModelT()
        m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, self.codes, subgraphs, self.buffers
        m.description = "kwsnum stateful test model"
        b = flatbuffers.Builder(4096)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())
