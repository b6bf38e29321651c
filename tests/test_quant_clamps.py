"""The fused-activation clamps are TFLite's CalculateActivationRangeQuantized, float32 arithmetic included
(docs/numerics.md 3.5): the ReLU6 bound is zp + roundf(6.0f / s), not round(6 / s) in float64."""
import numpy as np
from hypothesis import given, strategies as st

from kwsnum.quant import act_clamp_int8, act_clamp_int16, tflite_quantize_float


def f32(x):
    return float(np.float32(x))


def test_relu6_bound_at_float32_half_integers():
    # 6 / float32(2.4) = 2.49999990 in float64 (-> 2) but 6.0f / 2.4f rounds to 2.5f (-> 3, ties away)
    s = f32(2.4)
    assert 6.0 / s < 2.5 and np.float32(6.0) / np.float32(s) == np.float32(2.5)
    assert act_clamp_int8("relu6", s, -128) == (-128, -128 + 3)
    assert act_clamp_int8("relu6", s, 5) == (5, 8)
    assert act_clamp_int16("relu6", s) == (0, 3)
    # 6 / float32(0.48) = 12.49999967 in float64, 12.5f in float32
    s = f32(0.48)
    assert act_clamp_int8("relu6", s, -100) == (-100, -100 + 13)


def test_relu_n1_to_1():
    assert act_clamp_int8("relu_n1_to_1", f32(1 / 64), 3) == (3 - 64, 3 + 64)
    assert act_clamp_int8("relu_n1_to_1", f32(1 / 256), 0) == (-128, 127)


def _f32_quantize(f, s):
    """An independent roundf(float32(f) / float32(s)): exact tie detection on the float32 quotient."""
    v = np.float32(f) / np.float32(s)
    t = np.trunc(v)
    frac = abs(float(v) - float(t))
    return int(t) + (int(np.sign(v)) if frac >= 0.5 else 0)


@given(st.floats(f32(1e-4), 1.0, width=32), st.integers(-128, 127))
def test_relu6_bound_is_float32(s, zp):
    lo, hi = act_clamp_int8("relu6", s, zp)
    assert lo == max(-128, zp)
    assert hi == min(127, zp + _f32_quantize(6.0, s))
    assert tflite_quantize_float(6.0, s) == _f32_quantize(6.0, s)


def test_float32_and_float64_differ_somewhere():
    """The rule matters: among scales just around 6 / (k + 0.5) the float64 quotient rounds differently."""
    diff = 0
    for k in range(1, 255):
        s = np.float32(6.0 / (k + 0.5))
        for t in (np.nextafter(s, np.float32(0)), s, np.nextafter(s, np.float32(1))):
            t = float(t)
            if int(np.floor(6.0 / t + 0.5)) != tflite_quantize_float(6.0, t):
                diff += 1
    assert diff > 0
