"""softmax (TFLM int8 SOFTMAX, gemmlowp fixed point): oracle == torch reference == C, exactly; and the oracle ==
TFLM on imported SOFTMAX models (tests/test_tflite_import.py::test_softmax_equals_tflm)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.ops.softmax import softmax_params
from tests.c_build import assert_same, run_c
from tests.strategies import check_model


@st.composite
def softmax_models(draw):
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 12)) for _ in range(rank))
    axis = draw(st.integers(-rank, rank - 1))
    s_in = float(np.float32(draw(st.floats(0.002, 2.0))))
    beta = float(np.float32(draw(st.sampled_from([1.0, 1.0, 0.5, 2.0, 10.0]))))
    if beta * s_in >= 15.0:          # beta * s * 2**26 must stay below 2**30 (softmax_params refuses more)
        beta = 1.0
    p = softmax_params(beta, s_in)
    b = GraphBuilder()
    x = b.input("x", shape, "int8", s_in, draw(st.integers(-128, 127)))
    y = b.add("softmax", "sm", [x], dict(axis=axis, **p), scale=1.0 / 256, zero_point=-128)
    N = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    lo = draw(st.sampled_from([-128, 0, 100]))
    data = rng.integers(lo, 128, (N,) + shape).astype(np.int8)
    return b.build([y]), data


@given(softmax_models())
def test_softmax_three_way(case):
    model, x = case
    ref = check_model(model, x)            # oracle == torch on every tensor
    assert_same(run_c(model, x), ref)      # C == oracle


def test_softmax_matches_float_softmax():
    """Within TFLM's own accuracy (a couple of 1/256 steps) of exp(beta s (q - max)) / sum."""
    s, beta = 0.1, 1.0
    b = GraphBuilder()
    x = b.input("x", (10,), "int8", s, 0)
    y = b.add("softmax", "sm", [x], dict(softmax_params(beta, s)), scale=1.0 / 256, zero_point=-128)
    m = b.build([y])
    q = np.random.default_rng(0).integers(-128, 128, (50, 10)).astype(np.int8)
    got = (m.run(q).astype(np.float64) + 128) / 256
    qi = q.astype(np.int64)
    e = np.exp(beta * s * (qi - qi.max(axis=1, keepdims=True)))
    assert np.abs(got - e / e.sum(axis=1, keepdims=True)).max() <= 2.5 / 256


def test_softmax_rejects_bad_output_quantization():
    b = GraphBuilder()
    x = b.input("x", (4,), "int8", 0.1, 0)
    y = b.add("softmax", "sm", [x], dict(softmax_params(1.0, 0.1)), scale=1.0 / 128, zero_point=0)
    with pytest.raises(ModelError, match="scale 1/256 and zero point -128"):
        b.build([y])
    b = GraphBuilder()
    x = b.input("x", (600,), "int8", 0.1, 0)
    y = b.add("softmax", "sm", [x], dict(softmax_params(1.0, 0.1)), scale=1.0 / 256, zero_point=-128)
    with pytest.raises(ModelError, match="at most 511"):
        b.build([y])


def test_softmax_params_refuse_degenerate_scales():
    with pytest.raises(ValueError, match="too large"):
        softmax_params(10.0, 2.0)
    with pytest.raises(ValueError, match="must exceed 1"):
        softmax_params(1e-9, 1e-3)


# ---------------------------------------------------------------------------------------------- int16
from kwsnum.ops.softmax import softmax_params16     # noqa: E402


def model16(shape, axis, s_in, beta):
    attrs, arrays = softmax_params16(beta, s_in)
    b = GraphBuilder()
    x = b.input("x", shape, "int16", s_in, 0)
    y = b.add("softmax", "sm", [x], dict(axis=axis, **attrs), arrays, scale=1.0 / 32768, zero_point=0)
    return b.build([y])


@st.composite
def softmax16_models(draw):
    rank = draw(st.integers(1, 3))
    shape = tuple(draw(st.integers(1, 12)) for _ in range(rank))
    axis = draw(st.integers(-rank, rank - 1))
    s_in = float(np.float32(draw(st.floats(1e-5, 2e-3))))
    beta = float(np.float32(draw(st.sampled_from([1.0, 1.0, 0.5, 2.0]))))
    model = model16(shape, axis, s_in, beta)
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    lo = draw(st.sampled_from([-32768, 0, 30000]))
    return model, rng.integers(lo, 32768, (draw(st.integers(1, 3)),) + shape).astype(np.int16)


@given(softmax16_models())
def test_softmax16_three_way(case):
    model, x = case
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)


def test_softmax16_long_rows_and_accuracy():
    """Rows up to 4096 long, the three agree; the result is within 2**-9 of the float softmax of the dequantized
    input (TFLM's tables: exp(-10) is cut off, interpolation)."""
    rng = np.random.default_rng(5)
    for depth, s_in in ((4096, 3e-4), (10, 1e-4), (200, 2e-5)):
        s_in = float(np.float32(s_in))
        model = model16((depth,), -1, s_in, 1.0)
        x = rng.integers(-32768, 32768, (3, depth)).astype(np.int16)
        ref = check_model(model, x)
        assert_same(run_c(model, x), ref)
        r = s_in * x.astype(np.float64)
        want = np.exp(r - r.max(axis=1, keepdims=True))
        want /= want.sum(axis=1, keepdims=True)
        assert np.abs(ref["sm"] / 32768.0 - want).max() <= 2.0 ** -9


def test_softmax16_refuses():
    with pytest.raises(ValueError, match="left shift"):
        softmax_params16(1.0, 8.0)
    attrs, arrays = softmax_params16(1.0, 1e-3)
    b = GraphBuilder()
    x = b.input("x", (4,), "int16", 1e-3, 0)
    y = b.add("softmax", "sm", [x], dict(axis=-1, **attrs), arrays, scale=1.0 / 256, zero_point=0)
    with pytest.raises(ModelError, match="1/32768"):
        b.build([y])
    arrays["exp_lut"][511:] = 0
    b = GraphBuilder()
    x = b.input("x", (4,), "int16", 1e-3, 0)
    y = b.add("softmax", "sm", [x], dict(axis=-1, **attrs), arrays, scale=1.0 / 32768, zero_point=0)
    with pytest.raises(ModelError, match="exp_lut"):
        b.build([y])
