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
    assert alias == {f: r}
    assert life == {x: (-1, 0), r: (0, 2), g: (2, 3)}      # r extended by its alias' consumer (step 2)
    plan = plan_model(m)
    assert plan.tensor_offset[f] == plan.tensor_offset[r]
    # x (80 bytes) and g (80 bytes) never live together: they share offset 0; r sits after them
    assert plan.tensor_offset[x] == plan.tensor_offset[g] == 0 and plan.tensor_offset[r] == 80
    assert plan.arena_bytes == 160


def test_tiny_model_plan():
    m = tiny_int8_model()
    plan = plan_model(m)
    sizes = [t.nbytes for t in m.tensors.values()]
    assert plan.arena_bytes <= sum(_up(s, ALIGN) for s in sizes)
    assert plan.arena_bytes >= plan.peak_live_bytes == max(60 + 120, 120 + 3)
    assert all(v % ALIGN == 0 for v in plan.tensor_offset.values())
    assert np.isclose(plan.activation_bytes, sum(sizes))
