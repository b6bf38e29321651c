"""The C fixed-point primitives (c_runtime/kws_fixedpoint.h) against the Python-integer references of
tests/test_fixedpoint.py (arbitrary precision) and against the numba oracle (kwsnum/fixedpoint.py)."""
import math
from fractions import Fraction

import numpy as np
from hypothesis import given, example, strategies as st

from kwsnum import fixedpoint as fp
from tests import c_build
from tests.test_fixedpoint import I32, MULT, SHIFT, sat32, round_half_away, ref_srdhm, ref_double, ref_single


def _call(name, *arrays_and_scalars, out_dtype, n):
    import ctypes
    out = np.zeros(n, dtype=out_dtype)
    args, keep = [], []
    for a in arrays_and_scalars:
        if isinstance(a, np.ndarray):
            a = np.ascontiguousarray(a)
            keep.append(a)
            args.append(ctypes.c_void_p(a.ctypes.data))
        else:
            args.append(a)
    args += [ctypes.c_void_p(out.ctypes.data), ctypes.c_int32(n)]
    fn = getattr(c_build.lib(), name)
    fn.restype = None
    fn(*args)
    return out


def c_requantize(xs, ms, ss, mode):
    import ctypes
    n = len(xs)
    return _call("kws_t_requantize", np.asarray(xs, np.int32), np.asarray(ms, np.int32), np.asarray(ss, np.int32),
                 ctypes.c_int32(mode), out_dtype=np.int32, n=n).tolist()


CASES = st.lists(st.tuples(I32, MULT, SHIFT), min_size=1, max_size=50)
EDGE = [(-(2 ** 31), 2 ** 31 - 1, 0), (2 ** 31 - 1, 2 ** 31 - 1, 30), (-2, 2 ** 30, -1), (1, 2 ** 30, -1),
        (5, 2 ** 30, -31), (-(2 ** 31), 2 ** 31 - 1, 30), (-(2 ** 31), 2 ** 31 - 1, -31), (-(2 ** 31), 0, 5),
        (2 ** 31 - 1, 1, -31), (-(2 ** 31), 2 ** 30, -31), (-1, 2 ** 31 - 1, -31), (-1, 2 ** 31 - 1, 0)]


@given(CASES)
@example(EDGE)
def test_c_requantize_double(cases):
    x, m, s = zip(*cases)
    assert c_requantize(x, m, s, fp.ROUND_DOUBLE) == [ref_double(*c) for c in cases]


@given(CASES)
@example(EDGE)
def test_c_requantize_single(cases):
    x, m, s = zip(*cases)
    assert c_requantize(x, m, s, fp.ROUND_SINGLE) == [ref_single(*c) for c in cases]


def test_c_requantize_bulk_vs_oracle():
    """100k random (x, M, shift) per mode, x from the full int32 range and near ties, against Python integers."""
    rng = np.random.default_rng(7)
    n = 20000
    x = np.concatenate([rng.integers(-(2 ** 31), 2 ** 31, n), rng.integers(-1000, 1000, n)]).astype(np.int32)
    m = np.concatenate([rng.integers(2 ** 30, 2 ** 31, n), rng.choice([0, 1, 2 ** 30, 2 ** 31 - 1], n)]).astype(np.int32)
    s = rng.integers(-31, 31, 2 * n).astype(np.int32)
    for mode, ref in ((fp.ROUND_DOUBLE, ref_double), (fp.ROUND_SINGLE, ref_single)):
        got = c_requantize(x, m, s, mode)
        want = [ref(int(a), int(b), int(c)) for a, b, c in zip(x, m, s)]
        assert got == want


@given(st.lists(st.tuples(I32, I32), min_size=1, max_size=50))
@example([(-(2 ** 31), -(2 ** 31)), (-(2 ** 31), 2 ** 31 - 1), (2 ** 31 - 1, 2 ** 31 - 1), (0, -(2 ** 31)),
          (-(2 ** 31), 1), (1, 2 ** 30), (-1, 2 ** 30), (-3, 2 ** 30)])
def test_c_srdhm(cases):
    a, b = (np.array(v, np.int32) for v in zip(*cases))
    got = _call("kws_t_srdhm", a, b, out_dtype=np.int32, n=len(cases)).tolist()
    assert got == [ref_srdhm(int(p), int(q)) for p, q in cases]


@given(st.lists(st.tuples(I32, st.integers(0, 31)), min_size=1, max_size=50))
@example([(-(2 ** 31), 31), (2 ** 31 - 1, 31), (-1, 1), (1, 1), (-3, 1), (3, 1), (-(2 ** 31), 0), (-5, 2)])
def test_c_rdbpot(cases):
    x, e = (np.array(v, np.int32) for v in zip(*cases))
    got = _call("kws_t_rdbpot", x, e, out_dtype=np.int32, n=len(cases)).tolist()
    assert got == [round_half_away(Fraction(int(v), 2 ** int(k))) for v, k in cases]
    assert got == [int(fp.rdbpot(int(v), int(k))) for v, k in cases]


@given(st.lists(st.integers(-(2 ** 63), 2 ** 63 - 1), min_size=1, max_size=50))
def test_c_sat_i32(xs):
    got = _call("kws_t_sat_i32", np.array(xs, np.int64), out_dtype=np.int32, n=len(xs)).tolist()
    assert got == [sat32(v) for v in xs]


@given(st.lists(st.tuples(st.integers(-(2 ** 40), 2 ** 40), st.integers(1, 2 ** 20)), min_size=1, max_size=50))
@example([(-3, 2), (3, 2), (-5, 10), (0, 7), (-255, 2), (1, 2), (-1, 2), (2 ** 60, 3), (-(2 ** 60), 2 ** 31)])
def test_c_div_round_away(cases):
    a, d = (np.array(v, np.int64) for v in zip(*cases))
    got = _call("kws_t_div_round_away", a, d, out_dtype=np.int64, n=len(cases)).tolist()
    assert got == [round_half_away(Fraction(p, q)) for p, q in cases]


@given(st.lists(st.tuples(st.integers(-(2 ** 61), 2 ** 61), st.integers(0, 62)), min_size=1, max_size=50))
@example([(-(2 ** 61), 62), (2 ** 61, 62), (-1, 1), (1, 1), (-3, 1), (0, 0), (-(2 ** 62) + 1, 62), (5, 0)])
def test_c_shift_round_away(cases):
    x, k = np.array([c[0] for c in cases], np.int64), np.array([c[1] for c in cases], np.int32)
    got = _call("kws_t_shift_round_away", x, k, out_dtype=np.int64, n=len(cases)).tolist()
    assert got == [round_half_away(Fraction(v, 2 ** n)) for v, n in cases]


@given(st.lists(st.one_of(st.integers(0, 2 ** 62 - 1), st.integers(0, 1000)), min_size=1, max_size=50))
@example([0, 1, 2, 3, 4, 2 ** 62 - 1, 2 ** 60, 2 ** 60 - 1, (2 ** 31 - 1) ** 2, (2 ** 31) ** 2 - 1])
def test_c_isqrt(vs):
    got = _call("kws_t_isqrt", np.array(vs, np.uint64), out_dtype=np.uint64, n=len(vs)).tolist()
    assert got == [math.isqrt(v) for v in vs]


@given(st.lists(st.integers(-(2 ** 63), 2 ** 63 - 1), min_size=1, max_size=20), st.integers(-128, 127),
       st.integers(-128, 127))
def test_c_clamp(xs, lo, hi):
    import ctypes
    lo, hi = min(lo, hi), max(lo, hi)
    got = _call("kws_t_clamp", np.array(xs, np.int64), ctypes.c_int64(lo), ctypes.c_int64(hi),
                out_dtype=np.int64, n=len(xs)).tolist()
    assert got == [min(max(v, lo), hi) for v in xs]


SPECIAL_F32 = np.array([0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 0.50000006,
                        8388607.5, -8388607.5, 8388608.0, 16777217.0, 3.4e38, -3.4e38, 1e-45, -1e-45,
                        np.inf, -np.inf, np.nan, 126.49999, 127.5, -128.5], dtype=np.float32)


def _check_round(v):
    v = np.asarray(v, np.float32)
    got = _call("kws_t_round_half_away_f32", v, out_dtype=np.float32, n=v.size)
    libm = _call("kws_t_roundf_libm", v, out_dtype=np.float32, n=v.size)
    # C roundf semantics, bit for bit (NaN: any NaN)
    nan = np.isnan(v)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.uint32), libm[~nan].view(np.uint32))
    # the oracle's round_half_away_f32 (float64 sign(v) * floor(|v| + 0.5)): same value
    ora = np.array([fp.round_half_away_f32(np.float32(t)) for t in v[~nan]], np.float64)
    assert np.array_equal(got[~nan].astype(np.float64), ora)


@given(st.lists(st.floats(width=32), min_size=1, max_size=50))
def test_c_round_half_away_f32(vs):
    _check_round(vs)


def test_c_round_half_away_f32_bulk():
    """Special values, every float32 tie k + 1/2 near zero and its neighbours, and 200k random bit patterns."""
    rng = np.random.default_rng(3)
    ties = (np.arange(-3000, 3000) + 0.5).astype(np.float32)
    near = np.concatenate([ties, np.nextafter(ties, np.float32(0)), np.nextafter(ties, np.float32(np.inf)),
                           np.nextafter(ties, np.float32(-np.inf))])
    bits = rng.integers(0, 2 ** 32, 200000, dtype=np.uint64).astype(np.uint32).view(np.float32)
    _check_round(np.concatenate([SPECIAL_F32, near, bits]))
