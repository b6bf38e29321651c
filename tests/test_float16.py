"""fp16 / bf16 storage conversions (docs/numerics.md, "Storage floats (fp16, bf16)"): the numba oracle
(kwsnum/float16.py) == numpy (float16) / torch (bfloat16) == C (c_runtime/kws_float16.h), bit for bit.

16 -> 32 bits: all 65,536 patterns of both formats. 32 -> 16 bits: for every 16-bit value its float32 value,
the exact midpoint to its upper neighbour and the float32 neighbours of that midpoint (every tie at every
exponent boundary, the subnormal / normal boundary, the overflow threshold), named edge cases, Hypothesis, and
a bulk sweep of random float32 bit patterns. NaN: numpy / torch only say "NaN"; our bits follow the payload
rule of the spec (sign kept, payload top bits kept, quiet bit set), and C == numba on every bit.

The C side is a small test-only library (the header's static inline functions wrapped over arrays), compiled
with the runtime's strict flags and UBSan (tests/c_build.py) into a temp dir, once per process.
:func:`build_test_lib` is shared with tests/test_qformat_primitives.py.
"""
import ctypes
import functools
import hashlib
import os
import re
import subprocess

import numpy as np
import pytest
from hypothesis import given, example, strategies as st

from kwsnum import float16 as F
from tests import c_build


# ------------------------------------------------------------------ a test-only C library
def build_test_lib(tag, source):
    """Compile ``source`` (which includes runtime headers) into a shared library with c_build's strict flags
    (UBSan variants first, as c_build does), cached by a hash of the runtime headers, the source and the flags;
    returns the loaded ctypes.CDLL. Skips without a C compiler. Honours $KWSNUM_C_RUNTIME_DIR."""
    return _build_test_lib(tag, source, c_build.runtime_dir())


@functools.lru_cache(maxsize=None)
def _build_test_lib(tag, source, include):
    cc = c_build.compiler()
    if cc is None:
        pytest.skip("no C compiler found")
    d = c_build.build_dir()
    src = os.path.join(d, f"kws_t_{tag}_{hashlib.sha256(source.encode()).hexdigest()[:12]}.c")
    if not os.path.exists(src):
        with open(src + f".{os.getpid()}", "w") as fh:
            fh.write(source)
        os.replace(src + f".{os.getpid()}", src)
    errors = []
    for variant in c_build.SHARED_VARIANTS:
        flags = c_build.STRICT + variant
        h = hashlib.sha256()
        for f in c_build.headers() + [src]:
            h.update(os.path.basename(f).encode())
            with open(f, "rb") as fh:
                h.update(fh.read())
        h.update(repr((cc, flags, include)).encode())
        out = os.path.join(d, f"libkws_t_{tag}_{h.hexdigest()[:16]}.so")
        if not os.path.exists(out):
            tmp = out + f".{os.getpid()}.tmp"
            r = subprocess.run([cc] + flags + ["-I", include, src, "-o", tmp], capture_output=True, text=True)
            if r.returncode != 0:
                errors.append((flags, r.stderr))
                if "error:" in r.stderr and "sanitize" not in r.stderr and "ubsan" not in r.stderr:
                    break  # a real compile error (a warning under -Werror): do not hide it
                continue
            os.replace(tmp, out)
        return ctypes.CDLL(out)
    raise AssertionError(f"the {tag} test library does not compile:\n" + "\n".join(f"{f}\n{e}" for f, e in errors))


def call_map(lib, name, inp, out_dtype):
    """Call ``void name(const T *in, U *out, int32_t n)`` over a 1-D array; returns the output array."""
    inp = np.ascontiguousarray(inp)
    out = np.zeros(inp.size, out_dtype)
    fn = getattr(lib, name)
    fn.restype = None
    fn(ctypes.c_void_p(inp.ctypes.data), ctypes.c_void_p(out.ctypes.data), ctypes.c_int32(inp.size))
    return out


SHIM = r"""
#include "kws_float16.h"
void kws_t_f16_to_f32(const uint16_t *h, float *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_f16_to_f32(h[i]); }
void kws_t_f32_to_f16(const float *x, uint16_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_f32_to_f16(x[i]); }
void kws_t_bf16_to_f32(const uint16_t *h, float *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_bf16_to_f32(h[i]); }
void kws_t_f32_to_bf16(const float *x, uint16_t *y, int32_t n)
{ int32_t i; for (i = 0; i < n; i++) y[i] = kws_f32_to_bf16(x[i]); }
"""


def clib():
    return build_test_lib("float16", SHIM)


def c_f16_to_f32(h):
    return call_map(clib(), "kws_t_f16_to_f32", np.asarray(h, np.uint16), np.float32)


def c_bf16_to_f32(h):
    return call_map(clib(), "kws_t_bf16_to_f32", np.asarray(h, np.uint16), np.float32)


def c_f32_to_f16(x):
    return call_map(clib(), "kws_t_f32_to_f16", np.asarray(x, np.float32), np.uint16)


def c_f32_to_bf16(x):
    return call_map(clib(), "kws_t_f32_to_bf16", np.asarray(x, np.float32), np.uint16)


# ------------------------------------------------------------------ references and the NaN rule
def np_f16_to_f32(h):
    return np.asarray(h, np.uint16).view(np.float16).astype(np.float32)


def np_f32_to_f16(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(x, np.float32).astype(np.float16).view(np.uint16)


def torch_bf16_to_f32(h):
    import torch
    return torch.from_numpy(np.asarray(h, np.uint16).view(np.int16).copy()).view(torch.bfloat16).float().numpy()


def torch_f32_to_bf16(x):
    import torch
    t = torch.from_numpy(np.ascontiguousarray(x, np.float32).copy()).to(torch.bfloat16)
    return t.view(torch.int16).numpy().view(np.uint16)


def nan_rule_f32_from_f16(h):
    """fp16 NaN -> float32 bits: sign, payload << 13, quiet bit set."""
    h = np.asarray(h, np.uint32)
    return ((h & 0x8000) << 16) | 0x7F800000 | 0x00400000 | ((h & 0x3FF) << 13)


def nan_rule_f32_from_bf16(h):
    h = np.asarray(h, np.uint32)
    return (h << 16) | 0x00400000


def nan_rule_f16(u):
    """float32 NaN bits -> fp16 bits: sign, top 10 payload bits, quiet bit set."""
    u = np.asarray(u, np.uint32)
    return (((u >> 16) & 0x8000) | 0x7E00 | ((u >> 13) & 0x3FF)).astype(np.uint16)


def nan_rule_bf16(u):
    u = np.asarray(u, np.uint32)
    return ((u >> 16) | 0x0040).astype(np.uint16)


def bits32(a):
    return np.asarray(a, np.float32).view(np.uint32)


# ------------------------------------------------------------------ 16 -> 32: every pattern
ALL16 = np.arange(65536, dtype=np.uint32).astype(np.uint16)


def _check_widen(h, got, ref, nan_rule, name):
    """got (float32) against a reference: bit-equal off NaN; NaN where the reference is NaN, with the rule's bits."""
    nan = np.isnan(ref)
    assert np.array_equal(bits32(got)[~nan], bits32(ref)[~nan]), name
    assert np.all(np.isnan(got[nan])), name
    assert np.array_equal(bits32(got)[nan], nan_rule(h[nan])), name


def test_f16_to_f32_all_65536_patterns():
    got = F.f16_to_f32_array(ALL16)
    _check_widen(ALL16, got, np_f16_to_f32(ALL16), nan_rule_f32_from_f16, "numba vs numpy")
    assert int(np.isnan(got).sum()) == 2 * 1023 * 1  # 2 signs x 1023 payloads
    assert np.array_equal(bits32(c_f16_to_f32(ALL16)), bits32(got)), "C vs numba"
    # the scalar entry point, over every pattern (its float32 result goes through a Python float: quiet NaNs
    # survive that round trip bit for bit)
    scalar = np.array([F.f16_to_f32(int(h)) for h in ALL16], np.float32)
    assert np.array_equal(bits32(scalar), bits32(got)), "scalar vs array"
    # shape is kept
    assert F.f16_to_f32_array(ALL16.reshape(256, 16, 16)).shape == (256, 16, 16)


def test_bf16_to_f32_all_65536_patterns():
    got = F.bf16_to_f32_array(ALL16)
    _check_widen(ALL16, got, torch_bf16_to_f32(ALL16), nan_rule_f32_from_bf16, "numba vs torch")
    assert int(np.isnan(got).sum()) == 2 * 127
    assert np.array_equal(bits32(c_bf16_to_f32(ALL16)), bits32(got)), "C vs numba"
    scalar = np.array([F.bf16_to_f32(int(h)) for h in ALL16], np.float32)
    assert np.array_equal(bits32(scalar), bits32(got)), "scalar vs array"


# ------------------------------------------------------------------ 32 -> 16
def _check_narrow(x, fmt):
    """numba (array and, for small inputs, scalar) == reference == C on float32 inputs x; NaN by the rule."""
    x = np.ascontiguousarray(x, np.float32)
    if fmt == "f16":
        got, ref, c, rule = F.f32_to_f16_array(x), np_f32_to_f16(x), c_f32_to_f16(x), nan_rule_f16
        scalar_fn = F.f32_to_f16
    else:
        got, ref, c, rule = F.f32_to_bf16_array(x), torch_f32_to_bf16(x), c_f32_to_bf16(x), nan_rule_bf16
        scalar_fn = F.f32_to_bf16
    nan = np.isnan(x)
    assert np.array_equal(got[~nan], ref[~nan]), (fmt, x[~nan][got[~nan] != ref[~nan]][:5])
    assert np.array_equal(got[nan], rule(bits32(x)[nan])), fmt
    # the reference agrees that NaN in gives NaN out
    ref_w = np_f16_to_f32(ref[nan]) if fmt == "f16" else torch_bf16_to_f32(ref[nan])
    assert np.all(np.isnan(ref_w)), fmt
    assert np.array_equal(c, got), (fmt, "C vs numba")
    if x.size <= 5000:
        sc = np.array([scalar_fn(v) for v in x], np.uint16)
        assert np.array_equal(sc, got), (fmt, "scalar vs array")
    return got


def _ties_and_neighbours(values_f32, upper_f64):
    """For each value v (float32) with upper neighbour u (float64, may be 2**16 for fp16 overflow): the
    midpoint (exact in float32: it has at most 12 / 9 significant bits) and its float32 neighbours."""
    mid = ((values_f32.astype(np.float64) + upper_f64) / 2).astype(np.float32)
    assert np.array_equal(mid.astype(np.float64), (values_f32.astype(np.float64) + upper_f64) / 2)
    below = np.nextafter(mid, np.float32(0))       # mid > 0
    above = np.nextafter(mid, np.float32(np.inf))
    return mid, below, above


def test_f32_to_f16_every_tie_and_boundary():
    """For every finite fp16 h >= 0 (and its negative): h's own value maps to h; the midpoint to h+1 maps to
    the even one of h, h+1 (h+1 = 0x7C00 is +inf: 65520 overflows); one float32 ulp below / above it maps to
    h / h+1. This is every tie at every exponent boundary, subnormals and the overflow threshold."""
    h = np.arange(0x7C00, dtype=np.uint32).astype(np.uint16)            # 0 .. 65504
    v = np_f16_to_f32(h)
    up = np.append(np_f16_to_f32(h[1:]).astype(np.float64), 65536.0)    # 0x7BFF's neighbour: 2**16
    mid, below, above = _ties_and_neighbours(v, up)
    even = np.where(h % 2 == 0, h, h + 1).astype(np.uint16)
    for sign in (0, 0x8000):
        s = np.float32(-1.0 if sign else 1.0)
        for x, want in ((v, h), (mid, even), (below, h), (above, h + 1)):
            got = _check_narrow(x * s, "f16")
            assert np.array_equal(got, (want.astype(np.uint32) | sign).astype(np.uint16))


def test_f32_to_bf16_every_tie_and_boundary():
    """Same for bf16 (h + 1 = 0x7F80 is +inf: the midpoint to the largest finite bf16 overflows)."""
    h = np.arange(0x7F80, dtype=np.uint32).astype(np.uint16)
    v = torch_bf16_to_f32(h)
    up = np.append(torch_bf16_to_f32(h[1:]).astype(np.float64), 2.0 ** 128)
    mid = ((bits32(v).astype(np.uint64) + 0x8000).astype(np.uint32)).view(np.float32)  # exact midpoints
    below = (bits32(mid) - 1).view(np.float32)
    above = (bits32(mid) + 1).view(np.float32)
    finite = np.isfinite(mid)
    assert np.array_equal(mid[finite].astype(np.float64), ((v.astype(np.float64) + up) / 2)[finite])
    even = np.where(h % 2 == 0, h, h + 1).astype(np.uint16)
    for sign in (0, 0x8000):
        for x, want in ((v, h), (mid, even), (below, h), (above, h + 1)):
            xs = (bits32(x) | np.uint32(sign << 16)).view(np.float32)
            got = _check_narrow(xs, "bf16")
            assert np.array_equal(got, (want.astype(np.uint32) | sign).astype(np.uint16))


def f32(b):
    return np.array([b], np.uint32).view(np.float32)[0]


# (float32 bit pattern, fp16 bits, bf16 bits) -- independent of every implementation
EDGES = [
    (0x00000000, 0x0000, 0x0000), (0x80000000, 0x8000, 0x8000),          # +-0
    (0x3F800000, 0x3C00, 0x3F80),                                         # 1.0
    (0x477FE000, 0x7BFF, 0x4780),                                         # 65504: largest finite fp16
    (0x477FEFFF, 0x7BFF, 0x4780),                                         # just below 65520
    (0x477FF000, 0x7C00, 0x4780),                                         # 65520: tie -> even -> inf (fp16)
    (0x47800000, 0x7C00, 0x4780),                                         # 65536
    (0x47C35000, 0x7C00, 0x47C3),                                         # 100000: far above
    (0x7F7FFFFF, 0x7C00, 0x7F80),                                         # FLT_MAX: overflow (bf16 too)
    (0x7F7F7FFF, 0x7C00, 0x7F7F),                                         # just below the bf16 overflow tie
    (0x7F7F8000, 0x7C00, 0x7F80),                                         # bf16 tie above 0x7F7F (odd): inf
    (0x7F800000, 0x7C00, 0x7F80), (0xFF800000, 0xFC00, 0xFF80),          # +-inf
    (0x33800000, 0x0001, 0x3380),                                         # 2**-24: smallest fp16 subnormal
    (0x33000000, 0x0000, 0x3300),                                         # 2**-25: halfway below it -> 0
    (0x33000001, 0x0001, 0x3300),                                         # just above -> 2**-24
    (0xB3000000, 0x8000, 0xB300),                                         # -2**-25 -> -0
    (0x32FFFFFF, 0x0000, 0x3300),                                         # below the halfway point
    (0x33C00000, 0x0002, 0x33C0),                                         # 3 * 2**-25: tie 1|2 -> 2
    (0x34200000, 0x0002, 0x3420),                                         # 5 * 2**-25: tie 2|3 -> 2
    (0x387FC000, 0x03FF, 0x3880),                                         # largest fp16 subnormal
    (0x387FE000, 0x0400, 0x3880),                                         # tie 0x3FF|0x400 -> 0x400 (normal)
    (0x38800000, 0x0400, 0x3880),                                         # 2**-14: smallest fp16 normal
    (0x00000001, 0x0000, 0x0000), (0x80000001, 0x8000, 0x8000),          # smallest float32 subnormal
    (0x007FFFFF, 0x0000, 0x0080),                                         # largest f32 subnormal: bf16 rounds up to normal
    (0x00008000, 0x0000, 0x0000),                                         # bf16 subnormal tie (0|1) -> 0
    (0x00018000, 0x0000, 0x0002),                                         # bf16 subnormal tie (1|2) -> 2
    (0x3F808000, 0x3C04, 0x3F80),                                         # bf16 tie 0x3F80|0x3F81 -> 0x3F80
    (0x3F818000, 0x3C0C, 0x3F82),                                         # bf16 tie 0x3F81|0x3F82 -> 0x3F82
    (0x3F801000, 0x3C00, 0x3F80),                                         # fp16 tie 0x3C00|0x3C01 -> 0x3C00
    (0x3F803000, 0x3C02, 0x3F80),                                         # fp16 tie 0x3C01|0x3C02 -> 0x3C02
    (0x3FFFF000, 0x4000, 0x4000),                                         # fp16 tie carrying into the exponent
    # NaN: sign, top payload bits, quiet bit set (signalling NaNs are quieted)
    (0x7FC00000, 0x7E00, 0x7FC0), (0xFFC00000, 0xFE00, 0xFFC0),
    (0x7F800001, 0x7E00, 0x7FC0),                                         # sNaN, payload below fp16/bf16 reach
    (0x7FA00000, 0x7F00, 0x7FE0),                                         # sNaN, payload top bit
    (0xFFBFE000, 0xFFFF, 0xFFFF),                                         # -sNaN, all fp16 payload bits
    (0x7FFFFFFF, 0x7FFF, 0x7FFF),
]


def test_f32_to_16_named_edges():
    x = np.array([e[0] for e in EDGES], np.uint32).view(np.float32)
    got16 = _check_narrow(x, "f16")
    gotb = _check_narrow(x, "bf16")
    assert [hex(v) for v in got16] == [hex(e[1]) for e in EDGES]
    assert [hex(v) for v in gotb] == [hex(e[2]) for e in EDGES]


def test_round_trip_and_nan_widening():
    """Widening then narrowing is the identity on every non-signalling pattern; a signalling NaN comes back
    quieted. Widening NaN payloads: the named rule (payload kept, quiet bit set)."""
    for widen, narrow, quiet in ((F.f16_to_f32_array, F.f32_to_f16_array, 0x0200),
                                 (F.bf16_to_f32_array, F.f32_to_bf16_array, 0x0040)):
        back = narrow(widen(ALL16))
        w = widen(ALL16)
        nan = np.isnan(w)
        assert np.array_equal(back[~nan], ALL16[~nan])
        assert np.array_equal(back[nan], ALL16[nan] | quiet)
    assert F.f16_to_f32(0x7C01) != F.f16_to_f32(0x7C01)                  # sNaN stays NaN
    assert bits32(F.f16_to_f32_array(np.array([0x7C01, 0xFD55], np.uint16))).tolist() == [0x7FC02000, 0xFFEAA000]
    assert bits32(F.bf16_to_f32_array(np.array([0x7F81, 0xFFA5], np.uint16))).tolist() == [0x7FC10000, 0xFFE50000]


U32 = st.integers(0, 2 ** 32 - 1)


@given(st.lists(U32, min_size=1, max_size=64))
@example([0x7F800001, 0xFF800001, 0x33000000, 0x477FF000, 0x7F7F8000, 0x387FE000, 0x80000000])
def test_f32_to_16_random_bit_patterns(us):
    x = np.array(us, np.uint32).view(np.float32)
    _check_narrow(x, "f16")
    _check_narrow(x, "bf16")


@given(st.lists(st.floats(width=32, allow_nan=True), min_size=1, max_size=64),
       st.lists(st.floats(min_value=-70000, max_value=70000, width=32), min_size=1, max_size=64))
def test_f32_to_16_random_floats(xs, ys):
    x = np.array(xs + ys, np.float32)
    _check_narrow(x, "f16")
    _check_narrow(x, "bf16")


@given(st.lists(st.integers(0, 65535), min_size=1, max_size=64))
def test_16_to_f32_hypothesis(hs):
    h = np.array(hs, np.uint16)
    _check_widen(h, F.f16_to_f32_array(h), np_f16_to_f32(h), nan_rule_f32_from_f16, "f16")
    _check_widen(h, F.bf16_to_f32_array(h), torch_bf16_to_f32(h), nan_rule_f32_from_bf16, "bf16")
    assert np.array_equal(bits32(c_f16_to_f32(h)), bits32(F.f16_to_f32_array(h)))
    assert np.array_equal(bits32(c_bf16_to_f32(h)), bits32(F.bf16_to_f32_array(h)))


def test_f32_to_16_bulk_random_sweep():
    """3 million float32 inputs: 2M uniformly random bit patterns (every class: NaN, inf, subnormal, ...) and
    1M with exponents in the fp16 range, 16-bit-tie-heavy low mantissa bits."""
    rng = np.random.default_rng(2024)
    u = rng.integers(0, 2 ** 32, 2_000_000, dtype=np.uint64).astype(np.uint32)
    e = rng.integers(102, 144, 1_000_000).astype(np.uint32)                       # 2**-25 .. 2**16
    m = rng.integers(0, 2 ** 23, 1_000_000).astype(np.uint32)
    m = np.where(rng.random(1_000_000) < 0.5, m & ~np.uint32(0xFFF) | np.uint32(0x1000), m)  # fp16 ties
    m = np.where(rng.random(1_000_000) < 0.25, m & ~np.uint32(0xFFFF) | np.uint32(0x8000), m)  # bf16 ties
    s = rng.integers(0, 2, 1_000_000).astype(np.uint32) << np.uint32(31)
    x = np.concatenate([u, s | (e << np.uint32(23)) | m]).view(np.float32)
    _check_narrow(x, "f16")
    _check_narrow(x, "bf16")


def test_c_header_has_no_half_types():
    """The header uses no compiler half type (portability) and no pointer-cast punning (aliasing)."""
    with open(os.path.join(c_build.runtime_dir(), "kws_float16.h")) as fh:
        text = re.sub(r"/\*.*?\*/", "", fh.read(), flags=re.S)   # code only, not comments
    for banned in ("_Float16", "__fp16", "__bf16", "(float *)", "(uint32_t *)", "union"):
        assert banned not in text, banned
