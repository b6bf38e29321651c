"""quantize / dequantize: oracle == torch reference == a plain-Python statement of the spec, EXACTLY
(elementwise IEEE float32 operations), including ties, infinities, NaN, huge values and subnormals."""
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.torchref import run_reference
from tests.strategies import ROUNDINGS, int8_qparams, int8_array
from tests.ops.int16_cases import int16_array

SPECIAL = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 3.4028235e38, -3.4028235e38, 1e30, -1e30, 1e-45, -1e-45,
                    1.1754942e-38, -1.1754942e-38, 0.49999997, -0.49999997, 0.5, -0.5, 1.5, 2.5, -2.5,
                    8388607.5, 8388608.0, 16777217.0, 2.0 ** 31, -(2.0 ** 31)], np.float32)


def spec_quantize(x, scale, zp, qmin=-128, qmax=127):
    """docs/numerics.md "quantize", element by element in plain Python (exact rational rounding); int16:
    qmin, qmax = -32768, 32767 (section 9.4)."""
    out = np.empty(x.shape, np.int8 if qmax == 127 else np.int16)
    s = np.float32(scale)
    with np.errstate(all="ignore"):
        for i, xi in np.ndenumerate(x):
            v = np.float32(xi) / s                      # IEEE float32 division
            if math.isnan(v):
                q = zp
            elif math.isinf(v):
                q = qmax if v > 0 else qmin
            else:
                f = Fraction(float(v))
                r = math.floor(abs(f) + Fraction(1, 2))
                q = min(qmax, max(qmin, (r if f >= 0 else -r) + zp))
            out[i] = q
    return out


def spec_dequantize(q, scale, zp):
    out = np.empty(q.shape, np.float32)
    for i, qi in np.ndenumerate(q):
        out[i] = np.float32(int(qi) - zp) * np.float32(scale)   # one IEEE float32 multiplication
    return out


def assert_exact(model, x):
    """Oracle and torch agree exactly on every tensor (floats: same bits, NaN where NaN)."""
    got = model.run(x, trace=True)
    ref = run_reference(model, x, trace=True)
    for name in model.tensors:
        a, b = got[name], ref[name]
        assert a.shape == b.shape and a.dtype == b.dtype, (name, a.shape, b.shape, a.dtype, b.dtype)
        if a.dtype == np.float32:
            nan = np.isnan(a)
            assert np.array_equal(nan, np.isnan(b)), name
            assert np.array_equal(a[~nan].view(np.uint32), b[~nan].view(np.uint32)), (name, a, b)
        else:
            assert np.array_equal(a, b), (name, a, b)
    return got


def float_data(draw, shape, scale):
    seed = draw(st.integers(0, 2 ** 32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["normal", "ties", "bits", "special", "mixed"]))
    n = int(np.prod(shape))
    normal = (rng.standard_normal(n) * scale * 80).astype(np.float32)
    # (k + 1/2) * scale rounded to float32 (exact ties for power-of-two scales, near-ties otherwise) and its
    # float32 neighbours (k = 0: 0.49999997 * scale, where a float32 floor(v + 0.5) goes wrong)
    k = np.where(rng.random(n) < 0.5, rng.integers(-140, 140, n), rng.integers(-2, 2, n))
    ties = ((k + 0.5) * np.float64(scale)).astype(np.float32)
    step = rng.integers(-1, 2, n)
    ties = np.where(step < 0, np.nextafter(ties, np.float32(0)),
                    np.where(step > 0, np.nextafter(ties, np.copysign(np.float32(np.inf), ties)), ties))
    bits = rng.integers(0, 2 ** 32, n, dtype=np.uint64).astype(np.uint32).view(np.float32)  # any float32
    at_scale = (np.float64(scale) * np.array([0.49999997, -0.49999997, 0.5, -0.5, 1.5, 2.5, -2.5, 127.5, -128.5,
                                              126.49999])).astype(np.float32)  # exact v for power-of-two scales
    special = rng.choice(np.concatenate([SPECIAL, at_scale]), n)
    pools = dict(normal=normal, ties=ties, bits=bits, special=special)
    if kind == "mixed":
        pick = rng.integers(0, 4, n)
        x = np.choose(pick, [normal, ties, bits, special])
    else:
        x = pools[kind]
    return x.astype(np.float32).reshape(shape)


SCALES = st.one_of(int8_qparams().map(lambda p: p[0]),
                   st.integers(-12, 4).map(lambda e: 2.0 ** e),            # exact ties
                   st.sampled_from([1e-40, 1e-30, 3e4, 1.0, 0.1]))        # subnormal / tiny / large scales


@st.composite
def quantize_models(draw, fmt="int8"):
    """quantize / dequantize between float32 and ``fmt`` (int8, or int16: zero point 0, docs/numerics.md 9.4; uint8:
    dequantize only, the edge format of section 2)."""
    op = draw(st.sampled_from(["quantize", "dequantize"])) if fmt != "uint8" else "dequantize"
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    N = draw(st.integers(1, 3))
    scale = float(np.float32(draw(SCALES)))
    zp = draw(st.one_of(st.integers(-128, 127), st.sampled_from([-128, 0, 127]))) if fmt == "int8" else 0
    if fmt == "uint8":
        zp = draw(st.one_of(st.integers(0, 255), st.sampled_from([0, 128, 255])))
    if fmt == "int16" and draw(st.booleans()):   # |x / s| up to about 32768: the int16 range is exercised
        scale = float(np.float32(scale / 256.0)) or scale
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    if op == "quantize":
        x = b.input("x", shape, "float32")
        y = b.add("quantize", "q", [x], format=fmt, scale=scale, zero_point=zp)
        data = float_data(draw, (N,) + shape, scale)
    else:
        x = b.input("x", shape, fmt, scale, zp)
        y = b.add("dequantize", "dq", [x], format="float32")
        if fmt == "uint8":
            data = (int8_array(draw, (N,) + shape).astype(np.int16) + 128).astype(np.uint8)
        else:
            data = int8_array(draw, (N,) + shape) if fmt == "int8" else int16_array(draw, (N,) + shape)
    return b.build([y]), data


@pytest.mark.parametrize("fmt", ["int8", "int16", "uint8"])
@given(data=st.data())
def test_quantize_oracle_equals_torch_exactly(fmt, data):
    model, x = data.draw(quantize_models(fmt))
    got = assert_exact(model, x)[model.outputs[0]]
    node = model.nodes[0]
    if node.op == "quantize":
        spec = spec_quantize(x, model.output.scale, model.output.zero_point,
                             *((-128, 127) if fmt == "int8" else (-32768, 32767)))
        assert np.array_equal(got, spec)
    else:
        spec = spec_dequantize(x, model.input.scale, model.input.zero_point)
        assert np.array_equal(got.view(np.uint32), spec.view(np.uint32))  # dequantize: bit-exact


def _q_model(scale, zp, n):
    b = GraphBuilder()
    x = b.input("x", (n,), "float32")
    y = b.add("quantize", "q", [x], format="int8", scale=scale, zero_point=zp)
    return b.build([y])


def test_quantize_known_values():
    """scale 0.25: x / scale lands exactly on ties; roundf sends them away from zero (not to even)."""
    x = np.array([0.125, -0.125, 0.375, -0.375, 0.625, 31.875, -32.125, 31.5, 0.0, -0.0], np.float32)
    # x / scale = [0.5, -0.5, 1.5, -1.5, 2.5, 127.5, -128.5, 126, 0, -0]
    m = _q_model(0.25, 0, len(x))
    assert m.run(x).tolist() == [[1, -1, 2, -2, 3, 127, -128, 126, 0, 0]]
    m = _q_model(0.25, 10, len(x))
    assert m.run(x).tolist() == [[11, 9, 12, 8, 13, 127, -119, 127, 10, 10]]
    assert_exact(m, x)


def test_quantize_edge_values():
    """NaN -> zero point; +-inf and huge values saturate; the largest float32 below 0.5 rounds to 0
    (a float32 floor(v + 0.5) would give 1); subnormals quantize to the zero point."""
    x = np.array([np.nan, np.inf, -np.inf, 3.4028235e38, -3.4028235e38, 0.49999997, -0.49999997,
                  1e-45, -1e-45, 8388607.5, 2.0 ** 40], np.float32)
    m = _q_model(1.0, -7, len(x))
    assert m.run(x).tolist() == [[-7, 127, -128, 127, -128, -7, -7, -7, -7, 127, 127]]
    assert_exact(m, x)
    m = _q_model(1e-4, 0, len(x))   # 3.4e38 / 1e-4 overflows to inf in float32: still saturates
    assert m.run(x).tolist() == [[0, 127, -128, 127, -128, 127, -128, 0, 0, 127, 127]]
    assert_exact(m, x)
    assert np.array_equal(m.run(x), spec_quantize(x[None], 1e-4, 0))


def test_quantize_divides_not_multiplies():
    """v = x / scale, one float32 division; x * (1 / scale) differs near ties: with scale 0.3f,
    -38.25f / 0.3f = -127.49999 (-> -127) but -38.25f * (1 / 0.3f) = -127.5 (-> -128)."""
    s = np.float32(0.3)
    x = ((np.arange(-128, 128) + 0.5) * s).astype(np.float32)
    assert (x / s != x * (np.float32(1) / s)).any()  # the data separates the two formulas
    m = _q_model(float(s), 0, len(x))
    assert np.array_equal(m.run(x)[0], spec_quantize(x, s, 0))
    assert_exact(m, x)
    assert _q_model(float(s), 0, 1).run(np.array([-38.25], np.float32)).tolist() == [[-127]]


def test_dequantize_known_values():
    b = GraphBuilder()
    x = b.input("x", (5,), "int8", 0.1, 5)
    y = b.add("dequantize", "dq", [x], format="float32")
    m = b.build([y])
    q = np.array([[-128, 127, 5, 6, 4]], np.int8)
    out = assert_exact(m, q)[y]
    s = np.float32(0.1)
    want = np.array([[np.float32(-133) * s, np.float32(122) * s, 0.0, s, -s]], np.float32)
    assert np.array_equal(out.view(np.uint32), want.view(np.uint32))
    # subnormal scale: the product is subnormal, not flushed to zero
    b = GraphBuilder()
    x = b.input("x", (2,), "int8", 1e-40, 0)
    y = b.add("dequantize", "dq", [x], format="float32")
    m = b.build([y])
    out = assert_exact(m, np.array([[1, -3]], np.int8))[y]
    assert out[0, 0] == np.float32(1e-40) and out[0, 0] != 0


@pytest.mark.parametrize("scale", [0.1, 0.3, 0.0235, 1 / 3, 7.77e-3, 2.0 ** -7, 1e-40, 123.456])
@pytest.mark.parametrize("zp", [-128, -3, 0, 77, 127])
def test_dequantize_exhaustive(scale, zp):
    """Every int8 value, bit for bit: one float32 multiplication of the exact float32(q - zp)."""
    b = GraphBuilder()
    x = b.input("x", (256,), "int8", scale, zp)
    y = b.add("dequantize", "dq", [x], format="float32")
    m = b.build([y])
    q = np.arange(-128, 128, dtype=np.int8)[None]
    out = assert_exact(m, q)[y]
    assert np.array_equal(out.view(np.uint32), spec_dequantize(q, scale, zp).view(np.uint32))
    # and the float32 value equals the exact product rounded once (numpy float64 -> float32)
    once = ((q.astype(np.float64) - zp) * np.float64(np.float32(scale))).astype(np.float32)
    assert np.array_equal(out.view(np.uint32), once.view(np.uint32))


def test_quantize_dequantize_formats_are_validated():
    b = GraphBuilder()
    x = b.input("x", (3,), "float32")
    y = b.add("quantize", "q", [x])              # output declared float32
    with pytest.raises(ModelError, match="expected int8"):
        b.build([y])
    b = GraphBuilder()
    x = b.input("x", (3,), "int8", 0.1, 0)
    y = b.add("quantize", "q", [x], scale=0.1, zero_point=0)   # int8 input
    with pytest.raises(ModelError, match="format int8 is not supported"):
        b.build([y])
    b = GraphBuilder()
    x = b.input("x", (3,), "int8", 0.1, 0)
    y = b.add("dequantize", "dq", [x], format="int8", scale=0.1, zero_point=0)
    with pytest.raises(ModelError, match="expected float32"):
        b.build([y])
    b = GraphBuilder()
    x = b.input("x", (3,), "float32")
    y = b.add("dequantize", "dq", [x])
    with pytest.raises(ModelError, match="format float32 is not supported"):
        b.build([y])
