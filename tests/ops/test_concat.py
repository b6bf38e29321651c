"""concat (TFLite CONCATENATION, torch.cat): oracle == torch == C bit for bit in every storage format, 1 to 4
inputs along any axis; refusals of mismatched shapes and quantization."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from tests.c_build import assert_same, run_c
from tests.strategies import check_model

DTYPES = {"int8": np.int8, "int16": np.int16, "float32": np.float32, "q8": np.int8, "q32": np.int32}


@given(st.sampled_from(sorted(DTYPES)), st.integers(1, 4), st.lists(st.integers(1, 5), min_size=1, max_size=3),
       st.data())
def test_concat_three_way(fmt, n, shape, data):
    rank = len(shape)
    axis = data.draw(st.integers(-rank, rank - 1))
    q = dict(int8=(0.1, 3), int16=(0.01, 0)).get(fmt, (None, None))
    frac = 5 if fmt.startswith("q") else None
    b = GraphBuilder()
    ins, shapes = [], []
    for i in range(n):
        sh = list(shape)
        sh[axis] = data.draw(st.integers(1, 4))
        ins.append(b.input(f"x{i}", sh, fmt, *q, frac_bits=frac))
        shapes.append(tuple(sh))
    y = b.add("concat", "cat", ins, dict(axis=axis), scale=q[0], zero_point=q[1], frac_bits=frac)
    model = b.build([y])
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    xs = tuple((rng.normal(size=(2,) + s) * 50).astype(DTYPES[fmt]) for s in shapes)
    x = xs if n > 1 else xs[0]
    ref = check_model(model, x)
    assert np.array_equal(ref["cat"], np.concatenate(xs, axis=1 + axis % rank))
    assert_same(run_c(model, x), ref)


def test_concat_refuses_mismatches():
    b = GraphBuilder()
    a, c = b.input("a", (2, 3), "int8", 0.1, 0), b.input("c", (2, 3), "int8", 0.2, 0)
    y = b.add("concat", "cat", [a, c], dict(axis=0), scale=0.1, zero_point=0)
    with pytest.raises(ModelError, match="quantization"):
        b.build([y])
    b = GraphBuilder()
    a, c = b.input("a", (2, 3), "float32"), b.input("c", (2, 4), "float32")
    with pytest.raises(ModelError, match="off axis 0"):
        b.build([b.add("concat", "cat", [a, c], dict(axis=0))])


@given(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.data())
def test_mul_three_way(shape, data):
    """mul (TFLM int8 MUL, broadcasting): oracle == torch == C."""
    from kwsnum.ops.mul import mul_params
    shb = tuple(d if data.draw(st.booleans()) else 1 for d in shape)
    if data.draw(st.booleans()):
        shape, shb = shb, tuple(shape)
    out = tuple(max(a, b) for a, b in zip(shape, shb))
    sa, sb = 0.05, 0.02
    so = float(np.float32(data.draw(st.floats(0.05, 2.0))))     # outputs mostly inside the int8 range
    g = GraphBuilder(rounding=data.draw(st.sampled_from(["double", "single"])))
    a = g.input("a", tuple(shape), "int8", sa, data.draw(st.integers(-128, 127)))
    b = g.input("b", shb, "int8", sb, data.draw(st.integers(-128, 127)))
    y = g.add("mul", "m", [a, b], dict(mul_params(sa, sb, so), act_min=data.draw(st.integers(-128, 0)), act_max=127),
              scale=so, zero_point=data.draw(st.integers(-128, 127)))
    model = g.build([y])
    assert model.tensors[y].shape == out
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    x = (rng.integers(-128, 128, (2,) + tuple(shape)).astype(np.int8),
         rng.integers(-128, 128, (2,) + shb).astype(np.int8))
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)
