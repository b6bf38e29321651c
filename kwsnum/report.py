"""What ``kwsnum inspect`` shows: per-layer shapes, formats, parameters, MACs, bytes; model totals."""
from . import ops
from .text import printable


def layer_table(model):
    rows = []
    for node in model.nodes:
        op = ops.get(node.op, node)
        ins = [model.tensors[t] for t in node.inputs]
        out = model.tensors[node.outputs[0]]
        rows.append(dict(
            index=node.index, name=node.name, op=node.op,
            input_shapes=[list(t.shape) for t in ins], output_shape=list(out.shape),
            input_formats=[t.describe() for t in ins], output_format=out.describe(),
            params=op.param_count(node), macs=op.macs(node, model), weight_bytes=op.weight_bytes(node),
            accumulator=op.accumulator(node, model), summary=op.summary(node)))
    return rows


def peak_activation_bytes(model):
    """Peak bytes of live activation tensors for one sample when tensors are freed after their last use
    (the interpreter's order, no in-place reuse; the C memory planner reports its own arena)."""
    last_use = {}
    for i, node in enumerate(model.nodes):
        for t in node.inputs:
            last_use[t] = i
    live = {model.inputs[0]: model.input.nbytes}
    peak = sum(live.values())
    for i, node in enumerate(model.nodes):
        for t in node.outputs:
            live[t] = model.tensors[t].nbytes
        peak = max(peak, sum(live.values()))
        for t in node.inputs:
            if last_use.get(t) == i and t not in model.outputs:
                live.pop(t, None)
    return peak


def summary(model):
    rows = layer_table(model)
    return dict(
        name=model.name, rounding=model.rounding, labels=model.labels,
        input=dict(name=model.input.name, shape=list(model.input.shape), format=model.input.describe()),
        output=dict(name=model.output.name, shape=list(model.output.shape), format=model.output.describe()),
        layers=rows,
        total_params=sum(r["params"] for r in rows), total_macs=sum(r["macs"] for r in rows),
        weight_bytes=sum(r["weight_bytes"] for r in rows), peak_activation_bytes=peak_activation_bytes(model),
        c_arena_bytes=_c_arena_bytes(model),
        meta=model.meta,
        frontend=model.frontend.describe() if model.frontend is not None else None,
        integrity=model.integrity, streaming=_streaming(model))


def _streaming(model):
    """None, or the step, window, warm-up and state tensors of a streaming model (kwsnum/streaming.py)."""
    from . import streaming
    i = streaming.info(model)
    if i is None:
        return None
    rows = streaming.state_report(model)
    return dict(i, state_bytes=sum(r[3] for r in rows),
                states=[dict(node=n, shape=list(shp), format=f, bytes=b) for n, shp, f, b in rows])


def _c_arena_bytes(model):
    """The static arena of the generated C (kwsnum.codegen's planner: what ``kwsnum codegen`` allocates)."""
    from .codegen.planner import plan_model
    return plan_model(model).arena_bytes


def _headroom(acc):
    """'12b of int32': bits the worst-case accumulator could still grow before overflowing."""
    if not acc:
        return ""
    return f"{acc['headroom']}b of int{acc['bits']}"


def _shape(s):
    return "x".join(str(d) for d in s) if s else "scalar"


def _short_format(described):
    """A tensor format for the table: affine int8 / int16 without their scale and zero point (the JSON has them);
    Q formats keep their Qm.n (q16(Q4.12))."""
    return described if described.startswith("q") else described.split("(")[0]


def format_table(info):
    head = ["#", "layer", "op", "input", "output", "format", "params", "MACs", "weight B", "acc headroom",
            "parameters"]
    lines = []
    for r in info["layers"]:
        fmt_in = ",".join(dict.fromkeys(_short_format(f) for f in r["input_formats"]))
        fmt_out = _short_format(r["output_format"])
        fmt = fmt_out if fmt_in == fmt_out else f"{fmt_in}->{fmt_out}"
        lines.append([str(r["index"]), printable(r["name"], 48), printable(r["op"], 24), " + ".join(_shape(s) for s in r["input_shapes"]),
                      _shape(r["output_shape"]), fmt, f"{r['params']:,}", f"{r['macs']:,}",
                      f"{r['weight_bytes']:,}", _headroom(r.get("accumulator")), printable(r["summary"], 400)])
    widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(head)]
    right = {0, 6, 7, 8, 9}

    def fmt_row(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [f"model {printable(info['name'])!r}: input {printable(info['input']['name'])} "
           f"{_shape(info['input']['shape'])} {info['input']['format']} -> output {printable(info['output']['name'])} "
           f"{_shape(info['output']['shape'])} "
           f"{info['output']['format']}; rounding {info['rounding']}",
           fmt_row(head), fmt_row(["-" * w for w in widths])]
    out += [fmt_row(l) for l in lines]
    out.append("")
    out.append(f"parameters {info['total_params']:,}   MACs {info['total_macs']:,}   weight bytes "
               f"{info['weight_bytes']:,}   peak activation bytes {info['peak_activation_bytes']:,} (oracle order)   "
               f"C arena bytes {info['c_arena_bytes']:,}")
    st = info.get("streaming")
    if st:
        out.append(f"streaming: step {st['step']} frames, window {st['window']} frames, warm-up {st['warmup']} steps; "
                   f"state bytes {st['state_bytes']:,} (per stream, apart from the arena) in {len(st['states'])} "
                   f"state tensor(s):")
        out += [f"  state of {printable(r['node'], 48)}: {_shape(r['shape'])} {r['format']}, {r['bytes']:,} B"
                for r in st["states"]]
    if info.get("frontend"):
        out.append(f"frontend: {info['frontend']}")
    lab = info["labels"]
    if lab:
        out.append(f"labels ({len(lab)}): {', '.join(printable(x, 64) for x in lab)}")
    integrity = info.get("integrity")
    if integrity == "verified":
        out.append("integrity: SHA-256 digest of every item verified")
    elif integrity == "none":
        out.append("integrity: none (the file carries no digest: saved by an older kwsnum; kwsnum.save adds one)")
    return "\n".join(out)
