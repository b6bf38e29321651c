"""add: oracle == torch reference on independent inputs, TFLite multipliers from drawn scales,
hand-computed values in both rounding modes, and validation.

The interpreter feeds one model input, so the property test builds a two-input single-node model (which
validates) and runs the node's kernel and torch reference directly on two independent arrays; a second
property test runs add inside a one-input graph through check_model.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from kwsnum.builder import GraphBuilder
from kwsnum.errors import ModelError
from kwsnum.fixedpoint import ROUNDING_MODES
from kwsnum.ops import get as get_op
from kwsnum.ops.add import add_params
from kwsnum.torchref import to_torch
from tests.strategies import ROUNDINGS, FORMATS, int8_qparams, act_clamp, int8_array, float_array, check_model
from tests.ops.int16_cases import int16_scale, int16_array, int16_clamp, multipliers16, bias64


def run_node(model, x1, x2):
    """(oracle, torch) outputs of the model's single add node on two input arrays."""
    node = model.nodes[0]
    op = get_op(node.op)
    oracle = op.run(op.prepare(node, model, ROUNDING_MODES[model.rounding]), [x1, x2])[0]
    with torch.no_grad():
        ref = op.torch_ref(node, model, [to_torch(x1), to_torch(x2)])[0].numpy()
    return oracle, ref.astype(oracle.dtype)


@st.composite
def shape_pairs(draw, max_side=6, max_rank=3):
    """Per-sample shapes (a, b) that broadcast as numpy / TFLite do (aligned from the last axis): half the time
    equal (the same-shape fast path), otherwise each a suffix of the output shape with some axes set to 1 (so
    ranks may differ, and either side, or both, may broadcast)."""
    out = tuple(draw(st.lists(st.integers(1, max_side), min_size=1, max_size=max_rank)))
    if draw(st.booleans()):
        return out, out

    def one():
        r = draw(st.integers(1, len(out)))
        return tuple(d if draw(st.booleans()) else 1 for d in out[len(out) - r:])
    return one(), one()


def bshape(sa, sb):
    """The numpy broadcast shape of two per-sample shapes (the test's own rule, via numpy)."""
    return np.broadcast_shapes(tuple(sa), tuple(sb))


def int8_add_attrs(draw, s1, s2, so, zo, clamp=True):
    # TFLite's 20, and the ends of the allowed range (with clamp=False, the power-of-two scale ratios of the
    # ties test: left_shift 0 also puts the input stage on ties)
    ls = draw(st.sampled_from([20, 20, 20, 0, 8, 22] if clamp else [20, 0]))
    lo, hi = draw(act_clamp(zo)) if clamp else (-128, 127)
    return dict(add_params(s1, s2, so, left_shift=ls), act_min=lo, act_max=hi)


@st.composite
def add_models(draw, relation=None, fmt=None):
    fmt = fmt or ("int8" if relation else draw(FORMATS))
    sa, sb = draw(shape_pairs())
    N = draw(st.integers(1, 3))
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    if fmt == "int8":
        s1, z1 = draw(int8_qparams())
        s2, z2 = draw(int8_qparams())
        so, zo = draw(int8_qparams())
        same = relation or draw(st.sampled_from(["none", "inputs", "all", "pow2"]))
        if same in ("inputs", "all"):
            s2 = s1
        if same == "all":
            so = s1
        if same == "pow2":  # power-of-two scale ratios: exact ties (where the rounding modes differ), few clamps
            s2 = s1 * 2.0 ** draw(st.integers(-3, 3))
            so = max(s1, s2) * 2.0 ** draw(st.integers(1, 2))
        a = b.input("a", sa, "int8", s1, z1)
        c = b.input("c", sb, "int8", s2, z2)
        y = b.add("add", "add", [a, c], int8_add_attrs(draw, s1, s2, so, zo, clamp=same != "pow2"),
                  scale=so, zero_point=zo)
        if same == "pow2":
            rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
            data = tuple(rng.integers(-128, 128, size=(N,) + sh).astype(np.int8) for sh in (sa, sb))
        else:
            data = int8_array(draw, (N,) + sa), int8_array(draw, (N,) + sb)
    elif fmt == "int16":   # TFLM's general int16 ADD: left_shift 15, zero points 0 (docs/numerics.md 9.4)
        s1, s2, so = int16_scale(draw), int16_scale(draw), int16_scale(draw)
        rel = draw(st.sampled_from(["none", "inputs", "pow2"]))
        if rel == "inputs":
            s2 = s1
        if rel == "pow2":   # exact ties, where the rounding modes differ
            s2 = s1 * 2.0 ** draw(st.integers(-3, 3))
            so = max(s1, s2) * 2.0 ** draw(st.integers(0, 2))
        a = b.input("a", sa, "int16", s1, 0)
        c = b.input("c", sb, "int16", s2, 0)
        lo, hi = int16_clamp(draw)
        attrs = dict(add_params(s1, s2, so, left_shift=draw(st.sampled_from([15, 15, 0, 7]))), act_min=lo,
                     act_max=hi)
        y = b.add("add", "add", [a, c], attrs, scale=so, zero_point=0)
        data = int16_array(draw, (N,) + sa), int16_array(draw, (N,) + sb)
    else:
        a = b.input("a", sa, "float32")
        c = b.input("c", sb, "float32")
        act = draw(st.sampled_from([(-np.inf, np.inf), (0.0, np.inf), (0.0, 6.0)]))
        y = b.add("add", "add", [a, c], dict(act_min_f=act[0], act_max_f=act[1]))
        data = float_array(draw, (N,) + sa, scale=3.0), float_array(draw, (N,) + sb, scale=3.0)
    return b.build([y]), data


@given(add_models())
def test_add_oracle_equals_torch(case):
    _check_add(case)


@given(add_models(relation="pow2"))
def test_add_ties_oracle_equals_torch(case):
    """Power-of-two scale ratios put many sums exactly on rounding ties, where double and single
    rounding differ (negative ties): the rounding of every stage is checked, not only its bulk."""
    _check_add(case)


@given(add_models(fmt="int16"))
def test_add_int16_oracle_equals_torch(case):
    """int16 (TFLM's general ADD, left_shift 15): torch == oracle, and within one output step of the real sum."""
    _check_add(case)
    model, (x1, x2) = case
    a = model.nodes[0].attrs
    if a["left_shift"] == 15:
        oracle, _ = run_node(model, x1, x2)
        x1, x2 = _numpy_broadcast(x1, x2)
        s1, s2, so = model.tensors["a"].scale, model.tensors["c"].scale, model.output.scale
        real = np.clip((s1 * x1.astype(np.float64) + s2 * x2.astype(np.float64)) / so, a["act_min"], a["act_max"])
        assert np.max(np.abs(oracle - real), initial=0) <= 1.0


def _numpy_broadcast(x1, x2):
    """Both batched inputs broadcast by numpy to the output (per-sample shapes aligned from the last axis)."""
    r = max(x1.ndim, x2.ndim)
    x1, x2 = (x.reshape((x.shape[0],) + (1,) * (r - x.ndim) + x.shape[1:]) for x in (x1, x2))
    return np.broadcast_arrays(x1, x2)


def _check_add(case):
    model, (x1, x2) = case
    oracle, ref = run_node(model, x1, x2)
    out = bshape(model.tensors["a"].shape, model.tensors["c"].shape)
    assert model.output.shape == out
    assert oracle.shape == (x1.shape[0],) + out and oracle.dtype == x1.dtype
    assert np.array_equal(oracle, ref), (oracle, ref)  # float32: one IEEE addition, exact too
    x1, x2 = _numpy_broadcast(x1, x2)
    if oracle.dtype.kind == "f":  # independent of both: numpy's own broadcast sum and clamp
        a = model.nodes[0].attrs
        want = np.clip(x1 + x2, np.float32(a["act_min_f"]), np.float32(a["act_max_f"]))
        assert np.array_equal(oracle, want)
    if oracle.dtype == np.int8:
        # and close to the real-valued sum (within 1 step plus the double rounding of the inputs)
        s1, z1 = model.tensors["a"].scale, model.tensors["a"].zero_point
        s2, z2 = model.tensors["c"].scale, model.tensors["c"].zero_point
        so, zo = model.output.scale, model.output.zero_point
        a = model.nodes[0].attrs
        if a["left_shift"] == 20:
            real = (s1 * (x1.astype(np.float64) - z1) + s2 * (x2.astype(np.float64) - z2)) / so + zo
            real = np.clip(real, a["act_min"], a["act_max"])
            assert np.max(np.abs(oracle - real), initial=0) <= 1.01


@st.composite
def add_graphs(draw):
    """x (int8) -> dequantize -> quantize (other scale) -> add(x, that): add inside a runnable graph."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=1, max_size=2)))
    b = GraphBuilder(rounding=draw(ROUNDINGS))
    s1, z1 = draw(int8_qparams())
    s2, z2 = draw(int8_qparams())
    so, zo = draw(int8_qparams())
    x = b.input("x", shape, "int8", s1, z1)
    d = b.add("dequantize", "deq", [x], format="float32")
    q = b.add("quantize", "q", [d], format="int8", scale=s2, zero_point=z2)
    y = b.add("add", "add", [x, q], int8_add_attrs(draw, s1, s2, so, zo), scale=so, zero_point=zo)
    return b.build([y]), int8_array(draw, (draw(st.integers(1, 3)),) + shape)


@given(add_graphs())
def test_add_in_graph(case):
    check_model(*case)


def _known_model(rounding, s1, z1, s2, z2, so, zo, n):
    b = GraphBuilder(rounding=rounding)
    a = b.input("a", (n,), "int8", s1, z1)
    c = b.input("c", (n,), "int8", s2, z2)
    y = b.add("add", "add", [a, c], dict(add_params(s1, s2, so), act_min=-128, act_max=127),
              scale=so, zero_point=zo)
    return b.build([y])


def test_add_params_tflite():
    """twice_max = 2; real_in = 0.5, 0.25; real_out = 2 / (2**20 * 1) = 2**-19."""
    p = add_params(1.0, 0.5, 1.0)
    assert p == dict(in1_multiplier=1 << 30, in1_shift=0, in2_multiplier=1 << 30, in2_shift=-1,
                     out_multiplier=1 << 30, out_shift=-18, left_shift=20)
    p = add_params(0.1, 0.1, 0.1)  # equal scales: real_in = 0.5, real_out = 2**-19 whatever the scale
    assert (p["in1_multiplier"], p["in1_shift"], p["in2_multiplier"], p["in2_shift"]) == (1 << 30, 0, 1 << 30, 0)
    assert (p["out_multiplier"], p["out_shift"]) == (1 << 30, -18)


@pytest.mark.parametrize("rounding", ["double", "single"])
def test_add_equal_scales_is_saturating_sum(rounding):
    m = _known_model(rounding, 1.0, 0, 1.0, 0, 1.0, 0, 5)
    a = np.array([[1, -1, 100, -100, 127]], np.int8)
    c = np.array([[2, -3, 100, -100, -128]], np.int8)
    oracle, ref = run_node(m, a, c)
    assert oracle.tolist() == ref.tolist() == [[3, -4, 127, -128, -1]]


@pytest.mark.parametrize("rounding, expected", [("double", [4, 2, 4, 8, -2, 127]),
                                                ("single", [4, 3, 4, 8, -1, 127])])
def test_add_known_values(rounding, expected):
    """s1 = 1, s2 = 0.5, s_out = 1, zero points 10, -5, 3: y = (q1 - 10) + (q2 + 5) / 2 + 3.
    x1' = a * 2**20 -> a * 2**19; x2' = b * 2**20 -> b * 2**18; raw = 2**18 (2a + b); the output
    multiplier 2**-19 gives (2a + b) / 2. With a + b/2 = [0.5, -0.5, 0.5, 4.5, -4.5, 150]: double rounding
    ends in a RoundingDivideByPOT (ties away from zero), single rounding rounds ties up."""
    m = _known_model(rounding, 1.0, 10, 0.5, -5, 1.0, 3, 6)
    a = np.array([[0, 0, 1, 3, -3, 100]], np.int8) + np.int8(10)
    c = np.array([[1, -1, -1, 3, -3, 100]], np.int8) - np.int8(5)
    oracle, ref = run_node(m, a, c)
    assert oracle.tolist() == ref.tolist() == [expected]


def test_add_float_known_values():
    b = GraphBuilder()
    a = b.input("a", (3,), "float32")
    c = b.input("c", (3,), "float32")
    y = b.add("add", "add", [a, c], dict(act_min_f=0.0))
    m = b.build([y])
    oracle, ref = run_node(m, np.array([[1.5, -2.0, 0.1]], np.float32), np.array([[0.25, 1.0, 0.2]], np.float32))
    assert oracle.tolist() == ref.tolist() == [[1.75, 0.0, float(np.float32(0.1) + np.float32(0.2))]]


def test_add_rejects_bad_models():
    b = GraphBuilder()
    a = b.input("a", (3,), "int8", 0.1, 0)
    c = b.input("c", (4,), "int8", 0.1, 0)
    y = b.add("add", "add", [a, c], dict(add_params(0.1, 0.1, 0.1), act_min=-128, act_max=127), scale=0.1, zero_point=0)
    with pytest.raises(ModelError, match=r"\(add\): shapes \(3,\) and \(4,\) do not broadcast"):
        b.build([y])
    b = GraphBuilder()
    a = b.input("a", (2, 3), "int8", 0.1, 0)
    c = b.input("c", (3, 1), "int8", 0.1, 0)
    y = b.add("add", "add", [a, c], dict(add_params(0.1, 0.1, 0.1), act_min=-128, act_max=127), scale=0.1, zero_point=0)
    with pytest.raises(ModelError, match="do not broadcast"):
        b.build([y])
    b = GraphBuilder()
    a = b.input("a", (2, 1, 3, 4), "int8", 0.1, 0)
    c = b.input("c", (5, 1, 1), "int8", 0.1, 0)
    y = b.add("add", "add", [a, c], dict(add_params(0.1, 0.1, 0.1), act_min=-128, act_max=127), scale=0.1, zero_point=0)
    with pytest.raises(ModelError, match="rank 4"):
        b.build([y])
    b = GraphBuilder()
    a = b.input("a", (3,), "int8", 0.1, 0)
    c = b.input("c", (3,), "int8", 0.1, 0)
    attrs = dict(add_params(0.1, 0.1, 0.1), act_min=-128, act_max=127)
    attrs["in1_shift"] = 1
    y = b.add("add", "add", [a, c], attrs, scale=0.1, zero_point=0)
    with pytest.raises(ModelError, match="in1_shift"):
        b.build([y])
    b = GraphBuilder()
    a = b.input("a", (3,), "int8", 0.1, 0)
    c = b.input("c", (3,), "float32")
    y = b.add("add", "add", [a, c], dict(add_params(0.1, 0.1, 0.1), act_min=-128, act_max=127), scale=0.1, zero_point=0)
    with pytest.raises(ModelError, match="same format"):
        b.build([y])


@settings(max_examples=40)
@given(st.sampled_from(["int8", "int16"]), st.data())
def test_add_constant_operand_three_way(fmt, data):
    """A constant second operand (datasets b, b_zero_point; docs/numerics.md 4 "add"): oracle == torch == C, and
    equal to the two-input add fed the same values as its second input."""
    from tests.c_build import assert_same, run_c
    model2, (x1, x2) = data.draw(add_models(fmt=fmt))
    node2 = model2.nodes[0]
    if len(model2.tensors["c"].shape) > 3:
        return
    bq = np.ascontiguousarray(x2[0])
    c = model2.tensors["c"]
    g = GraphBuilder(rounding=model2.rounding)
    a = g.input("a", model2.tensors["a"].shape, fmt, model2.tensors["a"].scale, model2.tensors["a"].zero_point)
    y = g.add("add", "add", [a], dict(node2.attrs), dict(b=bq, b_zero_point=np.array([c.zero_point], np.int32)),
              scale=model2.output.scale, zero_point=model2.output.zero_point)
    model = g.build([y])
    ref = check_model(model, x1)
    assert_same(run_c(model, x1), ref)
    two, _ = run_node(model2, x1, np.broadcast_to(bq, x2.shape).copy())
    assert np.array_equal(ref["add"], two)


def test_add_and_mul_refuse_bad_constants():
    for op, attrs in [("add", dict(add_params(0.1, 0.1, 0.2), act_min=-128, act_max=127)),
                      ("mul", dict(multiplier=1 << 30, shift=0, act_min=-128, act_max=127))]:
        for arrays, what in [(dict(b=np.ones(3, np.int8)), "both datasets"),
                             (dict(b=np.ones(3, np.int8), b_zero_point=np.array([200], np.int32)), "outside"),
                             (dict(b=np.ones((3, 2), np.int8), b_zero_point=np.array([0], np.int32)), "broadcast"),
                             (dict(b=np.ones(3, np.int16), b_zero_point=np.array([0], np.int32)), "dtype")]:
            g = GraphBuilder()
            x = g.input("x", (3,), "int8", 0.1, 0)
            with pytest.raises(ModelError, match=what):
                g.build([g.add(op, op, [x], dict(attrs), arrays, scale=0.2, zero_point=0)])
        g = GraphBuilder()
        x, x2 = g.input("x", (3,), "int8", 0.1, 0), g.input("x2", (3,), "int8", 0.1, 0)
        with pytest.raises(ModelError, match="takes 1 input"):
            g.build([g.add(op, op, [x, x2], dict(attrs), dict(b=np.ones(3, np.int8),
                                                               b_zero_point=np.array([0], np.int32)),
                           scale=0.2, zero_point=0)])
    g = GraphBuilder()
    x = g.input("x", (3,), "float32")
    with pytest.raises(ModelError, match="constant operand is for int8 and int16"):
        g.build([g.add("add", "add", [x], {}, dict(b=np.ones(3, np.int8), b_zero_point=np.array([0], np.int32)))])
