"""The arena planner (codegen/planner.py): property tests on random lifetimes and a hand-checked case."""
import numpy as np
from hypothesis import given, strategies as st

from kwsnum.codegen.planner import ALIGN, Buffer, greedy_plan, lifetimes, peak_live_bytes, plan_model
from tests.models_small import tiny_int8_model


@st.composite
def buffer_sets(draw):
    n = draw(st.integers(1, 14))
    out = []
    for i in range(n):
        a = draw(st.integers(-1, 10))
        b = draw(st.integers(a, 11))
        out.append(Buffer(f"b{i}", draw(st.integers(0, 300)), a, b))
    return out


@given(buffer_sets(), st.sampled_from([1, 4, 16]))
def test_greedy_plan_is_valid(buffers, align):
    arena = greedy_plan(buffers, align)
    for b in buffers:
        assert b.offset % align == 0
        assert 0 <= b.offset and b.offset + b.size <= arena
    for i, a in enumerate(buffers):
        for b in buffers[i + 1:]:
            if a.size and b.size and a.overlaps_in_time(b):
                assert a.offset + a.size <= b.offset or b.offset + b.size <= a.offset, (a, b)
    assert arena >= peak_live_bytes(buffers)
    assert arena <= sum(_up(b.size, align) for b in buffers)


def _up(x, a):
    return (x + a - 1) // a * a


def test_hand_checked_case():
    # a(100, steps 0-1), b(50, 1-2), c(100, 2-3), d(10, 0-3)
    bs = [Buffer("a", 100, 0, 1), Buffer("b", 50, 1, 2), Buffer("c", 100, 2, 3), Buffer("d", 10, 0, 3)]
    arena = greedy_plan(bs, 16)
    off = {b.name: b.offset for b in bs}
    # largest first: a at 0; c (ties by first step) does not meet a in time -> 0; b meets a and c -> 112;
    # d meets everything: after a/c (0-100 -> 112) and b (112-162 -> 176)
    assert off == {"a": 0, "c": 0, "b": 112, "d": 176}
    assert arena == 186
    assert peak_live_bytes(bs) == 160


def test_model_lifetimes_and_reshape_alias():
    from kwsnum.builder import GraphBuilder
    b = GraphBuilder(name="m")
    x = b.input("x", (4, 5), "float32")
    r = b.add("relu", "r", [x], dict(act_min_f=0.0, act_max_f=float("inf")))
    f = b.add("reshape", "f", [r], dict(shape=(20,)))
    g = b.add("relu", "g", [f], dict(act_min_f=0.0, act_max_f=float("inf")))
    m = b.build([g])
    bufs, alias = lifetimes(m)
    life = {bb.name: (bb.first, bb.last) for bb in bufs}
    # relu runs in place: r writes over x (dead after step 0), f aliases r, g writes over f's bytes
    assert alias == {r: x, f: x, g: x}
    assert life == {x: (-1, 3)}
    plan = plan_model(m)
    assert plan.tensor_offset[f] == plan.tensor_offset[r] == plan.tensor_offset[x] == plan.tensor_offset[g] == 0
    assert plan.arena_bytes == 80


def test_tiny_model_plan():
    m = tiny_int8_model()
    plan = plan_model(m)
    # the int8 convs' fast kernels each take a scratch buffer (im2col), live at their step only
    scratch = [b.size for b in plan.buffers if b.name.startswith("#scratch")]
    assert len(scratch) == 2 and plan.scratch_offset.keys() == {0, 1}
    sizes = [t.nbytes for t in m.tensors.values()] + scratch
    assert plan.arena_bytes <= sum(_up(s, ALIGN) for s in sizes)
    assert plan.arena_bytes >= plan.peak_live_bytes == max(60 + 120 + scratch[0], 120 + 3 + scratch[1])
    assert all(v % ALIGN == 0 for v in plan.tensor_offset.values())
    assert np.isclose(plan.activation_bytes, sum(sizes))


def test_inplace_div_shares_the_dead_input():
    """div may write over its first input when that input is dead afterwards (same size); not when it is read
    later, not over the broadcast divisor, not over a model output."""
    from kwsnum.builder import GraphBuilder
    from kwsnum.codegen import build, generate, verify
    from tests import c_build
    b = GraphBuilder(name="m")
    x = b.input("x", (4, 5), "float32")
    r = b.add("relu", "r", [x], dict(act_min_f=0.0, act_max_f=float("inf")))
    g = b.add("global_avgpool", "g", [r], dict(act_min_f=-float("inf"), act_max_f=float("inf")))  # (4, 1)
    d = b.add("div", "d", [r, g], dict(eps=1e-3))          # r is dead after d: d writes over r
    e = b.add("div", "e", [d, g], dict(eps=1e-3))          # d dead after e, but g is read again below
    f = b.add("div", "f", [e, g], dict(eps=0.5))
    m = b.build([f])
    plan = plan_model(m)
    assert plan.alias_of == {r: x, d: x, e: x, f: x}       # relu writes over x too
    assert plan.tensor_offset[d] == plan.tensor_offset[r] == plan.tensor_offset[f]
    assert plan.tensor_offset[g] != plan.tensor_offset[r]
    # a later reader of the input forbids it
    b = GraphBuilder(name="m2")
    x = b.input("x", (4, 5), "float32")
    r = b.add("relu", "r", [x], dict(act_min_f=0.0, act_max_f=float("inf")))
    g = b.add("global_avgpool", "g", [r], dict(act_min_f=-float("inf"), act_max_f=float("inf")))
    d = b.add("div", "d", [r, g], dict(eps=1e-3))
    s = b.add("add", "s", [d, r], dict(act_min_f=-float("inf"), act_max_f=float("inf")))
    m2 = b.build([s])
    p2 = plan_model(m2)
    assert d not in p2.alias_of and p2.alias_of[s] == d       # r is read again by s; s writes over d
    # and the C built from the in-place plan equals the oracle
    if c_build.compiler() is not None:
        import tempfile
        with tempfile.TemporaryDirectory() as t:
            p = generate(m, t + "/c", name="m")
            build(p.path, werror=True)
            x = np.random.default_rng(0).standard_normal((7, 4, 5)).astype(np.float32)
            assert verify(m, p.path, x).ok
