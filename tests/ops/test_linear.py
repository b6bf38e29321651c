"""linear: oracle == torch reference, plus hand-computed values and the accumulator check."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.quant import quantize_multiplier
from tests.strategies import (ROUNDINGS, FORMATS, int8_qparams, multipliers, act_clamp, int8_array,
                              float_array, int8_weights, check_model, calibrated_multipliers)
from tests.ops.int16_cases import int16_scale, int16_array, int16_clamp, multipliers16, bias64


@st.composite
def linear_models(draw, fmt=None):
    fmt = fmt or draw(FORMATS)
    F = draw(st.one_of(st.integers(1, 16), st.integers(17, 300)))
    O = draw(st.integers(1, 12))
    N = draw(st.integers(1, 4))
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    if fmt == "int8":
        si, zi = draw(int8_qparams())
        so, zo = draw(int8_qparams())
        x = b.input("x", (F,), "int8", si, zi)
        lo, hi = draw(act_clamp(zo))
        regime = draw(st.sampled_from(["generic", "calibrated", "small"]))
        if regime == "small":
            # tiny accumulators and multipliers near 1: off-by-one and rounding-mode differences are visible
            rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
            weight = rng.integers(-3, 4, size=(O, F)).astype(np.int8)
            bias = rng.integers(-8, 9, size=O).astype(np.int32)
            mult, shift = draw(multipliers(O, lo=0.05, hi=0.99))
            data = np.clip(zi + rng.integers(-4, 5, size=(N, F)), -128, 127).astype(np.int8)
        else:
            weight = int8_weights(draw, (O, F))
            bias = np.asarray(draw(st.lists(st.one_of(st.integers(-4096, 4096), st.integers(-(2 ** 24), 2 ** 24)),
                                            min_size=O, max_size=O)), np.int32)
            mult, shift = draw(multipliers(O) if regime == "generic" else calibrated_multipliers(O, F))
            data = int8_array(draw, (N, F))
        arrays = dict(weight=weight, bias=bias, multiplier=mult, shift=shift)
        y = b.add("linear", "fc", [x], dict(act_min=lo, act_max=hi), arrays, scale=so, zero_point=zo)
    elif fmt == "int16":   # TFLite 16x8 (docs/numerics.md 9.4)
        x = b.input("x", (F,), "int16", int16_scale(draw), 0)
        calibrated = draw(st.booleans())
        mult, shift = multipliers16(draw, O, F, calibrated)
        lo, hi = int16_clamp(draw)
        arrays = dict(weight=int8_weights(draw, (O, F)), bias=bias64(draw, O, not calibrated), multiplier=mult,
                      shift=shift)
        y = b.add("linear", "fc", [x], dict(act_min=lo, act_max=hi), arrays, scale=int16_scale(draw), zero_point=0)
        data = int16_array(draw, (N, F))
    else:
        x = b.input("x", (F,), "float32")
        act = draw(st.sampled_from([(-np.inf, np.inf), (0.0, np.inf), (0.0, 6.0), (-1.0, 1.0)]))
        arrays = dict(weight=float_array(draw, (O, F)), bias=float_array(draw, (O,)))
        y = b.add("linear", "fc", [x], dict(act_min_f=act[0], act_max_f=act[1]), arrays)
        data = float_array(draw, (N, F), scale=3.0)
    return b.build([y]), data


@given(linear_models())
def test_linear_oracle_equals_torch(case):
    check_model(*case)


@given(linear_models("int16"))
def test_linear_int16_oracle_equals_torch(case):
    check_model(*case)


def _int8_linear(rounding="double", F=3, weight=None, bias=None, mult=None, shift=None, zi=1, zo=-3):
    b = GraphBuilder(rounding=rounding)
    x = b.input("x", (F,), "int8", 0.5, zi)
    y = b.add("linear", "fc", [x], dict(act_min=-128, act_max=127),
              dict(weight=weight, bias=bias, multiplier=mult, shift=shift), scale=0.25, zero_point=zo)
    return b.build([y])


@pytest.mark.parametrize("rounding", ["double", "single"])
def test_linear_known_values(rounding):
    """x - zp_in = [1, 2, 3]; acc = [10 + 1 + 4 + 9, -5 - 1 + 0 + 3] = [24, -3].
    Channel 0: real multiplier 0.25 -> 6; channel 1: 0.5 -> -1.5, which both modes round to -1
    (gemmlowp's doubling high mul rounds a negative tie toward zero; single rounding rounds half up).
    + zp_out -3 -> [3, -4]."""
    m = _int8_linear(rounding, weight=np.array([[1, 2, 3], [-1, 0, 1]], np.int8), bias=np.array([10, -5], np.int32),
                     mult=np.array([1 << 30, 1 << 30], np.int32), shift=np.array([-1, 0], np.int32))
    x = np.array([[2, 3, 4]], np.int8)
    assert m.run(x).tolist() == [[3, -4]]
    check_model(m, x)


def test_linear_float_known_values():
    b = GraphBuilder()
    x = b.input("x", (2,), "float32")
    y = b.add("linear", "fc", [x], dict(act_min_f=-1.0),
              dict(weight=np.array([[1, 2], [3, 4]], np.float32), bias=np.array([0.5, -1], np.float32)))
    m = b.build([y])
    assert m.run(np.array([[1, -1]], np.float32)).tolist() == [[-0.5, -1.0]]


def test_linear_accumulator_near_int32_limit():
    """60000 weights of 127 against x - zp = -255: acc = -1,943,100,000, inside int32 and exact."""
    F = 60000
    m = _int8_linear("double", F=F, weight=np.full((1, F), 127, np.int8), bias=np.zeros(1, np.int32),
                     mult=np.array([1 << 30], np.int32), shift=np.array([-23], np.int32), zi=127, zo=0)
    x = np.full((1, F), -128, np.int8)
    out = check_model(m, x)
    assert out[m.outputs[0]].tolist() == [[-116]]  # real multiplier 2**-24: -1943100000 / 2**24 = -115.8


def test_linear_rejects_overflowing_accumulator():
    """The bound is |bias| + sum|w| * max|q - zp_in| (docs/numerics.md 3.4), sharp at 2**31."""
    def build(F, zi, bias=0):
        return _int8_linear(F=F, weight=np.full((1, F), 127, np.int8), bias=np.array([bias], np.int32),
                            mult=np.array([1 << 30], np.int32), shift=np.array([-20], np.int32), zi=zi)
    build(66311, -128)                     # 66311 * 127 * 255 = 2147481735 < 2**31
    with pytest.raises(ModelError, match="accumulator could overflow"):
        build(66312, -128)                 # 2147514120 >= 2**31
    with pytest.raises(ModelError, match="accumulator could overflow"):
        build(66311, -128, bias=1913)      # + |bias| crosses 2**31
    build(66400, 1)                        # zp 1: max|q - zp| = 129, far inside


def test_linear_rejects_bad_shapes():
    with pytest.raises(ModelError, match="in_features"):
        _int8_linear(F=4, weight=np.ones((2, 3), np.int8), bias=np.zeros(2, np.int32),
                     mult=np.array([1 << 30] * 2, np.int32), shift=np.array([-1] * 2, np.int32))
    with pytest.raises(ModelError, match="bias"):
        _int8_linear(F=3, weight=np.ones((2, 3), np.int8), bias=np.zeros(3, np.int32),
                     mult=np.array([1 << 30] * 2, np.int32), shift=np.array([-1] * 2, np.int32))
