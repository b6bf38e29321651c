"""pad (constant padding): oracle == torch == C bit for bit in int8, int16 and float32."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from tests.c_build import assert_same, run_c
from tests.strategies import check_model

DTYPES = {"int8": np.int8, "int16": np.int16, "float32": np.float32}


@given(st.sampled_from(sorted(DTYPES)), st.lists(st.integers(1, 5), min_size=1, max_size=3), st.data())
def test_pad_three_way(fmt, shape, data):
    rank = len(shape)
    pads = tuple(data.draw(st.integers(0, 3)) for _ in range(2 * rank))
    q = dict(int8=(0.1, -7), int16=(0.01, 0)).get(fmt, (None, None))
    attrs = dict(pads=pads)
    if fmt == "float32":
        attrs["value_f"] = data.draw(st.sampled_from([0.0, -1.5, 3.25]))
    else:
        attrs["value"] = data.draw(st.integers(-128, 127)) if fmt == "int8" else data.draw(st.integers(-32768, 32767))
    b = GraphBuilder()
    x = b.input("x", shape, fmt, *q)
    y = b.add("pad", "p", [x], attrs, scale=q[0], zero_point=q[1])
    model = b.build([y])
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    xs = (rng.normal(size=(2,) + tuple(shape)) * 50).astype(DTYPES[fmt])
    ref = check_model(model, xs)
    v = attrs.get("value_f", attrs.get("value"))
    want = np.pad(xs, [(0, 0)] + [(pads[2 * i], pads[2 * i + 1]) for i in range(rank)], constant_values=v)
    assert np.array_equal(ref["p"], want)
    assert_same(run_c(model, xs), ref)


def test_pad_refuses_bad_pads():
    b = GraphBuilder()
    x = b.input("x", (2, 3), "float32")
    with pytest.raises(ModelError, match="expected 4"):
        b.add("pad", "p", [x], dict(pads=(1, 1)))
        b.build(["p"])
