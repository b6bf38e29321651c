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


@given(st.lists(st.tuples(I32, MULT, SHIFT), min_size=1, max_size=40), st.sampled_from([0, 1]),
       st.booleans())
@example([(-(2 ** 31), 2 ** 31 - 1, 30), (2 ** 31 - 1, 2 ** 31 - 1, 30), (-2, 2 ** 30, -1), (5, 2 ** 30, -31),
          (-(2 ** 31), 0, -31), (2 ** 31 - 1, 1, 0)], 0, False)
@example([(-(2 ** 31), 2 ** 31 - 1, 30), (-2, 2 ** 30, -1), (-(2 ** 31), 2 ** 31 - 1, -31)], 1, False)
@example([(1, 2 ** 30, 0), (-1, 2 ** 30, 0), (3, 2 ** 30, -1), (-3, 2 ** 30, -1), (5, 2 ** 30, -2)], 1, True)  # ties
@example([(1, 2 ** 30, 0), (-1, 2 ** 30, 0), (3, 2 ** 30, -1), (-3, 2 ** 30, -1), (5, 2 ** 30, -2)], 0, True)
def test_requantize_vector_form_equals_scalar(cases, mode, per_element):
    """requantize_v (the numpy form, docs/numerics.md 3.7) on an array equals requantize element by element, with
    one (multiplier, shift) for the array or one per element."""
    x = np.array([c[0] for c in cases], np.int64)
    m = np.array([c[1] for c in cases], np.int64)
    s = np.array([c[2] for c in cases], np.int64)
    if per_element:
        got = fp.requantize_v(x, m, s, mode)
        want = [fp.requantize(int(a), int(b), int(c), mode) for a, b, c in zip(x, m, s)]
    else:
        got = fp.requantize_v(x, m[0], s[0], mode)
        want = [fp.requantize(int(a), int(m[0]), int(s[0]), mode) for a in x]
    assert got.dtype == np.int64 and got.tolist() == want
    ref = ref_double if mode == 0 else ref_single
    assert got.tolist() == ([ref(*c) for c in cases] if per_element else [ref(c[0], cases[0][1], cases[0][2])
                                                                           for c in cases])


@given(st.lists(I32, min_size=1, max_size=40), st.lists(I32, min_size=1, max_size=40), st.integers(0, 31))
@example([-(2 ** 31), -(2 ** 31), 2 ** 31 - 1], [-(2 ** 31), 2 ** 31 - 1, -(2 ** 31)], 31)
def test_srdhm_rdbpot_vector_forms_equal_scalar(a, b, e):
    n = min(len(a), len(b))
    a, b = np.array(a[:n], np.int64), np.array(b[:n], np.int64)
    assert fp.srdhm_v(a, b).tolist() == [fp.srdhm(int(u), int(v)) for u, v in zip(a, b)]
    assert fp.rdbpot_v(a, e).tolist() == [fp.rdbpot(int(u), e) for u in a]
    assert fp.sat_i32_v(a * 3).tolist() == [fp.sat_i32(int(u) * 3) for u in a]


@given(st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), min_size=1, max_size=40))
@example([0.49999997, -0.49999997, 0.5, -0.5, 1.5, -2.5, -0.0, 8388607.5, 2.0 ** 100, float("nan"), float("-inf")])
def test_round_half_away_vector_form_equals_scalar(vals):
    v = np.array(vals, np.float32)
    got = fp.round_half_away_f32_v(v)
    want = np.array([fp.round_half_away_f32(x) for x in v], np.float64)
    assert got.dtype == np.float64
    assert np.array_equal(got, want, equal_nan=True) and np.array_equal(np.signbit(got), np.signbit(want))


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


# ------------------------------------------------------------------ requantize64 (int16 activations, spec 9.2)
X47 = st.one_of(st.integers(-(2 ** 47), 2 ** 47 - 1), st.integers(-(2 ** 20), 2 ** 20),
                st.sampled_from([-(2 ** 47), 2 ** 47 - 1, -1, 0, 1, -(2 ** 46), 2 ** 46]))
MULT64 = st.one_of(MULT, st.sampled_from([0x7FFEFFFF, 0x7FFF0000, 0x7FFF7FFF, 0x7FFF8000, 2 ** 31 - 1, 2 ** 30]))
SHIFT64 = st.one_of(st.integers(-31, 7), st.sampled_from([-31, 7, 0, -1]))


def ref_requantize64(x, m, s):
    """docs/numerics.md 9.2 with Python integers: reduced multiplier, one floor division, int32 saturation."""
    reduced = (m + 2 ** 15) // 2 ** 16 if m < 0x7FFF0000 else 0x7FFF
    total = 15 - s
    return sat32(math.floor(Fraction(x * reduced + 2 ** (total - 1), 2 ** total)))


@given(X47, MULT64, SHIFT64)
@example(-(2 ** 47), 2 ** 31 - 1, 7)
@example(2 ** 47 - 1, 2 ** 31 - 1, 7)
@example(2 ** 47 - 1, 0x7FFF0000, -31)
@example(-(2 ** 47), 0, -31)
@example(2 ** 40, 2 ** 31 - 1, -10)        # the reduction's cap 0x7FFF (0x8000 would give 2**30 here)
@example(-(2 ** 40) + 12345, 0x7FFF8000, -10)
@example(2 ** 40, 0x7FFF7FFF, -10)
@example(2 ** 40, 0x40008000, -10)        # the reduction's tie: 0x4000.8 rounds up to 0x4001
def test_requantize64_vs_python_integers(x, m, s):
    got = int(fp.mbqm_int64(np.int64(x), np.int64(m), np.int64(s)))
    assert got == ref_requantize64(x, m, s)
    # and it is the real product x * M * 2**(s-31) up to the 15-bit multiplier's error and one rounding
    exact = Fraction(x * m, 2 ** (31 - s))
    if abs(exact) < 2 ** 31 - 2 ** 20:
        reduced = (m + 2 ** 15) // 2 ** 16 if m < 0x7FFF0000 else 0x7FFF
        err = abs(Fraction(x * (reduced * 2 ** 16 - m), 2 ** (31 - s)))
        assert abs(got - exact) <= err + Fraction(1, 2)


def test_reduced_multiplier_plain_and_jitted():
    """requantize64's 15-bit multiplier (9.2): M / 2**16 rounded half up, capped at 0x7FFF; the plain form (plan-time
    constants, kwsnum.fixedpoint.requantize_f64_consts) and the jitted one (mbqm_int64) alike, ties included."""
    rng = np.random.default_rng(5)
    ms = [0, 1, 0x7FFF, 0x8000, 0x18000, 0x40007FFF, 0x40008000, 0x40008001, 0x7FFE8000, 0x7FFEFFFF, 0x7FFF0000,
          0x7FFF8000, 2 ** 31 - 1] + [int(v) for v in rng.integers(0, 2 ** 31, 200)]
    for m in ms:
        want = min(math.floor(Fraction(m, 2 ** 16) + Fraction(1, 2)), 0x7FFF)
        assert fp.reduced_multiplier(m) == want, m
        assert int(fp.reduced_multiplier_nb(np.int64(m))) == want, m


@pytest.mark.parametrize("x, expected", [(1, 0), (2, 1), (-2, 0), (-6, -1), (3, 1), (-3, -1)])
def test_requantize64_known_values(x, expected):
    """Spec 9.2 examples: M = 2**30 (reduced 2**14), shift -1 (real 0.25): one rounding, ties toward +inf."""
    assert int(fp.mbqm_int64(np.int64(x), np.int64(1 << 30), np.int64(-1))) == expected


def test_requantize64_torch_reference():
    """The torch reference of the int16 conv / linear (kwsnum.ops.requantize.torch_requantize64) over edges and
    random values of the whole input range, per channel."""
    torch = pytest.importorskip("torch")
    from kwsnum.ops.requantize import torch_requantize64
    rng = np.random.default_rng(3)
    ms = np.array([0, 1, 1 << 30, 0x7FFEFFFF, 0x7FFF0000, 2 ** 31 - 1] + list(rng.integers(0, 2 ** 31, 10)), np.int64)
    ss = np.array([-31, 7, 0, -1, 7, -31] + list(rng.integers(-31, 8, 10)), np.int64)
    xs = np.concatenate([[-(2 ** 47), 2 ** 47 - 1, -1, 0, 1], rng.integers(-(2 ** 47), 2 ** 47, 200),
                         rng.integers(-5000, 5000, 200)]).astype(np.int64)
    acc = torch.as_tensor(np.tile(xs[:, None], (1, len(ms))))
    got = torch_requantize64(acc, ms, ss, axis=1).numpy()
    for j, (m, s) in enumerate(zip(ms.tolist(), ss.tolist())):
        assert got[:, j].tolist() == [ref_requantize64(int(x), m, s) for x in xs]
