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

This module reads the file and its tensors and drives the import; :mod:`kwsnum.importers.tflite_ops` maps each
operator.
"""
import json
import os
import stat
import re

import numpy as np

from ..errors import ModelError, ModelImportError
from ..model import Model, TensorSpec

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
STATEFUL = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE")   # kwsnum.importers.tflite_state
NOT_YET = {}  # known TFLite ops kwsnum has no exact kernel for yet: op -> the reason, part of the error
FORMAT_OF = {"INT8": "int8", "INT16": "int16", "FLOAT32": "float32", "UINT8": "uint8"}   # uint8: edges only
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
        self.state_handlers = {}

    # ------------------------------------------------------------------ errors
    def fail(self, message, where=None):
        raise ModelImportError(message, where=where or self.where, file=self.file)


MAX_TFLITE_BYTES = 1 << 30


def from_tflite(source, labels=None, name=None):
    """Import a .tflite model (a path or its bytes). ``labels``: a list of class names (one per output element)."""
    fb = schema()
    file = None
    if isinstance(source, (str, os.PathLike)):
        file = os.fspath(source)
        try:
            st = os.stat(file)
            if not stat.S_ISREG(st.st_mode):       # a FIFO or device could block or never end
                raise ModelImportError("is not a regular file; give a .tflite file", file=file)
            if st.st_size > MAX_TFLITE_BYTES:
                raise ModelImportError(f"is {st.st_size} bytes; kwsnum imports .tflite files of at most "
                                       f"{MAX_TFLITE_BYTES} bytes", file=file)
            with open(file, "rb") as f:
                data = f.read()
        except OSError as e:
            raise ModelImportError(f"cannot read: {e.strerror or e}", file=file) from None
        name = name or os.path.splitext(os.path.basename(file))[0]
    else:
        data = bytes(source)
    ctx = _Ctx(data, fb, file)
    m = _parse(ctx)
    from .tflite_state import plan
    ctx.state_handlers = plan(ctx, m)          # resource variables -> delay (a second subgraph: its CALL_ONCE init)
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
        ctx.fail(f"tensor {k} ({_text(t.name)}) is {tname}: kwsnum imports int8, int16, and float32 / uint8 edges",
                 where=where)
    scale = zp = None
    if fmt in ("int8", "int16", "uint8"):
        scales, zps, _ = _quant(t)
        if scales is None:
            ctx.fail(f"tensor {k} ({_text(t.name)}) is {tname} without quantization parameters", where=where)
        if len(scales) != 1:
            ctx.fail(f"activation tensor {k} ({_text(t.name)}) has {len(scales)} scales (per-channel activations "
                     f"are not TFLite int8 semantics)", where=where)
        scale, zp = float(scales[0]), int(zps[0])
        if not np.isfinite(scale) or scale <= 0:
            ctx.fail(f"tensor {k} ({_text(t.name)}) has scale {scale}", where=where)
        if fmt == "uint8" and not 0 <= zp <= 255:
            ctx.fail(f"uint8 tensor {k} ({_text(t.name)}) has zero point {zp} (outside [0, 255])", where=where)
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


def _operator(ctx, m, sg, k, op):
    opname = _opcode(ctx, m, op)
    ctx.where = f"operator {k} ({opname})"
    if k in ctx.state_handlers:
        ctx.state_handlers[k](ctx, m, sg, k, op)
        return
    if opname in STATEFUL:
        ctx.fail("a state variable operator outside the READ_VARIABLE -> CONCATENATION -> STRIDED_SLICE -> "
                 "ASSIGN_VARIABLE pattern kwsnum imports")
    from .tflite_ops import HANDLERS
    h = HANDLERS.get(opname)
    if h is None:
        why = NOT_YET.get(opname, "not supported")
        ctx.fail(f"{why} (supported: {', '.join(SUPPORTED + STATEFUL)})")
    needs_opts = opname in ("CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D")
    if needs_opts and op.builtinOptions is None:
        ctx.fail("the operator has no builtin options")
    if op.inputs is None or op.outputs is None:
        ctx.fail("the operator lists no inputs or outputs")
    h(ctx, m, sg, k, op)


__all__ = ["from_tflite", "SUPPORTED", "schema"]
