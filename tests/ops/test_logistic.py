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
