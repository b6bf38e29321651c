"""Q-format rounding and overflow primitives (docs/numerics.md, "Q-format fixed point: rounding and overflow
modes"): kwsnum.fixedpoint.shift_round / overflow / qcast (numba) and kws_shift_round / kws_overflow /
kws_qcast (c_runtime/kws_fixedpoint.h) against exact Python integers (Fraction), numba == Python == C."""
import ctypes
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, example, strategies as st

from kwsnum import fixedpoint as fp
from tests.test_float16 import build_test_lib

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
RMODES = [fp.ROUND_TRN, fp.ROUND_TRN_ZERO, fp.ROUND_RND, fp.ROUND_RND_ZERO, fp.ROUND_RND_INF,
          fp.ROUND_RND_MIN_INF, fp.ROUND_RND_CONV]
OMODES = [fp.OVERFLOW_WRAP, fp.OVERFLOW_SAT, fp.OVERFLOW_SAT_SYM, fp.OVERFLOW_SAT_ZERO]


# ------------------------------------------------------------------ exact references
def ref_round(v, mode):
    """A Fraction v rounded to an integer by a ROUND_* mode (the spec's formulas)."""
    half = Fraction(1, 2)
    if mode == fp.ROUND_TRN:
        return math.floor(v)
    if mode == fp.ROUND_TRN_ZERO:
        return math.trunc(v)
    if mode == fp.ROUND_RND:
        return math.floor(v + half)
    if mode == fp.ROUND_RND_ZERO:
        return math.ceil(v - half) if v >= 0 else math.floor(v + half)
    if mode == fp.ROUND_RND_INF:
        return math.floor(v + half) if v >= 0 else math.ceil(v - half)
    if mode == fp.ROUND_RND_MIN_INF:
        return math.ceil(v - half)
    if mode == fp.ROUND_RND_CONV:
        return round(v)   # Fraction.__round__: ties to even
    raise AssertionError(mode)


def ref_shift_round(x, shift, mode):
    if shift >= 0:
        return ref_round(Fraction(x, 2 ** shift), mode)
    return max(INT64_MIN, min(INT64_MAX, x * 2 ** -shift))


def ref_overflow(x, bits, mode):
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if mode == fp.OVERFLOW_WRAP:
        return (x - lo) % (2 ** bits) + lo
    if mode == fp.OVERFLOW_SAT:
        return max(lo, min(hi, x))
    if mode == fp.OVERFLOW_SAT_SYM:
        return max(-hi, min(hi, x))
    if mode == fp.OVERFLOW_SAT_ZERO:
        return x if lo <= x <= hi else 0
    raise AssertionError(mode)


def ref_qcast(x, shift, rmode, bits, omode):
    """The exact value x * 2**-shift rounded, then the overflow mode (no intermediate int64 limit)."""
    return ref_overflow(ref_round(Fraction(x) * Fraction(2) ** -shift, rmode), bits, omode)


# ------------------------------------------------------------------ C
SHIM = r"""
#include "kws_fixedpoint.h"
void kws_t_shift_round(const int64_t *x, const int32_t *s, const int32_t *m, int64_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_shift_round(x[i], (int)s[i], (int)m[i]); }
void kws_t_overflow(const int64_t *x, const int32_t *b, const int32_t *m, int64_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_overflow(x[i], (int)b[i], (int)m[i]); }
void kws_t_qcast(const int64_t *x, const int32_t *s, const int32_t *r, const int32_t *b, const int32_t *o,
                 int64_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_qcast(x[i], (int)s[i], (int)r[i], (int)b[i], (int)o[i]); }
void kws_t_constants(int32_t *y)
{
    y[0] = KWS_ROUND_TRN; y[1] = KWS_ROUND_TRN_ZERO; y[2] = KWS_ROUND_RND; y[3] = KWS_ROUND_RND_ZERO;
    y[4] = KWS_ROUND_RND_INF; y[5] = KWS_ROUND_RND_MIN_INF; y[6] = KWS_ROUND_RND_CONV;
    y[7] = KWS_OVERFLOW_WRAP; y[8] = KWS_OVERFLOW_SAT; y[9] = KWS_OVERFLOW_SAT_SYM; y[10] = KWS_OVERFLOW_SAT_ZERO;
    y[11] = KWS_QROUND_DEFAULT; y[12] = KWS_OVERFLOW_DEFAULT;
}
"""


def clib():
    return build_test_lib("qformat", SHIM)


def _c(name, cols):
    """Call a C wrapper over columns (first int64, the rest int32); returns a list of ints."""
    n = len(cols[0])
    arrays = [np.ascontiguousarray(cols[0], np.int64)] + [np.ascontiguousarray(c, np.int32) for c in cols[1:]]
    out = np.zeros(n, np.int64)
    fn = getattr(clib(), name)
    fn.restype = None
    fn(*[ctypes.c_void_p(a.ctypes.data) for a in arrays], ctypes.c_void_p(out.ctypes.data), ctypes.c_int32(n))
    return out.tolist()


def check_shift_round(cases):
    """cases: [(x, shift, mode)]: numba == Python == C."""
    want = [ref_shift_round(*c) for c in cases]
    assert [int(fp.shift_round(*c)) for c in cases] == want
    assert _c("kws_t_shift_round", list(zip(*cases))) == want


def check_overflow(cases):
    want = [ref_overflow(*c) for c in cases]
    assert [int(fp.overflow(*c)) for c in cases] == want
    assert _c("kws_t_overflow", list(zip(*cases))) == want


def check_qcast(cases):
    want = [ref_qcast(*c) for c in cases]
    assert [int(fp.qcast(*c)) for c in cases] == want
    assert _c("kws_t_qcast", list(zip(*cases))) == want


# ------------------------------------------------------------------ the spec's table, literally
# x / 2 for x = -5 .. 5 (v = -2.5 .. 2.5 in steps of 0.5) per mode, as docs/numerics.md section 8 prints it; also
# used by tests/test_c_qformat_primitives.py (div_round by 2, round_float of the halves)
SPEC_TABLE = {   # x/2:      -2.5 -2  -1.5 -1  -0.5  0  0.5  1  1.5  2  2.5
        fp.ROUND_TRN:         [-3, -2, -2, -1, -1, 0, 0, 1, 1, 2, 2],
        fp.ROUND_TRN_ZERO:    [-2, -2, -1, -1, 0, 0, 0, 1, 1, 2, 2],
        fp.ROUND_RND:         [-2, -2, -1, -1, 0, 0, 1, 1, 2, 2, 3],
        fp.ROUND_RND_ZERO:    [-2, -2, -1, -1, 0, 0, 0, 1, 1, 2, 2],
        fp.ROUND_RND_INF:     [-3, -2, -2, -1, -1, 0, 1, 1, 2, 2, 3],
        fp.ROUND_RND_MIN_INF: [-3, -2, -2, -1, -1, 0, 0, 1, 1, 2, 2],
        fp.ROUND_RND_CONV:    [-2, -2, -2, -1, 0, 0, 0, 1, 2, 2, 2],
    }

def test_rounding_table_of_the_spec():
    """x / 2 for x = -5 .. 5 (ties at every odd x), the table in docs/numerics.md, independent of ref_round."""
    table = SPEC_TABLE
    xs = list(range(-5, 6))
    for mode, want in table.items():
        assert [ref_round(Fraction(x, 2), mode) for x in xs] == want, mode
        check_shift_round([(x, 1, mode) for x in xs])
    # away from ties, every rounding-to-nearest mode agrees: 0.75 -> 1, -0.75 -> -1, 0.25 -> 0
    for mode in RMODES[2:]:
        check_shift_round([(3, 2, mode), (-3, 2, mode), (1, 2, mode), (-1, 2, mode)])


def test_constants_are_shared_with_c():
    out = np.zeros(13, np.int32)
    fn = clib().kws_t_constants
    fn.restype = None
    fn(ctypes.c_void_p(out.ctypes.data))
    assert out.tolist() == RMODES + OMODES + [fp.QROUND_DEFAULT, fp.OVERFLOW_DEFAULT]
    assert (fp.QROUND_DEFAULT, fp.OVERFLOW_DEFAULT) == (fp.ROUND_RND, fp.OVERFLOW_SAT)
    assert sorted(fp.QROUNDING_MODES.values()) == RMODES and sorted(fp.OVERFLOW_MODES.values()) == OMODES


def test_unknown_mode_raises_in_numba():
    with pytest.raises(ValueError):
        fp.shift_round(5, 1, 7)
    with pytest.raises(ValueError):
        fp.overflow(5, 8, 4)


# ------------------------------------------------------------------ edge grids (deterministic)
SHIFTS = [0, 1, 2, 7, 15, 31, 32, 61, 62, -1, -2, -31, -32, -61, -62]


def _edge_xs(shift):
    xs = {0, 1, -1, 2, -2, 3, -3, INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1, 2 ** 62, -(2 ** 62),
          2 ** 31 - 1, -(2 ** 31), 2 ** 32}
    if shift > 0:
        p, h = 2 ** shift, 2 ** (shift - 1)
        for q in (0, 1, 2, 3, -1, -2, -3, -4, 2 ** (62 - shift), -(2 ** (62 - shift)), INT64_MAX // p, INT64_MIN // p):
            for d in (h - 1, h, h + 1, 0, 1, p - 1):                  # ties, their neighbours, exact, +1, ulp below
                xs.add(q * p + d)
    else:
        k = -shift
        lim = INT64_MAX >> k
        xs |= {lim, lim + 1, lim - 1, -lim - 1, -lim - 2, -lim}           # the saturation boundary of the left shift
    return sorted(v for v in xs if INT64_MIN <= v <= INT64_MAX)


def test_shift_round_edge_grid():
    cases = [(x, s, m) for s in SHIFTS for x in _edge_xs(s) for m in RMODES]
    check_shift_round(cases)


def _overflow_xs(bits):
    h = 2 ** (bits - 1)
    xs = {0, 1, -1, INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1}
    for b in (h, -h, 2 * h, -2 * h, 3 * h):
        xs |= {b - 2, b - 1, b, b + 1, b + 2}
    return sorted(v for v in xs if INT64_MIN <= v <= INT64_MAX)


def test_overflow_edge_grid():
    cases = [(x, b, m) for b in (8, 16, 32, 2, 3, 24, 62, 63) for x in _overflow_xs(b) for m in OMODES]
    check_overflow(cases)


def test_qcast_edge_grid():
    cases = [(x, s, r, b, o) for s in (0, 1, 8, 31, 62, -1, -8, -24, -62) for x in _edge_xs(s)[::3]
             for r in (fp.ROUND_TRN, fp.ROUND_RND, fp.ROUND_RND_CONV) for b in (8, 16, 32) for o in OMODES]
    check_qcast(cases)


# ------------------------------------------------------------------ Hypothesis
I64 = st.integers(INT64_MIN, INT64_MAX)


@st.composite
def near_ties(draw):
    """(x, shift): x within 2 of a tie q * 2**shift + 2**(shift-1), or within 2 of a multiple."""
    s = draw(st.integers(1, 62))
    q = draw(st.integers(-(2 ** (63 - s)), 2 ** (63 - s) - 1))
    d = draw(st.sampled_from([2 ** (s - 1), 0])) + draw(st.integers(-2, 2))
    return max(INT64_MIN, min(INT64_MAX, q * 2 ** s + d)), s


SR_CASE = st.one_of(
    st.tuples(I64, st.integers(-62, 62)),
    st.tuples(st.integers(-1000, 1000), st.integers(0, 12)),
    near_ties(),
)


@given(st.lists(st.tuples(SR_CASE, st.sampled_from(RMODES)), min_size=1, max_size=40))
@example([((INT64_MIN, 62), fp.ROUND_RND_CONV), ((INT64_MAX, 62), fp.ROUND_RND), ((-(2 ** 61), 62), fp.ROUND_RND_INF),
          ((2 ** 61, 62), fp.ROUND_RND_CONV), ((-3 * 2 ** 60, 62), fp.ROUND_RND_ZERO), ((INT64_MIN, -1), fp.ROUND_TRN),
          ((-1, -62), fp.ROUND_TRN), ((2, -62), fp.ROUND_TRN), ((-3, 1), fp.ROUND_RND_MIN_INF), ((-1, 31), fp.ROUND_TRN_ZERO)])
def test_shift_round(cases):
    check_shift_round([(x, s, m) for (x, s), m in cases])


OV_CASE = st.tuples(
    st.one_of(I64, st.integers(-(2 ** 33), 2 ** 33), st.integers(-300, 300)),
    st.one_of(st.sampled_from([8, 16, 32]), st.integers(2, 63)),
    st.sampled_from(OMODES),
)


@given(st.lists(OV_CASE, min_size=1, max_size=40))
@example([(128, 8, fp.OVERFLOW_WRAP), (-129, 8, fp.OVERFLOW_WRAP), (-128, 8, fp.OVERFLOW_SAT_SYM),
          (INT64_MIN, 63, fp.OVERFLOW_WRAP), (INT64_MAX, 32, fp.OVERFLOW_WRAP), (2 ** 31, 32, fp.OVERFLOW_SAT_ZERO),
          (-(2 ** 15), 16, fp.OVERFLOW_SAT_ZERO), (-(2 ** 15), 16, fp.OVERFLOW_SAT_SYM), (INT64_MIN, 63, fp.OVERFLOW_SAT_SYM)])
def test_overflow(cases):
    check_overflow(cases)


@given(st.lists(st.tuples(SR_CASE, st.sampled_from(RMODES), st.sampled_from([8, 16, 32]), st.sampled_from(OMODES)),
                min_size=1, max_size=40))
@example([((INT64_MAX, -1), fp.ROUND_RND, 8, fp.OVERFLOW_WRAP), ((INT64_MIN, -62), fp.ROUND_RND, 32, fp.OVERFLOW_WRAP),
          ((3, -62), fp.ROUND_RND, 8, fp.OVERFLOW_WRAP), ((2 ** 40 + 5, -30), fp.ROUND_TRN, 32, fp.OVERFLOW_WRAP),
          ((-(2 ** 40) - 5, -30), fp.ROUND_TRN, 16, fp.OVERFLOW_SAT), ((255, 1), fp.ROUND_RND, 8, fp.OVERFLOW_SAT)])
def test_qcast(cases):
    check_qcast([(x, s, r, b, o) for (x, s), r, b, o in cases])


def test_bulk_random_vs_python():
    """20k random (x, shift, mode) and (x, bits, mode) through C, against exact Python integers."""
    rng = np.random.default_rng(11)
    n = 10000
    x = np.concatenate([rng.integers(INT64_MIN, INT64_MAX, n, dtype=np.int64, endpoint=True),
                        rng.integers(-(2 ** 20), 2 ** 20, n)]).astype(np.int64)
    s = rng.integers(-62, 63, 2 * n)
    m = rng.integers(0, len(RMODES), 2 * n)
    cases = [(int(a), int(b), int(c)) for a, b, c in zip(x, s, m)]
    assert _c("kws_t_shift_round", [x, s, m]) == [ref_shift_round(*c) for c in cases]
    b = rng.choice([8, 16, 32], 2 * n)
    o = rng.integers(0, len(OMODES), 2 * n)
    cases = [(int(a), int(c), int(d)) for a, c, d in zip(x, b, o)]
    assert _c("kws_t_overflow", [x, b, o]) == [ref_overflow(*c) for c in cases]
