"""Three-way property tests, op by op: torch reference == oracle (tests.strategies.check_model: == for int8,
the spec tolerance for float32) and oracle == C (c_runtime via ctypes, driven by each op's c_call): == for
int8, bit for bit for float32 (NaN == NaN, -0.0 == 0.0). The strategies are the ops' own
(tests/ops/test_<op>.py)."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

from tests.c_build import run_c, run_oracle, assert_same
from tests.strategies import check_model
from tests.ops.test_conv import conv_models
from tests.ops.test_linear import linear_models
from tests.ops.test_pool import pool_models
from tests.ops.test_global_avgpool import global_avgpool_models
from tests.ops.test_relu import relu_models
from tests.ops.test_reshape import reshape_models
from tests.ops.test_add import add_models, add_graphs, run_node
from tests.ops.test_quantize import quantize_models, assert_exact
from tests.ops.test_layernorm import layernorm_models, bulk_int8_cases, realistic_int16_cases, check_accuracy
from tests.ops.test_requantize import requantize_models


def three_way(model, x):
    """torch == oracle (check_model), then C == oracle on every tensor."""
    ref = check_model(model, x)
    assert_same(run_c(model, x), ref)


@pytest.mark.parametrize("groups", [1, 2, "depthwise"])
@pytest.mark.parametrize("fmt", ["int8", "float32", "int16"])
@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_c_conv(rank, fmt, groups, data):
    three_way(*data.draw(conv_models(rank, fmt, groups)))


@given(linear_models())
def test_c_linear(case):
    three_way(*case)


@given(linear_models("int16"))
def test_c_linear_int16(case):
    three_way(*case)


@pytest.mark.parametrize("kind", ["avg", "max"])
@given(data=st.data())
def test_c_pool(kind, data):
    three_way(*data.draw(pool_models(kind=kind)))


@pytest.mark.parametrize("kind", ["avg", "max"])
@given(data=st.data())
def test_c_pool_int16(kind, data):
    three_way(*data.draw(pool_models(kind=kind, fmt="int16")))


@given(global_avgpool_models())
def test_c_global_avgpool(case):
    three_way(*case)


@given(global_avgpool_models("int16"))
def test_c_global_avgpool_int16(case):
    three_way(*case)


@given(relu_models())
def test_c_relu(case):
    three_way(*case)


@given(relu_models("int16"))
def test_c_relu_int16(case):
    three_way(*case)


@given(requantize_models())
def test_c_requantize(case):
    three_way(*case)


@given(reshape_models())
def test_c_reshape(case):
    three_way(*case)


@given(add_models())
def test_c_add(case):
    model, (x1, x2) = case
    oracle, ref = run_node(model, x1, x2)            # torch == oracle, as tests/ops/test_add.py
    if oracle.dtype.kind == "f":
        tol = 1e-4 * max(1.0, float(np.max(np.abs(ref), initial=0.0)))
        assert np.all(np.abs(oracle.astype(np.float64) - ref) <= tol)
    else:
        assert np.array_equal(oracle, ref)
    assert_same(run_c(model, (x1, x2)), run_oracle(model, (x1, x2)))


@given(add_models(fmt="int16"))
def test_c_add_int16(case):
    model, (x1, x2) = case
    oracle, ref = run_node(model, x1, x2)
    assert np.array_equal(oracle, ref)
    assert_same(run_c(model, (x1, x2)), run_oracle(model, (x1, x2)))


@given(add_models(relation="pow2"))
def test_c_add_ties(case):
    model, (x1, x2) = case
    oracle, ref = run_node(model, x1, x2)
    assert np.array_equal(oracle, ref)
    assert_same(run_c(model, (x1, x2)), run_oracle(model, (x1, x2)))


@given(add_graphs())
def test_c_add_in_graph(case):
    three_way(*case)


@pytest.mark.parametrize("fmt", ["int8", "int16", "uint8"])
@given(data=st.data())
def test_c_quantize_dequantize(fmt, data):
    model, x = data.draw(quantize_models(fmt))
    ref = assert_exact(model, x)                     # torch == oracle exactly (both are exact IEEE)
    got = run_c(model, x)
    assert_same(got, ref)
    out = model.outputs[0]
    if got[out].dtype == np.float32:                 # dequantize: same bits, not only equal values
        assert np.array_equal(got[out].view(np.uint32), ref[out].view(np.uint32))


@pytest.mark.parametrize("fmt", ["int8", "float32"])
@given(data=st.data())
def test_c_layernorm(fmt, data):
    three_way(*data.draw(layernorm_models(fmt)))


@given(realistic_int16_cases())
def test_c_layernorm_int16(case):
    """int16 LayerNorm (numerics 9.4, F = 6): torch == oracle == C."""
    xq, si, gamma, beta, k, act = case
    check_accuracy(xq, si, 0, gamma, beta, 1e-5, k, act=act, c_check=True)


def test_c_layernorm_int8_bulk():
    """The layernorm test module's seeded bulk configurations (zoom / ties / full-range modes), oracle == C."""
    for model, x in bulk_int8_cases(100):
        assert_same(run_c(model, x), model.run(x, trace=True))


def test_c_float_specials():
    """NaN / inf / -0.0 / subnormals through every float32 kernel: C == oracle (NaN == NaN, -0.0 == 0.0)."""
    from kwsnum.builder import GraphBuilder
    rng = np.random.default_rng(5)
    specials = np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, -1e-40, 3e38, -3e38, 1.0], np.float32)
    b = GraphBuilder()
    x = b.input("x", (2, 4, 5), "float32")
    c = b.add("conv2d", "conv", [x], dict(stride=(1, 1), padding=(1, 1, 1, 1), act_min_f=-1.0, act_max_f=np.inf),
              dict(weight=rng.standard_normal((2, 2, 3, 3)).astype(np.float32), bias=np.zeros(2, np.float32)))
    p = b.add("maxpool2d", "mp", [c], dict(kernel=(2, 2), stride=(1, 1), padding=(1, 1, 1, 1)))
    a = b.add("avgpool2d", "ap", [p], dict(kernel=(3, 3), stride=(1, 1), padding=(1, 1, 1, 1),
                                           count_include_pad=True))
    r = b.add("relu", "r", [x], dict(act_min_f=0.0, act_max_f=6.0))
    s = b.add("add", "s", [x, r], dict())
    ln = b.add("layernorm", "ln", [s], dict(axes=1, eps=0.0), dict(gamma=np.ones(5, np.float32),
                                                                   beta=np.zeros(5, np.float32)))
    g = b.add("global_avgpool", "g", [a], dict())
    f = b.add("reshape", "f", [g], dict(shape=(2,)))
    y = b.add("linear", "fc", [f], dict(), dict(weight=np.ones((3, 2), np.float32), bias=np.zeros(3, np.float32)))
    q = b.add("quantize", "q", [ln], format="int8", scale=0.05, zero_point=3)
    m = b.build([y, q])
    data = rng.choice(specials, size=(4, 2, 4, 5)).astype(np.float32)
    data[0] = 1.5  # a constant group: eps = 0 gives 0/0 = NaN in layernorm
    data[1] = rng.standard_normal((2, 4, 5)).astype(np.float32)
    with np.errstate(all="ignore"):
        ref = m.run(data, trace=True)
    assert_same(run_c(m, data), ref)
