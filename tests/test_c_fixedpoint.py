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
@example([(-3, 2), (3, 2), (-5, 10), (0, 7), (-255, 2), (1, 2), (-1, 2), (2 ** 60, 3), (-(2 ** 60), 2 ** 31),
          (2 ** 62, 2 ** 32 - 1), (-(2 ** 62), 2 ** 32 - 1), (2 ** 63 - 2 ** 32, 2 ** 32 - 1), (-(2 ** 63) + 1, 1)])
def test_c_div_round_away(cases):
    a, d = (np.array(v, np.int64) for v in zip(*cases))
    got = _call("kws_t_div_round_away", a, d, out_dtype=np.int64, n=len(cases)).tolist()
    assert got == [round_half_away(Fraction(p, q)) for p, q in cases]


U32_EDGE = [1, 2, 3, 0xFFFF, 0x10000, 0x10001, 0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF]
U64_EDGE = [0, 1, 0xFFFFFFFF, 0x100000000, 2 ** 63, 2 ** 64 - 1, 2 ** 64 - 2, 0xFFFFFFFF00000000, 0x8000000080000000]


@given(st.lists(st.tuples(st.one_of(st.integers(0, 2 ** 64 - 1), st.sampled_from(U64_EDGE),
                                    st.integers(0, 2 ** 34)),
                          st.one_of(st.integers(1, 2 ** 32 - 1), st.sampled_from(U32_EDGE), st.integers(1, 2 ** 17))),
                min_size=1, max_size=50))
@example([(n, d) for n in U64_EDGE for d in U32_EDGE])
def test_c_udiv64_32(cases):
    """The 64 / 32 division without a 64-bit division helper (Knuth D, 16-bit digits): quotient and remainder."""
    n, d = np.array([c[0] for c in cases], np.uint64), np.array([c[1] for c in cases], np.uint32)
    got = _call("kws_t_udiv64_32", n, d, out_dtype=np.uint64, n=2 * len(cases)).reshape(-1, 2).tolist()
    assert got == [[a // b, a % b] for a, b in cases]


@given(st.lists(st.tuples(st.integers(-(2 ** 31) + 1, 2 ** 31 - 1), st.integers(1, 2 ** 31 - 1)), min_size=1,
                max_size=50))
@example([(-3, 2), (3, 2), (-5, 10), (0, 7), (2 ** 31 - 1, 2), (-(2 ** 31) + 1, 2), (2 ** 31 - 1, 2 ** 31 - 1),
          (-(2 ** 31) + 1, 3), (255, 2 ** 30)])
def test_c_div_round_away_i32(cases):
    a, d = (np.array(v, np.int32) for v in zip(*cases))
    got = _call("kws_t_div_round_away_i32", a, d, out_dtype=np.int32, n=len(cases)).tolist()
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


# ------------------------------------------------------------------ requantize64 (int16 activations, spec 9.2)
from tests.test_fixedpoint import X47, MULT64, SHIFT64, ref_requantize64  # noqa: E402

SHIM64 = r"""
#include "kws_fixedpoint.h"
void kws_t_requantize_s64(const int64_t *x, const int32_t *m, const int32_t *s, int32_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_requantize_s64(x[i], m[i], s[i]); }
"""
_LIB64 = {}


def _lib64():
    """kws_requantize_s64 (static inline) behind an exported wrapper, compiled with the strict flags of
    tests/c_build.py (UBSan included when available) into its own small library."""
    import ctypes
    import hashlib
    import os
    import subprocess
    import pytest
    if "lib" in _LIB64:
        return _LIB64["lib"]
    cc = c_build.compiler()
    if cc is None:
        pytest.skip("no C compiler found")
    d = c_build.build_dir()
    hdr = os.path.join(c_build.runtime_dir(), "kws_fixedpoint.h")
    key = hashlib.sha256((SHIM64 + open(hdr).read()).encode()).hexdigest()[:12]
    src = os.path.join(d, f"kws_t64_{key}.c")
    with open(src, "w") as fh:
        fh.write(SHIM64)
    errors = []
    for variant in c_build.SHARED_VARIANTS:
        out = os.path.join(d, f"libkws_t64_{key}_{len(variant)}.so")
        r = subprocess.run([cc] + c_build.STRICT + variant + ["-I", c_build.runtime_dir(), src, "-o", out],
                           capture_output=True, text=True)
        if r.returncode == 0:
            _LIB64["lib"] = ctypes.CDLL(out)
            return _LIB64["lib"]
        errors.append(r.stderr)
    raise AssertionError("\n".join(errors))


def _c_requantize64(xs, ms, ss):
    import ctypes
    x = np.ascontiguousarray(xs, np.int64)
    m = np.ascontiguousarray(ms, np.int32)
    s = np.ascontiguousarray(ss, np.int32)
    y = np.zeros(len(x), np.int32)
    fn = _lib64().kws_t_requantize_s64
    fn.restype = None
    fn(*[ctypes.c_void_p(a.ctypes.data) for a in (x, m, s, y)], ctypes.c_int32(len(x)))
    return y.tolist()


@given(st.lists(st.tuples(X47, MULT64, SHIFT64), min_size=1, max_size=50))
@example([(-(2 ** 47), 2 ** 31 - 1, 7), (2 ** 47 - 1, 2 ** 31 - 1, 7), (2 ** 47 - 1, 0x7FFF0000, -31),
          (-(2 ** 47), 0, -31), (1, 1 << 30, -1), (-2, 1 << 30, -1), (-6, 1 << 30, -1),
          (2 ** 40, 2 ** 31 - 1, -10), (-(2 ** 40) + 12345, 0x7FFF8000, -10), (2 ** 40, 0x7FFF7FFF, -10)])
def test_c_requantize64(cases):
    xs, ms, ss = zip(*cases)
    assert _c_requantize64(xs, ms, ss) == [ref_requantize64(x, m, s) for x, m, s in cases]


def test_c_requantize64_bulk_vs_oracle():
    rng = np.random.default_rng(17)
    n = 20000
    xs = np.concatenate([rng.integers(-(2 ** 47), 2 ** 47, n // 2), rng.integers(-70000, 70000, n // 2)])
    ms = rng.integers(0, 2 ** 31, n)
    ms[:200] = 0x7FFF0000 + rng.integers(-3, 3, 200)              # both sides of the reduction's cap
    ms[200:400] = rng.integers(0x7FFF7FF0, 2 ** 31, 200)
    xs[:400] = rng.integers(-(2 ** 41), 2 ** 41, 400)
    ss = rng.integers(-31, 8, n)
    ss[:400] = rng.integers(-12, -8, 400)                           # large results that do not saturate
    got = _c_requantize64(xs, ms, ss)
    want = [int(fp.mbqm_int64(np.int64(x), np.int64(m), np.int64(s))) for x, m, s in zip(xs, ms, ss)]
    assert got == want
