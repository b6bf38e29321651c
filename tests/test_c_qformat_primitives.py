"""The C primitives of the Q-format ops (docs/numerics.md 10.2, 10.3 "quantize"): kws_div_round, kws_round_float
and kws_quantize_q (c_runtime/kws_fixedpoint.h) against the numba oracle (kwsnum/fixedpoint.py: div_round,
round_float, quantize_q) bit for bit, and against exact references (Python integers / fractions.Fraction, the
rounding table of section 8 via tests/test_qformat_primitives.ref_round).

The C side is a small test-only library wrapping the header's static inline functions over arrays
(tests/test_float16.build_test_lib: c_build's strict flags and UBSan, honours $KWSNUM_C_RUNTIME_DIR).
"""
import ctypes
from fractions import Fraction

import numpy as np
from hypothesis import given, example, strategies as st

from kwsnum import fixedpoint as fp
from tests.test_float16 import build_test_lib
from tests.test_qformat_primitives import RMODES, OMODES, SPEC_TABLE, ref_round, ref_overflow

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
D_MAX = 2 ** 31 - 1

SHIM = r"""
#include "kws_fixedpoint.h"
void kws_t_div_round(const int64_t *x, const int64_t *d, const int32_t *m, int64_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_div_round(x[i], d[i], (int)m[i]); }
void kws_t_round_float(const float *t, const int32_t *m, float *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_round_float(t[i], (int)m[i]); }
void kws_t_quantize_q(const float *x, const float *s, const int32_t *r, const int32_t *b, const int32_t *o,
                      int64_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_quantize_q(x[i], s[i], (int)r[i], (int)b[i], (int)o[i]); }
"""


def clib():
    return build_test_lib("qformat_ops", SHIM)


def _c(name, arrays, out_dtype):
    n = len(arrays[0])
    arrays = [np.ascontiguousarray(a) for a in arrays]
    out = np.zeros(n, out_dtype)
    fn = getattr(clib(), name)
    fn.restype = None
    fn(*[ctypes.c_void_p(a.ctypes.data) for a in arrays], ctypes.c_void_p(out.ctypes.data), ctypes.c_int32(n))
    return out


# ------------------------------------------------------------------ div_round
def ref_div_round(x, d, mode):
    """Exact: the rational x / d rounded by the section 8 table (Fraction)."""
    return ref_round(Fraction(x, d), mode)


def ref_div_round_int(x, d, mode):
    """The spec's 10.2 formula literally, in Python integers: q = floor(x / d), r in [0, d), tie test 2r vs d."""
    q, r = divmod(x, d)
    tie, above = 2 * r == d, 2 * r > d
    up = {fp.ROUND_TRN: False, fp.ROUND_TRN_ZERO: r != 0 and x < 0, fp.ROUND_RND: 2 * r >= d,
          fp.ROUND_RND_ZERO: above or (tie and x < 0), fp.ROUND_RND_INF: above or (tie and x >= 0),
          fp.ROUND_RND_MIN_INF: above, fp.ROUND_RND_CONV: above or (tie and q % 2 == 1)}[mode]
    return q + 1 if up else q


def check_div_round(cases):
    x = np.array([c[0] for c in cases], np.int64)
    d = np.array([c[1] for c in cases], np.int64)
    m = np.array([c[2] for c in cases], np.int32)
    want = [ref_div_round(*c) for c in cases]
    assert [ref_div_round_int(*c) for c in cases] == want
    assert [int(fp.div_round(*c)) for c in cases] == want
    got = _c("kws_t_div_round", [x, d, m], np.int64).tolist()
    bad = [(c, g, w) for c, g, w in zip(cases, got, want) if g != w]
    assert not bad, bad[:10]


def _div_edge_cases():
    xs = {0, 1, -1, 2, -2, 3, -3, 5, -5, INT64_MIN, INT64_MAX, INT64_MIN + 1, INT64_MAX - 1, 2 ** 62, -(2 ** 62)}
    ds = [1, 2, 3, 4, 5, 6, 7, 9, 10, 255, 256, 2 ** 16, 2 ** 30, 2 ** 31 - 2, D_MAX]
    cases = []
    for d in ds:
        h = d // 2
        grid = set(xs)
        for q in (0, 1, 2, 3, -1, -2, -3, -4, INT64_MAX // d - 1, INT64_MIN // d + 1):
            for off in (0, 1, h - 1, h, h + 1, d - 1):        # exact, ties (2r == d for even d), their neighbours
                grid.add(q * d + off)
        cases += [(x, d, m) for x in sorted(grid) if INT64_MIN <= x <= INT64_MAX for m in RMODES]
    return cases


def test_div_round_edge_grid():
    check_div_round(_div_edge_cases())


def test_div_round_table_of_the_spec():
    """x / 2 for x = -5 .. 5: the table of section 8 (d = 2 is shift_round by 1); and odd d ties never exist."""
    table = SPEC_TABLE
    xs = list(range(-5, 6))
    for mode, want in table.items():
        got = _c("kws_t_div_round", [np.array(xs, np.int64), np.full(11, 2, np.int64), np.full(11, mode, np.int32)],
                 np.int64).tolist()
        assert got == want, mode
    # x / 6 at the ties +-3, +-9 (q even / odd): the tie rules, d not a power of two
    xs = [-9, -3, 3, 9]
    want = {fp.ROUND_TRN: [-2, -1, 0, 1], fp.ROUND_TRN_ZERO: [-1, 0, 0, 1], fp.ROUND_RND: [-1, 0, 1, 2],
            fp.ROUND_RND_ZERO: [-1, 0, 0, 1], fp.ROUND_RND_INF: [-2, -1, 1, 2], fp.ROUND_RND_MIN_INF: [-2, -1, 0, 1],
            fp.ROUND_RND_CONV: [-2, 0, 0, 2]}
    for mode, w in want.items():
        got = _c("kws_t_div_round", [np.array(xs, np.int64), np.full(4, 6, np.int64), np.full(4, mode, np.int32)],
                 np.int64).tolist()
        assert got == w, mode


def test_div_round_power_of_two_is_shift_round():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.integers(INT64_MIN, INT64_MAX, 2000, dtype=np.int64, endpoint=True),
                        rng.integers(-5000, 5000, 2000)]).astype(np.int64)
    for k in (0, 1, 2, 5, 16, 30):
        for mode in RMODES:
            got = _c("kws_t_div_round", [x, np.full(x.size, 2 ** k, np.int64), np.full(x.size, mode, np.int32)],
                     np.int64).tolist()
            assert got == [int(fp.shift_round(int(v), k, mode)) for v in x], (k, mode)


X64 = st.one_of(st.integers(INT64_MIN, INT64_MAX), st.integers(-10 ** 6, 10 ** 6))
D = st.one_of(st.integers(1, D_MAX), st.integers(1, 20), st.sampled_from([2, 4, 2 ** 30, D_MAX, D_MAX - 1]))


@given(st.lists(st.tuples(X64, D, st.sampled_from(RMODES)), min_size=1, max_size=50))
@example([(INT64_MIN, 1, m) for m in RMODES] + [(INT64_MAX, 1, m) for m in RMODES]
         + [(INT64_MIN, 2, m) for m in RMODES] + [(INT64_MAX, D_MAX, m) for m in RMODES])
def test_div_round_hypothesis(cases):
    check_div_round(cases)


@given(st.lists(st.tuples(st.integers(-10 ** 12, 10 ** 12), st.integers(1, 1000).map(lambda h: 2 * h),
                          st.sampled_from(RMODES)), min_size=1, max_size=50))
def test_div_round_hypothesis_ties(cases):
    """Exact ties x = q * d + d / 2 (d even), the case where the modes differ."""
    check_div_round([(x - x % d + d // 2, d, m) for x, d, m in cases])


def test_div_round_bulk():
    rng = np.random.default_rng(5)
    n = 20000
    x = np.concatenate([rng.integers(INT64_MIN, INT64_MAX, n, dtype=np.int64, endpoint=True),
                        rng.integers(-(2 ** 40), 2 ** 40, n)]).astype(np.int64)
    d = np.concatenate([rng.integers(1, 2 ** 31, n), rng.integers(1, 64, n)]).astype(np.int64)
    for mode in RMODES:
        got = _c("kws_t_div_round", [x, d, np.full(2 * n, mode, np.int32)], np.int64).tolist()
        want = [ref_div_round_int(int(a), int(b), mode) for a, b in zip(x, d)]
        assert got == want, mode


# ------------------------------------------------------------------ round_float
def c_round_float(t, mode):
    t = np.asarray(t, np.float32).reshape(-1)
    return _c("kws_t_round_float", [t, np.full(t.size, mode, np.int32)], np.float32)


def check_round_float(ts):
    """C == numba bit for bit (NaN: NaN); finite |t| < 2**23 also against the exact Fraction rounding."""
    ts = np.asarray(ts, np.float32).reshape(-1)
    for mode in RMODES:
        got = c_round_float(ts, mode)
        want = np.array([fp.round_float(t, mode) for t in ts], np.float32)
        nan = np.isnan(ts)
        assert np.array_equal(np.isnan(got), nan) and np.array_equal(np.isnan(want), nan)
        gb, wb = got.view(np.uint32), want.view(np.uint32)
        bad = np.flatnonzero((gb != wb) & ~nan)
        assert bad.size == 0, (mode, [(float(ts[i]), float(got[i]), float(want[i])) for i in bad[:10]])
        for t, g in zip(ts, got):
            if np.isfinite(t):
                if abs(t) < 2 ** 23:
                    assert g == ref_round(Fraction(float(t)), mode), (mode, float(t), float(g))
                else:
                    assert g.view(np.uint32) == t.view(np.uint32)      # already an integer: returned as is
            elif np.isinf(t):
                assert g == t


SPECIAL = np.array([0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 3.5, -3.5, 0.25, -0.25, 0.75, -0.75,
                    2.0 ** -30, -(2.0 ** -30), 2.0 ** -149, -(2.0 ** -149), 1e-38, -1e-38,
                    0.49999997, -0.49999997, 0.50000006, -0.50000006, 0.99999994, -0.99999994,
                    1.0000001, -1.0000001, 126.49999, 127.5, -128.5, 4194303.5, -4194303.5, 4194304.5, -4194304.5,
                    8388606.5, -8388606.5, 8388607.5, -8388607.5, 8388607.0, -8388607.0, 8388608.0, -8388608.0,
                    8388609.0, -8388609.0, 16777216.0, -16777216.0, 16777218.0, 2.0 ** 62, -(2.0 ** 62),
                    2.0 ** 63, -(2.0 ** 63), 3.4028235e38, -3.4028235e38, np.inf, -np.inf, np.nan, -np.nan],
                   dtype=np.float32)


def test_round_float_special():
    check_round_float(SPECIAL)


def test_round_float_tiny_negative_is_not_rounded_up():
    """The spec's example t = -2**-30: floor -1, and t - floor(t) = t + 1 would round to 1.0f in float32 (a false
    "above half" for RND_MIN_INF, a false tie elsewhere); the test against h = -0.5 gives 0 for every nearest
    mode and TRN_ZERO, -1 for TRN."""
    t = np.float32(-(2.0 ** -30))
    want = {fp.ROUND_TRN: -1.0, fp.ROUND_TRN_ZERO: 0.0, fp.ROUND_RND: 0.0, fp.ROUND_RND_ZERO: 0.0,
            fp.ROUND_RND_INF: 0.0, fp.ROUND_RND_MIN_INF: 0.0, fp.ROUND_RND_CONV: 0.0}
    for mode, w in want.items():
        assert float(c_round_float([t], mode)[0]) == w, mode


def test_round_float_ties_table():
    """v = -2.5 .. 2.5 in steps of 0.5: the table of section 8, in float32."""
    table = SPEC_TABLE
    ts = np.arange(-5, 6, dtype=np.float32) / np.float32(2)
    for mode, want in table.items():
        assert c_round_float(ts, mode).tolist() == want, mode


def _f32_neighbours(vals):
    out = []
    for v in np.asarray(vals, np.float32):
        out += [v, np.nextafter(v, np.float32(np.inf)), np.nextafter(v, np.float32(-np.inf))]
    return np.array(out, np.float32)


def test_round_float_tie_neighbours_at_every_exponent():
    """Ties k + 0.5 and their float32 neighbours, for k at every power of two up to 2**22, both signs."""
    ks = [0, 1, 2, 3] + [2 ** e + d for e in range(2, 23) for d in (-1, 0, 1)]
    vals = [s * (k + 0.5) for k in ks for s in (1, -1)] + [s * float(k) for k in ks for s in (1, -1)]
    check_round_float(_f32_neighbours(vals))


@given(st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True), min_size=1, max_size=40))
@example([-(2.0 ** -30), 2.0 ** -30, 0.5, -0.5, -0.0, 8388607.5, -8388607.5, 8388608.0])
def test_round_float_hypothesis(ts):
    check_round_float(ts)


@given(st.lists(st.integers(-(2 ** 24), 2 ** 24).map(lambda k: k / 2.0), min_size=1, max_size=40))
def test_round_float_hypothesis_halves(ts):
    check_round_float(ts)


def test_round_float_bulk_bit_patterns():
    rng = np.random.default_rng(9)
    bits = rng.integers(0, 2 ** 32, 20000, dtype=np.uint64).astype(np.uint32)
    ts = bits.view(np.float32)
    small = (rng.standard_normal(20000) * 100).astype(np.float32)
    check_round_float(np.concatenate([ts, small]))


# ------------------------------------------------------------------ quantize_q
def ref_quantize_q(x, n, rmode, bits, omode):
    """Independent reference: t = float32(x * 2**n) (numpy float32 multiplication), NaN -> 0; else the exact
    rounding of t (an integer already when |t| >= 2**23), clamped to +-2**62, then overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        t = np.float32(np.float32(x) * np.float32(2.0 ** n))
    if np.isnan(t):
        return ref_overflow(0, bits, omode)
    if np.isinf(t):
        v = 2 ** 62 if t > 0 else -(2 ** 62)
    else:
        v = ref_round(Fraction(float(t)), rmode)
        v = max(-(2 ** 62), min(2 ** 62, v))
    return ref_overflow(v, bits, omode)


def check_quantize_q(cases):
    """cases: (x float32, n, rmode, bits, omode)."""
    x = np.array([c[0] for c in cases], np.float32)
    s = np.array([np.float32(2.0 ** c[1]) for c in cases], np.float32)
    cols = [np.array([c[i] for c in cases], np.int32) for i in (2, 3, 4)]
    got = _c("kws_t_quantize_q", [x, s] + cols, np.int64).tolist()
    want = [int(fp.quantize_q(np.float32(c[0]), np.float32(2.0 ** c[1]), c[2], c[3], c[4])) for c in cases]
    ref = [ref_quantize_q(*c) for c in cases]
    assert want == ref
    bad = [(c, g, w) for c, g, w in zip(cases, got, want) if g != w]
    assert not bad, bad[:10]


QX = [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 0.99, -0.99, 1.0, -1.0, 127.5, -128.5, 2.0 ** -30, -(2.0 ** -30), 3.3e-3,
      -7.77, 1e10, -1e10, 3.4028235e38, -3.4028235e38, np.inf, -np.inf, np.nan, 2.0 ** 62, -(2.0 ** 62), 2.0 ** 63,
      255.5, 32767.5, -32768.5, 2147483647.0, -2147483648.0, 1e-45, 0.49999997, -0.49999997]
QN = [-32, -8, -1, 0, 1, 7, 12, 15, 24, 31, 32, 62]


def test_quantize_q_grid():
    """Every bits (8, 16, 32) x every overflow mode x every rounding mode on the special values and frac bits."""
    cases = [(x, n, r, b, o) for x in QX for n in QN for r in RMODES for b in (8, 16, 32) for o in OMODES]
    check_quantize_q(cases)


@given(st.lists(st.tuples(st.floats(width=32, allow_nan=True, allow_infinity=True), st.integers(-32, 62),
                          st.sampled_from(RMODES), st.sampled_from([8, 16, 32]), st.sampled_from(OMODES)),
                min_size=1, max_size=40))
@example([(np.nan, 7, fp.ROUND_RND, 8, fp.OVERFLOW_WRAP), (np.inf, 62, fp.ROUND_RND, 32, fp.OVERFLOW_WRAP),
          (-np.inf, 0, fp.ROUND_TRN, 16, fp.OVERFLOW_SAT_ZERO), (1.0, 62, fp.ROUND_RND, 32, fp.OVERFLOW_WRAP),
          (-1.5, 0, fp.ROUND_RND_CONV, 8, fp.OVERFLOW_SAT_SYM), (-128.0, 0, fp.ROUND_RND, 8, fp.OVERFLOW_SAT_SYM)])
def test_quantize_q_hypothesis(cases):
    check_quantize_q(cases)


@given(st.lists(st.tuples(st.floats(-4.0, 4.0, width=32), st.integers(0, 15), st.sampled_from(RMODES),
                          st.sampled_from([8, 16, 32]), st.sampled_from(OMODES)), min_size=1, max_size=40))
def test_quantize_q_hypothesis_realistic(cases):
    check_quantize_q(cases)


def test_quantize_q_wrap_of_large_values():
    """WRAP keeps the low `bits` bits of the rounded value, two's complement (explicit values)."""
    cases = {(2.0 ** 33 + 3 * 2.0 ** 10, 32): 3072, (2.0 ** 33 + 3 * 2.0 ** 10, 16): 3072,
             (2.0 ** 33 + 3 * 2.0 ** 10, 8): 0, (200.0, 8): -56, (40000.0, 16): -25536, (-129.0, 8): 127,
             (2.0 ** 31, 32): -(2 ** 31), (np.inf, 32): 0, (-np.inf, 8): 0}
    keys = list(cases)
    check_quantize_q([(x, 0, fp.ROUND_RND, b, fp.OVERFLOW_WRAP) for x, b in keys])
    x = np.array([k[0] for k in keys], np.float32)
    got = _c("kws_t_quantize_q", [x, np.ones(len(keys), np.float32), np.full(len(keys), fp.ROUND_RND, np.int32),
                                  np.array([k[1] for k in keys], np.int32),
                                  np.full(len(keys), fp.OVERFLOW_WRAP, np.int32)], np.int64).tolist()
    assert got == list(cases.values())
