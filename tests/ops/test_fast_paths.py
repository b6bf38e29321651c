"""The exact fast paths of integer conv / linear (kwsnum/ops/gemm.py, docs/numerics.md 3.6) and the oracle's
batch slices on threads (kwsnum/parallel.py).

- every path (loops, gemm in float32 / float64, depthwise) gives the same result on the same inputs, and the one
  the plan chooses equals the torch reference;
- the float GEMM's bounds, from both sides: just below 2**24 the plan takes float32 and is exact on inputs that
  reach the bound; just above it takes float64 (and float32, forced there, is wrong on those inputs); likewise
  float64 at 2**53 for q32;
- splitting a batch into slices never changes a result.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from kwsnum import parallel
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
    for path, dtype in (("gemm", None), ("gemm", "float64"), ("depthwise", None), ("depthwise_float", None),
                        ("depthwise_float", "float64")):
        for epi in ("int", None):      # the integer epilogue, and the plan's (f64 where exact)
            plan = planned(model, path, dtype, epi)
            got = plan.run(x)
            assert got.dtype == want.dtype and np.array_equal(got, want), (path, dtype, epi, paths_of(plan))
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
