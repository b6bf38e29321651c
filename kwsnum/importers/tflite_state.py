"""Stateful TFLite models (resource variables) -> kwsnum ``delay`` state (docs/numerics.md 11.5).

TF's converter writes a streaming layer's state as a resource variable:

    subgraph 0:  CALL_ONCE(init subgraph)                              first operator that touches state
                 h = VAR_HANDLE(shared_name)
                 r = READ_VARIABLE(h)                                   (1, ..., S, ...) the S older frames
                 c = CONCATENATION([r, x], axis=a)                      (1, ..., S + T, ...)
                 n = STRIDED_SLICE(c, keeps the S newest frames of axis a)
                 ASSIGN_VARIABLE(h, n)
    init subgraph: h = VAR_HANDLE(shared_name); ASSIGN_VARIABLE(h, constant)      (the initial value)

which is exactly kwsnum's ``delay`` (kwsnum/ops/delay.py: y = concat(state, x) along the last axis, state = the
S newest frames of y) with ``init`` = the constant, in kwsnum's layout. When axis a is not kwsnum's last axis the
delay runs between two permutations (reshapes where only size-1 axes move). Only this pattern is imported; any
deviation is refused naming the operator, its type and why. :func:`plan` checks the whole pattern before the
operators are imported and returns the handlers of the operators it covers.
"""
import numpy as np

from .tflite import PERM, _activation, _buffer, _opcode, _quant, _text, _tfl_shape

STATE_OPS = ("VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE")


def _key(op):
    o = op.builtinOptions
    container = _text(getattr(o, "container", None)) or ""
    shared = _text(getattr(o, "sharedName", None)) or ""
    return container, shared


def _ins(op):
    return [int(i) for i in (op.inputs if op.inputs is not None else [])]


def _outs(op):
    return [int(i) for i in (op.outputs if op.outputs is not None else [])]


def _init_values(ctx, m, index):
    """{variable key: (constant array in TFLite layout, TensorT, tensor index)} of the initialization subgraph."""
    sg = m.subgraphs[index]
    where = f"subgraph {index} (the CALL_ONCE initialization)"
    nt = len(sg.tensors or [])
    nb = len(m.buffers or [])
    for k, t in enumerate(sg.tensors or []):
        if not 0 <= t.buffer < max(nb, 1):
            ctx.fail(f"tensor {k}: buffer index {t.buffer} out of range (the model has {nb} buffers)", where=where)
    if len(sg.inputs if sg.inputs is not None else []) or len(sg.outputs if sg.outputs is not None else []):
        ctx.fail("the initialization subgraph has inputs or outputs (kwsnum imports one that only assigns "
                 "constants to state variables)", where=where)
    handles, values = {}, {}
    for j, op in enumerate(sg.operators or []):
        if not 0 <= op.opcodeIndex < len(m.operatorCodes or []):
            ctx.fail(f"operator {j}: opcode index {op.opcodeIndex} out of range", where=where)
        name = _opcode(ctx, m, op)
        w = f"subgraph {index} operator {j} ({name})"
        for i in _ins(op) + _outs(op):
            if not 0 <= i < nt:
                ctx.fail(f"tensor index {i} out of range (the subgraph has {nt} tensors)", where=w)
        if name == "VAR_HANDLE":
            if len(_outs(op)) != 1 or _ins(op):
                ctx.fail("VAR_HANDLE must have no inputs and one output", where=w)
            handles[_outs(op)[0]] = _key(op)
        elif name == "ASSIGN_VARIABLE":
            ins = _ins(op)
            if len(ins) != 2 or ins[0] not in handles:
                ctx.fail("ASSIGN_VARIABLE must assign to a VAR_HANDLE of this subgraph", where=w)
            key = handles[ins[0]]
            if key in values:
                ctx.fail(f"variable {key[1]!r} is assigned twice", where=w)
            t = sg.tensors[ins[1]]
            raw = _buffer(ctx, m, t, ins[1])
            if raw is None:
                ctx.fail(f"the value assigned to variable {key[1]!r} (tensor {ins[1]}) is not a constant: kwsnum "
                         f"imports constant initial states", where=w)
            values[key] = (raw, t, ins[1])
        else:
            ctx.fail("the initialization subgraph may hold only VAR_HANDLE and ASSIGN_VARIABLE operators (constant "
                     "initial states)", where=w)
    return values


def _slice_range(ctx, m, sg, op, shape):
    """(start, size, stride) per axis of a STRIDED_SLICE (TFLite's StartForAxis / StopForAxis, positive strides;
    None when a mask or stride makes it something else: the caller refuses)."""
    from .tflite import _const
    o = op.builtinOptions
    for name in ("ellipsisMask", "newAxisMask", "shrinkAxisMask"):
        if int(getattr(o, name, 0) or 0):
            return None
    if bool(getattr(o, "offset", False)):
        return None
    ins = _ins(op)
    if len(ins) != 4:
        return None
    rank = len(shape)
    vals = []
    for j in (1, 2, 3):
        v, _ = _const(ctx, m, sg, ins[j], ("INT32", "INT64"))
        if v.shape != (rank,):
            return None
        vals.append([int(a) for a in v])
    begin, end, strides = vals
    bm, em = int(getattr(o, "beginMask", 0) or 0), int(getattr(o, "endMask", 0) or 0)
    out = []
    for a in range(rank):
        d, s = shape[a], strides[a]
        if s < 1:
            return None
        b = 0 if bm >> a & 1 else begin[a]
        e = d if em >> a & 1 else end[a]
        b = min(max(b + d if b < 0 else b, 0), d)
        e = min(max(e + d if e < 0 else e, 0), d)
        out.append((b, max(0, -(-(e - b) // s)), s))
    return out


def plan(ctx, m):
    """Check the resource-variable pattern of the whole model; {operator index: handler} of the operators it
    covers (CALL_ONCE, VAR_HANDLE, READ_VARIABLE, the CONCATENATION that becomes a delay, its STRIDED_SLICE,
    ASSIGN_VARIABLE). A model without CALL_ONCE and variables gets {}."""
    sg = m.subgraphs[0]
    ops = list(sg.operators or [])
    names = [_opcode(ctx, m, op) for op in ops]
    n_sub = len(m.subgraphs)

    def fail(k, why):
        ctx.fail(why, where=f"operator {k} ({names[k]})")

    calls = [k for k, n in enumerate(names) if n == "CALL_ONCE"]
    state = [k for k, n in enumerate(names) if n in STATE_OPS and n != "CALL_ONCE"]
    if not calls and not state:
        if n_sub > 1:
            ctx.fail(f"{n_sub} subgraphs without a CALL_ONCE (control flow: WHILE, IF, ...): kwsnum imports "
                     f"single-subgraph models and stateful models whose second subgraph initializes the state",
                     where="/subgraphs")
        return {}
    if not calls:
        fail(state[0], "a state variable without a CALL_ONCE initialization subgraph: kwsnum needs the variable's "
                       "initial value")
    if len(calls) > 1:
        fail(calls[1], "a second CALL_ONCE: kwsnum imports one initialization subgraph")
    kc = calls[0]
    o = ops[kc].builtinOptions
    init_index = int(getattr(o, "initSubgraphIndex", 0) or 0) if o is not None else 0
    if not 1 <= init_index < n_sub:
        fail(kc, f"init_subgraph_index {init_index} is not a subgraph of the model ({n_sub} subgraphs)")
    if n_sub != 2:
        ctx.fail(f"{n_sub} subgraphs: kwsnum imports the main subgraph and one CALL_ONCE initialization subgraph "
                 f"(other subgraphs are control flow)", where="/subgraphs")
    if state and state[0] < kc:
        fail(state[0], f"comes before the CALL_ONCE (operator {kc}) that initializes the state")
    init = _init_values(ctx, m, init_index)

    consumers = {}
    for k, op in enumerate(ops):
        for j, i in enumerate(_ins(op)):
            consumers.setdefault(i, []).append((k, j))
    graph_out = {int(i) for i in sg.outputs}
    handlers = {kc: _skip}
    handles = {}                  # handle tensor -> (VAR_HANDLE operator index, key)
    keys = {}
    for k in state:
        op = ops[k]
        if names[k] != "VAR_HANDLE":
            continue
        if len(_outs(op)) != 1 or _ins(op):
            fail(k, "VAR_HANDLE must have no inputs and one output")
        key = _key(op)
        if key in keys:
            fail(k, f"a second VAR_HANDLE of variable {key[1]!r} (kwsnum imports one read and one assignment per "
                    f"variable)")
        keys[key] = k
        handles[_outs(op)[0]] = (k, key)
        handlers[k] = _skip
    for k in state:
        if names[k] in ("READ_VARIABLE", "ASSIGN_VARIABLE") and (not _ins(op_ := ops[k]) or
                                                                 _ins(op_)[0] not in handles):
            fail(k, "its resource input is not the output of a VAR_HANDLE of this subgraph")
    for h, (kh, key) in handles.items():
        if key not in init:
            fail(kh, f"variable {key[1]!r} is not assigned by the CALL_ONCE initialization subgraph: kwsnum needs "
                     f"its initial value")
        uses = consumers.get(h, [])
        reads = [(k, j) for k, j in uses if names[k] == "READ_VARIABLE"]
        assigns = [(k, j) for k, j in uses if names[k] == "ASSIGN_VARIABLE"]
        other = [k for k, j in uses if names[k] not in ("READ_VARIABLE", "ASSIGN_VARIABLE")]
        if other:
            fail(other[0], f"uses the handle of variable {key[1]!r}: only READ_VARIABLE and ASSIGN_VARIABLE may")
        if len(reads) != 1 or len(assigns) != 1:
            fail(kh, f"variable {key[1]!r} is read {len(reads)} and assigned {len(assigns)} times: kwsnum imports "
                     f"state read once and assigned once per step (a delay line)")
        handlers.update(_pattern(ctx, m, sg, ops, names, consumers, graph_out, key, reads[0][0], assigns[0][0],
                                 init[key], fail))
    return handlers


def _pattern(ctx, m, sg, ops, names, consumers, graph_out, key, kr, ka, init, fail):
    """The handlers of one variable's READ -> CONCATENATION -> STRIDED_SLICE -> ASSIGN chain, after checking it."""
    var = repr(key[1])
    read = ops[kr]
    if len(_outs(read)) != 1:
        fail(kr, "READ_VARIABLE must have one output")
    r = _outs(read)[0]
    uses = consumers.get(r, [])
    if r in graph_out or len(uses) != 1 or names[uses[0][0]] != "CONCATENATION" or uses[0][1] != 0:
        fail(kr, f"the state of variable {var} must feed exactly one CONCATENATION, as its first input (the older "
                 f"frames first): kwsnum maps that pattern onto its delay line")
    kc = uses[0][0]
    cat = ops[kc]
    cins, couts = _ins(cat), _outs(cat)
    if len(cins) != 2 or len(couts) != 1:
        fail(kc, f"concatenates {len(cins)} tensors with the state of variable {var}: kwsnum's delay takes the "
                 f"state and one input")
    x, c = cins[1], couts[0]
    o = cat.builtinOptions
    if o is not None and int(getattr(o, "fusedActivationFunction", 0) or 0) != 0:
        fail(kc, "a fused activation on the CONCATENATION of a state")
    rank = len(_tfl_shape(sg, c))
    a = int(getattr(o, "axis", 0) or 0) if o is not None else 0
    if not -rank <= a < rank:
        fail(kc, f"axis {a} out of range for rank {rank}")
    a %= rank
    if a == 0:
        fail(kc, "concatenation of a state along the batch axis (kwsnum imports batch-1 models)")
    rs, xs_, cs = _tfl_shape(sg, r), _tfl_shape(sg, x), _tfl_shape(sg, c)
    if len(rs) != rank or len(xs_) != rank or any(rs[i] != xs_[i] for i in range(rank) if i != a) or \
            cs[a] != rs[a] + xs_[a]:
        fail(kc, f"shapes state {rs} + input {xs_} -> {cs} are not a concatenation along axis {a}")
    S, T = rs[a], xs_[a]
    tr, tx, tc = sg.tensors[r], sg.tensors[x], sg.tensors[c]
    if _buffer(ctx, m, tx, x) is not None:
        fail(kc, f"the frames concatenated after the state of variable {var} are a constant")

    def q(t):
        s, z, _ = _quant(t)
        return (int(t.type), None if s is None else tuple(np.float32(s)), None if z is None else tuple(z))
    if not q(tr) == q(tx) == q(tc):
        fail(kc, f"the state of variable {var}, the new frames and the concatenation differ in type or "
                 f"quantization: kwsnum's delay moves values unchanged")
    # the assignment: the newest S frames of the concatenation, nothing else
    assign = ops[ka]
    ains = _ins(assign)
    if len(ains) != 2:
        fail(ka, "ASSIGN_VARIABLE must have two inputs (handle, value)")
    v = ains[1]
    producers = [k for k, op in enumerate(ops) if v in _outs(op)]
    if len(producers) != 1 or names[producers[0]] != "STRIDED_SLICE" or _ins(ops[producers[0]])[:1] != [c]:
        fail(ka, f"the value assigned to variable {var} must be a STRIDED_SLICE of the CONCATENATION (operator "
                 f"{kc}) of its state and the new frames")
    ks = producers[0]
    if len(_outs(ops[ks])) != 1:
        fail(ks, "STRIDED_SLICE must have one output")
    if v in graph_out or len(consumers.get(v, [])) != 1:
        fail(ks, f"the new state of variable {var} is used beyond its ASSIGN_VARIABLE")
    rng = _slice_range(ctx, m, sg, ops[ks], cs)
    want = [(0, cs[i], 1) if i != a else (T, S, 1) for i in range(rank)]
    if rng != want:
        got = "masks or strides kwsnum does not map" if rng is None else \
            ", ".join(f"axis {i}: {b}:{b + n * s}:{s}" for i, (b, n, s) in enumerate(rng))
        fail(ks, f"does not keep exactly the newest {S} frames of axis {a} ({got}): a state that is not a "
                 f"delay line")
    if q(sg.tensors[v]) != q(tc) or _tfl_shape(sg, v) != rs:
        fail(ks, f"the new state of variable {var} differs in type, quantization or shape from the state")
    if not kr < kc < ks < ka:
        fail(ka, f"the operators of variable {var} are out of order (read {kr}, concatenation {kc}, slice {ks}, "
                 f"assignment {ka})")
    raw, ti, ii = init
    tname = ctx.type_names.get(ti.type, str(ti.type))
    if int(ti.type) != int(tr.type) or tuple(int(d) for d in (ti.shape if ti.shape is not None else [])) != rs:
        ctx.fail(f"the initial value of variable {var} (tensor {ii}, {tname} "
                 f"{tuple(ti.shape if ti.shape is not None else [])}) does not match the state "
                 f"({ctx.type_names.get(tr.type)} {rs})", where="subgraph (the CALL_ONCE initialization)")
    dt = {"INT8": np.int8, "INT16": np.int16}.get(tname)
    if dt is None:
        fail(kc, f"a {tname} state: kwsnum imports int8 and int16 states")
    dt = np.dtype(dt).newbyteorder("<")
    if len(raw) != int(np.prod(rs)) * dt.itemsize:
        ctx.fail(f"the initial value of variable {var} holds {len(raw)} bytes, shape {rs} needs "
                 f"{int(np.prod(rs)) * dt.itemsize}", where="subgraph (the CALL_ONCE initialization)")
    init_tfl = np.frombuffer(raw, dtype=dt).astype(dt.newbyteorder("=")).reshape(rs)
    emit = lambda ctx_, m_, sg_, k, op: _delay(ctx_, m_, sg_, k, x, c, a, S, init_tfl, key[1])   # noqa: E731
    return {kr: _skip, kc: emit, ks: _skip, ka: _skip}


def _skip(ctx, m, sg, k, op):
    """An operator the state pattern covers without a node of its own."""


def _delay(ctx, m, sg, k, x_idx, c_idx, a, S, init_tfl, var):
    from .tflite_ops import _add_node, _new_tensor, _permute
    if x_idx not in ctx.kw:
        ctx.fail(f"input tensor {x_idx} is neither a model input nor an earlier output")
    x = ctx.kw[x_idx]
    y = _activation(ctx, sg, m, c_idx)
    rank = len(init_tfl.shape)
    perm = PERM[rank]
    ka = perm.index(a - 1)                          # the time axis in kwsnum's layout
    init = np.ascontiguousarray(np.transpose(init_tfl[0], perm)) if perm else init_tfl[0]
    last = len(perm) - 1
    safe = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in var)[:40]
    name = f"op{k}_state_{safe}" if safe else f"op{k}_state"
    if ka == last:
        _add_node(ctx, "delay", name, [x], [y], dict(frames=int(S)), dict(init=init))
        return
    p = tuple(i for i in range(len(perm)) if i != ka) + (ka,)      # the time axis last
    xt = _permute(ctx, k, x, p, what="time_last")
    yt_shape = tuple(ctx.tensors[y].shape[i] for i in p)
    yt = _new_tensor(ctx, f"{y}_time_last", yt_shape, ctx.tensors[y])
    _add_node(ctx, "delay", name, [xt], [yt], dict(frames=int(S)), dict(init=np.ascontiguousarray(init.transpose(p))))
    _permute(ctx, k, yt, tuple(int(i) for i in np.argsort(p)), out=y, what="time_back")


__all__ = ["plan", "STATE_OPS"]
