"""slice (strided window): oracle == torch == C == numpy slicing, bit for bit, in several formats."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from tests.c_build import assert_same, run_c
from tests.strategies import check_model

DTYPES = {"int8": np.int8, "int16": np.int16, "float32": np.float32, "q32": np.int32}


@given(st.sampled_from(sorted(DTYPES)), st.lists(st.integers(1, 8), min_size=1, max_size=3), st.data())
def test_slice_three_way(fmt, shape, data):
    begin, stride, size = [], [], []
    for d in shape:
        b = data.draw(st.integers(0, d - 1))
        s = data.draw(st.integers(1, 3))
        begin.append(b)
        stride.append(s)
        size.append(data.draw(st.integers(1, (d - 1 - b) // s + 1)))
    q = dict(int8=(0.1, -7), int16=(0.01, 0)).get(fmt, (None, None))
    frac = 3 if fmt == "q32" else None
    g = GraphBuilder()
    x = g.input("x", shape, fmt, *q, frac_bits=frac)
    y = g.add("slice", "s", [x], dict(begin=begin, stride=stride, size=size), scale=q[0], zero_point=q[1],
              frac_bits=frac)
    model = g.build([y])
    xs = (np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1))).normal(size=(2,) + tuple(shape)) * 50) \
        .astype(DTYPES[fmt])
    ref = check_model(model, xs)
    want = xs[(slice(None),) + tuple(slice(b, b + (n - 1) * s + 1, s) for b, s, n in zip(begin, stride, size))]
    assert np.array_equal(ref["s"], want)
    assert_same(run_c(model, xs), ref)


def test_slice_refuses_reads_outside():
    g = GraphBuilder()
    x = g.input("x", (5,), "float32")
    y = g.add("slice", "s", [x], dict(begin=[2], stride=[2], size=[3]))
    with pytest.raises(ModelError, match="reads index 6"):
        g.build([y])
