"""The fixed-point primitives (numba and torch) against plain Python integers (arbitrary precision)."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, example, strategies as st

from kwsnum import fixedpoint as fp
from kwsnum import torchref
from kwsnum.quant import quantize_multiplier

I32 = st.integers(-(2 ** 31), 2 ** 31 - 1)
MULT = st.one_of(st.integers(0, 2 ** 31 - 1), st.integers(2 ** 30, 2 ** 31 - 1), st.sampled_from([0, 1, 2 ** 30, 2 ** 31 - 1]))
SHIFT = st.integers(-31, 30)


def sat32(v):
    return max(-(2 ** 31), min(2 ** 31 - 1, v))


def round_half_away(fr):
    """Round a Fraction half away from zero."""
    mag = math.floor(abs(fr) + Fraction(1, 2))
    return mag if fr >= 0 else -mag


def ref_srdhm(a, b):
    if a == b == -(2 ** 31):
        return 2 ** 31 - 1
    # gemmlowp: (a*b + nudge) / 2**31 with C truncating division
    ab = a * b
    t = ab + ((1 << 30) if ab >= 0 else 1 - (1 << 30))
    return int(Fraction(t, 2 ** 31)) if t >= 0 else -int(Fraction(-t, 2 ** 31))


def ref_double(x, m, s):
    xl = sat32(x * 2 ** max(s, 0))
    return round_half_away(Fraction(ref_srdhm(xl, m), 2 ** max(-s, 0)))


def ref_single(x, m, s):
    return sat32(math.floor(Fraction(x * m, 2 ** (31 - s)) + Fraction(1, 2)))


@given(I32, MULT, SHIFT)
@example(-(2 ** 31), 2 ** 31 - 1, 0)
@example(2 ** 31 - 1, 2 ** 31 - 1, 30)
@example(-2, 2 ** 30, -1)
@example(5, 2 ** 30, -31)
def test_requantize_double_matches_python_integers(x, m, s):
    assert fp.requantize(x, m, s, fp.ROUND_DOUBLE) == ref_double(x, m, s)


@given(I32, MULT, SHIFT)
@example(-(2 ** 31), 2 ** 31 - 1, 30)
@example(-2, 2 ** 30, -1)
def test_requantize_single_matches_python_integers(x, m, s):
    assert fp.requantize(x, m, s, fp.ROUND_SINGLE) == ref_single(x, m, s)


@given(st.integers(-(2 ** 24), 2 ** 24), st.integers(2 ** 30, 2 ** 31 - 1), st.integers(-31, 0),
       st.sampled_from(["double", "single"]))
def test_requantize_is_within_one_of_the_exact_product(x, m, s, mode):
    """Whatever the rounding mode, the result is the exact real product rounded, off by at most 1."""
    got = fp.requantize(x, m, s, fp.ROUNDING_MODES[mode])
    exact = Fraction(x * m, 2 ** (31 - s))
    assert abs(got - exact) <= 1


@given(st.lists(st.tuples(I32, MULT, SHIFT), min_size=1, max_size=30), st.sampled_from(["double", "single"]))
def test_torch_requantize_matches_python_integers(cases, mode):
    import torch
    x = torch.tensor([c[0] for c in cases], dtype=torch.int64)
    m = np.array([c[1] for c in cases], np.int64)
    s = np.array([c[2] for c in cases], np.int64)
    got = torchref.requantize(x, m, s, mode, axis=0).tolist()
    ref = [(ref_double if mode == "double" else ref_single)(*c) for c in cases]
    assert got == ref


@given(st.integers(-(2 ** 40), 2 ** 40), st.integers(1, 2 ** 20))
@example(-3, 2)
@example(3, 2)
@example(-5, 10)
def test_div_round_away(num, den):
    assert fp.div_round_away(num, den) == round_half_away(Fraction(num, den))
    import torch
    assert torchref.round_half_away_div(torch.tensor([num]), den).item() == round_half_away(Fraction(num, den))


@given(st.integers(-(2 ** 61), 2 ** 61), st.integers(0, 62))
def test_shift_round_away(x, n):
    assert fp.shift_round_away(x, n) == round_half_away(Fraction(x, 2 ** n))
    import torch
    assert torchref.round_half_away_pow2(torch.tensor([x]), n).item() == round_half_away(Fraction(x, 2 ** n))


@given(st.one_of(st.integers(0, 2 ** 62 - 1), st.integers(0, 1000)))
def test_isqrt(v):
    assert fp.isqrt(v) == math.isqrt(v)


@given(st.floats(min_value=1e-12, max_value=1e9, allow_nan=False))
@example(0.5)
@example(1.0)
@example(2 ** -31)
def test_quantize_multiplier(real):
    if real >= 2 ** 30:
        with pytest.raises(ValueError):
            quantize_multiplier(real)
        return
    m, s = quantize_multiplier(real)
    if m == 0:
        assert real < 2 ** -31
        return
    assert 2 ** 30 <= m < 2 ** 31
    assert -31 <= s <= 30
    approx = Fraction(m) * Fraction(2) ** (s - 31)
    assert abs(approx - Fraction(real)) <= Fraction(2) ** (s - 32)  # within half an LSB of the multiplier


def test_quantize_multiplier_ties_round_away():
    # q * 2**31 = 2**30 + 0.5 exactly: std::round rounds away from zero (Python's round would go to even)
    real = (2 ** 30 + 0.5) / 2 ** 31
    assert quantize_multiplier(real) == (2 ** 30 + 1, 0)
