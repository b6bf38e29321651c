"""div (a / (b + eps), b broadcast): torch == oracle == C bit for bit in float32 (single IEEE operations),
C == oracle bit for bit in float16 / bfloat16; zeros, infinities and NaN included."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from tests.c_build import assert_same, run_c
from tests.strategies import check_model, float_array, in_format


@st.composite
def div_models(draw):
    rank = draw(st.integers(1, 3))
    a_shape = tuple(draw(st.integers(1, 5)) for _ in range(rank))
    b_shape = tuple(d if draw(st.booleans()) else 1 for d in a_shape)
    N = draw(st.integers(1, 3))
    b = GraphBuilder()
    xa = b.input("a", a_shape, "float32")
    xb = b.input("b", b_shape, "float32")
    eps = draw(st.sampled_from([0.0, 1e-6, 1e-3, 0.5]))
    act = draw(st.sampled_from([(-np.inf, np.inf), (-3.0, 3.0)]))
    y = b.add("div", "d", [xa, xb], dict(eps=eps, act_min_f=act[0], act_max_f=act[1]))
    da = float_array(draw, (N,) + a_shape, 3.0)
    db = float_array(draw, (N,) + b_shape, draw(st.sampled_from([1.0, 1e-4])))
    if draw(st.booleans()):           # specials: zeros (+-0), inf, NaN
        flat = db.reshape(-1)
        specials = np.float32([0.0, -0.0, np.inf, -np.inf, np.nan])
        idx = draw(st.lists(st.integers(0, flat.size - 1), max_size=3))
        for i, v in zip(idx, draw(st.lists(st.sampled_from(list(specials)), min_size=len(idx), max_size=len(idx)))):
            flat[i] = v
    return b.build([y]), (da, db)


@pytest.mark.parametrize("fmt", ["float32", "float16", "bfloat16"])
@given(case=div_models())
def test_div_three_way(fmt, case):
    model, data = in_format(*case, fmt)
    ref = check_model(model, data)
    got = run_c(model, data)
    assert_same(got, ref)
    if fmt == "float32":             # every step is one IEEE operation: torch agrees bit for bit as well
        from kwsnum.torchref import run_reference
        t = run_reference(model, data)
        np.testing.assert_array_equal(t, ref["d"])


def test_div_rejects_bad_broadcast():
    b = GraphBuilder()
    xa = b.input("a", (3, 4), "float32")
    xb = b.input("b", (2, 4), "float32")
    y = b.add("div", "d", [xa, xb])
    with pytest.raises(ModelError, match="does not broadcast"):
        b.build([y])
