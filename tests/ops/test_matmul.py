"""matmul (two activations, transpose flags): torch == oracle within the float tolerance, C == oracle bit for
bit, in float32 and (through the storage adapter) float16 / bfloat16; the spec's summation order checked
against a float32 reference written out in numpy."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from tests.c_build import assert_same, run_c
from tests.strategies import check_model, float_array, in_format


@st.composite
def matmul_models(draw):
    m, k, n = (draw(st.integers(1, 7)) for _ in range(3))
    ta, tb = draw(st.booleans()), draw(st.booleans())
    N = draw(st.integers(1, 3))
    b = GraphBuilder()
    a_shape = (k, m) if ta else (m, k)
    b_shape = (n, k) if tb else (k, n)
    xa = b.input("a", a_shape, "float32")
    xb = b.input("b", b_shape, "float32")
    act = draw(st.sampled_from([(-np.inf, np.inf), (0.0, np.inf), (-1.0, 2.0)]))
    y = b.add("matmul", "mm", [xa, xb], dict(transpose_a=ta, transpose_b=tb, act_min_f=act[0], act_max_f=act[1]))
    scale = draw(st.sampled_from([1.0, 30.0, 1e-3]))
    data = (float_array(draw, (N,) + a_shape, scale), float_array(draw, (N,) + b_shape, scale))
    return b.build([y]), data


def _reference_order(model, data):
    """The spec's order in numpy float32 scalars: acc = 0; acc += a[i,p] * b[p,j], p ascending."""
    node = model.nodes[0]
    a, b = data
    if node.attrs["transpose_a"]:
        a = a.transpose(0, 2, 1)
    if node.attrs["transpose_b"]:
        b = b.transpose(0, 2, 1)
    out = np.zeros((a.shape[0], a.shape[1], b.shape[2]), np.float32)
    for s in range(a.shape[0]):
        for i in range(a.shape[1]):
            for j in range(b.shape[2]):
                acc = np.float32(0)
                for p in range(a.shape[2]):
                    acc = np.float32(acc + np.float32(a[s, i, p] * b[s, p, j]))
                out[s, i, j] = acc
    lo, hi = np.float32(node.attrs["act_min_f"]), np.float32(node.attrs["act_max_f"])
    return np.where(out < lo, lo, np.where(out > hi, hi, out))


@pytest.mark.parametrize("fmt", ["float32", "float16", "bfloat16"])
@given(case=matmul_models())
def test_matmul_three_way(fmt, case):
    model, data = in_format(*case, fmt)
    ref = check_model(model, data)
    assert_same(run_c(model, data), ref)
    if fmt == "float32":
        np.testing.assert_array_equal(ref["mm"], _reference_order(model, data))


def test_matmul_rejects_bad_shapes():
    b = GraphBuilder()
    xa = b.input("a", (3, 4), "float32")
    xb = b.input("b", (5, 2), "float32")
    y = b.add("matmul", "mm", [xa, xb])
    with pytest.raises(ModelError, match="inner dimensions differ"):
        b.build([y])
    b = GraphBuilder()
    xa = b.input("a", (3, 4, 1), "float32")
    with pytest.raises(ModelError, match="must be a matrix"):
        b.build([b.add("matmul", "mm", [xa, xa])])
