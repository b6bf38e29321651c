"""relu (standalone activation clamp): oracle == torch reference (exactly, float32 included)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.quant import act_clamp_int8
from kwsnum.torchref import run_reference
from tests.strategies import ROUNDINGS, FORMATS, int8_qparams, act_clamp, int8_array, float_array, check_model
from tests.ops.int16_cases import int16_scale, int16_array, int16_clamp, multipliers16, bias64


def assert_exact(model, x):
    """Oracle and torch agree exactly on every tensor (floats: same values, NaN where NaN; -0.0 == 0.0)."""
    got = model.run(x, trace=True)
    ref = run_reference(model, x, trace=True)
    for name in model.tensors:
        a, b = got[name], ref[name]
        assert a.shape == b.shape and a.dtype == b.dtype, (name, a.shape, b.shape, a.dtype, b.dtype)
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), (name, a, b)
    return got


@st.composite
def relu_models(draw, fmt=None):
    fmt = fmt or draw(FORMATS)
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    N = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["relu", "relu6"]))
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    if fmt == "int8":
        s, z = draw(int8_qparams())
        x = b.input("x", shape, "int8", s, z)
        lo, hi = draw(st.one_of(act_clamp(z), st.just(act_clamp_int8(kind, s, z))))
        y = b.add("relu", "act", [x], dict(kind=kind, act_min=lo, act_max=hi), scale=s, zero_point=z)
        data = int8_array(draw, (N,) + shape)
    elif fmt == "int16":
        from kwsnum.quant import act_clamp_int16
        s = int16_scale(draw)
        x = b.input("x", shape, "int16", s, 0)
        lo, hi = draw(st.sampled_from([int16_clamp(draw), act_clamp_int16(kind, s)]))
        y = b.add("relu", "act", [x], dict(kind=kind, act_min=lo, act_max=hi), scale=s, zero_point=0)
        data = int16_array(draw, (N,) + shape)
    else:
        x = b.input("x", shape, "float32")
        lo = draw(st.sampled_from([0.0, -1.0, float("-inf"), 0.5]))
        hi = draw(st.sampled_from([6.0, float("inf"), 1.0, 0.5]))
        y = b.add("relu", "act", [x], dict(kind=kind, act_min_f=lo, act_max_f=hi))
        data = float_array(draw, (N,) + shape, scale=4.0)
    return b.build([y]), data


@given(relu_models("int16"))
def test_relu_int16_oracle_equals_torch(case):
    check_model(*case)
    assert_exact(*case)


@given(relu_models())
def test_relu_oracle_equals_torch(case):
    check_model(*case)
    assert_exact(*case)


def test_relu_int8_known_values():
    b = GraphBuilder()
    x = b.input("x", (6,), "int8", 0.05, -10)
    lo, hi = act_clamp_int8("relu6", 0.05, -10)  # [-10, -10 + 120]
    assert (lo, hi) == (-10, 110)
    y = b.add("relu", "r6", [x], dict(kind="relu6", act_min=lo, act_max=hi), scale=0.05, zero_point=-10)
    m = b.build([y])
    x = np.array([[-128, -11, -10, 0, 110, 127]], np.int8)
    assert m.run(x).tolist() == [[-10, -10, -10, 0, 110, 110]]
    assert_exact(m, x)


def test_relu_float_known_values():
    """Clamp by comparisons: NaN passes through, infinities clamp."""
    b = GraphBuilder()
    x = b.input("x", (6,), "float32")
    y = b.add("relu", "r6", [x], dict(kind="relu6", act_min_f=0.0, act_max_f=6.0))
    m = b.build([y])
    x = np.array([[-np.inf, -1.5, 2.25, 7.0, np.inf, np.nan]], np.float32)
    out = assert_exact(m, x)[y]
    assert np.array_equal(out, np.array([[0, 0, 2.25, 6, 6, np.nan]], np.float32), equal_nan=True)


def test_relu_rejects_requantization():
    b = GraphBuilder()
    x = b.input("x", (4,), "int8", 0.05, 0)
    y = b.add("relu", "r", [x], dict(act_min=0, act_max=127), scale=0.1, zero_point=0)
    with pytest.raises(ModelError, match="must equal the input"):
        b.build([y])


def test_relu_rejects_bad_attrs():
    b = GraphBuilder()
    x = b.input("x", (4,), "float32")
    y = b.add("relu", "r", [x], dict(kind="gelu", act_min_f=0.0, act_max_f=6.0))
    with pytest.raises(ModelError, match="kind"):
        b.build([y])
    b = GraphBuilder()
    x = b.input("x", (4,), "float32")
    y = b.add("relu", "r", [x], dict(act_min_f=0.0))
    with pytest.raises(ModelError, match="act_max_f"):
        b.build([y])
