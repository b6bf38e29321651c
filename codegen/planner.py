"""Static memory planning for the generated C: one arena, every activation at a fixed offset.

1. :func:`lifetimes` derives, from the node order, the steps during which each activation tensor must hold its
   value: from the step of its producer to the step of its last consumer (inclusive). The model input is live
   from step -1 (it is copied into the arena before the first node runs), the model output until step
   ``len(nodes)`` (it is copied out after the last node). A ``reshape`` is an *alias* of its input (no copy, same
   bytes): it gets no buffer of its own, and its consumers extend the lifetime of the buffer it aliases. A
   ``("scratch", n)`` argument of a node's C call is a buffer live during that node's step only.
2. :func:`greedy_plan` places the buffers like TFLM's ``GreedyMemoryPlanner``: sorted by size (largest first,
   ties by first step then name, so the plan is deterministic), each buffer goes at the lowest offset (a multiple
   of ``align``) where it does not overlap any already-placed buffer whose lifetime intersects its own.
3. :func:`plan_model` does both for a model and returns a :class:`MemoryPlan` (offset of every tensor, aliases
   resolved; offset of every scratch buffer; the arena size = the end of the highest placed buffer).

Two lifetimes [a, b] and [c, d] intersect iff a <= d and c <= b: a node's inputs and output are both live at
its step, so a kernel never reads and writes the same bytes -- except *in place*: an op that declares an input
its C kernel may overwrite element by element (``Op.inplace_inputs``: elementwise ops such as relu, add, div)
writes its output over that input when the input has the output's size, appears once among the node's inputs,
and is dead afterwards (no later consumer of it or of anything sharing its bytes, not a model output). The
output is then planned like an alias of that input.
"""
from dataclasses import dataclass, field

from kwsnum.errors import ModelError

ALIGN = 16


@dataclass
class Buffer:
    """One planned block: ``size`` bytes live from step ``first`` to step ``last`` (inclusive)."""
    name: str
    size: int
    first: int
    last: int
    offset: int = None

    def overlaps_in_time(self, other):
        return self.first <= other.last and other.first <= self.last


def _align_up(x, align):
    return (x + align - 1) // align * align


def greedy_plan(buffers, align=ALIGN):
    """Assign ``offset`` to each :class:`Buffer` in place; return the arena size in bytes.

    Largest first; each at the lowest aligned offset that does not overlap (in bytes) any placed buffer whose
    lifetime intersects its own. Zero-size buffers get offset 0 and take no room."""
    if align < 1:
        raise ValueError("align must be >= 1")
    order = sorted(buffers, key=lambda b: (-b.size, b.first, b.last, b.name))
    placed = []
    for b in order:
        if b.size < 0 or b.first > b.last:
            raise ValueError(f"bad buffer {b}")
        if b.size == 0:
            b.offset = 0
            continue
        busy = sorted((p.offset, p.offset + p.size) for p in placed if p.overlaps_in_time(b))
        off = 0
        for start, end in busy:
            if off + b.size <= start:
                break
            off = max(off, _align_up(end, align))
        b.offset = off
        placed.append(b)
    return max((b.offset + b.size for b in placed), default=0)


def peak_live_bytes(buffers):
    """max over steps of the sum of the sizes of the buffers live at that step (a lower bound of any arena)."""
    steps = sorted({b.first for b in buffers} | {b.last for b in buffers})
    return max((sum(b.size for b in buffers if b.first <= s <= b.last) for s in steps), default=0)


@dataclass
class MemoryPlan:
    arena_bytes: int
    buffers: list                                  # the placed Buffers (one per non-alias tensor and scratch)
    tensor_offset: dict = field(default_factory=dict)   # tensor name -> byte offset in the arena
    alias_of: dict = field(default_factory=dict)        # reshape / in-place output -> the root tensor it shares
    scratch_offset: dict = field(default_factory=dict)  # node index -> byte offset of its scratch buffer
    external: dict = field(default_factory=dict)        # tensor -> "input" / "output" (caller's buffers)

    @property
    def activation_bytes(self):
        """Sum of the sizes of every planned buffer (what an arena without reuse would take, before padding)."""
        return sum(b.size for b in self.buffers)

    @property
    def peak_live_bytes(self):
        return peak_live_bytes(self.buffers)


def is_alias(node):
    """Nodes whose output is the same bytes as their input (no code emitted)."""
    return node.op == "reshape"


def lifetimes(model, scratch=None, external_io=False):
    """Buffers (unplaced) and the alias map for ``model``. ``scratch``: {node position: nbytes} (optional).
    ``external_io``: the model input and output live in the caller's buffers (zero-copy API): no node writes in
    place over the input (it is const) or over anything sharing the output's bytes, and neither gets a buffer."""
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelError(f"the C generator supports models with one input and one output, this one has "
                         f"{len(model.inputs)} and {len(model.outputs)}", where="/")
    alias_of = {}

    def root(t):
        while t in alias_of:
            t = alias_of[t]
        return t

    from kwsnum import ops
    last_consumer = {}
    for i, node in enumerate(model.nodes):
        for t in node.inputs:
            last_consumer[t] = i

    def dead_after(t, i):
        """No tensor sharing t's bytes is read after step i or is a model output."""
        r = root(t)
        sharing = [u for u in list(alias_of) + [r] if root(u) == r]
        return all(last_consumer.get(u, -1) <= i and u not in model.outputs for u in sharing)

    first, last = {}, {}
    for t in model.inputs:
        first[t] = last[t] = -1
    for i, node in enumerate(model.nodes):
        for t in node.inputs:
            last[root(t)] = max(last[root(t)], i)
        out = node.outputs[0]
        if is_alias(node):
            alias_of[out] = node.inputs[0]
            continue
        for k in ops.get(node.op, node).inplace_inputs(node, model):
            t = node.inputs[k]
            if external_io and (root(t) in model.inputs or out in model.outputs):
                continue
            if node.inputs.count(t) == 1 and model.tensors[t].nbytes == model.tensors[out].nbytes and \
                    dead_after(t, i):
                alias_of[out] = t
                break
        else:
            first[out] = last[out] = i
    end = len(model.nodes)
    for t in model.outputs:
        last[root(t)] = end
    external = {root(t) for t in model.inputs + model.outputs} if external_io else set()
    buffers = [Buffer(t, model.tensors[t].nbytes, first[t], last[t]) for t in first if t not in external]
    for i, nbytes in sorted((scratch or {}).items()):
        if nbytes > 0:
            buffers.append(Buffer(f"#scratch{i}", int(nbytes), i, i))
    return buffers, {t: root(t) for t in alias_of}


def scratch_sizes(model):
    """{node position: scratch bytes} from the nodes' C calls (nodes without scratch are absent)."""
    from kwsnum import ops
    out = {}
    for i, node in enumerate(model.nodes):
        if is_alias(node):
            continue
        _, args = ops.get(node.op, node).c_function(node, model)
        n = sum(int(v) for kind, v in args if kind == "scratch")
        if sum(1 for kind, _ in args if kind == "scratch") > 1:
            raise ModelError("a C call with more than one scratch buffer is not supported", where=node.where)
        if n > 0:
            out[i] = n
    return out


def plan_model(model, align=ALIGN, external_io=False):
    """The :class:`MemoryPlan` of ``model`` (tensor offsets with aliases resolved, scratch offsets by node index,
    arena). ``external_io`` (see :func:`lifetimes`): the input and output, and every tensor sharing their bytes,
    are in ``MemoryPlan.external`` ({tensor: "input" | "output"}) instead of ``tensor_offset``."""
    buffers, alias_of = lifetimes(model, scratch_sizes(model), external_io)
    arena = greedy_plan(buffers, align)
    by_name = {b.name: b for b in buffers}
    offsets = {b.name: b.offset for b in buffers if not b.name.startswith("#scratch")}
    external = {}
    if external_io:
        for io, names in (("input", model.inputs), ("output", model.outputs)):
            for t in names:
                r = alias_of.get(t, t)
                external[r] = io
    for t, r in alias_of.items():
        if r in external:
            external[t] = external[r]
        else:
            offsets[t] = by_name[r].offset
    scratch = {model.nodes[int(b.name[len("#scratch"):])].index: b.offset for b in buffers
               if b.name.startswith("#scratch")}
    return MemoryPlan(arena, buffers, offsets, alias_of, scratch, external)


def plan_c_model(model, align=ALIGN):
    """The plan of the generated C's ``<name>_invoke``: the model without its input quantize and output dequantize
    (codegen/api.py), the input and output in the caller's buffers."""
    from .api import split_io
    return plan_model(split_io(model).core, align, external_io=True)
