"""The exact fast paths of integer conv / linear (kwsnum/ops/gemm.py, docs/numerics.md 3.6) and the oracle's
batch slices on threads (kwsnum/parallel.py).

- every path (loops, gemm in float32 / float64, depthwise) gives the same result on the same inputs, and the one
  the plan chooses equals the torch reference;
- the float GEMM's bounds, from both sides: just below 2**24 the plan takes float32 and is exact on inputs that
  reach the bound; just above it takes float64 (and float32, forced there, is wrong on those inputs); likewise
  float64 at 2**53 for q32;
- splitting a batch into slices never changes a result;
- the vector (numpy) kernels of small jobs (kwsnum/backend.py, docs/numerics.md 3.7) equal numba's on every path,
  the float64 epilogue's included at its bound; the rule that picks them; and a warm ``kwsnum run`` of the bundled
  model never imports numba.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import os
import subprocess
import sys

from kwsnum import backend, fixedpoint, parallel
from kwsnum.builder import GraphBuilder
from kwsnum.interpreter import Plan
from kwsnum.ops import gemm
from tests.ops.test_conv import conv_models
from tests.strategies import check_model
from tests.test_qformat_ops import conv_case, linear_case


def planned(model, path=None, dtype=None, epilogue=None):
    """A fresh plan of ``model`` with every conv / linear forced on ``path`` (None: the plan's own choice) and
    ``epilogue`` ("int" / "f64"; None: the plan's own)."""
    if path is None and epilogue is None:
        return Plan(model)
    with gemm.forced(path, dtype, epilogue):
        return Plan(model)


def paths_of(plan):
    """[(path, dtype name)] of the plan's integer conv / linear steps."""
    out = []
    for op, node, prep, _ in plan.steps:
        p = prep[2]
        if isinstance(p, dict) and "path" in p and p["fmt"] != "float32":
            out.append((p["path"], None if p["dtype"] is None else np.dtype(p["dtype"]).name))
    return out


def all_paths_agree(model, x):
    """Run every applicable path; assert each was taken where it applies and all outputs are equal."""
    base = planned(model, "loops")
    assert {p for p, _ in paths_of(base)} == {"loops"}
    want = base.run(x)
    # epilogue "int": the integer one; None: the plan's (f64 where exact)
    for path, dtype, epi in (("gemm", None, "int"), ("gemm", None, None), ("gemm", "float64", None),
                             ("depthwise", None, None), ("depthwise_float", None, "int"),
                             ("depthwise_float", None, None), ("depthwise_float", "float64", None)):
        plan = planned(model, path, dtype, epi)
        for vector in (False, True):
            with backend.forced(vector):
                got = plan.run(x)
            assert got.dtype == want.dtype and np.array_equal(got, want), (path, dtype, epi, vector, paths_of(plan))
    return want


@pytest.mark.parametrize("fmt", ["int8", "int16"])
@pytest.mark.parametrize("groups", [1, 2, "depthwise"])
@given(data=st.data())
@settings(max_examples=25)
def test_conv_paths_agree(fmt, groups, data):
    model, x = data.draw(conv_models(None, fmt, groups))
    chosen = planned(model)
    one_channel = model.nodes[0].arrays["weight"].shape[1] == 1      # one input channel per group
    assert {p for p, _ in paths_of(chosen)} == ({"gemm"} if groups == 1 else {"depthwise_float"} if one_channel
                                                else {"loops"})
    np.testing.assert_array_equal(all_paths_agree(model, x), chosen.run(x))
    check_model(model, x)


@pytest.mark.parametrize("case", [conv_case, linear_case])
@given(data=st.data())
@settings(max_examples=25)
def test_q_paths_agree(case, data):
    model, x = data.draw(case())
    all_paths_agree(model, x)


# ------------------------------------------------------------------ the float32 bound (int8), from both sides
def edge_model(op, F, zp, signs, delta, rounding="double"):
    """One int8 linear (or conv1d over F channels, kernel 1, length 2) whose every output channel has F weights
    of magnitude 127 (signs ``signs``): bound = span * 127 * F. The bias cancels the sum of the input that reaches
    the bound (:func:`edge_input`) up to ``delta``, and the real multiplier is 1: an accumulator off by one shows."""
    span = max(127 - zp, zp + 128)
    O = signs.shape[0]
    w = (127 * signs).astype(np.int8)
    reach = -128 if 127 - zp < zp + 128 else 127             # the input q with |q - zp| = span
    bias = (-(reach - zp) * 127 * signs.astype(np.int64).sum(axis=1) + delta).astype(np.int32)
    arrays = dict(weight=w if op == "linear" else w[:, :, None], bias=bias,
                  multiplier=np.full(O, 1 << 30, np.int32), shift=np.full(O, 1, np.int32))
    b = GraphBuilder(rounding=rounding)
    shape = (F,) if op == "linear" else (F, 2)
    x = b.input("x", shape, "int8", 0.5, zp)
    y = b.add(op, "op", [x], dict(act_min=-128, act_max=127) if op == "linear" else
              dict(stride=(1,), act_min=-128, act_max=127), arrays, scale=0.5, zero_point=0)
    return b.build([y]), span, reach


def edge_input(model, reach, rng, n=3):
    """Sample 0 reaches the bound (every |q - zp| = span, signs as the weights of channel 0), the others are random."""
    shape = model.input.shape
    x = rng.integers(-128, 128, size=(n,) + tuple(shape)).astype(np.int8)
    x[0] = reach
    return x


@pytest.mark.parametrize("op", ["linear", "conv1d"])
@pytest.mark.parametrize("side", [0, 1])
def test_float32_bound_both_sides(op, side):
    """Below 2**24 the plan takes float32 and is exact at the bound; from 2**24 on it takes float64, and float32
    forced there gets an odd sum beyond 2**24 wrong (so the bound is what makes the path exact)."""
    zp = 127                                             # span 255 (q - zp = -255 at q = -128)
    F = (gemm.F32_EXACT - 1) // (255 * 127) + side        # 518: bound 16775430 < 2**24; 519: 16807815 > 2**24
    signs = np.ones((2, F), np.int64)
    signs[1, ::3] = -1
    model, span, reach = edge_model(op, F, zp, signs, delta=np.array([5, -7]))
    assert gemm.weighted_sum_bound(model.nodes[0].arrays["weight"], span) == span * 127 * F
    x = edge_input(model, reach, np.random.default_rng(F))
    plan = planned(model)
    assert paths_of(plan) == [("gemm", "float64" if side else "float32")]
    check_model(model, x)                                # the chosen path == the torch reference
    right = all_paths_agree(model, x)
    assert right.reshape(3, 2, -1)[0, :, 0].tolist() == [5, -7]
    forced32 = planned(model, "gemm", "float32").run(x)
    if side:     # 519 odd products of 32385: an odd sum beyond 2**24, which float32 cannot hold
        assert not np.array_equal(forced32, right)
    else:
        np.testing.assert_array_equal(forced32, right)


@st.composite
def near_bound_models(draw):
    """int8 linear with a bound drawn within a few weights of 2**24 on either side, weights mostly +-127, inputs
    mostly at the extremes; bias cancels the extreme sample's sum up to a few units (multiplier 1)."""
    zp = draw(st.integers(-128, 127))
    span = max(127 - zp, zp + 128)
    F = max(1, (gemm.F32_EXACT - 1) // (span * 127) + draw(st.integers(-2, 2)))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    O = draw(st.integers(1, 3))
    signs = rng.choice(np.array([-1, 1]), size=(O, F))
    model, span, reach = edge_model("linear", F, zp, signs, rng.integers(-60, 61, size=O),
                                    rounding=draw(st.sampled_from(["double", "single"])))
    x = edge_input(model, reach, rng, n=draw(st.integers(1, 3)))
    if len(x) > 1 and draw(st.booleans()):
        x[1] = np.where(signs[0] > 0, reach, 2 * zp - reach if -128 <= 2 * zp - reach <= 127 else reach)
    return model, x, span * 127 * F


@given(near_bound_models())
@settings(max_examples=30)
def test_near_float32_bound(case):
    model, x, bound = case
    plan = planned(model)
    assert paths_of(plan) == [("gemm", "float32" if bound < gemm.F32_EXACT else "float64")]
    check_model(model, x)
    all_paths_agree(model, x)


# ------------------------------------------------------------------ depthwise_float's float32 bound, from both sides
@pytest.mark.parametrize("side", [0, 1])
def test_depthwise_float32_bound_both_sides(side):
    """A depthwise conv1d (2 channels, kernel T = input length, one output) with weights of magnitude 127 and zp
    127 (span 255): bound 255 * 127 * T. T = 518 is below 2**24 (depthwise_float in float32, exact at the bound);
    T = 519 is above (float64), and float32 forced there gets the odd sum of 519 odd products wrong."""
    T = (gemm.F32_EXACT - 1) // (255 * 127) + side
    signs = np.ones((2, T), np.int64)
    signs[1, ::3] = -1
    w = (127 * signs).astype(np.int8)[:, None, :]
    bias = (255 * 127 * signs.sum(axis=1) + np.array([5, -7])).astype(np.int32)   # q = -128: x = -255 everywhere
    b = GraphBuilder()
    xin = b.input("x", (2, T), "int8", 0.5, 127)
    y = b.add("conv1d", "dw", [xin], dict(stride=(1,), groups=2, act_min=-128, act_max=127),
              dict(weight=w, bias=bias, multiplier=np.full(2, 1 << 30, np.int32), shift=np.full(2, 1, np.int32)),
              scale=0.5, zero_point=0)
    model = b.build([y])
    rng = np.random.default_rng(T)
    x = rng.integers(-128, 128, size=(3, 2, T)).astype(np.int8)
    x[0] = -128
    assert paths_of(planned(model)) == [("depthwise_float", "float64" if side else "float32")]
    check_model(model, x)
    right = all_paths_agree(model, x)
    assert right[0, :, 0].tolist() == [5, -7]
    forced32 = planned(model, "depthwise_float", "float32").run(x)
    assert np.array_equal(forced32, right) == (not side)


# ------------------------------------------------------------------ the float64 epilogue (3.6), from both sides
def int_epilogue_of(x, kind, mode, m, s, zp, lo, hi):
    y = np.empty(len(x), np.int64)
    gemm.epilogue_row(x, np.int64(0), np.int64(m), np.int64(s), zp, lo, hi, mode, kind, 0, 0, y)
    return y


def f64_epilogue_of(x, kind, mode, m, s, zp, lo, hi):
    """The float64 epilogue of accumulators x, by numba's kernel; also by its vector form, which must agree."""
    c = gemm.f64_epilogue_consts(kind, mode, np.array([m]), np.array([s]))
    y = np.empty(len(x), np.int64)
    double = kind == gemm.KIND_INT8 and mode == 0
    fixedpoint.requantize_f64_row(x.astype(np.float64), 0.0, c[0, 0], c[0, 1], c[0, 2], c[0, 3], float(zp), float(lo),
                          float(hi), double, y)
    v = np.empty((1, 1, len(x)), np.int64)
    gemm.epilogue_f64_v(x.astype(np.float64)[None, None], False, np.zeros(1, np.int64), c, zp, lo, hi, double, v)
    np.testing.assert_array_equal(v[0, 0], y)
    return y


def rounding_edges(X, m, k, rng, n=400):
    """Accumulators x in [-X, X] whose product x * m lies next to a rounding boundary (2q + 1) * 2**(k-1) of the
    requantization, and the extremes."""
    xs = [X, -X, X - 1, 1 - X, 0, 1, -1]
    if m:
        for _ in range(n):
            t = int(rng.integers(-X, X + 1)) * m
            q = t >> k
            edge = (2 * q + 1) << (k - 1)
            base = edge // m
            xs += [base + d for d in (-1, 0, 1, 2)]
    return np.array([v for v in xs if -X <= v <= X], np.int64)


@st.composite
def epilogue_cases(draw):
    """(kind, mode, M, shift, X, zp, lo, hi, side): a requantization and an accumulator bound X drawn so that the
    product bound of :func:`gemm.f64_epilogue_ok` lies just below 2**53 (side 0) or at / above it (side 1)."""
    kind = draw(st.sampled_from([gemm.KIND_INT8, gemm.KIND_INT16]))
    mode = draw(st.sampled_from([0, 1]))
    m = draw(st.one_of(st.integers(1 << 30, (1 << 31) - 1), st.integers(0, (1 << 31) - 1)))
    if kind == gemm.KIND_INT16:
        s = draw(st.integers(-31, 7))
        eff = 0x7FFF if m >= 0x7FFF0000 else (m + 32768) >> 16
        k = 15 - s
    elif mode == 1:
        s = draw(st.integers(-31, 30))
        eff, k = m, 31 - s
    else:
        s = draw(st.integers(-31, 8))
        eff, k = m << max(s, 0), 31
    side = draw(st.sampled_from([0, 1]))
    if eff == 0:
        X = draw(st.integers(1, 1 << 31))
    else:
        lim = (gemm.F64_EXACT - 1) // eff          # the largest X with X * eff < 2**53
        X = max(1, lim - draw(st.integers(0, 3))) if side == 0 else lim + 1 + draw(st.integers(0, 3))
    X = min(X, (1 << 31) - 1 if kind == gemm.KIND_INT8 else (1 << 47) - 1)
    zp = draw(st.integers(-128, 127)) if kind == gemm.KIND_INT8 else 0
    lo, hi = (-128, 127) if kind == gemm.KIND_INT8 else (-32768, 32767)
    if draw(st.booleans()):
        lo, hi = sorted(draw(st.integers(lo, hi)) for _ in range(2))
    return kind, mode, m, s, X, zp, lo, hi, k, eff


@given(epilogue_cases(), st.integers(0, 2 ** 32 - 1))
@settings(max_examples=60)
def test_f64_epilogue_bound(case, seed):
    """Inside the bound (X * M' < 2**53) the float64 epilogue equals the integer one on the accumulators that
    reach X and on those next to every kind of rounding boundary; the plan-time check agrees with the bound."""
    kind, mode, m, s, X, zp, lo, hi, k, eff = case
    w = np.array([[1]], np.int8)
    ok = gemm.f64_epilogue_ok(kind, mode, w, np.array([X - 1]), np.array([m]), np.array([s]), 1)
    assert ok == (X * eff < gemm.F64_EXACT)
    if ok:
        x = rounding_edges(X, eff, k, np.random.default_rng(seed))
        if kind == gemm.KIND_INT8 and mode == 0 and s < 0:      # the second rounding's edges too
            x = np.concatenate([x, rounding_edges(X, m, 31 - s, np.random.default_rng(seed + 1))])
        np.testing.assert_array_equal(f64_epilogue_of(x, kind, mode, m, s, zp, lo, hi),
                                      int_epilogue_of(x, kind, mode, m, s, zp, -(1 << 31), (1 << 31) - 1)
                                      .clip(lo, hi))


@given(st.integers(1, 3), st.integers(1, 40), st.integers(1, 1200), st.booleans(), epilogue_cases(),
       st.integers(0, 2 ** 32 - 1))
@settings(max_examples=40)
def test_f64_epilogue_vector_blocks(N, O, P, onp, case, seed):
    """The vector float64 epilogue (docs/numerics.md 3.7) equals numba's on (N, O, P) accumulators of either
    layout, with per-channel constants and biases, in each of its blockings: several samples per block, one, or a
    sample's channels cut into several blocks (O * P above the block's 16 k elements)."""
    kind, mode, m, s, X, zp, lo, hi, k, eff = case
    rng = np.random.default_rng(seed)
    mult = np.array([m] + [int(v) for v in rng.integers(1 << 30, 1 << 31, O - 1)], np.int64)
    shift = np.array([s] + [int(v) for v in rng.integers(min(s, 0), max(s, 0) + 1, O - 1)], np.int64)
    consts = gemm.f64_epilogue_consts(kind, mode, mult, shift)
    bias = rng.integers(-(X // 4), X // 4 + 1, O).astype(np.int64)
    acc = rng.integers(-(X // 2), X // 2 + 1, (O, N, P) if onp else (N, O, P)).astype(np.float64)
    double = kind == gemm.KIND_INT8 and mode == 0
    want, got = np.empty((N, O, P), np.int64), np.full((N, O, P), 7777, np.int64)
    gemm.epilogue_f64(acc, onp, bias, consts, zp, lo, hi, double, want)
    gemm.epilogue_f64_v(acc, onp, bias, consts, zp, lo, hi, double, got)
    np.testing.assert_array_equal(got, want)


def test_f64_epilogue_wrong_beyond_bound():
    """Beyond 2**53 the product is rounded: with t = x * M = (2q + 1) * 2**30 - 1 (just below a rounding boundary of
    int8 single rounding, shift 0: k = 31) and t > 2**54, float64 holds t as the boundary itself, and the float64
    epilogue, forced there, rounds up where the integer one does not: the bound is what makes it exact."""
    m, s = (1 << 31) - 1, 0
    x0 = ((1 << 30) - 1) * pow(m, -1, 1 << 31) % (1 << 31)     # x0 * m = 2**30 - 1 (mod 2**31)
    assert x0 * m >= 1 << 54 and (x0 * m) % (1 << 31) == (1 << 30) - 1
    assert not gemm.f64_epilogue_ok(gemm.KIND_INT8, 1, np.array([[1]], np.int8), np.array([0]), np.array([m]),
                                    np.array([s]), x0)
    x = np.array([x0, -x0 - 1], np.int64)     # (-x0 - 1) * m = -(x0 * m) - m: another odd t near an edge
    got = f64_epilogue_of(x, gemm.KIND_INT8, 1, m, s, 0, -(1 << 31), (1 << 31) - 1)
    want = int_epilogue_of(x, gemm.KIND_INT8, 1, m, s, 0, -(1 << 31), (1 << 31) - 1)
    assert got[0] == want[0] + 1


# ------------------------------------------------------------------ the float64 bound (q32), from both sides
@pytest.mark.parametrize("side", [0, 1])
def test_float64_bound_q32(side):
    """q32 x int16 weights: bound 2**31 * 32767 * F. F = 128 is below 2**53 (float64 GEMM), F = 129 above (the
    loops); float64 forced at 129 gets the odd sum of 129 odd products wrong."""
    F = 128 + side
    w = np.full((1, F), 32767, np.int16)
    x = np.full((2, F), (1 << 31) - 1, np.int32)
    x[1, ::2] = -(1 << 31)
    total = ((1 << 31) - 1) * 32767 * F
    b = GraphBuilder()
    xin = b.input("x", (F,), "q32", frac_bits=0)
    y = b.add("linear", "fc", [xin], dict(act_min=-(1 << 31), act_max=(1 << 31) - 1, qround="RND", qoverflow="SAT"),
              dict(weight=w, bias=np.array([-total + 3], np.int64), weight_frac=np.zeros(1, np.int32)),
              format="q32", frac_bits=0)
    model = b.build([y])
    assert (gemm.weighted_sum_bound(w, 1 << 31) < gemm.F64_EXACT) == (not side)
    plan = planned(model)
    assert paths_of(plan) == [("loops", None) if side else ("gemm", "float64")]
    check_model(model, x)
    right = planned(model, "loops").run(x)
    assert right[0, 0] == 3
    forced64 = planned(model, "gemm", "float64").run(x)
    assert np.array_equal(forced64, right) == (not side)


# ------------------------------------------------------------------ batch slices on threads
def test_slices_rule():
    assert parallel.slices(1, 10 ** 9) == [(0, 1)]                     # batch 1: never split
    assert parallel.slices(3, 1000) == [(0, 3)]                        # too little work
    s = parallel.slices(256, parallel.SLICE_WORK // 4)
    assert s[0] == (0, 4) and s[-1] == (252, 256) and len(s) == 64
    assert parallel.slices(10, parallel.SLICE_WORK) == [(i, i + 1) for i in range(10)]
    assert parallel.slices(200, 1) == [(0, 64), (64, 128), (128, 192), (192, 200)]   # at most MAX_SLICE


def test_sliced_run_equals_whole(monkeypatch):
    """A batch run on slices by 2 threads gives the same outputs and trace as one run."""
    model, x = _small_model()
    whole = Plan(model).run(x, trace=True)
    monkeypatch.setattr(parallel, "SLICE_WORK", 1)
    monkeypatch.setattr(parallel, "thread_count", lambda: 2)
    plan = Plan(model)
    assert len(parallel.slices(len(x), plan.work)) == len(x)
    monkeypatch.setattr(parallel, "thread_count", lambda: 1)
    for k, v in plan.run(x, trace=True).items():                       # the same slices on one thread
        np.testing.assert_array_equal(v, whole[k])
    monkeypatch.setattr(parallel, "thread_count", lambda: 2)
    sliced = plan.run(x, trace=True)
    assert sliced.keys() == whole.keys()
    for k in whole:
        np.testing.assert_array_equal(sliced[k], whole[k])
    np.testing.assert_array_equal(plan.run(x), whole[model.outputs[0]])


def test_sliced_run_raises():
    calls = []

    def fn(a, b):
        calls.append(a)
        if a == 2:
            raise ValueError("slice 2")
        return a

    with pytest.raises(ValueError, match="slice 2"):
        parallel.run_slices(fn, 6, [(i, i + 1) for i in range(6)], threads=2)
    assert parallel.run_slices(lambda a, b: (a, b), 4, [(0, 2), (2, 4)], threads=2) == [(0, 2), (2, 4)]


def _small_model():
    b = GraphBuilder()
    rng = np.random.default_rng(0)
    x = b.input("x", (3, 6, 5), "int8", 0.1, 3)
    h = b.add("conv2d", "c1", [x], dict(stride=(1, 1), padding=(1, 1, 1, 1), act_min=3, act_max=127),
              dict(weight=rng.integers(-127, 128, (4, 3, 3, 3)).astype(np.int8), bias=np.arange(4, dtype=np.int32),
                   multiplier=np.full(4, 1 << 30, np.int32), shift=np.full(4, -4, np.int32)), scale=0.1, zero_point=3)
    h = b.add("conv2d", "c2", [h], dict(stride=(1, 1), padding=(1, 1, 1, 1), groups=4, act_min=-128, act_max=127),
              dict(weight=rng.integers(-127, 128, (4, 1, 3, 3)).astype(np.int8), bias=np.zeros(4, np.int32),
                   multiplier=np.full(4, 1 << 30, np.int32), shift=np.full(4, -3, np.int32)), scale=0.1, zero_point=0)
    model = b.build([h])
    return model, rng.integers(-128, 128, (7, 3, 6, 5)).astype(np.int8)


# ------------------------------------------------------------------ numba's kernels or the vector ones (3.7)
def test_vector_job_rule(monkeypatch):
    """Vector kernels while the process's vector work stays within VECTOR_WORK and numba is not loaded; a job that
    would pass the budget, and every job once numba is loaded, runs numba's; forced wins."""
    from kwsnum import _numba
    monkeypatch.setattr(backend, "_spent", 0)
    monkeypatch.setattr(_numba, "_loaded", False)
    budget = backend.VECTOR_WORK
    assert backend.vector_job(budget // 2)
    assert not backend.vector_job(budget // 2 + 1)          # would pass the budget: numba, and not counted
    assert backend.vector_job(budget // 2)                  # exactly the budget
    assert not backend.vector_job(1)
    monkeypatch.setattr(backend, "_spent", 0)
    monkeypatch.setattr(_numba, "_loaded", True)
    assert not backend.vector_job(1)
    with backend.forced(True):
        assert backend.vector_job(10 * budget)
        with backend.forced(False):
            assert not backend.vector_job(1)
    assert not backend.vector()
    with backend.use(True):
        assert backend.vector()
        with backend.use(False):
            assert not backend.vector()
        assert backend.vector()
    assert not backend.vector()


def test_vector_kernels_of_the_bundled_model(tmp_path):
    """The bundled model at batch 1, 12 and 40 (split into slices on threads): the vector kernels equal numba's."""
    from kwsnum import default, load
    model = load(default.model_path())
    rng = np.random.default_rng(7)
    for n in (1, 12, 40):
        x = (rng.standard_normal((n,) + tuple(model.input.shape)) * 4).astype(np.float32)
        with backend.forced(False):
            want = model.run(x, trace=True)
        with backend.forced(True):
            got = model.run(x, trace=True)
        for t in want:
            np.testing.assert_array_equal(got[t], want[t], err_msg=f"{t} at batch {n}")


def test_warm_run_of_the_bundled_model_never_imports_numba(tmp_path):
    """The start-up target of issue 16: ``kwsnum run`` on the bundled model (its 12 clips) computes on the vector
    kernels and never imports numba (nor scipy or torch); its output equals the one of a run on numba's kernels."""
    code = ("import sys, runpy\n"
            "sys.argv = ['kwsnum', 'run', '--json']\n"
            "try:\n"
            "    runpy.run_module('kwsnum', run_name='__main__')\n"
            "except SystemExit as e:\n"
            "    assert not e.code, e.code\n"
            "heavy = sorted(m for m in ('numba', 'llvmlite', 'scipy', 'torch') if m in sys.modules)\n"
            "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n")
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY=\n" in out.stderr, out.stderr[-500:]
    import json
    got = json.loads(out.stdout)["results"]
    from kwsnum import default, load
    from kwsnum.cli.main import _collect_inputs, _read_input
    model = load(default.model_path())
    files = _collect_inputs([p for p, _ in default.clips()])
    x = np.concatenate([_read_input(f, model) for f in files])
    with backend.forced(False):
        want = model.run(x)
    assert [r["output"] for r in got] == want.reshape(len(x), -1).tolist()
