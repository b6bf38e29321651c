"""transpose: oracle == torch == C == numpy.transpose, bit for bit, in several formats."""
import itertools

import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from tests.c_build import assert_same, run_c
from tests.strategies import check_model

DTYPES = {"int8": np.int8, "int16": np.int16, "float32": np.float32, "q32": np.int32}


@given(st.sampled_from(sorted(DTYPES)), st.lists(st.integers(1, 6), min_size=1, max_size=3), st.data())
def test_transpose_three_way(fmt, shape, data):
    perm = data.draw(st.sampled_from(list(itertools.permutations(range(len(shape))))))
    q = dict(int8=(0.1, -7), int16=(0.01, 0)).get(fmt, (None, None))
    frac = 3 if fmt == "q32" else None
    g = GraphBuilder()
    x = g.input("x", shape, fmt, *q, frac_bits=frac)
    y = g.add("transpose", "t", [x], dict(perm=perm), scale=q[0], zero_point=q[1], frac_bits=frac)
    model = g.build([y])
    xs = (np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1))).normal(size=(2,) + tuple(shape)) * 50) \
        .astype(DTYPES[fmt])
    ref = check_model(model, xs)
    assert np.array_equal(ref["t"], np.transpose(xs, (0,) + tuple(1 + i for i in perm)))
    assert_same(run_c(model, xs), ref)


def test_transpose_refuses_bad_perm():
    g = GraphBuilder()
    x = g.input("x", (2, 3), "float32")
    with pytest.raises(ModelError, match="not a permutation"):
        g.build([g.add("transpose", "t", [x], dict(perm=(0, 0)))])
