"""reshape / flatten: oracle == torch reference (row-major order), and its validation."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from tests.strategies import ROUNDINGS, FORMATS, int8_qparams, int8_array, float_array, check_model


def _factor(draw, n, rank):
    """A random shape of ``rank`` dimensions with product n."""
    dims = []
    for _ in range(rank - 1):
        divs = [d for d in range(1, n + 1) if n % d == 0]
        d = draw(st.sampled_from(divs))
        dims.append(d)
        n //= d
    return tuple(dims + [n])


@st.composite
def reshape_models(draw):
    fmt = draw(FORMATS)
    in_shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=4)))
    n = int(np.prod(in_shape))
    out_shape = _factor(draw, n, draw(st.integers(1, 4)))  # rank 1: flatten
    N = draw(st.integers(1, 3))
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    if fmt == "int8":
        s, z = draw(int8_qparams())
        x = b.input("x", in_shape, "int8", s, z)
        y = b.add("reshape", "r", [x], dict(shape=out_shape), scale=s, zero_point=z)
        data = int8_array(draw, (N,) + in_shape)
    else:
        x = b.input("x", in_shape, "float32")
        y = b.add("reshape", "r", [x], dict(shape=out_shape))
        data = float_array(draw, (N,) + in_shape)
    return b.build([y]), data


@given(reshape_models())
def test_reshape_oracle_equals_torch(case):
    model, x = case
    got = check_model(model, x)
    out = got[model.outputs[0]]
    assert out.shape == (x.shape[0],) + tuple(model.output.shape)
    assert np.array_equal(out.reshape(-1), x.reshape(-1))  # same elements, same (row-major) order


def test_flatten_known_values():
    b = GraphBuilder()
    x = b.input("x", (2, 1, 3), "int8", 0.5, 4)
    y = b.add("reshape", "flatten", [x], dict(shape=[6]), scale=0.5, zero_point=4)
    m = b.build([y])
    assert m.output.shape == (6,)
    x = np.arange(12, dtype=np.int8).reshape(2, 2, 1, 3)
    assert m.run(x).tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    check_model(m, x)


def test_reshape_rejects_bad_models():
    b = GraphBuilder()
    x = b.input("x", (2, 3), "float32")
    y = b.add("reshape", "r", [x], dict(shape=(4,)))
    with pytest.raises(ModelError, match="cannot reshape"):
        b.build([y])
    b = GraphBuilder()
    x = b.input("x", (2, 3), "int8", 0.5, 0)
    y = b.add("reshape", "r", [x], dict(shape=(6,)), scale=0.5, zero_point=1)
    with pytest.raises(ModelError, match="must equal the input"):
        b.build([y])
    b = GraphBuilder()
    x = b.input("x", (2, 3), "float32")
    y = b.add("reshape", "r", [x], dict(shape=(6, 0)))
    with pytest.raises(ModelError):
        b.build([y])
