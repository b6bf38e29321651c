"""layernorm: oracle == torch reference (int8 exactly, float32 within tolerance), the float32 kernel against
a scalar float32 emulation of the spec, and the accuracy of the integer LayerNorm against float64."""
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import assume, given, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.ops import layernorm as ln
from kwsnum.quant import affine_params, act_clamp_int8, act_clamp_int16, int16_params
from kwsnum.torchref import isqrt as t_isqrt
from tests.strategies import FORMATS, ROUNDINGS, int8_qparams, float_array, check_model

Z = ln.Z_BITS


def float_layernorm(xr, gamma, beta, eps, k):
    ax = tuple(range(xr.ndim - k, xr.ndim))
    mu = xr.mean(axis=ax, keepdims=True)
    var = ((xr - mu) ** 2).mean(axis=ax, keepdims=True)
    sd = np.sqrt(var + eps)
    n = np.where(sd > 0, (xr - mu) / np.where(sd > 0, sd, 1.0), 0.0)   # eps = 0, all equal: the limit 0
    return n * gamma + beta, mu, var


class HypoChooser:
    """Choices drawn by Hypothesis (shrinkable) ..."""

    def __init__(self, draw):
        self.draw = draw

    def choice(self, options):
        return self.draw(st.sampled_from(list(options)))

    def integers(self, lo, hi):
        return self.draw(st.integers(lo, hi))

    def floats(self, lo, hi):
        return self.draw(st.floats(lo, hi))


class RngChooser:
    """... or by a seeded numpy generator (the bulk test: many configurations, evenly spread)."""

    def __init__(self, rng):
        self.rng = rng

    def choice(self, options):
        options = list(options)
        return options[int(self.rng.integers(0, len(options)))]

    def integers(self, lo, hi):
        return int(self.rng.integers(lo, hi + 1))

    def floats(self, lo, hi):
        return float(self.rng.uniform(lo, hi))


DATA_KINDS = ("uniform", "extremes", "narrow", "sparse", "constant", "outlier", "two-level")
INT8_MODES = ("export", "calibrated", "raw", "ties", "zoom", "zoom")


def int8_data(ch, rng, shape, D, kinds=DATA_KINDS):
    """int8 data: uniform, extremes, narrow (spread +-8), sparse (a few steps above one value), or structured
    groups of D elements: constant, one outlier, two levels half and half (mean, variance and sqrt exact:
    z = +-1.0 exactly, so with eps_q = 0 the output rounding meets exact ties)."""
    kind = ch.choice(kinds)
    if kind == "uniform":
        return rng.integers(-128, 128, size=shape).astype(np.int8)
    if kind == "extremes":
        return rng.choice(np.array([-128, -127, 0, 126, 127], dtype=np.int8), size=shape)
    if kind == "narrow":
        return np.clip(int(rng.integers(-100, 100)) + rng.integers(-8, 9, size=shape), -128, 127).astype(np.int8)
    if kind == "sparse":  # mostly one value (a ReLU output at its zero point), a few steps off: tiny variance
        hit = rng.random(shape) < rng.uniform(0.02, 0.3)
        return np.clip(int(rng.integers(-128, 124)) + hit * rng.integers(1, 4, size=shape), -128, 127).astype(np.int8)
    rows = int(np.prod(shape)) // D
    a = rng.integers(-128, 128, size=(rows, 1))
    x = np.repeat(a, D, axis=1)
    if kind == "outlier":
        x[np.arange(rows), rng.integers(0, D, size=rows)] = rng.integers(-128, 128, size=rows)
    elif kind == "two-level":
        lv = np.where(np.arange(D) < D // 2, 0, 1)
        b = rng.integers(-128, 128, size=(rows, 1))
        x = np.where(np.stack([rng.permutation(lv) for _ in range(rows)]) == 1, b, a)
    return x.reshape(shape).astype(np.int8)


def raw_int8_params(ch, rng, norm, ties):
    """gamma, beta, gamma_shift, eps_q drawn directly. ties=False: anywhere in the valid range, int64 edges
    included; ties=True: small gamma, beta an odd multiple of half an output step, eps_q = 0."""
    D = int(np.prod(norm))
    if ties:
        gs = ch.integers(0, 3)
        g = rng.integers(-200, 201, size=norm).astype(np.int32)
        bq = ((2 * rng.integers(-100, 100, size=norm) + 1) << (Z + gs - 1)).astype(np.int64)
        return g, bq, gs, 0
    gs = ch.integers(0, ln.MAX_GAMMA_SHIFT)
    gbits = rng.integers(0, 32, size=norm)
    g = np.minimum(rng.integers(0, 2 ** 31, size=norm) >> (31 - gbits), 2 ** 31 - 1)
    g = np.where(rng.random(norm) < 0.5, -g, g).astype(np.int32)
    if ch.choice([False, True]):
        g.reshape(-1)[0] = ch.choice([2 ** 31 - 1, -(2 ** 31 - 1)])
    room = 2 ** 63 - 1 - ln.z_bound(D) * int(np.abs(g.astype(np.int64)).max()) - (1 << (Z + gs - 1))
    bmax = min(room, 2 ** 62)
    bbits = rng.integers(0, 63, size=norm)
    bq = [int(rng.integers(0, 2 ** 62)) >> (62 - int(k)) for k in bbits.ravel()]
    bq = np.array([min(v, bmax) * (1 if rng.random() < 0.5 else -1) for v in bq], np.int64).reshape(norm)
    eps_q = ch.choice([0, 1, ln.MAX_EPS_Q, int(rng.integers(0, ln.MAX_EPS_Q + 1))])
    return g, bq, gs, eps_q


def zoom_int8_params(ch, rng, data, zi, axes, norm):
    """High resolution: one output step = 2**-e of a standard deviation (e = 8..15), and each element's beta
    cancels its own (float-estimated) normalized value in the first group of the first sample, so those
    outputs show z almost bit for bit instead of saturating (the other groups mostly saturate)."""
    D = int(np.prod(norm))
    e = ch.integers(8, 15)
    gs = ch.integers(0, 30 - e)
    g = np.round((1 << (e + gs)) * np.clip(1 + 0.1 * rng.standard_normal(norm), 0.5, 1.5)).astype(np.int64)
    eps_q = ch.choice([0, 1, 100, 10 ** 5])
    xi = data[0].reshape(-1, D)[0].astype(np.float64) - zi
    sd = np.sqrt(xi.var() + eps_q / 2 ** 16)
    n = ((xi - xi.mean()) / sd if sd > 0 else np.zeros(D)).reshape(norm)
    off = rng.integers(-60, 61, size=norm) << (Z + gs)
    bq = (off - np.round(n * g * 2.0 ** Z)).astype(np.int64)
    return g.astype(np.int32), bq, gs, eps_q


def int8_case(ch, seed, shape, axes, N, rounding, full_range=False):
    """A single-node int8 layernorm model and its input, every parameter mode and data kind."""
    rng = np.random.default_rng(seed)
    norm = shape[len(shape) - axes:]
    D = int(np.prod(norm))
    b = GraphBuilder(rounding=rounding)
    si = float(np.float32(ch.floats(1e-4, 1.0)))
    so = float(np.float32(ch.floats(1e-4, 1.0)))
    zi, zo = ch.integers(-128, 127), ch.integers(-128, 127)
    x = b.input("x", shape, "int8", si, zi)
    mode = ch.choice(INT8_MODES)
    data = int8_data(ch, rng, (N,) + shape, D, ("constant", "two-level") if mode == "ties" else DATA_KINDS)
    if mode in ("export", "calibrated"):
        gamma = (rng.standard_normal(norm) * ch.choice([0.0, 0.1, 1.0, 10.0])
                 + ch.choice([0.0, 1.0, -2.0])).astype(np.float32)
        beta = (rng.standard_normal(norm) * ch.choice([0.0, 0.5, 5.0])).astype(np.float32)
        eps = ch.choice([0.0, 1e-12, 1e-5, 1e-3, 1.0, 1e6])
        if mode == "calibrated":  # the output scale of the float output range: outputs spread over int8
            ref, _, _ = float_layernorm(si * (data.astype(np.float64) - zi), gamma, beta, eps, axes)
            so, zo = affine_params(ref.min(), ref.max())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # saturated gamma from a degenerate calibration (tested below)
            arrays, attrs = ln.int8_params(gamma, beta, eps, si, so, norm)
    else:
        if mode == "zoom":
            g, bq, gs, eps_q = zoom_int8_params(ch, rng, data, zi, axes, norm)
        else:
            g, bq, gs, eps_q = raw_int8_params(ch, rng, norm, mode == "ties")
        arrays = dict(gamma=g, beta=bq)
        attrs = dict(axes=axes, eps=1e-5, eps_q=eps_q, gamma_shift=gs)
    kind = "none" if full_range else ch.choice(["none", "relu", "random"])
    lo, hi = {"none": (-128, 127), "relu": (zo, 127)}.get(kind, (None, None))
    if lo is None:
        lo = ch.integers(-128, 127)
        hi = ch.integers(lo, 127)
    y = b.add("layernorm", "ln", [x], dict(attrs, act_min=lo, act_max=hi), arrays, scale=so, zero_point=zo)
    return b.build([y]), data


@st.composite
def layernorm_models(draw, fmt=None):
    fmt = fmt or draw(FORMATS)
    rank = draw(st.integers(1, 3))
    axes = draw(st.integers(1, min(2, rank)))
    shape = tuple(draw(st.integers(1, 9 if rank == 3 else 24)) for _ in range(rank))
    norm = shape[rank - axes:]
    N = draw(st.integers(1, 3))
    if fmt == "int8":
        return int8_case(HypoChooser(draw), draw(st.integers(0, 2 ** 32 - 1)), shape, axes, N, draw(ROUNDINGS))
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    x = b.input("x", shape, "float32")
    act = draw(st.sampled_from([(-np.inf, np.inf), (0.0, np.inf), (0.0, 6.0)]))
    arrays = dict(gamma=float_array(draw, norm), beta=float_array(draw, norm))
    eps = draw(st.sampled_from([1e-5, 1e-3, 0.5]))
    y = b.add("layernorm", "ln", [x], dict(axes=axes, eps=eps, act_min_f=act[0], act_max_f=act[1]), arrays)
    data = float_array(draw, (N,) + shape, scale=3.0) + np.float32(draw(st.sampled_from([0.0, 2.0, -5.0])))
    return b.build([y]), data


@given(layernorm_models("int8"))
def test_layernorm_int8_oracle_equals_torch(case):
    model, x = case
    check_model(model, x)


def bulk_int8_cases(n, seed=20240611):
    """n seeded int8 layernorm models with data, spread evenly over the parameter modes and data kinds
    (Hypothesis explores small cases first; the rounding corner cases need many elements and the
    "zoom"/"ties" modes). Shared with the C three-way test."""
    ch = RngChooser(np.random.default_rng(seed))
    for _ in range(n):
        rank = ch.integers(1, 3)
        axes = ch.integers(1, min(2, rank))
        shape = tuple(ch.integers(1, 6 if rank == 3 else 40) for _ in range(rank))
        yield int8_case(ch, ch.integers(0, 2 ** 32 - 1), shape, axes, ch.integers(1, 3),
                        ch.choice(["double", "single"]), full_range=ch.choice([True, True, False]))


def test_layernorm_int8_oracle_equals_torch_bulk():
    for model, x in bulk_int8_cases(300):
        check_model(model, x)


@given(layernorm_models("float32"))
def test_layernorm_f32_oracle_equals_torch(case):
    model, x = case
    check_model(model, x)


# ------------------------------------------------------------------ float32: the kernel is the spec
def f32_emulation(row, gamma, beta, eps, lo, hi):
    """docs layernorm float32, one numpy float32 scalar operation at a time (what C will do)."""
    f = np.float32
    s = f(0)
    for v in row:
        s = f(s + v)
    mean = f(s / f(len(row)))
    ss = f(0)
    for v in row:
        t = f(v - mean)
        ss = f(ss + f(t * t))
    var = f(ss / f(len(row)))
    rstd = f(f(1) / np.sqrt(f(var + eps)))
    out = []
    for v, g, b in zip(row, gamma, beta):
        y = f(f(f(v - mean) * rstd) * g)
        y = f(y + b)
        out.append(min(max(y, lo), hi))
    return np.array(out, np.float32)


@given(st.integers(1, 40), st.integers(0, 2 ** 32 - 1), st.sampled_from([1e-5, 1e-2]))
def test_layernorm_f32_bit_exact_emulation(D, seed, eps):
    rng = np.random.default_rng(seed)
    b = GraphBuilder()
    x = b.input("x", (3, D), "float32")
    g = rng.standard_normal(D).astype(np.float32)
    be = rng.standard_normal(D).astype(np.float32)
    y = b.add("layernorm", "ln", [x], dict(axes=1, eps=eps, act_min_f=-1.0, act_max_f=np.inf),
              dict(gamma=g, beta=be))
    m = b.build([y])
    data = (rng.standard_normal((2, 3, D)) * 4 + rng.normal(0, 10)).astype(np.float32)
    out = m.run(data)
    for n in range(2):
        for c in range(3):
            ref = f32_emulation(data[n, c], g, be, np.float32(eps), np.float32(-1.0), np.float32(np.inf))
            assert np.array_equal(out[n, c].view(np.int32), ref.view(np.int32)), (n, c)


# ------------------------------------------------------------------ int8: hand-computed and edge values
def build_int8(shape, axes, gamma_q, beta_q, gamma_shift, eps_q, si=0.1, zi=0, so=0.1, zo=0, act=(-128, 127)):
    b = GraphBuilder()
    x = b.input("x", shape, "int8", si, zi)
    y = b.add("layernorm", "ln", [x], dict(axes=axes, eps=1e-5, eps_q=eps_q, gamma_shift=gamma_shift,
                                           act_min=act[0], act_max=act[1]),
              dict(gamma=np.asarray(gamma_q, np.int32), beta=np.asarray(beta_q, np.int64)), scale=so, zero_point=zo)
    return b.build([y])


def test_layernorm_int8_known_values():
    """x = [0, 2]: mean_f = 256, c = -+256, var_f = 65536, sd = isqrt(2**32) = 65536, z = -+2**16 (= -+1.0);
    gamma 10, beta 5 (gamma_shift 0): y = -+10 + 5 = [-5, 15], plus zp_out 3."""
    m = build_int8((2,), 1, [10, 10], [5 << Z, 5 << Z], 0, 0, zo=3)
    x = np.array([[0, 2]], np.int8)
    assert m.run(x).tolist() == [[-2, 18]]
    check_model(m, x)
    # half-way rounding of the output: gamma 1.5 (gamma_q 3, gamma_shift 1), z = -+1.0 -> -+1.5 -> -+2 (away)
    m = build_int8((2,), 1, [3, 3], [0, 0], 1, 0)
    assert m.run(x).tolist() == [[-2, 2]]
    check_model(m, x)


def test_layernorm_int8_zero_variance_branch():
    """v == 0 (eps_q = 0, all equal) gives z = 0 -> y = round(beta); with D > 2**17 a row that is not constant
    can also have var_f == 0 (one element off by one): still z = 0 (the documented branch)."""
    m = build_int8((4,), 1, [1 << 20] * 4, [7 << Z] * 4, 0, 0)
    x = np.full((2, 4), -9, np.int8)
    assert (m.run(x) == 7).all()
    check_model(m, x)
    D = 140000
    m = build_int8((D,), 1, np.full(D, 1 << 20), np.zeros(D), 0, 0)
    x = np.zeros((1, D), np.int8)
    x[0, 5] = 1
    assert (m.run(x) == 0).all()
    check_model(m, x)


def test_torch_isqrt_exact():
    vals = [0, 1, 2, 3, 4, 15, 16, 17, 2 ** 49 - 1, 2 ** 49, 2 ** 57 - 1, 2 ** 62 - 1]
    for k in [3, 255, 65535, 2 ** 24 + 1, 2 ** 28 + 3, 2 ** 31 - 1]:
        vals += [k * k - 1, k * k, k * k + 1]
    rng = np.random.default_rng(1)
    vals += [int(v) for v in rng.integers(0, 2 ** 62, size=2000)]
    vals = [v for v in vals if 0 <= v < 2 ** 62]
    got = t_isqrt(torch.tensor(vals, dtype=torch.int64)).tolist()
    assert got == [math.isqrt(v) for v in vals]


def test_layernorm_validation():
    ok = dict(gamma_q=[1, 1, 1], beta_q=[0, 0, 0], gamma_shift=20, eps_q=10)
    build_int8((2, 3), 1, **ok)
    with pytest.raises(ModelError, match="gamma shape"):
        build_int8((2, 3), 2, **ok)
    with pytest.raises(ModelError, match="gamma values"):
        build_int8((2, 3), 1, **dict(ok, gamma_q=[1, -(2 ** 31), 1]))
    with pytest.raises(ModelError, match="overflow"):
        build_int8((2, 3), 1, **dict(ok, gamma_q=[2 ** 31 - 1] * 3, beta_q=[7 * 2 ** 60] * 3, gamma_shift=46))
    with pytest.raises(ModelError, match="gamma_shift"):
        build_int8((2, 3), 1, **dict(ok, gamma_shift=47))
    with pytest.raises(ModelError, match="eps_q"):
        build_int8((2, 3), 1, **dict(ok, eps_q=-1))
    with pytest.raises(ModelError, match="axes"):
        build_int8((6,), 2, **ok)


def test_int8_params_bounds():
    D = 2 ** 28
    with pytest.warns(UserWarning, match="saturated"):   # gamma / s_out >= 2**31: saturated, gamma_shift 0
        arrays, attrs = ln.int8_params(np.full((2,), 3e5, np.float32), None, 1e-5, 0.02, 1e-4, (2,))
    assert attrs["gamma_shift"] == 0 and arrays["gamma"].tolist() == [2 ** 31 - 1] * 2
    arrays, attrs = ln.int8_params(np.full((1,), 3e4, np.float32), np.full((1,), -7e3, np.float32), 1e-5,
                                   0.02, 1e-4, (1,))
    assert arrays["gamma"].dtype == np.int32 and arrays["beta"].dtype == np.int64
    assert 2 ** 30 <= abs(int(arrays["gamma"][0])) < 2 ** 31
    assert ln.acc_bound(D, arrays["gamma"], arrays["beta"], attrs["gamma_shift"]) < 2 ** 63
    arrays, attrs = ln.int8_params(None, None, 1e-5, 0.05, 0.03, (16, 1000))
    assert attrs == dict(axes=2, eps=1e-5, eps_q=round(1e-5 * 65536 / 0.05 ** 2), gamma_shift=attrs["gamma_shift"])
    assert arrays["gamma"].shape == (16, 1000) and (arrays["beta"] == 0).all()
    g = float(arrays["gamma"][0, 0]) / 2 ** attrs["gamma_shift"]
    assert abs(g - 1 / 0.03) < 1e-8
    assert ln.int8_params(None, None, 0.0, 1.0, 1.0, (4,))[1]["eps_q"] == 1       # clamped up to 1
    assert ln.int8_params(None, None, 1e9, 1e-3, 1.0, (4,))[1]["eps_q"] == 2 ** 40  # clamped down


# ------------------------------------------------------------------ int8 accuracy against float64
def error_bound_lsb(xq, zi, si, so, gamma, eps, k, gamma_shift, f_bits=8):
    """docs layernorm "accuracy": per-element bound of |dequant(y) - clamp(float LN)| in output steps. A 16-bit
    input (f_bits = 0, numerics 9.4) is the 8-bit analysis with sigma in units of 2**8 input steps."""
    xi = xq.astype(np.float64) - zi
    ax = tuple(range(xi.ndim - k, xi.ndim))
    mu = xi.mean(axis=ax, keepdims=True)
    var_i = ((xi - mu) ** 2).mean(axis=ax, keepdims=True)
    sigma = np.sqrt(var_i + eps / si ** 2) * 2.0 ** (f_bits - 8)   # in input steps (8-bit units)
    var_i = var_i * 4.0 ** (f_bits - 8)
    n = np.where(sigma > 0, (xi - mu) / np.where(sigma > 0, sigma, 1), 0.0)
    a_low = np.sqrt(np.maximum(2.0 ** 32 * sigma ** 2 - 2.0 ** 16 * 1.75, 2.0 ** 16))
    ez = (np.abs(n) * (1.75 / np.maximum(sigma, 1e-300) + 1) + 128) / (a_low - 1) + 2.0 ** -17
    ez = np.where(var_i == 0, 0.0, ez)                       # all equal: c = 0 exactly, z = 0
    g = np.abs(gamma.astype(np.float64)) / so
    return 0.5 + g * ez + (np.abs(n) + ez) * 2.0 ** -(gamma_shift + 1) + 2.0 ** -(Z + gamma_shift + 1) + 1e-9


def check_accuracy(xq, si, zi, gamma, beta, eps, k, so=None, zo=None, act="none", c_check=False):
    """Build the int8 (int16 for an int16 xq: zero points 0, numerics 9.4) layernorm with int8_params, run the
    oracle, compare with float64 LayerNorm of the dequantized input (clamped like the integer output).
    Returns (max error in output steps, per-element margin). ``c_check``: also C == oracle (tests/test_c_ops.py)."""
    shape = xq.shape[1:]
    norm = shape[len(shape) - k:]
    fmt = "int16" if xq.dtype == np.int16 else "int8"
    xr = si * (xq.astype(np.float64) - zi)
    ref, _, _ = float_layernorm(xr, gamma.astype(np.float64), beta.astype(np.float64), eps, k)
    if so is None:  # calibrate the output scale on the float output, as the exporter would
        so, zo = int16_params(ref.min(), ref.max()) if fmt == "int16" else affine_params(ref.min(), ref.max())
    lo, hi = act_clamp_int16(None if act == "none" else act, so) if fmt == "int16" else act_clamp_int8(act, so, zo)
    arrays, attrs = ln.int8_params(gamma, beta, eps, si, so, norm, f_bits=ln.MEAN_BITS[fmt])
    b = GraphBuilder()
    x = b.input("x", shape, fmt, si, zi)
    y = b.add("layernorm", "ln", [x], dict(attrs, act_min=lo, act_max=hi), arrays, scale=so, zero_point=zo)
    m = b.build([y])
    trace = check_model(m, xq)
    if c_check:
        from tests.c_build import run_c, assert_same
        assert_same(run_c(m, xq), trace)
    out = trace[y]
    ref_c = np.clip(ref, so * (lo - zo), so * (hi - zo))
    err = np.abs(so * (out.astype(np.float64) - zo) - ref_c) / so
    bound = error_bound_lsb(xq, zi, si, so, gamma, eps, k, attrs["gamma_shift"], ln.MEAN_BITS[fmt])
    bound = np.broadcast_to(bound, err.shape)
    worst = np.unravel_index(np.argmax(err - bound), err.shape)
    assert np.all(err <= bound), (float(err[worst]), float(bound[worst]), worst)
    return float(err.max()), float((bound - 0.5).max())


@st.composite
def realistic_cases(draw):
    """int8 inputs with a realistic spread (std 2 to 40 steps), random affine, calibrated output scale."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    k = draw(st.sampled_from([1, 2]))
    shape = (draw(st.integers(1, 16)), draw(st.integers(16, 200)))
    N = draw(st.integers(1, 3))
    si, zi = draw(int8_qparams())
    std = draw(st.floats(2.0, 40.0))
    centre = draw(st.integers(-100, 100))
    xq = np.clip(np.round(rng.standard_normal((N,) + shape) * std) + centre, -128, 127).astype(np.int8)
    norm = shape[2 - k:]
    gamma = (1.0 + 0.3 * rng.standard_normal(norm)).astype(np.float32)
    beta = (0.5 * rng.standard_normal(norm)).astype(np.float32)
    act = draw(st.sampled_from(["none", "relu"]))
    return xq, si, zi, gamma, beta, k, act


@given(realistic_cases())
def test_layernorm_int8_accuracy_realistic(case):
    xq, si, zi, gamma, beta, k, act = case
    ax = tuple(range(xq.ndim - k, xq.ndim))
    assume(xq.astype(np.float64).std(axis=ax).min() >= 1.0)   # realistic: no group with < 1 step of spread
    worst, margin = check_accuracy(xq, si, zi, gamma, beta, 1e-5, k, act=act)
    assert margin < 0.3 and worst <= 0.8, (worst, margin)


def test_layernorm_int8_accuracy_all_equal():
    """Variance 0: every output is round(beta / s_out) + zp_out, within half a step of the float result."""
    rng = np.random.default_rng(3)
    xq = np.full((2, 16, 50), 37, np.int8)
    xq[1] = -128
    gamma = rng.standard_normal((16, 50)).astype(np.float32)
    beta = rng.standard_normal((16, 50)).astype(np.float32)
    for eps in (1e-5, 0.0):
        worst, _ = check_accuracy(xq, 0.05, -3, gamma, beta, eps, 2, so=0.02, zo=5)
        assert worst <= 0.5 + 1e-6


@pytest.mark.parametrize("d", [1, 100, -255])
def test_layernorm_int8_accuracy_single_outlier_16000(d):
    """kws_raw's first LayerNorm ([16, 1000]): all equal but one element; the output scale is calibrated on
    the float output, so the outlier (normalized ~ 126) and the rest (~ -0.008) both land inside it."""
    xq = np.full((1, 16, 1000), 127 if d < 0 else -100, np.int8)
    xq[0, 7, 333] = int(xq[0, 0, 0]) + d
    rng = np.random.default_rng(4)
    gamma = (1 + 0.2 * rng.standard_normal((16, 1000))).astype(np.float32)
    beta = (0.1 * rng.standard_normal((16, 1000))).astype(np.float32)
    worst, _ = check_accuracy(xq, 0.03, 10, gamma, beta, 1e-5, 2)
    assert worst <= 0.6


@pytest.mark.parametrize("seed", [0, 1])
def test_layernorm_int8_accuracy_16000(seed):
    """[16, 1000] with ReLU-like inputs (a conv output: half at the zero point) and a fused ReLU."""
    rng = np.random.default_rng(seed)
    xq = np.clip(np.round(np.abs(rng.standard_normal((2, 16, 1000))) * 30) - 128, -128, 127).astype(np.int8)
    gamma = (1 + 0.3 * rng.standard_normal((16, 1000))).astype(np.float32)
    beta = (0.2 * rng.standard_normal((16, 1000))).astype(np.float32)
    for act in ("none", "relu"):
        worst, margin = check_accuracy(xq, 0.04, -128, gamma, beta, 1e-5, 2, act=act)
        assert worst <= 0.6 and margin < 0.1


@pytest.mark.parametrize("offset", [0.0, 5.0])
def test_layernorm_f32_16000(offset):
    """kws_raw's [16, 1000] in float32: the float32 sequential sums stay within the float tolerance of
    float64 (the mean's rounding error grows with |mean| / std * sqrt(D), see docs)."""
    rng = np.random.default_rng(7)
    b = GraphBuilder()
    x = b.input("x", (16, 1000), "float32")
    g = (1 + 0.3 * rng.standard_normal((16, 1000))).astype(np.float32)
    be = (0.2 * rng.standard_normal((16, 1000))).astype(np.float32)
    y = b.add("layernorm", "ln", [x], dict(axes=2, eps=1e-5, act_min_f=0.0), dict(gamma=g, beta=be))
    check_model(b.build([y]), (rng.standard_normal((2, 16, 1000)) * 3 + offset).astype(np.float32))


@st.composite
def realistic_int16_cases(draw):
    """int16 inputs (zero point 0) with a spread of 20 to 8000 steps, sometimes a constant offset or a group
    at the extremes; random affine; calibrated symmetric output scale (numerics 9.4, layernorm)."""
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    k = draw(st.sampled_from([1, 2]))
    shape = (draw(st.integers(1, 8)), draw(st.integers(8, 120)))
    N = draw(st.integers(1, 3))
    si = float(np.float32(draw(st.floats(1e-5, 1e-2))))
    std = draw(st.floats(20.0, 8000.0))
    centre = draw(st.integers(-20000, 20000))
    xq = np.clip(np.round(rng.standard_normal((N,) + shape) * std) + centre, -32768, 32767).astype(np.int16)
    if draw(st.booleans()):
        xq[0, 0, : shape[1] // 2] = draw(st.sampled_from([-32768, 32767]))
    norm = shape[2 - k:]
    gamma = (1.0 + 0.3 * rng.standard_normal(norm)).astype(np.float32)
    beta = (0.5 * rng.standard_normal(norm)).astype(np.float32)
    return xq, si, gamma, beta, k, draw(st.sampled_from(["none", "relu"]))


@given(realistic_int16_cases())
def test_layernorm_int16_oracle_equals_torch_and_accuracy(case):
    """int16 LayerNorm (F = 6): oracle == torch exactly (check_accuracy runs check_model), every output within the
    spec's bound of float64 LayerNorm (checked per element by check_accuracy), and for groups spread over at least
    500 input steps (a calibrated int16 tensor) within 1 output step (the mean's 2**-7-step resolution costs about
    |g| / (2**7 sigma) steps, |g| up to ~3e4 here)."""
    xq, si, gamma, beta, k, act = case
    worst, _ = check_accuracy(xq, si, 0, gamma, beta, 1e-5, k, act=act)
    ax = tuple(range(xq.ndim - k, xq.ndim))
    if xq.astype(np.float64).std(axis=ax).min() >= 500:
        assert worst <= 1.0, worst


def test_layernorm_int16_accuracy_16000():
    """kws_raw's [16, 1000] in int16 with ReLU-like inputs."""
    rng = np.random.default_rng(5)
    xq = np.clip(np.round(np.abs(rng.standard_normal((2, 16, 1000))) * 6000), 0, 32767).astype(np.int16)
    gamma = (1 + 0.3 * rng.standard_normal((16, 1000))).astype(np.float32)
    beta = (0.2 * rng.standard_normal((16, 1000))).astype(np.float32)
    worst, margin = check_accuracy(xq, 1e-4, 0, gamma, beta, 1e-5, 2, act="relu")
    assert worst <= 0.6 and margin < 0.1, (worst, margin)
