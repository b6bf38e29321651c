"""logistic (TFLM int8 LOGISTIC, gemmlowp fixed point): oracle == torch reference == C, exactly; the oracle ==
TFLM on imported LOGISTIC models (tests/test_tflite_import.py::test_logistic_equals_tflm)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.ops.logistic import logistic_params
from tests.c_build import assert_same, run_c
from tests.strategies import check_model


def model_of(shape, s_in, zp):
    b = GraphBuilder()
    x = b.input("x", shape, "int8", s_in, zp)
    y = b.add("logistic", "sig", [x], logistic_params(s_in), scale=1.0 / 256, zero_point=-128)
    return b.build([y])


@given(st.lists(st.integers(1, 7), min_size=1, max_size=3), st.floats(1e-3, 4.0), st.integers(-128, 127),
       st.integers(0, 2 ** 32 - 1))
def test_logistic_three_way(shape, s_in, zp, seed):
    model = model_of(tuple(shape), float(np.float32(s_in)), zp)
    x = np.random.default_rng(seed).integers(-128, 128, (2,) + tuple(shape)).astype(np.int8)
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)


def test_logistic_every_input_and_accuracy():
    """All 256 inputs at a few scales: the three agree and the result is within 1/256 of 1 / (1 + exp(-x))."""
    for s_in, zp in ((0.02, 0), (0.1, -20), (0.5, 7), (float(np.float32(1 / 16)), -128)):
        model = model_of((256,), s_in, zp)
        x = np.arange(-128, 128, dtype=np.int8)[None]
        ref = check_model(model, x)
        assert_same(run_c(model, x), ref)
        want = 1.0 / (1.0 + np.exp(-float(np.float32(s_in)) * (np.arange(-128, 128) - zp)))
        assert np.abs((ref["sig"][0].astype(np.float64) + 128) / 256 - want).max() <= 1.0 / 256


def test_logistic_rejects_output_zero_point():
    b = GraphBuilder()
    x = b.input("x", (4,), "int8", 0.1, 0)
    y = b.add("logistic", "sig", [x], logistic_params(0.1), scale=1.0 / 256, zero_point=0)
    with pytest.raises(ModelError, match="zero point -128"):
        b.build([y])


@given(st.lists(st.integers(1, 7), min_size=1, max_size=3), st.floats(1e-3, 4.0), st.integers(-128, 127),
       st.integers(0, 2 ** 32 - 1))
def test_tanh_three_way(shape, s_in, zp, seed):
    s_in = float(np.float32(s_in))
    b = GraphBuilder()
    x = b.input("x", tuple(shape), "int8", s_in, zp)
    y = b.add("tanh", "th", [x], logistic_params(s_in), scale=1.0 / 128, zero_point=0)
    model = b.build([y])
    xs = np.random.default_rng(seed).integers(-128, 128, (2,) + tuple(shape)).astype(np.int8)
    ref = check_model(model, xs)
    assert_same(run_c(model, xs), ref)
    want = np.tanh(s_in * (xs.astype(np.float64) - zp))
    assert np.abs(ref["th"] / 128.0 - want).max() <= 1.0 / 128 + 1e-9


# ---------------------------------------------------------------------------------------------- int16
from kwsnum.ops.logistic import logistic_params16     # noqa: E402
from kwsnum.ops.tanh import tanh_params16             # noqa: E402

PARAMS16 = {"logistic": logistic_params16, "tanh": tanh_params16}


def model16(op, shape, s_in):
    attrs, arrays = PARAMS16[op](s_in)
    b = GraphBuilder()
    x = b.input("x", shape, "int16", s_in, 0)
    y = b.add(op, "y", [x], attrs, arrays, scale=2.0 ** -15, zero_point=0)
    return b.build([y])


SCALES16 = st.one_of(st.floats(1e-5, 1.3).map(lambda s: float(np.float32(s))),
                     st.integers(-16, -10).map(lambda e: 2.0 ** e))     # power-of-two scales: TFLM's other path


@given(st.sampled_from(["logistic", "tanh"]), st.lists(st.integers(1, 7), min_size=1, max_size=3), SCALES16,
       st.integers(0, 2 ** 32 - 1))
def test_sigmoid16_three_way(op, shape, s_in, seed):
    model = model16(op, tuple(shape), s_in)
    x = np.random.default_rng(seed).integers(-32768, 32768, (2,) + tuple(shape)).astype(np.int16)
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)


@pytest.mark.parametrize("op", ["logistic", "tanh"])
def test_sigmoid16_every_input_and_accuracy(op):
    """All 65536 inputs at a few scales (every table entry and both saturations): the three agree, and the result
    is within 2**-12 of the function (TFLM's table interpolation)."""
    x = np.arange(-32768, 32768, dtype=np.int16)[None]
    for s_in in (2.0 ** -12, 2.0 ** -11, float(np.float32(3e-4)), float(np.float32(1e-4)), 2.0 ** -10):
        model = model16(op, (65536,), s_in)
        ref = check_model(model, x)
        assert_same(run_c(model, x), ref)
        r = float(np.float32(s_in)) * x[0].astype(np.float64)
        want = 1.0 / (1.0 + np.exp(-r)) if op == "logistic" else np.tanh(r)
        assert np.abs(ref["y"][0] / 32768.0 - want).max() <= 2.0 ** -12, s_in


@pytest.mark.parametrize("op", ["logistic", "tanh"])
def test_sigmoid16_refuses_what_tflm_refuses(op):
    with pytest.raises(ValueError, match="exceeds 32767"):
        PARAMS16[op](4.0)
    attrs, arrays = PARAMS16[op](1e-3)
    arrays["sigmoid_table"][7] += 1
    b = GraphBuilder()
    x = b.input("x", (4,), "int16", 1e-3, 0)
    y = b.add(op, "y", [x], attrs, arrays, scale=2.0 ** -15, zero_point=0)
    with pytest.raises(ModelError, match="sigmoid_table"):
        b.build([y])
    b = GraphBuilder()
    x = b.input("x", (4,), "int16", 1e-3, 0)
    y = b.add(op, "y", [x], attrs, PARAMS16[op](1e-3)[1], scale=1.0 / 256, zero_point=0)
    with pytest.raises(ModelError, match="2\\*\\*-15"):
        b.build([y])
